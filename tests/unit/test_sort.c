/* Unit tests for src/lib/sort.c: parsing and formatting sort specifications, and the
 * keyset predicate builder checked against brute force. The brute-force test fills an
 * in-memory SQLite table with duplicates, NULLs and mixed types, orders it with the
 * builder's ORDER BY, and checks that for every boundary row the builder's WHERE clause
 * selects exactly the rows after (or before) it in that order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/alloc.h"
#include "folio/sort.h"
#include "support_alloc.h"
#include "support_rand.h"

/* Column names as users spell them, and the SQL expressions the builder gets. */
static const char *const NAMES[] = {"a", "b", "c", "d", "id"};
static const char *const COLS[] = {"\"a\"", "\"b\"", "\"c\"", "\"d\"", "\"id\""};
enum { COL_A, COL_B, COL_C, COL_D, COL_ID, NCOLS };
static const bool NOT_NULL_NONE[NCOLS] = {false, false, false, false, false};
static const bool NOT_NULL_TRUE[NCOLS] = {false, false, false, true, true}; /* as declared */

#define BUF_MAX (1u << 20)

/* --- folio_sort_parse ------------------------------------------------------------------ */

static folio_status parse(struct folio_sort *s, const char *spec, struct folio_error *err)
{
    return folio_sort_parse(s, spec, NAMES, NCOLS, err);
}

static void test_parse_reads_columns_and_directions_in_order(void **state)
{
    (void)state;
    struct folio_sort s;
    assert_int_equal(parse(&s, "a", NULL), FOLIO_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.keys[0].column, COL_A);
    assert_false(s.keys[0].desc);

    assert_int_equal(parse(&s, "-c,a,-id", NULL), FOLIO_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.keys[0].column, COL_C);
    assert_true(s.keys[0].desc);
    assert_int_equal(s.keys[1].column, COL_A);
    assert_false(s.keys[1].desc);
    assert_int_equal(s.keys[2].column, COL_ID);
    assert_true(s.keys[2].desc);
}

static void test_parse_rejects_unknown_columns_naming_sort(void **state)
{
    (void)state;
    const char *bad[] = {"zz", "A", "i", "idx", "ida", " a", "a ", "a,zz", "-zz", "--a",
                         "a;drop", "\"a\"", "a)", "b,a%20"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct folio_sort s;
        struct folio_error err = {0};
        folio_status st = parse(&s, bad[i], &err);
        if (st != FOLIO_EUNKNOWN_COLUMN)
            fail_msg("sort=\"%s\": got %s, want unknown column", bad[i], folio_strerror(st));
        assert_int_equal(err.status, FOLIO_EUNKNOWN_COLUMN);
        assert_int_equal(err.kind, FOLIO_KIND_INPUT);
        assert_string_equal(err.param, "sort");
    }
}

static void test_parse_rejects_empty_items_and_bare_minus(void **state)
{
    (void)state;
    const char *bad[] = {"", ",", "a,", ",a", "a,,b", "-", "-,a", "a,-", ",,"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct folio_sort s;
        struct folio_error err = {0};
        folio_status st = parse(&s, bad[i], &err);
        if (st != FOLIO_EPARAM)
            fail_msg("sort=\"%s\": got %s, want invalid parameter", bad[i], folio_strerror(st));
        assert_int_equal(err.kind, FOLIO_KIND_INPUT);
        assert_string_equal(err.param, "sort");
    }
}

static void test_parse_rejects_a_column_named_twice_in_any_direction(void **state)
{
    (void)state;
    const char *bad[] = {"a,a", "a,-a", "-a,a", "-a,-a", "a,b,a", "id,c,-id"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct folio_sort s;
        struct folio_error err = {0};
        folio_status st = parse(&s, bad[i], &err);
        if (st != FOLIO_EPARAM)
            fail_msg("sort=\"%s\": got %s, want invalid parameter", bad[i], folio_strerror(st));
        assert_string_equal(err.param, "sort");
    }
}

static void test_parse_accepts_at_most_sort_max_keys(void **state)
{
    (void)state;
    char names[FOLIO_SORT_MAX + 4][8];
    const char *cols[FOLIO_SORT_MAX + 4];
    for (size_t i = 0; i < FOLIO_SORT_MAX + 4; i++) {
        snprintf(names[i], sizeof names[i], "k%zu", i);
        cols[i] = names[i];
    }
    char spec[256] = "";
    for (size_t i = 0; i < FOLIO_SORT_MAX; i++)
        snprintf(spec + strlen(spec), sizeof spec - strlen(spec), "%s%sk%zu", i ? "," : "",
                 i % 2 ? "-" : "", i);
    struct folio_sort s;
    assert_int_equal(folio_sort_parse(&s, spec, cols, FOLIO_SORT_MAX + 4, NULL), FOLIO_OK);
    assert_int_equal(s.n, FOLIO_SORT_MAX);

    strcat(spec, ",k17");
    struct folio_error err = {0};
    assert_int_equal(folio_sort_parse(&s, spec, cols, FOLIO_SORT_MAX + 4, &err), FOLIO_EPARAM);
    assert_string_equal(err.param, "sort");
    assert_int_equal(err.kind, FOLIO_KIND_INPUT);
}

