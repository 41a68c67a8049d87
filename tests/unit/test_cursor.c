/* Unit tests for src/lib/cursor.c: every value type survives a round trip in signed and
 * encrypted tokens, no tampered, truncated, padded, foreign-secret or unknown-key token is
 * ever accepted (and all of them get the same status and detail), key rotation, expiry
 * and query fingerprints, encrypted tokens hide their values, and a fixed-seed property
 * loop checks that every cursor the encoder issues decodes back exactly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "folio/cursor.h"
#include "support_rand.h"

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char SECRET_A[] = "secret A: at least sixteen bytes";
static const char SECRET_B[] = "secret B: another sixteen bytes+";

#define NOW 1700000000u

/* --- helpers ------------------------------------------------------------------------- */

static void keyring(struct folio_keyring *kr, bool encrypt, uint8_t id, const char *secret)
{
    folio_keyring_init(kr, encrypt);
    assert_int_equal(folio_keyring_add(kr, id, secret, strlen(secret)), FOLIO_OK);
}

static void cursor_init(struct folio_cursor *c, const char *query)
{
    memset(c, 0, offsetof(struct folio_cursor, storage));
    folio_cursor_fingerprint(query, strlen(query), c->fingerprint);
}

static struct folio_value v_null(void)
{
    return (struct folio_value){.type = FOLIO_VALUE_NULL};
}

static struct folio_value v_int(int64_t i)
{
    return (struct folio_value){.type = FOLIO_VALUE_INT, .i = i};
}

static struct folio_value v_real(double d)
{
    return (struct folio_value){.type = FOLIO_VALUE_REAL, .d = d};
}

static struct folio_value v_text(const char *s, size_t len)
{
    return (struct folio_value){.type = FOLIO_VALUE_TEXT, .s = s, .len = len};
}

static struct folio_value v_blob(const void *s, size_t len)
{
    return (struct folio_value){.type = FOLIO_VALUE_BLOB, .s = s, .len = len};
}

static void encode_ok(const struct folio_keyring *kr, const struct folio_cursor *c,
                      char tok[FOLIO_CURSOR_MAX_TOKEN], size_t *len)
{
    size_t n = 0;
    assert_int_equal(folio_cursor_encode(kr, c, tok, FOLIO_CURSOR_MAX_TOKEN, &n), FOLIO_OK);
    assert_int_equal(n, strlen(tok));
    if (len != NULL)
        *len = n;
}

/* Exact equality, doubles compared bit for bit (so -0.0 and 0.0 differ). Returns a
 * description of the first difference, or NULL. */
static const char *cursor_diff(const struct folio_cursor *a, const struct folio_cursor *b)
{
    if (a->flags != b->flags)
        return "flags";
    if (a->expires != b->expires)
        return "expires";
    if (memcmp(a->fingerprint, b->fingerprint, sizeof a->fingerprint) != 0)
        return "fingerprint";
    if (a->nkeys != b->nkeys)
        return "nkeys";
    for (size_t i = 0; i < a->nkeys; i++) {
        const struct folio_value *x = &a->keys[i], *y = &b->keys[i];
        if (x->type != y->type)
            return "value type";
        switch (x->type) {
        case FOLIO_VALUE_NULL:
            break;
        case FOLIO_VALUE_INT:
            if (x->i != y->i)
                return "int value";
            break;
        case FOLIO_VALUE_REAL:
            if (memcmp(&x->d, &y->d, sizeof x->d) != 0)
                return "real bits";
            break;
        case FOLIO_VALUE_TEXT:
        case FOLIO_VALUE_BLOB:
            if (x->len != y->len || (x->len && memcmp(x->s, y->s, x->len) != 0))
                return "text/blob bytes";
            break;
        }
    }
    return NULL;
}

/* Decoded TEXT/BLOB values must point into the cursor's own storage. */
static void assert_values_in_storage(const struct folio_cursor *c)
{
    for (size_t i = 0; i < c->nkeys; i++) {
        const struct folio_value *v = &c->keys[i];
        if (v->type != FOLIO_VALUE_TEXT && v->type != FOLIO_VALUE_BLOB)
            continue;
        assert_non_null(v->s);
        const unsigned char *s = (const unsigned char *)v->s;
        assert_true(s >= c->storage && s + v->len <= c->storage + sizeof c->storage);
    }
}

static void assert_round_trip(const struct folio_keyring *kr, const struct folio_cursor *c)
{
    char tok[FOLIO_CURSOR_MAX_TOKEN];
    size_t len;
    encode_ok(kr, c, tok, &len);
    static struct folio_cursor out;
    struct folio_error err = {0};
    folio_status st = folio_cursor_decode(kr, tok, len, NOW, c->fingerprint, &out, &err);
    if (st != FOLIO_OK)
        fail_msg("decode of a just-encoded token failed: %s (%s), token %s",
                 folio_strerror(st), err.detail, tok);
    const char *diff = cursor_diff(c, &out);
    if (diff != NULL)
        fail_msg("round trip changed the %s (token %s)", diff, tok);
    assert_values_in_storage(&out);
}

static void round_trip_both(const struct folio_cursor *c)
{
    struct folio_keyring kr;
    keyring(&kr, false, 1, SECRET_A);
    assert_round_trip(&kr, c);
    keyring(&kr, true, 1, SECRET_A);
    assert_round_trip(&kr, c);
    folio_keyring_clear(&kr);
}

static folio_status decode_status(const struct folio_keyring *kr, const char *tok, size_t len,
                                  const uint8_t fp[FOLIO_CURSOR_FINGERPRINT_BYTES],
                                  struct folio_error *err)
{
    static struct folio_cursor out;
    return folio_cursor_decode(kr, tok, len, NOW, fp, &out, err);
}

/* A one-key (integer) cursor token made with `kr`, as most callers issue them. */
static size_t sample_token(const struct folio_keyring *kr, struct folio_cursor *c,
                           char tok[FOLIO_CURSOR_MAX_TOKEN])
{
    cursor_init(c, "");
    folio_cursor_fingerprint("users\0id", 8, c->fingerprint);
    c->expires = NOW + 3600;
    c->nkeys = 1;
    c->keys[0] = v_int(123456);
    size_t len;
    encode_ok(kr, c, tok, &len);
    return len;
}

