/* Prefetch pool and page cache: see prefetch.h. */
#include "server/prefetch.h"

#include "server/response.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>


#define BUCKETS 4096
#define MAX_URL 8192
/* Slots of the two small tables that learn who walks (hashes only, newest wins). */
#define LEARN_SLOTS 4096

enum state { IN_FLIGHT, READY };

struct entry {
    struct entry *chain;            /* hash bucket list */
    struct entry *prev, *next;      /* LRU list, most recent first */
    uint64_t hash;
    char *key;
    size_t key_len;
    enum state state;
    bool prefetched;                /* filled by the background pool */
    bool keep;                      /* in flight: its fetcher stores the page */
    bool first_page;                /* the page has no previous page */
    uint64_t next_hash;             /* hash of next_url (0: none) */
    uint64_t epoch;
    uint64_t born_ms;
    uint64_t cursor_expires;        /* unix seconds; the response is invalid from then on */
    uint64_t minted_expires;        /* unix seconds: expiry of the cursors the page hands out */
    int status;
    int rows;
    const char *content_type;       /* static strings only */
    char *body;
    size_t body_len;
    char *gz;                       /* the body gzip-compressed (gzip.h), or NULL */
    size_t gz_len;
    char *next_url;                 /* the page's next link, to keep prefetching on hits */
    char *headers;                  /* name\0value\0 ... */
    size_t headers_len;
    size_t nheaders;
    size_t bytes;
};

struct job {
    char url[MAX_URL];
    struct folio_scope scope; /* the scope of the request whose next page this is */
};