/* The client is told the limit that is actually enforced. */
static void test_too_many_keys_detail_states_the_enforced_limit(void **state)
{
    (void)state;
    char names[FOLIO_SORT_MAX + 1][8];
    const char *cols[FOLIO_SORT_MAX + 1];
    char spec[256] = "";
    for (size_t i = 0; i <= FOLIO_SORT_MAX; i++) {
        snprintf(names[i], sizeof names[i], "k%zu", i);
        cols[i] = names[i];
        snprintf(spec + strlen(spec), sizeof spec - strlen(spec), "%sk%zu", i ? "," : "", i);
    }
    struct folio_sort s;
    struct folio_error err = {0};
    assert_int_equal(folio_sort_parse(&s, spec, cols, FOLIO_SORT_MAX + 1, &err), FOLIO_EPARAM);
    /* FOLIO_SORT_MAX keys were accepted above, so "more than FOLIO_SORT_MAX" is the rule */
    char want[32];
    snprintf(want, sizeof want, "%d", FOLIO_SORT_MAX);
    if (strstr(err.detail, want) == NULL)
        fail_msg("detail \"%s\" does not state the limit %d that parse enforces", err.detail,
                 FOLIO_SORT_MAX);
}

static void test_format_gives_canonical_text_that_parses_back(void **state)
{
    (void)state;
    const char *specs[] = {"a", "-a", "-c,a,-id", "id", "b,c,d,a,-id"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        struct folio_sort s, again;
        assert_int_equal(parse(&s, specs[i], NULL), FOLIO_OK);
        struct folio_buf b;
        folio_buf_init(&b, 1024);
        assert_int_equal(folio_sort_format(&b, &s, NAMES), FOLIO_OK);
        assert_string_equal(b.data, specs[i]);
        assert_int_equal(parse(&again, b.data, NULL), FOLIO_OK);
        assert_int_equal(again.n, s.n);
        for (size_t k = 0; k < s.n; k++) {
            assert_int_equal(again.keys[k].column, s.keys[k].column);
            assert_int_equal(again.keys[k].desc, s.keys[k].desc);
        }
        folio_buf_clear(&b);
    }
    struct folio_sort empty = {0};
    struct folio_buf b;
    folio_buf_init(&b, 1024);
    assert_int_equal(folio_sort_format(&b, &empty, NAMES), FOLIO_OK);
    assert_int_equal(b.len, 0);
    folio_buf_clear(&b);
}

static void test_append_adds_a_tiebreaker_once_and_keeps_its_direction(void **state)
{
    (void)state;
    struct folio_sort s;
    assert_int_equal(parse(&s, "-b", NULL), FOLIO_OK);
    assert_int_equal(folio_sort_append(&s, COL_ID), FOLIO_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.keys[1].column, COL_ID);
    assert_false(s.keys[1].desc);
    assert_int_equal(folio_sort_append(&s, COL_ID), FOLIO_OK);
    assert_int_equal(s.n, 2);

    assert_int_equal(parse(&s, "-id", NULL), FOLIO_OK);
    assert_int_equal(folio_sort_append(&s, COL_ID), FOLIO_OK);
    assert_int_equal(s.n, 1);
    assert_true(s.keys[0].desc); /* the user's direction stays */

    struct folio_sort full = {0};
    for (int i = 0; i < FOLIO_SORT_MAX; i++)
        assert_int_equal(folio_sort_append(&full, i), FOLIO_OK);
    assert_int_equal(folio_sort_append(&full, FOLIO_SORT_MAX), FOLIO_ELIMIT);
    assert_int_equal(folio_sort_append(&full, 0), FOLIO_OK); /* already there */
    assert_int_equal(full.n, FOLIO_SORT_MAX);
}

/* --- folio_keyset_order_by and shapes ----------------------------------------------------- */

/* The NULL order under test: SQLite's own (NULL smallest), or PostgreSQL's (NULL largest:
 * written out as NULLS LAST / NULLS FIRST, which SQLite also understands), and whether
 * the builder may use row values. */
static bool g_nulls_large, g_row_values;

static char *order_by(const struct folio_sort *s, bool backward)
{
    struct folio_buf b;
    folio_buf_init(&b, BUF_MAX);
    if (g_nulls_large) {
        for (size_t k = 0; k < s->n; k++) {
            bool desc = s->keys[k].desc != backward;
            assert_int_equal(folio_buf_printf(&b, "%s%s %s", k ? ", " : "",
                                              COLS[s->keys[k].column],
                                              desc ? "DESC NULLS FIRST" : "ASC NULLS LAST"),
                             FOLIO_OK);
        }
    } else {
        assert_int_equal(folio_keyset_order_by(&b, s, COLS, backward), FOLIO_OK);
    }
    if (b.data == NULL)
        assert_int_equal(folio_buf_puts(&b, ""), FOLIO_OK);
    return folio_buf_detach(&b, NULL);
}

static void test_order_by_lists_keys_and_reverses_for_backward(void **state)
{
    (void)state;
    struct folio_sort s;
    assert_int_equal(parse(&s, "a,-b,id", NULL), FOLIO_OK);
    char *fwd = order_by(&s, false), *back = order_by(&s, true);
    assert_string_equal(fwd, "\"a\" ASC, \"b\" DESC, \"id\" ASC");
    assert_string_equal(back, "\"a\" DESC, \"b\" ASC, \"id\" DESC");
    folio_free(fwd);
    folio_free(back);
}

static char *where(const struct folio_sort *s, const bool *not_null,
                   const struct folio_value *values, bool backward, bool inclusive,
                   int first_param, enum folio_param_style style)
{
    struct folio_keyset_spec spec = {s,         COLS,      not_null, values,        backward,
                                     inclusive, first_param, style, g_nulls_large, g_row_values};
    struct folio_buf b;
    folio_buf_init(&b, BUF_MAX);
    assert_int_equal(folio_keyset_where(&b, &spec), FOLIO_OK);
    assert_non_null(b.data);
    assert_true(b.len > 0);
    return folio_buf_detach(&b, NULL);
}

static void test_empty_sort_selects_all_rows_when_inclusive_and_none_otherwise(void **state)
{
    (void)state;
    struct folio_sort s = {0};
    for (int back = 0; back <= 1; back++) {
        char *incl = where(&s, NULL, NULL, back, true, 1, FOLIO_PARAM_QNUM);
        char *excl = where(&s, NULL, NULL, back, false, 1, FOLIO_PARAM_QNUM);
        assert_string_equal(incl, "1");
        assert_string_equal(excl, "0");
        folio_free(incl);
        folio_free(excl);
    }
}

static void test_constant_predicates_are_written_as_1_and_0(void **state)
{
    (void)state;
    struct folio_sort s;
    struct folio_value null = {.type = FOLIO_VALUE_NULL};
    /* NULL is first ascending: everything is at-or-after it */
    assert_int_equal(parse(&s, "a", NULL), FOLIO_OK);
    char *p = where(&s, NULL, &null, false, true, 1, FOLIO_PARAM_QNUM);
    assert_string_equal(p, "1");
    folio_free(p);
    p = where(&s, NULL, &null, false, false, 1, FOLIO_PARAM_QNUM);
    assert_string_equal(p, "\"a\" IS NOT NULL");
    folio_free(p);
    /* NULL is last descending: nothing is after it */
    assert_int_equal(parse(&s, "-a", NULL), FOLIO_OK);
    p = where(&s, NULL, &null, false, false, 1, FOLIO_PARAM_QNUM);
    assert_string_equal(p, "0");
    folio_free(p);
    p = where(&s, NULL, &null, false, true, 1, FOLIO_PARAM_QNUM);
    assert_string_equal(p, "\"a\" IS NULL");
    folio_free(p);
}

static void test_leading_key_gets_a_range_an_index_can_use(void **state)
{
    (void)state;
    struct folio_sort s;
    assert_int_equal(parse(&s, "d,id", NULL), FOLIO_OK);
    struct folio_value v[2] = {{.type = FOLIO_VALUE_INT, .i = 3}, {.type = FOLIO_VALUE_INT, .i = 9}};
    char *p = where(&s, NOT_NULL_TRUE, v, false, false, 1, FOLIO_PARAM_QNUM);
    assert_string_equal(p, "\"d\" >= ?1 AND (\"d\" > ?1 OR \"id\" > ?2)");
    folio_free(p);
}

static void test_parameters_are_numbered_by_key_position_in_both_styles(void **state)
{
    (void)state;
    struct folio_sort s;
    assert_int_equal(parse(&s, "a,b,id", NULL), FOLIO_OK);
    struct folio_value v[3] = {{.type = FOLIO_VALUE_INT, .i = 1},
                               {.type = FOLIO_VALUE_TEXT, .s = "x", .len = 1},
                               {.type = FOLIO_VALUE_INT, .i = 2}};
    char *q = where(&s, NULL, v, false, false, 3, FOLIO_PARAM_QNUM);
    char *d = where(&s, NULL, v, false, false, 3, FOLIO_PARAM_DOLLAR);
    assert_non_null(strstr(q, "?3"));
    assert_non_null(strstr(q, "?4"));
    assert_non_null(strstr(q, "?5"));
    assert_null(strstr(q, "$"));
    assert_null(strstr(q, "?1"));
    assert_null(strstr(q, "?2"));
    assert_non_null(strstr(d, "$3"));
    assert_non_null(strstr(d, "$4"));
    assert_non_null(strstr(d, "$5"));
    assert_null(strstr(d, "?"));
    folio_free(q);
    folio_free(d);

    /* a NULL boundary value needs no parameter and does not shift the others */
    v[1] = (struct folio_value){.type = FOLIO_VALUE_NULL};
    q = where(&s, NULL, v, false, false, 1, FOLIO_PARAM_QNUM);
    assert_non_null(strstr(q, "?1"));
    assert_null(strstr(q, "?2"));
    assert_non_null(strstr(q, "?3"));
    assert_non_null(strstr(q, "\"b\" IS"));
    folio_free(q);
}

