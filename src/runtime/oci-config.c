/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json's values as a ContainerConfig (see oci-config.h). */

#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/macro.h"
#include "runtime/oci-config.h"

_printf_(3, 4) static int bad(char *err, size_t errlen, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static bool in_list(const char *s, const char *const *list) {
        for (; *list; list++)
                if (streq(s, *list))
                        return true;
        return false;
}

int oci_mount_options(char *const *options, uint32_t *ret_attrs, bool *ret_bind, char **ret_fs_options,
                      const char **ret_bad) {
        /* Every mount of ours is private (the container's mount namespace
         * is made private before anything is mounted), and atime policy is
         * the filesystem's default: these are accepted and have no effect. */
        static const char *const ignored[] = {
                "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
                "atime", "noatime", "relatime", "norelatime", "strictatime", "nostrictatime", "diratime",
                "nodiratime", "defaults", "async", "nosymfollow", "symfollow", "tmpcopyup", "notmpcopyup",
                "z", "Z", "U", "copy", "nocopy", NULL,
        };
        static const char *const refused[] = { "idmap", "ridmap", "remount", "suid_keep", NULL };
        static const struct {
                const char *name;
                uint32_t set, clear;
        } flags[] = {
                { "ro", MNT_RDONLY, 0 },       { "rw", 0, MNT_RDONLY },       { "nosuid", MNT_NOSUID, 0 },
                { "suid", 0, MNT_NOSUID },     { "nodev", MNT_NODEV, 0 },     { "dev", 0, MNT_NODEV },
                { "noexec", MNT_NOEXEC, 0 },   { "exec", 0, MNT_NOEXEC },
        };
        _cleanup_free_ char *fs = NULL;
        uint32_t attrs = 0;
        bool bind = false;
        size_t len = 0;

        for (char *const *o = options; o && *o; o++) {
                bool done = false;

                if (streq(*o, "bind") || streq(*o, "rbind")) {
                        bind = true;
                        continue;
                }
                if (in_list(*o, ignored))
                        continue;
                if (in_list(*o, refused) || (*o)[0] == '\0') {
                        *ret_bad = *o;
                        return -EOPNOTSUPP;
                }
                for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                        if (streq(*o, flags[i].name)) {
                                attrs = (attrs | flags[i].set) & ~flags[i].clear;
                                done = true;
                        }
                if (done)
                        continue;
                /* What is left is the filesystem's: "mode=755", "size=64k",
                 * "newinstance". */
                {
                        size_t n = strlen(*o);
                        char *a = realloc(fs, len + n + 2);
                        if (!a)
                                return -ENOMEM;
                        fs = a;
                        if (len > 0)
                                fs[len++] = ',';
                        memcpy(fs + len, *o, n + 1);
                        len += n;
                }
        }
        *ret_attrs = attrs;
        *ret_bind = bind;
        *ret_fs_options = TAKE_PTR(fs);
        return 0;
}

static const char *const fs_types[] = { "proc", "sysfs", "tmpfs", "devpts", "mqueue", NULL };

static int add_mount(ContainerConfig *c, MountKind kind, const char *source, const char *target, const char *fstype,
                     const char *options, uint32_t attrs, bool optional) {
        MountPlan p = { .entries = c->mounts, .n = c->n_mounts };
        int r = mount_plan_add(&p, kind, source, target, fstype, options, attrs, 0, optional);

        c->mounts = p.entries;
        c->n_mounts = p.n;
        return r;
}

static char *bundle_path(const char *bundle, const char *p) {
        char *s;
        if (p[0] == '/')
                return strdup(p);
        if (asprintf(&s, "%s/%s", bundle, p) < 0)
                return NULL;
        return s;
}

static int mounts_from_spec(const OciSpec *s, const char *bundle, ContainerConfig *c, char *err, size_t errlen) {
        int r;

        for (size_t i = 0; i < s->n_mounts; i++) {
                const OciMount *m = &s->mounts[i];
                _cleanup_free_ char *fsopts = NULL, *src = NULL;
                const char *bad_opt = NULL;
                uint32_t attrs;
                bool bind;

                if (!m->destination || m->destination[0] != '/')
                        return bad(err, errlen, "mounts[%zu].destination: not an absolute path", i);
                if (m->n_uid_mappings > 0 || m->n_gid_mappings > 0)
                        return bad(err, errlen, "mounts[%zu].uidMappings: id-mapped mounts are not supported", i);
                r = oci_mount_options(m->options, &attrs, &bind, &fsopts, &bad_opt);
                if (r == -EOPNOTSUPP)
                        return bad(err, errlen, "mounts[%zu].options: '%s' is not supported", i, bad_opt);
                if (r < 0)
                        return r;
                if (!m->type || streq(m->type, "bind") || bind) {
                        if (!m->source)
                                return bad(err, errlen, "mounts[%zu].source: a bind mount needs a source", i);
                        src = bundle_path(bundle, m->source);
                        if (!src)
                                return -ENOMEM;
                        r = add_mount(c, MOUNT_BIND, src, m->destination, NULL, NULL, attrs, false);
                } else if (streq(m->type, "cgroup") || streq(m->type, "cgroup2"))
                        r = add_mount(c, MOUNT_CGROUP, NULL, m->destination, NULL, NULL, attrs, false);
                else if (in_list(m->type, fs_types))
                        r = add_mount(c, MOUNT_FS, m->source, m->destination, m->type, fsopts, attrs, false);
                else
                        return bad(err, errlen, "mounts[%zu].type: '%s' is not supported", i, m->type);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* linux.devices: nodes made in the container's root (after the mounts:
 * normally on /dev's tmpfs), owned and with the mode the spec says. */
static int devices_from_spec(const OciSpec *s, ContainerConfig *c, char *err, size_t errlen) {
        for (size_t i = 0; i < s->n_devices; i++) {
                const OciDevice *d = &s->devices[i];
                mode_t type;
                int r;

                switch (d->type) {
                case 'c':
                case 'u':
                        type = S_IFCHR;
                        break;
                case 'b':
                        type = S_IFBLK;
                        break;
                case 'p':
                        type = S_IFIFO;
                        break;
                default:
                        return bad(err, errlen, "linux.devices[%zu].type: unknown", i);
                }
                if (!d->path || d->path[0] != '/')
                        return bad(err, errlen, "linux.devices[%zu].path: not an absolute path", i);
                if (type != S_IFIFO && (d->major < 0 || d->minor < 0 || d->major > 0xfff || d->minor > 0xfffff))
                        return bad(err, errlen, "linux.devices[%zu]: major and minor are needed", i);
                r = add_mount(c, MOUNT_DEVICE, NULL, d->path, NULL, NULL, 0, false);
                if (r < 0)
                        return r;
                c->mounts[c->n_mounts - 1].mode = type | (d->has_mode ? d->file_mode & 07777 : 0666);
                c->mounts[c->n_mounts - 1].dev = type == S_IFIFO ? 0 : makedev((unsigned) d->major, (unsigned) d->minor);
                c->mounts[c->n_mounts - 1].uid = d->has_uid ? d->uid : 0;
                c->mounts[c->n_mounts - 1].gid = d->has_gid ? d->gid : 0;
        }
        return 0;
}

/* Sysctls a container may set: those of a namespace of its own. */
static int sysctl_namespace(const char *key) {
        static const char *const ipc[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                           "kernel.shmall", "kernel.shmmax", "kernel.shmmni",
                                           "kernel.shm_rmid_forced", NULL };
        if (strneq(key, "net.", 4))
                return CLONE_NEWNET;
        if (strneq(key, "fs.mqueue.", 10) || in_list(key, ipc))
                return CLONE_NEWIPC;
        if (streq(key, "kernel.hostname") || streq(key, "kernel.domainname"))
                return CLONE_NEWUTS;
        return 0;
}

static ContainerNs ns_index(int flag) {
        return flag == CLONE_NEWNET ? CONTAINER_NS_NET : flag == CLONE_NEWIPC ? CONTAINER_NS_IPC : CONTAINER_NS_UTS;
}

static int sysctls_from_spec(const OciSpec *s, ContainerConfig *c, char *err, size_t errlen) {
        for (size_t i = 0; i < s->n_sysctl; i++) {
                const char *k = s->sysctl_keys[i];
                int ns = sysctl_namespace(k);
                char path[256];
                int r;

                if (ns == 0)
                        return bad(err, errlen, "linux.sysctl.%s: not in a namespace of the container's", k);
                /* Its own namespace, new or joined by path (podman's
                 * network namespace), never one shared with us. */
                if (!(c->namespaces & (uint64_t) ns) && !c->ns_path[ns_index(ns)])
                        return bad(err, errlen, "linux.sysctl.%s: the container shares that namespace", k);
                if (strlen(k) > 200 || strstr(k, "..") || strchr(k, '/'))
                        return bad(err, errlen, "linux.sysctl.%s: not a sysctl name", k);
                snprintf(path, sizeof(path), "/proc/sys/%s", k);
                for (char *p = path + STRLEN("/proc/sys/"); *p; p++)
                        if (*p == '.')
                                *p = '/';
                r = add_mount(c, MOUNT_SYSCTL, NULL, path, NULL, s->sysctl_values[i], 0, false);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* linux.uidMappings or gidMappings (KEY) as the kernel takes them: at
 * most ID_MAPPINGS_MAX lines, no two overlapping inside or outside (size 0
 * and ranges past 2^32 are refused when config.json is read). */
static int idmaps_from_spec(const OciIdMap *m, size_t n, const char *key, IdMapping **ret, size_t *ret_n,
                            char *err, size_t errlen) {
        if (n > ID_MAPPINGS_MAX)
                return bad(err, errlen, "linux.%s: %zu mappings, the kernel takes at most %d", key, n,
                           ID_MAPPINGS_MAX);
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < i; j++) {
                        uint64_t a = m[i].container_id, b = m[j].container_id;
                        uint64_t ha = m[i].host_id, hb = m[j].host_id;

                        if (a < b + m[j].size && b < a + m[i].size)
                                return bad(err, errlen,
                                           "linux.%s[%zu]: container ids %" PRIu64 "-%" PRIu64
                                           " overlap linux.%s[%zu]",
                                           key, i, a, a + m[i].size - 1, key, j);
                        if (ha < hb + m[j].size && hb < ha + m[i].size)
                                return bad(err, errlen,
                                           "linux.%s[%zu]: host ids %" PRIu64 "-%" PRIu64 " overlap linux.%s[%zu]",
                                           key, i, ha, ha + m[i].size - 1, key, j);
                }
        *ret = calloc(n, sizeof(IdMapping));
        if (!*ret)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                (*ret)[i] = (IdMapping){ .inside = m[i].container_id, .outside = m[i].host_id, .count = m[i].size };
        *ret_n = n;
        return 0;
}

static bool idmap_has(const IdMapping *m, size_t n, uint32_t id) {
        for (size_t i = 0; i < n; i++)
                if (id >= m[i].inside && id - m[i].inside < m[i].count)
                        return true;
        return false;
}

/* With a user namespace: its root sets the container up, and the
 * process's ids must exist in it. */
static int userns_ids_check(const ContainerConfig *c, char *err, size_t errlen) {
        if (!(c->namespaces & CLONE_NEWUSER))
                return 0;
        if (!idmap_has(c->uid_map, c->n_uid_map, 0))
                return bad(err, errlen, "linux.uidMappings: container id 0 must be mapped (the container's root "
                           "sets it up)");
        if (!idmap_has(c->gid_map, c->n_gid_map, 0))
                return bad(err, errlen, "linux.gidMappings: container id 0 must be mapped (the container's root "
                           "sets it up)");
        if (!idmap_has(c->uid_map, c->n_uid_map, (uint32_t) c->uid))
                return bad(err, errlen, "process.user.uid: %u is not in linux.uidMappings", (unsigned) c->uid);
        if (!idmap_has(c->gid_map, c->n_gid_map, (uint32_t) c->gid))
                return bad(err, errlen, "process.user.gid: %u is not in linux.gidMappings", (unsigned) c->gid);
        for (size_t i = 0; i < c->n_groups; i++)
                if (!idmap_has(c->gid_map, c->n_gid_map, (uint32_t) c->groups[i]))
                        return bad(err, errlen, "process.user.additionalGids[%zu]: %u is not in linux.gidMappings", i,
                                   (unsigned) c->groups[i]);
        return 0;
}

static int namespaces_from_spec(const OciSpec *s, ContainerConfig *c, char *err, size_t errlen) {
        static const struct {
                int flag;
                int join; /* ContainerNs, or -1: cannot be joined */
                const char *name;
        } map[_OCI_NS_MAX] = {
                [OCI_NS_PID] = { CLONE_NEWPID, CONTAINER_NS_PID, "pid" },
                [OCI_NS_NETWORK] = { CLONE_NEWNET, CONTAINER_NS_NET, "network" },
                [OCI_NS_MOUNT] = { CLONE_NEWNS, CONTAINER_NS_MOUNT, "mount" },
                [OCI_NS_IPC] = { CLONE_NEWIPC, CONTAINER_NS_IPC, "ipc" },
                [OCI_NS_UTS] = { CLONE_NEWUTS, CONTAINER_NS_UTS, "uts" },
                [OCI_NS_USER] = { CLONE_NEWUSER, -1, "user" },
                [OCI_NS_CGROUP] = { CLONE_NEWCGROUP, CONTAINER_NS_CGROUP, "cgroup" },
                [OCI_NS_TIME] = { CLONE_NEWTIME, -1, "time" },
        };
        int r;

        c->has_namespaces = true;
        c->namespaces = 0;
        for (size_t i = 0; i < s->n_namespaces; i++) {
                const OciNamespace *n = &s->namespaces[i];

                if (n->type >= _OCI_NS_MAX)
                        return bad(err, errlen, "linux.namespaces[%zu].type: unknown", i);
                if (n->path) {
                        if (map[n->type].join < 0)
                                return bad(err, errlen, "linux.namespaces[%zu].path: joining a %s namespace is not supported",
                                           i, map[n->type].name);
                        free(c->ns_path[map[n->type].join]);
                        c->ns_path[map[n->type].join] = strdup(n->path);
                        if (!c->ns_path[map[n->type].join])
                                return -ENOMEM;
                } else
                        c->namespaces |= (uint64_t) map[n->type].flag;
        }
        if (c->namespaces & CLONE_NEWTIME) {
                c->time_offset_secs[0] = s->time_monotonic.secs;
                c->time_offset_nsecs[0] = s->time_monotonic.nanosecs;
                c->time_offset_secs[1] = s->time_boottime.secs;
                c->time_offset_nsecs[1] = s->time_boottime.nanosecs;
        } else if (s->time_monotonic.has || s->time_boottime.has)
                return bad(err, errlen, "linux.timeOffsets: needs a time namespace of the container's own "
                           "(linux.namespaces type time)");
        if (!oci_spec_namespace(s, OCI_NS_MOUNT))
                return bad(err, errlen, "linux.namespaces: a container needs a mount namespace of its own");
        if (!(c->namespaces & CLONE_NEWUSER)) {
                if (s->n_uid_mappings > 0 || s->n_gid_mappings > 0)
                        return bad(err, errlen, "linux.%s: needs a user namespace of the container's own "
                                   "(linux.namespaces type user)", s->n_uid_mappings > 0 ? "uidMappings" : "gidMappings");
                return 0;
        }
        /* The maps are the container's ids: without them every id is the
         * overflow id and nothing could be set up. */
        if (s->n_uid_mappings == 0 || s->n_gid_mappings == 0)
                return bad(err, errlen, "linux.%s: required with a new user namespace",
                           s->n_uid_mappings == 0 ? "uidMappings" : "gidMappings");
        /* Joined in the creating process before the user namespace is made
         * (it owns them, not the new one); a cgroup namespace is joined by
         * the container's first process once in its cgroup, too late. */
        if (c->ns_path[CONTAINER_NS_CGROUP])
                return bad(err, errlen, "linux.namespaces: joining a cgroup namespace together with a new user "
                           "namespace is not supported");
        r = idmaps_from_spec(s->uid_mappings, s->n_uid_mappings, "uidMappings", &c->uid_map, &c->n_uid_map,
                             err, errlen);
        if (r < 0)
                return r;
        return idmaps_from_spec(s->gid_mappings, s->n_gid_mappings, "gidMappings", &c->gid_map, &c->n_gid_map,
                                err, errlen);
}

static int process_from_spec(const OciProcess *p, ContainerConfig *c, char *err, size_t errlen) {
        size_t n;

        for (n = 0; p->args && p->args[n]; n++)
                ;
        if (n == 0)
                return bad(err, errlen, "process.args: empty");
        c->argv = calloc(n + 1, sizeof(char *));
        if (!c->argv)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(c->argv[i] = strdup(p->args[i])))
                        return -ENOMEM;

        for (n = 0; p->env && p->env[n]; n++)
                ;
        c->env = calloc(n + 1, sizeof(char *));
        if (!c->env)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (!(c->env[i] = strdup(p->env[i])))
                        return -ENOMEM;
                c->n_env++;
        }
        c->env_exact = true;
        if (p->cwd && !(c->workdir = strdup(p->cwd)))
                return -ENOMEM;

        c->has_user = true;
        c->uid = p->uid;
        c->gid = p->gid;
        if (p->n_additional_gids > 0) {
                c->groups = calloc(p->n_additional_gids, sizeof(gid_t));
                if (!c->groups)
                        return -ENOMEM;
                memcpy(c->groups, p->additional_gids, p->n_additional_gids * sizeof(gid_t));
                c->n_groups = p->n_additional_gids;
        }
        c->has_umask = p->has_umask;
        c->umask = p->umask;

        /* One set does for bounding, permitted, effective and inheritable
         * (docs/OCI.md): what the process may ever use, the bounding and
         * permitted sets' common part.  No capabilities object: none. */
        c->has_caps = true;
        c->caps = p->has_caps ? p->caps.bounding & p->caps.permitted : 0;
        if (p->has_caps && p->caps.ambient != 0 && (p->caps.ambient & ~c->caps) != 0)
                return bad(err, errlen, "process.capabilities.ambient: not within the bounding and permitted sets");
        c->caps_ambient = p->has_caps ? p->caps.ambient & c->caps : 0;
        c->new_privs = !p->no_new_privileges;

        if (p->n_rlimits > 0) {
                c->rlimits = calloc(p->n_rlimits, sizeof(RlimitSpec));
                if (!c->rlimits)
                        return -ENOMEM;
                for (size_t i = 0; i < p->n_rlimits; i++) {
                        if (p->rlimits[i].soft > p->rlimits[i].hard)
                                return bad(err, errlen, "process.rlimits[%zu]: soft above hard", i);
                        c->rlimits[i] = (RlimitSpec){
                                .resource = p->rlimits[i].resource,
                                .limit = { .rlim_cur = (rlim_t) p->rlimits[i].soft,
                                           .rlim_max = (rlim_t) p->rlimits[i].hard },
                        };
                }
                c->n_rlimits = p->n_rlimits;
        }
        c->has_oom_score_adj = p->has_oom_score_adj;
        c->oom_score_adj = p->oom_score_adj;
        c->tty = p->terminal;
        c->console_rows = p->console_height;
        c->console_cols = p->console_width;
        return 0;
}

/* The devices cgroup: everything denied, then linux.resources.devices in
 * order, then what every container may use (as runc): mknod of any node,
 * the default devices and the ptys, and linux.devices' nodes. */
static int device_rules_from_spec(const OciSpec *s, ContainerConfig *c) {
        const OciResources *res = &s->resources;
        size_t n = res->n_devices + cgroup_n_default_devices + s->n_devices, k = 0;
        CgroupDeviceRule *v = calloc(n, sizeof(CgroupDeviceRule));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < res->n_devices; i++) {
                const OciDeviceRule *d = &res->devices[i];
                v[k] = (CgroupDeviceRule){ .allow = d->allow, .type = d->type, .major = d->major, .minor = d->minor };
                memcpy(v[k].access, d->access[0] ? d->access : "rwm", 4);
                v[k].access[3] = '\0';
                k++;
        }
        for (size_t i = 0; i < cgroup_n_default_devices; i++)
                v[k++] = cgroup_default_devices[i];
        for (size_t i = 0; i < s->n_devices; i++) {
                const OciDevice *d = &s->devices[i];
                if (d->type == 'p')
                        continue;
                v[k++] = (CgroupDeviceRule){ .allow = true, .type = d->type == 'b' ? 'b' : 'c', .major = d->major,
                                             .minor = d->minor, .access = "rwm" };
        }
        c->limits.devices = v;
        c->limits.n_devices = k;
        c->limits.has_devices = true;
        return 0;
}

static int resources_from_spec(const OciSpec *s, ContainerConfig *c, char *err, size_t errlen) {
        const OciResources *res = &s->resources;

        /* pause and resume need a freezer; no default pids limit (the
         * caller's, e.g. podman's pids_limit, is in the spec). */
        c->limits = (CgroupLimits){ .freezer = true };
        if (res->has_memory_limit && res->memory_limit > 0)
                c->limits.memory_bytes = (uint64_t) res->memory_limit;
        if (res->has_pids_limit && res->pids_limit > 0)
                c->limits.pids_max = (uint64_t) res->pids_limit;
        if (res->has_cpu_quota && res->cpu_quota > 0) {
                if (res->cpu_quota < 1000)
                        return bad(err, errlen, "linux.resources.cpu.quota: below 1000");
                c->limits.cpu_quota_usec = (uint64_t) res->cpu_quota;
                if (res->has_cpu_period && res->cpu_period > 0) {
                        if (res->cpu_period < 1000 || res->cpu_period > 1000000)
                                return bad(err, errlen, "linux.resources.cpu.period: not within 1000..1000000");
                        c->limits.cpu_period_usec = res->cpu_period;
                }
        }
        if (res->has_cpu_shares && res->cpu_shares > 0) {
                if (res->cpu_shares < 2 || res->cpu_shares > 262144)
                        return bad(err, errlen, "linux.resources.cpu.shares: not within 2..262144");
                c->limits.cpu_shares = res->cpu_shares;
        }
        if (res->cpu_cpus && res->cpu_cpus[0] && !(c->limits.cpus = strdup(res->cpu_cpus)))
                return -ENOMEM;
        if (res->cpu_mems && res->cpu_mems[0] && !(c->limits.mems = strdup(res->cpu_mems)))
                return -ENOMEM;
        /* linux.cgroupsPath: "/a/b" from each hierarchy's root, "a/b"
         * below our own cgroup (as runc); no "." or ".." components. */
        if (s->cgroups_path && s->cgroups_path[0]) {
                const char *p = s->cgroups_path;

                for (p += strspn(p, "/"); *p;) {
                        size_t n = strcspn(p, "/");

                        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.') || n > 255)
                                return bad(err, errlen, "linux.cgroupsPath: '%s': '.', '..' or a name over 255 bytes",
                                           s->cgroups_path);
                        p += n;
                        p += strspn(p, "/");
                }
                if (s->cgroups_path[strspn(s->cgroups_path, "/")] == '\0')
                        return bad(err, errlen, "linux.cgroupsPath: '%s': names no cgroup", s->cgroups_path);
                if (!(c->limits.path = strdup(s->cgroups_path)))
                        return -ENOMEM;
        }
        return 0;
}

int oci_config_from_spec(const OciSpec *s, const char *bundle, const char *id, ContainerConfig *c, char *err,
                         size_t errlen) {
        int r;

        if (!s->root_path)
                return bad(err, errlen, "root.path: missing");
        /* The others are run by shuttle-oci (oci-hooks.c); these by the
         * container's process, between the FIFO and exec.  The strings
         * stay the spec's. */
        if (s->n_hooks[OCI_HOOK_START_CONTAINER] > 0) {
                const OciHook *h = s->hooks[OCI_HOOK_START_CONTAINER];

                c->start_hooks = calloc(s->n_hooks[OCI_HOOK_START_CONTAINER], sizeof(ContainerStartHook));
                if (!c->start_hooks)
                        return -ENOMEM;
                for (size_t i = 0; i < s->n_hooks[OCI_HOOK_START_CONTAINER]; i++)
                        c->start_hooks[i] = (ContainerStartHook){
                                .path = h[i].path, .args = h[i].args, .env = h[i].env, .timeout = h[i].timeout,
                        };
                c->n_start_hooks = s->n_hooks[OCI_HOOK_START_CONTAINER];
        }

        c->cmd_is_pid1 = true;
        c->own_mounts = true;
        c->hostname_exact = true;
        c->net = NET_LOOPBACK;
        if (!(c->name = strdup(id)) || !(c->rootfs = bundle_path(bundle, s->root_path)))
                return -ENOMEM;
        c->read_only = s->root_readonly;
        if (s->hostname && s->hostname[0] && !(c->hostname = strdup(s->hostname)))
                return -ENOMEM;

        if (s->has_process) {
                r = process_from_spec(&s->process, c, err, errlen);
                if (r < 0)
                        return r;
        } else {
                /* No process: the container can be created (its first
                 * process waits, as root with nothing else) but never
                 * started; shuttle-oci's start refuses it. */
                static const OciProcess none = { .cwd = (char *) "/" };
                char *args[] = { (char *) "/", NULL };
                OciProcess p = none;
                p.args = args;
                r = process_from_spec(&p, c, err, errlen);
                if (r < 0)
                        return r;
        }
        r = namespaces_from_spec(s, c, err, errlen);
        if (r < 0)
                return r;
        r = userns_ids_check(c, err, errlen);
        if (r < 0)
                return r;
        if (c->hostname && !(c->namespaces & CLONE_NEWUTS) && !c->ns_path[CONTAINER_NS_UTS])
                return bad(err, errlen, "hostname: needs a uts namespace of the container's own");
        if (s->domainname && s->domainname[0]) {
                if (!(c->namespaces & CLONE_NEWUTS) && !c->ns_path[CONTAINER_NS_UTS])
                        return bad(err, errlen, "domainname: needs a uts namespace of the container's own");
                if (!(c->domainname = strdup(s->domainname)))
                        return -ENOMEM;
        }
        r = resources_from_spec(s, c, err, errlen);
        if (r < 0)
                return r;
        r = device_rules_from_spec(s, c);
        if (r < 0)
                return r;

        r = mounts_from_spec(s, bundle, c, err, errlen);
        if (r < 0)
                return r;
        /* The devices every container has, after the mounts (one of which
         * is normally a tmpfs at /dev). */
        {
                MountPlan p = { .entries = c->mounts, .n = c->n_mounts };
                r = mount_plan_add_devices(&p);
                c->mounts = p.entries;
                c->n_mounts = p.n;
                if (r < 0)
                        return r;
        }
        /* shuttle-oci puts in the program from its cache, when it has one. */
        if (s->has_seccomp && !c->seccomp) {
                r = oci_seccomp_program_new(&s->seccomp, &c->seccomp, err, errlen);
                if (r < 0)
                        return r;
        }
        r = devices_from_spec(s, c, err, errlen);
        if (r < 0)
                return r;
        r = sysctls_from_spec(s, c, err, errlen);
        if (r < 0)
                return r;
        for (char **p = s->masked_paths; p && *p; p++) {
                r = add_mount(c, MOUNT_MASK, NULL, *p, NULL, NULL, 0, true);
                if (r < 0)
                        return r;
        }
        for (char **p = s->readonly_paths; p && *p; p++) {
                r = add_mount(c, MOUNT_READONLY, NULL, *p, NULL, NULL, 0, true);
                if (r < 0)
                        return r;
        }
        return 0;
}
