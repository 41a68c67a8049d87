/* folio serve DB_PATH [options], folio serve --config folio.toml [DB_PATH]: serve a
 * database as a paginated JSON HTTP API until SIGINT or SIGTERM. SIGHUP reloads the
 * config file without dropping a connection (reload.c). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "reload.h"
#include "secret.h"
#include "db/db.h"
#include "server/config/config.h"
#include "server/server.h"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: folio serve DB_PATH [options]\n"
            "       folio serve --config FILE [DB_PATH] [options]\n\n"
            "  --config FILE         settings, endpoints and cursor keys from a TOML file\n"
            "                        (see docs/config.md; check it with folio check-config);\n"
            "                        the options below override the file; SIGHUP reloads it\n"
            "  --listen HOST:PORT    address to listen on (default 127.0.0.1:8080)\n"
            "  --threads N           database worker threads, each with its own connection (default 4)\n"
            "  --secret-file F       cursor signing secret (at least 16 bytes); without it a\n"
            "                        key is generated once and kept beside the database\n"
            "  --cursor-ttl SECONDS  cursor lifetime, 0 = never expire (default 86400)\n"
            "  --debug-plan          send each page query's plan in X-Folio-Plan\n\n"
            "pagination:\n"
            "  --count MODE          totals when a request does not ask: none (default),\n"
            "                        exact or estimate\n"
            "  --max-offset N        deeper offsets get 400 and a cursor link (default\n"
            "                        100000; 0 = no limit)\n"
            "  --no-hybrid           no sparse boundary index for deep offset pages\n"
            "  --no-prefetch         do not fetch next pages in the background (nor cache\n"
            "                        pages)\n"
            "  --files-root DIR      serve paged listings of DIR at /files/...\n\n"
            "operations:\n"
            "  --rate R              requests per second per client, 0 = no limit (default)\n"
            "  --burst N             requests a client may make at once (default: the file's\n"
            "                        burst, else R rounded up)\n"
            "  --trust-proxy ADDR    believe X-Forwarded-For from this peer address;\n"
            "                        repeatable (replaces the file's trusted_proxies)\n"
            "  --cors-origin ORIGIN  let browser pages from ORIGIN (\"https://app.example\",\n"
            "                        or \"*\") read responses; repeatable (replaces the\n"
            "                        file's origins)\n"
            "  --access-log FILE     one line per request, appended to FILE; \"-\" = stderr,\n"
            "                        \"\" = off (default)\n\n"
            "signals: SIGINT, SIGTERM stop; SIGHUP reloads --config without dropping\n"
            "connections (a file that fails to load keeps the running settings).\n");
}

static int parse_listen(const char *s, struct folio_server_config *cfg)
{
    const char *colon = strrchr(s, ':');
    int64_t port;
    if (colon == NULL || (size_t)(colon - s) >= sizeof cfg->listen_host ||
        folio_parse_int64(colon + 1, false, &port) != FOLIO_OK || port < 1 || port > 65535)
        return -1;
    memcpy(cfg->listen_host, s, (size_t)(colon - s));
    cfg->listen_host[colon - s] = '\0';
    cfg->listen_port = (uint16_t)port;
    return 0;
}

/* Command-line values; each given one overrides the config file. */
struct overrides {
    const char *config, *db_path, *secret_file, *listen, *access_log, *files_root;
    int64_t threads, cursor_ttl, burst, max_offset; /* -1 = not given */
    double rate;                                    /* -1 = not given */
    int count;                                      /* -1 = not given, else enum folio_count */
    bool debug_plan, no_prefetch, no_hybrid;
    size_t ntrust, ncors;
    char trust[16][FOLIO_CONFIG_ADDRESS_MAX];
    const char *cors[16];
};

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Say what is wrong with the command line; returns the usage exit status. */
static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "folio serve: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

/* An option that takes a value (its name in `a`, from the table below). Returns 0, or 2
 * after saying what is wrong. */
