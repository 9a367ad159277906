/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/host/nsconnect.h"

int ns_open_root(pid_t pid, int pidfd, bool set_up) {
        _cleanup_close_ int root = -1;
        struct stat host, st;
        char proc[64];

        snprintf(proc, sizeof(proc), "/proc/%d/root", (int) pid);
        root = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return -errno;
        /* Still the same process?  (Its pidfd would tell if it had died and
         * the pid been reused before we opened its root.) */
        if (pidfd_send_signal(pidfd, 0, NULL, 0) < 0)
                return -ESRCH;
        if (set_up) {
                if (stat("/", &host) < 0 || fstat(root, &st) < 0)
                        return -errno;
                if (st.st_dev == host.st_dev && st.st_ino == host.st_ino)
                        return -EAGAIN;
        }
        return TAKE_FD(root);
}

int ns_connect_unix_at(int root, const char *path, bool nonblock, int *ret_fd) {
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int sock_path = -1, fd = -1;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET };
        int r = -ECONNREFUSED;

        sock_path = (int) syscall(SYS_openat2, root, path, &how, sizeof(how));
        if (sock_path < 0)
                return -errno;

        /* Connect through the O_PATH descriptor: the name the kernel looks
         * up is our own fd, the file is the one we resolved.  (A file that
         * is not a socket answers ECONNREFUSED, as connect(2) does for it:
         * no fstat() needed to tell.) */
        snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", sock_path);
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (fd < 0)
                        return -errno;
                if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0) {
                        r = 0;
                        break;
                }
                r = -errno;
                fd = safe_close(fd);
                if (r != -EPROTOTYPE)
                        break;
        }
        if (r < 0)
                return r == -EAGAIN ? -ECONNREFUSED : r;
        /* O_NONBLOCK is the only status flag socket() set: cleared for a
         * caller that wants an ordinary blocking socket. */
        if (!nonblock && fcntl(fd, F_SETFL, 0) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int ns_connect_unix(pid_t pid, int pidfd, const char *path, int *ret_fd) {
        _cleanup_close_ int root = -1;

        root = ns_open_root(pid, pidfd, false);
        if (root < 0)
                return root;
        return ns_connect_unix_at(root, path, false, ret_fd);
}

int ns_open_netns(pid_t pid, int pidfd) {
        _cleanup_close_ int ns = -1;
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
        ns = open(path, O_RDONLY | O_CLOEXEC);
        if (ns < 0)
                return -errno;
        if (pidfd_send_signal(pidfd, 0, NULL, 0) < 0)
                return -ESRCH;
        return TAKE_FD(ns);
}

int ns_connect_tcp_at(int netns, int self, uint16_t port, bool nonblock, int *ret_fd) {
        struct sockaddr_in sin = {
                .sin_family = AF_INET,
                .sin_port = htons(port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        };
        _cleanup_close_ int fd = -1;
        struct pollfd p;
        socklen_t len = sizeof(int);
        int err = 0;

        if (setns(netns, CLONE_NEWNET) < 0)
                return -errno;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        err = fd < 0 ? errno : 0;
        if (setns(self, CLONE_NEWNET) < 0)
                abort(); /* never stay in a container's namespace */
        if (fd < 0)
                return -err;
        if (connect(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0) {
                if (errno != EINPROGRESS)
                        return -errno;
                p = (struct pollfd){ .fd = fd, .events = POLLOUT };
                if (poll(&p, 1, 1000) <= 0)
                        return -ETIMEDOUT;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        return -errno;
                if (err)
                        return -err;
        }
        if (!nonblock && fcntl(fd, F_SETFL, 0) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int ns_connect_tcp(pid_t pid, int pidfd, uint16_t port, int *ret_fd) {
        _cleanup_close_ int ns = -1, self = -1;

        ns = ns_open_netns(pid, pidfd);
        if (ns < 0)
                return ns;
        self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return -errno;
        return ns_connect_tcp_at(ns, self, port, false, ret_fd);
}
