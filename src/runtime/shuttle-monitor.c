/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-monitor: the one process outside their cgroups that a state
 * directory's detached containers (`shuttlectl run --detach`) need while
 * they run.  The first such start starts it; each detached container's
 * owner hands its container over once the command runs (monitor-proto.h:
 * the init's socket and pidfd, the output pipe, the exit command, the
 * state entry's lock, the log, an image lock, by SCM_RIGHTS), and ends.
 * For each container it stamps what the container writes into its log,
 * takes the command's exit status from the init (pid 1 reports EXITED over
 * its socket), and once the init has ended forks the exit command
 * (shuttlectl __monitor-exit, which unregisters the container and removes
 * its cgroups and state entry, with the lock) with the wait status as a
 * last argument.  The signals it gets (SIGTERM, ...) go to every
 * container's init.  It ends when it has no container left (or none came
 * within MONITOR_FIRST_WAIT_MS of its start).
 *
 * It is not the inits' parent (the owners were): whoever reaps orphans
 * reaps them; the pidfd says when one ended.  The exit commands run with
 * the environment of the start that started the monitor.  If it dies, every init sees
 * its socket close and ends (shuttle-init), as with its owner before: the
 * entries are then stale and the next start or `shuttlectl ps` removes
 * them and their cgroups.
 *
 * Built statically, from this file alone, so that it costs a few pages
 * (bench/idle-memory.sh).  Not meant to be run by hand.
 *
 *   shuttle-monitor LISTEN-FD LOCK-FD DIR-FD SOCK-NAME
 *
 * LISTEN-FD: a socket bound at DIR-FD's SOCK-NAME, listen()ed on here;
 * LOCK-FD: its monitor.HASH.lock, flock()-ed; DIR-FD: the state directory
 * (monitor-proto.h). */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "runtime/container-internal.h"
#include "runtime/monitor-proto.h"

/* How long a new monitor waits for its first container. */
#define MONITOR_FIRST_WAIT_MS 10000

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

typedef struct Watched {
        int sock, pidfd, out, exe;
        int held[MONITOR_HELD_MAX];
        unsigned n_held;
        int log; /* one of held, or -1 */
        bool at_line_start;
        bool ended; /* its pidfd said so: finish() after this round */
        int cmd_status;
        char **argv; /* the exit command's, a slot left for the status */
        char *blob;  /* argv's strings */
        struct Watched *next;
} Watched;

/* The low bits of an epoll entry's data (a Watched is 16-byte aligned). */
enum { K_SOCK, K_PIDFD, K_OUT, K_LISTEN, K_SIG, K_CONN, K_MASK = 7 };

/* A connection whose message has not come yet: an owner writes its state
 * entry between its connect and its send.  At most PENDING_MAX at a time,
 * each for at most PENDING_MS: nothing a client does stalls the others. */
#define PENDING_MAX 64
#define PENDING_MS 5000
typedef struct Pending {
        int fd;
        uint64_t since_ms;
} __attribute__((aligned(8))) Pending;
static Pending pending[PENDING_MAX];
static unsigned n_pending;

