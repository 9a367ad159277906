/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup backends: v2 and v1 against fake cgroupfs trees in a temp dir, and
 * v1 against this machine's real hierarchy when running as root. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "runtime/cgroup-internal.h"

/* ---- a fake kernel for a tmpfs tree ---- */

/* What the fake "kernel" puts into a new cgroup directory. */
static struct {
        bool v2;
        bool no_memsw;     /* v1: no memory.memsw.limit_in_bytes (swap accounting off) */
        bool no_swap;      /* v2: no memory.swap.max */
        const char *broken; /* this interface file is made a directory: writes fail */
} fake;

static void fake_file(int dirfd, const char *name, const char *content) {
        if (fake.broken && streq(name, fake.broken)) {
                assert_int_equal(mkdirat(dirfd, name, 0755), 0);
                return;
        }
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        close(fd);
}

/* Plays the kernel's mkdir: the interface files appear.  On v2 the
 * controllers' files appear only for controllers the parent enabled in its
 * cgroup.subtree_control, as on a real cgroupfs. */
static int fake_mkdir(const CgroupOps *ops _unused_, int dirfd, const char *name) {
        _cleanup_close_ int fd = -1;

        if (mkdirat(dirfd, name, 0755) < 0)
                return -errno;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        fake_file(fd, "cgroup.procs", "");
        if (!fake.v2) {
                fake_file(fd, "tasks", "");
                fake_file(fd, "memory.limit_in_bytes", "");
                if (!fake.no_memsw)
                        fake_file(fd, "memory.memsw.limit_in_bytes", "");
                fake_file(fd, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
                fake_file(fd, "pids.max", "");
                fake_file(fd, "cpu.cfs_period_us", "");
                fake_file(fd, "cpu.cfs_quota_us", "");
                fake_file(fd, "cpu.shares", "1024");
                /* v1 cpuset: empty in a new cgroup */
                fake_file(fd, "cpuset.cpus", "");
                fake_file(fd, "cpuset.mems", "");
                return 0;
        }

        _cleanup_free_ char *enabled = NULL;
        char controllers[128] = "";
        assert_int_equal(read_file_at(dirfd, "cgroup.subtree_control", 4096, &enabled, NULL), 0);
        for (char *tok = strtok(enabled, " \n"); tok; tok = strtok(NULL, " \n")) {
                if (tok[0] == '+')
                        tok++;
                if (controllers[0])
                        strcat(controllers, " ");
                strcat(controllers, tok);
        }
        fake_file(fd, "cgroup.controllers", controllers);
        fake_file(fd, "cgroup.subtree_control", "");
        fake_file(fd, "cgroup.events", "populated 0\nfrozen 0\n");
        fake_file(fd, "cgroup.kill", "");
        if (cg_list_has(controllers, "memory")) {
                fake_file(fd, "memory.max", "");
                if (!fake.no_swap)
                        fake_file(fd, "memory.swap.max", "");
                fake_file(fd, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
        }
        if (cg_list_has(controllers, "pids"))
                fake_file(fd, "pids.max", "");
        if (cg_list_has(controllers, "cpu")) {
                fake_file(fd, "cpu.max", "");
                fake_file(fd, "cpu.weight", "100");
        }
        if (cg_list_has(controllers, "cpuset")) {
                fake_file(fd, "cpuset.cpus", "");
                fake_file(fd, "cpuset.mems", "");
        }
        return 0;
}

/* Plays the kernel's rmdir: busy while child cgroups (non-empty
 * subdirectories) exist, else the interface files go with the directory. */
static int fake_rmdir(const CgroupOps *ops _unused_, int dirfd, const char *name) {
        _cleanup_closedir_ DIR *d = NULL;
        int fd;

        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (de->d_type == DT_DIR && unlinkat(fd, de->d_name, AT_REMOVEDIR) < 0)
                        return -EBUSY; /* a child cgroup */
        }
        rewinddir(d);
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_type != DT_DIR)
                        assert_int_equal(unlinkat(fd, de->d_name, 0), 0);
        return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

static const CgroupOps fake_ops = {
        .mkdir = fake_mkdir,
        .rmdir = fake_rmdir,
};

/* ---- tree helpers ---- */

typedef struct Tree {
        char root[64];
        char self[128]; /* a fake /proc/self/cgroup */
} Tree;

static void put(const char *dir, const char *file, const char *content) {
        char p[1024];
        int fd;

        snprintf(p, sizeof p, "%s/%s", dir, file);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        close(fd);
}

static char *get(const char *dir, const char *file) {
        char p[1024], *s = NULL;
        int r;

        snprintf(p, sizeof p, "%s/%s", dir, file);
        r = read_file_at(AT_FDCWD, p, 4096, &s, NULL);
        if (r < 0)
                fail_msg("reading %s: %s", p, strerror(-r));
        return s;
}

#define assert_file(dir, file, expected)                     \
        do {                                                 \
                _cleanup_free_ char *_s = get(dir, file);    \
                assert_string_equal(_s, expected);           \
        } while (0)

static bool exists(const char *dir, const char *file) {
        char p[1024];
        struct stat st;

        snprintf(p, sizeof p, "%s/%s", dir, file);
        return lstat(p, &st) == 0;
}

static void sub(const Tree *t, const char *rel) {
        char p[1024];

        snprintf(p, sizeof p, "%s/%s", t->root, rel);
        assert_int_equal(mkdir_p_at(AT_FDCWD, p, 0755), 0);
}

static void rm_rf(const char *path) {
        char cmd[600];

        assert_true(strneq(path, "/tmp/", 5));
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
        assert_int_equal(system(cmd), 0);
}

static int setup_v2(void **state) {
        Tree *t = calloc(1, sizeof *t);

        strcpy(t->root, "/tmp/test-cgroup-v2-XXXXXX");
        assert_non_null(mkdtemp(t->root));
        put(t->root, "cgroup.controllers", "cpuset cpu io memory pids");
        put(t->root, "cgroup.subtree_control", "");
        put(t->root, "cgroup.procs", "");
        snprintf(t->self, sizeof t->self, "%s/self-cgroup", t->root);
        put(t->root, "self-cgroup", "0::/\n");
        fake = (__typeof__(fake)) { .v2 = true };
        *state = t;
        return 0;
}

/* Like this machine: cpu and cpuacct apart, our memory cgroup nested. */
static int setup_v1(void **state) {
        Tree *t = calloc(1, sizeof *t);

        strcpy(t->root, "/tmp/test-cgroup-v1-XXXXXX");
        assert_non_null(mkdtemp(t->root));
        sub(t, "memory/process_api/abc");
        sub(t, "pids");
        sub(t, "cpu,cpuacct");
        sub(t, "unified");
        put(t->root, "unified/cgroup.controllers", "");
        snprintf(t->self, sizeof t->self, "%s/self-cgroup", t->root);
        put(t->root, "self-cgroup",
            "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/\n0::/\n");
        fake = (__typeof__(fake)) { .v2 = false };
        *state = t;
        return 0;
}

static int teardown_tree(void **state) {
        Tree *t = *state;

        rm_rf(t->root);
        free(t);
        return 0;
}

#define PATH(buf, t, rel) (snprintf(buf, sizeof buf, "%s/%s", (t)->root, rel), buf)

static const CgroupLimits full_limits = {
        .memory_bytes = 64 << 20,
        .pids_max = 64,
        .cpu_quota_usec = 50000,
};

static pid_t spawn(int *ret_go, void (*fn)(void));
static void sleep_forever(void);

/* ---- probe ---- */

static void test_probe_v2(void **state) {
        Tree *t = *state;
        CgroupVersion v = 0;

        assert_int_equal(cgroup_probe(t->root, &v), 0);
        assert_int_equal(v, CGROUP_V2);
}

static void test_probe_v1_hybrid(void **state) {
        Tree *t = *state;
        CgroupVersion v = 0;

        /* cgroup2 at <root>/unified without controllers: still v1. */
        assert_int_equal(cgroup_probe(t->root, &v), 0);
        assert_int_equal(v, CGROUP_V1);
}

static void test_probe_v1_plain(void **state _unused_) {
        char root[] = "/tmp/test-cgroup-p-XXXXXX", p[128];
        CgroupVersion v = 0;

        assert_non_null(mkdtemp(root));
        snprintf(p, sizeof p, "%s/memory", root);
        assert_int_equal(mkdir(p, 0755), 0);
        assert_int_equal(cgroup_probe(root, &v), 0);
        assert_int_equal(v, CGROUP_V1);
        rm_rf(root);
}

static void test_probe_none(void **state _unused_) {
        char root[] = "/tmp/test-cgroup-p-XXXXXX";
        CgroupVersion v = 0;

        assert_non_null(mkdtemp(root));
        assert_int_equal(cgroup_probe(root, &v), -EOPNOTSUPP);
        /* only a unified dir without a root cgroup.controllers: not v2 */
        put(root, "memory", ""); /* a file, not a hierarchy */
        assert_int_equal(cgroup_probe(root, &v), -EOPNOTSUPP);
        assert_int_equal(v, 0);
        rm_rf(root);
        assert_int_equal(cgroup_probe(root, &v), -ENOENT);
}

/* ---- v2 on a fake tree ---- */

static void test_v2_create_limits(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL;
        char p[256], leaf[256];
        struct stat a, b;
        int fd;

        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "web", &full_limits, &cg), 0);
        assert_non_null(cg);
        assert_int_equal(cgroup_version(cg), CGROUP_V2);
        PATH(leaf, t, "shuttle/web");
        assert_string_equal(cgroup_path(cg), leaf);
        assert_string_equal(cgroup_paths(cg)[0], leaf);
        assert_null(cgroup_paths(cg)[1]);

        assert_file(t->root, "cgroup.subtree_control", "+memory +pids +cpu");
        assert_file(PATH(p, t, "shuttle"), "cgroup.subtree_control", "+memory +pids +cpu");
        assert_file(leaf, "memory.max", "67108864");
        assert_file(leaf, "memory.swap.max", "0");
        assert_file(leaf, "pids.max", "64");
        assert_file(leaf, "cpu.max", "50000 100000");

        fd = cgroup_open_fd(cg);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &a), 0);
        assert_int_equal(stat(leaf, &b), 0);
        assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        close(fd);

        assert_int_equal(cgroup_destroy(cg), 0);
        assert_false(exists(t->root, "shuttle"));
        assert_int_equal(cgroup_destroy(cg), 0); /* idempotent */
        cgroup_free(cg);
}

static void test_v2_custom_period_no_swap(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL;
        char leaf[256];
        CgroupLimits l = { .memory_bytes = 1 << 30, .cpu_quota_usec = 150000, .cpu_period_usec = 50000 };

        fake.no_swap = true;
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "a", &l, &cg), 0);
        PATH(leaf, t, "shuttle/a");
        assert_file(leaf, "memory.max", "1073741824");
        assert_false(exists(leaf, "memory.swap.max"));
        assert_file(leaf, "cpu.max", "150000 50000");
        assert_file(t->root, "cgroup.subtree_control", "+memory +cpu");
        assert_false(exists(leaf, "pids.max")); /* pids not enabled */
        assert_int_equal(cgroup_destroy(cg), 0);
        cgroup_free(cg);
}

/* Device rules on a tree that is no cgroup2 (no program can be attached):
 * created all the same, and said not to hold. */
static void test_v2_devices_not_enforced(void **state) {
        static const CgroupDeviceRule rules[] = { { true, 'c', 1, 3, "rwm" } };
        CgroupLimits l = { .devices = rules, .n_devices = 1, .has_devices = true };
        Tree *t = *state;
        Cgroup *cg = NULL;

        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "dev", &l, &cg), 0);
        assert_false(cgroup_enforces_devices(cg));
        assert_int_equal(cgroup_destroy(cg), 0);
        cgroup_free(cg);
}

