/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/macro.h"
#include "runtime/container.h"
#include "runtime/mounts.h"

/* What the built-in "host" rootfs takes from the host, read-only. */
static const char *const host_top_dirs[] = {
        "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32",
};

/* /etc entries most programs need: users and groups, name resolution, the
 * dynamic linker's cache, the time zone, and Debian's alternatives links
 * (/usr/bin/awk -> /etc/alternatives/awk -> ...). */
static const char *const host_etc_entries[] = {
        "passwd", "group", "hosts", "resolv.conf", "nsswitch.conf", "host.conf",
        "services", "protocols", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
        "localtime", "alternatives",
};

/* Kernel interfaces a container must not read (masked) or write
 * (read-only), as in runc's and crun's defaults. */
static const char *const masked_paths[] = {
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
        "/sys/firmware", "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static const char *const dev_nodes[] = {
        "null", "zero", "full", "random", "urandom", "tty",
};

static const struct {
        const char *target, *source;
} dev_links[] = {
        { "/dev/ptmx", "pts/ptmx" },
        { "/dev/fd", "/proc/self/fd" },
        { "/dev/stdin", "/proc/self/fd/0" },
        { "/dev/stdout", "/proc/self/fd/1" },
        { "/dev/stderr", "/proc/self/fd/2" },
        { "/dev/core", "/proc/kcore" },
};

#define ATTR_SAFE (MNT_NOSUID | MNT_NODEV)
#define ATTR_KERNEL (MNT_NOSUID | MNT_NODEV | MNT_NOEXEC)

int mount_plan_add(MountPlan *p, MountKind kind, const char *source, const char *target,
                    const char *fstype, const char *options, uint32_t attrs, unsigned mode,
                    bool optional) {
        MountEntry *e, *a;

        a = reallocarray(p->entries, p->n + 1, sizeof(MountEntry));
        if (!a)
                return -ENOMEM;
        p->entries = a;
        e = &a[p->n];
        *e = (MountEntry){ .kind = kind, .attrs = attrs, .mode = mode, .optional = optional };
        if ((source && !(e->source = strdup(source))) || !(e->target = strdup(target)) ||
            (fstype && !(e->fstype = strdup(fstype))) || (options && !(e->options = strdup(options)))) {
                free(e->source);
                free(e->target);
                free(e->fstype);
                free(e->options);
                return -ENOMEM;
        }
        p->n++;
        return 0;
}

void mount_plan_done(MountPlan *p) {
        for (size_t i = 0; i < p->n; i++) {
                free(p->entries[i].source);
                free(p->entries[i].target);
                free(p->entries[i].fstype);
                free(p->entries[i].options);
        }
        free(p->entries);
        *p = (MountPlan){};
}

static char *host_path(const char *host_root, const char *rel) {
        char *s;
        if (asprintf(&s, "%s%s%s", host_root, streq(host_root, "/") ? "" : "/", rel) < 0)
                return NULL;
        return s;
}

/* A host top-level entry: a merged-/usr symlink is recreated as a symlink,
 * a directory is bound read-only, anything missing is left out. */
static int plan_host_entry(MountPlan *p, const char *host_root, const char *rel, const char *target,
                           bool keep_usr_symlinks) {
        _cleanup_free_ char *hp = host_path(host_root, rel);
        struct stat st;
        int r;

        if (!hp)
                return -ENOMEM;
        if (lstat(hp, &st) < 0)
                return errno == ENOENT ? 0 : -errno;

        if (S_ISLNK(st.st_mode)) {
                char link[PATH_MAX];
                ssize_t n = readlink(hp, link, sizeof(link) - 1);
                if (n < 0)
                        return -errno;
                link[n] = '\0';
                /* Keep links that resolve inside what the container sees
                 * (relative ones like usr/bin, or into /usr); a link to
                 * elsewhere (resolv.conf -> /run/...) becomes a bind of the
                 * file it points to. */
                if (keep_usr_symlinks && (link[0] != '/' || strneq(link, "/usr/", 5)))
                        return mount_plan_add(p, MOUNT_SYMLINK, link, target, NULL, NULL, 0, 0, false);
                _cleanup_free_ char *real = realpath(hp, NULL);
                if (!real)
                        return errno == ENOENT ? 0 : -errno;
                return mount_plan_add(p, MOUNT_BIND, real, target, NULL, NULL, MNT_RDONLY | ATTR_SAFE, 0, true);
        }
        r = mount_plan_add(p, MOUNT_BIND, hp, target, NULL, NULL, MNT_RDONLY | ATTR_SAFE, 0, true);
        return r;
}

