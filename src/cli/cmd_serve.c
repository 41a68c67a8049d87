/* folio serve DB_PATH [options], folio serve --config folio.toml [DB_PATH]: serve a
 * database as a paginated JSON HTTP API. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
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
            "                        the options below override the file\n"
            "  --listen HOST:PORT    address to listen on (default 127.0.0.1:8080)\n"
            "  --threads N           worker threads, each with its own connection (default 2)\n"
            "  --secret-file F       cursor signing secret (at least 16 bytes); without it a\n"
            "                        key is generated once and kept beside the database\n"
            "  --cursor-ttl SECONDS  cursor lifetime, 0 = never expire (default 86400)\n"
            "  --debug-plan          send each page query's plan in X-Folio-Plan\n");
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

/* Read a secret file: at least 16 bytes, at most 4 KiB, not readable by others. */
static int read_secret(const char *path, unsigned char *out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "folio serve: cannot open secret file %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "folio serve: secret file %s is not a regular file\n", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        fprintf(stderr, "folio serve: secret file %s is accessible by other users; "
                        "run: chmod 600 %s\n", path, path);
        close(fd);
        return -1;
    }
    ssize_t n = read(fd, out, 4096);
    close(fd);
    if (n < 16) {
        fprintf(stderr, "folio serve: secret file %s must hold at least 16 bytes\n", path);
        return -1;
    }
    *len = (size_t)n;
    return 0;
}

/* The generated key beside the database: created once, atomically, never overwritten. */
static int default_secret(const char *db_path, char *path_out, size_t path_size,
                          unsigned char *out, size_t *len)
{
    snprintf(path_out, path_size, "%s.folio-secret", db_path);
    if (access(path_out, F_OK) == 0)
        return read_secret(path_out, out, len);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path_out, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "folio serve: cannot create %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    unsigned char key[32];
    randombytes_buf(key, sizeof key);
    int ok = write(fd, key, sizeof key) == (ssize_t)sizeof key && fsync(fd) == 0;
    close(fd);
    /* link() fails if another process created the key first: then use theirs. */
    if (ok && link(tmp, path_out) != 0 && errno != EEXIST)
        ok = 0;
    unlink(tmp);
    sodium_memzero(key, sizeof key);
    if (!ok) {
        fprintf(stderr, "folio serve: cannot write %s: %s\n", path_out, strerror(errno));
        return -1;
    }
    fprintf(stderr, "folio: generated a cursor signing key in %s (keep it to keep cursors "
                    "valid across restarts)\n", path_out);
    return read_secret(path_out, out, len);
}

/* Command-line values; each given one overrides the config file. */
struct overrides {
    const char *config, *db_path, *secret_file, *listen;
    int64_t threads, cursor_ttl; /* -1 = not given */
    bool debug_plan;
};

static int parse_args(int argc, char **argv, struct overrides *o)
{
    *o = (struct overrides){.threads = -1, .cursor_ttl = -1};
    struct folio_server_config probe;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t n;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--config") == 0 && v) {
            o->config = v;
            i++;
        } else if (strcmp(a, "--listen") == 0 && v) {
            if (parse_listen(v, &probe) != 0) {
                fprintf(stderr, "folio serve: --listen wants HOST:PORT, got '%s'\n", v);
                return 2;
            }
            o->listen = v;
            i++;
        } else if (strcmp(a, "--threads") == 0 && v) {
            if (folio_parse_int64(v, false, &n) != FOLIO_OK || n < 1 || n > 256) {
                fprintf(stderr, "folio serve: --threads must be from 1 to 256\n");
                return 2;
            }
            o->threads = n;
            i++;
        } else if (strcmp(a, "--secret-file") == 0 && v) {
            o->secret_file = v;
            i++;
        } else if (strcmp(a, "--cursor-ttl") == 0 && v) {
            if (folio_parse_int64(v, false, &n) != FOLIO_OK) {
                fprintf(stderr, "folio serve: --cursor-ttl must be a number of seconds\n");
                return 2;
            }
            o->cursor_ttl = n;
            i++;
        } else if (strcmp(a, "--debug-plan") == 0) {
            o->debug_plan = true;
        } else if (a[0] == '-' || o->db_path != NULL) {
            fprintf(stderr, "folio serve: unexpected argument '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            o->db_path = a;
        }
    }
    if (o->db_path == NULL && o->config == NULL) {
        usage(stderr);
        return 2;
    }
    return -1;
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
    unsigned char secret[4096];
    size_t secret_len = 0;
    char secret_path[4096];
    int rc = o->secret_file ? read_secret(o->secret_file, secret, &secret_len)
                            : default_secret(db_path, secret_path, sizeof secret_path, secret,
                                             &secret_len);
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

    /* Without --config: the defaults, exactly as before config files existed. */
    struct folio_config config;
    struct folio_config_error cerr = {0};
    if (o.config == NULL) {
        folio_config_init(&config);
    } else if (folio_config_load(&config, o.config, &cerr) != FOLIO_OK) {
        fprintf(stderr, "%s\n", cerr.message);
        return 2;
    }
    struct folio_server_config cfg = config.server;
    if (o.listen != NULL)
        parse_listen(o.listen, &cfg);
    if (o.threads >= 0)
        cfg.threads = (unsigned)o.threads;
    if (o.cursor_ttl >= 0)
        cfg.cursor_ttl = (uint64_t)o.cursor_ttl;
    if (o.debug_plan)
        cfg.debug_plan = true;
    const char *db_path = o.db_path ? o.db_path : config.db_path;
    if (db_path == NULL) {
        fprintf(stderr, "%s: [database] path: missing; set it or give the database on the "
                        "command line\n", o.config);
        folio_config_clear(&config);
        return 2;
    }

    struct folio_keyring kr;
    if (make_keyring(&o, &config, db_path, &kr) != 0) {
        folio_config_clear(&config);
        return 1;
    }

    struct folio_error err = {0};
    folio_db *db;
    if (folio_config_open_db(&config, o.db_path, &db, &cerr) != FOLIO_OK) {
        fprintf(stderr, "folio serve: %s\n", cerr.message);
        folio_keyring_clear(&kr);
        folio_config_clear(&config);
        return 1;
    }
    struct folio_endpoint *eps = NULL;
    size_t neps = 0;
    if (folio_config_endpoints(&config, db, &eps, &neps, &cerr) != FOLIO_OK) {
        fprintf(stderr, "%s\n", cerr.message);
        folio_keyring_clear(&kr);
        folio_config_clear(&config);
        folio_db_close(db);
        return 2;
    }
    /* Block the stop signals in every thread; this one waits for them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct folio_server srv;
    if (folio_server_start(&srv, &cfg, db, &kr, eps, neps, &err) != FOLIO_OK) {
        fprintf(stderr, "folio serve: %s\n", err.detail);
        folio_server_stop(&srv);
        folio_keyring_clear(&kr);
        folio_db_close(db);
        folio_config_clear(&config);
        return 1;
    }
    folio_keyring_clear(&kr);
    fprintf(stderr, "folio: serving %s (%zu tables, %zu endpoints) on http://%s:%u/ with %u "
                    "threads\n",
            db_path, folio_db_schema(db)->ntables, srv.nendpoints, cfg.listen_host,
            cfg.listen_port, cfg.threads);

    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "folio: %s received, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    folio_server_stop(&srv);
    folio_db_close(db);
    folio_config_clear(&config);
    return 0;
}