static int parse_value(const char *a, const char *v, struct overrides *o)
{
    static const struct folio_server_config limits; /* for the sizes of its paths */
    int64_t n;
    if (strcmp(a, "--config") == 0) {
        o->config = v;
    } else if (strcmp(a, "--listen") == 0) {
        struct folio_server_config probe;
        if (parse_listen(v, &probe) != 0)
            return bad("--listen wants HOST:PORT, got '%s'", v);
        o->listen = v;
    } else if (strcmp(a, "--threads") == 0) {
        if (folio_parse_int64(v, false, &n) != FOLIO_OK || n < 1 || n > 256)
            return bad("--threads must be from 1 to 256");
        o->threads = n;
    } else if (strcmp(a, "--secret-file") == 0) {
        o->secret_file = v;
    } else if (strcmp(a, "--cursor-ttl") == 0) {
        if (folio_parse_int64(v, false, &n) != FOLIO_OK || n > FOLIO_CONFIG_MAX_TTL)
            return bad("--cursor-ttl must be a number of seconds from 0 (never expire) to %u, "
                       "got '%s'",
                       FOLIO_CONFIG_MAX_TTL, v);
        o->cursor_ttl = n;
    } else if (strcmp(a, "--rate") == 0) {
        char *end = NULL;
        double d = strtod(v, &end);
        if (end == v || *end != '\0' || !folio__config_rate_ok(d))
            return bad("--rate must be a number of requests per second: 0 (no limit) or "
                       "from %g to %g, got '%s'",
                       FOLIO_CONFIG_MIN_RATE, FOLIO_CONFIG_MAX_RATE, v);
        o->rate = d;
    } else if (strcmp(a, "--burst") == 0) {
        if (folio_parse_int64(v, false, &n) != FOLIO_OK || n < 1 || n > FOLIO_CONFIG_MAX_BURST)
            return bad("--burst must be from 1 to 1000000, got '%s'", v);
        o->burst = n;
    } else if (strcmp(a, "--trust-proxy") == 0) {
        char canon[FOLIO_CONFIG_ADDRESS_MAX];
        if (!folio__config_address(v, canon))
            return bad("--trust-proxy wants an IP address (e.g. 127.0.0.1 or ::1), got '%s'",
                       v);
        if (o->ntrust == sizeof o->trust / sizeof o->trust[0])
            return bad("--trust-proxy may be given at most 16 times");
        memcpy(o->trust[o->ntrust++], canon, sizeof canon);
    } else if (strcmp(a, "--cors-origin") == 0) {
        const char *why = folio__config_origin_problem(v);
        if (why != NULL)
            return bad("--cors-origin '%s' %s (an origin is scheme://host[:port], e.g. "
                       "https://app.example)",
                       v, why);
        if (o->ncors == sizeof o->cors / sizeof o->cors[0])
            return bad("--cors-origin may be given at most 16 times");
        o->cors[o->ncors++] = v;
    } else if (strcmp(a, "--access-log") == 0) {
        if (strlen(v) >= sizeof limits.access_log)
            return bad("--access-log: the path is too long");
        o->access_log = v;
    } else if (strcmp(a, "--max-offset") == 0) {
        if (folio_parse_int64(v, false, &n) != FOLIO_OK || n > (INT64_C(1) << 50))
            return bad("--max-offset must be a number of rows from 0 to 2^50, got '%s'", v);
        o->max_offset = n;
    } else if (strcmp(a, "--count") == 0) {
        if (strcmp(v, "none") == 0)
            o->count = FOLIO_COUNT_NONE;
        else if (strcmp(v, "exact") == 0)
            o->count = FOLIO_COUNT_EXACT;
        else if (strcmp(v, "estimate") == 0)
            o->count = FOLIO_COUNT_ESTIMATE;
        else
            return bad("--count must be none, exact or estimate, got '%s'", v);
    } else if (strcmp(a, "--files-root") == 0) {
        if (v[0] == '\0' || strlen(v) >= sizeof limits.files_root)
            return bad("--files-root wants a directory");
        o->files_root = v;
    } else {
        return -1;
    }
    return 0;
}

