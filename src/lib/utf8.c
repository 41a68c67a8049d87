/* UTF-8 validation (Unicode Table 3-7, well-formed byte sequences). */
#include "utf8.h"

/* Bounds of the second byte for a given lead byte; later bytes are always 80..BF. */
static int lead_info(unsigned char c, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80, *hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c == 0xE0) {
        *lo = 0xA0;
        return 3;
    }
    if (c == 0xED) {
        *hi = 0x9F;
        return 3;
    }
    if (c >= 0xE1 && c <= 0xEF)
        return 3;
    if (c == 0xF0) {
        *lo = 0x90;
        return 4;
    }
    if (c == 0xF4) {
        *hi = 0x8F;
        return 4;
    }
    if (c >= 0xF1 && c <= 0xF3)
        return 4;
    return 0;
}

/* Number of leading bytes at p that form a valid prefix of a sequence (>= 1 always). */
static size_t valid_bytes(const unsigned char *p, size_t avail, int *complete)
{
    unsigned char lo, hi;
    int n = lead_info(p[0], &lo, &hi);
    *complete = 0;
    if (n == 0)
        return 1;
    size_t i = 1;
    for (; i < (size_t)n && i < avail; i++) {
        unsigned char b = p[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
            return i;
    }
    *complete = i == (size_t)n;
    return i;
}

size_t folio__utf8_valid_prefix(const unsigned char *p, size_t avail)
{
    int complete;
    size_t n = valid_bytes(p, avail, &complete);
    return complete ? n : 0;
}

size_t folio__utf8_invalid_len(const unsigned char *p, size_t avail)
{
    int complete;
    return valid_bytes(p, avail, &complete);
}

int folio__utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t n = folio__utf8_valid_prefix(p, (size_t)(end - p));
        if (n == 0)
            return 0;
        p += n;
    }
    return 1;
}
