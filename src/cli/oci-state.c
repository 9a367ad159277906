/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-oci's state directory: <root>/<id>/state.json and friends. */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/oci.h"
#include "common/fileio.h"
#include "common/proc-stat.h"

const char *oci_status_name(OciStatus s) {
        static const char *const names[] = {
                [OCI_STATUS_CREATING] = "creating", [OCI_STATUS_CREATED] = "created",
                [OCI_STATUS_RUNNING] = "running",   [OCI_STATUS_PAUSED] = "paused",
                [OCI_STATUS_STOPPED] = "stopped",
        };
        return names[s];
}

void oci_state_done(OciState *s) {
        free(s->id);
        free(s->bundle);
        free(s->rootfs);
        free(s->created);
        strv_free(s->cgroups);
        for (size_t i = 0; i < s->n_annotations; i++) {
                free(s->annotation_keys[i]);
                free(s->annotation_values[i]);
        }
        free(s->annotation_keys);
        free(s->annotation_values);
        *s = (OciState){};
}

bool oci_id_is_valid(const char *id) {
        size_t n = id ? strlen(id) : 0;

        if (n == 0 || n > 1024 || id[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) id[i]) && !strchr("_+-.", id[i]))
                        return false;
        return true;
}

char *oci_state_dir(const char *id) {
        char *s;
        if (asprintf(&s, "%s/%s", oci_globals.root, id) < 0)
                return NULL;
        return s;
}

int oci_state_lock(const char *id, int *ret_fd) {
        _cleanup_free_ char *dir = oci_state_dir(id);
        int fd;

        if (!dir)
                return -ENOMEM;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

static char *dup_string(json_t *o, const char *key) {
        const char *v = json_string_value(json_object_get(o, key));
        return v ? strdup(v) : NULL;
}

int oci_state_read(const char *id, OciState *ret) {
        _cleanup_free_ char *dir = oci_state_dir(id), *path = NULL;
        OciState s = {};
        json_error_t e;
        json_t *o, *v, *a;
        const char *key;
        size_t i;
        int r = -EBADMSG;

        if (!dir || asprintf(&path, "%s/state.json", dir) < 0)
                return -ENOMEM;
        o = json_load_file(path, 0, &e);
        if (!o)
                return access(path, F_OK) < 0 ? -errno : -EBADMSG;
        if (!json_is_object(o))
                goto out;
        s.id = dup_string(o, "id");
        s.bundle = dup_string(o, "bundle");
        s.rootfs = dup_string(o, "rootfs");
        s.created = dup_string(o, "created");
        if (!s.id || !s.bundle || !streq(s.id, id))
                goto out;
        v = json_object_get(o, "pid");
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
                goto out;
        s.pid = (pid_t) json_integer_value(v);
        v = json_object_get(o, "start_time");
        s.start_time = json_is_integer(v) ? (uint64_t) json_integer_value(v) : 0;
        s.no_process = json_is_true(json_object_get(o, "no_process"));
        a = json_object_get(o, "cgroups");
        s.cgroups = calloc(json_array_size(a) + 1, sizeof(char *));
        if (!s.cgroups) {
                r = -ENOMEM;
                goto out;
        }
        json_array_foreach(a, i, v)
                if (json_is_string(v) && !(s.cgroups[i] = strdup(json_string_value(v)))) {
                        r = -ENOMEM;
                        goto out;
                }
        a = json_object_get(o, "annotations");
        if (json_is_object(a) && json_object_size(a) > 0) {
                s.annotation_keys = calloc(json_object_size(a), sizeof(char *));
                s.annotation_values = calloc(json_object_size(a), sizeof(char *));
                if (!s.annotation_keys || !s.annotation_values) {
                        r = -ENOMEM;
                        goto out;
                }
                json_object_foreach(a, key, v) {
                        if (!json_is_string(v))
                                continue;
                        s.annotation_keys[s.n_annotations] = strdup(key);
                        s.annotation_values[s.n_annotations] = strdup(json_string_value(v));
                        s.n_annotations++;
                        if (!s.annotation_keys[s.n_annotations - 1] || !s.annotation_values[s.n_annotations - 1]) {
                                r = -ENOMEM;
                                goto out;
                        }
                }
        }
        *ret = s;
        s = (OciState){};
        r = 0;
out:
        json_decref(o);
        oci_state_done(&s);
        return r;
}

static json_t *annotations_json(const OciState *s) {
        json_t *a = json_object();
        for (size_t i = 0; a && i < s->n_annotations; i++)
                json_object_set_new(a, s->annotation_keys[i], json_string(s->annotation_values[i]));
        return a;
}

int oci_state_write(const OciState *s) {
        _cleanup_free_ char *dir = oci_state_dir(s->id), *path = NULL, *tmp = NULL;
        json_t *o, *cg = json_array();
        int r = 0;

        if (!dir || !cg || asprintf(&path, "%s/state.json", dir) < 0 || asprintf(&tmp, "%s/.state.json.tmp", dir) < 0) {
                json_decref(cg);
                return -ENOMEM;
        }
        for (char **p = s->cgroups; p && *p; p++)
                json_array_append_new(cg, json_string(*p));
        o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o}", "id", s->id, "bundle", s->bundle, "rootfs",
                      s->rootfs ?: "", "created", s->created ?: "", "pid", (json_int_t) s->pid, "start_time",
                      (json_int_t) s->start_time, "cgroups", cg, "annotations", annotations_json(s));
        if (!o)
                return -ENOMEM;
        if (s->no_process)
                json_object_set_new(o, "no_process", json_true());
        if (json_dump_file(o, tmp, JSON_COMPACT) < 0)
                r = -EIO;
        else if (rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        json_decref(o);
        return r;
}

