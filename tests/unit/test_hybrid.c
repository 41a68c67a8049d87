/* Unit tests for src/engine/hybrid.c, the sparse boundary index behind deep OFFSET pages,
 * set up the way the server sets it up but without libmicrohttpd: a temporary WAL-mode
 * SQLite file, folio__db_open, a struct folio_server filled by hand (defaults, db, a
 * one-key keyring, the automatic endpoints) and one worker for this thread.
 *
 * Every check is against brute force on a separate sqlite3 connection: boundary b of a
 * query is the sort key of row b * STRIDE in `ORDER BY <sort>, id`, the seek offset is what
 * is left to skip, and the index's total is the row count. A separate connection also
 * writes, to check that a moved data version never lets an old index be used. */
/* cmocka.h needs these first */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "folio/folio.h"
#include "engine/count.h"
#include "server/http.h"
#include "engine/hybrid.h"
#include "engine/page.h"
#include "server/server.h"
#include "support_rand.h"

#define STRIDE FOLIO_HYBRID_STRIDE
#define NROWS  1234 /* not a multiple of STRIDE: the last boundary has a short tail */
#define SECRET "0123456789abcdef0123456789abcdef"

/* One sort as the client spells it, and how brute force orders and selects its keys
 * (the id tiebreaker spelled out, SQLite's NULL order: first ascending, last descending). */
struct sortcase {
    const char *sort; /* NULL = the endpoint's default (primary key) */
    const char *keys; /* the sort key columns, tiebreaker last */
    const char *order;
};

static const struct sortcase SORTS[] = {
    {NULL, "id", "id"},
    {"a", "a, id", "a, id"},
    {"-a", "a, id", "a DESC, id DESC"}, /* the tiebreaker follows the last key */
    {"-a,b", "a, b, id", "a DESC, b, id"},
    {"b,-c", "b, c, id", "b, c DESC, id DESC"},
    {"-c,a", "c, a, id", "c DESC, a, id"},
    {"-id", "id", "id DESC"},
};
#define NSORTS (sizeof SORTS / sizeof SORTS[0])

struct fixture {
    char dir[64];
    char path[128];
    sqlite3 *ref; /* brute force and writes: a connection of its own */
    folio_db *db;
    struct folio_server srv;
    struct folio_worker *w;
    struct folio_http h;
    const struct folio_endpoint *ep;
    struct folio_filter_set filters;
};

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* Rows with long NULL runs (a: 30%, more than a STRIDE of them), duplicates everywhere,
 * empty and non-ASCII text, and gaps in the ids. */