/* --- round trips --------------------------------------------------------------------- */

static void test_null_and_integer_keys_round_trip(void **state)
{
    (void)state;
    const int64_t ints[] = {0,         -1,        1,         63,        64,        -64,
                            -65,       127,       128,       255,       256,       1 << 20,
                            INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, INT64_MAX - 1,
                            INT64_MIN + 1};
    struct folio_cursor c;
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        cursor_init(&c, "q");
        c.nkeys = 1;
        c.keys[0] = v_int(ints[i]);
        round_trip_both(&c);
    }
    cursor_init(&c, "q");
    c.nkeys = 1;
    c.keys[0] = v_null();
    round_trip_both(&c);
    /* no keys at all */
    cursor_init(&c, "q");
    round_trip_both(&c);
}

static void test_real_keys_round_trip_bit_for_bit(void **state)
{
    (void)state;
    const double reals[] = {0.0,     -0.0,     1.0,      -1.5,      0.1,       1e308,
                            -1e308,  DBL_MAX,  -DBL_MAX, DBL_MIN,   5e-324,    -5e-324,
                            DBL_EPSILON, 3.141592653589793, 1e-300, INFINITY, -INFINITY,
                            9007199254740993.0};
    struct folio_cursor c;
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        cursor_init(&c, "q");
        c.nkeys = 1;
        c.keys[0] = v_real(reals[i]);
        round_trip_both(&c);
    }
}

static void test_text_and_blob_keys_round_trip_byte_for_byte(void **state)
{
    (void)state;
    static const char nul_inside[] = "a\0b\0\0c";
    static const char not_utf8[] = "\xff\xfe\xc0\x80\xed\xa0\x80\x80 end";
    unsigned char all_bytes[256];
    for (int i = 0; i < 256; i++)
        all_bytes[i] = (unsigned char)(255 - i);
    struct {
        enum folio_value_type type;
        const char *s;
        size_t len;
    } cases[] = {
        {FOLIO_VALUE_TEXT, "", 0},
        {FOLIO_VALUE_TEXT, "plain", 5},
        {FOLIO_VALUE_TEXT, nul_inside, sizeof nul_inside - 1},
        {FOLIO_VALUE_TEXT, not_utf8, sizeof not_utf8 - 1},
        {FOLIO_VALUE_TEXT, "caf\xc3\xa9 \xf0\x9f\x98\x80", 10},
        {FOLIO_VALUE_BLOB, "", 0},
        {FOLIO_VALUE_BLOB, nul_inside, sizeof nul_inside - 1},
        {FOLIO_VALUE_BLOB, (const char *)all_bytes, sizeof all_bytes},
    };
    struct folio_cursor c;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cursor_init(&c, "q");
        c.nkeys = 1;
        c.keys[0] = cases[i].type == FOLIO_VALUE_TEXT ? v_text(cases[i].s, cases[i].len)
                                                      : v_blob(cases[i].s, cases[i].len);
        round_trip_both(&c);
    }
}

static void test_text_and_blob_keep_their_type(void **state)
{
    (void)state;
    struct folio_keyring kr;
    keyring(&kr, false, 1, SECRET_A);
    struct folio_cursor c, out;
    cursor_init(&c, "q");
    c.nkeys = 2;
    c.keys[0] = v_text("same", 4);
    c.keys[1] = v_blob("same", 4);
    char tok[FOLIO_CURSOR_MAX_TOKEN];
    size_t len;
    encode_ok(&kr, &c, tok, &len);
    assert_int_equal(folio_cursor_decode(&kr, tok, len, NOW, c.fingerprint, &out, NULL),
                     FOLIO_OK);
    assert_int_equal(out.keys[0].type, FOLIO_VALUE_TEXT);
    assert_int_equal(out.keys[1].type, FOLIO_VALUE_BLOB);
}

static void test_multi_key_cursors_round_trip_with_flags_and_expiry(void **state)
{
    (void)state;
    struct folio_cursor c;
    for (unsigned flags = 0; flags <= 3; flags++) {
        cursor_init(&c, "events\0-created_at,id");
        c.flags = flags;
        c.expires = flags & 1 ? UINT64_MAX : NOW + 1;
        c.nkeys = 5;
        c.keys[0] = v_text("2024-01-01T00:00:00Z", 20);
        c.keys[1] = v_null();
        c.keys[2] = v_real(-0.0);
        c.keys[3] = v_blob("\x00\x01\x02", 3);
        c.keys[4] = v_int(INT64_MIN);
        round_trip_both(&c);
    }
}

static void test_cursor_with_the_maximum_number_of_keys_round_trips(void **state)
{
    (void)state;
    struct folio_cursor c;
    cursor_init(&c, "q");
    c.nkeys = FOLIO_CURSOR_MAX_KEYS;
    for (size_t i = 0; i < c.nkeys; i++)
        c.keys[i] = i % 2 ? v_int((int64_t)i * -1000003) : v_text("k", 1);
    round_trip_both(&c);
}

static void test_too_many_keys_is_einval(void **state)
{
    (void)state;
    struct folio_keyring kr;
    keyring(&kr, false, 1, SECRET_A);
    struct folio_cursor c;
    cursor_init(&c, "q");
    c.nkeys = FOLIO_CURSOR_MAX_KEYS + 1;
    for (size_t i = 0; i < FOLIO_CURSOR_MAX_KEYS; i++)
        c.keys[i] = v_int(1);
    char tok[FOLIO_CURSOR_MAX_TOKEN];
    assert_int_equal(folio_cursor_encode(&kr, &c, tok, sizeof tok, NULL), FOLIO_EINVAL);
}

/* The largest value a token can carry must also be accepted on the way back in: encode
 * and decode agree on the size limits, in both modes. */
