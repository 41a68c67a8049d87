/* Unit tests for src/lib/buf.c: the hard maximum, and sticky failure (curl's dynbuf): once
 * an append fails the buffer stays failed until reset or clear, a failing append writes
 * none of its bytes, and one check at the end catches a failure in the middle, so a SQL
 * statement or Link header built without checking each append is never silently cut. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "folio/alloc.h"
#include "folio/buf.h"
#include "folio/link.h"
#include "support_alloc.h"

static void test_appends_within_the_maximum_succeed_and_stay_terminated(void **state)
{
    (void)state;
    struct folio_buf b;
    folio_buf_init(&b, 8);
    assert_int_equal(folio_buf_puts(&b, "abc"), FOLIO_OK);
    assert_int_equal(folio_buf_putc(&b, 'd'), FOLIO_OK);
    assert_int_equal(folio_buf_printf(&b, "%d", 5678), FOLIO_OK);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.data, "abcd5678");
    assert_int_equal(folio_buf_status(&b), FOLIO_OK);
    folio_buf_clear(&b);
}

static void test_append_after_a_failure_still_fails(void **state)
{
    (void)state;
    struct folio_buf b;
    folio_buf_init(&b, 10);
    assert_int_equal(folio_buf_puts(&b, "SELECT "), FOLIO_OK);
    assert_int_equal(folio_buf_puts(&b, "a_long_column"), FOLIO_ETOOBIG);
    /* Each of these would fit in the room left; the buffer is failed, so none is taken. */
    assert_int_equal(folio_buf_putc(&b, 'x'), FOLIO_ETOOBIG);
    assert_int_equal(folio_buf_append(&b, "y", 1), FOLIO_ETOOBIG);
    assert_int_equal(folio_buf_puts(&b, "z"), FOLIO_ETOOBIG);
    assert_int_equal(folio_buf_printf(&b, "%d", 1), FOLIO_ETOOBIG);
    assert_int_equal(folio_buf_reserve(&b, 1), FOLIO_ETOOBIG);
    assert_int_equal(folio_buf_status(&b), FOLIO_ETOOBIG);
    assert_string_equal(b.data, "SELECT ");
    assert_int_equal(b.len, 7);
    folio_buf_clear(&b);
}

static void test_a_failing_append_writes_none_of_its_bytes(void **state)
{
    (void)state;
    struct folio_buf b;
    folio_buf_init(&b, 12);
    assert_int_equal(folio_buf_puts(&b, "0123456789"), FOLIO_OK);
    assert_int_equal(folio_buf_append(&b, "abc", 3), FOLIO_ETOOBIG);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    folio_buf_reset(&b);
    assert_int_equal(folio_buf_puts(&b, "0123456789"), FOLIO_OK);
    /* printf formats into the free room first: a text too long must leave nothing. */
    assert_int_equal(folio_buf_printf(&b, "%s", "xyz"), FOLIO_ETOOBIG);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    folio_buf_clear(&b);
}

/* A statement built the way page.c builds one, checking only the last append. */
static folio_status build_sql(struct folio_buf *sql, const char *table, const char *order)
{
    folio_buf_puts(sql, "SELECT * FROM ");
    folio_buf_puts(sql, table);
    folio_buf_puts(sql, " ORDER BY ");
    folio_buf_puts(sql, order);
    return folio_buf_puts(sql, " LIMIT ?1");
}

static void test_the_final_check_catches_a_failure_in_the_middle(void **state)
{
    (void)state;
    struct folio_buf sql;
    folio_buf_init(&sql, 48);
    /* "SELECT * FROM t ORDER BY " is 25 bytes; a 20-byte order fails, the 9-byte tail
     * after it would have fitted and produced a statement without its ORDER BY. */
    assert_int_equal(build_sql(&sql, "t", "a_very_long_order_by"), FOLIO_ETOOBIG);
    assert_int_equal(folio_buf_status(&sql), FOLIO_ETOOBIG);
    assert_null(strstr(sql.data, "LIMIT"));
    folio_buf_reset(&sql);
    assert_int_equal(build_sql(&sql, "t", "id"), FOLIO_OK);
    assert_string_equal(sql.data, "SELECT * FROM t ORDER BY id LIMIT ?1");
    folio_buf_clear(&sql);
}

