/* What happens around every request: CORS, per-client rate limits, health and metrics
 * endpoints, request metrics and the access log. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "server/http.h"
#include "server/server.h"

uint64_t folio__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool trusted(const struct folio_server_config *cfg, const char *addr)
{
    for (size_t i = 0; i < cfg->ntrusted_proxies; i++)
        if (strcmp(cfg->trusted_proxies[i], addr) == 0)
            return true;
    return false;
}

/* X-Forwarded-For header lines, in the order received. A request may carry several:
 * together they are one list, the lines joined with commas (RFC 9110 section 5.3), so a
 * client cannot hide its address behind a second line its proxy appended to. Only the
 * last XFF_LINES lines are kept: the walk starts from the right and stops at the first
 * hop that is not a trusted proxy, which with at most 16 of those is soon. */
#define XFF_LINES 32

struct xff {
    const char *line[XFF_LINES]; /* a ring: line[i % XFF_LINES] */
    size_t n;                    /* lines seen */
};

static enum MHD_Result xff_line(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    struct xff *x = cls;
    if (key != NULL && value != NULL && strcasecmp(key, "X-Forwarded-For") == 0)
        x->line[x->n++ % XFF_LINES] = value;
    return MHD_YES;
}

/* The hop that ends at line[*end] (exclusive), moving *end to the left of it: its text
 * in `out`, canonical as inet_ntop() writes it (one address, one bucket, whatever its
 * spelling). Returns 1 for an address, 0 when the line is used up (or empty), -1 for
 * anything else: an empty entry, an address with a port, "unknown". */
static int hop_left(const char *line, size_t *end, char out[64])
{
    if (*end == 0)
        return 0;
    size_t start = *end;
    while (start > 0 && line[start - 1] != ',')
        start--;
    size_t a = start, b = *end;
    *end = start > 0 ? start - 1 : 0;
    while (a < b && (line[a] == ' ' || line[a] == '\t'))
        a++;
    while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t'))
        b--;
    char text[64];
    unsigned char bin[16];
    if (b == a || b - a >= sizeof text)
        return -1;
    memcpy(text, line + a, b - a);
    text[b - a] = '\0';
    if (inet_pton(AF_INET, text, bin) == 1)
        return inet_ntop(AF_INET, bin, out, 64) != NULL ? 1 : -1;
    if (inet_pton(AF_INET6, text, bin) == 1)
        return inet_ntop(AF_INET6, bin, out, 64) != NULL ? 1 : -1;
    return -1;
}

/* The peer address; when the peer is a trusted proxy, the rightmost X-Forwarded-For hop
 * that is not itself a trusted proxy (hops further left are claims made by the client).
 * A hop that is not an address ends the walk at the last trusted one. The Forwarded
 * header (RFC 7239) is not read: a proxy that sends only that leaves every client with
 * the proxy's address, which errs towards limiting. */
static void client_address(struct folio_http *h)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(h->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(h->client, sizeof h->client, "unknown");
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, h->client,
                  sizeof h->client);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                  h->client, sizeof h->client);
    const struct folio_server_config *cfg = &h->srv->cfg;
    if (cfg->ntrusted_proxies == 0 || !trusted(cfg, h->client))
        return;
    struct xff x = {.n = 0};
    MHD_get_connection_values(h->conn, MHD_HEADER_KIND, xff_line, &x);
    size_t first = x.n > XFF_LINES ? x.n - XFF_LINES : 0;
    for (size_t i = x.n; i-- > first;) {
        const char *line = x.line[i % XFF_LINES];
        size_t end = strlen(line);
        char addr[64];
        int rc;
        while ((rc = hop_left(line, &end, addr)) == 1) {
            snprintf(h->client, sizeof h->client, "%s", addr);
            if (!trusted(cfg, addr))
                return;
        }
        if (rc < 0)
            return; /* garbage: keep the last trusted hop */
    }
}

static const char *allowed_origin(const struct folio_server_config *cfg, const char *origin)
{
    for (size_t i = 0; origin != NULL && i < cfg->ncors_origins; i++) {
        if (strcmp(cfg->cors_origins[i], "*") == 0)
            return "*";
        if (strcmp(cfg->cors_origins[i], origin) == 0)
            return origin;
    }
    return NULL;
}

