/* The effective settings as TOML (`folio check-config`): every key with the value folio
 * will use, defaults included, in a document folio__config_load() accepts again. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/config/config_internal.h"
#include "engine/page.h"

/* Output with a sticky status: after the first failure nothing more is written. */
struct out {
    struct folio_buf *b;
    folio_status st;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(struct out *o, const char *fmt, ...)
{
    if (o->st != FOLIO_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        o->st = FOLIO_EINVAL;
        return;
    }
    if ((o->st = folio_buf_reserve(o->b, (size_t)n)) != FOLIO_OK)
        return;
    va_start(ap, fmt);
    vsnprintf(o->b->data + o->b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    o->b->len += (size_t)n;
}

/* A TOML basic string. */
static void put_string(struct out *o, const char *s)
{
    emit(o, "%c", '"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            emit(o, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            emit(o, "\\u%04x", ch);
        else
            emit(o, "%c", (char)ch);
    }
    emit(o, "%c", '"');
}

static void put_key_string(struct out *o, const char *key, const char *value)
{
    emit(o, "%s = ", key);
    put_string(o, value);
    emit(o, "%c", '\n');
}

/* key = ["a", "b"] for the table columns marked in `marks` (NULL: the exposed columns in
 * output order). */
static void put_columns(struct out *o, const char *key, const struct folio_endpoint *ep,
                        const bool *marks)
{
    const struct folio_table *t = ep->table;
    bool first = true;
    emit(o, "%s = [", key);
    for (size_t i = 0; i < ep->ncols; i++) {
        int col = ep->cols[i];
        if (marks != NULL && !marks[col])
            continue;
        emit(o, "%s", first ? "" : ", ");
        put_string(o, t->cols[col].name);
        first = false;
    }
    emit(o, "%s", "]\n");
}

/* A configured list as written, or a comment saying what its default means. */
static void put_list_as_written(struct out *o, const char *key,
                                const struct folio_toml_value *list, const char *dflt)
{
    if (list == NULL) {
        emit(o, "# %s: %s\n", key, dflt);
        return;
    }
    emit(o, "%s = [", key);
    for (size_t i = 0; i < folio_toml_array_len(list); i++) {
        const char *s = "";
        (void)folio_toml_string(folio_toml_array_at(list, i), &s, NULL);
        emit(o, "%s", i ? ", " : "");
        put_string(o, s);
    }
    emit(o, "%s", "]\n");
}

/* key = a float that reads back as the same double: the shortest of %.15g..%.17g, with
 * ".0" when that looks like an integer. */
static void put_number(struct out *o, const char *key, double d)
{
    char text[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, d);
        if (strtod(text, NULL) == d)
            break;
    }
    emit(o, "%s = %s%s\n", key, text, strpbrk(text, ".e") ? "" : ".0");
}

/* key = [...] from n strings stored `stride` bytes apart (a char[n][stride] array). */
static void put_string_array(struct out *o, const char *key, const char *first, size_t stride,
                             size_t n)
{
    emit(o, "%s = [", key);
    for (size_t i = 0; i < n; i++) {
        emit(o, "%s", i ? ", " : "");
        put_string(o, first + i * stride);
    }
    emit(o, "%s", "]\n");
}

static void put_modes(struct out *o, unsigned modes)
{
    emit(o, "%s", "modes = [");
    if (modes & FOLIO_ALLOW_OFFSET)
        emit(o, "%s", "\"offset\"");
    if (modes & FOLIO_ALLOW_KEYSET)
        emit(o, "%s", (modes & FOLIO_ALLOW_OFFSET) ? ", \"keyset\"" : "\"keyset\"");
    emit(o, "%s", "]\n");
}

static void put_endpoint(struct out *o, const struct folio_config *cfg,
                         const struct folio_config_endpoint *ce, const struct folio_endpoint *ep)
{
    emit(o, "%s", "\n[[endpoint]]\n");
    put_key_string(o, "path", ce->path);
    put_key_string(o, "table", ce->table);
    put_key_string(o, "name", ep ? ep->name : ce->name ? ce->name : ce->table);
    if (ep != NULL) {
        const struct folio_table *t = ep->table;
        put_columns(o, "columns", ep, NULL);
        put_columns(o, "sortable", ep, ep->sortable);
        put_columns(o, "filterable", ep, ep->filterable);
        const char *names[FOLIO_PAGE_MAX_SELECT + 1];
        for (size_t c = 0; c < t->ncols_all && c <= FOLIO_PAGE_MAX_SELECT; c++)
            names[c] = t->cols[c].name;
        struct folio_buf s;
        folio_buf_init(&s, 16 * 1024);
        if (ep->default_sort.n > 0 && o->st == FOLIO_OK)
            o->st = folio_sort_format(&s, &ep->default_sort, names);
        put_key_string(o, "default_sort", s.data ? s.data : "");
        folio_buf_clear(&s);
    } else {
        put_list_as_written(o, "columns", ce->columns, "every column of the table");
        put_list_as_written(o, "sortable", ce->sortable, "the same as columns");
        put_list_as_written(o, "filterable", ce->filterable, "none");
        put_key_string(o, "default_sort", ce->default_sort ? ce->default_sort : "");
    }
    if (ce->key != NULL)
        put_list_as_written(o, "key", ce->key, "the table's primary key");
    put_modes(o, ce->modes);
    emit(o, "default_per_page = %d\n",
                     ce->default_per_page ? ce->default_per_page
                                          : cfg->server.default_per_page);
    emit(o, "max_per_page = %d\n",
                     ce->max_per_page ? ce->max_per_page : cfg->server.max_per_page);
    put_key_string(o, "count",
                   folio__config_count_name(
                       ce->count != FOLIO_COUNT_DEFAULT ? ce->count : cfg->server.default_count));
    put_key_string(o, "style", folio__config_style_name(ce->style));
    emit(o, "prefetch = %s\n",
         (ce->prefetch >= 0 ? ce->prefetch == 1 : cfg->server.prefetch) ? "true" : "false");
    if (ce->rate > 0) {
        put_number(o, "rate", ce->rate);
        emit(o, "burst = %u\n", ce->burst ? ce->burst : folio__config_default_burst(ce->rate));
    } else {
        emit(o, "%s", "# rate, burst: not set, the [rate_limit] limit applies\n");
    }
    if (ce->auth >= 0)
        put_key_string(o, "auth", folio__cfg_auth_names[ce->auth]);
    else
        emit(o, "%s", "# auth: not set, the [auth] mode applies\n");
    if (ce->scope != NULL) {
        emit(o, "%s", "scope = { ");
        for (size_t i = 0; i < folio_toml_table_count(ce->scope); i++) {
            const char *col = folio_toml_table_key(ce->scope, i, NULL);
            emit(o, "%s", i ? ", " : "");
            put_string(o, col ? col : "");
            char src[sizeof ce->scope_names[i] + 8];
            snprintf(src, sizeof src, "%s.%s", ce->scope_from_claims[i] ? "claims" : "key",
                     ce->scope_names[i]);
            emit(o, "%s", " = ");
            put_string(o, src);
        }
        emit(o, "%s", " }\n");
    }
    emit(o, "export = %s\n", ce->export_ok ? "true" : "false");
}

/* [auth] and its [[auth.jwt_keys]]: where keys come from, never a key. */
static void put_auth(struct out *o, const struct folio_config *cfg)
{
    const struct folio_auth *a = &cfg->auth;
    static const char *const algs[] = {"HS256", "RS256", "ES256"};
    emit(o, "%s", "\n[auth]\n");
    put_key_string(o, "mode", folio__cfg_auth_names[a->mode]);
    if (cfg->keys_file != NULL) {
        put_key_string(o, "keys_file", cfg->keys_file);
        put_key_string(o, "keys_secret_file", cfg->keys_secret_file);
    } else {
        emit(o, "%s", "# keys_file, keys_secret_file: not set, no API keys\n");
    }
    if (cfg->metrics_token_file != NULL)
        put_key_string(o, "metrics_token_file", cfg->metrics_token_file);
    else
        emit(o, "%s", "# metrics_token_file: not set, /metrics needs no token\n");
    if (a->issuer[0] != '\0')
        put_key_string(o, "jwt_issuer", a->issuer);
    if (a->audience[0] != '\0')
        put_key_string(o, "jwt_audience", a->audience);
    emit(o, "jwt_leeway = %u\n", a->leeway);
    emit(o, "jwt_require_exp = %s\n", a->require_exp ? "true" : "false");
    for (size_t i = 0; i < a->njwt; i++) {
        emit(o, "%s", "\n[[auth.jwt_keys]]\n");
        if (a->jwt[i].kid[0] != '\0')
            put_key_string(o, "kid", a->jwt[i].kid);
        put_key_string(o, "alg", algs[a->jwt[i].alg]);
        put_key_string(o, "file", a->jwt[i].file);
    }
}

folio_status folio__config_write(const struct folio_config *cfg, const folio_db *db,
                                 const struct folio_endpoint *eps, size_t neps,
                                 struct folio_buf *out)
{
    struct out ob = {out, FOLIO_OK}, *o = &ob;
    const struct folio_server_config *s = &cfg->server;
    emit(o, "# effective settings%s%s\n", cfg->file ? " of " : "",
                     cfg->file ? cfg->file : "");

