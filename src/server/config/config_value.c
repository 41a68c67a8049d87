/* Typed readers and messages for the config file: see config_internal.h. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "server/config/config_internal.h"

static void vformat(const struct folio__cfg *c, uint32_t line, uint32_t col,
                    const char *section, const char *key, const char *fmt, va_list ap)
{
    if (c->err == NULL)
        return;
    char *m = c->err->message;
    size_t cap = sizeof c->err->message;
    int n;
    c->err->status = FOLIO_ECONFIG;
    if (key != NULL)
        n = snprintf(m, cap, "%s:%u:%u: %s %s: ", c->file, line, col, section, key);
    else
        n = snprintf(m, cap, "%s:%u:%u: %s: ", c->file, line, col, section);
    if (n >= 0 && (size_t)n < cap)
        vsnprintf(m + n, cap - (size_t)n, fmt, ap);
}

folio_status folio__cfg_fail(const struct folio__cfg *c, uint32_t line, uint32_t col,
                             const char *section, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(c, line, col, section, key, fmt, ap);
    va_end(ap);
    return FOLIO_ECONFIG;
}

folio_status folio__cfg_fail_at(const struct folio__cfg *c, const struct folio_toml_value *v,
                                const char *section, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(c, folio_toml_line(v), folio_toml_column(v), section, key, fmt, ap);
    va_end(ap);
    return FOLIO_ECONFIG;
}

folio_status folio__cfg_fail_key(const struct folio__cfg *c, const struct folio_toml_value *t,
                                 const char *section, const char *key, const char *fmt, ...)
{
    size_t i = 0, n = folio_toml_table_count(t);
    while (i < n && !(folio__cfg_key(t, i) && strcmp(folio__cfg_key(t, i), key) == 0))
        i++;
    uint32_t line = i < n ? folio_toml_table_key_line(t, i) : 0;
    uint32_t col = i < n ? folio_toml_table_key_column(t, i) : 0;
    va_list ap;
    va_start(ap, fmt);
    vformat(c, line, col, section, key, fmt, ap);
    va_end(ap);
    return FOLIO_ECONFIG;
}

folio_status folio__cfg_nomem(const struct folio__cfg *c)
{
    if (c->err != NULL) {
        c->err->status = FOLIO_ENOMEM;
        snprintf(c->err->message, sizeof c->err->message, "%s: out of memory", c->file);
    }
    return FOLIO_ENOMEM;
}

/* "an integer", "a string" ... for "expected X, got Y". */
static const char *type_phrase(enum folio_toml_type t)
{
    switch (t) {
    case FOLIO_TOML_TABLE: return "a table";
    case FOLIO_TOML_ARRAY: return "an array";
    case FOLIO_TOML_STRING: return "a string";
    case FOLIO_TOML_INTEGER: return "an integer";
    case FOLIO_TOML_FLOAT: return "a float";
    case FOLIO_TOML_BOOL: return "a boolean";
    case FOLIO_TOML_DATETIME:
    case FOLIO_TOML_LOCAL_DATETIME:
    case FOLIO_TOML_LOCAL_DATE:
    case FOLIO_TOML_LOCAL_TIME: return "a date/time";
    }
    return "a value";
}

static folio_status wrong_type(const struct folio__cfg *c, const struct folio_toml_value *v,
                               const char *section, const char *key, const char *want)
{
    return folio__cfg_fail_at(c, v, section, key, "expected %s, got %s", want,
                              type_phrase(folio_toml_type(v)));
}

const char *folio__cfg_key(const struct folio_toml_value *t, size_t i)
{
    size_t len = 0;
    const char *k = folio_toml_table_key(t, i, &len);
    return k != NULL && strlen(k) == len ? k : NULL;
}

/* Edit distance, capped: enough to suggest "threads" for "thread". */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

folio_status folio__cfg_unknown_key(const struct folio__cfg *c, const struct folio_toml_value *t,
                                    size_t i, const char *section,
                                    const char *const *known)
{
    size_t len = 0;
    const char *k = folio_toml_table_key(t, i, &len);
    uint32_t line = folio_toml_table_key_line(t, i), col = folio_toml_table_key_column(t, i);
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t j = 0; k != NULL && known[j] != NULL; j++) {
        size_t d = distance(k, known[j]);
        if (d < best_d && d < strlen(known[j])) {
            best_d = d;
            best = known[j];
        }
    }
    if (best != NULL)
        return folio__cfg_fail(c, line, col, section, k, "unknown key (did you mean '%s'?)",
                               best);
    return folio__cfg_fail(c, line, col, section, k, "unknown key");
}

folio_status folio__cfg_keys(const struct folio__cfg *c, const struct folio_toml_value *t,
                             const char *section, const char *const *known,
                             folio__cfg_key_fn *fn, void *ctx)
{
    for (size_t i = 0; i < folio_toml_table_count(t); i++) {
        const char *k = folio__cfg_key(t, i);
        size_t j = 0;
        while (k != NULL && known[j] != NULL && strcmp(k, known[j]) != 0)
            j++;
        folio_status st = k != NULL && known[j] != NULL
                              ? fn(c, section, k, folio_toml_table_value(t, i), ctx)
                              : folio__cfg_unknown_key(c, t, i, section, known);
        if (st != FOLIO_OK)
            return st;
    }
    return FOLIO_OK;
}

