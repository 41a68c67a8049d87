/* The folio subcommands: one cmd_<name>.c each, dispatched from main.c.
 * Each returns the process exit status (0 ok, 1 failure, 2 usage or configuration error). */
#ifndef FOLIO_CLI_COMMANDS_H
#define FOLIO_CLI_COMMANDS_H

#include <stdint.h>

int cmd_serve(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_export(int argc, char **argv);

/* `folio demo` into PostgreSQL: `target` is a libpq URI or conninfo string (cmd_demo_pg.c). */
int cmd_demo_pg(const char *target, int64_t rows);

#endif
