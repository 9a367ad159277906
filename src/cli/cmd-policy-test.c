/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl policy test: runs the 'tests' cases of policy files (TAP or
 * JSON).  The policy library reads and decides them; this prints. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/verb-options.h"
#include "cli/verbs.h"
#include "common/log.h"
#include "common/parse.h"
#include "policy/policy.h"

static void help_test(void) {
        printf("Usage: shuttlectl policy test FILE... [--json]\n\n"
               "Load the files as one policy and decide each case of their 'tests' lists\n"
               "(shuttle-policy(5), TESTS).  Prints TAP: one 'ok' or 'not ok' line per case\n"
               "with its FILE:LINE:COL, the request and the decision (for a failure, what\n"
               "was expected).\n\n"
               "  --json              print a JSON array, one object per case\n"
               "  -h, --help          show this help\n\n"
               "Exit status: 0 every case passed, 1 a case failed, the policy is invalid or\n"
               "it has no tests, 2 usage error.\n");
}

static json_t *request_json(const PolicyRequest *req) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "from", req->from, "to", req->to, "kind",
                              policy_kind_to_string(req->kind));
        if (!o)
                return NULL;
        if (req->object)
                json_object_set_new(o, "object", json_string(req->object));
        if (req->kind == POLICY_KIND_TRANSFER)
                json_object_set_new(o, "name", json_string(policy_name_to_string(req->name_kind)));
        if (req->kind == POLICY_KIND_IPC && req->ipc_type != POLICY_IPC_ANY)
                json_object_set_new(o, "type", json_string(policy_ipc_type_to_string(req->ipc_type)));
        if (req->mode != POLICY_MODE_NONE)
                json_object_set_new(o, "mode", json_string(policy_mode_to_string(req->mode)));
        if (req->signal > 0)
                json_object_set_new(o, "signal", json_integer(req->signal));
        if (req->n_args > 0) {
                json_t *a = json_array();
                for (size_t i = 0; i < req->n_args; i++)
                        json_array_append_new(a, json_string(req->args[i]));
                json_object_set_new(o, "args", a);
        }
        return o;
}

static json_t *result_json(const PolicyTestResult *t) {
        const PolicyDecision *d = &t->decision;

        return json_pack("{s:s, s:i, s:i, s:s?, s:o, s:s, s:s?, s:s, s:s, s:s?, s:i, s:b}", "file", t->file, "line",
                         (json_int_t) t->line, "column", (json_int_t) t->column, "name", t->name, "request",
                         request_json(t->request), "expect", policy_verdict_to_string(t->expect), "expect_rule",
                         t->expect_rule, "decision", policy_verdict_to_string(d->verdict), "rule", d->rule_id,
                         "rule_file", d->rule_file, "rule_line", (json_int_t) d->rule_line, "passed", t->passed);
}

/* TAP reads " # " in a test line as a directive (SKIP, TODO). */
static void print_tap_text(const char *s) {
        for (; *s; s++) {
                if (*s == '#' || *s == '\\')
                        putchar('\\');
                putchar(*s);
        }
}

/* A word as the shell reads it back. */
static void print_shell_word(const char *s) {
        if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=@%+,-") == strlen(s)) {
                fputs(s, stdout);
                return;
        }
        putchar('\'');
        for (; *s; s++)
                if (*s == '\'')
                        fputs("'\\''", stdout);
                else
                        putchar(*s);
        putchar('\'');
}

static void print_opt(const char *opt, const char *value) {
        printf(" %s", opt);
        if (value) {
                putchar(' ');
                print_shell_word(value);
        }
}

