/* TOML document tree: construction helpers, lookup and the public read accessors.
 * Parsing lives in toml_parse.c and toml_scalar.c. See folio/toml.h. */
#include "folio/toml.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "folio/alloc.h"
#include "toml_internal.h"

/* Tables switch from a linear scan to a hash index past this many keys, so that a hostile
 * document with many keys stays O(n) to parse. */
#define INDEX_THRESHOLD 8

struct folio_toml_value *folio__toml_value_new(enum folio_toml_type type, uint32_t line,
                                               uint32_t col)
{
    struct folio_toml_value *v = folio_calloc(1, sizeof *v);
    if (v == NULL)
        return NULL;
    v->type = (uint8_t)type;
    v->line = line;
    v->col = col;
    return v;
}

void folio__toml_value_free(struct folio_toml_value *v)
{
    if (v == NULL)
        return;
    switch (v->type) {
    case FOLIO_TOML_TABLE:
        for (size_t i = 0; i < v->u.table.len; i++) {
            folio_free(v->u.table.items[i].key);
            folio__toml_value_free(v->u.table.items[i].value);
        }
        folio_free(v->u.table.items);
        folio_free(v->u.table.index);
        break;
    case FOLIO_TOML_ARRAY:
        for (size_t i = 0; i < v->u.array.len; i++)
            folio__toml_value_free(v->u.array.items[i]);
        folio_free(v->u.array.items);
        break;
    case FOLIO_TOML_STRING:
        folio_free(v->u.str.ptr);
        break;
    default:
        break;
    }
    folio_free(v);
}

/* FNV-1a. */
static uint32_t hash_key(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 16777619u;
    }
    return h;
}

static bool key_eq(const struct folio__toml_entry *e, const char *key, size_t len)
{
    return e->key_len == len && memcmp(e->key, key, len) == 0;
}

ptrdiff_t folio__toml_table_find(const struct folio_toml_value *t, const char *key,
                                 size_t key_len)
{
    const struct folio__toml_entry *items = t->u.table.items;
    if (t->u.table.index == NULL) {
        for (size_t i = 0; i < t->u.table.len; i++)
            if (key_eq(&items[i], key, key_len))
                return (ptrdiff_t)i;
        return -1;
    }
    size_t mask = t->u.table.index_cap - 1;
    for (size_t slot = hash_key(key, key_len) & mask;; slot = (slot + 1) & mask) {
        uint32_t n = t->u.table.index[slot];
        if (n == 0)
            return -1;
        if (key_eq(&items[n - 1], key, key_len))
            return (ptrdiff_t)(n - 1);
    }
}

static void index_insert(uint32_t *index, size_t cap, const struct folio__toml_entry *e,
                         uint32_t n)
{
    size_t mask = cap - 1;
    size_t slot = hash_key(e->key, e->key_len) & mask;
    while (index[slot] != 0)
        slot = (slot + 1) & mask;
    index[slot] = n;
}

/* Make room in the index for `want` entries at a load factor of at most 1/2. */
static folio_status index_reserve(struct folio_toml_value *t, size_t want)
{
    if (want < INDEX_THRESHOLD || want <= t->u.table.index_cap / 2)
        return FOLIO_OK;
    if (want > UINT32_MAX - 1 || want > SIZE_MAX / 4 / sizeof(uint32_t))
        return FOLIO_ENOMEM;
    size_t cap = 16;
    while (cap / 2 < want)
        cap *= 2;
    uint32_t *index = folio_calloc(cap, sizeof *index);
    if (index == NULL)
        return FOLIO_ENOMEM;
    for (size_t i = 0; i < t->u.table.len; i++)
        index_insert(index, cap, &t->u.table.items[i], (uint32_t)(i + 1));
    folio_free(t->u.table.index);
    t->u.table.index = index;
    t->u.table.index_cap = cap;
    return FOLIO_OK;
}

/* Grow a vector of `elem`-sized items to hold one more; *cap doubles. */
static folio_status grow(void **items, size_t *cap, size_t len, size_t elem)
{
    if (len < *cap)
        return FOLIO_OK;
    size_t ncap = *cap ? *cap : 4;
    if (*cap != 0) {
        if (*cap > SIZE_MAX / 2 / elem)
            return FOLIO_ENOMEM;
        ncap = *cap * 2;
    }
    void *n = folio_realloc(*items, ncap * elem);
    if (n == NULL)
        return FOLIO_ENOMEM;
    *items = n;
    *cap = ncap;
    return FOLIO_OK;
}

