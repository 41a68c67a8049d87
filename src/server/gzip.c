/* gzip content coding with zlib: see gzip.h. */
#include "server/gzip.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* The q value of one list member's parameters (";q=0.5"), 1000 when absent. */
static int qvalue(const char *p, const char *end)
{
    while (p < end) {
        while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
            p++;
        if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            p += 2;
            if (p < end && *p == '1')
                return 1000;
            if (p >= end || *p != '0')
                return 0;
            p++;
            int q = 0, scale = 100;
            if (p < end && *p == '.')
                for (p++; p < end && *p >= '0' && *p <= '9' && scale > 0; p++, scale /= 10)
                    q += (*p - '0') * scale;
            return q;
        }
        while (p < end && *p != ';')
            p++;
    }
    return 1000;
}

bool folio__gzip_accepted(const char *ae)
{
    if (ae == NULL)
        return false;
    int gzip_q = -1, star_q = -1;
    const char *p = ae;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p + strcspn(p, ",");
        size_t tok = strcspn(p, ";, \t");
        if (tok > (size_t)(end - p))
            tok = (size_t)(end - p);
        int q = qvalue(p + tok, end);
        if ((tok == 4 && strncasecmp(p, "gzip", 4) == 0) ||
            (tok == 6 && strncasecmp(p, "x-gzip", 6) == 0))
            gzip_q = q > gzip_q ? q : gzip_q;
        else if (tok == 1 && *p == '*')
            star_q = q;
        p = end;
    }
    if (gzip_q >= 0)
        return gzip_q > 0;
    return star_q > 0;
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    /* zlib does not need zeroed memory (zlib.h, zalloc); overflow is checked. */
    return (size_t)items * size / (size ? size : 1) == items ? folio_malloc((size_t)items * size)
                                                             : NULL;
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    folio_free(p);
}

folio_status folio__gzip_init(struct folio_gzip *g)
{
    z_stream *z = folio_calloc(1, sizeof *z);
    g->z = z;
    if (z == NULL)
        return FOLIO_ENOMEM;
    z->zalloc = z_alloc;
    z->zfree = z_free;
    /* windowBits 15 + 16: a gzip header and trailer; memLevel 8 (zlib's default). */
    if (deflateInit2(z, FOLIO_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        folio_free(z);
        g->z = NULL;
        return FOLIO_ENOMEM;
    }
    return FOLIO_OK;
}

folio_status folio__gzip_write(struct folio_gzip *g, const void *in, size_t len, bool finish,
                               struct folio_buf *out)
{
    z_stream *z = g->z;
    if (z == NULL)
        return FOLIO_ENOMEM;
    z->next_in = (Bytef *)(uintptr_t)in;
    z->avail_in = (uInt)len;
    for (;;) {
        size_t room = deflateBound(z, z->avail_in) + 64;
        folio_status st = folio_buf_reserve(out, room);
        if (st != FOLIO_OK)
            return st;
        z->next_out = (Bytef *)out->data + out->len;
        z->avail_out = (uInt)room;
        int rc = deflate(z, finish ? Z_FINISH : Z_NO_FLUSH);
        out->len += room - z->avail_out;
        if (rc == Z_STREAM_END || (!finish && z->avail_in == 0 && z->avail_out > 0))
            return FOLIO_OK;
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return FOLIO_ENOMEM;
    }
}

void folio__gzip_clear(struct folio_gzip *g)
{
    if (g->z != NULL) {
        deflateEnd(g->z);
        folio_free(g->z);
    }
    g->z = NULL;
}

folio_status folio__gzip_buf(struct folio_buf *out, const void *in, size_t len)
{
    folio_buf_reset(out);
    struct folio_gzip g;
    folio_status st = folio__gzip_init(&g);
    if (st == FOLIO_OK)
        st = folio__gzip_write(&g, in, len, true, out);
    folio__gzip_clear(&g);
    return st;
}
