/* Private to src/server/config/: the validation context and the typed readers every
 * section uses. Each reader checks one value and, when it is wrong, writes the message
 * "FILE:LINE:COL: SECTION KEY: what is wrong" at the value's own position. */
#ifndef FOLIO_SERVER_CONFIG_INTERNAL_H
#define FOLIO_SERVER_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/config/config.h"

struct folio__cfg {
    const char *file;               /* label for messages */
    const char *dir;                /* anchors relative paths */
    struct folio_config_error *err; /* may be NULL */
};

/* Fill the error (status FOLIO_ECONFIG) at line:col. `section` is written as given
 * ("[server]", "[[endpoint]]"); `key` may be NULL. Returns FOLIO_ECONFIG. */
folio_status folio__cfg_fail(const struct folio__cfg *c, uint32_t line, uint32_t col,
                             const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* The same at the position of value `v`. */
folio_status folio__cfg_fail_at(const struct folio__cfg *c, const struct folio_toml_value *v,
                                const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The same at the position of key `key` in table `t` (where the key is written). */
folio_status folio__cfg_fail_key(const struct folio__cfg *c, const struct folio_toml_value *t,
                                 const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* FOLIO_ENOMEM with the message "out of memory". */
folio_status folio__cfg_nomem(const struct folio__cfg *c);

/* Key number `i` of table `t`, or NULL when it contains a NUL byte (no such key exists). */
const char *folio__cfg_key(const struct folio_toml_value *t, size_t i);
/* "unknown key" for key number `i` of `t`, with a suggestion from `known` (NULL-ended)
 * when one is close. */
folio_status folio__cfg_unknown_key(const struct folio__cfg *c, const struct folio_toml_value *t,
                                    size_t i, const char *section,
                                    const char *const *known);

/* One known key of a section: `section` and `key` for messages, its value `v`. */
typedef folio_status folio__cfg_key_fn(const struct folio__cfg *c, const char *section,
                                       const char *key, const struct folio_toml_value *v,
                                       void *ctx);
/* Walk the keys of table `t` in order: each one listed in `known` (NULL-ended) goes to
 * `fn` (so `fn` needs no catch-all), any other is an unknown key (as above). Stops at, and
 * returns, the first error. */
folio_status folio__cfg_keys(const struct folio__cfg *c, const struct folio_toml_value *t,
                             const char *section, const char *const *known,
                             folio__cfg_key_fn *fn, void *ctx);

/* Typed readers: FOLIO_OK with *out set, or FOLIO_ECONFIG. */
folio_status folio__cfg_int(const struct folio__cfg *c, const struct folio_toml_value *v,
                            const char *section, const char *key, int64_t min, int64_t max,
                            int64_t *out);
/* An integer or a float, finite, within [min, max]. */
folio_status folio__cfg_number(const struct folio__cfg *c, const struct folio_toml_value *v,
                               const char *section, const char *key, double min, double max,
                               double *out);
folio_status folio__cfg_bool(const struct folio__cfg *c, const struct folio_toml_value *v,
                             const char *section, const char *key, bool *out);
/* A string without NUL bytes; empty only when `allow_empty`. */
folio_status folio__cfg_string(const struct folio__cfg *c, const struct folio_toml_value *v,
                               const char *section, const char *key, bool allow_empty,
                               const char **out);
/* One of `names[0..n)`; *out is its index. */
folio_status folio__cfg_enum(const struct folio__cfg *c, const struct folio_toml_value *v,
                             const char *section, const char *key,
                             const char *const *names, size_t n, int *out);
/* An array of distinct non-empty strings (empty array only when `allow_empty`). */
folio_status folio__cfg_string_list(const struct folio__cfg *c,
                                    const struct folio_toml_value *v, const char *section,
                                    const char *key, bool allow_empty);
/* A table (for a section or an array element). */
folio_status folio__cfg_table(const struct folio__cfg *c, const struct folio_toml_value *v,
                              const char *section, const char *key);
/* A path string resolved against the config directory; *out is allocated. */
folio_status folio__cfg_path(const struct folio__cfg *c, const struct folio_toml_value *v,
                             const char *section, const char *key, char **out);

/* Sections (config_cursor.c, config_endpoint.c). */
folio_status folio__cfg_cursor(const struct folio__cfg *c, const struct folio_toml_value *t,
                               struct folio_config *cfg);
folio_status folio__cfg_endpoint_list(const struct folio__cfg *c,
                                      const struct folio_toml_value *v,
                                      struct folio_config *cfg);
/* [rate_limit], [cors], [log], [prefetch] (config_ops.c). */
/* A rate key: a number that folio__config_rate_ok() accepts. */
folio_status folio__cfg_rate(const struct folio__cfg *c, const struct folio_toml_value *v,
                             const char *section, const char *key, double *out);
folio_status folio__cfg_rate_limit(const struct folio__cfg *c, const struct folio_toml_value *t,
                                   struct folio_config *cfg);
folio_status folio__cfg_cors(const struct folio__cfg *c, const struct folio_toml_value *t,
                             struct folio_config *cfg);
folio_status folio__cfg_log(const struct folio__cfg *c, const struct folio_toml_value *t,
                            struct folio_config *cfg);
folio_status folio__cfg_prefetch(const struct folio__cfg *c, const struct folio_toml_value *t,
                                 struct folio_config *cfg);
/* [export] and [compression] (config_export.c). */
folio_status folio__cfg_export(const struct folio__cfg *c, const struct folio_toml_value *t,
                               struct folio_config *cfg);
folio_status folio__cfg_compression(const struct folio__cfg *c, const struct folio_toml_value *t,
                                    struct folio_config *cfg);
/* [cluster] (config_cluster.c). */
folio_status folio__cfg_cluster(const struct folio__cfg *c, const struct folio_toml_value *t,
                                struct folio_config *cfg);
/* Per-page limits of every endpoint against [pagination] (after all sections). */
folio_status folio__cfg_endpoint_limits(const struct folio__cfg *c,
                                        const struct folio_config *cfg);

/* [auth], the auth keys of [server] and [[endpoint]], and their checks (config_auth.c). */
folio_status folio__cfg_auth(const struct folio__cfg *c, const struct folio_toml_value *t,
                             struct folio_config *cfg);
folio_status folio__cfg_server_auth_key(const struct folio__cfg *c, const char *S, const char *k,
                                        const struct folio_toml_value *v,
                                        struct folio_server_config *s);
folio_status folio__cfg_endpoint_auth_key(const struct folio__cfg *c, const char *S,
                                          const char *k, const struct folio_toml_value *v,
                                          struct folio_config_endpoint *ep);
folio_status folio__cfg_auth_check(const struct folio__cfg *c, struct folio_config *cfg);
folio_status folio__cfg_endpoint_scope_build(const struct folio__cfg *c,
                                             const struct folio_config_endpoint *ce,
                                             struct folio_endpoint *ep);
extern const char *const folio__cfg_auth_names[3];

extern const char *const folio__cfg_count_names[3];
extern const enum folio_count folio__cfg_count_values[3];
extern const char *const folio__cfg_style_names[4];

#endif
