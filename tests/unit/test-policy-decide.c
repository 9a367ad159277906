/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Decisions: precedence (deny beats allow, specificity, file order), each
 * kind's fields, groups, expiry, limits, explain, and the atomic
 * reference counting a broker relies on to swap policies. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/policy-internal.h"
#include "policy-fixture.h"

#define HEAD "version: 1\nrules:\n"
#define NOW ((time_t) 1800000000)  /* 2027-01-15 */

/* Decides and returns the deciding rule's id ("default" if none). */
static const char *decide(Policy *p, const char *from, const char *to, PolicyKind kind, const char *object,
                          PolicyVerdict *ret) {
        PolicyRequest req = { .from = from, .to = to, .kind = kind, .object = object, .now = NOW };
        PolicyDecision d;

        assert_int_equal(policy_decide(p, &req, &d), 0);
        *ret = d.verdict;
        return d.rule_id;
}

#define assert_decision(p, from, to, kind, object, verdict, id)                          \
        do {                                                                             \
                PolicyVerdict _v;                                                        \
                const char *_id = decide((p), (from), (to), (kind), (object), &_v);      \
                assert_string_equal(_id, (id));                                          \
                assert_int_equal(_v, (verdict));                                         \
        } while (0)

static void test_default(void **state) {
        Policy *p = load_ok("version: 1\n");
        assert_decision(p, "web", "db", POLICY_KIND_IPC, "kv", POLICY_DENY, "default");
        policy_unref(p);
        p = load_ok("version: 1\ndefault: allow\n");
        assert_decision(p, "web", "db", POLICY_KIND_IPC, "kv", POLICY_ALLOW, "default");
        policy_unref(p);
}

static void test_deny_beats_allow(void **state) {
        /* The deny is less specific and comes later: it still wins. */
        Policy *p = load_ok(HEAD
                            "  - {id: allow-exact, from: web, to: db, allow: ipc, endpoint: kv}\n"
                            "  - {id: deny-all, from: '*', to: '*', deny: ipc}\n");
        assert_decision(p, "web", "db", POLICY_KIND_IPC, "kv", POLICY_DENY, "deny-all");
        policy_unref(p);
}

static void test_specificity(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: any, from: '*', to: '*', allow: ipc}\n"
                            "  - {id: glob-from, from: 'w*', to: db, allow: ipc}\n"
                            "  - {id: longer-glob, from: 'web-*', to: db, allow: ipc}\n"
                            "  - {id: exact, from: web-1, to: db, allow: ipc}\n"
                            "  - {id: grouped, from: shop/web-1, to: db, allow: ipc}\n"
                            "  - {id: obj-glob, from: api, to: db, allow: ipc, endpoint: 'k*'}\n"
                            "  - {id: obj-exact, from: api, to: db, allow: ipc, endpoint: kv}\n"
                            "  - {id: obj-any, from: api, to: db, allow: ipc}\n"
                            "  - {id: tie-1, from: cron, to: db, allow: ipc}\n"
                            "  - {id: tie-2, from: cron, to: db, allow: ipc}\n");
        assert_decision(p, "x", "y", POLICY_KIND_IPC, "kv", POLICY_ALLOW, "any");
        assert_decision(p, "wx", "db", POLICY_KIND_IPC, "kv", POLICY_ALLOW, "glob-from");
        assert_decision(p, "web-2", "db", POLICY_KIND_IPC, "kv", POLICY_ALLOW, "longer-glob");
        assert_decision(p, "web-1", "db", POLICY_KIND_IPC, "kv", POLICY_ALLOW, "exact");
        assert_decision(p, "blog/web-1", "db", POLICY_KIND_IPC, "kv", POLICY_ALLOW, "exact");
        assert_decision(p, "shop/web-1", "db", POLICY_KIND_IPC, "kv", POLICY_ALLOW, "grouped");
        assert_decision(p, "api", "db", POLICY_KIND_IPC, "kv", POLICY_ALLOW, "obj-exact");
        assert_decision(p, "api", "db", POLICY_KIND_IPC, "k2", POLICY_ALLOW, "obj-glob");
        assert_decision(p, "api", "db", POLICY_KIND_IPC, "zz", POLICY_ALLOW, "obj-any");
        assert_decision(p, "cron", "db", POLICY_KIND_IPC, "kv", POLICY_ALLOW, "tie-1");
        policy_unref(p);

        /* Longer literal prefix beats shorter for paths. */
        p = load_ok(HEAD
                    "  - {id: short, from: a, to: b, allow: transfer, path: '/home/**', mode: rw}\n"
                    "  - {id: long, from: a, to: b, allow: transfer, path: '/home/ann/**'}\n");
        assert_decision(p, "a", "b", POLICY_KIND_TRANSFER, "/home/ann/x", POLICY_ALLOW, "long");
        assert_decision(p, "a", "b", POLICY_KIND_TRANSFER, "/home/bob/x", POLICY_ALLOW, "short");
        policy_unref(p);
}

static void test_groups(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: shop-web, from: shop/web, to: db, allow: ipc}\n"
                            "  - {id: shop-any, from: 'shop/*', to: 'shop/*', allow: signal}\n");
        assert_decision(p, "shop/web", "db", POLICY_KIND_IPC, "kv", POLICY_ALLOW, "shop-web");
        assert_decision(p, "shop/web", "other/db", POLICY_KIND_IPC, "kv", POLICY_ALLOW, "shop-web");
        assert_decision(p, "blog/web", "db", POLICY_KIND_IPC, "kv", POLICY_DENY, "default");
        assert_decision(p, "web", "db", POLICY_KIND_IPC, "kv", POLICY_DENY, "default");
        assert_decision(p, "shop/a", "shop/b", POLICY_KIND_SIGNAL, NULL, POLICY_ALLOW, "shop-any");
        assert_decision(p, "shop/a", "b", POLICY_KIND_SIGNAL, NULL, POLICY_DENY, "default");
        policy_unref(p);
}

static void test_kinds_are_separate(void **state) {
        Policy *p = load_ok(HEAD "  - {id: r, from: a, to: b, allow: [ipc, depend]}\n");
        assert_decision(p, "a", "b", POLICY_KIND_IPC, "x", POLICY_ALLOW, "r");
        assert_decision(p, "a", "b", POLICY_KIND_DEPEND, "svc", POLICY_ALLOW, "r");
        assert_decision(p, "a", "b", POLICY_KIND_INVOKE, "/bin/x", POLICY_DENY, "default");
        assert_decision(p, "b", "a", POLICY_KIND_IPC, "x", POLICY_DENY, "default");
        policy_unref(p);
}

static void test_ipc_type(void **state) {
        Policy *p = load_ok(HEAD "  - {id: r, from: a, to: b, allow: ipc, endpoint: kv, type: unix}\n");
        PolicyRequest req = { .from = "a", .to = "b", .kind = POLICY_KIND_IPC, .object = "kv",
                              .ipc_type = POLICY_IPC_UNIX };
        PolicyDecision d;

        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        req.ipc_type = POLICY_IPC_TCP;
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_DENY);
        req.ipc_type = POLICY_IPC_ANY;
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_DENY);
        policy_unref(p);
}

static PolicyDecision fifo(Policy *p, const char *from, const char *endpoint, PolicyMode mode) {
        PolicyRequest req = { .from = from, .to = "b", .kind = POLICY_KIND_IPC, .object = endpoint,
                              .ipc_type = POLICY_IPC_FIFO, .mode = mode, .now = NOW };
        PolicyDecision d;

        assert_int_equal(policy_decide(p, &req, &d), 0);
        return d;
}

/* A FIFO export's end: mode ro grants the read end only, wo the write end
 * only, rw (or no mode) either; never more than the rule says. */
static void test_fifo_mode(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: w, from: a, to: b, allow: ipc, endpoint: logs, type: fifo, mode: wo}\n"
                            "  - {id: r, from: a, to: b, allow: ipc, endpoint: feed, type: fifo, mode: ro}\n"
                            "  - {id: rw, from: a, to: b, allow: ipc, endpoint: both, type: fifo, mode: rw}\n"
                            "  - {id: any, from: c, to: b, allow: ipc, type: fifo}\n"
                            "  - {id: nope, from: c, to: b, deny: ipc, endpoint: secret}\n");
        PolicyDecision d;

        d = fifo(p, "a", "logs", POLICY_MODE_WO);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_string_equal(d.rule_id, "w");
        assert_int_equal(d.mode, POLICY_MODE_WO);
        d = fifo(p, "a", "logs", POLICY_MODE_RO);
        assert_int_equal(d.verdict, POLICY_DENY);
        assert_string_equal(d.rule_id, "default");
        d = fifo(p, "a", "logs", POLICY_MODE_RW);
        assert_int_equal(d.verdict, POLICY_DENY);
        d = fifo(p, "a", "feed", POLICY_MODE_RO);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_int_equal(d.mode, POLICY_MODE_RO);
        d = fifo(p, "a", "feed", POLICY_MODE_WO);
        assert_int_equal(d.verdict, POLICY_DENY);
        d = fifo(p, "a", "both", POLICY_MODE_RO);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_int_equal(d.mode, POLICY_MODE_RO);
        d = fifo(p, "a", "both", POLICY_MODE_WO);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_int_equal(d.mode, POLICY_MODE_WO);
        /* No mode in the rule: either end, the one asked for. */
        d = fifo(p, "c", "anything", POLICY_MODE_WO);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_int_equal(d.mode, POLICY_MODE_WO);
        d = fifo(p, "c", "anything", POLICY_MODE_RO);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_int_equal(d.mode, POLICY_MODE_RO);
        /* A deny has no mode: it denies both ends. */
        d = fifo(p, "c", "secret", POLICY_MODE_RO);
        assert_int_equal(d.verdict, POLICY_DENY);
        assert_string_equal(d.rule_id, "nope");
        /* A request that names no end (a group's reachability check) is
         * allowed by a rule for one end. */
        d = fifo(p, "a", "logs", POLICY_MODE_NONE);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_int_equal(d.mode, POLICY_MODE_WO);

        /* explain names the field that missed. */
        PolicyRequest req = { .from = "a", .to = "b", .kind = POLICY_KIND_IPC, .object = "logs",
                              .ipc_type = POLICY_IPC_FIFO, .mode = POLICY_MODE_RO, .now = NOW };
        PolicyExplanation e;
        bool seen = false;
        assert_int_equal(policy_explain(p, &req, &e), 0);
        for (size_t i = 0; i < e.n_entries; i++)
                if (streq(e.entries[i].rule->id, "w")) {
                        assert_int_equal(e.entries[i].status, POLICY_NEAR_MISS);
                        assert_string_equal(e.entries[i].field, "mode");
                        assert_string_equal(e.entries[i].detail, "rule grants wo, request wants ro");
                        seen = true;
                }
        assert_true(seen);
        policy_explanation_clear(&e);
        policy_unref(p);
}

static PolicyVerdict invoke(Policy *p, const char *app, const char *const *args, size_t n) {
        PolicyRequest req = { .from = "mail", .to = "viewer", .kind = POLICY_KIND_INVOKE, .object = app,
                              .args = args, .n_args = n };
        PolicyDecision d;

        assert_int_equal(policy_decide(p, &req, &d), 0);
        return d.verdict;
}

static void test_invoke_args(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: one, from: mail, to: viewer, allow: invoke, app: /usr/bin/pdfview, args: ['*.pdf'],\n"
                            "     env: [LANG, 'LC_*'], transfer: ro, limit: {rate: 10/m, max_open: 2}}\n"
                            "  - {id: rest, from: mail, to: viewer, allow: invoke, app: /usr/bin/less, args: ['-R', ...]}\n"
                            "  - {id: none, from: mail, to: viewer, allow: invoke, app: /usr/bin/true, args: []}\n"
                            "  - {id: any, from: mail, to: viewer, allow: invoke, app: '/opt/**'}\n");
        const char *a1[] = { "/home/u/a.pdf" }, *a2[] = { "a.exe" }, *a3[] = { "a.pdf", "b.pdf" },
                   *a4[] = { "-R", "x", "y" }, *a5[] = { "-X" }, *a6[] = { "-R" };

        assert_int_equal(invoke(p, "/usr/bin/pdfview", a1, 1), POLICY_ALLOW);
        assert_int_equal(invoke(p, "/usr/bin/pdfview", a2, 1), POLICY_DENY);
        assert_int_equal(invoke(p, "/usr/bin/pdfview", a3, 2), POLICY_DENY);
        assert_int_equal(invoke(p, "/usr/bin/pdfview", NULL, 0), POLICY_DENY);
        assert_int_equal(invoke(p, "/usr/bin/pdfviewer", a1, 1), POLICY_DENY);
        assert_int_equal(invoke(p, "/usr/bin/less", a4, 3), POLICY_ALLOW);
        assert_int_equal(invoke(p, "/usr/bin/less", a6, 1), POLICY_ALLOW);
        assert_int_equal(invoke(p, "/usr/bin/less", a5, 1), POLICY_DENY);
        assert_int_equal(invoke(p, "/usr/bin/true", NULL, 0), POLICY_ALLOW);
        assert_int_equal(invoke(p, "/usr/bin/true", a6, 1), POLICY_DENY);
        assert_int_equal(invoke(p, "/opt/x/y/z", a4, 3), POLICY_ALLOW);

        PolicyRequest req = { .from = "mail", .to = "viewer", .kind = POLICY_KIND_INVOKE,
                              .object = "/usr/bin/pdfview", .args = a1, .n_args = 1 };
        PolicyDecision d;
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_string_equal(d.rule_id, "one");
        assert_string_equal(d.rule_file, "p.yaml");
        assert_int_equal(d.rule_line, 3);
        assert_int_equal(d.mode, POLICY_MODE_RO);
        assert_int_equal(d.limits.rate_count, 10);
        assert_int_equal(d.limits.rate_interval_usec, 60000000);
        assert_int_equal(d.limits.max_open, 2);
        assert_string_equal(d.env[0], "LANG");
        assert_string_equal(d.env[1], "LC_*");
        assert_null(d.env[2]);
        assert_true(policy_decision_env_allowed(&d, "LANG"));
        assert_true(policy_decision_env_allowed(&d, "LC_ALL"));
        assert_false(policy_decision_env_allowed(&d, "LD_PRELOAD"));
        assert_string_equal(d.reason, "allowed by the most specific matching allow rule");
        policy_unref(p);
}

