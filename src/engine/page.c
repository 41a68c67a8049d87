/* The page engine: see page.h. */
#include "engine/page.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"

/* A cursor's fingerprint: table, canonical sort (tiebreaker included), canonical filters. */
static folio_status fingerprint(const struct folio_page_spec *spec, const struct folio_sort *sort,
                                uint8_t out[FOLIO_CURSOR_FINGERPRINT_BYTES])
{
    const struct folio_table *t = spec->ep->table;
    struct folio_buf b;
    folio_buf_init(&b, 128 * 1024);
    folio_status st = folio_buf_append(&b, t->name, strlen(t->name) + 1);
    if (st == FOLIO_OK)
        st = folio_sort_format(&b, sort, t->names);
    if (st == FOLIO_OK)
        st = folio_buf_append(&b, "", 1);
    if (st == FOLIO_OK && spec->filters != NULL)
        st = folio_filter_format(&b, spec->filters);
    if (st == FOLIO_OK)
        folio_cursor_fingerprint(b.data, b.len, out);
    folio_buf_clear(&b);
    return st;
}

/* The order before the tiebreaker rule (the tiebreaker always ascending): cursors minted
 * then carry its fingerprint, and their walk goes on in that order. NULL when the rule
 * changes nothing for this sort. */
static bool legacy_sort(const struct folio_page_spec *spec, struct folio_sort *out)
{
    *out = spec->sort;
    bool changed = false;
    for (size_t k = spec->nsort_given; k < out->n; k++) {
        changed = changed || out->keys[k].desc;
        out->keys[k].desc = false;
    }
    return changed;
}

folio_status folio__page_sort(struct folio_page_spec *spec, const struct folio_endpoint *ep,
                              const char *sort, const struct folio_filter_set *filters,
                              struct folio_error *err)
{
    const struct folio_table *t = ep->table;
    spec->ep = ep;
    spec->filters = filters;
    spec->skip_probes = false;
    spec->seek = NULL;
    spec->seek_offset = 0;
    spec->sort_given = sort != NULL;
    spec->nsort_given = 0;
    if (sort == NULL) {
        spec->sort = ep->default_sort;
    } else {
        const char *names[FOLIO_PAGE_MAX_SELECT];
        size_t n = t->ncols < FOLIO_PAGE_MAX_SELECT ? t->ncols : FOLIO_PAGE_MAX_SELECT;
        /* A column the endpoint does not expose stays unknown (its name is not
         * confirmed); an exposed one that may not be sorted on is refused by name. */
        for (size_t c = 0; c < n; c++)
            names[c] = ep->exposed[c] ? t->cols[c].name : "";
        folio_status st = folio_sort_parse(&spec->sort, sort, names, n, err);
        if (st != FOLIO_OK)
            return st;
        for (size_t k = 0; k < spec->sort.n; k++) {
            const struct folio_column *col = &t->cols[spec->sort.keys[k].column];
            if (ep->sortable[spec->sort.keys[k].column])
                continue;
            if (ep->indexed_sorts)
                return folio_error_set(err, FOLIO_ENOTSORTABLE, FOLIO_KIND_INPUT, "sort",
                                       "column '%s' is not sortable: no index starts with it "
                                       "([api] sortable = \"all\" allows every column)",
                                       col->name);
            return folio_error_set(err, FOLIO_ENOTSORTABLE, FOLIO_KIND_INPUT, "sort",
                                   "column '%s' is not sortable on this endpoint", col->name);
        }
    }
    spec->nsort_given = spec->sort.n;
    /* The tiebreaker follows the direction of the last named key: an index on (c, key)
     * (or on c alone, which ends in the rowid) is then walked in one direction, where a
     * key going the other way made SQLite sort each run of equal values (docs/http.md). */
    bool tie_desc = spec->sort.n > 0 && spec->sort.keys[spec->sort.n - 1].desc;
    for (size_t i = 0; i < ep->nkey; i++) {
        size_t n = spec->sort.n;
        if (folio_sort_append(&spec->sort, ep->key[i]) != FOLIO_OK)
            return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, "sort",
                                   "sort has too many columns");
        if (spec->sort.n > n)
            spec->sort.keys[n].desc = tie_desc;
    }
    if (fingerprint(spec, &spec->sort, spec->fp) != FOLIO_OK)
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, NULL, "out of memory");

    spec->nfields = 0;
    for (size_t i = 0; i < ep->ncols && i < FOLIO_PAGE_MAX_SELECT; i++)
        spec->fields[spec->nfields++] = ep->cols[i];
    return FOLIO_OK;
}

