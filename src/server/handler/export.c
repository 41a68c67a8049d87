/* GET {endpoint}/export: see export.h for the threading model. */
#include "server/handler/export.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/auth.h"
#include "server/export.h"
#include "server/gzip.h"
#include "server/http.h"
#include "server/server.h"

#define RING_BYTES (1u << 20)   /* per export: what waits for the client */
#define BATCH_ROWS 1000         /* rows per query */
#define BATCH_BYTES (256u << 10) /* a batch ends early past this much output */
#define LOG_TARGET 1600

struct folio_export_stream {
    struct folio_export_stream *prev, *next; /* the server's list (xs->lock) */
    struct folio_exports *xs;
    struct folio_server *srv;
    struct MHD_Connection *conn;
    struct folio_conn *track;
    pthread_mutex_t lock; /* everything below but q, which the walk owns */
    pthread_cond_t cond;
    int refs;             /* the response and the walk */
    atomic_bool cancel;
    bool suspended;       /* the content reader suspended the connection: the walk resumes */
    bool walk_done, failed, eof_sent, gone;
    bool gzip, head;
    const char *why;      /* failed: for the access log */
    char *ring;
    size_t rpos, len;
    int64_t rows;
    uint64_t bytes, start_us;
    char client[64];
    char target[LOG_TARGET];
    struct folio_export_query q;
};

struct folio_exports {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct folio_export_stream *head;
    unsigned active;  /* streams alive (counted against the limits) */
    unsigned walking; /* walk threads running */
    bool stopping;
};

folio_status folio__exports_new(struct folio_exports **out)
{
    struct folio_exports *xs = folio_calloc(1, sizeof *xs);
    *out = xs;
    if (xs == NULL)
        return FOLIO_ENOMEM;
    pthread_mutex_init(&xs->lock, NULL);
    pthread_cond_init(&xs->changed, NULL);
    return FOLIO_OK;
}

void folio__exports_stop(struct folio_exports *xs)
{
    if (xs == NULL)
        return;
    pthread_mutex_lock(&xs->lock);
    xs->stopping = true;
    for (struct folio_export_stream *s = xs->head; s != NULL; s = s->next) {
        pthread_mutex_lock(&s->lock);
        atomic_store(&s->cancel, true);
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
    }
    while (xs->walking > 0)
        pthread_cond_wait(&xs->changed, &xs->lock);
    pthread_mutex_unlock(&xs->lock);
}

void folio__exports_free(struct folio_exports *xs)
{
    if (xs == NULL)
        return;
    folio__exports_stop(xs);
    pthread_cond_destroy(&xs->changed);
    pthread_mutex_destroy(&xs->lock);
    folio_free(xs);
}

int folio__export_route(const struct folio_server *srv, const char *path)
{
    static const char suffix[] = "/export";
    size_t len = strlen(path), k = sizeof suffix - 1;
    if (len <= k || strcmp(path + len - k, suffix) != 0)
        return -1;
    for (size_t i = 0; i < srv->nendpoints; i++) {
        const char *p = srv->endpoints[i].path;
        if (strlen(p) == len - k && memcmp(p, path, len - k) == 0)
            return (int)i;
    }
    return -1;
}

/* --- the stream's life ------------------------------------------------------------- */

static void stream_release(struct folio_export_stream *s)
{
    pthread_mutex_lock(&s->lock);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (!last)
        return;
    struct folio_exports *xs = s->xs;
    pthread_mutex_lock(&xs->lock);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        xs->head = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    xs->active--;
    atomic_fetch_sub_explicit(&s->srv->metrics.exports_running, 1, memory_order_relaxed);
    pthread_cond_broadcast(&xs->changed);
    pthread_mutex_unlock(&xs->lock);
    folio__export_query_clear(&s->q);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    folio_free(s->ring);
    folio_free(s);
}

/* Resume the connection if the content reader suspended it (call with s->lock held;
 * libmicrohttpd is called after it is released, see wake_done). */
static bool take_suspended(struct folio_export_stream *s)
{
    bool was = s->suspended;
    s->suspended = false;
    return was;
}

