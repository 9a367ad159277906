/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-init SOCK ERRPIPE GOPIPE CMD-PID KEEP-KILL [DETACHED]: what a container's pid
 * 1 becomes once it has forked CMD (container-init.c,
 * container_init_main()): a small static program, so that the container's
 * memory holds a few pages of ours instead of a fork of shuttlectl.  It is
 * executed from the host's file by descriptor, before CMD runs anything,
 * and does what the init's own loop does:
 *
 *   - drops every capability but CAP_KILL (KEEP-KILL 1: the container has
 *     it), lets CMD go (a byte on GOPIPE);
 *   - reads ERRPIPE: it closes on CMD's exec, or carries why CMD could not
 *     be executed, which goes to shuttlectl on SOCK as it came;
 *   - says STARTED, then forwards the forwarded_signals() to CMD, reaps
 *     every child, and when CMD ends sends EXITED with its wait status and
 *     exits 0: the pid namespace ends with it, and whatever CMD left;
 *   - ends (and the container with it) when SOCK closes: whoever watched
 *     the container is gone.  That is how it dies with a detached
 *     container's shuttle-monitor, which is not its parent (DETACHED 1:
 *     its parent, the owner that handed it to the monitor, leaves, so no
 *     PR_SET_PDEATHSIG); in the foreground shuttlectl is its parent and the
 *     signal stays.
 *
 * libc only: it runs inside any container; one header for the messages. */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/container-internal.h"

/* <linux/capability.h>'s, which musl's headers may lack. */
#define INIT_CAP_VERSION_3 0x20080522
#define INIT_CAP_KILL 5
struct init_cap_header {
        uint32_t version;
        int pid;
};
struct init_cap_data {
        uint32_t effective, permitted, inheritable;
};

static int number(const char *s, long *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end || v < 0 || v > INT32_MAX)
                return -1;
        *ret = v;
        return 0;
}

static void send_msg(int sock, const InitMessage *m) {
        (void) send(sock, m, sizeof(*m), MSG_NOSIGNAL);
}

static void send_error(int sock, int err, const char *text) {
        InitMessage m = { .type = INIT_MSG_ERROR, .err = err };
        strncpy(m.text, text, sizeof(m.text) - 1);
        send_msg(sock, &m);
}

/* Only CAP_KILL, and only if we had it: a root without no_new_privs got
 * the container's bounding set back with our exec. */
static int drop_caps(int keep_kill) {
        struct init_cap_header h = { .version = INIT_CAP_VERSION_3 };
        struct init_cap_data d[2] = {};
        uint32_t keep;

        if (syscall(SYS_capget, &h, d) < 0)
                return -1;
        keep = keep_kill ? d[0].permitted & (UINT32_C(1) << INIT_CAP_KILL) : 0;
        memset(d, 0, sizeof(d));
        d[0].effective = d[0].permitted = keep;
        return (int) syscall(SYS_capset, &h, d);
}

