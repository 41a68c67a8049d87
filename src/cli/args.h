/* Argument helpers shared by the subcommands. */
#ifndef FOLIO_CLI_ARGS_H
#define FOLIO_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* A whole decimal integer, an optional sign and nothing else (folio_parse_int64, plus a
 * leading '+' as shells users write it). Beyond int64 the value saturates and
 * *out_overflow is set. False when the text is not an integer. */
bool cli_parse_int(const char *s, int64_t *out, bool *out_overflow);

#endif
