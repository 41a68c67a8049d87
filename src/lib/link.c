/* RFC 8288 Link header writer: see folio/link.h. */
#include "folio/link.h"

#include <stdbool.h>
#include <string.h>

folio_status folio_url_encode(struct folio_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    folio_status st = folio_buf_reserve(out, len);
    for (size_t i = 0; i < len && st == FOLIO_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || c == ',') {
            st = folio_buf_putc(out, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            st = folio_buf_append(out, e, 3);
        }
    }
    return st;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

folio_status folio_url_decode(char *s)
{
    char *o = s;
    for (char *i = s; *i; i++) {
        if (*i != '%') {
            *o++ = *i;
            continue;
        }
        int a = hexval(i[1]), b = a >= 0 ? hexval(i[2]) : -1;
        if (a < 0 || b < 0 || (a == 0 && b == 0))
            return FOLIO_EINVAL;
        *o++ = (char)(a * 16 + b);
        i += 2;
    }
    *o = '\0';
    return FOLIO_OK;
}

folio_status folio_link_header_write(struct folio_buf *out, const struct folio_link *links,
                                     size_t n)
{
    folio_status st = FOLIO_OK;
    bool first = true;
    /* Validate every URL first, so a rejected call leaves `out` unchanged. */
    for (size_t i = 0; i < n; i++)
        for (const char *p = links[i].url; p != NULL && *p; p++)
            if (*p == '<' || *p == '>' || (unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
                return FOLIO_EINVAL;
    size_t start = out->len;
    for (size_t i = 0; i < n && st == FOLIO_OK; i++) {
        if (links[i].url == NULL)
            continue;
        st = folio_buf_puts(out, first ? "<" : ", <");
        if (st == FOLIO_OK)
            st = folio_buf_puts(out, links[i].url);
        if (st == FOLIO_OK)
            st = folio_buf_puts(out, ">; rel=\"");
        if (st == FOLIO_OK)
            st = folio_buf_puts(out, links[i].rel);
        if (st == FOLIO_OK)
            st = folio_buf_putc(out, '"');
        first = false;
    }
    if (st != FOLIO_OK && out->data != NULL) {
        /* A header cut short must not be usable: take back what this call appended. */
        out->len = start;
        out->data[start] = '\0';
    }
    return st;
}
