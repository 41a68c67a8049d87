/* From a handled request to a libmicrohttpd response: the response headers' budget, the
 * Link header's bound, and the rule that every link folio emits is accepted by folio. */
#include "server/response.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "folio/cursor.h"
#include "server/gzip.h"
#include "server/handler/export.h"
#include "server/http.h"
#include "server/server.h"

/* Bytes of cursor parameters (after=, before=, cursor=, with their separator) in a raw
 * query, values counted up to FOLIO_CURSOR_MAX_TOKEN: the part of a target that
 * max_url_bytes leaves out. `end` bounds the query (NULL: its NUL). */
size_t folio__response_cursor_bytes(const char *query, const char *end)
{
    static const char *const names[] = {"after=", "before=", "cursor="};
    size_t n = 0;
    for (const char *p = query; p != NULL && *p && (end == NULL || p < end);) {
        p++; /* past '?', '&' or ';' */
        size_t plen = strcspn(p, end != NULL ? "&;>" : "&;");
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            size_t k = strlen(names[i]);
            if (plen >= k && strncmp(p, names[i], k) == 0)
                n += 1 + k +
                     (plen - k < FOLIO_CURSOR_MAX_TOKEN ? plen - k : FOLIO_CURSOR_MAX_TOKEN);
        }
        p += plen;
    }
    return n;
}

/* Every link folio emits must be accepted by folio. Links spell the request in canonical
 * form (per_page and the sort's tiebreaker written out, filters percent-encoded), which
 * can be longer than the request was: when a link in the Link header would be refused as
 * too long, the request is answered with that 414 itself. */
void folio__response_links_fit(struct folio_http *h)
{
    if (h->status != 200 || h->w == NULL)
        return;
    const char *hd = h->w->headers.data;
    for (size_t i = 0; hd != NULL && i < h->nheaders; i++) {
        if (strcasecmp(hd + h->headers[i].name, "Link") != 0)
            continue;
        for (const char *v = strchr(hd + h->headers[i].value, '<'); v != NULL;
             v = strchr(v + 1, '<')) {
            const char *gt = strchr(v, '>');
            if (gt == NULL)
                break;
            const char *q = memchr(v, '?', (size_t)(gt - v));
            size_t counted = (size_t)(gt - v - 1) - (q ? folio__response_cursor_bytes(q, gt) : 0);
            if (counted > h->srv->cfg.max_url_bytes) {
                /* Only the Link header goes: CORS and rate-limit headers stay. */
                memmove(&h->headers[i], &h->headers[i + 1],
                        (h->nheaders - i - 1) * sizeof h->headers[0]);
                h->nheaders--;
                folio__problem(h, 414, "uri-too-long", NULL,
                               "this page's links, which spell out the request in full, would "
                               "be longer than the server accepts: shorten the filters",
                               NULL);
                return;
            }
        }
    }
}

/* Whether a header may go out: libmicrohttpd refuses names or values with control
 * characters, and a refused header must not vanish silently. */
static bool header_ok(const char *s, bool value)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 ? !(value && *s == '\t') : *s == 0x7f)
            return false;
    return true;
}

/* Keep only the next and prev entries of a Link header value (RFC 8288: entries
 * `<url>; rel="x"` joined by ", "). Returns the length written to out, or 0 when they do
 * not fit in `cap` or there are none. */
static size_t link_next_prev(const char *v, char *out, size_t cap)
{
    size_t n = 0;
    while ((v = strchr(v, '<')) != NULL) {
        const char *gt = strchr(v, '>');
        if (gt == NULL)
            break;
        const char *end = strchr(gt, ',');
        if (end == NULL)
            end = gt + strlen(gt);
        size_t elen = (size_t)(end - v);
        bool keep = false;
        for (const char *r = gt; r + 10 <= end && !keep; r++)
            keep = strncmp(r, "rel=\"next\"", 10) == 0 || strncmp(r, "rel=\"prev\"", 10) == 0;
        if (keep) {
            if (n + 2 + elen + 1 > cap)
                return 0;
            if (n > 0) {
                memcpy(out + n, ", ", 2);
                n += 2;
            }
            memcpy(out + n, v, elen);
            n += elen;
            out[n] = '\0';
        }
        v = end;
    }
    return n;
}

/* The libmicrohttpd response for h. Response headers fit in FOLIO_HTTP_HEADER_BUDGET
 * bytes, which the connection's memory pool always has room for: past it, the Link header
 * keeps only next and prev, then is left out (the body still has every link). A header
 * libmicrohttpd refuses turns the answer into a 500 problem, never a dropped connection.
 * NULL only when out of memory. */
void folio__response_gzip_prepare(struct folio_http *h)
{
    struct folio_worker *w = h->w;
    if (h->gz_ready || h->status != 200 || !h->srv->cfg.gzip || w == NULL ||
        w->body.data == NULL || w->body.len < FOLIO_GZIP_MIN_BYTES)
        return;
    if (folio__gzip_buf(&w->gz, w->body.data, w->body.len) != FOLIO_OK)
        return;
    h->gz_ready = true;
    atomic_fetch_add_explicit(&h->srv->metrics.gzip_compressions, 1, memory_order_relaxed);
}

