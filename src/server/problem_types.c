/* The catalog of problem types (problem_types.h). A slug folio__problem() is called with
 * must be listed here: tests/http/test_40_ui.py finds every slug in src/ and requests its
 * page. */
#include "server/problem_types.h"

#include <string.h>

const struct folio_problem_type folio__problem_types[] = {
    {"invalid-parameter", 400, NULL, "Invalid parameter",
     "A query parameter has a value folio cannot use: not an integer, out of range, a "
     "malformed filter, or a NUL byte. The `param` member names it.",
     "Fix the named parameter; the `detail` member says what is expected."},
    {"unknown-parameter", 400, NULL, "Unknown parameter",
     "The request has a parameter this endpoint does not know, or a filter on a column "
     "that is not filterable here.",
     "Remove it, or check /openapi.json for the parameters this endpoint accepts."},
    {"conflicting-parameters", 400, NULL, "Conflicting parameters",
     "Two parameters that exclude each other were given together (page with after, after "
     "with before, per_page with limit), or one parameter was given twice.",
     "Keep one of them."},
    {"unknown-column", 400, NULL, "Unknown column",
     "`sort` or `fields` names a column this endpoint does not expose.",
     "Use a column listed for this endpoint by GET / or /openapi.json."},
    {"not-sortable", 400, NULL, "Column not sortable",
     "`sort` names a column this endpoint does not sort by (on /api/{table} only columns "
     "that lead an index are sortable, unless the server is configured otherwise).",
     "Sort by one of the columns listed as sortable in /openapi.json."},
    {"invalid-cursor", 400, NULL, "Invalid cursor",
     "The cursor (`after`, `before` or `cursor`) is not one this server issued: it was "
     "altered, truncated or signed with a key the server no longer has.",
     "Start again from the first page (the endpoint without a cursor) and follow the "
     "`next` and `prev` links as given; never edit a cursor."},
    {"expired-cursor", 400, NULL, "Expired cursor",
     "The cursor is older than the server's cursor lifetime.",
     "Start again from the first page and follow the links."},
    {"foreign-cursor", 400, NULL, "Cursor from another query",
     "The cursor was issued for another endpoint, sort or filter set than this request "
     "has.",
     "Use cursors only with the query that issued them: follow the links as given."},
    {"not-found", 404, "403", "Not Found",
     "Nothing is served at this path (403: a directory that may not be read).",
     "GET / lists every endpoint."},
    {"limit-exceeded", 400, NULL, "Limit exceeded",
     "The request asks for more than the server allows (for example too many sort keys).",
     "Ask for less; the `detail` member names the limit."},
    {"too-large", 500, NULL, "Response too large",
     "The response would be larger than the server's response limit.",
     "Ask for fewer rows (per_page) or fewer columns (fields)."},
    {"query-timeout", 503, NULL, "Query timeout",
     "The page's queries ran longer than the server's time limit (query_timeout).",
     "Retry after the `Retry-After` seconds, or narrow the query: filters, a sort by an "
     "indexed column, cursor links instead of deep page numbers."},
    {"offset-too-deep", 400, NULL, "Offset too deep",
     "The page or offset is deeper than the server serves by number (max_offset).",
     "Continue with the cursor link in the `cursor` member (also in the Link header): it "
     "reaches the same rows at keyset speed."},
    {"mode-not-allowed", 400, NULL, "Mode not allowed",
     "This endpoint serves only cursor pages or only numbered pages.",
     "Follow the links the endpoint returns instead of page numbers, or the reverse as the "
     "`detail` member says."},
    {"too-many-parameters", 400, NULL, "Too many parameters",
     "The query string has more parameters than the server reads (64).",
     "Send fewer parameters."},
    {"invalid-path", 400, NULL, "Invalid path",
     "A file path is not one the files endpoint accepts (it leaves the root, has a NUL "
     "byte or a symbolic link out).",
     "Use the names the directory listing returns."},
    {"invalid-request", 400, NULL, "Invalid request",
     "The HTTP message is malformed or ambiguous (repeated Host or Content-Length, a body "
     "on GET, control characters); the connection is closed.",
     "Send a well-formed HTTP/1.1 request."},
    {"method-not-allowed", 405, NULL, "Method Not Allowed",
     "Only GET, HEAD and OPTIONS are served.", "Use GET."},
    {"rate-limited", 429, NULL, "Too Many Requests",
     "This client has used up its request rate; the RateLimit-* headers show the budget.",
     "Wait the `Retry-After` seconds, then continue."},
    {"uri-too-long", 414, NULL, "URI Too Long",
     "The request target (or a link this page would carry) is longer than max_url_bytes "
     "(cursors are not counted).",
     "Shorten the filters or the list of fields."},
    {"request-too-large", 431, NULL, "Request header fields too large",
     "The request line and headers are larger than max_request_bytes.",
     "Send fewer or shorter headers."},
    {"overloaded", 503, NULL, "Service Unavailable",
     "Every database worker is busy and the queue of waiting requests is full.",
     "Retry after the `Retry-After` seconds."},
    {"unhealthy", 503, NULL, "Service Unavailable", "The database cannot be read.",
     "Retry later; the operator should check the database."},
    {"unavailable", 503, NULL, "Service Unavailable",
     "The server cannot open a database connection for this request.", "Retry later."},
    {"unauthorized", 401, NULL, "Unauthorized",
     "The endpoint needs a credential (an API key or a JWT as `Authorization: Bearer ...`) "
     "and the request has none, or one the server does not accept: unknown, revoked, "
     "expired, not yet valid, for another audience or issuer, or badly signed. The "
     "`WWW-Authenticate` header names the scheme.",
     "Send a valid credential; ask the operator for one if yours stopped working."},
    {"export-not-allowed", 403, NULL, "Export not allowed",
     "This endpoint does not serve `{path}/export` (configured endpoints export only with "
     "`export = true`).",
     "Walk the pages with the `next` links, or ask the operator to allow exports."},
    {"too-many-exports", 429, NULL, "Too many exports",
     "This client already runs as many exports as the server allows at once "
     "(`[export] per_client`).",
     "Wait for a running export to finish, then retry after the `Retry-After` seconds."},
    {"database-unavailable", 503, NULL, "Database unavailable",
     "The database server cannot be reached or is restarting; folio reconnects by itself.",
     "Retry after the `Retry-After` seconds."},
    {"rate-limit-unavailable", 503, NULL, "Rate limit unavailable",
     "The rate limit shared by the nodes (Redis) cannot be checked now, and the server is "
     "configured to refuse rather than guess (`[cluster] fail = \"closed\"`).",
     "Retry after the `Retry-After` seconds."},
    {"bad-request", 400, NULL, "Bad Request",
     "The request cannot be served as it is; the `detail` member says why.",
     "Change the request as the detail says."},
    {"forbidden", 403, NULL, "Forbidden", "The server may not read what the request asks for.",
     "Ask for something else, or ask the operator for access."},
    {"conflict", 409, NULL, "Conflict",
     "The request conflicts with the current state of the server's data.",
     "Retry once the state has changed; the `detail` member says what conflicts."},
    {"internal", 500, NULL, "Internal Server Error",
     "The server failed to answer; the detail is in its log, not in the response.",
     "Retry; if it persists, report it with the request."},
};

const size_t folio__nproblem_types = sizeof folio__problem_types / sizeof folio__problem_types[0];

const struct folio_problem_type *folio__problem_type_find(const char *slug)
{
    for (size_t i = 0; i < folio__nproblem_types; i++)
        if (strcmp(folio__problem_types[i].slug, slug) == 0)
            return &folio__problem_types[i];
    return NULL;
}
