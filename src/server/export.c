/* The export engine: see export.h. */
#include "server/export.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/utf8.h"

/* --- the query --------------------------------------------------------------------- */

void folio__export_query_init(struct folio_export_query *q)
{
    memset(q, 0, sizeof *q);
    folio_filter_set_init(&q->filters);
}

void folio__export_query_clear(struct folio_export_query *q)
{
    folio_filter_set_clear(&q->filters);
}

static folio_status once(const char **slot, const struct folio_param *p, struct folio_error *err)
{
    if (*slot != NULL)
        return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, p->key,
                               "parameter '%s' is given more than once", p->key);
    *slot = p->value ? p->value : "";
    return FOLIO_OK;
}

folio_status folio__export_query_parse(struct folio_export_query *q,
                                       const struct folio_endpoint *ep,
                                       const struct folio_param *params, size_t nparams,
                                       const struct folio_keyring *kr, struct folio_error *err)
{
    const char *format = NULL, *snapshot = NULL, *sort = NULL, *fields = NULL, *after = NULL;
    const struct folio_table *t = ep->table;
    folio_status st = FOLIO_OK;
    for (size_t i = 0; i < nparams && st == FOLIO_OK; i++) {
        const struct folio_param *p = &params[i];
        if (strcmp(p->key, "format") == 0)
            st = once(&format, p, err);
        else if (strcmp(p->key, "snapshot") == 0)
            st = once(&snapshot, p, err);
        else if (strcmp(p->key, "sort") == 0)
            st = once(&sort, p, err);
        else if (strcmp(p->key, "fields") == 0)
            st = once(&fields, p, err);
        else if (strcmp(p->key, "after") == 0)
            st = once(&after, p, err);
        else {
            bool filter = false;
            for (size_t c = 0; c < t->ncols && !filter; c++) {
                if (!ep->filterable[c] || strcmp(t->cols[c].name, p->key) != 0)
                    continue;
                filter = true;
                st = folio_filter_add(&q->filters, (int)c, t->cols[c].decl_type, p->key,
                                      p->value, err);
            }
            if (!filter)
                st = folio_error_set(err, FOLIO_EUNKNOWN_PARAM, FOLIO_KIND_INPUT, p->key,
                                     "unknown query parameter '%.64s' (an export takes format, "
                                     "snapshot, sort, fields, after and filters)",
                                     p->key);
        }
    }
    if (st != FOLIO_OK)
        return st;
    q->format = FOLIO_EXPORT_NDJSON;
    if (format != NULL) {
        if (strcmp(format, "csv") == 0)
            q->format = FOLIO_EXPORT_CSV;
        else if (strcmp(format, "json") == 0)
            q->format = FOLIO_EXPORT_JSON;
        else if (strcmp(format, "ndjson") != 0)
            return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, "format",
                                   "format must be ndjson, csv or json");
    }
    q->snapshot = false;
    if (snapshot != NULL) {
        if (strcmp(snapshot, "true") == 0)
            q->snapshot = true;
        else if (strcmp(snapshot, "false") != 0)
            return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, "snapshot",
                                   "snapshot must be true or false");
    }
    if ((st = folio__page_sort(&q->spec, ep, sort, &q->filters, err)) != FOLIO_OK ||
        (st = folio__page_fields(&q->spec, fields, err)) != FOLIO_OK)
        return st;
    q->spec.mode = FOLIO_MODE_FIRST;
    q->after = after != NULL;
    if (after == NULL)
        return FOLIO_OK;
    struct folio_cursor *c = &q->spec.cursor;
    st = folio_cursor_decode(kr, after, strlen(after), (uint64_t)time(NULL), q->spec.fp, c, err);
    if (st == FOLIO_OK && (c->nkeys != q->spec.sort.n || (c->flags & FOLIO_CURSOR_BEFORE)))
        st = folio_error_set(err, FOLIO_ECURSOR_INVALID, FOLIO_KIND_INPUT, "after",
                             "invalid cursor (an export resumes from an after= cursor)");
    if (st != FOLIO_OK && err != NULL)
        snprintf(err->param, sizeof err->param, "after");
    q->spec.mode = FOLIO_MODE_AFTER;
    return st;
}

const char *folio__export_format_name(enum folio_export_format f)
{
    return f == FOLIO_EXPORT_CSV ? "csv" : f == FOLIO_EXPORT_JSON ? "json" : "ndjson";
}

const char *folio__export_content_type(enum folio_export_format f)
{
    switch (f) {
    case FOLIO_EXPORT_CSV: return "text/csv; charset=utf-8; header=present";
    case FOLIO_EXPORT_JSON: return "application/json";
    default: return "application/x-ndjson";
    }
}

/* --- writing values ---------------------------------------------------------------- */

