/* Argument helpers: see args.h. */
#include "args.h"

#include "folio/request.h"

bool cli_parse_int(const char *s, int64_t *out, bool *out_overflow)
{
    *out_overflow = false;
    folio_status st = folio_parse_int64(*s == '+' && s[1] != '-' ? s + 1 : s, true, out);
    if (st == FOLIO_ERANGE) {
        *out = *s == '-' ? INT64_MIN : INT64_MAX;
        *out_overflow = true;
        return true;
    }
    return st == FOLIO_OK;
}
