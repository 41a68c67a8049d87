/* GET /files/{dir}: a page of the regular files of a directory under the configured root,
 * by page number (the tutorial's file lister: page clamped into 1..pages) or by signed
 * cursor (after=), with a Link header. Listings come from the dirlist cache, so a
 * directory of a million files is read and sorted once, until it changes. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fs/dirlist.h"
#include "server/http.h"
#include "server/server.h"

#define FILES_DEFAULT_PER_PAGE 50
#define FILES_MAX_PER_PAGE 1000

static const char *param(const struct folio_http *h, const char *key, int *count)
{
    const char *v = NULL;
    *count = 0;
    for (size_t i = 0; i < h->nparams; i++)
        if (strcmp(h->params[i].key, key) == 0) {
            v = h->params[i].value ? h->params[i].value : "";
            (*count)++;
        }
    return v;
}

static void fingerprint(const char *rel, uint8_t fp[FOLIO_CURSOR_FINGERPRINT_BYTES])
{
    char buf[4200];
    int n = snprintf(buf, sizeof buf, "files%c%s", 0, rel);
    folio_cursor_fingerprint(buf, n > 0 ? (size_t)n : 0, fp);
}

/* "/files" + the directory, percent-encoded, as links spell it. */
static void base_url(struct folio_buf *b, const char *rel, int64_t per_page)
{
    folio_buf_puts(b, "/files");
    for (const char *p = rel; *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 1 && *p == '.') { /* the root itself is plain /files */
            p += n;
            while (*p == '/')
                p++;
            continue;
        }
        folio_buf_putc(b, '/');
        folio_url_encode(b, p, n);
        p += n;
        while (*p == '/')
            p++;
    }
    folio_buf_printf(b, "?per_page=%lld", (long long)per_page);
}

