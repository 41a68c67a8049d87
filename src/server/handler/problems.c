/* GET /problems and /problems/{slug}: the problem types folio answers with
 * (problem_types.h), as a short HTML page for a browser or JSON for a program, so the
 * `type` URI of every error resolves to what it means and what to do. */
#include <stdio.h>
#include <string.h>

#include "server/assets.h"
#include "server/http.h"
#include "server/problem_types.h"
#include "server/server.h"

/* Text from the catalog as HTML: escaped, `code` spans in <code>. */
static void html_text(struct folio_buf *b, const char *s)
{
    bool code = false;
    for (; *s; s++) {
        switch (*s) {
        case '&': folio_buf_puts(b, "&amp;"); break;
        case '<': folio_buf_puts(b, "&lt;"); break;
        case '>': folio_buf_puts(b, "&gt;"); break;
        case '"': folio_buf_puts(b, "&quot;"); break;
        case '`':
            folio_buf_puts(b, code ? "</code>" : "<code>");
            code = !code;
            break;
        default: folio_buf_putc(b, *s);
        }
    }
    if (code)
        folio_buf_puts(b, "</code>");
}

static void html_begin(struct folio_buf *b, const char *title)
{
    const char *css = "/ui/";
    for (size_t i = 0; i < folio__nassets; i++)
        if (strcmp(folio__assets[i].name, "app.css") == 0)
            css = folio__assets[i].path;
    folio_buf_puts(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                      "<title>");
    html_text(b, title);
    folio_buf_printf(b, " · folio</title><link rel=\"stylesheet\" href=\"%s\"></head>"
                        "<body class=\"doc\"><main>",
                     css);
}

static void html_type(struct folio_buf *b, const struct folio_problem_type *t, bool heading)
{
    if (heading)
        folio_buf_printf(b, "<h1>%d ", t->status);
    else
        folio_buf_printf(b, "<h2 id=\"%s\"><a href=\"/problems/%s\">%d ", t->slug, t->slug,
                         t->status);
    html_text(b, t->title);
    folio_buf_puts(b, heading ? "</h1>" : "</a></h2>");
    folio_buf_printf(b, "<p class=\"type\"><code>/problems/%s</code>", t->slug);
    if (t->also)
        folio_buf_printf(b, " (status %d, or %s)", t->status, t->also);
    folio_buf_puts(b, "</p><p>");
    html_text(b, t->meaning);
    folio_buf_puts(b, "</p><p><strong>What to do:</strong> ");
    html_text(b, t->todo);
    folio_buf_puts(b, "</p>");
}

static void json_type(struct folio_json *j, const struct folio_problem_type *t)
{
    char type[96];
    snprintf(type, sizeof type, "/problems/%s", t->slug);
    folio_json_object_begin(j);
    folio_json_key(j, "type");
    folio_json_string(j, type);
    folio_json_key(j, "status");
    folio_json_int(j, t->status);
    if (t->also) {
        folio_json_key(j, "also");
        folio_json_string(j, t->also);
    }
    folio_json_key(j, "title");
    folio_json_string(j, t->title);
    folio_json_key(j, "meaning");
    folio_json_string(j, t->meaning);
    folio_json_key(j, "todo");
    folio_json_string(j, t->todo);
    folio_json_object_end(j);
}

void folio__handle_problem_page(struct folio_http *h, const char *slug)
{
    const struct folio_problem_type *one = NULL;
    if (slug != NULL && (one = folio__problem_type_find(slug)) == NULL) {
        folio__problem(h, 404, "not-found", NULL, "no such problem type; /problems lists them",
                       NULL);
        return;
    }
    bool html = folio__http_wants_html(h);
    struct folio_buf *b = &h->w->body;
    folio_buf_reset(b);
    if (html) {
        html_begin(b, one ? one->title : "Problem types");
        if (one) {
            html_type(b, one, true);
            folio_buf_puts(b, "<p><a href=\"/problems\">Every problem type</a> · "
                              "<a href=\"/ui/\">Browse the API</a></p>");
        } else {
            folio_buf_puts(b, "<h1>Problem types</h1><p>folio's errors are RFC 9457 "
                              "<code>application/problem+json</code> documents; their "
                              "<code>type</code> is one of these stable identifiers.</p>");
            for (size_t i = 0; i < folio__nproblem_types; i++)
                html_type(b, &folio__problem_types[i], false);
        }
        folio_buf_puts(b, "</main></body></html>\n");
    } else {
        struct folio_json j;
        folio_json_init(&j, b);
        if (one) {
            json_type(&j, one);
        } else {
            folio_json_array_begin(&j);
            for (size_t i = 0; i < folio__nproblem_types; i++)
                json_type(&j, &folio__problem_types[i]);
            folio_json_array_end(&j);
        }
    }
    if (folio_buf_status(b) != FOLIO_OK || b->data == NULL) {
        folio__problem(h, 500, "internal", NULL, "the page could not be written", NULL);
        return;
    }
    folio__http_header_add(h, "Vary", "Accept");
    folio__http_header_add(h, "Cache-Control", "public, max-age=3600");
    h->status = 200;
    h->content_type = html ? "text/html; charset=utf-8" : "application/json";
}
