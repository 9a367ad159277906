/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The service manager's readiness protocol (src/shuttle/daemon/notify.c): a
 * datagram to a path or an abstract name, nothing without a socket,
 * addresses of other kinds refused, the variable taken out of the
 * environment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "shuttle/daemon/notify.h"

/* A datagram socket bound at name ("/path" or "@abstract"). */
static int listener(const char *name) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n = strlen(name);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        assert_true(fd >= 0);
        memcpy(sa.sun_path, name, n);
        if (name[0] == '@')
                sa.sun_path[0] = '\0';
        assert_int_equal(bind(fd, (struct sockaddr *) &sa,
                              (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'))),
                         0);
        return fd;
}

static void expect_datagram(int fd, const char *want) {
        char buf[256];
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

        assert_true(n >= 0);
        buf[n] = '\0';
        assert_string_equal(buf, want);
        /* Exactly one. */
        assert_int_equal(recv(fd, buf, sizeof(buf), 0), -1);
}

static void test_path(void **state) {
        char dir[] = "/tmp/test-notify.XXXXXX", path[64];
        int fd;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/notify", dir);
        fd = listener(path);
        assert_int_equal(notify_send(path, "READY=1"), 1);
        expect_datagram(fd, "READY=1");
        assert_int_equal(notify_send(path, "RELOADING=1\nMONOTONIC_USEC=42"), 1);
        expect_datagram(fd, "RELOADING=1\nMONOTONIC_USEC=42");
        close(fd);
        /* Nobody there any more: an error, for the caller to ignore. */
        assert_int_equal(notify_send(path, "READY=1"), -ECONNREFUSED);
        unlink(path);
        assert_int_equal(notify_send(path, "READY=1"), -ENOENT);
        rmdir(dir);
}

static void test_abstract(void **state) {
        char name[64];
        int fd;

        snprintf(name, sizeof(name), "@test-notify-%d", (int) getpid());
        fd = listener(name);
        assert_int_equal(notify_send(name, "STOPPING=1"), 1);
        expect_datagram(fd, "STOPPING=1");
        close(fd);
}

static void test_nothing_or_refused(void **state) {
        char longname[200];

        assert_int_equal(notify_send(NULL, "READY=1"), 0);
        assert_int_equal(notify_send("", "READY=1"), 0);
        assert_int_equal(notify_send("relative/path", "READY=1"), -EAFNOSUPPORT);
        assert_int_equal(notify_send("vsock:2:1234", "READY=1"), -EAFNOSUPPORT);
        memset(longname, 'x', sizeof(longname) - 1);
        longname[0] = '/';
        longname[sizeof(longname) - 1] = '\0';
        assert_int_equal(notify_send(longname, "READY=1"), -EINVAL);
}

static void test_take(void **state) {
        char *s;

        setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
        s = notify_socket_take();
        assert_string_equal(s, "/run/systemd/notify");
        assert_null(getenv("NOTIFY_SOCKET"));
        free(s);
        assert_null(notify_socket_take());
        setenv("NOTIFY_SOCKET", "", 1);
        assert_null(notify_socket_take());
        assert_null(getenv("NOTIFY_SOCKET"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_path),
                cmocka_unit_test(test_abstract),
                cmocka_unit_test(test_nothing_or_refused),
                cmocka_unit_test(test_take),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
