/* GET / : the endpoints served, their tables, exposed columns and first-page links. */
#include <string.h>

#include "server/http.h"
#include "server/server.h"

void folio__handle_index(struct folio_http *h)
{
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