folio_status folio__page_fields(struct folio_page_spec *spec, const char *fields,
                                struct folio_error *err)
{
    const struct folio_endpoint *ep = spec->ep;
    const struct folio_table *t = ep->table;
    if (fields == NULL)
        return FOLIO_OK;
    spec->nfields = 0;
    const char *p = fields;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int found = -1;
        for (size_t i = 0; i < ep->ncols; i++) {
            const char *name = t->cols[ep->cols[i]].name;
            if (strlen(name) == len && memcmp(name, p, len) == 0)
                found = ep->cols[i];
        }
        if (found < 0)
            return folio_error_set(err, FOLIO_EUNKNOWN_COLUMN, FOLIO_KIND_INPUT, "fields",
                                   "fields names unknown column '%.*s'", (int)(len > 64 ? 64 : len),
                                   p);
        for (size_t i = 0; i < spec->nfields; i++)
            if (spec->fields[i] == found)
                return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, "fields",
                                       "fields names column '%s' twice", t->cols[found].name);
        spec->fields[spec->nfields++] = found;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return FOLIO_OK;
}

folio_status folio__page_cursor(struct folio_engine *e, struct folio_page_spec *spec,
                                const char *token, bool before, const char *param,
                                struct folio_error *err)
{
    size_t len = strlen(token);
    uint64_t now = (uint64_t)time(NULL);
    folio_status st =
        folio_cursor_decode(e->cfg.keyring, token, len, now, spec->fp, &spec->cursor, err);
    struct folio_sort legacy;
    uint8_t fp[FOLIO_CURSOR_FINGERPRINT_BYTES];
    if (st == FOLIO_ECURSOR_FOREIGN && legacy_sort(spec, &legacy) &&
        fingerprint(spec, &legacy, fp) == FOLIO_OK) {
        /* Minted before the tiebreaker followed the sort: its walk keeps its own order. */
        struct folio_error e2 = {0};
        if (folio_cursor_decode(e->cfg.keyring, token, len, now, fp, &spec->cursor, &e2) ==
            FOLIO_OK) {
            spec->sort = legacy;
            memcpy(spec->fp, fp, sizeof fp);
            if (err != NULL)
                *err = (struct folio_error){0};
            st = FOLIO_OK;
        }
    }
    if (st == FOLIO_OK && spec->cursor.nkeys != spec->sort.n)
        st = folio_error_set(err, FOLIO_ECURSOR_INVALID, FOLIO_KIND_INPUT, param, "invalid cursor");
    if (st == FOLIO_OK && ((spec->cursor.flags & FOLIO_CURSOR_BEFORE) != 0) != before)
        st = folio_error_set(err, FOLIO_ECURSOR_INVALID, FOLIO_KIND_INPUT, param,
                             "this cursor was issued for '%s', not '%s'",
                             before ? "after" : "before", param);
    if (st != FOLIO_OK && err != NULL)
        snprintf(err->param, sizeof err->param, "%s", param);
    return st;
}

folio_status folio__page_token(struct folio_engine *e, const struct folio_page_spec *spec,
                               const struct folio_value *vals, unsigned flags, char *out,
                               size_t out_size, uint64_t *io_earliest)
{
    struct folio_cursor c;
    uint64_t ttl = e->cfg.cursor_ttl;
    c.flags = flags;
    /* One second more than the ttl: the clock is read in whole seconds, and a token minted
     * at the end of one must still live ttl seconds, not ttl minus a fraction. */
    c.expires = ttl ? (uint64_t)time(NULL) + ttl + 1 : 0;
    if (c.expires != 0 && (*io_earliest == 0 || c.expires < *io_earliest))
        *io_earliest = c.expires;
    memcpy(c.fingerprint, spec->fp, sizeof c.fingerprint);
    c.nkeys = spec->sort.n;
    memcpy(c.keys, vals, spec->sort.n * sizeof *vals);
    return folio_cursor_encode(e->cfg.keyring, &c, out, out_size, NULL);
}

/* --- running the query ------------------------------------------------------------- */

/* One page being read: the engine's (per worker), reused without allocation. */
struct folio__run {
    const struct folio_page_spec *spec;
    struct folio_json *j;
    struct folio_buf *rows;
    int per_page;
    int nrows;
    bool backward;
    size_t nsel;
    int key_pos[FOLIO_SORT_MAX];          /* select position of each sort key */
    size_t row_end[FOLIO_MAX_PER_PAGE + 1];
    struct folio_keycopy first, last;     /* arrival order */
};

