/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/fileio.h"
#include "common/macro.h"
#include "common/time-util.h"
#include "runtime/monitor-client.h"

/* "monitor.HASH", HASH of where we sit in the cgroup trees: the starts of
 * one cgroup (one login session, one service) share a monitor, which runs
 * in that cgroup like each container's owner did, so that whatever ends
 * that cgroup (a service stopped) ends only what was started from it. */
static void monitor_name(char ret[static 32]) {
        _cleanup_free_ char *text = NULL;
        uint32_t h = 2166136261u; /* FNV-1a */

        if (read_file_at(AT_FDCWD, "/proc/self/cgroup", 65536, &text, NULL) >= 0)
                for (const char *p = text; *p; p++)
                        h = (h ^ (uint8_t) *p) * 16777619u;
        snprintf(ret, 32, "monitor.%08x", h);
}

/* The socket's address through the directory's fd: any state directory,
 * however long its path. */
static socklen_t monitor_address(int dir_fd, const char *name, struct sockaddr_un *ret) {
        *ret = (struct sockaddr_un){ .sun_family = AF_UNIX };
        snprintf(ret->sun_path, sizeof(ret->sun_path), "/proc/self/fd/%d/%s.sock", dir_fd, name);
        return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(ret->sun_path) + 1);
}

/* 0 and the monitor's pid, or a negative errno (-ENOENT, -ECONNREFUSED:
 * none runs). */
static int monitor_connect(int dir_fd, const char *name, int *ret_fd, pid_t *ret_pid) {
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa;
        socklen_t len = monitor_address(dir_fd, name, &sa);
        struct ucred cred;
        socklen_t n = sizeof(cred);

        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, len) < 0)
                return -errno;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &n) < 0)
                return -errno;
        *ret_pid = cred.pid;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Starts a monitor if we get NAME.lock: 1 started, 0 someone else holds
 * the lock (a monitor starting or ending: try again soon). */
