/* GET /api/{table}: offset and keyset pages over one table. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/http.h"
#include "server/server.h"

#define MAX_PER_PAGE_HARD 10000

/* Sort-key values of one row, copied out of the database's row memory (which is only
 * valid during the row callback) into fixed storage: no allocation per row. */
struct keycopy {
    size_t n;
    bool overflow;
    struct folio_value vals[FOLIO_SORT_MAX];
    unsigned char bytes[FOLIO_CURSOR_MAX_BYTES / 2];
};

struct page {
    struct folio_http *h;
    const struct folio_table *t;
    const struct folio_sort *sort;
    struct folio_json *j;
    struct folio_buf *rows; /* where row JSON goes: the body, or scratch when backward */
    int per_page;
    int nrows; /* rows received, including the one extra */
    bool backward;
    size_t row_end[MAX_PER_PAGE_HARD + 1]; /* backward: end offset of each row in scratch */
    struct keycopy first, last; /* in arrival order */
};

static void keys_copy(struct keycopy *k, const struct folio_sort *sort,
                      const struct folio_db_row *row)
{
    size_t used = 0;
    k->n = sort->n;
    k->overflow = false;
    for (size_t i = 0; i < sort->n; i++) {
        struct folio_value v;
        folio_db_row_value(row, (size_t)sort->keys[i].column, &v);
        if (v.type == FOLIO_VALUE_TEXT || v.type == FOLIO_VALUE_BLOB) {
            if (v.len > sizeof k->bytes - used) {
                k->overflow = true;
                v.len = 0;
            }
            memcpy(k->bytes + used, v.s, v.len);
            v.s = (const char *)k->bytes + used;
            used += v.len;
        }
        k->vals[i] = v;
    }
}

static void write_value(struct folio_json *j, const struct folio_value *v)
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
    struct page *p = ctx;
    if (p->nrows == p->per_page) {
        p->nrows++; /* the extra row: only its existence matters */
        return 1;
    }
    struct folio_json *j = p->j;
    folio_json_object_begin(j);
    for (size_t c = 0; c < p->t->ncols; c++) {
        struct folio_value v;
        folio_json_key(j, p->t->cols[c].name);
        folio_db_row_value(row, c, &v);
        write_value(j, &v);
    }
    folio_json_object_end(j);
    if (p->backward)
        p->row_end[p->nrows] = p->rows->len;
    keys_copy(p->nrows == 0 ? &p->first : &p->last, p->sort, row);
    p->nrows++;
    return folio_json_status(j) != FOLIO_OK;
}

static int one_row(void *ctx, const struct folio_db_row *row)
{
    (void)row;
    *(bool *)ctx = true;
    return 1;
}

struct query {
    struct folio_http *h;
    const struct folio_table *t;
    const struct folio_sort *sort;
    const char **colsql;
    bool *not_null;
};

/* Does any row lie on the given side of the boundary? One indexed probe. */
static folio_status probe(struct query *q, const struct folio_value *vals, bool backward,
                          bool inclusive, bool *out)
{
    struct folio_buf *sql = &q->h->w->sql;
    folio_buf_reset(sql);
    folio_buf_printf(sql, "SELECT 1 FROM %s WHERE ", q->t->sql);
    struct folio_keyset_spec ks = {q->sort, q->colsql, q->not_null, vals, backward, inclusive,
                                   1, folio_db_param_style(q->h->srv->db)};
    folio_status st = folio_keyset_where(sql, &ks);
    if (st == FOLIO_OK)
        st = folio_buf_puts(sql, " LIMIT 1");
    if (st != FOLIO_OK)
        return st;
    *out = false;
    return folio_db_query(q->h->w->conn, sql->data, sql->len, vals, q->sort->n, one_row, out,
                          NULL);
}

/* Links are NUL-separated strings in the worker's links buffer. */
static size_t link_begin(struct folio_buf *b, const char *base, size_t base_len)
{
    size_t off = b->len;
    folio_buf_append(b, base, base_len);
    return off;
}

