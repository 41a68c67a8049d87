/* folio: the command line. Only the table of subcommands and the dispatch live here. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
    const char *name;
    const char *summary;
    int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
    {"serve", "serve a database as a paginated JSON HTTP API", cmd_serve},
    {"check-config", "check a folio.toml and print the effective settings", cmd_check_config},
    {"demo", "create the demo database (SQLite file or PostgreSQL)", cmd_demo},
    {"ls", "list the regular files of a directory, one page at a time", cmd_ls},
    {"batch", "move the files of a directory into numbered batch folders", cmd_batch},
    {"keys", "add, list and revoke the API keys of a config's keys file", cmd_keys},
    {"export", "write every row of a table's query as NDJSON, CSV or JSON", cmd_export},
};

static void usage(FILE *to)
{
    fprintf(to, "usage: folio <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(to, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(to, "\nRun 'folio <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "folio: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
