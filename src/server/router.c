/* Routing: method and path to handler. */
#include <string.h>

#include "server/http.h"
#include "server/server.h"

void folio_route(struct folio_http *h)
{
    if (strcmp(h->method, "GET") != 0 && strcmp(h->method, "HEAD") != 0) {
        folio_http_header_add(h, "Allow", "GET, HEAD");
        folio_problem(h, 405, "method-not-allowed", NULL,
                      "only GET and HEAD are supported", NULL);
        return;
    }
    if (h->too_many_params) {
        folio_problem(h, 400, "too-many-parameters", "Too many parameters",
                      "the query string has too many parameters", NULL);
        return;
    }
    if (strlen(h->path) > h->srv->cfg.max_url_bytes) {
        folio_problem(h, 414, "uri-too-long", NULL, "the request path is too long", NULL);
        return;
    }
    if (strcmp(h->path, "/") == 0) {
        folio_handle_index(h);
        return;
    }
    if (strncmp(h->path, "/api/", 5) == 0 && h->path[5] != '\0' &&
        strchr(h->path + 5, '/') == NULL) {
        folio_handle_api(h, h->path + 5);
        return;
    }
    folio_problem(h, 404, "not-found", NULL, "no such resource", NULL);
}
