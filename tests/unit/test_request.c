/* Unit tests for src/lib/request.c: the strict integer parser, and request parsing:
 * defaults, the per_page/limit alias and clamping, malformed values, conflicting
 * positions, unknown and repeated parameters, the accept callback, and count=. Every
 * rejection must be the input's fault (FOLIO_KIND_INPUT) and name the offending parameter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "folio/request.h"

static const struct folio_request_limits LIMITS = {20, 100};

/* --- folio_parse_int64 ------------------------------------------------------------------ */

static void test_parse_int64_accepts_plain_decimal_digits(void **state)
{
    (void)state;
    const struct {
        const char *s;
        int64_t want;
    } ok[] = {
        {"0", 0},
        {"1", 1},
        {"42", 42},
        {"007", 7},
        {"9223372036854775807", INT64_MAX},
        {"09223372036854775807", INT64_MAX},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        for (int neg = 0; neg <= 1; neg++) {
            int64_t v = -12345;
            folio_status st = folio_parse_int64(ok[i].s, neg, &v);
            if (st != FOLIO_OK || v != ok[i].want)
                fail_msg("\"%s\" (negatives %s): got %s, %lld", ok[i].s, neg ? "allowed" : "not allowed",
                         folio_strerror(st), (long long)v);
        }
    }
}

static void test_parse_int64_rejects_anything_but_digits(void **state)
{
    (void)state;
    const char *bad[] = {"",   "-",   "+1",  " 1",   "1 ",  "1x",  "x1",   "0x10", "1.5",
                         "1e2", "--1", "-+1", "1-",   "\t1", "1\n", "1,000", "1_000",
                         "\xd9\xa1", /* ARABIC-INDIC DIGIT ONE */ "\xef\xbc\x91" /* FULLWIDTH 1 */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int neg = 0; neg <= 1; neg++) {
            int64_t v = 0;
            folio_status st = folio_parse_int64(bad[i], neg, &v);
            if (st != FOLIO_EPARAM)
                fail_msg("\"%s\" (negatives %s): got %s, want invalid parameter", bad[i],
                         neg ? "allowed" : "not allowed", folio_strerror(st));
        }
    }
}

static void test_parse_int64_reports_overflow_as_erange(void **state)
{
    (void)state;
    const char *big[] = {"9223372036854775808", "9223372036854775810", "99999999999999999999",
                         "18446744073709551616", "18446744073709551617",
                         "100000000000000000000000000000000000000"};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        int64_t v;
        assert_int_equal(folio_parse_int64(big[i], false, &v), FOLIO_ERANGE);
        assert_int_equal(folio_parse_int64(big[i], true, &v), FOLIO_ERANGE);
    }
    int64_t v;
    assert_int_equal(folio_parse_int64("-9223372036854775809", true, &v), FOLIO_ERANGE);
    assert_int_equal(folio_parse_int64("-99999999999999999999", true, &v), FOLIO_ERANGE);
}

static void test_parse_int64_takes_negatives_only_when_allowed(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(folio_parse_int64("-1", false, &v), FOLIO_EPARAM);
    assert_int_equal(folio_parse_int64("-0", false, &v), FOLIO_EPARAM);
    assert_int_equal(folio_parse_int64("-9223372036854775808", false, &v), FOLIO_EPARAM);
    assert_int_equal(folio_parse_int64("-1", true, &v), FOLIO_OK);
    assert_int_equal(v, -1);
    assert_int_equal(folio_parse_int64("-0", true, &v), FOLIO_OK);
    assert_int_equal(v, 0);
    assert_int_equal(folio_parse_int64("-9223372036854775807", true, &v), FOLIO_OK);
    assert_int_equal(v, -INT64_MAX);
    assert_int_equal(folio_parse_int64("-9223372036854775808", true, &v), FOLIO_OK);
    assert_true(v == INT64_MIN);
}

/* Every value that fits is read back exactly (a sweep of magnitudes). */
static void test_parse_int64_reads_back_every_printed_value(void **state)
{
    (void)state;
    char s[32];
    for (int64_t base = 1; base > 0 && base <= INT64_MAX / 3; base *= 3) {
        const int64_t vals[] = {base - 1, base, base + 1, INT64_MAX - base};
        for (size_t i = 0; i < 4; i++) {
            for (int sign = 1; sign >= -1; sign -= 2) {
                int64_t want = vals[i] * sign;
                snprintf(s, sizeof s, "%lld", (long long)want);
                int64_t v = 0;
                assert_int_equal(folio_parse_int64(s, true, &v), FOLIO_OK);
                assert_true(v == want);
                if (want >= 0) {
                    assert_int_equal(folio_parse_int64(s, false, &v), FOLIO_OK);
                    assert_true(v == want);
                }
            }
        }
    }
}

