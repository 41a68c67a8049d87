/* Unit tests for src/server/config/: defaults, every section's keys, the exact
 * "FILE:LINE:COL: [section] key: problem" messages, relative paths, cursor key files and
 * variables, key rotation through the keyring a config builds, endpoints checked against
 * a real SQLite schema, the effective settings reloading to the same settings, and
 * out-of-memory loops (fail allocation N for N = 1..K: a clean status, nothing leaked). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "folio/cursor.h"
#include "server/config/config.h"
#include "support_alloc.h"

static char dir[64];

/* --- fixtures ------------------------------------------------------------------------ */

static void write_file(const char *name, const void *data, size_t len, mode_t mode)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static const char KEY_A[] = "key A: thirty-two bytes of secret";
static const char KEY_B[] = "key B: another secret, also long";

static void make_db(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/app.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT,"
                                  " price REAL, category TEXT);"
                                  "CREATE TABLE tags(name TEXT, note TEXT);"
                                  "INSERT INTO items VALUES(1, 'a', 1.5, 'books');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/folio-test-config-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    make_db();
    write_file("a.key", KEY_A, strlen(KEY_A), 0600);
    write_file("b.key", KEY_B, strlen(KEY_B), 0600);
    char sub[128];
    snprintf(sub, sizeof sub, "%s/files", dir);
    return mkdir(sub, 0700);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int group_teardown(void **state)
{
    (void)state;
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static folio_status load(struct folio_config *cfg, const char *text,
                         struct folio_config_error *err)
{
    memset(err, 0, sizeof *err);
    return folio__config_load_text(cfg, text, strlen(text), "folio.toml", dir, err);
}

static void load_ok(struct folio_config *cfg, const char *text)
{
    struct folio_config_error err;
    folio_status st = load(cfg, text, &err);
    if (st != FOLIO_OK)
        fail_msg("unexpected failure: %s", err.message);
}

/* Load `text`, expect FOLIO_ECONFIG and exactly `message`. */
static void expect_error(const char *text, const char *message)
{
    struct folio_config cfg;
    struct folio_config_error err;
    assert_int_equal(load(&cfg, text, &err), FOLIO_ECONFIG);
    assert_int_equal(err.status, FOLIO_ECONFIG);
    assert_string_equal(err.message, message);
    assert_null(cfg.doc); /* left cleared */
}

/* Load `text`, expect FOLIO_ECONFIG with a message starting with `prefix` and holding
 * `part` (for messages that quote the temporary directory). */
static void expect_error_with(const char *text, const char *prefix, const char *part)
{
    struct folio_config cfg;
    struct folio_config_error err;
    assert_int_equal(load(&cfg, text, &err), FOLIO_ECONFIG);
    if (strncmp(err.message, prefix, strlen(prefix)) != 0 || strstr(err.message, part) == NULL)
        fail_msg("message '%s' lacks '%s' ... '%s'", err.message, prefix, part);
}

static folio_db *open_db(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/app.db", dir);
    folio_db *db = NULL;
    struct folio_error e;
    assert_int_equal(folio__db_open(&db, path, &e), FOLIO_OK);
    return db;
}

static void free_endpoints(struct folio_endpoint *eps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        folio__endpoint_clear(&eps[i]);
    folio_free(eps);
}

/* Build the endpoints of `text`; expect FOLIO_ECONFIG with exactly `message`. */
static void expect_endpoint_error(const char *text, const char *message)
{
    struct folio_config cfg;
    load_ok(&cfg, text);
    folio_db *db = open_db();
    struct folio_endpoint *eps = (struct folio_endpoint *)1;
    size_t n = 7;
    struct folio_config_error err = {0};
    assert_int_equal(folio__config_endpoints(&cfg, db, &eps, &n, &err), FOLIO_ECONFIG);
    assert_null(eps);
    assert_int_equal(n, 0);
    assert_string_equal(err.message, message);
    folio__db_close(db);
    folio__config_clear(&cfg);
}

/* --- defaults and values ------------------------------------------------------------- */

static void test_empty_file_gives_the_zero_config_defaults(void **state)
{
    (void)state;
    struct folio_config cfg;
    struct folio_server_config want;
    folio__server_config_defaults(&want);
    load_ok(&cfg, "# nothing\n");
    assert_string_equal(cfg.server.listen_host, "127.0.0.1");
    assert_int_equal(cfg.server.listen_port, 8080);
    assert_int_equal(cfg.server.threads, 4);
    assert_int_equal(cfg.server.io_threads, 0); /* one per CPU folio may run on */
    assert_int_equal(cfg.server.inline_budget_us, 1000);
    assert_int_equal(cfg.server.queue, 256);
    assert_int_equal(cfg.server.client_jobs, 0);
    assert_int_equal(cfg.server.max_connections, 1024);
    assert_int_equal(cfg.server.max_connections_per_ip, 64);
    assert_int_equal(cfg.server.request_timeout, 10);
    assert_int_equal(cfg.server.connection_timeout, 30);
    assert_int_equal(cfg.server.max_request_bytes, want.max_request_bytes);
    assert_int_equal(cfg.server.max_url_bytes, want.max_url_bytes);
    assert_int_equal(cfg.server.default_per_page, 20);
    assert_int_equal(cfg.server.max_per_page, 100);
    assert_int_equal(cfg.server.cursor_ttl, 86400);
    assert_int_equal(cfg.server.default_count, FOLIO_COUNT_NONE);
    assert_false(cfg.server.debug_plan);
    assert_true(cfg.server.auto_endpoints);
    assert_false(cfg.encrypt);
    assert_int_equal(cfg.nkeys, 0);
    assert_int_equal(cfg.keyring.n, 0);
    assert_null(cfg.db_path);
    assert_null(cfg.files_root);
    assert_string_equal(cfg.server.files_root, "");
    assert_int_equal(cfg.nendpoints, 0);
    assert_true(cfg.server.rate == 0); /* no rate limit */
    assert_int_equal(cfg.server.burst, 0);
    assert_int_equal(cfg.server.rate_clients, 65536);
    assert_int_equal(cfg.server.ntrusted_proxies, 0);
    assert_int_equal(cfg.server.ncors_origins, 0);
    assert_string_equal(cfg.server.access_log, "");
    assert_true(cfg.server.prefetch);
    assert_int_equal(cfg.server.prefetch_threads, 1);
    assert_int_equal(cfg.server.prefetch_queue, 64);
    assert_int_equal(cfg.server.cache_bytes, 32u << 20);
    assert_int_equal(cfg.server.cache_ttl_ms, 30000);
    assert_int_equal(cfg.server.listen_fd, -1);
    folio__config_clear(&cfg);
    folio__config_clear(&cfg); /* clearing twice is allowed */
}

static void test_every_section_sets_its_values(void **state)
{
    (void)state;
    struct folio_config cfg;
    load_ok(&cfg, "[server]\n"
                  "listen = \"0.0.0.0:9090\"\n"
                  "threads = 8\n"
                  "io_threads = 3\n"
                  "queue = 17\n"
                  "client_jobs = 5\n"
                  "max_connections = 50\n"
                  "max_connections_per_ip = 7\n"
                  "request_timeout = 4\n"
                  "timeout = 5\n"
                  "max_request_bytes = 65536\n"
                  "max_url_bytes = 4096\n"
                  "max_response_bytes = 1048576\n"
                  "debug_plan = true\n"
                  "inline_budget = 0.0005\n"
                  "[database]\n"
                  "path = \"app.db\"\n"
                  "[pagination]\n"
                  "default_per_page = 10\n"
                  "max_per_page = 1000\n"
                  "count = \"estimate\"\n"
                  "count_limit = 500\n"
                  "max_offset = 100000\n"
                  "hybrid = false\n"
                  "[cursor]\n"
                  "ttl = 0\n"
                  "encrypt = true\n"
                  "[api]\n"
                  "auto = true\n"
                  "[files]\n"
                  "root = \"files\"\n");
    assert_string_equal(cfg.server.listen_host, "0.0.0.0");
    assert_int_equal(cfg.server.listen_port, 9090);
    assert_int_equal(cfg.server.io_threads, 3);
    assert_int_equal(cfg.server.queue, 17);
    assert_int_equal(cfg.server.client_jobs, 5);
    assert_int_equal(cfg.server.max_connections_per_ip, 7);
    assert_int_equal(cfg.server.request_timeout, 4);
    assert_int_equal(cfg.server.threads, 8);
    assert_int_equal(cfg.server.max_connections, 50);
    assert_int_equal(cfg.server.connection_timeout, 5);
    assert_int_equal(cfg.server.max_request_bytes, 65536);
    assert_int_equal(cfg.server.max_url_bytes, 4096);
    assert_int_equal(cfg.server.max_response_bytes, 1048576);
    assert_true(cfg.server.debug_plan);
    assert_int_equal(cfg.server.inline_budget_us, 500);
    assert_int_equal(cfg.server.default_per_page, 10);
    assert_int_equal(cfg.server.max_per_page, 1000);
    assert_int_equal(cfg.server.default_count, FOLIO_COUNT_ESTIMATE);
    assert_int_equal(cfg.server.count_limit, 500);
    assert_int_equal(cfg.server.max_offset, 100000);
    assert_false(cfg.server.hybrid);
    assert_int_equal(cfg.server.cursor_ttl, 0);
    assert_true(cfg.encrypt);
    assert_true(cfg.keyring.encrypt);
    assert_true(cfg.server.auto_endpoints);
    char want[256];
    snprintf(want, sizeof want, "%s/app.db", dir);
    assert_string_equal(cfg.db_path, want);
    snprintf(want, sizeof want, "%s/files", dir);
    assert_string_equal(cfg.files_root, want);
    assert_string_equal(cfg.server.files_root, want); /* what the server serves */
    folio__config_clear(&cfg);
}

static void test_absolute_paths_are_kept_and_relative_ones_join_the_config_dir(void **state)
{
    (void)state;
    struct folio_config cfg;
    load_ok(&cfg, "[database]\npath = \"/var/lib/folio/app.db\"\n");
    assert_string_equal(cfg.db_path, "/var/lib/folio/app.db");
    folio__config_clear(&cfg);
    load_ok(&cfg, "[database]\npath = \"data/../app.db\"\n");
    char want[256];
    snprintf(want, sizeof want, "%s/data/../app.db", dir);
    assert_string_equal(cfg.db_path, want);
    folio__config_clear(&cfg);
}

static void test_api_auto_defaults_to_whether_endpoints_are_configured(void **state)
{
    (void)state;
    struct folio_config cfg;
    load_ok(&cfg, "[[endpoint]]\npath = \"/p\"\ntable = \"items\"\n");
    assert_false(cfg.server.auto_endpoints);
    folio__config_clear(&cfg);
    load_ok(&cfg, "[api]\nauto = true\n[[endpoint]]\npath = \"/p\"\ntable = \"items\"\n");
    assert_true(cfg.server.auto_endpoints);
    folio__config_clear(&cfg);
    load_ok(&cfg, "[api]\nauto = false\n");
    assert_false(cfg.server.auto_endpoints);
    folio__config_clear(&cfg);
}

/* --- messages ------------------------------------------------------------------------ */

static void test_wrong_type_names_file_line_column_section_and_key(void **state)
{
    (void)state;
    expect_error("[server]\nthreads = \"2\"\n",
                 "folio.toml:2:11: [server] threads: expected an integer, got a string");
    expect_error("[server]\ndebug_plan = 1\n",
                 "folio.toml:2:14: [server] debug_plan: expected true or false, got an integer");
    expect_error("[cursor]\nencrypt = \"yes\"\n",
                 "folio.toml:2:11: [cursor] encrypt: expected true or false, got a string");
    expect_error("[[endpoint]]\npath = \"/p\"\ntable = \"items\"\ncolumns = \"id\"\n",
                 "folio.toml:4:11: [[endpoint]] columns: expected an array of strings, got a "
                 "string");
    expect_error("[[endpoint]]\npath = \"/p\"\ntable = \"items\"\ncolumns = [\"id\", 2]\n",
                 "folio.toml:4:18: [[endpoint]] columns: expected strings only, got an integer");
    expect_error("server = 3\n", "folio.toml:1:10: [server]: expected a table, got a value");
}

static void test_out_of_range_values_are_refused(void **state)
{
    (void)state;
    expect_error("[server]\nthreads = 0\n",
                 "folio.toml:2:11: [server] threads: must be from 1 to 256, got 0");
    expect_error("[pagination]\nmax_per_page = 1001\n",
                 "folio.toml:2:16: [pagination] max_per_page: must be from 1 to 1000, got 1001");
    expect_error("[pagination]\ndefault_per_page = 50\nmax_per_page = 40\n",
                 "folio.toml:2:20: [pagination] default_per_page: default_per_page (50) is "
                 "larger than max_per_page (40)");
    expect_error("[cursor]\nttl = -1\n",
                 "folio.toml:2:7: [cursor] ttl: must be from 0 to 3155760000, got -1");
    expect_error("[server]\nmax_request_bytes = 8192\nmax_url_bytes = 16384\n",
                 "folio.toml:3:17: [server] max_url_bytes: 16384 is larger than "
                 "max_request_bytes (8192)");
    expect_error("[pagination]\ncount = \"all\"\n",
                 "folio.toml:2:9: [pagination] count: must be \"none\", \"exact\" or "
                 "\"estimate\", got \"all\"");
    expect_error("[server]\nlisten = \"127.0.0.1\"\n",
                 "folio.toml:2:10: [server] listen: expected \"HOST:PORT\" with a port from 1 "
                 "to 65535, got \"127.0.0.1\"");
    expect_error("[server]\nlisten = \"localhost:80\"\n",
                 "folio.toml:2:10: [server] listen: 'localhost' is not an IPv4 address (write "
                 "e.g. \"127.0.0.1:8080\" or \"0.0.0.0:8080\")");
}

static void test_cluster_and_replica_settings_are_read_and_checked(void **state)
{
    (void)state;
    struct folio_config cfg;
    load_ok(&cfg, "[database]\nurl = \"postgresql://u@127.0.0.1:1/d\"\n"
                  "replicas = [\"postgresql://u@127.0.0.1:2/d\", \"host=127.0.0.1 port=3\"]\n"
                  "prepared = false\n[cluster]\nredis = \"redis://127.0.0.1:7000\"\n"
                  "timeout_ms = 5\nfail = \"closed\"\n");
    assert_int_equal(cfg.db_options.nreplicas, 2);
    assert_string_equal(cfg.db_options.replicas[1], "host=127.0.0.1 port=3");
    assert_true(cfg.db_options.unprepared);
    assert_string_equal(cfg.server.cluster.redis, "redis://127.0.0.1:7000");
    assert_int_equal(cfg.server.cluster.timeout_ms, 5);
    assert_true(cfg.server.cluster.fail_closed);
    assert_true(cfg.server.cluster.limits && cfg.server.cluster.cache);
    folio__config_clear(&cfg);
    load_ok(&cfg, "[server]\nthreads = 2\n");
    assert_false(cfg.db_options.unprepared); /* prepared statements by default */
    assert_string_equal(cfg.server.cluster.redis, "");
    folio__config_clear(&cfg);
    expect_error("[cluster]\nredis = \"127.0.0.1:6379\"\n",
                 "folio.toml:2:9: [cluster] redis: expected redis://HOST[:PORT] (database 0, "
                 "no password), got '127.0.0.1:6379'");
    expect_error("[cluster]\nfail = \"maybe\"\n",
                 "folio.toml:2:8: [cluster] fail: must be \"open\" or \"closed\", got "
                 "\"maybe\"");
    expect_error("[database]\nurl = \"postgresql://u@h/d\"\nreplicas = [\"r.db\"]\n",
                 "folio.toml:3:13: [database] replicas: expected a PostgreSQL URL "
                 "(postgresql://USER@HOST:PORT/DB) or a key=value connection string");
}

static void test_unknown_keys_and_sections_are_refused(void **state)
{
    (void)state;
    expect_error("[server]\nthread = 2\n",
                 "folio.toml:2:1: [server] thread: unknown key (did you mean 'threads'?)");
    expect_error("[server]\n  colour = 2\n", "folio.toml:2:3: [server] colour: unknown key");
    expect_error("[serve]\nthreads = 2\n",
                 "folio.toml:1:2: [serve]: unknown section (the sections are [server], "
                 "[database], [pagination], [cursor], [api], [files], [rate_limit], [cors], "
                 "[log], [prefetch], [auth], [export], [compression], [cluster] and [[endpoint]])");
    expect_error("threads = 2\n",
                 "folio.toml:1:1: threads: unknown key at the top level (settings belong in "
                 "a section such as [server])");
    expect_error("[server.tls]\ncert = \"x\"\n",
                 "folio.toml:1:9: [server] tls: unknown key");
    expect_error("[[endpoint]]\npath = \"/p\"\ntable = \"items\"\nsort = \"id\"\n",
                 "folio.toml:4:1: [[endpoint]] sort: unknown key");
    expect_error("[[cursor.keys]]\nid = 1\nsecretfile = \"x\"\n",
                 "folio.toml:3:1: [[cursor.keys]] secretfile: unknown key (did you mean "
                 "'secret_file'?)");
}

static void test_database_url_is_reported_as_not_supported_yet(void **state)
{
    (void)state;
    /* url is PostgreSQL now (db_pg.c); what stays refused is a url that is not one, and
     * path and url together, reported where url is written. */
    struct folio_config cfg;
    load_ok(&cfg, "[database]\nurl = \"postgres://localhost/app\"\n");
    assert_string_equal(cfg.db_url, "postgres://localhost/app");
    folio__config_clear(&cfg);
    expect_error("[database]\npath = \"a.db\"\n  url = \"postgres://x\"\n",
                 "folio.toml:3:9: [database] url: give either path (SQLite) or url "
                 "(PostgreSQL), not both");
    expect_error("[database]\npaht = \"a.db\"\n",
                 "folio.toml:2:1: [database] paht: unknown key (did you mean 'path'?)");
    expect_error("[database]\npath = 7\n",
                 "folio.toml:2:8: [database] path: expected a string, got an integer");
}

static void test_toml_syntax_errors_keep_their_position(void **state)
{
    (void)state;
    expect_error("[server]\nthreads = = 2\n",
                 "folio.toml:2:11: invalid value (expected a string, number, boolean, "
                 "datetime, array or inline table)");
}

static void test_files_root_must_be_an_existing_directory(void **state)
{
    (void)state;
    expect_error_with("[files]\nroot = \"nowhere\"\n", "folio.toml:2:8: [files] root: cannot use ",
                      "/nowhere: No such file or directory");
    expect_error_with("[files]\nroot = \"a.key\"\n", "folio.toml:2:8: [files] root: ",
                      "/a.key is not a directory");
}

static void test_endpoint_paths_are_checked_on_load(void **state)
{
    (void)state;
    expect_error("[[endpoint]]\npath = \"products\"\ntable = \"items\"\n",
                 "folio.toml:2:8: [[endpoint]] path: \"products\" must start with '/'");
    expect_error("[[endpoint]]\npath = \"/\"\ntable = \"items\"\n",
                 "folio.toml:2:8: [[endpoint]] path: \"/\" is the index of the server; choose "
                 "another path");
    expect_error("[[endpoint]]\npath = \"/files/x\"\ntable = \"items\"\n",
                 "folio.toml:2:8: [[endpoint]] path: \"/files/x\" is reserved for folio's own "
                 "/healthz, /metrics and /files");
    expect_error("[[endpoint]]\npath = \"/metrics\"\ntable = \"items\"\n",
                 "folio.toml:2:8: [[endpoint]] path: \"/metrics\" is reserved for folio's own "
                 "/healthz, /metrics and /files");
    expect_error("[[endpoint]]\npath = \"/a b\"\ntable = \"items\"\n",
                 "folio.toml:2:8: [[endpoint]] path: \"/a b\" may contain only letters, "
                 "digits, '-', '_', '.', '~' and '/'");
    expect_error("[[endpoint]]\npath = \"/a/\"\ntable = \"items\"\n",
                 "folio.toml:2:8: [[endpoint]] path: \"/a/\" must not contain an empty "
                 "segment or end with '/'");
    expect_error("[[endpoint]]\npath = \"/a\"\ntable = \"items\"\n\n"
                 "[[endpoint]]\npath = \"/a\"\ntable = \"tags\"\n",
                 "folio.toml:6:8: [[endpoint]] path: \"/a\" is already served by the "
                 "[[endpoint]] at line 1");
    expect_error("[[endpoint]]\ntable = \"items\"\n",
                 "folio.toml:1:3: [[endpoint]] path: missing (where to serve it, e.g. "
                 "\"/products\")");
    expect_error("[endpoint]\npath = \"/a\"\n",
                 "folio.toml:1:2: [endpoint]: write each endpoint as an [[endpoint]] table (an "
                 "array of tables)");
    expect_error("[[endpoint]]\npath = \"/a\"\ntable = \"items\"\nmax_per_page = 10\n",
                 "folio.toml:4:16: [[endpoint]] max_per_page: default_per_page (20, from "
                 "[pagination]) is larger than max_per_page (10)");
    expect_error("[[endpoint]]\npath = \"/a\"\ntable = \"items\"\nmodes = [\"offset\", \"pages\"]\n",
                 "folio.toml:4:20: [[endpoint]] modes: must be \"offset\" or \"keyset\", got "
                 "\"pages\"");
    expect_error("[[endpoint]]\npath = \"/a\"\ntable = \"items\"\nstyle = \"tutorial\"\n",
                 "folio.toml:4:9: [[endpoint]] style: must be \"folio\", \"tutorial-offset\", "
                 "\"tutorial-keyset\" or \"tutorial-signed\", got \"tutorial\"");
}

/* --- [rate_limit], [cors], [log], [prefetch] ------------------------------------------ */

static void test_operational_sections_set_their_values(void **state)
{
    (void)state;
    struct folio_config cfg;
    load_ok(&cfg, "[rate_limit]\n"
                  "rate = 2.5\n"
                  "burst = 10\n"
                  "clients = 64\n"
                  "trusted_proxies = [\"127.0.0.1\", \"0:0::1\", \"10.1.2.3\"]\n"
                  "[cors]\n"
                  "origins = [\"https://app.example\", \"http://localhost:3000\", "
                  "\"http://[::1]:8080\"]\n"
                  "[log]\n"
                  "access = \"access.log\"\n"
                  "[prefetch]\n"
                  "enabled = false\n"
                  "threads = 4\n"
                  "queue = 8\n"
                  "cache_bytes = 1048576\n"
                  "ttl = 5\n");
    assert_true(cfg.server.rate == 2.5);
    assert_int_equal(cfg.server.burst, 10);
    assert_true(cfg.burst_given);
    assert_int_equal(cfg.server.rate_clients, 64);
    assert_int_equal(cfg.server.ntrusted_proxies, 3);
    assert_string_equal(cfg.server.trusted_proxies[0], "127.0.0.1");
    assert_string_equal(cfg.server.trusted_proxies[1], "::1"); /* as peers are written */
    assert_string_equal(cfg.server.trusted_proxies[2], "10.1.2.3");
    assert_int_equal(cfg.server.ncors_origins, 3);
    assert_string_equal(cfg.server.cors_origins[0], "https://app.example");
    assert_string_equal(cfg.server.cors_origins[2], "http://[::1]:8080");
    char want[256];
    snprintf(want, sizeof want, "%s/access.log", dir);
    assert_string_equal(cfg.server.access_log, want);
    assert_false(cfg.server.prefetch);
    assert_int_equal(cfg.server.prefetch_threads, 4);
    assert_int_equal(cfg.server.prefetch_queue, 8);
    assert_int_equal(cfg.server.cache_bytes, 1048576);
    assert_int_equal(cfg.server.cache_ttl_ms, 5000);
    folio__config_clear(&cfg);

    load_ok(&cfg, "[log]\naccess = \"-\"\n[cors]\norigins = [\"*\"]\n");
    assert_string_equal(cfg.server.access_log, "-");
    assert_string_equal(cfg.server.cors_origins[0], "*");
    folio__config_clear(&cfg);
    load_ok(&cfg, "[log]\naccess = \"\"\n[cors]\norigins = []\n[rate_limit]\n"
                  "trusted_proxies = []\n");
    assert_string_equal(cfg.server.access_log, "");
    assert_int_equal(cfg.server.ncors_origins, 0);
    assert_int_equal(cfg.server.ntrusted_proxies, 0);
    folio__config_clear(&cfg);
}

static void test_burst_defaults_to_the_rate_rounded_up(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        unsigned burst;
    } cases[] = {
        {"[rate_limit]\nrate = 2.5\n", 3},  {"[rate_limit]\nrate = 0.2\n", 1},
        {"[rate_limit]\nrate = 7\n", 7},    {"[rate_limit]\nrate = 0\n", 0},
        {"[rate_limit]\nclients = 9\n", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct folio_config cfg;
        load_ok(&cfg, cases[i].text);
        assert_int_equal(cfg.server.burst, cases[i].burst);
        assert_false(cfg.burst_given);
        folio__config_clear(&cfg);
    }
    assert_int_equal(folio__config_default_burst(0.001), 1);
    assert_int_equal(folio__config_default_burst(100000), 100000);
}

/* A rate so small that its waits overflow every integer (1e-300 once reached a
 * float-to-unsigned conversion, undefined behaviour) is refused, in both places a rate is
 * written; the smallest allowed rate and 0 (no limit) are not. */
static void test_tiny_rates_are_refused(void **state)
{
    (void)state;
    expect_error("[rate_limit]\nrate = 1e-300\n",
                 "folio.toml:2:8: [rate_limit] rate: must be 0 (no limit) or from 0.0001 to "
                 "100000 requests per second, got 1e-300");
    expect_error("[rate_limit]\nrate = 0.00009\n",
                 "folio.toml:2:8: [rate_limit] rate: must be 0 (no limit) or from 0.0001 to "
                 "100000 requests per second, got 9e-05");
    expect_error("[[endpoint]]\npath = \"/p\"\ntable = \"items\"\nrate = 5e-324\n",
                 "folio.toml:4:8: [[endpoint]] rate: must be 0 (no limit) or from 0.0001 to "
                 "100000 requests per second, got 4.94066e-324");
    struct folio_config cfg;
    load_ok(&cfg, "[rate_limit]\nrate = 0.0001\n");
    assert_true(cfg.server.rate == 0.0001);
    assert_int_equal(cfg.server.burst, 1);
    folio__config_clear(&cfg);
    load_ok(&cfg, "[rate_limit]\nrate = 0.0\n");
    assert_true(cfg.server.rate == 0);
    folio__config_clear(&cfg);
}

static void test_rate_limit_errors_name_the_key(void **state)
{
    (void)state;
    expect_error("[rate_limit]\nrate = \"5\"\n",
                 "folio.toml:2:8: [rate_limit] rate: expected a number, got a string");
    expect_error("[rate_limit]\nrate = -1\n",
                 "folio.toml:2:8: [rate_limit] rate: must be from 0 to 100000, got -1");
    expect_error("[rate_limit]\nrate = 1e6\n",
                 "folio.toml:2:8: [rate_limit] rate: must be from 0 to 100000, got 1e+06");
    expect_error("[rate_limit]\nrate = inf\n",
                 "folio.toml:2:8: [rate_limit] rate: must be a finite number");
    expect_error("[rate_limit]\nrate = nan\n",
                 "folio.toml:2:8: [rate_limit] rate: must be a finite number");
    expect_error("[rate_limit]\nrate = 5\nburst = 0\n",
                 "folio.toml:3:9: [rate_limit] burst: must be from 1 to 1000000, got 0");
    expect_error("[rate_limit]\nrate = 5\nburst = 2.5\n",
                 "folio.toml:3:9: [rate_limit] burst: expected an integer, got a float");
    expect_error("[rate_limit]\nburst = 3\n",
                 "folio.toml:2:9: [rate_limit] burst: has no effect while rate is 0 (no "
                 "limit); set rate too");
    expect_error("[rate_limit]\nclients = 0\n",
                 "folio.toml:2:11: [rate_limit] clients: must be from 1 to 16777216, got 0");
    expect_error("[rate_limit]\nrates = 3\n",
                 "folio.toml:2:1: [rate_limit] rates: unknown key (did you mean 'rate'?)");
    expect_error("[rate_limit]\ntrusted_proxies = \"127.0.0.1\"\n",
                 "folio.toml:2:19: [rate_limit] trusted_proxies: expected an array of strings, "
                 "got a string");
    expect_error("[rate_limit]\ntrusted_proxies = [\"10.0.0.0/8\"]\n",
                 "folio.toml:2:20: [rate_limit] trusted_proxies: '10.0.0.0/8' is not an IP "
                 "address (write e.g. \"127.0.0.1\" or \"::1\"; networks are not supported)");
    expect_error("[rate_limit]\ntrusted_proxies = [\"localhost\"]\n",
                 "folio.toml:2:20: [rate_limit] trusted_proxies: 'localhost' is not an IP "
                 "address (write e.g. \"127.0.0.1\" or \"::1\"; networks are not supported)");
    expect_error("[rate_limit]\ntrusted_proxies = [\"::1\", \"0::1\"]\n",
                 "folio.toml:2:27: [rate_limit] trusted_proxies: '0::1' is the same address "
                 "as '::1'");
    expect_error("[rate_limit]\ntrusted_proxies = [\"::1\", \"::1\"]\n",
                 "folio.toml:2:27: [rate_limit] trusted_proxies: '::1' is listed twice");
    char text[1024] = "[rate_limit]\ntrusted_proxies = [";
    for (int i = 1; i <= 17; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s\"10.0.0.%d\"",
                 i > 1 ? ", " : "", i);
    strcat(text, "]\n");
    expect_error(text, "folio.toml:2:19: [rate_limit] trusted_proxies: lists 17 addresses; at "
                       "most 16");
}

static void test_cors_origins_must_be_origins_as_browsers_send_them(void **state)
{
    (void)state;
    static const struct {
        const char *origin, *why;
    } bad[] = {
        {"https://app.example/", "must be only \"scheme://host[:port]\" (no path, query or "
                                 "trailing '/')"},
        {"https://app.example/x", "must be only \"scheme://host[:port]\" (no path, query or "
                                  "trailing '/')"},
        {"app.example", "must start with a scheme such as \"https://\""},
        {"https:/app.example", "must start with a scheme such as \"https://\""},
        {"https://App.example", "must be lowercase, as browsers send it"},
        {"https://", "has no host"},
        {"https://a.example:0", "must have a port from 1 to 65535 after ':'"},
        {"https://a.example:65536", "must have a port from 1 to 65535 after ':'"},
        {"https://a.example:", "must have a port from 1 to 65535 after ':'"},
        {"https://a example", "must not contain spaces or control characters"},
        {"http://[::1", "has an unclosed '[' in its host"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256], want[512];
        snprintf(text, sizeof text, "[cors]\norigins = [\"%s\"]\n", bad[i].origin);
        snprintf(want, sizeof want,
                 "folio.toml:2:12: [cors] origins: \"%s\" %s (an origin is "
                 "\"scheme://host[:port]\", e.g. \"https://app.example\")",
                 bad[i].origin, bad[i].why);
        expect_error(text, want);
        assert_non_null(folio__config_origin_problem(bad[i].origin));
    }
    assert_null(folio__config_origin_problem("*"));
    assert_null(folio__config_origin_problem("https://app.example:8443"));
    assert_null(folio__config_origin_problem("chrome-extension://abcdef"));
    expect_error("[cors]\norigins = [\"*\", \"https://a.example\"]\n",
                 "folio.toml:2:12: [cors] origins: \"*\" allows every origin: list it alone");
    expect_error("[cors]\norigins = \"*\"\n",
                 "folio.toml:2:11: [cors] origins: expected an array of strings, got a string");
    expect_error("[cors]\norigins = [\"https://a.example\", \"https://a.example\"]\n",
                 "folio.toml:2:33: [cors] origins: 'https://a.example' is listed twice");
    expect_error("[cors]\norigin = []\n",
                 "folio.toml:2:1: [cors] origin: unknown key (did you mean 'origins'?)");
}

static void test_access_log_is_off_stderr_or_a_file_in_an_existing_directory(void **state)
{
    (void)state;
    expect_error_with("[log]\naccess = \"files\"\n", "folio.toml:2:10: [log] access: ",
                      "/files is a directory");
    expect_error_with("[log]\naccess = \"nowhere/access.log\"\n",
                      "folio.toml:2:10: [log] access: cannot create ",
                      "/nowhere/access.log: its directory does not exist");
    expect_error_with("[log]\naccess = \"a.key/access.log\"\n",
                      "folio.toml:2:10: [log] access: cannot ", "a.key/access.log");
    expect_error("[log]\naccess = false\n",
                 "folio.toml:2:10: [log] access: expected a string, got a boolean");
    expect_error("[log]\nerror = \"-\"\n", "folio.toml:2:1: [log] error: unknown key");
    struct folio_config cfg;
    load_ok(&cfg, "[log]\naccess = \"/dev/null\"\n"); /* not a regular file, but writable */
    assert_string_equal(cfg.server.access_log, "/dev/null");
    folio__config_clear(&cfg);
}

static void test_prefetch_errors_name_the_key(void **state)
{
    (void)state;
    expect_error("[prefetch]\nenabled = \"yes\"\n",
                 "folio.toml:2:11: [prefetch] enabled: expected true or false, got a string");
    expect_error("[prefetch]\nthreads = 0\n",
                 "folio.toml:2:11: [prefetch] threads: must be from 1 to 64, got 0");
    expect_error("[prefetch]\nqueue = 0\n",
                 "folio.toml:2:9: [prefetch] queue: must be from 1 to 65536, got 0");
    expect_error("[prefetch]\ncache_bytes = 1024\n",
                 "folio.toml:2:15: [prefetch] cache_bytes: must be from 65536 to "
                 "1099511627776, got 1024");
    expect_error("[prefetch]\nttl = 0\n",
                 "folio.toml:2:7: [prefetch] ttl: must be from 1 to 86400, got 0");
    expect_error("[prefetch]\nttl = 1.5\n",
                 "folio.toml:2:7: [prefetch] ttl: expected an integer, got a float");
    expect_error("[prefetch]\nthread = 2\n",
                 "folio.toml:2:1: [prefetch] thread: unknown key (did you mean 'threads'?)");
    expect_error("prefetch = true\n",
                 "folio.toml:1:12: [prefetch]: expected a table, got a value");
}

static void test_endpoint_prefetch_rate_and_burst(void **state)
{
    (void)state;
    expect_error("[[endpoint]]\npath = \"/p\"\ntable = \"items\"\nprefetch = 1\n",
                 "folio.toml:4:12: [[endpoint]] prefetch: expected true or false, got an "
                 "integer");
    expect_error("[[endpoint]]\npath = \"/p\"\ntable = \"items\"\nrate = -0.5\n",
                 "folio.toml:4:8: [[endpoint]] rate: must be from 0 to 100000, got -0.5");
    expect_error("[[endpoint]]\npath = \"/p\"\ntable = \"items\"\nrate = 1\nburst = 0\n",
                 "folio.toml:5:9: [[endpoint]] burst: must be from 1 to 1000000, got 0");
    expect_error("[[endpoint]]\npath = \"/p\"\ntable = \"items\"\nburst = 5\n",
                 "folio.toml:4:9: [[endpoint]] burst: has no effect without the endpoint's "
                 "own rate (the [rate_limit] burst goes with the [rate_limit] rate)");

    struct folio_config cfg;
    load_ok(&cfg, "[prefetch]\nenabled = false\n"
                  "[[endpoint]]\npath = \"/a\"\ntable = \"items\"\n"
                  "[[endpoint]]\npath = \"/b\"\ntable = \"items\"\nprefetch = true\n"
                  "rate = 0.5\n"
                  "[[endpoint]]\npath = \"/c\"\ntable = \"tags\"\nrate = 20\nburst = 40\n");
    folio_db *db = open_db();
    struct folio_endpoint *eps = NULL;
    size_t n = 0;
    struct folio_config_error err;
    assert_int_equal(folio__config_endpoints(&cfg, db, &eps, &n, &err), FOLIO_OK);
    assert_int_equal(n, 3);
    assert_false(eps[0].prefetch); /* [prefetch] enabled is the default */
    assert_true(eps[0].rate == 0);
    assert_int_equal(eps[0].burst, 0);
    assert_true(eps[1].prefetch);
    assert_true(eps[1].rate == 0.5);
    assert_int_equal(eps[1].burst, 1);
    assert_false(eps[2].prefetch);
    assert_true(eps[2].rate == 20);
    assert_int_equal(eps[2].burst, 40);
    free_endpoints(eps, n);
    folio__config_clear(&cfg);
    load_ok(&cfg, "[[endpoint]]\npath = \"/a\"\ntable = \"items\"\n");
    assert_int_equal(folio__config_endpoints(&cfg, db, &eps, &n, &err), FOLIO_OK);
    assert_true(eps[0].prefetch); /* on by default */
    free_endpoints(eps, n);
    folio__config_clear(&cfg);
    folio__db_close(db);
}

/* --- cursor keys ---------------------------------------------------------------------- */

static void test_key_files_and_variables_fill_the_keyring_in_order(void **state)
{
    (void)state;
    struct folio_config cfg;
    setenv("FOLIO_TEST_KEY_ENV", "an environment secret of some length", 1);
    load_ok(&cfg, "[[cursor.keys]]\nid = 7\nsecret_file = \"b.key\"\n"
                  "[[cursor.keys]]\nid = 3\nsecret_env = \"FOLIO_TEST_KEY_ENV\"\n");
    assert_int_equal(cfg.nkeys, 2);
    assert_int_equal(cfg.keyring.n, 2);
    assert_int_equal(cfg.keyring.keys[0].id, 7);
    assert_int_equal(cfg.keyring.keys[1].id, 3);
    assert_false(cfg.keyring.encrypt);
    char want[256];
    snprintf(want, sizeof want, "%s/b.key", dir);
    assert_string_equal(cfg.keys[0].secret_file, want);
    assert_string_equal(cfg.keys[1].secret_env, "FOLIO_TEST_KEY_ENV");
    folio__config_clear(&cfg);
    /* encrypt may be written after the keys */
    load_ok(&cfg, "[[cursor.keys]]\nid = 1\nsecret_file = \"a.key\"\n[cursor]\nencrypt = true\n");
    assert_true(cfg.keyring.encrypt);
    folio__config_clear(&cfg);
    unsetenv("FOLIO_TEST_KEY_ENV");
}

static void test_missing_key_file_is_refused(void **state)
{
    (void)state;
    expect_error_with("[[cursor.keys]]\nid = 1\nsecret_file = \"missing.key\"\n",
                      "folio.toml:3:15: [[cursor.keys]] secret_file: cannot open ",
                      "/missing.key: No such file or directory");
}

static void test_world_readable_or_writable_key_file_is_refused_with_chmod_advice(void **state)
{
    (void)state;
    write_file("open.key", KEY_A, strlen(KEY_A), 0644);
    expect_error_with("[[cursor.keys]]\nid = 1\nsecret_file = \"open.key\"\n",
                      "folio.toml:3:15: [[cursor.keys]] secret_file: ",
                      "/open.key is readable or writable by other users; run: chmod 600 ");
    write_file("open.key", KEY_A, strlen(KEY_A), 0602);
    expect_error_with("[[cursor.keys]]\nid = 1\nsecret_file = \"open.key\"\n",
                      "folio.toml:3:15: [[cursor.keys]] secret_file: ", "chmod 600");
    write_file("open.key", KEY_A, strlen(KEY_A), 0640); /* group access is the owner's call */
    struct folio_config cfg;
    load_ok(&cfg, "[[cursor.keys]]\nid = 1\nsecret_file = \"open.key\"\n");
    folio__config_clear(&cfg);
}

static void test_short_key_file_is_refused(void **state)
{
    (void)state;
    write_file("short.key", "fifteen bytes!!", 15, 0600);
    expect_error_with("[[cursor.keys]]\nid = 1\nsecret_file = \"short.key\"\n",
                      "folio.toml:3:15: [[cursor.keys]] secret_file: ",
                      "/short.key holds 15 bytes; a cursor secret needs at least 16");
    write_file("short.key", "sixteen bytes!!!", 16, 0600);
    struct folio_config cfg;
    load_ok(&cfg, "[[cursor.keys]]\nid = 1\nsecret_file = \"short.key\"\n");
    folio__config_clear(&cfg);
}

static void test_key_entries_are_validated(void **state)
{
    (void)state;
    expect_error("[[cursor.keys]]\nid = 1\nsecret_file = \"a.key\"\n"
                 "[[cursor.keys]]\nid = 1\nsecret_file = \"b.key\"\n",
                 "folio.toml:5:6: [[cursor.keys]] id: key id 1 is used twice");
    expect_error("[[cursor.keys]]\nid = 256\nsecret_file = \"a.key\"\n",
                 "folio.toml:2:6: [[cursor.keys]] id: must be from 1 to 255, got 256");
    expect_error("[[cursor.keys]]\nsecret_file = \"a.key\"\n",
                 "folio.toml:1:10: [[cursor.keys]] id: missing (an integer from 1 to 255)");
    expect_error("[[cursor.keys]]\nid = 1\n",
                 "folio.toml:1:10: [[cursor.keys]]: needs secret_file or secret_env");
    expect_error("[[cursor.keys]]\nid = 1\nsecret_file = \"a.key\"\nsecret_env = \"X\"\n",
                 "folio.toml:4:14: [[cursor.keys]] secret_env: give secret_file or secret_env, "
                 "not both");
    unsetenv("FOLIO_TEST_UNSET");
    expect_error("[[cursor.keys]]\nid = 1\nsecret_env = \"FOLIO_TEST_UNSET\"\n",
                 "folio.toml:3:14: [[cursor.keys]] secret_env: the environment variable "
                 "FOLIO_TEST_UNSET is not set");
    setenv("FOLIO_TEST_SHORT", "short", 1);
    expect_error("[[cursor.keys]]\nid = 1\nsecret_env = \"FOLIO_TEST_SHORT\"\n",
                 "folio.toml:3:14: [[cursor.keys]] secret_env: the environment variable "
                 "FOLIO_TEST_SHORT holds 5 bytes; a cursor secret needs at least 16");
    unsetenv("FOLIO_TEST_SHORT");
    expect_error("[cursor]\nkeys = 1\n",
                 "folio.toml:2:8: [cursor] keys: expected an array of tables: write each key "
                 "as a [[cursor.keys]] table");
}

static void keyring_of(struct folio_config *cfg, const char *text)
{
    load_ok(cfg, text);
    assert_true(cfg->keyring.n > 0);
}

/* Decoded byte 1 of a token: the id of the key that made it. */
static unsigned token_key_id(const char *token)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned v0 = (unsigned)(strchr(alphabet, token[1]) - alphabet);
    unsigned v1 = (unsigned)(strchr(alphabet, token[2]) - alphabet);
    return ((v0 & 0x0f) << 4) | (v1 >> 2);
}

static void test_rotation_first_key_signs_every_key_verifies(void **state)
{
    (void)state;
    static const char only_a[] = "[[cursor.keys]]\nid = 1\nsecret_file = \"a.key\"\n";
    static const char b_then_a[] = "[[cursor.keys]]\nid = 2\nsecret_file = \"b.key\"\n"
                                   "[[cursor.keys]]\nid = 1\nsecret_file = \"a.key\"\n";
    static const char only_b[] = "[[cursor.keys]]\nid = 2\nsecret_file = \"b.key\"\n";
    struct folio_cursor c = {0}, out;
    folio_cursor_fingerprint("q", 1, c.fingerprint);
    c.nkeys = 1;
    c.keys[0] = (struct folio_value){.type = FOLIO_VALUE_INT, .i = 42};
    char old_token[FOLIO_CURSOR_MAX_TOKEN], new_token[FOLIO_CURSOR_MAX_TOKEN];
    struct folio_config cfg;

    keyring_of(&cfg, only_a);
    assert_int_equal(folio_cursor_encode(&cfg.keyring, &c, old_token, sizeof old_token, NULL),
                     FOLIO_OK);
    assert_int_equal(token_key_id(old_token), 1);
    folio__config_clear(&cfg);

    keyring_of(&cfg, b_then_a);
    assert_int_equal(folio_cursor_decode(&cfg.keyring, old_token, strlen(old_token), 0,
                                         c.fingerprint, &out, NULL),
                     FOLIO_OK);
    assert_int_equal(out.keys[0].i, 42);
    assert_int_equal(folio_cursor_encode(&cfg.keyring, &c, new_token, sizeof new_token, NULL),
                     FOLIO_OK);
    assert_int_equal(token_key_id(new_token), 2);
    folio__config_clear(&cfg);

    keyring_of(&cfg, only_b);
    assert_int_equal(folio_cursor_decode(&cfg.keyring, old_token, strlen(old_token), 0,
                                         c.fingerprint, &out, NULL),
                     FOLIO_ECURSOR_INVALID);
    assert_int_equal(folio_cursor_decode(&cfg.keyring, new_token, strlen(new_token), 0,
                                         c.fingerprint, &out, NULL),
                     FOLIO_OK);
    folio__config_clear(&cfg);
}

static void test_same_secret_gives_the_same_key_as_secret_file_on_the_command_line(void **state)
{
    (void)state;
    /* `folio serve --secret-file a.key` uses id 1 and the file's bytes: a config naming the
     * same file must accept its cursors, so moving to a config keeps cursors valid. */
    struct folio_keyring cli;
    folio_keyring_init(&cli, false);
    assert_int_equal(folio_keyring_add(&cli, 1, KEY_A, strlen(KEY_A)), FOLIO_OK);
    struct folio_cursor c = {0}, out;
    c.nkeys = 1;
    c.keys[0] = (struct folio_value){.type = FOLIO_VALUE_INT, .i = 7};
    char token[FOLIO_CURSOR_MAX_TOKEN];
    assert_int_equal(folio_cursor_encode(&cli, &c, token, sizeof token, NULL), FOLIO_OK);
    struct folio_config cfg;
    keyring_of(&cfg, "[[cursor.keys]]\nid = 1\nsecret_file = \"a.key\"\n");
    assert_int_equal(
        folio_cursor_decode(&cfg.keyring, token, strlen(token), 0, c.fingerprint, &out, NULL),
        FOLIO_OK);
    folio__config_clear(&cfg);
    folio_keyring_clear(&cli);
}

/* --- endpoints against a schema ------------------------------------------------------- */

static void test_endpoint_allowlists_are_built_from_the_schema(void **state)
{
    (void)state;
    struct folio_config cfg;
    load_ok(&cfg, "[pagination]\ncount = \"exact\"\n"
                  "[[endpoint]]\n"
                  "path = \"/products\"\n"
                  "table = \"items\"\n"
                  "name = \"products\"\n"
                  "columns = [\"name\", \"id\", \"price\"]\n"
                  "sortable = [\"price\"]\n"
                  "filterable = [\"price\", \"name\"]\n"
                  "default_sort = \"-price\"\n"
                  "modes = [\"keyset\"]\n"
                  "default_per_page = 5\n"
                  "max_per_page = 50\n"
                  "[[endpoint]]\n"
                  "path = \"/all\"\n"
                  "table = \"items\"\n"
                  "count = \"estimate\"\n"
                  "style = \"tutorial-offset\"\n");
    folio_db *db = open_db();
    struct folio_endpoint *eps;
    size_t n;
    struct folio_config_error err;
    assert_int_equal(folio__config_endpoints(&cfg, db, &eps, &n, &err), FOLIO_OK);
    assert_int_equal(n, 2);

    const struct folio_endpoint *p = &eps[0];
    assert_string_equal(p->path, "/products");
    assert_string_equal(p->name, "products");
    assert_string_equal(p->table->name, "items");
    assert_int_equal(p->ncols, 3);
    assert_int_equal(p->cols[0], 1); /* output order follows the list */
    assert_int_equal(p->cols[1], 0);
    assert_int_equal(p->cols[2], 2);
    assert_false(p->exposed[3]); /* category */
    assert_false(p->sortable[0]);
    assert_true(p->sortable[2]);
    assert_true(p->filterable[1] && p->filterable[2]);
    assert_false(p->filterable[0] || p->filterable[3]);
    assert_int_equal(p->default_sort.n, 1);
    assert_int_equal(p->default_sort.keys[0].column, 2);
    assert_true(p->default_sort.keys[0].desc);
    assert_int_equal(p->modes, FOLIO_ALLOW_KEYSET);
    assert_int_equal(p->default_per_page, 5);
    assert_int_equal(p->max_per_page, 50);
    assert_int_equal(p->default_count, FOLIO_COUNT_EXACT);
    assert_int_equal(p->style, FOLIO_STYLE_FOLIO);

    const struct folio_endpoint *a = &eps[1];
    assert_string_equal(a->name, "items");
    assert_int_equal(a->ncols, 4);
    for (int c = 0; c < 4; c++) {
        assert_true(a->exposed[c] && a->sortable[c]);
        assert_false(a->filterable[c]);
    }
    assert_int_equal(a->default_sort.n, 0);
    assert_int_equal(a->modes, FOLIO_ALLOW_OFFSET | FOLIO_ALLOW_KEYSET);
    assert_int_equal(a->default_per_page, 20);
    assert_int_equal(a->max_per_page, 100);
    assert_int_equal(a->default_count, FOLIO_COUNT_ESTIMATE);
    assert_int_equal(a->style, FOLIO_STYLE_TUTORIAL_OFFSET);
    free_endpoints(eps, n);
    folio__db_close(db);
    folio__config_clear(&cfg);
}

static void test_endpoint_schema_errors_name_the_column_or_table(void **state)
{
    (void)state;
    expect_endpoint_error("[[endpoint]]\npath = \"/p\"\ntable = \"products\"\n",
                          "folio.toml:3:9: [[endpoint]] table: the database has no table "
                          "'products' (its tables: items, tags)");
    expect_endpoint_error("[[endpoint]]\npath = \"/p\"\ntable = \"items\"\n"
                          "columns = [\"id\", \"cost\"]\n",
                          "folio.toml:4:18: [[endpoint]] columns: unknown column 'cost' in "
                          "table items");
    expect_endpoint_error("[[endpoint]]\npath = \"/p\"\ntable = \"items\"\n"
                          "columns = [\"id\", \"name\"]\nsortable = [\"price\"]\n",
                          "folio.toml:5:13: [[endpoint]] sortable: column 'price' is not in "
                          "columns (only exposed columns can be listed here)");
    expect_endpoint_error("[[endpoint]]\npath = \"/p\"\ntable = \"items\"\n"
                          "columns = [\"id\", \"name\"]\nfilterable = [\"category\"]\n",
                          "folio.toml:5:15: [[endpoint]] filterable: column 'category' is not "
                          "in columns (only exposed columns can be listed here)");
    expect_endpoint_error("[[endpoint]]\npath = \"/p\"\ntable = \"items\"\n"
                          "sortable = [\"name\"]\ndefault_sort = \"-price\"\n",
                          "folio.toml:5:16: [[endpoint]] default_sort: column 'price' is not "
                          "sortable (list it in sortable)");
    expect_endpoint_error("[[endpoint]]\npath = \"/p\"\ntable = \"items\"\n"
                          "default_sort = \"name,,id\"\n",
                          "folio.toml:4:16: [[endpoint]] default_sort: sort has an empty "
                          "column name");
    expect_endpoint_error("[[endpoint]]\npath = \"/p\"\ntable = \"items\"\n"
                          "default_sort = \"weight\"\n",
                          "folio.toml:4:16: [[endpoint]] default_sort: unknown column 'weight' "
                          "in table items");
    expect_endpoint_error("[[endpoint]]\npath = \"/t\"\ntable = \"tags\"\n"
                          "style = \"tutorial-keyset\"\n",
                          "folio.toml:4:9: [[endpoint]] style: tutorial-keyset needs a table "
                          "whose primary key is a single INTEGER column; tags has none");
    expect_endpoint_error("[[endpoint]]\npath = \"/i\"\ntable = \"items\"\n"
                          "style = \"tutorial-keyset\"\ndefault_sort = \"name\"\n",
                          "folio.toml:5:16: [[endpoint]] default_sort: tutorial-keyset pages by "
                          "the primary key: leave default_sort out or set it to \"id\"");
}

static void test_tutorial_keyset_accepts_an_integer_primary_key(void **state)
{
    (void)state;
    struct folio_config cfg;
    load_ok(&cfg, "[[endpoint]]\npath = \"/m\"\ntable = \"items\"\nname = \"messages\"\n"
                  "style = \"tutorial-keyset\"\ndefault_sort = \"id\"\n");
    folio_db *db = open_db();
    struct folio_endpoint *eps;
    size_t n;
    struct folio_config_error err;
    assert_int_equal(folio__config_endpoints(&cfg, db, &eps, &n, &err), FOLIO_OK);
    assert_int_equal(eps[0].style, FOLIO_STYLE_TUTORIAL_KEYSET);
    assert_string_equal(eps[0].name, "messages");
    free_endpoints(eps, n);
    folio__db_close(db);
    folio__config_clear(&cfg);
}

static void test_open_db_names_the_database_path_position(void **state)
{
    (void)state;
    struct folio_config cfg;
    load_ok(&cfg, "[server]\nthreads = 1\n[database]\npath = \"missing/none.db\"\n");
    folio_db *db = NULL;
    struct folio_config_error err = {0};
    assert_int_not_equal(folio__config_open_db(&cfg, NULL, &db, &err), FOLIO_OK);
    assert_null(db);
    assert_memory_equal(err.message, "folio.toml:4:8: [database] path: ", 33);
    folio__config_clear(&cfg);
    load_ok(&cfg, "");
    assert_int_equal(folio__config_open_db(&cfg, NULL, &db, &err), FOLIO_ECONFIG);
    assert_string_equal(err.message, "folio.toml: [database] path: missing; set it or give the "
                                     "database on the command line");
    folio__config_clear(&cfg);
}

/* --- the effective settings ----------------------------------------------------------- */

static const char FULL[] = "[server]\nlisten = \"127.0.0.2:8181\"\nthreads = 3\n"
                           "[database]\npath = \"app.db\"\n"
                           "[pagination]\nmax_per_page = 200\ncount = \"exact\"\n"
                           "[cursor]\nttl = 60\nencrypt = true\n"
                           "[[cursor.keys]]\nid = 2\nsecret_file = \"b.key\"\n"
                           "[[cursor.keys]]\nid = 1\nsecret_file = \"a.key\"\n"
                           "[files]\nroot = \"files\"\n"
                           "[rate_limit]\nrate = 0.1\nclients = 100\n"
                           "trusted_proxies = [\"127.0.0.1\", \"::1\"]\n"
                           "[cors]\norigins = [\"https://app.example\"]\n"
                           "[log]\naccess = \"access.log\"\n"
                           "[prefetch]\nenabled = false\nttl = 2\n"
                           "[[endpoint]]\npath = \"/products\"\ntable = \"items\"\n"
                           "prefetch = true\nrate = 2.5\n"
                           "columns = [\"id\", \"name\", \"price\"]\nsortable = [\"price\"]\n"
                           "filterable = [\"name\"]\ndefault_sort = \"-price\"\n"
                           "name = \"a \\\"quoted\\\" name\"\n"
                           "[[endpoint]]\npath = \"/tags\"\ntable = \"tags\"\n"
                           "style = \"tutorial-signed\"\nmodes = [\"keyset\"]\n";

static char *effective(struct folio_config *cfg, folio_db *db)
{
    struct folio_endpoint *eps = NULL;
    size_t n = 0;
    struct folio_config_error err;
    if (db != NULL)
        assert_int_equal(folio__config_endpoints(cfg, db, &eps, &n, &err), FOLIO_OK);
    struct folio_buf out;
    folio_buf_init(&out, 1 << 20);
    assert_int_equal(folio__config_write(cfg, db, eps, n, &out), FOLIO_OK);
    free_endpoints(eps, n);
    return folio_buf_detach(&out, NULL);
}

static void test_effective_settings_reload_to_the_same_settings(void **state)
{
    (void)state;
    folio_db *db = open_db();
    struct folio_config cfg;
    load_ok(&cfg, FULL);
    char *first = effective(&cfg, db);
    folio__config_clear(&cfg);
    assert_non_null(strstr(first, "threads = 3\n"));
    assert_non_null(strstr(first, "max_connections = 1024\n"));
    assert_non_null(strstr(first, "default_per_page = 20\n"));
    assert_non_null(strstr(first, "columns = [\"id\", \"name\", \"price\"]\n"));
    assert_non_null(strstr(first, "filterable = []\n"));
    assert_non_null(strstr(first, "name = \"a \\\"quoted\\\" name\"\n"));
    assert_non_null(strstr(first, "auto = false\n"));
    assert_non_null(strstr(first, "[rate_limit]\nrate = 0.1\nburst = 1\nclients = 100\n"
                                  "trusted_proxies = [\"127.0.0.1\", \"::1\"]\n"));
    assert_non_null(strstr(first, "origins = [\"https://app.example\"]\n"));
    assert_non_null(strstr(first, "/access.log\"\n"));
    assert_non_null(strstr(first, "enabled = false\nthreads = 1\nqueue = 64\n"
                                  "cache_bytes = 33554432\nttl = 2\n"));
    assert_non_null(strstr(first, "prefetch = true\nrate = 2.5\nburst = 3\n"));
    assert_non_null(strstr(first, "prefetch = false\n# rate, burst: not set"));
    assert_null(strstr(first, KEY_A)); /* secrets are never written */
    assert_null(strstr(first, KEY_B));

    load_ok(&cfg, first);
    char *second = effective(&cfg, db);
    assert_string_equal(first, second);
    assert_true(cfg.encrypt);
    assert_int_equal(cfg.keyring.keys[0].id, 2);
    folio__config_clear(&cfg);
    folio_free(first);
    folio_free(second);

    /* Without a database the configured lists are written as given. */
    load_ok(&cfg, FULL);
    char *nodb = effective(&cfg, NULL);
    assert_non_null(strstr(nodb, "# columns: every column of the table\n"));
    folio__config_clear(&cfg);
    load_ok(&cfg, nodb);
    folio__config_clear(&cfg);
    folio_free(nodb);
    folio__db_close(db);
}

static void test_load_reads_a_file_and_resolves_against_its_directory(void **state)
{
    (void)state;
    write_file("folio.toml", "[database]\npath = \"app.db\"\n", 27, 0600);
    char path[256], want[256];
    snprintf(path, sizeof path, "%s/folio.toml", dir);
    snprintf(want, sizeof want, "%s/app.db", dir);
    struct folio_config cfg;
    struct folio_config_error err;
    assert_int_equal(folio__config_load(&cfg, path, &err), FOLIO_OK);
    char *real = realpath(want, NULL);
    assert_non_null(real);
    assert_string_equal(cfg.db_path, real);
    free(real);
    assert_string_equal(cfg.file, path);
    folio__config_clear(&cfg);

    snprintf(path, sizeof path, "%s/none.toml", dir);
    assert_int_equal(folio__config_load(&cfg, path, &err), FOLIO_EIO);
    assert_non_null(strstr(err.message, "none.toml: cannot read the file: No such file"));
}

/* --- out of memory -------------------------------------------------------------------- */

/* Load (and, with `db`, build the endpoints), write the effective settings, free. */
static folio_status load_build_write(folio_db *db, struct folio_config_error *err)
{
    struct folio_config cfg;
    folio_status st = folio__config_load_text(&cfg, FULL, strlen(FULL), "oom.toml", dir, err);
    struct folio_endpoint *eps = NULL;
    size_t neps = 0;
    if (st == FOLIO_OK && db != NULL)
        st = folio__config_endpoints(&cfg, db, &eps, &neps, err);
    if (st == FOLIO_OK) {
        struct folio_buf out;
        folio_buf_init(&out, 1 << 20);
        st = folio__config_write(&cfg, db, eps, neps, &out);
        folio_buf_clear(&out);
    }
    free_endpoints(eps, neps);
    folio__config_clear(&cfg);
    return st;
}

/* load_build_write for the out-of-memory loop: ctx is the database (or NULL). */
static folio_status oom_op(void *ctx)
{
    struct folio_config_error err = {0};
    folio_status st = load_build_write(ctx, &err);
    if (st == FOLIO_ENOMEM && err.message[0] != '\0') /* folio__config_write() reports by status alone */
        assert_string_equal(err.message, "oom.toml: out of memory");
    return st;
}

static void test_out_of_memory_fails_cleanly_without_leaks(void **state)
{
    (void)state;
    long n = test_alloc_every_failure(oom_op, NULL, false);
    assert_true(n > 20 && n < 5000);
}

static void test_out_of_memory_while_building_endpoints_leaks_nothing(void **state)
{
    (void)state;
    folio_db *db = open_db(); /* allocated before the counting allocator */
    /* folio__endpoint_init() may absorb a failed allocation of its own (it then keeps a
     * shorter URL); everything the config code allocates must fail with ENOMEM. */
    long n = test_alloc_every_failure(oom_op, db, true);
    assert_true(n < 5000);
    folio__db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_file_gives_the_zero_config_defaults),
        cmocka_unit_test(test_every_section_sets_its_values),
        cmocka_unit_test(test_absolute_paths_are_kept_and_relative_ones_join_the_config_dir),
        cmocka_unit_test(test_api_auto_defaults_to_whether_endpoints_are_configured),
        cmocka_unit_test(test_wrong_type_names_file_line_column_section_and_key),
        cmocka_unit_test(test_out_of_range_values_are_refused),
        cmocka_unit_test(test_unknown_keys_and_sections_are_refused),
        cmocka_unit_test(test_cluster_and_replica_settings_are_read_and_checked),
        cmocka_unit_test(test_database_url_is_reported_as_not_supported_yet),
        cmocka_unit_test(test_toml_syntax_errors_keep_their_position),
        cmocka_unit_test(test_files_root_must_be_an_existing_directory),
        cmocka_unit_test(test_endpoint_paths_are_checked_on_load),
        cmocka_unit_test(test_operational_sections_set_their_values),
        cmocka_unit_test(test_burst_defaults_to_the_rate_rounded_up),
        cmocka_unit_test(test_rate_limit_errors_name_the_key),
        cmocka_unit_test(test_cors_origins_must_be_origins_as_browsers_send_them),
        cmocka_unit_test(test_access_log_is_off_stderr_or_a_file_in_an_existing_directory),
        cmocka_unit_test(test_prefetch_errors_name_the_key),
        cmocka_unit_test(test_endpoint_prefetch_rate_and_burst),
        cmocka_unit_test(test_key_files_and_variables_fill_the_keyring_in_order),
        cmocka_unit_test(test_missing_key_file_is_refused),
        cmocka_unit_test(test_world_readable_or_writable_key_file_is_refused_with_chmod_advice),
        cmocka_unit_test(test_short_key_file_is_refused),
        cmocka_unit_test(test_key_entries_are_validated),
        cmocka_unit_test(test_rotation_first_key_signs_every_key_verifies),
        cmocka_unit_test(test_same_secret_gives_the_same_key_as_secret_file_on_the_command_line),
        cmocka_unit_test(test_endpoint_allowlists_are_built_from_the_schema),
        cmocka_unit_test(test_endpoint_schema_errors_name_the_column_or_table),
        cmocka_unit_test(test_tutorial_keyset_accepts_an_integer_primary_key),
        cmocka_unit_test(test_open_db_names_the_database_path_position),
        cmocka_unit_test(test_tiny_rates_are_refused),
        cmocka_unit_test(test_effective_settings_reload_to_the_same_settings),
        cmocka_unit_test(test_load_reads_a_file_and_resolves_against_its_directory),
        cmocka_unit_test(test_out_of_memory_fails_cleanly_without_leaks),
        cmocka_unit_test(test_out_of_memory_while_building_endpoints_leaks_nothing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
