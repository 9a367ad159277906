/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Transfers: opening in the caller's root, mounting into the target's. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/macro.h"
#include "shuttle/host/nsconnect.h"
#include "shuttle/daemon/xfer.h"

int xfer_path_normalize(const char *path, char *ret, size_t size) {
        size_t len = 0;
        const char *p = path;

        if (!path || path[0] != '/')
                return -EINVAL;
        if (size < 2)
                return -ENAMETOOLONG;
        while (*p) {
                const char *start;
                size_t n;

                while (*p == '/')
                        p++;
                start = p;
                while (*p && *p != '/')
                        p++;
                n = (size_t) (p - start);
                if (n == 0 || (n == 1 && start[0] == '.'))
                        continue;
                if (n == 2 && start[0] == '.' && start[1] == '.') {
                        /* Back to the previous '/', never above the root. */
                        while (len > 0 && ret[len - 1] != '/')
                                len--;
                        if (len > 0)
                                len--;
                        continue;
                }
                if (len + 1 + n + 1 > size)
                        return -ENAMETOOLONG;
                ret[len++] = '/';
                memcpy(ret + len, start, n);
                len += n;
        }
        if (len == 0)
                ret[len++] = '/';
        ret[len] = '\0';
        return 0;
}

int xfer_target_path(uint64_t id, const char *path, char *ret, size_t size) {
        const char *base = strrchr(path, '/');
        int n;

        if (!base || !base[1] || streq(base + 1, ".") || streq(base + 1, ".."))
                return -EINVAL;
        n = snprintf(ret, size, "%s/%" PRIu64 "/%s", XFER_DIR_IN_CONTAINER, id, base + 1);
        if (n < 0 || (size_t) n >= size)
                return -ENAMETOOLONG;
        return 0;
}

bool xfer_may_access(const struct stat *st, uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
                     bool write) {
        mode_t want = S_IROTH | (write ? S_IWOTH : 0) | (S_ISDIR(st->st_mode) ? S_IXOTH : 0);
        mode_t bits;
        bool in_group = st->st_gid == gid;

        if (uid == 0)
                return true;
        for (size_t i = 0; !in_group && i < n_groups; i++)
                in_group = groups[i] == st->st_gid;
        if (st->st_uid == uid)
                bits = (st->st_mode >> 6) & 07;
        else if (in_group)
                bits = (st->st_mode >> 3) & 07;
        else
                bits = st->st_mode & 07;
        return (bits & want) == want;
}

int xfer_open_in_root(pid_t pid, int pidfd, const char *path, int *ret_fd, struct stat *ret_st) {
        struct open_how how = {
                .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
        };
        _cleanup_close_ int root = -1, fd = -1;
        struct stat st;

        root = ns_open_root(pid, pidfd, false);
        if (root < 0)
                return root;
        fd = (int) syscall(SYS_openat2, root, path, &how, sizeof(how));
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode))
                return -ELOOP;
        *ret_fd = TAKE_FD(fd);
        *ret_st = st;
        return 0;
}

/* Runs fn in a child that joined the mount namespace behind pidfd; returns
 * what it returned (a negative errno travels as the exit code). */
