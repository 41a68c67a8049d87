/* Prometheus text exposition: see metrics.h. */
#include "server/metrics.h"

#include <stdio.h>
#include <string.h>

#include "folio/json.h"

static const double bucket_le[FOLIO_METRICS_BUCKETS] = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
    0.01,    0.025,  0.05,    0.1,    0.25,  0.5,    1.0};

static const char *const class_label[FOLIO_SC_COUNT] = {"2xx", "3xx", "400", "404",
                                                        "429", "4xx", "5xx"};

void folio__metrics_request(struct folio_metrics *m, size_t route, int status, uint64_t micros)
{
    enum folio_status_class c;
    if (status < 300)
        c = FOLIO_SC_2XX;
    else if (status < 400)
        c = FOLIO_SC_3XX;
    else if (status == 400)
        c = FOLIO_SC_400;
    else if (status == 404)
        c = FOLIO_SC_404;
    else if (status == 429)
        c = FOLIO_SC_429;
    else if (status < 500)
        c = FOLIO_SC_4XX;
    else
        c = FOLIO_SC_5XX;
    if (route > FOLIO_METRICS_MAX_ROUTES)
        route = FOLIO_METRICS_MAX_ROUTES;
    atomic_fetch_add_explicit(&m->requests[route][c], 1, memory_order_relaxed);
    size_t b = 0;
    double secs = (double)micros / 1e6;
    while (b < FOLIO_METRICS_BUCKETS && secs > bucket_le[b])
        b++;
    atomic_fetch_add_explicit(&m->latency_bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_sum_us, micros, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_count, 1, memory_order_relaxed);
}

static uint64_t get(atomic_uint_fast64_t *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

static void counter(struct folio_buf *out, const char *name, const char *help, uint64_t v)
{
    folio_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
                     (unsigned long long)v);
}

static void gauge(struct folio_buf *out, const char *name, const char *help, int64_t v)
{
    folio_buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name,
                     (long long)v);
}

void folio__metrics_write(struct folio_metrics *m, struct folio_buf *out,
                          const char *const *route_names, size_t n)
{
    folio_buf_puts(out, "# HELP folio_http_requests_total HTTP requests by route and status.\n"
                        "# TYPE folio_http_requests_total counter\n");
    for (size_t r = 0; r <= FOLIO_METRICS_MAX_ROUTES; r++) {
        const char *name = r < n && r < FOLIO_METRICS_MAX_ROUTES ? route_names[r] : "other";
        if (r >= n && r < FOLIO_METRICS_MAX_ROUTES)
            continue;
        for (int c = 0; c < FOLIO_SC_COUNT; c++) {
            uint64_t v = get(&m->requests[r][c]);
            if (v == 0)
                continue;
            folio_buf_puts(out, "folio_http_requests_total{route=\"");
            folio_json_escape(out, name, strlen(name)); /* label escaping matches JSON's */
            folio_buf_printf(out, "\",status=\"%s\"} %llu\n", class_label[c],
                             (unsigned long long)v);
        }
    }
    folio_buf_puts(out, "# HELP folio_http_request_duration_seconds Time to answer a request.\n"
                        "# TYPE folio_http_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t b = 0; b <= FOLIO_METRICS_BUCKETS; b++) {
        cum += get(&m->latency_bucket[b]);
        if (b < FOLIO_METRICS_BUCKETS)
            folio_buf_printf(out, "folio_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                             bucket_le[b], (unsigned long long)cum);
        else
            folio_buf_printf(out,
                             "folio_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                             (unsigned long long)cum);
    }
    folio_buf_printf(out, "folio_http_request_duration_seconds_sum %.6f\n",
                     (double)get(&m->latency_sum_us) / 1e6);
    folio_buf_printf(out, "folio_http_request_duration_seconds_count %llu\n",
                     (unsigned long long)get(&m->latency_count));
    counter(out, "folio_rows_served_total", "Rows returned in pages.", get(&m->rows_served));
    counter(out, "folio_prefetch_hits_total", "Pages answered from the prefetch cache.",
            get(&m->prefetch_hits));
    counter(out, "folio_prefetch_misses_total", "Cacheable pages not found in the cache.",
            get(&m->prefetch_misses));
    counter(out, "folio_prefetch_started_total", "Next pages fetched in the background.",
            get(&m->prefetch_started));
    counter(out, "folio_prefetch_skipped_total", "Prefetches skipped because the pool was busy.",
            get(&m->prefetch_skipped));
    gauge(out, "folio_prefetch_cache_bytes", "Bytes held by the prefetch cache.",
          atomic_load_explicit(&m->cache_bytes, memory_order_relaxed));
    counter(out, "folio_rate_limited_total", "Requests refused with 429.", get(&m->rate_limited));
    counter(out, "folio_connections_refused_total",
            "Connections closed at once because max_connections were open.",
            get(&m->connections_refused));
    counter(out, "folio_overloaded_total",
            "Requests refused with 503 because the database worker queue was full.",
            get(&m->overloaded));
    gauge(out, "folio_open_connections", "Client connections open now.",
          atomic_load_explicit(&m->open_connections, memory_order_relaxed));
    counter(out, "folio_access_log_dropped_total", "Access log lines dropped (log too slow).",
            get(&m->log_dropped));
}
