/* Reads from PostgreSQL streaming replicas: a replica set behind the db seam.
 *
 * A replica set is a folio_db whose ops delegate to the PostgreSQL backend: source 0 is
 * the primary, sources 1..n the replicas of `[database] replicas`. Each read transaction
 * (a page with its probes, its count, the hybrid index it builds) goes to the next healthy
 * replica, round robin over a counter shared by all workers; when none is healthy, to the
 * primary. A source whose read fails for a reason of the moment (connection refused or
 * lost, the server shutting down) is marked down for DOWN_MS, for every worker at once,
 * and the read is started again on the next source: the client sees no error. After
 * DOWN_MS the next read tries it again (the health check is the read itself: a refused
 * connection costs one round trip, and only one worker pays it per period).
 *
 * The change token on a replica is its replay position (pg_last_wal_replay_lsn(), chosen
 * by db_pg.c when pg_is_in_recovery()): LSNs of one primary and its standbys are one
 * sequence, so a token read on any source says which WAL the data it was read with holds.
 *
 * Connections are made lazily: a worker connects to a source the first time it reads
 * from it. Statements outside a read transaction (the prefetch watcher's token) go to the
 * same rotation; explain and estimate outside one go to the primary. */
#include <stdatomic.h>
#include <string.h>

#include "db.h"

#define MAX_SOURCES 17 /* the primary and 16 replicas (config: at most 16) */
#define DOWN_MS 1000   /* a failed source is skipped this long */

struct rs_db {
    struct folio_db_ops ops; /* this set's ops: pg's, with the functions below */
    folio_db *primary;       /* owned: the PostgreSQL database (types, options, targets) */
    size_t nsources;
    atomic_uint_fast64_t down_until[MAX_SOURCES]; /* CLOCK_MONOTONIC ms; 0 = healthy */
    atomic_uint rr;
    atomic_uint_fast64_t failovers; /* sources marked down: their reads moved on */
};

struct rs_conn {
    struct folio_db_conn base;
    folio_db_conn *src[MAX_SOURCES]; /* NULL until first used */
    int cur;                         /* source of the open read transaction, or -1 */
    int last;                        /* source of the last read, or -1 */
    uint64_t deadline_ms;
};

static struct rs_db *rs_of(const folio_db *db)
{
    return db->backend;
}

static folio_db_conn *source(struct rs_conn *c, int i, struct folio_error *err)
{
    struct rs_db *rs = rs_of(c->base.db);
    if (c->src[i] == NULL) {
        folio_status st =
            i == 0 ? folio__db_connect(rs->primary, &c->src[i], err)
                   : folio__db_pg_connect_to(rs->primary, rs->primary->opts.replicas[i - 1],
                                             &c->src[i], err);
        if (st != FOLIO_OK) {
            c->src[i] = NULL;
            return NULL;
        }
    }
    folio__db_deadline(c->src[i], c->deadline_ms);
    return c->src[i];
}

/* A failure another source may not have: the server is gone, refuses or restarts. A
 * time limit is not one (the retry would have no time left); nor is a wrong query. */
static bool transient(folio_status st, const struct folio_error *e)
{
    return st == FOLIO_EDB && e->kind == FOLIO_KIND_TRANSIENT;
}

/* A source failed: every worker skips it for DOWN_MS; what it would have served goes to
 * the others (counted as a failover). */
static void mark_down(struct rs_db *rs, int i)
{
    atomic_store(&rs->down_until[i], folio__db_now_ms() + DOWN_MS);
    atomic_fetch_add(&rs->failovers, 1);
}

/* The order to try sources in: healthy replicas from the next round-robin position, then
 * the primary when healthy, then the ones marked down (a last chance, rather than an
 * error). Returns how many were written to order[]. */
static size_t plan(struct rs_db *rs, int *order)
{
    size_t n = 0, nrep = rs->nsources - 1;
    uint64_t now = folio__db_now_ms();
    unsigned start = atomic_fetch_add(&rs->rr, 1);
    for (size_t k = 0; k < nrep; k++) {
        int i = 1 + (int)((start + k) % nrep);
        if (atomic_load(&rs->down_until[i]) <= now)
            order[n++] = i;
    }
    if (atomic_load(&rs->down_until[0]) <= now)
        order[n++] = 0;
    for (size_t k = 0; k < nrep; k++) {
        int i = 1 + (int)((start + k) % nrep);
        if (atomic_load(&rs->down_until[i]) > now)
            order[n++] = i;
    }
    if (atomic_load(&rs->down_until[0]) > now)
        order[n++] = 0;
    return n;
}

/* One operation on a source (each_source); e is filled on failure. */
typedef folio_status (*source_op)(folio_db_conn *s, void *ctx, struct folio_error *e);

