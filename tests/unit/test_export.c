/* src/server/export.c: the export engine, over a real SQLite file. A walk in small batches
 * writes every row once in the ORDER BY order (a nullable leading sort key included);
 * stopping anywhere and resuming from folio__export_cursor() continues exactly; CSV fields
 * are quoted per RFC 4180, NULL and "" differ, invalid UTF-8 becomes U+FFFD; max_rows
 * ends NDJSON with "@more":true; a set cancel flag stops the walk. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/endpoint.h"
#include "server/export.h"

struct fixture {
    char dir[64], path[96];
    folio_db *db;
    folio_db_conn *conn;
    struct folio_endpoint ep;
    struct folio_keyring kr;
    struct folio_export_query q;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    assert_true(sodium_init() >= 0);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/folio-export-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof fx->path, "%s/t.db", fx->dir);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(fx->path, &h), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(h,
                     "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT, k INTEGER);"
                     "CREATE INDEX t_s ON t(s, id);"
                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                     "WHERE i < 997) INSERT INTO t SELECT i, 'r' || i, "
                     "CASE WHEN i % 5 = 0 THEN NULL ELSE i % 7 END FROM n;"
                     "INSERT INTO t VALUES (1001, 'a\"b,c', 1), (1002, '', 2), (1003, NULL, 3),"
                     " (1004, 'x\r\ny', 4), (1005, CAST(x'61ff62' AS TEXT), 5);",
                     NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("schema: %s", msg);
    sqlite3_close(h);
    struct folio_error err = {0};
    if (folio__db_open(&fx->db, fx->path, &err) != FOLIO_OK ||
        folio__db_connect(fx->db, &fx->conn, &err) != FOLIO_OK)
        fail_msg("open: %s", err.detail);
    const struct folio_table *t = folio__db_table(fx->db, "t");
    assert_non_null(t);
    assert_int_equal(folio__endpoint_init(&fx->ep, t, "/t"), FOLIO_OK);
    folio__endpoint_all_columns(&fx->ep, true);
    folio_keyring_init(&fx->kr, false);
    static const unsigned char secret[32] = {1, 2, 3};
    assert_int_equal(folio_keyring_add(&fx->kr, 1, secret, sizeof secret), FOLIO_OK);
    folio__export_query_init(&fx->q);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    folio__export_query_clear(&fx->q);
    folio_keyring_clear(&fx->kr);
    folio__endpoint_clear(&fx->ep);
    folio__db_disconnect(fx->conn);
    folio__db_close(fx->db);
    unlink(fx->path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static void parse(struct fixture *fx, const char *const *kv)
{
    struct folio_param p[8];
    size_t n = 0;
    for (; kv[2 * n] != NULL; n++)
        p[n] = (struct folio_param){kv[2 * n], kv[2 * n + 1]};
    struct folio_error err = {0};
    if (folio__export_query_parse(&fx->q, &fx->ep, p, n, &fx->kr, &err) != FOLIO_OK)
        fail_msg("parse: %s", err.detail);
}

/* Run a walk to its end (or `stop_after` steps), appending its text to out. */
static void walk(struct fixture *fx, unsigned batch, int64_t max_rows, int stop_after,
                 const atomic_bool *cancel, struct folio_buf *out, char *cursor)
{
    struct folio_export_limits lim = {batch, 1 << 20, 1 << 20, 0, max_rows, 0, 0};
    struct folio_export x;
    struct folio_error err = {0};
    assert_int_equal(folio__export_begin(&x, &fx->q, fx->conn, FOLIO_PARAM_QNUM, &fx->kr, &lim,
                                         cancel, &err),
                     FOLIO_OK);
    for (int steps = 0; !x.done && !x.cancelled && steps != stop_after; steps++) {
        if (folio__export_step(&x, &err) != FOLIO_OK)
            fail_msg("step: %s", err.detail);
        folio_buf_append(out, x.out.data ? x.out.data : "", x.out.len);
        folio_buf_reset(&x.out);
    }
    if (cursor != NULL && !folio__export_cursor(&x, cursor, FOLIO_CURSOR_MAX_TOKEN))
        cursor[0] = '\0';
    folio__export_end(&x);
}

/* The ids of an NDJSON text (checkpoint lines skipped), comma-separated into ids. */
static void ndjson_ids(const struct folio_buf *b, struct folio_buf *ids)
{
    const char *p = b->data, *end = b->data + b->len;
    while (p != NULL && p < end) {
        if (strncmp(p, "{\"id\":", 6) == 0)
            folio_buf_printf(ids, "%ld,", strtol(p + 6, NULL, 10));
        p = memchr(p, '\n', (size_t)(end - p));
        p = p ? p + 1 : NULL;
    }
    folio_buf_putc(ids, '\0');
}