static void test_v2_no_limits(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL;
        char leaf[256];
        uint64_t n = 99;

        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "idle", NULL, &cg), 0);
        PATH(leaf, t, "shuttle/idle");
        assert_true(exists(leaf, "cgroup.procs"));
        /* nothing enabled that no limit needs */
        assert_file(t->root, "cgroup.subtree_control", "");
        assert_file(leaf, "cgroup.controllers", "");
        assert_false(exists(leaf, "memory.max"));
        assert_int_equal(cgroup_oom_kill_count(cg, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(cgroup_destroy(cg), 0);
        cgroup_free(cg);
}

static void test_v2_missing_controller(void **state) {
        Tree *t = *state;
        Cgroup *cg = (Cgroup *) 0x1;
        const char *missing = NULL;
        CgroupLimits l = { .memory_bytes = 1 << 20, .pids_max = 10 };

        put(t->root, "cgroup.controllers", "cpuset cpu io memory");
        assert_int_equal(cgroup_check_limits(t->root, t->self, &l, &missing), -EOPNOTSUPP);
        assert_string_equal(missing, "pids");
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "x", &l, &cg), -EOPNOTSUPP);
        assert_ptr_equal(cg, (Cgroup *) 0x1);
        /* nothing touched */
        assert_false(exists(t->root, "shuttle"));
        assert_file(t->root, "cgroup.subtree_control", "");

        l.pids_max = 0;
        missing = NULL;
        assert_int_equal(cgroup_check_limits(t->root, t->self, &l, &missing), 0);
        assert_null(missing);
}

static void test_v2_rollback(void **state) {
        Tree *t = *state;
        Cgroup *cg = (Cgroup *) 0x1;

        /* the last write fails: everything made before it must go */
        fake.broken = "cpu.max";
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "web", &full_limits, &cg),
                         -EISDIR);
        assert_ptr_equal(cg, (Cgroup *) 0x1);
        assert_false(exists(t->root, "shuttle"));

        /* with a sibling, the shared parent stays and the sibling is intact */
        fake.broken = NULL;
        Cgroup *other = NULL;
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "db", &full_limits, &other), 0);
        fake.broken = "pids.max";
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "web", &full_limits, &cg),
                         -EISDIR);
        assert_false(exists(t->root, "shuttle/web"));
        assert_true(exists(t->root, "shuttle/db/pids.max"));
        assert_int_equal(cgroup_destroy(other), 0);
        assert_false(exists(t->root, "shuttle"));
        cgroup_free(other);
}

static void test_v2_invalid(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL;
        CgroupLimits l = { .cpu_quota_usec = 500 };

        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "../x", NULL, &cg), -EINVAL);
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "", NULL, &cg), -EINVAL);
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "a/b", NULL, &cg), -EINVAL);
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "x", &l, &cg), -EINVAL);
        l = (CgroupLimits) { .cpu_quota_usec = 5000, .cpu_period_usec = 2000000 };
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "x", &l, &cg), -EINVAL);
        assert_null(cg);
        assert_false(exists(t->root, "shuttle"));
}

static void test_v2_oom_count(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL;
        char leaf[256];
        uint64_t n = 99;
        CgroupLimits l = { .memory_bytes = 64 << 20 };

        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "m", &l, &cg), 0);
        PATH(leaf, t, "shuttle/m");
        assert_int_equal(cgroup_oom_kill_count(cg, &n), 0);
        assert_int_equal(n, 0);
        put(leaf, "memory.events", "low 0\nhigh 0\nmax 12\noom 2\noom_kill 3\noom_group_kill 0\n");
        assert_int_equal(cgroup_oom_kill_count(cg, &n), 0);
        assert_int_equal(n, 3);
        /* old kernels: no oom_kill line; output untouched */
        put(leaf, "memory.events", "low 0\nhigh 0\nmax 12\noom 2\noom_group_kill 7\n");
        assert_int_equal(cgroup_oom_kill_count(cg, &n), -ENODATA);
        assert_int_equal(n, 3);
        put(leaf, "memory.events", "oom_kill x\n");
        assert_int_equal(cgroup_oom_kill_count(cg, &n), -EINVAL);
        assert_int_equal(cgroup_destroy(cg), 0);
        cgroup_free(cg);
}

static void test_v2_attach_kill_destroy(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL;
        char leaf[256], pid[32];

        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "app", &full_limits, &cg), 0);
        PATH(leaf, t, "shuttle/app");
        assert_int_equal(cgroup_attach(cg, getpid()), 0);
        snprintf(pid, sizeof pid, "%d", (int) getpid());
        assert_file(leaf, "cgroup.procs", pid);
        assert_int_equal(cgroup_attach(cg, 0), -EINVAL);
        put(leaf, "cgroup.procs", "");
        /* v2 has no per-thread file outside threaded cgroups: "0" to cgroup.procs */
        assert_int_equal(cgroup_attach_self(cg), 0);
        assert_file(leaf, "cgroup.procs", "0");

        /* the "kernel" moved it away again; cgroup.kill is used when present */
        put(leaf, "cgroup.procs", "");
        assert_int_equal(cgroup_kill_all(cg), 0);
        assert_file(leaf, "cgroup.kill", "1");

        /* a child cgroup the container made goes too, deepest first */
        int fd = open(leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(fake_mkdir(&fake_ops, fd, "inner"), 0);
        close(fd);
        assert_int_equal(cgroup_destroy(cg), 0);
        assert_false(exists(t->root, "shuttle"));
        assert_int_equal(cgroup_destroy(cg), 0);
        cgroup_free(cg);
}

static void test_v2_stale(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL, *again = NULL;
        char leaf[256], pid[32];

        assert_int_equal(cgroup_remove_stale_ops(&fake_ops, t->root, t->self, "web"), 0);

        /* a crashed run: created, never destroyed */
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "web", &full_limits, &cg), 0);
        cg = cgroup_free(cg);
        PATH(leaf, t, "shuttle/web");
        assert_true(exists(leaf, "cgroup.procs"));

        /* still holding a process: create refuses, kills nothing, and
         * leaves the directory alone */
        int go, status;
        pid_t child = spawn(&go, sleep_forever);
        snprintf(pid, sizeof pid, "%d\n", (int) child);
        put(leaf, "cgroup.procs", pid);
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "web", NULL, &again), -EBUSY);
        assert_null(again);
        assert_file(leaf, "pids.max", "64");
        assert_int_equal(waitpid(child, &status, WNOHANG), 0); /* still alive */
        kill(child, SIGKILL);
        assert_int_equal(waitpid(child, &status, 0), child);
        close(go);

        /* empty: create replaces it with a fresh one */
        put(leaf, "cgroup.procs", "");
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "web", NULL, &again), 0);
        assert_file(leaf, "pids.max", ""); /* fresh, none of the old limits */
        again = cgroup_free(again);

        /* stale removal, with a nested child, other names untouched */
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "db", NULL, &cg), 0);
        int fd = open(leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(fake_mkdir(&fake_ops, fd, "inner"), 0);
        close(fd);
        assert_int_equal(cgroup_remove_stale_ops(&fake_ops, t->root, t->self, "web"), 1);
        assert_false(exists(t->root, "shuttle/web"));
        assert_true(exists(t->root, "shuttle/db"));
        assert_int_equal(cgroup_remove_stale_ops(&fake_ops, t->root, t->self, "web"), 0);
        assert_int_equal(cgroup_remove_stale_ops(&fake_ops, t->root, t->self, "../db"), -EINVAL);
        assert_int_equal(cgroup_destroy(cg), 0);
        cgroup_free(cg);
        assert_false(exists(t->root, "shuttle"));
}

/* ---- v1 on a fake tree ---- */

static void test_v1_create_limits(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL;
        char mem[256], pids[256], cpu[256];
        uint64_t n = 99;

        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "web", &full_limits, &cg), 0);
        assert_int_equal(cgroup_version(cg), CGROUP_V1);
        PATH(mem, t, "memory/process_api/abc/shuttle/web");
        PATH(pids, t, "pids/shuttle/web");
        PATH(cpu, t, "cpu,cpuacct/shuttle/web");
        assert_string_equal(cgroup_path(cg), mem);
        assert_string_equal(cgroup_paths(cg)[0], mem);
        assert_string_equal(cgroup_paths(cg)[1], pids);
        assert_string_equal(cgroup_paths(cg)[2], cpu);
        assert_null(cgroup_paths(cg)[3]);
        assert_int_equal(cgroup_open_fd(cg), -EOPNOTSUPP);

        assert_file(mem, "memory.limit_in_bytes", "67108864");
        assert_file(mem, "memory.memsw.limit_in_bytes", "67108864");
        assert_file(pids, "pids.max", "64");
        assert_file(cpu, "cpu.cfs_period_us", "100000");
        assert_file(cpu, "cpu.cfs_quota_us", "50000");
        /* each limit only in its own hierarchy */
        assert_file(mem, "pids.max", "");
        assert_file(pids, "memory.limit_in_bytes", "");
        assert_file(mem, "cpu.cfs_quota_us", "");

        assert_int_equal(cgroup_attach(cg, getpid()), 0);
        char pid[32];
        snprintf(pid, sizeof pid, "%d", (int) getpid());
        assert_file(mem, "cgroup.procs", pid);
        assert_file(pids, "cgroup.procs", pid);
        assert_file(cpu, "cgroup.procs", pid);
        put(mem, "cgroup.procs", "");
        put(pids, "cgroup.procs", "");
        put(cpu, "cgroup.procs", "");

        /* The init moving itself: "0" to tasks (the writer's thread, without
         * the kernel's global thread-group lock), never to cgroup.procs. */
        assert_int_equal(cgroup_attach_self(cg), 0);
        assert_file(mem, "tasks", "0");
        assert_file(pids, "tasks", "0");
        assert_file(cpu, "tasks", "0");
        assert_file(mem, "cgroup.procs", "");
        put(mem, "tasks", "");
        put(pids, "tasks", "");
        put(cpu, "tasks", "");

        assert_int_equal(cgroup_oom_kill_count(cg, &n), 0);
        assert_int_equal(n, 0);
        put(mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        assert_int_equal(cgroup_oom_kill_count(cg, &n), 0);
        assert_int_equal(n, 2);
        put(mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 1\n"); /* < 4.13 */
        assert_int_equal(cgroup_oom_kill_count(cg, &n), -ENODATA);
        assert_int_equal(n, 2);

        assert_int_equal(cgroup_kill_all(cg), 0);
        assert_int_equal(cgroup_destroy(cg), 0);
        assert_false(exists(t->root, "memory/process_api/abc/shuttle"));
        assert_true(exists(t->root, "memory/process_api/abc"));
        assert_false(exists(t->root, "pids/shuttle"));
        assert_false(exists(t->root, "cpu,cpuacct/shuttle"));
        assert_int_equal(cgroup_destroy(cg), 0);
        cgroup_free(cg);
}

static void test_v1_no_cpu_no_memsw(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL;
        char mem[256];
        CgroupLimits l = { .memory_bytes = 4096 * 1000 };

        fake.no_memsw = true;
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "m", &l, &cg), 0);
        PATH(mem, t, "memory/process_api/abc/shuttle/m");
        assert_file(mem, "memory.limit_in_bytes", "4096000");
        assert_false(exists(mem, "memory.memsw.limit_in_bytes"));
        /* memory and pids always, cpu only with a cpu limit */
        assert_true(exists(t->root, "pids/shuttle/m"));
        assert_false(exists(t->root, "cpu,cpuacct/shuttle"));
        assert_null(cgroup_paths(cg)[2]);
        assert_int_equal(cgroup_destroy(cg), 0);
        cgroup_free(cg);

        /* no limits at all: still memory and pids */
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "n", NULL, &cg), 0);
        assert_true(exists(t->root, "memory/process_api/abc/shuttle/n"));
        assert_true(exists(t->root, "pids/shuttle/n"));
        assert_int_equal(cgroup_destroy(cg), 0);
        cgroup_free(cg);
}

static void test_v1_missing_controller(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL;
        const char *missing = NULL;

        /* no cpu hierarchy mounted: fine without a cpu limit, an error with */
        put(t->root, "self-cgroup", "8:pids:/\n4:memory:/process_api/abc\n");
        assert_int_equal(cgroup_check_limits(t->root, t->self, &(CgroupLimits) { .pids_max = 5 },
                                             &missing),
                         0);
        assert_int_equal(cgroup_check_limits(t->root, t->self, &full_limits, &missing), -EOPNOTSUPP);
        assert_string_equal(missing, "cpu");
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "x", &full_limits, &cg),
                         -EOPNOTSUPP);
        assert_null(cg);
        assert_false(exists(t->root, "memory/process_api/abc/shuttle"));
        assert_false(exists(t->root, "pids/shuttle"));

        /* listed in /proc/self/cgroup but not mounted under root */
        put(t->root, "self-cgroup", "8:pids:/\n4:memory:/process_api/abc\n3:freezer:/\n");
        char pids[256];
        rm_rf(PATH(pids, t, "pids"));
        assert_int_equal(cgroup_check_limits(t->root, t->self, NULL, &missing), -EOPNOTSUPP);
        assert_string_equal(missing, "pids");
}

static void test_v1_rollback(void **state) {
        Tree *t = *state;
        Cgroup *cg = (Cgroup *) 0x1;

        fake.broken = "cpu.cfs_quota_us";
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "web", &full_limits, &cg),
                         -EISDIR);
        assert_ptr_equal(cg, (Cgroup *) 0x1);
        assert_false(exists(t->root, "memory/process_api/abc/shuttle"));
        assert_false(exists(t->root, "pids/shuttle"));
        assert_false(exists(t->root, "cpu,cpuacct/shuttle"));

        fake.broken = "memory.limit_in_bytes";
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "web", &full_limits, &cg),
                         -EISDIR);
        assert_false(exists(t->root, "memory/process_api/abc/shuttle"));
        assert_false(exists(t->root, "pids/shuttle"));
        assert_false(exists(t->root, "cpu,cpuacct/shuttle"));
}

static void test_v1_self_path(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL;
        char p[256];

        /* our own cgroup not visible under root: the hierarchy's top */
        put(t->root, "self-cgroup", "8:pids:/gone/x\n4:memory:/process_api/abc\n2:cpu,cpuacct:/\n");
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "a", NULL, &cg), 0);
        assert_string_equal(cgroup_paths(cg)[1], PATH(p, t, "pids/shuttle/a"));
        assert_int_equal(cgroup_destroy(cg), 0);
        cg = cgroup_free(cg);

        /* "cpu" on its own (this machine) */
        rm_rf(PATH(p, t, "cpu,cpuacct"));
        sub(t, "cpu");
        put(t->root, "self-cgroup", "8:pids:/\n4:memory:/process_api/abc\n1:cpu:/\n");
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "a", &full_limits, &cg), 0);
        assert_string_equal(cgroup_paths(cg)[2], PATH(p, t, "cpu/shuttle/a"));
        assert_file(p, "cpu.cfs_quota_us", "50000");
        assert_int_equal(cgroup_destroy(cg), 0);
        cg = cgroup_free(cg);

        /* memory and pids co-mounted: one directory serves both */
        sub(t, "memory,pids");
        put(t->root, "self-cgroup", "4:memory,pids:/\n1:cpu:/\n");
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "a",
                                           &(CgroupLimits) { .memory_bytes = 8192, .pids_max = 3 }, &cg),
                         0);
        PATH(p, t, "memory,pids/shuttle/a");
        assert_string_equal(cgroup_paths(cg)[0], p);
        assert_null(cgroup_paths(cg)[1]);
        assert_file(p, "memory.limit_in_bytes", "8192");
        assert_file(p, "pids.max", "3");
        assert_int_equal(cgroup_destroy(cg), 0);
        cg = cgroup_free(cg);

        /* a path that climbs out of the hierarchy is refused */
        put(t->root, "self-cgroup", "8:pids:/../../etc\n4:memory:/\n");
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "a", NULL, &cg), -EINVAL);
        assert_null(cg);
}

static void test_v1_stale(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL;

        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "web", &full_limits, &cg), 0);
        cg = cgroup_free(cg); /* crash */
        /* the next run asks without a cpu limit: the cpu dir goes too */
        assert_int_equal(cgroup_remove_stale_ops(&fake_ops, t->root, t->self, "web"), 1);
        assert_false(exists(t->root, "memory/process_api/abc/shuttle"));
        assert_false(exists(t->root, "pids/shuttle"));
        assert_false(exists(t->root, "cpu,cpuacct/shuttle"));
        assert_int_equal(cgroup_remove_stale_ops(&fake_ops, t->root, t->self, "web"), 0);
}

static void test_v1_stale_path(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL, *other = NULL;
        char paths[3][256], p[256];

        /* recorded paths from a run that sat in another cgroup than ours */
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "web", &full_limits, &cg), 0);
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "db", NULL, &other), 0);
        for (int i = 0; i < 3; i++)
                snprintf(paths[i], sizeof paths[i], "%s", cgroup_paths(cg)[i]);
        cg = cgroup_free(cg);
        sub(t, "pids/elsewhere");
        sub(t, "cpu,cpuacct/elsewhere");
        put(t->root, "self-cgroup", "8:pids:/elsewhere\n4:memory:/\n2:cpu,cpuacct:/elsewhere\n");
        assert_int_equal(cgroup_remove_stale_ops(&fake_ops, t->root, t->self, "web"), 0);

        for (int i = 0; i < 3; i++)
                assert_int_equal(cgroup_remove_stale_path_ops(&fake_ops, paths[i]), 1);
        assert_false(exists(paths[0], "."));
        assert_false(exists(paths[1], "."));
        assert_false(exists(t->root, "cpu,cpuacct/shuttle")); /* emptied: gone */
        assert_true(exists(t->root, "pids/shuttle/db"));     /* others stay */
        assert_int_equal(cgroup_remove_stale_path_ops(&fake_ops, paths[0]), 0);

        /* only .../shuttle/<name> */
        assert_int_equal(cgroup_remove_stale_path_ops(&fake_ops, PATH(p, t, "pids")), -EINVAL);
        assert_int_equal(cgroup_remove_stale_path_ops(&fake_ops, PATH(p, t, "pids/db")), -EINVAL);
        assert_int_equal(cgroup_remove_stale_path_ops(&fake_ops, PATH(p, t, "shuttle/..")), -EINVAL);
        /* and, for real, only on a cgroupfs */
        assert_int_equal(cgroup_remove_stale_path(PATH(p, t, "pids/shuttle/db")), -EINVAL);
        assert_true(exists(t->root, "pids/shuttle/db"));

        put(t->root, "self-cgroup", "8:pids:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/\n");
        assert_int_equal(cgroup_destroy(other), 0);
        cgroup_free(other);
}

/* ---- linux.cgroupsPath and cpu shares/cpusets ---- */

/* v1, absolute: from each hierarchy's top (not below our own memory
 * cgroup), in cpu and cpuset too; cpuset copied down to the parents. */
static void test_v1_path_absolute(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL;
        char mem[256], pids[256], cpu[256], cpuset[256], p[256];
        CgroupLimits l = { .memory_bytes = 8192, .cpu_shares = 512, .cpus = "1", .path = "/ct/abc" };

        sub(t, "cpuset");
        put(PATH(p, t, "cpuset"), "cpuset.cpus", "0-1\n");
        put(p, "cpuset.mems", "0\n");
        put(t->root, "self-cgroup",
            "8:pids:/\n5:cpuset:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/\n0::/\n");
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "x", &l, &cg), 0);
        PATH(mem, t, "memory/ct/abc");
        PATH(pids, t, "pids/ct/abc");
        PATH(cpu, t, "cpu,cpuacct/ct/abc");
        PATH(cpuset, t, "cpuset/ct/abc");
        assert_string_equal(cgroup_paths(cg)[0], mem);
        assert_string_equal(cgroup_paths(cg)[1], pids);
        assert_string_equal(cgroup_paths(cg)[2], cpu);
        assert_string_equal(cgroup_paths(cg)[3], cpuset);
        assert_null(cgroup_paths(cg)[4]);
        assert_file(mem, "memory.limit_in_bytes", "8192");
        assert_file(cpu, "cpu.shares", "512");
        assert_file(cpu, "cpu.cfs_quota_us", ""); /* no quota asked */
        assert_file(cpuset, "cpuset.cpus", "1");
        assert_file(cpuset, "cpuset.mems", "0");
        assert_file(PATH(p, t, "cpuset/ct"), "cpuset.cpus", "0-1");
        assert_file(p, "cpuset.mems", "0");

        /* destroy removes the leaf, leaves the parents (as runc) */
        assert_int_equal(cgroup_destroy(cg), 0);
        assert_false(exists(mem, "."));
        assert_false(exists(cpuset, "."));
        assert_true(exists(t->root, "memory/ct"));
        assert_true(exists(t->root, "cpuset/ct"));
        cg = cgroup_free(cg);

        /* after a crash: its recorded paths, removed by path */
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "x", &l, &cg), 0);
        cg = cgroup_free(cg);
        assert_int_equal(cgroup_remove_stale_path_ops(&fake_ops, mem), -EINVAL); /* not shuttle/<name> */
        assert_true(exists(mem, "."));
        assert_int_equal(cgroup_remove_path_ops(&fake_ops, mem), 1);
        assert_int_equal(cgroup_remove_path_ops(&fake_ops, cpuset), 1);
        assert_false(exists(mem, "."));
        assert_false(exists(cpuset, "."));
        assert_true(exists(t->root, "memory/ct"));
        assert_int_equal(cgroup_remove_path_ops(&fake_ops, mem), 0);
        assert_int_equal(cgroup_remove_path_ops(&fake_ops, PATH(p, t, "memory/..")), -EINVAL);
}

/* v1, relative: below our own cgroup in each hierarchy; a hierarchy that
 * is not there (cpuset here) is left out unless a limit needs it. */
static void test_v1_path_relative(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL;
        char p[256];
        CgroupLimits l = { .path = "ct/abc" };

        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "x", &l, &cg), 0);
        assert_string_equal(cgroup_paths(cg)[0], PATH(p, t, "memory/process_api/abc/ct/abc"));
        assert_string_equal(cgroup_paths(cg)[1], PATH(p, t, "pids/ct/abc"));
        assert_string_equal(cgroup_paths(cg)[2], PATH(p, t, "cpu,cpuacct/ct/abc"));
        assert_null(cgroup_paths(cg)[3]);
        assert_int_equal(cgroup_destroy(cg), 0);
        assert_false(exists(t->root, "memory/process_api/abc/ct/abc"));
        assert_true(exists(t->root, "memory/process_api/abc/ct"));
        cg = cgroup_free(cg);

        l.cpus = "0";
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "x", &l, &cg), -EOPNOTSUPP);
        assert_null(cg);
}

static void test_path_invalid(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL;
        static const char *const bad[] = { "/", "", "/a/../b", "a/./b", "..", "/a//..", NULL };

        for (const char *const *b = bad; *b; b++) {
                CgroupLimits l = { .path = *b };

                if (cgroup_create_ops(&fake_ops, t->root, t->self, "x", &l, &cg) != -EINVAL)
                        fail_msg("path '%s' accepted", *b);
                assert_null(cg);
        }
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "x",
                                           &(CgroupLimits) { .cpu_shares = 1 }, &cg), -EINVAL);
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "x",
                                           &(CgroupLimits) { .cpu_shares = 262145 }, &cg), -EINVAL);
        assert_false(exists(t->root, "memory/a"));
        assert_false(exists(t->root, "pids/shuttle"));
}

/* v2: the path below the root, controllers enabled on the way down; shares
 * as cpu.weight (runc's formula), cpuset.cpus/mems. */
