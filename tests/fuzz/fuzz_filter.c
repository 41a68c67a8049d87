/* Fuzz target: the filter parser (src/lib/filter.c) and its SQL. Input: byte 0 picks the
 * declared types of the four columns; the rest is lines "<c><op.argument>", where <c>
 * picks the column. Invariants (a violation traps):
 *  - a refused filter is a 400 naming the parameter, and leaves the set exactly as it was;
 *  - an accepted filter holds what the text said: the operator, one value per argument,
 *    TEXT values byte-equal to the argument ('*' read as '%' for like), INT / REAL values
 *    equal to the number written, and an in.(...) list that, written back with every item
 *    quoted, parses to the same values;
 *  - values stay intact while later filters grow the set's storage;
 *  - the WHERE text holds no user byte (sql_check.h) and binds exactly the values, in
 *    order, to $1..$n;
 *  - the canonical text does not depend on the order the filters were given in. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/filter.h"
#include "sql_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const type_names[] = {"INTEGER", "TEXT",       "REAL",   "",
                                         "NUMERIC", "VARCHAR(8)", "DOUBLE", "BLOB"};
static const char *const param_names[FUZZ_SQL_NCOLS] = {"id", "name", "price", "weird"};

#define MAX_LINES 24

struct snapshot {
    enum folio_value_type type;
    int64_t i;
    double d;
    char *s;
    size_t len;
};

static bool value_eq(const struct folio_value *a, const struct folio_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case FOLIO_VALUE_INT: return a->i == b->i;
    case FOLIO_VALUE_REAL: return a->d == b->d;
    case FOLIO_VALUE_NULL: return true;
    default: return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    }
}

/* The one argument of eq/neq/lt/lte/gt/gte/like, checked against its typed value. */
static void check_scalar(const struct folio_value *v, const char *arg, bool like)
{
    size_t len = strlen(arg);
    if (v->type == FOLIO_VALUE_TEXT) {
        if (v->len != len)
            __builtin_trap();
        for (size_t i = 0; i < len; i++)
            if (v->s[i] != (like && arg[i] == '*' ? '%' : arg[i]))
                __builtin_trap();
    } else if (like) {
        __builtin_trap(); /* like compares text */
    } else if (v->type == FOLIO_VALUE_INT) {
        errno = 0;
        char *end;
        long long want = strtoll(arg, &end, 10);
        if (*end != '\0' || errno != 0 || want != v->i || arg[0] == '+' || arg[0] == ' ')
            __builtin_trap();
    } else if (v->type == FOLIO_VALUE_REAL) {
        char *end;
        double want = strtod(arg, &end);
        if (*end != '\0' || want != v->d || !isfinite(v->d))
            __builtin_trap();
    } else {
        __builtin_trap();
    }
}

/* Write `f`'s values back as in.("a","b\"c",...) and parse that: the same values. */
static void check_list_round_trip(const struct folio_filter *f, int column, const char *type)
{
    struct folio_buf b;
    folio_buf_init(&b, 1 << 20);
    folio_buf_puts(&b, "in.(");
    for (size_t k = 0; k < f->nvalues; k++) {
        const struct folio_value *v = &f->values[k];
        if (k)
            folio_buf_putc(&b, ',');
        folio_buf_putc(&b, '"');
        if (v->type == FOLIO_VALUE_INT)
            folio_buf_printf(&b, "%lld", (long long)v->i);
        else if (v->type == FOLIO_VALUE_REAL)
            folio_buf_printf(&b, "%.17e", v->d); /* never reads as an integer */
        else
            for (size_t i = 0; i < v->len; i++) {
                if (v->s[i] == '"' || v->s[i] == '\\')
                    folio_buf_putc(&b, '\\');
                folio_buf_putc(&b, v->s[i]);
            }
        folio_buf_putc(&b, '"');
    }
    folio_buf_putc(&b, ')');
    if (b.data == NULL)
        __builtin_trap();
    static struct folio_filter_set again;
    folio_filter_set_init(&again);
    struct folio_error err;
    if (folio_filter_add(&again, column, type, "x", b.data, &err) != FOLIO_OK ||
        again.filters[0].nvalues != f->nvalues)
        __builtin_trap();
    for (size_t k = 0; k < f->nvalues; k++)
        if (!value_eq(&again.filters[0].values[k], &f->values[k]))
            __builtin_trap();
    folio_filter_set_clear(&again);
    folio_buf_clear(&b);
}

static void check_added(const struct folio_filter *f, int column, const char *value,
                        const char *type)
{
    const char *dot = strchr(value, '.');
    if (dot == NULL || f->column != column)
        __builtin_trap();
    size_t oplen = (size_t)(dot - value);
    const char *arg = dot + 1;
    static const char *const op_names[] = {"eq", "neq", "lt", "lte", "gt", "gte", "like"};
    switch (f->op) {
    case FOLIO_OP_IS_NULL:
    case FOLIO_OP_IS_NOT_NULL:
        if (oplen != 2 || memcmp(value, "is", 2) != 0 || f->nvalues != 0 ||
            strcmp(arg, f->op == FOLIO_OP_IS_NULL ? "null" : "not.null") != 0)
            __builtin_trap();
        break;
    case FOLIO_OP_IN:
        if (oplen != 2 || memcmp(value, "in", 2) != 0 || f->nvalues < 1 ||
            f->nvalues > FOLIO_FILTER_MAX_VALUES)
            __builtin_trap();
        check_list_round_trip(f, column, type);
        break;
    default:
        if ((unsigned)f->op >= sizeof op_names / sizeof op_names[0] ||
            strlen(op_names[f->op]) != oplen || memcmp(value, op_names[f->op], oplen) != 0 ||
            f->nvalues != 1)
            __builtin_trap();
        check_scalar(&f->values[0], arg, f->op == FOLIO_OP_LIKE);
    }
}

