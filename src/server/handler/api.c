/* folio's own response style: {"data": [...], "meta": {...}, "links": {...}} with an
 * RFC 8288 Link header. Offset and keyset pages, filters, fields. */
#include <stdio.h>
#include <string.h>

#include "server/page.h"
#include "server/server.h"

/* Unknown parameters are filters when they name a filterable column; `fields` too. */
struct accept_ctx {
    const struct folio_endpoint *ep;
    struct folio_filter_set *filters;
    const char *fields;
};

static folio_status accept_param(void *vctx, const struct folio_param *p,
                                 struct folio_error *err)
{
    struct accept_ctx *a = vctx;
    if (strcmp(p->key, "fields") == 0) {
        if (a->fields != NULL)
            return folio_error_set(err, FOLIO_EPARAM, 400, "fields",
                                   "parameter 'fields' is given more than once");
        a->fields = p->value ? p->value : "";
        return FOLIO_OK;
    }
    const struct folio_table *t = a->ep->table;
    for (size_t c = 0; c < t->ncols; c++)
        if (a->ep->filterable[c] && strcmp(t->cols[c].name, p->key) == 0)
            return folio_filter_add(a->filters, (int)c, t->cols[c].decl_type, p->key, p->value,
                                    err);
    return FOLIO_EUNKNOWN_PARAM;
}

enum { L_SELF, L_FIRST, L_NEXT, L_PREV, L_COUNT };
static const char *const link_rel[L_COUNT] = {"self", "first", "next", "prev"};

/* Append the query string every link of this request shares: per_page, sort, filters,
 * fields, in a canonical order. */
static void link_base(struct folio_buf *b, struct folio_http *h,
                      const struct folio_page_spec *spec, const char *fields)
{
    const struct folio_endpoint *ep = spec->ep;
    folio_buf_puts(b, ep->path);
    folio_buf_printf(b, "?per_page=%d", spec->per_page);
    if (spec->sort_given) {
        const char *names[FOLIO_PAGE_MAX_SELECT + 1];
        for (size_t c = 0; c < ep->table->ncols_all && c <= FOLIO_PAGE_MAX_SELECT; c++)
            names[c] = ep->table->cols[c].name;
        struct folio_buf s;
        folio_buf_init(&s, 16 * 1024);
        folio_sort_format(&s, &spec->sort, names);
        folio_buf_puts(b, "&sort=");
        if (s.data)
            folio_url_encode(b, s.data, s.len);
        folio_buf_clear(&s);
    }
    /* Filters and fields are repeated exactly as the client gave them. */
    for (size_t i = 0; i < h->nparams; i++) {
        const struct folio_param *p = &h->params[i];
        bool is_fields = fields != NULL && strcmp(p->key, "fields") == 0;
        bool is_filter = false;
        for (size_t c = 0; c < ep->table->ncols && !is_filter; c++)
            is_filter = ep->filterable[c] && strcmp(ep->table->cols[c].name, p->key) == 0;
        if (!is_fields && !is_filter)
            continue;
        folio_buf_putc(b, '&');
        folio_url_encode(b, p->key, strlen(p->key));
        folio_buf_putc(b, '=');
        if (p->value)
            folio_url_encode(b, p->value, strlen(p->value));
    }
}