static void fill(sqlite3 *db, int n, uint64_t seed)
{
    static const char *const words[] = {"", "apple", "Banana", "cherry", "\xc3\x9f", "zz"};
    struct test_rng rng = {seed};
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db, "INSERT INTO t(id, a, b, c) VALUES (?, ?, ?, ?)", -1, &st, NULL),
        SQLITE_OK);
    exec(db, "BEGIN");
    int64_t id = 0;
    for (int i = 0; i < n; i++) {
        id += 1 + (int64_t)test_rng_below(&rng, 3);
        sqlite3_bind_int64(st, 1, id);
        if (test_rng_below(&rng, 10) < 3)
            sqlite3_bind_null(st, 2);
        else
            sqlite3_bind_int64(st, 2, (int64_t)test_rng_below(&rng, 5));
        if (test_rng_below(&rng, 8) == 0)
            sqlite3_bind_null(st, 3);
        else
            sqlite3_bind_text(st, 3, words[test_rng_below(&rng, 6)], -1, SQLITE_STATIC);
        if (test_rng_below(&rng, 10) == 0)
            sqlite3_bind_null(st, 4);
        else
            sqlite3_bind_double(st, 4, (double)test_rng_below(&rng, 50) / 4.0);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    exec(db, "COMMIT");
    sqlite3_finalize(st);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/folio-hybrid-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof fx->path, "%s/t.db", fx->dir);
    assert_int_equal(sqlite3_open(fx->path, &fx->ref), SQLITE_OK);
    exec(fx->ref, "PRAGMA journal_mode=WAL");
    exec(fx->ref, "CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c REAL);"
                  "CREATE INDEX t_a ON t(a, id); CREATE INDEX t_b_c ON t(b, c, id);");
    fill(fx->ref, NROWS, 42);

    struct folio_error err = {0};
    if (folio__db_open(&fx->db, fx->path, &err) != FOLIO_OK)
        fail_msg("folio__db_open: %s", err.detail);
    folio__server_config_defaults(&fx->srv.cfg);
    /* The engine must be right for every sort, served by an index or not; which sorts
     * auto endpoints allow is a policy (tests/http/test_07_query_limits.py). */
    fx->srv.cfg.sort_any = true;
    fx->srv.db = fx->db;
    fx->srv.accesslog_fd = fx->srv.files_root_fd = fx->srv.quiesced_fd = -1;
    folio_keyring_init(&fx->srv.keyring, false);
    assert_int_equal(folio_keyring_add(&fx->srv.keyring, 1, SECRET, strlen(SECRET)), FOLIO_OK);
    assert_int_equal(folio__server_auto_endpoints(&fx->srv), FOLIO_OK);
    for (size_t i = 0; i < fx->srv.nendpoints; i++)
        if (strcmp(fx->srv.endpoints[i].path, "/api/t") == 0)
            fx->ep = &fx->srv.endpoints[i];
    assert_non_null(fx->ep);
    fx->w = folio__worker_new(&fx->srv, &err);
    if (fx->w == NULL)
        fail_msg("folio__worker_new: %s", err.detail);
    fx->h.w = fx->w;
    fx->h.srv = &fx->srv;
    fx->h.method = "GET";
    fx->h.route = -1;
    folio_filter_set_init(&fx->filters);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    folio_filter_set_clear(&fx->filters);
    folio__worker_free(fx->w); /* also the engine's indexes */
    for (size_t i = 0; i < fx->srv.nendpoints; i++)
        folio__endpoint_clear(&fx->srv.endpoints[i]);
    folio_free(fx->srv.endpoints);
    folio__db_close(fx->db);
    folio_keyring_clear(&fx->srv.keyring);
    sqlite3_close(fx->ref);
    char p[192];
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", fx->path, sfx[i]);
        unlink(p);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* --- the page engine's side ------------------------------------------------------------ */

static void spec_for(struct fixture *fx, struct folio_page_spec *spec, const char *sort,
                     bool filtered, int64_t offset)
{
    struct folio_error err = {0};
    memset(spec, 0, sizeof *spec);
    if (folio__page_sort(spec, fx->ep, sort, filtered ? &fx->filters : NULL, &err) != FOLIO_OK)
        fail_msg("sort %s: %s", sort ? sort : "(default)", err.detail);
    spec->mode = FOLIO_MODE_OFFSET;
    spec->per_page = 10;
    spec->offset = offset;
}

/* folio__hybrid_seek in a read transaction, as folio__page_fetch runs it; returns the
 * transaction's data version and, through out_known, folio__hybrid_known_total then. */
static uint64_t seek(struct fixture *fx, struct folio_page_spec *spec, int64_t *out_known)
{
    struct folio_error err = {0};
    uint64_t version = 0;
    assert_int_equal(folio__db_begin_read(fx->w->engine.conn, NULL), FOLIO_OK);
    assert_int_equal(folio__db_data_version(fx->w->engine.conn, &version), FOLIO_OK);
    folio_status st = folio__hybrid_seek(&fx->w->engine, spec, version, &err);
    if (st != FOLIO_OK)
        fail_msg("folio__hybrid_seek: %s (%s)", folio_strerror(st), err.detail);
    if (out_known)
        *out_known = folio__hybrid_known_total(&fx->w->engine, spec, version);
    folio__db_end_read(fx->w->engine.conn);
    return version;
}