static void test_not_null_columns_need_no_null_branch(void **state)
{
    (void)state;
    struct folio_sort s;
    assert_int_equal(parse(&s, "-d", NULL), FOLIO_OK);
    struct folio_value v = {.type = FOLIO_VALUE_INT, .i = 1};
    char *nullable = where(&s, NOT_NULL_NONE, &v, false, false, 1, FOLIO_PARAM_QNUM);
    char *declared = where(&s, NOT_NULL_TRUE, &v, false, false, 1, FOLIO_PARAM_QNUM);
    assert_non_null(strstr(nullable, "IS NULL"));
    assert_null(strstr(declared, "NULL"));
    folio_free(nullable);
    folio_free(declared);
}

/* The predicate is made only of the caller's column expressions, operators, parameters
 * and keywords: no boundary value and no other text ever reaches the SQL. */
static void test_predicate_never_contains_boundary_values_or_user_text(void **state)
{
    (void)state;
    static const char evil[] = "'); DROP TABLE t; -- \" ?1 $1";
    struct test_rng r = {99};
    for (int iter = 0; iter < 2000; iter++) {
        struct folio_sort s = {0};
        size_t n = 1 + (size_t)test_rng_below(&r, 4);
        struct folio_value v[5];
        for (size_t k = 0; k < n; k++) {
            int col;
            bool dup;
            do {
                col = (int)test_rng_below(&r, NCOLS);
                dup = false;
                for (size_t j = 0; j < k; j++)
                    dup |= s.keys[j].column == col;
            } while (dup);
            s.keys[s.n++] = (struct folio_sort_key){col, test_rng_below(&r, 2) != 0};
            switch (test_rng_below(&r, 4)) {
            case 0: v[k] = (struct folio_value){.type = FOLIO_VALUE_NULL}; break;
            case 1: v[k] = (struct folio_value){.type = FOLIO_VALUE_INT, .i = 424242}; break;
            case 2: v[k] = (struct folio_value){.type = FOLIO_VALUE_REAL, .d = 31.4159}; break;
            default:
                v[k] = (struct folio_value){.type = FOLIO_VALUE_TEXT, .s = evil,
                                            .len = sizeof evil - 1};
            }
        }
        char *p = where(&s, test_rng_below(&r, 2) ? NOT_NULL_TRUE : NOT_NULL_NONE, v,
                        test_rng_below(&r, 2), test_rng_below(&r, 2), 1, FOLIO_PARAM_QNUM);
        assert_null(strstr(p, "DROP"));
        assert_null(strstr(p, "424242"));
        assert_null(strstr(p, "31.4"));
        assert_null(strstr(p, "'"));
        /* blank out the column expressions, then only the grammar may remain */
        for (size_t c = 0; c < NCOLS; c++) {
            size_t cl = strlen(COLS[c]);
            for (char *h = strstr(p, COLS[c]); h != NULL; h = strstr(h, COLS[c]))
                memset(h, ' ', cl);
        }
        for (char *t = p; *t; t++)
            if (strchr(" ()<>=?0123456789ANDORISNULT", *t) == NULL)
                fail_msg("predicate has unexpected character '%c' (sort %d keys)", *t,
                         (int)s.n);
        folio_free(p);
    }
}

/* --- brute force against SQLite ----------------------------------------------------------- */

#define NROWS 300
#define SORTS 150 /* random sorts; 8 boundaries x 8 variants each */

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
    return st;
}

/* Small value sets, so that ties are common and later keys and the id decide. */
static void bind_a(sqlite3_stmt *st, struct test_rng *r)
{
    uint64_t x = test_rng_below(r, 20);
    if (x < 5)
        sqlite3_bind_null(st, 1);
    else if (x == 5)
        sqlite3_bind_double(st, 1, 2.5); /* a REAL in the INTEGER column */
    else if (x == 6)
        sqlite3_bind_text(st, 1, "x", 1, SQLITE_STATIC); /* TEXT in the INTEGER column */
    else
        sqlite3_bind_int64(st, 1, (int64_t)test_rng_below(r, 6) - 2);
}

static void bind_b(sqlite3_stmt *st, struct test_rng *r)
{
    static const char *texts[] = {"", "a", "ab", "b", "B", "\xc3\xa9", "a\xc3\xa9"};
    uint64_t x = test_rng_below(r, 20);
    if (x < 5)
        sqlite3_bind_null(st, 2);
    else if (x == 5)
        sqlite3_bind_int64(st, 2, (int64_t)test_rng_below(r, 3)); /* stored as text */
    else if (x == 6)
        sqlite3_bind_blob(st, 2, "\x00\x01", (int)test_rng_below(r, 3), SQLITE_STATIC);
    else
        sqlite3_bind_text(st, 2, texts[test_rng_below(r, 7)], -1, SQLITE_STATIC);
}

static void bind_c(sqlite3_stmt *st, struct test_rng *r)
{
    static const double reals[] = {-1.5, 0.0, -0.0, 1.0, 2.25, 1e300};
    uint64_t x = test_rng_below(r, 20);
    if (x < 5)
        sqlite3_bind_null(st, 3);
    else if (x == 5)
        sqlite3_bind_int64(st, 3, 1); /* stored as 1.0 */
    else if (x == 6)
        sqlite3_bind_text(st, 3, "zz", 2, SQLITE_STATIC); /* TEXT in the REAL column */
    else
        sqlite3_bind_double(st, 3, reals[test_rng_below(r, 6)]);
}