static void test_largest_encodable_cursor_also_decodes(void **state)
{
    (void)state;
    static char big[FOLIO_CURSOR_MAX_BYTES];
    memset(big, 'x', sizeof big);
    for (int enc = 0; enc <= 1; enc++) {
        struct folio_keyring kr;
        keyring(&kr, enc, 1, SECRET_A);
        size_t largest = 0;
        for (size_t n = 1800; n < sizeof big; n++) {
            struct folio_cursor c;
            cursor_init(&c, "q");
            c.expires = UINT64_MAX;
            c.nkeys = 1;
            c.keys[0] = v_text(big, n);
            char tok[FOLIO_CURSOR_MAX_TOKEN];
            folio_status st = folio_cursor_encode(&kr, &c, tok, sizeof tok, NULL);
            if (st == FOLIO_ETOOBIG)
                break;
            assert_int_equal(st, FOLIO_OK);
            largest = n;
            assert_round_trip(&kr, &c);
        }
        assert_true(largest >= 1800);              /* a long key still fits */
        assert_true(largest < sizeof big - 1);     /* and the limit is reached */
    }
}

static void test_output_buffer_too_small_is_etoobig(void **state)
{
    (void)state;
    struct folio_keyring kr;
    keyring(&kr, false, 1, SECRET_A);
    struct folio_cursor c;
    char tok[FOLIO_CURSOR_MAX_TOKEN];
    size_t len = sample_token(&kr, &c, tok);
    char small[FOLIO_CURSOR_MAX_TOKEN];
    size_t n = 0;
    assert_int_equal(folio_cursor_encode(&kr, &c, small, len + 1, &n), FOLIO_OK);
    assert_int_equal(n, len);
    assert_string_equal(small, tok); /* signed tokens are deterministic */
    assert_int_equal(folio_cursor_encode(&kr, &c, small, len, &n), FOLIO_ETOOBIG);
}

static void test_integer_keyed_token_is_short_unpadded_base64url(void **state)
{
    (void)state;
    for (int enc = 0; enc <= 1; enc++) {
        struct folio_keyring kr;
        keyring(&kr, enc, 1, SECRET_A);
        struct folio_cursor c;
        char tok[FOLIO_CURSOR_MAX_TOKEN];
        size_t len = sample_token(&kr, &c, tok);
        if (enc)
            assert_true(len < 100);
        else
            assert_true(len <= 64);
        assert_int_equal(strspn(tok, B64URL), len);
    }
}

static void test_encoding_with_an_empty_keyring_is_einval(void **state)
{
    (void)state;
    for (int enc = 0; enc <= 1; enc++) {
        struct folio_keyring kr;
        folio_keyring_init(&kr, enc);
        struct folio_cursor c;
        cursor_init(&c, "q");
        c.nkeys = 1;
        c.keys[0] = v_int(1);
        char tok[FOLIO_CURSOR_MAX_TOKEN];
        assert_int_equal(folio_cursor_encode(&kr, &c, tok, sizeof tok, NULL), FOLIO_EINVAL);
    }
}

/* "Every issued cursor verifies": the encoder must not hand out a token that its own
 * decoder refuses or reads back differently. Flag bits outside BEFORE|INCLUSIVE and
 * unknown value types are such cursors. */
static void test_encoder_refuses_cursors_it_could_not_read_back(void **state)
{
    (void)state;
    struct folio_keyring kr;
    keyring(&kr, false, 1, SECRET_A);
    const unsigned bad_flags[] = {4, 0x80, 0x100, 0x101};
    char problems[1024] = "";
    for (size_t i = 0; i < sizeof bad_flags / sizeof bad_flags[0]; i++) {
        size_t used = strlen(problems);
        struct folio_cursor c;
        cursor_init(&c, "q");
        c.flags = bad_flags[i];
        c.nkeys = 1;
        c.keys[0] = v_int(7);
        char tok[FOLIO_CURSOR_MAX_TOKEN];
        size_t len = 0;
        folio_status st = folio_cursor_encode(&kr, &c, tok, sizeof tok, &len);
        if (st == FOLIO_OK) {
            static struct folio_cursor out;
            folio_status dst = folio_cursor_decode(&kr, tok, len, NOW, c.fingerprint, &out, NULL);
            if (dst != FOLIO_OK)
                snprintf(problems + used, sizeof problems - used,
                         " [flags 0x%x: encoded OK, but the token does not decode: %s]",
                         bad_flags[i], folio_strerror(dst));
            else if (out.flags != c.flags)
                snprintf(problems + used, sizeof problems - used,
                         " [flags 0x%x: encoded OK, but the token decodes with flags 0x%x]",
                         bad_flags[i], out.flags);
        }
    }
    if (problems[0] != '\0')
        fail_msg("encode issued cursors that do not read back:%s", problems);
}

/* --- tampering ----------------------------------------------------------------------- */

static void assert_every_substitution_rejected(const struct folio_keyring *kr)
{
    struct folio_cursor c;
    char tok[FOLIO_CURSOR_MAX_TOKEN];
    size_t len = sample_token(kr, &c, tok);
    char bad[FOLIO_CURSOR_MAX_TOKEN];
    size_t tried = 0;
    for (size_t pos = 0; pos < len; pos++) {
        for (const char *a = B64URL; *a; a++) {
            if (*a == tok[pos])
                continue;
            memcpy(bad, tok, len + 1);
            bad[pos] = *a;
            struct folio_error err = {0};
            folio_status st = decode_status(kr, bad, len, c.fingerprint, &err);
            if (st != FOLIO_ECURSOR_INVALID)
                fail_msg("token with '%c' at %zu instead of '%c' gave %s, want invalid",
                         *a, pos, tok[pos], folio_strerror(st));
            assert_string_equal(err.detail, "invalid cursor");
            tried++;
        }
        /* and ASCII characters outside the alphabet (bytes >= 0x80 have their own test) */
        const char others[] = "=+/ .%\t\x7f";
        for (size_t k = 0; k < sizeof others; k++) { /* includes the NUL */
            memcpy(bad, tok, len + 1);
            bad[pos] = others[k];
            folio_status st = decode_status(kr, bad, len, c.fingerprint, NULL);
            if (st != FOLIO_ECURSOR_INVALID)
                fail_msg("token with byte 0x%02x at %zu gave %s, want invalid",
                         (unsigned char)others[k], pos, folio_strerror(st));
        }
    }
    assert_int_equal(tried, len * 63);
}

