/* The OpenAPI 3.1 document (openapi.h), written straight from the server's endpoints, its
 * limits and the problem catalog: nothing in it is maintained by hand, so it cannot drift
 * from what the server accepts. tests/e2e/openapi.test.mjs validates it and checks that
 * every parameter it documents is accepted and an undocumented one refused. */
#include "server/openapi.h"

#include <stdio.h>
#include <string.h>

#include "folio/cursor.h"
#include "folio/filter.h"
#include "folio/version.h"
#include "server/problem_types.h"
#include "server/server.h"

static void kstr(struct folio_json *j, const char *k, const char *v)
{
    folio_json_key(j, k);
    folio_json_string(j, v);
}

static void kint(struct folio_json *j, const char *k, int64_t v)
{
    folio_json_key(j, k);
    folio_json_int(j, v);
}

static void ref(struct folio_json *j, const char *what, const char *name)
{
    char r[256];
    snprintf(r, sizeof r, "#/components/%s/%s", what, name);
    folio_json_object_begin(j);
    kstr(j, "$ref", r);
    folio_json_object_end(j);
}

/* "#/components/schemas/<name>": the endpoint's index (unique), then its path with '/'
 * as '.' and anything a component name may not hold (a table name may hold anything)
 * as '_'. */
static void row_schema_name(char *out, size_t cap, size_t e, const char *path)
{
    int n = snprintf(out, cap, "Row%zu_", e);
    for (const char *p = path + 1; *p && n > 0 && (size_t)n + 1 < cap; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        out[n++] = c == '/' ? '.' : ok ? c : '_';
    }
    out[n > 0 && (size_t)n < cap ? n : 0] = '\0';
}

/* A column's values in JSON: what folio writes for its declared type's affinity (SQLite
 * stores what it is given, so a column without a type may hold anything). */
static void column_schema(struct folio_json *j, const struct folio_column *c)
{
    folio_json_object_begin(j);
    const char *type = NULL;
    bool blob = false;
    switch (folio_affinity_of(c->decl_type)) {
    case FOLIO_AFF_INTEGER: type = "integer"; break;
    case FOLIO_AFF_REAL:
    case FOLIO_AFF_NUMERIC: type = "number"; break;
    case FOLIO_AFF_TEXT: type = "string"; break;
    case FOLIO_AFF_BLOB: blob = c->decl_type[0] != '\0'; type = blob ? "string" : NULL; break;
    }
    if (type != NULL) {
        folio_json_key(j, "type");
        if (c->not_null) {
            folio_json_string(j, type);
        } else {
            folio_json_array_begin(j);
            folio_json_string(j, type);
            folio_json_string(j, "null");
            folio_json_array_end(j);
        }
    }
    if (blob)
        kstr(j, "contentEncoding", "base64");
    kstr(j, "x-sqlite-type", c->decl_type);
    folio_json_object_end(j);
}

static void row_schema(struct folio_json *j, const struct folio_endpoint *ep)
{
    folio_json_object_begin(j);
    kstr(j, "type", "object");
    char desc[512];
    snprintf(desc, sizeof desc, "A row of table %s as %s serves it", ep->table->name, ep->path);
    kstr(j, "description", desc);
    folio_json_key(j, "properties");
    folio_json_object_begin(j);
    for (size_t i = 0; i < ep->ncols; i++) {
        const struct folio_column *c = &ep->table->cols[ep->cols[i]];
        folio_json_key(j, c->name);
        column_schema(j, c);
    }
    folio_json_object_end(j);
    folio_json_key(j, "additionalProperties");
    folio_json_bool(j, false);
    folio_json_object_end(j);
}

/* One query parameter; `schema` is raw JSON. */
static void param(struct folio_json *j, const char *name, const char *in, const char *desc,
                  const char *schema)
{
    folio_json_object_begin(j);
    kstr(j, "name", name);
    kstr(j, "in", in);
    kstr(j, "description", desc);
    folio_json_key(j, "schema");
    folio_json_raw(j, schema, strlen(schema));
    folio_json_object_end(j);
}

static void per_page_param(struct folio_json *j, const char *name, const struct folio_endpoint *ep,
                           const char *desc)
{
    char s[160];
    snprintf(s, sizeof s, "{\"type\":\"integer\",\"minimum\":1,\"maximum\":%d,\"default\":%d}",
             ep->max_per_page, ep->default_per_page);
    param(j, name, "query", desc, s);
}

