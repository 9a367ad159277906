/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One rule: a key → handler table.  Each key says which kinds it belongs
 * to and whether it only makes sense in an allow rule; the verdict and
 * kinds are read first so that every other key can be checked against
 * them. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/parse.h"
#include "policy/load.h"

#define RULE_ID_MAX 128

typedef int (*rule_handler)(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v);

typedef struct RuleKey {
        const char *name;
        rule_handler handler;
        unsigned kinds;         /* 0: every kind */
        bool allow_only;        /* a grant attribute, meaningless in deny */
} RuleKey;

static int compile_glob(LoadContext *c, FileState *fs, const char *key, const YNode *v, GlobMode mode,
                        Glob *ret) {
        const char *s, *err = NULL;
        int r;

        if (want_string(c, fs, key, v, &s) < 0)
                return -EINVAL;
        if (mode == GLOB_PATH && *s && !path_is_normalized(s)) {
                load_error(c, fs, v, "'%s' must be an absolute, normalised path (no '.', '..', '//' "
                                     "or trailing '/'): '%s'", key, s);
                return -EINVAL;
        }
        if (mode == GLOB_NAME && strchr(s, '/')) {
                load_error(c, fs, v, "'%s' is a name and cannot contain '/': '%s'", key, s);
                return -EINVAL;
        }
        r = glob_compile(s, mode, ret, &err);
        if (r == -ENOMEM)
                return (c->oom = r);
        if (r < 0) {
                load_error(c, fs, v, "'%s': %s%s%s%s", key, err, *s ? " '" : "", s, *s ? "'" : "");
                return r;
        }
        return 0;
}

static int rk_id(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        const char *s;

        if (want_string(c, fs, "id", v, &s) < 0)
                return -EINVAL;
        if (*s == 0 || strlen(s) > RULE_ID_MAX || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                            "0123456789_.:/@+-") != strlen(s)) {
                load_error(c, fs, v, "invalid rule id '%s' (1-%u characters of A-Z a-z 0-9 _ . : / @ + -)", s,
                           RULE_ID_MAX);
                return -EINVAL;
        }
        /* The audit log's names for "no rule": a rule so named would look
         * like the default's decision or the broker's own (docs/AUDIT.md). */
        if (streq(s, "default") || streq(s, "-")) {
                load_error(c, fs, v, "rule id '%s' is reserved (the audit log's name for %s)", s,
                           streq(s, "-") ? "the broker's own decisions" : "the policy's default");
                return -EINVAL;
        }
        r->id = strdup(s);
        return r->id ? 0 : (c->oom = -ENOMEM);
}

static int rk_container(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        ContainerPattern *p = streq(key->value, "from") ? &r->from : &r->to;
        const char *s, *err = NULL;
        int k;

        if (want_string(c, fs, key->value, v, &s) < 0)
                return -EINVAL;
        k = container_pattern_compile(s, p, &err);
        if (k == -ENOMEM)
                return (c->oom = k);
        if (k < 0) {
                load_error(c, fs, v, "'%s': %s%s%s%s", key->value, err, *s ? " '" : "", s, *s ? "'" : "");
                return k;
        }
        return 0;
}

static int parse_kind(LoadContext *c, FileState *fs, const char *key, const YNode *v, unsigned *kinds) {
        const char *s;
        PolicyKind k;

        if (want_string(c, fs, key, v, &s) < 0)
                return -EINVAL;
        k = policy_kind_from_string(s);
        if (k < 0) {
                load_error(c, fs, v, "unknown kind '%s' (expected ipc, invoke, transfer, depend or signal)", s);
                return -EINVAL;
        }
        if (*kinds & KIND_BIT(k)) {
                load_error(c, fs, v, "kind '%s' is listed twice", s);
                return -EINVAL;
        }
        *kinds |= KIND_BIT(k);
        return 0;
}

/* allow/deny: read before the other keys. */
static int rk_verdict(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        YNode *const *items;
        unsigned kinds = 0;
        size_t n;
        int k;
        bool ok = true;

        k = want_list(c, fs, key->value, v, true, &items, &n);
        if (k < 0)
                return k;
        if (k > 0)
                ok = parse_kind(c, fs, key->value, v, &kinds) >= 0;
        else if (n == 0) {
                load_error(c, fs, v, "'%s' needs at least one kind", key->value);
                return -EINVAL;
        } else
                for (size_t i = 0; i < n; i++)
                        ok = parse_kind(c, fs, key->value, items[i], &kinds) >= 0 && ok;
        if (!ok)
                return -EINVAL;
        r->verdict = streq(key->value, "allow") ? POLICY_ALLOW : POLICY_DENY;
        r->kinds = kinds;
        return 0;
}

