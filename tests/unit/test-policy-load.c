/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loading policies: every key, every error class with its exact
 * line:column, all errors reported, whole-file refusal, includes. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy/policy-internal.h"
#include "policy/ytree.h"

#define HEAD "version: 1\nrules:\n"

static int load(const char *text, Policy **p, PolicyDiagnostics *d) {
        return policy_load_buffer("t.yaml", text, strlen(text), 0, p, d);
}

static char *diag_text(const PolicyDiagnostic *x) {
        char *s;
        assert_true(asprintf(&s, "%s:%u:%u: %s", x->file, x->line, x->column, x->message) >= 0);
        return s;
}

/* Asserts that loading 'text' fails with exactly these errors, in order. */
static void expect_errors_v(const char *text, const char *const *want) {
        PolicyDiagnostics d = {};
        Policy *p = NULL;
        size_t n = 0;

        while (want[n])
                n++;
        assert_int_equal(load(text, &p, &d), -EINVAL);
        assert_null(p);
        for (size_t i = 0; i < d.n_errors && i < n; i++) {
                char *s = diag_text(&d.errors[i]);
                if (strcmp(s, want[i]) != 0)
                        fail_msg("error %zu: got '%s', want '%s'", i, s, want[i]);
                free(s);
        }
        if (d.n_errors != n) {
                for (size_t i = 0; i < d.n_errors; i++)
                        print_message("got: %s:%u:%u: %s\n", d.errors[i].file, d.errors[i].line,
                                      d.errors[i].column, d.errors[i].message);
                fail_msg("got %zu errors, want %zu", d.n_errors, n);
        }
        policy_diagnostics_clear(&d);
}
#define expect_errors(text, ...) expect_errors_v(text, (const char *const[]) { __VA_ARGS__, NULL })

static Policy *load_ok(const char *text) {
        PolicyDiagnostics d = {};
        Policy *p = NULL;
        int r = load(text, &p, &d);

        if (r < 0) {
                policy_diagnostics_print(&d, stderr);
                fail_msg("load failed: %d", r);
        }
        assert_int_equal(d.n_errors, 0);
        policy_diagnostics_clear(&d);
        return p;
}

static void test_minimal(void **state) {
        Policy *p = load_ok("version: 1\n");
        assert_int_equal(policy_get_n_rules(p), 0);
        assert_int_equal(policy_get_default(p), POLICY_DENY);
        assert_int_equal(policy_get_audit(p), POLICY_AUDIT_ALL);
        policy_unref(p);

        p = load_ok("version: 1\ndefault: deny\naudit: none\nrules:\n");
        assert_int_equal(policy_get_audit(p), POLICY_AUDIT_NONE);
        policy_unref(p);
}

static void test_every_key(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: a, from: web, to: db, allow: ipc, endpoint: kv, type: unix,\n"
                            "     audit: deny, limit: {rate: 100/s, max_open: 10, uses: 3}, until: 2030-01-01T00:00:00Z,\n"
                            "     shadow: false}\n"
                            "  - {id: b, from: mail, to: viewer, allow: invoke, app: /usr/bin/pdfview,\n"
                            "     args: ['*.pdf', ...], env: [LANG, 'LC_*'], transfer: ro}\n"
                            "  - {id: c, from: a, to: b, allow: transfer, path: /home/**, mode: rw, as: /in}\n"
                            "  - {id: d, from: build, to: tc, allow: depend, path: /opt/tc, at: /opt/tc, mode: ro}\n"
                            "  - {id: e, from: build, to: tc, allow: depend, service: ready}\n"
                            "  - {id: f, from: '*', to: db, deny: signal, signals: [KILL, SIGTERM, 1], app: /usr/bin/kvd}\n"
                            "  - {id: g, from: x, to: y, allow: [ipc, signal]}\n");
        PolicyDiagnostics d = {};

        assert_int_equal(policy_get_n_rules(p), 7);
        assert_int_equal(policy_get_n_rules_for_kind(p, POLICY_KIND_IPC), 2);
        assert_int_equal(policy_get_n_rules_for_kind(p, POLICY_KIND_INVOKE), 1);
        assert_int_equal(policy_get_n_rules_for_kind(p, POLICY_KIND_TRANSFER), 1);
        assert_int_equal(policy_get_n_rules_for_kind(p, POLICY_KIND_DEPEND), 2);
        assert_int_equal(policy_get_n_rules_for_kind(p, POLICY_KIND_SIGNAL), 2);

        const PolicyRule *a = policy_get_rule(p, 0), *b = policy_get_rule(p, 1), *f = policy_get_rule(p, 5);
        assert_string_equal(policy_rule_get_id(a), "a");
        assert_string_equal(policy_rule_get_file(a), "t.yaml");
        assert_int_equal(policy_rule_get_line(a), 3);
        assert_int_equal(a->ipc_type, POLICY_IPC_UNIX);
        assert_int_equal(a->audit, POLICY_AUDIT_DENY);
        assert_int_equal(a->limits.rate_count, 100);
        assert_int_equal(a->limits.max_open, 10);
        assert_int_equal(a->limits.uses, 3);
        assert_false(policy_rule_get_shadow(a));
        assert_int_equal(policy_get_n_shadow_rules(p), 0);
        assert_int_equal(a->until, 1893456000);
        assert_true(b->has_args && b->args_rest);
        assert_int_equal(b->n_args, 1);
        assert_int_equal(b->n_env, 2);
        assert_int_equal(b->invoke_transfer, POLICY_MODE_RO);
        assert_int_equal(policy_rule_get_verdict(f), POLICY_DENY);
        assert_int_equal(f->signals, (1u << (9 - 1)) | (1u << (15 - 1)) | 1u);
        assert_int_equal(policy_get_rule(p, 2)->mode, POLICY_MODE_RW);
        assert_string_equal(policy_get_rule(p, 2)->as, "/in");
        assert_int_equal(policy_get_rule(p, 3)->mode, POLICY_MODE_RO);
        assert_null(policy_get_rule(p, 7));
        policy_unref(p);
        policy_diagnostics_clear(&d);
}

