/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl policy reach: what one container can affect, directly or
 * through others (a front end to policy_reach_*() in src/policy). */
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
#include "runtime/group.h"

#define REACH_NAMES_MAX 65536u
#define REACH_TO_MAX_HOPS_DEFAULT 4u
#define REACH_MAX_PATHS_DEFAULT 64u

static void help_reach(void) {
        printf("Usage: shuttlectl policy reach FILE... --from A [--to B] [OPTIONS...]\n\n"
               "Follow the hops of the policy by which container A can affect others:\n"
               "requests to their services and the answers, invocations and their output,\n"
               "transferred files, mounted trees, signals (see REACHABILITY in\n"
               "shuttle-policy(5)).  With --to, every path from A to B, shortest first, with\n"
               "the rule of each hop; without, every container A reaches, by a shortest path.\n\n"
               "  --from NAME         the container to start from (name or group/name)\n"
               "  --to NAME           the container to reach\n"
               "  --max-hops N        follow at most N hops (default 4 with --to, at most\n"
               "                      256; no bound without --to)\n"
               "  --max-paths N       with --to: print at most N paths (default 64)\n"
               "  --group FILE        also expand globs against the containers of this app\n"
               "                      group file (repeat); the rules' literal names, A and B\n"
               "                      always count\n"
               "  --hops LIST         follow only these hops (comma-separated): ipc,\n"
               "                      ipc-reply, invoke, invoke-reply, transfer, transfer-rw,\n"
               "                      depend, depend-rw, signal\n"
               "  --now TIME          rules as of TIME (RFC 3339), default now\n"
               "  --json              print JSON\n"
               "  -h, --help          show this help\n\n"
               "Exit status: 0 done (whether or not anything is reached), 1 invalid policy\n"
               "or group file, 2 usage error.\n");
}

typedef struct ReachArgs {
        const char *from, *to;
        unsigned max_hops;
        bool has_max_hops;
        size_t max_paths;
        unsigned hops;
        time_t now;
        bool json;
        char **groups;
        size_t n_groups;
} ReachArgs;

static int parse_hops(const char *list, unsigned *ret) {
        _cleanup_free_ char *copy = strdup(list);
        unsigned mask = 0;
        char *save = NULL;

        if (!copy)
                return log_oom();
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                PolicyHop h = policy_hop_from_string(w);
                if (h < 0) {
                        log_error("policy reach: unknown hop '%s' in --hops (ipc, ipc-reply, invoke, invoke-reply, "
                                  "transfer, transfer-rw, depend, depend-rw, signal)", w);
                        return -EINVAL;
                }
                mask |= 1u << h;
        }
        if (!mask) {
                log_error("policy reach: --hops needs at least one hop");
                return -EINVAL;
        }
        *ret = mask;
        return 0;
}

static int parse_count(const char *opt, const char *s, unsigned min, unsigned long *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-' || v < min || v > 1000000) {
                log_error("policy reach: %s must be a number from %u to 1000000, not '%s'", opt, min, s);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

/* The containers of the group files, as group/name. */
static int group_names(const ReachArgs *a, char ***ret, size_t *ret_n) {
        char **names = NULL;
        size_t n = 0;
        int r = 0;

        for (size_t i = 0; i < a->n_groups; i++) {
                _cleanup_(group_freep) Group *g = NULL;
                PolicyDiagnostics d = {};

                r = group_load(a->groups[i], &g, &d);
                policy_diagnostics_print(&d, stderr);
                policy_diagnostics_clear(&d);
                if (r < 0) {
                        if (r != -EINVAL)
                                log_error_errno(r, "Failed to load group file '%s': %m", a->groups[i]);
                        break;
                }
                for (size_t j = 0; j < g->n_containers && r >= 0; j++) {
                        char **m = n < REACH_NAMES_MAX ? realloc(names, (n + 1) * sizeof(char *)) : NULL;
                        if (!m || asprintf(&m[n], "%s/%s", g->name, g->containers[j].name) < 0) {
                                if (m)
                                        names = m;
                                r = log_oom();
                                break;
                        }
                        names = m;
                        n++;
                }
                if (r < 0)
                        break;
        }
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(names[i]);
                free(names);
                return r;
        }
        *ret = names;
        *ret_n = n;
        return 0;
}

