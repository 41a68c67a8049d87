/* Unit tests for src/fs/dirlist.c: sorting, what is listed, page arithmetic, cursor
 * lookup, confinement beneath a root, the cache's invalidation and eviction, and clean
 * failure when allocations fail. Each test builds its own tree under a fresh temporary
 * directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "folio/alloc.h"
#include "fs/dirlist.h"
#include "server/http.h"

struct fixture {
    char root[64];
    int root_fd;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        return rmdir(path);
    return unlink(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->root, "/tmp/folio-dirlist-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    f->root_fd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(f->root_fd >= 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close(f->root_fd);
    nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void touch_at(int dirfd, const char *name, const char *content)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    if (content != NULL)
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
}

static int open_dir_at(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

static struct folio_dirlist *read_list(int dir_fd, int root_fd, const char *rel, unsigned flags)
{
    struct folio_dirlist *list = NULL;
    struct folio_error err = {0};
    folio_status s =
        folio__dirlist_read(dir_fd, root_fd, rel, rel ? strlen(rel) : 0, flags, &list, &err);
    if (s != FOLIO_OK)
        fail_msg("folio__dirlist_read: %s (%s)", folio_strerror(s), err.detail);
    return list;
}

/* The listing, joined with '|', for compact comparisons. */
static void joined(const struct folio_dirlist *list, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < folio__dirlist_count(list); i++) {
        size_t len;
        const char *name = folio__dirlist_name(list, i, &len);
        assert_int_equal(strlen(name), len);
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "|" : "", name);
        assert_true(n < cap);
    }
}

/* Set the directory's mtime an hour back, so the cache judges it quiet (not racy). */
static void age_dir(int dirfd)
{
    struct timespec ts[2];
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec -= 3600;
    ts[1] = ts[0];
    assert_int_equal(futimens(dirfd, ts), 0);
}

/* ---- Listings ---------------------------------------------------------------------- */

