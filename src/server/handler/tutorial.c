/* The tutorial's three endpoint shapes, served exactly as the Python originals answer:
 *   offset (Flask):       GET /users?page=&per_page=
 *   raw keyset (Flask):   GET /messages?per_page=&after=<last id>
 *   signed (FastAPI):     GET /items?per_page=&cursor=<signed token>
 * Their rows come from the same page engine as /api/{table}. */
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "server/server.h"

/* The first value of `key` (the Python frameworks read the first occurrence). A value
 * that held a NUL byte comes back as text no parser accepts, as Python would refuse it. */
static const char *param(const struct folio_http *h, const char *key)
{
    for (size_t i = 0; i < h->nparams; i++)
        if (strcmp(h->params[i].key, key) == 0) {
            if (h->params[i].key == h->nul_param)
                return "\x01";
            return h->params[i].value ? h->params[i].value : "";
        }
    return NULL;
}

/* Python's str.strip() whitespace, ASCII part. */
static bool py_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* Python's int() on a query value (surrounding whitespace, a sign, '_' between digits),
 * saturated to the int64 range so clamping works on any size. Returns -1 when the text
 * is not an integer. */
static int py_int(const char *s, int64_t *out)
{
    while (py_space(*s))
        s++;
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    uint64_t v = 0;
    bool digits = false, underscore_ok = false, big = false;
    for (; *s && !py_space(*s); s++) {
        if (*s == '_' && underscore_ok) {
            underscore_ok = false;
            continue;
        }
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (UINT64_MAX - 9) / 10)
            big = true;
        else
            v = v * 10 + (uint64_t)(*s - '0');
        digits = underscore_ok = true;
    }
    while (py_space(*s))
        s++;
    if (!digits || *s || !underscore_ok)
        return -1;
    if (big || v > (uint64_t)INT64_MAX)
        *out = neg ? INT64_MIN : INT64_MAX;
    else
        *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

static void json_error(struct folio_http *h, int status, const char *key, const char *msg)
{
    struct folio_json j;
    folio_buf_reset(&h->w->body);
    folio_json_init(&j, &h->w->body);
    folio_json_object_begin(&j);
    folio_json_key(&j, key);
    folio_json_string(&j, msg);
    folio_json_object_end(&j);
    h->status = status;
    h->content_type = "application/json";
}

