/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one hardened pair for sending and receiving a message with file
 * descriptors over a unix socket.  Every receiver in the project goes
 * through fd_recv(): it uses MSG_CMSG_CLOEXEC, rejects MSG_CTRUNC and
 * truncated payloads, accepts only SOL_SOCKET/SCM_RIGHTS, enforces the exact
 * descriptor count the caller expects, and closes everything it received on
 * any error. */

#include <stddef.h>
#include <sys/types.h>

#define FD_PASS_MAX 16

/* Send len bytes and n_fds descriptors as one message.  Returns bytes sent
 * or a negative errno. */
ssize_t fd_send(int sock, const void *buf, size_t len, const int *fds, size_t n_fds);

/* Receive one message into buf (at most len bytes).  Exactly n_fds
 * descriptors must arrive (0 allowed); *ret_fds receives them.  A message
 * larger than len, or carrying a different number of fds, is an error
 * (-EMSGSIZE, -EBADMSG) and whatever arrived is closed.  Returns bytes
 * received (0 = peer closed, no fds) or a negative errno. */
ssize_t fd_recv(int sock, void *buf, size_t len, int *ret_fds, size_t n_fds, int flags);

/* Like fd_recv() but accepts between 0 and max_fds descriptors and reports
 * how many arrived in *ret_n_fds. */
ssize_t fd_recv_upto(int sock, void *buf, size_t len, int *ret_fds, size_t max_fds,
                     size_t *ret_n_fds, int flags);