static json_t *path_json(const PolicyReachPath *p) {
        json_t *steps = json_array();

        for (size_t i = 0; steps && i < p->n_steps; i++) {
                const PolicyReachStep *s = &p->steps[i];
                json_t *via = json_array();

                for (size_t j = 0; via && j < s->n_via; j++)
                        json_array_append_new(
                                via, json_pack("{s:s, s:s, s:s?, s:o}", "hop", policy_hop_to_string(s->via[j].hop),
                                               "rule", s->via[j].rule_id, "file", s->via[j].rule_file, "line",
                                               s->via[j].rule_file ? json_integer(s->via[j].rule_line)
                                                                   : json_null()));
                json_array_append_new(steps, json_pack("{s:s, s:s, s:o*}", "from", s->from, "to", s->to, "via", via));
        }
        return json_pack("{s:s, s:i, s:o*}", "to", p->to, "hops", (int) p->n_steps, "steps", steps);
}

static int print_json(const ReachArgs *a, const PolicyReachResult *res) {
        json_t *paths = json_array(), *o;
        int r;

        for (size_t i = 0; paths && i < res->n_paths; i++)
                json_array_append_new(paths, path_json(&res->paths[i]));
        o = json_pack("{s:s, s:s?, s:o, s:I, s:b, s:o*}", "from", a->from, "to", a->to, "max_hops",
                      a->max_hops ? json_integer(a->max_hops) : json_null(), "containers",
                      (json_int_t) res->n_containers, "truncated", res->truncated, "paths", paths);
        if (!o)
                return log_oom();
        r = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(o);
        return r < 0 ? -EIO : 0;
}

static void print_path(const PolicyReachPath *p) {
        size_t width = 0;

        for (size_t i = 0; i < p->n_steps; i++)
                width = MAX(width, strlen(p->steps[i].from) + strlen(p->steps[i].to) + 5);
        printf("%s", p->n_steps ? p->steps[0].from : "");
        for (size_t i = 0; i < p->n_steps; i++)
                printf(" -> %s", p->steps[i].to);
        printf("  (%zu hop%s)\n", p->n_steps, p->n_steps == 1 ? "" : "s");
        for (size_t i = 0; i < p->n_steps; i++) {
                const PolicyReachStep *s = &p->steps[i];
                int w = (int) (strlen(s->from) + strlen(s->to) + 4);

                printf("  %s -> %s%*s", s->from, s->to, (int) width - w, "");
                for (size_t j = 0; j < s->n_via; j++) {
                        printf("%s %s: %s", j ? "," : "", policy_hop_to_string(s->via[j].hop), s->via[j].rule_id);
                        if (s->via[j].rule_file)
                                printf(" (%s:%u)", s->via[j].rule_file, s->via[j].rule_line);
                }
                putchar('\n');
        }
}

static void print_text(const ReachArgs *a, const PolicyReachResult *res) {
        char bound[64] = "";

        if (a->max_hops)
                snprintf(bound, sizeof(bound), " in at most %u hop%s", a->max_hops, a->max_hops == 1 ? "" : "s");
        if (a->to)
                printf("%zu path%s from %s to %s%s%s\n", res->n_paths, res->n_paths == 1 ? "" : "s", a->from,
                       a->to, bound, res->truncated ? " (more not shown: raise --max-paths or lower --max-hops)" : "");
        else
                printf("%s reaches %zu of %zu other container%s%s%s\n", a->from, res->n_paths,
                       res->n_containers ? res->n_containers - 1 : 0, res->n_containers == 2 ? "" : "s", bound,
                       res->n_paths ? " (a shortest path to each)" : "");
        for (size_t i = 0; i < res->n_paths; i++) {
                putchar('\n');
                print_path(&res->paths[i]);
        }
}

static int load_policy(char **paths, size_t n, Policy **ret) {
        PolicyDiagnostics d = {};
        int r;

        r = policy_load((const char *const *) paths, n, ret, &d);
        policy_diagnostics_print(&d, stderr);
        policy_diagnostics_clear(&d);
        if (r < 0 && r != -EINVAL)
                log_error_errno(r, "Failed to load policy: %m");
        return r;
}

