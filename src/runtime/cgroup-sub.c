/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup-sub: a cgroup of its own below a running container's cgroup
 * directories, for one invoked app and everything it starts (see
 * cgroup.h).  It is ended in rounds that never wait, so a single-threaded
 * event loop can drive them: forks are stopped first, then what is listed
 * is killed, until the cgroup is empty and can be removed. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "common/parse.h"
#include "runtime/cgroup-internal.h"

/* Bounds: pids read per round from one cgroup.procs, leftover pids
 * remembered for the count, stale cgroups removed at once. */
#define SUB_PIDS_MAX 65536
#define SUB_STALE_MAX 256
#define SUB_STALE_TIMEOUT_NSEC (2ULL * 1000 * 1000 * 1000)
#define SUB_STALE_POLL_USEC 10000

struct CgroupSub {
        const CgroupOps *ops;
        char *name;
        size_t n;
        int parent_fd[CGROUP_MAX_DIRS];
        int fd[CGROUP_MAX_DIRS]; /* -1 once removed (or never there) */
        int attach_fd[CGROUP_MAX_DIRS]; /* cgroup_sub_attach_fds()'s, kept until freed */
        size_t n_attach;
        char *paths[CGROUP_MAX_DIRS + 1];
        bool stopped;            /* forks stopped (pids.max 0, cgroup.freeze 1) */
        pid_t spare_pid;         /* not counted as a leftover */
        pid_t *seen;             /* leftovers signalled so far, sorted */
        size_t n_seen;
};

bool cgroup_sub_name_is_valid(const char *name) {
        size_t n = strlen(CGROUP_SUB_PREFIX), len = strlen(name);

        if (len <= n || len > 64 || !strneq(name, CGROUP_SUB_PREFIX, n))
                return false;
        /* Digits and dashes only after the prefix: nothing that reads as a
         * path, an interface file ("cgroup.*") or a hidden entry. */
        return strspn(name + n, "0123456789-") == len - n;
}

CgroupSub *cgroup_sub_free(CgroupSub *s) {
        int saved = errno;

        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++) {
                safe_close(s->fd[i]);
                safe_close(s->parent_fd[i]);
                free(s->paths[i]);
        }
        for (size_t i = 0; i < s->n_attach; i++)
                safe_close(s->attach_fd[i]);
        free(s->seen);
        free(s->name);
        free(s);
        errno = saved;
        return NULL;
}

/* A CgroupSub for name below each of parents, opening (create = false) or
 * making each directory. */
