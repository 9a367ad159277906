/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The IPC benchmark's workhorse; bench/ipc.sh runs it inside containers.
 *
 *   ipc-bench server ECHO_PATH SINK_PATH
 *       listen on two unix sockets: ECHO answers every byte it reads with
 *       the same byte, SINK reads and discards until end of stream, then
 *       answers the byte count (8 bytes, host order) and closes.  Prints
 *       "serving" once both listen.  One thread per socket, connections one
 *       after the other, as the clients below are sequential.
 *   ipc-bench connect-latency TARGET N
 *       N times: connect, send 1 byte, read it back, close; after N/10
 *       (at least 10) untimed warm-up rounds.  Prints the mean, median and
 *       99th percentile in microseconds.
 *   ipc-bench throughput TARGET BYTES [RUNS]
 *       RUNS times (default 3): connect (untimed), stream BYTES to a sink,
 *       shut down the write side, wait for the sink's byte count.  Prints
 *       every run and the median in MB/s (10^6 bytes/s).
 *   ipc-bench native DIR N BYTES [RUNS]
 *       the baseline: forks a server on DIR/echo.sock and DIR/sink.sock and
 *       runs both measurements above against it (direct unix socket).
 *   ipc-bench floor DIR TARGET_PATH
 *       a do-nothing broker, run on the host beside shuttled: on
 *       DIR/fd.sock a byte is answered with a socket connected to
 *       TARGET_PATH, on DIR/relay.sock each connection is relayed to it
 *       (see run_floor()).  Prints "serving" once both listen.
 *   ipc-bench register STATE_DIR BROKER_PID COUNT
 *       forks COUNT idle processes, registers each with the broker as a
 *       container (one export), reads the broker's VmRSS, unregisters them
 *       and reads it again.
 *
 * TARGET is a socket path (a direct connect: native, or the broker's proxy
 * socket), "--fast SERVICE" (one broker client for the whole run, hello
 * said before timing: shuttle_connect_service() per connection), or
 * "--fast-fresh SERVICE" (connect-latency only: a new broker client, HELLO
 * included, for every connection), or "--floor-fd PATH" (one connection to
 * a floor's fd.sock, a byte sent for every socket).
 *
 * Results are single lines of KEY=VALUE words for bench/ipc.sh to read.
 * Exit status: 0, 1 on any failure, 2 on usage errors. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/fileio.h"
#include "common/macro.h"
#include "common/parse.h"
#include "common/socket-util.h"
#include "shuttle/client/client.h"
#include "shuttle/host/control.h"

#define STREAM_CHUNK (256u * 1024u)
#define LATENCY_MAX 10000000u
#define RUNS_MAX 100u
#define REGISTER_MAX 4000u

typedef enum TargetKind {
        TARGET_PATH,       /* plain connect(): native or the proxy socket */
        TARGET_FAST,       /* one broker client, CONNECT per connection */
        TARGET_FAST_FRESH, /* a new broker client per connection */
        TARGET_FLOOR_FD,   /* one connection to `ipc-bench floor`'s fd.sock, a byte asks for each socket */
} TargetKind;

typedef struct Target {
        TargetKind kind;
        const char *name; /* a path or container.service */
        ShuttleClient *client;
        int floor_fd; /* TARGET_FLOOR_FD: the connection to fd.sock (opened when > 0) */
} Target;

static const char *prog = "ipc-bench";

static uint64_t now_nsec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

/* Reads exactly n bytes; -EPIPE if the stream ends first. */
static int read_all(int fd, void *p, size_t n) {
        char *c = p;
        while (n > 0) {
                ssize_t k = read(fd, c, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EPIPE;
                c += k;
                n -= (size_t) k;
        }
        return 0;
}

static int unix_listen(const char *path, int type, int *ret_fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        (void) unlink(path);
        fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 128) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int target_connect(Target *t, int *ret_fd) {
        _cleanup_shuttle_client_ ShuttleClient *fresh = NULL;
        int r;

        switch (t->kind) {
        case TARGET_PATH:
                return unix_connect(t->name, SOCK_STREAM, ret_fd);
        case TARGET_FAST:
                return shuttle_connect_service(t->client, t->name, ret_fd);
        case TARGET_FAST_FRESH:
                r = shuttle_client_open(NULL, &fresh);
                if (r < 0)
                        return r;
                return shuttle_connect_service(fresh, t->name, ret_fd);
        case TARGET_FLOOR_FD: {
                char c = 'c';
                size_t n_fds = 0;
                ssize_t n;

                if (write(t->floor_fd, &c, 1) != 1)
                        return -errno;
                n = fd_recv_upto(t->floor_fd, &c, 1, ret_fd, 1, &n_fds, MSG_CMSG_CLOEXEC);
                if (n < 0)
                        return (int) n;
                if (n == 0)
                        return -ECONNRESET; /* the floor went away */
                /* A byte without a descriptor: the floor's connect failed. */
                return n_fds == 1 ? 0 : -ECONNREFUSED;
        }
        }
        return -EINVAL;
}

/* Parses TARGET at argv[0] (one or two words); returns how many it used. */
static int target_parse(int argc, char **argv, Target *ret) {
        if (argc >= 2 && (streq(argv[0], "--fast") || streq(argv[0], "--fast-fresh"))) {
                *ret = (Target){ .kind = streq(argv[0], "--fast") ? TARGET_FAST : TARGET_FAST_FRESH,
                                 .name = argv[1] };
                return 2;
        }
        if (argc >= 2 && streq(argv[0], "--floor-fd")) {
                *ret = (Target){ .kind = TARGET_FLOOR_FD, .name = argv[1] };
                return 2;
        }
        if (argc >= 1 && argv[0][0] == '/') {
                *ret = (Target){ .kind = TARGET_PATH, .name = argv[0] };
                return 1;
        }
        return -EINVAL;
}

static const char *target_label(const Target *t) {
        switch (t->kind) {
        case TARGET_FAST:
                return "fast";
        case TARGET_FAST_FRESH:
                return "fast-fresh";
        case TARGET_FLOOR_FD:
                return "floor-fd";
        default:
                return "path";
        }
}

/* The persistent broker client of TARGET_FAST, hello said up front so that
 * the first timed connection does not pay for it. */
static int target_open(Target *t) {
        int r;

        if (t->kind == TARGET_FLOOR_FD)
                return unix_connect(t->name, SOCK_SEQPACKET, &t->floor_fd);
        if (t->kind != TARGET_FAST)
                return 0;
        r = shuttle_client_open(NULL, &t->client);
        if (r < 0)
                return r;
        return shuttle_client_hello(t->client, NULL, NULL);
}

static void target_close(Target *t) {
        if (t->client)
                t->client = shuttle_client_free(t->client);
        if (t->floor_fd > 0)
                t->floor_fd = safe_close(t->floor_fd);
}

static int fail_errno(int r, const char *what, const char *name) {
        fprintf(stderr, "%s: %s %s: %s\n", prog, what, name, strerror(-r));
        return 1;
}

/* Like fail_errno(), with the broker's reason for a refusal, if any; closes
 * the target's client. */
static int fail_target(Target *t, int r, const char *what) {
        char msg[SHUTTLE_MESSAGE_MAX + 1] = "";

        if (t->client)
                shuttle_client_last_message(t->client, msg, sizeof(msg));
        fprintf(stderr, "%s: %s %s: %s%s%s\n", prog, what, t->name, strerror(-r), msg[0] ? ": " : "", msg);
        target_close(t);
        return 1;
}

/* ---- server ------------------------------------------------------------ */

typedef struct Listener {
        int fd;
        bool sink;
} Listener;

static void serve_echo(int fd) {
        char buf[4096];
        ssize_t n;

        while ((n = read(fd, buf, sizeof(buf))) > 0)
                if (loop_write(fd, buf, (size_t) n) < 0)
                        break;
}

static void serve_sink(int fd, char *buf) {
        uint64_t total = 0;
        ssize_t n;

        for (;;) {
                n = read(fd, buf, STREAM_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                total += (uint64_t) n;
        }
        if (n == 0)
                (void) loop_write(fd, &total, sizeof(total));
}

static void *serve_thread(void *p) {
        Listener *l = p;
        _cleanup_free_ char *buf = l->sink ? malloc(STREAM_CHUNK) : NULL;

        if (l->sink && !buf)
                return NULL;
        for (;;) {
                int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        fprintf(stderr, "%s: accept: %m\n", prog);
                        return NULL;
                }
                if (l->sink)
                        serve_sink(fd, buf);
                else
                        serve_echo(fd);
                safe_close(fd);
        }
}

/* Never returns on success.  ready_fd >= 0: write one byte to it (and
 * close it) once listening, instead of printing "serving". */
static int run_server(const char *echo_path, const char *sink_path, int ready_fd) {
        Listener l[2] = { { .fd = -1 }, { .fd = -1, .sink = true } };
        const char *paths[2] = { echo_path, sink_path };
        pthread_t th;
        int r;

        signal(SIGPIPE, SIG_IGN);
        for (int i = 0; i < 2; i++) {
                r = unix_listen(paths[i], SOCK_STREAM, &l[i].fd);
                if (r < 0)
                        return fail_errno(r, "cannot listen on", paths[i]);
        }
        r = pthread_create(&th, NULL, serve_thread, &l[1]);
        if (r != 0)
                return fail_errno(-r, "cannot start a thread for", sink_path);
        if (ready_fd >= 0) {
                (void) loop_write(ready_fd, "R", 1);
                safe_close(ready_fd);
        } else {
                printf("serving\n");
                fflush(stdout);
        }
        serve_thread(&l[0]);
        return 1;
}

/* ---- the floor: a do-nothing broker ------------------------------------- */

/* What any mediation by a process in between costs at the least, measured
 * beside shuttled in the same run: one process on the host between the
 * two containers, as shuttled is, with one level-triggered epoll loop, as
 * shuttled has, and nothing else: no policy, no audit, no peer check, no
 * protocol.  Two doors on DIR:
 *   fd.sock     the fast path's floor (SOCK_SEQPACKET, as broker.sock is:
 *               on a stream, the floor's read of the request would also
 *               wake the client waiting for its answer, which a seqpacket
 *               reader's wait lets sleep): a client sends one byte for every
 *               connection it wants and gets back one byte and a socket
 *               connected to TARGET (SCM_RIGHTS); one byte without a
 *               descriptor if the connect failed.
 *   relay.sock  the proxy path's floor: every connection is connected to
 *               TARGET and its bytes are copied both ways through a buffer.
 * A bench tool: at a hangup the relay forwards what it can read at once
 * and closes both ends. */

#define FLOOR_BUF 65536u

typedef enum FloorKind {
        FLOOR_FD_LISTEN,
        FLOOR_RELAY_LISTEN,
        FLOOR_FD_CLIENT,
        FLOOR_RELAY_END,
} FloorKind;

typedef struct FloorRelay FloorRelay;

typedef struct FloorSrc {
        FloorKind kind;
        int fd;
        uint32_t events;
        FloorRelay *relay; /* FLOOR_RELAY_END */
        int side;
} FloorSrc;

struct FloorRelay {
        FloorSrc end[2];
        char buf[2][FLOOR_BUF]; /* buf[d]: read from end d, not yet written to end !d */
        size_t len[2];
        bool eof[2];
        FloorRelay *next_dead; /* closed, freed after the events of this turn */
};

static FloorRelay *floor_dead;

static int floor_watch(int ep, FloorSrc *s, uint32_t events) {
        struct epoll_event e = { .events = events, .data.ptr = s };

        if (epoll_ctl(ep, s->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s->fd, &e) < 0)
                return -errno;
        s->events = events;
        return 0;
}

/* Closed now (which takes the ends out of the epoll set: nobody else
 * holds them), freed once this turn's events, which may name it, are
 * handled. */
static void floor_relay_drop(FloorRelay *r) {
        r->end[0].fd = safe_close(r->end[0].fd);
        r->end[1].fd = safe_close(r->end[1].fd);
        r->next_dead = floor_dead;
        floor_dead = r;
}

/* Writes what waits for end !d; false if the relay is broken. */
static bool floor_flush(FloorRelay *r, int d) {
        while (r->len[d] > 0) {
                ssize_t n = write(r->end[!d].fd, r->buf[d], r->len[d]);
                if (n < 0)
                        return errno == EAGAIN;
                r->len[d] -= (size_t) n;
                memmove(r->buf[d], r->buf[d] + n, r->len[d]);
        }
        if (r->eof[d])
                (void) shutdown(r->end[!d].fd, SHUT_WR);
        return true;
}

/* Reads what end d has (once, the loop being level-triggered); false if
 * the relay is broken. */
static bool floor_fill(FloorRelay *r, int d) {
        ssize_t n;

        if (r->len[d] > 0 || r->eof[d])
                return true;
        n = read(r->end[d].fd, r->buf[d], FLOOR_BUF);
        if (n < 0)
                return errno == EAGAIN;
        if (n == 0)
                r->eof[d] = true;
        r->len[d] = (size_t) n;
        return floor_flush(r, d);
}

static void floor_relay_event(int ep, FloorSrc *s, uint32_t events) {
        FloorRelay *r = s->relay;
        int d = s->side;
        bool ok = true;

        if (r->end[0].fd < 0)
                return; /* dropped earlier this turn */
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                ok = floor_fill(r, d);
        if (ok && (events & EPOLLOUT))
                ok = floor_flush(r, !d);
        if (!ok || (events & (EPOLLHUP | EPOLLERR)) || (r->eof[0] && r->eof[1] && !r->len[0] && !r->len[1])) {
                floor_relay_drop(r);
                return;
        }
        for (int e = 0; e < 2; e++) {
                uint32_t want = (r->len[e] == 0 && !r->eof[e] ? EPOLLIN : 0) | (r->len[!e] > 0 ? EPOLLOUT : 0);
                if (want != r->end[e].events && floor_watch(ep, &r->end[e], want) < 0) {
                        floor_relay_drop(r);
                        return;
                }
        }
}

static void floor_relay_new(int ep, int listen_fd, const char *target) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        FloorRelay *r;
        int in, out;

        in = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (in < 0)
                return;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", target);
        out = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (out < 0 || connect(out, (struct sockaddr *) &sa, sizeof(sa)) < 0 || !(r = calloc(1, sizeof(*r)))) {
                safe_close(out);
                close(in);
                return;
        }
        r->end[0] = (FloorSrc){ .kind = FLOOR_RELAY_END, .fd = in, .relay = r, .side = 0 };
        r->end[1] = (FloorSrc){ .kind = FLOOR_RELAY_END, .fd = out, .relay = r, .side = 1 };
        if (floor_watch(ep, &r->end[0], EPOLLIN) < 0 || floor_watch(ep, &r->end[1], EPOLLIN) < 0)
                floor_relay_drop(r);
}

static void floor_fd_request(FloorSrc *s, const char *target) {
        _cleanup_close_ int fd = -1;
        char c;

        if (read(s->fd, &c, 1) != 1) {
                /* the client went away */
                s->fd = safe_close(s->fd);
                free(s);
                return;
        }
        if (unix_connect(target, SOCK_STREAM, &fd) < 0)
                (void) fd_send(s->fd, &c, 1, NULL, 0);
        else
                (void) fd_send(s->fd, &c, 1, &fd, 1);
}

static int run_floor(const char *dir, const char *target) {
        FloorSrc doors[2] = { { .kind = FLOOR_FD_LISTEN, .fd = -1 }, { .kind = FLOOR_RELAY_LISTEN, .fd = -1 } };
        char path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
        _cleanup_close_ int ep = -1;
        int r;

        signal(SIGPIPE, SIG_IGN);
        ep = epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0)
                return fail_errno(-errno, "cannot create", "an epoll set");
        for (int i = 0; i < 2; i++) {
                if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, i == 0 ? "fd.sock" : "relay.sock") >=
                    sizeof(path))
                        return fail_errno(-ENAMETOOLONG, "socket directory", dir);
                /* fd.sock a SOCK_SEQPACKET socket, as broker.sock is. */
                r = unix_listen(path, i == 0 ? SOCK_SEQPACKET : SOCK_STREAM, &doors[i].fd);
                if (r < 0)
                        return fail_errno(r, "cannot listen on", path);
                r = floor_watch(ep, &doors[i], EPOLLIN);
                if (r < 0)
                        return fail_errno(r, "cannot watch", path);
        }
        printf("serving\n");
        fflush(stdout);
        for (;;) {
                struct epoll_event ev[64];
                int n = epoll_wait(ep, ev, (int) ELEMENTSOF(ev), -1);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return fail_errno(-errno, "cannot wait in", "epoll");
                }
                for (int i = 0; i < n; i++) {
                        FloorSrc *s = ev[i].data.ptr, *c;

                        switch (s->kind) {
                        case FLOOR_FD_LISTEN:
                                c = calloc(1, sizeof(*c));
                                if (!c)
                                        break;
                                *c = (FloorSrc){ .kind = FLOOR_FD_CLIENT,
                                                 .fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC) };
                                if (c->fd < 0 || floor_watch(ep, c, EPOLLIN) < 0) {
                                        safe_close(c->fd);
                                        free(c);
                                }
                                break;
                        case FLOOR_RELAY_LISTEN:
                                floor_relay_new(ep, s->fd, target);
                                break;
                        case FLOOR_FD_CLIENT:
                                floor_fd_request(s, target);
                                break;
                        case FLOOR_RELAY_END:
                                floor_relay_event(ep, s, ev[i].events);
                                break;
                        }
                }
                while (floor_dead) {
                        FloorRelay *x = floor_dead;
                        floor_dead = x->next_dead;
                        free(x);
                }
        }
}

