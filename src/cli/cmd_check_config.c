/* folio check-config FILE [DB_PATH]: validate a configuration file and print the
 * effective settings. Exit 0 when serve would accept it, 2 on any error. */
#include <stdio.h>
#include <string.h>

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

int cmd_check_config(int argc, char **argv)
{
    const char *file = NULL, *db_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (argv[i][0] == '-' || (file != NULL && db_path != NULL)) {
            fprintf(stderr, "folio check-config: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
        if (file == NULL)
            file = argv[i];
        else
            db_path = argv[i];
    }
    if (file == NULL) {
        usage(stderr);
        return 2;
    }

    struct folio_config cfg;
    struct folio_config_error err = {0};
    if (folio_config_load(&cfg, file, &err) != FOLIO_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 2;
    }
    folio_db *db = NULL;
    struct folio_endpoint *eps = NULL;
    size_t neps = 0;
    int rc = 0;
    if (db_path != NULL || cfg.db_path != NULL) {
        if (folio_config_open_db(&cfg, db_path, &db, &err) != FOLIO_OK ||
            folio_config_endpoints(&cfg, db, &eps, &neps, &err) != FOLIO_OK) {
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
        if (folio_config_write(&cfg, db, eps, neps, &out) != FOLIO_OK) {
            fprintf(stderr, "folio check-config: out of memory\n");
            rc = 1;
        } else {
            fwrite(out.data, 1, out.len, stdout);
        }
        folio_buf_clear(&out);
    }
    for (size_t i = 0; i < neps; i++)
        folio_endpoint_clear(&eps[i]);
    folio_free(eps);
    folio_db_close(db);
    folio_config_clear(&cfg);
    return rc;
}
