/* libmicrohttpd glue: daemon lifecycle, per-thread workers, request -> router -> response. */
#include "server/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/count.h"
#include "server/http.h"
#include "server/hybrid.h"

static pthread_key_t worker_key;
static pthread_once_t worker_key_once = PTHREAD_ONCE_INIT;

void folio_worker_free(struct folio_worker *w)
{
    if (w == NULL)
        return;
    folio_hybrid_thread_clear();
    folio_count_thread_clear();
    folio_db_disconnect(w->conn);
    folio_buf_clear(&w->body);
    folio_buf_clear(&w->headers);
    folio_buf_clear(&w->sql);
    folio_buf_clear(&w->scratch);
    folio_buf_clear(&w->links);
    folio_filter_set_clear(&w->filters);
    folio_free(w);
}

static void worker_free(void *p)
{
    folio_worker_free(p);
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
    w = folio_worker_new(srv, err);
    if (w != NULL)
        pthread_setspecific(worker_key, w);
    return w;
}

struct folio_worker *folio_worker_new(struct folio_server *srv, struct folio_error *err)
{
    struct folio_worker *w = folio_calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->srv = srv;
    if (folio_db_connect(srv->db, &w->conn, err) != FOLIO_OK) {
        folio_free(w);
        return NULL;
    }
    folio_buf_init(&w->body, srv->cfg.max_response_bytes);
    folio_buf_init(&w->headers, 64 * 1024);
    folio_buf_init(&w->sql, 64 * 1024);
    folio_buf_init(&w->scratch, srv->cfg.max_response_bytes);
    folio_buf_init(&w->links, 64 * 1024);
    folio_filter_set_init(&w->filters);
    return w;
}

void folio_server_config_defaults(struct folio_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->listen_host, sizeof cfg->listen_host, "127.0.0.1");
    cfg->listen_port = 8080;
    cfg->threads = 2;
    cfg->max_connections = 1024;
    cfg->connection_timeout = 30;
    /* libmicrohttpd clears a connection's whole memory pool between keep-alive requests, so
     * the pool size is paid on every request: keep it near libmicrohttpd's default. */
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
    cfg->max_offset = 0;
    cfg->count_limit = 10000;
    cfg->default_count = FOLIO_COUNT_NONE;
    cfg->listen_fd = -1;
}

void folio_http_header_add(struct folio_http *h, const char *name, const char *value)
{
    if (h->nheaders == FOLIO_HTTP_MAX_HEADERS)
        return;
    struct folio_buf *b = &h->w->headers;
    size_t n = b->len;
    if (folio_buf_append(b, name, strlen(name) + 1) != FOLIO_OK)
        return;
    size_t v = b->len;
    if (folio_buf_append(b, value, strlen(value) + 1) != FOLIO_OK) {
        b->len = n;
        return;
    }
    h->headers[h->nheaders++] = (struct folio_http_header){n, v};
}

const char *folio_http_request_header(struct folio_http *h, const char *name)
{
    if (h->conn == NULL) /* a request made inside folio (prefetch) has no headers */
        return NULL;
    return MHD_lookup_connection_value(h->conn, MHD_HEADER_KIND, name);
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
 * The first four mark the first access-handler call, the last four the second. */
enum uri_mark { URI_OK, URI_TOO_LONG, URI_TOO_MANY, URI_NUL_PATH, URI_NMARKS };
static char uri_marks[2 * URI_NMARKS];

static enum uri_mark mark_of(const void *p)
{
    return (enum uri_mark)(((const char *)p - uri_marks) % URI_NMARKS);
}

static bool is_first_call(const void *p)
{
    return p == NULL || (const char *)p < uri_marks + URI_NMARKS;
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
    if (len > srv->cfg.max_url_bytes)
        m = URI_TOO_LONG;
    else if (params >= FOLIO_HTTP_MAX_PARAMS)
        m = URI_TOO_MANY;
    else if (uri[len + 1] != 'H')
        /* libmicrohttpd ends the target where it put a NUL over the space before
         * "HTTP/1.x"; any other NUL was in the request line itself. */
        m = URI_NUL_PATH;
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
    struct folio_worker *w = h->w;
    const char *body = w ? w->body.data : NULL;
    /* HEAD keeps the body's length: libmicrohttpd sends the headers (Content-Length
     * included, as RFC 9110 asks) and leaves the body out itself. */
    size_t len = w ? w->body.len : 0;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    if (h->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, h->content_type);
    for (size_t i = 0; w && i < h->nheaders; i++)
        MHD_add_response_header(r, w->headers.data + h->headers[i].name,
                                w->headers.data + h->headers[i].value);
    /* A quiesced server sends its keep-alive clients to the server that replaced it. */
    if (atomic_load_explicit(&h->srv->draining, memory_order_relaxed))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)h->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Route through the page cache when the endpoint prefetches: serve a fresh cached page,
 * or fetch it (single flight) and keep it; then queue the next page in the background. */
static void route_cached(struct folio_http *h)
{
    struct folio_prefetch *p = h->srv->prefetch;
    /* The key is the URL alone: a request whose answer also depends on a header (Prefer:
     * count=...) neither reads nor fills the cache. */
    bool cacheable = p != NULL && h->route >= 0 && h->srv->endpoints[h->route].prefetch &&
                     strcmp(h->method, "GET") == 0 &&
                     folio_http_request_header(h, "Prefer") == NULL;
    if (!cacheable) {
        folio_route(h);
        return;
    }
    struct folio_buf *key = &h->w->sql; /* free until the handler runs */
    folio_buf_reset(key);
    if (folio_prefetch_key(key, h->path, h->params, h->nparams) != FOLIO_OK || !key->data) {
        folio_route(h);
        return;
    }
    /* The handler reuses the SQL buffer, so the key moves to the stack. */
    char kbuf[8192];
    if (key->len >= sizeof kbuf) {
        folio_route(h);
        return;
    }
    size_t klen = key->len;
    memcpy(kbuf, key->data, klen + 1);
    uint64_t epoch;
    if (!folio_prefetch_serve(p, h, kbuf, klen, &epoch)) {
        folio_route(h);
        folio_prefetch_store(p, h, kbuf, klen, epoch);
    }
    if (h->status == 200 && h->next_url != NULL)
        folio_prefetch_enqueue(p, h->next_url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    (void)upload_data;
    struct folio_server *srv = cls;
    /* Answer on the second call: queueing in the first makes libmicrohttpd 0.9.75 close
     * the connection instead of keeping it alive. */
    if (is_first_call(*con_cls)) {
        *con_cls = &uri_marks[URI_NMARKS + (*con_cls ? mark_of(*con_cls) : URI_OK)];
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* request bodies are ignored: every endpoint is GET */
        return MHD_YES;
    }

    struct folio_http h;
    memset(&h, 0, sizeof h);
    h.conn = conn;
    h.srv = srv;
    h.method = method;
    h.path = url;
    struct folio_error err = {0};
    h.w = worker_get(srv, &err);
    if (h.w == NULL) {
        static const char msg[] =
            "{\"type\":\"https://folio.dev/problems/unavailable\",\"title\":\"Service "
            "Unavailable\",\"status\":503,\"detail\":\"the database cannot be opened\"}";
        struct MHD_Response *r = MHD_create_response_from_buffer(
            sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/problem+json");
        enum MHD_Result ret = MHD_queue_response(conn, 503, r);
        MHD_destroy_response(r);
        return ret;
    }
    folio_buf_reset(&h.w->body);
    folio_buf_reset(&h.w->headers);
    MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, collect_param, &h);
    h.start_us = folio_now_us();
    h.route = folio_route_find(srv, url);
    if (folio_ops_before(&h)) {
        folio_ops_after(&h);
        return queue(conn, &h);
    }
    switch (mark_of(*con_cls)) {
    case URI_TOO_LONG:
        folio_problem(&h, 414, "uri-too-long", NULL, "the request target is too long", NULL);
        break;
    case URI_TOO_MANY:
        /* "A parameter given twice: 400" names it, however many parameters follow. */
        if (h.route >= 0 && srv->endpoints[h.route].style == FOLIO_STYLE_FOLIO &&
            folio_request_find_repeat(h.params, h.nparams, &err) != FOLIO_OK)
            folio_problem_from_error(&h, &err);
        else
            folio_problem(&h, 400, "too-many-parameters", "Too many parameters",
                          "the query string has too many parameters", NULL);
        break;
    case URI_NUL_PATH:
        folio_problem(&h, 404, "not-found", NULL, "no such resource", NULL);
        break;
    default:
        /* The tutorial styles answer a NUL in their own words (the handler sees it). */
        if (h.nul_param != NULL &&
            (h.route < 0 || srv->endpoints[h.route].style == FOLIO_STYLE_FOLIO))
            folio_problem(&h, 400, "invalid-parameter", "Invalid parameter",
                          "a query parameter contains a NUL byte", h.nul_param);
        else
            route_cached(&h);
    }
    folio_ops_after(&h);
    return queue(conn, &h);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)conn;
    (void)socket_context;
    struct folio_server *srv = cls;
    atomic_fetch_add_explicit(&srv->metrics.open_connections,
                              code == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1,
                              memory_order_relaxed);
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
        folio_status st = folio_server_auto_endpoints(srv);
        if (st != FOLIO_OK)
            return folio_error_set(err, st, 0, NULL, "cannot describe the tables: %s",
                                   folio_strerror(st));
    }

    bool prefetching = false;
    for (size_t i = 0; i < srv->nendpoints; i++)
        prefetching |= srv->endpoints[i].prefetch;
    struct folio_prefetch_config pc = {cfg->prefetch_threads, cfg->prefetch_queue,
                                       cfg->cache_bytes, cfg->cache_ttl_ms, 2000};
    if (prefetching && folio_prefetch_new(&srv->prefetch, srv, &pc) != FOLIO_OK)
        return folio_error_set(err, FOLIO_ENOMEM, 0, NULL, "out of memory");
    if (cfg->files_root[0] != '\0') {
        srv->files_root_fd = open(cfg->files_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (srv->files_root_fd < 0 ||
            folio_dirlist_cache_new(FOLIO_DIRLIST_CACHE_DEFAULT_BYTES,
                                    FOLIO_DIRLIST_RACY_NS_DEFAULT, &srv->dircache) != FOLIO_OK) {
            folio_server_stop(srv);
            return folio_error_set(err, FOLIO_EIO, 0, "files.root",
                                   "cannot open the files root %s", cfg->files_root);
        }
    }
    bool limited = cfg->rate > 0;
    for (size_t i = 0; i < srv->nendpoints; i++)
        limited |= srv->endpoints[i].rate > 0;
    if (limited && folio_ratelimit_new(&srv->ratelimit, cfg->rate_clients) != FOLIO_OK)
        return folio_error_set(err, FOLIO_ENOMEM, 0, NULL, "out of memory");
    if (cfg->access_log[0] != '\0') {
        srv->accesslog_fd = strcmp(cfg->access_log, "-") == 0
                                ? dup(STDERR_FILENO)
                                : open(cfg->access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                                       0640);
        if (srv->accesslog_fd < 0 ||
            folio_accesslog_new(&srv->accesslog, srv->accesslog_fd,
                                &srv->metrics.log_dropped) != FOLIO_OK) {
            folio_server_stop(srv);
            return folio_error_set(err, FOLIO_EIO, 0, "access_log", "cannot open access log %s",
                                   cfg->access_log);
        }
    }

    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cfg->listen_port);
    if (inet_pton(AF_INET, cfg->listen_host, &addr.sin_addr) != 1) {
        folio_server_stop(srv);
        return folio_error_set(err, FOLIO_EINVAL, 0, "listen",
                               "listen address '%s' is not an IPv4 address", cfg->listen_host);
    }

    /* MHD_USE_ITC: required by MHD_quiesce_daemon() (reload). Either bind the address or
     * accept on the listening socket given (a reload shares the old server's). */
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    struct MHD_OptionItem where[] = {{MHD_OPTION_SOCK_ADDR, 0, &addr}, {MHD_OPTION_END, 0, NULL}};
    if (cfg->listen_fd >= 0)
        where[0] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, cfg->listen_fd, NULL};
    srv->daemon = MHD_start_daemon(
        flags, cfg->listen_port, NULL, NULL, on_request, srv, MHD_OPTION_ARRAY, where,
        MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
        cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->max_request_bytes + 4096,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        srv, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
        MHD_OPTION_END);
    if (srv->daemon == NULL) {
        folio_server_stop(srv);
        return folio_error_set(err, FOLIO_EIO, 0, "listen", "cannot listen on %s:%u",
                               cfg->listen_host, cfg->listen_port);
    }
    return FOLIO_OK;
}

folio_status folio_server_start(struct folio_server *srv, const struct folio_server_config *cfg,
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

int folio_server_listen_fd(const struct folio_server *srv)
{
    if (srv->daemon == NULL)
        return -1;
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    return i != NULL ? (int)i->listen_fd : -1;
}

void folio_server_quiesce(struct folio_server *srv)
{
    atomic_store(&srv->draining, true);
    if (srv->daemon != NULL && srv->quiesced_fd < 0) {
        MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
        srv->quiesced_fd = fd == MHD_INVALID_SOCKET ? -1 : (int)fd;
    }
}

folio_status folio_server_auto_endpoints(struct folio_server *srv)
{
    const struct folio_schema *s = folio_db_schema(srv->db);
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
        if (taken)
            continue;
        struct folio_endpoint *ep = &eps[srv->nendpoints];
        st = path.data ? folio_endpoint_init(ep, &s->tables[t], path.data) : FOLIO_ENOMEM;
        if (st != FOLIO_OK)
            break;
        srv->nendpoints++;
        folio_endpoint_all_columns(ep);
        for (size_t k = 0; k < s->tables[t].npk_declared; k++)
            folio_sort_append(&ep->default_sort, s->tables[t].pk_declared[k]);
        ep->default_per_page = srv->cfg.default_per_page;
        ep->max_per_page = srv->cfg.max_per_page;
        ep->default_count = srv->cfg.default_count;
        ep->prefetch = srv->cfg.prefetch;
    }
    folio_buf_clear(&path);
    return st;
}

void folio_server_stop(struct folio_server *srv)
{
    if (srv->daemon != NULL)
        MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
    if (srv->quiesced_fd >= 0) /* handed back by MHD_quiesce_daemon(): ours to close */
        close(srv->quiesced_fd);
    srv->quiesced_fd = -1;
    folio_prefetch_free(srv->prefetch);
    srv->prefetch = NULL;
    folio_accesslog_free(srv->accesslog);
    srv->accesslog = NULL;
    if (srv->accesslog_fd >= 0)
        close(srv->accesslog_fd);
    srv->accesslog_fd = -1;
    folio_ratelimit_free(srv->ratelimit);
    srv->ratelimit = NULL;
    folio_dirlist_cache_free(srv->dircache);
    srv->dircache = NULL;
    if (srv->files_root_fd >= 0)
        close(srv->files_root_fd);
    srv->files_root_fd = -1;
    folio_keyring_clear(&srv->keyring);
    for (size_t i = 0; i < srv->nendpoints; i++)
        folio_endpoint_clear(&srv->endpoints[i]);
    folio_free(srv->endpoints);
    srv->endpoints = NULL;
    srv->nendpoints = 0;
}
