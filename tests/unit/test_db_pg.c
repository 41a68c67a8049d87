/* src/db/db_pg.c and the seam's backend choice, without a server: which targets select
 * PostgreSQL, the JSON form of each type's text, which $n a statement uses, and that a
 * PostgreSQL target that cannot be reached fails at open with a clear, transient error. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "folio/folio.h"

static void test_postgresql_uris_and_conninfo_select_postgresql(void **state)
{
    (void)state;
    static const char *const pg[] = {
        "postgresql://u@localhost:5432/db", "postgres://u@h/db", "postgresql:///db",
        "host=/tmp dbname=x", "dbname=x", "  port = 5432 host=h", "user=me",
        "service=folio",
    };
    static const char *const sqlite[] = {
        "app.db", "/var/lib/app.db", "./postgresql.db", "postgresql", "notes=1.db",
        "data/host=x.db", "=x", "", "Host=x", "postgresql:/x", "host",
    };
    for (size_t i = 0; i < sizeof pg / sizeof pg[0]; i++) {
        if (!folio__db_target_is_pg(pg[i]))
            fail_msg("'%s' should select PostgreSQL", pg[i]);
        assert_ptr_equal(folio__db_backend_of(pg[i]), &folio__db_pg_ops);
    }
    for (size_t i = 0; i < sizeof sqlite / sizeof sqlite[0]; i++) {
        if (folio__db_target_is_pg(sqlite[i]))
            fail_msg("'%s' should stay a SQLite path", sqlite[i]);
        assert_ptr_equal(folio__db_backend_of(sqlite[i]), &folio__db_sqlite_ops);
    }
}

static void test_backends_state_their_differences_as_capabilities(void **state)
{
    (void)state;
    unsigned pg = folio__db_pg_ops.caps, sq = folio__db_sqlite_ops.caps;
    /* NULL order, the hidden rowid, LIKE's case rule: what the engine must not guess. */
    assert_true(pg & FOLIO_DB_CAP_NULLS_LARGE);
    assert_false(sq & FOLIO_DB_CAP_NULLS_LARGE);
    assert_true(sq & FOLIO_DB_CAP_HIDDEN_KEY);
    assert_false(pg & FOLIO_DB_CAP_HIDDEN_KEY);
    assert_true(pg & FOLIO_DB_CAP_LIKE_CASE_SENSITIVE);
    assert_true(pg & FOLIO_DB_CAP_ROW_VALUES);
    assert_true((pg & FOLIO_DB_CAP_SNAPSHOT) && (sq & FOLIO_DB_CAP_SNAPSHOT));
    assert_true((pg & FOLIO_DB_CAP_DATA_VERSION) && (sq & FOLIO_DB_CAP_DATA_VERSION));
    assert_string_equal(folio__db_pg_ops.dialect.like_op, "ILIKE");
    assert_int_equal(folio__db_pg_ops.param_style, FOLIO_PARAM_DOLLAR);
}

/* The JSON text of one value, as a static string for comparisons. */
static const char *as_json(unsigned oid, unsigned elem, const char *text)
{
    static char out[1024];
    struct folio_buf b;
    folio_buf_init(&b, sizeof out);
    struct folio_json j;
    folio_json_init(&j, &b);
    folio_json_array_begin(&j); /* a container, so that one value is a complete text */
    folio__pg_value_json(&j, oid, elem, text, strlen(text));
    folio_json_array_end(&j);
    assert_int_equal(folio_json_status(&j), FOLIO_OK);
    snprintf(out, sizeof out, "%.*s", (int)b.len - 2, b.data + 1);
    folio_buf_clear(&b);
    return out;
}

