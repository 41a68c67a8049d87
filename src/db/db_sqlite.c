/* SQLite backend: read-only connections, one per thread, each with a cache of prepared
 * statements keyed by their SQL text. */
#include <pthread.h>
#include <sqlite3.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "db.h"

#define STMT_CACHE_SLOTS 128

struct stmt_entry {
    uint64_t hash;
    char *sql;
    size_t len;
    sqlite3_stmt *stmt;
    uint64_t used; /* LRU clock */
};

struct sqlite_conn {
    struct folio_db_conn base;
    sqlite3 *h;
    uint64_t deadline_ms; /* 0 = no limit; see folio__db_deadline */
    uint64_t budget_us;   /* 0 = none; see folio__db_budget */
    bool budget_spent;
    uint64_t clock;
    struct stmt_entry cache[STMT_CACHE_SLOTS];
};

static folio_status db_error(struct folio_error *err, sqlite3 *h, const char *what)
{
    return folio_error_set(err, FOLIO_EDB, FOLIO_KIND_INTERNAL, NULL, "%s: %s", what,
                           h ? sqlite3_errmsg(h) : "cannot allocate a connection");
}

/* SQLite's memory statistics take a global mutex on every allocation; folio reads none
 * of them. Only possible before SQLite initializes: when the program using libfolio has
 * used SQLite already, its settings stand (sqlite3_config fails, harmlessly). */
