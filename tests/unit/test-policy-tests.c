/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Policy tests: the 'tests' list read (every mistake at its position),
 * each case decided, a failing case an error that keeps the policy from
 * loading, and POLICY_LOAD_NO_TESTS leaving them to the caller. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/policy-internal.h"

#define RULES                                           \
        "version: 1\n"                                  \
        "rules:\n"                                      \
        "  - id: web-kv\n"          /* line 3 */        \
        "    from: web\n"                               \
        "    to: db\n"                                  \
        "    allow: ipc\n"                              \
        "    endpoint: kv\n"                            \
        "  - id: no-admin\n"        /* line 8 */        \
        "    from: \"*\"\n"                             \
        "    to: db\n"                                  \
        "    deny: ipc\n"                               \
        "    endpoint: \"admin*\"\n"                    \
        "  - id: web-admin\n"       /* line 13 */       \
        "    from: web\n"                               \
        "    to: db\n"                                  \
        "    allow: ipc\n"                              \
        "    endpoint: admin\n"                         \
        "tests:\n"                  /* line 18 */

static int load(const char *text, PolicyLoadFlags flags, Policy **p, PolicyDiagnostics *d) {
        return policy_load_buffer("t.yaml", text, strlen(text), flags, p, d);
}

/* Loads text, expects failure, and checks the errors are exactly the ones
 * given (NULL-terminated). */
static void expect_errors(const char *text, ...) {
        PolicyDiagnostics d = {};
        Policy *p = NULL;
        va_list ap;
        size_t n = 0;

        assert_int_equal(load(text, 0, &p, &d), -EINVAL);
        assert_null(p);
        va_start(ap, text);
        for (const char *want; (want = va_arg(ap, const char *)); n++) {
                char got[1024];
                assert_true(n < d.n_errors);
                snprintf(got, sizeof(got), "%s:%u:%u: %s", d.errors[n].file, d.errors[n].line, d.errors[n].column,
                         d.errors[n].message);
                assert_string_equal(got, want);
        }
        va_end(ap);
        if (n != d.n_errors)
                policy_diagnostics_print(&d, stderr);
        assert_int_equal(n, d.n_errors);
        policy_diagnostics_clear(&d);
}

static void test_passing(void **state) {
        PolicyDiagnostics d = {};
        Policy *p = NULL;

        assert_int_equal(load(RULES "  - { name: web uses kv, from: web, to: db, kind: ipc, endpoint: kv, "
                                    "expect: allow, rule: web-kv }\n"
                                    "  - { from: web, to: db, kind: ipc, endpoint: admin, expect: deny }\n"
                                    "  - { from: web, to: db, kind: ipc, expect: deny, rule: default }\n",
                              0, &p, &d),
                         0);
        assert_int_equal(d.n_errors, 0);
        assert_int_equal(policy_get_n_tests(p), 3);
        for (size_t i = 0; i < 3; i++) {
                PolicyTestResult t;
                assert_int_equal(policy_test_run(p, i, &t), 0);
                assert_true(t.passed);
                assert_int_equal(t.line, 19 + i);
                assert_int_equal(t.column, 5);
        }
        policy_unref(p);
        policy_diagnostics_clear(&d);
}

static void test_failing(void **state) {
        /* The deny wins over the more specific allow: a test that expects
         * the allow fails, at its own position, naming the deciding rule. */
        expect_errors(RULES "  - { from: web, to: db, kind: ipc, endpoint: kv, expect: allow }\n"
                            "  - name: admin\n"
                            "    from: web\n"
                            "    to: db\n"
                            "    kind: ipc\n"
                            "    endpoint: admin\n"
                            "    expect: allow\n",
                      "t.yaml:20:5: test failed: 'admin': web -> db ipc endpoint=admin: expected allow, got deny "
                      "by rule 'no-admin' (t.yaml:8)",
                      NULL);
        /* The right verdict from the wrong rule fails too. */
        expect_errors(RULES "  - { from: web, to: db, kind: ipc, endpoint: kv, expect: allow, rule: web-admin }\n",
                      "t.yaml:19:5: test failed: web -> db ipc endpoint=kv: expected allow by rule 'web-admin', "
                      "got allow by rule 'web-kv' (t.yaml:3)",
                      NULL);
        expect_errors(RULES "  - { from: web, to: db, kind: ipc, endpoint: kv, expect: allow, rule: web-kvv }\n",
                      "t.yaml:19:5: test failed: web -> db ipc endpoint=kv: expected allow by rule 'web-kvv', "
                      "got allow by rule 'web-kv' (t.yaml:3) (the policy has no rule 'web-kvv')",
                      NULL);
        expect_errors(RULES "  - { from: cron, to: db, kind: ipc, endpoint: kv, expect: allow }\n",
                      "t.yaml:19:5: test failed: cron -> db ipc endpoint=kv: expected allow, got deny by the "
                      "default (no rule matched)",
                      NULL);
}

