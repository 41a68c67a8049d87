/* Connection bookkeeping for availability: a global cap with a fast refusal beyond it, and
 * a deadline for each complete request.
 *
 * libmicrohttpd's own idle timeout restarts with every byte received, so a client sending
 * one header byte every few seconds would hold its connection forever, and at its own
 * connection limit libmicrohttpd stops accepting (new clients then wait in the kernel's
 * backlog). Here a connection must deliver a whole request (headers and any body) within
 * `request_timeout` seconds of being opened or of its previous response being sent;
 * otherwise a sweeper thread shuts its socket down. The same deadline bounds how long an
 * idle keep-alive connection is kept. */
#ifndef FOLIO_SERVER_CONNTRACK_H
#define FOLIO_SERVER_CONNTRACK_H

#include <stdbool.h>

#include "folio/folio.h"

struct folio_conntrack;
struct folio_conn;

/* `max_connections` open at once (beyond it folio__conntrack_admit says no); a request must
 * be complete within `request_timeout` seconds (0 = no deadline). */
folio_status folio__conntrack_new(struct folio_conntrack **out, unsigned max_connections,
                                  unsigned request_timeout);
/* Stops the sweeper; call after every connection has closed. NULL is fine. */
void folio__conntrack_free(struct folio_conntrack *t);

/* Whether one more connection may be accepted. Thread-safe. */
bool folio__conntrack_admit(struct folio_conntrack *t);
/* A connection on socket `fd` opened: its request deadline starts. Returns its record (NULL
 * when out of memory: the connection is then counted but has no deadline). */
struct folio_conn *folio__conntrack_open(struct folio_conntrack *t, int fd);
/* It closed (before libmicrohttpd closes the socket). `c` may be NULL. */
void folio__conntrack_close(struct folio_conntrack *t, struct folio_conn *c);
/* Its request arrived completely: no deadline while it is answered. */
void folio__conntrack_busy(struct folio_conn *c);
/* A streamed response (an export) is being sent. With `client_turn` the server has just
 * handed the client data and waits for it to take more: the deadline (request_timeout
 * from now) applies, so a reader that stalls is cut off; without it the server is
 * producing the next part: no deadline (the query's own timeout bounds that). */
void folio__conntrack_streaming(struct folio_conn *c, bool client_turn);
/* Its response was sent: the next request's deadline starts. */
void folio__conntrack_idle(struct folio_conn *c);

#endif
