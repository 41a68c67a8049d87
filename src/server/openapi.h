/* The OpenAPI 3.1 description of a running server, generated from its schema and config:
 * every endpoint with every parameter (types, limits, sortable and filterable columns as
 * enums), a response schema per table (declared column types mapped to JSON Schema), the
 * Link, X-Total-Count, RateLimit-* and Retry-After headers, and every problem type with
 * its status (problem_types.h). */
#ifndef FOLIO_SERVER_OPENAPI_H
#define FOLIO_SERVER_OPENAPI_H

#include "folio/folio.h"

struct folio_server;

/* Write the document as JSON into `out` (appended). FOLIO_OK, or the buffer's failure
 * (FOLIO_ENOMEM, FOLIO_ELIMIT past its maximum). Reads only configuration that does not
 * change while the server runs: thread-safe. */
folio_status folio__openapi_write(const struct folio_server *srv, struct folio_buf *out);

#endif
