/* folio export DB TABLE [options]: every row of a table's query, as NDJSON, CSV or JSON,
 * to stdout or a file. The same engine as GET /api/{table}/export (server/export.h): the
 * same formats, the same cursors (signed with the server's key beside the database, or
 * --secret-file), so a cut download resumes here and the other way round. */
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "secret.h"
#include "db/db.h"
#include "server/config/config.h"
#include "engine/count.h"
#include "engine/engine.h"
#include "server/export.h"
#include "server/server.h"

#define MAX_FILTERS 16
#define PROGRESS_EVERY_US 200000u
#define ESTIMATE_LIMIT 10000000 /* a filtered export's ETA counts at most this many rows */

static void usage(FILE *to)
{
    fputs("usage: folio export DB TABLE [options]\n"
          "\n"
          "Write every row of TABLE (sorted, filtered, with the fields asked) to stdout or a\n"
          "file, walking the table in keyset batches: memory stays flat whatever its size.\n"
          "\n"
          "options:\n"
          "  --format F          ndjson (default), csv or json\n"
          "  --sort S            as in pages: col,-col2 (default: the primary key)\n"
          "  --filter C=OP.V     a filter as in pages (price=gte.10, kind=in.(a,b)); repeatable\n"
          "  --fields A,B        the columns written, in order (default: all)\n"
          "  --after CURSOR      resume after this cursor (an export's \"@next\", or a page's)\n"
          "  --snapshot          one read transaction for the whole export\n"
          "  -o, --output FILE   write to FILE instead of stdout\n"
          "  --secret-file F     the cursor secret (default: DB.folio-secret, as folio serve)\n"
          "  --checkpoint-every N  NDJSON: a {\"@next\":CURSOR} line every N rows (10000; 0 =\n"
          "                      only the last line)\n"
          "  -h, --help          show this help\n"
          "\n"
          "On a terminal, stderr shows progress (rows, rows/s, ETA from an estimate).\n"
          "Ctrl-C stops after the rows written so far and prints the cursor to resume with.\n"
          "\n"
          "exit status: 0 done, 1 failure, 2 bad arguments, 130 interrupted (cursor printed)\n",
          to);
}

static const struct cli_option options[] = {
    {"--help", "-h", false, false},      {"--format", NULL, true, false},
    {"--sort", NULL, true, false},       {"--filter", NULL, true, true},
    {"--fields", NULL, true, false},     {"--after", NULL, true, false},
    {"--snapshot", NULL, false, false},  {"--output", "-o", true, false},
    {"--secret-file", NULL, true, false}, {"--checkpoint-every", NULL, true, false},
};

struct export_args {
    const char *db, *table, *output, *secret_file;
    size_t nparams;
    struct folio_param params[8 + MAX_FILTERS];
    char filter_keys[MAX_FILTERS][256];
    size_t nfilters;
    int64_t checkpoint_every;
};

static int on_arg(void *ctx, const struct cli_option *opt, const char *val)
{
    struct export_args *a = ctx;
    if (opt == NULL) {
        if (a->db == NULL) {
            a->db = val;
        } else if (a->table == NULL) {
            a->table = val;
        } else {
            fprintf(stderr, "folio export: unexpected argument '%s'\n", val);
            return 2;
        }
        return -1;
    }
    size_t i = (size_t)(opt - options);
    switch (i) {
    case 0: usage(stdout); return 0;
    case 6: a->params[a->nparams++] = (struct folio_param){"snapshot", "true"}; return -1;
    case 7: a->output = val; return -1;
    case 8: a->secret_file = val; return -1;
    case 9: {
        bool overflow;
        if (!cli_parse_int(val, &a->checkpoint_every, &overflow) || overflow ||
            a->checkpoint_every < 0 || a->checkpoint_every > 1000000000) {
            fprintf(stderr, "folio export: --checkpoint-every must be 0 to 1000000000\n");
            return 2;
        }
        return -1;
    }
    case 3: {
        size_t f = a->nfilters;
        const char *eq = strchr(val, '=');
        if (eq == NULL || eq == val || (size_t)(eq - val) >= sizeof a->filter_keys[0]) {
            fprintf(stderr, "folio export: --filter takes COLUMN=OP.VALUE, got '%s'\n", val);
            return 2;
        }
        if (f >= MAX_FILTERS) {
            fprintf(stderr, "folio export: at most %d filters\n", MAX_FILTERS);
            return 2;
        }
        memcpy(a->filter_keys[f], val, (size_t)(eq - val));
        a->filter_keys[f][eq - val] = '\0';
        a->params[a->nparams++] = (struct folio_param){a->filter_keys[f], eq + 1};
        a->nfilters++;
        return -1;
    }
    default: { /* format, sort, fields, after: spelled as the HTTP parameters */
        static const char *const keys[] = {NULL, "format", "sort", NULL, "fields", "after"};
        a->params[a->nparams++] = (struct folio_param){keys[i], val};
        return -1;
    }
    }
}

