/* [[endpoint]]: a table served at a path of its own, with allowlists of columns. The
 * file is checked on load (types, paths); the tables and columns when the database is
 * open, by folio__config_endpoints(). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/config/config_internal.h"
#include "engine/page.h"

static const char E[] = "[[endpoint]]";

#define MAX_PATH_LEN 200

static const char *const mode_names[2] = {"offset", "keyset"};

/* A path the router can match exactly: /segment[/segment...], URL-safe characters only,
 * no empty, "." or ".." segments, no trailing slash. */
static const char *path_problem(const char *p)
{
    if (p[0] != '/')
        return "must start with '/'";
    if (p[1] == '\0')
        return "is the index of the server; choose another path";
    if (strlen(p) > MAX_PATH_LEN)
        return "is longer than 200 characters";
    /* folio's own routes; an endpoint would shadow them (endpoints are matched first) */
    if (strcmp(p, "/healthz") == 0 || strcmp(p, "/metrics") == 0 || strcmp(p, "/files") == 0 ||
        strncmp(p, "/files/", 7) == 0)
        return "is reserved for folio's own /healthz, /metrics and /files";
    if (strcmp(p, "/ui") == 0 || strncmp(p, "/ui/", 4) == 0 || strcmp(p, "/openapi.json") == 0 ||
        strcmp(p, "/problems") == 0 || strncmp(p, "/problems/", 10) == 0)
        return "is reserved for folio's own /ui, /openapi.json and /problems";
    for (const char *s = p; *s; s++) {
        char ch = *s;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
                  ch == '~' || ch == '/';
        if (!ok)
            return "may contain only letters, digits, '-', '_', '.', '~' and '/'";
        if (ch == '/') {
            const char *seg = s + 1;
            size_t len = strcspn(seg, "/");
            if (len == 0)
                return "must not contain an empty segment or end with '/'";
            if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
                return "must not contain '.' or '..' segments";
        }
    }
    return NULL;
}

static folio_status endpoint_key(const struct folio__cfg *c, const char *S, const char *k,
                                 const struct folio_toml_value *v, void *ctx)
{
    struct folio_config_endpoint *ep = ctx;
    folio_status st;
    int64_t n;
    int e;
    if (strcmp(k, "path") == 0) {
        st = folio__cfg_string(c, v, S, k, false, &ep->path);
    } else if (strcmp(k, "table") == 0) {
        st = folio__cfg_string(c, v, S, k, false, &ep->table);
    } else if (strcmp(k, "name") == 0) {
        st = folio__cfg_string(c, v, S, k, false, &ep->name);
    } else if (strcmp(k, "columns") == 0) {
        ep->columns = v;
        st = folio__cfg_string_list(c, v, S, k, false);
    } else if (strcmp(k, "sortable") == 0) {
        ep->sortable = v;
        st = folio__cfg_string_list(c, v, S, k, true);
    } else if (strcmp(k, "filterable") == 0) {
        ep->filterable = v;
        st = folio__cfg_string_list(c, v, S, k, true);
    } else if (strcmp(k, "key") == 0) {
        ep->key = v;
        st = folio__cfg_string_list(c, v, S, k, false);
        if (st == FOLIO_OK && folio_toml_array_len(v) > FOLIO_SORT_MAX / 2)
            st = folio__cfg_fail_at(c, v, S, k, "at most %d columns", FOLIO_SORT_MAX / 2);
    } else if (strcmp(k, "default_sort") == 0) {
        st = folio__cfg_string(c, v, S, k, true, &ep->default_sort);
    } else if (strcmp(k, "modes") == 0) {
        st = folio__cfg_string_list(c, v, S, k, false);
        ep->modes = 0;
        for (size_t m = 0; st == FOLIO_OK && m < folio_toml_array_len(v); m++) {
            const struct folio_toml_value *mv = folio_toml_array_at(v, m);
            if ((st = folio__cfg_enum(c, mv, S, k, mode_names, 2, &e)) == FOLIO_OK)
                ep->modes |= e == 0 ? FOLIO_ALLOW_OFFSET : FOLIO_ALLOW_KEYSET;
        }
    } else if (strcmp(k, "default_per_page") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, FOLIO_MAX_PER_PAGE, &n)) == FOLIO_OK)
            ep->default_per_page = (int)n;
    } else if (strcmp(k, "max_per_page") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, FOLIO_MAX_PER_PAGE, &n)) == FOLIO_OK)
            ep->max_per_page = (int)n;
    } else if (strcmp(k, "count") == 0) {
        if ((st = folio__cfg_enum(c, v, S, k, folio__cfg_count_names, 3, &e)) == FOLIO_OK)
            ep->count = folio__cfg_count_values[e];
    } else if (strcmp(k, "style") == 0) {
        if ((st = folio__cfg_enum(c, v, S, k, folio__cfg_style_names, 4, &e)) == FOLIO_OK)
            ep->style = (enum folio_style)e;
    } else if (strcmp(k, "prefetch") == 0) {
        bool b = false;
        if ((st = folio__cfg_bool(c, v, S, k, &b)) == FOLIO_OK)
            ep->prefetch = b;
    } else if (strcmp(k, "export") == 0) {
        st = folio__cfg_bool(c, v, S, k, &ep->export_ok);
    } else if (strcmp(k, "rate") == 0) {
        st = folio__cfg_rate(c, v, S, k, &ep->rate);
    } else if (strcmp(k, "auth") == 0 || strcmp(k, "scope") == 0) {
        st = folio__cfg_endpoint_auth_key(c, S, k, v, ep);
    } else { /* burst */
        if ((st = folio__cfg_int(c, v, S, k, 1, FOLIO_CONFIG_MAX_BURST, &n)) == FOLIO_OK)
            ep->burst = (unsigned)n;
    }
    return st;
}

