/* Unit tests for folio/toml.h: positions in error messages, accessors, the table rules,
 * limits, and out-of-memory behaviour (fail allocation N for N = 1..K). The TOML 1.0.0
 * corpus itself is run by tests/conformance/toml_conformance.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "folio/alloc.h"
#include "folio/toml.h"

static folio_status parse(const char *text, folio_toml **doc, struct folio_error *err)
{
    memset(err, 0, sizeof *err);
    return folio_toml_parse(text, strlen(text), "folio.toml", doc, err);
}

/* Parse `text`, expect `status` with err->detail equal to `detail`. */
static void expect_error(const char *text, folio_status status, const char *detail)
{
    folio_toml *doc = (folio_toml *)1;
    struct folio_error err;
    assert_int_equal(parse(text, &doc, &err), status);
    assert_null(doc);
    assert_int_equal(err.status, status);
    assert_string_equal(err.detail, detail);
}

static folio_toml *parse_ok(const char *text)
{
    folio_toml *doc = NULL;
    struct folio_error err;
    folio_status st = parse(text, &doc, &err);
    if (st != FOLIO_OK)
        fail_msg("unexpected failure: %s", err.detail);
    assert_non_null(doc);
    return doc;
}

/* --- error positions --- */

static void test_missing_equals_reports_line_and_column(void **state)
{
    (void)state;
    expect_error("a = 1\nb 2\n", FOLIO_ESYNTAX,
                 "folio.toml:2:3: unexpected '2' after a key (expected '=')");
}

static void test_duplicate_key_reported_at_second_definition(void **state)
{
    (void)state;
    expect_error("name = \"x\"\n# comment\n  name = \"y\"\n", FOLIO_ESYNTAX,
                 "folio.toml:3:3: duplicate key 'name'");
    expect_error("[server]\nport = 1\n[server]\n", FOLIO_ESYNTAX,
                 "folio.toml:3:2: table 'server' is already defined");
    expect_error("a = {b = 1}\na.c = 2\n", FOLIO_ESYNTAX,
                 "folio.toml:2:1: inline table 'a' cannot be extended");
}

static void test_columns_count_code_points_not_bytes(void **state)
{
    (void)state;
    /* "é" is two bytes but one column. */
    expect_error("s = \"h\xC3\xA9llo\" 1\n", FOLIO_ESYNTAX,
                 "folio.toml:1:13: unexpected '1' after a value");
}

static void test_unterminated_string_points_at_opening_quote(void **state)
{
    (void)state;
    expect_error("x = 1\ns = \"\"\"abc\n\n", FOLIO_ESYNTAX,
                 "folio.toml:2:5: unterminated string");
}

static void test_invalid_utf8_is_reported_with_position(void **state)
{
    (void)state;
    expect_error("a = 1\n# caf\xC3\n", FOLIO_ESYNTAX, "folio.toml:2:6: invalid UTF-8 byte 0xC3");
    expect_error("s = \"\xED\xA0\x80\"\n", FOLIO_ESYNTAX,
                 "folio.toml:1:6: invalid UTF-8 byte 0xED");
}

static void test_bad_datetime_and_number_are_rejected(void **state)
{
    (void)state;
    expect_error("d = 2023-02-29\n", FOLIO_ESYNTAX,
                 "folio.toml:1:5: day 29 does not exist in 2023-02");
    expect_error("n = 012\n", FOLIO_ESYNTAX, "folio.toml:1:5: leading zeros are not allowed");
    expect_error("n = 1__0\n", FOLIO_ESYNTAX,
                 "folio.toml:1:6: an underscore must be between two digits");
    expect_error("n = 9223372036854775808\n", FOLIO_ESYNTAX,
                 "folio.toml:1:5: integer does not fit in 64 bits");
    expect_error("n = 0x8000000000000000\n", FOLIO_ESYNTAX,
                 "folio.toml:1:5: integer does not fit in 64 bits");
    expect_error("f = 1e999\n", FOLIO_ESYNTAX,
                 "folio.toml:1:5: float is out of the range of a double");
    const char *bad[] = {"1.", ".5", "1.e3", "1e", "+0x1", "1_", "0_1", "- 1", "1.5_",
                         "inf_", "Infinity", "12:00", "2023-1-01", "24:00:00", "00:00:61",
                         "1979-05-27T07:32:00+24:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "v = %s\n", bad[i]);
        folio_toml *doc = NULL;
        struct folio_error err;
        if (parse(text, &doc, &err) != FOLIO_ESYNTAX)
            fail_msg("accepted: %s", bad[i]);
    }
}

