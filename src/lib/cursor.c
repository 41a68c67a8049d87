/* Cursor codec: see folio/cursor.h for the format. */
#include "folio/cursor.h"

#include <sodium.h>
#include <string.h>

#define VERSION_SIGNED_HMAC 1 /* HMAC-SHA256: still verified, no longer issued */
#define VERSION_ENCRYPTED 2
#define VERSION_SIGNED 3      /* keyed BLAKE2b-128 */
#define MAC_BYTES 16
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES

void folio_keyring_init(struct folio_keyring *kr, bool encrypt)
{
    memset(kr, 0, sizeof *kr);
    kr->encrypt = encrypt;
}

void folio_keyring_clear(struct folio_keyring *kr)
{
    sodium_memzero(kr, sizeof *kr);
}

folio_status folio_keyring_add(struct folio_keyring *kr, uint8_t id, const void *secret,
                               size_t len)
{
    if (len < 16)
        return FOLIO_EINVAL;
    if (kr->n == FOLIO_KEYRING_MAX)
        return FOLIO_ELIMIT;
    for (size_t i = 0; i < kr->n; i++)
        if (kr->keys[i].id == id)
            return FOLIO_EINVAL;
    if (sodium_init() < 0)
        return FOLIO_EINVAL;
    struct folio_cursor_key *k = &kr->keys[kr->n];
    k->id = id;
    /* Independent subkeys: BLAKE2b keyed by a purpose label, over the secret. */
    static const char mac_label[] = "folio cursor mac v1";
    static const char enc_label[] = "folio cursor enc v1";
    static const char b2_label[] = "folio cursor mac v3";
    crypto_generichash(k->mac_key, sizeof k->mac_key, secret, len,
                       (const unsigned char *)mac_label, sizeof mac_label - 1);
    crypto_generichash(k->enc_key, sizeof k->enc_key, secret, len,
                       (const unsigned char *)enc_label, sizeof enc_label - 1);
    /* The version 3 MAC: BLAKE2b keyed with its own subkey, the key block absorbed once
     * here (the state is copied per token). */
    unsigned char b2_key[crypto_generichash_KEYBYTES];
    crypto_generichash(b2_key, sizeof b2_key, secret, len, (const unsigned char *)b2_label,
                       sizeof b2_label - 1);
    crypto_generichash_state st;
    _Static_assert(sizeof st <= sizeof k->mac_state, "mac_state too small");
    crypto_generichash_init(&st, b2_key, sizeof b2_key, MAC_BYTES);
    memcpy(k->mac_state, &st, sizeof st);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(b2_key, sizeof b2_key);
    kr->n++;
    return FOLIO_OK;
}

/* The version 3 tag of `p`: keyed BLAKE2b-128, from the key's precomputed state. */
static void mac(const struct folio_cursor_key *k, const unsigned char *p, size_t n,
                unsigned char out[MAC_BYTES])
{
    crypto_generichash_state st;
    memcpy(&st, k->mac_state, sizeof st);
    crypto_generichash_update(&st, p, n);
    crypto_generichash_final(&st, out, MAC_BYTES);
    sodium_memzero(&st, sizeof st);
}

/* The version 1 tag: HMAC-SHA256 truncated to 16 bytes (cursors issued before version 3,
 * verified until they expire). */
static void mac_hmac(const struct folio_cursor_key *k, const unsigned char *p, size_t n,
                     unsigned char out[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256(out, p, n, k->mac_key);
}

void folio_cursor_fingerprint(const void *query, size_t len,
                              uint8_t out[FOLIO_CURSOR_FINGERPRINT_BYTES])
{
    unsigned char h[crypto_generichash_BYTES_MIN];
    crypto_generichash(h, sizeof h, query, len, NULL, 0);
    memcpy(out, h, FOLIO_CURSOR_FINGERPRINT_BYTES);
}

/* --- body serialisation ------------------------------------------------------------ */

struct writer {
    unsigned char *p;
    size_t len, cap;
    bool overflow;
};

static void put_bytes(struct writer *w, const void *p, size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = true;
        return;
    }
    memcpy(w->p + w->len, p, n);
    w->len += n;
}

static void put_byte(struct writer *w, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put_bytes(w, &c, 1);
}

static void put_varint(struct writer *w, uint64_t v)
{
    while (v >= 0x80) {
        put_byte(w, (unsigned)(v & 0x7f) | 0x80);
        v >>= 7;
    }
    put_byte(w, (unsigned)v);
}

