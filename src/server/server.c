/* libmicrohttpd glue: daemon lifecycle, per-thread workers, request -> router -> response. */
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/conntrack.h"
#include "server/http.h"
#include "server/jobs.h"
#include "server/handler/export.h"
#include "server/response.h"
#include "server/strict.h"
#include "server/tls.h"

static pthread_key_t worker_key;
static pthread_once_t worker_key_once = PTHREAD_ONCE_INIT;

void folio__worker_free(struct folio_worker *w)
{
    if (w == NULL)
        return;
    folio__engine_clear(&w->engine);
    folio_buf_clear(&w->body);
    folio_buf_clear(&w->headers);
    folio_buf_clear(&w->scratch);
    folio_buf_clear(&w->links);
    folio_buf_clear(&w->gz);
    folio_buf_clear(&w->key);
    folio_filter_set_clear(&w->filters);
    folio__redis_free(w->redis);
    folio_free(w);
}

static void worker_free(void *p)
{
    folio__worker_free(p);
}

static void worker_key_create(void)
{
    pthread_key_create(&worker_key, worker_free);
}

/* The calling thread's worker, created on its first request. */
static struct folio_worker *worker_get(struct folio_server *srv, struct folio_error *err)
{
    pthread_once(&worker_key_once, worker_key_create);
    struct folio_worker *w = pthread_getspecific(worker_key);
    if (w != NULL)
        return w;
    w = folio__worker_new(srv, err);
    if (w != NULL)
        pthread_setspecific(worker_key, w);
    return w;
}

struct folio_worker *folio__worker_new(struct folio_server *srv, struct folio_error *err)
{
    struct folio_worker *w = folio_calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->srv = srv;
    const struct folio_server_config *cfg = &srv->cfg;
    struct folio_engine_config ec = {
        .keyring = &srv->keyring,
        .cursor_ttl = cfg->cursor_ttl,
        .hybrid = cfg->hybrid,
        .count_limit = cfg->count_limit,
        .query_timeout_ms = cfg->query_timeout_ms,
        .explain = cfg->debug_plan,
        .max_rows_bytes = cfg->max_response_bytes,
    };
    if (folio__engine_init(&w->engine, srv->db, &ec, err) != FOLIO_OK) {
        folio_free(w);
        return NULL;
    }
    folio_buf_init(&w->body, srv->cfg.max_response_bytes);
    folio_buf_init(&w->headers, 64 * 1024);
    folio_buf_init(&w->scratch, srv->cfg.max_response_bytes);
    folio_buf_init(&w->links, 64 * 1024);
    folio_buf_init(&w->gz, srv->cfg.max_response_bytes + (1u << 20));
    folio_buf_init(&w->key, 64 * 1024);
    folio_filter_set_init(&w->filters);
    if (srv->cfg.cluster.redis[0] != '\0' &&
        folio__redis_new(&w->redis, &srv->cfg.cluster, &srv->metrics) != FOLIO_OK) {
        folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL, "out of memory");
        folio__worker_free(w);
        return NULL;
    }
    return w;
}

unsigned folio__server_auto_io_threads(void)
{
    /* The I/O threads answer most pages themselves (route_inline): one per CPU this
     * process may run on (taskset, cgroup cpusets), so that none waits for another's
     * time slice on a shared CPU. */
    cpu_set_t set;
    int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
    if (n < 1)
        n = 1;
    return n > 8 ? 8u : (unsigned)n;
}

void folio__server_config_defaults(struct folio_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->listen_host, sizeof cfg->listen_host, "127.0.0.1");
    cfg->listen_port = 8080;
    cfg->threads = 4;
    cfg->io_threads = 0; /* one per CPU the process may run on, at most 8 */
    cfg->queue = 256;
    cfg->client_jobs = 0;
    cfg->max_connections = 1024;
    cfg->max_connections_per_ip = 64;
    cfg->request_timeout = 10;
    cfg->connection_timeout = 30;
    cfg->max_request_bytes = 12 * 1024;
    cfg->max_url_bytes = 8 * 1024;
    cfg->max_response_bytes = 16 * 1024 * 1024;
    cfg->default_per_page = 20;
    cfg->max_per_page = 100;
    cfg->cursor_ttl = 86400;
    cfg->auto_endpoints = true;
    cfg->hybrid = true;
    cfg->rate = 0;
    cfg->burst = 0;
    cfg->rate_clients = 65536;
    cfg->prefetch = true;
    cfg->prefetch_threads = 1;
    cfg->prefetch_queue = 64;
    cfg->cache_bytes = 32u << 20;
    cfg->cache_ttl_ms = 30000;
    folio__cluster_config_defaults(&cfg->cluster);
    cfg->max_offset = 100000;
    cfg->count_limit = 10000;
    cfg->query_timeout_ms = 5000;
    cfg->inline_budget_us = 1000;
    cfg->default_count = FOLIO_COUNT_NONE;
    cfg->listen_fd = -1;
    cfg->export_auto = true;
    cfg->export_max_rows = 0;
    cfg->export_max = 8;
    cfg->export_per_client = 2;
    cfg->export_checkpoint_every = 10000;
    cfg->gzip = true;
}

void folio__http_header_add(struct folio_http *h, const char *name, const char *value)
{
    struct folio_buf *b = &h->w->headers;
    size_t n = b->len;
    if (h->nheaders == FOLIO_HTTP_MAX_HEADERS ||
        folio_buf_append(b, name, strlen(name) + 1) != FOLIO_OK) {
        h->headers_lost = true;
        return;
    }
    size_t v = b->len;
    if (folio_buf_append(b, value, strlen(value) + 1) != FOLIO_OK) {
        b->len = n;
        h->headers_lost = true;
        return;
    }
    h->headers[h->nheaders++] = (struct folio_http_header){n, v};
}

