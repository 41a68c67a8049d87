/* Unit tests for src/lib/link.c: RFC 8288 Link header text, skipped absent links, URLs
 * that could break the header (or smuggle another one) refused, and percent-encoding of
 * query components: every byte, a decode round trip, and limits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "folio/alloc.h"
#include "folio/link.h"
#include "support_alloc.h"
#include "support_rand.h"

#define BIG (1u << 20)

static char *header(const struct folio_link *links, size_t n, folio_status *out_st)
{
    struct folio_buf b;
    folio_buf_init(&b, BIG);
    *out_st = folio_link_header_write(&b, links, n);
    if (b.data == NULL)
        assert_int_equal(folio_buf_puts(&b, ""), FOLIO_OK);
    return folio_buf_detach(&b, NULL);
}

/* --- folio_link_header_write ------------------------------------------------------------ */

static void test_links_are_written_as_rfc8288_list(void **state)
{
    (void)state;
    const struct folio_link links[] = {
        {"next", "/api/users?per_page=5&after=AQEAAN_ZDM7j"},
        {"prev", "/api/users?per_page=5&before=AQEAAN-ZDM7j"},
    };
    folio_status st;
    char *h = header(links, 2, &st);
    assert_int_equal(st, FOLIO_OK);
    assert_string_equal(h, "</api/users?per_page=5&after=AQEAAN_ZDM7j>; rel=\"next\", "
                           "</api/users?per_page=5&before=AQEAAN-ZDM7j>; rel=\"prev\"");
    folio_free(h);

    h = header(links, 1, &st);
    assert_int_equal(st, FOLIO_OK);
    assert_string_equal(h, "</api/users?per_page=5&after=AQEAAN_ZDM7j>; rel=\"next\"");
    folio_free(h);
}

static void test_absent_links_are_skipped_without_stray_commas(void **state)
{
    (void)state;
    const struct folio_link links[] = {
        {"self", NULL}, {"first", "/a?page=1"}, {"next", NULL}, {"prev", NULL}, {"last", "/a?page=9"},
        {"x", NULL},
    };
    folio_status st;
    char *h = header(links, 6, &st);
    assert_int_equal(st, FOLIO_OK);
    assert_string_equal(h, "</a?page=1>; rel=\"first\", </a?page=9>; rel=\"last\"");
    folio_free(h);

    h = header(links, 1, &st); /* only an absent link */
    assert_int_equal(st, FOLIO_OK);
    assert_string_equal(h, "");
    folio_free(h);

    h = header(links, 0, &st);
    assert_int_equal(st, FOLIO_OK);
    assert_string_equal(h, "");
    folio_free(h);
}

static void test_header_is_appended_after_existing_content(void **state)
{
    (void)state;
    struct folio_buf b;
    folio_buf_init(&b, BIG);
    assert_int_equal(folio_buf_puts(&b, "Link: "), FOLIO_OK);
    const struct folio_link l = {"next", "/n"};
    assert_int_equal(folio_link_header_write(&b, &l, 1), FOLIO_OK);
    assert_string_equal(b.data, "Link: </n>; rel=\"next\"");
    folio_buf_clear(&b);
}

static void test_urls_that_could_break_the_header_are_einval(void **state)
{
    (void)state;
    const char *bad[] = {
        "/a?x=<", "/a?x=>", "/a>; rel=\"evil\", </b", "/a b", " /a", "/a ", "/a\tb",
        "/a\r\nSet-Cookie: x=1", "/a\nb", "/a\rb", "/a\x01", "/a\x1f", "/a\x7f", "<", ">",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int pos = 0; pos < 2; pos++) {
            /* the bad URL alone, and after a good one */
            const struct folio_link links[] = {{"next", "/ok"}, {"prev", bad[i]}};
            folio_status st;
            char *h = header(pos ? links : links + 1, pos ? 2 : 1, &st);
            if (st != FOLIO_EINVAL)
                fail_msg("URL \"%s\" gave %s, want invalid argument (header: %s)", bad[i],
                         folio_strerror(st), h);
            assert_null(strstr(h, "rel=\"prev\"")); /* the bad link was not written */
            folio_free(h);
        }
    }
}

static void test_header_respects_the_buffer_maximum_and_allocation_failures(void **state)
{
    (void)state;
    const struct folio_link links[] = {{"next", "/api/t?after=abc"}, {"prev", "/api/t?before=d"}};
    folio_status st;
    char *full = header(links, 2, &st);
    assert_int_equal(st, FOLIO_OK);
    size_t need = strlen(full);
    for (size_t max = 0; max < need; max++) {
        struct folio_buf b;
        folio_buf_init(&b, max);
        assert_int_equal(folio_link_header_write(&b, links, 2), FOLIO_ETOOBIG);
        assert_true(b.len <= max);
        folio_buf_clear(&b);
    }
    struct folio_buf b;
    folio_buf_init(&b, need);
    assert_int_equal(folio_link_header_write(&b, links, 2), FOLIO_OK);
    assert_string_equal(b.data, full);
    folio_buf_clear(&b);

    test_alloc_install(1);
    folio_buf_init(&b, BIG);
    st = folio_link_header_write(&b, links, 2);
    folio_buf_clear(&b);
    long live = test_alloc_live();
    bool failed = test_alloc_failed();
    test_alloc_uninstall();
    assert_true(failed);
    assert_int_equal(st, FOLIO_ENOMEM);
    assert_int_equal(live, 0);
    folio_free(full);
}