static void test_generated_id(void **state) {
        Policy *p = load_ok(HEAD "  - from: a\n    to: b\n    allow: ipc\n");
        assert_string_equal(policy_rule_get_id(policy_get_rule(p, 0)), "t.yaml:3");
        policy_unref(p);
}

static void test_default_allow_warns(void **state) {
        PolicyDiagnostics d = {};
        Policy *p = NULL;

        assert_int_equal(load("version: 1\ndefault: allow\n", &p, &d), 0);
        assert_int_equal(policy_get_default(p), POLICY_ALLOW);
        assert_int_equal(d.n_warnings, 1);
        assert_int_equal(d.warnings[0].line, 2);
        assert_int_equal(d.warnings[0].column, 10);
        assert_string_equal(d.warnings[0].message, "'default: allow' lets through every interaction no rule denies");
        policy_diagnostics_clear(&d);
        policy_unref(p);

        assert_int_equal(load(HEAD "  - {from: a, to: b, allow: ipc, until: 2001-01-01T00:00:00Z}\n", &p, &d), 0);
        assert_int_equal(d.n_warnings, 1);
        assert_string_equal(d.warnings[0].message,
                            "rule 't.yaml:3' expired at 2001-01-01T00:00:00Z and will never match");
        policy_diagnostics_clear(&d);
        policy_unref(p);
}

static void test_top_level_errors(void **state) {
        expect_errors("", "t.yaml:1:1: empty policy file (expected at least 'version: 1')");
        expect_errors("# only a comment\n", "t.yaml:1:1: empty policy file (expected at least 'version: 1')");
        expect_errors("- a\n- b\n",
                      "t.yaml:1:1: a policy must be a mapping (version, default, audit, include, rules, tests), not a list");
        expect_errors("rules: []\n", "t.yaml:1:1: missing 'version: 1'");
        expect_errors("version: 2\n", "t.yaml:1:10: unsupported policy version 2 (this build understands version 1)");
        expect_errors("version: one\n", "t.yaml:1:10: 'version' must be a non-negative integer, not a string");
        expect_errors("version: \"1\"\n", "t.yaml:1:10: 'version' must be a non-negative integer, not a string");
        expect_errors("version: 1\nfoo: bar\n",
                      "t.yaml:2:1: unknown key 'foo' at the top level (expected version, default, audit, include, rules or tests)");
        expect_errors("version: 1\ndefault: maybe\n", "t.yaml:2:10: 'default' must be deny or allow, not 'maybe'");
        expect_errors("version: 1\naudit: some\n", "t.yaml:2:8: 'audit' must be all, deny or none, not 'some'");
        expect_errors("version: 1\ndefault: deny\ndefault: deny\n",
                      "t.yaml:3:1: duplicate key 'default' (first at line 2 column 1)");
        expect_errors("version: 1\nrules: {a: b}\n", "t.yaml:2:8: 'rules' must be a list of rules, not a mapping");
        expect_errors("version: 1\nrules:\n  - just a string\n", "t.yaml:3:5: a rule must be a mapping, not a string");
        expect_errors("version: 1\ndefault: no\n", "t.yaml:2:10: 'default' must be a string, not a boolean "
                                                   "(quote it if you mean the word)");
        expect_errors("version: 1\n? [a, b]\n: c\n", "t.yaml:2:3: keys must be plain strings, not a list");
}

