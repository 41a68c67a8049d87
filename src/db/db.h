/* The database seam: one interface, one file per backend (db_sqlite.c, db_pg.c).
 *
 * Everything that differs between databases is said here, by the backend: its
 * capabilities (FOLIO_DB_CAP_*: NULL order, row values, snapshots, change detection, a
 * hidden tiebreaker, LIKE's case rule), the SQL spelling of parameters and LIKE, each
 * column's value mapping (struct folio_column: affinity, integer), how to estimate a count
 * and how a value is written as JSON. Callers check folio__db_caps() instead of asking
 * which backend runs; no `if (backend == ...)` outside src/db/.
 *
 * Callers use only the folio__db_* wrappers below, never ops members directly. A
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
    char *json_key;  /* the name as a JSON object key, "\"name\":" (escaped once, at
                        schema load; NULL in tables made otherwise) */
    size_t json_key_len;
    char *decl_type; /* declared type ("INTEGER", "TEXT", "" when none) */
    /* How a filter argument on this column becomes a typed value (the backend decides:
     * SQLite's affinity rules; PostgreSQL: integers for smallint/integer/bigint, text for
     * every other type, which the server then parses exactly as that type). */
    enum folio_affinity affinity;
    bool integer;    /* holds only 64-bit integers (SQLite: declared "INTEGER"; PostgreSQL:
                        smallint, integer, bigint) */
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
    /* data_version() moves on every committed write, by any connection; without it the
     * caches keyed by it (totals, hybrid index, page cache) are not used. */
    FOLIO_DB_CAP_DATA_VERSION = 1u << 0,
    FOLIO_DB_CAP_SNAPSHOT = 1u << 1,     /* begin_read() gives a stable snapshot */
    /* ORDER BY puts NULL after every value in ascending order and first in descending
     * (PostgreSQL); without it NULL is the smallest value (SQLite). */
    FOLIO_DB_CAP_NULLS_LARGE = 1u << 2,
    /* A row-value comparison "(a, b) > ($1, $2)" is understood and served by a btree
     * index on (a, b) (used only where directions agree and the columns are NOT NULL). */
    FOLIO_DB_CAP_ROW_VALUES = 1u << 3,
    /* Tables may carry a hidden unique key (SQLite's rowid) that breaks ties; without it
     * a table needs a declared primary key or a configured `key`. */
    FOLIO_DB_CAP_HIDDEN_KEY = 1u << 4,
    /* The database's own LIKE tells case apart (PostgreSQL); folio's `like` filter is
     * case-insensitive everywhere, through like_op below. */
    FOLIO_DB_CAP_LIKE_CASE_SENSITIVE = 1u << 5,
    /* The has_prev/has_more probe ("is there a row past the boundary?") is written with
     * the walk's ORDER BY, so that the planner seeks the sort index from the boundary
     * (PostgreSQL otherwise may scan the heap for it). Without it the probe is a bare
     * LIMIT 1, as SQLite's planner has always served it. */
    FOLIO_DB_CAP_ORDERED_PROBES = 1u << 6,
    /* data_version() gives the same number for the same data on every connection, node
     * and replica (PostgreSQL's WAL position), so caches shared between nodes may key
     * their entries by it (server/cluster.c). SQLite's counts per connection. */
    FOLIO_DB_CAP_SHARED_VERSION = 1u << 7,
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
    folio_status (*begin_read)(folio_db_conn *c, struct folio_error *err);
    void (*end_read)(folio_db_conn *c);
    folio_status (*explain)(folio_db_conn *c, const char *sql, size_t sql_len,
                            const struct folio_value *params, size_t nparams,
                            struct folio_buf *out);
    void (*deadline)(folio_db_conn *c, uint64_t deadline_ms);
    /* Optional (NULL: the backend cannot promise to stop at once, as a query waiting on a
     * server cannot; folio__db_budget). until_us 0 removes the budget. */
    void (*budget)(folio_db_conn *c, uint64_t until_us);
    bool (*budget_spent)(folio_db_conn *c);
    /* Optional (NULL: no hint; folio__db_hint_open). */
    struct folio_db_hint *(*hint_open)(folio_db_conn *c);
    bool (*hint_poll)(struct folio_db_hint *h);
    void (*hint_close)(struct folio_db_hint *h);
    /* A cheap estimate of the rows of `t` matching `where` (NULL: all rows), or
     * FOLIO_ENOTFOUND when the backend has none for this query. */
    folio_status (*estimate)(folio_db_conn *c, const struct folio_table *t, const char *where,
                             const struct folio_value *params, size_t nparams, int64_t *out,
                             struct folio_error *err);
    /* Write column i of the row as its JSON value (docs/types.md). */
    void (*row_json)(const struct folio_db_row *row, size_t i, struct folio_json *j);
    /* Optional (NULL: false). The source of the read that just failed transiently is put
     * aside; true when another source (a replica, the primary) may serve a retry. */
    bool (*failover)(folio_db_conn *c);
    enum folio_param_style param_style;
    struct folio_sql_dialect dialect; /* LIKE spelling, with param_style */
};

