/* Fuzz target: query parameters through the request parser, the sort parser, the filter
 * parser and the SQL builders (filters, keyset predicate, ORDER BY), as a handler chains
 * them. The input is split into "key=value" pairs on '&'. Invariants (a violation traps):
 *  - the request parser accepts no repeated core parameter, and what it accepts is in
 *    range (1 <= per_page <= max, offset >= 0, a cursor only in cursor mode, non-empty);
 *  - a parsed sort formats to a spec that parses back to the same keys;
 *  - the generated SQL holds no user byte: only allowlisted column expressions, ?N
 *    placeholders and folio's own keywords and punctuation (sql_check.h);
 *  - every placeholder is numbered within the parameters bound, and each bound filter
 *    value is the filter's own value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "folio/filter.h"
#include "folio/request.h"
#include "folio/sort.h"
#include "sql_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sort and filter names; fuzz_sql_columns[] holds the SQL expression of each. */
static const char *const names[FUZZ_SQL_NCOLS] = {"id", "name", "price", "we\"ird"};
static const char *const types[FUZZ_SQL_NCOLS] = {"INTEGER", "TEXT", "REAL", ""};

static int column_of(const char *key)
{
    for (int c = 0; c < FUZZ_SQL_NCOLS; c++)
        if (strcmp(key, names[c]) == 0)
            return c;
    return -1;
}

/* As a handler does: filter columns are accepted (and parsed later), the rest refused. */
static folio_status accept(void *ctx, const struct folio_param *p, struct folio_error *err)
{
    (void)ctx;
    (void)err;
    return column_of(p->key) >= 0 ? FOLIO_OK : FOLIO_EUNKNOWN_PARAM;
}

static const char *const core[] = {"per_page", "limit",  "page", "offset",
                                   "after",    "before", "sort", "count"};

static bool core_repeated(const struct folio_param *params, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(params[i].key, params[j].key) == 0)
                for (size_t k = 0; k < sizeof core / sizeof core[0]; k++)
                    if (strcmp(params[i].key, core[k]) == 0)
                        return true;
    return false;
}

static void check_request(const struct folio_request *rq, const struct folio_param *params,
                          size_t n, const struct folio_request_limits *lim)
{
    if (core_repeated(params, n))
        __builtin_trap(); /* "a parameter given twice: 400" */
    if (rq->per_page < 1 || rq->per_page > lim->max_per_page || rq->offset < 0)
        __builtin_trap();
    bool cursor_mode = rq->mode == FOLIO_MODE_AFTER || rq->mode == FOLIO_MODE_BEFORE;
    if (cursor_mode != (rq->cursor != NULL) || (rq->cursor && *rq->cursor == '\0'))
        __builtin_trap();
    if (rq->mode == FOLIO_MODE_OFFSET && rq->page > 0 &&
        rq->offset != (rq->page - 1) * rq->per_page)
        __builtin_trap();
}

static void check_sql(const struct folio_buf *b, int first, int last)
{
    struct fuzz_sql_stats st;
    fuzz_sql_check(b->data ? b->data : "", '?', &st);
    if (st.placeholders && (st.min_param < first || st.max_param > last))
        __builtin_trap();
}

/* Keyset predicates over the sort with boundary values taken from the request's own
 * bytes (text that must never reach the SQL), a NULL and an integer. */
static void keyset(const struct folio_sort *s, const struct folio_param *params, size_t n)
{
    struct folio_value vals[FOLIO_SORT_MAX];
    for (size_t k = 0; k < s->n; k++) {
        const char *t = n ? params[k % n].key : "x";
        if (k % 3 == 1)
            vals[k] = (struct folio_value){.type = FOLIO_VALUE_NULL};
        else if (k % 3 == 2)
            vals[k] = (struct folio_value){.type = FOLIO_VALUE_INT, .i = (int64_t)k};
        else
            vals[k] = (struct folio_value){.type = FOLIO_VALUE_TEXT, .s = t, .len = strlen(t)};
    }
    static const bool not_null[FUZZ_SQL_NCOLS] = {true, false, false, true};
    for (int mode = 0; mode < 4; mode++) {
        struct folio_keyset_spec sp = {.sort = s,
                                       .columns = fuzz_sql_columns,
                                       .not_null = mode & 2 ? not_null : NULL,
                                       .values = vals,
                                       .backward = mode & 1,
                                       .inclusive = mode == 2,
                                       .first_param = 3,
                                       .style = FOLIO_PARAM_QNUM};
        struct folio_buf b;
        folio_buf_init(&b, 1 << 20);
        if (folio_keyset_where(&b, &sp) == FOLIO_OK)
            check_sql(&b, 3, 3 + (int)s->n - 1);
        folio_buf_reset(&b);
        if (folio_keyset_order_by(&b, s, fuzz_sql_columns, mode & 1) == FOLIO_OK)
            check_sql(&b, 1, 0);
        folio_buf_clear(&b);
    }
}

