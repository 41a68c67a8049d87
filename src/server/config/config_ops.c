/* The operational sections: [rate_limit] (per-client token buckets, trusted proxies),
 * [cors] (browser origins), [log] (the access log) and [prefetch] (next-page prefetch
 * and the page cache). Their per-endpoint keys are read in config_endpoint.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "server/config/config_internal.h"

#define MAX_RATE FOLIO_CONFIG_MAX_RATE
#define MIN_RATE FOLIO_CONFIG_MIN_RATE
#define MAX_BURST FOLIO_CONFIG_MAX_BURST
#define MAX_CLIENTS (1 << 24) /* buckets: 24 bytes each */

bool folio__config_address(const char *text, char out[FOLIO_CONFIG_ADDRESS_MAX])
{
    unsigned char bin[16];
    if (inet_pton(AF_INET, text, bin) == 1)
        return inet_ntop(AF_INET, bin, out, FOLIO_CONFIG_ADDRESS_MAX) != NULL;
    if (inet_pton(AF_INET6, text, bin) == 1)
        return inet_ntop(AF_INET6, bin, out, FOLIO_CONFIG_ADDRESS_MAX) != NULL;
    return false;
}

static bool is_lower(char ch)
{
    return ch >= 'a' && ch <= 'z';
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Browsers send Origin serialised: lowercase scheme and host, the port only when it is
 * not the scheme's default, nothing after it. An entry in any other spelling would never
 * match, so it is refused rather than silently useless. */
const char *folio__config_origin_problem(const char *origin)
{
    if (strcmp(origin, "*") == 0)
        return NULL;
    if (strlen(origin) > 255)
        return "is longer than 255 characters";
    for (const char *p = origin; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return "must not contain spaces or control characters";
        if (*p >= 'A' && *p <= 'Z')
            return "must be lowercase, as browsers send it";
    }
    const char *p = origin;
    while (is_lower(*p) || (p > origin && (is_digit(*p) || *p == '+' || *p == '-' || *p == '.')))
        p++;
    if (p == origin || strncmp(p, "://", 3) != 0)
        return "must start with a scheme such as \"https://\"";
    p += 3;
    const char *host = p;
    if (*p == '[') {
        while (*p && *p != ']')
            p++;
        if (*p != ']')
            return "has an unclosed '[' in its host";
        p++;
    } else {
        while (is_lower(*p) || is_digit(*p) || *p == '-' || *p == '.' || *p == '_')
            p++;
    }
    if (p == host)
        return "has no host";
    if (*p == ':') {
        long port = 0;
        const char *digits = ++p;
        while (is_digit(*p) && port <= 65535)
            port = port * 10 + (*p++ - '0');
        if (p == digits || port < 1 || port > 65535 || is_digit(*p))
            return "must have a port from 1 to 65535 after ':'";
    }
    if (*p != '\0')
        return "must be only \"scheme://host[:port]\" (no path, query or trailing '/')";
    return NULL;
}

bool folio__config_rate_ok(double rate)
{
    return rate == 0 || (isfinite(rate) && rate >= MIN_RATE && rate <= MAX_RATE);
}

folio_status folio__cfg_rate(const struct folio__cfg *c, const struct folio_toml_value *v,
                             const char *section, const char *key, double *out)
{
    double d = 0;
    folio_status st = folio__cfg_number(c, v, section, key, 0, MAX_RATE, &d);
    if (st != FOLIO_OK)
        return st;
    if (!folio__config_rate_ok(d))
        return folio__cfg_fail_at(c, v, section, key,
                                  "must be 0 (no limit) or from %g to %g requests per second, "
                                  "got %g",
                                  MIN_RATE, MAX_RATE, d);
    *out = d;
    return FOLIO_OK;
}

unsigned folio__config_default_burst(double rate)
{
    if (rate <= 0)
        return 0;
    double b = ceil(rate);
    return b < 1 ? 1 : b > MAX_BURST ? MAX_BURST : (unsigned)b;
}

/* --- [rate_limit] -------------------------------------------------------------------- */

static folio_status trusted_proxies(const struct folio__cfg *c, const struct folio_toml_value *v,
                                    struct folio_server_config *s)
{
    static const char S[] = "[rate_limit]", K[] = "trusted_proxies";
    folio_status st = folio__cfg_string_list(c, v, S, K, true);
    if (st != FOLIO_OK)
        return st;
    size_t n = folio_toml_array_len(v);
    size_t cap = sizeof s->trusted_proxies / sizeof s->trusted_proxies[0];
    if (n > cap)
        return folio__cfg_fail_at(c, v, S, K, "lists %zu addresses; at most %zu", n, cap);
    for (size_t i = 0; i < n; i++) {
        const struct folio_toml_value *e = folio_toml_array_at(v, i);
        const char *text = "";
        (void)folio_toml_string(e, &text, NULL);
        char canon[FOLIO_CONFIG_ADDRESS_MAX];
        if (!folio__config_address(text, canon))
            return folio__cfg_fail_at(c, e, S, K,
                                      "'%.64s' is not an IP address (write e.g. \"127.0.0.1\" "
                                      "or \"::1\"; networks are not supported)",
                                      text);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->trusted_proxies[j], canon) == 0)
                return folio__cfg_fail_at(c, e, S, K, "'%s' is the same address as '%s'",
                                          text, s->trusted_proxies[j]);
        snprintf(s->trusted_proxies[i], sizeof s->trusted_proxies[i], "%s", canon);
    }
    s->ntrusted_proxies = n;
    return FOLIO_OK;
}

