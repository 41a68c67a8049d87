/* Unit tests for src/server/ratelimit.c, the per-client token buckets: refusal once the
 * burst is spent, refill at the rate, and the header values (remaining, reset,
 * retry-after) staying in range whatever the rate: a tiny rate makes the waits larger
 * than any unsigned, and they saturate instead of overflowing a conversion. */
/* cmocka.h needs these first */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <limits.h>
#include <string.h>

#include "server/ratelimit.h"

static const char CLIENT[] = "192.0.2.1";

static void take(struct folio_ratelimit *rl, double rate, unsigned burst, uint64_t now_ms,
                 struct folio_ratelimit_result *r)
{
    folio__ratelimit_take(rl, CLIENT, strlen(CLIENT), 0, rate, burst, now_ms, r);
}

static void test_a_spent_burst_is_refused_then_refilled(void **state)
{
    (void)state;
    struct folio_ratelimit *rl = NULL;
    assert_int_equal(folio__ratelimit_new(&rl, 64), FOLIO_OK);
    struct folio_ratelimit_result r;
    take(rl, 2.0, 3, 1000, &r);
    assert_true(r.allowed);
    assert_int_equal(r.limit, 3);
    assert_int_equal(r.remaining, 2);
    assert_int_equal(r.reset, 1); /* one token back at 2 per second: 0.5 s, rounded up */
    take(rl, 2.0, 3, 1000, &r);
    take(rl, 2.0, 3, 1000, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.reset, 2); /* 3 tokens at 2 per second */
    take(rl, 2.0, 3, 1000, &r);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after, 1);
    take(rl, 2.0, 3, 1500, &r); /* half a second: one token */
    assert_true(r.allowed);
    folio__ratelimit_free(rl);
}

static void test_tiny_rates_saturate_the_waits_instead_of_overflowing(void **state)
{
    (void)state;
    struct folio_ratelimit *rl = NULL;
    assert_int_equal(folio__ratelimit_new(&rl, 64), FOLIO_OK);
    struct folio_ratelimit_result r;
    take(rl, 1e-300, 1, 1000, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.reset, UINT_MAX);
    take(rl, 1e-300, 1, 2000, &r);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after, UINT_MAX);
    assert_int_equal(r.reset, UINT_MAX);
    /* The smallest rate the config accepts, with the largest burst: 1e10 s to refill. */
    take(rl, 0.0001, 1000000, 3000, &r);
    for (int i = 0; i < 1000000 && r.allowed; i++)
        take(rl, 0.0001, 1000000, 3000, &r);
    assert_false(r.allowed);
    assert_int_equal(r.reset, UINT_MAX);
    assert_in_range(r.retry_after, 9999, 10000); /* 1 token at 1e-4 per second */
    folio__ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_spent_burst_is_refused_then_refilled),
        cmocka_unit_test(test_tiny_rates_saturate_the_waits_instead_of_overflowing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
