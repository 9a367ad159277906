/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The mount plan, built against a fake host tree. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "runtime/container.h"
#include "runtime/mounts.h"

static char host[] = "/tmp/shuttle-test-host-XXXXXX";

static int setup(void **state) {
        char p[256];
        if (!mkdtemp(host))
                return -1;
#define MK(rel) (snprintf(p, sizeof(p), "%s/%s", host, rel), mkdir_p_at(AT_FDCWD, p, 0755))
#define TOUCH(rel) (snprintf(p, sizeof(p), "%s/%s", host, rel), touch_at(AT_FDCWD, p, 0644))
#define LINK(rel, to) (snprintf(p, sizeof(p), "%s/%s", host, rel), symlink(to, p))
        MK("usr/bin");
        MK("usr/lib");
        MK("usr/share/zoneinfo/Etc");
        MK("lib64");
        MK("etc/alternatives");
        MK("run/systemd/resolve");
        TOUCH("usr/share/zoneinfo/Etc/UTC");
        TOUCH("etc/passwd");
        TOUCH("etc/group");
        TOUCH("etc/hosts");
        TOUCH("etc/ld.so.cache");
        TOUCH("etc/shadow");
        TOUCH("run/systemd/resolve/stub-resolv.conf");
        LINK("bin", "usr/bin");
        LINK("lib", "usr/lib");
        LINK("etc/localtime", "/usr/share/zoneinfo/Etc/UTC");
        LINK("etc/resolv.conf", "../run/systemd/resolve/stub-resolv.conf");
        return 0;
}

static int teardown(void **state) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", host);
        return system(cmd) == 0 ? 0 : -1;
}

static const MountEntry *find(const MountPlan *p, const char *target) {
        for (size_t i = 0; i < p->n; i++)
                if (strcmp(p->entries[i].target, target) == 0)
                        return &p->entries[i];
        return NULL;
}

static size_t index_of(const MountPlan *p, const char *target) {
        const MountEntry *e = find(p, target);
        assert_non_null(e);
        return (size_t) (e - p->entries);
}

