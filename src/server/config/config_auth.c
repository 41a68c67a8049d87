/* [auth], [[auth.jwt_keys]], the auth and TLS keys of [server], and each [[endpoint]]'s
 * `auth` and `scope`. Every key file is read here, once per load: a SIGHUP reload reads
 * them again (revoked keys, rotated JWT keys, renewed certificates). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/authkeys.h"
#include "server/config/config_internal.h"
#include "server/tls.h"

static const char A[] = "[auth]";
static const char J[] = "[[auth.jwt_keys]]";
const char *const folio__cfg_auth_names[3] = {"none", "api_key", "jwt"};
static const char *const alg_names[3] = {"HS256", "RS256", "ES256"};

/* Read a whole small file; `secret`: refuse one accessible by group or others. Returns
 * the byte count, or -1 with `why`. `out` holds `max` + 1 bytes. */
static long read_small(const char *path, bool secret, unsigned char *out, size_t max,
                       char *why, size_t why_size)
{
    struct stat sb;
    char reason[128];
    int fd = folio__config_file_open(path, &sb, reason, sizeof reason);
    if (fd < 0) {
        snprintf(why, why_size, "cannot open %s: %s", path, reason);
        return -1;
    }
    if (secret && (sb.st_mode & (S_IRWXG | S_IRWXO))) {
        close(fd);
        snprintf(why, why_size, "%s is accessible by group or others; run: chmod 600 %s", path,
                 path);
        return -1;
    }
    size_t n = 0;
    while (n <= max) {
        ssize_t r = read(fd, out + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(why, why_size, "cannot read %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > max) {
        snprintf(why, why_size, "%s is larger than %zu bytes", path, max);
        return -1;
    }
    return (long)n;
}

/* A secret file of `min`..FOLIO_CONFIG_SECRET_MAX bytes, used as it is: a binary secret
 * may end in a newline byte. With `token` (a text a client sends back), one trailing
 * newline is dropped. */
static folio_status read_secret(const struct folio__cfg *c, const struct folio_toml_value *at,
                                const char *S, const char *key, const char *path, size_t min,
                                bool token, unsigned char *out, size_t *out_len)
{
    char why[600];
    long n = read_small(path, true, out, FOLIO_CONFIG_SECRET_MAX, why, sizeof why);
    if (n < 0)
        return folio__cfg_fail_at(c, at, S, key, "%s", why);
    if (token && n > 0 && out[n - 1] == '\n')
        n--;
    if ((size_t)n < min) {
        sodium_memzero(out, FOLIO_CONFIG_SECRET_MAX + 1);
        return folio__cfg_fail_at(c, at, S, key, "%s holds %ld bytes; it needs at least %zu",
                                  path, n, min);
    }
    *out_len = (size_t)n;
    return FOLIO_OK;
}

/* --- [[auth.jwt_keys]] ---------------------------------------------------------------- */

static folio_status jwt_key_entry(const struct folio__cfg *c, const char *S, const char *k,
                                  const struct folio_toml_value *v, void *ctx)
{
    struct folio_jwt_key *key = ctx;
    const char *s;
    folio_status st;
    int e = 0;
    if (strcmp(k, "kid") == 0) {
        if ((st = folio__cfg_string(c, v, S, k, false, &s)) == FOLIO_OK &&
            strlen(s) >= sizeof key->kid)
            st = folio__cfg_fail_at(c, v, S, k, "is longer than %zu bytes", sizeof key->kid - 1);
        if (st == FOLIO_OK)
            memcpy(key->kid, s, strlen(s) + 1);
    } else if (strcmp(k, "alg") == 0) {
        if ((st = folio__cfg_enum(c, v, S, k, alg_names, 3, &e)) == FOLIO_OK)
            key->alg = (enum folio_jwt_alg)e;
    } else { /* file: checked once alg is known */
        st = folio__cfg_string(c, v, S, k, false, &s);
    }
    return st;
}

static folio_status jwt_key(const struct folio__cfg *c, const struct folio_toml_value *t,
                            struct folio_auth *a)
{
    static const char *const known[] = {"kid", "alg", "file", NULL};
    if (a->njwt == FOLIO_AUTH_JWT_KEYS_MAX)
        return folio__cfg_fail_at(c, t, J, NULL, "at most %d keys", FOLIO_AUTH_JWT_KEYS_MAX);
    folio_status st = folio__cfg_table(c, t, J, NULL);
    struct folio_jwt_key *key = &a->jwt[a->njwt];
    memset(key, 0, sizeof *key);
    if (st == FOLIO_OK)
        st = folio__cfg_keys(c, t, J, known, jwt_key_entry, key);
    if (st != FOLIO_OK)
        return st;
    const struct folio_toml_value *alg_at = folio_toml_table_get(t, "alg");
    const struct folio_toml_value *file_at = folio_toml_table_get(t, "file");
    if (alg_at == NULL)
        return folio__cfg_fail_at(c, t, J, "alg", "missing: \"HS256\", \"RS256\" or \"ES256\" "
                                                  "(pinned: tokens naming another are refused)");
    if (file_at == NULL)
        return folio__cfg_fail_at(c, t, J, "file", "missing: the HS256 secret or the PEM "
                                                   "public key");
    for (size_t i = 0; i < a->njwt; i++)
        if (strcmp(a->jwt[i].kid, key->kid) == 0)
            return folio__cfg_fail_at(c, t, J, "kid",
                                      key->kid[0] ? "kid \"%s\" is used twice"
                                                  : "%shas no kid, like another key: with "
                                                    "several keys each needs its kid",
                                      key->kid);
    char *path = NULL;
    if ((st = folio__cfg_path(c, file_at, J, "file", &path)) != FOLIO_OK)
        return st;
    unsigned char *buf = folio_malloc(FOLIO_TLS_PEM_MAX + 1);
    size_t len = 0;
    if (buf == NULL) {
        folio_free(path);
        return folio__cfg_nomem(c);
    }
    if (key->alg == FOLIO_JWT_HS256) {
        st = read_secret(c, file_at, J, "file", path, 32, false, buf, &len);
    } else {
        char why[600];
        long n = read_small(path, false, buf, FOLIO_TLS_PEM_MAX, why, sizeof why);
        if (n < 0)
            st = folio__cfg_fail_at(c, file_at, J, "file", "%s", why);
        else {
            len = (size_t)n;
            buf[len] = '\0';
            if (strstr((char *)buf, "PRIVATE KEY") != NULL)
                st = folio__cfg_fail_at(c, file_at, J, "file",
                                        "%s holds a private key: give folio only the public key",
                                        path);
            else if (strlen((char *)buf) != len ||
                     strstr((char *)buf, "-----BEGIN PUBLIC KEY-----") == NULL)
                st = folio__cfg_fail_at(c, file_at, J, "file",
                                        "%s holds no PEM public key (-----BEGIN PUBLIC KEY-----)",
                                        path);
        }
    }
    if (st != FOLIO_OK) {
        folio_free(path);
        sodium_memzero(buf, FOLIO_TLS_PEM_MAX + 1);
        folio_free(buf);
        return st;
    }
    key->key = folio_malloc(len + 1);
    if (key->key != NULL) {
        memcpy(key->key, buf, len);
        key->key[len] = '\0';
        key->key_len = len;
    }
    sodium_memzero(buf, len);
    folio_free(buf);
    key->file = path;
    a->njwt++; /* counted now: folio__auth_clear frees what it holds */
    if (key->key == NULL)
        return folio__cfg_nomem(c);
    return FOLIO_OK;
}

/* --- [auth] ----------------------------------------------------------------------------- */

static folio_status auth_key(const struct folio__cfg *c, const char *S, const char *k,
                             const struct folio_toml_value *v, void *ctx)
{
    struct folio_config *cfg = ctx;
    struct folio_auth *a = &cfg->auth;
    folio_status st = FOLIO_OK;
    int e = 0;
    int64_t n = 0;
    const char *s;
    if (strcmp(k, "mode") == 0) {
        if ((st = folio__cfg_enum(c, v, S, k, folio__cfg_auth_names, 3, &e)) == FOLIO_OK)
            a->mode = (enum folio_auth_mode)e;
    } else if (strcmp(k, "keys_file") == 0) {
        st = folio__cfg_path(c, v, S, k, &cfg->keys_file);
    } else if (strcmp(k, "keys_secret_file") == 0) {
        st = folio__cfg_path(c, v, S, k, &cfg->keys_secret_file);
    } else if (strcmp(k, "metrics_token_file") == 0) {
        st = folio__cfg_path(c, v, S, k, &cfg->metrics_token_file);
    } else if (strcmp(k, "jwt_issuer") == 0 || strcmp(k, "jwt_audience") == 0) {
        char *dst = k[4] == 'i' ? a->issuer : a->audience;
        if ((st = folio__cfg_string(c, v, S, k, false, &s)) == FOLIO_OK && strlen(s) >= 256)
            st = folio__cfg_fail_at(c, v, S, k, "is longer than 255 bytes");
        if (st == FOLIO_OK)
            memcpy(dst, s, strlen(s) + 1);
    } else if (strcmp(k, "jwt_leeway") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 0, 3600, &n)) == FOLIO_OK)
            a->leeway = (unsigned)n;
    } else if (strcmp(k, "jwt_require_exp") == 0) {
        st = folio__cfg_bool(c, v, S, k, &a->require_exp);
    } else if (folio_toml_type(v) != FOLIO_TOML_ARRAY) { /* jwt_keys */
        st = folio__cfg_fail_at(c, v, S, k, "write each key as a [[auth.jwt_keys]] table");
    } else {
        for (size_t i = 0; i < folio_toml_array_len(v) && st == FOLIO_OK; i++)
            st = jwt_key(c, folio_toml_array_at(v, i), a);
    }
    return st;
}