static PolicyDecision transfer(Policy *p, const char *path, PolicyMode mode) {
        PolicyRequest req = { .from = "a", .to = "b", .kind = POLICY_KIND_TRANSFER, .object = path, .mode = mode };
        PolicyDecision d;

        assert_int_equal(policy_decide(p, &req, &d), 0);
        return d;
}

static void test_transfer_mode(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: ro, from: a, to: b, allow: transfer, path: '/docs/**'}\n"
                            "  - {id: rw, from: a, to: b, allow: transfer, path: '/scratch/*', mode: rw, as: /in/scratch}\n");
        PolicyDecision d;

        d = transfer(p, "/docs/x", POLICY_MODE_NONE);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_int_equal(d.mode, POLICY_MODE_RO);
        assert_null(d.as);
        d = transfer(p, "/docs/x", POLICY_MODE_RW);
        assert_int_equal(d.verdict, POLICY_DENY);
        d = transfer(p, "/scratch/f", POLICY_MODE_RW);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_int_equal(d.mode, POLICY_MODE_RW);
        assert_string_equal(d.as, "/in/scratch");
        /* Least privilege: an ro request under an rw rule gets ro. */
        d = transfer(p, "/scratch/f", POLICY_MODE_RO);
        assert_int_equal(d.mode, POLICY_MODE_RO);
        d = transfer(p, "/scratch/d/f", POLICY_MODE_RO);
        assert_int_equal(d.verdict, POLICY_DENY);
        policy_unref(p);
}

static PolicyDecision name_request(Policy *p, const char *from, PolicyName name, const char *object) {
        PolicyRequest req = { .from = from, .to = "b", .kind = POLICY_KIND_TRANSFER, .name_kind = name,
                              .object = object, .now = NOW };
        PolicyDecision d;

        assert_int_equal(policy_decide(p, &req, &d), 0);
        return d;
}

/* Transfer of names: a rule with a name key is about that kind of name
 * only, one without any key about every kind; path stays the default. */
static void test_transfer_names(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: pids, from: a, to: b, allow: transfer, pid: '/usr/bin/*'}\n"
                            "  - {id: no-kvd, from: a, to: b, deny: transfer, pid: /usr/bin/kvd}\n"
                            "  - {id: svc, from: a, to: b, allow: transfer, service: 'kv*'}\n"
                            "  - {id: host, from: a, to: b, allow: transfer, host: true}\n"
                            "  - {id: files, from: a, to: b, allow: transfer, path: '/tmp/**', mode: rw, as: /in}\n"
                            "  - {id: anything, from: c, to: b, allow: transfer}\n"
                            "  - {id: c-host, from: c, to: b, deny: transfer, host: true}\n");
        PolicyDecision d;

        d = name_request(p, "a", POLICY_NAME_PID, "/usr/bin/sleep");
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_string_equal(d.rule_id, "pids");
        /* Only paths have a mode or a target path. */
        assert_int_equal(d.mode, POLICY_MODE_NONE);
        assert_null(d.as);
        d = name_request(p, "a", POLICY_NAME_PID, "/usr/sbin/sleep");
        assert_int_equal(d.verdict, POLICY_DENY);
        assert_string_equal(d.rule_id, "default");
        d = name_request(p, "a", POLICY_NAME_PID, "/usr/bin/kvd");
        assert_int_equal(d.verdict, POLICY_DENY);
        assert_string_equal(d.rule_id, "no-kvd");
        /* The pid rules say nothing about a path of the same name. */
        d = name_request(p, "a", POLICY_NAME_PATH, "/usr/bin/sleep");
        assert_string_equal(d.rule_id, "default");

        d = name_request(p, "a", POLICY_NAME_SERVICE, "kv");
        assert_string_equal(d.rule_id, "svc");
        d = name_request(p, "a", POLICY_NAME_SERVICE, "admin");
        assert_string_equal(d.rule_id, "default");
        d = name_request(p, "a", POLICY_NAME_HOST, NULL);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_string_equal(d.rule_id, "host");

        /* Path requests (name_kind left 0) work as before, and match
         * only the path rule. */
        d = name_request(p, "a", POLICY_NAME_PATH, "/tmp/x");
        assert_string_equal(d.rule_id, "files");
        assert_int_equal(d.mode, POLICY_MODE_RO);
        assert_string_equal(d.as, "/in");
        d = name_request(p, "a", POLICY_NAME_PATH, "kv");
        assert_string_equal(d.rule_id, "default");

        /* A rule without a name key matches every kind of name. */
        d = name_request(p, "c", POLICY_NAME_PID, "/opt/x");
        assert_string_equal(d.rule_id, "anything");
        d = name_request(p, "c", POLICY_NAME_SERVICE, "admin");
        assert_string_equal(d.rule_id, "anything");
        d = name_request(p, "c", POLICY_NAME_PATH, "/etc/passwd");
        assert_string_equal(d.rule_id, "anything");
        d = name_request(p, "c", POLICY_NAME_HOST, NULL);
        assert_int_equal(d.verdict, POLICY_DENY);
        assert_string_equal(d.rule_id, "c-host");

        /* Explained: the rule about another kind of name is a near miss
         * on its key. */
        PolicyRequest req = { .from = "a", .to = "b", .kind = POLICY_KIND_TRANSFER, .name_kind = POLICY_NAME_HOST,
                              .now = NOW };
        PolicyExplanation e;
        assert_int_equal(policy_explain(p, &req, &e), 0);
        assert_string_equal(e.decision.rule_id, "host");
        for (size_t i = 0; i < e.n_entries; i++)
                if (streq(e.entries[i].rule->id, "pids")) {
                        assert_string_equal(e.entries[i].field, "pid");
                        assert_string_equal(e.entries[i].detail, "request is for a host, rule is for a pid");
                }
        policy_explanation_clear(&e);

        req.name_kind = _POLICY_NAME_MAX;
        assert_int_equal(policy_decide(p, &req, &d), -EINVAL);
        policy_unref(p);
}

/* Specificity among transfer rules of different name keys: a rule about
 * the kind of name beats one about any name. */
static void test_transfer_names_specificity(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: any, from: a, to: b, allow: transfer, audit: none}\n"
                            "  - {id: host, from: a, to: b, allow: transfer, host: true}\n"
                            "  - {id: pid, from: a, to: b, allow: transfer, pid: '/usr/**'}\n");
        PolicyDecision d;

        d = name_request(p, "a", POLICY_NAME_HOST, NULL);
        assert_string_equal(d.rule_id, "host");
        d = name_request(p, "a", POLICY_NAME_PID, "/usr/bin/x");
        assert_string_equal(d.rule_id, "pid");
        d = name_request(p, "a", POLICY_NAME_PID, "/opt/x");
        assert_string_equal(d.rule_id, "any");
        assert_false(d.audited);
        policy_unref(p);
}