/* --- brute force ----------------------------------------------------------------------- */

static int64_t ref_count(struct fixture *fx, const char *where)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM t%s%s", where ? " WHERE " : "",
             where ? where : "");
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(fx->ref, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Does `v` hold exactly column `i` of the current row of `st`? */
static bool same(sqlite3_stmt *st, int i, const struct folio_value *v)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: return v->type == FOLIO_VALUE_NULL;
    case SQLITE_INTEGER: return v->type == FOLIO_VALUE_INT && v->i == sqlite3_column_int64(st, i);
    case SQLITE_FLOAT: return v->type == FOLIO_VALUE_REAL && v->d == sqlite3_column_double(st, i);
    default: {
        const void *p = sqlite3_column_blob(st, i);
        size_t n = (size_t)sqlite3_column_bytes(st, i);
        return v->type == FOLIO_VALUE_TEXT && v->len == n && (n == 0 || memcmp(v->s, p, n) == 0);
    }
    }
}

/* Check spec->seek/seek_offset after a seek for offset `offset` against brute force:
 * boundary row floor(offset / STRIDE) * STRIDE for offsets inside the rows; past the end
 * either no seek or a real boundary from which the offset is counted on. */
static void check_seek(struct fixture *fx, const struct folio_page_spec *spec,
                       const struct sortcase *sc, const char *where, int64_t offset)
{
    int64_t rows = ref_count(fx, where);
    const char *label = sc->sort ? sc->sort : "(default)";
    if (offset < STRIDE || (offset >= rows && spec->seek == NULL)) {
        if (spec->seek != NULL)
            fail_msg("sort %s offset %lld: a seek for an offset below the stride", label,
                     (long long)offset);
        assert_int_equal(spec->seek_offset, offset);
        return;
    }
    if (spec->seek == NULL)
        fail_msg("sort %s where %s offset %lld of %lld rows: no seek", label, where ? where : "-",
                 (long long)offset, (long long)rows);
    int64_t pos = offset - spec->seek_offset;
    if (offset < rows) {
        if (pos != offset / STRIDE * STRIDE || spec->seek_offset != offset % STRIDE)
            fail_msg("sort %s offset %lld: seek_offset %lld, want %lld", label, (long long)offset,
                     (long long)spec->seek_offset, (long long)(offset % STRIDE));
    } else if (pos % STRIDE != 0 || pos < 0 || pos >= rows) {
        fail_msg("sort %s offset %lld past %lld rows: seek at position %lld is no boundary", label,
                 (long long)offset, (long long)rows, (long long)pos);
    }
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s FROM t%s%s ORDER BY %s LIMIT 1 OFFSET %lld", sc->keys,
             where ? " WHERE " : "", where ? where : "", sc->order, (long long)pos);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(fx->ref, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal((size_t)sqlite3_column_count(st), spec->sort.n);
    for (size_t k = 0; k < spec->sort.n; k++)
        if (!same(st, (int)k, &spec->seek[k]))
            fail_msg("sort %s where %s offset %lld: key %zu of boundary row %lld differs "
                     "(type %d)",
                     label, where ? where : "-", (long long)offset, k, (long long)pos,
                     spec->seek[k].type);
    sqlite3_finalize(st);
}

/* Seek for `offset` with a spec of its own and check it. */
static void seek_and_check(struct fixture *fx, const struct sortcase *sc, const char *where,
                           int64_t offset, int64_t *out_known)
{
    struct folio_page_spec spec;
    spec_for(fx, &spec, sc->sort, where != NULL, offset);
    seek(fx, &spec, out_known);
    check_seek(fx, &spec, sc, where, offset);
}

static const int64_t OFFSETS[] = {0,    1,    99,   100,  101,  199,  200,  250,  999, 1000, 1099,
                                  1100, 1199, 1200, 1201, 1233, 1234, 1300, 5000, 150, 7,    640};
