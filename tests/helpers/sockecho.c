/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A test service and client for the integration tests (no dependencies, so
 * it runs inside a container from a read-only volume).
 *
 *   sockecho serve TAG PATH [TAG PATH...]   answer "TAG:<line>" on each unix
 *                                           socket (or tcp:PORT on 127.0.0.1),
 *                                           forever; TAG "sink" echoes bytes
 *   sockecho call PATH MESSAGE              connect, send a line, print the
 *                                           answer; exit 3 on ECONNREFUSED,
 *                                           4 on ENOENT, 5 on EACCES, 1 else
 *   sockecho stream PATH BYTES              send BYTES zeros to a sink and
 *                                           print how many came back
 *   sockecho knock PATH N                   connect and send a line N times,
 *                                           one after the other, each
 *                                           waiting for an answer or the
 *                                           close; print how many were
 *                                           closed without an answer
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdbool.h>
#include <unistd.h>

static int listen_on(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strncmp(path, "tcp:", 4) == 0 || strncmp(path, "tcp0:", 5) == 0) {
                /* tcp:PORT on 127.0.0.1, tcp0:PORT on every address */
                bool any = path[3] == '0';
                struct sockaddr_in sin = { .sin_family = AF_INET,
                                           .sin_port = htons((uint16_t) atoi(path + (any ? 5 : 4))),
                                           .sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK) };
                int one = 1;
                fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
                    bind(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0 || listen(fd, 64) < 0) {
                        perror(path);
                        exit(1);
                }
                return fd;
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        unlink(path);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
                perror(path);
                exit(1);
        }
        return fd;
}

static void serve_one(int fd, const char *tag) {
        char buf[4096];
        ssize_t n;

        while ((n = read(fd, buf, sizeof(buf))) > 0) {
                if (strcmp(tag, "sink") == 0) {
                        if (write(fd, buf, (size_t) n) != n)
                                break;
                        continue;
                }
                dprintf(fd, "%s:%.*s", tag, (int) n, buf);
        }
        close(fd);
}

static int serve(int argc, char **argv) {
        struct pollfd p[16];
        const char *tags[16];
        int n = 0;

        signal(SIGCHLD, SIG_IGN);
        for (int i = 0; i + 1 < argc && n < 16; i += 2) {
                tags[n] = argv[i];
                p[n] = (struct pollfd){ .fd = listen_on(argv[i + 1]), .events = POLLIN };
                n++;
        }
        printf("serving\n");
        fflush(stdout);
        for (;;) {
                if (poll(p, (nfds_t) n, -1) < 0)
                        continue;
                for (int i = 0; i < n; i++)
                        if (p[i].revents & POLLIN) {
                                int c = accept4(p[i].fd, NULL, NULL, SOCK_CLOEXEC);
                                if (c < 0)
                                        continue;
                                if (fork() == 0) {
                                        serve_one(c, tags[i]);
                                        _exit(0);
                                }
                                close(c);
                        }
        }
}

static int exit_for(int e) {
        return e == ECONNREFUSED ? 3 : e == ENOENT ? 4 : e == EACCES ? 5 : 1;
}

static int connect_to(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int e = errno;
                fprintf(stderr, "connect %s: %s\n", path, strerror(e));
                exit(exit_for(e));
        }
        return fd;
}

static int knock(const char *path, long n) {
        long closed = 0;
        char c;

        signal(SIGPIPE, SIG_IGN);
        for (long i = 0; i < n; i++) {
                int fd = connect_to(path);
                /* A line, so that a service that is reached answers. */
                dprintf(fd, "knock\n");
                if (read(fd, &c, 1) <= 0)
                        closed++;
                close(fd);
        }
        printf("%ld\n", closed);
        return 0;
}

static int call(const char *path, const char *msg) {
        char buf[4096];
        int fd;
        ssize_t n;

        /* A refused proxied connection is closed by the broker right after
         * the connect: that is "no answer" (2), not a death by SIGPIPE. */
        signal(SIGPIPE, SIG_IGN);
        fd = connect_to(path);

        dprintf(fd, "%s", msg);
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0) {
                fprintf(stderr, "no answer from %s\n", path);
                return 2;
        }
        buf[n] = '\0';
        printf("%s\n", buf);
        if (getenv("SOCKECHO_HOLD")) {
                /* Keep the connection open; say whether it got cut. */
                signal(SIGPIPE, SIG_IGN);
                sleep((unsigned) atoi(getenv("SOCKECHO_HOLD")));
                dprintf(fd, "again");
                n = read(fd, buf, sizeof(buf) - 1);
                printf(n > 0 ? "still open\n" : "cut\n");
        }
        return 0;
}

static int stream(const char *path, long long bytes) {
        static char buf[65536];
        long long sent = 0, got = 0;
        int fd = connect_to(path);

        while (got < bytes) {
                struct pollfd p = { .fd = fd, .events = POLLIN | (sent < bytes ? POLLOUT : 0) };
                if (poll(&p, 1, 10000) <= 0)
                        break;
                if ((p.revents & POLLOUT) && sent < bytes) {
                        ssize_t n = write(fd, buf, (size_t) (bytes - sent < (long long) sizeof(buf) ? bytes - sent : (long long) sizeof(buf)));
                        if (n > 0)
                                sent += n;
                }
                if (p.revents & POLLIN) {
                        ssize_t n = read(fd, buf, sizeof(buf));
                        if (n <= 0)
                                break;
                        got += n;
                }
        }
        printf("%lld\n", got);
        return got == bytes ? 0 : 1;
}

int main(int argc, char **argv) {
        setvbuf(stdout, NULL, _IOLBF, 0); /* tests watch the output as it comes */
        if (argc >= 4 && strcmp(argv[1], "serve") == 0 && argc % 2 == 0)
                return serve(argc - 2, argv + 2);
        if (argc == 4 && strcmp(argv[1], "call") == 0)
                return call(argv[2], argv[3]);
        if (argc == 4 && strcmp(argv[1], "knock") == 0)
                return knock(argv[2], atol(argv[3]));
        if (argc == 4 && strcmp(argv[1], "stream") == 0)
                return stream(argv[2], atoll(argv[3]));
        fprintf(stderr, "usage: sockecho serve TAG PATH... | call PATH MSG | stream PATH BYTES\n");
        return 2;
}