static void test_names_are_sorted_bytewise(void **state)
{
    struct fixture *f = *state;
    const char *names[] = {"b", "a", "B", "a0", "\xff", "\xc3\xa9", "a\x01", "_", "aa", ".h"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        touch_at(f->root_fd, names[i], NULL);
    int dfd = open_dir_at(f->root_fd, ".");
    struct folio_dirlist *list = read_list(dfd, -1, NULL, 0);
    close(dfd);
    char got[256];
    joined(list, got, sizeof got);
    assert_string_equal(got, ".h|B|_|a|a\x01|a0|aa|b|\xc3\xa9|\xff");
    folio__dirlist_free(list);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Thousands of names force the arena and index to grow many times; the result must equal
 * an independent sort. */
static void test_many_names_match_reference_sort(void **state)
{
    struct fixture *f = *state;
    enum { N = 20000 };
    static char buf[N][24];
    static char *ref[N];
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        snprintf(buf[i], sizeof buf[i], "%c%u-%d", 'a' + (int)(seed >> 16) % 26, seed % 977, i);
        ref[i] = buf[i];
        touch_at(f->root_fd, buf[i], NULL);
    }
    qsort(ref, N, sizeof ref[0], cmp_cstr);
    int dfd = open_dir_at(f->root_fd, ".");
    struct folio_dirlist *list = read_list(dfd, -1, NULL, 0);
    close(dfd);
    assert_int_equal(folio__dirlist_count(list), N);
    for (int i = 0; i < N; i++)
        assert_string_equal(folio__dirlist_name(list, (size_t)i, NULL), ref[i]);
    folio__dirlist_free(list);
}

static void test_only_regular_files_are_listed(void **state)
{
    struct fixture *f = *state;
    touch_at(f->root_fd, "outside.txt", "x");
    assert_int_equal(mkdirat(f->root_fd, "d", 0755), 0);
    int d = open_dir_at(f->root_fd, "d");
    touch_at(d, "file", "x");
    assert_int_equal(mkdirat(d, "subdir", 0755), 0);
    assert_int_equal(mkfifoat(d, "fifo", 0644), 0);
    assert_int_equal(symlinkat("subdir", d, "link-to-dir"), 0);
    assert_int_equal(symlinkat("file", d, "link-to-file"), 0);
    assert_int_equal(symlinkat("nowhere", d, "link-dangling"), 0);
    assert_int_equal(symlinkat("../outside.txt", d, "link-up-inside-root"), 0);
    assert_int_equal(symlinkat("/etc/passwd", d, "link-absolute"), 0);
    assert_int_equal(symlinkat("../../../../../../../../etc/passwd", d, "link-escape"), 0);
    assert_int_equal(symlinkat("link-loop", d, "link-loop"), 0);

    char got[512];
    struct folio_dirlist *plain = read_list(d, -1, NULL, 0);
    joined(plain, got, sizeof got);
    assert_string_equal(got, "file");
    folio__dirlist_free(plain);

    /* Following links, from the root: targets beneath the root count, others do not. */
    int d2 = open_dir_at(f->root_fd, "d");
    struct folio_dirlist *follow = read_list(d2, f->root_fd, "d", FOLIO_DIRLIST_FOLLOW_SYMLINKS);
    joined(follow, got, sizeof got);
    assert_string_equal(got, "file|link-to-file|link-up-inside-root");
    folio__dirlist_free(follow);
    close(d2);

    /* With d itself as the root, ../outside.txt escapes and is left out. */
    int d3 = open_dir_at(f->root_fd, "d");
    follow = read_list(d3, d, ".", FOLIO_DIRLIST_FOLLOW_SYMLINKS);
    joined(follow, got, sizeof got);
    assert_string_equal(got, "file|link-to-file");
    folio__dirlist_free(follow);
    close(d3);
    close(d);
}

static void test_empty_directory_lists_nothing(void **state)
{
    struct fixture *f = *state;
    int dfd = open_dir_at(f->root_fd, ".");
    struct folio_dirlist *list = read_list(dfd, -1, NULL, 0);
    close(dfd);
    assert_int_equal(folio__dirlist_count(list), 0);
    assert_int_equal(folio__dirlist_after(list, "a", 1), 0);
    folio__dirlist_free(list);
}

/* ---- Pages and cursors ---------------------------------------------------------------- */

static void check_page(uint64_t total, uint64_t per_page, int64_t page, uint64_t want_page,
                       uint64_t want_pages, uint64_t want_first, uint64_t want_count)
{
    struct folio_page p;
    assert_int_equal(folio__page_compute(total, per_page, page, &p), FOLIO_OK);
    assert_int_equal(p.page, want_page);
    assert_int_equal(p.pages, want_pages);
    assert_int_equal(p.first, want_first);
    assert_int_equal(p.count, want_count);
    assert_int_equal(p.total, total);
    assert_int_equal(p.per_page, per_page);
}

static void test_page_math_counts_and_clamps(void **state)
{
    (void)state;
    check_page(0, 50, 1, 1, 1, 0, 0);   /* no files: still one (empty) page */
    check_page(0, 50, 7, 1, 1, 0, 0);   /* clamped down */
    check_page(120, 50, 1, 1, 3, 0, 50);
    check_page(120, 50, 3, 3, 3, 100, 20);
    check_page(120, 50, 4, 3, 3, 100, 20);  /* past the end: last page */
    check_page(120, 50, 0, 1, 3, 0, 50);    /* before the start: first page */
    check_page(120, 50, -9, 1, 3, 0, 50);
    check_page(100, 50, 2, 2, 2, 50, 50);   /* exact multiple: no empty trailing page */
    check_page(101, 50, 3, 3, 3, 100, 1);
    check_page(1, 1, INT64_MAX, 1, 1, 0, 1);
    check_page(UINT64_MAX, 1, INT64_MAX, (uint64_t)INT64_MAX, UINT64_MAX,
               (uint64_t)INT64_MAX - 1, 1);
    check_page(5, UINT64_MAX, 1, 1, 1, 0, 5);
    struct folio_page p = {0};
    assert_int_equal(folio__page_compute(10, 0, 1, &p), FOLIO_EINVAL);
}

static void test_after_finds_first_name_greater_than_key(void **state)
{
    struct fixture *f = *state;
    const char *names[] = {"a", "ab", "b", "c\xff", "d"};
    for (size_t i = 0; i < 5; i++)
        touch_at(f->root_fd, names[i], NULL);
    int dfd = open_dir_at(f->root_fd, ".");
    struct folio_dirlist *list = read_list(dfd, -1, NULL, 0);
    close(dfd);
    assert_int_equal(folio__dirlist_after(list, "", 0), 0);
    assert_int_equal(folio__dirlist_after(list, NULL, 0), 0);
    assert_int_equal(folio__dirlist_after(list, "a", 1), 1);
    assert_int_equal(folio__dirlist_after(list, "aa", 2), 1);
    assert_int_equal(folio__dirlist_after(list, "ab", 2), 2);
    assert_int_equal(folio__dirlist_after(list, "abc", 3), 2);
    assert_int_equal(folio__dirlist_after(list, "c", 1), 3);
    assert_int_equal(folio__dirlist_after(list, "c\xff", 2), 4);
    assert_int_equal(folio__dirlist_after(list, "c\xff\xff", 3), 4);
    assert_int_equal(folio__dirlist_after(list, "d", 1), 5);
    assert_int_equal(folio__dirlist_after(list, "\xff", 1), 5);
    /* A key with an embedded NUL compares by its bytes, not as a C string. */
    assert_int_equal(folio__dirlist_after(list, "a\0z", 3), 1);
    folio__dirlist_free(list);
}

/* ---- Confinement --------------------------------------------------------------------- */

static folio_status open_rel(struct fixture *f, const char *rel, size_t len, int *http)
{
    struct folio_error err = {0};
    int fd = -1;
    folio_status s = folio__dirlist_open_beneath(f->root_fd, rel, len, &fd, &err);
    if (s == FOLIO_OK) {
        assert_true(fd >= 0);
        close(fd);
        *http = 200;
    } else {
        assert_int_equal(err.status, s);
        *http = folio__problem_status(&err); /* what the files handler answers */
    }
    return s;
}

static void expect_open(struct fixture *f, const char *rel, folio_status want, int want_http)
{
    int http = 0;
    folio_status s = open_rel(f, rel, strlen(rel), &http);
    if (s != want || http != want_http)
        fail_msg("open '%s': got %s/%d, want %s/%d", rel, folio_strerror(s), http,
                 folio_strerror(want), want_http);
}

static void test_confinement_rejects_escapes(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mkdirat(f->root_fd, "in", 0755), 0);
    int in = open_dir_at(f->root_fd, "in");
    assert_int_equal(mkdirat(in, "deep", 0755), 0);
    touch_at(f->root_fd, "plain", "x");
    assert_int_equal(symlinkat("in/deep", f->root_fd, "link-inside"), 0);
    assert_int_equal(symlinkat("../deep", in, "link-sibling"), 0); /* in/../deep: missing */
    assert_int_equal(symlinkat("..", in, "link-up"), 0);           /* the root: inside */
    assert_int_equal(symlinkat("../..", in, "link-escape"), 0);
    assert_int_equal(symlinkat("/tmp", f->root_fd, "link-absolute"), 0);
    close(in);

    expect_open(f, "", FOLIO_OK, 200);
    expect_open(f, ".", FOLIO_OK, 200);
    expect_open(f, "in", FOLIO_OK, 200);
    expect_open(f, "in/", FOLIO_OK, 200);
    expect_open(f, "./in//deep/", FOLIO_OK, 200);
    expect_open(f, "link-inside", FOLIO_OK, 200);
    expect_open(f, "in/link-up", FOLIO_OK, 200);
    expect_open(f, "in/link-up/in/deep", FOLIO_OK, 200);

    /* Malformed whatever the disk holds: 400. */
    expect_open(f, "..", FOLIO_EINVAL, 400);
    expect_open(f, "../x", FOLIO_EINVAL, 400);
    expect_open(f, "in/..", FOLIO_EINVAL, 400);
    expect_open(f, "in/../in", FOLIO_EINVAL, 400);
    expect_open(f, "/etc", FOLIO_EINVAL, 400);
    expect_open(f, "/", FOLIO_EINVAL, 400);
    int http = 0;
    assert_int_equal(open_rel(f, "in\0/etc", 7, &http), FOLIO_EINVAL);
    assert_int_equal(http, 400);
    static char longpath[PATH_MAX + 10];
    memset(longpath, 'a', sizeof longpath - 1);
    assert_int_equal(open_rel(f, longpath, sizeof longpath - 1, &http), FOLIO_EINVAL);

    /* Well-formed but not a directory we may list: 404. */
    expect_open(f, "missing", FOLIO_ENOTFOUND, 404);
    expect_open(f, "plain", FOLIO_ENOTFOUND, 404);
    expect_open(f, "in/link-sibling", FOLIO_ENOTFOUND, 404);
    expect_open(f, "in/link-escape", FOLIO_ENOTFOUND, 404);
    expect_open(f, "link-absolute", FOLIO_ENOTFOUND, 404);
    /* Names that merely start with dots are ordinary names. */
    assert_int_equal(mkdirat(f->root_fd, "..hidden", 0755), 0);
    expect_open(f, "..hidden", FOLIO_OK, 200);
    expect_open(f, "...", FOLIO_ENOTFOUND, 404);
}