static folio_status one_endpoint(const struct folio__cfg *c, const struct folio_toml_value *t,
                                 struct folio_config *cfg)
{
    static const char *const known[] = {"path",         "table",      "name",
                                        "columns",      "sortable",   "filterable",
                                        "default_sort", "modes",      "default_per_page",
                                        "max_per_page", "count",      "style",
                                        "prefetch",     "rate",       "burst",
                                        "auth",         "scope",      "export",     "key",
                                        NULL};
    folio_status st = folio__cfg_table(c, t, E, NULL);
    if (st != FOLIO_OK)
        return st;
    struct folio_config_endpoint *ep = &cfg->endpoints[cfg->nendpoints];
    memset(ep, 0, sizeof *ep);
    ep->at = t;
    ep->modes = FOLIO_ALLOW_OFFSET | FOLIO_ALLOW_KEYSET;
    ep->count = FOLIO_COUNT_DEFAULT;
    ep->style = FOLIO_STYLE_FOLIO;
    ep->prefetch = -1;
    ep->auth = -1;
    if ((st = folio__cfg_keys(c, t, E, known, endpoint_key, ep)) != FOLIO_OK)
        return st;
    if (ep->path == NULL)
        return folio__cfg_fail_at(c, t, E, "path", "missing (where to serve it, e.g. "
                                                   "\"/products\")");
    if (ep->table == NULL)
        return folio__cfg_fail_at(c, t, E, "table", "missing (the table to serve)");
    if (ep->burst > 0 && ep->rate == 0)
        return folio__cfg_fail_at(c, folio_toml_table_get(t, "burst"), E, "burst",
                                  "has no effect without the endpoint's own rate (the "
                                  "[rate_limit] burst goes with the [rate_limit] rate)");
    const struct folio_toml_value *path_at = folio_toml_table_get(t, "path");
    const char *why = path_problem(ep->path);
    if (why != NULL)
        return folio__cfg_fail_at(c, path_at, E, "path", "\"%.64s\" %s", ep->path, why);
    for (size_t j = 0; j < cfg->nendpoints; j++)
        if (strcmp(cfg->endpoints[j].path, ep->path) == 0)
            return folio__cfg_fail_at(c, path_at, E, "path",
                                      "\"%s\" is already served by the [[endpoint]] at line %u",
                                      ep->path, folio_toml_line(cfg->endpoints[j].at));
    cfg->nendpoints++;
    return FOLIO_OK;
}

