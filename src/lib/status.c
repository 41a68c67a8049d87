/* folio_strerror and folio_error_set: see folio/status.h. */
#include "folio/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *folio_strerror(folio_status status)
{
    switch (status) {
#define FOLIO__STATUS_CASE(name, num, text)                                              \
    case name:                                                                           \
        return text;
        FOLIO_STATUS_MAP(FOLIO__STATUS_CASE)
#undef FOLIO__STATUS_CASE
    }
    return "unknown status";
}

folio_status folio_error_set(struct folio_error *err, folio_status status,
                             enum folio_error_kind kind, const char *param, const char *fmt, ...)
{
    if (err == NULL)
        return status;
    err->status = status;
    err->kind = kind;
    snprintf(err->param, sizeof err->param, "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
    return status;
}
