/* folio/filter.h - PostgREST-style row filters: `?price=gte.10&category=in.(a,b)`.
 *
 * A filter is parsed from one query parameter whose key names a filterable column and
 * whose value is `op.argument`. Operators: eq, neq, lt, lte, gt, gte, like (with `*` as
 * well as `%` for any run of characters), in.(v1,v2,...) (items may be "double quoted" to
 * hold commas), is.null, is.not.null. Arguments become typed values by the column's
 * declared-type affinity (SQLite rules: INT -> integer, REAL/FLOA/DOUB -> real when they
 * parse as such, otherwise text) and are always bound as parameters, never pasted. */
#ifndef FOLIO_FILTER_H
#define FOLIO_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "folio/common.h"
#include "folio/buf.h"
#include "folio/sort.h"
#include "folio/status.h"
#include "folio/value.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FOLIO_FILTER_MAX 16          /* filters in one request */
#define FOLIO_FILTER_MAX_VALUES 100  /* items in one in.(...) list */

enum folio_filter_op {
    FOLIO_OP_EQ, FOLIO_OP_NEQ, FOLIO_OP_LT, FOLIO_OP_LTE, FOLIO_OP_GT, FOLIO_OP_GTE,
    FOLIO_OP_LIKE, FOLIO_OP_IN, FOLIO_OP_IS_NULL, FOLIO_OP_IS_NOT_NULL,
};

enum folio_affinity { FOLIO_AFF_TEXT, FOLIO_AFF_NUMERIC, FOLIO_AFF_INTEGER, FOLIO_AFF_REAL,
                      FOLIO_AFF_BLOB };

/* SQLite's affinity rules for a declared column type. */
FOLIO_EXTERN enum folio_affinity folio_affinity_of(const char *decl_type);

struct folio_filter {
    int column;
    enum folio_filter_op op;
    size_t nvalues;
    struct folio_value *values; /* in the set's storage */
};

/* A request's filters and the storage their values point into. */
struct folio_filter_set {
    size_t n;
    struct folio_filter filters[FOLIO_FILTER_MAX];
    size_t nvalues;
    struct folio_value values[FOLIO_FILTER_MAX * 4 + FOLIO_FILTER_MAX_VALUES];
    struct folio_buf text; /* unescaped argument bytes; values point here */
};

FOLIO_EXTERN void folio_filter_set_init(struct folio_filter_set *s);
FOLIO_EXTERN void folio_filter_set_clear(struct folio_filter_set *s);

/* Parse `value` as a filter on column `column` (declared type `decl_type`) and add it.
 * FOLIO_EPARAM with err (param = `param_name`, FOLIO_KIND_INPUT, a detail saying what is wrong)
 * for an unknown operator, a missing argument, a malformed list, too many filters or
 * values. Reentrant on distinct sets. */
FOLIO_EXTERN
folio_status folio_filter_add(struct folio_filter_set *s, int column, const char *decl_type,
                              const char *param_name, const char *value,
                              struct folio_error *err) FOLIO_MUST_CHECK;

/* The same with the column's affinity given directly: the database backend decides how
 * its types map (folio_affinity_of applies SQLite's rules to a declared type). */
FOLIO_EXTERN
folio_status folio_filter_add_typed(struct folio_filter_set *s, int column,
                                    enum folio_affinity affinity, const char *param_name,
                                    const char *value, struct folio_error *err) FOLIO_MUST_CHECK;

/* Append "c1 >= ?5 AND c2 IN (?6, ?7)" for every filter (nothing when there is none);
 * parameters are numbered from *io_param, which is advanced; each bound value is appended
 * to `params` at index (*io_param - 1), so params[] must hold every number used. */
FOLIO_EXTERN
folio_status folio_filter_where(struct folio_buf *out, const struct folio_filter_set *s,
                                const char *const *columns, enum folio_param_style style,
                                int *io_param, struct folio_value *params, size_t max_params);

/* The same in a given dialect: parameter style and the spelling of `like` (for example
 * "ILIKE" where the database's LIKE is case-sensitive). */
FOLIO_EXTERN
folio_status folio_filter_where_dialect(struct folio_buf *out, const struct folio_filter_set *s,
                                        const char *const *columns,
                                        const struct folio_sql_dialect *dialect, int *io_param,
                                        struct folio_value *params, size_t max_params);

/* Canonical text of the set for query fingerprints: filters sorted, values typed. */
FOLIO_EXTERN
folio_status folio_filter_format(struct folio_buf *out, const struct folio_filter_set *s);

#ifdef __cplusplus
}
#endif

#endif