static void keys_copy(struct folio_keycopy *k, const struct folio__run *r,
                      const struct folio_db_row *row)
{
    folio__page_keys_copy(k, r->spec, r->key_pos, row);
}

void folio__page_keys_copy(struct folio_keycopy *k, const struct folio_page_spec *spec,
                           const int *key_pos, const struct folio_db_row *row)
{
    size_t used = 0;
    k->n = spec->sort.n;
    k->overflow = false;
    for (size_t i = 0; i < k->n; i++) {
        struct folio_value v;
        folio__db_row_value(row, (size_t)key_pos[i], &v);
        if (v.type == FOLIO_VALUE_TEXT || v.type == FOLIO_VALUE_BLOB) {
            if (v.len > sizeof k->bytes - used) {
                k->overflow = true;
                v.len = 0;
            }
            if (v.len)
                memcpy(k->bytes + used, v.s, v.len);
            v.s = (const char *)k->bytes + used;
            used += v.len;
        }
        k->vals[i] = v;
    }
}

void folio__json_value(struct folio_json *j, const struct folio_value *v)
{
    switch (v->type) {
    case FOLIO_VALUE_NULL: folio_json_null(j); break;
    case FOLIO_VALUE_INT: folio_json_int(j, v->i); break;
    case FOLIO_VALUE_REAL: folio_json_double(j, v->d); break;
    case FOLIO_VALUE_TEXT: folio_json_stringn(j, v->s, v->len); break;
    case FOLIO_VALUE_BLOB: folio_json_base64(j, v->s, v->len); break;
    }
}

static int on_row(void *ctx, const struct folio_db_row *row)
{
    struct folio__run *r = ctx;
    if (r->nrows == r->per_page) {
        r->nrows++; /* the extra row: only its existence matters */
        return 1;
    }
    const struct folio_page_spec *spec = r->spec;
    const struct folio_column *cols = spec->ep->table->cols;
    struct folio_json *j = r->j;
    folio_json_object_begin(j);
    for (size_t f = 0; f < spec->nfields; f++) {
        const struct folio_column *col = &cols[spec->fields[f]];
        if (col->json_key != NULL)
            folio_json_key_raw(j, col->json_key, col->json_key_len);
        else
            folio_json_key(j, col->name);
        folio__db_row_json(row, f, j);
    }
    folio_json_object_end(j);
    if (r->backward)
        r->row_end[r->nrows] = r->rows->len;
    keys_copy(r->nrows == 0 ? &r->first : &r->last, r, row);
    r->nrows++;
    return folio_json_status(j) != FOLIO_OK;
}

static int one_row(void *ctx, const struct folio_db_row *row)
{
    (void)row;
    *(bool *)ctx = true;
    return 1;
}

#define MAX_PARAMS FOLIO_PAGE_MAX_PARAMS

/* A leading sort key on a nullable column splits the rows into a NULL run and a non-NULL
 * run. When the boundary sits where the predicate would need "c <= v OR c IS NULL" (or
 * "c IS NOT NULL OR ..."), no index range can serve it, so the page is read in two
 * phases, each an index seek: SPLIT_DESC for a walk from a non-NULL value whose NULL run
 * comes last (phase 1: non-NULL rows up to v, phase 2: the NULL run), SPLIT_NULL for a
 * walk from a NULL value whose NULL run comes first (phase 1: the rest of the NULL run,
 * phase 2: non-NULL rows). Where the NULL run lies is the backend's NULL order
 * (FOLIO_DB_CAP_NULLS_LARGE) and the walk's direction. */
enum split { SPLIT_NONE, SPLIT_DESC, SPLIT_NULL };

static enum split split_of(const struct folio_page_spec *spec, const struct folio_table *tb,
                           const struct folio_value *keys, bool backward, bool nulls_large)
{
    if (keys == NULL || spec->sort.n < 2)
        return SPLIT_NONE;
    const struct folio_sort_key *k0 = &spec->sort.keys[0];
    if (tb->not_null[k0->column])
        return SPLIT_NONE;
    bool desc = k0->desc != backward;
    bool nulls_after = nulls_large ? !desc : desc; /* the NULL run ends this walk */
    bool null_v = keys[0].type == FOLIO_VALUE_NULL;
    if (nulls_after && !null_v)
        return SPLIT_DESC;
    if (!nulls_after && null_v)
        return SPLIT_NULL;
    return SPLIT_NONE;
}

