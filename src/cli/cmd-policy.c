/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl policy check|explain|show: a thin front end to src/policy. */
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
#include "shuttle/host/broker-client.h"

#define ARGS_MAX 256

static void help_check(void) {
        printf("Usage: shuttlectl policy check FILE...\n\n"
               "Check each policy file (with its includes) on its own, and run its tests.\n"
               "Prints a summary per valid file; prints every error (a failing test too)\n"
               "as FILE:LINE:COL: MESSAGE on stderr.\n"
               "Exit status: 0 all valid, 1 any invalid, 2 usage error.\n");
}

static void help_explain(void) {
        printf("Usage: shuttlectl policy explain FILE... --from A --to B --kind KIND [OBJECT] [--json]\n\n"
               "Decide one request against the policy and explain the decision.\n\n"
               "  --from NAME         calling container (name or group/name)\n"
               "  --to NAME           target container\n"
               "  --kind KIND         ipc, invoke, transfer, depend or signal\n"
               "  --endpoint NAME     ipc: the service\n"
               "  --type TYPE         ipc: unix, tcp, fifo, mq or shm\n"
               "  --app PATH          invoke: the application; signal: the target process\n"
               "  --arg ARG           invoke: an argument (repeat, in order)\n"
               "  --env NAME          invoke: an environment variable to pass (repeat)\n"
               "  --path PATH         transfer: the path in FROM; depend: the tree\n"
               "  --pid APP           transfer: a process of APP (its executable in TO)\n"
               "  --service NAME      transfer: a service TO exports;\n"
               "                      depend: an ordering-only dependency\n"
               "  --host              transfer: the host name of TO\n"
               "  --mode ro|wo|rw     transfer/depend: access wanted, ro or rw (default ro);\n"
               "                      ipc: the end of a FIFO wanted, ro or wo\n"
               "  --signal SIG        signal: the signal (TERM, SIGTERM, 15)\n"
               "  --now TIME          decide as of TIME (RFC 3339), default now\n"
               "  --json              print JSON\n"
               "Exit status: 0 decided (allow or deny), 1 invalid policy, 2 usage error.\n");
}

static void help_show(void) {
        printf("Usage: shuttlectl policy show FILE... [--json]\n\n"
               "Print the normalised policy (includes resolved, defaults filled in) as\n"
               "YAML, or as JSON with --json.\n");
}

static void help_reload(void) {
        printf("Usage: shuttlectl policy reload [--state-dir DIR] [--json]\n\n"
               "Ask the running shuttled to re-read its policy files, and each running\n"
               "group's policy from its group file (inline, or the file it names), and\n"
               "print what was read: each file and its number of rules.  All or nothing:\n"
               "if any file has an error, none is applied, the errors are printed and\n"
               "every old policy keeps serving.\n"
               "Exit status: 0 reloaded, 1 refused or no broker, 2 usage error.\n\n"
               "  --state-dir DIR     the broker's state directory (default /run/shuttle)\n"
               "  --json              print the broker's answer as JSON\n"
               "  -h, --help          show this help\n");
}

static void help_policy(void) {
        printf("Usage: shuttlectl policy COMMAND ...\n\n"
               "Commands:\n"
               "  check FILE...          validate policy files\n"
               "  explain FILE... ...    decide a request and explain why\n"
               "  show FILE... [--json]  print the normalised policy\n"
               "  reload                 make the running broker re-read its policies\n"
               "  reach FILE... --from A [--to B]\n"
               "                         what A can affect, directly or through others\n"
               "  test FILE... [--json]  run the policy's tests\n"
               "  lint FILE...           find rules that never decide, or are unused\n"
               "  shadow [FILE...|--clear]\n"
               "                         try a policy in shadow beside the broker's\n"
               "  draft --audit LOG      write the policy that allows what the log shows\n\n"
               "See 'shuttlectl policy COMMAND --help' and shuttle-policy(5).\n");
}