void folio_handle_api(struct folio_http *h, const struct folio_endpoint *ep)
{
    struct folio_server *srv = h->srv;
    struct folio_error err = {0};
    static _Thread_local struct folio_filter_set filters;
    static _Thread_local struct folio_page_spec spec;
    static _Thread_local bool filters_ready;
    if (!filters_ready) {
        folio_filter_set_init(&filters);
        filters_ready = true;
    }
    filters.n = filters.nvalues = 0;
    folio_buf_reset(&filters.text);

    struct folio_request rq;
    struct folio_request_limits lim = {ep->default_per_page, ep->max_per_page};
    struct accept_ctx actx = {ep, &filters, NULL};
    if (folio_request_parse(&rq, h->params, h->nparams, &lim, accept_param, &actx, &err) !=
            FOLIO_OK ||
        folio_page_sort(&spec, ep, rq.sort, &filters, &err) != FOLIO_OK ||
        folio_page_fields(&spec, actx.fields, &err) != FOLIO_OK) {
        folio_problem_from_error(h, &err);
        return;
    }
    if (rq.mode == FOLIO_MODE_OFFSET && !(ep->modes & FOLIO_ALLOW_OFFSET)) {
        folio_problem(h, 400, "mode-not-allowed", "Mode not allowed",
                      "this endpoint serves cursor pages only; follow the links",
                      rq.page ? "page" : "offset");
        return;
    }
    if ((rq.mode == FOLIO_MODE_AFTER || rq.mode == FOLIO_MODE_BEFORE) &&
        !(ep->modes & FOLIO_ALLOW_KEYSET)) {
        folio_problem(h, 400, "mode-not-allowed", "Mode not allowed",
                      "this endpoint serves numbered pages only; use page or offset",
                      rq.mode == FOLIO_MODE_AFTER ? "after" : "before");
        return;
    }
    spec.mode = rq.mode;
    spec.per_page = rq.per_page;
    spec.offset = rq.offset;
    bool keyset = rq.mode == FOLIO_MODE_AFTER || rq.mode == FOLIO_MODE_BEFORE;
    bool backward = rq.mode == FOLIO_MODE_BEFORE;
    if (keyset && folio_page_cursor(&spec, h, rq.cursor, backward, backward ? "before" : "after",
                                    &err) != FOLIO_OK) {
        folio_problem_from_error(h, &err);
        return;
    }

    struct folio_buf *body = &h->w->body;
    folio_buf_reset(body);
    struct folio_json j;
    folio_json_init(&j, body);
    folio_json_object_begin(&j);
    folio_json_key(&j, "data");
    folio_json_array_begin(&j);
    struct folio_page_result res;
    if (folio_page_run(h, &spec, &j, &res, &err) != FOLIO_OK) {
        folio_problem_from_error(h, &err);
        return;
    }
    folio_json_array_end(&j);

    /* Links. */
    struct folio_buf *lb = &h->w->links;
    folio_buf_reset(lb);
    link_base(lb, h, &spec, actx.fields);
    size_t base_len = lb->len;
    folio_buf_putc(lb, '\0');
    size_t off[L_COUNT] = {0};
    bool present[L_COUNT] = {true, true, false, false};
    off[L_FIRST] = 0;
#define LINK_START(which)                                                                  \
    do {                                                                                   \
        off[which] = lb->len;                                                              \
        /* reserve first: appending the buffer's own bytes must not race a realloc */      \
        if (folio_buf_reserve(lb, base_len) == FOLIO_OK)                                   \
            folio_buf_append(lb, lb->data, base_len);                                      \
    } while (0)
    LINK_START(L_SELF);
    if (rq.mode == FOLIO_MODE_OFFSET) {
        if (rq.page)
            folio_buf_printf(lb, "&page=%lld", (long long)rq.page);
        else
            folio_buf_printf(lb, "&offset=%lld", (long long)rq.offset);
    } else if (keyset) {
        folio_buf_puts(lb, backward ? "&before=" : "&after=");
        folio_url_encode(lb, rq.cursor, strlen(rq.cursor));
    }
    folio_buf_putc(lb, '\0');

    bool incl = keyset && (spec.cursor.flags & FOLIO_CURSOR_INCLUSIVE) != 0;
    char tok[FOLIO_CURSOR_MAX_TOKEN];
    for (int which = L_NEXT; which <= L_PREV; which++) {
        if (!(which == L_NEXT ? res.has_more : res.has_prev))
            continue;
        present[which] = true;
        LINK_START(which);
        if (rq.mode == FOLIO_MODE_OFFSET) {
            int64_t step = which == L_NEXT ? rq.per_page : -rq.per_page;
            if (rq.page)
                folio_buf_printf(lb, "&page=%lld", (long long)(rq.page + (step > 0 ? 1 : -1)));
            else
                folio_buf_printf(lb, "&offset=%lld",
                                 (long long)(rq.offset + step > 0 ? rq.offset + step : 0));
        } else {
            const struct folio_value *vals;
            unsigned flags = which == L_PREV ? FOLIO_CURSOR_BEFORE : 0;
            if (res.shown > 0) {
                vals = which == L_NEXT ? res.last->vals : res.first->vals;
            } else {
                /* An empty page: continue from the incoming position, on its other side. */
                vals = spec.cursor.keys;
                if (!incl)
                    flags |= FOLIO_CURSOR_INCLUSIVE;
            }
            if (folio_page_token(h, &spec, vals, flags, tok, sizeof tok) != FOLIO_OK) {
                folio_problem(h, 500, "internal", NULL, NULL, NULL);
                return;
            }
            folio_buf_puts(lb, which == L_NEXT ? "&after=" : "&before=");
            folio_buf_puts(lb, tok);
        }
        folio_buf_putc(lb, '\0');
    }
#undef LINK_START

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
    folio_json_bool(&j, res.has_more);
    folio_json_key(&j, "has_prev");
    folio_json_bool(&j, res.has_prev);
    folio_json_object_end(&j);
    folio_json_key(&j, "links");
    folio_json_object_begin(&j);
    struct folio_link links[L_COUNT];
    for (int i = 0; i < L_COUNT; i++) {
        const char *url = present[i] && lb->data ? lb->data + off[i] : NULL;
        folio_json_key(&j, link_rel[i]);
        if (url)
            folio_json_string(&j, url);
        else
            folio_json_null(&j);
        links[i] = (struct folio_link){link_rel[i], url};
    }
    folio_json_object_end(&j);
    folio_json_object_end(&j);
    if (folio_json_status(&j) != FOLIO_OK) {
        struct folio_error e = {folio_json_status(&j), 500, "", "response too large"};
        folio_problem_from_error(h, &e);
        return;
    }
    struct folio_buf *scratch = &h->w->scratch;
    folio_buf_reset(scratch);
    if (folio_link_header_write(scratch, links, L_COUNT) == FOLIO_OK && scratch->data)
        folio_http_header_add(h, "Link", scratch->data);
    (void)srv;
    h->status = 200;
    h->content_type = "application/json";
}
