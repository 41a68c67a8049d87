/* folio/folio.h - libfolio, the pagination core. Include this one header; it includes
 * every public header (a test checks that none is missing):
 *
 *   version.h  FOLIO_VERSION_MAJOR/MINOR/PATCH, FOLIO_VERSION, folio_version()
 *   common.h   FOLIO_EXTERN, FOLIO_MUST_CHECK
 *   status.h   folio_status, struct folio_error, folio_strerror
 *   alloc.h    the allocation seam (folio_malloc ... folio_allocator_set)
 *   buf.h      growable buffers with a hard maximum; failures are sticky
 *   json.h     streaming JSON writer
 *   value.h    typed SQL values
 *   request.h  query parameter parsing and validation
 *   sort.h     sort specs, keyset WHERE predicates and ORDER BY clauses
 *   filter.h   PostgREST-style row filters
 *   cursor.h   signed / encrypted cursor tokens, key rings
 *   link.h     RFC 8288 Link headers, URL encoding
 *   toml.h     TOML 1.0 parser
 *
 * Per-header reference: docs/api/. Every function declared in these headers, and no
 * other, is exported by libfolio.so (src/lib/libfolio.sym). */
#ifndef FOLIO_FOLIO_H
#define FOLIO_FOLIO_H

#include "folio/alloc.h"
#include "folio/buf.h"
#include "folio/common.h"
#include "folio/cursor.h"
#include "folio/filter.h"
#include "folio/json.h"
#include "folio/link.h"
#include "folio/request.h"
#include "folio/sort.h"
#include "folio/status.h"
#include "folio/toml.h"
#include "folio/value.h"
#include "folio/version.h"

#endif