/* ---- measurements ------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static int round_trip(Target *t) {
        _cleanup_close_ int fd = -1;
        char c = 'x';
        int r;

        r = target_connect(t, &fd);
        if (r < 0)
                return r;
        r = loop_write(fd, &c, 1);
        if (r < 0)
                return r;
        r = read_all(fd, &c, 1);
        if (r < 0)
                return r;
        return c == 'x' ? 0 : -EBADMSG;
}

static int connect_latency(Target *t, uint32_t n) {
        _cleanup_free_ uint64_t *ns = calloc(n, sizeof(uint64_t));
        uint32_t warmup = MAX(n / 10, 10u);
        double sum = 0;
        int r;

        if (!ns)
                return fail_errno(-ENOMEM, "cannot allocate", "samples");
        r = target_open(t);
        if (r < 0)
                return fail_target(t, r, "cannot reach the broker for");
        for (uint32_t i = 0; i < warmup + n; i++) {
                uint64_t t0 = now_nsec();
                r = round_trip(t);
                if (r < 0)
                        return fail_target(t, r, "round trip to");
                if (i >= warmup)
                        ns[i - warmup] = now_nsec() - t0;
        }
        target_close(t);
        for (uint32_t i = 0; i < n; i++)
                sum += (double) ns[i];
        qsort(ns, n, sizeof(uint64_t), cmp_u64);
        printf("connect-latency target=%s via=%s n=%" PRIu32 " mean_us=%.2f median_us=%.2f p99_us=%.2f\n",
               t->name, target_label(t), n, sum / n / 1e3, (double) ns[n / 2] / 1e3,
               (double) ns[(size_t) ((double) n * 0.99)] / 1e3);
        fflush(stdout);
        return 0;
}

static int stream_once(Target *t, uint64_t bytes, const char *buf, double *ret_seconds) {
        _cleanup_close_ int fd = -1;
        uint64_t left = bytes, got;
        uint64_t t0;
        int r;

        r = target_connect(t, &fd);
        if (r < 0)
                return r;
        t0 = now_nsec();
        while (left > 0) {
                size_t k = (size_t) MIN(left, (uint64_t) STREAM_CHUNK);
                r = loop_write(fd, buf, k);
                if (r < 0)
                        return r;
                left -= k;
        }
        if (shutdown(fd, SHUT_WR) < 0)
                return -errno;
        r = read_all(fd, &got, sizeof(got));
        if (r < 0)
                return r;
        *ret_seconds = (double) (now_nsec() - t0) / 1e9;
        return got == bytes ? 0 : -EBADMSG;
}

static int throughput(Target *t, uint64_t bytes, uint32_t runs) {
        _cleanup_free_ char *buf = malloc(STREAM_CHUNK);
        double mbps[RUNS_MAX];
        int r;

        if (!buf)
                return fail_errno(-ENOMEM, "cannot allocate", "buffer");
        memset(buf, 0x5a, STREAM_CHUNK);
        r = target_open(t);
        if (r < 0)
                return fail_target(t, r, "cannot reach the broker for");
        for (uint32_t i = 0; i < runs; i++) {
                double s = 0;
                r = stream_once(t, bytes, buf, &s);
                if (r < 0)
                        return fail_target(t, r, "stream to");
                mbps[i] = (double) bytes / s / 1e6;
                printf("throughput-run target=%s via=%s run=%" PRIu32 " bytes=%" PRIu64 " seconds=%.4f mbps=%.1f\n",
                       t->name, target_label(t), i + 1, bytes, s, mbps[i]);
        }
        target_close(t);
        /* Median by insertion sort: at most RUNS_MAX values. */
        for (uint32_t i = 1; i < runs; i++)
                for (uint32_t j = i; j > 0 && mbps[j - 1] > mbps[j]; j--) {
                        double x = mbps[j];
                        mbps[j] = mbps[j - 1];
                        mbps[j - 1] = x;
                }
        printf("throughput target=%s via=%s bytes=%" PRIu64 " runs=%" PRIu32 " median_mbps=%.1f best_mbps=%.1f\n",
               t->name, target_label(t), bytes, runs,
               runs % 2 ? mbps[runs / 2] : (mbps[runs / 2 - 1] + mbps[runs / 2]) / 2, mbps[runs - 1]);
        fflush(stdout);
        return 0;
}