/* " WHERE filters AND keyset" (either part optional); params[0..sort.n) are the keys.
 * `phase` is 1 or 2 for a split read (see split_of), else 0. */
static folio_status where_db(const folio_db *db, unsigned caps, struct folio_buf *sql,
                             const struct folio_page_spec *spec, const struct folio_table *tb,
                             const struct folio_value *keys, bool backward, bool inclusive,
                             enum split split, int phase, struct folio_value *params,
                             int *io_param)
{
    const struct folio_sql_dialect *dialect = folio__db_dialect(db);
    enum folio_param_style style = dialect->style;
    folio_status st = FOLIO_OK;
    bool have_filters = spec->filters != NULL && spec->filters->n > 0;
    *io_param = (int)spec->sort.n + 1;
    memset(params, 0, sizeof(struct folio_value) * MAX_PARAMS);
    if (keys != NULL)
        memcpy(params, keys, spec->sort.n * sizeof *params);
    if (!have_filters && keys == NULL)
        return FOLIO_OK;
    st = folio_buf_puts(sql, " WHERE ");
    if (st == FOLIO_OK && have_filters)
        st = folio_filter_where_dialect(sql, spec->filters, tb->sqls, dialect, io_param, params,
                                        MAX_PARAMS - 2);
    if (st == FOLIO_OK && have_filters && keys != NULL)
        st = folio_buf_puts(sql, " AND ");
    if (st != FOLIO_OK || keys == NULL)
        return st;
    const char *c0 = tb->sqls[spec->sort.keys[0].column];
    struct folio_keyset_spec ks = {&spec->sort, tb->sqls, tb->not_null, keys, backward,
                                   inclusive, 1, style,
                                   (caps & FOLIO_DB_CAP_NULLS_LARGE) != 0,
                                   (caps & FOLIO_DB_CAP_ROW_VALUES) != 0};
    bool *nn = NULL;
    struct folio_sort suffix;
    if (split == SPLIT_DESC && phase == 1) {
        /* Only non-NULL values: the plain range form, as if the column were NOT NULL. */
        nn = folio_malloc(tb->ncols_all + 1);
        if (nn == NULL)
            return FOLIO_ENOMEM;
        memcpy(nn, tb->not_null, tb->ncols_all);
        nn[spec->sort.keys[0].column] = true;
        ks.not_null = nn;
    } else if (split == SPLIT_DESC && phase == 2) {
        return folio_buf_printf(sql, "%s IS NULL", c0);
    } else if (split == SPLIT_NULL && phase == 1) {
        /* The rest of the NULL run: the remaining keys decide. */
        suffix.n = spec->sort.n - 1;
        memcpy(suffix.keys, spec->sort.keys + 1, suffix.n * sizeof suffix.keys[0]);
        ks.sort = &suffix;
        ks.values = keys + 1;
        ks.first_param = 2;
        st = folio_buf_printf(sql, "%s IS NULL AND ", c0);
    } else if (split == SPLIT_NULL && phase == 2) {
        return folio_buf_printf(sql, "%s IS NOT NULL", c0);
    }
    if (st == FOLIO_OK)
        st = folio_keyset_where(sql, &ks);
    folio_free(nn);
    return st;
}

static folio_status where(const struct folio_engine *e, struct folio_buf *sql,
                          const struct folio_page_spec *spec, const struct folio_table *tb,
                          const struct folio_value *keys, bool backward, bool inclusive,
                          enum split split, int phase, struct folio_value *params,
                          int *io_param)
{
    return where_db(e->db, e->caps, sql, spec, tb, keys, backward, inclusive, split, phase,
                    params, io_param);
}

