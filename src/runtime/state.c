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
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/state.h"

static int entry_paths(StateEntry *e, const char *state_dir, const char *name) {
        if ((size_t) snprintf(e->dir, sizeof(e->dir), "%s/containers/%s", state_dir, name) >= sizeof(e->dir) ||
            (size_t) snprintf(e->root_dir, sizeof(e->root_dir), "%s/root", e->dir) >= sizeof(e->root_dir))
                return -ENAMETOOLONG;
        snprintf(e->name, sizeof(e->name), "%s", name);
        return 0;
}

/* Removes the files of an entry whose lock we hold. */
static void entry_remove_files(const StateEntry *e) {
        _cleanup_close_ int dfd = open(e->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return;
        (void) unlinkat(dfd, "root", AT_REMOVEDIR);
        (void) unlinkat(dfd, "state.json", 0);
        (void) unlinkat(dfd, "state.json.tmp", 0);
        (void) unlinkat(dfd, "lock", 0);
        (void) rmdir(e->dir);
}

/* Locks <entry>/lock (creating it if asked).  -EEXIST: someone holds it.
 * -ESTALE: we got the lock of a file that is no longer the entry's (a
 * cleaner removed the entry between our open and our flock): the caller
 * may start again. */
static int lock_entry(const StateEntry *e, bool create) {
        char path[PATH_MAX + 8];
        struct stat a, b;
        int fd;

        snprintf(path, sizeof(path), "%s/lock", e->dir);
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = errno == EWOULDBLOCK ? -EEXIST : -errno;
                close(fd);
                return r;
        }
        if (fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
                close(fd);
                return -ESTALE;
        }
        return fd;
}

int state_entry_create(const char *state_dir, const char *name, StateEntry *ret) {
        StateEntry e = { .lock_fd = -1 };
        char base[PATH_MAX];
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
        /* Another start's cleanup of dead entries may look at ours just as
         * we make it: it may remove the directory under us (ENOENT), or
         * lock our new lock file before we do (EEXIST while there is no
         * state.json yet: it then removes it, and we start again), or
         * remove it between our open and our flock (ESTALE).  A container
         * of this name that really runs holds the lock and has its
         * state.json within moments: after a few tries EEXIST stands. */
        for (int attempt = 0;; attempt++) {
                char state[PATH_MAX + 16];

                if (mkdir(e.dir, 0700) < 0 && errno != EEXIST)
                        return -errno;
                e.lock_fd = lock_entry(&e, true);
                if (e.lock_fd >= 0)
                        break;
                if (attempt >= 20)
                        return e.lock_fd == -ESTALE ? -EBUSY : e.lock_fd;
                if (e.lock_fd == -EEXIST) {
                        snprintf(state, sizeof(state), "%s/state.json", e.dir);
                        if (access(state, F_OK) == 0)
                                return -EEXIST;
                        (void) usleep(10 * 1000);
                } else if (e.lock_fd != -ESTALE && e.lock_fd != -ENOENT)
                        return e.lock_fd;
        }
        /* We hold the lock: whatever else is in there is a dead run's. */
        if (mkdir(e.root_dir, 0755) < 0 && errno != EEXIST) {
                r = -errno;
                entry_remove_files(&e);
                close(e.lock_fd);
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
                else if (r < 0)
                        json_decref(rl);
                if (r < 0) {
                        json_decref(o);
                        return r;
                }
        }
        snprintf(tmp, sizeof(tmp), "%s/state.json.tmp", e->dir);
        snprintf(path, sizeof(path), "%s/state.json", e->dir);
        r = json_dump_file(o, tmp, JSON_COMPACT);
        json_decref(o);
        if (r < 0)
                return -EIO;
        if (rename(tmp, path) < 0)
                return -errno;
        return 0;
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
                StateEntry e = { .lock_fd = -1 };
                int fd;

                if (de->d_name[0] == '.' || !container_name_is_valid(de->d_name))
                        continue;
                if (entry_paths(&e, state_dir, de->d_name) < 0)
                        continue;
                /* No lock file: an entry being created right now (its
                 * lock comes a moment after its directory), or the rare
                 * leftover of a start killed in between, which the next
                 * start of that name takes over.  Either way not ours to
                 * remove. */
                fd = lock_entry(&e, false);
                if (fd < 0)
                        continue; /* alive (-EEXIST), being created, gone or unreadable */
                remove_stale_cgroups(state_dir, &e, cgroup_root, self_cgroup_file);
                entry_remove_files(&e);
                safe_close(fd);
                n++;
        }
        return n;
}
