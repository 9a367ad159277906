/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kill() and sigqueue() of a process another container's RESOLVE named
 * (shuttle-name pid, shuttle_resolve_pid()): such a pid is
 * SHUTTLE_PID_BASE or more, above anything the kernel hands out, and
 * becomes a SIGNAL_PID request.  Every other pid costs one comparison on
 * the way to the real call.  See shuttle-shim(7).
 *
 * What the program sees is what kill() would say: 0; EPERM when the
 * policy refuses the signal; ESRCH when the broker knows no such process
 * (never named, gone, named before a broker restart) or cannot be
 * reached; EINVAL for a bad signal number; EAGAIN when the receiver's
 * queue of real-time signals is full.  sig 0 only asks whether the
 * process still exists.  sigqueue() carries value.sival_int (a pointer
 * means nothing in another process). */

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "shuttle/shim/shim-internal.h"

typedef int (*kill_fn)(pid_t, int);
typedef int (*sigqueue_fn)(pid_t, int, const union sigval);

static kill_fn real_kill;
static sigqueue_fn real_sigqueue;

static void resolve_real(void) {
        if (!real_kill)
                real_kill = (kill_fn) dlsym(RTLD_NEXT, "kill");
        if (!real_sigqueue)
                real_sigqueue = (sigqueue_fn) dlsym(RTLD_NEXT, "sigqueue");
}

/* Resolved before main(): kill() is async-signal-safe and often called
 * from handlers, where dlsym() is not. */
__attribute__((constructor)) static void shim_signal_init(void) {
        int saved = errno;
        resolve_real();
        errno = saved;
}

/* Returns 0 or a negative errno for the program.  One attempt only: the
 * signal may have gone out before the conversation broke, and a broker
 * that restarted knows none of the pids handed out before (ESRCH). */
static int signal_redirect(pid_t pid, int sig, bool with_value, int value) {
        sigset_t all, old;
        ShimClient *s;
        int err = 0, r;

        s = shim_client_get(&err);
        if (!s)
                return -ESRCH; /* no broker: no such process */
        /* Uninterruptible, as kill() itself is: a handler running in the
         * middle would cut the conversation short (the client cannot wait
         * for an answer after EINTR) with the signal perhaps sent. */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        r = with_value ? shuttle_sigqueue_pid(shim_client_raw(s), pid, sig, value)
                       : shuttle_signal_pid(shim_client_raw(s), pid, sig);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        /* With every signal blocked on a blocking socket, EAGAIN is the
         * broker's answer (a full queue of real-time signals), not the
         * conversation's. */
        if (r != -EAGAIN && shim_transport_error(r)) {
                shim_client_retire(s);
                r = -ESRCH;
        }
        shim_client_put(s);
        switch (r) {
        case 0:
        case -EINVAL:
        case -EAGAIN:
                return r;
        case -EPERM:
        case -EACCES:
                return -EPERM;
        default:
                return -ESRCH;
        }
}

static int redirect(pid_t pid, int sig, bool with_value, int value) {
        int saved = errno, r;

        shim_in_redirect = true;
        r = signal_redirect(pid, sig, with_value, value);
        shim_in_redirect = false;
        if (r < 0) {
                errno = -r;
                return -1;
        }
        errno = saved;
        return 0;
}

_hook_ int kill(pid_t pid, int sig) {
        if (__builtin_expect(!real_kill, 0)) {
                resolve_real();
                if (!real_kill) {
                        errno = ENOSYS;
                        return -1;
                }
        }
        /* Negative pids (process groups), 0, -1 and every pid the kernel
         * can give are below SHUTTLE_PID_BASE.  Inside a redirection (a
         * signal handler that interrupted one) the client is busy: the
         * real call answers, ESRCH. */
        if (__builtin_expect(pid < SHUTTLE_PID_BASE, 1) || shim_disabled || shim_in_redirect)
                return real_kill(pid, sig);
        return redirect(pid, sig, false, 0);
}

_hook_ int sigqueue(pid_t pid, int sig, const union sigval value) {
        if (__builtin_expect(!real_sigqueue, 0)) {
                resolve_real();
                if (!real_sigqueue) {
                        errno = ENOSYS;
                        return -1;
                }
        }
        if (__builtin_expect(pid < SHUTTLE_PID_BASE, 1) || shim_disabled || shim_in_redirect)
                return real_sigqueue(pid, sig, value);
        return redirect(pid, sig, true, value.sival_int);
}
