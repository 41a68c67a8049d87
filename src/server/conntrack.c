/* Connection bookkeeping: a global cap and per-request deadlines (see conntrack.h). */
#include "server/conntrack.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "server/http.h"

enum { C_WAITING, C_BUSY, C_STREAMING, C_SHUT };

struct folio_conn {
    struct folio_conn *prev, *next;
    int fd;
    atomic_int state;
    atomic_uint_fast64_t since_ms; /* when the current wait for a request began */
};

struct folio_conntrack {
    pthread_mutex_t lock; /* the list; a socket is shut down only while it is listed */
    pthread_cond_t wake;
    struct folio_conn *head;
    atomic_uint open;
    unsigned max_connections;
    unsigned timeout_ms;
    bool stop, sweeping;
    pthread_t sweeper;
};

static uint64_t now_ms(void)
{
    return folio__now_us() / 1000u;
}

static void *sweep_main(void *arg)
{
    struct folio_conntrack *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        /* A tenth of the deadline, at most a second: a connection lives at most 10% past
         * its deadline. */
        unsigned step = t->timeout_ms / 10 < 1000 ? t->timeout_ms / 10 : 1000;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)(step ? step : 1) * 1000000u;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&t->wake, &t->lock, &ts);
        uint64_t now = now_ms();
        for (struct folio_conn *c = t->head; c != NULL && !t->stop; c = c->next)
            if ((atomic_load(&c->state) == C_WAITING || atomic_load(&c->state) == C_STREAMING) &&
                now - atomic_load(&c->since_ms) > t->timeout_ms) {
                atomic_store(&c->state, C_SHUT);
                /* libmicrohttpd sees the end of its input and closes the connection. The
                 * lock keeps the descriptor from being closed (and reused) meanwhile. */
                shutdown(c->fd, SHUT_RDWR);
            }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

folio_status folio__conntrack_new(struct folio_conntrack **out, unsigned max_connections,
                                  unsigned request_timeout)
{
    struct folio_conntrack *t = folio_calloc(1, sizeof *t);
    *out = NULL;
    if (t == NULL)
        return FOLIO_ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    t->max_connections = max_connections;
    t->timeout_ms = request_timeout * 1000u;
    if (request_timeout > 0) {
        if (pthread_create(&t->sweeper, NULL, sweep_main, t) != 0) {
            folio__conntrack_free(t);
            return FOLIO_EIO;
        }
        t->sweeping = true;
    }
    *out = t;
    return FOLIO_OK;
}

void folio__conntrack_free(struct folio_conntrack *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->lock);
    if (t->sweeping)
        pthread_join(t->sweeper, NULL);
    while (t->head != NULL) {
        struct folio_conn *c = t->head;
        t->head = c->next;
        folio_free(c);
    }
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    folio_free(t);
}

bool folio__conntrack_admit(struct folio_conntrack *t)
{
    /* Several I/O threads may admit at once: the cap can be passed by at most their
     * number, which is harmless. */
    return atomic_load(&t->open) < t->max_connections;
}

struct folio_conn *folio__conntrack_open(struct folio_conntrack *t, int fd)
{
    atomic_fetch_add(&t->open, 1);
    struct folio_conn *c = folio_calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->fd = fd;
    atomic_init(&c->state, C_WAITING);
    atomic_init(&c->since_ms, now_ms());
    pthread_mutex_lock(&t->lock);
    c->next = t->head;
    if (t->head != NULL)
        t->head->prev = c;
    t->head = c;
    pthread_mutex_unlock(&t->lock);
    return c;
}

void folio__conntrack_close(struct folio_conntrack *t, struct folio_conn *c)
{
    atomic_fetch_sub(&t->open, 1);
    if (c == NULL)
        return;
    pthread_mutex_lock(&t->lock);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        t->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&t->lock);
    folio_free(c);
}

void folio__conntrack_busy(struct folio_conn *c)
{
    int waiting = C_WAITING;
    if (c != NULL)
        atomic_compare_exchange_strong(&c->state, &waiting, C_BUSY);
}

void folio__conntrack_idle(struct folio_conn *c)
{
    if (c == NULL)
        return;
    atomic_store(&c->since_ms, now_ms());
    int busy = C_BUSY;
    if (!atomic_compare_exchange_strong(&c->state, &busy, C_WAITING)) {
        int streaming = C_STREAMING;
        atomic_compare_exchange_strong(&c->state, &streaming, C_WAITING);
    }
}

void folio__conntrack_streaming(struct folio_conn *c, bool client_turn)
{
    if (c == NULL)
        return;
    if (client_turn)
        atomic_store(&c->since_ms, now_ms());
    int from = client_turn ? C_BUSY : C_STREAMING;
    atomic_compare_exchange_strong(&c->state, &from, client_turn ? C_STREAMING : C_BUSY);
}