/* A write that fails part-way (the buffer's maximum reached after the first link) leaves
 * the buffer exactly as it was: no header cut short after "<" or mid-URL. */
static void test_a_failed_write_leaves_the_buffer_as_it_was(void **state)
{
    (void)state;
    const struct folio_link links[] = {{"first", "/api/t?per_page=5"}, {"next", "/api/t?after=abc"},
                                       {"last", "/api/t?page=9"}};
    folio_status st;
    char *full = header(links, 3, &st);
    assert_int_equal(st, FOLIO_OK);
    for (size_t max = 3; max < strlen(full) + 3; max++) {
        struct folio_buf b;
        folio_buf_init(&b, max);
        assert_int_equal(folio_buf_puts(&b, "ab;"), FOLIO_OK);
        st = folio_link_header_write(&b, links, 3);
        assert_int_equal(st, FOLIO_ETOOBIG);
        assert_int_equal(b.len, 3);
        assert_string_equal(b.data, "ab;");
        assert_int_equal(folio_buf_status(&b), FOLIO_ETOOBIG); /* and it stays failed */
        folio_buf_clear(&b);
    }
    folio_free(full);
}

/* --- folio_url_encode ------------------------------------------------------------------- */

/* The encoded text as a new string (by length: termination has its own test). */
static char *encode(const char *s, size_t len)
{
    struct folio_buf b;
    folio_buf_init(&b, BIG);
    assert_int_equal(folio_url_encode(&b, s, len), FOLIO_OK);
    char *copy = folio_strndup(b.data != NULL ? b.data : "", b.len);
    folio_buf_clear(&b);
    return copy;
}

/* buf.h: "The content is always NUL-terminated". Encoding nothing into a fresh buffer
 * must leave it either unallocated or holding "". */
static void test_url_encode_of_empty_text_leaves_a_terminated_buffer(void **state)
{
    (void)state;
    test_alloc_install(0); /* fresh memory is junk-filled, so the check is deterministic */
    struct folio_buf b;
    folio_buf_init(&b, BIG);
    folio_status st = folio_url_encode(&b, "", 0);
    bool terminated = b.data == NULL || b.data[b.len] == '\0';
    size_t len = b.len;
    folio_buf_clear(&b);
    test_alloc_uninstall();
    assert_int_equal(st, FOLIO_OK);
    assert_int_equal(len, 0);
    if (!terminated)
        fail_msg("folio_url_encode(fresh buffer, \"\", 0) left data allocated but not "
                 "NUL-terminated");
}

static bool unreserved_or_comma(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~' || c == ',';
}

static void test_url_encode_keeps_unreserved_and_comma_and_escapes_every_other_byte(void **state)
{
    (void)state;
    for (unsigned c = 0; c < 256; c++) {
        char in = (char)c;
        char *out = encode(&in, 1);
        char want[4];
        if (unreserved_or_comma((unsigned char)c))
            snprintf(want, sizeof want, "%c", c);
        else
            snprintf(want, sizeof want, "%%%02X", c); /* uppercase hex, RFC 3986 2.1 */
        if (strcmp(out, want) != 0)
            fail_msg("byte 0x%02x encoded as \"%s\", want \"%s\"", c, out, want);
        folio_free(out);
    }
}

static void test_url_encode_of_reserved_and_unicode_text(void **state)
{
    (void)state;
    const struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},
        {"-created_at,id", "-created_at,id"},
        {"a b", "a%20b"},
        {"a+b", "a%2Bb"},
        {"a&b=c", "a%26b%3Dc"},
        {"/?#[]@", "%2F%3F%23%5B%5D%40"},
        {"!$'()*;:", "%21%24%27%28%29%2A%3B%3A"},
        {"100%", "100%25"},
        {"<tag>\"q\"", "%3Ctag%3E%22q%22"},
        {"caf\xc3\xa9", "caf%C3%A9"},
        {"\xe2\x82\xac", "%E2%82%AC"},
        {"\xf0\x9f\x98\x80", "%F0%9F%98%80"},
        {"\xff\xfe", "%FF%FE"},
        {"~._-", "~._-"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = encode(cases[i].in, strlen(cases[i].in));
        assert_string_equal(out, cases[i].want);
        folio_free(out);
    }
    /* NUL bytes are data too when a length is given */
    char *out = encode("a\0b", 3);
    assert_string_equal(out, "a%00b");
    folio_free(out);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1; /* lowercase is not what the encoder writes */
}

