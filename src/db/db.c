/* Backend-independent wrappers: see db.h. */
#include "db.h"

#include <string.h>
#include <time.h>

static folio_status index_columns(struct folio_table *t)
{
    t->names = folio_calloc(t->ncols_all + 1, sizeof *t->names);
    t->sqls = folio_calloc(t->ncols_all + 1, sizeof *t->sqls);
    t->not_null = folio_calloc(t->ncols_all + 1, sizeof *t->not_null);
    if (t->names == NULL || t->sqls == NULL || t->not_null == NULL)
        return FOLIO_ENOMEM;
    for (size_t c = 0; c < t->ncols_all; c++) {
        struct folio_column *col = &t->cols[c];
        t->names[c] = col->name;
        t->sqls[c] = col->sql;
        t->not_null[c] = col->not_null;
        struct folio_buf k;
        folio_buf_init(&k, 6 * strlen(col->name) + 8);
        folio_buf_putc(&k, '"');
        folio_json_escape(&k, col->name, strlen(col->name));
        if (folio_buf_puts(&k, "\":") != FOLIO_OK || k.data == NULL) {
            folio_buf_clear(&k);
            return FOLIO_ENOMEM;
        }
        col->json_key = k.data; /* the buffer's memory, kept */
        col->json_key_len = k.len;
    }
    return FOLIO_OK;
}

static void options_clear(struct folio_db_options *o)
{
    folio_free((char *)o->application_name);
    for (size_t i = 0; i < o->nschemas; i++)
        folio_free((char *)o->schemas[i]);
    folio_free((void *)o->schemas);
    for (size_t i = 0; i < o->nreplicas; i++)
        folio_free((char *)o->replicas[i]);
    folio_free((void *)o->replicas);
    memset(o, 0, sizeof *o);
}

static folio_status options_copy(struct folio_db_options *to, const struct folio_db_options *from)
{
    memset(to, 0, sizeof *to);
    if (from == NULL)
        return FOLIO_OK;
    to->statement_timeout_ms = from->statement_timeout_ms;
    to->unprepared = from->unprepared;
    if (from->nreplicas > 0) {
        const char **r = folio_calloc(from->nreplicas, sizeof *r);
        if (r == NULL)
            return FOLIO_ENOMEM;
        to->replicas = r;
        for (size_t i = 0; i < from->nreplicas; i++) {
            if ((r[i] = folio_strdup(from->replicas[i])) == NULL)
                return FOLIO_ENOMEM;
            to->nreplicas++;
        }
    }
    if (from->application_name != NULL &&
        (to->application_name = folio_strdup(from->application_name)) == NULL)
        return FOLIO_ENOMEM;
    if (from->nschemas == 0)
        return FOLIO_OK;
    const char **s = folio_calloc(from->nschemas, sizeof *s);
    if (s == NULL)
        return FOLIO_ENOMEM;
    to->schemas = s;
    for (size_t i = 0; i < from->nschemas; i++) {
        if ((s[i] = folio_strdup(from->schemas[i])) == NULL)
            return FOLIO_ENOMEM;
        to->nschemas++;
    }
    return FOLIO_OK;
}

folio_status folio__db_open(folio_db **out, const char *target, struct folio_error *err)
{
    return folio__db_open_with(out, target, NULL, err);
}

folio_status folio__db_open_with(folio_db **out, const char *target,
                                 const struct folio_db_options *opts, struct folio_error *err)
{
    folio_db *db = folio_calloc(1, sizeof *db);
    if (db == NULL)
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL, "out of memory");
    if (options_copy(&db->opts, opts) != FOLIO_OK) {
        options_clear(&db->opts);
        folio_free(db);
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL, "out of memory");
    }
    db->ops = folio__db_backend_of(target);
    db->target = folio_strdup(target);
    if (db->target == NULL) {
        options_clear(&db->opts);
        folio_free(db);
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL, "out of memory");
    }
    folio_status st = db->ops->open(db, target, err);
    if (st != FOLIO_OK) {
        options_clear(&db->opts);
        folio_free(db->target);
        folio_free(db);
        return st;
    }
    folio_db_conn *c;
    st = folio__db_connect(db, &c, err);
    if (st == FOLIO_OK) {
        st = db->ops->load_schema(c, &db->schema, err);
        folio__db_disconnect(c);
    }
    for (size_t t = 0; st == FOLIO_OK && t < db->schema.ntables; t++)
        if (index_columns(&db->schema.tables[t]) != FOLIO_OK)
            st = folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL, "out of memory");
    if (st != FOLIO_OK) {
        folio__db_close(db);
        return st;
    }
    /* Reads from streaming replicas: the primary's schema, served by a replica set. */
    if (db->opts.nreplicas > 0 && db->ops == &folio__db_pg_ops)
        return folio__db_replicas_wrap(db, out, err);
    *out = db;
    return FOLIO_OK;
}

void folio__db_close(folio_db *db)
{
    if (db == NULL)
        return;
    folio__schema_clear(&db->schema);
    db->ops->close(db);
    options_clear(&db->opts);
    folio_free(db->target);
    folio_free(db);
}

const struct folio_schema *folio__db_schema(const folio_db *db)
{
    return &db->schema;
}

const struct folio_table *folio__db_table(const folio_db *db, const char *name)
{
    for (size_t i = 0; i < db->schema.ntables; i++)
        if (strcmp(db->schema.tables[i].name, name) == 0)
            return &db->schema.tables[i];
    return NULL;
}

unsigned folio__db_caps(const folio_db *db)
{
    return db->ops->caps;
}

enum folio_param_style folio__db_param_style(const folio_db *db)
{
    return db->ops->param_style;
}

