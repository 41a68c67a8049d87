/* folio check-config FILE [DB_PATH]: validate a configuration file and print the
 * effective settings. Exit 0 when serve would accept it, 2 on any error. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "server/config/config.h"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: folio check-config FILE [DB_PATH]\n\n"
            "Check FILE as `folio serve --config FILE` would, and print every setting with\n"
            "the value serve would use (TOML). The endpoints are checked against the\n"
            "database: DB_PATH, else the file's [database] path.\n"
            "Exit status: 0 valid, 2 invalid (the message names FILE:LINE:COL and the key).\n");
}

static const struct cli_option options[] = {
    {"--help", "-h", false, false},
};

struct check_args {
    const char *file, *db_path;
};

static int on_arg(void *ctx, const struct cli_option *opt, const char *val)
{
    struct check_args *a = ctx;
    if (opt != NULL) {
        usage(stdout);
        return 0;
    }
    if (a->file != NULL && a->db_path != NULL) {
        fprintf(stderr, "folio check-config: unexpected argument '%s'\n", val);
        usage(stderr);
        return 2;
    }
    if (a->file == NULL)
        a->file = val;
    else
        a->db_path = val;
    return -1;
}

int cmd_check_config(int argc, char **argv)
{
    struct check_args a = {NULL, NULL};
    int rc = cli_walk("check-config", argc, argv, options, sizeof options / sizeof options[0],
                      on_arg, &a);
    if (rc >= 0)
        return rc;
    const char *file = a.file, *db_path = a.db_path;
    if (file == NULL) {
        usage(stderr);
        return 2;
    }

    struct folio_config cfg;
    struct folio_config_error err = {0};
    if (folio__config_load(&cfg, file, &err) != FOLIO_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 2;
    }
    folio_db *db = NULL;
    struct folio_endpoint *eps = NULL;
    size_t neps = 0;
    rc = 0;
    if (db_path != NULL || cfg.db_path != NULL || cfg.db_url != NULL) {
        if (folio__config_open_db(&cfg, db_path, &db, &err) != FOLIO_OK ||
            folio__config_endpoints(&cfg, db, &eps, &neps, &err) != FOLIO_OK) {
            fprintf(stderr, "%s\n", err.message);
            rc = 2;
        }
    } else if (cfg.nendpoints > 0) {
        fprintf(stderr, "%s: note: no database ([database] path or DB_PATH), so the "
                        "[[endpoint]] tables and columns were not checked\n",
                file);
    }
    if (rc == 0) {
        struct folio_buf out;
        folio_buf_init(&out, 64u << 20);
        if (folio__config_write(&cfg, db, eps, neps, &out) != FOLIO_OK) {
            fprintf(stderr, "folio check-config: out of memory\n");
            rc = 1;
        } else {
            fwrite(out.data, 1, out.len, stdout);
        }
        folio_buf_clear(&out);
    }
    for (size_t i = 0; i < neps; i++)
        folio__endpoint_clear(&eps[i]);
    folio_free(eps);
    folio__db_close(db);
    folio__config_clear(&cfg);
    return rc;
}
