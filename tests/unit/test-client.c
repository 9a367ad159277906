/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/macro.h"
#include "shuttle/client/client.h"
#include "shuttle/client/protocol.h"

/* A fake broker in a forked child, scripted by Mode, speaking the real
 * protocol on one end of a socketpair (or an accepted connection). */

typedef enum Mode {
        FAKE_NORMAL,      /* hello; db.kv → a working fd; others → -ENOENT */
        FAKE_DENY,        /* every connect → -EACCES with a message */
        FAKE_WRONG_ID,    /* connect answered (with an fd) under another id */
        FAKE_NO_FD,       /* CONNECTED without its descriptor */
        FAKE_EXTRA_FD,    /* a refusal carrying a descriptor */
        FAKE_ZERO_OK,     /* "success" as REPLY 0, no descriptor */
        FAKE_HANG_UP,     /* closes instead of answering connect */
        FAKE_GOODBYE,     /* REPLY with id 0 before hanging up */
        FAKE_BAD_VERSION, /* welcome with version 2 */
        FAKE_PIPELINED,   /* as NORMAL, but answers HELLO only once the next request is there */
} Mode;

static int count_open_fds(void) {
        int n = 0;
        for (int fd = 0; fd < 1024; fd++)
                if (fcntl(fd, F_GETFD) >= 0)
                        n++;
        return n;
}

/* Raw frame with any fd count, bypassing shuttle_msg_send()'s checks. */
static void send_raw(int sock, const ShuttleMsg *m, const int *fds, size_t n_fds) {
        uint8_t buf[SHUTTLE_FRAME_MAX];
        size_t len;

        if (shuttle_msg_encode(m, buf, sizeof(buf), &len, NULL) < 0 || fd_send(sock, buf, len, fds, n_fds) < 0)
                _exit(20);
}

/* The exporter's side of a connection: read to EOF, answer in upper case. */
static void serve_echo(int fd) {
        char buf[256];
        size_t n = 0;
        ssize_t k;

        while (n < sizeof(buf) && (k = read(fd, buf + n, sizeof(buf) - n)) > 0)
                n += (size_t) k;
        for (size_t i = 0; i < n; i++)
                buf[i] = (char) toupper((unsigned char) buf[i]);
        if (write(fd, buf, n) != (ssize_t) n)
                _exit(21);
        close(fd);
}

static void handle_connect(int sock, Mode mode, const ShuttleMsg *m) {
        ShuttleMsg a;
        int sp[2];

        switch (mode) {
        case FAKE_NORMAL:
        case FAKE_PIPELINED:
                if (strcmp(m->service, "db.kv") != 0) {
                        shuttle_msg_reply(&a, m->id, -ENOENT, "no such service");
                        (void) shuttle_msg_send(sock, &a, NULL, 0);
                        return;
                }
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                        _exit(22);
                shuttle_msg_connected(&a, m->id);
                if (shuttle_msg_send(sock, &a, &sp[0], 1) < 0)
                        _exit(23);
                close(sp[0]);
                serve_echo(sp[1]);
                return;
        case FAKE_DENY:
                shuttle_msg_reply(&a, m->id, -EACCES, "denied by rule no-admin");
                (void) shuttle_msg_send(sock, &a, NULL, 0);
                return;
        case FAKE_WRONG_ID:
        case FAKE_NO_FD:
        case FAKE_EXTRA_FD:
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                        _exit(22);
                if (mode == FAKE_WRONG_ID) {
                        shuttle_msg_connected(&a, m->id + 1);
                        send_raw(sock, &a, &sp[0], 1);
                } else if (mode == FAKE_NO_FD) {
                        shuttle_msg_connected(&a, m->id);
                        send_raw(sock, &a, NULL, 0);
                } else {
                        shuttle_msg_reply(&a, m->id, -EACCES, NULL);
                        send_raw(sock, &a, &sp[0], 1);
                }
                close(sp[0]);
                close(sp[1]);
                return;
        case FAKE_ZERO_OK:
                shuttle_msg_reply(&a, m->id, 0, NULL);
                (void) shuttle_msg_send(sock, &a, NULL, 0);
                return;
        case FAKE_HANG_UP:
                _exit(0);
        case FAKE_GOODBYE:
                shuttle_msg_reply(&a, 0, -EBADMSG, "malformed request");
                (void) shuttle_msg_send(sock, &a, NULL, 0);
                _exit(0);
        case FAKE_BAD_VERSION:
                /* Sent behind the HELLO, before the client saw the
                 * version: left unanswered (the client hangs up). */
                return;
        }
        _exit(24);
}

