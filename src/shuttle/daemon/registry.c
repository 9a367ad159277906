/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The broker's registry of containers: registration from shuttlectl, the
 * per-container directory and broker.sock, persistence for re-adoption
 * after a broker restart. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/parse.h"
#include "common/proc-stat.h"
#include "shuttle/daemon/core.h"
#include "shuttle/host/control.h"
#include "shuttle/host/nsconnect.h"
#include "runtime/container.h"

#define SOCKET_NAME "broker.sock"

/* Records live outside the directory the container sees: <state>/registry/. */
static int record_path(const Broker *b, const char *name, char *ret, size_t size) {
        if ((size_t) snprintf(ret, size, "%s/registry/%s.json", b->state_dir, name) >= size)
                return -ENAMETOOLONG;
        return 0;
}

/* By a table of the live ones: every request looks its target up, and
 * registration must not cost more with more containers. */
Container *container_find(Broker *b, const char *name) {
        return name ? strmap_get(&b->containers_by_name, name) : NULL;
}

typedef struct PartnerState {
        Broker *b;
        Container *c;
        bool any;
        Container **found;
        size_t n, allocated;
        bool oom;
} PartnerState;

static void partner_add(const char *other, void *userdata) {
        PartnerState *s = userdata;
        Container *t;

        if (s->any)
                return;
        if (!other) {
                s->any = true;
                return;
        }
        t = container_find(s->b, other);
        if (!t || t == s->c || t->partner_mark == s->b->partner_round)
                return;
        if (s->n == s->allocated) {
                size_t n = s->allocated ? s->allocated * 2 : 8;
                Container **f = reallocarray(s->found, n, sizeof(Container *));
                if (!f) {
                        /* Cannot list them: look at all. */
                        s->oom = s->any = true;
                        return;
                }
                s->found = f;
                s->allocated = n;
        }
        t->partner_mark = s->b->partner_round;
        s->found[s->n++] = t;
}

void container_for_each_partner(Broker *b, Container *c, PolicyKind k, bool c_is_from, ContainerPartnerFn fn,
                                void *userdata) {
        PartnerState s = { .b = b, .c = c };

        b->partner_round++;
        if (c_is_from) {
                s.any = c->learn;
                policy_for_each_partner(broker_policy_for(b, c), k, c->name, true, partner_add, &s);
        } else {
                s.any = b->n_learning > 0;
                policy_for_each_partner(b->policy, k, c->name, false, partner_add, &s);
                for (GroupPolicy *g = b->group_policies; g && !s.any; g = g->next)
                        policy_for_each_partner(g->policy, k, c->name, false, partner_add, &s);
        }
        if (s.any) {
                for (Container *t = b->containers, *next; t; t = next) {
                        next = t->next;
                        if (t != c && !t->dead)
                                fn(b, t, userdata);
                }
        } else
                for (size_t i = 0; i < s.n; i++)
                        if (!s.found[i]->dead)
                                fn(b, s.found[i], userdata);
        free(s.found);
}

const Export *container_find_export(const Container *c, const char *name) {
        for (size_t i = 0; i < c->n_exports; i++)
                if (streq(c->exports[i].name, name))
                        return &c->exports[i];
        return NULL;
}

void exports_free(Export *exports, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(exports[i].name);
                free(exports[i].socket);
                free(exports[i].mq);
                free(exports[i].fifo);
                /* A shared-memory object lives as long as its exporter is
                 * registered (and in the mappings of whoever holds it). */
                safe_close(exports[i].shm_fd);
        }
        free(exports);
}

/* One export from a registration or a saved record: a valid name and
 * exactly one of socket, port, mq, shm and fifo.  -EINVAL if it is not
 * that. */
static int export_parse(json_t *v, Export *ret) {
        const char *en = json_string_value(json_object_get(v, "name"));
        const char *es = json_string_value(json_object_get(v, "socket"));
        const char *eq = json_string_value(json_object_get(v, "mq"));
        const char *ef = json_string_value(json_object_get(v, "fifo"));
        json_t *pj = json_object_get(v, "port"), *sj = json_object_get(v, "shm");
        json_int_t port = json_integer_value(pj), shm = json_integer_value(sj);
        Export e = { .shm_fd = -1 };

        if (!en || !container_name_is_valid(en) || !!es + !!eq + !!pj + !!sj + !!ef != 1)
                return -EINVAL;
        if (es ? !path_is_clean_absolute(es) || strlen(es) >= PATH_MAX
            : ef ? !path_is_clean_absolute(ef) || strlen(ef) >= PATH_MAX
            : eq ? !mq_name_is_valid(eq)
            : sj ? !json_is_integer(sj) || shm <= 0 || (uint64_t) shm > CONTAINER_EXPORT_SHM_MAX
                 : !json_is_integer(pj) || port <= 0 || port > 65535)
                return -EINVAL;
        e.name = strdup(en);
        e.socket = es ? strdup(es) : NULL;
        e.mq = eq ? strdup(eq) : NULL;
        e.fifo = ef ? strdup(ef) : NULL;
        e.port = pj ? (uint16_t) port : 0;
        e.shm_size = sj ? (uint64_t) shm : 0;
        if (!e.name || (es && !e.socket) || (eq && !e.mq) || (ef && !e.fifo)) {
                free(e.name);
                free(e.socket);
                free(e.mq);
                free(e.fifo);
                return -ENOMEM;
        }
        *ret = e;
        return 0;
}

static json_t *export_record(const Export *e) {
        return control_export_json(e->name, e->socket, e->mq, e->shm_size, e->fifo, e->port);
}

int container_root_fd(Container *c) {
        if (c->root_fd < 0 && !c->dead) {
                int fd = ns_open_root(c->pid, c->pidfd.fd, true);
                if (fd < 0)
                        return fd;
                c->root_fd = fd;
        }
        return c->root_fd >= 0 ? c->root_fd : -ESRCH;
}

int container_netns_fd(Container *c) {
        if (c->netns_fd < 0 && !c->dead) {
                int fd = ns_open_netns(c->pid, c->pidfd.fd);
                if (fd < 0)
                        return fd;
                c->netns_fd = fd;
        }
        return c->netns_fd >= 0 ? c->netns_fd : -ESRCH;
}

void container_free(void *p) {
        Container *c = p;

        if (!c)
                return;
        safe_close(c->root_fd);
        safe_close(c->netns_fd);
        free(c->name);
        free(c->group);
        free(c->qname);
        exports_free(c->exports, c->n_exports);
        resolve_table_free(c->names);
        free(c);
}

static int save_record(const Container *c) {
        char path[PATH_MAX + 32], tmp[PATH_MAX + 48];
        json_t *exports = json_array(), *o;
        int r;

        r = record_path(c->broker, c->name, path, sizeof(path));
        if (r < 0)
                return r;

        for (size_t i = 0; exports && i < c->n_exports; i++)
                json_array_append_new(exports, export_record(&c->exports[i]));
        o = json_pack("{s:s, s:s?, s:i, s:I, s:o*, s:b}", "name", c->name, "group", c->group, "pid", (int) c->pid,
                      "start_time", (json_int_t) c->start_time, "exports", exports, "learn", c->learn);
        if (!o)
                return -ENOMEM;
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        r = json_dump_file(o, tmp, JSON_COMPACT);
        json_decref(o);
        if (r < 0)
                return -EIO;
        return rename(tmp, path) < 0 ? -errno : 0;
}

static void remove_record(const Broker *b, const char *name) {
        char path[PATH_MAX + 32];
        if (record_path(b, name, path, sizeof(path)) >= 0)
                (void) unlink(path);
}

static void remove_dir(const char *dir) {
        char path[PATH_MAX + 32];
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        snprintf(path, sizeof(path), "%s/svc", dir);
        d = opendir(path);
        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.')
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        (void) rmdir(path);
        snprintf(path, sizeof(path), "%s/%s", dir, SOCKET_NAME);
        (void) unlink(path);
        apps_remove_dir(dir);
        snprintf(path, sizeof(path), "%s/bin/shuttle-invoke", dir);
        (void) unlink(path);
        snprintf(path, sizeof(path), "%s/bin/shuttle-name", dir);
        (void) unlink(path);
        snprintf(path, sizeof(path), "%s/bin/shuttle-transfer", dir);
        (void) unlink(path);
        snprintf(path, sizeof(path), "%s/bin", dir);
        (void) rmdir(path);
        snprintf(path, sizeof(path), "%s/xfer", dir); /* empty once transfers are revoked */
        (void) rmdir(path);
        (void) rmdir(dir);
}