const char *folio__http_request_header(struct folio_http *h, const char *name)
{
    if (h->conn == NULL) /* a request made inside folio (prefetch) has no headers */
        return NULL;
    return MHD_lookup_connection_value(h->conn, MHD_HEADER_KIND, name);
}

struct header_join {
    const char *name;
    struct folio_buf *out;
    bool any, failed;
};

static enum MHD_Result join_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    (void)key_size;
    struct header_join *j = cls;
    if (strcasecmp(key, j->name) != 0)
        return MHD_YES;
    if (j->any && folio_buf_append(j->out, ", ", 2) != FOLIO_OK)
        j->failed = true;
    if (value != NULL && folio_buf_append(j->out, value, value_size) != FOLIO_OK)
        j->failed = true;
    j->any = true;
    return MHD_YES;
}

const char *folio__http_request_header_list(struct folio_http *h, const char *name,
                                            struct folio_buf *out)
{
    folio_buf_reset(out);
    if (h->conn == NULL)
        return NULL;
    struct header_join j = {name, out, false, false};
    MHD_get_connection_values_n(h->conn, MHD_HEADER_KIND, join_header, &j);
    if (!j.any || j.failed)
        return NULL;
    return out->data ? out->data : "";
}

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    struct folio_http *h = cls;
    if (h->nparams == FOLIO_HTTP_MAX_PARAMS) {
        h->too_many_params = true;
        return MHD_NO;
    }
    /* A decoded %00 would silently cut the text short: refuse it instead. */
    if (h->nul_param == NULL &&
        (strlen(key) != key_size || (value != NULL && strlen(value) != value_size)))
        h->nul_param = key;
    h->params[h->nparams++] = (struct folio_param){key, value};
    return MHD_YES;
}

/* What the raw request line said, decided before libmicrohttpd parses the arguments.
 * The first URI_NMARKS mark the first access-handler call, the others the later ones. A
 * request handed to a database worker replaces its mark with its job (struct http_job). */
enum uri_mark { URI_OK, URI_TOO_LONG, URI_TOO_MANY, URI_NUL_PATH, URI_BAD, URI_NMARKS };
static char uri_marks[2 * URI_NMARKS];

static bool is_mark(const void *p)
{
    return (const char *)p >= uri_marks && (const char *)p < uri_marks + 2 * URI_NMARKS;
}

static enum uri_mark mark_of(const void *p)
{
    return (enum uri_mark)(((const char *)p - uri_marks) % URI_NMARKS);
}

static bool is_first_call(const void *p)
{
    return p == NULL || (is_mark(p) && (const char *)p < uri_marks + URI_NMARKS);
}

/* Runs on the raw request target before argument parsing. An oversized query is cut off
 * here (its first byte becomes NUL), one with too many parameters after the last one
 * kept, so that argument parsing cannot exhaust the connection's memory pool; either is
 * answered with a problem. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    struct folio_server *srv = cls;
    size_t len = strlen(uri);
    const char *q = strchr(uri, '?');
    size_t path_len = q ? (size_t)(q - uri) : len;
    size_t params = 0;
    enum uri_mark m = URI_OK;
    for (const char *p = q; p != NULL && *p; p++)
        params += *p == '&' || *p == ';';
    /* max_url_bytes counts the target without its cursor (folio's own, at most
     * FOLIO_CURSOR_MAX_TOKEN characters): the links folio emits add a cursor to the
     * request's query, and each must be accepted like the request was. */
    size_t counted = len - folio__response_cursor_bytes(q, NULL);
    /* libmicrohttpd ends the target where it put a NUL over the space before "HTTP/1.x"
     * (it checked the version before calling us); any other NUL is a raw NUL byte in the
     * request line. It also takes in spaces (a double space before the version, a space
     * inside the target), control characters and '#' (a fragment is never sent): none
     * belongs in a request target (RFC 9112 section 3.2). */
    const char *after = uri + len + 1;
    bool versioned = strncmp(after, "HTTP/1.", 7) == 0 && after[7] != '\0' && after[8] == '\0';
    for (size_t i = 0; i < len && versioned; i++)
        versioned = (unsigned char)uri[i] > 0x20 && uri[i] != 0x7f && uri[i] != '#';
    if (!versioned || (uri[0] != '/' && strcmp(uri, "*") != 0))
        m = URI_BAD;
    else if (counted > srv->cfg.max_url_bytes)
        m = URI_TOO_LONG;
    else if (params >= FOLIO_HTTP_MAX_PARAMS)
        m = URI_TOO_MANY;
    else
        for (size_t i = 0; i + 2 < path_len; i++)
            if (uri[i] == '%' && uri[i + 1] == '0' && uri[i + 2] == '0')
                m = URI_NUL_PATH;
    if (m == URI_TOO_MANY) {
        /* Keep the first FOLIO_HTTP_MAX_PARAMS parameters: enough to name one given twice. */
        size_t kept = 0;
        for (char *p = (char *)q + 1; *p; p++)
            if ((*p == '&' || *p == ';') && ++kept == FOLIO_HTTP_MAX_PARAMS) {
                *p = '\0';
                break;
            }
    } else if (m != URI_OK && q != NULL) {
        ((char *)q)[1] = '\0'; /* the request line buffer is ours until the handler runs */
    }
    return &uri_marks[m];
}

static enum MHD_Result queue(struct MHD_Connection *conn, struct folio_http *h)
{
    unsigned status;
    struct MHD_Response *r = folio__response_new(h, &status);
    if (r == NULL)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Whether pages go to the cache shared by the nodes: Redis is configured for it and the
 * database's change token is the same number on every node (PostgreSQL's WAL position). */
static bool shared_cache(const struct folio_server *srv, const struct folio_worker *w)
{
    return w->redis != NULL && srv->cfg.cluster.cache &&
           (folio__db_caps(srv->db) & FOLIO_DB_CAP_SHARED_VERSION) != 0;
}

/* Store the page just answered in the shared cache, under the oldest token its reads
 * were taken at (engine.version_min, reset before the route). */