static _noreturn_ void fake_broker_main(int sock, Mode mode) {
        uint8_t buf[SHUTTLE_RECV_BUF_SIZE];
        int fds[SHUTTLE_FDS_MAX];
        size_t n_fds;
        ShuttleMsg m, a;

        for (;;) {
                int r = shuttle_msg_recv(sock, buf, sizeof(buf), &m, fds, SHUTTLE_FDS_MAX, &n_fds,
                                         SHUTTLE_DECODE_REQUEST, NULL);
                if (r == 0)
                        _exit(0);
                if (r < 0)
                        _exit(10); /* the client sent something invalid */
                switch (m.type) {
                case SHUTTLE_MSG_HELLO:
                        if (m.version != SHUTTLE_PROTOCOL_VERSION)
                                _exit(11);
                        /* One round trip: the first request came right
                         * behind the HELLO, before any WELCOME. */
                        if (mode == FAKE_PIPELINED &&
                            poll(&(struct pollfd){ .fd = sock, .events = POLLIN }, 1, 2000) != 1)
                                _exit(13);
                        shuttle_msg_welcome(&a, m.id, mode == FAKE_BAD_VERSION ? 2 : 1, "web");
                        (void) shuttle_msg_send(sock, &a, NULL, 0);
                        break;
                case SHUTTLE_MSG_CONNECT:
                        handle_connect(sock, mode, &m);
                        break;
                case SHUTTLE_MSG_SIGNAL:
                        if (strcmp(m.container, "db") == 0 && strcmp(m.app, "kvd") == 0 && m.signal == SIGHUP)
                                shuttle_msg_reply(&a, m.id, 0, NULL);
                        else
                                shuttle_msg_reply(&a, m.id, -EPERM, "denied");
                        (void) shuttle_msg_send(sock, &a, NULL, 0);
                        break;
                default:
                        _exit(12);
                }
        }
}

typedef struct Fake {
        pid_t pid;
        ShuttleClient *client;
} Fake;

