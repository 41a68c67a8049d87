/* Loading folio.toml: the file, the top level, and the small sections ([server],
 * [database], [pagination], [api], [files]). [cursor] is in config_cursor.c, [[endpoint]]
 * in config_endpoint.c, [rate_limit], [cors], [log] and [prefetch] in config_ops.c, the
 * effective settings in config_write.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/config/config_internal.h"
#include "engine/page.h"

const char *const folio__cfg_count_names[3] = {"none", "exact", "estimate"};
const enum folio_count folio__cfg_count_values[3] = {FOLIO_COUNT_NONE, FOLIO_COUNT_EXACT,
                                                     FOLIO_COUNT_ESTIMATE};
const char *const folio__cfg_style_names[4] = {"folio", "tutorial-offset", "tutorial-keyset",
                                               "tutorial-signed"};

const char *folio__config_count_name(enum folio_count count)
{
    for (size_t i = 0; i < 3; i++)
        if (folio__cfg_count_values[i] == count)
            return folio__cfg_count_names[i];
    return "none";
}

const char *folio__config_style_name(enum folio_style style)
{
    return (unsigned)style < 4 ? folio__cfg_style_names[style] : "folio";
}

void folio__config_init(struct folio_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    folio__server_config_defaults(&cfg->server);
    folio_keyring_init(&cfg->keyring, false);
    folio__auth_init(&cfg->auth);
    cfg->server.auth = &cfg->auth;
}

void folio__config_clear(struct folio_config *cfg)
{
    folio_free(cfg->file);
    folio_free(cfg->dir);
    folio_free(cfg->db_path);
    folio_free(cfg->files_root);
    for (size_t i = 0; i < cfg->nkeys; i++)
        folio_free(cfg->keys[i].secret_file);
    folio_free(cfg->endpoints);
    folio_keyring_clear(&cfg->keyring);
    folio__auth_clear(&cfg->auth);
    folio_free(cfg->keys_file);
    folio_free(cfg->keys_secret_file);
    folio_free(cfg->metrics_token_file);
    folio_toml_free(cfg->doc);
    folio__config_init(cfg);
}

/* --- [server] ------------------------------------------------------------------------ */

static folio_status parse_listen(const struct folio__cfg *c, const struct folio_toml_value *v,
                                 struct folio_server_config *s)
{
    const char *text;
    folio_status st = folio__cfg_string(c, v, "[server]", "listen", false, &text);
    if (st != FOLIO_OK)
        return st;
    const char *colon = strrchr(text, ':');
    int64_t port;
    if (colon == NULL || folio_parse_int64(colon + 1, false, &port) != FOLIO_OK || port < 1 ||
        port > 65535)
        return folio__cfg_fail_at(c, v, "[server]", "listen",
                                  "expected \"HOST:PORT\" with a port from 1 to 65535, got "
                                  "\"%.64s\"",
                                  text);
    char host[sizeof s->listen_host];
    size_t hlen = (size_t)(colon - text);
    struct in_addr addr;
    if (hlen >= sizeof host)
        return folio__cfg_fail_at(c, v, "[server]", "listen", "the host is too long");
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    if (inet_pton(AF_INET, host, &addr) != 1)
        return folio__cfg_fail_at(c, v, "[server]", "listen",
                                  "'%s' is not an IPv4 address (write e.g. "
                                  "\"127.0.0.1:8080\" or \"0.0.0.0:8080\")",
                                  host);
    memcpy(s->listen_host, host, hlen + 1);
    s->listen_port = (uint16_t)port;
    return FOLIO_OK;
}

static folio_status server_key(const struct folio__cfg *c, const char *S, const char *k,
                               const struct folio_toml_value *v, void *ctx)
{
    struct folio_server_config *s = ctx;
    folio_status st;
    int64_t n = 0;
    if (strcmp(k, "listen") == 0) {
        st = parse_listen(c, v, s);
    } else if (strcmp(k, "threads") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, 256, &n)) == FOLIO_OK)
            s->threads = (unsigned)n;
    } else if (strcmp(k, "max_connections") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, 65536, &n)) == FOLIO_OK)
            s->max_connections = (unsigned)n;
    } else if (strcmp(k, "io_threads") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 0, 64, &n)) == FOLIO_OK)
            s->io_threads = (unsigned)n;
    } else if (strcmp(k, "queue") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, 65536, &n)) == FOLIO_OK)
            s->queue = (unsigned)n;
    } else if (strcmp(k, "client_jobs") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 0, 256, &n)) == FOLIO_OK)
            s->client_jobs = (unsigned)n;
    } else if (strcmp(k, "max_connections_per_ip") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 0, 65536, &n)) == FOLIO_OK)
            s->max_connections_per_ip = (unsigned)n;
    } else if (strcmp(k, "request_timeout") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 0, 3600, &n)) == FOLIO_OK)
            s->request_timeout = (unsigned)n;
    } else if (strcmp(k, "timeout") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 0, 86400, &n)) == FOLIO_OK)
            s->connection_timeout = (unsigned)n;
    } else if (strcmp(k, "max_request_bytes") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 4096, 64 << 20, &n)) == FOLIO_OK)
            s->max_request_bytes = (size_t)n;
    } else if (strcmp(k, "max_url_bytes") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 256, 1 << 20, &n)) == FOLIO_OK)
            s->max_url_bytes = (size_t)n;
    } else if (strcmp(k, "max_response_bytes") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 64 << 10, 1 << 30, &n)) == FOLIO_OK)
            s->max_response_bytes = (size_t)n;
    } else if (strcmp(k, "query_timeout") == 0) {
        double d = 0;
        if ((st = folio__cfg_number(c, v, S, k, 0, 3600, &d)) == FOLIO_OK) {
            s->query_timeout_ms = (unsigned)(d * 1000.0 + 0.5);
            if (d > 0 && s->query_timeout_ms == 0)
                s->query_timeout_ms = 1; /* a limit below a millisecond is one millisecond */
        }
    } else if (strcmp(k, "inline_budget") == 0) {
        double d = 0;
        if ((st = folio__cfg_number(c, v, S, k, 0, 1, &d)) == FOLIO_OK) {
            s->inline_budget_us = (unsigned)(d * 1e6 + 0.5);
            if (d > 0 && s->inline_budget_us == 0)
                s->inline_budget_us = 1;
        }
    } else if (strcmp(k, "debug_plan") == 0) {
        st = folio__cfg_bool(c, v, S, k, &s->debug_plan);
    } else { /* tls_cert, tls_key, metrics_listen, require_auth_off_loopback */
        st = folio__cfg_server_auth_key(c, S, k, v, s);
    }
    return st;
}

static folio_status section_server(const struct folio__cfg *c,
                                   const struct folio_toml_value *t, struct folio_config *cfg)
{
    static const char *const known[] = {
        "listen",        "threads",           "io_threads",      "queue",
        "client_jobs",   "max_connections",   "max_connections_per_ip", "request_timeout",
        "timeout",       "max_request_bytes", "max_url_bytes",   "max_response_bytes",
        "debug_plan",    "query_timeout",     "inline_budget",   "tls_cert",        "tls_key",
        "metrics_listen", "require_auth_off_loopback", NULL};
    static const char S[] = "[server]";
    struct folio_server_config *s = &cfg->server;
    folio_status st = folio__cfg_keys(c, t, S, known, server_key, s);
    if (st != FOLIO_OK)
        return st;
    const struct folio_toml_value *url = folio_toml_table_get(t, "max_url_bytes");
    if (s->max_url_bytes > s->max_request_bytes)
        return folio__cfg_fail_at(c, url ? url : t, S, "max_url_bytes",
                                  "%zu is larger than max_request_bytes (%zu)",
                                  s->max_url_bytes, s->max_request_bytes);
    return FOLIO_OK;
}

/* --- [database] ---------------------------------------------------------------------- */

struct database_ctx {
    struct folio_config *cfg;
    const struct folio_toml_value *table;
};

