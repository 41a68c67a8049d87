/* folio/cursor.h - opaque, authenticated pagination cursors.
 *
 * A cursor is the position of a boundary row in one query: the row's sort-key values,
 * whether the page goes after or before it, an expiry and a fingerprint of the query
 * (table, sort, filters) it belongs to. On the wire it is base64url without padding of
 *
 *   signed:    ver=1 | key id | body | HMAC-SHA256(key, ver | key id | body)[0..16)
 *   encrypted: ver=2 | key id | nonce(24) | XChaCha20-Poly1305(body, ad = ver | key id)
 *   body:      flags | expiry (varint, unix seconds, 0 = never) | fingerprint(8) |
 *              nkeys | nkeys x (tag | value)   tag: 0 null, 1 int (zigzag varint),
 *              2 real (8 bytes LE), 3 text / 4 blob (varint length, bytes)
 *
 * The token has no separator byte, so no MAC value can break it apart. Verification is
 * constant-time. See docs/internals/cursor-format.md. */
#ifndef FOLIO_CURSOR_H
#define FOLIO_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/common.h"
#include "folio/sort.h"
#include "folio/status.h"
#include "folio/value.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FOLIO_CURSOR_MAX_KEYS FOLIO_SORT_MAX
#define FOLIO_CURSOR_MAX_BYTES 2048  /* decoded token bytes */
#define FOLIO_CURSOR_MAX_TOKEN 2736  /* base64url characters, + 1 for the NUL */
#define FOLIO_KEYRING_MAX 16
#define FOLIO_CURSOR_FINGERPRINT_BYTES 8

enum {
    FOLIO_CURSOR_BEFORE = 1u << 0,    /* the page lies before the boundary row */
    FOLIO_CURSOR_INCLUSIVE = 1u << 1, /* the boundary row itself belongs to the page */
};

struct folio_cursor {
    unsigned flags;
    uint64_t expires; /* unix seconds; 0 = never */
    uint8_t fingerprint[FOLIO_CURSOR_FINGERPRINT_BYTES];
    size_t nkeys;
    struct folio_value keys[FOLIO_CURSOR_MAX_KEYS]; /* TEXT/BLOB point into storage */
    unsigned char storage[FOLIO_CURSOR_MAX_BYTES];
};

/* A set of keys: keys[0] signs (and encrypts), every key verifies. Secrets are turned
 * into separate MAC and encryption keys; the raw secret is not kept. */
struct folio_cursor_key {
    uint8_t id;
    unsigned char mac_key[32];
    unsigned char enc_key[32];
    /* The keyed BLAKE2b state after absorbing the key block (version 3 tokens): each
     * token then costs one BLAKE2b block for a body of up to 126 bytes. */
    unsigned char mac_state[416];
};

struct folio_keyring {
    size_t n;
    bool encrypt;
    struct folio_cursor_key keys[FOLIO_KEYRING_MAX];
};

FOLIO_EXTERN void folio_keyring_init(struct folio_keyring *kr, bool encrypt);
/* Wipe all key material (sodium_memzero). */
FOLIO_EXTERN void folio_keyring_clear(struct folio_keyring *kr);
/* Add a key derived from `secret` (at least 16 bytes). The first key added signs.
 * FOLIO_EINVAL (short secret, duplicate id), FOLIO_ELIMIT (keyring full). Not thread-safe;
 * a filled keyring is read-only and may be shared between threads. */
FOLIO_EXTERN
folio_status folio_keyring_add(struct folio_keyring *kr, uint8_t id, const void *secret,
                               size_t len);

/* Fingerprint of a query's canonical description (bytes chosen by the caller, e.g.
 * "table\0sort\0filters"). Reentrant. */
FOLIO_EXTERN
void folio_cursor_fingerprint(const void *query, size_t len,
                              uint8_t out[FOLIO_CURSOR_FINGERPRINT_BYTES]);

/* Encode `c` (its keys point to caller memory) with the signing key into `out`
 * (NUL-terminated base64url). FOLIO_EINVAL (empty keyring, too many keys),
 * FOLIO_ETOOBIG (values too large for a token or for out_size). Thread-safe. */
FOLIO_EXTERN
folio_status folio_cursor_encode(const struct folio_keyring *kr, const struct folio_cursor *c,
                                 char *out, size_t out_size, size_t *out_len) FOLIO_MUST_CHECK;

/* Verify and decode `token`. On FOLIO_OK `out` holds the cursor (values point into
 * out->storage). Statuses, checked in this order:
 *   FOLIO_ECURSOR_INVALID  not base64url, padded, truncated, tampered, unknown key id,
 *                          made with another secret (one status for all: no oracle);
 *   FOLIO_ECURSOR_FOREIGN  authentic but `fingerprint` differs (another query);
 *   FOLIO_ECURSOR_EXPIRED  authentic but expired at `now`.
 * `err` (may be NULL) gets kind FOLIO_KIND_INPUT and a client-safe detail. Thread-safe. */
FOLIO_EXTERN
folio_status folio_cursor_decode(const struct folio_keyring *kr, const char *token, size_t len,
                                 uint64_t now,
                                 const uint8_t fingerprint[FOLIO_CURSOR_FINGERPRINT_BYTES],
                                 struct folio_cursor *out, struct folio_error *err)
    FOLIO_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif
