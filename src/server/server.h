/* The HTTP server: libmicrohttpd's I/O threads read requests, answer the cheap ones
 * (/healthz, /metrics, OPTIONS, early problems) and hand the rest to a pool of database
 * worker threads (jobs.h), each owning its own database connection (no lock on the request
 * path). Connections are capped globally and per client address, and each request must
 * arrive within a deadline (conntrack.h). */
#ifndef FOLIO_SERVER_SERVER_H
#define FOLIO_SERVER_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "folio/folio.h"
#include "fs/dirlist.h"
#include "server/accesslog.h"
#include "server/auth.h"
#include "server/cluster.h"
#include "server/conntrack.h"
#include "server/endpoint.h"
#include "server/jobs.h"
#include "server/metrics.h"
#include "server/prefetch.h"
#include "server/ratelimit.h"

struct folio_server_config {
    char listen_host[64];
    uint16_t listen_port;
    unsigned threads;            /* database workers */
    unsigned io_threads;         /* libmicrohttpd threads; 0 = folio__server_auto_io_threads() */
    unsigned queue;              /* requests waiting for a database worker (503 beyond) */
    unsigned client_jobs;        /* requests of one client address running at once; 0 =
                                    threads - 1 (at least 1) */
    unsigned max_connections;    /* beyond: new connections are closed at once */
    unsigned max_connections_per_ip; /* 0 = no limit */
    unsigned request_timeout;    /* seconds to deliver a whole request; 0 = no deadline */
    unsigned connection_timeout; /* seconds */
    size_t max_request_bytes;    /* request line + headers */
    size_t max_url_bytes;
    size_t max_response_bytes;
    int default_per_page;
    int max_per_page;
    uint64_t cursor_ttl; /* seconds, 0 = never expire */
    bool debug_plan;     /* X-Folio-Plan header with the page query's plan */
    bool auto_endpoints; /* also serve every table at /api/{table} (default true) */
    bool hybrid;         /* deep OFFSET pages through the sparse boundary index */
    int64_t max_offset;  /* deeper offsets get 400 and a cursor link; 0 = no limit */
    int64_t count_limit; /* bound for estimated counts of filtered queries */
    unsigned query_timeout_ms; /* a page's queries together (page, probes, total, boundary
                                  index) stop after this: 503; 0 = no limit */
    /* A page is first tried on the I/O thread that read its request, within this many
     * microseconds, and handed to a database worker only when it takes longer (server.c:
     * route_inline); 0 = every page on the workers. SQLite only. */
    unsigned inline_budget_us;
    bool sort_any;       /* auto endpoints sort by any column, not only index-led ones */
    enum folio_count default_count;
    /* Per-client token bucket (rate 0 = no limit); endpoints may override. */
    double rate;                 /* requests per second */
    unsigned burst;
    size_t rate_clients;         /* buckets kept (memory bound) */
    size_t ntrusted_proxies;     /* X-Forwarded-For is believed only from these peers */
    char trusted_proxies[16][64];
    size_t ncors_origins;        /* allowed browser origins ("*" = any); none by default */
    char cors_origins[16][256];
    char access_log[4096];       /* "" = off, "-" = stderr, else a file appended to */
    bool prefetch;               /* default for endpoints without their own setting */
    unsigned prefetch_threads;
    unsigned prefetch_queue;
    size_t cache_bytes;
    unsigned cache_ttl_ms;
    char files_root[4096];       /* GET /files/... lists below this directory; "" = off */
    /* [export] (handler/export.h) */
    bool export_auto;            /* tables served automatically also export */
    int64_t export_max_rows;     /* rows one export request streams; 0 = no limit */
    unsigned export_max;         /* exports streaming at once (503 beyond) */
    unsigned export_per_client;  /* exports of one client address at once (429 beyond) */
    unsigned export_checkpoint_every; /* NDJSON rows between checkpoint lines; 0 = last only */
    bool gzip;                   /* Accept-Encoding: gzip is honoured ([server] gzip) */
    struct folio_cluster_config cluster; /* [cluster]: Redis shared by nodes, or none */
    /* Not a file setting: -1 binds listen_host:listen_port; otherwise a listening socket
     * to accept on, taken over by the server (a reload passes a dup of the running
     * server's, see folio__server_listen_fd). */
    int listen_fd;
    /* Who may read what (auth.h): borrowed, must outlive the server; NULL = open. */
    const struct folio_auth *auth;
    bool require_auth_off_loopback; /* refuse to start open on a non-loopback address */
    char tls_cert[4096]; /* PEM files, read at each start (a reload picks up renewals); */
    char tls_key[4096];  /* both "" = plain HTTP */
    char metrics_host[64]; /* metrics_listen: /metrics only there ("" = on listen) */
    uint16_t metrics_port;
};

