/* TOML 1.0.0 conformance: runs every case listed in toml-test/tests/files-toml-1.0.0.
 *
 * usage: toml_conformance CORPUS_DIR      (CORPUS_DIR holds toml-test/, vendored in tests/conformance)
 *
 * valid/X.toml must parse to the tagged JSON in valid/X.json (tables are objects, arrays
 * are arrays, scalars are {"type": T, "value": "text"}); floats compare by value (sign of
 * zero included, nan equals nan), datetimes compare in folio's canonical RFC 3339 form.
 * invalid/X.toml must be rejected with a status and a "FILE:LINE:COL: " detail.
 * Prints each failure, then "toml-test: V/VT valid, I/IT invalid"; exit 0 iff all pass. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/toml.h"

struct failure {
    char path[256]; /* where in the document */
    char why[512];
};

static bool fail(struct failure *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct failure *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->why, sizeof f->why, fmt, ap);
    va_end(ap);
    return false;
}

/* dir/name into out; false when it does not fit. */
static bool join_path(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n >= 0 && (size_t)n < cap;
}

static char *read_file(const char *path, size_t *out_len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL)
            break;
        len += fread(buf + len, 1, cap - len, fp);
        if (len < cap)
            break;
        char *n = realloc(buf, cap * 2);
        if (n == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = n;
        cap *= 2;
    }
    bool bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return NULL;
    }
    *out_len = len;
    return buf;
}

/* jansson cannot hold NUL in object keys, so "\u0000" escapes in the expected JSON are
 * rewritten to the noncharacter U+FDD0 (which no case uses), and NUL bytes in parsed keys
 * and strings are mapped the same way before comparing. */
#define NUL_STANDIN "\xEF\xB7\x90"

static void rewrite_nul_escapes(char *json, size_t len)
{
    size_t backslashes = 0;
    for (size_t i = 0; i < len; i++) {
        if (json[i] == '\\' && backslashes % 2 == 0 && len - i >= 6 &&
            memcmp(json + i, "\\u0000", 6) == 0) {
            memcpy(json + i, "\\uFDD0", 6);
            i += 5;
            backslashes = 0;
            continue;
        }
        backslashes = json[i] == '\\' ? backslashes + 1 : 0;
    }
}

/* `s` with each NUL replaced by NUL_STANDIN, malloc'd (caller frees). */
static char *map_nul(const char *s, size_t len, size_t *out_len)
{
    char *out = malloc(len * 3 + 1);
    if (out == NULL)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\0') {
            memcpy(out + n, NUL_STANDIN, 3);
            n += 3;
        } else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}

/* An object {"type": "...", "value": "..."} stands for a scalar; any other object is a
 * table. */
static bool is_tagged_scalar(const json_t *j)
{
    return json_is_object(j) && json_object_size(j) == 2 &&
           json_is_string(json_object_get(j, "type")) &&
           json_is_string(json_object_get(j, "value"));
}

/* RFC 3339 text in a normal form, computed without the library under test: 't', 'z' and
 * a space separator become 'T' and 'Z', trailing zeros of the fraction are dropped (with
 * the dot when nothing is left), and a zero offset is written "Z". */
static void normalise_datetime(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *s = in; *s != '\0' && n + 1 < cap; s++)
        out[n++] = *s == 't' || *s == ' ' ? 'T' : *s == 'z' ? 'Z' : *s;
    out[n] = '\0';
    char *dot = strchr(out, '.');
    if (dot != NULL) {
        char *end = dot + 1;
        while (*end >= '0' && *end <= '9')
            end++;
        char *keep = end;
        while (keep > dot + 1 && keep[-1] == '0')
            keep--;
        if (keep == dot + 1)
            keep = dot;
        memmove(keep, end, strlen(end) + 1);
    }
    n = strlen(out);
    if (n >= 6 && (strcmp(out + n - 6, "+00:00") == 0 || strcmp(out + n - 6, "-00:00") == 0))
        strcpy(out + n - 6, "Z");
}

static bool parse_json_float(const char *s, double *out)
{
    const char *t = s[0] == '+' || s[0] == '-' ? s + 1 : s;
    if (strcmp(t, "inf") == 0 || strcmp(t, "nan") == 0) {
        double d = t[0] == 'i' ? INFINITY : NAN;
        *out = s[0] == '-' ? -d : d;
        return true;
    }
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return *s != '\0' && *end == '\0';
}

