/* GET {endpoint}/export: a whole result set, streamed (chunked) as NDJSON, CSV or JSON.
 *
 * Threading (docs/http.md "Export"): the request is validated on a database worker like
 * any page (bad parameters get their problem before a byte is streamed). The walk then
 * runs on a thread of its own (one per export, at most [export] max_exports at once and
 * per_client per client address, else 429), with its own database connection, and fills
 * a bounded ring buffer; libmicrohttpd's content reader only copies from that ring, so an
 * I/O thread never waits on the database. An empty ring suspends the connection until the
 * walk resumes it; a full ring makes the walk wait for the client (backpressure: memory
 * is the ring, one batch and one zlib stream per export, whatever the table's size).
 *
 * Deadlines: while the server waits for the client to take data, the connection is on
 * request_timeout's clock (conntrack.h, "streaming"): a client that takes nothing for
 * that long is cut off, so a stalled or slow-loris reader frees its export. While the
 * walk queries, the batch's query_timeout applies instead.
 *
 * A client that goes away stops the walk at once (libmicrohttpd frees the response: the
 * walk's cancel flag is set; the walk checks it on every row and while it waits). */
#ifndef FOLIO_SERVER_HANDLER_EXPORT_H
#define FOLIO_SERVER_HANDLER_EXPORT_H

#include <stdbool.h>

#include "folio/folio.h"

struct folio_server;
struct folio_http;
struct folio_endpoint;
struct folio_exports;
struct MHD_Response;

/* The server's running exports. FOLIO_ENOMEM. */
folio_status folio__exports_new(struct folio_exports **out);
/* Cancel every running export and wait for their walks to end (each resumes its
 * connection if suspended). Call before MHD_stop_daemon(). NULL is fine. */
void folio__exports_stop(struct folio_exports *xs);
/* After the daemon has stopped. NULL is fine. */
void folio__exports_free(struct folio_exports *xs);

/* The endpoint whose export `path` names ("{endpoint path}/export"), or -1. */
int folio__export_route(const struct folio_server *srv, const char *path);

/* The handler: validate, check the limits, and leave h ready to stream (h->stream). */
void folio__handle_export(struct folio_http *h, const struct folio_endpoint *ep);
/* The streaming response for h->stream, which it takes over (the walk starts now); NULL
 * when out of memory (the stream is released). */
struct MHD_Response *folio__export_response_new(struct folio_http *h);
/* Release h->stream without a response (a response could not be made). */
void folio__export_stream_drop(struct folio_http *h);

#endif
