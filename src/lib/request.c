/* Request parsing: see folio/request.h. */
#include "folio/request.h"

#include <string.h>

folio_status folio_parse_int64(const char *s, bool allow_negative, int64_t *out)
{
    bool neg = false;
    if (s == NULL || *s == '\0')
        return FOLIO_EPARAM;
    if (*s == '-') {
        if (!allow_negative)
            return FOLIO_EPARAM;
        neg = true;
        s++;
    }
    if (*s == '\0')
        return FOLIO_EPARAM;
    uint64_t v = 0;
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return FOLIO_EPARAM;
        unsigned d = (unsigned)(*s - '0');
        if (v > (limit - d) / 10)
            return FOLIO_ERANGE;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return FOLIO_OK;
}

enum known {
    P_PER_PAGE,
    P_LIMIT,
    P_PAGE,
    P_OFFSET,
    P_AFTER,
    P_BEFORE,
    P_SORT,
    P_COUNT,
    P_NKNOWN
};

static const char *const known_names[P_NKNOWN] = {
    "per_page", "limit", "page", "offset", "after", "before", "sort", "count",
};

static folio_status bad_int(struct folio_error *err, const char *name, folio_status st,
                            const char *what)
{
    return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, name, "%s must be %s%s", name, what,
                           st == FOLIO_ERANGE ? " (the value is too large)" : "");
}

static folio_status repeated(struct folio_error *err, const char *name)
{
    return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, name,
                           "parameter '%s' is given more than once", name);
}

static int known_index(const char *key)
{
    int k = 0;
    while (k < P_NKNOWN && strcmp(key, known_names[k]) != 0)
        k++;
    return k;
}

folio_status folio_request_find_repeat(const struct folio_param *params, size_t n,
                                       struct folio_error *err)
{
    bool seen[P_NKNOWN] = {0};
    for (size_t i = 0; i < n; i++) {
        int k = known_index(params[i].key);
        if (k == P_NKNOWN)
            continue;
        if (seen[k])
            return repeated(err, known_names[k]);
        seen[k] = true;
    }
    return FOLIO_OK;
}

folio_status folio_request_parse(struct folio_request *out, const struct folio_param *params,
                                 size_t n, const struct folio_request_limits *limits,
                                 folio_param_accept_fn accept, void *accept_ctx,
                                 struct folio_error *err)
{
    const char *val[P_NKNOWN] = {0};
    memset(out, 0, sizeof *out);

    for (size_t i = 0; i < n; i++) {
        const struct folio_param *p = &params[i];
        int k = known_index(p->key);
        if (k == P_NKNOWN) {
            folio_status st = accept ? accept(accept_ctx, p, err) : FOLIO_EUNKNOWN_PARAM;
            if (st == FOLIO_EUNKNOWN_PARAM)
                return folio_error_set(err, st, FOLIO_KIND_INPUT, p->key,
                                       "unknown query parameter '%.64s'", p->key);
            if (st != FOLIO_OK)
                return st;
            continue;
        }
        if (val[k] != NULL)
            return repeated(err, known_names[k]);
        val[k] = p->value ? p->value : "";
    }

    if (val[P_PER_PAGE] && val[P_LIMIT])
        return folio_error_set(err, FOLIO_ECONFLICT, FOLIO_KIND_INPUT, "limit",
                               "per_page and limit are the same parameter; give one");
    if (val[P_PAGE] && val[P_OFFSET])
        return folio_error_set(err, FOLIO_ECONFLICT, FOLIO_KIND_INPUT, "offset",
                               "page and offset both set the position; give one");
    if (val[P_AFTER] && val[P_BEFORE])
        return folio_error_set(err, FOLIO_ECONFLICT, FOLIO_KIND_INPUT, "before",
                               "after and before cannot be combined");
    if ((val[P_PAGE] || val[P_OFFSET]) && (val[P_AFTER] || val[P_BEFORE]))
        return folio_error_set(err, FOLIO_ECONFLICT, FOLIO_KIND_INPUT,
                               val[P_AFTER] ? "after" : "before",
                               "a cursor cannot be combined with page or offset");

    out->per_page = limits->default_per_page;
    int pp_idx = val[P_LIMIT] ? P_LIMIT : P_PER_PAGE;
    if (val[pp_idx]) {
        int64_t v;
        folio_status st = folio_parse_int64(val[pp_idx], false, &v);
        if (st != FOLIO_OK || v < 1) {
            return bad_int(err, known_names[pp_idx], st, "an integer of at least 1");
        }
        if (v > limits->max_per_page) {
            v = limits->max_per_page;
            out->per_page_clamped = true;
        }
        out->per_page = (int)v;
    }

    out->mode = FOLIO_MODE_FIRST;
    if (val[P_PAGE]) {
        int64_t v;
        folio_status st = folio_parse_int64(val[P_PAGE], false, &v);
        if (st != FOLIO_OK || v < 1)
            return bad_int(err, "page", st, "an integer of at least 1");
        if (v - 1 > INT64_MAX / out->per_page)
            return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, "page",
                                   "page is too large for this page size");
        out->mode = FOLIO_MODE_OFFSET;
        out->page = v;
        out->offset = (v - 1) * out->per_page;
    } else if (val[P_OFFSET]) {
        int64_t v;
        folio_status st = folio_parse_int64(val[P_OFFSET], false, &v);
        if (st != FOLIO_OK)
            return bad_int(err, "offset", st, "an integer of at least 0");
        out->mode = FOLIO_MODE_OFFSET;
        out->offset = v;
    } else if (val[P_AFTER] || val[P_BEFORE]) {
        const char *name = val[P_AFTER] ? "after" : "before";
        out->cursor = val[P_AFTER] ? val[P_AFTER] : val[P_BEFORE];
        out->mode = val[P_AFTER] ? FOLIO_MODE_AFTER : FOLIO_MODE_BEFORE;
        if (*out->cursor == '\0')
            return folio_error_set(err, FOLIO_ECURSOR_INVALID, FOLIO_KIND_INPUT, name,
                                   "invalid cursor");
    }

    if (val[P_SORT])
        out->sort = val[P_SORT];

    if (val[P_COUNT]) {
        const char *c = val[P_COUNT];
        if (strcmp(c, "exact") == 0)
            out->count = FOLIO_COUNT_EXACT;
        else if (strcmp(c, "estimate") == 0 || strcmp(c, "estimated") == 0)
            out->count = FOLIO_COUNT_ESTIMATE;
        else if (strcmp(c, "none") == 0)
            out->count = FOLIO_COUNT_NONE;
        else
            return folio_error_set(err, FOLIO_EPARAM, FOLIO_KIND_INPUT, "count",
                                   "count must be one of exact, estimate, none");
    }
    return FOLIO_OK;
}
