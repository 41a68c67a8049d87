/* src/db: the tiebreaker each table shape gets (docs/internals/table-keys.md), which
 * columns sort through an index, the query deadline, the time budget and the change hint. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "folio/folio.h"

static const char SCHEMA[] =
    "CREATE TABLE desc_pk(id INTEGER PRIMARY KEY DESC, v TEXT);"
    "CREATE TABLE desc_alias(id INTEGER, v TEXT, PRIMARY KEY(id DESC));"
    "CREATE TABLE lower_alias(id integer primary key, v TEXT);"
    "CREATE TABLE int_pk(id INT PRIMARY KEY, v TEXT);"
    "CREATE TABLE wr(a TEXT, b INTEGER, v TEXT, PRIMARY KEY(a, b)) WITHOUT ROWID;"
    "CREATE TABLE no_pk(v TEXT, w TEXT);"
    "CREATE TABLE rowid_col(\"rowid\" TEXT, v TEXT);"
    "CREATE TABLE gen(x INTEGER, \"rowid\" INTEGER AS (x + 1), \"_rowid_\" AS (x));"
    "CREATE TABLE shadow_nn(\"rowid\", \"_rowid_\", \"oid\", k TEXT NOT NULL PRIMARY KEY);"
    "CREATE TABLE unusable(\"rowid\", \"_rowid_\", \"oid\", v);"
    "CREATE TABLE idx(a, b, c, d);"
    "CREATE INDEX idx_b ON idx(b, a); CREATE INDEX idx_c ON idx(c) WHERE c > 0;"
    "CREATE INDEX idx_expr ON idx(a + d);"
    "CREATE VIEW a_view AS SELECT v FROM no_pk;";

struct fixture {
    char dir[64];
    char path[128];
    folio_db *db;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/folio-db-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof fx->path, "%s/t.db", fx->dir);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(fx->path, &h), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(h, SCHEMA, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("schema: %s", msg);
    /* enough rows for a query that runs well past a deadline */
    if (sqlite3_exec(h,
                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                     "WHERE i < 200000) INSERT INTO no_pk SELECT i % 977, i FROM n",
                     NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("rows: %s", msg);
    sqlite3_close(h);
    struct folio_error err = {0};
    if (folio__db_open(&fx->db, fx->path, &err) != FOLIO_OK)
        fail_msg("folio__db_open: %s", err.detail);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    folio__db_close(fx->db);
    unlink(fx->path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static const struct folio_table *table(struct fixture *fx, const char *name)
{
    const struct folio_table *t = folio__db_table(fx->db, name);
    if (t == NULL)
        fail_msg("table %s is not in the schema", name);
    return t;
}

/* The tiebreaker as "name,name" (hidden columns marked with a '*'). */
static void tiebreaker(const struct folio_table *t, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < t->npk && used < size; i++) {
        const struct folio_column *c = &t->cols[t->pk[i]];
        int n = snprintf(out + used, size - used, "%s%s%s", i ? "," : "", c->name,
                         c->hidden ? "*" : "");
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static void test_each_table_shape_gets_a_unique_never_null_tiebreaker(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *table, *want;
    } cases[] = {
        {"desc_pk", "id,rowid*"},        /* the column form DESC is not the rowid */
        {"desc_alias", "id"},            /* the table form is */
        {"lower_alias", "id"},
        {"int_pk", "id,rowid*"},         /* INT is not INTEGER */
        {"wr", "a,b"},                   /* WITHOUT ROWID: its key */
        {"no_pk", "rowid*"},
        {"rowid_col", "_rowid_*"},       /* a column shadows "rowid" */
        {"gen", "oid*"},                 /* so do generated columns */
        {"shadow_nn", "k"},              /* all shadowed: a NOT NULL key still serves */
    };
    char got[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct folio_table *t = table(fx, cases[i].table);
        tiebreaker(t, got, sizeof got);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s: tiebreaker %s, want %s", cases[i].table, got, cases[i].want);
        for (size_t k = 0; k < t->npk; k++)
            if (k + 1 == t->npk && !t->not_null[t->pk[k]])
                fail_msg("%s: the last tiebreaker column %s may be NULL", cases[i].table,
                         t->cols[t->pk[k]].name);
    }
    /* the declared key of a rowid table may hold NULLs: folio must not assume otherwise */
    assert_false(table(fx, "desc_pk")->not_null[0]);
    assert_false(table(fx, "int_pk")->not_null[0]);
    assert_true(table(fx, "wr")->not_null[0] && table(fx, "wr")->not_null[1]);
    /* the default sort is the declared key */
    assert_int_equal(table(fx, "desc_pk")->npk_declared, 1);
    assert_int_equal(table(fx, "no_pk")->npk_declared, 0);
}

static void test_tables_without_an_addressable_key_and_views_are_left_out(void **state)
{
    struct fixture *fx = *state;
    assert_null(folio__db_table(fx->db, "unusable"));
    assert_null(folio__db_table(fx->db, "a_view"));
}

static void test_index_lead_marks_the_columns_an_index_serves(void **state)
{
    struct fixture *fx = *state;
    const struct folio_table *t = table(fx, "idx");
    bool want[] = {false, true, false, false}; /* a, b (idx_b), c (partial), d */
    for (size_t c = 0; c < 4; c++)
        if (t->cols[c].index_lead != want[c])
            fail_msg("idx.%s: index_lead %d", t->cols[c].name, t->cols[c].index_lead);
    assert_true(table(fx, "desc_alias")->cols[0].index_lead);  /* the rowid */
    assert_true(table(fx, "desc_pk")->cols[0].index_lead);     /* its automatic index */
    assert_false(table(fx, "desc_pk")->cols[1].index_lead);
}

static int count_rows(void *ctx, const struct folio_db_row *row)
{
    (void)row;
    (*(int *)ctx)++;
    return 0;
}

/* The slow query (a whole-table sort of no_pk) and its status; *n gets the rows seen. */
static const char SLOW_SQL[] = "SELECT v FROM no_pk ORDER BY w DESC, v";

static folio_status slow_query(folio_db_conn *c, int *n, struct folio_error *err)
{
    *n = 0;
    return folio__db_query(c, SLOW_SQL, sizeof SLOW_SQL - 1, NULL, 0, count_rows, n, err);
}

/* The slow query runs to its end: every row. */
static void assert_slow_query_completes(folio_db_conn *c)
{
    struct folio_error err = {0};
    int n;
    assert_int_equal(slow_query(c, &n, &err), FOLIO_OK);
    assert_int_equal(n, 200000);
}

static void test_a_query_past_its_deadline_stops_with_etimeout(void **state)
{
    struct fixture *fx = *state;
    folio_db_conn *c;
    struct folio_error err = {0};
    assert_int_equal(folio__db_connect(fx->db, &c, &err), FOLIO_OK);
    int n;
    folio__db_deadline(c, folio__db_now_ms() - 1); /* already passed */
    assert_int_equal(slow_query(c, &n, &err), FOLIO_ETIMEOUT);
    assert_int_equal(err.kind, FOLIO_KIND_TRANSIENT);
    /* the same statement runs to the end once the limit is lifted */
    folio__db_deadline(c, 0);
    assert_slow_query_completes(c);
    /* a deadline far away changes nothing */
    folio__db_deadline(c, folio__db_now_ms() + 600000);
    assert_slow_query_completes(c);
    folio__db_disconnect(c);
}

static void test_a_budget_stops_a_query_and_marks_itself_spent(void **state)
{
    struct fixture *fx = *state;
    folio_db_conn *c;
    struct folio_error err = {0};
    assert_int_equal(folio__db_connect(fx->db, &c, &err), FOLIO_OK);
    int n;
    assert_true(folio__db_budget(c, folio__db_now_us() + 200)); /* SQLite has one */
    uint64_t t0 = folio__db_now_us();
    folio_status st = slow_query(c, &n, &err);
    uint64_t took = folio__db_now_us() - t0;
    assert_int_equal(st, FOLIO_ETIMEOUT);
    assert_true(folio__db_budget_spent(c));
    /* stopped within a few progress checks of the budget, not at the end of the sort */
    assert_true(took < 100000);
    /* lifting the budget clears the mark and the query runs to the end */
    assert_true(folio__db_budget(c, 0));
    assert_false(folio__db_budget_spent(c));
    assert_slow_query_completes(c);
    /* a budget that is not reached is not spent */
    assert_true(folio__db_budget(c, folio__db_now_us() + 60000000));
    static const char one[] = "SELECT v FROM no_pk LIMIT 3";
    n = 0;
    assert_int_equal(folio__db_query(c, one, sizeof one - 1, NULL, 0, count_rows, &n, &err),
                     FOLIO_OK);
    assert_int_equal(n, 3);
    assert_false(folio__db_budget_spent(c));
    folio__db_budget(c, 0);
    folio__db_disconnect(c);
}

/* A read transaction whose statements ran past the budget (or a deadline) still ends: the
 * next one begins. Every statement is stopped as it starts once the budget has passed. */
static void test_a_read_transaction_ends_even_past_its_budget(void **state)
{
    struct fixture *fx = *state;
    folio_db_conn *c;
    struct folio_error err = {0};
    assert_int_equal(folio__db_connect(fx->db, &c, &err), FOLIO_OK);
    for (int round = 0; round < 3; round++) {
        folio__db_budget(c, folio__db_now_us() + 100);
        int n;
        if (folio__db_begin_read(c, &err) == FOLIO_OK)
            (void)slow_query(c, &n, &err);
        folio__db_end_read(c);
        folio__db_budget(c, 0);
        /* a fresh transaction begins and reads everything */
        memset(&err, 0, sizeof err);
        assert_int_equal(folio__db_begin_read(c, &err), FOLIO_OK);
        assert_slow_query_completes(c);
        folio__db_end_read(c);
    }
    /* SQLite calls the progress check when a statement's step count, summed over its runs
     * (the statements are cached), crosses a multiple of the check interval: BEGIN and
     * COMMIT themselves get stopped now and then. Thousands of transactions, each past its
     * budget: every one still ends. */
    for (int round = 0; round < 5000; round++) {
        folio__db_budget(c, folio__db_now_us() - 1);
        if (folio__db_begin_read(c, &err) == FOLIO_OK) {
            int64_t v;
            (void)folio__db_data_version(c, (uint64_t *)&v);
        }
        folio__db_end_read(c);
        folio__db_budget(c, 0);
        memset(&err, 0, sizeof err);
        assert_int_equal(folio__db_begin_read(c, &err), FOLIO_OK);
        folio__db_end_read(c);
    }
    /* a deadline that passes inside the transaction: the same */
    folio__db_deadline(c, folio__db_now_ms() - 1);
    (void)folio__db_begin_read(c, &err);
    folio__db_end_read(c);
    folio__db_deadline(c, 0);
    assert_int_equal(folio__db_begin_read(c, &err), FOLIO_OK);
    folio__db_end_read(c);
    folio__db_disconnect(c);
}

/* Under a budget a lock another connection holds is not waited for (a rollback-journal
 * writer committing); without one it is, until the lock goes. */
static void test_a_budget_does_not_wait_for_a_lock(void **state)
{
    struct fixture *fx = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/lock.db", fx->dir);
    sqlite3 *w;
    assert_int_equal(sqlite3_open(path, &w), SQLITE_OK);
    assert_int_equal(sqlite3_exec(w, "PRAGMA journal_mode=DELETE; CREATE TABLE t(id INTEGER "
                                     "PRIMARY KEY, v); INSERT INTO t VALUES (1, 'a');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    folio_db *db;
    struct folio_error err = {0};
    assert_int_equal(folio__db_open(&db, path, &err), FOLIO_OK);
    folio_db_conn *c;
    assert_int_equal(folio__db_connect(db, &c, &err), FOLIO_OK);
    /* the writer holds an exclusive lock: no reader may read */
    assert_int_equal(sqlite3_exec(w, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    static const char sql[] = "SELECT v FROM t";
    int n = 0;
    folio__db_budget(c, folio__db_now_us() + 10000000); /* 10 s: far from reached */
    uint64_t t0 = folio__db_now_us();
    assert_int_not_equal(folio__db_query(c, sql, sizeof sql - 1, NULL, 0, count_rows, &n, &err),
                         FOLIO_OK);
    assert_true(folio__db_now_us() - t0 < 1000000); /* refused at once, not after waiting */
    assert_true(folio__db_budget_spent(c));
    folio__db_budget(c, 0);
    assert_int_equal(sqlite3_exec(w, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    n = 0;
    memset(&err, 0, sizeof err);
    assert_int_equal(folio__db_query(c, sql, sizeof sql - 1, NULL, 0, count_rows, &n, &err),
                     FOLIO_OK);
    assert_int_equal(n, 1);
    folio__db_disconnect(c);
    folio__db_close(db);
    sqlite3_close(w);
    unlink(path);
}

/* The change hint says "nothing written" only when nothing was: each commit by another
 * connection (WAL or rollback journal, append or WAL restart) is seen by the next poll. */
static void test_the_change_hint_sees_every_commit(void **state)
{
    struct fixture *fx = *state;
    static const char *const modes[] = {"WAL", "DELETE"};
    for (size_t m = 0; m < 2; m++) {
        char path[160], sql[128];
        snprintf(path, sizeof path, "%s/hint%zu.db", fx->dir, m);
        sqlite3 *w;
        assert_int_equal(sqlite3_open(path, &w), SQLITE_OK);
        snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s; CREATE TABLE t(v);", modes[m]);
        assert_int_equal(sqlite3_exec(w, sql, NULL, NULL, NULL), SQLITE_OK);
        folio_db *db;
        struct folio_error err = {0};
        assert_int_equal(folio__db_open(&db, path, &err), FOLIO_OK);
        folio_db_conn *c;
        assert_int_equal(folio__db_connect(db, &c, &err), FOLIO_OK);
        uint64_t v0, v1;
        assert_int_equal(folio__db_data_version(c, &v0), FOLIO_OK);
        struct folio_db_hint *h = folio__db_hint_open(c);
        assert_non_null(h); /* /tmp is a local file system */
        assert_true(folio__db_hint_poll(h)); /* the first poll cannot know */
        assert_false(folio__db_hint_poll(h));
        assert_false(folio__db_hint_poll(h));
        for (int i = 0; i < 50; i++) {
            assert_int_equal(sqlite3_exec(w, "INSERT INTO t VALUES (1)", NULL, NULL, NULL),
                             SQLITE_OK);
            if (i % 10 == 9) /* a checkpoint that restarts the WAL from its start */
                (void)sqlite3_exec(w, "PRAGMA wal_checkpoint(RESTART)", NULL, NULL, NULL);
            assert_true(folio__db_hint_poll(h));
            assert_int_equal(folio__db_data_version(c, &v1), FOLIO_OK);
            assert_true(v1 != v0);
            v0 = v1;
            assert_false(folio__db_hint_poll(h));
        }
        /* reads write nothing */
        assert_int_equal(sqlite3_exec(w, "SELECT count(*) FROM t", NULL, NULL, NULL), SQLITE_OK);
        assert_false(folio__db_hint_poll(h));
        folio__db_hint_close(h);
        folio__db_disconnect(c);
        folio__db_close(db);
        sqlite3_close(w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_table_shape_gets_a_unique_never_null_tiebreaker),
        cmocka_unit_test(test_tables_without_an_addressable_key_and_views_are_left_out),
        cmocka_unit_test(test_index_lead_marks_the_columns_an_index_serves),
        cmocka_unit_test(test_a_query_past_its_deadline_stops_with_etimeout),
        cmocka_unit_test(test_a_budget_stops_a_query_and_marks_itself_spent),
        cmocka_unit_test(test_a_read_transaction_ends_even_past_its_budget),
        cmocka_unit_test(test_a_budget_does_not_wait_for_a_lock),
        cmocka_unit_test(test_the_change_hint_sees_every_commit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
