/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Inside libshuttle-shim.so: what its parts share.  Nothing here is
 * exported from the library (-fvisibility=hidden); only the interposed libc
 * functions are. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "shuttle/client/app-entry.h"
#include "shuttle/client/client.h"
#include "shuttle/client/protocol.h"

#define SHIM_SVC_DIR "/run/shuttle/svc/"
#define SHIM_APPS_DIR SHUTTLE_APPS_DIR /* app entries: shuttle/app-entry.h */
#define SHIM_NAME_SUFFIX ".shuttle"
#define SHIM_ENV "SHUTTLE_SHIM"

/* The interposed libc functions: the only symbols the library exports. */
#define _hook_ __attribute__((visibility("default")))

/* The addresses the shim hands out for "<container>.<service>.shuttle":
 * 127.77.0.0/16, inside the container's own loopback range, so that a
 * program that bypasses the shim for its connect() gets ECONNREFUSED
 * instead of reaching something else. */
#define SHIM_NET UINT32_C(0x7f4d0000) /* 127.77.0.0 */
#define SHIM_NET_MASK UINT32_C(0xffff0000)
#define SHIM_NAMES_MAX 256u           /* addresses 127.77.0.1 … 127.77.1.0 */

/* Set once by the constructor: SHUTTLE_SHIM=0 in the environment. */
extern bool shim_disabled;
/* This thread is inside a redirection (shim.c): a hook called meanwhile
 * (from a signal handler) must not use the client, and takes the real
 * call instead. */
extern __thread bool shim_in_redirect __attribute__((tls_model("initial-exec")));

/* Client objects shared by every thread of the process (one at a time),
 * reference-counted so that one can be replaced while another thread still
 * uses it.  shim_client_get() opens it on first use; NULL with *ret_error
 * when no broker can be reached. */
typedef struct ShimClient ShimClient;
ShimClient *shim_client_get(int *ret_error);
ShuttleClient *shim_client_raw(ShimClient *s);
/* The broker broke the conversation (or went away): stop handing this
 * one out.  Any holder may call it; the last put frees it. */
void shim_client_retire(ShimClient *s);
void shim_client_put(ShimClient *s);
/* The conversation broke rather than the broker saying no (the client is
 * to be retired, and the request may be tried once more on a new one). */
bool shim_transport_error(int r);

/* A request for service on the shared client: shuttle_open_fifo(),
 * shuttle_open_shm(), shuttle_open_mq(). */
typedef int (*ShimAsk)(ShuttleClient *c, const char *service, unsigned flags, int *ret_fd);
/* ask's answer, asked twice at most (a broker that restarted costs one new
 * connection); 1: no broker, or the conversation broke both times. */
int shim_ask_broker(ShimAsk ask, const char *service, unsigned flags, int *ret_fd);
/* An exported FIFO, shared-memory object or queue through the broker: 0
 * and *ret_fd; a negative errno for the program (a denial is -EACCES;
 * O_CREAT|O_EXCL in oflag -EEXIST, as for any existing object); or 1: not
 * for us (no broker, no such export, a broker that does not know the
 * request), the real call. */
int shim_open_export(ShimAsk ask, const char *service, unsigned flags, int oflag, int *ret_fd);
/* The ends open()'s or mq_open()'s oflag asks for (O_RDONLY read,
 * O_WRONLY write, else both), with SHUTTLE_OPEN_NONBLOCK for O_NONBLOCK. */
unsigned shim_open_flags(int oflag);

/* The name table behind getaddrinfo() (shim-names.c).
 *
 * shim_name_parse: "db.kv.shuttle" (suffix in any case) → "db.kv" in buf
 * (SHUTTLE_SERVICE_MAX + 1 bytes); false for anything else, including
 * names that are not valid SERVICE values. */
bool shim_name_parse(const char *node, char buf[static SHUTTLE_SERVICE_MAX + 1]);
/* The address for service (allocating one on first use): 0 or -ENOSPC. */
int shim_name_address(const char *service, struct in_addr *ret);
/* The service behind an address handed out before; false if none (cheap
 * when no name was ever resolved). */
bool shim_name_lookup(struct in_addr a, char buf[static SHUTTLE_SERVICE_MAX + 1]);
/* After fork in the child: the table's lock may have been held. */
void shim_names_atfork_child(void);
void shim_names_atfork_prepare(void);
void shim_names_atfork_parent(void);

/* The exec hooks (shim-exec.c).  shim_exec_init() looks up the real
 * functions; the constructor calls it.
 *
 * shim_exec_redirect: exec of the app entry path
 * (SHIM_APPS_DIR "<container>/<app>") as shuttle-invoke, which makes the
 * INVOKE request.  Returns -ENOSYS if path is not an entry's name (the
 * caller goes on with the real call), -E2BIG if argv has more arguments
 * than an INVOKE takes, else does not return unless the exec failed (a
 * negative errno).  Async-signal-safe. */
void shim_exec_init(void);
int shim_exec_redirect(const char *path, char *const argv[], char *const envp[]);
