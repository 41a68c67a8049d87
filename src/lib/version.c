/* The run-time version: see folio/version.h. */
#include "folio/version.h"

const char *folio_version(void)
{
    return FOLIO_VERSION;
}
