/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shuttle/host/locate.h"

static int found(const char *path, bool want_exec, char **ret) {
        char *s;

        if (access(path, want_exec ? X_OK : R_OK) < 0)
                return -ENOENT;
        s = strdup(path);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int shuttle_locate(const char *build_path, const char *installed_path, bool want_exec, char **ret) {
        char exe[PATH_MAX], path[PATH_MAX + 64];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

        if (n > 0) {
                char *slash;

                exe[n] = '\0';
                slash = strrchr(exe, '/');
                if (slash) {
                        int r;

                        *slash = '\0';
                        snprintf(path, sizeof(path), "%s/%s", exe, build_path);
                        r = found(path, want_exec, ret);
                        if (r != -ENOENT)
                                return r;
                }
        }
        return found(installed_path, want_exec, ret);
}

int init_locate(char **ret) {
        /* Test-only (tests/integration/init-exec.sh): another file, which
         * may be missing or not executable, to see the init stay itself. */
        const char *e = secure_getenv("SHUTTLE_TEST_INIT_PROGRAM");

        if (e) {
                *ret = strdup(e);
                return *ret ? 0 : -ENOMEM;
        }
        return shuttle_locate("shuttle-init", SHUTTLE_LIBEXECDIR "/shuttle-init", true, ret);
}
