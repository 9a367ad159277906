/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One container of a group file: a key → handler table.  Values are
 * checked the way `shuttlectl run` checks the matching options, with the
 * same wording where there is one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "runtime/group-internal.h"
#include "runtime/image.h"

typedef struct ContainerState {
        size_t index;                   /* SIZE_MAX: a duplicate, checked only */
} ContainerState;

typedef int (*container_handler)(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key,
                                 const YNode *v);

static int append(GroupContext *c, void **array, size_t *n, size_t size, const void *item) {
        void *a = reallocarray(*array, *n + 1, size);
        if (!a)
                return (c->oom = -ENOMEM);
        memcpy((char *) a + *n * size, item, size);
        *array = a;
        (*n)++;
        return 0;
}

static int ck_command(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key, const YNode *v) {
        return group_want_command(c, "command", v, &gc->config.argv);
}

static int ck_rootfs(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key, const YNode *v) {
        const char *s;

        if (group_want_string(c, "rootfs", v, &s) < 0)
                return -EINVAL;
        if (streq(s, "host"))
                return 0;  /* NULL: the built-in host rootfs */
        if (*s == 0 || streq(s, "oci:")) {
                group_error(c, v, "'rootfs': expected 'host', a directory, DIR:TAG or oci:DIR[:TAG]");
                return -EINVAL;
        }
        /* An image (oci:DIR[:TAG], DIR:TAG) is resolved by whoever starts
         * the group (runtime/image.h); its DIR too is relative to the
         * group file. */
        if (strneq(s, "oci:", 4)) {
                _cleanup_free_ char *rest = NULL;
                if (group_resolve_path(c, s + 4, &rest) < 0)
                        return c->oom;
                if (asprintf(&gc->config.rootfs, "oci:%s", rest) < 0) {
                        gc->config.rootfs = NULL;
                        return (c->oom = -ENOMEM);
                }
                return 0;
        }
        return group_resolve_path(c, s, &gc->config.rootfs);
}

/* An image may give the command (Entrypoint + Cmd). */
static bool rootfs_is_image(const char *rootfs) {
        RootfsRef ref = {};
        bool image;

        if (rootfs && strneq(rootfs, "oci:", 4))
                return true; /* said so: checked when the group starts */
        if (!rootfs || image_rootfs_parse(rootfs, image_probe_path, NULL, &ref, NULL, 0) < 0)
                return false;
        image = ref.kind == ROOTFS_LAYOUT;
        rootfs_ref_done(&ref);
        return image;
}

static int ck_hostname(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key,
                       const YNode *v) {
        const char *s;

        if (group_want_string(c, "hostname", v, &s) < 0)
                return -EINVAL;
        if (strlen(s) == 0 || strlen(s) > 64 || strchr(s, '/')) {
                group_error(c, v, "'hostname': '%s' is not a valid host name (1-64 characters, no '/')", s);
                return -EINVAL;
        }
        gc->config.hostname = strdup(s);
        return gc->config.hostname ? 0 : (c->oom = -ENOMEM);
}

static bool env_name_is_valid(const char *s) {
        static const char first[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";

        return *s && strchr(first, *s) && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
                                                    "0123456789") == strlen(s);
}

static int ck_env(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key, const YNode *v) {
        bool ok = true;

        if (group_want_mapping(c, "env", v) < 0)
                return -EINVAL;
        for (size_t i = 0; i + 1 < v->n_items; i += 2) {
                const YNode *name = v->items[i], *val = v->items[i + 1];
                const char *s;
                char *kv;
                bool dup = false;

                if (group_want_string(c, "env", name, &s) < 0) {
                        ok = false;
                        continue;
                }
                if (!env_name_is_valid(s)) {
                        group_error(c, name, "'env': invalid variable name '%s' (expected [A-Za-z_][A-Za-z0-9_]*)",
                                    s);
                        ok = false;
                        continue;
                }
                for (size_t j = 0; j < i && !dup; j += 2)
                        if (v->items[j]->type == YNODE_SCALAR && streq(v->items[j]->value, s)) {
                                group_error(c, name, "'env': '%s' is set twice (first at line %u column %u)", s,
                                            v->items[j]->line, v->items[j]->column);
                                dup = true;
                        }
                if (dup) {
                        ok = false;
                        continue;
                }
                if (group_want_string(c, s, val, &s) < 0) {
                        ok = false;
                        continue;
                }
                if (asprintf(&kv, "%s=%s", name->value, s) < 0)
                        return (c->oom = -ENOMEM);
                if (append(c, (void **) &gc->config.env, &gc->config.n_env, sizeof(char *), &kv) < 0) {
                        free(kv);
                        return c->oom;
                }
        }
        return ok ? 0 : -EINVAL;
}

static int ck_user(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key, const YNode *v) {
        const char *s;

        if (group_want_string(c, "user", v, &s) < 0)
                return -EINVAL;
        if (parse_uid_gid(s, &gc->config.uid, &gc->config.gid, NULL) < 0) {
                group_error(c, v, "'user': '%s': expected numeric UID or UID:GID", s);
                return -EINVAL;
        }
        gc->config.has_user = true;
        return 0;
}

static int ck_workdir(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key,
                      const YNode *v) {
        return group_want_clean_path(c, "workdir", v, &gc->config.workdir);
}

static int parse_volume(GroupContext *c, const YNode *v, Volume *ret) {
        _cleanup_free_ char *copy = NULL;
        const char *arg;
        char *src, *dst, *mode;

        if (group_want_string(c, "volumes", v, &arg) < 0)
                return -EINVAL;
        if (!(copy = strdup(arg)))
                return (c->oom = -ENOMEM);
        src = copy;
        dst = strchr(src, ':');
        if (!dst || dst == src) {
                group_error(c, v, "'volumes': '%s': expected SRC:DST[:ro|rw]", arg);
                return -EINVAL;
        }
        *dst++ = '\0';
        mode = strchr(dst, ':');
        if (mode)
                *mode++ = '\0';
        if (!path_is_clean_absolute(dst) || streq(dst, "/")) {
                group_error(c, v,
                            "'volumes': '%s': destination must be an absolute path other than / "
                            "without '.' or '..'",
                            arg);
                return -EINVAL;
        }
        if (mode && !streq(mode, "ro") && !streq(mode, "rw")) {
                group_error(c, v, "'volumes': '%s': mode must be 'ro' or 'rw'", arg);
                return -EINVAL;
        }
        /* A relative source is relative to the group file's directory. */
        if (group_resolve_path(c, src, &ret->source) < 0)
                return c->oom;
        if (!(ret->destination = strdup(dst))) {
                free(ret->source);
                return (c->oom = -ENOMEM);
        }
        ret->read_only = mode && streq(mode, "ro");
        return 0;
}

static int ck_volumes(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key,
                      const YNode *v) {
        bool ok = true;

        if (group_want_list(c, "volumes", v) < 0)
                return -EINVAL;
        for (size_t i = 0; i < v->n_items && !c->oom; i++) {
                Volume vol = {};
                bool dup = false;

                if (parse_volume(c, v->items[i], &vol) < 0) {
                        ok = false;
                        continue;
                }
                for (size_t j = 0; j < gc->config.n_volumes && !dup; j++)
                        dup = streq(gc->config.volumes[j].destination, vol.destination);
                if (dup) {
                        group_error(c, v->items[i], "'volumes': two volumes at '%s'", vol.destination);
                        ok = false;
                } else if (append(c, (void **) &gc->config.volumes, &gc->config.n_volumes, sizeof(Volume),
                                  &vol) >= 0)
                        continue;
                free(vol.source);
                free(vol.destination);
        }
        return c->oom ?: ok ? 0 : -EINVAL;
}

/* limits: { memory: 64M, pids: 64, cpus: 0.5 } */
static int lk_memory(GroupContext *c, GroupContainer *gc, const YNode *v) {
        const char *s;
        uint64_t n;

        if (group_want_string(c, "memory", v, &s) < 0)
                return -EINVAL;
        if (parse_size(s, &n) < 0 || n < 4096) {
                group_error(c, v, "'memory': invalid size '%s' (expected e.g. 64M or 1G, at least 4K)", s);
                return -EINVAL;
        }
        gc->config.limits.memory_bytes = n;
        return 0;
}

