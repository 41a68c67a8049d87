/* Unit tests for src/lib/json.c: the writer's output is parsed back with jansson (an
 * independent parser) and compared: nesting and commas, integer extremes, doubles that
 * read back exactly, escaping, UTF-8 repair (U+FFFD) and surrogate escapes, base64, the
 * size limit that makes the writer stuck, and an out-of-memory loop with leak counting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/alloc.h"
#include "folio/json.h"
#include "support_alloc.h"
#include "support_rand.h"

#define BIG (1u << 24)

struct doc {
    struct folio_buf buf;
    struct folio_json w;
};

static void doc_init(struct doc *d, size_t max)
{
    folio_buf_init(&d->buf, max);
    folio_json_init(&d->w, &d->buf);
}

static const char *doc_text(struct doc *d)
{
    assert_int_equal(folio_json_status(&d->w), FOLIO_OK);
    assert_non_null(d->buf.data);
    assert_int_equal(strlen(d->buf.data), d->buf.len);
    return d->buf.data;
}

/* Parse with jansson; fail the test (showing the text) if it is not valid JSON. */
static json_t *load(const char *text, size_t len)
{
    json_error_t e;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (j == NULL)
        fail_msg("jansson rejects the writer's output (%s at %d): %.*s", e.text, e.position,
                 (int)(len > 300 ? 300 : len), text);
    return j;
}

/* Decoded bytes of a one-string document. */
static json_t *load_string(struct doc *d)
{
    json_t *j = load(d->buf.data, d->buf.len);
    assert_true(json_is_string(j));
    return j;
}

/* --- structure ------------------------------------------------------------------------ */

static void test_nested_document_has_commas_exactly_between_siblings(void **state)
{
    (void)state;
    struct doc d;
    doc_init(&d, BIG);
    struct folio_json *w = &d.w;
    folio_json_object_begin(w);
    folio_json_key(w, "a");
    folio_json_int(w, 1);
    folio_json_key(w, "b");
    folio_json_array_begin(w);
    folio_json_int(w, 1);
    folio_json_int(w, 2);
    folio_json_object_begin(w);
    folio_json_key(w, "c");
    folio_json_null(w);
    folio_json_key(w, "d");
    folio_json_array_begin(w);
    folio_json_array_end(w);
    folio_json_object_end(w);
    folio_json_array_begin(w);
    folio_json_array_begin(w);
    folio_json_array_end(w);
    folio_json_array_end(w);
    folio_json_array_end(w);
    folio_json_key(w, "e");
    folio_json_object_begin(w);
    folio_json_object_end(w);
    folio_json_key(w, "f");
    folio_json_bool(w, true);
    folio_json_key(w, "g");
    folio_json_bool(w, false);
    folio_json_key(w, "h");
    folio_json_string(w, "s");
    folio_json_key(w, "i");
    folio_json_raw(w, "{\"pre\":[1]}", 11);
    folio_json_key(w, "j");
    folio_json_double(w, 1.5);
    folio_json_object_end(w);
    assert_string_equal(doc_text(&d), "{\"a\":1,\"b\":[1,2,{\"c\":null,\"d\":[]},[[]]],\"e\":{},"
                                      "\"f\":true,\"g\":false,\"h\":\"s\",\"i\":{\"pre\":[1]},"
                                      "\"j\":1.5}");
    json_t *got = load(d.buf.data, d.buf.len);
    json_t *want = json_loads("{\"a\":1,\"b\":[1,2,{\"c\":null,\"d\":[]},[[]]],\"e\":{},\"f\":true,"
                              "\"g\":false,\"h\":\"s\",\"i\":{\"pre\":[1]},\"j\":1.5}",
                              0, NULL);
    assert_non_null(want);
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
    folio_buf_clear(&d.buf);
}

