/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A running container's cgroup, by the directories its state recorded
 * (cgroup_paths()): its limits changed all together or not at all
 * (shuttle-oci update), what it uses read (shuttle-oci events), its
 * OOM kills counted and its processes frozen or thawed. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "common/parse.h"
#include "runtime/cgroup-internal.h"

/* The directory of each controller: one on v2; on v1 the one (of the
 * recorded paths) whose hierarchy has the controller's files. */
typedef struct LiveDirs {
        CgroupVersion version;
        size_t n;
        int fds[CGROUP_MAX_DIRS];
        char *paths[CGROUP_MAX_DIRS];
} LiveDirs;

static void live_dirs_done(LiveDirs *l) {
        for (size_t i = 0; i < l->n; i++)
                safe_close(l->fds[i]);
        l->n = 0;
}

static int live_dirs_open(char *const *paths, LiveDirs *ret) {
        LiveDirs l = {};

        for (char *const *p = paths; p && *p; p++) {
                struct statfs sfs;
                CgroupVersion v;
                int fd;

                if (l.n >= CGROUP_MAX_DIRS)
                        break;
                fd = open(*p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                        int r = -errno;
                        live_dirs_done(&l);
                        return r;
                }
                /* The paths come from a state file: only a cgroupfs. */
                if (fstatfs(fd, &sfs) < 0 ||
                    (sfs.f_type != CGROUP_SUPER_MAGIC && sfs.f_type != CGROUP2_SUPER_MAGIC)) {
                        close(fd);
                        live_dirs_done(&l);
                        return -EMEDIUMTYPE;
                }
                v = sfs.f_type == CGROUP2_SUPER_MAGIC ? CGROUP_V2 : CGROUP_V1;
                if (l.n > 0 && v != l.version) {
                        close(fd);
                        live_dirs_done(&l);
                        return -EINVAL;
                }
                l.version = v;
                l.paths[l.n] = *p;
                l.fds[l.n++] = fd;
        }
        if (l.n == 0)
                return -ENOENT;
        *ret = l;
        return 0;
}

/* The directory that has file, or -1. */
static int live_dir_with(const LiveDirs *l, const char *file) {
        for (size_t i = 0; i < l->n; i++)
                if (cg_file_exists(l->fds[i], file))
                        return l->fds[i];
        return -1;
}

/* ---- update ---- */

typedef struct Write {
        int dirfd;
        const char *file;
        char value[64];
        const char *field;
        char *old;              /* what was there, to put back */
        bool done;
} Write;

#define MAX_WRITES 32

typedef struct Plan {
        Write w[MAX_WRITES];
        size_t n;
        const char *failed;     /* the field at fault */
} Plan;

static int plan_add(Plan *p, int dirfd, const char *file, const char *field, const char *fmt, ...)
        _printf_(5, 6);
static int plan_add(Plan *p, int dirfd, const char *file, const char *field, const char *fmt, ...) {
        va_list ap;
        Write *w;

        if (dirfd < 0) {
                p->failed = field;
                return -EOPNOTSUPP;
        }
        if (p->n >= MAX_WRITES) {
                p->failed = field;
                return -E2BIG;
        }
        w = &p->w[p->n++];
        *w = (Write){ .dirfd = dirfd, .file = file, .field = field };
        va_start(ap, fmt);
        vsnprintf(w->value, sizeof(w->value), fmt, ap);
        va_end(ap);
        return 0;
}

/* v2: a controller's files appear in a cgroup once its parent enables
 * the controller for its children; the runtime enabled only those the
 * container's limits needed at create.  Enables ctrl on the way down to
 * dir, from the first ancestor that has it available.  The parents hold
 * no processes of their own (shuttle/, or a cgroupsPath's parents as the
 * caller made them), so the kernel allows it; what this enables stays
 * (it limits nothing by itself). */