static void put_body(struct writer *w, const struct folio_cursor *c)
{
    put_byte(w, c->flags);
    put_varint(w, c->expires);
    put_bytes(w, c->fingerprint, FOLIO_CURSOR_FINGERPRINT_BYTES);
    put_byte(w, (unsigned)c->nkeys);
    for (size_t i = 0; i < c->nkeys; i++) {
        const struct folio_value *v = &c->keys[i];
        put_byte(w, (unsigned)v->type);
        switch (v->type) {
        case FOLIO_VALUE_NULL:
            break;
        case FOLIO_VALUE_INT:
            put_varint(w, ((uint64_t)v->i << 1) ^ (uint64_t)(v->i >> 63));
            break;
        case FOLIO_VALUE_REAL: {
            uint64_t bits;
            unsigned char le[8];
            memcpy(&bits, &v->d, 8);
            for (int b = 0; b < 8; b++)
                le[b] = (unsigned char)(bits >> (8 * b));
            put_bytes(w, le, 8);
            break;
        }
        case FOLIO_VALUE_TEXT:
        case FOLIO_VALUE_BLOB:
            put_varint(w, v->len);
            put_bytes(w, v->s, v->len);
            break;
        }
    }
}

struct reader {
    const unsigned char *p;
    size_t len, pos;
};

static bool get_byte(struct reader *r, unsigned *out)
{
    if (r->pos >= r->len)
        return false;
    *out = r->p[r->pos++];
    return true;
}

static bool get_varint(struct reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        unsigned b;
        if (!get_byte(r, &b))
            return false;
        if (shift == 63 && b > 1)
            return false;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            /* Reject non-minimal encodings so each cursor has exactly one spelling. */
            if (b == 0 && shift > 0)
                return false;
            *out = v;
            return true;
        }
    }
    return false;
}

/* Parse a body; values point into `body`, which must outlive `out`. */
static bool get_body(struct reader *r, struct folio_cursor *out)
{
    unsigned flags, nkeys;
    if (!get_byte(r, &flags) || (flags & ~3u) != 0)
        return false;
    out->flags = flags;
    if (!get_varint(r, &out->expires))
        return false;
    if (r->len - r->pos < FOLIO_CURSOR_FINGERPRINT_BYTES)
        return false;
    memcpy(out->fingerprint, r->p + r->pos, FOLIO_CURSOR_FINGERPRINT_BYTES);
    r->pos += FOLIO_CURSOR_FINGERPRINT_BYTES;
    if (!get_byte(r, &nkeys) || nkeys > FOLIO_CURSOR_MAX_KEYS)
        return false;
    out->nkeys = nkeys;
    for (size_t i = 0; i < nkeys; i++) {
        struct folio_value *v = &out->keys[i];
        unsigned tag;
        uint64_t u;
        memset(v, 0, sizeof *v);
        if (!get_byte(r, &tag))
            return false;
        switch (tag) {
        case FOLIO_VALUE_NULL:
            break;
        case FOLIO_VALUE_INT:
            if (!get_varint(r, &u))
                return false;
            v->i = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
            break;
        case FOLIO_VALUE_REAL: {
            if (r->len - r->pos < 8)
                return false;
            uint64_t bits = 0;
            for (int b = 0; b < 8; b++)
                bits |= (uint64_t)r->p[r->pos + (size_t)b] << (8 * b);
            r->pos += 8;
            memcpy(&v->d, &bits, 8);
            break;
        }
        case FOLIO_VALUE_TEXT:
        case FOLIO_VALUE_BLOB:
            if (!get_varint(r, &u) || u > r->len - r->pos)
                return false;
            v->s = (const char *)r->p + r->pos;
            v->len = (size_t)u;
            r->pos += (size_t)u;
            break;
        default:
            return false;
        }
        v->type = (enum folio_value_type)tag;
    }
    return r->pos == r->len; /* no trailing bytes */
}

/* --- token ------------------------------------------------------------------------- */

