/* Server metrics in the Prometheus text format. Counters are relaxed atomics: a request
 * adds to a few of them and never takes a lock. */
#ifndef FOLIO_SERVER_METRICS_H
#define FOLIO_SERVER_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/buf.h"

#define FOLIO_METRICS_MAX_ROUTES 64 /* endpoints beyond this share the "other" row */
#define FOLIO_METRICS_BUCKETS 14

enum folio_status_class { FOLIO_SC_2XX, FOLIO_SC_3XX, FOLIO_SC_400, FOLIO_SC_404,
                          FOLIO_SC_429, FOLIO_SC_4XX, FOLIO_SC_5XX, FOLIO_SC_COUNT };

/* Every metric besides the request counts and the latency histogram, in /metrics order:
 * X(kind, field, metric name, help). The one list the struct, the exposition and the
 * carrying of counters across a reload come from: a counter added here is carried too.
 * COUNTER only grows (atomic_uint_fast64_t); GAUGE is a level of one server
 * (atomic_int_fast64_t), never carried. */
#define FOLIO_METRICS_LIST(X)                                                              \
    X(COUNTER, rows_served, "folio_rows_served_total", "Rows returned in pages.")          \
    X(COUNTER, prefetch_hits, "folio_prefetch_hits_total",                                 \
      "Pages answered from the prefetch cache.")                                           \
    X(COUNTER, prefetch_misses, "folio_prefetch_misses_total",                             \
      "Cacheable pages not found in the cache.")                                           \
    X(COUNTER, prefetch_started, "folio_prefetch_started_total",                           \
      "Next pages fetched in the background.")                                             \
    X(COUNTER, prefetch_skipped, "folio_prefetch_skipped_total",                           \
      "Prefetches skipped because the pool was busy.")                                     \
    X(COUNTER, prefetch_declined, "folio_prefetch_declined_total",                         \
      "Next pages not prefetched: the request did not continue a walk.")                   \
    X(GAUGE, cache_bytes, "folio_prefetch_cache_bytes", "Bytes held by the prefetch cache.") \
    X(COUNTER, rate_limited, "folio_rate_limited_total", "Requests refused with 429.")     \
    X(COUNTER, connections_refused, "folio_connections_refused_total",                     \
      "Connections closed at once because max_connections were open.")                     \
    X(COUNTER, inline_pages, "folio_inline_pages_total",                                   \
      "Pages answered on an I/O thread within [server] inline_budget.")                    \
    X(COUNTER, inline_handovers, "folio_inline_handovers_total",                           \
      "Pages tried on an I/O thread, stopped at inline_budget and handed to a worker.")   \
    X(COUNTER, overloaded, "folio_overloaded_total",                                       \
      "Requests refused with 503 because the database worker queue was full.")             \
    X(GAUGE, open_connections, "folio_open_connections", "Client connections open now.")   \
    X(COUNTER, log_dropped, "folio_access_log_dropped_total",                              \
      "Access log lines dropped (log too slow).")                                          \
    X(COUNTER, exports_started, "folio_exports_started_total", "Exports that began streaming.") \
    X(COUNTER, exports_completed, "folio_exports_completed_total",                         \
      "Exports the client received completely.")                                           \
    X(COUNTER, exports_aborted, "folio_exports_aborted_total",                             \
      "Exports stopped because the client went away (or stalled and was cut off).")        \
    X(COUNTER, exports_failed, "folio_exports_failed_total",                               \
      "Exports cut short by the server (query error or timeout, max_export_rows in CSV or JSON).") \
    X(COUNTER, export_rows, "folio_export_rows_total", "Rows written by exports.")         \
    X(GAUGE, exports_running, "folio_exports_running", "Exports streaming now.")           \
    X(COUNTER, gzip_responses, "folio_gzip_responses_total",                               \
      "Buffered responses sent gzip-compressed.")                                          \
    X(COUNTER, gzip_compressions, "folio_gzip_compressions_total",                         \
      "Buffered response bodies compressed (a page cache hit reuses its stored copy).") \
    X(COUNTER, redis_errors, "folio_redis_errors_total",                                   \
      "Redis commands that failed or timed out (the cache fails open, limits as set).")    \
    X(COUNTER, redis_connects, "folio_redis_connects_total", "Connections made to Redis.") \
    X(COUNTER, shared_cache_hits, "folio_shared_cache_hits_total",                         \
      "Pages answered from the shared page cache in Redis.")                               \
    X(COUNTER, shared_cache_misses, "folio_shared_cache_misses_total",                     \
      "Cacheable pages not found in the shared page cache.")                               \
    X(COUNTER, shared_cache_stores, "folio_shared_cache_stores_total",                     \
      "Pages written to the shared page cache.")                                           \
    X(COUNTER, shared_limit_fallbacks, "folio_shared_rate_limit_fallbacks_total",          \
      "Rate limit decisions taken without Redis ([cluster] fail).")                        \
    X(GAUGE, db_failovers, "folio_db_failovers",                                           \
      "Reads moved to another replica or the primary after a failure (since start).")      \
    X(GAUGE, db_sources_healthy, "folio_db_sources_healthy",                               \
      "Database sources (primary and replicas) not marked down now.")

#define FOLIO__METRIC_TYPE_COUNTER atomic_uint_fast64_t
#define FOLIO__METRIC_TYPE_GAUGE atomic_int_fast64_t

struct folio_metrics {
    atomic_uint_fast64_t requests[FOLIO_METRICS_MAX_ROUTES + 1][FOLIO_SC_COUNT];
    atomic_uint_fast64_t latency_bucket[FOLIO_METRICS_BUCKETS + 1]; /* last = +Inf */
    atomic_uint_fast64_t latency_sum_us;
    atomic_uint_fast64_t latency_count;
#define FOLIO__METRIC_FIELD(kind, field, name, help) FOLIO__METRIC_TYPE_##kind field;
    FOLIO_METRICS_LIST(FOLIO__METRIC_FIELD)
#undef FOLIO__METRIC_FIELD
};

/* Route index for metrics: 0..MAX_ROUTES-1 an endpoint, MAX_ROUTES everything else. */
void folio__metrics_request(struct folio_metrics *m, size_t route, int status, uint64_t micros);

/* Append the exposition text. `route_names[i]` labels route i (n of them). */
void folio__metrics_write(struct folio_metrics *m, struct folio_buf *out,
                          const char *const *route_names, size_t n);

/* Add every counter of `from`, less the same counter in `base` (NULL: nothing), to `to`;
 * requests of route r go to route `map[r]` of `to`. Gauges are not touched. For a reload:
 * the new server continues the old one's counts. Not atomic as a whole (each counter is). */
void folio__metrics_carry(struct folio_metrics *to, struct folio_metrics *from,
                          struct folio_metrics *base, const int map[FOLIO_METRICS_MAX_ROUTES + 1]);

/* Store every counter of `from` into `to` (a snapshot; gauges are not touched). */
void folio__metrics_copy(struct folio_metrics *to, struct folio_metrics *from);

#endif
