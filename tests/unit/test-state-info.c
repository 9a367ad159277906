/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state reader: parsing state.json and supervisor.json, live and stale
 * entries (a lock held by another process), listing, the `stopping` marker,
 * and opening a container's init only while it is the owner's child. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "common/proc-stat.h"
#include "runtime/state-info.h"

static const char sample[] =
        "{\"name\":\"x\",\"group\":null,\"owner_pid\":24349,\"init_pid\":24351,"
        "\"cgroups\":[\"/sys/fs/cgroup/memory/a/shuttle/x\",\"/sys/fs/cgroup/pids/shuttle/x\"],"
        "\"created\":1795327580,\"command\":[\"sleep\",\"1\"],\"hostname\":null,\"rootfs\":null,"
        "\"limits\":{\"memory\":67108864,\"pids\":16,\"cpu_quota_usec\":50000,\"cpu_period_usec\":100000},"
        "\"net\":\"loopback\",\"has_user\":true,\"uid\":1000,\"gid\":100,\"caps\":\"00000000800405fb\","
        "\"workdir\":\"/srv\",\"rlimits\":[\"nofile=512:1024\",\"core=0:unlimited\"],\"shim\":true}";

static void test_parse(void **state _unused_) {
        StateInfo s = {};

        assert_int_equal(state_info_parse(sample, &s), 0);
        assert_string_equal(s.name, "x");
        assert_null(s.group);
        assert_int_equal(s.owner_pid, 24349);
        assert_int_equal(s.init_pid, 24351);
        assert_non_null(s.cgroups);
        assert_string_equal(s.cgroups[0], "/sys/fs/cgroup/memory/a/shuttle/x");
        assert_string_equal(s.cgroups[1], "/sys/fs/cgroup/pids/shuttle/x");
        assert_null(s.cgroups[2]);
        assert_int_equal(s.created, 1795327580);
        assert_string_equal(s.command[0], "sleep");
        assert_string_equal(s.command[1], "1");
        assert_null(s.command[2]);
        assert_null(s.hostname);
        assert_null(s.rootfs);
        assert_int_equal(s.limits.memory_bytes, 64 << 20);
        assert_int_equal(s.limits.pids_max, 16);
        assert_int_equal(s.limits.cpu_quota_usec, 50000);
        assert_int_equal(s.limits.cpu_period_usec, 100000);
        assert_string_equal(s.net, "loopback");
        assert_true(s.has_user);
        assert_int_equal(s.uid, 1000);
        assert_int_equal(s.gid, 100);
        assert_int_equal(s.caps, UINT64_C(0x800405fb));
        assert_string_equal(s.workdir, "/srv");
        assert_int_equal(s.n_rlimits, 2);
        assert_int_equal(s.rlimits[0].resource, RLIMIT_NOFILE);
        assert_int_equal(s.rlimits[0].limit.rlim_cur, 512);
        assert_int_equal(s.rlimits[0].limit.rlim_max, 1024);
        assert_int_equal(s.rlimits[1].resource, RLIMIT_CORE);
        assert_true(s.rlimits[1].limit.rlim_max == RLIM_INFINITY);
        assert_true(s.shim);
        assert_false(s.alive);
        state_info_done(&s);
        assert_null(s.name);
}

static void test_parse_defaults(void **state _unused_) {
        StateInfo s = {};

        assert_int_equal(state_info_parse("{\"name\":\"web\",\"group\":\"app\",\"init_pid\":0}", &s), 0);
        assert_string_equal(s.group, "app");
        assert_int_equal(s.init_pid, 0);
        assert_non_null(s.cgroups);
        assert_null(s.cgroups[0]);
        assert_non_null(s.command);
        assert_string_equal(s.workdir, "/");
        assert_int_equal(s.limits.memory_bytes, 0);
        state_info_done(&s);
}

static void test_parse_bad(void **state _unused_) {
        static const char *const bad[] = {
                "",
                "not json",
                "[]",
                "{}",
                "{\"name\":\"../etc\"}",
                "{\"name\":7}",
                "{\"name\":\"x\",\"init_pid\":-1}",
                "{\"name\":\"x\",\"init_pid\":\"12\"}",
                "{\"name\":\"x\",\"command\":\"sleep 1\"}",
                "{\"name\":\"x\",\"command\":[\"a\",1]}",
                "{\"name\":\"x\",\"caps\":\"zz\"}",
                "{\"name\":\"x\",\"caps\":12}",
                "{\"name\":\"x\",\"limits\":{\"memory\":-5}}",
                "{\"name\":\"x\",\"has_user\":1}",
                "{\"name\":\"x\",\"shim\":\"yes\"}",
                "{\"name\":\"x\",\"rlimits\":\"nofile=1\"}",
                "{\"name\":\"x\",\"rlimits\":[\"nofiles=1\"]}",
                "{\"name\":\"x\",\"rlimits\":[\"nofile=2:1\"]}",
                "{\"name\":\"x\",\"rlimits\":[7]}",
                "{\"name\":\"x\",\"name\":\"y\"}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                StateInfo s = { .name = (char *) "untouched" };
                assert_int_equal(state_info_parse(bad[i], &s), -EBADMSG);
                assert_string_equal(s.name, "untouched");
        }
}

