/* Sort specifications and keyset predicates: see folio/sort.h. */
#include "folio/sort.h"

#include <string.h>

folio_status folio_sort_parse(struct folio_sort *out, const char *spec,
                              const char *const *columns, size_t ncols,
                              struct folio_error *err)
{
    out->n = 0;
    const char *p = spec;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool desc = false;
        if (len > 0 && *p == '-')
            desc = true, p++, len--;
        if (len == 0)
            return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, "sort",
                                   "sort has an empty column name");
        int found = -1;
        for (size_t i = 0; i < ncols; i++)
            if (strlen(columns[i]) == len && memcmp(columns[i], p, len) == 0)
                found = (int)i;
        if (found < 0)
            return folio_error_set(err, FOLIO_EUNKNOWN_COLUMN, FOLIO_KIND_INPUT, "sort",
                                   "sort names unknown column '%.*s'", (int)(len > 64 ? 64 : len),
                                   p);
        for (size_t k = 0; k < out->n; k++)
            if (out->keys[k].column == found)
                return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, "sort",
                                       "sort names column '%s' twice", columns[found]);
        if (out->n == FOLIO_SORT_MAX)
            return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, "sort",
                                   "sort has more than %d columns", FOLIO_SORT_MAX);
        out->keys[out->n++] = (struct folio_sort_key){found, desc};
        if (end == NULL)
            break;
        p = end + 1;
    }
    return FOLIO_OK;
}

folio_status folio_sort_append(struct folio_sort *s, int column)
{
    for (size_t k = 0; k < s->n; k++)
        if (s->keys[k].column == column)
            return FOLIO_OK;
    if (s->n == FOLIO_SORT_MAX)
        return FOLIO_ELIMIT;
    s->keys[s->n++] = (struct folio_sort_key){column, false};
    return FOLIO_OK;
}

folio_status folio_sort_format(struct folio_buf *out, const struct folio_sort *s,
                               const char *const *columns)
{
    folio_status st = FOLIO_OK;
    for (size_t k = 0; k < s->n && st == FOLIO_OK; k++) {
        if (k > 0)
            st = folio_buf_putc(out, ',');
        if (st == FOLIO_OK && s->keys[k].desc)
            st = folio_buf_putc(out, '-');
        if (st == FOLIO_OK)
            st = folio_buf_puts(out, columns[s->keys[k].column]);
    }
    return st;
}

/* The builder appends through these so that the first failure sticks in *st. */
#define APPENDF(st, out, ...)                                                            \
    do {                                                                                 \
        if (*(st) == FOLIO_OK)                                                           \
            *(st) = folio_buf_printf((out), __VA_ARGS__);                                \
    } while (0)

static void param(struct folio_buf *out, const struct folio_keyset_spec *sp, size_t k,
                  folio_status *st)
{
    APPENDF(st, out, sp->style == FOLIO_PARAM_DOLLAR ? "$%d" : "?%d",
            sp->first_param + (int)k);
}

enum cmp { CMP_GT, CMP_GE };

/* Append the condition "column k is after (GT) / at-or-after (GE) the boundary" in the
 * effective direction. Returns 1 when written, 0 when the condition is always true, -1
 * when it is always false (nothing written in those cases). */
static int key_cond(struct folio_buf *out, const struct folio_keyset_spec *sp, size_t k,
                    enum cmp cmp, folio_status *st)
{
    const struct folio_sort_key *key = &sp->sort->keys[k];
    const char *col = sp->columns[key->column];
    bool desc = key->desc != sp->backward;
    bool null_v = sp->values[k].type == FOLIO_VALUE_NULL;
    bool not_null = sp->not_null != NULL && sp->not_null[key->column];
    /* Where the NULL run lies in this walk: after every value when NULL is the smallest
     * and the walk descends, or when NULL is the largest and the walk ascends. */
    bool nulls_after = sp->nulls_large ? !desc : desc;

    if (null_v) {
        if (!nulls_after) {
            /* The NULL run comes first: every row is at or after it. */
            if (cmp == CMP_GE)
                return 0;
            APPENDF(st, out, "%s IS NOT NULL", col);
            return 1;
        }
        /* The NULL run comes last: nothing is after it but more NULLs. */
        if (cmp == CMP_GT)
            return -1;
        APPENDF(st, out, "%s IS NULL", col);
        return 1;
    }
    const char *op = desc ? (cmp == CMP_GT ? "<" : "<=") : (cmp == CMP_GT ? ">" : ">=");
    if (nulls_after && !not_null) {
        APPENDF(st, out, "(%s %s ", col, op);
        param(out, sp, k, st);
        APPENDF(st, out, " OR %s IS NULL)", col);
    } else {
        APPENDF(st, out, "%s %s ", col, op);
        param(out, sp, k, st);
    }
    return 1;
}

