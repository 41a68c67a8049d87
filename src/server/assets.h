/* The browser UI's files, embedded at build time (tools/embed_assets.c writes the table
 * from src/ui/; see that file for the naming and ETag rules). Read-only, thread-safe. */
#ifndef FOLIO_SERVER_ASSETS_H
#define FOLIO_SERVER_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

struct folio_asset {
    const char *path;         /* served at: "/ui/", "/ui/api", "/ui/app.<digest>.js" */
    const char *name;         /* the source file's name in src/ui/ */
    const char *content_type;
    const unsigned char *data;
    size_t len;
    const unsigned char *gz;  /* the same bytes gzip-compressed */
    size_t gz_len;
    const char *etag;         /* strong ETag of data, quoted */
    const char *etag_gz;      /* strong ETag of gz, quoted */
    bool immutable;           /* a versioned name: cacheable for a year */
};

extern const struct folio_asset folio__assets[];
extern const size_t folio__nassets;

/* The asset served at `path`, or NULL. */
const struct folio_asset *folio__asset_find(const char *path);

#endif
