/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Policy tests: the 'tests' list of a policy file (requests with the
 * decision they must get), read with the loader's rules and kept in the
 * policy; run at the end of a load, where a failing case is an error at
 * its position, so that a policy whose tests fail is never returned (and
 * a broker reload keeps the old policy). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/parse.h"
#include "policy/decide.h"
#include "policy/load.h"

#define TEST_LIST_MAX 256u

PolicyTest *policy_test_free(PolicyTest *t) {
        if (!t)
                return NULL;
        free(t->file);
        free(t->name);
        free(t->expect_rule);
        free(t->from);
        free(t->to);
        free(t->object);
        strv_free(t->args);
        strv_free(t->env);
        free(t);
        return NULL;
}

static void policy_test_freep(PolicyTest **t) {
        policy_test_free(*t);
}

enum {
        TK_NAME,
        TK_FROM,
        TK_TO,
        TK_KIND,
        TK_EXPECT,
        TK_RULE,
        TK_NOW,
        /* The object keys, as 'shuttlectl policy explain' takes them. */
        TK_ENDPOINT,
        TK_TYPE,
        TK_APP,
        TK_ARGS,
        TK_ENV,
        TK_PATH,
        TK_PID,
        TK_SERVICE,
        TK_HOST,
        TK_MODE,
        TK_SIGNAL,
        _TK_MAX,
};

#define K(k) KIND_BIT(POLICY_KIND_##k)

static const struct TestKey {
        const char *name;
        unsigned kinds;   /* 0: any kind */
} test_keys[_TK_MAX] = {
        [TK_NAME] = { "name", 0 },
        [TK_FROM] = { "from", 0 },
        [TK_TO] = { "to", 0 },
        [TK_KIND] = { "kind", 0 },
        [TK_EXPECT] = { "expect", 0 },
        [TK_RULE] = { "rule", 0 },
        [TK_NOW] = { "now", 0 },
        [TK_ENDPOINT] = { "endpoint", K(IPC) },
        [TK_TYPE] = { "type", K(IPC) },
        [TK_APP] = { "app", K(INVOKE) | K(SIGNAL) },
        [TK_ARGS] = { "args", K(INVOKE) },
        [TK_ENV] = { "env", K(INVOKE) },
        [TK_PATH] = { "path", K(TRANSFER) | K(DEPEND) },
        [TK_PID] = { "pid", K(TRANSFER) },
        [TK_SERVICE] = { "service", K(TRANSFER) | K(DEPEND) },
        [TK_HOST] = { "host", K(TRANSFER) },
        [TK_MODE] = { "mode", K(IPC) | K(TRANSFER) | K(DEPEND) },
        [TK_SIGNAL] = { "signal", K(SIGNAL) },
};

/* "name" or "group/name", each part a valid container name. */
static bool request_name_ok(const char *s) {
        const char *slash = strchr(s, '/');
        char group[64];

        if (!slash)
                return container_name_is_valid(s);
        if ((size_t) (slash - s) >= sizeof(group))
                return false;
        memcpy(group, s, (size_t) (slash - s));
        group[slash - s] = 0;
        return container_name_is_valid(group) && container_name_is_valid(slash + 1);
}