static folio_status rate_limit_key(const struct folio__cfg *c, const char *S, const char *k,
                                   const struct folio_toml_value *v, void *ctx)
{
    struct folio_config *cfg = ctx;
    struct folio_server_config *s = &cfg->server;
    folio_status st;
    int64_t n = 0;
    if (strcmp(k, "rate") == 0) {
        st = folio__cfg_rate(c, v, S, k, &s->rate);
    } else if (strcmp(k, "burst") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, MAX_BURST, &n)) == FOLIO_OK)
            s->burst = (unsigned)n;
        cfg->burst_given = true;
    } else if (strcmp(k, "clients") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, MAX_CLIENTS, &n)) == FOLIO_OK)
            s->rate_clients = (size_t)n;
    } else { /* trusted_proxies */
        st = trusted_proxies(c, v, s);
    }
    return st;
}

folio_status folio__cfg_rate_limit(const struct folio__cfg *c, const struct folio_toml_value *t,
                                   struct folio_config *cfg)
{
    static const char *const known[] = {"rate", "burst", "clients", "trusted_proxies", NULL};
    static const char S[] = "[rate_limit]";
    struct folio_server_config *s = &cfg->server;
    folio_status st = folio__cfg_keys(c, t, S, known, rate_limit_key, cfg);
    if (st != FOLIO_OK)
        return st;
    if (cfg->burst_given && s->rate == 0)
        return folio__cfg_fail_at(c, folio_toml_table_get(t, "burst"), S, "burst",
                                  "has no effect while rate is 0 (no limit); set rate too");
    if (!cfg->burst_given)
        s->burst = folio__config_default_burst(s->rate);
    return FOLIO_OK;
}

/* --- [cors] -------------------------------------------------------------------------- */

static folio_status cors_origins(const struct folio__cfg *c, const char *S, const char *K,
                                 const struct folio_toml_value *v, void *ctx)
{
    struct folio_server_config *s = ctx;
    folio_status st = folio__cfg_string_list(c, v, S, K, true);
    if (st != FOLIO_OK)
        return st;
    size_t n = folio_toml_array_len(v);
    size_t cap = sizeof s->cors_origins / sizeof s->cors_origins[0];
    if (n > cap)
        return folio__cfg_fail_at(c, v, S, K, "lists %zu origins; at most %zu", n, cap);
    for (size_t j = 0; j < n; j++) {
        const struct folio_toml_value *e = folio_toml_array_at(v, j);
        const char *o = "";
        (void)folio_toml_string(e, &o, NULL);
        const char *why = folio__config_origin_problem(o);
        if (why != NULL)
            return folio__cfg_fail_at(c, e, S, K,
                                      "\"%.64s\" %s (an origin is \"scheme://host[:port]\", "
                                      "e.g. \"https://app.example\")",
                                      o, why);
        if (strcmp(o, "*") == 0 && n > 1)
            return folio__cfg_fail_at(c, e, S, K, "\"*\" allows every origin: list it alone");
        snprintf(s->cors_origins[j], sizeof s->cors_origins[j], "%s", o);
    }
    s->ncors_origins = n;
    return FOLIO_OK;
}

folio_status folio__cfg_cors(const struct folio__cfg *c, const struct folio_toml_value *t,
                             struct folio_config *cfg)
{
    static const char *const known[] = {"origins", NULL};
    return folio__cfg_keys(c, t, "[cors]", known, cors_origins, &cfg->server);
}

/* --- [log] --------------------------------------------------------------------------- */

static folio_status log_access(const struct folio__cfg *c, const char *S, const char *K,
                               const struct folio_toml_value *v, void *ctx)
{
    struct folio_server_config *s = ctx;
    const char *text;
    folio_status st = folio__cfg_string(c, v, S, K, true, &text);
    if (st != FOLIO_OK)
        return st;
    if (text[0] == '\0' || strcmp(text, "-") == 0) {
        snprintf(s->access_log, sizeof s->access_log, "%s", text);
        return FOLIO_OK;
    }
    char *path = NULL;
    if ((st = folio__cfg_path(c, v, S, K, &path)) != FOLIO_OK)
        return st;
    size_t len = strlen(path);
    struct stat sb;
    if (len >= sizeof s->access_log) {
        st = folio__cfg_fail_at(c, v, S, K, "the path is too long");
    } else if (stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            st = folio__cfg_fail_at(c, v, S, K, "%s is a directory", path);
    } else if (errno != ENOENT) {
        st = folio__cfg_fail_at(c, v, S, K, "cannot use %s: %s", path, strerror(errno));
    } else {
        /* The file is created when serve starts; its directory must exist now. */
        char *slash = strrchr(path, '/');
        int e = 0;
        if (slash != NULL && slash != path) {
            *slash = '\0';
            e = stat(path, &sb) != 0 ? errno : S_ISDIR(sb.st_mode) ? 0 : ENOTDIR;
            *slash = '/';
        }
        if (e != 0)
            st = folio__cfg_fail_at(c, v, S, K, "cannot create %s: its directory %s%s", path,
                                    e == ENOENT ? "does not exist" : "is unusable: ",
                                    e == ENOENT ? "" : strerror(e));
    }
    if (st == FOLIO_OK)
        memcpy(s->access_log, path, len + 1);
    folio_free(path);
    return st;
}

folio_status folio__cfg_log(const struct folio__cfg *c, const struct folio_toml_value *t,
                            struct folio_config *cfg)
{
    static const char *const known[] = {"access", NULL};
    return folio__cfg_keys(c, t, "[log]", known, log_access, &cfg->server);
}

/* --- [prefetch] ---------------------------------------------------------------------- */

static folio_status prefetch_key(const struct folio__cfg *c, const char *S, const char *k,
                                 const struct folio_toml_value *v, void *ctx)
{
    struct folio_server_config *s = ctx;
    folio_status st;
    int64_t n = 0;
    if (strcmp(k, "enabled") == 0) {
        st = folio__cfg_bool(c, v, S, k, &s->prefetch);
    } else if (strcmp(k, "threads") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, 64, &n)) == FOLIO_OK)
            s->prefetch_threads = (unsigned)n;
    } else if (strcmp(k, "queue") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, 65536, &n)) == FOLIO_OK)
            s->prefetch_queue = (unsigned)n;
    } else if (strcmp(k, "cache_bytes") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 65536, INT64_C(1) << 40, &n)) == FOLIO_OK)
            s->cache_bytes = (size_t)n;
    } else { /* ttl */
        if ((st = folio__cfg_int(c, v, S, k, 1, 86400, &n)) == FOLIO_OK)
            s->cache_ttl_ms = (unsigned)n * 1000u;
    }
    return st;
}

folio_status folio__cfg_prefetch(const struct folio__cfg *c, const struct folio_toml_value *t,
                                 struct folio_config *cfg)
{
    static const char *const known[] = {"enabled", "threads", "queue", "cache_bytes", "ttl",
                                        NULL};
    return folio__cfg_keys(c, t, "[prefetch]", known, prefetch_key, &cfg->server);
}