/* An array parameter written comma-separated (style form, explode false) whose items are
 * `prefix`-ed and plain column names for which `pick` holds. */
static void column_list_param(struct folio_json *j, const char *name, const char *desc,
                              const struct folio_endpoint *ep, const bool *pick, bool signs,
                              bool unique)
{
    folio_json_object_begin(j);
    kstr(j, "name", name);
    kstr(j, "in", "query");
    kstr(j, "description", desc);
    kstr(j, "style", "form");
    folio_json_key(j, "explode");
    folio_json_bool(j, false);
    folio_json_key(j, "schema");
    folio_json_object_begin(j);
    kstr(j, "type", "array");
    kint(j, "minItems", 1);
    if (signs)
        kint(j, "maxItems", FOLIO_SORT_MAX - 1);
    if (unique) {
        folio_json_key(j, "uniqueItems");
        folio_json_bool(j, true);
    }
    folio_json_key(j, "items");
    folio_json_object_begin(j);
    kstr(j, "type", "string");
    folio_json_key(j, "enum");
    folio_json_array_begin(j);
    char neg[512];
    for (size_t i = 0; i < ep->ncols; i++) {
        int c = ep->cols[i];
        if (pick != NULL && !pick[c])
            continue;
        folio_json_string(j, ep->table->cols[c].name);
        if (signs) {
            snprintf(neg, sizeof neg, "-%s", ep->table->cols[c].name);
            folio_json_string(j, neg);
        }
    }
    folio_json_array_end(j);
    folio_json_object_end(j);
    folio_json_object_end(j);
    folio_json_object_end(j);
}

static void folio_params(struct folio_json *j, const struct folio_server *srv,
                         const struct folio_endpoint *ep)
{
    char s[256];
    per_page_param(j, "per_page", ep, "Rows per page; larger values are clamped to the maximum.");
    per_page_param(j, "limit", ep, "Alias of per_page (not both).");
    if (ep->modes & FOLIO_ALLOW_OFFSET) {
        param(j, "page", "query",
              "1-based page number (numbered pages; deep pages go through the hybrid index). "
              "Pages deeper than max_offset rows get problem offset-too-deep with a cursor link.",
              "{\"type\":\"integer\",\"minimum\":1}");
        if (srv->cfg.max_offset > 0)
            snprintf(s, sizeof s, "{\"type\":\"integer\",\"minimum\":0,\"maximum\":%lld}",
                     (long long)srv->cfg.max_offset);
        else
            snprintf(s, sizeof s, "{\"type\":\"integer\",\"minimum\":0}");
        param(j, "offset", "query", "0-based row offset (not with page).", s);
    }
    if (ep->modes & FOLIO_ALLOW_KEYSET) {
        snprintf(s, sizeof s,
                 "{\"type\":\"string\",\"pattern\":\"^[A-Za-z0-9_-]+$\",\"maxLength\":%d}",
                 FOLIO_CURSOR_MAX_TOKEN - 1);
        param(j, "after", "query",
              "Opaque cursor from a `next` link: the page after that position. Never built by "
              "clients; bound to the query that issued it.", s);
        param(j, "before", "query", "Opaque cursor from a `prev` link: the page before it.", s);
    }
    column_list_param(j, "sort",
                      "Sort keys, '-' for descending; the primary key is appended as the "
                      "tiebreaker.", ep, ep->sortable, true, false);
    param(j, "count", "query", "Totals in meta (also as `Prefer: count=...`).",
          "{\"type\":\"string\",\"enum\":[\"exact\",\"estimate\",\"none\"]}");
    column_list_param(j, "fields", "Only these columns in the rows.", ep, NULL, false, true);
    for (size_t i = 0; i < ep->ncols; i++) {
        int c = ep->cols[i];
        if (!ep->filterable[c])
            continue;
        param(j, ep->table->cols[c].name, "query",
              "Filter `op.value`: eq, neq, lt, lte, gt, gte, like (`*` any run), in.(a,b), "
              "is.null, is.not.null.",
              "{\"type\":\"string\",\"pattern\":\"^(eq|neq|lt|lte|gt|gte|like|in|is)\\\\.\"}");
    }
    param(j, "Prefer", "header", "`count=exact`, `count=estimate` or `count=none`.",
          "{\"type\":\"string\"}");
}

