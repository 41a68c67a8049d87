/* GET /openapi.json: the server's OpenAPI 3.1 description (openapi.c writes it). */
#include "server/openapi.h"

#include "server/http.h"
#include "server/server.h"

void folio__handle_openapi(struct folio_http *h)
{
    folio_buf_reset(&h->w->body);
    if (folio__openapi_write(h->srv, &h->w->body) != FOLIO_OK || h->w->body.data == NULL) {
        struct folio_error err = {
            .status = FOLIO_ETOOBIG, .kind = FOLIO_KIND_INTERNAL, .detail = "response too large"};
        folio__problem_from_error(h, &err);
        return;
    }
    folio__http_header_add(h, "Cache-Control", "no-cache");
    h->status = 200;
    h->content_type = "application/json";
}