/* ---- Cache ----------------------------------------------------------------------------- */

static struct folio_dirlist *cache_get(struct folio_dirlist_cache *c, struct fixture *f,
                                       const char *rel)
{
    struct folio_dirlist *list = NULL;
    struct folio_error err = {0};
    folio_status s = folio__dirlist_cache_get(c, f->root_fd, rel, strlen(rel), 0, &list, &err);
    if (s != FOLIO_OK)
        fail_msg("cache_get %s: %s (%s)", rel, folio_strerror(s), err.detail);
    return list;
}

static void expect_stats(struct folio_dirlist_cache *c, uint64_t hits, uint64_t misses)
{
    struct folio_dirlist_cache_stats st;
    folio__dirlist_cache_stats(c, &st);
    if (st.hits != hits || st.misses != misses)
        fail_msg("hits/misses %llu/%llu, want %llu/%llu", (unsigned long long)st.hits,
                 (unsigned long long)st.misses, (unsigned long long)hits,
                 (unsigned long long)misses);
}

static void test_paths_have_one_normalized_spelling(void **state)
{
    (void)state;
    const struct {
        const char *in, *want;
    } cases[] = {
        {"", "."}, {".", "."}, {"./", "."}, {"//././/", "."}, {"a", "a"}, {"a/", "a"},
        {"./a", "a"}, {"a//.", "a"}, {"/a/b", "a/b"}, {"a/./b//c/", "a/b/c"},
        {"a/../b", "a/../b"}, {"..", ".."}, {"...", "..."}, {".x/.", ".x"}, {"a b/", "a b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64], again[64];
        size_t n = 99, m = 99;
        assert_int_equal(
            folio__dirlist_path_normalize(cases[i].in, strlen(cases[i].in), out, sizeof out, &n),
            FOLIO_OK);
        assert_string_equal(out, cases[i].want);
        assert_int_equal(n, strlen(cases[i].want));
        assert_int_equal(folio__dirlist_path_normalize(out, n, again, sizeof again, &m), FOLIO_OK);
        assert_string_equal(again, out);
    }
    char small[4];
    size_t n;
    assert_int_equal(folio__dirlist_path_normalize("abcd", 4, small, sizeof small, &n),
                     FOLIO_ETOOBIG);
    assert_string_equal(small, "");
    assert_int_equal(folio__dirlist_path_normalize("/abc/", 5, small, sizeof small, &n), FOLIO_OK);
    assert_string_equal(small, "abc");
}

static void test_cache_sees_created_and_deleted_files(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mkdirat(f->root_fd, "d", 0755), 0);
    int d = open_dir_at(f->root_fd, "d");
    touch_at(d, "a", NULL);
    touch_at(d, "c", NULL);
    age_dir(d);
    struct folio_dirlist_cache *c;
    assert_int_equal(folio__dirlist_cache_new(0, -1, &c), FOLIO_OK);
    char got[64];

    struct folio_dirlist *l1 = cache_get(c, f, "d");
    struct folio_dirlist *l2 = cache_get(c, f, "d");
    expect_stats(c, 1, 1);
    assert_ptr_equal(l1, l2); /* the very same snapshot */
    joined(l2, got, sizeof got);
    assert_string_equal(got, "a|c");
    folio__dirlist_free(l2);

    touch_at(d, "b", NULL);
    struct folio_dirlist *l3 = cache_get(c, f, "d");
    expect_stats(c, 1, 2);
    joined(l3, got, sizeof got);
    assert_string_equal(got, "a|b|c");
    folio__dirlist_free(l3);
    /* The old snapshot is still intact for whoever holds it. */
    joined(l1, got, sizeof got);
    assert_string_equal(got, "a|c");
    folio__dirlist_free(l1);

    age_dir(d);
    folio__dirlist_free(cache_get(c, f, "d"));
    folio__dirlist_free(cache_get(c, f, "d"));
    expect_stats(c, 2, 3);
    assert_int_equal(unlinkat(d, "a", 0), 0);
    struct folio_dirlist *l4 = cache_get(c, f, "d");
    joined(l4, got, sizeof got);
    assert_string_equal(got, "b|c");
    folio__dirlist_free(l4);
    expect_stats(c, 2, 4);

    /* Renaming within the directory changes the listing too. */
    age_dir(d);
    folio__dirlist_free(cache_get(c, f, "d"));
    assert_int_equal(renameat(d, "b", d, "z"), 0);
    struct folio_dirlist *l5 = cache_get(c, f, "d");
    joined(l5, got, sizeof got);
    assert_string_equal(got, "c|z");
    folio__dirlist_free(l5);
    folio__dirlist_cache_free(c);
    close(d);
}