static void test_depend(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: tree, from: build, to: tc, allow: depend, path: /opt/tc, at: /tools}\n"
                            "  - {id: order, from: build, to: tc, allow: depend, service: ready}\n");
        PolicyRequest req = { .from = "build", .to = "tc", .kind = POLICY_KIND_DEPEND, .object = "/opt/tc" };
        PolicyDecision d;

        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_string_equal(d.rule_id, "tree");
        assert_string_equal(d.at, "/tools");
        assert_int_equal(d.mode, POLICY_MODE_RO);
        req.mode = POLICY_MODE_RW;
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_DENY);
        assert_decision(p, "build", "tc", POLICY_KIND_DEPEND, "ready", POLICY_ALLOW, "order");
        assert_decision(p, "build", "tc", POLICY_KIND_DEPEND, "other", POLICY_DENY, "default");
        assert_decision(p, "build", "tc", POLICY_KIND_DEPEND, "/opt/other", POLICY_DENY, "default");
        policy_unref(p);
}

typedef struct Grants {
        char text[512];
        int n;
} Grants;

static void collect_grant(const PolicyDependGrant *g, void *userdata) {
        Grants *s = userdata;
        size_t len = strlen(s->text);
        snprintf(s->text + len, sizeof(s->text) - len, "%s%s:%s%s>%s:%s", len ? " " : "", g->rule_id,
                 g->glob ? "glob:" : "", g->path, g->at ?: "-", policy_mode_to_string(g->mode));
        s->n++;
}

/* The grants a broker mounts: allow rules with a path whose from and to
 * match, unexpired (a glob as written, for the broker to expand, with its
 * 'at' or none); deny rules are the caller's to check (with
 * policy_decide). */
static void test_depend_grants(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: tree, from: build, to: tc, allow: depend, path: /opt/tc, at: /tools}\n"
                            "  - {id: same, from: build, to: tc, allow: depend, path: /opt/lib, mode: rw}\n"
                            "  - {id: glob, from: build, to: tc, allow: depend, path: \"/opt/*\"}\n"
                            "  - {id: globat, from: build, to: tc, allow: depend, path: \"/x/t[0-9]\", at: /t}\n"
                            "  - {id: order, from: build, to: tc, allow: depend, service: ready}\n"
                            "  - {id: gone, from: build, to: tc, allow: depend, path: /old, until: 2027-01-01T00:00:00Z}\n"
                            "  - {id: other, from: test, to: tc, allow: depend, path: /opt/tc}\n"
                            "  - {id: any, from: \"g/*\", to: tc, allow: depend, path: /shared}\n"
                            "  - {id: nolib, from: build, to: tc, deny: depend, path: /opt/lib}\n");
        Grants g = {};

        assert_int_equal(policy_for_each_depend(p, "build", "tc", NOW, collect_grant, &g), 4);
        /* Candidates come from several index buckets: compare as a set. */
        assert_non_null(strstr(g.text, "tree:/opt/tc>/tools:ro"));
        assert_non_null(strstr(g.text, "same:/opt/lib>/opt/lib:rw"));
        assert_non_null(strstr(g.text, "glob:glob:/opt/*>-:ro"));
        assert_non_null(strstr(g.text, "globat:glob:/x/t[0-9]>/t:ro"));
        assert_null(strstr(g.text, "order"));
        g = (Grants){};
        assert_int_equal(policy_for_each_depend(p, "g/build", "tc", NOW, collect_grant, &g), 5);
        assert_non_null(strstr(g.text, "any:/shared>/shared:ro"));
        g = (Grants){};
        assert_int_equal(policy_for_each_depend(p, "nobody", "tc", NOW, collect_grant, &g), 0);
        assert_string_equal(g.text, "");
        /* The deny still wins when the grant is decided. */
        assert_decision(p, "build", "tc", POLICY_KIND_DEPEND, "/opt/lib", POLICY_DENY, "nolib");
        assert_int_equal(policy_for_each_depend(NULL, "build", "tc", NOW, collect_grant, &g), -EINVAL);
        policy_unref(p);
}

static void collect_app(const PolicyInvokeApp *a, void *userdata) {
        Grants *s = userdata;
        size_t len = strlen(s->text);

        /* name points into path, at its last component. */
        assert_ptr_equal(a->name, strrchr(a->path, '/') + 1);
        snprintf(s->text + len, sizeof(s->text) - len, "%s%s:%s:%s%s", len ? " " : "", a->rule_id, a->path,
                 a->name, a->denied ? ":denied" : "");
        s->n++;
}

/* The apps a broker shows under /run/shuttle/apps/<to>/: allow rules of
 * kind invoke with a literal absolute app whose from and to match,
 * unexpired, whatever their args and env; 'denied' when a deny rule that
 * looks at no argument refuses every invocation of the app. */
static void test_invoke_apps(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: echo, from: a, to: b, allow: invoke, app: /bin/echo, args: ['ok-*']}\n"
                            "  - {id: sh, from: a, to: b, allow: [invoke, signal], app: /bin/sh, env: [FOO]}\n"
                            "  - {id: usr-echo, from: '*', to: b, allow: invoke, app: /usr/bin/echo}\n"
                            "  - {id: glob, from: a, to: b, allow: invoke, app: '/opt/*'}\n"
                            "  - {id: anyapp, from: a, to: c, allow: invoke}\n"
                            "  - {id: star, from: a, to: b, allow: invoke, app: '/x/a\\*b'}\n"
                            "  - {id: gone, from: a, to: b, allow: invoke, app: /bin/old, until: 2027-01-01T00:00:00Z}\n"
                            "  - {id: grp, from: 'g/*', to: b, allow: invoke, app: /bin/true}\n"
                            "  - {id: rm, from: a, to: b, allow: invoke, app: /bin/rm}\n"
                            "  - {id: no-rm, from: '*', to: b, deny: invoke, app: /bin/rm}\n"
                            "  - {id: no-sh-c, from: a, to: b, deny: invoke, app: /bin/sh, args: ['-c', ...]}\n"
                            "  - {id: no-old-deny, from: a, to: b, deny: invoke, app: /usr/bin/echo,\n"
                            "     until: 2027-01-01T00:00:00Z}\n"
                            "  - {id: kill, from: a, to: b, allow: signal, app: /bin/kill}\n"
                            "  - {id: nothing-to-d, from: a, to: d, allow: invoke, app: /bin/cat}\n"
                            "  - {id: no-d, from: a, to: d, deny: invoke}\n");
        Grants g = {};

        assert_int_equal(policy_for_each_invoke_app(p, "a", "b", NOW, collect_app, &g), 5);
        /* Candidates come from several index buckets: compare as a set. */
        assert_non_null(strstr(g.text, "echo:/bin/echo:echo"));
        assert_null(strstr(g.text, "echo:/bin/echo:echo:denied"));
        /* A deny rule with args refuses only some invocations. */
        assert_non_null(strstr(g.text, "sh:/bin/sh:sh"));
        assert_null(strstr(g.text, "sh:/bin/sh:sh:denied"));
        /* An expired deny rule denies nothing. */
        assert_non_null(strstr(g.text, "usr-echo:/usr/bin/echo:echo"));
        assert_null(strstr(g.text, "echo:denied"));
        /* An escaped glob character is a literal. */
        assert_non_null(strstr(g.text, "star:/x/a*b:a*b"));
        assert_non_null(strstr(g.text, "rm:/bin/rm:rm:denied"));
        /* Globs, no app, expired rules, other kinds: none. */
        assert_null(strstr(g.text, "glob"));
        assert_null(strstr(g.text, "gone"));
        assert_null(strstr(g.text, "kill"));
        assert_null(strstr(g.text, "grp"));

        g = (Grants){};
        assert_int_equal(policy_for_each_invoke_app(p, "g/x", "b", NOW, collect_app, &g), 2);
        assert_non_null(strstr(g.text, "grp:/bin/true:true"));
        assert_non_null(strstr(g.text, "usr-echo:/usr/bin/echo:echo"));
        g = (Grants){};
        assert_int_equal(policy_for_each_invoke_app(p, "a", "c", NOW, collect_app, &g), 0);
        g = (Grants){};
        /* A deny rule without an app refuses every app. */
        assert_int_equal(policy_for_each_invoke_app(p, "a", "d", NOW, collect_app, &g), 1);
        assert_string_equal(g.text, "nothing-to-d:/bin/cat:cat:denied");
        g = (Grants){};
        /* Before it expired, the deny rule for /usr/bin/echo denied it. */
        assert_int_equal(policy_for_each_invoke_app(p, "a", "b", NOW - 400 * 86400, collect_app, &g), 6);
        assert_non_null(strstr(g.text, "usr-echo:/usr/bin/echo:echo:denied"));
        assert_non_null(strstr(g.text, "gone:/bin/old:old"));
        assert_int_equal(policy_for_each_invoke_app(NULL, "a", "b", NOW, collect_app, &g), -EINVAL);
        assert_int_equal(policy_for_each_invoke_app(p, NULL, "b", NOW, collect_app, &g), -EINVAL);
        assert_int_equal(policy_for_each_invoke_app(p, "a", "b", NOW, NULL, NULL), -EINVAL);
        policy_unref(p);
}