static void test_host_rootfs(void **state) {
        ContainerConfig c;
        MountPlan p = {};
        const MountEntry *e;
        char path[300];

        container_config_init(&c);
        assert_int_equal(mount_plan_build(&c, host, &p), 0);
        assert_true(p.root_is_tmpfs);
        assert_true(p.root_read_only);

        /* Merged-/usr links are recreated, directories bound read-only. */
        e = find(&p, "/bin");
        assert_non_null(e);
        assert_int_equal(e->kind, MOUNT_SYMLINK);
        assert_string_equal(e->source, "usr/bin");
        e = find(&p, "/usr");
        assert_int_equal(e->kind, MOUNT_BIND);
        snprintf(path, sizeof(path), "%s/usr", host);
        assert_string_equal(e->source, path);
        assert_true(e->attrs & MNT_RDONLY);
        assert_true(e->attrs & MNT_NOSUID);
        e = find(&p, "/lib64");
        assert_int_equal(e->kind, MOUNT_BIND);
        /* Absent on the host: left out. */
        assert_null(find(&p, "/sbin"));
        assert_null(find(&p, "/lib32"));

        /* Only the listed /etc files, never shadow. */
        assert_int_equal(find(&p, "/etc/passwd")->kind, MOUNT_BIND);
        assert_true(find(&p, "/etc/passwd")->attrs & MNT_RDONLY);
        assert_null(find(&p, "/etc/shadow"));
        assert_null(find(&p, "/etc/nsswitch.conf"));
        assert_int_equal(find(&p, "/etc/alternatives")->kind, MOUNT_BIND);
        /* A time zone link into /usr stays a link; a resolv.conf link
         * elsewhere becomes a bind of the real file. */
        e = find(&p, "/etc/localtime");
        assert_int_equal(e->kind, MOUNT_SYMLINK);
        assert_string_equal(e->source, "/usr/share/zoneinfo/Etc/UTC");
        e = find(&p, "/etc/resolv.conf");
        assert_int_equal(e->kind, MOUNT_SYMLINK); /* relative link kept as is */

        /* Kernel filesystems and private scratch space. */
        assert_string_equal(find(&p, "/proc")->fstype, "proc");
        assert_true(find(&p, "/sys")->attrs & MNT_RDONLY);
        assert_string_equal(find(&p, "/dev/pts")->fstype, "devpts");
        assert_non_null(strstr(find(&p, "/dev/pts")->options, "newinstance"));
        assert_int_equal(find(&p, "/dev/null")->kind, MOUNT_BIND);
        assert_false(find(&p, "/dev/null")->attrs & MNT_NODEV);
        assert_int_equal(find(&p, "/dev/ptmx")->kind, MOUNT_SYMLINK);
        assert_string_equal(find(&p, "/dev/fd")->source, "/proc/self/fd");
        for (const char *const *t = (const char *const[]){ "/tmp", "/run", "/var/tmp", "/home", "/dev/shm", NULL }; *t; t++) {
                e = find(&p, *t);
                assert_non_null(e);
                assert_string_equal(e->fstype, "tmpfs");
                assert_false(e->attrs & MNT_RDONLY);
        }
        /* Masks and read-only kernel paths come after /proc and /sys. */
        assert_int_equal(find(&p, "/proc/kcore")->kind, MOUNT_MASK);
        assert_int_equal(find(&p, "/sys/firmware")->kind, MOUNT_MASK);
        assert_int_equal(find(&p, "/proc/sys")->kind, MOUNT_READONLY);
        assert_int_equal(find(&p, "/proc/sysrq-trigger")->kind, MOUNT_READONLY);
        assert_true(index_of(&p, "/proc/kcore") > index_of(&p, "/proc"));
        assert_true(index_of(&p, "/sys/firmware") > index_of(&p, "/sys"));
        mount_plan_done(&p);
        container_config_done(&c);
}

static void test_dir_rootfs_and_volumes(void **state) {
        ContainerConfig c;
        MountPlan p = {};
        Volume v[2] = {
                { .source = strdup("/srv/data"), .destination = strdup("/tmp/data"), .read_only = true },
                { .source = strdup("/srv/rw"), .destination = strdup("/mnt/rw"), .read_only = false },
        };
        char *text;

        container_config_init(&c);
        c.rootfs = strdup("/srv/rootfs");
        c.read_only = true;
        c.volumes = malloc(sizeof(v));
        memcpy(c.volumes, v, sizeof(v));
        c.n_volumes = 2;

        assert_int_equal(mount_plan_build(&c, host, &p), 0);
        assert_false(p.root_is_tmpfs);
        assert_true(p.root_read_only);
        /* Nothing is taken from the host for a rootfs directory. */
        assert_null(find(&p, "/usr"));
        assert_null(find(&p, "/etc/passwd"));
        assert_null(find(&p, "/home"));
        assert_non_null(find(&p, "/tmp"));
        assert_non_null(find(&p, "/proc"));
        /* Volumes come after the tmpfs they may land in. */
        assert_true(index_of(&p, "/tmp/data") > index_of(&p, "/tmp"));
        assert_true(find(&p, "/tmp/data")->attrs & MNT_RDONLY);
        assert_false(find(&p, "/mnt/rw")->attrs & MNT_RDONLY);
        assert_string_equal(find(&p, "/mnt/rw")->source, "/srv/rw");

        text = mount_plan_format(&p);
        assert_non_null(strstr(text, "bind /tmp/data <- /srv/data ro nosuid nodev\n"));
        assert_non_null(strstr(text, "fs /proc type=proc nosuid nodev noexec\n"));
        free(text);
        mount_plan_done(&p);
        container_config_done(&c);
}