folio_status folio__cfg_auth(const struct folio__cfg *c, const struct folio_toml_value *t,
                             struct folio_config *cfg)
{
    static const char *const known[] = {"mode",       "keys_file",    "keys_secret_file",
                                        "jwt_issuer", "jwt_audience", "jwt_leeway",
                                        "jwt_require_exp", "jwt_keys", "metrics_token_file",
                                        NULL};
    cfg->auth_at = t;
    folio_status st = folio__cfg_keys(c, t, A, known, auth_key, cfg);
    if (st != FOLIO_OK)
        return st;
    if (cfg->auth.njwt > 0 && folio__jwt_cache_new(&cfg->auth.verified) != FOLIO_OK)
        return folio__cfg_nomem(c);
    unsigned char secret[FOLIO_CONFIG_SECRET_MAX + 1];
    size_t len = 0;
    if (cfg->metrics_token_file != NULL) {
        st = read_secret(c, folio_toml_table_get(t, "metrics_token_file"), A,
                         "metrics_token_file", cfg->metrics_token_file, 16, true, secret, &len);
        if (st != FOLIO_OK)
            return st;
        crypto_generichash(cfg->auth.metrics_hash, sizeof cfg->auth.metrics_hash, secret, len,
                           NULL, 0);
        cfg->auth.metrics_token = true;
        sodium_memzero(secret, sizeof secret);
    }
    const struct folio_toml_value *kf = folio_toml_table_get(t, "keys_file");
    const struct folio_toml_value *ks = folio_toml_table_get(t, "keys_secret_file");
    if ((kf == NULL) != (ks == NULL))
        return folio__cfg_fail_at(c, kf ? kf : ks, A, kf ? "keys_secret_file" : "keys_file",
                                  "keys_file and keys_secret_file go together");
    if (kf == NULL)
        return FOLIO_OK;
    st = read_secret(c, ks, A, "keys_secret_file", cfg->keys_secret_file, 16, false, secret,
                     &len);
    if (st != FOLIO_OK)
        return st;
    folio__authkeys_hash_key(&cfg->auth, secret, len);
    sodium_memzero(secret, sizeof secret);
    char why[600];
    st = folio__authkeys_read(cfg->keys_file, &cfg->auth, why, sizeof why);
    if (st == FOLIO_ENOMEM)
        return folio__cfg_nomem(c);
    if (st != FOLIO_OK)
        return folio__cfg_fail_at(c, kf, A, "keys_file", "%s%s", why,
                                  errno == ENOENT ? " (create it with: folio keys add NAME)" : "");
    return FOLIO_OK;
}