static PolicyVerdict sig(Policy *p, int s, const char *app) {
        PolicyRequest req = { .from = "ops", .to = "db", .kind = POLICY_KIND_SIGNAL, .signal = s, .object = app };
        PolicyDecision d;

        assert_int_equal(policy_decide(p, &req, &d), 0);
        return d.verdict;
}

static void test_signal(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: hup, from: ops, to: db, allow: signal, signals: [HUP, USR1], app: /usr/bin/kvd}\n"
                            "  - {id: term, from: ops, to: db, allow: signal, signals: [TERM]}\n"
                            "  - {id: no-kill, from: '*', to: db, deny: signal, signals: [KILL]}\n");
        assert_int_equal(sig(p, SIGHUP, "/usr/bin/kvd"), POLICY_ALLOW);
        assert_int_equal(sig(p, SIGUSR1, "/usr/bin/kvd"), POLICY_ALLOW);
        assert_int_equal(sig(p, SIGHUP, "/usr/bin/other"), POLICY_DENY);
        assert_int_equal(sig(p, SIGHUP, NULL), POLICY_DENY);
        assert_int_equal(sig(p, SIGTERM, NULL), POLICY_ALLOW);
        assert_int_equal(sig(p, SIGKILL, NULL), POLICY_DENY);
        assert_int_equal(sig(p, SIGUSR2, "/usr/bin/kvd"), POLICY_DENY);
        policy_unref(p);
}

static void test_until(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: temp, from: a, to: b, allow: ipc, until: 2027-01-15T08:00:00Z}\n"
                            "  - {id: temp-deny, from: a, to: c, deny: ipc, until: 2027-01-15T08:00:00Z}\n"
                            "  - {id: base, from: '*', to: c, allow: ipc}\n");
        PolicyRequest req = { .from = "a", .to = "b", .kind = POLICY_KIND_IPC, .object = "x" };
        PolicyDecision d;
        time_t until = 1800000000 - 1800000000 % 86400 + 8 * 3600;

        req.now = until;  /* the last second it is valid */
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        req.now = until + 1;
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_DENY);
        /* Denied by default, but said as what it is: the grant expired. */
        assert_null(d.rule);
        assert_string_equal(d.rule_id, "temp");
        assert_string_equal(d.reason, POLICY_REASON_EXPIRED);
        assert_string_equal(d.rule_file, "p.yaml");
        assert_int_equal(d.rule_line, 3);
        assert_true(d.audited);
        /* An expired deny stops denying. */
        req.to = "c";
        req.now = until;
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_string_equal(d.rule_id, "temp-deny");
        req.now = until + 1;
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_string_equal(d.rule_id, "base");
        policy_unref(p);
}

static const PolicyExplainEntry *find_entry(const PolicyExplanation *e, const char *id);

/* An expired allow rule that would have matched is the reason of a
 * default deny; not when another rule decides, nor when the default
 * allows, nor for an expired deny. */
static void test_expired_reason(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: old, from: a, to: b, allow: ipc, endpoint: kv, until: 2020-01-01T00:00:00Z}\n"
                            "  - {id: older, from: '*', to: b, allow: ipc, until: 2019-01-01T00:00:00Z}\n"
                            "  - {id: live, from: a, to: b, allow: ipc, endpoint: live}\n"
                            "  - {id: nope, from: a, to: b, deny: ipc, endpoint: 'd*'}\n"
                            "  - {id: old-deny, from: a, to: c, deny: ipc, until: 2020-01-01T00:00:00Z}\n");
        PolicyRequest req = { .from = "a", .to = "b", .kind = POLICY_KIND_IPC, .object = "kv", .now = NOW };
        PolicyExplanation e;
        PolicyDecision d;

        /* Both expired rules match: the more specific one is named. */
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_DENY);
        assert_string_equal(d.rule_id, "old");
        assert_string_equal(d.reason, POLICY_REASON_EXPIRED);
        req.object = "other";
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_string_equal(d.rule_id, "older");
        assert_string_equal(d.reason, POLICY_REASON_EXPIRED);
        /* Another rule decides: its decision, its reason. */
        req.object = "live";
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_string_equal(d.rule_id, "live");
        req.object = "db";
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_string_equal(d.rule_id, "nope");
        assert_string_equal(d.reason, "denied by a matching deny rule");
        /* An expired deny is no reason: a plain default deny. */
        req.to = "c";
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_string_equal(d.rule_id, "default");
        assert_string_equal(d.reason, "no rule matched: default deny");
        /* explain says the same. */
        req.to = "b";
        req.object = "kv";
        assert_int_equal(policy_explain(p, &req, &e), 0);
        assert_string_equal(e.decision.rule_id, "old");
        assert_string_equal(e.decision.reason, POLICY_REASON_EXPIRED);
        assert_non_null(strstr(e.why, "allow rule 'old' would have, but it has expired"));
        policy_explanation_clear(&e);
        policy_unref(p);

        /* Under default allow, an expired rule changes nothing. */
        p = load_ok("version: 1\ndefault: allow\nrules:\n"
                    "  - {id: old, from: a, to: b, allow: ipc, until: 2020-01-01T00:00:00Z}\n");
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_string_equal(d.rule_id, "default");
        policy_unref(p);
}

