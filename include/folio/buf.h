/* folio/buf.h - a growable byte buffer with a hard maximum and sticky failure (curl's
 * dynbuf).
 *
 * A buffer starts empty and owns its memory. An append fails with FOLIO_ETOOBIG past
 * `max`, FOLIO_ENOMEM when the allocator fails and FOLIO_EINVAL when printf formatting
 * fails. The failure is sticky: from then on the buffer is failed, every append and
 * reserve returns that same status without writing anything, and folio_buf_status()
 * reports it, until folio_buf_reset() or folio_buf_clear(). A failing append writes
 * nothing (never part of its bytes); the content before it stays readable, but it is not
 * a result: a caller may build a whole SQL statement or header ignoring the individual
 * statuses and check once at the end (the last append's status or folio_buf_status()),
 * and a truncated text can never pass that check. folio_buf_detach() of a failed buffer
 * returns NULL.
 *
 * The content is always NUL-terminated once allocated (the NUL is not counted in `len`);
 * `data` is NULL until the first append. Not thread-safe: one buffer, one thread. */
#ifndef FOLIO_BUF_H
#define FOLIO_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/common.h"
#include "folio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct folio_buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* hard limit on len */
    folio_status status; /* FOLIO_OK, or the first failure (sticky) */
};

/* Start an empty buffer that will hold at most `max` bytes. Allocates nothing. */
FOLIO_EXTERN void folio_buf_init(struct folio_buf *b, size_t max);
/* Free the memory; the buffer is empty and no longer failed (as after init, same max). */
FOLIO_EXTERN void folio_buf_clear(struct folio_buf *b);
/* Empty the buffer (len = 0), keeping its memory; clears a failure. */
FOLIO_EXTERN void folio_buf_reset(struct folio_buf *b);
/* FOLIO_OK, or the failure that made the buffer failed. */
FOLIO_EXTERN folio_status folio_buf_status(const struct folio_buf *b);

/* Make room for `extra` more bytes (and the NUL). FOLIO_OK, FOLIO_ETOOBIG, FOLIO_ENOMEM
 * (both sticky), or the buffer's earlier failure. */
FOLIO_EXTERN folio_status folio_buf_reserve(struct folio_buf *b, size_t extra);
/* Append `n` bytes of `p` (which may point into the buffer itself only after a successful
 * folio_buf_reserve(b, n)). Statuses as folio_buf_reserve. */
FOLIO_EXTERN folio_status folio_buf_append(struct folio_buf *b, const void *p, size_t n);
/* Append a NUL-terminated string (without its NUL). */
FOLIO_EXTERN folio_status folio_buf_puts(struct folio_buf *b, const char *s);
FOLIO_EXTERN folio_status folio_buf_putc(struct folio_buf *b, char c);
/* Append printf-formatted text; also FOLIO_EINVAL (sticky) when formatting fails. */
FOLIO_EXTERN folio_status folio_buf_printf(struct folio_buf *b, const char *fmt, ...)
    FOLIO_PRINTF(2, 3);
/* Take ownership of the content (caller folio_free()s it; NULL when nothing was ever
 * appended, or when the buffer failed, whose memory is then freed); the buffer becomes
 * empty and not failed. `out_len` (may be NULL) gets the length, 0 with NULL. */
FOLIO_EXTERN char *folio_buf_detach(struct folio_buf *b, size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif
