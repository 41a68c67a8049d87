/* Bearer tokens and JWT verification: see auth.h.
 *
 * libjwt 1.10 takes the algorithm from the token's own header, so handing it a key is
 * not enough: an HS256 token "verified" with an RSA public key's PEM text as the HMAC
 * secret is the classic algorithm confusion. The header is therefore read here first;
 * the key is chosen by `kid`, and the token's `alg` must equal the algorithm pinned to
 * that key before libjwt sees it. "none" is never pinned, so it never gets that far. */
#include <jansson.h>
#include <jwt.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/auth.h"

static const char *const alg_names[] = {"HS256", "RS256", "ES256"};

#define CACHE_SLOTS 4096 /* tokens remembered; a new one takes its slot's place */
#define CACHE_LOCKS 16

struct folio_jwt_cache {
    pthread_mutex_t lock[CACHE_LOCKS];
    uint8_t key[crypto_generichash_KEYBYTES]; /* random: slots cannot be aimed at */
    uint8_t hash[CACHE_SLOTS][32];
    bool used[CACHE_SLOTS];
};

folio_status folio__jwt_cache_new(struct folio_jwt_cache **out)
{
    struct folio_jwt_cache *c = folio_calloc(1, sizeof *c);
    *out = c;
    if (c == NULL)
        return FOLIO_ENOMEM;
    for (size_t i = 0; i < CACHE_LOCKS; i++)
        pthread_mutex_init(&c->lock[i], NULL);
    randombytes_buf(c->key, sizeof c->key);
    return FOLIO_OK;
}

void folio__jwt_cache_free(struct folio_jwt_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < CACHE_LOCKS; i++)
        pthread_mutex_destroy(&c->lock[i]);
    folio_free(c);
}

/* Whether the token is remembered as verified; with `remember`, remember it too. */
static bool cache_op(struct folio_jwt_cache *c, const char *token, size_t len, bool remember)
{
    if (c == NULL)
        return false;
    uint8_t h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)token, len, c->key, sizeof c->key);
    size_t slot = ((size_t)h[0] << 8 | h[1]) % CACHE_SLOTS;
    pthread_mutex_t *lock = &c->lock[slot % CACHE_LOCKS];
    pthread_mutex_lock(lock);
    bool hit = c->used[slot] && sodium_memcmp(c->hash[slot], h, sizeof h) == 0;
    if (remember) {
        memcpy(c->hash[slot], h, sizeof h);
        c->used[slot] = true;
    }
    pthread_mutex_unlock(lock);
    return hit;
}
static const jwt_alg_t alg_libjwt[] = {JWT_ALG_HS256, JWT_ALG_RS256, JWT_ALG_ES256};

static bool token68(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

bool folio__auth_bearer(const char *header, const char **out_token, size_t *out_len)
{
    if (header == NULL || strncasecmp(header, "Bearer", 6) != 0 ||
        (header[6] != ' ' && header[6] != '\t'))
        return false;
    const char *p = header + 6;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = 0;
    while (n <= FOLIO_AUTH_TOKEN_MAX && token68((unsigned char)p[n]))
        n++;
    if (n == 0 || n > FOLIO_AUTH_TOKEN_MAX)
        return false;
    /* '=' only as padding at the end of a token68 */
    size_t pad = 0;
    while (pad < n && p[n - 1 - pad] == '=')
        pad++;
    if (memchr(p, '=', n - pad) != NULL)
        return false;
    const char *end = p + n;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != '\0')
        return false;
    *out_token = p;
    *out_len = n;
    return true;
}

