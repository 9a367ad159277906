/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl policy shadow: load a candidate policy in shadow beside the
 * one in force (the broker's "policy-shadow" control op), drop it, or say
 * which one is loaded. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/verbs.h"
#include "common/log.h"
#include "common/macro.h"
#include "shuttle/host/control.h"

static void help_shadow(void) {
        printf("Usage: shuttlectl policy shadow [FILE...] [--clear] [--state-dir DIR] [--json]\n\n"
               "Load the policy FILE... (files or directories, as the broker reads its\n"
               "own) in shadow beside the broker's policy: it decides every request the\n"
               "broker's policy decides, its decision is recorded in the same audit\n"
               "record (shadow_decision, shadow_rule) and is never enforced.  A shadow\n"
               "policy loaded before is replaced; one that does not load is refused and\n"
               "the one before stays.  Without FILE, print the shadow policy loaded.\n"
               "List the requests it decides otherwise with the audit verb's shadow-diff\n"
               "option (see 'shuttlectl audit --help').\n"
               "Exit status: 0 done, 1 refused, nothing loaded or no broker, 2 usage error.\n\n"
               "  --clear             drop the shadow policy\n"
               "  --state-dir DIR     the broker's state directory (default /run/shuttle)\n"
               "  --json              print the broker's answer as JSON\n"
               "  -h, --help          show this help\n");
}

static void print_status(json_t *reply) {
        json_t *shadow = json_object_get(reply, "shadow"), *v;
        size_t i;

        if (!json_is_object(shadow)) {
                printf("no shadow policy\n");
                return;
        }
        printf("shadow policy: ");
        json_array_foreach(json_object_get(shadow, "files"), i, v)
                printf("%s%s", i ? ", " : "", json_string_value(v) ?: "?");
        printf(": %" JSON_INTEGER_FORMAT " rules\n", json_integer_value(json_object_get(shadow, "rules")));
}

int policy_verb_shadow(int argc, char **argv) {
        enum { ARG_JSON = 0x100, ARG_CLEAR };
        static const struct option options[] = {
                { "clear", no_argument, NULL, ARG_CLEAR },
                { "state-dir", required_argument, NULL, 'S' },
                { "json", no_argument, NULL, ARG_JSON },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *state = "/run/shuttle";
        _cleanup_close_ int fd = -1;
        json_t *req = NULL, *files = NULL, *reply = NULL;
        bool json = false, clear = false;
        int opt, r;

        optind = 0;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (opt) {
                case ARG_CLEAR:
                        clear = true;
                        break;
                case 'S':
                        state = optarg;
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                case 'h':
                        help_shadow();
                        return 0;
                case ':':
                        log_error("policy shadow: %s: missing value", argv[optind - 1]);
                        return EXIT_USAGE;
                default:
                        log_error("policy shadow: %s: unknown option", argv[optind - 1]);
                        return EXIT_USAGE;
                }
        if (clear && optind < argc) {
                log_error("policy shadow: --clear takes no FILE");
                return EXIT_USAGE;
        }
        req = json_pack("{s:s}", "op", "policy-shadow");
        if (!req)
                return log_oom();
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
        r = control_connect(state, &fd);
        if (r == -ENOENT || r == -ECONNREFUSED) {
                log_error("policy shadow: no broker is running on %s", state);
                json_decref(req);
                return 1;
        }
        if (r >= 0)
                r = control_call(fd, req, &reply);
        json_decref(req);
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
                if (clear)
                        printf("shadow policy cleared\n");
                print_status(reply);
        }
        /* Asked what is loaded and nothing is: said, and not a success. */
        if (r >= 0 && !clear && !files && !json_is_object(json_object_get(reply, "shadow")))
                r = -ENOENT;
        json_decref(reply);
        return r < 0 ? 1 : 0;
}
