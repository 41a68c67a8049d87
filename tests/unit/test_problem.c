/* src/server/problem.c: the one place a libfolio error becomes an HTTP status. libfolio
 * says what kind of failure it was (struct folio_error's kind); the table below is the one
 * in docs/internals/errors.md, checked for every status and every kind. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "folio/folio.h"
#include "server/http.h"

static const folio_status all_statuses[] = {
#define STATUS_ITEM(name, num, text) name,
    FOLIO_STATUS_MAP(STATUS_ITEM)
#undef STATUS_ITEM
};

static const enum folio_error_kind all_kinds[] = {
    FOLIO_KIND_NONE,     FOLIO_KIND_INPUT,    FOLIO_KIND_ACCESS,
    FOLIO_KIND_STATE,    FOLIO_KIND_INTERNAL, FOLIO_KIND_TRANSIENT,
};

/* docs/internals/errors.md, row by row. */
static int documented(folio_status st, enum folio_error_kind kind)
{
    if (st == FOLIO_ETIMEOUT)
        return 503;
    if (kind == FOLIO_KIND_INPUT)
        return st == FOLIO_ENOTFOUND ? 404 : 400;
    if (kind == FOLIO_KIND_ACCESS)
        return 403;
    if (kind == FOLIO_KIND_STATE)
        return 409;
    if (kind == FOLIO_KIND_TRANSIENT)
        return 503;
    return 500; /* FOLIO_KIND_INTERNAL, FOLIO_KIND_NONE */
}

static void test_every_status_and_kind_maps_to_the_documented_http_status(void **state)
{
    (void)state;
    size_t n = 0;
    for (size_t i = 0; i < sizeof all_statuses / sizeof all_statuses[0]; i++) {
        for (size_t k = 0; k < sizeof all_kinds / sizeof all_kinds[0]; k++) {
            struct folio_error err = {.status = all_statuses[i], .kind = all_kinds[k]};
            int got = folio__problem_status(&err);
            if (got != documented(all_statuses[i], all_kinds[k]))
                fail_msg("%s with kind %d -> HTTP %d, want %d", folio_strerror(all_statuses[i]),
                         (int)all_kinds[k], got, documented(all_statuses[i], all_kinds[k]));
            n++;
        }
    }
    assert_int_equal(n, 21 * 6); /* every status of FOLIO_STATUS_MAP was seen */
}

/* An error nobody classified (a zeroed struct, a kind from a newer library) is the
 * server's failure, never blamed on the client. */
static void test_unclassified_errors_are_500(void **state)
{
    (void)state;
    struct folio_error zero = {0};
    assert_int_equal(folio__problem_status(&zero), 500);
    struct folio_error future = {.status = FOLIO_EPARAM, .kind = (enum folio_error_kind)77};
    assert_int_equal(folio__problem_status(&future), 500);
}

/* What the library itself reports keeps the answers the HTTP tests pin. */
static void test_library_refusals_map_to_their_http_answers(void **state)
{
    (void)state;
    struct folio_error err = {0};
    struct folio_request rq;
    const struct folio_request_limits lim = {20, 100};
    const struct folio_param bad_pp[] = {{"per_page", "x"}};
    assert_int_equal(folio_request_parse(&rq, bad_pp, 1, &lim, NULL, NULL, &err), FOLIO_EPARAM);
    assert_int_equal(folio__problem_status(&err), 400);

    const struct folio_param unknown[] = {{"nope", "1"}};
    assert_int_equal(folio_request_parse(&rq, unknown, 1, &lim, NULL, NULL, &err),
                     FOLIO_EUNKNOWN_PARAM);
    assert_int_equal(folio__problem_status(&err), 400);

    struct folio_keyring kr;
    folio_keyring_init(&kr, false);
    assert_int_equal(folio_keyring_add(&kr, 1, "0123456789abcdef0123", 20), FOLIO_OK);
    uint8_t fp[FOLIO_CURSOR_FINGERPRINT_BYTES] = {0};
    struct folio_cursor cur;
    assert_int_equal(folio_cursor_decode(&kr, "garbage", 7, 0, fp, &cur, &err),
                     FOLIO_ECURSOR_INVALID);
    assert_int_equal(folio__problem_status(&err), 400);
    folio_keyring_clear(&kr);

    const char *const cols[] = {"id"};
    struct folio_sort sort;
    assert_int_equal(folio_sort_parse(&sort, "nope", cols, 1, &err), FOLIO_EUNKNOWN_COLUMN);
    assert_int_equal(folio__problem_status(&err), 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_status_and_kind_maps_to_the_documented_http_status),
        cmocka_unit_test(test_unclassified_errors_are_500),
        cmocka_unit_test(test_library_refusals_map_to_their_http_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
