/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Running an app group: the supervisor behind `shuttlectl run GROUP.yaml`.
 *
 * The supervisor starts the group's containers in dependency order, each
 * in a runner process of its own (a fork that calls container_run()),
 * waits for each one's `ready` condition before starting what depends on
 * it, streams every container's output prefixed with its name and appends
 * it to <state>/logs/<name>.log, restarts containers by their `restart`
 * policy, and on SIGINT/SIGTERM stops them in reverse order (SIGTERM, a
 * grace period, SIGKILL).  It holds <state>/groups/<group>/lock while it
 * runs and describes itself in supervisor.json there. */

#include <stdbool.h>
#include <stdint.h>

#include "runtime/group.h"

typedef struct GroupRunOptions {
        const char *state_dir;       /* default /run/shuttle */
        uint64_t stop_timeout_usec;  /* grace period before SIGKILL (default 10 s) */
        /* Detached: once every container is ready, the supervisor moves its
         * output to <state>/groups/<group>/supervisor.log and writes "R"
         * here (-1: run in the foreground). */
        int notify_fd;
        /* --no-shim: do not preload libshuttle-shim.so in the containers. */
        bool no_shim;
} GroupRunOptions;

/* Returns the exit status for shuttlectl: 0 when every container ended
 * with 0 (or, detached, once the group is up), else the first non-zero
 * status; 1 when the group could not be started (the reason was printed on
 * stderr, and nothing of the group is left behind). */
int group_run(const Group *g, const GroupRunOptions *o);
