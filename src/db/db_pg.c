/* PostgreSQL backend over libpq: see db.h for the seam, docs/postgresql.md for what a user
 * sees (types, ordering, totals, change detection).
 *
 * One connection per worker thread (each prefetch fetcher too), each with a cache of
 * prepared statements keyed by their SQL text. Sessions are read-only, in UTC, with ISO
 * dates and shortest exact floats, whatever the server's defaults are. A lost connection
 * makes queries fail with a transient error (HTTP 503 with Retry-After) and is re-made,
 * at most every RECONNECT_MS, on a later query: service resumes by itself. */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#define STMT_CACHE_SLOTS 128
#define MAX_PARAMS 512
#define RECONNECT_MS 250
/* A command (DEALLOCATE, COMMIT) without a deadline still waits no longer than this; a
 * cancelled statement gets CANCEL_GRACE_MS to stop before its connection is dropped. */
#define DEFAULT_WAIT_MS 30000
#define CANCEL_GRACE_MS 1000

/* Type OIDs (src/include/catalog/pg_type.dat): stable across releases. */
enum {
    OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_OID = 26,
    OID_JSON = 114, OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_DATE = 1082,
    OID_TIMESTAMP = 1114, OID_TIMESTAMPTZ = 1184, OID_NUMERIC = 1700, OID_JSONB = 3802,
};

/* An array type of the served tables and its element type (read with the schema). */
struct array_type {
    unsigned oid, elem;
};

struct pg_db {
    char *conninfo;
    size_t narrays;
    struct array_type *arrays;
};

struct stmt_entry {
    uint64_t hash;
    char *sql;
    size_t len;
    char name[24];
    int nparams; /* the statement's parameters ($1..$n, from its text) */
    uint64_t used;
    uint8_t unused[MAX_PARAMS / 8]; /* bit i: $i+1 does not occur in the text (NULL sent) */
};

struct pg_conn {
    struct folio_db_conn base;
    const char *conninfo;    /* a replica's (db_replicas.c), or NULL: the db's own */
    PGconn *h;               /* NULL or broken: re-made on the next query */
    uint64_t retry_at_ms;    /* no new attempt before this (CLOCK_MONOTONIC ms) */
    uint64_t deadline_ms;    /* 0 = no limit; see folio__db_deadline */
    uint64_t clock, next_name;
    bool in_txn;
    uint64_t txn_version;    /* the change token read just before BEGIN */
    struct stmt_entry cache[STMT_CACHE_SLOTS];
    /* Parameters as libpq takes them: text, NUL-terminated, in one buffer. */
    struct folio_buf params;
    struct folio_buf text; /* [database] prepared = false: the statement, NUL-terminated */
    /* The current row's bytea values, decoded: offsets per column, -1 = not yet. */
    struct folio_buf bytes;
    int64_t *byte_off;
    size_t *byte_len;
    size_t byte_cols;
};

/* A row handed to callbacks: the result and the row number. */
struct pg_row {
    struct pg_conn *c;
    PGresult *res;
    int row;
};

/* --- errors -------------------------------------------------------------------------- */

static folio_status unavailable(struct folio_error *err, const char *why)
{
    return folio_error_set(err, FOLIO_EDB, FOLIO_KIND_TRANSIENT, NULL,
                           "the database is unavailable (%s); retry shortly", why);
}

/* Map a failed result to a status: the client's values that the column's type refuses
 * (SQLSTATE class 22) are its mistake (400); a cancelled statement is a timeout (503);
 * a lost or refusing server is transient (503); anything else is internal (500). */
static folio_status result_error(struct pg_conn *c, PGresult *res, struct folio_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (msg == NULL)
        msg = c->h ? PQerrorMessage(c->h) : "no connection";
    if (c->h == NULL || PQstatus(c->h) != CONNECTION_OK)
        return unavailable(err, "connection lost");
    if (state != NULL && strncmp(state, "22", 2) == 0)
        return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, NULL,
                               "a value does not fit its column's type: %s", msg);
    /* No such operator for the column's type (= on json, < on a composite): the request
     * asked for a comparison this column cannot make. */
    if (state != NULL && (strcmp(state, "42883") == 0 || strcmp(state, "42804") == 0))
        return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, NULL,
                               "this column's type cannot be compared that way: %s", msg);
    if (state != NULL && strcmp(state, "57014") == 0)
        return folio_error_set(err, FOLIO_ETIMEOUT, FOLIO_KIND_TRANSIENT, NULL,
                               "the query ran longer than the server's time limit");
    if (state != NULL && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
                          strcmp(state, "53300") == 0 || strncmp(state, "40", 2) == 0))
        return unavailable(err, msg);
    return folio_error_set(err, FOLIO_EDB, FOLIO_KIND_INTERNAL, NULL, "query failed: %s", msg);
}

/* --- connections --------------------------------------------------------------------- */

static bool pg_target(const char *t)
{
    return folio__db_target_is_pg(t);
}

static folio_status pg_open(folio_db *db, const char *target, struct folio_error *err)
{
    if (!pg_target(target))
        return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_NONE, NULL,
                               "not a PostgreSQL target: %s", target);
    struct pg_db *p = folio_calloc(1, sizeof *p);
    if (p == NULL || (p->conninfo = folio_strdup(target)) == NULL) {
        folio_free(p);
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL, "out of memory");
    }
    /* Check the text now: a typo is a clear message at start, not a 503 later. */
    char *msg = NULL;
    PQconninfoOption *o = PQconninfoParse(target, &msg);
    if (o == NULL) {
        folio_status st = folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_NONE, NULL,
                                          "invalid PostgreSQL connection string: %s",
                                          msg ? msg : "out of memory");
        PQfreemem(msg);
        folio_free(p->conninfo);
        folio_free(p);
        return st;
    }
    PQconninfoFree(o);
    db->backend = p;
    return FOLIO_OK;
}

static void pg_close(folio_db *db)
{
    struct pg_db *p = db->backend;
    if (p == NULL)
        return;
    folio_free(p->conninfo);
    folio_free(p->arrays);
    folio_free(p);
    db->backend = NULL;
}

