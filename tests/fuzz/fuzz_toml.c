/* Fuzz target: the TOML parser. Any input parses or fails with a status. */
#include <stdint.h>

#include "folio/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    folio_toml *doc = NULL;
    struct folio_error err;
    if (folio_toml_parse((const char *)data, size, "fuzz.toml", &doc, &err) == FOLIO_OK)
        folio_toml_free(doc);
    return 0;
}
