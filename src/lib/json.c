/* Streaming JSON writer: see folio/json.h. */
#include "folio/json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

void folio_json_init(struct folio_json *w, struct folio_buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

folio_status folio_json_status(const struct folio_json *w)
{
    return w->status;
}

static folio_status put(struct folio_json *w, const char *p, size_t n)
{
    /* The usual case inline: punctuation and short values into room already there. */
    struct folio_buf *b = w->out;
    if (w->status == FOLIO_OK && b->status == FOLIO_OK && b->data != NULL &&
        n < b->cap - b->len) {
        char *d = b->data + b->len;
        if (n == 1)
            *d = *p;
        else
            memcpy(d, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return FOLIO_OK;
    }
    if (w->status == FOLIO_OK)
        w->status = folio_buf_append(b, p, n);
    return w->status;
}

/* Called before every value: places the comma between siblings. */
static void before_value(struct folio_json *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth])
        put(w, ",", 1);
    w->need_comma[w->depth] = true;
}

static folio_status open_nested(struct folio_json *w, char c)
{
    before_value(w);
    if (w->depth + 1 >= FOLIO_JSON_MAX_DEPTH) {
        if (w->status == FOLIO_OK)
            w->status = FOLIO_ELIMIT;
        return w->status;
    }
    w->depth++;
    w->need_comma[w->depth] = false;
    return put(w, &c, 1);
}

static folio_status close_nested(struct folio_json *w, char c)
{
    if (w->depth > 0)
        w->depth--;
    return put(w, &c, 1);
}

folio_status folio_json_object_begin(struct folio_json *w) { return open_nested(w, '{'); }
folio_status folio_json_object_end(struct folio_json *w) { return close_nested(w, '}'); }
folio_status folio_json_array_begin(struct folio_json *w) { return open_nested(w, '['); }
folio_status folio_json_array_end(struct folio_json *w) { return close_nested(w, ']'); }

folio_status folio_json_keyn(struct folio_json *w, const char *key, size_t len)
{
    before_value(w);
    put(w, "\"", 1);
    if (w->status == FOLIO_OK)
        w->status = folio_json_escape(w->out, key, len);
    put(w, "\":", 2);
    w->after_key = true;
    return w->status;
}

folio_status folio_json_key_raw(struct folio_json *w, const char *text, size_t len)
{
    before_value(w);
    put(w, text, len);
    w->after_key = true;
    return w->status;
}

folio_status folio_json_key(struct folio_json *w, const char *key)
{
    return folio_json_keyn(w, key, strlen(key));
}

folio_status folio_json_null(struct folio_json *w)
{
    before_value(w);
    return put(w, "null", 4);
}

folio_status folio_json_bool(struct folio_json *w, bool v)
{
    before_value(w);
    return v ? put(w, "true", 4) : put(w, "false", 5);
}

folio_status folio_json_int(struct folio_json *w, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    /* Work in unsigned so INT64_MIN does not overflow. */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    before_value(w);
    return put(w, p, (size_t)(tmp + sizeof tmp - p));
}

folio_status folio_json_double(struct folio_json *w, double v)
{
    if (!isfinite(v))
        return folio_json_null(w);
    char tmp[32];
    int n = 0;
    /* The shortest of 15, 16 or 17 significant digits that reads back exactly. */
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    before_value(w);
    return put(w, tmp, (size_t)n);
}

static const char hex[] = "0123456789abcdef";

/* Bytes copied as they are: printable ASCII except '"' and '\\'. */
static const unsigned char plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0),
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20..0x2f, '"' = 0x22 */
    R16(1), R16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50..0x5f, '\\' = 0x5c */
    R16(1),
    R16(1),                                         /* 0x70..0x7f (DEL is legal in JSON) */
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
#undef R16
};

/* How many leading bytes of p[0..n) are plain, eight at a time: a word is skipped whole
 * when none of its bytes is below 0x20, '"', '\\' or 0x80 and above (the tests may flag
 * a plain byte after a flagged one, never miss one: the caller goes on byte by byte). */
