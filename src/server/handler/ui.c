/* GET /ui/...: the browser UI's embedded files (assets.h). Each has a strong ETag (one
 * per representation: identity and gzip), If-None-Match answers 304, versioned names are
 * cached for a year as immutable, HTML pages are revalidated, and gzip is sent to clients
 * that accept it (Vary: Accept-Encoding). */
#include <string.h>
#include <strings.h>

#include "server/assets.h"
#include "server/http.h"
#include "server/server.h"

const struct folio_asset *folio__asset_find(const char *path)
{
    for (size_t i = 0; i < folio__nassets; i++)
        if (strcmp(folio__assets[i].path, path) == 0)
            return &folio__assets[i];
    return NULL;
}

/* The q-value of a list element's parameters ("; q=0.5"), 1000 for none, in thousandths;
 * anything unreadable counts as acceptable. */
static int qvalue(const char *params, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if ((params[i] != 'q' && params[i] != 'Q') || params[i + 1] != '=')
            continue;
        if (i > 0 && params[i - 1] != ';' && params[i - 1] != ' ' && params[i - 1] != '\t')
            continue;
        const char *v = params + i + 2;
        size_t n = len - i - 2;
        if (n == 0 || v[0] == '1')
            return 1000;
        if (v[0] != '0')
            return 1000;
        int q = 0, digits = 0;
        for (size_t k = 2; k < n && k < 5 && v[1] == '.' && v[k] >= '0' && v[k] <= '9'; k++) {
            q = q * 10 + (v[k] - '0');
            digits++;
        }
        while (digits++ < 3)
            q *= 10;
        return q;
    }
    return 1000;
}

/* The q-value a list-valued header gives `token` (case-insensitive), -1 when absent. A
 * `wildcard` element (such as "*") counts for tokens not named. */
static int list_q(const char *list, const char *token, const char *wildcard)
{
    int named = -1, wild = -1;
    size_t tlen = strlen(token);
    for (const char *p = list; p != NULL && *p;) {
        p += strspn(p, " \t,");
        size_t elen = strcspn(p, ",");
        size_t nlen = strcspn(p, ";, \t");
        if (nlen > elen)
            nlen = elen;
        const char *semi = memchr(p, ';', elen);
        int q = semi ? qvalue(semi, elen - (size_t)(semi - p)) : 1000;
        if (nlen == tlen && strncasecmp(p, token, tlen) == 0)
            named = q > named ? q : named;
        else if (wildcard && nlen == strlen(wildcard) && strncmp(p, wildcard, nlen) == 0)
            wild = q > wild ? q : wild;
        p += elen;
    }
    return named >= 0 ? named : wild;
}

bool folio__http_wants_html(struct folio_http *h)
{
    const char *accept = folio__http_request_header_list(h, "Accept", &h->w->scratch);
    if (accept == NULL)
        return false;
    int html = list_q(accept, "text/html", NULL);
    int json = list_q(accept, "application/json", NULL);
    int problem = list_q(accept, "application/problem+json", NULL);
    if (problem > json)
        json = problem;
    return html > 0 && html > json; /* a tie keeps JSON: API clients first */
}

/* Whether an If-None-Match list names `a` or `b`, or is "*" (RFC 9110 section 13.1.2:
 * the weak comparison, so W/"x" matches "x"). */
static bool none_match(const char *list, const char *a, const char *b)
{
    for (const char *p = list; p != NULL && *p;) {
        p += strspn(p, " \t,");
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t n = strcspn(p, ", \t");
        if ((n == strlen(a) && strncmp(p, a, n) == 0) || (n == strlen(b) && strncmp(p, b, n) == 0))
            return true;
        p += n;
    }
    return false;
}

void folio__handle_ui(struct folio_http *h)
{
    const char *path = strcmp(h->path, "/ui") == 0 ? "/ui/" : h->path;
    const struct folio_asset *a = folio__asset_find(path);
    if (a == NULL) {
        folio__problem(h, 404, "not-found", NULL, "no such file in the UI", NULL);
        return;
    }
    const char *ae = folio__http_request_header_list(h, "Accept-Encoding", &h->w->scratch);
    bool gz = ae != NULL && list_q(ae, "gzip", "*") > 0;
    const char *etag = gz ? a->etag_gz : a->etag;
    folio__http_header_add(h, "ETag", etag);
    folio__http_header_add(h, "Vary", "Accept-Encoding");
    folio__http_header_add(h, "Cache-Control", a->immutable
                                                   ? "public, max-age=31536000, immutable"
                                                   : "no-cache");
    folio__http_header_add(h, "X-Content-Type-Options", "nosniff");
    if (!a->immutable)
        folio__http_header_add(h, "Content-Security-Policy",
                               "default-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'");
    const char *inm = folio__http_request_header_list(h, "If-None-Match", &h->w->scratch);
    if (gz)
        folio__http_header_add(h, "Content-Encoding", "gzip");
    h->body_static = gz ? a->gz : a->data;
    h->body_static_len = gz ? a->gz_len : a->len;
    if (inm != NULL && none_match(inm, a->etag, a->etag_gz)) {
        /* The body stays attached: libmicrohttpd sends none with a 304, and the
         * Content-Length it writes is then the 200's, as RFC 9110 section 8.6 requires
         * of a 304 that has one (an empty body would make it a wrong 0). */
        h->status = 304;
        h->content_type = NULL;
        return;
    }
    h->status = 200;
    h->content_type = a->content_type;
}
