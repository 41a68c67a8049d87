/* folio/buf.h - a growable byte buffer with a hard maximum (curl's dynbuf).
 *
 * A buffer starts empty and owns its memory. Appends fail with FOLIO_ETOOBIG past `max`
 * and FOLIO_ENOMEM when the allocator fails; after a failure the buffer keeps its old
 * content. The content is always NUL-terminated (the NUL is not counted in `len`).
 * Not thread-safe: one buffer, one thread. */
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
};

FOLIO_EXTERN void folio_buf_init(struct folio_buf *b, size_t max);
FOLIO_EXTERN
void folio_buf_clear(struct folio_buf *b);         /* frees the memory */
FOLIO_EXTERN
void folio_buf_reset(struct folio_buf *b);         /* len = 0, keeps the memory */
FOLIO_EXTERN folio_status folio_buf_reserve(struct folio_buf *b, size_t extra);
FOLIO_EXTERN folio_status folio_buf_append(struct folio_buf *b, const void *p, size_t n);
FOLIO_EXTERN folio_status folio_buf_puts(struct folio_buf *b, const char *s);
FOLIO_EXTERN folio_status folio_buf_putc(struct folio_buf *b, char c);
FOLIO_EXTERN
folio_status folio_buf_printf(struct folio_buf *b, const char *fmt, ...)
    FOLIO_PRINTF(2, 3);
/* Take ownership of the content (caller folio_free()s it); the buffer becomes empty. */
FOLIO_EXTERN char *folio_buf_detach(struct folio_buf *b, size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif
