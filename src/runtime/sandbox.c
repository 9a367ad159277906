/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* no_new_privs.  The rest of the sandbox lives in caps.c, seccomp.c,
 * rlimit.c and netlink.c; the order in which a container's child calls them
 * is written at the top of sandbox.h. */

#include <errno.h>
#include <sys/prctl.h>

#include "common/macro.h"
#include "runtime/sandbox.h"

int no_new_privs_set(void) {
        /* After this, execve() never grants privileges: setuid/setgid bits
         * and file capabilities are ignored, and the bit is inherited by every
         * descendant and cannot be cleared.  It is also what lets an
         * unprivileged process install a seccomp filter. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return negative_errno();
        return 0;
}
