/* embed_assets: the browser UI's files (src/ui/) as a C source compiled into folio.
 *
 *   embed_assets OUT.c SRCDIR name...
 *
 * For every named file it writes the bytes, a gzip copy (zlib, level 9) and a strong ETag
 * (the first 16 hex digits of the SHA-256 of the bytes; the gzip copy, a different
 * representation, gets the same digits with "-gz", as RFC 9110 section 8.8.3 asks).
 * Scripts, styles and images are served under versioned names, `app.<digits>.js`, that
 * change whenever their bytes do, so browsers may cache them for a year ("immutable").
 * HTML pages are served under fixed paths (`index.html` at /ui/, `api.html` at /ui/api)
 * and revalidated; a `{{name}}` in them becomes the versioned URL of asset `name`, which
 * is why HTML pages must be named after the assets they use. Exit status 1 on any error,
 * with a message naming the file. */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct asset {
    char name[128];      /* file name in SRCDIR */
    char url[192];       /* path served */
    unsigned char *data; /* bytes served (HTML after substitution) */
    size_t len;
    unsigned char *gz;
    size_t gz_len;
    char digest[17];
    bool html;
};

static void die(const char *what, const char *name)
{
    fprintf(stderr, "embed_assets: %s: %s\n", name, what);
    exit(1);
}

static unsigned char *read_file(const char *dir, const char *name, size_t *out_len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die(strerror(errno), path);
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap)
            buf = realloc(buf, cap *= 2);
    }
    if (buf == NULL || ferror(f))
        die("cannot be read", path);
    fclose(f);
    *out_len = len;
    return buf;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".json", "application/json"},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (ends_with(name, types[i].ext))
            return types[i].type;
    die("unknown file type", name);
    return NULL;
}

static void digest_of(struct asset *a)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, a->data, a->len);
    for (int i = 0; i < 8; i++)
        snprintf(a->digest + 2 * i, 3, "%02x", h[i]);
}

static void gzip_of(struct asset *a)
{
    z_stream z = {0};
    /* 31 = a 32 KiB window with the gzip wrapper (RFC 1952), not zlib's own. */
    if (deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        die("deflateInit2 failed", a->name);
    size_t cap = deflateBound(&z, (uLong)a->len) + 32;
    a->gz = malloc(cap);
    if (a->gz == NULL)
        die("out of memory", a->name);
    z.next_in = a->data;
    z.avail_in = (uInt)a->len;
    z.next_out = a->gz;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        die("deflate failed", a->name);
    a->gz_len = z.total_out;
    deflateEnd(&z);
}

/* Replace every {{name}} in an HTML page by the versioned URL of that asset. */
static void substitute(struct asset *page, const struct asset *assets, size_t n)
{
    size_t cap = page->len + 4096 * n + 1, len = 0;
    unsigned char *out = malloc(cap);
    if (out == NULL)
        die("out of memory", page->name);
    for (size_t i = 0; i < page->len;) {
        if (i + 1 < page->len && page->data[i] == '{' && page->data[i + 1] == '{') {
            const unsigned char *end = memchr(page->data + i, '}', page->len - i);
            if (end == NULL || end + 1 >= page->data + page->len || end[1] != '}')
                die("unclosed {{", page->name);
            size_t nlen = (size_t)(end - (page->data + i + 2));
            const struct asset *found = NULL;
            for (size_t k = 0; k < n; k++)
                if (!assets[k].html && strlen(assets[k].name) == nlen &&
                    memcmp(assets[k].name, page->data + i + 2, nlen) == 0)
                    found = &assets[k];
            if (found == NULL)
                die("{{...}} names a file that is not embedded", page->name);
            size_t ulen = strlen(found->url);
            if (len + ulen >= cap)
                die("too many substitutions", page->name);
            memcpy(out + len, found->url, ulen);
            len += ulen;
            i = (size_t)(end + 2 - page->data);
        } else {
            if (len + 1 >= cap)
                die("too many substitutions", page->name);
            out[len++] = page->data[i++];
        }
    }
    free(page->data);
    page->data = out;
    page->len = len;
}

static void write_bytes(FILE *f, const char *var, const unsigned char *p, size_t n)
{
    fprintf(f, "static const unsigned char %s[%zu] = {", var, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%u,", i % 24 == 0 ? "\n    " : "", p[i]);
    fprintf(f, "%s};\n", n ? "\n" : "0");
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: embed_assets OUT.c SRCDIR name...\n");
        return 2;
    }
    if (sodium_init() < 0)
        die("sodium_init failed", "libsodium");
    size_t n = (size_t)argc - 3;
    struct asset *assets = calloc(n, sizeof *assets);
    if (assets == NULL)
        die("out of memory", argv[1]);
    /* Versioned assets first: HTML pages refer to their URLs. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            struct asset *a = &assets[i];
            const char *name = argv[3 + i];
            bool html = ends_with(name, ".html");
            if (html != (pass == 1))
                continue;
            if (strlen(name) >= sizeof a->name || strchr(name, '/') || strchr(name, '"') ||
                strchr(name, '\\'))
                die("asset names are plain file names", name);
            content_type(name);
            snprintf(a->name, sizeof a->name, "%s", name);
            a->html = html;
            a->data = read_file(argv[2], name, &a->len);
            if (html)
                substitute(a, assets, n);
            digest_of(a);
            gzip_of(a);
            if (html) {
                if (strcmp(name, "index.html") == 0)
                    snprintf(a->url, sizeof a->url, "/ui/");
                else
                    snprintf(a->url, sizeof a->url, "/ui/%.*s", (int)(strlen(name) - 5), name);
            } else {
                const char *dot = strrchr(name, '.');
                snprintf(a->url, sizeof a->url, "/ui/%.*s.%s%s", (int)(dot - name), name,
                         a->digest, dot);
            }
        }
    }
    FILE *f = fopen(argv[1], "w");
    if (f == NULL)
        die(strerror(errno), argv[1]);
    fprintf(f, "/* Generated by tools/embed_assets.c from src/ui/: do not edit. */\n"
               "#include \"server/assets.h\"\n\n");
    for (size_t i = 0; i < n; i++) {
        char var[32];
        snprintf(var, sizeof var, "data_%zu", i);
        write_bytes(f, var, assets[i].data, assets[i].len);
        snprintf(var, sizeof var, "gz_%zu", i);
        write_bytes(f, var, assets[i].gz, assets[i].gz_len);
    }
    fprintf(f, "\nconst struct folio_asset folio__assets[] = {\n");
    for (size_t i = 0; i < n; i++) {
        const struct asset *a = &assets[i];
        fprintf(f,
                "    {\"%s\", \"%s\", \"%s\", data_%zu, %zu, gz_%zu, %zu, \"\\\"%s\\\"\", "
                "\"\\\"%s-gz\\\"\", %s},\n",
                a->url, a->name, content_type(a->name), i, a->len, i, a->gz_len, a->digest,
                a->digest, a->html ? "false" : "true");
    }
    fprintf(f, "};\nconst size_t folio__nassets = %zu;\n", n);
    if (fclose(f) != 0)
        die("cannot be written", argv[1]);
    for (size_t i = 0; i < n; i++) {
        free(assets[i].data);
        free(assets[i].gz);
    }
    free(assets);
    return 0;
}
