/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for an invocation's own cgroup (cgroup-sub.c) on fake v1 and
 * v2 trees: creation below every parent, the rounds that end it (stopping
 * forks, what is signalled, what is counted), removal, and leftovers. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "runtime/cgroup-internal.h"

/* ---- a fake kernel: the interface files a new cgroup gets ---- */

static bool fake_v2;
static bool fake_no_kill; /* v2 without cgroup.kill (before Linux 5.14) */

static void put(int dirfd, const char *name, const char *content) {
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        close(fd);
}

static int fake_mkdir(const CgroupOps *ops _unused_, int dirfd, const char *name) {
        _cleanup_close_ int fd = -1;

        if (mkdirat(dirfd, name, 0755) < 0)
                return -errno;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        put(fd, "cgroup.procs", "");
        if (fake_v2) {
                /* No controller: a container's cgroup enables none below. */
                put(fd, "cgroup.freeze", "0");
                if (!fake_no_kill)
                        put(fd, "cgroup.kill", "");
        } else
                put(fd, "pids.max", "max");
        return 0;
}

static int fake_rmdir(const CgroupOps *ops _unused_, int dirfd, const char *name) {
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *procs = NULL;

        if (fd < 0)
                return -errno;
        assert_int_equal(read_file_at(fd, "cgroup.procs", 4096, &procs, NULL), 0);
        if (procs[0])
                return -EBUSY; /* processes in it */
        (void) unlinkat(fd, "cgroup.procs", 0);
        (void) unlinkat(fd, "cgroup.freeze", 0);
        (void) unlinkat(fd, "cgroup.kill", 0);
        (void) unlinkat(fd, "pids.max", 0);
        return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

static const CgroupOps fake_ops = { .mkdir = fake_mkdir, .rmdir = fake_rmdir };

/* ---- a tree with two container cgroup directories (v1: memory, pids) ---- */

typedef struct Tree {
        char root[64];
        char p0[128], p1[128];
        char *parents[3];
} Tree;

static int setup(void **state, bool v2) {
        Tree *t = calloc(1, sizeof(*t));
        int fd;

        fake_v2 = v2;
        fake_no_kill = false;
        snprintf(t->root, sizeof(t->root), "/tmp/test-cgroup-sub.XXXXXX");
        assert_non_null(mkdtemp(t->root));
        fd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(fake_mkdir(&fake_ops, fd, "c0"), 0);
        snprintf(t->p0, sizeof(t->p0), "%s/c0", t->root);
        t->parents[0] = t->p0;
        if (!v2) {
                assert_int_equal(fake_mkdir(&fake_ops, fd, "c1"), 0);
                snprintf(t->p1, sizeof(t->p1), "%s/c1", t->root);
                t->parents[1] = t->p1;
        }
        close(fd);
        *state = t;
        return 0;
}

static int setup_v1(void **state) {
        return setup(state, false);
}

static int setup_v2(void **state) {
        return setup(state, true);
}

static int teardown(void **state) {
        Tree *t = *state;
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
        assert_int_equal(system(cmd), 0);
        free(t);
        return 0;
}

static char *get(const char *dir, const char *file) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char *s = NULL;

        assert_true(fd >= 0);
        assert_int_equal(read_file_at(fd, file, 4096, &s, NULL), 0);
        return s;
}

static void set(const char *dir, const char *file, const char *content) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_true(fd >= 0);
        put(fd, file, content);
}

static bool is_dir(const char *path) {
        struct stat st;

        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static pid_t sleeper(void) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                for (;;)
                        pause();
        }
        return pid;
}

