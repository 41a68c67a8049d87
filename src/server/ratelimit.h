/* Per-client token buckets. Memory is bounded: a fixed table of buckets, where a new
 * client takes the slot of the least recently seen one in its neighbourhood. Striped
 * locks keep threads from contending on one mutex. */
#ifndef FOLIO_SERVER_RATELIMIT_H
#define FOLIO_SERVER_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/status.h"

struct folio_ratelimit;

struct folio_ratelimit_result {
    bool allowed;
    unsigned limit;      /* bucket size (burst) */
    unsigned remaining;  /* whole tokens left after this request */
    unsigned reset;      /* seconds until the bucket is full again */
    unsigned retry_after; /* seconds until one token is available (when refused) */
};

/* `slots` buckets (rounded up to a power of two). FOLIO_ENOMEM. */
folio_status folio__ratelimit_new(struct folio_ratelimit **out, size_t slots);
void folio__ratelimit_free(struct folio_ratelimit *rl);

/* Take one token for `client` (an address, any bytes) in bucket family `scope` (0 = the
 * server-wide limit, or an endpoint's index + 1), refilling at `rate` tokens per second up
 * to `burst`. `now_ms` is a monotonic clock in milliseconds. Thread-safe. */
void folio__ratelimit_take(struct folio_ratelimit *rl, const void *client, size_t len,
                           uint32_t scope, double rate, unsigned burst, uint64_t now_ms,
                           struct folio_ratelimit_result *out);

/* Buckets currently in use (for metrics and tests). */
size_t folio__ratelimit_size(struct folio_ratelimit *rl);

#endif
