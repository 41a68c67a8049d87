/* Unit tests for src/server/auth.c, auth_jwt.c and authkeys.c: the Authorization header
 * grammar, the keys file (parse, write, read back, refused permissions), the keyed hash
 * lookup, JWT checks on claims (exp/nbf with leeway, iss, aud) and claim paths. */
/* cmocka.h needs these first */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/auth.h"
#include "server/authkeys.h"

static void bearer_ok(const char *header, const char *want)
{
    const char *tok = NULL;
    size_t len = 0;
    assert_true(folio__auth_bearer(header, &tok, &len));
    assert_int_equal(len, strlen(want));
    assert_memory_equal(tok, want, len);
}

static void test_bearer_header_grammar(void **state)
{
    (void)state;
    bearer_ok("Bearer abc", "abc");
    bearer_ok("bearer \t abc.def-ghi_jkl~mno+p/q==  ", "abc.def-ghi_jkl~mno+p/q==");
    bearer_ok("BEARER x", "x");
    const char *tok;
    size_t len;
    static const char *const bad[] = {"", "Bearer", "Bearer ", "Bearer  ", "Basic abc",
                                      "Bearerabc", "Bearer a b", "Bearer a=b", "Bearer \"a\"",
                                      "Bearer a,b", "Bearer a\x01", "Token abc", NULL};
    for (size_t i = 0; bad[i] != NULL; i++)
        assert_false(folio__auth_bearer(bad[i], &tok, &len));
    assert_false(folio__auth_bearer(NULL, &tok, &len));
    char *longer = malloc(FOLIO_AUTH_TOKEN_MAX + 16);
    assert_non_null(longer);
    memcpy(longer, "Bearer ", 7);
    memset(longer + 7, 'a', FOLIO_AUTH_TOKEN_MAX + 1);
    longer[7 + FOLIO_AUTH_TOKEN_MAX + 1] = '\0';
    assert_false(folio__auth_bearer(longer, &tok, &len));
    longer[7 + FOLIO_AUTH_TOKEN_MAX] = '\0';
    assert_true(folio__auth_bearer(longer, &tok, &len));
    assert_int_equal(len, FOLIO_AUTH_TOKEN_MAX);
    free(longer);
}

static void test_keys_file_round_trip_and_lookup(void **state)
{
    (void)state;
    char dir[] = "/tmp/folio-auth-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/keys", dir);
    struct folio_auth a;
    folio__auth_init(&a);
    folio__authkeys_hash_key(&a, (const unsigned char *)"a secret of some length", 23);
    char text[] = "# comment\n\n"
                  "alpha b2:0000000000000000000000000000000000000000000000000000000000000000 "
                  "endpoints=/a,/b rate=2.5 burst=4 value.tenant=acme\r\n"
                  "  beta b2:0000000000000000000000000000000000000000000000000000000000000000\n";
    char why[600];
    assert_int_equal(folio__authkeys_parse(text, strlen(text), "t", &a, why, sizeof why),
                     FOLIO_OK);
    assert_int_equal(a.nkeys, 2);
    folio__auth_key_hash(&a, "fk_alpha", 8, a.keys[0].hash);
    folio__auth_key_hash(&a, "fk_beta", 7, a.keys[1].hash);
    assert_int_equal(folio__authkeys_write(path, a.keys, a.nkeys, why, sizeof why), FOLIO_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    struct folio_auth b;
    folio__auth_init(&b);
    memcpy(b.hash_key, a.hash_key, sizeof b.hash_key);
    assert_int_equal(folio__authkeys_read(path, &b, why, sizeof why), FOLIO_OK);
    assert_int_equal(b.nkeys, 2);
    const struct folio_api_key *k = folio__auth_key_find(&b, "fk_alpha", 8);
    assert_non_null(k);
    assert_string_equal(k->name, "alpha");
    assert_int_equal(k->nendpoints, 2);
    assert_string_equal(k->endpoints[1], "/b");
    assert_true(k->rate == 2.5);
    assert_int_equal(k->burst, 4);
    assert_string_equal(k->value_names[0], "tenant");
    assert_string_equal(k->values[0], "acme");
    assert_string_equal(folio__auth_key_find(&b, "fk_beta", 7)->name, "beta");
    assert_null(folio__auth_key_find(&b, "fk_betA", 7));
    assert_null(folio__auth_key_find(&b, "fk_bet", 6));
    /* Another hash secret: no key matches. */
    b.hash_key[0] ^= 1;
    assert_null(folio__auth_key_find(&b, "fk_alpha", 8));
    folio__auth_clear(&b);

    assert_int_equal(chmod(path, 0640), 0);
    folio__auth_init(&b);
    assert_int_equal(folio__authkeys_read(path, &b, why, sizeof why), FOLIO_EIO);
    assert_non_null(strstr(why, "accessible by group or others"));
    folio__auth_clear(&b);
    folio__auth_clear(&a);
    unlink(path);
    rmdir(dir);
}

static void test_keys_file_errors_name_the_line(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "bad name! b2:00\n",
        "k b2:123\n",
        "k b2:0000000000000000000000000000000000000000000000000000000000000000 rate=0\n",
        "k b2:0000000000000000000000000000000000000000000000000000000000000000 endpoints=a\n",
        "k b2:0000000000000000000000000000000000000000000000000000000000000000 value.t=a,b\n",
        "k b2:0000000000000000000000000000000000000000000000000000000000000000 colour=red\n",
        "k b2:0000000000000000000000000000000000000000000000000000000000000000\n"
        "k b2:0000000000000000000000000000000000000000000000000000000000000000\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct folio_auth a;
        folio__auth_init(&a);
        char text[512], why[600];
        snprintf(text, sizeof text, "%s", bad[i]);
        assert_int_equal(folio__authkeys_parse(text, strlen(text), "keys", &a, why, sizeof why),
                         FOLIO_ECONFIG);
        assert_non_null(strstr(why, i == 6 ? "keys:2: " : "keys:1: "));
        folio__auth_clear(&a);
    }
}

static void test_claim_paths(void **state)
{
    (void)state;
    json_t *c = json_loads("{\"tenant\":\"acme\",\"org\":{\"id\":42,\"tags\":[1]},\"b\":true,"
                           "\"e\":\"\"}",
                           0, NULL);
    assert_non_null(c);
    char out[8];
    assert_true(folio__auth_claim(c, "tenant", out, sizeof out));
    assert_string_equal(out, "acme");
    assert_true(folio__auth_claim(c, "org.id", out, sizeof out));
    assert_string_equal(out, "42");
    static const char *const none[] = {"org", "org.tags", "b", "e", "nope", "tenant.x",
                                       "org..id", "org.id.x"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        assert_false(folio__auth_claim(c, none[i], out, sizeof out));
    char tiny[4];
    assert_false(folio__auth_claim(c, "tenant", tiny, sizeof tiny)); /* never cut short */
    json_decref(c);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer_header_grammar),
        cmocka_unit_test(test_keys_file_round_trip_and_lookup),
        cmocka_unit_test(test_keys_file_errors_name_the_line),
        cmocka_unit_test(test_claim_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