/* ---- native baseline --------------------------------------------------- */

static int native(const char *dir, uint32_t n, uint64_t bytes, uint32_t runs) {
        char echo_path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
        char sink_path[sizeof(echo_path)];
        int ready[2], status, rc;
        pid_t parent = getpid(), pid;
        char c;

        if ((size_t) snprintf(echo_path, sizeof(echo_path), "%s/echo.sock", dir) >= sizeof(echo_path) ||
            (size_t) snprintf(sink_path, sizeof(sink_path), "%s/sink.sock", dir) >= sizeof(sink_path))
                return fail_errno(-ENAMETOOLONG, "socket directory", dir);
        if (pipe2(ready, O_CLOEXEC) < 0)
                return fail_errno(-errno, "cannot create", "a pipe");
        pid = fork();
        if (pid < 0)
                return fail_errno(-errno, "cannot fork", "the server");
        if (pid == 0) {
                /* The server must not outlive the benchmark. */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(1);
                safe_close(ready[0]);
                _exit(run_server(echo_path, sink_path, ready[1]));
        }
        safe_close(ready[1]);
        if (read(ready[0], &c, 1) != 1) {
                safe_close(ready[0]);
                (void) waitpid(pid, NULL, 0);
                fprintf(stderr, "%s: the native server did not start\n", prog);
                return 1;
        }
        safe_close(ready[0]);

        rc = connect_latency(&(Target){ .kind = TARGET_PATH, .name = echo_path }, n);
        if (rc == 0)
                rc = throughput(&(Target){ .kind = TARGET_PATH, .name = sink_path }, bytes, runs);
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, &status, 0);
        (void) unlink(echo_path);
        (void) unlink(sink_path);
        return rc;
}