/* --- folio_request_parse ------------------------------------------------------------------- */

struct req {
    struct folio_request out;
    struct folio_error err;
    folio_status st;
};

#define P(k, v) ((struct folio_param){(k), (v)})

static struct req parse_with(const struct folio_param *params, size_t n,
                             folio_param_accept_fn accept, void *ctx)
{
    struct req r;
    memset(&r, 0, sizeof r);
    r.st = folio_request_parse(&r.out, params, n, &LIMITS, accept, ctx, &r.err);
    /* the same status without an error struct */
    struct folio_request again;
    assert_int_equal(folio_request_parse(&again, params, n, &LIMITS, accept, ctx, NULL), r.st);
    return r;
}

static struct req parse(const struct folio_param *params, size_t n)
{
    return parse_with(params, n, NULL, NULL);
}

#define PARSE(...)                                                                            \
    parse((const struct folio_param[]){__VA_ARGS__},                                          \
          sizeof((const struct folio_param[]){__VA_ARGS__}) / sizeof(struct folio_param))

/* A rejection is `want`, FOLIO_KIND_INPUT, and names one of the given parameters. */
static void assert_rejected(const struct req *r, folio_status want, const char *what,
                            const char *param1, const char *param2)
{
    if (r->st != want)
        fail_msg("%s: got %s, want %s", what, folio_strerror(r->st), folio_strerror(want));
    if (r->err.status != want)
        fail_msg("%s: err.status is %s", what, folio_strerror(r->err.status));
    if (r->err.kind != FOLIO_KIND_INPUT)
        fail_msg("%s: kind %d, want FOLIO_KIND_INPUT", what, (int)r->err.kind);
    if (strcmp(r->err.param, param1) != 0 && (param2 == NULL || strcmp(r->err.param, param2) != 0))
        fail_msg("%s: err.param is \"%s\", want \"%s\"%s%s", what, r->err.param, param1,
                 param2 ? " or " : "", param2 ? param2 : "");
    if (r->err.detail[0] == '\0')
        fail_msg("%s: no detail for the client", what);
}

static void test_no_parameters_give_the_first_page_with_defaults(void **state)
{
    (void)state;
    struct req r = parse(NULL, 0);
    assert_int_equal(r.st, FOLIO_OK);
    assert_int_equal(r.out.mode, FOLIO_MODE_FIRST);
    assert_int_equal(r.out.per_page, LIMITS.default_per_page);
    assert_false(r.out.per_page_clamped);
    assert_int_equal(r.out.page, 0);
    assert_int_equal(r.out.offset, 0);
    assert_null(r.out.cursor);
    assert_null(r.out.sort);
    assert_int_equal(r.out.count, FOLIO_COUNT_DEFAULT);
}

static void test_per_page_and_its_alias_limit_set_the_page_size(void **state)
{
    (void)state;
    struct req r = PARSE(P("per_page", "5"));
    assert_int_equal(r.st, FOLIO_OK);
    assert_int_equal(r.out.per_page, 5);
    assert_false(r.out.per_page_clamped);
    r = PARSE(P("limit", "7"));
    assert_int_equal(r.st, FOLIO_OK);
    assert_int_equal(r.out.per_page, 7);
    r = PARSE(P("per_page", "1"));
    assert_int_equal(r.out.per_page, 1);
    r = PARSE(P("per_page", "100"));
    assert_int_equal(r.out.per_page, 100);
    assert_false(r.out.per_page_clamped);
}

static void test_per_page_and_limit_together_conflict(void **state)
{
    (void)state;
    struct req r = PARSE(P("per_page", "10"), P("limit", "10"));
    assert_rejected(&r, FOLIO_ECONFLICT, "per_page=10&limit=10", "per_page", "limit");
    r = PARSE(P("limit", "5"), P("per_page", "10"));
    assert_rejected(&r, FOLIO_ECONFLICT, "limit=5&per_page=10", "per_page", "limit");
}

