/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-monitor: what `shuttlectl run --detach` becomes, by execve() in
 * the same process, once its container's command runs.  It stays the
 * parent of the container's init and the holder of its state entry's lock
 * (both pass through execve()), and does only what the container needs
 * while it runs: it stamps what the container writes into its log, passes
 * the signals it gets on to the init, and takes the command's exit status
 * from the init.  Once the init has ended it execve()s the exit command it
 * was given (shuttlectl, which unregisters the container and removes its
 * cgroups and state entry, still holding the lock), with the wait status
 * as a last argument.
 *
 * Built statically, from this file alone, so that an idle container costs
 * a few pages outside its cgroup rather than a shuttlectl with its shared
 * libraries (bench/idle-memory.sh).  Not meant to be run by hand.
 *
 *   shuttle-monitor SOCK PIDFD OUT LOG EXE EXIT-ARG0 [EXIT-ARG...]
 *
 * SOCK: the init's socket; PIDFD: the init's pidfd; OUT: the read end of
 * the pipe the container writes to; LOG: the log file (-1: none, what
 * comes is dropped); EXE: an fd of the exit command's binary. */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/container-internal.h"

/* musl has neither <sys/pidfd.h> nor P_PIDFD. */
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int send_signal(int pidfd, int sig) {
        return (int) syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* The stamp of shuttle/supervisor/logline.h (LOGLINE_STAMP_LEN, 28 bytes
 * with its space): RFC 3339 UTC with microseconds.  `shuttlectl logs`
 * parses it; tests/integration/monitor.sh checks the two agree. */
#define STAMP_LEN 28

static void format_stamp(char ret[static STAMP_LEN + 1]) {
        struct timespec ts;
        struct tm tm;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || !gmtime_r(&ts.tv_sec, &tm) || tm.tm_year + 1900 > 9999 ||
            tm.tm_year + 1900 < 0 ||
            snprintf(ret, STAMP_LEN + 1, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000) != STAMP_LEN)
                memcpy(ret, "1970-01-01T00:00:00.000000Z ", STAMP_LEN + 1);
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -1;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Copies what is in OUT to LOG, a stamp at the start of every line.
 * Returns 0 at the end of the pipe, 1 if more may come. */
static int pump(int out, int log, bool *at_line_start) {
        char buf[8192], stamp[STAMP_LEN + 1];
        ssize_t n = read(out, buf, sizeof(buf));

        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? 1 : 0;
        if (n == 0)
                return 0;
        if (log < 0)
                return 1;
        format_stamp(stamp);
        for (size_t i = 0; i < (size_t) n;) {
                const char *nl = memchr(buf + i, '\n', (size_t) n - i);
                size_t len = nl ? (size_t) (nl - (buf + i)) + 1 : (size_t) n - i;

                if (*at_line_start && write_all(log, stamp, STAMP_LEN) < 0)
                        return 1;
                (void) write_all(log, buf + i, len);
                *at_line_start = buf[i + len - 1] == '\n';
                i += len;
        }
        return 1;
}

/* The init's messages: only the command's exit status matters now. */
static void read_messages(int *sock, int *cmd_status) {
        for (;;) {
                InitMessage m;
                ssize_t n = recv(*sock, &m, sizeof(m), MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        close(*sock);
                        *sock = -1;
                        return;
                }
                if (n == (ssize_t) sizeof(m) && m.type == INIT_MSG_EXITED)
                        *cmd_status = m.status;
        }
}

static int parse_fd(const char *s) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < -1 || v > 65535)
                return -2;
        return (int) v;
}

int main(int argc, char **argv) {
        enum { M_PIDFD, M_SOCK, M_OUT, M_SIG, M_MAX };
        static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
        int sock, pidfd, out, log, exe, sigfd, cmd_status = -1, wait_status = -1;
        bool at_line_start = true, init_gone = false;
        char status_arg[32], **exit_argv;
        sigset_t mask;
        siginfo_t si = {};

        if (argc < 7) {
                fputs("shuttle-monitor: started by shuttlectl run --detach only\n", stderr);
                return 2;
        }
        sock = parse_fd(argv[1]);
        pidfd = parse_fd(argv[2]);
        out = parse_fd(argv[3]);
        log = parse_fd(argv[4]);
        exe = parse_fd(argv[5]);
        if (sock < 0 || pidfd < 0 || out < 0 || log < -1 || exe < 0) {
                fputs("shuttle-monitor: started by shuttlectl run --detach only\n", stderr);
                return 2;
        }
        /* Ours alone: none of them goes to the exit command but the log. */
        (void) fcntl(sock, F_SETFD, FD_CLOEXEC);
        (void) fcntl(pidfd, F_SETFD, FD_CLOEXEC);
        (void) fcntl(out, F_SETFD, FD_CLOEXEC);
        (void) fcntl(exe, F_SETFD, FD_CLOEXEC);
        (void) fcntl(out, F_SETFL, O_NONBLOCK);

        sigemptyset(&mask);
        for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
                sigaddset(&mask, forwarded[i]);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

        while (!init_gone) {
                struct pollfd p[M_MAX] = {
                        [M_PIDFD] = { .fd = pidfd, .events = POLLIN },
                        [M_SOCK] = { .fd = sock, .events = POLLIN },
                        [M_OUT] = { .fd = out, .events = POLLIN },
                        [M_SIG] = { .fd = sigfd, .events = POLLIN },
                };

                if (poll(p, M_MAX, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[M_SIG].revents & POLLIN) {
                        struct signalfd_siginfo s;
                        while (read(sigfd, &s, sizeof(s)) == (ssize_t) sizeof(s))
                                (void) send_signal(pidfd, (int) s.ssi_signo);
                }
                if (p[M_SOCK].revents)
                        read_messages(&sock, &cmd_status);
                if (p[M_OUT].revents && pump(out, log, &at_line_start) == 0) {
                        close(out);
                        out = -1;
                }
                if (p[M_PIDFD].revents)
                        init_gone = true;
        }
        if (waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED) >= 0)
                wait_status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 : si.si_status & 0x7f;
        /* What was sent and written just before the end. */
        if (sock >= 0)
                read_messages(&sock, &cmd_status);
        while (out >= 0 && pump(out, log, &at_line_start) > 0) {
                struct pollfd p = { .fd = out, .events = POLLIN };
                /* Whatever still holds the pipe is in the container's pid
                 * namespace, which ended with its init: EOF, or nothing
                 * more, soon. */
                if (poll(&p, 1, 100) <= 0)
                        break;
        }

        /* CMD's status if it told, else how the init ended. */
        snprintf(status_arg, sizeof(status_arg), "%d", cmd_status >= 0 ? cmd_status : wait_status);
        exit_argv = calloc((size_t) argc - 6 + 2, sizeof(char *));
        if (!exit_argv)
                return 1;
        for (int i = 6; i < argc; i++)
                exit_argv[i - 6] = argv[i];
        exit_argv[argc - 6] = status_arg;
        sigprocmask(SIG_UNBLOCK, &mask, NULL);
        syscall(SYS_execveat, exe, "", exit_argv, environ, AT_EMPTY_PATH);
        /* The lock goes with us: the entry is stale, and the next start or
         * `shuttlectl ps` removes it and its cgroups. */
        return 1;
}