static void test_v2_path_cpu(void **state) {
        Tree *t = *state;
        Cgroup *cg = NULL;
        char leaf[256], p[256];
        CgroupLimits l = { .cpu_shares = 1024, .cpus = "0", .mems = "0", .path = "/a/b/c" };

        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "x", &l, &cg), 0);
        PATH(leaf, t, "a/b/c");
        assert_string_equal(cgroup_path(cg), leaf);
        assert_file(t->root, "cgroup.subtree_control", "+cpu +cpuset");
        assert_file(PATH(p, t, "a"), "cgroup.subtree_control", "+cpu +cpuset");
        assert_file(PATH(p, t, "a/b"), "cgroup.subtree_control", "+cpu +cpuset");
        assert_file(leaf, "cpu.weight", "39"); /* 1 + (1024 - 2) * 9999 / 262142 */
        assert_file(leaf, "cpuset.cpus", "0");
        assert_file(leaf, "cpuset.mems", "0");
        assert_int_equal(cgroup_destroy(cg), 0);
        assert_false(exists(leaf, "."));
        assert_true(exists(t->root, "a/b"));
        cg = cgroup_free(cg);

        /* a failed write: the leaf and the parents this create made go,
         * the one that was there (a) stays */
        fake.broken = "cpuset.mems";
        l = (CgroupLimits) { .mems = "0", .path = "/a/new/deeper/c" };
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "x", &l, &cg), -EISDIR);
        assert_null(cg);
        assert_false(exists(t->root, "a/new"));
        assert_true(exists(t->root, "a/b"));
        fake.broken = NULL;

        /* relative: below the root too (our own v2 cgroup holds us) */
        put(t->root, "self-cgroup", "0::/user.slice/me\n");
        l = (CgroupLimits) { .path = "rel/x" };
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "x", &l, &cg), 0);
        assert_string_equal(cgroup_path(cg), PATH(leaf, t, "rel/x"));
        assert_int_equal(cgroup_destroy(cg), 0);
        assert_false(exists(leaf, "."));
        cg = cgroup_free(cg);

        /* the extremes of the conversion */
        l = (CgroupLimits) { .cpu_shares = 2 };
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "x", &l, &cg), 0);
        assert_file(PATH(leaf, t, "shuttle/x"), "cpu.weight", "1");
        assert_int_equal(cgroup_destroy(cg), 0);
        cg = cgroup_free(cg);
        l = (CgroupLimits) { .cpu_shares = 262144 };
        assert_int_equal(cgroup_create_ops(&fake_ops, t->root, t->self, "x", &l, &cg), 0);
        assert_file(leaf, "cpu.weight", "10000");
        assert_int_equal(cgroup_destroy(cg), 0);
        assert_false(exists(t->root, "shuttle"));
        cgroup_free(cg);
}

/* ---- v1: the real hierarchy (root only) ---- */

#define REAL_ROOT "/sys/fs/cgroup"
#define REAL_SELF "/proc/self/cgroup"

static void skip_unless_real_v1(void) {
        CgroupVersion v;

        if (geteuid() != 0 || cgroup_probe(REAL_ROOT, &v) < 0 || v != CGROUP_V1)
                skip();
}

static void real_name(char *buf, size_t n, const char *what) {
        snprintf(buf, n, "test-%s-%d", what, (int) getpid());
}

static uint64_t real_read_u64(const char *dir, const char *file) {
        _cleanup_free_ char *s = get(dir, file);
        return strtoull(s, NULL, 10);
}

/* A child that waits on a pipe and then runs fn. */
static pid_t spawn(int *ret_go, void (*fn)(void)) {
        int p[2];
        pid_t pid;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char c;
                /* A failed check must not leave it behind: it would hold
                 * the test's stdout, and the harness would wait forever. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
                        _exit(11);
                close(p[1]);
                if (read(p[0], &c, 1) != 1)
                        _exit(10);
                fn();
                _exit(0);
        }
        close(p[0]);
        *ret_go = p[1];
        return pid;
}

static void sleep_forever(void) {
        for (;;)
                pause();
}

static void fork_and_sleep(void) {
        if (fork() == 0)
                sleep_forever();
        sleep_forever();
}

static void allocate_too_much(void) {
        /* 256 MiB touched page by page against a 16 MiB limit */
        for (int i = 0; i < 256; i++) {
                char *m = malloc(1 << 20);
                if (!m)
                        _exit(11);
                for (size_t j = 0; j < (1 << 20); j += 4096)
                        m[j] = 1;
        }
        _exit(12);
}

static Cgroup *g_real_cg;

static bool in_cgroup(pid_t pid, const char *suffix) {
        char p[64];
        _cleanup_free_ char *s = NULL;

        snprintf(p, sizeof p, "/proc/%d/cgroup", (int) pid);
        assert_int_equal(read_file_at(AT_FDCWD, p, 8192, &s, NULL), 0);
        return strstr(s, suffix) != NULL;
}

/* In how many hierarchies pid's cgroup ends in suffix. */
static int hierarchies_with(pid_t pid, const char *suffix) {
        _cleanup_free_ char *s = NULL;
        char p[64];
        int n = 0;

        snprintf(p, sizeof p, "/proc/%d/cgroup", (int) pid);
        if (read_file_at(AT_FDCWD, p, 8192, &s, NULL) < 0)
                return -1;
        for (const char *q = s; (q = strstr(q, suffix)); q++)
                n++;
        return n;
}

static void attach_self_and_wait(void) {
        if (cgroup_attach_self(g_real_cg) < 0)
                _exit(12);
        sleep_forever();
}

