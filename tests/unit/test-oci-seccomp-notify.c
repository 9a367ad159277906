/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What shuttle-oci sends a seccomp agent (src/cli/oci-seccomp-notify.c):
 * the container process state's fields, metadata only when given, a state
 * that is not an object refused; the delivery over a real socket: the JSON
 * whole and the fd with it (also when the state is larger than one send),
 * then the connection closed; errors for a missing socket, a path too long
 * and an agent that is not there any more. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/oci-seccomp-notify.h"
#include "common/fdpass.h"
#include "common/macro.h"

static const char STATE[] = "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":42,"
                            "\"bundle\":\"/b\",\"annotations\":{\"a\":\"b\"}}";

static void test_format(void **state _unused_) {
        _cleanup_free_ char *text = oci_process_state_format(STATE, 42, "meta");
        json_t *o, *st;

        assert_non_null(text);
        o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "ociVersion")), "1.0.2");
        assert_int_equal(json_array_size(json_object_get(o, "fds")), 1);
        assert_string_equal(json_string_value(json_array_get(json_object_get(o, "fds"), 0)), "seccompFd");
        assert_int_equal(json_integer_value(json_object_get(o, "pid")), 42);
        assert_string_equal(json_string_value(json_object_get(o, "metadata")), "meta");
        st = json_object_get(o, "state");
        assert_true(json_is_object(st));
        assert_string_equal(json_string_value(json_object_get(st, "id")), "c1");
        assert_string_equal(json_string_value(json_object_get(st, "status")), "creating");
        assert_string_equal(json_string_value(json_object_get(json_object_get(st, "annotations"), "a")), "b");
        assert_int_equal(json_object_size(o), 5);
        json_decref(o);
}

static void test_format_no_metadata(void **state _unused_) {
        _cleanup_free_ char *text = oci_process_state_format(STATE, 7, NULL);
        json_t *o;

        assert_non_null(text);
        o = json_loads(text, 0, NULL);
        assert_non_null(o);
        assert_null(json_object_get(o, "metadata"));
        assert_int_equal(json_integer_value(json_object_get(o, "pid")), 7);
        json_decref(o);
}

static void test_format_bad_state(void **state _unused_) {
        errno = 0;
        assert_null(oci_process_state_format("[1]", 1, NULL));
        assert_int_equal(errno, EINVAL);
        assert_null(oci_process_state_format("{\"id\":", 1, NULL));
        assert_int_equal(errno, EINVAL);
}

/* An agent in a child: listens on path, takes one connection, reads the
 * fd and everything until EOF, checks both (the fd is the write end of
 * a pipe whose read end the parent reads "ok" from), exits 0. */
static int listen_at(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int l;

        strcpy(sa.sun_path, path);
        l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(l >= 0);
        assert_int_equal(bind(l, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(l, 1), 0);
        return l;
}

static pid_t agent(int l, const char *want) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                static char buf[1 << 20];
                size_t len;
                ssize_t n;
                int c, fd = -1;

                c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        _exit(1);
                n = fd_recv(c, buf, sizeof(buf), &fd, 1, 0);
                if (n <= 0)
                        _exit(2);
                for (len = (size_t) n; (n = read(c, buf + len, sizeof(buf) - len)) > 0; len += (size_t) n)
                        ;
                if (n < 0 || len != strlen(want) || memcmp(buf, want, len) != 0)
                        _exit(3);
                if (write(fd, "ok", 2) != 2)
                        _exit(4);
                _exit(0);
        }
        return pid;
}

static void deliver(size_t size) {
        char dir[] = "/tmp/test-seccomp-notify.XXXXXX", path[64], got[3] = "";
        _cleanup_free_ char *json = malloc(size + 1);
        int l, p[2], status;
        pid_t pid;

        assert_non_null(json);
        memset(json, 'x', size);
        json[0] = '{';
        json[size - 1] = '}';
        json[size] = '\0';
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/agent.sock", dir);
        l = listen_at(path);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = agent(l, json);
        close(l);

        assert_int_equal(oci_seccomp_agent_send(path, json, p[1]), 0);
        close(p[1]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(read(p[0], got, 2), 2);
        assert_string_equal(got, "ok");
        close(p[0]);
        unlink(path);
        rmdir(dir);
}

static void test_send(void **state _unused_) {
        deliver(200);
}

/* More than a socket buffer takes at once: the rest follows. */
static void test_send_large(void **state _unused_) {
        deliver(600 * 1024);
}

static void test_send_errors(void **state _unused_) {
        char dir[] = "/tmp/test-seccomp-notify.XXXXXX", path[64], longp[200];
        int p[2], l;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        snprintf(path, sizeof(path), "%s/none.sock", dir);
        assert_int_equal(oci_seccomp_agent_send(path, "{}", p[1]), -ENOENT);
        memset(longp, 'a', sizeof(longp) - 1);
        longp[0] = '/';
        longp[sizeof(longp) - 1] = '\0';
        assert_int_equal(oci_seccomp_agent_send(longp, "{}", p[1]), -ENAMETOOLONG);
        /* The agent's socket is there, but nobody listens any more. */
        snprintf(path, sizeof(path), "%s/gone.sock", dir);
        l = listen_at(path);
        close(l);
        assert_int_equal(oci_seccomp_agent_send(path, "{}", p[1]), -ECONNREFUSED);
        /* A regular file at the path. */
        unlink(path);
        close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
        assert_int_equal(oci_seccomp_agent_send(path, "{}", p[1]), -ECONNREFUSED);
        unlink(path);
        rmdir(dir);
        close(p[0]);
        close(p[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format),     cmocka_unit_test(test_format_no_metadata),
                cmocka_unit_test(test_format_bad_state), cmocka_unit_test(test_send),
                cmocka_unit_test(test_send_large), cmocka_unit_test(test_send_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
