/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The service manager's side of sd_notify(3), for tests/integration/
 * notify.sh:
 *
 *   notifyrecv SOCKET CONTROL_SOCK
 *
 * binds a datagram socket at SOCKET, prints "listening", then one line per
 * message: "pid=SENDER TEXT" (newlines in TEXT as spaces).  On a message
 * with READY=1 it connects to CONTROL_SOCK at once and appends
 * "control=ok" or "control=<error>": whether the sender was really ready.
 * Exits after STOPPING=1 or DONE=1, or after 60 s without a message.
 *
 *   notifyrecv send SOCKET TEXT
 *
 * sends one datagram (a marker: a receiver that printed it has printed
 * everything sent before). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *probe(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        const char *what = "ok";

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                what = strerror(errno);
        if (fd >= 0)
                close(fd);
        return what;
}

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, one = 1;

        if (argc == 4 && strcmp(argv[1], "send") == 0) {
                snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[2]);
                fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || sendto(fd, argv[3], strlen(argv[3]), 0, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                        perror("notifyrecv: send");
                        return 1;
                }
                return 0;
        }
        if (argc != 3) {
                fprintf(stderr, "usage: notifyrecv SOCKET CONTROL_SOCK | send SOCKET TEXT\n");
                return 2;
        }
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                perror("notifyrecv: socket");
                return 1;
        }
        printf("listening\n");
        fflush(stdout);
        for (;;) {
                char buf[4096], cbuf[CMSG_SPACE(sizeof(struct ucred))];
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                                     .msg_controllen = sizeof(cbuf) };
                struct pollfd p = { .fd = fd, .events = POLLIN };
                struct ucred cred = { .pid = 0 };
                ssize_t n;

                if (poll(&p, 1, 60000) != 1)
                        return 1;
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
                if (n < 0)
                        return 1;
                buf[n] = '\0';
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
                            c->cmsg_len == CMSG_LEN(sizeof(cred)))
                                memcpy(&cred, CMSG_DATA(c), sizeof(cred));
                /* Probe first: the answer is about the moment READY=1 came. */
                const char *control = strstr(buf, "READY=1") ? probe(argv[2]) : NULL;
                for (char *s = buf; *s; s++)
                        if (*s == '\n')
                                *s = ' ';
                printf("pid=%d %s%s%s\n", (int) cred.pid, buf, control ? " control=" : "", control ?: "");
                fflush(stdout);
                if (strstr(buf, "STOPPING=1") || strstr(buf, "DONE=1"))
                        return 0;
        }
}
