/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shim's cost (bench/shim.sh runs this with and without LD_PRELOAD).
 *
 *   shim-bench local N           ns per call of calls the shim does not
 *                                redirect, through libc (so through the
 *                                shim when it is preloaded) and, for
 *                                connect(), as a raw system call
 *   shim-bench serve PATH        accept and close connections, forever
 *   shim-bench connect PATH N    socket + connect + close, N times, through
 *                                libc: the shim's fast path, or the proxy
 *   shim-bench client SERVICE N  the same through the client library
 *
 * Each timing is the best of 5 runs of N calls, in ns per call. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "shuttle/client/client.h"

#define REPS 5

static double now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

typedef int (*bench_fn)(void *arg);

static double best(bench_fn f, void *arg, long n) {
        double b = 0;

        for (int r = 0; r < REPS; r++) {
                double t0 = now_ns(), t;
                for (long i = 0; i < n; i++)
                        if (f(arg) < 0)
                                return -1;
                t = (now_ns() - t0) / (double) n;
                if (r == 0 || t < b)
                        b = t;
        }
        return b;
}

typedef struct Target {
        int fd;
        const struct sockaddr *sa;
        socklen_t len;
        int want; /* the errno every call must fail with */
} Target;

static int via_libc(void *arg) {
        Target *t = arg;
        if (connect(t->fd, t->sa, t->len) == 0 || errno != t->want)
                return -1;
        return 0;
}

static int via_syscall(void *arg) {
        Target *t = arg;
        if (syscall(SYS_connect, t->fd, t->sa, t->len) == 0 || errno != t->want)
                return -1;
        return 0;
}

static int gai_localhost(void *arg) {
        struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
        (void) arg;
        if (getaddrinfo("localhost", "80", &hints, &res) != 0)
                return -1;
        freeaddrinfo(res);
        return 0;
}

/* The other hooks on calls they leave alone: a signal 0 to ourselves, an
 * exec of a file that does not exist, a shared-memory name that is no
 * container's service. */
static int kill_self(void *arg) {
        (void) arg;
        return kill(getpid(), 0);
}

static int execve_missing(void *arg) {
        static char *const argv[] = { (char *) "x", NULL };
        (void) arg;
        if (execve("/nonexistent/shim-bench", argv, environ) == 0 || errno != ENOENT)
                return -1;
        return 0;
}

static int open_missing(void *arg) {
        (void) arg;
        if (open("/shim-bench-none", O_RDONLY) >= 0 || errno != ENOENT)
                return -1;
        return 0;
}

static int shm_open_missing(void *arg) {
        (void) arg;
        if (shm_open("/shim-bench-none", O_RDONLY, 0) >= 0 || errno != ENOENT)
                return -1;
        return 0;
}

static void report(const char *name, double ns) {
        if (ns < 0) {
                fprintf(stderr, "%s: the call did not behave as expected\n", name);
                exit(1);
        }
        printf("%s %.1f\n", name, ns);
}

