/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a running container leaves under the state directory, so that a
 * crashed shuttlectl can be cleaned up after:
 *
 *   <state>/containers/<name>/lock        flock()-ed while shuttlectl runs
 *   <state>/containers/<name>/state.json  name, group, pids, cgroups, limits,
 *                                         user, caps, command, start time
 *                                         (its first version is a second name
 *                                         of the lock file, which holds it)
 *   <state>/containers/<name>/root/       where the container's root is built
 *                                         (mounted only in its own namespace)
 *   <state>/containers/.new-XXXXXX/       an entry being made, renamed to its
 *                                         name once its lock is held
 *
 * The owner holds the lock with LOCK_EX; everyone else only ever asks with
 * LOCK_SH (without waiting).  An entry whose lock can be shared belongs to
 * nobody: it is stale, for good. */

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct StateEntry {
        char dir[PATH_MAX];     /* also where the container's root is built (in its
                                 * own mount namespace) */
        char name[64];
        int lock_fd;
        bool written; /* state.json was written once */
} StateEntry;

/* -EEXIST when a live container holds the name (and only then: a stale
 * or lockless entry of that name is removed and the name taken). */
int state_entry_create(const char *state_dir, const char *name, StateEntry *ret);
struct ContainerConfig;

/* What `shuttlectl ps`, `exec`, `kill` and `stop` read about a running
 * container.  cgroups: NULL-terminated list of its cgroup directories;
 * caps: the capabilities CMD (and `exec`) get. */
int state_entry_write(StateEntry *e, const struct ContainerConfig *c, pid_t owner, pid_t init_pid,
                      const char *const *cgroups, uint64_t caps);
void state_entry_remove(StateEntry *e);
/* Removes the entry's state.json once its command has ended, while the
 * entry itself stays held (readers take it for one whose state is not
 * there: not running) until state_entry_remove(). */
void state_entry_retire(StateEntry *e);
/* The end of the entry NAME whose lock (LOCK_FD, closed here) this process
 * holds but did not make: a monitor's exit command, after the container's
 * init ended.  Removes its cgroups as a stale entry's, then its files.
 * -ESTALE (nothing removed) if LOCK_FD is not that entry's lock. */
int state_entry_finish(const char *state_dir, const char *name, int lock_fd, const char *cgroup_root,
                       const char *self_cgroup_file);

/* The cgroup name of a container: its name under the default state
 * directory; with another state directory, "<name>.<hash>" (a hash of both),
 * so that runs with separate state directories never share a cgroup. */
void state_cgroup_name(const char *state_dir, const char *name, char ret[static 64]);

/* Removes stale entries and their cgroups.  Returns how many. */
int state_cleanup_stale(const char *state_dir, const char *cgroup_root, const char *self_cgroup_file);