folio_status folio__toml_table_add(struct folio_toml_value *t, char *key, size_t key_len,
                                   uint32_t line, uint32_t col, struct folio_toml_value *value)
{
    size_t len = t->u.table.len;
    void *items = t->u.table.items;
    if (grow(&items, &t->u.table.cap, len, sizeof(struct folio__toml_entry)) != FOLIO_OK)
        return FOLIO_ENOMEM;
    t->u.table.items = items;
    if (index_reserve(t, len + 1) != FOLIO_OK)
        return FOLIO_ENOMEM;
    struct folio__toml_entry *e = &t->u.table.items[len];
    *e = (struct folio__toml_entry){key, key_len, line, col, value};
    t->u.table.len = len + 1;
    if (t->u.table.index != NULL)
        index_insert(t->u.table.index, t->u.table.index_cap, e, (uint32_t)(len + 1));
    return FOLIO_OK;
}

folio_status folio__toml_array_push(struct folio_toml_value *a, struct folio_toml_value *elem)
{
    void *items = a->u.array.items;
    if (grow(&items, &a->u.array.cap, a->u.array.len, sizeof elem) != FOLIO_OK)
        return FOLIO_ENOMEM;
    a->u.array.items = items;
    a->u.array.items[a->u.array.len++] = elem;
    return FOLIO_OK;
}

/* --- public accessors --- */

void folio_toml_free(folio_toml *doc)
{
    if (doc == NULL)
        return;
    folio__toml_value_free(doc->root);
    folio_free(doc);
}

const struct folio_toml_value *folio_toml_root(const folio_toml *doc)
{
    assert(doc != NULL);
    return doc->root;
}

enum folio_toml_type folio_toml_type(const struct folio_toml_value *v)
{
    assert(v != NULL);
    return (enum folio_toml_type)v->type;
}

const char *folio_toml_type_name(enum folio_toml_type type)
{
    switch (type) {
    case FOLIO_TOML_TABLE:
        return "table";
    case FOLIO_TOML_ARRAY:
        return "array";
    case FOLIO_TOML_STRING:
        return "string";
    case FOLIO_TOML_INTEGER:
        return "integer";
    case FOLIO_TOML_FLOAT:
        return "float";
    case FOLIO_TOML_BOOL:
        return "bool";
    case FOLIO_TOML_DATETIME:
        return "datetime";
    case FOLIO_TOML_LOCAL_DATETIME:
        return "datetime-local";
    case FOLIO_TOML_LOCAL_DATE:
        return "date-local";
    case FOLIO_TOML_LOCAL_TIME:
        return "time-local";
    }
    return "unknown";
}

uint32_t folio_toml_line(const struct folio_toml_value *v)
{
    assert(v != NULL);
    return v->line;
}

uint32_t folio_toml_column(const struct folio_toml_value *v)
{
    assert(v != NULL);
    return v->col;
}

static const struct folio__toml_entry *entry_at(const struct folio_toml_value *v, size_t i)
{
    if (v == NULL || v->type != FOLIO_TOML_TABLE || i >= v->u.table.len)
        return NULL;
    return &v->u.table.items[i];
}

size_t folio_toml_table_count(const struct folio_toml_value *v)
{
    return v != NULL && v->type == FOLIO_TOML_TABLE ? v->u.table.len : 0;
}

const char *folio_toml_table_key(const struct folio_toml_value *v, size_t i, size_t *out_len)
{
    const struct folio__toml_entry *e = entry_at(v, i);
    if (e == NULL)
        return NULL;
    if (out_len != NULL)
        *out_len = e->key_len;
    return e->key;
}

const struct folio_toml_value *folio_toml_table_value(const struct folio_toml_value *v,
                                                      size_t i)
{
    const struct folio__toml_entry *e = entry_at(v, i);
    return e != NULL ? e->value : NULL;
}

uint32_t folio_toml_table_key_line(const struct folio_toml_value *v, size_t i)
{
    const struct folio__toml_entry *e = entry_at(v, i);
    return e != NULL ? e->line : 0;
}

