/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json's hooks: run with the container's state on their stdin, each
 * bounded by its timeout (runtime-spec "Lifecycle" and "POSIX-platform
 * Hooks"). */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/oci.h"

/* Runs one hook; 0 if it exited 0, else -EIO (or another errno) with err
 * saying how it failed. */
static int run_hook(const OciHook *h, const char *state, int ns_pidfd, char *err, size_t errlen) {
        static char *const no_env[] = { NULL };
        char *const fallback_args[] = { h->path, NULL };
        _cleanup_close_ int pidfd = -1;
        int in[2], r;
        siginfo_t si = {};
        size_t len = strlen(state);
        pid_t pid;

        if (pipe2(in, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(in[0]);
                close(in[1]);
                return r;
        }
        if (pid == 0) {
                /* createContainer: in the container's namespaces (all but
                 * its pid namespace, which applies to children only). */
                if (ns_pidfd >= 0 &&
                    setns(ns_pidfd, CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
                        _exit(126);
                if (dup2(in[0], STDIN_FILENO) < 0)
                        _exit(126);
                execve(h->path, h->args ? h->args : fallback_args, h->env ? h->env : no_env);
                _exit(127);
        }
        close(in[0]);
        pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        /* The state is small: the pipe takes it whole (a hook that does
         * not read it does not block us); one that exited already must
         * not kill us with SIGPIPE (ignored only here: the hook was
         * forked with the default). */
        {
                struct sigaction ign = { .sa_handler = SIG_IGN }, old;
                sigaction(SIGPIPE, &ign, &old);
                (void) !write(in[1], state, len);
                sigaction(SIGPIPE, &old, NULL);
        }
        close(in[1]);

        if (h->timeout > 0 && pidfd >= 0) {
                struct pollfd p = { .fd = pidfd, .events = POLLIN };
                int k = poll(&p, 1, h->timeout * 1000);
                if (k == 0) {
                        (void) pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
                        (void) waitid(P_PID, (id_t) pid, &si, WEXITED);
                        snprintf(err, errlen, "hook '%s' timed out after %d s", h->path, h->timeout);
                        return -ETIMEDOUT;
                }
        }
        if (waitid(P_PID, (id_t) pid, &si, WEXITED) < 0)
                return -errno;
        if (si.si_code == CLD_EXITED && si.si_status == 0)
                return 0;
        if (si.si_code == CLD_EXITED)
                snprintf(err, errlen, "hook '%s' exited with %d", h->path, si.si_status);
        else
                snprintf(err, errlen, "hook '%s' was killed by signal %d", h->path, si.si_status);
        return -EIO;
}

int oci_hooks_run(const OciSpec *spec, OciHookKind kind, const OciState *st, OciStatus status, int ns_pidfd,
                  bool stop_at_failure, char *err, size_t errlen) {
        _cleanup_free_ char *state = NULL;

        if (spec->n_hooks[kind] == 0)
                return 0;
        state = oci_state_format(st, status, true);
        if (!state)
                return -ENOMEM;
        for (size_t i = 0; i < spec->n_hooks[kind]; i++) {
                char msg[512] = "";
                int r = run_hook(&spec->hooks[kind][i], state, ns_pidfd, msg, sizeof(msg));

                if (r == 0)
                        continue;
                if (!msg[0])
                        snprintf(msg, sizeof(msg), "hook '%s': %s", spec->hooks[kind][i].path, strerror(-r));
                if (stop_at_failure) {
                        snprintf(err, errlen, "hooks.%s[%zu]: %s", oci_hook_kind_name(kind), i, msg);
                        return r;
                }
                /* poststart, poststop: a warning, and the rest go on. */
                oci_warning("hooks.%s[%zu]: %s", oci_hook_kind_name(kind), i, msg);
        }
        return 0;
}

void oci_hooks_poststop(const OciState *st) {
        OciSpec *spec = NULL;
        char err[512] = "";

        /* The bundle may be gone by now: then there is nothing to run. */
        if (oci_spec_load(st->bundle, &spec, err, sizeof(err)) < 0)
                return;
        (void) oci_hooks_run(spec, OCI_HOOK_POSTSTOP, st, OCI_STATUS_STOPPED, -1, false, err, sizeof(err));
        oci_spec_free(spec);
}