static void test_rule_errors(void **state) {
        expect_errors(HEAD "  - from: a\n    to: b\n    allow: ipc\n    colour: red\n",
                      "t.yaml:6:5: unknown key 'colour' in rule (see shuttle-policy(5))");
        expect_errors(HEAD "  - from: a\n    to: b\n    allow: ipc\n    from: c\n",
                      "t.yaml:6:5: duplicate key 'from' (first at line 3 column 5)");
        expect_errors(HEAD "  - from: [a]\n    to: b\n    allow: ipc\n", "t.yaml:3:11: 'from' must be a string, not a list");
        expect_errors(HEAD "  - from: a\n    to: ~\n    allow: ipc\n", "t.yaml:4:9: 'to' must be a string, not nothing (null)");
        expect_errors(HEAD "  - from: a\n    to: b\n    allow: ipc\n    endpoint: \"\"\n",
                      "t.yaml:6:15: 'endpoint': empty pattern");
        expect_errors(HEAD "  - from: \"\"\n    to: b\n    allow: ipc\n", "t.yaml:3:11: 'from': empty pattern");
        expect_errors(HEAD "  - from: a/b/c\n    to: b\n    allow: ipc\n",
                      "t.yaml:3:11: 'from': a container pattern is 'name' or 'group/name' 'a/b/c'");
        expect_errors(HEAD "  - from: a\n    to: b\n    allow: ipc\n    endpoint: \"kv[\"\n",
                      "t.yaml:6:15: 'endpoint': unterminated '[' in pattern 'kv['");
        expect_errors(HEAD "  - from: a\n    to: b\n",
                      "t.yaml:3:5: rule has neither 'allow' nor 'deny'");
        expect_errors(HEAD "  - to: b\n    allow: ipc\n",
                      "t.yaml:3:5: rule has no 'from' (use \"*\" for any container)");
        expect_errors(HEAD "  - from: a\n    to: b\n    allow: ipc\n    deny: ipc\n",
                      "t.yaml:6:5: a rule has exactly one of 'allow' or 'deny'");
        expect_errors(HEAD "  - from: a\n    to: b\n    allow: chat\n",
                      "t.yaml:5:12: unknown kind 'chat' (expected ipc, invoke, transfer, depend or signal)");
        expect_errors(HEAD "  - from: a\n    to: b\n    allow: [ipc, ipc]\n", "t.yaml:5:18: kind 'ipc' is listed twice");
        expect_errors(HEAD "  - from: a\n    to: b\n    allow: []\n", "t.yaml:5:12: 'allow' needs at least one kind");
        expect_errors(HEAD "  - from: a\n    to: b\n    allow: invoke\n    endpoint: kv\n",
                      "t.yaml:6:5: 'endpoint' does not apply to invoke rules (it is for ipc)");
        expect_errors(HEAD "  - from: a\n    to: b\n    allow: [ipc, depend]\n    signals: [TERM]\n",
                      "t.yaml:6:5: 'signals' does not apply to ipc/depend rules (it is for signal)");
        expect_errors(HEAD "  - from: a\n    to: b\n    deny: transfer\n    mode: rw\n",
                      "t.yaml:6:5: 'mode' does not apply to deny rules");
        expect_errors(HEAD "  - from: a\n    to: b\n    deny: ipc\n    limit: {max_open: 1}\n",
                      "t.yaml:6:5: 'limit' does not apply to deny rules");
        expect_errors(HEAD "  - from: a\n    to: b\n    deny: ipc\n    ask: true\n",
                      "t.yaml:6:5: 'ask' does not apply to deny rules");
        expect_errors(HEAD "  - {from: a, to: b, allow: depend, path: /x, ask: true}\n",
                      "t.yaml:3:47: 'ask' does not apply to depend rules (it is for ipc/invoke/transfer/signal)");
        expect_errors(HEAD "  - {from: a, to: b, allow: [ipc, depend], ask: true}\n",
                      "t.yaml:3:44: 'ask' does not apply to depend rules (the broker grants them by itself)");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, ask: sure}\n",
                      "t.yaml:3:39: invalid ask 'sure' (expected true, false or { timeout: DURATION })");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, ask: {timeout: 2h}}\n",
                      "t.yaml:3:49: invalid ask timeout '2h' (expected a duration from 1ms to 1h, like 30s or 5m)");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, ask: {timeout: 0}}\n",
                      "t.yaml:3:49: invalid ask timeout '0' (expected a duration from 1ms to 1h, like 30s or 5m)");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, ask: {wait: 1s}}\n",
                      "t.yaml:3:40: unknown key 'wait' in 'ask' (expected timeout)");
        expect_errors(HEAD "  - {id: x, from: a, to: b, allow: ipc}\n  - {id: x, from: a, to: c, allow: ipc}\n",
                      "t.yaml:4:10: duplicate rule id 'x' (first used at t.yaml:3:5)");
        expect_errors(HEAD "  - {id: 'a b', from: a, to: b, allow: ipc}\n",
                      "t.yaml:3:10: invalid rule id 'a b' (1-128 characters of A-Z a-z 0-9 _ . : / @ + -)");
        expect_errors(HEAD "  - {id: default, from: a, to: b, allow: ipc}\n",
                      "t.yaml:3:10: rule id 'default' is reserved (the audit log's name for the policy's default)");
        expect_errors(HEAD "  - {id: '-', from: a, to: b, allow: ipc}\n",
                      "t.yaml:3:10: rule id '-' is reserved (the audit log's name for the broker's own decisions)");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, type: pigeon}\n",
                      "t.yaml:3:40: 'type' must be unix, tcp, fifo, mq or shm, not 'pigeon'");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, endpoint: kv, mode: ro}\n",
                      "t.yaml:3:54: 'mode' in an ipc rule needs 'type: fifo' (it says which end of the FIFO the "
                      "rule grants)");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, type: unix, mode: rw}\n",
                      "t.yaml:3:52: 'mode' in an ipc rule needs 'type: fifo' (it says which end of the FIFO the "
                      "rule grants)");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, type: fifo, mode: both}\n",
                      "t.yaml:3:52: 'mode' must be ro, wo or rw, not 'both'");
        expect_errors(HEAD "  - {from: a, to: b, allow: transfer, path: /x, mode: wo}\n",
                      "t.yaml:3:55: 'mode' must be ro or rw, not 'wo' (wo is for FIFO exports, in ipc rules)");
        expect_errors(HEAD "  - {from: a, to: b, deny: ipc, type: fifo, mode: wo}\n",
                      "t.yaml:3:45: 'mode' does not apply to deny rules");
        expect_errors(HEAD "  - {from: a, to: b, allow: invoke, app: bin/ls}\n",
                      "t.yaml:3:42: 'app' must be an absolute, normalised path (no '.', '..', '//' or trailing '/'): 'bin/ls'");
        expect_errors(HEAD "  - {from: a, to: b, allow: invoke, args: [..., x]}\n",
                      "t.yaml:3:44: '...' must be the last element of 'args'");
        expect_errors(HEAD "  - {from: a, to: b, allow: invoke, args: '*.pdf'}\n",
                      "t.yaml:3:43: 'args' must be a list, not a string");
        expect_errors(HEAD "  - {from: a, to: b, allow: invoke, env: ['1X']}\n",
                      "t.yaml:3:43: 'env': invalid variable name '1X'");
        expect_errors(HEAD "  - {from: a, to: b, allow: invoke, transfer: yes}\n",
                      "t.yaml:3:47: 'transfer' must be a string, not a boolean (quote it if you mean the word)");
        expect_errors(HEAD "  - {from: a, to: b, allow: invoke, transfer: maybe}\n",
                      "t.yaml:3:47: 'transfer' must be none, ro or rw, not 'maybe'");
        expect_errors(HEAD "  - {from: a, to: b, allow: transfer, mode: none}\n",
                      "t.yaml:3:45: 'mode' must be ro or rw, not 'none'");
        expect_errors(HEAD "  - {from: a, to: b, allow: transfer, as: '/x/*'}\n",
                      "t.yaml:3:43: 'as' must be an absolute, normalised path without glob characters: '/x/*'");
        expect_errors(HEAD "  - {from: a, to: b, allow: depend, service: s, path: /p}\n",
                      "t.yaml:3:46: 'service' cannot be combined with 'path', 'at' or 'mode'");
        expect_errors(HEAD "  - {from: a, to: b, allow: depend, at: /p}\n", "t.yaml:3:41: 'at' needs 'path'");
        expect_errors(HEAD "  - {from: a, to: b, allow: signal, signals: [TERM, WINTER]}\n",
                      "t.yaml:3:53: unknown signal 'WINTER'");
        /* A bad name before good ones (this once leaked the good ones). */
        expect_errors(HEAD "  - {from: a, to: b, allow: signal, signals: [WINTER, TERM, HUP]}\n",
                      "t.yaml:3:47: unknown signal 'WINTER'");
        expect_errors(HEAD "  - {from: a, to: b, allow: signal, signals: []}\n",
                      "t.yaml:3:46: 'signals' is empty (leave it out to mean every signal)");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, audit: loud}\n",
                      "t.yaml:3:41: 'audit' must be all, deny or none, not 'loud'");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, limit: {rate: fast, max_open: 0, burst: 3}}\n",
                      "t.yaml:3:48: invalid rate 'fast' (expected COUNT/UNIT, like 100/s, 10/m or 5/1h)",
                      "t.yaml:3:64: 'max_open' must be at least 1",
                      "t.yaml:3:67: unknown key 'burst' in 'limit' (expected rate, max_open or uses)");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, limit: {uses: 0}}\n",
                      "t.yaml:3:48: 'uses' must be at least 1");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, limit: {uses: -2}}\n",
                      "t.yaml:3:48: 'uses' must be a non-negative integer, not a string");
        expect_errors(HEAD "  - {from: a, to: b, deny: ipc, limit: {uses: 1}}\n",
                      "t.yaml:3:33: 'limit' does not apply to deny rules");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, shadow: maybe}\n",
                      "t.yaml:3:42: 'shadow' must be true or false, not a string");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, limit: 5}\n", "t.yaml:3:41: 'limit' must be a mapping, not a string");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, until: tomorrow}\n",
                      "t.yaml:3:41: invalid time 'tomorrow' (expected RFC 3339 like 2026-12-31T23:59:59Z)");
}