static int sub_new(const CgroupOps *ops, char *const *parents, const char *name, bool create, CgroupSub **ret) {
        _cleanup_cgroup_sub_ CgroupSub *s = NULL;
        int r;

        if (!cgroup_sub_name_is_valid(name))
                return -EINVAL;
        s = calloc(1, sizeof(*s));
        if (!s || !(s->name = strdup(name)))
                return -ENOMEM;
        s->ops = ops;
        for (size_t i = 0; parents && parents[i]; i++) {
                if (i >= CGROUP_MAX_DIRS)
                        return -E2BIG;
                s->fd[i] = -1;
                s->parent_fd[i] = -1;
                s->n = i + 1;
                if (asprintf(&s->paths[i], "%s/%s", parents[i], name) < 0) {
                        s->paths[i] = NULL;
                        return -ENOMEM;
                }
                s->parent_fd[i] = open(parents[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (s->parent_fd[i] < 0) {
                        if (!create && errno == ENOENT)
                                continue; /* a leftover's hierarchy: gone already */
                        r = -errno;
                        if (create)
                                (void) cgroup_sub_remove(s);
                        return r;
                }
                if (create) {
                        r = ops->mkdir(ops, s->parent_fd[i], name);
                        if (r < 0) {
                                /* Only what we made goes again. */
                                s->parent_fd[i] = safe_close(s->parent_fd[i]);
                                (void) cgroup_sub_remove(s);
                                return r;
                        }
                }
                s->fd[i] = openat(s->parent_fd[i], name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (s->fd[i] < 0 && (create || errno != ENOENT)) {
                        r = -errno;
                        if (create)
                                (void) cgroup_sub_remove(s);
                        return r;
                }
        }
        if (s->n == 0)
                return -ENOENT;
        *ret = TAKE_PTR(s);
        return 0;
}

int cgroup_sub_create_ops(const CgroupOps *ops, char *const *parents, const char *name, CgroupSub **ret) {
        return sub_new(ops, parents, name, true, ret);
}

/* The parents come from a state file: act only on a cgroupfs. */
static int check_cgroupfs(char *const *parents, bool missing_ok) {
        for (size_t i = 0; parents && parents[i]; i++) {
                struct statfs sfs;

                if (statfs(parents[i], &sfs) < 0) {
                        if (errno == ENOENT && missing_ok)
                                continue;
                        return -errno;
                }
                if (sfs.f_type != CGROUP_SUPER_MAGIC && sfs.f_type != CGROUP2_SUPER_MAGIC)
                        return -EMEDIUMTYPE;
        }
        return 0;
}

int cgroup_sub_create(char *const *parents, const char *name, CgroupSub **ret) {
        int r = check_cgroupfs(parents, false);

        return r < 0 ? r : cgroup_sub_create_ops(&cgroup_kernel_ops, parents, name, ret);
}

char *const *cgroup_sub_paths(const CgroupSub *s) {
        return s->paths;
}

int cgroup_sub_attach_files(const CgroupSub *s, int *ret_fds, size_t max, size_t *ret_n) {
        size_t n = 0;

        for (size_t i = 0; i < s->n; i++) {
                struct statfs sfs;
                const char *file;
                int fd;

                if (s->fd[i] < 0)
                        continue;
                if (fstatfs(s->fd[i], &sfs) < 0)
                        goto fail;
                file = sfs.f_type == CGROUP2_SUPER_MAGIC ? "cgroup.procs" : "tasks";
                if (n >= max) {
                        errno = E2BIG;
                        goto fail;
                }
                fd = openat(s->fd[i], file, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
                if (fd < 0)
                        goto fail;
                ret_fds[n++] = fd;
        }
        *ret_n = n;
        return 0;
fail:
        for (size_t i = 0; i < n; i++)
                safe_close(ret_fds[i]);
        return -errno;
}

int cgroup_sub_attach_fds(CgroupSub *s, const int **ret_fds, size_t *ret_n) {
        if (s->n_attach == 0) {
                int r = cgroup_sub_attach_files(s, s->attach_fd, ELEMENTSOF(s->attach_fd), &s->n_attach);
                if (r < 0) {
                        s->n_attach = 0;
                        return r;
                }
        }
        *ret_fds = s->attach_fd;
        *ret_n = s->n_attach;
        return 0;
}

int cgroup_sub_reusable(CgroupSub *s) {
        /* Stopped, or something found in it and signalled: not as new. */
        if (s->stopped || s->n_seen > 0)
                return 0;
        for (size_t i = 0; i < s->n; i++) {
                _cleanup_close_ int fd = -1;
                struct stat st;
                char c;
                ssize_t n;

                if (s->fd[i] < 0 || s->parent_fd[i] < 0)
                        return 0; /* removed, or never there */
                /* A directory's link count is 2 and one more for each
                 * directory in it: no cgroup below. */
                if (fstat(s->fd[i], &st) < 0)
                        return -errno;
                if (st.st_nlink != 2)
                        return 0;
                /* Opened afresh: v1 keeps the list an open cgroup.procs
                 * read first (for a while), so a kept one would go on
                 * saying "empty".  A byte means a process. */
                fd = openat(s->fd[i], "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
                if (fd < 0)
                        return errno == ENOENT || errno == ENODEV ? 0 : -errno;
                do
                        n = read(fd, &c, 1);
                while (n < 0 && errno == EINTR);
                if (n < 0)
                        return errno == ENODEV ? 0 : -errno;
                if (n > 0)
                        return 0;
        }
        s->spare_pid = 0;
        return 1;
}

unsigned cgroup_sub_killed(const CgroupSub *s) {
        return (unsigned) s->n_seen;
}

static int cmp_pid(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;

        return x < y ? -1 : x > y;
}

typedef struct PidList {
        pid_t *pids;
        size_t n;
} PidList;

static int append_pid(pid_t pid, void *userdata) {
        PidList *l = userdata;
        pid_t *p;

        if (l->n >= SUB_PIDS_MAX * CGROUP_MAX_DIRS)
                return 1; /* the rest in the next round */
        p = realloc(l->pids, (l->n + 1) * sizeof(pid_t));
        if (!p)
                return -ENOMEM;
        l->pids = p;
        l->pids[l->n++] = pid;
        return 0;
}

/* Appends the pids listed in every directory's cgroup.procs to *pids. */
static int list_procs(CgroupSub *s, pid_t **pids, size_t *n) {
        PidList l = { .pids = *pids, .n = *n };
        int r = 0;

        for (size_t i = 0; i < s->n && r >= 0; i++) {
                if (s->fd[i] < 0)
                        continue;
                r = cg_procs_foreach(s->fd[i], append_pid, &l);
                if (r == -ENOENT || r == -ENODEV) /* removed under us */
                        r = 0;
        }
        *pids = l.pids;
        *n = l.n;
        if (r < 0)
                return r;
        if (*n > 1)
                qsort(*pids, *n, sizeof(pid_t), cmp_pid);
        return 0;
}

static void remember(CgroupSub *s, pid_t pid) {
        pid_t *p;
        size_t i;

        if (pid == s->spare_pid || s->n_seen >= SUB_PIDS_MAX ||
            (s->n_seen > 0 && bsearch(&pid, s->seen, s->n_seen, sizeof(pid_t), cmp_pid)))
                return;
        p = realloc(s->seen, (s->n_seen + 1) * sizeof(pid_t));
        if (!p)
                return; /* only the count suffers */
        s->seen = p;
        for (i = s->n_seen; i > 0 && p[i - 1] > pid; i--)
                p[i] = p[i - 1];
        p[i] = pid;
        s->n_seen++;
}

/* No process in the cgroup may create another from here on, so each
 * round's listing is all there is to kill: v1 through the pids
 * controller (pids.max 0 makes fork fail; the runtime always uses it on
 * v1), v2 by freezing (a frozen process still dies of SIGKILL) where
 * cgroup.kill, which needs neither, is missing. */
static int stop_forks(CgroupSub *s) {
        for (size_t i = 0; i < s->n; i++) {
                int r;

                if (s->fd[i] < 0)
                        continue;
                if (cg_file_exists(s->fd[i], "pids.max")) {
                        r = cg_write(s->fd[i], "pids.max", "0");
                        if (r < 0 && r != -ENOENT && r != -ENODEV)
                                return r;
                }
                if (!cg_file_exists(s->fd[i], "cgroup.kill") && cg_file_exists(s->fd[i], "cgroup.freeze")) {
                        r = cg_write(s->fd[i], "cgroup.freeze", "1");
                        if (r < 0 && r != -ENOENT && r != -ENODEV)
                                return r;
                }
        }
        s->stopped = true;
        return 0;
}

int cgroup_sub_kill(CgroupSub *s, pid_t spare_pid) {
        _cleanup_free_ pid_t *before = NULL, *after = NULL;
        _cleanup_free_ int *pidfds = NULL;
        size_t n_before = 0, n_after = 0;
        bool kill_file = false;
        int r;

        s->spare_pid = spare_pid;
        if (!s->stopped) {
                /* Most apps leave nothing behind: an empty cgroup goes at
                 * once.  rmdir fails while a process or a child cgroup is
                 * in it (a fork in flight counts: its parent is in it), so
                 * success means there is nothing to stop or kill; this
                 * spares the first round's writes and reads. */
                size_t left = 0;
                for (size_t i = 0; i < s->n; i++) {
                        if (s->parent_fd[i] < 0)
                                continue;
                        if (s->ops->rmdir(s->ops, s->parent_fd[i], s->name) < 0) {
                                left++;
                                continue;
                        }
                        s->fd[i] = safe_close(s->fd[i]);
                        s->parent_fd[i] = safe_close(s->parent_fd[i]);
                }
                if (left == 0)
                        return 0;
                r = stop_forks(s);
                if (r < 0)
                        return r;
        }
        r = list_procs(s, &before, &n_before);
        if (r < 0)
                return r;
        if (n_before == 0)
                return 0;
        for (size_t i = 0; i < n_before; i++)
                remember(s, before[i]);

        /* v2: everything below, forks in flight included, in one write. */
        for (size_t i = 0; i < s->n; i++)
                if (s->fd[i] >= 0 && cg_file_exists(s->fd[i], "cgroup.kill")) {
                        r = cg_write(s->fd[i], "cgroup.kill", "1");
                        if (r < 0 && r != -ENOENT && r != -ENODEV)
                                return r;
                        kill_file = true;
                }
        if (kill_file)
                return (int) MIN(n_before, (size_t) INT32_MAX);

        /* A pid read from cgroup.procs may have exited and been reused by
         * some other process of the host before we signal it.  So: a pidfd
         * for each, then a second look; a pid listed both times while its
         * pidfd was open is that same process (forks are stopped, so no new
         * process in the cgroup can have taken the number meanwhile). */
        pidfds = malloc(n_before * sizeof(int));
        if (!pidfds)
                return -ENOMEM;
        for (size_t i = 0; i < n_before; i++)
                pidfds[i] = (int) pidfd_open(before[i], 0);
        r = list_procs(s, &after, &n_after);
        for (size_t i = 0; i < n_before; i++) {
                if (pidfds[i] < 0)
                        continue;
                if (r >= 0 && n_after > 0 && bsearch(&before[i], after, n_after, sizeof(pid_t), cmp_pid) &&
                    pidfd_send_signal(pidfds[i], SIGKILL, NULL, 0) < 0 && errno != ESRCH && r >= 0)
                        r = -errno;
                safe_close(pidfds[i]);
        }
        if (r < 0)
                return r;
        return (int) MIN(n_before, (size_t) INT32_MAX);
}

int cgroup_sub_remove(CgroupSub *s) {
        int ret = 0;

        for (size_t i = s->n; i-- > 0;) {
                int r;

                if (s->parent_fd[i] < 0)
                        continue;
                s->fd[i] = safe_close(s->fd[i]);
                r = cg_tree_remove(s->ops, s->parent_fd[i], s->name);
                if (r < 0) {
                        /* Keep it for the next try. */
                        s->fd[i] = openat(s->parent_fd[i], s->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (ret == 0)
                                ret = r == -ENOTEMPTY ? -EBUSY : r;
                        continue;
                }
                s->parent_fd[i] = safe_close(s->parent_fd[i]);
        }
        return ret;
}

static uint64_t now_nsec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

/* Collects the names of invocation cgroups below any of parents. */
static int stale_names(char *const *parents, char ***ret, size_t *ret_n) {
        char **names = NULL;
        size_t n = 0;
        int r = 0;

        for (size_t i = 0; parents && parents[i] && r >= 0; i++) {
                _cleanup_closedir_ DIR *d = NULL;
                _cleanup_close_ int fd = open(parents[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                if (fd < 0) {
                        if (errno != ENOENT)
                                r = -errno;
                        continue;
                }
                r = opendir_at(fd, &d);
                if (r < 0)
                        break;
                for (struct dirent *de; (de = readdir(d)) && n < SUB_STALE_MAX;) {
                        bool dup = false;

                        if ((de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) ||
                            !cgroup_sub_name_is_valid(de->d_name))
                                continue;
                        for (size_t j = 0; j < n; j++)
                                dup = dup || streq(names[j], de->d_name);
                        if (dup)
                                continue;
                        char **p = realloc(names, (n + 2) * sizeof(char *));
                        if (!p) {
                                r = -ENOMEM;
                                break;
                        }
                        names = p;
                        names[n] = strdup(de->d_name);
                        if (!names[n]) {
                                r = -ENOMEM;
                                break;
                        }
                        names[++n] = NULL;
                }
        }
        if (r < 0) {
                for (size_t j = 0; j < n; j++)
                        free(names[j]);
                free(names);
                return r;
        }
        *ret = names;
        *ret_n = n;
        return 0;
}

int cgroup_sub_remove_stale_ops(const CgroupOps *ops, char *const *parents, unsigned *ret_killed) {
        uint64_t deadline = now_nsec() + SUB_STALE_TIMEOUT_NSEC;
        char **names = NULL;
        unsigned killed = 0;
        size_t n = 0;
        int r, error = 0, removed = 0;

        r = stale_names(parents, &names, &n);
        if (r < 0)
                return r;
        /* One that cannot be ended does not keep the others. */
        for (size_t i = 0; i < n; i++) {
                _cleanup_cgroup_sub_ CgroupSub *s = NULL;

                r = sub_new(ops, parents, names[i], false, &s);
                if (r >= 0) {
                        /* Nobody waits for these: a bounded wait here, at
                         * start-up. */
                        while ((r = cgroup_sub_kill(s, 0)) > 0 && now_nsec() < deadline)
                                usleep(SUB_STALE_POLL_USEC);
                        killed += cgroup_sub_killed(s);
                        if (r > 0)
                                r = -EBUSY;
                }
                if (r >= 0)
                        while ((r = cgroup_sub_remove(s)) == -EBUSY && now_nsec() < deadline)
                                usleep(SUB_STALE_POLL_USEC);
                if (r >= 0)
                        removed++;
                else if (error == 0)
                        error = r;
        }
        for (size_t j = 0; j < n; j++)
                free(names[j]);
        free(names);
        if (ret_killed)
                *ret_killed = killed;
        return error < 0 ? error : removed;
}

int cgroup_sub_remove_stale(char *const *parents, unsigned *ret_killed) {
        int r = check_cgroupfs(parents, true);

        return r < 0 ? r : cgroup_sub_remove_stale_ops(&cgroup_kernel_ops, parents, ret_killed);
}