static int v2_enable(const char *dir, const char *ctrl, unsigned depth) {
        _cleanup_free_ char *parent = NULL, *avail = NULL, *sub = NULL;
        _cleanup_close_ int pfd = -1;
        char plus[32];
        char *slash;
        int r;

        if (depth > 16)
                return -ELOOP;
        parent = strdup(dir);
        if (!parent)
                return -ENOMEM;
        slash = strrchr(parent, '/');
        if (!slash || slash == parent)
                return -EOPNOTSUPP;
        *slash = '\0';
        pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0)
                return -errno;
        r = cg_read(pfd, "cgroup.subtree_control", &sub);
        if (r < 0)
                return r == -ENOENT ? -EOPNOTSUPP : r;
        if (cg_list_has(sub, ctrl))
                return 0;
        r = cg_read(pfd, "cgroup.controllers", &avail);
        if (r < 0)
                return r;
        if (!cg_list_has(avail, ctrl)) {
                r = v2_enable(parent, ctrl, depth + 1);
                if (r < 0)
                        return r;
        }
        snprintf(plus, sizeof(plus), "+%s", ctrl);
        return cg_write(pfd, "cgroup.subtree_control", plus);
}

static int v2_dir_for(const LiveDirs *l, const char *file, const char *ctrl) {
        if (!cg_file_exists(l->fds[0], file) && v2_enable(l->paths[0], ctrl, 0) < 0)
                return -1;
        return cg_file_exists(l->fds[0], file) ? l->fds[0] : -1;
}

static int read_trimmed(int dirfd, const char *file, char **ret) {
        char *s;
        int r;

        r = cg_read(dirfd, file, &s);
        if (r < 0)
                return r;
        s[strcspn(s, "\n")] = '\0';
        *ret = s;
        return 0;
}

static bool plain_file_name(const char *s) {
        return s[0] && s[0] != '.' && !strchr(s, '/') && strlen(s) < 64;
}

static int plan_v1(Plan *p, const LiveDirs *l, const CgroupUpdate *u) {
        int mem = live_dir_with(l, "memory.limit_in_bytes"), cpu = live_dir_with(l, "cpu.shares"),
            cfs = live_dir_with(l, "cpu.cfs_quota_us"), pids = live_dir_with(l, "pids.max"),
            cpuset = live_dir_with(l, "cpuset.cpus");
        int r;

        if (u->has_memory) {
                char v[32];
                bool memsw = mem >= 0 && cg_file_exists(mem, "memory.memsw.limit_in_bytes");

                snprintf(v, sizeof(v), "%" PRId64, u->memory_bytes > 0 ? u->memory_bytes : -1);
                if (memsw) {
                        /* memory+swap gets the limit too (no swap, as at
                         * create), and may never be below the memory
                         * limit: raised first, lowered second. */
                        _cleanup_free_ char *cur = NULL;
                        uint64_t old = 0, new = u->memory_bytes > 0 ? (uint64_t) u->memory_bytes : UINT64_MAX;
                        bool raise;

                        r = read_trimmed(mem, "memory.memsw.limit_in_bytes", &cur);
                        if (r < 0) {
                                p->failed = "memory.limit";
                                return r;
                        }
                        raise = parse_uint64(cur, &old) < 0 || new >= old;
                        if (raise && (r = plan_add(p, mem, "memory.memsw.limit_in_bytes", "memory.limit", "%s", v)) < 0)
                                return r;
                        if ((r = plan_add(p, mem, "memory.limit_in_bytes", "memory.limit", "%s", v)) < 0)
                                return r;
                        if (!raise && (r = plan_add(p, mem, "memory.memsw.limit_in_bytes", "memory.limit", "%s", v)) < 0)
                                return r;
                } else if ((r = plan_add(p, mem, "memory.limit_in_bytes", "memory.limit", "%s", v)) < 0)
                        return r;
        }
        if (u->has_memory_reservation &&
            (r = plan_add(p, mem, "memory.soft_limit_in_bytes", "memory.reservation", "%" PRId64,
                          u->memory_reservation > 0 ? u->memory_reservation : -1)) < 0)
                return r;
        if (u->has_pids) {
                if (u->pids_max > 0)
                        r = plan_add(p, pids, "pids.max", "pids.limit", "%" PRId64, u->pids_max);
                else
                        r = plan_add(p, pids, "pids.max", "pids.limit", "max");
                if (r < 0)
                        return r;
        }
        if (u->has_cpu_shares && (r = plan_add(p, cpu, "cpu.shares", "cpu.shares", "%" PRIu64, u->cpu_shares)) < 0)
                return r;
        if (u->has_cpu_period &&
            (r = plan_add(p, cfs, "cpu.cfs_period_us", "cpu.period", "%" PRIu64, u->cpu_period)) < 0)
                return r;
        if (u->has_cpu_quota &&
            (r = plan_add(p, cfs, "cpu.cfs_quota_us", "cpu.quota", "%" PRId64, u->cpu_quota > 0 ? u->cpu_quota : -1)) < 0)
                return r;
        if (u->cpus && (r = plan_add(p, cpuset, "cpuset.cpus", "cpu.cpus", "%s", u->cpus)) < 0)
                return r;
        if (u->mems && (r = plan_add(p, cpuset, "cpuset.mems", "cpu.mems", "%s", u->mems)) < 0)
                return r;
        if (u->n_unified > 0) {
                p->failed = "unified";
                return -EOPNOTSUPP;
        }
        return 0;
}

