/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Privilege reduction for the container's command: capabilities (libcap),
 * no_new_privs, the default seccomp profile (libseccomp), rlimits, and
 * bringing up loopback over netlink (libmnl).  What is dropped or denied, and
 * why, is written down in docs/SANDBOX.md.
 *
 * Recommended order in the child, after mounts and pivot_root, before execve:
 *
 *     caps_drop_bounding(keep);     needs CAP_SETPCAP, so before anything else
 *     rlimits_apply(...);           while CAP_SYS_RESOURCE is still effective
 *                                   (where root has it), before the uid change
 *     setgroups / setresgid / setresuid   (--user; the caller does this)
 *     caps_apply(keep);
 *     no_new_privs_set();
 *     seccomp_program_load(prog);   prog built in the parent, before fork
 *     execve(...);
 *
 * seccomp_load_default() builds and loads in one call, for callers that do
 * not care about the cost of compiling the filter in the child.
 *
 * Every function returns 0 or a negative errno and leaves its ret_* outputs
 * untouched on failure; none of them logs. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

/* ---- capabilities (caps.c) ---------------------------------------------- */

/* Capabilities as a bit mask (bit N = capability N). */
#define CAP_MASK(cap) (UINT64_C(1) << (cap))

/* The default set: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID,
 * SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, SETFCAP. */
uint64_t caps_default_mask(void);
/* Every capability the running kernel knows (what "ALL" means). */
uint64_t caps_all_mask(void);
/* "NET_ADMIN", "CAP_NET_ADMIN", "net_admin", "ALL", or a comma list of them.
 * Empty names, numbers and unknown names: -EINVAL. */
int caps_parse(const char *s, uint64_t *ret_mask);
/* Comma-separated names of the caps in mask in ascending order, e.g.
 * "CHOWN,KILL"; "" for 0.  malloc'ed; NULL with errno = ENOMEM on failure. */
char *caps_format(uint64_t mask);
/* Drop every capability not in keep from the bounding set (needs CAP_SETPCAP
 * unless there is nothing left to drop). */
int caps_drop_bounding(uint64_t keep);
/* Permitted = effective = inheritable = keep ∩ current permitted; ambient
 * cleared.  After a setresuid() to a non-root uid the kernel has already
 * emptied the permitted set: then this only clears what is left. */
int caps_apply(uint64_t keep);

/* ---- no_new_privs (sandbox.c) ------------------------------------------- */

int no_new_privs_set(void);

/* ---- seccomp (seccomp.c, seccomp-table.c) ------------------------------ */

/* The default profile is an allow list (docs/SANDBOX.md has the tables):
 * a call is allowed when a group lists it and the container holds the
 * group's capability; clone, unshare, socket and personality are allowed
 * for some arguments only; known calls that are not allowed get EPERM, and
 * everything else (new or unknown calls) ENOSYS, so programs fall back as
 * on an older kernel. */

/* A group of allowed calls.  cap < 0: in every container; otherwise only
 * in one that holds capability cap (EPERM without it). */
typedef struct SeccompGroup {
        const char *name;
        int cap;
        const char *reason;
        const char *const *syscalls; /* NULL-terminated */
} SeccompGroup;
const SeccompGroup *seccomp_allow_groups(size_t *ret_n);

/* Calls refused whatever the capabilities. */
typedef struct SeccompDenial {
        const char *syscall;
        int error;         /* errno returned: EPERM, or ENOSYS for clone3 */
        const char *reason;
} SeccompDenial;
const SeccompDenial *seccomp_default_denials(size_t *ret_n);

typedef enum SeccompVerdict {
        SECCOMP_VERDICT_ALLOW,
        SECCOMP_VERDICT_ARGS, /* depends on the arguments: clone, unshare, socket, personality */
        SECCOMP_VERDICT_DENY, /* *ret_error: EPERM (known, refused) or ENOSYS */
} SeccompVerdict;
/* What the profile built for capability set caps does with a call, by name. */
SeccompVerdict seccomp_verdict(const char *syscall, uint64_t caps, int *ret_error);
/* Namespace flags clone() (unshare = false) or unshare() refuse with EPERM. */
uint64_t seccomp_clone_denied_flags(uint64_t caps, bool unshare);
/* Whether socket(family, *, protocol) is allowed; protocol matters for
 * AF_NETLINK only.  Refused ones get EPERM. */