static int listen_container(Container *c) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if ((size_t) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", c->dir, SOCKET_NAME) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(sa.sun_path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        /* Any user inside the container may talk to the broker: who they
         * are is the channel, not the file mode.  On the host the path is
         * closed by broker/ (0700), and a peer that reaches it anyway is
         * refused at accept unless it is a process of this container. */
        if (chmod(sa.sun_path, 0666) < 0 || listen(fd, 16) < 0)
                return -errno;
        c->listen = (Source){ .type = SRC_CONTAINER_LISTEN, .fd = TAKE_FD(fd) };
        return 0;
}

/* Common to a new registration and a re-adoption.  Takes ownership of the
 * exports array. */
static int container_add(Broker *b, const char *name, const char *group, bool learn, pid_t pid,
                         uint64_t expect_start, Export *exports, size_t n_exports, Container **ret,
                         char **ret_error) {
        Container *c;
        struct stat st;
        ProcStat ps;
        char path[64];
        int r;

        c = calloc(1, sizeof(*c));
        if (!c) {
                exports_free(exports, n_exports);
                return -ENOMEM;
        }
        c->broker = b;
        c->listen.fd = c->pidfd.fd = c->root_fd = c->netns_fd = -1;
        c->exports = exports;
        c->n_exports = n_exports;
        c->pid = pid;
        c->learn = learn;
        c->name = strdup(name);
        c->group = group ? strdup(group) : NULL;
        if (group)
                r = asprintf(&c->qname, "%s/%s", group, name);
        else
                r = (c->qname = strdup(name)) ? 0 : -1;
        if (!c->name || (group && !c->group) || r < 0) {
                r = -ENOMEM;
                goto fail;
        }

        c->pidfd = (Source){ .type = SRC_CONTAINER_PIDFD, .fd = pidfd_open(pid, 0) };
        if (c->pidfd.fd < 0) {
                r = -errno;
                (void) asprintf(ret_error, "container '%s': no process %d", name, (int) pid);
                goto fail;
        }
        r = proc_stat_read(pid, &ps);
        if (r >= 0)
                c->start_time = ps.start_time;
        if (r < 0 || (expect_start && expect_start != c->start_time)) {
                r = r < 0 ? r : -ESRCH;
                (void) asprintf(ret_error, "container '%s': process %d is gone", name, (int) pid);
                goto fail;
        }
        /* Requests are checked against the container's pid namespace. */
        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int) pid);
        if (stat(path, &st) < 0) {
                r = -errno;
                goto fail;
        }
        c->pidns_dev = st.st_dev;
        c->pidns_ino = st.st_ino;
        /* The peer check on its sockets (accept.c) tells its processes
         * from everyone else's by this namespace: one the host shares
         * would let every host process pass as the container. */
        if (stat("/proc/self/ns/pid", &st) < 0 || (st.st_dev == c->pidns_dev && st.st_ino == c->pidns_ino)) {
                r = -EPERM;
                (void) asprintf(ret_error, "container '%s': process %d is in the host's pid namespace", name,
                                (int) pid);
                goto fail;
        }

        /* Its directory, closed on the host (see control.h): 0755 for the
         * container's users inside, under a 0700 broker/. */
        r = control_container_dir_create(b->state_dir, name, c->dir, sizeof(c->dir));
        if (r < 0)
                goto fail;
        {
                _cleanup_close_ int dfd = open(c->dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd < 0) {
                        r = -errno;
                        goto fail_dir;
                }
                /* svc/: the proxy sockets.  bin/: /run/shuttle/bin/shuttle-
                 * invoke, shuttle-name and shuttle-transfer; the runtime
                 * binds the helpers at /run/shuttle-bin/ (this directory is
                 * bound read-only and noexec), links make the documented
                 * names work.  apps/<target>/<name>:
                 * links to the same helper, kept in step with the policy by
                 * apps.c. */
                if ((r = control_dir_ensure(dfd, "svc", 0755)) < 0 ||
                    (r = control_dir_ensure(dfd, "bin", 0755)) < 0 ||
                    (r = control_dir_ensure(dfd, "apps", 0755)) < 0)
                        goto fail_dir;
                if ((symlinkat(SHUTTLE_INVOKE_PATH, dfd, "bin/shuttle-invoke") < 0 && errno != EEXIST) ||
                    (symlinkat(SHUTTLE_NAME_PATH, dfd, "bin/shuttle-name") < 0 && errno != EEXIST) ||
                    (symlinkat(SHUTTLE_TRANSFER_PATH, dfd, "bin/shuttle-transfer") < 0 && errno != EEXIST)) {
                        r = -errno;
                        goto fail_dir;
                }
        }
        r = listen_container(c);
        if (r < 0)
                goto fail_dir;
        r = save_record(c);
        if (r < 0)
                goto fail_dir;
        r = broker_watch(b, &c->listen, EPOLLIN);
        if (r >= 0)
                r = broker_watch(b, &c->pidfd, EPOLLIN);
        if (r >= 0)
                r = strmap_put(&b->containers_by_name, c->name, c);
        if (r < 0)
                goto fail_dir;

        c->next = b->containers;
        if (c->next)
                c->next->prev_next = &c->next;
        c->prev_next = &b->containers;
        b->containers = c;
        b->n_containers++;
        if (c->learn)
                b->n_learning++;
        *ret = c;
        return 0;