/* Does a row lie on the given side of the boundary (or anywhere, with keys == NULL)? */
static folio_status probe(struct folio_engine *e, const struct folio_page_spec *spec,
                          const struct folio_table *tb, const struct folio_value *keys,
                          bool backward, bool inclusive, bool *out, struct folio_error *err)
{
    struct folio_buf *sql = &e->sql;
    struct folio_value params[MAX_PARAMS];
    int next;
    folio_buf_reset(sql);
    folio_status st = folio_buf_printf(sql, "SELECT 1 FROM %s", spec->ep->table->sql);
    if (st == FOLIO_OK)
        st = where(e, sql, spec, tb, keys, backward, inclusive, SPLIT_NONE, 0, params, &next);
    /* In the walk's order from the boundary where the backend asks for it: the probe is
     * then an index seek to the first row past it, not a scan of rows that do not qualify. */
    bool ordered = keys != NULL && (e->caps & FOLIO_DB_CAP_ORDERED_PROBES) != 0;
    if (st == FOLIO_OK && ordered)
        st = folio_buf_puts(sql, " ORDER BY ");
    if (st == FOLIO_OK && ordered)
        st = folio_keyset_order_by(sql, &spec->sort, tb->sqls, backward);
    if (st == FOLIO_OK)
        st = folio_buf_puts(sql, " LIMIT 1");
    if (st != FOLIO_OK)
        return st;
    *out = false;
    return folio__db_query(e->conn, sql->data, sql->len, params, (size_t)next - 1, one_row, out,
                           err);
}

folio_status folio__page_run(struct folio_engine *e, const struct folio_page_spec *spec,
                             struct folio_json *j, struct folio_page_result *res,
                             struct folio_error *err)
{
    struct folio__run *r = e->run;
    const struct folio_table *t = spec->ep->table;
    enum folio_param_style style = folio__db_param_style(e->db);
    const char *pfx = style == FOLIO_PARAM_DOLLAR ? "$" : "?";
    bool keyset = spec->mode == FOLIO_MODE_AFTER || spec->mode == FOLIO_MODE_BEFORE;
    bool backward = spec->mode == FOLIO_MODE_BEFORE;
    bool incl = keyset && (spec->cursor.flags & FOLIO_CURSOR_INCLUSIVE) != 0;

    memset(r, 0, offsetof(struct folio__run, row_end));
    r->spec = spec;
    r->per_page = spec->per_page;
    r->backward = backward;

    /* SELECT shown fields, then sort keys not among them. */
    struct folio_buf *sql = &e->sql;
    const struct folio_value *from = keyset ? spec->cursor.keys : spec->seek;
    if (spec->seek != NULL && !keyset)
        incl = true;
    enum split split = keyset ? split_of(spec, t, from, backward,
                                         (e->caps & FOLIO_DB_CAP_NULLS_LARGE) != 0)
                              : SPLIT_NONE;

    /* Rows go straight into the response, or to scratch to be reversed. */
    struct folio_json back;
    struct folio_buf *scratch = &e->scratch;
    if (backward) {
        folio_buf_reset(scratch);
        folio_json_init(&back, scratch);
        r->j = &back;
        r->rows = scratch;
    } else {
        r->j = j;
        r->rows = j->out;
    }

