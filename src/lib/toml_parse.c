/* TOML document structure: lines, keys, [tables], [[arrays of tables]], arrays, inline
 * tables, and the rules about which tables may be defined or extended. Scalars are in
 * toml_scalar.c. See folio/toml.h.
 *
 * Table rules (TOML 1.0.0 "Table", "Array of Tables", "Inline Table"), as node flags:
 * - a [header] may define a table that does not exist yet or was only created as an
 *   intermediate of another header (IMPLICIT); never one that a header, [[header]] or
 *   dotted keys already defined;
 * - a header may pass through any table that is not frozen, and through an array of
 *   tables (into its last element);
 * - dotted keys `a.b = 1` may pass through tables they created themselves in the current
 *   section (the lines after one header) or IMPLICIT ones, never through tables defined
 *   by headers, by dotted keys of another section, or arrays;
 * - inline tables and array literals are frozen: nothing may ever be added to them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "folio/alloc.h"
#include "toml_internal.h"
#include "utf8.h"

/* --- errors --- */

int folio__toml_fail_at(struct folio__toml_parser *p, folio_status status, uint32_t line,
                        uint32_t col, const char *fmt, ...)
{
    if (p->status != FOLIO_OK)
        return -1;
    p->status = status;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    folio_error_set(p->err, status, FOLIO_KIND_NONE, NULL, "%s:%u:%u: %s", p->filename,
                    (unsigned)line, (unsigned)col, msg);
    return -1;
}

int folio__toml_oom(struct folio__toml_parser *p)
{
    if (p->status == FOLIO_OK) {
        p->status = FOLIO_ENOMEM;
        folio_error_set(p->err, FOLIO_ENOMEM, FOLIO_KIND_NONE, NULL, "%s: out of memory",
                        p->filename);
    }
    return -1;
}