static int lk_pids(GroupContext *c, GroupContainer *gc, const YNode *v) {
        const char *s;
        uint64_t n;

        if (group_want_string(c, "pids", v, &s) < 0)
                return -EINVAL;
        gc->config.limits.pids_default = false;
        if (streq(s, "max")) { /* no limit, not even the default */
                gc->config.limits.pids_max = 0;
                return 0;
        }
        if (parse_uint64(s, &n) < 0 || n == 0) {
                group_error(c, v, "'pids': invalid count '%s' (expected a positive number or max)", s);
                return -EINVAL;
        }
        gc->config.limits.pids_max = n;
        return 0;
}

static int lk_cpus(GroupContext *c, GroupContainer *gc, const YNode *v) {
        const char *s;
        uint64_t quota;

        if (group_want_string(c, "cpus", v, &s) < 0)
                return -EINVAL;
        if (parse_cpus(s, &quota) < 0) {
                group_error(c, v, "'cpus': invalid CPU count '%s' (expected e.g. 0.5 or 2, between 0.01 and 1024)",
                            s);
                return -EINVAL;
        }
        gc->config.limits.cpu_quota_usec = quota;
        gc->config.limits.cpu_period_usec = CPU_PERIOD_USEC;
        return 0;
}

static const struct LimitKey {
        const char *name;
        int (*handler)(GroupContext *c, GroupContainer *gc, const YNode *v);
} limit_keys[] = {
        { "memory", lk_memory },
        { "pids", lk_pids },
        { "cpus", lk_cpus },
};

static int ck_limits(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key,
                     const YNode *v) {
        GroupKeySeen seen = {};
        bool ok = true;

        if (group_want_mapping(c, "limits", v) < 0)
                return -EINVAL;
        for (size_t i = 0; i + 1 < v->n_items && !c->oom; i += 2) {
                int k = group_lookup_key(c, v->items[i], limit_keys, sizeof(limit_keys[0]), ELEMENTSOF(limit_keys),
                                         &seen, "in 'limits' (expected memory, pids or cpus)");
                if (k < 0 || limit_keys[k].handler(c, gc, v->items[i + 1]) < 0)
                        ok = false;
        }
        return c->oom ?: ok ? 0 : -EINVAL;
}

static int ck_net(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key, const YNode *v) {
        const char *s;

        if (group_want_string(c, "net", v, &s) < 0)
                return -EINVAL;
        if (streq(s, "loopback"))
                gc->config.net = NET_LOOPBACK;
        else if (streq(s, "none"))
                gc->config.net = NET_NONE;
        else if (streq(s, "bridge"))
                gc->config.net = NET_BRIDGE;
        else {
                group_error(c, v, "'net': '%s': expected 'none', 'loopback' or 'bridge'", s);
                return -EINVAL;
        }
        return 0;
}

/* exports: - { name: kv, socket: /run/kv.sock } | { name: web, tcp: 8080 } |
 *            { name: jobs, mq: /jobs } | { name: frames, shm: 16M } |
 *            { name: logs, fifo: /run/logs.fifo } */
enum { EK_NAME, EK_SOCKET, EK_TCP, EK_FIFO, EK_MQ, EK_SHM, _EK_MAX };

static const struct ExportKey {
        const char *name;
        GroupExportType type;
} export_keys[_EK_MAX] = {
        [EK_NAME] = { "name", 0 },
        [EK_SOCKET] = { "socket", GROUP_EXPORT_SOCKET },
        [EK_TCP] = { "tcp", GROUP_EXPORT_TCP },
        [EK_FIFO] = { "fifo", GROUP_EXPORT_FIFO },
        [EK_MQ] = { "mq", GROUP_EXPORT_MQ },
        [EK_SHM] = { "shm", GROUP_EXPORT_SHM },
};

