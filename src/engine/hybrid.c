/* The sparse boundary index: see hybrid.h. */
#include "engine/hybrid.h"

#include <string.h>

#define MAX_INDEXES 32

/* One index: boundary i is the sort key of row i * STRIDE, serialised into `arena` at
 * offsets[i] (tag byte, then 8 bytes for numbers or a length-prefixed run of bytes). */
struct hindex {
    uint8_t key[FOLIO_CURSOR_FINGERPRINT_BYTES];
    uint64_t version;
    uint64_t used;
    bool valid;
    bool complete;  /* the scan reached the last row */
    int64_t total;  /* rows, when complete */
    size_t n;       /* boundaries */
    size_t cap;
    size_t *offsets;
    struct folio_buf arena;
};

/* Per engine: boundaries are only valid for the data version they were read at. */
struct folio__hybrid {
    struct hindex indexes[MAX_INDEXES];
    uint64_t clock;
    struct folio_value seek_vals[FOLIO_SORT_MAX]; /* spec->seek points here */
};

static size_t index_bytes(const struct hindex *x)
{
    return x->arena.cap + x->cap * sizeof(size_t);
}

static void index_drop(struct hindex *x)
{
    folio_buf_clear(&x->arena);
    folio_free(x->offsets);
    memset(x, 0, sizeof *x);
}

struct folio__hybrid *folio__hybrid_new(void)
{
    return folio_calloc(1, sizeof(struct folio__hybrid));
}

void folio__hybrid_reset(struct folio__hybrid *hx)
{
    for (size_t i = 0; hx != NULL && i < MAX_INDEXES; i++)
        index_drop(&hx->indexes[i]);
}

void folio__hybrid_free(struct folio__hybrid *hx)
{
    folio__hybrid_reset(hx);
    folio_free(hx);
}

static void decode(const struct hindex *x, size_t i, size_t nkeys, struct folio_value *out)
{
    const unsigned char *p = (const unsigned char *)x->arena.data + x->offsets[i];
    for (size_t k = 0; k < nkeys; k++) {
        struct folio_value *v = &out[k];
        memset(v, 0, sizeof *v);
        v->type = (enum folio_value_type)*p++;
        switch (v->type) {
        case FOLIO_VALUE_NULL: break;
        case FOLIO_VALUE_INT: memcpy(&v->i, p, 8); p += 8; break;
        case FOLIO_VALUE_REAL: memcpy(&v->d, p, 8); p += 8; break;
        default:
            memcpy(&v->len, p, sizeof v->len);
            p += sizeof v->len;
            v->s = (const char *)p;
            p += v->len;
        }
    }
}

struct extend {
    struct hindex *x;
    const struct folio_page_spec *spec;
    int64_t row;     /* rows seen in this scan */
    int64_t base;    /* absolute position of the scan's first row */
    folio_status st;
};

static int on_key_row(void *ctx, const struct folio_db_row *row)
{
    struct extend *e = ctx;
    int64_t pos = e->base + e->row++;
    if (pos % FOLIO_HYBRID_STRIDE != 0 || (size_t)(pos / FOLIO_HYBRID_STRIDE) < e->x->n)
        return 0;
    struct hindex *x = e->x;
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 64;
        size_t *o = folio_realloc(x->offsets, cap * sizeof *o);
        if (o == NULL) {
            e->st = FOLIO_ENOMEM;
            return 1;
        }
        x->offsets = o;
        x->cap = cap;
    }
    size_t start = x->arena.len;
    folio_status st = FOLIO_OK;
    for (size_t k = 0; k < e->spec->sort.n && st == FOLIO_OK; k++) {
        struct folio_value v;
        folio__db_row_value(row, k, &v);
        unsigned char tag = (unsigned char)v.type;
        st = folio_buf_append(&x->arena, &tag, 1);
        if (st != FOLIO_OK)
            break;
        if (v.type == FOLIO_VALUE_INT)
            st = folio_buf_append(&x->arena, &v.i, 8);
        else if (v.type == FOLIO_VALUE_REAL)
            st = folio_buf_append(&x->arena, &v.d, 8);
        else if (v.type != FOLIO_VALUE_NULL) {
            st = folio_buf_append(&x->arena, &v.len, sizeof v.len);
            if (st == FOLIO_OK)
                st = folio_buf_append(&x->arena, v.s, v.len);
        }
    }
    if (st != FOLIO_OK) {
        x->arena.len = start;
        e->st = st;
        return 1;
    }
    x->offsets[x->n++] = start;
    return 0;
}

/* Scan keys from the last boundary until boundary `want` exists or the rows end. */
static folio_status extend(struct folio_engine *eng, struct hindex *x,
                           const struct folio_page_spec *spec, size_t want,
                           struct folio_error *err)
{
    const struct folio_table *t = spec->ep->table;
    struct folio_buf *sql = &eng->sql;
    struct folio_value from[FOLIO_SORT_MAX];
    bool have_from = x->n > 0;
    if (have_from)
        decode(x, x->n - 1, spec->sort.n, from);
    /* The decoded values point into the arena, which grows during the scan: copy the
     * boundary's bytes aside first. */
    struct folio_buf hold;
    folio_buf_init(&hold, FOLIO_CURSOR_MAX_BYTES);
    for (size_t k = 0; have_from && k < spec->sort.n; k++)
        if (from[k].type == FOLIO_VALUE_TEXT || from[k].type == FOLIO_VALUE_BLOB) {
            size_t off = hold.len;
            if (folio_buf_append(&hold, from[k].s, from[k].len) != FOLIO_OK) {
                folio_buf_clear(&hold);
                return folio_error_set(err, FOLIO_ELIMIT, FOLIO_KIND_INPUT, "sort",
                                       "sort keys too large");
            }
            from[k].i = (int64_t)off;
        }
    for (size_t k = 0; have_from && k < spec->sort.n; k++)
        if (from[k].type == FOLIO_VALUE_TEXT || from[k].type == FOLIO_VALUE_BLOB)
            from[k].s = hold.data + from[k].i;

    const struct folio_sql_dialect *dialect = folio__db_dialect(eng->db);
    enum folio_param_style style = dialect->style;
    struct folio_value params[FOLIO_SORT_MAX + FOLIO_FILTER_MAX * 4 + FOLIO_FILTER_MAX_VALUES + 2];
    memset(params, 0, sizeof params);
    if (have_from)
        memcpy(params, from, spec->sort.n * sizeof *params);
    int next = (int)spec->sort.n + 1;

    folio_buf_reset(sql);
    folio_buf_puts(sql, "SELECT ");
    for (size_t k = 0; k < spec->sort.n; k++)
        folio_buf_printf(sql, "%s%s", k ? ", " : "", t->sqls[spec->sort.keys[k].column]);
    folio_buf_printf(sql, " FROM %s", t->sql);
    bool filtered = spec->filters && spec->filters->n > 0;
    folio_status st = FOLIO_OK;
    if (filtered || have_from)
        st = folio_buf_puts(sql, " WHERE ");
    if (st == FOLIO_OK && filtered)
        st = folio_filter_where_dialect(sql, spec->filters, t->sqls, dialect, &next, params,
                                        sizeof params / sizeof params[0] - 1);
    if (st == FOLIO_OK && filtered && have_from)
        st = folio_buf_puts(sql, " AND ");
    if (st == FOLIO_OK && have_from) {
        struct folio_keyset_spec ks = {&spec->sort, t->sqls, t->not_null, from, false, true, 1,
                                       style, (eng->caps & FOLIO_DB_CAP_NULLS_LARGE) != 0,
                                       (eng->caps & FOLIO_DB_CAP_ROW_VALUES) != 0};
        st = folio_keyset_where(sql, &ks);
    }
    if (st == FOLIO_OK)
        st = folio_buf_puts(sql, " ORDER BY ");
    if (st == FOLIO_OK)
        st = folio_keyset_order_by(sql, &spec->sort, t->sqls, false);
    int64_t base = have_from ? (int64_t)(x->n - 1) * FOLIO_HYBRID_STRIDE : 0;
    /* An absurd offset must not overflow the limit: past INT64_MAX / STRIDE boundaries the
     * scan simply runs to the last row (and then knows the total). */
    if (want > (size_t)(INT64_MAX / FOLIO_HYBRID_STRIDE) - 2)
        want = (size_t)(INT64_MAX / FOLIO_HYBRID_STRIDE) - 2;
    int64_t limit = ((int64_t)want + 1) * FOLIO_HYBRID_STRIDE - base + 1;
    params[next - 1] = (struct folio_value){.type = FOLIO_VALUE_INT, .i = limit};
    if (st == FOLIO_OK)
        st = folio_buf_printf(sql, " LIMIT %s%d", style == FOLIO_PARAM_DOLLAR ? "$" : "?",
                              next);
    if (st != FOLIO_OK) {
        folio_buf_clear(&hold);
        return folio_error_set(err, st, FOLIO_KIND_INTERNAL, NULL, "cannot build the index query");
    }
    struct extend e = {x, spec, 0, base, FOLIO_OK};
    st =
        folio__db_query(eng->conn, sql->data, sql->len, params, (size_t)next, on_key_row, &e, err);
    folio_buf_clear(&hold);
    if (st == FOLIO_OK)
        st = e.st;
    if (st != FOLIO_OK)
        return err && err->status ? err->status
                                  : folio_error_set(err, st, FOLIO_KIND_INTERNAL, NULL, "index");
    if (e.row < limit) {
        x->complete = true;
        x->total = base + e.row;
    }
    return FOLIO_OK;
}

