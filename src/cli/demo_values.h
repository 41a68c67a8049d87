/* The demo rows of `folio demo`, the same for every backend (cmd_demo.c for SQLite,
 * cmd_demo_pg.c for PostgreSQL): a deterministic function of the row id. */
#ifndef FOLIO_CLI_DEMO_VALUES_H
#define FOLIO_CLI_DEMO_VALUES_H

#include <stdbool.h>
#include <stdint.h>

struct demo_row {
    char user_name[48];
    bool has_email; /* every 10th user has a NULL email */
    char email[48];
    char user_created[32]; /* ISO 8601 UTC, id * 37 s after 2024-01-01 */
    char body[160];
    char message_created[32];
    bool has_item_name; /* every 7th item has a NULL name */
    char item_name[48];
    double price;
    const char *category; /* NULL for every 11th item; static storage */
    char event_created[32]; /* 50 events share each created_at */
    const char *kind;       /* static storage */
    char payload[96];
};

/* Fills `out` with the values of row `id` (>= 1) of each demo table. Thread-safe. */
void demo_row_make(struct demo_row *out, int64_t id);

#endif
