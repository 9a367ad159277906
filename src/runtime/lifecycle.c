/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kill and stop, from outside the container (see lifecycle.h). */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <time.h>

#include "common/macro.h"
#include "common/time-util.h"
#include "runtime/lifecycle.h"

bool container_signal_is_deliverable(int sig) {
        switch (sig) {
        case SIGINT:
        case SIGTERM:
        case SIGHUP:
        case SIGQUIT:
        case SIGUSR1:
        case SIGUSR2:
        case SIGWINCH:
        case SIGKILL:
                return true;
        default:
                return false;
        }
}

int container_kill(const StateInfo *i, const char *state_dir, int sig) {
        _cleanup_close_ int pidfd = -1;
        int r;

        if (!container_signal_is_deliverable(sig))
                return -EINVAL;
        r = state_info_open_init(i, state_dir, &pidfd);
        if (r < 0)
                return r;
        if (pidfd_send_signal(pidfd, sig, NULL, 0) < 0)
                return errno == ESRCH ? -ESRCH : -errno;
        return 0;
}

/* 1 once the process behind pidfd has exited, 0 on timeout. */
static int wait_exit(int pidfd, uint64_t timeout_usec) {
        uint64_t end = clock_usec(CLOCK_MONOTONIC) + timeout_usec;

        for (;;) {
                struct pollfd p = { .fd = pidfd, .events = POLLIN };
                uint64_t now = clock_usec(CLOCK_MONOTONIC);
                int ms = now >= end ? 0 : (int) MIN((end - now + 999) / 1000, (uint64_t) INT_MAX);
                int n = poll(&p, 1, ms);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n > 0)
                        return 1;
                if (clock_usec(CLOCK_MONOTONIC) >= end)
                        return 0;
        }
}

int container_stop(const StateInfo *i, const char *state_dir, uint64_t timeout_usec, bool *ret_killed) {
        _cleanup_close_ int pidfd = -1;
        char lock[PATH_MAX];
        bool killed = false;
        int r;

        r = state_container_lock_path(state_dir, i->name, lock, sizeof(lock));
        if (r < 0)
                return r;
        r = state_info_open_init(i, state_dir, &pidfd);
        if (r < 0)
                return r;
        /* Before the signal, so the supervisor never sees an exit it could
         * take for a crash. */
        if (i->group) {
                r = state_info_mark_stopping(state_dir, i->name);
                if (r < 0)
                        return r;
        }
        if (pidfd_send_signal(pidfd, SIGTERM, NULL, 0) < 0 && errno != ESRCH)
                return -errno;
        r = wait_exit(pidfd, timeout_usec);
        if (r < 0)
                return r;
        if (r == 0) {
                killed = true;
                if (pidfd_send_signal(pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                        return -errno;
                r = wait_exit(pidfd, STOP_CLEANUP_USEC);
                if (r < 0)
                        return r;
                if (r == 0)
                        return -ETIMEDOUT;
        }
        r = state_lock_wait_released(lock, STOP_CLEANUP_USEC);
        if (r < 0)
                return r;
        if (ret_killed)
                *ret_killed = killed;
        return 0;
}

/* SIGKILL to the init of every live container of the group, then waits for
 * their owners to clean up. */
static int kill_group_containers(const GroupInfo *g, const char *state_dir) {
        int ret = 0;

        for (size_t k = 0; g->containers && g->containers[k]; k++) {
                _cleanup_close_ int pidfd = -1;
                StateInfo s = {};

                if (state_info_load(state_dir, g->containers[k], &s) < 0)
                        continue;
                if (s.group && streq(s.group, g->group) && state_info_open_init(&s, state_dir, &pidfd) >= 0)
                        (void) pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
                state_info_done(&s);
        }
        for (size_t k = 0; g->containers && g->containers[k]; k++) {
                char lock[PATH_MAX];
                if (state_container_lock_path(state_dir, g->containers[k], lock, sizeof(lock)) < 0)
                        continue;
                if (state_lock_wait_released(lock, STOP_CLEANUP_USEC) < 0)
                        ret = -ETIMEDOUT;
        }
        return ret;
}

int group_stop(const GroupInfo *g, const char *state_dir, uint64_t timeout_usec, bool *ret_killed) {
        _cleanup_close_ int pidfd = -1;
        char lock[PATH_MAX];
        size_t n = 0;
        uint64_t wait;
        int r;

        r = state_group_lock_path(state_dir, g->group, lock, sizeof(lock));
        if (r < 0)
                return r;
        if (!g->alive || g->pid <= 0)
                return -ESRCH;
        pidfd = pidfd_open(g->pid, 0);
        if (pidfd < 0)
                return errno == ESRCH ? -ESRCH : -errno;
        /* Pinned now; still the supervisor if the group's lock is still
         * held (it holds it until it exits). */
        if (state_lock_is_held(lock) <= 0)
                return -ESRCH;

        while (g->containers && g->containers[n])
                n++;
        wait = timeout_usec * MAX(n, (size_t) 1) + 5 * USEC_PER_SEC;

        if (pidfd_send_signal(pidfd, SIGTERM, NULL, 0) < 0 && errno != ESRCH)
                return -errno;
        r = state_lock_wait_released(lock, wait);
        if (r == 0) {
                if (ret_killed)
                        *ret_killed = false;
                return 0;
        }
        if (r != -ETIMEDOUT)
                return r;

        (void) pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
        r = kill_group_containers(g, state_dir);
        if (state_lock_wait_released(lock, STOP_CLEANUP_USEC) < 0 || r < 0)
                return -ETIMEDOUT;
        if (ret_killed)
                *ret_killed = true;
        return 0;
}
