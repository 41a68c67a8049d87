/* folio/value.h - a typed SQL value, as stored in cursors and bound as parameters. */
#ifndef FOLIO_VALUE_H
#define FOLIO_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "folio/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum folio_value_type {
    FOLIO_VALUE_NULL = 0,
    FOLIO_VALUE_INT = 1,
    FOLIO_VALUE_REAL = 2,
    FOLIO_VALUE_TEXT = 3,
    FOLIO_VALUE_BLOB = 4,
};

/* `s`/`len` hold TEXT and BLOB bytes; the pointer is borrowed from whoever filled the
 * value (a decoded cursor, a database row) and lives as long as that owner says. */
struct folio_value {
    enum folio_value_type type;
    int64_t i;
    double d;
    const char *s;
    size_t len;
};

#ifdef __cplusplus
}
#endif

#endif
