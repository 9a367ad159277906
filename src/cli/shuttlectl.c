/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl: a thin main with a command table; each verb lives in its own
 * cmd-*.c file. */

#include <stdio.h>
#include <string.h>

#include "cli/verbs.h"
#include "common/log.h"

static const Verb verbs[] = {
        { "run", "Run a container in the foreground", verb_run },
        { "policy", "Check, explain and show policy files", verb_policy },
        { "audit", "Show, follow and verify the audit log", verb_audit },
        { "ps", "List running containers", verb_ps },
        { "exec", "Run a command inside a running container", verb_exec },
        { "kill", "Send a signal to a container", verb_kill },
        { "stop", "Stop a container or an app group", verb_stop },
        { "logs", "Show the output of an app group's container", verb_logs },
        { "transfer", "List and revoke paths handed between containers", verb_transfer },
        { "ask", "List and answer requests that wait for an operator", verb_ask },
        { "images", "List and remove the OCI images run --rootfs unpacked", verb_images },
        { "help", "Show this help", verb_help },
};

int verb_help(int argc, char **argv) {
        printf("Usage: shuttlectl [--debug] COMMAND [OPTIONS...]\n\n"
               "Run isolated containers whose interactions are decided by policy.\n\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
        printf("\nOptions:\n"
               "  --debug      log debugging messages\n"
               "  --version    print the version and exit\n"
               "  -h, --help   show this help\n\n"
               "See 'shuttlectl COMMAND --help' and shuttlectl(1).\n");
        return 0;
}

int main(int argc, char **argv) {
        int i = 1;

        log_set_program("shuttlectl");
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (streq(argv[i], "--debug"))
                        log_set_max_level(LOG_LEVEL_DEBUG);
                else if (streq(argv[i], "--version")) {
                        printf("shuttlectl %s\n", PACKAGE_VERSION);
                        return 0;
                } else if (streq(argv[i], "-h") || streq(argv[i], "--help"))
                        return verb_help(0, NULL);
                else {
                        log_error("unknown option '%s' (see 'shuttlectl --help')", argv[i]);
                        return EXIT_USAGE;
                }
        }
        if (i >= argc) {
                verb_help(0, NULL);
                return EXIT_USAGE;
        }
        /* What shuttle-monitor execs at the end of a detached container:
         * not a command for operators. */
        if (streq(argv[i], "__monitor-exit"))
                return verb_monitor_exit(argc - i, argv + i);
        for (size_t v = 0; v < ELEMENTSOF(verbs); v++)
                if (streq(argv[i], verbs[v].name))
                        return verbs[v].run(argc - i, argv + i);

        log_error("unknown command '%s' (see 'shuttlectl --help')", argv[i]);
        return EXIT_USAGE;
}
