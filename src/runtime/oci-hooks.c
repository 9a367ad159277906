/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One OCI hook, run with the container's state on its stdin and bounded by
 * its timeout, and by the caller's cancel fd (oci-hooks.h). */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"
#include "runtime/oci-hooks.h"

/* Reaps the hook; -errno if waitid() fails. */
static int reap(pid_t pid, siginfo_t *si) {
        while (waitid(P_PID, (id_t) pid, si, WEXITED) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

static void kill_and_reap(int pidfd, pid_t pid) {
        siginfo_t si = {};

        if (pidfd >= 0)
                (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        else
                (void) kill(pid, SIGKILL);
        (void) reap(pid, &si);
}

int oci_hook_run(const OciHookRun *h, const char *state, size_t len, char *msg, size_t msglen) {
        static char *const no_env[] = { NULL };
        char *const just_path[] = { (char *) h->path, NULL };
        struct sigaction ign = { .sa_handler = SIG_IGN }, old;
        _cleanup_close_ int pidfd = -1;
        siginfo_t si = {};
        int in[2], r;
        pid_t pid;

        if (pipe2(in, O_CLOEXEC) < 0) {
                r = -errno;
                snprintf(msg, msglen, "hook '%s': pipe: %s", h->path, strerror(-r));
                return r;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                snprintf(msg, msglen, "hook '%s': fork: %s", h->path, strerror(-r));
                close(in[0]);
                close(in[1]);
                return r;
        }
        if (pid == 0) {
                sigset_t none;

                /* A hook starts with no signal blocked: the caller may
                 * block those it waits for (shuttle-oci create's). */
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                /* createContainer: in the container's namespaces (all but
                 * its pid namespace, which applies to children only). */
                if (h->ns_pidfd >= 0 &&
                    setns(h->ns_pidfd, CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
                        _exit(126);
                if (dup2(in[0], STDIN_FILENO) < 0)
                        _exit(126);
                execve(h->path, h->args ? h->args : just_path, h->env ? h->env : no_env);
                if (h->exec_error_prefix)
                        dprintf(STDERR_FILENO, "%s: hook '%s': %m\n", h->exec_error_prefix, h->path);
                _exit(127);
        }
        close(in[0]);
        pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        /* The state is small: the pipe takes it whole (a hook that does
         * not read it does not block us), and one that exited already
         * must not kill us with SIGPIPE (ignored only here: the hook was
         * forked with the caller's disposition). */
        sigaction(SIGPIPE, &ign, &old);
        (void) !write(in[1], state, len);
        sigaction(SIGPIPE, &old, NULL);
        close(in[1]);

        if ((h->timeout > 0 || h->cancel_fd >= 0) && pidfd >= 0) {
                struct pollfd p[2] = {
                        { .fd = pidfd, .events = POLLIN },
                        { .fd = h->cancel_fd, .events = POLLIN }, /* ignored when negative */
                };
                struct timespec now, end = {};
                int k, wait_ms = -1;

                if (h->timeout > 0) {
                        clock_gettime(CLOCK_MONOTONIC, &end);
                        end.tv_sec += h->timeout;
                }
                for (;;) {
                        if (h->timeout > 0) {
                                int64_t left;
                                clock_gettime(CLOCK_MONOTONIC, &now);
                                left = (int64_t) (end.tv_sec - now.tv_sec) * 1000 +
                                       (end.tv_nsec - now.tv_nsec) / 1000000;
                                wait_ms = (int) MAX(left, (int64_t) 0);
                        }
                        k = poll(p, 2, wait_ms);
                        if (k < 0 && errno == EINTR)
                                continue;
                        break;
                }
                if (k == 0) {
                        kill_and_reap(pidfd, pid);
                        snprintf(msg, msglen, "hook '%s' timed out after %d s", h->path, h->timeout);
                        return -ETIMEDOUT;
                }
                if (k > 0 && !(p[0].revents & POLLIN) && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
                        kill_and_reap(pidfd, pid);
                        snprintf(msg, msglen, "hook '%s' interrupted", h->path);
                        return -EINTR;
                }
        }
        r = reap(pid, &si);
        if (r < 0) {
                snprintf(msg, msglen, "hook '%s': waitid: %s", h->path, strerror(-r));
                return r;
        }
        if (si.si_code == CLD_EXITED && si.si_status == 0)
                return 0;
        if (si.si_code == CLD_EXITED)
                snprintf(msg, msglen, "hook '%s' exited with %d", h->path, si.si_status);
        else
                snprintf(msg, msglen, "hook '%s' was killed by signal %d", h->path, si.si_status);
        return -EIO;
}
