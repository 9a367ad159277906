/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The names under /run/shuttle/apps/ inside a container: exec of
 * /run/shuttle/apps/<container>/<app> invokes <app> in <container>.
 *
 *   /run/shuttle/apps/T/NAME        → target T, app NAME (a bare name,
 *                                     which the broker resolves)
 *   /run/shuttle/apps/T/usr/bin/x   → target T, app /usr/bin/x
 *
 * Shared by the shim (whose exec hooks must stay async-signal-safe: no
 * allocation, no locale, no library state) and shuttle-invoke, so it is
 * header-only and uses nothing but string functions. */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "shuttle/client/protocol.h"

#define SHUTTLE_APPS_DIR "/run/shuttle/apps/"

static inline bool shuttle_app_entry_has_prefix(const char *path) {
        return path && strncmp(path, SHUTTLE_APPS_DIR, sizeof(SHUTTLE_APPS_DIR) - 1) == 0;
}

/* Splits path into the target's name and the app.  Returns 0, or -EINVAL
 * when path is not of that shape: another prefix, an empty, "." or ".."
 * component (the kernel would resolve such a name elsewhere), a trailing
 * '/', a target name longer than SHUTTLE_NAME_MAX or an app longer than
 * SHUTTLE_PATH_MAX.  The names are not checked further: the broker does. */
static inline int shuttle_app_entry_parse(const char *path, char ret_target[static SHUTTLE_NAME_MAX + 1],
                                          char ret_app[static SHUTTLE_PATH_MAX + 1]) {
        const char *t, *rest, *c;
        size_t tn, rn;

        if (!shuttle_app_entry_has_prefix(path))
                return -EINVAL;
        t = path + sizeof(SHUTTLE_APPS_DIR) - 1;
        rest = strchr(t, '/');
        if (!rest)
                return -EINVAL;
        tn = (size_t) (rest - t);
        rest++;
        /* Every component, the target's included: non-empty, not "." or "..". */
        for (c = t;;) {
                const char *e = strchrnul(c, '/');
                size_t n = (size_t) (e - c);

                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return -EINVAL;
                if (!*e)
                        break;
                c = e + 1;
        }
        rn = strlen(rest);
        if (tn > SHUTTLE_NAME_MAX || rn + 1 > SHUTTLE_PATH_MAX)
                return -EINVAL;
        memcpy(ret_target, t, tn);
        ret_target[tn] = '\0';
        if (strchr(rest, '/')) {
                ret_app[0] = '/';
                memcpy(ret_app + 1, rest, rn + 1);
        } else
                memcpy(ret_app, rest, rn + 1);
        return 0;
}