int policy_reach_main(int argc, char **argv) {
        enum { ARG_FROM = 0x100, ARG_TO, ARG_MAX_HOPS, ARG_MAX_PATHS, ARG_GROUP, ARG_HOPS, ARG_NOW, ARG_JSON };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "from", required_argument, NULL, ARG_FROM },
                { "to", required_argument, NULL, ARG_TO },
                { "max-hops", required_argument, NULL, ARG_MAX_HOPS },
                { "max-paths", required_argument, NULL, ARG_MAX_PATHS },
                { "group", required_argument, NULL, ARG_GROUP },
                { "hops", required_argument, NULL, ARG_HOPS },
                { "now", required_argument, NULL, ARG_NOW },
                { "json", no_argument, NULL, ARG_JSON },
                {},
        };
        _cleanup_(policy_unrefp) Policy *p = NULL;
        _cleanup_(policy_reach_freep) PolicyReach *g = NULL;
        _cleanup_free_ char **groups = NULL;
        char **names = NULL;
        size_t n_names = 0;
        PolicyReachResult res = {};
        ReachArgs a = { .max_paths = REACH_MAX_PATHS_DEFAULT, .now = time(NULL) };
        unsigned long v;
        int c, r;

        groups = calloc(argc > 0 ? (size_t) argc : 1, sizeof(char *));
        if (!groups)
                return log_oom(), 1;
        a.groups = groups;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help_reach();
                        return 0;
                case ARG_FROM:
                        a.from = optarg;
                        break;
                case ARG_TO:
                        a.to = optarg;
                        break;
                case ARG_MAX_HOPS:
                        if (parse_count("--max-hops", optarg, 1, &v) < 0)
                                return EXIT_USAGE;
                        a.max_hops = (unsigned) v;
                        a.has_max_hops = true;
                        break;
                case ARG_MAX_PATHS:
                        if (parse_count("--max-paths", optarg, 1, &v) < 0)
                                return EXIT_USAGE;
                        a.max_paths = v;
                        break;
                case ARG_GROUP:
                        a.groups[a.n_groups++] = optarg;
                        break;
                case ARG_HOPS:
                        if (parse_hops(optarg, &a.hops) < 0)
                                return EXIT_USAGE;
                        break;
                case ARG_NOW:
                        if (policy_parse_timestamp(optarg, &a.now) < 0) {
                                log_error("policy reach: --now must be RFC 3339 like 2026-01-31T12:00:00Z, not '%s'",
                                          optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_JSON:
                        a.json = true;
                        break;
                default:
                        return verb_option_error("policy reach", c, argv);
                }
        if (optind >= argc) {
                log_error("policy reach: no FILE given (see 'shuttlectl policy reach --help')");
                return EXIT_USAGE;
        }
        if (!a.from) {
                log_error("policy reach needs --from");
                return EXIT_USAGE;
        }
        if (!a.to && a.max_paths != REACH_MAX_PATHS_DEFAULT) {
                log_error("policy reach: --max-paths needs --to");
                return EXIT_USAGE;
        }
        for (const char *const *n = (const char *const[]){ a.from, a.to, NULL }; *n; n++)
                if (!policy_container_name_is_valid(*n)) {
                        log_error("policy reach: '%s' is not a container name (name or group/name, each 1-63 of "
                                  "letters, digits, '_', '.', '-', starting with a letter or digit)", *n);
                        return EXIT_USAGE;
                }
        if (a.to && !a.has_max_hops)
                a.max_hops = REACH_TO_MAX_HOPS_DEFAULT;

        r = load_policy(argv + optind, (size_t) (argc - optind), &p);
        if (r < 0)
                return 1;
        r = group_names(&a, &names, &n_names);
        if (r < 0)
                return 1;
        {
                const char **all = calloc(n_names + 2, sizeof(char *));
                size_t n = 0;

                if (!all)
                        r = -ENOMEM;
                else {
                        for (size_t i = 0; i < n_names; i++)
                                all[n++] = names[i];
                        all[n++] = a.from;
                        if (a.to)
                                all[n++] = a.to;
                        r = policy_reach_new(p, all, n, a.now, a.hops, &g);
                }
                free(all);
                for (size_t i = 0; i < n_names; i++)
                        free(names[i]);
                free(names);
        }
        if (r < 0)
                return log_error_errno(r, "policy reach: %m"), 1;
        r = a.to ? policy_reach_paths(g, a.from, a.to, a.max_hops, a.max_paths, &res)
                 : policy_reach_from(g, a.from, a.max_hops, &res);
        if (r < 0)
                return log_error_errno(r, "policy reach: %m"), 1;
        if (a.json)
                r = print_json(&a, &res);
        else
                print_text(&a, &res);
        policy_reach_result_clear(&res);
        if (r < 0 || fflush(stdout) != 0)
                return log_error("policy reach: cannot write the output"), 1;
        return 0;
}