/* A printable, bounded rendering of a key for messages. */
static const char *key_repr(const char *key, size_t len, char out[48])
{
    size_t n = 0;
    for (size_t i = 0; i < len && n < 40; i++) {
        unsigned char c = (unsigned char)key[i];
        out[n++] = c < 0x20 || c == 0x7F ? '?' : (char)c;
    }
    if (n < len) {
        /* Do not cut a UTF-8 sequence in half. */
        while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80)
            n--;
        if (n > 0 && (unsigned char)out[n - 1] >= 0xC0)
            n--;
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

/* Fail with "unexpected X <context>" at the current byte. */
static int fail_unexpected(struct folio__toml_parser *p, const char *context)
{
    int c = folio__toml_peek(p);
    if (c < 0)
        return folio__toml_fail(p, "unexpected end of input %s", context);
    if (c == '\n' || c == '\r')
        return folio__toml_fail(p, "unexpected newline %s", context);
    if (c == ' ' || c == '\t')
        return folio__toml_fail(p, "unexpected %s %s", c == ' ' ? "space" : "tab", context);
    if (c > 0x20 && c < 0x7F)
        return folio__toml_fail(p, "unexpected '%c' %s", c, context);
    /* Name the code point (the input is valid UTF-8 by now). */
    uint32_t cp = (uint32_t)c;
    size_t extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (extra > 0)
        cp &= 0x3Fu >> extra;
    for (size_t i = 1; i <= extra; i++)
        cp = cp << 6 | ((uint32_t)folio__toml_peek_at(p, i) & 0x3F);
    return folio__toml_fail(p, "unexpected character U+%04X %s", (unsigned)cp, context);
}

/* --- whitespace, comments, newlines --- */

static void skip_ws(struct folio__toml_parser *p)
{
    int c;
    while ((c = folio__toml_peek(p)) == ' ' || c == '\t')
        folio__toml_adv(p);
}

static int skip_comment(struct folio__toml_parser *p)
{
    if (folio__toml_peek(p) != '#')
        return 0;
    folio__toml_adv(p);
    for (;;) {
        int c = folio__toml_peek(p);
        if (c < 0 || c == '\n' || (c == '\r' && folio__toml_peek_at(p, 1) == '\n'))
            return 0;
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return folio__toml_fail(p, "control character U+%04X in a comment", (unsigned)c);
        folio__toml_adv(p);
    }
}

/* Whitespace, an optional comment, then a newline or the end of input. */
static int expect_eol(struct folio__toml_parser *p, const char *context)
{
    skip_ws(p);
    if (skip_comment(p) < 0)
        return -1;
    if (folio__toml_peek(p) < 0)
        return 0;
    int n = folio__toml_newline_len(p);
    if (n < 0)
        return -1;
    if (n == 0)
        return fail_unexpected(p, context);
    while (n-- > 0)
        folio__toml_adv(p);
    return 0;
}

/* Whitespace, comments and newlines, as allowed inside arrays. */
static int skip_ws_comment_newline(struct folio__toml_parser *p)
{
    for (;;) {
        skip_ws(p);
        if (skip_comment(p) < 0)
            return -1;
        int n = folio__toml_newline_len(p);
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        while (n-- > 0)
            folio__toml_adv(p);
    }
}

/* --- keys --- */

struct keypart {
    char *key; /* owned until moved into a table (then NULL) */
    size_t len;
    uint32_t line, col;
};

struct keypath {
    struct keypart *parts;
    size_t n, cap;
    struct keypart small[8];
};

static void keypath_init(struct keypath *kp)
{
    kp->parts = kp->small;
    kp->n = 0;
    kp->cap = sizeof kp->small / sizeof kp->small[0];
}

static void keypath_clear(struct keypath *kp)
{
    for (size_t i = 0; i < kp->n; i++)
        folio_free(kp->parts[i].key);
    if (kp->parts != kp->small)
        folio_free(kp->parts);
    keypath_init(kp);
}

static int keypath_push(struct folio__toml_parser *p, struct keypath *kp, struct keypart part)
{
    if (kp->n == kp->cap) {
        /* kp->cap <= max_depth + 1 <= FOLIO_TOML_MAX_DEPTH_LIMIT + 1: cannot overflow. */
        size_t cap = kp->cap * 2;
        struct keypart *n = folio_malloc(cap * sizeof *n);
        if (n == NULL) {
            folio_free(part.key);
            return folio__toml_oom(p);
        }
        memcpy(n, kp->parts, kp->n * sizeof *n);
        if (kp->parts != kp->small)
            folio_free(kp->parts);
        kp->parts = n;
        kp->cap = cap;
    }
    kp->parts[kp->n++] = part;
    return 0;
}

static bool is_bare_key_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

static int parse_simple_key(struct folio__toml_parser *p, struct keypart *out)
{
    out->line = p->line;
    out->col = p->col;
    int c = folio__toml_peek(p);
    if (c == '"' || c == '\'') {
        struct folio__toml_str s = {0};
        if (folio__toml_parse_string(p, false, &s) < 0) {
            folio__toml_str_clear(&s);
            return -1;
        }
        out->key = s.ptr;
        out->len = s.len;
        return 0;
    }
    size_t start = p->pos;
    while (is_bare_key_char(folio__toml_peek(p)))
        folio__toml_adv(p);
    if (p->pos == start)
        return fail_unexpected(p, "where a key was expected");
    out->len = p->pos - start;
    out->key = folio_strndup((const char *)p->s + start, out->len);
    if (out->key == NULL)
        return folio__toml_oom(p);
    return 0;
}

/* key = simple-key *( ws "." ws simple-key ), followed by whitespace (skipped). */
static int parse_key(struct folio__toml_parser *p, struct keypath *kp)
{
    for (;;) {
        if (kp->n >= p->max_depth)
            return folio__toml_fail_at(p, FOLIO_ELIMIT, p->line, p->col,
                                       "key nested deeper than %u levels", p->max_depth);
        struct keypart part = {0}; /* zeroed: gcc -O2 cannot see parse_simple_key fills it */
        if (parse_simple_key(p, &part) < 0 || keypath_push(p, kp, part) < 0)
            return -1;
        skip_ws(p);
        if (folio__toml_peek(p) != '.')
            return 0;
        folio__toml_adv(p);
        skip_ws(p);
    }
}

/* --- tree building --- */

static struct folio_toml_value *new_child(struct folio__toml_parser *p,
                                          const struct folio_toml_value *parent,
                                          enum folio_toml_type type, uint32_t line,
                                          uint32_t col)
{
    if (parent->depth >= p->max_depth) {
        folio__toml_fail_at(p, FOLIO_ELIMIT, line, col, "nesting deeper than %u levels",
                            p->max_depth);
        return NULL;
    }
    struct folio_toml_value *v = folio__toml_value_new(type, line, col);
    if (v == NULL) {
        folio__toml_oom(p);
        return NULL;
    }
    v->depth = (uint16_t)(parent->depth + 1);
    return v;
}

/* Add `v` under the key `part` of table `t`, taking the key. Frees `v` on failure. */
static int add_entry(struct folio__toml_parser *p, struct folio_toml_value *t,
                     struct keypart *part, struct folio_toml_value *v)
{
    if (folio__toml_table_add(t, part->key, part->len, part->line, part->col, v) != FOLIO_OK) {
        folio__toml_value_free(v);
        return folio__toml_oom(p);
    }
    part->key = NULL;
    return 0;
}

/* A new table under `part` in `t`; NULL after recording an error. */
static struct folio_toml_value *add_table(struct folio__toml_parser *p,
                                          struct folio_toml_value *t, struct keypart *part,
                                          uint8_t flags)
{
    struct folio_toml_value *nt = new_child(p, t, FOLIO_TOML_TABLE, part->line, part->col);
    if (nt == NULL)
        return NULL;
    nt->flags = flags;
    nt->section = p->section;
    return add_entry(p, t, part, nt) < 0 ? NULL : nt;
}

static struct folio_toml_value *lookup(struct folio_toml_value *t, const struct keypart *part)
{
    ptrdiff_t i = folio__toml_table_find(t, part->key, part->len);
    return i < 0 ? NULL : t->u.table.items[i].value;
}

static void *fail_key(struct folio__toml_parser *p, const struct keypart *part,
                      const char *fmt_key_first)
{
    char repr[48];
    folio__toml_fail_at(p, FOLIO_ESYNTAX, part->line, part->col, fmt_key_first,
                        key_repr(part->key, part->len, repr));
    return NULL;
}

/* One intermediate step of a dotted key inside table `t`. */
static struct folio_toml_value *dotted_step(struct folio__toml_parser *p,
                                            struct folio_toml_value *t, struct keypart *part)
{
    struct folio_toml_value *v = lookup(t, part);
    if (v == NULL)
        return add_table(p, t, part, FOLIO__TOML_DOTTED);
    if (v->type != FOLIO_TOML_TABLE)
        return fail_key(p, part, "key '%s' is already defined and is not a table");
    if (v->flags & FOLIO__TOML_FROZEN)
        return fail_key(p, part, "inline table '%s' cannot be extended");
    if (v->flags & FOLIO__TOML_EXPLICIT)
        return fail_key(p, part,
                        "table '%s' was defined by a [header]; dotted keys cannot extend it");
    if ((v->flags & FOLIO__TOML_DOTTED) && v->section != p->section)
        return fail_key(p, part, "table '%s' was defined by dotted keys in another section");
    v->flags |= FOLIO__TOML_DOTTED;
    v->section = p->section;
    return v;
}

/* One intermediate step of a [header] or [[header]] path. */
static struct folio_toml_value *header_step(struct folio__toml_parser *p,
                                            struct folio_toml_value *t, struct keypart *part)
{
    struct folio_toml_value *v = lookup(t, part);
    if (v == NULL)
        return add_table(p, t, part, FOLIO__TOML_IMPLICIT);
    if (v->flags & FOLIO__TOML_FROZEN)
        return fail_key(p, part, "'%s' is an inline table or array and cannot be extended");
    if (v->type == FOLIO_TOML_TABLE)
        return v;
    if (v->type == FOLIO_TOML_ARRAY && (v->flags & FOLIO__TOML_AOT))
        return v->u.array.items[v->u.array.len - 1];
    return fail_key(p, part, "key '%s' is already defined and is not a table");
}

static int parse_value(struct folio__toml_parser *p, const struct folio_toml_value *parent,
                       struct folio_toml_value **out);

/* key = value, into table `t` (a section's table or an inline table being built). */
static int parse_keyval(struct folio__toml_parser *p, struct folio_toml_value *t)
{
    struct keypath kp;
    keypath_init(&kp);
    int rc = -1;
    if (parse_key(p, &kp) < 0)
        goto out;
    if (folio__toml_peek(p) != '=') {
        fail_unexpected(p, "after a key (expected '=')");
        goto out;
    }
    folio__toml_adv(p);
    skip_ws(p);
    for (size_t i = 0; i + 1 < kp.n; i++)
        if ((t = dotted_step(p, t, &kp.parts[i])) == NULL)
            goto out;
    struct keypart *last = &kp.parts[kp.n - 1];
    if (lookup(t, last) != NULL) {
        fail_key(p, last, "duplicate key '%s'");
        goto out;
    }
    struct folio_toml_value *v;
    if (parse_value(p, t, &v) < 0 || add_entry(p, t, last, v) < 0)
        goto out;
    rc = 0;
out:
    keypath_clear(&kp);
    return rc;
}

static int parse_array(struct folio__toml_parser *p, struct folio_toml_value *a)
{
    folio__toml_adv(p); /* [ */
    for (;;) {
        if (skip_ws_comment_newline(p) < 0)
            return -1;
        if (folio__toml_peek(p) == ']')
            break;
        struct folio_toml_value *elem;
        if (parse_value(p, a, &elem) < 0)
            return -1;
        if (folio__toml_array_push(a, elem) != FOLIO_OK) {
            folio__toml_value_free(elem);
            return folio__toml_oom(p);
        }
        if (skip_ws_comment_newline(p) < 0)
            return -1;
        int c = folio__toml_peek(p);
        if (c == ']')
            break;
        if (c != ',')
            return fail_unexpected(p, "in an array (expected ',' or ']')");
        folio__toml_adv(p);
    }
    folio__toml_adv(p); /* ] */
    a->flags |= FOLIO__TOML_FROZEN;
    return 0;
}

static int parse_inline_table(struct folio__toml_parser *p, struct folio_toml_value *t)
{
    folio__toml_adv(p); /* { */
    skip_ws(p);
    if (folio__toml_peek(p) != '}') {
        for (;;) {
            if (parse_keyval(p, t) < 0)
                return -1;
            skip_ws(p);
            int c = folio__toml_peek(p);
            if (c == '}')
                break;
            if (c != ',')
                return fail_unexpected(p, "in an inline table (expected ',' or '}')");
            folio__toml_adv(p);
            skip_ws(p);
            if (folio__toml_peek(p) == '}')
                return folio__toml_fail(p, "trailing comma in an inline table");
        }
    }
    folio__toml_adv(p); /* } */
    t->flags |= FOLIO__TOML_FROZEN;
    return 0;
}

/* A value of any type at p->pos, as a new child of `parent` (depth-checked). */
static int parse_value(struct folio__toml_parser *p, const struct folio_toml_value *parent,
                       struct folio_toml_value **out)
{
    int c = folio__toml_peek(p);
    /* Scalars start as booleans, which own nothing, until their parser sets the type. */
    enum folio_toml_type type = c == '[' ? FOLIO_TOML_ARRAY
                                : c == '{' ? FOLIO_TOML_TABLE
                                : c == '"' || c == '\'' ? FOLIO_TOML_STRING
                                           : FOLIO_TOML_BOOL;
    struct folio_toml_value *v = new_child(p, parent, type, p->line, p->col);
    if (v == NULL)
        return -1;
    int rc;
    if (c == '[') {
        rc = parse_array(p, v);
    } else if (c == '{') {
        rc = parse_inline_table(p, v);
    } else if (c == '"' || c == '\'') {
        struct folio__toml_str s = {0};
        rc = folio__toml_parse_string(p, true, &s);
        v->u.str.ptr = s.ptr;
        v->u.str.len = s.len;
    } else if (c < 0 || c == '\n' || c == '\r' || c == '#') {
        rc = fail_unexpected(p, "where a value was expected");
    } else {
        rc = folio__toml_parse_scalar(p, v);
    }
    if (rc < 0) {
        folio__toml_value_free(v);
        return -1;
    }
    *out = v;
    return 0;
}

/* [header] or [[header]]; *cur becomes the table the following key/values go into. */
static int parse_header(struct folio__toml_parser *p, struct folio_toml_value *root,
                        struct folio_toml_value **cur)
{
    folio__toml_adv(p); /* [ */
    bool aot = folio__toml_peek(p) == '[';
    if (aot)
        folio__toml_adv(p);
    skip_ws(p);
    struct keypath kp;
    keypath_init(&kp);
    int rc = -1;
    if (parse_key(p, &kp) < 0)
        goto out;
    if (folio__toml_peek(p) != ']' || (aot && folio__toml_peek_at(p, 1) != ']')) {
        if (folio__toml_peek(p) == ']')
            folio__toml_adv(p);
        fail_unexpected(p, aot ? "in a [[table]] header (expected ']]')"
                               : "in a [table] header (expected ']')");
        goto out;
    }
    folio__toml_adv(p);
    if (aot)
        folio__toml_adv(p);
    p->section++;
    struct folio_toml_value *t = root;
    for (size_t i = 0; i + 1 < kp.n; i++)
        if ((t = header_step(p, t, &kp.parts[i])) == NULL)
            goto out;
    struct keypart *last = &kp.parts[kp.n - 1];
    struct folio_toml_value *v = lookup(t, last);
    if (!aot) {
        if (v == NULL) {
            v = add_table(p, t, last, FOLIO__TOML_EXPLICIT);
        } else if (v->type != FOLIO_TOML_TABLE) {
            v = fail_key(p, last, "key '%s' is already defined and is not a table");
        } else if (v->flags & FOLIO__TOML_FROZEN) {
            v = fail_key(p, last, "inline table '%s' cannot be redefined");
        } else if (v->flags & (FOLIO__TOML_EXPLICIT | FOLIO__TOML_DOTTED)) {
            v = fail_key(p, last, "table '%s' is already defined");
        } else {
            v->flags |= FOLIO__TOML_EXPLICIT;
        }
        if (v == NULL)
            goto out;
        *cur = v;
    } else {
        if (v == NULL) {
            v = new_child(p, t, FOLIO_TOML_ARRAY, last->line, last->col);
            if (v == NULL)
                goto out;
            v->flags = FOLIO__TOML_AOT;
            if (add_entry(p, t, last, v) < 0)
                goto out;
        } else if (v->type != FOLIO_TOML_ARRAY || !(v->flags & FOLIO__TOML_AOT)) {
            fail_key(p, last,
                     v->type == FOLIO_TOML_ARRAY
                         ? "array '%s' is static and cannot be extended with [[header]]"
                         : "key '%s' is already defined and is not an array of tables");
            goto out;
        }
        struct folio_toml_value *elem =
            new_child(p, v, FOLIO_TOML_TABLE, last->line, last->col);
        if (elem == NULL)
            goto out;
        elem->flags = FOLIO__TOML_EXPLICIT;
        if (folio__toml_array_push(v, elem) != FOLIO_OK) {
            folio__toml_value_free(elem);
            folio__toml_oom(p);
            goto out;
        }
        *cur = elem;
    }
    rc = 0;
out:
    keypath_clear(&kp);
    return rc;
}

static int parse_document(struct folio__toml_parser *p, struct folio_toml_value *root)
{
    struct folio_toml_value *cur = root;
    if (p->len >= 3 && memcmp(p->s, "\xEF\xBB\xBF", 3) == 0)
        p->pos = 3; /* the BOM takes no column */
    for (;;) {
        skip_ws(p);
        int c = folio__toml_peek(p);
        if (c < 0)
            return 0;
        if (c == '[') {
            if (parse_header(p, root, &cur) < 0 || expect_eol(p, "after a table header") < 0)
                return -1;
        } else if (c == '#' || c == '\n' || c == '\r') {
            if (expect_eol(p, "") < 0)
                return -1;
        } else {
            if (parse_keyval(p, cur) < 0 || expect_eol(p, "after a value") < 0)
                return -1;
        }
    }
}

/* Report the first invalid UTF-8 sequence with its position. */
static int check_utf8(struct folio__toml_parser *p)
{
    const unsigned char *s = p->s;
    size_t i = 0;
    while (i < p->len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = folio__utf8_valid_prefix(s + i, p->len - i);
        if (n == 0) {
            while (p->pos < i)
                folio__toml_adv(p);
            return folio__toml_fail(p, "invalid UTF-8 byte 0x%02X", s[i]);
        }
        i += n;
    }
    return 0;
}

folio_status folio_toml_parse_ex(const char *text, size_t len, const char *filename,
                                 const struct folio_toml_limits *limits,
                                 folio_toml **out_doc, struct folio_error *err)
{
    if (out_doc == NULL)
        return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_NONE, NULL, "out_doc is NULL");
    *out_doc = NULL;
    if (filename == NULL)
        filename = "<input>";
    if (text == NULL && len > 0)
        return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_NONE, NULL, "%s: text is NULL",
                               filename);
    size_t max_bytes = limits && limits->max_bytes ? limits->max_bytes
                                                   : FOLIO_TOML_DEFAULT_MAX_BYTES;
    unsigned max_depth = limits && limits->max_depth ? limits->max_depth
                                                     : FOLIO_TOML_DEFAULT_MAX_DEPTH;
    if (max_bytes > FOLIO_TOML_MAX_BYTES_LIMIT || max_depth > FOLIO_TOML_MAX_DEPTH_LIMIT)
        return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_NONE, NULL,
                               "%s: TOML limits too large", filename);
    if (len > max_bytes)
        return folio_error_set(err, FOLIO_ETOOBIG, FOLIO_KIND_NONE, NULL,
                               "%s: %zu bytes is more than the limit of %zu", filename, len,
                               max_bytes);
    struct folio__toml_parser p = {
        .s = (const unsigned char *)(text ? text : ""),
        .len = len,
        .line = 1,
        .col = 1,
        .filename = filename,
        .max_depth = max_depth,
        .status = FOLIO_OK,
        .err = err,
    };
    if (check_utf8(&p) < 0)
        return p.status;
    folio_toml *doc = folio_calloc(1, sizeof *doc);
    if (doc == NULL || (doc->root = folio__toml_value_new(FOLIO_TOML_TABLE, 1, 1)) == NULL) {
        folio_free(doc);
        folio__toml_oom(&p);
        return p.status;
    }
    doc->root->flags = FOLIO__TOML_EXPLICIT;
    if (parse_document(&p, doc->root) < 0) {
        folio_toml_free(doc);
        return p.status;
    }
    *out_doc = doc;
    return FOLIO_OK;
}

folio_status folio_toml_parse(const char *text, size_t len, const char *filename,
                              folio_toml **out_doc, struct folio_error *err)
{
    return folio_toml_parse_ex(text, len, filename, NULL, out_doc, err);
}
