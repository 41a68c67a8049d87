/* Shared rate limits and page cache in Redis: see cluster.h. */
#include "server/cluster.h"

#include <hiredis.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "folio/alloc.h"
#include "server/http.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000
#define ENTRY_MAGIC "folio-page-1"

/* GCRA over Redis's own clock (nodes' clocks need not agree): the key holds the
 * theoretical arrival time (microseconds) of the next request; a request is allowed when
 * it would not put that time more than `burst` intervals ahead of now. Returns {allowed,
 * remaining, reset seconds, retry-after seconds}, the node-local bucket's numbers. */
static const char limit_script[] =
    "local rate = tonumber(ARGV[1])\n"
    "local burst = tonumber(ARGV[2])\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local step = 1000000 / rate\n"
    "local tat = tonumber(redis.call('GET', KEYS[1])) or now\n"
    "if tat < now then tat = now end\n"
    "local nt = tat + step\n"
    "local allowed = 0\n"
    "if nt - now <= burst * step + 0.5 then\n"
    "  allowed = 1\n"
    "  tat = nt\n"
    "  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX',\n"
    "             math.ceil((tat - now) / 1000) + 1000)\n"
    "end\n"
    "local remaining = math.floor((burst * step - (tat - now)) / step + 1e-9)\n"
    "if remaining < 0 then remaining = 0 end\n"
    "local reset = math.ceil((tat - now) / 1000000)\n"
    "local retry = 0\n"
    "if allowed == 0 then\n"
    "  retry = math.ceil((nt - now - burst * step) / 1000000)\n"
    "  if retry < 1 then retry = 1 end\n"
    "end\n"
    "return {allowed, remaining, reset, retry}\n";

struct folio_redis {
    const struct folio_cluster_config *cfg;
    struct folio_metrics *m;
    redisContext *c;      /* NULL: not connected */
    uint64_t retry_at_ms; /* no connect before this */
    unsigned backoff_ms;
    bool failing;         /* logged the current run of failures */
    char sha[48];         /* the limit script's SHA1, once loaded */
    char host[FOLIO_CLUSTER_URL_MAX];
    int port;
};

void folio__cluster_config_defaults(struct folio_cluster_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->timeout_ms = 10;
    cfg->limits = true;
    cfg->cache = true;
}

static bool parse_url(const char *url, char *host, size_t hn, int *port)
{
    if (strncmp(url, "redis://", 8) != 0)
        return false;
    const char *h = url + 8;
    size_t len = strcspn(h, ":/");
    if (len == 0 || len >= hn)
        return false;
    memcpy(host, h, len);
    host[len] = '\0';
    *port = 6379;
    const char *p = h + len;
    if (*p == ':') {
        char *end;
        long v = strtol(p + 1, &end, 10);
        if (end == p + 1 || v < 1 || v > 65535 || (*end != '\0' && *end != '/'))
            return false;
        *port = (int)v;
        p = end;
    }
    return *p == '\0' || strcmp(p, "/") == 0 || strcmp(p, "/0") == 0;
}

bool folio__cluster_url_ok(const char *url, char *why, size_t n)
{
    char host[FOLIO_CLUSTER_URL_MAX];
    int port;
    if (strlen(url) >= FOLIO_CLUSTER_URL_MAX || !parse_url(url, host, sizeof host, &port)) {
        snprintf(why, n, "expected redis://HOST[:PORT] (database 0, no password), got '%s'",
                 url);
        return false;
    }
    return true;
}

folio_status folio__redis_new(struct folio_redis **out, const struct folio_cluster_config *cfg,
                              struct folio_metrics *m)
{
    struct folio_redis *r = folio_calloc(1, sizeof *r);
    if (r == NULL)
        return FOLIO_ENOMEM;
    r->cfg = cfg;
    r->m = m;
    if (!parse_url(cfg->redis, r->host, sizeof r->host, &r->port))
        r->port = 0; /* checked at load: never here */
    *out = r;
    return FOLIO_OK;
}

