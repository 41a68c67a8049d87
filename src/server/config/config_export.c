/* [export] (streaming exports, handler/export.h) and [compression] (gzip responses). */
#include <string.h>

#include "server/config/config_internal.h"

static folio_status export_key(const struct folio__cfg *c, const char *S, const char *k,
                               const struct folio_toml_value *v, void *ctx)
{
    struct folio_server_config *s = ctx;
    folio_status st;
    int64_t n = 0;
    if (strcmp(k, "auto") == 0) {
        st = folio__cfg_bool(c, v, S, k, &s->export_auto);
    } else if (strcmp(k, "max_rows") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 0, INT64_C(1) << 50, &n)) == FOLIO_OK)
            s->export_max_rows = n;
    } else if (strcmp(k, "max") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, 1024, &n)) == FOLIO_OK)
            s->export_max = (unsigned)n;
    } else if (strcmp(k, "per_client") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, 1024, &n)) == FOLIO_OK)
            s->export_per_client = (unsigned)n;
    } else { /* checkpoint_every */
        if ((st = folio__cfg_int(c, v, S, k, 0, 1000000000, &n)) == FOLIO_OK)
            s->export_checkpoint_every = (unsigned)n;
    }
    return st;
}

folio_status folio__cfg_export(const struct folio__cfg *c, const struct folio_toml_value *t,
                               struct folio_config *cfg)
{
    static const char *const known[] = {"auto", "max_rows", "max", "per_client",
                                        "checkpoint_every", NULL};
    return folio__cfg_keys(c, t, "[export]", known, export_key, &cfg->server);
}

static folio_status compression_key(const struct folio__cfg *c, const char *S, const char *k,
                                    const struct folio_toml_value *v, void *ctx)
{
    struct folio_server_config *s = ctx;
    (void)k;
    return folio__cfg_bool(c, v, S, "gzip", &s->gzip);
}

folio_status folio__cfg_compression(const struct folio__cfg *c, const struct folio_toml_value *t,
                                    struct folio_config *cfg)
{
    static const char *const known[] = {"gzip", NULL};
    return folio__cfg_keys(c, t, "[compression]", known, compression_key, &cfg->server);
}
