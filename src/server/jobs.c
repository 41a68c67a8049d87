/* The database worker pool: a bounded FIFO with a per-client cap on running jobs. */
#include "server/jobs.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "server/http.h"

struct running {
    char client[64];
    unsigned n;
};

struct folio_jobs {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct folio_job *head, *tail;
    unsigned queued;
    bool stopping, stopped;
    struct folio_jobs_config cfg;
    size_t nthreads; /* started */
    pthread_t *threads;
    struct folio_worker **workers;
    struct running *running; /* cfg.threads slots; n == 0 is free */
};

static struct running *running_find(struct folio_jobs *p, const char *client)
{
    for (unsigned i = 0; i < p->cfg.threads; i++)
        if (p->running[i].n > 0 && strcmp(p->running[i].client, client) == 0)
            return &p->running[i];
    return NULL;
}

/* Unlink and return the oldest job whose client is below its cap, or NULL. */
static struct folio_job *take(struct folio_jobs *p)
{
    struct folio_job *prev = NULL;
    for (struct folio_job *j = p->head; j != NULL; prev = j, j = j->next) {
        struct running *r = running_find(p, j->client);
        if (r != NULL && r->n >= p->cfg.client_jobs)
            continue;
        if (r == NULL) /* a free slot exists: at most cfg.threads jobs run at once */
            for (unsigned i = 0; r == NULL && i < p->cfg.threads; i++)
                if (p->running[i].n == 0)
                    r = &p->running[i];
        memcpy(r->client, j->client, sizeof r->client);
        r->n++;
        if (prev != NULL)
            prev->next = j->next;
        else
            p->head = j->next;
        if (p->tail == j)
            p->tail = prev;
        j->next = NULL;
        p->queued--;
        return j;
    }
    return NULL;
}

struct start {
    struct folio_jobs *p;
    struct folio_worker *w;
};

static void *worker_main(void *arg)
{
    struct folio_jobs *p = ((struct start *)arg)->p;
    struct folio_worker *w = ((struct start *)arg)->w;
    folio_free(arg);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        struct folio_job *j = take(p);
        if (j == NULL) {
            if (p->stopping && p->head == NULL)
                break;
            pthread_cond_wait(&p->wake, &p->lock);
            continue;
        }
        char client[64];
        memcpy(client, j->client, sizeof client);
        pthread_mutex_unlock(&p->lock);
        j->run(w, j); /* may free j */
        pthread_mutex_lock(&p->lock);
        struct running *r = running_find(p, client);
        if (r != NULL)
            r->n--;
        /* A job held back behind its client's cap may be takeable now. */
        pthread_cond_broadcast(&p->wake);
    }
    pthread_mutex_unlock(&p->lock);
    /* Freed here: the worker's per-thread caches belong to this thread. */
    folio__worker_free(w);
    return NULL;
}

folio_status folio__jobs_new(struct folio_jobs **out, struct folio_server *srv,
                             const struct folio_jobs_config *cfg, struct folio_error *err)
{
    *out = NULL;
    struct folio_jobs *p = folio_calloc(1, sizeof *p);
    if (p == NULL)
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_NONE, NULL, "out of memory");
    p->cfg = *cfg;
    if (p->cfg.threads == 0)
        p->cfg.threads = 1;
    if (p->cfg.queue == 0)
        p->cfg.queue = 1;
    if (p->cfg.client_jobs == 0)
        p->cfg.client_jobs = 1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->threads = folio_calloc(p->cfg.threads, sizeof *p->threads);
    p->workers = folio_calloc(p->cfg.threads, sizeof *p->workers);
    p->running = folio_calloc(p->cfg.threads, sizeof *p->running);
    if (p->threads == NULL || p->workers == NULL || p->running == NULL) {
        folio__jobs_free(p);
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_NONE, NULL, "out of memory");
    }
    /* Every connection is opened before any thread starts, so a database that cannot be
     * opened fails the start instead of a request later. */
    for (unsigned i = 0; i < p->cfg.threads; i++) {
        p->workers[i] = folio__worker_new(srv, err);
        if (p->workers[i] == NULL) {
            folio__jobs_free(p);
            return err && err->status
                       ? err->status
                       : folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_NONE, NULL, "out of memory");
        }
    }
    for (unsigned i = 0; i < p->cfg.threads; i++) {
        struct start *s = folio_malloc(sizeof *s);
        if (s != NULL)
            *s = (struct start){p, p->workers[i]};
        if (s == NULL || pthread_create(&p->threads[i], NULL, worker_main, s) != 0) {
            folio_free(s);
            folio__jobs_free(p);
            return folio_error_set(err, FOLIO_EIO, FOLIO_KIND_NONE, "threads",
                                   "cannot start the database worker threads");
        }
        p->workers[i] = NULL; /* the thread's now */
        p->nthreads++;
    }
    *out = p;
    return FOLIO_OK;
}

folio_status folio__jobs_submit(struct folio_jobs *p, struct folio_job *job)
{
    pthread_mutex_lock(&p->lock);
    if (p->stopping || p->queued >= p->cfg.queue) {
        pthread_mutex_unlock(&p->lock);
        return FOLIO_ELIMIT;
    }
    job->next = NULL;
    if (p->tail != NULL)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    p->queued++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    return FOLIO_OK;
}

void folio__jobs_stop(struct folio_jobs *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    bool join = !p->stopped;
    p->stopping = p->stopped = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    if (!join)
        return;
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    p->nthreads = 0;
}

void folio__jobs_free(struct folio_jobs *p)
{
    if (p == NULL)
        return;
    folio__jobs_stop(p);
    for (unsigned i = 0; p->workers != NULL && i < p->cfg.threads; i++)
        folio__worker_free(p->workers[i]);
    folio_free(p->workers);
    folio_free(p->threads);
    folio_free(p->running);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    folio_free(p);
}
