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

uint64_t folio_now_us(void)
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

/* The peer address; when the peer is a trusted proxy, the rightmost X-Forwarded-For entry
 * that is not itself a trusted proxy (entries further left are the client's own claims). */
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
    const char *xff = folio_http_request_header(h, "X-Forwarded-For");
    if (xff == NULL)
        return;
    /* Walk the list from the right. */
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
            a++;
        while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
            b--;
        char addr[64];
        if (b > a && b - a < sizeof addr) {
            memcpy(addr, xff + a, b - a);
            addr[b - a] = '\0';
            unsigned char tmp[16];
            bool valid = inet_pton(AF_INET, addr, tmp) == 1 || inet_pton(AF_INET6, addr, tmp) == 1;
            if (!valid)
                return; /* garbage: keep the proxy's own address */
            snprintf(h->client, sizeof h->client, "%s", addr);
            if (!trusted(cfg, addr))
                return;
        } else {
            return;
        }
        end = start > 0 ? start - 1 : 0;
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

bool folio_ops_before(struct folio_http *h)
{
    struct folio_server *srv = h->srv;
    const struct folio_server_config *cfg = &srv->cfg;
    client_address(h);

    const char *origin = folio_http_request_header(h, "Origin");
    const char *allow = allowed_origin(cfg, origin);
    if (allow != NULL) {
        folio_http_header_add(h, "Access-Control-Allow-Origin", allow);
        if (strcmp(allow, "*") != 0)
            folio_http_header_add(h, "Vary", "Origin");
        folio_http_header_add(h, "Access-Control-Expose-Headers", expose);
    }
    if (strcmp(h->method, "OPTIONS") == 0) {
        /* A CORS preflight (or a plain OPTIONS): no body, the methods we answer. */
        folio_http_header_add(h, "Allow", "GET, HEAD, OPTIONS");
        if (allow != NULL) {
            folio_http_header_add(h, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
            const char *req = folio_http_request_header(h, "Access-Control-Request-Headers");
            /* Echoed only when it is a list of header names (RFC 9110 tokens): a control
             * character would otherwise go out in a response header. */
            if (req != NULL && strlen(req) < 512 &&
                req[strspn(req, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789!#$%&'*+-.^_`|~, ")] == '\0')
                folio_http_header_add(h, "Access-Control-Allow-Headers", req);
            folio_http_header_add(h, "Access-Control-Max-Age", "600");
        }
        folio_buf_reset(&h->w->body);
        h->status = 204;
        h->content_type = NULL;
        return true;
    }

    double rate = cfg->rate;
    unsigned burst = cfg->burst;
    uint32_t scope = 0;
    if (h->route >= 0 && srv->endpoints[h->route].rate > 0) {
        rate = srv->endpoints[h->route].rate;
        burst = srv->endpoints[h->route].burst;
        scope = (uint32_t)h->route + 1;
    }
    if (srv->ratelimit == NULL || rate <= 0)
        return false;
    struct folio_ratelimit_result r;
    folio_ratelimit_take(srv->ratelimit, h->client, strlen(h->client), scope, rate, burst,
                         h->start_us / 1000, &r);
    char v[24];
    snprintf(v, sizeof v, "%u", r.limit);
    folio_http_header_add(h, "RateLimit-Limit", v);
    snprintf(v, sizeof v, "%u", r.remaining);
    folio_http_header_add(h, "RateLimit-Remaining", v);
    snprintf(v, sizeof v, "%u", r.reset);
    folio_http_header_add(h, "RateLimit-Reset", v);
    if (r.allowed)
        return false;
    atomic_fetch_add_explicit(&srv->metrics.rate_limited, 1, memory_order_relaxed);
    snprintf(v, sizeof v, "%u", r.retry_after);
    folio_http_header_add(h, "Retry-After", v);
    char detail[128];
    snprintf(detail, sizeof detail, "too many requests from this client; retry in %u s",
             r.retry_after);
    folio_problem(h, 429, "rate-limited", NULL, detail, NULL);
    return true;
}

void folio_ops_after(struct folio_http *h)
{
    struct folio_server *srv = h->srv;
    uint64_t us = folio_now_us() - h->start_us;
    size_t route = h->route >= 0 ? (size_t)h->route : FOLIO_METRICS_MAX_ROUTES;
    folio_metrics_request(&srv->metrics, route, h->status, us);
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
        folio_accesslog_line(srv->accesslog, line, len);
    }
}

static int one(void *ctx, const struct folio_db_row *row)
{
    (void)row;
    *(bool *)ctx = true;
    return 1;
}

void folio_handle_health(struct folio_http *h)
{
    static const char sql[] = "SELECT 1";
    bool ok = false;
    if (folio_db_query(h->w->conn, sql, sizeof sql - 1, NULL, 0, one, &ok, NULL) != FOLIO_OK ||
        !ok) {
        folio_problem(h, 503, "unhealthy", NULL, "the database cannot be read", NULL);
        return;
    }
    folio_buf_reset(&h->w->body);
    folio_buf_puts(&h->w->body, "{\"status\":\"ok\"}");
    h->status = 200;
    h->content_type = "application/json";
}

void folio_handle_metrics(struct folio_http *h)
{
    const char *names[FOLIO_METRICS_MAX_ROUTES];
    size_t n = h->srv->nendpoints < FOLIO_METRICS_MAX_ROUTES ? h->srv->nendpoints
                                                             : FOLIO_METRICS_MAX_ROUTES;
    for (size_t i = 0; i < n; i++)
        names[i] = h->srv->endpoints[i].path;
    folio_buf_reset(&h->w->body);
    folio_metrics_write(&h->srv->metrics, &h->w->body, names, n);
    h->status = 200;
    h->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