/* A directory changed within the racy window is read afresh every time, never stored:
 * the mtime could not show a second change in the same tick. */
static void test_cache_does_not_keep_recently_changed_directory(void **state)
{
    struct fixture *f = *state;
    touch_at(f->root_fd, "a", NULL);
    struct folio_dirlist_cache *c;
    assert_int_equal(folio__dirlist_cache_new(0, 3600LL * 1000000000, &c), FOLIO_OK);
    folio__dirlist_free(cache_get(c, f, "."));
    touch_at(f->root_fd, "b", NULL);
    struct folio_dirlist *l = cache_get(c, f, ".");
    assert_int_equal(folio__dirlist_count(l), 2);
    folio__dirlist_free(l);
    struct folio_dirlist_cache_stats st;
    folio__dirlist_cache_stats(c, &st);
    assert_int_equal(st.hits, 0);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.racy, 2);
    assert_int_equal(st.entries, 0);
    folio__dirlist_cache_free(c);
}

static void test_cache_evicts_least_recently_used(void **state)
{
    struct fixture *f = *state;
    const char *dirs[] = {"d1", "d2", "d3"};
    char name[32];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mkdirat(f->root_fd, dirs[i], 0755), 0);
        int d = open_dir_at(f->root_fd, dirs[i]);
        for (int j = 0; j < 100; j++) {
            snprintf(name, sizeof name, "file-%03d", j);
            touch_at(d, name, NULL);
        }
        age_dir(d);
        close(d);
    }
    /* Measure one listing, then allow room for two and a half. */
    int d = open_dir_at(f->root_fd, "d1");
    struct folio_dirlist *probe = read_list(d, -1, NULL, 0);
    size_t one = folio__dirlist_bytes(probe) + 256;
    folio__dirlist_free(probe);
    close(d);
    struct folio_dirlist_cache *c;
    assert_int_equal(folio__dirlist_cache_new(one * 5 / 2, -1, &c), FOLIO_OK);
    folio__dirlist_free(cache_get(c, f, "d1"));
    folio__dirlist_free(cache_get(c, f, "d2"));
    folio__dirlist_free(cache_get(c, f, "d1")); /* d1 is now the most recent */
    folio__dirlist_free(cache_get(c, f, "d3")); /* evicts d2 */
    struct folio_dirlist_cache_stats st;
    folio__dirlist_cache_stats(c, &st);
    assert_int_equal(st.entries, 2);
    assert_int_equal(st.evictions, 1);
    assert_true(st.bytes <= one * 5 / 2);
    expect_stats(c, 1, 3);
    folio__dirlist_free(cache_get(c, f, "d1"));
    folio__dirlist_free(cache_get(c, f, "d3"));
    expect_stats(c, 3, 3);
    folio__dirlist_free(cache_get(c, f, "d2"));
    expect_stats(c, 3, 4);
    folio__dirlist_cache_free(c);

    /* A listing bigger than the whole budget is served but not kept. */
    assert_int_equal(folio__dirlist_cache_new(64, -1, &c), FOLIO_OK);
    struct folio_dirlist *l = cache_get(c, f, "d1");
    assert_int_equal(folio__dirlist_count(l), 100);
    folio__dirlist_free(l);
    folio__dirlist_cache_stats(c, &st);
    assert_int_equal(st.entries, 0);
    folio__dirlist_cache_free(c);
}