/* Bytes 0x80..0xFF are not base64url either. A token spelled with one of them in place
 * of a '_' must not be accepted as the same cursor: a token has exactly one spelling. */
static void test_bytes_above_0x7f_in_a_token_are_invalid(void **state)
{
    (void)state;
    struct folio_keyring kr;
    keyring(&kr, false, 1, SECRET_A);
    /* find a (deterministic, signed) token with at least one '_' and one other char */
    struct folio_cursor c;
    char tok[FOLIO_CURSOR_MAX_TOKEN];
    size_t len = 0;
    int64_t key = 0;
    for (; key < 100000; key++) {
        cursor_init(&c, "q");
        c.nkeys = 1;
        c.keys[0] = v_int(key);
        encode_ok(&kr, &c, tok, &len);
        if (strchr(tok, '_') != NULL)
            break;
    }
    assert_non_null(strchr(tok, '_'));
    char bad[FOLIO_CURSOR_MAX_TOKEN];
    char accepted[512] = "";
    size_t naccepted = 0;
    for (size_t pos = 0; pos < len; pos++) {
        for (unsigned b = 0x80; b <= 0xff; b++) {
            memcpy(bad, tok, len + 1);
            bad[pos] = (char)b;
            folio_status st = decode_status(&kr, bad, len, c.fingerprint, NULL);
            if (st != FOLIO_ECURSOR_INVALID && naccepted++ < 8) {
                size_t used = strlen(accepted);
                snprintf(accepted + used, sizeof accepted - used,
                         " [byte 0x%02x at %zu in place of '%c': %s]", b, pos, tok[pos],
                         folio_strerror(st));
            }
        }
    }
    if (naccepted != 0)
        fail_msg("%zu tokens with a byte >= 0x80 were not rejected as invalid, e.g.%s (token %s)",
                 naccepted, accepted, tok);
}

static void test_every_single_character_change_of_a_signed_token_is_invalid(void **state)
{
    (void)state;
    struct folio_keyring kr;
    keyring(&kr, false, 1, SECRET_A);
    assert_every_substitution_rejected(&kr);
}

static void test_every_single_character_change_of_an_encrypted_token_is_invalid(void **state)
{
    (void)state;
    struct folio_keyring kr;
    keyring(&kr, true, 1, SECRET_A);
    assert_every_substitution_rejected(&kr);
}

static void test_every_truncation_and_extension_is_invalid(void **state)
{
    (void)state;
    for (int enc = 0; enc <= 1; enc++) {
        struct folio_keyring kr;
        keyring(&kr, enc, 1, SECRET_A);
        struct folio_cursor c;
        char tok[FOLIO_CURSOR_MAX_TOKEN];
        size_t len = sample_token(&kr, &c, tok);
        for (size_t n = 0; n < len; n++) {
            char prefix[FOLIO_CURSOR_MAX_TOKEN];
            memcpy(prefix, tok, n);
            prefix[n] = '\0';
            folio_status st = decode_status(&kr, prefix, n, c.fingerprint, NULL);
            if (st != FOLIO_ECURSOR_INVALID)
                fail_msg("%s token cut to %zu of %zu chars gave %s", enc ? "encrypted" : "signed",
                         n, len, folio_strerror(st));
        }
        char longer[FOLIO_CURSOR_MAX_TOKEN + 4];
        const char *tails[] = {"=", "==", "A", "AA", "AAA", "AAAA", "-", "_", "\n", " "};
        for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
            snprintf(longer, sizeof longer, "%s%s", tok, tails[t]);
            folio_status st = decode_status(&kr, longer, strlen(longer), c.fingerprint, NULL);
            if (st != FOLIO_ECURSOR_INVALID)
                fail_msg("token with \"%s\" appended gave %s", tails[t], folio_strerror(st));
        }
        for (const char *a = B64URL; *a; a++) {
            snprintf(longer, sizeof longer, "%s%c", tok, *a);
            assert_int_equal(decode_status(&kr, longer, len + 1, c.fingerprint, NULL),
                             FOLIO_ECURSOR_INVALID);
        }
        /* a standard-base64 spelling with padding is not the same token */
        size_t padded = len;
        memcpy(longer, tok, len);
        while (padded % 4)
            longer[padded++] = '=';
        if (padded != len)
            assert_int_equal(decode_status(&kr, longer, padded, c.fingerprint, NULL),
                             FOLIO_ECURSOR_INVALID);
    }
}

