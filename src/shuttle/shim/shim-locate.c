/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/shim/shim-locate.h"

#define SHIM_SONAME "libshuttle-shim.so"

static int found(const char *path, char **ret) {
        char *s;

        if (access(path, R_OK) < 0)
                return -ENOENT;
        s = strdup(path);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int shim_locate(char **ret) {
        char exe[PATH_MAX], path[PATH_MAX + 32];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        int r;

        if (n > 0) {
                char *slash;

                exe[n] = '\0';
                slash = strrchr(exe, '/');
                if (slash) {
                        *slash = '\0';
                        snprintf(path, sizeof(path), "%s/.libs/" SHIM_SONAME, exe);
                        r = found(path, ret);
                        if (r != -ENOENT)
                                return r;
                }
        }
        return found(SHUTTLE_LIBDIR "/" SHIM_SONAME, ret);
}
