/* folio/toml.h - folio's TOML 1.0.0 parser (configuration files).
 *
 * Parse a whole document into a read-only tree, then walk it:
 *
 *     folio_toml *doc;
 *     struct folio_error err;
 *     if (folio_toml_parse(text, len, "folio.toml", &doc, &err) != FOLIO_OK)
 *         fprintf(stderr, "%s\n", err.detail);   // "folio.toml:12:5: expected '='"
 *     const struct folio_toml_value *root = folio_toml_root(doc);
 *     const struct folio_toml_value *port = folio_toml_table_get(root, "port");
 *     int64_t n;
 *     if (port != NULL && folio_toml_int(port, &n) == FOLIO_OK) ...
 *     folio_toml_free(doc);
 *
 * The parser implements TOML 1.0.0 strictly (no 1.1 extensions): full UTF-8 validation,
 * 64-bit integers with overflow detection, IEEE 754 doubles, datetimes validated against
 * the calendar, and the table (re)definition rules of the specification. Any input,
 * however malformed, yields a status; the parser never crashes, prints or exits.
 *
 * Positions: every value and every key carries the 1-based line and column where it was
 * written. Columns count Unicode code points (a tab is one column). A table created
 * implicitly (by `[a.b]` or `a.b = 1`) is positioned at the key component that created it.
 *
 * Memory: a document owns all of its values and strings; every pointer handed out by the
 * accessors below stays valid until folio_toml_free() and must not be freed by the caller.
 * All memory comes from the libfolio allocator (folio/alloc.h).
 *
 * Thread-safety: parsing is reentrant (no global state; distinct calls may run in
 * parallel). A parsed document is never modified, so any number of threads may read it
 * concurrently; folio_toml_free() must not race with readers. Floats are converted with
 * strtod(), so LC_NUMERIC must be the "C" locale (the default unless the program calls
 * setlocale()). */
#ifndef FOLIO_TOML_H
#define FOLIO_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/common.h"
#include "folio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A parsed document (opaque). */
typedef struct folio_toml folio_toml;
/* One node of a document: a table, an array or a scalar (opaque; always const). */
struct folio_toml_value;

enum folio_toml_type {
    FOLIO_TOML_TABLE = 1,
    FOLIO_TOML_ARRAY,
    FOLIO_TOML_STRING,
    FOLIO_TOML_INTEGER,
    FOLIO_TOML_FLOAT,
    FOLIO_TOML_BOOL,
    FOLIO_TOML_DATETIME,       /* offset date-time: 1979-05-27T07:32:00-07:00 */
    FOLIO_TOML_LOCAL_DATETIME, /* 1979-05-27T07:32:00 */
    FOLIO_TOML_LOCAL_DATE,     /* 1979-05-27 */
    FOLIO_TOML_LOCAL_TIME,     /* 07:32:00 */
};

/* Limits applied while parsing. A zero field selects the default. */
#define FOLIO_TOML_DEFAULT_MAX_BYTES ((size_t)8 << 20) /* 8 MiB of input */
#define FOLIO_TOML_DEFAULT_MAX_DEPTH 128u              /* nested tables/arrays */
#define FOLIO_TOML_MAX_BYTES_LIMIT ((size_t)1 << 30)   /* largest accepted max_bytes */
#define FOLIO_TOML_MAX_DEPTH_LIMIT 1024u               /* largest accepted max_depth */

struct folio_toml_limits {
    size_t max_bytes;   /* longest input accepted (FOLIO_ETOOBIG beyond) */
    unsigned max_depth; /* deepest nesting: the root's values are at depth 1, a value
                           inside `a.b = [x]` at depth 3 (FOLIO_ELIMIT beyond) */
};

/* Parse `len` bytes of `text` (need not be NUL-terminated; a UTF-8 BOM is skipped) with
 * the default limits. `filename` only labels error messages (NULL means "<input>").
 * On success *out_doc receives a new document the caller frees with folio_toml_free().
 * On failure *out_doc is set to NULL and `err` (optional) is filled; for the positional
 * statuses err->detail reads "FILE:LINE:COL: message" (1-based).
 * Returns FOLIO_OK,
 *         FOLIO_ESYNTAX  the text is not valid TOML 1.0.0 (including invalid UTF-8, bad
 *                        datetimes, integer overflow, duplicate keys, redefined tables),
 *         FOLIO_ELIMIT   nesting deeper than the depth limit,
 *         FOLIO_ETOOBIG  input longer than the size limit,
 *         FOLIO_ENOMEM   the allocator failed (nothing is leaked),
 *         FOLIO_EINVAL   NULL text with len > 0, or NULL out_doc. */
FOLIO_EXTERN
folio_status folio_toml_parse(const char *text, size_t len, const char *filename,
                              folio_toml **out_doc, struct folio_error *err) FOLIO_MUST_CHECK;

/* Same, with explicit limits (NULL = defaults). FOLIO_EINVAL also when a limit exceeds
 * FOLIO_TOML_MAX_BYTES_LIMIT / FOLIO_TOML_MAX_DEPTH_LIMIT. */
FOLIO_EXTERN
folio_status folio_toml_parse_ex(const char *text, size_t len, const char *filename,
                                 const struct folio_toml_limits *limits,
                                 folio_toml **out_doc, struct folio_error *err) FOLIO_MUST_CHECK;

/* Free a document and everything in it. NULL is allowed. */
FOLIO_EXTERN void folio_toml_free(folio_toml *doc);

