/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl ask ls|allow|deny: the requests an 'ask' rule holds until an
 * operator answers, in the running broker. */

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

static const char ask_usage[] =
        "Usage: shuttlectl ask ls [--json] [--state-dir DIR]\n"
        "       shuttlectl ask allow ID [--once | --for DURATION | --always] [--state-dir DIR]\n"
        "       shuttlectl ask deny ID [--state-dir DIR]\n"
        "\n"
        "List the requests that wait for an operator's answer because an 'ask' rule\n"
        "allowed them (id, from, to, kind, object, rule, age, deadline), and the grants\n"
        "'allow --for' made; or answer one.  An unanswered request is denied at its\n"
        "deadline (the rule's ask timeout).\n"
        "\n"
        "Options:\n"
        "      --json            ls: one JSON object {\"asks\": [...], \"grants\": [...]}\n"
        "      --once            allow: this request only (the default)\n"
        "      --for DURATION    allow: this request, and the same request (from, to, kind,\n"
        "                        object) without asking for DURATION (10m, 2h), while the\n"
        "                        calling container runs\n"
        "      --always          allow: this request, and write a rule that allows it into\n"
        "                        the broker's drop-in policy file\n"
        "      --state-dir DIR   runtime state (default /run/shuttle)\n"
        "  -h, --help            show this help\n";

static const char *str(json_t *o, const char *key) {
        return json_string_value(json_object_get(o, key)) ?: "-";
}

static int do_ls(const char *state, bool json) {
        json_t *reply = NULL, *t;
        size_t i;
        int r;

        r = cli_control_call("ask", state, json_pack("{s:s}", "op", "ask-ls"), &reply);
        if (r < 0) {
                if (r != -ENOENT && r != -ECONNREFUSED)
                        log_error("ask ls: %s", json_string_value(json_object_get(reply, "error")) ?: strerror(-r));
                json_decref(reply);
                return 1;
        }
        if (json) {
                json_t *o = json_pack("{s:O?, s:O?}", "asks", json_object_get(reply, "asks"), "grants",
                                      json_object_get(reply, "grants"));
                char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
                if (s)
                        puts(s);
                free(s);
                json_decref(o);
                json_decref(reply);
                return s ? 0 : 1;
        }
        printf("%-6s %-16s %-16s %-8s %-24s %-16s %-7s %s\n", "ID", "FROM", "TO", "KIND", "OBJECT", "RULE", "AGE",
               "DEADLINE");
        json_array_foreach(json_object_get(reply, "asks"), i, t) {
                char deadline[32], age[32];
                cli_format_time(deadline, sizeof(deadline), json_integer_value(json_object_get(t, "deadline")));
                snprintf(age, sizeof(age), "%" JSON_INTEGER_FORMAT "s",
                         json_integer_value(json_object_get(t, "age_ms")) / 1000);
                printf("%-6" JSON_INTEGER_FORMAT " %-16s %-16s %-8s %-24s %-16s %-7s %s\n",
                       json_integer_value(json_object_get(t, "id")), str(t, "from"), str(t, "to"), str(t, "kind"),
                       str(t, "object"), str(t, "rule"), age, deadline);
        }
        if (json_array_size(json_object_get(reply, "grants")) > 0) {
                printf("\n%-6s %-16s %-16s %-8s %-24s %s\n", "GRANT", "FROM", "TO", "KIND", "OBJECT", "UNTIL");
                json_array_foreach(json_object_get(reply, "grants"), i, t) {
                        char until[32];
                        cli_format_time(until, sizeof(until), json_integer_value(json_object_get(t, "until")));
                        printf("%-6" JSON_INTEGER_FORMAT " %-16s %-16s %-8s %-24s %s\n",
                               json_integer_value(json_object_get(t, "id")), str(t, "from"), str(t, "to"),
                               str(t, "kind"), str(t, "object"), until);
                }
        }
        json_decref(reply);
        return 0;
}

