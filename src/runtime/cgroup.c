/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup: probing, the parts both backends share (creating, killing and
 * removing directories), and the public entry points.  The v1 and v2 specific
 * parts (where the directories go, which files hold the limits) live in
 * cgroup-v1.c and cgroup-v2.c. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "common/parse.h"
#include "runtime/cgroup-internal.h"

/* How long killing waits for processes to leave, and how often it looks. */
#define KILL_TIMEOUT_NSEC (2ULL * 1000 * 1000 * 1000)
#define KILL_POLL_USEC 10000
/* How deep below a container's cgroup we follow child cgroups. */
#define MAX_DEPTH 32
/* Retries when a concurrent destroy removes the shared `shuttle` parent
 * between our mkdir of it and our mkdir below it. */
#define CREATE_ATTEMPTS 5

static int kernel_mkdir(const CgroupOps *ops _unused_, int dirfd, const char *name) {
        return mkdirat(dirfd, name, 0755) < 0 ? -errno : 0;
}

/* On cgroupfs, rmdir removes a cgroup whose only entries are the kernel's
 * interface files. */
static int kernel_rmdir(const CgroupOps *ops _unused_, int dirfd, const char *name) {
        return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

const CgroupOps cgroup_kernel_ops = {
        .mkdir = kernel_mkdir,
        .rmdir = kernel_rmdir,
};

/* ---- small file helpers ---- */

int cg_write(int dirfd, const char *file, const char *s) {
        _cleanup_close_ int fd = -1;
        size_t len = strlen(s);
        ssize_t n;

        /* Never O_CREAT: cgroupfs files exist or the controller is not there,
         * and creating a plain file in their place would hide that. */
        fd = openat(dirfd, file, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        do
                n = write(fd, s, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

int cg_write_u64(int dirfd, const char *file, uint64_t v) {
        char buf[32];

        snprintf(buf, sizeof buf, "%" PRIu64, v);
        return cg_write(dirfd, file, buf);
}

int cg_read(int dirfd, const char *file, char **ret) {
        return read_file_at(dirfd, file, 64 * 1024, ret, NULL);
}

int cg_parse_keyed(const char *text, const char *key, uint64_t *ret) {
        size_t klen = strlen(key);

        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                char num[32];
                size_t n;

                if (!strneq(p, key, klen) || p[klen] != ' ')
                        continue;
                p += klen + 1;
                n = strcspn(p, "\n");
                if (n == 0 || n >= sizeof num)
                        return -EINVAL;
                memcpy(num, p, n);
                num[n] = '\0';
                return parse_uint64(num, ret);
        }
        return -ENODATA;
}

bool cg_file_exists(int dirfd, const char *file) {
        return faccessat(dirfd, file, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

bool cg_list_has(const char *list, const char *word) {
        size_t wlen = strlen(word);

        for (const char *p = list; *p;) {
                size_t n;

                p += strspn(p, " \t\n");
                n = strcspn(p, " \t\n");
                if (n == wlen && strneq(p, word, n))
                        return true;
                p += n;
        }
        return false;
}

static uint64_t now_nsec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

/* ---- walking a cgroup and the cgroups below it ---- */

int cg_procs_foreach(int dirfd, int (*fn)(pid_t pid, void *userdata), void *userdata) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        int fd;

        fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "re");
        if (!f) {
                safe_close(fd);
                return -ENOMEM;
        }
        while (getline(&line, &cap, f) > 0) {
                uint64_t v;
                int r;

                line[strcspn(line, "\n")] = '\0';
                if (parse_uint64(line, &v) < 0 || v == 0 || v > INT32_MAX)
                        continue; /* 0: a process outside our pid namespace */
                /* Never ourselves: if the caller ended up in the cgroup
                 * something is badly wrong, and killing it would leave the
                 * cgroup behind for good. */
                if ((pid_t) v == getpid())
                        continue;
                r = fn((pid_t) v, userdata);
                if (r != 0)
                        return r;
        }
        return ferror(f) ? -EIO : 0;
}

typedef struct TreeCount {
        bool kill_them;
        int count;
} TreeCount;

static int count_proc(pid_t pid, void *userdata) {
        TreeCount *t = userdata;

        if (t->kill_them && kill(pid, SIGKILL) < 0 && errno != ESRCH)
                return -errno;
        t->count++;
        return 0;
}

/* Counts the processes listed in dirfd's cgroup.procs and in every cgroup
 * below it, SIGKILLing each if kill is set.  Returns the count. */
static int tree_procs(int dirfd, bool kill_them, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        TreeCount t = { .kill_them = kill_them };
        int count, r;

        if (depth > MAX_DEPTH)
                return -ELOOP;

        r = cg_procs_foreach(dirfd, count_proc, &t);
        if (r < 0 && r != -ENOENT)
                return r;
        count = t.count;

        r = opendir_at(dirfd, &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_close_ int sub = -1;

                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (sub < 0) {
                        if (errno == ENOENT || errno == ENOTDIR)
                                continue;
                        return -errno;
                }
                r = tree_procs(sub, kill_them, depth + 1);
                if (r < 0)
                        return r;
                count += r;
        }
        return count;
}

/* rmdir parent_fd/name after every cgroup below it, deepest first. */
static int tree_remove(const CgroupOps *ops, int parent_fd, const char *name, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        int fd, r;

        if (depth > MAX_DEPTH)
                return -ELOOP;

        fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        for (struct dirent *de; (de = readdir(d));) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (de->d_type == DT_UNKNOWN) {
                        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                continue;
                        if (!S_ISDIR(st.st_mode))
                                continue;
                } else if (de->d_type != DT_DIR)
                        continue;
                r = tree_remove(ops, dirfd(d), de->d_name, depth + 1);
                if (r < 0)
                        return r;
        }
        closedir(TAKE_PTR(d));

        r = ops->rmdir(ops, parent_fd, name);
        return r == -ENOENT ? 0 : r;
}

int cg_tree_remove(const CgroupOps *ops, int parent_fd, const char *name) {
        return tree_remove(ops, parent_fd, name, 0);
}

/* SIGKILLs everything in d (and below) until it is empty or the deadline
 * passes.  v2's cgroup.kill does it atomically, forks included; elsewhere a
 * process may fork between our read and our kill, hence the rounds. */
static int dir_kill(CgroupDir *d, bool use_kill_file, uint64_t deadline) {
        for (;;) {
                int n;

                if (use_kill_file) {
                        int r = cg_write(d->fd, "cgroup.kill", "1");
                        if (r < 0)
                                return r;
                }
                n = tree_procs(d->fd, !use_kill_file, 0);
                if (n <= 0)
                        return n;
                if (now_nsec() > deadline)
                        return -EBUSY;
                usleep(KILL_POLL_USEC);
        }
}

/* ---- Cgroup objects ---- */

static Cgroup *cg_new(const CgroupOps *ops, CgroupVersion version, const char *name) {
        Cgroup *cg = calloc(1, sizeof *cg);

        if (!cg)
                return NULL;
        cg->name = strdup(name);
        if (!cg->name) {
                free(cg);
                return NULL;
        }
        cg->parent = strdup("shuttle");
        if (!cg->parent) {
                free(cg->name);
                free(cg);
                return NULL;
        }
        cg->ops = ops;
        cg->version = version;
        return cg;
}

/* Is s one sane path component (what may be joined onto a cgroup)? */
static bool component_is_sane(const char *s, size_t n) {
        return n > 0 && n < 256 && !(n == 1 && s[0] == '.') && !(n == 2 && strneq(s, "..", 2));
}

/* limits.path: "/a/b/c" or "a/b/c" → parent "a/b", name "c". */
static int cg_set_path(Cgroup *cg, const char *path) {
        _cleanup_free_ char *parent = NULL, *name = NULL;
        const char *p = path, *last;
        size_t n;

        p += strspn(p, "/");
        if (!*p)
                return -EINVAL;
        for (const char *q = p; *q;) {
                n = strcspn(q, "/");
                if (!component_is_sane(q, n))
                        return -EINVAL;
                q += n;
                q += strspn(q, "/");
        }
        n = strlen(p);
        while (n > 0 && p[n - 1] == '/')
                n--;
        last = p + n;
        while (last > p && last[-1] != '/')
                last--;
        name = strndup(last, (size_t) (p + n - last));
        n = (size_t) (last - p);
        while (n > 0 && p[n - 1] == '/')
                n--;
        parent = strndup(p, n);
        if (!name || !parent)
                return -ENOMEM;
        free(cg->name);
        cg->name = TAKE_PTR(name);
        free(cg->parent);
        cg->parent = TAKE_PTR(parent);
        cg->custom = true;
        return 0;
}

/* v1 cpuset: a new cgroup's cpuset.cpus and cpuset.mems start empty, and no
 * task may join it until they are set: copy the parent's down (as runc). */
static int cpuset_copy_down(int parent_fd, int child_fd) {
        static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *mine = NULL, *theirs = NULL;
                int r;

                r = cg_read(child_fd, files[i], &mine);
                if (r < 0)
                        return r == -ENOENT ? 0 : r;
                if (mine[strspn(mine, " \n")] != '\0')
                        continue;
                r = cg_read(parent_fd, files[i], &theirs);
                if (r < 0)
                        return r;
                theirs[strcspn(theirs, "\n")] = '\0';
                if (!theirs[0])
                        continue;
                r = cg_write(child_fd, files[i], theirs);
                if (r < 0)
                        return r;
        }
        return 0;
}

Cgroup *cgroup_free(Cgroup *cg) {
        int saved = errno;

        if (!cg)
                return NULL;
        for (size_t i = 0; i < cg->n_dirs; i++) {
                CgroupDir *d = &cg->dirs[i];
                safe_close(d->fd);
                safe_close(d->shuttle_fd);
                safe_close(d->base_fd);
                free(d->base);
                free(d->path);
        }
        free(cg->name);
        free(cg->parent);
        free(cg);
        errno = saved;
        return NULL;
}

int cg_add_dir(Cgroup *cg, unsigned mask, const char *base, int base_fd) {
        CgroupDir *d;
        char *b, *p;

        if (cg->n_dirs >= CGROUP_MAX_DIRS)
                return -E2BIG;
        b = strdup(base);
        if (!b)
                return -ENOMEM;
        if (asprintf(&p, "%s%s%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/",
                     cg->parent, cg->parent[0] ? "/" : "", cg->name) < 0) {
                free(b);
                return -ENOMEM;
        }
        d = &cg->dirs[cg->n_dirs++];
        *d = (CgroupDir) {
                .mask = mask,
                .base = b,
                .path = p,
                .base_fd = base_fd,
                .shuttle_fd = -1,
                .fd = -1,
                .made_from = -1,
        };
        cg->paths[cg->n_dirs - 1] = p;
        return 0;
}

CgroupDir *cg_find_dir(Cgroup *cg, unsigned controller) {
        for (size_t i = 0; i < cg->n_dirs; i++)
                if (cg->dirs[i].mask & controller && cg->dirs[i].fd >= 0)
                        return &cg->dirs[i];
        return NULL;
}

/* Opens (with create: makes first) cg->parent below d's base, one
 * component at a time; with create, each made component gets
 * subtree_control (v2) or its parent's cpuset (v1). */
static int open_shuttle(Cgroup *cg, CgroupDir *d, bool create, const char *subtree_control) {
        _cleanup_close_ int cur = -1;
        const char *p = cg->parent;

        cur = fcntl(d->base_fd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        for (int depth = 0; *p; depth++) {
                _cleanup_free_ char *comp = NULL;
                size_t n = strcspn(p, "/");
                int r, fd;

                comp = strndup(p, n);
                if (!comp)
                        return -ENOMEM;
                p += n;
                p += strspn(p, "/");
                if (create) {
                        r = cg->ops->mkdir(cg->ops, cur, comp);
                        if (r < 0 && r != -EEXIST)
                                return r;
                        if (r == 0 && d->made_from < 0)
                                d->made_from = depth;
                }
                fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        return -errno;
                if (create && cg->version == CGROUP_V1 && d->mask & CG_CPUSET) {
                        r = cpuset_copy_down(cur, fd);
                        if (r < 0) {
                                safe_close(fd);
                                return r;
                        }
                }
                if (create && subtree_control) {
                        r = cg_write(fd, "cgroup.subtree_control", subtree_control);
                        if (r < 0) {
                                safe_close(fd);
                                return r;
                        }
                }
                safe_close(cur);
                cur = fd;
        }
        safe_close(d->shuttle_fd);
        d->shuttle_fd = TAKE_FD(cur);
        return 0;
}

int cg_dir_create(Cgroup *cg, CgroupDir *d, const char *subtree_control) {
        for (unsigned attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
                int r, fd;

                r = open_shuttle(cg, d, true, subtree_control);
                if (r == -ENOENT || r == -ENODEV) /* parent removed under us */
                        continue;
                if (r < 0)
                        return r;

                /* A directory of the same name: a leftover of a crash (the
                 * caller made sure no live container has this name) unless
                 * processes are still in it. */
                if (cg_file_exists(d->shuttle_fd, cg->name)) {
                        _cleanup_close_ int old = openat(d->shuttle_fd, cg->name,
                                                         O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (old < 0)
                                return -errno;
                        r = tree_procs(old, false, 0);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                return -EBUSY;
                        r = tree_remove(cg->ops, d->shuttle_fd, cg->name, 0);
                        if (r < 0)
                                return r == -ENOTEMPTY ? -EBUSY : r;
                }

                r = cg->ops->mkdir(cg->ops, d->shuttle_fd, cg->name);
                if (r == -ENOENT)
                        continue;
                if (r == -EEXIST) /* someone creating the same name right now */
                        return -EBUSY;
                if (r < 0)
                        return r;
                fd = openat(d->shuttle_fd, cg->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0) {
                        r = -errno;
                        (void) cg->ops->rmdir(cg->ops, d->shuttle_fd, cg->name);
                        return r;
                }
                d->fd = fd;
                if (cg->version == CGROUP_V1 && d->mask & CG_CPUSET) {
                        r = cpuset_copy_down(d->shuttle_fd, d->fd);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        return -EBUSY;
}

/* ---- public API ---- */

int cgroup_probe(const char *root, CgroupVersion *ret) {
        static const char *const v1_dirs[] = { "memory", "pids", "cpu", "cpu,cpuacct" };
        _cleanup_close_ int fd = -1;

        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;

        /* Pure unified: the root itself is a cgroup2 root.  In the hybrid
         * layout the root is a tmpfs and cgroup2 sits at <root>/unified,
         * usually without the controllers we need, so it does not count. */
        if (cg_file_exists(fd, "cgroup.controllers")) {
                *ret = CGROUP_V2;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(v1_dirs); i++) {
                struct stat st;

                if (fstatat(fd, v1_dirs[i], &st, 0) == 0 && S_ISDIR(st.st_mode)) {
                        *ret = CGROUP_V1;
                        return 0;
                }
        }
        return -EOPNOTSUPP;
}

static int normalize_limits(const CgroupLimits *in, CgroupLimits *out) {
        CgroupLimits l = in ? *in : (CgroupLimits) {};

        if (l.cpu_shares > 0 && (l.cpu_shares < 2 || l.cpu_shares > 262144))
                return -EINVAL;
        if (l.cpu_quota_usec > 0) {
                if (l.cpu_period_usec == 0)
                        l.cpu_period_usec = 100000;
                /* The kernel's bounds for CFS bandwidth, checked here so
                 * both backends (and the fake trees) agree. */
                if (l.cpu_quota_usec < 1000 || l.cpu_period_usec < 1000 ||
                    l.cpu_period_usec > 1000000)
                        return -EINVAL;
        } else
                l.cpu_period_usec = 0;
        *out = l;
        return 0;
}

/* Resolves where the directories go (not creating anything except, on v2
 * and unless check_only, enabling controllers at the root). */
static int plan(Cgroup *cg, const char *root, const char *self_cgroup_file,
                const CgroupLimits *limits, bool check_only, bool all_controllers,
                char **ret_subtree, const char **ret_missing) {
        if (cg->version == CGROUP_V1)
                return cgroup_v1_add_dirs(cg, root, self_cgroup_file, limits, all_controllers,
                                          ret_missing);
        return cgroup_v2_prepare(cg, root, limits, check_only, ret_subtree, ret_missing);
}

int cgroup_check_limits(const char *root, const char *self_cgroup_file,
                        const CgroupLimits *limits, const char **ret_controller) {
        _cleanup_cgroup_ Cgroup *cg = NULL;
        CgroupLimits l;
        CgroupVersion v;
        int r;

        r = normalize_limits(limits, &l);
        if (r < 0)
                return r;
        r = cgroup_probe(root, &v);
        if (r < 0)
                return r;
        cg = cg_new(&cgroup_kernel_ops, v, "check");
        if (!cg)
                return -ENOMEM;
        return plan(cg, root, self_cgroup_file, &l, true, false, NULL, ret_controller);
}

/* After a failed create at a limits.path: the parents it made, deepest
 * first (best effort: a concurrent create may be using them). */
static void remove_made_parents(Cgroup *cg) {
        for (size_t i = 0; i < cg->n_dirs; i++) {
                CgroupDir *d = &cg->dirs[i];
                int n = 0;

                if (d->made_from < 0)
                        continue;
                for (const char *p = cg->parent; *p; n++) {
                        p += strcspn(p, "/");
                        p += strspn(p, "/");
                }
                for (int k = n; k > d->made_from; k--) {
                        _cleanup_free_ char *prefix = NULL;
                        const char *p = cg->parent;

                        /* the first k components */
                        for (int j = 0; j < k; j++) {
                                p += strcspn(p, "/");
                                if (j + 1 < k)
                                        p += strspn(p, "/");
                        }
                        prefix = strndup(cg->parent, (size_t) (p - cg->parent));
                        if (!prefix || cg->ops->rmdir(cg->ops, d->base_fd, prefix) < 0)
                                break;
                }
                d->made_from = -1;
        }
}

int cgroup_create_ops(const CgroupOps *ops, const char *root, const char *self_cgroup_file,
                      const char *name, const CgroupLimits *limits, Cgroup **ret) {
        _cleanup_cgroup_ Cgroup *cg = NULL;
        _cleanup_free_ char *subtree = NULL;
        CgroupLimits l;
        CgroupVersion v;
        int r;

        if (!container_name_is_valid(name))
                return -EINVAL;
        r = normalize_limits(limits, &l);
        if (r < 0)
                return r;
        r = cgroup_probe(root, &v);
        if (r < 0)
                return r;
        cg = cg_new(ops, v, name);
        if (!cg)
                return -ENOMEM;
        if (l.path) {
                r = cg_set_path(cg, l.path);
                if (r < 0)
                        return r;
        }

        /* Everything that can be checked is checked before the first mkdir. */
        r = plan(cg, root, self_cgroup_file, &l, false, false, &subtree, NULL);
        if (r < 0)
                return r;

        for (size_t i = 0; i < cg->n_dirs; i++) {
                r = cg_dir_create(cg, &cg->dirs[i], subtree);
                if (r < 0)
                        goto fail;
        }
        r = v == CGROUP_V1 ? cgroup_v1_apply(cg, &l) : cgroup_v2_apply(cg, &l);
        if (r < 0)
                goto fail;

        *ret = TAKE_PTR(cg);
        return 0;

fail:
        /* All or nothing: remove what we made, report the first error. */
        if (cgroup_destroy(cg) == 0 && cg->custom)
                remove_made_parents(cg);
        return r;
}

int cgroup_create(const char *root, const char *self_cgroup_file, const char *name,
                  const CgroupLimits *limits, Cgroup **ret) {
        return cgroup_create_ops(&cgroup_kernel_ops, root, self_cgroup_file, name, limits, ret);
}

CgroupVersion cgroup_version(const Cgroup *cg) {
        return cg->version;
}

const char *cgroup_path(const Cgroup *cg) {
        return cg->dirs[0].path;
}

const char *const *cgroup_paths(const Cgroup *cg) {
        return cg->paths;
}

int cgroup_open_fd(const Cgroup *cg) {
        int fd;

        if (cg->version != CGROUP_V2)
                return -EOPNOTSUPP;
        if (cg->dirs[0].fd < 0)
                return -ENOENT;
        fd = openat(cg->dirs[0].fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int cgroup_attach(Cgroup *cg, pid_t pid) {
        char buf[32];

        if (pid <= 0)
                return -EINVAL;
        snprintf(buf, sizeof buf, "%d", (int) pid);
        for (size_t i = 0; i < cg->n_dirs; i++) {
                int r;

                if (cg->dirs[i].fd < 0)
                        return -ENOENT;
                r = cg_write(cg->dirs[i].fd, "cgroup.procs", buf);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Only system calls, no allocation: the container's init calls this right
 * after clone(). */
static int write_zero(int dirfd, const char *file) {
        int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY), r = 0;

        if (fd < 0)
                return -errno;
        if (write(fd, "0", 1) != 1)
                r = -errno;
        close(fd);
        return r;
}

int cgroup_attach_self(const Cgroup *cg) {
        for (size_t i = 0; i < cg->n_dirs; i++) {
                int r;

                if (cg->dirs[i].fd < 0)
                        return -ENOENT;
                r = write_zero(cg->dirs[i].fd, cg->version == CGROUP_V1 ? "tasks" : "cgroup.procs");
                if (r < 0)
                        return r;
        }
        return 0;
}

int cgroup_dir_attach_self(int dirfd) {
        struct statfs sf;

        if (fstatfs(dirfd, &sf) < 0)
                return -errno;
        if (sf.f_type == CGROUP_SUPER_MAGIC)
                return write_zero(dirfd, "tasks");
        if (sf.f_type == CGROUP2_SUPER_MAGIC)
                return write_zero(dirfd, "cgroup.procs");
        return -EMEDIUMTYPE;
}

int cgroup_oom_kill_count(Cgroup *cg, uint64_t *ret) {
        return cg->version == CGROUP_V1 ? cgroup_v1_oom_kill_count(cg, ret)
                                        : cgroup_v2_oom_kill_count(cg, ret);
}

int cgroup_kill_all(Cgroup *cg) {
        uint64_t deadline = now_nsec() + KILL_TIMEOUT_NSEC;

        for (size_t i = 0; i < cg->n_dirs; i++) {
                CgroupDir *d = &cg->dirs[i];
                bool kill_file;
                int r;

                if (d->fd < 0)
                        continue;
                kill_file = cg->version == CGROUP_V2 && cg_file_exists(d->fd, "cgroup.kill");
                r = dir_kill(d, kill_file, deadline);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cgroup_destroy(Cgroup *cg) {
        int r, ret = 0;

        if (!cg)
                return 0;
        /* Usually empty: one rmdir; a busy leaf (processes, cgroups below)
         * is killed and removed deepest first below. */
        for (size_t i = 0; i < cg->n_dirs; i++) {
                CgroupDir *d = &cg->dirs[i];
                if (d->fd >= 0 && ((r = cg->ops->rmdir(cg->ops, d->shuttle_fd, cg->name)) >= 0 || r == -ENOENT))
                        d->fd = safe_close(d->fd);
        }
        r = cgroup_kill_all(cg);
        if (r < 0)
                return r;

        for (size_t i = cg->n_dirs; i-- > 0;) {
                CgroupDir *d = &cg->dirs[i];

                if (d->fd >= 0) {
                        r = tree_remove(cg->ops, d->shuttle_fd, cg->name, 0);
                        if (r < 0) {
                                if (ret == 0)
                                        ret = r;
                                continue;
                        }
                        d->fd = safe_close(d->fd);
                }
                if (d->shuttle_fd >= 0 && !cg->custom) {
                        /* Shared by all containers: gone once the last one
                         * is, so an outer cgroup (ours, on v1) can be removed
                         * by whoever made it.  Busy or already gone is fine;
                         * cg_dir_create() copes with the race. */
                        (void) cg->ops->rmdir(cg->ops, d->base_fd, "shuttle");
                        d->shuttle_fd = safe_close(d->shuttle_fd);
                }
        }
        return ret;
}

int cgroup_remove_stale_ops(const CgroupOps *ops, const char *root, const char *self_cgroup_file,
                            const char *name) {
        _cleanup_cgroup_ Cgroup *cg = NULL;
        bool found = false;
        CgroupVersion v;
        int r;

        if (!container_name_is_valid(name))
                return -EINVAL;
        r = cgroup_probe(root, &v);
        if (r < 0)
                return r;
        cg = cg_new(ops, v, name);
        if (!cg)
                return -ENOMEM;
        r = plan(cg, root, self_cgroup_file, &(CgroupLimits) {}, true, true, NULL, NULL);
        if (r < 0)
                return r;

        for (size_t i = 0; i < cg->n_dirs; i++) {
                CgroupDir *d = &cg->dirs[i];

                r = open_shuttle(cg, d, false, NULL);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                d->fd = openat(d->shuttle_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (d->fd < 0) {
                        if (errno != ENOENT)
                                return -errno;
                        /* Not ours, but an empty `shuttle` goes anyway. */
                        continue;
                }
                found = true;
        }

        r = cgroup_destroy(cg);
        if (r < 0)
                return r;
        return found ? 1 : 0;
}

int cgroup_remove_stale(const char *root, const char *self_cgroup_file, const char *name) {
        return cgroup_remove_stale_ops(&cgroup_kernel_ops, root, self_cgroup_file, name);
}

static int remove_path(const CgroupOps *ops, const char *path, bool any) {
        _cleanup_cgroup_ Cgroup *cg = NULL;
        _cleanup_free_ char *base = NULL;
        _cleanup_close_ int base_fd = -1;
        const char *name, *slash;
        bool found, custom;
        CgroupDir *d;
        int r;

        /* ".../shuttle/<valid name>", or the leaf of a limits.path (whose
         * parents are left alone). */
        name = strrchr(path, '/');
        if (!name || !component_is_sane(name + 1, strlen(name + 1)))
                return -EINVAL;
        slash = name;
        name++;
        custom = !container_name_is_valid(name) || (size_t) (slash - path) < STRLEN("/shuttle") ||
                 !strneq(slash - STRLEN("/shuttle"), "/shuttle", STRLEN("/shuttle"));
        if (custom && !any)
                return -EINVAL;
        base = strndup(path, (size_t) (slash - path) - (custom ? 0 : STRLEN("/shuttle")));
        if (!base)
                return -ENOMEM;
        if (base[0] == '\0') {
                free(base);
                base = strdup("/");
                if (!base)
                        return -ENOMEM;
        }
        base_fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (base_fd < 0)
                return errno == ENOENT ? 0 : -errno;

        /* The version only decides whether cgroup.kill may be used. */
        cg = cg_new(ops, cg_file_exists(base_fd, "cgroup.controllers") ? CGROUP_V2 : CGROUP_V1, name);
        if (!cg)
                return -ENOMEM;
        if (custom) {
                cg->custom = true;
                cg->parent[0] = '\0';
        }
        r = cg_add_dir(cg, 0, base, base_fd);
        if (r < 0)
                return r;
        TAKE_FD(base_fd);
        d = &cg->dirs[0];

        r = open_shuttle(cg, d, false, NULL);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        d->fd = openat(d->shuttle_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (d->fd < 0 && errno != ENOENT)
                return -errno;
        found = d->fd >= 0;
        r = cgroup_destroy(cg);
        return r < 0 ? r : found;
}

int cgroup_remove_stale_path_ops(const CgroupOps *ops, const char *path) {
        return remove_path(ops, path, false);
}

int cgroup_remove_path_ops(const CgroupOps *ops, const char *path) {
        return remove_path(ops, path, true);
}

static int on_cgroupfs(const char *path) {
        struct statfs sfs;

        /* The path comes from a state file: act only on a cgroupfs. */
        if (statfs(path, &sfs) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (sfs.f_type != CGROUP_SUPER_MAGIC && sfs.f_type != CGROUP2_SUPER_MAGIC)
                return -EINVAL;
        return 1;
}

int cgroup_remove_stale_path(const char *path) {
        int r = on_cgroupfs(path);

        return r <= 0 ? r : cgroup_remove_stale_path_ops(&cgroup_kernel_ops, path);
}

int cgroup_remove_path(const char *path) {
        int r = on_cgroupfs(path);

        return r <= 0 ? r : cgroup_remove_path_ops(&cgroup_kernel_ops, path);
}

const CgroupDeviceRule cgroup_default_devices[] = {
        { true, 'c', -1, -1, "m" },  { true, 'b', -1, -1, "m" },
        { true, 'c', 1, 3, "rwm" },  { true, 'c', 1, 5, "rwm" },  { true, 'c', 1, 7, "rwm" },
        { true, 'c', 1, 8, "rwm" },  { true, 'c', 1, 9, "rwm" },  { true, 'c', 5, 0, "rwm" },
        { true, 'c', 5, 1, "rwm" },  { true, 'c', 5, 2, "rwm" },  { true, 'c', 136, -1, "rwm" },
};
const size_t cgroup_n_default_devices = ELEMENTSOF(cgroup_default_devices);

bool cgroup_enforces_devices(const Cgroup *cg) {
        if (cg->devices_bpf)
                return true;
        for (size_t i = 0; i < cg->n_dirs; i++)
                if (cg->dirs[i].mask & CG_DEVICES)
                        return true;
        return false;
}
