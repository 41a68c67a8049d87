/* Cached exact totals and estimates: see count.h. */
#include "engine/count.h"

#include <string.h>

#define COUNT_SLOTS 64
#define MAX_FILTER_PARAMS (FOLIO_FILTER_MAX * 4 + FOLIO_FILTER_MAX_VALUES + 4)

struct count_entry {
    uint8_t key[FOLIO_CURSOR_FINGERPRINT_BYTES];
    uint64_t version;
    int64_t count;
    uint64_t used;
    bool valid;
};

/* Per engine, like the connection whose data version it trusts. */
struct folio__counts {
    struct count_entry slots[COUNT_SLOTS];
    uint64_t clock;
};

struct folio__counts *folio__counts_new(void)
{
    return folio_calloc(1, sizeof(struct folio__counts));
}

void folio__counts_free(struct folio__counts *c)
{
    folio_free(c);
}

static int count_row(void *ctx, const struct folio_db_row *row)
{
    struct folio_value v;
    folio__db_row_value(row, 0, &v);
    *(int64_t *)ctx = v.type == FOLIO_VALUE_INT ? v.i : 0;
    return 1;
}

/* " WHERE <filters>" for spec, or nothing; params numbered from *io_param. */
static folio_status filter_where(const struct folio_engine *e, struct folio_buf *sql,
                                 const struct folio_page_spec *spec, struct folio_value *params,
                                 size_t max, int *io_param)
{
    if (spec->filters == NULL || spec->filters->n == 0)
        return FOLIO_OK;
    folio_status st = folio_buf_puts(sql, " WHERE ");
    if (st == FOLIO_OK)
        st = folio_filter_where_dialect(sql, spec->filters, spec->ep->table->sqls,
                                        folio__db_dialect(e->db), io_param, params, max);
    return st;
}

folio_status folio__count_exact(struct folio_engine *e, const struct folio_page_spec *spec,
                                uint64_t version, int64_t *out, struct folio_error *err)
{
    const struct folio_table *t = spec->ep->table;
    struct folio_buf *sql = &e->sql;
    struct folio_buf key;
    folio_buf_init(&key, 128 * 1024);
    folio_buf_append(&key, t->name, strlen(t->name) + 1);
    if (spec->filters)
        folio_filter_format(&key, spec->filters);
    uint8_t k[FOLIO_CURSOR_FINGERPRINT_BYTES];
    folio_cursor_fingerprint(key.data ? key.data : "", key.len, k);
    folio_buf_clear(&key);

    /* Without change detection nothing cached can be trusted: count every time. */
    bool cache = (e->caps & FOLIO_DB_CAP_DATA_VERSION) != 0;
    struct folio__counts *cc = e->counts;
    struct count_entry *victim = &cc->slots[0];
    for (size_t i = 0; cache && i < COUNT_SLOTS; i++) {
        struct count_entry *x = &cc->slots[i];
        if (x->valid && memcmp(x->key, k, sizeof k) == 0) {
            if (x->version == version) {
                x->used = ++cc->clock;
                *out = x->count;
                return FOLIO_OK;
            }
            victim = x;
            break;
        }
        if (!x->valid || x->used < victim->used)
            victim = x;
    }

    struct folio_value params[MAX_FILTER_PARAMS];
    int next = 1;
    folio_buf_reset(sql);
    folio_status st = folio_buf_printf(sql, "SELECT count(*) FROM %s", t->sql);
    if (st == FOLIO_OK)
        st = filter_where(e, sql, spec, params, MAX_FILTER_PARAMS, &next);
    int64_t n = 0;
    if (st == FOLIO_OK)
        st = folio__db_query(e->conn, sql->data, sql->len, params, (size_t)next - 1, count_row,
                             &n, err);
    if (st != FOLIO_OK)
        return err && err->status
                   ? err->status
                   : folio_error_set(err, st, FOLIO_KIND_INTERNAL, NULL, "count failed");
    if (cache) {
        *victim = (struct count_entry){.version = version, .count = n, .used = ++cc->clock,
                                       .valid = true};
        memcpy(victim->key, k, sizeof k);
    }
    *out = n;
    return FOLIO_OK;
}

static int first_value(void *ctx, const struct folio_db_row *row)
{
    folio__db_row_value(row, 0, ctx);
    return 1;
}

folio_status folio__count_estimate(struct folio_engine *e, const struct folio_page_spec *spec,
                                   struct folio_total *out, struct folio_error *err)
{
    const struct folio_table *t = spec->ep->table;
    struct folio_buf *sql = &e->sql;
    bool filtered = spec->filters && spec->filters->n > 0;
    int64_t limit = e->cfg.count_limit;
    int64_t est = 0;
    folio_status st;
    if (!filtered) {
        st = folio__db_estimate(e->conn, t, NULL, NULL, 0, &est, err);
        if (st == FOLIO_OK) {
            *out = (struct folio_total){FOLIO_TOTAL_ESTIMATE, est};
            return FOLIO_OK;
        }
        if (st != FOLIO_ENOTFOUND)
            return err && err->status ? err->status : st;
    }
    /* A count bounded by the limit: exact below it. */
    struct folio_value params[MAX_FILTER_PARAMS];
    int next = 1;
    const char *pfx = folio__db_param_style(e->db) == FOLIO_PARAM_DOLLAR ? "$" : "?";
    folio_buf_reset(sql);
    st = folio_buf_printf(sql, "SELECT count(*) FROM (SELECT 1 FROM %s", t->sql);
    size_t where_at = sql->len;
    if (st == FOLIO_OK)
        st = filter_where(e, sql, spec, params, MAX_FILTER_PARAMS - 1, &next);
    size_t where_end = sql->len;
    params[next - 1] = (struct folio_value){.type = FOLIO_VALUE_INT, .i = limit + 1};
    if (st == FOLIO_OK)
        st = folio_buf_printf(sql, " LIMIT %s%d) AS bounded", pfx, next);
    struct folio_value v = {0};
    if (st == FOLIO_OK)
        st = folio__db_query(e->conn, sql->data, sql->len, params, (size_t)next, first_value, &v,
                             err);
    if (st != FOLIO_OK)
        return err && err->status ? err->status : st;
    int64_t n = v.type == FOLIO_VALUE_INT ? v.i : 0;
    if (n <= limit) {
        *out = (struct folio_total){FOLIO_TOTAL_EXACT, n};
        return FOLIO_OK;
    }
    /* More than the bound: the backend's estimate of the filtered query, when it has one
     * that agrees there are more (a planner's guess below a count just seen is wrong). */
    *out = (struct folio_total){FOLIO_TOTAL_LOWER_BOUND, limit};
    if (!filtered)
        return FOLIO_OK;
    struct folio_buf w;
    folio_buf_init(&w, sql->max);
    st = folio_buf_append(&w, sql->data + where_at + 7, where_end - where_at - 7); /* " WHERE " */
    if (st == FOLIO_OK)
        st = folio__db_estimate(e->conn, t, w.data, params, (size_t)next - 1, &est, err);
    folio_buf_clear(&w);
    if (st == FOLIO_OK && est > limit)
        *out = (struct folio_total){FOLIO_TOTAL_ESTIMATE, est};
    else if (st != FOLIO_OK && st != FOLIO_ENOTFOUND && st != FOLIO_ENOMEM)
        return err && err->status ? err->status : st;
    return FOLIO_OK;
}
