/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json's values as a ContainerConfig (oci-config.c): the configs
 * runc and podman write, mount options, and each refusal by the key it
 * names. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "runtime/mounts.h"
#include "runtime/oci-config.h"

static OciSpec *parse(const char *name) {
        _cleanup_free_ char *text = NULL;
        char path[4096], err[512] = "";
        OciSpec *s = NULL;
        size_t len;

        snprintf(path, sizeof(path), "%s/%s", OCI_FIXTURE_DIR, name);
        assert_int_equal(read_file_at(AT_FDCWD, path, 1 << 20, &text, &len), 0);
        if (oci_spec_parse(text, len, &s, err, sizeof(err)) < 0)
                fail_msg("%s: %s", name, err);
        return s;
}

static const MountEntry *find(const ContainerConfig *c, MountKind kind, const char *target) {
        for (size_t i = 0; i < c->n_mounts; i++)
                if (c->mounts[i].kind == kind && streq(c->mounts[i].target, target))
                        return &c->mounts[i];
        return NULL;
}

static void test_runc_spec(void **state) {
        OciSpec *s = parse("runc-spec.json");
        ContainerConfig c;
        char err[512] = "";
        const MountEntry *e;

        (void) state;
        container_config_init(&c);
        assert_int_equal(oci_config_from_spec(s, "/b", "abc", &c, err, sizeof(err)), 0);
        assert_true(c.cmd_is_pid1 && c.own_mounts && c.env_exact && c.hostname_exact);
        assert_string_equal(c.name, "abc");
        assert_string_equal(c.rootfs, "/b/rootfs");
        assert_string_equal(c.hostname, "runc");
        assert_string_equal(c.argv[0], "sh");
        assert_true(c.tty);
        /* pid, network, ipc, uts, mount: new; no cgroup namespace listed. */
        assert_true(c.has_namespaces);
        assert_int_equal(c.namespaces, CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS);
        /* bounding ∩ permitted. */
        assert_int_equal(c.caps, CAP_MASK(CAP_AUDIT_WRITE) | CAP_MASK(CAP_KILL) | CAP_MASK(CAP_NET_BIND_SERVICE));
        /* No pids limit by default: the spec's, or none. */
        assert_int_equal(c.limits.pids_max, 0);
        assert_true(c.limits.freezer);

        e = find(&c, MOUNT_FS, "/dev");
        assert_non_null(e);
        assert_string_equal(e->fstype, "tmpfs");
        assert_string_equal(e->options, "mode=755,size=65536k");
        assert_int_equal(e->attrs, MNT_NOSUID);
        e = find(&c, MOUNT_FS, "/sys");
        assert_non_null(e);
        assert_int_equal(e->attrs, MNT_NOSUID | MNT_NOEXEC | MNT_NODEV | MNT_RDONLY);
        assert_null(e->options);
        e = find(&c, MOUNT_CGROUP, "/sys/fs/cgroup");
        assert_non_null(e);
        assert_true(e->attrs & MNT_RDONLY);
        /* The default devices come after /dev's tmpfs. */
        assert_non_null(find(&c, MOUNT_BIND, "/dev/null"));
        assert_true(find(&c, MOUNT_BIND, "/dev/null") > find(&c, MOUNT_FS, "/dev"));
        assert_non_null(find(&c, MOUNT_MASK, "/proc/kcore"));
        assert_true(find(&c, MOUNT_MASK, "/proc/kcore")->optional);
        assert_non_null(find(&c, MOUNT_READONLY, "/proc/sys"));
        /* The devices cgroup: the spec's deny-all, then the defaults. */
        assert_true(c.limits.has_devices);
        assert_true(c.limits.n_devices > 3);
        assert_false(c.limits.devices[0].allow);
        assert_int_equal(c.limits.devices[0].type, 'a');
        assert_true(c.limits.devices[1].allow);
        assert_int_equal(c.limits.devices[3].major, 1);
        assert_int_equal(c.limits.devices[3].minor, 3);
        assert_true(c.limits.freezer);
        container_config_done(&c);
        oci_spec_free(s);
}

