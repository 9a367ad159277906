/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl exec: a thin front end to container_exec() (runtime/exec.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/verb-options.h"
#include "common/parse.h"
#include "runtime/exec.h"

static const char exec_usage[] =
        "Usage: shuttlectl exec [OPTIONS] NAME [--] CMD [ARG...]\n"
        "\n"
        "Run CMD inside the running container NAME: in all its namespaces and\n"
        "cgroups, with its capabilities, no_new_privs and seccomp profile, and\n"
        "exit with CMD's status (128+N when it was killed by signal N).  CMD's\n"
        "stdin, stdout and stderr are pipes (or, with --tty, a terminal of the\n"
        "container's own) that shuttlectl relays: none of its own descriptors\n"
        "enters the container.\n"
        "\n"
        "Options:\n"
        "  -e, --env K=V            set an environment variable\n"
        "  -t, --tty                give CMD a terminal of the container's devpts\n"
        "  -u, --user UID[:GID]     run CMD as this user (default: the container's)\n"
        "  -w, --workdir DIR        working directory inside (default: the container's)\n"
        "      --state-dir DIR      runtime state (default /run/shuttle)\n"
        "  -h, --help               show this help\n";

int verb_exec(int argc, char **argv) {
        enum { ARG_STATE_DIR = 0x100 };
        static const struct option options[] = {
                { "env", required_argument, NULL, 'e' },
                { "tty", no_argument, NULL, 't' },
                { "user", required_argument, NULL, 'u' },
                { "workdir", required_argument, NULL, 'w' },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *state_dir = STATE_DIR_DEFAULT, *name;
        _cleanup_free_ char **env = NULL;
        ExecConfig config = {};
        ExecResult result = {};
        StateInfo info = {};
        int c, r;

        env = calloc((size_t) argc + 1, sizeof(char *));
        if (!env)
                return log_oom(), 1;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:e:tu:w:h", options, NULL)) >= 0)
                switch (c) {
                case 'e':
                        if (!strchr(optarg, '=') || optarg[0] == '=') {
                                log_error("exec: --env: '%s': expected K=V", optarg);
                                return EXIT_USAGE;
                        }
                        env[config.n_env++] = optarg;
                        break;
                case 't':
                        config.tty = true;
                        break;
                case 'u':
                        if (parse_uid_gid(optarg, &config.uid, &config.gid, NULL) < 0) {
                                log_error("exec: --user: '%s': expected numeric UID or UID:GID", optarg);
                                return EXIT_USAGE;
                        }
                        config.has_user = true;
                        break;
                case 'w':
                        if (!path_is_clean_absolute(optarg)) {
                                log_error("exec: --workdir: '%s': expected an absolute path without '.' or '..'",
                                          optarg);
                                return EXIT_USAGE;
                        }
                        config.workdir = optarg;
                        break;
                case ARG_STATE_DIR:
                        if (verb_state_dir("exec", optarg, &state_dir) != 0)
                                return EXIT_USAGE;
                        break;
                case 'h':
                        fputs(exec_usage, stdout);
                        return 0;
                default:
                        return verb_option_error("exec", c, argv);
                }
        if (optind >= argc) {
                log_error("exec: missing container name (usage: shuttlectl exec [OPTIONS] NAME -- CMD [ARG...])");
                return EXIT_USAGE;
        }
        name = argv[optind++];
        if (optind < argc && streq(argv[optind], "--"))
                optind++;
        if (optind >= argc) {
                log_error("exec: missing command (usage: shuttlectl exec [OPTIONS] NAME -- CMD [ARG...])");
                return EXIT_USAGE;
        }
        config.argv = argv + optind;
        config.env = env;

        if (geteuid() != 0) {
                log_error("exec: entering a container needs root");
                return 1;
        }
        r = state_info_load_running(state_dir, name, 2000000, &info);
        if (r == -ESRCH || r == -EINVAL) {
                log_error("exec: no running container named '%s'", name);
                return 1;
        }
        if (r < 0) {
                log_error_errno(r, "exec: cannot read the state of '%s': %m", name);
                return 1;
        }

        r = container_exec(&info, state_dir, &config, &result);
        state_info_done(&info);
        if (r == -ESRCH) {
                log_error("exec: no running container named '%s'", name);
                return 1;
        }
        if (r < 0) {
                if (result.message[0])
                        log_error("exec: %s: %s", name, result.message);
                else
                        log_error_errno(r, "exec: %s: %m", name);
                return 125;
        }
        if (result.message[0])
                log_error("exec: %s", result.message);
        return result.exit_status;
}