static int parse_export(GroupContext *c, const YNode *node, ContainerExport *ret, const YNode **ret_name) {
        const YNode *type_key = NULL, *type_value = NULL, *name = NULL;
        GroupKeySeen seen = {};
        ContainerExport e = {};
        bool ok = true;
        int type = -1;
        const char *s;

        if (node->bad)
                return -EINVAL;
        if (node->type != YNODE_MAPPING) {
                group_error(c, node, "an export must be a mapping like { name: kv, socket: /run/kv.sock }, not %s",
                            ynode_type_name(node));
                return -EINVAL;
        }
        for (size_t i = 0; i + 1 < node->n_items; i += 2) {
                const YNode *key = node->items[i];
                int k = group_lookup_key(c, key, export_keys, sizeof(export_keys[0]), ELEMENTSOF(export_keys), &seen,
                                         "in an export (expected name and one of socket, tcp, fifo, mq or shm)");
                if (k < 0)
                        ok = false;
                else if (k == EK_NAME)
                        name = node->items[i + 1];
                else if (type_key) {
                        group_error(c, key, "an export has exactly one of socket, tcp, fifo, mq or shm ('%s' and '%s')",
                                    type_key->value, key->value);
                        ok = false;
                } else {
                        type_key = key;
                        type_value = node->items[i + 1];
                        type = (int) export_keys[k].type;
                }
        }
        if (name) {
                if (group_want_string(c, "name", name, &s) < 0)
                        ok = false;
                else if (!container_name_is_valid(s)) {
                        group_error(c, name,
                                    "export name '%s' is not valid (1-63 characters of A-Z a-z 0-9 _ . -, "
                                    "starting with a letter or digit)",
                                    s);
                        ok = false;
                }
        } else {
                if (!c->truncated)
                        group_error(c, node, "export has no 'name'");
                ok = false;
        }
        if (!type_key) {
                if (!c->truncated)
                        group_error(c, node, "export needs one of socket, tcp, fifo, mq or shm");
                return -EINVAL;
        }
        switch (type) {
        case GROUP_EXPORT_SOCKET:
                if (group_want_clean_path(c, "socket", type_value, &e.socket) < 0)
                        ok = false;
                break;
        case GROUP_EXPORT_TCP:
                if (group_want_port(c, "tcp", type_value, &e.port) < 0)
                        ok = false;
                break;
        case GROUP_EXPORT_FIFO:
                if (group_want_clean_path(c, "fifo", type_value, &e.fifo) < 0)
                        ok = false;
                break;
        case GROUP_EXPORT_MQ:
                if (group_want_string(c, "mq", type_value, &s) < 0)
                        ok = false;
                else if (!mq_name_is_valid(s)) {
                        group_error(c, type_value,
                                    "'mq': '%s': expected a queue name as mq_open() takes it (one leading '/', "
                                    "at most %d more characters, no other '/')",
                                    s, MQ_NAME_MAX);
                        ok = false;
                } else if (!(e.mq = strdup(s)))
                        return (c->oom = -ENOMEM);
                break;
        case GROUP_EXPORT_SHM:
                if (group_want_string(c, "shm", type_value, &s) < 0)
                        ok = false;
                else if (parse_size(s, &e.shm_size) < 0 || e.shm_size == 0 ||
                         e.shm_size > CONTAINER_EXPORT_SHM_MAX) {
                        group_error(c, type_value, "'shm': invalid size '%s' (expected e.g. 16M, 1 byte to 64G)", s);
                        ok = false;
                }
                break;
        }
        if (!ok) {
                free(e.socket);
                free(e.mq);
                free(e.fifo);
                return -EINVAL;
        }
        if (!(e.name = strdup(name->value))) {
                free(e.socket);
                free(e.mq);
                free(e.fifo);
                return (c->oom = -ENOMEM);
        }
        *ret = e;
        *ret_name = name;
        return 0;
}