static void test_keys_are_escaped_like_strings(void **state)
{
    (void)state;
    struct doc d;
    doc_init(&d, BIG);
    folio_json_object_begin(&d.w);
    folio_json_key(&d.w, "q\"uo\\te\n");
    folio_json_int(&d.w, 1);
    folio_json_keyn(&d.w, "n\x01ul", 4);
    folio_json_int(&d.w, 2);
    folio_json_keyn(&d.w, "bad\xff", 4);
    folio_json_int(&d.w, 3);
    folio_json_object_end(&d.w);
    json_t *j = load(doc_text(&d), d.buf.len);
    assert_int_equal(json_integer_value(json_object_get(j, "q\"uo\\te\n")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "n\x01ul")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "bad\xef\xbf\xbd")), 3);
    json_decref(j);
    folio_buf_clear(&d.buf);
}

static void test_nesting_to_the_maximum_depth_works_and_deeper_sticks(void **state)
{
    (void)state;
    struct doc d;
    doc_init(&d, BIG);
    int ok_depth = FOLIO_JSON_MAX_DEPTH - 1;
    for (int i = 0; i < ok_depth; i++) {
        if (i % 2) {
            assert_int_equal(folio_json_array_begin(&d.w), FOLIO_OK);
        } else {
            assert_int_equal(folio_json_object_begin(&d.w), FOLIO_OK);
            assert_int_equal(folio_json_key(&d.w, "k"), FOLIO_OK);
        }
    }
    assert_int_equal(folio_json_int(&d.w, 1), FOLIO_OK);
    for (int i = ok_depth - 1; i >= 0; i--)
        assert_int_equal(i % 2 ? folio_json_array_end(&d.w) : folio_json_object_end(&d.w),
                         FOLIO_OK);
    json_decref(load(doc_text(&d), d.buf.len));
    folio_buf_clear(&d.buf);

    doc_init(&d, BIG);
    for (int i = 0; i < ok_depth; i++)
        folio_json_array_begin(&d.w);
    assert_int_not_equal(folio_json_array_begin(&d.w), FOLIO_OK);
    folio_status stuck = folio_json_status(&d.w);
    assert_int_not_equal(stuck, FOLIO_OK);
    size_t len = d.buf.len;
    assert_int_equal(folio_json_int(&d.w, 1), stuck);
    assert_int_equal(d.buf.len, len);
    folio_buf_clear(&d.buf);
}

/* --- numbers -------------------------------------------------------------------------- */

static void test_int64_extremes_are_written_exactly(void **state)
{
    (void)state;
    const int64_t vals[] = {0, -1, 1, 9, 10, -10, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN,
                            INT64_MIN + 1, (int64_t)1 << 53, ((int64_t)1 << 53) + 1};
    const char *text[] = {"0", "-1", "1", "9", "10", "-10", "2147483647", "-2147483648",
                          "9223372036854775807", "-9223372036854775808",
                          "-9223372036854775807", "9007199254740992", "9007199254740993"};
    struct doc d;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        doc_init(&d, BIG);
        folio_json_int(&d.w, vals[i]);
        assert_string_equal(doc_text(&d), text[i]);
        json_t *j = load(d.buf.data, d.buf.len);
        assert_true(json_is_integer(j));
        assert_true(json_integer_value(j) == vals[i]);
        json_decref(j);
        folio_buf_clear(&d.buf);
    }
}

static void assert_double_reads_back(double v)
{
    struct doc d;
    doc_init(&d, BIG);
    folio_json_double(&d.w, v);
    const char *t = doc_text(&d);
    if (!isfinite(v)) {
        assert_string_equal(t, "null");
    } else {
        char *end;
        double back = strtod(t, &end);
        if (*end != '\0' || memcmp(&back, &v, sizeof v) != 0)
            fail_msg("%.17g was written as \"%s\", which reads back as %.17g", v, t, back);
        /* no more than 17 significant digits (leading zeros do not count) */
        int digits = 0;
        bool started = false;
        for (const char *p = t; *p && *p != 'e' && *p != 'E'; p++) {
            started |= *p >= '1' && *p <= '9';
            digits += started && *p >= '0' && *p <= '9';
        }
        if (digits > 17)
            fail_msg("%.17g written with %d significant digits: %s", v, digits, t);
    }
    json_decref(load(d.buf.data, d.buf.len)); /* a valid JSON value */
    folio_buf_clear(&d.buf);
}

