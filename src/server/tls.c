/* PEM files for HTTPS: see tls.h. */
#include "server/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int folio__tls_supported(void)
{
    return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

void folio__tls_pem_free(char *pem)
{
    if (pem == NULL)
        return;
    sodium_memzero(pem, strlen(pem));
    folio_free(pem);
}

folio_status folio__tls_pem_read(const char *path, int secret, char **out,
                                 struct folio_error *err)
{
    *out = NULL;
    /* O_NONBLOCK: a FIFO in place of the file fails the open instead of hanging it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return folio_error_set(err, FOLIO_EIO, FOLIO_KIND_NONE, NULL, "cannot open %s: %s",
                               path, strerror(errno));
    struct stat sb;
    const char *why = NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        why = "it is not a regular file";
    else if (sb.st_size > (off_t)FOLIO_TLS_PEM_MAX)
        why = "it is larger than 1 MiB";
    else if (secret && (sb.st_mode & (S_IRWXG | S_IRWXO)))
        why = "it is accessible by other users; run: chmod 600 on it";
    char *buf = why ? NULL : folio_malloc((size_t)sb.st_size + 1);
    size_t n = 0;
    if (why == NULL && buf == NULL) {
        close(fd);
        return folio_error_set(err, FOLIO_ENOMEM, FOLIO_KIND_NONE, NULL, "out of memory");
    }
    while (why == NULL && n < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)sb.st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            why = r < 0 ? strerror(errno) : "it shrank while being read";
            break;
        }
        n += (size_t)r;
    }
    close(fd);
    if (buf != NULL)
        buf[n] = '\0';
    if (why == NULL && (strstr(buf, "-----BEGIN ") == NULL || memchr(buf, '\0', n) != NULL))
        why = "it holds no PEM block";
    if (why != NULL) {
        if (buf != NULL) {
            sodium_memzero(buf, n);
            folio_free(buf);
        }
        return folio_error_set(err, FOLIO_EIO, FOLIO_KIND_NONE, NULL, "cannot use %s: %s",
                               path, why);
    }
    *out = buf;
    return FOLIO_OK;
}
