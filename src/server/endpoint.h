/* An endpoint: one table exposed at one path, with its allowlists and limits. Without a
 * config file every table becomes an endpoint at /api/{table} exposing all columns. */
#ifndef FOLIO_SERVER_ENDPOINT_H
#define FOLIO_SERVER_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"
#include "folio/folio.h"
#include "server/auth.h"

enum folio_style {
    FOLIO_STYLE_FOLIO,           /* {"data", "meta", "links"} */
    FOLIO_STYLE_TUTORIAL_OFFSET, /* {"page","per_page","count",<name>,"total_estimate"} */
    FOLIO_STYLE_TUTORIAL_KEYSET, /* {"per_page",<name>,"next_cursor": last id} */
    FOLIO_STYLE_TUTORIAL_SIGNED, /* {<name>,"next_cursor": signed token} */
};

enum {
    FOLIO_ALLOW_OFFSET = 1u << 0,
    FOLIO_ALLOW_KEYSET = 1u << 1,
};

/* One scope filter of an endpoint: `column = <value>`, the value taken from the token's
 * claim at path `name` (JWT) or from the API key's value `name`. */
struct folio_scope_rule {
    int column;
    bool from_claims;
    char name[128];
};

struct folio_endpoint {
    char *path;                      /* "/api/users", as routed (percent-decoded) */
    char *url;                       /* the path percent-encoded, for links */
    char *name;                      /* collection name in tutorial styles */
    const struct folio_table *table; /* borrowed from the db schema */
    size_t ncols;
    int *cols;            /* exposed table columns, in output order */
    bool *exposed;        /* per table column (ncols_all) */
    bool *sortable;       /* per table column */
    bool indexed_sorts;   /* sortable = the columns an index leads (auto endpoints) */
    bool *filterable;     /* per table column */
    struct folio_sort default_sort;  /* without the tiebreaker */
    /* The unique tiebreaker appended to every sort: the table's key (db.h), or the
     * endpoint's configured `key` (a view, a table without a primary key). nkey = 0: the
     * table cannot be served. */
    size_t nkey;
    int key[FOLIO_SORT_MAX];
    unsigned modes;
    int default_per_page;
    int max_per_page;
    enum folio_count default_count;
    enum folio_style style;
    bool prefetch;    /* fetch the next page in the background, serve pages from cache */
    bool export_ok;   /* {path}/export streams the whole result set (handler/export.h) */
    double rate;      /* per-client requests per second here; 0 = the server's limit */
    unsigned burst;
    int auth;         /* enum folio_auth_mode, or -1: the server's [auth] mode */
    size_t nscope;    /* row filters from the principal (auth.h) */
    struct folio_scope_rule scope[FOLIO_AUTH_SCOPE_MAX];
};

/* Allocate the per-column arrays for `t` (nothing exposed yet). */
folio_status folio__endpoint_init(struct folio_endpoint *ep, const struct folio_table *t,
                                  const char *path);
/* Expose and filter on every visible column. Sortable: every column with `any_sort`,
 * else only the columns an index can serve (db.h: index_lead). */
folio_status folio__endpoint_all_columns(struct folio_endpoint *ep, bool any_sort);
/* Add an exposed column by table index (keeps output order). */
folio_status folio__endpoint_expose(struct folio_endpoint *ep, int column);
void folio__endpoint_clear(struct folio_endpoint *ep);

#endif
