/* examples/embed/embed.c - libfolio inside someone else's server.
 *
 * A tiny HTTP/1.0 server on plain sockets (one connection at a time) with its own SQLite
 * access, serving one table with keyset pages and signed cursors:
 *
 *     GET /items?per_page=N[&sort=-price][&after=CURSOR]
 *
 * libfolio validates the query, builds the keyset predicate and ORDER BY (values bound,
 * never pasted), signs and checks the cursors, writes the JSON and the Link header. The
 * HTTP parsing and the database calls here are this program's own, as they would be in
 * any host application. Errors are application/problem+json.
 *
 *     cc embed.c $(pkg-config --cflags --libs folio sqlite3) -o embed
 *     ./embed items.db [--port N] [--max-requests N]
 *
 * The database needs a table `items(id INTEGER PRIMARY KEY, name TEXT NOT NULL,
 * price REAL NOT NULL)`. It prints "listening on 127.0.0.1:PORT" once ready (port 0 picks
 * a free one) and exits after --max-requests requests (default: never). */
#define _POSIX_C_SOURCE 200809L
#include <folio/folio.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARAMS 16
#define CURSOR_TTL 3600

static const char *const col_names[] = {"id", "name", "price"};
static const char *const col_sql[] = {"\"id\"", "\"name\"", "\"price\""};
static const bool col_not_null[] = {true, true, true};
#define NCOLS 3

struct app {
    sqlite3 *db;
    struct folio_keyring keys;
};

struct response {
    int status;
    const char *type;
    struct folio_buf body;
    struct folio_buf link; /* Link header value, empty for none */
};

/* This program's HTTP mapping: libfolio says what kind of failure it was, not a status. */
static int http_status_of(const struct folio_error *e)
{
    switch (e->kind) {
    case FOLIO_KIND_INPUT: return e->status == FOLIO_ENOTFOUND ? 404 : 400;
    case FOLIO_KIND_ACCESS: return 403;
    case FOLIO_KIND_STATE: return 409;
    case FOLIO_KIND_TRANSIENT: return 503;
    default: return 500;
    }
}

static void problem(struct response *r, const struct folio_error *e)
{
    int status = http_status_of(e);
    struct folio_json j;
    folio_buf_reset(&r->body);
    folio_json_init(&j, &r->body);
    folio_json_object_begin(&j);
    folio_json_key(&j, "title");
    folio_json_string(&j, folio_strerror(e->status));
    folio_json_key(&j, "status");
    folio_json_int(&j, status);
    folio_json_key(&j, "detail");
    folio_json_string(&j, e->detail);
    folio_json_object_end(&j);
    r->status = folio_json_status(&j) == FOLIO_OK ? status : 500;
    r->type = "application/problem+json";
    folio_buf_reset(&r->link);
}

static void bind_value(sqlite3_stmt *st, int i, const struct folio_value *v)
{
    switch (v->type) {
    case FOLIO_VALUE_INT: sqlite3_bind_int64(st, i, v->i); break;
    case FOLIO_VALUE_REAL: sqlite3_bind_double(st, i, v->d); break;
    case FOLIO_VALUE_TEXT: sqlite3_bind_text(st, i, v->s, (int)v->len, SQLITE_TRANSIENT); break;
    case FOLIO_VALUE_BLOB: sqlite3_bind_blob(st, i, v->s, (int)v->len, SQLITE_TRANSIENT); break;
    default: sqlite3_bind_null(st, i);
    }
}

/* The cursor of a row: its values for the sort keys. Text is copied into `storage`. */
static folio_status row_cursor(const struct app *a, sqlite3_stmt *st, const struct folio_sort *s,
                               const uint8_t fp[FOLIO_CURSOR_FINGERPRINT_BYTES], char *tok,
                               size_t cap)
{
    struct folio_cursor c;
    memset(&c, 0, sizeof c);
    c.expires = (uint64_t)time(NULL) + CURSOR_TTL;
    memcpy(c.fingerprint, fp, FOLIO_CURSOR_FINGERPRINT_BYTES);
    c.nkeys = s->n;
    for (size_t k = 0; k < s->n; k++) {
        int col = s->keys[k].column;
        if (col == 1) {
            const char *t = (const char *)sqlite3_column_text(st, col);
            c.keys[k] = (struct folio_value){.type = FOLIO_VALUE_TEXT, .s = t,
                                             .len = (size_t)sqlite3_column_bytes(st, col)};
        } else if (col == 2) {
            c.keys[k] = (struct folio_value){.type = FOLIO_VALUE_REAL,
                                             .d = sqlite3_column_double(st, col)};
        } else {
            c.keys[k] = (struct folio_value){.type = FOLIO_VALUE_INT,
                                             .i = sqlite3_column_int64(st, col)};
        }
    }
    return folio_cursor_encode(&a->keys, &c, tok, cap, NULL);
}