static void shared_store(struct folio_http *h, const char *key, size_t key_len)
{
    uint64_t v = h->w->engine.version_min;
    if (shared_cache(h->srv, h->w) && v != 0 && v != UINT64_MAX)
        folio__cluster_cache_store(h->w->redis, h, v, key, key_len, h->srv->cfg.cache_ttl_ms,
                                   h->srv->cfg.cursor_ttl);
}

/* Route through the page cache when the endpoint prefetches: serve a fresh cached page,
 * or fetch it (single flight) and keep it when asked for again; then queue the next page
 * in the background when the client walks (prefetch.h). With `nowait` (an inline try:
 * route_inline) false means the page was not answered here, and nothing of it was kept:
 * another request is fetching it, or the database budget ran out. */
/* folio__route; false when it ran under a database budget (nowait) that stopped it. */
static bool route_plain(struct folio_http *h, bool nowait)
{
    folio__route(h);
    return !nowait || !folio__db_budget_spent(h->w->engine.conn);
}

static bool route_cached(struct folio_http *h, bool nowait)
{
    struct folio_prefetch *p = h->srv->prefetch;
    /* The key is the URL alone: a request whose answer also depends on a header (Prefer:
     * count=...) neither reads nor fills the cache. Nor does one with a NUL byte in a
     * parameter: the key spells the text only up to the NUL, so "cursor=%00" would share
     * the entry of "cursor=". */
    bool cacheable = p != NULL && h->route >= 0 && !h->export &&
                     h->srv->endpoints[h->route].prefetch &&
                     strcmp(h->method, "GET") == 0 && h->nul_param == NULL &&
                     folio__http_request_header(h, "Prefer") == NULL;
    if (!cacheable) {
        return route_plain(h, nowait);
    }
    struct folio_buf *key = &h->w->key;
    folio_buf_reset(key);
    /* A scoped request's page is its principal's: the scope is part of the key. */
    if (folio__prefetch_key(key, h->path, h->params, h->nparams) != FOLIO_OK ||
        folio__auth_scope_key(key, &h->principal.scope) != FOLIO_OK || !key->data) {
        return route_plain(h, nowait);
    }
    /* The key moves to the stack: a prefetch run from here reuses the worker's buffers. */
    char kbuf[8192];
    if (key->len >= sizeof kbuf) {
        return route_plain(h, nowait);
    }
    size_t klen = key->len;
    memcpy(kbuf, key->data, klen + 1);
    struct folio_prefetch_ticket t;
    if (!folio__prefetch_serve(p, h, kbuf, klen, nowait, &t)) {
        if (t.busy)
            return false;
        /* Then the cache shared by the nodes: an entry for this URL read at the token the
         * database has now (never an older page than the source serving us holds). */
        bool shared = shared_cache(h->srv, h->w) && t.token != 0;
        if (!shared || !folio__cluster_cache_serve(h->w->redis, h, t.token, kbuf, klen)) {
            h->w->engine.version_min = UINT64_MAX;
            if (!route_plain(h, nowait)) {
                folio__prefetch_abandon(p, kbuf, klen, &t);
                return false;
            }
            shared_store(h, kbuf, klen);
        }
        /* Compressed now only for a client that takes gzip (its response needs it): the
         * cache keeps that copy too. A page kept without one gets it from its first hit
         * by such a client (below), so pages nobody asks compressed are never compressed. */
        if (folio__response_gzip_wanted(h))
            folio__response_gzip_prepare(h);
        folio__prefetch_store(p, h, kbuf, klen, &t);
    } else if (!h->gz_ready && folio__response_gzip_wanted(h)) {
        folio__response_gzip_prepare(h);
        if (h->gz_ready)
            folio__prefetch_attach_gz(p, h, kbuf, klen, &t);
    }
    folio__prefetch_next(p, h, &t);
    return true;
}

/* Pages are first tried on the I/O thread that read the request: most take tens of
 * microseconds, and answering them here saves the hand-over to a database worker (a
 * queue, a thread switch there and back, a wake-up of the I/O thread: twice the system
 * calls of the page itself). The database stops a query at [server] inline_budget and
 * refuses to wait for a lock (db.h: folio__db_budget), so an I/O thread is never held
 * longer than that; such a page is dropped unanswered, nothing of it kept, and handed to
 * a worker as any page was before. So that requests which never fit cannot keep the I/O
 * threads busy with attempts, an I/O thread stops trying for the rest of a 100 ms
 * window once attempts handed over took a tenth of it. SQLite only (PostgreSQL has no
 * such stop: its pages always go to the workers). */
#define INLINE_WINDOW_US 100000u
#define INLINE_LOST_MAX_US (INLINE_WINDOW_US / 10)

static bool route_inline(struct folio_http *h)
{
    struct folio_worker *w = h->w;
    unsigned budget = h->srv->cfg.inline_budget_us;
    if (budget == 0 || h->export || h->route < 0 || w->engine.conn == NULL)
        return false;
    uint64_t now = folio__db_now_us();
    if (now - w->inline_window_us >= INLINE_WINDOW_US) {
        w->inline_window_us = now;
        w->inline_lost_us = 0;
    } else if (w->inline_lost_us >= INLINE_LOST_MAX_US) {
        return false;
    }
    if (!folio__db_budget(w->engine.conn, now + budget))
        return false;
    /* What the attempt changes, to restore for the hand-over: the request's state and the
     * headers added before it (CORS, rate limit). */
    struct folio_http saved = *h;
    size_t headers_len = w->headers.len;
    folio_status headers_status = w->headers.status;
    bool answered = route_cached(h, true);
    folio__db_budget(w->engine.conn, 0);
    if (answered) {
        atomic_fetch_add_explicit(&h->srv->metrics.inline_pages, 1, memory_order_relaxed);
        return true;
    }
    *h = saved;
    w->headers.len = headers_len; /* back to what it held: truncated, terminated */
    w->headers.status = headers_status;
    if (w->headers.data != NULL)
        w->headers.data[headers_len] = '\0';
    folio_buf_reset(&w->body);
    w->inline_lost_us += folio__db_now_us() - now;
    atomic_fetch_add_explicit(&h->srv->metrics.inline_handovers, 1, memory_order_relaxed);
    return false;
}

