/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl policy lint: rules that never decide, patterns that name no
 * container of the groups given, rules the audit log never shows deciding.
 * The findings come from the policy library (policy_lint()); this reads
 * the group files and the audit log it needs. */
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
#include "common/time-util.h"
#include "policy/policy.h"
#include "runtime/group.h"
#include "shuttle/audit/audit.h"

#define EXIT_CANNOT 3

static void help_lint(void) {
        printf("Usage: shuttlectl policy lint [OPTIONS...] FILE...\n"
               "       shuttlectl policy lint [OPTIONS...] --group GROUP.yaml...\n\n"
               "Find rules that can never decide a request (another rule matches every\n"
               "request they match and wins), container patterns that match no container of\n"
               "the app groups given, and, with --audit, rules that decided nothing in the\n"
               "log.  With FILE, the files are linted as one policy; without, the policy of\n"
               "each --group file is, as that group's own.  Prints each finding as\n"
               "FILE:LINE:COL: KIND: MESSAGE (KIND shadowed, no-container or unused).\n\n"
               "  --group FILE        an app group file: its containers are known (repeat)\n"
               "  --audit LOG         the audit log (and its rotated files) to look for use in\n"
               "  --since TIME        only records at or after TIME: RFC 3339 or an age\n"
               "                      (30s, 10m, 168h)\n"
               "  --json              print a JSON array, one object per finding\n"
               "  -h, --help          show this help\n\n"
               "Exit status: 0 no findings, 1 findings, 2 usage error, 3 a file or the log\n"
               "could not be read (an invalid policy).\n");
}

typedef struct LintArgs {
        const char **groups;
        size_t n_groups;
        const char *audit;
        uint64_t since_usec;
        bool json;
} LintArgs;

/* The rule ids the audit log names, as a set (object keys). */
static int read_used(const char *path, uint64_t since_usec, const char *group, json_t **ret) {
        _cleanup_(audit_reader_freep) AuditReader *reader = NULL;
        AuditFilter filter = { .since_usec = since_usec };
        json_t *set = json_object();
        int r;

        if (!set)
                return log_oom();
        r = audit_reader_open(path, true, &reader);
        if (r < 0) {
                json_decref(set);
                return log_error_errno(r, "policy lint: cannot read the audit log '%s': %m", path);
        }
        for (;;) {
                json_t *rec = NULL;
                const char *rule, *g;

                r = audit_reader_next(reader, &rec, NULL, NULL);
                if (r == -EBADMSG)
                        continue;  /* not a record: it decided nothing */
                if (r < 0) {
                        json_decref(set);
                        return log_error_errno(r, "policy lint: cannot read '%s': %m", audit_reader_get_file(reader));
                }
                if (r == 0)
                        break;
                rule = json_string_value(json_object_get(rec, "rule"));
                g = json_string_value(json_object_get(rec, "group"));
                if (rule && audit_filter_match(&filter, rec) && (!group || (g && streq(g, group))))
                        json_object_set_new(set, rule, json_true());
                json_decref(rec);
        }
        *ret = set;
        return 0;
}

static bool used_in(const char *id, void *userdata) {
        return json_object_get(userdata, id) != NULL;
}

/* One policy: lint it, print its findings; returns the number of findings
 * or a negative errno (already logged). */
static int lint_one(const Policy *p, const char *what, const PolicyLintGroup *groups, size_t n_groups,
                    const char *own_group, const LintArgs *a, json_t *all, size_t *n_not_audited) {
        _cleanup_(json_decrefp) json_t *used = NULL;
        PolicyLintResult res = {};
        PolicyLintOptions o = {
                .groups = groups,
                .n_groups = n_groups,
                .own_group = own_group,
        };
        int r;

        if (a->audit) {
                r = read_used(a->audit, a->since_usec, own_group, &used);
                if (r < 0)
                        return r;
                o.used = used_in;
                o.userdata = used;
        }
        r = policy_lint(p, &o, &res);
        if (r < 0)
                return log_error_errno(r, "policy lint: %s: %m", what);
        for (size_t i = 0; i < res.n_findings; i++) {
                const PolicyLintFinding *f = &res.findings[i];
                const char *kind = policy_lint_kind_to_string(f->kind);

                if (all) {
                        json_t *j = json_pack("{s:s, s:i, s:i, s:s, s:s, s:s}", "file", policy_rule_get_file(f->rule),
                                              "line", (json_int_t) policy_rule_get_line(f->rule), "column",
                                              (json_int_t) policy_rule_get_column(f->rule), "kind", kind, "rule",
                                              policy_rule_get_id(f->rule), "message", f->message);
                        if (j && f->by)
                                json_object_set_new(j, "by", json_pack("{s:s, s:s, s:i, s:i}", "rule",
                                                                       policy_rule_get_id(f->by), "file",
                                                                       policy_rule_get_file(f->by), "line",
                                                                       (json_int_t) policy_rule_get_line(f->by),
                                                                       "column",
                                                                       (json_int_t) policy_rule_get_column(f->by)));
                        if (j && own_group)
                                json_object_set_new(j, "group", json_string(own_group));
                        json_array_append_new(all, j);
                } else
                        printf("%s:%u:%u: %s: %s\n", policy_rule_get_file(f->rule), policy_rule_get_line(f->rule),
                               policy_rule_get_column(f->rule), kind, f->message);
        }
        *n_not_audited += res.n_not_audited;
        r = (int) res.n_findings;
        policy_lint_result_clear(&res);
        return r;
}