folio_status folio__cfg_int(const struct folio__cfg *c, const struct folio_toml_value *v,
                            const char *section, const char *key, int64_t min, int64_t max,
                            int64_t *out)
{
    int64_t n;
    if (folio_toml_int(v, &n) != FOLIO_OK)
        return wrong_type(c, v, section, key, "an integer");
    if (n < min || n > max)
        return folio__cfg_fail_at(c, v, section, key, "must be from %lld to %lld, got %lld",
                                  (long long)min, (long long)max, (long long)n);
    *out = n;
    return FOLIO_OK;
}

folio_status folio__cfg_number(const struct folio__cfg *c, const struct folio_toml_value *v,
                               const char *section, const char *key, double min, double max,
                               double *out)
{
    int64_t n;
    double d;
    if (folio_toml_int(v, &n) == FOLIO_OK)
        d = (double)n;
    else if (folio_toml_float(v, &d) != FOLIO_OK)
        return wrong_type(c, v, section, key, "a number");
    if (!isfinite(d))
        return folio__cfg_fail_at(c, v, section, key, "must be a finite number");
    if (d < min || d > max)
        return folio__cfg_fail_at(c, v, section, key, "must be from %g to %g, got %g", min, max,
                                  d);
    *out = d;
    return FOLIO_OK;
}

folio_status folio__cfg_bool(const struct folio__cfg *c, const struct folio_toml_value *v,
                             const char *section, const char *key, bool *out)
{
    if (folio_toml_bool(v, out) != FOLIO_OK)
        return wrong_type(c, v, section, key, "true or false");
    return FOLIO_OK;
}

folio_status folio__cfg_string(const struct folio__cfg *c, const struct folio_toml_value *v,
                               const char *section, const char *key, bool allow_empty,
                               const char **out)
{
    const char *s;
    size_t len;
    if (folio_toml_string(v, &s, &len) != FOLIO_OK)
        return wrong_type(c, v, section, key, "a string");
    if (strlen(s) != len)
        return folio__cfg_fail_at(c, v, section, key, "must not contain NUL characters");
    if (len == 0 && !allow_empty)
        return folio__cfg_fail_at(c, v, section, key, "must not be empty");
    *out = s;
    return FOLIO_OK;
}

folio_status folio__cfg_enum(const struct folio__cfg *c, const struct folio_toml_value *v,
                             const char *section, const char *key,
                             const char *const *names, size_t n, int *out)
{
    const char *s;
    size_t len;
    if (folio_toml_string(v, &s, &len) != FOLIO_OK)
        return wrong_type(c, v, section, key, "a string");
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) {
            *out = (int)i;
            return FOLIO_OK;
        }
    char list[256];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s\"%s\"",
                         i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return folio__cfg_fail_at(c, v, section, key, "must be %s, got \"%.64s\"", list, s);
}

folio_status folio__cfg_string_list(const struct folio__cfg *c,
                                    const struct folio_toml_value *v, const char *section,
                                    const char *key, bool allow_empty)
{
    if (folio_toml_type(v) != FOLIO_TOML_ARRAY)
        return wrong_type(c, v, section, key, "an array of strings");
    size_t n = folio_toml_array_len(v);
    if (n == 0 && !allow_empty)
        return folio__cfg_fail_at(c, v, section, key, "must not be empty");
    for (size_t i = 0; i < n; i++) {
        const struct folio_toml_value *e = folio_toml_array_at(v, i);
        const char *s;
        if (folio_toml_type(e) != FOLIO_TOML_STRING)
            return folio__cfg_fail_at(c, e, section, key, "expected strings only, got %s",
                                      type_phrase(folio_toml_type(e)));
        folio_status st = folio__cfg_string(c, e, section, key, false, &s);
        if (st != FOLIO_OK)
            return st;
        for (size_t j = 0; j < i; j++) {
            const char *t;
            if (folio_toml_string(folio_toml_array_at(v, j), &t, NULL) == FOLIO_OK &&
                strcmp(s, t) == 0)
                return folio__cfg_fail_at(c, e, section, key, "'%s' is listed twice", s);
        }
    }
    return FOLIO_OK;
}

folio_status folio__cfg_table(const struct folio__cfg *c, const struct folio_toml_value *v,
                              const char *section, const char *key)
{
    if (folio_toml_type(v) != FOLIO_TOML_TABLE)
        return wrong_type(c, v, section, key, "a table");
    return FOLIO_OK;
}

folio_status folio__cfg_path(const struct folio__cfg *c, const struct folio_toml_value *v,
                             const char *section, const char *key, char **out)
{
    const char *s;
    folio_status st = folio__cfg_string(c, v, section, key, false, &s);
    if (st != FOLIO_OK)
        return st;
    struct folio_buf b;
    folio_buf_init(&b, PATH_MAX);
    if (s[0] != '/' && c->dir != NULL && strcmp(c->dir, ".") != 0)
        st = folio_buf_printf(&b, "%s%s%s", c->dir,
                              c->dir[strlen(c->dir) - 1] == '/' ? "" : "/", s);
    else
        st = folio_buf_puts(&b, s);
    if (st == FOLIO_ETOOBIG) {
        folio_buf_clear(&b);
        return folio__cfg_fail_at(c, v, section, key, "the path is too long");
    }
    if (st != FOLIO_OK || b.data == NULL) {
        folio_buf_clear(&b);
        return folio__cfg_nomem(c);
    }
    *out = folio_buf_detach(&b, NULL);
    return FOLIO_OK;
}