struct folio_prefetch {
    struct folio_prefetch_host host;
    struct folio_prefetch_config cfg;
    atomic_uint_fast64_t epoch;
    /* One connection watches the data version for every thread: versions of different
     * connections cannot be compared, so per-worker checks had to treat a worker's first
     * check as a change, and every new thread emptied the cache (and broke single flight
     * on a cold server). */
    pthread_mutex_t watch_lock;
    folio_db_conn *watch;   /* NULL: cannot tell, nothing cached is ever served */
    uint64_t watch_version;
    /* When the database has one (SQLite: inotify), the hint that nothing was written,
     * which spares the check its file locks; NULL: every check reads data_version. */
    struct folio_db_hint *hint;
    bool watch_unsure; /* the last data_version read failed: the next one reads again */
    pthread_mutex_t lock;
    pthread_cond_t filled; /* an entry left IN_FLIGHT */
    pthread_cond_t work;   /* a job was queued, or stop */
    struct entry *buckets[BUCKETS];
    struct entry *lru_head, *lru_tail;
    size_t bytes;
    struct job *jobs;      /* ring of cfg.queue */
    size_t job_head, job_count;
    bool stop;
    size_t nthreads;
    pthread_t *threads;
    /* What prefetch learns, by hash of the cache key. `expect`: the next links of pages
     * served lately; a request for one is a client following links, i.e. walking.
     * `seen` (under the lock): keys missed once; a second miss keeps the page. A clash
     * of two keys in a slot only costs a prefetch or a copy, never a wrong page. */
    atomic_uint_fast64_t expect[LEARN_SLOTS];
    uint64_t seen[LEARN_SLOTS];
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t hash_more(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static uint64_t hash_of(const char *s, size_t n)
{
    return hash_more(1469598103934665603ULL, s, n);
}

/* The hash of the cache key a request for the link `url` in `scope` will have (the
 * link is in the key's form already: folio__prefetch_key of its parse gives it back). */
static uint64_t link_hash(const char *url, size_t len, const struct folio_scope *scope)
{
    uint64_t h = hash_of(url, len);
    if (scope->n == 0)
        return h;
    struct folio_buf sk;
    folio_buf_init(&sk, 256);
    if (folio__auth_scope_key(&sk, scope) == FOLIO_OK && sk.data != NULL)
        h = hash_more(h, sk.data, sk.len);
    folio_buf_clear(&sk);
    return h;
}

/* --- cache (call with the lock held) ------------------------------------------------ */

static struct entry *find(struct folio_prefetch *p, const char *key, size_t len, uint64_t h)
{
    for (struct entry *e = p->buckets[h % BUCKETS]; e != NULL; e = e->chain)
        if (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0)
            return e;
    return NULL;
}

static void lru_unlink(struct folio_prefetch *p, struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        p->lru_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        p->lru_tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(struct folio_prefetch *p, struct entry *e)
{
    e->prev = NULL;
    e->next = p->lru_head;
    if (p->lru_head)
        p->lru_head->prev = e;
    p->lru_head = e;
    if (p->lru_tail == NULL)
        p->lru_tail = e;
}

static void account(struct folio_prefetch *p, int64_t delta)
{
    p->bytes = (size_t)((int64_t)p->bytes + delta);
    atomic_fetch_add_explicit(&p->host.metrics->cache_bytes, delta, memory_order_relaxed);
}

static void drop(struct folio_prefetch *p, struct entry *e)
{
    struct entry **pp = &p->buckets[e->hash % BUCKETS];
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    lru_unlink(p, e);
    account(p, -(int64_t)e->bytes);
    folio_free(e->key);
    folio_free(e->next_url);
    folio_free(e->body);
    folio_free(e->gz);
    folio_free(e->headers);
    folio_free(e);
}

/* Evict least recently used READY entries until `need` more bytes fit. */
static void make_room(struct folio_prefetch *p, size_t need)
{
    struct entry *e = p->lru_tail;
    while (e != NULL && p->bytes + need > p->cfg.cache_bytes) {
        struct entry *prev = e->prev;
        if (e->state == READY)
            drop(p, e);
        e = prev;
    }
}

static struct entry *insert_in_flight(struct folio_prefetch *p, const char *key, size_t len,
                                      uint64_t h)
{
    size_t bytes = sizeof(struct entry) + len;
    make_room(p, bytes);
    if (p->bytes + bytes > p->cfg.cache_bytes)
        return NULL;
    struct entry *e = folio_calloc(1, sizeof *e);
    char *k = folio_strndup(key, len);
    if (e == NULL || k == NULL) {
        folio_free(e);
        folio_free(k);
        return NULL;
    }
    e->key = k;
    e->key_len = len;
    e->hash = h;
    e->state = IN_FLIGHT;
    e->bytes = bytes;
    e->chain = p->buckets[h % BUCKETS];
    p->buckets[h % BUCKETS] = e;
    lru_push(p, e);
    account(p, (int64_t)bytes);
    return e;
}

/* --- epoch ------------------------------------------------------------------------- */

/* The epoch, and the change token it was read with (0: cannot tell). */
static uint64_t epoch_token(struct folio_prefetch *p, uint64_t *out_token)
{
    uint64_t v = 0;
    pthread_mutex_lock(&p->watch_lock);
    if (p->watch != NULL && !p->watch_unsure && !folio__db_hint_poll(p->hint)) {
        *out_token = p->watch_version; /* nothing written since it was read */
        uint64_t epoch = atomic_load(&p->epoch);
        pthread_mutex_unlock(&p->watch_lock);
        return epoch;
    }
    bool read = p->watch != NULL && folio__db_data_version(p->watch, &v) == FOLIO_OK;
    bool changed = !read || v != p->watch_version; /* cannot tell counts as a change */
    p->watch_unsure = !read;
    p->watch_version = v;
    *out_token = read ? v : 0;
    uint64_t epoch = changed ? atomic_fetch_add(&p->epoch, 1) + 1 : atomic_load(&p->epoch);
    pthread_mutex_unlock(&p->watch_lock);
    return epoch;
}

uint64_t folio__prefetch_epoch(struct folio_prefetch *p, struct folio_worker *w)
{
    (void)w;
    uint64_t token;
    return epoch_token(p, &token);
}

/* --- keys -------------------------------------------------------------------------- */

folio_status folio__prefetch_key(struct folio_buf *out, const char *path,
                                 const struct folio_param *params, size_t n)
{
    folio_status st = folio_buf_puts(out, path);
    for (size_t i = 0; i < n && st == FOLIO_OK; i++) {
        st = folio_buf_putc(out, i ? '&' : '?');
        if (st == FOLIO_OK)
            st = folio_url_encode(out, params[i].key, strlen(params[i].key));
        if (st == FOLIO_OK && params[i].value != NULL) {
            st = folio_buf_putc(out, '=');
            if (st == FOLIO_OK)
                st = folio_url_encode(out, params[i].value, strlen(params[i].value));
        }
    }
    return st;
}

/* --- serving ----------------------------------------------------------------------- */

static void fill_response(struct folio_http *h, const struct entry *e)
{
    folio_buf_reset(&h->w->body);
    folio_buf_append(&h->w->body, e->body, e->body_len);
    /* The stored compressed copy: a hit never compresses again. */
    folio_buf_reset(&h->w->gz);
    h->gz_ready = e->gz != NULL && folio_buf_append(&h->w->gz, e->gz, e->gz_len) == FOLIO_OK;
    const char *s = e->headers;
    for (size_t i = 0; i < e->nheaders; i++) {
        const char *name = s;
        const char *value = name + strlen(name) + 1;
        folio__http_header_add(h, name, value);
        s = value + strlen(value) + 1;
    }
    h->status = e->status;
    h->rows = e->rows;
    h->content_type = e->content_type;
    h->first_page = e->first_page;
    h->next_url = NULL;
    if (e->next_url != NULL) {
        folio_buf_reset(&h->w->links);
        if (folio_buf_puts(&h->w->links, e->next_url) == FOLIO_OK)
            h->next_url = h->w->links.data;
    }
}

/* The rule for cursors in cached pages (docs/internals/caches.md): every cursor a cached
 * page hands out still has at least half of the cursor ttl to live. */
static bool cursors_fresh(const struct folio_prefetch *p, const struct entry *e)
{
    uint64_t ttl = p->host.cursor_ttl;
    if (e->minted_expires == 0 || ttl == 0)
        return true;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    uint64_t expires = e->minted_expires * 1000u;
    return expires > now && (expires - now) * 2 >= ttl * 1000u;
}

bool folio__prefetch_serve(struct folio_prefetch *p, struct folio_http *h, const char *key,
                           size_t key_len, bool nowait, struct folio_prefetch_ticket *t)
{
    uint64_t hsh = hash_of(key, key_len);
    size_t slot = hsh % LEARN_SLOTS;
    memset(t, 0, sizeof *t);
    t->hash = hsh;
    /* The low bit of an `expect` entry says the link was handed out on a walk's step. */
    uint64_t ex = atomic_load_explicit(&p->expect[slot], memory_order_relaxed);
    t->follow = (ex | 1) == (hsh | 1);
    t->walk = t->follow && (ex & 1);
    uint64_t epoch = epoch_token(p, &t->token);
    t->epoch = epoch;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += p->cfg.wait_ms / 1000;
    deadline.tv_nsec += (long)(p->cfg.wait_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->lock);
    for (;;) {
        struct entry *e = find(p, key, key_len, hsh);
        if (e == NULL) {
            /* We fetch it; others wait for us. Kept when asked for before (or walked to);
             * a page asked for once costs no copy and evicts nothing. */
            bool again = p->seen[slot] == hsh;
            t->seen_prev = p->seen[slot];
            p->seen[slot] = hsh;
            e = insert_in_flight(p, key, key_len, hsh);
            if (e != NULL)
                e->keep = again || t->walk;
            t->keep = e != NULL && e->keep;
            break;
        }
        if (e->state == IN_FLIGHT) {
            if (nowait) {
                t->busy = true; /* the caller may not wait here: it hands the request on */
                pthread_mutex_unlock(&p->lock);
                return false;
            }
            /* Single flight: wait for the fetch in progress rather than query again; the
             * fetcher keeps the page for us. */
            e->keep = true;
            if (pthread_cond_timedwait(&p->filled, &p->lock, &deadline) == ETIMEDOUT)
                break; /* too slow: answer this request ourselves */
            continue;
        }
        bool fresh = e->epoch == epoch && now_ms() - e->born_ms <= p->cfg.ttl_ms &&
                     (e->cursor_expires == 0 || (uint64_t)time(NULL) < e->cursor_expires) &&
                     cursors_fresh(p, e);
        if (fresh) {
            lru_unlink(p, e);
            lru_push(p, e);
            fill_response(h, e);
            bool prefetched = e->prefetched;
            t->walk = t->walk || prefetched;
            t->next_hash = e->next_hash;
            pthread_mutex_unlock(&p->lock);
            if (prefetched)
                atomic_fetch_add_explicit(&p->host.metrics->prefetch_hits, 1,
                                          memory_order_relaxed);
            return true;
        }
        /* Stale (the data changed, or too old): refetch it under single flight. */
        t->seen_prev = p->seen[slot];
        drop(p, e);
        e = insert_in_flight(p, key, key_len, hsh);
        if (e != NULL)
            e->keep = true;
        t->keep = e != NULL;
        break;
    }
    pthread_mutex_unlock(&p->lock);
    t->nowait = nowait;
    if (!nowait) /* else when stored: an abandoned try is asked again, and counted then */
        atomic_fetch_add_explicit(&p->host.metrics->prefetch_misses, 1, memory_order_relaxed);
    return false;
}

/* `keep`: store even when the in-flight entry is not marked to be kept. */
static void store(struct folio_prefetch *p, const struct folio_http *h, const char *key,
                  size_t key_len, uint64_t hsh, uint64_t epoch, bool keep, bool prefetched)
{
    pthread_mutex_lock(&p->lock);
    struct entry *e = find(p, key, key_len, hsh);
    if (e != NULL && e->state == IN_FLIGHT) {
        if (!keep && !e->keep) {
            drop(p, e); /* asked for once: not kept */
        } else if (h->status != 200 || h->w->body.data == NULL) {
            drop(p, e); /* errors are not cached */
        } else {
            size_t hl = 0, nh = 0;
            for (size_t i = 0; i < h->nheaders; i++) {
                const char *name = h->w->headers.data + h->headers[i].name;
                /* Rate limit and CORS headers belong to each request, not to the page. */
                if (strncmp(name, "RateLimit", 9) == 0 || strncmp(name, "Access-Control", 14) == 0 ||
                    strcmp(name, "Vary") == 0)
                    continue;
                hl += strlen(name) + 1 + strlen(h->w->headers.data + h->headers[i].value) + 1;
                nh++;
            }
            size_t nl = h->next_url ? strlen(h->next_url) + 1 : 0;
            size_t gl = h->gz_ready ? h->w->gz.len : 0;
            size_t bytes = h->w->body.len + hl + nl + gl;
            make_room(p, bytes);
            char *body = folio_malloc(h->w->body.len);
            char *gz = gl ? folio_malloc(gl) : NULL;
            char *hdr = folio_malloc(hl ? hl : 1);
            char *next = h->next_url ? folio_strdup(h->next_url) : NULL;
            if (body == NULL || hdr == NULL || (h->next_url && next == NULL) ||
                (gl && gz == NULL) || p->bytes + bytes > p->cfg.cache_bytes) {
                folio_free(gz);
                folio_free(body);
                folio_free(hdr);
                folio_free(next);
                drop(p, e);
            } else {
                memcpy(body, h->w->body.data, h->w->body.len);
                if (gl)
                    memcpy(gz, h->w->gz.data, gl);
                e->gz = gz;
                e->gz_len = gl;
                size_t off = 0;
                for (size_t i = 0; i < h->nheaders; i++) {
                    const char *name = h->w->headers.data + h->headers[i].name;
                    const char *value = h->w->headers.data + h->headers[i].value;
                    if (strncmp(name, "RateLimit", 9) == 0 ||
                        strncmp(name, "Access-Control", 14) == 0 || strcmp(name, "Vary") == 0)
                        continue;
                    memcpy(hdr + off, name, strlen(name) + 1);
                    off += strlen(name) + 1;
                    memcpy(hdr + off, value, strlen(value) + 1);
                    off += strlen(value) + 1;
                }
                e->body = body;
                e->next_url = next;
                e->body_len = h->w->body.len;
                e->headers = hdr;
                e->headers_len = hl;
                e->nheaders = nh;
                e->status = h->status;
                e->rows = h->rows;
                e->content_type = h->content_type;
                e->epoch = epoch;
                e->born_ms = now_ms();
                e->cursor_expires = h->cursor_expires;
                e->minted_expires = h->minted_expires;
                e->prefetched = prefetched;
                e->first_page = h->first_page;
                e->next_hash = next ? link_hash(next, nl - 1, &h->principal.scope) : 0;
                e->state = READY;
                e->bytes += bytes;
                account(p, (int64_t)bytes);
            }
        }
    }
    pthread_cond_broadcast(&p->filled);
    pthread_mutex_unlock(&p->lock);
}

void folio__prefetch_store(struct folio_prefetch *p, const struct folio_http *h, const char *key,
                           size_t key_len, const struct folio_prefetch_ticket *t)
{
    if (t->nowait)
        atomic_fetch_add_explicit(&p->host.metrics->prefetch_misses, 1, memory_order_relaxed);
    store(p, h, key, key_len, t->hash, t->epoch, false, false);
}

void folio__prefetch_abandon(struct folio_prefetch *p, const char *key, size_t key_len,
                             const struct folio_prefetch_ticket *t)
{
    pthread_mutex_lock(&p->lock);
    struct entry *e = find(p, key, key_len, t->hash);
    if (e != NULL && e->state == IN_FLIGHT)
        drop(p, e);
    /* Not asked for yet, as far as keeping goes: the request is asked again elsewhere. */
    size_t slot = t->hash % LEARN_SLOTS;
    if (p->seen[slot] == t->hash)
        p->seen[slot] = t->seen_prev;
    pthread_cond_broadcast(&p->filled); /* waiters fetch it themselves */
    pthread_mutex_unlock(&p->lock);
}

void folio__prefetch_attach_gz(struct folio_prefetch *p, const struct folio_http *h,
                               const char *key, size_t key_len,
                               const struct folio_prefetch_ticket *t)
{
    size_t gl = h->w->gz.len;
    char *gz = gl ? folio_malloc(gl) : NULL;
    if (gz == NULL)
        return;
    memcpy(gz, h->w->gz.data, gl);
    pthread_mutex_lock(&p->lock);
    struct entry *e = find(p, key, key_len, t->hash);
    /* The same entry as served: READY, of this epoch, with this body. */
    if (e != NULL && e->state == READY && e->gz == NULL && e->epoch == t->epoch &&
        e->body_len == h->w->body.len && p->bytes + gl <= p->cfg.cache_bytes) {
        e->gz = gz;
        e->gz_len = gl;
        e->bytes += gl;
        account(p, (int64_t)gl);
        gz = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    folio_free(gz);
}

void folio__prefetch_next(struct folio_prefetch *p, const struct folio_http *h,
                          const struct folio_prefetch_ticket *t)
{
    if (h->status != 200 || h->next_url == NULL)
        return;
    uint64_t nh = t->next_hash ? t->next_hash
                                : link_hash(h->next_url, strlen(h->next_url), &h->principal.scope);
    /* Remembered also when it is fetched now: should the fetch be skipped (a full queue),
     * the client who follows the link is still known to walk. One followed link is marked,
     * not yet trusted: a random request can hit the next page of another one. */
    bool step = t->walk || t->follow || h->first_page;
    atomic_store_explicit(&p->expect[nh % LEARN_SLOTS], (nh & ~(uint64_t)1) | step,
                          memory_order_relaxed);
    if (t->walk || h->first_page)
        folio__prefetch_enqueue(p, h->next_url, &h->principal.scope);
    else
        atomic_fetch_add_explicit(&p->host.metrics->prefetch_declined, 1, memory_order_relaxed);
}

/* --- background fetchers ----------------------------------------------------------- */

/* Split a relative URL (in place) into its decoded path (left in `url`) and parameters,
 * as libmicrohttpd would for a request. False on a NUL byte or a bad escape. */
static bool parse_url(char *url, struct folio_param *params, size_t *out_n)
{
    size_t n = 0;
    char *q = strchr(url, '?');
    if (q != NULL)
        *q++ = '\0';
    if (folio_url_decode(url) != FOLIO_OK)
        return false;
    while (q != NULL && *q && n < FOLIO_HTTP_MAX_PARAMS) {
        char *amp = strchr(q, '&');
        if (amp)
            *amp = '\0';
        char *eq = strchr(q, '=');
        if (eq)
            *eq++ = '\0';
        if (folio_url_decode(q) != FOLIO_OK || (eq && folio_url_decode(eq) != FOLIO_OK))
            return false;
        params[n++] = (struct folio_param){q, eq};
        q = amp ? amp + 1 : NULL;
    }
    *out_n = n;
    return true;
}

/* `h` is the fetcher's own request struct (large: kept off the stack, reused). */
static void run_job(struct folio_prefetch *p, struct folio_worker *w, struct folio_http *h,
                    char *url, const struct folio_scope *scope)
{
    memset(h, 0, sizeof *h);
    h->w = w;
    h->method = "GET";
    if (!parse_url(url, h->params, &h->nparams))
        return;
    h->path = url;
    h->principal.scope = *scope; /* fetched in the scope it was asked in, and kept under it */
    struct folio_buf key;
    folio_buf_init(&key, MAX_URL * 3);
    if (folio__prefetch_key(&key, h->path, h->params, h->nparams) != FOLIO_OK ||
        folio__auth_scope_key(&key, scope) != FOLIO_OK || key.data == NULL) {
        folio_buf_clear(&key);
        return;
    }
    /* Epoch first, then the query: the entry never claims to be newer than its data. */
    uint64_t epoch = folio__prefetch_epoch(p, w);
    folio_buf_reset(&w->body);
    folio_buf_reset(&w->headers);
    if (p->host.run(p->host.ctx, h))
        store(p, h, key.data, key.len, hash_of(key.data, key.len), epoch, true, true);
    folio_buf_clear(&key);
}

static void *fetcher(void *arg)
{
    struct folio_prefetch *p = arg;
    struct folio_worker *w = p->host.worker_new(p->host.ctx);
    struct folio_http *h = folio_malloc(sizeof *h);
    char url[MAX_URL];
    struct folio_scope scope;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->job_count == 0 && !p->stop)
            pthread_cond_wait(&p->work, &p->lock);
        if (p->stop)
            break;
        memcpy(url, p->jobs[p->job_head].url, sizeof url);
        scope = p->jobs[p->job_head].scope;
        p->job_head = (p->job_head + 1) % p->cfg.queue;
        p->job_count--;
        pthread_mutex_unlock(&p->lock);
        if (w != NULL && h != NULL) {
            atomic_fetch_add_explicit(&p->host.metrics->prefetch_started, 1,
                                      memory_order_relaxed);
            run_job(p, w, h, url, &scope);
        }
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    folio_free(h);
    if (w != NULL)
        p->host.worker_free(w);
    return NULL;
}

void folio__prefetch_enqueue(struct folio_prefetch *p, const char *url,
                             const struct folio_scope *scope)
{
    size_t len = strlen(url);
    if (len >= MAX_URL)
        return;
    /* The cache key of the link, to mark it in flight now: parse a copy as a request. */
    char copy[MAX_URL];
    memcpy(copy, url, len + 1);
    struct folio_param params[FOLIO_HTTP_MAX_PARAMS];
    size_t n = 0;
    if (!parse_url(copy, params, &n))
        return;
    struct folio_buf key;
    folio_buf_init(&key, MAX_URL * 3);
    if (folio__prefetch_key(&key, copy, params, n) != FOLIO_OK ||
        folio__auth_scope_key(&key, scope) != FOLIO_OK || key.data == NULL) {
        folio_buf_clear(&key);
        return;
    }
    uint64_t hsh = hash_of(key.data, key.len);
    pthread_mutex_lock(&p->lock);
    bool queued = false;
    if (find(p, key.data, key.len, hsh) == NULL && p->job_count < p->cfg.queue &&
        insert_in_flight(p, key.data, key.len, hsh) != NULL) {
        size_t slot = (p->job_head + p->job_count) % p->cfg.queue;
        memcpy(p->jobs[slot].url, url, len + 1);
        p->jobs[slot].scope = *scope;
        p->job_count++;
        queued = true;
        pthread_cond_signal(&p->work);
    }
    pthread_mutex_unlock(&p->lock);
    folio_buf_clear(&key);
    if (!queued)
        atomic_fetch_add_explicit(&p->host.metrics->prefetch_skipped, 1, memory_order_relaxed);
}

folio_status folio__prefetch_new(struct folio_prefetch **out, const struct folio_prefetch_host *host,
                                 const struct folio_prefetch_config *cfg)
{
    struct folio_prefetch *p = folio_calloc(1, sizeof *p);
    if (p == NULL)
        return FOLIO_ENOMEM;
    p->host = *host;
    p->cfg = *cfg;
    if (p->cfg.queue == 0)
        p->cfg.queue = 1;
    p->jobs = folio_calloc(p->cfg.queue, sizeof *p->jobs);
    p->threads = folio_calloc(cfg->threads + 1, sizeof *p->threads);
    if (p->jobs == NULL || p->threads == NULL) {
        folio_free(p->jobs);
        folio_free(p->threads);
        folio_free(p);
        return FOLIO_ENOMEM;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->filled, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_mutex_init(&p->watch_lock, NULL);
    struct folio_error err = {0};
    /* Without change detection the watcher cannot tell: nothing cached is served. */
    if ((folio__db_caps(host->db) & FOLIO_DB_CAP_DATA_VERSION) == 0 ||
        folio__db_connect(host->db, &p->watch, &err) != FOLIO_OK ||
        folio__db_data_version(p->watch, &p->watch_version) != FOLIO_OK) {
        folio__db_disconnect(p->watch);
        p->watch = NULL;
    }
    if (p->watch != NULL)
        p->hint = folio__db_hint_open(p->watch);
    for (unsigned i = 0; i < cfg->threads; i++)
        if (pthread_create(&p->threads[p->nthreads], NULL, fetcher, p) == 0)
            p->nthreads++;
    *out = p;
    return FOLIO_OK;
}

void folio__prefetch_free(struct folio_prefetch *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    /* Jobs never started still hold in-flight entries: dropping everything frees them. */
    while (p->lru_head != NULL)
        drop(p, p->lru_head);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->filled);
    pthread_cond_destroy(&p->work);
    folio__db_hint_close(p->hint);
    folio__db_disconnect(p->watch);
    pthread_mutex_destroy(&p->watch_lock);
    folio_free(p->jobs);
    folio_free(p->threads);
    folio_free(p);
}
