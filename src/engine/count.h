/* Row totals for a page's query (table + filters), cached per engine (worker) and reused
 * until the database changes (its data version moves). */
#ifndef FOLIO_ENGINE_COUNT_H
#define FOLIO_ENGINE_COUNT_H

#include "engine/engine.h"

/* The totals cache of one engine. */
struct folio__counts *folio__counts_new(void);
void folio__counts_free(struct folio__counts *c);

/* The exact number of rows matching spec's table and filters. Call it inside the same
 * read transaction as the page query to get the page's snapshot; `version` is the data
 * version read in that transaction (the cache is used only when the backend has
 * FOLIO_DB_CAP_DATA_VERSION). */
folio_status folio__count_exact(struct folio_engine *e, const struct folio_page_spec *spec,
                                uint64_t version, int64_t *out, struct folio_error *err);

/* A cheap estimate. Unfiltered: the backend's estimate (folio__db_estimate: SQLite max -
 * min of an integer key, PostgreSQL pg_class.reltuples) when it has one. Otherwise a
 * count bounded by cfg.count_limit: exact below it; at the bound, the backend's estimate
 * of the filtered query when it has one above the bound (PostgreSQL: the planner's),
 * else FOLIO_TOTAL_LOWER_BOUND. */
folio_status folio__count_estimate(struct folio_engine *e, const struct folio_page_spec *spec,
                                   struct folio_total *out, struct folio_error *err);
#endif