/* The prefetch pool's way in (prefetch.h: struct folio_prefetch_host). */
static struct folio_worker *prefetch_worker_new(void *ctx)
{
    struct folio_error err = {0};
    return folio__worker_new(ctx, &err);
}

static bool prefetch_run(void *ctx, struct folio_http *h)
{
    h->srv = ctx;
    h->route = folio__route_find(h->srv, h->path);
    if (h->route < 0)
        return false;
    h->w->engine.version_min = UINT64_MAX;
    folio__route(h); /* not compressed: the first hit by a client that takes gzip does it */
    /* A page prefetched here is served by any node that shares the cache (under the
     * scope it was fetched in, as route_cached keys it). */
    struct folio_buf *key = &h->w->key;
    folio_buf_reset(key);
    if (shared_cache(h->srv, h->w) &&
        folio__prefetch_key(key, h->path, h->params, h->nparams) == FOLIO_OK &&
        folio__auth_scope_key(key, &h->principal.scope) == FOLIO_OK && key->data)
        shared_store(h, key->data, key->len);
    return true;
}

/* A request handed to a database worker. Its connection stays suspended from the hand-over
 * until the response is ready; the strings h points to live in the connection's memory,
 * which libmicrohttpd leaves alone meanwhile. */
struct http_job {
    struct folio_job job; /* first: the pool hands back &job */
    struct folio_http h;
    struct MHD_Response *response; /* set before the connection is resumed */
    unsigned status;
    size_t hdrs_len;
    char hdrs[]; /* the headers added before the hand-over (CORS, rate limit) */
};

static void run_job(struct folio_worker *w, struct folio_job *job)
{
    struct http_job *j = (struct http_job *)job;
    struct folio_http *h = &j->h;
    h->w = w;
    folio_buf_reset(&w->body);
    folio_buf_reset(&w->headers);
    if (folio_buf_append(&w->headers, j->hdrs, j->hdrs_len) != FOLIO_OK) {
        h->nheaders = 0;
        h->headers_lost = true; /* answered as a 500 problem, not without them */
    }
    route_cached(h, false);
    folio__response_links_fit(h);
    folio__ops_after(h);
    j->response = folio__response_new(h, &j->status);
    MHD_resume_connection(h->conn);
}

static void job_free(struct http_job *j)
{
    if (j->response != NULL)
        MHD_destroy_response(j->response);
    folio_free(j);
}

/* Hand h to the database workers; false when it must be answered here (no memory). A full
 * queue is answered at once with 503 and Retry-After. */
static bool hand_over(struct folio_http *h, void **con_cls)
{
    struct folio_buf *hb = &h->w->headers;
    size_t hlen = hb->data != NULL ? hb->len : 0;
    struct http_job *j = folio_malloc(sizeof *j + hlen + 1);
    if (j == NULL)
        return false;
    memset(j, 0, sizeof *j);
    j->job.run = run_job;
    snprintf(j->job.client, sizeof j->job.client, "%s", h->client);
    j->h = *h;
    j->hdrs_len = hlen;
    if (hlen > 0)
        memcpy(j->hdrs, hb->data, hlen);
    *con_cls = j;
    /* Suspended before it is queued: a worker resumes it only once it is suspended. */
    MHD_suspend_connection(h->conn);
    if (folio__jobs_submit(h->srv->jobs, &j->job) == FOLIO_OK)
        return true;
    atomic_fetch_add_explicit(&h->srv->metrics.overloaded, 1, memory_order_relaxed);
    folio__http_header_add(h, "Retry-After", "1");
    folio__problem(h, 503, "overloaded", NULL,
                   "every database worker is busy and the queue is full; retry shortly", NULL);
    folio__ops_after(h);
    j->response = folio__response_new(h, &j->status);
    MHD_resume_connection(h->conn);
    return true;
}

static struct folio_conn *conn_record(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

/* The peer's address, for the access log of a request not worth more attention. */
static void peer_address(struct folio_http *h)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(h->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(h->client, sizeof h->client, "unknown");
    if (ci != NULL && ci->client_addr != NULL && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
                  h->client, sizeof h->client);
}

static enum MHD_Result add_size(void *cls, enum MHD_ValueKind kind, const char *key,
                                size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    (void)key;
    (void)value;
    *(size_t *)cls += key_size + value_size + 4;
    return MHD_YES;
}

/* Set up h for a request this thread answers: false (with *out_ret to return) when no
 * worker state can be had, after answering 503 without it. */
static bool begin(struct folio_server *srv, struct MHD_Connection *conn, const char *method,
                  const char *url, struct folio_http *h, enum MHD_Result *out_ret)
{
    folio__conntrack_busy(conn_record(conn));
    memset(h, 0, sizeof *h);
    h->conn = conn;
    h->srv = srv;
    h->method = method;
    h->path = url;
    struct folio_error err = {0};
    h->w = worker_get(srv, &err);
    if (h->w == NULL) {
        static const char msg[] =
            "{\"type\":\"/problems/unavailable\",\"title\":\"Service "
            "Unavailable\",\"status\":503,\"detail\":\"the database cannot be opened\"}";
        struct MHD_Response *r = MHD_create_response_from_buffer(
            sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        *out_ret = MHD_NO;
        if (r == NULL)
            return false;
        if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                    "application/problem+json") == MHD_YES)
            *out_ret = MHD_queue_response(conn, 503, r);
        MHD_destroy_response(r);
        return false;
    }
    folio_buf_reset(&h->w->body);
    folio_buf_reset(&h->w->headers);
    return true;
}

