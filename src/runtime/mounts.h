/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The container's filesystem as data: a mount plan is built from the
 * configuration and the host's layout (pure, unit-tested), then applied in
 * the container's private mount namespace onto a staging tmpfs or the rootfs
 * directory, before pivot_root.
 *
 * Every target is resolved inside the new root (openat2 RESOLVE_IN_ROOT), so
 * a symlink in a rootfs directory cannot redirect a mount onto the host. */

#include <stdbool.h>
#include <stddef.h>

typedef enum MountKind {
        MOUNT_DIR,      /* mkdir target (mode in `mode`) */
        MOUNT_SYMLINK,  /* symlink target -> source */
        MOUNT_BIND,     /* bind the host path source at target (file or dir) */
        MOUNT_FS,       /* a new filesystem instance: fstype + options */
        MOUNT_MASK,     /* hide target: /dev/null over a file, empty ro tmpfs over a dir */
        MOUNT_READONLY, /* make the existing target (recursively) read-only */
        MOUNT_CGROUP,   /* the container's own cgroup directories at target (a placeholder
                         * until mount_plan_expand_cgroup(): never applied as such) */
        MOUNT_SYSCTL,   /* write options into the existing file target (/proc/sys/...) */
        MOUNT_DEVICE,   /* mknod target: mode (S_IFCHR/S_IFBLK/S_IFIFO and permissions),
                         * dev, owned by uid:gid */
} MountKind;

/* MOUNT_ATTR_* flags, repeated here so the plan stays free of mount headers. */
#define MNT_RDONLY UINT32_C(0x01)
#define MNT_NOSUID UINT32_C(0x02)
#define MNT_NODEV UINT32_C(0x04)
#define MNT_NOEXEC UINT32_C(0x08)

#include <stdint.h>

typedef struct MountEntry {
        MountKind kind;
        char *source;  /* host path (BIND), link text (SYMLINK), the source mountinfo shows (FS, or NULL) */
        char *target;  /* absolute path inside the container */
        char *fstype;  /* FS */
        char *options; /* FS: comma-separated key=value for fsconfig */
        uint32_t attrs;
        unsigned mode; /* DIR, DEVICE */
        bool optional; /* BIND/MASK/READONLY: skip silently if source/target is missing */
        uint64_t dev;  /* DEVICE: makedev(major, minor) */
        uint32_t uid, gid; /* DEVICE */
} MountEntry;

typedef struct MountPlan {
        MountEntry *entries;
        size_t n;
        bool root_is_tmpfs;  /* host rootfs: the root is a fresh tmpfs */
        bool root_read_only; /* remount the root read-only at the end */
        /* Applied in a user namespace of the container's own (set by
         * container_create(), not by the plan's builder): device nodes are
         * bound from the host's same path instead of made, a sysfs the
         * kernel refuses (a network namespace not owned by the user
         * namespace) becomes a read-only bind of the host's /sys, and new
         * tmpfs roots belong to the container's root (uid and gid 0 inside,
         * when those are mapped) unless the options say whose. */
        bool in_userns;
        bool userns_root_mapped;
} MountPlan;

struct ContainerConfig;

/* host_root: "/" in production, a fake host tree in tests.  Entries for the
 * host rootfs are derived from what exists there (merged /usr symlinks, which
 * /lib* directories exist, which /etc files exist). */
int mount_plan_build(const struct ContainerConfig *c, const char *host_root, MountPlan *ret);
void mount_plan_done(MountPlan *p);
/* Appends one entry (copying the strings). */
int mount_plan_add(MountPlan *p, MountKind kind, const char *source, const char *target, const char *fstype,
                   const char *options, uint32_t attrs, unsigned mode, bool optional);
/* The /dev entries every container gets: null, zero, full, random,
 * urandom and tty bound from the host, and the ptmx, fd and std* links. */
int mount_plan_add_devices(MountPlan *p);
/* Replaces each MOUNT_CGROUP entry by the container's cgroup directories
 * (cgroup_paths(), below cgroup_root): unified (v2), the one directory
 * bound at the target; on v1 a tmpfs at the target and each hierarchy's
 * directory bound at target/<hierarchy>.  The entry's attrs (and nosuid,
 * nodev, noexec) apply to each bind. */
int mount_plan_expand_cgroup(MountPlan *p, bool unified, const char *cgroup_root, const char *const *paths);
/* For debugging and tests: one line per entry. */
char *mount_plan_format(const MountPlan *p);

/* In the container's mount namespace: apply the plan onto root_fd (the
 * staging mount).  On failure *ret_failed points at the entry at fault. */
int mount_plan_apply(const MountPlan *p, int root_fd, const MountEntry **ret_failed);

/* Opens (O_PATH|O_DIRECTORY unless want_file) path inside root_fd with
 * RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS, creating missing directories
 * (and the last component as an empty file if want_file) when create; a
 * file it has just made comes back opened for writing (O_CREAT|O_EXCL|
 * O_NOFOLLOW: the new regular file itself), which serves as a mount target
 * all the same. */
int open_in_root(int root_fd, const char *path, bool create, bool want_file);

/* Bind the host path at dirfd/"" (an O_PATH fd), optionally read-only and
 * recursive, with the new mount API. */
int bind_mount_fd(const char *source, int target_fd, uint32_t attrs);
