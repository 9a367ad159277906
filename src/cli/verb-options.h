/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Option errors shared by shuttlectl's verbs (ps, exec, kill, stop, logs,
 * ask, transfer, audit graph/explain and every `policy` subcommand): one
 * line naming the option, exit 2. */

#include <getopt.h>
#include <stdio.h>

#include "cli/verbs.h"
#include "common/log.h"
#include "runtime/state-info.h"

/* c: what getopt_long() returned (':' or '?'), with ":" leading optstring. */
static inline int verb_option_error(const char *verb, int c, char **argv) {
        if (c == ':')
                log_error("%s: option '%s' needs a value (see 'shuttlectl %s --help')", verb, argv[optind - 1],
                          verb);
        else if (optopt > 0 && optopt < 0x100)
                log_error("%s: unknown option '-%c' (see 'shuttlectl %s --help')", verb, optopt, verb);
        else
                log_error("%s: unknown option '%s' (see 'shuttlectl %s --help')", verb, argv[optind - 1], verb);
        return EXIT_USAGE;
}

/* --state-dir must be absolute, as for `run`. */
static inline int verb_state_dir(const char *verb, const char *arg, const char **ret) {
        if (arg[0] != '/') {
                log_error("%s: --state-dir: '%s': expected an absolute path", verb, arg);
                return EXIT_USAGE;
        }
        *ret = arg;
        return 0;
}