static void forget_statements(struct pg_conn *c)
{
    for (size_t i = 0; i < STMT_CACHE_SLOTS; i++) {
        folio_free(c->cache[i].sql);
        memset(&c->cache[i], 0, sizeof c->cache[i]);
    }
}

static void drop_connection(struct pg_conn *c)
{
    if (c->h != NULL)
        PQfinish(c->h);
    c->h = NULL;
    c->in_txn = false;
    forget_statements(c);
}

/* The session every connection gets, whatever the server's defaults: read-only, UTC,
 * ISO dates (RFC 3339 after a 'T'), ISO 8601 intervals, floats in their shortest exact
 * form, UTF-8, the configured statement_timeout and application_name. */
static bool session_setup(struct pg_conn *c)
{
    const struct folio_db_options *o = &c->base.db->opts;
    /* Unprepared (PgBouncer in transaction pooling): a SET would stay on whichever server
     * connection ran it, for other clients too; each read transaction sets what it needs
     * with SET LOCAL instead (pg_begin_read), application_name is a startup parameter. */
    if (o->unprepared)
        return true;
    const char *app = o->application_name ? o->application_name : "folio";
    char *lit = PQescapeLiteral(c->h, app, strlen(app));
    if (lit == NULL)
        return false;
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SET default_transaction_read_only = on; SET statement_timeout = %u; "
             "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
             "SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 1; "
             "SET client_encoding = 'UTF8'; SET application_name = %s",
             o->statement_timeout_ms, lit);
    PQfreemem(lit);
    PGresult *res = PQexec(c->h, sql);
    bool ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    return ok;
}

/* Make sure the connection is up: (re)connect when it is not, at most every RECONNECT_MS. */
static folio_status ensure(struct pg_conn *c, struct folio_error *err)
{
    if (c->h != NULL && PQstatus(c->h) == CONNECTION_OK)
        return FOLIO_OK;
    drop_connection(c);
    uint64_t now = folio__db_now_ms();
    if (now < c->retry_at_ms)
        return unavailable(err, "reconnecting");
    c->retry_at_ms = now + RECONNECT_MS;
    const struct pg_db *p = c->base.db->backend;
    /* connect_timeout bounds a silent host; the conninfo's own value wins when given. */
    const char *app = c->base.db->opts.application_name;
    const char *keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                          NULL};
    const char *vals[] = {"5", app ? app : "folio", "UTF8",
                          c->conninfo ? c->conninfo : p->conninfo, NULL};
    c->h = PQconnectdbParams(keys, vals, 1);
    if (c->h == NULL || PQstatus(c->h) != CONNECTION_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", c->h ? PQerrorMessage(c->h) : "out of memory");
        why[strcspn(why, "\n")] = '\0';
        drop_connection(c);
        return unavailable(err, why);
    }
    if (!session_setup(c)) {
        drop_connection(c);
        return unavailable(err, "cannot set up the session");
    }
    return FOLIO_OK;
}

static folio_status connect_to(folio_db *db, const char *conninfo, folio_db_conn **out,
                               struct folio_error *err)
{
    struct pg_conn *c = folio_calloc(1, sizeof *c);
    if (c == NULL)
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL, "out of memory");
    c->base.db = db;
    c->conninfo = conninfo;
    folio_buf_init(&c->params, 16u << 20);
    folio_buf_init(&c->text, 16u << 20);
    folio_buf_init(&c->bytes, 64u << 20);
    /* A worker made while the server is down still starts: its first query retries. */
    struct folio_error e = {0};
    (void)ensure(c, &e);
    *out = &c->base;
    return FOLIO_OK;
}

static folio_status pg_connect(folio_db *db, folio_db_conn **out, struct folio_error *err)
{
    return connect_to(db, NULL, out, err);
}

folio_status folio__db_pg_connect_to(folio_db *db, const char *conninfo, folio_db_conn **out,
                                     struct folio_error *err)
{
    return connect_to(db, conninfo, out, err);
}

static void pg_disconnect(folio_db_conn *base)
{
    struct pg_conn *c = (struct pg_conn *)base;
    drop_connection(c);
    folio_buf_clear(&c->params);
    folio_buf_clear(&c->text);
    folio_buf_clear(&c->bytes);
    folio_free(c->byte_off);
    folio_free(c->byte_len);
    folio_free(c);
}

static void pg_deadline(folio_db_conn *base, uint64_t deadline_ms)
{
    ((struct pg_conn *)base)->deadline_ms = deadline_ms;
}

/* --- statements ---------------------------------------------------------------------- */

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* Which of $1..$n the text uses (outside "quoted identifiers" and 'literals'); returns
 * n, the highest. Parameters below it that the text does not use get the type text (a
 * NULL is sent), since PostgreSQL cannot infer a type for them. */
int folio__pg_scan_params(const char *sql, size_t len, bool *used, int max)
{
    int n = 0;
    for (size_t i = 0; i < len; i++) {
        char q = sql[i];
        if (q == '"' || q == '\'') {
            for (i++; i < len && sql[i] != q; i++)
                ;
            continue;
        }
        if (q != '$' || i + 1 >= len || sql[i + 1] < '0' || sql[i + 1] > '9')
            continue;
        int k = 0;
        while (i + 1 < len && sql[i + 1] >= '0' && sql[i + 1] <= '9' && k <= max)
            k = k * 10 + (sql[++i] - '0');
        if (k >= 1 && k <= max) {
            used[k - 1] = true;
            if (k > n)
                n = k;
        }
    }
    return n;
}

/* Wait for the connection's socket until `deadline` (ms); false when it passed. */
static bool wait_readable(struct pg_conn *c, uint64_t deadline)
{
    uint64_t now = folio__db_now_ms();
    if (now >= deadline)
        return false;
    struct pollfd pfd = {PQsocket(c->h), POLLIN, 0};
    int wait = deadline - now > INT32_MAX ? -1 : (int)(deadline - now);
    int rc;
    do
        rc = poll(&pfd, 1, wait);
    while (rc < 0 && errno == EINTR);
    return rc != 0;
}

