/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl policy shadow: load a candidate policy in shadow beside the
 * one in force, the broker's or a running group's (the broker's
 * "policy-shadow" control op), drop it, or say which ones are loaded. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/control-call.h"
#include "cli/verb-options.h"
#include "cli/verbs.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/parse.h"
#include "shuttle/host/control.h"

static void help_shadow(void) {
        printf("Usage: shuttlectl policy shadow [--group GROUP] [FILE...] [--clear] [--state-dir DIR] [--json]\n\n"
               "Load the policy FILE... (files or directories, as the broker reads its\n"
               "own) in shadow beside the broker's policy, or with --group beside the\n"
               "own policy of the running app group GROUP: it decides every request that\n"
               "policy decides, its decision is recorded in the same audit record\n"
               "(shadow_decision, shadow_rule) and is never enforced.  A shadow policy\n"
               "loaded before is replaced; one that does not load is refused and the one\n"
               "before stays.  A group's shadow policy is dropped when the group stops.\n"
               "Without FILE, print the shadow policies loaded (with --group, the\n"
               "group's).  List the requests a shadow policy decides otherwise with the\n"
               "audit verb's shadow-diff option (see 'shuttlectl audit --help').\n"
               "Exit status: 0 done, 1 refused, nothing loaded or no broker, 2 usage error.\n\n"
               "  --group GROUP       the shadow policy of app group GROUP (running, with a\n"
               "                      policy of its own)\n"
               "  --clear             drop the shadow policy\n"
               "  --state-dir DIR     the broker's state directory (default /run/shuttle)\n"
               "  --json              print the broker's answer as JSON\n"
               "  -h, --help          show this help\n");
}

static void print_one(const char *group, json_t *shadow) {
        json_t *v;
        size_t i;

        if (group)
                printf("shadow policy of group '%s': ", group);
        else
                printf("shadow policy: ");
        json_array_foreach(json_object_get(shadow, "files"), i, v)
                printf("%s%s", i ? ", " : "", json_string_value(v) ?: "?");
        printf(": %" JSON_INTEGER_FORMAT " rules\n", json_integer_value(json_object_get(shadow, "rules")));
}

/* Whether any is loaded. */
static bool print_status(const char *group, json_t *reply) {
        json_t *shadow = json_object_get(reply, "shadow"), *v;
        bool any = json_is_object(shadow);
        size_t i;

        if (any)
                print_one(group, shadow);
        json_array_foreach(json_object_get(reply, "groups"), i, v) {
                print_one(json_string_value(json_object_get(v, "group")) ?: "?", v);
                any = true;
        }
        if (!any && group)
                printf("no shadow policy for group '%s'\n", group);
        else if (!any)
                printf("no shadow policy\n");
        return any;
}

int policy_verb_shadow(int argc, char **argv) {
        enum { ARG_JSON = 0x100, ARG_CLEAR, ARG_GROUP };
        static const struct option options[] = {
                { "group", required_argument, NULL, ARG_GROUP },
                { "clear", no_argument, NULL, ARG_CLEAR },
                { "state-dir", required_argument, NULL, 'S' },
                { "json", no_argument, NULL, ARG_JSON },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *state = "/run/shuttle", *group = NULL;
        json_t *req = NULL, *files = NULL, *reply = NULL;
        bool json = false, clear = false, any = false;
        int opt, r;

        optind = 0;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (opt) {
                case ARG_CLEAR:
                        clear = true;
                        break;
                case ARG_GROUP:
                        if (!container_name_is_valid(optarg)) {
                                log_error("policy shadow: --group: '%s' is not a group's name", optarg);
                                return EXIT_USAGE;
                        }
                        group = optarg;
                        break;
                case 'S':
                        if (verb_state_dir("policy shadow", optarg, &state) != 0)
                                return EXIT_USAGE;
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                case 'h':
                        help_shadow();
                        return 0;
                default:
                        return verb_option_error("policy shadow", opt, argv);
                }
        if (clear && optind < argc) {
                log_error("policy shadow: --clear takes no FILE");
                return EXIT_USAGE;
        }
        req = json_pack("{s:s}", "op", "policy-shadow");
        if (!req)
                return log_oom();
        if (group)
                json_object_set_new(req, "group", json_string(group));
        if (clear)
                json_object_set_new(req, "clear", json_true());
        else if (optind < argc) {
                /* The broker reads them, from its own directory: absolute. */
                files = json_array();
                for (int i = optind; files && i < argc; i++) {
                        char *abs = realpath(argv[i], NULL);
                        if (!abs) {
                                log_error_errno(-errno, "policy shadow: %s: %m", argv[i]);
                                json_decref(files);
                                json_decref(req);
                                return 1;
                        }
                        json_array_append_new(files, json_string(abs));
                        free(abs);
                }
                json_object_set_new(req, "files", files);
        }
        r = cli_control_call("policy shadow", state, req, &reply);
        if ((r == -ENOENT || r == -ECONNREFUSED) && !reply)
                return 1; /* no broker: said */
        if (r < 0 && !reply)
                log_error_errno(r, "policy shadow: no answer from the broker on %s: %m", state);
        else if (json) {
                json_dumpf(reply, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
        } else if (r < 0) {
                const char *error = json_string_value(json_object_get(reply, "error"));

                if (error && *error)
                        fprintf(stderr, "%s%s", error, error[strlen(error) - 1] == '\n' ? "" : "\n");
                log_error_errno(r, "policy shadow: refused%s: %m",
                                clear ? "" : ", the shadow policy before (if any) stays");
        } else {
                if (clear && group)
                        printf("shadow policy of group '%s' cleared\n", group);
                else if (clear)
                        printf("shadow policy cleared\n");
                any = print_status(group, reply);
        }
        /* Asked what is loaded and nothing is: said, and not a success. */
        if (r >= 0 && !clear && !files && !any && !json_is_object(json_object_get(reply, "shadow")) &&
            json_array_size(json_object_get(reply, "groups")) == 0)
                r = -ENOENT;
        json_decref(reply);
        return r < 0 ? 1 : 0;
}
