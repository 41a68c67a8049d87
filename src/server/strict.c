/* Strict HTTP/1.1 header checks, run before any handler (see strict.h).
 *
 * What libmicrohttpd 0.9.75 does with a header section, and so what is left to folio
 * (docs/http.md has the table, tests/http/test_32_smuggling.py the evidence):
 * - it ends a line at CRLF or at a bare LF, and puts NULs over them; a bare CR stays
 *   inside the line, so it shows up here as a CR in a name or value;
 * - it puts a NUL over each field's colon, skips the spaces after it, and keeps a name
 *   with whitespace before the colon ("Host :" becomes the name "Host ");
 * - a NUL byte cuts the value short where it stands, and the rest of the line is lost;
 * - obsolete line folding is glued onto a copy of the field line elsewhere in its memory;
 * - it frames the body by the first Transfer-Encoding line (chunked only when its whole
 *   value is "chunked", otherwise it reads to the end of the connection), else by the
 *   first Content-Length line, and ignores any other.
 * The last three are invisible in the parsed values alone, so the field lines are also
 * checked against the raw bytes: each must start right where the previous line ended. */
#include "server/strict.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

struct scan {
    const char *prev_end; /* where the previous line's text ended in the read buffer */
    const char *end;      /* end of the header section (blank line included) */
    unsigned host, content_length, transfer_encoding;
    bool chunked, has_body;
    const char *why;
};

/* RFC 9110 section 5.6.2: a field name is a token. */
static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Whether [from, to) holds between `min` and `max` bytes, all of them NUL: the CRLF or
 * LF line ends libmicrohttpd overwrote. */
static bool only_line_ends(const char *from, const char *to, size_t min, size_t max)
{
    if (to < from || (size_t)(to - from) < min || (size_t)(to - from) > max)
        return false;
    for (const char *p = from; p < to; p++)
        if (*p != '\0')
            return false;
    return true;
}

static bool digits(const char *v, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return false;
    return true;
}

static const char *check_line(struct scan *s, const char *key, size_t klen, const char *value,
                              size_t vlen)
{
    /* The line must follow the previous one directly: otherwise it was folded, or a NUL
     * byte ended a value early and the rest of its line was dropped. */
    if (!only_line_ends(s->prev_end, key, 1, 2))
        return "a header line is malformed (obsolete line folding, or a NUL byte)";
    if (klen == 0)
        return "a header line has an empty name";
    for (size_t i = 0; i < klen; i++)
        if (!is_tchar((unsigned char)key[i]))
            return "a header name holds whitespace (before the colon), a control character "
                   "or a character not allowed in a name";
    if (value == NULL || value < key + klen + 1 || value > s->end)
        return "a header line is malformed (obsolete line folding, or a NUL byte)";
    for (const char *p = key + klen + 1; p < value; p++)
        if (*p != ' ' && *p != '\t')
            return "a header line is malformed (obsolete line folding, or a NUL byte)";
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return "a header value holds a control character (a bare CR, for instance)";
    }
    s->prev_end = value + vlen;
    return NULL;
}

static void count_framing(struct scan *s, const char *key, const char *value, size_t vlen)
{
    if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
        s->host++;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        s->content_length++;
        if (!digits(value, vlen))
            s->why = "the Content-Length header is not a number";
        else if (strspn(value, "0") != vlen)
            s->has_body = true;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        s->transfer_encoding++;
        s->chunked = strcasecmp(value, "chunked") == 0;
        s->has_body = true;
    }
}

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    struct scan *s = cls;
    s->why = check_line(s, key, key_size, value, value_size);
    if (s->why == NULL)
        count_framing(s, key, value, value_size);
    return s->why == NULL ? MHD_YES : MHD_NO;
}

const char *folio__strict_check(struct MHD_Connection *conn, const char *method,
                               const char *version)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (ci == NULL || method == NULL || version == NULL)
        return "the request cannot be read";
    struct scan s = {0};
    s.prev_end = version + strlen(version);
    s.end = method + ci->header_size;
    if (s.prev_end >= s.end)
        return "the request cannot be read";
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, on_field, &s);
    if (s.why != NULL)
        return s.why;
    /* The last line's end, then the blank line's: each CRLF or LF. */
    if (!only_line_ends(s.prev_end, s.end, 2, 4))
        return "a header line is malformed (obsolete line folding, or a NUL byte)";
    bool http11 = strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
    if (http11 && s.host == 0)
        return "an HTTP/1.1 request must have a Host header";
    if (s.host > 1)
        return "the request has more than one Host header";
    if (s.content_length > 1)
        return "the request has more than one Content-Length header";
    if (s.transfer_encoding > 0 && s.content_length > 0)
        return "the request has both Transfer-Encoding and Content-Length";
    if (s.transfer_encoding > 1 || (s.transfer_encoding == 1 && !s.chunked))
        return "the only Transfer-Encoding accepted is a single \"chunked\"";
    if (s.transfer_encoding > 0 && !http11)
        return "Transfer-Encoding is not defined for HTTP/1.0";
    /* folio's GET, HEAD and OPTIONS take no body: one sent anyway is refused rather than
     * read and dropped, so that no proxy can take it for the next request. */
    if (s.has_body && (strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
                       strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ||
                       strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0))
        return "a GET, HEAD or OPTIONS request must not have a body";
    return NULL;
}