int oci_proc_start_time(pid_t pid, uint64_t *ret, bool *ret_zombie) {
        ProcStat st;
        int r = proc_stat_read(pid, &st);

        if (r < 0)
                return r;
        *ret = st.start_time;
        *ret_zombie = proc_stat_is_zombie(&st);
        return 0;
}

static bool is_frozen(const OciState *s) {
        for (char **p = s->cgroups; p && *p; p++) {
                _cleanup_free_ char *v = NULL, *path = NULL;
                size_t size;

                /* v1: freezer.state in the freezer hierarchy; v2: cgroup.freeze. */
                if (asprintf(&path, "%s/freezer.state", *p) >= 0 && read_file_at(AT_FDCWD, path, 64, &v, &size) >= 0)
                        return strneq(v, "FROZEN", 6);
                free(path);
                path = NULL;
                if (asprintf(&path, "%s/cgroup.freeze", *p) >= 0 && read_file_at(AT_FDCWD, path, 64, &v, &size) >= 0)
                        return v[0] == '1';
        }
        return false;
}

OciStatus oci_state_status(const OciState *s) {
        _cleanup_free_ char *dir = oci_state_dir(s->id), *fifo = NULL;
        uint64_t t;
        bool zombie;

        if (s->pid <= 0)
                return OCI_STATUS_CREATING;
        if (oci_proc_start_time(s->pid, &t, &zombie) < 0 || zombie || t != s->start_time)
                return OCI_STATUS_STOPPED;
        if (dir && asprintf(&fifo, "%s/exec.fifo", dir) >= 0 && access(fifo, F_OK) == 0)
                return OCI_STATUS_CREATED;
        if (is_frozen(s))
                return OCI_STATUS_PAUSED;
        return OCI_STATUS_RUNNING;
}

char *oci_state_format(const OciState *s, OciStatus st, bool compact) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:o}", "ociVersion", "1.0.2", "id", s->id,
                              "status", oci_status_name(st), "pid",
                              (json_int_t) (st == OCI_STATUS_STOPPED ? 0 : s->pid), "bundle", s->bundle, "rootfs",
                              s->rootfs ?: "", "created", s->created ?: "", "annotations", annotations_json(s));
        char *text;

        if (!o)
                return NULL;
        text = json_dumps(o, compact ? JSON_COMPACT : JSON_INDENT(2));
        json_decref(o);
        return text;
}

char *oci_state_format_open(const OciState *s) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "ociVersion", "1.0.2", "id", s->id, "status",
                              oci_status_name(OCI_STATUS_CREATED), "bundle", s->bundle, "rootfs", s->rootfs ?: "",
                              "created", s->created ?: "", "annotations", annotations_json(s));
        char *text;
        size_t n;

        if (!o)
                return NULL;
        text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!text)
                return NULL;
        n = strlen(text);
        if (n > 0 && text[n - 1] == '}')
                text[n - 1] = '\0';
        return text;
}