static int rk_endpoint(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        return compile_glob(c, fs, "endpoint", v, GLOB_NAME, &r->endpoint);
}

static int rk_service(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        return compile_glob(c, fs, "service", v, GLOB_NAME, &r->service);
}

static int rk_pid(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        return compile_glob(c, fs, "pid", v, GLOB_PATH, &r->pid);
}

static int rk_host(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        if (v->bad)
                return -EINVAL;
        if (!ynode_is_bool(v)) {
                load_error(c, fs, v, "'host' must be true, not %s", ynode_type_name(v));
                return -EINVAL;
        }
        if (strcasecmp(v->value, "true") != 0 && strcasecmp(v->value, "yes") != 0 &&
            strcasecmp(v->value, "on") != 0) {
                load_error(c, fs, v, "'host' can only be true (leave it out for a rule about other names)");
                return -EINVAL;
        }
        r->host = true;
        return 0;
}

static int rk_app(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        return compile_glob(c, fs, "app", v, GLOB_PATH, &r->app);
}

static int rk_path(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        return compile_glob(c, fs, "path", v, GLOB_PATH, &r->path);
}

static int rk_type(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        const char *s;
        PolicyIpcType t;

        if (want_string(c, fs, "type", v, &s) < 0)
                return -EINVAL;
        t = policy_ipc_type_from_string(s);
        if (t <= POLICY_IPC_ANY) {
                load_error(c, fs, v, "'type' must be unix, tcp, fifo, mq or shm, not '%s'", s);
                return -EINVAL;
        }
        r->ipc_type = t;
        return 0;
}

static int want_mode(LoadContext *c, FileState *fs, const char *key, const YNode *v, bool none_ok,
                     PolicyMode *ret) {
        const char *s;
        PolicyMode m;

        if (want_string(c, fs, key, v, &s) < 0)
                return -EINVAL;
        m = policy_mode_from_string(s);
        if (m < 0 || (m == POLICY_MODE_NONE && !none_ok)) {
                load_error(c, fs, v, "'%s' must be %s, not '%s'", key, none_ok ? "none, ro or rw" : "ro or rw", s);
                return -EINVAL;
        }
        *ret = m;
        return 0;
}

/* mode: ro|rw for paths (transfer, depend); ro|wo|rw for a FIFO export
 * (ipc): which end of it the rule grants. */
static int rk_mode(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        bool ipc = r->kinds & KIND_BIT(POLICY_KIND_IPC),
             paths = r->kinds & (KIND_BIT(POLICY_KIND_TRANSFER) | KIND_BIT(POLICY_KIND_DEPEND));
        const char *s;
        PolicyMode m;

        if (want_string(c, fs, "mode", v, &s) < 0)
                return -EINVAL;
        m = policy_mode_from_string(s);
        if (m == POLICY_MODE_WO && paths) {
                load_error(c, fs, v, "'mode' must be ro or rw, not 'wo' (wo is for FIFO exports, in ipc rules)");
                return -EINVAL;
        }
        if (m <= POLICY_MODE_NONE) {
                load_error(c, fs, v, "'mode' must be %s, not '%s'", paths ? "ro or rw" : "ro, wo or rw", s);
                return -EINVAL;
        }
        if (paths)
                r->mode = m;
        if (ipc)
                r->ipc_mode = m;
        return 0;
}

static int rk_transfer(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        return want_mode(c, fs, "transfer", v, true, &r->invoke_transfer);
}

static int want_plain_path(LoadContext *c, FileState *fs, const char *key, const YNode *v, char **ret) {
        const char *s;

        if (want_string(c, fs, key, v, &s) < 0)
                return -EINVAL;
        if (!path_is_normalized(s) || strpbrk(s, "*?[]\\")) {
                load_error(c, fs, v, "'%s' must be an absolute, normalised path without glob characters: '%s'",
                           key, s);
                return -EINVAL;
        }
        *ret = strdup(s);
        return *ret ? 0 : (c->oom = -ENOMEM);
}