static void fake_start(Fake *f, Mode mode) {
        int sv[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        f->pid = fork();
        assert_true(f->pid >= 0);
        if (f->pid == 0) {
                close(sv[0]);
                fake_broker_main(sv[1], mode);
        }
        close(sv[1]);
        assert_int_equal(shuttle_client_new_from_fd(sv[0], &f->client), 0);
}

/* Frees the client (the fake sees EOF) and checks how the fake ended. */
static void fake_stop(Fake *f) {
        int status;

        f->client = shuttle_client_free(f->client);
        assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_hello(void **state) {
        char name[SHUTTLE_NAME_MAX + 1] = "";
        uint32_t version = 0;
        Fake f;

        fake_start(&f, FAKE_NORMAL);
        assert_int_equal(shuttle_client_hello(f.client, &version, name), 0);
        assert_int_equal(version, SHUTTLE_PROTOCOL_VERSION);
        assert_string_equal(name, "web");
        /* Cached: a second call asks nothing (the fake would answer anyway;
         * the point is it returns the same). */
        name[0] = '\0';
        assert_int_equal(shuttle_client_hello(f.client, NULL, name), 0);
        assert_string_equal(name, "web");
        fake_stop(&f);
        (void) state;
}

static void test_connect_works(void **state) {
        char buf[16] = "";
        int fd = -1, before;
        Fake f;

        fake_start(&f, FAKE_NORMAL);
        before = count_open_fds();
        /* No explicit hello: the client says it first. */
        assert_int_equal(shuttle_connect_service(f.client, "db.kv", &fd), 0);
        assert_true(fd >= 0);
        assert_int_equal(count_open_fds(), before + 1);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        assert_int_equal(write(fd, "ping", 4), 4);
        assert_int_equal(shutdown(fd, SHUT_WR), 0);
        assert_int_equal(read(fd, buf, sizeof(buf)), 4);
        assert_memory_equal(buf, "PING", 4);
        close(fd);

        /* An unknown service: the broker's errno, and no descriptor. */
        fd = -1;
        assert_int_equal(shuttle_connect_service(f.client, "db.nothing", &fd), -ENOENT);
        assert_int_equal(fd, -1);
        assert_int_equal(count_open_fds(), before);

        /* The client refuses to send what the broker would refuse. */
        assert_int_equal(shuttle_connect_service(f.client, "no-dot", &fd), -EILSEQ);
        assert_int_equal(shuttle_connect_service(f.client, "../../etc.kv", &fd), -EILSEQ);
        /* ...and the connection is still in step afterwards. */
        assert_int_equal(shuttle_connect_service(f.client, "db.kv", &fd), 0);
        assert_int_equal(shutdown(fd, SHUT_WR), 0);
        assert_int_equal(read(fd, buf, sizeof(buf)), 0);
        close(fd);
        fake_stop(&f);
        (void) state;
}

/* A new connection's first request is sent behind its HELLO, not after
 * the WELCOME: one round trip (the fake waits for the request before it
 * welcomes, and exits 13 if it does not come). */
static void test_connect_one_round_trip(void **state) {
        char name[SHUTTLE_NAME_MAX + 1] = "";
        int fd = -1;
        Fake f;

        fake_start(&f, FAKE_PIPELINED);
        assert_int_equal(shuttle_connect_service(f.client, "db.kv", &fd), 0);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "rt", 2), 2);
        assert_int_equal(shutdown(fd, SHUT_WR), 0);
        assert_int_equal(read(fd, name, sizeof(name)), 2);
        assert_memory_equal(name, "RT", 2);
        close(fd);
        /* Welcomed on the way: the name is known, no second HELLO. */
        assert_int_equal(shuttle_client_hello(f.client, NULL, name), 0);
        assert_string_equal(name, "web");
        fake_stop(&f);
        (void) state;
}

static void test_denied(void **state) {
        char message[SHUTTLE_MESSAGE_MAX + 1];
        int fd = -1, before;
        Fake f;

        fake_start(&f, FAKE_DENY);
        before = count_open_fds();
        assert_int_equal(shuttle_connect_service(f.client, "db.admin", &fd), -EACCES);
        assert_int_equal(fd, -1);
        shuttle_client_last_message(f.client, message, sizeof(message));
        assert_string_equal(message, "denied by rule no-admin");
        /* A refusal is an answer, not a broken connection. */
        assert_int_equal(shuttle_connect_service(f.client, "db.admin", &fd), -EACCES);
        assert_int_equal(count_open_fds(), before);
        fake_stop(&f);
        (void) state;
}

static void test_signal(void **state) {
        Fake f;

        fake_start(&f, FAKE_NORMAL);
        assert_int_equal(shuttle_send_signal(f.client, "db", "kvd", SIGHUP), 0);
        assert_int_equal(shuttle_send_signal(f.client, "db", "other", SIGHUP), -EPERM);
        assert_int_equal(shuttle_send_signal(f.client, "db", "kvd", 0), -ERANGE);
        assert_int_equal(shuttle_send_signal(f.client, "bad/name", "kvd", SIGHUP), -EILSEQ);
        fake_stop(&f);
        (void) state;
}

