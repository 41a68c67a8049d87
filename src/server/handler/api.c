/* folio's own response style: {"data": [...], "meta": {...}, "links": {...}} with an
 * RFC 8288 Link header. Offset and keyset pages, filters, fields. */
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "server/prefer.h"
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
            return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, "fields",
                                   "parameter 'fields' is given more than once");
        a->fields = p->value ? p->value : "";
        return FOLIO_OK;
    }
    const struct folio_table *t = a->ep->table;
    for (size_t c = 0; c < t->ncols; c++)
        if (a->ep->filterable[c] && strcmp(t->cols[c].name, p->key) == 0)
            return folio_filter_add_typed(a->filters, (int)c, t->cols[c].affinity, p->key,
                                          p->value, err);
    return FOLIO_EUNKNOWN_PARAM;
}

enum { L_SELF, L_FIRST, L_NEXT, L_PREV, L_LAST, L_COUNT };
static const char *const link_rel[L_COUNT] = {"self", "first", "next", "prev", "last"};

/* Append the query string every link of this request shares: per_page, sort, filters,
 * fields, in a canonical order. */
static void link_base(struct folio_buf *b, struct folio_http *h,
                      const struct folio_page_spec *spec, const char *fields)
{
    const struct folio_endpoint *ep = spec->ep;
    folio_buf_puts(b, ep->url);
    folio_buf_printf(b, "?per_page=%d", spec->per_page);
    if (spec->sort_given) {
        struct folio_buf s;
        folio_buf_init(&s, 16 * 1024);
        /* Only the keys the request named: the tiebreaker folio appended is implied (and
         * may be a column clients cannot name: the hidden rowid, or a key that is not
         * sortable on this endpoint). */
        struct folio_sort shown = {0};
        for (size_t k = 0; k < spec->nsort_given; k++)
            if ((size_t)spec->sort.keys[k].column < ep->table->ncols)
                shown.keys[shown.n++] = spec->sort.keys[k];
        folio_sort_format(&s, &shown, ep->table->names);
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

/* The page's links, NUL-separated in the worker's links buffer. */
struct page_links {
    size_t off[L_COUNT];
    bool present[L_COUNT];
};

/* Start a link: a copy of the shared base (the first `base_len` bytes of the buffer). */
static void link_start(struct folio_buf *lb, struct page_links *pl, int which, size_t base_len)
{
    pl->off[which] = lb->len;
    pl->present[which] = true;
    /* reserve first: appending the buffer's own bytes must not race a realloc */
    if (folio_buf_reserve(lb, base_len) == FOLIO_OK)
        folio_buf_append(lb, lb->data, base_len);
}

/* self, first, next, prev and (with an exact total, `pages` > 0, in offset mode) last. */
static folio_status build_links(struct folio_http *h, const struct folio_page_spec *spec,
                                const struct folio_request *rq,
                                const struct folio_page_result *res, int64_t pages,
                                const char *fields, struct page_links *pl)
{
    bool keyset = rq->mode == FOLIO_MODE_AFTER || rq->mode == FOLIO_MODE_BEFORE;
    bool backward = rq->mode == FOLIO_MODE_BEFORE;
    struct folio_buf *lb = &h->w->links;
    memset(pl, 0, sizeof *pl);
    folio_buf_reset(lb);
    link_base(lb, h, spec, fields);
    size_t base_len = lb->len;
    folio_buf_putc(lb, '\0');
    pl->present[L_FIRST] = true;

    link_start(lb, pl, L_SELF, base_len);
    if (rq->mode == FOLIO_MODE_OFFSET) {
        if (rq->page)
            folio_buf_printf(lb, "&page=%lld", (long long)rq->page);
        else
            folio_buf_printf(lb, "&offset=%lld", (long long)rq->offset);
    } else if (keyset) {
        folio_buf_puts(lb, backward ? "&before=" : "&after=");
        folio_url_encode(lb, rq->cursor, strlen(rq->cursor));
    }
    folio_buf_putc(lb, '\0');

    bool incl = keyset && (spec->cursor.flags & FOLIO_CURSOR_INCLUSIVE) != 0;
    char tok[FOLIO_CURSOR_MAX_TOKEN];
    /* Every link must be one this endpoint serves: a next page deeper than max_offset is
     * linked by a cursor after this page's last row (the same rows), or not at all when
     * the endpoint serves no cursors; a last page deeper than that is not linked. */
    int64_t max_offset = h->srv->cfg.max_offset;
    bool cursors = (spec->ep->modes & FOLIO_ALLOW_KEYSET) != 0;
    /* A first page (no position) links on by cursor, or by offset where the endpoint
     * serves no cursors. */
    bool offset_mode =
        rq->mode == FOLIO_MODE_OFFSET || (rq->mode == FOLIO_MODE_FIRST && !cursors);
    bool next_too_deep = offset_mode && max_offset > 0 && rq->offset > max_offset - rq->per_page;
    for (int which = L_NEXT; which <= L_PREV; which++) {
        if (!(which == L_NEXT ? res->has_more : res->has_prev))
            continue;
        bool by_offset = offset_mode && !(which == L_NEXT && next_too_deep);
        if (!by_offset && offset_mode && (!cursors || res->shown == 0))
            continue;
        link_start(lb, pl, which, base_len);
        if (by_offset) {
            int64_t step = which == L_NEXT ? rq->per_page : -rq->per_page;
            if (rq->page)
                folio_buf_printf(lb, "&page=%lld", (long long)(rq->page + (step > 0 ? 1 : -1)));
            else
                folio_buf_printf(lb, "&offset=%lld",
                                 (long long)(rq->offset + step > 0 ? rq->offset + step : 0));
        } else {
            const struct folio_value *vals;
            unsigned flags = which == L_PREV ? FOLIO_CURSOR_BEFORE : 0;
            if (res->shown > 0) {
                vals = which == L_NEXT ? res->last->vals : res->first->vals;
            } else {
                /* An empty page: continue from the incoming position, on its other side. */
                vals = spec->cursor.keys;
                if (!incl)
                    flags |= FOLIO_CURSOR_INCLUSIVE;
            }
            folio_status st = folio__page_token(&h->w->engine, spec, vals, flags, tok,
                                                sizeof tok, &h->minted_expires);
            if (st != FOLIO_OK)
                return st;
            folio_buf_puts(lb, which == L_NEXT ? "&after=" : "&before=");
            folio_buf_puts(lb, tok);
        }
        folio_buf_putc(lb, '\0');
    }
    if (pages > 0 && offset_mode &&
        (max_offset == 0 || (pages - 1) * rq->per_page <= max_offset)) {
        link_start(lb, pl, L_LAST, base_len);
        if (rq->page)
            folio_buf_printf(lb, "&page=%lld", (long long)pages);
        else
            folio_buf_printf(lb, "&offset=%lld", (long long)((pages - 1) * rq->per_page));
        folio_buf_putc(lb, '\0');
    }
    /* The buffer's failure is sticky: one check catches a link cut anywhere above. */
    return lb->data != NULL ? folio_buf_status(lb) : FOLIO_ENOMEM;
}

static void write_meta(struct folio_json *j, const struct folio_request *rq,
                       const struct folio_page_result *res, const struct folio_total *total,
                       int64_t pages)
{
    folio_json_key(j, "meta");
    folio_json_object_begin(j);
    folio_json_key(j, "per_page");
    folio_json_int(j, rq->per_page);
    if (rq->mode == FOLIO_MODE_OFFSET) {
        folio_json_key(j, "page");
        folio_json_int(j, rq->page ? rq->page : rq->offset / rq->per_page + 1);
        folio_json_key(j, "offset");
        folio_json_int(j, rq->offset);
    }
    if (total->kind != FOLIO_TOTAL_NONE) {
        static const char *const kinds[] = {"none", "exact", "estimate", "lower_bound"};
        folio_json_key(j, "total");
        folio_json_int(j, total->value);
        folio_json_key(j, "total_kind");
        folio_json_string(j, kinds[total->kind]);
        if (total->kind == FOLIO_TOTAL_EXACT && rq->mode == FOLIO_MODE_OFFSET) {
            folio_json_key(j, "pages");
            folio_json_int(j, pages);
        }
    }
    folio_json_key(j, "has_more");
    folio_json_bool(j, res->has_more);
    folio_json_key(j, "has_prev");
    folio_json_bool(j, res->has_prev);
    folio_json_object_end(j);
}

/* PostgREST's `Prefer: count=...`, every Prefer line of the request (prefer.h). */
static enum folio_count prefer_count(struct folio_http *h)
{
    return folio__prefer_count(folio__http_request_header_list(h, "Prefer", &h->w->scratch));
}

/* An offset beyond the configured maximum: 400, with the cursor link that reaches the
 * same position at keyset speed (the row just before it, found through the index). */
static void offset_too_deep(struct folio_http *h, struct folio_page_spec *spec,
                            const char *fields, const struct folio_request *rq)
{
    struct folio_error err = {0};
    struct folio_buf rows;
    folio_buf_init(&rows, 1 << 20);
    struct folio_json rj;
    folio_json_init(&rj, &rows);
    folio_json_array_begin(&rj);
    spec->mode = FOLIO_MODE_OFFSET;
    spec->offset = rq->offset - 1;
    spec->per_page = 1;
    struct folio_page_result res;
    struct folio_total total;
    folio_status st =
        folio__page_fetch(&h->w->engine, spec, &rj, FOLIO_COUNT_NONE, &res, &total, &err);
    folio_buf_clear(&rows);
    char tok[FOLIO_CURSOR_MAX_TOKEN];
    struct folio_buf *lb = &h->w->links;
    folio_buf_reset(lb);
    spec->per_page = rq->per_page;
    link_base(lb, h, spec, fields);
    bool have = st == FOLIO_OK && res.shown == 1 &&
                folio__page_token(&h->w->engine, spec, res.first->vals, 0, tok, sizeof tok,
                                  &h->minted_expires) == FOLIO_OK;
    if (have) {
        folio_buf_puts(lb, "&after=");
        folio_buf_puts(lb, tok);
    }
    char detail[256];
    snprintf(detail, sizeof detail,
             "offsets above %lld are not served; %s", (long long)h->srv->cfg.max_offset,
             have ? "continue from this position with the cursor link" : "the offset is past "
                                                                         "the last row");
    have = have && lb->data != NULL;
    /* The link goes into the problem body (an extension member) and a Link header. */
    folio__problem_ext(h, 400, "offset-too-deep", "Offset too deep", detail,
                       rq->page ? "page" : "offset", have ? "cursor" : NULL,
                       have ? lb->data : NULL);
    if (have) {
        struct folio_buf *s = &h->w->scratch;
        folio_buf_reset(s);
        struct folio_link l = {"next", lb->data};
        if (folio_link_header_write(s, &l, 1) == FOLIO_OK && s->data)
            folio__http_header_add(h, "Link", s->data);
    }
}

void folio__handle_api(struct folio_http *h, const struct folio_endpoint *ep)
{
    struct folio_server *srv = h->srv;
    struct folio_error err = {0};
    struct folio_filter_set *filters = &h->w->filters;
    struct folio_page_spec *spec = &h->w->engine.spec;
    filters->n = filters->nvalues = 0;
    folio_buf_reset(&filters->text);

    struct folio_request rq;
    struct folio_request_limits lim = {ep->default_per_page, ep->max_per_page};
    struct accept_ctx actx = {ep, filters, NULL};
    /* The principal's scope first: bound filters that are part of the fingerprint, so
     * totals, cursors and the hybrid index are the scope's own (auth.h). */
    if (folio__auth_scope_filters(h, ep, filters, &err) != FOLIO_OK ||
        folio_request_parse(&rq, h->params, h->nparams, &lim, accept_param, &actx, &err) !=
            FOLIO_OK ||
        folio__page_sort(spec, ep, rq.sort, filters, &err) != FOLIO_OK ||
        folio__page_fields(spec, actx.fields, &err) != FOLIO_OK) {
        folio__problem_from_error(h, &err);
        return;
    }
    if (rq.mode == FOLIO_MODE_OFFSET && !(ep->modes & FOLIO_ALLOW_OFFSET)) {
        folio__problem(h, 400, "mode-not-allowed", "Mode not allowed",
                       "this endpoint serves cursor pages only; follow the links",
                       rq.page ? "page" : "offset");
        return;
    }
    if ((rq.mode == FOLIO_MODE_AFTER || rq.mode == FOLIO_MODE_BEFORE) &&
        !(ep->modes & FOLIO_ALLOW_KEYSET)) {
        folio__problem(h, 400, "mode-not-allowed", "Mode not allowed",
                       "this endpoint serves numbered pages only; use page or offset",
                       rq.mode == FOLIO_MODE_AFTER ? "after" : "before");
        return;
    }
    spec->mode = rq.mode;
    spec->per_page = rq.per_page;
    spec->offset = rq.offset;
    bool keyset = rq.mode == FOLIO_MODE_AFTER || rq.mode == FOLIO_MODE_BEFORE;
    bool backward = rq.mode == FOLIO_MODE_BEFORE;
    if (keyset) {
        if (folio__page_cursor(&h->w->engine, spec, rq.cursor, backward,
                               backward ? "before" : "after", &err) != FOLIO_OK) {
            folio__problem_from_error(h, &err);
            return;
        }
        h->cursor_expires = spec->cursor.expires;
    }

    if (rq.mode == FOLIO_MODE_OFFSET && srv->cfg.max_offset > 0 &&
        rq.offset > srv->cfg.max_offset) {
        offset_too_deep(h, spec, actx.fields, &rq);
        return;
    }
    struct folio_buf *body = &h->w->body;
    folio_buf_reset(body);
    struct folio_json j;
    folio_json_init(&j, body);
    folio_json_object_begin(&j);
    folio_json_key(&j, "data");
    folio_json_array_begin(&j);
    enum folio_count count_mode = rq.count ? rq.count : prefer_count(h);
    if (count_mode == FOLIO_COUNT_DEFAULT)
        count_mode = ep->default_count;
    struct folio_page_result res;
    struct folio_total total;
    if (folio__page_fetch(&h->w->engine, spec, &j, count_mode, &res, &total, &err) !=
        FOLIO_OK) {
        folio__problem_from_error(h, &err);
        return;
    }
    if (res.plan != NULL)
        folio__http_header_add(h, "X-Folio-Plan", res.plan);
    folio_json_array_end(&j);
    h->rows = res.shown;
    bool exact = total.kind == FOLIO_TOTAL_EXACT;
    int64_t pages = exact ? (total.value + rq.per_page - 1) / rq.per_page : 0;
    if (exact && pages == 0)
        pages = 1;

    struct page_links pl;
    if (build_links(h, spec, &rq, &res, exact ? pages : 0, actx.fields, &pl) != FOLIO_OK) {
        folio__problem(h, 500, "internal", NULL, NULL, NULL);
        return;
    }
    struct folio_buf *lb = &h->w->links;
    write_meta(&j, &rq, &res, &total, pages);
    folio_json_key(&j, "links");
    folio_json_object_begin(&j);
    struct folio_link links[L_COUNT];
    for (int i = 0; i < L_COUNT; i++) {
        const char *url = pl.present[i] && lb->data ? lb->data + pl.off[i] : NULL;
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
        struct folio_error e = {.status = folio_json_status(&j),
                                .kind = FOLIO_KIND_INTERNAL,
                                .detail = "response too large"};
        folio__problem_from_error(h, &e);
        return;
    }
    struct folio_buf *scratch = &h->w->scratch;
    folio_buf_reset(scratch);
    if (folio_link_header_write(scratch, links, L_COUNT) == FOLIO_OK && scratch->data)
        folio__http_header_add(h, "Link", scratch->data);
    if (exact) {
        char n[24];
        snprintf(n, sizeof n, "%lld", (long long)total.value);
        folio__http_header_add(h, "X-Total-Count", n);
    }
    if (pl.present[L_NEXT] && lb->data)
        h->next_url = lb->data + pl.off[L_NEXT];
    h->first_page = !res.has_prev;
    h->status = 200;
    h->content_type = "application/json";
}
