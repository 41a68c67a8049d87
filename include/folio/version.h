/* folio/version.h - the libfolio version, at compile time and at run time.
 *
 * This file is the one place the version is written: CMakeLists.txt reads it. The
 * shared library's SONAME carries FOLIO_VERSION_MAJOR; within one major version the ABI
 * only grows (src/lib/libfolio.sym lists every exported function). */
#ifndef FOLIO_VERSION_H
#define FOLIO_VERSION_H

#include "folio/common.h"

#define FOLIO_VERSION_MAJOR 0
#define FOLIO_VERSION_MINOR 1
#define FOLIO_VERSION_PATCH 0

#define FOLIO__STR2(x) #x
#define FOLIO__STR(x) FOLIO__STR2(x)
/* "0.1.0" */
#define FOLIO_VERSION                                                                   \
    FOLIO__STR(FOLIO_VERSION_MAJOR) "." FOLIO__STR(FOLIO_VERSION_MINOR) "."            \
        FOLIO__STR(FOLIO_VERSION_PATCH)
/* One integer that orders versions: 0x010203 for 1.2.3. */
#define FOLIO_VERSION_HEX                                                               \
    ((FOLIO_VERSION_MAJOR << 16) | (FOLIO_VERSION_MINOR << 8) | FOLIO_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library the program runs with ("0.1.0"), which may differ from the
 * FOLIO_VERSION it was compiled against. Static string, never NULL. Thread-safe. */
FOLIO_EXTERN const char *folio_version(void);

#ifdef __cplusplus
}
#endif

#endif
