/* The page engine's per-worker state and its one entry point for a page: see engine.h. */
#include "engine/engine.h"

#include <string.h>

#include "engine/count.h"
#include "engine/hybrid.h"

folio_status folio__engine_init(struct folio_engine *e, folio_db *db,
                                const struct folio_engine_config *cfg, struct folio_error *err)
{
    memset(e, 0, sizeof *e);
    e->db = db;
    e->cfg = *cfg;
    e->caps = folio__db_caps(db);
    folio_status st = folio__db_connect(db, &e->conn, err);
    if (st != FOLIO_OK) {
        e->conn = NULL;
        return st;
    }
    e->counts = folio__counts_new();
    e->hybrid = folio__hybrid_new();
    e->run = folio__run_new();
    if (e->counts == NULL || e->hybrid == NULL || e->run == NULL) {
        folio__engine_clear(e);
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL, "out of memory");
    }
    folio_buf_init(&e->sql, 64 * 1024);
    folio_buf_init(&e->scratch, cfg->max_rows_bytes);
    folio_buf_init(&e->plan, 64 * 1024);
    return FOLIO_OK;
}

void folio__engine_clear(struct folio_engine *e)
{
    folio__db_disconnect(e->conn);
    folio__counts_free(e->counts);
    folio__hybrid_free(e->hybrid);
    folio_free(e->run);
    folio_buf_clear(&e->sql);
    folio_buf_clear(&e->scratch);
    folio_buf_clear(&e->plan);
    memset(e, 0, sizeof *e);
}

static folio_status fetch_once(struct folio_engine *e, struct folio_page_spec *spec,
                               struct folio_json *j, enum folio_count mode,
                               struct folio_page_result *res, struct folio_total *total,
                               struct folio_error *err)
{
    /* The boundary index and the totals cache are only as good as the change detection
     * that invalidates them: a backend without it serves every page by the plain query. */
    bool versioned = (e->caps & FOLIO_DB_CAP_DATA_VERSION) != 0;
    bool hybrid = e->cfg.hybrid && versioned && spec->mode == FOLIO_MODE_OFFSET &&
                  spec->offset >= FOLIO_HYBRID_STRIDE;
    /* One read transaction for everything: the page, its probes and its total see one
     * snapshot (SQLite also takes its file lock once instead of once per statement). */
    bool txn = (e->caps & FOLIO_DB_CAP_SNAPSHOT) != 0;
    uint64_t version = 0;
    folio_status st = FOLIO_OK;
    *total = (struct folio_total){FOLIO_TOTAL_NONE, 0};
    res->plan = NULL;
    spec->seek = NULL;
    if (e->cfg.explain)
        folio_buf_reset(&e->plan);
    /* One time limit for all of it: the page, its probes, its total, the boundary index. */
    if (e->cfg.query_timeout_ms > 0)
        folio__db_deadline(e->conn, folio__db_now_ms() + e->cfg.query_timeout_ms);
    if (txn) {
        st = folio__db_begin_read(e->conn, err);
        if (st == FOLIO_OK && versioned)
            st = folio__db_data_version(e->conn, &version);
        if (st != FOLIO_OK) {
            folio__db_end_read(e->conn);
            folio__db_deadline(e->conn, 0);
            if (err != NULL && err->status != FOLIO_OK)
                return err->status;
            return folio_error_set(err, st, FOLIO_KIND_INTERNAL, NULL,
                                   "cannot start a read transaction");
        }
    }
    if (hybrid)
        st = folio__hybrid_seek(e, spec, version, err);
    if (st == FOLIO_OK)
        st = folio__page_run(e, spec, j, res, err);
    if (st == FOLIO_OK && mode == FOLIO_COUNT_EXACT) {
        int64_t known = hybrid ? folio__hybrid_known_total(e, spec, version) : -1;
        total->kind = FOLIO_TOTAL_EXACT;
        if (known >= 0)
            total->value = known;
        else
            st = folio__count_exact(e, spec, version, &total->value, err);
    } else if (st == FOLIO_OK && mode == FOLIO_COUNT_ESTIMATE) {
        st = folio__count_estimate(e, spec, total, err);
    }
    if (txn)
        folio__db_end_read(e->conn);
    folio__db_deadline(e->conn, 0);
    if (st == FOLIO_OK && e->cfg.explain && e->plan.data != NULL && e->plan.len > 0)
        res->plan = e->plan.data;
    if (st == FOLIO_OK && !(txn && versioned))
        e->version_min = 0;
    else if (st == FOLIO_OK && version < e->version_min)
        e->version_min = version;
    return st;
}

/* A read that failed because its source went away (a replica stopped mid-read) runs
 * again from the start on another source (db_replicas.c), its rows written anew: the
 * client sees one answer, not an error. Other backends never fail over. */
folio_status folio__page_fetch(struct folio_engine *e, struct folio_page_spec *spec,
                               struct folio_json *j, enum folio_count mode,
                               struct folio_page_result *res, struct folio_total *total,
                               struct folio_error *err)
{
    struct folio_json saved = *j;
    size_t saved_len = j->out->len;
    struct folio_error local = {0};
    if (err == NULL)
        err = &local;
    for (int attempt = 0;; attempt++) {
        folio_status st = fetch_once(e, spec, j, mode, res, total, err);
        if (st != FOLIO_EDB || err->kind != FOLIO_KIND_TRANSIENT || attempt >= 2 ||
            folio_buf_status(j->out) != FOLIO_OK || !folio__db_failover(e->conn))
            return st;
        *j = saved;
        j->out->len = saved_len;
        memset(err, 0, sizeof *err);
    }
}