static void test_no_tests_flag(void **state) {
        PolicyDiagnostics d = {};
        PolicyTestResult t;
        Policy *p = NULL;

        assert_int_equal(load(RULES "  - { from: web, to: db, kind: ipc, endpoint: admin, expect: allow }\n",
                              POLICY_LOAD_NO_TESTS, &p, &d),
                         0);
        assert_int_equal(policy_get_n_tests(p), 1);
        assert_int_equal(policy_test_run(p, 0, &t), 0);
        assert_false(t.passed);
        assert_int_equal(t.expect, POLICY_ALLOW);
        assert_int_equal(t.decision.verdict, POLICY_DENY);
        assert_string_equal(t.decision.rule_id, "no-admin");
        assert_string_equal(t.file, "t.yaml");
        assert_int_equal(policy_test_run(p, 1, &t), -EINVAL);
        policy_unref(p);
        policy_diagnostics_clear(&d);
}

static void test_bad_cases(void **state) {
        expect_errors(RULES "  - { from: web, to: db, kind: ipc, endpoint: kv, expect: allow, app: /bin/x }\n",
                      "t.yaml:19:71: 'app' does not apply to ipc requests", NULL);
        expect_errors(RULES "  - { from: web, to: db, kind: ipc, endpoint: kv }\n", "t.yaml:19:5: test has no 'expect'",
                      NULL);
        expect_errors(RULES "  - { from: \"web*\", to: db, kind: ipc, expect: deny }\n",
                      "t.yaml:19:13: 'from' must be a container name or group/name (no globs: a test is one "
                      "request), not 'web*'",
                      NULL);
        expect_errors(RULES "  - { from: web, to: db, kind: ipc, expect: maybe, color: red }\n",
                      "t.yaml:19:52: unknown key 'color' in test (see TESTS in shuttle-policy(5))",
                      "t.yaml:19:45: 'expect' must be allow or deny, not 'maybe'", NULL);
        expect_errors(RULES "  - { from: web, to: db, kind: chat, expect: deny }\n",
                      "t.yaml:19:32: unknown kind 'chat' (expected ipc, invoke, transfer, depend or signal)", NULL);
        expect_errors(RULES "  - { from: web, to: db, kind: transfer, path: /a, host: true, expect: deny }\n",
                      "t.yaml:19:5: a test names at most one of path, pid, service and host", NULL);
        expect_errors(RULES "  - { from: web, to: db, kind: signal, signal: NOPE, expect: deny }\n",
                      "t.yaml:19:48: unknown signal 'NOPE'", NULL);
        expect_errors(RULES "  - { from: web, to: db, kind: ipc, expect: deny, now: tomorrow }\n",
                      "t.yaml:19:56: invalid time 'tomorrow' (expected RFC 3339 like 2026-12-31T23:59:59Z)", NULL);
        expect_errors(RULES "  - just a string\n",
                      "t.yaml:19:5: a test must be a mapping (from, to, kind, expect...), not a string", NULL);
        expect_errors(RULES "  x: 1\n", "t.yaml:19:3: 'tests' must be a list of test cases, not a mapping", NULL);
}

#define KIND_RULES                                                                                          \
        "version: 1\n"                                                                                      \
        "rules:\n"                                                                                          \
        "  - { id: view, from: mail, to: viewer, allow: invoke, app: /usr/bin/pdfview, args: [\"*.pdf\"] }\n" \
        "  - { id: pass, from: mail, to: viewer, allow: transfer, path: \"/home/**\", mode: rw }\n"           \
        "  - { id: ps, from: mail, to: viewer, allow: transfer, pid: /usr/bin/pdfview }\n"                    \
        "  - { id: term, from: mail, to: viewer, allow: signal, signals: [TERM],"                            \
        " until: \"2027-01-01T00:00:00Z\" }\n"                                                               \
        "  - { id: tree, from: web, to: lib, allow: depend, path: /usr/lib/x }\n"                             \
        "tests:\n"

