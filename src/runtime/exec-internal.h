/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What exec.c (the join path) and exec-zygote.c (through a zygote) share. */

#include <stdbool.h>
#include <sys/types.h>

#include "common/macro.h"
#include "runtime/exec.h"
#include "runtime/zygote.h"

/* The command's environment: c->env whole (env_exact), or the container's
 * defaults with c->env after them.  NULL on ENOMEM. */
char **exec_build_env(const StateInfo *info, const ExecConfig *c, bool root);
/* Reads reports until every holder of the other end closed it; a terminal
 * only if want_tty, a pidfd (EXEC_MSG_PIDFD) only where ret_pidfd is
 * given (*ret_pidfd -1 before). */
int exec_read_messages(int fd, bool want_tty, pid_t ret_pids[2], int *ret_tty, int *ret_pidfd,
                       ExecMessage *ret_error);
/* A reported pid checked: our child, in init_pid's pid namespace. */
int exec_check_command(pid_t pid, pid_t init_pid, int *ret_pidfd);
/* The join path: forks the joiner and reads the reports until the command
 * has exec'd (exec.c). */
int exec_start(const StateInfo *info, const char *state_dir, const ExecConfig *c, const int *stdio,
               pid_t *ret_pid, int *ret_pidfd, int *ret_tty, ExecMessage *ret_error, ExecResult *ret);
_printf_(2, 3) void exec_set_message(ExecResult *ret, const char *fmt, ...);
/* The error a report names, as a negative errno: fallback where it names
 * none (or no errno: the child's word is not taken for more). */
static inline int exec_message_errno(const ExecMessage *m, int fallback) {
        return -(m->err > 0 && m->err < 4096 ? m->err : fallback);
}