static void put_int(struct folio_buf *b, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    folio_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* The shortest text that reads back as the same double (as folio_json_double). */
static void put_double(struct folio_buf *b, double v)
{
    if (!isfinite(v))
        return; /* CSV: empty, as JSON writes null */
    char tmp[32];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    folio_buf_append(b, tmp, (size_t)n);
}

static void put_base64(struct folio_buf *b, const void *p, size_t len)
{
    size_t need = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    if (folio_buf_reserve(b, need) != FOLIO_OK)
        return;
    sodium_bin2base64(b->data + b->len, need, p, len, sodium_base64_VARIANT_ORIGINAL);
    b->len += need - 1; /* without its NUL */
}

/* One CSV field of text (RFC 4180): quoted when it holds '"', ',', CR or LF, or is empty
 * (so that an empty string differs from NULL, the empty field); invalid UTF-8 becomes
 * U+FFFD, as in JSON. */
static void csv_text(struct folio_buf *b, const char *s, size_t len)
{
    bool quote = len == 0, plain = true;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == ',' || c == '\r' || c == '\n')
            quote = true;
        else if (c >= 0x80)
            plain = false;
    }
    if (!plain)
        plain = folio__utf8_valid(s, len);
    if (!quote && plain) {
        folio_buf_append(b, s, len);
        return;
    }
    if (quote)
        folio_buf_putc(b, '"');
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p != '"' && *p < 0x80)
            p++;
        folio_buf_append(b, run, (size_t)(p - run));
        if (p == end)
            break;
        if (*p == '"') {
            folio_buf_append(b, "\"\"", 2);
            p++;
            continue;
        }
        size_t n = folio__utf8_valid_prefix(p, (size_t)(end - p));
        if (n > 0) {
            folio_buf_append(b, p, n);
            p += n;
        } else {
            folio_buf_append(b, "\xEF\xBF\xBD", 3);
            p += folio__utf8_invalid_len(p, (size_t)(end - p));
        }
    }
    if (quote)
        folio_buf_putc(b, '"');
}

static void csv_value(struct folio_buf *b, const struct folio_value *v)
{
    switch (v->type) {
    case FOLIO_VALUE_NULL: break;
    case FOLIO_VALUE_INT: put_int(b, v->i); break;
    case FOLIO_VALUE_REAL: put_double(b, v->d); break;
    case FOLIO_VALUE_TEXT: csv_text(b, v->s, v->len); break;
    case FOLIO_VALUE_BLOB:
        if (v->len == 0)
            folio_buf_append(b, "\"\"", 2);
        else
            put_base64(b, v->s, v->len);
        break;
    }
}

/* --- the walk ---------------------------------------------------------------------- */

static folio_status token(const struct folio_export *x, const struct folio_value *vals,
                          unsigned flags, char *out, size_t size)
{
    struct folio_cursor c;
    memset(&c, 0, offsetof(struct folio_cursor, keys));
    c.flags = flags;
    c.expires = x->lim.cursor_ttl ? (uint64_t)time(NULL) + x->lim.cursor_ttl + 1 : 0;
    memcpy(c.fingerprint, x->q->spec.fp, sizeof c.fingerprint);
    c.nkeys = x->q->spec.sort.n;
    memcpy(c.keys, vals, c.nkeys * sizeof *vals);
    return folio_cursor_encode(x->kr, &c, out, size, NULL);
}

bool folio__export_cursor(const struct folio_export *x, char *tok, size_t size)
{
    if (x->have_last)
        return token(x, x->last.vals, 0, tok, size) == FOLIO_OK;
    if (x->q->after)
        return token(x, x->q->spec.cursor.keys, x->q->spec.cursor.flags, tok, size) == FOLIO_OK;
    return false;
}

/* A checkpoint line (NDJSON): {"@next":"CURSOR"} or, last, {"@next":..., "@more":b}. */
static void checkpoint(struct folio_export *x, bool last)
{
    char tok[FOLIO_CURSOR_MAX_TOKEN];
    bool have = folio__export_cursor(x, tok, sizeof tok);
    struct folio_buf *b = &x->out;
    folio_buf_puts(b, "{\"@next\":");
    if (have) {
        folio_buf_putc(b, '"');
        folio_buf_puts(b, tok);
        folio_buf_putc(b, '"');
    } else {
        folio_buf_puts(b, "null");
    }
    if (last)
        folio_buf_puts(b, x->more ? ",\"@more\":true" : ",\"@more\":false");
    folio_buf_puts(b, "}\n");
}