static int in_mount_ns(int pidfd, int (*fn)(const void *arg), const void *arg) {
        siginfo_t si = {};
        pid_t pid;

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int r;
                /* Nothing in the container may ptrace or inspect us while
                 * we are in its namespace with the host's privileges. */
                if (prctl(PR_SET_DUMPABLE, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                        _exit(EPERM);
                if (setns(pidfd, CLONE_NEWNS) < 0)
                        _exit(errno & 0xff);
                r = fn(arg);
                _exit(r < 0 ? (-r & 0xff) : 0);
        }
        if (waitid(P_PID, (id_t) pid, &si, WEXITED) < 0)
                return -errno;
        if (si.si_code != CLD_EXITED)
                return -EIO;
        return si.si_status ? -si.si_status : 0;
}

typedef struct AttachArgs {
        int fd;
        bool read_only;
        int target_pidfd;
        const char *target_path;
        int target_fd; /* if >= 0, the mount point, instead of target_path */
} AttachArgs;

static int open_placeholder(const char *path) {
        struct open_how how = {
                .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                /* The path is ours (under the read-only /run/shuttle), but
                 * it is resolved in the container: no link may divert it. */
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int) syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

/* In the source's mount namespace: the kernel clones only mounts of the
 * caller's own namespace.  Then in the target's, to attach the clone. */
static int do_attach(const void *p) {
        const AttachArgs *a = p;
        struct mount_attr ma = {
                .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (a->read_only ? MOUNT_ATTR_RDONLY : 0),
        };
        int tree, target;

        /* Not recursive: mounts below a transferred directory stay behind. */
        tree = open_tree(a->fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (tree < 0)
                return -errno;
        if (mount_setattr(tree, "", AT_EMPTY_PATH, &ma, sizeof(ma)) < 0)
                return -errno;
        if (setns(a->target_pidfd, CLONE_NEWNS) < 0)
                return -errno;
        target = a->target_fd >= 0 ? a->target_fd : open_placeholder(a->target_path);
        if (target < 0)
                return target;
        if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

int xfer_attach(int source_pidfd, int fd, bool read_only, int target_pidfd, const char *target_path) {
        return in_mount_ns(source_pidfd, do_attach,
                           &(AttachArgs){ .fd = fd, .read_only = read_only, .target_pidfd = target_pidfd,
                                          .target_path = target_path, .target_fd = -1 });
}

/* In a child in the source's mount namespace (the kernel clones only mounts
 * of one's own): the clone, restricted, sent back on sock. */
_noreturn_ static void detached_child(int source_pidfd, int fd, bool read_only, int sock) {
        struct mount_attr ma = {
                .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (read_only ? MOUNT_ATTR_RDONLY : 0),
        };
        int32_t status = 0;
        int tree = -1;

        /* Nothing in the container may ptrace or inspect us while we are in
         * its namespace with the host's privileges. */
        if (prctl(PR_SET_DUMPABLE, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                status = -errno;
        else if (setns(source_pidfd, CLONE_NEWNS) < 0)
                status = -errno;
        else if ((tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)) < 0)
                status = -errno;
        else if (mount_setattr(tree, "", AT_EMPTY_PATH, &ma, sizeof(ma)) < 0)
                status = -errno;
        (void) fd_send(sock, &status, sizeof(status), status == 0 ? &tree : NULL, status == 0 ? 1 : 0);
        _exit(0);
}

int xfer_open_detached(int source_pidfd, int fd, bool read_only, bool is_dir, int *ret_fd) {
        _cleanup_close_ int mine = -1, theirs = -1, tree = -1;
        int pair[2], flags, opened;
        int32_t status = -EIO;
        size_t n_fds = 0;
        char proc[64];
        ssize_t n;
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        mine = pair[0];
        theirs = pair[1];
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                mine = safe_close(mine);
                detached_child(source_pidfd, fd, read_only, theirs);
        }
        theirs = safe_close(theirs);
        /* The child does nothing that waits on anyone: it answers or dies,
         * and then the socket reads as closed. */
        do
                n = fd_recv_upto(mine, &status, sizeof(status), &tree, 1, &n_fds, 0);
        while (n == -EINTR);
        (void) waitid(P_PID, (id_t) pid, &(siginfo_t){}, WEXITED);
        if (n != (ssize_t) sizeof(status) || (status == 0) != (n_fds == 1) || status > 0)
                return n < 0 ? (int) n : -EIO;
        if (status < 0)
                return status;

        /* The clone is detached: ours to open like any file, from the
         * host's /proc, through its mount. */
        flags = is_dir ? O_RDONLY | O_DIRECTORY : read_only ? O_RDONLY : O_RDWR;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", tree);
        opened = open(proc, flags | O_CLOEXEC | O_NOCTTY);
        if (opened < 0)
                return -errno;
        *ret_fd = opened;
        return 0;
}

bool xfer_paths_overlap(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);

        if (la > lb)
                return xfer_paths_overlap(b, a);
        /* a is the shorter: equal, or a directory above b. */
        return strneq(a, b, la) && (la == lb || streq(a, "/") || b[la] == '/');
}

/* The directory that holds path (normalised, absolute, not "/") in the
 * root of process pid, and path's last component. */
static int place_dir_open(pid_t pid, int pidfd, const char *path, int *ret_dir, char **ret_name) {
        /* The directory: resolved as the container would see it, but with
         * no symlink at all, so a link it planted (even one that stays in
         * its root) cannot move the mount point somewhere the policy did
         * not name; and never into the host. */
        struct open_how dir_how = {
                .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int root = -1, dir = -1;
        _cleanup_free_ char *parent = NULL, *name = NULL;
        const char *slash = path ? strrchr(path, '/') : NULL;

        if (!slash || path[0] != '/' || !slash[1] || streq(slash + 1, ".") || streq(slash + 1, ".."))
                return -EINVAL;
        parent = slash == path ? strdup("/") : strndup(path, (size_t) (slash - path));
        name = strdup(slash + 1);
        if (!parent || !name)
                return -ENOMEM;

        /* Until the container's init has pivoted into its own root, its
         * root is the host's: nothing may be created or mounted there. */
        root = ns_open_root(pid, pidfd, true);
        if (root < 0)
                return root;
        dir = (int) syscall(SYS_openat2, root, parent, &dir_how, sizeof(dir_how));
        if (dir < 0)
                return -errno;
        *ret_dir = TAKE_FD(dir);
        *ret_name = TAKE_PTR(name);
        return 0;
}

int xfer_place_open(pid_t pid, int pidfd, const char *path, bool is_dir, XferPlace *ret, int *ret_fd) {
        struct open_how how = {
                .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int dir = -1, fd = -1;
        _cleanup_free_ char *name = NULL;
        struct stat st;
        struct statvfs sv;
        bool created = false;
        int r;

        r = place_dir_open(pid, pidfd, path, &dir, &name);
        if (r < 0)
                return r;
        fd = (int) syscall(SYS_openat2, dir, name, &how, sizeof(how));
        if (fd < 0 && errno == ENOENT) {
                /* Where the container's file system is read-only, the
                 * kernel refuses (EROFS): nothing is created there. */
                if (is_dir) {
                        if (mkdirat(dir, name, 0755) < 0)
                                return -errno;
                } else {
                        int f = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                        if (f < 0)
                                return -errno;
                        close(f);
                }
                created = true;
                fd = (int) syscall(SYS_openat2, dir, name, &how, sizeof(how));
        }
        if (fd < 0)
                r = -errno;
        else if (fstat(fd, &st) < 0)
                r = -errno;
        else if (S_ISLNK(st.st_mode))
                r = -ELOOP;
        else if (is_dir && !S_ISDIR(st.st_mode))
                r = -ENOTDIR;
        else if (!is_dir && S_ISDIR(st.st_mode))
                r = -EISDIR;
        else if (!is_dir && !S_ISREG(st.st_mode))
                r = -EPERM;
        /* An existing name only on a writable file system: shadowing what
         * the container cannot change itself (its read-only /usr, /etc
         * files) would hand the caller a way to change it. */
        else if (!created && (fstatvfs(fd, &sv) < 0 || (sv.f_flag & ST_RDONLY)))
                r = -EROFS;
        if (r < 0) {
                if (created)
                        (void) unlinkat(dir, name, is_dir ? AT_REMOVEDIR : 0);
                return r;
        }
        *ret = (XferPlace){
                .dir_fd = TAKE_FD(dir),
                .name = TAKE_PTR(name),
                .is_dir = is_dir,
                .created = created,
                .dev = st.st_dev,
                .ino = st.st_ino,
        };
        *ret_fd = TAKE_FD(fd);
        return 0;
}

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif

/* The id of the mount on top at dir_fd/name (looked up in the mount
 * namespace dir_fd belongs to, whatever ours is).  The unique id where
 * the kernel has one (6.8): a short id is reused once its mount is gone,
 * and a record that outlives a broker restart must not take another
 * mount for its own. */
static int mount_id_at(int dir_fd, const char *name, uint64_t *ret) {
        int flags = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | (name[0] ? 0 : AT_EMPTY_PATH);
        struct statx sx;

        if (statx(dir_fd, name, flags, STATX_MNT_ID | STATX_MNT_ID_UNIQUE, &sx) < 0)
                return -errno;
        if (!(sx.stx_mask & (STATX_MNT_ID | STATX_MNT_ID_UNIQUE)))
                return -EOPNOTSUPP;
        *ret = sx.stx_mnt_id;
        return 0;
}

/* The mount is attached, but its id is not known: detach what is on top. */
#define PLACE_MNT_ID_UNKNOWN UINT64_MAX

int xfer_place_attach(int source_pidfd, int fd, bool read_only, int target_pidfd, XferPlace *place, int mp_fd) {
        uint64_t before = 0;
        int r;

        (void) mount_id_at(place->dir_fd, place->name, &before);
        r = in_mount_ns(source_pidfd, do_attach,
                        &(AttachArgs){ .fd = fd, .read_only = read_only, .target_pidfd = target_pidfd,
                                       .target_fd = mp_fd });
        if (r < 0)
                return r;
        if (mount_id_at(place->dir_fd, place->name, &place->mnt_id) < 0 || place->mnt_id == before)
                place->mnt_id = PLACE_MNT_ID_UNKNOWN;
        return 0;
}

/* In the target's mount namespace: detach the mount at the place, if it
 * is still the broker's (something mounted over it stays, and so does
 * ours under it, rather than take away the wrong one). */
static int do_detach_place(const void *arg) {
        const XferPlace *p = arg;
        uint64_t id;
        int r;

        if (p->mnt_id != PLACE_MNT_ID_UNKNOWN) {
                r = mount_id_at(p->dir_fd, p->name, &id);
                if (r < 0)
                        return r;
                if (id != p->mnt_id)
                        return -EBUSY;
        }
        /* By the directory's fd, not by a path the container could have
         * changed since: umount2() takes no fd, a working directory does. */
        if (fchdir(p->dir_fd) < 0)
                return -errno;
        if (umount2(p->name, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

int xfer_place_release(int target_pidfd, XferPlace *place) {
        struct stat st;
        int r = 0;

        if (!place)
                return 0;
        if (place->dir_fd >= 0 && place->name) {
                if (place->mnt_id != 0)
                        r = pidfd_send_signal(target_pidfd, 0, NULL, 0) < 0
                                    ? -ESRCH
                                    : in_mount_ns(target_pidfd, do_detach_place, place);
                /* Only the object it made, and only once nothing covers it
                 * (a lookup through dir_fd crosses the target's mounts). */
                if (place->created && fstatat(place->dir_fd, place->name, &st, AT_SYMLINK_NOFOLLOW) >= 0 &&
                    st.st_dev == place->dev && st.st_ino == place->ino)
                        (void) unlinkat(place->dir_fd, place->name, place->is_dir ? AT_REMOVEDIR : 0);
        }
        place->dir_fd = safe_close(place->dir_fd);
        free(place->name);
        place->name = NULL;
        place->mnt_id = 0;
        return r;
}

int xfer_place_reopen(pid_t pid, int pidfd, const char *path, const XferPlace *recorded, XferPlace *ret) {
        _cleanup_close_ int dir = -1;
        _cleanup_free_ char *name = NULL;
        uint64_t id = 0;
        int r;

        /* Found again the way xfer_place_open() found it, creating
         * nothing: the record says where, the container's root says
         * what is there now. */
        r = place_dir_open(pid, pidfd, path, &dir, &name);
        if (r < 0)
                return r;
        *ret = (XferPlace){
                .dir_fd = TAKE_FD(dir),
                .name = TAKE_PTR(name),
                .is_dir = recorded->is_dir,
                .created = recorded->created,
                .dev = recorded->dev,
                .ino = recorded->ino,
                .mnt_id = recorded->mnt_id,
        };
        /* Only the mount the broker attached is the broker's to detach:
         * if another is on top there (or none), nothing is. */
        if (recorded->mnt_id == 0 || recorded->mnt_id == PLACE_MNT_ID_UNKNOWN ||
            mount_id_at(ret->dir_fd, ret->name, &id) < 0 || id != recorded->mnt_id) {
                ret->mnt_id = 0;
                return -ENOENT;
        }
        return 0;
}

int xfer_mount_id_in(pid_t pid, int pidfd, const char *path, uint64_t *ret) {
        struct open_how how = {
                .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int root = -1, fd = -1;

        /* Through /proc/PID/root, a lookup crosses the mounts of that
         * container's namespace: the last component is what is mounted
         * there, as the container sees it. */
        root = ns_open_root(pid, pidfd, true);
        if (root < 0)
                return root;
        fd = (int) syscall(SYS_openat2, root, path, &how, sizeof(how));
        if (fd < 0)
                return -errno;
        return mount_id_at(fd, "", ret);
}

typedef struct DetachIfArgs {
        const char *path;
        uint64_t mnt_id;
} DetachIfArgs;

static int do_detach_if(const void *p) {
        const DetachIfArgs *a = p;
        struct open_how how = {
                .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int fd = -1;
        uint64_t id;
        int r;

        fd = (int) syscall(SYS_openat2, AT_FDCWD, a->path, &how, sizeof(how));
        if (fd < 0)
                return -errno;
        r = mount_id_at(fd, "", &id);
        if (r < 0)
                return r;
        if (id != a->mnt_id)
                return -ESTALE;
        if (umount2(a->path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

int xfer_detach_if(int pidfd, const char *target_path, uint64_t mnt_id) {
        if (pidfd_send_signal(pidfd, 0, NULL, 0) < 0)
                return -ESRCH;
        return in_mount_ns(pidfd, do_detach_if, &(DetachIfArgs){ .path = target_path, .mnt_id = mnt_id });
}

typedef struct TreeArgs {
        const XferTree *t;
        int report_fd; /* the child writes the failing XferTreeStage here */
        dev_t host_dev; /* the broker's root, which a container's must not be */
        ino_t host_ino;
} TreeArgs;

/* After setns(CLONE_NEWNS) our root is the namespace's: still the host's
 * if the container's init has not pivoted into its own yet. */
static bool ns_root_is_host(const TreeArgs *a) {
        struct stat st;
        return stat("/", &st) < 0 || (st.st_dev == a->host_dev && st.st_ino == a->host_ino);
}

static int tree_fail(const TreeArgs *a, XferTreeStage stage, int r) {
        uint8_t c = (uint8_t) stage;
        (void) !write(a->report_fd, &c, 1);
        return r;
}

/* Opens path inside the current root, creating missing components (the
 * last one as a directory or, !is_dir, an empty file).  Every step is one
 * component, resolved beneath its parent with no symlink followed: the
 * container owns its filesystem and may have planted links. */
static int open_mount_point(const char *path, bool is_dir) {
        struct open_how how = {
                .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int dir = -1;
        char buf[PATH_MAX], *save = NULL, *comp, *next;
        struct stat st;

        if (path[0] != '/' || strlen(path) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, path);
        dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        comp = strtok_r(buf, "/", &save);
        if (!comp)
                return -EINVAL; /* never over the root itself */
        for (; comp; comp = next) {
                int fd;
                bool last;

                next = strtok_r(NULL, "/", &save);
                last = !next;
                if (streq(comp, ".") || streq(comp, ".."))
                        return -EINVAL;
                fd = (int) syscall(SYS_openat2, dir, comp, &how, sizeof(how));
                if (fd < 0 && errno == ENOENT) {
                        if (!last || is_dir) {
                                if (mkdirat(dir, comp, 0755) < 0 && errno != EEXIST)
                                        return -errno;
                        } else {
                                int f = openat(dir, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                               0644);
                                if (f < 0)
                                        return -errno;
                                close(f);
                        }
                        fd = (int) syscall(SYS_openat2, dir, comp, &how, sizeof(how));
                }
                if (fd < 0)
                        return -errno;
                safe_close(dir);
                dir = fd;
                if (fstat(dir, &st) < 0)
                        return -errno;
                if ((!last || is_dir) && !S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                if (last && !is_dir && !S_ISREG(st.st_mode))
                        return -EISDIR;
        }
        return TAKE_FD(dir);
}

/* In the source's mount namespace (with its root as ours): resolve, clone,
 * restrict; then in the target's: the mount point, and attach. */
static int do_attach_tree(const void *p) {
        const TreeArgs *a = p;
        const XferTree *t = a->t;
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                /* Symlinks and ".." resolve as they would for the source
                 * container itself, never to the host; /proc magic links
                 * (which could name anything) are refused. */
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        struct mount_attr ma = {
                .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (t->read_only ? MOUNT_ATTR_RDONLY : 0),
        };
        int root, fd, tree, target;
        struct stat st;

        if (ns_root_is_host(a))
                return tree_fail(a, XFER_TREE_NOT_SET_UP, -EAGAIN);
        root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return tree_fail(a, XFER_TREE_SOURCE, -errno);
        fd = (int) syscall(SYS_openat2, root, t->source_path, &how, sizeof(how));
        if (fd < 0)
                return tree_fail(a, XFER_TREE_SOURCE, -errno);
        if (fstat(fd, &st) < 0)
                return tree_fail(a, XFER_TREE_SOURCE, -errno);
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                return tree_fail(a, XFER_TREE_TYPE, -EPERM);
        tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (tree < 0)
                return tree_fail(a, XFER_TREE_CLONE, -errno);
        /* Every mount of the clone, not only its top: a writable mount
         * below a read-only tree would otherwise stay writable. */
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof(ma)) < 0)
                return tree_fail(a, XFER_TREE_CLONE, -errno);
        if (setns(t->target_pidfd, CLONE_NEWNS) < 0)
                return tree_fail(a, XFER_TREE_TARGET, -errno);
        if (ns_root_is_host(a))
                return tree_fail(a, XFER_TREE_NOT_SET_UP, -EAGAIN);
        target = open_mount_point(t->target_path, S_ISDIR(st.st_mode));
        if (target < 0)
                return tree_fail(a, XFER_TREE_TARGET, target);
        if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return tree_fail(a, XFER_TREE_ATTACH, -errno);
        return 0;
}

int xfer_attach_tree(const XferTree *t, XferTreeStage *ret_stage) {
        int report[2], r;
        uint8_t c = XFER_TREE_OK;
        struct stat host;

        if (stat("/", &host) < 0)
                return -errno;
        if (!t->source_path || t->source_path[0] != '/' || !t->target_path || t->target_path[0] != '/')
                return -EINVAL;
        if (pipe2(report, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        r = in_mount_ns(t->source_pidfd, do_attach_tree,
                        &(TreeArgs){ .t = t, .report_fd = report[1], .host_dev = host.st_dev, .host_ino = host.st_ino });
        close(report[1]);
        if (read(report[0], &c, 1) != 1)
                c = r < 0 ? XFER_TREE_SOURCE : XFER_TREE_OK; /* setns into the source failed */
        close(report[0]);
        if (ret_stage)
                *ret_stage = r < 0 ? (XferTreeStage) c : XFER_TREE_OK;
        return r;
}

bool xfer_root_is_set_up(pid_t pid) {
        struct stat host, st;
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/root", (int) pid);
        if (stat("/", &host) < 0 || stat(path, &st) < 0)
                return false;
        return st.st_dev != host.st_dev || st.st_ino != host.st_ino;
}

static int do_detach(const void *p) {
        if (umount2((const char *) p, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

int xfer_detach(int pidfd, const char *target_path) {
        if (pidfd_send_signal(pidfd, 0, NULL, 0) < 0)
                return -ESRCH;
        return in_mount_ns(pidfd, do_detach, target_path);
}

int xfer_read_groups(pid_t pid, gid_t *groups, size_t max) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], line[4096];
        size_t n = 0;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                char *p, *end;
                if (strncmp(line, "Groups:", 7) != 0)
                        continue;
                p = line + 7;
                while (n < max) {
                        unsigned long v = strtoul(p, &end, 10);
                        if (end == p)
                                break;
                        groups[n++] = (gid_t) v;
                        p = end;
                }
                break;
        }
        return (int) n;
}