static int do_answer(const char *state, const char *verb, const char *arg, const char *how, const char *dur) {
        json_t *reply = NULL, *req;
        uint64_t id;
        int r;

        r = parse_uint64(arg, &id);
        if (r < 0 || id == 0 || id > INT64_MAX) {
                log_error("ask %s: '%s': expected the id of a pending ask (see 'shuttlectl ask ls')", verb, arg);
                return EXIT_USAGE;
        }
        req = json_pack("{s:s, s:I, s:s}", "op", "ask-answer", "id", (json_int_t) id, "answer", how);
        if (req && dur)
                json_object_set_new(req, "for", json_string(dur));
        r = cli_control_call("ask", state, req, &reply);
        if (r < 0) {
                const char *e = json_string_value(json_object_get(reply, "error"));
                if ((r != -ENOENT && r != -ECONNREFUSED) || e)
                        log_error("ask %s: %s", verb, e ?: strerror(-r));
                json_decref(reply);
                return 1;
        }
        if (json_object_get(reply, "rule"))
                printf("ask %" PRIu64 " allowed; rule %s written to %s\n", id,
                       json_string_value(json_object_get(reply, "rule")),
                       json_string_value(json_object_get(reply, "file")));
        else if (json_integer_value(json_object_get(reply, "grant")) > 0)
                printf("ask %" PRIu64 " allowed; grant %" JSON_INTEGER_FORMAT " for %s\n", id,
                       json_integer_value(json_object_get(reply, "grant")), dur);
        else
                printf("ask %" PRIu64 " %s\n", id, streq(how, "deny") ? "denied" : "allowed");
        json_decref(reply);
        return 0;
}

int verb_ask(int argc, char **argv) {
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "once", no_argument, NULL, 'o' },
                { "for", required_argument, NULL, 'f' },
                { "always", no_argument, NULL, 'a' },
                { "state-dir", required_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *state = STATE_DIR_DEFAULT, *sub, *how = NULL, *dur = NULL;
        bool json = false;
        int opt;

        optind = 0;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (opt) {
                case 'j':
                        json = true;
                        break;
                case 'o':
                case 'f':
                case 'a':
                        if (how) {
                                log_error("ask: --once, --for and --always exclude each other");
                                return EXIT_USAGE;
                        }
                        how = opt == 'o' ? "once" : opt == 'f' ? "for" : "always";
                        if (opt == 'f') {
                                uint64_t usec;
                                if (parse_duration(optarg, &usec) < 0 || usec < 1000000) {
                                        log_error("ask: --for '%s': expected a duration of at least 1s, like 10m "
                                                  "or 2h", optarg);
                                        return EXIT_USAGE;
                                }
                                dur = optarg;
                        }
                        break;
                case 'S':
                        if (verb_state_dir("ask", optarg, &state) != 0)
                                return EXIT_USAGE;
                        break;
                case 'h':
                        fputs(ask_usage, stdout);
                        return 0;
                default:
                        return verb_option_error("ask", opt, argv);
                }
        if (optind >= argc) {
                fputs(ask_usage, stderr);
                return EXIT_USAGE;
        }
        sub = argv[optind++];
        if (streq(sub, "ls") || streq(sub, "list")) {
                if (how) {
                        log_error("ask ls: --once, --for and --always apply to allow");
                        return EXIT_USAGE;
                }
                if (optind < argc) {
                        log_error("ask ls: unexpected argument '%s'", argv[optind]);
                        return EXIT_USAGE;
                }
                return do_ls(state, json);
        }
        if (streq(sub, "allow") || streq(sub, "deny")) {
                if (json) {
                        log_error("ask %s: --json applies to ls", sub);
                        return EXIT_USAGE;
                }
                if (streq(sub, "deny") && how) {
                        log_error("ask deny: --once, --for and --always apply to allow");
                        return EXIT_USAGE;
                }
                if (argc - optind != 1) {
                        log_error("ask %s: expected one ask id (see 'shuttlectl ask ls')", sub);
                        return EXIT_USAGE;
                }
                return do_answer(state, sub, argv[optind], streq(sub, "deny") ? "deny" : how ?: "once", dur);
        }
        log_error("ask: unknown subcommand '%s' (ls, allow or deny)", sub);
        return EXIT_USAGE;
}