static folio_status database_key(const struct folio__cfg *c, const char *S, const char *k,
                                 const struct folio_toml_value *v, void *ctx)
{
    struct database_ctx *d = ctx;
    struct folio_config *cfg = d->cfg;
    folio_status st;
    int64_t n;
    if (strcmp(k, "path") == 0) {
        cfg->db_path_at = v;
        return folio__cfg_path(c, v, S, k, &cfg->db_path);
    }
    if (strcmp(k, "url") == 0) {
        cfg->db_url_at = v;
        if ((st = folio__cfg_string(c, v, S, k, false, &cfg->db_url)) != FOLIO_OK)
            return st;
        if (!folio__db_target_is_pg(cfg->db_url))
            return folio__cfg_fail_at(c, v, S, k,
                                      "expected a PostgreSQL URL (postgresql://USER@HOST:PORT/"
                                      "DB) or a key=value connection string; a SQLite file "
                                      "goes in path");
        return FOLIO_OK;
    }
    if (strcmp(k, "statement_timeout") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 0, 86400000, &n)) == FOLIO_OK)
            cfg->db_options.statement_timeout_ms = (unsigned)n;
        return st;
    }
    if (strcmp(k, "application_name") == 0)
        return folio__cfg_string(c, v, S, k, false, &cfg->db_options.application_name);
    if (strcmp(k, "prepared") == 0) {
        bool prepared = true;
        if ((st = folio__cfg_bool(c, v, S, k, &prepared)) == FOLIO_OK)
            cfg->db_options.unprepared = !prepared;
        return st;
    }
    if (strcmp(k, "replicas") == 0) {
        if ((st = folio__cfg_string_list(c, v, S, k, true)) != FOLIO_OK)
            return st;
        size_t len = folio_toml_array_len(v);
        if (len > sizeof cfg->db_replicas / sizeof cfg->db_replicas[0])
            return folio__cfg_fail_at(c, v, S, k, "at most %zu replicas",
                                      sizeof cfg->db_replicas / sizeof cfg->db_replicas[0]);
        for (size_t i = 0; i < len; i++) {
            (void)folio_toml_string(folio_toml_array_at(v, i), &cfg->db_replicas[i], NULL);
            if (!folio__db_target_is_pg(cfg->db_replicas[i]))
                return folio__cfg_fail_at(c, folio_toml_array_at(v, i), S, k,
                                          "expected a PostgreSQL URL (postgresql://USER@HOST:"
                                          "PORT/DB) or a key=value connection string");
        }
        cfg->db_options.replicas = cfg->db_replicas;
        cfg->db_options.nreplicas = len;
        cfg->db_replicas_at = v;
        return FOLIO_OK;
    }
    /* schemas */
    if ((st = folio__cfg_string_list(c, v, S, k, false)) != FOLIO_OK)
        return st;
    size_t len = folio_toml_array_len(v);
    if (len > sizeof cfg->db_schemas / sizeof cfg->db_schemas[0])
        return folio__cfg_fail_at(c, v, S, k, "at most %zu schemas",
                                  sizeof cfg->db_schemas / sizeof cfg->db_schemas[0]);
    for (size_t i = 0; i < len; i++)
        (void)folio_toml_string(folio_toml_array_at(v, i), &cfg->db_schemas[i], NULL);
    cfg->db_options.schemas = cfg->db_schemas;
    cfg->db_options.nschemas = len;
    return FOLIO_OK;
}

static folio_status section_database(const struct folio__cfg *c,
                                     const struct folio_toml_value *t,
                                     struct folio_config *cfg)
{
    static const char *const known[] = {"path", "url", "statement_timeout",
                                        "application_name", "schemas", "replicas",
                                        "prepared", NULL};
    struct database_ctx d = {cfg, t};
    folio_status st = folio__cfg_keys(c, t, "[database]", known, database_key, &d);
    if (st == FOLIO_OK && cfg->db_path != NULL && cfg->db_url != NULL)
        return folio__cfg_fail_at(c, cfg->db_url_at, "[database]", "url",
                                  "give either path (SQLite) or url (PostgreSQL), not both");
    if (st == FOLIO_OK && cfg->db_options.nreplicas > 0 && cfg->db_path != NULL)
        return folio__cfg_fail_at(c, cfg->db_replicas_at, "[database]", "replicas",
                                  "replicas are PostgreSQL servers: give url, not path");
    return st;
}

/* --- [pagination] -------------------------------------------------------------------- */

