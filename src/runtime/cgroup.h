/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* cgroup limits for one container, with a v1 and a v2 backend.
 *
 * The backend is chosen by probing the tree under `root` (normally
 * /sys/fs/cgroup; unit tests pass a fake tree).  The hybrid layout, where
 * cgroup2 is mounted at <root>/unified but holds no controllers, is v1.
 *
 * Where a container's cgroup goes:
 *  - v1: in every hierarchy it needs (memory and pids always, cpu when a cpu
 *    limit is set), below the cgroup this process is in, as read from
 *    self_cgroup_file: <root>/<hierarchy>/<own path>/shuttle/<name>.  v1 has
 *    no "no internal processes" rule, so nesting below our own cgroup keeps
 *    whatever limits the outside world put on us.  If our own cgroup is not
 *    visible under root (a cgroupfs mounted from inside another container
 *    without a cgroup namespace), the hierarchy's top is used instead.
 *  - v2: <root>/shuttle/<name>.  The root is exempt from the "no internal
 *    processes" rule, so it may hold processes and still delegate; `shuttle`
 *    holds none.  Only the controllers the requested limits need are
 *    enabled ("+memory +pids +cpu" in <root>/cgroup.subtree_control and
 *    <root>/shuttle/cgroup.subtree_control), and only if cgroup.controllers
 *    lists them.
 * The cgroup is created even when no limit is requested, so the container's
 * processes can always be found, killed and checked for OOM kills.
 * The shared `shuttle` parent is removed again when it is empty.
 *
 * Nothing is half-applied: cgroup_create() either returns a cgroup with every
 * requested limit written, or removes whatever it made and fails.
 *
 * All functions return 0 (or a documented positive value) or a negative errno,
 * and leave their outputs untouched on failure.  None of them logs. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum CgroupVersion {
        CGROUP_V1 = 1,
        CGROUP_V2 = 2,
} CgroupVersion;

/* The pids limit of a container that sets none (--pids, limits.pids): the
 * default of Podman and CRI-O (containers.conf pids_limit).  Far above what
 * a service or a build needs (a parallel build with a few hundred compiler
 * processes fits), far below the host's pid_max (4194304 on 64-bit) and
 * threads-max, so a fork bomb in one container stops at its own limit and
 * leaves the host and the other containers able to fork.  "max" turns the
 * limit off. */
#define CONTAINER_DEFAULT_PIDS 2048

typedef struct CgroupLimits {
        uint64_t memory_bytes;    /* 0 = no limit */
        uint64_t pids_max;        /* 0 = no limit */
        bool pids_default;        /* pids_max is the default, CONTAINER_DEFAULT_PIDS:
                                   * skipped where there is no pids controller */
        uint64_t cpu_quota_usec;  /* 0 = no limit; else >= 1000 */
        uint64_t cpu_period_usec; /* 0 = default (100000); else 1000..1000000 */
        uint64_t cpu_shares;      /* 0 = unset; else 2..262144 (v1 cpu.shares; v2
                                   * cpu.weight = 1 + (shares - 2) * 9999 / 262142) */
        const char *cpus, *mems;  /* cpuset.cpus / cpuset.mems, NULL = inherit; not owned */
        /* Where the cgroup goes (OCI linux.cgroupsPath): NULL = shuttle/<name>
         * as described above; "/a/b" = a/b below each hierarchy's root (v1)
         * or the root (v2); "a/b" = a/b below this process's own cgroup on
         * v1, below the root on v2 (as for shuttle/<name>: our own v2 cgroup
         * holds us, so it could not delegate controllers).
         * Missing parents are made (and left after the container, as runc
         * leaves them; removed again if cgroup_create() fails); the last
         * component replaces the name.  With a path, v1 also uses the cpu
         * and cpuset hierarchies where they exist.  Not owned. */
        const char *path;
        bool freezer;             /* v1: a directory in the freezer hierarchy too, where
                                   * there is one (v2 always has cgroup.freeze) */
        /* The devices the container may use: v1 devices controller; v2 a
         * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup
         * (cgroup-bpf.h), where the kernel lets us load one:
         * cgroup_enforces_devices() says whether they hold.  Applied in
         * order after denying everything (last match wins); not owned. */
        const struct CgroupDeviceRule *devices;
        size_t n_devices;
        bool has_devices;
} CgroupLimits;

typedef struct CgroupDeviceRule {
        bool allow;
        char type;            /* 'a', 'c' or 'b' */
        int64_t major, minor; /* -1 = any */
        char access[4];       /* subset of "rwm" */
} CgroupDeviceRule;