static int ck_exports(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key,
                      const YNode *v) {
        _cleanup_free_ const YNode **names = NULL;
        bool ok = true;

        if (group_want_list(c, "exports", v) < 0)
                return -EINVAL;
        names = calloc(v->n_items + 1, sizeof(YNode *));
        if (!names)
                return (c->oom = -ENOMEM);
        for (size_t i = 0; i < v->n_items && !c->oom; i++) {
                ContainerExport e = {};
                const YNode *name = NULL;
                bool dup = false;

                if (parse_export(c, v->items[i], &e, &name) < 0) {
                        ok = false;
                        continue;
                }
                for (size_t j = 0; j < gc->config.n_exports && !dup; j++)
                        if (streq(gc->config.exports[j].name, e.name)) {
                                group_error(c, name, "two exports named '%s' (first at line %u column %u)", e.name,
                                            names[j]->line, names[j]->column);
                                dup = true;
                        }
                if (!dup) {
                        names[gc->config.n_exports] = name;
                        if (append(c, (void **) &gc->config.exports, &gc->config.n_exports,
                                   sizeof(ContainerExport), &e) >= 0)
                                continue;
                }
                ok = false;
                free(e.name);
                free(e.socket);
                free(e.mq);
                free(e.fifo);
        }
        return c->oom ?: ok ? 0 : -EINVAL;
}

static int ck_depends_on(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key,
                         const YNode *v) {
        _cleanup_strv_free_ char **deps = NULL;
        _cleanup_free_ const YNode **nodes = NULL;
        size_t n = 0;
        bool ok = true;

        if (group_want_list(c, "depends_on", v) < 0)
                return -EINVAL;
        deps = calloc(v->n_items + 1, sizeof(char *));
        nodes = calloc(v->n_items + 1, sizeof(YNode *));
        if (!deps || !nodes)
                return (c->oom = -ENOMEM);
        for (size_t i = 0; i < v->n_items; i++) {
                const YNode *item = v->items[i];
                const char *s;
                bool dup = false;

                if (group_want_string(c, "depends_on", item, &s) < 0) {
                        ok = false;
                        continue;
                }
                if (streq(s, gc->name)) {
                        group_error(c, item, "'%s' cannot depend on itself", s);
                        ok = false;
                        continue;
                }
                for (size_t j = 0; j < n && !dup; j++)
                        if (streq(deps[j], s)) {
                                group_error(c, item, "'depends_on': '%s' is listed twice", s);
                                dup = true;
                        }
                if (dup) {
                        ok = false;
                        continue;
                }
                if (!(deps[n] = strdup(s)))
                        return (c->oom = -ENOMEM);
                nodes[n++] = item;
        }
        gc->depends_on = TAKE_PTR(deps);
        gc->n_depends_on = n;
        if (st->index != SIZE_MAX)
                c->dep_nodes[st->index] = TAKE_PTR(nodes);
        return ok ? 0 : -EINVAL;
}

/* ready: { socket: PATH | tcp: PORT | command: CMD, timeout: DURATION } */
enum { RK_SOCKET, RK_TCP, RK_COMMAND, RK_TIMEOUT, _RK_MAX };

static const struct ReadyKey {
        const char *name;
} ready_keys[_RK_MAX] = {
        [RK_SOCKET] = { "socket" },
        [RK_TCP] = { "tcp" },
        [RK_COMMAND] = { "command" },
        [RK_TIMEOUT] = { "timeout" },
};

