/* Identifying requests and confining them to their scope: see auth.h. */
#include "server/auth.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/http.h"
#include "server/server.h"

void folio__auth_init(struct folio_auth *a)
{
    memset(a, 0, sizeof *a);
    a->leeway = 30;
    a->require_exp = true;
}

void folio__auth_clear(struct folio_auth *a)
{
    for (size_t i = 0; i < a->nkeys; i++) {
        struct folio_api_key *k = &a->keys[i];
        for (size_t e = 0; e < k->nendpoints; e++)
            folio_free(k->endpoints[e]);
        for (size_t v = 0; v < k->nvalues; v++) {
            folio_free(k->value_names[v]);
            folio_free(k->values[v]);
        }
    }
    folio_free(a->keys);
    folio__jwt_cache_free(a->verified);
    for (size_t i = 0; i < a->njwt; i++) {
        if (a->jwt[i].key != NULL)
            sodium_memzero(a->jwt[i].key, a->jwt[i].key_len);
        folio_free(a->jwt[i].key);
        folio_free(a->jwt[i].file);
    }
    sodium_memzero(a, sizeof *a);
    folio__auth_init(a);
}

void folio__auth_key_hash(const struct folio_auth *a, const char *token, size_t len,
                          uint8_t out[FOLIO_AUTH_HASH_BYTES])
{
    crypto_generichash(out, FOLIO_AUTH_HASH_BYTES, (const unsigned char *)token, len,
                       a->hash_key, sizeof a->hash_key);
}

const struct folio_api_key *folio__auth_key_find(const struct folio_auth *a, const char *token,
                                                 size_t len)
{
    uint8_t h[FOLIO_AUTH_HASH_BYTES];
    folio__auth_key_hash(a, token, len, h);
    const struct folio_api_key *found = NULL;
    /* Every stored hash is compared, in constant time, whichever matches. */
    for (size_t i = 0; i < a->nkeys; i++)
        if (sodium_memcmp(h, a->keys[i].hash, sizeof h) == 0)
            found = &a->keys[i];
    sodium_memzero(h, sizeof h);
    return found;
}

/* A key limited to some endpoints may read those (and the index); an unlimited key reads
 * whatever its mode protects. */
static bool key_allows(const struct folio_api_key *k, const char *path)
{
    if (k->nendpoints == 0 || strcmp(path, "/") == 0)
        return true;
    bool files = strcmp(path, "/files") == 0 || strncmp(path, "/files/", 7) == 0;
    for (size_t i = 0; i < k->nendpoints; i++)
        if (strcmp(k->endpoints[i], files ? "/files" : path) == 0)
            return true;
    return false;
}

static const char *key_value(const struct folio_api_key *k, const char *name)
{
    for (size_t i = 0; i < k->nvalues; i++)
        if (strcmp(k->value_names[i], name) == 0)
            return k->values[i];
    return NULL;
}

/* The endpoint's scope from the key's values or the token's claims: false when one is
 * missing (the credential cannot be confined, so it may not read here). */
static bool resolve_scope(struct folio_principal *p, const struct folio_endpoint *ep,
                          const struct folio_api_key *k, const json_t *claims)
{
    p->scope.n = 0;
    for (size_t i = 0; ep != NULL && i < ep->nscope; i++) {
        const struct folio_scope_rule *r = &ep->scope[i];
        char *out = p->scope.value[i];
        if (r->from_claims) {
            if (claims == NULL || !folio__auth_claim(claims, r->name, out, FOLIO_AUTH_VALUE_MAX))
                return false;
        } else {
            const char *v = k ? key_value(k, r->name) : NULL;
            if (v == NULL || strlen(v) >= FOLIO_AUTH_VALUE_MAX || v[0] == '\0')
                return false;
            memcpy(out, v, strlen(v) + 1);
        }
        p->scope.column[i] = r->column;
        p->scope.n = i + 1;
    }
    return true;
}

