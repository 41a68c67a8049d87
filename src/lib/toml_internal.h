/* Private declarations shared by toml.c (tree and accessors), toml_parse.c (document
 * structure) and toml_scalar.c (strings, numbers, datetimes). See folio/toml.h. */
#ifndef FOLIO_LIB_TOML_INTERNAL_H
#define FOLIO_LIB_TOML_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/status.h"
#include "folio/toml.h"

/* How a table came to exist; decides whether it may be defined again (TOML 1.0 sec.
 * "Table"). A table is defined at most once, by exactly one of these means. */
enum {
    FOLIO__TOML_IMPLICIT = 0,  /* intermediate of a [a.b.c] header: [a] may still define it */
    FOLIO__TOML_EXPLICIT = 1,  /* [header], [[header]] element, or the root */
    FOLIO__TOML_DOTTED = 2,    /* created by dotted keys `a.b = 1` */
    FOLIO__TOML_FROZEN = 4,    /* inline table or static array: immutable once closed */
    FOLIO__TOML_AOT = 8,       /* array created by [[header]] (may be appended to) */
};

struct folio__toml_entry {
    char *key; /* NUL-terminated, owned */
    size_t key_len;
    uint32_t line, col;
    struct folio_toml_value *value; /* owned */
};

struct folio_toml_value {
    uint8_t type;  /* enum folio_toml_type */
    uint8_t flags; /* FOLIO__TOML_* */
    uint16_t depth;
    uint32_t line, col;
    uint32_t section; /* for DOTTED tables: the table section that created them */
    union {
        struct {
            struct folio__toml_entry *items;
            size_t len, cap;
            uint32_t *index; /* open addressing, 1 + entry number, 0 = empty; NULL if small */
            size_t index_cap;
        } table;
        struct {
            struct folio_toml_value **items;
            size_t len, cap;
        } array;
        struct {
            char *ptr; /* owned, NUL-terminated */
            size_t len;
        } str;
        int64_t i;
        double f;
        bool b;
        struct folio_toml_datetime dt;
    } u;
};

struct folio_toml {
    struct folio_toml_value *root;
};

/* --- tree (toml.c) --- */

/* A new value of `type` with empty contents; NULL when the allocator fails. */
struct folio_toml_value *folio__toml_value_new(enum folio_toml_type type, uint32_t line,
                                               uint32_t col);
/* Free `v` and everything below it (recursion bounded by the depth limit). */
void folio__toml_value_free(struct folio_toml_value *v);
/* Entry number of `key` in table `t`, or -1. */
ptrdiff_t folio__toml_table_find(const struct folio_toml_value *t, const char *key,
                                 size_t key_len);
/* Append key -> value to `t` (the caller checked the key is absent). On FOLIO_OK the table
 * owns both `key` and `value`; on FOLIO_ENOMEM the caller still owns them. */
folio_status folio__toml_table_add(struct folio_toml_value *t, char *key, size_t key_len,
                                   uint32_t line, uint32_t col, struct folio_toml_value *value);
/* Append `elem` to array `a`; same ownership rule as folio__toml_table_add. */
folio_status folio__toml_array_push(struct folio_toml_value *a, struct folio_toml_value *elem);

/* --- parser state (toml_parse.c) --- */

struct folio__toml_parser {
    const unsigned char *s;
    size_t len, pos;
    uint32_t line, col; /* of s[pos] */
    const char *filename;
    unsigned max_depth;
    uint32_t section; /* counts table headers, for dotted-key rules */
    folio_status status;
    struct folio_error *err;
};

/* Next byte, or -1 at the end of input. */
static inline int folio__toml_peek(const struct folio__toml_parser *p)
{
    return p->pos < p->len ? p->s[p->pos] : -1;
}

static inline int folio__toml_peek_at(const struct folio__toml_parser *p, size_t ahead)
{
    return p->len - p->pos > ahead ? p->s[p->pos + ahead] : -1;
}

/* Consume one byte, keeping line and column (in code points) up to date. */
static inline void folio__toml_adv(struct folio__toml_parser *p)
{
    unsigned char c = p->s[p->pos++];
    if (c == '\n') {
        p->line++;
        p->col = 1;
    } else if ((c & 0xC0) != 0x80 && p->col < UINT32_MAX) {
        p->col++;
    }
}

/* Record a positional error (first one wins) and return -1. */
int folio__toml_fail_at(struct folio__toml_parser *p, folio_status status, uint32_t line,
                        uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define folio__toml_fail(p, ...)                                                         \
    folio__toml_fail_at((p), FOLIO_ESYNTAX, (p)->line, (p)->col, __VA_ARGS__)
int folio__toml_oom(struct folio__toml_parser *p);

/* Newline at p->pos: LF, or CR LF. Returns its length, 0 if none; a CR not followed by LF
 * is an error (-1). Nothing is consumed. */
int folio__toml_newline_len(struct folio__toml_parser *p);

/* --- scalars (toml_scalar.c); each returns 0 or -1 after recording the error --- */

/* A growable byte string under construction. */
struct folio__toml_str {
    char *ptr;
    size_t len, cap;
};
void folio__toml_str_clear(struct folio__toml_str *s);

/* Parse a basic or literal string (single- or multi-line when `allow_multi`) at p->pos,
 * which is at the opening quote, into `out` (reset first, always NUL-terminated). */
int folio__toml_parse_string(struct folio__toml_parser *p, bool allow_multi,
                             struct folio__toml_str *out);
/* Parse an integer, float, boolean or datetime starting at p->pos into `v` (whose type is
 * set here). */
int folio__toml_parse_scalar(struct folio__toml_parser *p, struct folio_toml_value *v);

#endif
