/* [cursor]: lifetime, encryption and the signing keys ([[cursor.keys]]). The first key
 * signs (and encrypts) new cursors; every key verifies, so a new key is rolled out by
 * putting it first and keeping the old one after it until its cursors have expired. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/config/config_internal.h"

static const char K[] = "[[cursor.keys]]";

/* Read a key file: a regular file, not accessible by other users, 16..4096 bytes. */
static folio_status read_key_file(const struct folio__cfg *c, const struct folio_toml_value *at,
                                  const char *path, unsigned char *out, size_t *out_len)
{
    struct stat sb;
    char why[128];
    int fd = folio__config_file_open(path, &sb, why, sizeof why);
    if (fd < 0)
        return folio__cfg_fail_at(c, at, K, "secret_file", "cannot open %s: %s", path, why);
    folio_status st = FOLIO_OK;
    if (sb.st_mode & (S_IROTH | S_IWOTH))
        st = folio__cfg_fail_at(c, at, K, "secret_file",
                                "%s is readable or writable by other users; run: chmod 600 %s",
                                path, path);
    size_t len = 0;
    while (st == FOLIO_OK && len <= FOLIO_CONFIG_SECRET_MAX) {
        ssize_t n = read(fd, out + len, FOLIO_CONFIG_SECRET_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            st = folio__cfg_fail_at(c, at, K, "secret_file", "cannot read %s: %s", path,
                                    strerror(errno));
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (st == FOLIO_OK && len < FOLIO_CONFIG_SECRET_MIN)
        st = folio__cfg_fail_at(c, at, K, "secret_file",
                                "%s holds %zu bytes; a cursor secret needs at least %d", path,
                                len, FOLIO_CONFIG_SECRET_MIN);
    if (st == FOLIO_OK && len > FOLIO_CONFIG_SECRET_MAX)
        st = folio__cfg_fail_at(c, at, K, "secret_file",
                                "%s is longer than %d bytes; a cursor secret is short", path,
                                FOLIO_CONFIG_SECRET_MAX);
    *out_len = len;
    return st;
}

static folio_status read_key_env(const struct folio__cfg *c, const struct folio_toml_value *at,
                                 const char *name, unsigned char *out, size_t *out_len)
{
    const char *value = getenv(name);
    if (value == NULL)
        return folio__cfg_fail_at(c, at, K, "secret_env",
                                  "the environment variable %s is not set", name);
    size_t len = strlen(value);
    if (len < FOLIO_CONFIG_SECRET_MIN)
        return folio__cfg_fail_at(c, at, K, "secret_env",
                                  "the environment variable %s holds %zu bytes; a cursor "
                                  "secret needs at least %d",
                                  name, len, FOLIO_CONFIG_SECRET_MIN);
    if (len > FOLIO_CONFIG_SECRET_MAX)
        return folio__cfg_fail_at(c, at, K, "secret_env",
                                  "the environment variable %s is longer than %d bytes", name,
                                  FOLIO_CONFIG_SECRET_MAX);
    memcpy(out, value, len);
    *out_len = len;
    return FOLIO_OK;
}

static folio_status key_entry(const struct folio__cfg *c, const char *S, const char *k,
                              const struct folio_toml_value *v, void *ctx)
{
    struct folio_config_key *key = ctx;
    folio_status st;
    int64_t n;
    if (strcmp(k, "id") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 1, 255, &n)) == FOLIO_OK)
            key->id = (uint8_t)n;
    } else if (strcmp(k, "secret_file") == 0) {
        st = folio__cfg_path(c, v, S, k, &key->secret_file);
    } else { /* secret_env */
        st = folio__cfg_string(c, v, S, k, false, &key->secret_env);
    }
    return st;
}