static uint64_t now_ms(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static int epfd = -1;
static Watched *watched;
static unsigned n_watched;

/* Copies what is in OUT to the log, a stamp at the start of every line.
 * Returns 0 at the end of the pipe, 1 if more may come. */
static int pump(Watched *w) {
        char buf[8192], stamp[STAMP_LEN + 1];
        ssize_t n = read(w->out, buf, sizeof(buf));

        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? 1 : 0;
        if (n == 0)
                return 0;
        if (w->log < 0)
                return 1;
        format_stamp(stamp);
        for (size_t i = 0; i < (size_t) n;) {
                const char *nl = memchr(buf + i, '\n', (size_t) n - i);
                size_t len = nl ? (size_t) (nl - (buf + i)) + 1 : (size_t) n - i;

                if (w->at_line_start && write_all(w->log, stamp, STAMP_LEN) < 0)
                        return 1;
                (void) write_all(w->log, buf + i, len);
                w->at_line_start = buf[i + len - 1] == '\n';
                i += len;
        }
        return 1;
}

static void close_fd(int *fd) {
        if (*fd >= 0) {
                (void) epoll_ctl(epfd, EPOLL_CTL_DEL, *fd, NULL);
                close(*fd);
        }
        *fd = -1;
}

/* The init's messages: only the command's exit status matters now. */
static void read_messages(Watched *w) {
        while (w->sock >= 0) {
                InitMessage m;
                ssize_t n = recv(w->sock, &m, sizeof(m), MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        close_fd(&w->sock);
                        return;
                }
                if (n == (ssize_t) sizeof(m) && m.type == INIT_MSG_EXITED)
                        w->cmd_status = m.status;
        }
}

static void watched_free(Watched *w) {
        close_fd(&w->sock);
        close_fd(&w->pidfd);
        close_fd(&w->out);
        if (w->exe >= 0)
                close(w->exe);
        for (unsigned i = 0; i < w->n_held; i++)
                close(w->held[i]);
        free(w->argv);
        free(w->blob);
        free(w);
}

static int watch(int fd, Watched *w, int kind) {
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t) (uintptr_t) w | (uint64_t) kind };
        return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* The exit command, in a child of ours: the held fds as 3, 4, ..., nothing
 * else of ours. */
static void run_exit_command(Watched *w, const sigset_t *mask) {
        char status_arg[32];
        int status;
        pid_t pid;

        /* CMD's status if it told; else the init was killed, which only
         * SIGKILL does to a pid 1 that blocks the rest. */
        status = w->cmd_status >= 0 ? w->cmd_status : SIGKILL;
        snprintf(status_arg, sizeof(status_arg), "%d", status);
        for (size_t i = 0;; i++)
                if (!w->argv[i]) {
                        w->argv[i] = status_arg;
                        break;
                }
        pid = fork();
        if (pid != 0)
                return; /* failed: the entry stays stale, the next start removes it */
        (void) sigprocmask(SIG_UNBLOCK, mask, NULL);
        {
                int high[MONITOR_HELD_MAX], exe;

                exe = fcntl(w->exe, F_DUPFD_CLOEXEC, 64);
                for (unsigned i = 0; i < w->n_held; i++)
                        if ((high[i] = fcntl(w->held[i], F_DUPFD, 64)) < 0)
                                _exit(1);
                for (unsigned i = 0; i < w->n_held; i++)
                        if (dup2(high[i], 3 + (int) i) < 0)
                                _exit(1);
                if (exe < 0 || dup2(exe, 3 + (int) w->n_held) < 0)
                        _exit(1);
                exe = 3 + (int) w->n_held;
                (void) syscall(SYS_close_range, (unsigned) exe + 1, ~0U, 0);
                (void) fcntl(exe, F_SETFD, FD_CLOEXEC);
                syscall(SYS_execveat, exe, "", w->argv, environ, AT_EMPTY_PATH);
        }
        _exit(1);
}

/* The init has ended: what it still wrote, then the exit command. */
static void finish(Watched *w, const sigset_t *mask) {
        Watched **p;

        read_messages(w);
        while (w->out >= 0 && pump(w) > 0) {
                struct pollfd q = { .fd = w->out, .events = POLLIN };
                /* Whatever still holds the pipe is in the container's pid
                 * namespace, which ended with its init: EOF, or nothing
                 * more, soon. */
                if (poll(&q, 1, 100) <= 0)
                        break;
        }
        run_exit_command(w, mask);
        for (p = &watched; *p != w; p = &(*p)->next)
                ;
        *p = w->next;
        n_watched--;
        watched_free(w);
}

/* One container handed over on conn; answers MONITOR_ACK once it is ours.
 * Refused (a bad message, no memory): conn is closed unanswered, and the
 * owner, which still has all of it, tries again or gives up. */
