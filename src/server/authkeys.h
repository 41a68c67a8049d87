/* The API keys file: one key per line, its keyed hash and never the key itself.
 *
 *     # folio API keys: managed by `folio keys`; only keyed hashes are stored
 *     reports b2:<64 hex digits> endpoints=/orders,/items rate=5 burst=10 value.tenant=acme
 *
 * NAME is 1-63 of [A-Za-z0-9._-]; `endpoints` (paths), `rate`, `burst` and any number of
 * `value.NAME=VALUE` (per-key scope values, VALUE printable ASCII without spaces or
 * commas) are optional. Lines starting with '#' and blank lines are ignored. The hash is
 * BLAKE2b-256 of the key, keyed with a key derived from the keys secret file
 * (folio__authkeys_hash_key), so a copy of the keys file alone cannot test guesses.
 *
 * The file must not be accessible by group or others (mode 0600): folio refuses to read
 * it otherwise. folio__authkeys_write replaces it atomically (a temporary file renamed).
 * Thread-safety: none needed; each call works on its arguments only. */
#ifndef FOLIO_SERVER_AUTHKEYS_H
#define FOLIO_SERVER_AUTHKEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "server/auth.h"

#define FOLIO_AUTHKEYS_MAX 10000      /* keys in one file */
#define FOLIO_AUTHKEYS_FILE_MAX (8u << 20)

/* Derive a->hash_key from the keys secret file's bytes. */
void folio__authkeys_hash_key(struct folio_auth *a, const unsigned char *secret, size_t len);

/* Whether `name` may name a key (1-63 of [A-Za-z0-9._-]) / be a value (1-255 printable
 * ASCII bytes, no space or comma). */
bool folio__authkeys_name_ok(const char *name);
bool folio__authkeys_value_ok(const char *value);

/* Read the keys file at `path` into a->keys (replacing nothing: a->nkeys must be 0).
 * FOLIO_OK; FOLIO_EIO (cannot open or read; accessible by group or others; not a regular
 * file) or FOLIO_ECONFIG (a malformed line, a name used twice) with the reason, naming
 * the line, in `why`; FOLIO_ENOMEM. On failure a->keys holds what was read so far
 * (folio__auth_clear frees it). */
folio_status folio__authkeys_read(const char *path, struct folio_auth *a, char *why,
                                  size_t why_size) FOLIO_MUST_CHECK;

/* The same from `text` (n bytes, NUL-ended, modified in place); `label` names it in
 * messages. */
folio_status folio__authkeys_parse(char *text, size_t n, const char *label, struct folio_auth *a,
                                   char *why, size_t why_size) FOLIO_MUST_CHECK;

/* Write keys[0..n) to `path` (mode 0600) atomically. FOLIO_OK, or FOLIO_EIO with `why`. */
folio_status folio__authkeys_write(const char *path, const struct folio_api_key *keys,
                                   size_t n, char *why, size_t why_size) FOLIO_MUST_CHECK;

#endif