void folio__redis_free(struct folio_redis *r)
{
    if (r == NULL)
        return;
    if (r->c != NULL)
        redisFree(r->c);
    folio_free(r);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct timeval timeout_of(const struct folio_redis *r)
{
    unsigned ms = r->cfg->timeout_ms ? r->cfg->timeout_ms : 10;
    return (struct timeval){(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
}

/* Drop the connection after a failure, count it, log the first of a run. */
static void failed(struct folio_redis *r, const char *why)
{
    atomic_fetch_add_explicit(&r->m->redis_errors, 1, memory_order_relaxed);
    if (!r->failing)
        fprintf(stderr, "folio: redis %s:%d: %s; serving without it (cache off, limits: %s), "
                        "reconnecting\n",
                r->host, r->port, why, r->cfg->fail_closed ? "refused" : "per node");
    r->failing = true;
    if (r->c != NULL)
        redisFree(r->c);
    r->c = NULL;
    r->sha[0] = '\0';
    r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (r->backoff_ms > BACKOFF_MAX_MS)
        r->backoff_ms = BACKOFF_MAX_MS;
    r->retry_at_ms = mono_ms() + r->backoff_ms;
}

static bool ready(struct folio_redis *r)
{
    if (r->c != NULL)
        return true;
    if (r->port == 0 || mono_ms() < r->retry_at_ms) {
        if (r->port != 0)
            atomic_fetch_add_explicit(&r->m->redis_errors, 1, memory_order_relaxed);
        return false;
    }
    struct timeval tv = timeout_of(r);
    r->c = redisConnectWithTimeout(r->host, r->port, tv);
    if (r->c == NULL || r->c->err != 0) {
        failed(r, r->c ? r->c->errstr : "out of memory");
        return false;
    }
    if (redisSetTimeout(r->c, tv) != REDIS_OK) {
        failed(r, "cannot set the timeout");
        return false;
    }
    atomic_fetch_add_explicit(&r->m->redis_connects, 1, memory_order_relaxed);
    if (r->failing)
        fprintf(stderr, "folio: redis %s:%d: connected again\n", r->host, r->port);
    r->failing = false;
    r->backoff_ms = 0;
    return true;
}

/* One command; NULL (connection dropped, failure counted) when Redis did not answer in
 * time or the connection broke. An error reply is returned: the caller decides. */
static redisReply *command(struct folio_redis *r, int argc, const char **argv,
                           const size_t *lens)
{
    if (!ready(r))
        return NULL;
    redisReply *rep = redisCommandArgv(r->c, argc, argv, lens);
    if (rep == NULL) {
        failed(r, r->c->errstr[0] ? r->c->errstr : "no reply");
        return NULL;
    }
    return rep;
}

/* --- rate limits -------------------------------------------------------------------- */

folio_status folio__redis_ratelimit(struct folio_redis *r, const char *client, size_t len,
                                    uint32_t scope, double rate, unsigned burst,
                                    struct folio_ratelimit_result *out)
{
    char key[160], srate[48], sburst[24];
    int kn = snprintf(key, sizeof key, "folio:rl:%u:", scope);
    if (len > sizeof key - (size_t)kn)
        len = sizeof key - (size_t)kn;
    memcpy(key + kn, client, len);
    snprintf(srate, sizeof srate, "%.17g", rate);
    snprintf(sburst, sizeof sburst, "%u", burst);
    redisReply *rep = NULL;
    if (ready(r) && r->sha[0] != '\0') {
        const char *argv[] = {"EVALSHA", r->sha, "1", key, srate, sburst};
        size_t lens[] = {7, strlen(r->sha), 1, (size_t)kn + len, strlen(srate), strlen(sburst)};
        rep = command(r, 6, argv, lens);
        if (rep != NULL && rep->type == REDIS_REPLY_ERROR &&
            strncmp(rep->str, "NOSCRIPT", 8) == 0) {
            freeReplyObject(rep); /* Redis restarted or flushed its scripts */
            rep = NULL;
            r->sha[0] = '\0';
        }
    }
    if (rep == NULL && r->c != NULL) {
        const char *argv[] = {"EVAL", limit_script, "1", key, srate, sburst};
        size_t lens[] = {4, sizeof limit_script - 1, 1, (size_t)kn + len, strlen(srate),
                         strlen(sburst)};
        rep = command(r, 6, argv, lens);
        /* EVAL caches the script: later calls send its SHA1 only. */
        const char *load[] = {"SCRIPT", "LOAD", limit_script};
        size_t llens[] = {6, 4, sizeof limit_script - 1};
        redisReply *sha = rep && rep->type == REDIS_REPLY_ARRAY ? command(r, 3, load, llens)
                                                                : NULL;
        if (sha != NULL && sha->type == REDIS_REPLY_STRING && sha->len < sizeof r->sha)
            memcpy(r->sha, sha->str, sha->len + 1);
        if (sha != NULL)
            freeReplyObject(sha);
    }
    if (rep == NULL)
        return FOLIO_EIO; /* counted by command() or ready() */
    bool ok = rep->type == REDIS_REPLY_ARRAY && rep->elements == 4;
    for (size_t i = 0; ok && i < 4; i++)
        ok = rep->element[i]->type == REDIS_REPLY_INTEGER && rep->element[i]->integer >= 0;
    if (ok) {
        out->allowed = rep->element[0]->integer == 1;
        out->limit = burst;
        out->remaining = (unsigned)rep->element[1]->integer;
        out->reset = (unsigned)rep->element[2]->integer;
        out->retry_after = (unsigned)rep->element[3]->integer;
    } else {
        atomic_fetch_add_explicit(&r->m->redis_errors, 1, memory_order_relaxed);
        if (!r->failing)
            fprintf(stderr, "folio: redis %s:%d: the rate limit script failed: %s\n", r->host,
                    r->port, rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        r->failing = true;
    }
    freeReplyObject(rep);
    return ok ? FOLIO_OK : FOLIO_EIO;
}

/* --- page cache --------------------------------------------------------------------- */

/* The entry: ENTRY_MAGIC, then fields as 4-byte lengths followed by bytes: status, rows,
 * cursor expiry, minted expiry (decimal text), content type, next link ("" = none),
 * the number of headers, each name and value, the body. */
static folio_status put_field(struct folio_buf *b, const char *s, size_t n)
{
    unsigned char len[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                            (unsigned char)(n >> 8), (unsigned char)n};
    folio_buf_append(b, (const char *)len, 4);
    return folio_buf_append(b, s, n);
}

static folio_status put_num(struct folio_buf *b, unsigned long long v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%llu", v);
    return put_field(b, t, (size_t)n);
}

struct reader {
    const char *p, *end;
    bool bad;
};

static const char *get_field(struct reader *rd, size_t *n)
{
    if (rd->bad || rd->end - rd->p < 4) {
        rd->bad = true;
        return NULL;
    }
    const unsigned char *u = (const unsigned char *)rd->p;
    size_t len = (size_t)u[0] << 24 | (size_t)u[1] << 16 | (size_t)u[2] << 8 | u[3];
    rd->p += 4;
    if ((size_t)(rd->end - rd->p) < len) {
        rd->bad = true;
        return NULL;
    }
    const char *s = rd->p;
    rd->p += len;
    *n = len;
    return s;
}

static unsigned long long get_num(struct reader *rd)
{
    size_t n;
    const char *s = get_field(rd, &n);
    char t[24];
    if (s == NULL || n == 0 || n >= sizeof t) {
        rd->bad = true;
        return 0;
    }
    memcpy(t, s, n);
    t[n] = '\0';
    return strtoull(t, NULL, 10);
}

static bool header_kept(const char *name)
{
    /* As the node-local cache: rate limit and CORS headers belong to each request. */
    return strncmp(name, "RateLimit", 9) != 0 && strncmp(name, "Access-Control", 14) != 0 &&
           strcmp(name, "Vary") != 0 && strcmp(name, "Retry-After") != 0;
}

static int cache_key(char *out, size_t n, uint64_t token, const char *key, size_t key_len)
{
    int k = snprintf(out, n, "folio:page:%llu:", (unsigned long long)token);
    if (k < 0 || (size_t)k + key_len >= n)
        return -1;
    memcpy(out + k, key, key_len);
    return k + (int)key_len;
}

bool folio__cluster_cache_serve(struct folio_redis *r, struct folio_http *h, uint64_t token,
                                const char *key, size_t key_len)
{
    char k[8400];
    int kn = cache_key(k, sizeof k, token, key, key_len);
    if (kn < 0)
        return false;
    const char *argv[] = {"GET", k};
    size_t lens[] = {3, (size_t)kn};
    redisReply *rep = command(r, 2, argv, lens);
    if (rep == NULL)
        return false;
    if (rep->type != REDIS_REPLY_STRING || rep->len < sizeof ENTRY_MAGIC - 1 ||
        memcmp(rep->str, ENTRY_MAGIC, sizeof ENTRY_MAGIC - 1) != 0) {
        atomic_fetch_add_explicit(&r->m->shared_cache_misses, 1, memory_order_relaxed);
        freeReplyObject(rep);
        return false;
    }
    struct reader rd = {rep->str + sizeof ENTRY_MAGIC - 1, rep->str + rep->len, false};
    int status = (int)get_num(&rd);
    int rows = (int)get_num(&rd);
    uint64_t cursor_expires = get_num(&rd), minted = get_num(&rd);
    size_t ctn = 0, nextn = 0, hn = 0;
    const char *ct = get_field(&rd, &ctn);
    const char *next = get_field(&rd, &nextn);
    unsigned long long nh = get_num(&rd);
    /* Headers and the body go to the worker's buffers; a malformed entry is a miss. */
    bool ok = !rd.bad && status == 200 && ct != NULL && ctn == 16 &&
              memcmp(ct, "application/json", 16) == 0 && nh <= FOLIO_HTTP_MAX_HEADERS &&
              (cursor_expires == 0 || (uint64_t)time(NULL) < cursor_expires);
    const char *names[FOLIO_HTTP_MAX_HEADERS], *values[FOLIO_HTTP_MAX_HEADERS];
    size_t nlen[FOLIO_HTTP_MAX_HEADERS], vlen[FOLIO_HTTP_MAX_HEADERS];
    for (unsigned long long i = 0; ok && i < nh; i++) {
        names[i] = get_field(&rd, &nlen[i]);
        values[i] = get_field(&rd, &vlen[i]);
        ok = !rd.bad;
    }
    const char *body = ok ? get_field(&rd, &hn) : NULL;
    ok = ok && !rd.bad && body != NULL;
    if (ok) {
        folio_buf_reset(&h->w->body);
        folio_buf_append(&h->w->body, body, hn);
        char name[128], value[4096];
        for (unsigned long long i = 0; i < nh; i++) {
            if (nlen[i] >= sizeof name || vlen[i] >= sizeof value)
                continue;
            memcpy(name, names[i], nlen[i]);
            name[nlen[i]] = '\0';
            memcpy(value, values[i], vlen[i]);
            value[vlen[i]] = '\0';
            folio__http_header_add(h, name, value);
        }
        h->status = 200;
        h->rows = rows;
        h->content_type = "application/json";
        h->cursor_expires = cursor_expires;
        h->minted_expires = minted;
        h->next_url = NULL;
        if (nextn > 0) {
            folio_buf_reset(&h->w->links);
            folio_buf_append(&h->w->links, next, nextn);
            if (folio_buf_putc(&h->w->links, '\0') == FOLIO_OK)
                h->next_url = h->w->links.data;
        }
        ok = folio_buf_status(&h->w->body) == FOLIO_OK;
    }
    freeReplyObject(rep);
    atomic_fetch_add_explicit(ok ? &r->m->shared_cache_hits : &r->m->shared_cache_misses, 1,
                              memory_order_relaxed);
    return ok;
}

void folio__cluster_cache_store(struct folio_redis *r, const struct folio_http *h,
                                uint64_t token, const char *key, size_t key_len,
                                unsigned ttl_ms, uint64_t cursor_ttl)
{
    if (h->status != 200 || h->w->body.data == NULL || h->content_type == NULL ||
        strcmp(h->content_type, "application/json") != 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int64_t ttl = ttl_ms;
    /* Never past the request's cursor, and only while the page's own cursors keep at
     * least half of their life (the node-local cache's rule, prefetch.c). */
    if (h->cursor_expires != 0 && (int64_t)h->cursor_expires * 1000 - now < ttl)
        ttl = (int64_t)h->cursor_expires * 1000 - now;
    if (h->minted_expires != 0 && cursor_ttl != 0) {
        int64_t until = (int64_t)h->minted_expires * 1000 - (int64_t)cursor_ttl * 500 - now;
        if (until < ttl)
            ttl = until;
    }
    if (ttl <= 0)
        return;
    struct folio_buf b;
    folio_buf_init(&b, h->w->body.len + 64 * 1024);
    folio_buf_puts(&b, ENTRY_MAGIC);
    put_num(&b, (unsigned long long)h->status);
    put_num(&b, (unsigned long long)(h->rows > 0 ? h->rows : 0));
    put_num(&b, h->cursor_expires);
    put_num(&b, h->minted_expires);
    put_field(&b, h->content_type, strlen(h->content_type));
    put_field(&b, h->next_url ? h->next_url : "", h->next_url ? strlen(h->next_url) : 0);
    size_t nh = 0;
    for (size_t i = 0; i < h->nheaders; i++)
        nh += header_kept(h->w->headers.data + h->headers[i].name);
    put_num(&b, nh);
    for (size_t i = 0; i < h->nheaders; i++) {
        const char *name = h->w->headers.data + h->headers[i].name;
        const char *value = h->w->headers.data + h->headers[i].value;
        if (!header_kept(name))
            continue;
        put_field(&b, name, strlen(name));
        put_field(&b, value, strlen(value));
    }
    folio_status st = put_field(&b, h->w->body.data, h->w->body.len);
    char k[8400], sttl[24];
    int kn = cache_key(k, sizeof k, token, key, key_len);
    if (st == FOLIO_OK && kn >= 0) {
        snprintf(sttl, sizeof sttl, "%lld", (long long)ttl);
        const char *argv[] = {"SET", k, b.data, "PX", sttl};
        size_t lens[] = {3, (size_t)kn, b.len, 2, strlen(sttl)};
        redisReply *rep = command(r, 5, argv, lens);
        if (rep != NULL) {
            if (rep->type == REDIS_REPLY_STATUS)
                atomic_fetch_add_explicit(&r->m->shared_cache_stores, 1, memory_order_relaxed);
            else
                atomic_fetch_add_explicit(&r->m->redis_errors, 1, memory_order_relaxed);
            freeReplyObject(rep);
        }
    }
    folio_buf_clear(&b);
}