bool folio__response_gzip_wanted(struct folio_http *h)
{
    struct folio_worker *w = h->w;
    return h->srv->cfg.gzip && h->conn != NULL && w != NULL && w->body.data != NULL &&
           h->status == 200 && w->body.len >= FOLIO_GZIP_MIN_BYTES &&
           folio__gzip_accepted(
               folio__http_request_header_list(h, "Accept-Encoding", &w->scratch));
}

/* The body to send for h: the compressed copy when the client accepts gzip and it is
 * worth it (*out_gzip), else the body itself. *out_vary: the answer depends on
 * Accept-Encoding. */
static const char *body_for(struct folio_http *h, size_t *out_len, bool *out_gzip,
                            bool *out_vary)
{
    struct folio_worker *w = h->w;
    const char *body = w->body.data;
    *out_len = w->body.len;
    *out_gzip = *out_vary = false;
    if (!h->srv->cfg.gzip || h->conn == NULL || body == NULL ||
        w->body.len < FOLIO_GZIP_MIN_BYTES)
        return body;
    *out_vary = true;
    if (!folio__gzip_accepted(folio__http_request_header_list(h, "Accept-Encoding", &w->scratch)))
        return body;
    if (!h->gz_ready) {
        if (folio__gzip_buf(&w->gz, body, w->body.len) != FOLIO_OK)
            return body;
        h->gz_ready = true;
        atomic_fetch_add_explicit(&h->srv->metrics.gzip_compressions, 1, memory_order_relaxed);
    }
    if (w->gz.len >= w->body.len)
        return body;
    *out_len = w->gz.len;
    *out_gzip = true;
    return w->gz.data;
}

struct MHD_Response *folio__response_new(struct folio_http *h, unsigned *out_status)
{
    if (h->stream != NULL && (h->status != 200 || h->headers_lost))
        folio__export_stream_drop(h);
    struct folio_worker *w = h->w;
    const char *hd = w ? w->headers.data : NULL;
    size_t total = h->content_type ? strlen(h->content_type) + 16 : 0;
    int link = -1;
    for (size_t i = 0; hd != NULL && i < h->nheaders; i++) {
        const char *name = hd + h->headers[i].name;
        total += strlen(name) + strlen(hd + h->headers[i].value) + 4;
        if (strcasecmp(name, "Link") == 0)
            link = (int)i;
    }
    char *link_value = NULL;
    char link_short[FOLIO_HTTP_HEADER_BUDGET];
    if (link >= 0) {
        link_value = (char *)hd + h->headers[link].value;
        size_t full = strlen(link_value);
        if (total > FOLIO_HTTP_HEADER_BUDGET) {
            size_t room = FOLIO_HTTP_HEADER_BUDGET - (total - full);
            size_t n = total - full < FOLIO_HTTP_HEADER_BUDGET
                           ? link_next_prev(link_value, link_short,
                                            room < sizeof link_short ? room : sizeof link_short)
                           : 0;
            link_value = n > 0 ? link_short : NULL;
        }
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        const char *body = w ? w->body.data : NULL;
        /* HEAD keeps the body's length: libmicrohttpd sends the headers (Content-Length
         * included, as RFC 9110 asks) and leaves the body out itself. */
        size_t len = w ? w->body.len : 0;
        /* A static body (the UI's embedded assets) is sent as it is: its handler chose
         * the encoding and set its headers. */
        bool fixed = h->body_static != NULL && attempt == 0;
        bool gzip = false, vary = false;
        if (w != NULL && h->stream == NULL && !fixed)
            body = body_for(h, &len, &gzip, &vary);
        struct MHD_Response *r =
            h->stream != NULL ? folio__export_response_new(h)
            : fixed ? MHD_create_response_from_buffer(h->body_static_len, (void *)h->body_static,
                                                      MHD_RESPMEM_PERSISTENT)
                    : MHD_create_response_from_buffer(len, (void *)(body ? body : ""),
                                                      MHD_RESPMEM_MUST_COPY);
        if (r == NULL)
            return NULL;
        bool ok = !h->headers_lost;
        if (ok && vary)
            ok = MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding") == MHD_YES;
        if (ok && gzip) {
            ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip") == MHD_YES;
            atomic_fetch_add_explicit(&h->srv->metrics.gzip_responses, 1, memory_order_relaxed);
        }
        if (ok && h->content_type)
            ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, h->content_type) ==
                 MHD_YES;
        for (size_t i = 0; ok && hd != NULL && i < h->nheaders; i++) {
            const char *name = hd + h->headers[i].name;
            const char *value = (int)i == link ? link_value : hd + h->headers[i].value;
            if (value == NULL)
                continue;
            ok = header_ok(name, false) && header_ok(value, true) &&
                 MHD_add_response_header(r, name, value) == MHD_YES;
        }
        /* A quiesced server sends its keep-alive clients to the server that replaced it. */
        if (ok && atomic_load_explicit(&h->srv->draining, memory_order_relaxed))
            ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") == MHD_YES;
        if (ok || w == NULL || attempt == 1) {
            *out_status = (unsigned)h->status;
            return r;
        }
        MHD_destroy_response(r);
        folio_buf_reset(&w->headers);
        h->nheaders = 0;
        h->headers_lost = false;
        link = -1;
        folio__problem(h, 500, "internal", NULL, "the response headers could not be sent", NULL);
    }
    return NULL;
}
