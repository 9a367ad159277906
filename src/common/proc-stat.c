/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "common/proc-stat.h"

int proc_stat_read(pid_t pid, ProcStat *ret) {
        _cleanup_free_ char *text = NULL;
        unsigned long long start;
        char path[64], state;
        const char *p;
        int ppid, r;

        if (pid <= 0)
                return -ESRCH;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        r = read_file_at(AT_FDCWD, path, 4096, &text, NULL);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        p = strrchr(text, ')');
        /* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
         * cmajflt utime stime cutime cstime priority nice num_threads
         * itrealvalue starttime */
        if (!p || sscanf(p + 1, " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                         &state, &ppid, &start) != 3)
                return -EBADMSG;
        *ret = (ProcStat){ .state = state, .ppid = (pid_t) ppid, .start_time = start };
        return 0;
}