struct folio_server {
    struct folio_server_config cfg;
    folio_db *db;
    struct folio_keyring keyring;
    struct MHD_Daemon *daemon;
    size_t nendpoints;
    struct folio_endpoint *endpoints; /* owned */
    struct folio_metrics metrics;
    struct folio_ratelimit *ratelimit;     /* NULL when no limit is configured */
    struct folio_accesslog *accesslog;     /* NULL when off */
    int accesslog_fd;
    struct folio_prefetch *prefetch;       /* NULL when no endpoint prefetches */
    struct folio_jobs *jobs;               /* the database workers */
    struct folio_conntrack *conntrack;
    struct folio_exports *exports;         /* streaming exports (handler/export.h) */
    struct folio_dirlist_cache *dircache;  /* NULL when no files root is set */
    int files_root_fd;
    atomic_bool draining;  /* quiesced: answers close their connections */
    int quiesced_fd;       /* the listening socket handed back by quiescing, or -1 */
    char *tls_cert_pem, *tls_key_pem;     /* read at start (tls.h); NULL = plain HTTP */
    struct MHD_Daemon *metrics_daemon;     /* on cfg.metrics_host, or NULL */
    bool metrics_quiesced;
};

void folio__server_config_defaults(struct folio_server_config *cfg);
/* io_threads = 0: the CPUs this process may run on (sched_getaffinity), 1..8. */
unsigned folio__server_auto_io_threads(void);
/* Start serving `db` (borrowed; must outlive the server). `endpoints[0..nendpoints)` are
 * taken over (NULL with 0 for none). With cfg->auto_endpoints every table is also served
 * at /api/{table}, except where a given endpoint already has that path. FOLIO_EIO when
 * the address cannot be bound, with err->detail saying why. A cfg->listen_fd >= 0 is
 * taken over: closed when the server stops, or by a failed start. */
folio_status folio__server_start(struct folio_server *srv, const struct folio_server_config *cfg,
                                 folio_db *db, const struct folio_keyring *kr,
                                 struct folio_endpoint *endpoints, size_t nendpoints,
                                 struct folio_error *err);
/* Add one endpoint per table at /api/{table}, exposing every column; a path some
 * endpoint already has is skipped. */
folio_status folio__server_auto_endpoints(struct folio_server *srv);
/* Stop accepting, finish requests in flight, close connections, free per-thread state. */
void folio__server_stop(struct folio_server *srv);

/* The listening socket of a running server (not to be closed: dup() it to start another
 * server on it with cfg->listen_fd), or -1. */
int folio__server_listen_fd(const struct folio_server *srv);
/* Stop accepting new connections (another server sharing the listening socket takes
 * them) and answer every further request with "Connection: close", so that keep-alive
 * clients move over; requests in flight complete. The gauge
 * srv->metrics.open_connections then falls to 0 as clients leave or time out. Call from
 * one thread, before folio__server_stop(). */
void folio__server_quiesce(struct folio_server *srv);

#endif