extern const struct folio_db_ops folio__db_sqlite_ops;
extern const struct folio_db_ops folio__db_pg_ops;

/* Which backend serves `target`: PostgreSQL for a postgresql:// or postgres:// URI or a
 * key=value conninfo string ("host=... dbname=..."), else SQLite (a file path). */
const struct folio_db_ops *folio__db_backend_of(const char *target);
bool folio__db_target_is_pg(const char *target);

/* Settings a backend may use ([database] in the config); SQLite ignores them. */
struct folio_db_options {
    const char *application_name; /* NULL: "folio" */
    unsigned statement_timeout_ms; /* each statement's limit on the server; 0: none */
    size_t nschemas;               /* 0: "public" */
    const char *const *schemas;    /* the schemas whose tables and views are served */
    /* PostgreSQL streaming replicas that serve reads (db_replicas.c); 0: the primary only. */
    size_t nreplicas;
    const char *const *replicas;
    /* false: unnamed statements (PQexecParams), which work through a transaction-pooling
     * PgBouncer; true (the default, set by folio__db_options_init): prepared once per
     * connection. */
    bool unprepared;
};

struct folio_db {
    const struct folio_db_ops *ops;
    char *target; /* path or URL */
    struct folio_schema schema;
    void *backend; /* backend-private */
    struct folio_db_options opts; /* copied strings, owned */
};

struct folio_db_conn {
    folio_db *db;
};

/* A backend's change hint begins with this (folio__db_hint_open). */
struct folio_db_hint {
    const struct folio_db_ops *ops;
};

/* Open a database (picks the backend from the target: folio__db_backend_of) and load its
 * schema. Returns FOLIO_EDB / FOLIO_EIO with err filled. `opts` may be NULL (defaults);
 * it is copied. */
folio_status folio__db_open(folio_db **out, const char *target, struct folio_error *err);
folio_status folio__db_open_with(folio_db **out, const char *target,
                                 const struct folio_db_options *opts, struct folio_error *err);
void folio__db_close(folio_db *db);
const struct folio_schema *folio__db_schema(const folio_db *db);
const struct folio_table *folio__db_table(const folio_db *db, const char *name);
unsigned folio__db_caps(const folio_db *db);
const char *folio__db_backend_name(const folio_db *db);
enum folio_param_style folio__db_param_style(const folio_db *db);
/* Parameter style and LIKE spelling, for the SQL builders of libfolio. */
const struct folio_sql_dialect *folio__db_dialect(const folio_db *db);

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
/* A read transaction: every query until end_read sees one snapshot. A failure (the server
 * is gone: FOLIO_EDB with a transient err, HTTP 503) fills err when given. */
folio_status folio__db_begin_read(folio_db_conn *c, struct folio_error *err);
void folio__db_end_read(folio_db_conn *c);
/* From now on, a query still running at `deadline_ms` (CLOCK_MONOTONIC milliseconds) is
 * stopped and returns FOLIO_ETIMEOUT (err: HTTP 503); 0 removes the limit. Applies to
 * every query of the connection until changed. */
void folio__db_deadline(folio_db_conn *c, uint64_t deadline_ms);
/* CLOCK_MONOTONIC in milliseconds, the clock of folio__db_deadline. */
uint64_t folio__db_now_ms(void);
/* A time budget, for work that is tried where waiting would hold up others (the server's
 * I/O threads: server.c, route_inline) and redone elsewhere when it does not fit: from
 * now on a query running at `until_us` (CLOCK_MONOTONIC microseconds) stops within
 * microseconds, and one that would wait for a lock fails at once instead; both fail
 * (FOLIO_ETIMEOUT) and mark the budget spent. 0 removes the budget and the mark. False
 * when the backend has no such stop (PostgreSQL: a statement may wait on the server). */