int mount_plan_build(const ContainerConfig *c, const char *host_root, MountPlan *ret) {
        MountPlan p = {};
        char buf[PATH_MAX];
        int r;

#define ADD(...)                                       \
        do {                                           \
                r = mount_plan_add(&p, __VA_ARGS__);   \
                if (r < 0)                             \
                        goto fail;                     \
        } while (0)

        if (!c->rootfs) {
                p.root_is_tmpfs = true;
                p.root_read_only = true;
                for (size_t i = 0; i < ELEMENTSOF(host_top_dirs); i++) {
                        snprintf(buf, sizeof(buf), "/%s", host_top_dirs[i]);
                        r = plan_host_entry(&p, host_root, host_top_dirs[i], buf, true);
                        if (r < 0)
                                goto fail;
                }
                ADD(MOUNT_DIR, NULL, "/etc", NULL, NULL, 0, 0755, false);
                for (size_t i = 0; i < ELEMENTSOF(host_etc_entries); i++) {
                        char rel[64];
                        snprintf(rel, sizeof(rel), "etc/%s", host_etc_entries[i]);
                        snprintf(buf, sizeof(buf), "/etc/%s", host_etc_entries[i]);
                        r = plan_host_entry(&p, host_root, rel, buf, true);
                        if (r < 0)
                                goto fail;
                }
                ADD(MOUNT_DIR, NULL, "/var", NULL, NULL, 0, 0755, false);
                ADD(MOUNT_DIR, NULL, "/mnt", NULL, NULL, 0, 0755, false);
                ADD(MOUNT_DIR, NULL, "/opt", NULL, NULL, 0, 0755, false);
                ADD(MOUNT_DIR, NULL, "/srv", NULL, NULL, 0, 0755, false);
        } else
                p.root_read_only = c->read_only;

        if (c->own_mounts) {
                /* The caller's list (shuttle-oci: config.json's mounts,
                 * masked and read-only paths) replaces the defaults. */
                for (size_t i = 0; i < c->n_mounts; i++) {
                        const MountEntry *e = &c->mounts[i];
                        ADD(e->kind, e->source, e->target, e->fstype, e->options, e->attrs, e->mode, e->optional);
                        p.entries[p.n - 1].dev = e->dev;
                        p.entries[p.n - 1].uid = e->uid;
                        p.entries[p.n - 1].gid = e->gid;
                }
                goto shuttle;
        }

        /* Kernel filesystems: a fresh /proc for the new pid namespace, a
         * read-only /sys of the new network namespace. */
        ADD(MOUNT_FS, NULL, "/proc", "proc", NULL, ATTR_KERNEL, 0, false);
        ADD(MOUNT_FS, NULL, "/sys", "sysfs", NULL, ATTR_KERNEL | MNT_RDONLY, 0, false);

        /* A minimal /dev: a few host device nodes bound in, a private devpts
         * and shared-memory tmpfs. */
        ADD(MOUNT_FS, NULL, "/dev", "tmpfs", "mode=755,size=65536k", MNT_NOSUID | MNT_NOEXEC, 0, false);
        ADD(MOUNT_FS, NULL, "/dev/pts", "devpts", "newinstance,ptmxmode=0666,mode=0620,gid=5",
            MNT_NOSUID | MNT_NOEXEC, 0, false);
        ADD(MOUNT_FS, NULL, "/dev/shm", "tmpfs", "mode=1777,size=65536k", ATTR_KERNEL, 0, false);
        ADD(MOUNT_FS, NULL, "/dev/mqueue", "mqueue", NULL, ATTR_KERNEL, 0, false);
        r = mount_plan_add_devices(&p);
        if (r < 0)
                goto fail;

        /* Private scratch space. */
        ADD(MOUNT_FS, NULL, "/tmp", "tmpfs", "mode=1777", ATTR_SAFE, 0, false);
        ADD(MOUNT_FS, NULL, "/run", "tmpfs", "mode=755", ATTR_SAFE, 0, false);
        if (!c->rootfs) {
                ADD(MOUNT_FS, NULL, "/var/tmp", "tmpfs", "mode=1777", ATTR_SAFE, 0, false);
                ADD(MOUNT_FS, NULL, "/home", "tmpfs", "mode=755", ATTR_SAFE, 0, false);
                ADD(MOUNT_FS, NULL, "/root", "tmpfs", "mode=700", ATTR_SAFE, 0, false);
        }

        for (size_t i = 0; i < ELEMENTSOF(masked_paths); i++)
                ADD(MOUNT_MASK, NULL, masked_paths[i], NULL, NULL, 0, 0, true);
        for (size_t i = 0; i < ELEMENTSOF(readonly_paths); i++)
                ADD(MOUNT_READONLY, NULL, readonly_paths[i], NULL, NULL, 0, 0, true);

shuttle:
        /* The broker's directory for this container: broker.sock, svc/. */
        if (c->shuttle_dir)
                ADD(MOUNT_BIND, c->shuttle_dir, "/run/shuttle", NULL, NULL, ATTR_SAFE | MNT_NOEXEC | MNT_RDONLY,
                    0, true);
        /* The shim, preloaded by every program (see build_env()).  Not
         * optional: LD_PRELOAD naming a missing file would have the
         * dynamic linker complain on every program's stderr.  Executable:
         * the dynamic linker maps it. */
        if (c->shim_path)
                ADD(MOUNT_BIND, c->shim_path, CONTAINER_SHIM_PATH, NULL, NULL, ATTR_SAFE | MNT_RDONLY, 0, false);
        /* shuttle-invoke, for /run/shuttle/bin/shuttle-invoke. */
        if (c->invoke_path)
                ADD(MOUNT_BIND, c->invoke_path, SHUTTLE_INVOKE_PATH, NULL, NULL, ATTR_SAFE | MNT_RDONLY, 0, true);
        /* shuttle-name, for /run/shuttle/bin/shuttle-name. */
        if (c->name_path)
                ADD(MOUNT_BIND, c->name_path, SHUTTLE_NAME_PATH, NULL, NULL, ATTR_SAFE | MNT_RDONLY, 0, true);
        /* shuttle-transfer, for /run/shuttle/bin/shuttle-transfer. */
        if (c->transfer_path)
                ADD(MOUNT_BIND, c->transfer_path, SHUTTLE_TRANSFER_PATH, NULL, NULL, ATTR_SAFE | MNT_RDONLY, 0,
                    true);

        /* Volumes last, so that one below /tmp or /run lands on top of the
         * tmpfs instead of under it. */
        for (size_t i = 0; i < c->n_volumes; i++)
                ADD(MOUNT_BIND, c->volumes[i].source, c->volumes[i].destination, NULL, NULL,
                    ATTR_SAFE | (c->volumes[i].read_only ? MNT_RDONLY : 0), 0, false);
#undef ADD

        *ret = p;
        return 0;
fail:
        mount_plan_done(&p);
        return r;
}