static void adopt(int conn) {
        /* Received here, kept in a copy of its size: a few bytes per
         * container, not a page. */
        static char buf[MONITOR_MSG_MAX];
        MonitorAdopt a;
        char *data = NULL;
        int fds[MONITOR_FD_MAX + MONITOR_HELD_MAX];
        size_t n_fds = 0;
        Watched *w = NULL;
        ssize_t n;
        size_t off;
        char ack = MONITOR_ACK;

        /* The hardened receiver: CLOEXEC, exact types, truncation refused,
         * all closed on error; the count is checked against the header. */
        n = fd_recv_upto(conn, buf, sizeof(buf), fds, MONITOR_FD_MAX + MONITOR_HELD_MAX, &n_fds, MSG_DONTWAIT);
        if (n < 0) {
                n_fds = 0;
                goto refuse;
        }
        if (n < (ssize_t) sizeof(a) || !(data = malloc((size_t) n)))
                goto refuse;
        memcpy(data, buf, (size_t) n);
        memcpy(&a, data, sizeof(a));
        if (a.magic != MONITOR_MAGIC || a.argc == 0 || a.argc > 64 || a.n_held > MONITOR_HELD_MAX ||
            MONITOR_FD_MAX + a.n_held != n_fds || a.log_index < -1 || a.log_index >= (int32_t) a.n_held ||
            data[n - 1] != '\0')
                goto refuse;
        w = calloc(1, sizeof(*w));
        if (!w || !(w->argv = calloc(a.argc + 2, sizeof(char *)))) {
                if (w)
                        free(w);
                goto refuse;
        }
        off = sizeof(a);
        for (uint32_t i = 0; i < a.argc; i++) {
                if (off >= (size_t) n) {
                        free(w->argv);
                        free(w);
                        goto refuse;
                }
                w->argv[i] = data + off;
                off += strlen(data + off) + 1;
        }
        /* w owns all of it from here. */
        w->blob = data;
        w->sock = fds[MONITOR_FD_SOCK];
        w->pidfd = fds[MONITOR_FD_PIDFD];
        w->out = fds[MONITOR_FD_OUT];
        w->exe = fds[MONITOR_FD_EXE];
        w->n_held = a.n_held;
        for (unsigned i = 0; i < a.n_held; i++)
                w->held[i] = fds[MONITOR_FD_MAX + i];
        w->log = a.log_index >= 0 ? w->held[a.log_index] : -1;
        w->at_line_start = true;
        w->cmd_status = -1;
        (void) fcntl(w->out, F_SETFL, O_NONBLOCK);
        if (watch(w->sock, w, K_SOCK) < 0 || watch(w->pidfd, w, K_PIDFD) < 0 || watch(w->out, w, K_OUT) < 0 ||
            send(conn, &ack, 1, MSG_NOSIGNAL) != 1) {
                watched_free(w);
                return;
        }
        w->next = watched;
        watched = w;
        n_watched++;
        return;
refuse:
        for (size_t i = 0; i < n_fds; i++)
                close(fds[i]);
        free(data);
}

