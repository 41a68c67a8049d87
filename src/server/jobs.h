/* The database worker pool. libmicrohttpd's I/O threads answer cheap requests themselves
 * and hand every request that touches the database to these workers (the connection is
 * suspended meanwhile), so a slow query holds one worker, never an I/O thread, and
 * /healthz keeps answering. Each worker thread owns its struct folio_worker (database
 * connection, buffers) for its whole life.
 *
 * Fairness: the queue is bounded (a full queue refuses at once), and one client address
 * has at most `client_jobs` jobs running; its further jobs wait while other clients' jobs
 * are taken first. */
#ifndef FOLIO_SERVER_JOBS_H
#define FOLIO_SERVER_JOBS_H

#include <stddef.h>

#include "folio/folio.h"

struct folio_server;
struct folio_worker;
struct folio_jobs;

struct folio_jobs_config {
    unsigned threads;     /* worker threads, >= 1 */
    unsigned queue;       /* jobs waiting for a worker, >= 1 */
    unsigned client_jobs; /* jobs one client may have running, >= 1 */
};

/* A queued request. The caller owns it; the pool only links it while it waits. */
struct folio_job {
    struct folio_job *next;   /* the pool's */
    char client[64];          /* fairness key: the client's address */
    void (*run)(struct folio_worker *w, struct folio_job *job); /* on a worker thread */
};

/* Start the workers, each with its own folio_worker for `srv`. FOLIO_ENOMEM, or FOLIO_EIO
 * (err says why) when a thread or a database connection cannot be made. */
folio_status folio__jobs_new(struct folio_jobs **out, struct folio_server *srv,
                             const struct folio_jobs_config *cfg, struct folio_error *err);
/* Queue `job`; a worker calls job->run(worker, job) later, exactly once. FOLIO_ELIMIT when
 * the queue is full or the pool is stopping: the job was not taken. Thread-safe. */
folio_status folio__jobs_submit(struct folio_jobs *p, struct folio_job *job)
    __attribute__((warn_unused_result));
/* Refuse further jobs, run the queued ones, and join the workers. Idempotent. */
void folio__jobs_stop(struct folio_jobs *p);
/* Stop (if not yet) and free. NULL is fine. */
void folio__jobs_free(struct folio_jobs *p);

#endif