static int ck_ready(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key, const YNode *v) {
        GroupKeySeen seen = {};
        GroupReady *rd = &gc->ready;
        const YNode *what = NULL;
        bool ok = true;

        if (group_want_mapping(c, "ready", v) < 0)
                return -EINVAL;
        for (size_t i = 0; i + 1 < v->n_items && !c->oom; i += 2) {
                const YNode *k_node = v->items[i], *val = v->items[i + 1];
                int k = group_lookup_key(c, k_node, ready_keys, sizeof(ready_keys[0]), ELEMENTSOF(ready_keys),
                                         &seen, "in 'ready' (expected socket, tcp or command, and timeout)");
                if (k < 0) {
                        ok = false;
                        continue;
                }
                if (k == RK_TIMEOUT) {
                        if (group_want_duration(c, "timeout", val, 1000, GROUP_READY_TIMEOUT_MAX_USEC,
                                                &rd->timeout_usec) < 0)
                                ok = false;
                        continue;
                }
                if (what) {
                        group_error(c, k_node, "'ready' has exactly one of socket, tcp or command ('%s' and '%s')",
                                    what->value, k_node->value);
                        ok = false;
                        continue;
                }
                what = k_node;
                switch (k) {
                case RK_SOCKET:
                        rd->kind = GROUP_READY_SOCKET;
                        if (group_want_clean_path(c, "socket", val, &rd->socket) < 0)
                                ok = false;
                        break;
                case RK_TCP:
                        rd->kind = GROUP_READY_TCP;
                        if (group_want_port(c, "tcp", val, &rd->port) < 0)
                                ok = false;
                        break;
                default:
                        rd->kind = GROUP_READY_COMMAND;
                        if (group_want_command(c, "command", val, &rd->command) < 0)
                                ok = false;
                        break;
                }
        }
        if (!what && !c->truncated) {
                group_error(c, v, "'ready' needs one of socket, tcp or command");
                ok = false;
        }
        return c->oom ?: ok ? 0 : -EINVAL;
}

/* restart: no | on-failure | always | { policy: ..., backoff: 1s, max: 5 } */
static int want_restart(GroupContext *c, const char *key, const YNode *v, GroupRestart *ret) {
        const char *s;

        /* YAML 1.1 reads a bare "no" as a boolean; here it is the word
         * (docker compose users write it that way). */
        if (!v->bad && v->type == YNODE_SCALAR && v->plain && streq(v->value, "no")) {
                *ret = GROUP_RESTART_NO;
                return 0;
        }
        if (group_want_string(c, key, v, &s) < 0)
                return -EINVAL;
        if (streq(s, "no"))
                *ret = GROUP_RESTART_NO;
        else if (streq(s, "on-failure"))
                *ret = GROUP_RESTART_ON_FAILURE;
        else if (streq(s, "always"))
                *ret = GROUP_RESTART_ALWAYS;
        else {
                group_error(c, v, "'%s' must be no, on-failure or always, not '%s'", key, s);
                return -EINVAL;
        }
        return 0;
}

enum { XK_POLICY, XK_BACKOFF, XK_MAX, _XK_MAX };

static const struct RestartKey {
        const char *name;
} restart_keys[_XK_MAX] = {
        [XK_POLICY] = { "policy" },
        [XK_BACKOFF] = { "backoff" },
        [XK_MAX] = { "max" },
};

static int ck_restart(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key,
                      const YNode *v) {
        const YNode *at[_XK_MAX] = {};
        GroupKeySeen seen = {};
        bool ok = true;
        uint64_t n;

        if (v->bad)
                return -EINVAL;
        if (v->type != YNODE_MAPPING)
                return want_restart(c, "restart", v, &gc->restart);
        for (size_t i = 0; i + 1 < v->n_items; i += 2) {
                int k = group_lookup_key(c, v->items[i], restart_keys, sizeof(restart_keys[0]),
                                         ELEMENTSOF(restart_keys), &seen,
                                         "in 'restart' (expected policy, backoff or max)");
                if (k < 0)
                        ok = false;
                else
                        at[k] = v->items[i + 1];
        }
        if (!at[XK_POLICY]) {
                if (!c->truncated)
                        group_error(c, v, "'restart' has no 'policy' (no, on-failure or always)");
                return -EINVAL;
        }
        if (want_restart(c, "policy", at[XK_POLICY], &gc->restart) < 0)
                ok = false;
        else if (gc->restart == GROUP_RESTART_NO)
                for (int k = XK_BACKOFF; k < _XK_MAX; k++)
                        if (at[k]) {
                                group_error(c, seen.key[k], "'%s' does not apply to 'policy: no'",
                                            restart_keys[k].name);
                                ok = false;
                        }
        if (at[XK_BACKOFF] && group_want_duration(c, "backoff", at[XK_BACKOFF], 1000, GROUP_RESTART_BACKOFF_MAX_USEC,
                                                  &gc->restart_backoff_usec) < 0)
                ok = false;
        if (at[XK_MAX]) {
                if (group_want_uint(c, "max", at[XK_MAX], 1000000, &n) < 0)
                        ok = false;
                else
                        gc->restart_max = (unsigned) n;
        }
        return ok ? 0 : -EINVAL;
}