static void configure_sqlite(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static folio_status sq_open(folio_db *db, const char *target, struct folio_error *err)
{
    (void)db;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_sqlite);
    sqlite3 *h = NULL;
    /* Fail early and clearly when the file is missing: a read-only open never creates. */
    int rc = sqlite3_open_v2(target, &h, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        folio_status st =
            folio_error_set(err, FOLIO_EIO, FOLIO_KIND_NONE, NULL, "cannot open %s: %s", target,
                            h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
        sqlite3_close(h);
        return st;
    }
    sqlite3_close(h);
    return FOLIO_OK;
}

static void sq_close(folio_db *db)
{
    (void)db;
}

/* Every PROGRESS_OPS virtual machine steps SQLite asks whether to go on: a query past its
 * deadline stops with SQLITE_INTERRUPT. A few thousand steps take microseconds, so the
 * limit is kept to well within a millisecond and the clock is read rarely. */
#define PROGRESS_OPS 4000

static int on_progress(void *arg)
{
    struct sqlite_conn *c = arg;
    if (c->budget_us != 0 && folio__db_now_us() >= c->budget_us) {
        c->budget_spent = true;
        return 1;
    }
    return c->deadline_ms != 0 && folio__db_now_ms() >= c->deadline_ms;
}

/* A lock another connection holds (a WAL reset, a rollback-journal writer): wait up to
 * BUSY_WAIT_MS as sqlite3_busy_timeout would, except under a budget, which must not wait
 * at all. */
#define BUSY_WAIT_MS 5000

static int on_busy(void *arg, int count)
{
    static const int delays[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
    enum { NDELAYS = sizeof delays / sizeof delays[0] };
    struct sqlite_conn *c = arg;
    if (c->budget_us != 0) {
        c->budget_spent = true;
        return 0;
    }
    int waited = 0;
    for (int i = 0; i < count && i < NDELAYS; i++)
        waited += delays[i];
    if (count >= NDELAYS)
        waited += (count - NDELAYS) * delays[NDELAYS - 1];
    int delay = count < NDELAYS ? delays[count] : delays[NDELAYS - 1];
    if (waited >= BUSY_WAIT_MS)
        return 0;
    if (waited + delay > BUSY_WAIT_MS)
        delay = BUSY_WAIT_MS - waited;
    sqlite3_sleep(delay);
    return 1;
}

static void sq_deadline(folio_db_conn *base, uint64_t deadline_ms)
{
    ((struct sqlite_conn *)base)->deadline_ms = deadline_ms;
}

static void sq_budget(folio_db_conn *base, uint64_t until_us)
{
    struct sqlite_conn *c = (struct sqlite_conn *)base;
    c->budget_us = until_us;
    c->budget_spent = false;
}

static bool sq_budget_spent(folio_db_conn *base)
{
    return ((struct sqlite_conn *)base)->budget_spent;
}

static folio_status sq_connect(folio_db *db, folio_db_conn **out, struct folio_error *err)
{
    struct sqlite_conn *c = folio_calloc(1, sizeof *c);
    if (c == NULL)
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL, "out of memory");
    c->base.db = db;
    int rc = sqlite3_open_v2(db->target, &c->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        folio_status st = db_error(err, c->h, "cannot open database");
        sqlite3_close(c->h);
        folio_free(c);
        return st;
    }
    sqlite3_busy_handler(c->h, on_busy, c);
    sqlite3_progress_handler(c->h, PROGRESS_OPS, on_progress, c);
    sqlite3_extended_result_codes(c->h, 1);
    *out = &c->base;
    return FOLIO_OK;
}

static void sq_disconnect(folio_db_conn *base)
{
    struct sqlite_conn *c = (struct sqlite_conn *)base;
    for (size_t i = 0; i < STMT_CACHE_SLOTS; i++) {
        sqlite3_finalize(c->cache[i].stmt);
        folio_free(c->cache[i].sql);
    }
    sqlite3_close(c->h);
    folio_free(c);
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* The cached statement for `sql`, prepared on first use; the least recently used entry
 * is finalized when the cache is full. */
static sqlite3_stmt *stmt_get(struct sqlite_conn *c, const char *sql, size_t len,
                              struct folio_error *err)
{
    uint64_t h = fnv1a(sql, len);
    struct stmt_entry *victim = &c->cache[0];
    for (size_t i = 0; i < STMT_CACHE_SLOTS; i++) {
        struct stmt_entry *e = &c->cache[i];
        if (e->stmt != NULL && e->hash == h && e->len == len && memcmp(e->sql, sql, len) == 0) {
            e->used = ++c->clock;
            return e->stmt;
        }
        if (e->used < victim->used)
            victim = e;
    }
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v3(c->h, sql, (int)len, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) !=
        SQLITE_OK) {
        db_error(err, c->h, "cannot prepare query");
        return NULL;
    }
    char *copy = folio_strndup(sql, len);
    if (copy == NULL) {
        sqlite3_finalize(stmt);
        folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    sqlite3_finalize(victim->stmt);
    folio_free(victim->sql);
    *victim = (struct stmt_entry){h, copy, len, stmt, ++c->clock};
    return stmt;
}

static folio_status bind_params(sqlite3_stmt *stmt, const struct folio_value *params,
                                size_t n)
{
    int rc = sqlite3_clear_bindings(stmt);
    int max = sqlite3_bind_parameter_count(stmt);
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        const struct folio_value *v = &params[i];
        int idx = (int)i + 1;
        if (idx > max)
            break;
        switch (v->type) {
        case FOLIO_VALUE_NULL:
            break;
        case FOLIO_VALUE_INT:
            rc = sqlite3_bind_int64(stmt, idx, v->i);
            break;
        case FOLIO_VALUE_REAL:
            rc = sqlite3_bind_double(stmt, idx, v->d);
            break;
        case FOLIO_VALUE_TEXT:
            rc = sqlite3_bind_text(stmt, idx, v->s, (int)v->len, SQLITE_STATIC);
            break;
        case FOLIO_VALUE_BLOB:
            rc = sqlite3_bind_blob(stmt, idx, v->s, (int)v->len, SQLITE_STATIC);
            break;
        }
    }
    return rc == SQLITE_OK ? FOLIO_OK : FOLIO_EDB;
}

static folio_status sq_query(folio_db_conn *base, const char *sql, size_t sql_len,
                             const struct folio_value *params, size_t nparams,
                             folio_db_row_fn fn, void *ctx, struct folio_error *err)
{
    struct sqlite_conn *c = (struct sqlite_conn *)base;
    sqlite3_stmt *stmt = stmt_get(c, sql, sql_len, err);
    if (stmt == NULL)
        return err ? err->status : FOLIO_EDB;
    if (bind_params(stmt, params, nparams) != FOLIO_OK) {
        sqlite3_reset(stmt);
        return db_error(err, c->h, "cannot bind parameters");
    }
    struct folio_db_row row = {&folio__db_sqlite_ops, stmt};
    folio_status st = FOLIO_OK;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (fn != NULL && fn(ctx, &row) != 0)
            break;
    }
    if (rc == SQLITE_INTERRUPT)
        st = folio_error_set(err, FOLIO_ETIMEOUT, FOLIO_KIND_TRANSIENT, NULL,
                             "the query ran longer than the server's time limit");
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        st = db_error(err, c->h, "query failed");
    sqlite3_reset(stmt);
    return st;
}

