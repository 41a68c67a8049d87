/* Cached exact totals: see count.h. */
#include "server/count.h"

#include <string.h>
#include <strings.h>

#include "server/hybrid.h"
#include "server/server.h"

#define COUNT_SLOTS 64

struct count_entry {
    uint8_t key[FOLIO_CURSOR_FINGERPRINT_BYTES];
    uint64_t version;
    int64_t count;
    uint64_t used;
    bool valid;
};

/* Per thread, like the connection whose data version it trusts: data versions are only
 * comparable within one connection. */
static _Thread_local struct count_entry cache[COUNT_SLOTS];
static _Thread_local uint64_t clock_;

void folio__count_thread_clear(void)
{
    memset(cache, 0, sizeof cache);
}

static int count_row(void *ctx, const struct folio_db_row *row)
{
    struct folio_value v;
    folio__db_row_value(row, 0, &v);
    *(int64_t *)ctx = v.type == FOLIO_VALUE_INT ? v.i : 0;
    return 1;
}

folio_status folio__count_exact(struct folio_http *h, const struct folio_page_spec *spec,
                                int64_t *out, struct folio_error *err)
{
    const struct folio_table *t = spec->ep->table;
    struct folio_buf *sql = &h->w->sql;
    struct folio_buf key;
    folio_buf_init(&key, 128 * 1024);
    folio_buf_append(&key, t->name, strlen(t->name) + 1);
    if (spec->filters)
        folio_filter_format(&key, spec->filters);
    uint8_t k[FOLIO_CURSOR_FINGERPRINT_BYTES];
    folio_cursor_fingerprint(key.data ? key.data : "", key.len, k);
    folio_buf_clear(&key);

    uint64_t version = 0;
    folio_status st = folio__db_data_version(h->w->conn, &version);
    if (st != FOLIO_OK)
        return folio_error_set(err, st, FOLIO_KIND_INTERNAL, NULL, "cannot read the data version");
    struct count_entry *victim = &cache[0];
    for (size_t i = 0; i < COUNT_SLOTS; i++) {
        struct count_entry *e = &cache[i];
        if (e->valid && memcmp(e->key, k, sizeof k) == 0) {
            if (e->version == version) {
                e->used = ++clock_;
                *out = e->count;
                return FOLIO_OK;
            }
            victim = e;
            break;
        }
        if (!e->valid || e->used < victim->used)
            victim = e;
    }

    struct folio_value params[FOLIO_FILTER_MAX * 4 + FOLIO_FILTER_MAX_VALUES + 4];
    int next = 1;
    folio_buf_reset(sql);
    st = folio_buf_printf(sql, "SELECT count(*) FROM %s", t->sql);
    if (st == FOLIO_OK && spec->filters && spec->filters->n > 0) {
        st = folio_buf_puts(sql, " WHERE ");
        if (st == FOLIO_OK)
            st = folio_filter_where(sql, spec->filters, t->sqls, folio__db_param_style(h->srv->db),
                                    &next, params, sizeof params / sizeof params[0]);
    }
    int64_t n = 0;
    if (st == FOLIO_OK)
        st = folio__db_query(h->w->conn, sql->data, sql->len, params, (size_t)next - 1, count_row,
                             &n, err);
    if (st != FOLIO_OK)
        return err && err->status
                   ? err->status
                   : folio_error_set(err, st, FOLIO_KIND_INTERNAL, NULL, "count failed");
    *victim = (struct count_entry){.version = version, .count = n, .used = ++clock_,
                                   .valid = true};
    memcpy(victim->key, k, sizeof k);
    *out = n;
    return FOLIO_OK;
}

static int first_value(void *ctx, const struct folio_db_row *row)
{
    folio__db_row_value(row, 0, ctx);
    return 1;
}