/* A malformed request (RFC 9112): 400 problem, queued on the first call so that
 * libmicrohttpd sends it with Connection: close and reads nothing more. */
static enum MHD_Result refuse(struct folio_server *srv, struct MHD_Connection *conn,
                              const char *method, const char *url, const char *why)
{
    struct folio_http h;
    enum MHD_Result unavailable;
    if (!begin(srv, conn, method, url, &h, &unavailable))
        return unavailable;
    h.start_us = folio__now_us();
    h.route = -1;
    peer_address(&h);
    folio__problem(&h, 400, "invalid-request", "Invalid request", why, NULL);
    folio__ops_after(&h);
    return queue(conn, &h);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)upload_data;
    struct folio_server *srv = cls;
    if (*con_cls != NULL && !is_mark(*con_cls)) {
        /* Resumed by the worker that answered it. */
        struct http_job *j = *con_cls;
        if (j->response == NULL)
            return MHD_NO;
        enum MHD_Result ret = MHD_queue_response(conn, j->status, j->response);
        MHD_destroy_response(j->response);
        j->response = NULL;
        return ret;
    }
    /* Answer on the second call: queueing in the first makes libmicrohttpd 0.9.75 close
     * the connection instead of keeping it alive. That is what a malformed request gets:
     * answered at once, its body and anything pipelined after it never read (RFC 9112
     * section 11.2). */
    if (is_first_call(*con_cls)) {
        /* Should libmicrohttpd have answered the request itself already (its own 400 or
         * 413), that answer stands. */
        if (MHD_get_connection_info(conn, MHD_CONNECTION_INFO_HTTP_STATUS) != NULL)
            return MHD_YES;
        enum uri_mark m = *con_cls ? mark_of(*con_cls) : URI_OK;
        const char *malformed = NULL;
        if (m == URI_BAD || (strcmp(url, "*") == 0 && strcmp(method, "OPTIONS") != 0))
            malformed = "the request line is malformed (a space, a control character or a NUL "
                        "byte in the target, or a target not starting with /)";
        else
            malformed = folio__strict_check(conn, method, version);
        if (malformed == NULL) {
            *con_cls = &uri_marks[URI_NMARKS + m];
            return MHD_YES;
        }
        return refuse(srv, conn, method, url, malformed);
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* request bodies are ignored: every endpoint is GET */
        return MHD_YES;
    }
    struct folio_http h;
    enum MHD_Result unavailable;
    if (!begin(srv, conn, method, url, &h, &unavailable))
        return unavailable;
    struct folio_error err = {0};
    MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, collect_param, &h);
    h.start_us = folio__now_us();
    h.route = folio__route_find(srv, url);
    if (h.route < 0 && (h.route = folio__export_route(srv, url)) >= 0)
        h.export = true;
    size_t req_bytes = strlen(url) + strlen(method) + 12;
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, add_size, &req_bytes);
    for (size_t i = 0; i < h.nparams; i++) {
        const char *k = h.params[i].key, *v = h.params[i].value;
        size_t vlen = v ? strlen(v) : 0;
        if (strcmp(k, "after") == 0 || strcmp(k, "before") == 0 || strcmp(k, "cursor") == 0)
            req_bytes += vlen - (vlen < FOLIO_CURSOR_MAX_TOKEN ? vlen : FOLIO_CURSOR_MAX_TOKEN);
        else
            req_bytes += strlen(k) + vlen + 2;
    }
    if (folio__ops_before(&h)) {
        folio__ops_after(&h);
        return queue(conn, &h);
    }
    bool worker = false;
    if (req_bytes > srv->cfg.max_request_bytes) {
        folio__problem(&h, 431, "request-too-large", "Request header fields too large",
                       "the request line and headers are larger than the server accepts", NULL);
    } else {
        switch (mark_of(*con_cls)) {
        case URI_TOO_LONG:
            folio__problem(&h, 414, "uri-too-long", NULL, "the request target is too long", NULL);
            break;
        case URI_TOO_MANY:
            /* "A parameter given twice: 400" names it, however many parameters follow. */
            if (h.route >= 0 && srv->endpoints[h.route].style == FOLIO_STYLE_FOLIO &&
                folio_request_find_repeat(h.params, h.nparams, &err) != FOLIO_OK)
                folio__problem_from_error(&h, &err);
            else
                folio__problem(&h, 400, "too-many-parameters", "Too many parameters",
                               "the query string has too many parameters", NULL);
            break;
        case URI_NUL_PATH:
            folio__problem(&h, 404, "not-found", NULL, "no such resource", NULL);
            break;
        default:
            /* The tutorial styles answer a NUL in their own words (the handler sees it). */
            if (h.nul_param != NULL &&
                (h.route < 0 || srv->endpoints[h.route].style == FOLIO_STYLE_FOLIO))
                folio__problem(&h, 400, "invalid-parameter", "Invalid parameter",
                               "a query parameter contains a NUL byte", h.nul_param);
            else if (srv->jobs != NULL && folio__route_needs_worker(&h))
                worker = !route_inline(&h);
            else
                folio__route(&h);
        }
    }
    if (worker && hand_over(&h, con_cls))
        return MHD_YES;
    if (worker) /* no memory for the hand-over: answer here after all */
        route_cached(&h, false);
    folio__response_links_fit(&h);
    folio__ops_after(&h);
    return queue(conn, &h);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    folio__conntrack_idle(conn_record(conn));
    if (*con_cls != NULL && !is_mark(*con_cls))
        job_free(*con_cls);
    *con_cls = NULL;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addr;
    (void)addrlen;
    struct folio_server *srv = cls;
    if (folio__conntrack_admit(srv->conntrack))
        return MHD_YES;
    atomic_fetch_add_explicit(&srv->metrics.connections_refused, 1, memory_order_relaxed);
    return MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct folio_server *srv = cls;
    bool started = code == MHD_CONNECTION_NOTIFY_STARTED;
    atomic_fetch_add_explicit(&srv->metrics.open_connections, started ? 1 : -1,
                              memory_order_relaxed);
    if (started) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = folio__conntrack_open(srv->conntrack, ci ? (int)ci->connect_fd : -1);
    } else {
        folio__conntrack_close(srv->conntrack, *socket_context);
        *socket_context = NULL;
    }
}

