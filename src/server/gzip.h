/* gzip content coding (RFC 9110 section 8.4.1) for responses, with zlib: whole bodies for
 * pages (kept compressed in the page cache), a stream for exports. */
#ifndef FOLIO_SERVER_GZIP_H
#define FOLIO_SERVER_GZIP_H

#include <stdbool.h>
#include <stddef.h>

#include "folio/folio.h"

/* Bodies shorter than this are sent as they are: gzip's header and the CPU are not worth
 * it (a problem, a short page). */
#define FOLIO_GZIP_MIN_BYTES 1024
/* zlib level 1: JSON compresses well at the fastest level, and the CPU per request is
 * what a busy server spends (bench/README.md has the measurement). */
#define FOLIO_GZIP_LEVEL 1

/* Whether an Accept-Encoding value (NULL: the header is absent) accepts gzip: "gzip" or
 * "x-gzip" with a q above 0, or "*" with q above 0 when gzip is not named with q=0.
 * Codings compare case-insensitively; a malformed q counts as 0. Thread-safe. */
bool folio__gzip_accepted(const char *accept_encoding);

/* Compress `len` bytes at `in` into `out` (reset first) as one gzip member. FOLIO_OK,
 * FOLIO_ENOMEM, FOLIO_ETOOBIG (out's maximum). */
folio_status folio__gzip_buf(struct folio_buf *out, const void *in, size_t len);

/* A gzip stream: write pieces, then finish. */
struct folio_gzip {
    void *z; /* z_stream, allocated by _init */
};
folio_status folio__gzip_init(struct folio_gzip *g);
/* Compress `len` bytes at `in`, appending what zlib emits to `out`; `finish` ends the
 * member (the trailer). FOLIO_OK, FOLIO_ENOMEM, FOLIO_ETOOBIG. */
folio_status folio__gzip_write(struct folio_gzip *g, const void *in, size_t len, bool finish,
                               struct folio_buf *out);
void folio__gzip_clear(struct folio_gzip *g);

#endif
