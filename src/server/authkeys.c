/* The API keys file: see authkeys.h. */
#include "server/authkeys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "folio/request.h"

void folio__authkeys_hash_key(struct folio_auth *a, const unsigned char *secret, size_t len)
{
    static const char context[] = "folio api keys v1";
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof a->hash_key);
    crypto_generichash_update(&st, (const unsigned char *)context, sizeof context);
    crypto_generichash_update(&st, secret, len);
    crypto_generichash_final(&st, a->hash_key, sizeof a->hash_key);
    sodium_memzero(&st, sizeof st);
}

bool folio__authkeys_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n >= 1 && n <= 63 &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

bool folio__authkeys_value_ok(const char *value)
{
    size_t n = strlen(value);
    if (n < 1 || n >= FOLIO_AUTH_VALUE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)value[i] <= 0x20 || (unsigned char)value[i] >= 0x7f || value[i] == ',')
            return false;
    return true;
}

static const char out_of_memory[] = "out of memory"; /* told apart from a bad line */

static bool path_ok(const char *p)
{
    return p[0] == '/' && folio__authkeys_value_ok(p);
}

/* One option of a key line: endpoints=, rate=, burst=, value.NAME=. */
static const char *option(struct folio_api_key *k, char *word)
{
    char *eq = strchr(word, '=');
    if (eq == NULL)
        return "expected name=value";
    *eq++ = '\0';
    if (strcmp(word, "endpoints") == 0) {
        for (char *p = eq; *p;) {
            size_t len = strcspn(p, ",");
            char save = p[len];
            p[len] = '\0';
            if (!path_ok(p))
                return "an endpoint is a path starting with '/'";
            if (k->nendpoints == FOLIO_AUTH_KEY_ENDPOINTS_MAX)
                return "too many endpoints";
            if ((k->endpoints[k->nendpoints] = folio_strdup(p)) == NULL)
                return out_of_memory;
            k->nendpoints++;
            p += len + (save == ',');
        }
        return k->nendpoints ? NULL : "endpoints is empty";
    }
    if (strcmp(word, "rate") == 0) {
        char *end;
        double r = strtod(eq, &end);
        if (end == eq || *end != '\0' || !(r > 0 && r <= 100000))
            return "rate must be a number of requests per second above 0";
        k->rate = r;
        if (k->burst == 0)
            k->burst = (unsigned)(r < 1 ? 1 : r + 0.999);
        return NULL;
    }
    if (strcmp(word, "burst") == 0) {
        int64_t b;
        if (folio_parse_int64(eq, false, &b) != FOLIO_OK || b < 1 || b > 1000000)
            return "burst must be from 1 to 1000000";
        k->burst = (unsigned)b;
        return NULL;
    }
    if (strncmp(word, "value.", 6) == 0) {
        if (!folio__authkeys_name_ok(word + 6) || !folio__authkeys_value_ok(eq))
            return "value.NAME=VALUE wants a name of [A-Za-z0-9._-] and a value without "
                   "spaces or commas";
        if (k->nvalues == FOLIO_AUTH_KEY_VALUES_MAX)
            return "too many values";
        k->value_names[k->nvalues] = folio_strdup(word + 6);
        k->values[k->nvalues] = folio_strdup(eq);
        k->nvalues++;
        if (k->value_names[k->nvalues - 1] == NULL || k->values[k->nvalues - 1] == NULL)
            return out_of_memory;
        return NULL;
    }
    return "unknown option (endpoints, rate, burst, value.NAME)";
}

static const char *parse_line(struct folio_auth *a, char *line)
{
    struct folio_api_key *k = &a->keys[a->nkeys];
    memset(k, 0, sizeof *k);
    a->nkeys++; /* counted now: folio__auth_clear frees what the line holds */
    char *save = NULL;
    char *name = strtok_r(line, " \t", &save);
    char *hash = strtok_r(NULL, " \t", &save);
    if (name == NULL || !folio__authkeys_name_ok(name))
        return "a key name is 1-63 of [A-Za-z0-9._-]";
    memcpy(k->name, name, strlen(name) + 1);
    size_t bin_len = 0;
    if (hash == NULL || strncmp(hash, "b2:", 3) != 0 || strlen(hash) != 3 + 64 ||
        sodium_hex2bin(k->hash, sizeof k->hash, hash + 3, 64, NULL, &bin_len, NULL) != 0 ||
        bin_len != sizeof k->hash)
        return "expected b2:<64 hex digits> after the name";
    for (size_t i = 0; i + 1 < a->nkeys; i++)
        if (strcmp(a->keys[i].name, name) == 0)
            return "the name is used twice";
    for (char *w; (w = strtok_r(NULL, " \t", &save)) != NULL;) {
        const char *why = option(k, w);
        if (why != NULL)
            return why;
    }
    return NULL;
}

