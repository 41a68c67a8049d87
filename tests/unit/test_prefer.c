/* src/server/prefer.c: the Prefer header as RFC 7240 reads it. Before (issue 10 item 11)
 * `count=exactlyjunk` was taken as exact: the value was compared by prefix, and "count="
 * was found anywhere in the text. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>

#include "server/prefer.h"

struct prefer_case {
    const char *value;
    enum folio_count want;
};

static void check(const struct prefer_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        enum folio_count got = folio__prefer_count(cases[i].value);
        if (got != cases[i].want)
            fail_msg("Prefer: %s -> %d, want %d", cases[i].value ? cases[i].value : "(none)",
                     (int)got, (int)cases[i].want);
    }
}

static void test_count_values_match_exactly_not_by_prefix(void **state)
{
    (void)state;
    static const struct prefer_case cases[] = {
        {"count=exact", FOLIO_COUNT_EXACT},
        {"count=planned", FOLIO_COUNT_ESTIMATE},
        {"count=estimated", FOLIO_COUNT_ESTIMATE},
        {"count=estimate", FOLIO_COUNT_ESTIMATE},
        {"count=none", FOLIO_COUNT_NONE},
        {"count=exactlyjunk", FOLIO_COUNT_DEFAULT},
        {"count=exact2", FOLIO_COUNT_DEFAULT},
        {"count=ex", FOLIO_COUNT_DEFAULT},
        {"count=nonesuch", FOLIO_COUNT_DEFAULT},
        {"count=plannedx", FOLIO_COUNT_DEFAULT},
        {"count=EXACT", FOLIO_COUNT_DEFAULT}, /* values are case-sensitive */
        {"count", FOLIO_COUNT_DEFAULT},
        {"count=", FOLIO_COUNT_DEFAULT},
        {"", FOLIO_COUNT_DEFAULT},
        {NULL, FOLIO_COUNT_DEFAULT},
    };
    check(cases, sizeof cases / sizeof cases[0]);
}

static void test_the_list_syntax_of_rfc_7240(void **state)
{
    (void)state;
    static const struct prefer_case cases[] = {
        {"COUNT=exact", FOLIO_COUNT_EXACT},          /* names ignore case */
        {"count = exact", FOLIO_COUNT_EXACT},        /* BWS around '=' */
        {"\tcount=exact\t", FOLIO_COUNT_EXACT},
        {"count=\"exact\"", FOLIO_COUNT_EXACT},      /* a quoted-string word */
        {"count=\"ex\\act\"", FOLIO_COUNT_EXACT},    /* quoted-pair */
        {"count=\"exact", FOLIO_COUNT_DEFAULT},      /* unterminated: malformed */
        {"return=minimal, count=exact", FOLIO_COUNT_EXACT},
        {"respond-async,count=exact;x=1;y", FOLIO_COUNT_EXACT},
        {"count=exact ; foo=\"a,b\"", FOLIO_COUNT_EXACT},
        {"foo; count=exact", FOLIO_COUNT_DEFAULT},   /* a parameter of foo */
        {"xcount=exact", FOLIO_COUNT_DEFAULT},
        {"count-x=exact", FOLIO_COUNT_DEFAULT},
        {"a=\"x, count=exact\", b", FOLIO_COUNT_DEFAULT},
        {"count=exact, count=none", FOLIO_COUNT_EXACT}, /* the first instance decides */
        {"count=none, count=exact", FOLIO_COUNT_NONE},
        {"count=bogus, count=exact", FOLIO_COUNT_DEFAULT},
        {",, ,count=exact", FOLIO_COUNT_EXACT},      /* empty list elements */
        {"@@@, count=exact", FOLIO_COUNT_EXACT},     /* a malformed element is skipped */
        {"a=\"unterminated, count=exact", FOLIO_COUNT_DEFAULT},
        {"count=exact junk", FOLIO_COUNT_DEFAULT},
    };
    check(cases, sizeof cases / sizeof cases[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_values_match_exactly_not_by_prefix),
        cmocka_unit_test(test_the_list_syntax_of_rfc_7240),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