/* --- accessors --- */

static void test_accessors_read_every_type(void **state)
{
    (void)state;
    static const char text[] = "title = \"a\\u0000b\"\n"
                               "n = -9_223_372_036_854_775_808\n"
                               "h = 0xFF\n"
                               "pi = 3.5e1\n"
                               "ok = true\n"
                               "odt = 1979-05-27 07:32:00.25-07:30\n"
                               "ldt = 1979-05-27T07:32:00\n"
                               "ld = 1979-05-27\n"
                               "lt = 07:32:00.123456789999\n"
                               "arr = [1, 'two', [3]]\n"
                               "\"k\\u0000ey\" = 1\n";
    folio_toml *doc = parse_ok(text);
    const struct folio_toml_value *root = folio_toml_root(doc);
    assert_int_equal(folio_toml_type(root), FOLIO_TOML_TABLE);
    assert_int_equal(folio_toml_table_count(root), 11);

    const char *s;
    size_t len;
    assert_int_equal(folio_toml_string(folio_toml_table_get(root, "title"), &s, &len), FOLIO_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "a\0b", 4);

    int64_t i;
    assert_int_equal(folio_toml_int(folio_toml_table_get(root, "n"), &i), FOLIO_OK);
    assert_true(i == INT64_MIN);
    assert_int_equal(folio_toml_int(folio_toml_table_get(root, "h"), &i), FOLIO_OK);
    assert_int_equal(i, 255);
    double d;
    assert_int_equal(folio_toml_float(folio_toml_table_get(root, "pi"), &d), FOLIO_OK);
    assert_true(d == 35.0);
    bool b = false;
    assert_int_equal(folio_toml_bool(folio_toml_table_get(root, "ok"), &b), FOLIO_OK);
    assert_true(b);
    /* No conversions between types. */
    assert_int_equal(folio_toml_float(folio_toml_table_get(root, "h"), &d), FOLIO_EINVAL);
    assert_int_equal(folio_toml_int(folio_toml_table_get(root, "title"), &i), FOLIO_EINVAL);
    assert_int_equal(folio_toml_string(NULL, &s, &len), FOLIO_EINVAL);

    struct {
        const char *key;
        enum folio_toml_type type;
        const char *text;
    } dts[] = {
        {"odt", FOLIO_TOML_DATETIME, "1979-05-27T07:32:00.25-07:30"},
        {"ldt", FOLIO_TOML_LOCAL_DATETIME, "1979-05-27T07:32:00"},
        {"ld", FOLIO_TOML_LOCAL_DATE, "1979-05-27"},
        {"lt", FOLIO_TOML_LOCAL_TIME, "07:32:00.123456789"},
    };
    for (size_t k = 0; k < 4; k++) {
        const struct folio_toml_value *v = folio_toml_table_get(root, dts[k].key);
        struct folio_toml_datetime dt;
        char buf[FOLIO_TOML_DATETIME_TEXT_MAX];
        assert_int_equal(folio_toml_type(v), dts[k].type);
        assert_int_equal(folio_toml_datetime(v, &dt), FOLIO_OK);
        assert_int_equal(folio_toml_datetime_format(&dt, buf, sizeof buf), strlen(dts[k].text));
        assert_string_equal(buf, dts[k].text);
    }
    struct folio_toml_datetime dt;
    assert_int_equal(folio_toml_datetime(folio_toml_table_get(root, "odt"), &dt), FOLIO_OK);
    assert_int_equal(dt.offset_minutes, -450);
    assert_int_equal(dt.nanosecond, 250000000);
    assert_true(dt.has_date && dt.has_time && dt.has_offset);
    char small[5];
    assert_int_equal(folio_toml_datetime_format(&dt, small, sizeof small), 28);
    assert_string_equal(small, "1979");

    const struct folio_toml_value *arr = folio_toml_table_get(root, "arr");
    assert_int_equal(folio_toml_array_len(arr), 3);
    assert_int_equal(folio_toml_type(folio_toml_array_at(arr, 1)), FOLIO_TOML_STRING);
    assert_int_equal(folio_toml_array_len(folio_toml_array_at(arr, 2)), 1);
    assert_null(folio_toml_array_at(arr, 3));

    /* Keys keep document order and may contain NUL. */
    const char *order[] = {"title", "n", "h", "pi", "ok", "odt", "ldt", "ld", "lt", "arr"};
    for (size_t k = 0; k < 10; k++)
        assert_string_equal(folio_toml_table_key(root, k, NULL), order[k]);
    assert_memory_equal(folio_toml_table_key(root, 10, &len), "k\0ey", 5);
    assert_int_equal(len, 4);
    assert_non_null(folio_toml_table_getn(root, "k\0ey", 4));
    assert_null(folio_toml_table_get(root, "k"));
    assert_null(folio_toml_table_key(root, 11, NULL));
    assert_string_equal(folio_toml_type_name(FOLIO_TOML_LOCAL_TIME), "time-local");
    folio_toml_free(doc);
}

