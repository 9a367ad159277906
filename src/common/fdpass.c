/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "common/fdpass.h"
#include "common/macro.h"

ssize_t fd_send(int sock, const void *buf, size_t len, const int *fds, size_t n_fds) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * FD_PASS_MAX)];
        } control;
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (n_fds > FD_PASS_MAX)
                return -EINVAL;
        if (n_fds > 0) {
                struct cmsghdr *c;

                memset(&control, 0, sizeof(control));
                mh.msg_control = control.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }

        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return n;
}

static void close_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                fds[i] = safe_close(fds[i]);
}

ssize_t fd_recv_upto(int sock, void *buf, size_t len, int *ret_fds, size_t max_fds,
                     size_t *ret_n_fds, int flags) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * FD_PASS_MAX)];
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = len };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof(control.buf),
        };
        int got[FD_PASS_MAX];
        size_t n_got = 0;
        ssize_t n;

        if (max_fds > FD_PASS_MAX)
                return -EINVAL;

        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;

        /* Collect every descriptor first, whatever else is wrong, so that
         * nothing a peer sent can leak into our table. */
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                size_t k;

                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
                        n = -EBADMSG;
                        continue;
                }
                if (c->cmsg_len < CMSG_LEN(0)) {
                        n = -EBADMSG;
                        continue;
                }
                k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k; i++) {
                        int fd;

                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (n_got < FD_PASS_MAX)
                                got[n_got++] = fd;
                        else {
                                safe_close(fd);
                                n = -EBADMSG;
                        }
                }
        }

        if (n >= 0 && (mh.msg_flags & MSG_CTRUNC))
                n = -ECHRNG;
        if (n >= 0 && (mh.msg_flags & MSG_TRUNC))
                n = -EMSGSIZE;
        if (n >= 0 && n_got > max_fds)
                n = -EBADMSG;
        if (n < 0) {
                close_fds(got, n_got);
                return n;
        }

        memcpy(ret_fds, got, n_got * sizeof(int));
        *ret_n_fds = n_got;
        return n;
}

ssize_t fd_recv(int sock, void *buf, size_t len, int *ret_fds, size_t n_fds, int flags) {
        int got[FD_PASS_MAX];
        size_t n_got = 0;
        ssize_t n;

        if (n_fds > FD_PASS_MAX)
                return -EINVAL;

        n = fd_recv_upto(sock, buf, len, got, FD_PASS_MAX, &n_got, flags);
        if (n < 0)
                return n;
        if (n_got != n_fds && !(n == 0 && n_got == 0)) {
                close_fds(got, n_got);
                return -EBADMSG;
        }
        memcpy(ret_fds, got, n_got * sizeof(int));
        return n;
}