static int test_strv(LoadContext *c, FileState *fs, const char *key, const YNode *v, char ***ret) {
        YNode *const *items;
        _cleanup_strv_free_ char **l = NULL;
        size_t n;

        if (want_list(c, fs, key, v, false, &items, &n) < 0)
                return -EINVAL;
        if (n > TEST_LIST_MAX) {
                load_error(c, fs, v, "'%s' has more than %u items", key, TEST_LIST_MAX);
                return -EINVAL;
        }
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return (c->oom = -ENOMEM);
        for (size_t i = 0; i < n; i++) {
                const char *s;

                if (want_string(c, fs, key, items[i], &s) < 0)
                        return -EINVAL;
                if (!(l[i] = strdup(s)))
                        return (c->oom = -ENOMEM);
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static size_t strv_count(char **l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

static int test_dup(LoadContext *c, const char *s, char **ret) {
        *ret = strdup(s);
        return *ret ? 0 : (c->oom = -ENOMEM);
}

/* One case.  Errors are reported; a bad case is not kept. */
static int parse_test(LoadContext *c, FileState *fs, const YNode *node) {
        _cleanup_(policy_test_freep) PolicyTest *t = NULL;
        const YNode *at[_TK_MAX] = {};
        KeySeen seen = {};
        const char *s;
        bool ok = true;
        int k;

        if (node->bad)
                return 0;
        if (node->type != YNODE_MAPPING) {
                load_error(c, fs, node, "a test must be a mapping (from, to, kind, expect...), not %s",
                           ynode_type_name(node));
                return 0;
        }
        for (size_t i = 0; i + 1 < node->n_items; i += 2) {
                k = lookup_key(c, fs, node->items[i], test_keys, sizeof(test_keys[0]), _TK_MAX, &seen,
                               "in test (see TESTS in shuttle-policy(5))");
                if (k < 0)
                        ok = false;
                else
                        at[k] = node->items[i + 1];
        }
        t = calloc(1, sizeof(PolicyTest));
        if (!t)
                return (c->oom = -ENOMEM);
        t->line = node->line;
        t->column = node->column;
        t->req.kind = _POLICY_KIND_INVALID;
        if (test_dup(c, fs->name, &t->file) < 0)
                return c->oom;

        for (k = TK_FROM; k <= TK_EXPECT; k++)
                if (!at[k] && !fs->truncated) {
                        load_error(c, fs, node, "test has no '%s'", test_keys[k].name);
                        ok = false;
                }
        if (at[TK_NAME] && (want_string(c, fs, "name", at[TK_NAME], &s) < 0 || test_dup(c, s, &t->name) < 0))
                ok = false;
        for (k = TK_FROM; k <= TK_TO; k++) {
                if (!at[k])
                        continue;
                if (want_string(c, fs, test_keys[k].name, at[k], &s) < 0) {
                        ok = false;
                        continue;
                }
                if (!request_name_ok(s)) {
                        load_error(c, fs, at[k], "'%s' must be a container name or group/name (no globs: a "
                                                 "test is one request), not '%s'", test_keys[k].name, s);
                        ok = false;
                        continue;
                }
                if (test_dup(c, s, k == TK_FROM ? &t->from : &t->to) < 0)
                        return c->oom;
        }
        if (at[TK_KIND] && want_string(c, fs, "kind", at[TK_KIND], &s) >= 0) {
                t->req.kind = policy_kind_from_string(s);
                if (t->req.kind < 0) {
                        load_error(c, fs, at[TK_KIND], "unknown kind '%s' (expected ipc, invoke, transfer, "
                                                       "depend or signal)", s);
                        ok = false;
                }
        } else if (at[TK_KIND])
                ok = false;
        if (at[TK_EXPECT] && want_string(c, fs, "expect", at[TK_EXPECT], &s) >= 0) {
                if (streq(s, "allow"))
                        t->expect = POLICY_ALLOW;
                else if (streq(s, "deny"))
                        t->expect = POLICY_DENY;
                else {
                        load_error(c, fs, at[TK_EXPECT], "'expect' must be allow or deny, not '%s'", s);
                        ok = false;
                }
        } else if (at[TK_EXPECT])
                ok = false;
        if (at[TK_RULE] && (want_string(c, fs, "rule", at[TK_RULE], &s) < 0 ||
                            test_dup(c, s, &t->expect_rule) < 0))
                ok = false;
        if (at[TK_NOW]) {
                if (want_string(c, fs, "now", at[TK_NOW], &s) < 0)
                        ok = false;
                else if (parse_timestamp(s, &t->req.now) < 0) {
                        load_error(c, fs, at[TK_NOW], "invalid time '%s' (expected RFC 3339 like "
                                                      "2026-12-31T23:59:59Z)", s);
                        ok = false;
                } else
                        t->has_now = true;
        }
        if (c->oom)
                return c->oom;

        /* The object keys: only those of the case's kind, at most one name. */
        for (k = TK_ENDPOINT; k < _TK_MAX; k++) {
                if (!at[k] || t->req.kind < 0 || (test_keys[k].kinds & KIND_BIT(t->req.kind)))
                        continue;
                load_error(c, fs, at[k], "'%s' does not apply to %s requests", test_keys[k].name,
                           policy_kind_to_string(t->req.kind));
                ok = false;
                at[k] = NULL;
        }
        if (!!at[TK_PATH] + !!at[TK_PID] + !!at[TK_SERVICE] + !!at[TK_HOST] > 1) {
                load_error(c, fs, node, "a test names at most one of path, pid, service and host");
                ok = false;
        }
        for (k = TK_ENDPOINT; k <= TK_SERVICE; k++) {
                if (!at[k] || k == TK_TYPE || k == TK_ARGS || k == TK_ENV)
                        continue;
                if (want_string(c, fs, test_keys[k].name, at[k], &s) < 0) {
                        ok = false;
                        continue;
                }
                if (test_dup(c, s, &t->object) < 0)
                        return c->oom;
        }
        if (at[TK_TYPE] && want_string(c, fs, "type", at[TK_TYPE], &s) >= 0) {
                t->req.ipc_type = policy_ipc_type_from_string(s);
                if (t->req.ipc_type <= POLICY_IPC_ANY) {
                        load_error(c, fs, at[TK_TYPE], "'type' must be unix, tcp, fifo, mq or shm, not '%s'", s);
                        ok = false;
                }
        } else if (at[TK_TYPE])
                ok = false;
        if (at[TK_ARGS] && test_strv(c, fs, "args", at[TK_ARGS], &t->args) < 0)
                ok = false;
        if (at[TK_ENV] && test_strv(c, fs, "env", at[TK_ENV], &t->env) < 0)
                ok = false;
        if (at[TK_HOST]) {
                const YNode *v = at[TK_HOST];
                if (!v->bad && (!ynode_is_bool(v) || (strcasecmp(v->value, "true") != 0 &&
                                                      strcasecmp(v->value, "yes") != 0 &&
                                                      strcasecmp(v->value, "on") != 0))) {
                        load_error(c, fs, v, "'host' can only be true");
                        ok = false;
                }
        }
        if (at[TK_MODE] && want_string(c, fs, "mode", at[TK_MODE], &s) >= 0) {
                t->req.mode = policy_mode_from_string(s);
                if (t->req.mode <= POLICY_MODE_NONE ||
                    (t->req.mode == POLICY_MODE_WO && t->req.kind != POLICY_KIND_IPC)) {
                        load_error(c, fs, at[TK_MODE], "'mode' must be %s, not '%s'",
                                   t->req.kind == POLICY_KIND_IPC ? "ro or wo" : "ro or rw", s);
                        ok = false;
                } else if (t->req.kind == POLICY_KIND_TRANSFER && (at[TK_PID] || at[TK_SERVICE] || at[TK_HOST])) {
                        load_error(c, fs, at[TK_MODE], "'mode' is for paths only");
                        ok = false;
                }
        } else if (at[TK_MODE])
                ok = false;
        if (at[TK_SIGNAL] && want_string(c, fs, "signal", at[TK_SIGNAL], &s) >= 0) {
                if (parse_signal(s, &t->req.signal) < 0 || t->req.signal < 1 || t->req.signal > 64) {
                        load_error(c, fs, at[TK_SIGNAL], "unknown signal '%s'", s);
                        ok = false;
                }
        } else if (at[TK_SIGNAL])
                ok = false;
        if (c->oom)
                return c->oom;
        if (!ok)
                return -EINVAL;

        if (t->req.kind == POLICY_KIND_TRANSFER)
                t->req.name_kind = at[TK_PID] ? POLICY_NAME_PID : at[TK_SERVICE] ? POLICY_NAME_SERVICE :
                                   at[TK_HOST] ? POLICY_NAME_HOST : POLICY_NAME_PATH;
        t->req.from = t->from;
        t->req.to = t->to;
        t->req.object = t->object;
        t->req.args = (const char *const *) t->args;
        t->req.n_args = strv_count(t->args);
        t->req.env = (const char *const *) t->env;
        t->req.n_env = strv_count(t->env);

        Policy *p = c->policy;
        if (p->n_tests == p->allocated_tests) {
                size_t n = MAX(p->allocated_tests * 2, (size_t) 16);
                PolicyTest **nt = realloc(p->tests, n * sizeof(PolicyTest *));
                if (!nt)
                        return (c->oom = -ENOMEM);
                p->tests = nt;
                p->allocated_tests = n;
        }
        p->tests[p->n_tests++] = TAKE_PTR(t);
        return 0;
}

int parse_tests(LoadContext *c, FileState *fs, const YNode *v) {
        if (v->bad)
                return -EINVAL;
        if (ynode_is_null(v))
                return 0;
        if (v->type != YNODE_SEQUENCE) {
                load_error(c, fs, v, "'tests' must be a list of test cases, not %s", ynode_type_name(v));
                return -EINVAL;
        }
        for (size_t i = 0; i < v->n_items && !c->oom; i++) {
                if (c->n_tests >= POLICY_TESTS_MAX) {
                        load_error(c, fs, v->items[i], "too many tests (at most %u in a policy)", POLICY_TESTS_MAX);
                        break;
                }
                c->n_tests++;
                (void) parse_test(c, fs, v->items[i]);
        }
        return c->oom;
}

size_t policy_get_n_tests(const Policy *p) {
        return p ? p->n_tests : 0;
}

int policy_test_run(const Policy *p, size_t i, PolicyTestResult *ret) {
        const PolicyTest *t;
        PolicyRequest req;
        PolicyDecision d;
        int r;

        if (!p || !ret || i >= p->n_tests)
                return -EINVAL;
        t = p->tests[i];
        req = t->req;
        if (!t->has_now)
                req.now = time(NULL);
        r = policy_decide(p, &req, &d);
        if (r < 0)
                return r;
        *ret = (PolicyTestResult) {
                .file = t->file,
                .line = t->line,
                .column = t->column,
                .name = t->name,
                .request = &t->req,
                .expect = t->expect,
                .expect_rule = t->expect_rule,
                .decision = d,
                /* A deny for an expired rule names that rule, but the
                 * default decided it: either is the rule expected. */
                .passed = d.verdict == t->expect &&
                          (!t->expect_rule || streq(t->expect_rule, d.rule_id) ||
                           (streq(t->expect_rule, "default") && d.reason && streq(d.reason, POLICY_REASON_EXPIRED))),
        };
        return 0;
}

static void append(char *buf, size_t size, size_t *n, const char *fmt, ...) _printf_(4, 5);
static void append(char *buf, size_t size, size_t *n, const char *fmt, ...) {
        va_list ap;
        int k;

        if (*n >= size)
                return;
        va_start(ap, fmt);
        k = vsnprintf(buf + *n, size - *n, fmt, ap);
        va_end(ap);
        if (k > 0)
                *n = MIN(*n + (size_t) k, size);
}

void policy_request_format(const PolicyRequest *req, char *buf, size_t size) {
        size_t n = 0;

        if (size == 0)
                return;
        buf[0] = 0;
        append(buf, size, &n, "%s -> %s %s", req->from ?: "?", req->to ?: "?",
               policy_kind_to_string(req->kind) ?: "?");
        switch (req->kind) {
        case POLICY_KIND_IPC:
                if (req->object)
                        append(buf, size, &n, " endpoint=%s", req->object);
                if (req->ipc_type != POLICY_IPC_ANY)
                        append(buf, size, &n, " type=%s", policy_ipc_type_to_string(req->ipc_type) ?: "?");
                break;
        case POLICY_KIND_INVOKE:
                if (req->object)
                        append(buf, size, &n, " app=%s", req->object);
                for (size_t i = 0; i < req->n_args; i++)
                        append(buf, size, &n, " %s", req->args[i]);
                break;
        case POLICY_KIND_TRANSFER:
                if (req->name_kind == POLICY_NAME_HOST)
                        append(buf, size, &n, " host");
                else if (req->object)
                        append(buf, size, &n, " %s=%s", policy_name_to_string(req->name_kind) ?: "?", req->object);
                break;
        case POLICY_KIND_DEPEND:
                if (req->object)
                        append(buf, size, &n, " %s=%s", req->object[0] == '/' ? "path" : "service", req->object);
                break;
        case POLICY_KIND_SIGNAL:
                if (req->signal > 0)
                        append(buf, size, &n, " SIG%s", signal_to_name(req->signal) ?: "?");
                if (req->object)
                        append(buf, size, &n, " app=%s", req->object);
                break;
        default:
                break;
        }
        if (req->mode != POLICY_MODE_NONE)
                append(buf, size, &n, " mode=%s", policy_mode_to_string(req->mode) ?: "?");
}

void policy_test_result_format(const PolicyTestResult *t, char *buf, size_t size) {
        const PolicyDecision *d = &t->decision;
        size_t n = 0;

        if (size == 0)
                return;
        buf[0] = 0;
        if (!t->passed) {
                append(buf, size, &n, "expected %s", policy_verdict_to_string(t->expect));
                if (t->expect_rule)
                        append(buf, size, &n, " by rule '%s'", t->expect_rule);
                append(buf, size, &n, ", got ");
        }
        append(buf, size, &n, "%s by ", policy_verdict_to_string(d->verdict));
        if (d->rule)
                append(buf, size, &n, "rule '%s' (%s:%u)", d->rule_id, d->rule_file, d->rule_line);
        else
                append(buf, size, &n, "the default (no rule matched)");
}

int run_tests(Policy *p, PolicyDiagnostics *diags) {
        for (size_t i = 0; i < p->n_tests; i++) {
                PolicyTestResult t;
                char what[512], why[512];
                int r;

                r = policy_test_run(p, i, &t);
                if (r < 0)
                        return r;
                if (t.passed)
                        continue;
                policy_request_format(t.request, what, sizeof(what));
                policy_test_result_format(&t, why, sizeof(why));
                if (t.expect_rule && !policy_find_rule(p, t.expect_rule))
                        r = diags_add(diags, false, t.file, t.line, t.column,
                                      "test failed: %s%s%s%s: %s (the policy has no rule '%s')",
                                      t.name ? "'" : "", t.name ?: "", t.name ? "': " : "", what, why,
                                      t.expect_rule);
                else
                        r = diags_add(diags, false, t.file, t.line, t.column, "test failed: %s%s%s%s: %s",
                                      t.name ? "'" : "", t.name ?: "", t.name ? "': " : "", what, why);
                if (r < 0)
                        return r;
        }
        return 0;
}
