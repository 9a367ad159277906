/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one OCI hook runner (runtime/oci-hooks.c): the state on the hook's
 * stdin, its args and env, how a failure is told (exit status, signal,
 * timeout, a program that cannot be executed), and the cancel fd that
 * stops a hook that would run on. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "runtime/oci-hooks.h"

static char dir[] = "/tmp/test-oci-hooks.XXXXXX";

static int setup(void **state) {
        (void) state;
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        char cmd[128];
        (void) state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static int run_sh(const char *script, char *const *env, int timeout, int cancel_fd, char *msg, size_t size) {
        char *const args[] = { "sh", "-c", (char *) script, NULL };
        const char *state = "{\"ociVersion\":\"1.0.2\",\"id\":\"x\"}";

        return oci_hook_run(&(OciHookRun){ .path = "/bin/sh", .args = args, .env = env, .timeout = timeout,
                                           .ns_pidfd = -1, .cancel_fd = cancel_fd },
                            state, strlen(state), msg, size);
}

static void test_state_args_env(void **state) {
        char script[512], path[300], msg[512] = "", *text = NULL;
        char *const env[] = { "HOOKVAR=seen", NULL };
        size_t len = 0;

        (void) state;
        /* Ours is not the hook's: it gets its own env only. */
        assert_int_equal(setenv("OUTERVAR", "leaked", 1), 0);
        snprintf(path, sizeof(path), "%s/out", dir);
        snprintf(script, sizeof(script), "{ cat; echo; echo \"$0 $HOOKVAR ${OUTERVAR:-none}\"; } > '%s'", path);
        assert_int_equal(run_sh(script, env, 0, -1, msg, sizeof(msg)), 0);
        assert_int_equal(read_file_at(AT_FDCWD, path, 4096, &text, &len), 0);
        assert_string_equal(text, "{\"ociVersion\":\"1.0.2\",\"id\":\"x\"}\nsh seen none\n");
        free(text);
}

static void test_exit_status(void **state) {
        char msg[512] = "";

        (void) state;
        assert_int_equal(run_sh("exit 4", NULL, 0, -1, msg, sizeof(msg)), -EIO);
        assert_string_equal(msg, "hook '/bin/sh' exited with 4");
        assert_int_equal(run_sh("kill -TERM $$", NULL, 5, -1, msg, sizeof(msg)), -EIO);
        assert_string_equal(msg, "hook '/bin/sh' was killed by signal 15");
}

static void test_not_executable(void **state) {
        char msg[512] = "";

        (void) state;
        assert_int_equal(oci_hook_run(&(OciHookRun){ .path = "/nonexistent/hook", .ns_pidfd = -1,
                                                     .cancel_fd = -1 },
                                      "{}", 2, msg, sizeof(msg)),
                         -EIO);
        assert_string_equal(msg, "hook '/nonexistent/hook' exited with 127");
}

static void test_timeout(void **state) {
        char msg[512] = "";
        uint64_t t0 = now_ms();

        (void) state;
        assert_int_equal(run_sh("exec sleep 30", NULL, 1, -1, msg, sizeof(msg)), -ETIMEDOUT);
        assert_string_equal(msg, "hook '/bin/sh' timed out after 1 s");
        assert_true(now_ms() - t0 < 10000);
}

static void test_cancel(void **state) {
        char msg[512] = "";
        int p[2];
        uint64_t t0;
        pid_t writer;

        (void) state;
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        /* Readable 200 ms into a hook that would sleep 30 s (and has no
         * timeout of its own). */
        writer = fork();
        assert_true(writer >= 0);
        if (writer == 0) {
                usleep(200 * 1000);
                (void) !write(p[1], "x", 1);
                _exit(0);
        }
        t0 = now_ms();
        assert_int_equal(run_sh("exec sleep 30", NULL, 0, p[0], msg, sizeof(msg)), -EINTR);
        assert_string_equal(msg, "hook '/bin/sh' interrupted");
        assert_true(now_ms() - t0 < 10000);
        /* A hook that ends first is not cancelled by a readable fd later. */
        assert_int_equal(run_sh("exit 0", NULL, 0, -1, msg, sizeof(msg)), 0);
        close(p[0]);
        close(p[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_state_args_env),
                cmocka_unit_test(test_exit_status),
                cmocka_unit_test(test_not_executable),
                cmocka_unit_test(test_timeout),
                cmocka_unit_test(test_cancel),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
