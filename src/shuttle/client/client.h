/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The client side of broker.sock, for programs inside a container (and
 * later the preloaded shim): blocking, one request at a time per client
 * object (a mutex serialises callers, so one object may be shared between
 * threads), request ids matched, every descriptor close-on-exec.  Depends on
 * libc and src/common only; never logs.
 *
 * Errors are negative errnos.  A request the broker refused returns the
 * errno it answered (-EACCES: denied by policy, -ENOENT: no such
 * container/service, -ECONNREFUSED: the exporter is not listening, …).
 * A broker that breaks the protocol (wrong request id, wrong fd count,
 * malformed frame, unexpected reply type) gives -EPROTO; a broker that
 * closed the connection gives -ECONNRESET.  After either, the client is
 * unusable and every later call returns -ENOTCONN: close it and open a new
 * one.
 *
 * Not fork-safe: a child must not use its parent's client (replies would go
 * to whichever process reads first); open a new one in the child. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol.h" /* beside it, here and where it is installed */

#ifdef __cplusplus
extern "C" {
#endif

#define SHUTTLE_BROKER_SOCKET "/run/shuttle/broker.sock"
#define SHUTTLE_BROKER_SOCKET_ENV "SHUTTLE_BROKER_SOCKET"

typedef struct ShuttleClient ShuttleClient;

/* Connects to path; NULL means $SHUTTLE_BROKER_SOCKET (read with
 * secure_getenv(), so ignored in setuid programs) or else
 * SHUTTLE_BROKER_SOCKET.  -ENOENT / -ECONNREFUSED: no broker here. */
int shuttle_client_open(const char *path, ShuttleClient **ret);
/* Adopts an already connected SOCK_SEQPACKET socket; on success the client
 * owns it, on failure the caller still does. */
int shuttle_client_new_from_fd(int fd, ShuttleClient **ret);
ShuttleClient *shuttle_client_free(ShuttleClient *c);
static inline void shuttle_client_freep(ShuttleClient **c) {
        if (*c)
                shuttle_client_free(*c);
}
#define _cleanup_shuttle_client_ __attribute__((cleanup(shuttle_client_freep)))

/* Says hello (once; later calls return the cached answer).  Every request
 * below says hello first if nobody did.  *ret_version: the protocol version
 * the broker speaks; ret_name: this container's name as the broker knows it
 * (a buffer of SHUTTLE_NAME_MAX + 1 bytes).  Both may be NULL. */
int shuttle_client_hello(ShuttleClient *c, uint32_t *ret_version, char *ret_name);

/* Asks the broker to connect this container to "container.service"; on
 * success *ret_fd is the connected socket (close-on-exec). */
int shuttle_connect_service(ShuttleClient *c, const char *service, int *ret_fd);

/* Asks the broker to send signal signo to app in container. */
int shuttle_send_signal(ShuttleClient *c, const char *container, const char *app, int signo);

/* Sends signo to a process of another container that shuttle_resolve_pid()
 * named (pid ≥ SHUTTLE_PID_BASE); signo 0 only asks whether it still
 * exists.  sigqueue: the same, with a value (si_value.sival_int). */
int shuttle_signal_pid(ShuttleClient *c, pid_t pid, int signo);
int shuttle_sigqueue_pid(ShuttleClient *c, pid_t pid, int signo, int value);

/* Names from another container, translated into this one's view (the
 * policy's transfer rules decide; see shuttle-policy(5)):
 * - a process of app in container → a pid for shuttle_signal_pid() and
 *   for kill()/sigqueue() through the shim;
 * - a service container exports → the path of its socket here (a buffer
 *   of SHUTTLE_PATH_MAX + 1 bytes);
 * - container's host name → its address on a network both share (a
 *   buffer of SHUTTLE_ADDRESS_MAX + 1 bytes). */
int shuttle_resolve_pid(ShuttleClient *c, const char *container, const char *app, pid_t *ret_pid);
int shuttle_resolve_service(ShuttleClient *c, const char *container, const char *service, char *ret_path);
int shuttle_resolve_host(ShuttleClient *c, const char *container, char *ret_address);

/* Opens "container.service", a shared-memory object or a POSIX message
 * queue that container exports, with flags SHUTTLE_OPEN_*; *ret_fd is the
 * descriptor (for a queue, a mqd_t). */
int shuttle_open_shm(ShuttleClient *c, const char *service, unsigned flags, int *ret_fd);
int shuttle_open_mq(ShuttleClient *c, const char *service, unsigned flags, int *ret_fd);
/* Opens one end of the FIFO "container.service" exports: flags are
 * SHUTTLE_OPEN_READ or SHUTTLE_OPEN_WRITE (exactly one; the policy's
 * rule may grant only one of them), with SHUTTLE_OPEN_NONBLOCK if the
 * descriptor is to be non-blocking.  The broker opens the FIFO without
 * waiting for the other end: the write end fails with -ENXIO while no one
 * has the read end open, and a read end opened before any writer reads
 * end-of-file until one comes (poll() for POLLIN waits for it).  The
 * descriptor is close-on-exec. */
int shuttle_open_fifo(ShuttleClient *c, const char *service, unsigned flags, int *ret_fd);

/* Runs app inside container with fds[0], fds[1], fds[2] as its stdin,
 * stdout and stderr, and waits until it ends.  args: argv[1…] and env:
 * "NAME=value" entries offered to it, both NULL-terminated or NULL (the
 * broker passes only the entries the policy's env allowlist names).  On
 * success *ret_status is the app's exit code, or 128+N if signal N ended
 * it.  interrupt_fd: -1, or the read end of a pipe (ideally non-blocking):
 * each byte read from it is a signal number, forwarded to the app while it
 * runs (a signal handler writes them: a self-pipe is async-signal-safe).
 * The client is held (locked) for the whole run: use one client per
 * concurrent invocation. */
int shuttle_invoke(ShuttleClient *c, const char *container, const char *app, const char *const *args,
                   const char *const *env, const int fds[3], int interrupt_fd, int *ret_status);
/* shuttle_invoke() with flags (ShuttleInvokeFlags; 0 is shuttle_invoke()):
 * SHUTTLE_INVOKE_FILES_AS_FDS asks the broker to hand the app its file
 * arguments as open descriptors 3, 4, … (the arguments become /dev/fd/N)
 * instead of mounting them, where the rule transfers files at all.  An
 * unknown flag: -ERANGE, nothing sent. */
int shuttle_invoke_ex(ShuttleClient *c, const char *container, const char *app, const char *const *args,
                      const char *const *env, const int fds[3], int interrupt_fd, unsigned flags,
                      int *ret_status);

/* Asks the broker to make path (absolute, in this container's view)
 * visible in container with the given access.  On success ret_path (a
 * buffer of SHUTTLE_PATH_MAX + 1 bytes, may be NULL) holds the name the
 * target sees, and *ret_id (may be NULL) the transfer's id. */
int shuttle_transfer(ShuttleClient *c, const char *path, ShuttleTransferMode mode, const char *container,
                     char *ret_path, uint64_t *ret_id);

/* Copies the MESSAGE of the last refusal on this client ("" if it had
 * none) into buf, truncated to size. */
void shuttle_client_last_message(ShuttleClient *c, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