/* The 'policy explain' command line that looks into a case. */
static void print_explain_hint(const PolicyRequest *req, char **files, size_t n_files) {
        static const char *const name_opts[_POLICY_NAME_MAX] = {
                [POLICY_NAME_PATH] = "--path",
                [POLICY_NAME_PID] = "--pid",
                [POLICY_NAME_SERVICE] = "--service",
        };
        const char *object_opt = NULL;

        printf("# look into it: shuttlectl policy explain");
        for (size_t i = 0; i < n_files; i++) {
                putchar(' ');
                print_shell_word(files[i]);
        }
        print_opt("--from", req->from);
        print_opt("--to", req->to);
        print_opt("--kind", policy_kind_to_string(req->kind));
        switch (req->kind) {
        case POLICY_KIND_IPC:
                object_opt = "--endpoint";
                break;
        case POLICY_KIND_INVOKE:
        case POLICY_KIND_SIGNAL:
                object_opt = "--app";
                break;
        case POLICY_KIND_TRANSFER:
                if (req->name_kind == POLICY_NAME_HOST)
                        print_opt("--host", NULL);
                else
                        object_opt = name_opts[req->name_kind];
                break;
        case POLICY_KIND_DEPEND:
                object_opt = req->object && req->object[0] == '/' ? "--path" : "--service";
                break;
        default:
                break;
        }
        if (object_opt && req->object)
                print_opt(object_opt, req->object);
        if (req->kind == POLICY_KIND_IPC && req->ipc_type != POLICY_IPC_ANY)
                print_opt("--type", policy_ipc_type_to_string(req->ipc_type));
        for (size_t i = 0; i < req->n_args; i++)
                print_opt("--arg", req->args[i]);
        for (size_t i = 0; i < req->n_env; i++)
                print_opt("--env", req->env[i]);
        if (req->mode != POLICY_MODE_NONE)
                print_opt("--mode", policy_mode_to_string(req->mode));
        if (req->signal > 0)
                printf(" --signal %d", req->signal);
        if (req->now != 0) {
                char ts[64];
                struct tm tm;
                if (gmtime_r(&req->now, &tm) && strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
                        print_opt("--now", ts);
        }
        putchar('\n');
}

int policy_verb_test(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, 'j' },
                {},
        };
        _cleanup_(policy_unrefp) Policy *p = NULL;
        PolicyDiagnostics d = {};
        json_t *all = NULL;
        bool json = false;
        size_t n, failed = 0;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help_test();
                        return 0;
                case 'j':
                        json = true;
                        break;
                default:
                        return verb_option_error("policy test", c, argv);
                }
        if (optind >= argc) {
                log_error("policy test: no FILE given (see 'shuttlectl policy test --help')");
                return EXIT_USAGE;
        }
        /* The cases are run here, each reported, not as load errors. */
        r = policy_load_flags((const char *const *) argv + optind, (size_t) (argc - optind), POLICY_LOAD_NO_TESTS, &p,
                              &d);
        policy_diagnostics_print(&d, stderr);
        policy_diagnostics_clear(&d);
        if (r == -EINVAL)
                return 1;
        if (r < 0)
                return log_error_errno(r, "Failed to load policy: %m"), 1;
        n = policy_get_n_tests(p);
        if (n == 0) {
                log_error("policy test: the files given have no 'tests' (see TESTS in shuttle-policy(5))");
                return 1;
        }
        if (json)
                all = json_array();
        else
                printf("1..%zu\n", n);
        for (size_t i = 0; i < n; i++) {
                PolicyTestResult t;
                char what[512], got[512];

                r = policy_test_run(p, i, &t);
                if (r < 0) {
                        json_decref(all);
                        return log_error_errno(r, "Failed to run test %zu: %m", i + 1), 1;
                }
                failed += !t.passed;
                if (json) {
                        json_array_append_new(all, result_json(&t));
                        continue;
                }
                policy_request_format(t.request, what, sizeof(what));
                policy_test_result_format(&t, got, sizeof(got));
                printf("%s %zu - %s:%u:%u: ", t.passed ? "ok" : "not ok", i + 1, t.file, t.line, t.column);
                if (t.name) {
                        print_tap_text(t.name);
                        fputs(": ", stdout);
                }
                print_tap_text(what);
                fputs(": ", stdout);
                print_tap_text(got);
                putchar('\n');
                if (t.passed)
                        continue;
                if (t.expect_rule && !policy_find_rule(p, t.expect_rule))
                        printf("# the policy has no rule '%s'\n", t.expect_rule);
                print_explain_hint(t.request, argv + optind, (size_t) (argc - optind));
        }
        if (json) {
                json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
                json_decref(all);
        } else if (failed)
                printf("# %zu of %zu test%s failed\n", failed, n, n == 1 ? "" : "s");
        return failed ? 1 : 0;
}