static void test_per_page_above_the_maximum_is_clamped_and_says_so(void **state)
{
    (void)state;
    const char *big[] = {"101", "1000", "2147483648", "9223372036854775807"};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        for (int alias = 0; alias <= 1; alias++) {
            struct folio_param p = P(alias ? "limit" : "per_page", big[i]);
            struct req r = parse(&p, 1);
            if (r.st != FOLIO_OK)
                fail_msg("%s=%s: %s", p.key, big[i], folio_strerror(r.st));
            assert_int_equal(r.out.per_page, LIMITS.max_per_page);
            assert_true(r.out.per_page_clamped);
        }
    }
}

static void test_malformed_page_sizes_are_400_naming_the_parameter(void **state)
{
    (void)state;
    const char *bad[] = {"0", "-1", "-0", "abc", "", "+10", "10x", " 10", "10 ", "1.5", "0x10",
                         "1e2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int alias = 0; alias <= 1; alias++) {
            const char *name = alias ? "limit" : "per_page";
            struct folio_param p = P(name, bad[i]);
            struct req r = parse(&p, 1);
            char what[64];
            snprintf(what, sizeof what, "%s=\"%s\"", name, bad[i]);
            assert_rejected(&r, FOLIO_EPARAM, what, name, NULL);
        }
    }
    /* a bare "?per_page" has no value */
    struct folio_param p = P("per_page", NULL);
    struct req r = parse(&p, 1);
    assert_rejected(&r, FOLIO_EPARAM, "bare per_page", "per_page", NULL);
}

/* The header lists overflow among the malformed values (FOLIO_EPARAM, 400). */
static void test_per_page_that_overflows_int64_is_400_not_clamped(void **state)
{
    (void)state;
    const char *huge[] = {"9223372036854775808", "99999999999999999999"};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        for (int alias = 0; alias <= 1; alias++) {
            const char *name = alias ? "limit" : "per_page";
            struct folio_param p = P(name, huge[i]);
            struct req r = parse(&p, 1);
            char what[64];
            snprintf(what, sizeof what, "%s=%s", name, huge[i]);
            assert_rejected(&r, FOLIO_EPARAM, what, name, NULL);
        }
    }
}

static void test_page_selects_an_offset_of_whole_pages(void **state)
{
    (void)state;
    struct req r = PARSE(P("page", "3"), P("per_page", "10"));
    assert_int_equal(r.st, FOLIO_OK);
    assert_int_equal(r.out.mode, FOLIO_MODE_OFFSET);
    assert_int_equal(r.out.page, 3);
    assert_int_equal(r.out.offset, 20);
    r = PARSE(P("page", "1"));
    assert_int_equal(r.out.mode, FOLIO_MODE_OFFSET);
    assert_int_equal(r.out.offset, 0);
    /* the clamped page size is the one used */
    r = PARSE(P("per_page", "500"), P("page", "2"));
    assert_int_equal(r.st, FOLIO_OK);
    assert_int_equal(r.out.offset, LIMITS.max_per_page);
}

static void test_malformed_pages_are_400_naming_page(void **state)
{
    (void)state;
    const char *bad[] = {"0", "-1", "abc", "", "1x", "+1", " 1", "1.0", "99999999999999999999",
                         "18446744073709551617"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct folio_param p = P("page", bad[i]);
        struct req r = parse(&p, 1);
        char what[64];
        snprintf(what, sizeof what, "page=\"%s\"", bad[i]);
        assert_rejected(&r, FOLIO_EPARAM, what, "page", NULL);
    }
}

static void test_page_whose_offset_overflows_is_rejected(void **state)
{
    (void)state;
    char page[32];
    /* the last page whose offset fits, then the first that does not */
    int64_t last = INT64_MAX / 100 + 1;
    snprintf(page, sizeof page, "%lld", (long long)last);
    struct req r = PARSE(P("per_page", "100"), P("page", page));
    assert_int_equal(r.st, FOLIO_OK);
    assert_true(r.out.offset == (last - 1) * 100);
    snprintf(page, sizeof page, "%lld", (long long)last + 1);
    r = PARSE(P("per_page", "100"), P("page", page));
    assert_rejected(&r, FOLIO_EPARAM, "page*per_page overflow", "page", NULL);
    r = PARSE(P("page", "9223372036854775807"), P("per_page", "2"));
    assert_rejected(&r, FOLIO_EPARAM, "page=INT64_MAX", "page", NULL);
    r = PARSE(P("page", "9223372036854775807"), P("per_page", "1"));
    assert_int_equal(r.st, FOLIO_OK);
    assert_true(r.out.offset == INT64_MAX - 1);
}

