/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `shuttle-oci spec` and `features` (oci-default.c) and mount options
 * (oci-mount.c): the default config.json is runc's (tests/unit/oci/) but for
 * its hostname and version, and our reader takes it; features is valid JSON
 * with the keys of runtime-spec features.md, built from the readers'
 * tables; mount options split as runc splits them. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "runtime/oci-spec.h"

static json_t *load_fixture(const char *name) {
        char path[4096];
        json_error_t e;
        json_t *j;

        snprintf(path, sizeof(path), "%s/%s", OCI_FIXTURE_DIR, name);
        j = json_load_file(path, 0, &e);
        if (!j)
                fail_msg("%s: %s", path, e.text);
        return j;
}

/* Our default spec is runc's, with our hostname and version. */
static void check_like_runc(bool rootless, const char *fixture) {
        _cleanup_free_ char *text = NULL;
        json_t *ours, *runc;
        json_error_t e;
        char err[512] = "";
        OciSpec *s = NULL;

        assert_int_equal(oci_spec_default_json(rootless, 0, 0, &text), 0);
        ours = json_loads(text, 0, &e);
        if (!ours)
                fail_msg("not JSON: %s", e.text);
        runc = load_fixture(fixture);
        assert_string_equal(json_string_value(json_object_get(ours, "hostname")), "shuttle");
        assert_string_equal(json_string_value(json_object_get(ours, "ociVersion")), OCI_SPEC_VERSION);
        assert_int_equal(json_object_set_new(runc, "hostname", json_string("shuttle")), 0);
        assert_int_equal(json_object_set_new(runc, "ociVersion", json_string(OCI_SPEC_VERSION)), 0);
        if (!json_equal(ours, runc)) {
                char *a = json_dumps(ours, JSON_SORT_KEYS), *b = json_dumps(runc, JSON_SORT_KEYS);
                fail_msg("differs from %s:\n%s\n%s", fixture, a, b);
        }
        json_decref(ours);
        json_decref(runc);

        /* And the reader takes it. */
        if (oci_spec_parse(text, strlen(text), &s, err, sizeof(err)) < 0)
                fail_msg("%s", err);
        assert_string_equal(s->hostname, "shuttle");
        assert_true(s->has_process);
        assert_string_equal(s->process.args[0], "sh");
        assert_int_equal(s->n_mounts, 7);
        assert_int_equal(oci_spec_namespace(s, OCI_NS_USER) != NULL, rootless);
        assert_int_equal(oci_spec_namespace(s, OCI_NS_NETWORK) == NULL, rootless);
        oci_spec_free(s);
}

static void test_spec(void **state _unused_) {
        check_like_runc(false, "runc-spec.json");
}

static void test_spec_rootless(void **state _unused_) {
        _cleanup_free_ char *text = NULL;
        char err[512] = "";
        OciSpec *s = NULL;

        /* runc spec --rootless was run as root for the fixture: ids 0. */
        check_like_runc(true, "runc-spec-rootless.json");

        assert_int_equal(oci_spec_default_json(true, 1000, 100, &text), 0);
        if (oci_spec_parse(text, strlen(text), &s, err, sizeof(err)) < 0)
                fail_msg("%s", err);
        assert_int_equal(s->n_uid_mappings, 1);
        assert_int_equal(s->uid_mappings[0].container_id, 0);
        assert_int_equal(s->uid_mappings[0].host_id, 1000);
        assert_int_equal(s->gid_mappings[0].host_id, 100);
        assert_int_equal(s->resources.n_devices, 0);
        oci_spec_free(s);
}

static bool array_has(json_t *a, const char *s) {
        size_t i;
        json_t *v;

        json_array_foreach(a, i, v)
                if (json_is_string(v) && streq(json_string_value(v), s))
                        return true;
        return false;
}