static int rk_as(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        return want_plain_path(c, fs, "as", v, &r->as);
}

static int rk_at(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        return want_plain_path(c, fs, "at", v, &r->at);
}

static int rk_args(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        YNode *const *items;
        size_t n;
        bool ok = true;

        if (want_list(c, fs, "args", v, false, &items, &n) < 0)
                return -EINVAL;
        r->args = calloc(MAX(n, (size_t) 1), sizeof(Glob));
        if (!r->args)
                return (c->oom = -ENOMEM);
        r->has_args = true;
        for (size_t i = 0; i < n; i++) {
                const char *s;

                if (want_string(c, fs, "args", items[i], &s) < 0) {
                        ok = false;
                        continue;
                }
                if (streq(s, "...")) {
                        if (i + 1 != n) {
                                load_error(c, fs, items[i], "'...' must be the last element of 'args'");
                                ok = false;
                        }
                        r->args_rest = true;
                        continue;
                }
                if (compile_glob(c, fs, "args", items[i], GLOB_STRING, &r->args[r->n_args]) < 0) {
                        ok = false;
                        continue;
                }
                r->n_args++;
        }
        return ok ? 0 : -EINVAL;
}

static int rk_env(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        YNode *const *items;
        size_t n;
        bool ok = true;

        if (want_list(c, fs, "env", v, false, &items, &n) < 0)
                return -EINVAL;
        r->env = calloc(n + 1, sizeof(char *));
        r->env_globs = calloc(MAX(n, (size_t) 1), sizeof(Glob));
        if (!r->env || !r->env_globs)
                return (c->oom = -ENOMEM);
        for (size_t i = 0; i < n; i++) {
                const char *s;

                if (want_string(c, fs, "env", items[i], &s) < 0) {
                        ok = false;
                        continue;
                }
                if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_*?[]!^-") !=
                            strlen(s) || isdigit((unsigned char) s[0])) {
                        load_error(c, fs, items[i], "'env': invalid variable name '%s'", s);
                        ok = false;
                        continue;
                }
                if (compile_glob(c, fs, "env", items[i], GLOB_NAME, &r->env_globs[r->n_env]) < 0) {
                        ok = false;
                        continue;
                }
                r->env[r->n_env] = strdup(s);
                if (!r->env[r->n_env])
                        return (c->oom = -ENOMEM);
                r->n_env++;
        }
        return ok ? 0 : -EINVAL;
}

static int rk_signals(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        YNode *const *items;
        size_t n, n_names = 0;
        bool ok = true;

        if (want_list(c, fs, "signals", v, false, &items, &n) < 0)
                return -EINVAL;
        if (n == 0) {
                load_error(c, fs, v, "'signals' is empty (leave it out to mean every signal)");
                return -EINVAL;
        }
        r->signal_names = calloc(n + 1, sizeof(char *));
        if (!r->signal_names)
                return (c->oom = -ENOMEM);
        for (size_t i = 0; i < n; i++) {
                const char *s;
                int sig;

                if (want_string(c, fs, "signals", items[i], &s) < 0) {
                        ok = false;
                        continue;
                }
                if (parse_signal(s, &sig) < 0 || sig < 1 || sig > 64) {
                        load_error(c, fs, items[i], "unknown signal '%s'", s);
                        ok = false;
                        continue;
                }
                r->signals |= UINT64_C(1) << (sig - 1);
                /* Packed: a NULL hole would cut the vector short. */
                if (!(r->signal_names[n_names++] = strdup(signal_to_name(sig) ?: s)))
                        return (c->oom = -ENOMEM);
        }
        return ok ? 0 : -EINVAL;
}

static int rk_audit(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        const char *s;

        if (want_string(c, fs, "audit", v, &s) < 0)
                return -EINVAL;
        r->audit = policy_audit_from_string(s);
        if (r->audit < 0) {
                load_error(c, fs, v, "'audit' must be all, deny or none, not '%s'", s);
                return -EINVAL;
        }
        r->has_audit = true;
        return 0;
}

