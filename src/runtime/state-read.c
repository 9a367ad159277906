/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The reading side of the state directory (see state-info.h). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "common/parse.h"
#include "common/proc-stat.h"
#include "common/time-util.h"
#include "runtime/state-info.h"

/* state.json is small; anything bigger is not ours. */
#define STATE_FILE_MAX (256 * 1024)

static void sleep_usec(uint64_t usec) {
        struct timespec ts = { .tv_sec = (time_t) (usec / 1000000U), .tv_nsec = (long) (usec % 1000000U) * 1000 };
        (void) nanosleep(&ts, NULL);
}

/* ---- JSON helpers ---- */

static int dup_string(json_t *o, const char *key, char **ret) {
        json_t *v = json_object_get(o, key);

        if (!v || json_is_null(v)) {
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v))
                return -EBADMSG;
        *ret = strdup(json_string_value(v));
        return *ret ? 0 : -ENOMEM;
}

static int get_int(json_t *o, const char *key, int64_t min, int64_t max, int64_t *ret) {
        json_t *v = json_object_get(o, key);

        if (!v || json_is_null(v)) {
                *ret = 0;
                return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
                return -EBADMSG;
        *ret = (int64_t) json_integer_value(v);
        return 0;
}

static int get_u64(json_t *o, const char *key, uint64_t *ret) {
        int64_t v;
        int r = get_int(o, key, 0, INT64_MAX, &v);
        if (r < 0)
                return r;
        *ret = (uint64_t) v;
        return 0;
}

/* An array of strings as a NULL-terminated vector (empty if absent). */
static int get_strv(json_t *o, const char *key, char ***ret) {
        json_t *a = json_object_get(o, key), *v;
        char **strv;
        size_t i;

        if (a && !json_is_null(a) && !json_is_array(a))
                return -EBADMSG;
        strv = calloc((a ? json_array_size(a) : 0) + 1, sizeof(char *));
        if (!strv)
                return -ENOMEM;
        json_array_foreach(a, i, v) {
                if (!json_is_string(v)) {
                        strv_free(strv);
                        return -EBADMSG;
                }
                strv[i] = strdup(json_string_value(v));
                if (!strv[i]) {
                        strv_free(strv);
                        return -ENOMEM;
                }
        }
        *ret = strv;
        return 0;
}

/* ---- locks ---- */

int state_lock_is_held(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);

        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (flock(fd, LOCK_SH | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 1 : -errno;
        /* Ours for an instant: closing the fd releases it. */
        return 0;
}

int state_lock_wait_released(const char *path, uint64_t timeout_usec) {
        uint64_t end = clock_usec(CLOCK_MONOTONIC) + timeout_usec;

        for (;;) {
                int r = state_lock_is_held(path);
                if (r <= 0)
                        return r;
                if (clock_usec(CLOCK_MONOTONIC) >= end)
                        return -ETIMEDOUT;
                sleep_usec(20000);
        }
}

static int path_in(char *buf, size_t size, const char *state_dir, const char *kind, const char *name,
                   const char *file) {
        if (!container_name_is_valid(name))
                return -EINVAL;
        if ((size_t) snprintf(buf, size, "%s/%s/%s/%s", state_dir, kind, name, file) >= size)
                return -ENAMETOOLONG;
        return 0;
}

int state_container_lock_path(const char *state_dir, const char *name, char *buf, size_t size) {
        return path_in(buf, size, state_dir, "containers", name, "lock");
}

int state_group_lock_path(const char *state_dir, const char *group, char *buf, size_t size) {
        return path_in(buf, size, state_dir, "groups", group, "lock");
}

/* ---- containers ---- */

void state_info_done(StateInfo *i) {
        if (!i)
                return;
        free(i->name);
        free(i->group);
        strv_free(i->cgroups);
        strv_free(i->command);
        free(i->hostname);
        free(i->rootfs);
        free(i->net);
        free(i->workdir);
        free(i->rlimits);
        *i = (StateInfo){};
}

void state_info_free_array(StateInfo *a, size_t n) {
        for (size_t k = 0; a && k < n; k++)
                state_info_done(&a[k]);
        free(a);
}

static int parse_state(json_t *o, StateInfo *s) {
        json_t *limits, *v;
        const char *caps;
        int64_t n;
        int r;

        if (!json_is_object(o))
                return -EBADMSG;
        r = dup_string(o, "name", &s->name);
        if (r < 0)
                return r;
        if (!s->name || !container_name_is_valid(s->name))
                return -EBADMSG;
        if ((r = dup_string(o, "group", &s->group)) < 0 || (r = dup_string(o, "hostname", &s->hostname)) < 0 ||
            (r = dup_string(o, "rootfs", &s->rootfs)) < 0 || (r = dup_string(o, "net", &s->net)) < 0 ||
            (r = dup_string(o, "workdir", &s->workdir)) < 0)
                return r;
        if (!s->workdir && !(s->workdir = strdup("/")))
                return -ENOMEM;

        if ((r = get_int(o, "owner_pid", 0, INT32_MAX, &n)) < 0)
                return r;
        s->owner_pid = (pid_t) n;
        if ((r = get_int(o, "init_pid", 0, INT32_MAX, &n)) < 0)
                return r;
        s->init_pid = (pid_t) n;
        if (json_object_get(o, "init_start") && (r = get_u64(o, "init_start", &s->init_start)) < 0)
                return r;
        if ((r = get_int(o, "created", 0, INT64_MAX, &s->created)) < 0)
                return r;
        if ((r = get_int(o, "uid", 0, UINT32_MAX - 1, &n)) < 0)
                return r;
        s->uid = (uid_t) n;
        if ((r = get_int(o, "gid", 0, UINT32_MAX - 1, &n)) < 0)
                return r;
        s->gid = (gid_t) n;
        v = json_object_get(o, "has_user");
        if (v && !json_is_boolean(v))
                return -EBADMSG;
        s->has_user = v && json_is_true(v);

        if ((r = get_strv(o, "cgroups", &s->cgroups)) < 0 || (r = get_strv(o, "command", &s->command)) < 0)
                return r;

        limits = json_object_get(o, "limits");
        if (limits && !json_is_object(limits))
                return -EBADMSG;
        if (limits && ((r = get_u64(limits, "memory", &s->limits.memory_bytes)) < 0 ||
                       (r = get_u64(limits, "pids", &s->limits.pids_max)) < 0 ||
                       (r = get_u64(limits, "cpu_quota_usec", &s->limits.cpu_quota_usec)) < 0 ||
                       (r = get_u64(limits, "cpu_period_usec", &s->limits.cpu_period_usec)) < 0))
                return r;

        v = json_object_get(o, "shim");
        if (v && !json_is_boolean(v))
                return -EBADMSG;
        s->shim = v && json_is_true(v);

        v = json_object_get(o, "detached");
        if (v && !json_is_boolean(v))
                return -EBADMSG;
        s->detached = v && json_is_true(v);

        v = json_object_get(o, "rlimits");
        if (v) {
                size_t k;
                json_t *e;

                if (!json_is_array(v) || json_array_size(v) > 64)
                        return -EBADMSG;
                s->rlimits = calloc(json_array_size(v) + 1, sizeof(RlimitSpec));
                if (!s->rlimits)
                        return -ENOMEM;
                json_array_foreach (v, k, e) {
                        if (!json_is_string(e) || rlimit_parse(json_string_value(e), &s->rlimits[k]) < 0)
                                return -EBADMSG;
                        s->n_rlimits++;
                }
        }

        v = json_object_get(o, "caps");
        if (v) {
                char *end;
                if (!json_is_string(v))
                        return -EBADMSG;
                caps = json_string_value(v);
                errno = 0;
                s->caps = strtoull(caps, &end, 16);
                if (errno != 0 || end == caps || *end != '\0')
                        return -EBADMSG;
        }
        return 0;
}

static int state_info_from_json(json_t *o, StateInfo *ret) {
        StateInfo s = {};
        int r = parse_state(o, &s);

        if (r < 0) {
                state_info_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

int state_info_parse(const char *text, StateInfo *ret) {
        json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
        int r;

        if (!o)
                return -EBADMSG;
        r = state_info_from_json(o, ret);
        json_decref(o);
        return r;
}

static int load_json_file(const char *path, json_t **ret) {
        _cleanup_free_ char *text = NULL;
        json_t *o;
        int r;

        r = read_file_at(AT_FDCWD, path, STATE_FILE_MAX, &text, NULL);
        if (r < 0)
                return r;
        o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
        if (!o)
                return -EBADMSG;
        *ret = o;
        return 0;
}

int state_info_load(const char *state_dir, const char *name, StateInfo *ret) {
        char path[PATH_MAX];
        StateInfo s = {};
        json_t *o = NULL;
        int r, held;

        r = path_in(path, sizeof(path), state_dir, "containers", name, "state.json");
        if (r < 0)
                return r;
        r = load_json_file(path, &o);
        if (r < 0)
                return r;
        r = state_info_from_json(o, &s);
        json_decref(o);
        if (r < 0)
                return r;
        /* The lock after the file: a live entry's file was complete before
         * we looked (state.c renames it into place). */
        (void) state_container_lock_path(state_dir, name, path, sizeof(path));
        held = state_lock_is_held(path);
        if (held < 0) {
                state_info_done(&s);
                return held;
        }
        s.alive = held > 0;
        *ret = s;
        return 0;
}

int state_info_load_running(const char *state_dir, const char *name, uint64_t timeout_usec, StateInfo *ret) {
        uint64_t end = clock_usec(CLOCK_MONOTONIC) + timeout_usec;
        char lock[PATH_MAX];
        int r;

        r = state_container_lock_path(state_dir, name, lock, sizeof(lock));
        if (r < 0)
                return r == -EINVAL ? -ESRCH : r;
        for (;;) {
                StateInfo s = {};

                r = state_info_load(state_dir, name, &s);
                if (r == 0 && s.alive && s.init_pid > 0) {
                        *ret = s;
                        return 0;
                }
                state_info_done(&s);
                if (r < 0 && r != -ENOENT && r != -EBADMSG)
                        return r;
                /* Starting: the lock is held but the state is not complete. */
                if (state_lock_is_held(lock) <= 0 || clock_usec(CLOCK_MONOTONIC) >= end)
                        return -ESRCH;
                sleep_usec(20000);
        }
}

static bool same_file(const struct stat *a, const struct stat *b) {
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
               a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
               a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

void state_cache_done(StateCache *c) {
        if (c->loaded)
                state_info_done(&c->info);
        c->loaded = false;
        c->lock_fd = safe_close(c->lock_fd);
}

int state_cache_get(StateCache *c, const char *state_dir, const char *name, const StateInfo **ret) {
        char path[PATH_MAX];
        struct stat st;
        int r;

        r = path_in(path, sizeof(path), state_dir, "containers", name, "state.json");
        if (r < 0) {
                state_cache_done(c);
                return r == -EINVAL ? -ESRCH : r;
        }
        /* Before the read: a file replaced in between is read again next
         * time, never taken for the one read. */
        if (stat(path, &st) < 0) {
                state_cache_done(c);
                return -ESRCH;
        }
        if (c->loaded && same_file(&st, &c->st)) {
                /* state_lock_is_held()'s test on the kept descriptor. */
                if (flock(c->lock_fd, LOCK_SH | LOCK_NB) >= 0) {
                        (void) flock(c->lock_fd, LOCK_UN);
                        state_cache_done(c);
                        return -ESRCH; /* nobody holds it: stale */
                }
                if (errno != EWOULDBLOCK) {
                        r = -errno;
                        state_cache_done(c);
                        return r;
                }
                *ret = &c->info;
                return 0;
        }
        state_cache_done(c);
        r = state_info_load_running(state_dir, name, 0, &c->info);
        if (r < 0)
                return r;
        c->loaded = true;
        r = state_container_lock_path(state_dir, name, path, sizeof(path));
        if (r >= 0) {
                c->lock_fd = open(path, O_RDONLY | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
                r = c->lock_fd < 0 ? -errno : 0;
        }
        if (r < 0) {
                state_cache_done(c);
                return r == -ENOENT ? -ESRCH : r;
        }
        c->st = st;
        *ret = &c->info;
        return 1;
}

static int cmp_state(const void *a, const void *b) {
        return strcmp(((const StateInfo *) a)->name, ((const StateInfo *) b)->name);
}

int state_info_list(const char *state_dir, StateInfo **ret, size_t *ret_n) {
        _cleanup_closedir_ DIR *d = NULL;
        char base[PATH_MAX];
        StateInfo *a = NULL;
        size_t n = 0;
        struct dirent *de;

        if ((size_t) snprintf(base, sizeof(base), "%s/containers", state_dir) >= sizeof(base))
                return -ENAMETOOLONG;
        d = opendir(base);
        if (!d && errno != ENOENT)
                return -errno;
        while (d && (de = readdir(d))) {
                StateInfo s = {}, *na;
                int r;

                if (de->d_name[0] == '.' || !container_name_is_valid(de->d_name))
                        continue;
                r = state_info_load(state_dir, de->d_name, &s);
                if (r == -ENOENT || r == -EBADMSG)
                        continue; /* starting, just removed, or not ours */
                if (r < 0) {
                        state_info_free_array(a, n);
                        return r;
                }
                na = reallocarray(a, n + 1, sizeof(StateInfo));
                if (!na) {
                        state_info_done(&s);
                        state_info_free_array(a, n);
                        return -ENOMEM;
                }
                a = na;
                a[n++] = s;
        }
        if (n > 1)
                qsort(a, n, sizeof(StateInfo), cmp_state);
        *ret = a;
        *ret_n = n;
        return 0;
}

int state_info_mark_stopping(const char *state_dir, const char *name) {
        char path[PATH_MAX];
        int r = path_in(path, sizeof(path), state_dir, "containers", name, "stopping");
        if (r < 0)
                return r;
        return touch_at(AT_FDCWD, path, 0600);
}

int state_info_open_init(const StateInfo *i, const char *state_dir, int *ret_pidfd) {
        _cleanup_close_ int pidfd = -1;
        char lock[PATH_MAX];
        ProcStat st;
        int r;

        if (!i->alive || i->init_pid <= 0)
                return -ESRCH;
        r = state_container_lock_path(state_dir, i->name, lock, sizeof(lock));
        if (r < 0)
                return r;
        pidfd = pidfd_open(i->init_pid, 0);
        if (pidfd < 0)
                return errno == ESRCH ? -ESRCH : -errno;
        /* The pidfd now holds whatever process had that pid.  With a start
         * time recorded (a detached container's init is nobody's child of
         * ours: its owner handed it to shuttle-monitor and left): it is
         * the init if /proc says that start time while the pidfd's process
         * still lives (so /proc/PID was still it). */
        r = proc_stat_read(i->init_pid, &st);
        if (r < 0)
                return r;
        if (i->init_start > 0) {
                if (st.start_time != i->init_start || pidfd_send_signal(pidfd, 0, NULL, 0) < 0 ||
                    state_lock_is_held(lock) <= 0)
                        return -ESRCH;
                *ret_pidfd = TAKE_FD(pidfd);
                return 0;
        }
        /* Without: it is the init if it is the owner's child while the
         * owner still holds the lock: the owner reaps its init before it
         * releases the lock, and a pid is not reused before it is reaped. */
        if (st.ppid != i->owner_pid || state_lock_is_held(lock) <= 0)
                return -ESRCH;
        *ret_pidfd = TAKE_FD(pidfd);
        return 0;
}

/* ---- groups ---- */

void group_info_done(GroupInfo *g) {
        if (!g)
                return;
        free(g->group);
        strv_free(g->containers);
        free(g->file);
        *g = (GroupInfo){};
}

void group_info_free_array(GroupInfo *a, size_t n) {
        for (size_t k = 0; a && k < n; k++)
                group_info_done(&a[k]);
        free(a);
}

static int group_info_from_json(json_t *o, GroupInfo *ret) {
        GroupInfo g = {};
        int64_t pid;
        int r;

        if (!json_is_object(o))
                return -EBADMSG;
        r = dup_string(o, "group", &g.group);
        if (r == 0 && (!g.group || !container_name_is_valid(g.group)))
                r = -EBADMSG;
        if (r == 0)
                r = get_int(o, "pid", 0, INT32_MAX, &pid);
        if (r == 0)
                r = get_strv(o, "containers", &g.containers);
        if (r == 0)
                r = dup_string(o, "file", &g.file);
        if (r == 0 && g.file && g.file[0] != '/')
                free(TAKE_PTR(g.file));
        if (r < 0) {
                group_info_done(&g);
                return r;
        }
        g.pid = (pid_t) pid;
        *ret = g;
        return 0;
}

int group_info_parse(const char *text, GroupInfo *ret) {
        json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
        int r;

        if (!o)
                return -EBADMSG;
        r = group_info_from_json(o, ret);
        json_decref(o);
        return r;
}

int group_info_load(const char *state_dir, const char *group, GroupInfo *ret) {
        char path[PATH_MAX];
        GroupInfo g = {};
        json_t *o = NULL;
        int r, held;

        r = path_in(path, sizeof(path), state_dir, "groups", group, "supervisor.json");
        if (r < 0)
                return r;
        r = load_json_file(path, &o);
        if (r < 0)
                return r;
        r = group_info_from_json(o, &g);
        json_decref(o);
        if (r < 0)
                return r;
        (void) state_group_lock_path(state_dir, group, path, sizeof(path));
        held = state_lock_is_held(path);
        if (held < 0) {
                group_info_done(&g);
                return held;
        }
        g.alive = held > 0;
        *ret = g;
        return 0;
}

static int cmp_group(const void *a, const void *b) {
        return strcmp(((const GroupInfo *) a)->group, ((const GroupInfo *) b)->group);
}

int group_info_list(const char *state_dir, GroupInfo **ret, size_t *ret_n) {
        _cleanup_closedir_ DIR *d = NULL;
        char base[PATH_MAX];
        GroupInfo *a = NULL;
        size_t n = 0;
        struct dirent *de;

        if ((size_t) snprintf(base, sizeof(base), "%s/groups", state_dir) >= sizeof(base))
                return -ENAMETOOLONG;
        d = opendir(base);
        if (!d && errno != ENOENT)
                return -errno;
        while (d && (de = readdir(d))) {
                GroupInfo g = {}, *na;
                int r;

                if (de->d_name[0] == '.' || !container_name_is_valid(de->d_name))
                        continue;
                r = group_info_load(state_dir, de->d_name, &g);
                if (r == -ENOENT || r == -EBADMSG)
                        continue;
                if (r < 0) {
                        group_info_free_array(a, n);
                        return r;
                }
                na = reallocarray(a, n + 1, sizeof(GroupInfo));
                if (!na) {
                        group_info_done(&g);
                        group_info_free_array(a, n);
                        return -ENOMEM;
                }
                a = na;
                a[n++] = g;
        }
        if (n > 1)
                qsort(a, n, sizeof(GroupInfo), cmp_group);
        *ret = a;
        *ret_n = n;
        return 0;
}