static bool compare_scalar(const struct folio_toml_value *v, const json_t *j,
                           struct failure *f)
{
    const char *want_type = json_string_value(json_object_get(j, "type"));
    const json_t *jv = json_object_get(j, "value");
    const char *want = json_string_value(jv);
    enum folio_toml_type type = folio_toml_type(v);
    if (strcmp(want_type, folio_toml_type_name(type)) != 0)
        return fail(f, "expected %s, got %s", want_type, folio_toml_type_name(type));
    switch (type) {
    case FOLIO_TOML_STRING: {
        const char *s;
        size_t len;
        if (folio_toml_string(v, &s, &len) != FOLIO_OK)
            return fail(f, "string accessor failed");
        size_t mlen;
        char *mapped = map_nul(s, len, &mlen);
        bool same = mapped != NULL && mlen == json_string_length(jv) &&
                    memcmp(mapped, want, mlen) == 0;
        free(mapped);
        if (!same)
            return fail(f, "expected string \"%s\", got \"%.*s\" (%zu bytes)", want, (int)len,
                        s, len);
        return true;
    }
    case FOLIO_TOML_INTEGER: {
        int64_t got;
        if (folio_toml_int(v, &got) != FOLIO_OK)
            return fail(f, "integer accessor failed");
        char *end;
        errno = 0;
        long long w = strtoll(want, &end, 10);
        if (*end != '\0' || errno != 0)
            return fail(f, "bad expected integer \"%s\"", want);
        if ((int64_t)w != got)
            return fail(f, "expected integer %s, got %" PRId64, want, got);
        return true;
    }
    case FOLIO_TOML_FLOAT: {
        double got, w;
        if (folio_toml_float(v, &got) != FOLIO_OK)
            return fail(f, "float accessor failed");
        if (!parse_json_float(want, &w))
            return fail(f, "bad expected float \"%s\"", want);
        bool same = isnan(w) ? isnan(got) : (w == got && signbit(w) == signbit(got));
        if (!same)
            return fail(f, "expected float %s, got %.17g", want, got);
        return true;
    }
    case FOLIO_TOML_BOOL: {
        bool got;
        if (folio_toml_bool(v, &got) != FOLIO_OK)
            return fail(f, "bool accessor failed");
        if (strcmp(want, got ? "true" : "false") != 0)
            return fail(f, "expected bool %s, got %s", want, got ? "true" : "false");
        return true;
    }
    case FOLIO_TOML_DATETIME:
    case FOLIO_TOML_LOCAL_DATETIME:
    case FOLIO_TOML_LOCAL_DATE:
    case FOLIO_TOML_LOCAL_TIME: {
        struct folio_toml_datetime dt;
        char text[FOLIO_TOML_DATETIME_TEXT_MAX], got[64], exp[64];
        if (folio_toml_datetime(v, &dt) != FOLIO_OK)
            return fail(f, "datetime accessor failed");
        size_t n = folio_toml_datetime_format(&dt, text, sizeof text);
        if (n >= sizeof text)
            return fail(f, "datetime text is %zu bytes, more than the documented maximum", n);
        normalise_datetime(text, got, sizeof got);
        normalise_datetime(want, exp, sizeof exp);
        if (strcmp(exp, got) != 0)
            return fail(f, "expected %s %s, got %s", want_type, exp, got);
        return true;
    }
    default:
        return fail(f, "unexpected type %d", (int)type);
    }
}

static void path_push(struct failure *f, size_t *saved, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void path_push(struct failure *f, size_t *saved, const char *fmt, ...)
{
    *saved = strlen(f->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->path + *saved, sizeof f->path - *saved, fmt, ap);
    va_end(ap);
}

static bool compare(const struct folio_toml_value *v, const json_t *j, struct failure *f)
{
    enum folio_toml_type type = folio_toml_type(v);
    if (type == FOLIO_TOML_TABLE) {
        if (!json_is_object(j) || is_tagged_scalar(j))
            return fail(f, "expected %s, got a table",
                        is_tagged_scalar(j) ? json_string_value(json_object_get(j, "type"))
                                            : "a non-table");
        size_t n = folio_toml_table_count(v);
        if (n != json_object_size(j))
            return fail(f, "expected %zu keys, got %zu", json_object_size(j), n);
        for (size_t i = 0; i < n; i++) {
            size_t klen;
            const char *key = folio_toml_table_key(v, i, &klen);
            char shown[64];
            size_t k = 0;
            for (size_t c = 0; c < klen && k + 5 < sizeof shown; c++) {
                unsigned char ch = (unsigned char)key[c];
                if (ch < 0x20 || ch == 0x7F)
                    k += (size_t)snprintf(shown + k, sizeof shown - k, "\\x%02X", ch);
                else
                    shown[k++] = (char)ch;
            }
            shown[k] = '\0';
            size_t saved;
            path_push(f, &saved, ".%s", shown);
            size_t mlen;
            char *mapped = map_nul(key, klen, &mlen);
            const json_t *jc = mapped != NULL ? json_object_getn(j, mapped, mlen) : NULL;
            free(mapped);
            if (jc == NULL)
                return fail(f, "unexpected key");
            if (!compare(folio_toml_table_value(v, i), jc, f))
                return false;
            f->path[saved] = '\0';
        }
        return true;
    }
    if (type == FOLIO_TOML_ARRAY) {
        if (!json_is_array(j))
            return fail(f, "expected a non-array, got an array");
        size_t n = folio_toml_array_len(v);
        if (n != json_array_size(j))
            return fail(f, "expected %zu elements, got %zu", json_array_size(j), n);
        for (size_t i = 0; i < n; i++) {
            size_t saved;
            path_push(f, &saved, "[%zu]", i);
            if (!compare(folio_toml_array_at(v, i), json_array_get(j, i), f))
                return false;
            f->path[saved] = '\0';
        }
        return true;
    }
    if (!is_tagged_scalar(j))
        return fail(f, "expected a table or array, got %s", folio_toml_type_name(type));
    return compare_scalar(v, j, f);
}

static bool run_valid(const char *dir, const char *name, struct failure *f)
{
    char path[4096];
    size_t len;
    char *text = join_path(path, sizeof path, dir, name) ? read_file(path, &len) : NULL;
    if (text == NULL)
        return fail(f, "cannot read %s", path);
    struct folio_error err = {0};
    folio_toml *doc;
    folio_status st = folio_toml_parse(text, len, name, &doc, &err);
    free(text);
    if (st != FOLIO_OK)
        return fail(f, "rejected: %s (%s)", err.detail, folio_strerror(st));
    size_t n = strlen(path);
    snprintf(path + n - strlen(".toml"), sizeof path - (n - strlen(".toml")), ".json");
    json_error_t jerr;
    char *json = read_file(path, &len);
    json_t *want = NULL;
    if (json != NULL) {
        rewrite_nul_escapes(json, len);
        want = json_loadb(json, len, 0, &jerr);
        free(json);
    } else {
        snprintf(jerr.text, sizeof jerr.text, "cannot read the file");
    }
    bool ok;
    if (want == NULL)
        ok = fail(f, "cannot load %s: %s", path, jerr.text);
    else
        ok = compare(folio_toml_root(doc), want, f);
    json_decref(want);
    folio_toml_free(doc);
    return ok;
}

/* "NAME:LINE:COL: message" */
static bool detail_has_position(const char *detail, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(detail, name, n) != 0 || detail[n] != ':')
        return false;
    const char *s = detail + n + 1;
    for (int part = 0; part < 2; part++) {
        if (*s < '1' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
        if (*s++ != ':')
            return false;
    }
    return *s == ' ';
}

static bool run_invalid(const char *dir, const char *name, struct failure *f)
{
    char path[4096];
    size_t len;
    char *text = join_path(path, sizeof path, dir, name) ? read_file(path, &len) : NULL;
    if (text == NULL)
        return fail(f, "cannot read %s", path);
    struct folio_error err = {0};
    folio_toml *doc;
    folio_status st = folio_toml_parse(text, len, name, &doc, &err);
    free(text);
    if (st == FOLIO_OK) {
        folio_toml_free(doc);
        return fail(f, "accepted, but must be rejected");
    }
    if (doc != NULL)
        return fail(f, "rejected but *out_doc is not NULL");
    if ((st == FOLIO_ESYNTAX || st == FOLIO_ELIMIT) && !detail_has_position(err.detail, name))
        return fail(f, "error detail lacks FILE:LINE:COL: \"%s\"", err.detail);
    return true;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    char dir[4096], list[4096];
    bool fits = join_path(dir, sizeof dir, argv[1], "toml-test/tests") &&
                join_path(list, sizeof list, dir, "files-toml-1.0.0");
    FILE *fp = fits ? fopen(list, "r") : NULL;
    if (fp == NULL) {
        fprintf(stderr, "cannot open %s\n", list);
        return 2;
    }
    unsigned valid = 0, valid_total = 0, invalid = 0, invalid_total = 0;
    char line[1024];
    while (fgets(line, sizeof line, fp) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t n = strlen(line);
        if (n < 5 || strcmp(line + n - 5, ".toml") != 0)
            continue;
        struct failure f = {{0}, {0}};
        if (strncmp(line, "valid/", 6) == 0) {
            valid_total++;
            if (run_valid(dir, line, &f))
                valid++;
            else
                printf("FAIL %s: %s%s%s\n", line, f.path[0] ? f.path + 1 : "",
                       f.path[0] ? ": " : "", f.why);
        } else if (strncmp(line, "invalid/", 8) == 0) {
            invalid_total++;
            if (run_invalid(dir, line, &f))
                invalid++;
            else
                printf("FAIL %s: %s\n", line, f.why);
        }
    }
    fclose(fp);
    printf("toml-test: %u/%u valid, %u/%u invalid\n", valid, valid_total, invalid,
           invalid_total);
    bool all = valid_total > 0 && valid == valid_total && invalid == invalid_total;
    return all ? 0 : 1;
}
