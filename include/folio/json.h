/* folio/json.h - folio's streaming JSON writer, used on the hot path.
 *
 * Writes straight into a struct folio_buf; there is no document tree. The writer tracks
 * nesting to place commas, so callers only say what comes next. Strings are always
 * emitted as valid UTF-8 JSON: invalid byte sequences become U+FFFD, control characters
 * are escaped. Every function returns FOLIO_OK, FOLIO_ENOMEM or FOLIO_ETOOBIG; after the
 * first failure the writer is "stuck" (nesting deeper than FOLIO_JSON_MAX_DEPTH fails with
 * FOLIO_ELIMIT) and folio_json_status() reports it, so a caller may
 * write a whole document and check once at the end. Not thread-safe. */
#ifndef FOLIO_JSON_H
#define FOLIO_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/common.h"
#include "folio/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FOLIO_JSON_MAX_DEPTH 32

struct folio_json {
    struct folio_buf *out;
    folio_status status;
    int depth;
    bool need_comma[FOLIO_JSON_MAX_DEPTH];
    bool after_key;
};

FOLIO_EXTERN void folio_json_init(struct folio_json *w, struct folio_buf *out);
FOLIO_EXTERN folio_status folio_json_status(const struct folio_json *w);

FOLIO_EXTERN folio_status folio_json_object_begin(struct folio_json *w);
FOLIO_EXTERN folio_status folio_json_object_end(struct folio_json *w);
FOLIO_EXTERN folio_status folio_json_array_begin(struct folio_json *w);
FOLIO_EXTERN folio_status folio_json_array_end(struct folio_json *w);
FOLIO_EXTERN folio_status folio_json_key(struct folio_json *w, const char *key);
FOLIO_EXTERN folio_status folio_json_keyn(struct folio_json *w, const char *key, size_t len);
/* A key already written as JSON text, quotes and colon included ("\"id\":"), for keys
 * escaped once and written many times (a page's column names). */
FOLIO_EXTERN folio_status folio_json_key_raw(struct folio_json *w, const char *text, size_t len);

FOLIO_EXTERN folio_status folio_json_null(struct folio_json *w);
FOLIO_EXTERN folio_status folio_json_bool(struct folio_json *w, bool v);
FOLIO_EXTERN folio_status folio_json_int(struct folio_json *w, int64_t v);
/* Shortest text that reads back as the same double; NaN and infinities become null. */
FOLIO_EXTERN folio_status folio_json_double(struct folio_json *w, double v);
FOLIO_EXTERN folio_status folio_json_string(struct folio_json *w, const char *s);
FOLIO_EXTERN folio_status folio_json_stringn(struct folio_json *w, const char *s, size_t len);
/* Like folio_json_stringn but each byte of an invalid UTF-8 sequence is written as the
 * lone surrogate escape \udcXX (XX = the byte, >= 0x80), Python's "surrogateescape",
 * so arbitrary file names survive a round trip through JSON. */
FOLIO_EXTERN folio_status folio_json_string_bytes(struct folio_json *w, const char *s, size_t len);
/* Standard base64 (with padding) of `len` bytes, as a JSON string. */
FOLIO_EXTERN folio_status folio_json_base64(struct folio_json *w, const void *p, size_t len);
/* Append pre-encoded JSON text as one value (the caller guarantees it is valid). */
FOLIO_EXTERN folio_status folio_json_raw(struct folio_json *w, const char *text, size_t len);

/* Append `s` escaped as a JSON string body (no quotes) to a plain buffer. */
FOLIO_EXTERN folio_status folio_json_escape(struct folio_buf *out, const char *s, size_t len);

#ifdef __cplusplus
}
#endif

#endif
