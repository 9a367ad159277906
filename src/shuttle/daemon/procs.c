/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Processes of a container, as the broker finds them in /proc: the ones
 * running an app (SIGNAL, RESOLVE), and what a process runs. */

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/daemon/broker-api.h"

bool broker_proc_in_pidns(const char *pid, const Container *c) {
        char path[300]; /* /proc/<d_name>/... */
        struct stat st;

        snprintf(path, sizeof(path), "/proc/%s/ns/pid", pid);
        return stat(path, &st) == 0 && st.st_dev == c->pidns_dev && st.st_ino == c->pidns_ino;
}

/* The executable of a process as its own container sees it: /proc/PID/exe
 * names a file of a mount namespace the broker's root does not reach, so
 * the kernel writes it from that namespace's root. */
int broker_proc_exe(const char *pid, char *buf, size_t size) {
        char path[300]; /* /proc/<d_name>/... */
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%s/exe", pid);
        n = readlink(path, buf, size - 1);
        if (n < 0)
                return -errno;
        if ((size_t) n >= size - 1)
                return -ENAMETOOLONG;
        buf[n] = '\0';
        return 0;
}

static bool comm_is(const char *pid, const char *name) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[300], comm[64];

        snprintf(path, sizeof(path), "/proc/%s/comm", pid);
        f = fopen(path, "re");
        if (!f || !fgets(comm, sizeof(comm), f))
                return false;
        comm[strcspn(comm, "\n")] = '\0';
        return streq(comm, name);
}

int broker_for_each_app_process(const Container *target, const char *app, AppProcessFn fn, void *userdata) {
        _cleanup_closedir_ DIR *d = opendir("/proc");
        struct dirent *de;
        int n = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char exe[PATH_MAX];

                if (de->d_name[0] < '1' || de->d_name[0] > '9' || !broker_proc_in_pidns(de->d_name, target))
                        continue;
                if (app[0] == '/' ? broker_proc_exe(de->d_name, exe, sizeof(exe)) < 0 || !streq(exe, app)
                                  : !comm_is(de->d_name, app))
                        continue;
                fn((pid_t) atoi(de->d_name), userdata);
                n++;
        }
        return n;
}