static struct hindex *lookup(struct folio__hybrid *hx, const struct folio_page_spec *spec,
                             uint64_t version, bool create)
{
    struct hindex *indexes = hx->indexes;
    struct hindex *victim = &indexes[0];
    size_t bytes = 0;
    for (size_t i = 0; i < MAX_INDEXES; i++) {
        struct hindex *x = &indexes[i];
        if (x->valid && memcmp(x->key, spec->fp, sizeof x->key) == 0) {
            if (x->version != version) { /* the data changed: start again */
                index_drop(x);
                if (!create)
                    return NULL;
                x->valid = true;
                x->version = version;
                memcpy(x->key, spec->fp, sizeof x->key);
                folio_buf_init(&x->arena, FOLIO_HYBRID_MAX_BYTES);
            }
            x->used = ++hx->clock;
            return x;
        }
        bytes += index_bytes(x);
        if (!x->valid || x->used < victim->used)
            victim = x;
    }
    if (!create)
        return NULL;
    /* Evict least recently used indexes while over the memory bound. */
    while (bytes > FOLIO_HYBRID_MAX_BYTES / 2) {
        struct hindex *old = NULL;
        for (size_t i = 0; i < MAX_INDEXES; i++)
            if (indexes[i].valid && (old == NULL || indexes[i].used < old->used))
                old = &indexes[i];
        if (old == NULL)
            break;
        bytes -= index_bytes(old);
        index_drop(old);
        victim = old;
    }
    index_drop(victim);
    victim->valid = true;
    victim->version = version;
    victim->used = ++hx->clock;
    memcpy(victim->key, spec->fp, sizeof victim->key);
    folio_buf_init(&victim->arena, FOLIO_HYBRID_MAX_BYTES);
    return victim;
}

folio_status folio__hybrid_seek(struct folio_engine *e, struct folio_page_spec *spec,
                                uint64_t version, struct folio_error *err)
{
    spec->seek = NULL;
    spec->seek_offset = spec->offset;
    size_t b = (size_t)(spec->offset / FOLIO_HYBRID_STRIDE);
    if (b == 0)
        return FOLIO_OK;
    struct hindex *x = lookup(e->hybrid, spec, version, true);
    if (x->n <= b && !x->complete) {
        folio_status st = extend(e, x, spec, b, err);
        if (st == FOLIO_ELIMIT || st == FOLIO_ETOOBIG || st == FOLIO_ENOMEM) {
            index_drop(x); /* too big to keep: serve this page by plain OFFSET */
            return FOLIO_OK;
        }
        if (st != FOLIO_OK)
            return st;
    }
    if (b >= x->n)
        b = x->n ? x->n - 1 : 0;
    if (x->n == 0)
        return FOLIO_OK;
    decode(x, b, spec->sort.n, e->hybrid->seek_vals);
    spec->seek = e->hybrid->seek_vals;
    spec->seek_offset = spec->offset - (int64_t)b * FOLIO_HYBRID_STRIDE;
    return FOLIO_OK;
}

int64_t folio__hybrid_known_total(struct folio_engine *e, const struct folio_page_spec *spec,
                                  uint64_t version)
{
    struct hindex *x = lookup(e->hybrid, spec, version, false);
    return x != NULL && x->complete ? x->total : -1;
}
