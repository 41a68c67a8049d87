/* The page engine: one page of an endpoint, by offset or keyset, with filters, written
 * row by row into a JSON writer. Response shapes (folio's own, the tutorial styles) are
 * the handlers' business; everything about fetching the right rows is here. */
#ifndef FOLIO_ENGINE_PAGE_H
#define FOLIO_ENGINE_PAGE_H

#include "folio/filter.h"
#include "folio/folio.h"
#include "server/endpoint.h"

struct folio_engine;
struct folio__run;

/* The engine's page-reading state (freed with folio_free). */
struct folio__run *folio__run_new(void);

#define FOLIO_PAGE_MAX_SELECT 2000 /* SQLite's own column limit: no table is cut short */
#define FOLIO_MAX_PER_PAGE 1000 /* the largest max_per_page a config may set */

/* Bind parameters a page query may use: sort keys, filter values, LIMIT and OFFSET. */
#define FOLIO_PAGE_MAX_PARAMS (FOLIO_SORT_MAX + FOLIO_FILTER_MAX * 4 + FOLIO_FILTER_MAX_VALUES + 4)

/* Write a typed value as JSON (BLOB as base64). */
void folio__json_value(struct folio_json *j, const struct folio_value *v);

/* Sort-key values of one row, copied out of the row (valid only during the callback)
 * into fixed storage: no allocation per row. */
struct folio_keycopy {
    size_t n;
    bool overflow;
    struct folio_value vals[FOLIO_SORT_MAX];
    unsigned char bytes[FOLIO_CURSOR_MAX_BYTES / 2];
};

struct folio_page_spec {
    const struct folio_endpoint *ep;
    struct folio_sort sort; /* the request's sort plus the unique tiebreaker */
    bool sort_given;        /* the request named a sort (links repeat it) */
    size_t nsort_given;     /* keys of sort the request named; the rest is the tiebreaker,
                               which links leave implied */
    const struct folio_filter_set *filters;
    enum folio_mode mode;
    int per_page;
    int64_t offset;
    struct folio_cursor cursor; /* AFTER/BEFORE: the decoded position */
    size_t nfields;
    int fields[FOLIO_PAGE_MAX_SELECT]; /* table columns shown, in order */
    uint8_t fp[FOLIO_CURSOR_FINGERPRINT_BYTES];
    bool skip_probes; /* has_prev/has_more beyond the extra row are not needed */
    /* OFFSET mode through the hybrid index: start at the row whose sort key is `seek`
     * (inclusive), then skip seek_offset rows. NULL = plain OFFSET. */
    const struct folio_value *seek;
    int64_t seek_offset;
};

enum folio_total_kind {
    FOLIO_TOTAL_NONE,
    FOLIO_TOTAL_EXACT,
    FOLIO_TOTAL_ESTIMATE,
    FOLIO_TOTAL_LOWER_BOUND, /* "at least this many": a bounded count hit its limit */
};

struct folio_total {
    enum folio_total_kind kind;
    int64_t value;
};

struct folio_page_result {
    int shown;
    bool has_more;
    bool has_prev;
    const struct folio_keycopy *first; /* output order; NULL when the page is empty */
    const struct folio_keycopy *last;
    /* The page query's plan (folio__db_explain) when the engine was asked for it, else
     * NULL; points into the engine, valid until its next page. */
    const char *plan;
};

/* Validate sort (NULL = the endpoint's default) against the endpoint's sortable columns,
 * append the tiebreaker, compute the query fingerprint over table, sort and filters.
 * Returns FOLIO_EUNKNOWN_COLUMN (a column the endpoint does not expose),
 * FOLIO_ENOTSORTABLE (exposed, not sortable) or FOLIO_EPARAM, with err (param "sort"). */
folio_status folio__page_sort(struct folio_page_spec *spec, const struct folio_endpoint *ep,
                              const char *sort, const struct folio_filter_set *filters,
                              struct folio_error *err);
/* Parse a `fields=a,b` list within the endpoint's exposed columns (NULL = all exposed). */
folio_status folio__page_fields(struct folio_page_spec *spec, const char *fields,
                                struct folio_error *err);
/* Verify and decode a cursor token for this spec (after the sort is set), with the
 * engine's keyring; spec->cursor.expires then says when it expires. FOLIO_ECURSOR_* with
 * err (param = `param`). */
folio_status folio__page_cursor(struct folio_engine *e, struct folio_page_spec *spec,
                                const char *token, bool before, const char *param,
                                struct folio_error *err);
/* Fetch the page; each row is written as one JSON object value into `j` (which the caller
 * has positioned inside an array), in the requested order. Runs inside the caller's read
 * transaction (folio__page_fetch opens one). */
folio_status folio__page_run(struct folio_engine *e, const struct folio_page_spec *spec,
                             struct folio_json *j, struct folio_page_result *res,
                             struct folio_error *err);
/* A signed token for a boundary row of this spec's query, expiring after the engine's
 * cursor ttl. *io_earliest (unix seconds, 0 = none yet) is lowered to the token's expiry. */
folio_status folio__page_token(struct folio_engine *e, const struct folio_page_spec *spec,
                               const struct folio_value *vals, unsigned flags, char *out,
                               size_t out_size, uint64_t *io_earliest);

/* For walks that are not one page (export.c), the page engine's own pieces:
 * Copy the sort-key values of `row` (key k at select position key_pos[k]) into k. */
void folio__page_keys_copy(struct folio_keycopy *k, const struct folio_page_spec *spec,
                           const int *key_pos, const struct folio_db_row *row);
/* Whether a walk from `keys` must read in two phases (a nullable leading sort key): 0 no,
 * else a split kind to pass to folio__page_where with phase 1, then phase 2. */
int folio__page_split(const folio_db *db, const struct folio_page_spec *spec,
                      const struct folio_value *keys, bool backward);
/* Append " WHERE filters AND keyset" (either part optional; nothing when neither) to
 * `sql` in `db`'s dialect: rows after (before, when `backward`) the boundary `keys` (NULL = from the start).
 * params[0..FOLIO_PAGE_MAX_PARAMS) is filled; *io_param is the next free parameter number
 * (1-based). FOLIO_OK, FOLIO_ENOMEM, FOLIO_ETOOBIG. */
folio_status folio__page_where(const folio_db *db, struct folio_buf *sql,
                               const struct folio_page_spec *spec, const struct folio_value *keys,
                               bool backward, bool inclusive, int split, int phase,
                               struct folio_value *params, int *io_param);

#endif