static int remove_tree_at(int parent, const char *name) {
        _cleanup_close_ int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d;
        struct dirent *de;

        if (fd < 0) {
                if (errno == ENOTDIR || errno == ELOOP)
                        return unlinkat(parent, name, 0) < 0 && errno != ENOENT ? -errno : 0;
                return errno == ENOENT ? 0 : -errno;
        }
        d = fdopendir(TAKE_FD(fd));
        if (!d)
                return -errno;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) remove_tree_at(dirfd(d), de->d_name);
        closedir(d);
        return unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

int oci_state_remove(const char *id) {
        _cleanup_close_ int root = open(oci_globals.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        oci_broker_forget(id);
        if (root < 0)
                return -errno;
        return remove_tree_at(root, id);
}

static int open_process(const OciState *s, int *ret) {
        uint64_t t;
        bool zombie;
        int fd, r;

        if (s->pid <= 0)
                return -ESRCH;
        fd = (int) syscall(SYS_pidfd_open, s->pid, 0);
        if (fd < 0)
                return -errno;
        /* Checked after the pidfd is open: from here on the pidfd names
         * this very process, whatever happens to the number. */
        r = oci_proc_start_time(s->pid, &t, &zombie);
        if (r < 0 || zombie || t != s->start_time) {
                close(fd);
                return -ESRCH;
        }
        *ret = fd;
        return 0;
}

int oci_state_signal(const OciState *s, int sig) {
        _cleanup_close_ int fd = -1;
        int r = open_process(s, &fd);

        if (r < 0)
                return r;
        if (pidfd_send_signal(fd, sig, NULL, 0) < 0)
                return -errno;
        return 0;
}

int oci_state_pids(const OciState *s, pid_t **ret, size_t *ret_n) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, size;
        char *save = NULL;
        int r;

        if (!s->cgroups || !s->cgroups[0]) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        /* Every hierarchy lists the same processes: the first will do. */
        if (asprintf(&path, "%s/cgroup.procs", s->cgroups[0]) < 0)
                return -ENOMEM;
        r = read_file_at(AT_FDCWD, path, 1 << 22, &text, &size);
        if (r == -ENOENT) {
                /* The cgroup is gone: so is every process. */
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                long v = strtol(l, NULL, 10);
                pid_t *a;
                if (v <= 0)
                        continue;
                a = reallocarray(pids, n + 1, sizeof(pid_t));
                if (!a)
                        return -ENOMEM;
                pids = a;
                pids[n++] = (pid_t) v;
        }
        *ret = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}

int oci_state_signal_all(const OciState *s, int sig) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = oci_state_pids(s, &pids, &n);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                (void) kill(pids[i], sig);
        return 0;
}

void oci_cgroup_name(const char *root, const char *id, char ret[static 64]) {
        uint32_t h = 2166136261u; /* FNV-1a */
        char prefix[41];
        size_t k = 0;

        for (const char *p = root; *p; p++)
                h = (h ^ (uint8_t) *p) * 16777619u;
        h = (h ^ '/') * 16777619u;
        for (const char *p = id; *p; p++)
                h = (h ^ (uint8_t) *p) * 16777619u;
        /* What container_name_is_valid() takes: letters, digits, '-', '_'. */
        for (const char *p = id; *p && k < sizeof(prefix) - 1; p++)
                if (isalnum((unsigned char) *p) || *p == '-' || *p == '_')
                        prefix[k++] = *p;
        prefix[k] = '\0';
        if (k == 0 || !isalnum((unsigned char) prefix[0]))
                snprintf(ret, 64, "oci.%08x", h);
        else
                snprintf(ret, 64, "%s.%08x", prefix, h);
}

int oci_write_pid_file(const char *path, pid_t pid) {
        _cleanup_free_ char *tmp = NULL;
        char buf[32];
        int fd, r = 0;

        /* Written whole or not at all: the caller may read it at once. */
        if (asprintf(&tmp, "%s.shuttle-oci.tmp", path) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        snprintf(buf, sizeof(buf), "%d", (int) pid);
        if (write(fd, buf, strlen(buf)) != (ssize_t) strlen(buf))
                r = errno ? -errno : -EIO;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}
