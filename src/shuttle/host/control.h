/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The control channel between shuttlectl and shuttled: JSON objects, one
 * per SOCK_SEQPACKET message, on <state>/control.sock (root only, checked
 * with SO_PEERCRED).  Requests carry "op"; replies carry "ok" (true/false)
 * and, on failure, "error" (text) and "errno".  Documented in
 * docs/PROTOCOL.md. */

#include <stdbool.h>

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#define CONTROL_SOCKET "control.sock"
#define CONTROL_MSG_MAX (256u * 1024u)

/* <state_dir>/control.sock into ret (sizeof >= 108). */
int control_socket_path(const char *state_dir, char *ret, size_t size);
/* The broker's directory for a container: <state_dir>/broker/<name>. */
int control_container_dir(const char *state_dir, const char *name, char *ret, size_t size);

/* The host side of what the broker makes for containers (invariant 9):
 *
 *   <state_dir>/                 0700 (made so; tightened if it is ours)
 *   <state_dir>/broker/          0700, ours: nobody else walks below it
 *   <state_dir>/broker/<name>/   0755, and svc/ bin/ apps/ xfer/ in it,
 *                                with broker.sock and svc/ sockets 0666
 *
 * A container reaches its own directory through the bind mount at
 * /run/shuttle, which does not walk the 0700 parents: there "everyone"
 * is the container's own users (one started with --user 1000 must
 * connect too), and on the host nobody but root gets that far.  Who
 * connects is checked again at accept, on every socket (accept.c). */
int control_state_dir_create(const char *state_dir);
/* control_container_dir(), made as above (with its parents). */
int control_container_dir_create(const char *state_dir, const char *name, char *ret, size_t size);
/* dirfd/name as a directory we own with exactly mode: made so, or an
 * existing one (an older version's) brought to it.  A symlink or someone
 * else's directory is refused (-ELOOP/-ENOTDIR, -EPERM). */
int control_dir_ensure(int dirfd, const char *name, mode_t mode);
/* The same, made only if create, and open: returns the directory's fd. */
int control_dir_open(int dirfd, const char *name, mode_t mode, bool create);

/* -ENOENT / -ECONNREFUSED: no broker is running. */
int control_connect(const char *state_dir, int *ret_fd);
int control_send(int fd, json_t *msg);
/* Receives one message; -EBADMSG if it is not a JSON object. */
int control_recv(int fd, json_t **ret);
/* send + recv; a reply with "ok": false becomes its negated errno (or
 * -EIO), with *ret_reply still set so the caller can show "error". */
int control_call(int fd, json_t *request, json_t **ret_reply);

/* One export as registration carries it (and the broker's record of a
 * container keeps it): the name and exactly one of socket, mq, shm (its
 * size in bytes; > 0), fifo and port, the first of them that is set. */
json_t *control_export_json(const char *name, const char *socket, const char *mq, uint64_t shm_size,
                            const char *fifo, uint16_t port);

json_t *control_reply_ok(void);
json_t *control_reply_error(int error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
