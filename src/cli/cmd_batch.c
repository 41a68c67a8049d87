/* folio batch DIR --size N [--dry-run]: move a directory's files into batch folders. */
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
#include "fs/batch.h"

static void usage(FILE *to)
{
    fputs("usage: folio batch DIR --size N [--dry-run]\n"
          "\n"
          "Move the regular files at the top of DIR, in bytewise sorted order, into the\n"
          "subfolders batch-0001, batch-0002, ... of N files each (after batch-9999 comes\n"
          "batch-10000). Subdirectories, symbolic links, special files and files named\n"
          "like a batch folder stay where they are; names starting with '.' are moved\n"
          "like any other.\n"
          "\n"
          "If batch folders exist already, the highest one is filled up to N first, then\n"
          "new ones follow. So a run that was interrupted (even by kill -9) is finished by\n"
          "running the same command again, with the same result an uninterrupted run\n"
          "would have had, and a second run changes nothing. No file is ever overwritten:\n"
          "if a name is already taken in the target folder, nothing is moved and the\n"
          "clash is reported.\n"
          "\n"
          "options:\n"
          "  --size N     files per batch folder, at least 1 (required)\n"
          "  --dry-run    print the plan, one 'NAME -> batch-0001/NAME' line per file on\n"
          "               stdout (names as raw bytes), and change nothing\n"
          "  -h, --help   show this help\n"
          "\n"
          "environment:\n"
          "  FOLIO_BATCH_LINK_UNLINK=1   move with link+unlink instead of renameat2\n"
          "                              (what filesystems without RENAME_NOREPLACE get)\n"
          "\n"
          "A summary goes to stdout, problems to stderr.\n"
          "exit status: 0 done, 1 could not finish (nothing lost), 2 bad arguments\n",
          to);
}

struct batch_args {
    const char *dir;
    uint64_t size;
    bool have_size;
    bool dry_run;
};


static const struct cli_option options[] = {
    {"--help", "-h", false, false},
    {"--dry-run", NULL, false, false},
    {"--size", NULL, true, false},
};

static int on_arg(void *ctx, const struct cli_option *opt, const char *val)
{
    struct batch_args *a = ctx;
    if (opt == NULL) {
        if (a->dir != NULL) {
            fprintf(stderr, "folio batch: one directory only ('%s' and '%s')\n", a->dir, val);
            return 2;
        }
        a->dir = val;
    } else if (opt == &options[0]) {
        usage(stdout);
        return 0;
    } else if (opt == &options[1]) {
        a->dry_run = true;
    } else {
        int64_t v;
        bool overflow;
        if (!cli_parse_int(val, &v, &overflow)) {
            fprintf(stderr, "folio batch: --size must be an integer, got '%s'\n", val);
            return 2;
        }
        a->size = v < 0 ? 0 : (uint64_t)v;
        if (a->size < 1) {
            fprintf(stderr, "folio batch: --size must be at least 1, got '%s'\n", val);
            return 2;
        }
        a->have_size = true;
    }
    return -1;
}

/* Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, struct batch_args *a)
{
    int rc = cli_walk("batch", argc, argv, options, sizeof options / sizeof options[0],
                      on_arg, a);
    if (rc >= 0)
        return rc;
    if (a->dir == NULL || !a->have_size) {
        fprintf(stderr, "folio batch: missing %s\n", a->dir == NULL ? "DIR" : "--size N");
        usage(stderr);
        return 2;
    }
    return -1;
}

static void put_name(FILE *to, const char *name)
{
    fwrite(name, 1, strlen(name), to);
}

static void report_conflicts(const struct folio_batch_plan *p)
{
    char bname[FOLIO_BATCH_DIRNAME_MAX];
    for (size_t i = 0; i < p->nconflicts; i++) {
        const struct folio_batch_conflict *c = &p->conflicts[i];
        folio__batch_dirname(c->batch, bname, sizeof bname);
        if (c->kind == FOLIO_BATCH_NOT_A_DIR) {
            fprintf(stderr, "folio batch: conflict: %s is needed as a folder but is not a "
                            "directory\n", bname);
            continue;
        }
        fprintf(stderr, "folio batch: conflict: %s/", bname);
        put_name(stderr, folio__dirlist_name(p->files, c->file, NULL));
        fputs(" already exists and is a different file\n", stderr);
    }
    fprintf(stderr, "folio batch: nothing was moved; resolve the %zu conflict%s and run "
                    "again\n", p->nconflicts, p->nconflicts == 1 ? "" : "s");
}

static void report_notes(const struct folio_batch_plan *p, bool dry_run)
{
    for (size_t i = 0; i < p->nskipped; i++) {
        fputs("folio batch: not moving '", stderr);
        put_name(stderr, folio__dirlist_name(p->files, p->skipped[i], NULL));
        fputs("': a file named like a batch folder\n", stderr);
    }
    char bname[FOLIO_BATCH_DIRNAME_MAX];
    folio__batch_dirname(p->finish_batch, bname, sizeof bname);
    for (size_t i = 0; i < p->nfinish; i++) {
        const char *name = folio__dirlist_name(p->files, p->finish[i], NULL);
        fputs("folio batch: '", stderr);
        put_name(stderr, name);
        fprintf(stderr, "' is already in %s (an interrupted move); %s the top-level name\n",
                bname, dry_run ? "would remove" : "removing");
    }
}

static void print_plan(const struct folio_batch_plan *p)
{
    char bname[FOLIO_BATCH_DIRNAME_MAX];
    uint64_t current = 0;
    for (size_t k = 0; k < p->nmoves; k++) {
        uint64_t b = folio__batch_plan_target(p, k);
        if (b != current) {
            folio__batch_dirname(b, bname, sizeof bname);
            current = b;
        }
        const char *name = folio__dirlist_name(p->files, p->moves[k], NULL);
        put_name(stdout, name);
        printf(" -> %s/", bname);
        put_name(stdout, name);
        putchar('\n');
    }
}

/* "batch-0003" or "batch-0003..batch-0010". */
static void range_text(const struct folio_batch_plan *p, char *out, size_t cap)
{
    char a[FOLIO_BATCH_DIRNAME_MAX], b[FOLIO_BATCH_DIRNAME_MAX];
    folio__batch_dirname(p->first_batch, a, sizeof a);
    folio__batch_dirname(p->last_batch, b, sizeof b);
    if (p->first_batch == p->last_batch)
        snprintf(out, cap, "%s", a);
    else
        snprintf(out, cap, "%s..%s", a, b);
}

static int run(int fd, const struct batch_args *a)
{
    struct folio_error err = {0};
    if (!a->dry_run && folio__batch_lock(fd, &err) != FOLIO_OK) {
        fprintf(stderr, "folio batch: %s: %s\n", a->dir, err.detail);
        return 1;
    }
    struct folio_batch_plan *p;
    if (folio__batch_plan_new(fd, a->size, &p, &err) != FOLIO_OK) {
        fprintf(stderr, "folio batch: %s: %s\n", a->dir, err.detail);
        return 1;
    }
    report_notes(p, a->dry_run);
    if (p->nconflicts > 0) {
        report_conflicts(p);
        folio__batch_plan_free(p);
        return 1;
    }
    char range[2 * FOLIO_BATCH_DIRNAME_MAX + 4];
    range_text(p, range, sizeof range);
    int rc = 0;
    if (a->dry_run) {
        print_plan(p);
        if (p->nmoves > 0)
            fprintf(stderr, "-- dry run: %zu file%s would move into %s; nothing was changed --\n",
                    p->nmoves, p->nmoves == 1 ? "" : "s", range);
        else
            fprintf(stderr, "-- dry run: nothing to move; nothing was changed --\n");
    } else {
        const char *env = getenv("FOLIO_BATCH_LINK_UNLINK");
        unsigned flags = (env != NULL && strcmp(env, "1") == 0) ? FOLIO_BATCH_LINK_UNLINK : 0;
        struct folio_batch_result r;
        folio_status s = folio__batch_apply(fd, p, flags, &r, &err);
        if (s != FOLIO_OK) {
            fprintf(stderr, "folio batch: %s\n", err.detail);
            fprintf(stderr, "folio batch: stopped after moving %zu of %zu files; nothing was "
                            "lost, run again to continue\n", r.moved, p->nmoves);
            rc = 1;
        } else if (r.moved > 0) {
            printf("moved %zu file%s into %s (%" PRIu64 " folder%s created)\n", r.moved,
                   r.moved == 1 ? "" : "s", range, r.created, r.created == 1 ? "" : "s");
        } else {
            printf("nothing to move\n");
        }
    }
    folio__batch_plan_free(p);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "folio batch: cannot write output: %s\n", strerror(errno));
        rc = 1;
    }
    return rc;
}

int cmd_batch(int argc, char **argv)
{
    struct batch_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    int fd = open(a.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "folio batch: %s: %s\n", a.dir,
                errno == ENOTDIR ? "not a directory" : strerror(errno));
        return 1;
    }
    /* Say so up front rather than failing at the first move. */
    if (!a.dry_run && faccessat(AT_FDCWD, a.dir, W_OK | X_OK, AT_EACCESS) != 0) {
        fprintf(stderr, "folio batch: %s: cannot move files here: %s\n", a.dir,
                strerror(errno));
        close(fd);
        return 1;
    }
    rc = run(fd, &a);
    close(fd);
    return rc;
}