static void test_kinds_and_time(void **state) {
        static const char *const cases[][2] = {
                { "{ from: mail, to: viewer, kind: invoke, app: /usr/bin/pdfview, args: [a.pdf], expect: ", "allow" },
                { "{ from: mail, to: viewer, kind: invoke, app: /usr/bin/pdfview, args: [a.pdf, b], expect: ", "deny" },
                { "{ from: mail, to: viewer, kind: transfer, path: /home/u/f, mode: rw, expect: ", "allow" },
                { "{ from: mail, to: viewer, kind: transfer, path: /etc/passwd, expect: ", "deny" },
                { "{ from: mail, to: viewer, kind: transfer, pid: /usr/bin/pdfview, rule: ps, expect: ", "allow" },
                { "{ from: mail, to: viewer, kind: transfer, host: true, expect: ", "deny" },
                { "{ from: mail, to: viewer, kind: signal, signal: TERM, now: \"2026-06-01T00:00:00Z\", expect: ",
                  "allow" },
                { "{ from: mail, to: viewer, kind: signal, signal: TERM, now: \"2027-06-01T00:00:00Z\", expect: ",
                  "deny" },
                { "{ from: mail, to: viewer, kind: signal, signal: KILL, now: \"2026-06-01T00:00:00Z\", expect: ",
                  "deny" },
                /* Expired: denied by the default, reason expired, naming
                 * the rule; a case may expect either. */
                { "{ from: mail, to: viewer, kind: signal, signal: TERM, now: \"2027-06-01T00:00:00Z\", rule: default, "
                  "expect: ", "deny" },
                { "{ from: mail, to: viewer, kind: signal, signal: TERM, now: \"2027-06-01T00:00:00Z\", rule: term, "
                  "expect: ", "deny" },
                { "{ from: web, to: lib, kind: depend, path: /usr/lib/x, expect: ", "allow" },
                { "{ from: web, to: lib, kind: depend, path: /usr/lib/x, mode: rw, expect: ", "deny" },
                { "{ from: web, to: lib, kind: depend, service: lib, expect: ", "deny" },
        };

        /* Each case passes as written, and fails with the other verdict. */
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                for (int flip = 0; flip < 2; flip++) {
                        PolicyDiagnostics d = {};
                        Policy *p = NULL;
                        char text[2048];
                        const char *verdict = !flip ? cases[i][1] : streq(cases[i][1], "allow") ? "deny" : "allow";

                        snprintf(text, sizeof(text), KIND_RULES "  - %s%s }\n", cases[i][0], verdict);
                        if (load(text, 0, &p, &d) != (flip ? -EINVAL : 0)) {
                                policy_diagnostics_print(&d, stderr);
                                fail_msg("case %zu (%s)", i, verdict);
                        }
                        if (flip)
                                assert_int_equal(d.n_errors, 1);
                        policy_unref(p);
                        policy_diagnostics_clear(&d);
                }
}

static void test_request_format(void **state) {
        const char *args[] = { "a.pdf", "b" };
        PolicyRequest req = { .from = "g/mail", .to = "viewer", .kind = POLICY_KIND_INVOKE, .object = "/bin/v",
                              .args = args, .n_args = 2 };
        char buf[64];

        policy_request_format(&req, buf, sizeof(buf));
        assert_string_equal(buf, "g/mail -> viewer invoke app=/bin/v a.pdf b");
        req = (PolicyRequest) { .from = "a", .to = "b", .kind = POLICY_KIND_TRANSFER, .name_kind = POLICY_NAME_HOST };
        policy_request_format(&req, buf, sizeof(buf));
        assert_string_equal(buf, "a -> b transfer host");
        /* Truncated, still terminated. */
        policy_request_format(&req, buf, 5);
        assert_string_equal(buf, "a ->");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_passing),
                cmocka_unit_test(test_failing),
                cmocka_unit_test(test_no_tests_flag),
                cmocka_unit_test(test_bad_cases),
                cmocka_unit_test(test_kinds_and_time),
                cmocka_unit_test(test_request_format),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