static size_t sq_row_columns(const struct folio_db_row *row)
{
    return (size_t)sqlite3_column_count(row->impl);
}

static void sq_row_value(const struct folio_db_row *row, size_t i, struct folio_value *out)
{
    sqlite3_stmt *stmt = row->impl;
    int col = (int)i;
    switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER:
        out->type = FOLIO_VALUE_INT;
        out->i = sqlite3_column_int64(stmt, col);
        break;
    case SQLITE_FLOAT:
        out->type = FOLIO_VALUE_REAL;
        out->d = sqlite3_column_double(stmt, col);
        break;
    case SQLITE_TEXT:
        out->type = FOLIO_VALUE_TEXT;
        out->s = (const char *)sqlite3_column_text(stmt, col);
        out->len = (size_t)sqlite3_column_bytes(stmt, col);
        break;
    case SQLITE_BLOB:
        out->type = FOLIO_VALUE_BLOB;
        out->s = sqlite3_column_blob(stmt, col);
        out->len = (size_t)sqlite3_column_bytes(stmt, col);
        break;
    default:
        out->type = FOLIO_VALUE_NULL;
    }
}

static int first_int(void *ctx, const struct folio_db_row *row)
{
    struct folio_value v;
    sq_row_value(row, 0, &v);
    *(int64_t *)ctx = v.type == FOLIO_VALUE_INT ? v.i : 0;
    return 1;
}

static folio_status sq_data_version(folio_db_conn *base, uint64_t *out)
{
    static const char sql[] = "PRAGMA data_version";
    int64_t v = 0;
    folio_status st = sq_query(base, sql, sizeof sql - 1, NULL, 0, first_int, &v, NULL);
    *out = (uint64_t)v;
    return st;
}

/* BEGIN and COMMIT go through the statement cache: they run on most requests. Ending a
 * read transaction is never stopped by a deadline or budget (SQLite checks them as a
 * cached statement's step count crosses a multiple of PROGRESS_OPS, so a COMMIT past
 * one was now and then interrupted and left the transaction open): COMMIT, or ROLLBACK
 * should it fail, runs without them, and the connection is out of its transaction. */
static void end_transaction(struct sqlite_conn *c)
{
    static const char commit[] = "COMMIT";
    uint64_t deadline = c->deadline_ms, budget = c->budget_us;
    c->deadline_ms = 0;
    c->budget_us = 0;
    if (!sqlite3_get_autocommit(c->h) &&
        sq_query(&c->base, commit, sizeof commit - 1, NULL, 0, NULL, NULL, NULL) != FOLIO_OK &&
        !sqlite3_get_autocommit(c->h))
        (void)sqlite3_exec(c->h, "ROLLBACK", NULL, NULL, NULL);
    c->deadline_ms = deadline;
    c->budget_us = budget;
}

static folio_status sq_begin_read(folio_db_conn *base, struct folio_error *err)
{
    (void)err;
    static const char sql[] = "BEGIN";
    struct sqlite_conn *c = (struct sqlite_conn *)base;
    end_transaction(c); /* none should be open; if one is, BEGIN would fail */
    return sq_query(base, sql, sizeof sql - 1, NULL, 0, NULL, NULL, NULL);
}