static void test_cache_reports_confinement_errors(void **state)
{
    struct fixture *f = *state;
    struct folio_dirlist_cache *c;
    assert_int_equal(folio__dirlist_cache_new(0, -1, &c), FOLIO_OK);
    struct folio_dirlist *list = NULL;
    struct folio_error err = {0};
    assert_int_equal(folio__dirlist_cache_get(c, f->root_fd, "../x", 4, 0, &list, &err),
                     FOLIO_EINVAL);
    assert_int_equal(folio__problem_status(&err), 400);
    assert_int_equal(folio__dirlist_cache_get(c, f->root_fd, "nope", 4, 0, &list, &err),
                     FOLIO_ENOTFOUND);
    assert_int_equal(folio__problem_status(&err), 404);
    assert_null(list);
    folio__dirlist_cache_free(c);
}

struct hammer {
    struct folio_dirlist_cache *cache;
    struct fixture *f;
    int bad;
};

static void *hammer_thread(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < 300; i++) {
        struct folio_dirlist *list = NULL;
        const char *rel = (i % 2) ? "d1" : "d2";
        if (folio__dirlist_cache_get(h->cache, h->f->root_fd, rel, 2, 0, &list, NULL) != FOLIO_OK)
            __atomic_add_fetch(&h->bad, 1, __ATOMIC_RELAXED);
        else if (folio__dirlist_count(list) < 10)
            __atomic_add_fetch(&h->bad, 1, __ATOMIC_RELAXED);
        folio__dirlist_free(list);
    }
    return NULL;
}

