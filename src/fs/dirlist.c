/* Sorted listings of regular files, their cache, confinement and page arithmetic:
 * see fs/dirlist.h. */
#include "fs/dirlist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "folio/alloc.h"

/* getdents64 buffer: large enough that a million entries take few system calls. */
#define GETDENTS_BUF_SIZE ((size_t)256 << 10)
/* openat2 answers EAGAIN when a concurrent rename or mount raced with the lookup. */
#define OPENAT2_RETRIES 8
/* A racy window beyond a day is pointless; capping it keeps nanosecond sums in range. */
#define RACY_NS_MAX ((int64_t)86400 * 1000000000)

/* ---- Confinement ------------------------------------------------------------------ */

static folio_status open_error(struct folio_error *err, int e)
{
    switch (e) {
    case ENOENT:
        return folio_error_set(err, FOLIO_ENOTFOUND, FOLIO_KIND_INPUT, "path", "no such directory");
    case ENOTDIR:
        return folio_error_set(err, FOLIO_ENOTFOUND, FOLIO_KIND_INPUT, "path", "not a directory");
    case EXDEV:
        return folio_error_set(err, FOLIO_ENOTFOUND, FOLIO_KIND_INPUT, "path",
                               "a symbolic link leads outside the root");
    case ELOOP:
        return folio_error_set(err, FOLIO_ENOTFOUND, FOLIO_KIND_INPUT, "path",
                               "too many or forbidden symbolic links");
    case EACCES:
    case EPERM:
        return folio_error_set(err, FOLIO_ENOTFOUND, FOLIO_KIND_ACCESS, "path",
                               "permission denied");
    case ENAMETOOLONG:
        return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_INPUT, "path", "path too long");
    default:
        return folio_error_set(err, FOLIO_EIO, FOLIO_KIND_INTERNAL, "path",
                               "cannot open directory: %s", strerror(e));
    }
}

static int sys_openat2(int dirfd, const char *path, int flags, unsigned long long resolve)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)flags;
    how.resolve = resolve;
    int fd;
    int tries = 0;
    do
        fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    while (fd < 0 && errno == EAGAIN && ++tries < OPENAT2_RETRIES);
    return fd;
}

/* Without openat2 there is no race-free way to follow a link and stay beneath the root,
 * so follow none: open one component at a time with O_NOFOLLOW. */
static int open_nofollow_walk(int root_fd, char *path)
{
    int cur = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char *save = NULL;
    for (char *comp = strtok_r(path, "/", &save); cur >= 0 && comp != NULL;
         comp = strtok_r(NULL, "/", &save)) {
        if (strcmp(comp, ".") == 0)
            continue;
        int next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        close(cur);
        errno = e;
        cur = next;
    }
    return cur;
}

folio_status folio__dirlist_open_beneath(int root_fd, const char *relpath, size_t len, int *out_fd,
                                         struct folio_error *err)
{
    char path[PATH_MAX];
    if (relpath == NULL && len != 0)
        return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_INPUT, "path", "missing path");
    if (len >= sizeof path)
        return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_INPUT, "path", "path too long");
    if (len > 0 && memchr(relpath, '\0', len) != NULL)
        return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_INPUT, "path",
                               "path contains a NUL byte");
    if (len > 0 && relpath[0] == '/')
        return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_INPUT, "path",
                               "path must be relative");
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && relpath[j] != '/')
            j++;
        if (j - i == 2 && relpath[i] == '.' && relpath[i + 1] == '.')
            return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_INPUT, "path",
                                   "path must not contain '..'");
        i = j + 1;
    }
    if (len == 0) {
        path[0] = '.';
        path[1] = '\0';
    } else {
        memcpy(path, relpath, len);
        path[len] = '\0';
    }

    int fd = sys_openat2(root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                         RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
    if (fd < 0 && errno == ENOSYS)
        fd = open_nofollow_walk(root_fd, path);
    if (fd < 0)
        return open_error(err, errno);
    *out_fd = fd;
    return FOLIO_OK;
}

folio_status folio__dirlist_path_normalize(const char *rel, size_t len, char *out, size_t cap,
                                           size_t *out_len)
{
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && rel[j] != '/')
            j++;
        size_t c = j - i;
        if (c > 0 && !(c == 1 && rel[i] == '.')) {
            if (n + (n > 0) + c + 1 > cap) {
                if (cap > 0)
                    out[0] = '\0';
                return FOLIO_ETOOBIG;
            }
            if (n > 0)
                out[n++] = '/';
            memcpy(out + n, rel + i, c);
            n += c;
        }
        i = j + 1;
    }
    if (n == 0) {
        if (cap < 2) {
            if (cap > 0)
                out[0] = '\0';
            return FOLIO_ETOOBIG;
        }
        out[n++] = '.';
    }
    out[n] = '\0';
    *out_len = n;
    return FOLIO_OK;
}

/* ---- Listings ----------------------------------------------------------------------- */

/* One name: its place in the arena and its length. 8 bytes, so a million names cost
 * 8 MB of index next to the names themselves. */
struct entry {
    uint32_t off;
    uint32_t len;
};

struct folio_dirlist {
    atomic_size_t refs;
    size_t count;
    struct entry *entries;
    char *arena; /* every name, each followed by a NUL */
    size_t arena_len;
};

/* The builder used while reading; both arrays grow geometrically. */
struct builder {
    struct entry *entries;
    size_t count, cap;
    char *arena;
    size_t arena_len, arena_cap;
};

static folio_status builder_add(struct builder *b, const char *name, size_t len)
{
    if (b->count == UINT32_MAX || b->arena_len + len + 1 > UINT32_MAX)
        return FOLIO_ETOOBIG;
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        struct entry *e = folio_realloc(b->entries, cap * sizeof *e);
        if (e == NULL)
            return FOLIO_ENOMEM;
        b->entries = e;
        b->cap = cap;
    }
    if (b->arena_len + len + 1 > b->arena_cap) {
        size_t cap = b->arena_cap ? b->arena_cap : 16384;
        while (cap < b->arena_len + len + 1)
            cap *= 2;
        char *a = folio_realloc(b->arena, cap);
        if (a == NULL)
            return FOLIO_ENOMEM;
        b->arena = a;
        b->arena_cap = cap;
    }
    memcpy(b->arena + b->arena_len, name, len + 1);
    b->entries[b->count].off = (uint32_t)b->arena_len;
    b->entries[b->count].len = (uint32_t)len;
    b->count++;
    b->arena_len += len + 1;
    return FOLIO_OK;
}

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0; /* memcmp must not see a NULL key, even for 0 bytes */
    if (c != 0)
        return c;
    return (alen > blen) - (alen < blen);
}

static int entry_cmp(const void *pa, const void *pb, void *arena)
{
    const struct entry *a = pa, *b = pb;
    const char *base = arena;
    return bytes_cmp(base + a->off, a->len, base + b->off, b->len);
}

/* Is the symbolic link `name` in the listed directory, resolved from the root and
 * beneath it, a regular file? Anything that goes wrong means "no". */