static void test_podman_spec(void **state) {
        OciSpec *s = parse("podman.json");
        ContainerConfig c;
        char err[512] = "";
        const MountEntry *e;

        (void) state;
        /* Its hooks are shuttle-oci's to run (oci-hooks.c): accepted. */
        container_config_init(&c);
        if (oci_config_from_spec(s, "/b", "x", &c, err, sizeof(err)) != 0)
                fail_msg("%s", err);
        /* Its sysctl, written into the container's own /proc before the
         * read-only paths. */
        e = find(&c, MOUNT_SYSCTL, "/proc/sys/net/ipv4/ping_group_range");
        assert_non_null(e);
        assert_string_equal(e->options, "0 0");
        assert_true(e < find(&c, MOUNT_READONLY, "/proc/sys"));
        /* A bind mount: "rbind" with propagation and "z" dropped. */
        e = find(&c, MOUNT_BIND, "/etc/hosts");
        assert_non_null(e);
        assert_true(e->source[0] == '/');
        assert_non_null(c.seccomp); /* its profile replaces the default one */
        assert_true(c.caps & CAP_MASK(CAP_CHOWN));
        /* podman's noNewPrivileges false is honoured. */
        assert_true(c.new_privs);
        container_config_done(&c);
        oci_spec_free(s);
}

/* One refusal: the spec edited by fn, the message naming key. */
static void refused(void (*fn)(OciSpec *s), const char *key) {
        OciSpec *s = parse("runc-spec.json");
        ContainerConfig c;
        char err[512] = "";

        fn(s);
        container_config_init(&c);
        assert_int_equal(oci_config_from_spec(s, "/b", "x", &c, err, sizeof(err)), -EINVAL);
        if (!strstr(err, key))
                fail_msg("expected '%s' in: %s", key, err);
        container_config_done(&c);
        oci_spec_free(s);
}

