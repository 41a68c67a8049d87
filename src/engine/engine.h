/* The page engine's per-worker state: what one worker thread owns to fetch pages (its
 * database connection, SQL and row scratch buffers, the keyring and cursor ttl it signs
 * with, its totals cache and its hybrid index), in one struct passed explicitly.
 *
 * The engine knows nothing of HTTP: it takes a page spec (page.h) and returns rows (into a
 * JSON writer), a result (has_more, has_prev, boundary keys, the total, the plan) and a
 * status with a struct folio_error. Handlers turn that into headers and bodies.
 *
 * Layers: server (handlers) -> engine -> db, lib. Nothing here includes a server header
 * other than endpoint.h, the read-only description of what an endpoint exposes. */
#ifndef FOLIO_ENGINE_ENGINE_H
#define FOLIO_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "engine/page.h"
#include "folio/folio.h"

struct folio_engine_config {
    const struct folio_keyring *keyring; /* borrowed: signs and verifies cursors */
    uint64_t cursor_ttl;                 /* seconds, 0 = cursors never expire */
    bool hybrid;                         /* deep OFFSET pages through the boundary index */
    int64_t count_limit;                 /* bound of estimated counts of filtered queries */
    unsigned query_timeout_ms;           /* a page's queries together; 0 = no limit */
    bool explain;                        /* fill folio_page_result.plan */
    size_t max_rows_bytes;               /* scratch for backward pages (response bound) */
};

struct folio__counts; /* count.c */
struct folio__hybrid; /* hybrid.c */
struct folio__run;    /* page.c */

struct folio_engine {
    folio_db *db;
    folio_db_conn *conn;
    unsigned caps; /* folio__db_caps(db), read once */
    struct folio_engine_config cfg;
    struct folio_buf sql;     /* SQL text being built */
    struct folio_buf scratch; /* rows held back to be reversed (backward pages) */
    struct folio_buf plan;    /* the page query's plan, when cfg.explain */
    struct folio__counts *counts;
    struct folio__hybrid *hybrid;
    struct folio__run *run;
    struct folio_page_spec spec; /* a spec for the request this worker runs (8 KiB+) */
    /* The oldest change token of the page reads since the caller set it to UINT64_MAX;
     * 0 after a read without one. A cache shared between nodes keys a response by it
     * (server/cluster.c): the response holds data at least that new. */
    uint64_t version_min;
};

/* Set up `e` for one thread: connect to `db` (borrowed, must outlive e), allocate the
 * caches. FOLIO_ENOMEM, or the backend's connect status (FOLIO_EDB, FOLIO_EIO) with err
 * filled. On failure `e` holds nothing and needs no folio__engine_clear. The engine is
 * used by one thread at a time. */
folio_status folio__engine_init(struct folio_engine *e, folio_db *db,
                                const struct folio_engine_config *cfg, struct folio_error *err);
/* Disconnect and free what init allocated; `e` may then be initialised again. */
void folio__engine_clear(struct folio_engine *e);

/* Fetch a page and, when `mode` asks, its total, in one read transaction (one snapshot),
 * through the hybrid index for deep OFFSET pages, all within cfg.query_timeout_ms. `j` is
 * positioned inside the rows array. Returns FOLIO_OK; FOLIO_ETIMEOUT (err: transient);
 * FOLIO_EDB and other statuses with err filled. res->plan is set when cfg.explain. */
folio_status folio__page_fetch(struct folio_engine *e, struct folio_page_spec *spec,
                               struct folio_json *j, enum folio_count mode,
                               struct folio_page_result *res, struct folio_total *total,
                               struct folio_error *err);

#endif
