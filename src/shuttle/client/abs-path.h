/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A path a user typed inside a container, made absolute for a request
 * whose PATH must be (TRANSFER): shuttle-transfer's relative paths start
 * from the current directory.  Header-only and string functions alone,
 * for the static helper and its unit test. */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* path as is if it is absolute, else cwd (absolute) joined with path:
 * leading "./" components are dropped and "." (or "./") alone is cwd
 * itself; everything else, ".." included, is left for the broker, which
 * normalises the path and audits both forms.  Returns 0 and the result in
 * ret (size bytes), or -EINVAL (empty path, cwd not absolute) or
 * -ENAMETOOLONG (the result does not fit in size - 1 bytes); ret is
 * untouched on failure. */
static inline int shuttle_path_absolute(const char *cwd, const char *path, char *ret, size_t size) {
        size_t n_cwd, n_path, sep;

        if (!path || !*path || size == 0)
                return -EINVAL;
        if (path[0] == '/') {
                n_path = strlen(path);
                if (n_path >= size)
                        return -ENAMETOOLONG;
                memcpy(ret, path, n_path + 1);
                return 0;
        }
        if (!cwd || cwd[0] != '/')
                return -EINVAL;
        for (;;) {
                if (path[0] == '.' && path[1] == '/') {
                        path += 2;
                        while (path[0] == '/')
                                path++;
                } else if (path[0] == '.' && path[1] == '\0')
                        path++;
                else
                        break;
        }
        n_cwd = strlen(cwd);
        n_path = strlen(path);
        /* No '/' after a cwd that ends in one ("/"), nor before nothing. */
        sep = n_path > 0 && cwd[n_cwd - 1] != '/';
        if (n_cwd + sep + n_path >= size)
                return -ENAMETOOLONG;
        memcpy(ret, cwd, n_cwd);
        if (sep)
                ret[n_cwd] = '/';
        memcpy(ret + n_cwd + sep, path, n_path + 1);
        return 0;
}