void folio__handle_files(struct folio_http *h, const char *rel)
{
    struct folio_server *srv = h->srv;
    struct folio_error err = {0};
    for (size_t i = 0; i < h->nparams; i++) {
        const char *k = h->params[i].key;
        if (strcmp(k, "page") != 0 && strcmp(k, "per_page") != 0 && strcmp(k, "after") != 0) {
            folio_error_set(&err, FOLIO_EUNKNOWN_PARAM, FOLIO_KIND_INPUT, k,
                            "unknown query parameter '%.64s'", k);
            folio__problem_from_error(h, &err);
            return;
        }
    }
    int n_page, n_pp, n_after;
    const char *v_page = param(h, "page", &n_page);
    const char *v_pp = param(h, "per_page", &n_pp);
    const char *v_after = param(h, "after", &n_after);
    if (n_page > 1 || n_pp > 1 || n_after > 1) {
        folio__problem(h, 400, "invalid-parameter", "Invalid parameter",
                       "a parameter is given more than once",
                       n_page > 1 ? "page"
                       : n_pp > 1 ? "per_page"
                                  : "after");
        return;
    }
    int64_t page = 1, per_page = FILES_DEFAULT_PER_PAGE;
    if (v_pp && (folio_parse_int64(v_pp, false, &per_page) != FOLIO_OK || per_page < 1)) {
        folio__problem(h, 400, "invalid-parameter", "Invalid parameter",
                       "per_page must be an integer of at least 1", "per_page");
        return;
    }
    if (per_page > FILES_MAX_PER_PAGE)
        per_page = FILES_MAX_PER_PAGE;
    /* Page numbers are clamped, as the tutorial's lister does; only garbage is refused. */
    folio_status pst = v_page ? folio_parse_int64(v_page, true, &page) : FOLIO_OK;
    if (pst == FOLIO_ERANGE) /* beyond 64 bits: still just "past the last page" */
        page = v_page[0] == '-' ? 1 : INT64_MAX;
    else if (pst != FOLIO_OK) {
        folio__problem(h, 400, "invalid-parameter", "Invalid parameter", "page must be an integer",
                       "page");
        return;
    }
    if (v_page && v_after) {
        folio__problem(h, 400, "conflicting-parameters", "Conflicting parameters",
                       "page and after cannot be combined", "after");
        return;
    }

    struct folio_dirlist *list = NULL;
    /* One spelling per directory ("a/", "./a", "a//." are "a"), so cursors and links agree
     * however the client wrote the path. */
    char norm[4096];
    size_t nlen;
    if (folio__dirlist_path_normalize(rel, strlen(rel), norm, sizeof norm, &nlen) != FOLIO_OK) {
        folio__problem(h, 414, "uri-too-long", NULL, "the path is too long", NULL);
        return;
    }
    rel = norm;
    if (folio__dirlist_cache_get(srv->dircache, srv->files_root_fd, rel, strlen(rel),
                                 FOLIO_DIRLIST_FOLLOW_SYMLINKS, &list, &err) != FOLIO_OK) {
        /* Missing and unreadable directories are both "not found"; 403 tells them apart. */
        if (err.status == FOLIO_ENOTFOUND)
            folio__problem(h, folio__problem_status(&err) == 403 ? 403 : 404, "not-found", NULL,
                           "no such directory", NULL);
        else
            folio__problem(h, 400, "invalid-path", "Invalid path",
                           "the path must be a relative directory below the root", NULL);
        return;
    }
    uint64_t total = folio__dirlist_count(list);
    uint8_t fp[FOLIO_CURSOR_FINGERPRINT_BYTES];
    fingerprint(rel, fp);
    struct folio_page pg;
    size_t first;
    if (v_after) {
        struct folio_cursor cur;
        if (folio_cursor_decode(&srv->keyring, v_after, strlen(v_after), (uint64_t)time(NULL),
                                fp, &cur, &err) != FOLIO_OK ||
            cur.nkeys != 1 || cur.keys[0].type != FOLIO_VALUE_BLOB) {
            if (err.status == FOLIO_OK)
                folio_error_set(&err, FOLIO_ECURSOR_INVALID, FOLIO_KIND_INPUT, "after",
                                "invalid cursor");
            snprintf(err.param, sizeof err.param, "after");
            folio__dirlist_free(list);
            folio__problem_from_error(h, &err);
            return;
        }
        h->cursor_expires = cur.expires;
        first = folio__dirlist_after(list, cur.keys[0].s, cur.keys[0].len);
        pg.per_page = (uint64_t)per_page;
        pg.total = total;
        pg.pages = total ? (total + pg.per_page - 1) / pg.per_page : 1;
        pg.first = first;
        pg.count = total - first < pg.per_page ? total - first : pg.per_page;
        pg.page = first / pg.per_page + 1;
    } else {
        if (folio__page_compute(total, (uint64_t)per_page, page, &pg) != FOLIO_OK) {
            folio__dirlist_free(list);
            folio__problem(h, 400, "invalid-parameter", NULL, "bad page", "page");
            return;
        }
        first = (size_t)pg.first;
    }

    struct folio_json j;
    folio_json_init(&j, &h->w->body);
    folio_json_object_begin(&j);
    folio_json_key(&j, "page");
    folio_json_int(&j, (int64_t)pg.page);
    folio_json_key(&j, "per_page");
    folio_json_int(&j, (int64_t)pg.per_page);
    folio_json_key(&j, "total");
    folio_json_int(&j, (int64_t)pg.total);
    folio_json_key(&j, "pages");
    folio_json_int(&j, (int64_t)pg.pages);
    folio_json_key(&j, "files");
    folio_json_array_begin(&j);
    for (size_t i = first; i < first + pg.count; i++) {
        size_t len;
        const char *name = folio__dirlist_name(list, i, &len);
        folio_json_string_bytes(&j, name, len);
    }
    folio_json_array_end(&j);

    /* Links: numbered pages, plus a cursor continuation after the page's last name. */
    struct folio_buf *lb = &h->w->links;
    folio_buf_reset(lb);
    size_t off_first = lb->len;
    base_url(lb, rel, per_page);
    size_t base_len = lb->len - off_first;
    folio_buf_putc(lb, '\0');
    size_t off_next = SIZE_MAX, off_prev = SIZE_MAX, off_last = lb->len;
    if (folio_buf_reserve(lb, base_len) == FOLIO_OK)
        folio_buf_append(lb, lb->data + off_first, base_len);
    folio_buf_printf(lb, "&page=%llu", (unsigned long long)pg.pages);
    folio_buf_putc(lb, '\0');
    if (pg.count > 0 && first + pg.count < total) {
        size_t len;
        const char *name = folio__dirlist_name(list, first + pg.count - 1, &len);
        struct folio_cursor c = {0};
        uint64_t ttl = srv->cfg.cursor_ttl;
        c.expires = ttl ? (uint64_t)time(NULL) + ttl : 0;
        memcpy(c.fingerprint, fp, sizeof fp);
        c.nkeys = 1;
        c.keys[0] = (struct folio_value){.type = FOLIO_VALUE_BLOB, .s = name, .len = len};
        char tok[FOLIO_CURSOR_MAX_TOKEN];
        if (folio_cursor_encode(&srv->keyring, &c, tok, sizeof tok, NULL) == FOLIO_OK) {
            off_next = lb->len;
            if (folio_buf_reserve(lb, base_len) == FOLIO_OK)
                folio_buf_append(lb, lb->data + off_first, base_len);
            folio_buf_printf(lb, "&after=%s", tok);
            folio_buf_putc(lb, '\0');
        }
    }
    if (!v_after && pg.page > 1) {
        off_prev = lb->len;
        if (folio_buf_reserve(lb, base_len) == FOLIO_OK)
            folio_buf_append(lb, lb->data + off_first, base_len);
        folio_buf_printf(lb, "&page=%llu", (unsigned long long)pg.page - 1);
        folio_buf_putc(lb, '\0');
    }
    folio__dirlist_free(list);
    const char *u_next = off_next != SIZE_MAX && lb->data ? lb->data + off_next : NULL;
    folio_json_key(&j, "next");
    if (u_next)
        folio_json_string(&j, u_next);
    else
        folio_json_null(&j);
    folio_json_object_end(&j);
    /* The links buffer's failure is sticky: this one check catches a link cut anywhere. */
    if (folio_json_status(&j) != FOLIO_OK || lb->data == NULL || folio_buf_status(lb) != FOLIO_OK) {
        folio__problem(h, 500, "internal", NULL, NULL, NULL);
        return;
    }
    struct folio_link links[] = {
        {"first", lb->data + off_first},
        {"next", u_next},
        {"prev", off_prev != SIZE_MAX ? lb->data + off_prev : NULL},
        {"last", lb->data + off_last},
    };
    struct folio_buf *s = &h->w->scratch;
    folio_buf_reset(s);
    if (folio_link_header_write(s, links, 4) == FOLIO_OK && s->data)
        folio__http_header_add(h, "Link", s->data);
    h->status = 200;
    h->content_type = "application/json";
}