static void test_features(void **state _unused_) {
        _cleanup_free_ char *text = NULL;
        json_t *f, *linux_, *sc, *v;
        json_error_t e;
        const char *arch_name = NULL;
        size_t i;

        assert_int_equal(oci_features_json(&text), 0);
        f = json_loads(text, 0, &e);
        if (!f)
                fail_msg("not JSON: %s", e.text);

        assert_string_equal(json_string_value(json_object_get(f, "ociVersionMin")), "1.0.0");
        assert_string_equal(json_string_value(json_object_get(f, "ociVersionMax")), OCI_SPEC_VERSION_MAX);
        assert_int_equal(json_array_size(json_object_get(f, "hooks")), _OCI_HOOK_MAX);
        assert_true(array_has(json_object_get(f, "hooks"), "createRuntime"));
        assert_true(array_has(json_object_get(f, "mountOptions"), "rprivate"));
        assert_true(array_has(json_object_get(f, "mountOptions"), "rro"));
        /* Every listed mount option is one the option reader knows (none
         * falls through to the filesystem's data). */
        json_array_foreach(json_object_get(f, "mountOptions"), i, v) {
                char *one[] = { (char *) json_string_value(v), NULL };
                OciMountOptions o;

                assert_int_equal(oci_mount_options_parse(one, &o), 0);
                if (o.data)
                        fail_msg("mount option '%s' listed but not understood", one[0]);
        }

        linux_ = json_object_get(f, "linux");
        assert_true(json_is_object(linux_));
        assert_int_equal(json_array_size(json_object_get(linux_, "namespaces")), _OCI_NS_MAX);
        assert_true(array_has(json_object_get(linux_, "namespaces"), "user"));
        /* create takes a time namespace (with linux.timeOffsets). */
        assert_true(array_has(json_object_get(linux_, "namespaces"), "time"));
        assert_true(array_has(json_object_get(f, "hooks"), "startContainer"));
        assert_true(array_has(json_object_get(linux_, "capabilities"), "CAP_SYS_ADMIN"));
        assert_true(array_has(json_object_get(linux_, "capabilities"), "CAP_CHOWN"));
        json_array_foreach(json_object_get(linux_, "capabilities"), i, v)
                assert_true(oci_cap_from_name(json_string_value(v)) >= 0);
        assert_true(json_is_true(json_object_get(json_object_get(linux_, "cgroup"), "v1")));
        assert_true(json_is_true(json_object_get(json_object_get(linux_, "cgroup"), "v2")));
        assert_true(json_is_false(json_object_get(json_object_get(linux_, "apparmor"), "enabled")));
        assert_true(json_is_false(json_object_get(json_object_get(linux_, "selinux"), "enabled")));

        sc = json_object_get(linux_, "seccomp");
        assert_true(json_is_true(json_object_get(sc, "enabled")));
        assert_true(array_has(json_object_get(sc, "actions"), "SCMP_ACT_ERRNO"));
        assert_true(array_has(json_object_get(sc, "actions"), "SCMP_ACT_NOTIFY"));
        assert_true(array_has(json_object_get(sc, "operators"), "SCMP_CMP_MASKED_EQ"));
        switch (seccomp_arch_native()) {
        case SCMP_ARCH_X86_64:
                arch_name = "SCMP_ARCH_X86_64";
                break;
        case SCMP_ARCH_AARCH64:
                arch_name = "SCMP_ARCH_AARCH64";
                break;
        }
        if (arch_name)
                assert_true(array_has(json_object_get(sc, "archs"), arch_name));
        assert_true(array_has(json_object_get(sc, "knownFlags"), "SECCOMP_FILTER_FLAG_LOG"));
        json_array_foreach(json_object_get(sc, "supportedFlags"), i, v)
                assert_true(array_has(json_object_get(sc, "knownFlags"), json_string_value(v)));
        /* TSYNC is older than every kernel we run on (3.17). */
        assert_true(array_has(json_object_get(sc, "supportedFlags"), "SECCOMP_FILTER_FLAG_TSYNC"));

        v = json_object_get(f, "annotations");
        assert_true(json_is_string(json_object_get(v, "io.github.seccomp.libseccomp.version")));
        assert_true(json_is_string(json_object_get(v, OCI_ANNOTATION_NAME)));
        assert_true(json_is_string(json_object_get(v, OCI_ANNOTATION_GROUP)));
        assert_true(json_is_string(json_object_get(v, OCI_ANNOTATION_EXPORTS)));
        assert_true(json_is_string(json_object_get(v, OCI_ANNOTATION_SHIM)));
        json_decref(f);
}

static void parse_opts(OciMountOptions *o, ...) {
        char *v[32];
        size_t n = 0;
        va_list ap;

        va_start(ap, o);
        while ((v[n] = va_arg(ap, char *)))
                n++;
        va_end(ap);
        assert_int_equal(oci_mount_options_parse(v, o), 0);
}

static void test_mount_options(void **state _unused_) {
        OciMountOptions o;

        /* runc's /dev/pts. */
        parse_opts(&o, "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL);
        assert_int_equal(o.flags, MS_NOSUID | MS_NOEXEC);
        assert_int_equal(o.clear, 0);
        assert_int_equal(o.propagation, 0);
        assert_string_equal(o.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
        oci_mount_options_done(&o);
        assert_null(o.data);

        /* podman's volume. */
        parse_opts(&o, "nosuid", "nodev", "rbind", "ro", "rprivate", NULL);
        assert_int_equal(o.flags, MS_NOSUID | MS_NODEV | MS_BIND | MS_REC | MS_RDONLY);
        assert_int_equal(o.propagation, MS_PRIVATE | MS_REC);
        assert_null(o.data);
        oci_mount_options_done(&o);

        /* The later wins. */
        parse_opts(&o, "ro", "rw", "shared", "slave", "noexec", "exec", NULL);
        assert_int_equal(o.flags, 0);
        assert_int_equal(o.clear, MS_RDONLY | MS_NOEXEC);
        assert_int_equal(o.propagation, MS_SLAVE);
        oci_mount_options_done(&o);

        /* Recursive attributes for mount_setattr(). */
        parse_opts(&o, "bind", "rro", "rnosuid", "rnoatime", "rstrictatime", "rdev", NULL);
        assert_int_equal(o.flags, MS_BIND);
        assert_int_equal(o.rec_attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME);
        assert_int_equal(o.rec_attr_clr, MOUNT_ATTR__ATIME | MOUNT_ATTR_NODEV);
        oci_mount_options_done(&o);

        parse_opts(&o, "idmap", "tmpcopyup", "defaults", NULL);
        assert_true(o.idmap);
        assert_false(o.recursive_idmap);
        assert_true(o.tmpcopyup);
        assert_int_equal(o.flags, 0);
        assert_null(o.data);
        oci_mount_options_done(&o);

        assert_int_equal(oci_mount_options_parse(NULL, &o), 0);
        assert_int_equal(o.flags, 0);
        assert_null(o.data);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_spec),
                cmocka_unit_test(test_spec_rootless),
                cmocka_unit_test(test_features),
                cmocka_unit_test(test_mount_options),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
