/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pure parts of transfers: path normalisation, the name a target sees
 * (what a file argument is rewritten to), the caller's own access, where
 * `as` places may not overlap; that a mount point is never made in a root
 * that is still the host's; expanding a depend path glob. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/daemon/xfer.h"

static void test_normalize(void **state) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "/", "/" },
                { "/tmp/x", "/tmp/x" },
                { "//tmp///x//", "/tmp/x" },
                { "/tmp/./x/.", "/tmp/x" },
                { "/tmp/share/../secret", "/tmp/secret" },
                /* ".." never climbs above the root, as RESOLVE_IN_ROOT. */
                { "/../../etc/shadow", "/etc/shadow" },
                { "/a/b/../../..", "/" },
                { "/a/..b/c..", "/a/..b/c.." },
                { "/a/.../b", "/a/.../b" },
                { "/.hidden", "/.hidden" },
        };
        char buf[PATH_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(xfer_path_normalize(cases[i].in, buf, sizeof(buf)), 0);
                assert_string_equal(buf, cases[i].out);
        }
        assert_int_equal(xfer_path_normalize("tmp/x", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(xfer_path_normalize("", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(xfer_path_normalize("/abcdef", buf, 4), -ENAMETOOLONG);
        assert_int_equal(xfer_path_normalize("/abc", buf, 5), 0);
        assert_string_equal(buf, "/abc");
        (void) state;
}

static void test_target_path(void **state) {
        char buf[PATH_MAX];

        assert_int_equal(xfer_target_path(12, "/home/u/report.pdf", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "/run/shuttle/xfer/12/report.pdf");
        assert_int_equal(xfer_target_path(1, "/tmp/dir", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "/run/shuttle/xfer/1/dir");
        assert_int_equal(xfer_target_path(1, "/", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(xfer_target_path(1, "/x/..", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(xfer_target_path(123456, "/a/b", buf, 20), -ENAMETOOLONG);
        (void) state;
}

static void test_may_access(void **state) {
        struct stat file = { .st_mode = S_IFREG | 0640, .st_uid = 1000, .st_gid = 100 };
        struct stat dir = { .st_mode = S_IFDIR | 0755, .st_uid = 0, .st_gid = 0 };
        struct stat noexec_dir = { .st_mode = S_IFDIR | 0644, .st_uid = 0, .st_gid = 0 };
        gid_t groups[] = { 5, 100 };

        assert_true(xfer_may_access(&file, 0, 0, NULL, 0, true));           /* root */
        assert_true(xfer_may_access(&file, 1000, 1000, NULL, 0, true));     /* owner rw */
        assert_true(xfer_may_access(&file, 2000, 100, NULL, 0, false));     /* group r */
        assert_false(xfer_may_access(&file, 2000, 100, NULL, 0, true));     /* group not w */
        assert_true(xfer_may_access(&file, 2000, 7, groups, 2, false));     /* supplementary */
        assert_false(xfer_may_access(&file, 2000, 7, groups, 1, false));    /* other: nothing */
        assert_true(xfer_may_access(&dir, 1000, 1000, NULL, 0, false));     /* r-x */
        assert_false(xfer_may_access(&dir, 1000, 1000, NULL, 0, true));
        assert_false(xfer_may_access(&noexec_dir, 1000, 1000, NULL, 0, false)); /* needs x */
        (void) state;
}

static void test_paths_overlap(void **state) {
        assert_true(xfer_paths_overlap("/tmp/in", "/tmp/in"));
        assert_true(xfer_paths_overlap("/tmp/in", "/tmp/in/x"));
        assert_true(xfer_paths_overlap("/tmp/in/x/y", "/tmp/in"));
        assert_true(xfer_paths_overlap("/", "/tmp"));
        assert_true(xfer_paths_overlap("/run", "/run/shuttle"));
        assert_false(xfer_paths_overlap("/tmp/in", "/tmp/inbox"));
        assert_false(xfer_paths_overlap("/tmp/inbox", "/tmp/in"));
        assert_false(xfer_paths_overlap("/tmp/a", "/tmp/b"));
        assert_false(xfer_paths_overlap("/run/shuttle-shim", "/run/shuttle"));
        (void) state;
}

/* A process whose root is the host's (ours, here) never gets a mount
 * point made: that would be on the host. */
static void test_place_refuses_host_root(void **state) {
        XferPlace p = { .dir_fd = -1 };
        int pidfd = (int) syscall(SYS_pidfd_open, getpid(), 0), fd = -1;

        assert_true(pidfd >= 0);
        assert_int_equal(xfer_place_open(getpid(), pidfd, "/tmp/shuttle-test-place", false, &p, &fd), -EAGAIN);
        assert_int_equal(p.dir_fd, -1);
        assert_int_equal(fd, -1);
        assert_int_equal(access("/tmp/shuttle-test-place", F_OK), -1);
        assert_int_equal(xfer_place_open(getpid(), pidfd, "/", false, &p, &fd), -EINVAL);
        assert_int_equal(xfer_place_open(getpid(), pidfd, "relative/x", false, &p, &fd), -EINVAL);
        assert_int_equal(xfer_place_release(pidfd, NULL), 0);
        close(pidfd);
        (void) state;
}

static void mkdirs(int dir, const char *const *paths) {
        for (const char *const *p = paths; *p; p++)
                assert_int_equal(mkdirat(dir, *p, 0755), 0);
}

static char *joined(char **v, size_t n) {
        static char buf[1024];
        buf[0] = 0;
        for (size_t i = 0; i < n; i++)
                snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? " " : "", v[i]);
        return buf;
}

/* A depend rule's path glob, expanded beneath a directory taken as the
 * root: directories only, in name order, never through a symlink. */
static void test_glob_dirs(void **state) {
        static const char *const dirs[] = { "opt", "opt/tools", "opt/tools/b", "opt/tools/a", "opt/tools/d",
                                            "opt/other", "opt/other/x", "opt/more", "opt/more/x", NULL };
        char tmpl[] = "/tmp/test-xfer-glob.XXXXXX", cmd[64];
        char **m = NULL;
        size_t n = 0;
        bool truncated = true;
        int root, f;

        assert_non_null(mkdtemp(tmpl));
        root = open(tmpl, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(root >= 0);
        mkdirs(root, dirs);
        f = openat(root, "opt/tools/c-file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(f >= 0);
        close(f);
        assert_int_equal(symlinkat("a", root, "opt/tools/lnk"), 0);
        assert_int_equal(symlinkat("/", root, "opt/up"), 0);
        assert_int_equal(symlinkat("../../../../..", root, "opt/dots"), 0);

        assert_int_equal(xfer_glob_dirs(root, "/opt/tools/*", 64, &m, &n, &truncated), 0);
        assert_string_equal(joined(m, n), "/opt/tools/a /opt/tools/b /opt/tools/d");
        assert_false(truncated);
        xfer_glob_free(m, n);

        assert_int_equal(xfer_glob_dirs(root, "/opt/tools/*", 2, &m, &n, &truncated), 0);
        assert_string_equal(joined(m, n), "/opt/tools/a /opt/tools/b");
        assert_true(truncated);
        xfer_glob_free(m, n);

        assert_int_equal(xfer_glob_dirs(root, "/opt/*/x", 64, &m, &n, NULL), 0);
        assert_string_equal(joined(m, n), "/opt/more/x /opt/other/x");
        xfer_glob_free(m, n);

        assert_int_equal(xfer_glob_dirs(root, "/opt/tools/[!a-b]", 64, &m, &n, NULL), 0);
        assert_string_equal(joined(m, n), "/opt/tools/d");
        xfer_glob_free(m, n);

        /* Symlinks are no match, and never lead out. */
        assert_int_equal(xfer_glob_dirs(root, "/opt/up/*", 64, &m, &n, NULL), 0);
        assert_int_equal(n, 0);
        xfer_glob_free(m, n);
        assert_int_equal(xfer_glob_dirs(root, "/opt/dots/*", 64, &m, &n, NULL), 0);
        assert_int_equal(n, 0);
        xfer_glob_free(m, n);
        assert_int_equal(xfer_glob_dirs(root, "/opt/[tu]*", 64, &m, &n, NULL), 0);
        assert_string_equal(joined(m, n), "/opt/tools");
        xfer_glob_free(m, n);

        assert_int_equal(xfer_glob_dirs(root, "/nosuch/*", 64, &m, &n, NULL), 0);
        assert_int_equal(n, 0);
        xfer_glob_free(m, n);
        assert_int_equal(xfer_glob_dirs(root, "/opt/**", 64, &m, &n, NULL), -EINVAL);
        assert_int_equal(xfer_glob_dirs(root, "/opt/../*", 64, &m, &n, NULL), -EINVAL);
        assert_int_equal(xfer_glob_dirs(root, "opt/*", 64, &m, &n, NULL), -EINVAL);
        assert_int_equal(xfer_glob_dirs(root, "/", 64, &m, &n, NULL), -EINVAL);

        close(root);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
        assert_int_equal(system(cmd), 0);
        (void) state;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_normalize),
                cmocka_unit_test(test_target_path),
                cmocka_unit_test(test_may_access),
                cmocka_unit_test(test_paths_overlap),
                cmocka_unit_test(test_place_refuses_host_root),
                cmocka_unit_test(test_glob_dirs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
