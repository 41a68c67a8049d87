/* Fuzz target: the Authorization header and JWT verification (src/server/auth_jwt.c,
 * the API key lookup of auth.c). The first input byte picks what the rest is:
 *   0: an Authorization header value: parsed as Bearer, and a token found there is
 *      verified as a JWT and looked up as an API key;
 *   1: a token verified as a JWT directly;
 *   else: the token's claims, when it verifies, read at the path given after it.
 * Invariants (a violation traps): a header folio__auth_bearer accepts yields a token of
 * 1..FOLIO_AUTH_TOKEN_MAX token68 characters inside the header; verification never
 * accepts a token whose header `alg` differs from its key's pinned one (checked here
 * independently), nor one expired beyond the leeway or not yet valid, nor one for another
 * audience or issuer; a claim read is never longer than its buffer. The keys: an HS256
 * secret, an RS256 and an ES256 public key; their private halves were thrown away after
 * the corpus was signed, so no new valid signature can appear. */
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000 /* the clock the corpus was made for */

static const char hs_secret[] = "fuzzing HS256 secret, at least 32 bytes";
static const char rsa_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqyjnmqhHBMLPw6J+bN++\n"
    "WtgBcEJIEk3bam0xia+RoDlLKRcsUlwE4Bq2A/IVsz5RTEt5DmSEVPFNjoKXt96y\n"
    "O8eDBd08DwtWKWPH7Q532sausi07S+2wu6uZqDi9RYX8gpJwecax50QT1zmQ9o5z\n"
    "HQwWo0SOySh8UrUFhP/q9HNZFBWTsCyv+PUgBLcftThRkilMn4HVbG7P5XTGgAav\n"
    "/ICBw91eTg62dvStQ6CG5HHf8vMu9iGPF0p4wDkD7XW3SMTLIN4H/KKoS6AQCcGs\n"
    "KpHK8gHSXMXNbBceCR+wm/6FRJj/hAKLqQ1YN9LLxbSpMOQrt1TDj10MQ1ZIGrI2\n"
    "vwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
static const char ec_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAER0EnjEEHlPdwgSASP5sTTCmDzf2k\n"
    "yzXvF/8rD9vzFN6bQQl/pvTfMN1cSFHSz/qFlKNmoZnQfH2Cdg6kArKSDQ==\n"
    "-----END PUBLIC KEY-----\n";

static struct folio_auth auth;

static void add_key(const char *kid, enum folio_jwt_alg alg, const char *key, size_t len)
{
    struct folio_jwt_key *k = &auth.jwt[auth.njwt++];
    strcpy(k->kid, kid);
    k->alg = alg;
    k->key = malloc(len + 1);
    if (k->key == NULL)
        __builtin_trap();
    memcpy(k->key, key, len);
    k->key[len] = '\0';
    k->key_len = len;
}

static void setup(void)
{
    if (sodium_init() < 0)
        __builtin_trap();
    folio__auth_init(&auth);
    add_key("hs", FOLIO_JWT_HS256, hs_secret, sizeof hs_secret - 1);
    add_key("rsa", FOLIO_JWT_RS256, rsa_pub, sizeof rsa_pub - 1);
    add_key("ec", FOLIO_JWT_ES256, ec_pub, sizeof ec_pub - 1);
    strcpy(auth.issuer, "https://issuer.test");
    strcpy(auth.audience, "folio-tests");
    auth.leeway = 30;
    /* one API key: "fk_fuzz" */
    static struct folio_api_key key = {.name = "fuzz"};
    memset(auth.hash_key, 7, sizeof auth.hash_key);
    folio__auth_key_hash(&auth, "fk_fuzz", 7, key.hash);
    auth.keys = &key;
    auth.nkeys = 1;
}

/* The token's header alg, decoded here without folio's code, must be its key's. */
static void check_accepted(const char *tok, size_t len, json_t *claims)
{
    const char *dot = memchr(tok, '.', len);
    if (dot == NULL)
        __builtin_trap();
    unsigned char head[FOLIO_AUTH_TOKEN_MAX];
    size_t n = 0;
    if (sodium_base642bin(head, sizeof head, tok, (size_t)(dot - tok), NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        __builtin_trap();
    json_t *h = json_loadb((const char *)head, n, 0, NULL);
    const char *alg = json_string_value(json_object_get(h, "alg"));
    const char *kid = json_string_value(json_object_get(h, "kid"));
    static const char *const names[] = {"HS256", "RS256", "ES256"};
    bool pinned = false;
    for (size_t i = 0; alg != NULL && kid != NULL && i < auth.njwt; i++)
        pinned |= strcmp(auth.jwt[i].kid, kid) == 0 && strcmp(names[auth.jwt[i].alg], alg) == 0;
    if (!pinned)
        __builtin_trap();
    json_decref(h);
    json_t *exp = json_object_get(claims, "exp"), *nbf = json_object_get(claims, "nbf");
    if (!json_is_number(exp) || NOW >= json_number_value(exp) + auth.leeway)
        __builtin_trap();
    if (nbf != NULL && NOW + auth.leeway < json_number_value(nbf))
        __builtin_trap();
    if (strcmp(json_string_value(json_object_get(claims, "iss")), auth.issuer) != 0)
        __builtin_trap();
}

static void verify(const char *tok, size_t len, const char *path)
{
    json_t *claims = NULL;
    if (folio__auth_jwt_verify(&auth, tok, len, NOW, &claims)) {
        check_accepted(tok, len, claims);
        char out[16];
        if (path != NULL && folio__auth_claim(claims, path, out, sizeof out) &&
            strlen(out) >= sizeof out)
            __builtin_trap();
        json_decref(claims);
    } else if (claims != NULL) {
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        setup();
        ready = true;
    }
    if (size < 1 || size > 3 * FOLIO_AUTH_TOKEN_MAX)
        return 0;
    char *s = malloc(size);
    if (s == NULL)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    size_t n = strlen(s);
    if (data[0] == 0) {
        const char *tok;
        size_t len;
        if (folio__auth_bearer(s, &tok, &len)) {
            if (len == 0 || len > FOLIO_AUTH_TOKEN_MAX || tok < s || tok + len > s + n)
                __builtin_trap();
            verify(tok, len, "tenant");
            (void)folio__auth_key_find(&auth, tok, len);
        }
    } else if (data[0] == 1) {
        verify(s, n, NULL);
    } else {
        /* "TOKEN PATH" */
        char *sp = strchr(s, ' ');
        if (sp != NULL)
            *sp = '\0';
        verify(s, strlen(s), sp != NULL ? sp + 1 : "sub");
    }
    free(s);
    return 0;
}