/* One [[cursor.keys]] table: checked, its secret read and added to the keyring. */
static folio_status one_key(const struct folio__cfg *c, const struct folio_toml_value *t,
                            struct folio_config *cfg)
{
    static const char *const known[] = {"id", "secret_file", "secret_env", NULL};
    struct folio_config_key *key = &cfg->keys[cfg->nkeys];
    folio_status st = folio__cfg_table(c, t, K, NULL);
    if (st == FOLIO_OK)
        st = folio__cfg_keys(c, t, K, known, key_entry, key);
    /* Count the entry now so that folio__config_clear() frees what it holds. */
    cfg->nkeys++;
    if (st != FOLIO_OK)
        return st;
    const struct folio_toml_value *id_at = folio_toml_table_get(t, "id");
    const struct folio_toml_value *file_at = folio_toml_table_get(t, "secret_file");
    const struct folio_toml_value *env_at = folio_toml_table_get(t, "secret_env");
    if (id_at == NULL)
        return folio__cfg_fail_at(c, t, K, "id", "missing (an integer from 1 to 255)");
    if (file_at != NULL && env_at != NULL)
        return folio__cfg_fail_at(c, env_at, K, "secret_env",
                                  "give secret_file or secret_env, not both");
    if (file_at == NULL && env_at == NULL)
        return folio__cfg_fail_at(c, t, K, NULL, "needs secret_file or secret_env");
    for (size_t j = 0; j + 1 < cfg->nkeys; j++)
        if (cfg->keys[j].id == key->id)
            return folio__cfg_fail_at(c, id_at, K, "id", "key id %u is used twice",
                                      (unsigned)key->id);

    unsigned char secret[FOLIO_CONFIG_SECRET_MAX + 1];
    size_t len = 0;
    st = file_at ? read_key_file(c, file_at, key->secret_file, secret, &len)
                 : read_key_env(c, env_at, key->secret_env, secret, &len);
    if (st == FOLIO_OK && folio_keyring_add(&cfg->keyring, key->id, secret, len) != FOLIO_OK)
        st = folio__cfg_fail_at(c, t, K, NULL, "libsodium cannot derive the key");
    sodium_memzero(secret, sizeof secret);
    return st;
}

static folio_status cursor_key(const struct folio__cfg *c, const char *S, const char *k,
                               const struct folio_toml_value *v, void *ctx)
{
    struct folio_config *cfg = ctx;
    folio_status st = FOLIO_OK;
    int64_t n;
    if (strcmp(k, "ttl") == 0) {
        if ((st = folio__cfg_int(c, v, S, k, 0, FOLIO_CONFIG_MAX_TTL, &n)) == FOLIO_OK)
            cfg->server.cursor_ttl = (uint64_t)n;
    } else if (strcmp(k, "encrypt") == 0) {
        st = folio__cfg_bool(c, v, S, k, &cfg->encrypt);
    } else if (folio_toml_type(v) != FOLIO_TOML_ARRAY) { /* keys */
        st = folio__cfg_fail_at(c, v, S, k,
                                "expected an array of tables: write each key as a "
                                "[[cursor.keys]] table");
    }
    return st;
}

folio_status folio__cfg_cursor(const struct folio__cfg *c, const struct folio_toml_value *t,
                               struct folio_config *cfg)
{
    static const char *const known[] = {"ttl", "encrypt", "keys", NULL};
    folio_status st = folio__cfg_keys(c, t, "[cursor]", known, cursor_key, cfg);
    if (st != FOLIO_OK)
        return st;
    /* The keys after the walk: `encrypt` may be written below them. */
    const struct folio_toml_value *keys = folio_toml_table_get(t, "keys");
    folio_keyring_init(&cfg->keyring, cfg->encrypt);
    for (size_t i = 0; i < folio_toml_array_len(keys); i++) {
        const struct folio_toml_value *e = folio_toml_array_at(keys, i);
        if (cfg->nkeys == FOLIO_KEYRING_MAX)
            return folio__cfg_fail_at(c, e, K, NULL, "at most %d keys", FOLIO_KEYRING_MAX);
        st = one_key(c, e, cfg);
        if (st != FOLIO_OK)
            return st;
    }
    return FOLIO_OK;
}
