/* The access log: one line per request, written by a background thread. Request threads
 * only copy their line into a ring buffer under a short lock; if the writer falls
 * behind, lines are dropped and counted rather than slowing requests down. */
#ifndef FOLIO_SERVER_ACCESSLOG_H
#define FOLIO_SERVER_ACCESSLOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/status.h"

struct folio_accesslog;

/* Log to `fd` (not closed by the log). FOLIO_ENOMEM, FOLIO_EIO (thread). */
folio_status folio__accesslog_new(struct folio_accesslog **out, int fd,
                                  atomic_uint_fast64_t *dropped);
/* Flush what is queued, stop the writer thread, free. */
void folio__accesslog_free(struct folio_accesslog *log);
/* Queue one line (a newline is added). Thread-safe, never blocks on I/O. */
void folio__accesslog_line(struct folio_accesslog *log, const char *line, size_t len);

#endif
