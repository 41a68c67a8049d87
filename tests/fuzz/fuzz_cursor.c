/* Fuzz target: cursor decoding. Any byte string must be rejected cleanly or decode to a
 * cursor that re-encodes to a token that decodes to the same values. */
#include <stdint.h>
#include <string.h>

#include "folio/cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct folio_keyring signed_kr, sealed_kr;
    static int ready;
    if (!ready) {
        static const char secret[] = "fuzzing secret, 32 bytes long...";
        folio_keyring_init(&signed_kr, false);
        folio_keyring_init(&sealed_kr, true);
        if (folio_keyring_add(&signed_kr, 1, secret, sizeof secret - 1) != FOLIO_OK ||
            folio_keyring_add(&sealed_kr, 1, secret, sizeof secret - 1) != FOLIO_OK)
            __builtin_trap();
        ready = 1;
    }
    uint8_t fp[FOLIO_CURSOR_FINGERPRINT_BYTES] = {0};
    static struct folio_cursor c, again;
    struct folio_error err;
    const struct folio_keyring *krs[2] = {&signed_kr, &sealed_kr};
    for (int k = 0; k < 2; k++) {
        if (folio_cursor_decode(krs[k], (const char *)data, size, 0, fp, &c, &err) != FOLIO_OK)
            continue;
        /* Authentic by chance (it cannot be, without the key): still must round-trip. */
        char tok[FOLIO_CURSOR_MAX_TOKEN];
        size_t len;
        if (folio_cursor_encode(krs[k], &c, tok, sizeof tok, &len) != FOLIO_OK ||
            folio_cursor_decode(krs[k], tok, len, 0, fp, &again, &err) != FOLIO_OK ||
            again.nkeys != c.nkeys)
            __builtin_trap();
    }
    return 0;
}
