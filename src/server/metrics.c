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
#define WRITE_COUNTER(field, name, help) counter(out, name, help, get(&m->field))
#define WRITE_GAUGE(field, name, help)                                                     \
    gauge(out, name, help, atomic_load_explicit(&m->field, memory_order_relaxed))
#define WRITE(kind, field, name, help) WRITE_##kind(field, name, help);
    FOLIO_METRICS_LIST(WRITE)
#undef WRITE
#undef WRITE_GAUGE
#undef WRITE_COUNTER
}

static void add(atomic_uint_fast64_t *to, atomic_uint_fast64_t *from,
                atomic_uint_fast64_t *base)
{
    uint64_t d = get(from) - (base ? get(base) : 0);
    if (d != 0)
        atomic_fetch_add_explicit(to, d, memory_order_relaxed);
}

void folio__metrics_carry(struct folio_metrics *to, struct folio_metrics *from,
                          struct folio_metrics *base, const int map[FOLIO_METRICS_MAX_ROUTES + 1])
{
    for (size_t r = 0; r <= FOLIO_METRICS_MAX_ROUTES; r++)
        for (size_t c = 0; c < FOLIO_SC_COUNT; c++)
            add(&to->requests[map[r]][c], &from->requests[r][c],
                base ? &base->requests[r][c] : NULL);
    for (size_t b = 0; b <= FOLIO_METRICS_BUCKETS; b++)
        add(&to->latency_bucket[b], &from->latency_bucket[b],
            base ? &base->latency_bucket[b] : NULL);
    add(&to->latency_sum_us, &from->latency_sum_us, base ? &base->latency_sum_us : NULL);
    add(&to->latency_count, &from->latency_count, base ? &base->latency_count : NULL);
#define CARRY_COUNTER(field) add(&to->field, &from->field, base ? &base->field : NULL);
#define CARRY_GAUGE(field)
#define CARRY(kind, field, name, help) CARRY_##kind(field)
    FOLIO_METRICS_LIST(CARRY)
#undef CARRY
#undef CARRY_GAUGE
#undef CARRY_COUNTER
}

static void store(atomic_uint_fast64_t *to, atomic_uint_fast64_t *from)
{
    atomic_store_explicit(to, get(from), memory_order_relaxed);
}

void folio__metrics_copy(struct folio_metrics *to, struct folio_metrics *from)
{
    for (size_t r = 0; r <= FOLIO_METRICS_MAX_ROUTES; r++)
        for (size_t c = 0; c < FOLIO_SC_COUNT; c++)
            store(&to->requests[r][c], &from->requests[r][c]);
    for (size_t b = 0; b <= FOLIO_METRICS_BUCKETS; b++)
        store(&to->latency_bucket[b], &from->latency_bucket[b]);
    store(&to->latency_sum_us, &from->latency_sum_us);
    store(&to->latency_count, &from->latency_count);
#define COPY_COUNTER(field) store(&to->field, &from->field);
#define COPY_GAUGE(field)
#define COPY(kind, field, name, help) COPY_##kind(field)
    FOLIO_METRICS_LIST(COPY)
#undef COPY
#undef COPY_GAUGE
#undef COPY_COUNTER
}