/* 'shadow: true': decides the shadow decision only; the enforcing one and
 * every grant the broker derives from the policy are made without it. */
static void test_shadow_rules(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: open, from: web, to: db, allow: ipc, endpoint: kv}\n"
                            "  - {id: try-close, from: web, to: db, deny: ipc, endpoint: kv, shadow: true}\n"
                            "  - {id: try-admin, from: web, to: db, allow: ipc, endpoint: admin, shadow: yes}\n"
                            "  - {id: try-app, from: web, to: db, allow: invoke, app: /bin/new, shadow: true}\n"
                            "  - {id: app, from: web, to: db, allow: invoke, app: /bin/old}\n"
                            "  - {id: try-deny-app, from: web, to: db, deny: invoke, app: /bin/old, shadow: true}\n"
                            "  - {id: try-tree, from: web, to: db, allow: depend, path: /srv, shadow: true}\n");
        PolicyRequest req = { .from = "web", .to = "db", .kind = POLICY_KIND_IPC, .object = "kv", .now = NOW };
        PolicyExplanation e;
        PolicyDecision d;
        Grants g = {};

        assert_int_equal(policy_get_n_shadow_rules(p), 5);
        assert_true(policy_rule_get_shadow(policy_find_rule(p, "try-close")));
        assert_false(policy_rule_get_shadow(policy_find_rule(p, "open")));

        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_string_equal(d.rule_id, "open");
        assert_int_equal(policy_decide_shadow(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_DENY);
        assert_string_equal(d.rule_id, "try-close");

        req.object = "admin";
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_DENY);
        assert_string_equal(d.rule_id, "default");
        assert_int_equal(policy_decide_shadow(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_string_equal(d.rule_id, "try-admin");

        /* No shadow allow grants an app or a tree, no shadow deny hides one. */
        assert_int_equal(policy_for_each_invoke_app(p, "web", "db", NOW, collect_app, &g), 1);
        assert_string_equal(g.text, "app:/bin/old:old");
        g = (Grants){};
        assert_int_equal(policy_for_each_depend(p, "web", "db", NOW, collect_grant, &g), 0);
        assert_string_equal(g.text, "");

        /* explain explains what is enforced. */
        req.object = "kv";
        assert_int_equal(policy_explain(p, &req, &e), 0);
        assert_string_equal(e.decision.rule_id, "open");
        assert_null(find_entry(&e, "try-close"));
        policy_explanation_clear(&e);

        /* The normalised policy keeps the mark. */
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        assert_int_equal(policy_dump_yaml(p, f), 0);
        fclose(f);
        Policy *again = load_ok(out);
        free(out);
        assert_int_equal(policy_get_n_shadow_rules(again), 5);
        req.object = "kv";
        assert_int_equal(policy_decide(again, &req, &d), 0);
        assert_string_equal(d.rule_id, "open");
        policy_unref(again);
        policy_unref(p);
}

static void test_limit_uses(void **state) {
        Policy *p = load_ok(HEAD "  - {id: once, from: a, to: b, allow: ipc, limit: {uses: 2, rate: 5/s}}\n");
        PolicyRequest req = { .from = "a", .to = "b", .kind = POLICY_KIND_IPC, .object = "x", .now = NOW };
        PolicyDecision d;
        char *out = NULL;
        size_t len = 0;
        FILE *f;

        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_int_equal(d.limits.uses, 2);
        assert_int_equal(d.limits.rate_count, 5);
        f = open_memstream(&out, &len);
        assert_int_equal(policy_dump_json(p, f), 0);
        fclose(f);
        assert_non_null(strstr(out, "\"uses\": 2"));
        free(out);
        policy_unref(p);
}

/* 'ask': an allow rule whose requests wait for an operator; the decision
 * says how long (the broker parks them); a deny still beats it, and a more
 * specific plain allow takes the request without asking. */
static void test_ask(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: ask-any, from: a, to: '*', allow: ipc, ask: true}\n"
                            "  - {id: ask-short, from: a, to: b, allow: [ipc, invoke], ask: {timeout: 1500ms}}\n"
                            "  - {id: plain, from: a, to: b, allow: ipc, endpoint: kv}\n"
                            "  - {id: not-asked, from: a, to: e, allow: ipc, ask: false}\n"
                            "  - {id: never, from: a, to: d, deny: ipc}\n");
        PolicyRequest req = { .from = "a", .to = "c", .kind = POLICY_KIND_IPC, .object = "x", .now = NOW };
        PolicyDecision d;

        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_ALLOW);
        assert_string_equal(d.rule_id, "ask-any");
        assert_int_equal(d.ask_usec, POLICY_ASK_TIMEOUT_DEFAULT_USEC);
        req.to = "b";
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_string_equal(d.rule_id, "ask-short");
        assert_int_equal(d.ask_usec, 1500000);
        req.object = "kv";
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_string_equal(d.rule_id, "plain");
        assert_int_equal(d.ask_usec, 0);
        req.to = "d";
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_DENY);
        assert_int_equal(d.ask_usec, 0);
        req.to = "e";
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_string_equal(d.rule_id, "not-asked");
        assert_int_equal(d.ask_usec, 0);
        policy_unref(p);

        /* As specific, and later in the files: the plain allow still wins
         * (a rule `ask allow --always` wrote in a drop-in). */
        p = load_ok(HEAD
                    "  - {id: asked, from: a, to: b, allow: ipc, endpoint: kv, ask: true}\n"
                    "  - {id: approved, from: a, to: b, allow: ipc, endpoint: kv}\n");
        req.to = "b";
        req.object = "kv";
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_string_equal(d.rule_id, "approved");
        assert_int_equal(d.ask_usec, 0);
        PolicyExplanation e;
        assert_int_equal(policy_explain(p, &req, &e), 0);
        assert_string_equal(e.why, "allow rule 'approved' is the most specific of 2 matching allow rules: it is as "
                                   "specific as rule 'asked', which asks an operator: an allow that does not ask "
                                   "comes first");
        policy_explanation_clear(&e);
        policy_unref(p);
}

static void test_audit(void **state) {
        Policy *p = load_ok("version: 1\naudit: deny\nrules:\n"
                            "  - {id: quiet, from: a, to: b, allow: ipc, audit: none}\n"
                            "  - {id: loud, from: a, to: c, allow: ipc, audit: all}\n"
                            "  - {id: plain, from: a, to: d, allow: ipc}\n");
        PolicyRequest req = { .from = "a", .to = "b", .kind = POLICY_KIND_IPC };
        PolicyDecision d;

        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.audit, POLICY_AUDIT_NONE);
        assert_false(d.audited);
        req.to = "c";
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_true(d.audited);
        req.to = "d";
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.audit, POLICY_AUDIT_DENY);
        assert_false(d.audited);
        req.to = "e";
        assert_int_equal(policy_decide(p, &req, &d), 0);
        assert_int_equal(d.verdict, POLICY_DENY);
        assert_true(d.audited);
        policy_unref(p);
}

