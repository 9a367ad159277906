/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json into OciSpec: the configs runc, crun and podman write
 * (tests/unit/oci/), a long one, every prefix of one (no crash, no leak
 * under ASan), and one test per refusal, each checking that the message
 * names the JSON path at fault. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "runtime/oci-spec.h"

#define CAP(x) (UINT64_C(1) << (x))

static char *fixture(const char *name, size_t *ret_len) {
        char path[4096];
        char *text = NULL;

        snprintf(path, sizeof(path), "%s/%s", OCI_FIXTURE_DIR, name);
        assert_int_equal(read_file_at(AT_FDCWD, path, 1 << 20, &text, ret_len), 0);
        return text;
}

/* text, which must parse (what names it in the failure). */
static OciSpec *parse_ok(const char *what, const char *text, size_t len) {
        char err[512] = "";
        OciSpec *s = NULL;

        if (oci_spec_parse(text, len, &s, err, sizeof(err)) < 0)
                fail_msg("%s: %s", what, err);
        return s;
}

static OciSpec *parse_fixture(const char *name) {
        _cleanup_free_ char *text = NULL;
        size_t len;

        text = fixture(name, &len);
        return parse_ok(name, text, len);
}

static size_t strv_length(char **l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

static bool strv_contains(char **l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

static void test_runc_spec(void **state _unused_) {
        OciSpec *s = parse_fixture("runc-spec.json");
        uint64_t caps = CAP(CAP_AUDIT_WRITE) | CAP(CAP_KILL) | CAP(CAP_NET_BIND_SERVICE);

        assert_string_equal(s->oci_version, "1.0.2-dev");
        assert_true(s->has_process);
        assert_true(s->process.terminal);
        assert_int_equal(s->process.uid, 0);
        assert_int_equal(s->process.gid, 0);
        assert_false(s->process.has_umask);
        assert_string_equal(s->process.args[0], "sh");
        assert_null(s->process.args[1]);
        assert_int_equal(strv_length(s->process.env), 2);
        assert_string_equal(s->process.env[1], "TERM=xterm");
        assert_string_equal(s->process.cwd, "/");
        assert_true(s->process.has_caps);
        assert_int_equal(s->process.caps.bounding, caps);
        assert_int_equal(s->process.caps.effective, caps);
        assert_int_equal(s->process.caps.permitted, caps);
        assert_int_equal(s->process.caps.ambient, caps);
        assert_int_equal(s->process.caps.inheritable, 0);
        assert_int_equal(s->process.n_rlimits, 1);
        assert_int_equal(s->process.rlimits[0].resource, RLIMIT_NOFILE);
        assert_int_equal(s->process.rlimits[0].soft, 1024);
        assert_int_equal(s->process.rlimits[0].hard, 1024);
        assert_true(s->process.no_new_privileges);
        assert_false(s->process.has_oom_score_adj);
        assert_null(s->process.apparmor_profile);

        assert_string_equal(s->root_path, "rootfs");
        assert_true(s->root_readonly);
        assert_string_equal(s->hostname, "runc");
        assert_null(s->domainname);

        assert_int_equal(s->n_mounts, 7);
        assert_string_equal(s->mounts[0].destination, "/proc");
        assert_string_equal(s->mounts[0].type, "proc");
        assert_null(s->mounts[0].options);
        assert_string_equal(s->mounts[1].destination, "/dev");
        assert_int_equal(strv_length(s->mounts[1].options), 4);
        assert_string_equal(s->mounts[1].options[3], "size=65536k");
        assert_string_equal(s->mounts[6].type, "cgroup");
        assert_true(strv_contains(s->mounts[6].options, "ro"));

        assert_int_equal(s->resources.n_devices, 1);
        assert_false(s->resources.devices[0].allow);
        assert_int_equal(s->resources.devices[0].type, 'a');
        assert_int_equal(s->resources.devices[0].major, -1);
        assert_int_equal(s->resources.devices[0].minor, -1);
        assert_string_equal(s->resources.devices[0].access, "rwm");
        assert_false(s->resources.has_memory_limit);
        assert_false(s->resources.has_pids_limit);

        assert_int_equal(s->n_namespaces, 5);
        assert_non_null(oci_spec_namespace(s, OCI_NS_PID));
        assert_null(oci_spec_namespace(s, OCI_NS_PID)->path);
        assert_non_null(oci_spec_namespace(s, OCI_NS_MOUNT));
        assert_null(oci_spec_namespace(s, OCI_NS_USER));
        assert_null(oci_spec_namespace(s, OCI_NS_CGROUP));
        assert_int_equal(s->n_uid_mappings, 0);
        assert_false(s->has_seccomp);
        assert_int_equal(strv_length(s->masked_paths), 10);
        assert_string_equal(s->masked_paths[0], "/proc/acpi");
        assert_int_equal(strv_length(s->readonly_paths), 5);
        assert_string_equal(s->readonly_paths[4], "/proc/sysrq-trigger");
        for (OciHookKind k = 0; k < _OCI_HOOK_MAX; k++)
                assert_int_equal(s->n_hooks[k], 0);
        assert_int_equal(s->n_annotations, 0);
        assert_null(oci_spec_annotation(s, "org.shuttle.name"));
        oci_spec_free(s);
}

static void test_runc_spec_rootless(void **state _unused_) {
        OciSpec *s = parse_fixture("runc-spec-rootless.json");
        const OciNamespace *user = oci_spec_namespace(s, OCI_NS_USER);

        assert_non_null(user);
        assert_null(user->path);
        assert_null(oci_spec_namespace(s, OCI_NS_NETWORK));
        assert_int_equal(s->n_uid_mappings, 1);
        assert_int_equal(s->n_gid_mappings, 1);
        assert_int_equal(s->uid_mappings[0].container_id, 0);
        assert_int_equal(s->uid_mappings[0].host_id, 0); /* runc spec --rootless as root */
        assert_int_equal(s->uid_mappings[0].size, 1);
        oci_spec_free(s);
}

static void test_crun_spec(void **state _unused_) {
        OciSpec *s = parse_fixture("crun-spec.json");

        assert_string_equal(s->hostname, "crun");
        assert_string_equal(s->process.args[0], "sh");
        assert_true(s->process.no_new_privileges);
        assert_non_null(oci_spec_namespace(s, OCI_NS_UTS));
        assert_null(oci_spec_namespace(s, OCI_NS_CGROUP));
        oci_spec_free(s);
}

/* containerd's default spec (`ctr oci spec`) has no process.args: the
 * image gives them.  As a bundle it is refused; with args it is read. */
static void test_containerd_spec(void **state _unused_) {
        _cleanup_free_ char *text = NULL, *with_args = NULL;
        char err[512] = "", *cwd;
        OciSpec *s = NULL;
        size_t len;

        text = fixture("containerd-spec.json", &len);
        assert_int_equal(oci_spec_parse(text, len, &s, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "process.args: required");

        cwd = strstr(text, "\"cwd\"");
        assert_non_null(cwd);
        assert_true(asprintf(&with_args, "%.*s\"args\": [\"/pause\"], %s", (int) (cwd - text), text, cwd) > 0);
        s = parse_ok("containerd-spec.json with args", with_args, strlen(with_args));
        assert_string_equal(s->process.args[0], "/pause");
        assert_null(s->process.args[1]);
        assert_true(s->process.caps.bounding & CAP(CAP_MKNOD));
        assert_string_equal(s->mounts[6].destination, "/run");
        assert_string_equal(s->cgroups_path, "/default");
        assert_non_null(oci_spec_namespace(s, OCI_NS_NETWORK));
        oci_spec_free(s);
}

static const OciSeccompRule *find_rule(const OciSeccomp *sc, const char *name, size_t nth) {
        for (size_t i = 0; i < sc->n_rules; i++)
                if (strv_contains(sc->rules[i].names, name) && nth-- == 0)
                        return &sc->rules[i];
        return NULL;
}

static void test_podman(void **state _unused_) {
        OciSpec *s = parse_fixture("podman.json");
        const OciSeccompRule *r;
        const OciNamespace *net;

        assert_true(s->process.has_umask);
        assert_int_equal(s->process.umask, 022);
        assert_int_equal(s->process.n_additional_gids, 11);
        assert_int_equal(s->process.additional_gids[10], 27);
        assert_false(s->process.terminal);
        assert_string_equal(s->process.args[2], "daemon off;");
        assert_true(s->process.has_oom_score_adj);
        assert_int_equal(s->process.oom_score_adj, 0);
        assert_int_equal(s->process.n_rlimits, 2);
        assert_int_equal(s->process.rlimits[1].resource, RLIMIT_NPROC);
        assert_int_equal(s->process.rlimits[1].hard, 4194304);
        assert_true(s->process.caps.bounding & CAP(CAP_SYS_CHROOT));
        assert_false(s->process.caps.bounding & CAP(CAP_SYS_ADMIN));
        assert_false(s->root_readonly);

        assert_int_equal(s->n_mounts, 13);
        assert_string_equal(s->mounts[5].destination, "/etc/hostname");
        assert_string_equal(s->mounts[5].type, "bind");
        assert_string_equal(s->mounts[5].options[1], "rprivate");
        assert_string_equal(s->mounts[11].source, "/var/lib/containers/storage/volumes/data/_data");
        assert_true(strv_contains(s->mounts[11].options, "rbind"));

        assert_string_equal(oci_spec_annotation(s, "io.container.manager"), "libpod");
        assert_string_equal(oci_spec_annotation(s, "org.opencontainers.image.stopSignal"), "3");
        assert_null(oci_spec_annotation(s, "io.container"));
        assert_int_equal(s->n_sysctl, 1);
        assert_string_equal(s->sysctl_keys[0], "net.ipv4.ping_group_range");
        assert_string_equal(s->sysctl_values[0], "0 0");
        assert_true(s->resources.has_memory_limit);
        assert_int_equal(s->resources.memory_limit, 256 << 20);
        assert_true(s->resources.has_memory_swap);
        assert_int_equal(s->resources.memory_swap, 512 << 20);
        assert_false(s->resources.has_memory_reservation);
        assert_true(s->resources.has_pids_limit);
        assert_int_equal(s->resources.pids_limit, 2048);
        assert_true(strneq(s->cgroups_path, "machine.slice:libpod:", 21));
        net = oci_spec_namespace(s, OCI_NS_NETWORK);
        assert_non_null(net);
        assert_string_equal(net->path, "/run/netns/netns-3f1c2a9d-5b7e-4c0a-8d2f-6e1b3a5c7d9f");

        assert_int_equal(s->n_hooks[OCI_HOOK_CREATE_RUNTIME], 1);
        assert_string_equal(s->hooks[OCI_HOOK_CREATE_RUNTIME][0].path,
                            "/usr/libexec/oci/hooks.d/oci-systemd-hook");
        assert_string_equal(s->hooks[OCI_HOOK_CREATE_RUNTIME][0].args[1], "createRuntime");
        assert_string_equal(s->hooks[OCI_HOOK_CREATE_RUNTIME][0].env[0], "HOOK_DEBUG=0");
        assert_int_equal(s->hooks[OCI_HOOK_CREATE_RUNTIME][0].timeout, 5);
        assert_int_equal(s->n_hooks[OCI_HOOK_POSTSTOP], 1);
        assert_null(s->hooks[OCI_HOOK_POSTSTOP][0].args);
        assert_int_equal(s->hooks[OCI_HOOK_POSTSTOP][0].timeout, 0);
        assert_int_equal(s->n_hooks[OCI_HOOK_PRESTART], 0);

        assert_true(s->has_seccomp);
        assert_int_equal(s->seccomp.default_action, SCMP_ACT_ERRNO(38));
        assert_int_equal(s->seccomp.n_architectures, 3);
        assert_int_equal(s->seccomp.architectures[0], SCMP_ARCH_X86_64);
        assert_int_equal(s->seccomp.architectures[2], SCMP_ARCH_X32);
        assert_null(s->seccomp.flags);
        assert_null(s->seccomp.listener_path);
        assert_int_equal(s->seccomp.rules[0].action, SCMP_ACT_ERRNO(1));
        assert_true(s->seccomp.rules[1].action == SCMP_ACT_ALLOW);
        assert_true(strv_length(s->seccomp.rules[1].names) > 250);
        r = find_rule(&s->seccomp, "personality", 4);
        assert_non_null(r);
        assert_int_equal(r->n_args, 1);
        assert_int_equal(r->args[0].index, 0);
        assert_int_equal(r->args[0].op, SCMP_CMP_EQ);
        assert_int_equal(r->args[0].value, 0xffffffffU);
        r = find_rule(&s->seccomp, "clone", 0);
        assert_non_null(r);
        assert_int_equal(r->args[0].op, SCMP_CMP_MASKED_EQ);
        assert_int_equal(r->args[0].value, 2114060288);
        r = find_rule(&s->seccomp, "socket", 0);
        assert_int_equal(r->action, SCMP_ACT_ERRNO(22));
        assert_int_equal(r->n_args, 2);
        assert_int_equal(r->args[1].index, 2);
        assert_int_equal(r->args[1].value, 9);
        oci_spec_free(s);
}

/* What podman 4.3 wrote for `podman create --network none --memory 64m
 * --pids-limit 100 --ulimit nofile=1024:2048 --cap-add SYS_PTRACE
 * -v /tmp/pm:/data:ro --device /dev/null:/dev/xnull
 * --annotation org.shuttle.name=web IMAGE /bin/sh -c 'echo hi'`. */
static void test_podman_real(void **state _unused_) {
        OciSpec *s = parse_fixture("podman-4.3.json");
        const OciSeccompRule *r;

        assert_string_equal(s->process.args[2], "echo hi");
        assert_int_equal(s->process.umask, 022);
        assert_int_equal(s->process.n_additional_gids, 10);
        assert_int_equal(s->process.rlimits[0].soft, 1024);
        assert_int_equal(s->process.rlimits[0].hard, 2048);
        assert_true(s->process.caps.bounding & CAP(CAP_SYS_PTRACE));
        assert_int_equal(s->process.caps.ambient, 0);
        assert_false(s->process.no_new_privileges);
        assert_string_equal(s->mounts[0].destination, "/data");
        assert_string_equal(s->mounts[0].source, "/tmp/pm");
        assert_true(strv_contains(s->mounts[0].options, "rbind"));
        assert_true(strv_contains(s->mounts[0].options, "ro"));
        assert_string_equal(oci_spec_annotation(s, "org.shuttle.name"), "web");
        assert_int_equal(s->resources.memory_limit, 64 << 20);
        assert_int_equal(s->resources.pids_limit, 100);
        assert_int_equal(s->resources.n_devices, 2);
        assert_true(s->resources.devices[1].allow);
        assert_int_equal(s->resources.devices[1].major, 1);
        assert_int_equal(s->resources.devices[1].minor, 3);
        /* fileMode 8630 = S_IFCHR | 0666. */
        assert_int_equal(s->n_devices, 1);
        assert_string_equal(s->devices[0].path, "/dev/xnull");
        assert_int_equal(s->devices[0].type, 'c');
        assert_int_equal(s->devices[0].file_mode, 0666);
        assert_null(oci_spec_namespace(s, OCI_NS_NETWORK)->path);
        assert_int_equal(s->seccomp.default_action, SCMP_ACT_ERRNO(38));
        r = find_rule(&s->seccomp, "socket", 0);
        assert_int_equal(r->action, SCMP_ACT_ERRNO(22));
        oci_spec_free(s);
}

static void test_long(void **state _unused_) {
        OciSpec *s = parse_fixture("long.json");

        assert_int_equal(s->n_mounts, 213);
        assert_string_equal(s->mounts[212].destination, "/srv/vol199");
        assert_int_equal(s->n_devices, 64);
        assert_int_equal(s->devices[63].type, 'b');
        assert_int_equal(s->devices[63].major, 7);
        assert_int_equal(s->devices[63].minor, 63);
        assert_true(s->devices[63].has_mode);
        assert_int_equal(s->devices[63].file_mode, 0660);
        assert_int_equal(s->devices[63].gid, 6);
        assert_int_equal(s->resources.n_devices, 65);
        assert_true(s->resources.devices[64].allow);
        assert_int_equal(s->n_annotations, 508);
        assert_string_equal(oci_spec_annotation(s, "io.kubernetes.pod.label.l499"), "v499");
        assert_int_equal(s->n_hooks[OCI_HOOK_PRESTART], 50);
        assert_string_equal(s->hooks[OCI_HOOK_PRESTART][49].path, "/usr/libexec/oci/hooks.d/h49");
        oci_spec_free(s);
}

/* Every cut of a real config is refused with a message, never a crash (and
 * under ASan, never a leak on any error path). */
static void test_prefixes(void **state _unused_) {
        _cleanup_free_ char *text = NULL;
        size_t len;

        text = fixture("podman.json", &len);
        for (size_t n = 0; n < len - 1; n += (n < 4096 ? 7 : 61)) {
                char err[512] = "";
                OciSpec *s = NULL;

                assert_int_equal(oci_spec_parse(text, n, &s, err, sizeof(err)), -EINVAL);
                assert_null(s);
                assert_true(strlen(err) > 0);
        }
}

/* Absent and null are alike; keys the spec does not have are ignored; a
 * relative mount destination is relative to "/". */
static void test_lenient(void **state _unused_) {
        static const char json[] =
                "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"/r\"},\"vm\":{\"x\":1},"
                "\"process\":{\"args\":[\"a\"],\"cwd\":\"/\",\"env\":null,\"rlimits\":null,"
                "\"user\":{\"uid\":1,\"gid\":2},\"ioPriority\":{\"class\":\"IOPRIO_CLASS_IDLE\"},"
                "\"consoleSize\":{\"height\":24,\"width\":80}},"
                "\"mounts\":[{\"destination\":\"tmp\",\"type\":\"tmpfs\",\"source\":null}],"
                "\"linux\":{\"personality\":{\"domain\":\"LINUX\"},\"resources\":{\"cpu\":{\"shares\":512,"
                "\"quota\":-1,\"period\":100000,\"cpus\":\"0-1\"},\"memory\":{\"limit\":-1},"
                "\"blockIO\":{\"weight\":500},\"unified\":{\"memory.high\":\"1G\"}},"
                "\"namespaces\":[{\"type\":\"time\"},{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}]}}";
        OciSpec *s = parse_ok("lenient", json, strlen(json));

        assert_non_null(s->process.env);
        assert_null(s->process.env[0]);
        assert_int_equal(s->process.uid, 1);
        assert_int_equal(s->process.gid, 2);
        assert_int_equal(s->process.console_height, 24);
        assert_int_equal(s->process.console_width, 80);
        assert_string_equal(s->mounts[0].destination, "/tmp");
        assert_null(s->mounts[0].source);
        assert_true(s->resources.has_cpu_shares);
        assert_int_equal(s->resources.cpu_shares, 512);
        assert_int_equal(s->resources.cpu_quota, -1);
        assert_int_equal(s->resources.cpu_period, 100000);
        assert_string_equal(s->resources.cpu_cpus, "0-1");
        assert_null(s->resources.cpu_mems);
        assert_int_equal(s->resources.memory_limit, -1);
        assert_int_equal(s->resources.blkio_weight, 500);
        assert_int_equal(s->resources.n_unified, 1);
        assert_string_equal(s->resources.unified_keys[0], "memory.high");
        assert_string_equal(s->resources.unified_values[0], "1G");
        assert_non_null(oci_spec_namespace(s, OCI_NS_TIME));
        assert_string_equal(oci_spec_namespace(s, OCI_NS_USER)->path, "/proc/1/ns/user");
        oci_spec_free(s);
}

static void assert_prefix(const char *s, const char *prefix) {
        if (!strneq(s, prefix, strlen(prefix)))
                fail_msg("'%s' does not start with '%s'", s, prefix);
}

/* Go writes RLIM_INFINITY as 2^64 - 1, above what jansson's integers
 * hold: the document is read again with integers as doubles, the limit is
 * unlimited and the other integers still exact; one that is not exact as a
 * double is refused, naming its path. */
static void test_big_integers(void **state _unused_) {
        static const char json[] =
                "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},"
                "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":1000,\"gid\":1000},"
                "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":18446744073709551615},"
                "{\"type\":\"RLIMIT_CORE\",\"soft\":18446744073709551615,\"hard\":18446744073709551615}]},"
                "\"linux\":{\"resources\":{\"memory\":{\"limit\":9007199254740991}}}}";
        static const char inexact[] =
                "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},"
                "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\","
                "\"soft\":1024,\"hard\":18446744073709551615}]},"
                "\"linux\":{\"resources\":{\"memory\":{\"limit\":9007199254740993}}}}";
        static const char fraction[] =
                "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},"
                "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\","
                "\"soft\":1024.5,\"hard\":18446744073709551615}]}}";
        OciSpec *s = parse_ok("big integers", json, strlen(json));
        char err[512] = "";

        assert_int_equal(s->process.uid, 1000);
        assert_int_equal(s->process.rlimits[0].soft, 1024);
        assert_true(s->process.rlimits[0].hard == UINT64_MAX);
        assert_true(s->process.rlimits[1].soft == UINT64_MAX);
        assert_int_equal(s->resources.memory_limit, INT64_C(9007199254740991));
        oci_spec_free(s);

        assert_int_equal(oci_spec_parse(inexact, strlen(inexact), &s, err, sizeof(err)), -EINVAL);
        assert_prefix(err, "linux.resources.memory.limit: must be an integer, exact:");
        assert_int_equal(oci_spec_parse(fraction, strlen(fraction), &s, err, sizeof(err)), -EINVAL);
        assert_prefix(err, "process.rlimits[0].soft: must be an integer, exact:");
}

/* `exec --process F.json`: the same rules, paths from the object's top. */
static void test_process(void **state _unused_) {
        static const char ok[] =
                "{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"ps\",\"aux\"],"
                "\"env\":[\"PATH=/bin\"],\"cwd\":\"/tmp\",\"capabilities\":{\"bounding\":[\"CAP_KILL\"]},"
                "\"noNewPrivileges\":true,\"apparmorProfile\":\"x\",\"selinuxLabel\":\"y\"}";
        static const char bad[] = "{\"args\":[\"ps\"],\"cwd\":\"tmp\"}";
        char err[512] = "";
        OciProcess p = {};

        if (oci_process_parse(ok, strlen(ok), &p, err, sizeof(err)) < 0)
                fail_msg("%s", err);
        assert_string_equal(p.args[1], "aux");
        assert_string_equal(p.cwd, "/tmp");
        assert_int_equal(p.caps.bounding, CAP(CAP_KILL));
        assert_string_equal(p.apparmor_profile, "x");
        assert_string_equal(p.selinux_label, "y");
        oci_process_done(&p);
        assert_null(p.args);

        assert_int_equal(oci_process_parse(bad, strlen(bad), &p, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "cwd: must be an absolute path (is 'tmp')");
        assert_null(p.args);
}

/* `update --resources F.json`: a LinuxResources object alone, errors
 * naming the member from the object's top. */
static void test_resources(void **state _unused_) {
        static const char ok[] =
                "{\"memory\":{\"limit\":134217728,\"reservation\":-1,\"swap\":268435456},"
                "\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000,\"cpus\":\"0-1\"},"
                "\"pids\":{\"limit\":-1},\"unified\":{\"memory.high\":\"max\"},\"hugepageLimits\":[]}";
        static const struct {
                const char *json, *err;
        } bad[] = {
                { "{\"memory\":{\"limit\":\"1G\"}}", "memory.limit: must be an integer" },
                { "{\"cpu\":{\"shares\":-2}}", "cpu.shares: " },
                { "{\"pids\":{}}", "pids.limit: required" },
                { "{\"cpu\":[]}", "cpu: must be an object" },
                { "[]", "must be an object" },
        };
        char err[512] = "";
        OciResources r = {};

        if (oci_resources_parse(ok, strlen(ok), &r, err, sizeof(err)) < 0)
                fail_msg("%s", err);
        assert_true(r.has_memory_limit);
        assert_int_equal(r.memory_limit, 134217728);
        assert_int_equal(r.memory_reservation, -1);
        assert_int_equal(r.cpu_shares, 512);
        assert_int_equal(r.cpu_quota, 50000);
        assert_string_equal(r.cpu_cpus, "0-1");
        assert_true(r.has_pids_limit);
        assert_int_equal(r.pids_limit, -1);
        assert_int_equal(r.n_unified, 1);
        assert_string_equal(r.unified_keys[0], "memory.high");
        assert_false(r.has_blkio_weight);
        oci_resources_done(&r);
        assert_null(r.cpu_cpus);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                err[0] = '\0';
                assert_int_equal(oci_resources_parse(bad[i].json, strlen(bad[i].json), &r, err, sizeof(err)), -EINVAL);
                assert_prefix(err, bad[i].err);
                assert_null(r.cpu_cpus);
        }
}

/* oci_spec_load(): the bundle's config.json, errors naming the file. */
static void test_load(void **state _unused_) {
        char dir[] = "/tmp/test-oci-spec.XXXXXX", path[256], err[512] = "";
        OciSpec *s = NULL;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(oci_spec_load(dir, &s, err, sizeof(err)), -ENOENT);
        snprintf(path, sizeof(path), "%s/config.json: No such file or directory", dir);
        assert_string_equal(err, path);

        snprintf(path, sizeof(path), "%s/config.json", dir);
        assert_int_equal(write_file_at(AT_FDCWD, path, "{\"ociVersion\":\"1.0.0\"}"), -ENOENT);
        {
                int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                assert_true(fd >= 0);
                close(fd);
        }
        assert_int_equal(write_file_at(AT_FDCWD, path, "{\"ociVersion\":\"1.0.0\"}"), 0);
        assert_int_equal(oci_spec_load(dir, &s, err, sizeof(err)), -EINVAL);
        snprintf(path, sizeof(path), "%s/config.json: root: required", dir);
        assert_string_equal(err, path);

        snprintf(path, sizeof(path), "%s/config.json", dir);
        assert_int_equal(write_file_at(AT_FDCWD, path,
                                       "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"rootfs\"}}"),
                         0);
        assert_int_equal(oci_spec_load(dir, &s, err, sizeof(err)), 0);
        assert_false(s->has_process);
        assert_string_equal(s->root_path, "rootfs");
        oci_spec_free(s);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(dir), 0);
}

static void test_names(void **state _unused_) {
        assert_int_equal(oci_rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
        assert_int_equal(oci_rlimit_from_name("NOFILE"), -EINVAL);
        assert_string_equal(oci_rlimit_to_name(RLIMIT_RTTIME), "RLIMIT_RTTIME");
        assert_int_equal(oci_cap_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
        assert_int_equal(oci_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
        assert_int_equal(oci_cap_from_name("SYS_ADMIN"), -EINVAL);
        assert_int_equal(oci_cap_from_name("CAP_"), -EINVAL);
        assert_int_equal(oci_ns_type_from_name("network"), OCI_NS_NETWORK);
        assert_int_equal(oci_ns_type_from_name("net"), -EINVAL);
        assert_string_equal(oci_ns_type_name(OCI_NS_TIME), "time");
        assert_string_equal(oci_hook_kind_name(OCI_HOOK_CREATE_CONTAINER), "createContainer");
        assert_null(oci_hook_kind_name(_OCI_HOOK_MAX));
}

/* ---- refusals ----------------------------------------------------------- */

typedef struct Refusal {
        const char *json;
        const char *message; /* the whole message, or its start when it ends in "..." */
} Refusal;

#define V "\"ociVersion\":\"1.0.2\""
#define R "\"root\":{\"path\":\"rootfs\"}"
#define P(x) "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"" x "}"
#define L(x) "\"linux\":{" x "}"
#define SC(x) L("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"" x "}")
#define RULE(x) SC(",\"syscalls\":[{\"names\":[\"getpid\"]," x "}]")

static const Refusal refusals[] = {
        { "[1]", "config.json must be a JSON object" },
        { "{\"ociVersion\":", "line 1 column 14: ..." },
        { "{" R "}", "ociVersion: required" },
        { "{\"ociVersion\":1," R "}", "ociVersion: must be a string" },
        { "{\"ociVersion\":\"2.0.0\"," R "}", "ociVersion: unsupported version '2.0.0' (1.x is supported)" },
        { "{" V "}", "root: required" },
        { "{" V ",\"root\":{}}", "root.path: required" },
        { "{" V ",\"root\":{\"path\":7}}", "root.path: must be a string" },
        { "{" V ",\"root\":{\"path\":\"r\",\"readonly\":\"yes\"}}", "root.readonly: must be a boolean" },
        { "{" V "," R ",\"process\":{\"cwd\":\"/\"}}", "process.args: required" },
        { "{" V "," R ",\"process\":{\"args\":[],\"cwd\":\"/\"}}", "process.args: must name a program (empty)" },
        { "{" V "," R ",\"process\":{\"args\":[\"sh\",3],\"cwd\":\"/\"}}", "process.args[1]: must be a string" },
        { "{" V "," R ",\"process\":{\"args\":[\"sh\"]}}", "process.cwd: required" },
        { "{" V "," R ",\"process\":{\"args\":[\"sh\"],\"cwd\":\"tmp\"}}", "process.cwd: must be an absolute path (is 'tmp')" },
        { "{" V "," R "," P(",\"terminal\":1") "}", "process.terminal: must be a boolean" },
        { "{" V "," R "," P(",\"env\":[\"A=1\",\"B\"]") "}", "process.env[1]: 'B' is not NAME=VALUE" },
        { "{" V "," R "," P(",\"user\":{\"uid\":\"0\",\"gid\":0}") "}", "process.user.uid: must be an integer" },
        { "{" V "," R "," P(",\"user\":{\"uid\":0}") "}", "process.user.gid: required" },
        { "{" V "," R "," P(",\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[1,-2]}") "}", "process.user.additionalGids[1]: -2 is out of range (0 to 4294967294)" },
        { "{" V "," R "," P(",\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"soft\":1,\"hard\":1}]") "}", "process.rlimits[0].type: unknown rlimit 'RLIMIT_FOO'" },
        { "{" V "," R "," P(",\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":1},{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":1}]") "}", "process.rlimits[1].type: duplicate rlimit 'RLIMIT_CORE'" },
        { "{" V "," R "," P(",\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":-1,\"hard\":1}]") "}", "process.rlimits[0].soft: -1 is out of range ..." },
        { "{" V "," R "," P(",\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":1}]") "}", "process.rlimits[0].hard: required" },
        { "{" V "," R "," P(",\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":2,\"hard\":1}]") "}", "process.rlimits[0]: soft limit 2 is above the hard limit 1" },
        { "{" V "," R "," P(",\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_FOO\"]}") "}", "process.capabilities.bounding[1]: unknown capability 'CAP_FOO'" },
        { "{" V "," R "," P(",\"capabilities\":{\"ambient\":[\"kill\"]}") "}", "process.capabilities.ambient[0]: unknown capability 'kill'" },
        { "{" V "," R "," P(",\"capabilities\":[]") "}", "process.capabilities: must be an object" },
        { "{" V "," R "," P(",\"oomScoreAdj\":1001") "}", "process.oomScoreAdj: 1001 is out of range (-1000 to 1000)" },
        { "{" V "," R "," P(",\"consoleSize\":{\"height\":24}") "}", "process.consoleSize.width: required" },
        { "{" V "," R ",\"hostname\":[]}", "hostname: must be a string" },
        { "{" V "," R ",\"mounts\":{}}", "mounts: must be an array" },
        { "{" V "," R ",\"mounts\":[{\"destination\":\"/a\"},1]}", "mounts[1]: must be an object" },
        { "{" V "," R "," P(",\"user\":[]") "}", "process.user: must be an object" },
        { "{" V "," R "," P(",\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":{}}") "}", "process.user.additionalGids: must be an array" },
        { "{" V "," R "," L("\"resources\":{\"cpu\":7}") "}", "linux.resources.cpu: must be an object" },
        { "{" V "," R "," RULE("\"action\":\"SCMP_ACT_ALLOW\",\"args\":[null]") "}", "linux.seccomp.syscalls[0].args[0]: must be an object" },
        { "{" V "," R ",\"mounts\":[{\"type\":\"tmpfs\"}]}", "mounts[0].destination: required" },
        { "{" V "," R ",\"mounts\":[{\"destination\":\"/a\"},{\"destination\":\"/b\",\"options\":[\"ro\",false]}]}", "mounts[1].options[1]: must be a string" },
        { "{" V "," R ",\"mounts\":[{\"destination\":\"/a\",\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":0}]}]}", "mounts[0].uidMappings[0]: size must not be 0" },
        { "{" V "," R ",\"hooks\":{\"prestart\":[{\"path\":\"hook\"}]}}", "hooks.prestart[0].path: must be an absolute path (is 'hook')" },
        { "{" V "," R ",\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\",\"timeout\":0}]}}", "hooks.poststop[0].timeout: must be greater than zero" },
        { "{" V "," R ",\"hooks\":{\"createRuntime\":[{}]}}", "hooks.createRuntime[0].path: required" },
        { "{" V "," R ",\"annotations\":{\"a.b\":\"x\",\"c\":3}}", "annotations[\"c\"]: must be a string" },
        { "{" V "," R ",\"annotations\":[]}", "annotations: must be an object" },
        { "{" V "," R ",\"annotations\":{\"\":\"x\"}}", "annotations[\"\"]: the key must not be empty" },
        { "{" V "," R "," L("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"net\"}]") "}", "linux.namespaces[1].type: unknown namespace type 'net'" },
        { "{" V "," R "," L("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"pid\"}]") "}", "linux.namespaces[2].type: duplicate namespace type 'pid'" },
        { "{" V "," R "," L("\"namespaces\":[{\"type\":\"network\",\"path\":\"netns\"}]") "}", "linux.namespaces[0].path: must be an absolute path (is 'netns')" },
        { "{" V "," R "," L("\"namespaces\":[{}]") "}", "linux.namespaces[0].type: required" },
        { "{" V "," R "," L("\"uidMappings\":[{\"containerID\":0,\"hostID\":4294967295,\"size\":2}]") "}", "linux.uidMappings[0]: the range goes past 2^32" },
        { "{" V "," R "," L("\"resources\":{\"memory\":{\"limit\":\"1g\"}}") "}", "linux.resources.memory.limit: must be an integer" },
        { "{" V "," R "," L("\"resources\":{\"memory\":{\"limit\":1.5}}") "}", "linux.resources.memory.limit: must be an integer" },
        { "{" V "," R "," L("\"resources\":{\"memory\":{\"limit\":-2}}") "}", "linux.resources.memory.limit: -2 is out of range ..." },
        { "{" V "," R "," L("\"resources\":{\"memory\":{\"swappiness\":101}}") "}", "linux.resources.memory.swappiness: 101 is out of range (0 to 100)" },
        { "{" V "," R "," L("\"resources\":{\"cpu\":{\"shares\":-1}}") "}", "linux.resources.cpu.shares: -1 is out of range ..." },
        { "{" V "," R "," L("\"resources\":{\"pids\":{}}") "}", "linux.resources.pids.limit: required" },
        { "{" V "," R "," L("\"resources\":{\"blockIO\":{\"weight\":1001}}") "}", "linux.resources.blockIO.weight: 1001 is out of range (0 to 1000)" },
        { "{" V "," R "," L("\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}") "}", "linux.resources.devices[0].access: 'rwx' is not a combination of r, w, m" },
        { "{" V "," R "," L("\"resources\":{\"devices\":[{\"access\":\"r\"}]}") "}", "linux.resources.devices[0].allow: required" },
        { "{" V "," R "," L("\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"p\"}]}") "}", "linux.resources.devices[0].type: must be one of a, c, b (is 'p')" },
        { "{" V "," R "," L("\"resources\":{\"unified\":{\"memory.max\":1}}") "}", "linux.resources.unified[\"memory.max\"]: must be a string" },
        { "{" V "," R "," L("\"devices\":[{\"type\":\"x\",\"path\":\"/dev/x\"}]") "}", "linux.devices[0].type: must be one of c, b, u, p (is 'x')" },
        { "{" V "," R "," L("\"devices\":[{\"type\":\"c\",\"path\":\"/dev/null\",\"minor\":3}]") "}", "linux.devices[0].major: required" },
        { "{" V "," R "," L("\"devices\":[{\"type\":\"c\",\"path\":\"/dev/null\",\"major\":1,\"minor\":3,\"fileMode\":65536}]") "}", "linux.devices[0].fileMode: 65536 is out of range (0 to 65535)" },
        { "{" V "," R "," L("\"devices\":[{\"type\":\"c\",\"path\":\"dev/null\",\"major\":1,\"minor\":3}]") "}", "linux.devices[0].path: must be an absolute path (is 'dev/null')" },
        { "{" V "," R "," L("\"sysctl\":{\"net.ipv4.ip_forward\":1}") "}", "linux.sysctl[\"net.ipv4.ip_forward\"]: must be a string" },
        { "{" V "," R "," L("\"rootfsPropagation\":\"weird\"") "}", "linux.rootfsPropagation: unknown propagation 'weird'" },
        { "{" V "," R "," L("\"timeOffsets\":{\"realtime\":{\"secs\":1}}") "}", "linux.timeOffsets.realtime: unknown clock (monotonic or boottime)" },
        { "{" V "," R "," L("\"timeOffsets\":{\"boottime\":{\"secs\":1,\"nanosecs\":1000000000}}") "}", "linux.timeOffsets.boottime.nanosecs: 1000000000 is out of range ..." },
        { "{" V "," R "," L("\"timeOffsets\":{\"monotonic\":5}") "}", "linux.timeOffsets.monotonic: must be an object" },
        { "{" V "," R "," L("\"maskedPaths\":[\"/proc/kcore\",\"proc/keys\"]") "}", "linux.maskedPaths[1]: must be an absolute path (is 'proc/keys')" },
        { "{" V "," R "," L("\"readonlyPaths\":\"/proc\"") "}", "linux.readonlyPaths: must be an array" },
        { "{" V "," R "," L("\"seccomp\":{}") "}", "linux.seccomp.defaultAction: required" },
        { "{" V "," R "," L("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_DENY\"}") "}", "linux.seccomp.defaultAction: unknown action 'SCMP_ACT_DENY'" },
        { "{" V "," R "," L("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_KILL\",\"defaultErrnoRet\":1}") "}", "linux.seccomp.defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one (action is SCMP_ACT_KILL)" },
        { "{" V "," R "," L("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":70000}") "}", "linux.seccomp.defaultErrnoRet: 70000 is out of range (0 to 65535)" },
        { "{" V "," R "," L("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOTIFY\",\"listenerPath\":\"/x\"}") "}", "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action" },
        { "{" V "," R "," SC(",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_Z80\"]") "}", "linux.seccomp.architectures[1]: unknown architecture 'SCMP_ARCH_Z80'" },
        { "{" V "," R "," SC(",\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_FAST\"]") "}", "linux.seccomp.flags[1]: unknown flag 'SECCOMP_FILTER_FLAG_FAST'" },
        { "{" V "," R "," SC(",\"syscalls\":[{\"action\":\"SCMP_ACT_KILL\"}]") "}", "linux.seccomp.syscalls[0].names: required" },
        { "{" V "," R "," SC(",\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_KILL\"}]") "}", "linux.seccomp.syscalls[0].names: must name at least one system call" },
        { "{" V "," R "," RULE("\"action\":\"SCMP_ACT_ALLOW\",\"errnoRet\":1") "}", "linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one (action is SCMP_ACT_ALLOW)" },
        { "{" V "," R "," RULE("\"action\":\"SCMP_ACT_NOTIFY\"") "}", "linux.seccomp.listenerPath: required when a rule's action is SCMP_ACT_NOTIFY" },
        { "{" V "," R "," SC(",\"listenerMetadata\":\"m\"") "}", "linux.seccomp.listenerMetadata: set without listenerPath" },
        { "{" V "," R "," SC(",\"listenerPath\":\"\"") "}", "linux.seccomp.listenerPath: must not be empty" },
        { "{" V "," R "," SC(",\"listenerPath\":\"/a\",\"listenerMetadata\":7") "}", "linux.seccomp.listenerMetadata: must be a string" },
        { "{" V "," R "," RULE("\"action\":\"SCMP_ACT_KILL\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]") "}", "linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0 to 5)" },
        { "{" V "," R "," RULE("\"action\":\"SCMP_ACT_KILL\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_LIKE\"}]") "}", "linux.seccomp.syscalls[0].args[0].op: unknown operator 'SCMP_CMP_LIKE'" },
        { "{" V "," R "," RULE("\"action\":\"SCMP_ACT_KILL\",\"args\":[{\"index\":0,\"op\":\"SCMP_CMP_EQ\"}]") "}", "linux.seccomp.syscalls[0].args[0].value: required" },
        { "{" V "," R "," RULE("\"action\":\"SCMP_ACT_KILL\",\"args\":[{\"index\":0,\"value\":-1,\"op\":\"SCMP_CMP_EQ\"}]") "}", "linux.seccomp.syscalls[0].args[0].value: -1 is out of range ..." },
};

