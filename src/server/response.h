/* From a handled request (struct folio_http) to a libmicrohttpd response. */
#ifndef FOLIO_SERVER_RESPONSE_H
#define FOLIO_SERVER_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

struct folio_http;
struct MHD_Response;

/* Bytes of the cursor parameters (after=, before=, cursor=, each with its separator) in a
 * raw query starting at its '?', values counted up to FOLIO_CURSOR_MAX_TOKEN: the part of
 * a target max_url_bytes leaves out. `end` bounds the query (NULL: up to its NUL; else
 * a '>' also ends a parameter, for links in a Link header). */
size_t folio__response_cursor_bytes(const char *query, const char *end);

/* Every link folio emits must be accepted by folio: when a link of h's 200 response (in
 * its Link header) would be refused as too long, h becomes a 414 problem instead. */
void folio__response_links_fit(struct folio_http *h);

/* Compress h's 200 body into w->gz (h->gz_ready) when it is at least FOLIO_GZIP_MIN_BYTES
 * and gzip is on, whoever asked: the page cache then keeps the compressed copy beside
 * the body, and a hit never compresses again. The page cache calls it only for a client
 * that takes gzip (folio__response_gzip_wanted): compressing costs more than the page. */
void folio__response_gzip_prepare(struct folio_http *h);
/* Whether h's response will be sent gzip-compressed: the client accepts it, compression
 * is on, and the body is large enough to be worth it. */
bool folio__response_gzip_wanted(struct folio_http *h);

/* The response for h, its status in *out_status. Response headers stay within
 * FOLIO_HTTP_HEADER_BUDGET bytes: past it the Link header keeps only next and prev, then
 * is left out (the body keeps every link). A header libmicrohttpd refuses turns the
 * answer into a 500 problem, never a dropped connection. NULL only when out of memory.
 * Thread-safe for distinct h. */
struct MHD_Response *folio__response_new(struct folio_http *h, unsigned *out_status);

#endif
