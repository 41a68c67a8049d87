/* Page numbers at keyset speed: a sparse index of sort keys at every STRIDE-th row of a
 * query (table, sort, filters), built lazily, kept per engine (worker), bounded in
 * memory, dropped the moment the database's data version moves (used only when the
 * backend has FOLIO_DB_CAP_DATA_VERSION).
 *
 * An OFFSET o becomes "rows at or after boundary floor(o / STRIDE), OFFSET o % STRIDE":
 * an index seek plus fewer than STRIDE steps instead of o steps. Inside one read
 * transaction the result is exactly the rows LIMIT/OFFSET would return. */
#ifndef FOLIO_ENGINE_HYBRID_H
#define FOLIO_ENGINE_HYBRID_H

#include "engine/engine.h"

#define FOLIO_HYBRID_STRIDE 100
#define FOLIO_HYBRID_MAX_BYTES (16u << 20) /* per worker */

/* For spec (mode OFFSET), set spec->seek to the nearest boundary at or below the offset,
 * extending the index as needed. Must run inside a read transaction, with `version` the
 * connection's data version in it. Leaves spec->seek NULL when the offset is below one
 * stride (plain OFFSET is as cheap); past the last row it seeks to the last boundary with
 * the remainder in seek_offset, which yields the empty page. */
folio_status folio__hybrid_seek(struct folio_engine *e, struct folio_page_spec *spec,
                                uint64_t version, struct folio_error *err);

/* Rows in the query when the index has seen the end of them, else -1. */
int64_t folio__hybrid_known_total(struct folio_engine *e, const struct folio_page_spec *spec,
                                  uint64_t version);

/* The indexes of one engine; _reset drops every index and keeps the struct. */
struct folio__hybrid *folio__hybrid_new(void);
void folio__hybrid_reset(struct folio__hybrid *x);
void folio__hybrid_free(struct folio__hybrid *x);

#endif
