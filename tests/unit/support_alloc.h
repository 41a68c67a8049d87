/* tests/unit/support_alloc.h - a counting allocator that can fail the Nth allocation,
 * installed through folio_allocator_set, for out-of-memory loops and leak counts.
 *
 *   test_alloc_install(n): fail the n-th allocation call (1-based; 0 = never fail)
 *   test_alloc_live():     blocks allocated through the seam and not yet freed
 *   test_alloc_failed():   whether the injected failure has happened
 *   test_alloc_uninstall(): restore the C library allocator
 *
 * Fresh blocks (malloc, realloc of NULL) are filled with TEST_ALLOC_JUNK so that code
 * reading memory it never wrote sees the same wrong bytes on every run.
 *
 * Not thread-safe, like folio_allocator_set itself. */
#ifndef FOLIO_TEST_SUPPORT_ALLOC_H
#define FOLIO_TEST_SUPPORT_ALLOC_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "folio/alloc.h"

#define TEST_ALLOC_JUNK 0xA5

static struct {
    long calls;   /* malloc and realloc calls so far */
    long fail_at; /* 1-based call number to fail, 0 = never */
    long live;    /* allocated, not yet freed */
    bool failed;
} test_alloc_state;

static inline bool test_alloc_should_fail(void)
{
    test_alloc_state.calls++;
    if (test_alloc_state.fail_at != 0 && test_alloc_state.calls == test_alloc_state.fail_at) {
        test_alloc_state.failed = true;
        return true;
    }
    return false;
}

static inline void *test_alloc_malloc(size_t size)
{
    if (test_alloc_should_fail())
        return NULL;
    void *p = malloc(size);
    if (p != NULL) {
        test_alloc_state.live++;
        memset(p, TEST_ALLOC_JUNK, size);
    }
    return p;
}

static inline void *test_alloc_realloc(void *ptr, size_t size)
{
    if (test_alloc_should_fail())
        return NULL;
    void *p = realloc(ptr, size);
    if (p != NULL && ptr == NULL) {
        test_alloc_state.live++;
        memset(p, TEST_ALLOC_JUNK, size);
    }
    return p;
}

static inline void test_alloc_free(void *ptr)
{
    if (ptr != NULL)
        test_alloc_state.live--;
    free(ptr);
}

static inline void test_alloc_install(long fail_at)
{
    static const struct folio_allocator a = {test_alloc_malloc, test_alloc_realloc,
                                             test_alloc_free};
    test_alloc_state.calls = 0;
    test_alloc_state.fail_at = fail_at;
    test_alloc_state.live = 0;
    test_alloc_state.failed = false;
    folio_allocator_set(&a);
}

static inline void test_alloc_uninstall(void)
{
    folio_allocator_set(NULL);
}

static inline long test_alloc_live(void)
{
    return test_alloc_state.live;
}

static inline bool test_alloc_failed(void)
{
    return test_alloc_state.failed;
}

#ifdef fail_msg /* with cmocka */
/* The out-of-memory loop: run op(ctx) with its 1st, 2nd, ... allocation failing until a
 * run meets no failure, which must return FOLIO_OK. No run may leak; a run whose
 * allocation failed must return FOLIO_ENOMEM (or FOLIO_OK when `absorbs`: op may recover
 * from a failed allocation of its own). Returns the number of the first allocation that
 * was never reached, for the caller to check against what op allocates. */
static inline long test_alloc_every_failure(folio_status (*op)(void *ctx), void *ctx,
                                            bool absorbs)
{
    long n;
    for (n = 1; n < 5000; n++) {
        test_alloc_install(n);
        folio_status st = op(ctx);
        bool failed = test_alloc_failed();
        long live = test_alloc_live();
        test_alloc_uninstall();
        if (live != 0)
            fail_msg("allocation %ld failed: %ld blocks leaked", n, live);
        if (!failed) {
            if (st != FOLIO_OK)
                fail_msg("no allocation failed, yet status %d", st);
            return n;
        }
        if (st != FOLIO_ENOMEM && !(absorbs && st == FOLIO_OK))
            fail_msg("allocation %ld failed, status %d", n, st);
    }
    fail_msg("still allocating after 5000 allocations");
    return n;
}
#endif

#endif
