/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v1 backend: one directory per hierarchy, below our own cgroup. */

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/macro.h"
#include "runtime/cgroup-internal.h"

static const struct {
        unsigned bit;
        const char *name;
} v1_controllers[] = {
        /* memory first: cgroup_path() reports dirs[0]. */
        { CG_MEMORY, "memory" },
        { CG_PIDS, "pids" },
        { CG_CPU, "cpu" },
        { CG_FREEZER, "freezer" },
        { CG_DEVICES, "devices" },
        { CG_CPUSET, "cpuset" },
};

/* Finds controller in the /proc/self/cgroup format ("4:memory:/a/b",
 * "2:cpu,cpuacct:/"), returning the hierarchy's controller list and our path
 * in it.  -ENOENT if no hierarchy has it. */
static int self_lookup(const char *text, const char *controller, char **ret_list, char **ret_path) {
        size_t clen = strlen(controller);

        for (const char *line = text; line && *line;) {
                const char *eol = strchrnul(line, '\n');
                const char *c1 = memchr(line, ':', (size_t) (eol - line));
                const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t) (eol - c1 - 1)) : NULL;

                if (c2) {
                        /* Each comma-separated controller of this hierarchy. */
                        for (const char *p = c1 + 1; p < c2;) {
                                size_t n = strcspn(p, ",:");

                                if (n == clen && strneq(p, controller, n)) {
                                        char *list = strndup(c1 + 1, (size_t) (c2 - c1 - 1));
                                        char *path = strndup(c2 + 1, (size_t) (eol - c2 - 1));

                                        if (!list || !path) {
                                                free(list);
                                                free(path);
                                                return -ENOMEM;
                                        }
                                        *ret_list = list;
                                        *ret_path = path;
                                        return 0;
                                }
                                p += n;
                                if (*p == ',')
                                        p++;
                        }
                }
                line = *eol ? eol + 1 : NULL;
        }
        return -ENOENT;
}

/* The path comes from the kernel (or a test file); refuse anything that
 * could lead outside the hierarchy when joined onto it. */
static bool cgroup_path_is_sane(const char *p) {
        if (p[0] != '/')
                return false;
        for (const char *s = p; *s;) {
                size_t n;

                s += strspn(s, "/");
                n = strcspn(s, "/");
                if ((n == 1 && s[0] == '.') || (n == 2 && strneq(s, "..", 2)))
                        return false;
                s += n;
        }
        return true;
}