/* Read until the command's results are all in, or `deadline` passes (false). */
static bool input_until(struct pg_conn *c, uint64_t deadline)
{
    for (;;) {
        if (!PQconsumeInput(c->h) || !PQisBusy(c->h))
            return true; /* done, or broken: PQgetResult says which */
        if (!wait_readable(c, deadline))
            return false;
    }
}

/* The result of the command sent last, waiting no longer than the deadline: past it the
 * statement is cancelled and *timed_out set, and when even the cancel is not answered in
 * time the connection is dropped (re-made by a later query): nothing waits on a server
 * that does not answer. NULL when there is no result. */
static PGresult *await_result(struct pg_conn *c, bool *timed_out)
{
    *timed_out = false;
    /* Without a deadline ([server] query_timeout = 0) a query may take as long as it
     * takes; the server's statement_timeout still applies. */
    uint64_t deadline = c->deadline_ms != 0 ? c->deadline_ms : UINT64_MAX;
    if (!input_until(c, deadline)) {
        *timed_out = true;
        PGcancel *cancel = PQgetCancel(c->h);
        char buf[256];
        if (cancel != NULL) {
            PQcancel(cancel, buf, sizeof buf);
            PQfreeCancel(cancel);
        }
        if (!input_until(c, folio__db_now_ms() + CANCEL_GRACE_MS)) {
            drop_connection(c);
            return NULL;
        }
    }
    PGresult *res = PQgetResult(c->h);
    for (PGresult *more; (more = PQgetResult(c->h)) != NULL;)
        PQclear(more);
    return res;
}

/* A command without parameters or rows (DEALLOCATE, COMMIT), waited for as any other. */
static bool command(struct pg_conn *c, const char *sql)
{
    if (c->h == NULL || !PQsendQuery(c->h, sql))
        return false;
    bool timed_out;
    uint64_t deadline = c->deadline_ms;
    if (deadline == 0)
        c->deadline_ms = folio__db_now_ms() + DEFAULT_WAIT_MS;
    PGresult *res = await_result(c, &timed_out);
    c->deadline_ms = deadline;
    bool ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    return ok;
}

static struct stmt_entry *stmt_get(struct pg_conn *c, const char *sql, size_t len,
                                   struct folio_error *err)
{
    uint64_t h = fnv1a(sql, len);
    struct stmt_entry *victim = &c->cache[0];
    for (size_t i = 0; i < STMT_CACHE_SLOTS; i++) {
        struct stmt_entry *e = &c->cache[i];
        if (e->sql != NULL && e->hash == h && e->len == len && memcmp(e->sql, sql, len) == 0) {
            e->used = ++c->clock;
            return e;
        }
        if (e->used < victim->used)
            victim = e;
    }
    bool used[MAX_PARAMS] = {false};
    int n = folio__pg_scan_params(sql, len, used, MAX_PARAMS);
    Oid types[MAX_PARAMS];
    for (int i = 0; i < n; i++)
        types[i] = used[i] ? 0 : 25; /* 0: inferred from the text; 25: text */
    char *copy = folio_strndup(sql, len);
    if (copy == NULL) {
        folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    if (victim->sql != NULL) {
        char dealloc[48];
        snprintf(dealloc, sizeof dealloc, "DEALLOCATE %s", victim->name);
        (void)command(c, dealloc);
        folio_free(victim->sql);
        memset(victim, 0, sizeof *victim);
        if (c->h == NULL) { /* the server stopped answering */
            folio_free(copy);
            unavailable(err, "connection lost");
            return NULL;
        }
    }
    char name[24];
    snprintf(name, sizeof name, "f%llu", (unsigned long long)++c->next_name);
    if (!PQsendPrepare(c->h, name, copy, n, types)) {
        folio_free(copy);
        result_error(c, NULL, err);
        return NULL;
    }
    bool timed_out;
    PGresult *res = await_result(c, &timed_out);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        if (timed_out)
            folio_error_set(err, FOLIO_ETIMEOUT, FOLIO_KIND_TRANSIENT, NULL,
                            "the query ran longer than the server's time limit");
        else
            result_error(c, res, err);
        PQclear(res);
        folio_free(copy);
        return NULL;
    }
    PQclear(res);
    *victim = (struct stmt_entry){.hash = h, .sql = copy, .len = len, .nparams = n,
                                  .used = ++c->clock};
    memcpy(victim->name, name, sizeof name);
    for (int i = 0; i < n; i++)
        if (!used[i])
            victim->unused[i / 8] |= (uint8_t)(1u << (i % 8));
    return victim;
}

/* Text for each parameter (bytea binary), as libpq takes them. */
static folio_status bind_params(struct pg_conn *c, const struct stmt_entry *e,
                                const struct folio_value *params, size_t nparams,
                                const char **values, int *lengths, int *formats)
{
    int n = e->nparams;
    struct folio_buf *b = &c->params;
    folio_buf_reset(b);
    size_t off[MAX_PARAMS];
    for (int i = 0; i < n; i++) {
        /* A parameter the text does not use is typed text: it gets a NULL, whatever the
         * caller had there (a bytea boundary value would not be valid text). */
        bool unused = (e->unused[i / 8] >> (i % 8)) & 1u;
        const struct folio_value *v = (size_t)i < nparams && !unused ? &params[i] : NULL;
        off[i] = b->len;
        formats[i] = 0;
        lengths[i] = 0;
        if (v == NULL || v->type == FOLIO_VALUE_NULL) {
            off[i] = SIZE_MAX;
            continue;
        }
        folio_status st = FOLIO_OK;
        switch (v->type) {
        case FOLIO_VALUE_INT: st = folio_buf_printf(b, "%lld", (long long)v->i); break;
        case FOLIO_VALUE_REAL:
            if (v->d != v->d)
                st = folio_buf_puts(b, "NaN");
            else if (v->d > 1e308 * 10)
                st = folio_buf_puts(b, "Infinity");
            else if (v->d < -1e308 * 10)
                st = folio_buf_puts(b, "-Infinity");
            else
                st = folio_buf_printf(b, "%.17g", v->d);
            break;
        case FOLIO_VALUE_TEXT:
            /* PostgreSQL text holds no NUL: such a value cannot match anything real. */
            if (memchr(v->s, '\0', v->len) != NULL)
                return FOLIO_EPARAM;
            st = folio_buf_append(b, v->s, v->len);
            break;
        case FOLIO_VALUE_BLOB:
            formats[i] = 1;
            lengths[i] = (int)v->len;
            st = folio_buf_append(b, v->s, v->len);
            break;
        default: break;
        }
        if (st == FOLIO_OK)
            st = folio_buf_putc(b, '\0');
        if (st != FOLIO_OK)
            return st;
    }
    for (int i = 0; i < n; i++)
        values[i] = off[i] == SIZE_MAX ? NULL : b->data + off[i];
    return FOLIO_OK;
}