    folio_status st = FOLIO_OK;
    for (int phase = split ? 1 : 0; phase <= (split ? 2 : 0) && r->nrows <= r->per_page;
         phase++) {
        folio_buf_reset(sql);
        folio_buf_puts(sql, "SELECT ");
        for (size_t f = 0; f < spec->nfields; f++)
        {
            if (f)
                folio_buf_append(sql, ", ", 2);
            folio_buf_puts(sql, t->sqls[spec->fields[f]]);
        }
        r->nsel = spec->nfields;
        for (size_t k = 0; k < spec->sort.n; k++) {
            int col = spec->sort.keys[k].column;
            r->key_pos[k] = -1;
            for (size_t f = 0; f < spec->nfields; f++)
                if (spec->fields[f] == col)
                    r->key_pos[k] = (int)f;
            if (r->key_pos[k] < 0) {
                if (r->nsel)
                    folio_buf_append(sql, ", ", 2);
                folio_buf_puts(sql, t->sqls[col]);
                r->key_pos[k] = (int)r->nsel++;
            }
        }
        folio_buf_puts(sql, " FROM ");
        folio_buf_puts(sql, t->sql);
        struct folio_value params[MAX_PARAMS];
        int next;
        st = where(e, sql, spec, t, from, backward, incl, split, phase, params, &next);
        if (st == FOLIO_OK)
            st = folio_buf_puts(sql, " ORDER BY ");
        if (st == FOLIO_OK)
            st = folio_keyset_order_by(sql, &spec->sort, t->sqls, backward);
        params[next - 1] =
            (struct folio_value){.type = FOLIO_VALUE_INT, .i = spec->per_page + 1 - r->nrows};
        if (st == FOLIO_OK)
            st = folio_buf_printf(sql, " LIMIT %s%d", pfx, next++);
        if (spec->mode == FOLIO_MODE_OFFSET) {
            params[next - 1] = (struct folio_value){
                .type = FOLIO_VALUE_INT, .i = spec->seek ? spec->seek_offset : spec->offset};
            if (st == FOLIO_OK)
                st = folio_buf_printf(sql, " OFFSET %s%d", pfx, next++);
        }
        if (st != FOLIO_OK)
            return folio_error_set(err, st, FOLIO_KIND_INTERNAL, NULL, "cannot build the query");

        st = folio__db_query(e->conn, sql->data, sql->len, params, (size_t)next - 1, on_row, r,
                             err);
        if (st == FOLIO_OK)
            st = folio_json_status(r->j);
        /* The plan after the query: an EXPLAIN that fails (the query would have too) must
         * not abort the page's transaction first. */
        if (st == FOLIO_OK && e->cfg.explain && phase <= 1) {
            folio_buf_reset(&e->plan);
            if (folio__db_explain(e->conn, sql->data, sql->len, params, (size_t)next - 1,
                                  &e->plan) != FOLIO_OK)
                folio_buf_reset(&e->plan); /* no plan is better than a cut one */
        }
        if (st != FOLIO_OK) {
            if (err == NULL || err->status == FOLIO_OK) /* a failed query filled err */
                folio_error_set(err, st, FOLIO_KIND_INTERNAL, NULL, "%s", folio_strerror(st));
            return st;
        }
    }
    int shown = r->nrows > r->per_page ? r->per_page : r->nrows;
    bool extra = r->nrows > r->per_page;
    if (backward) {
        for (int i = shown - 1; i >= 0; i--) {
            size_t start = i == 0 ? 0 : r->row_end[i - 1];
            if (scratch->data[start] == ',') /* the writer's separator, not row content */
                start++;
            folio_json_raw(j, scratch->data + start, r->row_end[i] - start);
        }
    }
    res->shown = shown;
    res->first = res->last = NULL;
    if (shown > 0) {
        const struct folio_keycopy *a = &r->first, *b = shown > 1 ? &r->last : &r->first;
        res->first = backward ? b : a;
        res->last = backward ? a : b;
        if (r->first.overflow || (shown > 1 && r->last.overflow))
            return folio_error_set(err, FOLIO_ELIMIT, FOLIO_KIND_INPUT, "sort",
                                   "the sort key values of this page are too large for a "
                                   "cursor; sort by shorter columns");
    }

    res->has_more = res->has_prev = false;
    if (spec->skip_probes) {
        res->has_more = extra;
        return FOLIO_OK;
    }
    switch (spec->mode) {
    case FOLIO_MODE_FIRST:
        res->has_more = extra;
        break;
    case FOLIO_MODE_OFFSET:
        res->has_more = extra;
        res->has_prev = spec->offset > 0 && shown > 0;
        if (spec->offset > 0 && shown == 0)
            st = probe(e, spec, t, NULL, false, false, &res->has_prev, err);
        break;
    case FOLIO_MODE_AFTER:
        res->has_more = extra;
        st = probe(e, spec, t, spec->cursor.keys, true, !incl, &res->has_prev, err);
        break;
    case FOLIO_MODE_BEFORE:
        res->has_prev = extra;
        st = probe(e, spec, t, spec->cursor.keys, false, !incl, &res->has_more, err);
        break;
    }
    if (st == FOLIO_ETIMEOUT)
        return st; /* err says so */
    if (st != FOLIO_OK)
        return err && err->status ? err->status
                                  : folio_error_set(err, FOLIO_EDB, FOLIO_KIND_INTERNAL, NULL,
                                                    "probe failed");
    return FOLIO_OK;
}

/* --- for walks outside a page (export.c) ------------------------------------------- */

int folio__page_split(const folio_db *db, const struct folio_page_spec *spec,
                      const struct folio_value *keys, bool backward)
{
    return (int)split_of(spec, spec->ep->table, keys, backward,
                         (folio__db_caps(db) & FOLIO_DB_CAP_NULLS_LARGE) != 0);
}

folio_status folio__page_where(const folio_db *db, struct folio_buf *sql,
                               const struct folio_page_spec *spec, const struct folio_value *keys,
                               bool backward, bool inclusive, int split, int phase,
                               struct folio_value *params, int *io_param)
{
    return where_db(db, folio__db_caps(db), sql, spec, spec->ep->table, keys, backward, inclusive,
                 (enum split)split, phase, params, io_param);
}

struct folio__run *folio__run_new(void)
{
    return folio_calloc(1, sizeof(struct folio__run));
}