static int rk_limit(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        static const struct {
                const char *name;
        } limit_keys[] = { { "rate" }, { "max_open" }, { "uses" } };
        KeySeen seen = {};
        bool ok = true;

        if (want_mapping(c, fs, "limit", v) < 0)
                return -EINVAL;
        for (size_t i = 0; i + 1 < v->n_items; i += 2) {
                const YNode *val = v->items[i + 1];
                const char *s;
                int k = lookup_key(c, fs, v->items[i], limit_keys, sizeof(limit_keys[0]), ELEMENTSOF(limit_keys),
                                   &seen, "in 'limit' (expected rate, max_open or uses)");
                if (k < 0) {
                        ok = false;
                        continue;
                }
                if (k == 0) {
                        if (want_string(c, fs, "rate", val, &s) < 0) {
                                ok = false;
                                continue;
                        }
                        if (parse_rate(s, &r->limits.rate_count, &r->limits.rate_interval_usec) < 0) {
                                load_error(c, fs, val, "invalid rate '%s' (expected COUNT/UNIT, like 100/s, "
                                                       "10/m or 5/1h)", s);
                                ok = false;
                                continue;
                        }
                        if (!(r->rate_text = strdup(s)))
                                return (c->oom = -ENOMEM);
                } else {
                        uint64_t *u = k == 1 ? &r->limits.max_open : &r->limits.uses;
                        if (want_uint(c, fs, limit_keys[k].name, val, u) < 0) {
                                ok = false;
                                continue;
                        }
                        if (*u == 0) {
                                load_error(c, fs, val, "'%s' must be at least 1", limit_keys[k].name);
                                ok = false;
                        }
                }
        }
        return ok ? 0 : -EINVAL;
}

static int rk_until(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        const char *s;

        if (want_string(c, fs, "until", v, &s) < 0)
                return -EINVAL;
        if (parse_timestamp(s, &r->until) < 0) {
                load_error(c, fs, v, "invalid time '%s' (expected RFC 3339 like 2026-12-31T23:59:59Z)", s);
                return -EINVAL;
        }
        r->has_until = true;
        r->until_text = strdup(s);
        return r->until_text ? 0 : (c->oom = -ENOMEM);
}

static int rk_shadow(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        if (v->bad)
                return -EINVAL;
        if (!ynode_is_bool(v)) {
                load_error(c, fs, v, "'shadow' must be true or false, not %s", ynode_type_name(v));
                return -EINVAL;
        }
        r->shadow = strcasecmp(v->value, "true") == 0 || strcasecmp(v->value, "yes") == 0 ||
                    strcasecmp(v->value, "on") == 0;
        return 0;
}

/* ask: true | false | { timeout: DURATION }: an allow rule whose requests
 * wait for an operator's answer (the broker's `shuttlectl ask`). */
static int rk_ask(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *key, const YNode *v) {
        uint64_t usec = POLICY_ASK_TIMEOUT_DEFAULT_USEC;
        KeySeen seen = {};
        const char *s;

        if (r->kinds & KIND_BIT(POLICY_KIND_DEPEND)) {
                /* Nobody waits on a depend grant: the broker mounts it. */
                load_error(c, fs, key, "'ask' does not apply to depend rules (the broker grants them by itself)");
                return -EINVAL;
        }
        if (v->bad)
                return -EINVAL;
        if (v->type == YNODE_SCALAR) {
                bool yes = ynode_is_bool(v) && (strcasecmp(v->value, "true") == 0 || strcasecmp(v->value, "yes") == 0 ||
                                                strcasecmp(v->value, "on") == 0);
                if (!ynode_is_bool(v)) {
                        load_error(c, fs, v, "invalid ask '%s' (expected true, false or { timeout: DURATION })",
                                   v->value);
                        return -EINVAL;
                }
                r->ask_usec = yes ? usec : 0;
                return 0;
        }
        if (want_mapping(c, fs, "ask", v) < 0)
                return -EINVAL;
        for (size_t i = 0; i + 1 < v->n_items; i += 2) {
                static const struct {
                        const char *name;
                } ask_keys[] = { { "timeout" } };
                const YNode *val = v->items[i + 1];
                int k = lookup_key(c, fs, v->items[i], ask_keys, sizeof(ask_keys[0]), ELEMENTSOF(ask_keys), &seen,
                                   "in 'ask' (expected timeout)");
                if (k < 0)
                        return -EINVAL;
                if (want_string(c, fs, "timeout", val, &s) < 0)
                        return -EINVAL;
                if (parse_duration(s, &usec) < 0 || usec == 0 || usec > POLICY_ASK_TIMEOUT_MAX_USEC) {
                        load_error(c, fs, val, "invalid ask timeout '%s' (expected a duration from 1ms to 1h, "
                                               "like 30s or 5m)", s);
                        return -EINVAL;
                }
        }
        r->ask_usec = usec;
        return 0;
}