/* Applying the entries that mount nothing (directories, links) onto a root
 * being built (root_is_tmpfs: targets made first, looked up only if
 * something is there) and onto a rootfs directory (looked up first): the
 * same tree either way, and never anything outside the root, whatever
 * links the root holds. */
static void apply_dirs(bool fresh) {
        char root[PATH_MAX + 16], outside[PATH_MAX + 16], p[PATH_MAX + 64], link[64];
        MountPlan plan = { .root_is_tmpfs = fresh };
        const MountEntry *failed = NULL;
        struct stat st;
        int fd;

        snprintf(root, sizeof(root), "%s/root-%d", host, fresh);
        snprintf(outside, sizeof(outside), "%s/outside-%d", host, fresh);
        assert_int_equal(mkdir(root, 0755), 0);
        assert_int_equal(mkdir(outside, 0755), 0);
        /* What a rootfs (or an earlier entry) may hold: a link that points
         * out of the root, absolutely and by "..". */
        snprintf(p, sizeof(p), "%s/abs", root);
        assert_int_equal(symlink(outside, p), 0);
        snprintf(p, sizeof(p), "%s/up", root);
        assert_int_equal(symlink("../../../..", p), 0);

        assert_int_equal(mount_plan_add(&plan, MOUNT_DIR, NULL, "/a/b/c", NULL, NULL, 0, 0755, false), 0);
        assert_int_equal(mount_plan_add(&plan, MOUNT_SYMLINK, "a/b", "/l", NULL, NULL, 0, 0, false), 0);
        assert_int_equal(mount_plan_add(&plan, MOUNT_DIR, NULL, "/l/d/", NULL, NULL, 0, 0755, false), 0);
        assert_int_equal(mount_plan_add(&plan, MOUNT_SYMLINK, "/x", "/a/ln", NULL, NULL, 0, 0, false), 0);
        assert_int_equal(mount_plan_add(&plan, MOUNT_DIR, NULL, "/a/b/c", NULL, NULL, 0, 0755, false), 0);
        assert_int_equal(mount_plan_add(&plan, MOUNT_DIR, NULL, "/up/in-too", NULL, NULL, 0, 0755, false), 0);
        fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(mount_plan_apply(&plan, fd, &failed), 0);
        mount_plan_done(&plan);
        plan = (MountPlan){ .root_is_tmpfs = fresh };
        /* Below a link that leads nowhere inside the root: refused. */
        assert_int_equal(mount_plan_add(&plan, MOUNT_DIR, NULL, "/abs/in", NULL, NULL, 0, 0755, false), 0);
        assert_true(mount_plan_apply(&plan, fd, &failed) < 0);
        assert_ptr_equal(failed, &plan.entries[0]);
        close(fd);

        snprintf(p, sizeof(p), "%s/a/b/c", root);
        assert_int_equal(stat(p, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        snprintf(p, sizeof(p), "%s/a/b/d", root); /* through /l */
        assert_int_equal(stat(p, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        snprintf(p, sizeof(p), "%s/a/ln", root);
        assert_int_equal(readlink(p, link, sizeof(link) - 1), 2);
        /* Neither link led out of the root. */
        snprintf(p, sizeof(p), "%s/in-too", root);
        assert_int_equal(stat(p, &st), 0);
        snprintf(p, sizeof(p), "%s/in", outside);
        assert_int_equal(stat(p, &st), -1);
        snprintf(p, sizeof(p), "%s/in-too", host);
        assert_int_equal(stat(p, &st), -1);
        mount_plan_done(&plan);
}

static void test_apply_fresh_root(void **state) {
        apply_dirs(true);
}

static void test_apply_rootfs_dir(void **state) {
        apply_dirs(false);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_host_rootfs),
                cmocka_unit_test(test_dir_rootfs_and_volumes),
                cmocka_unit_test(test_apply_fresh_root),
                cmocka_unit_test(test_apply_rootfs_dir),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
