/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* no_new_privs.  The rest of the sandbox lives in caps.c, seccomp.c,
 * rlimit.c and netlink.c; the order in which a container's child calls them
 * is written at the top of sandbox.h. */

#include <errno.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/seccomp.h>
#include <unistd.h>
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

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

int sandbox_enter(const SandboxSpec *s, SandboxStep *ret_step, const RlimitSpec **ret_rlimit) {
        /* The notification fd of a program loaded with NEW_LISTENER: the
         * caller's, but only once every step succeeded. */
        _cleanup_close_ int listener = -1;
        int r;

#define STEP(step, expr)                        \
        do {                                    \
                *ret_step = (step);             \
                r = (expr);                     \
                if (r < 0)                      \
                        return r;               \
        } while (0)
#define LOAD_SECCOMP()                                                                          \
        do {                                                                                    \
                STEP(SANDBOX_STEP_SECCOMP, seccomp_program_load(s->seccomp));                   \
                if (seccomp_program_flags(s->seccomp) & SECCOMP_FILTER_FLAG_NEW_LISTENER)       \
                        listener = r;                                                           \
        } while (0)
#define SYS(call) ((call) < 0 ? -errno : 0)

        /* The bounding set needs CAP_SETPCAP and raising a hard rlimit
         * CAP_SYS_RESOURCE, both gone after caps_apply(); the working
         * directory is entered as the final user; the filter needs
         * no_new_privs, and comes last so nothing before it is refused. */
        STEP(SANDBOX_STEP_BOUNDING, caps_drop_bounding(s->caps));
        STEP(SANDBOX_STEP_RLIMITS, rlimits_apply(s->rlimits, s->n_rlimits, ret_rlimit));
        if (s->new_privs) {
                /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN:
                 * now, while we hold it.  What follows runs under the
                 * filter (an OCI profile allows what the runtime needs). */
                STEP(SANDBOX_STEP_FDS, SYS(close_range(3 + s->n_pass_fds, ~0U, CLOSE_RANGE_CLOEXEC)));
                LOAD_SECCOMP();
        }
        if (s->keep_caps)
                /* setresuid() to a non-root uid empties the permitted set
                 * unless asked not to; execve() clears the flag again. */
                STEP(SANDBOX_STEP_CAPS, SYS(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)));
        STEP(SANDBOX_STEP_GROUPS, SYS(setgroups(s->n_groups, s->n_groups ? s->groups : NULL)));
        if (s->set_ids) {
                STEP(SANDBOX_STEP_GID, SYS(setresgid(s->gid, s->gid, s->gid)));
                STEP(SANDBOX_STEP_UID, SYS(setresuid(s->uid, s->uid, s->uid)));
        }
        STEP(SANDBOX_STEP_CAPS, caps_apply(s->caps));
        /* Only what the kernel knows (a spec may list newer ones) and what
         * we held ourselves (still in the bounding set): a capability the
         * host withheld from us is not ours to give (caps_apply() leaves
         * it out of the permitted set too). */
        for (unsigned c = 0; c < 64; c++)
                if ((s->ambient & s->caps & caps_all_mask() & CAP_MASK(c)) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
                        STEP(SANDBOX_STEP_CAPS, SYS(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0)));
        STEP(SANDBOX_STEP_WORKDIR, SYS(chdir(s->workdir ?: "/")));
        if (!s->new_privs) {
                /* Nothing the caller had open beyond stdio (and what it
                 * placed at 3… to pass on) goes into the container.  Before
                 * the filter: a profile (an OCI one) may not know
                 * close_range. */
                STEP(SANDBOX_STEP_FDS, SYS(close_range(3 + s->n_pass_fds, ~0U, CLOSE_RANGE_CLOEXEC)));
                STEP(SANDBOX_STEP_NO_NEW_PRIVS, no_new_privs_set());
                LOAD_SECCOMP();
        }
#undef LOAD_SECCOMP
#undef SYS
#undef STEP
        return listener >= 0 ? TAKE_FD(listener) : 0;
}

const char *sandbox_step_describe(SandboxStep step) {
        static const char *const text[] = {
                [SANDBOX_STEP_BOUNDING] = "dropping capabilities from the bounding set",
                [SANDBOX_STEP_RLIMITS] = "setting resource limits",
                [SANDBOX_STEP_GROUPS] = "clearing supplementary groups",
                [SANDBOX_STEP_GID] = "setting the group id",
                [SANDBOX_STEP_UID] = "setting the user id",
                [SANDBOX_STEP_CAPS] = "setting capabilities",
                [SANDBOX_STEP_WORKDIR] = "entering the working directory",
                [SANDBOX_STEP_NO_NEW_PRIVS] = "setting no_new_privs",
                [SANDBOX_STEP_SECCOMP] = "loading the seccomp profile",
                [SANDBOX_STEP_FDS] = "closing inherited descriptors",
        };
        return step < ELEMENTSOF(text) && text[step] ? text[step] : "entering the sandbox";
}
