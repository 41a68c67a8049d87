/* Raw request bytes through the real server: folio__server_start() in this process, on a
 * temporary SQLite database, listening on a loopback port; each input is sent on a fresh
 * connection, whose write side is then shut. Invariants:
 * - the server answers and closes within a bound (never hangs on input it already has);
 * - every answer is well-framed HTTP/1.x: status line, header lines, then exactly
 *   Content-Length body bytes (none after a HEAD, whose next bytes start a status line);
 * - never more answers than header sections the input completed, but for one last error
 *   answer that closes the connection (libmicrohttpd refuses some lines on sight);
 * - a request folio refuses as malformed (400 invalid-request) and a 505 carry
 *   Connection: close and are the last answer on the connection;
 * - the server still answers /healthz on a new connection afterwards. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "server/server.h"

#define MAX_INPUT (64 * 1024)
#define MAX_ANSWER (4 * 1024 * 1024)
#define WAIT_MS 20000 /* past request_timeout (2 s): a hang, not a slow machine */

static struct folio_server srv;
static folio_db *db;
static char dir[] = "/tmp/folio-fuzz-http-XXXXXX";
static char db_path[sizeof dir + 16];
static uint16_t port;
static unsigned char *answer;

static void fail(const char *why, const uint8_t *in, size_t n)
{
    fprintf(stderr, "fuzz_http: %s\ninput (%zu bytes): ", why, n);
    fwrite(in, 1, n < 400 ? n : 400, stderr);
    fprintf(stderr, "\n");
    abort();
}

static void teardown(void)
{
    folio__server_stop(&srv);
    folio__db_close(db);
    unlink(db_path);
    char wal[sizeof db_path + 8];
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", db_path);
    unlink(wal);
    rmdir(dir);
    free(answer);
}

static void setup(void)
{
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(db_path, sizeof db_path, "%s/items.db", dir);
    sqlite3 *s;
    if (sqlite3_open(db_path, &s) != SQLITE_OK ||
        sqlite3_exec(s,
                     "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE "
                     "i < 50) INSERT INTO items SELECT i, 'item ' || i FROM n;",
                     NULL, NULL, NULL) != SQLITE_OK)
        abort();
    sqlite3_close(s);
    struct folio_error err = {0};
    if (folio__db_open(&db, db_path, &err) != FOLIO_OK)
        abort();
    struct folio_keyring kr;
    folio_keyring_init(&kr, false);
    static const unsigned char secret[32] = "fuzz_http fixed test secret ...";
    if (folio_keyring_add(&kr, 1, secret, sizeof secret) != FOLIO_OK)
        abort();
    struct folio_server_config cfg;
    folio__server_config_defaults(&cfg);
    snprintf(cfg.listen_host, sizeof cfg.listen_host, "127.0.0.1");
    cfg.listen_port = 0;
    cfg.listen_fd = -1;
    cfg.threads = 1;
    cfg.request_timeout = 2;
    cfg.max_connections_per_ip = 0;
    if (folio__server_start(&srv, &cfg, db, &kr, NULL, 0, &err) != FOLIO_OK) {
        fprintf(stderr, "fuzz_http: %s\n", err.detail);
        abort();
    }
    folio_keyring_clear(&kr);
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    if (getsockname(folio__server_listen_fd(&srv), (struct sockaddr *)&a, &alen) != 0)
        abort();
    port = ntohs(a.sin_port);
    answer = malloc(MAX_ANSWER + 1);
    if (answer == NULL)
        abort();
    atexit(teardown);
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        abort();
    return fd;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send `in`, shut the write side, read until the server closes: bytes read, or -1 on a
 * hang. */
static long exchange(const uint8_t *in, size_t n)
{
    int fd = dial();
    size_t sent = 0;
    while (sent < n) {
        ssize_t w = send(fd, in + sent, n - sent, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server may answer and close before reading everything */
        sent += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    size_t got = 0;
    int64_t deadline = now_ms() + WAIT_MS;
    for (;;) {
        int64_t left = deadline - now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            close(fd);
            return -1;
        }
        ssize_t r = recv(fd, answer + got, MAX_ANSWER - got, 0);
        if (r <= 0 || got + (size_t)r >= MAX_ANSWER)
            break;
        got += (size_t)r;
    }
    close(fd);
    return (long)got;
}

/* Whether a line end (LF or CRLF) starts at in[i]; its length in *len. */
static bool line_end_at(const uint8_t *in, size_t n, size_t i, size_t *len)
{
    *len = i < n && in[i] == '\n' ? 1 : i + 1 < n && in[i] == '\r' && in[i + 1] == '\n' ? 2 : 0;
    return *len > 0;
}

/* Header sections the input completes: an upper bound on the requests in it. A line that
 * after libmicrohttpd's parsing is empty ends one too: 0.9.75 takes a line of only ":" or
 * only a NUL byte for the blank line (docs/http.md, what folio cannot see). */
static size_t header_ends(const uint8_t *in, size_t n)
{
    size_t count = 0, len;
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '\n')
            continue;
        size_t j = i + 1;
        while (j < n && j < i + 3 && (in[j] == ':' || in[j] == '\0'))
            j++;
        if (line_end_at(in, n, j, &len))
            count++;
    }
    return count;
}