/* Concurrent lookups (with evictions forced by a tiny budget) neither crash nor leak;
 * the sanitizers in the test build watch for the rest. */
static void test_cache_is_safe_under_concurrent_lookups(void **state)
{
    struct fixture *f = *state;
    char name[32];
    for (int i = 1; i <= 2; i++) {
        snprintf(name, sizeof name, "d%d", i);
        assert_int_equal(mkdirat(f->root_fd, name, 0755), 0);
        int d = open_dir_at(f->root_fd, name);
        for (int j = 0; j < 10 * i; j++) {
            snprintf(name, sizeof name, "f%d", j);
            touch_at(d, name, NULL);
        }
        age_dir(d);
        close(d);
    }
    struct hammer h = {0};
    h.f = f;
    assert_int_equal(folio__dirlist_cache_new(500, -1, &h.cache), FOLIO_OK);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer_thread, &h), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(h.bad, 0);
    struct folio_dirlist_cache_stats st;
    folio__dirlist_cache_stats(h.cache, &st);
    assert_int_equal(st.hits + st.misses, 1200);
    folio__dirlist_cache_free(h.cache);
}

/* ---- Allocation failure ---------------------------------------------------------------- */

static long fail_countdown; /* fail the allocation when it reaches 0; < 0: never */
static long live_allocs;