fail_dir:
        remove_dir(c->dir);
        remove_record(b, name);
fail:
        broker_unwatch(b, &c->listen);
        broker_unwatch(b, &c->pidfd);
        container_free(c);
        return r;
}

static void audit_lifecycle(Broker *b, Container *c, const char *op, const char *reason) {
        broker_audit_event(b, &(AuditEvent){
                                .from = c,
                                .to = c->name,
                                .kind = "container",
                                .op = op,
                                .object = c->name,
                                .allow = true,
                                .rule = "-",
                                .reason = reason,
                                .extra = c->learn ? json_pack("{s:i, s:b}", "pid", (int) c->pid, "learn", 1)
                                                  : json_pack("{s:i}", "pid", (int) c->pid),
                        });
}

int container_register(Broker *b, json_t *req, Container **ret, char **ret_error) {
        const char *name = json_string_value(json_object_get(req, "name"));
        const char *group = json_string_value(json_object_get(req, "group"));
        json_t *pidj = json_object_get(req, "pid"), *exj = json_object_get(req, "exports"), *v;
        json_t *learnj = json_object_get(req, "learn");
        Export *exports = NULL;
        size_t n = 0, i;
        Container *c;
        int r;

        if (!name || !container_name_is_valid(name))
                return (void) asprintf(ret_error, "invalid container name"), -EINVAL;
        if (group && !container_name_is_valid(group))
                return (void) asprintf(ret_error, "invalid group name '%s'", group), -EINVAL;
        if (!json_is_integer(pidj) || json_integer_value(pidj) <= 0 || json_integer_value(pidj) > INT32_MAX)
                return (void) asprintf(ret_error, "invalid pid"), -EINVAL;
        if (container_find(b, name))
                return (void) asprintf(ret_error, "a container named '%s' is already registered", name), -EEXIST;
        if (b->n_containers >= BROKER_CONTAINERS_MAX)
                return (void) asprintf(ret_error, "too many containers"), -EUSERS;
        /* Learn mode is the registration's: only the operator (root on
         * the control socket, through shuttlectl) sets it; nothing a
         * container sends on its broker.sock can. */
        if (learnj && !json_is_boolean(learnj))
                return (void) asprintf(ret_error, "invalid learn (a boolean)"), -EINVAL;
        if (exj && (!json_is_array(exj) || json_array_size(exj) > BROKER_EXPORTS_MAX))
                return (void) asprintf(ret_error, "invalid exports (at most %d)", BROKER_EXPORTS_MAX), -EINVAL;

        exports = calloc(json_array_size(exj) + 1, sizeof(Export));
        if (!exports)
                return -ENOMEM;
        json_array_foreach(exj, i, v) {
                r = export_parse(v, &exports[n]);
                if (r < 0) {
                        if (r == -EINVAL)
                                (void) asprintf(ret_error,
                                                "export %zu: expected a name and one of an absolute socket path, "
                                                "a TCP port, a queue name (mq), a size (shm) or a FIFO path",
                                                i);
                        goto fail;
                }
                n++;
                for (size_t j = 0; j + 1 < n; j++)
                        if (streq(exports[j].name, exports[n - 1].name)) {
                                r = -EEXIST;
                                (void) asprintf(ret_error, "two exports named '%s'", exports[j].name);
                                goto fail;
                        }
        }

        r = container_add(b, name, group, json_is_true(learnj), (pid_t) json_integer_value(pidj), 0, exports, n, &c,
                          ret_error);
        if (r < 0)
                return r;
        log_info("Container '%s' registered (pid %d, %zu export%s%s)", c->qname, (int) c->pid, c->n_exports,
                 c->n_exports == 1 ? "" : "s", c->learn ? ", in learn mode" : "");
        {
                json_int_t restarts = json_integer_value(json_object_get(req, "restarts"));
                char why[96];
                if (restarts > 0)
                        snprintf(why, sizeof(why), "restarted by its group (restart %lld)", (long long) restarts);
                /* Dependents learn of a restart from this record. */
                audit_lifecycle(b, c, restarts > 0 ? "restart" : "start", restarts > 0 ? why : "registered");
        }
        ipc_sync_proxies_added(b, c);
        depend_sync_added(b, c);
        apps_sync_added(b, c);
        *ret = c;
        return 0;

fail:
        exports_free(exports, n);
        return r;
}