/* Run a prepared statement; the result (PGRES_TUPLES_OK or PGRES_COMMAND_OK) is the
 * caller's to PQclear. */
static folio_status run(struct pg_conn *c, const char *sql, size_t sql_len,
                        const struct folio_value *params, size_t nparams, PGresult **out,
                        struct folio_error *err)
{
    *out = NULL;
    folio_status st = ensure(c, err);
    if (st != FOLIO_OK)
        return st;
    /* [database] prepared = false: one unnamed statement per query (the extended protocol
     * still binds every value), which a transaction-pooling PgBouncer passes through. */
    bool unprepared = c->base.db->opts.unprepared;
    struct stmt_entry unnamed = {0};
    Oid types[MAX_PARAMS];
    struct stmt_entry *e = &unnamed;
    if (unprepared) {
        bool used[MAX_PARAMS] = {false};
        unnamed.nparams = folio__pg_scan_params(sql, sql_len, used, MAX_PARAMS);
        for (int i = 0; i < unnamed.nparams; i++)
            types[i] = used[i] ? 0 : 25;
        folio_buf_reset(&c->text);
        if (folio_buf_append(&c->text, sql, sql_len) != FOLIO_OK ||
            folio_buf_putc(&c->text, '\0') != FOLIO_OK)
            return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL,
                                   "out of memory");
    } else if ((e = stmt_get(c, sql, sql_len, err)) == NULL) {
        return err && err->status ? err->status : FOLIO_EDB;
    }
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS], formats[MAX_PARAMS];
    st = bind_params(c, e, params, nparams, values, lengths, formats);
    if (st == FOLIO_EPARAM)
        return folio_error_set(err, st, FOLIO_KIND_INPUT, NULL,
                               "a value holds a NUL byte, which no PostgreSQL text can");
    if (st != FOLIO_OK)
        return folio_error_set(err, st, FOLIO_KIND_INTERNAL, NULL, "parameters too large");
    if (unprepared ? !PQsendQueryParams(c->h, c->text.data, e->nparams, types, values, lengths,
                                        formats, 0)
                   : !PQsendQueryPrepared(c->h, e->name, e->nparams, values, lengths, formats, 0))
        return result_error(c, NULL, err);
    bool timed_out;
    PGresult *res = await_result(c, &timed_out);
    ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
        if (timed_out)
            st = folio_error_set(err, FOLIO_ETIMEOUT, FOLIO_KIND_TRANSIENT, NULL,
                                 "the query ran longer than the server's time limit");
        else
            st = result_error(c, res, err);
        PQclear(res);
        /* A statement that failed inside a transaction aborted it: later statements of
         * this page would fail too, which is what the caller sees and reports. */
        return st;
    }
    *out = res;
    return FOLIO_OK;
}

static folio_status pg_query(folio_db_conn *base, const char *sql, size_t sql_len,
                             const struct folio_value *params, size_t nparams,
                             folio_db_row_fn fn, void *ctx, struct folio_error *err)
{
    struct pg_conn *c = (struct pg_conn *)base;
    PGresult *res;
    folio_status st = run(c, sql, sql_len, params, nparams, &res, err);
    if (st != FOLIO_OK)
        return st;
    int rows = PQntuples(res);
    size_t cols = (size_t)PQnfields(res);
    if (cols > c->byte_cols) {
        int64_t *o = folio_realloc(c->byte_off, cols * sizeof *o);
        if (o != NULL)
            c->byte_off = o;
        size_t *l = o ? folio_realloc(c->byte_len, cols * sizeof *l) : NULL;
        if (l == NULL) {
            PQclear(res);
            return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL,
                                   "out of memory");
        }
        c->byte_len = l;
        c->byte_cols = cols;
    }
    struct pg_row r = {c, res, 0};
    struct folio_db_row row = {&folio__db_pg_ops, &r};
    for (int i = 0; i < rows && fn != NULL; i++) {
        r.row = i;
        folio_buf_reset(&c->bytes);
        for (size_t k = 0; k < cols; k++)
            c->byte_off[k] = -1;
        if (fn(ctx, &row) != 0)
            break;
    }
    PQclear(res);
    return FOLIO_OK;
}

/* --- values -------------------------------------------------------------------------- */

