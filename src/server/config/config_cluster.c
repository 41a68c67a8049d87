/* [cluster]: state shared by several nodes in Redis (server/cluster.h, docs/scaling.md). */
#include <string.h>
#include <stdio.h>

#include "server/config/config_internal.h"

static folio_status cluster_key(const struct folio__cfg *c, const char *S, const char *k,
                                const struct folio_toml_value *v, void *ctx)
{
    struct folio_cluster_config *cl = ctx;
    folio_status st;
    int64_t n = 0;
    if (strcmp(k, "redis") == 0) {
        const char *url = NULL;
        char why[FOLIO_CLUSTER_URL_MAX + 96];
        if ((st = folio__cfg_string(c, v, S, k, false, &url)) != FOLIO_OK)
            return st;
        if (!folio__cluster_url_ok(url, why, sizeof why))
            return folio__cfg_fail_at(c, v, S, k, "%s", why);
        snprintf(cl->redis, sizeof cl->redis, "%s", url);
        return FOLIO_OK;
    }
    if (strcmp(k, "timeout_ms") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, 10000, &n)) == FOLIO_OK)
            cl->timeout_ms = (unsigned)n;
        return st;
    }
    if (strcmp(k, "fail") == 0) {
        static const char *const names[] = {"open", "closed"};
        int i = 0;
        if ((st = folio__cfg_enum(c, v, S, k, names, 2, &i)) == FOLIO_OK)
            cl->fail_closed = i == 1;
        return st;
    }
    if (strcmp(k, "limits") == 0)
        return folio__cfg_bool(c, v, S, k, &cl->limits);
    return folio__cfg_bool(c, v, S, k, &cl->cache); /* cache */
}

folio_status folio__cfg_cluster(const struct folio__cfg *c, const struct folio_toml_value *t,
                                struct folio_config *cfg)
{
    static const char *const known[] = {"redis", "timeout_ms", "fail", "limits", "cache",
                                        NULL};
    return folio__cfg_keys(c, t, "[cluster]", known, cluster_key, &cfg->server.cluster);
}