static void sort_round_trip(const struct folio_sort *s)
{
    struct folio_buf b;
    folio_buf_init(&b, 1 << 16);
    struct folio_sort again;
    if (folio_sort_format(&b, s, names) != FOLIO_OK || b.data == NULL ||
        folio_sort_parse(&again, b.data, names, FUZZ_SQL_NCOLS, NULL) != FOLIO_OK ||
        again.n != s->n)
        __builtin_trap();
    for (size_t k = 0; k < s->n; k++)
        if (again.keys[k].column != s->keys[k].column || again.keys[k].desc != s->keys[k].desc)
            __builtin_trap();
    folio_buf_clear(&b);
}

static bool same_value(const struct folio_value *a, const struct folio_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case FOLIO_VALUE_INT: return a->i == b->i;
    case FOLIO_VALUE_REAL: return memcmp(&a->d, &b->d, sizeof a->d) == 0;
    case FOLIO_VALUE_NULL: return true;
    default: return a->len == b->len && a->s == b->s;
    }
}

static void filters(const struct folio_param *params, size_t n)
{
    struct folio_filter_set fs;
    folio_filter_set_init(&fs);
    struct folio_error err;
    for (size_t i = 0; i < n; i++) {
        int c = column_of(params[i].key);
        if (c >= 0 &&
            folio_filter_add(&fs, c, types[c], params[i].key, params[i].value, &err) != FOLIO_OK)
            continue; /* refused filters are expected; the set must stay usable */
    }
    size_t total = 0;
    for (size_t i = 0; i < fs.n; i++)
        total += fs.filters[i].nvalues;
    struct folio_buf b;
    folio_buf_init(&b, 1 << 20);
    static struct folio_value vals[FOLIO_FILTER_MAX * 4 + FOLIO_FILTER_MAX_VALUES + 4];
    int next = 1;
    if (folio_filter_where(&b, &fs, fuzz_sql_columns, FOLIO_PARAM_QNUM, &next, vals,
                           sizeof vals / sizeof vals[0]) == FOLIO_OK) {
        struct fuzz_sql_stats st;
        fuzz_sql_check(b.data ? b.data : "", '?', &st);
        /* One placeholder per value, numbered 1..total in order, bound to that value. */
        if ((size_t)st.placeholders != total || (size_t)(next - 1) != total ||
            (total && (st.min_param != 1 || (size_t)st.max_param != total)))
            __builtin_trap();
        size_t k = 0;
        for (size_t i = 0; i < fs.n; i++)
            for (size_t v = 0; v < fs.filters[i].nvalues; v++)
                if (!same_value(&vals[k++], &fs.filters[i].values[v]))
                    __builtin_trap();
    }
    folio_buf_reset(&b);
    (void)folio_filter_format(&b, &fs);
    folio_buf_clear(&b);
    folio_filter_set_clear(&fs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct folio_param params[32];
    size_t n = 0;
    for (char *p = text; p && *p && n < 32;) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        char *eq = strchr(p, '=');
        if (eq)
            *eq++ = '\0';
        params[n++] = (struct folio_param){p, eq};
        p = amp ? amp + 1 : NULL;
    }
    struct folio_request rq;
    struct folio_request_limits lim = {20, 100};
    struct folio_error err;
    if (folio_request_parse(&rq, params, n, &lim, accept, NULL, &err) == FOLIO_OK) {
        check_request(&rq, params, n, &lim);
        struct folio_sort s;
        if (rq.sort && folio_sort_parse(&s, rq.sort, names, FUZZ_SQL_NCOLS, &err) == FOLIO_OK) {
            sort_round_trip(&s);
            keyset(&s, params, n);
        }
    } else if (err.kind != FOLIO_KIND_INPUT) {
        __builtin_trap(); /* every refusal is the input's fault (a 400) */
    }
    filters(params, n);
    free(text);
    return 0;
}
