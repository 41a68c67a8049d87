/* tests/unit/support_rand.h - a small fixed-seed PRNG (splitmix64) for property tests, so
 * every run of a randomised test sees the same inputs and a failure reproduces. */
#ifndef FOLIO_TEST_SUPPORT_RAND_H
#define FOLIO_TEST_SUPPORT_RAND_H

#include <stdint.h>

struct test_rng {
    uint64_t s;
};

static inline uint64_t test_rng_next(struct test_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (the tiny modulo bias does not matter here). */
static inline uint64_t test_rng_below(struct test_rng *r, uint64_t n)
{
    return test_rng_next(r) % n;
}

#endif