/* ---- broker RSS with many registered containers -------------------------- */

static int read_rss_kb(pid_t pid, uint64_t *ret_kb) {
        char path[64], line[256];
        _cleanup_fclose_ FILE *f = NULL;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %" SCNu64 " kB", ret_kb) == 1)
                        return 0;
        return -ENODATA;
}

static int control_op(int fd, const char *op, const char *name, pid_t pid) {
        json_t *req, *reply = NULL;
        int r;

        if (pid > 0)
                req = json_pack("{s:s, s:s, s:i, s:[{s:s, s:s}]}", "op", op, "name", name, "pid", (int) pid,
                                "exports", "name", "svc", "socket", "/run/svc.sock");
        else
                req = json_pack("{s:s, s:s}", "op", op, "name", name);
        if (!req)
                return -ENOMEM;
        r = control_call(fd, req, &reply);
        if (r < 0 && reply)
                fprintf(stderr, "%s: %s %s: %s\n", prog, op, name,
                        json_string_value(json_object_get(reply, "error")) ?: strerror(-r));
        json_decref(req);
        json_decref(reply);
        return r;
}

static void reap(pid_t *kids, uint32_t n) {
        for (uint32_t i = 0; i < n; i++)
                (void) kill(kids[i], SIGKILL);
        for (uint32_t i = 0; i < n; i++)
                (void) waitpid(kids[i], NULL, 0);
}

