/* Moving files into numbered batch folders, idempotently: see fs/batch.h. */
#include "fs/batch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "folio/alloc.h"

#define BATCH_PREFIX "batch-"
#define BATCH_PREFIX_LEN 6
#define BATCH_MIN_DIGITS 4
#define SCAN_BUF_SIZE ((size_t)64 << 10)

size_t folio__batch_dirname(uint64_t batch, char *out, size_t cap)
{
    int n = snprintf(out, cap, BATCH_PREFIX "%04" PRIu64, batch);
    return n < 0 ? 0 : (size_t)n;
}

/* Length of the run of digits after the prefix, or 0 if `name` is not prefix+digits. */
static size_t batch_digits(const char *name)
{
    if (strncmp(name, BATCH_PREFIX, BATCH_PREFIX_LEN) != 0)
        return 0;
    const char *d = name + BATCH_PREFIX_LEN;
    size_t n = 0;
    while (d[n] >= '0' && d[n] <= '9')
        n++;
    return d[n] == '\0' ? n : 0;
}

bool folio__batch_name_reserved(const char *name)
{
    return batch_digits(name) >= BATCH_MIN_DIGITS;
}

bool folio__batch_parse_dirname(const char *name, uint64_t *out)
{
    size_t n = batch_digits(name);
    if (n < BATCH_MIN_DIGITS || n > 20)
        return false;
    uint64_t v = 0;
    for (const char *d = name + BATCH_PREFIX_LEN; *d; d++) {
        unsigned digit = (unsigned)(*d - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    /* Canonical spelling only: the name must be what we would write for v. */
    char canon[FOLIO_BATCH_DIRNAME_MAX];
    if (v == 0 || folio__batch_dirname(v, canon, sizeof canon) != BATCH_PREFIX_LEN + n ||
        strcmp(canon, name) != 0)
        return false;
    *out = v;
    return true;
}

static folio_status sys_error(struct folio_error *err, int e, const char *what,
                              const char *name)
{
    folio_status s = FOLIO_EIO;
    enum folio_error_kind kind = FOLIO_KIND_INTERNAL;
    if (e == ENOENT || e == ENOTDIR) {
        s = FOLIO_ENOTFOUND;
        kind = FOLIO_KIND_INPUT;
    } else if (e == EACCES || e == EPERM || e == EROFS) {
        s = FOLIO_ENOTFOUND;
        kind = FOLIO_KIND_ACCESS;
    } else if (e == ENOMEM) {
        s = FOLIO_ENOMEM;
    }
    return folio_error_set(err, s, kind, "", "%s %s: %s", what, name, strerror(e));
}

folio_status folio__batch_lock(int dir_fd, struct folio_error *err)
{
    while (flock(dir_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK)
            return folio_error_set(err, FOLIO_EBUSY, FOLIO_KIND_STATE, "",
                                   "another folio batch is running on this directory");
        return sys_error(err, errno, "cannot lock", "the directory");
    }
    return FOLIO_OK;
}

/* ---- Planning ------------------------------------------------------------------------ */

/* What the top level holds besides regular files: the highest batch folder and the batch
 * names taken by things that are not directories. */
struct top_scan {
    uint64_t highest; /* 0: no batch folder */
    uint64_t *blocked;
    size_t nblocked, capblocked;
};

static folio_status scan_entry(struct top_scan *t, int dir_fd, const struct dirent64 *d)
{
    uint64_t num;
    if (!folio__batch_parse_dirname(d->d_name, &num))
        return FOLIO_OK;
    unsigned char type = d->d_type;
    if (type == DT_UNKNOWN) {
        struct stat st;
        if (fstatat(dir_fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            return errno == ENOENT ? FOLIO_OK : FOLIO_EIO;
        type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
    }
    if (type == DT_DIR) {
        if (num > t->highest)
            t->highest = num;
        return FOLIO_OK;
    }
    if (t->nblocked == t->capblocked) {
        size_t cap = t->capblocked ? t->capblocked * 2 : 8;
        uint64_t *b = folio_realloc(t->blocked, cap * sizeof *b);
        if (b == NULL)
            return FOLIO_ENOMEM;
        t->blocked = b;
        t->capblocked = cap;
    }
    t->blocked[t->nblocked++] = num;
    return FOLIO_OK;
}

/* Call `fn` for every entry of the directory `dir_fd` (read through a fresh descriptor,
 * so dir_fd's offset does not matter). Also counts the entries other than . and .. */
static folio_status scan_dir(int dir_fd, struct top_scan *t, uint64_t *out_count,
                             struct folio_error *err)
{
    int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return sys_error(err, errno, "cannot open", "directory");
    char *buf = folio_malloc(SCAN_BUF_SIZE);
    if (buf == NULL) {
        close(fd);
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, "", "out of memory");
    }
    folio_status s = FOLIO_OK;
    uint64_t count = 0;
    for (;;) {
        ssize_t n = getdents64(fd, buf, SCAN_BUF_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            s = sys_error(err, errno, "cannot read", "directory");
            break;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n && s == FOLIO_OK;) {
            const struct dirent64 *d = (const struct dirent64 *)(buf + off);
            off += d->d_reclen;
            if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
                continue;
            count++;
            if (t != NULL && (s = scan_entry(t, fd, d)) != FOLIO_OK)
                s = folio_error_set(err, s, FOLIO_KIND_INTERNAL, "", "cannot examine %s",
                                    d->d_name);
        }
        if (s != FOLIO_OK)
            break;
    }
    folio_free(buf);
    close(fd);
    if (out_count != NULL)
        *out_count = count;
    return s;
}

static folio_status open_batch_dir(int dir_fd, uint64_t batch, int *out_fd,
                                   struct folio_error *err)
{
    char name[FOLIO_BATCH_DIRNAME_MAX];
    folio__batch_dirname(batch, name, sizeof name);
    /* O_NOFOLLOW: a batch folder replaced by a symbolic link must not send files away. */
    int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return sys_error(err, errno == ELOOP ? ENOTDIR : errno, "cannot open", name);
    *out_fd = fd;
    return FOLIO_OK;
}

static folio_status add_conflict(struct folio_batch_plan *p, size_t *cap,
                                 enum folio_batch_conflict_kind kind, uint64_t batch,
                                 size_t file)
{
    if (p->nconflicts == *cap) {
        size_t n = *cap ? *cap * 2 : 16;
        struct folio_batch_conflict *c = folio_realloc(p->conflicts, n * sizeof *c);
        if (c == NULL)
            return FOLIO_ENOMEM;
        p->conflicts = c;
        *cap = n;
    }
    p->conflicts[p->nconflicts++] = (struct folio_batch_conflict){kind, batch, file};
    return FOLIO_OK;
}

/* Is the top-level `name` also in the folder `bfd`? *out_same tells whether both names
 * are the same file (an interrupted link+unlink), *out_taken whether another file has
 * that name there. */
static folio_status probe_last(int dir_fd, int bfd, const char *name, bool *out_same,
                               bool *out_taken, struct folio_error *err)
{
    struct stat in_batch, top;
    *out_same = *out_taken = false;
    if (fstatat(bfd, name, &in_batch, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            return FOLIO_OK;
        return sys_error(err, errno, "cannot examine", name);
    }
    if (fstatat(dir_fd, name, &top, AT_SYMLINK_NOFOLLOW) != 0)
        return sys_error(err, errno, "cannot examine", name);
    if (in_batch.st_dev == top.st_dev && in_batch.st_ino == top.st_ino)
        *out_same = true;
    else
        *out_taken = true;
    return FOLIO_OK;
}

/* Sort the files into skipped, finish and moves, noting names taken in batch-H. */
static folio_status classify(int dir_fd, int bfd, struct folio_batch_plan *p, bool *taken,
                             struct folio_error *err)
{
    size_t n = folio__dirlist_count(p->files);
    for (size_t i = 0; i < n; i++) {
        const char *name = folio__dirlist_name(p->files, i, NULL);
        if (folio__batch_name_reserved(name)) {
            p->skipped[p->nskipped++] = i;
            continue;
        }
        bool same = false, other = false;
        if (bfd >= 0) {
            folio_status s = probe_last(dir_fd, bfd, name, &same, &other, err);
            if (s != FOLIO_OK)
                return s;
        }
        if (same) {
            p->finish[p->nfinish++] = i;
            continue;
        }
        taken[p->nmoves] = other;
        p->moves[p->nmoves++] = i;
    }
    return FOLIO_OK;
}

static folio_status find_conflicts(struct folio_batch_plan *p, const struct top_scan *t,
                                   const bool *taken, struct folio_error *err)
{
    size_t cap = 0;
    folio_status s = FOLIO_OK;
    for (size_t k = 0; k < p->nmoves && s == FOLIO_OK; k++)
        if (taken[k] && p->first_exists && folio__batch_plan_target(p, k) == p->first_batch)
            s = add_conflict(p, &cap, FOLIO_BATCH_NAME_TAKEN, p->first_batch, p->moves[k]);
    uint64_t first_new = p->first_exists ? p->first_batch + 1 : p->first_batch;
    for (size_t b = 0; b < t->nblocked && s == FOLIO_OK && p->nmoves > 0; b++)
        if (t->blocked[b] >= first_new && t->blocked[b] <= p->last_batch)
            s = add_conflict(p, &cap, FOLIO_BATCH_NOT_A_DIR, t->blocked[b], SIZE_MAX);
    if (s != FOLIO_OK)
        return folio_error_set(err, s, FOLIO_KIND_INTERNAL, "", "out of memory");
    return FOLIO_OK;
}

uint64_t folio__batch_plan_target(const struct folio_batch_plan *p, size_t k)
{
    if (k < p->first_room)
        return p->first_batch;
    return p->first_batch + 1 + (uint64_t)(k - p->first_room) / p->size;
}

static folio_status plan_fill(int dir_fd, struct folio_batch_plan *p, struct folio_error *err)
{
    struct top_scan t = {0};
    folio_status s = scan_dir(dir_fd, &t, NULL, err);
    int bfd = -1;
    uint64_t in_last = 0;
    if (s == FOLIO_OK && t.highest > 0) {
        s = open_batch_dir(dir_fd, t.highest, &bfd, err);
        if (s == FOLIO_OK)
            s = scan_dir(bfd, NULL, &in_last, err);
    }
    int list_fd = -1;
    if (s == FOLIO_OK) {
        list_fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (list_fd < 0)
            s = sys_error(err, errno, "cannot open", "directory");
    }
    if (s == FOLIO_OK)
        s = folio__dirlist_read(list_fd, -1, NULL, 0, 0, &p->files, err);
    if (list_fd >= 0)
        close(list_fd);
    bool *taken = NULL;
    if (s == FOLIO_OK) {
        size_t n = folio__dirlist_count(p->files);
        p->moves = folio_calloc(n, sizeof *p->moves);
        p->finish = folio_calloc(n, sizeof *p->finish);
        p->skipped = folio_calloc(n, sizeof *p->skipped);
        taken = folio_calloc(n, sizeof *taken);
        if (p->moves == NULL || p->finish == NULL || p->skipped == NULL || taken == NULL)
            s = folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, "", "out of memory");
    }
    if (s == FOLIO_OK)
        s = classify(dir_fd, bfd, p, taken, err);
    if (s == FOLIO_OK) {
        p->finish_batch = t.highest;
        if (t.highest > 0 && in_last < p->size) {
            p->first_batch = t.highest;
            p->first_room = p->size - in_last;
            p->first_exists = true;
        } else {
            p->first_batch = t.highest + 1;
            p->first_room = p->size;
        }
        p->last_batch = p->nmoves ? folio__batch_plan_target(p, p->nmoves - 1) : 0;
        s = find_conflicts(p, &t, taken, err);
    }
    if (bfd >= 0)
        close(bfd);
    folio_free(taken);
    folio_free(t.blocked);
    return s;
}

folio_status folio__batch_plan_new(int dir_fd, uint64_t size, struct folio_batch_plan **out_plan,
                                   struct folio_error *err)
{
    if (size == 0)
        return folio_error_set(err, FOLIO_EINVAL, FOLIO_KIND_INPUT, "size",
                               "batch size must be at least 1");
    struct folio_batch_plan *p = folio_calloc(1, sizeof *p);
    if (p == NULL)
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_INTERNAL, "", "out of memory");
    p->size = size;
    folio_status s = plan_fill(dir_fd, p, err);
    if (s != FOLIO_OK) {
        folio__batch_plan_free(p);
        return s;
    }
    *out_plan = p;
    return FOLIO_OK;
}

void folio__batch_plan_free(struct folio_batch_plan *p)
{
    if (p == NULL)
        return;
    folio__dirlist_free(p->files);
    folio_free(p->moves);
    folio_free(p->finish);
    folio_free(p->skipped);
    folio_free(p->conflicts);
    folio_free(p);
}

/* ---- Applying ------------------------------------------------------------------------ */

static folio_status sync_dir(int fd, const char *name, struct folio_error *err)
{
    if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
        return sys_error(err, errno, "cannot sync", name);
    return FOLIO_OK;
}

/* Remove the top-level name of a file whose other name in batch-H is the same file. The
 * identity is checked again now, just before the unlink. */
static folio_status finish_one(int dir_fd, int bfd, const char *name, struct folio_error *err)
{
    bool same, other;
    folio_status s = probe_last(dir_fd, bfd, name, &same, &other, err);
    if (s != FOLIO_OK)
        return s;
    if (!same)
        return folio_error_set(err, FOLIO_ECONFLICT, FOLIO_KIND_STATE, "",
                               "%s changed during the run; not touched", name);
    if (unlinkat(dir_fd, name, 0) != 0)
        return sys_error(err, errno, "cannot remove", name);
    return FOLIO_OK;
}

static folio_status move_one(int dir_fd, int bfd, const char *bname, const char *name,
                             bool *link_mode, struct folio_error *err)
{
    if (!*link_mode) {
        if (renameat2(dir_fd, name, bfd, name, RENAME_NOREPLACE) == 0)
            return FOLIO_OK;
        if (errno != EINVAL && errno != ENOSYS)
            goto fail;
        *link_mode = true; /* this filesystem has no RENAME_NOREPLACE */
    }
    if (linkat(dir_fd, name, bfd, name, 0) != 0)
        goto fail;
    /* From here until the unlink, a crash leaves the file under two names, which the next
     * plan recognises (see probe_last). */
    if (unlinkat(dir_fd, name, 0) != 0)
        goto fail;
    return FOLIO_OK;
fail:
    if (errno == EEXIST)
        return folio_error_set(err, FOLIO_ECONFLICT, FOLIO_KIND_STATE, "",
                               "%s/%s already exists; not overwritten", bname, name);
    return sys_error(err, errno, "cannot move", name);
}

/* Open (creating it if the plan says so) the folder for `batch`. */
static folio_status enter_batch(int dir_fd, const struct folio_batch_plan *p, uint64_t batch,
                                int *out_fd, struct folio_batch_result *r,
                                struct folio_error *err)
{
    char name[FOLIO_BATCH_DIRNAME_MAX];
    folio__batch_dirname(batch, name, sizeof name);
    if (!(p->first_exists && batch == p->first_batch)) {
        if (mkdirat(dir_fd, name, 0777) == 0) {
            r->created++;
            /* Make the folder durable before anything moves into it. */
            folio_status s = sync_dir(dir_fd, "the directory", err);
            if (s != FOLIO_OK)
                return s;
        } else if (errno != EEXIST) {
            return sys_error(err, errno, "cannot create", name);
        }
    }
    int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && (errno == ENOTDIR || errno == ELOOP))
        return folio_error_set(err, FOLIO_ECONFLICT, FOLIO_KIND_STATE, "", "%s is not a directory",
                               name);
    if (fd < 0)
        return sys_error(err, errno, "cannot open", name);
    *out_fd = fd;
    return FOLIO_OK;
}

static folio_status leave_batch(int *bfd, uint64_t batch, struct folio_error *err)
{
    if (*bfd < 0)
        return FOLIO_OK;
    char name[FOLIO_BATCH_DIRNAME_MAX];
    folio__batch_dirname(batch, name, sizeof name);
    folio_status s = sync_dir(*bfd, name, err);
    close(*bfd);
    *bfd = -1;
    return s;
}

static folio_status apply_finish(int dir_fd, const struct folio_batch_plan *p,
                                 struct folio_batch_result *r, struct folio_error *err)
{
    if (p->nfinish == 0)
        return FOLIO_OK;
    int bfd = -1;
    folio_status s = open_batch_dir(dir_fd, p->finish_batch, &bfd, err);
    for (size_t i = 0; i < p->nfinish && s == FOLIO_OK; i++) {
        s = finish_one(dir_fd, bfd, folio__dirlist_name(p->files, p->finish[i], NULL), err);
        if (s == FOLIO_OK)
            r->finished++;
    }
    if (s == FOLIO_OK)
        s = sync_dir(dir_fd, "the directory", err);
    if (bfd >= 0)
        close(bfd);
    return s;
}

folio_status folio__batch_apply(int dir_fd, const struct folio_batch_plan *p, unsigned flags,
                                struct folio_batch_result *out, struct folio_error *err)
{
    struct folio_batch_result r = {0};
    if (out != NULL)
        *out = r;
    if (p->nconflicts > 0)
        return folio_error_set(err, FOLIO_ECONFLICT, FOLIO_KIND_STATE, "",
                               "the plan has %zu conflicts; nothing done", p->nconflicts);
    folio_status s = apply_finish(dir_fd, p, &r, err);
    bool link_mode = (flags & FOLIO_BATCH_LINK_UNLINK) != 0;
    int bfd = -1;
    uint64_t current = 0;
    char bname[FOLIO_BATCH_DIRNAME_MAX] = "";
    for (size_t k = 0; k < p->nmoves && s == FOLIO_OK; k++) {
        uint64_t batch = folio__batch_plan_target(p, k);
        if (batch != current) {
            s = leave_batch(&bfd, current, err);
            if (s == FOLIO_OK)
                s = enter_batch(dir_fd, p, batch, &bfd, &r, err);
            if (s != FOLIO_OK)
                break;
            current = batch;
            folio__batch_dirname(batch, bname, sizeof bname);
        }
        s = move_one(dir_fd, bfd, bname, folio__dirlist_name(p->files, p->moves[k], NULL),
                     &link_mode, err);
        if (s == FOLIO_OK)
            r.moved++;
    }
    struct folio_error ignored;
    folio_status s2 = leave_batch(&bfd, current, s == FOLIO_OK ? err : &ignored);
    if (s == FOLIO_OK)
        s = s2;
    if (s == FOLIO_OK && r.moved > 0)
        s = sync_dir(dir_fd, "the directory", err);
    r.used_link_fallback = link_mode && r.moved > 0;
    if (out != NULL)
        *out = r;
    return s;
}
