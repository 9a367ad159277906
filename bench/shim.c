/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shim's cost (bench/shim.sh runs this with and without LD_PRELOAD).
 *
 *   shim-bench local [SAMPLES]   ns per call of calls the shim does not
 *                                redirect, through libc (so through the
 *                                shim when it is preloaded) and as the raw
 *                                system call, interleaved: sample after
 *                                sample, a batch of each, timed with the
 *                                CPU's cycle counter; the medians, and the
 *                                median of each sample's difference
 *   shim-bench serve PATH        accept and close connections, forever
 *   shim-bench connect PATH N    socket + connect + close, N times, through
 *                                libc: the shim's fast path, or the proxy
 *   shim-bench client SERVICE N  the same through the client library
 *
 * connect and client: the best of 5 runs of N calls, in ns per call. */
#include <errno.h>
#include <stdint.h>
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

/* ---- local: the cycle counter, interleaved samples ---- */

/* The CPU's time-stamp counter (constant rate on any CPU of the last
 * decade), else CLOCK_MONOTONIC in ns. */
static inline uint64_t cycles(void) {
#if defined(__x86_64__) || defined(__i386__)
        uint32_t lo, hi;
        __asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi)::"memory");
        return ((uint64_t) hi << 32) | lo;
#else
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
#endif
}

static double ns_per_cycle = 1.0;

static void calibrate(void) {
        struct timespec d = { 0, 50 * 1000 * 1000 };
        double t0 = now_ns();
        uint64_t c0 = cycles();
        nanosleep(&d, NULL);
        ns_per_cycle = (now_ns() - t0) / (double) (cycles() - c0);
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
        qsort(v, n, sizeof(double), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ns per call of one batch of k calls. */
static double batch(bench_fn f, void *arg, long k) {
        uint64_t c0 = cycles();
        for (long i = 0; i < k; i++)
                if (f(arg) < 0)
                        return -1;
        return (double) (cycles() - c0) * ns_per_cycle / (double) k;
}

/* Per sample, a batch of f and one of g (the raw system call; NULL: none),
 * in alternating order; batches of about 100 us.  Prints NAME (f),
 * NAME-syscall (g) and NAME-delta (f - g, the median of the per-sample
 * differences), in ns per call. */
static void measure(const char *name, bench_fn f, bench_fn g, void *arg, long samples) {
        double *a = calloc((size_t) samples, sizeof(double)), *b = calloc((size_t) samples, sizeof(double)),
               *d = calloc((size_t) samples, sizeof(double)), t;
        char buf[128];
        long k;

        if (!a || !b || !d)
                exit(1);
        /* Warm up, and size a batch. */
        t = batch(f, arg, 10);
        if (t < 0 || (g && batch(g, arg, 10) < 0))
                report(name, -1);
        t = batch(f, arg, 100);
        k = t > 0 ? (long) (100000.0 / t) : 1000;
        if (k < 1)
                k = 1;
        if (k > 100000)
                k = 100000;
        for (long i = 0; i < samples; i++) {
                if (i % 2 == 0) {
                        a[i] = batch(f, arg, k);
                        b[i] = g ? batch(g, arg, k) : 0;
                } else {
                        b[i] = g ? batch(g, arg, k) : 0;
                        a[i] = batch(f, arg, k);
                }
                if (a[i] < 0 || b[i] < 0)
                        report(name, -1);
                d[i] = a[i] - b[i];
        }
        report(name, median(a, (size_t) samples));
        if (g) {
                snprintf(buf, sizeof(buf), "%s-syscall", name);
                report(buf, median(b, (size_t) samples));
                snprintf(buf, sizeof(buf), "%s-delta", name);
                printf("%s %.2f\n", buf, median(d, (size_t) samples));
        }
        free(a);
        free(b);
        free(d);
}

static struct sockaddr_in g_tcp;

/* TCP: a refused socket is dead, so each call makes a fresh one; the
 * socket() and close() are in both twins. */
static int tcp_libc(void *arg) {
        int fd = socket(AF_INET, SOCK_STREAM, 0), r;
        Target t = { fd, (struct sockaddr *) &g_tcp, sizeof(g_tcp), ECONNREFUSED };
        (void) arg;
        r = via_libc(&t);
        close(fd);
        return r;
}

static int tcp_syscall(void *arg) {
        int fd = socket(AF_INET, SOCK_STREAM, 0), r;
        Target t = { fd, (struct sockaddr *) &g_tcp, sizeof(g_tcp), ECONNREFUSED };
        (void) arg;
        r = via_syscall(&t);
        close(fd);
        return r;
}

static int kill_self_syscall(void *arg) {
        (void) arg;
        return (int) syscall(SYS_kill, getpid(), 0);
}

static int execve_missing_syscall(void *arg) {
        static char *const argv[] = { (char *) "x", NULL };
        (void) arg;
        if (syscall(SYS_execve, "/nonexistent/shim-bench", argv, environ) == 0 || errno != ENOENT)
                return -1;
        return 0;
}

static int open_missing_syscall(void *arg) {
        (void) arg;
        if (syscall(SYS_openat, AT_FDCWD, "/shim-bench-none", O_RDONLY) >= 0 || errno != ENOENT)
                return -1;
        return 0;
}

/* What glibc's shm_open() does underneath. */
static int shm_open_missing_syscall(void *arg) {
        (void) arg;
        if (syscall(SYS_openat, AT_FDCWD, "/dev/shm/shim-bench-none", O_RDONLY | O_NOFOLLOW | O_CLOEXEC) >= 0 ||
            errno != ENOENT)
                return -1;
        return 0;
}

static int cmd_local(long samples) {
        struct sockaddr_un un = { .sun_family = AF_UNIX };
        char dir[] = "/tmp/shim-bench.XXXXXX";
        int bound, fd;

        if (samples < 1)
                samples = 1;
        calibrate();
        g_tcp = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(1),
                                       .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
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
        measure("connect-ebadf", via_libc, via_syscall, &ebadf, samples);
        measure("connect-unix-refused", via_libc, via_syscall, &refused, samples);
        measure("connect-tcp-refused", tcp_libc, tcp_syscall, NULL, samples);
        measure("getaddrinfo-localhost", gai_localhost, NULL, NULL, samples);
        measure("kill-self-0", kill_self, kill_self_syscall, NULL, samples);
        measure("execve-enoent", execve_missing, execve_missing_syscall, NULL, samples);
        measure("shm_open-enoent", shm_open_missing, shm_open_missing_syscall, NULL, samples);
        measure("open-enoent", open_missing, open_missing_syscall, NULL, samples);

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
        if ((argc == 2 || argc == 3) && strcmp(argv[1], "local") == 0)
                return cmd_local(argc == 3 ? atol(argv[2]) : 301);
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
        fprintf(stderr, "usage: shim-bench local [SAMPLES] | serve PATH | connect PATH N | client SERVICE N\n");
        return 2;
}