/* --- [server] tls_cert, tls_key, metrics_listen, require_auth_off_loopback ------------- */

folio_status folio__cfg_server_auth_key(const struct folio__cfg *c, const char *S, const char *k,
                                        const struct folio_toml_value *v,
                                        struct folio_server_config *s)
{
    if (strcmp(k, "require_auth_off_loopback") == 0)
        return folio__cfg_bool(c, v, S, k, &s->require_auth_off_loopback);
    if (strcmp(k, "metrics_listen") == 0) {
        const char *text;
        folio_status st = folio__cfg_string(c, v, S, k, false, &text);
        if (st != FOLIO_OK)
            return st;
        const char *colon = strrchr(text, ':');
        int64_t port = 0;
        struct in_addr addr;
        size_t hlen = colon ? (size_t)(colon - text) : 0;
        char host[sizeof s->metrics_host];
        if (colon != NULL && hlen < sizeof host) {
            memcpy(host, text, hlen);
            host[hlen] = '\0';
        }
        if (colon == NULL || hlen >= sizeof host ||
            folio_parse_int64(colon + 1, false, &port) != FOLIO_OK || port < 1 || port > 65535 ||
            inet_pton(AF_INET, host, &addr) != 1)
            return folio__cfg_fail_at(c, v, S, k,
                                      "expected \"IPV4:PORT\" (e.g. \"127.0.0.1:9090\"), got "
                                      "\"%.64s\"",
                                      text);
        memcpy(s->metrics_host, host, hlen + 1);
        s->metrics_port = (uint16_t)port;
        return FOLIO_OK;
    }
    /* tls_cert, tls_key: read now to check them; the server reads them again at start */
    char *path = NULL;
    folio_status st = folio__cfg_path(c, v, S, k, &path);
    if (st != FOLIO_OK)
        return st;
    char *dst = strcmp(k, "tls_cert") == 0 ? s->tls_cert : s->tls_key;
    if (strlen(path) >= sizeof s->tls_cert) {
        folio_free(path);
        return folio__cfg_fail_at(c, v, S, k, "the path is too long");
    }
    struct folio_error err = {0};
    char *pem = NULL;
    st = folio__tls_pem_read(path, dst == s->tls_key, &pem, &err);
    folio__tls_pem_free(pem);
    memcpy(dst, path, strlen(path) + 1);
    folio_free(path);
    if (st == FOLIO_ENOMEM)
        return folio__cfg_nomem(c);
    if (st != FOLIO_OK)
        return folio__cfg_fail_at(c, v, S, k, "%s", err.detail);
    return FOLIO_OK;
}