static void edit_user_ns(OciSpec *s) {
        s->namespaces[0].type = OCI_NS_USER;
}
/* uid map LINES: each "inside outside size", as in config.json. */
static void set_maps(OciSpec *s, size_t n, const uint32_t (*uid)[3], const uint32_t (*gid)[3]) {
        free(s->uid_mappings);
        free(s->gid_mappings);
        s->uid_mappings = calloc(n ? n : 1, sizeof(OciIdMap));
        s->gid_mappings = calloc(1, sizeof(OciIdMap));
        for (size_t i = 0; i < n; i++)
                s->uid_mappings[i] = (OciIdMap){ .container_id = uid[i][0], .host_id = uid[i][1], .size = uid[i][2] };
        s->n_uid_mappings = n;
        s->gid_mappings[0] = (OciIdMap){ .container_id = gid[0][0], .host_id = gid[0][1], .size = gid[0][2] };
        s->n_gid_mappings = 1;
}
static const uint32_t one_map[][3] = { { 0, 100000, 65536 } };
static void edit_user_ns_maps(OciSpec *s, size_t n, const uint32_t (*uid)[3]) {
        s->namespaces[0].type = OCI_NS_USER;
        set_maps(s, n, uid, one_map);
}
static void edit_userns_overlap_inside(OciSpec *s) {
        static const uint32_t m[][3] = { { 0, 100000, 1000 }, { 2000, 300000, 10 }, { 999, 200000, 5 } };
        edit_user_ns_maps(s, 3, m);
}
static void edit_userns_overlap_host(OciSpec *s) {
        static const uint32_t m[][3] = { { 0, 100000, 1000 }, { 5000, 100500, 10 } };
        edit_user_ns_maps(s, 2, m);
}
static void edit_userns_too_many(OciSpec *s) {
        static uint32_t m[341][3];
        for (size_t i = 0; i < 341; i++) {
                m[i][0] = (uint32_t) i;
                m[i][1] = 100000 + (uint32_t) i;
                m[i][2] = 1;
        }
        edit_user_ns_maps(s, 341, (const uint32_t (*)[3]) m);
}
static void edit_userns_root_unmapped(OciSpec *s) {
        static const uint32_t m[][3] = { { 1, 100000, 1000 } };
        edit_user_ns_maps(s, 1, m);
}
static void edit_userns_user_unmapped(OciSpec *s) {
        static const uint32_t m[][3] = { { 0, 100000, 1000 } };
        edit_user_ns_maps(s, 1, m);
        s->process.uid = 5000;
}
static void edit_userns_no_maps(OciSpec *s) {
        s->namespaces[0].type = OCI_NS_USER;
}
static void edit_maps_no_userns(OciSpec *s) {
        set_maps(s, 1, one_map, one_map);
}
static void edit_userns_join_cgroup(OciSpec *s) {
        static const OciNamespace cg = { .type = OCI_NS_CGROUP };
        edit_user_ns_maps(s, 1, one_map);
        s->namespaces = realloc(s->namespaces, (s->n_namespaces + 1) * sizeof(OciNamespace));
        s->namespaces[s->n_namespaces] = cg;
        s->namespaces[s->n_namespaces].path = strdup("/proc/1/ns/cgroup");
        s->n_namespaces++;
}
static void edit_join_user(OciSpec *s) {
        s->namespaces[0].type = OCI_NS_USER;
        s->namespaces[0].path = strdup("/proc/1/ns/user");
}
static void add_ns(OciSpec *s, OciNsType t, const char *path) {
        s->namespaces = realloc(s->namespaces, (s->n_namespaces + 1) * sizeof(OciNamespace));
        s->namespaces[s->n_namespaces] = (OciNamespace){ .type = t, .path = path ? strdup(path) : NULL };
        s->n_namespaces++;
}
static void edit_join_time(OciSpec *s) {
        add_ns(s, OCI_NS_TIME, "/proc/1/ns/time");
}
static void edit_time_offsets_no_ns(OciSpec *s) {
        s->time_boottime = (OciTimeOffset){ .has = true, .secs = 100 };
}
static void edit_no_mount_ns(OciSpec *s) {
        for (size_t i = 0; i < s->n_namespaces; i++)
                if (s->namespaces[i].type == OCI_NS_MOUNT)
                        s->namespaces[i].type = OCI_NS_IPC;
}
static void edit_join_mount(OciSpec *s) {
        for (size_t i = 0; i < s->n_namespaces; i++)
                if (s->namespaces[i].type == OCI_NS_MOUNT)
                        s->namespaces[i].path = strdup("/proc/1/ns/mnt");
}
static void edit_mount_idmap(OciSpec *s) {
        free(s->mounts[0].options);
        s->mounts[0].options = calloc(3, sizeof(char *));
        s->mounts[0].options[0] = strdup("ro");
        s->mounts[0].options[1] = strdup("idmap");
}
static void edit_mount_type(OciSpec *s) {
        free(s->mounts[0].type);
        s->mounts[0].type = strdup("overlay");
}
static void edit_sysctl_host(OciSpec *s) {
        s->sysctl_keys = calloc(2, sizeof(char *));
        s->sysctl_values = calloc(2, sizeof(char *));
        s->sysctl_keys[0] = strdup("vm.swappiness");
        s->sysctl_values[0] = strdup("10");
        s->n_sysctl = 1;
}
static void edit_start_container_hook(OciSpec *s) {
        s->hooks[OCI_HOOK_START_CONTAINER] = calloc(1, sizeof(OciHook));
        s->hooks[OCI_HOOK_START_CONTAINER][0].path = strdup("/bin/true");
        s->n_hooks[OCI_HOOK_START_CONTAINER] = 1;
}
static void edit_hostname_shared_uts(OciSpec *s) {
        for (size_t i = 0; i < s->n_namespaces; i++)
                if (s->namespaces[i].type == OCI_NS_UTS)
                        s->namespaces[i].type = OCI_NS_CGROUP;
}

static void edit_cgroups_path_dotdot(OciSpec *s) {
        s->cgroups_path = strdup("/a/../b");
}
static void edit_cpu_shares(OciSpec *s) {
        s->resources.has_cpu_shares = true;
        s->resources.cpu_shares = 1;
}