static const char expose[] =
    "Link, X-Total-Count, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After";

/* Take the client's token; false when the request may go on, else true with the 429
 * problem written. */
static bool rate_limited(struct folio_http *h)
{
    struct folio_server *srv = h->srv;
    const struct folio_server_config *cfg = &srv->cfg;
    double rate = cfg->rate;
    unsigned burst = cfg->burst;
    uint32_t scope = 0;
    if (h->route >= 0 && srv->endpoints[h->route].rate > 0) {
        rate = srv->endpoints[h->route].rate;
        burst = srv->endpoints[h->route].burst;
        scope = (uint32_t)h->route + 1;
    }
    /* An authenticated request spends its principal's tokens, wherever it comes from; a
     * key with a rate of its own has one bucket for all its requests. */
    const struct folio_principal *p = &h->principal;
    const char *who = p->authenticated && p->name[0] ? p->name : h->client;
    if (p->authenticated && p->rate > 0) {
        rate = p->rate;
        burst = p->burst;
        scope = UINT32_MAX;
    }
    /* Health checks and scrapes are the operator's, not a client's: never limited, and
     * they spend nobody's tokens. */
    if (h->route < 0 && (strcmp(h->path, "/healthz") == 0 || strcmp(h->path, "/metrics") == 0))
        return false;
    if (srv->ratelimit == NULL || rate <= 0)
        return false;
    struct folio_ratelimit_result r;
    /* With [cluster] redis the bucket is shared by every node; when Redis fails, [cluster]
     * fail says: "open" takes this node's own bucket, "closed" refuses. */
    bool shared = h->w != NULL && h->w->redis != NULL && cfg->cluster.limits;
    if (!shared || folio__redis_ratelimit(h->w->redis, who, strlen(who), scope,
                                          rate, burst, &r) != FOLIO_OK) {
        if (shared)
            atomic_fetch_add_explicit(&srv->metrics.shared_limit_fallbacks, 1,
                                      memory_order_relaxed);
        if (shared && cfg->cluster.fail_closed) {
            folio__http_header_add(h, "Retry-After", "1");
            folio__problem(h, 503, "rate-limit-unavailable", NULL,
                           "the shared rate limit cannot be checked now; retry shortly", NULL);
            return true;
        }
        folio__ratelimit_take(srv->ratelimit, who, strlen(who), scope, rate, burst,
                              h->start_us / 1000, &r);
    }
    char v[24];
    snprintf(v, sizeof v, "%u", r.limit);
    folio__http_header_add(h, "RateLimit-Limit", v);
    snprintf(v, sizeof v, "%u", r.remaining);
    folio__http_header_add(h, "RateLimit-Remaining", v);
    snprintf(v, sizeof v, "%u", r.reset);
    folio__http_header_add(h, "RateLimit-Reset", v);
    if (r.allowed)
        return false;
    atomic_fetch_add_explicit(&srv->metrics.rate_limited, 1, memory_order_relaxed);
    snprintf(v, sizeof v, "%u", r.retry_after);
    folio__http_header_add(h, "Retry-After", v);
    char detail[128];
    snprintf(detail, sizeof detail, "too many requests from this client; retry in %u s",
             r.retry_after);
    folio__problem(h, 429, "rate-limited", NULL, detail, NULL);
    return true;
}

