/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* An OCI bundle's config.json (runtime-spec 1.x), read with jansson into
 * plain C values.  Pure: oci_spec_parse() does no I/O besides reading the
 * JSON text it is given, and touches nothing of the host; what the values
 * mean for a container is decided by the runtime (shuttle-oci(8)).
 *
 * Errors name the JSON path at fault ("process.rlimits[2].type: unknown
 * rlimit 'RLIMIT_FOO'"); unknown keys are ignored as the spec asks, wrong
 * types and out-of-range values are refused. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <seccomp.h>
#include <sys/types.h>

typedef struct OciIdMap {
        uint32_t container_id, host_id, size;
} OciIdMap;

typedef struct OciRlimit {
        int resource; /* RLIMIT_* */
        uint64_t soft, hard;
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
        mode_t file_mode;
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
        char *listener_path; /* NULL if absent */
        OciSeccompRule *rules;
        size_t n_rules;
} OciSeccomp;

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
        char *rootfs_propagation; /* NULL, "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable" */
        char **masked_paths, **readonly_paths; /* NULL-terminated, may be NULL */
        char *mount_label;
        /* personality, intelRdt, timeOffsets...: not carried (ignored). */
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

/* The names this build accepts (for `features`): fills up to size of them,
 * returns how many there are. */
typedef enum OciSeccompNames {
        OCI_SECCOMP_ACTIONS,
        OCI_SECCOMP_ARCHS,
        OCI_SECCOMP_OPERATORS,
        OCI_SECCOMP_FLAGS,
} OciSeccompNames;
size_t oci_seccomp_names(OciSeccompNames kind, const char **ret, size_t size);