static void test_bad_requests(void **state) {
        Policy *p = load_ok("version: 1\n");
        PolicyRequest req = { .from = "a", .to = NULL, .kind = POLICY_KIND_IPC };
        PolicyDecision d = { .rule_id = "untouched" };
        char longgroup[400];

        assert_int_equal(policy_decide(p, &req, &d), -EINVAL);
        req.to = "b";
        req.kind = _POLICY_KIND_MAX;
        assert_int_equal(policy_decide(p, &req, &d), -EINVAL);
        req.kind = POLICY_KIND_IPC;
        memset(longgroup, 'g', sizeof(longgroup));
        strcpy(longgroup + 300, "/name");
        req.from = longgroup;
        assert_int_equal(policy_decide(p, &req, &d), -EINVAL);
        assert_string_equal(d.rule_id, "untouched");
        policy_unref(p);
}

/* The index finds the same answer as a scan, at scale. */
static void test_index_many_rules(void **state) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        fprintf(f, HEAD);
        for (int i = 0; i < 2000; i++)
                fprintf(f, "  - {id: r%d, from: c%d, to: s%d, allow: ipc, endpoint: e%d}\n", i, i, i % 50, i % 7);
        fprintf(f, "  - {id: g, from: 'c1*', to: 's*', allow: ipc, endpoint: special}\n");
        fprintf(f, "  - {id: d, from: c7, to: '*', deny: ipc, endpoint: e0}\n");
        fclose(f);
        Policy *p = load_ok(text);
        free(text);

        assert_decision(p, "c123", "s23", POLICY_KIND_IPC, "e4", POLICY_ALLOW, "r123");
        assert_decision(p, "c123", "s24", POLICY_KIND_IPC, "e4", POLICY_DENY, "default");
        assert_decision(p, "c123", "s23", POLICY_KIND_IPC, "e5", POLICY_DENY, "default");
        assert_decision(p, "c123", "s40", POLICY_KIND_IPC, "special", POLICY_ALLOW, "g");
        assert_decision(p, "c7", "s7", POLICY_KIND_IPC, "e0", POLICY_DENY, "d");
        assert_decision(p, "c1999", "s49", POLICY_KIND_IPC, "e4", POLICY_ALLOW, "r1999");
        policy_unref(p);
}

static const PolicyExplainEntry *find_entry(const PolicyExplanation *e, const char *id) {
        for (size_t i = 0; i < e->n_entries; i++)
                if (streq(e->entries[i].rule->id, id))
                        return &e->entries[i];
        return NULL;
}

static void test_explain(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: broad, from: '*', to: db, allow: ipc}\n"
                            "  - {id: narrow, from: web, to: db, allow: ipc, endpoint: kv}\n"
                            "  - {id: wrong-endpoint, from: web, to: db, allow: ipc, endpoint: admin}\n"
                            "  - {id: far, from: x, to: y, allow: ipc, endpoint: z}\n"
                            "  - {id: old, from: web, to: db, allow: ipc, until: 2020-01-01T00:00:00Z}\n"
                            "  - {id: other-kind, from: web, to: db, allow: invoke}\n");
        PolicyRequest req = { .from = "web", .to = "db", .kind = POLICY_KIND_IPC, .object = "kv", .now = NOW };
        PolicyExplanation e;
        const PolicyExplainEntry *x;

        assert_int_equal(policy_explain(p, &req, &e), 0);
        assert_int_equal(e.decision.verdict, POLICY_ALLOW);
        assert_string_equal(e.decision.rule_id, "narrow");
        assert_int_equal(e.n_entries, 4);
        assert_non_null(x = find_entry(&e, "broad"));
        assert_int_equal(x->status, POLICY_MATCH);
        assert_false(x->winner);
        assert_non_null(x = find_entry(&e, "narrow"));
        assert_true(x->winner);
        assert_non_null(x = find_entry(&e, "wrong-endpoint"));
        assert_int_equal(x->status, POLICY_NEAR_MISS);
        assert_string_equal(x->field, "endpoint");
        assert_string_equal(x->detail, "endpoint 'kv' does not match 'admin'");
        assert_non_null(x = find_entry(&e, "old"));
        assert_int_equal(x->status, POLICY_EXPIRED);
        assert_string_equal(x->detail, "expired at 2020-01-01T00:00:00Z");
        assert_null(find_entry(&e, "far"));
        assert_null(find_entry(&e, "other-kind"));
        assert_string_equal(e.why, "allow rule 'narrow' is the most specific of 2 matching allow rules: "
                                   "its 'from' pattern 'web' (an exact name) is more specific than '*' (a glob) "
                                   "in rule 'broad'");

        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        policy_explanation_print(&e, f);
        fclose(f);
        assert_non_null(strstr(out, "allow\nrule: narrow (p.yaml:4)\n"));
        assert_non_null(strstr(out, "  * match     allow narrow (p.yaml:4)\n"));
        assert_non_null(strstr(out, "    near-miss allow wrong-endpoint (p.yaml:5): endpoint 'kv' does not match 'admin'\n"));
        free(out);

        f = open_memstream(&out, &len);
        assert_int_equal(policy_explanation_print_json(&e, &req, f), 0);
        fclose(f);
        assert_non_null(strstr(out, "\"decision\": \"allow\""));
        assert_non_null(strstr(out, "\"field\": \"endpoint\""));
        free(out);
        policy_explanation_clear(&e);

        /* Deny over allow, and the default, are explained too. */
        policy_unref(p);
        p = load_ok(HEAD "  - {id: ok, from: web, to: db, allow: ipc}\n  - {id: no-db, from: '*', to: db, deny: ipc}\n");
        assert_int_equal(policy_explain(p, &req, &e), 0);
        assert_string_equal(e.why, "deny rule 'no-db' matched, and a matching deny beats every allow "
                                   "(1 matching allow rule(s) overruled)");
        policy_explanation_clear(&e);
        req.to = "cache";
        assert_int_equal(policy_explain(p, &req, &e), 0);
        assert_string_equal(e.why, "no rule of kind ipc matched, so the policy default (deny) applies");
        assert_int_equal(e.n_entries, 2);
        assert_string_equal(e.entries[0].field, "to");
        policy_explanation_clear(&e);
        policy_unref(p);
}

/* ---- Reference counting under concurrency --------------------------------*/

typedef struct Slot {
        pthread_mutex_t lock;
        Policy *current;
        unsigned long decisions, bad;
} Slot;

static Policy *slot_get(Slot *s) {
        Policy *p;
        pthread_mutex_lock(&s->lock);
        p = policy_ref(s->current);
        pthread_mutex_unlock(&s->lock);
        return p;
}

static void *worker(void *arg) {
        Slot *s = arg;
        unsigned long n = 0, bad = 0;

        /* cmocka's assertions are not thread-safe: count, check later. */
        for (int i = 0; i < 20000; i++) {
                Policy *p = slot_get(s);
                PolicyRequest req = { .from = "web", .to = "db", .kind = POLICY_KIND_IPC, .object = "kv" };
                PolicyDecision d;
                /* Whichever policy the request holds, its answer is whole. */
                if (policy_decide(p, &req, &d) < 0 ||
                    !((streq(d.rule_id, "v1") && d.verdict == POLICY_ALLOW) ||
                      (streq(d.rule_id, "v2") && d.verdict == POLICY_DENY)))
                        bad++;
                n++;
                policy_unref(p);
        }
        __atomic_add_fetch(&s->decisions, n, __ATOMIC_RELAXED);
        __atomic_add_fetch(&s->bad, bad, __ATOMIC_RELAXED);
        return NULL;
}

