/* Strict HTTP/1.1 message checks (RFC 9112) that libmicrohttpd 0.9.75 leaves to the
 * application: the shapes a proxy in front of folio could read differently (request
 * smuggling). docs/http.md lists them, and what libmicrohttpd refuses itself. */
#ifndef FOLIO_SERVER_STRICT_H
#define FOLIO_SERVER_STRICT_H

struct MHD_Connection;

/* Why the request's header section must be refused with 400, or NULL when it is
 * well-formed. Call it on the first access-handler call (headers parsed, body not read
 * yet): a response queued then makes libmicrohttpd close the connection after it, without
 * reading a body or a pipelined request. `method` and `version` are the handler's
 * arguments; they point into the connection's read buffer, whose raw bytes (libmicrohttpd
 * only put NULs over the line ends and the colons) are checked too. Thread-safe. */
const char *folio__strict_check(struct MHD_Connection *conn, const char *method,
                               const char *version);

#endif
