/* The cursor signing secret, for the subcommands that sign or verify cursors. */
#ifndef FOLIO_CLI_SECRET_H
#define FOLIO_CLI_SECRET_H

#include <stddef.h>

/* Read a secret file: at least 16 bytes, at most FOLIO_CONFIG_SECRET_MAX, not readable by
 * others. `out` holds FOLIO_CONFIG_SECRET_MAX + 1 bytes. 0, or -1 after saying why on
 * stderr ("folio CMD: ..."). */
int cli_read_secret(const char *cmd, const char *path, unsigned char *out, size_t *len);
/* The key beside the database (DB_PATH.folio-secret): created once, atomically, never
 * overwritten; its path goes to path_out. 0 or -1 as cli_read_secret. */
int cli_default_secret(const char *cmd, const char *db_path, char *path_out, size_t path_size,
                       unsigned char *out, size_t *len);

#endif
