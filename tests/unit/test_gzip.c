/* src/server/gzip.c: which Accept-Encoding values accept gzip (RFC 9110 section 12.5.3:
 * q=0 means "not acceptable", "*" matches a coding not named), and that what it writes,
 * whole or streamed, inflates back to the input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <zlib.h>

#include "server/gzip.h"

static void test_accept_encoding_q_values_and_wildcard(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        bool want;
    } cases[] = {
        {"gzip", true},          {"GZip", true},           {"x-gzip", true},
        {"deflate, gzip", true}, {"gzip;q=0.001", true},   {"gzip; q=1", true},
        {"*", true},             {"br;q=1, *;q=0.1", true}, {"identity;q=0, gzip", true},
        {NULL, false},           {"", false},              {"gzip;q=0", false},
        {"gzip;q=0.0", false},   {"gzip;Q=0", false},      {"*;q=0", false},
        {"identity", false},     {"gzip;q=0, *", false},   {"gzipper", false},
        {"br", false},           {"gzip;q=junk", false},   {",,, ,", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (folio__gzip_accepted(cases[i].v) != cases[i].want)
            fail_msg("Accept-Encoding: %s -> %d", cases[i].v ? cases[i].v : "(none)",
                     !cases[i].want);
}

static size_t inflate_all(const struct folio_buf *in, char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)in->data;
    z.avail_in = (uInt)in->len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = cap - z.avail_out;
    inflateEnd(&z);
    return n;
}

static void test_whole_and_streamed_bodies_inflate_to_the_input(void **state)
{
    (void)state;
    static char text[200000], back[200000];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (char)("{\"id\":1,\"name\":\"abc\"}\n"[i % 22] + (i % 1000 == 0));
    struct folio_buf b;
    folio_buf_init(&b, 1 << 20);
    assert_int_equal(folio__gzip_buf(&b, text, sizeof text), FOLIO_OK);
    assert_true(b.len < sizeof text / 4);
    assert_int_equal(inflate_all(&b, back, sizeof back), sizeof text);
    assert_memory_equal(back, text, sizeof text);

    struct folio_gzip g;
    assert_int_equal(folio__gzip_init(&g), FOLIO_OK);
    folio_buf_reset(&b);
    for (size_t off = 0; off < sizeof text; off += 7000) {
        size_t n = sizeof text - off < 7000 ? sizeof text - off : 7000;
        assert_int_equal(folio__gzip_write(&g, text + off, n, false, &b), FOLIO_OK);
    }
    assert_int_equal(folio__gzip_write(&g, NULL, 0, true, &b), FOLIO_OK);
    folio__gzip_clear(&g);
    assert_int_equal(inflate_all(&b, back, sizeof back), sizeof text);
    assert_memory_equal(back, text, sizeof text);

    struct folio_buf small; /* a maximum too small fails, and stays failed */
    folio_buf_init(&small, 64);
    assert_int_not_equal(folio__gzip_buf(&small, text, sizeof text), FOLIO_OK);
    folio_buf_clear(&small);
    folio_buf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_encoding_q_values_and_wildcard),
        cmocka_unit_test(test_whole_and_streamed_bodies_inflate_to_the_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
