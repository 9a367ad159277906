/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What `shuttle-oci spec` and `shuttle-oci features` print: a default
 * config.json as `runc spec` writes it (and its --rootless variant), and
 * the runtime-spec "features" document, built from the same tables the
 * readers use so that the two cannot drift apart. */

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/macro.h"
#include "runtime/oci-spec.h"

static void json_decrefp_(json_t **j) {
        if (*j)
                json_decref(*j);
}
#define _cleanup_json_ _cleanup_(json_decrefp_)

static int dump(json_t *root, char **ret) {
        char *s;

        if (!root)
                return -ENOMEM;
        s = json_dumps(root, JSON_INDENT(8) | JSON_PRESERVE_ORDER);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static json_t *strv_to_json(const char *const *v, size_t n) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_string(v[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

#define STRV_JSON(...)                                                      \
        ({                                                                  \
                static const char *const _v[] = { __VA_ARGS__ };            \
                strv_to_json(_v, ELEMENTSOF(_v));                           \
        })

static const char *const default_caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" };

int oci_spec_default_json(bool rootless, uid_t uid, gid_t gid, char **ret) {
        _cleanup_json_ json_t *root = NULL;
        json_t *mounts, *linux_, *ns;

        /* The mounts of `runc spec`; rootless: /sys bound from the host (a
         * new sysfs needs a network namespace of our own user namespace's)
         * and devpts without gid=5 (no such group in a one-id mapping). */
        mounts = json_pack(
                "[{s:s, s:s, s:s}, {s:s, s:s, s:s, s:o}, {s:s, s:s, s:s, s:o}, {s:s, s:s, s:s, s:o},"
                " {s:s, s:s, s:s, s:o}]",
                "destination", "/proc", "type", "proc", "source", "proc",
                "destination", "/dev", "type", "tmpfs", "source", "tmpfs", "options",
                STRV_JSON("nosuid", "strictatime", "mode=755", "size=65536k"),
                "destination", "/dev/pts", "type", "devpts", "source", "devpts", "options",
                rootless ? STRV_JSON("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620") :
                           STRV_JSON("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                                     "gid=5"),
                "destination", "/dev/shm", "type", "tmpfs", "source", "shm", "options",
                STRV_JSON("nosuid", "noexec", "nodev", "mode=1777", "size=65536k"),
                "destination", "/dev/mqueue", "type", "mqueue", "source", "mqueue", "options",
                STRV_JSON("nosuid", "noexec", "nodev"));
        if (!mounts)
                return -ENOMEM;
        if (json_array_append_new(mounts,
                                  rootless ? json_pack("{s:s, s:s, s:s, s:o}", "destination", "/sys",
                                                       "type", "none", "source", "/sys", "options",
                                                       STRV_JSON("rbind", "nosuid", "noexec", "nodev", "ro")) :
                                             json_pack("{s:s, s:s, s:s, s:o}", "destination", "/sys",
                                                       "type", "sysfs", "source", "sysfs", "options",
                                                       STRV_JSON("nosuid", "noexec", "nodev", "ro"))) < 0 ||
            json_array_append_new(mounts,
                                  json_pack("{s:s, s:s, s:s, s:o}", "destination", "/sys/fs/cgroup",
                                            "type", "cgroup", "source", "cgroup", "options",
                                            STRV_JSON("nosuid", "noexec", "nodev", "relatime", "ro"))) < 0) {
                json_decref(mounts);
                return -ENOMEM;
        }

        ns = rootless ? json_pack("[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}]", "type", "pid", "type", "ipc",
                                  "type", "uts", "type", "mount", "type", "user") :
                        json_pack("[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}]", "type", "pid", "type",
                                  "network", "type", "ipc", "type", "uts", "type", "mount");
        linux_ = json_pack(
                "{s:o, s:o, s:o}", "namespaces", ns, "maskedPaths",
                STRV_JSON("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                          "/proc/scsi"),
                "readonlyPaths", STRV_JSON("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"));
        if (!linux_) {
                json_decref(mounts);
                return -ENOMEM;
        }
        if (rootless) {
                if (json_object_set_new(linux_, "uidMappings",
                                        json_pack("[{s:I, s:I, s:I}]", "containerID", (json_int_t) 0,
                                                  "hostID", (json_int_t) uid, "size", (json_int_t) 1)) < 0 ||
                    json_object_set_new(linux_, "gidMappings",
                                        json_pack("[{s:I, s:I, s:I}]", "containerID", (json_int_t) 0,
                                                  "hostID", (json_int_t) gid, "size", (json_int_t) 1)) < 0) {
                        json_decref(mounts);
                        json_decref(linux_);
                        return -ENOMEM;
                }
        } else if (json_object_set_new(linux_, "resources",
                                       json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access",
                                                 "rwm")) < 0) {
                json_decref(mounts);
                json_decref(linux_);
                return -ENOMEM;
        }

        root = json_pack(
                "{s:s, s:{s:b, s:{s:i, s:i}, s:[s], s:o, s:s, s:{s:o, s:o, s:o, s:o}, s:[{s:s, s:i, s:i}], s:b},"
                " s:{s:s, s:b}, s:s, s:o, s:o}",
                "ociVersion", OCI_SPEC_VERSION,
                "process",
                "terminal", 1,
                "user", "uid", 0, "gid", 0,
                "args", "sh",
                "env", STRV_JSON("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"),
                "cwd", "/",
                "capabilities",
                "bounding", strv_to_json(default_caps, ELEMENTSOF(default_caps)),
                "effective", strv_to_json(default_caps, ELEMENTSOF(default_caps)),
                "permitted", strv_to_json(default_caps, ELEMENTSOF(default_caps)),
                "ambient", strv_to_json(default_caps, ELEMENTSOF(default_caps)),
                "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
                "noNewPrivileges", 1,
                "root", "path", "rootfs", "readonly", 1,
                "hostname", "shuttle",
                "mounts", mounts,
                "linux", linux_);
        return dump(root, ret);
}

/* "cap_chown" as libcap names it into "CAP_CHOWN". */
static json_t *capabilities_json(void) {
        json_t *a = json_array();

        if (!a)
                return NULL;
        for (cap_value_t c = 0; c <= CAP_LAST_CAP && c < 64; c++) {
                char *name = cap_to_name(c), *p;
                int r;

                if (!name)
                        goto fail;
                /* A number: this libcap does not name it. */
                if (isdigit((unsigned char) name[0])) {
                        cap_free(name);
                        continue;
                }
                for (p = name; *p; p++)
                        *p = (char) toupper((unsigned char) *p);
                r = json_array_append_new(a, json_string(name));
                cap_free(name);
                if (r < 0)
                        goto fail;
        }
        return a;
fail:
        json_decref(a);
        return NULL;
}

static json_t *names_json(OciSeccompNames kind) {
        const char *names[64];
        size_t n = oci_seccomp_names(kind, names, ELEMENTSOF(names));

        return strv_to_json(names, MIN(n, ELEMENTSOF(names)));
}

/* The flags of the profile this kernel takes: seccomp(2) with a NULL
 * program fails with EFAULT for a flag it knows, EINVAL for one it does
 * not (what libseccomp and runc probe too).  Nothing is loaded. */
static json_t *supported_flags_json(void) {
        static const struct {
                const char *name;
                unsigned flag;
        } flags[] = {
                { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
                { "SECCOMP_FILTER_FLAG_LOG", 1U << 1 },
                { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", 1U << 2 },
                { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1U << 5 },
        };
        json_t *a = json_array();

        for (size_t i = 0; a && i < ELEMENTSOF(flags); i++) {
                unsigned f = flags[i].flag;

                /* WAIT_KILLABLE_RECV is only valid with NEW_LISTENER. */
                if (f == (1U << 5))
                        f |= 1U << 3;
                if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f, NULL) < 0 && errno == EFAULT &&
                    json_array_append_new(a, json_string(flags[i].name)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

int oci_features_json(char **ret) {
        _cleanup_json_ json_t *root = NULL;
        const char *mount_opts[128];
        const struct scmp_version *v = seccomp_version();
        char libseccomp[32];
        size_t n_mount;
        json_t *hooks, *ns;

        hooks = json_array();
        for (OciHookKind k = 0; hooks && k < _OCI_HOOK_MAX; k++)
                if (json_array_append_new(hooks, json_string(oci_hook_kind_name(k))) < 0) {
                        json_decref(hooks);
                        hooks = NULL;
                }
        ns = json_array();
        for (OciNsType t = 0; ns && t < _OCI_NS_MAX; t++)
                /* What create takes: all of them. */
                if (json_array_append_new(ns, json_string(oci_ns_type_name(t))) < 0) {
                        json_decref(ns);
                        ns = NULL;
                }
        n_mount = oci_mount_option_names(mount_opts, ELEMENTSOF(mount_opts));
        snprintf(libseccomp, sizeof(libseccomp), "%u.%u.%u", v ? v->major : 0, v ? v->minor : 0,
                 v ? v->micro : 0);

        root = json_pack(
                "{s:s, s:s, s:o, s:o,"
                " s:{s:o, s:o, s:{s:b, s:b, s:b, s:b, s:b},"
                "    s:{s:b, s:o, s:o, s:o, s:o, s:o},"
                "    s:{s:b}, s:{s:b}, s:{s:b}, s:{s:{s:b}}},"
                " s:{s:s, s:s, s:s, s:s, s:s, s:s}}",
                "ociVersionMin", "1.0.0",
                "ociVersionMax", OCI_SPEC_VERSION_MAX,
                "hooks", hooks,
                "mountOptions", strv_to_json(mount_opts, MIN(n_mount, ELEMENTSOF(mount_opts))),
                "linux",
                "namespaces", ns,
                "capabilities", capabilities_json(),
                "cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0, "rdma", 0,
                "seccomp", "enabled", 1,
                "actions", names_json(OCI_SECCOMP_ACTIONS),
                "operators", names_json(OCI_SECCOMP_OPERATORS),
                "archs", names_json(OCI_SECCOMP_ARCHS),
                "knownFlags", names_json(OCI_SECCOMP_FLAGS),
                "supportedFlags", supported_flags_json(),
                "apparmor", "enabled", 0,
                "selinux", "enabled", 0,
                "intelRdt", "enabled", 0,
                "mountExtensions", "idmap", "enabled", 0,
                "annotations",
                "io.github.seccomp.libseccomp.version", libseccomp,
                "org.shuttle.version", PACKAGE_VERSION,
                OCI_ANNOTATION_NAME, "the container's name for Shuttle's broker (default: the container's id)",
                OCI_ANNOTATION_GROUP, "the Shuttle app group it belongs to",
                OCI_ANNOTATION_EXPORTS,
                "services it offers: NAME=/path.sock, NAME=tcp:PORT, NAME=mq:/QUEUE or NAME=shm:SIZE, "
                "separated by commas",
                OCI_ANNOTATION_SHIM, "\"true\" to preload Shuttle's shim into the container's programs");
        return dump(root, ret);
}
