/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The two ends of a proxied connection at their edges, for
 * tests/integration/proxy-relay.sh (run inside containers, plain libc):
 *
 *   relaycall halfclose PATH BYTES   connect, send BYTES, shut down the
 *                                    write side, read until end of stream;
 *                                    prints how many bytes came back
 *   relaycall stuck PATH SECONDS     connect and write (never reading) until
 *                                    nothing more is taken; prints "stuck",
 *                                    then holds the connection SECONDS
 *   relaycall sendclose PATH BYTES   connect, send BYTES, close (no shutdown,
 *                                    reading nothing)
 *   relaycall count PATH             a server on the unix socket PATH: reads
 *                                    each connection, one after the other,
 *                                    to its end of stream and prints
 *                                    "count N" (bytes read), or "count N
 *                                    error" if it broke off; prints
 *                                    "counting" once it listens
 *   relaycall hold PATH              a server that accepts connections on
 *                                    the unix socket PATH and never reads
 *                                    from them nor closes them; prints
 *                                    "holding" once it listens
 *
 * Exit status: 0, 1 on a failure, 2 on usage errors. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int connect_to(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (strlen(path) >= sizeof(sa.sun_path))
                return -1;
        strcpy(sa.sun_path, path);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                fprintf(stderr, "connect %s: %s\n", path, strerror(errno));
                return -1;
        }
        return fd;
}

static int halfclose(const char *path, long long bytes) {
        static char buf[65536];
        long long sent = 0, got = 0;
        int fd = connect_to(path);

        if (fd < 0)
                return 1;
        /* Writes and reads interleaved: an echo answers while we send. */
        while (sent < bytes) {
                struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
                ssize_t n;

                if (poll(&p, 1, 10000) <= 0)
                        return 1;
                if (p.revents & POLLIN) {
                        n = read(fd, buf, sizeof(buf));
                        if (n <= 0)
                                break;
                        got += n;
                }
                if (p.revents & POLLOUT) {
                        n = write(fd, buf, (size_t) (bytes - sent < (long long) sizeof(buf) ? bytes - sent : (long long) sizeof(buf)));
                        if (n < 0)
                                return 1;
                        sent += n;
                }
        }
        if (shutdown(fd, SHUT_WR) < 0)
                return 1;
        /* The rest, after our end of stream went through, then theirs. */
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t n;

                if (poll(&p, 1, 10000) <= 0) {
                        printf("no end of stream after %lld bytes\n", got);
                        return 1;
                }
                n = read(fd, buf, sizeof(buf));
                if (n < 0)
                        return 1;
                if (n == 0)
                        break;
                got += n;
        }
        printf("%lld\n", got);
        return 0;
}

static int stuck(const char *path, int seconds) {
        static char buf[65536];
        long long sent = 0;
        int fd = connect_to(path);

        if (fd < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
                return 1;
        /* Until a second goes by with nothing taken: every buffer on the
         * way (ours, the relay's, the server's) is full. */
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                ssize_t n;

                if (poll(&p, 1, 1000) == 0)
                        break;
                n = write(fd, buf, sizeof(buf));
                if (n < 0 && errno != EAGAIN)
                        return 1;
                if (n > 0)
                        sent += n;
        }
        printf("stuck\n");
        fflush(stdout);
        fprintf(stderr, "stuck after %lld bytes\n", sent);
        sleep((unsigned) seconds);
        return 0;
}

static int sendclose(const char *path, long long bytes) {
        static char buf[65536];
        int fd = connect_to(path);

        if (fd < 0)
                return 1;
        while (bytes > 0) {
                ssize_t n = write(fd, buf, (size_t) (bytes < (long long) sizeof(buf) ? bytes : (long long) sizeof(buf)));
                if (n < 0) {
                        fprintf(stderr, "write: %s\n", strerror(errno));
                        return 1;
                }
                bytes -= n;
        }
        return close(fd) < 0;
}

static int listen_on(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (strlen(path) >= sizeof(sa.sun_path))
                return -1;
        strcpy(sa.sun_path, path);
        (void) unlink(path);
        if (l < 0 || bind(l, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(l, 64) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        return l;
}

static int count(const char *path) {
        static char buf[65536];
        int l = listen_on(path);

        if (l < 0)
                return 1;
        printf("counting\n");
        for (;;) {
                long long got = 0;
                ssize_t n;
                int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);

                if (fd < 0)
                        continue;
                while ((n = read(fd, buf, sizeof(buf))) > 0)
                        got += n;
                printf("count %lld%s\n", got, n < 0 ? " error" : "");
                close(fd);
        }
}

static int hold(const char *path) {
        int l = listen_on(path);

        if (l < 0)
                return 1;
        printf("holding\n");
        for (;;)
                (void) accept4(l, NULL, NULL, SOCK_CLOEXEC); /* kept open, never read */
}

int main(int argc, char **argv) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc == 4 && strcmp(argv[1], "halfclose") == 0)
                return halfclose(argv[2], atoll(argv[3]));
        if (argc == 4 && strcmp(argv[1], "stuck") == 0)
                return stuck(argv[2], atoi(argv[3]));
        if (argc == 4 && strcmp(argv[1], "sendclose") == 0)
                return sendclose(argv[2], atoll(argv[3]));
        if (argc == 3 && strcmp(argv[1], "count") == 0)
                return count(argv[2]);
        if (argc == 3 && strcmp(argv[1], "hold") == 0)
                return hold(argv[2]);
        fprintf(stderr, "usage: relaycall halfclose PATH BYTES | stuck PATH SECONDS | sendclose PATH BYTES | count PATH | hold PATH\n");
        return 2;
}
