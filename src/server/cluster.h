/* State shared by several folio nodes, in Redis ([cluster] redis = "redis://HOST:PORT"):
 * rate limits that hold for a client over all nodes together, and a page cache that any
 * node fills and any node serves (docs/scaling.md).
 *
 * Each worker (struct folio_worker) owns one struct folio_redis: one hiredis connection,
 * used by that thread alone, no lock. Every connect and every command waits at most
 * timeout_ms; a failure drops the connection, which is made again on a later call after a
 * back-off (doubling from BACKOFF_MIN_MS to BACKOFF_MAX_MS); meanwhile calls fail at once
 * without touching the network. So no call blocks a worker longer than the timeout (twice
 * it for the one call that both connects and runs a command). Failures are counted in
 * /metrics (folio_redis_errors_total) and the first of a run is logged on stderr.
 *
 * When Redis fails, the page cache fails open (the page is read from the database) and
 * rate limits do what `fail` says: "open" takes the node's own bucket instead, "closed"
 * refuses the request with 503. */
#ifndef FOLIO_SERVER_CLUSTER_H
#define FOLIO_SERVER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/status.h"
#include "server/metrics.h"
#include "server/ratelimit.h"

#define FOLIO_CLUSTER_URL_MAX 256

struct folio_cluster_config {
    char redis[FOLIO_CLUSTER_URL_MAX]; /* "" = no Redis: everything stays node-local */
    unsigned timeout_ms;               /* connect and each command; default 10 */
    bool fail_closed;                  /* limits when Redis fails: 503 instead of local */
    bool limits;                       /* shared rate limits (default true) */
    bool cache;                        /* shared page cache (default true) */
};

void folio__cluster_config_defaults(struct folio_cluster_config *cfg);
/* Check `url` ("redis://HOST[:PORT]"); false with a reason in why[0..n). */
bool folio__cluster_url_ok(const char *url, char *why, size_t n);

struct folio_redis;
struct folio_http;

/* A worker's Redis client (no connection yet: made on first use). `cfg` and `m` are
 * borrowed and outlive it. FOLIO_ENOMEM. */
folio_status folio__redis_new(struct folio_redis **out, const struct folio_cluster_config *cfg,
                              struct folio_metrics *m);
void folio__redis_free(struct folio_redis *r);

/* Take one token for `client` in bucket family `scope` (as folio__ratelimit_take) from
 * the bucket shared by every node: one Lua script (GCRA on Redis's clock), run by
 * EVALSHA, by EVAL when Redis answers NOSCRIPT. FOLIO_OK with *out filled, or FOLIO_EIO
 * when Redis failed (counted; the caller applies [cluster] fail). */
folio_status folio__redis_ratelimit(struct folio_redis *r, const char *client, size_t len,
                                    uint32_t scope, double rate, unsigned burst,
                                    struct folio_ratelimit_result *out);

/* Serve `h` from the shared page cache: the entry for (`token`, `key`), a response some
 * node stored for the same URL from data at change token `token`. True when it was
 * served (counted as a shared cache hit); false on a miss or a failure (counted). */
bool folio__cluster_cache_serve(struct folio_redis *r, struct folio_http *h, uint64_t token,
                                const char *key, size_t key_len);
/* Store the response in `h` (200 only) under (`token`, `key`), with a TTL of at most
 * `ttl_ms` that also ends before the request's cursor expires and while the cursors the
 * page hands out keep half their life (`cursor_ttl` s). Failures are counted, not
 * reported. */
void folio__cluster_cache_store(struct folio_redis *r, const struct folio_http *h,
                                uint64_t token, const char *key, size_t key_len,
                                unsigned ttl_ms, uint64_t cursor_ttl);

#endif
