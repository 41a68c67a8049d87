/* Row totals for a page's query (table + filters), cached per worker connection and
 * reused until the database changes (the connection's data version moves). */
#ifndef FOLIO_SERVER_COUNT_H
#define FOLIO_SERVER_COUNT_H

#include "server/page.h"

/* Forget the calling thread's cached totals (its connection is going away: data versions
 * of another connection are not comparable). */
void folio__count_thread_clear(void);

/* The exact number of rows matching spec's table and filters. Call it inside the same
 * read transaction as the page query to get the page's snapshot. */
folio_status folio__count_exact(struct folio_http *h, const struct folio_page_spec *spec,
                                int64_t *out, struct folio_error *err);

enum folio_total_kind {
    FOLIO_TOTAL_NONE,
    FOLIO_TOTAL_EXACT,
    FOLIO_TOTAL_ESTIMATE,
    FOLIO_TOTAL_LOWER_BOUND, /* "at least this many": a bounded count hit its limit */
};

struct folio_total {
    enum folio_total_kind kind;
    int64_t value;
};

/* A cheap estimate: for a table keyed by one integer, max - min of the key (two index
 * lookups); otherwise, and whenever filters apply, a count bounded by `limit`
 * (FOLIO_TOTAL_LOWER_BOUND when it is reached). */
folio_status folio__count_estimate(struct folio_http *h, const struct folio_page_spec *spec,
                                   int64_t limit, struct folio_total *out, struct folio_error *err);

/* Fetch a page and, when `mode` asks, its total, all in one read transaction (one
 * snapshot), using the hybrid index for deep OFFSET pages. `j` is positioned inside the
 * rows array. */
folio_status folio__page_fetch(struct folio_http *h, struct folio_page_spec *spec,
                               struct folio_json *j, enum folio_count mode,
                               struct folio_page_result *res, struct folio_total *total,
                               struct folio_error *err);
#endif
