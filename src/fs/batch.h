/* fs/batch.h - move the regular files of a directory into numbered batch folders.
 *
 * `folio batch DIR --size N` moves the regular files at the top level of DIR, in bytewise
 * sorted order, into the subfolders batch-0001, batch-0002, ... of N files each (the
 * number is written with at least four digits: batch-9999 is followed by batch-10000).
 *
 * What is moved. Regular files only, found as fs/dirlist.h finds them but without
 * following symbolic links: directories, symbolic links (to anything), FIFOs, sockets and
 * devices stay where they are. A regular file whose name looks like a batch folder
 * ("batch-" and four or more digits, nothing else) is not moved either, and is reported
 * as skipped: such names belong to the output.
 *
 * The assignment. A batch folder is a top-level directory named batch-<number> in the
 * canonical spelling (four or more digits, no extra leading zeros). Let H be the highest
 * existing one, holding c entries. If c < N, the first N - c files go into batch-H;
 * the following ones fill batch-(H+1), batch-(H+2), ... N at a time. Without any batch
 * folder, filling starts at batch-0001. Because moves happen in sorted order and fill
 * the last folder first, a run stopped at any point (even by kill -9 or a crash) and run
 * again ends with exactly the assignment an uninterrupted run would have made, and a run
 * with nothing left at the top level changes nothing.
 *
 * Nothing is lost or overwritten. Every move is renameat2(RENAME_NOREPLACE); where the
 * filesystem does not support that flag (EINVAL), link() then unlink(), which also never
 * replaces an existing name. A crash between that link and unlink leaves one file under
 * two names, top level and batch-H; the next plan recognises the pair (same device and
 * inode) and only removes the top-level name. Any other name clash, a file already in
 * batch-H under the name of a file assigned to it, or a batch folder name taken by
 * something that is not a directory, is a conflict: the plan lists it and apply refuses
 * to run, so a person decides. Durability: the parent is fsync'ed after each mkdir and
 * each batch folder when it is complete, the parent again at the end. A power loss may
 * undo the latest moves, never split one (rename is atomic).
 *
 * Concurrency: folio__batch_lock() takes an exclusive flock on DIR so two runs cannot
 * interleave; other programs changing DIR during a run are not defended against beyond
 * the no-overwrite rule. Nothing here prints or exits. */
#ifndef FOLIO_FS_BATCH_H
#define FOLIO_FS_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/status.h"
#include "fs/dirlist.h"

/* Longest folder name: "batch-" and the 20 digits of UINT64_MAX, plus the NUL. */
#define FOLIO_BATCH_DIRNAME_MAX 27

enum folio_batch_conflict_kind {
    FOLIO_BATCH_NAME_TAKEN = 1, /* batch-<batch>/<file's name> exists and is another file */
    FOLIO_BATCH_NOT_A_DIR = 2,  /* batch-<batch> is needed but is not a directory */
};

struct folio_batch_conflict {
    enum folio_batch_conflict_kind kind;
    uint64_t batch;
    size_t file; /* index into plan->files; SIZE_MAX for FOLIO_BATCH_NOT_A_DIR */
};

struct folio_batch_plan {
    struct folio_dirlist *files; /* the top-level regular files, sorted; owned by the plan */
    uint64_t size;               /* N, files per batch */
    uint64_t first_batch;        /* the folder receiving moves[0] */
    uint64_t first_room;         /* how many moves go into first_batch */
    bool first_exists;           /* first_batch exists already (partially filled) */
    uint64_t last_batch;         /* the folder receiving the last move (0 without moves) */

    size_t nmoves;
    size_t *moves; /* indices into files, in the order of moving */
    size_t nfinish;
    size_t *finish;        /* indices of top-level names already linked in finish_batch */
    uint64_t finish_batch; /* H, the folder holding the other name of each `finish` file */
    size_t nskipped;
    size_t *skipped; /* indices of regular files named like batch folders */
    size_t nconflicts;
    struct folio_batch_conflict *conflicts;
};

/* Write the folder name of batch `batch` (>= 1), e.g. "batch-0001", into `out`
 * (`cap` >= FOLIO_BATCH_DIRNAME_MAX is always enough); returns its length. */
size_t folio__batch_dirname(uint64_t batch, char *out, size_t cap);

/* Is `name` a batch folder name in canonical spelling? Then its number goes to *out.
 * "batch-0001" and "batch-10000" are; "batch-1", "batch-00001", "batch-0" are not. */
bool folio__batch_parse_dirname(const char *name, uint64_t *out);

/* Is `name` "batch-" followed by four or more digits and nothing else (the files that
 * are never moved)? */
bool folio__batch_name_reserved(const char *name);

/* Take an exclusive, non-blocking flock on the directory `dir_fd`. It lasts as long as
 * the open file description. Returns FOLIO_OK, FOLIO_EBUSY (another run holds it) or
 * FOLIO_EIO. */
folio_status folio__batch_lock(int dir_fd, struct folio_error *err) FOLIO_MUST_CHECK;

/* Look at the directory `dir_fd` (read-only: nothing is changed) and work out the plan
 * for batches of `size` files. On success the caller owns *out_plan and frees it with
 * folio__batch_plan_free(). A plan with conflicts is still returned (FOLIO_OK): check
 * plan->nconflicts. Returns FOLIO_OK, FOLIO_EINVAL (size 0), FOLIO_ENOMEM, FOLIO_ETOOBIG,
 * FOLIO_ENOTFOUND (the directory or batch-H vanished, or permission denied) or FOLIO_EIO.
 * Thread-safe for distinct directories. */
folio_status folio__batch_plan_new(int dir_fd, uint64_t size, struct folio_batch_plan **out_plan,
                                   struct folio_error *err) FOLIO_MUST_CHECK;

void folio__batch_plan_free(struct folio_batch_plan *plan);

/* The folder that moves[k] goes to (k < plan->nmoves). */
uint64_t folio__batch_plan_target(const struct folio_batch_plan *plan, size_t k);

/* Move with link() and unlink() even where renameat2(RENAME_NOREPLACE) works. */
#define FOLIO_BATCH_LINK_UNLINK 0x1u

struct folio_batch_result {
    size_t moved;             /* files moved */
    size_t finished;          /* interrupted link+unlink moves completed */
    uint64_t created;         /* batch folders created */
    bool used_link_fallback;  /* some moves were link+unlink */
};

/* Carry out `plan` (made by folio__batch_plan_new on the same `dir_fd`, preferably under
 * folio__batch_lock): first remove the top-level names of `finish` files (after checking
 * again that both names are the same file), then make the moves in order, creating
 * folders as needed. `out` (may be NULL) is filled even on failure with the work done.
 * Stops at the first failure; what was done stays done and a new plan continues from
 * there. Returns FOLIO_OK; FOLIO_ECONFLICT if the plan has conflicts (nothing is done) or
 * a name turned up in the way during the run (that file stays where it was);
 * FOLIO_ENOTFOUND if a file vanished during the run or permission was denied; FOLIO_EIO
 * for other system errors. err->detail names the file or folder. */
folio_status folio__batch_apply(int dir_fd, const struct folio_batch_plan *plan, unsigned flags,
                                struct folio_batch_result *out,
                                struct folio_error *err) FOLIO_MUST_CHECK;

#endif