/* Try `op` on each source in plan() order until one succeeds (*at: its index): a source
 * that fails transiently is marked down and the next one tried; any other failure is
 * the answer at once. err gets the last failure. */
static folio_status each_source(struct rs_conn *c, source_op op, void *ctx,
                                struct folio_error *err, int *at)
{
    struct rs_db *rs = rs_of(c->base.db);
    int order[MAX_SOURCES];
    size_t n = plan(rs, order);
    folio_status st = FOLIO_EDB;
    for (size_t k = 0; k < n; k++) {
        struct folio_error e = {0};
        folio_db_conn *s = source(c, order[k], &e);
        st = s ? op(s, ctx, &e) : e.status;
        if (st == FOLIO_OK) {
            *at = order[k];
            return FOLIO_OK;
        }
        if (err != NULL)
            *err = e;
        if (!transient(st, &e))
            return st;
        mark_down(rs, order[k]);
    }
    return st;
}

static folio_status op_begin_read(folio_db_conn *s, void *ctx, struct folio_error *e)
{
    (void)ctx;
    folio_status st = folio__db_begin_read(s, e);
    if (st != FOLIO_OK)
        folio__db_end_read(s);
    return st;
}

static folio_status rs_begin_read(folio_db_conn *base, struct folio_error *err)
{
    struct rs_conn *c = (struct rs_conn *)base;
    int at;
    c->cur = -1;
    folio_status st = each_source(c, op_begin_read, NULL, err, &at);
    if (st == FOLIO_OK)
        c->cur = c->last = at;
    return st;
}

static void rs_end_read(folio_db_conn *base)
{
    struct rs_conn *c = (struct rs_conn *)base;
    if (c->cur >= 0 && c->src[c->cur] != NULL)
        folio__db_end_read(c->src[c->cur]);
    c->cur = -1;
}

static bool rs_failover(folio_db_conn *base)
{
    struct rs_conn *c = (struct rs_conn *)base;
    struct rs_db *rs = rs_of(base->db);
    int failed = c->cur >= 0 ? c->cur : c->last;
    if (failed < 0)
        return false;
    mark_down(rs, failed);
    return rs->nsources > 1;
}

struct query_args {
    const char *sql;
    size_t sql_len;
    const struct folio_value *params;
    size_t nparams;
    folio_db_row_fn fn;
    void *ctx;
};

static folio_status op_query(folio_db_conn *s, void *ctx, struct folio_error *e)
{
    const struct query_args *q = ctx;
    return folio__db_query(s, q->sql, q->sql_len, q->params, q->nparams, q->fn, q->ctx, e);
}

/* Outside a read transaction a statement stands alone: it is tried on each source in
 * turn, as begin_read does. A failed one delivered no row (results are read whole). */
static folio_status rs_query(folio_db_conn *base, const char *sql, size_t sql_len,
                             const struct folio_value *params, size_t nparams,
                             folio_db_row_fn fn, void *ctx, struct folio_error *err)
{
    struct rs_conn *c = (struct rs_conn *)base;
    if (c->cur >= 0)
        return folio__db_query(c->src[c->cur], sql, sql_len, params, nparams, fn, ctx, err);
    struct query_args q = {sql, sql_len, params, nparams, fn, ctx};
    int at;
    return each_source(c, op_query, &q, err, &at);
}

/* data_version() reports no detail: any failure puts the source aside. */
static folio_status op_data_version(folio_db_conn *s, void *ctx, struct folio_error *e)
{
    folio_status st = folio__db_data_version(s, ctx);
    if (st != FOLIO_OK)
        *e = (struct folio_error){.status = FOLIO_EDB, .kind = FOLIO_KIND_TRANSIENT};
    return st == FOLIO_OK ? st : FOLIO_EDB;
}

static folio_status rs_data_version(folio_db_conn *base, uint64_t *out)
{
    struct rs_conn *c = (struct rs_conn *)base;
    if (c->cur >= 0)
        return folio__db_data_version(c->src[c->cur], out);
    int at;
    return each_source(c, op_data_version, out, NULL, &at);
}

/* Outside a read: the primary (these are diagnostics, not page reads). */
static folio_db_conn *current(struct rs_conn *c)
{
    struct folio_error e = {0};
    return c->cur >= 0 ? c->src[c->cur] : source(c, 0, &e);
}

static folio_status rs_explain(folio_db_conn *base, const char *sql, size_t sql_len,
                               const struct folio_value *params, size_t nparams,
                               struct folio_buf *out)
{
    folio_db_conn *s = current((struct rs_conn *)base);
    return s ? folio__db_explain(s, sql, sql_len, params, nparams, out) : FOLIO_EDB;
}