folio_status folio_cursor_encode(const struct folio_keyring *kr, const struct folio_cursor *c,
                                 char *out, size_t out_size, size_t *out_len)
{
    if (kr->n == 0 || c->nkeys > FOLIO_CURSOR_MAX_KEYS ||
        (c->flags & ~(unsigned)(FOLIO_CURSOR_BEFORE | FOLIO_CURSOR_INCLUSIVE)) != 0)
        return FOLIO_EINVAL;
    const struct folio_cursor_key *k = &kr->keys[0];
    unsigned char raw[FOLIO_CURSOR_MAX_BYTES];
    unsigned char body[FOLIO_CURSOR_MAX_BYTES];
    struct writer bw = {body, 0, sizeof body - (2 + NONCE_BYTES + TAG_BYTES), false};
    put_body(&bw, c);
    if (bw.overflow)
        return FOLIO_ETOOBIG;

    size_t n;
    raw[1] = k->id;
    if (kr->encrypt) {
        raw[0] = VERSION_ENCRYPTED;
        unsigned char *nonce = raw + 2;
        randombytes_buf(nonce, NONCE_BYTES);
        unsigned long long clen;
        crypto_aead_xchacha20poly1305_ietf_encrypt(raw + 2 + NONCE_BYTES, &clen, body, bw.len,
                                                   raw, 2, NULL, nonce, k->enc_key);
        n = 2 + NONCE_BYTES + (size_t)clen;
    } else {
        raw[0] = VERSION_SIGNED;
        memcpy(raw + 2, body, bw.len);
        mac(k, raw, 2 + bw.len, raw + 2 + bw.len);
        n = 2 + bw.len + MAC_BYTES;
    }
    size_t need = sodium_base64_encoded_len(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (need > out_size)
        return FOLIO_ETOOBIG;
    /* libsodium clears the whole output buffer first: give it only what it needs. */
    sodium_bin2base64(out, need, raw, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (out_len != NULL)
        *out_len = need - 1;
    sodium_memzero(body, sizeof body);
    return FOLIO_OK;
}

static folio_status invalid(struct folio_error *err)
{
    return folio_error_set(err, FOLIO_ECURSOR_INVALID, FOLIO_KIND_INPUT, NULL, "invalid cursor");
}

folio_status folio_cursor_decode(const struct folio_keyring *kr, const char *token, size_t len,
                                 uint64_t now,
                                 const uint8_t fingerprint[FOLIO_CURSOR_FINGERPRINT_BYTES],
                                 struct folio_cursor *out, struct folio_error *err)
{
    memset(out, 0, offsetof(struct folio_cursor, storage));
    if (len == 0 || len >= FOLIO_CURSOR_MAX_TOKEN)
        return invalid(err);
    /* libsodium 1.0.18 decodes bytes >= 0x80 as if they were '_': check the alphabet
     * first so that each cursor has exactly one spelling. */
    for (size_t i = 0; i < len; i++) {
        char c = token[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return invalid(err);
    }
    unsigned char raw[FOLIO_CURSOR_MAX_BYTES];
    size_t n;
    const char *end;
    /* No ignore set: any character outside the alphabet, '=' included, is an error, and
     * libsodium rejects non-zero leftover bits, so each token has one spelling. */
    if (sodium_base642bin(raw, sizeof raw, token, len, NULL, &n, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        end != token + len || n < 2)
        return invalid(err);

    const struct folio_cursor_key *k = NULL;
    for (size_t i = 0; i < kr->n; i++)
        if (kr->keys[i].id == raw[1])
            k = &kr->keys[i];
    if (k == NULL)
        return invalid(err);

    size_t body_len;
    if ((raw[0] == VERSION_SIGNED || raw[0] == VERSION_SIGNED_HMAC) && !kr->encrypt) {
        if (n < 2 + MAC_BYTES)
            return invalid(err);
        body_len = n - 2 - MAC_BYTES;
        unsigned char tag[crypto_auth_hmacsha256_BYTES];
        if (raw[0] == VERSION_SIGNED)
            mac(k, raw, 2 + body_len, tag);
        else
            mac_hmac(k, raw, 2 + body_len, tag);
        if (sodium_memcmp(tag, raw + 2 + body_len, MAC_BYTES) != 0)
            return invalid(err);
        memcpy(out->storage, raw + 2, body_len);
    } else if (raw[0] == VERSION_ENCRYPTED && kr->encrypt) {
        if (n < 2 + NONCE_BYTES + TAG_BYTES)
            return invalid(err);
        unsigned long long plen;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(out->storage, &plen, NULL,
                                                       raw + 2 + NONCE_BYTES,
                                                       n - 2 - NONCE_BYTES, raw, 2, raw + 2,
                                                       k->enc_key) != 0)
            return invalid(err);
        body_len = (size_t)plen;
    } else {
        return invalid(err);
    }

    struct reader r = {out->storage, body_len, 0};
    if (!get_body(&r, out))
        return invalid(err);
    if (sodium_memcmp(out->fingerprint, fingerprint, FOLIO_CURSOR_FINGERPRINT_BYTES) != 0)
        return folio_error_set(err, FOLIO_ECURSOR_FOREIGN, FOLIO_KIND_INPUT, NULL,
                               "cursor does not belong to this query (its table, sort or "
                               "filters differ); start again from the first page");
    if (out->expires != 0 && now >= out->expires)
        return folio_error_set(err, FOLIO_ECURSOR_EXPIRED, FOLIO_KIND_INPUT, NULL,
                               "cursor expired; start again from the first page");
    return FOLIO_OK;
}