#define NOFFSETS (sizeof OFFSETS / sizeof OFFSETS[0])

/* --- tests ----------------------------------------------------------------------------- */

static void test_seek_lands_on_the_boundary_row_for_every_sort_and_offset(void **state)
{
    struct fixture *fx = *state;
    for (size_t s = 0; s < NSORTS; s++)
        for (size_t i = 0; i < NOFFSETS; i++)
            seek_and_check(fx, &SORTS[s], NULL, OFFSETS[i], NULL);
}

static void test_index_extends_step_by_step_across_null_runs_and_ties(void **state)
{
    struct fixture *fx = *state;
    /* Fresh index each round, then offsets rising one stride at a time: every extension
     * resumes from a boundary that may sit inside a NULL run or a run of equal keys. */
    for (size_t s = 0; s < NSORTS; s++) {
        folio__hybrid_reset(fx->w->engine.hybrid);
        for (int64_t off = STRIDE + 37; off < NROWS; off += STRIDE)
            seek_and_check(fx, &SORTS[s], NULL, off, NULL);
        /* and back down: answered from the boundaries already there */
        for (int64_t off = NROWS - 1; off >= 0; off -= 173)
            seek_and_check(fx, &SORTS[s], NULL, off, NULL);
    }
}

static void test_known_total_is_the_row_count_once_the_scan_reached_the_end(void **state)
{
    struct fixture *fx = *state;
    for (size_t s = 0; s < NSORTS; s++) {
        folio__hybrid_reset(fx->w->engine.hybrid);
        int64_t known = 0;
        seek_and_check(fx, &SORTS[s], NULL, 150, &known);
        assert_int_equal(known, -1); /* only a few strides scanned: not known yet */
        seek_and_check(fx, &SORTS[s], NULL, NROWS - 1, &known);
        assert_int_equal(known, ref_count(fx, NULL));
        seek_and_check(fx, &SORTS[s], NULL, 300, &known); /* still known: same data */
        assert_int_equal(known, NROWS);
    }
    folio__hybrid_reset(fx->w->engine.hybrid);
    int64_t known = 0;
    seek_and_check(fx, &SORTS[1], NULL, 1000000, &known); /* far past the end */
    assert_int_equal(known, NROWS);
}

static void test_known_total_for_every_table_size_around_the_stride(void **state)
{
    struct fixture *fx = *state;
    /* Remove rows from the end one at a time through sizes k*STRIDE-1, k*STRIDE,
     * k*STRIDE+1: the scan's end test and the last boundary must follow exactly. */
    static const int64_t sizes[] = {1201, 1200, 1199, 1101, 1100, 1099, 201,
                                    200,  199,  101,  100,  99,   1,    0};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "DELETE FROM t WHERE id NOT IN (SELECT id FROM t ORDER BY id LIMIT %lld)",
                 (long long)sizes[i]);
        exec(fx->ref, sql);
        assert_int_equal(ref_count(fx, NULL), sizes[i]);
        int64_t want = sizes[i], known = 0;
        for (size_t s = 0; s < NSORTS; s++) {
            seek_and_check(fx, &SORTS[s], NULL, want + 5 * STRIDE, &known);
            if (known != want)
                fail_msg("%lld rows, sort %s: known total %lld", (long long)want,
                         SORTS[s].sort ? SORTS[s].sort : "(default)", (long long)known);
            for (int64_t off = STRIDE; off < want; off += STRIDE)
                seek_and_check(fx, &SORTS[s], NULL, off, NULL);
            if (want > 0)
                seek_and_check(fx, &SORTS[s], NULL, want - 1, NULL);
        }
    }
}