enum {
        RK_ALLOW,
        RK_DENY,
        RK_ID,
        RK_FROM,
        RK_TO,
        RK_ENDPOINT,
        RK_TYPE,
        RK_APP,
        RK_ARGS,
        RK_ENV,
        RK_TRANSFER,
        RK_PATH,
        RK_MODE,
        RK_AS,
        RK_AT,
        RK_SERVICE,
        RK_PID,
        RK_HOST,
        RK_SIGNALS,
        RK_AUDIT,
        RK_LIMIT,
        RK_UNTIL,
        RK_SHADOW,
        RK_ASK,
        _RK_MAX,
};

#define K(k) KIND_BIT(POLICY_KIND_##k)

static const RuleKey rule_keys[_RK_MAX] = {
        [RK_ALLOW] = { "allow", rk_verdict, 0, false },
        [RK_DENY] = { "deny", rk_verdict, 0, false },
        [RK_ID] = { "id", rk_id, 0, false },
        [RK_FROM] = { "from", rk_container, 0, false },
        [RK_TO] = { "to", rk_container, 0, false },
        [RK_ENDPOINT] = { "endpoint", rk_endpoint, K(IPC), false },
        [RK_TYPE] = { "type", rk_type, K(IPC), false },
        [RK_APP] = { "app", rk_app, K(INVOKE) | K(SIGNAL), false },
        [RK_ARGS] = { "args", rk_args, K(INVOKE), false },
        [RK_ENV] = { "env", rk_env, K(INVOKE), true },
        [RK_TRANSFER] = { "transfer", rk_transfer, K(INVOKE), true },
        [RK_PATH] = { "path", rk_path, K(TRANSFER) | K(DEPEND), false },
        [RK_MODE] = { "mode", rk_mode, K(IPC) | K(TRANSFER) | K(DEPEND), true },
        [RK_AS] = { "as", rk_as, K(TRANSFER), true },
        [RK_AT] = { "at", rk_at, K(DEPEND), true },
        [RK_SERVICE] = { "service", rk_service, K(TRANSFER) | K(DEPEND), false },
        [RK_PID] = { "pid", rk_pid, K(TRANSFER), false },
        [RK_HOST] = { "host", rk_host, K(TRANSFER), false },
        [RK_SIGNALS] = { "signals", rk_signals, K(SIGNAL), false },
        [RK_AUDIT] = { "audit", rk_audit, 0, false },
        [RK_LIMIT] = { "limit", rk_limit, 0, true },
        [RK_UNTIL] = { "until", rk_until, 0, false },
        [RK_SHADOW] = { "shadow", rk_shadow, 0, false },
        [RK_ASK] = { "ask", rk_ask, K(IPC) | K(INVOKE) | K(TRANSFER) | K(SIGNAL), true },
};

static const char *kinds_text(unsigned kinds, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = 0;
        for (PolicyKind k = 0; k < _POLICY_KIND_MAX; k++)
                if (kinds & KIND_BIT(k))
                        n += (size_t) snprintf(buf + n, size - MIN(n, size), "%s%s", n ? "/" : "",
                                               policy_kind_to_string(k));
        return buf;
}

/* Open-addressing set of rules by id, to catch duplicates in O(1). */
static uint32_t id_hash(const char *s) {
        uint32_t h = 2166136261u;
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 16777619u;
        return h;
}

static PolicyRule *id_find(LoadContext *c, const char *id) {
        if (c->ids_size == 0)
                return NULL;
        for (size_t i = id_hash(id) & (c->ids_size - 1);; i = (i + 1) & (c->ids_size - 1)) {
                if (!c->ids[i])
                        return NULL;
                if (streq(c->ids[i]->id, id))
                        return c->ids[i];
        }
}