static bool died_of_sigkill(pid_t pid) {
        int status;

        assert_int_equal(waitpid(pid, &status, 0), pid);
        return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/* ---- tests ---- */

static void test_names(void **state _unused_) {
        assert_true(cgroup_sub_name_is_valid(CGROUP_SUB_PREFIX "12-3"));
        assert_false(cgroup_sub_name_is_valid(CGROUP_SUB_PREFIX));
        assert_false(cgroup_sub_name_is_valid(CGROUP_SUB_PREFIX "1/../x"));
        assert_false(cgroup_sub_name_is_valid(CGROUP_SUB_PREFIX ".."));
        assert_false(cgroup_sub_name_is_valid("web"));
        assert_false(cgroup_sub_name_is_valid("cgroup.procs"));
}

/* An app that left nothing behind: the first round removes its empty
 * directories at once (no pids.max written, nothing listed); one that is
 * not empty in one hierarchy is ended the usual way there, the empty one
 * is gone already.  Then the attach files (tasks on v1). */
static void test_empty_removed_at_once(void **state) {
        Tree *t = *state;
        CgroupSub *s = NULL;
        char d0[256], d1[256], list[64];
        _cleanup_free_ char *max1 = NULL;
        int fds[4];
        size_t n = 0;
        pid_t left;

        assert_int_equal(cgroup_sub_create_ops(&fake_ops, t->parents, CGROUP_SUB_PREFIX "2-1", &s), 0);
        snprintf(d0, sizeof(d0), "%s/" CGROUP_SUB_PREFIX "2-1", t->p0);
        snprintf(d1, sizeof(d1), "%s/" CGROUP_SUB_PREFIX "2-1", t->p1);
        /* v1's attach file, which the fake tree does not make. */
        set(d0, "tasks", "");
        set(d1, "tasks", "");
        assert_int_equal(cgroup_sub_attach_files(s, fds, 1, &n), -E2BIG);
        assert_int_equal(cgroup_sub_attach_files(s, fds, ELEMENTSOF(fds), &n), 0);
        assert_int_equal(n, 2);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(fcntl(fds[i], F_GETFL) & O_ACCMODE, O_WRONLY);
                assert_true(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
                close(fds[i]);
        }
        for (int i = 0; i < 2; i++) {
                char tasks[300];
                snprintf(tasks, sizeof(tasks), "%s/tasks", i == 0 ? d0 : d1);
                assert_int_equal(unlink(tasks), 0);
        }
        assert_int_equal(cgroup_sub_kill(s, 0), 0);
        assert_false(is_dir(d0));
        assert_false(is_dir(d1));
        assert_int_equal(cgroup_sub_remove(s), 0);
        assert_int_equal(cgroup_sub_killed(s), 0);
        cgroup_sub_free(s);

        /* A process left in the second hierarchy only. */
        left = sleeper();
        assert_int_equal(cgroup_sub_create_ops(&fake_ops, t->parents, CGROUP_SUB_PREFIX "2-2", &s), 0);
        snprintf(d0, sizeof(d0), "%s/" CGROUP_SUB_PREFIX "2-2", t->p0);
        snprintf(d1, sizeof(d1), "%s/" CGROUP_SUB_PREFIX "2-2", t->p1);
        snprintf(list, sizeof(list), "%d\n", (int) left);
        set(d1, "cgroup.procs", list);
        assert_int_equal(cgroup_sub_kill(s, 0), 1);
        assert_false(is_dir(d0));
        assert_true(is_dir(d1));
        max1 = get(d1, "pids.max");
        assert_string_equal(max1, "0");
        assert_true(died_of_sigkill(left));
        set(d1, "cgroup.procs", "");
        assert_int_equal(cgroup_sub_kill(s, 0), 0);
        assert_int_equal(cgroup_sub_remove(s), 0);
        assert_false(is_dir(d1));
        assert_int_equal(cgroup_sub_killed(s), 1);
        cgroup_sub_free(s);
}

/* v1: a directory below each parent; forks stopped through pids.max; what
 * is listed is SIGKILLed, the app itself not counted as a leftover. */
static void test_v1_create_kill_remove(void **state) {
        Tree *t = *state;
        CgroupSub *s = NULL;
        char d0[256], d1[256], list[64];
        _cleanup_free_ char *max0 = NULL, *max1 = NULL;
        pid_t app = sleeper(), child = sleeper();

        assert_int_equal(cgroup_sub_create_ops(&fake_ops, t->parents, "web", &s), -EINVAL);
        assert_int_equal(cgroup_sub_create_ops(&fake_ops, t->parents, CGROUP_SUB_PREFIX "1-1", &s), 0);
        snprintf(d0, sizeof(d0), "%s/" CGROUP_SUB_PREFIX "1-1", t->p0);
        snprintf(d1, sizeof(d1), "%s/" CGROUP_SUB_PREFIX "1-1", t->p1);
        assert_true(is_dir(d0));
        assert_true(is_dir(d1));
        assert_string_equal(cgroup_sub_paths(s)[0], d0);
        assert_string_equal(cgroup_sub_paths(s)[1], d1);
        assert_null(cgroup_sub_paths(s)[2]);

        /* the same name again: taken */
        CgroupSub *again = NULL;
        assert_int_equal(cgroup_sub_create_ops(&fake_ops, t->parents, CGROUP_SUB_PREFIX "1-1", &again), -EEXIST);
        assert_true(is_dir(d0));

        snprintf(list, sizeof(list), "%d\n%d\n", (int) app, (int) child);
        set(d0, "cgroup.procs", list);
        set(d1, "cgroup.procs", list);
        assert_int_equal(cgroup_sub_kill(s, app), 4);
        max0 = get(d0, "pids.max");
        max1 = get(d1, "pids.max");
        assert_string_equal(max0, "0");
        assert_string_equal(max1, "0");
        assert_true(died_of_sigkill(app));
        assert_true(died_of_sigkill(child));
        assert_int_equal(cgroup_sub_killed(s), 1);

        /* not empty yet: removal waits */
        assert_int_equal(cgroup_sub_remove(s), -EBUSY);
        assert_true(is_dir(d0) || is_dir(d1));
        set(d0, "cgroup.procs", "");
        set(d1, "cgroup.procs", "");
        assert_int_equal(cgroup_sub_kill(s, app), 0);
        assert_int_equal(cgroup_sub_remove(s), 0);
        assert_false(is_dir(d0));
        assert_false(is_dir(d1));
        assert_true(is_dir(t->p0));
        assert_int_equal(cgroup_sub_remove(s), 0);
        cgroup_sub_free(s);
}

/* v2: cgroup.kill where there is one (everything at once), else the
 * cgroup is frozen and what is listed killed. */
static void test_v2_kill_file_and_freeze(void **state) {
        Tree *t = *state;
        CgroupSub *s = NULL;
        char d[256], list[64];
        _cleanup_free_ char *kill_file = NULL, *frozen = NULL;
        pid_t app = sleeper(), child = sleeper();

        assert_int_equal(cgroup_sub_create_ops(&fake_ops, t->parents, CGROUP_SUB_PREFIX "3-1", &s), 0);
        snprintf(d, sizeof(d), "%s/" CGROUP_SUB_PREFIX "3-1", t->p0);
        assert_null(cgroup_sub_paths(s)[1]);
        snprintf(list, sizeof(list), "%d\n%d\n", (int) app, (int) child);
        set(d, "cgroup.procs", list);
        assert_int_equal(cgroup_sub_kill(s, app), 2);
        kill_file = get(d, "cgroup.kill");
        assert_string_equal(kill_file, "1");
        frozen = get(d, "cgroup.freeze");
        assert_string_equal(frozen, "0"); /* not needed with cgroup.kill */
        assert_int_equal(cgroup_sub_killed(s), 1);
        set(d, "cgroup.procs", "");
        assert_int_equal(cgroup_sub_kill(s, app), 0);
        assert_int_equal(cgroup_sub_remove(s), 0);
        assert_false(is_dir(d));
        s = cgroup_sub_free(s);

        /* no cgroup.kill: frozen, then each one signalled */
        fake_no_kill = true;
        assert_int_equal(cgroup_sub_create_ops(&fake_ops, t->parents, CGROUP_SUB_PREFIX "3-2", &s), 0);
        snprintf(d, sizeof(d), "%s/" CGROUP_SUB_PREFIX "3-2", t->p0);
        set(d, "cgroup.procs", list);
        assert_int_equal(cgroup_sub_kill(s, app), 2);
        free(frozen);
        frozen = get(d, "cgroup.freeze");
        assert_string_equal(frozen, "1");
        assert_true(died_of_sigkill(app));
        assert_true(died_of_sigkill(child));
        set(d, "cgroup.procs", "");
        assert_int_equal(cgroup_sub_remove(s), 0);
        cgroup_sub_free(s);
}

/* Creation is all or nothing: a parent that is missing leaves nothing
 * below the others. */
static void test_create_rollback(void **state) {
        Tree *t = *state;
        CgroupSub *s = NULL;
        char *parents[] = { t->p0, (char *) "/nonexistent/c1", NULL };
        char d0[256];

        assert_int_equal(cgroup_sub_create_ops(&fake_ops, parents, CGROUP_SUB_PREFIX "4", &s), -ENOENT);
        snprintf(d0, sizeof(d0), "%s/" CGROUP_SUB_PREFIX "4", t->p0);
        assert_false(is_dir(d0));
        assert_null(s);
}

/* Leftovers of a broker that died: every invocation cgroup below any
 * parent is emptied and removed, nothing else. */
static void test_remove_stale(void **state) {
        Tree *t = *state;
        CgroupSub *a = NULL, *b = NULL;
        unsigned killed = 99;
        char d[256], other[256], list[32];
        pid_t p = sleeper();
        int fd;

        assert_int_equal(cgroup_sub_remove_stale_ops(&fake_ops, t->parents, &killed), 0);
        assert_int_equal(killed, 0);
        assert_int_equal(cgroup_sub_create_ops(&fake_ops, t->parents, CGROUP_SUB_PREFIX "5-1", &a), 0);
        assert_int_equal(cgroup_sub_create_ops(&fake_ops, t->parents, CGROUP_SUB_PREFIX "5-2", &b), 0);
        a = cgroup_sub_free(a);
        b = cgroup_sub_free(b);
        fd = open(t->p0, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(fake_mkdir(&fake_ops, fd, "mine"), 0);
        close(fd);
        snprintf(other, sizeof(other), "%s/mine", t->p0);

        /* A process in one of them is killed; the fake kernel never lets
         * it go, so after the bounded wait that one stays (-EBUSY). */
        snprintf(d, sizeof(d), "%s/" CGROUP_SUB_PREFIX "5-1", t->p1);
        snprintf(list, sizeof(list), "%d\n", (int) p);
        set(d, "cgroup.procs", list);
        assert_int_equal(cgroup_sub_remove_stale_ops(&fake_ops, t->parents, &killed), -EBUSY);
        assert_int_equal(killed, 1);
        assert_true(died_of_sigkill(p));
        assert_true(is_dir(d));

        /* once it is empty, both go, and only they */
        set(d, "cgroup.procs", "");
        assert_int_equal(cgroup_sub_remove_stale_ops(&fake_ops, t->parents, &killed), 1);
        assert_false(is_dir(d));
        snprintf(d, sizeof(d), "%s/" CGROUP_SUB_PREFIX "5-2", t->p0);
        assert_false(is_dir(d));
        assert_true(is_dir(other));
        assert_int_equal(cgroup_sub_remove_stale_ops(&fake_ops, t->parents, &killed), 0);
}

/* An ended app's cgroup used again: as long as nothing is in it (no
 * process listed in any directory, no cgroup below any) and no round
 * stopped or signalled anything there; its attach files are opened once. */
static void test_reusable(void **state) {
        Tree *t = *state;
        CgroupSub *s = NULL;
        char d0[256], d1[256], child[300], list[32];
        const int *fds = NULL, *again = NULL;
        size_t n = 0, n_again = 0;
        pid_t p;

        assert_int_equal(cgroup_sub_create_ops(&fake_ops, t->parents, CGROUP_SUB_PREFIX "6-1", &s), 0);
        snprintf(d0, sizeof(d0), "%s/" CGROUP_SUB_PREFIX "6-1", t->p0);
        snprintf(d1, sizeof(d1), "%s/" CGROUP_SUB_PREFIX "6-1", t->p1);
        set(d0, "tasks", "");
        set(d1, "tasks", "");
        assert_int_equal(cgroup_sub_attach_fds(s, &fds, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(cgroup_sub_attach_fds(s, &again, &n_again), 0);
        assert_int_equal(n_again, 2);
        assert_ptr_equal(fds, again);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(fcntl(fds[i], F_GETFL) & O_ACCMODE, O_WRONLY);
        /* (the fake rmdir leaves a tasks file) */
        for (int i = 0; i < 2; i++) {
                char tasks[300];
                snprintf(tasks, sizeof(tasks), "%s/tasks", i == 0 ? d0 : d1);
                assert_int_equal(unlink(tasks), 0);
        }

        assert_int_equal(cgroup_sub_reusable(s), 1);
        /* a process in one hierarchy */
        snprintf(list, sizeof(list), "%d\n", (int) getpid());
        set(d1, "cgroup.procs", list);
        assert_int_equal(cgroup_sub_reusable(s), 0);
        set(d1, "cgroup.procs", "");
        assert_int_equal(cgroup_sub_reusable(s), 1);
        /* a cgroup below one */
        snprintf(child, sizeof(child), "%s/x", d0);
        assert_int_equal(mkdir(child, 0755), 0);
        assert_int_equal(cgroup_sub_reusable(s), 0);
        assert_int_equal(rmdir(child), 0);
        assert_int_equal(cgroup_sub_reusable(s), 1);
        /* still there, not removed */
        assert_true(is_dir(d0));
        assert_true(is_dir(d1));

        /* Once a round stopped forks in it (something was left), never
         * again, even when it is empty by now. */
        p = sleeper();
        snprintf(list, sizeof(list), "%d\n", (int) p);
        set(d1, "cgroup.procs", list);
        assert_true(cgroup_sub_kill(s, 0) > 0);
        assert_true(died_of_sigkill(p));
        set(d1, "cgroup.procs", "");
        assert_int_equal(cgroup_sub_reusable(s), 0);
        assert_int_equal(cgroup_sub_kill(s, 0), 0);
        assert_int_equal(cgroup_sub_remove(s), 0);
        assert_false(is_dir(d0));
        assert_false(is_dir(d1));
        assert_int_equal(cgroup_sub_reusable(s), 0);
        cgroup_sub_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test_setup_teardown(test_v1_create_kill_remove, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_empty_removed_at_once, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_v2_kill_file_and_freeze, setup_v2, teardown),
                cmocka_unit_test_setup_teardown(test_create_rollback, setup_v2, teardown),
                cmocka_unit_test_setup_teardown(test_remove_stale, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_reusable, setup_v1, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