/* The separate /metrics listener (metrics_listen): one thread, plain HTTP, only /metrics
 * (and /healthz); its own token still applies. */
static enum MHD_Result on_metrics_request(void *cls, struct MHD_Connection *conn,
                                          const char *url, const char *method,
                                          const char *version, const char *upload_data,
                                          size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    struct folio_server *srv = cls;
    if (*con_cls == NULL) {
        *con_cls = &uri_marks[0]; /* answer on the second call (see on_request) */
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct folio_http h;
    enum MHD_Result unavailable;
    if (!begin(srv, conn, method, url, &h, &unavailable))
        return unavailable;
    h.start_us = folio__now_us();
    h.route = -1;
    peer_address(&h);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        folio__problem(&h, 405, "method-not-allowed", NULL, "only GET and HEAD", NULL);
    else if (strcmp(url, "/metrics") == 0)
        folio__handle_metrics(&h);
    else if (strcmp(url, "/healthz") == 0)
        folio__handle_health(&h);
    else
        folio__problem(&h, 404, "not-found", NULL, "no such resource", NULL);
    return queue(conn, &h);
}

static folio_status start_metrics(struct folio_server *srv, struct folio_error *err)
{
    const struct folio_server_config *cfg = &srv->cfg;
    if (cfg->metrics_host[0] == '\0')
        return FOLIO_OK;
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cfg->metrics_port);
    if (inet_pton(AF_INET, cfg->metrics_host, &addr.sin_addr) != 1) {
        folio__server_stop(srv);
        return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_NONE, "metrics_listen",
                               "metrics_listen address '%s' is not an IPv4 address",
                               cfg->metrics_host);
    }
    /* Address reuse: a reload's new generation binds it while the old one drains. */
    srv->metrics_daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_ITC,
        cfg->metrics_port, NULL, NULL, on_metrics_request, srv, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
    if (srv->metrics_daemon == NULL) {
        folio__server_stop(srv);
        return folio_error_set(err, FOLIO_EIO, FOLIO_KIND_NONE, "metrics_listen",
                               "cannot listen on %s:%u", cfg->metrics_host, cfg->metrics_port);
    }
    return FOLIO_OK;
}

static folio_status start(struct folio_server *srv, const struct folio_server_config *cfg,
                          folio_db *db, const struct folio_keyring *kr,
                          struct folio_endpoint *endpoints, size_t nendpoints,
                          struct folio_error *err)
{
    memset(srv, 0, sizeof *srv);
    srv->accesslog_fd = -1;
    srv->files_root_fd = -1;
    srv->quiesced_fd = -1;
    srv->cfg = *cfg;
    srv->db = db;
    srv->keyring = *kr;
    srv->endpoints = endpoints;
    srv->nendpoints = nendpoints;
    if (cfg->auto_endpoints) {
        folio_status st = folio__server_auto_endpoints(srv);
        if (st != FOLIO_OK)
            return folio_error_set(err, st, FOLIO_KIND_NONE, NULL, "cannot describe the tables: %s",
                                   folio_strerror(st));
    }

