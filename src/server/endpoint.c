/* Endpoint descriptions: see endpoint.h. */
#include "server/endpoint.h"

#include <string.h>

folio_status folio__endpoint_init(struct folio_endpoint *ep, const struct folio_table *t,
                                  const char *path)
{
    memset(ep, 0, sizeof *ep);
    ep->table = t;
    ep->auth = -1;
    ep->nkey = t->npk;
    memcpy(ep->key, t->pk, sizeof ep->key);
    ep->path = folio_strdup(path);
    struct folio_buf u;
    folio_buf_init(&u, 3 * strlen(path) + 1);
    for (const char *p = path; *p; p++) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        folio_url_encode(&u, p, n);
        p += n;
        if (*p == '\0')
            break;
        folio_buf_putc(&u, '/');
    }
    /* A failed append (out of memory) must fail the endpoint, never leave it linking to
     * a URL cut short. */
    if (folio_buf_status(&u) == FOLIO_OK && u.data != NULL)
        ep->url = folio_buf_detach(&u, NULL);
    else if (folio_buf_status(&u) == FOLIO_OK)
        ep->url = folio_strdup("/");
    folio_buf_clear(&u);
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
    if (!ep->path || !ep->url || !ep->name || !ep->cols || !ep->exposed || !ep->sortable || !ep->filterable) {
        folio__endpoint_clear(ep);
        return FOLIO_ENOMEM;
    }
    return FOLIO_OK;
}

folio_status folio__endpoint_expose(struct folio_endpoint *ep, int column)
{
    if (column < 0 || (size_t)column >= ep->table->ncols)
        return FOLIO_EINVAL;
    if (!ep->exposed[column]) {
        ep->exposed[column] = true;
        ep->cols[ep->ncols++] = column;
    }
    return FOLIO_OK;
}

folio_status folio__endpoint_all_columns(struct folio_endpoint *ep, bool any_sort)
{
    ep->indexed_sorts = !any_sort;
    for (size_t c = 0; c < ep->table->ncols; c++) {
        folio__endpoint_expose(ep, (int)c);
        ep->sortable[c] = any_sort || ep->table->cols[c].index_lead;
        ep->filterable[c] = true;
    }
    return FOLIO_OK;
}

void folio__endpoint_clear(struct folio_endpoint *ep)
{
    folio_free(ep->path);
    folio_free(ep->url);
    folio_free(ep->name);
    folio_free(ep->cols);
    folio_free(ep->exposed);
    folio_free(ep->sortable);
    folio_free(ep->filterable);
    memset(ep, 0, sizeof *ep);
}
