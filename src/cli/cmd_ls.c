/* folio ls DIR [--page P] [--per-page N] [--json]: one page of a directory's regular files. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "folio/buf.h"
#include "folio/json.h"
#include "fs/dirlist.h"

#define LS_PER_PAGE_DEFAULT 50
/* JSON is flushed to stdout whenever this much is buffered, so any page size works. */
#define LS_JSON_FLUSH ((size_t)64 << 10)
#define LS_JSON_MAX ((size_t)16 << 20)

static void usage(FILE *to)
{
    fputs("usage: folio ls DIR [--page P] [--per-page N] [--json]\n"
          "\n"
          "List the regular files of DIR, sorted bytewise, one page at a time.\n"
          "Subdirectories and special files are not listed; a symbolic link is listed\n"
          "only if it leads to a regular file inside DIR. Names starting with '.' are\n"
          "listed like any other.\n"
          "\n"
          "options:\n"
          "  --page P       the page to show, from 1 (default 1); a page before the\n"
          "                 first or after the last shows the first or last page\n"
          "  --per-page N   files per page, at least 1 (default 50)\n"
          "  --json         print one line of JSON:\n"
          "                 {\"page\": P, \"per_page\": N, \"total\": T, \"pages\": K, \"files\": [...]}\n"
          "                 a name that is not valid UTF-8 carries each stray byte as a\n"
          "                 \\udcXX escape (Python: os.fsencode(name) gives the bytes back)\n"
          "  -h, --help     show this help\n"
          "\n"
          "Plain output is one name per line on stdout, as raw bytes, followed by a footer\n"
          "such as '-- page 1/3, 50 of 120 files --' on stderr, so that stdout holds only\n"
          "names. A name containing a newline is ambiguous there: use --json.\n"
          "\n"
          "exit status: 0 listed, 1 DIR cannot be listed, 2 bad arguments\n",
          to);
}


struct ls_args {
    const char *dir;
    int64_t page;
    int64_t per_page;
    bool json;
};

static const struct cli_option options[] = {
    {"--help", "-h", false, false},
    {"--json", NULL, false, false},
    {"--page", NULL, true, false},
    {"--per-page", NULL, true, false},
};

static int on_arg(void *ctx, const struct cli_option *opt, const char *val)
{
    struct ls_args *a = ctx;
    if (opt == NULL) {
        if (a->dir != NULL) {
            fprintf(stderr, "folio ls: one directory only ('%s' and '%s')\n", a->dir, val);
            return 2;
        }
        a->dir = val;
        return -1;
    }
    if (opt == &options[0]) {
        usage(stdout);
        return 0;
    }
    if (opt == &options[1]) {
        a->json = true;
        return -1;
    }
    int64_t v;
    bool overflow;
    if (!cli_parse_int(val, &v, &overflow)) {
        fprintf(stderr, "folio ls: %s must be an integer, got '%s'\n", opt->name, val);
        return 2;
    }
    if (opt == &options[2]) { /* any integer: clamped into 1..pages */
        a->page = v;
    } else {
        if (v < 1 || overflow) {
            fprintf(stderr,
                    "folio ls: --per-page must be an integer from 1 to %" PRId64 ", got '%s'\n",
                    INT64_MAX, val);
            return 2;
        }
        a->per_page = v;
    }
    return -1;
}

/* Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, struct ls_args *a)
{
    int rc =
        cli_walk("ls", argc, argv, options, sizeof options / sizeof options[0], on_arg, a);
    if (rc >= 0)
        return rc;
    if (a->dir == NULL) {
        fprintf(stderr, "folio ls: missing DIR\n");
        usage(stderr);
        return 2;
    }
    return -1;
}

static int flush_buf(struct folio_buf *b)
{
    if (b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len)
        return -1;
    folio_buf_reset(b);
    return 0;
}

static int print_json(const struct folio_dirlist *list, const struct folio_page *pg)
{
    struct folio_buf b;
    struct folio_json w;
    folio_buf_init(&b, LS_JSON_MAX);
    folio_json_init(&w, &b);
    folio_json_object_begin(&w);
    folio_json_key(&w, "page");
    folio_json_int(&w, (int64_t)pg->page);
    folio_json_key(&w, "per_page");
    folio_json_int(&w, (int64_t)pg->per_page);
    folio_json_key(&w, "total");
    folio_json_int(&w, (int64_t)pg->total);
    folio_json_key(&w, "pages");
    folio_json_int(&w, (int64_t)pg->pages);
    folio_json_key(&w, "files");
    folio_json_array_begin(&w);
    int rc = 0;
    for (uint64_t i = pg->first; i < pg->first + pg->count && rc == 0; i++) {
        size_t len;
        const char *name = folio__dirlist_name(list, (size_t)i, &len);
        folio_json_string_bytes(&w, name, len);
        /* The writer keeps its nesting state itself, so the text so far can go out. */
        if (b.len >= LS_JSON_FLUSH && folio_json_status(&w) == FOLIO_OK)
            rc = flush_buf(&b);
    }
    folio_json_array_end(&w);
    folio_json_object_end(&w);
    folio_buf_putc(&b, '\n');
    folio_status s = folio_json_status(&w);
    if (s != FOLIO_OK) {
        fprintf(stderr, "folio ls: cannot write JSON: %s\n", folio_strerror(s));
        rc = -1;
    } else if (rc == 0) {
        rc = flush_buf(&b);
    }
    folio_buf_clear(&b);
    return rc;
}

static int print_plain(const struct folio_dirlist *list, const struct folio_page *pg)
{
    for (uint64_t i = pg->first; i < pg->first + pg->count; i++) {
        size_t len;
        const char *name = folio__dirlist_name(list, (size_t)i, &len);
        fwrite(name, 1, len, stdout);
        putchar('\n');
    }
    fprintf(stderr, "-- page %" PRIu64 "/%" PRIu64 ", %" PRIu64 " of %" PRIu64 " files --\n",
            pg->page, pg->pages, pg->count, pg->total);
    return 0;
}

int cmd_ls(int argc, char **argv)
{
    struct ls_args a = {NULL, 1, LS_PER_PAGE_DEFAULT, false};
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;

    int fd = open(a.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "folio ls: %s: %s\n", a.dir,
                errno == ENOTDIR ? "not a directory" : strerror(errno));
        return 1;
    }
    struct folio_dirlist *list;
    struct folio_error err = {0};
    folio_status s =
        folio__dirlist_read(fd, fd, ".", 1, FOLIO_DIRLIST_FOLLOW_SYMLINKS, &list, &err);
    close(fd);
    if (s != FOLIO_OK) {
        fprintf(stderr, "folio ls: %s: %s\n", a.dir,
                err.detail[0] ? err.detail : folio_strerror(s));
        return 1;
    }
    struct folio_page pg;
    if (folio__page_compute(folio__dirlist_count(list), (uint64_t)a.per_page, a.page, &pg) !=
        FOLIO_OK) {
        folio__dirlist_free(list);
        return 2; /* unreachable: per_page was checked */
    }
    rc = a.json ? print_json(list, &pg) : print_plain(list, &pg);
    folio__dirlist_free(list);
    if (fflush(stdout) != 0 || ferror(stdout) || rc != 0) {
        fprintf(stderr, "folio ls: cannot write the listing: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