static bool is_dir_at(int dirfd, const char *path) {
        struct stat st;

        return fstatat(dirfd, path, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* Where controller's container cgroups go: <root>/<hierarchy><own path>,
 * or the hierarchy's top when our own cgroup is not visible under root
 * (cgroupfs mounted from a cgroup below the hierarchy's root, without a
 * cgroup namespace).  -ENOENT if the controller is not mounted. */
static int resolve(const char *root, int root_fd, const char *self_text, const char *controller,
                   bool top, char **ret_base, int *ret_fd) {
        _cleanup_free_ char *list = NULL, *path = NULL, *rel = NULL, *base = NULL;
        const char *hier;
        int r, fd;

        r = self_lookup(self_text, controller, &list, &path);
        if (r < 0)
                return r;
        /* Mounted as "cpu,cpuacct" (often with "cpu" as a symlink to it) or
         * on its own. */
        if (is_dir_at(root_fd, list))
                hier = list;
        else if (is_dir_at(root_fd, controller))
                hier = controller;
        else
                return -ENOENT;
        if (!cgroup_path_is_sane(path))
                return -EINVAL;

        /* top: an absolute limits.path, taken from the hierarchy's root. */
        if (asprintf(&rel, "%s%s", hier, top || streq(path, "/") ? "" : path) < 0)
                return -ENOMEM;
        fd = openat(root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                free(rel);
                rel = strdup(hier);
                if (!rel)
                        return -ENOMEM;
                fd = openat(root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (fd < 0)
                return -errno;
        if (asprintf(&base, "%s%s%s", root, root[strlen(root) - 1] == '/' ? "" : "/", rel) < 0) {
                safe_close(fd);
                return -ENOMEM;
        }
        *ret_base = TAKE_PTR(base);
        *ret_fd = fd;
        return 0;
}

int cgroup_v1_add_dirs(Cgroup *cg, const char *root, const char *self_cgroup_file,
                       const CgroupLimits *limits, bool all_controllers,
                       const char **ret_missing) {
        _cleanup_free_ char *self_text = NULL;
        _cleanup_close_ int root_fd = -1;
        int r;

        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return -errno;
        r = cg_read(AT_FDCWD, self_cgroup_file, &self_text);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(v1_controllers); i++) {
                _cleanup_free_ char *base = NULL;
                _cleanup_close_ int fd = -1;
                bool merged = false;

                bool wanted = all_controllers || limits->path;
                bool needed = true;

                /* memory and pids always (to kill everything and see OOM
                 * kills), cpu and cpuset only for their limits or a
                 * limits.path (where a caller will look for them). */
                if (v1_controllers[i].bit == CG_CPU) {
                        needed = limits->cpu_quota_usec > 0 || limits->cpu_shares > 0;
                        if (!needed && !wanted)
                                continue;
                }
                if (v1_controllers[i].bit == CG_CPUSET) {
                        needed = limits->cpus || limits->mems;
                        if (!needed && !wanted)
                                continue;
                }
                /* freezer only when asked for (shuttle-oci pause), and
                 * only where there is one. */
                if (v1_controllers[i].bit == CG_FREEZER && !limits->freezer && !all_controllers)
                        continue;
                if (v1_controllers[i].bit == CG_DEVICES && !limits->has_devices && !all_controllers)
                        continue;

                r = resolve(root, root_fd, self_text, v1_controllers[i].name,
                            limits->path && limits->path[0] == '/', &base, &fd);
                if (r == -ENOENT) {
                        /* Without a devices hierarchy the rules are not
                         * enforced: cgroup_enforces_devices() says so. */
                        if (all_controllers || !needed || v1_controllers[i].bit == CG_FREEZER ||
                            v1_controllers[i].bit == CG_DEVICES)
                                continue;
                        if (ret_missing)
                                *ret_missing = v1_controllers[i].name;
                        return -EOPNOTSUPP;
                }
                if (r < 0)
                        return r;

                /* Controllers co-mounted in one hierarchy share a directory. */
                for (size_t j = 0; j < cg->n_dirs; j++)
                        if (streq(cg->dirs[j].base, base)) {
                                cg->dirs[j].mask |= v1_controllers[i].bit;
                                merged = true;
                        }
                if (merged)
                        continue;
                r = cg_add_dir(cg, v1_controllers[i].bit, base, fd);
                if (r < 0)
                        return r;
                TAKE_FD(fd);
        }
        return 0;
}

int cgroup_v1_apply(Cgroup *cg, const CgroupLimits *limits) {
        CgroupDir *d;
        int r;

        if (limits->memory_bytes > 0) {
                d = cg_find_dir(cg, CG_MEMORY);
                if (!d)
                        return -ENOENT;
                r = cg_write_u64(d->fd, "memory.limit_in_bytes", limits->memory_bytes);
                if (r < 0)
                        return r;
                /* With swap accounting on, memory+swap gets the same limit,
                 * so a container cannot dodge its limit by swapping.  Set
                 * after memory.limit_in_bytes: memsw may never be lower. */
                if (cg_file_exists(d->fd, "memory.memsw.limit_in_bytes")) {
                        r = cg_write_u64(d->fd, "memory.memsw.limit_in_bytes", limits->memory_bytes);
                        if (r < 0)
                                return r;
                }
        }
        if (limits->pids_max > 0) {
                d = cg_find_dir(cg, CG_PIDS);
                if (!d && !limits->pids_default)
                        return -ENOENT;
                r = d ? cg_write_u64(d->fd, "pids.max", limits->pids_max) : 0;
                if (r < 0)
                        return r;
        }
        if (limits->has_devices && (d = cg_find_dir(cg, CG_DEVICES))) {
                /* Everything denied, then the rules in order. */
                r = cg_write(d->fd, "devices.deny", "a");
                if (r < 0)
                        return r;
                for (size_t i = 0; i < limits->n_devices; i++) {
                        const CgroupDeviceRule *e = &limits->devices[i];
                        char line[96], maj[24] = "*", min[24] = "*";

                        if (e->major >= 0)
                                snprintf(maj, sizeof(maj), "%" PRId64, e->major);
                        if (e->minor >= 0)
                                snprintf(min, sizeof(min), "%" PRId64, e->minor);
                        if (e->type == 'a')
                                snprintf(line, sizeof(line), "a");
                        else
                                snprintf(line, sizeof(line), "%c %s:%s %s", e->type, maj, min,
                                         e->access[0] ? e->access : "rwm");
                        r = cg_write(d->fd, e->allow ? "devices.allow" : "devices.deny", line);
                        if (r < 0)
                                return r;
                }
        }
        if (limits->cpu_quota_usec > 0) {
                d = cg_find_dir(cg, CG_CPU);
                if (!d)
                        return -ENOENT;
                r = cg_write_u64(d->fd, "cpu.cfs_period_us", limits->cpu_period_usec);
                if (r < 0)
                        return r;
                r = cg_write_u64(d->fd, "cpu.cfs_quota_us", limits->cpu_quota_usec);
                if (r < 0)
                        return r;
        }
        if (limits->cpu_shares > 0) {
                d = cg_find_dir(cg, CG_CPU);
                if (!d)
                        return -ENOENT;
                r = cg_write_u64(d->fd, "cpu.shares", limits->cpu_shares);
                if (r < 0)
                        return r;
        }
        if (limits->cpus || limits->mems) {
                d = cg_find_dir(cg, CG_CPUSET);
                if (!d)
                        return -ENOENT;
                if (limits->cpus && (r = cg_write(d->fd, "cpuset.cpus", limits->cpus)) < 0)
                        return r;
                if (limits->mems && (r = cg_write(d->fd, "cpuset.mems", limits->mems)) < 0)
                        return r;
        }
        return 0;
}

int cgroup_v1_oom_kill_count(Cgroup *cg, uint64_t *ret) {
        _cleanup_free_ char *text = NULL;
        CgroupDir *d = cg_find_dir(cg, CG_MEMORY);
        int r;

        if (!d)
                return -ENOENT;
        /* "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n"; the oom_kill line
         * exists since Linux 4.13. */
        r = cg_read(d->fd, "memory.oom_control", &text);
        if (r < 0)
                return r;
        return cg_parse_keyed(text, "oom_kill", ret);
}
