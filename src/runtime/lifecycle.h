/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Signalling and stopping running containers and app groups from outside
 * (`shuttlectl kill` and `stop`).  Every signal goes through a pidfd opened
 * and checked by state_info_open_init(), so a recycled pid is never hit.
 *
 * A container's init (pid 1 inside) forwards SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to the container's command; SIGKILL
 * ends the init and with it every process of the container.  The kernel
 * drops any other signal sent to a pid namespace's init from outside (it
 * installs no handlers), so container_kill() refuses those (-EINVAL).
 *
 * Functions return 0 or a negative errno; -ESRCH when the container or group
 * is not running.  None of them logs. */

#include <stdbool.h>
#include <stdint.h>

#include "runtime/state-info.h"

/* How long `stop` waits for an owner (or supervisor) to clean up after the
 * processes ended: the owner kills what is left in the cgroup (up to 2 s),
 * removes it and the state entry, then releases the lock. */
#define STOP_CLEANUP_USEC (10 * UINT64_C(1000000))

/* Whether the init passes sig on (or, for SIGKILL, acts on it). */
bool container_signal_is_deliverable(int sig);

int container_kill(const StateInfo *i, const char *state_dir, int sig);

/* Stops a live container: for a member of an app group first creates its
 * `stopping` marker (state-info.h), then SIGTERM to the init; after
 * timeout_usec SIGKILL; then waits until the owner released the entry's
 * lock, so that on return the container is gone and cleaned up.
 * *ret_killed (if not NULL) tells whether SIGKILL was needed.  -ETIMEDOUT if
 * the owner did not clean up within STOP_CLEANUP_USEC. */
int container_stop(const StateInfo *i, const char *state_dir, uint64_t timeout_usec, bool *ret_killed);

/* Stops a live app group: SIGTERM to its supervisor, which stops the
 * containers in reverse start order (each with its own grace period), and
 * waits until the supervisor released the group's lock, for up to
 * timeout_usec for each of its containers plus 5 s.  After that, SIGKILL to
 * the supervisor and to the init of every container of the group, and waits
 * for their locks.  *ret_killed tells whether that was needed. */
int group_stop(const GroupInfo *g, const char *state_dir, uint64_t timeout_usec, bool *ret_killed);
