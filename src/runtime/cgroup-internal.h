/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by cgroup.c, cgroup-v1.c, cgroup-v2.c and the unit tests. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/cgroup.h"

/* The two operations where a real cgroupfs and a plain directory tree differ.
 * On cgroupfs, mkdir makes the interface files appear and rmdir removes a
 * directory that still holds them; interface files can never be created
 * with O_CREAT.  Production code uses cgroup_kernel_ops; the unit tests pass
 * ops that play the kernel on a tmpfs tree.  Every other access (opening,
 * reading, writing with O_WRONLY|O_TRUNC, never O_CREAT) is the same on both. */
typedef struct CgroupOps {
        /* 0 or -errno (-EEXIST if it exists). */
        int (*mkdir)(const struct CgroupOps *ops, int dirfd, const char *name);
        /* 0 or -errno; must fail (-EBUSY/-ENOTEMPTY) while child cgroups exist. */
        int (*rmdir)(const struct CgroupOps *ops, int dirfd, const char *name);
} CgroupOps;

extern const CgroupOps cgroup_kernel_ops;

#define CGROUP_MAX_DIRS 7

enum {
        CG_MEMORY = 1 << 0,
        CG_PIDS = 1 << 1,
        CG_CPU = 1 << 2,
        CG_FREEZER = 1 << 3,
        CG_DEVICES = 1 << 4,
        CG_CPUSET = 1 << 5,
};

/* One directory of the container's cgroup: per hierarchy on v1, one on v2. */
typedef struct CgroupDir {
        unsigned mask;          /* CG_* controllers it serves */
        char *base;             /* the directory that holds "shuttle" (or limits.path) */
        char *path;             /* <base>/<parent>/<name> */
        int base_fd;
        int shuttle_fd;         /* -1 until created/opened */
        int fd;                 /* the leaf, -1 unless created */
        int made_from;          /* the first component of the parent that this
                                 * create made (-1: none), removed on failure */
} CgroupDir;

struct Cgroup {
        CgroupVersion version;
        const CgroupOps *ops;
        char *name;             /* the leaf's name */
        char *parent;           /* below each base: "shuttle", or limits.path's
                                 * parents ("" for none) */
        bool custom;            /* parent comes from limits.path: never removed */
        bool devices_bpf;       /* v2: the devices filter program is attached */
        size_t n_dirs;
        CgroupDir dirs[CGROUP_MAX_DIRS];
        const char *paths[CGROUP_MAX_DIRS + 1];
};

/* Entry points with an explicit ops table (the public ones pass
 * &cgroup_kernel_ops). */
int cgroup_create_ops(const CgroupOps *ops, const char *root, const char *self_cgroup_file,
                      const char *name, const CgroupLimits *limits, Cgroup **ret);
int cgroup_remove_stale_ops(const CgroupOps *ops, const char *root,
                            const char *self_cgroup_file, const char *name);
int cgroup_remove_stale_path_ops(const CgroupOps *ops, const char *path);
int cgroup_remove_path_ops(const CgroupOps *ops, const char *path);

/* --- cgroup.c: helpers for the backends --- */

/* Writes s to an existing file below dirfd: O_WRONLY|O_TRUNC, never O_CREAT. */
int cg_write(int dirfd, const char *file, const char *s);
int cg_write_u64(int dirfd, const char *file, uint64_t v);
/* Reads a small file (< 64 KiB), NUL-terminated. */
int cg_read(int dirfd, const char *file, char **ret);
/* Finds the line "<key> <uint>" in a flat-keyed file's contents. */
int cg_parse_keyed(const char *text, const char *key, uint64_t *ret);
bool cg_file_exists(int dirfd, const char *file);
/* Is word in a space-separated list (cgroup.controllers)? */
bool cg_list_has(const char *list, const char *word);

/* Adds a directory to cg (not created yet); takes base_fd. */
int cg_add_dir(Cgroup *cg, unsigned mask, const char *base, int base_fd);
/* The directory serving controller (a CG_* bit), or NULL. */
CgroupDir *cg_find_dir(Cgroup *cg, unsigned controller);
/* Creates <base>/shuttle (writing subtree_control into it if not NULL) and
 * <base>/shuttle/<name>.  An existing leaf without processes is replaced;
 * one with processes gives -EBUSY. */
int cg_dir_create(Cgroup *cg, CgroupDir *d, const char *subtree_control);

/* rmdir parent_fd/name after every cgroup below it, deepest first; 0 if
 * it is not there. */
int cg_tree_remove(const CgroupOps *ops, int parent_fd, const char *name);
/* Calls fn for each pid listed in dirfd's cgroup.procs, leaving out 0 (a
 * process outside our pid namespace) and ourselves.  fn returns 0 to go
 * on, < 0 to stop with that error, > 0 to stop (returned).  -ENOENT or
 * -ENODEV when there is no cgroup.procs (the cgroup is going). */
int cg_procs_foreach(int dirfd, int (*fn)(pid_t pid, void *userdata), void *userdata);

/* --- cgroup-sub.c --- */

int cgroup_sub_create_ops(const CgroupOps *ops, char *const *parents, const char *name, CgroupSub **ret);
int cgroup_sub_remove_stale_ops(const CgroupOps *ops, char *const *parents, unsigned *ret_killed);

/* --- cgroup-v1.c --- */

/* Resolves the hierarchies and adds one CgroupDir per hierarchy needed (all
 * three if all_controllers, for stale removal: missing ones are skipped). */
int cgroup_v1_add_dirs(Cgroup *cg, const char *root, const char *self_cgroup_file,
                       const CgroupLimits *limits, bool all_controllers,
                       const char **ret_missing);
int cgroup_v1_apply(Cgroup *cg, const CgroupLimits *limits);
int cgroup_v1_oom_kill_count(Cgroup *cg, uint64_t *ret);

/* --- cgroup-v2.c --- */

/* Checks controllers, enables them in <root>/cgroup.subtree_control (unless
 * check_only), adds the one CgroupDir, and returns in *ret_subtree the
 * "+memory +pids" string for the shuttle parent (NULL if none needed). */
int cgroup_v2_prepare(Cgroup *cg, const char *root, const CgroupLimits *limits,
                      bool check_only, char **ret_subtree, const char **ret_missing);
int cgroup_v2_apply(Cgroup *cg, const CgroupLimits *limits);
int cgroup_v2_oom_kill_count(Cgroup *cg, uint64_t *ret);