static sqlite3 *make_db(struct test_rng *r)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    exec(db, "CREATE TABLE t(a INTEGER, b TEXT, c REAL, d INTEGER NOT NULL, "
             "id INTEGER PRIMARY KEY)");
    /* ids are a shuffled 1..NROWS so the id order is unrelated to insertion order */
    int ids[NROWS];
    for (int i = 0; i < NROWS; i++)
        ids[i] = i + 1;
    for (int i = NROWS - 1; i > 0; i--) {
        int j = (int)test_rng_below(r, (uint64_t)i + 1), tmp = ids[i];
        ids[i] = ids[j];
        ids[j] = tmp;
    }
    sqlite3_stmt *ins = prepare(db, "INSERT INTO t(a, b, c, d, id) VALUES (?1, ?2, ?3, ?4, ?5)");
    for (int i = 0; i < NROWS; i++) {
        bind_a(ins, r);
        bind_b(ins, r);
        bind_c(ins, r);
        sqlite3_bind_int64(ins, 4, (int64_t)test_rng_below(r, 3));
        sqlite3_bind_int64(ins, 5, ids[i]);
        assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
        sqlite3_clear_bindings(ins);
    }
    sqlite3_finalize(ins);
    /* the data really has the mixes the test relies on */
    sqlite3_stmt *chk = prepare(db,
        "SELECT (SELECT count(*) FROM t WHERE a IS NULL), (SELECT count(*) FROM t WHERE "
        "typeof(a) = 'text'), (SELECT count(*) FROM t WHERE typeof(b) = 'blob'), "
        "(SELECT count(*) FROM t WHERE typeof(c) = 'text'), (SELECT count(DISTINCT a) FROM t)");
    assert_int_equal(sqlite3_step(chk), SQLITE_ROW);
    for (int i = 0; i < 4; i++)
        assert_true(sqlite3_column_int(chk, i) > 0);
    assert_true(sqlite3_column_int(chk, 4) < 10);
    sqlite3_finalize(chk);
    return db;
}

static void random_sort(struct folio_sort *s, struct test_rng *r)
{
    memset(s, 0, sizeof *s);
    size_t n = 1 + (size_t)test_rng_below(r, 3);
    while (s->n < n) {
        int col = (int)test_rng_below(r, 4); /* a, b, c or d */
        bool dup = false;
        for (size_t j = 0; j < s->n; j++)
            dup |= s->keys[j].column == col;
        if (!dup)
            s->keys[s->n++] = (struct folio_sort_key){col, test_rng_below(r, 2) != 0};
    }
    s->keys[s->n++] = (struct folio_sort_key){COL_ID, test_rng_below(r, 2) != 0};
}

/* Run `sql` and collect the first column (ids). Binds boundary values from `row` (a
 * stepped statement over "a, b, c, d, id") as parameter first_param + k. */
static size_t query_ids(sqlite3 *db, const char *sql, const struct folio_sort *s,
                        sqlite3_stmt *row, int first_param, const struct folio_value *vals,
                        int64_t *out)
{
    sqlite3_stmt *st = prepare(db, sql);
    int nparams = sqlite3_bind_parameter_count(st);
    for (size_t k = 0; row != NULL && k < s->n; k++) {
        int idx = first_param + (int)k;
        bool referenced = idx <= nparams && sqlite3_bind_parameter_name(st, idx) != NULL;
        if (vals[k].type == FOLIO_VALUE_NULL) {
            if (referenced)
                fail_msg("predicate uses ?%d for a NULL boundary value: %s", idx, sql);
            continue;
        }
        if (referenced)
            assert_int_equal(sqlite3_bind_value(st, idx, sqlite3_column_value(row, s->keys[k].column)),
                             SQLITE_OK);
    }
    for (int i = 1; i <= nparams; i++) {
        int k = i - first_param;
        if (sqlite3_bind_parameter_name(st, i) != NULL && (k < 0 || (size_t)k >= s->n))
            fail_msg("predicate uses parameter ?%d outside its range: %s", i, sql);
    }
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        out[n++] = sqlite3_column_int64(st, 0);
    if (rc != SQLITE_DONE)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return n;
}

static void fill_values(sqlite3_stmt *row, const struct folio_sort *s, struct folio_value *vals)
{
    for (size_t k = 0; k < s->n; k++) {
        int col = s->keys[k].column;
        struct folio_value *v = &vals[k];
        memset(v, 0, sizeof *v);
        switch (sqlite3_column_type(row, col)) {
        case SQLITE_NULL: v->type = FOLIO_VALUE_NULL; break;
        case SQLITE_INTEGER: v->type = FOLIO_VALUE_INT; v->i = sqlite3_column_int64(row, col); break;
        case SQLITE_FLOAT: v->type = FOLIO_VALUE_REAL; v->d = sqlite3_column_double(row, col); break;
        case SQLITE_TEXT:
            v->type = FOLIO_VALUE_TEXT;
            v->s = (const char *)sqlite3_column_text(row, col);
            v->len = (size_t)sqlite3_column_bytes(row, col);
            break;
        default:
            v->type = FOLIO_VALUE_BLOB;
            v->s = sqlite3_column_blob(row, col);
            v->len = (size_t)sqlite3_column_bytes(row, col);
        }
    }
}

