/* fs/dirlist.h - sorted listings of the regular files of one directory, a cache of them,
 * confinement of relative paths beneath a root directory, and page arithmetic.
 *
 * Used by `folio ls`, `folio batch` and the /files endpoint. The module never prints and
 * never exits; failures are a folio_status plus detail in an optional struct folio_error.
 *
 * What is listed. A listing holds the names of the entries of one directory that are
 * regular files. Directories, devices, FIFOs and sockets are never listed. Symbolic links
 * are listed only with FOLIO_DIRLIST_FOLLOW_SYMLINKS, and then only when the link, resolved
 * from the root directory with RESOLVE_BENEATH (so it can never leave the root, not even
 * through ".." or an absolute target), ends at a regular file; a link to a directory, a
 * dangling link and a link that escapes the root are left out silently. The listing gives
 * the link's own name. Names starting with "." are listed like any other. Names are
 * sorted bytewise (memcmp order, shorter prefix first), which is also the order the
 * cursor helpers below assume.
 *
 * Naming: the module sits outside libfolio (src/fs, not include/folio), but its functions
 * are the interface between src/fs, src/cli and src/server, so they carry the public
 * `folio_` prefix the same way src/db/db.h does; file-private helpers are static. */
#ifndef FOLIO_FS_DIRLIST_H
#define FOLIO_FS_DIRLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/status.h"

/* ---- Confinement ------------------------------------------------------------------ */

/* Open the directory `relpath` (`len` bytes, not necessarily NUL-terminated) beneath the
 * directory `root_fd`, read-only and close-on-exec, and store the new descriptor (the
 * caller closes it) in *out_fd.
 *
 * The path is checked lexically first: it must be relative, must not contain a NUL byte
 * and must not have a ".." component; "", "." and "./" name the root itself, repeated
 * and trailing slashes are allowed. It is then resolved with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS): symbolic links are followed only while they stay beneath the
 * root. On kernels without openat2 (ENOSYS) every component is opened with O_NOFOLLOW
 * instead, so no symbolic link is followed at all.
 *
 * Returns FOLIO_OK; FOLIO_EINVAL (kind FOLIO_KIND_INPUT) for a path that is malformed
 * whatever the filesystem holds (absolute, "..", NUL byte, longer than PATH_MAX);
 * FOLIO_ENOTFOUND for a path that is well-formed but does not name a directory we may
 * list: missing, not a directory, a symbolic link that escapes the root or loops (kind
 * FOLIO_KIND_INPUT), or permission denied (FOLIO_KIND_ACCESS); FOLIO_EIO for other system
 * errors (err->detail names the errno). Thread-safe. */
folio_status folio__dirlist_open_beneath(int root_fd, const char *relpath, size_t len, int *out_fd,
                                         struct folio_error *err) FOLIO_MUST_CHECK;

/* The one spelling of a directory path below the root, as /files links and cursor
 * fingerprints use it: empty and "." components are dropped ("a//./b/" and "/a/b" are
 * "a/b"; a leading slash does not make a path absolute here, the root is the only
 * origin), and the root itself is ".". ".." components are kept (so that
 * folio__dirlist_open_beneath still refuses them); nothing else is changed. Writes the
 * NUL-terminated result to out[0..cap) and its length to *out_len. Returns FOLIO_OK, or
 * FOLIO_ETOOBIG when it does not fit (out is then ""). For any input shorter than
 * PATH_MAX without a leading '/', folio__dirlist_open_beneath gives the same answer for
 * the path and for its normalized spelling; normalizing is idempotent. Thread-safe. */
folio_status folio__dirlist_path_normalize(const char *rel, size_t len, char *out, size_t cap,
                                           size_t *out_len) FOLIO_MUST_CHECK;

/* ---- Listings ----------------------------------------------------------------------- */

/* Also list symbolic links that resolve, beneath the root, to a regular file. */
#define FOLIO_DIRLIST_FOLLOW_SYMLINKS 0x1u

/* An immutable, sorted listing. Reference-counted: the cache and any number of readers
 * may hold the same listing, each releases its reference with folio__dirlist_free(). All
 * accessors are thread-safe (the listing never changes once built). */
struct folio_dirlist;

/* Read the directory open as `dir_fd` (which is not closed, and whose file offset is
 * used and left at the end) and build a sorted listing of its regular files. `root_fd`
 * and `relpath` (`relpath_len` bytes) say where `dir_fd` is, beneath which root; they
 * are only used with FOLIO_DIRLIST_FOLLOW_SYMLINKS to resolve symbolic links, and may be
 * -1 and NULL otherwise. Entries are read with getdents64 and d_type; fstatat is used
 * only for entries whose type the filesystem does not report (DT_UNKNOWN). Names are
 * stored in one arena, not one allocation each. On success *out_list owns one reference.
 *
 * Returns FOLIO_OK, FOLIO_ENOMEM, FOLIO_ETOOBIG (more than 4 GiB of names or 2^32-1
 * entries), FOLIO_ENOTFOUND (the directory was removed while being read, or permission
 * denied reading it; kind INPUT or ACCESS) or FOLIO_EIO. Thread-safe as long as no two
 * threads read through the same `dir_fd`. */
folio_status folio__dirlist_read(int dir_fd, int root_fd, const char *relpath, size_t relpath_len,
                                 unsigned flags, struct folio_dirlist **out_list,
                                 struct folio_error *err) FOLIO_MUST_CHECK;