static size_t plain_words(const unsigned char *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
        uint64_t flagged = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((bs - ones) & ~bs) | x;
        if (flagged & highs)
            break;
    }
    return i;
}

/* Escape `s` into `out`. With `surrogates`, bytes of invalid sequences become \udcXX;
 * without, each invalid sequence becomes one U+FFFD. */
static folio_status escape(struct folio_buf *out, const char *s, size_t len, bool surrogates)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    folio_status st = folio_buf_reserve(out, len);
    if (st != FOLIO_OK)
        return st;
    while (p < end) {
        const unsigned char *run = p;
        p += plain_words(p, (size_t)(end - p));
        while (p < end && plain[*p])
            p++;
        if (p > run && (st = folio_buf_append(out, run, (size_t)(p - run))) != FOLIO_OK)
            return st;
        if (p == end)
            break;
        unsigned char c = *p;
        if (c < 0x80) {
            char e[6] = {'\\', 0, 0, 0, 0, 0};
            size_t n = 2;
            switch (c) {
            case '"': e[1] = '"'; break;
            case '\\': e[1] = '\\'; break;
            case '\n': e[1] = 'n'; break;
            case '\r': e[1] = 'r'; break;
            case '\t': e[1] = 't'; break;
            case '\b': e[1] = 'b'; break;
            case '\f': e[1] = 'f'; break;
            default:
                e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hex[c >> 4], e[5] = hex[c & 15];
                n = 6;
            }
            if ((st = folio_buf_append(out, e, n)) != FOLIO_OK)
                return st;
            p++;
            continue;
        }
        size_t n = folio__utf8_valid_prefix(p, (size_t)(end - p));
        if (n > 0) {
            if ((st = folio_buf_append(out, p, n)) != FOLIO_OK)
                return st;
            p += n;
        } else if (surrogates) {
            char e[6] = {'\\', 'u', 'd', 'c', hex[c >> 4], hex[c & 15]};
            if ((st = folio_buf_append(out, e, 6)) != FOLIO_OK)
                return st;
            p++;
        } else {
            if ((st = folio_buf_append(out, "\xef\xbf\xbd", 3)) != FOLIO_OK)
                return st;
            p += folio__utf8_invalid_len(p, (size_t)(end - p));
        }
    }
    return FOLIO_OK;
}

folio_status folio_json_escape(struct folio_buf *out, const char *s, size_t len)
{
    return escape(out, s, len, false);
}

static folio_status string_value(struct folio_json *w, const char *s, size_t len, bool sur)
{
    before_value(w);
    put(w, "\"", 1);
    if (w->status == FOLIO_OK)
        w->status = escape(w->out, s, len, sur);
    return put(w, "\"", 1);
}

folio_status folio_json_stringn(struct folio_json *w, const char *s, size_t len)
{
    return string_value(w, s, len, false);
}

folio_status folio_json_string(struct folio_json *w, const char *s)
{
    return string_value(w, s, strlen(s), false);
}

folio_status folio_json_string_bytes(struct folio_json *w, const char *s, size_t len)
{
    return string_value(w, s, len, true);
}

folio_status folio_json_base64(struct folio_json *w, const void *p, size_t len)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = p;
    before_value(w);
    put(w, "\"", 1);
    if (w->status == FOLIO_OK)
        w->status = folio_buf_reserve(w->out, (len + 2) / 3 * 4 + 1);
    for (size_t i = 0; i < len && w->status == FOLIO_OK; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < len)
            v |= s[i + 2];
        char q[4] = {b64[v >> 18], b64[(v >> 12) & 63], i + 1 < len ? b64[(v >> 6) & 63] : '=',
                     i + 2 < len ? b64[v & 63] : '='};
        put(w, q, 4);
    }
    return put(w, "\"", 1);
}

folio_status folio_json_raw(struct folio_json *w, const char *text, size_t len)
{
    before_value(w);
    return put(w, text, len);
}