static int cmd_local(long n) {
        struct sockaddr_un un = { .sun_family = AF_UNIX };
        struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(1), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        char dir[] = "/tmp/shim-bench.XXXXXX";
        int bound, fd, tfd;

        if (!mkdtemp(dir))
                return 1;
        snprintf(un.sun_path, sizeof(un.sun_path), "%s/refuse.sock", dir);
        /* A socket file nobody listens on: connect() fails with
         * ECONNREFUSED in the kernel, without side effects. */
        bound = socket(AF_UNIX, SOCK_STREAM, 0);
        if (bound < 0 || bind(bound, (struct sockaddr *) &un, sizeof(un)) < 0)
                return 1;
        fd = socket(AF_UNIX, SOCK_STREAM, 0);

        Target ebadf = { -1, (struct sockaddr *) &un, sizeof(un), EBADF };
        Target refused = { fd, (struct sockaddr *) &un, sizeof(un), ECONNREFUSED };
        report("connect-ebadf-syscall", best(via_syscall, &ebadf, n));
        report("connect-ebadf", best(via_libc, &ebadf, n));
        report("connect-unix-refused-syscall", best(via_syscall, &refused, n));
        report("connect-unix-refused", best(via_libc, &refused, n));
        /* TCP: every attempt needs a fresh socket (a refused one is dead);
         * the socket() is part of both timings. */
        {
                double b[2] = { 0, 0 };
                for (int mode = 0; mode < 2; mode++)
                        for (int r = 0; r < REPS; r++) {
                                double t0 = now_ns(), t;
                                for (long i = 0; i < n; i++) {
                                        tfd = socket(AF_INET, SOCK_STREAM, 0);
                                        Target tcp = { tfd, (struct sockaddr *) &in, sizeof(in), ECONNREFUSED };
                                        if ((mode == 0 ? via_syscall : via_libc)(&tcp) < 0)
                                                report(mode == 0 ? "connect-tcp-refused-syscall" : "connect-tcp-refused", -1);
                                        close(tfd);
                                }
                                t = (now_ns() - t0) / (double) n;
                                if (r == 0 || t < b[mode])
                                        b[mode] = t;
                        }
                report("connect-tcp-refused-syscall", b[0]);
                report("connect-tcp-refused", b[1]);
        }
        report("getaddrinfo-localhost", best(gai_localhost, NULL, n / 10 ?: 1));
        report("kill-self-0", best(kill_self, NULL, n));
        report("execve-enoent", best(execve_missing, NULL, n));
        report("shm_open-enoent", best(shm_open_missing, NULL, n));
        report("open-enoent", best(open_missing, NULL, n));

        close(fd);
        close(bound);
        unlink(un.sun_path);
        rmdir(dir);
        return 0;
}

static int cmd_serve(const char *path) {
        struct sockaddr_un un = { .sun_family = AF_UNIX };
        int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
        unlink(path);
        if (l < 0 || bind(l, (struct sockaddr *) &un, sizeof(un)) < 0 || listen(l, 512) < 0) {
                perror(path);
                return 1;
        }
        printf("serving\n");
        fflush(stdout);
        for (;;) {
                int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
                if (c >= 0)
                        close(c);
        }
}

static const char *g_path;
static ShuttleClient *g_client;
static const char *g_service;

static int one_connect(void *arg) {
        struct sockaddr_un un = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

        (void) arg;
        snprintf(un.sun_path, sizeof(un.sun_path), "%s", g_path);
        r = connect(fd, (struct sockaddr *) &un, sizeof(un));
        if (r < 0)
                perror("connect");
        close(fd);
        return r;
}

static int one_client(void *arg) {
        int fd, r;

        (void) arg;
        r = shuttle_connect_service(g_client, g_service, &fd);
        if (r < 0) {
                fprintf(stderr, "connect %s: %s\n", g_service, strerror(-r));
                return -1;
        }
        close(fd);
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 3 && strcmp(argv[1], "local") == 0)
                return cmd_local(atol(argv[2]));
        if (argc == 3 && strcmp(argv[1], "serve") == 0)
                return cmd_serve(argv[2]);
        if (argc == 4 && strcmp(argv[1], "connect") == 0) {
                g_path = argv[2];
                report("connect", best(one_connect, NULL, atol(argv[3])));
                return 0;
        }
        if (argc == 4 && strcmp(argv[1], "client") == 0) {
                int r = shuttle_client_open(NULL, &g_client);
                if (r < 0) {
                        fprintf(stderr, "broker: %s\n", strerror(-r));
                        return 1;
                }
                g_service = argv[2];
                report("client", best(one_client, NULL, atol(argv[3])));
                shuttle_client_free(g_client);
                return 0;
        }
        fprintf(stderr, "usage: shim-bench local N | serve PATH | connect PATH N | client SERVICE N\n");
        return 2;
}