folio_status folio__count_estimate(struct folio_http *h, const struct folio_page_spec *spec,
                                   int64_t limit, struct folio_total *out, struct folio_error *err)
{
    const struct folio_table *t = spec->ep->table;
    struct folio_buf *sql = &h->w->sql;
    bool filtered = spec->filters && spec->filters->n > 0;
    struct folio_value v = {0};
    folio_status st;
    folio_buf_reset(sql);
    if (!filtered && t->npk == 1 && strcasecmp(t->cols[t->pk[0]].decl_type, "INTEGER") == 0) {
        const char *k = t->cols[t->pk[0]].sql;
        st = folio_buf_printf(sql,
                              "SELECT coalesce((SELECT max(%s) FROM %s) - (SELECT min(%s) FROM "
                              "%s) + 1, 0)",
                              k, t->sql, k, t->sql);
        if (st == FOLIO_OK)
            st = folio__db_query(h->w->conn, sql->data, sql->len, NULL, 0, first_value, &v, err);
        if (st != FOLIO_OK)
            return err && err->status ? err->status : st;
        *out = (struct folio_total){FOLIO_TOTAL_ESTIMATE, v.type == FOLIO_VALUE_INT ? v.i : 0};
        return FOLIO_OK;
    }
    struct folio_value params[FOLIO_FILTER_MAX * 4 + FOLIO_FILTER_MAX_VALUES + 4];
    int next = 1;
    st = folio_buf_printf(sql, "SELECT count(*) FROM (SELECT 1 FROM %s", t->sql);
    if (st == FOLIO_OK && filtered) {
        st = folio_buf_puts(sql, " WHERE ");
        if (st == FOLIO_OK)
            st = folio_filter_where(sql, spec->filters, t->sqls, folio__db_param_style(h->srv->db),
                                    &next, params, sizeof params / sizeof params[0] - 1);
    }
    params[next - 1] = (struct folio_value){.type = FOLIO_VALUE_INT, .i = limit + 1};
    if (st == FOLIO_OK)
        st = folio_buf_printf(sql, " LIMIT %s%d)",
                              folio__db_param_style(h->srv->db) == FOLIO_PARAM_DOLLAR ? "$" : "?",
                              next);
    if (st == FOLIO_OK)
        st = folio__db_query(h->w->conn, sql->data, sql->len, params, (size_t)next, first_value, &v,
                             err);
    if (st != FOLIO_OK)
        return err && err->status ? err->status : st;
    int64_t n = v.type == FOLIO_VALUE_INT ? v.i : 0;
    *out = n > limit ? (struct folio_total){FOLIO_TOTAL_LOWER_BOUND, limit}
                     : (struct folio_total){FOLIO_TOTAL_EXACT, n};
    return FOLIO_OK;
}

folio_status folio__page_fetch(struct folio_http *h, struct folio_page_spec *spec,
                               struct folio_json *j, enum folio_count mode,
                               struct folio_page_result *res, struct folio_total *total,
                               struct folio_error *err)
{
    const struct folio_server_config *cfg = &h->srv->cfg;
    bool hybrid = cfg->hybrid && spec->mode == FOLIO_MODE_OFFSET &&
                  spec->offset >= FOLIO_HYBRID_STRIDE;
    /* One read transaction for everything: the page, its probes and its total see one
     * snapshot, and SQLite takes its file lock once instead of once per statement. */
    bool txn = true;
    uint64_t version = 0;
    folio_status st = FOLIO_OK;
    *total = (struct folio_total){FOLIO_TOTAL_NONE, 0};
    spec->seek = NULL;
    if (txn) {
        st = folio__db_begin_read(h->w->conn);
        if (st == FOLIO_OK)
            st = folio__db_data_version(h->w->conn, &version);
        if (st != FOLIO_OK) {
            folio__db_end_read(h->w->conn);
            return folio_error_set(err, st, FOLIO_KIND_INTERNAL, NULL,
                                   "cannot start a read transaction");
        }
    }
    /* One time limit for all of it: the page, its probes, its total, the boundary index. */
    if (cfg->query_timeout_ms > 0)
        folio__db_deadline(h->w->conn, folio__db_now_ms() + cfg->query_timeout_ms);
    if (hybrid)
        st = folio__hybrid_seek(h, spec, version, err);
    if (st == FOLIO_OK)
        st = folio__page_run(h, spec, j, res, err);
    if (st == FOLIO_OK && mode == FOLIO_COUNT_EXACT) {
        int64_t known = hybrid ? folio__hybrid_known_total(spec, version) : -1;
        total->kind = FOLIO_TOTAL_EXACT;
        if (known >= 0)
            total->value = known;
        else
            st = folio__count_exact(h, spec, &total->value, err);
    } else if (st == FOLIO_OK && mode == FOLIO_COUNT_ESTIMATE) {
        st = folio__count_estimate(h, spec, cfg->count_limit, total, err);
    }
    folio__db_deadline(h->w->conn, 0);
    if (txn)
        folio__db_end_read(h->w->conn);
    return st;
}
