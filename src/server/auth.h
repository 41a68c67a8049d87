/* Who may read what: API keys, JWT bearer tokens, per-endpoint access and tenant scope.
 *
 * The settings ([auth], [[auth.jwt_keys]], the keys file) are loaded once per server
 * generation into a struct folio_auth (config_auth.c), read-only afterwards; a SIGHUP
 * makes a new generation and so re-reads every key file. Each request is identified on
 * the thread that reads it (folio__auth_identify, before the rate limit: an authenticated
 * request spends its principal's tokens, not its address's), and answered 401/403 when it
 * may not go on (folio__auth_refuse). What the principal may see travels with the request
 * as a struct folio_scope: bound `=` filters that the page handler adds (folio__auth_scope_
 * filters), and that the page cache key includes (folio__auth_scope_key).
 *
 * 401 and 403 bodies never say which check failed: a bad signature, an expired token, an
 * unknown key and a wrong audience read the same.
 *
 * Thread-safety: a loaded struct folio_auth is read-only and shared by every thread. */
#ifndef FOLIO_SERVER_AUTH_H
#define FOLIO_SERVER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/folio.h"

enum folio_auth_mode {
    FOLIO_AUTH_NONE = 0,
    FOLIO_AUTH_API_KEY = 1,
    FOLIO_AUTH_JWT = 2,
};

#define FOLIO_AUTH_SCOPE_MAX 4      /* scope columns of one endpoint */
#define FOLIO_AUTH_VALUE_MAX 256    /* bytes of one scope value, with its NUL */
#define FOLIO_AUTH_NAME_MAX 128     /* a principal's name, with its NUL */
#define FOLIO_AUTH_TOKEN_MAX 8192   /* longest bearer token looked at */
#define FOLIO_AUTH_JWT_KEYS_MAX 16
#define FOLIO_AUTH_HASH_BYTES 32

/* The values a principal's requests are confined to: row filters `column = value`. */
struct folio_scope {
    size_t n;
    int column[FOLIO_AUTH_SCOPE_MAX];
    char value[FOLIO_AUTH_SCOPE_MAX][FOLIO_AUTH_VALUE_MAX];
};

/* Who made a request, once identified. */
struct folio_principal {
    bool authenticated;
    char name[FOLIO_AUTH_NAME_MAX]; /* "key:NAME" or "jwt:SUB"; "" when anonymous */
    double rate;                    /* the key's own rate limit; 0 = none of its own */
    unsigned burst;
    struct folio_scope scope;       /* for the endpoint the request goes to */
};

/* One API key as stored in the keys file: never the key itself, its keyed hash. */
#define FOLIO_AUTH_KEY_ENDPOINTS_MAX 32
#define FOLIO_AUTH_KEY_VALUES_MAX 8
struct folio_api_key {
    char name[64];
    uint8_t hash[FOLIO_AUTH_HASH_BYTES];
    size_t nendpoints; /* 0 = every endpoint of mode api_key */
    char *endpoints[FOLIO_AUTH_KEY_ENDPOINTS_MAX];
    double rate;
    unsigned burst;
    size_t nvalues; /* per-key scope values: key.NAME in an endpoint's scope */
    char *value_names[FOLIO_AUTH_KEY_VALUES_MAX];
    char *values[FOLIO_AUTH_KEY_VALUES_MAX];
};

enum folio_jwt_alg { FOLIO_JWT_HS256, FOLIO_JWT_RS256, FOLIO_JWT_ES256 };

struct folio_jwt_key {
    char kid[128];          /* "" = none: then it must be the only key */
    enum folio_jwt_alg alg; /* pinned: a token naming another algorithm is refused */
    unsigned char *key;     /* the HMAC secret or the PEM public key (owned, NUL-ended) */
    size_t key_len;
    char *file;             /* where it was read from (owned; check-config writes it) */
};

/* Tokens whose signature verified (by BLAKE2b-256 of the whole token): a client sends the
 * same token many times, and an RS256 or ES256 verification costs far more than a page.
 * Only the signature is remembered; exp, nbf, iss and aud are checked on every request.
 * Per server generation (a reload or a rotated key starts empty). Thread-safe. */
struct folio_jwt_cache;
folio_status folio__jwt_cache_new(struct folio_jwt_cache **out);
void folio__jwt_cache_free(struct folio_jwt_cache *c);