static void test_group_parse(void **state _unused_) {
        GroupInfo g = {};

        assert_int_equal(group_info_parse("{\"group\":\"webapp\",\"pid\":42,\"containers\":[\"db\",\"web\"]}", &g),
                         0);
        assert_string_equal(g.group, "webapp");
        assert_int_equal(g.pid, 42);
        assert_string_equal(g.containers[0], "db");
        assert_string_equal(g.containers[1], "web");
        assert_null(g.containers[2]);
        assert_null(g.file);
        group_info_done(&g);
        /* The group file, where a reload re-reads the group's policy: only
         * an absolute name is taken (an older supervisor wrote the one it
         * was given, relative to a directory nobody knows now). */
        assert_int_equal(group_info_parse("{\"group\":\"webapp\",\"pid\":42,\"file\":\"/srv/webapp/group.yaml\"}", &g),
                         0);
        assert_string_equal(g.file, "/srv/webapp/group.yaml");
        group_info_done(&g);
        assert_int_equal(group_info_parse("{\"group\":\"webapp\",\"pid\":42,\"file\":\"webapp/group.yaml\"}", &g), 0);
        assert_null(g.file);
        group_info_done(&g);
        assert_int_equal(group_info_parse("{\"group\":\"webapp\",\"pid\":42,\"file\":7}", &g), -EBADMSG);
        assert_int_equal(group_info_parse("{\"group\":\"a/b\",\"pid\":1}", &g), -EBADMSG);
        assert_int_equal(group_info_parse("{\"pid\":1}", &g), -EBADMSG);
}

/* ---- on disk ---- */

static char dir[] = "/tmp/test-state-info.XXXXXX";

static void put(const char *rel, const char *content) {
        char path[PATH_MAX], *slash;
        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        slash = strrchr(path, '/');
        *slash = '\0';
        assert_int_equal(mkdir_p_at(AT_FDCWD, path, 0700), 0);
        *slash = '/';
        assert_int_equal(touch_at(AT_FDCWD, path, 0600), 0);
        assert_int_equal(write_file_at(AT_FDCWD, path, content), 0);
}

/* A child that holds LOCK_EX on rel until killed, like a running owner. */
static pid_t hold_lock(const char *rel) {
        char path[PATH_MAX], c;
        int p[2];
        pid_t pid;

        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        assert_int_equal(pipe(p), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int fd = open(path, O_RDWR | O_CLOEXEC);
                if (fd < 0 || flock(fd, LOCK_EX) < 0)
                        _exit(1);
                (void) !write(p[1], "x", 1);
                for (;;)
                        pause();
        }
        close(p[1]);
        assert_int_equal(read(p[0], &c, 1), 1);
        close(p[0]);
        return pid;
}

/* A child that does nothing until killed, standing for a container's init. */
static pid_t pausing_child(void) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0)
                for (;;)
                        pause();
        return pid;
}

static void end_child(pid_t pid) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

static int setup_dir(void **state _unused_) {
        strcpy(dir, "/tmp/test-state-info.XXXXXX");
        return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state _unused_) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_alive_and_stale(void **state _unused_) {
        StateInfo s = {};
        char lock[PATH_MAX];
        pid_t holder;

        put("containers/x/state.json", sample);
        put("containers/x/lock", "");
        assert_int_equal(state_container_lock_path(dir, "x", lock, sizeof(lock)), 0);

        /* Nobody holds the lock: stale. */
        assert_int_equal(state_info_load(dir, "x", &s), 0);
        assert_false(s.alive);
        state_info_done(&s);
        assert_int_equal(state_info_load_running(dir, "x", 100000, &s), -ESRCH);

        holder = hold_lock("containers/x/lock");
        assert_int_equal(state_info_load(dir, "x", &s), 0);
        assert_true(s.alive);
        assert_string_equal(s.name, "x");
        state_info_done(&s);
        assert_int_equal(state_lock_is_held(lock), 1);
        /* The check does not keep the lock: the holder still has it alone. */
        assert_int_equal(state_lock_is_held(lock), 1);
        assert_int_equal(state_lock_wait_released(lock, 100000), -ETIMEDOUT);
        assert_int_equal(state_info_load_running(dir, "x", 100000, &s), 0);
        assert_int_equal(s.init_pid, 24351);
        state_info_done(&s);

        end_child(holder);
        assert_int_equal(state_lock_wait_released(lock, 1000000), 0);
        assert_int_equal(state_info_load(dir, "x", &s), 0);
        assert_false(s.alive);
        state_info_done(&s);

        assert_int_equal(state_info_load(dir, "nope", &s), -ENOENT);
        assert_int_equal(state_info_load(dir, "../x", &s), -EINVAL);
        assert_int_equal(state_info_load_running(dir, "nope", 0, &s), -ESRCH);
}