static void sql_ids(struct fixture *fx, const char *order, struct folio_buf *ids)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT id FROM t ORDER BY %s", order);
    assert_int_equal(sqlite3_open(fx->path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        folio_buf_printf(ids, "%lld,", (long long)sqlite3_column_int64(st, 0));
    folio_buf_putc(ids, '\0');
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void test_small_batches_write_every_row_once_in_order(void **state)
{
    struct fixture *fx = *state;
    static const char *const sorts[][3] = {{"k", "k, id"}, {"-k", "k DESC, id DESC"}, {"-s", "s DESC, id DESC"}};
    for (size_t i = 0; i < 3; i++) {
        const char *kv[] = {"sort", sorts[i][0], "fields", "id", NULL};
        parse(fx, kv);
        struct folio_buf out, got, want;
        folio_buf_init(&out, 1 << 24);
        folio_buf_init(&got, 1 << 24);
        folio_buf_init(&want, 1 << 24);
        walk(fx, 7, 0, -1, NULL, &out, NULL);
        ndjson_ids(&out, &got);
        sql_ids(fx, sorts[i][1], &want);
        assert_string_equal(got.data, want.data);
        /* the same walk cut after a few steps and resumed from its cursor */
        folio_buf_reset(&out);
        char cursor[FOLIO_CURSOR_MAX_TOKEN];
        walk(fx, 13, 0, 9, NULL, &out, cursor);
        const char *kv2[] = {"sort", sorts[i][0], "fields", "id", "after", cursor, NULL};
        parse(fx, kv2);
        walk(fx, 11, 0, -1, NULL, &out, NULL);
        folio_buf_reset(&got);
        ndjson_ids(&out, &got);
        assert_string_equal(got.data, want.data);
        folio_buf_clear(&out);
        folio_buf_clear(&got);
        folio_buf_clear(&want);
    }
}

static void test_csv_quotes_and_tells_null_from_empty(void **state)
{
    struct fixture *fx = *state;
    const char *kv[] = {"format", "csv", "fields", "id,s", "id", "gt.1000", NULL};
    parse(fx, kv);
    struct folio_buf out;
    folio_buf_init(&out, 1 << 20);
    walk(fx, 2, 0, -1, NULL, &out, NULL);
    folio_buf_putc(&out, '\0');
    assert_string_equal(out.data, "id,s\r\n"
                                  "1001,\"a\"\"b,c\"\r\n"
                                  "1002,\"\"\r\n"
                                  "1003,\r\n"
                                  "1004,\"x\r\ny\"\r\n"
                                  "1005,a\xEF\xBF\xBD"
                                  "b\r\n");
    folio_buf_clear(&out);
}

static void test_max_rows_ends_with_more_and_cancel_stops(void **state)
{
    struct fixture *fx = *state;
    const char *kv[] = {"fields", "id", NULL};
    parse(fx, kv);
    struct folio_buf out;
    folio_buf_init(&out, 1 << 20);
    walk(fx, 4, 10, -1, NULL, &out, NULL);
    folio_buf_putc(&out, '\0');
    assert_non_null(strstr(out.data, "{\"id\":10}\n{\"@next\":\""));
    assert_non_null(strstr(out.data, "\"@more\":true}\n"));
    assert_null(strstr(out.data, "{\"id\":11}"));
    folio_buf_reset(&out);
    atomic_bool cancel;
    atomic_init(&cancel, true);
    walk(fx, 4, 0, -1, &cancel, &out, NULL);
    assert_null(out.data != NULL ? memchr(out.data, '{', out.len) : NULL);
    folio_buf_clear(&out);
}

static void test_bad_parameters_are_refused(void **state)
{
    struct fixture *fx = *state;
    static const char *const bad[][2] = {{"format", "xml"}, {"snapshot", "yes"},
                                         {"per_page", "3"}, {"after", "junk"},
                                         {"nosuch", "1"},   {"sort", "nosuch"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct folio_param p = {bad[i][0], bad[i][1]};
        struct folio_error err = {0};
        assert_int_not_equal(folio__export_query_parse(&fx->q, &fx->ep, &p, 1, &fx->kr, &err),
                             FOLIO_OK);
        assert_true(err.param[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_small_batches_write_every_row_once_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_csv_quotes_and_tells_null_from_empty, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_max_rows_ends_with_more_and_cancel_stops, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_parameters_are_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