/* "(a, b) > ($1, $2)": possible when every key walks in one direction over NOT NULL
 * columns from non-NULL values; the comparison is then exactly the lexicographic order of
 * ORDER BY a, b (or a DESC, b DESC). Returns false when the form does not apply. */
static bool row_value_cond(struct folio_buf *out, const struct folio_keyset_spec *sp,
                           folio_status *st)
{
    if (!sp->row_values || sp->sort->n < 2 || sp->not_null == NULL)
        return false;
    bool desc0 = sp->sort->keys[0].desc;
    for (size_t k = 0; k < sp->sort->n; k++)
        if (sp->sort->keys[k].desc != desc0 || !sp->not_null[sp->sort->keys[k].column] ||
            sp->values[k].type == FOLIO_VALUE_NULL)
            return false;
    bool desc = desc0 != sp->backward;
    APPENDF(st, out, "(");
    for (size_t k = 0; k < sp->sort->n; k++)
        APPENDF(st, out, "%s%s", k ? ", " : "", sp->columns[sp->sort->keys[k].column]);
    APPENDF(st, out, ") %s (", desc ? (sp->inclusive ? "<=" : "<") : (sp->inclusive ? ">=" : ">"));
    for (size_t k = 0; k < sp->sort->n; k++) {
        if (k)
            APPENDF(st, out, ", ");
        param(out, sp, k, st);
    }
    APPENDF(st, out, ")");
    return true;
}

/* P(k) = GE(k) AND (GT(k) OR P(k+1)); P(last) = GT(last), or GE(last) when inclusive.
 * GE(k) AND NOT GT(k) is exactly "equal at k", which makes the nesting correct, and the
 * leading GE(0) gives the query planner a range on the first index column.
 * Returns 1 written, 0 always true, -1 always false. */
static int level(struct folio_buf *out, const struct folio_keyset_spec *sp, size_t k,
                 folio_status *st)
{
    size_t last = sp->sort->n - 1;
    if (k == last)
        return key_cond(out, sp, k, sp->inclusive ? CMP_GE : CMP_GT, st);

    /* Render the pieces separately, then combine with constant folding. */
    struct folio_buf ge, gt, rest;
    folio_buf_init(&ge, out->max);
    folio_buf_init(&gt, out->max);
    folio_buf_init(&rest, out->max);
    int r_ge = key_cond(&ge, sp, k, CMP_GE, st);
    int r_gt = key_cond(&gt, sp, k, CMP_GT, st);
    int r_rest = level(&rest, sp, k + 1, st);

    /* inner = GT OR REST */
    int r_inner;
    struct folio_buf inner;
    folio_buf_init(&inner, out->max);
    if (r_gt == 0 || r_rest == 0) {
        r_inner = 0;
    } else if (r_gt < 0 && r_rest < 0) {
        r_inner = -1;
    } else if (r_gt < 0) {
        r_inner = 1;
        APPENDF(st, &inner, "%s", rest.data);
    } else if (r_rest < 0) {
        r_inner = 1;
        APPENDF(st, &inner, "%s", gt.data);
    } else {
        r_inner = 1;
        APPENDF(st, &inner, "(%s OR %s)", gt.data, rest.data);
    }
    int r;
    if (r_ge < 0 || r_inner < 0) {
        r = -1;
    } else if (r_ge == 0 && r_inner == 0) {
        r = 0;
    } else if (r_ge == 0) {
        r = 1;
        APPENDF(st, out, "%s", inner.data);
    } else if (r_inner == 0) {
        r = 1;
        APPENDF(st, out, "%s", ge.data);
    } else {
        r = 1;
        APPENDF(st, out, "%s AND %s", ge.data, inner.data);
    }
    folio_buf_clear(&ge);
    folio_buf_clear(&gt);
    folio_buf_clear(&rest);
    folio_buf_clear(&inner);
    return r;
}

folio_status folio_keyset_where(struct folio_buf *out, const struct folio_keyset_spec *sp)
{
    if (sp->sort->n == 0)
        return folio_buf_puts(out, sp->inclusive ? "1" : "0");
    folio_status st = FOLIO_OK;
    if (row_value_cond(out, sp, &st))
        return st;
    int r = level(out, sp, 0, &st);
    if (r == 0)
        APPENDF(&st, out, "1");
    else if (r < 0)
        APPENDF(&st, out, "0");
    return st;
}

folio_status folio_keyset_order_by(struct folio_buf *out, const struct folio_sort *sort,
                                   const char *const *columns, bool backward)
{
    folio_status st = FOLIO_OK;
    for (size_t k = 0; k < sort->n && st == FOLIO_OK; k++) {
        bool desc = sort->keys[k].desc != backward;
        if (k)
            st = folio_buf_append(out, ", ", 2);
        if (st == FOLIO_OK)
            st = folio_buf_puts(out, columns[sort->keys[k].column]);
        if (st == FOLIO_OK)
            st = folio_buf_puts(out, desc ? " DESC" : " ASC");
    }
    return st;
}