/* Transfer of names: pid, service and host beside path, at most one per
 * rule; mode and as stay with paths. */
static void test_transfer_names(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {id: p, from: a, to: b, allow: transfer, pid: '/usr/bin/*'}\n"
                            "  - {id: s, from: a, to: b, allow: transfer, service: 'kv*'}\n"
                            "  - {id: h, from: a, to: b, allow: transfer, host: yes}\n"
                            "  - {id: f, from: a, to: b, allow: transfer, path: /tmp/x, mode: rw}\n"
                            "  - {id: n, from: a, to: b, allow: transfer}\n"
                            "  - {id: d, from: a, to: b, deny: transfer, pid: /usr/bin/kvd}\n"
                            "  - {id: e, from: a, to: b, allow: [transfer, depend], service: ready}\n");
        const PolicyRule *r;

        assert_int_equal(policy_get_n_rules_for_kind(p, POLICY_KIND_TRANSFER), 7);
        r = policy_get_rule(p, 0);
        assert_int_equal(r->transfer_name, POLICY_NAME_PID);
        assert_string_equal(r->pid.pattern, "/usr/bin/*");
        assert_int_equal(policy_get_rule(p, 1)->transfer_name, POLICY_NAME_SERVICE);
        r = policy_get_rule(p, 2);
        assert_int_equal(r->transfer_name, POLICY_NAME_HOST);
        assert_true(r->host);
        assert_int_equal(policy_get_rule(p, 3)->transfer_name, POLICY_NAME_PATH);
        assert_int_equal(policy_get_rule(p, 4)->transfer_name, _POLICY_NAME_INVALID);
        assert_int_equal(policy_get_rule(p, 5)->transfer_name, POLICY_NAME_PID);
        assert_int_equal(policy_get_rule(p, 6)->transfer_name, POLICY_NAME_SERVICE);
        policy_unref(p);

        assert_string_equal(policy_name_to_string(POLICY_NAME_PID), "pid");
        assert_int_equal(policy_name_from_string("host"), POLICY_NAME_HOST);
        assert_int_equal(policy_name_from_string("uid"), _POLICY_NAME_INVALID);

        expect_errors(HEAD "  - {from: a, to: b, allow: transfer, path: /tmp, pid: /usr/bin/x}\n",
                      "t.yaml:3:56: 'pid' cannot be combined with 'path' (a transfer rule names at most one of "
                      "path, pid, service and host)");
        expect_errors(HEAD "  - {from: a, to: b, allow: transfer, service: kv, host: true}\n",
                      "t.yaml:3:58: 'host' cannot be combined with 'service' (a transfer rule names at most one "
                      "of path, pid, service and host)");
        expect_errors(HEAD "  - {from: a, to: b, allow: transfer, host: true, pid: /x}\n",
                      "t.yaml:3:45: 'host' cannot be combined with 'pid' (a transfer rule names at most one of "
                      "path, pid, service and host)");
        expect_errors(HEAD "  - {from: a, to: b, allow: transfer, service: kv, path: /p}\n",
                      "t.yaml:3:48: 'service' cannot be combined with 'path', 'at' or 'mode'");
        expect_errors(HEAD "  - {from: a, to: b, allow: transfer, pid: /usr/bin/x, mode: rw}\n",
                      "t.yaml:3:62: 'mode' is for paths and cannot be combined with 'pid'");
        expect_errors(HEAD "  - {from: a, to: b, allow: transfer, host: true, as: /in}\n",
                      "t.yaml:3:55: 'as' is for paths and cannot be combined with 'host'");
        expect_errors(HEAD "  - {from: a, to: b, allow: transfer, service: kv, as: /in}\n",
                      "t.yaml:3:56: 'as' is for paths and cannot be combined with 'service'");
        expect_errors(HEAD "  - {from: a, to: b, allow: transfer, host: false}\n",
                      "t.yaml:3:45: 'host' can only be true (leave it out for a rule about other names)");
        expect_errors(HEAD "  - {from: a, to: b, allow: transfer, host: b}\n",
                      "t.yaml:3:45: 'host' must be true, not a string");
        expect_errors(HEAD "  - {from: a, to: b, allow: transfer, pid: sleep}\n",
                      "t.yaml:3:44: 'pid' must be an absolute, normalised path (no '.', '..', '//' or trailing "
                      "'/'): 'sleep'");
        expect_errors(HEAD "  - {from: a, to: b, allow: signal, pid: /usr/bin/x}\n",
                      "t.yaml:3:37: 'pid' does not apply to signal rules (it is for transfer)");
        expect_errors(HEAD "  - {from: a, to: b, allow: ipc, host: true}\n",
                      "t.yaml:3:34: 'host' does not apply to ipc rules (it is for transfer)");
        expect_errors(HEAD "  - {from: a, to: b, allow: invoke, service: kv}\n",
                      "t.yaml:3:37: 'service' does not apply to invoke rules (it is for transfer/depend)");
}

