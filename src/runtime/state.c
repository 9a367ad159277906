/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "common/parse.h"
#include "common/proc-stat.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "runtime/state-info.h"

static int entry_paths(StateEntry *e, const char *state_dir, const char *name) {
        if ((size_t) snprintf(e->dir, sizeof(e->dir), "%s/containers/%s", state_dir, name) >= sizeof(e->dir))
                return -ENAMETOOLONG;
        snprintf(e->name, sizeof(e->name), "%s", name);
        return 0;
}

/* Removes what an entry's directory holds, through its descriptor (so that
 * a directory that has meanwhile been put at the entry's path by a new start
 * is never touched), then the directory itself, by path: rmdir() fails on a
 * new start's directory, which is never empty. */
static void entry_remove_at(int dfd, const char *dir) {
        /* root/: where older runs built the container's root */
        (void) unlinkat(dfd, "root", AT_REMOVEDIR);
        (void) unlinkat(dfd, "state.json", 0);
        (void) unlinkat(dfd, "state.json.tmp", 0);
        (void) unlinkat(dfd, "stopping", 0);
        (void) unlinkat(dfd, "lock", 0);
        (void) rmdir(dir);
}

/* Removes the files of an entry whose lock we hold. */
static void entry_remove_files(const StateEntry *e) {
        _cleanup_close_ int dfd = open(e->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return;
        entry_remove_at(dfd, e->dir);
}

/* Who holds what:
 *
 *   - the owner (the shuttlectl that runs the container) holds <entry>/lock
 *     with LOCK_EX from before the entry appears under its name until after
 *     it is gone; nobody else ever takes LOCK_EX on a lock file;
 *   - anyone asking whether an entry is live (readers, the cleanup of stale
 *     entries, a start that finds its name taken) takes LOCK_SH without
 *     waiting: it gets it exactly when no owner holds the lock, and since a
 *     lock file never gets an owner again once its owner is gone, such an
 *     entry stays stale;
 *   - whoever removes a stale entry holds LOCK_EX on the entry's directory
 *     (not its lock file), so that two removers take turns.
 *
 * An entry appears complete (directory, lock held) by one rename()
 * from a private ".new-XXXXXX" directory: nobody can see it half made, and
 * no check ever mistakes a passing reader or cleaner for a live owner. */

static void remove_stale_cgroups(const char *state_dir, const StateEntry *e, const char *cgroup_root,
                                 const char *self_cgroup_file);

enum {
        ENTRY_GONE,  /* nothing at that path (any more) */
        ENTRY_LIVE,  /* its owner holds the lock */
        ENTRY_CLEAN, /* was stale or lockless, and is removed */
};

/* Removes the entry at DIR if no owner holds it.  NAME: the container name
 * for its cgroups, NULL for a ".new-" directory or for no cgroup cleanup. */
static int entry_reap(const char *state_dir, const char *dir, const char *name, const char *cgroup_root,
                      const char *self_cgroup_file, bool lockless_too) {
        _cleanup_close_ int dfd = -1, lfd = -1;
        struct stat a, b;

        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return errno == ENOENT ? ENTRY_GONE : -errno;
        lfd = openat(dfd, "lock", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (lfd < 0) {
                if (errno != ENOENT)
                        return -errno;
                /* No lock file: an owner removing its own entry (the lock
                 * goes just before the directory), or what a killed or
                 * older run left.  Never a start: entries appear with their
                 * lock. */
                if (!lockless_too)
                        return ENTRY_LIVE;
        } else {
                if (flock(lfd, LOCK_SH | LOCK_NB) < 0)
                        return errno == EWOULDBLOCK ? ENTRY_LIVE : -errno;
                /* Stale for good.  Keep LOCK_SH while we remove it: a live
                 * owner's lock file is a new one anyway. */
        }
        if (flock(dfd, LOCK_EX) < 0)
                return -errno;
        /* Another remover may have been first while we waited. */
        if (lfd >= 0 && (fstat(lfd, &a) < 0 || fstatat(dfd, "lock", &b, AT_SYMLINK_NOFOLLOW) < 0 ||
                         a.st_dev != b.st_dev || a.st_ino != b.st_ino))
                return ENTRY_GONE;
        if (name) {
                StateEntry e = {};
                if (entry_paths(&e, state_dir, name) >= 0)
                        remove_stale_cgroups(state_dir, &e, cgroup_root, self_cgroup_file);
        }
        entry_remove_at(dfd, dir);
        return ENTRY_CLEAN;
}

/* A lock file that is locked before anyone can see it: an O_TMPFILE locked,
 * then linked in.  Where the file system has no O_TMPFILE, an ordinary file
 * in our private directory, which only the stale-entry cleanup could touch
 * (-EAGAIN: it did, start again with another directory). */
static int make_locked_lock(int dfd) {
        _cleanup_close_ int fd = -1;
        char proc[64];
        struct stat a, b;

        fd = openat(dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd >= 0) {
                if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                        return -errno;
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                if (linkat(AT_FDCWD, proc, dfd, "lock", AT_SYMLINK_FOLLOW) >= 0)
                        return TAKE_FD(fd);
                if (errno != ENOENT)
                        return -errno;
                fd = safe_close(fd); /* no /proc */
        } else if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
                return -errno;

        fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        if (fstat(fd, &a) < 0 || fstatat(dfd, "lock", &b, AT_SYMLINK_NOFOLLOW) < 0 || a.st_dev != b.st_dev ||
            a.st_ino != b.st_ino)
                return -EAGAIN;
        return TAKE_FD(fd);
}

/* A private directory holding a locked lock file.  The directory is also
 * where the container's root is built, in its own mount namespace: nothing
 * of that is seen here. */
static int make_new_entry(const char *base, char ret_dir[static PATH_MAX], int *ret_lock) {
        for (int attempt = 0; attempt < 16; attempt++) {
                _cleanup_close_ int dfd = -1;
                int fd;

                if ((size_t) snprintf(ret_dir, PATH_MAX, "%s/.new-XXXXXX", base) >= PATH_MAX)
                        return -ENAMETOOLONG;
                if (!mkdtemp(ret_dir))
                        return -errno;
                dfd = open(ret_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (dfd < 0)
                        return errno == ENOENT ? -EAGAIN : -errno;
                fd = make_locked_lock(dfd);
                if (fd == -EAGAIN || fd == -ENOENT)
                        continue; /* the cleanup took it: leave it to it */
                if (fd < 0) {
                        (void) rmdir(ret_dir);
                        return fd;
                }
                *ret_lock = fd;
                return 0;
        }
        return -EBUSY;
}

int state_entry_create(const char *state_dir, const char *name, StateEntry *ret) {
        StateEntry e = { .lock_fd = -1 };
        char base[PATH_MAX], tmp[PATH_MAX];
        int r;

        if (!container_name_is_valid(name))
                return -EINVAL;
        r = entry_paths(&e, state_dir, name);
        if (r < 0)
                return r;
        snprintf(base, sizeof(base), "%s/containers", state_dir);
        r = mkdir_p_at(AT_FDCWD, base, 0700);
        if (r < 0)
                return r;
        r = make_new_entry(base, tmp, &e.lock_fd);
        if (r < 0)
                return r;
        /* Each round either puts ours in place, or finds a live owner, or
         * removes a stale entry (or sees another remover do so): only
         * other starts of the same name, each taking it in turn, could make
         * it go round more than twice. */
        for (int attempt = 0;; attempt++) {
                if (rename(tmp, e.dir) >= 0)
                        break;
                r = -errno;
                if (r == -EEXIST || r == -ENOTEMPTY) {
                        r = entry_reap(state_dir, e.dir, NULL, NULL, NULL, true);
                        if (r == ENTRY_LIVE)
                                r = -EEXIST;
                        else if (r >= 0)
                                r = attempt < 64 ? 0 : -EBUSY;
                        if (r == 0)
                                continue;
                }
                {
                        _cleanup_close_ int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (dfd >= 0)
                                entry_remove_at(dfd, tmp);
                }
                e.lock_fd = safe_close(e.lock_fd);
                return r;
        }
        *ret = e;
        return 0;
}

static json_t *strv_to_json(char *const *v) {
        json_t *a = json_array();
        for (size_t i = 0; a && v && v[i]; i++)
                if (json_array_append_new(a, json_string(v[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

/* The first state.json: written into the lock file (ours, empty, never
 * read: everyone else only locks it), which then gets state.json as a
 * second name, complete as a rename would show it.  One inode fewer per
 * start than a file of its own: on a file system that looks past every
 * recently freed inode for each new one (ext4 without a journal), that is
 * most of what writing it costs.  The next write replaces the name as
 * before.  -errno: not done, state.json untouched. */
static int write_into_lock(StateEntry *e, json_t *o) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int dfd = -1;
        struct stat a, b;
        size_t n;

        text = json_dumps(o, JSON_COMPACT);
        if (!text)
                return -ENOMEM;
        n = strlen(text);
        dfd = open(e->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        if (fstat(e->lock_fd, &a) < 0 || fstatat(dfd, "lock", &b, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (a.st_dev != b.st_dev || a.st_ino != b.st_ino || a.st_size != 0)
                return -ESTALE;
        if (pwrite(e->lock_fd, text, n, 0) != (ssize_t) n) {
                (void) ftruncate(e->lock_fd, 0);
                return -EIO;
        }
        if (linkat(dfd, "lock", dfd, "state.json", 0) < 0) {
                int r = -errno;
                (void) ftruncate(e->lock_fd, 0);
                return r;
        }
        return 0;
}

int state_entry_write(StateEntry *e, const ContainerConfig *c, pid_t owner, pid_t init_pid,
                      const char *const *cgroups, uint64_t caps) {
        char tmp[PATH_MAX + 16], path[PATH_MAX + 16], capsbuf[32];
        json_t *o;
        int r;

        snprintf(capsbuf, sizeof(capsbuf), "%016llx", (unsigned long long) caps);
        o = json_pack("{s:s, s:s?, s:I, s:I, s:o*, s:I, s:o*, s:s?, s:s?, s:{s:I, s:I, s:I, s:I}, s:s, s:b, s:I, "
                      "s:I, s:s, s:s}",
                      "name", e->name, "group", c->group, "owner_pid", (json_int_t) owner, "init_pid",
                      (json_int_t) init_pid, "cgroups", strv_to_json((char *const *) cgroups), "created",
                      (json_int_t) time(NULL), "command", strv_to_json(c->argv), "hostname", c->hostname,
                      "rootfs", c->rootfs, "limits", "memory", (json_int_t) c->limits.memory_bytes, "pids",
                      (json_int_t) c->limits.pids_max, "cpu_quota_usec", (json_int_t) c->limits.cpu_quota_usec,
                      "cpu_period_usec", (json_int_t) c->limits.cpu_period_usec, "net",
                      c->net == NET_NONE ? "none" : c->net == NET_BRIDGE ? "bridge" : "loopback", "has_user",
                      c->has_user, "uid", (json_int_t) c->uid, "gid", (json_int_t) c->gid, "caps", capsbuf,
                      "workdir", c->workdir ?: "/");
        if (!o)
                return -ENOMEM;
        /* What `exec` (and an invocation) must give its command as well. */
        {
                json_t *rl = json_array();
                char buf[128];

                r = rl ? 0 : -ENOMEM;
                for (size_t i = 0; r >= 0 && i < c->n_rlimits; i++)
                        if ((r = rlimit_format(&c->rlimits[i], buf, sizeof(buf))) >= 0 &&
                            json_array_append_new(rl, json_string(buf)) < 0)
                                r = -ENOMEM;
                if (r >= 0 && (json_object_set_new(o, "rlimits", rl) < 0 ||
                               json_object_set_new(o, "shim", json_boolean(c->shim_path != NULL)) < 0 ||
                               json_object_set_new(o, "detached", json_boolean(c->detached)) < 0))
                        r = -ENOMEM;
                /* Who the init is, for those that cannot tell it by its
                 * parent (state_info_open_init()). */
                if (r >= 0 && init_pid > 0) {
                        ProcStat st;
                        if (proc_stat_read(init_pid, &st) >= 0 &&
                            json_object_set_new(o, "init_start", json_integer((json_int_t) st.start_time)) < 0)
                                r = -ENOMEM;
                }
                else if (r < 0)
                        json_decref(rl);
                if (r < 0) {
                        json_decref(o);
                        return r;
                }
        }
        if (!e->written && e->lock_fd >= 0 && write_into_lock(e, o) >= 0) {
                json_decref(o);
                e->written = true;
                return 0;
        }
        snprintf(tmp, sizeof(tmp), "%s/state.json.tmp", e->dir);
        snprintf(path, sizeof(path), "%s/state.json", e->dir);
        r = json_dump_file(o, tmp, JSON_COMPACT);
        json_decref(o);
        if (r < 0)
                return -EIO;
        if (rename(tmp, path) < 0)
                return -errno;
        e->written = true;
        return 0;
}

void state_entry_retire(StateEntry *e) {
        char path[PATH_MAX + 16];

        if (e->lock_fd < 0)
                return;
        snprintf(path, sizeof(path), "%s/state.json", e->dir);
        (void) unlink(path);
}

void state_entry_remove(StateEntry *e) {
        if (e->lock_fd < 0)
                return;
        entry_remove_files(e);
        e->lock_fd = safe_close(e->lock_fd);
}

void state_cgroup_name(const char *state_dir, const char *name, char ret[static 64]) {
        uint32_t h = 2166136261u; /* FNV-1a */

        if (streq(state_dir, "/run/shuttle")) {
                snprintf(ret, 64, "%s", name);
                return;
        }
        for (const char *p = state_dir; *p; p++)
                h = (h ^ (uint8_t) *p) * 16777619u;
        h = (h ^ '/') * 16777619u;
        for (const char *p = name; *p; p++)
                h = (h ^ (uint8_t) *p) * 16777619u;
        snprintf(ret, 64, "%.54s.%08x", name, h);
}

/* The cgroups a dead run recorded (it may have run from another cgroup than
 * ours), then whatever is below our own cgroup under that name. */
static void remove_stale_cgroups(const char *state_dir, const StateEntry *e, const char *cgroup_root,
                                 const char *self_cgroup_file) {
        char path[PATH_MAX + 16], cgname[64];
        json_t *o, *cg, *v;
        size_t i;

        snprintf(path, sizeof(path), "%s/state.json", e->dir);
        o = json_load_file(path, 0, NULL);
        cg = o ? json_object_get(o, "cgroups") : NULL;
        json_array_foreach(cg, i, v)
                if (json_is_string(v))
                        (void) cgroup_remove_stale_path(json_string_value(v));
        json_decref(o);
        state_cgroup_name(state_dir, e->name, cgname);
        (void) cgroup_remove_stale(cgroup_root, self_cgroup_file, cgname);
}

int state_entry_finish(const char *state_dir, const char *name, int lock_fd, const char *cgroup_root,
                       const char *self_cgroup_file) {
        StateEntry e = { .lock_fd = lock_fd };
        char lock[PATH_MAX + 8];
        struct stat a, b;
        int r;

        if (!container_name_is_valid(name))
                r = -EINVAL;
        else if ((r = entry_paths(&e, state_dir, name)) >= 0) {
                snprintf(lock, sizeof(lock), "%s/lock", e.dir);
                if (fstat(lock_fd, &a) < 0 || lstat(lock, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                        r = -ESTALE;
        }
        if (r < 0) {
                safe_close(lock_fd);
                return r;
        }
        remove_stale_cgroups(state_dir, &e, cgroup_root, self_cgroup_file);
        state_entry_remove(&e);
        return 0;
}

int state_cleanup_stale(const char *state_dir, const char *cgroup_root, const char *self_cgroup_file) {
        _cleanup_closedir_ DIR *d = NULL;
        char base[PATH_MAX];
        struct dirent *de;
        int n = 0;

        snprintf(base, sizeof(base), "%s/containers", state_dir);
        d = opendir(base);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                char dir[PATH_MAX];
                bool is_new = strncmp(de->d_name, ".new-", 5) == 0;

                if (!is_new && (de->d_name[0] == '.' || !container_name_is_valid(de->d_name)))
                        continue;
                if ((size_t) snprintf(dir, sizeof(dir), "%s/%s", base, de->d_name) >= sizeof(dir))
                        continue;
                /* A lockless entry is left alone: an owner is removing it
                 * (or a ".new-" one is being made); a start of that name
                 * takes over what a killed run left. */
                if (entry_reap(state_dir, dir, is_new ? NULL : de->d_name, cgroup_root, self_cgroup_file,
                               false) == ENTRY_CLEAN)
                        n++;
        }
        return n;
}
