/* The cursor signing secret of the command line (serve, export): a secret file, or the
 * key generated beside the database. Messages go to stderr as "folio CMD: ...". */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/config/config.h"

/* Read a secret file: at least 16 bytes, at most 4 KiB, not readable by others. `out`
 * holds FOLIO_CONFIG_SECRET_MAX + 1 bytes. */
int cli_read_secret(const char *cmd, const char *path, unsigned char *out, size_t *len)
{
    struct stat st;
    char why[128];
    int fd = folio__config_file_open(path, &st, why, sizeof why);
    if (fd < 0) {
        fprintf(stderr, "folio %s: cannot read secret file %s: %s\n", cmd, path, why);
        return -1;
    }
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        fprintf(stderr, "folio %s: secret file %s is accessible by other users; "
                        "run: chmod 600 %s\n", cmd, path, path);
        close(fd);
        return -1;
    }
    /* Read one byte past the maximum to tell a long file from a full one: a longer
     * secret is refused, as in a config's key file, never cut short. */
    size_t n = 0;
    int read_errno = 0;
    while (n <= FOLIO_CONFIG_SECRET_MAX) {
        ssize_t r = read(fd, out + n, FOLIO_CONFIG_SECRET_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            read_errno = errno;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    if (read_errno != 0)
        fprintf(stderr, "folio %s: cannot read secret file %s: %s\n", cmd, path,
                strerror(read_errno));
    else if (n < FOLIO_CONFIG_SECRET_MIN)
        fprintf(stderr, "folio %s: secret file %s must hold at least %d bytes\n", cmd, path,
                FOLIO_CONFIG_SECRET_MIN);
    else if (n > FOLIO_CONFIG_SECRET_MAX)
        fprintf(stderr, "folio %s: secret file %s is longer than %d bytes; a cursor secret "
                        "is short\n", cmd,
                path, FOLIO_CONFIG_SECRET_MAX);
    else
        return 0;
    sodium_memzero(out, FOLIO_CONFIG_SECRET_MAX + 1);
    return -1;
}

/* The generated key beside the database: created once, atomically, never overwritten. */
int cli_default_secret(const char *cmd, const char *db_path, char *path_out, size_t path_size,
                          unsigned char *out, size_t *len)
{
    snprintf(path_out, path_size, "%s.folio-secret", db_path);
    if (access(path_out, F_OK) == 0)
        return cli_read_secret(cmd, path_out, out, len);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path_out, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "folio %s: cannot create %s: %s\n", cmd, tmp, strerror(errno));
        return -1;
    }
    unsigned char key[32];
    randombytes_buf(key, sizeof key);
    int ok = write(fd, key, sizeof key) == (ssize_t)sizeof key && fsync(fd) == 0;
    close(fd);
    /* link() fails if another process created the key first: then use theirs. */
    if (ok && link(tmp, path_out) != 0 && errno != EEXIST)
        ok = 0;
    unlink(tmp);
    sodium_memzero(key, sizeof key);
    if (!ok) {
        fprintf(stderr, "folio %s: cannot write %s: %s\n", cmd, path_out, strerror(errno));
        return -1;
    }
    fprintf(stderr, "folio: generated a cursor signing key in %s (keep it to keep cursors "
                    "valid across restarts)\n", path_out);
    return cli_read_secret(cmd, path_out, out, len);
}