uint32_t folio_toml_table_key_column(const struct folio_toml_value *v, size_t i)
{
    const struct folio__toml_entry *e = entry_at(v, i);
    return e != NULL ? e->col : 0;
}

const struct folio_toml_value *folio_toml_table_getn(const struct folio_toml_value *v,
                                                     const char *key, size_t key_len)
{
    if (v == NULL || v->type != FOLIO_TOML_TABLE || key == NULL)
        return NULL;
    ptrdiff_t i = folio__toml_table_find(v, key, key_len);
    return i < 0 ? NULL : v->u.table.items[i].value;
}

const struct folio_toml_value *folio_toml_table_get(const struct folio_toml_value *v,
                                                    const char *key)
{
    return key == NULL ? NULL : folio_toml_table_getn(v, key, strlen(key));
}

size_t folio_toml_array_len(const struct folio_toml_value *v)
{
    return v != NULL && v->type == FOLIO_TOML_ARRAY ? v->u.array.len : 0;
}

const struct folio_toml_value *folio_toml_array_at(const struct folio_toml_value *v, size_t i)
{
    if (v == NULL || v->type != FOLIO_TOML_ARRAY || i >= v->u.array.len)
        return NULL;
    return v->u.array.items[i];
}

folio_status folio_toml_string(const struct folio_toml_value *v, const char **out_str,
                               size_t *out_len)
{
    if (v == NULL || v->type != FOLIO_TOML_STRING)
        return FOLIO_EINVAL;
    *out_str = v->u.str.ptr;
    if (out_len != NULL)
        *out_len = v->u.str.len;
    return FOLIO_OK;
}

folio_status folio_toml_int(const struct folio_toml_value *v, int64_t *out)
{
    if (v == NULL || v->type != FOLIO_TOML_INTEGER)
        return FOLIO_EINVAL;
    *out = v->u.i;
    return FOLIO_OK;
}

folio_status folio_toml_float(const struct folio_toml_value *v, double *out)
{
    if (v == NULL || v->type != FOLIO_TOML_FLOAT)
        return FOLIO_EINVAL;
    *out = v->u.f;
    return FOLIO_OK;
}

folio_status folio_toml_bool(const struct folio_toml_value *v, bool *out)
{
    if (v == NULL || v->type != FOLIO_TOML_BOOL)
        return FOLIO_EINVAL;
    *out = v->u.b;
    return FOLIO_OK;
}

folio_status folio_toml_datetime(const struct folio_toml_value *v,
                                 struct folio_toml_datetime *out)
{
    if (v == NULL || v->type < FOLIO_TOML_DATETIME || v->type > FOLIO_TOML_LOCAL_TIME)
        return FOLIO_EINVAL;
    *out = v->u.dt;
    return FOLIO_OK;
}

size_t folio_toml_datetime_format(const struct folio_toml_datetime *dt, char *buf,
                                  size_t cap)
{
    char tmp[FOLIO_TOML_DATETIME_TEXT_MAX + 24];
    size_t n = 0;
    /* The fields were validated by the parser; clamp anyway so a hand-made struct can
     * never overflow tmp. */
#define F(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))
    if (dt->has_date)
        n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%04d-%02d-%02d", F(dt->year, 0, 9999),
                              F(dt->month, 0, 99), F(dt->day, 0, 99));
    if (dt->has_time) {
        if (dt->has_date)
            tmp[n++] = 'T';
        n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%02d:%02d:%02d", F(dt->hour, 0, 99),
                              F(dt->minute, 0, 99), F(dt->second, 0, 99));
        int ns = F(dt->nanosecond, 0, 999999999);
        if (ns != 0) {
            int digits = 9;
            while (ns % 10 == 0) {
                ns /= 10;
                digits--;
            }
            n += (size_t)snprintf(tmp + n, sizeof tmp - n, ".%0*d", digits, ns);
        }
        if (dt->has_offset) {
            int off = F(dt->offset_minutes, -1439, 1439);
            if (off == 0)
                tmp[n++] = 'Z';
            else
                n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%c%02d:%02d",
                                      off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
                                      (off < 0 ? -off : off) % 60);
        }
    }
#undef F
    tmp[n] = '\0';
    if (cap > 0) {
        size_t c = n < cap ? n : cap - 1;
        memcpy(buf, tmp, c);
        buf[c] = '\0';
    }
    return n;
}