static folio_status pagination_key(const struct folio__cfg *c, const char *S, const char *k,
                                   const struct folio_toml_value *v, void *ctx)
{
    struct folio_server_config *s = ctx;
    folio_status st;
    int64_t n = 0;
    int e = 0;
    if (strcmp(k, "default_per_page") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, FOLIO_MAX_PER_PAGE, &n)) == FOLIO_OK)
            s->default_per_page = (int)n;
    } else if (strcmp(k, "max_per_page") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, FOLIO_MAX_PER_PAGE, &n)) == FOLIO_OK)
            s->max_per_page = (int)n;
    } else if (strcmp(k, "count") == 0) {
        if ((st = folio__cfg_enum(c, v, S, k, folio__cfg_count_names, 3, &e)) == FOLIO_OK)
            s->default_count = folio__cfg_count_values[e];
    } else if (strcmp(k, "count_limit") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, INT64_C(1) << 40, &n)) == FOLIO_OK)
            s->count_limit = n;
    } else if (strcmp(k, "max_offset") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 0, INT64_C(1) << 50, &n)) == FOLIO_OK)
            s->max_offset = n;
    } else { /* hybrid */
        st = folio__cfg_bool(c, v, S, k, &s->hybrid);
    }
    return st;
}

static folio_status section_pagination(const struct folio__cfg *c,
                                       const struct folio_toml_value *t,
                                       struct folio_config *cfg)
{
    static const char *const known[] = {"default_per_page", "max_per_page", "count",
                                        "count_limit",      "max_offset",   "hybrid", NULL};
    static const char S[] = "[pagination]";
    struct folio_server_config *s = &cfg->server;
    folio_status st = folio__cfg_keys(c, t, S, known, pagination_key, s);
    if (st != FOLIO_OK)
        return st;
    if (s->default_per_page > s->max_per_page) {
        const struct folio_toml_value *d = folio_toml_table_get(t, "default_per_page");
        const struct folio_toml_value *m = folio_toml_table_get(t, "max_per_page");
        return folio__cfg_fail_at(c, d ? d : m, S, d ? "default_per_page" : "max_per_page",
                                  "default_per_page (%d) is larger than max_per_page (%d)",
                                  s->default_per_page, s->max_per_page);
    }
    return FOLIO_OK;
}

/* --- [api], [files] ------------------------------------------------------------------ */

static folio_status api_key(const struct folio__cfg *c, const char *S, const char *k,
                            const struct folio_toml_value *v, void *ctx)
{
    struct folio_config *cfg = ctx;
    if (strcmp(k, "sortable") == 0) {
        static const char *const names[] = {"indexed", "all"};
        int e = 0;
        folio_status st = folio__cfg_enum(c, v, S, k, names, 2, &e);
        if (st == FOLIO_OK)
            cfg->server.sort_any = e == 1;
        return st;
    }
    cfg->api_auto_given = true;
    return folio__cfg_bool(c, v, S, k, &cfg->server.auto_endpoints);
}

