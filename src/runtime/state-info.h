/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading the state directory: what `shuttlectl ps`, `exec`, `kill`, `stop`
 * and `logs` know about running containers and app groups.  The writers are
 * state.c (containers) and the group supervisor (groups); this side only
 * reads, plus the one marker file below.
 *
 *   <state>/containers/<name>/lock        flock()-ed (LOCK_EX) by the process
 *                                         that runs the container (its owner;
 *                                         for a detached one, once it runs,
 *                                         the state directory's
 *                                         shuttle-monitor)
 *   <state>/containers/<name>/state.json  see StateInfo
 *   <state>/containers/<name>/stopping    created by `shuttlectl stop` before
 *                                         it signals a container of an app
 *                                         group: the exit that follows was
 *                                         asked for, so the supervisor's
 *                                         restart policy must not restart it.
 *                                         The supervisor removes it together
 *                                         with the entry.
 *   <state>/groups/<group>/lock           flock()-ed by the group's supervisor
 *   <state>/groups/<group>/supervisor.json
 *                                         {"group":G,"pid":P,"containers":
 *                                          [names in start order],
 *                                          "file":F}, F the group file as an
 *                                          absolute path (its directory
 *                                          resolved, its own name kept): where
 *                                          a policy reload re-reads the
 *                                          group's policy
 *   <state>/logs/<name>.log               output of a group's container in
 *                                         the group's last run, each line
 *                                         stamped by the supervisor
 *                                         (shuttle/logline.h)
 *   <state>/logs/<name>.log.1             the same of the run before
 *
 * An entry is alive while someone holds its lock.  The check takes a shared
 * lock without blocking and releases it at once: EWOULDBLOCK means alive.
 * (For that instant a concurrent start of the same name sees it as taken,
 * which is the safe side.)  An entry whose lock can be taken is stale: its
 * owner died without cleaning up, and the next start removes it.
 *
 * Functions return 0 or a negative errno and leave ret_* untouched on
 * failure; none of them logs. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "runtime/cgroup.h"
#include "runtime/sandbox.h"

#define STATE_DIR_DEFAULT "/run/shuttle"

typedef struct StateInfo {
        char *name;
        char *group;        /* NULL outside app groups */
        pid_t owner_pid;    /* the process that runs it and holds the lock */
        pid_t init_pid;     /* its pid 1, as the host sees it; 0 while starting */
        uint64_t init_start; /* that pid 1's start time (/proc/PID/stat field
                              * 22); 0: not recorded (then the init is the
                              * owner's child) */
        char **cgroups;     /* NULL-terminated; never NULL after a load */
        int64_t created;    /* seconds since the epoch */
        char **command;     /* NULL-terminated; never NULL after a load */
        char *hostname;     /* NULL = the name */
        char *rootfs;       /* NULL = the built-in host rootfs */
        CgroupLimits limits;
        char *net;          /* "loopback", "none", "bridge" */
        bool has_user;      /* uid/gid set with --user */
        uid_t uid;
        gid_t gid;
        uint64_t caps;      /* capability mask of its command (and of exec) */
        char *workdir;      /* never NULL after a load ("/" by default) */
        RlimitSpec *rlimits; /* its --ulimit values (exec applies them too) */
        size_t n_rlimits;
        bool shim;          /* the shim is preloaded into its programs */
        bool detached;      /* run --detach: its output is in logs/<name>.log */

        bool alive;         /* the lock is held */
} StateInfo;

/* Parses a state.json document (for tests and for state_info_load()).
 * -EBADMSG if it is not JSON or lacks a valid "name". alive is false. */
int state_info_parse(const char *json, StateInfo *ret);

/* Reads <state_dir>/containers/<name>/state.json and checks the lock.
 * -EINVAL for an invalid name, -ENOENT if there is no such entry (or it has
 * no state.json yet: a container a few milliseconds into its start). */
int state_info_load(const char *state_dir, const char *name, StateInfo *ret);

/* Like state_info_load(), but only for a live container whose init exists:
 * waits up to timeout_usec while it is still starting (no state.json yet, or
 * init_pid 0).  -ESRCH if no live container has the name. */
int state_info_load_running(const char *state_dir, const char *name, uint64_t timeout_usec,
                            StateInfo *ret);

/* A running container's state kept between reads, for a reader that
 * asks again and again (the broker, per invocation): while the same file
 * (inode, size, times) is in place, what it said stands, and the check is
 * one stat(2) and one flock(2) on the lock file, kept open, instead of a
 * read, a parse and the lock's open; another file is read again.  Zeroed
 * with lock_fd -1 (STATE_CACHE_INIT) before first use. */
typedef struct StateCache {
        StateInfo info;
        bool loaded;
        struct stat st; /* of the state.json read into info */
        int lock_fd;
} StateCache;

#define STATE_CACHE_INIT { .lock_fd = -1 }

/* As state_info_load_running() with no wait: *ret points into c, valid
 * until the next call or state_cache_done().  1 if it was read now, 0 if
 * what was read before stands, -ESRCH if the container does not run (the
 * cache is emptied), another negative errno. */
int state_cache_get(StateCache *c, const char *state_dir, const char *name, const StateInfo **ret);
void state_cache_done(StateCache *c);

/* Every entry that has a state.json, alive or stale, sorted by name.
 * An absent state directory is an empty list. */
int state_info_list(const char *state_dir, StateInfo **ret, size_t *ret_n);

void state_info_done(StateInfo *i);
void state_info_free_array(StateInfo *a, size_t n);

/* Creates <state>/containers/<name>/stopping (see above). */
int state_info_mark_stopping(const char *state_dir, const char *name);

/* 1 if the lock file at path is held by someone, 0 if it can be taken or
 * does not exist, negative errno if it cannot be checked. */
int state_lock_is_held(const char *path);

/* Waits up to timeout_usec until the lock at path is released (or gone).
 * 0 once released, -ETIMEDOUT otherwise. */
int state_lock_wait_released(const char *path, uint64_t timeout_usec);

/* The lock file of a container or a group, into buf. */
int state_container_lock_path(const char *state_dir, const char *name, char *buf, size_t size);
int state_group_lock_path(const char *state_dir, const char *group, char *buf, size_t size);

/* An app group's supervisor. */
typedef struct GroupInfo {
        char *group;
        pid_t pid;          /* the supervisor */
        char **containers;  /* NULL-terminated, in start order */
        char *file;         /* the group file, absolute; NULL if not
                             * recorded so (an older supervisor wrote the
                             * name it was given) */
        bool alive;         /* the group's lock is held */
} GroupInfo;

int group_info_parse(const char *json, GroupInfo *ret);
/* -ENOENT if there is no such group (no supervisor.json). */
int group_info_load(const char *state_dir, const char *group, GroupInfo *ret);
/* Sorted by group name. */
int group_info_list(const char *state_dir, GroupInfo **ret, size_t *ret_n);
void group_info_done(GroupInfo *g);
void group_info_free_array(GroupInfo *a, size_t n);

/* Opens a pidfd for a live container's init and checks that the pid still
 * is that init (its start time is init_start, or without one: a child of
 * the owner, while the owner holds the lock), so a recycled pid is never
 * signalled.  -ESRCH if the container is gone. */
int state_info_open_init(const StateInfo *i, const char *state_dir, int *ret_pidfd);
