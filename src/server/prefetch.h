/* Next-page prefetch and the page cache it fills.
 *
 * When a page is served, the page its `next` link points to is fetched in the background
 * by a small pool of threads with their own database connections, into a bounded cache
 * (bytes, TTL, LRU). The same cache gives single-flight: while a page is being fetched,
 * requests for it wait for that fetch instead of querying again.
 *
 * Staleness: a change epoch moves whenever the database's data version, read on one
 * watcher connection shared by all threads (versions of different connections cannot be
 * compared), has changed since the last check. Every cache read checks first (so every
 * commit before that moment has moved the epoch) and serves an entry only when the entry
 * was fetched in the current epoch. An entry's epoch is read before its query, so it
 * never claims to be newer than its data. */
#ifndef FOLIO_SERVER_PREFETCH_H
#define FOLIO_SERVER_PREFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/http.h"
#include "server/metrics.h"

struct folio_prefetch;

/* What the pool needs from the server that owns it, given at creation so that prefetch
 * does not call up into the server or the router: the fetchers run requests through
 * `run`, on workers from `worker_new`. */
struct folio_prefetch_host {
    void *ctx;                     /* passed back to the callbacks (the server) */
    folio_db *db;                  /* the watcher connection's database */
    struct folio_metrics *metrics; /* prefetch and cache counters */
    uint64_t cursor_ttl;           /* seconds; see cursors_fresh in prefetch.c */
    struct folio_worker *(*worker_new)(void *ctx);
    void (*worker_free)(struct folio_worker *w);
    /* Answer h (method, path and params set, h->w a worker) as a request would be; false
     * when no endpoint serves h->path (nothing is stored). */
    bool (*run)(void *ctx, struct folio_http *h);
};

struct folio_prefetch_config {
    unsigned threads;   /* background fetchers (each with its own connection) */
    unsigned queue;     /* pending prefetches; more are skipped, never queued unbounded */
    size_t cache_bytes; /* bodies + headers + keys */
    unsigned ttl_ms;    /* an entry older than this is not served */
    unsigned wait_ms;   /* how long a request waits for a fetch in flight */
};

folio_status folio__prefetch_new(struct folio_prefetch **out, const struct folio_prefetch_host *host,
                                 const struct folio_prefetch_config *cfg);
/* Stop the fetchers (finishing the jobs they hold), drop the cache. */
void folio__prefetch_free(struct folio_prefetch *p);

/* The canonical cache key of a request: path, '?', the parameters in order, re-encoded
 * exactly as folio writes them into links. */
folio_status folio__prefetch_key(struct folio_buf *out, const char *path,
                                 const struct folio_param *params, size_t n);

/* What folio__prefetch_serve decided about a request it did not answer from the cache. */
struct folio_prefetch_ticket {
    uint64_t epoch;     /* read before the query */
    uint64_t token;     /* the change token the epoch was read with (0: cannot tell) */
    uint64_t hash;      /* of the key */
    uint64_t next_hash; /* of the cached page's next link (0: not known) */
    bool follow;        /* the request follows the next link of a page served lately */
    bool walk;          /* ... of a page that was itself a step of a walk */
    bool busy;          /* (nowait) another request is fetching the page: not served */
    bool nowait;        /* asked with nowait: the miss is counted when stored */
    bool keep;          /* the page will be kept when stored (asked for before, walked to) */
    uint64_t seen_prev; /* what the key's `seen` slot held before this request */
};

/* Serve `h` from the cache when a fresh entry exists (returns true: the response is
 * filled). Otherwise the caller owns the fetch of `key` and must call
 * folio__prefetch_store afterwards (the entry is marked in flight meanwhile, so that
 * identical requests wait for this one). The ticket's `token` is the database's change
 * token read for this check (0: cannot tell), the key of the shared cache (cluster.h). A
 * page is kept in the cache only when its key was asked for before (missed recently,
 * waited for by another request, or walked to): a page asked for once costs no copy and
 * evicts nothing. With `nowait` (a caller that must not block: an I/O thread), a page
 * another request is fetching is neither waited for nor fetched: false with out->busy
 * set, and nothing to store or abandon. */
bool folio__prefetch_serve(struct folio_prefetch *p, struct folio_http *h, const char *key,
                           size_t key_len, bool nowait, struct folio_prefetch_ticket *out);
/* Instead of folio__prefetch_store: the caller that got false (not busy) gives up its
 * fetch without an answer (it hands the request to another thread, which asks again).
 * The in-flight mark goes, waiters fetch it themselves. */
void folio__prefetch_abandon(struct folio_prefetch *p, const char *key, size_t key_len,
                             const struct folio_prefetch_ticket *t);
/* After a hit (folio__prefetch_serve returned true): keep h's compressed body (h->w->gz,
 * made for this response) with the entry, if it is still there and has none, so that
 * later hits by clients taking gzip send it as it is. */
void folio__prefetch_attach_gz(struct folio_prefetch *p, const struct folio_http *h,
                               const char *key, size_t key_len,
                               const struct folio_prefetch_ticket *t);
/* Store the response in `h` under `key` when it is to be kept (only 200 responses are);
 * in any case end the in-flight mark and wake waiters. */
void folio__prefetch_store(struct folio_prefetch *p, const struct folio_http *h, const char *key,
                           size_t key_len, const struct folio_prefetch_ticket *t);
/* After a page was served: queue the background fetch of its `next` link (h->next_url)
 * only when a client walks: the page was a prefetched one (the client followed a link
 * folio fetched ahead), or the request's key is the `next` link of a page served recently
 * that itself followed a link or was a first page (`walk` in the ticket: two steps, so
 * that one random request landing on the next page of another does not count), or the
 * page is a first page (h->first_page: where walks start). Otherwise nothing is fetched
 * (counted in prefetch_declined), and the next link is remembered, so that a client who
 * follows it is known to walk from then on. `t` is the ticket folio__prefetch_serve filled for this request (hit or miss). */
void folio__prefetch_next(struct folio_prefetch *p, const struct folio_http *h,
                          const struct folio_prefetch_ticket *t);
/* Queue a background fetch of the relative URL `url` (a `next` link) in `scope` (the
 * scope of the request that linked it: the page is fetched and cached as its own). */
void folio__prefetch_enqueue(struct folio_prefetch *p, const char *url,
                             const struct folio_scope *scope);

/* Check the database for a change and return the current epoch. `w` is unused (the check
 * runs on the watcher connection, under its own lock). */
uint64_t folio__prefetch_epoch(struct folio_prefetch *p, struct folio_worker *w);

#endif
