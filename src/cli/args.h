/* Argument helpers shared by the subcommands: one walker for every command line, so that
 * every subcommand reads options the same way:
 *
 *   - "--name VALUE" and "--name=VALUE" for an option that takes a value (the VALUE may
 *     start with '-': "--access-log -");
 *   - "--" ends the options; "-" alone is an operand;
 *   - an unknown option, a missing value, a value given to a flag ("--json=1") and an
 *     option given twice (unless it is a list, like --trust-proxy) are errors, exit 2. */
#ifndef FOLIO_CLI_ARGS_H
#define FOLIO_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A whole decimal integer, an optional sign and nothing else (folio_parse_int64, plus a
 * leading '+' as shells users write it). Beyond int64 the value saturates and
 * *out_overflow is set. False when the text is not an integer. */
bool cli_parse_int(const char *s, int64_t *out, bool *out_overflow);

/* One option of a subcommand. */
struct cli_option {
    const char *name;  /* "--size" */
    const char *alias; /* another spelling ("-h"), or NULL */
    bool value;        /* takes a value */
    bool repeatable;   /* a list: each use adds one (else a second use is an error) */
};

/* Called for each option, in order (`opt` its table entry, `value` its text or NULL for a
 * flag) and for each operand (`opt` NULL, `value` the operand). Returns -1 to go on, or
 * the exit status that ends the walk (0 after --help, 2 after saying what is wrong). */
typedef int (*cli_arg_fn)(void *ctx, const struct cli_option *opt, const char *value);

#define CLI_MAX_OPTIONS 64

/* Walk argv[1..argc) against `opts[0..nopts)` (nopts <= CLI_MAX_OPTIONS), calling `fn`.
 * Errors of the command line itself are written to stderr as "folio CMD: ..." (`cmd`
 * names the subcommand) and return 2. Returns -1 when every argument was accepted, else
 * the exit status to return. */
int cli_walk(const char *cmd, int argc, char **argv, const struct cli_option *opts,
             size_t nopts, cli_arg_fn fn, void *ctx);

#endif