static int id_add(LoadContext *c, PolicyRule *r) {
        if ((c->n_ids + 1) * 2 > c->ids_size) {
                size_t size = MAX(c->ids_size * 2, (size_t) 64);
                PolicyRule **t = calloc(size, sizeof(PolicyRule *));
                if (!t)
                        return -ENOMEM;
                for (size_t i = 0; i < c->ids_size; i++) {
                        if (!c->ids[i])
                                continue;
                        size_t j = id_hash(c->ids[i]->id) & (size - 1);
                        while (t[j])
                                j = (j + 1) & (size - 1);
                        t[j] = c->ids[i];
                }
                free(c->ids);
                c->ids = t;
                c->ids_size = size;
        }
        size_t j = id_hash(r->id) & (c->ids_size - 1);
        while (c->ids[j])
                j = (j + 1) & (c->ids_size - 1);
        c->ids[j] = r;
        c->n_ids++;
        return 0;
}

static bool rule_finish(LoadContext *c, FileState *fs, PolicyRule *r, const YNode *node,
                        const YNode *const *at) {
        bool ok = true;

        /* After a syntax error the mapping may just be cut short: do not
         * report keys as missing then. */
        if (!r->from.text && !at[RK_FROM] && !fs->truncated) {
                load_error(c, fs, node, "rule has no 'from' (use \"*\" for any container)");
                ok = false;
        }
        if (!r->to.text && !at[RK_TO] && !fs->truncated) {
                load_error(c, fs, node, "rule has no 'to' (use \"*\" for any container)");
                ok = false;
        }
        if (at[RK_SERVICE] && (at[RK_PATH] || at[RK_MODE] || at[RK_AT])) {
                load_error(c, fs, at[RK_SERVICE], "'service' cannot be combined with 'path', 'at' or 'mode'");
                ok = false;
        }
        /* A socket, queue or shared-memory object has no ends: a mode on a
         * rule that could match one would grant something it does not say. */
        if (at[RK_MODE] && r->ipc_mode != POLICY_MODE_NONE && r->ipc_type != POLICY_IPC_FIFO &&
            !(at[RK_TYPE] && r->ipc_type == POLICY_IPC_ANY)) {
                load_error(c, fs, at[RK_MODE], "'mode' in an ipc rule needs 'type: fifo' (it says which end "
                                               "of the FIFO the rule grants)");
                ok = false;
        }
        if (at[RK_AT] && !at[RK_PATH]) {
                load_error(c, fs, at[RK_AT], "'at' needs 'path'");
                ok = false;
        }
        /* A transfer rule is about one kind of name at most (path with
         * service is reported above), and mode and as are about paths. */
        for (int k = RK_PID; k <= RK_HOST; k++) {
                static const int before[] = { RK_PATH, RK_SERVICE, RK_PID };
                if (!at[k])
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(before) && before[i] != k; i++)
                        if (at[before[i]]) {
                                load_error(c, fs, at[k], "'%s' cannot be combined with '%s' (a transfer rule "
                                           "names at most one of path, pid, service and host)",
                                           rule_keys[k].name, rule_keys[before[i]].name);
                                ok = false;
                                break;
                        }
        }
        for (int k = RK_MODE; k <= RK_AS; k++) {
                const int name = at[RK_PID] ? RK_PID : at[RK_HOST] ? RK_HOST : RK_SERVICE;
                /* (In a deny rule they are reported as such already.) */
                if (!at[k] || !at[name] || r->verdict != POLICY_ALLOW || (k == RK_MODE && name == RK_SERVICE))
                        continue;
                load_error(c, fs, at[k], "'%s' is for paths and cannot be combined with '%s'",
                           rule_keys[k].name, rule_keys[name].name);
                ok = false;
        }
        r->transfer_name = at[RK_PATH] ? POLICY_NAME_PATH : at[RK_PID] ? POLICY_NAME_PID :
                           at[RK_SERVICE] ? POLICY_NAME_SERVICE : at[RK_HOST] ? POLICY_NAME_HOST :
                           _POLICY_NAME_INVALID;
        if (r->kinds & (K(TRANSFER) | K(DEPEND)) && r->mode == POLICY_MODE_NONE)
                r->mode = POLICY_MODE_RO;
        if (!r->id) {
                if (asprintf(&r->id, "%s:%u", fs->name, node->line) < 0) {
                        r->id = NULL;
                        c->oom = -ENOMEM;
                        return false;
                }
                r->id_generated = true;
        }
        PolicyRule *other = id_find(c, r->id);
        if (other) {
                load_error(c, fs, at[RK_ID] ?: node, "duplicate rule id '%s' (first used at %s:%u:%u)", r->id,
                           other->file, other->line, other->column);
                ok = false;
        }
        if (ok && r->has_until && r->until < c->now) {
                char ts[64] = "?";
                (void) format_timestamp(r->until, ts, sizeof(ts));
                load_warning(c, fs, at[RK_UNTIL], "rule '%s' expired at %s and will never match", r->id, ts);
        }
        return ok;
}

