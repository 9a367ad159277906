/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What shuttlectl asks of the running broker over control.sock.  Errors
 * come back as negative errno values and, where the broker said why, a
 * message in *ret_error (malloc'ed). */

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "runtime/container.h"

/* Registers a container whose init is `pid`.  -ENOENT/-ECONNREFUSED: no
 * broker runs.  restarts > 0 marks a restart by its group (audited). */
int broker_register_container(const char *state_dir, const ContainerConfig *c, pid_t pid, unsigned restarts,
                              char **ret_error);
int broker_unregister_container(const char *state_dir, const char *name);
/* Whether the broker on state_dir registered the container `name` in learn
 * mode (its record, <state_dir>/registry/NAME.json); false if it cannot
 * tell (no record, not allowed to read it). */
bool broker_container_learns(const char *state_dir, const char *name);

/* Asks the broker to re-read its policy files and each running group's
 * policy (SIGHUP does the same), and waits until it is done.  Whenever the
 * broker answered, *ret_reply is its reply (see "reload" in
 * docs/PROTOCOL.md: what was read, per group, with rule counts; on
 * -EINVAL, "error" holds every file:line:col error and nothing was
 * applied). */
int broker_reload_policy(const char *state_dir, json_t **ret_reply);

/* Loads (file != NULL) or drops (file == NULL) a group's policy.  file is
 * the supervisor's copy (the broker keeps it up to date); source, the
 * group file by its absolute name, is where a reload reads the group's
 * policy again (NULL: the group's policy is never re-read). */
int broker_set_group_policy(const char *state_dir, const char *group, const char *file, const char *source,
                            char **ret_error);

/* Starts shuttled (detached) if none answers on state_dir; *ret_started
 * tells whether one was started.  The binary is looked for next to the
 * running program first (a build tree), then in the install's sbindir. */
int broker_ensure_running(const char *state_dir, bool *ret_started, char **ret_error);

/* The audit log of a broker that shuttlectl starts on state_dir: the
 * default (/var/log/shuttle/audit.jsonl) for /run/shuttle, else
 * <state_dir>/audit.jsonl beside its private state.  Malloc'ed, NULL when
 * out of memory. */
char *broker_default_audit_log(const char *state_dir);

/* Asks the broker on state_dir where it writes its audit log (an absolute
 * path, malloc'ed).  -ENOENT/-ECONNREFUSED: no broker answers; -EACCES: not
 * allowed to ask (not root); -EOPNOTSUPP: a broker that does not say;
 * -ETIMEDOUT (EAGAIN): it did not answer within a few seconds. */
int broker_audit_log_path(const char *state_dir, char **ret_path);

/* Asks the broker on state_dir for the digests of the policies in force
 * ("policies" in docs/PROTOCOL.md: "digest", and "groups" with each
 * group's).  Errors as broker_audit_log_path(). */
int broker_policies(const char *state_dir, json_t **ret_reply);