/* Append to the ring, waiting while it is full. false when cancelled. */
static bool push(struct folio_export_stream *s, const char *p, size_t n)
{
    while (n > 0) {
        pthread_mutex_lock(&s->lock);
        while (s->len == RING_BYTES && !atomic_load(&s->cancel))
            pthread_cond_wait(&s->cond, &s->lock);
        if (atomic_load(&s->cancel)) {
            pthread_mutex_unlock(&s->lock);
            return false;
        }
        size_t wpos = (s->rpos + s->len) % RING_BYTES;
        size_t room = RING_BYTES - s->len;
        size_t c = n < room ? n : room;
        size_t first = c < RING_BYTES - wpos ? c : RING_BYTES - wpos;
        memcpy(s->ring + wpos, p, first);
        memcpy(s->ring, p + first, c - first);
        s->len += c;
        p += c;
        n -= c;
        bool resume = take_suspended(s);
        pthread_mutex_unlock(&s->lock);
        /* Safe without the lock: a suspended connection is neither closed nor freed. */
        if (resume)
            MHD_resume_connection(s->conn);
    }
    return true;
}

static void *walk_main(void *arg)
{
    struct folio_export_stream *s = arg;
    struct folio_server *srv = s->srv;
    const struct folio_server_config *cfg = &srv->cfg;
    struct folio_error err = {0};
    folio_db_conn *conn = NULL;
    struct folio_export x;
    struct folio_gzip gz = {0};
    struct folio_buf zout;
    folio_buf_init(&zout, cfg->max_response_bytes + (1u << 20));
    struct folio_export_limits lim = {BATCH_ROWS,
                                      BATCH_BYTES,
                                      cfg->max_response_bytes,
                                      cfg->export_checkpoint_every,
                                      cfg->export_max_rows,
                                      cfg->cursor_ttl,
                                      cfg->query_timeout_ms};
    const char *why = NULL;
    bool begun = false; /* x needs folio__export_end */
    if (folio__db_connect(srv->db, &conn, &err) != FOLIO_OK) {
        why = "database";
    } else if (s->gzip && folio__gzip_init(&gz) != FOLIO_OK) {
        why = "memory";
    } else {
        begun = true;
        if (folio__export_begin(&x, &s->q, conn, folio__db_param_style(srv->db), &srv->keyring,
                                &lim, &s->cancel, &err) != FOLIO_OK)
            why = "database";
    }
    while (why == NULL && !x.done && !atomic_load(&s->cancel)) {
        if (folio__export_step(&x, &err) != FOLIO_OK) {
            why = err.status == FOLIO_ETIMEOUT ? "query timeout" : "query";
            break;
        }
        const char *data = x.out.data;
        size_t n = x.out.len;
        if (s->gzip) {
            folio_buf_reset(&zout);
            if (folio__gzip_write(&gz, x.out.data, x.out.len, x.done, &zout) != FOLIO_OK) {
                why = "memory";
                break;
            }
            data = zout.data;
            n = zout.len;
        }
        if (n > 0 && !push(s, data, n))
            break;
        folio_buf_reset(&x.out);
    }
    bool complete = begun && why == NULL && x.done;
    /* CSV and JSON have no place to say "cut short at max_rows": the transfer is cut
     * instead, so that a partial file never looks complete (NDJSON says "@more":true). */
    if (complete && x.more && s->q.format != FOLIO_EXPORT_NDJSON) {
        why = "max_export_rows";
        complete = false;
    }
    int64_t rows = begun ? x.rows : 0;
    if (begun)
        folio__export_end(&x);
    folio__gzip_clear(&gz);
    folio_buf_clear(&zout);
    folio__db_disconnect(conn);
    atomic_fetch_add_explicit(&srv->metrics.export_rows, (uint64_t)rows, memory_order_relaxed);

    pthread_mutex_lock(&s->lock);
    s->walk_done = true;
    s->rows = rows;
    s->failed = !complete;
    s->why = why;
    bool resume = take_suspended(s);
    pthread_mutex_unlock(&s->lock);
    if (resume)
        MHD_resume_connection(s->conn);

    /* The walk's reference goes before the walk is counted out: folio__exports_stop waits
     * for `walking` to reach 0 and then frees xs, which stream_release still uses. */
    struct folio_exports *xs = s->xs;
    stream_release(s);
    pthread_mutex_lock(&xs->lock);
    xs->walking--;
    pthread_cond_broadcast(&xs->changed);
    pthread_mutex_unlock(&xs->lock);
    return NULL;
}

/* --- libmicrohttpd's side ---------------------------------------------------------- */