int main(int argc, char **argv) {
        static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
        int listen_fd, dir_fd, sigfd;
        bool had_one = false;
        sigset_t mask;

        if (argc != 5 || (listen_fd = atoi(argv[1])) < 3 || atoi(argv[2]) < 3 || (dir_fd = atoi(argv[3])) < 3 ||
            strncmp(argv[4], "monitor.", 8) != 0 || strchr(argv[4], '/')) {
                fputs("shuttle-monitor: started by shuttlectl run --detach only\n", stderr);
                return 2;
        }
        /* Ours alone: nothing of ours goes to an exit command but what
         * run_exit_command() puts there. */
        (void) fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
        (void) fcntl(atoi(argv[2]), F_SETFD, FD_CLOEXEC);
        (void) fcntl(dir_fd, F_SETFD, FD_CLOEXEC);
        (void) fcntl(listen_fd, F_SETFL, O_NONBLOCK);
        /* Ours, not the starter's: clients take our pid from it. */
        if (listen(listen_fd, SOMAXCONN) < 0)
                return 1;

        sigemptyset(&mask);
        for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
                sigaddset(&mask, forwarded[i]);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        /* Ignored ones (kept over execve() from whoever started us) would
         * never reach the signalfd. */
        for (int sig = 1; sig < NSIG; sig++)
                if (sigismember(&mask, sig) == 1)
                        (void) signal(sig, SIG_DFL);
        (void) signal(SIGPIPE, SIG_IGN);
        sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        epfd = epoll_create1(EPOLL_CLOEXEC);
        if (sigfd < 0 || epfd < 0 || watch(listen_fd, NULL, K_LISTEN) < 0 || watch(sigfd, NULL, K_SIG) < 0)
                return 1;

        while (!had_one || n_watched > 0 || n_pending > 0) {
                struct epoll_event ev[16];
                uint64_t start = now_ms();
                int k = epoll_wait(epfd, ev, 16, n_pending > 0 ? 500 : had_one ? -1 : MONITOR_FIRST_WAIT_MS);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 || (k == 0 && !had_one && n_pending == 0 && now_ms() - start >= MONITOR_FIRST_WAIT_MS))
                        break;
                for (int i = 0; i < k; i++) {
                        uint64_t d = ev[i].data.u64;
                        Watched *w = (Watched *) (uintptr_t) (d & ~(uint64_t) K_MASK);
                        int kind = (int) (d & K_MASK);

                        if (kind == K_LISTEN) {
                                int conn;
                                while ((conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
                                        struct ucred cred;
                                        socklen_t len = sizeof(cred);
                                        struct epoll_event e = { .events = EPOLLIN };

                                        /* Only our own user hands containers over. */
                                        if (n_pending >= PENDING_MAX ||
                                            getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
                                            cred.uid != geteuid()) {
                                                close(conn);
                                                continue;
                                        }
                                        e.data.u64 = (uint64_t) (uintptr_t) &pending[n_pending] | K_CONN;
                                        if (epoll_ctl(epfd, EPOLL_CTL_ADD, conn, &e) < 0) {
                                                close(conn);
                                                continue;
                                        }
                                        pending[n_pending++] = (Pending){ .fd = conn, .since_ms = now_ms() };
                                }
                        } else if (kind == K_CONN) {
                                Pending *q = (Pending *) w;
                                unsigned before = n_watched;

                                if (q->fd < 0)
                                        continue;
                                adopt(q->fd);
                                had_one = had_one || n_watched > before;
                                close_fd(&q->fd);
                        } else if (kind == K_SIG) {
                                struct signalfd_siginfo s;
                                while (read(sigfd, &s, sizeof(s)) == (ssize_t) sizeof(s)) {
                                        if (s.ssi_signo == SIGCHLD) {
                                                while (waitpid(-1, NULL, WNOHANG) > 0)
                                                        ;
                                                continue;
                                        }
                                        for (Watched *x = watched; x; x = x->next)
                                                (void) send_signal(x->pidfd, (int) s.ssi_signo);
                                }
                        } else if (kind == K_SOCK)
                                read_messages(w);
                        else if (kind == K_OUT) {
                                if (w->out >= 0 && pump(w) == 0)
                                        close_fd(&w->out);
                        } else if (kind == K_PIDFD)
                                w->ended = true;
                }
                /* After the round: ev[] may still have named them.  A
                 * pending connection's slot is reused only now. */
                for (unsigned i = 0; i < n_pending;) {
                        if (pending[i].fd >= 0 && now_ms() - pending[i].since_ms > PENDING_MS)
                                close_fd(&pending[i].fd);
                        if (pending[i].fd < 0) {
                                pending[i] = pending[--n_pending];
                                if (i < n_pending) {
                                        struct epoll_event e = { .events = EPOLLIN,
                                                                 .data.u64 = (uint64_t) (uintptr_t) &pending[i] | K_CONN };
                                        (void) epoll_ctl(epfd, EPOLL_CTL_MOD, pending[i].fd, &e);
                                }
                                continue;
                        }
                        i++;
                }
                for (Watched *w = watched, *next; w; w = next) {
                        next = w->next;
                        if (w->ended)
                                finish(w, &mask);
                }
        }

        /* No container left: new clients find no socket (and wait for our
         * lock to start the next monitor); those already connected are
         * closed unanswered, and try again. */
        (void) unlinkat(dir_fd, argv[4], 0);
        for (int conn; (conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0;)
                close(conn);
        for (unsigned i = 0; i < n_pending; i++)
                if (pending[i].fd >= 0)
                        close(pending[i].fd);
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        return 0;
}
