/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state directory's entries (src/runtime/state.h): a name is refused
 * only while its owner holds the entry, never because a reader or the
 * cleanup of another start looks at it; stale and lockless leftovers are
 * taken over; the cleanup removes stale entries only. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "runtime/container.h"
#include "runtime/state.h"

static char dir[PATH_MAX], cgroot[PATH_MAX + 16], selfcg[PATH_MAX + 16];

static int setup(void **state _unused_) {
        FILE *f;

        snprintf(dir, sizeof(dir), "/tmp/test-state.XXXXXX");
        assert_non_null(mkdtemp(dir));
        /* No cgroup hierarchy: the cleanup's cgroup part finds nothing. */
        snprintf(cgroot, sizeof(cgroot), "%s/cgroup", dir);
        assert_int_equal(mkdir(cgroot, 0700), 0);
        snprintf(selfcg, sizeof(selfcg), "%s/self-cgroup", dir);
        f = fopen(selfcg, "w");
        assert_non_null(f);
        fputs("0::/\n", f);
        fclose(f);
        return 0;
}

static int teardown(void **state _unused_) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static bool exists(const char *name, const char *file) {
        char p[PATH_MAX * 2];
        snprintf(p, sizeof(p), "%s/containers/%s%s%s", dir, name, file ? "/" : "", file ?: "");
        return access(p, F_OK) == 0;
}

/* What a run killed with SIGKILL leaves: state, an unheld lock (and
 * `stopping` if it was being stopped); root/ too, from older versions. */
static void make_stale(const char *name, bool with_lock) {
        char p[PATH_MAX * 2];
        int fd;

        snprintf(p, sizeof(p), "%s/containers", dir);
        (void) mkdir(p, 0700);
        snprintf(p, sizeof(p), "%s/containers/%s", dir, name);
        assert_int_equal(mkdir(p, 0700), 0);
        snprintf(p, sizeof(p), "%s/containers/%s/root", dir, name);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/containers/%s/state.json", dir, name);
        fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "{\"cgroups\":[]}", 14), 14);
        close(fd);
        snprintf(p, sizeof(p), "%s/containers/%s/stopping", dir, name);
        close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        if (with_lock) {
                snprintf(p, sizeof(p), "%s/containers/%s/lock", dir, name);
                close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        }
}

static int open_lock(const char *name) {
        char p[PATH_MAX * 2];
        snprintf(p, sizeof(p), "%s/containers/%s/lock", dir, name);
        return open(p, O_RDONLY | O_CLOEXEC);
}

static void test_create_live_remove(void **state _unused_) {
        StateEntry a, b;
        int fd;

        assert_int_equal(state_entry_create(dir, "one", &a), 0);
        assert_true(exists("one", "lock"));
        /* The root is built on the entry's directory itself. */
        assert_false(exists("one", "root"));
        /* The owner holds the lock: nobody else can share it. */
        fd = open_lock("one");
        assert_true(fd >= 0);
        assert_int_equal(flock(fd, LOCK_SH | LOCK_NB), -1);
        close(fd);
        assert_int_equal(state_entry_create(dir, "one", &b), -EEXIST);
        assert_true(exists("one", "lock"));
        /* The cleanup leaves a live entry alone. */
        assert_int_equal(state_cleanup_stale(dir, cgroot, selfcg), 0);
        assert_true(exists("one", "lock"));
        state_entry_remove(&a);
        assert_false(exists("one", NULL));
        assert_int_equal(state_entry_create(dir, "one", &a), 0);
        state_entry_remove(&a);
}

static ino_t ino_of(const char *name, const char *file) {
        char p[PATH_MAX * 2];
        struct stat st;

        snprintf(p, sizeof(p), "%s/containers/%s/%s", dir, name, file);
        assert_int_equal(stat(p, &st), 0);
        return st.st_ino;
}

static bool state_says(const char *name, const char *what) {
        char p[PATH_MAX * 2], buf[4096];
        ssize_t n;
        int fd;

        snprintf(p, sizeof(p), "%s/containers/%s/state.json", dir, name);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        assert_true(n > 0);
        buf[n] = '\0';
        return strstr(buf, what) != NULL;
}

