/* Fuzz target: the cursor codec (src/lib/cursor.c), in signed and in encrypted mode.
 * Invariants (a violation traps):
 *  - the input as a token: rejected, or (it cannot be authentic without the key) it
 *    re-encodes to a token that decodes to the same values;
 *  - the input as a cursor (flags, expiry, fingerprint, up to 16 typed keys): it encodes,
 *    and decodes to exactly the same flags, expiry, fingerprint and values (REAL bit for
 *    bit, TEXT/BLOB byte for byte); or it is refused with FOLIO_ETOOBIG when it cannot fit;
 *  - any change to such a token is rejected as FOLIO_ECURSOR_INVALID: each one-character
 *    substitution tried, a character dropped or added at the end, the other mode's key;
 *  - an authentic token for another query is FOLIO_ECURSOR_FOREIGN, an expired one
 *    FOLIO_ECURSOR_EXPIRED. */
#include <stdint.h>
#include <string.h>

#include "folio/cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct folio_keyring rings[2]; /* signed, encrypted */

static void setup(void)
{
    static const char secret[] = "fuzzing secret, 32 bytes long...";
    folio_keyring_init(&rings[0], false);
    folio_keyring_init(&rings[1], true);
    if (folio_keyring_add(&rings[0], 1, secret, sizeof secret - 1) != FOLIO_OK ||
        folio_keyring_add(&rings[1], 1, secret, sizeof secret - 1) != FOLIO_OK)
        __builtin_trap();
}

static void same_cursor(const struct folio_cursor *a, const struct folio_cursor *b);

static void decode_arbitrary(const uint8_t *data, size_t size)
{
    uint8_t fp[FOLIO_CURSOR_FINGERPRINT_BYTES] = {0};
    static struct folio_cursor c, again;
    struct folio_error err;
    for (int k = 0; k < 2; k++) {
        if (folio_cursor_decode(&rings[k], (const char *)data, size, 0, fp, &c, &err) != FOLIO_OK)
            continue;
        char tok[FOLIO_CURSOR_MAX_TOKEN];
        size_t len;
        if (folio_cursor_encode(&rings[k], &c, tok, sizeof tok, &len) != FOLIO_OK ||
            folio_cursor_decode(&rings[k], tok, len, 0, fp, &again, &err) != FOLIO_OK)
            __builtin_trap();
        same_cursor(&c, &again);
    }
}

struct input {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct input *in, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) {
        v = v << 8 | (in->n ? *in->p : 0);
        if (in->n)
            in->p++, in->n--;
    }
    return v;
}

static void same_cursor(const struct folio_cursor *a, const struct folio_cursor *b)
{
    if (a->flags != b->flags || a->expires != b->expires || a->nkeys != b->nkeys ||
        memcmp(a->fingerprint, b->fingerprint, sizeof a->fingerprint) != 0)
        __builtin_trap();
    for (size_t i = 0; i < a->nkeys; i++) {
        const struct folio_value *x = &a->keys[i], *y = &b->keys[i];
        if (x->type != y->type)
            __builtin_trap();
        if ((x->type == FOLIO_VALUE_INT && x->i != y->i) ||
            (x->type == FOLIO_VALUE_REAL && memcmp(&x->d, &y->d, sizeof x->d) != 0) ||
            ((x->type == FOLIO_VALUE_TEXT || x->type == FOLIO_VALUE_BLOB) &&
             (x->len != y->len || (x->len && memcmp(x->s, y->s, x->len) != 0))))
            __builtin_trap();
    }
}

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void expect_invalid(const struct folio_keyring *kr, const char *tok, size_t len,
                           const uint8_t *fp)
{
    static struct folio_cursor out;
    struct folio_error err;
    if (folio_cursor_decode(kr, tok, len, 0, fp, &out, &err) != FOLIO_ECURSOR_INVALID)
        __builtin_trap();
}

