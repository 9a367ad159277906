/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between the parent side (container.c) and the container's init
 * (container-init.c).  Not part of the library's interface. */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/macro.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/mounts.h"
#include "runtime/sandbox.h"

/* Messages from the container's init to shuttlectl over a SEQPACKET pair. */
typedef enum InitMessageType {
        INIT_MSG_ERROR = 1, /* setup failed before or while starting CMD */
        INIT_MSG_EXEC_FAILED, /* CMD could not be executed (err = errno) */
        INIT_MSG_STARTED,   /* CMD is running (pid = its pid inside) */
        INIT_MSG_EXITED,    /* CMD ended (status = wait status) */
        INIT_MSG_TTY,       /* carries the pty master */
        INIT_MSG_ROOT_READY, /* pivoted into its own root: /proc/PID/root is the container's */
        INIT_MSG_CREATED,   /* cmd_is_pid1: in the sandbox, waiting on the exec FIFO */
        INIT_MSG_SECCOMP_LISTENER, /* cmd_is_pid1: carries the seccomp notify fd, right
                                    * before CREATED (the only other message with an fd) */
} InitMessageType;

typedef struct InitMessage {
        int type;
        int err;    /* positive errno for ERROR / EXEC_FAILED */
        int status; /* wait status for EXITED */
        pid_t pid;
        char text[480];
} InitMessage;

typedef struct InitArgs {
        const ContainerConfig *config;
        const MountPlan *plan;
        const char *hostname;
        const char *staging;   /* host directory the root is built on */
        const SeccompProgram *seccomp; /* built before cloning */
        int sock;              /* our end of the pair */
        int exec_fifo;         /* cmd_is_pid1: the FIFO, open for reading and writing */
        int init_program;      /* shuttle-init, O_PATH (-1: none) */
        uint64_t namespaces;   /* the CLONE_NEW* flags of the new ones */
        int ns_fds[_CONTAINER_NS_MAX]; /* namespaces to join, or -1 */
        pid_t parent;
        char *const *envp;
        uint64_t caps;         /* capabilities CMD keeps */
        const Cgroup *cgroup;  /* the init moves itself in first thing */
} InitArgs;

/* ret->message, formatted. */
_printf_(2, 3) void container_set_message(ContainerResult *ret, const char *fmt, ...);

/* container-ns.c: the namespaces of a container being created. */
uint64_t container_ns_new(const ContainerConfig *c); /* CLONE_NEW* flags of the new ones */
pid_t container_ns_clone(uint64_t flags, int *ret_pidfd);
int container_ns_open_paths(const ContainerConfig *c, int fds[static _CONTAINER_NS_MAX], ContainerResult *result);
int container_ns_write_id_map(pid_t pid, const char *file, const IdMapping *m, size_t n);
bool container_ns_id_mapped(const IdMapping *m, size_t n, uint32_t id);
int container_ns_enter_paths(const ContainerConfig *c, int ns_fds[static _CONTAINER_NS_MAX],
                             int saved[static _CONTAINER_NS_MAX], int *saved_cwd, ContainerResult *result);
void container_ns_restore_own(int saved[static _CONTAINER_NS_MAX], int *saved_cwd);
int container_ns_time_enter(const ContainerConfig *c, int *saved, ContainerResult *result);
void container_ns_time_leave(int *saved);

/* Signals shuttlectl and the init forward to CMD. */
void forwarded_signals(sigset_t *ret);

_Noreturn void container_init_main(const InitArgs *a);