static void serve_items(struct app *a, const struct folio_param *params, size_t n,
                        struct response *r)
{
    struct folio_error err = {0};
    struct folio_request rq;
    const struct folio_request_limits limits = {5, 50};
    if (folio_request_parse(&rq, params, n, &limits, NULL, NULL, &err) != FOLIO_OK)
        { problem(r, &err); return; }
    if (rq.mode == FOLIO_MODE_OFFSET || rq.mode == FOLIO_MODE_BEFORE) {
        folio_error_set(&err, FOLIO_EPARAM, FOLIO_KIND_INPUT, "",
                        "this example walks forward by cursor only");
        { problem(r, &err); return; }
    }
    struct folio_sort sort;
    if (folio_sort_parse(&sort, rq.sort ? rq.sort : "id", col_names, NCOLS, &err) != FOLIO_OK)
        { problem(r, &err); return; }
    (void)folio_sort_append(&sort, 0); /* id breaks ties: the order is total */

    /* The cursor belongs to this table and this sort only. */
    struct folio_buf q;
    folio_buf_init(&q, 1024);
    folio_buf_puts(&q, "items");
    folio_buf_putc(&q, '\0');
    folio_sort_format(&q, &sort, col_names);
    uint8_t fp[FOLIO_CURSOR_FINGERPRINT_BYTES];
    if (folio_buf_status(&q) == FOLIO_OK)
        folio_cursor_fingerprint(q.data, q.len, fp);
    folio_status qst = folio_buf_status(&q);
    folio_buf_clear(&q);
    if (qst != FOLIO_OK) {
        folio_error_set(&err, qst, FOLIO_KIND_INTERNAL, "", "out of memory");
        { problem(r, &err); return; }
    }

    struct folio_cursor cur;
    if (rq.mode == FOLIO_MODE_AFTER &&
        folio_cursor_decode(&a->keys, rq.cursor, strlen(rq.cursor), (uint64_t)time(NULL), fp,
                            &cur, &err) != FOLIO_OK)
        { problem(r, &err); return; }

    /* SELECT ... [WHERE keyset] ORDER BY ... LIMIT per_page + 1 (one more: is there a next?) */
    struct folio_buf sql;
    folio_buf_init(&sql, 4096);
    folio_buf_puts(&sql, "SELECT \"id\", \"name\", \"price\" FROM \"items\"");
    if (rq.mode == FOLIO_MODE_AFTER) {
        struct folio_keyset_spec ks = {.sort = &sort, .columns = col_sql,
                                       .not_null = col_not_null, .values = cur.keys,
                                       .first_param = 1, .style = FOLIO_PARAM_QNUM};
        folio_buf_puts(&sql, " WHERE ");
        folio_keyset_where(&sql, &ks);
    }
    folio_buf_puts(&sql, " ORDER BY ");
    folio_keyset_order_by(&sql, &sort, col_sql, false);
    folio_buf_printf(&sql, " LIMIT %d", rq.per_page + 1);
    sqlite3_stmt *st = NULL;
    if (folio_buf_status(&sql) != FOLIO_OK ||
        sqlite3_prepare_v2(a->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
        folio_buf_clear(&sql);
        folio_error_set(&err, FOLIO_EDB, FOLIO_KIND_INTERNAL, "", "query failed");
        { problem(r, &err); return; }
    }
    folio_buf_clear(&sql);
    if (rq.mode == FOLIO_MODE_AFTER)
        for (size_t k = 0; k < sort.n; k++)
            bind_value(st, (int)k + 1, &cur.keys[k]);

    struct folio_json j;
    folio_json_init(&j, &r->body);
    folio_json_object_begin(&j);
    folio_json_key(&j, "data");
    folio_json_array_begin(&j);
    char next[FOLIO_CURSOR_MAX_TOKEN] = "";
    int rows = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows == rq.per_page) { /* the extra row: there is a next page */
            break;
        }
        rows++;
        folio_json_object_begin(&j);
        folio_json_key(&j, "id");
        folio_json_int(&j, sqlite3_column_int64(st, 0));
        folio_json_key(&j, "name");
        folio_json_string(&j, (const char *)sqlite3_column_text(st, 1));
        folio_json_key(&j, "price");
        folio_json_double(&j, sqlite3_column_double(st, 2));
        folio_json_object_end(&j);
        if (rows == rq.per_page && row_cursor(a, st, &sort, fp, next, sizeof next) != FOLIO_OK)
            next[0] = '\0';
    }
    bool more = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        folio_error_set(&err, FOLIO_EDB, FOLIO_KIND_INTERNAL, "", "query failed");
        { problem(r, &err); return; }
    }
    folio_json_array_end(&j);

    /* The next link repeats the request's own parameters with the new cursor. */
    struct folio_buf url;
    folio_buf_init(&url, 4096);
    if (more && next[0]) {
        folio_buf_printf(&url, "/items?per_page=%d", rq.per_page);
        if (rq.sort) {
            folio_buf_puts(&url, "&sort=");
            folio_url_encode(&url, rq.sort, strlen(rq.sort));
        }
        folio_buf_puts(&url, "&after=");
        folio_url_encode(&url, next, strlen(next));
    }
    const char *next_url = more && next[0] && folio_buf_status(&url) == FOLIO_OK ? url.data : NULL;
    folio_json_key(&j, "next");
    if (next_url)
        folio_json_string(&j, next_url);
    else
        folio_json_null(&j);
    folio_json_object_end(&j);
    const struct folio_link links[] = {{"next", next_url}};
    folio_status lst = folio_link_header_write(&r->link, links, 1);
    folio_buf_clear(&url);
    if (folio_json_status(&j) != FOLIO_OK || lst != FOLIO_OK) {
        folio_error_set(&err, FOLIO_ETOOBIG, FOLIO_KIND_INTERNAL, "", "response too large");
        { problem(r, &err); return; }
    }
    r->status = 200;
    r->type = "application/json";
}