static int load(char **paths, size_t n, Policy **ret) {
        PolicyDiagnostics d = {};
        int r;

        /* Tests are not run here: explain is how a failing one is looked into. */
        r = policy_load_flags((const char *const *) paths, n, POLICY_LOAD_NO_TESTS, ret, &d);
        policy_diagnostics_print(&d, stderr);
        policy_diagnostics_clear(&d);
        if (r == -EINVAL)
                return -EINVAL;
        if (r < 0)
                return log_error_errno(r, "Failed to load policy: %m");
        return 0;
}

static int do_check(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool failed = false;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help_check();
                        return 0;
                default:
                        return verb_option_error("policy check", c, argv);
                }
        if (optind >= argc) {
                log_error("policy check: no FILE given (see 'shuttlectl policy check --help')");
                return EXIT_USAGE;
        }
        for (int i = optind; i < argc; i++) {
                _cleanup_(policy_unrefp) Policy *p = NULL;
                PolicyDiagnostics d = {};
                int r;

                r = policy_load((const char *const *) &argv[i], 1, &p, &d);
                policy_diagnostics_print(&d, stderr);
                if (r < 0) {
                        if (r != -EINVAL)
                                log_error_errno(r, "Failed to load '%s': %m", argv[i]);
                        else
                                fprintf(stderr, "%s: invalid policy (%zu error%s)\n", argv[i], d.n_errors,
                                        d.n_errors == 1 ? "" : "s");
                        failed = true;
                } else {
                        printf("%s: valid, %zu rule%s (", argv[i], policy_get_n_rules(p),
                               policy_get_n_rules(p) == 1 ? "" : "s");
                        for (PolicyKind k = 0; k < _POLICY_KIND_MAX; k++)
                                printf("%s%s %zu", k ? ", " : "", policy_kind_to_string(k),
                                       policy_get_n_rules_for_kind(p, k));
                        printf("), default %s, audit %s, ", policy_verdict_to_string(policy_get_default(p)),
                               policy_audit_to_string(policy_get_audit(p)));
                        /* (A failing test is an error: these passed.) */
                        if (policy_get_n_tests(p) > 0)
                                printf("%zu test%s passed, ", policy_get_n_tests(p),
                                       policy_get_n_tests(p) == 1 ? "" : "s");
                        printf("%zu warning%s\n", d.n_warnings, d.n_warnings == 1 ? "" : "s");
                }
                policy_diagnostics_clear(&d);
        }
        return failed ? 1 : 0;
}

