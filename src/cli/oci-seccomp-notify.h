/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* linux.seccomp.listenerPath: the seccomp notify fd of a profile with
 * SCMP_ACT_NOTIFY rules goes to the agent listening there, with the
 * runtime-spec's "container process state" (runtime.md), as runc and crun
 * send it: one connection, one JSON object and the fd in SCM_RIGHTS, then
 * the connection is closed. */

#include <sys/types.h>

/* How long the agent may take to accept and read, in milliseconds: a
 * stuck agent fails the create instead of hanging it. */
#define OCI_SECCOMP_AGENT_TIMEOUT_MS 10000

/* {"ociVersion", "fds": ["seccompFd"], "pid", "metadata" (if not NULL),
 * "state": state_json} as compact JSON, malloc'ed; state_json is the
 * container's state object (oci_state_format()).  NULL with errno: ENOMEM,
 * or EINVAL if state_json is not a JSON object. */
char *oci_process_state_format(const char *state_json, pid_t pid, const char *metadata);

/* Connects to the AF_UNIX SOCK_STREAM socket at path, sends json with fd
 * in SCM_RIGHTS (the whole text, whatever the socket takes at once), and
 * closes the connection.  0, or a negative errno: -ENAMETOOLONG (path
 * does not fit in sun_path), connect()'s (-ENOENT, -ECONNREFUSED, …),
 * -EAGAIN when the agent did not take it within
 * OCI_SECCOMP_AGENT_TIMEOUT_MS, -EPIPE when it hung up. */
int oci_seccomp_agent_send(const char *path, const char *json, int fd);