int main(int argc, char **argv) {
        long sock, errfd, gofd, cmd, keep_kill, detached = 0;
        sigset_t fwd;
        int sigfd;
        InitMessage m;
        ssize_t n;

        /* exec made us dumpable again: nothing in the container may
         * ptrace us (only CAP_SYS_PTRACE reaches us, as before); and we die
         * with shuttlectl, as before (kept over exec, set again). */
        if (prctl(PR_SET_DUMPABLE, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                _exit(1);
        if ((argc != 6 && argc != 7) || number(argv[1], &sock) < 0 || number(argv[2], &errfd) < 0 ||
            number(argv[3], &gofd) < 0 || number(argv[4], &cmd) < 0 || number(argv[5], &keep_kill) < 0 || cmd < 2 ||
            (argc == 7 && number(argv[6], &detached) < 0))
                _exit(1);
        /* Before STARTED, after which the owner may leave. */
        if (detached && prctl(PR_SET_PDEATHSIG, 0) < 0)
                _exit(1);

        /* For the init's loop below: the forwarded signals and SIGCHLD
         * were blocked before clone and stay blocked over exec; taken from
         * a signalfd when detached, else with sigwaitinfo.  The same list
         * as forwarded_signals(). */
        sigemptyset(&fwd);
        sigaddset(&fwd, SIGINT);
        sigaddset(&fwd, SIGTERM);
        sigaddset(&fwd, SIGHUP);
        sigaddset(&fwd, SIGQUIT);
        sigaddset(&fwd, SIGUSR1);
        sigaddset(&fwd, SIGUSR2);
        sigaddset(&fwd, SIGWINCH);
        sigaddset(&fwd, SIGCHLD);
        (void) sigprocmask(SIG_BLOCK, &fwd, NULL);
        /* Detached: signals and the socket (see above); in the
         * foreground only signals, shuttlectl being our parent. */
        sigfd = detached ? signalfd(-1, &fwd, SFD_CLOEXEC) : -1;
        if (detached && sigfd < 0) {
                int r = errno;
                (void) kill((pid_t) cmd, SIGKILL);
                send_error((int) sock, r, "watching the init's socket: signalfd failed");
                _exit(1);
        }
        if (drop_caps(keep_kill != 0) < 0) {
                int r = errno;
                (void) kill((pid_t) cmd, SIGKILL);
                errno = r;
                send_error((int) sock, r, "dropping the init's capabilities: capset failed");
                _exit(1);
        }
        if (write((int) gofd, "x", 1) != 1) {
                int r = errno;
                (void) kill((pid_t) cmd, SIGKILL);
                send_error((int) sock, r, "starting the command: write failed");
                _exit(1);
        }
        (void) close((int) gofd);

        /* The pipe closes on a successful exec, or carries why it failed. */
        do
                n = read((int) errfd, &m, sizeof(m));
        while (n < 0 && errno == EINTR);
        (void) close((int) errfd);
        if (n == (ssize_t) sizeof(m)) {
                (void) waitpid((pid_t) cmd, NULL, 0);
                m.status = 0;
                m.pid = 0;
                m.text[sizeof(m.text) - 1] = 0;
                send_msg((int) sock, &m);
                _exit(1);
        }
        m = (InitMessage){ .type = INIT_MSG_STARTED, .pid = (pid_t) cmd };
        send_msg((int) sock, &m);

        for (;;) {
                struct pollfd pfd[2] = { { .fd = sigfd, .events = POLLIN }, { .fd = (int) sock, .events = POLLIN } };
                struct signalfd_siginfo si;
                char c;

                /* Without a signalfd: signals only. */
                if (sigfd >= 0 && poll(pfd, 2, -1) < 0)
                        continue;
                if (sigfd >= 0 && pfd[1].revents) {
                        /* Nothing comes on it after STARTED; a close is the
                         * end of whoever watched us. */
                        n = recv((int) sock, &c, 1, MSG_DONTWAIT);
                        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                                _exit(1);
                }
                if (sigfd >= 0 && !(pfd[0].revents & POLLIN))
                        continue;
                if (sigfd >= 0) {
                        if (read(sigfd, &si, sizeof(si)) != (ssize_t) sizeof(si))
                                continue;
                } else {
                        int sig = sigwaitinfo(&fwd, NULL);
                        if (sig < 0)
                                continue;
                        si.ssi_signo = (uint32_t) sig;
                }
                if (si.ssi_signo != SIGCHLD) {
                        (void) kill((pid_t) cmd, (int) si.ssi_signo);
                        continue;
                }
                for (;;) {
                        int status;
                        pid_t p = waitpid(-1, &status, WNOHANG);
                        if (p <= 0)
                                break;
                        if (p == (pid_t) cmd) {
                                m = (InitMessage){ .type = INIT_MSG_EXITED, .status = status, .pid = (pid_t) cmd };
                                send_msg((int) sock, &m);
                                /* Our exit kills whatever CMD left behind. */
                                _exit(0);
                        }
                }
        }
}