static void test_yaml_errors(void **state) {
        /* Errors from reading the YAML come before errors in its meaning. */
        expect_errors("version: 1\nx: &a [1]\ny: *a\n", "t.yaml:2:4: anchors are not allowed ('&a')",
                      "t.yaml:3:4: aliases are not allowed ('*a')",
                      "t.yaml:2:1: unknown key 'x' at the top level (expected version, default, audit, include, rules or tests)",
                      "t.yaml:3:1: unknown key 'y' at the top level (expected version, default, audit, include, rules or tests)");
        expect_errors("version: !!int 1\n", "t.yaml:1:10: tags are not allowed ('tag:yaml.org,2002:int')");
        expect_errors("version: 1\n---\nversion: 1\n", "t.yaml:2:1: only one YAML document per file is allowed");
        expect_errors("version: 1\nrules:\n  - from: a\n   to: b\n",
                      "t.yaml:4:4: syntax error: did not find expected '-' indicator while parsing a block collection "
                      "(line 3 column 3)");
        expect_errors("version: 1\nrules: [\n", "t.yaml:3:1: syntax error: did not find expected node content "
                                                 "while parsing a flow node (line 3 column 1)");
        expect_errors("version: 1\nx: \"a\\0b\"\n", "t.yaml:2:4: string contains a NUL character",
                      "t.yaml:2:1: unknown key 'x' at the top level (expected version, default, audit, include, rules or tests)");
        expect_errors("version: 1\nx: \xff\n", "t.yaml:2:4: invalid input: invalid leading UTF-8 octet (byte 0xff)");
        expect_errors("version: 1\nrules: [[[[[[[[[[1]]]]]]]]]]\n", "t.yaml:2:15: nesting deeper than 8 levels",
                      "t.yaml:2:9: a rule must be a mapping, not a list");

        char *big = malloc(POLICY_SCALAR_MAX + 64);
        int n = sprintf(big, "version: 1\nx: ");
        memset(big + n, 'a', POLICY_SCALAR_MAX + 1);
        strcpy(big + n + POLICY_SCALAR_MAX + 1, "\n");
        expect_errors(big, "t.yaml:2:4: string too long (4097 bytes, at most 4096)",
                      "t.yaml:2:1: unknown key 'x' at the top level (expected version, default, audit, include, rules or tests)");
        free(big);
}

/* "[[[[..." n levels deep, then an alias on the next line. */
static char *deep_text(size_t n, const char *open, const char *close) {
        size_t lo = strlen(open), lc = strlen(close);
        char *s = malloc(32 + n * (lo + lc) + 16), *q = s;

        q = stpcpy(q, "version: 1\nrules: ");
        for (size_t i = 0; i < n; i++)
                q = stpcpy(q, open);
        for (size_t i = 0; i < n; i++)
                q = stpcpy(q, close);
        strcpy(q, "\nx: *a\n");
        return s;
}

static size_t deep_events(size_t n, const char *open, const char *close, const char *want) {
        char *text = deep_text(n, open, close);
        PolicyDiagnostics d = {};
        YNode *root = NULL;
        bool truncated = false;
        size_t events = 0;

        assert_int_equal(ytree_parse_counted("t.yaml", text, strlen(text), &d, &root, &truncated, &events),
                         -EINVAL);
        /* One error, at the first collection past the cap: the alias after
         * the nesting is never reached, so reading stopped there. */
        assert_int_equal(d.n_errors, 1);
        char *s = diag_text(&d.errors[0]);
        assert_string_equal(s, want);
        free(s);
        assert_true(truncated);
        assert_non_null(root);
        ytree_free(root);
        policy_diagnostics_clear(&d);
        free(text);
        return events;
}

/* Nesting past the cap stops the reader at the first too-deep collection,
 * so the work does not grow with what follows (libyaml's scanner is
 * quadratic in the nesting it is made to go through). */
