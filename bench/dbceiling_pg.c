/* bench/dbceiling_pg.c: the PostgreSQL database ceiling for folio's keyset benchmark.
 *
 * The libpq counterpart of bench/dbceiling.c: the page query of
 * GET /api/messages?per_page=20&after=TOKEN as one prepared statement on one connection
 * (folio keeps one connection per worker and caches its prepared statements), executed in
 * a loop for a fixed time, every value of every row read. No HTTP, no JSON, no cursor.
 * The database work happens in the PostgreSQL server process, so the numbers that compare
 * with folio are the wall-clock ones (qps, wall_us_per_query): folio over PostgreSQL with
 * one worker runs the same round trips one after the other.
 *
 * usage: dbceiling_pg CONNINFO [AFTER_ID [LIMIT [SECONDS]]]   (defaults 20, 21, 2)
 * prints one line in dbceiling's format:
 *   backend=postgresql after=N limit=N queries=N seconds=S qps=Q us_per_query=U
 *   wall_us_per_query=W probe_us=P checksum=C
 * (us_per_query and probe_us: CPU time of this client process only.) */
#define _POSIX_C_SOURCE 200809L
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char page_sql[] = "SELECT \"id\", \"body\", \"created_at\" FROM \"messages\" "
                               "WHERE \"id\" > $1 ORDER BY \"id\" ASC LIMIT $2";
static const char probe_sql[] = "SELECT 1 FROM \"messages\" WHERE \"id\" <= $1 LIMIT 1";

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Execute prepared statement `name` until `seconds` of wall time pass; returns the queries
 * run (-1 on an error), their wall and CPU seconds; folds the values read into *sum. */
static long loop(PGconn *conn, const char *name, long long after, int limit, double seconds,
                 double *out_secs, double *out_cpu, unsigned long long *sum)
{
    char a[32], l[16];
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit);
    const char *params[2] = {a, l};
    int nparams = strcmp(name, "page") == 0 ? 2 : 1;
    long n = 0;
    double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    double t0 = clock_s(CLOCK_MONOTONIC), t = t0;
    while (t - t0 < seconds) {
        for (int batch = 0; batch < 16; batch++) {
            PGresult *res = PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
            if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                fprintf(stderr, "dbceiling_pg: %s", PQerrorMessage(conn));
                PQclear(res);
                return -1;
            }
            int rows = PQntuples(res), cols = PQnfields(res);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) {
                    int len = PQgetlength(res, r, c);
                    const char *v = PQgetvalue(res, r, c);
                    *sum += (unsigned long long)len + (len > 0 ? (unsigned char)v[len - 1] : 0);
                }
            PQclear(res);
            n++;
        }
        t = clock_s(CLOCK_MONOTONIC);
    }
    *out_secs = t - t0;
    *out_cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    return n;
}

static int prepare(PGconn *conn, const char *name, const char *sql, int nparams)
{
    PGresult *res = PQprepare(conn, name, sql, nparams, NULL);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "dbceiling_pg: cannot prepare %s: %s", name, PQerrorMessage(conn));
    PQclear(res);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 5) {
        fprintf(stderr, "usage: dbceiling_pg CONNINFO [AFTER_ID [LIMIT [SECONDS]]]\n");
        return 2;
    }
    long long after = argc > 2 ? atoll(argv[2]) : 20;
    int limit = argc > 3 ? atoi(argv[3]) : 21;
    double seconds = argc > 4 ? atof(argv[4]) : 2.0;

    PGconn *conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "dbceiling_pg: cannot connect: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    if (!prepare(conn, "page", page_sql, 2) || !prepare(conn, "probe", probe_sql, 1)) {
        PQfinish(conn);
        return 1;
    }
    unsigned long long sum = 0;
    double secs, cpu, probe_secs, probe_cpu;
    /* the query returns what folio's page would; then warm up */
    char a[32], l[16];
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit);
    const char *params[2] = {a, l};
    PGresult *res = PQexecPrepared(conn, "page", 2, params, NULL, NULL, 0);
    int rows = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : -1;
    PQclear(res);
    if (rows != limit) {
        fprintf(stderr, "dbceiling_pg: expected %d rows after id %lld, got %d\n", limit, after,
                rows);
        PQfinish(conn);
        return 1;
    }
    long n = loop(conn, "page", after, limit, seconds / 10, &secs, &cpu, &sum);
    if (n > 0)
        n = loop(conn, "page", after, limit, seconds, &secs, &cpu, &sum);
    long np = n > 0 ? loop(conn, "probe", after, 0, seconds / 4, &probe_secs, &probe_cpu, &sum) : -1;
    PQfinish(conn);
    if (n <= 0 || np <= 0)
        return 1;
    printf("backend=postgresql after=%lld limit=%d queries=%ld seconds=%.3f qps=%.0f "
           "us_per_query=%.3f wall_us_per_query=%.3f probe_us=%.3f checksum=%llu\n",
           after, limit, n, secs, (double)n / secs, cpu * 1e6 / (double)n,
           secs * 1e6 / (double)n, probe_cpu * 1e6 / (double)np, sum);
    return 0;
}
