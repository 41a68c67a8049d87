/* Opening the files folio reads (the config file, cursor key files): only regular files,
 * and never a wait. A FIFO, a device or a socket named where a file is expected would
 * block open() or read() for as long as nobody writes to it, hanging `check-config`, a
 * start or a reload; they are refused before being read, with what they really are. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/config/config.h"

const char *folio__config_file_kind(unsigned mode)
{
    if (S_ISREG(mode))
        return "a regular file";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

int folio__config_file_open(const char *path, struct stat *out_st, char *why, size_t why_size)
{
    struct stat sb;
    /* stat() first: opening some devices has effects of its own. */
    if (stat(path, &sb) != 0) {
        snprintf(why, why_size, "%s", strerror(errno));
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(why, why_size, "it is %s, not a regular file",
                 folio__config_file_kind(sb.st_mode));
        return -1;
    }
    /* O_NONBLOCK: the name may have been replaced by a FIFO since the stat(). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        snprintf(why, why_size, "%s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(why, why_size, "it is %s, not a regular file",
                 folio__config_file_kind(sb.st_mode));
        close(fd);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    if (out_st != NULL)
        *out_st = sb;
    return fd;
}
