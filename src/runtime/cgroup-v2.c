/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v2 backend: <root>/shuttle/<name>, with only the controllers the
 * limits need enabled on the way down. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "common/macro.h"
#include "runtime/cgroup-bpf.h"
#include "runtime/cgroup-internal.h"

static const struct {
        unsigned bit;
        const char *name;
} v2_controllers[] = {
        { CG_MEMORY, "memory" },
        { CG_PIDS, "pids" },
        { CG_CPU, "cpu" },
        { CG_CPUSET, "cpuset" },
};

static unsigned needed_mask(const CgroupLimits *l) {
        return (l->memory_bytes > 0 ? CG_MEMORY : 0) | (l->pids_max > 0 ? CG_PIDS : 0) |
               (l->cpu_quota_usec > 0 || l->cpu_shares > 0 ? CG_CPU : 0) |
               (l->cpus || l->mems ? CG_CPUSET : 0);
}

int cgroup_v2_prepare(Cgroup *cg, const char *root, const CgroupLimits *limits,
                      bool check_only, char **ret_subtree, const char **ret_missing) {
        _cleanup_free_ char *available = NULL, *subtree = NULL;
        _cleanup_close_ int root_fd = -1;
        unsigned mask = needed_mask(limits);
        int r;

        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return -errno;

        if (mask != 0) {
                char buf[96] = "";

                r = cg_read(root_fd, "cgroup.controllers", &available);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < ELEMENTSOF(v2_controllers); i++) {
                        if (!(mask & v2_controllers[i].bit))
                                continue;
                        if (!cg_list_has(available, v2_controllers[i].name) &&
                            v2_controllers[i].bit == CG_PIDS && limits->pids_default) {
                                /* The default limit is a safety net, not a
                                 * requirement: no pids controller, no net. */
                                mask &= ~(unsigned) CG_PIDS;
                                continue;
                        }
                        if (!cg_list_has(available, v2_controllers[i].name)) {
                                if (ret_missing)
                                        *ret_missing = v2_controllers[i].name;
                                return -EOPNOTSUPP;
                        }
                        if (buf[0])
                                strcat(buf, " ");
                        strcat(buf, "+");
                        strcat(buf, v2_controllers[i].name);
                }
                subtree = strdup(buf);
                if (!subtree)
                        return -ENOMEM;

                /* The root may hold processes and still delegate
                 * controllers ("no internal processes" does not apply to
                 * it); enabling what is already enabled is a no-op. */
                if (!check_only) {
                        r = cg_write(root_fd, "cgroup.subtree_control", subtree);
                        if (r < 0)
                                return r;
                }
        }

        r = cg_add_dir(cg, mask, root, root_fd);
        if (r < 0)
                return r;
        TAKE_FD(root_fd);
        if (ret_subtree)
                *ret_subtree = TAKE_PTR(subtree);
        return 0;
}

int cgroup_v2_apply(Cgroup *cg, const CgroupLimits *limits) {
        CgroupDir *d = &cg->dirs[0];
        int r;

        if (d->fd < 0)
                return -ENOENT;
        if (limits->memory_bytes > 0) {
                r = cg_write_u64(d->fd, "memory.max", limits->memory_bytes);
                if (r < 0)
                        return r;
                /* No swap, so the limit cannot be dodged by swapping (the
                 * file exists only with swap accounting). */
                if (cg_file_exists(d->fd, "memory.swap.max")) {
                        r = cg_write(d->fd, "memory.swap.max", "0");
                        if (r < 0)
                                return r;
                }
        }
        if (limits->pids_max > 0 && (!limits->pids_default || cg_file_exists(d->fd, "pids.max"))) {
                r = cg_write_u64(d->fd, "pids.max", limits->pids_max);
                if (r < 0)
                        return r;
        }
        if (limits->cpu_quota_usec > 0) {
                char buf[64];

                snprintf(buf, sizeof buf, "%" PRIu64 " %" PRIu64, limits->cpu_quota_usec,
                         limits->cpu_period_usec);
                r = cg_write(d->fd, "cpu.max", buf);
                if (r < 0)
                        return r;
        }
        if (limits->cpu_shares > 0) {
                /* runc's and crun's conversion: 2..262144 onto 1..10000. */
                r = cg_write_u64(d->fd, "cpu.weight", 1 + ((limits->cpu_shares - 2) * 9999) / 262142);
                if (r < 0)
                        return r;
        }
        if (limits->cpus && (r = cg_write(d->fd, "cpuset.cpus", limits->cpus)) < 0)
                return r;
        if (limits->mems && (r = cg_write(d->fd, "cpuset.mems", limits->mems)) < 0)
                return r;
        if (limits->has_devices) {
                struct statfs sfs;

                /* Only a real cgroup2 takes a program (the unit tests' tmpfs
                 * trees do not). */
                if (fstatfs(d->fd, &sfs) < 0)
                        return -errno;
                if (sfs.f_type != CGROUP2_SUPER_MAGIC)
                        return 0;
                r = cgroup_device_filter_apply(d->fd, limits->devices, limits->n_devices);
                if (r >= 0)
                        cg->devices_bpf = true;
                else if (r != -EPERM && r != -EINVAL && r != -ENOSYS && r != -EOPNOTSUPP)
                        return r;
                /* else: a kernel without cgroup device programs, or no
                 * right to load one (bpf(2) refused in a user namespace):
                 * not enforced, cgroup_enforces_devices() says so. */
        }
        return 0;
}

int cgroup_v2_oom_kill_count(Cgroup *cg, uint64_t *ret) {
        _cleanup_free_ char *text = NULL;
        CgroupDir *d = &cg->dirs[0];
        int r;

        if (d->fd < 0)
                return -ENOENT;
        /* No memory controller here means no memory limit was asked for:
         * nothing in this cgroup can hit one. */
        if (!(d->mask & CG_MEMORY) && !cg_file_exists(d->fd, "memory.events")) {
                *ret = 0;
                return 0;
        }
        r = cg_read(d->fd, "memory.events", &text);
        if (r < 0)
                return r;
        return cg_parse_keyed(text, "oom_kill", ret);
}
