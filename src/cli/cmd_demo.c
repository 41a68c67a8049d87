/* folio demo PATH|postgresql://... [--rows N]: a deterministic demo database, built in one
 * transaction (PostgreSQL targets: cmd_demo_pg.c). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "demo_values.h"
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

/* A postgresql:// or postgres:// URI, or a libpq key=value conninfo string. */
static bool demo_target_is_pg(const char *target)
{
    return strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0 ||
           (strchr(target, '=') != NULL && strchr(target, '/') == NULL);
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
        printf("usage: folio demo PATH|postgresql://... [--rows N]\n\n"
               "Create a SQLite demo database at PATH (which must not exist) with tables\n"
               "users, messages, items and events of N rows each (default 1000000).\n"
               "Given a postgresql:// or postgres:// URI or a key=value conninfo string,\n"
               "create the same tables and indexes in that PostgreSQL database (loaded\n"
               "with COPY; it must not have those tables yet).\n");
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
        fprintf(stderr, "usage: folio demo PATH|postgresql://... [--rows N]\n");
        return 2;
    }
    if (demo_target_is_pg(path))
        return cmd_demo_pg(path, rows);
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

    int bad = 0;
    for (int64_t id = 1; id <= rows && !bad; id++) {
        struct demo_row d;
        demo_row_make(&d, id);
        sqlite3_bind_int64(su, 1, id);
        sqlite3_bind_text(su, 2, d.user_name, -1, SQLITE_STATIC);
        if (d.has_email)
            sqlite3_bind_text(su, 3, d.email, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(su, 3);
        sqlite3_bind_text(su, 4, d.user_created, -1, SQLITE_STATIC);
        bad |= step_reset(su);
        sqlite3_bind_int64(sm, 1, id);
        sqlite3_bind_text(sm, 2, d.body, -1, SQLITE_STATIC);
        sqlite3_bind_text(sm, 3, d.message_created, -1, SQLITE_STATIC);
        bad |= step_reset(sm);
        sqlite3_bind_int64(si, 1, id);
        if (d.has_item_name)
            sqlite3_bind_text(si, 2, d.item_name, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(si, 2);
        sqlite3_bind_double(si, 3, d.price);
        if (d.category != NULL)
            sqlite3_bind_text(si, 4, d.category, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(si, 4);
        bad |= step_reset(si);
        sqlite3_bind_int64(se, 1, id);
        sqlite3_bind_text(se, 2, d.event_created, -1, SQLITE_STATIC);
        sqlite3_bind_text(se, 3, d.kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(se, 4, d.payload, -1, SQLITE_STATIC);
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
