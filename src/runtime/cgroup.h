/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* cgroup limits for one container, with a v1 and a v2 backend.
 *
 * The backend is chosen by probing the tree under `root` (normally
 * /sys/fs/cgroup; unit tests pass a fake tree).  The hybrid layout, where
 * cgroup2 is mounted at <root>/unified but holds no controllers, is v1.
 *
 * Nothing is half-applied: cgroup_create() either returns a cgroup with every
 * requested limit written, or removes whatever it made and fails. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum CgroupVersion {
        CGROUP_V1 = 1,
        CGROUP_V2 = 2,
} CgroupVersion;

typedef struct CgroupLimits {
        uint64_t memory_bytes;    /* 0 = no limit */
        uint64_t pids_max;        /* 0 = no limit */
        uint64_t cpu_quota_usec;  /* 0 = no limit */
        uint64_t cpu_period_usec; /* 0 = default (100000) */
} CgroupLimits;

typedef struct Cgroup Cgroup;

/* root: "/sys/fs/cgroup" or a test tree.
 * self_cgroup_file: "/proc/self/cgroup" or a test file, used to find where
 * this process sits (containers are created below it on v1). */
int cgroup_probe(const char *root, CgroupVersion *ret);

int cgroup_create(const char *root, const char *self_cgroup_file, const char *name,
                  const CgroupLimits *limits, Cgroup **ret);

CgroupVersion cgroup_version(const Cgroup *cg);
/* The cgroup's directory (v2) or the memory/pids controller's directory (v1),
 * for messages and the state file. */
const char *cgroup_path(const Cgroup *cg);

int cgroup_attach(Cgroup *cg, pid_t pid);
/* How many processes the OOM killer took in this cgroup. */
int cgroup_oom_kill_count(Cgroup *cg, uint64_t *ret);
/* SIGKILL every process still in the cgroup. */
int cgroup_kill_all(Cgroup *cg);
/* Kill what remains, wait until empty, rmdir every directory created. */
int cgroup_destroy(Cgroup *cg);
Cgroup *cgroup_free(Cgroup *cg);

/* Removes the directories a crashed run left for `name` (killing any process
 * still in them).  Returns 0 if there was nothing to remove, 1 if something
 * was removed. */
int cgroup_remove_stale(const char *root, const char *self_cgroup_file, const char *name);
