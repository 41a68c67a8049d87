/* Argument helpers: see args.h. */
#include "args.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "folio/request.h"

bool cli_parse_int(const char *s, int64_t *out, bool *out_overflow)
{
    *out_overflow = false;
    folio_status st = folio_parse_int64(*s == '+' && s[1] != '-' ? s + 1 : s, true, out);
    if (st == FOLIO_ERANGE) {
        *out = *s == '-' ? INT64_MIN : INT64_MAX;
        *out_overflow = true;
        return true;
    }
    return st == FOLIO_OK;
}

/* The option `arg` names (up to an '=' when it has one), or NULL. */
static size_t find(const struct cli_option *opts, size_t nopts, const char *arg, size_t len)
{
    for (size_t i = 0; i < nopts; i++) {
        const char *names[2] = {opts[i].name, opts[i].alias};
        for (size_t k = 0; k < 2; k++)
            if (names[k] != NULL && strlen(names[k]) == len && strncmp(names[k], arg, len) == 0)
                return i;
    }
    return nopts;
}

int cli_walk(const char *cmd, int argc, char **argv, const struct cli_option *opts,
             size_t nopts, cli_arg_fn fn, void *ctx)
{
    assert(nopts <= CLI_MAX_OPTIONS);
    bool seen[CLI_MAX_OPTIONS] = {false};
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int rc;
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            rc = fn(ctx, NULL, arg);
        } else if (strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        } else {
            size_t len = strcspn(arg, "=");
            size_t k = find(opts, nopts, arg, len);
            if (k == nopts) {
                fprintf(stderr, "folio %s: unknown option '%s' (see folio %s --help)\n", cmd,
                        arg, cmd);
                return 2;
            }
            const struct cli_option *o = &opts[k];
            const char *value = NULL;
            if (arg[len] == '=' && !o->value) {
                fprintf(stderr, "folio %s: %s takes no value, got '%s'\n", cmd, o->name, arg);
                return 2;
            }
            if (arg[len] == '=') {
                value = arg + len + 1;
            } else if (o->value) {
                if (i + 1 == argc) {
                    fprintf(stderr, "folio %s: %s needs a value\n", cmd, o->name);
                    return 2;
                }
                value = argv[++i];
            }
            if (seen[k] && !o->repeatable) {
                fprintf(stderr, "folio %s: %s is given more than once; give it once\n", cmd,
                        o->name);
                return 2;
            }
            seen[k] = true;
            rc = fn(ctx, o, value);
        }
        if (rc >= 0)
            return rc;
    }
    return -1;
}