enum folio_auth_verdict folio__auth_identify(struct folio_http *h)
{
    struct folio_principal *p = &h->principal;
    p->authenticated = false;
    p->name[0] = '\0';
    p->rate = 0;
    p->burst = 0;
    p->scope.n = 0;
    const struct folio_auth *a = h->srv->cfg.auth;
    if (a == NULL || strcmp(h->method, "OPTIONS") == 0)
        return FOLIO_AUTH_PASS; /* a CORS preflight carries no credentials */
    const struct folio_endpoint *ep = h->route >= 0 ? &h->srv->endpoints[h->route] : NULL;
    if (ep == NULL && (strcmp(h->path, "/healthz") == 0 || strcmp(h->path, "/metrics") == 0))
        return FOLIO_AUTH_PASS; /* open, or guarded by its own token */
    int mode = ep != NULL && ep->auth >= 0 ? ep->auth : (int)a->mode;
    if (mode == FOLIO_AUTH_NONE)
        return FOLIO_AUTH_PASS;
    const char *header = folio__http_request_header(h, "Authorization");
    const char *tok;
    size_t len;
    if (header == NULL)
        return FOLIO_AUTH_MISSING;
    if (!folio__auth_bearer(header, &tok, &len))
        return FOLIO_AUTH_INVALID;
    if (mode == FOLIO_AUTH_API_KEY) {
        const struct folio_api_key *k = folio__auth_key_find(a, tok, len);
        if (k == NULL)
            return FOLIO_AUTH_INVALID;
        p->authenticated = true;
        snprintf(p->name, sizeof p->name, "key:%s", k->name);
        p->rate = k->rate;
        p->burst = k->burst;
        if (!key_allows(k, ep != NULL ? ep->path : h->path) || !resolve_scope(p, ep, k, NULL))
            return FOLIO_AUTH_FORBIDDEN;
        return FOLIO_AUTH_PASS;
    }
    json_t *claims = NULL;
    if (!folio__auth_jwt_verify(a, tok, len, (int64_t)time(NULL), &claims))
        return FOLIO_AUTH_INVALID;
    p->authenticated = true;
    char sub[FOLIO_AUTH_NAME_MAX - 8];
    if (folio__auth_claim(claims, "sub", sub, sizeof sub))
        snprintf(p->name, sizeof p->name, "jwt:%s", sub);
    else
        p->name[0] = '\0'; /* no subject: its rate bucket stays the address's */
    bool scoped = resolve_scope(p, ep, NULL, claims);
    json_decref(claims);
    return scoped ? FOLIO_AUTH_PASS : FOLIO_AUTH_FORBIDDEN;
}

void folio__auth_refuse(struct folio_http *h, enum folio_auth_verdict v)
{
    if (v == FOLIO_AUTH_FORBIDDEN) {
        folio__http_header_add(h, "WWW-Authenticate",
                               "Bearer realm=\"folio\", error=\"insufficient_scope\"");
        folio__problem(h, 403, "forbidden", "Forbidden",
                       "the credential given may not read this resource", NULL);
        return;
    }
    folio__http_header_add(h, "WWW-Authenticate",
                           v == FOLIO_AUTH_MISSING
                               ? "Bearer realm=\"folio\""
                               : "Bearer realm=\"folio\", error=\"invalid_token\"");
    folio__problem(h, 401, "unauthorized", "Unauthorized",
                   "this resource needs a valid credential: Authorization: Bearer <token>",
                   NULL);
}

bool folio__auth_metrics_allowed(struct folio_http *h)
{
    const struct folio_auth *a = h->srv->cfg.auth;
    if (a == NULL || !a->metrics_token)
        return true;
    const char *tok;
    size_t len;
    if (!folio__auth_bearer(folio__http_request_header(h, "Authorization"), &tok, &len))
        return false;
    uint8_t got[FOLIO_AUTH_HASH_BYTES];
    crypto_generichash(got, sizeof got, (const unsigned char *)tok, len, NULL, 0);
    return sodium_memcmp(got, a->metrics_hash, sizeof got) == 0;
}

folio_status folio__auth_scope_filters(const struct folio_http *h,
                                       const struct folio_endpoint *ep,
                                       struct folio_filter_set *filters,
                                       struct folio_error *err)
{
    const struct folio_scope *s = &h->principal.scope;
    /* Never served unscoped: a scope that does not match the endpoint's is an error. */
    if (s->n != ep->nscope)
        return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_INTERNAL, NULL,
                               "the request's scope does not match the endpoint");
    for (size_t i = 0; i < s->n; i++) {
        if (s->column[i] != ep->scope[i].column)
            return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_INTERNAL, NULL,
                                   "the request's scope does not match the endpoint");
        const struct folio_column *col = &ep->table->cols[s->column[i]];
        char text[FOLIO_AUTH_VALUE_MAX + 4];
        snprintf(text, sizeof text, "eq.%s", s->value[i]);
        folio_status st = folio_filter_add(filters, s->column[i], col->decl_type, col->name,
                                           text, err);
        if (st != FOLIO_OK)
            return st;
    }
    return FOLIO_OK;
}

folio_status folio__auth_scope_key(struct folio_buf *out, const struct folio_scope *s)
{
    folio_status st = FOLIO_OK;
    /* '\n' never appears in a key otherwise: paths and parameters are percent-encoded. */
    for (size_t i = 0; i < s->n && st == FOLIO_OK; i++) {
        st = folio_buf_printf(out, "\nscope:%d=", s->column[i]);
        if (st == FOLIO_OK)
            st = folio_url_encode(out, s->value[i], strlen(s->value[i]));
    }
    return st;
}
