/* Growable buffer with a hard maximum and sticky failure: see folio/buf.h. */
#include "folio/buf.h"

#include <stdio.h>
#include <string.h>

#include "folio/alloc.h"

void folio_buf_init(struct folio_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->status = FOLIO_OK;
}

void folio_buf_clear(struct folio_buf *b)
{
    folio_free(b->data);
    folio_buf_init(b, b->max);
}

void folio_buf_reset(struct folio_buf *b)
{
    b->len = 0;
    b->status = FOLIO_OK;
    if (b->data != NULL)
        b->data[0] = '\0';
}

folio_status folio_buf_status(const struct folio_buf *b)
{
    return b->status;
}

/* Every failure goes through here: the buffer stays failed until reset or clear. */
static folio_status fail(struct folio_buf *b, folio_status st)
{
    b->status = st;
    return st;
}

folio_status folio_buf_reserve(struct folio_buf *b, size_t extra)
{
    if (b->status != FOLIO_OK)
        return b->status;
    if (extra > b->max || b->len > b->max - extra)
        return fail(b, FOLIO_ETOOBIG);
    size_t need = b->len + extra + 1; /* room for the terminating NUL */
    if (need <= b->cap)
        return FOLIO_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = folio_realloc(b->data, cap);
    if (p == NULL)
        return fail(b, FOLIO_ENOMEM);
    b->data = p;
    b->cap = cap;
    b->data[b->len] = '\0'; /* a fresh allocation is terminated too */
    return FOLIO_OK;
}

folio_status folio_buf_append(struct folio_buf *b, const void *p, size_t n)
{
    /* Fast path: not failed and it fits (cap <= max + 1, so the maximum holds too). A
     * failed buffer may still have room; the status test keeps it failed. */
    if (b->status == FOLIO_OK && b->data != NULL && n < b->cap - b->len) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return FOLIO_OK;
    }
    folio_status st = folio_buf_reserve(b, n);
    if (st != FOLIO_OK)
        return st;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return FOLIO_OK;
}

folio_status folio_buf_puts(struct folio_buf *b, const char *s)
{
    return folio_buf_append(b, s, strlen(s));
}

folio_status folio_buf_putc(struct folio_buf *b, char c)
{
    if (b->status == FOLIO_OK && b->data != NULL && b->cap - b->len > 1) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return FOLIO_OK;
    }
    return folio_buf_append(b, &c, 1);
}

folio_status folio_buf_printf(struct folio_buf *b, const char *fmt, ...)
{
    if (b->status != FOLIO_OK)
        return b->status;
    va_list ap;
    /* One pass when the text fits in the room already there (the usual case), two
     * otherwise. */
    if (b->data != NULL && b->cap > b->len + 1) {
        size_t room = b->cap - b->len;
        if (room > b->max - b->len + 1)
            room = b->max - b->len + 1;
        va_start(ap, fmt);
        int n = vsnprintf(b->data + b->len, room, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < room) {
            b->len += (size_t)n;
            return FOLIO_OK;
        }
        b->data[b->len] = '\0'; /* undo the partial write */
        if (n < 0)
            return fail(b, FOLIO_EINVAL);
    }
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return fail(b, FOLIO_EINVAL);
    folio_status st = folio_buf_reserve(b, (size_t)n);
    if (st != FOLIO_OK)
        return st;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return FOLIO_OK;
}

char *folio_buf_detach(struct folio_buf *b, size_t *out_len)
{
    char *p = b->data;
    size_t len = b->len;
    if (b->status != FOLIO_OK) {
        folio_free(p);
        p = NULL;
        len = 0;
    }
    if (out_len != NULL)
        *out_len = len;
    folio_buf_init(b, b->max);
    return p;
}