static void sq_end_read(folio_db_conn *base)
{
    end_transaction((struct sqlite_conn *)base);
}

static folio_status sq_explain(folio_db_conn *base, const char *sql, size_t sql_len,
                               const struct folio_value *params, size_t nparams,
                               struct folio_buf *out)
{
    (void)params; /* SQLite plans without the values */
    (void)nparams;
    struct sqlite_conn *c = (struct sqlite_conn *)base;
    struct folio_buf q;
    folio_buf_init(&q, sql_len + 64);
    folio_status st = folio_buf_puts(&q, "EXPLAIN QUERY PLAN ");
    if (st == FOLIO_OK)
        st = folio_buf_append(&q, sql, sql_len);
    sqlite3_stmt *stmt = NULL;
    if (st == FOLIO_OK && sqlite3_prepare_v2(c->h, q.data, (int)q.len, &stmt, NULL) != SQLITE_OK)
        st = FOLIO_EDB;
    bool first = true;
    while (st == FOLIO_OK && sqlite3_step(stmt) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(stmt, 3);
        st = folio_buf_printf(out, "%s%s", first ? "" : " | ", d ? d : "");
        first = false;
    }
    sqlite3_finalize(stmt);
    folio_buf_clear(&q);
    return st;
}

/* SQLite has no statistics to ask: for a table keyed by one integer (the rowid), max - min
 * of the key is two index lookups and exact for tables without gaps. Filtered queries
 * have no estimate. */
static folio_status sq_estimate(folio_db_conn *base, const struct folio_table *t,
                                const char *where, const struct folio_value *params,
                                size_t nparams, int64_t *out, struct folio_error *err)
{
    (void)params;
    (void)nparams;
    if (where != NULL || t->npk != 1 || !t->cols[t->pk[0]].integer)
        return FOLIO_ENOTFOUND;
    const char *k = t->cols[t->pk[0]].sql;
    struct folio_buf q;
    folio_buf_init(&q, 4096);
    folio_status st = folio_buf_printf(&q,
                                       "SELECT coalesce((SELECT max(%s) FROM %s) - (SELECT "
                                       "min(%s) FROM %s) + 1, 0)",
                                       k, t->sql, k, t->sql);
    int64_t v = 0;
    if (st == FOLIO_OK)
        st = sq_query(base, q.data, q.len, NULL, 0, first_int, &v, err);
    folio_buf_clear(&q);
    *out = v;
    return st;
}

static void sq_row_json(const struct folio_db_row *row, size_t i, struct folio_json *j)
{
    struct folio_value v;
    sq_row_value(row, i, &v);
    switch (v.type) {
    case FOLIO_VALUE_NULL: folio_json_null(j); break;
    case FOLIO_VALUE_INT: folio_json_int(j, v.i); break;
    case FOLIO_VALUE_REAL: folio_json_double(j, v.d); break;
    case FOLIO_VALUE_TEXT: folio_json_stringn(j, v.s, v.len); break;
    case FOLIO_VALUE_BLOB: folio_json_base64(j, v.s, v.len); break;
    }
}

/* --- schema ------------------------------------------------------------------------ */

/* Does a column of the table, hidden and generated ones included (pragma_table_info
 * leaves those out), shadow `name`? */
static bool has_column(struct sqlite_conn *c, const char *table, const char *name)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(c->h,
                           "SELECT 1 FROM pragma_table_xinfo(?1) WHERE name = ?2 COLLATE NOCASE",
                           -1, &stmt, NULL) != SQLITE_OK)
        return true; /* cannot tell: do not address the rowid by this name */
    sqlite3_bind_text(stmt, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, name, -1, SQLITE_STATIC);
    bool found = sqlite3_step(stmt) == SQLITE_ROW;
    sqlite3_finalize(stmt);
    return found;
}

static folio_status load_table(struct sqlite_conn *c, const char *name, struct folio_table *t)
{
    memset(t, 0, sizeof *t);
    t->name = folio_strdup(name);
    t->sql = folio__db_quote_ident(name);
    if (t->name == NULL || t->sql == NULL)
        return FOLIO_ENOMEM;

    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(c->h,
                           "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) "
                           "ORDER BY cid",
                           -1, &stmt, NULL) != SQLITE_OK)
        return FOLIO_EDB;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    size_t cap = 8;
    t->cols = folio_calloc(cap + 1, sizeof *t->cols);
    int pk_order[FOLIO_SORT_MAX] = {0};
    folio_status st = t->cols ? FOLIO_OK : FOLIO_ENOMEM;
    while (st == FOLIO_OK && sqlite3_step(stmt) == SQLITE_ROW) {
        if (t->ncols == cap) {
            struct folio_column *n = folio_realloc(t->cols, (2 * cap + 1) * sizeof *n);
            if (n == NULL) {
                st = FOLIO_ENOMEM;
                break;
            }
            memset(n + cap, 0, (cap + 1) * sizeof *n);
            t->cols = n;
            cap *= 2;
        }
        struct folio_column *col = &t->cols[t->ncols];
        const char *type = (const char *)sqlite3_column_text(stmt, 1);
        col->name = folio_strdup((const char *)sqlite3_column_text(stmt, 0));
        col->sql = col->name ? folio__db_quote_ident(col->name) : NULL;
        col->decl_type = folio_strdup(type ? type : "");
        col->not_null = sqlite3_column_int(stmt, 2) != 0;
        col->affinity = folio_affinity_of(col->decl_type);
        col->integer = col->decl_type != NULL && strcasecmp(col->decl_type, "INTEGER") == 0;
        t->ncols++;
        t->ncols_all = t->ncols; /* so a failure part-way still frees every name */
        int pk = sqlite3_column_int(stmt, 3);
        if (col->name == NULL || col->sql == NULL || col->decl_type == NULL)
            st = FOLIO_ENOMEM;
        else if (pk > 0) {
            if (pk <= FOLIO_SORT_MAX)
                pk_order[pk - 1] = (int)t->ncols; /* 1-based column index */
            if ((size_t)pk > t->npk)
                t->npk = (size_t)pk; /* above FOLIO_SORT_MAX: a key folio cannot use */
        }
    }
    sqlite3_finalize(stmt);
    t->ncols_all = t->ncols;
    if (st != FOLIO_OK)
        return st;

    /* Decide rowid-ness the way SQLite does (https://sqlite.org/lang_createtable.html
     * #rowid). A table has a rowid unless it is WITHOUT ROWID; the rowid is addressable by
     * the first of rowid, _rowid_, oid that no declared column shadows. A declared column
     * is an alias of the rowid only when it is the sole PRIMARY KEY column, its type is
     * spelled "INTEGER", and SQLite did not give the key an index of its own: the column
     * form "INTEGER PRIMARY KEY DESC" is an ordinary key (with an automatic index, and it
     * may hold any number of NULLs), the table form "PRIMARY KEY(id DESC)" is an alias.
     * An index whose origin is 'pk' exists exactly when the key is not the rowid. */
    static const char *const rowid_names[] = {"rowid", "_rowid_", "oid"};
    const char *rowid_name = NULL;
    int wr = -1; /* WITHOUT ROWID, from pragma_table_list (SQLite 3.37+); -1 unknown */
    if (sqlite3_prepare_v2(c->h, "SELECT wr FROM pragma_table_list(?1) WHERE schema = 'main'",
                           -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) == SQLITE_ROW)
            wr = sqlite3_column_int(stmt, 0) != 0;
    }
    sqlite3_finalize(stmt);
    bool rowid = wr != 1; /* the table has a rowid (addressable or not) */
    struct folio_buf q;
    folio_buf_init(&q, 4096);
    for (size_t i = 0; i < 3 && rowid; i++) {
        if (has_column(c, name, rowid_names[i]))
            continue;
        folio_buf_reset(&q);
        folio_buf_printf(&q, "SELECT %s FROM %s LIMIT 0", rowid_names[i], t->sql);
        /* An unshadowed name fails to prepare only on a WITHOUT ROWID table. */
        rowid = q.data != NULL && sqlite3_prepare_v2(c->h, q.data, -1, &stmt, NULL) == SQLITE_OK;
        sqlite3_finalize(stmt);
        if (rowid)
            rowid_name = rowid_names[i];
        break;
    }
    folio_buf_clear(&q);
    /* Which columns lead an index (partial indexes serve only some queries). */
    if (sqlite3_prepare_v2(c->h,
                           "SELECT ii.name FROM pragma_index_list(?1) AS il, "
                           "pragma_index_info(il.name) AS ii WHERE ii.seqno = 0 AND "
                           "il.partial = 0",
                           -1, &stmt, NULL) != SQLITE_OK)
        return FOLIO_EDB;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const char *lead = (const char *)sqlite3_column_text(stmt, 0);
        for (size_t i = 0; lead != NULL && i < t->ncols; i++)
            if (strcasecmp(t->cols[i].name, lead) == 0)
                t->cols[i].index_lead = true;
    }
    sqlite3_finalize(stmt);
    bool pk_index = false; /* SQLite made an index for the PRIMARY KEY */
    if (sqlite3_prepare_v2(c->h, "SELECT 1 FROM pragma_index_list(?1) WHERE origin = 'pk'", -1,
                           &stmt, NULL) != SQLITE_OK)
        return FOLIO_EDB;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    pk_index = sqlite3_step(stmt) == SQLITE_ROW;
    sqlite3_finalize(stmt);

    bool pk_complete = t->npk > 0 && t->npk <= FOLIO_SORT_MAX; /* every key column known */
    for (size_t i = 0; i < t->npk && pk_complete; i++)
        pk_complete = pk_order[i] > 0;
    t->npk_declared = pk_complete ? t->npk : 0;
    for (size_t i = 0; i < t->npk_declared; i++)
        t->pk_declared[i] = pk_order[i] - 1;
    bool alias = rowid && pk_complete && t->npk == 1 && !pk_index &&
                 strcasecmp(t->cols[pk_order[0] - 1].decl_type, "INTEGER") == 0;
    t->npk = 0;
    if (alias) {
        /* The key is the rowid: unique and never NULL. */
        t->pk[0] = pk_order[0] - 1;
        t->npk = 1;
        t->cols[t->pk[0]].not_null = true;
        t->cols[t->pk[0]].index_lead = true;
    } else if (!rowid) {
        /* WITHOUT ROWID: the declared key is unique, and SQLite enforces NOT NULL on it. */
        if (!pk_complete)
            return FOLIO_ENOTFOUND; /* no key folio can use: the table is not served */
        for (size_t i = 0; i < t->npk_declared; i++) {
            t->pk[i] = t->pk_declared[i];
            t->cols[t->pk[i]].not_null = true;
        }
        t->npk = t->npk_declared;
    } else if (rowid_name != NULL) {
        /* The rowid is the only unique, non-NULL key of a rowid table (its declared key
         * columns may hold NULLs, and NULLs are distinct): add it as a hidden column. */
        struct folio_column *col = &t->cols[t->ncols];
        col->name = folio_strdup(rowid_name);
        col->sql = folio_strdup(rowid_name); /* the bare keyword, not a quoted identifier */
        col->decl_type = folio_strdup("INTEGER");
        col->affinity = FOLIO_AFF_INTEGER;
        col->integer = true;
        col->not_null = true;
        col->hidden = true;
        col->index_lead = true;
        t->ncols_all = t->ncols + 1;
        if (col->name == NULL || col->sql == NULL || col->decl_type == NULL)
            return FOLIO_ENOMEM;
        /* Order by the declared key first (what users expect), then the rowid. */
        size_t nd = t->npk_declared + 1 > FOLIO_SORT_MAX ? 0 : t->npk_declared;
        for (size_t i = 0; i < nd; i++)
            t->pk[i] = t->pk_declared[i];
        t->pk[nd] = (int)t->ncols;
        t->npk = nd + 1;
    } else {
        /* A rowid table whose rowid names are all shadowed by columns: only a declared key
         * whose columns are all NOT NULL is still unique. */
        bool usable = pk_complete;
        for (size_t i = 0; i < t->npk_declared && usable; i++)
            usable = t->cols[t->pk_declared[i]].not_null;
        if (!usable)
            return FOLIO_ENOTFOUND;
        for (size_t i = 0; i < t->npk_declared; i++)
            t->pk[i] = t->pk_declared[i];
        t->npk = t->npk_declared;
    }
    return FOLIO_OK;
}

static folio_status sq_load_schema(folio_db_conn *base, struct folio_schema *out,
                                   struct folio_error *err)
{
    struct sqlite_conn *c = (struct sqlite_conn *)base;
    sqlite3_stmt *stmt;
    memset(out, 0, sizeof *out);
    if (sqlite3_prepare_v2(c->h,
                           "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT "
                           "LIKE 'sqlite\\_%' ESCAPE '\\' AND sql NOT LIKE 'CREATE VIRTUAL%' "
                           "ORDER BY name",
                           -1, &stmt, NULL) != SQLITE_OK)
        return db_error(err, c->h, "cannot read the schema");
    folio_status st = FOLIO_OK;
    int rc;
    while (st == FOLIO_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct folio_table *n =
            folio_realloc(out->tables, (out->ntables + 1) * sizeof *out->tables);
        if (n == NULL) {
            st = FOLIO_ENOMEM;
            break;
        }
        out->tables = n;
        st = load_table(c, (const char *)sqlite3_column_text(stmt, 0), &n[out->ntables]);
        out->ntables++;
        if (st == FOLIO_ENOTFOUND) {
            /* No unique key folio can address: the table is left out, not served. */
            folio__table_clear(&n[--out->ntables]);
            st = FOLIO_OK;
        }
    }
    sqlite3_finalize(stmt);
    if (st != FOLIO_OK) {
        folio__schema_clear(out);
        return st == FOLIO_ENOMEM
                   ? folio_error_set(err, st, FOLIO_KIND_INTERNAL, NULL, "out of memory")
                   : db_error(err, c->h, "cannot read the schema");
    }
    return FOLIO_OK;
}