int mount_plan_add_devices(MountPlan *p) {
        int r;

        for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) {
                char src[64];
                snprintf(src, sizeof(src), "/dev/%s", dev_nodes[i]);
                r = mount_plan_add(p, MOUNT_BIND, src, src, NULL, NULL, MNT_NOSUID | MNT_NOEXEC, 0, false);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(dev_links); i++) {
                r = mount_plan_add(p, MOUNT_SYMLINK, dev_links[i].source, dev_links[i].target, NULL, NULL, 0, 0,
                                   false);
                if (r < 0)
                        return r;
        }
        return 0;
}

int mount_plan_expand_cgroup(MountPlan *p, bool unified, const char *cgroup_root, const char *const *paths) {
        MountPlan out = {};
        size_t rootlen = strlen(cgroup_root);
        size_t n_paths = 0;
        int r = 0;

        while (paths && paths[n_paths])
                n_paths++;
        for (size_t i = 0; i < p->n; i++) {
                const MountEntry *e = &p->entries[i];

                if (e->kind != MOUNT_CGROUP) {
                        r = mount_plan_add(&out, e->kind, e->source, e->target, e->fstype, e->options, e->attrs,
                                           e->mode, e->optional);
                        if (r < 0)
                                goto fail;
                        out.entries[out.n - 1].dev = e->dev;
                        out.entries[out.n - 1].uid = e->uid;
                        out.entries[out.n - 1].gid = e->gid;
                        continue;
                }
                if (unified) {
                        if (n_paths == 1) {
                                r = mount_plan_add(&out, MOUNT_BIND, paths[0], e->target, NULL, NULL,
                                                   e->attrs | ATTR_KERNEL, 0, false);
                                if (r < 0)
                                        goto fail;
                        }
                        continue;
                }
                r = mount_plan_add(&out, MOUNT_FS, NULL, e->target, "tmpfs", "mode=755,size=4k",
                                   ATTR_KERNEL, 0, false);
                if (r < 0)
                        goto fail;
                for (size_t k = 0; k < n_paths; k++) {
                        char target[PATH_MAX];
                        const char *h;
                        size_t hl;

                        if (!strneq(paths[k], cgroup_root, rootlen) || paths[k][rootlen] != '/') {
                                r = -EINVAL;
                                goto fail;
                        }
                        h = paths[k] + rootlen + 1;
                        hl = strcspn(h, "/");
                        if (hl == 0 ||
                            snprintf(target, sizeof(target), "%s/%.*s", e->target, (int) hl, h) >= (int) sizeof(target)) {
                                r = -EINVAL;
                                goto fail;
                        }
                        r = mount_plan_add(&out, MOUNT_BIND, paths[k], target, NULL, NULL, e->attrs | ATTR_KERNEL,
                                           0, false);
                        if (r < 0)
                                goto fail;
                }
        }
        out.root_is_tmpfs = p->root_is_tmpfs;
        out.root_read_only = p->root_read_only;
        mount_plan_done(p);
        *p = out;
        return 0;
fail:
        mount_plan_done(&out);
        return r;
}