static void check_where(const struct folio_filter_set *fs)
{
    size_t total = 0;
    for (size_t i = 0; i < fs->n; i++)
        total += fs->filters[i].nvalues;
    static struct folio_value vals[FOLIO_FILTER_MAX * 4 + FOLIO_FILTER_MAX_VALUES];
    struct folio_buf b;
    folio_buf_init(&b, 1 << 20);
    int next = 1;
    if (folio_filter_where(&b, fs, fuzz_sql_columns, FOLIO_PARAM_DOLLAR, &next, vals,
                           sizeof vals / sizeof vals[0]) != FOLIO_OK)
        __builtin_trap(); /* the set can always hold what it accepted */
    struct fuzz_sql_stats st;
    fuzz_sql_check(b.data ? b.data : "", '$', &st);
    if ((size_t)st.placeholders != total || (size_t)(next - 1) != total ||
        (total && (st.min_param != 1 || (size_t)st.max_param != total)))
        __builtin_trap();
    size_t k = 0;
    for (size_t i = 0; i < fs->n; i++)
        for (size_t v = 0; v < fs->filters[i].nvalues; v++)
            if (!value_eq(&vals[k++], &fs->filters[i].values[v]))
                __builtin_trap();
    folio_buf_clear(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    const char *types[FUZZ_SQL_NCOLS];
    for (int c = 0; c < FUZZ_SQL_NCOLS; c++)
        types[c] = type_names[((data[0] >> (2 * c)) & 3) * 2 + (c & 1)];
    char *text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';

    static struct folio_filter_set fs;
    folio_filter_set_init(&fs);
    const char *lines[MAX_LINES];
    int cols[MAX_LINES];
    size_t nlines = 0;
    struct snapshot snap[FOLIO_FILTER_MAX * 4 + FOLIO_FILTER_MAX_VALUES];
    size_t nsnap = 0;
    for (char *p = text; p && *p && nlines < MAX_LINES;) {
        char *nl = strchr(p, '\n');
        if (nl == p) { /* an empty line: no column byte */
            p++;
            continue;
        }
        if (nl)
            *nl = '\0';
        int c = (unsigned char)*p % FUZZ_SQL_NCOLS;
        const char *value = p + 1;
        size_t n0 = fs.n, v0 = fs.nvalues, t0 = fs.text.len;
        struct folio_error err = {0};
        if (folio_filter_add(&fs, c, types[c], param_names[c], value, &err) != FOLIO_OK) {
            if (fs.n != n0 || fs.nvalues != v0 || fs.text.len != t0 ||
                err.kind != FOLIO_KIND_INPUT || strcmp(err.param, param_names[c]) != 0)
                __builtin_trap();
        } else {
            if (fs.n != n0 + 1)
                __builtin_trap();
            check_added(&fs.filters[n0], c, value, types[c]);
            lines[nlines] = value;
            cols[nlines++] = c;
            for (size_t k = v0; k < fs.nvalues; k++) {
                const struct folio_value *v = &fs.values[k];
                snap[nsnap] = (struct snapshot){v->type, v->i, v->d, NULL, v->len};
                if (v->type == FOLIO_VALUE_TEXT) {
                    snap[nsnap].s = malloc(v->len + 1);
                    if (snap[nsnap].s == NULL)
                        __builtin_trap();
                    memcpy(snap[nsnap].s, v->s, v->len);
                }
                nsnap++;
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    /* Every value still reads as it did when its filter was added. */
    if (nsnap != fs.nvalues)
        __builtin_trap();
    for (size_t k = 0; k < nsnap; k++) {
        const struct folio_value *v = &fs.values[k];
        if (v->type != snap[k].type ||
            (v->type == FOLIO_VALUE_TEXT &&
             (v->len != snap[k].len || memcmp(v->s, snap[k].s, v->len) != 0)) ||
            (v->type == FOLIO_VALUE_INT && v->i != snap[k].i) ||
            (v->type == FOLIO_VALUE_REAL && v->d != snap[k].d))
            __builtin_trap();
        free(snap[k].s);
    }
    check_where(&fs);

    /* The same filters given in the reverse order have the same canonical text, unless two
     * share column and operator (then their order is part of the text). */
    bool distinct = true;
    for (size_t i = 0; i < fs.n; i++)
        for (size_t j = i + 1; j < fs.n; j++)
            if (fs.filters[i].column == fs.filters[j].column &&
                fs.filters[i].op == fs.filters[j].op)
                distinct = false;
    if (distinct) {
        static struct folio_filter_set rev;
        folio_filter_set_init(&rev);
        for (size_t i = nlines; i-- > 0;)
            if (folio_filter_add(&rev, cols[i], types[cols[i]], "x", lines[i], NULL) != FOLIO_OK)
                __builtin_trap();
        struct folio_buf a, b;
        folio_buf_init(&a, 1 << 20);
        folio_buf_init(&b, 1 << 20);
        if (folio_filter_format(&a, &fs) != FOLIO_OK || folio_filter_format(&b, &rev) != FOLIO_OK ||
            a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
            __builtin_trap();
        folio_buf_clear(&a);
        folio_buf_clear(&b);
        folio_filter_set_clear(&rev);
    }
    folio_filter_set_clear(&fs);
    free(text);
    return 0;
}