static size_t link_end(struct folio_buf *b, size_t off)
{
    folio_buf_putc(b, '\0');
    return off;
}

static folio_status token_for(struct folio_http *h, const struct folio_value *vals, size_t n,
                              unsigned flags, const uint8_t *fp, char *out, size_t out_size)
{
    struct folio_cursor c;
    c.flags = flags;
    c.expires = h->srv->cfg.cursor_ttl ? (uint64_t)time(NULL) + h->srv->cfg.cursor_ttl : 0;
    memcpy(c.fingerprint, fp, FOLIO_CURSOR_FINGERPRINT_BYTES);
    c.nkeys = n;
    memcpy(c.keys, vals, n * sizeof *vals);
    return folio_cursor_encode(&h->srv->keyring, &c, out, out_size, NULL);
}

enum { L_SELF, L_FIRST, L_NEXT, L_PREV, L_COUNT };
static const char *const link_rel[L_COUNT] = {"self", "first", "next", "prev"};

void folio_handle_api(struct folio_http *h, const char *table_name)
{
    struct folio_server *srv = h->srv;
    const struct folio_table *t = folio_db_table(srv->db, table_name);
    struct folio_error err = {0};
    if (t == NULL) {
        folio_problem(h, 404, "unknown-table", "Unknown table", "no table of that name is served",
                      NULL);
        return;
    }

    struct folio_request rq;
    struct folio_request_limits lim = {srv->cfg.default_per_page, srv->cfg.max_per_page};
    if (folio_request_parse(&rq, h->params, h->nparams, &lim, NULL, NULL, &err) != FOLIO_OK) {
        folio_problem_from_error(h, &err);
        return;
    }

    /* Sort over the visible columns, then the unique tiebreaker. */
    const char *names[1024];
    const char *colsql[1024];
    bool not_null[1024];
    size_t ncols_all = t->ncols_all < 1024 ? t->ncols_all : 1024;
    for (size_t c = 0; c < ncols_all; c++) {
        names[c] = t->cols[c].name;
        colsql[c] = t->cols[c].sql;
        not_null[c] = t->cols[c].not_null;
    }
    struct folio_sort sort = {0};
    if (rq.sort != NULL &&
        folio_sort_parse(&sort, rq.sort, names, t->ncols, &err) != FOLIO_OK) {
        folio_problem_from_error(h, &err);
        return;
    }
    for (size_t i = 0; i < t->npk; i++)
        if (folio_sort_append(&sort, t->pk[i]) != FOLIO_OK) {
            folio_problem(h, 400, "invalid-parameter", "Invalid parameter",
                          "sort has too many columns", "sort");
            return;
        }

    /* The query fingerprint: table and canonical sort (filters join it later). */
    struct folio_buf *scratch = &h->w->scratch;
    folio_buf_reset(scratch);
    folio_buf_append(scratch, t->name, strlen(t->name) + 1);
    folio_sort_format(scratch, &sort, names);
    uint8_t fp[FOLIO_CURSOR_FINGERPRINT_BYTES];
    folio_cursor_fingerprint(scratch->data, scratch->len, fp);

    /* An incoming cursor. */
    struct folio_cursor cur;
    bool backward = rq.mode == FOLIO_MODE_BEFORE;
    if (rq.mode == FOLIO_MODE_AFTER || rq.mode == FOLIO_MODE_BEFORE) {
        const char *pname = backward ? "before" : "after";
        folio_status st = folio_cursor_decode(&srv->keyring, rq.cursor, strlen(rq.cursor),
                                              (uint64_t)time(NULL), fp, &cur, &err);
        if (st == FOLIO_OK && cur.nkeys != sort.n)
            st = folio_error_set(&err, FOLIO_ECURSOR_INVALID, 400, pname, "invalid cursor");
        if (st == FOLIO_OK && ((cur.flags & FOLIO_CURSOR_BEFORE) != 0) != backward)
            st = folio_error_set(&err, FOLIO_ECURSOR_INVALID, 400, pname,
                                 "this cursor was issued for '%s', not '%s'",
                                 backward ? "after" : "before", pname);
        if (st != FOLIO_OK) {
            snprintf(err.param, sizeof err.param, "%s", pname);
            folio_problem_from_error(h, &err);
            return;
        }
    }

    /* Build the page query. Parameters: ?1..?n the cursor keys, then limit and offset. */
    struct folio_buf *sql = &h->w->sql;
    folio_buf_reset(sql);
    folio_buf_puts(sql, "SELECT ");
    for (size_t c = 0; c < ncols_all; c++)
        folio_buf_printf(sql, "%s%s", c ? ", " : "", colsql[c]);
    folio_buf_printf(sql, " FROM %s", t->sql);
    struct folio_value params[FOLIO_SORT_MAX + 2];
    size_t nparams = sort.n;
    memset(params, 0, sizeof params);
    if (rq.mode == FOLIO_MODE_AFTER || rq.mode == FOLIO_MODE_BEFORE) {
        folio_buf_puts(sql, " WHERE ");
        struct folio_keyset_spec ks = {&sort, colsql, not_null, cur.keys, backward,
                                       (cur.flags & FOLIO_CURSOR_INCLUSIVE) != 0, 1,
                                       folio_db_param_style(srv->db)};
        folio_keyset_where(sql, &ks);
        memcpy(params, cur.keys, sort.n * sizeof *params);
    }
    folio_buf_puts(sql, " ORDER BY ");
    folio_keyset_order_by(sql, &sort, colsql, backward);
    params[nparams++] = (struct folio_value){.type = FOLIO_VALUE_INT, .i = rq.per_page + 1};
    folio_buf_printf(sql, " LIMIT ?%zu", nparams);
    if (rq.mode == FOLIO_MODE_OFFSET) {
        params[nparams++] = (struct folio_value){.type = FOLIO_VALUE_INT, .i = rq.offset};
        folio_buf_printf(sql, " OFFSET ?%zu", nparams);
    }

    /* Run it, writing rows straight into the body (or scratch, to reverse them). */
    struct folio_buf *body = &h->w->body;
    folio_buf_reset(body);
    folio_buf_reset(scratch);
    struct folio_json j;
    static _Thread_local struct page p;
    p.h = h;
    p.t = t;
    p.sort = &sort;
    p.per_page = rq.per_page;
    p.nrows = 0;
    p.backward = backward;
    p.rows = backward ? scratch : body;
    p.j = &j;
    folio_json_init(&j, p.rows);
    if (!backward) {
        folio_json_object_begin(&j);
        folio_json_key(&j, "data");
        folio_json_array_begin(&j);
    }
    folio_status st = folio_db_query(h->w->conn, sql->data, sql->len, params, nparams, on_row,
                                     &p, &err);
    if (st == FOLIO_OK)
        st = folio_json_status(&j);
    if (st != FOLIO_OK) {
        if (st != FOLIO_EDB)
            folio_error_set(&err, st, 500, NULL, "%s", folio_strerror(st));
        folio_problem_from_error(h, &err);
        return;
    }
    if (srv->cfg.debug_plan) {
        struct folio_buf plan;
        folio_buf_init(&plan, 64 * 1024);
        if (folio_db_explain(h->w->conn, sql->data, sql->len, &plan) == FOLIO_OK && plan.data)
            folio_http_header_add(h, "X-Folio-Plan", plan.data);
        folio_buf_clear(&plan);
    }
    int shown = p.nrows > p.per_page ? p.per_page : p.nrows;
    bool extra = p.nrows > p.per_page;
    /* In output order: the first and last rows' keys. */
    const struct keycopy *k_first = backward ? (shown > 1 ? &p.last : &p.first) : &p.first;
    const struct keycopy *k_last = backward ? &p.first : (shown > 1 ? &p.last : &p.first);

    if (backward) {
        folio_json_init(&j, body);
        folio_json_object_begin(&j);
        folio_json_key(&j, "data");
        folio_json_array_begin(&j);
        for (int i = shown - 1; i >= 0; i--) {
            size_t start = i == 0 ? 0 : p.row_end[i - 1];
            /* Each stored row starts with a comma except the first one written. */
            if (scratch->data[start] == ',')
                start++;
            folio_json_raw(&j, scratch->data + start, p.row_end[i] - start);
        }
    }
    folio_json_array_end(&j);

    /* has_more / has_prev. */
    struct query q = {h, t, &sort, colsql, not_null};
    bool has_more = false, has_prev = false;
    bool incl = rq.mode == FOLIO_MODE_AFTER || rq.mode == FOLIO_MODE_BEFORE
                    ? (cur.flags & FOLIO_CURSOR_INCLUSIVE) != 0
                    : false;
    switch (rq.mode) {
    case FOLIO_MODE_FIRST:
        has_more = extra;
        break;
    case FOLIO_MODE_OFFSET:
        has_more = extra;
        has_prev = rq.offset > 0 && shown > 0;
        if (rq.offset > 0 && shown == 0) {
            static const char any[] = "SELECT 1 FROM ";
            folio_buf_reset(sql);
            folio_buf_printf(sql, "%s%s LIMIT 1", any, t->sql);
            st = folio_db_query(h->w->conn, sql->data, sql->len, NULL, 0, one_row, &has_prev,
                                NULL);
        }
        break;
    case FOLIO_MODE_AFTER:
        has_more = extra;
        st = probe(&q, cur.keys, true, !incl, &has_prev);
        break;
    case FOLIO_MODE_BEFORE:
        has_prev = extra;
        st = probe(&q, cur.keys, false, !incl, &has_more);
        break;
    }
    if (st == FOLIO_OK && (p.first.overflow || p.last.overflow))
        st = folio_error_set(&err, FOLIO_ELIMIT, 400, "sort",
                             "the sort key values of this page are too large for a cursor; "
                             "sort by shorter columns");
    if (st != FOLIO_OK) {
        if (err.status == FOLIO_OK)
            folio_error_set(&err, st, 500, NULL, "probe failed");
        folio_problem_from_error(h, &err);
        return;
    }

    /* Links. */
    struct folio_buf *lb = &h->w->links;
    folio_buf_reset(lb);
    size_t off[L_COUNT];
    bool present[L_COUNT] = {true, true, false, false};
    size_t base_start = lb->len;
    folio_buf_puts(lb, "/api/");
    folio_url_encode(lb, t->name, strlen(t->name));
    folio_buf_printf(lb, "?per_page=%d", rq.per_page);
    if (rq.sort != NULL) {
        folio_buf_puts(lb, "&sort=");
        folio_buf_reset(scratch);
        folio_sort_format(scratch, &sort, names);
        folio_url_encode(lb, scratch->data, scratch->len);
    }
    size_t base_len = lb->len - base_start;
    folio_buf_putc(lb, '\0');
    /* The base is copied for each link, so keep it apart from the growing buffer. */
    char base[2048];
    if (base_len >= sizeof base) {
        folio_problem(h, 400, "invalid-parameter", NULL, "sort is too long", "sort");
        return;
    }
    memcpy(base, lb->data + base_start, base_len + 1);

    off[L_FIRST] = link_end(lb, link_begin(lb, base, base_len));
    off[L_SELF] = link_begin(lb, base, base_len);
    if (rq.mode == FOLIO_MODE_OFFSET) {
        if (rq.page)
            folio_buf_printf(lb, "&page=%lld", (long long)rq.page);
        else
            folio_buf_printf(lb, "&offset=%lld", (long long)rq.offset);
    } else if (rq.mode != FOLIO_MODE_FIRST) {
        folio_buf_puts(lb, backward ? "&before=" : "&after=");
        folio_url_encode(lb, rq.cursor, strlen(rq.cursor));
    }
    link_end(lb, off[L_SELF]);

    char tok[FOLIO_CURSOR_MAX_TOKEN];
    if (rq.mode == FOLIO_MODE_OFFSET) {
        if (has_more) {
            present[L_NEXT] = true;
            off[L_NEXT] = link_begin(lb, base, base_len);
            if (rq.page)
                folio_buf_printf(lb, "&page=%lld", (long long)rq.page + 1);
            else
                folio_buf_printf(lb, "&offset=%lld", (long long)rq.offset + rq.per_page);
            link_end(lb, off[L_NEXT]);
        }
        if (has_prev) {
            present[L_PREV] = true;
            off[L_PREV] = link_begin(lb, base, base_len);
            if (rq.page)
                folio_buf_printf(lb, "&page=%lld", (long long)rq.page - 1);
            else
                folio_buf_printf(lb, "&offset=%lld",
                                 (long long)(rq.offset > rq.per_page ? rq.offset - rq.per_page
                                                                     : 0));
            link_end(lb, off[L_PREV]);
        }
    } else {
        for (int which = L_NEXT; which <= L_PREV; which++) {
            bool want = which == L_NEXT ? has_more : has_prev;
            if (!want)
                continue;
            const struct folio_value *vals;
            unsigned flags = which == L_PREV ? FOLIO_CURSOR_BEFORE : 0;
            if (shown > 0) {
                vals = which == L_NEXT ? k_last->vals : k_first->vals;
            } else {
                /* An empty page: continue from the incoming position, on its other side. */
                vals = cur.keys;
                if (!incl)
                    flags |= FOLIO_CURSOR_INCLUSIVE;
            }
            st = token_for(h, vals, sort.n, flags, fp, tok, sizeof tok);
            if (st != FOLIO_OK) {
                folio_problem(h, 500, "internal", NULL, NULL, NULL);
                return;
            }
            present[which] = true;
            off[which] = link_begin(lb, base, base_len);
            folio_buf_puts(lb, which == L_NEXT ? "&after=" : "&before=");
            folio_buf_puts(lb, tok);
            link_end(lb, off[which]);
        }
    }

    /* meta and links. */
    folio_json_key(&j, "meta");
    folio_json_object_begin(&j);
    folio_json_key(&j, "per_page");
    folio_json_int(&j, rq.per_page);
    if (rq.mode == FOLIO_MODE_OFFSET) {
        folio_json_key(&j, "page");
        folio_json_int(&j, rq.page ? rq.page : rq.offset / rq.per_page + 1);
        folio_json_key(&j, "offset");
        folio_json_int(&j, rq.offset);
    }
    folio_json_key(&j, "has_more");
    folio_json_bool(&j, has_more);
    folio_json_key(&j, "has_prev");
    folio_json_bool(&j, has_prev);
    folio_json_object_end(&j);
    folio_json_key(&j, "links");
    folio_json_object_begin(&j);
    struct folio_link links[L_COUNT];
    for (int i = 0; i < L_COUNT; i++) {
        folio_json_key(&j, link_rel[i]);
        if (present[i])
            folio_json_string(&j, lb->data + off[i]);
        else
            folio_json_null(&j);
        links[i] = (struct folio_link){link_rel[i], present[i] ? lb->data + off[i] : NULL};
    }
    folio_json_object_end(&j);
    folio_json_object_end(&j);
    if (folio_json_status(&j) != FOLIO_OK || lb->data == NULL) {
        folio_problem(h, 500, "internal", NULL, NULL, NULL);
        return;
    }

    folio_buf_reset(scratch);
    if (folio_link_header_write(scratch, links, L_COUNT) == FOLIO_OK && scratch->len > 0)
        folio_http_header_add(h, "Link", scratch->data);
    h->status = 200;
    h->content_type = "application/json";
}