static volatile sig_atomic_t interrupted;
static atomic_bool cancel;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
    atomic_store(&cancel, true);
}

static void human(char *out, size_t size, double v)
{
    if (v >= 1e6)
        snprintf(out, size, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(out, size, "%.1fk", v / 1e3);
    else
        snprintf(out, size, "%.0f", v);
}

static void progress(int64_t rows, int64_t estimate, uint64_t start_us, bool last)
{
    double secs = (double)(folio__now_us() - start_us) / 1e6;
    double rate = secs > 0 ? (double)rows / secs : 0;
    char r[32], e[32], s[32];
    human(r, sizeof r, (double)rows);
    human(s, sizeof s, rate);
    if (estimate > 0) {
        human(e, sizeof e, (double)estimate);
        int pct = estimate > 0 ? (int)(100.0 * (double)rows / (double)estimate) : 0;
        if (pct > 100)
            pct = 100;
        char bar[21];
        memset(bar, '#', (size_t)(pct / 5));
        memset(bar + pct / 5, '.', (size_t)(20 - pct / 5));
        bar[20] = '\0';
        double eta = rate > 0 && estimate > rows ? (double)(estimate - rows) / rate : 0;
        fprintf(stderr, "\r[%s] %3d%% %s/~%s rows  %s rows/s  ETA %.0fs   ", bar, pct, r, e, s,
                last ? 0.0 : eta);
    } else {
        fprintf(stderr, "\r%s rows  %s rows/s   ", r, s);
    }
    if (last)
        fputc('\n', stderr);
}

/* An estimate of the rows to come, for the ETA (count.h: the backend's estimate, or a
 * bounded count when filters apply), on a page engine of its own. 0 when unknown. */
static int64_t estimate_rows(folio_db *db, const struct folio_export_query *q)
{
    struct folio_engine e;
    struct folio_engine_config cfg = {.count_limit = ESTIMATE_LIMIT};
    struct folio_error err = {0};
    if (folio__engine_init(&e, db, &cfg, &err) != FOLIO_OK)
        return 0;
    struct folio_total total = {0};
    folio_status st = folio__count_estimate(&e, &q->spec, &total, &err);
    folio__engine_clear(&e);
    return st == FOLIO_OK ? total.value : 0;
}

static int write_out(FILE *out, struct folio_buf *b)
{
    if (b->len > 0 && fwrite(b->data, 1, b->len, out) != b->len)
        return -1;
    folio_buf_reset(b);
    return 0;
}

static int run(const struct export_args *a, folio_db *db, const struct folio_keyring *kr,
               FILE *out)
{
    const struct folio_table *t = folio__db_table(db, a->table);
    if (t == NULL) {
        fprintf(stderr, "folio export: no table '%s' in %s\n", a->table, a->db);
        return 1;
    }
    struct folio_endpoint ep;
    if (folio__endpoint_init(&ep, t, "/export") != FOLIO_OK) {
        fprintf(stderr, "folio export: out of memory\n");
        return 1;
    }
    /* The database's owner: every column exposed, filterable and sortable. */
    folio__endpoint_all_columns(&ep, true);
    for (size_t k = 0; k < t->npk_declared; k++)
        folio_sort_append(&ep.default_sort, t->pk_declared[k]);
    struct folio_error err = {0};
    struct folio_export_query *q = folio_malloc(sizeof *q);
    folio_db_conn *conn = NULL;
    int rc = 1;
    if (q == NULL) {
        fprintf(stderr, "folio export: out of memory\n");
        folio__endpoint_clear(&ep);
        return 1;
    }
    folio__export_query_init(q);
    if (folio__export_query_parse(q, &ep, a->params, a->nparams, kr, &err) != FOLIO_OK) {
        fprintf(stderr, "folio export: %s%s%s\n", err.param[0] ? err.param : "",
                err.param[0] ? ": " : "", err.detail[0] ? err.detail : folio_strerror(err.status));
        rc = 2;
        goto done;
    }
    if (folio__db_connect(db, &conn, &err) != FOLIO_OK) {
        fprintf(stderr, "folio export: cannot open %s: %s\n", a->db, err.detail);
        goto done;
    }
    bool tty = isatty(STDERR_FILENO);
    int64_t estimate = tty ? estimate_rows(db, q) : 0;
    struct folio_export_limits lim = {1000, 1u << 20, 64u << 20,
                                      (unsigned)a->checkpoint_every, 0, 86400, 0};
    struct folio_export x;
    if (folio__export_begin(&x, q, conn, folio__db_param_style(db), kr, &lim, &cancel, &err) !=
        FOLIO_OK) {
        fprintf(stderr, "folio export: %s\n", err.detail);
        folio__export_end(&x);
        goto done;
    }
    uint64_t start = folio__now_us(), shown = 0;
    folio_status st = FOLIO_OK;
    bool write_failed = false;
    while (!x.done && !x.cancelled && st == FOLIO_OK) {
        st = folio__export_step(&x, &err);
        if (write_out(out, &x.out) != 0) {
            write_failed = true;
            break;
        }
        if (tty && folio__now_us() - shown >= PROGRESS_EVERY_US) {
            shown = folio__now_us();
            progress(x.rows, estimate, start, false);
        }
    }
    if (!write_failed && fflush(out) != 0)
        write_failed = true;
    if (tty)
        progress(x.rows, estimate, start, true);
    if (write_failed) {
        fprintf(stderr, "folio export: cannot write the output\n");
    } else if (st != FOLIO_OK) {
        fprintf(stderr, "folio export: %s\n", err.detail[0] ? err.detail : folio_strerror(st));
    } else if (x.cancelled || interrupted) {
        char tok[FOLIO_CURSOR_MAX_TOKEN];
        /* Every row formatted is written: the cursor resumes right after the last. */
        if (folio__export_cursor(&x, tok, sizeof tok))
            fprintf(stderr, "folio export: interrupted after %lld rows; resume with:\n"
                            "  --after %s\n",
                    (long long)x.rows, tok);
        else
            fprintf(stderr, "folio export: interrupted before the first row\n");
        rc = 130;
    } else {
        rc = 0;
    }
    folio__export_end(&x);
done:
    folio__db_disconnect(conn);
    folio__export_query_clear(q);
    folio_free(q);
    folio__endpoint_clear(&ep);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    struct export_args a;
    memset(&a, 0, sizeof a);
    a.checkpoint_every = 10000;
    int rc = cli_walk("export", argc, argv, options, sizeof options / sizeof options[0], on_arg,
                      &a);
    if (rc >= 0)
        return rc;
    if (a.db == NULL || a.table == NULL) {
        fprintf(stderr, "folio export: missing %s\n", a.db == NULL ? "DB" : "TABLE");
        usage(stderr);
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "folio export: libsodium failed to initialise\n");
        return 1;
    }
    unsigned char secret[FOLIO_CONFIG_SECRET_MAX + 1];
    size_t secret_len = 0;
    char secret_path[4096];
    if ((a.secret_file ? cli_read_secret("export", a.secret_file, secret, &secret_len)
                       : cli_default_secret("export", a.db, secret_path, sizeof secret_path,
                                            secret, &secret_len)) != 0)
        return 1;
    struct folio_keyring kr;
    folio_keyring_init(&kr, false);
    folio_status kst = folio_keyring_add(&kr, 1, secret, secret_len);
    sodium_memzero(secret, sizeof secret);
    if (kst != FOLIO_OK) {
        fprintf(stderr, "folio export: cannot use the cursor secret: %s\n", folio_strerror(kst));
        return 1;
    }
    struct folio_error err = {0};
    folio_db *db = NULL;
    if (folio__db_open(&db, a.db, &err) != FOLIO_OK) {
        fprintf(stderr, "folio export: cannot open %s: %s\n", a.db, err.detail);
        folio_keyring_clear(&kr);
        return 1;
    }
    FILE *out = stdout;
    if (a.output != NULL && (out = fopen(a.output, "wb")) == NULL) {
        fprintf(stderr, "folio export: cannot open %s for writing\n", a.output);
        folio__db_close(db);
        folio_keyring_clear(&kr);
        return 1;
    }
    static char obuf[1 << 20];
    setvbuf(out, obuf, _IOFBF, sizeof obuf);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESTART; /* a write blocked on a full pipe goes on; the walk stops */
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = run(&a, db, &kr, out);
    if (out != stdout && fclose(out) != 0 && rc == 0) {
        fprintf(stderr, "folio export: cannot write %s\n", a.output);
        rc = 1;
    }
    folio__db_close(db);
    folio_keyring_clear(&kr);
    return rc;
}
