/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The mechanics of a path transfer (transfer.c decides and keeps books):
 * opening a name inside the caller's root, and placing a bind mount of it
 * into the target's mount namespace with the new mount API.  Plus the pure
 * pieces (path normalisation, the target's name, permission checks), which
 * the unit tests exercise.  Functions return 0 or a negative errno. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define XFER_DIR_IN_CONTAINER "/run/shuttle/xfer"

/* Lexical normalisation of an absolute path: "//" and "." go, ".." removes
 * the previous component and never climbs above "/" (as RESOLVE_IN_ROOT
 * would clamp it), no trailing "/".  -EINVAL if path is not absolute,
 * -ENAMETOOLONG if the result does not fit in size. */
int xfer_path_normalize(const char *path, char *ret, size_t size);

/* XFER_DIR_IN_CONTAINER "/<id>/<basename of path>" for a normalised path.
 * -EINVAL for "/" (no basename). */
int xfer_target_path(uint64_t id, const char *path, char *ret, size_t size);

/* Whether a process with these credentials may read (write: and write) a
 * file of mode/owner st: the owner, group and other bits (directories also
 * need x).  uid 0 may always.  ACLs are not consulted: they can only be
 * missed on the side of refusing. */
bool xfer_may_access(const struct stat *st, uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
                     bool write);

/* Opens path (normalised, absolute) inside the root of process pid (pidfd
 * proves it is still the same process): openat2 with RESOLVE_IN_ROOT,
 * RESOLVE_NO_MAGICLINKS and RESOLVE_NO_SYMLINKS, so the file opened is
 * exactly the one the path names in that container — no symlink, "..",
 * /proc trick or mount of the host can redirect it.  Returns an O_PATH fd
 * and its stat.  -ELOOP: a symlink on the way (or the file is one). */
int xfer_open_in_root(pid_t pid, int pidfd, const char *path, int *ret_fd, struct stat *ret_st);

/* Clones the mount of fd (a file or directory opened in the root of the
 * process behind source_pidfd), makes it nosuid, nodev and (read_only)
 * read-only, and attaches it inside the mount namespace of the process
 * behind target_pidfd at target_path, a placeholder that exists there.
 * The work runs in a short-lived child that setns()-es into the source's
 * mount namespace (the kernel clones only mounts of one's own namespace),
 * then into the target's; the broker itself never leaves its own. */
int xfer_attach(int source_pidfd, int fd, bool read_only, int target_pidfd, const char *target_path);

/* A descriptor of fd (an O_PATH fd of a file or directory opened in the
 * root of the process behind source_pidfd) to hand to another container's
 * process: opened through a detached clone of its mount, made nosuid,
 * nodev and (read_only) read-only, like xfer_attach()'s.  The mount
 * matters: reopening /proc/self/fd/N for writing goes through it (EROFS),
 * and ".." from a directory stops at its root instead of climbing into
 * the rest of the source's tree.  Not recursive.  A regular file is
 * opened O_RDONLY (read_only) or O_RDWR, a directory (is_dir) O_RDONLY |
 * O_DIRECTORY; all O_CLOEXEC.  The clone is made in a short-lived child
 * in the source's mount namespace (as for xfer_attach()), and handed back
 * over a socket. */
int xfer_open_detached(int source_pidfd, int fd, bool read_only, bool is_dir, int *ret_fd);

/* Whether a and b (normalised, absolute) are the same path or one lies
 * beneath the other: two mounts there would stack or nest. */
bool xfer_paths_overlap(const char *a, const char *b);

/* A place in a container's root where a transfer is attached (a transfer
 * rule's `as`): the directory that holds it, opened in that root, and what
 * the broker did there, so that revoking undoes exactly that. */
typedef struct XferPlace {
        int dir_fd;        /* O_PATH, in the target's root */
        char *name;        /* the last component of the path */
        bool is_dir;
        bool created;      /* the broker made it, and removes it */
        dev_t dev;         /* ... this one */
        ino_t ino;
        uint64_t mnt_id;   /* the mount attached there (0: none yet) */
} XferPlace;

/* Finds or creates the mount point path (normalised, absolute, not "/")
 * inside the root of process pid (pidfd proves it is the same one), for a
 * directory (is_dir) or a regular file.  The directory that holds it is
 * opened with RESOLVE_IN_ROOT and no symlink or magic link followed, the
 * last component beneath it the same way: nothing the container planted
 * can lead out of its root or elsewhere in it.  A missing last component
 * is created (an empty file or a directory; a missing directory above it
 * is not).  An existing one must be of the same type, on a file system
 * that is not read-only (what the container could replace itself: the
 * broker never shadows what the container cannot change).  Returns 0,
 * *ret filled and an O_PATH fd of the mount point in *ret_fd; or -EAGAIN
 * (the container's root is still the host's), -ENOENT (no such directory),
 * -ELOOP (a symlink on the way, or at path), -ENOTDIR / -EISDIR (a
 * component is not a directory; the place is not of the object's type),
 * -EROFS (read-only file system), -ESRCH, or another negative errno.
 * On failure nothing is left behind. */
int xfer_place_open(pid_t pid, int pidfd, const char *path, bool is_dir, XferPlace *ret, int *ret_fd);

/* Like xfer_attach(), onto the mount point mp_fd that xfer_place_open()
 * returned for place; records the new mount's id in place. */
int xfer_place_attach(int source_pidfd, int fd, bool read_only, int target_pidfd, XferPlace *place, int mp_fd);

/* Undoes xfer_place_open() and xfer_place_attach(): detaches the mount
 * the broker attached (only if it is still the one on top there), removes
 * the mount point if the broker created it (and it is still that one),
 * and closes and frees what place holds (not place itself).  Returns 0,
 * -ESRCH (the process, and so its namespace and mounts, are gone: only
 * the mount point is removed), or another negative errno (the mount could
 * not be detached; the mount point then stays).  place may be NULL. */
int xfer_place_release(int target_pidfd, XferPlace *place);

/* A place found again after a broker restart, from what its record kept
 * of it (recorded: is_dir, created, dev, ino, mnt_id): the directory that
 * holds path is opened as xfer_place_open() opens it, nothing is created.
 * Returns 0 and *ret filled if the mount on top there is still
 * recorded->mnt_id; -ENOENT if it is not (*ret is filled all the same,
 * with mnt_id 0, so that xfer_place_release() removes only the mount
 * point the broker created); another negative errno (nothing filled) if
 * the directory cannot be opened. */
int xfer_place_reopen(pid_t pid, int pidfd, const char *path, const XferPlace *recorded, XferPlace *ret);

/* The id of the mount on top at path (normalised, absolute) as the
 * container of process pid sees it (resolved in its root, no symlink
 * followed): the kernel's unique mount id where it has one.  A record
 * keeps it to tell, after a broker restart, the mount the broker made
 * from any other. */
int xfer_mount_id_in(pid_t pid, int pidfd, const char *path, uint64_t *ret);

/* Where xfer_attach_tree() failed, for the audit log. */
typedef enum XferTreeStage {
        XFER_TREE_OK,
        XFER_TREE_SOURCE,  /* opening source_path in the source */
        XFER_TREE_TYPE,    /* it is neither a directory nor a regular file */
        XFER_TREE_CLONE,   /* cloning or restricting its mounts */
        XFER_TREE_TARGET,  /* finding or creating the mount point */
        XFER_TREE_ATTACH,  /* attaching it there */
        XFER_TREE_NOT_SET_UP, /* a container's root is still the host's */
} XferTreeStage;

/* A tree (directory with every mount below it, or a regular file) that
 * one container provides, placed into another's mount namespace. */
typedef struct XferTree {
        int source_pidfd;
        const char *source_path; /* absolute, resolved inside the source's
                                  * root: symlinks and ".." stay inside it,
                                  * magic links are refused */
        bool read_only;          /* else only nosuid and nodev */
        int target_pidfd;
        const char *target_path; /* absolute; missing components are
                                  * created (no symlink is followed) */
} XferTree;

/* Like xfer_attach(), recursively (AT_RECURSIVE: mounts below the tree
 * come along, and all of them get the attributes), with the source path
 * resolved in the child that joined the source's mount namespace — the
 * broker never resolves a container's name on the host.  A container
 * whose mount namespace still has the host's root (its init has not
 * pivoted yet: registration runs while it sets up) is refused with
 * -EAGAIN, never resolved in.  On failure *ret_stage (may be NULL) says
 * which step failed. */
int xfer_attach_tree(const XferTree *t, XferTreeStage *ret_stage);

/* Whether the init pid has left the host's root for its own (after
 * pivot_root, everything of its root is mounted). */
bool xfer_root_is_set_up(pid_t pid);

/* Detaches (MNT_DETACH) whatever is mounted at target_path inside the
 * mount namespace of the process behind pidfd.  -ESRCH: that process (and
 * so its namespace) is gone, which also removed the mount. */
int xfer_detach(int pidfd, const char *target_path);

/* Like xfer_detach(), but only if the mount on top at target_path is
 * mnt_id (xfer_mount_id_in()): -ESTALE, nothing detached, if it is
 * another. */
int xfer_detach_if(int pidfd, const char *target_path, uint64_t mnt_id);

/* Reads the supplementary groups of pid from /proc/PID/status into groups
 * (at most max); returns how many. */
int xfer_read_groups(pid_t pid, gid_t *groups, size_t max);

/* Expanding a depend rule's path glob (xfer-glob.c). */
#define XFER_GLOB_SCAN_MAX 65536u  /* directory entries read per expansion */
#define XFER_GLOB_DEPTH_MAX 128u   /* components of a pattern */

/* The directories that pattern (absolute; each component literal or an
 * fnmatch(3) pattern, which is what a policy path glob is within one
 * component; no "**") names beneath root_fd, taken as "/": each step
 * beneath the directory before it, no symlink followed (a symlink is no
 * match), in name order.  At most max; *ret_truncated (may be NULL) says
 * whether there were more (or more than XFER_GLOB_SCAN_MAX entries to
 * read).  Returns 0 and a heap array of n absolute paths (free with
 * xfer_glob_free()), -EINVAL for a pattern it does not expand, or another
 * negative errno.  A directory that cannot be read is no match. */
int xfer_glob_dirs(int root_fd, const char *pattern, size_t max, char ***ret, size_t *ret_n, bool *ret_truncated);
/* The same in the root of process pid (pidfd proves it is the same one);
 * -EAGAIN while that root is still the host's. */
int xfer_glob_dirs_in(pid_t pid, int pidfd, const char *pattern, size_t max, char ***ret, size_t *ret_n,
                      bool *ret_truncated);
void xfer_glob_free(char **matches, size_t n);