static void test_doubles_read_back_exactly_and_non_finite_become_null(void **state)
{
    (void)state;
    const double fixed[] = {0.0, -0.0, 1.0, -1.0, 0.1, 1.5, 1e308, -1e308, 1.7976931348623157e308,
                            2.2250738585072014e-308, 5e-324, 1e21, 1e-7, 123456789012345680.0,
                            0.30000000000000004, 9007199254740993.0, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        assert_double_reads_back(fixed[i]);
    struct test_rng r = {1234};
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = test_rng_next(&r);
        double v;
        memcpy(&v, &bits, sizeof v);
        assert_double_reads_back(v);
    }
}

static void test_short_doubles_stay_short(void **state)
{
    (void)state;
    const struct {
        double v;
        const char *text;
    } cases[] = {{0.1, "0.1"}, {1.5, "1.5"}, {-0.0, "-0"}, {100, "100"}, {1e308, "1e+308"},
                 {0.30000000000000004, "0.30000000000000004"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct doc d;
        doc_init(&d, BIG);
        folio_json_double(&d.w, cases[i].v);
        assert_string_equal(doc_text(&d), cases[i].text);
        folio_buf_clear(&d.buf);
    }
}

/* --- strings -------------------------------------------------------------------------- */

static void test_control_characters_quotes_and_backslashes_round_trip(void **state)
{
    (void)state;
    char s[64];
    size_t n = 0;
    for (int c = 0; c < 0x20; c++)
        s[n++] = (char)c;
    s[n++] = '"';
    s[n++] = '\\';
    s[n++] = '/';
    s[n++] = 0x7f;
    s[n++] = 'x';
    struct doc d;
    doc_init(&d, BIG);
    folio_json_stringn(&d.w, s, n);
    const char *t = doc_text(&d);
    for (const char *p = t; *p; p++)
        assert_true((unsigned char)*p >= 0x20);
    json_t *j = load_string(&d);
    assert_int_equal(json_string_length(j), n);
    assert_memory_equal(json_string_value(j), s, n);
    json_decref(j);
    folio_buf_clear(&d.buf);

    /* the common ones use their short escapes */
    doc_init(&d, BIG);
    folio_json_string(&d.w, "\"\\\n\r\t\b\f\x01");
    assert_string_equal(doc_text(&d), "\"\\\"\\\\\\n\\r\\t\\b\\f\\u0001\"");
    folio_buf_clear(&d.buf);
}

static void test_valid_multibyte_utf8_is_kept_byte_for_byte(void **state)
{
    (void)state;
    const char *valid[] = {
        "caf\xc3\xa9",         /* U+00E9 */
        "\xc2\x80",            /* U+0080, smallest 2-byte */
        "\xdf\xbf",            /* U+07FF */
        "\xe0\xa0\x80",        /* U+0800, smallest 3-byte */
        "\xe2\x82\xac",        /* U+20AC euro */
        "\xed\x9f\xbf",        /* U+D7FF, just below the surrogates */
        "\xee\x80\x80",        /* U+E000, just above */
        "\xef\xbf\xbf",        /* U+FFFF */
        "\xef\xbf\xbd",        /* U+FFFD itself */
        "\xf0\x90\x80\x80",    /* U+10000 */
        "\xf0\x9f\x98\x80",    /* U+1F600 */
        "\xf4\x8f\xbf\xbf",    /* U+10FFFF, the largest */
        "mixed \xce\xb1\xce\xb2\xce\xb3 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x8e\x89!",
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        struct doc d;
        doc_init(&d, BIG);
        folio_json_string(&d.w, valid[i]);
        const char *t = doc_text(&d);
        assert_int_equal(d.buf.len, strlen(valid[i]) + 2);
        assert_memory_equal(t + 1, valid[i], strlen(valid[i]));
        json_t *j = load_string(&d);
        assert_string_equal(json_string_value(j), valid[i]);
        json_decref(j);
        folio_buf_clear(&d.buf);
    }
}

#define FFFD "\xef\xbf\xbd"

static void test_invalid_utf8_becomes_one_replacement_per_maximal_subpart(void **state)
{
    (void)state;
    const struct {
        const char *what, *in;
        size_t len;
        const char *want;
        size_t want_len; /* 0: strlen(want) */
    } cases[] = {
        {"lone continuation", "\x80", 1, FFFD, 0},
        {"continuation inside text", "a\x80z", 3, "a" FFFD "z", 0},
        {"two continuations", "\x80\xbf", 2, FFFD FFFD, 0},
        {"overlong C0 80", "\xc0\x80", 2, FFFD FFFD, 0},
        {"overlong C1 BF", "\xc1\xbf", 2, FFFD FFFD, 0},
        {"overlong E0 80 AF", "\xe0\x80\xaf", 3, FFFD FFFD FFFD, 0},
        {"overlong F0 80 80 80", "\xf0\x80\x80\x80", 4, FFFD FFFD FFFD FFFD, 0},
        {"surrogate ED A0 80", "\xed\xa0\x80", 3, FFFD FFFD FFFD, 0},
        {"surrogate ED BF BF", "\xed\xbf\xbf", 3, FFFD FFFD FFFD, 0},
        {"above U+10FFFF", "\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD, 0},
        {"truncated 2-byte at end", "a\xc3", 2, "a" FFFD, 0},
        {"truncated 3-byte at end", "a\xe2\x82", 3, "a" FFFD, 0},
        {"truncated 4-byte at end", "a\xf0\x9f\x98", 4, "a" FFFD, 0},
        {"truncated 3-byte before ASCII", "\xe2\x82z", 3, FFFD "z", 0},
        {"truncated 4-byte before a valid one", "\xf0\x9f\xc3\xa9", 4, FFFD "\xc3\xa9", 0},
        {"F5", "\xf5", 1, FFFD, 0},
        {"F8 88 80 80 80", "\xf8\x88\x80\x80\x80", 5, FFFD FFFD FFFD FFFD FFFD, 0},
        {"FE FF", "\xfe\xff", 2, FFFD FFFD, 0},
        {"NUL survives next to bad bytes", "\xff\0\xff", 3, FFFD "\0" FFFD, 7},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t want_len = cases[i].want_len ? cases[i].want_len : strlen(cases[i].want);
        struct doc d;
        doc_init(&d, BIG);
        folio_json_stringn(&d.w, cases[i].in, cases[i].len);
        json_t *j = load_string(&d);
        if (json_string_length(j) != want_len ||
            memcmp(json_string_value(j), cases[i].want, want_len) != 0)
            fail_msg("%s: written as %s", cases[i].what, d.buf.data);
        json_decref(j);
        folio_buf_clear(&d.buf);
    }
    /* every byte F5..FF on its own */
    for (unsigned b = 0xf5; b <= 0xff; b++) {
        char in[3] = {'<', (char)b, '>'};
        struct doc d;
        doc_init(&d, BIG);
        folio_json_stringn(&d.w, in, 3);
        json_t *j = load_string(&d);
        assert_string_equal(json_string_value(j), "<" FFFD ">");
        json_decref(j);
        folio_buf_clear(&d.buf);
    }
}

static void test_random_bytes_always_give_valid_json(void **state)
{
    (void)state;
    struct test_rng r = {42};
    char s[64];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)test_rng_below(&r, sizeof s);
        for (size_t i = 0; i < n; i++) {
            /* bias toward the interesting bytes */
            uint64_t x = test_rng_next(&r);
            s[i] = (char)(x % 3 == 0 ? 0x80 + (x >> 8) % 0x80 : x >> 16);
        }
        struct doc d;
        doc_init(&d, BIG);
        char key[sizeof s];
        for (size_t i = 0; i < n; i++)
            key[i] = s[i] ? s[i] : '\x01'; /* jansson cannot hold NUL in a key */
        folio_json_object_begin(&d.w);
        folio_json_keyn(&d.w, key, n);
        folio_json_stringn(&d.w, s, n);
        folio_json_object_end(&d.w);
        json_t *j = load(doc_text(&d), d.buf.len);
        assert_true(json_is_object(j));
        json_decref(j);
        folio_buf_clear(&d.buf);
    }
}

