/* folio keys add|list|revoke --config FILE: the API keys of a config's [auth] keys_file.
 * A new key is printed once and only its keyed hash is stored (authkeys.h); a running
 * server reads the file again on SIGHUP. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "server/authkeys.h"
#include "server/config/config.h"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: folio keys add NAME --config FILE [--endpoints /a,/b] [--rate R]\n"
            "                  [--burst N] [--value NAME=VALUE]...\n"
            "       folio keys list --config FILE\n"
            "       folio keys revoke NAME --config FILE\n\n"
            "  --config FILE       the folio.toml whose [auth] keys_file and keys_secret_file\n"
            "                      are used (the secret file is created when missing)\n"
            "  --endpoints LIST    the endpoint paths the key may read (default: every\n"
            "                      endpoint with auth \"api_key\")\n"
            "  --rate R            the key's own rate limit, requests per second, one bucket\n"
            "                      for all its requests (default: the endpoint's or server's)\n"
            "  --burst N           requests the key may make at once (default: R rounded up)\n"
            "  --value NAME=VALUE  a value for an endpoint's scope = { col = \"key.NAME\" };\n"
            "                      repeatable\n\n"
            "add prints the new key once: folio keeps only a keyed hash of it. A running\n"
            "server reads the keys file again on SIGHUP.\n");
}

struct opts {
    const char *verb, *name, *config, *endpoints;
    double rate;
    int64_t burst;
    size_t nvalues;
    const char *values[FOLIO_AUTH_KEY_VALUES_MAX];
};

static const struct cli_option options[] = {
    {"--help", "-h", false, false},     {"--config", NULL, true, false},
    {"--endpoints", NULL, true, false}, {"--rate", NULL, true, false},
    {"--burst", NULL, true, false},     {"--value", NULL, true, true},
};

static int on_arg(void *ctx, const struct cli_option *opt, const char *v)
{
    struct opts *o = ctx;
    if (opt == NULL) {
        if (o->verb == NULL)
            o->verb = v;
        else if (o->name == NULL)
            o->name = v;
        else {
            fprintf(stderr, "folio keys: unexpected argument '%s'\n", v);
            return 2;
        }
    } else if (opt == &options[0]) {
        usage(stdout);
        return 0;
    } else if (opt == &options[1]) {
        o->config = v;
    } else if (opt == &options[2]) {
        o->endpoints = v;
    } else if (opt == &options[3]) {
        char *end;
        o->rate = strtod(v, &end);
        if (end == v || *end != '\0' || !(o->rate > 0 && o->rate <= FOLIO_CONFIG_MAX_RATE)) {
            fprintf(stderr, "folio keys: --rate wants requests per second above 0, got '%s'\n", v);
            return 2;
        }
    } else if (opt == &options[4]) {
        bool overflow = false;
        if (!cli_parse_int(v, &o->burst, &overflow) || overflow || o->burst < 1 || o->burst > FOLIO_CONFIG_MAX_BURST) {
            fprintf(stderr, "folio keys: --burst must be from 1 to 1000000, got '%s'\n", v);
            return 2;
        }
    } else {
        if (o->nvalues == FOLIO_AUTH_KEY_VALUES_MAX) {
            fprintf(stderr, "folio keys: at most %d --value\n", FOLIO_AUTH_KEY_VALUES_MAX);
            return 2;
        }
        o->values[o->nvalues++] = v;
    }
    return -1;
}

/* [auth] keys_file and keys_secret_file of the config at `path`, resolved against its
 * directory. Returns 0, or 2 after saying what is wrong. */
static int key_paths(const char *path, char **out_keys, char **out_secret)
{
    *out_keys = *out_secret = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "folio keys: cannot read %s: %s\n", path, strerror(errno));
        return 2;
    }
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    folio_toml *doc = NULL;
    struct folio_error err = {0};
    if (folio_toml_parse(text, n, path, &doc, &err) != FOLIO_OK) {
        fprintf(stderr, "%s\n", err.detail);
        return 2;
    }
    const struct folio_toml_value *auth = folio_toml_table_get(folio_toml_root(doc), "auth");
    const char *names[2] = {"keys_file", "keys_secret_file"};
    char **outs[2] = {out_keys, out_secret};
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        slash[1] = '\0';
    else
        dir[0] = '\0';
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        const char *s = NULL;
        size_t len = 0;
        if (folio_toml_string(folio_toml_table_get(auth, names[i]), &s, &len) != FOLIO_OK ||
            len == 0 || strlen(s) != len) {
            fprintf(stderr, "folio keys: %s has no [auth] %s\n", path, names[i]);
            rc = 2;
            break;
        }
        size_t need = strlen(dir) + len + 1;
        *outs[i] = malloc(need);
        if (*outs[i] == NULL) {
            rc = 1;
            break;
        }
        snprintf(*outs[i], need, "%s%s", s[0] == '/' ? "" : dir, s);
    }
    folio_toml_free(doc);
    return rc;
}

