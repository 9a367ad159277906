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

/* Reads the supplementary groups of pid from /proc/PID/status into groups
 * (at most max); returns how many. */
int xfer_read_groups(pid_t pid, gid_t *groups, size_t max);