static const struct cli_option options[] = {
    {"--help", "-h", false, false},      {"--debug-plan", NULL, false, false},
    {"--no-prefetch", NULL, false, false}, {"--no-hybrid", NULL, false, false},
    {"--config", NULL, true, false},     {"--listen", NULL, true, false},
    {"--threads", NULL, true, false},    {"--secret-file", NULL, true, false},
    {"--cursor-ttl", NULL, true, false}, {"--rate", NULL, true, false},
    {"--burst", NULL, true, false},      {"--trust-proxy", NULL, true, true},
    {"--cors-origin", NULL, true, true}, {"--access-log", NULL, true, false},
    {"--max-offset", NULL, true, false}, {"--count", NULL, true, false},
    {"--files-root", NULL, true, false},
};

static int on_arg(void *ctx, const struct cli_option *opt, const char *val)
{
    struct overrides *o = ctx;
    if (opt == NULL) {
        if (o->db_path != NULL) {
            fprintf(stderr, "folio serve: unexpected argument '%s'\n", val);
            usage(stderr);
            return 2;
        }
        o->db_path = val;
    } else if (opt == &options[0]) {
        usage(stdout);
        return 0;
    } else if (opt == &options[1]) {
        o->debug_plan = true;
    } else if (opt == &options[2]) {
        o->no_prefetch = true;
    } else if (opt == &options[3]) {
        o->no_hybrid = true;
    } else {
        int rc = parse_value(opt->name, val, o);
        return rc == 0 ? -1 : 2;
    }
    return -1;
}

static int parse_args(int argc, char **argv, struct overrides *o)
{
    memset(o, 0, sizeof *o);
    o->threads = o->cursor_ttl = o->burst = o->max_offset = -1;
    o->rate = -1;
    o->count = -1;
    int rc =
        cli_walk("serve", argc, argv, options, sizeof options / sizeof options[0], on_arg, o);
    if (rc >= 0)
        return rc;
    for (size_t i = 0; i < o->ncors; i++)
        if (strcmp(o->cors[i], "*") == 0 && o->ncors > 1)
            return bad("--cors-origin '*' allows every origin: give it alone");
    if (o->db_path == NULL && o->config == NULL) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* Apply the command line over the file's settings, before the endpoints are built (they
 * take their defaults from here). Returns 0, or 2 after saying what is wrong. */
static int apply_overrides(struct folio_config *config, const struct overrides *o)
{
    struct folio_server_config *s = &config->server;
    if (o->listen != NULL)
        parse_listen(o->listen, s);
    if (o->threads >= 0)
        s->threads = (unsigned)o->threads;
    if (o->cursor_ttl >= 0)
        s->cursor_ttl = (uint64_t)o->cursor_ttl;
    if (o->debug_plan)
        s->debug_plan = true;
    if (o->rate >= 0) {
        s->rate = o->rate;
        if (!config->burst_given)
            s->burst = folio__config_default_burst(o->rate);
    }
    if (o->burst >= 0) {
        if (s->rate == 0)
            return bad("--burst needs a rate (--rate, or [rate_limit] rate in the "
                       "config)");
        s->burst = (unsigned)o->burst;
    }
    if (o->ntrust > 0) {
        memcpy(s->trusted_proxies, o->trust, sizeof o->trust);
        s->ntrusted_proxies = o->ntrust;
    }
    if (o->ncors > 0) {
        for (size_t i = 0; i < o->ncors; i++)
            snprintf(s->cors_origins[i], sizeof s->cors_origins[i], "%s", o->cors[i]);
        s->ncors_origins = o->ncors;
    }
    if (o->access_log != NULL)
        snprintf(s->access_log, sizeof s->access_log, "%s", o->access_log);
    if (o->no_prefetch)
        s->prefetch = false;
    if (o->no_hybrid)
        s->hybrid = false;
    if (o->max_offset >= 0)
        s->max_offset = o->max_offset;
    if (o->count >= 0)
        s->default_count = (enum folio_count)o->count;
    if (o->files_root != NULL)
        snprintf(s->files_root, sizeof s->files_root, "%s", o->files_root);
    return 0;
}

/* The cursor keys: --secret-file, else the config's [[cursor.keys]], else the key
 * generated beside the database. */