/* Decode the body of a JSON string written by folio_json_string_bytes, mapping \udcXX back
 * to byte XX (Python's "surrogateescape"). Returns the number of bytes. */
static size_t surrogateescape_decode(const char *t, size_t len, unsigned char *out)
{
    size_t n = 0;
    assert_true(len >= 2 && t[0] == '"' && t[len - 1] == '"');
    for (size_t i = 1; i < len - 1; i++) {
        if (t[i] != '\\') {
            out[n++] = (unsigned char)t[i];
            continue;
        }
        char e = t[++i];
        switch (e) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/': out[n++] = '/'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            char hex[5] = {t[i + 1], t[i + 2], t[i + 3], t[i + 4], 0};
            unsigned long u = strtoul(hex, NULL, 16);
            i += 4;
            if (u >= 0xdc80 && u <= 0xdcff)
                out[n++] = (unsigned char)(u - 0xdc00);
            else if (u < 0x20)
                out[n++] = (unsigned char)u;
            else
                fail_msg("unexpected escape \\u%s in %.*s", hex, (int)len, t);
            break;
        }
        default:
            fail_msg("unexpected escape \\%c", e);
        }
    }
    return n;
}

static void test_string_bytes_escapes_each_invalid_byte_as_a_lone_surrogate(void **state)
{
    (void)state;
    const struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"\xff", 1, "\"\\udcff\""},
        {"a\x80", 2, "\"a\\udc80\""},
        {"\xc0\x80", 2, "\"\\udcc0\\udc80\""},
        {"\xed\xa0\x80", 3, "\"\\udced\\udca0\\udc80\""},
        {"x\xe2\x82", 3, "\"x\\udce2\\udc82\""},
        {"caf\xc3\xa9", 5, "\"caf\xc3\xa9\""},
        {"\xc3\xa9\xff\xc3\xa9", 5, "\"\xc3\xa9\\udcff\xc3\xa9\""},
        {"tab\tquote\"", 10, "\"tab\\tquote\\\"\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct doc d;
        doc_init(&d, BIG);
        folio_json_string_bytes(&d.w, cases[i].in, cases[i].len);
        assert_string_equal(doc_text(&d), cases[i].want);
        folio_buf_clear(&d.buf);
    }
}

