/* PostgREST-style filters: see folio/filter.h. */
#include "folio/filter.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "folio/request.h"

enum folio_affinity folio_affinity_of(const char *t)
{
    if (t == NULL || *t == '\0')
        return FOLIO_AFF_BLOB;
    if (strcasestr(t, "INT"))
        return FOLIO_AFF_INTEGER;
    if (strcasestr(t, "CHAR") || strcasestr(t, "CLOB") || strcasestr(t, "TEXT"))
        return FOLIO_AFF_TEXT;
    if (strcasestr(t, "BLOB"))
        return FOLIO_AFF_BLOB;
    if (strcasestr(t, "REAL") || strcasestr(t, "FLOA") || strcasestr(t, "DOUB"))
        return FOLIO_AFF_REAL;
    return FOLIO_AFF_NUMERIC;
}

void folio_filter_set_init(struct folio_filter_set *s)
{
    s->n = 0;
    s->nvalues = 0;
    folio_buf_init(&s->text, 64 * 1024);
}

void folio_filter_set_clear(struct folio_filter_set *s)
{
    folio_buf_clear(&s->text);
    s->n = 0;
    s->nvalues = 0;
}

static const struct {
    const char *name;
    enum folio_filter_op op;
} ops[] = {
    {"eq", FOLIO_OP_EQ},   {"neq", FOLIO_OP_NEQ}, {"lt", FOLIO_OP_LT},     {"lte", FOLIO_OP_LTE},
    {"gt", FOLIO_OP_GT},   {"gte", FOLIO_OP_GTE}, {"like", FOLIO_OP_LIKE}, {"in", FOLIO_OP_IN},
    {"is", FOLIO_OP_IS_NULL},
};

/* The text argument becomes a typed value: numeric columns compare with numbers. Text is
 * stored as an offset into s->text (which may move while growing) and fixed up later. */
static void typed_value(struct folio_value *v, enum folio_affinity aff, const char *s,
                        size_t len, size_t text_off)
{
    char tmp[64];
    if ((aff == FOLIO_AFF_INTEGER || aff == FOLIO_AFF_NUMERIC || aff == FOLIO_AFF_REAL) &&
        len > 0 && len < sizeof tmp) {
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        int64_t i;
        if (aff != FOLIO_AFF_REAL && folio_parse_int64(tmp, true, &i) == FOLIO_OK) {
            *v = (struct folio_value){.type = FOLIO_VALUE_INT, .i = i};
            return;
        }
        char *end;
        errno = 0;
        double d = strtod(tmp, &end);
        if (*end == '\0' && errno == 0 && isfinite(d) && tmp[0] != ' ' &&
            strpbrk(tmp, "xXnN") == NULL) {
            *v = (struct folio_value){.type = FOLIO_VALUE_REAL, .d = d};
            return;
        }
    }
    *v = (struct folio_value){.type = FOLIO_VALUE_TEXT, .i = (int64_t)text_off, .len = len};
}

static folio_status add_value(struct folio_filter_set *s, enum folio_affinity aff,
                              const char *p, size_t len, bool like)
{
    if (s->nvalues == sizeof s->values / sizeof s->values[0])
        return FOLIO_ELIMIT;
    size_t off = s->text.len;
    folio_status st = folio_buf_append(&s->text, p, len);
    if (st != FOLIO_OK)
        return st;
    if (like) /* PostgREST spells the LIKE wildcard '*', which needs no URL escaping */
        for (size_t i = off; i < s->text.len; i++)
            if (s->text.data[i] == '*')
                s->text.data[i] = '%';
    typed_value(&s->values[s->nvalues++], like ? FOLIO_AFF_TEXT : aff, p, len, off);
    return FOLIO_OK;
}

