/* Token buckets: see ratelimit.h. */
#include "server/ratelimit.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "folio/alloc.h"

#define STRIPES 64
#define PROBE 8 /* slots searched per client: its home slot and the next ones */

struct bucket {
    uint64_t key;     /* hash of (scope, client); 0 = empty */
    uint64_t seen_ms;
    double tokens;
};

struct folio_ratelimit {
    size_t mask;
    struct bucket *slots;
    pthread_mutex_t locks[STRIPES];
};

folio_status folio__ratelimit_new(struct folio_ratelimit **out, size_t slots)
{
    size_t n = 64;
    while (n < slots)
        n *= 2;
    struct folio_ratelimit *rl = folio_calloc(1, sizeof *rl);
    if (rl == NULL)
        return FOLIO_ENOMEM;
    rl->slots = folio_calloc(n, sizeof *rl->slots);
    if (rl->slots == NULL) {
        folio_free(rl);
        return FOLIO_ENOMEM;
    }
    rl->mask = n - 1;
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_init(&rl->locks[i], NULL);
    *out = rl;
    return FOLIO_OK;
}

void folio__ratelimit_free(struct folio_ratelimit *rl)
{
    if (rl == NULL)
        return;
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&rl->locks[i]);
    folio_free(rl->slots);
    folio_free(rl);
}

static uint64_t hash(const void *p, size_t len, uint32_t scope)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL ^ scope;
    for (size_t i = 0; i < len; i++)
        h = (h ^ s[i]) * 1099511628211ULL;
    h ^= h >> 29;
    return h ? h : 1;
}

/* A non-negative count as unsigned, saturating: converting a double beyond UINT_MAX (a
 * tiny rate makes the waits huge) is undefined behaviour in C. */
static unsigned seconds(double x)
{
    if (!(x > 0))
        return 0;
    return x >= (double)UINT_MAX ? UINT_MAX : (unsigned)x;
}

void folio__ratelimit_take(struct folio_ratelimit *rl, const void *client, size_t len,
                           uint32_t scope, double rate, unsigned burst, uint64_t now_ms,
                           struct folio_ratelimit_result *out)
{
    uint64_t key = hash(client, len, scope);
    size_t home = (size_t)key & rl->mask;
    /* The PROBE slots of a client lie in one stripe: home is rounded down to a PROBE
     * boundary, so one lock covers the whole search. */
    home &= ~(size_t)(PROBE - 1);
    pthread_mutex_t *lock = &rl->locks[(home / PROBE) % STRIPES];
    pthread_mutex_lock(lock);
    struct bucket *b = NULL, *oldest = &rl->slots[home];
    for (size_t i = 0; i < PROBE; i++) {
        struct bucket *s = &rl->slots[home + i];
        if (s->key == key) {
            b = s;
            break;
        }
        if (s->key == 0 || s->seen_ms < oldest->seen_ms ||
            (oldest->key != 0 && s->key == 0))
            oldest = s;
    }
    if (b == NULL) {
        /* A new client evicts the least recently seen bucket nearby: memory stays bounded
         * and a forgotten client merely starts again with a full bucket. */
        b = oldest;
        b->key = key;
        b->tokens = burst;
        b->seen_ms = now_ms;
    }
    double elapsed = now_ms > b->seen_ms ? (double)(now_ms - b->seen_ms) / 1000.0 : 0.0;
    b->tokens = fmin((double)burst, b->tokens + elapsed * rate);
    b->seen_ms = now_ms;
    out->limit = burst;
    out->allowed = b->tokens >= 1.0;
    if (out->allowed)
        b->tokens -= 1.0;
    double tokens = b->tokens;
    pthread_mutex_unlock(lock);

    out->remaining = seconds(floor(tokens));
    out->reset = rate > 0 ? seconds(ceil(((double)burst - tokens) / rate)) : 0;
    out->retry_after = out->allowed || rate <= 0 ? 0 : seconds(ceil((1.0 - tokens) / rate));
    if (!out->allowed && out->retry_after == 0)
        out->retry_after = 1;
}

size_t folio__ratelimit_size(struct folio_ratelimit *rl)
{
    size_t n = 0;
    for (size_t s = 0; s < STRIPES; s++)
        pthread_mutex_lock(&rl->locks[s]);
    for (size_t i = 0; i <= rl->mask; i++)
        n += rl->slots[i].key != 0;
    for (size_t s = 0; s < STRIPES; s++)
        pthread_mutex_unlock(&rl->locks[s]);
    return n;
}
