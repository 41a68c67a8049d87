/* folio demo postgresql://... [--rows N]: the demo tables of `folio demo FILE` in PostgreSQL,
 * the same columns, values and indexes, loaded with COPY in one transaction.
 *
 * Column types mirror the SQLite demo so that both backends serve the same JSON: integer
 * keys are bigint, the timestamps stay ISO 8601 text (as in the SQLite file), prices are
 * double precision. The values come from demo_values.h, shared with cmd_demo.c. */
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "demo_values.h"

static const char schema_sql[] =
    "SET client_min_messages = warning;"
    "SET maintenance_work_mem = '256MB';" /* faster index builds */
    "BEGIN;"
    "CREATE TABLE users(id bigint PRIMARY KEY, name text NOT NULL, email text,"
    " created_at text NOT NULL);"
    "CREATE TABLE messages(id bigint PRIMARY KEY, body text NOT NULL,"
    " created_at text NOT NULL);"
    "CREATE TABLE items(id bigint PRIMARY KEY, name text, price double precision,"
    " category text);"
    "CREATE TABLE events(id bigint PRIMARY KEY, created_at text NOT NULL, kind text,"
    " payload text);";

/* The same indexes as the SQLite demo (cmd_demo.c), built after the load. */
static const char index_sql[] =
    "CREATE INDEX users_created_at ON users(created_at, id);"
    "CREATE INDEX users_name ON users(name, id);"
    "CREATE INDEX messages_created_at ON messages(created_at, id);"
    "CREATE INDEX items_category_price ON items(category, price, id);"
    "CREATE INDEX items_price ON items(price, id);"
    "CREATE INDEX events_created_at ON events(created_at, id);"
    "CREATE INDEX events_kind_created_at ON events(kind, created_at, id);"
    "COMMIT;";

enum { COPY_CHUNK = 1 << 16 };

struct copy_buf {
    PGconn *conn;
    char data[COPY_CHUNK];
    size_t len;
    int failed;
};

static void flush(struct copy_buf *b)
{
    if (b->len > 0 && !b->failed && PQputCopyData(b->conn, b->data, (int)b->len) != 1)
        b->failed = 1;
    b->len = 0;
}

/* Appends one COPY text-format line; the demo values hold no tab, newline or backslash. */
static void line(struct copy_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(struct copy_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->failed = 1;
        return;
    }
    if (b->len + (size_t)n > sizeof b->data)
        flush(b);
    memcpy(b->data + b->len, tmp, (size_t)n);
    b->len += (size_t)n;
}

static int exec_ok(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    return ok;
}

/* COPY table FROM STDIN, rows 1..rows, one line each from row(). */
static int copy_table(struct copy_buf *b, const char *table, int64_t rows,
                      void (*row)(struct copy_buf *, int64_t))
{
    char sql[96];
    snprintf(sql, sizeof sql, "COPY %s FROM STDIN", table);
    PGresult *res = PQexec(b->conn, sql);
    int ok = PQresultStatus(res) == PGRES_COPY_IN;
    PQclear(res);
    if (!ok)
        return 0;
    b->len = 0;
    b->failed = 0;
    for (int64_t id = 1; id <= rows && !b->failed; id++)
        row(b, id);
    flush(b);
    if (PQputCopyEnd(b->conn, b->failed ? "folio demo: row too long" : NULL) != 1)
        return 0;
    ok = 1;
    while ((res = PQgetResult(b->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            ok = 0;
        PQclear(res);
    }
    return ok && !b->failed;
}

static void user_row(struct copy_buf *b, int64_t id)
{
    struct demo_row d;
    demo_row_make(&d, id);
    if (!d.has_email)
        line(b, "%lld\t%s\t\\N\t%s\n", (long long)id, d.user_name, d.user_created);
    else
        line(b, "%lld\t%s\t%s\t%s\n", (long long)id, d.user_name, d.email, d.user_created);
}

static void message_row(struct copy_buf *b, int64_t id)
{
    struct demo_row d;
    demo_row_make(&d, id);
    line(b, "%lld\t%s\t%s\n", (long long)id, d.body, d.message_created);
}

static void item_row(struct copy_buf *b, int64_t id)
{
    struct demo_row d;
    demo_row_make(&d, id);
    /* %.17g: the exact double the SQLite demo stores. */
    line(b, "%lld\t%s\t%.17g\t%s\n", (long long)id, d.has_item_name ? d.item_name : "\\N",
         d.price, d.category ? d.category : "\\N");
}

static void event_row(struct copy_buf *b, int64_t id)
{
    struct demo_row d;
    demo_row_make(&d, id);
    line(b, "%lld\t%s\t%s\t%s\n", (long long)id, d.event_created, d.kind, d.payload);
}

static int fail(PGconn *conn, const char *what)
{
    fprintf(stderr, "folio demo: %s: %s", what, PQerrorMessage(conn));
    PQfinish(conn);
    return 1;
}

int cmd_demo_pg(const char *target, int64_t rows)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    PGconn *conn = PQconnectdb(target);
    if (conn == NULL) {
        fprintf(stderr, "folio demo: out of memory\n");
        return 1;
    }
    if (PQstatus(conn) != CONNECTION_OK)
        return fail(conn, "cannot connect to PostgreSQL");
    PGresult *res = PQexec(conn, "SELECT count(*) FROM pg_catalog.pg_class c JOIN "
                                 "pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                                 "WHERE n.nspname = current_schema() AND c.relname IN "
                                 "('users', 'messages', 'items', 'events')");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return fail(conn, "cannot read the catalog");
    }
    int existing = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (existing > 0) {
        fprintf(stderr,
                "folio demo: the database already has a users, messages, items or events "
                "table; refusing to overwrite it\n");
        PQfinish(conn);
        return 1;
    }
    if (!exec_ok(conn, schema_sql))
        return fail(conn, "cannot create the tables");

    struct copy_buf *b = calloc(1, sizeof *b);
    if (b == NULL) {
        fprintf(stderr, "folio demo: out of memory\n");
        PQfinish(conn);
        return 1;
    }
    b->conn = conn;
    int ok = copy_table(b, "users", rows, user_row) &&
             copy_table(b, "messages", rows, message_row) &&
             copy_table(b, "items", rows, item_row) && copy_table(b, "events", rows, event_row);
    free(b);
    if (!ok)
        return fail(conn, "cannot load the rows");
    if (!exec_ok(conn, index_sql) || !exec_ok(conn, "ANALYZE users, messages, items, events"))
        return fail(conn, "cannot finish the database");
    PQfinish(conn);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("folio demo: created %lld rows in each of users, messages, items, events in "
           "PostgreSQL (%.2f s)\n",
           (long long)rows, secs);
    return 0;
}
