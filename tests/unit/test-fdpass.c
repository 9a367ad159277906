/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/macro.h"
#include "common/socket-util.h"

static int count_open_fds(void) {
        int n = 0;
        for (int fd = 0; fd < 1024; fd++)
                if (fcntl(fd, F_GETFD) >= 0)
                        n++;
        return n;
}

static void pair(int sv[2]) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static void test_roundtrip(void **state) {
        int sv[2], p[2], got[2] = { -1, -1 };
        char buf[16];

        pair(sv);
        assert_int_equal(pipe(p), 0);
        assert_int_equal(fd_send(sv[0], "hello", 5, p, 2), 5);
        assert_int_equal(fd_recv(sv[1], buf, sizeof(buf), got, 2, 0), 5);
        assert_memory_equal(buf, "hello", 5);
        /* Received descriptors are close-on-exec and work. */
        assert_true(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
        assert_int_equal(write(got[1], "x", 1), 1);
        assert_int_equal(read(got[0], buf, 1), 1);
        for (int i = 0; i < 2; i++) {
                close(got[i]);
                close(p[i]);
                close(sv[i]);
        }
}

static void test_wrong_count_closes_all(void **state) {
        int sv[2], p[2], got[3] = { -1, -1, -1 };
        char buf[16];
        int before;

        pair(sv);
        assert_int_equal(pipe(p), 0);
        assert_int_equal(fd_send(sv[0], "x", 1, p, 2), 1);
        before = count_open_fds();
        /* Expecting one descriptor, two arrive: refused, nothing leaks. */
        assert_int_equal(fd_recv(sv[1], buf, sizeof(buf), got, 1, 0), -EBADMSG);
        assert_int_equal(count_open_fds(), before);

        /* Expecting descriptors, none arrive: refused too. */
        assert_int_equal(fd_send(sv[0], "y", 1, NULL, 0), 1);
        assert_int_equal(fd_recv(sv[1], buf, sizeof(buf), got, 1, 0), -EBADMSG);
        for (int i = 0; i < 2; i++) {
                close(p[i]);
                close(sv[i]);
        }
}

static void test_truncated_payload(void **state) {
        int sv[2], p[2], got[2];
        char big[64] = { 0 }, buf[8];
        int before;

        pair(sv);
        assert_int_equal(pipe(p), 0);
        assert_int_equal(fd_send(sv[0], big, sizeof(big), p, 1), (ssize_t) sizeof(big));
        before = count_open_fds();
        assert_int_equal(fd_recv(sv[1], buf, sizeof(buf), got, 1, 0), -EMSGSIZE);
        assert_int_equal(count_open_fds(), before);
        for (int i = 0; i < 2; i++) {
                close(p[i]);
                close(sv[i]);
        }
}

static void test_upto(void **state) {
        int sv[2], p[2], got[4];
        size_t n = 99;
        char buf[8];

        pair(sv);
        assert_int_equal(pipe(p), 0);
        assert_int_equal(fd_send(sv[0], "a", 1, p, 2), 1);
        assert_int_equal(fd_recv_upto(sv[1], buf, sizeof(buf), got, 4, &n, 0), 1);
        assert_int_equal(n, 2);
        close(got[0]);
        close(got[1]);
        assert_int_equal(fd_send(sv[0], "a", 1, p, 2), 1);
        assert_int_equal(fd_recv_upto(sv[1], buf, sizeof(buf), got, 1, &n, 0), -EBADMSG);
        assert_int_equal(fd_send(sv[0], "a", 1, p, 0), 1);
        assert_int_equal(fd_recv_upto(sv[1], buf, sizeof(buf), got, 1, &n, 0), 1);
        assert_int_equal(n, 0);
        /* Peer closed. */
        close(sv[0]);
        assert_int_equal(fd_recv(sv[1], buf, sizeof(buf), got, 0, 0), 0);
        close(sv[1]);
        close(p[0]);
        close(p[1]);
}

static void test_too_many(void **state) {
        int fds[FD_PASS_MAX + 1];
        int sv[2];
        pair(sv);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                fds[i] = 0;
        assert_int_equal(fd_send(sv[0], "a", 1, fds, FD_PASS_MAX + 1), -EINVAL);
        close(sv[0]);
        close(sv[1]);
}

/* unix_connect() (socket-util.c): a close-on-exec socket of the type
 * asked, connected; a path too long or not there is an error, with
 * *ret_fd left alone. */
static void test_unix_connect(void **state) {
        char dir[] = "/tmp/test-fdpass-XXXXXX", path[64], longpath[200];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int l = -1, fd = -1, a = -1;
        int type = 0, out = -7;
        socklen_t len = sizeof(type);

        (void) state;
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/s", dir);
        strcpy(sa.sun_path, path);
        l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        assert_true(l >= 0);
        assert_int_equal(bind(l, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(l, 1), 0);

        assert_int_equal(unix_connect(path, SOCK_SEQPACKET, &fd), 0);
        assert_true(fd >= 0);
        assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len), 0);
        assert_int_equal(type, SOCK_SEQPACKET);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        assert_true(a >= 0);
        assert_int_equal(write(fd, "x", 1), 1);

        memset(longpath, 'a', sizeof(longpath) - 1);
        longpath[0] = '/';
        longpath[sizeof(longpath) - 1] = '\0';
        assert_int_equal(unix_connect(longpath, SOCK_STREAM, &out), -ENAMETOOLONG);
        assert_int_equal(out, -7);
        snprintf(path, sizeof(path), "%s/none", dir);
        assert_int_equal(unix_connect(path, SOCK_STREAM, &out), -ENOENT);
        assert_int_equal(out, -7);

        snprintf(path, sizeof(path), "%s/s", dir);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip),
                cmocka_unit_test(test_wrong_count_closes_all),
                cmocka_unit_test(test_truncated_payload),
                cmocka_unit_test(test_upto),
                cmocka_unit_test(test_too_many),
                cmocka_unit_test(test_unix_connect),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