static void check_boundary(sqlite3 *db, const struct folio_sort *s, const int64_t *order,
                           size_t bi, struct test_rng *r, long *checked)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT a, b, c, d, id FROM t WHERE id = %lld",
             (long long)order[bi]);
    sqlite3_stmt *row = prepare(db, sql);
    assert_int_equal(sqlite3_step(row), SQLITE_ROW);
    struct folio_value vals[FOLIO_SORT_MAX];
    fill_values(row, s, vals);

    for (int nn = 0; nn <= 1; nn++) {
        for (int back = 0; back <= 1; back++) {
            for (int incl = 0; incl <= 1; incl++) {
                int first_param = 1 + (int)test_rng_below(r, 3);
                char *pred = where(s, nn ? NOT_NULL_TRUE : NOT_NULL_NONE, vals, back, incl,
                                   first_param, FOLIO_PARAM_QNUM);
                char *ob = order_by(s, back);
                size_t qlen = strlen(pred) + strlen(ob) + 64;
                char *q = malloc(qlen);
                snprintf(q, qlen, "SELECT id FROM t WHERE %s ORDER BY %s", pred, ob);

                int64_t want[NROWS], got[NROWS];
                size_t nwant = 0;
                if (!back) {
                    for (size_t i = incl ? bi : bi + 1; i < NROWS; i++)
                        want[nwant++] = order[i];
                } else {
                    for (size_t i = incl ? bi + 1 : bi; i-- > 0;)
                        want[nwant++] = order[i];
                }
                size_t ngot = query_ids(db, q, s, row, first_param, vals, got);
                size_t diff = 0;
                while (diff < nwant && diff < ngot && want[diff] == got[diff])
                    diff++;
                if (diff != nwant || diff != ngot) {
                    char *fwd = order_by(s, false);
                    fail_msg("ORDER BY %s, boundary id %lld (position %zu), %s%s%s: got %zu "
                             "rows, want %zu; first difference at %zu (got %lld, want %lld)\n"
                             "  query: %s",
                             fwd, (long long)order[bi], bi, back ? "backward" : "forward",
                             incl ? ", inclusive" : "", nn ? ", not_null flags" : "", ngot,
                             nwant, diff, diff < ngot ? (long long)got[diff] : -1LL,
                             diff < nwant ? (long long)want[diff] : -1LL, q);
                }
                (*checked)++;
                free(q);
                folio_free(ob);
                folio_free(pred);
            }
        }
    }
    sqlite3_finalize(row);
}

static void test_keyset_predicate_selects_exactly_the_rows_after_or_before_the_boundary(
    void **state)
{
    (void)state;
    struct test_rng r = {20240601};
    sqlite3 *db = make_db(&r);
    long checked = 0;
    for (int iter = 0; iter < SORTS; iter++) {
        struct folio_sort s;
        random_sort(&s, &r);
        char *ob = order_by(&s, false);
        size_t qlen = strlen(ob) + 64;
        char *q = malloc(qlen);
        snprintf(q, qlen, "SELECT id FROM t ORDER BY %s", ob);
        int64_t order[NROWS];
        assert_int_equal(query_ids(db, q, &s, NULL, 1, NULL, order), NROWS);
        free(q);
        folio_free(ob);

        size_t boundaries[8] = {0, NROWS - 1};
        for (size_t i = 2; i < 8; i++)
            boundaries[i] = (size_t)test_rng_below(&r, NROWS);
        for (size_t i = 0; i < 8; i++)
            check_boundary(db, &s, order, boundaries[i], &r, &checked);
    }
    assert_int_equal(checked, SORTS * 8 * 8);
    sqlite3_close(db);
}

/* Walking page by page with the boundary of each page visits every row exactly once,
 * forward and backward, for sorts that include NULLs. */
