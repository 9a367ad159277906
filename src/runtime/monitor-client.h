/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Handing a running detached container to its state directory's one
 * shuttle-monitor (monitor-proto.h), started here if none runs. */

#include <sys/types.h>

#include "runtime/container.h"
#include "runtime/monitor-proto.h"

typedef struct MonitorHandover {
        const char *monitor_path; /* shuttle-monitor's binary */
        int out_fd;               /* read end of the container's output pipe */
        int exe_fd;               /* the exit command's binary, O_PATH */
        int held[MONITOR_HELD_MAX]; /* kept until the end; passed to the exit
                                     * command as 3, 4, ...; held[0] is set
                                     * by monitor_hand_over(): the lock */
        unsigned n_held;          /* besides the lock */
        int log_index;            /* which of held (counting the lock) is the log, -1: none */
        char *const *exit_argv;   /* NULL-terminated; the status is appended */
} MonitorHandover;

/* Hands ct (container_wait_started() said 1) over: its state entry names
 * the monitor as its owner and the monitor holds all it needs; then ct is
 * to be dropped without container_destroy().  Waits at most
 * MONITOR_HANDOVER_USEC for a monitor to answer.  *ret_pid: the monitor's.
 * A negative errno if it could not (the entry may already name a monitor
 * that did not take it; container_destroy() then still tears all down). */
#define MONITOR_HANDOVER_USEC (5 * 1000 * 1000)
int monitor_hand_over(Container *ct, const char *state_dir, MonitorHandover *h, pid_t *ret_pid);