/* Decode one base64url segment (no padding) into a NUL-ended buffer of `size` bytes. */
static bool segment(const char *s, size_t len, char *out, size_t size, size_t *out_len)
{
    size_t n = 0;
    if (len == 0 || sodium_base642bin((unsigned char *)out, size - 1, s, len, NULL, &n, NULL,
                                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return false;
    out[n] = '\0';
    *out_len = n;
    return true;
}

/* A JSON object without duplicate keys: a claim given twice must not mean one thing to
 * libjwt and another here. */
static json_t *object_of(const char *text, size_t len)
{
    json_error_t e;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    if (o != NULL && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

static const struct folio_jwt_key *pick_key(const struct folio_auth *a, const json_t *header)
{
    const json_t *alg = json_object_get(header, "alg");
    const json_t *kid = json_object_get(header, "kid");
    if (!json_is_string(alg) || (kid != NULL && !json_is_string(kid)))
        return NULL;
    /* A header naming extensions the verifier must understand: folio understands none. */
    if (json_object_get(header, "crit") != NULL)
        return NULL;
    const struct folio_jwt_key *k = NULL;
    if (kid != NULL) {
        for (size_t i = 0; i < a->njwt; i++)
            if (strcmp(a->jwt[i].kid, json_string_value(kid)) == 0)
                k = &a->jwt[i];
    } else if (a->njwt == 1) {
        k = &a->jwt[0];
    }
    if (k == NULL || strcmp(json_string_value(alg), alg_names[k->alg]) != 0)
        return NULL;
    return k;
}

/* A NumericDate claim (RFC 7519 section 2): absent (false in *present), or a number. */
static bool numeric_date(const json_t *claims, const char *name, bool *present, double *out)
{
    const json_t *v = json_object_get(claims, name);
    *present = v != NULL;
    if (v == NULL)
        return true;
    if (!json_is_number(v))
        return false;
    *out = json_number_value(v);
    return isfinite(*out);
}

static bool audience_ok(const struct folio_auth *a, const json_t *claims)
{
    if (a->audience[0] == '\0')
        return true;
    const json_t *aud = json_object_get(claims, "aud");
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), a->audience) == 0;
    for (size_t i = 0; json_is_array(aud) && i < json_array_size(aud); i++) {
        const json_t *v = json_array_get(aud, i);
        if (json_is_string(v) && strcmp(json_string_value(v), a->audience) == 0)
            return true;
    }
    return false;
}

static bool claims_ok(const struct folio_auth *a, const json_t *claims, int64_t now)
{
    bool has_exp, has_nbf;
    double exp = 0, nbf = 0;
    if (!numeric_date(claims, "exp", &has_exp, &exp) || !numeric_date(claims, "nbf", &has_nbf, &nbf))
        return false;
    if (a->require_exp && !has_exp)
        return false;
    double t = (double)now, leeway = (double)a->leeway;
    if (has_exp && t >= exp + leeway)
        return false;
    if (has_nbf && t + leeway < nbf)
        return false;
    if (a->issuer[0] != '\0') {
        const json_t *iss = json_object_get(claims, "iss");
        if (!json_is_string(iss) || strcmp(json_string_value(iss), a->issuer) != 0)
            return false;
    }
    return audience_ok(a, claims);
}

bool folio__auth_jwt_verify(const struct folio_auth *a, const char *token, size_t len,
                            int64_t now, json_t **out_claims)
{
    *out_claims = NULL;
    if (len == 0 || len > FOLIO_AUTH_TOKEN_MAX || memchr(token, '\0', len) != NULL)
        return false;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot1 == NULL || dot2 == NULL ||
        memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL || dot2 + 1 == token + len)
        return false;
    char buf[FOLIO_AUTH_TOKEN_MAX]; /* a decoded segment is shorter than the token */
    size_t n;
    if (!segment(token, (size_t)(dot1 - token), buf, sizeof buf, &n))
        return false;
    json_t *header = object_of(buf, n);
    if (header == NULL)
        return false;
    const struct folio_jwt_key *k = pick_key(a, header);
    json_decref(header);
    if (k == NULL)
        return false;
    if (!segment(dot1 + 1, (size_t)(dot2 - dot1 - 1), buf, sizeof buf, &n))
        return false;
    json_t *claims = object_of(buf, n);
    if (claims == NULL)
        return false;

    /* The signature: remembered, or verified by libjwt (which wants a NUL-ended token;
     * the header value may go on past it). */
    bool known = cache_op(a->verified, token, len, false);
    char *copy = known ? NULL : folio_malloc(len + 1);
    bool ok = known || copy != NULL;
    jwt_t *jwt = NULL;
    if (!known && ok) {
        memcpy(copy, token, len);
        copy[len] = '\0';
        ok = jwt_decode(&jwt, copy, k->key, (int)k->key_len) == 0 && jwt != NULL &&
             jwt_get_alg(jwt) == alg_libjwt[k->alg];
    }
    if (jwt != NULL)
        jwt_free(jwt);
    folio_free(copy);
    if (ok && !known)
        cache_op(a->verified, token, len, true);
    if (ok)
        ok = claims_ok(a, claims, now);
    if (!ok) {
        json_decref(claims);
        return false;
    }
    *out_claims = claims;
    return true;
}

bool folio__auth_claim(const json_t *claims, const char *path, char *out, size_t size)
{
    const json_t *v = claims;
    char name[FOLIO_AUTH_VALUE_MAX];
    for (const char *p = path; v != NULL;) {
        size_t len = strcspn(p, ".");
        if (len == 0 || len >= sizeof name || !json_is_object(v))
            return false;
        memcpy(name, p, len);
        name[len] = '\0';
        v = json_object_get(v, name);
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    int w;
    if (json_is_string(v)) {
        size_t len = json_string_length(v);
        if (len == 0 || len >= size || memchr(json_string_value(v), '\0', len) != NULL)
            return false;
        memcpy(out, json_string_value(v), len + 1);
        return true;
    }
    if (json_is_integer(v)) {
        w = snprintf(out, size, "%lld", (long long)json_integer_value(v));
        return w > 0 && (size_t)w < size;
    }
    return false;
}