bool folio__db_budget(folio_db_conn *c, uint64_t until_us);
/* Whether the budget set last stopped or refused anything. */
bool folio__db_budget_spent(folio_db_conn *c);
/* CLOCK_MONOTONIC in microseconds, the clock of folio__db_budget. */
uint64_t folio__db_now_us(void);
/* A change hint: a cheap way to learn that nothing was written to the database, which
 * spares a data_version() check (SQLite: inotify on the database file, its WAL and its
 * directory; one system call and no lock where data_version() takes the file locks). NULL
 * when the backend or the file system has none (a network file system: writes from other
 * hosts raise no event). `c` is a connection to the database, used only here. */
struct folio_db_hint *folio__db_hint_open(folio_db_conn *c);
/* False only when nothing was written since the previous call returned true (the first
 * call returns true): the caller then knows data_version() is unchanged. True means it
 * may have changed: ask data_version(). A write that completes before this call is seen
 * by it (the event is queued by the writer's own system call, before its commit is
 * visible to readers). */
bool folio__db_hint_poll(struct folio_db_hint *h);
void folio__db_hint_close(struct folio_db_hint *h);
/* The query plan of `sql` with its parameters, one line per step joined by " | ". */
folio_status folio__db_explain(folio_db_conn *c, const char *sql, size_t sql_len,
                               const struct folio_value *params, size_t nparams,
                               struct folio_buf *out);
/* A cheap row estimate for `t` with the filter `where` (NULL = none) and its parameters;
 * FOLIO_ENOTFOUND when the backend has none (count instead), else FOLIO_OK or a query
 * error (err filled). */
folio_status folio__db_estimate(folio_db_conn *c, const struct folio_table *t, const char *where,
                                const struct folio_value *params, size_t nparams, int64_t *out,
                                struct folio_error *err);
/* Write column i of a row as JSON, in the backend's documented form for its type. */
void folio__db_row_json(const struct folio_db_row *row, size_t i, struct folio_json *j);
/* After a transient failure (FOLIO_EDB, kind TRANSIENT) of a read: true when the same
 * read may be retried on another source (replica set, db_replicas.c), false when not. */
bool folio__db_failover(folio_db_conn *c);

/* PostgreSQL only (db_pg.c): a connection of `db` (its schema, options, types) to the
 * server `conninfo` (borrowed, must outlive the connection) instead of db's own target: a
 * streaming replica. Never fails for a server that is down (queries then fail
 * transiently); FOLIO_ENOMEM. */
folio_status folio__db_pg_connect_to(folio_db *db, const char *conninfo, folio_db_conn **out,
                                     struct folio_error *err);
/* Wrap the opened PostgreSQL database `primary` (taken over, also on failure) into a
 * replica set that reads from db->opts replicas (db_replicas.c). FOLIO_ENOMEM. */
folio_status folio__db_replicas_wrap(folio_db *primary, folio_db **out, struct folio_error *err);
/* Sources of a replica set and whether each is currently healthy (for /metrics); 0 for
 * another database. */
size_t folio__db_sources(const folio_db *db, bool *healthy, size_t max);
/* Reads of a replica set that moved to another source after a failure; 0 otherwise. */
uint64_t folio__db_failovers(const folio_db *db);

/* PostgreSQL internals, exposed for unit tests (db_pg.c). The JSON form of a value in
 * its text form, by type OID (`elem`: the element type of an array type, else 0). */
void folio__pg_value_json(struct folio_json *j, unsigned oid, unsigned elem, const char *text,
                          size_t len);
/* Which $n the SQL text uses (outside quoted identifiers and literals): used[n - 1] set;
 * returns the highest n (at most max). */
int folio__pg_scan_params(const char *sql, size_t len, bool *used, int max);

/* Free what a table owns (its columns and names) and zero it; the struct itself is the
 * caller's. */
void folio__table_clear(struct folio_table *t);
void folio__schema_clear(struct folio_schema *s);
/* `name` as a double-quoted SQL identifier (quotes doubled), as both backends spell it;
 * NULL when out of memory. The caller frees it. */
char *folio__db_quote_ident(const char *name);

#endif
