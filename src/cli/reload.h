/* SIGHUP reloads for folio serve, without dropping a connection.
 *
 * A "generation" is one running server and what it borrows (its config, database handle
 * and endpoints). A reload starts a new generation on the running one's listening socket,
 * makes it current, and quiesces the old one: it accepts nothing more, finishes what is in
 * flight, answers keep-alive clients with "Connection: close" so they reconnect to the new
 * one, and is stopped once its last connection is gone (or idle past the connection
 * timeout). A config that fails to load leaves the running generation as it is. Counters
 * continue across a reload (folio__metrics_carry).
 *
 * Reloads are serialized and coalesced: at most one generation drains at a time, so the
 * listening socket is shared by two servers at most. SIGHUPs that arrive while one drains
 * make one reload, done as soon as it is gone; the config file is read then, so the last
 * change always wins. */
#ifndef FOLIO_CLI_RELOAD_H
#define FOLIO_CLI_RELOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "server/config/config.h"
#include "server/server.h"

struct generation {
    struct folio_server srv;
    folio_db *db;
    struct folio_config config;
    uint64_t deadline_ms;         /* when draining: stop it by then even if clients stay */
    uint64_t idle_since_ms;       /* when draining: since when it has had no connection */
    struct folio_metrics carried; /* its counters when they were copied to its successor */
};

/* Start generation `g` (zeroed by the caller) from the settings: on the listening socket
 * `listen_fd` (taken over) when it is >= 0; `running` is the current server's config on a
 * reload, NULL at startup. On failure everything is released, the reason is on stderr, and
 * the exit status (non-zero) is returned. */
typedef int (*reload_start_fn)(struct generation *g, void *ctx, int listen_fd,
                               const struct folio_server_config *running);

struct reload_state {
    const char *config_path; /* what SIGHUP reloads; NULL: nothing to reload */
    reload_start_fn start;
    void *start_ctx;
    struct generation *current;  /* started by the caller (calloc'ed) */
    struct generation *draining; /* NULL, or the one previous generation */
    bool pending;                /* a SIGHUP waits for the draining generation */
};

/* Wait for the signals in `sigs` (blocked in every thread by the caller): SIGHUP reloads;
 * SIGINT or SIGTERM is returned, with the generations still running. */
int reload_serve(struct reload_state *ss, const sigset_t *sigs);

/* Stop and free every generation (the draining one first, its counters carried). */
void reload_stop(struct reload_state *ss);

/* Stop a generation's server and release what it holds, and `g` itself. */
void reload_generation_free(struct generation *g);

#endif
