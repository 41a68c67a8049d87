/* The Prefer request header (RFC 7240), as far as folio reads it: PostgREST's
 * `Prefer: count=exact|planned|estimated`. */
#ifndef FOLIO_SERVER_PREFER_H
#define FOLIO_SERVER_PREFER_H

#include "folio/folio.h"

/* The count a Prefer field value asks for (several header lines joined with ", " first,
 * as RFC 9110 section 5.3 allows), or FOLIO_COUNT_DEFAULT when it asks for none (NULL =
 * no header). Parsed as RFC 7240 says: a comma-separated list of preferences, each
 * `token [BWS "=" BWS word]` followed by `;` parameters, a word being a token or a
 * quoted-string. Preference names compare without case, values exactly; the first
 * `count` preference decides, even with a value folio does not know (then the default);
 * a malformed element is skipped. Values: exact; planned, estimated (and folio's own
 * estimate); none. Reentrant. */
enum folio_count folio__prefer_count(const char *value);

#endif
