/* folio/link.h - RFC 8288 Link headers and the URL pieces they are built from. */
#ifndef FOLIO_LINK_H
#define FOLIO_LINK_H

#include <stddef.h>

#include "folio/common.h"
#include "folio/buf.h"
#include "folio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct folio_link {
    const char *rel; /* "next", "prev", "first", "last", "self" */
    const char *url; /* a URI reference; NULL = absent, skipped */
};

/* Append `<url>; rel="rel", ...` for the present links. Each URL must already be a valid
 * URI reference (built with folio_url_encode for its parts): it may not contain '<', '>',
 * spaces, control characters or bytes >= 0x7f, and FOLIO_EINVAL is returned if it does
 * (`out` unchanged and not failed). FOLIO_OK, FOLIO_EINVAL, FOLIO_ENOMEM, FOLIO_ETOOBIG; on
 * ENOMEM/ETOOBIG `out` holds exactly what it held before (never a header cut short) and is
 * failed (sticky, folio_buf_status) until reset. Reentrant. */
FOLIO_EXTERN
folio_status folio_link_header_write(struct folio_buf *out, const struct folio_link *links,
                                     size_t n);

/* Append `s` percent-encoded for a query component (RFC 3986 unreserved characters and
 * ',' stay as they are). */
FOLIO_EXTERN folio_status folio_url_encode(struct folio_buf *out, const char *s, size_t len);

/* Percent-decode `s` in place (the inverse of folio_url_encode; '+' stays '+'). Returns
 * FOLIO_EINVAL, leaving `s` unspecified, for a malformed escape or an encoded NUL byte.
 * Reentrant. */
FOLIO_EXTERN folio_status folio_url_decode(char *s) FOLIO_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif
