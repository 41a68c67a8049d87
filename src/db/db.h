/* The database seam: one interface, one file per backend (db_sqlite.c, later db_pg.c).
 *
 * Handlers call only the folio_db_* wrappers below, never ops members directly. A
 * folio_db is the shared, read-only description of a database (path, schema); a
 * folio_db_conn is one connection, owned by exactly one thread, with its own cache of
 * prepared statements. */
#ifndef FOLIO_DB_DB_H
#define FOLIO_DB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/folio.h"

typedef struct folio_db folio_db;
typedef struct folio_db_conn folio_db_conn;
struct folio_db_ops;

/* A result row, valid only during the query callback that receives it. */
struct folio_db_row {
    const struct folio_db_ops *ops;
    void *impl;
};

struct folio_column {
    char *name;
    char *sql;       /* quoted identifier, safe to paste into SQL */
    char *decl_type; /* declared type ("INTEGER", "TEXT", "" when none) */
    bool not_null;
    bool hidden;     /* not a real column (the rowid tiebreaker); never shown */
    bool index_lead; /* an index can serve ORDER BY this column: it is the first column of
                        a (non-partial) index, or the rowid */
};

struct folio_table {
    char *name;
    char *sql; /* quoted identifier */
    size_t ncols;            /* visible columns */
    size_t ncols_all;        /* visible + hidden */
    struct folio_column *cols;
    /* The unique tiebreaker, appended to every sort: a rowid alias (INTEGER PRIMARY KEY,
     * as SQLite decides it); a WITHOUT ROWID table's declared key (NOT NULL by SQLite's
     * rule); else the declared key followed by the hidden rowid column. Tables with no
     * such key (every rowid name shadowed, no NOT NULL key) are not in the schema. */
    size_t npk;
    int pk[FOLIO_SORT_MAX];
    size_t npk_declared;
    int pk_declared[FOLIO_SORT_MAX]; /* the declared PRIMARY KEY: the default sort */
    /* The columns again as parallel arrays (ncols_all each), the shape the SQL builders
     * take; filled once when the schema is loaded. */
    const char **names;
    const char **sqls;
    bool *not_null;
};

struct folio_schema {
    size_t ntables;
    struct folio_table *tables;
};

enum {
    FOLIO_DB_CAP_DATA_VERSION = 1u << 0, /* data_version() detects other writers */
    FOLIO_DB_CAP_SNAPSHOT = 1u << 1,     /* begin_read() gives a stable snapshot */
};

/* A row handed to a query callback; valid only during the callback. */
typedef int (*folio_db_row_fn)(void *ctx, const struct folio_db_row *row);

struct folio_db_ops {
    const char *name;
    unsigned caps;
    folio_status (*open)(folio_db *db, const char *target, struct folio_error *err);
    void (*close)(folio_db *db);
    folio_status (*load_schema)(folio_db_conn *c, struct folio_schema *out,
                                struct folio_error *err);
    folio_status (*connect)(folio_db *db, folio_db_conn **out, struct folio_error *err);
    void (*disconnect)(folio_db_conn *c);
    folio_status (*query)(folio_db_conn *c, const char *sql, size_t sql_len,
                          const struct folio_value *params, size_t nparams,
                          folio_db_row_fn fn, void *ctx, struct folio_error *err);
    size_t (*row_columns)(const struct folio_db_row *row);
    void (*row_value)(const struct folio_db_row *row, size_t i, struct folio_value *out);
    folio_status (*data_version)(folio_db_conn *c, uint64_t *out);
    folio_status (*begin_read)(folio_db_conn *c);
    void (*end_read)(folio_db_conn *c);
    folio_status (*explain)(folio_db_conn *c, const char *sql, size_t sql_len,
                            struct folio_buf *out);
    void (*deadline)(folio_db_conn *c, uint64_t deadline_ms);
    enum folio_param_style param_style;
};

extern const struct folio_db_ops folio__db_sqlite_ops;

struct folio_db {
    const struct folio_db_ops *ops;
    char *target; /* path or URL */
    struct folio_schema schema;
    void *backend; /* backend-private */
};

struct folio_db_conn {
    folio_db *db;
};

/* Open a database (picks the backend from the target: a file path is SQLite) and load its
 * schema. Returns FOLIO_EDB / FOLIO_EIO with err filled. */
folio_status folio__db_open(folio_db **out, const char *target, struct folio_error *err);
void folio__db_close(folio_db *db);
const struct folio_schema *folio__db_schema(const folio_db *db);
const struct folio_table *folio__db_table(const folio_db *db, const char *name);
unsigned folio__db_caps(const folio_db *db);
enum folio_param_style folio__db_param_style(const folio_db *db);

folio_status folio__db_connect(folio_db *db, folio_db_conn **out, struct folio_error *err);
void folio__db_disconnect(folio_db_conn *c);
/* Run `sql` with parameters numbered 1..nparams (NULL-typed ones are left unbound) and
 * call `fn` for each row until it returns non-zero. Statements are prepared once per
 * connection and cached by their text. */
folio_status folio__db_query(folio_db_conn *c, const char *sql, size_t sql_len,
                             const struct folio_value *params, size_t nparams, folio_db_row_fn fn,
                             void *ctx, struct folio_error *err);
size_t folio__db_row_columns(const struct folio_db_row *row);
void folio__db_row_value(const struct folio_db_row *row, size_t i, struct folio_value *out);
/* A number that changes whenever another connection commits a change. */
folio_status folio__db_data_version(folio_db_conn *c, uint64_t *out);
/* A read transaction: every query until end_read sees one snapshot. */
folio_status folio__db_begin_read(folio_db_conn *c);
void folio__db_end_read(folio_db_conn *c);
/* From now on, a query still running at `deadline_ms` (CLOCK_MONOTONIC milliseconds) is
 * stopped and returns FOLIO_ETIMEOUT (err: HTTP 503); 0 removes the limit. Applies to
 * every query of the connection until changed. */
void folio__db_deadline(folio_db_conn *c, uint64_t deadline_ms);
/* CLOCK_MONOTONIC in milliseconds, the clock of folio__db_deadline. */
uint64_t folio__db_now_ms(void);
/* The query plan of `sql`, one line per step joined by " | ". */
folio_status folio__db_explain(folio_db_conn *c, const char *sql, size_t sql_len,
                               struct folio_buf *out);

/* Free what a table owns (its columns and names) and zero it; the struct itself is the
 * caller's. */
void folio__table_clear(struct folio_table *t);
void folio__schema_clear(struct folio_schema *s);

#endif
