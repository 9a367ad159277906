/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl transfer ls|revoke: the running broker's live transfers. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/control-call.h"
#include "cli/verb-options.h"
#include "common/macro.h"
#include "common/parse.h"
#include "shuttle/host/control.h"

static const char transfer_usage[] =
        "Usage: shuttlectl transfer ls [--json] [--state-dir DIR]\n"
        "       shuttlectl transfer revoke ID [--state-dir DIR]\n"
        "\n"
        "List the paths the running broker has handed from one container to another\n"
        "(id, from, to, mode, the path in the caller, the name in the target, expiry),\n"
        "or revoke one: it is unmounted in the target at once.\n"
        "\n"
        "Options:\n"
        "      --json            ls: one JSON array of objects\n"
        "      --state-dir DIR   runtime state (default /run/shuttle)\n"
        "  -h, --help            show this help\n";

static int do_ls(const char *state, bool json) {
        json_t *reply = NULL, *list, *t;
        size_t i;
        int r;

        r = cli_control_call("transfer", state, json_pack("{s:s}", "op", "transfer-ls"), &reply);
        if (r < 0) {
                if (r != -ENOENT && r != -ECONNREFUSED)
                        log_error_errno(r, "transfer ls: %m");
                json_decref(reply);
                return 1;
        }
        list = json_object_get(reply, "transfers");
        if (json) {
                char *s = json_dumps(list ?: json_array(), JSON_COMPACT);
                if (s)
                        puts(s);
                free(s);
                json_decref(reply);
                return s ? 0 : 1;
        }
        printf("%-6s %-12s %-12s %-4s %-10s %-20s %-30s %s\n", "ID", "FROM", "TO", "MODE", "FOR", "UNTIL", "PATH",
               "AS");
        json_array_foreach(list, i, t) {
                char until[32];
                cli_format_time(until, sizeof(until), json_integer_value(json_object_get(t, "until")));
                printf("%-6" JSON_INTEGER_FORMAT " %-12s %-12s %-4s %-10s %-20s %-30s %s\n",
                       json_integer_value(json_object_get(t, "id")),
                       json_string_value(json_object_get(t, "from")), json_string_value(json_object_get(t, "to")),
                       json_string_value(json_object_get(t, "mode")),
                       json_is_true(json_object_get(t, "invoke")) ? "invoke" : "transfer", until,
                       json_string_value(json_object_get(t, "path")),
                       json_string_value(json_object_get(t, "target_path")));
        }
        json_decref(reply);
        return 0;
}

static int do_revoke(const char *state, const char *arg) {
        json_t *reply = NULL;
        uint64_t id;
        int r;

        r = parse_uint64(arg, &id);
        if (r < 0 || id == 0 || id > INT64_MAX) {
                log_error("transfer revoke: '%s': expected a transfer id (see 'shuttlectl transfer ls')", arg);
                return EXIT_USAGE;
        }
        r = cli_control_call("transfer", state, json_pack("{s:s, s:I}", "op", "transfer-revoke", "id", (json_int_t) id), &reply);
        if (r < 0) {
                const char *e = json_string_value(json_object_get(reply, "error"));
                if (r != -ENOENT || e)
                        log_error("transfer revoke: %s", e ?: strerror(-r));
                json_decref(reply);
                return 1;
        }
        json_decref(reply);
        printf("transfer %" PRIu64 " revoked\n", id);
        return 0;
}

int verb_transfer(int argc, char **argv) {
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "state-dir", required_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *state = STATE_DIR_DEFAULT, *sub;
        bool json = false;
        int opt;

        optind = 0;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (opt) {
                case 'j':
                        json = true;
                        break;
                case 'S':
                        if (verb_state_dir("transfer", optarg, &state) != 0)
                                return EXIT_USAGE;
                        break;
                case 'h':
                        fputs(transfer_usage, stdout);
                        return 0;
                default:
                        return verb_option_error("transfer", opt, argv);
                }
        if (optind >= argc) {
                fputs(transfer_usage, stderr);
                return EXIT_USAGE;
        }
        sub = argv[optind++];
        if (streq(sub, "ls") || streq(sub, "list")) {
                if (optind < argc) {
                        log_error("transfer ls: unexpected argument '%s'", argv[optind]);
                        return EXIT_USAGE;
                }
                return do_ls(state, json);
        }
        if (streq(sub, "revoke")) {
                if (json) {
                        log_error("transfer revoke: --json applies to ls");
                        return EXIT_USAGE;
                }
                if (argc - optind != 1) {
                        log_error("transfer revoke: expected one transfer id");
                        return EXIT_USAGE;
                }
                return do_revoke(state, argv[optind]);
        }
        log_error("transfer: unknown subcommand '%s' (ls or revoke)", sub);
        return EXIT_USAGE;
}
