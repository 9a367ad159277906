/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl run */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/run-options.h"
#include "cli/verbs.h"
#include "common/log.h"

int verb_run(int argc, char **argv) {
        _cleanup_free_ char *error = NULL;
        RunOptions o;
        ContainerResult result = {};
        int r;

        run_options_init(&o);
        r = run_options_parse(argc, argv, &o, &error);
        if (r < 0) {
                if (error)
                        log_error("run: %s", error);
                else
                        log_error_errno(r, "run: %m");
                run_options_done(&o);
                return EXIT_USAGE;
        }
        if (o.help) {
                fputs(run_usage, stdout);
                run_options_done(&o);
                return 0;
        }
        if (o.group_file) {
                log_error("run: app groups (%s) are not supported yet", o.group_file);
                run_options_done(&o);
                return 1;
        }
        if (geteuid() != 0) {
                log_error("run: creating containers needs root");
                run_options_done(&o);
                return 1;
        }
        if (!o.config.name && asprintf(&o.config.name, "shuttle-%d", (int) getpid()) < 0) {
                run_options_done(&o);
                (void) log_oom();
                return 125;
        }

        /* Until the broker exists, every container runs isolated. */
        log_debug("no broker: mediation is off for '%s'", o.config.name);

        r = container_run(&o.config, &result);
        if (r < 0) {
                if (result.message[0])
                        log_error("%s", result.message);
                else
                        log_error_errno(r, "container '%s' could not be started: %m", o.config.name);
                run_options_done(&o);
                return 125;
        }
        if (result.message[0])
                log_error("%s", result.message);
        run_options_done(&o);
        return result.exit_status;
}