static int register_many(const char *state_dir, pid_t broker, uint32_t count) {
        _cleanup_free_ pid_t *kids = calloc(count, sizeof(pid_t));
        _cleanup_close_ int fd = -1;
        uint64_t before = 0, after = 0, unreg = 0, t0, t_reg, t_unreg;
        uint32_t forked = 0, registered = 0;
        pid_t parent = getpid();
        char name[64];
        int r, rc = 1;

        if (!kids)
                return fail_errno(-ENOMEM, "cannot allocate", "pids");
        r = read_rss_kb(broker, &before);
        if (r < 0)
                return fail_errno(r, "cannot read the RSS of pid", "(broker)");
        r = control_connect(state_dir, &fd);
        if (r < 0)
                return fail_errno(r, "cannot reach the control socket in", state_dir);

        /* Idle stand-ins for containers: the broker wants a live pid, in a
         * pid namespace of its own (it refuses the host's). */
        for (; forked < count; forked++) {
                pid_t pid = (pid_t) syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
                if (pid < 0) {
                        fail_errno(-errno, "cannot fork", "a stand-in");
                        goto out;
                }
                if (pid == 0) {
                        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                        /* Our parent is outside our pid namespace: 0. */
                        if (getppid() != 0 && getppid() != parent)
                                _exit(0);
                        for (;;)
                                pause();
                }
                kids[forked] = pid;
        }

        t0 = now_nsec();
        for (; registered < count; registered++) {
                snprintf(name, sizeof(name), "ipc-bench-%04" PRIu32, registered);
                r = control_op(fd, "register", name, kids[registered]);
                if (r < 0)
                        goto out;
        }
        t_reg = now_nsec() - t0;
        r = read_rss_kb(broker, &after);
        if (r < 0) {
                fail_errno(r, "cannot read the RSS of pid", "(broker)");
                goto out;
        }

        t0 = now_nsec();
        for (; registered > 0; registered--) {
                snprintf(name, sizeof(name), "ipc-bench-%04" PRIu32, registered - 1);
                r = control_op(fd, "unregister", name, 0);
                if (r < 0)
                        goto out;
        }
        t_unreg = now_nsec() - t0;
        (void) read_rss_kb(broker, &unreg);
        printf("broker-rss containers=%" PRIu32 " before_kb=%" PRIu64 " registered_kb=%" PRIu64
               " unregistered_kb=%" PRIu64 " register_us=%.1f unregister_us=%.1f\n",
               count, before, after, unreg, (double) t_reg / count / 1e3, (double) t_unreg / count / 1e3);
        fflush(stdout);
        rc = 0;
out:
        /* On failure, what was registered goes with its stand-in: the
         * broker unregisters a container whose pid exits. */
        for (; registered > 0; registered--) {
                snprintf(name, sizeof(name), "ipc-bench-%04" PRIu32, registered - 1);
                (void) control_op(fd, "unregister", name, 0);
        }
        reap(kids, forked);
        return rc;
}