/* linux.timeOffsets: each clock's secs (negative too) and nanosecs. */
static void test_time_offsets(void **state _unused_) {
        const char *json = "{" V "," R "," L("\"timeOffsets\":{\"boottime\":{\"secs\":-3,\"nanosecs\":5},"
                                             "\"monotonic\":{\"secs\":86400}}") "}";
        char err[512] = "";
        OciSpec *s = NULL;

        assert_int_equal(oci_spec_parse(json, strlen(json), &s, err, sizeof(err)), 0);
        assert_true(s->time_boottime.has);
        assert_int_equal(s->time_boottime.secs, -3);
        assert_int_equal(s->time_boottime.nanosecs, 5);
        assert_true(s->time_monotonic.has);
        assert_int_equal(s->time_monotonic.secs, 86400);
        assert_int_equal(s->time_monotonic.nanosecs, 0);
        oci_spec_free(s);
}

static void test_refusal(void **state) {
        const Refusal *t = *state;
        size_t n = strlen(t->message);
        char err[512] = "";
        OciSpec *s = NULL;

        assert_int_equal(oci_spec_parse(t->json, strlen(t->json), &s, err, sizeof(err)), -EINVAL);
        assert_null(s);
        if (n > 3 && streq(t->message + n - 3, "..."))
                n -= 3;
        else
                n++; /* the whole message, with its NUL */
        if (strncmp(err, t->message, n) != 0)
                fail_msg("%s\n  got:      %s\n  expected: %s", t->json, err, t->message);
}

