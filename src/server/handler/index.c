/* GET / : the endpoints served, their tables, exposed columns and first-page links. A
 * browser (Accept: text/html first) is sent to the UI at /ui/ instead. */
#include <string.h>

#include "server/http.h"
#include "server/server.h"

static const char *const style_names[] = {"folio", "tutorial-offset", "tutorial-keyset",
                                          "tutorial-signed"};

void folio__handle_index(struct folio_http *h)
{
    folio__http_header_add(h, "Vary", "Accept");
    if (folio__http_wants_html(h)) {
        folio__http_header_add(h, "Location", "/ui/");
        folio_buf_reset(&h->w->body);
        folio_buf_puts(&h->w->body, "<!doctype html><title>folio</title>"
                                    "<a href=\"/ui/\">folio's browser UI</a>\n");
        h->status = 303;
        h->content_type = "text/html; charset=utf-8";
        return;
    }
    struct folio_json j;
    folio_json_init(&j, &h->w->body);
    folio_json_object_begin(&j);
    folio_json_key(&j, "tables");
    folio_json_array_begin(&j);
    for (size_t e = 0; e < h->srv->nendpoints; e++) {
        const struct folio_endpoint *ep = &h->srv->endpoints[e];
        const struct folio_table *tb = ep->table;
        folio_json_object_begin(&j);
        folio_json_key(&j, "name");
        folio_json_string(&j, tb->name);
        folio_json_key(&j, "path");
        folio_json_string(&j, ep->path);
        folio_json_key(&j, "style");
        folio_json_string(&j, style_names[ep->style]);
        folio_json_key(&j, "modes");
        folio_json_array_begin(&j);
        if (ep->modes & FOLIO_ALLOW_OFFSET)
            folio_json_string(&j, "offset");
        if (ep->modes & FOLIO_ALLOW_KEYSET)
            folio_json_string(&j, "keyset");
        folio_json_array_end(&j);
        folio_json_key(&j, "per_page");
        folio_json_object_begin(&j);
        folio_json_key(&j, "default");
        folio_json_int(&j, ep->default_per_page);
        folio_json_key(&j, "max");
        folio_json_int(&j, ep->max_per_page);
        folio_json_object_end(&j);
        folio_json_key(&j, "columns");
        folio_json_array_begin(&j);
        for (size_t i = 0; i < ep->ncols; i++) {
            const struct folio_column *c = &tb->cols[ep->cols[i]];
            folio_json_object_begin(&j);
            folio_json_key(&j, "name");
            folio_json_string(&j, c->name);
            folio_json_key(&j, "type");
            folio_json_string(&j, c->decl_type);
            folio_json_key(&j, "nullable");
            folio_json_bool(&j, !c->not_null);
            folio_json_key(&j, "sortable");
            folio_json_bool(&j, ep->sortable[ep->cols[i]]);
            folio_json_key(&j, "filterable");
            folio_json_bool(&j, ep->filterable[ep->cols[i]]);
            folio_json_object_end(&j);
        }
        folio_json_array_end(&j);
        folio_json_key(&j, "links");
        folio_json_object_begin(&j);
        folio_json_key(&j, "first");
        folio_json_string(&j, ep->url);
        folio_json_object_end(&j);
        folio_json_object_end(&j);
    }
    folio_json_array_end(&j);
    folio_json_key(&j, "links");
    folio_json_object_begin(&j);
    folio_json_key(&j, "openapi");
    folio_json_string(&j, "/openapi.json");
    folio_json_key(&j, "ui");
    folio_json_string(&j, "/ui/");
    folio_json_key(&j, "problems");
    folio_json_string(&j, "/problems");
    folio_json_object_end(&j);
    folio_json_object_end(&j);
    if (folio_json_status(&j) != FOLIO_OK) {
        struct folio_error err = {
            .status = FOLIO_ETOOBIG, .kind = FOLIO_KIND_INTERNAL, .detail = "response too large"};
        folio__problem_from_error(h, &err);
        return;
    }
    h->status = 200;
    h->content_type = "application/json";
}