static int do_explain(int argc, char **argv) {
        enum {
                ARG_FROM = 0x100, ARG_TO, ARG_KIND, ARG_ENDPOINT, ARG_TYPE, ARG_APP, ARG_ARG, ARG_ENV,
                ARG_PATH, ARG_SERVICE, ARG_MODE, ARG_SIGNAL, ARG_NOW, ARG_JSON, ARG_PID, ARG_HOST,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "from", required_argument, NULL, ARG_FROM },
                { "to", required_argument, NULL, ARG_TO },
                { "kind", required_argument, NULL, ARG_KIND },
                { "endpoint", required_argument, NULL, ARG_ENDPOINT },
                { "type", required_argument, NULL, ARG_TYPE },
                { "app", required_argument, NULL, ARG_APP },
                { "arg", required_argument, NULL, ARG_ARG },
                { "env", required_argument, NULL, ARG_ENV },
                { "path", required_argument, NULL, ARG_PATH },
                { "service", required_argument, NULL, ARG_SERVICE },
                { "pid", required_argument, NULL, ARG_PID },
                { "host", no_argument, NULL, ARG_HOST },
                { "mode", required_argument, NULL, ARG_MODE },
                { "signal", required_argument, NULL, ARG_SIGNAL },
                { "now", required_argument, NULL, ARG_NOW },
                { "json", no_argument, NULL, ARG_JSON },
                {},
        };
        _cleanup_(policy_unrefp) Policy *p = NULL;
        PolicyExplanation e = {};
        PolicyRequest req = { .kind = _POLICY_KIND_INVALID, .now = time(NULL) };
        const char *args[ARGS_MAX], *env[ARGS_MAX];
        const char *endpoint = NULL, *app = NULL, *path = NULL, *service = NULL, *signal = NULL, *pid = NULL;
        bool json = false, host = false;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help_explain();
                        return 0;
                case ARG_FROM:
                        req.from = optarg;
                        break;
                case ARG_TO:
                        req.to = optarg;
                        break;
                case ARG_KIND:
                        req.kind = policy_kind_from_string(optarg);
                        if (req.kind < 0) {
                                log_error("unknown kind '%s' (ipc, invoke, transfer, depend or signal)", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_ENDPOINT:
                        endpoint = optarg;
                        break;
                case ARG_TYPE:
                        req.ipc_type = policy_ipc_type_from_string(optarg);
                        if (req.ipc_type <= POLICY_IPC_ANY) {
                                log_error("unknown ipc type '%s' (unix, tcp, fifo, mq or shm)", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_APP:
                        app = optarg;
                        break;
                case ARG_ARG:
                        if (req.n_args >= ARGS_MAX) {
                                log_error("too many --arg");
                                return EXIT_USAGE;
                        }
                        args[req.n_args++] = optarg;
                        break;
                case ARG_ENV:
                        if (req.n_env >= ARGS_MAX) {
                                log_error("too many --env");
                                return EXIT_USAGE;
                        }
                        env[req.n_env++] = optarg;
                        break;
                case ARG_PATH:
                        path = optarg;
                        break;
                case ARG_SERVICE:
                        service = optarg;
                        break;
                case ARG_PID:
                        pid = optarg;
                        break;
                case ARG_HOST:
                        host = true;
                        break;
                case ARG_MODE:
                        req.mode = policy_mode_from_string(optarg);
                        if (req.mode <= POLICY_MODE_NONE) {
                                log_error("--mode must be ro, wo or rw, not '%s'", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_SIGNAL:
                        signal = optarg;
                        if (parse_signal(optarg, &req.signal) < 0) {
                                log_error("unknown signal '%s'", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_NOW:
                        if (policy_parse_timestamp(optarg, &req.now) < 0) {
                                log_error("--now must be RFC 3339 like 2026-01-31T12:00:00Z, not '%s'", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                default:
                        return verb_option_error("policy explain", c, argv);
                }

        if (optind >= argc) {
                log_error("policy explain: no FILE given (see 'shuttlectl policy explain --help')");
                return EXIT_USAGE;
        }
        if (!req.from || !req.to || req.kind < 0) {
                log_error("policy explain needs --from, --to and --kind");
                return EXIT_USAGE;
        }

        /* Exactly the object options that fit the kind. */
        static const struct {
                PolicyKind kind;
                bool endpoint, app, args, path, service, signal, mode, type, pid, host;
        } fits[] = {
                { POLICY_KIND_IPC, .endpoint = true, .type = true, .mode = true },
                { POLICY_KIND_INVOKE, .app = true, .args = true },
                { POLICY_KIND_TRANSFER, .path = true, .mode = true, .service = true, .pid = true, .host = true },
                { POLICY_KIND_DEPEND, .path = true, .service = true, .mode = true },
                { POLICY_KIND_SIGNAL, .app = true, .signal = true },
        };
        const char *bad = (endpoint && !fits[req.kind].endpoint) ? "--endpoint" :
                          (app && !fits[req.kind].app) ? "--app" :
                          ((req.n_args || req.n_env) && !fits[req.kind].args) ? "--arg/--env" :
                          (path && !fits[req.kind].path) ? "--path" :
                          (service && !fits[req.kind].service) ? "--service" :
                          (signal && !fits[req.kind].signal) ? "--signal" :
                          (req.mode && !fits[req.kind].mode) ? "--mode" :
                          (req.ipc_type && !fits[req.kind].type) ? "--type" :
                          (pid && !fits[req.kind].pid) ? "--pid" :
                          (host && !fits[req.kind].host) ? "--host" : NULL;
        if (bad) {
                log_error("%s does not apply to --kind %s", bad, policy_kind_to_string(req.kind));
                return EXIT_USAGE;
        }
        if (!!path + !!service + !!pid + host > 1) {
                log_error("--path, --pid, --service and --host exclude each other");
                return EXIT_USAGE;
        }
        if (req.mode == POLICY_MODE_WO && req.kind != POLICY_KIND_IPC) {
                log_error("--mode wo is for --kind ipc (the write end of a FIFO)");
                return EXIT_USAGE;
        }
        if (req.kind == POLICY_KIND_TRANSFER && req.mode && (service || pid || host)) {
                log_error("--mode is for paths only");
                return EXIT_USAGE;
        }
        if (req.kind == POLICY_KIND_TRANSFER)
                req.name_kind = pid ? POLICY_NAME_PID : service ? POLICY_NAME_SERVICE :
                                host ? POLICY_NAME_HOST : POLICY_NAME_PATH;
        req.object = endpoint ?: app ?: path ?: service ?: pid;
        req.args = args;
        req.env = env;

        r = load(argv + optind, (size_t) (argc - optind), &p);
        if (r < 0)
                return 1;
        r = policy_explain(p, &req, &e);
        if (r < 0) {
                log_error_errno(r, "Failed to decide: %m");
                return 1;
        }
        if (json)
                r = policy_explanation_print_json(&e, &req, stdout);
        else {
                policy_explanation_print(&e, stdout);
                for (size_t i = 0; i < req.n_env; i++)
                        if (e.decision.verdict == POLICY_ALLOW)
                                printf("env %s: %s\n", env[i],
                                       policy_decision_env_allowed(&e.decision, env[i]) ? "passed" : "dropped");
        }
        policy_explanation_clear(&e);
        return r < 0 ? 1 : 0;
}

static int do_show(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, 'j' },
                {},
        };
        _cleanup_(policy_unrefp) Policy *p = NULL;
        bool json = false;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help_show();
                        return 0;
                case 'j':
                        json = true;
                        break;
                default:
                        return verb_option_error("policy show", c, argv);
                }
        if (optind >= argc) {
                log_error("policy show: no FILE given (see 'shuttlectl policy show --help')");
                return EXIT_USAGE;
        }
        r = load(argv + optind, (size_t) (argc - optind), &p);
        if (r < 0)
                return 1;
        r = json ? policy_dump_json(p, stdout) : policy_dump_yaml(p, stdout);
        if (r < 0) {
                log_error_errno(r, "Failed to write the policy: %m");
                return 1;
        }
        return 0;
}

/* One line per policy of the reload's reply: what was read, how many
 * rules, and what became of it. */
static void print_reload_items(json_t *reply, FILE *f) {
        json_t *node = json_object_get(reply, "policy"), *groups = json_object_get(reply, "groups"), *g, *v;
        size_t i;

        if (node) {
                json_t *files = json_object_get(node, "files");
                const char *st = json_string_value(json_object_get(node, "status")) ?: "";

                fprintf(f, "  shuttled: ");
                if (json_array_size(files) == 0)
                        fprintf(f, "built-in policy (no --policy: deny everything)");
                json_array_foreach(files, i, v)
                        fprintf(f, "%s%s", i ? ", " : "", json_string_value(v) ?: "?");
                if (streq(st, "refused"))
                        fprintf(f, ": refused\n");
                else
                        fprintf(f, ": %" JSON_INTEGER_FORMAT " rules%s\n",
                                json_integer_value(json_object_get(node, "rules")),
                                streq(st, "reloaded") ? "" : ", not applied");
        }
        json_array_foreach(groups, i, g) {
                const char *name = json_string_value(json_object_get(g, "group")) ?: "?";
                const char *source = json_string_value(json_object_get(g, "source"));
                const char *pfile = json_string_value(json_object_get(g, "policy_file"));
                const char *st = json_string_value(json_object_get(g, "status")) ?: "";
                json_int_t rules = json_integer_value(json_object_get(g, "rules"));

                if (streq(st, "refused"))
                        fprintf(f, "  group %s (%s): refused\n", name, source ?: "?");
                else if (streq(st, "not-read"))
                        fprintf(f,
                                "  group %s: %" JSON_INTEGER_FORMAT " rules, kept: not read again (its group file is "
                                "not known; stop the group and run it again)\n",
                                name, rules);
                else if (streq(st, "stopped"))
                        fprintf(f, "  group %s: its supervisor is gone%s\n", name,
                                json_is_true(json_object_get(reply, "ok")) ? ": its policy is dropped" : "");
                else if (pfile)
                        fprintf(f, "  group %s: %s (named in %s): %" JSON_INTEGER_FORMAT " rules%s\n", name, pfile,
                                source ?: "?", rules, streq(st, "reloaded") ? "" : ", not applied");
                else
                        fprintf(f, "  group %s: inline in %s: %" JSON_INTEGER_FORMAT " rules%s\n", name,
                                source ?: "?", rules, streq(st, "reloaded") ? "" : ", not applied");
        }
}

static int do_reload(int argc, char **argv) {
        enum { ARG_JSON = 0x100 };
        static const struct option options[] = {
                { "state-dir", required_argument, NULL, 'S' },
                { "json", no_argument, NULL, ARG_JSON },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *state = "/run/shuttle";
        json_t *reply = NULL;
        bool json = false;
        int opt, r;

        optind = 0;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (opt) {
                case 'S':
                        if (verb_state_dir("policy reload", optarg, &state) != 0)
                                return EXIT_USAGE;
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                case 'h':
                        help_reload();
                        return 0;
                default:
                        return verb_option_error("policy reload", opt, argv);
                }
        if (optind < argc) {
                log_error("policy reload: unexpected argument '%s'", argv[optind]);
                return EXIT_USAGE;
        }
        r = broker_reload_policy(state, &reply);
        if (!reply && (r == -ENOENT || r == -ECONNREFUSED)) {
                log_error("policy reload: no broker is running on %s", state);
                json_decref(reply);
                return 1;
        }
        if (r < 0 && !reply)
                log_error_errno(r, "policy reload: no answer from the broker on %s: %m", state);
        else if (json) {
                json_dumpf(reply, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
        } else if (r < 0) {
                const char *error = json_string_value(json_object_get(reply, "error"));

                if (error && *error)
                        fprintf(stderr, "%s%s", error, error[strlen(error) - 1] == '\n' ? "" : "\n");
                if (json_object_get(reply, "policy")) {
                        log_error("policy reload: refused, nothing applied; the old policies keep serving:");
                        print_reload_items(reply, stderr);
                } else
                        log_error_errno(r, "policy reload: refused, the old policies keep serving: %m");
        } else {
                printf("policy reloaded\n");
                print_reload_items(reply, stdout);
        }
        json_decref(reply);
        return r < 0 ? 1 : 0;
}

int verb_policy(int argc, char **argv) {
        static const struct {
                const char *name;
                int (*run)(int argc, char **argv);
        } subs[] = {
                { "check", do_check },
                { "explain", do_explain },
                { "show", do_show },
                { "reload", do_reload },
                { "reach", policy_reach_main },
                { "test", policy_verb_test },
                { "lint", policy_verb_lint },
                { "shadow", policy_verb_shadow },
                { "draft", policy_verb_draft },
        };

        if (argc < 2) {
                help_policy();
                return EXIT_USAGE;
        }
        if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
                help_policy();
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(subs); i++)
                if (streq(argv[1], subs[i].name))
                        return subs[i].run(argc - 1, argv + 1);
        log_error("unknown policy command '%s' (see 'shuttlectl policy --help')", argv[1]);
        return EXIT_USAGE;
}