/* Parse "(a,"b,c",d)" into values. */
static folio_status add_list(struct folio_filter_set *s, enum folio_affinity aff,
                             const char *p, size_t *out_n)
{
    size_t len = strlen(p);
    if (len < 2 || p[0] != '(' || p[len - 1] != ')')
        return FOLIO_EPARAM;
    const char *end = p + len - 1;
    p++;
    *out_n = 0;
    if (p == end)
        return FOLIO_EPARAM; /* in.() matches nothing and is almost surely a mistake */
    struct folio_buf item;
    folio_buf_init(&item, 64 * 1024);
    folio_status st = FOLIO_OK;
    for (;;) {
        folio_buf_reset(&item);
        folio_buf_append(&item, "", 0);
        if (*p == '"') {
            p++;
            while (p < end && *p != '"') {
                if (*p == '\\' && p + 1 < end)
                    p++;
                if ((st = folio_buf_putc(&item, *p++)) != FOLIO_OK)
                    goto done;
            }
            if (p >= end) {
                st = FOLIO_EPARAM;
                goto done;
            }
            p++;
            if (p < end && *p != ',') {
                st = FOLIO_EPARAM;
                goto done;
            }
        } else {
            const char *q = p;
            while (p < end && *p != ',')
                p++;
            if ((st = folio_buf_append(&item, q, (size_t)(p - q))) != FOLIO_OK)
                goto done;
        }
        if (*out_n == FOLIO_FILTER_MAX_VALUES) {
            st = FOLIO_ELIMIT;
            goto done;
        }
        if ((st = add_value(s, aff, item.data, item.len, false)) != FOLIO_OK)
            goto done;
        (*out_n)++;
        if (p == end)
            break;
        p++; /* the comma */
    }
done:
    folio_buf_clear(&item);
    return st;
}

folio_status folio_filter_add(struct folio_filter_set *s, int column, const char *decl_type,
                              const char *param_name, const char *value,
                              struct folio_error *err)
{
    return folio_filter_add_typed(s, column, folio_affinity_of(decl_type), param_name, value,
                                  err);
}

folio_status folio_filter_add_typed(struct folio_filter_set *s, int column,
                                    enum folio_affinity aff, const char *param_name,
                                    const char *value, struct folio_error *err)
{
    if (s->n == FOLIO_FILTER_MAX)
        return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, param_name,
                               "too many filters (at most %d)", FOLIO_FILTER_MAX);
    if (value == NULL)
        value = "";
    const char *dot = strchr(value, '.');
    size_t oplen = dot ? (size_t)(dot - value) : strlen(value);
    int found = -1;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strlen(ops[i].name) == oplen && memcmp(ops[i].name, value, oplen) == 0)
            found = (int)i;
    if (found < 0 || dot == NULL)
        return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, param_name,
                               "filter on '%s' must look like op.value with op one of eq, neq, "
                               "lt, lte, gt, gte, like, in, is",
                               param_name);
    const char *arg = dot + 1;
    struct folio_filter *f = &s->filters[s->n];
    f->column = column;
    f->op = ops[found].op;
    f->values = NULL;
    f->nvalues = 0;
    size_t first = s->nvalues;
    size_t text_start = s->text.len;
    folio_status st = FOLIO_OK;
    switch (f->op) {
    case FOLIO_OP_IS_NULL:
        if (strcmp(arg, "null") == 0)
            f->op = FOLIO_OP_IS_NULL;
        else if (strcmp(arg, "not.null") == 0)
            f->op = FOLIO_OP_IS_NOT_NULL;
        else
            st = folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, param_name,
                                 "filter on '%s': 'is' takes null or not.null", param_name);
        break;
    case FOLIO_OP_IN:
        st = add_list(s, aff, arg, &f->nvalues);
        if (st == FOLIO_EPARAM)
            folio_error_set(err, st, FOLIO_KIND_INPUT, param_name,
                            "filter on '%s': in takes a list like in.(a,b,\"c,d\")", param_name);
        break;
    default:
        st = add_value(s, aff, arg, strlen(arg), f->op == FOLIO_OP_LIKE);
        f->nvalues = 1;
    }
    if (st == FOLIO_ELIMIT)
        st = folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, param_name,
                             "filter on '%s' has too many values", param_name);
    else if (st == FOLIO_ENOMEM || st == FOLIO_ETOOBIG)
        st = folio_error_set(err, st, st == FOLIO_ENOMEM ? FOLIO_KIND_INTERNAL : FOLIO_KIND_INPUT,
                             param_name, "filter on '%s' is too large", param_name);
    if (st != FOLIO_OK) {
        /* Forget this filter's values. After ENOMEM/ETOOBIG the text buffer stays failed
         * (sticky), so the set takes no more filters: the request fails as a whole. */
        s->nvalues = first;
        s->text.len = text_start;
    } else {
        f->values = f->nvalues ? &s->values[first] : NULL;
        s->n++;
    }
    /* Text values hold offsets into s->text, which may have moved while growing: point
     * them again, on every exit. */
    for (size_t i = 0; i < s->nvalues; i++)
        if (s->values[i].type == FOLIO_VALUE_TEXT)
            s->values[i].s = s->text.data + s->values[i].i;
    return st;
}

