/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How a detached container is handed to its state directory's one
 * shuttle-monitor (shuttle-monitor.c; the client side is monitor-client.c).
 * libc only: the static monitor includes it.
 *
 *   <state>/monitor.HASH.sock   SOCK_SEQPACKET, the monitor listens
 *   <state>/monitor.HASH.lock   flock()-ed (LOCK_EX) by the monitor for its
 *                               whole life: whoever takes it starts the next
 *
 * HASH: of the starter's /proc/self/cgroup (monitor-client.c): one monitor
 * per state directory and cgroup the starts come from.
 *
 * One message per container, client to monitor: a MonitorAdopt, then
 * argc NUL-terminated strings (the exit command's argv, without the status
 * the monitor appends); with it, by SCM_RIGHTS, the fds in MonitorFd order,
 * then n_held fds the monitor keeps until the container's end and passes to
 * the exit command as fds 3, 4, ... in that order (log_index: which of them
 * is the log, -1: none).  The monitor answers one byte, MONITOR_ACK, once it
 * owns the container; anything else (a close) means: try again. */

#include <stdint.h>

#define MONITOR_MAGIC 0x53484d31u /* "SHM1" */
#define MONITOR_ACK 'A'
#define MONITOR_HELD_MAX 4
#define MONITOR_MSG_MAX 8192

enum {
        MONITOR_FD_SOCK,  /* the init's socket: EXITED arrives here */
        MONITOR_FD_PIDFD, /* the init's pidfd */
        MONITOR_FD_OUT,   /* read end of the pipe the container writes to */
        MONITOR_FD_EXE,   /* the exit command's binary (O_PATH) */
        MONITOR_FD_MAX,
};

typedef struct MonitorAdopt {
        uint32_t magic;
        uint32_t argc;
        uint32_t n_held;
        int32_t log_index;
} MonitorAdopt;