static ssize_t read_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct folio_export_stream *s = cls;
    pthread_mutex_lock(&s->lock);
    if (s->len > 0) {
        size_t n = s->len < max ? s->len : max;
        size_t first = n < RING_BYTES - s->rpos ? n : RING_BYTES - s->rpos;
        memcpy(buf, s->ring + s->rpos, first);
        memcpy(buf + first, s->ring, n - first);
        s->rpos = (s->rpos + n) % RING_BYTES;
        s->len -= n;
        s->bytes += n;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
        /* The client took data: its clock restarts (a stalled reader is cut off). */
        folio__conntrack_streaming(s->track, true);
        return (ssize_t)n;
    }
    if (s->walk_done) {
        bool failed = s->failed;
        s->eof_sent = !failed;
        pthread_mutex_unlock(&s->lock);
        return failed ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
    }
    /* Nothing yet: park the connection until the walk has more (the pattern
     * libmicrohttpd documents for a content reader without data). */
    s->suspended = true;
    MHD_suspend_connection(s->conn);
    pthread_mutex_unlock(&s->lock);
    folio__conntrack_streaming(s->track, false);
    return 0;
}

static void log_end(struct folio_export_stream *s, const char *outcome)
{
    struct folio_server *srv = s->srv;
    if (srv->accesslog == NULL)
        return;
    char line[2048];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int n = snprintf(line, sizeof line, "%s %s EXPORT %s %s rows=%lld bytes=%llu %lluus%s%s",
                     when, s->client, s->target, outcome, (long long)s->rows,
                     (unsigned long long)s->bytes,
                     (unsigned long long)(folio__now_us() - s->start_us), s->why ? " " : "",
                     s->why ? s->why : "");
    if (n <= 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    folio__accesslog_line(srv->accesslog, line, len);
}

/* libmicrohttpd is done with the response: the transfer completed, or the client left. */
static void free_cb(void *cls)
{
    struct folio_export_stream *s = cls;
    struct folio_metrics *m = &s->srv->metrics;
    pthread_mutex_lock(&s->lock);
    s->gone = true;
    const char *outcome = s->head ? "head" : s->eof_sent ? "complete"
                                           : s->walk_done && s->failed ? "failed"
                                                                       : "aborted";
    if (!s->walk_done) {
        atomic_store(&s->cancel, true);
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    if (strcmp(outcome, "complete") == 0)
        atomic_fetch_add_explicit(&m->exports_completed, 1, memory_order_relaxed);
    else if (strcmp(outcome, "failed") == 0)
        atomic_fetch_add_explicit(&m->exports_failed, 1, memory_order_relaxed);
    else if (strcmp(outcome, "aborted") == 0)
        atomic_fetch_add_explicit(&m->exports_aborted, 1, memory_order_relaxed);
    log_end(s, outcome);
    stream_release(s);
}

struct MHD_Response *folio__export_response_new(struct folio_http *h)
{
    struct folio_export_stream *s = h->stream;
    h->stream = NULL;
    /* 32 KiB blocks: libmicrohttpd fills its send buffer (from the connection's pool)
     * with as much as fits. */
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, read_cb, s, free_cb);
    if (r == NULL) {
        s->refs = 2; /* walk never started: drop both */
        s->walk_done = true;
        stream_release(s);
        stream_release(s);
        return NULL;
    }
    s->refs = 2;
    s->head = strcmp(h->method, "HEAD") == 0;
    pthread_mutex_lock(&s->xs->lock);
    s->xs->walking++;
    pthread_mutex_unlock(&s->xs->lock);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    bool started = !s->head && pthread_create(&t, &attr, walk_main, s) == 0;
    pthread_attr_destroy(&attr);
    if (!started) {
        pthread_mutex_lock(&s->lock);
        s->walk_done = true;
        s->failed = !s->head;
        s->why = s->head ? NULL : "thread";
        s->refs--;
        pthread_mutex_unlock(&s->lock);
        pthread_mutex_lock(&s->xs->lock);
        s->xs->walking--;
        pthread_cond_broadcast(&s->xs->changed);
        pthread_mutex_unlock(&s->xs->lock);
    }
    return r;
}

void folio__export_stream_drop(struct folio_http *h)
{
    struct folio_export_stream *s = h->stream;
    h->stream = NULL;
    if (s == NULL)
        return;
    s->refs = 1;
    stream_release(s);
}

/* --- the handler ------------------------------------------------------------------- */

/* Register s against the limits: 0, or the HTTP status of the refusal. */
static int admit(struct folio_server *srv, struct folio_export_stream *s)
{
    struct folio_exports *xs = srv->exports;
    int refuse = 0;
    pthread_mutex_lock(&xs->lock);
    unsigned mine = 0;
    for (struct folio_export_stream *o = xs->head; o != NULL; o = o->next)
        mine += strcmp(o->client, s->client) == 0;
    if (xs->stopping || xs->active >= srv->cfg.export_max)
        refuse = 503;
    else if (mine >= srv->cfg.export_per_client)
        refuse = 429;
    if (refuse == 0) {
        s->next = xs->head;
        if (xs->head != NULL)
            xs->head->prev = s;
        xs->head = s;
        xs->active++;
    }
    pthread_mutex_unlock(&xs->lock);
    return refuse;
}

static void target_copy(struct folio_export_stream *s, const struct folio_http *h)
{
    int n = snprintf(s->target, sizeof s->target, "%.1000s", h->path);
    for (size_t i = 0; i < h->nparams && n > 0 && (size_t)n < sizeof s->target - 64; i++)
        n += snprintf(s->target + n, sizeof s->target - (size_t)n, "%c%.100s=%.200s",
                      i ? '&' : '?', h->params[i].key,
                      h->params[i].value ? h->params[i].value : "");
}

void folio__handle_export(struct folio_http *h, const struct folio_endpoint *ep)
{
    struct folio_server *srv = h->srv;
    struct folio_error err = {0};
    if (!ep->export_ok) {
        folio__problem(h, 403, "export-not-allowed", "Export not allowed",
                       "this endpoint does not allow exports (export = true in its "
                       "[[endpoint]] turns them on)",
                       NULL);
        return;
    }
    struct folio_export_stream *s = folio_calloc(1, sizeof *s);
    char *ring = folio_malloc(RING_BYTES);
    if (s == NULL || ring == NULL) {
        folio_free(s);
        folio_free(ring);
        folio__problem(h, 503, "overloaded", NULL, "out of memory", NULL);
        return;
    }
    s->ring = ring;
    s->srv = srv;
    s->xs = srv->exports;
    folio__export_query_init(&s->q);
    /* The tenant scope first, as on pages: an export never reads outside it. */
    if (folio__auth_scope_filters(h, ep, &s->q.filters, &err) != FOLIO_OK ||
        folio__export_query_parse(&s->q, ep, h->params, h->nparams, &srv->keyring, &err) !=
            FOLIO_OK) {
        folio__export_query_clear(&s->q);
        folio_free(s->ring);
        folio_free(s);
        folio__problem_from_error(h, &err);
        return;
    }
    snprintf(s->client, sizeof s->client, "%s", h->client);
    int refuse = admit(srv, s);
    if (refuse != 0) {
        folio__export_query_clear(&s->q);
        folio_free(s->ring);
        folio_free(s);
        folio__http_header_add(h, "Retry-After", "1");
        if (refuse == 429)
            folio__problem(h, 429, "too-many-exports", "Too many exports",
                           "this client already runs as many exports as the server allows "
                           "([export] per_client); retry when one has finished",
                           NULL);
        else
            folio__problem(h, 503, "overloaded", NULL,
                           "the server runs as many exports as it allows ([export] max); "
                           "retry shortly",
                           NULL);
        return;
    }
    atomic_fetch_add_explicit(&srv->metrics.exports_running, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&srv->metrics.exports_started, 1, memory_order_relaxed);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    atomic_init(&s->cancel, false);
    s->conn = h->conn;
    const union MHD_ConnectionInfo *ci =
        h->conn ? MHD_get_connection_info(h->conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
    s->track = ci != NULL ? ci->socket_context : NULL;
    s->start_us = h->start_us;
    s->gzip = srv->cfg.gzip &&
              folio__gzip_accepted(folio__http_request_header_list(h, "Accept-Encoding",
                                                                   &h->w->scratch));
    target_copy(s, h);
    h->stream = s;
    h->status = 200;
    h->content_type = folio__export_content_type(s->q.format);
    /* The file name: the table's name, kept to characters that need no quoting. */
    char name[160];
    size_t n = 0;
    for (const char *p = ep->table->name; *p && n < 100; p++)
        name[n++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                            (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'
                        ? *p
                        : '_';
    snprintf(name + n, sizeof name - n, ".%s",
             s->q.format == FOLIO_EXPORT_CSV ? "csv"
             : s->q.format == FOLIO_EXPORT_JSON ? "json"
                                                : "ndjson");
    char cd[200];
    snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", name);
    folio__http_header_add(h, "Content-Disposition", cd);
    folio__http_header_add(h, "Vary", "Accept-Encoding");
    folio__http_header_add(h, "Cache-Control", "no-store");
    if (s->gzip)
        folio__http_header_add(h, "Content-Encoding", "gzip");
}
