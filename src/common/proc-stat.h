/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* What /proc/PID/stat says of a process that we ask about. */
typedef struct ProcStat {
        char state;             /* field 3: R, S, D, Z, X... */
        pid_t ppid;             /* field 4 */
        uint64_t start_time;    /* field 22: clock ticks after boot */
} ProcStat;

/* 0, or -ESRCH (no such process), -EBADMSG (not parsable), another
 * negative errno.  The command name (field 2) may hold spaces and
 * parentheses: the fields are read after its last ')'. */
int proc_stat_read(pid_t pid, ProcStat *ret);

static inline int proc_stat_is_zombie(const ProcStat *s) {
        return s->state == 'Z' || s->state == 'X';
}
