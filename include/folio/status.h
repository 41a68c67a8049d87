/* folio/status.h - one status enum for all of libfolio, and rich error detail.
 *
 * Every value has a fixed number that never changes once released; new values are
 * appended. folio_strerror() returns a static, human-readable string for any value. */
#ifndef FOLIO_STATUS_H
#define FOLIO_STATUS_H

#include <stddef.h>

#include "folio/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FOLIO_STATUS_MAP(X)                                                          \
    X(FOLIO_OK, 0, "ok")                                                             \
    X(FOLIO_ENOMEM, 1, "out of memory")                                              \
    X(FOLIO_EINVAL, 2, "invalid argument")                                           \
    X(FOLIO_ERANGE, 3, "value out of range")                                         \
    X(FOLIO_ETOOBIG, 4, "size limit exceeded")                                       \
    X(FOLIO_EPARAM, 5, "invalid request parameter")                                  \
    X(FOLIO_EUNKNOWN_PARAM, 6, "unknown request parameter")                          \
    X(FOLIO_ECONFLICT, 7, "conflicting request parameters")                          \
    X(FOLIO_EUNKNOWN_COLUMN, 8, "unknown column")                                    \
    X(FOLIO_ECURSOR_INVALID, 9, "invalid cursor")                                    \
    X(FOLIO_ECURSOR_EXPIRED, 10, "cursor expired")                                   \
    X(FOLIO_ECURSOR_FOREIGN, 11, "cursor does not belong to this query")             \
    X(FOLIO_ENOTFOUND, 12, "not found")                                              \
    X(FOLIO_EDB, 13, "database error")                                               \
    X(FOLIO_EIO, 14, "input/output error")                                           \
    X(FOLIO_ESYNTAX, 15, "syntax error")                                             \
    X(FOLIO_ECONFIG, 16, "configuration error")                                      \
    X(FOLIO_EBUSY, 17, "resource busy")                                              \
    X(FOLIO_ELIMIT, 18, "limit exceeded")                                            \
    X(FOLIO_ETIMEOUT, 19, "time limit exceeded")                                     \
    X(FOLIO_ENOTSORTABLE, 20, "column not sortable")

typedef enum folio_status {
#define FOLIO__STATUS_ENUM(name, num, text) name = num,
    FOLIO_STATUS_MAP(FOLIO__STATUS_ENUM)
#undef FOLIO__STATUS_ENUM
} folio_status;

/* What kind of failure an error was, in no protocol's terms: whose fault it is and
 * whether trying again can help. A server maps it, with the status, to its own codes
 * (folio's HTTP server: docs/internals/errors.md). Numbers are fixed, like the statuses'. */
enum folio_error_kind {
    FOLIO_KIND_NONE = 0,      /* not classified (a config file, startup): the caller decides */
    FOLIO_KIND_INPUT = 1,     /* the input (parameter, cursor, path) is wrong or names nothing */
    FOLIO_KIND_ACCESS = 2,    /* the input names something this process may not read */
    FOLIO_KIND_STATE = 3,     /* the input conflicts with the current state (a lock, a name) */
    FOLIO_KIND_INTERNAL = 4,  /* the program or its system failed (memory, I/O, database) */
    FOLIO_KIND_TRANSIENT = 5, /* a limit of the moment (a time limit): a later try may succeed */
};

/* Rich detail about a failure, filled by functions that take a `struct folio_error *`
 * (which may always be NULL). `param` names the offending request parameter, config key
 * or column when there is one; `detail` is a sentence meant for the API client. */
struct folio_error {
    folio_status status;
    enum folio_error_kind kind;
    char param[64];
    char detail[256];
};

/* Static string for `status`; never NULL ("unknown status" for values not in the list).
 * Thread-safe. */
FOLIO_EXTERN const char *folio_strerror(folio_status status);

/* Fill `err` (if not NULL) and return `status`. printf-style detail. Thread-safe. */
FOLIO_EXTERN
folio_status folio_error_set(struct folio_error *err, folio_status status,
                             enum folio_error_kind kind, const char *param, const char *fmt, ...)
    FOLIO_PRINTF(5, 6);

#ifdef __cplusplus
}
#endif

#endif
