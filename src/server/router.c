/* Routing: method and path to handler. */
#include <string.h>

#include "server/http.h"
#include "server/server.h"

int folio__route_find(const struct folio_server *srv, const char *path)
{
    for (size_t i = 0; i < srv->nendpoints; i++)
        if (strcmp(srv->endpoints[i].path, path) == 0)
            return (int)i;
    return -1;
}

bool folio__route_needs_worker(const struct folio_http *h)
{
    if (strcmp(h->method, "GET") != 0 && strcmp(h->method, "HEAD") != 0)
        return false;
    if (h->too_many_params || strlen(h->path) > h->srv->cfg.max_url_bytes)
        return false;
    if (h->route >= 0)
        return true;
    return h->srv->dircache != NULL &&
           (strcmp(h->path, "/files") == 0 || strncmp(h->path, "/files/", 7) == 0);
}

void folio__route(struct folio_http *h)
{
    if (strcmp(h->method, "GET") != 0 && strcmp(h->method, "HEAD") != 0) {
        folio__http_header_add(h, "Allow", "GET, HEAD, OPTIONS");
        folio__problem(h, 405, "method-not-allowed", NULL,
                       "only GET, HEAD and OPTIONS are supported", NULL);
        return;
    }
    if (h->too_many_params) {
        folio__problem(h, 400, "too-many-parameters", "Too many parameters",
                       "the query string has too many parameters", NULL);
        return;
    }
    if (strlen(h->path) > h->srv->cfg.max_url_bytes) {
        folio__problem(h, 414, "uri-too-long", NULL, "the request path is too long", NULL);
        return;
    }
    if (h->route >= 0) {
        const struct folio_endpoint *ep = &h->srv->endpoints[h->route];
        if (h->export)
            folio__handle_export(h, ep);
        else if (ep->style == FOLIO_STYLE_FOLIO)
            folio__handle_api(h, ep);
        else
            folio__handle_tutorial(h, ep);
        return;
    }
    if (strcmp(h->path, "/") == 0) {
        folio__handle_index(h);
        return;
    }
    if (h->srv->dircache != NULL &&
        (strcmp(h->path, "/files") == 0 || strncmp(h->path, "/files/", 7) == 0)) {
        const char *rel = h->path + 6;
        while (*rel == '/')
            rel++;
        folio__handle_files(h, *rel ? rel : ".");
        return;
    }
    if (strcmp(h->path, "/ui") == 0 || strncmp(h->path, "/ui/", 4) == 0) {
        folio__handle_ui(h);
        return;
    }
    if (strcmp(h->path, "/openapi.json") == 0) {
        folio__handle_openapi(h);
        return;
    }
    if (strcmp(h->path, "/problems") == 0 || strncmp(h->path, "/problems/", 10) == 0) {
        folio__handle_problem_page(h, h->path[9] ? h->path + 10 : NULL);
        return;
    }
    if (strcmp(h->path, "/healthz") == 0) {
        folio__handle_health(h);
        return;
    }
    /* With a metrics_listen address, /metrics is served there only. */
    if (strcmp(h->path, "/metrics") == 0 && h->srv->cfg.metrics_host[0] == '\0') {
        folio__handle_metrics(h);
        return;
    }
    folio__problem(h, 404, "not-found", NULL, "no such resource", NULL);
}