/* linux.cgroupsPath and the cpu resources reach CgroupLimits. */
static void test_cgroups(void **state) {
        OciSpec *s = parse("runc-spec.json");
        ContainerConfig c;
        char err[512] = "";

        (void) state;
        container_config_init(&c);
        assert_int_equal(oci_config_from_spec(s, "/b", "x", &c, err, sizeof(err)), 0);
        assert_null(c.limits.path); /* none: shuttle/<name> */
        container_config_done(&c);

        s->cgroups_path = strdup("/machine/x");
        s->resources.has_cpu_shares = true;
        s->resources.cpu_shares = 512;
        s->resources.has_cpu_quota = true;
        s->resources.cpu_quota = 20000;
        s->resources.has_cpu_period = true;
        s->resources.cpu_period = 50000;
        s->resources.cpu_cpus = strdup("0-1");
        s->resources.cpu_mems = strdup("0");
        container_config_init(&c);
        if (oci_config_from_spec(s, "/b", "x", &c, err, sizeof(err)) != 0)
                fail_msg("%s", err);
        assert_string_equal(c.limits.path, "/machine/x");
        assert_int_equal(c.limits.cpu_shares, 512);
        assert_int_equal(c.limits.cpu_quota_usec, 20000);
        assert_int_equal(c.limits.cpu_period_usec, 50000);
        assert_string_equal(c.limits.cpus, "0-1");
        assert_string_equal(c.limits.mems, "0");
        container_config_done(&c);
        oci_spec_free(s);
}

/* A user namespace: the maps reach the configuration; a mount namespace
 * joined by path is no longer new. */
static void test_user_ns(void **state) {
        static const uint32_t m[][3] = { { 0, 100000, 1000 }, { 1000, 300000, 64536 } };
        OciSpec *s = parse("runc-spec.json");
        ContainerConfig c;
        char err[512] = "";

        (void) state;
        s->namespaces = realloc(s->namespaces, (s->n_namespaces + 1) * sizeof(OciNamespace));
        s->namespaces[s->n_namespaces++] = (OciNamespace){ .type = OCI_NS_USER };
        set_maps(s, 2, m, one_map);
        container_config_init(&c);
        if (oci_config_from_spec(s, "/b", "x", &c, err, sizeof(err)) != 0)
                fail_msg("%s", err);
        assert_true(c.namespaces & CLONE_NEWUSER);
        assert_int_equal(c.n_uid_map, 2);
        assert_int_equal(c.uid_map[1].inside, 1000);
        assert_int_equal(c.uid_map[1].outside, 300000);
        assert_int_equal(c.uid_map[1].count, 64536);
        assert_int_equal(c.n_gid_map, 1);
        assert_int_equal(c.gid_map[0].outside, 100000);
        container_config_done(&c);
        oci_spec_free(s);

        s = parse("runc-spec.json");
        edit_join_mount(s);
        container_config_init(&c);
        if (oci_config_from_spec(s, "/b", "x", &c, err, sizeof(err)) != 0)
                fail_msg("%s", err);
        assert_false(c.namespaces & CLONE_NEWNS);
        assert_string_equal(c.ns_path[CONTAINER_NS_MOUNT], "/proc/1/ns/mnt");
        container_config_done(&c);
        oci_spec_free(s);
}

/* hooks.startContainer goes to the container's process: path, args, env
 * and timeout as the spec has them. */
static void test_start_container_hooks(void **state) {
        ContainerConfig c;
        OciSpec *s = parse("runc-spec.json");
        char err[512] = "";

        (void) state;
        edit_start_container_hook(s);
        s->hooks[OCI_HOOK_START_CONTAINER][0].timeout = 7;
        container_config_init(&c);
        if (oci_config_from_spec(s, "/b", "x", &c, err, sizeof(err)) != 0)
                fail_msg("%s", err);
        assert_int_equal(c.n_start_hooks, 1);
        assert_string_equal(c.start_hooks[0].path, "/bin/true");
        assert_null(c.start_hooks[0].args);
        assert_int_equal(c.start_hooks[0].timeout, 7);
        container_config_done(&c);
        oci_spec_free(s);
}