static bool symlink_is_regular_beneath(int root_fd, const char *relpath, size_t relpath_len,
                                       const char *name, size_t name_len)
{
    char path[PATH_MAX];
    size_t n = 0;
    bool is_root = relpath_len == 0 || (relpath_len == 1 && relpath[0] == '.');
    if (!is_root) {
        if (relpath_len + 1 + name_len + 1 > sizeof path)
            return false;
        memcpy(path, relpath, relpath_len);
        n = relpath_len;
        path[n++] = '/';
    } else if (name_len + 1 > sizeof path) {
        return false;
    }
    memcpy(path + n, name, name_len + 1);
    int fd = sys_openat2(root_fd, path, O_PATH | O_CLOEXEC,
                         RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
    if (fd < 0)
        return false;
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
    return ok;
}

static folio_status read_error(struct folio_error *err, int e)
{
    if (e == ENOENT || e == ENOTDIR)
        return folio_error_set(err, FOLIO_ENOTFOUND, FOLIO_KIND_INPUT, "path",
                               "directory removed while being read");
    if (e == EACCES || e == EPERM)
        return folio_error_set(err, FOLIO_ENOTFOUND, FOLIO_KIND_ACCESS, "path",
                               "permission denied");
    return folio_error_set(err, FOLIO_EIO, FOLIO_KIND_INTERNAL, "path", "cannot read directory: %s",
                           strerror(e));
}

/* Decide whether one directory entry belongs in the listing. */
static folio_status consider(struct builder *b, int dir_fd, int root_fd, const char *relpath,
                             size_t relpath_len, unsigned flags, const struct dirent64 *d,
                             struct folio_error *err)
{
    const char *name = d->d_name;
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
        return FOLIO_OK;
    unsigned char type = d->d_type;
    if (type == DT_UNKNOWN) {
        struct stat st;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) /* removed since getdents: not there any more */
                return FOLIO_OK;
            return read_error(err, errno);
        }
        type = S_ISREG(st.st_mode) ? DT_REG : S_ISLNK(st.st_mode) ? DT_LNK : DT_DIR;
    }
    size_t len = strlen(name);
    if (type == DT_LNK && (flags & FOLIO_DIRLIST_FOLLOW_SYMLINKS) &&
        symlink_is_regular_beneath(root_fd, relpath, relpath_len, name, len))
        type = DT_REG;
    if (type != DT_REG)
        return FOLIO_OK;
    folio_status s = builder_add(b, name, len);
    if (s == FOLIO_ETOOBIG)
        return folio_error_set(err, s, FOLIO_KIND_INTERNAL, "path", "directory has too many names");
    if (s != FOLIO_OK)
        return folio_error_set(err, s, FOLIO_KIND_INTERNAL, "",
                               "out of memory listing a directory");
    return FOLIO_OK;
}

static folio_status read_entries(struct builder *b, int dir_fd, int root_fd,
                                 const char *relpath, size_t relpath_len, unsigned flags,
                                 struct folio_error *err)
{
    char *buf = folio_malloc(GETDENTS_BUF_SIZE);
    if (buf == NULL)
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, "", "out of memory");
    folio_status s = FOLIO_OK;
    for (;;) {
        ssize_t n = getdents64(dir_fd, buf, GETDENTS_BUF_SIZE);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            s = read_error(err, errno);
            break;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n && s == FOLIO_OK;) {
            const struct dirent64 *d = (const struct dirent64 *)(buf + off);
            s = consider(b, dir_fd, root_fd, relpath, relpath_len, flags, d, err);
            off += d->d_reclen;
        }
        if (s != FOLIO_OK)
            break;
    }
    folio_free(buf);
    return s;
}

folio_status folio__dirlist_read(int dir_fd, int root_fd, const char *relpath, size_t relpath_len,
                                 unsigned flags, struct folio_dirlist **out_list,
                                 struct folio_error *err)
{
    struct folio_dirlist *list = folio_malloc(sizeof *list);
    if (list == NULL)
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, "", "out of memory");
    struct builder b = {0};
    folio_status s = read_entries(&b, dir_fd, root_fd, relpath, relpath_len, flags, err);
    if (s != FOLIO_OK) {
        folio_free(b.entries);
        folio_free(b.arena);
        folio_free(list);
        return s;
    }
    /* Give back the growth slack: a cached listing should cost what it holds. */
    if (b.count > 0 && b.count < b.cap) {
        struct entry *e = folio_realloc(b.entries, b.count * sizeof *e);
        if (e != NULL) {
            b.entries = e;
            b.cap = b.count;
        }
    }
    if (b.arena_len > 0 && b.arena_len < b.arena_cap) {
        char *a = folio_realloc(b.arena, b.arena_len);
        if (a != NULL) {
            b.arena = a;
            b.arena_cap = b.arena_len;
        }
    }
    if (b.count > 1)
        qsort_r(b.entries, b.count, sizeof *b.entries, entry_cmp, b.arena);
    atomic_init(&list->refs, 1);
    list->count = b.count;
    list->entries = b.entries;
    list->arena = b.arena;
    list->arena_len = b.arena_cap;
    *out_list = list;
    return FOLIO_OK;
}

struct folio_dirlist *folio__dirlist_ref(struct folio_dirlist *list)
{
    atomic_fetch_add_explicit(&list->refs, 1, memory_order_relaxed);
    return list;
}

void folio__dirlist_free(struct folio_dirlist *list)
{
    if (list == NULL)
        return;
    if (atomic_fetch_sub_explicit(&list->refs, 1, memory_order_acq_rel) != 1)
        return;
    folio_free(list->entries);
    folio_free(list->arena);
    folio_free(list);
}

size_t folio__dirlist_count(const struct folio_dirlist *list)
{
    return list->count;
}

const char *folio__dirlist_name(const struct folio_dirlist *list, size_t i, size_t *out_len)
{
    const struct entry *e = &list->entries[i];
    if (out_len != NULL)
        *out_len = e->len;
    return list->arena + e->off;
}

size_t folio__dirlist_after(const struct folio_dirlist *list, const void *key, size_t key_len)
{
    size_t lo = 0, hi = list->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct entry *e = &list->entries[mid];
        if (bytes_cmp(list->arena + e->off, e->len, key, key_len) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t folio__dirlist_bytes(const struct folio_dirlist *list)
{
    return sizeof *list + list->count * sizeof *list->entries + list->arena_len;
}

/* ---- Page arithmetic ---------------------------------------------------------------- */

folio_status folio__page_compute(uint64_t total, uint64_t per_page, int64_t page,
                                 struct folio_page *out)
{
    if (per_page == 0)
        return FOLIO_EINVAL;
    uint64_t pages = total / per_page + (total % per_page != 0);
    if (pages == 0)
        pages = 1;
    uint64_t p = page < 1 ? 1 : (uint64_t)page;
    if (p > pages)
        p = pages;
    /* (p - 1) * per_page < total whenever total > 0, so this cannot overflow. */
    uint64_t first = (p - 1) * per_page;
    uint64_t left = total - first;
    out->page = p;
    out->pages = pages;
    out->per_page = per_page;
    out->total = total;
    out->first = first;
    out->count = left < per_page ? left : per_page;
    return FOLIO_OK;
}

/* ---- Cache -------------------------------------------------------------------------- */

struct cache_key {
    dev_t dev;
    ino_t ino;
    dev_t root_dev; /* 0/0 unless symbolic links are followed */
    ino_t root_ino;
    unsigned flags;
};

/* What must not have changed for a cached listing to be used. */
struct cache_sig {
    struct timespec mtim, ctim;
    ino_t ino;
    off_t size;
    nlink_t nlink;
};

struct cache_entry {
    struct cache_key key;
    struct cache_sig sig;
    struct folio_dirlist *list;
    size_t bytes;
    struct cache_entry *hnext;       /* hash chain */
    struct cache_entry *prev, *next; /* LRU list, most recent first */
};

struct folio_dirlist_cache {
    pthread_mutex_t mu;
    size_t max_bytes;
    int64_t racy_ns;
    struct cache_entry **buckets;
    size_t nbuckets; /* a power of two */
    struct cache_entry *lru_head, *lru_tail;
    struct folio_dirlist_cache_stats stats;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static size_t key_hash(const struct cache_key *k)
{
    uint64_t h = mix64((uint64_t)k->dev);
    h = mix64(h ^ (uint64_t)k->ino);
    h = mix64(h ^ (uint64_t)k->root_dev);
    h = mix64(h ^ (uint64_t)k->root_ino);
    return (size_t)mix64(h ^ k->flags);
}

static bool key_eq(const struct cache_key *a, const struct cache_key *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->root_dev == b->root_dev &&
           a->root_ino == b->root_ino && a->flags == b->flags;
}

static struct cache_sig sig_of(const struct stat *st)
{
    struct cache_sig s = {st->st_mtim, st->st_ctim, st->st_ino, st->st_size, st->st_nlink};
    return s;
}

static bool sig_eq(const struct cache_sig *a, const struct cache_sig *b)
{
    return a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
           a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec &&
           a->ino == b->ino && a->size == b->size && a->nlink == b->nlink;
}

folio_status folio__dirlist_cache_new(size_t max_bytes, int64_t racy_ns,
                                      struct folio_dirlist_cache **out_cache)
{
    struct folio_dirlist_cache *c = folio_calloc(1, sizeof *c);
    if (c == NULL)
        return FOLIO_ENOMEM;
    c->nbuckets = 64;
    c->buckets = folio_calloc(c->nbuckets, sizeof *c->buckets);
    if (c->buckets == NULL) {
        folio_free(c);
        return FOLIO_ENOMEM;
    }
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        folio_free(c->buckets);
        folio_free(c);
        return FOLIO_EIO;
    }
    c->max_bytes = max_bytes ? max_bytes : FOLIO_DIRLIST_CACHE_DEFAULT_BYTES;
    c->racy_ns = racy_ns < 0 ? FOLIO_DIRLIST_RACY_NS_DEFAULT : racy_ns;
    if (c->racy_ns > RACY_NS_MAX) /* keeps is_racy's arithmetic far from overflow */
        c->racy_ns = RACY_NS_MAX;
    *out_cache = c;
    return FOLIO_OK;
}

void folio__dirlist_cache_free(struct folio_dirlist_cache *c)
{
    if (c == NULL)
        return;
    for (struct cache_entry *e = c->lru_head, *next; e != NULL; e = next) {
        next = e->next;
        folio__dirlist_free(e->list);
        folio_free(e);
    }
    pthread_mutex_destroy(&c->mu);
    folio_free(c->buckets);
    folio_free(c);
}

/* The helpers below run with c->mu held. */

static struct cache_entry **bucket_slot(struct folio_dirlist_cache *c, const struct cache_key *k)
{
    struct cache_entry **p = &c->buckets[key_hash(k) & (c->nbuckets - 1)];
    while (*p != NULL && !key_eq(&(*p)->key, k))
        p = &(*p)->hnext;
    return p;
}

static void lru_unlink(struct folio_dirlist_cache *c, struct cache_entry *e)
{
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        c->lru_head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        c->lru_tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(struct folio_dirlist_cache *c, struct cache_entry *e)
{
    e->prev = NULL;
    e->next = c->lru_head;
    if (c->lru_head != NULL)
        c->lru_head->prev = e;
    c->lru_head = e;
    if (c->lru_tail == NULL)
        c->lru_tail = e;
}

static void entry_remove(struct folio_dirlist_cache *c, struct cache_entry *e)
{
    struct cache_entry **slot = bucket_slot(c, &e->key);
    *slot = e->hnext;
    lru_unlink(c, e);
    c->stats.entries--;
    c->stats.bytes -= e->bytes;
    folio__dirlist_free(e->list);
    folio_free(e);
}

/* Double the table when it gets as many entries as buckets; failure is harmless (the
 * chains just get longer). */
static void maybe_grow(struct folio_dirlist_cache *c)
{
    if (c->stats.entries < c->nbuckets)
        return;
    size_t n = c->nbuckets * 2;
    struct cache_entry **b = folio_calloc(n, sizeof *b);
    if (b == NULL)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (struct cache_entry *e = c->buckets[i], *next; e != NULL; e = next) {
            next = e->hnext;
            size_t j = key_hash(&e->key) & (n - 1);
            e->hnext = b[j];
            b[j] = e;
        }
    }
    folio_free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

static void cache_insert(struct folio_dirlist_cache *c, const struct cache_key *k,
                         const struct cache_sig *sig, struct folio_dirlist *list)
{
    size_t bytes = folio__dirlist_bytes(list) + sizeof(struct cache_entry);
    if (bytes > c->max_bytes)
        return;
    struct cache_entry *e = folio_calloc(1, sizeof *e);
    if (e == NULL)
        return; /* not caching is always correct */
    e->key = *k;
    e->sig = *sig;
    e->list = folio__dirlist_ref(list);
    e->bytes = bytes;
    pthread_mutex_lock(&c->mu);
    struct cache_entry *old = *bucket_slot(c, k);
    if (old != NULL)
        entry_remove(c, old);
    while (c->lru_tail != NULL && c->stats.bytes + bytes > c->max_bytes) {
        entry_remove(c, c->lru_tail);
        c->stats.evictions++;
    }
    maybe_grow(c);
    struct cache_entry **slot = bucket_slot(c, k);
    e->hnext = NULL;
    *slot = e;
    lru_push_front(c, e);
    c->stats.entries++;
    c->stats.bytes += bytes;
    pthread_mutex_unlock(&c->mu);
}

/* Was the directory modified so recently, relative to `now`, that a further change in the
 * same timestamp tick could go unseen? A future mtime (clock skew) counts as recent. */
static bool is_racy(const struct timespec *mtim, const struct timespec *now, int64_t racy_ns)
{
    int64_t age_s = (int64_t)now->tv_sec - (int64_t)mtim->tv_sec;
    if (age_s > racy_ns / 1000000000 + 1)
        return false;
    if (age_s < -1)
        return true;
    int64_t age_ns = age_s * 1000000000 + ((int64_t)now->tv_nsec - (int64_t)mtim->tv_nsec);
    return age_ns < racy_ns || age_ns <= 0;
}

folio_status folio__dirlist_cache_get(struct folio_dirlist_cache *c, int root_fd,
                                      const char *relpath, size_t len, unsigned flags,
                                      struct folio_dirlist **out_list, struct folio_error *err)
{
    int dfd;
    folio_status s = folio__dirlist_open_beneath(root_fd, relpath, len, &dfd, err);
    if (s != FOLIO_OK)
        return s;
    struct stat st, rst = {0};
    if (fstat(dfd, &st) != 0 ||
        ((flags & FOLIO_DIRLIST_FOLLOW_SYMLINKS) && fstat(root_fd, &rst) != 0)) {
        int e = errno;
        close(dfd);
        return folio_error_set(err, FOLIO_EIO, FOLIO_KIND_INTERNAL, "path",
                               "cannot stat directory: %s", strerror(e));
    }
    struct cache_key key = {st.st_dev, st.st_ino, rst.st_dev, rst.st_ino, flags};
    struct cache_sig sig = sig_of(&st);

    pthread_mutex_lock(&c->mu);
    struct cache_entry *e = *bucket_slot(c, &key);
    if (e != NULL && sig_eq(&e->sig, &sig)) {
        *out_list = folio__dirlist_ref(e->list);
        lru_unlink(c, e);
        lru_push_front(c, e);
        c->stats.hits++;
        pthread_mutex_unlock(&c->mu);
        close(dfd);
        return FOLIO_OK;
    }
    if (e != NULL)
        entry_remove(c, e); /* stale */
    c->stats.misses++;
    pthread_mutex_unlock(&c->mu);

    /* The clock is read after the fstat that gave `sig` and before reading, so any change
     * the listing could miss carries an mtime no older than the signature's. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct folio_dirlist *list;
    s = folio__dirlist_read(dfd, root_fd, relpath, len, flags, &list, err);
    close(dfd);
    if (s != FOLIO_OK)
        return s;
    if (is_racy(&st.st_mtim, &now, c->racy_ns)) {
        pthread_mutex_lock(&c->mu);
        c->stats.racy++;
        pthread_mutex_unlock(&c->mu);
    } else {
        cache_insert(c, &key, &sig, list);
    }
    *out_list = list;
    return FOLIO_OK;
}

void folio__dirlist_cache_stats(struct folio_dirlist_cache *c,
                                struct folio_dirlist_cache_stats *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->stats;
    pthread_mutex_unlock(&c->mu);
}