static void test_changed_data_version_drops_the_index(void **state)
{
    struct fixture *fx = *state;
    struct test_rng rng = {7};
    for (size_t round = 0; round < 12; round++) {
        const struct sortcase *sc = &SORTS[round % NSORTS];
        struct folio_page_spec spec;
        int64_t known = 0;
        spec_for(fx, &spec, sc->sort, false, NROWS * 4);
        uint64_t before = seek(fx, &spec, &known); /* the whole index, at this version */
        int64_t rows = ref_count(fx, NULL);
        assert_int_equal(known, rows);

        /* Another connection writes rows that sort before most boundaries (small ids,
         * NULL and low a, empty b), and deletes some. */
        exec(fx->ref, "BEGIN");
        int adds = 1 + (int)test_rng_below(&rng, 150);
        for (int i = 0; i < adds; i++) {
            char sql[160];
            uint64_t r = test_rng_next(&rng);
            snprintf(sql, sizeof sql, "INSERT INTO t(a, b, c) VALUES (%s, '%s', %s)",
                     r % 3 == 0 ? "NULL" : "0", r % 2 ? "" : "apple", r % 5 == 0 ? "NULL" : "0.25");
            exec(fx->ref, sql);
        }
        char del[160];
        snprintf(del, sizeof del, "DELETE FROM t WHERE id %% 7 = %d AND id < %d",
                 (int)test_rng_below(&rng, 7), 200 + (int)test_rng_below(&rng, 2000));
        exec(fx->ref, del);
        exec(fx->ref, "COMMIT");
        rows = ref_count(fx, NULL);

        /* Outside any seek the old index must not answer for the new data. */
        uint64_t now = 0;
        assert_int_equal(folio__db_begin_read(fx->w->engine.conn, NULL), FOLIO_OK);
        assert_int_equal(folio__db_data_version(fx->w->engine.conn, &now), FOLIO_OK);
        assert_int_equal(folio__hybrid_known_total(&fx->w->engine, &spec, now), -1);
        folio__db_end_read(fx->w->engine.conn);
        assert_true(now != before);

        for (size_t i = 0; i < NOFFSETS; i++)
            seek_and_check(fx, sc, NULL, OFFSETS[i], NULL);
        seek_and_check(fx, sc, NULL, rows + 3 * STRIDE, &known);
        assert_int_equal(known, rows);
    }
}

static void test_a_read_transaction_keeps_its_snapshot_while_another_connection_writes(void **state)
{
    struct fixture *fx = *state;
    const struct sortcase *sc = &SORTS[3];
    struct folio_page_spec spec;
    struct folio_error err = {0};
    uint64_t version = 0;
    int64_t rows = ref_count(fx, NULL);
    assert_int_equal(folio__db_begin_read(fx->w->engine.conn, NULL), FOLIO_OK);
    assert_int_equal(folio__db_data_version(fx->w->engine.conn, &version), FOLIO_OK);
    spec_for(fx, &spec, sc->sort, false, 250);
    assert_int_equal(folio__hybrid_seek(&fx->w->engine, &spec, version, &err), FOLIO_OK);
    /* A commit in the middle of the transaction: the extension that follows reads the
     * same snapshot, so the index stays that of `version`. */
    exec(fx->ref, "DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY id LIMIT 300)");
    spec_for(fx, &spec, sc->sort, false, NROWS * 2);
    assert_int_equal(folio__hybrid_seek(&fx->w->engine, &spec, version, &err), FOLIO_OK);
    assert_int_equal(folio__hybrid_known_total(&fx->w->engine, &spec, version), rows);
    folio__db_end_read(fx->w->engine.conn);
    /* The next transaction sees the delete and a fresh index. */
    int64_t known = 0;
    seek_and_check(fx, sc, NULL, NROWS * 2, &known);
    assert_int_equal(known, rows - 300);
    for (size_t i = 0; i < NOFFSETS; i++)
        seek_and_check(fx, sc, NULL, OFFSETS[i], NULL);
}