static void test_string_bytes_round_trips_arbitrary_bytes(void **state)
{
    (void)state;
    struct test_rng r = {77};
    unsigned char s[48], back[48 * 6];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)test_rng_below(&r, sizeof s);
        for (size_t i = 0; i < n; i++) {
            uint64_t x = test_rng_next(&r);
            s[i] = (unsigned char)(x % 4 == 0 ? 0x80 + (x >> 8) % 0x80 : x >> 16);
        }
        struct doc d;
        doc_init(&d, BIG);
        folio_json_string_bytes(&d.w, (const char *)s, n);
        const char *t = doc_text(&d);
        size_t m = surrogateescape_decode(t, d.buf.len, back);
        if (m != n || memcmp(back, s, n) != 0)
            fail_msg("bytes did not survive string_bytes: %s", t);
        folio_buf_clear(&d.buf);
    }
}

/* --- base64 --------------------------------------------------------------------------- */

static void test_base64_matches_rfc4648_vectors(void **state)
{
    (void)state;
    const struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"", 0, "\"\""},
        {"f", 1, "\"Zg==\""},
        {"fo", 2, "\"Zm8=\""},
        {"foo", 3, "\"Zm9v\""},
        {"foob", 4, "\"Zm9vYg==\""},
        {"fooba", 5, "\"Zm9vYmE=\""},
        {"foobar", 6, "\"Zm9vYmFy\""},
        {"\xff\xfe\xfd", 3, "\"//79\""},
        {"\xfb\xff", 2, "\"+/8=\""},
        {"\0\0\0", 3, "\"AAAA\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct doc d;
        doc_init(&d, BIG);
        folio_json_base64(&d.w, cases[i].in, cases[i].len);
        assert_string_equal(doc_text(&d), cases[i].want);
        folio_buf_clear(&d.buf);
    }
    /* and random inputs agree with libsodium's standard variant */
    struct test_rng r = {5};
    unsigned char in[100];
    char ref[200];
    for (int iter = 0; iter < 2000; iter++) {
        size_t n = (size_t)test_rng_below(&r, sizeof in);
        for (size_t k = 0; k < n; k++)
            in[k] = (unsigned char)test_rng_next(&r);
        sodium_bin2base64(ref, sizeof ref, in, n, sodium_base64_VARIANT_ORIGINAL);
        struct doc d;
        doc_init(&d, BIG);
        folio_json_base64(&d.w, in, n);
        const char *t = doc_text(&d);
        assert_int_equal(d.buf.len, strlen(ref) + 2);
        assert_memory_equal(t + 1, ref, strlen(ref));
        folio_buf_clear(&d.buf);
    }
}