static void test_offset_skips_rows_and_must_be_a_non_negative_integer(void **state)
{
    (void)state;
    struct req r = PARSE(P("offset", "0"));
    assert_int_equal(r.st, FOLIO_OK);
    assert_int_equal(r.out.mode, FOLIO_MODE_OFFSET);
    assert_int_equal(r.out.offset, 0);
    assert_int_equal(r.out.page, 0);
    r = PARSE(P("offset", "37"));
    assert_int_equal(r.out.offset, 37);
    r = PARSE(P("offset", "9223372036854775807"));
    assert_int_equal(r.st, FOLIO_OK);
    assert_true(r.out.offset == INT64_MAX);
    const char *bad[] = {"-1", "abc", "1x", "", "+0", " 0", "0 ", "-0x1", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct folio_param p = P("offset", bad[i]);
        r = parse(&p, 1);
        char what[64];
        snprintf(what, sizeof what, "offset=\"%s\"", bad[i]);
        assert_rejected(&r, FOLIO_EPARAM, what, "offset", NULL);
    }
}

static void test_after_and_before_borrow_the_cursor_text(void **state)
{
    (void)state;
    const char *tok = "AQEAAN_ZDM7j6zkoAQEA0Jj";
    struct folio_param a = P("after", tok), b = P("before", tok);
    struct req r = parse(&a, 1);
    assert_int_equal(r.st, FOLIO_OK);
    assert_int_equal(r.out.mode, FOLIO_MODE_AFTER);
    assert_ptr_equal(r.out.cursor, tok);
    r = parse(&b, 1);
    assert_int_equal(r.st, FOLIO_OK);
    assert_int_equal(r.out.mode, FOLIO_MODE_BEFORE);
    assert_ptr_equal(r.out.cursor, tok);
    /* per_page may change between pages of a cursor walk */
    r = PARSE(P("per_page", "12"), P("after", tok));
    assert_int_equal(r.st, FOLIO_OK);
    assert_int_equal(r.out.per_page, 12);
}

/* The header: an empty after=/before= is FOLIO_ECURSOR_INVALID, as any other token that is
 * not a cursor (issue 10 item 11: it used to be FOLIO_EPARAM, type invalid-parameter). */
static void test_empty_cursor_is_an_invalid_cursor(void **state)
{
    (void)state;
    const char *names[] = {"after", "before"};
    for (size_t i = 0; i < 2; i++) {
        struct folio_param p = P(names[i], "");
        struct req r = parse(&p, 1);
        char what[32];
        snprintf(what, sizeof what, "%s=", names[i]);
        assert_rejected(&r, FOLIO_ECURSOR_INVALID, what, names[i], NULL);
        p = P(names[i], NULL);
        r = parse(&p, 1);
        snprintf(what, sizeof what, "bare %s", names[i]);
        assert_rejected(&r, FOLIO_ECURSOR_INVALID, what, names[i], NULL);
    }
}