folio_status folio__cfg_endpoint_list(const struct folio__cfg *c,
                                      const struct folio_toml_value *v,
                                      struct folio_config *cfg)
{
    if (folio_toml_type(v) != FOLIO_TOML_ARRAY)
        return folio__cfg_fail_at(c, v, "[endpoint]", NULL,
                                  "write each endpoint as an [[endpoint]] table (an array of "
                                  "tables)");
    size_t n = folio_toml_array_len(v);
    cfg->endpoints = folio_calloc(n + 1, sizeof *cfg->endpoints);
    if (cfg->endpoints == NULL)
        return folio__cfg_nomem(c);
    for (size_t i = 0; i < n; i++) {
        folio_status st = one_endpoint(c, folio_toml_array_at(v, i), cfg);
        if (st != FOLIO_OK)
            return st;
    }
    return FOLIO_OK;
}

folio_status folio__cfg_endpoint_limits(const struct folio__cfg *c,
                                        const struct folio_config *cfg)
{
    for (size_t i = 0; i < cfg->nendpoints; i++) {
        const struct folio_config_endpoint *ep = &cfg->endpoints[i];
        int def = ep->default_per_page ? ep->default_per_page : cfg->server.default_per_page;
        int max = ep->max_per_page ? ep->max_per_page : cfg->server.max_per_page;
        if (def <= max)
            continue;
        const char *key = ep->max_per_page ? "max_per_page" : "default_per_page";
        return folio__cfg_fail_at(c, folio_toml_table_get(ep->at, key), E, key,
                                  "default_per_page (%d%s) is larger than max_per_page (%d%s)",
                                  def, ep->default_per_page ? "" : ", from [pagination]", max,
                                  ep->max_per_page ? "" : ", from [pagination]");
    }
    return FOLIO_OK;
}

/* --- against the schema -------------------------------------------------------------- */