/* --- change hint: inotify ------------------------------------------------------------ */

/* Every committed write reaches the database file or its WAL through write() or
 * ftruncate() by the writing process, and the kernel queues the inotify event within that
 * system call, before the commit becomes visible to readers. So "no event queued" means
 * "no commit since the last drain". The directory is watched too: a WAL or journal file
 * created, deleted or renamed counts as a change. Not seen: a writer built with
 * SQLITE_MMAP_READWRITE (not a default) writing a rollback-journal database through mmap
 * (WAL frames are always written with write()), and writes from other hosts of a network
 * file system, where no hint is used. */
struct sqlite_hint {
    struct folio_db_hint base;
    int fd;
    bool armed; /* a first poll returned true */
    char db[4096], wal[4096];
};

static bool network_fs(const char *path)
{
    struct statfs sf;
    if (statfs(path, &sf) != 0)
        return true; /* cannot tell: no hint */
    switch ((unsigned long)sf.f_type) {
    case 0x6969UL:     /* NFS */
    case 0x517BUL:     /* SMB */
    case 0xFF534D42UL: /* CIFS */
    case 0xFE534D42UL: /* SMB2 */
    case 0x65735546UL: /* FUSE */
    case 0x00C36400UL: /* Ceph */
    case 0x01021997UL: /* 9p */
    case 0x5346414FUL: /* AFS */
    case 0x01161970UL: /* GFS2 */
    case 0x7461636FUL: /* OCFS2 */
        return true;
    default:
        return false;
    }
}