struct folio_auth {
    enum folio_auth_mode mode; /* the server's; endpoints may override */
    /* API keys */
    uint8_t hash_key[FOLIO_AUTH_HASH_BYTES]; /* derived from the keys secret file */
    size_t nkeys;
    struct folio_api_key *keys; /* owned */
    /* JWT */
    size_t njwt;
    struct folio_jwt_key jwt[FOLIO_AUTH_JWT_KEYS_MAX];
    char issuer[256];   /* "" = not checked */
    char audience[256]; /* "" = not checked */
    struct folio_jwt_cache *verified; /* owned; NULL = verify every time */
    unsigned leeway;    /* seconds of clock skew allowed on exp and nbf */
    bool require_exp;
    /* /metrics */
    bool metrics_token; /* /metrics wants Authorization: Bearer <its token> */
    uint8_t metrics_hash[FOLIO_AUTH_HASH_BYTES];
};

void folio__auth_init(struct folio_auth *a);
/* Free the keys and wipe every secret. */
void folio__auth_clear(struct folio_auth *a);

/* The bearer token of an Authorization header value: "Bearer" (any case), one or more
 * spaces, then a token68 (RFC 6750 section 2.1) and optional trailing spaces. False for
 * anything else (another scheme, an empty or over-long token, a character outside
 * token68). `header` may be NULL. Thread-safe. */
bool folio__auth_bearer(const char *header, const char **out_token, size_t *out_len);

/* The keyed hash an API key is stored as. */
void folio__auth_key_hash(const struct folio_auth *a, const char *token, size_t len,
                          uint8_t out[FOLIO_AUTH_HASH_BYTES]);
/* The key whose hash matches, compared in constant time against every stored key; NULL
 * when none does. */
const struct folio_api_key *folio__auth_key_find(const struct folio_auth *a, const char *token,
                                                 size_t len);

/* Verify a JWT: the key chosen by `kid` (or the only key), the token's `alg` equal to the
 * key's pinned algorithm (so "none" and HS256-against-an-RSA-key are refused before any
 * verification), the signature (libjwt), then exp/nbf with the leeway, iss and aud. On
 * true *out_claims is the payload as a jansson object (json_decref it); false for any
 * token that fails a check, whatever its bytes. `now` is unix seconds. Thread-safe. */
struct json_t;
bool folio__auth_jwt_verify(const struct folio_auth *a, const char *token, size_t len,
                            int64_t now, struct json_t **out_claims) FOLIO_MUST_CHECK;

/* The text of a claim at a dotted path ("tenant", "org.id") when it is a string or an
 * integer that fits `out`; false otherwise. */
bool folio__auth_claim(const struct json_t *claims, const char *path, char *out, size_t size);

struct folio_http;
struct folio_endpoint;
struct folio_filter_set;

/* What folio__auth_identify decided. */
enum folio_auth_verdict {
    FOLIO_AUTH_PASS,      /* go on (h->principal says who, if anyone) */
    FOLIO_AUTH_MISSING,   /* 401 without an error code */
    FOLIO_AUTH_INVALID,   /* 401 invalid_token */
    FOLIO_AUTH_FORBIDDEN, /* 403 insufficient_scope */
};

/* Identify the request's principal (h->principal) and decide whether its route may be
 * served to it. Sets nothing but h->principal; answers nothing. */
enum folio_auth_verdict folio__auth_identify(struct folio_http *h);
/* Answer 401 or 403 for `v` with a problem and WWW-Authenticate (RFC 6750 section 3). */
void folio__auth_refuse(struct folio_http *h, enum folio_auth_verdict v);

/* Whether /metrics may be answered to this request (its own token, when one is set). */
bool folio__auth_metrics_allowed(struct folio_http *h);

/* Add h->principal's scope to `filters` as `column = value` filters (typed and bound like
 * a request's eq. filters). A scope that cannot be added fails the request (never served
 * unscoped): FOLIO_EPARAM with err. */
folio_status folio__auth_scope_filters(const struct folio_http *h,
                                       const struct folio_endpoint *ep,
                                       struct folio_filter_set *filters,
                                       struct folio_error *err) FOLIO_MUST_CHECK;

/* Append the scope to a page cache key (nothing when it is empty). */
folio_status folio__auth_scope_key(struct folio_buf *out, const struct folio_scope *s);

#endif
