/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* register-bench STATE_DIR ROUNDS N1 [N2...]: the broker's cost of one
 * register + unregister (through control.sock, as shuttlectl does) while
 * N1, then N2, ... other containers are registered (up or down).  The containers are
 * processes that sleep, each the init of a pid namespace of its own (the
 * broker refuses one in the host's); each has one export.  Prints "N
 * MEDIAN_USEC" per count.  Run by bench/register.sh with a broker on
 * STATE_DIR. */

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shuttle/host/broker-client.h"

static pid_t spawn_in_pidns(void) {
        pid_t pid = (pid_t) syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);

        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                for (;;)
                        pause();
        }
        return pid;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static int reg(const char *state, const char *name, pid_t pid) {
        ContainerExport e = { .name = (char *) "kv", .socket = (char *) "/run/kv.sock" };
        ContainerConfig c = { .name = (char *) name, .exports = &e, .n_exports = 1 };
        char *error = NULL;
        int r = broker_register_container(state, &c, pid, 0, &error);

        if (r < 0)
                fprintf(stderr, "register-bench: registering '%s' (pid %d): %s\n", name, (int) pid,
                        error ?: strerror(-r));
        free(error);
        return r;
}

int main(int argc, char **argv) {
        const char *state;
        int rounds, have = 0, n_procs = 0, max = 0;
        pid_t probe, *procs;

        if (argc < 4 || (rounds = atoi(argv[2])) <= 0) {
                fprintf(stderr, "usage: register-bench STATE_DIR ROUNDS N1 [N2...]\n");
                return 2;
        }
        state = argv[1];
        for (int a = 3; a < argc; a++)
                if (atoi(argv[a]) > max)
                        max = atoi(argv[a]);
        procs = calloc((size_t) max + 1, sizeof(pid_t));
        if (!procs)
                return 1;
        probe = spawn_in_pidns();
        if (probe < 0) {
                perror("register-bench: clone");
                return 1;
        }
        for (int a = 3; a < argc; a++) {
                int n = atoi(argv[a]);
                uint64_t *t = calloc((size_t) rounds, sizeof(uint64_t));

                if (!t)
                        return 1;
                /* Up by registering more (each process made once), down by
                 * unregistering: counts may come in any order, so that
                 * rounds at each count interleave with the others. */
                for (; have < n; have++) {
                        char name[32];
                        snprintf(name, sizeof(name), "bulk%d", have);
                        if (have >= n_procs) {
                                pid_t p = spawn_in_pidns();
                                if (p < 0)
                                        return 1;
                                procs[n_procs++] = p;
                        }
                        if (reg(state, name, procs[have]) < 0)
                                return 1;
                }
                for (; have > n; have--) {
                        char name[32];
                        snprintf(name, sizeof(name), "bulk%d", have - 1);
                        if (broker_unregister_container(state, name) < 0)
                                return 1;
                }
                for (int i = 0; i < rounds; i++) {
                        uint64_t t0 = now_usec();
                        if (reg(state, "probe", probe) < 0 || broker_unregister_container(state, "probe") < 0)
                                return 1;
                        t[i] = now_usec() - t0;
                }
                qsort(t, (size_t) rounds, sizeof(uint64_t), cmp_u64);
                printf("%d %llu\n", n, (unsigned long long) t[rounds / 2]);
                fflush(stdout);
                free(t);
        }
        return 0;
}