static void test_garbage_and_oversized_tokens_are_invalid(void **state)
{
    (void)state;
    struct folio_keyring kr;
    keyring(&kr, false, 1, SECRET_A);
    uint8_t fp[FOLIO_CURSOR_FINGERPRINT_BYTES] = {0};
    const char *garbage[] = {"", "A", "AA", "AAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                             "not a cursor", "%00", "{}", "null"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
        assert_int_equal(decode_status(&kr, garbage[i], strlen(garbage[i]), fp, NULL),
                         FOLIO_ECURSOR_INVALID);
    static char huge[100000];
    memset(huge, 'A', sizeof huge - 1);
    assert_int_equal(decode_status(&kr, huge, sizeof huge - 1, fp, NULL), FOLIO_ECURSOR_INVALID);
    assert_int_equal(decode_status(&kr, huge, FOLIO_CURSOR_MAX_TOKEN, fp, NULL),
                     FOLIO_ECURSOR_INVALID);
}

static void test_token_from_another_secret_is_invalid_with_the_same_detail(void **state)
{
    (void)state;
    for (int enc = 0; enc <= 1; enc++) {
        struct folio_keyring mine, theirs;
        keyring(&mine, enc, 1, SECRET_A);
        keyring(&theirs, enc, 1, SECRET_B); /* same key id, other secret */
        struct folio_cursor c;
        char tok[FOLIO_CURSOR_MAX_TOKEN];
        size_t len = sample_token(&theirs, &c, tok);
        struct folio_error err = {0};
        assert_int_equal(decode_status(&mine, tok, len, c.fingerprint, &err),
                         FOLIO_ECURSOR_INVALID);
        assert_int_equal(err.status, FOLIO_ECURSOR_INVALID);
        assert_int_equal(err.kind, FOLIO_KIND_INPUT);
        assert_string_equal(err.detail, "invalid cursor");
    }
}

static void test_signed_and_encrypted_tokens_are_not_interchangeable(void **state)
{
    (void)state;
    struct folio_keyring sig, enc;
    keyring(&sig, false, 1, SECRET_A);
    keyring(&enc, true, 1, SECRET_A);
    struct folio_cursor c;
    char tok[FOLIO_CURSOR_MAX_TOKEN];
    size_t len = sample_token(&sig, &c, tok);
    assert_int_equal(decode_status(&enc, tok, len, c.fingerprint, NULL), FOLIO_ECURSOR_INVALID);
    len = sample_token(&enc, &c, tok);
    assert_int_equal(decode_status(&sig, tok, len, c.fingerprint, NULL), FOLIO_ECURSOR_INVALID);
}

static void test_unknown_key_id_is_invalid(void **state)
{
    (void)state;
    for (int enc = 0; enc <= 1; enc++) {
        struct folio_keyring issuer, verifier;
        keyring(&issuer, enc, 7, SECRET_A);
        keyring(&verifier, enc, 8, SECRET_A); /* same secret, different id */
        struct folio_cursor c;
        char tok[FOLIO_CURSOR_MAX_TOKEN];
        size_t len = sample_token(&issuer, &c, tok);
        struct folio_error err = {0};
        assert_int_equal(decode_status(&verifier, tok, len, c.fingerprint, &err),
                         FOLIO_ECURSOR_INVALID);
        assert_string_equal(err.detail, "invalid cursor");
    }
}

/* A token whose MAC is right but whose body is malformed (only someone holding the key
 * could make one) is still rejected cleanly. Signed tokens let the test forge them. */
static size_t forge_signed(const struct folio_keyring *kr, const unsigned char *body,
                           size_t body_len, char tok[FOLIO_CURSOR_MAX_TOKEN])
{
    unsigned char raw[FOLIO_CURSOR_MAX_BYTES];
    raw[0] = 1;
    raw[1] = kr->keys[0].id;
    memcpy(raw + 2, body, body_len);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256(mac, raw, 2 + body_len, kr->keys[0].mac_key);
    memcpy(raw + 2 + body_len, mac, 16);
    sodium_bin2base64(tok, FOLIO_CURSOR_MAX_TOKEN, raw, 2 + body_len + 16,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return strlen(tok);
}

static void test_authentic_tokens_with_malformed_bodies_are_invalid(void **state)
{
    (void)state;
    struct folio_keyring kr;
    keyring(&kr, false, 1, SECRET_A);
    uint8_t fp[FOLIO_CURSOR_FINGERPRINT_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};
#define FP 1, 2, 3, 4, 5, 6, 7, 8
    /* flags | expiry varint | fp(8) | nkeys | (tag | value)* */
    static const struct {
        const char *what;
        unsigned char body[32];
        size_t len;
    } cases[] = {
        {"the well-formed control", {0, 0, FP, 1, 1, 2}, 13},
        {"empty body", {0}, 0},
        {"unknown flag bit", {4, 0, FP, 0}, 11},
        {"truncated before the fingerprint", {0, 0, 1, 2, 3}, 5},
        {"no nkeys", {0, 0, FP}, 10},
        {"too many keys", {0, 0, FP, FOLIO_CURSOR_MAX_KEYS + 1}, 11},
        {"fewer keys than nkeys", {0, 0, FP, 2, 1, 2}, 13},
        {"trailing byte", {0, 0, FP, 1, 1, 2, 0}, 14},
        {"unknown tag", {0, 0, FP, 1, 5}, 12},
        {"non-minimal int varint", {0, 0, FP, 1, 1, 0x82, 0x00}, 14},
        {"non-minimal expiry varint", {0, 0x80, 0x00, FP, 0}, 12},
        {"unterminated varint", {0, 0, FP, 1, 1, 0x80}, 13},
        {"varint over 64 bits", {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, FP, 0}, 20},
        {"real cut short", {0, 0, FP, 1, 2, 0, 0, 0}, 15},
        {"text longer than the body", {0, 0, FP, 1, 3, 5, 'a', 'b'}, 15},
        {"blob length overflow", {0, 0, FP, 1, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 'a'}, 23},
    };
#undef FP
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char tok[FOLIO_CURSOR_MAX_TOKEN];
        size_t len = forge_signed(&kr, cases[i].body, cases[i].len, tok);
        folio_status st = decode_status(&kr, tok, len, fp, NULL);
        folio_status want = i == 0 ? FOLIO_OK : FOLIO_ECURSOR_INVALID;
        if (st != want)
            fail_msg("%s: got %s, want %s", cases[i].what, folio_strerror(st),
                     folio_strerror(want));
    }
}

/* A signed sample token of key `kid` (SECRET_A), base64url-decoded into raw; its length. */
static size_t sample_raw(struct folio_keyring *kr, uint8_t kid, struct folio_cursor *c,
                         unsigned char raw[FOLIO_CURSOR_MAX_BYTES])
{
    keyring(kr, false, kid, SECRET_A);
    char tok[FOLIO_CURSOR_MAX_TOKEN];
    size_t len = sample_token(kr, c, tok);
    size_t n;
    assert_int_equal(sodium_base642bin(raw, FOLIO_CURSOR_MAX_BYTES, tok, len, NULL, &n, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    return n;
}

/* Signed tokens are version 3: keyed BLAKE2b-128 over 03 | key id | body, with the subkey
 * BLAKE2b(secret, key = "folio cursor mac v3") (docs/internals/cursor-format.md). */
static void test_signed_tokens_are_version_3_keyed_blake2b(void **state)
{
    (void)state;
    struct folio_keyring kr;
    struct folio_cursor c;
    unsigned char raw[FOLIO_CURSOR_MAX_BYTES];
    size_t n = sample_raw(&kr, 5, &c, raw);
    assert_int_equal(raw[0], 3);
    assert_int_equal(raw[1], 5);
    static const char label[] = "folio cursor mac v3";
    unsigned char key[32], tag[16];
    crypto_generichash(key, sizeof key, (const unsigned char *)SECRET_A, strlen(SECRET_A),
                       (const unsigned char *)label, sizeof label - 1);
    crypto_generichash(tag, sizeof tag, raw, n - 16, key, sizeof key);
    assert_memory_equal(tag, raw + n - 16, 16);
}

/* Version 1 (HMAC-SHA256) tokens, issued before version 3, keep verifying with the same
 * key; a version 3 tag relabelled as version 1 (or the reverse) does not. */
static void test_version_1_hmac_tokens_keep_verifying(void **state)
{
    (void)state;
    struct folio_keyring kr;
    struct folio_cursor c;
    unsigned char raw[FOLIO_CURSOR_MAX_BYTES];
    size_t n = sample_raw(&kr, 1, &c, raw);
    char v1[FOLIO_CURSOR_MAX_TOKEN];
    size_t v1_len = forge_signed(&kr, raw + 2, n - 2 - 16, v1);
    struct folio_cursor out;
    assert_int_equal(folio_cursor_decode(&kr, v1, v1_len, NOW, c.fingerprint, &out, NULL),
                     FOLIO_OK);
    assert_int_equal(out.nkeys, 1);
    assert_int_equal(out.keys[0].i, 123456);
    assert_int_equal(out.expires, c.expires);

    char swapped[FOLIO_CURSOR_MAX_TOKEN];
    raw[0] = 1; /* a version 3 tag under the version 1 label */
    sodium_bin2base64(swapped, sizeof swapped, raw, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_int_equal(decode_status(&kr, swapped, strlen(swapped), c.fingerprint, NULL),
                     FOLIO_ECURSOR_INVALID);
    unsigned char raw1[FOLIO_CURSOR_MAX_BYTES];
    assert_int_equal(sodium_base642bin(raw1, sizeof raw1, v1, v1_len, NULL, &n, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    raw1[0] = 3; /* an HMAC tag under the version 3 label */
    sodium_bin2base64(swapped, sizeof swapped, raw1, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_int_equal(decode_status(&kr, swapped, strlen(swapped), c.fingerprint, NULL),
                     FOLIO_ECURSOR_INVALID);
}

/* --- keys, rotation, expiry, fingerprints -------------------------------------------- */

static void test_keyring_add_validates_secrets_ids_and_capacity(void **state)
{
    (void)state;
    struct folio_keyring kr;
    folio_keyring_init(&kr, false);
    assert_int_equal(folio_keyring_add(&kr, 1, "fifteen bytes!!", 15), FOLIO_EINVAL);
    assert_int_equal(kr.n, 0);
    assert_int_equal(folio_keyring_add(&kr, 1, "sixteen bytes!!!", 16), FOLIO_OK);
    assert_int_equal(folio_keyring_add(&kr, 1, SECRET_B, strlen(SECRET_B)), FOLIO_EINVAL);
    for (uint8_t id = 2; id <= FOLIO_KEYRING_MAX; id++)
        assert_int_equal(folio_keyring_add(&kr, id, SECRET_B, strlen(SECRET_B)), FOLIO_OK);
    assert_int_equal(kr.n, FOLIO_KEYRING_MAX);
    assert_int_equal(folio_keyring_add(&kr, 200, SECRET_B, strlen(SECRET_B)), FOLIO_ELIMIT);
    folio_keyring_clear(&kr);
    assert_int_equal(kr.n, 0);
    static const unsigned char zero[32];
    assert_memory_equal(kr.keys[0].mac_key, zero, 32);
    assert_memory_equal(kr.keys[0].enc_key, zero, 32);
}

static void test_rotation_old_tokens_verify_while_the_old_key_is_kept(void **state)
{
    (void)state;
    for (int enc = 0; enc <= 1; enc++) {
        struct folio_keyring old_only, rotated, new_only;
        keyring(&old_only, enc, 1, SECRET_A);
        keyring(&rotated, enc, 2, SECRET_B);
        assert_int_equal(folio_keyring_add(&rotated, 1, SECRET_A, strlen(SECRET_A)), FOLIO_OK);
        keyring(&new_only, enc, 2, SECRET_B);

        struct folio_cursor c;
        char tok[FOLIO_CURSOR_MAX_TOKEN];
        size_t len = sample_token(&old_only, &c, tok);
        assert_int_equal(decode_status(&rotated, tok, len, c.fingerprint, NULL), FOLIO_OK);
        assert_int_equal(decode_status(&new_only, tok, len, c.fingerprint, NULL),
                         FOLIO_ECURSOR_INVALID);

        /* new tokens from the rotated ring are made with the new key */
        len = sample_token(&rotated, &c, tok);
        assert_int_equal(decode_status(&new_only, tok, len, c.fingerprint, NULL), FOLIO_OK);
        assert_int_equal(decode_status(&old_only, tok, len, c.fingerprint, NULL),
                         FOLIO_ECURSOR_INVALID);
    }
}

static void test_expiry_at_or_before_now_is_expired_and_zero_never_expires(void **state)
{
    (void)state;
    for (int enc = 0; enc <= 1; enc++) {
        struct folio_keyring kr;
        keyring(&kr, enc, 1, SECRET_A);
        const struct {
            uint64_t expires, now;
            folio_status want;
        } cases[] = {
            {NOW, NOW, FOLIO_ECURSOR_EXPIRED},
            {NOW - 1, NOW, FOLIO_ECURSOR_EXPIRED},
            {1, NOW, FOLIO_ECURSOR_EXPIRED},
            {NOW + 1, NOW, FOLIO_OK},
            {UINT64_MAX, UINT64_MAX - 1, FOLIO_OK},
            {UINT64_MAX, UINT64_MAX, FOLIO_ECURSOR_EXPIRED},
            {0, NOW, FOLIO_OK},
            {0, UINT64_MAX, FOLIO_OK},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            struct folio_cursor c;
            cursor_init(&c, "q");
            c.expires = cases[i].expires;
            c.nkeys = 1;
            c.keys[0] = v_int(1);
            char tok[FOLIO_CURSOR_MAX_TOKEN];
            size_t len;
            encode_ok(&kr, &c, tok, &len);
            static struct folio_cursor out;
            struct folio_error err = {0};
            folio_status st =
                folio_cursor_decode(&kr, tok, len, cases[i].now, c.fingerprint, &out, &err);
            if (st != cases[i].want)
                fail_msg("expires %llu at now %llu: got %s, want %s",
                         (unsigned long long)cases[i].expires, (unsigned long long)cases[i].now,
                         folio_strerror(st), folio_strerror(cases[i].want));
            if (st == FOLIO_ECURSOR_EXPIRED) {
                assert_int_equal(err.kind, FOLIO_KIND_INPUT);
                assert_int_equal(err.status, FOLIO_ECURSOR_EXPIRED);
            }
        }
    }
}

static void test_cursor_for_another_query_is_foreign(void **state)
{
    (void)state;
    for (int enc = 0; enc <= 1; enc++) {
        struct folio_keyring kr;
        keyring(&kr, enc, 1, SECRET_A);
        struct folio_cursor c;
        char tok[FOLIO_CURSOR_MAX_TOKEN];
        size_t len = sample_token(&kr, &c, tok);
        uint8_t other[FOLIO_CURSOR_FINGERPRINT_BYTES];
        folio_cursor_fingerprint("users\0-id", 9, other);
        assert_memory_not_equal(other, c.fingerprint, sizeof other);
        struct folio_error err = {0};
        assert_int_equal(decode_status(&kr, tok, len, other, &err), FOLIO_ECURSOR_FOREIGN);
        assert_int_equal(err.kind, FOLIO_KIND_INPUT);
        /* each fingerprint byte matters */
        for (size_t b = 0; b < sizeof other; b++) {
            uint8_t fp[FOLIO_CURSOR_FINGERPRINT_BYTES];
            memcpy(fp, c.fingerprint, sizeof fp);
            fp[b] ^= 0x01;
            assert_int_equal(decode_status(&kr, tok, len, fp, NULL), FOLIO_ECURSOR_FOREIGN);
        }
    }
}

static void test_status_order_is_invalid_then_foreign_then_expired(void **state)
{
    (void)state;
    struct folio_keyring kr;
    keyring(&kr, false, 1, SECRET_A);
    struct folio_cursor c;
    cursor_init(&c, "q");
    c.expires = NOW - 10; /* expired */
    c.nkeys = 1;
    c.keys[0] = v_int(5);
    char tok[FOLIO_CURSOR_MAX_TOKEN];
    size_t len;
    encode_ok(&kr, &c, tok, &len);
    uint8_t other[FOLIO_CURSOR_FINGERPRINT_BYTES];
    folio_cursor_fingerprint("other", 5, other);
    /* expired and foreign: foreign wins */
    assert_int_equal(decode_status(&kr, tok, len, other, NULL), FOLIO_ECURSOR_FOREIGN);
    assert_int_equal(decode_status(&kr, tok, len, c.fingerprint, NULL), FOLIO_ECURSOR_EXPIRED);
    /* expired and tampered: invalid wins, no oracle about the expiry */
    tok[3] = tok[3] == 'A' ? 'B' : 'A';
    assert_int_equal(decode_status(&kr, tok, len, c.fingerprint, NULL), FOLIO_ECURSOR_INVALID);
}

static void test_fingerprint_depends_on_every_query_byte(void **state)
{
    (void)state;
    uint8_t a[FOLIO_CURSOR_FINGERPRINT_BYTES], b[FOLIO_CURSOR_FINGERPRINT_BYTES];
    folio_cursor_fingerprint("users\0id", 8, a);
    folio_cursor_fingerprint("users\0id", 8, b);
    assert_memory_equal(a, b, sizeof a);
    folio_cursor_fingerprint("users\0-id", 9, b);
    assert_memory_not_equal(a, b, sizeof a);
    folio_cursor_fingerprint("users\0ie", 8, b);
    assert_memory_not_equal(a, b, sizeof a);
    folio_cursor_fingerprint("users", 5, b); /* bytes after a NUL count */
    assert_memory_not_equal(a, b, sizeof a);
}

/* --- confidentiality ------------------------------------------------------------------ */

static bool contains(const unsigned char *hay, size_t n, const void *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return true;
    return false;
}

static size_t token_bytes(const char *tok, size_t len, unsigned char *raw, size_t cap)
{
    size_t n = 0;
    assert_int_equal(sodium_base642bin(raw, cap, tok, len, NULL, &n, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    return n;
}

static void test_encrypted_token_does_not_reveal_key_values(void **state)
{
    (void)state;
    const char text[] = "SECRETVALUE123";
    const int64_t secret_int = 0x1122334455667788;
    unsigned char le[8], be[8], zz[10];
    for (int i = 0; i < 8; i++) {
        le[i] = (unsigned char)(secret_int >> (8 * i));
        be[i] = (unsigned char)(secret_int >> (8 * (7 - i)));
    }
    /* the zigzag varint the body format uses */
    uint64_t z = (uint64_t)secret_int << 1;
    size_t zn = 0;
    while (z >= 0x80) {
        zz[zn++] = (unsigned char)((z & 0x7f) | 0x80);
        z >>= 7;
    }
    zz[zn++] = (unsigned char)z;

    struct folio_cursor c;
    cursor_init(&c, "secret query");
    c.nkeys = 2;
    c.keys[0] = v_text(text, sizeof text - 1);
    c.keys[1] = v_int(secret_int);

    for (int enc = 0; enc <= 1; enc++) {
        struct folio_keyring kr;
        keyring(&kr, enc, 1, SECRET_A);
        char tok[FOLIO_CURSOR_MAX_TOKEN];
        size_t len;
        encode_ok(&kr, &c, tok, &len);
        unsigned char raw[FOLIO_CURSOR_MAX_BYTES];
        size_t n = token_bytes(tok, len, raw, sizeof raw);
        bool seen_text = contains(raw, n, text, sizeof text - 1);
        bool seen_int = contains(raw, n, le, 8) || contains(raw, n, be, 8) ||
                        contains(raw, n, zz, zn);
        bool seen_fp = contains(raw, n, c.fingerprint, sizeof c.fingerprint);
        if (enc) {
            assert_false(seen_text);
            assert_false(seen_int);
            assert_false(seen_fp);
            assert_null(strstr(tok, "SECRET"));
        } else {
            /* control: signed tokens carry the values in the clear, so the search works */
            assert_true(seen_text);
            assert_true(seen_int);
            assert_true(seen_fp);
        }
    }
}

static void test_encrypted_tokens_for_the_same_cursor_differ(void **state)
{
    (void)state;
    struct folio_keyring kr;
    keyring(&kr, true, 1, SECRET_A);
    struct folio_cursor c;
    char a[FOLIO_CURSOR_MAX_TOKEN], b[FOLIO_CURSOR_MAX_TOKEN];
    sample_token(&kr, &c, a);
    sample_token(&kr, &c, b);
    assert_string_not_equal(a, b); /* fresh nonce each time */
    assert_int_equal(decode_status(&kr, a, strlen(a), c.fingerprint, NULL), FOLIO_OK);
    assert_int_equal(decode_status(&kr, b, strlen(b), c.fingerprint, NULL), FOLIO_OK);
}

/* --- the property: every issued cursor verifies and reads back exactly ---------------- */

static struct folio_value random_value(struct test_rng *r, char *pool, size_t *used)
{
    switch (test_rng_below(r, 5)) {
    case 0:
        return v_null();
    case 1: {
        uint64_t u = test_rng_next(r);
        int shift = (int)test_rng_below(r, 64); /* small and large magnitudes alike */
        int64_t i = (int64_t)(u >> shift);
        if (test_rng_below(r, 2))
            i = -i - 1;
        return v_int(i);
    }
    case 2: {
        double d;
        do {
            uint64_t bits = test_rng_next(r);
            memcpy(&d, &bits, sizeof d);
        } while (isnan(d));
        return v_real(d);
    }
    default: {
        size_t len = (size_t)test_rng_below(r, 40);
        char *s = pool + *used;
        for (size_t k = 0; k < len; k++)
            s[k] = (char)test_rng_next(r);
        *used += len;
        return test_rng_below(r, 2) ? v_text(s, len) : v_blob(s, len);
    }
    }
}

static void test_twenty_thousand_random_cursors_all_round_trip(void **state)
{
    (void)state;
    struct test_rng r = {20240611};
    struct folio_keyring signed_kr, enc_kr;
    keyring(&signed_kr, false, 3, SECRET_A);
    assert_int_equal(folio_keyring_add(&signed_kr, 4, SECRET_B, strlen(SECRET_B)), FOLIO_OK);
    keyring(&enc_kr, true, 9, SECRET_B);
    static char pool[FOLIO_CURSOR_MAX_KEYS * 40];
    for (int iter = 0; iter < 20000; iter++) {
        struct folio_cursor c;
        memset(&c, 0, offsetof(struct folio_cursor, storage));
        c.flags = (unsigned)test_rng_below(&r, 4);
        c.expires = test_rng_below(&r, 4) == 0 ? 0 : NOW + 1 + test_rng_below(&r, UINT64_MAX - NOW - 1);
        uint64_t fp = test_rng_next(&r);
        memcpy(c.fingerprint, &fp, sizeof c.fingerprint);
        c.nkeys = (size_t)(test_rng_below(&r, 4) == 0 ? test_rng_below(&r, FOLIO_CURSOR_MAX_KEYS + 1)
                                                       : 1 + test_rng_below(&r, 3));
        size_t used = 0;
        for (size_t k = 0; k < c.nkeys; k++)
            c.keys[k] = random_value(&r, pool, &used);
        assert_round_trip(iter % 2 ? &enc_kr : &signed_kr, &c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_and_integer_keys_round_trip),
        cmocka_unit_test(test_real_keys_round_trip_bit_for_bit),
        cmocka_unit_test(test_text_and_blob_keys_round_trip_byte_for_byte),
        cmocka_unit_test(test_text_and_blob_keep_their_type),
        cmocka_unit_test(test_multi_key_cursors_round_trip_with_flags_and_expiry),
        cmocka_unit_test(test_cursor_with_the_maximum_number_of_keys_round_trips),
        cmocka_unit_test(test_too_many_keys_is_einval),
        cmocka_unit_test(test_largest_encodable_cursor_also_decodes),
        cmocka_unit_test(test_output_buffer_too_small_is_etoobig),
        cmocka_unit_test(test_integer_keyed_token_is_short_unpadded_base64url),
        cmocka_unit_test(test_encoding_with_an_empty_keyring_is_einval),
        cmocka_unit_test(test_encoder_refuses_cursors_it_could_not_read_back),
        cmocka_unit_test(test_bytes_above_0x7f_in_a_token_are_invalid),
        cmocka_unit_test(test_every_single_character_change_of_a_signed_token_is_invalid),
        cmocka_unit_test(test_every_single_character_change_of_an_encrypted_token_is_invalid),
        cmocka_unit_test(test_every_truncation_and_extension_is_invalid),
        cmocka_unit_test(test_garbage_and_oversized_tokens_are_invalid),
        cmocka_unit_test(test_token_from_another_secret_is_invalid_with_the_same_detail),
        cmocka_unit_test(test_signed_and_encrypted_tokens_are_not_interchangeable),
        cmocka_unit_test(test_unknown_key_id_is_invalid),
        cmocka_unit_test(test_authentic_tokens_with_malformed_bodies_are_invalid),
        cmocka_unit_test(test_keyring_add_validates_secrets_ids_and_capacity),
        cmocka_unit_test(test_rotation_old_tokens_verify_while_the_old_key_is_kept),
        cmocka_unit_test(test_expiry_at_or_before_now_is_expired_and_zero_never_expires),
        cmocka_unit_test(test_cursor_for_another_query_is_foreign),
        cmocka_unit_test(test_status_order_is_invalid_then_foreign_then_expired),
        cmocka_unit_test(test_signed_tokens_are_version_3_keyed_blake2b),
        cmocka_unit_test(test_version_1_hmac_tokens_keep_verifying),
        cmocka_unit_test(test_fingerprint_depends_on_every_query_byte),
        cmocka_unit_test(test_encrypted_token_does_not_reveal_key_values),
        cmocka_unit_test(test_encrypted_tokens_for_the_same_cursor_differ),
        cmocka_unit_test(test_twenty_thousand_random_cursors_all_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