/* Split "a=1&b=2" in place into decoded parameters. */
static size_t split_query(char *q, struct folio_param *params, struct folio_error *err)
{
    size_t n = 0;
    for (char *p = q; p && *p;) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        if (*p) {
            if (n == MAX_PARAMS) {
                folio_error_set(err, FOLIO_ELIMIT, FOLIO_KIND_INPUT, "",
                                "too many query parameters");
                return SIZE_MAX;
            }
            char *eq = strchr(p, '=');
            if (eq)
                *eq = '\0';
            if (folio_url_decode(p) != FOLIO_OK || (eq && folio_url_decode(eq + 1) != FOLIO_OK)) {
                folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, "",
                                "malformed percent-encoding");
                return SIZE_MAX;
            }
            params[n++] = (struct folio_param){p, eq ? eq + 1 : NULL};
        }
        p = amp ? amp + 1 : NULL;
    }
    return n;
}

static void handle(struct app *a, char *req, struct response *r)
{
    struct folio_error err = {0};
    char *sp1 = strchr(req, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || strncmp(req, "GET ", 4) != 0) {
        folio_error_set(&err, FOLIO_EINVAL, FOLIO_KIND_INPUT, "", "only GET requests are served");
        { problem(r, &err); return; }
    }
    *sp2 = '\0';
    char *target = sp1 + 1;
    char *qm = strchr(target, '?');
    if (qm)
        *qm = '\0';
    if (strcmp(target, "/items") != 0) {
        folio_error_set(&err, FOLIO_ENOTFOUND, FOLIO_KIND_INPUT, "", "no such resource");
        { problem(r, &err); return; }
    }
    struct folio_param params[MAX_PARAMS];
    size_t n = split_query(qm ? qm + 1 : NULL, params, &err);
    if (n == SIZE_MAX)
        { problem(r, &err); return; }
    serve_items(a, params, n, r);
}

static const char *reason(int status)
{
    return status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 404 ? "Not Found"
                                                                                : "Error";
}

static void serve_connection(struct app *a, int fd)
{
    struct timeval tv = {5, 0}; /* a silent client cannot hold the server */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[8192];
    size_t len = 0;
    while (len < sizeof req - 1) {
        ssize_t k = read(fd, req + len, sizeof req - 1 - len);
        if (k <= 0)
            break;
        len += (size_t)k;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[len] = '\0';
    char *eol = strstr(req, "\r\n");
    if (eol)
        *eol = '\0';
    struct response r = {0};
    folio_buf_init(&r.body, 1 << 20);
    folio_buf_init(&r.link, 8192);
    handle(a, req, &r);
    char head[10240];
    int h = snprintf(head, sizeof head,
                     "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s%s"
                     "Connection: close\r\n\r\n",
                     r.status, reason(r.status), r.type, r.body.len,
                     r.link.len ? "Link: " : "", r.link.len ? r.link.data : "",
                     r.link.len ? "\r\n" : "");
    if (h > 0 && (size_t)h < sizeof head && write(fd, head, (size_t)h) == h && r.body.len)
        (void)!write(fd, r.body.data, r.body.len);
    folio_buf_clear(&r.body);
    folio_buf_clear(&r.link);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: embed DB [--port N] [--max-requests N]\n");
        return 2;
    }
    int port = 0;
    long max_requests = -1;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--max-requests") == 0)
            max_requests = atol(argv[i + 1]);
    }
    struct app a;
    if (sqlite3_open_v2(argv[1], &a.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "embed: cannot open %s\n", argv[1]);
        return 1;
    }
    unsigned char secret[32];
    FILE *rnd = fopen("/dev/urandom", "rb");
    if (!rnd || fread(secret, 1, sizeof secret, rnd) != sizeof secret) {
        fprintf(stderr, "embed: no randomness\n");
        return 1;
    }
    fclose(rnd);
    folio_keyring_init(&a.keys, false);
    if (folio_keyring_add(&a.keys, 1, secret, sizeof secret) != FOLIO_OK)
        return 1;

    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 16) != 0 ||
        getsockname(ls, (struct sockaddr *)&sa, &sl) != 0) {
        perror("embed: listen");
        return 1;
    }
    printf("listening on 127.0.0.1:%d\n", ntohs(sa.sin_port));
    fflush(stdout);
    for (long served = 0; max_requests < 0 || served < max_requests; served++) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0)
            continue;
        serve_connection(&a, fd);
        close(fd);
    }
    close(ls);
    folio_keyring_clear(&a.keys);
    sqlite3_close(a.db);
    return 0;
}