static const char *header_value(const char *head, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':')
            return p + 3 + nl + strspn(p + 3 + nl, " ");
    return NULL;
}

static void check_answers(const uint8_t *in, size_t n, size_t len)
{
    static const char refusal[] = "{\"type\":\"/problems/invalid-request\"";
    answer[len] = '\0';
    size_t pos = 0, answers = 0;
    unsigned last_status = 0;
    bool last_closing = false;
    char prev_head[2048] = "";
    while (pos < len) {
        char *head = (char *)answer + pos;
        char *end = strstr(head, "\r\n\r\n");
        if (end == NULL)
            fail("an answer's header section does not end", in, n);
        *end = '\0';
        unsigned status = 0;
        if (strncmp(head, "HTTP/1.", 7) != 0 || (head[7] != '0' && head[7] != '1') ||
            sscanf(head + 8, " %3u ", &status) != 1 || status < 100 || status > 599)
            fail("an answer does not start with an HTTP/1.x status line", in, n);
        const char *cl = header_value(head, "Content-Length");
        bool bodiless = status < 200 || status == 204 || status == 304;
        if (cl == NULL && !bodiless)
            fail("an answer has no Content-Length", in, n);
        /* A 304 may carry the Content-Length its 200 would have (RFC 9110 section 8.6),
         * but no body. */
        if (cl != NULL && bodiless && status != 304)
            fail("a 1xx or 204 answer has a Content-Length", in, n);
        if (cl != NULL && status == 304 && strtoul(cl, NULL, 10) == 0)
            fail("a 304 answer says Content-Length: 0", in, n);
        size_t body = cl && !bodiless ? strtoul(cl, NULL, 10) : 0;
        pos = (size_t)(end - (char *)answer) + 4;
        /* After a HEAD answer the next answer, or the end, follows at once. */
        if (strncmp((char *)answer + pos, "HTTP/1.", 7) == 0 ||
            (pos == len && memmem(in, n, "HEAD", 4) != NULL))
            body = 0;
        if (pos + body > len)
            fail("an answer's body is shorter than its Content-Length", in, n);
        pos += body;
        /* libmicrohttpd 0.9.75 repeats its own header block for a malformed Content-Length
         * (docs/http.md): one answer. */
        const char *date = strstr(head, "\r\n");
        bool repeat = date != NULL && strcmp(prev_head, date) == 0;
        snprintf(prev_head, sizeof prev_head, "%s", date ? date : "");
        if (repeat)
            continue;
        answers++;
        const char *conn = header_value(head, "Connection");
        bool closing = conn != NULL && strncasecmp(conn, "close", 5) == 0;
        const char *type = header_value(head, "Content-Type");
        bool refused = status == 505 ||
                       (status == 400 && type != NULL &&
                        strncmp(type, "application/problem+json", 24) == 0 &&
                        body >= sizeof refusal - 1 &&
                        memcmp(end + 4, refusal, sizeof refusal - 1) == 0);
        last_status = status;
        last_closing = closing;
        if (refused && (!closing || pos != len))
            fail("a refused request's answer does not close the connection", in, n);
    }
    /* An error answer may also come before a header section is complete (a line
     * without a colon, a request line too long): one, last, and closing. */
    size_t requests = header_ends(in, n);
    if (answers > requests && (answers > requests + 1 || last_status < 400 || !last_closing))
        fail("more answers than requests", in, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (port == 0)
        setup();
    if (size > MAX_INPUT)
        size = MAX_INPUT;
    long got = exchange(data, size);
    if (got < 0)
        fail("the server neither answered nor closed the connection", data, size);
    check_answers(data, size, (size_t)got);
    static const char probe[] = "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n";
    got = exchange((const uint8_t *)probe, sizeof probe - 1);
    if (got < 12 || memcmp(answer, "HTTP/1.1 200", 12) != 0)
        fail("the server stopped answering /healthz", data, size);
    return 0;
}