static int monitor_start(int dir_fd, const char *name, const char *monitor_path) {
        _cleanup_close_ int lock = -1, listen_fd = -1, null = -1;
        struct sockaddr_un sa;
        socklen_t len;
        char s_listen[16], s_lock[16], s_dir[16], file[48];
        pid_t pid;

        snprintf(file, sizeof(file), "%s.lock", name);
        lock = openat(dir_fd, file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lock < 0)
                return -errno;
        if (flock(lock, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 0 : -errno;
        /* Ours: a socket left there is a dead monitor's. */
        snprintf(file, sizeof(file), "%s.sock", name);
        if (unlinkat(dir_fd, file, 0) < 0 && errno != ENOENT)
                return -errno;
        listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (listen_fd < 0)
                return -errno;
        len = monitor_address(dir_fd, name, &sa);
        /* The monitor calls listen(): the peer credentials a client gets
         * are those of whoever did (monitor_connect() takes its pid). */
        if (bind(listen_fd, (struct sockaddr *) &sa, len) < 0 || fchmodat(dir_fd, file, 0600, 0) < 0)
                return -errno;
        null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (null < 0)
                return -errno;
        snprintf(s_listen, sizeof(s_listen), "%d", listen_fd);
        snprintf(s_lock, sizeof(s_lock), "%d", lock);
        snprintf(s_dir, sizeof(s_dir), "%d", dir_fd);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                sigset_t none;

                /* Nothing of the container's (or ours) but these three:
                 * the monitor takes each container's fds by message. */
                (void) setsid();
                if (dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0)
                        _exit(1);
                (void) close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
                if (fcntl(listen_fd, F_SETFD, 0) < 0 || fcntl(lock, F_SETFD, 0) < 0 || fcntl(dir_fd, F_SETFD, 0) < 0)
                        _exit(1);
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                execl(monitor_path, "shuttle-monitor", s_listen, s_lock, s_dir, file, (char *) NULL);
                _exit(127);
        }
        /* The lock and the socket are the monitor's now (one open file
         * each, shared until we close ours). */
        return 1;
}

/* Sends the container; 0 once the monitor answered, -EAGAIN if it closed
 * the connection unanswered (it was ending). */
static int monitor_send(int fd, const MonitorHandover *h, int sock, int pidfd, uint64_t deadline) {
        _cleanup_free_ char *data = malloc(MONITOR_MSG_MAX);
        MonitorAdopt a = { .magic = MONITOR_MAGIC, .n_held = h->n_held, .log_index = h->log_index };
        int fds[MONITOR_FD_MAX + MONITOR_HELD_MAX];
        size_t len = sizeof(a);
        char ack;
        ssize_t n;

        if (!data)
                return -ENOMEM;
        for (char *const *p = h->exit_argv; *p; p++) {
                size_t k = strlen(*p) + 1;
                if (len + k > MONITOR_MSG_MAX)
                        return -E2BIG;
                memcpy(data + len, *p, k);
                len += k;
                a.argc++;
        }
        memcpy(data, &a, sizeof(a));
        fds[MONITOR_FD_SOCK] = sock;
        fds[MONITOR_FD_PIDFD] = pidfd;
        fds[MONITOR_FD_OUT] = h->out_fd;
        fds[MONITOR_FD_EXE] = h->exe_fd;
        for (unsigned i = 0; i < h->n_held; i++)
                fds[MONITOR_FD_MAX + i] = h->held[i];
        n = fd_send(fd, data, len, fds, MONITOR_FD_MAX + h->n_held);
        if (n < 0)
                return n == -EPIPE || n == -ECONNRESET ? -EAGAIN : (int) n;
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = clock_usec(CLOCK_MONOTONIC);
                int k;

                if (now >= deadline)
                        return -ETIMEDOUT;
                k = poll(&p, 1, (int) MIN((deadline - now) / 1000 + 1, (uint64_t) 1000));
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k > 0)
                        break;
        }
        n = recv(fd, &ack, 1, 0);
        if (n == 1 && ack == MONITOR_ACK)
                return 0;
        return n < 0 && errno != ECONNRESET ? -errno : -EAGAIN;
}

int monitor_hand_over(Container *ct, const char *state_dir, MonitorHandover *h, pid_t *ret_pid) {
        uint64_t deadline = clock_usec(CLOCK_MONOTONIC) + MONITOR_HANDOVER_USEC;
        _cleanup_close_ int dir_fd = -1;
        int sock, pidfd, lock, r;
        char name[32];

        if (h->n_held + 1 > MONITOR_HELD_MAX)
                return -E2BIG;
        r = container_hand_over(ct, &sock, &pidfd, &lock);
        if (r < 0)
                return r;
        memmove(h->held + 1, h->held, sizeof(int) * h->n_held);
        h->held[0] = lock;
        h->n_held++;
        dir_fd = open(state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        monitor_name(name);
        for (;;) {
                _cleanup_close_ int fd = -1;
                pid_t pid = 0;

                if (clock_usec(CLOCK_MONOTONIC) >= deadline)
                        return -ETIMEDOUT;
                r = monitor_connect(dir_fd, name, &fd, &pid);
                if (r == -ENOENT || r == -ECONNREFUSED) {
                        /* Started (it listens in a moment), or being started
                         * or ending (its lock is held): try again soon. */
                        r = monitor_start(dir_fd, name, h->monitor_path);
                        if (r < 0)
                                return r;
                        (void) usleep(1000);
                        continue;
                }
                if (r < 0)
                        return r;
                /* Before it is the monitor's: the owner (holding the lock
                 * with it) may still write the entry. */
                r = container_set_owner(ct, pid);
                if (r < 0)
                        return r;
                r = monitor_send(fd, h, sock, pidfd, deadline);
                if (r == -EAGAIN)
                        continue;
                if (r < 0)
                        return r;
                *ret_pid = pid;
                return 0;
        }
}