static void tutorial_params(struct folio_json *j, const struct folio_endpoint *ep)
{
    switch (ep->style) {
    case FOLIO_STYLE_TUTORIAL_OFFSET:
        param(j, "page", "query", "1-based page; clamped into range.",
              "{\"type\":\"integer\",\"minimum\":1}");
        per_page_param(j, "per_page", ep, "Rows per page; clamped into range.");
        break;
    case FOLIO_STYLE_TUTORIAL_KEYSET:
        per_page_param(j, "per_page", ep, "Rows per page; clamped into range.");
        param(j, "after", "query", "The last id of the previous page (its `next_cursor`).",
              "{\"type\":\"integer\"}");
        break;
    default:
        per_page_param(j, "per_page", ep, "Rows per page; out of range: 422.");
        param(j, "cursor", "query", "The previous page's `next_cursor` (a signed token).",
              "{\"type\":\"string\"}");
        break;
    }
}

static void headers(struct folio_json *j, bool paged)
{
    folio_json_key(j, "headers");
    folio_json_object_begin(j);
    static const char *const names[] = {"Link", "X-Total-Count", "RateLimit-Limit",
                                        "RateLimit-Remaining", "RateLimit-Reset"};
    for (size_t i = paged ? 0 : 2; i < sizeof names / sizeof names[0]; i++) {
        folio_json_key(j, names[i]);
        ref(j, "headers", names[i]);
    }
    folio_json_object_end(j);
}

/* References to the Problem<status> responses, except `skip` (a status the operation
 * describes itself). */
static void problem_refs(struct folio_json *j, const int *statuses, size_t n, int skip)
{
    char key[8], name[24];
    for (size_t i = 0; i < n; i++) {
        if (statuses[i] == skip)
            continue;
        snprintf(key, sizeof key, "%d", statuses[i]);
        snprintf(name, sizeof name, "Problem%d", statuses[i]);
        folio_json_key(j, key);
        ref(j, "responses", name);
    }
}

static const int api_statuses[] = {400, 414, 429, 431, 500, 503};

static void endpoint_op(struct folio_json *j, const struct folio_server *srv, size_t e)
{
    const struct folio_endpoint *ep = &srv->endpoints[e];
    char schema[256], text[512];
    row_schema_name(schema, sizeof schema, e, ep->path);
    folio_json_key(j, ep->url); /* a path template: percent-encoded, as links spell it */
    folio_json_object_begin(j);
    folio_json_key(j, "get");
    folio_json_object_begin(j);
    snprintf(text, sizeof text, "list%zu", e);
    kstr(j, "operationId", text);
    snprintf(text, sizeof text, "Rows of table %s", ep->table->name);
    kstr(j, "summary", text);
    folio_json_key(j, "tags");
    folio_json_array_begin(j);
    folio_json_string(j, ep->style == FOLIO_STYLE_FOLIO ? "tables" : "tutorial");
    folio_json_array_end(j);
    folio_json_key(j, "parameters");
    folio_json_array_begin(j);
    if (ep->style == FOLIO_STYLE_FOLIO)
        folio_params(j, srv, ep);
    else
        tutorial_params(j, ep);
    folio_json_array_end(j);
    folio_json_key(j, "responses");
    folio_json_object_begin(j);
    folio_json_key(j, "200");
    folio_json_object_begin(j);
    kstr(j, "description", "A page of rows");
    headers(j, ep->style == FOLIO_STYLE_FOLIO);
    folio_json_key(j, "content");
    folio_json_object_begin(j);
    folio_json_key(j, "application/json");
    folio_json_object_begin(j);
    folio_json_key(j, "schema");
    folio_json_object_begin(j);
    kstr(j, "type", "object");
    folio_json_key(j, "properties");
    folio_json_object_begin(j);
    char rowref[400];
    snprintf(rowref, sizeof rowref,
             "{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/%s\"}}", schema);
    folio_json_key(j, ep->style == FOLIO_STYLE_FOLIO ? "data" : ep->name);
    folio_json_raw(j, rowref, strlen(rowref));
    static const char integer[] = "{\"type\":\"integer\"}";
    static const char *const ints[] = {"page", "per_page", "count", "total_estimate"};
    switch (ep->style) {
    case FOLIO_STYLE_FOLIO:
        folio_json_key(j, "meta");
        ref(j, "schemas", "PageMeta");
        folio_json_key(j, "links");
        ref(j, "schemas", "PageLinks");
        break;
    case FOLIO_STYLE_TUTORIAL_OFFSET:
        for (size_t i = 0; i < 4; i++) {
            folio_json_key(j, ints[i]);
            folio_json_raw(j, integer, sizeof integer - 1);
        }
        break;
    case FOLIO_STYLE_TUTORIAL_KEYSET:
        folio_json_key(j, "per_page");
        folio_json_raw(j, integer, sizeof integer - 1);
        folio_json_key(j, "next_cursor");
        folio_json_raw(j, "{}", 2);
        break;
    case FOLIO_STYLE_TUTORIAL_SIGNED:
        folio_json_key(j, "next_cursor");
        folio_json_raw(j, "{\"type\":[\"string\",\"null\"]}", 26);
        break;
    }
    folio_json_object_end(j);
    folio_json_object_end(j); /* schema */
    folio_json_object_end(j);
    folio_json_object_end(j); /* content */
    folio_json_object_end(j); /* 200 */
    /* The tutorial styles answer bad input in their own words; the offset and keyset ones
     * with a 400 that is then not always a problem document. */
    bool own400 =
        ep->style == FOLIO_STYLE_TUTORIAL_OFFSET || ep->style == FOLIO_STYLE_TUTORIAL_KEYSET;
    if (ep->style != FOLIO_STYLE_FOLIO) {
        folio_json_key(j, own400 ? "400" : "422");
        folio_json_object_begin(j);
        kstr(j, "description", own400 ? "The tutorial's error ({\"error\": \"...\"}), or a "
                                        "problem+json document for a cursor or server error"
                                      : "FastAPI's validation error ({\"detail\": [...]})");
        folio_json_object_end(j);
    }
    problem_refs(j, api_statuses, sizeof api_statuses / sizeof api_statuses[0], own400 ? 400 : 0);
    folio_json_object_end(j); /* responses */
    folio_json_object_end(j); /* get */
    folio_json_object_end(j);
}