/* A broker breaking the protocol: the call fails, any descriptor it sent
 * is closed, and the client refuses further use. */
static void check_violation(Mode mode, int expected) {
        int fd = -1, before;
        Fake f;

        fake_start(&f, mode);
        assert_int_equal(shuttle_client_hello(f.client, NULL, NULL), 0);
        before = count_open_fds();
        assert_int_equal(shuttle_connect_service(f.client, "db.kv", &fd), expected);
        assert_int_equal(fd, -1);
        assert_int_equal(count_open_fds(), before);
        assert_int_equal(shuttle_connect_service(f.client, "db.kv", &fd), -ENOTCONN);
        assert_int_equal(shuttle_send_signal(f.client, "db", "kvd", SIGHUP), -ENOTCONN);
        fake_stop(&f);
}

static void test_wrong_id(void **state) {
        check_violation(FAKE_WRONG_ID, -EPROTO);
        (void) state;
}

static void test_wrong_fd_count(void **state) {
        check_violation(FAKE_NO_FD, -EPROTO);
        check_violation(FAKE_EXTRA_FD, -EPROTO);
        (void) state;
}

static void test_success_without_fd(void **state) {
        check_violation(FAKE_ZERO_OK, -EPROTO);
        (void) state;
}

static void test_hang_up(void **state) {
        check_violation(FAKE_HANG_UP, -ECONNRESET);
        check_violation(FAKE_GOODBYE, -EBADMSG);
        (void) state;
}

static void test_bad_version(void **state) {
        Fake f;
        int fd = -1;

        fake_start(&f, FAKE_BAD_VERSION);
        assert_int_equal(shuttle_connect_service(f.client, "db.kv", &fd), -EPROTONOSUPPORT);
        assert_int_equal(shuttle_client_hello(f.client, NULL, NULL), -ENOTCONN);
        fake_stop(&f);
        (void) state;
}

typedef struct Hammer {
        ShuttleClient *client;
        int failures;
} Hammer;

static void *hammer(void *p) {
        Hammer *h = p;
        for (int i = 0; i < 200; i++) {
                int fd = -1;
                int r = shuttle_connect_service(h->client, "db.admin", &fd);
                if (r != -EACCES || fd != -1)
                        h->failures++;
        }
        return NULL;
}

