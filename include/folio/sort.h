/* folio/sort.h - sort specifications (`sort=-created_at,id`) and keyset predicates.
 *
 * A sort is a list of keys; each names a column by index in a caller-supplied column list
 * and a direction. The keyset predicate builder turns a sort plus the boundary values of a
 * row into a SQL WHERE clause that selects the rows after (or before) that row in exactly
 * the order `ORDER BY` gives, NULLs included (by default SQLite's order: NULL is the
 * smallest value, first in ASC, last in DESC; with `nulls_large` PostgreSQL's: NULL is the
 * largest), in a shape an index on the sort columns can serve. */
#ifndef FOLIO_SORT_H
#define FOLIO_SORT_H

#include <stdbool.h>
#include <stddef.h>

#include "folio/common.h"
#include "folio/buf.h"
#include "folio/status.h"
#include "folio/value.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FOLIO_SORT_MAX 16

struct folio_sort_key {
    int column; /* index into the caller's column list */
    bool desc;
};

struct folio_sort {
    size_t n;
    struct folio_sort_key keys[FOLIO_SORT_MAX];
};

/* Parse `spec` ("-created_at,id") against `columns[0..ncols)`. Statuses: FOLIO_OK;
 * FOLIO_EUNKNOWN_COLUMN (a name not in the list), FOLIO_EPARAM (empty item, duplicate
 * column, too many keys). `err` (may be NULL) gets param "sort" and FOLIO_KIND_INPUT.
 * Reentrant. */
FOLIO_EXTERN
folio_status folio_sort_parse(struct folio_sort *out, const char *spec,
                              const char *const *columns, size_t ncols,
                              struct folio_error *err) FOLIO_MUST_CHECK;

/* Append key `column` (ascending) unless the sort already has it. FOLIO_ELIMIT when full. */
FOLIO_EXTERN folio_status folio_sort_append(struct folio_sort *s, int column);

/* Canonical text of a sort ("-created_at,id") for links and query fingerprints. */
FOLIO_EXTERN
folio_status folio_sort_format(struct folio_buf *out, const struct folio_sort *s,
                               const char *const *columns);

/* How the builder spells columns and parameters. `columns[i]` must be a ready-to-use SQL
 * expression (a quoted identifier); the builder never quotes user text. Parameters are
 * numbered: key i's value is parameter `first_param + i` (SQLite `?N`, PostgreSQL `$N`),
 * so a value used twice is bound once. NULL boundary values use IS [NOT] NULL and need no
 * parameter. */
enum folio_param_style { FOLIO_PARAM_QNUM, FOLIO_PARAM_DOLLAR };

/* How a database spells what differs between SQL dialects (folio_filter_where_dialect). */
struct folio_sql_dialect {
    enum folio_param_style style;
    const char *like_op;   /* the operator of `like` filters; NULL = "LIKE" */
    const char *like_cast; /* written after the column in `like` filters (e.g. "::text");
                              NULL = nothing */
};

struct folio_keyset_spec {
    const struct folio_sort *sort;
    const char *const *columns;  /* SQL expressions, by column index */
    const bool *not_null;        /* per column index: declared NOT NULL (may be NULL) */
    const struct folio_value *values; /* boundary row: one value per sort key */
    bool backward;   /* rows before the boundary instead of after */
    bool inclusive;  /* include the boundary row itself */
    int first_param;
    enum folio_param_style style;
    bool nulls_large; /* NULL sorts after every value in ascending order (PostgreSQL) */
    /* Write "(a, b) > ($1, $2)" when every key has the same direction, every column is NOT
     * NULL and no boundary value is NULL (a btree index on (a, b) serves it). */
    bool row_values;
};

/* Append the predicate (no "WHERE") to `out`. Writes "1" when every row qualifies and
 * "0" when none can. FOLIO_OK, FOLIO_ENOMEM, FOLIO_ETOOBIG. Reentrant. */
FOLIO_EXTERN
folio_status folio_keyset_where(struct folio_buf *out, const struct folio_keyset_spec *spec);

/* Append "col1 ASC, col2 DESC" for the sort, reversed when `backward`. */
FOLIO_EXTERN
folio_status folio_keyset_order_by(struct folio_buf *out, const struct folio_sort *sort,
                                   const char *const *columns, bool backward);

#ifdef __cplusplus
}
#endif

#endif
