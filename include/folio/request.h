/* folio/request.h - parsing and validating pagination requests.
 *
 * Input is the decoded query parameters as key/value pairs; output is a validated
 * struct folio_request. Nothing here touches HTTP or a database. */
#ifndef FOLIO_REQUEST_H
#define FOLIO_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/common.h"
#include "folio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct folio_param {
    const char *key;
    const char *value; /* NULL for a bare "?key" */
};

enum folio_mode {
    FOLIO_MODE_FIRST,  /* no position given: first keyset page */
    FOLIO_MODE_OFFSET, /* page= or offset= */
    FOLIO_MODE_AFTER,  /* after=CURSOR */
    FOLIO_MODE_BEFORE, /* before=CURSOR */
};

enum folio_count {
    FOLIO_COUNT_DEFAULT = 0, /* not asked: use the server's default */
    FOLIO_COUNT_NONE,
    FOLIO_COUNT_EXACT,
    FOLIO_COUNT_ESTIMATE,
};

struct folio_request_limits {
    int default_per_page; /* >= 1 */
    int max_per_page;     /* >= default_per_page */
};

/* Parameters the core parser does not know (filters, fields ...) are offered to `accept`;
 * it returns FOLIO_OK to take one, FOLIO_EUNKNOWN_PARAM to refuse it, or another status
 * with `err` filled. With accept == NULL every unknown parameter is refused. */
typedef folio_status (*folio_param_accept_fn)(void *ctx, const struct folio_param *p,
                                              struct folio_error *err);

struct folio_request {
    enum folio_mode mode;
    int per_page;         /* effective page size, 1..max_per_page */
    bool per_page_clamped;
    int64_t page;         /* 1-based; 0 when the request gave offset= */
    int64_t offset;       /* rows to skip in offset mode */
    const char *cursor;   /* after/before token, borrowed from the params */
    const char *sort;     /* raw sort spec, borrowed; NULL = default */
    enum folio_count count;
};

/* Parse `params[0..n)`. Statuses (with `err`: kind FOLIO_KIND_INPUT, offending param,
 * detail):
 *   FOLIO_EPARAM         a malformed value: not a decimal integer, trailing junk, sign,
 *                        overflow, per_page < 1, page < 1, offset < 0,
 *                        a parameter given twice
 *   FOLIO_ECURSOR_INVALID an empty after= or before= (as any other token that is not a
 *                        cursor)
 *   FOLIO_ECONFLICT      page with offset, page/offset with after/before, after with
 *                        before, per_page with limit
 *   FOLIO_EUNKNOWN_PARAM a parameter nobody accepts
 * Reentrant; `out` borrows strings from `params`. */
FOLIO_EXTERN
folio_status folio_request_parse(struct folio_request *out, const struct folio_param *params,
                                 size_t n, const struct folio_request_limits *limits,
                                 folio_param_accept_fn accept, void *accept_ctx,
                                 struct folio_error *err) FOLIO_MUST_CHECK;

/* The first core parameter (per_page, limit, page, offset, after, before, sort, count)
 * that `params[0..n)` gives more than once: FOLIO_EPARAM with `err` (FOLIO_KIND_INPUT, param =
 * its name, the detail folio_request_parse gives for it); FOLIO_OK when there is none.
 * For a request whose parameters were cut off at a cap, so that a parameter given twice
 * is still named as such. Reentrant. */
folio_status folio_request_find_repeat(const struct folio_param *params, size_t n,
                                       struct folio_error *err) FOLIO_MUST_CHECK;

/* Strict decimal integer: optional '-' only when `allow_negative`, digits only, no
 * spaces, no '+', no leading junk or trailing junk, no overflow. FOLIO_OK, FOLIO_EPARAM
 * (syntax), FOLIO_ERANGE (overflow). Reentrant. */
FOLIO_EXTERN folio_status folio_parse_int64(const char *s, bool allow_negative, int64_t *out);

#ifdef __cplusplus
}
#endif

#endif