/* An operation of folio's own: no parameters, one 200 body of `type`. */
static void ops_op(struct folio_json *j, const char *path, const char *id, const char *summary,
                   const char *type, const char *schema, bool slug)
{
    folio_json_key(j, path);
    folio_json_object_begin(j);
    folio_json_key(j, "get");
    folio_json_object_begin(j);
    kstr(j, "operationId", id);
    kstr(j, "summary", summary);
    folio_json_key(j, "tags");
    folio_json_array_begin(j);
    folio_json_string(j, "operations");
    folio_json_array_end(j);
    if (slug) {
        folio_json_key(j, "parameters");
        folio_json_array_begin(j);
        folio_json_object_begin(j);
        kstr(j, "name", "slug");
        kstr(j, "in", "path");
        folio_json_key(j, "required");
        folio_json_bool(j, true);
        folio_json_key(j, "schema");
        folio_json_object_begin(j);
        kstr(j, "type", "string");
        folio_json_key(j, "enum");
        folio_json_array_begin(j);
        for (size_t i = 0; i < folio__nproblem_types; i++)
            folio_json_string(j, folio__problem_types[i].slug);
        folio_json_array_end(j);
        folio_json_object_end(j);
        folio_json_object_end(j);
        folio_json_array_end(j);
    }
    folio_json_key(j, "responses");
    folio_json_object_begin(j);
    folio_json_key(j, "200");
    folio_json_object_begin(j);
    kstr(j, "description", summary);
    headers(j, false);
    folio_json_key(j, "content");
    folio_json_object_begin(j);
    folio_json_key(j, type);
    folio_json_object_begin(j);
    folio_json_key(j, "schema");
    folio_json_raw(j, schema, strlen(schema));
    folio_json_object_end(j);
    folio_json_object_end(j);
    folio_json_object_end(j);
    static const int statuses[] = {429, 500, 503};
    problem_refs(j, statuses, sizeof statuses / sizeof statuses[0], 0);
    folio_json_object_end(j);
    folio_json_object_end(j);
    folio_json_object_end(j);
}

