/* The demo values shared by `folio demo FILE` and `folio demo postgresql://...`. */
#include "demo_values.h"

#include <stdio.h>
#include <time.h>

static const char *const first_names[] = {"Ada", "Grace", "Linus", "Margaret", "Dennis",
                                          "Barbara", "Ken", "Frances", "Edsger", "Radia"};
static const char *const categories[] = {"books", "garden", "kitchen", "music", "outdoor",
                                         "tools", "toys", "video"};
static const char *const kinds[] = {"login", "logout", "purchase", "view", "error"};
static const char *const words[] = {"hello", "page", "cursor", "keyset", "offset",
                                    "signed", "stable", "fast", "index", "row"};

/* A small deterministic generator (SplitMix64), so every run builds the same data. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A timestamp `secs` after 2024-01-01T00:00:00Z, as ISO 8601 text. */
static void stamp(char *out, size_t n, long long secs)
{
    time_t t = (time_t)(1704067200LL + secs);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void demo_row_make(struct demo_row *out, int64_t id)
{
    uint64_t r = mix((uint64_t)id);
    long long n = (long long)id;
    snprintf(out->user_name, sizeof out->user_name, "%s %lld", first_names[r % 10], n);
    out->has_email = id % 10 != 0;
    snprintf(out->email, sizeof out->email, "user%lld@example.com", n);
    stamp(out->user_created, sizeof out->user_created, n * 37);
    snprintf(out->body, sizeof out->body, "message %lld: %s %s %s", n, words[r % 10],
             words[(r >> 8) % 10], words[(r >> 16) % 10]);
    stamp(out->message_created, sizeof out->message_created, n * 11);
    out->has_item_name = id % 7 != 0;
    snprintf(out->item_name, sizeof out->item_name, "item %lld", n);
    out->price = (double)((r >> 20) % 100000) / 100.0;
    out->category = id % 11 == 0 ? NULL : categories[(r >> 40) % 8];
    stamp(out->event_created, sizeof out->event_created, (n / 50) * 60);
    out->kind = kinds[r % 5];
    snprintf(out->payload, sizeof out->payload, "{\"user\":%llu,\"n\":%lld}",
             (unsigned long long)(r % 100000), n);
}
