/* Endpoint descriptions: see endpoint.h. */
#include "server/endpoint.h"

#include <string.h>

folio_status folio_endpoint_init(struct folio_endpoint *ep, const struct folio_table *t,
                                 const char *path)
{
    memset(ep, 0, sizeof *ep);
    ep->table = t;
    ep->path = folio_strdup(path);
    ep->name = folio_strdup(t->name);
    ep->cols = folio_calloc(t->ncols_all + 1, sizeof *ep->cols);
    ep->exposed = folio_calloc(t->ncols_all + 1, sizeof *ep->exposed);
    ep->sortable = folio_calloc(t->ncols_all + 1, sizeof *ep->sortable);
    ep->filterable = folio_calloc(t->ncols_all + 1, sizeof *ep->filterable);
    ep->modes = FOLIO_ALLOW_OFFSET | FOLIO_ALLOW_KEYSET;
    ep->default_per_page = 20;
    ep->max_per_page = 100;
    ep->default_count = FOLIO_COUNT_NONE;
    ep->style = FOLIO_STYLE_FOLIO;
    if (!ep->path || !ep->name || !ep->cols || !ep->exposed || !ep->sortable || !ep->filterable) {
        folio_endpoint_clear(ep);
        return FOLIO_ENOMEM;
    }
    return FOLIO_OK;
}

folio_status folio_endpoint_expose(struct folio_endpoint *ep, int column)
{
    if (column < 0 || (size_t)column >= ep->table->ncols)
        return FOLIO_EINVAL;
    if (!ep->exposed[column]) {
        ep->exposed[column] = true;
        ep->cols[ep->ncols++] = column;
    }
    return FOLIO_OK;
}

folio_status folio_endpoint_all_columns(struct folio_endpoint *ep)
{
    for (size_t c = 0; c < ep->table->ncols; c++) {
        folio_endpoint_expose(ep, (int)c);
        ep->sortable[c] = true;
        ep->filterable[c] = true;
    }
    return FOLIO_OK;
}

void folio_endpoint_clear(struct folio_endpoint *ep)
{
    folio_free(ep->path);
    folio_free(ep->name);
    folio_free(ep->cols);
    folio_free(ep->exposed);
    folio_free(ep->sortable);
    folio_free(ep->filterable);
    memset(ep, 0, sizeof *ep);
}