static void test_refcount_swap(void **state) {
        Slot s = { .lock = PTHREAD_MUTEX_INITIALIZER };
        const char *v[2] = { HEAD "  - {id: v1, from: web, to: db, allow: ipc}\n",
                             HEAD "  - {id: v2, from: web, to: db, deny: ipc}\n" };
        pthread_t t[4];

        s.current = load_ok(v[0]);
        assert_ptr_equal(policy_ref(s.current), s.current);
        assert_int_equal(s.current->n_ref, 2);
        policy_unref(s.current);
        assert_int_equal(s.current->n_ref, 1);

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                assert_int_equal(pthread_create(&t[i], NULL, worker, &s), 0);
        for (int i = 0; i < 200; i++) {
                Policy *n = load_ok(v[(i + 1) % 2]), *old;
                pthread_mutex_lock(&s.lock);
                old = s.current;
                s.current = n;
                pthread_mutex_unlock(&s.lock);
                policy_unref(old);  /* freed by whoever drops it last */
        }
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(s.decisions, 4 * 20000);
        assert_int_equal(s.bad, 0);
        assert_int_equal(s.current->n_ref, 1);
        assert_null(policy_unref(s.current));
        assert_null(policy_unref(NULL));
        assert_null(policy_ref(NULL));
}


/* policy_for_each_partner(): the names it gives, joined by spaces in the
 * order given, "*" for any. */
typedef struct Partners {
        char buf[256];
} Partners;

static void partner_cb(const char *other, void *userdata) {
        Partners *s = userdata;
        size_t l = strlen(s->buf);
        snprintf(s->buf + l, sizeof(s->buf) - l, "%s%s", l ? " " : "", other ?: "*");
}

static const char *partners(const Policy *p, PolicyKind k, const char *name, bool as_from, Partners *s) {
        s->buf[0] = 0;
        policy_for_each_partner(p, k, name, as_from, partner_cb, s);
        return s->buf;
}

static bool partners_include(const char *list, const char *name) {
        char pad[300], key[80];
        snprintf(pad, sizeof(pad), " %s ", list);
        snprintf(key, sizeof(key), " %s ", name);
        return strstr(pad, " * ") || strstr(pad, key);
}

static void test_partners(void **state) {
        static const char *const names[] = { "web", "db", "cache", "queue", "job-1", "admin", "mon-1",
                                             "svc-1", "stranger" };
        Policy *p = load_ok(HEAD
                            "  - {id: a, from: web, to: db, allow: ipc, endpoint: kv}\n"
                            "  - {id: b, from: web, to: cache, allow: ipc, endpoint: kv}\n"
                            "  - {id: c, from: 'job-*', to: queue, allow: ipc, endpoint: q}\n"
                            "  - {id: d, from: admin, to: '*', allow: ipc, endpoint: ssh}\n"
                            "  - {id: e, from: 'mon-*', to: 'svc-*', allow: ipc, endpoint: metrics}\n"
                            "  - {id: f, from: cache, to: db, deny: ipc}\n");
        Partners s;

        /* Literal on both sides: the other's name, nothing more. */
        assert_string_equal(partners(p, POLICY_KIND_IPC, "web", true, &s), "db cache");
        assert_string_equal(partners(p, POLICY_KIND_IPC, "db", false, &s), "web cache admin");
        /* A pattern on the other side: anyone. */
        assert_string_equal(partners(p, POLICY_KIND_IPC, "queue", false, &s), "*");
        assert_string_equal(partners(p, POLICY_KIND_IPC, "admin", true, &s), "*");
        /* A pattern on its side that matches it: the literal other. */
        assert_string_equal(partners(p, POLICY_KIND_IPC, "job-1", true, &s), "queue");
        assert_string_equal(partners(p, POLICY_KIND_IPC, "stranger", false, &s), "admin");
        /* Patterns on both sides that match it. */
        assert_string_equal(partners(p, POLICY_KIND_IPC, "mon-1", true, &s), "*");
        assert_string_equal(partners(p, POLICY_KIND_IPC, "svc-1", false, &s), "*");
        /* Named by no rule of that kind, in that role. */
        assert_string_equal(partners(p, POLICY_KIND_IPC, "stranger", true, &s), "");
        assert_string_equal(partners(p, POLICY_KIND_IPC, "db", true, &s), "");
        assert_string_equal(partners(p, POLICY_KIND_INVOKE, "web", true, &s), "");
        assert_string_equal(partners(p, POLICY_KIND_IPC, "job-1", false, &s), "admin");

        /* What it promises: a pair it does not give is the default deny. */
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
                        char as_from[256], as_to[256];
                        PolicyVerdict v;
                        const char *id;

                        snprintf(as_from, sizeof(as_from), "%s", partners(p, POLICY_KIND_IPC, names[i], true, &s));
                        snprintf(as_to, sizeof(as_to), "%s", partners(p, POLICY_KIND_IPC, names[j], false, &s));
                        for (const char *obj = "kv"; obj; obj = streq(obj, "kv") ? "q" : streq(obj, "q") ? "ssh"
                                                                      : streq(obj, "ssh") ? "metrics" : NULL) {
                                id = decide(p, names[i], names[j], POLICY_KIND_IPC, obj, &v);
                                if (!streq(id, "default")) {
                                        assert_true(partners_include(as_from, names[j]));
                                        assert_true(partners_include(as_to, names[i]));
                                }
                        }
                }
        policy_unref(p);

        /* A default that is not deny: anyone, whatever the rules. */
        p = load_ok("version: 1\ndefault: allow\n");
        assert_string_equal(partners(p, POLICY_KIND_IPC, "web", true, &s), "*");
        assert_string_equal(partners(p, POLICY_KIND_DEPEND, "web", false, &s), "*");
        policy_unref(p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default),
                cmocka_unit_test(test_deny_beats_allow),
                cmocka_unit_test(test_specificity),
                cmocka_unit_test(test_groups),
                cmocka_unit_test(test_kinds_are_separate),
                cmocka_unit_test(test_ipc_type),
                cmocka_unit_test(test_fifo_mode),
                cmocka_unit_test(test_invoke_args),
                cmocka_unit_test(test_transfer_mode),
                cmocka_unit_test(test_transfer_names),
                cmocka_unit_test(test_transfer_names_specificity),
                cmocka_unit_test(test_depend),
                cmocka_unit_test(test_depend_grants),
                cmocka_unit_test(test_invoke_apps),
                cmocka_unit_test(test_signal),
                cmocka_unit_test(test_until),
                cmocka_unit_test(test_expired_reason),
                cmocka_unit_test(test_shadow_rules),
                cmocka_unit_test(test_limit_uses),
                cmocka_unit_test(test_audit),
                cmocka_unit_test(test_bad_requests),
                cmocka_unit_test(test_index_many_rules),
                cmocka_unit_test(test_explain),
                cmocka_unit_test(test_ask),
                cmocka_unit_test(test_refcount_swap),
                cmocka_unit_test(test_partners),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
