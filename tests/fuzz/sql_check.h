/* Shared by the fuzz targets that build SQL (fuzz_request, fuzz_filter): the generated text
 * must be made only of what folio itself writes. Every token is one of: an allowlisted
 * column expression, a placeholder ?N / $N, a keyword (AND OR IS NOT NULL IN LIKE ASC
 * DESC), an operator (= <> < <= > >=), ( ) , space, or the constant predicates 1 / 0 as a
 * whole token. Anything else is a user byte that reached the SQL: __builtin_trap(). */
#ifndef FOLIO_FUZZ_SQL_CHECK_H
#define FOLIO_FUZZ_SQL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Column expressions the harnesses hand to the builders: quoted identifiers, one with an
 * escaped quote, so "pasted verbatim from the allowlist" is checked, not "looks like SQL". */
static const char *const fuzz_sql_columns[] = {"\"id\"", "\"name\"", "\"price\"", "\"we\"\"ird\""};
#define FUZZ_SQL_NCOLS 4

struct fuzz_sql_stats {
    int placeholders; /* ?N / $N seen */
    int min_param, max_param;
};

static bool fuzz_sql_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Check `sql` (NUL-terminated). `prefix` is '?' or '$'. Fills *st. */
static void fuzz_sql_check(const char *sql, char prefix, struct fuzz_sql_stats *st)
{
    static const char *const words[] = {"AND", "OR",   "IS",  "NOT", "NULL",
                                        "IN",  "LIKE", "ASC", "DESC"};
    static const char *const ops[] = {"<>", "<=", ">=", "=", "<", ">", "(", ")", ",", " "};
    st->placeholders = 0;
    st->min_param = 1 << 30;
    st->max_param = 0;
    const char *p = sql;
    while (*p) {
        size_t best = 0;
        for (size_t i = 0; i < FUZZ_SQL_NCOLS; i++) {
            size_t n = strlen(fuzz_sql_columns[i]);
            if (n > best && strncmp(p, fuzz_sql_columns[i], n) == 0)
                best = n;
        }
        if (best) {
            p += best;
            continue;
        }
        if (*p == prefix && fuzz_sql_is_digit(p[1]) && p[1] != '0') {
            int v = 0;
            p++;
            while (fuzz_sql_is_digit(*p) && v < 100000)
                v = v * 10 + (*p++ - '0');
            if (fuzz_sql_is_digit(*p))
                __builtin_trap();
            st->placeholders++;
            if (v < st->min_param)
                st->min_param = v;
            if (v > st->max_param)
                st->max_param = v;
            continue;
        }
        bool word = false;
        for (size_t i = 0; i < sizeof words / sizeof words[0] && !word; i++) {
            size_t n = strlen(words[i]);
            /* A keyword is a whole word: "ORDER" or "INx" is not one. */
            if (strncmp(p, words[i], n) == 0 &&
                (p[n] == ' ' || p[n] == ')' || p[n] == '\0' || p[n] == ',' || p[n] == '(')) {
                p += n;
                word = true;
            }
        }
        if (word)
            continue;
        if ((*p == '0' || *p == '1') && (p == sql || p[-1] == ' ' || p[-1] == '(') &&
            (p[1] == '\0' || p[1] == ' ' || p[1] == ')')) {
            p++;
            continue;
        }
        bool op = false;
        for (size_t i = 0; i < sizeof ops / sizeof ops[0] && !op; i++) {
            size_t n = strlen(ops[i]);
            if (strncmp(p, ops[i], n) == 0) {
                p += n;
                op = true;
            }
        }
        if (!op)
            __builtin_trap(); /* a byte folio did not write itself */
    }
}

#endif
