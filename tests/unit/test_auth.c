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

#include <fcntl.h>
#include <sqlite3.h>

#include "server/auth.h"
#include "server/authkeys.h"
#include "server/config/config.h"
#include "support_alloc.h"

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

/* --- [auth] in a config, under allocation failures ------------------------------------ */

static char oom_dir[64];

static void put_file(const char *name, const char *text, mode_t mode)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", oom_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static const char AUTH_CONFIG[] =
    "[auth]\nmode = \"api_key\"\nkeys_file = \"keys\"\nkeys_secret_file = \"keys.secret\"\n"
    "jwt_issuer = \"i\"\njwt_audience = \"a\"\nmetrics_token_file = \"m.token\"\n"
    "[[auth.jwt_keys]]\nkid = \"h\"\nalg = \"HS256\"\nfile = \"hs.key\"\n"
    "[[auth.jwt_keys]]\nkid = \"r\"\nalg = \"RS256\"\nfile = \"r.pub\"\n"
    "[[endpoint]]\npath = \"/o\"\ntable = \"orders\"\nauth = \"jwt\"\n"
    "scope = { tenant = \"claims.org.tenant\" }\n"
    "[[endpoint]]\npath = \"/k\"\ntable = \"orders\"\nscope = { tenant = \"key.t\" }\n";

static folio_status auth_load_build_write(folio_db *db)
{
    struct folio_config cfg;
    struct folio_config_error err;
    folio_status st = folio__config_load_text(&cfg, AUTH_CONFIG, strlen(AUTH_CONFIG), "a.toml",
                                              oom_dir, &err);
    struct folio_endpoint *eps = NULL;
    size_t neps = 0;
    if (st == FOLIO_OK)
        st = folio__config_endpoints(&cfg, db, &eps, &neps, &err);
    if (st == FOLIO_OK) {
        assert_int_equal(cfg.auth.nkeys, 2);
        assert_int_equal(cfg.auth.njwt, 2);
        assert_true(cfg.auth.metrics_token);
        assert_int_equal(eps[0].nscope, 1);
        assert_true(eps[0].scope[0].from_claims);
        assert_string_equal(eps[0].scope[0].name, "org.tenant");
        struct folio_buf out;
        folio_buf_init(&out, 1 << 20);
        st = folio__config_write(&cfg, db, eps, neps, &out);
        folio_buf_clear(&out);
    }
    for (size_t i = 0; i < neps; i++)
        folio__endpoint_clear(&eps[i]);
    folio_free(eps);
    folio__config_clear(&cfg);
    return st;
}

static folio_status auth_oom_op(void *ctx)
{
    return auth_load_build_write(ctx);
}

static void test_auth_config_out_of_memory_leaks_nothing(void **state)
{
    (void)state;
    snprintf(oom_dir, sizeof oom_dir, "/tmp/folio-auth-oom-XXXXXX");
    assert_non_null(mkdtemp(oom_dir));
    put_file("keys.secret", "a keys secret, long enough", 0600);
    put_file("keys", "a b2:0000000000000000000000000000000000000000000000000000000000000000 "
                     "endpoints=/k value.t=x\n"
                     "b b2:1111111111111111111111111111111111111111111111111111111111111111 "
                     "rate=3\n", 0600);
    put_file("hs.key", "an HS256 secret of thirty-two bytes or more", 0600);
    put_file("r.pub", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 0644);
    put_file("m.token", "metrics token, 16+ bytes\n", 0600);
    char path[256];
    snprintf(path, sizeof path, "%s/t.db", oom_dir);
    sqlite3 *s;
    assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s, "CREATE TABLE orders(id INTEGER PRIMARY KEY, tenant TEXT)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(s);
    folio_db *db = NULL;
    struct folio_error e;
    assert_int_equal(folio__db_open(&db, path, &e), FOLIO_OK);
    assert_int_equal(auth_load_build_write(db), FOLIO_OK);
    long n = test_alloc_every_failure(auth_oom_op, db, false);
    assert_true(n > 20 && n < 5000);
    folio__db_close(db);
    const char *names[] = {"keys.secret", "keys", "hs.key", "r.pub", "m.token", "t.db"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", oom_dir, names[i]);
        unlink(path);
    }
    rmdir(oom_dir);
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
        cmocka_unit_test(test_auth_config_out_of_memory_leaks_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
