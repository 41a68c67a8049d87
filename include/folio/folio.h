/* folio/folio.h - libfolio, the pagination core. Include this one header.
 *
 *   status.h   folio_status, struct folio_error, folio_strerror
 *   alloc.h    the allocation seam (folio_malloc ... folio_allocator_set)
 *   buf.h      growable buffers with a hard maximum
 *   json.h     streaming JSON writer
 *   value.h    typed SQL values
 *   request.h  query parameter parsing and validation
 *   sort.h     sort specs, keyset WHERE predicates and ORDER BY clauses
 *   cursor.h   signed / encrypted cursor tokens, key rings
 *   link.h     RFC 8288 Link headers, URL encoding
 */
#ifndef FOLIO_FOLIO_H
#define FOLIO_FOLIO_H

#include "folio/alloc.h"
#include "folio/buf.h"
#include "folio/cursor.h"
#include "folio/json.h"
#include "folio/link.h"
#include "folio/request.h"
#include "folio/sort.h"
#include "folio/status.h"
#include "folio/value.h"

#define FOLIO_VERSION "0.1.0"

#endif