static void components_headers(struct folio_json *j)
{
    static const struct {
        const char *name, *desc, *schema;
    } hs[] = {
        {"Link", "RFC 8288 links: self, first, next, prev, last (as in the body's links)",
         "{\"type\":\"string\"}"},
        {"X-Total-Count", "The exact number of rows (only when the total is exact)",
         "{\"type\":\"integer\",\"minimum\":0}"},
        {"RateLimit-Limit", "Requests allowed per window (when a rate limit is set)",
         "{\"type\":\"integer\"}"},
        {"RateLimit-Remaining", "Requests left in the window", "{\"type\":\"integer\"}"},
        {"RateLimit-Reset", "Seconds until the budget is full again", "{\"type\":\"integer\"}"},
        {"Retry-After", "Seconds to wait before retrying (429, 503)", "{\"type\":\"integer\"}"},
    };
    folio_json_key(j, "headers");
    folio_json_object_begin(j);
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
        folio_json_key(j, hs[i].name);
        folio_json_object_begin(j);
        kstr(j, "description", hs[i].desc);
        folio_json_key(j, "schema");
        folio_json_raw(j, hs[i].schema, strlen(hs[i].schema));
        folio_json_object_end(j);
    }
    folio_json_object_end(j);
}

/* One response per status a problem type comes with, listing those types. */
static void components_problems(struct folio_json *j)
{
    int seen[64];
    size_t nseen = 0;
    folio_json_key(j, "responses");
    folio_json_object_begin(j);
    for (size_t i = 0; i < folio__nproblem_types && nseen < 64; i++) {
        int st = folio__problem_types[i].status;
        bool dup = false;
        for (size_t k = 0; k < nseen; k++)
            dup = dup || seen[k] == st;
        if (dup)
            continue;
        seen[nseen++] = st;
        char name[24], desc[2048], uri[96];
        snprintf(name, sizeof name, "Problem%d", st);
        folio_json_key(j, name);
        folio_json_object_begin(j);
        int n = snprintf(desc, sizeof desc, "Problem types:");
        for (size_t k = i; k < folio__nproblem_types && n > 0 && (size_t)n < sizeof desc; k++)
            if (folio__problem_types[k].status == st)
                n += snprintf(desc + n, sizeof desc - (size_t)n, " %s (%s);",
                              folio__problem_types[k].slug, folio__problem_types[k].title);
        kstr(j, "description", desc);
        if (st == 429 || st == 503) {
            folio_json_key(j, "headers");
            folio_json_object_begin(j);
            folio_json_key(j, "Retry-After");
            ref(j, "headers", "Retry-After");
            folio_json_object_end(j);
        }
        folio_json_key(j, "content");
        folio_json_object_begin(j);
        folio_json_key(j, "application/problem+json");
        folio_json_object_begin(j);
        folio_json_key(j, "schema");
        folio_json_object_begin(j);
        folio_json_key(j, "allOf");
        folio_json_array_begin(j);
        ref(j, "schemas", "Problem");
        folio_json_object_begin(j);
        folio_json_key(j, "properties");
        folio_json_object_begin(j);
        folio_json_key(j, "type");
        folio_json_object_begin(j);
        folio_json_key(j, "enum");
        folio_json_array_begin(j);
        for (size_t k = i; k < folio__nproblem_types; k++)
            if (folio__problem_types[k].status == st) {
                snprintf(uri, sizeof uri, "/problems/%s", folio__problem_types[k].slug);
                folio_json_string(j, uri);
            }
        folio_json_array_end(j);
        folio_json_object_end(j);
        folio_json_object_end(j);
        folio_json_object_end(j);
        folio_json_array_end(j);
        folio_json_object_end(j);
        folio_json_object_end(j);
        folio_json_object_end(j);
        folio_json_object_end(j);
    }
    folio_json_object_end(j);
}

static const char problem_schema[] =
    "{\"type\":\"object\",\"required\":[\"type\",\"title\",\"status\",\"detail\"],"
    "\"properties\":{\"type\":{\"type\":\"string\",\"format\":\"uri-reference\"},"
    "\"title\":{\"type\":\"string\"},\"status\":{\"type\":\"integer\"},"
    "\"detail\":{\"type\":\"string\"},\"param\":{\"type\":\"string\"},"
    "\"cursor\":{\"type\":\"string\",\"description\":\"offset-too-deep: the cursor link "
    "reaching the same rows\"}}}";
static const char meta_schema[] =
    "{\"type\":\"object\",\"required\":[\"per_page\",\"has_more\",\"has_prev\"],"
    "\"properties\":{\"per_page\":{\"type\":\"integer\"},\"page\":{\"type\":\"integer\"},"
    "\"offset\":{\"type\":\"integer\"},\"total\":{\"type\":\"integer\"},"
    "\"total_kind\":{\"type\":\"string\",\"enum\":[\"exact\",\"estimate\",\"lower_bound\"]},"
    "\"pages\":{\"type\":\"integer\"},\"has_more\":{\"type\":\"boolean\"},"
    "\"has_prev\":{\"type\":\"boolean\"}}}";