/* FastAPI's 422 body for a query parameter that failed validation. */
static void validation_error(struct folio_http *h, const char *name, const char *input,
                             const char *type, const char *msg, const char *ctx_key,
                             int ctx_val)
{
    struct folio_json j;
    folio_buf_reset(&h->w->body);
    folio_json_init(&j, &h->w->body);
    folio_json_object_begin(&j);
    folio_json_key(&j, "detail");
    folio_json_array_begin(&j);
    folio_json_object_begin(&j);
    folio_json_key(&j, "type");
    folio_json_string(&j, type);
    folio_json_key(&j, "loc");
    folio_json_array_begin(&j);
    folio_json_string(&j, "query");
    folio_json_string(&j, name);
    folio_json_array_end(&j);
    folio_json_key(&j, "msg");
    folio_json_string(&j, msg);
    folio_json_key(&j, "input");
    folio_json_string(&j, input);
    if (ctx_key != NULL) {
        folio_json_key(&j, "ctx");
        folio_json_object_begin(&j);
        folio_json_key(&j, ctx_key);
        folio_json_int(&j, ctx_val);
        folio_json_object_end(&j);
    }
    folio_json_object_end(&j);
    folio_json_array_end(&j);
    folio_json_object_end(&j);
    h->status = 422;
    h->content_type = "application/json";
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void folio__handle_tutorial(struct folio_http *h, const struct folio_endpoint *ep)
{
    struct folio_page_spec *spec = &h->w->engine.spec;
    struct folio_error err = {0};
    const int max = ep->max_per_page;
    int64_t page = 1, per_page = ep->default_per_page;
    const char *v;

    if (folio__page_sort(spec, ep, NULL, NULL, &err) != FOLIO_OK) {
        folio__problem_from_error(h, &err);
        return;
    }
    spec->mode = FOLIO_MODE_FIRST;
    spec->offset = 0;
    spec->skip_probes = true;

    switch (ep->style) {
    case FOLIO_STYLE_TUTORIAL_OFFSET:
        if (((v = param(h, "page")) && py_int(v, &page) != 0) ||
            ((v = param(h, "per_page")) && py_int(v, &per_page) != 0)) {
            json_error(h, 400, "error", "page and per_page must be integers");
            return;
        }
        per_page = clamp(per_page, 1, max);
        page = clamp(page, 1, INT64_MAX / per_page); /* so the offset cannot overflow */
        spec->mode = FOLIO_MODE_OFFSET;
        spec->offset = (page - 1) * per_page;
        break;
    case FOLIO_STYLE_TUTORIAL_KEYSET: {
        if ((v = param(h, "per_page")) && py_int(v, &per_page) != 0) {
            json_error(h, 400, "error", "per_page must be integer");
            return;
        }
        per_page = clamp(per_page, 1, max);
        int64_t after;
        /* The original tests its cursor for truth: an empty after= is the first page. */
        if ((v = param(h, "after")) != NULL && *v != '\0') {
            if (py_int(v, &after) != 0) {
                json_error(h, 400, "error", "invalid cursor");
                return;
            }
            spec->mode = FOLIO_MODE_AFTER;
            spec->cursor.flags = 0;
            spec->cursor.nkeys = 1;
            spec->cursor.keys[0] = (struct folio_value){.type = FOLIO_VALUE_INT, .i = after};
        }
        break;
    }
    case FOLIO_STYLE_TUTORIAL_SIGNED:
        if ((v = param(h, "per_page")) != NULL) {
            if (folio_parse_int64(v, true, &per_page) != FOLIO_OK) {
                validation_error(h, "per_page", v, "int_parsing",
                                 "Input should be a valid integer, unable to parse string as "
                                 "an integer",
                                 NULL, 0);
                return;
            }
            if (per_page < 1) {
                validation_error(h, "per_page", v, "greater_than_equal",
                                 "Input should be greater than or equal to 1", "ge", 1);
                return;
            }
            if (per_page > max) {
                char msg[96];
                snprintf(msg, sizeof msg, "Input should be less than or equal to %d", max);
                validation_error(h, "per_page", v, "less_than_equal", msg, "le", max);
                return;
            }
        }
        /* FastAPI's `if cursor:`: an empty cursor= is falsy, the first page. */
        if ((v = param(h, "cursor")) != NULL && *v != '\0') {
            if (folio__page_cursor(&h->w->engine, spec, v, false, "cursor", NULL) != FOLIO_OK) {
                json_error(h, 400, "detail", "Invalid cursor");
                return;
            }
            h->cursor_expires = spec->cursor.expires;
            spec->mode = FOLIO_MODE_AFTER;
        }
        break;
    default: folio__problem(h, 500, "internal", NULL, NULL, NULL); return;
    }
    spec->per_page = (int)per_page;

    struct folio_json j;
    folio_buf_reset(&h->w->body);
    folio_json_init(&j, &h->w->body);
    folio_json_object_begin(&j);
    if (ep->style == FOLIO_STYLE_TUTORIAL_OFFSET) {
        folio_json_key(&j, "page");
        folio_json_int(&j, page);
    }
    if (ep->style != FOLIO_STYLE_TUTORIAL_SIGNED) {
        folio_json_key(&j, "per_page");
        folio_json_int(&j, per_page);
    }
    /* "count" precedes the rows in the original; it is known only after them, so the rows
     * are written first and "count" after: JSON objects are unordered. */
    folio_json_key(&j, ep->name);
    folio_json_array_begin(&j);
    struct folio_page_result res;
    struct folio_total total;
    bool offset = ep->style == FOLIO_STYLE_TUTORIAL_OFFSET;
    if (folio__page_fetch(&h->w->engine, spec, &j, offset ? FOLIO_COUNT_EXACT : FOLIO_COUNT_NONE,
                          &res, &total, &err) != FOLIO_OK) {
        folio__problem_from_error(h, &err);
        return;
    }
    if (res.plan != NULL)
        folio__http_header_add(h, "X-Folio-Plan", res.plan);
    folio_json_array_end(&j);
    h->rows = res.shown;
    if (offset) {
        folio_json_key(&j, "count");
        folio_json_int(&j, res.shown);
        folio_json_key(&j, "total_estimate");
        folio_json_int(&j, total.value);
    } else {
        folio_json_key(&j, "next_cursor");
        if (res.shown == 0) {
            folio_json_null(&j);
        } else if (ep->style == FOLIO_STYLE_TUTORIAL_KEYSET) {
            folio__json_value(&j, &res.last->vals[0]);
        } else {
            char tok[FOLIO_CURSOR_MAX_TOKEN];
            if (folio__page_token(&h->w->engine, spec, res.last->vals, 0, tok, sizeof tok,
                                  &h->minted_expires) != FOLIO_OK) {
                folio__problem(h, 500, "internal", NULL, NULL, NULL);
                return;
            }
            folio_json_string(&j, tok);
        }
    }
    folio_json_object_end(&j);
    if (folio_json_status(&j) != FOLIO_OK) {
        folio__problem(h, 500, "internal", NULL, NULL, NULL);
        return;
    }
    h->status = 200;
    h->content_type = "application/json";
}