static folio_status files_root(const struct folio__cfg *c, const char *S, const char *k,
                               const struct folio_toml_value *v, void *ctx)
{
    struct folio_config *cfg = ctx;
    folio_status st = folio__cfg_path(c, v, S, k, &cfg->files_root);
    if (st != FOLIO_OK)
        return st;
    struct stat sb;
    if (stat(cfg->files_root, &sb) != 0)
        return folio__cfg_fail_at(c, v, S, k, "cannot use %s: %s", cfg->files_root,
                                  strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return folio__cfg_fail_at(c, v, S, k, "%s is not a directory", cfg->files_root);
    size_t len = strlen(cfg->files_root);
    if (len >= sizeof cfg->server.files_root)
        return folio__cfg_fail_at(c, v, S, k, "the path is too long");
    memcpy(cfg->server.files_root, cfg->files_root, len + 1);
    return FOLIO_OK;
}

static folio_status section_api(const struct folio__cfg *c, const struct folio_toml_value *t,
                                struct folio_config *cfg)
{
    static const char *const known[] = {"auto", "sortable", NULL};
    return folio__cfg_keys(c, t, "[api]", known, api_key, cfg);
}

static folio_status section_files(const struct folio__cfg *c, const struct folio_toml_value *t,
                                  struct folio_config *cfg)
{
    static const char *const known[] = {"root", NULL};
    return folio__cfg_keys(c, t, "[files]", known, files_root, cfg);
}

/* --- the document -------------------------------------------------------------------- */

/* The sections, each read by one function; [[endpoint]] is an array of tables. */
static const struct section {
    const char *name;
    folio_status (*read)(const struct folio__cfg *c, const struct folio_toml_value *t,
                         struct folio_config *cfg);
} sections[] = {
    {"server", section_server},         {"database", section_database},
    {"pagination", section_pagination}, {"cursor", folio__cfg_cursor},
    {"api", section_api},               {"files", section_files},
    {"rate_limit", folio__cfg_rate_limit}, {"cors", folio__cfg_cors},
    {"log", folio__cfg_log},            {"prefetch", folio__cfg_prefetch},
    {"cluster", folio__cfg_cluster},
    {"endpoint", folio__cfg_endpoint_list},
    {"auth", folio__cfg_auth},
    {"export", folio__cfg_export},      {"compression", folio__cfg_compression},
};

static folio_status load_root(const struct folio__cfg *c, struct folio_config *cfg)
{
    const size_t nsections = sizeof sections / sizeof sections[0];
    const struct folio_toml_value *root = folio_toml_root(cfg->doc);
    for (size_t i = 0; i < folio_toml_table_count(root); i++) {
        const char *k = folio__cfg_key(root, i);
        const struct folio_toml_value *v = folio_toml_table_value(root, i);
        char section[80];
        snprintf(section, sizeof section, "[%.60s]", k ? k : "");
        size_t j = 0;
        while (k != NULL && j < nsections && strcmp(k, sections[j].name) != 0)
            j++;
        bool known = k != NULL && j < nsections;
        uint32_t line = folio_toml_table_key_line(root, i);
        uint32_t col = folio_toml_table_key_column(root, i);
        if (!known && folio_toml_type(v) == FOLIO_TOML_TABLE)
            return folio__cfg_fail(c, line, col, section, NULL,
                                   "unknown section (the sections are [server], [database], "
                                   "[pagination], [cursor], [api], [files], [rate_limit], "
                                   "[cors], [log], [prefetch], [auth], [export], [compression], "
                                   "[cluster] and [[endpoint]])");
        if (!known)
            return folio__cfg_fail(c, line, col, k ? k : "", NULL,
                                   "unknown key at the top level (settings belong in a "
                                   "section such as [server])");
        if (strcmp(k, "endpoint") != 0 && folio_toml_type(v) != FOLIO_TOML_TABLE)
            return folio__cfg_fail_at(c, v, section, NULL, "expected a table, got a value");
        folio_status st = sections[j].read(c, v, cfg);
        if (st != FOLIO_OK)
            return st;
    }
    if (!cfg->api_auto_given)
        cfg->server.auto_endpoints = cfg->nendpoints == 0;
    folio_status st = folio__cfg_auth_check(c, cfg);
    return st != FOLIO_OK ? st : folio__cfg_endpoint_limits(c, cfg);
}

folio_status folio__config_load_text(struct folio_config *cfg, const char *text, size_t len,
                                     const char *file, const char *dir,
                                     struct folio_config_error *err)
{
    folio__config_init(cfg);
    if (err != NULL) {
        err->status = FOLIO_OK;
        err->message[0] = '\0';
    }
    struct folio__cfg c = {file ? file : "<config>", dir ? dir : ".", err};
    cfg->file = folio_strdup(c.file);
    cfg->dir = folio_strdup(c.dir);
    if (cfg->file == NULL || cfg->dir == NULL) {
        folio__config_clear(cfg);
        return folio__cfg_nomem(&c);
    }
    struct folio_error terr = {0};
    folio_status st = folio_toml_parse(text, len, c.file, &cfg->doc, &terr);
    if (st != FOLIO_OK) {
        if (err != NULL) {
            err->status = st == FOLIO_ENOMEM ? FOLIO_ENOMEM : FOLIO_ECONFIG;
            snprintf(err->message, sizeof err->message, "%s", terr.detail);
        }
        folio__config_clear(cfg);
        return st == FOLIO_ENOMEM ? FOLIO_ENOMEM : FOLIO_ECONFIG;
    }
    st = load_root(&c, cfg);
    if (st != FOLIO_OK)
        folio__config_clear(cfg);
    return st;
}

folio_status folio__config_load(struct folio_config *cfg, const char *path,
                                struct folio_config_error *err)
{
    folio__config_init(cfg);
    char why[128];
    int fd = folio__config_file_open(path, NULL, why, sizeof why);
    if (fd < 0) {
        if (err != NULL) {
            err->status = FOLIO_EIO;
            snprintf(err->message, sizeof err->message, "%s: cannot read the file: %s", path,
                     why);
        }
        return FOLIO_EIO;
    }
    struct folio_buf text;
    folio_buf_init(&text, FOLIO_TOML_DEFAULT_MAX_BYTES + 1);
    char chunk[16384];
    ssize_t n;
    folio_status st = FOLIO_OK;
    while (st == FOLIO_OK && (n = read(fd, chunk, sizeof chunk)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = FOLIO_EIO;
            break;
        }
        st = folio_buf_append(&text, chunk, (size_t)n);
    }
    int read_errno = errno;
    close(fd);
    if (st != FOLIO_OK) {
        folio_buf_clear(&text);
        if (err != NULL) {
            err->status = st == FOLIO_ETOOBIG ? FOLIO_ECONFIG : st;
            snprintf(err->message, sizeof err->message, "%s: %s", path,
                     st == FOLIO_ETOOBIG ? "the file is larger than 8 MiB"
                     : st == FOLIO_EIO   ? strerror(read_errno)
                                         : "out of memory");
        }
        return st == FOLIO_ETOOBIG ? FOLIO_ECONFIG : st;
    }

    /* Relative paths in the file are relative to its directory, made absolute so that
     * messages and `check-config` show where things really are. */
    char *copy = folio_strdup(path);
    char *slash = copy ? strrchr(copy, '/') : NULL;
    const char *dirpart = ".";
    if (slash == copy && copy != NULL)
        dirpart = "/";
    else if (slash != NULL) {
        *slash = '\0';
        dirpart = copy;
    }
    char *abs = copy ? realpath(dirpart, NULL) : NULL;
    if (copy == NULL || (abs == NULL && errno == ENOMEM)) {
        folio_free(copy);
        folio_buf_clear(&text);
        struct folio__cfg c = {path, ".", err};
        return folio__cfg_nomem(&c);
    }
    st = folio__config_load_text(cfg, text.data ? text.data : "", text.len, path,
                                 abs ? abs : dirpart, err);
    free(abs); /* realpath() allocates with the C library */
    folio_free(copy);
    folio_buf_clear(&text);
    return st;
}

folio_status folio__config_open_db(const struct folio_config *cfg, const char *override,
                                   folio_db **out, struct folio_config_error *err)
{
    const char *path = override ? override : cfg->db_url ? cfg->db_url : cfg->db_path;
    if (path == NULL) {
        if (err != NULL) {
            err->status = FOLIO_ECONFIG;
            snprintf(err->message, sizeof err->message,
                     "%s: [database] path: missing; set it or give the database on the "
                     "command line",
                     cfg->file ? cfg->file : "<config>");
        }
        return FOLIO_ECONFIG;
    }
    struct folio_error e = {0};
    folio_status st;
    struct stat sb;
    /* SQLite would open a FIFO and then wait on it for ever, or read a device as an
     * empty database: only a regular file (or one not yet there) is a database. */
    if (!folio__db_target_is_pg(path) && stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        st = folio_error_set(&e, FOLIO_EIO, FOLIO_KIND_NONE, NULL,
                             "cannot open database %s: it is %s, not "
                             "a regular file",
                             path, folio__config_file_kind(sb.st_mode));
    else
        st = folio__db_open_with(out, path, &cfg->db_options, &e);
    if (st == FOLIO_OK || err == NULL)
        return st;
    err->status = st;
    const struct folio_toml_value *at = cfg->db_url ? cfg->db_url_at : cfg->db_path_at;
    if (override == NULL && at != NULL)
        snprintf(err->message, sizeof err->message, "%s:%u:%u: [database] %s: %s", cfg->file,
                 folio_toml_line(at), folio_toml_column(at), cfg->db_url ? "url" : "path",
                 e.detail);
    else
        snprintf(err->message, sizeof err->message, "%s", e.detail);
    return st;
}