static size_t pg_row_columns(const struct folio_db_row *row)
{
    const struct pg_row *r = row->impl;
    return (size_t)PQnfields(r->res);
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* bytea's text form ("\x0aff", bytea_output = hex) decoded into the row's byte buffer.
 * Every bytea column of the row is reserved for at once, so earlier pointers stay. */
static bool bytea_value(struct pg_conn *c, const struct pg_row *r, size_t col,
                        const char **out, size_t *out_len)
{
    if (c->byte_off[col] < 0) {
        if (c->bytes.len == 0) {
            size_t need = 1;
            for (int k = 0; k < PQnfields(r->res); k++)
                if (PQftype(r->res, k) == OID_BYTEA)
                    need += (size_t)PQgetlength(r->res, r->row, k) / 2 + 1;
            if (folio_buf_reserve(&c->bytes, need) != FOLIO_OK)
                return false;
            c->bytes.data[0] = '\0';
            c->bytes.len = 1; /* offset 0 is taken: len 0 means "reserved nothing yet" */
        }
        const char *t = PQgetvalue(r->res, r->row, (int)col);
        size_t n = (size_t)PQgetlength(r->res, r->row, (int)col);
        if (n < 2 || t[0] != '\\' || t[1] != 'x')
            return false;
        size_t start = c->bytes.len;
        for (size_t i = 2; i + 1 < n; i += 2) {
            int hi = hexval(t[i]), lo = hexval(t[i + 1]);
            if (hi < 0 || lo < 0)
                return false;
            c->bytes.data[c->bytes.len++] = (char)(hi << 4 | lo);
        }
        c->byte_off[col] = (int64_t)start;
        c->byte_len[col] = c->bytes.len - start;
    }
    *out = c->bytes.data + c->byte_off[col];
    *out_len = c->byte_len[col];
    return true;
}

/* Cursor and parameter values: integers as integers, bytea as bytes, every other type as
 * its exact text, which PostgreSQL parses back to the same value when it is bound. */
static void pg_row_value(const struct folio_db_row *row, size_t i, struct folio_value *out)
{
    const struct pg_row *r = row->impl;
    int col = (int)i;
    memset(out, 0, sizeof *out);
    if (PQgetisnull(r->res, r->row, col)) {
        out->type = FOLIO_VALUE_NULL;
        return;
    }
    const char *t = PQgetvalue(r->res, r->row, col);
    switch (PQftype(r->res, col)) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
        out->type = FOLIO_VALUE_INT;
        out->i = strtoll(t, NULL, 10);
        return;
    case OID_BYTEA:
        if (bytea_value(r->c, r, i, &out->s, &out->len)) {
            out->type = FOLIO_VALUE_BLOB;
            return;
        }
        break;
    default: break;
    }
    out->type = FOLIO_VALUE_TEXT;
    out->s = t;
    out->len = (size_t)PQgetlength(r->res, r->row, col);
}

static unsigned array_elem(const struct pg_db *p, unsigned oid)
{
    for (size_t i = 0; i < p->narrays; i++)
        if (p->arrays[i].oid == oid)
            return p->arrays[i].elem;
    return 0;
}

/* One scalar in its JSON form (docs/postgresql.md): numbers as numbers (NaN and the
 * infinities as strings), bool as true/false, json and jsonb embedded, bytea as base64,
 * timestamps as RFC 3339 ('T', and 'Z' for timestamptz in the session's UTC), every
 * other type as its text. */
static void scalar_json(struct folio_json *j, unsigned oid, const char *t, size_t n,
                        struct pg_conn *c)
{
    switch (oid) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
        folio_json_raw(j, t, n);
        return;
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC:
        /* NaN, Infinity, -Infinity have no JSON number: they stay strings. */
        if (n > 0 && (t[n - 1] == 'N' || t[n - 1] == 'y'))
            folio_json_stringn(j, t, n);
        else
            folio_json_raw(j, t, n);
        return;
    case OID_BOOL: folio_json_bool(j, n > 0 && t[0] == 't'); return;
    case OID_JSON:
    case OID_JSONB: folio_json_raw(j, t, n); return;
    case OID_BYTEA: {
        /* Decoded here to a temporary: in arrays there is no per-column slot. */
        struct folio_buf b;
        folio_buf_init(&b, n / 2 + 16);
        bool ok = n >= 2 && t[0] == '\\' && t[1] == 'x' && folio_buf_reserve(&b, n / 2 + 1) == FOLIO_OK;
        for (size_t i = 2; ok && i + 1 < n; i += 2) {
            int hi = hexval(t[i]), lo = hexval(t[i + 1]);
            ok = hi >= 0 && lo >= 0;
            if (ok)
                b.data[b.len++] = (char)(hi << 4 | lo);
        }
        if (ok)
            folio_json_base64(j, b.data ? b.data : "", b.len);
        else
            folio_json_stringn(j, t, n);
        folio_buf_clear(&b);
        (void)c;
        return;
    }
    case OID_TIMESTAMP:
    case OID_TIMESTAMPTZ: {
        /* "2024-01-02 03:04:05.123456+00" -> "2024-01-02T03:04:05.123456Z"; infinity and
         * BC dates stay as PostgreSQL writes them. */
        char tmp[96];
        if (n >= 19 && n < sizeof tmp - 2 && t[10] == ' ' && t[n - 1] != 'C') {
            memcpy(tmp, t, n);
            tmp[10] = 'T';
            size_t m = n;
            if (oid == OID_TIMESTAMPTZ && m > 3 && strncmp(tmp + m - 3, "+00", 3) == 0)
                memcpy(tmp + m - 3, "Z", 2), m -= 2;
            folio_json_stringn(j, tmp, m);
        } else {
            folio_json_stringn(j, t, n);
        }
        return;
    }
    default: folio_json_stringn(j, t, n); return;
    }
}

/* An array's text form ("{1,2,NULL}", '{"a b","c\"d"}', "{{1,2},{3,4}}", with optional
 * "[0:1]=" bounds) as a JSON array of the element type's JSON forms. */
static void array_json(struct folio_json *j, unsigned elem, const char *t, size_t n,
                       struct pg_conn *c)
{
    size_t i = 0;
    if (n > 0 && t[0] == '[') {
        const char *eq = memchr(t, '=', n);
        if (eq != NULL)
            i = (size_t)(eq - t) + 1;
    }
    struct folio_buf item;
    folio_buf_init(&item, n + 1);
    int depth = 0;
    for (; i < n; i++) {
        char ch = t[i];
        if (ch == '{') {
            folio_json_array_begin(j);
            depth++;
        } else if (ch == '}') {
            folio_json_array_end(j);
            depth--;
        } else if (ch == ',' || ch == ' ') {
            continue;
        } else if (ch == '"') {
            folio_buf_reset(&item);
            for (i++; i < n && t[i] != '"'; i++) {
                if (t[i] == '\\' && i + 1 < n)
                    i++;
                folio_buf_putc(&item, t[i]);
            }
            scalar_json(j, elem, item.data ? item.data : "", item.len, c);
        } else {
            size_t s = i;
            while (i < n && t[i] != ',' && t[i] != '}')
                i++;
            if (i - s == 4 && memcmp(t + s, "NULL", 4) == 0)
                folio_json_null(j);
            else
                scalar_json(j, elem, t + s, i - s, c);
            i--;
        }
    }
    while (depth-- > 0) /* malformed text: still valid JSON */
        folio_json_array_end(j);
    folio_buf_clear(&item);
}