    emit(o, "%s", "\n[server]\n");
    emit(o, "listen = \"%s:%u\"\n", s->listen_host, s->listen_port);
    emit(o, "threads = %u\n", s->threads);
    if (s->io_threads == 0)
        emit(o, "io_threads = 0 # one per CPU folio may run on: %u here\n",
             folio__server_auto_io_threads());
    else
        emit(o, "io_threads = %u\n", s->io_threads);
    emit(o, "queue = %u\n", s->queue);
    emit(o, "client_jobs = %u\n", s->client_jobs);
    emit(o, "max_connections = %u\n", s->max_connections);
    emit(o, "max_connections_per_ip = %u\n", s->max_connections_per_ip);
    emit(o, "request_timeout = %u\n", s->request_timeout);
    emit(o, "timeout = %u\n", s->connection_timeout);
    emit(o, "max_request_bytes = %zu\n", s->max_request_bytes);
    emit(o, "max_url_bytes = %zu\n", s->max_url_bytes);
    emit(o, "max_response_bytes = %zu\n", s->max_response_bytes);
    emit(o, "debug_plan = %s\n", s->debug_plan ? "true" : "false");
    emit(o, "query_timeout = %u.%03u\n", s->query_timeout_ms / 1000u, s->query_timeout_ms % 1000u);
    emit(o, "inline_budget = %u.%06u\n", s->inline_budget_us / 1000000u,
         s->inline_budget_us % 1000000u);
    emit(o, "require_auth_off_loopback = %s\n", s->require_auth_off_loopback ? "true" : "false");
    if (s->tls_cert[0] != '\0') {
        put_key_string(o, "tls_cert", s->tls_cert);
        put_key_string(o, "tls_key", s->tls_key);
    } else {
        emit(o, "%s", "# tls_cert, tls_key: not set, plain HTTP\n");
    }
    if (s->metrics_host[0] != '\0')
        emit(o, "metrics_listen = \"%s:%u\"\n", s->metrics_host, s->metrics_port);
    else
        emit(o, "%s", "# metrics_listen: not set, /metrics is served on listen\n");