int policy_verb_lint(int argc, char **argv) {
        enum { ARG_GROUP = 0x100, ARG_AUDIT, ARG_SINCE, ARG_JSON };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "group", required_argument, NULL, ARG_GROUP },
                { "audit", required_argument, NULL, ARG_AUDIT },
                { "since", required_argument, NULL, ARG_SINCE },
                { "json", no_argument, NULL, ARG_JSON },
                {},
        };
        _cleanup_free_ const char **group_paths = NULL;
        _cleanup_free_ Group **groups = NULL;
        _cleanup_free_ PolicyLintGroup *known = NULL;
        _cleanup_(json_decrefp) json_t *all = NULL;
        LintArgs a = {};
        const char *since = NULL;
        size_t n_findings = 0, n_not_audited = 0;
        int c, r, ret = 0;

        optind = 0;
        group_paths = calloc((size_t) argc, sizeof(char *));
        if (!group_paths)
                return log_oom(), EXIT_CANNOT;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help_lint();
                        return 0;
                case ARG_GROUP:
                        group_paths[a.n_groups++] = optarg;
                        break;
                case ARG_AUDIT:
                        a.audit = optarg;
                        break;
                case ARG_SINCE:
                        since = optarg;
                        if (audit_parse_since(optarg, clock_usec(CLOCK_REALTIME), &a.since_usec) < 0) {
                                log_error("policy lint: invalid --since '%s' (expected an RFC 3339 time such as "
                                          "2026-05-01T12:00:00Z, or an age such as 10m, 1h, 168h)", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_JSON:
                        a.json = true;
                        break;
                default:
                        return verb_option_error("policy lint", c, argv);
                }
        if (since && !a.audit) {
                log_error("policy lint: --since needs --audit LOG");
                return EXIT_USAGE;
        }
        if (optind >= argc && a.n_groups == 0) {
                log_error("policy lint: no FILE and no --group given (see 'shuttlectl policy lint --help')");
                return EXIT_USAGE;
        }

        groups = calloc(a.n_groups + 1, sizeof(Group *));
        known = calloc(a.n_groups + 1, sizeof(PolicyLintGroup));
        if (!groups || !known)
                return log_oom(), EXIT_CANNOT;
        for (size_t i = 0; i < a.n_groups; i++) {
                PolicyDiagnostics d = {};
                const char **names;

                r = group_load(group_paths[i], &groups[i], &d);
                policy_diagnostics_print(&d, stderr);
                policy_diagnostics_clear(&d);
                if (r < 0) {
                        if (r != -EINVAL)
                                log_error_errno(r, "policy lint: cannot read '%s': %m", group_paths[i]);
                        ret = EXIT_CANNOT;
                        goto finish;
                }
                names = calloc(groups[i]->n_containers + 1, sizeof(char *));
                if (!names) {
                        log_oom();
                        ret = EXIT_CANNOT;
                        goto finish;
                }
                for (size_t k = 0; k < groups[i]->n_containers; k++)
                        names[k] = groups[i]->containers[k].name;
                known[i] = (PolicyLintGroup) { .name = groups[i]->name, .containers = names,
                                               .n_containers = groups[i]->n_containers };
        }
        if (a.json && !(all = json_array())) {
                log_oom();
                ret = EXIT_CANNOT;
                goto finish;
        }

        if (optind < argc) {
                _cleanup_(policy_unrefp) Policy *p = NULL;
                PolicyDiagnostics d = {};

                /* Tests are policy test's business: lint what loads. */
                r = policy_load_flags((const char *const *) argv + optind, (size_t) (argc - optind),
                                      POLICY_LOAD_NO_TESTS, &p, &d);
                policy_diagnostics_print(&d, stderr);
                policy_diagnostics_clear(&d);
                if (r < 0) {
                        if (r != -EINVAL)
                                log_error_errno(r, "policy lint: failed to load the policy: %m");
                        ret = EXIT_CANNOT;
                        goto finish;
                }
                r = lint_one(p, argv[optind], known, a.n_groups, NULL, &a, all, &n_not_audited);
                if (r < 0) {
                        ret = EXIT_CANNOT;
                        goto finish;
                }
                n_findings += (size_t) r;
        } else
                for (size_t i = 0; i < a.n_groups; i++) {
                        if (!groups[i]->policy) {
                                fprintf(stderr, "%s: group %s has no policy of its own (its containers fall under "
                                                "shuttled's): nothing to lint\n", group_paths[i], groups[i]->name);
                                continue;
                        }
                        r = lint_one(groups[i]->policy, group_paths[i], known, a.n_groups, groups[i]->name, &a, all,
                                     &n_not_audited);
                        if (r < 0) {
                                ret = EXIT_CANNOT;
                                goto finish;
                        }
                        n_findings += (size_t) r;
                }

        if (all) {
                json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
        } else {
                if (n_not_audited > 0)
                        fprintf(stderr, "policy lint: %zu rule%s not judged for use: %s decisions are not "
                                        "audited (audit: deny or none)\n", n_not_audited,
                                n_not_audited == 1 ? "" : "s", n_not_audited == 1 ? "its" : "their");
                fprintf(stderr, "policy lint: %zu finding%s\n", n_findings, n_findings == 1 ? "" : "s");
        }
        ret = n_findings > 0 ? 1 : 0;
finish:
        for (size_t i = 0; i < a.n_groups; i++) {
                free((void *) known[i].containers);
                group_free(groups[i]);
        }
        return ret;
}