static void test_deep_nesting_stops_reading(void **state) {
        size_t e1 = deep_events(1000, "[", "]", "t.yaml:2:15: nesting deeper than 8 levels");
        size_t e4 = deep_events(4000, "[", "]", "t.yaml:2:15: nesting deeper than 8 levels");

        /* stream, document, "version", "1", "rules"; the mapping (level 1),
         * 7 '[' (levels 2-8) and the '[' past the cap: nothing after it. */
        assert_int_equal(e1, 2 + 3 + 1 + 7 + 1);
        assert_int_equal(POLICY_DEPTH_MAX, 8);
        assert_int_equal(e4, e1);
        e1 = deep_events(1000, "{a: ", "}", "t.yaml:2:36: nesting deeper than 8 levels");
        e4 = deep_events(4000, "{a: ", "}", "t.yaml:2:36: nesting deeper than 8 levels");
        assert_int_equal(e4, e1);

        /* Block nesting too. */
        char text[1024], *q = stpcpy(text, "version: 1\nrules:\n");
        for (unsigned i = 0; i < 2 * POLICY_DEPTH_MAX; i++) {
                memset(q, ' ', 2 * i);
                q = stpcpy(q + 2 * i, "-\n");
        }
        strcpy(q, "x: *a\n");
        expect_errors(text, "t.yaml:10:15: nesting deeper than 8 levels",
                      "t.yaml:4:3: a rule must be a mapping, not a list");

        /* Within the cap, reading is linear: four times the items, four
         * times the events (5 an item, plus a frame of 9: stream, document,
         * mapping, "x" and the outer list). */
        size_t n1 = 0, n4 = 0;
        for (unsigned k = 1; k <= 4; k *= 4) {
                size_t n = 1000 * k, len = 0;
                char *t = malloc(32 + n * 8), *p = t;
                PolicyDiagnostics d = {};
                YNode *root = NULL;
                bool truncated;
                size_t events = 0;

                p = stpcpy(p, "x: [");
                for (size_t i = 0; i < n; i++)
                        p = stpcpy(p, "[[a]],");
                p = stpcpy(p, "]\n");
                len = (size_t) (p - t);
                assert_int_equal(ytree_parse_counted("t.yaml", t, len, &d, &root, &truncated, &events), 0);
                ytree_free(root);
                free(t);
                if (k == 1)
                        n1 = events;
                else
                        n4 = events;
        }
        assert_int_equal(n1, 5 * 1000 + 9);
        assert_int_equal(n4 - n1, 3 * (n1 - 9));
}

static void test_too_large(void **state) {
        PolicyDiagnostics d = {};
        Policy *p = NULL;
        size_t size = POLICY_FILE_SIZE_MAX + 1;
        char *data = malloc(size);

        memset(data, '#', size);
        assert_int_equal(policy_load_buffer("big.yaml", data, size, 0, &p, &d), -EINVAL);
        assert_null(p);
        assert_int_equal(d.n_errors, 1);
        char *s = diag_text(&d.errors[0]);
        assert_string_equal(s, "big.yaml:1:1: file too large (1048577 bytes, at most 1048576)");
        free(s);
        free(data);
        policy_diagnostics_clear(&d);
}

/* Every error is reported, not only the first, and nothing is loaded. */
static void test_all_errors_reported(void **state) {
        expect_errors("version: 1\n"
                      "bogus: 1\n"
                      "rules:\n"
                      "  - {from: a, to: b, allow: ipc}\n"
                      "  - {from: a, to: b, allow: ipc, endpoint: 'x/y'}\n"
                      "  - {from: a, to: b, deny: ipc}\n"
                      "  - {from: a, to: b, allow: invoke, app: /x, args: ['']}\n",
                      "t.yaml:2:1: unknown key 'bogus' at the top level (expected version, default, audit, include, rules or tests)",
                      "t.yaml:5:44: 'endpoint' is a name and cannot contain '/': 'x/y'",
                      "t.yaml:7:53: 'args': empty pattern");
}

static void test_error_cap(void **state) {
        PolicyDiagnostics d = {};
        Policy *p = NULL;
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        fprintf(f, "version: 1\n");
        for (int i = 0; i < 1000; i++)
                fprintf(f, "k%d: 1\n", i);
        fclose(f);
        assert_int_equal(load(text, &p, &d), -EINVAL);
        assert_int_equal(d.n_errors, POLICY_ERRORS_MAX + 1);
        assert_string_equal(d.errors[POLICY_ERRORS_MAX].message, "too many errors, giving up");
        policy_diagnostics_clear(&d);
        free(text);
}

static void test_no_include_flag(void **state) {
        PolicyDiagnostics d = {};
        Policy *p = NULL;
        const char *text = "version: 1\ninclude: other.yaml\n";

        assert_int_equal(policy_load_buffer("t.yaml", text, strlen(text), POLICY_LOAD_NO_INCLUDE, &p, &d), -EINVAL);
        assert_int_equal(d.n_errors, 1);
        assert_string_equal(d.errors[0].message, "'include' is not allowed here");
        policy_diagnostics_clear(&d);
}

/* ---- Includes, on real files ---------------------------------------------*/

static char tmpdir[64];

static void write_file(const char *name, const char *text) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static int setup_dir(void **state) {
        strcpy(tmpdir, "/tmp/test-policy-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
        return 0;
}

static int teardown_dir(void **state) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static int load_path(const char *name, Policy **p, PolicyDiagnostics *d) {
        char path[256];
        const char *paths[] = { path };
        snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
        return policy_load(paths, 1, p, d);
}

static void make_dir(const char *name) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
        assert_int_equal(mkdir(path, 0700), 0);
}

/* Loads main.yaml; expects one error, whose message contains 'want'. */
static void expect_one_error(const char *want) {
        PolicyDiagnostics d = {};
        Policy *p = NULL;

        assert_int_equal(load_path("main.yaml", &p, &d), -EINVAL);
        assert_null(p);
        if (d.n_errors != 1 || !strstr(d.errors[0].message, want)) {
                policy_diagnostics_print(&d, stderr);
                fail_msg("want one error with '%s'", want);
        }
        policy_diagnostics_clear(&d);
}

/* Bounds on a whole load: includes and directories do not multiply the
 * per-file bounds into unbounded work. */
