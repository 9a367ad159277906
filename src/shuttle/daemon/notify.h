/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The service manager's readiness protocol (sd_notify(3)): one datagram of
 * "KEY=VALUE\n..." on the AF_UNIX socket named by $NOTIFY_SOCKET.  Spoken
 * directly instead of through libsystemd, see notify.c. */

/* The socket named by $NOTIFY_SOCKET, taken out of the environment (so
 * that nothing we start, invoked apps included, inherits it).  NULL when
 * unset or empty; malloc'ed. */
char *notify_socket_take(void);

/* Sends text (e.g. "READY=1") to socket, a path ("/run/...") or an
 * abstract name ("@..."); NULL or "" sends nothing.  Returns 1 sent, 0
 * nothing to send to, or a negative errno (-EAFNOSUPPORT for an address
 * of another kind, e.g. "vsock:"). */
int notify_send(const char *socket, const char *text);