static void prologue(struct folio_export *x)
{
    const struct folio_page_spec *spec = &x->q->spec;
    const struct folio_column *cols = spec->ep->table->cols;
    if (x->q->format == FOLIO_EXPORT_JSON) {
        folio_buf_puts(&x->out, "[");
    } else if (x->q->format == FOLIO_EXPORT_CSV) {
        for (size_t f = 0; f < spec->nfields; f++) {
            if (f)
                folio_buf_putc(&x->out, ',');
            const char *name = cols[spec->fields[f]].name;
            csv_text(&x->out, name, strlen(name));
        }
        folio_buf_puts(&x->out, "\r\n");
    }
}

static void epilogue(struct folio_export *x)
{
    if (x->q->format == FOLIO_EXPORT_JSON)
        folio_buf_puts(&x->out, x->rows ? "\n]\n" : "]\n");
    else if (x->q->format == FOLIO_EXPORT_NDJSON)
        checkpoint(x, true);
}

static int on_row(void *ctx, const struct folio_db_row *row)
{
    struct folio_export *x = ctx;
    if (x->cancel != NULL && atomic_load_explicit(x->cancel, memory_order_relaxed)) {
        x->cancelled = true;
        return 1;
    }
    if (x->lim.max_rows > 0 && x->rows == x->lim.max_rows) {
        x->more = true; /* one row past the limit: only its existence matters */
        return 1;
    }
    const struct folio_page_spec *spec = &x->q->spec;
    const struct folio_column *cols = spec->ep->table->cols;
    struct folio_buf *b = &x->out;
    struct folio_value v;
    if (x->q->format == FOLIO_EXPORT_CSV) {
        for (size_t f = 0; f < spec->nfields; f++) {
            if (f)
                folio_buf_putc(b, ',');
            folio__db_row_value(row, f, &v);
            csv_value(b, &v);
        }
        folio_buf_append(b, "\r\n", 2);
    } else {
        if (x->q->format == FOLIO_EXPORT_JSON)
            folio_buf_append(b, x->rows ? ",\n" : "\n", x->rows ? 2 : 1);
        struct folio_json *j = &x->j;
        folio_json_init(j, b);
        folio_json_object_begin(j);
        for (size_t f = 0; f < spec->nfields; f++) {
            folio_json_key(j, cols[spec->fields[f]].name);
            folio__db_row_value(row, f, &v);
            folio__json_value(j, &v);
        }
        folio_json_object_end(j);
        if (x->q->format == FOLIO_EXPORT_NDJSON)
            folio_buf_putc(b, '\n');
    }
    folio__page_keys_copy(&x->last, spec, x->key_pos, row);
    x->have_last = true;
    x->rows++;
    x->batch_n++;
    if (x->q->format == FOLIO_EXPORT_NDJSON && x->lim.checkpoint_every > 0 &&
        x->rows % x->lim.checkpoint_every == 0)
        checkpoint(x, false);
    if (b->len >= x->lim.batch_bytes) {
        x->batch_full = true;
        return 1;
    }
    return folio_buf_status(b) != FOLIO_OK || x->last.overflow;
}

folio_status folio__export_begin(struct folio_export *x, const struct folio_export_query *q,
                                 folio_db_conn *conn, enum folio_param_style style,
                                 const struct folio_keyring *kr,
                                 const struct folio_export_limits *lim, const atomic_bool *cancel,
                                 struct folio_error *err)
{
    memset(x, 0, sizeof *x);
    x->q = q;
    x->kr = kr;
    x->lim = *lim;
    if (x->lim.batch_rows == 0)
        x->lim.batch_rows = 1;
    x->conn = conn;
    x->style = style;
    x->cancel = cancel;
    folio_buf_init(&x->out, lim->max_row_bytes);
    folio_buf_init(&x->sql, 64 * 1024);
    if (q->snapshot) {
        folio_status st = folio__db_begin_read(conn, err);
        if (st != FOLIO_OK)
            return st;
        x->in_read = true;
    }
    return FOLIO_OK;
}