static void test_keyset_walk_visits_every_row_once_in_order(void **state)
{
    (void)state;
    struct test_rng r = {7};
    sqlite3 *db = make_db(&r);
    for (int iter = 0; iter < 40; iter++) {
        struct folio_sort s;
        random_sort(&s, &r);
        char *fob = order_by(&s, false);
        char q[512];
        snprintf(q, sizeof q, "SELECT id FROM t ORDER BY %s", fob);
        int64_t order[NROWS];
        assert_int_equal(query_ids(db, q, &s, NULL, 1, NULL, order), NROWS);
        folio_free(fob);

        for (int back = 0; back <= 1; back++) {
            char *ob = order_by(&s, back);
            int64_t seen[NROWS];
            size_t nseen = 0;
            int64_t page[NROWS];
            snprintf(q, sizeof q, "SELECT id FROM t ORDER BY %s LIMIT 7", ob);
            size_t n = query_ids(db, q, &s, NULL, 1, NULL, page);
            while (n > 0) {
                assert_true(nseen + n <= NROWS);
                memcpy(seen + nseen, page, n * sizeof page[0]);
                nseen += n;
                char sql[128];
                snprintf(sql, sizeof sql, "SELECT a, b, c, d, id FROM t WHERE id = %lld",
                         (long long)page[n - 1]);
                sqlite3_stmt *row = prepare(db, sql);
                assert_int_equal(sqlite3_step(row), SQLITE_ROW);
                struct folio_value vals[FOLIO_SORT_MAX];
                fill_values(row, &s, vals);
                char *pred = where(&s, NOT_NULL_TRUE, vals, back, false, 1, FOLIO_PARAM_QNUM);
                char *big = malloc(strlen(pred) + strlen(ob) + 64);
                sprintf(big, "SELECT id FROM t WHERE %s ORDER BY %s LIMIT 7", pred, ob);
                n = query_ids(db, big, &s, row, 1, vals, page);
                free(big);
                folio_free(pred);
                sqlite3_finalize(row);
            }
            assert_int_equal(nseen, NROWS);
            for (size_t i = 0; i < NROWS; i++)
                assert_int_equal(seen[i], order[back ? NROWS - 1 - i : i]);
            folio_free(ob);
        }
    }
    sqlite3_close(db);
}

/* The same brute force with PostgreSQL's NULL order (FOLIO_DB_CAP_NULLS_LARGE) and row
 * values allowed (FOLIO_DB_CAP_ROW_VALUES): every boundary, both directions, inclusive or
 * not, nullable or NOT NULL columns, and walks page by page. */
static void test_keyset_predicate_agrees_with_nulls_last_order_and_row_values(void **state)
{
    g_nulls_large = g_row_values = true;
    test_keyset_predicate_selects_exactly_the_rows_after_or_before_the_boundary(state);
    test_keyset_walk_visits_every_row_once_in_order(state);
    g_nulls_large = g_row_values = false;
}

static void test_nulls_large_puts_the_null_run_last_ascending_and_first_descending(void **state)
{
    (void)state;
    struct folio_sort s;
    struct folio_value null = {.type = FOLIO_VALUE_NULL};
    struct folio_value one = {.type = FOLIO_VALUE_INT, .i = 1};
    g_nulls_large = true;
    assert_int_equal(parse(&s, "a", NULL), FOLIO_OK);
    char *p = where(&s, NULL, &null, false, false, 1, FOLIO_PARAM_DOLLAR);
    assert_string_equal(p, "0"); /* nothing after the last NULL ascending */
    folio_free(p);
    p = where(&s, NULL, &one, false, false, 1, FOLIO_PARAM_DOLLAR);
    assert_string_equal(p, "(\"a\" > $1 OR \"a\" IS NULL)");
    folio_free(p);
    assert_int_equal(parse(&s, "-a", NULL), FOLIO_OK);
    p = where(&s, NULL, &null, false, true, 1, FOLIO_PARAM_DOLLAR);
    assert_string_equal(p, "1"); /* the NULL run opens a descending walk */
    folio_free(p);
    p = where(&s, NULL, &one, false, false, 1, FOLIO_PARAM_DOLLAR);
    assert_string_equal(p, "\"a\" < $1");
    folio_free(p);
    g_nulls_large = false;
}

static void test_row_values_only_where_directions_agree_over_not_null_columns(void **state)
{
    (void)state;
    struct folio_sort s;
    struct folio_value v[2] = {{.type = FOLIO_VALUE_INT, .i = 3}, {.type = FOLIO_VALUE_INT, .i = 9}};
    g_row_values = true;
    assert_int_equal(parse(&s, "-d,-id", NULL), FOLIO_OK);
    char *p = where(&s, NOT_NULL_TRUE, v, false, false, 1, FOLIO_PARAM_DOLLAR);
    assert_string_equal(p, "(\"d\", \"id\") < ($1, $2)");
    folio_free(p);
    p = where(&s, NOT_NULL_TRUE, v, true, true, 1, FOLIO_PARAM_DOLLAR);
    assert_string_equal(p, "(\"d\", \"id\") >= ($1, $2)");
    folio_free(p);
    /* mixed directions, a nullable column, or a NULL value: the expanded form */
    assert_int_equal(parse(&s, "d,-id", NULL), FOLIO_OK);
    p = where(&s, NOT_NULL_TRUE, v, false, false, 1, FOLIO_PARAM_DOLLAR);
    assert_null(strstr(p, ") >"));
    folio_free(p);
    assert_int_equal(parse(&s, "d,id", NULL), FOLIO_OK);
    p = where(&s, NOT_NULL_NONE, v, false, false, 1, FOLIO_PARAM_DOLLAR);
    assert_null(strstr(p, ") >"));
    folio_free(p);
    g_row_values = false;
}

/* --- failures --------------------------------------------------------------------------- */