static void add_filter(struct fixture *fx, const char *column, const char *decl, const char *value)
{
    struct folio_error err = {0};
    const struct folio_table *t = fx->ep->table;
    int col = -1;
    for (size_t c = 0; c < t->ncols; c++)
        if (strcmp(t->cols[c].name, column) == 0)
            col = (int)c;
    assert_true(col >= 0);
    if (folio_filter_add(&fx->filters, col, decl, column, value, &err) != FOLIO_OK)
        fail_msg("filter %s=%s: %s", column, value, err.detail);
}

static void test_filtered_queries_get_indexes_of_their_own(void **state)
{
    struct fixture *fx = *state;
    struct {
        const char *column, *decl, *value, *where;
    } cases[] = {
        {"a", "INTEGER", "gte.2", "a >= 2"},
        {"b", "TEXT", "is.not.null", "b IS NOT NULL"},
        {"c", "REAL", "lt.6", "c < 6"},
        {"a", "INTEGER", "is.null", "a IS NULL"},
        {"b", "TEXT", "eq.nothing-has-this", "b = 'nothing-has-this'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx->filters.n = fx->filters.nvalues = 0;
        folio_buf_reset(&fx->filters.text);
        add_filter(fx, cases[i].column, cases[i].decl, cases[i].value);
        int64_t rows = ref_count(fx, cases[i].where);
        for (size_t s = 0; s < NSORTS; s++) {
            /* interleave with the unfiltered query of the same sort: neither index may
             * answer for the other */
            for (size_t o = 0; o < NOFFSETS; o++) {
                seek_and_check(fx, &SORTS[s], cases[i].where, OFFSETS[o], NULL);
                seek_and_check(fx, &SORTS[s], NULL, OFFSETS[(o + 5) % NOFFSETS], NULL);
            }
            int64_t known = 0;
            seek_and_check(fx, &SORTS[s], cases[i].where, rows + STRIDE, &known);
            assert_int_equal(known, rows);
        }
    }
}

static void test_more_queries_than_index_slots_stay_correct(void **state)
{
    struct fixture *fx = *state;
    /* 48 distinct filtered queries (more than the 32 slots), twice round: evicted
     * indexes are rebuilt, never confused with another query's. */
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < 48; k++) {
            fx->filters.n = fx->filters.nvalues = 0;
            folio_buf_reset(&fx->filters.text);
            char value[32], where[32];
            snprintf(value, sizeof value, "gt.%d", k * 3);
            snprintf(where, sizeof where, "id > %d", k * 3);
            add_filter(fx, "id", "INTEGER", value);
            const struct sortcase *sc = &SORTS[(size_t)(k + round) % NSORTS];
            int64_t known = 0;
            seek_and_check(fx, sc, where, 450 + k, NULL);
            seek_and_check(fx, sc, where, 5000, &known);
            assert_int_equal(known, ref_count(fx, where));
        }
}

/* --- the same through folio__page_fetch: rows and totals -------------------------------- */

static int64_t ids_of_page(struct fixture *fx, const char *sort, int64_t offset, int per_page,
                           enum folio_count mode, json_t **out_rows)
{
    struct folio_page_spec spec;
    spec_for(fx, &spec, sort, false, offset);
    spec.per_page = per_page;
    struct folio_buf out;
    folio_buf_init(&out, 1u << 22);
    struct folio_json j;
    folio_json_init(&j, &out);
    folio_json_array_begin(&j);
    struct folio_page_result res;
    struct folio_total total;
    struct folio_error err = {0};
    if (folio__page_fetch(&fx->w->engine, &spec, &j, mode, &res, &total, &err) != FOLIO_OK)
        fail_msg("folio__page_fetch: %s", err.detail);
    folio_json_array_end(&j);
    json_error_t jerr;
    *out_rows = json_loadb(out.data, out.len, 0, &jerr);
    if (*out_rows == NULL)
        fail_msg("page is not JSON: %s", jerr.text);
    folio_buf_clear(&out);
    assert_int_equal((size_t)res.shown, json_array_size(*out_rows));
    if (mode == FOLIO_COUNT_EXACT)
        assert_int_equal(total.kind, FOLIO_TOTAL_EXACT);
    return mode == FOLIO_COUNT_EXACT ? total.value : -1;
}