    emit(o, "%s", "\n[database]\n");
    if (cfg->db_path != NULL)
        put_key_string(o, "path", cfg->db_path);
    else if (cfg->db_url != NULL)
        put_key_string(o, "url", cfg->db_url);
    else
        emit(o, "%s", "# path is not set: serve takes the database from its command "
                          "line\n");
    if (cfg->db_url != NULL || cfg->db_options.statement_timeout_ms > 0 ||
        cfg->db_options.application_name != NULL || cfg->db_options.nschemas > 0) {
        emit(o, "statement_timeout = %u\n", cfg->db_options.statement_timeout_ms);
        put_key_string(o, "application_name", cfg->db_options.application_name
                                                  ? cfg->db_options.application_name
                                                  : "folio");
        emit(o, "%s", "schemas = [");
        size_t ns = cfg->db_options.nschemas;
        for (size_t i = 0; i < (ns ? ns : 1); i++) {
            emit(o, "%s", i ? ", " : "");
            put_string(o, ns ? cfg->db_options.schemas[i] : "public");
        }
        emit(o, "%s", "]\n");
    }
    if (cfg->db_options.nreplicas > 0) {
        emit(o, "%s", "replicas = [");
        for (size_t i = 0; i < cfg->db_options.nreplicas; i++) {
            emit(o, "%s", i ? ", " : "");
            put_string(o, cfg->db_options.replicas[i]);
        }
        emit(o, "%s", "]\n");
    }
    if (cfg->db_options.unprepared)
        emit(o, "%s", "prepared = false\n");

    emit(o, "%s", "\n[pagination]\n");
    emit(o, "default_per_page = %d\n", s->default_per_page);
    emit(o, "max_per_page = %d\n", s->max_per_page);
    put_key_string(o, "count", folio__config_count_name(s->default_count));
    emit(o, "count_limit = %lld\n", (long long)s->count_limit);
    emit(o, "max_offset = %lld\n", (long long)s->max_offset);
    emit(o, "hybrid = %s\n", s->hybrid ? "true" : "false");