#define HINT_FILE_EVENTS (IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

static struct folio_db_hint *sq_hint_open(folio_db_conn *base)
{
    struct sqlite_conn *c = (struct sqlite_conn *)base;
    const char *db = sqlite3_db_filename(c->h, "main");
    const char *wal = db != NULL && db[0] != '\0' ? sqlite3_filename_wal(db) : NULL;
    if (wal == NULL || strlen(db) >= sizeof((struct sqlite_hint *)0)->db ||
        strlen(wal) >= sizeof((struct sqlite_hint *)0)->wal || network_fs(db))
        return NULL;
    struct sqlite_hint *h = folio_calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->base.ops = &folio__db_sqlite_ops;
    memcpy(h->db, db, strlen(db) + 1);
    memcpy(h->wal, wal, strlen(wal) + 1);
    char dir[sizeof h->db];
    memcpy(dir, db, strlen(db) + 1);
    char *slash = strrchr(dir, '/'); /* sqlite3_db_filename is a full path */
    if (slash != NULL)
        slash[slash == dir ? 1 : 0] = '\0';
    h->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (h->fd < 0 || slash == NULL ||
        inotify_add_watch(h->fd, dir, IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO) < 0 ||
        inotify_add_watch(h->fd, h->db, HINT_FILE_EVENTS) < 0) {
        if (h->fd >= 0)
            close(h->fd);
        folio_free(h);
        return NULL;
    }
    (void)inotify_add_watch(h->fd, h->wal, HINT_FILE_EVENTS); /* fails while there is none */
    return &h->base;
}

static bool sq_hint_poll(struct folio_db_hint *base)
{
    struct sqlite_hint *h = (struct sqlite_hint *)base;
    int queued = 0;
    if (h->armed && ioctl(h->fd, FIONREAD, &queued) == 0 && queued == 0)
        return false;
    /* Drain what is queued; the caller reads data_version() after this, so a write after
     * the drain is either seen by that read or queues a new event. */
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool dir_event = false;
    ssize_t got;
    while ((got = read(h->fd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + got;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_Q_OVERFLOW | IN_IGNORED))
                dir_event = true;
            p += sizeof *ev + ev->len;
        }
    }
    if (dir_event) { /* a WAL created (or a file replaced): watch what is there now */
        (void)inotify_add_watch(h->fd, h->db, HINT_FILE_EVENTS);
        (void)inotify_add_watch(h->fd, h->wal, HINT_FILE_EVENTS);
    }
    h->armed = true;
    return true;
}

static void sq_hint_close(struct folio_db_hint *base)
{
    struct sqlite_hint *h = (struct sqlite_hint *)base;
    close(h->fd);
    folio_free(h);
}

const struct folio_db_ops folio__db_sqlite_ops = {
    .name = "sqlite",
    /* NULL is the smallest value; LIKE ignores ASCII case; the rowid breaks ties. Row
     * values exist (3.15+) but are not used: the expanded predicate is what SQLite's
     * planner serves best and what its plans were checked with. */
    .caps = FOLIO_DB_CAP_DATA_VERSION | FOLIO_DB_CAP_SNAPSHOT | FOLIO_DB_CAP_HIDDEN_KEY,
    .open = sq_open,
    .close = sq_close,
    .load_schema = sq_load_schema,
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .query = sq_query,
    .row_columns = sq_row_columns,
    .row_value = sq_row_value,
    .data_version = sq_data_version,
    .begin_read = sq_begin_read,
    .end_read = sq_end_read,
    .explain = sq_explain,
    .deadline = sq_deadline,
    .budget = sq_budget,
    .budget_spent = sq_budget_spent,
    .hint_open = sq_hint_open,
    .hint_poll = sq_hint_poll,
    .hint_close = sq_hint_close,
    .estimate = sq_estimate,
    .row_json = sq_row_json,
    .param_style = FOLIO_PARAM_QNUM,
    .dialect = {FOLIO_PARAM_QNUM, "LIKE", NULL},
};