/* The first state.json is the lock file under a second name (no inode of
 * its own); the next write replaces that name with a file of its own, and
 * the lock stays the owner's, held; once retired, only state.json goes. */
static void test_write_retire(void **state _unused_) {
        const char *const cgroups[] = { NULL };
        ContainerConfig c;
        StateEntry a;
        struct stat st;
        int fd;

        container_config_init(&c);
        assert_int_equal(state_entry_create(dir, "w", &a), 0);
        assert_false(exists("w", "state.json"));
        assert_int_equal(state_entry_write(&a, &c, 100, 0, cgroups, 0), 0);
        assert_true(exists("w", "state.json"));
        assert_true(ino_of("w", "state.json") == ino_of("w", "lock"));
        assert_true(state_says("w", "\"init_pid\":0"));
        assert_int_equal(state_entry_write(&a, &c, 100, 4242, cgroups, 0), 0);
        assert_true(ino_of("w", "state.json") != ino_of("w", "lock"));
        assert_true(state_says("w", "\"init_pid\":4242"));
        assert_int_equal(fstat(a.lock_fd, &st), 0);
        assert_true(st.st_ino == ino_of("w", "lock"));
        fd = open_lock("w");
        assert_true(fd >= 0);
        assert_int_equal(flock(fd, LOCK_SH | LOCK_NB), -1);
        close(fd);
        state_entry_retire(&a);
        assert_false(exists("w", "state.json"));
        assert_true(exists("w", "lock"));
        assert_int_equal(state_entry_create(dir, "w", &a), -EEXIST);
        state_entry_remove(&a);
        assert_false(exists("w", NULL));
        container_config_done(&c);
}

static void test_stale_taken_over(void **state _unused_) {
        StateEntry e;

        make_stale("two", true);
        assert_int_equal(state_entry_create(dir, "two", &e), 0);
        assert_false(exists("two", "state.json"));
        assert_false(exists("two", "stopping"));
        assert_false(exists("two", "root")); /* an older run's */
        assert_true(exists("two", "lock"));
        state_entry_remove(&e);
        assert_false(exists("two", NULL));
}

/* A reader (ps, stop, the cleanup) looking at a stale entry at the moment a
 * start of its name comes: the start goes ahead. */
static void test_reader_is_no_owner(void **state _unused_) {
        StateEntry e;
        int fd;

        make_stale("three", true);
        fd = open_lock("three");
        assert_true(fd >= 0);
        assert_int_equal(flock(fd, LOCK_SH | LOCK_NB), 0);
        assert_int_equal(state_entry_create(dir, "three", &e), 0);
        close(fd);
        assert_false(exists("three", "state.json"));
        state_entry_remove(&e);
}

/* What a run killed while it removed its entry (or an older version) left:
 * a directory without a lock.  The next start of the name takes it; the
 * cleanup (which cannot tell it from an owner removing its entry) does not. */
static void test_lockless(void **state _unused_) {
        StateEntry e;

        make_stale("four", false);
        assert_int_equal(state_cleanup_stale(dir, cgroot, selfcg), 0);
        assert_true(exists("four", "state.json"));
        assert_int_equal(state_entry_create(dir, "four", &e), 0);
        assert_false(exists("four", "state.json"));
        assert_true(exists("four", "lock"));
        state_entry_remove(&e);
}

static void test_cleanup(void **state _unused_) {
        StateEntry live;
        char p[PATH_MAX * 2];

        make_stale("five", true);
        make_stale("six", true);
        assert_int_equal(state_entry_create(dir, "seven", &live), 0);
        /* A start killed before its entry got its name. */
        snprintf(p, sizeof(p), "%s/containers/.new-abcdef", dir);
        assert_int_equal(mkdir(p, 0700), 0);
        snprintf(p, sizeof(p), "%s/containers/.new-abcdef/lock", dir);
        close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        assert_int_equal(state_cleanup_stale(dir, cgroot, selfcg), 3);
        assert_false(exists("five", NULL));
        assert_false(exists("six", NULL));
        assert_false(exists(".new-abcdef", NULL));
        assert_true(exists("seven", "lock"));
        state_entry_remove(&live);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_create_live_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_retire, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stale_taken_over, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reader_is_no_owner, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lockless, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cleanup, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