folio_status folio_filter_where(struct folio_buf *out, const struct folio_filter_set *s,
                                const char *const *columns, enum folio_param_style style,
                                int *io_param, struct folio_value *params, size_t max_params)
{
    struct folio_sql_dialect d = {style, NULL, NULL};
    return folio_filter_where_dialect(out, s, columns, &d, io_param, params, max_params);
}

folio_status folio_filter_where_dialect(struct folio_buf *out, const struct folio_filter_set *s,
                                        const char *const *columns,
                                        const struct folio_sql_dialect *d, int *io_param,
                                        struct folio_value *params, size_t max_params)
{
    static const char *const sym[] = {"=", "<>", "<", "<=", ">", ">="};
    const char *pfx = d->style == FOLIO_PARAM_DOLLAR ? "$" : "?";
    folio_status st = FOLIO_OK;
    for (size_t i = 0; i < s->n && st == FOLIO_OK; i++) {
        const struct folio_filter *f = &s->filters[i];
        const char *col = columns[f->column];
        if (i > 0)
            st = folio_buf_puts(out, " AND ");
        if (st != FOLIO_OK)
            break;
        if (*io_param - 1 + (int)f->nvalues > (int)max_params)
            return FOLIO_ELIMIT;
        switch (f->op) {
        case FOLIO_OP_IS_NULL:
            st = folio_buf_printf(out, "%s IS NULL", col);
            break;
        case FOLIO_OP_IS_NOT_NULL:
            st = folio_buf_printf(out, "%s IS NOT NULL", col);
            break;
        case FOLIO_OP_IN:
            st = folio_buf_printf(out, "%s IN (", col);
            for (size_t k = 0; k < f->nvalues && st == FOLIO_OK; k++) {
                params[*io_param - 1] = f->values[k];
                st = folio_buf_printf(out, "%s%s%d", k ? ", " : "", pfx, (*io_param)++);
            }
            if (st == FOLIO_OK)
                st = folio_buf_putc(out, ')');
            break;
        case FOLIO_OP_LIKE:
            params[*io_param - 1] = f->values[0];
            st = folio_buf_printf(out, "%s%s %s %s%d", col, d->like_cast ? d->like_cast : "",
                                  d->like_op ? d->like_op : "LIKE", pfx, (*io_param)++);
            break;
        default:
            params[*io_param - 1] = f->values[0];
            st = folio_buf_printf(out, "%s %s %s%d", col, sym[f->op], pfx, (*io_param)++);
        }
    }
    return st;
}

static int cmp_filter(const void *a, const void *b)
{
    const struct folio_filter *x = *(const struct folio_filter *const *)a;
    const struct folio_filter *y = *(const struct folio_filter *const *)b;
    if (x->column != y->column)
        return x->column < y->column ? -1 : 1;
    return x->op < y->op ? -1 : x->op > y->op;
}

folio_status folio_filter_format(struct folio_buf *out, const struct folio_filter_set *s)
{
    const struct folio_filter *sorted[FOLIO_FILTER_MAX];
    for (size_t i = 0; i < s->n; i++)
        sorted[i] = &s->filters[i];
    /* Stable enough: equal (column, op) pairs keep request order, which is also fine
     * because their values are written in full. */
    qsort(sorted, s->n, sizeof sorted[0], cmp_filter);
    folio_status st = FOLIO_OK;
    for (size_t i = 0; i < s->n && st == FOLIO_OK; i++) {
        const struct folio_filter *f = sorted[i];
        st = folio_buf_printf(out, "%d:%d:%zu", f->column, (int)f->op, f->nvalues);
        for (size_t k = 0; k < f->nvalues && st == FOLIO_OK; k++) {
            const struct folio_value *v = &f->values[k];
            switch (v->type) {
            case FOLIO_VALUE_INT: st = folio_buf_printf(out, ":i%lld", (long long)v->i); break;
            case FOLIO_VALUE_REAL: st = folio_buf_printf(out, ":r%.17g", v->d); break;
            default:
                st = folio_buf_printf(out, ":t%zu:", v->len);
                if (st == FOLIO_OK)
                    st = folio_buf_append(out, v->s, v->len);
            }
        }
        if (st == FOLIO_OK)
            st = folio_buf_putc(out, ';');
    }
    return st;
}
