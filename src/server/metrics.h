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

struct folio_metrics {
    atomic_uint_fast64_t requests[FOLIO_METRICS_MAX_ROUTES + 1][FOLIO_SC_COUNT];
    atomic_uint_fast64_t latency_bucket[FOLIO_METRICS_BUCKETS + 1]; /* last = +Inf */
    atomic_uint_fast64_t latency_sum_us;
    atomic_uint_fast64_t latency_count;
    atomic_uint_fast64_t rows_served;
    atomic_uint_fast64_t prefetch_hits;
    atomic_uint_fast64_t prefetch_misses;
    atomic_uint_fast64_t prefetch_started;
    atomic_uint_fast64_t prefetch_skipped;
    atomic_int_fast64_t cache_bytes;
    atomic_uint_fast64_t rate_limited;
    atomic_int_fast64_t open_connections;
    atomic_uint_fast64_t connections_refused; /* beyond max_connections */
    atomic_uint_fast64_t overloaded;          /* 503: the worker queue was full */
    atomic_uint_fast64_t log_dropped;
};

/* Route index for metrics: 0..MAX_ROUTES-1 an endpoint, MAX_ROUTES everything else. */
void folio__metrics_request(struct folio_metrics *m, size_t route, int status, uint64_t micros);

/* Append the exposition text. `route_names[i]` labels route i (n of them). */
void folio__metrics_write(struct folio_metrics *m, struct folio_buf *out,
                          const char *const *route_names, size_t n);

#endif