    bool prefetching = false;
    for (size_t i = 0; i < srv->nendpoints; i++)
        prefetching |= srv->endpoints[i].prefetch;
    struct folio_prefetch_config pc = {cfg->prefetch_threads, cfg->prefetch_queue,
                                       cfg->cache_bytes, cfg->cache_ttl_ms, 2000};
    struct folio_prefetch_host host = {srv, db, &srv->metrics, cfg->cursor_ttl,
                                       prefetch_worker_new, folio__worker_free, prefetch_run};
    if (prefetching && folio__prefetch_new(&srv->prefetch, &host, &pc) != FOLIO_OK)
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_NONE, NULL, "out of memory");
    if (cfg->files_root[0] != '\0') {
        srv->files_root_fd = open(cfg->files_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (srv->files_root_fd < 0 ||
            folio__dirlist_cache_new(FOLIO_DIRLIST_CACHE_DEFAULT_BYTES,
                                     FOLIO_DIRLIST_RACY_NS_DEFAULT, &srv->dircache) != FOLIO_OK) {
            folio__server_stop(srv);
            return folio_error_set(err, FOLIO_EIO, FOLIO_KIND_NONE, "files.root",
                                   "cannot open the files root %s", cfg->files_root);
        }
    }
    bool limited = cfg->rate > 0;
    for (size_t i = 0; i < srv->nendpoints; i++)
        limited |= srv->endpoints[i].rate > 0;
    for (size_t i = 0; cfg->auth != NULL && i < cfg->auth->nkeys; i++)
        limited |= cfg->auth->keys[i].rate > 0;
    if (limited && folio__ratelimit_new(&srv->ratelimit, cfg->rate_clients) != FOLIO_OK)
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_NONE, NULL, "out of memory");
    if (cfg->access_log[0] != '\0') {
        srv->accesslog_fd = strcmp(cfg->access_log, "-") == 0
                                ? dup(STDERR_FILENO)
                                : open(cfg->access_log,
                                       O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK,
                                       0640);
        /* O_NONBLOCK: a FIFO nobody reads fails (ENXIO) instead of hanging a start or a
         * reload; the lines are then written blocking, by the log's own thread. */
        int open_errno = errno;
        int fl = srv->accesslog_fd >= 0 && strcmp(cfg->access_log, "-") != 0
                     ? fcntl(srv->accesslog_fd, F_GETFL)
                     : -1;
        if (fl >= 0)
            (void)fcntl(srv->accesslog_fd, F_SETFL, fl & ~O_NONBLOCK);
        if (srv->accesslog_fd < 0 || folio__accesslog_new(&srv->accesslog, srv->accesslog_fd,
                                                          &srv->metrics.log_dropped) != FOLIO_OK) {
            const char *why = srv->accesslog_fd < 0 ? strerror(open_errno) : "out of memory";
            folio__server_stop(srv);
            return folio_error_set(err, FOLIO_EIO, FOLIO_KIND_NONE, "access_log",
                                   "cannot open access log %s: %s", cfg->access_log, why);
        }
    }

    /* Each connection holds a descriptor: a cap above the process's limit would make
     * accept() fail, and libmicrohttpd then stops accepting instead of refusing. */
    unsigned max_conn = cfg->max_connections;
    rlim_t need = (rlim_t)max_conn + 64 + 4 * (rlim_t)(cfg->threads + (cfg->io_threads ? cfg->io_threads : folio__server_auto_io_threads()));
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need)
            max_conn = rl.rlim_cur > need - max_conn + 16 ? (unsigned)(rl.rlim_cur - (need - max_conn))
                                                           : 16;
    }
    srv->cfg.max_connections = max_conn;
    if (folio__conntrack_new(&srv->conntrack, max_conn, cfg->request_timeout) != FOLIO_OK ||
        folio__exports_new(&srv->exports) != FOLIO_OK) {
        folio__server_stop(srv);
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_NONE, NULL, "out of memory");
    }
    unsigned client_jobs = cfg->client_jobs;
    if (client_jobs == 0)
        client_jobs = cfg->threads > 1 ? cfg->threads - 1 : 1;
    struct folio_jobs_config jc = {cfg->threads, cfg->queue, client_jobs};
    folio_status jst = folio__jobs_new(&srv->jobs, srv, &jc, err);
    if (jst != FOLIO_OK) {
        folio__server_stop(srv);
        return jst;
    }

    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cfg->listen_port);
    if (inet_pton(AF_INET, cfg->listen_host, &addr.sin_addr) != 1) {
        folio__server_stop(srv);
        return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_NONE, "listen",
                               "listen address '%s' is not an IPv4 address", cfg->listen_host);
    }

    /* MHD_USE_ITC: required by MHD_quiesce_daemon() (reload) and to resume connections
     * from the database workers. Either bind the address or accept on the listening socket
     * given (a reload shares the old server's).
     * poll(), not epoll: in libmicrohttpd 0.9.75, MHD_quiesce_daemon() on a thread pool
     * removes the listening socket from each worker's epoll set from the calling thread
     * while the worker may remove it too, and aborts ("Failed to remove listen FD from
     * epoll set", daemon.c:5531) when it loses that race; a SIGHUP storm under load hit
     * it. With poll() a quiesced worker only leaves the socket out of its next poll set
     * and refuses to accept on it, so quiescing has no such race. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    struct MHD_OptionItem where[] = {{MHD_OPTION_SOCK_ADDR, 0, &addr},
                                     {MHD_OPTION_END, 0, NULL},
                                     {MHD_OPTION_END, 0, NULL},
                                     {MHD_OPTION_END, 0, NULL},
                                     {MHD_OPTION_END, 0, NULL}};
    size_t nwhere = 1; /* the options set so far; the rest stay MHD_OPTION_END */
    if (cfg->listen_fd >= 0)
        where[0] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, cfg->listen_fd, NULL};
    if (cfg->tls_cert[0] != '\0') {
        folio_status tst = folio__tls_supported()
                               ? FOLIO_OK
                               : folio_error_set(err, FOLIO_EIO, FOLIO_KIND_NONE, "tls_cert",
                                                 "this libmicrohttpd has no TLS support");
        if (tst == FOLIO_OK)
            tst = folio__tls_pem_read(cfg->tls_cert, 0, &srv->tls_cert_pem, err);
        if (tst == FOLIO_OK)
            tst = folio__tls_pem_read(cfg->tls_key, 1, &srv->tls_key_pem, err);
        if (tst != FOLIO_OK) {
            folio__server_stop(srv);
            return tst;
        }
        flags |= MHD_USE_TLS;
        where[nwhere++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert_pem};
        where[nwhere++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key_pem};
    }
    /* libmicrohttpd splits its connection limit over its threads and, at a thread's limit,
     * stops accepting (new clients would wait unanswered): its limit is set out of reach
     * and on_accept() refuses past max_connections instead. The memory pool holds the
     * request (at most max_request_bytes plus a cursor, else 431) and then the response
     * headers (at most FOLIO_HTTP_HEADER_BUDGET), plus libmicrohttpd's bookkeeping. */
    unsigned io = cfg->io_threads ? cfg->io_threads : folio__server_auto_io_threads();
    if (io > 1) /* one thread is the daemon's own (a pool of 1 is refused with a warning) */
        where[nwhere++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, io, NULL};
    srv->daemon = MHD_start_daemon(
        flags, cfg->listen_port, on_accept, srv, on_request, srv, MHD_OPTION_ARRAY, where,
        MHD_OPTION_CONNECTION_LIMIT, (max_conn + 64) * io,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        cfg->max_request_bytes + FOLIO_CURSOR_MAX_TOKEN + FOLIO_HTTP_HEADER_BUDGET + 8192,
        MHD_OPTION_URI_LOG_CALLBACK,
        on_uri, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
        MHD_OPTION_END);
    if (srv->daemon == NULL) {
        folio__server_stop(srv);
        return folio_error_set(err, FOLIO_EIO, FOLIO_KIND_NONE, "listen",
                               "cannot listen on %s:%u%s", cfg->listen_host, cfg->listen_port,
                               srv->tls_cert_pem ? " (or the TLS certificate and key do not "
                                                   "make a pair)"
                                                 : "");
    }
    return start_metrics(srv, err);
}

