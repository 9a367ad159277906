/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/proc-stat.h"

/* A child whose command name would end the parse early if it were read up
 * to the first ')' or split at spaces. */
static pid_t start_child(int go[2]) {
        pid_t pid;
        char byte;

        assert_int_equal(pipe(go), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(go[0]);
                (void) prctl(PR_SET_NAME, "x) Z 1 (y", 0, 0, 0);
                byte = 1;
                if (write(go[1], &byte, 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        close(go[1]);
        assert_int_equal(read(go[0], &byte, 1), 1);
        close(go[0]);
        return pid;
}

static void test_child(void **state) {
        ProcStat self, child, again;
        int go[2];
        pid_t pid = start_child(go);

        assert_int_equal(proc_stat_read(getpid(), &self), 0);
        assert_int_equal(proc_stat_read(pid, &child), 0);
        assert_int_equal(child.ppid, getpid());
        assert_true(child.state == 'S' || child.state == 'R');
        assert_false(proc_stat_is_zombie(&child));
        assert_true(child.start_time >= self.start_time);
        assert_int_equal(self.ppid, getppid());

        /* Killed and not reaped: a zombie with the same start time. */
        assert_int_equal(kill(pid, SIGKILL), 0);
        for (int i = 0; i < 5000; i++) {
                assert_int_equal(proc_stat_read(pid, &again), 0);
                if (proc_stat_is_zombie(&again))
                        break;
                usleep(1000);
        }
        assert_true(proc_stat_is_zombie(&again));
        assert_true(again.start_time == child.start_time);

        assert_int_equal(waitpid(pid, NULL, 0), pid);
        assert_int_equal(proc_stat_read(pid, &again), -ESRCH);
}

static void test_no_process(void **state) {
        ProcStat st;

        assert_int_equal(proc_stat_read(0, &st), -ESRCH);
        assert_int_equal(proc_stat_read(-1, &st), -ESRCH);
        /* Above pid_max (at most 2^22). */
        assert_int_equal(proc_stat_read(1 << 23, &st), -ESRCH);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_child),
                cmocka_unit_test(test_no_process),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
