/* GET / : the tables served, their columns and first-page links. */
#include <string.h>

#include "server/http.h"
#include "server/server.h"

void folio_handle_index(struct folio_http *h)
{
    const struct folio_schema *s = folio_db_schema(h->srv->db);
    struct folio_buf *b = &h->w->body;
    struct folio_buf *url = &h->w->links;
    struct folio_json j;
    folio_json_init(&j, b);
    folio_json_object_begin(&j);
    folio_json_key(&j, "tables");
    folio_json_array_begin(&j);
    for (size_t t = 0; t < s->ntables; t++) {
        const struct folio_table *tb = &s->tables[t];
        folio_json_object_begin(&j);
        folio_json_key(&j, "name");
        folio_json_string(&j, tb->name);
        folio_json_key(&j, "columns");
        folio_json_array_begin(&j);
        for (size_t c = 0; c < tb->ncols; c++) {
            folio_json_object_begin(&j);
            folio_json_key(&j, "name");
            folio_json_string(&j, tb->cols[c].name);
            folio_json_key(&j, "type");
            folio_json_string(&j, tb->cols[c].decl_type);
            folio_json_key(&j, "nullable");
            folio_json_bool(&j, !tb->cols[c].not_null);
            folio_json_object_end(&j);
        }
        folio_json_array_end(&j);
        folio_json_key(&j, "links");
        folio_json_object_begin(&j);
        folio_json_key(&j, "first");
        folio_buf_reset(url);
        folio_buf_puts(url, "/api/");
        folio_url_encode(url, tb->name, strlen(tb->name));
        folio_json_stringn(&j, url->data, url->len);
        folio_json_object_end(&j);
        folio_json_object_end(&j);
    }
    folio_json_array_end(&j);
    folio_json_object_end(&j);
    if (folio_json_status(&j) != FOLIO_OK) {
        struct folio_error err = {FOLIO_ETOOBIG, 500, "", "response too large"};
        folio_problem_from_error(h, &err);
        return;
    }
    h->status = 200;
    h->content_type = "application/json";
}
