/* SIGHUP reloads for folio serve: see reload.h. */
#include "reload.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void reload_generation_free(struct generation *g)
{
    folio__server_stop(&g->srv);
    folio__db_close(g->db);
    folio__config_clear(&g->config);
    free(g);
}

/* --- counters across a reload ----------------------------------------------------------
 * A reload must not look like a restart to Prometheus: the new generation starts with
 * the old one's counters, and what the old one counts while draining is added when it
 * stops. Requests move to the route with the same path (else "other"). */

/* Where each route of `from` is counted in `to`: the route with the same path, else
 * "other". */
static void route_map(const struct folio_server *to, const struct folio_server *from,
                      int map[FOLIO_METRICS_MAX_ROUTES + 1])
{
    for (size_t r = 0; r <= FOLIO_METRICS_MAX_ROUTES; r++) {
        int found = r < from->nendpoints && r < FOLIO_METRICS_MAX_ROUTES
                        ? folio__route_find(to, from->endpoints[r].path)
                        : -1;
        map[r] = found >= 0 && found < FOLIO_METRICS_MAX_ROUTES ? found
                                                                : FOLIO_METRICS_MAX_ROUTES;
    }
}

/* --- the signal loop ------------------------------------------------------------------ */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Stop the draining generation: its requests are done, or its time is up. */
static void retire(struct reload_state *ss)
{
    struct generation *g = ss->draining;
    int64_t open = atomic_load(&g->srv.metrics.open_connections);
    if (open > 0)
        fprintf(stderr, "folio: closing %lld idle connection%s of the previous settings\n",
                (long long)open, open == 1 ? "" : "s");
    int map[FOLIO_METRICS_MAX_ROUTES + 1];
    route_map(&ss->current->srv, &g->srv, map); /* before stopping frees the endpoints */
    folio__server_stop(&g->srv);
    folio__metrics_carry(&ss->current->srv.metrics, &g->srv.metrics, &g->carried, map);
    reload_generation_free(g);
    ss->draining = NULL;
}

/* How long a draining generation must have had no connection before it is stopped. A
 * worker may have accepted a connection just before the quiesce and not yet counted it
 * (libmicrohttpd reports it a little after accept()); stopping the generation then would
 * close that connection unanswered. */
#define DRAIN_QUIET_MS 300

static void reap(struct reload_state *ss)
{
    struct generation *g = ss->draining;
    if (g == NULL)
        return;
    uint64_t now = now_ms();
    if (atomic_load(&g->srv.metrics.open_connections) > 0)
        g->idle_since_ms = 0;
    else if (g->idle_since_ms == 0)
        g->idle_since_ms = now;
    if ((g->idle_since_ms != 0 && now - g->idle_since_ms >= DRAIN_QUIET_MS) ||
        now >= g->deadline_ms)
        retire(ss);
}

/* Start a generation from the config file and make it current; the old one drains. Only
 * called with no generation draining. */
static void reload(struct reload_state *ss)
{
    fprintf(stderr, "folio: SIGHUP: reloading %s\n", ss->config_path);
    struct generation *old = ss->current;
    int fd = fcntl(folio__server_listen_fd(&old->srv), F_DUPFD_CLOEXEC, 0);
    struct generation *next = calloc(1, sizeof *next);
    if (fd < 0 || next == NULL) {
        fprintf(stderr, "folio: reload failed (%s); still serving the previous settings\n",
                strerror(errno));
        if (fd >= 0)
            close(fd);
        free(next);
        return;
    }
    if (ss->start(next, ss->start_ctx, fd, &old->srv.cfg) != 0) {
        free(next);
        fprintf(stderr, "folio: reload failed; still serving the previous settings\n");
        return;
    }
    int map[FOLIO_METRICS_MAX_ROUTES + 1];
    route_map(&next->srv, &old->srv, map);
    folio__metrics_copy(&old->carried, &old->srv.metrics);
    folio__metrics_carry(&next->srv.metrics, &old->carried, NULL, map);
    folio__server_quiesce(&old->srv);
    unsigned timeout = old->srv.cfg.connection_timeout ? old->srv.cfg.connection_timeout : 30;
    old->deadline_ms = now_ms() + timeout * 1000u + 1000u;
    old->idle_since_ms = 0; /* counted from the first tick that sees no connection */
    ss->draining = old;
    ss->current = next;
    fprintf(stderr, "folio: reloaded %s: %zu endpoints, %u threads; the previous settings "
                    "finish their requests\n",
            ss->config_path, next->srv.nendpoints, next->srv.cfg.threads);
}

/* A SIGHUP: reload now, or once the draining generation is gone. */
static void request_reload(struct reload_state *ss)
{
    if (ss->config_path == NULL) {
        fprintf(stderr, "folio: SIGHUP: serving without --config, nothing to reload\n");
        return;
    }
    if (ss->draining != NULL && !ss->pending)
        fprintf(stderr, "folio: SIGHUP: reloading once the previous settings finish their "
                        "requests\n");
    ss->pending = true;
}

int reload_serve(struct reload_state *ss, const sigset_t *sigs)
{
    int sig = 0;
    for (;;) {
        if (ss->draining != NULL) {
            struct timespec tick = {0, 20 * 1000 * 1000};
            sig = sigtimedwait(sigs, NULL, &tick);
            reap(ss);
        } else if (sigwait(sigs, &sig) != 0) {
            sig = -1;
        }
        if (sig == SIGHUP)
            request_reload(ss);
        else if (sig == SIGINT || sig == SIGTERM)
            break;
        if (ss->pending && ss->draining == NULL) {
            ss->pending = false;
            reload(ss);
        }
    }
    return sig;
}

void reload_stop(struct reload_state *ss)
{
    if (ss->draining != NULL)
        retire(ss);
    reload_generation_free(ss->current);
    ss->current = NULL;
}