static void test_whole_load_bounds(void **state) {
        const char *rule = "  - {from: a, to: b, allow: ipc}\n";
        size_t per_file = POLICY_RULES_MAX / 4 + 1;
        char *text = malloc(32 + per_file * strlen(rule)), *q;
        char name[64];

        /* Rules: four files of a quarter of the cap and one more each. */
        make_dir("r.d");
        q = stpcpy(text, "version: 1\nrules:\n");
        for (size_t i = 0; i < per_file; i++)
                q = stpcpy(q, rule);
        for (unsigned k = 0; k < 4; k++) {
                snprintf(name, sizeof(name), "r.d/%u.yaml", k);
                write_file(name, text);
        }
        write_file("main.yaml", "version: 1\ninclude: r.d\n");
        PolicyDiagnostics d = {};
        Policy *p = NULL;
        assert_int_equal(load_path("main.yaml", &p, &d), -EINVAL);
        assert_int_equal(d.n_errors, 1);
        assert_string_equal(d.errors[0].message, "too many rules (at most 100000 in a policy)");
        assert_non_null(strstr(d.errors[0].file, "r.d/3.yaml"));
        /* The 100,001st: past 3 * 25,001 rules, the 24,998th of the last
         * file (on line 3 + 24,997). */
        assert_int_equal(d.errors[0].line, 3 + (POLICY_RULES_MAX - 3 * per_file));
        assert_int_equal(d.errors[0].column, 5);
        policy_diagnostics_clear(&d);
        free(text);

        /* Bytes: seventeen files of a million bytes each (the cap is 16 MiB). */
        text = malloc(1000000 + 1);
        q = stpcpy(text, "version: 1\n#");
        memset(q, '#', 1000000 - (size_t) (q - text) - 1);
        strcpy(text + 1000000 - 1, "\n");
        make_dir("s.d");
        for (unsigned k = 0; k < 17; k++) {
                snprintf(name, sizeof(name), "s.d/%02u.yaml", k);
                write_file(name, text);
        }
        free(text);
        write_file("main.yaml", "version: 1\ninclude: s.d\n");
        expect_one_error("/s.d/16.yaml: policy too large (its files add up to more than 16777216 bytes)");

        /* Files: two directories within the per-directory cap, too many
         * together. */
        make_dir("a.d");
        make_dir("b.d");
        for (unsigned k = 0; k < POLICY_FILES_MAX; k++) {
                snprintf(name, sizeof(name), "%s/%05u.yaml", k < POLICY_FILES_MAX / 2 ? "a.d" : "b.d", k);
                write_file(name, "version: 1\n");
        }
        write_file("main.yaml", "version: 1\ninclude: [a.d, b.d]\n");
        PolicyDiagnostics d2 = {};
        p = NULL;
        assert_int_equal(load_path("main.yaml", &p, &d2), -EINVAL);
        assert_int_equal(d2.n_errors, 1);
        assert_non_null(strstr(d2.errors[0].message, "/b.d/09999.yaml: too many policy files (at most 10000 in a policy)"));
        assert_int_equal(d2.errors[0].line, 2);
        policy_diagnostics_clear(&d2);
}

static void test_include_dir(void **state) {
        PolicyDiagnostics d = {};
        Policy *p = NULL;
        char dir[128];

        snprintf(dir, sizeof(dir), "%s/policy.d", tmpdir);
        assert_int_equal(mkdir(dir, 0755), 0);
        write_file("main.yaml", "version: 1\ndefault: deny\ninclude: policy.d\n"
                                "rules:\n  - {id: main, from: a, to: b, allow: ipc}\n");
        write_file("policy.d/20-b.yaml", "version: 1\nrules:\n  - {id: b, from: a, to: b, allow: ipc}\n");
        write_file("policy.d/10-a.yml", "version: 1\naudit: deny\nrules:\n  - {id: a, from: a, to: b, allow: ipc}\n");
        write_file("policy.d/README", "not a policy");
        write_file("policy.d/.hidden.yaml", "garbage: [");

        assert_int_equal(load_path("main.yaml", &p, &d), 0);
        assert_int_equal(d.n_errors, 0);
        assert_int_equal(policy_get_n_rules(p), 3);
        /* Included where 'include' appears, directory entries sorted. */
        assert_string_equal(policy_rule_get_id(policy_get_rule(p, 0)), "a");
        assert_string_equal(policy_rule_get_id(policy_get_rule(p, 1)), "b");
        assert_string_equal(policy_rule_get_id(policy_get_rule(p, 2)), "main");
        assert_int_equal(policy_get_audit(p), POLICY_AUDIT_DENY);
        assert_non_null(strstr(policy_rule_get_file(policy_get_rule(p, 0)), "/policy.d/10-a.yml"));
        policy_unref(p);
        policy_diagnostics_clear(&d);

        /* An error in an included file names that file and rejects all. */
        write_file("policy.d/30-bad.yaml", "version: 1\nrules:\n  - {id: c, from: a, to: b, allow: nope}\n");
        p = NULL;
        assert_int_equal(load_path("main.yaml", &p, &d), -EINVAL);
        assert_null(p);
        assert_int_equal(d.n_errors, 1);
        assert_non_null(strstr(d.errors[0].file, "policy.d/30-bad.yaml"));
        assert_int_equal(d.errors[0].line, 3);
        assert_int_equal(d.errors[0].column, 36);
        policy_diagnostics_clear(&d);

        /* 'default' in several files: fine if they agree, else an error. */
        write_file("policy.d/30-bad.yaml", "version: 1\ndefault: deny\n");
        assert_int_equal(load_path("main.yaml", &p, &d), 0);
        policy_unref(p);
        p = NULL;
        policy_diagnostics_clear(&d);
        write_file("policy.d/30-bad.yaml", "version: 1\ndefault: allow\n");
        assert_int_equal(load_path("main.yaml", &p, &d), -EINVAL);
        assert_int_equal(d.n_errors, 1);
        assert_int_equal(d.errors[0].line, 2);
        assert_int_equal(d.errors[0].column, 10);
        assert_non_null(strstr(d.errors[0].message, "'default: allow' conflicts with the value set at "));
        assert_non_null(strstr(d.errors[0].message, "main.yaml:2:1"));
        policy_diagnostics_clear(&d);
        unlink(strcat(dir, "/30-bad.yaml"));
}