static int plan_v2(Plan *p, const LiveDirs *l, const CgroupUpdate *u) {
        int r;

        if (u->has_memory &&
            (r = u->memory_bytes > 0
                         ? plan_add(p, v2_dir_for(l, "memory.max", "memory"), "memory.max", "memory.limit",
                                    "%" PRId64, u->memory_bytes)
                         : plan_add(p, v2_dir_for(l, "memory.max", "memory"), "memory.max", "memory.limit", "max")) < 0)
                return r;
        /* No swap, as at create (where the memory controller is new, its
         * swap limit is "max"). */
        if (u->has_memory && u->memory_bytes > 0 && cg_file_exists(l->fds[0], "memory.swap.max") &&
            (r = plan_add(p, l->fds[0], "memory.swap.max", "memory.limit", "0")) < 0)
                return r;
        if (u->has_memory_reservation &&
            (r = plan_add(p, v2_dir_for(l, "memory.low", "memory"), "memory.low", "memory.reservation",
                          "%" PRId64, u->memory_reservation > 0 ? u->memory_reservation : 0)) < 0)
                return r;
        if (u->has_pids) {
                int fd = v2_dir_for(l, "pids.max", "pids");
                r = u->pids_max > 0 ? plan_add(p, fd, "pids.max", "pids.limit", "%" PRId64, u->pids_max)
                                    : plan_add(p, fd, "pids.max", "pids.limit", "max");
                if (r < 0)
                        return r;
        }
        if (u->has_cpu_shares &&
            (r = plan_add(p, v2_dir_for(l, "cpu.weight", "cpu"), "cpu.weight", "cpu.shares", "%" PRIu64,
                          1 + ((u->cpu_shares - 2) * 9999) / 262142)) < 0)
                return r;
        if (u->has_cpu_quota || u->has_cpu_period) {
                /* One file for both: what is not given stays. */
                _cleanup_free_ char *cur = NULL;
                const char *field = u->has_cpu_quota ? "cpu.quota" : "cpu.period";
                int fd = v2_dir_for(l, "cpu.max", "cpu");
                char quota[24] = "max";
                uint64_t period = 100000;

                if (fd >= 0 && read_trimmed(fd, "cpu.max", &cur) >= 0) {
                        char *sp = strchr(cur, ' ');
                        if (sp) {
                                *sp = '\0';
                                (void) parse_uint64(sp + 1, &period);
                                snprintf(quota, sizeof(quota), "%s", cur);
                        }
                }
                if (u->has_cpu_quota) {
                        if (u->cpu_quota > 0)
                                snprintf(quota, sizeof(quota), "%" PRId64, u->cpu_quota);
                        else
                                strcpy(quota, "max");
                }
                if (u->has_cpu_period)
                        period = u->cpu_period;
                r = plan_add(p, fd, "cpu.max", field, "%s %" PRIu64, quota, period);
                if (r < 0)
                        return r;
        }
        if (u->cpus && (r = plan_add(p, v2_dir_for(l, "cpuset.cpus", "cpuset"), "cpuset.cpus", "cpu.cpus", "%s",
                                     u->cpus)) < 0)
                return r;
        if (u->mems && (r = plan_add(p, v2_dir_for(l, "cpuset.mems", "cpuset"), "cpuset.mems", "cpu.mems", "%s",
                                     u->mems)) < 0)
                return r;
        for (size_t i = 0; i < u->n_unified; i++) {
                const char *k = u->unified_keys[i];

                /* A file of this cgroup, nothing else: no path, no
                 * cgroup.* file that moves processes or controllers. */
                if (!plain_file_name(k) || strneq(k, "cgroup.", 7) || strlen(u->unified_values[i]) >= 64) {
                        p->failed = "unified";
                        return -EINVAL;
                }
                r = plan_add(p, cg_file_exists(l->fds[0], k) ? l->fds[0] : -1, k, "unified", "%s",
                             u->unified_values[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cgroup_update_paths(char *const *paths, const CgroupUpdate *u, const char **ret_field) {
        LiveDirs l = {};
        Plan p = {};
        int r;

        r = live_dirs_open(paths, &l);
        if (r < 0)
                return r;
        r = l.version == CGROUP_V2 ? plan_v2(&p, &l, u) : plan_v1(&p, &l, u);
        if (r < 0)
                goto out;

        /* What is there now, for putting it back if a later write fails. */
        for (size_t i = 0; i < p.n; i++) {
                r = read_trimmed(p.w[i].dirfd, p.w[i].file, &p.w[i].old);
                if (r < 0) {
                        p.failed = p.w[i].field;
                        goto out;
                }
        }
        for (size_t i = 0; i < p.n; i++) {
                r = cg_write(p.w[i].dirfd, p.w[i].file, p.w[i].value);
                if (r < 0) {
                        p.failed = p.w[i].field;
                        /* Undone in reverse order, which keeps v1's
                         * memory <= memory+swap at every step. */
                        for (size_t j = i; j-- > 0;)
                                (void) cg_write(p.w[j].dirfd, p.w[j].file, p.w[j].old);
                        goto out;
                }
        }
        r = 0;
out:
        if (r < 0 && ret_field)
                *ret_field = p.failed;
        for (size_t i = 0; i < p.n; i++)
                free(p.w[i].old);
        live_dirs_done(&l);
        return r;
}

/* ---- stats ---- */

static void read_u64(int dirfd, const char *file, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;

        if (dirfd < 0 || read_trimmed(dirfd, file, &s) < 0)
                return;
        if (streq(s, "max"))
                *ret = UINT64_MAX;
        else
                (void) parse_uint64(s, ret);
}

static void read_keyed(int dirfd, const char *file, const char *key, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;

        if (dirfd >= 0 && cg_read(dirfd, file, &s) >= 0)
                (void) cg_parse_keyed(s, key, ret);
}

static int read_raw(int dirfd, const char *file, CgroupStats *st) {
        _cleanup_free_ char *s = NULL;

        if (dirfd < 0 || cg_read(dirfd, file, &s) < 0)
                return 0;
        for (char *line = s, *next; line && *line; line = next) {
                char *sp, *end;
                uint64_t v;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                sp = strchr(line, ' ');
                if (!sp || st->n_raw >= CGROUP_STATS_RAW_MAX)
                        continue;
                *sp = '\0';
                end = sp + 1;
                if (parse_uint64(end, &v) < 0 || strlen(line) >= sizeof(st->raw[0].key))
                        continue;
                snprintf(st->raw[st->n_raw].key, sizeof(st->raw[0].key), "%s", line);
                st->raw[st->n_raw++].value = v;
        }
        return 0;
}

int cgroup_stats_paths(char *const *paths, CgroupStats *ret) {
        CgroupStats st = {};
        LiveDirs l = {};
        int r;

        r = live_dirs_open(paths, &l);
        if (r < 0)
                return r;
        if (l.version == CGROUP_V2) {
                int fd = l.fds[0];
                uint64_t usec = 0;

                read_keyed(fd, "cpu.stat", "usage_usec", &usec);
                st.cpu_total_ns = usec * 1000;
                usec = 0;
                read_keyed(fd, "cpu.stat", "user_usec", &usec);
                st.cpu_user_ns = usec * 1000;
                usec = 0;
                read_keyed(fd, "cpu.stat", "system_usec", &usec);
                st.cpu_kernel_ns = usec * 1000;
                read_keyed(fd, "cpu.stat", "nr_periods", &st.cpu_periods);
                read_keyed(fd, "cpu.stat", "nr_throttled", &st.cpu_throttled_periods);
                usec = 0;
                read_keyed(fd, "cpu.stat", "throttled_usec", &usec);
                st.cpu_throttled_ns = usec * 1000;
                read_u64(fd, "memory.current", &st.memory_usage);
                read_u64(fd, "memory.peak", &st.memory_max_usage);
                st.memory_limit = UINT64_MAX;
                read_u64(fd, "memory.max", &st.memory_limit);
                read_keyed(fd, "memory.events", "max", &st.memory_failcnt);
                read_u64(fd, "memory.swap.current", &st.swap_usage);
                st.swap_limit = UINT64_MAX;
                read_u64(fd, "memory.swap.max", &st.swap_limit);
                read_keyed(fd, "memory.stat", "file", &st.memory_cache);
                read_raw(fd, "memory.stat", &st);
                read_keyed(fd, "memory.events", "oom_kill", &st.oom_kills);
                read_u64(fd, "pids.current", &st.pids_current);
                read_u64(fd, "pids.max", &st.pids_limit);
        } else {
                int acct = live_dir_with(&l, "cpuacct.usage"), cpu = live_dir_with(&l, "cpu.stat"),
                    mem = live_dir_with(&l, "memory.usage_in_bytes"), pids = live_dir_with(&l, "pids.current");
                long hz = sysconf(_SC_CLK_TCK);
                uint64_t ticks = 0;

                read_u64(acct, "cpuacct.usage", &st.cpu_total_ns);
                if (hz > 0) {
                        read_keyed(acct, "cpuacct.stat", "user", &ticks);
                        st.cpu_user_ns = ticks * (1000000000ULL / (uint64_t) hz);
                        ticks = 0;
                        read_keyed(acct, "cpuacct.stat", "system", &ticks);
                        st.cpu_kernel_ns = ticks * (1000000000ULL / (uint64_t) hz);
                }
                read_keyed(cpu, "cpu.stat", "nr_periods", &st.cpu_periods);
                read_keyed(cpu, "cpu.stat", "nr_throttled", &st.cpu_throttled_periods);
                read_keyed(cpu, "cpu.stat", "throttled_time", &st.cpu_throttled_ns);
                read_u64(mem, "memory.usage_in_bytes", &st.memory_usage);
                read_u64(mem, "memory.max_usage_in_bytes", &st.memory_max_usage);
                read_u64(mem, "memory.limit_in_bytes", &st.memory_limit);
                read_u64(mem, "memory.failcnt", &st.memory_failcnt);
                read_u64(mem, "memory.memsw.usage_in_bytes", &st.swap_usage);
                read_u64(mem, "memory.memsw.limit_in_bytes", &st.swap_limit);
                read_keyed(mem, "memory.stat", "cache", &st.memory_cache);
                read_raw(mem, "memory.stat", &st);
                read_keyed(mem, "memory.oom_control", "oom_kill", &st.oom_kills);
                read_u64(pids, "pids.current", &st.pids_current);
                read_u64(pids, "pids.max", &st.pids_limit);
        }
        live_dirs_done(&l);
        *ret = st;
        return 0;
}

int cgroup_path_oom_kill_count(const char *path, uint64_t *ret) {
        static const char *const files[] = { "memory.oom_control", "memory.events" }; /* v1, v2 */
        _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dfd < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *text = NULL;
                if (read_file_at(dfd, files[i], 4096, &text, NULL) >= 0)
                        return cg_parse_keyed(text, "oom_kill", ret);
        }
        return -ENOENT;
}

int cgroup_freeze_path(const char *const *paths, bool freeze) {
        bool found = false;

        for (const char *const *p = paths; p && *p; p++) {
                _cleanup_close_ int fd = open(*p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                int r;

                if (fd < 0)
                        return -errno;
                /* v1: the freezer hierarchy's directory; v2: any. */
                if (faccessat(fd, "freezer.state", F_OK, 0) == 0)
                        r = write_file_at(fd, "freezer.state", freeze ? "FROZEN" : "THAWED");
                else if (faccessat(fd, "cgroup.freeze", F_OK, 0) == 0)
                        r = write_file_at(fd, "cgroup.freeze", freeze ? "1" : "0");
                else
                        continue;
                if (r < 0)
                        return r;
                found = true;
        }
        return found ? 0 : -EOPNOTSUPP;
}