static const char *kind_name(MountKind k) {
        static const char *const names[] = {
                [MOUNT_DIR] = "dir",     [MOUNT_SYMLINK] = "symlink", [MOUNT_BIND] = "bind",
                [MOUNT_FS] = "fs",       [MOUNT_MASK] = "mask",       [MOUNT_READONLY] = "readonly",
                [MOUNT_CGROUP] = "cgroup",
                [MOUNT_SYSCTL] = "sysctl",
                [MOUNT_DEVICE] = "device",
        };
        return names[k];
}

char *mount_plan_format(const MountPlan *p) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        for (size_t i = 0; i < p->n; i++) {
                const MountEntry *e = &p->entries[i];
                fprintf(f, "%s %s", kind_name(e->kind), e->target);
                if (e->source)
                        fprintf(f, " <- %s", e->source);
                if (e->fstype)
                        fprintf(f, " type=%s", e->fstype);
                if (e->options)
                        fprintf(f, " opts=%s", e->options);
                if (e->attrs & MNT_RDONLY)
                        fputs(" ro", f);
                if (e->attrs & MNT_NOSUID)
                        fputs(" nosuid", f);
                if (e->attrs & MNT_NODEV)
                        fputs(" nodev", f);
                if (e->attrs & MNT_NOEXEC)
                        fputs(" noexec", f);
                fputc('\n', f);
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* ---- applying ---- */

static int resolve(int root_fd, const char *path, int flags, uint64_t resolve_flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .resolve = resolve_flags,
        };
        int fd = (int) syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

/* Creates the last component of path in the directory parent: an empty
 * file, or a directory.  Returns an fd of what it made (the file opened for
 * writing, which O_CREAT|O_EXCL|O_NOFOLLOW guarantees is the new regular file;
 * the directory O_PATH), -EEXIST if something is there already, or another
 * error. */
static int create_in(int parent, const char *base, bool want_file) {
        int fd;

        if (streq(base, "..") || streq(base, "."))
                return -EINVAL;
        if (want_file) {
                /* An O_PATH directory fd serves openat() as well. */
                fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
                return fd < 0 ? -errno : fd;
        }
        if (mkdirat(parent, base, 0755) < 0)
                return -errno;
        /* The component we just made must not be a symlink now. */
        return resolve(parent, base, O_PATH | O_DIRECTORY | O_NOFOLLOW, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
}

static int open_in_root_impl(int root_fd, const char *path, bool create, bool want_file, bool fresh) {
        const uint64_t in_root = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        int flags = O_PATH | (want_file ? 0 : O_DIRECTORY);
        _cleanup_free_ char *copy = NULL;
        _cleanup_close_ int parent = -1;
        char *slash, *base;
        int fd;

        while (*path == '/')
                path++;
        if (*path == '\0')
                return want_file ? -EISDIR : resolve(root_fd, ".", flags, in_root);

        /* In a root we are building (a fresh tmpfs) the target is usually
         * not there yet: make it first, and look for what is there only if
         * that finds something. */
        if (!fresh || !create) {
                fd = resolve(root_fd, path, flags, in_root);
                if (fd != -ENOENT || !create)
                        return fd;
        }

        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        /* "dir/" is "dir" (a file's path must not end in a slash) */
        for (size_t n = strlen(copy); !want_file && n > 1 && copy[n - 1] == '/'; n--)
                copy[n - 1] = '\0';
        slash = strrchr(copy, '/');
        if (slash) {
                *slash = '\0';
                base = slash + 1;
                /* Fresh: the parent usually exists (an earlier entry's). */
                parent = fresh ? resolve(root_fd, copy, O_PATH | O_DIRECTORY, in_root) : -ENOENT;
                if (parent == -ENOENT)
                        parent = open_in_root_impl(root_fd, copy, true, false, fresh);
        } else {
                base = copy;
                parent = resolve(root_fd, ".", O_PATH | O_DIRECTORY, in_root);
        }
        if (parent < 0)
                return parent;

        fd = create_in(parent, base, want_file);
        if (fd != -EEXIST)
                return fd;
        /* Something is there already.  Fresh: we did not look first, so
         * look now, as above: whatever the path leads to inside the root. */
        if (fresh) {
                fd = resolve(root_fd, path, flags, in_root);
                if (fd != -ENOENT)
                        return fd;
        }
        /* A dangling symlink, or one made since we looked: the component
         * itself, never what it points to. */
        return resolve(parent, base, flags | O_NOFOLLOW, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
}

int open_in_root(int root_fd, const char *path, bool create, bool want_file) {
        return open_in_root_impl(root_fd, path, create, want_file, false);
}

static uint64_t to_mount_attr(uint32_t a) {
        uint64_t r = 0;
        if (a & MNT_RDONLY)
                r |= MOUNT_ATTR_RDONLY;
        if (a & MNT_NOSUID)
                r |= MOUNT_ATTR_NOSUID;
        if (a & MNT_NODEV)
                r |= MOUNT_ATTR_NODEV;
        if (a & MNT_NOEXEC)
                r |= MOUNT_ATTR_NOEXEC;
        return r;
}

static int set_attrs(int fd, uint32_t attrs) {
        struct mount_attr ma = { .attr_set = to_mount_attr(attrs) };
        if (ma.attr_set == 0)
                return 0;
        if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof(ma)) < 0)
                return -errno;
        return 0;
}

#ifndef __NR_open_tree_attr
#define __NR_open_tree_attr 467 /* Linux 6.15, the same number everywhere */
#endif

/* A recursive clone of the tree at dfd/path with attrs set on every mount
 * of it: open_tree_attr(2) does it in one call (Linux 6.15), older kernels
 * in two. */
static int clone_tree(int dfd, const char *path, unsigned flags, uint32_t attrs) {
        static bool no_open_tree_attr = false;
        struct mount_attr ma = { .attr_set = to_mount_attr(attrs) };
        int fd, r;

        flags |= OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE;
        if (ma.attr_set != 0 && !no_open_tree_attr) {
                fd = (int) syscall(__NR_open_tree_attr, dfd, path, flags, &ma, sizeof(ma));
                if (fd >= 0)
                        return fd;
                if (errno != ENOSYS)
                        return -errno;
                no_open_tree_attr = true;
        }
        fd = open_tree(dfd, path, flags);
        if (fd < 0)
                return -errno;
        r = set_attrs(fd, attrs);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        return fd;
}

static int attach(int mnt_fd, int target_fd) {
        if (move_mount(mnt_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

int bind_mount_fd(const char *source, int target_fd, uint32_t attrs) {
        _cleanup_close_ int tree = clone_tree(AT_FDCWD, source, 0, attrs);

        if (tree < 0)
                return tree;
        return attach(tree, target_fd);
}

static bool has_option(const char *options, const char *key) {
        size_t n = strlen(key);

        for (const char *o = options; o && *o;) {
                if (strncmp(o, key, n) == 0 && (o[n] == '=' || o[n] == ',' || o[n] == '\0'))
                        return true;
                o = strchr(o, ',');
                if (o)
                        o++;
        }
        return false;
}

static int fs_mount_fd(const MountPlan *p, const char *fstype, const char *source, const char *options,
                       int target_fd, uint32_t attrs) {
        _cleanup_close_ int fs = fsopen(fstype, FSOPEN_CLOEXEC);
        _cleanup_close_ int mnt = -1;
        _cleanup_free_ char *opts = NULL;

        if (fs < 0)
                return -errno;
        /* In a user namespace the ids are the namespace's: 0 is the
         * container's root (the mounter, host root, is not mapped). */
        if (p && p->in_userns && p->userns_root_mapped && streq(fstype, "tmpfs")) {
                if (!has_option(options, "uid") && fsconfig(fs, FSCONFIG_SET_STRING, "uid", "0", 0) < 0)
                        return -errno;
                if (!has_option(options, "gid") && fsconfig(fs, FSCONFIG_SET_STRING, "gid", "0", 0) < 0)
                        return -errno;
        }
        /* What mountinfo shows as the source ("proc", "tmpfs", "shm"). */
        if (source && fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0) < 0)
                return -errno;
        if (options) {
                char *save = NULL;
                opts = strdup(options);
                if (!opts)
                        return -ENOMEM;
                for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                        char *eq = strchr(o, '=');
                        int k;
                        if (eq) {
                                *eq = '\0';
                                k = fsconfig(fs, FSCONFIG_SET_STRING, o, eq + 1, 0);
                        } else
                                k = fsconfig(fs, FSCONFIG_SET_FLAG, o, NULL, 0);
                        if (k < 0)
                                return -errno;
                }
        }
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned) to_mount_attr(attrs));
        if (mnt < 0)
                return -errno;
        return attach(mnt, target_fd);
}