static int make_keyring(const struct overrides *o, const struct folio_config *config,
                        const char *db_path, struct folio_keyring *kr)
{
    if (o->secret_file == NULL && config->nkeys > 0) {
        *kr = config->keyring;
        return 0;
    }
    unsigned char secret[FOLIO_CONFIG_SECRET_MAX + 1];
    size_t secret_len = 0;
    char secret_path[4096];
    int rc;
    if (o->secret_file != NULL) {
        rc = cli_read_secret("serve", o->secret_file, secret, &secret_len);
    } else if (folio__db_target_is_pg(db_path)) {
        /* No file beside a PostgreSQL database to keep a generated key in: one random key
         * for the life of this process (reloads keep it), and a warning. */
        static unsigned char process_key[32];
        static bool have_key;
        if (!have_key) {
            randombytes_buf(process_key, sizeof process_key);
            have_key = true;
            fprintf(stderr, "folio: no --secret-file or [[cursor.keys]]: cursors are signed "
                            "with a random key and will not survive a restart\n");
        }
        memcpy(secret, process_key, sizeof process_key);
        secret_len = sizeof process_key;
        rc = 0;
    } else {
        rc = cli_default_secret("serve", db_path, secret_path, sizeof secret_path, secret,
                                &secret_len);
    }
    if (rc != 0)
        return -1;
    folio_keyring_init(kr, config->encrypt);
    folio_status st = folio_keyring_add(kr, 1, secret, secret_len);
    sodium_memzero(secret, sizeof secret);
    if (st != FOLIO_OK) {
        fprintf(stderr, "folio serve: cannot use the cursor secret: %s\n", folio_strerror(st));
        return -1;
    }
    return 0;
}

/* Load the settings, open the database, build the endpoints and start serving: on the
 * listening socket `listen_fd` (taken over) when it is >= 0, else on the configured
 * address. On failure everything is released, the reason is on stderr, and the exit
 * status is returned: 2 for a configuration error, 1 otherwise. A reload_start_fn; `ctx`
 * is the command line's struct overrides. */
