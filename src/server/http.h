/* The server's per-request view, shared by the router and the handlers. A handler fills
 * the response (status, body, headers); server.c turns it into a libmicrohttpd response.
 * Everything here lives in the worker thread's reusable state: no allocation per request
 * beyond what libmicrohttpd itself does. */
#ifndef FOLIO_SERVER_HTTP_H
#define FOLIO_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "engine/engine.h"
#include "folio/filter.h"
#include "folio/folio.h"
#include "server/auth.h"

#define FOLIO_HTTP_MAX_PARAMS 64
#define FOLIO_HTTP_MAX_HEADERS 16
/* Response headers folio sends fit in this many bytes (see response_new in server.c); each
 * connection's memory pool keeps room for them next to the largest request accepted. */
#define FOLIO_HTTP_HEADER_BUDGET 8192

struct folio_server;
struct folio_export_stream;
struct MHD_Connection;

/* Per-thread state: the page engine (database connection, SQL scratch, caches) and the
 * HTTP side's reusable buffers. Each database worker thread (jobs.c) owns one for its
 * life; each libmicrohttpd thread has one for the requests it answers itself; each
 * prefetch fetcher has one. */
struct folio_worker {
    struct folio_server *srv;
    struct folio_engine engine;
    struct folio_buf body;    /* response body */
    struct folio_buf headers; /* header names and values, NUL-separated */
    struct folio_buf scratch; /* temporary text (problem types, header lists) */
    struct folio_buf links;   /* link URLs */
    struct folio_buf gz;      /* the body gzip-compressed, when folio_http.gz_ready */
    struct folio_buf key;     /* the request's page cache key */
    struct folio_filter_set filters; /* the current request's filters */
    struct folio_redis *redis; /* [cluster] redis: this thread's connection, or NULL */
    /* An I/O thread's pages tried inline (server.c: route_inline): the time attempts that
     * were handed over anyway took in the current window. */
    uint64_t inline_window_us, inline_lost_us;
};

/* A worker for the calling thread (request threads get theirs automatically). */
struct folio_worker *folio__worker_new(struct folio_server *srv, struct folio_error *err);
void folio__worker_free(struct folio_worker *w);

struct folio_http_header {
    size_t name, value; /* offsets into worker->headers */
};

struct folio_http {
    struct MHD_Connection *conn;
    struct folio_worker *w;
    struct folio_server *srv;
    const char *method;
    const char *path;
    size_t nparams;
    bool too_many_params;
    const char *nul_param; /* a parameter whose key or value holds a NUL byte */
    struct folio_param params[FOLIO_HTTP_MAX_PARAMS];
    int route;           /* endpoint index, or -1 */
    bool export;         /* the request is for {route's path}/export */
    struct folio_export_stream *stream; /* an export to stream instead of the body */
    bool gz_ready;       /* w->gz holds the current body compressed (the page cache's copy) */
    const char *next_url; /* the response's `next` link, for prefetch (or NULL) */
    bool first_page;      /* the response has no previous page: walks start here */
    int rows;             /* rows in the response, counted when it goes out */
    uint64_t cursor_expires; /* expiry of the request's cursor (unix s, 0 = none): a cached
                                response must not outlive it */
    uint64_t minted_expires; /* earliest expiry of the cursors this response hands out (unix
                                s, 0 = none): a cached copy is served only while they keep
                                at least half their ttl (prefetch.c) */
    uint64_t start_us;   /* monotonic clock when the request was first seen */
    char client[64];     /* the client's address (after trusted X-Forwarded-For) */
    struct folio_principal principal; /* who asked, and the scope it reads in (auth.h) */
    /* response */
    int status;
    const char *content_type;
    const void *body_static; /* when set, the body is these bytes (static, not copied)
                                instead of the worker's body buffer */
    size_t body_static_len;
    size_t nheaders;
    bool headers_lost; /* a header could not be added: the answer becomes a 500 problem */
    struct folio_http_header headers[FOLIO_HTTP_MAX_HEADERS];
};

/* Add a response header (copied). One that does not fit (too many headers, or the header
 * buffer failed, which stays failed) sets headers_lost: the response is then a 500
 * problem, never one missing a header silently. */
void folio__http_header_add(struct folio_http *h, const char *name, const char *value);
/* A request header's value, or NULL. */
const char *folio__http_request_header(struct folio_http *h, const char *name);
/* Every line of a request header, joined with ", " into `out` (reset first), as RFC 9110
 * section 5.3 says repeated list-valued fields combine; NULL when the header is absent
 * or `out` failed. */
const char *folio__http_request_header_list(struct folio_http *h, const char *name,
                                            struct folio_buf *out);

/* Fill the response with an RFC 9457 problem: `slug` becomes the type URI, `title` the
 * short summary; detail and param come from `err` when given. */
void folio__problem(struct folio_http *h, int status, const char *slug, const char *title,
                    const char *detail, const char *param);
/* The same with one extension member `ext_key: "ext_value"` (RFC 9457 section 3.2). */
void folio__problem_ext(struct folio_http *h, int status, const char *slug, const char *title,
                        const char *detail, const char *param, const char *ext_key,
                        const char *ext_value);
/* The problem for a libfolio status with its folio_error detail. */
void folio__problem_from_error(struct folio_http *h, const struct folio_error *err);
/* The HTTP status folio answers `err` with (the table in docs/internals/errors.md): the
 * library says what kind of failure it was, only the server speaks HTTP. Thread-safe. */
int folio__problem_status(const struct folio_error *err);

/* Handlers: one file each under handler/. */
void folio__handle_index(struct folio_http *h);
struct folio_endpoint;
void folio__handle_api(struct folio_http *h, const struct folio_endpoint *ep);
void folio__handle_tutorial(struct folio_http *h, const struct folio_endpoint *ep);
void folio__handle_files(struct folio_http *h, const char *relpath);
void folio__handle_export(struct folio_http *h, const struct folio_endpoint *ep);
/* The browser UI's embedded files under /ui/ (handler/ui.c): strong ETags, 304, gzip. */
void folio__handle_ui(struct folio_http *h);
/* GET /problems/{slug}: what a problem type means, as HTML or JSON (handler/problems.c). */
void folio__handle_problem_page(struct folio_http *h, const char *slug);
/* GET /openapi.json (handler/openapi.c, written by openapi.c). */
void folio__handle_openapi(struct folio_http *h);
/* Whether the request prefers HTML to JSON (a browser's navigation): its Accept header
 * gives text/html a higher q-value than any JSON type (or names no JSON type). */
bool folio__http_wants_html(struct folio_http *h);

/* Route one request to its handler. */
void folio__route(struct folio_http *h);
/* Whether folio__route(h) would run a handler that reads the database or the disk (those
 * run on the database workers); false for what is answered from memory. */
bool folio__route_needs_worker(const struct folio_http *h);
/* The endpoint serving `path`, or -1. */
int folio__route_find(const struct folio_server *srv, const char *path);

/* Around every request (ops.c): CORS, rate limits, then after the handler metrics and
 * the access log. folio__ops_before returns true when it answered the request itself. */
bool folio__ops_before(struct folio_http *h);
void folio__ops_after(struct folio_http *h);
void folio__handle_health(struct folio_http *h);
void folio__handle_metrics(struct folio_http *h);
uint64_t folio__now_us(void);

#endif