/* Take another reference (for a second holder); returns `list`. Thread-safe. */
struct folio_dirlist *folio__dirlist_ref(struct folio_dirlist *list);

/* Drop one reference; the memory is released with the last one. NULL is ignored.
 * Thread-safe. */
void folio__dirlist_free(struct folio_dirlist *list);

size_t folio__dirlist_count(const struct folio_dirlist *list);

/* The i-th name (i < count), NUL-terminated, valid while the caller holds a reference;
 * its length in bytes goes to *out_len if out_len is not NULL. */
const char *folio__dirlist_name(const struct folio_dirlist *list, size_t i, size_t *out_len);

/* Cursor pagination: the index of the first name that sorts strictly after `key`
 * (`key_len` bytes, compared bytewise like the listing; NULL is allowed when key_len is
 * 0), or count if there is none.
 * Binary search, O(log count). */
size_t folio__dirlist_after(const struct folio_dirlist *list, const void *key, size_t key_len);

/* Bytes of memory the listing holds (names, index and header); what the cache counts. */
size_t folio__dirlist_bytes(const struct folio_dirlist *list);

/* ---- Page arithmetic ---------------------------------------------------------------- */

struct folio_page {
    uint64_t page;     /* the page actually served, 1..pages */
    uint64_t pages;    /* max(1, ceil(total / per_page)) */
    uint64_t per_page; /* as requested */
    uint64_t total;    /* number of items */
    uint64_t first;    /* index of the first item of the page */
    uint64_t count;    /* items on the page (0 only when total is 0) */
};

/* Compute the page `page` of `total` items, `per_page` per page. `page` is clamped into
 * 1..pages (so 0, negative and too large page numbers serve the first or last page).
 * Returns FOLIO_OK, or FOLIO_EINVAL when per_page is 0 (*out untouched). Thread-safe. */
folio_status folio__page_compute(uint64_t total, uint64_t per_page, int64_t page,
                                 struct folio_page *out) FOLIO_MUST_CHECK;

/* ---- Cache -------------------------------------------------------------------------- */

/* A thread-safe cache of listings, keyed by the listed directory's device and inode
 * number (and by the root's, and the flags, since those change what is listed).
 *
 * Validity. On each lookup the directory is fstat'ed; a cached listing is used only if
 * the directory's mtime, ctime, inode number, size and link count are all unchanged
 * since the listing was read. Adding, removing or renaming an entry changes the mtime.
 * But timestamps have a granularity (a kernel clock tick, 1 s or 2 s on some
 * filesystems): a change made in the same tick as the reading would leave the mtime
 * equal. So a listing is stored only when the directory's mtime is at least `racy_ns`
 * older than the moment the reading started; a directory changed more recently than that
 * is read again on every lookup until it has been quiet for `racy_ns` (git's "racy
 * index" rule). Only mtime is judged for raciness: it is the stamp that moves when names
 * change, while ctime also moves for chmod or utimensat. A symbolic link's target is
 * judged when the listing is read; changes outside the directory are not noticed.
 *
 * Memory. The cache holds at most `max_bytes` (as counted by folio__dirlist_bytes);
 * beyond that the least recently used listings are evicted. A listing larger than
 * `max_bytes` on its own is returned but not kept. Evicted listings stay valid for
 * readers that still hold a reference. */
struct folio_dirlist_cache;

#define FOLIO_DIRLIST_CACHE_DEFAULT_BYTES ((size_t)256 << 20)
#define FOLIO_DIRLIST_RACY_NS_DEFAULT ((int64_t)2000000000) /* FAT has 2 s mtimes */

struct folio_dirlist_cache_stats {
    uint64_t hits;      /* lookups answered from the cache */
    uint64_t misses;    /* lookups that read the directory */
    uint64_t racy;      /* readings not stored because the directory changed too recently */
    uint64_t evictions; /* listings dropped to stay under max_bytes */
    size_t entries;     /* listings held now */
    size_t bytes;       /* bytes held now */
};

/* Create a cache. max_bytes 0 means FOLIO_DIRLIST_CACHE_DEFAULT_BYTES; racy_ns < 0 means
 * FOLIO_DIRLIST_RACY_NS_DEFAULT. Returns FOLIO_OK, FOLIO_ENOMEM or FOLIO_EIO (the mutex
 * could not be created). */
folio_status folio__dirlist_cache_new(size_t max_bytes, int64_t racy_ns,
                                      struct folio_dirlist_cache **out_cache) FOLIO_MUST_CHECK;

/* Free the cache and drop its references (readers keep theirs). NULL is ignored. Not
 * thread-safe with respect to other calls on the same cache. */
void folio__dirlist_cache_free(struct folio_dirlist_cache *cache);

/* Open `relpath` beneath `root_fd` (see folio__dirlist_open_beneath), and return its
 * listing in *out_list, from the cache when still valid, read afresh otherwise. The
 * caller owns one reference and releases it with folio__dirlist_free(). The directory is
 * read without holding the cache lock, so a slow read does not block other lookups.
 * Returns what folio__dirlist_open_beneath and folio__dirlist_read return. Thread-safe. */
folio_status folio__dirlist_cache_get(struct folio_dirlist_cache *cache, int root_fd,
                                      const char *relpath, size_t len, unsigned flags,
                                      struct folio_dirlist **out_list,
                                      struct folio_error *err) FOLIO_MUST_CHECK;

/* Counters and current size. Thread-safe. */
void folio__dirlist_cache_stats(struct folio_dirlist_cache *cache,
                                struct folio_dirlist_cache_stats *out);

#endif
