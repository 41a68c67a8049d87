/* The configuration file (folio.toml): loading, strict validation, endpoints built from
 * it, and the effective settings written back as TOML (`folio check-config`).
 *
 *     struct folio_config cfg;
 *     struct folio_config_error err;
 *     if (folio__config_load(&cfg, "folio.toml", &err) != FOLIO_OK)
 *         fprintf(stderr, "%s\n", err.message); // folio.toml:3:11: [server] threads: ...
 *     ... folio__config_open_db(), folio__config_endpoints(), cfg.server, cfg.keyring ...
 *     folio__config_clear(&cfg);
 *
 * Validation happens in two steps. folio__config_load() checks everything that needs no
 * database: the TOML syntax, every section and key name, every type and range, the
 * cursor key files and variables (the keyring is built here), the [files] root and the
 * [[endpoint]] paths. folio__config_endpoints() then checks the endpoints against the
 * schema (tables, columns, sorts, tutorial styles) and builds them.
 *
 * Every message reads "FILE:LINE:COL: [section] key: what is wrong", FILE being the path
 * as given. Paths in the file are relative to the file's directory.
 *
 * Errors do not use struct folio_error: its 256-byte detail is too short for messages
 * that quote two file paths (a key file, the chmod advice), so they get their own
 * struct.
 *
 * Thread-safety: none inside; a loaded config is read-only and may be read from any
 * thread until folio__config_clear(). */
#ifndef FOLIO_SERVER_CONFIG_CONFIG_H
#define FOLIO_SERVER_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "folio/folio.h"
#include "folio/toml.h"
#include "server/endpoint.h"
#include "server/server.h"

#define FOLIO_CONFIG_ERROR_MAX 1024
#define FOLIO_CONFIG_SECRET_MAX 4096 /* longest cursor secret accepted, in bytes */
#define FOLIO_CONFIG_SECRET_MIN 16
#define FOLIO_CONFIG_MAX_TTL 3155760000u /* one hundred years, in seconds */
#define FOLIO_CONFIG_MAX_RATE 100000.0  /* requests per second per client */
#define FOLIO_CONFIG_MIN_RATE 0.0001    /* the smallest rate but 0 (no limit) */
#define FOLIO_CONFIG_MAX_BURST 1000000

struct folio_config_error {
    folio_status status; /* FOLIO_ECONFIG for a wrong file, or the underlying status */
    char message[FOLIO_CONFIG_ERROR_MAX];
};

/* One [[cursor.keys]] entry as configured (the secret itself lives only in the keyring). */
struct folio_config_key {
    uint8_t id;
    char *secret_file;      /* resolved path (owned), or NULL */
    const char *secret_env; /* variable name (borrowed from the document), or NULL */
};

/* One [[endpoint]] as written; strings and lists are borrowed from the document. A NULL
 * list, 0 limit or FOLIO_COUNT_DEFAULT means "not given: use the default". */
struct folio_config_endpoint {
    const struct folio_toml_value *at; /* the [[endpoint]] table, for positions */
    const char *path;
    const char *table;
    const char *name;
    const char *default_sort;
    const struct folio_toml_value *columns, *sortable, *filterable; /* string arrays */
    const struct folio_toml_value *key; /* string array: the unique tiebreaker, or NULL */
    unsigned modes;
    int default_per_page, max_per_page;
    enum folio_count count;
    enum folio_style style;
    int prefetch;   /* 1 or 0; -1 = not given: [prefetch] enabled */
    int auth;       /* enum folio_auth_mode; -1 = not given: [auth] mode */
    const struct folio_toml_value *scope; /* scope = { column = "claims.x" | "key.x" } */
    bool scope_from_claims[FOLIO_AUTH_SCOPE_MAX];
    char scope_names[FOLIO_AUTH_SCOPE_MAX][128];
    bool export_ok; /* export = true: {path}/export streams the result set */
    double rate;    /* requests per second per client; 0 = the [rate_limit] limit applies */
    unsigned burst; /* 0 = not given: folio__config_default_burst(rate) */
};

struct folio_config {
    char *file;        /* the path as given (owned); labels messages */
    char *dir;         /* absolute directory of the file (owned) */
    folio_toml *doc;   /* kept: positions and borrowed strings point into it */
    struct folio_server_config server; /* [server], [pagination], [cursor] ttl, [api] */
    char *db_path;     /* [database] path, resolved (owned), or NULL */
    const struct folio_toml_value *db_path_at;
    const char *db_url; /* [database] url (PostgreSQL), borrowed from doc, or NULL */
    const struct folio_toml_value *db_url_at;
    /* [database] statement_timeout, application_name, schemas (PostgreSQL); schemas
     * borrowed from doc. */
    struct folio_db_options db_options;
    const char *db_schemas[16];
    const char *db_replicas[16]; /* [database] replicas, borrowed from doc */
    const struct folio_toml_value *db_replicas_at;
    bool encrypt;      /* [cursor] encrypt */
    size_t nkeys;      /* [[cursor.keys]]; 0 = keep the command line's key */
    struct folio_config_key keys[FOLIO_KEYRING_MAX];
    struct folio_keyring keyring; /* built from keys[] when nkeys > 0 */
    bool api_auto_given;          /* [api] auto was written (else derived) */
    bool burst_given;             /* [rate_limit] burst was written (else derived) */
    char *files_root;  /* [files] root, resolved (owned), or NULL; also in server */
    size_t nendpoints;
    struct folio_config_endpoint *endpoints; /* owned array */
    /* [auth]: every key file read at load; server.auth points here (auth.h) */
    struct folio_auth auth;
    const struct folio_toml_value *auth_at;
    char *keys_file, *keys_secret_file, *metrics_token_file; /* resolved (owned), or NULL */
};

