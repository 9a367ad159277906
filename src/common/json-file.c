/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "common/json-file.h"
#include "common/macro.h"

int write_json_atomic_at(int dirfd, const char *tmp, const char *name, const json_t *o) {
        _cleanup_close_ int fd = -1;
        int r;

        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (json_dumpfd(o, fd, JSON_COMPACT) < 0 || fsync(fd) < 0 || close(TAKE_FD(fd)) < 0) {
                (void) unlinkat(dirfd, tmp, 0);
                return -EIO;
        }
        if (renameat(dirfd, tmp, dirfd, name) < 0) {
                r = -errno;
                (void) unlinkat(dirfd, tmp, 0);
                return r;
        }
        return 0;
}