/* The root table of a document; never NULL. `doc` must not be NULL (asserted), and
 * neither may `v` for folio_toml_type/_line/_column; every other accessor accepts NULL
 * (and values of the wrong type) and answers 0, NULL or FOLIO_EINVAL, so lookups chain:
 * folio_toml_table_get(folio_toml_table_get(root, "server"), "port"). */
FOLIO_EXTERN const struct folio_toml_value *folio_toml_root(const folio_toml *doc);

/* Type of a value, and a static lowercase name for a type ("table", "array", "string",
 * "integer", "float", "bool", "datetime", "datetime-local", "date-local", "time-local";
 * "unknown" for other numbers). */
FOLIO_EXTERN enum folio_toml_type folio_toml_type(const struct folio_toml_value *v);
FOLIO_EXTERN const char *folio_toml_type_name(enum folio_toml_type type);

/* 1-based line and column where `v` was written (see Positions above). */
FOLIO_EXTERN uint32_t folio_toml_line(const struct folio_toml_value *v);
FOLIO_EXTERN uint32_t folio_toml_column(const struct folio_toml_value *v);

/* --- tables: keys in document order ---------------------------------------------- */

/* Number of keys of a table; 0 when `v` is not a table. */
FOLIO_EXTERN size_t folio_toml_table_count(const struct folio_toml_value *v);
/* Key number `i` (0-based, document order), NUL-terminated; *out_len (optional) gets its
 * length in bytes, which differs from strlen() when the key contains "\u0000".
 * NULL when `v` is not a table or i >= count. */
FOLIO_EXTERN
const char *folio_toml_table_key(const struct folio_toml_value *v, size_t i, size_t *out_len);
/* Value of key number `i`; NULL when `v` is not a table or i >= count. */
FOLIO_EXTERN
const struct folio_toml_value *folio_toml_table_value(const struct folio_toml_value *v,
                                                      size_t i);
/* Line and column of key number `i` (the key itself, not its value); 0 when out of range. */
FOLIO_EXTERN uint32_t folio_toml_table_key_line(const struct folio_toml_value *v, size_t i);
FOLIO_EXTERN uint32_t folio_toml_table_key_column(const struct folio_toml_value *v, size_t i);
/* Value stored under `key` (NUL-terminated, or `key_len` bytes); NULL when `v` is not a
 * table or has no such key. Average O(1). */
FOLIO_EXTERN
const struct folio_toml_value *folio_toml_table_get(const struct folio_toml_value *v,
                                                    const char *key);
FOLIO_EXTERN
const struct folio_toml_value *folio_toml_table_getn(const struct folio_toml_value *v,
                                                     const char *key, size_t key_len);

/* --- arrays ------------------------------------------------------------------------- */

/* Number of elements; 0 when `v` is not an array. */
FOLIO_EXTERN size_t folio_toml_array_len(const struct folio_toml_value *v);
/* Element `i` (0-based); NULL when `v` is not an array or i >= len. */
FOLIO_EXTERN
const struct folio_toml_value *folio_toml_array_at(const struct folio_toml_value *v, size_t i);

/* --- scalars -------------------------------------------------------------------------
 * Each accessor returns FOLIO_OK and fills its outputs, or FOLIO_EINVAL (outputs left
 * untouched) when `v` has another type. No conversions: an integer is not a float. */

/* The string's bytes (valid UTF-8, NUL-terminated; may contain NUL bytes via "\u0000",
 * hence the length). `out_len` may be NULL. */
FOLIO_EXTERN
folio_status folio_toml_string(const struct folio_toml_value *v, const char **out_str,
                               size_t *out_len);
FOLIO_EXTERN folio_status folio_toml_int(const struct folio_toml_value *v, int64_t *out);
FOLIO_EXTERN folio_status folio_toml_float(const struct folio_toml_value *v, double *out);
FOLIO_EXTERN folio_status folio_toml_bool(const struct folio_toml_value *v, bool *out);

/* The parts of a date and/or time. Which parts are meaningful follows has_date, has_time
 * and has_offset (the value's type says the same thing). Fractions of a second beyond
 * nanoseconds are truncated, as the specification allows. */
struct folio_toml_datetime {
    int year, month, day;         /* 0001..9999, 1..12, 1..31 (validated for the month) */
    int hour, minute, second;     /* 0..23, 0..59, 0..60 (60: leap second) */
    int nanosecond;               /* 0..999999999 */
    int offset_minutes;           /* east of UTC, -1439..1439; "Z" and "-00:00" are 0 */
    bool has_date, has_time, has_offset;
};

/* For the four datetime types. */
FOLIO_EXTERN
folio_status folio_toml_datetime(const struct folio_toml_value *v,
                                 struct folio_toml_datetime *out);

/* Longest text folio_toml_datetime_format() writes, with its NUL. */
#define FOLIO_TOML_DATETIME_TEXT_MAX 40

/* Canonical RFC 3339 text of `dt`, snprintf-style: writes at most `cap` bytes including a
 * NUL and returns the length the full text has. Form: "YYYY-MM-DD", "HH:MM:SS[.f]",
 * "YYYY-MM-DDTHH:MM:SS[.f]" and, with an offset, a trailing "Z" (offset 0) or "+HH:MM";
 * the fraction is written without trailing zeros and omitted when zero.
 * Thread-safe. */
FOLIO_EXTERN
size_t folio_toml_datetime_format(const struct folio_toml_datetime *dt, char *buf,
                                  size_t cap);

#ifdef __cplusplus
}
#endif

#endif