/* The batch query for one phase: shown fields, then sort keys not among them. */
static folio_status build(struct folio_export *x, const struct folio_value *from, bool incl,
                          int split, int phase, int64_t limit, struct folio_value *params,
                          int *out_n)
{
    const struct folio_page_spec *spec = &x->q->spec;
    const struct folio_table *t = spec->ep->table;
    struct folio_buf *sql = &x->sql;
    folio_buf_reset(sql);
    folio_buf_puts(sql, "SELECT ");
    for (size_t f = 0; f < spec->nfields; f++) {
        if (f)
            folio_buf_append(sql, ", ", 2);
        folio_buf_puts(sql, t->sqls[spec->fields[f]]);
    }
    size_t nsel = spec->nfields;
    for (size_t k = 0; k < spec->sort.n; k++) {
        int col = spec->sort.keys[k].column;
        x->key_pos[k] = -1;
        for (size_t f = 0; f < spec->nfields; f++)
            if (spec->fields[f] == col)
                x->key_pos[k] = (int)f;
        if (x->key_pos[k] < 0) {
            if (nsel)
                folio_buf_append(sql, ", ", 2);
            folio_buf_puts(sql, t->sqls[col]);
            x->key_pos[k] = (int)nsel++;
        }
    }
    folio_buf_puts(sql, " FROM ");
    folio_buf_puts(sql, t->sql);
    int next;
    folio_status st =
        folio__page_where(x->conn->db, sql, spec, from, false, incl, split, phase, params, &next);
    if (st == FOLIO_OK)
        st = folio_buf_puts(sql, " ORDER BY ");
    if (st == FOLIO_OK)
        st = folio_keyset_order_by(sql, &spec->sort, t->sqls, false);
    params[next - 1] = (struct folio_value){.type = FOLIO_VALUE_INT, .i = limit};
    if (st == FOLIO_OK)
        st = folio_buf_printf(sql, " LIMIT %s%d", x->style == FOLIO_PARAM_DOLLAR ? "$" : "?",
                              next);
    *out_n = next;
    return st == FOLIO_OK ? folio_buf_status(sql) : st;
}

folio_status folio__export_step(struct folio_export *x, struct folio_error *err)
{
    if (x->done)
        return FOLIO_OK;
    if (!x->started) {
        prologue(x);
        x->started = true;
    }
    const struct folio_export_query *q = x->q;
    /* The boundary is bound to the batch's query while its rows overwrite x->last: the
     * query gets a copy (TEXT and BLOB keys point into the copy's own bytes). */
    if (x->have_last) {
        x->from = x->last;
        for (size_t i = 0; i < x->from.n; i++)
            if (x->from.vals[i].type == FOLIO_VALUE_TEXT || x->from.vals[i].type == FOLIO_VALUE_BLOB)
                x->from.vals[i].s = (const char *)x->from.bytes +
                                    ((const unsigned char *)x->last.vals[i].s - x->last.bytes);
    }
    const struct folio_value *from =
        x->have_last ? x->from.vals : q->after ? q->spec.cursor.keys : NULL;
    bool incl = !x->have_last && q->after && (q->spec.cursor.flags & FOLIO_CURSOR_INCLUSIVE);
    int split = from != NULL ? folio__page_split(x->conn->db, &q->spec, from, false) : 0;
    int64_t want = x->lim.batch_rows;
    if (x->lim.max_rows > 0 && x->lim.max_rows - x->rows + 1 < want)
        want = x->lim.max_rows - x->rows + 1;
    x->batch_n = 0;
    x->batch_full = false;
    folio_status st = FOLIO_OK;
    for (int phase = split ? 1 : 0; phase <= (split ? 2 : 0); phase++) {
        struct folio_value params[FOLIO_PAGE_MAX_PARAMS];
        int n;
        if ((st = build(x, from, incl, split, phase, want - x->batch_n, params, &n)) != FOLIO_OK)
            return folio_error_set(err, st, FOLIO_KIND_INTERNAL, NULL, "cannot build the query");
        if (x->lim.query_timeout_ms)
            folio__db_deadline(x->conn, folio__db_now_ms() + x->lim.query_timeout_ms);
        st = folio__db_query(x->conn, x->sql.data, x->sql.len, params, (size_t)n, on_row, x, err);
        folio__db_deadline(x->conn, 0);
        if (st == FOLIO_OK && folio_buf_status(&x->out) != FOLIO_OK)
            st = folio_error_set(err, folio_buf_status(&x->out), FOLIO_KIND_INTERNAL, NULL,
                                 "a row is larger than the export's buffer");
        if (st == FOLIO_OK && x->last.overflow)
            st = folio_error_set(err, FOLIO_ELIMIT, FOLIO_KIND_INPUT, "sort",
                                 "sort key values too large for a cursor; sort by shorter "
                                 "columns");
        if (st != FOLIO_OK)
            return st;
        if (x->cancelled || x->more || x->batch_full || x->batch_n >= want)
            break;
    }
    if (x->cancelled)
        return FOLIO_OK;
    if (x->more || (!x->batch_full && x->batch_n < want)) {
        epilogue(x);
        x->done = true;
        if (x->in_read)
            folio__db_end_read(x->conn);
        x->in_read = false;
        if (folio_buf_status(&x->out) != FOLIO_OK)
            return folio_error_set(err, folio_buf_status(&x->out), FOLIO_KIND_INTERNAL, NULL,
                                   "out of memory");
    }
    return FOLIO_OK;
}

void folio__export_end(struct folio_export *x)
{
    if (x->in_read)
        folio__db_end_read(x->conn);
    x->in_read = false;
    folio_buf_clear(&x->out);
    folio_buf_clear(&x->sql);
}