/* The kernel moves a process that writes "0" to tasks, and so its children. */
static void test_real_v1_attach_self(void **state _unused_) {
        char name[64], suffix[80];
        int go, status;
        pid_t pid;

        skip_unless_real_v1();
        real_name(name, sizeof name, "self");
        assert_int_equal(cgroup_create(REAL_ROOT, REAL_SELF, name, &full_limits, &g_real_cg), 0);
        pid = spawn(&go, attach_self_and_wait);
        assert_int_equal(write(go, "x", 1), 1);
        close(go);
        snprintf(suffix, sizeof suffix, "/shuttle/%s\n", name);
        /* in every hierarchy of the cgroup (memory, pids, cpu): the child
         * writes to one after the other, so wait for all of them. */
        {
                int want = cgroup_paths(g_real_cg)[2] ? 3 : cgroup_paths(g_real_cg)[1] ? 2 : 1, n = 0;

                for (int i = 0; i < 500 && (n = hierarchies_with(pid, suffix)) < want; i++)
                        usleep(10000);
                assert_int_equal(n, want);
        }
        assert_int_equal(cgroup_kill_all(g_real_cg), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        assert_int_equal(cgroup_destroy(g_real_cg), 0);
        cgroup_free(g_real_cg);
        g_real_cg = NULL;
}

static void test_real_v1_limits(void **state _unused_) {
        Cgroup *cg = NULL;
        char name[64], suffix[80];
        const char *const *paths;
        int go, status;
        pid_t pid;

        skip_unless_real_v1();
        real_name(name, sizeof name, "lim");
        assert_int_equal(cgroup_create(REAL_ROOT, REAL_SELF, name, &full_limits, &cg), 0);
        paths = cgroup_paths(cg);
        assert_non_null(paths[0]);
        assert_non_null(paths[1]);
        assert_non_null(paths[2]);

        /* the kernel's view of what we wrote */
        assert_int_equal(real_read_u64(paths[0], "memory.limit_in_bytes"), 64 << 20);
        if (exists(paths[0], "memory.memsw.limit_in_bytes"))
                assert_int_equal(real_read_u64(paths[0], "memory.memsw.limit_in_bytes"), 64 << 20);
        assert_int_equal(real_read_u64(paths[1], "pids.max"), 64);
        assert_int_equal(real_read_u64(paths[2], "cpu.cfs_quota_us"), 50000);
        assert_int_equal(real_read_u64(paths[2], "cpu.cfs_period_us"), 100000);

        /* attach a child (which forks a grandchild), then kill them all */
        pid = spawn(&go, fork_and_sleep);
        assert_int_equal(cgroup_attach(cg, pid), 0);
        snprintf(suffix, sizeof suffix, "/shuttle/%s\n", name);
        assert_true(in_cgroup(pid, suffix));
        assert_int_equal(write(go, "x", 1), 1);
        close(go);
        for (int i = 0; i < 200; i++) {
                _cleanup_free_ char *procs = get(paths[1], "cgroup.procs");
                if (strchr(procs, '\n') != strrchr(procs, '\n'))
                        break; /* two processes listed */
                usleep(10000);
        }
        assert_int_equal(cgroup_kill_all(cg), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        assert_file(paths[0], "cgroup.procs", "");

        char keep[3][256];
        for (int i = 0; i < 3; i++)
                snprintf(keep[i], sizeof keep[i], "%s", paths[i]);
        assert_int_equal(cgroup_destroy(cg), 0);
        for (int i = 0; i < 3; i++)
                assert_false(exists(keep[i], "."));
        assert_int_equal(cgroup_destroy(cg), 0);
        cgroup_free(cg);
}

static void test_real_v1_oom(void **state _unused_) {
        Cgroup *cg = NULL;
        CgroupLimits l = { .memory_bytes = 16 << 20 };
        char name[64], path[256];
        uint64_t n = 0;
        int go, status;
        pid_t pid;

        skip_unless_real_v1();
        real_name(name, sizeof name, "oom");
        assert_int_equal(cgroup_create(REAL_ROOT, REAL_SELF, name, &l, &cg), 0);
        snprintf(path, sizeof path, "%s", cgroup_path(cg));
        assert_int_equal(cgroup_oom_kill_count(cg, &n), 0);
        assert_int_equal(n, 0);

        pid = spawn(&go, allocate_too_much);
        assert_int_equal(cgroup_attach(cg, pid), 0);
        assert_int_equal(write(go, "x", 1), 1);
        close(go);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        assert_int_equal(cgroup_oom_kill_count(cg, &n), 0);
        assert_true(n >= 1);

        assert_int_equal(cgroup_destroy(cg), 0);
        assert_false(exists(path, "."));
        cgroup_free(cg);
}

static void test_real_v1_stale(void **state _unused_) {
        Cgroup *cg = NULL;
        char name[64], keep[3][256];
        int go, status;
        pid_t pid;

        skip_unless_real_v1();
        real_name(name, sizeof name, "stale");
        assert_int_equal(cgroup_create(REAL_ROOT, REAL_SELF, name, &full_limits, &cg), 0);
        for (int i = 0; i < 3; i++)
                snprintf(keep[i], sizeof keep[i], "%s", cgroup_paths(cg)[i]);
        pid = spawn(&go, sleep_forever);
        assert_int_equal(cgroup_attach(cg, pid), 0);
        cg = cgroup_free(cg); /* shuttlectl "crashed" */

        /* a new run of the same name is refused while the process lives */
        assert_int_equal(cgroup_create(REAL_ROOT, REAL_SELF, name, NULL, &cg), -EBUSY);
        assert_null(cg);
        assert_true(exists(keep[0], "cgroup.procs"));

        assert_int_equal(cgroup_remove_stale(REAL_ROOT, REAL_SELF, name), 1);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        close(go);
        for (int i = 0; i < 3; i++)
                assert_false(exists(keep[i], "."));
        assert_int_equal(cgroup_remove_stale(REAL_ROOT, REAL_SELF, name), 0);

        /* the same through recorded paths */
        assert_int_equal(cgroup_create(REAL_ROOT, REAL_SELF, name, &full_limits, &cg), 0);
        for (int i = 0; i < 3; i++)
                snprintf(keep[i], sizeof keep[i], "%s", cgroup_paths(cg)[i]);
        pid = spawn(&go, sleep_forever);
        assert_int_equal(cgroup_attach(cg, pid), 0);
        cg = cgroup_free(cg);
        for (int i = 0; i < 3; i++)
                assert_int_equal(cgroup_remove_stale_path(keep[i]), 1);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        close(go);
        for (int i = 0; i < 3; i++)
                assert_false(exists(keep[i], "."));
        assert_int_equal(cgroup_remove_stale_path(keep[0]), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_probe_v2, setup_v2, teardown_tree),
                cmocka_unit_test_setup_teardown(test_probe_v1_hybrid, setup_v1, teardown_tree),
                cmocka_unit_test(test_probe_v1_plain),
                cmocka_unit_test(test_probe_none),
                cmocka_unit_test_setup_teardown(test_v2_create_limits, setup_v2, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v2_custom_period_no_swap, setup_v2, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v2_no_limits, setup_v2, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v2_devices_not_enforced, setup_v2, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v2_missing_controller, setup_v2, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v2_rollback, setup_v2, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v2_invalid, setup_v2, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v2_oom_count, setup_v2, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v2_attach_kill_destroy, setup_v2, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v2_stale, setup_v2, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v1_create_limits, setup_v1, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v1_no_cpu_no_memsw, setup_v1, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v1_missing_controller, setup_v1, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v1_rollback, setup_v1, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v1_self_path, setup_v1, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v1_stale, setup_v1, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v1_stale_path, setup_v1, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v1_path_absolute, setup_v1, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v1_path_relative, setup_v1, teardown_tree),
                cmocka_unit_test_setup_teardown(test_path_invalid, setup_v1, teardown_tree),
                cmocka_unit_test_setup_teardown(test_v2_path_cpu, setup_v2, teardown_tree),
                cmocka_unit_test(test_real_v1_limits),
                cmocka_unit_test(test_real_v1_attach_self),
                cmocka_unit_test(test_real_v1_oom),
                cmocka_unit_test(test_real_v1_stale),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