folio_status folio__authkeys_read(const char *path, struct folio_auth *a, char *why,
                                  size_t why_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(why, why_size, "cannot open %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return FOLIO_EIO;
    }
    const char *bad = !S_ISREG(sb.st_mode)                ? "it is not a regular file"
                      : (sb.st_mode & (S_IRWXG | S_IRWXO)) ? "it is accessible by group or others"
                      : sb.st_size > (off_t)FOLIO_AUTHKEYS_FILE_MAX ? "it is larger than 8 MiB"
                                                                    : NULL;
    if (bad != NULL) {
        close(fd);
        snprintf(why, why_size, "%s: %s%s", path, bad,
                 sb.st_mode & (S_IRWXG | S_IRWXO) ? "; run: chmod 600 on it" : "");
        return FOLIO_EIO;
    }
    char *text = folio_malloc((size_t)sb.st_size + 1);
    size_t n = 0;
    while (text != NULL && n < (size_t)sb.st_size) {
        ssize_t r = read(fd, text + n, (size_t)sb.st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (text == NULL) {
        snprintf(why, why_size, "out of memory");
        return FOLIO_ENOMEM;
    }
    text[n] = '\0';
    folio_status st = folio__authkeys_parse(text, n, path, a, why, why_size);
    sodium_memzero(text, n);
    folio_free(text);
    return st;
}

folio_status folio__authkeys_parse(char *text, size_t n, const char *label, struct folio_auth *a,
                                   char *why, size_t why_size)
{
    size_t lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += text[i] == '\n';
    folio_status st = FOLIO_OK;
    a->nkeys = 0;
    a->keys = folio_calloc(lines < FOLIO_AUTHKEYS_MAX ? lines : FOLIO_AUTHKEYS_MAX, sizeof *a->keys);
    if (a->keys == NULL) {
        snprintf(why, why_size, "out of memory");
        st = FOLIO_ENOMEM;
    }
    size_t lineno = 0;
    for (char *p = text; st == FOLIO_OK && p < text + n;) {
        char *nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        lineno++;
        char *s = p + strspn(p, " \t\r");
        size_t len = strlen(s);
        while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
            s[--len] = '\0';
        if (len > 0 && s[0] != '#') {
            const char *bad_line = a->nkeys == FOLIO_AUTHKEYS_MAX ? "too many keys"
                                                                   : parse_line(a, s);
            if (bad_line != NULL) {
                snprintf(why, why_size, "%s:%zu: %s", label, lineno, bad_line);
                st = bad_line == out_of_memory ? FOLIO_ENOMEM : FOLIO_ECONFIG;
            }
        }
        p = nl ? nl + 1 : text + n;
    }
    return st;
}

folio_status folio__authkeys_write(const char *path, const struct folio_api_key *keys,
                                   size_t n, char *why, size_t why_size)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) >= sizeof tmp) {
        snprintf(why, why_size, "the path is too long");
        return FOLIO_EIO;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        snprintf(why, why_size, "cannot create %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return FOLIO_EIO;
    }
    fprintf(f, "# folio API keys: managed by `folio keys`; only keyed hashes are stored\n");
    for (size_t i = 0; i < n; i++) {
        const struct folio_api_key *k = &keys[i];
        char hex[2 * FOLIO_AUTH_HASH_BYTES + 1];
        sodium_bin2hex(hex, sizeof hex, k->hash, sizeof k->hash);
        fprintf(f, "%s b2:%s", k->name, hex);
        for (size_t e = 0; e < k->nendpoints; e++)
            fprintf(f, "%s%s", e ? "," : " endpoints=", k->endpoints[e]);
        if (k->rate > 0)
            fprintf(f, " rate=%.17g burst=%u", k->rate, k->burst);
        for (size_t v = 0; v < k->nvalues; v++)
            fprintf(f, " value.%s=%s", k->value_names[v], k->values[v]);
        fputc('\n', f);
    }
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(why, why_size, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return FOLIO_EIO;
    }
    return FOLIO_OK;
}
