/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* An OCI bundle's config.json (runtime-spec 1.x), read with jansson into
 * plain C values.  Pure: oci_spec_parse() does no I/O besides reading the
 * JSON text it is given, and touches nothing of the host; what the values
 * mean for a container is decided by the runtime (shuttle-oci(8)).
 *
 * Errors name the JSON path at fault ("process.rlimits[2].type: unknown
 * rlimit 'RLIMIT_FOO'"); unknown keys are ignored as the spec asks, wrong
 * types and out-of-range values are refused.
 *
 * Below the reader, the other pure parts of shuttle-oci: the seccomp
 * profile compiled with libseccomp (oci-seccomp.c), mount options
 * (oci-mount.c), what `spec` and `features` print (oci-default.c) and
 * Shuttle's org.shuttle.* annotations (oci-shuttle.c). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <seccomp.h>
#include <sys/types.h>

typedef struct OciIdMap {
        uint32_t container_id, host_id, size;
} OciIdMap;

typedef struct OciRlimit {
        int resource;        /* RLIMIT_* */
        uint64_t soft, hard; /* soft <= hard; UINT64_MAX (RLIM_INFINITY) = unlimited */
} OciRlimit;

/* The five capability sets as bit masks (bit N = capability N). */
typedef struct OciCaps {
        uint64_t bounding, effective, inheritable, permitted, ambient;
} OciCaps;

typedef struct OciProcess {
        bool terminal;
        unsigned console_height, console_width; /* 0 = not given */
        uid_t uid;
        gid_t gid;
        gid_t *additional_gids;
        size_t n_additional_gids;
        bool has_umask;
        mode_t umask;
        char **args; /* NULL-terminated, at least one */
        char **env;  /* NULL-terminated, may be empty */
        char *cwd;   /* absolute */
        bool has_caps;
        OciCaps caps;
        OciRlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        bool has_oom_score_adj;
        int oom_score_adj;
        char *apparmor_profile; /* NULL if absent */
        char *selinux_label;    /* NULL if absent */
} OciProcess;

typedef enum OciNsType {
        OCI_NS_PID,
        OCI_NS_NETWORK,
        OCI_NS_MOUNT,
        OCI_NS_IPC,
        OCI_NS_UTS,
        OCI_NS_USER,
        OCI_NS_CGROUP,
        OCI_NS_TIME,
        _OCI_NS_MAX,
} OciNsType;

typedef struct OciNamespace {
        OciNsType type;
        char *path; /* join this one; NULL = a new namespace */
} OciNamespace;

typedef struct OciMount {
        char *destination; /* absolute */
        char *type;        /* NULL for a bind */
        char *source;      /* NULL if absent */
        char **options;    /* NULL-terminated as given ("ro", "rbind", "nosuid", "rprivate", "size=65536k"...) */
        OciIdMap *uid_mappings, *gid_mappings; /* id-mapped mounts */
        size_t n_uid_mappings, n_gid_mappings;
} OciMount;

typedef struct OciDevice {
        char type; /* 'c', 'b', 'u' or 'p' */
        char *path;
        int64_t major, minor; /* -1 if absent (only for 'p') */
        bool has_mode;
        mode_t file_mode; /* permission bits only (podman also sends the type's) */
        bool has_uid, has_gid;
        uid_t uid;
        gid_t gid;
} OciDevice;

typedef struct OciDeviceRule {
        bool allow;
        char type;            /* 'a', 'c' or 'b' */
        int64_t major, minor; /* -1 = any */
        char access[4];       /* subset of "rwm", "" = all */
} OciDeviceRule;

typedef struct OciResources {
        bool has_memory_limit, has_memory_reservation, has_memory_swap, has_memory_swappiness;
        int64_t memory_limit, memory_reservation, memory_swap; /* -1 = unlimited */
        uint64_t memory_swappiness;
        bool disable_oom_killer;
        bool has_cpu_shares, has_cpu_quota, has_cpu_period;
        uint64_t cpu_shares, cpu_period;
        int64_t cpu_quota;
        char *cpu_cpus, *cpu_mems; /* NULL if absent */
        bool has_pids_limit;
        int64_t pids_limit; /* <= 0 = unlimited */
        bool has_blkio_weight;
        uint16_t blkio_weight;
        OciDeviceRule *devices;
        size_t n_devices;
        /* unified (cgroup v2 key = value), as given */
        char **unified_keys, **unified_values;
        size_t n_unified;
} OciResources;

typedef struct OciSeccompArg {
        unsigned index;
        uint64_t value, value_two;
        int op; /* enum scmp_compare (SCMP_CMP_*) */
} OciSeccompArg;

typedef struct OciSeccompRule {
        char **names; /* NULL-terminated syscall names */
        uint32_t action; /* SCMP_ACT_* with its errno/trace value folded in */
        OciSeccompArg *args;
        size_t n_args;
} OciSeccompRule;

typedef struct OciSeccomp {
        uint32_t default_action; /* SCMP_ACT_* with default errno folded in */
        uint32_t *architectures; /* SCMP_ARCH_* */
        size_t n_architectures;
        char **flags; /* NULL-terminated, as given ("SECCOMP_FILTER_FLAG_LOG"...) */
        char *listener_path; /* NULL if absent; the seccomp agent's socket (host path) */
        char *listener_metadata; /* NULL if absent; passed to the agent as is */
        OciSeccompRule *rules;
        size_t n_rules;
} OciSeccomp;

typedef struct OciTimeOffset {
        bool has;
        int64_t secs;
        uint32_t nanosecs; /* below 10^9 */
} OciTimeOffset;

typedef struct OciHook {
        char *path; /* absolute */
        char **args; /* NULL-terminated, may be NULL */
        char **env;  /* NULL-terminated, may be NULL */
        int timeout; /* seconds, 0 = none */
} OciHook;

typedef enum OciHookKind {
        OCI_HOOK_PRESTART,
        OCI_HOOK_CREATE_RUNTIME,
        OCI_HOOK_CREATE_CONTAINER,
        OCI_HOOK_START_CONTAINER,
        OCI_HOOK_POSTSTART,
        OCI_HOOK_POSTSTOP,
        _OCI_HOOK_MAX,
} OciHookKind;

typedef struct OciSpec {
        char *oci_version;
        char *root_path; /* as given: relative to the bundle or absolute */
        bool root_readonly;
        char *hostname, *domainname; /* NULL if absent */
        OciProcess process;
        bool has_process; /* false only where the spec allows it (never for create) */
        OciMount *mounts;
        size_t n_mounts;
        OciHook *hooks[_OCI_HOOK_MAX];
        size_t n_hooks[_OCI_HOOK_MAX];
        char **annotation_keys, **annotation_values;
        size_t n_annotations;

        /* linux */
        OciNamespace *namespaces;
        size_t n_namespaces;
        OciIdMap *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
        OciDevice *devices;
        size_t n_devices;
        char *cgroups_path; /* NULL if absent */
        OciResources resources;
        bool has_seccomp;
        OciSeccomp seccomp;
        char **sysctl_keys, **sysctl_values;
        size_t n_sysctl;
        /* NULL, "private", "rprivate", "slave", "rslave", "shared",
         * "rshared", "unbindable", "runbindable" */
        char *rootfs_propagation;
        char **masked_paths, **readonly_paths; /* NULL-terminated, may be NULL */
        char *mount_label;
        /* linux.timeOffsets: the time namespace's offsets of
         * CLOCK_MONOTONIC and CLOCK_BOOTTIME. */
        OciTimeOffset time_monotonic, time_boottime;
        /* personality, intelRdt...: not carried (ignored). */
} OciSpec;

/* Parses config.json text.  On failure returns -EINVAL (or -ENOMEM) and
 * writes a message naming the JSON path at fault into err. */
int oci_spec_parse(const char *json, size_t len, OciSpec **ret, char *err, size_t errlen);
/* Reads BUNDLE/config.json (the errors also name the file). */
int oci_spec_load(const char *bundle, OciSpec **ret, char *err, size_t errlen);
void oci_spec_free(OciSpec *s);
/* A process object alone (`exec --process F.json`): same rules as
 * config.json's "process". */
int oci_process_parse(const char *json, size_t len, OciProcess *ret, char *err, size_t errlen);
void oci_process_done(OciProcess *p);
/* A LinuxResources object alone (`update --resources F.json`): same rules
 * as config.json's linux.resources; errors name the member ("memory.limit"). */
int oci_resources_parse(const char *json, size_t len, OciResources *ret, char *err, size_t errlen);
void oci_resources_done(OciResources *res);
/* The annotation's value, or NULL. */
const char *oci_spec_annotation(const OciSpec *s, const char *key);
/* The namespace entry of this type, or NULL when the spec does not list it
 * (then the container shares the runtime's). */
const OciNamespace *oci_spec_namespace(const OciSpec *s, OciNsType type);

/* Names of the spec's values: "RLIMIT_NOFILE", "CAP_SYS_ADMIN" (through
 * libcap; the "CAP_" prefix is required), "network", "createRuntime".
 * The *_from_name ones return -EINVAL for an unknown name, the others NULL
 * for an unknown value. */
int oci_rlimit_from_name(const char *name);
const char *oci_rlimit_to_name(int resource);
int oci_cap_from_name(const char *name);
int oci_ns_type_from_name(const char *name);
const char *oci_ns_type_name(OciNsType t);
const char *oci_hook_kind_name(OciHookKind k);

/* ---- seccomp (oci-seccomp.c) -------------------------------------------- */

void oci_seccomp_done(OciSeccomp *s);
/* The profile as a libseccomp filter: the default action, the listed
 * architectures besides the native one (those this libseccomp or kernel
 * cannot filter are skipped), one rule per known system call (unknown
 * names are skipped, as runc does; rules whose action is the default one
 * too), argument conditions (several on one argument: one rule each, any
 * may match), the flags as filter attributes.  no_new_privs is left to the
 * caller.  Errors name the JSON path ("linux.seccomp.syscalls[3].names"). */
int oci_seccomp_build(const OciSeccomp *s, scmp_filter_ctx *ret, char *err, size_t errlen);
/* SECCOMP_FILTER_FLAG_* for seccomp(2): the profile's flags, and
 * NEW_LISTENER when a rule's action is SCMP_ACT_NOTIFY. */
unsigned oci_seccomp_kernel_flags(const OciSeccomp *s);
/* oci_seccomp_build() compiled to BPF with those flags, for
 * seccomp_program_load() (sandbox.h) in the container's child, which then
 * returns the notification fd when there is one. */
typedef struct SeccompProgram SeccompProgram;
int oci_seccomp_program_new(const OciSeccomp *s, SeccompProgram **ret, char *err, size_t errlen);

/* Everything oci_seccomp_program_new() consumes, as bytes (malloc'ed): a
 * format version (OCI_SECCOMP_SERIAL_VERSION, raised whenever the compiler
 * or this serialization changes), libseccomp's version, the native
 * architecture, the kernel's seccomp API level, then the profile's values
 * after defaults (default action with its errno, the kernel flags, the
 * architectures, each rule's action, names and argument conditions, in
 * order).  Two profiles give the same bytes exactly when they compile to
 * the same program here: the key of shuttle-oci's cache of compiled
 * profiles.  listenerPath and listenerMetadata are left out (not part of
 * the program). */
#define OCI_SECCOMP_SERIAL_VERSION 1
int oci_seccomp_serialize(const OciSeccomp *s, void **ret, size_t *ret_size);

/* The names this build accepts (for `features`): fills up to size of them,
 * returns how many there are. */
typedef enum OciSeccompNames {
        OCI_SECCOMP_ACTIONS,
        OCI_SECCOMP_ARCHS,
        OCI_SECCOMP_OPERATORS,
        OCI_SECCOMP_FLAGS,
} OciSeccompNames;
size_t oci_seccomp_names(OciSeccompNames kind, const char **ret, size_t size);

/* ---- mount options (oci-mount.c) ---------------------------------------- */

/* A mount's options as mount(2) and mount_setattr(2) take them, with the
 * meaning runc and crun give them; later options override earlier ones. */
typedef struct OciMountOptions {
        unsigned long flags;       /* MS_* to set ("ro", "nosuid", "bind"; MS_BIND|MS_REC for "rbind") */
        unsigned long clear;       /* MS_* an option turned off ("rw", "suid", "exec"), for a remount */
        unsigned long propagation; /* MS_PRIVATE/SHARED/SLAVE/UNBINDABLE (| MS_REC for "r..."), 0 = none */
        /* MOUNT_ATTR_* for mount_setattr(AT_RECURSIVE): "rro", "rnosuid"... */
        uint64_t rec_attr_set, rec_attr_clr;
        bool tmpcopyup, idmap, recursive_idmap;
        char *data; /* the filesystem's options joined by commas ("mode=755,size=65536k"), NULL if none */
} OciMountOptions;
int oci_mount_options_parse(char *const *options, OciMountOptions *ret);
void oci_mount_options_done(OciMountOptions *o);
/* The option names understood (not the data ones): fills up to size,
 * returns how many there are. */
size_t oci_mount_option_names(const char **ret, size_t size);

/* ---- `spec` and `features` (oci-default.c) ------------------------------ */

/* The ociVersion `spec` writes, and the newest this reader takes. */
#define OCI_SPEC_VERSION "1.0.2"
#define OCI_SPEC_VERSION_MAX "1.2.0"

/* A default config.json as `runc spec` writes it (hostname "shuttle",
 * rootfs "rootfs", sh on a terminal); rootless: a user namespace mapping
 * root to uid/gid, no network namespace, /sys bound from the host, no
 * devices cgroup.  *ret is malloc()ed JSON text. */
int oci_spec_default_json(bool rootless, uid_t uid, gid_t gid, char **ret);
/* The runtime-spec features document (features.md) of this build:
 * versions, hooks, mount options, namespaces, capabilities, cgroup v1/v2,
 * seccomp actions/operators/architectures/flags (supportedFlags probed
 * from the kernel without loading anything), no AppArmor/SELinux, and
 * Shuttle's annotations. */
int oci_features_json(char **ret);

/* ---- Shuttle's annotations (oci-shuttle.c) ------------------------------ */

#define OCI_ANNOTATION_NAME "org.shuttle.name"
#define OCI_ANNOTATION_GROUP "org.shuttle.group"
#define OCI_ANNOTATION_EXPORTS "org.shuttle.exports"
#define OCI_ANNOTATION_SHIM "org.shuttle.shim"
#define OCI_ANNOTATION_CONTAINER "org.shuttle.container"
/* How containerd's and CRI-O's CRI mark a pod's sandbox ("pause")
 * container, which gets the pod's annotations as its containers do, and
 * name a container within its pod (the pod spec's containers[].name). */
#define OCI_ANNOTATION_CRI_TYPE "io.kubernetes.cri.container-type"
#define OCI_ANNOTATION_CRIO_TYPE "io.kubernetes.cri-o.ContainerType"
#define OCI_ANNOTATION_CRI_NAME "io.kubernetes.cri.container-name"
#define OCI_ANNOTATION_CRIO_NAME "io.kubernetes.container.name"
/* CRI-O gives a pod's annotations to its sandbox ("infra") container
 * only; each app container (type "container") names its sandbox here. */
#define OCI_ANNOTATION_CRIO_SANDBOX_ID "io.kubernetes.cri-o.SandboxID"
/* The kubelet's label of a pod's sandbox and containers, which CRI-O
 * copies into their annotations: the pod they belong to. */
#define OCI_ANNOTATION_POD_UID "io.kubernetes.pod.uid"

typedef struct ContainerExport ContainerExport; /* runtime/container.h */

/* The org.shuttle.* annotations of a config.json. */
typedef struct OciShuttle {
        bool present;  /* any org.shuttle.* annotation: a Shuttle container */
        char *name;    /* org.shuttle.name; NULL: the runtime uses the container's id */
        char *group;   /* org.shuttle.group, or NULL */
        ContainerExport *exports; /* org.shuttle.exports: "NAME=VALUE,..." as shuttlectl's --export */
        size_t n_exports;
        bool shim;     /* org.shuttle.shim: "true" or "false" (default) */
} OciShuttle;
/* Reads them; an unknown org.shuttle.* key, a bad name or export, a shim
 * value other than "true"/"false" is refused with the annotation named
 * ('annotations["org.shuttle.exports"]: 'db=tcp:0': expected tcp:PORT ...').
 * A pod's sandbox container (OCI_ANNOTATION_CRI_TYPE or _CRIO_TYPE
 * "sandbox") is checked the same, then is not a Shuttle container: the
 * pod's annotations name the pod's workload, not its pause process.  So is
 * a container of a pod other than the one org.shuttle.container names
 * (its sidecars, init containers); that annotation on a container with no
 * name in a pod is refused. */
int oci_shuttle_annotations(const OciSpec *s, OciShuttle *ret, char *err, size_t errlen);
/* Under CRI-O: the sandbox ID of s when s is an app container
 * (OCI_ANNOTATION_CRIO_TYPE "container", OCI_ANNOTATION_CRIO_SANDBOX_ID
 * set) with no org.shuttle.* annotation of its own, so that the pod's
 * (its sandbox's) apply; otherwise NULL.  Points into s. */
const char *oci_shuttle_crio_sandbox(const OciSpec *s);
/* As oci_shuttle_annotations(), with the org.shuttle.* keys of pod (only
 * its annotations are read: the sandbox's, which must be marked
 * "sandbox") when oci_shuttle_crio_sandbox(s) says they apply; the rest
 * (a sandbox registers nothing, org.shuttle.container picks the pod's
 * container by s's name in the pod) as there.  Both must carry the same
 * OCI_ANNOTATION_POD_UID, else refused naming OCI_ANNOTATION_CRIO_SANDBOX_ID.
 * pod NULL: s alone. */
int oci_shuttle_annotations_pod(const OciSpec *s, const OciSpec *pod, OciShuttle *ret, char *err, size_t errlen);
void oci_shuttle_done(OciShuttle *a);