static void *failing_malloc(size_t n)
{
    if (fail_countdown >= 0 && fail_countdown-- == 0)
        return NULL;
    void *p = malloc(n);
    if (p != NULL)
        live_allocs++;
    return p;
}

static void *failing_realloc(void *p, size_t n)
{
    if (fail_countdown >= 0 && fail_countdown-- == 0)
        return NULL;
    void *q = realloc(p, n);
    if (q != NULL && p == NULL)
        live_allocs++;
    return q;
}

static void counting_free(void *p)
{
    if (p != NULL)
        live_allocs--;
    free(p);
}

/* Fail the Nth allocation for every N until reading succeeds: each failure must be a
 * clean FOLIO_ENOMEM with nothing leaked. */
static void test_read_fails_cleanly_when_allocation_fails(void **state)
{
    struct fixture *f = *state;
    char name[48];
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof name, "name-%05d-padding-padding", i);
        touch_at(f->root_fd, name, NULL);
    }
    static const struct folio_allocator a = {failing_malloc, failing_realloc, counting_free};
    folio_allocator_set(&a);
    int failures = 0;
    for (long n = 0;; n++) {
        fail_countdown = n;
        live_allocs = 0;
        int dfd = open_dir_at(f->root_fd, ".");
        struct folio_dirlist *list = NULL;
        struct folio_error err = {0};
        folio_status s = folio__dirlist_read(dfd, -1, NULL, 0, 0, &list, &err);
        close(dfd);
        if (s == FOLIO_OK) {
            /* A failed shrink is not an error, so success may come with failures seen. */
            assert_int_equal(folio__dirlist_count(list), 3000);
            folio__dirlist_free(list);
            assert_int_equal(live_allocs, 0);
            if (fail_countdown >= 0)
                break; /* the failure point lies past every allocation: done */
            continue;
        }
        failures++;
        assert_int_equal(s, FOLIO_ENOMEM);
        assert_int_equal(live_allocs, 0);
        assert_true(n < 1000);
    }
    folio_allocator_set(NULL);
    assert_true(failures > 3);

    /* The cache: a failed insert still serves the listing. */
    folio_allocator_set(&a);
    struct folio_dirlist_cache *c = NULL;
    for (long n = 0;; n++) {
        fail_countdown = n;
        live_allocs = 0;
        if (folio__dirlist_cache_new(0, 0, &c) != FOLIO_OK) {
            assert_int_equal(live_allocs, 0);
            continue;
        }
        break;
    }
    fail_countdown = -1;
    folio_allocator_set(NULL);
    folio__dirlist_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_have_one_normalized_spelling),
        cmocka_unit_test_setup_teardown(test_names_are_sorted_bytewise, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_names_match_reference_sort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_regular_files_are_listed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_directory_lists_nothing, setup, teardown),
        cmocka_unit_test(test_page_math_counts_and_clamps),
        cmocka_unit_test_setup_teardown(test_after_finds_first_name_greater_than_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_confinement_rejects_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_sees_created_and_deleted_files, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cache_does_not_keep_recently_changed_directory,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_evicts_least_recently_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_reports_confinement_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_is_safe_under_concurrent_lookups, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_fails_cleanly_when_allocation_fails, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