static folio_status rs_estimate(folio_db_conn *base, const struct folio_table *t,
                                const char *where, const struct folio_value *params,
                                size_t nparams, int64_t *out, struct folio_error *err)
{
    folio_db_conn *s = current((struct rs_conn *)base);
    if (s == NULL)
        return folio_error_set(err, FOLIO_EDB, FOLIO_KIND_TRANSIENT, NULL,
                               "the database is unavailable; retry shortly");
    return folio__db_estimate(s, t, where, params, nparams, out, err);
}

static void rs_deadline(folio_db_conn *base, uint64_t deadline_ms)
{
    struct rs_conn *c = (struct rs_conn *)base;
    c->deadline_ms = deadline_ms;
    for (size_t i = 0; i < MAX_SOURCES; i++)
        if (c->src[i] != NULL)
            folio__db_deadline(c->src[i], deadline_ms);
}

static folio_status rs_connect(folio_db *db, folio_db_conn **out, struct folio_error *err)
{
    struct rs_conn *c = folio_calloc(1, sizeof *c);
    if (c == NULL)
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL, "out of memory");
    c->base.db = db;
    c->cur = c->last = -1;
    *out = &c->base;
    return FOLIO_OK;
}

static void rs_disconnect(folio_db_conn *base)
{
    struct rs_conn *c = (struct rs_conn *)base;
    for (size_t i = 0; i < MAX_SOURCES; i++)
        folio__db_disconnect(c->src[i]);
    folio_free(c);
}

static folio_status rs_open(folio_db *db, const char *target, struct folio_error *err)
{
    (void)db;
    return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_NONE, NULL,
                           "a replica set is made by folio__db_replicas_wrap, not opened: %s",
                           target);
}

static void rs_close(folio_db *db)
{
    struct rs_db *rs = db->backend;
    if (rs == NULL)
        return;
    folio__db_close(rs->primary);
    folio_free(rs);
    db->backend = NULL;
}

static folio_status rs_load_schema(folio_db_conn *base, struct folio_schema *out,
                                   struct folio_error *err)
{
    struct rs_conn *c = (struct rs_conn *)base;
    folio_db_conn *s = source(c, 0, err);
    if (s == NULL)
        return err && err->status ? err->status : FOLIO_EDB;
    return rs_of(base->db)->primary->ops->load_schema(s, out, err);
}

folio_status folio__db_replicas_wrap(folio_db *primary, folio_db **out, struct folio_error *err)
{
    size_t nrep = primary->opts.nreplicas;
    folio_db *db = folio_calloc(1, sizeof *db);
    struct rs_db *rs = folio_calloc(1, sizeof *rs);
    char *target = folio_strdup(primary->target);
    if (db == NULL || rs == NULL || target == NULL || nrep + 1 > MAX_SOURCES) {
        folio_free(db);
        folio_free(rs);
        folio_free(target);
        folio__db_close(primary);
        return nrep + 1 > MAX_SOURCES
                   ? folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_NONE, NULL,
                                     "at most %d replicas", MAX_SOURCES - 1)
                   : folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL,
                                     "out of memory");
    }
    rs->ops = *primary->ops; /* caps, dialect, row functions: the primary's */
    rs->ops.name = "postgresql";
    rs->ops.open = rs_open;
    rs->ops.close = rs_close;
    rs->ops.load_schema = rs_load_schema;
    rs->ops.connect = rs_connect;
    rs->ops.disconnect = rs_disconnect;
    rs->ops.query = rs_query;
    rs->ops.data_version = rs_data_version;
    rs->ops.begin_read = rs_begin_read;
    rs->ops.end_read = rs_end_read;
    rs->ops.explain = rs_explain;
    rs->ops.deadline = rs_deadline;
    rs->ops.estimate = rs_estimate;
    rs->ops.failover = rs_failover;
    rs->primary = primary;
    rs->nsources = nrep + 1;
    db->ops = &rs->ops;
    db->target = target;
    db->backend = rs;
    /* The schema moves to the set: callers hold pointers into it for the set's life. */
    db->schema = primary->schema;
    memset(&primary->schema, 0, sizeof primary->schema);
    *out = db;
    return FOLIO_OK;
}

size_t folio__db_sources(const folio_db *db, bool *healthy, size_t max)
{
    if (db->ops->failover != rs_failover)
        return 0;
    struct rs_db *rs = rs_of(db);
    uint64_t now = folio__db_now_ms();
    for (size_t i = 0; i < rs->nsources && i < max; i++)
        healthy[i] = atomic_load(&rs->down_until[i]) <= now;
    return rs->nsources;
}

uint64_t folio__db_failovers(const folio_db *db)
{
    if (db->ops->failover != rs_failover)
        return 0;
    return atomic_load(&rs_of(db)->failovers);
}