static void test_include_cycle_and_missing(void **state) {
        PolicyDiagnostics d = {};
        Policy *p = NULL;

        write_file("c1.yaml", "version: 1\ninclude: c2.yaml\n");
        write_file("c2.yaml", "version: 1\ninclude: [c1.yaml]\n");
        assert_int_equal(load_path("c1.yaml", &p, &d), -EINVAL);
        assert_null(p);
        assert_int_equal(d.n_errors, 1);
        assert_non_null(strstr(d.errors[0].file, "c2.yaml"));
        assert_int_equal(d.errors[0].line, 2);
        assert_int_equal(d.errors[0].column, 11);
        assert_non_null(strstr(d.errors[0].message, "c1.yaml: include cycle: this file is already being read"));
        policy_diagnostics_clear(&d);

        write_file("m.yaml", "version: 1\ninclude:\n  - nowhere.yaml\n");
        assert_int_equal(load_path("m.yaml", &p, &d), -EINVAL);
        assert_int_equal(d.n_errors, 1);
        assert_int_equal(d.errors[0].line, 3);
        assert_int_equal(d.errors[0].column, 5);
        assert_non_null(strstr(d.errors[0].message, "nowhere.yaml: cannot open: No such file or directory"));
        policy_diagnostics_clear(&d);

        /* A missing top-level file has no position. */
        assert_int_equal(load_path("absent.yaml", &p, &d), -EINVAL);
        assert_int_equal(d.n_errors, 1);
        assert_int_equal(d.errors[0].line, 0);
        assert_string_equal(d.errors[0].message, "cannot open: No such file or directory");
        policy_diagnostics_clear(&d);

        /* Including the same file twice loads it once, with a warning. */
        write_file("leaf.yaml", "version: 1\nrules:\n  - {id: leaf, from: a, to: b, allow: ipc}\n");
        write_file("twice.yaml", "version: 1\ninclude: [leaf.yaml, leaf.yaml]\n");
        assert_int_equal(load_path("twice.yaml", &p, &d), 0);
        assert_int_equal(policy_get_n_rules(p), 1);
        assert_int_equal(d.n_warnings, 1);
        assert_non_null(strstr(d.warnings[0].message, "already loaded, skipped"));
        policy_unref(p);
        policy_diagnostics_clear(&d);
}

/* show's YAML reads back as the same policy. */
static void test_dump_roundtrip(void **state) {
        Policy *p = load_ok(HEAD
                            "  - {from: web, to: db, allow: ipc, endpoint: kv, limit: {rate: 10/s}}\n"
                            "  - {id: 'yes', from: mail, to: viewer, allow: invoke, app: /usr/bin/v, args: ['*.pdf', ...]}\n"
                            "  - {from: '*', to: db, deny: signal, signals: [KILL]}\n"
                            "  - {from: b, to: t, allow: depend, path: /opt/t, until: 2030-01-01T00:00:00Z}\n"
                            "  - {from: c, to: d, allow: transfer, pid: '/usr/bin/*'}\n"
                            "  - {from: c, to: d, allow: transfer, service: kv}\n"
                            "  - {from: c, to: d, allow: transfer, host: true}\n"
                            "  - {from: c, to: d, allow: ipc, endpoint: logs, type: fifo, mode: wo}\n"
                            "  - {from: e, to: d, allow: ipc, ask: {timeout: 1500ms}}\n"
                            "  - {from: f, to: d, allow: ipc, ask: true}\n");
        char *text = NULL, *text2 = NULL;
        size_t len = 0, len2 = 0;
        FILE *f = open_memstream(&text, &len);

        assert_int_equal(policy_dump_yaml(p, f), 0);
        fclose(f);
        assert_non_null(strstr(text, "id: t.yaml:3\n"));
        assert_non_null(strstr(text, "id: \"yes\"\n"));
        assert_non_null(strstr(text, "transfer: none\n"));
        assert_non_null(strstr(text, "mode: ro\n"));
        /* Names other than paths have no mode (it would not load back). */
        assert_non_null(strstr(text, "  pid: /usr/bin/*\n  audit: all\n"));
        assert_non_null(strstr(text, "  service: kv\n  audit: all\n"));
        assert_non_null(strstr(text, "  host: true\n  audit: all\n"));
        assert_non_null(strstr(text, "  type: fifo\n  mode: wo\n"));
        assert_non_null(strstr(text, "  ask:\n    timeout: 1500ms\n"));
        assert_non_null(strstr(text, "  ask:\n    timeout: 30s\n"));

        Policy *q = load_ok(text);
        assert_int_equal(policy_get_n_rules(q), 10);
        assert_int_equal(policy_get_rule(q, 8)->ask_usec, 1500000);
        assert_true(policy_get_rule(q, 6)->host);
        f = open_memstream(&text2, &len2);
        assert_int_equal(policy_dump_yaml(q, f), 0);
        fclose(f);
        assert_string_equal(text, text2);

        free(text);
        text = NULL;
        f = open_memstream(&text, &len);
        assert_int_equal(policy_dump_json(p, f), 0);
        fclose(f);
        assert_non_null(strstr(text, "\"source\": \"t.yaml:3:5\""));
        assert_non_null(strstr(text, "\"deny\": [\n        \"signal\"\n      ]"));
        free(text);
        free(text2);
        policy_unref(p);
        policy_unref(q);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_minimal),
                cmocka_unit_test(test_every_key),
                cmocka_unit_test(test_generated_id),
                cmocka_unit_test(test_default_allow_warns),
                cmocka_unit_test(test_top_level_errors),
                cmocka_unit_test(test_rule_errors),
                cmocka_unit_test(test_transfer_names),
                cmocka_unit_test(test_yaml_errors),
                cmocka_unit_test(test_deep_nesting_stops_reading),
                cmocka_unit_test(test_too_large),
                cmocka_unit_test(test_all_errors_reported),
                cmocka_unit_test(test_error_cap),
                cmocka_unit_test(test_no_include_flag),
                cmocka_unit_test_setup_teardown(test_include_dir, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_whole_load_bounds, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_include_cycle_and_missing, setup_dir, teardown_dir),
                cmocka_unit_test(test_dump_roundtrip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