/* What every container may use (as runc): mknod of any node, /dev/null,
 * zero, full, random, urandom, tty, console, ptmx and the ptys.  shuttle-oci
 * puts it after linux.resources.devices; a container without rules of its
 * own that keeps CAP_MKNOD (shuttlectl run --cap-add MKNOD) gets it alone. */
extern const CgroupDeviceRule cgroup_default_devices[];
extern const size_t cgroup_n_default_devices;

typedef struct Cgroup Cgroup;

/* root: "/sys/fs/cgroup" or a test tree.
 * self_cgroup_file: "/proc/self/cgroup" or a test file, used to find where
 * this process sits (containers are created below it on v1).
 *
 * <root>/cgroup.controllers exists → v2 (pure unified); otherwise any of
 * <root>/memory, <root>/pids, <root>/cpu, <root>/cpu,cpuacct is a directory →
 * v1, whatever <root>/unified holds.  -EOPNOTSUPP if neither. */
int cgroup_probe(const char *root, CgroupVersion *ret);

/* Checks that every controller the limits need is available, without
 * creating anything.  On -EOPNOTSUPP, *ret_controller (if not NULL) is set to
 * the missing controller's name ("memory", "pids", "cpu"; a static string),
 * for messages like "cgroup controller 'pids' is not available".
 * cgroup_create() fails the same way (without naming it) when this fails. */
int cgroup_check_limits(const char *root, const char *self_cgroup_file,
                        const CgroupLimits *limits, const char **ret_controller);

/* Creates the container's cgroup and writes the limits.
 * -EINVAL: invalid name (see container_name_is_valid()) or limits (a
 *   limits.path with an empty, "." or ".." component).
 * -EOPNOTSUPP: no known cgroup layout, or a needed controller is missing.
 * -EBUSY: a cgroup of that name exists and still holds processes (a running
 *   container, or a crash leftover: cgroup_remove_stale() clears those).  An
 *   existing one without processes is removed and made afresh. */
int cgroup_create(const char *root, const char *self_cgroup_file, const char *name,
                  const CgroupLimits *limits, Cgroup **ret);

CgroupVersion cgroup_version(const Cgroup *cg);
/* Whether limits.devices is enforced for this cgroup (v1 with a devices
 * hierarchy, v2 with the program attached): if not, nothing stops a process with CAP_MKNOD from opening
 * the host's devices. */
bool cgroup_enforces_devices(const Cgroup *cg);
/* The cgroup's directory (v2) or the memory controller's directory (v1),
 * for messages and the state file. */
const char *cgroup_path(const Cgroup *cg);
/* Every directory created, NULL-terminated (one on v2; memory, pids and
 * maybe cpu on v1). */
const char *const *cgroup_paths(const Cgroup *cg);
/* A new O_RDONLY|O_DIRECTORY|O_CLOEXEC fd on the v2 directory, e.g. for
 * clone3(CLONE_INTO_CGROUP).  -EOPNOTSUPP on v1. */
int cgroup_open_fd(const Cgroup *cg);

/* Moves pid (its whole thread group) into the cgroup, in every hierarchy. */
int cgroup_attach(Cgroup *cg, pid_t pid);
/* Moves the calling process, which must have one thread, into the cgroup,
 * in every hierarchy: "0" written to "tasks" on v1, to "cgroup.procs" on
 * v2.  On v1 the kernel moves the writer itself without taking the global
 * lock of thread groups, whose taking waits for an RCU grace period (what
 * writing a pid to cgroup.procs does: 7-24 ms on a loaded 2-CPU machine).
 * Safe in a forked child: system calls only. */
int cgroup_attach_self(const Cgroup *cg);
/* The same for a cgroup directory given by fd: v1 or v2 by its file system. */
int cgroup_dir_attach_self(int dirfd);
/* How many processes the OOM killer took in this cgroup (v1:
 * memory.oom_control "oom_kill", kernel >= 4.13, else -ENODATA; v2:
 * memory.events "oom_kill", 0 when no memory limit was set since then the
 * memory controller is not enabled and the cgroup has no limit to hit). */
int cgroup_oom_kill_count(Cgroup *cg, uint64_t *ret);
/* The same for the cgroup directory PATH (a memory one on v1): -ENOENT if
 * it has no OOM count. */
int cgroup_path_oom_kill_count(const char *path, uint64_t *ret);
/* Freezes (or thaws) every process in the cgroup: v1 freezer.state (with
 * limits.freezer; -EOPNOTSUPP without a freezer directory), v2
 * cgroup.freeze.  Does not wait for the state to settle. */