/* A time namespace is new, with its offsets (monotonic, boottime). */
static void test_time_ns(void **state) {
        ContainerConfig c;
        OciSpec *s = parse("runc-spec.json");
        char err[512] = "";

        (void) state;
        add_ns(s, OCI_NS_TIME, NULL);
        s->time_monotonic = (OciTimeOffset){ .has = true, .secs = -5, .nanosecs = 7 };
        s->time_boottime = (OciTimeOffset){ .has = true, .secs = 86400 };
        container_config_init(&c);
        if (oci_config_from_spec(s, "/b", "x", &c, err, sizeof(err)) != 0)
                fail_msg("%s", err);
        assert_true(c.namespaces & CLONE_NEWTIME);
        assert_int_equal(c.time_offset_secs[0], -5);
        assert_int_equal(c.time_offset_nsecs[0], 7);
        assert_int_equal(c.time_offset_secs[1], 86400);
        assert_int_equal(c.time_offset_nsecs[1], 0);
        container_config_done(&c);
        oci_spec_free(s);
}

static void test_refusals(void **state) {
        (void) state;
        refused(edit_user_ns, "linux.uidMappings: required with a new user namespace");
        refused(edit_userns_no_maps, "linux.uidMappings: required with a new user namespace");
        refused(edit_maps_no_userns, "linux.uidMappings: needs a user namespace of the container's own");
        refused(edit_userns_overlap_inside, "linux.uidMappings[2]: container ids 999-1003 overlap linux.uidMappings[0]");
        refused(edit_userns_overlap_host, "linux.uidMappings[1]: host ids 100500-100509 overlap linux.uidMappings[0]");
        refused(edit_userns_root_unmapped, "linux.uidMappings: container id 0 must be mapped");
        refused(edit_userns_user_unmapped, "process.user.uid: 5000 is not in linux.uidMappings");
        refused(edit_userns_too_many, "linux.uidMappings: 341 mappings, the kernel takes at most 340");
        refused(edit_userns_join_cgroup, "joining a cgroup namespace together with a new user namespace");
        refused(edit_join_user, "linux.namespaces[0].path: joining a user namespace is not supported");
        refused(edit_join_time, "linux.namespaces[5].path: joining a time namespace is not supported");
        refused(edit_time_offsets_no_ns, "linux.timeOffsets: needs a time namespace of the container's own");
        refused(edit_no_mount_ns, "a mount namespace of its own");
        refused(edit_mount_idmap, "mounts[0].options: 'idmap' is not supported");
        refused(edit_mount_type, "mounts[0].type: 'overlay' is not supported");
        refused(edit_sysctl_host, "linux.sysctl.vm.swappiness: not in a namespace of the container's");
        refused(edit_hostname_shared_uts, "hostname: needs a uts namespace");
        refused(edit_cgroups_path_dotdot, "linux.cgroupsPath: '/a/../b'");
        refused(edit_cpu_shares, "linux.resources.cpu.shares: not within 2..262144");
}

static void test_mount_options(void **state) {
        char *const opts[] = { "nosuid", "rbind", "rprivate", "ro", "rw", "noexec", "mode=700", "newinstance",
                               "strictatime", NULL };
        char *const bad[] = { "ro", "remount", NULL };
        _cleanup_free_ char *fs = NULL;
        const char *which = NULL;
        uint32_t attrs;
        bool bind;

        (void) state;
        assert_int_equal(oci_mount_options(opts, &attrs, &bind, &fs, &which), 0);
        /* Later options win: "rw" after "ro". */
        assert_int_equal(attrs, MNT_NOSUID | MNT_NOEXEC);
        assert_true(bind);
        assert_string_equal(fs, "mode=700,newinstance");
        assert_int_equal(oci_mount_options(bad, &attrs, &bind, &fs, &which), -EOPNOTSUPP);
        assert_string_equal(which, "remount");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_runc_spec),
                cmocka_unit_test(test_podman_spec),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_start_container_hooks),
                cmocka_unit_test(test_time_ns),
                cmocka_unit_test(test_user_ns),
                cmocka_unit_test(test_cgroups),
                cmocka_unit_test(test_mount_options),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
