/* Fuzz target: the file pager's path resolution (src/fs/dirlist.c): the input is a path
 * below a root, as GET /files/{path} hands it over. A small tree is built once in a fresh
 * temporary directory: subdirectories (".x", "...", "a b" among them), a file, links that
 * stay inside (to a directory, to "..", to a file) and links that leave (to "..", to "/",
 * to a directory beside the root, a loop). Invariants (a violation traps):
 *  - a path that is absolute, holds a NUL byte or has a ".." component is refused as
 *    malformed (FOLIO_EINVAL, 400) whatever the filesystem holds;
 *  - otherwise the answer is a directory of the tree below the root (never the directory
 *    beside it, never "/") or FOLIO_EINVAL / FOLIO_ENOTFOUND (404): nothing else;
 *  - the normalized spelling is canonical (no empty or "." component, no leading or
 *    trailing '/', "." only for the root), normalizing is idempotent, and the path and
 *    its spelling resolve to the same directory or the same refusal;
 *  - a listing of a resolved directory holds only names that, resolved beneath the
 *    root, are regular files, in strictly increasing bytewise order. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs/dirlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base[512];
static int root_fd = -1;
static struct stat inside[16];
static size_t ninside;

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void cleanup(void)
{
    if (root_fd >= 0)
        close(root_fd);
    nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void must(int ok)
{
    if (!ok)
        __builtin_trap();
}

static void mk(const char *rel, int dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    if (dir) {
        must(mkdir(p, 0755) == 0);
    } else {
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
        must(fd >= 0);
        close(fd);
    }
}

static void ln(const char *target, const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    must(symlink(target, p) == 0);
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(base, sizeof base, "%s/folio-fuzz-path-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    must(mkdtemp(base) != NULL);
    atexit(cleanup);
    static const char *const dirs[] = {"root",     "root/a",   "root/a/b", "root/a/b/c", "root/.x",
                                       "root/...", "root/a b", "outside",  "outside/in"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        mk(dirs[i], 1);
    mk("root/f", 0);
    mk("root/a/file1", 0);
    mk("outside/s.txt", 0);
    ln("a", "root/in");
    ln("a/b", "root/inb");
    ln("..", "root/up");
    ln("/", "root/abs");
    ln("../outside", "root/out");
    ln("loop", "root/loop");
    ln("..", "root/a/upin");     /* the root: inside */
    ln("../..", "root/a/b/up2"); /* the root: inside */
    ln("../..", "root/a/esc");   /* beside the root */
    ln("file1", "root/a/lf");    /* a file inside: listed */
    ln("../f", "root/a/lf2");    /* a file inside: listed */
    ln("../../outside/s.txt", "root/a/lout");
    ln("/etc/passwd", "root/a/labs");
    ln("b", "root/a/ldir");
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/root", base);
    root_fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    must(root_fd >= 0);
    static const char *const in[] = {"root",    "root/a",   "root/a/b", "root/a/b/c",
                                     "root/.x", "root/...", "root/a b"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", base, in[i]);
        must(stat(p, &inside[ninside++]) == 0);
    }
}

static bool malformed(const char *p, size_t len)
{
    if (memchr(p, '\0', len) != NULL || (len > 0 && p[0] == '/') || len >= PATH_MAX)
        return true;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && p[j] != '/')
            j++;
        if (j - i == 2 && p[i] == '.' && p[i + 1] == '.')
            return true;
        i = j + 1;
    }
    return false;
}

/* Resolve; on success return the index of the directory in inside[], else -1 - status. */
static int resolve(const char *p, size_t len, int *out_fd)
{
    int fd = -1;
    struct folio_error err = {0};
    folio_status st = folio__dirlist_open_beneath(root_fd, p, len, &fd, &err);
    *out_fd = -1;
    if (st != FOLIO_OK) {
        if (malformed(p, len) && (st != FOLIO_EINVAL || err.kind != FOLIO_KIND_INPUT))
            __builtin_trap();
        if (st != FOLIO_EINVAL && !(st == FOLIO_ENOTFOUND && err.kind == FOLIO_KIND_INPUT))
            __builtin_trap();
        if (st == FOLIO_EINVAL && err.kind != FOLIO_KIND_INPUT)
            __builtin_trap();
        return -1 - (int)st;
    }
    if (malformed(p, len))
        __builtin_trap();
    struct stat sb;
    must(fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode));
    for (size_t i = 0; i < ninside; i++)
        if (inside[i].st_dev == sb.st_dev && inside[i].st_ino == sb.st_ino) {
            *out_fd = fd;
            return (int)i;
        }
    __builtin_trap(); /* a directory outside the root */
}

static void check_listing(int fd, const char *rel, size_t len)
{
    struct folio_dirlist *list;
    struct folio_error err;
    if (folio__dirlist_read(fd, root_fd, rel, len, FOLIO_DIRLIST_FOLLOW_SYMLINKS, &list, &err) !=
        FOLIO_OK)
        __builtin_trap();
    for (size_t i = 0; i < folio__dirlist_count(list); i++) {
        size_t n;
        const char *name = folio__dirlist_name(list, i, &n);
        char p[PATH_MAX * 2];
        if (len == 0)
            snprintf(p, sizeof p, "%s", name);
        else
            snprintf(p, sizeof p, "%.*s/%s", (int)len, rel, name);
        struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                               .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
        int f = (int)syscall(SYS_openat2, root_fd, p, &how, sizeof how);
        struct stat sb;
        must(f >= 0 && fstat(f, &sb) == 0 && S_ISREG(sb.st_mode));
        close(f);
        if (i > 0) {
            size_t pn;
            const char *prev = folio__dirlist_name(list, i - 1, &pn);
            int c = memcmp(prev, name, pn < n ? pn : n);
            must(c < 0 || (c == 0 && pn < n));
        }
    }
    folio__dirlist_free(list);
}

static void check_canonical(const char *s, size_t n)
{
    if (n == 0 || memchr(s, '\0', n) != NULL)
        must(0);
    if (n == 1 && s[0] == '.')
        return;
    must(s[0] != '/' && s[n - 1] != '/');
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] != '/')
            j++;
        must(j > i && !(j - i == 1 && s[i] == '.'));
        i = j + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (root_fd < 0)
        setup();
    if (size > 2 * PATH_MAX)
        return 0;
    const char *p = (const char *)data;
    int fd;
    int r = resolve(p, size, &fd);
    if (fd >= 0) {
        check_listing(fd, p, size);
        close(fd);
    }

    /* One spelling: what /files uses for links, fingerprints and the lookup itself. */
    static char norm[PATH_MAX], again[PATH_MAX];
    size_t nlen, alen;
    if (folio__dirlist_path_normalize(p, size, norm, sizeof norm, &nlen) != FOLIO_OK)
        return 0;
    if (nlen != strlen(norm) && memchr(p, '\0', size) == NULL)
        __builtin_trap();
    if (memchr(norm, '\0', nlen) == NULL)
        check_canonical(norm, nlen);
    if (folio__dirlist_path_normalize(norm, nlen, again, sizeof again, &alen) != FOLIO_OK ||
        alen != nlen || memcmp(again, norm, nlen) != 0)
        __builtin_trap();
    int nfd;
    int rn = resolve(norm, nlen, &nfd);
    if (nfd >= 0)
        close(nfd);
    if (size < PATH_MAX && (size == 0 || p[0] != '/') && rn != r)
        __builtin_trap();
    return 0;
}