/* 'shim: true|false'.  Only the two YAML 1.2 words, unquoted: a quoted
 * "false" is a string, and YAML 1.1's yes/no/on/off are words here too
 * (as for every other key), so neither passes for a boolean by mistake. */
static int ck_shim(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key, const YNode *v) {
        if (v->bad)
                return -EINVAL;
        if (v->type == YNODE_SCALAR && v->plain && (streq(v->value, "true") || streq(v->value, "false"))) {
                gc->no_shim = streq(v->value, "false");
                return 0;
        }
        if (v->type == YNODE_SCALAR && !ynode_is_null(v))
                group_error(c, v, "'shim' must be true or false, not %s'%s'", v->plain ? "" : "the quoted string ",
                            v->value);
        else
                group_error(c, v, "'shim' must be true or false, not %s", ynode_type_name(v));
        return -EINVAL;
}

/* 'learn: true|false': this container's learn mode, over the group's. */
static int ck_learn(GroupContext *c, ContainerState *st, GroupContainer *gc, const YNode *key, const YNode *v) {
        (void) st;
        (void) key;
        if (group_want_learn(c, v, &gc->config.learn) < 0)
                return -EINVAL;
        gc->learn_set = true;
        return 0;
}

enum {
        CK_COMMAND,
        CK_ROOTFS,
        CK_HOSTNAME,
        CK_ENV,
        CK_USER,
        CK_WORKDIR,
        CK_VOLUMES,
        CK_LIMITS,
        CK_NET,
        CK_EXPORTS,
        CK_DEPENDS_ON,
        CK_READY,
        CK_RESTART,
        CK_SHIM,
        CK_LEARN,
        _CK_MAX,
};

static const struct ContainerKey {
        const char *name;
        container_handler handler;
} container_keys[_CK_MAX] = {
        [CK_COMMAND] = { "command", ck_command },
        [CK_ROOTFS] = { "rootfs", ck_rootfs },
        [CK_HOSTNAME] = { "hostname", ck_hostname },
        [CK_ENV] = { "env", ck_env },
        [CK_USER] = { "user", ck_user },
        [CK_WORKDIR] = { "workdir", ck_workdir },
        [CK_VOLUMES] = { "volumes", ck_volumes },
        [CK_LIMITS] = { "limits", ck_limits },
        [CK_NET] = { "net", ck_net },
        [CK_EXPORTS] = { "exports", ck_exports },
        [CK_DEPENDS_ON] = { "depends_on", ck_depends_on },
        [CK_READY] = { "ready", ck_ready },
        [CK_RESTART] = { "restart", ck_restart },
        [CK_SHIM] = { "shim", ck_shim },
        [CK_LEARN] = { "learn", ck_learn },
};

int group_parse_container(GroupContext *c, size_t index, GroupContainer *gc, const YNode *name,
                          const YNode *node) {
        ContainerState st = { .index = index };
        GroupKeySeen seen = {};
        bool ok = true;

        if (node->bad)
                return -EINVAL;
        if (node->type != YNODE_MAPPING) {
                group_error(c, name, "container '%s' must be a mapping (command, exports, ...), not %s", gc->name,
                            ynode_type_name(node));
                return -EINVAL;
        }
        for (size_t i = 0; i + 1 < node->n_items && !c->oom; i += 2) {
                int k = group_lookup_key(c, node->items[i], container_keys, sizeof(container_keys[0]),
                                         ELEMENTSOF(container_keys), &seen,
                                         "in a container (see shuttle-group(5))");
                if (k < 0 || container_keys[k].handler(c, &st, gc, node->items[i], node->items[i + 1]) < 0)
                        ok = false;
        }
        if (!seen.key[CK_COMMAND] && !c->truncated && !rootfs_is_image(gc->config.rootfs)) {
                group_error(c, name, "container '%s' has no 'command'", gc->name);
                ok = false;
        }
        return c->oom ?: ok ? 0 : -EINVAL;
}