folio_status folio__server_start(struct folio_server *srv, const struct folio_server_config *cfg,
                                 folio_db *db, const struct folio_keyring *kr,
                                 struct folio_endpoint *endpoints, size_t nendpoints,
                                 struct folio_error *err)
{
    struct stat given;
    bool have_fd = cfg->listen_fd >= 0 && fstat(cfg->listen_fd, &given) == 0;
    folio_status st = start(srv, cfg, db, kr, endpoints, nendpoints, err);
    if (st != FOLIO_OK && have_fd) {
        /* libmicrohttpd closes a given socket on some failures and not on others: close it
         * only while the number still names that socket (it may have been reused). */
        struct stat now;
        if (fstat(cfg->listen_fd, &now) == 0 && now.st_dev == given.st_dev &&
            now.st_ino == given.st_ino)
            close(cfg->listen_fd);
    }
    return st;
}

int folio__server_listen_fd(const struct folio_server *srv)
{
    if (srv->daemon == NULL)
        return -1;
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    return i != NULL ? (int)i->listen_fd : -1;
}

void folio__server_quiesce(struct folio_server *srv)
{
    atomic_store(&srv->draining, true);
    if (srv->daemon != NULL && srv->quiesced_fd < 0) {
        MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
        srv->quiesced_fd = fd == MHD_INVALID_SOCKET ? -1 : (int)fd;
    }
    /* The metrics socket is not shared with the next generation (that one bound its own
     * with SO_REUSEPORT): closed now, so that the kernel stops queueing scrapes on it. */
    if (srv->metrics_daemon != NULL && !srv->metrics_quiesced) {
        MHD_socket fd = MHD_quiesce_daemon(srv->metrics_daemon);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
        srv->metrics_quiesced = true;
    }
}

folio_status folio__server_auto_endpoints(struct folio_server *srv)
{
    const struct folio_schema *s = folio__db_schema(srv->db);
    size_t base = srv->nendpoints;
    struct folio_endpoint *eps =
        folio_realloc(srv->endpoints, (base + s->ntables + 1) * sizeof *eps);
    if (eps == NULL)
        return FOLIO_ENOMEM;
    srv->endpoints = eps;
    struct folio_buf path;
    folio_buf_init(&path, 4096);
    folio_status st = FOLIO_OK;
    for (size_t t = 0; t < s->ntables && st == FOLIO_OK; t++) {
        folio_buf_reset(&path);
        folio_buf_printf(&path, "/api/%s", s->tables[t].name);
        if (path.data == NULL) {
            st = FOLIO_ENOMEM;
            break;
        }
        bool taken = false;
        for (size_t i = 0; i < srv->nendpoints && !taken; i++)
            taken = strcmp(srv->endpoints[i].path, path.data) == 0;
        /* No unique key (a PostgreSQL view or table without a primary key): served only by
         * a configured endpoint that names one (folio serve says so at start). */
        if (taken || s->tables[t].npk == 0)
            continue;
        struct folio_endpoint *ep = &eps[srv->nendpoints];
        st = path.data ? folio__endpoint_init(ep, &s->tables[t], path.data) : FOLIO_ENOMEM;
        if (st != FOLIO_OK)
            break;
        srv->nendpoints++;
        folio__endpoint_all_columns(ep, srv->cfg.sort_any);
        for (size_t k = 0; k < s->tables[t].npk_declared; k++)
            folio_sort_append(&ep->default_sort, s->tables[t].pk_declared[k]);
        ep->default_per_page = srv->cfg.default_per_page;
        ep->max_per_page = srv->cfg.max_per_page;
        ep->default_count = srv->cfg.default_count;
        ep->prefetch = srv->cfg.prefetch;
        ep->export_ok = srv->cfg.export_auto;
    }
    folio_buf_clear(&path);
    return st;
}

void folio__server_stop(struct folio_server *srv)
{
    /* The workers finish (and resume) every request handed to them first: libmicrohttpd
     * cannot stop while a connection is suspended. Requests that arrive meanwhile get 503. */
    folio__jobs_stop(srv->jobs);
    /* Exports too: each walk ends and resumes its connection if it was suspended. */
    folio__exports_stop(srv->exports);
    if (srv->metrics_daemon != NULL)
        MHD_stop_daemon(srv->metrics_daemon);
    srv->metrics_daemon = NULL;
    srv->metrics_quiesced = false;
    if (srv->daemon != NULL)
        MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
    folio__tls_pem_free(srv->tls_cert_pem);
    folio__tls_pem_free(srv->tls_key_pem);
    srv->tls_cert_pem = srv->tls_key_pem = NULL;
    folio__exports_free(srv->exports);
    srv->exports = NULL;
    folio__jobs_free(srv->jobs);
    srv->jobs = NULL;
    folio__conntrack_free(srv->conntrack);
    srv->conntrack = NULL;
    if (srv->quiesced_fd >= 0) /* handed back by MHD_quiesce_daemon(): ours to close */
        close(srv->quiesced_fd);
    srv->quiesced_fd = -1;
    folio__prefetch_free(srv->prefetch);
    srv->prefetch = NULL;
    folio__accesslog_free(srv->accesslog);
    srv->accesslog = NULL;
    if (srv->accesslog_fd >= 0)
        close(srv->accesslog_fd);
    srv->accesslog_fd = -1;
    folio__ratelimit_free(srv->ratelimit);
    srv->ratelimit = NULL;
    folio__dirlist_cache_free(srv->dircache);
    srv->dircache = NULL;
    if (srv->files_root_fd >= 0)
        close(srv->files_root_fd);
    srv->files_root_fd = -1;
    folio_keyring_clear(&srv->keyring);
    for (size_t i = 0; i < srv->nendpoints; i++)
        folio__endpoint_clear(&srv->endpoints[i]);
    folio_free(srv->endpoints);
    srv->endpoints = NULL;
    srv->nendpoints = 0;
}