/* --- [[endpoint]] auth, scope ------------------------------------------------------------ */

folio_status folio__cfg_endpoint_auth_key(const struct folio__cfg *c, const char *S,
                                          const char *k, const struct folio_toml_value *v,
                                          struct folio_config_endpoint *ep)
{
    int e = 0;
    if (strcmp(k, "auth") == 0) {
        folio_status st = folio__cfg_enum(c, v, S, k, folio__cfg_auth_names, 3, &e);
        if (st == FOLIO_OK)
            ep->auth = e;
        return st;
    }
    /* scope = { column = "claims.PATH" | "key.NAME" } */
    folio_status st = folio__cfg_table(c, v, S, k);
    if (st == FOLIO_OK && folio_toml_table_count(v) > FOLIO_AUTH_SCOPE_MAX)
        return folio__cfg_fail_at(c, v, S, k, "at most %d columns", FOLIO_AUTH_SCOPE_MAX);
    for (size_t i = 0; st == FOLIO_OK && i < folio_toml_table_count(v); i++) {
        const char *src = NULL;
        const struct folio_toml_value *sv = folio_toml_table_value(v, i);
        st = folio__cfg_string(c, sv, S, k, false, &src);
        if (st != FOLIO_OK)
            break;
        bool claims = strncmp(src, "claims.", 7) == 0;
        const char *name = claims ? src + 7 : strncmp(src, "key.", 4) == 0 ? src + 4 : NULL;
        if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof ep->scope_names[0] ||
            (!claims && !folio__authkeys_name_ok(name)) || strstr(name, "..") != NULL ||
            name[strlen(name) - 1] == '.')
            return folio__cfg_fail_at(c, sv, S, k,
                                      "\"%.64s\": expected \"claims.PATH\" (a JWT claim, e.g. "
                                      "\"claims.tenant\") or \"key.NAME\" (an API key's "
                                      "value)",
                                      src);
        ep->scope_from_claims[i] = claims;
        memcpy(ep->scope_names[i], name, strlen(name) + 1);
    }
    if (st == FOLIO_OK)
        ep->scope = v;
    return st;
}

/* After every section: modes, key material and scopes agree. */
folio_status folio__cfg_auth_check(const struct folio__cfg *c, struct folio_config *cfg)
{
    struct folio_auth *a = &cfg->auth;
    bool keys = a->mode == FOLIO_AUTH_API_KEY, jwt = a->mode == FOLIO_AUTH_JWT;
    for (size_t i = 0; i < cfg->nendpoints; i++) {
        const struct folio_config_endpoint *ep = &cfg->endpoints[i];
        int mode = ep->auth >= 0 ? ep->auth : (int)a->mode;
        keys |= mode == FOLIO_AUTH_API_KEY;
        jwt |= mode == FOLIO_AUTH_JWT;
        for (size_t s = 0; ep->scope != NULL && s < folio_toml_table_count(ep->scope); s++) {
            const struct folio_toml_value *sv = folio_toml_table_value(ep->scope, s);
            if (mode == FOLIO_AUTH_NONE)
                return folio__cfg_fail_at(c, sv, "[[endpoint]]", "scope",
                                          "a scope needs a principal: set auth = \"jwt\" or "
                                          "\"api_key\" (here or in [auth] mode)");
            if ((mode == FOLIO_AUTH_JWT) != ep->scope_from_claims[s])
                return folio__cfg_fail_at(c, sv, "[[endpoint]]", "scope",
                                          "this endpoint's auth is %s: its scope values come "
                                          "from %s",
                                          folio__cfg_auth_names[mode],
                                          mode == FOLIO_AUTH_JWT ? "claims.PATH" : "key.NAME");
        }
    }
    const struct folio_toml_value *at = cfg->auth_at ? cfg->auth_at : NULL;
    if (keys && cfg->keys_file == NULL)
        return at ? folio__cfg_fail_at(c, at, A, "keys_file",
                                       "api_key authentication needs keys_file and "
                                       "keys_secret_file")
                  : folio__cfg_fail(c, 1, 1, A, "keys_file",
                                    "api_key authentication needs an [auth] section with "
                                    "keys_file and keys_secret_file");
    if (jwt && a->njwt == 0)
        return at ? folio__cfg_fail_at(c, at, A, "jwt_keys",
                                       "jwt authentication needs at least one "
                                       "[[auth.jwt_keys]]")
                  : folio__cfg_fail(c, 1, 1, A, "jwt_keys",
                                    "jwt authentication needs an [auth] section with "
                                    "[[auth.jwt_keys]]");
    const struct folio_server_config *s = &cfg->server;
    if ((s->tls_cert[0] == '\0') != (s->tls_key[0] == '\0'))
        return folio__cfg_fail(c, 1, 1, "[server]", s->tls_cert[0] ? "tls_key" : "tls_cert",
                               "tls_cert and tls_key go together");
    return FOLIO_OK;
}

/* Against the schema: each scope column is a column of the table. */
folio_status folio__cfg_endpoint_scope_build(const struct folio__cfg *c,
                                             const struct folio_config_endpoint *ce,
                                             struct folio_endpoint *ep)
{
    ep->auth = ce->auth;
    ep->nscope = 0;
    if (ce->scope == NULL)
        return FOLIO_OK;
    if (ce->style != FOLIO_STYLE_FOLIO)
        return folio__cfg_fail_at(c, ce->scope, "[[endpoint]]", "scope",
                                  "a scope is served by style \"folio\" only");
    const struct folio_table *t = ep->table;
    for (size_t i = 0; i < folio_toml_table_count(ce->scope); i++) {
        const char *col = folio_toml_table_key(ce->scope, i, NULL);
        int found = -1;
        for (size_t k = 0; col != NULL && k < t->ncols; k++)
            if (strcmp(t->cols[k].name, col) == 0)
                found = (int)k;
        if (found < 0)
            return folio__cfg_fail_key(c, ce->scope, "[[endpoint]]", "scope",
                                       "unknown column '%s' in table %s", col ? col : "",
                                       t->name);
        struct folio_scope_rule *r = &ep->scope[ep->nscope++];
        r->column = found;
        r->from_claims = ce->scope_from_claims[i];
        memcpy(r->name, ce->scope_names[i], strlen(ce->scope_names[i]) + 1);
    }
    return FOLIO_OK;
}

/* Whether anything is served without authentication on an address other than loopback
 * (127.0.0.0/8). */
bool folio__config_exposed(const struct folio_server_config *s, const struct folio_endpoint *eps,
                           size_t n)
{
    struct in_addr addr;
    if (inet_pton(AF_INET, s->listen_host, &addr) == 1 && (ntohl(addr.s_addr) >> 24) == 127)
        return false;
    /* The index and /files follow the server's mode, endpoints their own. */
    int mode = s->auth != NULL ? (int)s->auth->mode : FOLIO_AUTH_NONE;
    if (mode == FOLIO_AUTH_NONE)
        return true;
    for (size_t i = 0; i < n; i++)
        if (eps[i].auth == FOLIO_AUTH_NONE)
            return true;
    return false;
}