static int column_index(const struct folio_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

static folio_status table_missing(const struct folio__cfg *c, const folio_db *db,
                                  const struct folio_config_endpoint *ce)
{
    const struct folio_schema *s = folio__db_schema(db);
    char names[400];
    size_t used = 0;
    names[0] = '\0';
    for (size_t i = 0; i < s->ntables && used + 1 < sizeof names; i++) {
        int w = snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                         s->tables[i].name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return folio__cfg_fail_at(c, folio_toml_table_get(ce->at, "table"), E, "table",
                              "the database has no table '%s' (its tables: %s)", ce->table,
                              s->ntables ? names : "none");
}

/* Mark the columns listed in `list` (a checked string array) in `marks`; each must be a
 * column of the table and, with `within` (not NULL), one of those marked there. */
static folio_status mark_columns(const struct folio__cfg *c, const struct folio_table *t,
                                 const struct folio_toml_value *list, const char *key,
                                 const bool *within, bool *marks, struct folio_endpoint *ep)
{
    for (size_t i = 0; i < folio_toml_array_len(list); i++) {
        const struct folio_toml_value *e = folio_toml_array_at(list, i);
        const char *name = NULL;
        (void)folio_toml_string(e, &name, NULL);
        int col = column_index(t, name);
        if (col < 0)
            return folio__cfg_fail_at(c, e, E, key, "unknown column '%s' in table %s", name,
                                      t->name);
        if (within != NULL && !within[col])
            return folio__cfg_fail_at(c, e, E, key,
                                      "column '%s' is not in columns (only exposed columns "
                                      "can be listed here)",
                                      name);
        if (marks != NULL)
            marks[col] = true;
        else if (folio__endpoint_expose(ep, col) != FOLIO_OK)
            return folio__cfg_fail_at(c, e, E, key, "column '%s' cannot be exposed", name);
    }
    return FOLIO_OK;
}

/* default_sort: each named column sortable, then the same parse the requests get. */
static folio_status default_sort(const struct folio__cfg *c,
                                 const struct folio_config_endpoint *ce,
                                 struct folio_endpoint *ep)
{
    const struct folio_table *t = ep->table;
    const struct folio_toml_value *at = folio_toml_table_get(ce->at, "default_sort");
    const char *names[FOLIO_PAGE_MAX_SELECT];
    size_t n = t->ncols < FOLIO_PAGE_MAX_SELECT ? t->ncols : FOLIO_PAGE_MAX_SELECT;
    for (size_t i = 0; i < n; i++)
        names[i] = ep->sortable[i] ? t->cols[i].name : "";
    for (const char *p = ce->default_sort; *p;) {
        size_t len = strcspn(p, ",");
        const char *name = *p == '-' ? p + 1 : p;
        size_t nlen = len - (size_t)(name - p);
        int col = -1;
        for (size_t i = 0; i < t->ncols; i++)
            if (strlen(t->cols[i].name) == nlen && memcmp(t->cols[i].name, name, nlen) == 0)
                col = (int)i;
        if (nlen > 0 && col < 0)
            return folio__cfg_fail_at(c, at, E, "default_sort",
                                      "unknown column '%.*s' in table %s",
                                      (int)(nlen > 64 ? 64 : nlen), name, t->name);
        if (nlen > 0 && !ep->sortable[col])
            return folio__cfg_fail_at(c, at, E, "default_sort",
                                      "column '%s' is not sortable (list it in sortable)",
                                      t->cols[col].name);
        p += len + (p[len] == ',');
    }
    struct folio_error err = {0};
    if (folio_sort_parse(&ep->default_sort, ce->default_sort, names, n, &err) != FOLIO_OK)
        return folio__cfg_fail_at(c, at, E, "default_sort", "%s", err.detail);
    struct folio_sort full = ep->default_sort;
    for (size_t i = 0; i < ep->nkey; i++)
        if (folio_sort_append(&full, ep->key[i]) != FOLIO_OK)
            return folio__cfg_fail_at(c, at, E, "default_sort",
                                      "too many columns with the table's primary key");
    return FOLIO_OK;
}

/* tutorial-keyset pages by "after=<last id>": one INTEGER primary key, sorted by it. */
static folio_status tutorial_keyset(const struct folio__cfg *c,
                                    const struct folio_config_endpoint *ce,
                                    const struct folio_endpoint *ep)
{
    const struct folio_table *t = ep->table;
    const struct folio_column *pk = ep->nkey == 1 ? &t->cols[ep->key[0]] : NULL;
    if (pk == NULL || pk->hidden || !pk->integer)
        return folio__cfg_fail_at(c, folio_toml_table_get(ce->at, "style"), E, "style",
                                  "tutorial-keyset needs a table whose primary key is a "
                                  "single INTEGER column; %s has none",
                                  t->name);
    const struct folio_sort *s = &ep->default_sort;
    if (s->n > 1 || (s->n == 1 && (s->keys[0].column != ep->key[0] || s->keys[0].desc)))
        return folio__cfg_fail_at(c, folio_toml_table_get(ce->at, "default_sort"), E,
                                  "default_sort",
                                  "tutorial-keyset pages by the primary key: leave "
                                  "default_sort out or set it to \"%s\"",
                                  pk->name);
    if (!ep->exposed[ep->key[0]])
        return folio__cfg_fail_at(c, ce->columns, E, "columns",
                                  "tutorial-keyset hands out the last '%s' as the cursor: "
                                  "list it in columns",
                                  pk->name);
    return FOLIO_OK;
}

static folio_status build_one(const struct folio__cfg *c, const struct folio_config *cfg,
                              const struct folio_config_endpoint *ce, const folio_db *db,
                              struct folio_endpoint *ep)
{
    const struct folio_table *t = folio__db_table(db, ce->table);
    if (t == NULL)
        return table_missing(c, db, ce);
    if (folio__endpoint_init(ep, t, ce->path) != FOLIO_OK)
        return folio__cfg_nomem(c);
    if (ce->name != NULL) {
        char *name = folio_strdup(ce->name);
        if (name == NULL)
            return folio__cfg_nomem(c);
        folio_free(ep->name);
        ep->name = name;
    }
    folio_status st = FOLIO_OK;
    if (ce->key != NULL) {
        /* The configured unique key replaces the table's as the tiebreaker. */
        ep->nkey = 0;
        for (size_t i = 0; i < folio_toml_array_len(ce->key); i++) {
            const struct folio_toml_value *e = folio_toml_array_at(ce->key, i);
            const char *name = NULL;
            (void)folio_toml_string(e, &name, NULL);
            int col = column_index(t, name);
            if (col < 0)
                return folio__cfg_fail_at(c, e, E, "key", "unknown column '%s' in table %s",
                                          name, t->name);
            ep->key[ep->nkey++] = col;
        }
    } else if (ep->nkey == 0) {
        return folio__cfg_fail_at(c, ce->at, E, "key",
                                  "%s has no primary key (a view, or a table without one): "
                                  "set key = [\"col\", ...] to columns whose values are "
                                  "unique in it, so that pages never skip or repeat a row",
                                  t->name);
    }
    if (ce->columns != NULL)
        st = mark_columns(c, t, ce->columns, "columns", NULL, NULL, ep);
    else
        for (size_t i = 0; i < t->ncols; i++)
            folio__endpoint_expose(ep, (int)i);
    if (st == FOLIO_OK && ce->sortable != NULL)
        st = mark_columns(c, t, ce->sortable, "sortable", ep->exposed, ep->sortable, NULL);
    else if (st == FOLIO_OK)
        for (size_t i = 0; i < t->ncols; i++)
            ep->sortable[i] = ep->exposed[i];
    if (st == FOLIO_OK && ce->filterable != NULL)
        st = mark_columns(c, t, ce->filterable, "filterable", ep->exposed, ep->filterable,
                          NULL);
    if (st == FOLIO_OK && ce->default_sort != NULL && ce->default_sort[0] != '\0')
        st = default_sort(c, ce, ep);
    if (st == FOLIO_OK && ce->style == FOLIO_STYLE_TUTORIAL_KEYSET)
        st = tutorial_keyset(c, ce, ep);
    if (st == FOLIO_OK)
        st = folio__cfg_endpoint_scope_build(c, ce, ep);
    if (st != FOLIO_OK)
        return st;
    ep->modes = ce->modes;
    ep->default_per_page =
        ce->default_per_page ? ce->default_per_page : cfg->server.default_per_page;
    ep->max_per_page = ce->max_per_page ? ce->max_per_page : cfg->server.max_per_page;
    ep->default_count = ce->count != FOLIO_COUNT_DEFAULT ? ce->count : cfg->server.default_count;
    ep->style = ce->style;
    ep->prefetch = ce->prefetch >= 0 ? ce->prefetch == 1 : cfg->server.prefetch;
    ep->export_ok = ce->export_ok; /* off unless the endpoint says export = true */
    ep->rate = ce->rate;
    ep->burst = ce->burst ? ce->burst : folio__config_default_burst(ce->rate);
    return FOLIO_OK;
}

folio_status folio__config_endpoints(const struct folio_config *cfg, const folio_db *db,
                                     struct folio_endpoint **out, size_t *out_n,
                                     struct folio_config_error *err)
{
    struct folio__cfg c = {cfg->file ? cfg->file : "<config>", cfg->dir, err};
    *out = NULL;
    *out_n = 0;
    if (cfg->nendpoints == 0)
        return FOLIO_OK;
    struct folio_endpoint *eps = folio_calloc(cfg->nendpoints, sizeof *eps);
    if (eps == NULL)
        return folio__cfg_nomem(&c);
    size_t n = 0;
    folio_status st = FOLIO_OK;
    for (; n < cfg->nendpoints; n++) {
        st = build_one(&c, cfg, &cfg->endpoints[n], db, &eps[n]);
        if (st != FOLIO_OK)
            break;
    }
    if (st != FOLIO_OK) {
        for (size_t i = 0; i <= n && i < cfg->nendpoints; i++)
            folio__endpoint_clear(&eps[i]);
        folio_free(eps);
        return st;
    }
    *out = eps;
    *out_n = n;
    return FOLIO_OK;
}