static void test_an_out_of_memory_failure_is_sticky_too(void **state)
{
    (void)state;
    struct folio_buf b;
    folio_buf_init(&b, 1 << 20);
    assert_int_equal(folio_buf_puts(&b, "first"), FOLIO_OK); /* allocation 1 */
    test_alloc_install(1);
    char big[600];
    memset(big, 'x', sizeof big);
    assert_int_equal(folio_buf_append(&b, big, sizeof big), FOLIO_ENOMEM);
    assert_true(test_alloc_failed());
    /* Memory is available again, but the buffer is failed. */
    assert_int_equal(folio_buf_append(&b, big, sizeof big), FOLIO_ENOMEM);
    assert_int_equal(folio_buf_putc(&b, '!'), FOLIO_ENOMEM);
    assert_int_equal(folio_buf_status(&b), FOLIO_ENOMEM);
    assert_string_equal(b.data, "first");
    test_alloc_uninstall();
    folio_buf_clear(&b);
}

static void test_reset_and_clear_end_a_failure(void **state)
{
    (void)state;
    struct folio_buf b;
    folio_buf_init(&b, 4);
    assert_int_equal(folio_buf_puts(&b, "12345"), FOLIO_ETOOBIG);
    folio_buf_reset(&b);
    assert_int_equal(folio_buf_status(&b), FOLIO_OK);
    assert_int_equal(folio_buf_puts(&b, "1234"), FOLIO_OK);
    assert_int_equal(folio_buf_putc(&b, '5'), FOLIO_ETOOBIG);
    folio_buf_clear(&b);
    assert_int_equal(folio_buf_status(&b), FOLIO_OK);
    assert_int_equal(b.max, 4);
    assert_int_equal(folio_buf_puts(&b, "abcd"), FOLIO_OK);
    assert_string_equal(b.data, "abcd");
    folio_buf_clear(&b);
}

static void test_detach_of_a_failed_buffer_returns_null_and_frees(void **state)
{
    (void)state;
    test_alloc_install(0);
    struct folio_buf b;
    folio_buf_init(&b, 6);
    assert_int_equal(folio_buf_puts(&b, "abc"), FOLIO_OK);
    assert_int_equal(folio_buf_puts(&b, "defg"), FOLIO_ETOOBIG);
    size_t len = 99;
    assert_null(folio_buf_detach(&b, &len));
    assert_int_equal(len, 0);
    assert_int_equal(test_alloc_live(), 0);
    assert_int_equal(folio_buf_status(&b), FOLIO_OK);
    assert_int_equal(folio_buf_puts(&b, "ok"), FOLIO_OK);
    char *p = folio_buf_detach(&b, &len);
    assert_string_equal(p, "ok");
    assert_int_equal(len, 2);
    folio_free(p);
    assert_int_equal(test_alloc_live(), 0);
    test_alloc_uninstall();
}

/* A Link header into a buffer that fills up in the middle: no half link comes out. */
static void test_a_link_header_that_does_not_fit_is_refused_whole(void **state)
{
    (void)state;
    const struct folio_link links[] = {
        {"next", "/api/t?per_page=5&after=AQEAAN_ZDM7j"},
        {"prev", "/api/t?per_page=5&before=AQEAAN-ZDM7j"},
    };
    struct folio_buf b;
    folio_buf_init(&b, 60); /* the first link (about 50 bytes) fits, the second does not */
    assert_int_equal(folio_link_header_write(&b, links, 2), FOLIO_ETOOBIG);
    assert_int_equal(folio_buf_putc(&b, '\n'), FOLIO_ETOOBIG);
    assert_int_equal(folio_buf_status(&b), FOLIO_ETOOBIG);
    folio_buf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appends_within_the_maximum_succeed_and_stay_terminated),
        cmocka_unit_test(test_append_after_a_failure_still_fails),
        cmocka_unit_test(test_a_failing_append_writes_none_of_its_bytes),
        cmocka_unit_test(test_the_final_check_catches_a_failure_in_the_middle),
        cmocka_unit_test(test_an_out_of_memory_failure_is_sticky_too),
        cmocka_unit_test(test_reset_and_clear_end_a_failure),
        cmocka_unit_test(test_detach_of_a_failed_buffer_returns_null_and_frees),
        cmocka_unit_test(test_a_link_header_that_does_not_fit_is_refused_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