    emit(o, "%s", "\n[cursor]\n");
    emit(o, "ttl = %llu\n", (unsigned long long)s->cursor_ttl);
    emit(o, "encrypt = %s\n", cfg->encrypt ? "true" : "false");
    if (cfg->nkeys == 0)
        emit(o, "%s", "# no [[cursor.keys]]: serve uses --secret-file, else the key "
                          "generated beside the database\n");
    for (size_t i = 0; i < cfg->nkeys; i++) {
        const struct folio_config_key *k = &cfg->keys[i];
        emit(o, "\n[[cursor.keys]] # %s\nid = %u\n",
                         i == 0 ? "signs new cursors and verifies" : "verifies only",
                         (unsigned)k->id);
        if (k->secret_file != NULL)
            put_key_string(o, "secret_file", k->secret_file);
        else
            put_key_string(o, "secret_env", k->secret_env);
    }

    emit(o, "%s", "\n[api]\n");
    emit(o, "auto = %s\n", s->auto_endpoints ? "true" : "false");
    emit(o, "sortable = \"%s\"\n", s->sort_any ? "all" : "indexed");
    if (s->auto_endpoints && db != NULL) {
        const struct folio_schema *sc = folio__db_schema(db);
        for (size_t t = 0; t < sc->ntables; t++) {
            bool taken = false;
            for (size_t e = 0; e < cfg->nendpoints; e++)
                taken = taken || (strncmp(cfg->endpoints[e].path, "/api/", 5) == 0 &&
                                  strcmp(cfg->endpoints[e].path + 5, sc->tables[t].name) == 0);
            if (!taken)
                emit(o, "# serves /api/%s\n", sc->tables[t].name);
        }
    }

    emit(o, "%s", "\n[files]\n");
    if (cfg->files_root != NULL)
        put_key_string(o, "root", cfg->files_root);
    else
        emit(o, "%s", "# root is not set\n");

    emit(o, "%s", "\n[rate_limit]\n");
    put_number(o, "rate", s->rate);
    if (s->rate > 0)
        emit(o, "burst = %u\n", s->burst);
    else
        emit(o, "%s", "# burst: only with a rate above 0\n");
    emit(o, "clients = %zu\n", s->rate_clients);
    put_string_array(o, "trusted_proxies", s->trusted_proxies[0], sizeof s->trusted_proxies[0],
                     s->ntrusted_proxies);

    emit(o, "%s", "\n[cors]\n");
    put_string_array(o, "origins", s->cors_origins[0], sizeof s->cors_origins[0],
                     s->ncors_origins);

    emit(o, "%s", "\n[log]\n");
    put_key_string(o, "access", s->access_log);

    emit(o, "%s", "\n[prefetch]\n");
    emit(o, "enabled = %s\n", s->prefetch ? "true" : "false");
    emit(o, "threads = %u\n", s->prefetch_threads);
    emit(o, "queue = %u\n", s->prefetch_queue);
    emit(o, "cache_bytes = %zu\n", s->cache_bytes);
    emit(o, "ttl = %u\n", s->cache_ttl_ms / 1000u);

    put_auth(o, cfg);
    emit(o, "%s", "\n[export]\n");
    emit(o, "auto = %s\n", s->export_auto ? "true" : "false");
    emit(o, "max_rows = %lld\n", (long long)s->export_max_rows);
    emit(o, "max = %u\n", s->export_max);
    emit(o, "per_client = %u\n", s->export_per_client);
    emit(o, "checkpoint_every = %u\n", s->export_checkpoint_every);

    emit(o, "%s", "\n[compression]\n");
    emit(o, "gzip = %s\n", s->gzip ? "true" : "false");
    if (s->cluster.redis[0] != '\0') {
        emit(o, "%s", "\n[cluster]\n");
        put_key_string(o, "redis", s->cluster.redis);
        emit(o, "timeout_ms = %u\n", s->cluster.timeout_ms);
        put_key_string(o, "fail", s->cluster.fail_closed ? "closed" : "open");
        emit(o, "limits = %s\n", s->cluster.limits ? "true" : "false");
        emit(o, "cache = %s\n", s->cluster.cache ? "true" : "false");
    }

    for (size_t i = 0; i < cfg->nendpoints; i++)
        put_endpoint(o, cfg, &cfg->endpoints[i], eps != NULL && i < neps ? &eps[i] : NULL);

    return o->st;
}