int cgroup_freeze_path(const char *const *paths, bool freeze);
/* SIGKILLs every process in the cgroup (and in any cgroup below it) and
 * waits until none is left, for up to 2 s: cgroup.kill where the kernel has
 * it, else rounds of reading cgroup.procs and signalling what is listed.
 * -EBUSY if processes remain (e.g. stuck in uninterruptible sleep). */
int cgroup_kill_all(Cgroup *cg);
/* cgroup_kill_all(), then rmdir every directory created (leaf first; below
 * it too) and the `shuttle` parents if they are empty.  Idempotent: a failed
 * call may be retried, a second successful one does nothing. */
int cgroup_destroy(Cgroup *cg);
/* Frees memory and fds.  Does not remove anything: call cgroup_destroy()
 * first.  Accepts NULL; returns NULL. */
Cgroup *cgroup_free(Cgroup *cg);

/* Removes the directories a crashed run left for `name` (killing any process
 * still in them), in every hierarchy a container may use.  Returns 0 if there
 * was nothing to remove, 1 if something was removed.  Only call this for a
 * name no live container uses. */
int cgroup_remove_stale(const char *root, const char *self_cgroup_file, const char *name);
/* The same for one directory recorded from cgroup_paths() in a state file,
 * for when the next run sits in another cgroup (v1 nests below our own).
 * Only acts on ".../shuttle/<valid name>" on a cgroupfs (-EINVAL otherwise);
 * removes `shuttle` too if it is left empty.  0 if it was already gone, 1 if
 * removed. */
int cgroup_remove_stale_path(const char *path);
/* The same for any directory on a cgroupfs, for a cgroup made at a
 * limits.path (shuttle-oci's linux.cgroupsPath, recorded in its own
 * state): removes it and everything below it, leaves its parents (as runc
 * does); ".../shuttle/<valid name>" is treated as above. */
int cgroup_remove_path(const char *path);

/* ---- an invocation's own cgroup ----
 *
 * A child of each of a running container's cgroup directories (the paths
 * its state file records, StateInfo.cgroups), for an app the broker starts
 * in the container and everything that app starts: joined before the app
 * exists (ExecConfig.cgroups), so nothing of it is ever outside; below the
 * container's, so the container's limits still count all of it.  v2 allows
 * it under a cgroup that holds processes because the runtime enables no
 * controller in a container's own cgroup.subtree_control; `shuttlectl
 * stop` removes it with the container's (cgroup_destroy() kills and
 * removes everything below).
 *
 * Ending it never waits: cgroup_sub_kill() is one round, to be repeated
 * (from an event loop's timer) until it returns 0, then
 * cgroup_sub_remove() until it stops saying -EBUSY. */

typedef struct CgroupSub CgroupSub;

/* Names are CGROUP_SUB_PREFIX and digits or dashes, so leftovers can be
 * told from anything else below a container's cgroup. */
#define CGROUP_SUB_PREFIX "shuttle-invoke-"
bool cgroup_sub_name_is_valid(const char *name);

/* Creates <parent>/<name> below each of the NULL-terminated parents (each
 * must be on a cgroupfs: -EMEDIUMTYPE otherwise).  -EEXIST if one is
 * there already (pick another name); nothing is left behind on failure. */
int cgroup_sub_create(char *const *parents, const char *name, CgroupSub **ret);
/* Its directories, NULL-terminated, in the order of the parents. */
char *const *cgroup_sub_paths(const CgroupSub *s);
/* The file of each of its directories by which a process joins it
 * ("tasks" on v1, "cgroup.procs" on v2), open for writing (close-on-exec):
 * a process that writes "0" to each is in it.  Permission is checked at
 * open (and the kernel's migration checks use the opener's credentials),
 * so a process we hand them to joins as if we had moved it: an invoked
 * app started by a zygote. */
int cgroup_sub_attach_files(const CgroupSub *s, int *ret_fds, size_t max, size_t *ret_n);
/* The same files, opened on the first call and kept (closed by
 * cgroup_sub_free(), not by the caller): for a cgroup used again. */
int cgroup_sub_attach_fds(CgroupSub *s, const int **ret_fds, size_t *ret_n);
/* Whether it may serve another app as it is, instead of being removed and
 * another made (a mkdir and an rmdir per hierarchy, the costliest part of
 * an invocation on v1): 1 if nothing of its app is left (no process listed
 * in any of its directories, no cgroup below any) and no round has stopped
 * or signalled anything in it; then it is as new.  0 if not (end it with
 * the rounds below), or a negative errno.  Nothing can join an empty one
 * but a process moved there by someone allowed to write its files; what
 * is there when the next app's invocation ends is ended with it. */
int cgroup_sub_reusable(CgroupSub *s);
/* One round of ending it: the first round stops every process in it from
 * forking (v1: pids.max 0; v2: cgroup.freeze where cgroup.kill is
 * missing), then each round SIGKILLs what cgroup.procs lists (v2:
 * cgroup.kill).  Returns how many processes were listed (0: it is empty).
 * A process that dies of it does not leave at once: call again later.
 * The first round removes the directories that are empty already (an app
 * that left nothing behind costs one rmdir each). */
int cgroup_sub_kill(CgroupSub *s, pid_t spare_pid);
/* How many processes the rounds found, spare_pid (the app itself) not
 * counted: what outlived it, or would have. */
unsigned cgroup_sub_killed(const CgroupSub *s);
/* rmdir of every directory (and anything below); -EBUSY while processes
 * are left.  May be retried; once it succeeded, does nothing. */
int cgroup_sub_remove(CgroupSub *s);
/* Frees memory and fds; removes nothing.  Accepts NULL; returns NULL. */
CgroupSub *cgroup_sub_free(CgroupSub *s);

/* After a crash of whoever ended them (the broker): kills what is in every
 * CGROUP_SUB_PREFIX cgroup below parents (waiting up to 2 s in all) and
 * removes them.  The number removed (or the first error, after trying
 * every one), and in *ret_killed how many processes were found in them. */
int cgroup_sub_remove_stale(char *const *parents, unsigned *ret_killed);

/* ---- a running container's cgroup, by its recorded paths (cgroup-live.c) ----
 *
 * paths: the NULL-terminated directories cgroup_paths() returned at create
 * (a state file's); each must be on a cgroupfs (-EMEDIUMTYPE otherwise). */

/* What to change; has_* (or a non-NULL string) says whether.  Values as
 * OCI's LinuxResources gives them. */
typedef struct CgroupUpdate {
        bool has_memory;
        int64_t memory_bytes;       /* <= 0: no limit; v1 memory+swap gets it too */
        bool has_memory_reservation;
        int64_t memory_reservation; /* <= 0: none (v1 soft limit, v2 memory.low) */
        bool has_pids;
        int64_t pids_max;           /* <= 0: no limit */
        bool has_cpu_shares;
        uint64_t cpu_shares;        /* 2..262144 (v2: cpu.weight, converted) */
        bool has_cpu_quota;
        int64_t cpu_quota;          /* <= 0: no limit; else >= 1000 */
        bool has_cpu_period;
        uint64_t cpu_period;        /* 1000..1000000 */
        const char *cpus, *mems;    /* cpuset.cpus / cpuset.mems */
        /* v2 only: file = value of this cgroup (no path, no cgroup.*) */
        char *const *unified_keys, *const *unified_values;
        size_t n_unified;
} CgroupUpdate;

/* Writes every requested value, or none: the old values are read first,
 * and put back (in reverse order) when a write fails.  On v2 a controller
 * the container was created without is enabled in its parents first.  On
 * failure *ret_field (if not NULL) names the LinuxResources field at fault
 * ("memory.limit", "cpu.quota", "unified"; a static string); -EOPNOTSUPP
 * when the cgroup has no such controller (v1: a hierarchy the container
 * is not in) or for unified on v1. */
int cgroup_update_paths(char *const *paths, const CgroupUpdate *u, const char **ret_field);

#define CGROUP_STATS_RAW_MAX 64

/* What the cgroup uses now, as runc's `events` reports it.  What the
 * cgroup has no file for stays 0 (v1: cpu usage needs a cpuacct
 * directory, throttling a cpu one).  Limits: UINT64_MAX for none. */
typedef struct CgroupStats {
        uint64_t cpu_total_ns, cpu_user_ns, cpu_kernel_ns;
        uint64_t cpu_periods, cpu_throttled_periods, cpu_throttled_ns;
        uint64_t memory_usage, memory_max_usage, memory_limit, memory_failcnt, memory_cache;
        uint64_t swap_usage, swap_limit; /* v1: memory+swap, v2: swap alone */
        uint64_t oom_kills;
        uint64_t pids_current, pids_limit;
        struct {
                char key[48];
                uint64_t value;
        } raw[CGROUP_STATS_RAW_MAX]; /* memory.stat */
        size_t n_raw;
} CgroupStats;

int cgroup_stats_paths(char *const *paths, CgroupStats *ret);

static inline void cgroup_sub_freep(CgroupSub **s) {
        cgroup_sub_free(*s);
}
#define _cleanup_cgroup_sub_ __attribute__((cleanup(cgroup_sub_freep)))

static inline void cgroup_freep(Cgroup **cg) {
        cgroup_free(*cg);
}
#define _cleanup_cgroup_ __attribute__((cleanup(cgroup_freep)))