static int refusal_setup(void **state) {
        (void) state;
        return 0;
}

int main(void) {
        const struct CMUnitTest fixed[] = {
                cmocka_unit_test(test_runc_spec),   cmocka_unit_test(test_runc_spec_rootless),
                cmocka_unit_test(test_crun_spec),   cmocka_unit_test(test_podman),
                cmocka_unit_test(test_podman_real), cmocka_unit_test(test_containerd_spec),
                cmocka_unit_test(test_long),        cmocka_unit_test(test_prefixes),
                cmocka_unit_test(test_lenient),     cmocka_unit_test(test_process),
                cmocka_unit_test(test_big_integers), cmocka_unit_test(test_resources),
                cmocka_unit_test(test_load),        cmocka_unit_test(test_names),
                cmocka_unit_test(test_time_offsets),
        };
        struct CMUnitTest tests[ELEMENTSOF(fixed) + ELEMENTSOF(refusals)];
        char names[ELEMENTSOF(refusals)][96];

        memcpy(tests, fixed, sizeof(fixed));
        for (size_t i = 0; i < ELEMENTSOF(refusals); i++) {
                const char *m = refusals[i].message;

                /* Named after the path the message must name. */
                snprintf(names[i], sizeof(names[i]), "refuse %.*s", (int) strcspn(m, ":"), m);
                tests[ELEMENTSOF(fixed) + i] = (struct CMUnitTest){
                        .name = names[i],
                        .test_func = test_refusal,
                        .setup_func = refusal_setup,
                        .initial_state = (void *) &refusals[i],
                };
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