/* --- limits and failures ------------------------------------------------------------- */

/* A document with every kind of value, many strings, long enough to grow the buffer a
 * few times. */
static folio_status write_doc(struct folio_json *w, int rows)
{
    folio_json_object_begin(w);
    folio_json_key(w, "data");
    folio_json_array_begin(w);
    for (int i = 0; i < rows; i++) {
        folio_json_object_begin(w);
        folio_json_key(w, "id");
        folio_json_int(w, i);
        folio_json_key(w, "name");
        folio_json_string(w, "Ren\xc3\xa9" "e \"quoted\" \\ \xff");
        folio_json_key(w, "score");
        folio_json_double(w, i / 7.0);
        folio_json_key(w, "raw");
        folio_json_string_bytes(w, "\x80z", 2);
        folio_json_key(w, "blob");
        folio_json_base64(w, "\x01\x02\x03\x04", 4);
        folio_json_key(w, "none");
        folio_json_null(w);
        folio_json_object_end(w);
    }
    folio_json_array_end(w);
    folio_json_key(w, "meta");
    folio_json_raw(w, "{\"ok\":true}", 11);
    return folio_json_object_end(w);
}

static void test_document_over_the_maximum_is_etoobig_and_the_writer_sticks(void **state)
{
    (void)state;
    struct doc full;
    doc_init(&full, BIG);
    assert_int_equal(write_doc(&full.w, 5), FOLIO_OK);
    size_t need = full.buf.len;

    for (size_t max = 0; max < need; max++) {
        struct doc d;
        doc_init(&d, max);
        folio_status st = write_doc(&d.w, 5);
        if (st != FOLIO_ETOOBIG)
            fail_msg("max %zu < %zu: got %s", max, need, folio_strerror(st));
        assert_int_equal(folio_json_status(&d.w), FOLIO_ETOOBIG);
        assert_true(d.buf.len <= max);
        /* stuck: later calls fail the same way and write nothing */
        size_t len = d.buf.len;
        assert_int_equal(folio_json_int(&d.w, 1), FOLIO_ETOOBIG);
        assert_int_equal(folio_json_string(&d.w, ""), FOLIO_ETOOBIG);
        assert_int_equal(folio_json_object_end(&d.w), FOLIO_ETOOBIG);
        assert_int_equal(d.buf.len, len);
        folio_buf_clear(&d.buf);
    }
    folio_buf_clear(&full.buf);
}