void folio__pg_value_json(struct folio_json *j, unsigned oid, unsigned elem, const char *text,
                          size_t len)
{
    if (elem != 0)
        array_json(j, elem, text, len, NULL);
    else
        scalar_json(j, oid, text, len, NULL);
}

static void pg_row_json(const struct folio_db_row *row, size_t i, struct folio_json *j)
{
    const struct pg_row *r = row->impl;
    int col = (int)i;
    if (PQgetisnull(r->res, r->row, col)) {
        folio_json_null(j);
        return;
    }
    const char *t = PQgetvalue(r->res, r->row, col);
    size_t n = (size_t)PQgetlength(r->res, r->row, col);
    unsigned oid = PQftype(r->res, col);
    unsigned elem = array_elem(r->c->base.db->backend, oid);
    if (elem != 0)
        array_json(j, elem, t, n, r->c);
    else
        scalar_json(j, oid, t, n, r->c);
}

/* --- snapshots, change token, plans, estimates ---------------------------------------- */

/* The change token is the WAL insert position (pg_current_wal_insert_lsn(); on a standby
 * the replay position). Every committed write appends a commit record to the WAL, so it
 * moves on every commit, by any session, on any table. It also moves on things that change
 * no row (checkpoints, vacuum, hint bits), which only empties caches early: conservative,
 * never stale. Not chosen: xmax of pg_current_snapshot() moves when a transaction id is
 * assigned, not when it commits (a writer that began earlier and commits later would not
 * move it); pg_stat counters are per table, lag, and are not transactional. Writes to
 * UNLOGGED tables write no WAL for their rows and are not detected: serve those with
 * prefetch and hybrid off (docs/postgresql.md). */
static const char version_sql[] =
    "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
    "ELSE pg_current_wal_insert_lsn() END - '0/0'::pg_lsn)::text";

static int first_text_u64(void *ctx, const struct folio_db_row *row)
{
    const struct pg_row *r = row->impl;
    *(uint64_t *)ctx = PQgetisnull(r->res, r->row, 0)
                           ? 0
                           : strtoull(PQgetvalue(r->res, r->row, 0), NULL, 10);
    return 1;
}

static folio_status pg_data_version(folio_db_conn *base, uint64_t *out)
{
    struct pg_conn *c = (struct pg_conn *)base;
    if (c->in_txn) {
        *out = c->txn_version;
        return FOLIO_OK;
    }
    *out = 0;
    return pg_query(base, version_sql, sizeof version_sql - 1, NULL, 0, first_text_u64, out,
                    NULL);
}

/* The token is read before BEGIN: its snapshot, taken at the first statement after, is
 * at least as new as the token says, so a cache entry never claims newer data than it
 * holds. */