static void encode_round_trip(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    static struct folio_cursor c, out;
    memset(&c, 0, offsetof(struct folio_cursor, storage));
    c.flags = (unsigned)take(&in, 1) & 3u;
    c.expires = take(&in, 1) & 1 ? take(&in, 8) : 0;
    for (int i = 0; i < FOLIO_CURSOR_FINGERPRINT_BYTES; i++)
        c.fingerprint[i] = (uint8_t)take(&in, 1);
    c.nkeys = take(&in, 1) % (FOLIO_CURSOR_MAX_KEYS + 1);
    for (size_t i = 0; i < c.nkeys; i++) {
        struct folio_value *v = &c.keys[i];
        memset(v, 0, sizeof *v);
        v->type = (enum folio_value_type)(take(&in, 1) % 5);
        if (v->type == FOLIO_VALUE_INT) {
            v->i = (int64_t)take(&in, 8);
        } else if (v->type == FOLIO_VALUE_REAL) {
            uint64_t bits = take(&in, 8);
            memcpy(&v->d, &bits, sizeof bits);
        } else if (v->type != FOLIO_VALUE_NULL) {
            size_t len = (size_t)take(&in, 2) % 1024;
            if (len > in.n)
                len = in.n;
            v->s = (const char *)in.p;
            v->len = len;
            in.p += len, in.n -= len;
        }
    }
    uint8_t other[FOLIO_CURSOR_FINGERPRINT_BYTES];
    memcpy(other, c.fingerprint, sizeof other);
    other[take(&in, 1) % sizeof other] ^= (uint8_t)(1u << (take(&in, 1) % 8));

    for (int k = 0; k < 2; k++) {
        char tok[FOLIO_CURSOR_MAX_TOKEN + 1];
        size_t len;
        folio_status st = folio_cursor_encode(&rings[k], &c, tok, FOLIO_CURSOR_MAX_TOKEN, &len);
        if (st == FOLIO_ETOOBIG) {
            size_t payload = 0;
            for (size_t i = 0; i < c.nkeys; i++)
                payload += c.keys[i].len;
            if (payload < 1024) /* small cursors always fit */
                __builtin_trap();
            continue;
        }
        struct folio_error err;
        if (st != FOLIO_OK || len != strlen(tok) ||
            folio_cursor_decode(&rings[k], tok, len, 0, c.fingerprint, &out, &err) != FOLIO_OK)
            __builtin_trap();
        same_cursor(&c, &out);
        if (folio_cursor_decode(&rings[k], tok, len, 0, other, &out, &err) != FOLIO_ECURSOR_FOREIGN)
            __builtin_trap();
        if (c.expires != 0 &&
            (folio_cursor_decode(&rings[k], tok, len, c.expires, c.fingerprint, &out, &err) !=
                 FOLIO_ECURSOR_EXPIRED ||
             (c.expires > 1 && folio_cursor_decode(&rings[k], tok, len, c.expires - 1,
                                                   c.fingerprint, &out, &err) != FOLIO_OK)))
            __builtin_trap();
        expect_invalid(&rings[!k], tok, len, c.fingerprint);
        /* Mutations: one substituted character at 48 spread positions plus the ends,
         * the last character dropped, one character appended. */
        size_t step = len / 48 + 1;
        uint64_t salt = take(&in, 1);
        for (size_t pos = 0;; pos += step) {
            if (pos >= len)
                pos = len - 1;
            char keep = tok[pos];
            char sub = alphabet[(salt + pos) % 64];
            if (sub == keep)
                sub = alphabet[(salt + pos + 1) % 64];
            tok[pos] = sub;
            expect_invalid(&rings[k], tok, len, c.fingerprint);
            tok[pos] = keep;
            if (pos == len - 1)
                break;
        }
        expect_invalid(&rings[k], tok, len - 1, c.fingerprint);
        tok[len] = alphabet[salt % 64];
        tok[len + 1] = '\0';
        expect_invalid(&rings[k], tok, len + 1, c.fingerprint);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (rings[0].n == 0)
        setup();
    decode_arbitrary(data, size);
    encode_round_trip(data, size);
    return 0;
}