folio_status folio__db_connect(folio_db *db, folio_db_conn **out, struct folio_error *err)
{
    return db->ops->connect(db, out, err);
}

void folio__db_disconnect(folio_db_conn *c)
{
    if (c != NULL)
        c->db->ops->disconnect(c);
}

folio_status folio__db_query(folio_db_conn *c, const char *sql, size_t sql_len,
                             const struct folio_value *params, size_t nparams, folio_db_row_fn fn,
                             void *ctx, struct folio_error *err)
{
    return c->db->ops->query(c, sql, sql_len, params, nparams, fn, ctx, err);
}

folio_status folio__db_data_version(folio_db_conn *c, uint64_t *out)
{
    return c->db->ops->data_version(c, out);
}

folio_status folio__db_begin_read(folio_db_conn *c, struct folio_error *err)
{
    return c->db->ops->begin_read(c, err);
}

void folio__db_end_read(folio_db_conn *c)
{
    c->db->ops->end_read(c);
}

void folio__db_deadline(folio_db_conn *c, uint64_t deadline_ms)
{
    c->db->ops->deadline(c, deadline_ms);
}

bool folio__db_budget(folio_db_conn *c, uint64_t until_us)
{
    if (c->db->ops->budget == NULL)
        return false;
    c->db->ops->budget(c, until_us);
    return true;
}

bool folio__db_budget_spent(folio_db_conn *c)
{
    return c->db->ops->budget_spent != NULL && c->db->ops->budget_spent(c);
}

struct folio_db_hint *folio__db_hint_open(folio_db_conn *c)
{
    return c->db->ops->hint_open != NULL ? c->db->ops->hint_open(c) : NULL;
}

bool folio__db_hint_poll(struct folio_db_hint *h)
{
    return h == NULL || h->ops->hint_poll(h);
}

void folio__db_hint_close(struct folio_db_hint *h)
{
    if (h != NULL)
        h->ops->hint_close(h);
}

uint64_t folio__db_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t folio__db_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

folio_status folio__db_explain(folio_db_conn *c, const char *sql, size_t sql_len,
                               const struct folio_value *params, size_t nparams,
                               struct folio_buf *out)
{
    return c->db->ops->explain(c, sql, sql_len, params, nparams, out);
}

folio_status folio__db_estimate(folio_db_conn *c, const struct folio_table *t, const char *where,
                                const struct folio_value *params, size_t nparams, int64_t *out,
                                struct folio_error *err)
{
    return c->db->ops->estimate(c, t, where, params, nparams, out, err);
}

void folio__db_row_json(const struct folio_db_row *row, size_t i, struct folio_json *j)
{
    row->ops->row_json(row, i, j);
}

bool folio__db_failover(folio_db_conn *c)
{
    return c->db->ops->failover != NULL && c->db->ops->failover(c);
}

bool folio__db_target_is_pg(const char *target)
{
    if (strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0)
        return true;
    /* A conninfo string starts with "keyword =" and the keyword is one libpq knows: a file
     * named "notes=1.db" stays a SQLite path. */
    static const char *const keywords[] = {
        "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "service",
        "connect_timeout", "application_name", "options", "sslmode", "sslrootcert",
        "sslcert", "sslkey", "target_session_attrs", "client_encoding", NULL};
    const char *p = target;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *k = p;
    while ((*p >= 'a' && *p <= 'z') || *p == '_')
        p++;
    size_t n = (size_t)(p - k);
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '=' || n == 0)
        return false;
    for (size_t i = 0; keywords[i] != NULL; i++)
        if (strlen(keywords[i]) == n && memcmp(keywords[i], k, n) == 0)
            return true;
    return false;
}

const struct folio_db_ops *folio__db_backend_of(const char *target)
{
    if (folio__db_target_is_pg(target))
        return &folio__db_pg_ops;
    return &folio__db_sqlite_ops;
}

const char *folio__db_backend_name(const folio_db *db)
{
    return db->ops->name;
}

const struct folio_sql_dialect *folio__db_dialect(const folio_db *db)
{
    return &db->ops->dialect;
}

void folio__table_clear(struct folio_table *tb)
{
    for (size_t i = 0; tb->cols != NULL && i < tb->ncols_all; i++) {
        folio_free(tb->cols[i].name);
        folio_free(tb->cols[i].sql);
        folio_free(tb->cols[i].json_key);
        folio_free(tb->cols[i].decl_type);
    }
    folio_free(tb->cols);
    folio_free(tb->names);
    folio_free(tb->sqls);
    folio_free(tb->not_null);
    folio_free(tb->name);
    folio_free(tb->sql);
    memset(tb, 0, sizeof *tb);
}

void folio__schema_clear(struct folio_schema *s)
{
    for (size_t t = 0; t < s->ntables; t++)
        folio__table_clear(&s->tables[t]);
    folio_free(s->tables);
    s->tables = NULL;
    s->ntables = 0;
}

size_t folio__db_row_columns(const struct folio_db_row *row)
{
    return row->ops->row_columns(row);
}

void folio__db_row_value(const struct folio_db_row *row, size_t i, struct folio_value *out)
{
    row->ops->row_value(row, i, out);
}

char *folio__db_quote_ident(const char *name)
{
    struct folio_buf b;
    folio_buf_init(&b, 4 * strlen(name) + 8);
    folio_status st = folio_buf_putc(&b, '"');
    for (const char *p = name; *p && st == FOLIO_OK; p++)
        st = *p == '"' ? folio_buf_append(&b, "\"\"", 2) : folio_buf_putc(&b, *p);
    if (st == FOLIO_OK)
        st = folio_buf_putc(&b, '"');
    if (st != FOLIO_OK) {
        folio_buf_clear(&b);
        return NULL;
    }
    return folio_buf_detach(&b, NULL);
}
