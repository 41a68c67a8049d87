/* folio demo PATH [--rows N]: a deterministic demo database, built in one transaction. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "folio/request.h"

static const char schema_sql[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT,"
    " created_at TEXT NOT NULL);"
    "CREATE TABLE messages(id INTEGER PRIMARY KEY, body TEXT NOT NULL,"
    " created_at TEXT NOT NULL);"
    "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price REAL, category TEXT);"
    "CREATE TABLE events(id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, kind TEXT,"
    " payload TEXT);";

static const char index_sql[] =
    "CREATE INDEX users_created_at ON users(created_at, id);"
    "CREATE INDEX users_name ON users(name, id);"
    "CREATE INDEX messages_created_at ON messages(created_at, id);"
    "CREATE INDEX items_category_price ON items(category, price, id);"
    "CREATE INDEX items_price ON items(price, id);"
    "CREATE INDEX events_created_at ON events(created_at, id);"
    "CREATE INDEX events_kind_created_at ON events(kind, created_at, id);";

static const char *const first_names[] = {"Ada", "Grace", "Linus", "Margaret", "Dennis",
                                          "Barbara", "Ken", "Frances", "Edsger", "Radia"};
static const char *const categories[] = {"books", "garden", "kitchen", "music", "outdoor",
                                         "tools", "toys", "video"};
static const char *const kinds[] = {"login", "logout", "purchase", "view", "error"};
static const char *const words[] = {"hello", "page", "cursor", "keyset", "offset",
                                    "signed", "stable", "fast", "index", "row"};

/* A small deterministic generator (SplitMix64), so every run builds the same data. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A timestamp `secs` after 2024-01-01T00:00:00Z, as ISO 8601 text. */
static void stamp(char *out, size_t n, long long secs)
{
    time_t t = (time_t)(1704067200LL + secs);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "folio demo: %s: %s\n", what, sqlite3_errmsg(db));
    sqlite3_close(db);
    return 1;
}

static int step_reset(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static const struct cli_option options[] = {
    {"--help", "-h", false, false},
    {"--rows", NULL, true, false},
};

struct demo_args {
    const char *path;
    int64_t rows;
};

static int on_arg(void *ctx, const struct cli_option *opt, const char *val)
{
    struct demo_args *a = ctx;
    if (opt == NULL) {
        if (a->path != NULL) {
            fprintf(stderr, "folio demo: unexpected argument '%s'\n", val);
            return 2;
        }
        a->path = val;
    } else if (opt == &options[0]) {
        printf("usage: folio demo PATH [--rows N]\n\n"
               "Create a SQLite demo database at PATH (which must not exist) with tables\n"
               "users, messages, items and events of N rows each (default 1000000).\n");
        return 0;
    } else if (folio_parse_int64(val, false, &a->rows) != FOLIO_OK || a->rows < 0 ||
               a->rows > 100000000) {
        fprintf(stderr, "folio demo: --rows must be an integer from 0 to 100000000, got '%s'\n",
                val);
        return 2;
    }
    return -1;
}

int cmd_demo(int argc, char **argv)
{
    struct demo_args args = {NULL, 1000000};
    int rc = cli_walk("demo", argc, argv, options, sizeof options / sizeof options[0], on_arg,
                      &args);
    if (rc >= 0)
        return rc;
    const char *path = args.path;
    int64_t rows = args.rows;
    if (path == NULL) {
        fprintf(stderr, "usage: folio demo PATH [--rows N]\n");
        return 2;
    }
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "folio demo: %s already exists; refusing to overwrite it\n", path);
        return 1;
    }

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        return fail(db, "cannot create the database");
    if (sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;"
                     " PRAGMA temp_store=MEMORY; BEGIN",
                     NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, "cannot create the tables");

    sqlite3_stmt *su, *sm, *si, *se;
    if (sqlite3_prepare_v2(db, "INSERT INTO users VALUES(?1, ?2, ?3, ?4)", -1, &su, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO messages VALUES(?1, ?2, ?3)", -1, &sm, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO items VALUES(?1, ?2, ?3, ?4)", -1, &si, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO events VALUES(?1, ?2, ?3, ?4)", -1, &se, NULL))
        return fail(db, "cannot prepare the inserts");

    char a[160], b[64];
    int bad = 0;
    for (int64_t id = 1; id <= rows && !bad; id++) {
        uint64_t r = mix((uint64_t)id);
        /* users */
        snprintf(a, sizeof a, "%s %lld", first_names[r % 10], (long long)id);
        stamp(b, sizeof b, id * 37);
        sqlite3_bind_int64(su, 1, id);
        sqlite3_bind_text(su, 2, a, -1, SQLITE_TRANSIENT);
        if (id % 10 == 0) {
            sqlite3_bind_null(su, 3);
        } else {
            snprintf(a, sizeof a, "user%lld@example.com", (long long)id);
            sqlite3_bind_text(su, 3, a, -1, SQLITE_TRANSIENT);
        }
        sqlite3_bind_text(su, 4, b, -1, SQLITE_TRANSIENT);
        bad |= step_reset(su);
        /* messages */
        snprintf(a, sizeof a, "message %lld: %s %s %s", (long long)id, words[r % 10],
                 words[(r >> 8) % 10], words[(r >> 16) % 10]);
        stamp(b, sizeof b, id * 11);
        sqlite3_bind_int64(sm, 1, id);
        sqlite3_bind_text(sm, 2, a, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(sm, 3, b, -1, SQLITE_TRANSIENT);
        bad |= step_reset(sm);
        /* items: some NULL names and categories */
        sqlite3_bind_int64(si, 1, id);
        if (id % 7 == 0) {
            sqlite3_bind_null(si, 2);
        } else {
            snprintf(a, sizeof a, "item %lld", (long long)id);
            sqlite3_bind_text(si, 2, a, -1, SQLITE_TRANSIENT);
        }
        sqlite3_bind_double(si, 3, (double)((r >> 20) % 100000) / 100.0);
        if (id % 11 == 0)
            sqlite3_bind_null(si, 4);
        else
            sqlite3_bind_text(si, 4, categories[(r >> 40) % 8], -1, SQLITE_STATIC);
        bad |= step_reset(si);
        /* events: 50 events share each created_at */
        stamp(b, sizeof b, (id / 50) * 60);
        sqlite3_bind_int64(se, 1, id);
        sqlite3_bind_text(se, 2, b, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(se, 3, kinds[r % 5], -1, SQLITE_STATIC);
        snprintf(a, sizeof a, "{\"user\":%llu,\"n\":%lld}", (unsigned long long)(r % 100000),
                 (long long)id);
        sqlite3_bind_text(se, 4, a, -1, SQLITE_TRANSIENT);
        bad |= step_reset(se);
    }
    sqlite3_finalize(su);
    sqlite3_finalize(sm);
    sqlite3_finalize(si);
    sqlite3_finalize(se);
    if (bad)
        return fail(db, "cannot insert the rows");
    if (sqlite3_exec(db, index_sql, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "COMMIT; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL,
                     NULL) != SQLITE_OK)
        return fail(db, "cannot finish the database");
    sqlite3_close(db);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("folio demo: created %s with %lld rows in each of users, messages, items, events "
           "(%.2f s)\n",
           path, (long long)rows, secs);
    return 0;
}