/* A document exactly as long as the maximum fits, whatever value comes last. */
static void test_document_exactly_at_the_maximum_fits(void **state)
{
    (void)state;
    char problems[1024] = "";
    const char *strs[] = {"", "abc", "a\"b", "\xff"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        struct doc d;
        doc_init(&d, BIG);
        folio_json_string(&d.w, strs[i]);
        size_t need = d.buf.len;
        char want[64];
        snprintf(want, sizeof want, "%s", doc_text(&d));
        folio_buf_clear(&d.buf);

        doc_init(&d, need);
        folio_status st = folio_json_string(&d.w, strs[i]);
        bool same = st == FOLIO_OK && strcmp(d.buf.data, want) == 0;
        folio_buf_clear(&d.buf);
        if (!same) {
            size_t used = strlen(problems);
            snprintf(problems + used, sizeof problems - used,
                     " [top-level string %s (%zu bytes) with maximum %zu: %s]", want, need,
                     need, folio_strerror(st));
        }
    }
    struct doc d;
    doc_init(&d, BIG);
    assert_int_equal(write_doc(&d.w, 5), FOLIO_OK);
    size_t need = d.buf.len;
    folio_buf_clear(&d.buf);
    doc_init(&d, need);
    folio_status st = write_doc(&d.w, 5);
    folio_buf_clear(&d.buf);
    if (st != FOLIO_OK) {
        size_t used = strlen(problems);
        snprintf(problems + used, sizeof problems - used,
                 " [object document of %zu bytes with maximum %zu: %s]", need, need,
                 folio_strerror(st));
    }

    /* folio_json_escape into a plain buffer of exactly the escaped length */
    struct folio_buf b;
    folio_buf_init(&b, 3);
    st = folio_json_escape(&b, "abc", 3);
    bool same = st == FOLIO_OK && strcmp(b.data, "abc") == 0;
    folio_buf_clear(&b);
    if (!same) {
        size_t used = strlen(problems);
        snprintf(problems + used, sizeof problems - used,
                 " [folio_json_escape of \"abc\" into a buffer with maximum 3: %s]",
                 folio_strerror(st));
    }
    if (problems[0] != '\0')
        fail_msg("output that exactly fits the maximum was refused:%s", problems);
}

/* The byte-at-a-time meaning of escaping ASCII text, for the check below. */
static void escape_reference(const unsigned char *s, size_t n, char *out)
{
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c >= 0x80) {
            memcpy(o, "\xef\xbf\xbd", 3); /* a lone byte: one U+FFFD */
            o += 3;
        } else if (c < 0x20) {
            const char *short_form = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t"
                                   : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
            if (short_form != NULL)
                o += sprintf(o, "%s", short_form);
            else
                o += sprintf(o, "\\u%04x", c);
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
}

/* The escaper skips plain text eight bytes at a time: a byte that needs escaping is found
 * at every offset of every word and next to every boundary of the word test (0x1f/0x20,
 * '!'/'"'/'#', '['/'\\'/']', 0x7f/0x80, 0xff). */
static void test_escaping_finds_every_special_byte_at_every_offset(void **state)
{
    (void)state;
    static const unsigned char specials[] = {0x00, 0x01, 0x08, 0x0a, 0x1f, '"', '\\', 0x80, 0xc3, 0xff};
    static const unsigned char plains[] = {0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 'a', '~'};
    unsigned char text[40];
    char want[40 * 6 + 1];
    for (size_t len = 1; len <= sizeof text; len++) {
        for (size_t at = 0; at < len; at++) {
            for (size_t k = 0; k < sizeof specials + sizeof plains; k++) {
                for (size_t i = 0; i < len; i++)
                    text[i] = plains[(i + len) % sizeof plains];
                text[at] = k < sizeof specials ? specials[k] : plains[k - sizeof specials];
                escape_reference(text, len, want);
                struct folio_buf b;
                folio_buf_init(&b, 4096);
                assert_int_equal(folio_json_escape(&b, (const char *)text, len), FOLIO_OK);
                if (strcmp(b.data, want) != 0)
                    fail_msg("length %zu, byte 0x%02x at %zu: got \"%s\", want \"%s\"", len,
                             text[at], at, b.data, want);
                folio_buf_clear(&b);
            }
        }
    }
}