static const char links_schema[] =
    "{\"type\":\"object\",\"required\":[\"self\",\"first\",\"next\",\"prev\",\"last\"],"
    "\"properties\":{\"self\":{\"type\":\"string\"},\"first\":{\"type\":\"string\"},"
    "\"next\":{\"type\":[\"string\",\"null\"]},\"prev\":{\"type\":[\"string\",\"null\"]},"
    "\"last\":{\"type\":[\"string\",\"null\"]}}}";

folio_status folio__openapi_write(const struct folio_server *srv, struct folio_buf *out)
{
    struct folio_json j;
    folio_json_init(&j, out);
    folio_json_object_begin(&j);
    kstr(&j, "openapi", "3.1.0");
    folio_json_key(&j, "info");
    folio_json_object_begin(&j);
    kstr(&j, "title", "folio");
    kstr(&j, "version", FOLIO_VERSION);
    kstr(&j, "description",
         "Paginated JSON over a SQLite database. Errors are RFC 9457 problem+json documents "
         "whose `type` is one of the stable identifiers under /problems (x-problem-types).");
    folio_json_object_end(&j);
    folio_json_key(&j, "paths");
    folio_json_object_begin(&j);
    for (size_t e = 0; e < srv->nendpoints; e++)
        endpoint_op(&j, srv, e);
    ops_op(&j, "/", "index", "The endpoints served, with their columns", "application/json",
           "{\"type\":\"object\"}", false);
    ops_op(&j, "/healthz", "health", "Whether the database answers", "application/json",
           "{\"type\":\"object\",\"properties\":{\"status\":{\"const\":\"ok\"}}}", false);
    ops_op(&j, "/metrics", "metrics", "Prometheus metrics", "text/plain",
           "{\"type\":\"string\"}", false);
    ops_op(&j, "/openapi.json", "openapi", "This document", "application/json",
           "{\"type\":\"object\"}", false);
    ops_op(&j, "/problems", "problemTypes", "Every problem type", "application/json",
           "{\"type\":\"array\"}", false);
    ops_op(&j, "/problems/{slug}", "problemType", "One problem type: meaning and remedy",
           "application/json", "{\"type\":\"object\"}", true);
    ops_op(&j, "/ui/", "ui", "The browser UI", "text/html", "{\"type\":\"string\"}", false);
    ops_op(&j, "/ui/api", "uiApi", "This document as an API reference page", "text/html",
           "{\"type\":\"string\"}", false);
    if (srv->dircache != NULL)
        ops_op(&j, "/files", "files", "The files of the root directory, paged",
               "application/json", "{\"type\":\"object\"}", false);
    folio_json_object_end(&j);

    folio_json_key(&j, "components");
    folio_json_object_begin(&j);
    folio_json_key(&j, "schemas");
    folio_json_object_begin(&j);
    folio_json_key(&j, "Problem");
    folio_json_raw(&j, problem_schema, sizeof problem_schema - 1);
    folio_json_key(&j, "PageMeta");
    folio_json_raw(&j, meta_schema, sizeof meta_schema - 1);
    folio_json_key(&j, "PageLinks");
    folio_json_raw(&j, links_schema, sizeof links_schema - 1);
    char name[256];
    for (size_t e = 0; e < srv->nendpoints; e++) {
        row_schema_name(name, sizeof name, e, srv->endpoints[e].path);
        folio_json_key(&j, name);
        row_schema(&j, &srv->endpoints[e]);
    }
    folio_json_object_end(&j);
    components_headers(&j);
    components_problems(&j);
    folio_json_object_end(&j);

    folio_json_key(&j, "x-problem-types");
    folio_json_array_begin(&j);
    for (size_t i = 0; i < folio__nproblem_types; i++) {
        const struct folio_problem_type *t = &folio__problem_types[i];
        char uri[96];
        snprintf(uri, sizeof uri, "/problems/%s", t->slug);
        folio_json_object_begin(&j);
        kstr(&j, "type", uri);
        kint(&j, "status", t->status);
        kstr(&j, "title", t->title);
        kstr(&j, "meaning", t->meaning);
        kstr(&j, "todo", t->todo);
        folio_json_object_end(&j);
    }
    folio_json_array_end(&j);
    folio_json_object_end(&j);
    return folio_json_status(&j);
}