/* ---- main -------------------------------------------------------------- */

static int usage(void) {
        fprintf(stderr,
                "Usage: %1$s server ECHO_PATH SINK_PATH\n"
                "       %1$s floor DIR TARGET_PATH\n"
                "       %1$s connect-latency PATH|--fast SERVICE|--fast-fresh SERVICE|--floor-fd PATH N\n"
                "       %1$s throughput PATH|--fast SERVICE|--floor-fd PATH BYTES [RUNS]\n"
                "       %1$s native DIR N BYTES [RUNS]\n"
                "       %1$s register STATE_DIR BROKER_PID COUNT\n",
                prog);
        return 2;
}

static int parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        uint64_t v;
        int r = parse_uint64(s, &v);
        if (r < 0)
                return r;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int main(int argc, char *argv[]) {
        uint64_t n = 0, bytes = 0, runs = 3, pid = 0;
        Target t;
        int k;

        if (argc < 2)
                return usage();
        signal(SIGPIPE, SIG_IGN);

        if (streq(argv[1], "server") && argc == 4)
                return run_server(argv[2], argv[3], -1);

        if (streq(argv[1], "connect-latency")) {
                k = target_parse(argc - 2, argv + 2, &t);
                if (k < 0 || argc != 3 + k || parse_count(argv[2 + k], 1, LATENCY_MAX, &n) < 0)
                        return usage();
                return connect_latency(&t, (uint32_t) n);
        }
        if (streq(argv[1], "throughput")) {
                k = target_parse(argc - 2, argv + 2, &t);
                if (k < 0 || t.kind == TARGET_FAST_FRESH || argc < 3 + k || argc > 4 + k ||
                    parse_count(argv[2 + k], 1, UINT64_MAX, &bytes) < 0 ||
                    (argc == 4 + k && parse_count(argv[3 + k], 1, RUNS_MAX, &runs) < 0))
                        return usage();
                return throughput(&t, bytes, (uint32_t) runs);
        }
        if (streq(argv[1], "native") && (argc == 5 || argc == 6)) {
                if (parse_count(argv[3], 1, LATENCY_MAX, &n) < 0 || parse_count(argv[4], 1, UINT64_MAX, &bytes) < 0 ||
                    (argc == 6 && parse_count(argv[5], 1, RUNS_MAX, &runs) < 0))
                        return usage();
                return native(argv[2], (uint32_t) n, bytes, (uint32_t) runs);
        }
        if (streq(argv[1], "floor") && argc == 4)
                return run_floor(argv[2], argv[3]);
        if (streq(argv[1], "register") && argc == 5) {
                if (parse_count(argv[3], 1, INT32_MAX, &pid) < 0 || parse_count(argv[4], 1, REGISTER_MAX, &n) < 0)
                        return usage();
                return register_many(argv[2], (pid_t) pid, (uint32_t) n);
        }
        return usage();
}