void container_unregister(Broker *b, Container *c, const char *why) {
        if (c->dead)
                return;
        log_info("Container '%s' %s", c->qname, why);
        audit_lifecycle(b, c, "stop", why);
        broker_drop_clients_of(b, c);
        ask_container_gone(b, c);
        broker_forget_container(b, c);
        resolve_forget_container(b, c);
        depend_forget_container(b, c);
        ipc_drop_relays_of(b, c);
        ipc_sync_proxies_removed(b, c);
        apps_sync_removed(b, c);
        broker_unwatch(b, &c->listen);
        broker_unwatch(b, &c->pidfd);
        c->root_fd = safe_close(c->root_fd);
        c->netns_fd = safe_close(c->netns_fd);
        remove_dir(c->dir);
        remove_record(b, c->name);
        c->dead = true;
        (void) strmap_remove(&b->containers_by_name, c->name);
        if (c->prev_next) {
                *c->prev_next = c->next;
                if (c->next)
                        c->next->prev_next = c->prev_next;
        }
        b->n_containers--;
        if (c->learn)
                b->n_learning--;
        broker_defer_free(b, c, container_free);
}

static int readopt_one(Broker *b, const char *path) {
        json_t *o, *exj, *v;
        Export *exports = NULL;
        size_t n = 0, i;
        Container *c;
        char *error = NULL;
        int r;

        o = json_load_file(path, 0, NULL);
        if (!o)
                return -EBADMSG;
        exj = json_object_get(o, "exports");
        exports = calloc(json_array_size(exj) + 1, sizeof(Export));
        if (!exports) {
                json_decref(o);
                return -ENOMEM;
        }
        json_array_foreach(exj, i, v)
                if (i < BROKER_EXPORTS_MAX && export_parse(v, &exports[n]) >= 0)
                        n++;
        {
                const char *name = json_string_value(json_object_get(o, "name"));
                r = name && container_name_is_valid(name)
                            ? container_add(b, name, json_string_value(json_object_get(o, "group")),
                                            json_is_true(json_object_get(o, "learn")),
                                            (pid_t) json_integer_value(json_object_get(o, "pid")),
                                            (uint64_t) json_integer_value(json_object_get(o, "start_time")),
                                            exports, n, &c, &error)
                            : -EBADMSG;
                if (r < 0 && name && container_name_is_valid(name)) {
                        /* Its container is gone: so goes what it left. */
                        char dir[PATH_MAX];
                        if (control_container_dir(b->state_dir, name, dir, sizeof(dir)) >= 0)
                                remove_dir(dir);
                }
        }
        json_decref(o);
        free(error);
        if (r < 0)
                return r;
        log_info("Re-adopted container '%s' (pid %d)", c->qname, (int) c->pid);
        audit_lifecycle(b, c, "adopt", "re-adopted after a broker restart");
        invoke_reap_leftovers(b, c);
        return 0;
}

int registry_readopt(Broker *b) {
        char base[PATH_MAX];
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int n = 0;

        snprintf(base, sizeof(base), "%s/registry", b->state_dir);
        d = opendir(base);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                char path[PATH_MAX + 256];
                size_t len = strlen(de->d_name);
                if (de->d_name[0] == '.' || len < 6 || !streq(de->d_name + len - 5, ".json"))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
                if (readopt_one(b, path) < 0)
                        (void) unlink(path);
                else
                        n++;
        }
        /* What the containers were granted comes back to the books, or
         * goes (invariant 11), before the policy is applied to them. */
        grants_restore(b);
        if (n > 0) {
                ipc_sync_proxies(b);
                depend_sync(b);
                apps_sync(b);
        }
        return n;
}
