/* UTF-8 validation helpers shared inside libfolio. */
#ifndef FOLIO_LIB_UTF8_H
#define FOLIO_LIB_UTF8_H

#include <stddef.h>

/* Length (2..4) of the valid multi-byte UTF-8 sequence at p (p[0] >= 0x80), or 0 when the
 * bytes there do not start a valid sequence (overlong, surrogate, > U+10FFFF, truncated). */
size_t folio__utf8_valid_prefix(const unsigned char *p, size_t avail);
/* Bytes to skip for one invalid sequence at p (the maximal subpart, at least 1), so that
 * each invalid sequence is replaced by exactly one U+FFFD as Unicode recommends. */
size_t folio__utf8_invalid_len(const unsigned char *p, size_t avail);
/* Non-zero when all `len` bytes are valid UTF-8. */
int folio__utf8_valid(const char *s, size_t len);

#endif
