/* Fuzz target: URL escaping and the RFC 8288 Link header writer (src/lib/link.c). Input:
 * byte 0 sets the output buffer's maximum (small ones make appends fail), the rest is up to
 * five arbitrary byte strings separated by '\n'. Invariants (a violation traps):
 *  - folio_url_encode writes only unreserved characters, ',' and %XX, and decoding gives
 *    the bytes back (an encoded NUL is refused by the decoder, and nothing else is);
 *  - a Link header is refused (FOLIO_EINVAL) exactly when a URL holds '<', '>', a space,
 *    a control character or a byte >= 0x7f, so no header can carry CR or LF;
 *  - a URL built with folio_url_encode is never refused;
 *  - a refused or failed write leaves the buffer exactly as it was; a written header
 *    reads back as the links given, in order, absent ones skipped. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "folio/link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool forbidden(const char *u)
{
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p == '<' || *p == '>' || *p <= 0x20 || *p >= 0x7f)
            return true;
    return false;
}

static void check_encode(const char *s, size_t len)
{
    struct folio_buf b;
    folio_buf_init(&b, 1 << 20);
    if (folio_url_encode(&b, s, len) != FOLIO_OK)
        __builtin_trap();
    for (size_t i = 0; i < b.len; i++) {
        char c = b.data ? b.data[i] : 0;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.' || c == '~' || c == ',';
        if (c == '%') {
            if (i + 2 >= b.len)
                __builtin_trap();
            for (int k = 1; k <= 2; k++)
                if (!((b.data[i + k] >= '0' && b.data[i + k] <= '9') ||
                      (b.data[i + k] >= 'A' && b.data[i + k] <= 'F')))
                    __builtin_trap();
            i += 2;
        } else if (!plain) {
            __builtin_trap();
        }
    }
    char *copy = malloc(b.len + 1);
    if (copy == NULL)
        __builtin_trap();
    memcpy(copy, b.data ? b.data : "", b.len + 1);
    folio_status st = folio_url_decode(copy);
    bool has_nul = memchr(s, '\0', len) != NULL;
    if (has_nul ? st != FOLIO_EINVAL
                : (st != FOLIO_OK || strlen(copy) != len || memcmp(copy, s, len) != 0))
        __builtin_trap();
    free(copy);
    folio_buf_clear(&b);
}

/* Read `<url>; rel="rel"` items separated by ", " and compare with the links given. */
static void check_header(const char *h, size_t hlen, const struct folio_link *links, size_t n)
{
    const char *p = h, *end = h + hlen;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (links[i].url == NULL)
            continue;
        if (!first) {
            if (end - p < 2 || memcmp(p, ", ", 2) != 0)
                __builtin_trap();
            p += 2;
        }
        first = false;
        size_t ul = strlen(links[i].url), rl = strlen(links[i].rel);
        if ((size_t)(end - p) < ul + rl + 10 || *p != '<' || memcmp(p + 1, links[i].url, ul) != 0 ||
            memcmp(p + 1 + ul, ">; rel=\"", 8) != 0 || memcmp(p + 9 + ul, links[i].rel, rl) != 0 ||
            p[9 + ul + rl] != '"')
            __builtin_trap();
        p += ul + rl + 10;
    }
    if (p != end)
        __builtin_trap();
}

static void check_write(const struct folio_link *links, size_t n, size_t max, bool all_encoded)
{
    struct folio_buf b;
    folio_buf_init(&b, max);
    /* Something already in the buffer that a failed write must leave alone. */
    folio_status st = folio_buf_puts(&b, "x");
    if (st != FOLIO_OK) {
        folio_buf_clear(&b);
        return;
    }
    st = folio_link_header_write(&b, links, n);
    bool bad = false;
    for (size_t i = 0; i < n; i++)
        bad |= links[i].url != NULL && forbidden(links[i].url);
    if (bad != (st == FOLIO_EINVAL) || (all_encoded && bad))
        __builtin_trap();
    if (st != FOLIO_OK) {
        if (b.len != 1 || b.data[0] != 'x' || b.data[1] != '\0')
            __builtin_trap(); /* a failed write leaves the buffer as it was */
    } else {
        check_header(b.data + 1, b.len - 1, links, n);
        for (size_t i = 1; i < b.len; i++)
            if ((unsigned char)b.data[i] < 0x20 || (unsigned char)b.data[i] >= 0x7f)
                __builtin_trap();
    }
    folio_buf_clear(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    size_t max = (size_t)data[0] * 4;
    char *text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    static const char *const rels[] = {"self", "first", "next", "prev", "last"};
    struct folio_link raw[5], enc[5];
    struct folio_buf ebuf[5];
    size_t n = 0;
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    char *t = text;
    while (n < 5 && p <= end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        check_encode(p, len);
        t[len] = '\0';
        /* an empty piece stands for an absent link */
        raw[n] = (struct folio_link){rels[n], len ? t : NULL};
        folio_buf_init(&ebuf[n], 1 << 16);
        (void)folio_buf_puts(&ebuf[n], "/api/t?sort=");
        (void)folio_url_encode(&ebuf[n], p, len);
        enc[n] = (struct folio_link){rels[n], len ? ebuf[n].data : NULL};
        n++;
        t += len + 1;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    check_write(raw, n, max ? max : 1 << 20, false);
    check_write(enc, n, max ? max : 1 << 20, true);
    for (size_t i = 0; i < n; i++)
        folio_buf_clear(&ebuf[i]);
    free(text);
    return 0;
}