static void test_keyset_where_fails_cleanly_when_allocation_fails(void **state)
{
    (void)state;
    struct folio_sort s;
    assert_int_equal(parse(&s, "-a,b,-c,d,id", NULL), FOLIO_OK);
    struct folio_value v[5] = {{.type = FOLIO_VALUE_INT, .i = 1},
                               {.type = FOLIO_VALUE_NULL},
                               {.type = FOLIO_VALUE_REAL, .d = 2},
                               {.type = FOLIO_VALUE_INT, .i = 0},
                               {.type = FOLIO_VALUE_INT, .i = 5}};
    char *reference = where(&s, NOT_NULL_NONE, v, false, false, 1, FOLIO_PARAM_QNUM);
    struct folio_keyset_spec spec = {&s, COLS, NOT_NULL_NONE, v, false, false, 1,
                                     FOLIO_PARAM_QNUM, false, false};
    long n;
    for (n = 1; n < 1000; n++) {
        test_alloc_install(n);
        struct folio_buf b;
        folio_buf_init(&b, BUF_MAX);
        folio_status st = folio_keyset_where(&b, &spec);
        bool failed = test_alloc_failed();
        if (!failed) {
            assert_int_equal(st, FOLIO_OK);
            assert_string_equal(b.data, reference);
        }
        folio_buf_clear(&b);
        long live = test_alloc_live();
        test_alloc_uninstall();
        if (failed && st != FOLIO_ENOMEM)
            fail_msg("allocation %ld failed but folio_keyset_where returned %s", n,
                     folio_strerror(st));
        if (live != 0)
            fail_msg("allocation %ld failed: %ld blocks leaked", n, live);
        if (!failed)
            break;
    }
    assert_true(n > 1); /* the builder does allocate, so the loop tested something */
    folio_free(reference);
}

static void test_keyset_where_respects_the_buffer_maximum(void **state)
{
    (void)state;
    struct folio_sort s;
    assert_int_equal(parse(&s, "-a,b,-c,d,id", NULL), FOLIO_OK);
    struct folio_value v[5] = {{.type = FOLIO_VALUE_INT, .i = 1},
                               {.type = FOLIO_VALUE_INT, .i = 2},
                               {.type = FOLIO_VALUE_REAL, .d = 2},
                               {.type = FOLIO_VALUE_INT, .i = 0},
                               {.type = FOLIO_VALUE_INT, .i = 5}};
    struct folio_keyset_spec spec = {&s, COLS, NOT_NULL_NONE, v, false, false, 1,
                                     FOLIO_PARAM_QNUM, false, false};
    char *reference = where(&s, NOT_NULL_NONE, v, false, false, 1, FOLIO_PARAM_QNUM);
    size_t full = strlen(reference);
    test_alloc_install(0);
    for (size_t max = 0; max < full; max += 7) {
        struct folio_buf b;
        folio_buf_init(&b, max);
        assert_int_equal(folio_keyset_where(&b, &spec), FOLIO_ETOOBIG);
        assert_true(b.len <= max);
        folio_buf_clear(&b);
    }
    struct folio_buf b;
    folio_buf_init(&b, full);
    assert_int_equal(folio_keyset_where(&b, &spec), FOLIO_OK);
    assert_string_equal(b.data, reference);
    folio_buf_clear(&b);
    long live = test_alloc_live();
    test_alloc_uninstall();
    assert_int_equal(live, 0);
    folio_free(reference);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_reads_columns_and_directions_in_order),
        cmocka_unit_test(test_parse_rejects_unknown_columns_naming_sort),
        cmocka_unit_test(test_parse_rejects_empty_items_and_bare_minus),
        cmocka_unit_test(test_parse_rejects_a_column_named_twice_in_any_direction),
        cmocka_unit_test(test_parse_accepts_at_most_sort_max_keys),
        cmocka_unit_test(test_too_many_keys_detail_states_the_enforced_limit),
        cmocka_unit_test(test_format_gives_canonical_text_that_parses_back),
        cmocka_unit_test(test_append_adds_a_tiebreaker_once_and_keeps_its_direction),
        cmocka_unit_test(test_order_by_lists_keys_and_reverses_for_backward),
        cmocka_unit_test(test_empty_sort_selects_all_rows_when_inclusive_and_none_otherwise),
        cmocka_unit_test(test_constant_predicates_are_written_as_1_and_0),
        cmocka_unit_test(test_leading_key_gets_a_range_an_index_can_use),
        cmocka_unit_test(test_parameters_are_numbered_by_key_position_in_both_styles),
        cmocka_unit_test(test_not_null_columns_need_no_null_branch),
        cmocka_unit_test(test_predicate_never_contains_boundary_values_or_user_text),
        cmocka_unit_test(test_keyset_predicate_selects_exactly_the_rows_after_or_before_the_boundary),
        cmocka_unit_test(test_keyset_walk_visits_every_row_once_in_order),
        cmocka_unit_test(test_keyset_predicate_agrees_with_nulls_last_order_and_row_values),
        cmocka_unit_test(test_nulls_large_puts_the_null_run_last_ascending_and_first_descending),
        cmocka_unit_test(test_row_values_only_where_directions_agree_over_not_null_columns),
        cmocka_unit_test(test_keyset_where_fails_cleanly_when_allocation_fails),
        cmocka_unit_test(test_keyset_where_respects_the_buffer_maximum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
