/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl kill and stop: front ends to runtime/lifecycle.h. */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/verb-options.h"
#include "common/parse.h"
#include "runtime/lifecycle.h"

static const char kill_usage[] =
        "Usage: shuttlectl kill [OPTIONS] NAME [SIGNAL]\n"
        "\n"
        "Send SIGNAL (default TERM; a name such as TERM or SIGTERM, or a number) to\n"
        "the container NAME.  Its init passes INT, TERM, HUP, QUIT, USR1, USR2 and\n"
        "WINCH on to the container's command; KILL ends the whole container.\n"
        "\n"
        "Options:\n"
        "      --state-dir DIR   runtime state (default /run/shuttle)\n"
        "  -h, --help            show this help\n";

static const char stop_usage[] =
        "Usage: shuttlectl stop [OPTIONS] NAME|GROUP...\n"
        "\n"
        "Stop containers or app groups and wait until they are gone and cleaned\n"
        "up; print each name.  A container gets SIGTERM, then SIGKILL after the\n"
        "grace period.  A group's supervisor gets SIGTERM and stops its containers\n"
        "in reverse start order; a name that is a running group means the group.\n"
        "\n"
        "Options:\n"
        "  -t, --time SECONDS    grace period before SIGKILL (default 10; also 500ms)\n"
        "      --state-dir DIR   runtime state (default /run/shuttle)\n"
        "  -h, --help            show this help\n";

#define DEFAULT_STOP_USEC (10 * UINT64_C(1000000))

/* Options common to both: --state-dir, --help, and stop's -t. */
static int parse_args(const char *verb, const char *usage, bool with_time, int argc, char **argv,
                      const char **ret_state_dir, uint64_t *ret_timeout) {
        enum { ARG_STATE_DIR = 0x100 };
        static const struct option options[] = {
                { "time", required_argument, NULL, 't' },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, with_time ? "+:t:h" : "+:h", with_time ? options : options + 1,
                                NULL)) >= 0)
                switch (c) {
                case 't':
                        if (parse_duration(optarg, ret_timeout) < 0) {
                                log_error("%s: --time: '%s': expected seconds, e.g. 10 or 500ms", verb, optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_STATE_DIR:
                        if (verb_state_dir(verb, optarg, ret_state_dir) != 0)
                                return EXIT_USAGE;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return -1;
                default:
                        return verb_option_error(verb, c, argv);
                }
        return 0;
}

int verb_kill(int argc, char **argv) {
        const char *state_dir = STATE_DIR_DEFAULT, *name;
        StateInfo info = {};
        int sig = SIGTERM, r;

        r = parse_args("kill", kill_usage, false, argc, argv, &state_dir, NULL);
        if (r != 0)
                return r < 0 ? 0 : r;
        if (optind >= argc) {
                log_error("kill: missing container name (usage: shuttlectl kill [OPTIONS] NAME [SIGNAL])");
                return EXIT_USAGE;
        }
        if (argc - optind > 2) {
                log_error("kill: unexpected argument '%s' (see 'shuttlectl kill --help')", argv[optind + 2]);
                return EXIT_USAGE;
        }
        name = argv[optind];
        if (optind + 1 < argc) {
                if (parse_signal(argv[optind + 1], &sig) < 0) {
                        log_error("kill: '%s' is not a signal (expected e.g. TERM, SIGUSR1 or 9)", argv[optind + 1]);
                        return EXIT_USAGE;
                }
                if (!container_signal_is_deliverable(sig)) {
                        log_error("kill: SIG%s cannot be delivered: a container's init passes on only INT, TERM, "
                                  "HUP, QUIT, USR1, USR2 and WINCH, and KILL ends the container",
                                  signal_to_name(sig) ?: "?");
                        return EXIT_USAGE;
                }
        }

        r = state_info_load_running(state_dir, name, 2000000, &info);
        if (r >= 0) {
                r = container_kill(&info, state_dir, sig);
                state_info_done(&info);
        }
        if (r == -ESRCH || r == -EINVAL) {
                log_error("kill: no running container named '%s'", name);
                return 1;
        }
        if (r < 0) {
                log_error_errno(r, "kill: %s: %m", name);
                return 1;
        }
        return 0;
}

static int stop_group(const GroupInfo *g, const char *state_dir, uint64_t timeout) {
        bool killed = false;
        int r = group_stop(g, state_dir, timeout, &killed);

        if (r == -ETIMEDOUT)
                return log_error_errno(r, "stop: group '%s' did not stop", g->group);
        if (r < 0)
                return log_error_errno(r, "stop: group '%s': %m", g->group);
        if (killed)
                log_warning("stop: group '%s' did not stop in time: killed", g->group);
        printf("%s\n", g->group);
        return 0;
}

static int stop_container(const StateInfo *s, const char *state_dir, uint64_t timeout) {
        bool killed = false;
        int r = container_stop(s, state_dir, timeout, &killed);

        if (r == -ESRCH)
                return log_error_errno(r, "stop: no running container named '%s'", s->name);
        if (r == -ETIMEDOUT)
                return log_error_errno(r, "stop: '%s' was killed but its shuttlectl did not clean up in time",
                                       s->name);
        if (r < 0)
                return log_error_errno(r, "stop: %s: %m", s->name);
        if (killed)
                log_notice("stop: '%s' did not exit on SIGTERM in time: killed", s->name);
        printf("%s\n", s->name);
        fflush(stdout);
        return 0;
}

static int stop_one(const char *name, const char *state_dir, uint64_t timeout) {
        GroupInfo g = {};
        StateInfo s = {};
        int r;

        if (!container_name_is_valid(name)) {
                log_error("stop: no running container or group named '%s'", name);
                return -ESRCH;
        }
        if (group_info_load(state_dir, name, &g) >= 0 && g.alive) {
                r = stop_group(&g, state_dir, timeout);
                group_info_done(&g);
                return r;
        }
        group_info_done(&g);

        r = state_info_load_running(state_dir, name, 2000000, &s);
        if (r == -ESRCH) {
                log_error("stop: no running container or group named '%s'", name);
                return r;
        }
        if (r < 0)
                return log_error_errno(r, "stop: cannot read the state of '%s': %m", name);
        r = stop_container(&s, state_dir, timeout);
        state_info_done(&s);
        return r;
}

int verb_stop(int argc, char **argv) {
        const char *state_dir = STATE_DIR_DEFAULT;
        uint64_t timeout = DEFAULT_STOP_USEC;
        int r, ret = 0;

        r = parse_args("stop", stop_usage, true, argc, argv, &state_dir, &timeout);
        if (r != 0)
                return r < 0 ? 0 : r;
        if (optind >= argc) {
                log_error("stop: missing name (usage: shuttlectl stop [OPTIONS] NAME|GROUP...)");
                return EXIT_USAGE;
        }
        for (int i = optind; i < argc; i++)
                if (stop_one(argv[i], state_dir, timeout) < 0)
                        ret = 1;
        return ret;
}