/* buf.h: "The content is always NUL-terminated". Escaping nothing into a fresh buffer
 * must leave it either unallocated or holding "". */
static void test_escaping_empty_text_leaves_a_terminated_buffer(void **state)
{
    (void)state;
    test_alloc_install(0); /* fresh memory is junk-filled, so the check is deterministic */
    struct folio_buf b;
    folio_buf_init(&b, BIG);
    folio_status st = folio_json_escape(&b, "", 0);
    bool terminated = b.data == NULL || b.data[b.len] == '\0';
    size_t len = b.len;
    folio_buf_clear(&b);
    test_alloc_uninstall();
    assert_int_equal(st, FOLIO_OK);
    assert_int_equal(len, 0);
    if (!terminated)
        fail_msg("folio_json_escape(fresh buffer, \"\", 0) left data allocated but not "
                 "NUL-terminated");
}

static void test_allocation_failure_at_any_point_fails_cleanly_without_leaks(void **state)
{
    (void)state;
    struct doc ref;
    doc_init(&ref, BIG);
    assert_int_equal(write_doc(&ref.w, 200), FOLIO_OK);
    long n;
    for (n = 1; n < 1000; n++) {
        test_alloc_install(n);
        struct doc d;
        doc_init(&d, BIG);
        folio_status st = write_doc(&d.w, 200);
        bool failed = test_alloc_failed();
        if (failed) {
            if (st != FOLIO_ENOMEM || folio_json_status(&d.w) != FOLIO_ENOMEM)
                fail_msg("allocation %ld failed, status %s", n, folio_strerror(st));
            /* what was written so far is still a NUL-terminated prefix */
            if (d.buf.data != NULL) {
                assert_int_equal(strlen(d.buf.data), d.buf.len);
                assert_memory_equal(d.buf.data, ref.buf.data, d.buf.len);
            }
        } else {
            assert_int_equal(st, FOLIO_OK);
            assert_int_equal(d.buf.len, ref.buf.len);
            assert_memory_equal(d.buf.data, ref.buf.data, ref.buf.len);
        }
        folio_buf_clear(&d.buf);
        long live = test_alloc_live();
        test_alloc_uninstall();
        if (live != 0)
            fail_msg("allocation %ld failed: %ld blocks leaked", n, live);
        if (!failed)
            break;
    }
    assert_true(n > 3); /* the document needed several allocations */
    folio_buf_clear(&ref.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_document_has_commas_exactly_between_siblings),
        cmocka_unit_test(test_keys_are_escaped_like_strings),
        cmocka_unit_test(test_nesting_to_the_maximum_depth_works_and_deeper_sticks),
        cmocka_unit_test(test_int64_extremes_are_written_exactly),
        cmocka_unit_test(test_doubles_read_back_exactly_and_non_finite_become_null),
        cmocka_unit_test(test_short_doubles_stay_short),
        cmocka_unit_test(test_control_characters_quotes_and_backslashes_round_trip),
        cmocka_unit_test(test_valid_multibyte_utf8_is_kept_byte_for_byte),
        cmocka_unit_test(test_invalid_utf8_becomes_one_replacement_per_maximal_subpart),
        cmocka_unit_test(test_random_bytes_always_give_valid_json),
        cmocka_unit_test(test_string_bytes_escapes_each_invalid_byte_as_a_lone_surrogate),
        cmocka_unit_test(test_string_bytes_round_trips_arbitrary_bytes),
        cmocka_unit_test(test_base64_matches_rfc4648_vectors),
        cmocka_unit_test(test_document_over_the_maximum_is_etoobig_and_the_writer_sticks),
        cmocka_unit_test(test_document_exactly_at_the_maximum_fits),
        cmocka_unit_test(test_escaping_empty_text_leaves_a_terminated_buffer),
        cmocka_unit_test(test_escaping_finds_every_special_byte_at_every_offset),
        cmocka_unit_test(test_allocation_failure_at_any_point_fails_cleanly_without_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