static int apply_one(const MountPlan *p, const MountEntry *e, int root_fd) {
        bool fresh = p->root_is_tmpfs;
        _cleanup_close_ int target = -1;
        struct stat st;
        int r;

        switch (e->kind) {
        case MOUNT_DIR:
                target = open_in_root_impl(root_fd, e->target, true, false, fresh);
                return target < 0 ? target : 0;

        case MOUNT_SYMLINK: {
                _cleanup_free_ char *copy = strdup(e->target);
                _cleanup_close_ int parent = -1;
                char *slash, link[PATH_MAX];
                ssize_t n;

                if (!copy)
                        return -ENOMEM;
                slash = strrchr(copy, '/');
                *slash = '\0';
                /* (the parent is there already, as a rule: look first) */
                parent = open_in_root(root_fd, copy, true, false);
                if (parent < 0)
                        return parent;
                if (symlinkat(e->source, parent, slash + 1) == 0)
                        return 0;
                if (errno != EEXIST)
                        return -errno;
                /* Already there (a rootfs directory): fine if it is the same link. */
                n = readlinkat(parent, slash + 1, link, sizeof(link) - 1);
                if (n < 0)
                        return 0; /* a real file or directory: leave it */
                link[n] = '\0';
                return streq(link, e->source) ? 0 : -EEXIST;
        }

        case MOUNT_BIND: {
                /* The host's tree first: whether it is a directory decides
                 * what the target is made as. */
                _cleanup_close_ int tree = clone_tree(AT_FDCWD, e->source, 0, e->attrs);

                if (tree < 0)
                        return e->optional && tree == -ENOENT ? 0 : tree;
                if (fstat(tree, &st) < 0)
                        return -errno;
                target = open_in_root_impl(root_fd, e->target, true, !S_ISDIR(st.st_mode), fresh);
                if (target < 0)
                        return target;
                return attach(tree, target);
        }

        case MOUNT_FS:
                target = open_in_root_impl(root_fd, e->target, true, false, fresh);
                if (target < 0)
                        return target;
                r = fs_mount_fd(p, e->fstype, e->source, e->options, target, e->attrs);
                /* A new sysfs needs the network namespace to be owned by
                 * our user namespace; else the host's, read-only, as runc
                 * binds it. */
                if (r == -EPERM && p->in_userns && streq(e->fstype, "sysfs"))
                        r = bind_mount_fd("/sys", target, e->attrs | MNT_RDONLY | MNT_NOSUID | MNT_NODEV | MNT_NOEXEC);
                return r;

        case MOUNT_MASK:
                target = open_in_root(root_fd, e->target, false, true);
                if (target < 0)
                        return e->optional && target == -ENOENT ? 0 : target;
                if (fstat(target, &st) < 0)
                        return -errno;
                if (S_ISDIR(st.st_mode))
                        return fs_mount_fd(NULL, "tmpfs", NULL, "size=4k,nr_inodes=1", target, MNT_RDONLY | ATTR_KERNEL);
                return bind_mount_fd("/dev/null", target, MNT_RDONLY | MNT_NOSUID | MNT_NOEXEC);

        case MOUNT_READONLY: {
                _cleanup_close_ int tree = -1;

                target = open_in_root(root_fd, e->target, false, true);
                if (target < 0)
                        return e->optional && target == -ENOENT ? 0 : target;
                tree = clone_tree(target, "", AT_EMPTY_PATH, MNT_RDONLY | MNT_NOSUID | MNT_NODEV);
                if (tree < 0)
                        return tree;
                return attach(tree, target);
        }
        case MOUNT_SYSCTL: {
                size_t n = e->options ? strlen(e->options) : 0;
                ssize_t k;

                /* A file of the container's own /proc, mounted by an
                 * earlier entry: never a magic link, never outside. */
                target = resolve(root_fd, e->target, O_WRONLY | O_NOFOLLOW,
                                 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS);
                if (target < 0)
                        return target;
                k = write(target, e->options ?: "", n);
                if (k < 0)
                        return -errno;
                return (size_t) k == n ? 0 : -EIO;
        }
        case MOUNT_DEVICE: {
                _cleanup_free_ char *copy = strdup(e->target);
                _cleanup_close_ int parent = -1;
                char *slash;

                if (!copy)
                        return -ENOMEM;
                slash = strrchr(copy, '/');
                if (!slash || slash[1] == '\0' || streq(slash + 1, "..") || streq(slash + 1, "."))
                        return -EINVAL;
                *slash = '\0';
                /* The directory resolved inside the root; the node made in
                 * it by name, never through a link. */
                parent = open_in_root(root_fd, copy[0] ? copy : "/", true, false);
                if (parent < 0)
                        return parent;
                if (p->in_userns) {
                        /* No mknod in a user namespace: the host's node of
                         * the same path, if it is the same device, bound
                         * (its owner and mode are the host's), as runc and
                         * crun do. */
                        _cleanup_close_ int node = -1;

                        if (stat(e->target, &st) < 0)
                                return -errno;
                        if ((st.st_mode & S_IFMT) != ((mode_t) e->mode & S_IFMT) || st.st_rdev != (dev_t) e->dev)
                                return -ENODEV;
                        node = open_in_root(root_fd, e->target, true, true);
                        if (node < 0)
                                return node;
                        return bind_mount_fd(e->target, node, MNT_NOSUID | MNT_NOEXEC);
                }
                if (mknodat(parent, slash + 1, (mode_t) e->mode, (dev_t) e->dev) < 0) {
                        if (errno != EEXIST)
                                return -errno;
                        if (unlinkat(parent, slash + 1, 0) < 0 ||
                            mknodat(parent, slash + 1, (mode_t) e->mode, (dev_t) e->dev) < 0)
                                return -errno;
                }
                if (fchownat(parent, slash + 1, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                    fchmodat(parent, slash + 1, (mode_t) e->mode & 07777, 0) < 0)
                        return -errno;
                return 0;
        }
        case MOUNT_CGROUP:
                break;
        }
        return -EINVAL;
}

int mount_plan_apply(const MountPlan *p, int root_fd, const MountEntry **ret_failed) {
        for (size_t i = 0; i < p->n; i++) {
                int r = apply_one(p, &p->entries[i], root_fd);
                if (r < 0) {
                        if (ret_failed)
                                *ret_failed = &p->entries[i];
                        return r;
                }
        }
        return 0;
}
