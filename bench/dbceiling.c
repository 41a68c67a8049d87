/* bench/dbceiling.c: the database ceiling for folio's keyset benchmark.
 *
 * Runs the page query folio issues for GET /api/messages?per_page=20&after=TOKEN, with the
 * same connection flags (read-only, no mutex) and a prepared statement kept across
 * queries (folio caches its statements per worker connection), in a loop for a fixed
 * time. Every row is stepped and every column read, as folio does when it writes the
 * JSON. Nothing else: no HTTP, no JSON, no cursor. What folio spends above this (and
 * above nginx serving the same bytes) is its own overhead.
 *
 * usage: dbceiling DB [AFTER_ID [LIMIT [SECONDS]]]   (defaults 20, 21, 2)
 * prints one line: after=N limit=N queries=N seconds=S qps=Q us_per_query=U
 *                  wall_us_per_query=W probe_us=P checksum=C
 * qps is by wall time; us_per_query and probe_us are CPU time of this process (what folio's
 * CPU per request is compared with), so a busy machine inflates qps more than them.
 * probe_us is the cost of folio's second query on a keyset page (has_prev:
 * SELECT 1 ... WHERE id <= ? LIMIT 1), measured the same way, for reference only. */
#define _POSIX_C_SOURCE 200809L
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char page_sql[] = "SELECT \"id\", \"body\", \"created_at\" FROM \"messages\" "
                               "WHERE \"id\" > ?1 ORDER BY \"id\" ASC LIMIT ?2";
static const char probe_sql[] = "SELECT 1 FROM \"messages\" WHERE \"id\" <= ?1 LIMIT 1";

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static double cpu_now(void)
{
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

/* Run `st` with the given bindings until `seconds` of wall time pass; return queries run,
 * the wall and CPU seconds they took, and fold the values read into *sum so the compiler
 * cannot drop the reads. */
static long loop(sqlite3_stmt *st, long long after, int limit, double seconds, double *out_secs,
                 double *out_cpu, unsigned long long *sum)
{
    long n = 0;
    double c0 = cpu_now();
    double t0 = now(), t = t0;
    while (t - t0 < seconds) {
        for (int batch = 0; batch < 64; batch++) {
            sqlite3_bind_int64(st, 1, after);
            if (sqlite3_bind_parameter_count(st) >= 2)
                sqlite3_bind_int(st, 2, limit);
            while (sqlite3_step(st) == SQLITE_ROW) {
                int ncol = sqlite3_column_count(st);
                for (int c = 0; c < ncol; c++) {
                    switch (sqlite3_column_type(st, c)) {
                    case SQLITE_INTEGER:
                        *sum += (unsigned long long)sqlite3_column_int64(st, c);
                        break;
                    case SQLITE_TEXT: {
                        const unsigned char *s = sqlite3_column_text(st, c);
                        int len = sqlite3_column_bytes(st, c);
                        *sum += (unsigned long long)len + (len > 0 ? s[len - 1] : 0);
                        break;
                    }
                    default:
                        break;
                    }
                }
            }
            sqlite3_reset(st);
            n++;
        }
        t = now();
    }
    *out_secs = t - t0;
    *out_cpu = cpu_now() - c0;
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 5) {
        fprintf(stderr, "usage: dbceiling DB [AFTER_ID [LIMIT [SECONDS]]]\n");
        return 2;
    }
    long long after = argc > 2 ? atoll(argv[2]) : 20;
    int limit = argc > 3 ? atoi(argv[3]) : 21;
    double seconds = argc > 4 ? atof(argv[4]) : 2.0;

    sqlite3 *db;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "dbceiling: cannot open %s: %s\n", argv[1], sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_stmt *page, *probe;
    if (sqlite3_prepare_v3(db, page_sql, -1, SQLITE_PREPARE_PERSISTENT, &page, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v3(db, probe_sql, -1, SQLITE_PREPARE_PERSISTENT, &probe, NULL) !=
            SQLITE_OK) {
        fprintf(stderr, "dbceiling: cannot prepare: %s\n", sqlite3_errmsg(db));
        return 1;
    }

    /* Check the query returns what folio's page would, then warm the page cache. */
    unsigned long long sum = 0;
    int rows = 0;
    sqlite3_bind_int64(page, 1, after);
    sqlite3_bind_int(page, 2, limit);
    while (sqlite3_step(page) == SQLITE_ROW)
        rows++;
    sqlite3_reset(page);
    if (rows != limit) {
        fprintf(stderr, "dbceiling: expected %d rows after id %lld, got %d\n", limit, after,
                rows);
        return 1;
    }
    double secs, cpu;
    loop(page, after, limit, seconds / 10, &secs, &cpu, &sum);

    long n = loop(page, after, limit, seconds, &secs, &cpu, &sum);
    double probe_secs, probe_cpu;
    long np = loop(probe, after, 0, seconds / 4, &probe_secs, &probe_cpu, &sum);
    printf("after=%lld limit=%d queries=%ld seconds=%.3f qps=%.0f us_per_query=%.3f "
           "wall_us_per_query=%.3f probe_us=%.3f checksum=%llu\n",
           after, limit, n, secs, (double)n / secs, cpu * 1e6 / (double)n,
           secs * 1e6 / (double)n, probe_cpu * 1e6 / (double)np, sum);
    sqlite3_finalize(page);
    sqlite3_finalize(probe);
    sqlite3_close(db);
    return 0;
}
