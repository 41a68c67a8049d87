/* The export engine: every row of an endpoint's query (sort, filters, fields: the page
 * language), written as NDJSON, CSV or one JSON array, walked in keyset batches so that
 * memory stays constant whatever the table's size. One module for both users: the HTTP
 * export (handler/export.c streams it) and `folio export` (cli/cmd_export.c writes it to a
 * file). It knows nothing of HTTP: it fills a buffer, the caller drains it.
 *
 * Formats (docs/http.md "Export"):
 *   ndjson  one JSON object per line, values as in pages (BLOB base64, invalid UTF-8 as
 *           U+FFFD); checkpoint lines {"@next":"CURSOR"} every `checkpoint_every` rows and
 *           a last line {"@next":CURSOR|null,"@more":false|true}.
 *   csv     RFC 4180: a header row, CRLF line ends, a field quoted when it holds '"', ',',
 *           CR or LF (quotes doubled); NULL is an empty field, an empty string is "";
 *           BLOB base64; invalid UTF-8 as U+FFFD (as pages).
 *   json    one array, one object per line.
 * A cursor is the pages' own signed after= cursor, bound to table, sort and filters. */
#ifndef FOLIO_SERVER_EXPORT_H
#define FOLIO_SERVER_EXPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "folio/cursor.h"
#include "engine/page.h"

enum folio_export_format { FOLIO_EXPORT_NDJSON, FOLIO_EXPORT_CSV, FOLIO_EXPORT_JSON };

/* What to export: parsed from request parameters (or the CLI's options, spelled as
 * parameters). Owns its filters; spec.filters points at them, spec.cursor keys into the
 * spec itself, so the struct must not be copied once parsed. */
struct folio_export_query {
    struct folio_page_spec spec;
    struct folio_filter_set filters;
    enum folio_export_format format;
    bool snapshot; /* one read transaction for the whole walk */
    bool after;    /* spec.cursor holds the position to resume after */
};

void folio__export_query_init(struct folio_export_query *q);
void folio__export_query_clear(struct folio_export_query *q);
/* Parse `params` for endpoint `ep`: format=ndjson|csv|json, snapshot=true|false, sort,
 * fields, after=CURSOR (verified with `kr`), and filters on filterable columns (the page
 * syntax). Returns FOLIO_OK or the page statuses (FOLIO_EPARAM, FOLIO_EUNKNOWN_PARAM,
 * FOLIO_EUNKNOWN_COLUMN, FOLIO_ENOTSORTABLE, FOLIO_ECURSOR_*), err naming the parameter.
 * Filters already in q->filters (a tenant scope, added after folio__export_query_init) are
 * kept, ahead of the client's, and so are part of the cursor's query fingerprint. Called
 * once per q. Not thread-safe for one q. */
folio_status folio__export_query_parse(struct folio_export_query *q,
                                       const struct folio_endpoint *ep,
                                       const struct folio_param *params, size_t nparams,
                                       const struct folio_keyring *kr, struct folio_error *err)
    __attribute__((warn_unused_result));

struct folio_export_limits {
    unsigned batch_rows;       /* rows per query (>= 1) */
    size_t batch_bytes;        /* a batch also ends once this much output is waiting */
    size_t max_row_bytes;      /* the output buffer's hard maximum (a longer row fails) */
    unsigned checkpoint_every; /* NDJSON: rows between checkpoint lines; 0 = only the last */
    int64_t max_rows;          /* 0 = no limit; past it the walk ends with "@more":true */
    uint64_t cursor_ttl;       /* seconds; 0 = cursors never expire */
    unsigned query_timeout_ms; /* each batch's query; 0 = no limit */
};

/* One walk. Owned by one thread at a time. */
struct folio_export {
    const struct folio_export_query *q;
    const struct folio_keyring *kr;
    struct folio_export_limits lim;
    folio_db_conn *conn;
    enum folio_param_style style;
    const atomic_bool *cancel; /* NULL, or set by another thread to stop the walk */
    struct folio_buf out;      /* output not yet taken by the caller */
    struct folio_buf sql;
    struct folio_json j;
    struct folio_keycopy last; /* the last row written */
    struct folio_keycopy from; /* the current batch's boundary (a copy of last) */
    bool have_last;
    int64_t rows;          /* rows written */
    bool started, done;    /* done: the epilogue is in `out` */
    bool more;             /* stopped at max_rows with rows left */
    bool cancelled;
    bool in_read;
    /* per batch */
    int key_pos[FOLIO_SORT_MAX];
    int64_t batch_n;
    bool batch_full;
};

/* Start a walk of `q` on `conn` (borrowed; with q->snapshot its read transaction begins
 * here). `cancel` may be NULL. FOLIO_OK, or FOLIO_EDB with err. */
folio_status folio__export_begin(struct folio_export *x, const struct folio_export_query *q,
                                 folio_db_conn *conn, enum folio_param_style style,
                                 const struct folio_keyring *kr,
                                 const struct folio_export_limits *lim, const atomic_bool *cancel,
                                 struct folio_error *err);
/* Run one batch, appending its text to x->out (the caller takes it and resets x->out).
 * The first call writes the prologue (CSV header, '['); the call that finds the end
 * writes the epilogue and sets x->done. A cancelled walk returns FOLIO_OK with
 * x->cancelled set. Errors: FOLIO_EDB, FOLIO_ETIMEOUT (err says so), FOLIO_ETOOBIG (a row
 * larger than max_row_bytes), FOLIO_ELIMIT (sort keys too large for a cursor). */
folio_status folio__export_step(struct folio_export *x, struct folio_error *err);
/* The cursor that resumes after the last row written (or, before any, the walk's own
 * starting cursor): into tok (FOLIO_CURSOR_MAX_TOKEN bytes). false when there is none
 * (nothing written, no starting cursor). */
bool folio__export_cursor(const struct folio_export *x, char *tok, size_t size);
/* End the walk (its read transaction) and free its buffers. */
void folio__export_end(struct folio_export *x);

const char *folio__export_format_name(enum folio_export_format f);
/* The Content-Type of a format. */
const char *folio__export_content_type(enum folio_export_format f);

#endif