static void test_keys_and_values_carry_their_positions(void **state)
{
    (void)state;
    folio_toml *doc = parse_ok("# config\n"
                               "[server]\n"
                               "  port = 8080\n"
                               "  tls.cert = 'x.pem'\n");
    const struct folio_toml_value *root = folio_toml_root(doc);
    assert_int_equal(folio_toml_table_key_line(root, 0), 2);
    assert_int_equal(folio_toml_table_key_column(root, 0), 2);
    const struct folio_toml_value *server = folio_toml_table_get(root, "server");
    assert_int_equal(folio_toml_table_key_line(server, 0), 3);
    assert_int_equal(folio_toml_table_key_column(server, 0), 3);
    const struct folio_toml_value *port = folio_toml_table_get(server, "port");
    assert_int_equal(folio_toml_line(port), 3);
    assert_int_equal(folio_toml_column(port), 10);
    const struct folio_toml_value *tls = folio_toml_table_get(server, "tls");
    assert_int_equal(folio_toml_line(tls), 4);
    assert_int_equal(folio_toml_column(tls), 3);
    assert_int_equal(folio_toml_table_key_column(tls, 0), 7);
    assert_int_equal(folio_toml_column(folio_toml_table_get(tls, "cert")), 14);
    assert_int_equal(folio_toml_table_key_line(server, 9), 0);
    folio_toml_free(doc);
}

static void test_table_rules_follow_toml_1_0(void **state)
{
    (void)state;
    folio_toml *doc = parse_ok("[fruit]\napple.color = 'red'\n[fruit.apple.texture]\n"
                               "smooth = true\n[a.b.c]\n[a]\nx = 1\n[[p.q]]\n[[p.q]]\n[p.q.r]\n");
    const struct folio_toml_value *q =
        folio_toml_table_get(folio_toml_table_get(folio_toml_root(doc), "p"), "q");
    assert_int_equal(folio_toml_array_len(q), 2);
    assert_non_null(folio_toml_table_get(folio_toml_array_at(q, 1), "r"));
    folio_toml_free(doc);

    expect_error("[fruit]\napple.color = 'red'\n[fruit.apple]\n", FOLIO_ESYNTAX,
                 "folio.toml:3:8: table 'apple' is already defined");
    expect_error("[a.b]\nz = 1\n[a]\nb.y = 2\n", FOLIO_ESYNTAX,
                 "folio.toml:4:1: table 'b' was defined by a [header]; dotted keys cannot "
                 "extend it");
    expect_error("a = [1]\n[[a]]\n", FOLIO_ESYNTAX,
                 "folio.toml:2:3: array 'a' is static and cannot be extended with [[header]]");
    expect_error("[[a]]\n[a]\n", FOLIO_ESYNTAX,
                 "folio.toml:2:2: key 'a' is already defined and is not a table");
}

/* --- limits --- */