bool seccomp_socket_allowed(int family, int protocol, uint64_t caps);
/* The capabilities the profile looks at (the groups' ones, CAP_SYS_ADMIN
 * for namespaces, CAP_NET_RAW, CAP_NET_ADMIN and CAP_AUDIT_WRITE for
 * sockets): two sets that agree on these get the same program. */
uint64_t seccomp_caps_consulted(void);
/* Whether personality(persona) is allowed; other values get ENOSYS. */
bool seccomp_personality_allowed(uint64_t persona);
/* The allowed personality values, for the filter: fills up to size of them,
 * returns how many there are. */
size_t seccomp_personality_values(uint64_t *ret, size_t size);

/* The profile compiled to classic BPF for the native architecture and its
 * secondary ABIs (x86_64: also i386 and x32), for a container whose
 * capability set is caps. */
typedef struct SeccompProgram SeccompProgram;
int seccomp_program_new(uint64_t caps, SeccompProgram **ret);
/* The same, always compiled now with libseccomp (seccomp_program_new() takes
 * a program compiled at build time where one fits). */
int seccomp_program_compile(uint64_t caps, SeccompProgram **ret);
/* The program compiled at build time for a set that agrees with caps on
 * seccomp_caps_consulted() (shuttlectl's default set, runc's and crun's,
 * Docker's), for this architecture, kernel API level and libseccomp;
 * -ENOENT if there is none. */
int seccomp_program_builtin(uint64_t caps, SeccompProgram **ret);
/* Its instructions. */
struct sock_filter;
const struct sock_filter *seccomp_program_code(const SeccompProgram *p, size_t *ret_len);
/* The same for caps_default_mask(). */
int seccomp_program_new_default(SeccompProgram **ret);
void seccomp_program_free(SeccompProgram *p);
/* Any libseccomp filter (a scmp_filter_ctx, which the caller keeps)
 * compiled to classic BPF, to be loaded with seccomp(2) flags
 * (SECCOMP_FILTER_FLAG_*: the OCI profile's flags). */
int seccomp_program_new_from_filter(void *filter, unsigned flags, SeccompProgram **ret);
/* A program from instructions compiled earlier (shuttle-oci's cache of
 * compiled OCI profiles), copied, with the seccomp(2) flags to load it
 * with.  -EBADMSG if len is 0 or above BPF_MAXINSNS. */
int seccomp_program_new_from_code(const struct sock_filter *code, size_t len, unsigned flags,
                                  SeccompProgram **ret);
/* The SECCOMP_FILTER_FLAG_* it is loaded with. */
unsigned seccomp_program_flags(const SeccompProgram *p);
/* Loads into the calling thread with seccomp(2) and the program's flags.
 * Only a system call: safe in a forked child.  Needs no_new_privs (or
 * CAP_SYS_ADMIN).  Returns 0, or the notification fd when the flags have
 * SECCOMP_FILTER_FLAG_NEW_LISTENER. */
int seccomp_program_load(const SeccompProgram *p);
/* Whether fd is a seccomp notification fd (what a load with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER returned), for a receiver that must
 * not take anything else in its place. */
bool seccomp_is_listener(int fd);

/* Build and load the profile into the calling thread (new + load + free).
 * Same requirement as seccomp_program_load(). */
int seccomp_load_profile(uint64_t caps);
int seccomp_load_default(void);

typedef enum SeccompExportFormat {
        SECCOMP_EXPORT_PFC, /* libseccomp's human-readable pseudo filter code */
        SECCOMP_EXPORT_BPF, /* raw struct sock_filter array, host byte order */
} SeccompExportFormat;
/* Writes the profile for caps (or the default set) to fd. */
int seccomp_export(uint64_t caps, int fd, SeccompExportFormat format);
int seccomp_export_default(int fd, SeccompExportFormat format);

/* ---- rlimits (rlimit.c) ------------------------------------------------- */

typedef struct RlimitSpec {
        int resource;        /* RLIMIT_* */
        struct rlimit limit;
} RlimitSpec;

/* "nofile=1024", "nofile=1024:4096", "nproc=unlimited"; names are core, cpu,
 * data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio,
 * rttime, sigpending, stack, as.  A single value sets soft = hard; soft above
 * hard is -EINVAL. */