/* The keys secret: read, or created (32 random bytes, mode 0600) when missing. */
static int keys_secret(const char *path, struct folio_auth *a)
{
    unsigned char buf[FOLIO_CONFIG_SECRET_MAX + 1];
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        randombytes_buf(buf, 32);
        bool ok = write(fd, buf, 32) == 32 && fsync(fd) == 0;
        close(fd);
        if (!ok) {
            fprintf(stderr, "folio keys: cannot write %s: %s\n", path, strerror(errno));
            unlink(path);
            return 1;
        }
        fprintf(stderr, "folio keys: created the keys secret %s (keep it: without it no key "
                        "is recognised)\n", path);
    } else if (errno != EEXIST) {
        fprintf(stderr, "folio keys: cannot create %s: %s\n", path, strerror(errno));
        return 1;
    }
    struct stat st;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "folio keys: cannot read %s\n", path);
        if (fd >= 0)
            close(fd);
        return 1;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        fprintf(stderr, "folio keys: %s is accessible by group or others; run: chmod 600 %s\n",
                path, path);
        close(fd);
        return 1;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    /* Used as it is, like the server does: a binary secret may end in a newline byte. */
    if (n < FOLIO_CONFIG_SECRET_MIN || n > FOLIO_CONFIG_SECRET_MAX) {
        fprintf(stderr, "folio keys: %s must hold %d to %d bytes\n", path,
                FOLIO_CONFIG_SECRET_MIN, FOLIO_CONFIG_SECRET_MAX);
        return 1;
    }
    folio__authkeys_hash_key(a, buf, (size_t)n);
    sodium_memzero(buf, sizeof buf);
    return 0;
}

static int load_keys(const char *keys_file, struct folio_auth *a)
{
    char why[600];
    folio_status st = folio__authkeys_read(keys_file, a, why, sizeof why);
    if (st == FOLIO_EIO && errno == ENOENT && access(keys_file, F_OK) != 0)
        return 0; /* no key yet */
    if (st != FOLIO_OK) {
        fprintf(stderr, "folio keys: %s\n", why);
        return 1;
    }
    return 0;
}

static int save(const char *keys_file, const struct folio_auth *a)
{
    char why[600];
    if (folio__authkeys_write(keys_file, a->keys, a->nkeys, why, sizeof why) != FOLIO_OK) {
        fprintf(stderr, "folio keys: %s\n", why);
        return 1;
    }
    return 0;
}

static int add_key(const struct opts *o, const char *keys_file, struct folio_auth *a)
{
    if (!folio__authkeys_name_ok(o->name)) {
        fprintf(stderr, "folio keys: a key name is 1-63 of [A-Za-z0-9._-], got '%s'\n", o->name);
        return 2;
    }
    for (size_t i = 0; i < a->nkeys; i++)
        if (strcmp(a->keys[i].name, o->name) == 0) {
            fprintf(stderr, "folio keys: a key named '%s' exists; revoke it first\n", o->name);
            return 1;
        }
    /* The new entry as a keys-file line, parsed like every other (one set of rules). */
    char line[8192];
    int w = snprintf(line, sizeof line, "%s b2:%064d", o->name, 0);
    if (o->endpoints != NULL)
        w += snprintf(line + w, sizeof line - (size_t)w, " endpoints=%s", o->endpoints);
    if (o->rate > 0)
        w += snprintf(line + w, sizeof line - (size_t)w, " rate=%.17g", o->rate);
    if (o->burst > 0)
        w += snprintf(line + w, sizeof line - (size_t)w, " burst=%lld", (long long)o->burst);
    for (size_t i = 0; i < o->nvalues; i++)
        w += snprintf(line + w, sizeof line - (size_t)w, " value.%s", o->values[i]);
    if ((size_t)w >= sizeof line || strpbrk(line, "\n\r\t") != NULL) {
        fprintf(stderr, "folio keys: the options are too long\n");
        return 2;
    }
    if (o->burst > 0 && o->rate <= 0) {
        fprintf(stderr, "folio keys: --burst needs --rate\n");
        return 2;
    }
    struct folio_auth one;
    folio__auth_init(&one);
    char why[600];
    folio_status st = folio__authkeys_parse(line, strlen(line), "the new key", &one, why,
                                            sizeof why);
    if (st != FOLIO_OK || one.nkeys != 1) {
        const char *colon = strstr(why, ":1: ");
        fprintf(stderr, "folio keys: %s\n", colon ? colon + 4 : why);
        folio__auth_clear(&one);
        return 2;
    }
    unsigned char raw[32];
    char token[3 + sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(raw, sizeof raw);
    memcpy(token, "fk_", 3);
    sodium_bin2base64(token + 3, sizeof token - 3, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    folio__auth_key_hash(a, token, strlen(token), one.keys[0].hash);
    struct folio_api_key *grown = folio_realloc(a->keys, (a->nkeys + 1) * sizeof *grown);
    if (grown == NULL) {
        folio__auth_clear(&one);
        sodium_memzero(token, sizeof token);
        return 1;
    }
    a->keys = grown;
    a->keys[a->nkeys++] = one.keys[0];
    one.nkeys = 0; /* moved */
    folio__auth_clear(&one);
    int rc = save(keys_file, a);
    if (rc == 0) {
        printf("%s\n", token);
        fprintf(stderr, "folio keys: added '%s' to %s; the key above is shown only once. A "
                        "running server sees it after SIGHUP.\n", o->name, keys_file);
    }
    sodium_memzero(token, sizeof token);
    return rc;
}

static void list_keys(const struct folio_auth *a)
{
    for (size_t i = 0; i < a->nkeys; i++) {
        const struct folio_api_key *k = &a->keys[i];
        printf("%s\tendpoints=", k->name);
        if (k->nendpoints == 0)
            printf("*");
        for (size_t e = 0; e < k->nendpoints; e++)
            printf("%s%s", e ? "," : "", k->endpoints[e]);
        if (k->rate > 0)
            printf("\trate=%g\tburst=%u", k->rate, k->burst);
        for (size_t v = 0; v < k->nvalues; v++)
            printf("\tvalue.%s=%s", k->value_names[v], k->values[v]);
        printf("\n");
    }
}

static int revoke_key(const char *name, const char *keys_file, struct folio_auth *a)
{
    for (size_t i = 0; i < a->nkeys; i++) {
        if (strcmp(a->keys[i].name, name) != 0)
            continue;
        struct folio_api_key gone = a->keys[i];
        memmove(&a->keys[i], &a->keys[i + 1], (a->nkeys - i - 1) * sizeof *a->keys);
        a->keys[a->nkeys - 1] = gone; /* freed with the rest */
        a->nkeys--;
        int rc = save(keys_file, a);
        a->nkeys++;
        if (rc == 0)
            fprintf(stderr, "folio keys: revoked '%s'; a running server stops accepting it "
                            "after SIGHUP.\n", name);
        return rc;
    }
    fprintf(stderr, "folio keys: no key named '%s'\n", name);
    return 1;
}

int cmd_keys(int argc, char **argv)
{
    struct opts o = {0};
    int rc = cli_walk("keys", argc, argv, options, sizeof options / sizeof options[0], on_arg, &o);
    if (rc >= 0)
        return rc;
    bool needs_name = o.verb != NULL && strcmp(o.verb, "list") != 0;
    if (o.verb == NULL || o.config == NULL || needs_name != (o.name != NULL) ||
        (strcmp(o.verb, "add") != 0 && strcmp(o.verb, "list") != 0 &&
         strcmp(o.verb, "revoke") != 0) ||
        (strcmp(o.verb, "add") != 0 && (o.endpoints || o.rate > 0 || o.burst || o.nvalues))) {
        usage(stderr);
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "folio keys: libsodium failed to initialise\n");
        return 1;
    }
    char *keys_file = NULL, *secret_file = NULL;
    rc = key_paths(o.config, &keys_file, &secret_file);
    struct folio_auth a;
    folio__auth_init(&a);
    if (rc == 0 && strcmp(o.verb, "add") == 0)
        rc = keys_secret(secret_file, &a);
    if (rc == 0)
        rc = load_keys(keys_file, &a);
    if (rc == 0) {
        if (strcmp(o.verb, "add") == 0)
            rc = add_key(&o, keys_file, &a);
        else if (strcmp(o.verb, "list") == 0)
            list_keys(&a);
        else
            rc = revoke_key(o.name, keys_file, &a);
    }
    folio__auth_clear(&a);
    free(keys_file);
    free(secret_file);
    return rc;
}