static char *repeat(const char *prefix, const char *unit, size_t n, const char *mid,
                    const char *close, const char *suffix)
{
    size_t len = strlen(prefix) + n * (strlen(unit) + strlen(close)) + strlen(mid) +
                 strlen(suffix) + 1;
    char *s = malloc(len);
    assert_non_null(s);
    char *w = stpcpy(s, prefix);
    for (size_t i = 0; i < n; i++)
        w = stpcpy(w, unit);
    w = stpcpy(w, mid);
    for (size_t i = 0; i < n; i++)
        w = stpcpy(w, close);
    stpcpy(w, suffix);
    return s;
}

static void test_deep_nesting_is_rejected_cleanly(void **state)
{
    (void)state;
    folio_toml *doc;
    struct folio_error err;
    /* `a` is at depth 1, so 128 brackets reach the limit exactly. */
    char *ok = repeat("a = ", "[", 128, "", "]", "\n");
    assert_int_equal(parse(ok, &doc, &err), FOLIO_OK);
    folio_toml_free(doc);
    free(ok);

    char *cases[] = {
        repeat("a = ", "[", 129, "", "]", "\n"),
        repeat("a = ", "[", 100000, "", "]", "\n"),
        repeat("a = ", "{b=", 200, "1", "}", "\n"),
        repeat("", "a.", 200, "b = 1", "", "\n"),
        repeat("[", "a.", 200, "b]", "", "\n"),
        repeat("x = ", "[{a=", 70, "1", "}]", "\n"),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        doc = (folio_toml *)1;
        assert_int_equal(parse(cases[i], &doc, &err), FOLIO_ELIMIT);
        assert_null(doc);
        assert_non_null(strstr(err.detail, "deeper than 128 levels"));
        assert_memory_equal(err.detail, "folio.toml:1:", 13);
        free(cases[i]);
    }

    /* Scalars count: in `a = [[1]]` the 1 is at depth 3. */
    struct folio_toml_limits lim = {.max_depth = 2};
    assert_int_equal(folio_toml_parse_ex("a = [[]]", 8, NULL, &lim, &doc, &err), FOLIO_OK);
    folio_toml_free(doc);
    assert_int_equal(folio_toml_parse_ex("a = [[1]]", 9, NULL, &lim, &doc, &err),
                     FOLIO_ELIMIT);
    assert_string_equal(err.detail, "<input>:1:7: nesting deeper than 2 levels");
}

static void test_limits_and_arguments_are_checked(void **state)
{
    (void)state;
    folio_toml *doc;
    struct folio_error err;
    struct folio_toml_limits lim = {.max_bytes = 8};
    assert_int_equal(folio_toml_parse_ex("a = 1234\n", 9, "c.toml", &lim, &doc, &err),
                     FOLIO_ETOOBIG);
    assert_string_equal(err.detail, "c.toml: 9 bytes is more than the limit of 8");
    lim.max_depth = FOLIO_TOML_MAX_DEPTH_LIMIT + 1;
    assert_int_equal(folio_toml_parse_ex("", 0, NULL, &lim, &doc, &err), FOLIO_EINVAL);
    assert_int_equal(folio_toml_parse(NULL, 1, NULL, &doc, &err), FOLIO_EINVAL);
    assert_int_equal(folio_toml_parse(NULL, 0, NULL, &doc, NULL), FOLIO_OK);
    assert_int_equal(folio_toml_table_count(folio_toml_root(doc)), 0);
    folio_toml_free(doc);
    folio_toml_free(NULL);
}

static void test_bom_crlf_and_many_keys_parse(void **state)
{
    (void)state;
    folio_toml *doc = parse_ok("\xEF\xBB\xBF"
                               "a = 1\r\nb = \"\"\"\r\nx\r\ny\"\"\"\r\n");
    const char *s;
    assert_int_equal(folio_toml_string(folio_toml_table_get(folio_toml_root(doc), "b"), &s,
                                       NULL),
                     FOLIO_OK);
    assert_string_equal(s, "x\ny");
    assert_int_equal(folio_toml_table_key_column(folio_toml_root(doc), 0), 1);
    folio_toml_free(doc);

    /* Enough keys to exercise the hash index, then a duplicate among them. */
    char *text = malloc(2000 * 16 + 32);
    assert_non_null(text);
    size_t n = 0;
    for (int i = 0; i < 2000; i++)
        n += (size_t)sprintf(text + n, "k%d = %d\n", i, i);
    doc = parse_ok(text);
    const struct folio_toml_value *root = folio_toml_root(doc);
    assert_int_equal(folio_toml_table_count(root), 2000);
    int64_t v;
    assert_int_equal(folio_toml_int(folio_toml_table_get(root, "k1234"), &v), FOLIO_OK);
    assert_int_equal(v, 1234);
    assert_string_equal(folio_toml_table_key(root, 1999, NULL), "k1999");
    folio_toml_free(doc);
    strcpy(text + n, "k777 = 0\n");
    expect_error(text, FOLIO_ESYNTAX, "folio.toml:2001:1: duplicate key 'k777'");
    free(text);
}

