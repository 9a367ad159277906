/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* config.json (runtime-spec 1.0-1.2) into the structs of oci-spec.h.
 *
 * Every reader takes the JSON path of the value it reads ("linux.resources",
 * "process.rlimits[2]") so that an error names it.  A key whose value is
 * JSON null counts as absent (Go writes nil slices so); unknown keys are
 * ignored, as the spec asks. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "runtime/oci-spec.h"
#include "runtime/oci-internal.h"

/* A config.json larger than this is refused before parsing. */
#define OCI_SPEC_MAX_SIZE (16U * 1024 * 1024)

/* ---- process ------------------------------------------------------------ */

static const struct {
        const char *name;
        int resource;
} rlimit_names[] = {
        { "RLIMIT_AS", RLIMIT_AS },
        { "RLIMIT_CORE", RLIMIT_CORE },
        { "RLIMIT_CPU", RLIMIT_CPU },
        { "RLIMIT_DATA", RLIMIT_DATA },
        { "RLIMIT_FSIZE", RLIMIT_FSIZE },
        { "RLIMIT_LOCKS", RLIMIT_LOCKS },
        { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
        { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
        { "RLIMIT_NICE", RLIMIT_NICE },
        { "RLIMIT_NOFILE", RLIMIT_NOFILE },
        { "RLIMIT_NPROC", RLIMIT_NPROC },
        { "RLIMIT_RSS", RLIMIT_RSS },
        { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
        { "RLIMIT_RTTIME", RLIMIT_RTTIME },
        { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
        { "RLIMIT_STACK", RLIMIT_STACK },
};

int oci_rlimit_from_name(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(rlimit_names); i++)
                if (streq(rlimit_names[i].name, name))
                        return rlimit_names[i].resource;
        return -EINVAL;
}

const char *oci_rlimit_to_name(int resource) {
        for (size_t i = 0; i < ELEMENTSOF(rlimit_names); i++)
                if (rlimit_names[i].resource == resource)
                        return rlimit_names[i].name;
        return NULL;
}

/* A limit; 2^64 - 1 (RLIM_INFINITY as Go writes it) is unlimited (read as
 * a double, so is anything within 2^11 of it: as good as unlimited). */
static int get_rlim(Ctx *c, json_t *obj, const char *parent, const char *key, uint64_t *ret) {
        if (oci_uint_infinity(c, oci_member(obj, key))) {
                *ret = UINT64_MAX;
                return 0;
        }
        return GET_UINT(c, obj, parent, key, true, INT64_MAX, NULL, ret);
}

static int parse_rlimit(Ctx *c, json_t *v, const char *path, void *ret) {
        OciRlimit *rl = ret;
        _cleanup_free_ char *type = NULL;
        JPath p;
        int r;

        r = oci_get_string(c, v, path, "type", true, &type);
        if (r < 0)
                return r;
        rl->resource = oci_rlimit_from_name(type);
        if (rl->resource < 0)
                return oci_fail(c, oci_jpath_sub(p, path, "type"), "unknown rlimit '%s'", type);
        r = get_rlim(c, v, path, "soft", &rl->soft);
        if (r < 0)
                return r;
        r = get_rlim(c, v, path, "hard", &rl->hard);
        if (r < 0)
                return r;
        /* setrlimit() would refuse it, after the container was made. */
        if (rl->soft > rl->hard)
                return oci_fail(c, path, "soft limit %" PRIu64 " is above the hard limit %" PRIu64,
                                rl->soft, rl->hard);
        return 0;
}

/* "CAP_SYS_ADMIN" into its number through libcap. */
int oci_cap_from_name(const char *name) {
        cap_value_t v;

        if (!name || !strneq(name, "CAP_", 4) || name[4] == '\0')
                return -EINVAL;
        if (cap_from_name(name, &v) < 0 || v < 0 || v >= 64)
                return -EINVAL;
        return (int) v;
}

static int parse_cap_set(Ctx *c, json_t *caps, const char *parent, const char *key, uint64_t *ret) {
        json_t *v;
        JPath p, q;
        uint64_t mask = 0;
        int r;

        r = oci_get_array_value(c, caps, parent, key, p, &v);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < json_array_size(v); i++) {
                json_t *e = json_array_get(v, i);
                int cap;

                oci_jpath_idx(q, p, i);
                if (!json_is_string(e))
                        return oci_fail(c, q, "must be a string");
                cap = oci_cap_from_name(json_string_value(e));
                if (cap < 0)
                        return oci_fail(c, q, "unknown capability '%s'", json_string_value(e));
                mask |= UINT64_C(1) << cap;
        }
        *ret = mask;
        return 0;
}

static int parse_user(Ctx *c, json_t *proc, const char *parent, OciProcess *p) {
        json_t *u, *gids;
        JPath path, q, e;
        bool has = false;
        int r;

        r = oci_get_object(c, proc, parent, "user", false, path, &u);
        if (r <= 0)
                return r;
        r = GET_UINT(c, u, path, "uid", true, UINT32_MAX - 1, NULL, &p->uid);
        if (r < 0)
                return r;
        r = GET_UINT(c, u, path, "gid", true, UINT32_MAX - 1, NULL, &p->gid);
        if (r < 0)
                return r;
        r = GET_UINT(c, u, path, "umask", false, 07777, &has, &p->umask);
        if (r < 0)
                return r;
        p->has_umask = has;
        r = oci_get_array_value(c, u, path, "additionalGids", q, &gids);
        if (r < 0)
                return r;
        if (r > 0) {
                free(p->additional_gids);
                p->additional_gids = NULL;
                p->n_additional_gids = 0;
                if (json_array_size(gids) > 0) {
                        p->additional_gids = calloc(json_array_size(gids), sizeof(gid_t));
                        if (!p->additional_gids)
                                return -ENOMEM;
                }
                for (size_t i = 0; i < json_array_size(gids); i++) {
                        int64_t g;

                        r = oci_int_value(c, json_array_get(gids, i), oci_jpath_idx(e, q, i), 0,
                                          UINT32_MAX - 1, &g);
                        if (r < 0)
                                return r;
                        p->additional_gids[p->n_additional_gids++] = (gid_t) g;
                }
        }
        return 0;
}

static int process_from_json(Ctx *c, json_t *proc, const char *path, OciProcess *p) {
        json_t *v;
        JPath q;
        int64_t n;
        int r;

        r = oci_want_object(c, proc, path);
        if (r < 0)
                return r;

        r = oci_get_bool(c, proc, path, "terminal", &p->terminal);
        if (r < 0)
                return r;
        r = oci_get_object(c, proc, path, "consoleSize", false, q, &v);
        if (r < 0)
                return r;
        if (r > 0) {
                r = GET_UINT(c, v, q, "height", true, UINT16_MAX, NULL, &p->console_height);
                if (r < 0)
                        return r;
                r = GET_UINT(c, v, q, "width", true, UINT16_MAX, NULL, &p->console_width);
                if (r < 0)
                        return r;
        }
        r = parse_user(c, proc, path, p);
        if (r < 0)
                return r;

        r = oci_get_strv(c, proc, path, "args", true, &p->args);
        if (r < 0)
                return r;
        oci_jpath_sub(q, path, "args");
        if (!p->args[0])
                return oci_fail(c, q, "must name a program (empty)");
        if (p->args[0][0] == '\0')
                return oci_fail(c, oci_jpath_idx(q, q, 0), "must not be empty");

        r = oci_get_strv(c, proc, path, "env", false, &p->env);
        if (r < 0)
                return r;
        if (!p->env) {
                p->env = calloc(1, sizeof(char *));
                if (!p->env)
                        return -ENOMEM;
        }
        for (size_t i = 0; p->env[i]; i++)
                if (!strchr(p->env[i], '=')) {
                        oci_jpath_sub(q, path, "env");
                        return oci_fail(c, oci_jpath_idx(q, q, i), "'%s' is not NAME=VALUE", p->env[i]);
                }

        r = oci_get_abs_path(c, proc, path, "cwd", true, &p->cwd);
        if (r < 0)
                return r;

        r = oci_get_object(c, proc, path, "capabilities", false, q, &v);
        if (r < 0)
                return r;
        if (r > 0) {
                p->caps = (OciCaps){};
                if ((r = parse_cap_set(c, v, q, "bounding", &p->caps.bounding)) < 0 ||
                    (r = parse_cap_set(c, v, q, "effective", &p->caps.effective)) < 0 ||
                    (r = parse_cap_set(c, v, q, "inheritable", &p->caps.inheritable)) < 0 ||
                    (r = parse_cap_set(c, v, q, "permitted", &p->caps.permitted)) < 0 ||
                    (r = parse_cap_set(c, v, q, "ambient", &p->caps.ambient)) < 0)
                        return r;
                p->has_caps = true;
        }

        r = oci_get_array(c, proc, path, "rlimits", sizeof(OciRlimit), parse_rlimit, NULL,
                      (void **) &p->rlimits, &p->n_rlimits);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_rlimits; i++)
                for (size_t j = 0; j < i; j++)
                        if (p->rlimits[i].resource == p->rlimits[j].resource) {
                                oci_jpath_idx(q, oci_jpath_sub(q, path, "rlimits"), i);
                                return oci_fail(c, oci_jpath_sub(q, q, "type"),
                                            "duplicate rlimit '%s'",
                                            oci_rlimit_to_name(p->rlimits[i].resource));
                        }

        r = oci_get_bool(c, proc, path, "noNewPrivileges", &p->no_new_privileges);
        if (r < 0)
                return r;
        r = oci_get_int(c, proc, path, "oomScoreAdj", false, -1000, 1000, &p->has_oom_score_adj, &n);
        if (r < 0)
                return r;
        if (p->has_oom_score_adj)
                p->oom_score_adj = (int) n;
        r = oci_get_string(c, proc, path, "apparmorProfile", false, &p->apparmor_profile);
        if (r < 0)
                return r;
        return oci_get_string(c, proc, path, "selinuxLabel", false, &p->selinux_label);
}

void oci_process_done(OciProcess *p) {
        if (!p)
                return;
        free(p->additional_gids);
        strv_free(p->args);
        strv_free(p->env);
        free(p->cwd);
        free(p->rlimits);
        free(p->apparmor_profile);
        free(p->selinux_label);
        *p = (OciProcess){};
}

int oci_process_parse(const char *json, size_t len, OciProcess *ret, char *err, size_t errlen) {
        _cleanup_(json_decrefp) json_t *root = NULL;
        Ctx c = { err, errlen };
        OciProcess p = {};
        int r;

        r = oci_load_json(&c, json, len, &root);
        if (r < 0)
                return r;
        r = process_from_json(&c, root, "", &p);
        if (r < 0) {
                oci_process_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

/* ---- mounts, hooks ------------------------------------------------------ */

static int parse_idmap(Ctx *c, json_t *v, const char *path, void *ret) {
        OciIdMap *m = ret;
        int r;

        if ((r = GET_UINT(c, v, path, "containerID", true, UINT32_MAX, NULL, &m->container_id)) < 0 ||
            (r = GET_UINT(c, v, path, "hostID", true, UINT32_MAX, NULL, &m->host_id)) < 0 ||
            (r = GET_UINT(c, v, path, "size", true, UINT32_MAX, NULL, &m->size)) < 0)
                return r;
        if (m->size == 0)
                return oci_fail(c, path, "size must not be 0");
        if ((uint64_t) m->container_id + m->size - 1 > UINT32_MAX ||
            (uint64_t) m->host_id + m->size - 1 > UINT32_MAX)
                return oci_fail(c, path, "the range goes past 2^32");
        return 0;
}

static void mount_done(void *m_) {
        OciMount *m = m_;

        free(m->destination);
        free(m->type);
        free(m->source);
        strv_free(m->options);
        free(m->uid_mappings);
        free(m->gid_mappings);
}

static int parse_mount(Ctx *c, json_t *v, const char *path, void *ret) {
        OciMount *m = ret;
        JPath q;
        int r;

        r = oci_get_string(c, v, path, "destination", true, &m->destination);
        if (r < 0)
                return r;
        if (m->destination[0] == '\0')
                return oci_fail(c, oci_jpath_sub(q, path, "destination"), "must not be empty");
        /* 1.0.2 on: a relative destination is relative to "/". */
        if (!oci_path_is_absolute(m->destination)) {
                char *a;

                if (asprintf(&a, "/%s", m->destination) < 0)
                        return -ENOMEM;
                free(m->destination);
                m->destination = a;
        }
        if ((r = oci_get_string(c, v, path, "type", false, &m->type)) < 0 ||
            (r = oci_get_string(c, v, path, "source", false, &m->source)) < 0 ||
            (r = oci_get_strv(c, v, path, "options", false, &m->options)) < 0)
                return r;
        r = oci_get_array(c, v, path, "uidMappings", sizeof(OciIdMap), parse_idmap, NULL,
                      (void **) &m->uid_mappings, &m->n_uid_mappings);
        if (r < 0)
                return r;
        return oci_get_array(c, v, path, "gidMappings", sizeof(OciIdMap), parse_idmap, NULL,
                         (void **) &m->gid_mappings, &m->n_gid_mappings);
}

static void hook_done(void *h_) {
        OciHook *h = h_;

        free(h->path);
        strv_free(h->args);
        strv_free(h->env);
}

static int parse_hook(Ctx *c, json_t *v, const char *path, void *ret) {
        OciHook *h = ret;
        JPath q;
        int64_t t = 0;
        bool has = false;
        int r;

        if ((r = oci_get_abs_path(c, v, path, "path", true, &h->path)) < 0 ||
            (r = oci_get_strv(c, v, path, "args", false, &h->args)) < 0 ||
            (r = oci_get_strv(c, v, path, "env", false, &h->env)) < 0)
                return r;
        r = oci_get_int(c, v, path, "timeout", false, INT_MIN, INT_MAX, &has, &t);
        if (r < 0)
                return r;
        if (has && t <= 0)
                return oci_fail(c, oci_jpath_sub(q, path, "timeout"), "must be greater than zero");
        h->timeout = (int) t;
        return 0;
}

static const char *const hook_names[_OCI_HOOK_MAX] = {
        [OCI_HOOK_PRESTART] = "prestart",
        [OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
        [OCI_HOOK_CREATE_CONTAINER] = "createContainer",
        [OCI_HOOK_START_CONTAINER] = "startContainer",
        [OCI_HOOK_POSTSTART] = "poststart",
        [OCI_HOOK_POSTSTOP] = "poststop",
};

const char *oci_hook_kind_name(OciHookKind k) {
        return k >= 0 && k < _OCI_HOOK_MAX ? hook_names[k] : NULL;
}

static int parse_hooks(Ctx *c, json_t *root, OciSpec *s) {
        json_t *v;
        JPath p;
        int r;

        r = oci_get_object(c, root, "", "hooks", false, p, &v);
        if (r <= 0)
                return r;
        for (OciHookKind k = 0; k < _OCI_HOOK_MAX; k++) {
                r = oci_get_array(c, v, "hooks", hook_names[k], sizeof(OciHook), parse_hook, hook_done,
                              (void **) &s->hooks[k], &s->n_hooks[k]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- linux -------------------------------------------------------------- */

static const char *const ns_names[_OCI_NS_MAX] = {
        [OCI_NS_PID] = "pid",     [OCI_NS_NETWORK] = "network", [OCI_NS_MOUNT] = "mount",
        [OCI_NS_IPC] = "ipc",     [OCI_NS_UTS] = "uts",         [OCI_NS_USER] = "user",
        [OCI_NS_CGROUP] = "cgroup", [OCI_NS_TIME] = "time",
};

const char *oci_ns_type_name(OciNsType t) {
        return t >= 0 && t < _OCI_NS_MAX ? ns_names[t] : NULL;
}

int oci_ns_type_from_name(const char *name) {
        for (int t = 0; t < _OCI_NS_MAX; t++)
                if (streq(ns_names[t], name))
                        return t;
        return -EINVAL;
}

static void namespace_done(void *n_) {
        free(((OciNamespace *) n_)->path);
}

static int parse_namespace(Ctx *c, json_t *v, const char *path, void *ret) {
        OciNamespace *ns = ret;
        _cleanup_free_ char *type = NULL;
        JPath q;
        int r, t;

        r = oci_get_string(c, v, path, "type", true, &type);
        if (r < 0)
                return r;
        t = oci_ns_type_from_name(type);
        if (t < 0)
                return oci_fail(c, oci_jpath_sub(q, path, "type"), "unknown namespace type '%s'", type);
        ns->type = t;
        return oci_get_abs_path(c, v, path, "path", false, &ns->path);
}

static void device_done(void *d_) {
        free(((OciDevice *) d_)->path);
}

static int parse_device(Ctx *c, json_t *v, const char *path, void *ret) {
        OciDevice *d = ret;
        _cleanup_free_ char *type = NULL;
        JPath q;
        bool has;
        int r;

        r = oci_get_string(c, v, path, "type", true, &type);
        if (r < 0)
                return r;
        if (strlen(type) != 1 || !strchr("cbup", type[0]))
                return oci_fail(c, oci_jpath_sub(q, path, "type"), "must be one of c, b, u, p (is '%s')", type);
        d->type = type[0];
        r = oci_get_abs_path(c, v, path, "path", true, &d->path);
        if (r < 0)
                return r;
        d->major = d->minor = -1;
        /* major and minor: required except for FIFOs. */
        r = oci_get_int(c, v, path, "major", d->type != 'p', 0, UINT32_MAX, NULL, &d->major);
        if (r < 0)
                return r;
        r = oci_get_int(c, v, path, "minor", d->type != 'p', 0, UINT32_MAX, NULL, &d->minor);
        if (r < 0)
                return r;
        has = false;
        /* podman writes the whole st_mode (8630 = S_IFCHR | 0666); the
         * type comes from "type", the permission bits are kept. */
        r = GET_UINT(c, v, path, "fileMode", false, 0177777, &has, &d->file_mode);
        if (r < 0)
                return r;
        d->file_mode &= 07777;
        d->has_mode = has;
        has = false;
        r = GET_UINT(c, v, path, "uid", false, UINT32_MAX - 1, &has, &d->uid);
        if (r < 0)
                return r;
        d->has_uid = has;
        has = false;
        r = GET_UINT(c, v, path, "gid", false, UINT32_MAX - 1, &has, &d->gid);
        if (r < 0)
                return r;
        d->has_gid = has;
        return 0;
}

static int parse_device_rule(Ctx *c, json_t *v, const char *path, void *ret) {
        OciDeviceRule *d = ret;
        _cleanup_free_ char *type = NULL, *access = NULL;
        JPath q;
        int r;

        if (!oci_member(v, "allow"))
                return oci_fail(c, oci_jpath_sub(q, path, "allow"), "required");
        r = oci_get_bool(c, v, path, "allow", &d->allow);
        if (r < 0)
                return r;
        r = oci_get_string(c, v, path, "type", false, &type);
        if (r < 0)
                return r;
        if (type && (strlen(type) != 1 || !strchr("acb", type[0])))
                return oci_fail(c, oci_jpath_sub(q, path, "type"), "must be one of a, c, b (is '%s')", type);
        d->type = type ? type[0] : 'a';
        d->major = d->minor = -1;
        if ((r = oci_get_int(c, v, path, "major", false, -1, UINT32_MAX, NULL, &d->major)) < 0 ||
            (r = oci_get_int(c, v, path, "minor", false, -1, UINT32_MAX, NULL, &d->minor)) < 0)
                return r;
        r = oci_get_string(c, v, path, "access", false, &access);
        if (r < 0)
                return r;
        d->access[0] = '\0';
        if (access) {
                size_t n = 0;

                for (const char *a = access; *a; a++) {
                        if (!strchr("rwm", *a))
                                return oci_fail(c, oci_jpath_sub(q, path, "access"),
                                            "'%s' is not a combination of r, w, m", access);
                        if (!memchr(d->access, *a, n))
                                d->access[n++] = *a;
                        d->access[n] = '\0';
                }
        }
        return 0;
}

/* A LinuxResources object (linux.resources, or what `update` reads) at
 * path; path "" names its members alone ("memory.limit"). */
static int parse_resources_object(Ctx *c, json_t *v, const char *path, OciResources *res) {
        json_t *o;
        JPath q;
        int64_t n;
        bool has;
        int r;

        r = oci_get_object(c, v, path, "memory", false, q, &o);
        if (r < 0)
                return r;
        if (r > 0) {
                if ((r = oci_get_int(c, o, q, "limit", false, -1, INT64_MAX, &res->has_memory_limit,
                                 &res->memory_limit)) < 0 ||
                    (r = oci_get_int(c, o, q, "reservation", false, -1, INT64_MAX,
                                 &res->has_memory_reservation, &res->memory_reservation)) < 0 ||
                    (r = oci_get_int(c, o, q, "swap", false, -1, INT64_MAX, &res->has_memory_swap,
                                 &res->memory_swap)) < 0 ||
                    (r = GET_UINT(c, o, q, "swappiness", false, 100, &res->has_memory_swappiness,
                                  &res->memory_swappiness)) < 0 ||
                    (r = oci_get_bool(c, o, q, "disableOOMKiller", &res->disable_oom_killer)) < 0)
                        return r;
                /* kernel, kernelTCP (deprecated), useHierarchy, checkBeforeUpdate:
                 * type-checked, not carried. */
                if ((r = oci_get_int(c, o, q, "kernel", false, -1, INT64_MAX, NULL, &n)) < 0 ||
                    (r = oci_get_int(c, o, q, "kernelTCP", false, -1, INT64_MAX, NULL, &n)) < 0 ||
                    (r = oci_get_bool(c, o, q, "useHierarchy", &has)) < 0)
                        return r;
        }

        r = oci_get_object(c, v, path, "cpu", false, q, &o);
        if (r < 0)
                return r;
        if (r > 0) {
                if ((r = GET_UINT(c, o, q, "shares", false, INT64_MAX, &res->has_cpu_shares,
                                  &res->cpu_shares)) < 0 ||
                    (r = oci_get_int(c, o, q, "quota", false, -1, INT64_MAX, &res->has_cpu_quota,
                                 &res->cpu_quota)) < 0 ||
                    (r = GET_UINT(c, o, q, "period", false, INT64_MAX, &res->has_cpu_period,
                                  &res->cpu_period)) < 0 ||
                    (r = oci_get_string(c, o, q, "cpus", false, &res->cpu_cpus)) < 0 ||
                    (r = oci_get_string(c, o, q, "mems", false, &res->cpu_mems)) < 0 ||
                    (r = oci_get_int(c, o, q, "realtimeRuntime", false, INT64_MIN, INT64_MAX, NULL, &n)) < 0 ||
                    (r = oci_get_int(c, o, q, "realtimePeriod", false, 0, INT64_MAX, NULL, &n)) < 0)
                        return r;
        }

        r = oci_get_object(c, v, path, "pids", false, q, &o);
        if (r < 0)
                return r;
        if (r > 0) {
                r = oci_get_int(c, o, q, "limit", true, INT64_MIN, INT64_MAX, &res->has_pids_limit,
                            &res->pids_limit);
                if (r < 0)
                        return r;
        }

        r = oci_get_object(c, v, path, "blockIO", false, q, &o);
        if (r < 0)
                return r;
        if (r > 0) {
                r = GET_UINT(c, o, q, "weight", false, 1000, &res->has_blkio_weight, &res->blkio_weight);
                if (r < 0)
                        return r;
        }

        r = oci_get_array(c, v, path, "devices", sizeof(OciDeviceRule), parse_device_rule, NULL,
                      (void **) &res->devices, &res->n_devices);
        if (r < 0)
                return r;
        return oci_get_string_map(c, v, path, "unified", &res->unified_keys, &res->unified_values,
                              &res->n_unified);
}

static int parse_resources(Ctx *c, json_t *linux_, OciResources *res) {
        json_t *v;
        JPath path;
        int r;

        r = oci_get_object(c, linux_, "linux", "resources", false, path, &v);
        if (r <= 0)
                return r;
        return parse_resources_object(c, v, path, res);
}

void oci_resources_done(OciResources *res) {
        free(res->cpu_cpus);
        free(res->cpu_mems);
        free(res->devices);
        strv_free(res->unified_keys);
        strv_free(res->unified_values);
        *res = (OciResources){};
}

int oci_resources_parse(const char *json, size_t len, OciResources *ret, char *err, size_t errlen) {
        _cleanup_(json_decrefp) json_t *root = NULL;
        Ctx c = { err, errlen };
        OciResources res = {};
        int r;

        r = oci_load_json(&c, json, len, &root);
        if (r < 0)
                return r;
        r = oci_want_object(&c, root, "");
        if (r < 0)
                return r;
        r = parse_resources_object(&c, root, "", &res);
        if (r < 0) {
                oci_resources_done(&res);
                return r;
        }
        *ret = res;
        return 0;
}

static const char *const propagations[] = {
        "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable",
};

/* linux.timeOffsets: {"monotonic"|"boottime": {"secs", "nanosecs"}}. */
static int parse_time_offsets(Ctx *c, json_t *l, OciSpec *s) {
        const char *key;
        json_t *o, *v;
        JPath q, k;
        int r;

        r = oci_get_object(c, l, "linux", "timeOffsets", false, q, &o);
        if (r <= 0)
                return r;
        json_object_foreach(o, key, v) {
                OciTimeOffset *t = streq(key, "monotonic") ? &s->time_monotonic :
                                   streq(key, "boottime")  ? &s->time_boottime : NULL;
                int64_t n = 0;

                oci_jpath_sub(k, q, key);
                if (!t)
                        return oci_fail(c, k, "unknown clock (monotonic or boottime)");
                r = oci_want_object(c, v, k);
                if (r < 0)
                        return r;
                r = oci_get_int(c, v, k, "secs", false, INT64_MIN, INT64_MAX, NULL, &t->secs);
                if (r < 0)
                        return r;
                r = oci_get_int(c, v, k, "nanosecs", false, 0, 999999999, NULL, &n);
                if (r < 0)
                        return r;
                t->nanosecs = (uint32_t) n;
                t->has = true;
        }
        return 0;
}

static int parse_linux(Ctx *c, json_t *root, OciSpec *s) {
        json_t *l, *v;
        JPath q;
        int r;

        r = oci_get_object(c, root, "", "linux", false, q, &l);
        if (r <= 0)
                return r;

        r = oci_get_array(c, l, "linux", "namespaces", sizeof(OciNamespace), parse_namespace,
                      namespace_done, (void **) &s->namespaces, &s->n_namespaces);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_namespaces; i++)
                for (size_t j = 0; j < i; j++)
                        if (s->namespaces[i].type == s->namespaces[j].type) {
                                oci_jpath_idx(q, "linux.namespaces", i);
                                return oci_fail(c, oci_jpath_sub(q, q, "type"),
                                            "duplicate namespace type '%s'",
                                            ns_names[s->namespaces[i].type]);
                        }

        r = oci_get_array(c, l, "linux", "uidMappings", sizeof(OciIdMap), parse_idmap, NULL,
                      (void **) &s->uid_mappings, &s->n_uid_mappings);
        if (r < 0)
                return r;
        r = oci_get_array(c, l, "linux", "gidMappings", sizeof(OciIdMap), parse_idmap, NULL,
                      (void **) &s->gid_mappings, &s->n_gid_mappings);
        if (r < 0)
                return r;
        r = oci_get_array(c, l, "linux", "devices", sizeof(OciDevice), parse_device, device_done,
                      (void **) &s->devices, &s->n_devices);
        if (r < 0)
                return r;
        r = oci_get_string(c, l, "linux", "cgroupsPath", false, &s->cgroups_path);
        if (r < 0)
                return r;
        r = parse_resources(c, l, &s->resources);
        if (r < 0)
                return r;

        v = oci_member(l, "seccomp");
        if (v) {
                r = oci_seccomp_from_json(c, v, "linux.seccomp", &s->seccomp);
                if (r < 0)
                        return r;
                s->has_seccomp = true;
        }

        r = oci_get_string_map(c, l, "linux", "sysctl", &s->sysctl_keys, &s->sysctl_values, &s->n_sysctl);
        if (r < 0)
                return r;

        r = oci_get_string(c, l, "linux", "rootfsPropagation", false, &s->rootfs_propagation);
        if (r < 0)
                return r;
        if (s->rootfs_propagation) {
                bool ok = false;

                for (size_t i = 0; i < ELEMENTSOF(propagations); i++)
                        ok = ok || streq(propagations[i], s->rootfs_propagation);
                if (!ok)
                        return oci_fail(c, "linux.rootfsPropagation", "unknown propagation '%s'",
                                    s->rootfs_propagation);
        }
        if ((r = oci_get_strv(c, l, "linux", "maskedPaths", false, &s->masked_paths)) < 0 ||
            (r = oci_get_strv(c, l, "linux", "readonlyPaths", false, &s->readonly_paths)) < 0 ||
            (r = oci_check_abs_paths(c, s->masked_paths, "linux.maskedPaths")) < 0 ||
            (r = oci_check_abs_paths(c, s->readonly_paths, "linux.readonlyPaths")) < 0)
                return r;
        r = parse_time_offsets(c, l, s);
        if (r < 0)
                return r;
        return oci_get_string(c, l, "linux", "mountLabel", false, &s->mount_label);
}

/* ---- the whole document ------------------------------------------------- */

static int spec_from_json(Ctx *c, json_t *root, OciSpec *s) {
        json_t *v;
        JPath p;
        int r;

        r = oci_want_object(c, root, "");
        if (r < 0)
                return oci_fail(c, NULL, "config.json must be a JSON object");

        r = oci_get_string(c, root, "", "ociVersion", true, &s->oci_version);
        if (r < 0)
                return r;
        if (!strneq(s->oci_version, "1.", 2))
                return oci_fail(c, "ociVersion", "unsupported version '%s' (1.x is supported)",
                            s->oci_version);

        r = oci_get_object(c, root, "", "root", true, p, &v);
        if (r < 0)
                return r;
        r = oci_get_string(c, v, "root", "path", true, &s->root_path);
        if (r < 0)
                return r;
        if (s->root_path[0] == '\0')
                return oci_fail(c, "root.path", "must not be empty");
        r = oci_get_bool(c, v, "root", "readonly", &s->root_readonly);
        if (r < 0)
                return r;

        v = oci_member(root, "process");
        if (v) {
                r = process_from_json(c, v, "process", &s->process);
                if (r < 0)
                        return r;
                s->has_process = true;
        }

        if ((r = oci_get_string(c, root, "", "hostname", false, &s->hostname)) < 0 ||
            (r = oci_get_string(c, root, "", "domainname", false, &s->domainname)) < 0)
                return r;

        r = oci_get_array(c, root, "", "mounts", sizeof(OciMount), parse_mount, mount_done,
                      (void **) &s->mounts, &s->n_mounts);
        if (r < 0)
                return r;
        r = parse_hooks(c, root, s);
        if (r < 0)
                return r;
        r = oci_get_string_map(c, root, "", "annotations", &s->annotation_keys, &s->annotation_values,
                           &s->n_annotations);
        if (r < 0)
                return r;
        return parse_linux(c, root, s);
}

int oci_spec_parse(const char *json, size_t len, OciSpec **ret, char *err, size_t errlen) {
        _cleanup_(json_decrefp) json_t *root = NULL;
        Ctx c = { err, errlen };
        OciSpec *s;
        int r;

        r = oci_load_json(&c, json, len, &root);
        if (r < 0)
                return r;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        r = spec_from_json(&c, root, s);
        if (r < 0) {
                oci_spec_free(s);
                if (r == -ENOMEM)
                        oci_fail(&c, NULL, "out of memory");
                return r;
        }
        *ret = s;
        return 0;
}

int oci_spec_load(const char *bundle, OciSpec **ret, char *err, size_t errlen) {
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *text = NULL;
        char inner[512];
        size_t len;
        int r;

        dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                r = negative_errno();
                snprintf(err, errlen, "%s: %s", bundle, strerror(-r));
                return r;
        }
        r = read_file_at(dfd, "config.json", OCI_SPEC_MAX_SIZE, &text, &len);
        if (r < 0) {
                snprintf(err, errlen, "%s/config.json: %s", bundle,
                         r == -EFBIG ? "larger than 16 MiB" : strerror(-r));
                return r;
        }
        r = oci_spec_parse(text, len, ret, inner, sizeof(inner));
        if (r < 0) {
                snprintf(err, errlen, "%s/config.json: %s", bundle, inner);
                return r;
        }
        return 0;
}

void oci_spec_free(OciSpec *s) {
        if (!s)
                return;
        free(s->oci_version);
        free(s->root_path);
        free(s->hostname);
        free(s->domainname);
        oci_process_done(&s->process);
        for (size_t i = 0; i < s->n_mounts; i++)
                mount_done(&s->mounts[i]);
        free(s->mounts);
        for (OciHookKind k = 0; k < _OCI_HOOK_MAX; k++) {
                for (size_t i = 0; i < s->n_hooks[k]; i++)
                        hook_done(&s->hooks[k][i]);
                free(s->hooks[k]);
        }
        strv_free(s->annotation_keys);
        strv_free(s->annotation_values);
        for (size_t i = 0; i < s->n_namespaces; i++)
                namespace_done(&s->namespaces[i]);
        free(s->namespaces);
        free(s->uid_mappings);
        free(s->gid_mappings);
        for (size_t i = 0; i < s->n_devices; i++)
                device_done(&s->devices[i]);
        free(s->devices);
        free(s->cgroups_path);
        oci_resources_done(&s->resources);
        oci_seccomp_done(&s->seccomp);
        strv_free(s->sysctl_keys);
        strv_free(s->sysctl_values);
        free(s->rootfs_propagation);
        strv_free(s->masked_paths);
        strv_free(s->readonly_paths);
        free(s->mount_label);
        free(s);
}

const char *oci_spec_annotation(const OciSpec *s, const char *key) {
        if (!s || !key)
                return NULL;
        for (size_t i = 0; i < s->n_annotations; i++)
                if (streq(s->annotation_keys[i], key))
                        return s->annotation_values[i];
        return NULL;
}

const OciNamespace *oci_spec_namespace(const OciSpec *s, OciNsType type) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_namespaces; i++)
                if (s->namespaces[i].type == type)
                        return &s->namespaces[i];
        return NULL;
}