static int generation_start(struct generation *g, void *ctx, int listen_fd,
                            const struct folio_server_config *running)
{
    const struct overrides *o = ctx;
    struct folio_config_error cerr = {0};
    g->db = NULL;
    if (o->config == NULL) {
        folio__config_init(&g->config);
    } else if (folio__config_load(&g->config, o->config, &cerr) != FOLIO_OK) {
        fprintf(stderr, "%s\n", cerr.message);
        if (listen_fd >= 0)
            close(listen_fd);
        return 2;
    }
    int rc = apply_overrides(&g->config, o);
    const char *db_path = o->db_path       ? o->db_path
                          : g->config.db_url ? g->config.db_url
                                             : g->config.db_path;
    if (rc == 0 && db_path == NULL) {
        fprintf(stderr, "%s: [database] path: missing; set it (or url) or give the database "
                        "on the command line\n", o->config);
        rc = 2;
    }
    /* The database before the keyring: a key is generated beside a database only. */
    if (rc == 0 && folio__config_open_db(&g->config, o->db_path, &g->db, &cerr) != FOLIO_OK) {
        fprintf(stderr, "folio serve: %s\n", cerr.message);
        g->db = NULL;
        rc = 1;
    }
    struct folio_keyring kr;
    if (rc == 0 && make_keyring(o, &g->config, db_path, &kr) != 0)
        rc = 1;
    struct folio_endpoint *eps = NULL;
    size_t neps = 0;
    if (rc == 0 && folio__config_endpoints(&g->config, g->db, &eps, &neps, &cerr) != FOLIO_OK) {
        fprintf(stderr, "%s\n", cerr.message);
        folio_keyring_clear(&kr);
        rc = 2;
    }
    if (rc != 0) {
        folio__db_close(g->db);
        folio__config_clear(&g->config);
        if (listen_fd >= 0)
            close(listen_fd);
        return rc;
    }
    for (size_t i = 0; o->no_prefetch && i < neps; i++)
        eps[i].prefetch = false;
    /* Tables without a unique key are not served unless an endpoint names one. */
    const struct folio_schema *schema = folio__db_schema(g->db);
    for (size_t t = 0; g->config.server.auto_endpoints && t < schema->ntables; t++) {
        bool configured = false;
        for (size_t i = 0; i < neps && !configured; i++)
            configured = eps[i].table == &schema->tables[t];
        if (schema->tables[t].npk == 0 && !configured)
            fprintf(stderr, "folio: not serving %s: it has no primary key (a view, or a table "
                            "without one); serve it with an [[endpoint]] whose key = [...] "
                            "names unique columns\n",
                    schema->tables[t].name);
    }
    struct folio_server_config cfg = g->config.server;
    cfg.listen_fd = listen_fd;
    if (running != NULL && (strcmp(cfg.listen_host, running->listen_host) != 0 ||
                            cfg.listen_port != running->listen_port)) {
        fprintf(stderr, "folio: listen %s:%u takes a restart; still listening on %s:%u\n",
                cfg.listen_host, cfg.listen_port, running->listen_host, running->listen_port);
        memcpy(cfg.listen_host, running->listen_host, sizeof cfg.listen_host);
        cfg.listen_port = running->listen_port;
    }
    if (folio__config_exposed(&cfg, eps, neps)) {
        if (cfg.require_auth_off_loopback) {
            fprintf(stderr, "folio serve: refusing to serve without authentication on %s:%u, "
                            "which is not a loopback address ([server] "
                            "require_auth_off_loopback = true): set [auth] mode (and no "
                            "endpoint auth = \"none\"), or listen on 127.0.0.1\n",
                    cfg.listen_host, cfg.listen_port);
            for (size_t i = 0; i < neps; i++)
                folio__endpoint_clear(&eps[i]);
            folio_free(eps);
            folio_keyring_clear(&kr);
            folio__db_close(g->db);
            folio__config_clear(&g->config);
            if (listen_fd >= 0)
                close(listen_fd);
            return 2;
        }
        fprintf(stderr, "folio: WARNING: serving without authentication on %s:%u, which is "
                        "not a loopback address: anyone who can reach it reads what it "
                        "serves. Set [auth] mode (docs/security.md), or [server] "
                        "require_auth_off_loopback = true to refuse this.\n",
                cfg.listen_host, cfg.listen_port);
    }
    struct folio_error err = {0};
    folio_status st = folio__server_start(&g->srv, &cfg, g->db, &kr, eps, neps, &err);
    folio_keyring_clear(&kr);
    if (st != FOLIO_OK) {
        fprintf(stderr, "folio serve: %s\n", err.detail);
        folio__server_stop(&g->srv);
        folio__db_close(g->db);
        folio__config_clear(&g->config);
        return 1;
    }
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    struct overrides o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (sodium_init() < 0) {
        fprintf(stderr, "folio serve: libsodium failed to initialise\n");
        return 1;
    }
    /* Block the stop and reload signals in every thread (threads inherit the mask); this
     * one waits for them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct reload_state ss = {.config_path = o.config, .start = generation_start, .start_ctx = &o};
    ss.current = calloc(1, sizeof *ss.current);
    if (ss.current == NULL) {
        fprintf(stderr, "folio serve: out of memory\n");
        return 1;
    }
    rc = generation_start(ss.current, &o, -1, NULL);
    if (rc != 0) {
        free(ss.current);
        return rc;
    }
    const struct folio_server *srv = &ss.current->srv;
    fprintf(stderr,
            "folio: serving %s (%zu tables, %zu endpoints) on %s://%s:%u/ with %u "
            "threads\n",
            o.db_path ? o.db_path : ss.current->config.db_path,
            folio__db_schema(ss.current->db)->ntables, srv->nendpoints,
            srv->tls_cert_pem ? "https" : "http", srv->cfg.listen_host,
            srv->cfg.listen_port, srv->cfg.threads);

    int sig = reload_serve(&ss, &sigs);
    fprintf(stderr, "folio: %s received, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    reload_stop(&ss);
    return 0;
}