/* The settings without a file: exactly what `folio serve DB` uses. Never fails. */
void folio__config_init(struct folio_config *cfg);

/* Read and validate the file at `path` into `cfg` (which need not be initialised).
 * On failure `cfg` is left cleared (nothing to free) and `err` (optional) is filled.
 * Returns FOLIO_OK,
 *         FOLIO_ECONFIG  anything wrong in the file: syntax, unknown section or key,
 *                        wrong type, value out of range, unusable key file or variable,
 *                        missing [files] root directory, bad or duplicate endpoint path,
 *                        [database] path and url both given;
 *         FOLIO_EIO      the file cannot be read;
 *         FOLIO_ENOMEM   the allocator failed (nothing is leaked). */
folio_status folio__config_load(struct folio_config *cfg, const char *path,
                                struct folio_config_error *err) FOLIO_MUST_CHECK;

/* The same from text in memory: `file` labels messages, `dir` (an existing directory)
 * anchors relative paths. */
folio_status folio__config_load_text(struct folio_config *cfg, const char *text, size_t len,
                                     const char *file, const char *dir,
                                     struct folio_config_error *err) FOLIO_MUST_CHECK;

/* Free everything and wipe the keyring. A cleared or initialised config may be cleared
 * again. */
void folio__config_clear(struct folio_config *cfg);

/* Open the database: `override` when not NULL (a command-line path or PostgreSQL URL),
 * else the config's [database] url or path, with the [database] options. FOLIO_ECONFIG when there is neither; otherwise folio__db_open()'s
 * status, with the message naming the [database] path's position when it came from
 * the file. */
folio_status folio__config_open_db(const struct folio_config *cfg, const char *override,
                                   folio_db **out, struct folio_config_error *err) FOLIO_MUST_CHECK;

/* Build the configured [[endpoint]]s against `db`'s schema. On FOLIO_OK *out (owned by
 * the caller: folio__endpoint_clear() each, then folio_free(), or hand them to
 * folio__server_start()) holds *out_n endpoints; NULL with 0 when none are configured.
 * FOLIO_ECONFIG (unknown table or column, column lists that are not subsets, bad
 * default_sort, a tutorial style the table cannot serve, per-page limits that
 * contradict), FOLIO_ENOMEM. */
folio_status folio__config_endpoints(const struct folio_config *cfg, const folio_db *db,
                                     struct folio_endpoint **out, size_t *out_n,
                                     struct folio_config_error *err) FOLIO_MUST_CHECK;

/* Append the effective settings as a TOML document that folio__config_load() accepts:
 * every key with its value, defaults included. `eps` (may be NULL) are the endpoints
 * built by folio__config_endpoints(), which lets their defaulted column lists be written
 * out; `db` (may be NULL) lists the automatic /api/{table} endpoints as comments.
 * Secrets are never written, only where they come from. FOLIO_ENOMEM, FOLIO_ETOOBIG. */
folio_status folio__config_write(const struct folio_config *cfg, const folio_db *db,
                                 const struct folio_endpoint *eps, size_t neps,
                                 struct folio_buf *out);

/* The canonical text of an IPv4 or IPv6 address, as inet_ntop() writes it (which is how
 * the server compares peer addresses with trusted proxies); false when `text` is not an
 * address. Thread-safe. */
#define FOLIO_CONFIG_ADDRESS_MAX 64
bool folio__config_address(const char *text, char out[FOLIO_CONFIG_ADDRESS_MAX]);

/* NULL when `origin` may be listed as a CORS origin: "*" or a browser origin
 * "scheme://host[:port]" (no path, no trailing '/'); otherwise what is wrong with it. */
const char *folio__config_origin_problem(const char *origin);

/* Open `path` for reading when it is a regular file (a symbolic link is followed: key
 * files are often links, e.g. mounted secrets). Never blocks on a FIFO or device: those,
 * directories and sockets are refused. Returns the descriptor (O_CLOEXEC, blocking
 * reads), with its fstat() in *out_st when not NULL; or -1 with the reason in `why`
 * ("No such file or directory", "it is a FIFO (named pipe), not a regular file").
 * Thread-safe. */
struct stat;
int folio__config_file_open(const char *path, struct stat *out_st, char *why, size_t why_size);
/* What a file of st_mode `mode` is, for messages: "a directory", "a FIFO (named pipe)". */
const char *folio__config_file_kind(unsigned mode);

/* Whether `rate` (requests per second) is a usable limit: 0 (none), or finite from
 * FOLIO_CONFIG_MIN_RATE to FOLIO_CONFIG_MAX_RATE. Tinier rates make waits that overflow
 * every integer a header can carry. */
bool folio__config_rate_ok(double rate);

/* The burst used when none is given: max(1, ceil(rate)), 0 for rate 0 (no limit). */
unsigned folio__config_default_burst(double rate);

/* Whether `s` serves anything without authentication on an address other than loopback
 * (the index and /files follow [auth] mode, each endpoint its own). */
bool folio__config_exposed(const struct folio_server_config *s, const struct folio_endpoint *eps,
                           size_t n);

/* Names of the enumerations, as written in the file. */
const char *folio__config_count_name(enum folio_count count);
const char *folio__config_style_name(enum folio_style style);

#endif