static void test_threads(void **state) {
        pthread_t t[4];
        Hammer h[4];
        Fake f;

        fake_start(&f, FAKE_DENY);
        for (int i = 0; i < 4; i++) {
                h[i] = (Hammer){ .client = f.client };
                assert_int_equal(pthread_create(&t[i], NULL, hammer, &h[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
                assert_int_equal(pthread_join(t[i], NULL), 0);
                assert_int_equal(h[i].failures, 0);
        }
        fake_stop(&f);
        (void) state;
}

/* A listening broker socket in a temporary directory. */
typedef struct TmpBroker {
        char dir[64];
        char path[128];
        int listen_fd;
} TmpBroker;

static void tmp_broker(TmpBroker *t) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        strcpy(t->dir, "/tmp/shuttle-test-client-XXXXXX");
        assert_non_null(mkdtemp(t->dir));
        snprintf(t->path, sizeof(t->path), "%s/broker.sock", t->dir);
        strcpy(sa.sun_path, t->path);
        t->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        assert_true(t->listen_fd >= 0);
        assert_int_equal(bind(t->listen_fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(t->listen_fd, 4), 0);
}

static void tmp_broker_done(TmpBroker *t) {
        close(t->listen_fd);
        unlink(t->path);
        rmdir(t->dir);
}

static pid_t tmp_broker_serve(TmpBroker *t, Mode mode) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                int fd = accept4(t->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        _exit(30);
                close(t->listen_fd);
                fake_broker_main(fd, mode);
        }
        return pid;
}

static void test_open(void **state) {
        ShuttleClient *c = NULL;
        char name[SHUTTLE_NAME_MAX + 1], longpath[200];
        TmpBroker t;
        int status;
        pid_t pid;

        tmp_broker(&t);

        /* $SHUTTLE_BROKER_SOCKET when no path is given. */
        assert_int_equal(setenv(SHUTTLE_BROKER_SOCKET_ENV, t.path, 1), 0);
        pid = tmp_broker_serve(&t, FAKE_NORMAL);
        assert_int_equal(shuttle_client_open(NULL, &c), 0);
        assert_int_equal(shuttle_client_hello(c, NULL, name), 0);
        assert_string_equal(name, "web");
        c = shuttle_client_free(c);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        unsetenv(SHUTTLE_BROKER_SOCKET_ENV);

        /* Explicit path. */
        pid = tmp_broker_serve(&t, FAKE_NORMAL);
        assert_int_equal(shuttle_client_open(t.path, &c), 0);
        assert_int_equal(shuttle_send_signal(c, "db", "kvd", SIGHUP), 0);
        c = shuttle_client_free(c);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        tmp_broker_done(&t);

        /* No broker there. */
        assert_int_equal(shuttle_client_open(t.path, &c), -ENOENT);
        assert_null(c);
        memset(longpath, 'x', sizeof(longpath) - 1);
        longpath[0] = '/';
        longpath[sizeof(longpath) - 1] = '\0';
        assert_int_equal(shuttle_client_open(longpath, &c), -ENAMETOOLONG);
        assert_null(c);
        (void) state;
}

/* shuttle-connect relays stdin/stdout over the fd the broker passes. */
static void test_shuttle_connect_tool(void **state) {
        const char *builddir = getenv("top_builddir");
        char tool[PATH_MAX], out[64] = "";
        int in[2], outp[2], status;
        TmpBroker t;
        pid_t broker, pid;
        ssize_t n;
        size_t got = 0;

        if (!builddir)
                skip();
        snprintf(tool, sizeof(tool), "%s/shuttle-connect", builddir);
        if (access(tool, X_OK) < 0)
                skip();

        tmp_broker(&t);
        broker = tmp_broker_serve(&t, FAKE_NORMAL);
        assert_int_equal(pipe2(in, O_CLOEXEC), 0);
        assert_int_equal(pipe2(outp, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (dup2(in[0], 0) < 0 || dup2(outp[1], 1) < 0)
                        _exit(40);
                execl(tool, "shuttle-connect", "--socket", t.path, "db.kv", (char *) NULL);
                _exit(41);
        }
        close(in[0]);
        close(outp[1]);
        assert_int_equal(write(in[1], "hello broker", 12), 12);
        close(in[1]);
        while ((n = read(outp[0], out + got, sizeof(out) - 1 - got)) > 0)
                got += (size_t) n;
        close(outp[0]);
        assert_string_equal(out, "HELLO BROKER");
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(waitpid(broker, &status, 0), broker);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        /* A refused service: exit 1, nothing relayed. */
        broker = tmp_broker_serve(&t, FAKE_DENY);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
                        _exit(40);
                execl(tool, "shuttle-connect", "--socket", t.path, "db.admin", (char *) NULL);
                _exit(41);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 1);
        assert_int_equal(waitpid(broker, &status, 0), broker);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        tmp_broker_done(&t);
        (void) state;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hello),
                cmocka_unit_test(test_connect_works),
                cmocka_unit_test(test_connect_one_round_trip),
                cmocka_unit_test(test_denied),
                cmocka_unit_test(test_signal),
                cmocka_unit_test(test_wrong_id),
                cmocka_unit_test(test_wrong_fd_count),
                cmocka_unit_test(test_success_without_fd),
                cmocka_unit_test(test_hang_up),
                cmocka_unit_test(test_bad_version),
                cmocka_unit_test(test_threads),
                cmocka_unit_test(test_open),
                cmocka_unit_test(test_shuttle_connect_tool),
        };

        /* A fake broker that dies must not kill the test with SIGPIPE. */
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