bool folio__ops_before(struct folio_http *h)
{
    struct folio_server *srv = h->srv;
    const struct folio_server_config *cfg = &srv->cfg;
    client_address(h);

    const char *origin = folio__http_request_header(h, "Origin");
    const char *allow = allowed_origin(cfg, origin);
    if (allow != NULL) {
        folio__http_header_add(h, "Access-Control-Allow-Origin", allow);
        if (strcmp(allow, "*") != 0)
            folio__http_header_add(h, "Vary", "Origin");
        folio__http_header_add(h, "Access-Control-Expose-Headers", expose);
    }
    /* Who is asking first: the rate limit counts an authenticated request against its
     * principal. A refused credential still spends its address's tokens. */
    enum folio_auth_verdict verdict = folio__auth_identify(h);
    /* Every request spends a token, a CORS preflight (OPTIONS) too: it costs the server
     * as much as a small page, and a free one would be a way around the limit. */
    if (rate_limited(h))
        return true;
    if (strcmp(h->method, "OPTIONS") == 0) {
        /* A CORS preflight (or a plain OPTIONS): no body, the methods we answer. */
        folio__http_header_add(h, "Allow", "GET, HEAD, OPTIONS");
        if (allow != NULL) {
            folio__http_header_add(h, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
            const char *req = folio__http_request_header(h, "Access-Control-Request-Headers");
            /* Echoed only when it is a list of header names (RFC 9110 tokens): a control
             * character would otherwise go out in a response header. */
            if (req != NULL && strlen(req) < 512 &&
                req[strspn(req, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789!#$%&'*+-.^_`|~, ")] == '\0')
                folio__http_header_add(h, "Access-Control-Allow-Headers", req);
            folio__http_header_add(h, "Access-Control-Max-Age", "600");
        }
        folio_buf_reset(&h->w->body);
        h->status = 204;
        h->content_type = NULL;
        return true;
    }
    if (verdict != FOLIO_AUTH_PASS) {
        folio__auth_refuse(h, verdict);
        return true;
    }
    return false;
}

void folio__ops_after(struct folio_http *h)
{
    struct folio_server *srv = h->srv;
    uint64_t us = folio__now_us() - h->start_us;
    size_t route = h->route >= 0 ? (size_t)h->route : FOLIO_METRICS_MAX_ROUTES;
    folio__metrics_request(&srv->metrics, route, h->status, us);
    if (h->rows > 0)
        atomic_fetch_add_explicit(&srv->metrics.rows_served, (uint64_t)h->rows,
                                  memory_order_relaxed);
    if (srv->accesslog == NULL)
        return;
    char line[2048];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int n = snprintf(line, sizeof line, "%s %s %s %.1500s", when, h->client, h->method, h->path);
    for (size_t i = 0; i < h->nparams && n > 0 && (size_t)n < sizeof line - 64; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, "%c%.200s=%.300s", i ? '&' : '?',
                      h->params[i].key, h->params[i].value ? h->params[i].value : "");
    if (n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, " %d %zu %lluus", h->status,
                      h->w ? h->w->body.len : 0, (unsigned long long)us);
    if (n > 0) {
        size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
        /* Control characters from the request would forge log lines: blank them. */
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
                line[i] = '?';
        folio__accesslog_line(srv->accesslog, line, len);
    }
}

static int one(void *ctx, const struct folio_db_row *row)
{
    (void)row;
    *(bool *)ctx = true;
    return 1;
}

void folio__handle_health(struct folio_http *h)
{
    static const char sql[] = "SELECT 1";
    bool ok = false;
    if (folio__db_query(h->w->engine.conn, sql, sizeof sql - 1, NULL, 0, one, &ok, NULL) != FOLIO_OK ||
        !ok) {
        folio__problem(h, 503, "unhealthy", NULL, "the database cannot be read", NULL);
        return;
    }
    folio_buf_reset(&h->w->body);
    folio_buf_puts(&h->w->body, "{\"status\":\"ok\"}");
    h->status = 200;
    h->content_type = "application/json";
}

void folio__handle_metrics(struct folio_http *h)
{
    if (!folio__auth_metrics_allowed(h)) {
        folio__auth_refuse(h, folio__http_request_header(h, "Authorization") == NULL
                                  ? FOLIO_AUTH_MISSING
                                  : FOLIO_AUTH_INVALID);
        return;
    }
    const char *names[FOLIO_METRICS_MAX_ROUTES];
    size_t n = h->srv->nendpoints < FOLIO_METRICS_MAX_ROUTES ? h->srv->nendpoints
                                                             : FOLIO_METRICS_MAX_ROUTES;
    for (size_t i = 0; i < n; i++)
        names[i] = h->srv->endpoints[i].path;
    bool healthy[32];
    size_t nsrc = folio__db_sources(h->srv->db, healthy, 32), up = 0;
    for (size_t i = 0; i < nsrc && i < 32; i++)
        up += healthy[i];
    atomic_store(&h->srv->metrics.db_sources_healthy, (int_fast64_t)up);
    atomic_store(&h->srv->metrics.db_failovers, (int_fast64_t)folio__db_failovers(h->srv->db));
    folio_buf_reset(&h->w->body);
    folio__metrics_write(&h->srv->metrics, &h->w->body, names, n);
    h->status = 200;
    h->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
