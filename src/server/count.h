/* Row totals for a page's query (table + filters), cached per worker connection and
 * reused until the database changes (the connection's data version moves). */
#ifndef FOLIO_SERVER_COUNT_H
#define FOLIO_SERVER_COUNT_H

#include "server/page.h"

/* The exact number of rows matching spec's table and filters. Call it inside the same
 * read transaction as the page query to get the page's snapshot. */
folio_status folio_count_exact(struct folio_http *h, const struct folio_page_spec *spec,
                               int64_t *out, struct folio_error *err);

#endif