/* --- out of memory --- */

static long fail_at;   /* fail the allocation with this number (1-based); 0 = never */
static long counter;   /* allocations attempted */
static long live;      /* blocks currently allocated */

static void *counting_malloc(size_t size)
{
    if (++counter == fail_at)
        return NULL;
    void *p = malloc(size);
    if (p != NULL)
        live++;
    return p;
}

static void *counting_realloc(void *ptr, size_t size)
{
    if (++counter == fail_at)
        return NULL;
    void *p = realloc(ptr, size);
    if (p != NULL && ptr == NULL)
        live++;
    return p;
}

static void counting_free(void *ptr)
{
    if (ptr != NULL)
        live--;
    free(ptr);
}

static void test_out_of_memory_fails_cleanly_without_leaks(void **state)
{
    (void)state;
    static const char text[] = "title = \"TOML \\u00e9\"\n"
                               "a.b.c = [1, 2.5, 'x', {y = 1, z.w = [true]}]\n"
                               "[server]\nport = 8080\nhosts = [\"\"\"\nalpha\"\"\", 'beta']\n"
                               "[[items]]\nname = 'one'\n[[items]]\nname = 'two'\n"
                               "[items.sub]\nk1 = 1\nk2 = 2\nk3 = 3\nk4 = 4\nk5 = 5\nk6 = 6\n"
                               "k7 = 7\nk8 = 8\nk9 = 9\nk10 = 10\n"
                               "when = 1979-05-27T07:32:00Z\nf = 6.02e23\n";
    static const struct folio_allocator counting = {counting_malloc, counting_realloc,
                                                    counting_free};
    folio_allocator_set(&counting);
    long n;
    for (n = 1; n < 10000; n++) {
        fail_at = n;
        counter = live = 0;
        folio_toml *doc = (folio_toml *)1;
        struct folio_error err;
        folio_status st = folio_toml_parse(text, sizeof text - 1, "oom.toml", &doc, &err);
        if (st == FOLIO_OK) {
            folio_toml_free(doc);
            assert_int_equal(live, 0);
            break;
        }
        if (st != FOLIO_ENOMEM || doc != NULL || live != 0) {
            folio_allocator_set(NULL);
            fail_msg("allocation %ld: status %d, live blocks %ld", n, (int)st, live);
        }
        assert_string_equal(err.detail, "oom.toml: out of memory");
    }
    folio_allocator_set(NULL);
    /* Every allocation point was failed once before the parse could succeed. */
    assert_true(n > 20);
    assert_true(n < 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_equals_reports_line_and_column),
        cmocka_unit_test(test_duplicate_key_reported_at_second_definition),
        cmocka_unit_test(test_columns_count_code_points_not_bytes),
        cmocka_unit_test(test_unterminated_string_points_at_opening_quote),
        cmocka_unit_test(test_invalid_utf8_is_reported_with_position),
        cmocka_unit_test(test_bad_datetime_and_number_are_rejected),
        cmocka_unit_test(test_accessors_read_every_type),
        cmocka_unit_test(test_keys_and_values_carry_their_positions),
        cmocka_unit_test(test_table_rules_follow_toml_1_0),
        cmocka_unit_test(test_deep_nesting_is_rejected_cleanly),
        cmocka_unit_test(test_limits_and_arguments_are_checked),
        cmocka_unit_test(test_bom_crlf_and_many_keys_parse),
        cmocka_unit_test(test_out_of_memory_fails_cleanly_without_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
