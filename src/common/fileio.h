/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <dirent.h>
#include <stddef.h>
#include <sys/types.h>

/* Writes s (no newline added) to dirfd/path, which must exist. */
int write_file_at(int dirfd, const char *path, const char *s);
/* Reads a whole (small) file, NUL-terminated, at most max bytes. */
int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_size);
/* mkdir -p, relative to dirfd (AT_FDCWD for absolute paths). */
int mkdir_p_at(int dirfd, const char *path, mode_t mode);
/* A DIR* on the directory dirfd refers to, through a new descriptor (the
 * caller keeps dirfd). */
int opendir_at(int dirfd, DIR **ret);
/* Creates an empty file if it does not exist (for bind-mount targets). */
int touch_at(int dirfd, const char *path, mode_t mode);
/* Writes all of buf, again after EINTR and short writes. */
int loop_write(int fd, const void *buf, size_t len);
