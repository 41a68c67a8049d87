/* Fuzz target: the streaming JSON writer (src/lib/json.c). The input is a program of
 * writer calls (begin/end object or array, keys, null, bool, int, double, strings of any
 * bytes, base64); the harness builds the document it means as a jansson tree alongside.
 * Invariants (a violation traps):
 *  - the written text parses (jansson, strict) to exactly that tree: same structure, keys
 *    and values, integers exact, doubles read back bit-for-bit equal (NaN and infinities
 *    as null), strings equal to their bytes with each invalid UTF-8 sequence replaced by
 *    one U+FFFD (maximal subparts, computed here independently of src/lib/utf8.c);
 *  - folio_json_string_bytes round-trips any bytes through its \udcXX escapes;
 *  - nesting past FOLIO_JSON_MAX_DEPTH fails with FOLIO_ELIMIT and stays failed. */
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "folio/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
    const uint8_t *p;
    size_t n;
};

static unsigned next_byte(struct input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

/* A run of bytes: a length byte, then up to that many bytes. */
static const char *next_bytes(struct input *in, size_t *len)
{
    size_t want = next_byte(in);
    if (want > in->n)
        want = in->n;
    const char *s = (const char *)in->p;
    in->p += want;
    in->n -= want;
    *len = want;
    return s;
}

/* --- UTF-8, independently of src/lib/utf8.c: decode by bit arithmetic, then range checks */

static size_t seq_len(unsigned char c)
{
    if ((c & 0xE0) == 0xC0)
        return 2;
    if ((c & 0xF0) == 0xE0)
        return 3;
    if ((c & 0xF8) == 0xF0)
        return 4;
    return 0;
}

static int complete_ok(const unsigned char *p, size_t L)
{
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    uint32_t cp = p[0] & (0x7F >> L);
    for (size_t i = 1; i < L; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    return cp >= min_cp[L] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

/* Can the m bytes at p be continued into a valid sequence of length L? Only the second
 * byte is ever constrained beyond 80..BF, so padding with 0x80 decides it. */
static int extendable(const unsigned char *p, size_t m, size_t L)
{
    unsigned char t[4];
    memcpy(t, p, m);
    for (size_t i = m; i < L; i++)
        t[i] = 0x80;
    return complete_ok(t, L);
}

/* `s` with every invalid sequence (maximal subpart) replaced by U+FFFD. */
static char *replace_invalid(const char *s, size_t len, size_t *out_len)
{
    char *o = malloc(len * 3 + 1);
    if (o == NULL)
        __builtin_trap();
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            o[n++] = (char)p[i++];
            continue;
        }
        size_t L = seq_len(p[i]);
        if (L && i + L <= len && complete_ok(p + i, L)) {
            memcpy(o + n, p + i, L);
            n += L, i += L;
            continue;
        }
        size_t m = 1;
        for (size_t k = 2; L && k < L && i + k <= len; k++)
            if (extendable(p + i, k, L))
                m = k;
        memcpy(o + n, "\xEF\xBF\xBD", 3);
        n += 3, i += m;
    }
    o[n] = '\0';
    *out_len = n;
    return o;
}

/* --- the document as meant ----------------------------------------------------------- */

static int same(const json_t *want, const json_t *got)
{
    if (json_is_real(want))
        return json_is_number(got) && json_number_value(got) == json_real_value(want);
    if (json_typeof(want) != json_typeof(got))
        return 0;
    switch (json_typeof(want)) {
    case JSON_INTEGER: return json_integer_value(want) == json_integer_value(got);
    case JSON_STRING:
        return json_string_length(want) == json_string_length(got) &&
               memcmp(json_string_value(want), json_string_value(got), json_string_length(want)) ==
                   0;
    case JSON_ARRAY:
        if (json_array_size(want) != json_array_size(got))
            return 0;
        for (size_t i = 0; i < json_array_size(want); i++)
            if (!same(json_array_get(want, i), json_array_get(got, i)))
                return 0;
        return 1;
    case JSON_OBJECT: {
        if (json_object_size(want) != json_object_size(got))
            return 0;
        for (void *it = json_object_iter((json_t *)want); it;
             it = json_object_iter_next((json_t *)want, it)) {
            const json_t *g =
                json_object_getn(got, json_object_iter_key(it), json_object_iter_key_len(it));
            if (g == NULL || !same(json_object_iter_value(it), g))
                return 0;
        }
        return 1;
    }
    default: return 1; /* true, false, null */
    }
}

/* Decode a folio_json_string_bytes string (quotes included) back into bytes. */
static void check_string_bytes(const char *s, size_t len)
{
    struct folio_buf b;
    folio_buf_init(&b, 1 << 20);
    struct folio_json w;
    folio_json_init(&w, &b);
    if (folio_json_string_bytes(&w, s, len) != FOLIO_OK || b.len < 2 || b.data[0] != '"' ||
        b.data[b.len - 1] != '"')
        __builtin_trap();
    const unsigned char *p = (const unsigned char *)b.data + 1, *end = p + b.len - 2;
    size_t i = 0;
    while (p < end) {
        unsigned char c;
        if (*p == '\\') {
            if (end - p < 2)
                __builtin_trap();
            switch (p[1]) {
            case '"':
            case '\\':
                c = p[1];
                p += 2;
                break;
            case 'n':
                c = '\n';
                p += 2;
                break;
            case 'r':
                c = '\r';
                p += 2;
                break;
            case 't':
                c = '\t';
                p += 2;
                break;
            case 'b':
                c = '\b';
                p += 2;
                break;
            case 'f':
                c = '\f';
                p += 2;
                break;
            case 'u': {
                if (end - p < 6)
                    __builtin_trap();
                char hex[5] = {(char)p[2], (char)p[3], (char)p[4], (char)p[5], 0};
                unsigned long u = strtoul(hex, NULL, 16);
                /* only control characters and escaped lone bytes >= 0x80 */
                if (!(u < 0x20 || (u >= 0xDC80 && u <= 0xDCFF)))
                    __builtin_trap();
                c = (unsigned char)(u & 0xFF);
                p += 6;
                break;
            }
            default: __builtin_trap();
            }
            if (i >= len || (unsigned char)s[i] != c)
                __builtin_trap();
            i++;
            continue;
        }
        if (*p < 0x20 || *p == '"')
            __builtin_trap(); /* must have been escaped */
        size_t L = *p < 0x80 ? 1 : seq_len(*p);
        if (L == 0 || p + L > end || (L > 1 && !complete_ok(p, L)) || i + L > len ||
            memcmp(s + i, p, L) != 0)
            __builtin_trap(); /* raw bytes are valid UTF-8, and the input's own */
        p += L, i += L;
    }
    if (i != len)
        __builtin_trap();
    folio_buf_clear(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    struct folio_buf out;
    folio_buf_init(&out, 1 << 22);
    struct folio_json w;
    folio_json_init(&w, &out);

    json_t *root = json_array();
    json_t *stack[64];
    int depth = 0;
    stack[0] = root;
    bool limited = false;
    folio_json_array_begin(&w);

    while (in.n > 0 && !limited) {
        unsigned op = next_byte(&in) % 11;
        json_t *top = stack[depth];
        if (op == 2) { /* end */
            if (depth == 0)
                continue;
            if (json_is_object(top))
                folio_json_object_end(&w);
            else
                folio_json_array_end(&w);
            depth--;
            continue;
        }
        char *key = NULL;
        size_t key_len = 0;
        if (json_is_object(top)) {
            size_t kl;
            const char *raw = next_bytes(&in, &kl);
            /* jansson cannot parse a NUL in a key (values may hold one): spell it '0'. */
            char k[256];
            for (size_t i = 0; i < kl; i++)
                k[i] = raw[i] ? raw[i] : '0';
            folio_json_keyn(&w, k, kl);
            key = replace_invalid(k, kl, &key_len);
        }
        json_t *v = NULL;
        switch (op) {
        case 0:
        case 1:
            /* depth + 1 open containers, plus the root array */
            if (depth + 2 >= FOLIO_JSON_MAX_DEPTH) {
                folio_status st = op ? folio_json_array_begin(&w) : folio_json_object_begin(&w);
                if (st != FOLIO_ELIMIT || folio_json_null(&w) != FOLIO_ELIMIT ||
                    folio_json_status(&w) != FOLIO_ELIMIT)
                    __builtin_trap();
                limited = true;
                break;
            }
            v = op ? json_array() : json_object();
            if (op)
                folio_json_array_begin(&w);
            else
                folio_json_object_begin(&w);
            break;
        case 3:
            v = json_null();
            folio_json_null(&w);
            break;
        case 4: {
            bool b = next_byte(&in) & 1;
            v = json_boolean(b);
            folio_json_bool(&w, b);
            break;
        }
        case 5:
        case 6: {
            uint64_t bits = 0;
            for (int i = 0; i < 8; i++)
                bits = bits << 8 | next_byte(&in);
            if (op == 5) {
                int64_t i64 = (int64_t)bits;
                v = json_integer(i64);
                folio_json_int(&w, i64);
            } else {
                double d;
                memcpy(&d, &bits, sizeof d);
                v = isfinite(d) ? json_real(d) : json_null();
                folio_json_double(&w, d);
            }
            break;
        }
        case 7:
        case 8: {
            size_t len, rlen;
            const char *s = next_bytes(&in, &len);
            char *r = replace_invalid(s, len, &rlen);
            v = json_stringn_nocheck(r, rlen);
            free(r);
            folio_json_stringn(&w, s, len);
            if (op == 8)
                check_string_bytes(s, len);
            break;
        }
        default: { /* 9, 10 */
            size_t len;
            const char *s = next_bytes(&in, &len);
            char b64[400];
            sodium_bin2base64(b64, sizeof b64, (const unsigned char *)s, len,
                              sodium_base64_VARIANT_ORIGINAL);
            v = json_string(b64);
            folio_json_base64(&w, s, len);
        }
        }
        if (v != NULL) {
            if (key)
                json_object_setn_new_nocheck(top, key, key_len, v);
            else
                json_array_append_new(top, v);
            if (json_is_object(v) || json_is_array(v))
                stack[++depth] = v;
        }
        free(key);
    }
    if (!limited) {
        while (depth-- > 0)
            if (json_is_object(stack[depth + 1]))
                folio_json_object_end(&w);
            else
                folio_json_array_end(&w);
        folio_json_array_end(&w);
        if (folio_json_status(&w) != FOLIO_OK)
            __builtin_trap();
        json_error_t e;
        json_t *got = json_loadb(out.data, out.len, JSON_ALLOW_NUL, &e);
        if (got == NULL || !same(root, got))
            __builtin_trap();
        json_decref(got);
    }
    json_decref(root);
    folio_buf_clear(&out);
    return 0;
}