static void test_conflicting_positions_are_400_naming_one_of_them(void **state)
{
    (void)state;
    const struct {
        const char *k1, *k2;
    } pairs[] = {{"page", "offset"},  {"page", "after"},   {"page", "before"},
                 {"offset", "after"}, {"offset", "before"}, {"after", "before"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        for (int swap = 0; swap <= 1; swap++) {
            const char *x = swap ? pairs[i].k2 : pairs[i].k1, *y = swap ? pairs[i].k1 : pairs[i].k2;
            /* values that would be fine on their own */
            const char *xv = strcmp(x, "after") == 0 || strcmp(x, "before") == 0 ? "AAAA" : "1";
            const char *yv = strcmp(y, "after") == 0 || strcmp(y, "before") == 0 ? "AAAA" : "1";
            struct req r = PARSE(P(x, xv), P(y, yv));
            char what[64];
            snprintf(what, sizeof what, "%s=%s&%s=%s", x, xv, y, yv);
            assert_rejected(&r, FOLIO_ECONFLICT, what, x, y);
        }
    }
}

static void test_unknown_parameters_are_400_naming_them(void **state)
{
    (void)state;
    const char *unknown[] = {"foo", "pagee", "PAGE", "Per_page", "per-page", "after_", "order",
                             "", "page ", "fields"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        struct req r = PARSE(P("per_page", "5"), P(unknown[i], "1"));
        char what[64];
        snprintf(what, sizeof what, "per_page=5&%s=1", unknown[i]);
        assert_rejected(&r, FOLIO_EUNKNOWN_PARAM, what, unknown[i], NULL);
    }
    /* a very long name is named, truncated, without overflowing err.param */
    char longname[300];
    memset(longname, 'z', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    struct folio_param p = P(longname, "1");
    struct req r = parse(&p, 1);
    assert_int_equal(r.st, FOLIO_EUNKNOWN_PARAM);
    assert_true(strlen(r.err.param) < sizeof r.err.param);
    assert_true(strlen(r.err.param) > 0);
    assert_memory_equal(r.err.param, longname, strlen(r.err.param));
}

struct accept_ctx {
    int calls;
    const char *fields;
    folio_status refuse_with;
};

static folio_status accept_fields(void *ctx, const struct folio_param *p, struct folio_error *err)
{
    struct accept_ctx *a = ctx;
    a->calls++;
    if (strcmp(p->key, "fields") != 0)
        return FOLIO_EUNKNOWN_PARAM;
    if (a->refuse_with != FOLIO_OK)
        return folio_error_set(err, a->refuse_with, FOLIO_KIND_STATE, "fields", "no such field");
    a->fields = p->value;
    return FOLIO_OK;
}

static void test_accept_callback_takes_parameters_the_core_does_not_know(void **state)
{
    (void)state;
    struct accept_ctx ctx = {0};
    const struct folio_param params[] = {P("per_page", "5"), P("fields", "id,name"),
                                         P("sort", "-id")};
    struct req r = parse_with(params, 3, accept_fields, &ctx);
    assert_int_equal(r.st, FOLIO_OK);
    assert_int_equal(r.out.per_page, 5);
    assert_ptr_equal(r.out.sort, params[2].value);
    assert_ptr_equal(ctx.fields, params[1].value);
    assert_int_equal(ctx.calls, 2); /* once per parse_with call: known ones are not offered */

    /* what the callback refuses is still unknown, and named */
    ctx = (struct accept_ctx){0};
    const struct folio_param other[] = {P("fields", "id"), P("filter", "x")};
    r = parse_with(other, 2, accept_fields, &ctx);
    assert_rejected(&r, FOLIO_EUNKNOWN_PARAM, "filter=x with a fields-only callback", "filter",
                    NULL);

    /* the callback's own error passes through untouched */
    ctx = (struct accept_ctx){.refuse_with = FOLIO_EPARAM};
    r = parse_with(other, 1, accept_fields, &ctx);
    assert_int_equal(r.st, FOLIO_EPARAM);
    assert_int_equal(r.err.kind, FOLIO_KIND_STATE);
    assert_string_equal(r.err.param, "fields");
    assert_string_equal(r.err.detail, "no such field");
}

static void test_a_parameter_given_twice_is_400_naming_it(void **state)
{
    (void)state;
    const struct {
        const char *k, *v;
    } known[] = {{"per_page", "5"}, {"limit", "5"},  {"page", "2"},      {"offset", "3"},
                 {"after", "AAAA"}, {"before", "AAAA"}, {"sort", "id"}, {"count", "exact"}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        struct req r = PARSE(P(known[i].k, known[i].v), P(known[i].k, known[i].v));
        char what[64];
        snprintf(what, sizeof what, "%s given twice", known[i].k);
        assert_rejected(&r, FOLIO_EPARAM, what, known[i].k, NULL);
        /* also when the first is bare */
        r = PARSE(P(known[i].k, NULL), P(known[i].k, known[i].v));
        assert_int_equal(r.st, FOLIO_EPARAM);
        assert_string_equal(r.err.param, known[i].k);
    }
}

static void test_find_repeat_names_the_first_core_parameter_given_twice(void **state)
{
    (void)state;
    struct folio_error err = {0};
    const struct folio_param none[] = {{"per_page", "5"}, {"name", "eq.a"}, {"name", "eq.b"},
                                       {"sort", "id"}, {"x", NULL}, {"x", NULL}};
    /* filters and unknown keys may repeat: only the core parameters are single */
    assert_int_equal(folio_request_find_repeat(none, 6, &err), FOLIO_OK);
    const struct folio_param twice[] = {{"a", "1"}, {"sort", "id"}, {"page", "1"},
                                        {"page", NULL}, {"sort", "id"}};
    assert_int_equal(folio_request_find_repeat(twice, 5, &err), FOLIO_EPARAM);
    assert_int_equal(err.kind, FOLIO_KIND_INPUT);
    assert_string_equal(err.param, "page");
    assert_string_equal(err.detail, "parameter 'page' is given more than once");
    /* the same words as the parser's */
    struct folio_request rq;
    struct folio_error perr = {0};
    const struct folio_request_limits lim = {20, 100};
    assert_int_equal(folio_request_parse(&rq, twice + 2, 2, &lim, NULL, NULL, &perr),
                     FOLIO_EPARAM);
    assert_string_equal(perr.detail, err.detail);
    assert_int_equal(folio_request_find_repeat(twice, 0, &err), FOLIO_OK);
}

static void test_count_accepts_exact_estimate_and_none_only(void **state)
{
    (void)state;
    struct req r = PARSE(P("count", "exact"));
    assert_int_equal(r.st, FOLIO_OK);
    assert_int_equal(r.out.count, FOLIO_COUNT_EXACT);
    r = PARSE(P("count", "estimate"));
    assert_int_equal(r.out.count, FOLIO_COUNT_ESTIMATE);
    r = PARSE(P("count", "none"));
    assert_int_equal(r.out.count, FOLIO_COUNT_NONE);
    const char *bad[] = {"bogus", "", "EXACT", "exact ", "1", "true"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct folio_param p = P("count", bad[i]);
        r = parse(&p, 1);
        char what[64];
        snprintf(what, sizeof what, "count=\"%s\"", bad[i]);
        assert_rejected(&r, FOLIO_EPARAM, what, "count", NULL);
    }
    struct folio_param bare = P("count", NULL);
    r = parse(&bare, 1);
    assert_rejected(&r, FOLIO_EPARAM, "bare count", "count", NULL);
}

static void test_sort_is_passed_through_raw_for_the_sort_parser(void **state)
{
    (void)state;
    const struct folio_param p = P("sort", "-created_at,id");
    struct req r = parse(&p, 1);
    assert_int_equal(r.st, FOLIO_OK);
    assert_ptr_equal(r.out.sort, p.value);
    assert_int_equal(r.out.mode, FOLIO_MODE_FIRST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_int64_accepts_plain_decimal_digits),
        cmocka_unit_test(test_parse_int64_rejects_anything_but_digits),
        cmocka_unit_test(test_parse_int64_reports_overflow_as_erange),
        cmocka_unit_test(test_parse_int64_takes_negatives_only_when_allowed),
        cmocka_unit_test(test_parse_int64_reads_back_every_printed_value),
        cmocka_unit_test(test_no_parameters_give_the_first_page_with_defaults),
        cmocka_unit_test(test_per_page_and_its_alias_limit_set_the_page_size),
        cmocka_unit_test(test_per_page_and_limit_together_conflict),
        cmocka_unit_test(test_per_page_above_the_maximum_is_clamped_and_says_so),
        cmocka_unit_test(test_malformed_page_sizes_are_400_naming_the_parameter),
        cmocka_unit_test(test_per_page_that_overflows_int64_is_400_not_clamped),
        cmocka_unit_test(test_page_selects_an_offset_of_whole_pages),
        cmocka_unit_test(test_malformed_pages_are_400_naming_page),
        cmocka_unit_test(test_page_whose_offset_overflows_is_rejected),
        cmocka_unit_test(test_offset_skips_rows_and_must_be_a_non_negative_integer),
        cmocka_unit_test(test_after_and_before_borrow_the_cursor_text),
        cmocka_unit_test(test_empty_cursor_is_an_invalid_cursor),
        cmocka_unit_test(test_conflicting_positions_are_400_naming_one_of_them),
        cmocka_unit_test(test_unknown_parameters_are_400_naming_them),
        cmocka_unit_test(test_accept_callback_takes_parameters_the_core_does_not_know),
        cmocka_unit_test(test_a_parameter_given_twice_is_400_naming_it),
        cmocka_unit_test(test_find_repeat_names_the_first_core_parameter_given_twice),
        cmocka_unit_test(test_count_accepts_exact_estimate_and_none_only),
        cmocka_unit_test(test_sort_is_passed_through_raw_for_the_sort_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
