/* RFC 9457 problem details: every error folio returns goes through here. */
#include <stdio.h>
#include <string.h>

#include "server/server.h"

#include "server/http.h"
#include "server/problem_types.h"

static const char *title_for(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Internal Server Error";
    }
}

void folio__problem(struct folio_http *h, int status, const char *slug, const char *title,
                    const char *detail, const char *param)
{
    folio__problem_ext(h, status, slug, title, detail, param, NULL, NULL);
}

void folio__problem_ext(struct folio_http *h, int status, const char *slug, const char *title,
                        const char *detail, const char *param, const char *ext_key,
                        const char *ext_value)
{
    h->gz_ready = false;
    struct folio_buf *b = &h->w->body;
    folio_buf_reset(b);
    h->body_static = NULL;
    struct folio_json j;
    folio_json_init(&j, b);
    folio_json_object_begin(&j);
    folio_json_key(&j, "type");
    folio_buf_reset(&h->w->scratch);
    folio_buf_printf(&h->w->scratch, "/problems/%s", slug);
    folio_json_string(&j, h->w->scratch.data);
    folio_json_key(&j, "title");
    folio_json_string(&j, title ? title : title_for(status));
    folio_json_key(&j, "status");
    folio_json_int(&j, status);
    folio_json_key(&j, "detail");
    folio_json_string(&j, detail ? detail : title_for(status));
    if (param != NULL && *param) {
        folio_json_key(&j, "param");
        folio_json_string(&j, param);
    }
    if (ext_key != NULL) {
        folio_json_key(&j, ext_key);
        folio_json_string(&j, ext_value);
    }
    folio_json_object_end(&j);
    h->status = status;
    h->content_type = "application/problem+json";
}

int folio__problem_status(const struct folio_error *err)
{
    if (err->status == FOLIO_ETIMEOUT)
        return 503;
    switch (err->kind) {
    case FOLIO_KIND_INPUT: return err->status == FOLIO_ENOTFOUND ? 404 : 400;
    case FOLIO_KIND_ACCESS: return 403;
    case FOLIO_KIND_STATE: return 409;
    case FOLIO_KIND_TRANSIENT: return 503;
    case FOLIO_KIND_NONE: /* unclassified: nothing says the client could do better */
    case FOLIO_KIND_INTERNAL: break;
    }
    return 500;
}

void folio__problem_from_error(struct folio_http *h, const struct folio_error *err)
{
    const char *slug = "internal";
    const char *title = NULL;
    int status = folio__problem_status(err);
    switch (err->status) {
    case FOLIO_EPARAM: slug = "invalid-parameter"; title = "Invalid parameter"; break;
    case FOLIO_EUNKNOWN_PARAM: slug = "unknown-parameter"; title = "Unknown parameter"; break;
    case FOLIO_ECONFLICT: slug = "conflicting-parameters"; title = "Conflicting parameters"; break;
    case FOLIO_EUNKNOWN_COLUMN: slug = "unknown-column"; title = "Unknown column"; break;
    case FOLIO_ENOTSORTABLE: slug = "not-sortable"; title = "Column not sortable"; break;
    case FOLIO_ECURSOR_INVALID: slug = "invalid-cursor"; title = "Invalid cursor"; break;
    case FOLIO_ECURSOR_EXPIRED: slug = "expired-cursor"; title = "Expired cursor"; break;
    case FOLIO_ECURSOR_FOREIGN: slug = "foreign-cursor"; title = "Cursor from another query"; break;
    case FOLIO_ENOTFOUND: slug = "not-found"; break;
    case FOLIO_ELIMIT: slug = "limit-exceeded"; title = "Limit exceeded"; break;
    case FOLIO_ETOOBIG: slug = "too-large"; title = "Response too large"; break;
    case FOLIO_ETIMEOUT: slug = "query-timeout"; title = "Query timeout"; break;
    default: break;
    }
    /* A type means one kind of failure: one whose catalog status is not the answer's (an
     * error of a status without a type of its own, or of an unusual kind) gets the
     * generic type of its HTTP status instead. */
    const struct folio_problem_type *t = folio__problem_type_find(slug);
    char st[8];
    snprintf(st, sizeof st, "%d", status);
    if (t == NULL || (t->status != status && (t->also == NULL || strcmp(t->also, st) != 0))) {
        title = NULL;
        switch (status) {
        case 400: slug = "bad-request"; break;
        case 403: slug = "forbidden"; break;
        case 404: slug = "not-found"; break;
        case 409: slug = "conflict"; break;
        case 503: slug = "unavailable"; break;
        default: slug = "internal"; break;
        }
    }
    /* Internal failures never leak database text to clients. */
    const char *detail = status >= 500 ? "the server failed to answer this request" : err->detail;
    if (err->status == FOLIO_ETIMEOUT) {
        /* The same query may well finish when the server is less busy; if it is simply
         * too slow, a narrower one (filters, an indexed sort, a cursor) is the way. */
        char retry[24];
        unsigned ms = h->srv->cfg.query_timeout_ms;
        snprintf(retry, sizeof retry, "%u", ms / 1000 + 1);
        folio__http_header_add(h, "Retry-After", retry);
        detail = "the query ran longer than the server's time limit (query_timeout); "
                 "narrow it with filters, sort by an indexed column, or follow cursor links";
    } else if (err->kind == FOLIO_KIND_TRANSIENT && err->status == FOLIO_EDB) {
        /* The database server is down, restarting or refusing connections: folio
         * reconnects by itself, so a retry soon is the answer. */
        folio__http_header_add(h, "Retry-After", "1");
        slug = "database-unavailable";
        detail = "the database is unavailable; retry shortly";
    }
    folio__problem(h, status, slug, title, detail, err->param);
}