static void test_page_fetch_returns_the_rows_of_limit_offset_and_the_exact_total(void **state)
{
    struct fixture *fx = *state;
    struct test_rng rng = {11};
    for (int round = 0; round < 120; round++) {
        const struct sortcase *sc = &SORTS[test_rng_below(&rng, NSORTS)];
        int per_page = 1 + (int)test_rng_below(&rng, 100);
        int64_t offset = (int64_t)test_rng_below(&rng, NROWS + 150);
        if (round % 10 == 9) { /* a write between pages */
            exec(fx->ref, round % 20 == 9 ? "INSERT INTO t(a, b) VALUES (NULL, '')"
                                          : "DELETE FROM t WHERE id = (SELECT min(id) FROM t)");
        }
        json_t *rows = NULL;
        int64_t total = ids_of_page(fx, sc->sort, offset, per_page, FOLIO_COUNT_EXACT, &rows);
        assert_int_equal(total, ref_count(fx, NULL));
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT id FROM t ORDER BY %s LIMIT %d OFFSET %lld", sc->order,
                 per_page, (long long)offset);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(fx->ref, sql, -1, &st, NULL), SQLITE_OK);
        size_t i = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *row = json_array_get(rows, i++);
            if (row == NULL)
                fail_msg("%s: page has %zu rows, SQLite more", sql, json_array_size(rows));
            json_int_t id = json_integer_value(json_object_get(row, "id"));
            if (id != sqlite3_column_int64(st, 0))
                fail_msg("%s: row %zu id %lld, want %lld", sql, i - 1, (long long)id,
                         (long long)sqlite3_column_int64(st, 0));
        }
        sqlite3_finalize(st);
        assert_int_equal(i, json_array_size(rows));
        json_decref(rows);
    }
}

/* The exact total of the page at `offset` (rows fetched and freed). */
static int64_t total_of(struct fixture *fx, int64_t offset)
{
    json_t *rows = NULL;
    int64_t total = ids_of_page(fx, NULL, offset, 5, FOLIO_COUNT_EXACT, &rows);
    json_decref(rows);
    return total;
}

static void test_fresh_worker_does_not_reuse_totals_counted_on_another_connection(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(total_of(fx, 0), NROWS);
    /* count.h: totals are cached per worker connection. A new worker (a new connection,
     * as a thread gets after its worker was freed) numbers its data versions afresh, so a
     * total counted on the old connection must not be taken for this one's. */
    folio__worker_free(fx->w);
    exec(fx->ref, "DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY id LIMIT 34)");
    struct folio_error err = {0};
    fx->w = folio__worker_new(&fx->srv, &err);
    assert_non_null(fx->w);
    fx->h.w = fx->w;
    assert_int_equal(total_of(fx, 0), NROWS - 34);
    assert_int_equal(total_of(fx, 400), NROWS - 34);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_seek_lands_on_the_boundary_row_for_every_sort_and_offset),
        T(test_index_extends_step_by_step_across_null_runs_and_ties),
        T(test_known_total_is_the_row_count_once_the_scan_reached_the_end),
        T(test_known_total_for_every_table_size_around_the_stride),
        T(test_changed_data_version_drops_the_index),
        T(test_a_read_transaction_keeps_its_snapshot_while_another_connection_writes),
        T(test_filtered_queries_get_indexes_of_their_own),
        T(test_more_queries_than_index_slots_stay_correct),
        T(test_page_fetch_returns_the_rows_of_limit_offset_and_the_exact_total),
        T(test_fresh_worker_does_not_reuse_totals_counted_on_another_connection),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