static void test_starting(void **state _unused_) {
        StateInfo s = {};
        pid_t holder;

        /* Lock held, init_pid still 0: not running yet, and it never gets
         * further here, so the wait ends in -ESRCH. */
        put("containers/s/state.json", "{\"name\":\"s\",\"init_pid\":0}");
        put("containers/s/lock", "");
        holder = hold_lock("containers/s/lock");
        assert_int_equal(state_info_load_running(dir, "s", 200000, &s), -ESRCH);
        end_child(holder);
}

static void test_list(void **state _unused_) {
        StateInfo *a = NULL;
        GroupInfo *g = NULL;
        size_t n = 99;
        pid_t holder;

        assert_int_equal(state_info_list(dir, &a, &n), 0);
        assert_int_equal(n, 0);
        free(a);

        put("containers/b/state.json", "{\"name\":\"b\",\"init_pid\":5}");
        put("containers/b/lock", "");
        put("containers/a/state.json", "{\"name\":\"a\",\"init_pid\":4}");
        put("containers/a/lock", "");
        put("containers/c/lock", ""); /* starting: no state.json yet */
        put("containers/d/state.json", "garbage");
        holder = hold_lock("containers/b/lock");

        assert_int_equal(state_info_list(dir, &a, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(a[0].name, "a");
        assert_false(a[0].alive);
        assert_string_equal(a[1].name, "b");
        assert_true(a[1].alive);
        state_info_free_array(a, n);
        end_child(holder);

        put("groups/web/supervisor.json", "{\"group\":\"web\",\"pid\":1,\"containers\":[\"b\",\"a\"]}");
        put("groups/web/lock", "");
        put("groups/api/supervisor.json", "{\"group\":\"api\",\"pid\":2,\"containers\":[]}");
        holder = hold_lock("groups/web/lock");
        assert_int_equal(group_info_list(dir, &g, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(g[0].group, "api");
        assert_false(g[0].alive);
        assert_string_equal(g[1].group, "web");
        assert_true(g[1].alive);
        assert_string_equal(g[1].containers[1], "a");
        group_info_free_array(g, n);
        end_child(holder);
}

static void test_stopping(void **state _unused_) {
        char path[PATH_MAX];
        struct stat st;

        put("containers/m/state.json", "{\"name\":\"m\"}");
        assert_int_equal(state_info_mark_stopping(dir, "m"), 0);
        snprintf(path, sizeof(path), "%s/containers/m/stopping", dir);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, 0);
        assert_int_equal(state_info_mark_stopping(dir, "no/such"), -EINVAL);
}

/* The init is opened only while it is the owner's child and the owner
 * holds the lock. */
static void test_open_init(void **state _unused_) {
        StateInfo s = {};
        pid_t holder, init;
        char json[256];
        int pidfd = -1;

        init = pausing_child();
        snprintf(json, sizeof(json), "{\"name\":\"o\",\"owner_pid\":%d,\"init_pid\":%d}", (int) getpid(),
                 (int) init);
        put("containers/o/state.json", json);
        put("containers/o/lock", "");

        /* Stale: no. */
        assert_int_equal(state_info_load(dir, "o", &s), 0);
        assert_int_equal(state_info_open_init(&s, dir, &pidfd), -ESRCH);
        state_info_done(&s);

        holder = hold_lock("containers/o/lock");
        assert_int_equal(state_info_load_running(dir, "o", 0, &s), 0);
        assert_int_equal(state_info_open_init(&s, dir, &pidfd), 0);
        assert_true(pidfd >= 0);
        close(pidfd);
        pidfd = -1;

        /* Someone else's child under that pid: no. */
        s.owner_pid = holder;
        assert_int_equal(state_info_open_init(&s, dir, &pidfd), -ESRCH);
        assert_int_equal(pidfd, -1);
        state_info_done(&s);

        end_child(holder);
        end_child(init);
}

/* A detached container's init is nobody's child of ours (its owner handed
 * it to shuttle-monitor and left): known by its start time, whoever its
 * parent is, and only while the lock is held. */
static void test_open_init_by_start_time(void **state _unused_) {
        StateInfo s = {};
        uint64_t start = 0;
        ProcStat ps;
        pid_t holder, init;
        char json[320];
        int pidfd = -1;

        init = pausing_child();
        assert_int_equal(proc_stat_read(init, &ps), 0);
        start = ps.start_time;
        assert_true(start > 0);
        /* The owner named is not its parent: only the start time says it. */
        snprintf(json, sizeof(json), "{\"name\":\"t\",\"owner_pid\":1,\"init_pid\":%d,\"init_start\":%llu}",
                 (int) init, (unsigned long long) start);
        put("containers/t/state.json", json);
        put("containers/t/lock", "");

        assert_int_equal(state_info_load(dir, "t", &s), 0);
        assert_true(s.init_start == start);
        assert_int_equal(state_info_open_init(&s, dir, &pidfd), -ESRCH); /* stale */
        state_info_done(&s);

        holder = hold_lock("containers/t/lock");
        assert_int_equal(state_info_load_running(dir, "t", 0, &s), 0);
        assert_int_equal(state_info_open_init(&s, dir, &pidfd), 0);
        assert_true(pidfd >= 0);
        close(pidfd);
        pidfd = -1;

        /* Another process under that pid (another start time): no. */
        s.init_start = start + 1;
        assert_int_equal(state_info_open_init(&s, dir, &pidfd), -ESRCH);
        assert_int_equal(pidfd, -1);
        state_info_done(&s);

        /* Gone: no. */
        end_child(init);
        assert_int_equal(state_info_load_running(dir, "t", 0, &s), 0);
        assert_int_equal(state_info_open_init(&s, dir, &pidfd), -ESRCH);
        state_info_done(&s);
        end_child(holder);

        put("containers/u/state.json", "{\"name\":\"u\",\"init_start\":-1}");
        assert_int_equal(state_info_load(dir, "u", &s), -EBADMSG);
}

/* The cache: read once, then kept while the same file is in place and its
 * lock held; read again when another file is put in its place; emptied
 * when the owner is gone. */
static void test_cache(void **state _unused_) {
        StateCache c = STATE_CACHE_INIT;
        const StateInfo *info = NULL, *again = NULL;
        char path[PATH_MAX], tmp[PATH_MAX];
        pid_t holder;

        put("containers/x/state.json", sample);
        put("containers/x/lock", "");
        /* Not running (nobody holds the lock). */
        assert_int_equal(state_cache_get(&c, dir, "x", &info), -ESRCH);
        assert_false(c.loaded);

        holder = hold_lock("containers/x/lock");
        assert_int_equal(state_cache_get(&c, dir, "x", &info), 1);
        assert_int_equal(info->init_pid, 24351);
        assert_int_equal(state_cache_get(&c, dir, "x", &again), 0);
        assert_ptr_equal(info, again);
        assert_int_equal(again->init_pid, 24351);

        /* Another file in its place (written aside, renamed over it, as
         * the runtime does). */
        snprintf(path, sizeof(path), "%s/containers/x/state.json", dir);
        snprintf(tmp, sizeof(tmp), "%s/containers/x/state.json.tmp", dir);
        assert_int_equal(touch_at(AT_FDCWD, tmp, 0600), 0);
        assert_int_equal(write_file_at(AT_FDCWD, tmp, "{\"name\":\"x\",\"init_pid\":777}"), 0);
        assert_int_equal(rename(tmp, path), 0);
        assert_int_equal(state_cache_get(&c, dir, "x", &info), 1);
        assert_int_equal(info->init_pid, 777);
        assert_int_equal(state_cache_get(&c, dir, "x", &info), 0);

        /* The owner gone: not running any more, though the file stays. */
        end_child(holder);
        assert_int_equal(state_cache_get(&c, dir, "x", &info), -ESRCH);
        assert_false(c.loaded);
        assert_int_equal(c.lock_fd, -1);

        /* No entry, a bad name. */
        assert_int_equal(state_cache_get(&c, dir, "nope", &info), -ESRCH);
        assert_int_equal(state_cache_get(&c, dir, "../x", &info), -ESRCH);
        state_cache_done(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_parse_defaults),
                cmocka_unit_test(test_parse_bad),
                cmocka_unit_test(test_group_parse),
                cmocka_unit_test_setup_teardown(test_alive_and_stale, setup_dir, remove_dir),
                cmocka_unit_test_setup_teardown(test_starting, setup_dir, remove_dir),
                cmocka_unit_test_setup_teardown(test_list, setup_dir, remove_dir),
                cmocka_unit_test_setup_teardown(test_stopping, setup_dir, remove_dir),
                cmocka_unit_test_setup_teardown(test_open_init, setup_dir, remove_dir),
                cmocka_unit_test_setup_teardown(test_open_init_by_start_time, setup_dir, remove_dir),
                cmocka_unit_test_setup_teardown(test_cache, setup_dir, remove_dir),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