int parse_rule(LoadContext *c, FileState *fs, const YNode *node) {
        const YNode *at[ELEMENTSOF(rule_keys)] = {};
        KeySeen seen = {};
        PolicyRule *r;
        bool ok = true, have_verdict = false;
        int k;

        if (node->bad)
                return 0;
        if (node->type != YNODE_MAPPING) {
                load_error(c, fs, node, "a rule must be a mapping, not %s", ynode_type_name(node));
                return 0;
        }
        r = calloc(1, sizeof(PolicyRule));
        if (!r)
                return (c->oom = -ENOMEM);
        r->line = node->line;
        r->column = node->column;
        r->invoke_transfer = POLICY_MODE_NONE;
        if (!(r->file = strdup(fs->name))) {
                policy_rule_free(r);
                return (c->oom = -ENOMEM);
        }

        /* Pass 1: every key is looked up once (unknown and duplicate keys
         * are reported here); allow/deny are applied. */
        for (size_t i = 0; i + 1 < node->n_items; i += 2) {
                k = lookup_key(c, fs, node->items[i], rule_keys, sizeof(rule_keys[0]), ELEMENTSOF(rule_keys), &seen,
                               "in rule (see shuttle-policy(5))");
                if (k < 0) {
                        ok = false;
                        continue;
                }
                at[k] = node->items[i + 1];
                if (rule_keys[k].handler != rk_verdict)
                        continue;
                if (have_verdict) {
                        load_error(c, fs, node->items[i], "a rule has exactly one of 'allow' or 'deny'");
                        ok = false;
                        continue;
                }
                have_verdict = true;
                if (rk_verdict(c, fs, r, node->items[i], node->items[i + 1]) < 0)
                        ok = false;
        }
        if (!have_verdict) {
                if (!fs->truncated)
                        load_error(c, fs, node, "rule has neither 'allow' nor 'deny'");
                ok = false;
        }

        /* Pass 2: the other keys, checked against the kinds and verdict. */
        for (size_t i = 0; i + 1 < node->n_items && !c->oom; i += 2) {
                const YNode *key = node->items[i];
                char buf[64], want[64];

                for (k = 0; k < (int) ELEMENTSOF(rule_keys); k++)
                        if (at[k] == node->items[i + 1] && !key->bad && key->type == YNODE_SCALAR &&
                            streq(key->value, rule_keys[k].name))
                                break;
                if (k >= (int) ELEMENTSOF(rule_keys) || rule_keys[k].handler == rk_verdict)
                        continue;
                if (rule_keys[k].kinds && r->kinds && !(rule_keys[k].kinds & r->kinds)) {
                        load_error(c, fs, key, "'%s' does not apply to %s rules (it is for %s)", key->value,
                                   kinds_text(r->kinds, buf, sizeof(buf)),
                                   kinds_text(rule_keys[k].kinds, want, sizeof(want)));
                        ok = false;
                        continue;
                }
                if (rule_keys[k].allow_only && have_verdict && r->kinds && r->verdict == POLICY_DENY) {
                        load_error(c, fs, key, "'%s' does not apply to deny rules", key->value);
                        ok = false;
                        continue;
                }
                if (rule_keys[k].handler(c, fs, r, key, node->items[i + 1]) < 0)
                        ok = false;
        }
        if (c->oom) {
                policy_rule_free(r);
                return c->oom;
        }
        if (!rule_finish(c, fs, r, node, at) || !ok || !r->kinds) {
                policy_rule_free(r);
                return c->oom;
        }
        if (id_add(c, r) < 0 || policy_add_rule(c->policy, r) < 0) {
                policy_rule_free(r);
                return (c->oom = -ENOMEM);
        }
        return 0;
}