static void test_each_type_has_its_documented_json_form(void **state)
{
    (void)state;
    assert_string_equal(as_json(20, 0, "-9223372036854775808"), "-9223372036854775808");
    assert_string_equal(as_json(23, 0, "42"), "42");
    /* numeric: PostgreSQL's exact digits and scale, never through a double */
    assert_string_equal(as_json(1700, 0, "12345678901234567890.000000000001"),
                        "12345678901234567890.000000000001");
    assert_string_equal(as_json(1700, 0, "1.10"), "1.10");
    assert_string_equal(as_json(1700, 0, "NaN"), "\"NaN\"");
    assert_string_equal(as_json(701, 0, "0.1"), "0.1");
    assert_string_equal(as_json(701, 0, "1e+300"), "1e+300");
    assert_string_equal(as_json(701, 0, "Infinity"), "\"Infinity\"");
    assert_string_equal(as_json(700, 0, "-Infinity"), "\"-Infinity\"");
    assert_string_equal(as_json(16, 0, "t"), "true");
    assert_string_equal(as_json(16, 0, "f"), "false");
    assert_string_equal(as_json(3802, 0, "{\"a\": [1, null]}"), "{\"a\": [1, null]}");
    assert_string_equal(as_json(114, 0, "\"s\""), "\"s\"");
    assert_string_equal(as_json(17, 0, "\\x00ff10"), "\"AP8Q\"");
    assert_string_equal(as_json(17, 0, "\\x"), "\"\"");
    assert_string_equal(as_json(1082, 0, "2024-02-29"), "\"2024-02-29\"");
    assert_string_equal(as_json(1114, 0, "2024-01-02 03:04:05.000001"),
                        "\"2024-01-02T03:04:05.000001\"");
    assert_string_equal(as_json(1184, 0, "2024-01-02 03:04:05.123456+00"),
                        "\"2024-01-02T03:04:05.123456Z\"");
    assert_string_equal(as_json(1184, 0, "infinity"), "\"infinity\"");
    assert_string_equal(as_json(1114, 0, "0044-03-15 12:00:00 BC"),
                        "\"0044-03-15 12:00:00 BC\"");
    assert_string_equal(as_json(2950, 0, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
                        "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
    assert_string_equal(as_json(1042, 0, "ab  "), "\"ab  \""); /* char(n) keeps padding */
}

static void test_arrays_become_json_arrays_of_their_element_forms(void **state)
{
    (void)state;
    assert_string_equal(as_json(1007, 23, "{1,2,NULL}"), "[1,2,null]");
    assert_string_equal(as_json(1007, 23, "{}"), "[]");
    assert_string_equal(as_json(1007, 23, "{{1,2},{3,4}}"), "[[1,2],[3,4]]");
    assert_string_equal(as_json(1007, 23, "[0:1]={7,8}"), "[7,8]");
    assert_string_equal(as_json(1009, 25, "{a,\"b c\",\"q\\\"x\",\"NULL\",NULL,\"\\\\\"}"),
                        "[\"a\",\"b c\",\"q\\\"x\",\"NULL\",null,\"\\\\\"]");
    assert_string_equal(as_json(1000, 16, "{t,f}"), "[true,false]");
    assert_string_equal(as_json(3807, 3802, "{\"{\\\"k\\\": 1}\",NULL}"), "[{\"k\": 1},null]");
    assert_string_equal(as_json(1001, 17, "{\"\\\\x00ff\"}"), "[\"AP8=\"]");
    assert_string_equal(as_json(1231, 1700, "{1.50,NaN}"), "[1.50,\"NaN\"]");
}

static void test_statement_parameters_are_found_outside_quotes(void **state)
{
    (void)state;
    bool used[16];
    const char *sql = "SELECT \"$1\", 'a $2 b' FROM t WHERE x > $3 AND (y < $3 OR z = $12)";
    memset(used, 0, sizeof used);
    assert_int_equal(folio__pg_scan_params(sql, strlen(sql), used, 16), 12);
    for (int i = 0; i < 16; i++)
        assert_int_equal(used[i], i == 2 || i == 11);
    /* a keyset phase that tests only NULLs leaves $1 unused: it must be seen as such */
    sql = "SELECT a FROM t WHERE a IS NULL AND b > $2 ORDER BY a, b LIMIT $3";
    memset(used, 0, sizeof used);
    assert_int_equal(folio__pg_scan_params(sql, strlen(sql), used, 16), 3);
    assert_false(used[0]);
    assert_true(used[1] && used[2]);
    memset(used, 0, sizeof used);
    assert_int_equal(folio__pg_scan_params("SELECT $99", 10, used, 16), 0);
}

static void test_an_unreachable_server_fails_at_open_with_a_transient_error(void **state)
{
    (void)state;
    /* A unix socket directory with no server in it: refused at once, no network. */
    folio_db *db = NULL;
    struct folio_error err = {0};
    folio_status st = folio__db_open(&db, "host=/nonexistent-folio-dir port=1 dbname=x", &err);
    assert_int_not_equal(st, FOLIO_OK);
    assert_null(db);
    assert_int_equal(err.kind, FOLIO_KIND_TRANSIENT);
    assert_non_null(strstr(err.detail, "unavailable"));
    /* and a connection string libpq cannot parse is refused as such */
    memset(&err, 0, sizeof err);
    st = folio__db_open(&db, "postgresql://[::1", &err);
    assert_int_not_equal(st, FOLIO_OK);
    assert_non_null(strstr(err.detail, "PostgreSQL"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postgresql_uris_and_conninfo_select_postgresql),
        cmocka_unit_test(test_backends_state_their_differences_as_capabilities),
        cmocka_unit_test(test_each_type_has_its_documented_json_form),
        cmocka_unit_test(test_arrays_become_json_arrays_of_their_element_forms),
        cmocka_unit_test(test_statement_parameters_are_found_outside_quotes),
        cmocka_unit_test(test_an_unreachable_server_fails_at_open_with_a_transient_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