/* Percent-decoding the output gives the input back, and the output is always a URL the
 * Link header writer accepts. */
static void test_url_encoded_text_decodes_back_and_is_accepted_in_links(void **state)
{
    (void)state;
    struct test_rng r = {3};
    unsigned char in[40], back[40];
    for (int iter = 0; iter < 5000; iter++) {
        size_t n = (size_t)test_rng_below(&r, sizeof in);
        for (size_t i = 0; i < n; i++)
            in[i] = (unsigned char)test_rng_next(&r);
        char *out = encode((const char *)in, n);
        size_t m = 0;
        for (const char *p = out; *p; p++) {
            if (*p == '%') {
                int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
                if (hi < 0 || lo < 0)
                    fail_msg("bad escape in \"%s\"", out);
                back[m++] = (unsigned char)(hi * 16 + lo);
                p += 2;
            } else {
                assert_true(unreserved_or_comma((unsigned char)*p));
                back[m++] = (unsigned char)*p;
            }
            assert_true(m <= n);
        }
        assert_int_equal(m, n);
        assert_memory_equal(back, in, n);

        char url[200];
        snprintf(url, sizeof url, "/api/t?after=%s", out);
        const struct folio_link l = {"next", url};
        folio_status st;
        char *h = header(&l, 1, &st);
        assert_int_equal(st, FOLIO_OK);
        folio_free(h);
        folio_free(out);
    }
}

static void test_url_encode_appends_and_respects_the_maximum(void **state)
{
    (void)state;
    struct folio_buf b;
    folio_buf_init(&b, BIG);
    assert_int_equal(folio_buf_puts(&b, "?sort="), FOLIO_OK);
    assert_int_equal(folio_url_encode(&b, "-a b", 4), FOLIO_OK);
    assert_string_equal(b.data, "?sort=-a%20b");
    folio_buf_clear(&b);

    const char *in = "a b<c>";
    const char *want = "a%20b%3Cc%3E";
    size_t need = strlen(want);
    for (size_t max = 0; max < need; max++) {
        folio_buf_init(&b, max);
        assert_int_equal(folio_url_encode(&b, in, strlen(in)), FOLIO_ETOOBIG);
        assert_true(b.len <= max);
        folio_buf_clear(&b);
    }
    folio_buf_init(&b, need);
    assert_int_equal(folio_url_encode(&b, in, strlen(in)), FOLIO_OK);
    assert_string_equal(b.data, want);
    folio_buf_clear(&b);
}

/* folio_url_decode undoes folio_url_encode for every byte string without NUL, and refuses
 * malformed escapes and encoded NUL bytes. */
static void test_url_decode_inverts_encode_and_refuses_bad_escapes(void **state)
{
    (void)state;
    unsigned seed = 12345;
    for (int round = 0; round < 2000; round++) {
        char raw[64];
        size_t n = (size_t)(round % 63);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            raw[i] = (char)(1 + (seed >> 16) % 255); /* 1..255: no NUL */
        }
        raw[n] = '\0';
        struct folio_buf b;
        folio_buf_init(&b, 4096);
        assert_int_equal(folio_url_encode(&b, raw, n), FOLIO_OK);
        assert_int_equal(folio_buf_append(&b, "", 0), FOLIO_OK);
        assert_int_equal(folio_url_decode(b.data), FOLIO_OK);
        assert_int_equal(strlen(b.data), n);
        assert_memory_equal(b.data, raw, n);
        folio_buf_clear(&b);
    }
    const char *bad[] = {"%", "%4", "%zz", "a%0", "%00", "x%00y", "%g1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char copy[16];
        strcpy(copy, bad[i]);
        assert_int_equal(folio_url_decode(copy), FOLIO_EINVAL);
    }
    char plus[] = "a+b%2Bc";
    assert_int_equal(folio_url_decode(plus), FOLIO_OK);
    assert_string_equal(plus, "a+b+c");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_links_are_written_as_rfc8288_list),
        cmocka_unit_test(test_absent_links_are_skipped_without_stray_commas),
        cmocka_unit_test(test_header_is_appended_after_existing_content),
        cmocka_unit_test(test_urls_that_could_break_the_header_are_einval),
        cmocka_unit_test(test_header_respects_the_buffer_maximum_and_allocation_failures),
        cmocka_unit_test(test_a_failed_write_leaves_the_buffer_as_it_was),
        cmocka_unit_test(test_url_encode_keeps_unreserved_and_comma_and_escapes_every_other_byte),
        cmocka_unit_test(test_url_encode_of_reserved_and_unicode_text),
        cmocka_unit_test(test_url_encode_of_empty_text_leaves_a_terminated_buffer),
        cmocka_unit_test(test_url_encoded_text_decodes_back_and_is_accepted_in_links),
        cmocka_unit_test(test_url_encode_appends_and_respects_the_maximum),
        cmocka_unit_test(test_url_decode_inverts_encode_and_refuses_bad_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
