/* Access log ring buffer and writer thread: see accesslog.h. */
#include "server/accesslog.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "folio/alloc.h"

#define RING_BYTES (1u << 20)

struct folio_accesslog {
    int fd;
    atomic_uint_fast64_t *dropped;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int stop;
    size_t len; /* bytes queued in ring[0..len) */
    char ring[RING_BYTES];
    char out[RING_BYTES];
};

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the log is best-effort: a broken log must not stop the server */
        p += w;
        n -= (size_t)w;
    }
}

static void *writer(void *arg)
{
    struct folio_accesslog *log = arg;
    pthread_mutex_lock(&log->lock);
    for (;;) {
        while (log->len == 0 && !log->stop)
            pthread_cond_wait(&log->wake, &log->lock);
        if (log->len == 0 && log->stop)
            break;
        /* Swap the queued bytes out, then write without holding the lock. */
        size_t n = log->len;
        memcpy(log->out, log->ring, n);
        log->len = 0;
        pthread_mutex_unlock(&log->lock);
        write_all(log->fd, log->out, n);
        pthread_mutex_lock(&log->lock);
    }
    pthread_mutex_unlock(&log->lock);
    return NULL;
}

folio_status folio__accesslog_new(struct folio_accesslog **out, int fd,
                                  atomic_uint_fast64_t *dropped)
{
    struct folio_accesslog *log = folio_calloc(1, sizeof *log);
    if (log == NULL)
        return FOLIO_ENOMEM;
    log->fd = fd;
    log->dropped = dropped;
    pthread_mutex_init(&log->lock, NULL);
    pthread_cond_init(&log->wake, NULL);
    if (pthread_create(&log->thread, NULL, writer, log) != 0) {
        pthread_mutex_destroy(&log->lock);
        pthread_cond_destroy(&log->wake);
        folio_free(log);
        return FOLIO_EIO;
    }
    *out = log;
    return FOLIO_OK;
}

void folio__accesslog_free(struct folio_accesslog *log)
{
    if (log == NULL)
        return;
    pthread_mutex_lock(&log->lock);
    log->stop = 1;
    pthread_cond_signal(&log->wake);
    pthread_mutex_unlock(&log->lock);
    pthread_join(log->thread, NULL);
    pthread_mutex_destroy(&log->lock);
    pthread_cond_destroy(&log->wake);
    folio_free(log);
}

void folio__accesslog_line(struct folio_accesslog *log, const char *line, size_t len)
{
    pthread_mutex_lock(&log->lock);
    if (log->len + len + 1 > RING_BYTES) {
        pthread_mutex_unlock(&log->lock);
        if (log->dropped)
            atomic_fetch_add_explicit(log->dropped, 1, memory_order_relaxed);
        return;
    }
    memcpy(log->ring + log->len, line, len);
    log->ring[log->len + len] = '\n';
    log->len += len + 1;
    pthread_cond_signal(&log->wake);
    pthread_mutex_unlock(&log->lock);
}