int rlimit_parse(const char *s, RlimitSpec *ret);
const char *rlimit_name(int resource);
/* The inverse of rlimit_parse(): "nofile=1024:4096", "core=unlimited:unlimited".
 * -ENOBUFS if size is too small, -EINVAL for an unknown resource. */
int rlimit_format(const RlimitSpec *s, char *buf, size_t size);
/* Checks, without changing anything, that rlimits_apply() can succeed: a
 * hard limit above the current one needs CAP_SYS_RESOURCE (and nofile never
 * goes above fs.nr_open).  On -EPERM *ret_failed is the offending spec and
 * *ret_max (if not NULL) the highest hard limit this process may set for it,
 * so a caller can say "--ulimit nofile=...: cannot raise the hard limit above
 * 20000 without CAP_SYS_RESOURCE".  Cheap: run it in the parent too, before
 * creating anything. */
int rlimits_check(const RlimitSpec *specs, size_t n, const RlimitSpec **ret_failed,
                  rlim_t *ret_max);
/* rlimits_check(), then applies each.  On failure *ret_failed names the one
 * that failed; the EPERM case is caught by the check before anything
 * changed. */
int rlimits_apply(const RlimitSpec *specs, size_t n, const RlimitSpec **ret_failed);

/* ---- the whole sequence (sandbox.c) -------------------------------------- */

/* What a process entering a container gives up, in the one order that
 * works (see the top of this file): bounding set, rlimits, groups and ids,
 * capabilities, working directory (as the final user), descriptors
 * beyond stdio (and n_pass_fds) marked close-on-exec, no_new_privs,
 * seccomp (with new_privs: the descriptors and the filter right after the
 * rlimits, no no_new_privs). */
typedef struct SandboxSpec {
        uint64_t caps;
        const RlimitSpec *rlimits;
        size_t n_rlimits;
        bool set_ids;
        uid_t uid;
        gid_t gid;
        const gid_t *groups;    /* supplementary groups (none if n_groups is 0) */
        size_t n_groups;
        const char *workdir;
        const SeccompProgram *seccomp;
        unsigned n_pass_fds;    /* descriptors 3 … 3+n-1 are passed on on
                                 * purpose: left open (0: only stdio) */
        /* For shuttle-oci, as config.json asks (defaults: off): */
        uint64_t ambient;       /* raised after the capabilities (within caps) */
        bool keep_caps;         /* caps survive the change to a non-root uid */
        bool new_privs;         /* no no_new_privs: the filter is loaded right
                                 * after the rlimits, while CAP_SYS_ADMIN is
                                 * still held; the ids, capabilities and
                                 * working directory are set under it */
} SandboxSpec;

typedef enum SandboxStep {
        SANDBOX_STEP_BOUNDING,
        SANDBOX_STEP_RLIMITS,
        SANDBOX_STEP_GROUPS,
        SANDBOX_STEP_GID,
        SANDBOX_STEP_UID,
        SANDBOX_STEP_CAPS,
        SANDBOX_STEP_WORKDIR,
        SANDBOX_STEP_NO_NEW_PRIVS,
        SANDBOX_STEP_SECCOMP,
        SANDBOX_STEP_FDS,
} SandboxStep;

/* Returns 0, or a negative errno with *ret_step naming the step that
 * failed (and *ret_rlimit the limit, for SANDBOX_STEP_RLIMITS).  When the
 * program's flags have SECCOMP_FILTER_FLAG_NEW_LISTENER (an OCI profile
 * with SCMP_ACT_NOTIFY rules), a value >= 0 is its notification fd
 * (close-on-exec), the caller's to pass on or close; on failure it is
 * closed. */
int sandbox_enter(const SandboxSpec *s, SandboxStep *ret_step, const RlimitSpec **ret_rlimit);
/* "setting capabilities", for messages. */
const char *sandbox_step_describe(SandboxStep step);

/* ---- netlink (netlink.c) ------------------------------------------------ */

/* Set "lo" up in the current network namespace over rtnetlink. */
int netlink_loopback_up(void);
/* Sets a link up or down by name; -ENODEV if there is no such link. */
int netlink_link_set_up(const char *ifname, bool up);
/* Whether the link has IFF_UP, asked over rtnetlink; -ENODEV if absent. */
int netlink_link_is_up(const char *ifname, bool *ret);