static folio_status pg_begin_read(folio_db_conn *base, struct folio_error *err)
{
    static const char begin[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    struct pg_conn *c = (struct pg_conn *)base;
    c->in_txn = false;
    folio_status st = pg_query(base, version_sql, sizeof version_sql - 1, NULL, 0,
                               first_text_u64, &c->txn_version, err);
    if (st != FOLIO_OK && c->h != NULL && PQstatus(c->h) != CONNECTION_OK) {
        /* The server went away since this connection's last page (a restart): nothing of
         * this page has run yet, so reconnect at once and try again, once. */
        c->retry_at_ms = 0;
        if (err != NULL)
            memset(err, 0, sizeof *err);
        st = pg_query(base, version_sql, sizeof version_sql - 1, NULL, 0, first_text_u64,
                      &c->txn_version, err);
    }
    if (st == FOLIO_OK && c->base.db->opts.unprepared) {
        /* Through a transaction-pooling PgBouncer every transaction may run on another
         * server connection: the session's settings come with each one (SET LOCAL ends
         * with it), in the same round trip as BEGIN. */
        char sql[512];
        snprintf(sql, sizeof sql,
                 "%s; SET LOCAL statement_timeout = %u; SET LOCAL TimeZone = 'UTC'; "
                 "SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'iso_8601'; "
                 "SET LOCAL extra_float_digits = 1",
                 begin, c->base.db->opts.statement_timeout_ms);
        if (!command(c, sql))
            st = unavailable(err, "cannot begin a read transaction");
    } else if (st == FOLIO_OK) {
        st = pg_query(base, begin, sizeof begin - 1, NULL, 0, NULL, NULL, err);
    }
    c->in_txn = st == FOLIO_OK;
    return st;
}

static void pg_end_read(folio_db_conn *base)
{
    struct pg_conn *c = (struct pg_conn *)base;
    if (c->h != NULL && PQstatus(c->h) == CONNECTION_OK &&
        PQtransactionStatus(c->h) != PQTRANS_IDLE) {
        /* COMMIT ends an aborted transaction too (as a rollback). Past the page's deadline
         * it still gets a moment; if the server does not answer, the connection goes. */
        uint64_t deadline = c->deadline_ms;
        c->deadline_ms = folio__db_now_ms() + CANCEL_GRACE_MS;
        if (!command(c, "COMMIT"))
            drop_connection(c);
        c->deadline_ms = deadline;
    }
    c->in_txn = false;
}

static folio_status pg_explain(folio_db_conn *base, const char *sql, size_t sql_len,
                               const struct folio_value *params, size_t nparams,
                               struct folio_buf *out)
{
    struct folio_buf q;
    folio_buf_init(&q, sql_len + 64);
    folio_status st = folio_buf_puts(&q, "EXPLAIN ");
    if (st == FOLIO_OK)
        st = folio_buf_append(&q, sql, sql_len);
    PGresult *res = NULL;
    if (st == FOLIO_OK)
        st = run((struct pg_conn *)base, q.data, q.len, params, nparams, &res, NULL);
    for (int i = 0; st == FOLIO_OK && i < PQntuples(res); i++) {
        const char *line = PQgetvalue(res, i, 0);
        while (*line == ' ')
            line++;
        st = folio_buf_printf(out, "%s%s", i ? " | " : "", line);
    }
    PQclear(res);
    folio_buf_clear(&q);
    return st;
}

/* Estimates, as PostgREST's count=planned: pg_class.reltuples for a whole table (kept by
 * ANALYZE and autovacuum), else, and for a table never analyzed (reltuples -1), the
 * planner's row estimate of the query from EXPLAIN. */
static folio_status pg_estimate(folio_db_conn *base, const struct folio_table *t,
                                const char *where, const struct folio_value *params,
                                size_t nparams, int64_t *out, struct folio_error *err)
{
    struct pg_conn *c = (struct pg_conn *)base;
    PGresult *res = NULL;
    folio_status st;
    *out = 0;
    if (where == NULL) {
        static const char sql[] =
            "SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass";
        struct folio_value v = {.type = FOLIO_VALUE_TEXT, .s = t->sql, .len = strlen(t->sql)};
        st = run(c, sql, sizeof sql - 1, &v, 1, &res, err);
        if (st != FOLIO_OK)
            return st;
        int64_t n = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
        PQclear(res);
        if (n >= 0) {
            *out = n;
            return FOLIO_OK;
        }
    }
    struct folio_buf q;
    folio_buf_init(&q, 256 * 1024);
    st = folio_buf_printf(&q, "EXPLAIN (FORMAT JSON) SELECT 1 FROM %s", t->sql);
    if (st == FOLIO_OK && where != NULL)
        st = folio_buf_printf(&q, " WHERE %s", where);
    if (st == FOLIO_OK)
        st = run(c, q.data, q.len, params, nparams, &res, err);
    folio_buf_clear(&q);
    if (st != FOLIO_OK)
        return st;
    const char *plan = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "";
    const char *rows = strstr(plan, "\"Plan Rows\":");
    if (rows != NULL)
        *out = strtoll(rows + 12, NULL, 10);
    PQclear(res);
    return rows != NULL ? FOLIO_OK : FOLIO_ENOTFOUND;
}

/* --- schema -------------------------------------------------------------------------- */

static PGresult *catalog(struct pg_conn *c, const char *sql, int n, const char *const *vals)
{
    PGresult *res = PQexecParams(c->h, sql, n, NULL, vals, NULL, NULL, 0);
    if (res != NULL && PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return NULL;
    }
    return res;
}

static folio_status add_array_type(struct pg_db *p, unsigned oid, unsigned elem)
{
    if (array_elem(p, oid) != 0)
        return FOLIO_OK;
    struct array_type *a = folio_realloc(p->arrays, (p->narrays + 1) * sizeof *a);
    if (a == NULL)
        return FOLIO_ENOMEM;
    p->arrays = a;
    a[p->narrays++] = (struct array_type){oid, elem};
    return FOLIO_OK;
}

/* Columns, primary key and index-leading columns of one relation. A view or a table
 * without a primary key gets npk = 0: it is served only with a configured key. */
static folio_status load_table(struct pg_conn *c, const char *oid, const char *name,
                               const char *sql_name, struct folio_table *t)
{
    struct pg_db *p = c->base.db->backend;
    memset(t, 0, sizeof *t);
    t->name = folio_strdup(name);
    t->sql = folio_strdup(sql_name);
    if (t->name == NULL || t->sql == NULL)
        return FOLIO_ENOMEM;
    const char *v[1] = {oid};
    PGresult *res = catalog(c,
                            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
                            "a.attnotnull, a.atttypid, a.attnum, t.typcategory, t.typelem "
                            "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                            "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT "
                            "a.attisdropped ORDER BY a.attnum",
                            1, v);
    if (res == NULL)
        return FOLIO_EDB;
    int n = PQntuples(res);
    t->cols = folio_calloc((size_t)n + 1, sizeof *t->cols);
    int *attnum = folio_calloc((size_t)n + 1, sizeof *attnum);
    folio_status st = t->cols && attnum ? FOLIO_OK : FOLIO_ENOMEM;
    for (int i = 0; st == FOLIO_OK && i < n; i++) {
        struct folio_column *col = &t->cols[i];
        unsigned type = (unsigned)strtoul(PQgetvalue(res, i, 3), NULL, 10);
        col->name = folio_strdup(PQgetvalue(res, i, 0));
        col->sql = col->name ? folio__db_quote_ident(col->name) : NULL;
        col->decl_type = folio_strdup(PQgetvalue(res, i, 1));
        col->not_null = PQgetvalue(res, i, 2)[0] == 't';
        col->integer = type == OID_INT2 || type == OID_INT4 || type == OID_INT8;
        /* Integers parse as integers; every other argument is sent as text, which the
         * server parses as the column's type (exactly: numeric, timestamps, uuid...). */
        col->affinity = col->integer ? FOLIO_AFF_INTEGER : FOLIO_AFF_TEXT;
        attnum[i] = atoi(PQgetvalue(res, i, 4));
        t->ncols = t->ncols_all = (size_t)i + 1;
        if (col->name == NULL || col->sql == NULL || col->decl_type == NULL)
            st = FOLIO_ENOMEM;
        else if (PQgetvalue(res, i, 5)[0] == 'A')
            st = add_array_type(p, type, (unsigned)strtoul(PQgetvalue(res, i, 6), NULL, 10));
    }
    PQclear(res);
    if (st == FOLIO_OK) {
        res = catalog(c,
                      "SELECT k.attnum FROM pg_index i, unnest(i.indkey) WITH ORDINALITY "
                      "AS k(attnum, ord) WHERE i.indrelid = $1::oid AND i.indisprimary "
                      "ORDER BY k.ord",
                      1, v);
        if (res == NULL)
            st = FOLIO_EDB;
        for (int r = 0; res != NULL && r < PQntuples(res) && r < FOLIO_SORT_MAX; r++) {
            int a = atoi(PQgetvalue(res, r, 0));
            for (int i = 0; i < n; i++)
                if (attnum[i] == a) {
                    t->pk_declared[t->npk_declared++] = i;
                    t->cols[i].not_null = true;
                }
        }
        if (res != NULL && PQntuples(res) > FOLIO_SORT_MAX)
            t->npk_declared = 0; /* a key folio cannot use */
        PQclear(res);
    }
    if (st == FOLIO_OK) {
        /* Columns a plain btree index leads (a partial one serves only some queries). */
        res = catalog(c,
                      "SELECT i.indkey[0] FROM pg_index i JOIN pg_class ic ON ic.oid = "
                      "i.indexrelid JOIN pg_am am ON am.oid = ic.relam WHERE i.indrelid = "
                      "$1::oid AND i.indpred IS NULL AND am.amname = 'btree'",
                      1, v);
        if (res == NULL)
            st = FOLIO_EDB;
        for (int r = 0; res != NULL && r < PQntuples(res); r++) {
            int a = atoi(PQgetvalue(res, r, 0));
            for (int i = 0; i < n; i++)
                if (attnum[i] == a)
                    t->cols[i].index_lead = true;
        }
        PQclear(res);
    }
    folio_free(attnum);
    for (size_t i = 0; i < t->npk_declared; i++)
        t->pk[i] = t->pk_declared[i];
    t->npk = t->npk_declared;
    return st;
}

static folio_status pg_load_schema(folio_db_conn *base, struct folio_schema *out,
                                   struct folio_error *err)
{
    struct pg_conn *c = (struct pg_conn *)base;
    memset(out, 0, sizeof *out);
    c->retry_at_ms = 0; /* at start: try now, and say why it fails */
    folio_status st = ensure(c, err);
    if (st != FOLIO_OK)
        return st;
    const struct folio_db_options *o = &c->base.db->opts;
    /* The schemas as a text[] literal, each element quoted. */
    struct folio_buf arr;
    folio_buf_init(&arr, 64 * 1024);
    folio_buf_putc(&arr, '{');
    size_t ns = o->nschemas ? o->nschemas : 1;
    for (size_t i = 0; i < ns; i++) {
        const char *s = o->nschemas ? o->schemas[i] : "public";
        folio_buf_puts(&arr, i ? ",\"" : "\"");
        for (; *s; s++) {
            if (*s == '"' || *s == '\\')
                folio_buf_putc(&arr, '\\');
            folio_buf_putc(&arr, *s);
        }
        folio_buf_putc(&arr, '"');
    }
    folio_buf_putc(&arr, '}');
    const char *first = o->nschemas ? o->schemas[0] : "public";
    const char *v[2] = {arr.data, first};
    /* Tables, partitioned tables, views, materialized views and foreign tables; the
     * first schema's names are bare, the others' are "schema.name". */
    PGresult *res =
        arr.data == NULL
            ? NULL
            : catalog(c,
                      "SELECT c.oid, CASE WHEN n.nspname = $2 THEN c.relname ELSE n.nspname "
                      "|| '.' || c.relname END, quote_ident(n.nspname) || '.' || "
                      "quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid "
                      "= c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND "
                      "n.nspname = ANY($1::text[]) AND NOT c.relispartition ORDER BY 2",
                      2, v);
    folio_buf_clear(&arr);
    if (res == NULL)
        return folio_error_set(err, FOLIO_EDB, FOLIO_KIND_NONE, NULL,
                               "cannot read the schema: %s", PQerrorMessage(c->h));
    int n = PQntuples(res);
    out->tables = folio_calloc((size_t)n + 1, sizeof *out->tables);
    st = out->tables ? FOLIO_OK : FOLIO_ENOMEM;
    for (int i = 0; st == FOLIO_OK && i < n; i++) {
        st = load_table(c, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                        PQgetvalue(res, i, 2), &out->tables[i]);
        out->ntables++;
    }
    PQclear(res);
    if (st != FOLIO_OK) {
        folio__schema_clear(out);
        return st == FOLIO_ENOMEM
                   ? folio_error_set(err, st, FOLIO_KIND_INTERNAL, NULL, "out of memory")
                   : folio_error_set(err, st, FOLIO_KIND_NONE, NULL,
                                     "cannot read the schema: %s", PQerrorMessage(c->h));
    }
    return FOLIO_OK;
}

const struct folio_db_ops folio__db_pg_ops = {
    .name = "postgresql",
    /* NULL is the largest value; LIKE tells case apart (folio's like is ILIKE here); no
     * hidden key: tables need a primary key or a configured one. */
    .caps = FOLIO_DB_CAP_DATA_VERSION | FOLIO_DB_CAP_SNAPSHOT | FOLIO_DB_CAP_NULLS_LARGE |
            FOLIO_DB_CAP_ROW_VALUES | FOLIO_DB_CAP_LIKE_CASE_SENSITIVE |
            FOLIO_DB_CAP_ORDERED_PROBES | FOLIO_DB_CAP_SHARED_VERSION,
    .open = pg_open,
    .close = pg_close,
    .load_schema = pg_load_schema,
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .query = pg_query,
    .row_columns = pg_row_columns,
    .row_value = pg_row_value,
    .data_version = pg_data_version,
    .begin_read = pg_begin_read,
    .end_read = pg_end_read,
    .explain = pg_explain,
    .deadline = pg_deadline,
    .estimate = pg_estimate,
    .row_json = pg_row_json,
    .param_style = FOLIO_PARAM_DOLLAR,
    .dialect = {FOLIO_PARAM_DOLLAR, "ILIKE", "::text"},
};
