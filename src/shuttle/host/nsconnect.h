/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Connecting to a socket that lives inside a container, from the host:
 * used by the broker for exports and by group supervisors for readiness.
 * `pidfd` must refer to `pid` (the container's init): it proves the pid was
 * not reused while we looked at /proc/PID. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* An O_PATH descriptor of the container's root directory
 * (/proc/PID/root), checked against pidfd (-ESRCH: the process is gone and
 * the pid may name another).  set_up: refuse (-EAGAIN) while the root is
 * still the host's, as it is until the container's init has pivoted, so
 * that nothing is created or looked for on the host.  Returns the
 * descriptor or a negative errno. */
int ns_open_root(pid_t pid, int pidfd, bool set_up);

/* A unix socket at `path` as the container sees it.  Invariant 3: the path
 * is resolved inside the container's root (/proc/PID/root, with
 * RESOLVE_IN_ROOT and no magic links), never joined onto a host path: a
 * symlink or ".." planted in the container cannot lead to a host socket.
 * Returns a connected, blocking socket. */
int ns_connect_unix(pid_t pid, int pidfd, const char *path, int *ret_fd);
/* The same inside a root already opened with ns_open_root() (the broker
 * keeps one per container); nonblock: the socket is left non-blocking
 * (for the broker's relay). */
int ns_connect_unix_at(int root, const char *path, bool nonblock, int *ret_fd);

/* A descriptor of the container's network namespace (/proc/PID/ns/net),
 * checked against pidfd as ns_open_root() does. */
int ns_open_netns(pid_t pid, int pidfd);

/* A TCP port on the container's loopback, from a socket created inside
 * its network namespace (setns there and back: the caller must be
 * single-threaded).  Waits at most 1 s for the connection. */
int ns_connect_tcp(pid_t pid, int pidfd, uint16_t port, int *ret_fd);
/* The same with the namespace already open (ns_open_netns()) and `self`
 * the caller's own network namespace, to return to; nonblock as for
 * ns_connect_unix_at(). */
int ns_connect_tcp_at(int netns, int self, uint16_t port, bool nonblock, int *ret_fd);
