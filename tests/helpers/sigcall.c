/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Signals through libc, for tests/integration/names.sh: whatever the shim
 * does to kill() and sigqueue(), it does to this program as to any other.
 *
 *   sigcall kill PID SIG            kill(); prints "kill=0" or "kill=-1 ERRNO"
 *   sigcall queue PID SIG VALUE     sigqueue(); prints "queue=0" or "queue=-1 ERRNO"
 *   sigcall keep PID                kill(PID, 0) with errno set to EDOM before:
 *                                   prints "kill=0 errno-kept=yes|no"
 *   sigcall threads PID N M         N threads each kill(PID, 0) M times;
 *                                   prints "ok N*M" or the first failure
 *   sigcall fork PID                kill(PID, 0) in the parent, in a forked
 *                                   child, in the parent again
 *   sigcall wait READY              blocks USR1, USR2, HUP, TERM and SIGRTMIN,
 *                                   creates READY, then prints one line per
 *                                   signal: "NAME code=CODE value=N"; exits
 *                                   after TERM
 *
 * SIG is a number or a name without SIG (USR1, RTMIN).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct {
        const char *name;
        int sig;
} names[] = {
        { "HUP", SIGHUP }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "KILL", SIGKILL },
};

static int parse_sig(const char *s) {
        if (strcmp(s, "RTMIN") == 0)
                return SIGRTMIN;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcmp(s, names[i].name) == 0)
                        return names[i].sig;
        return atoi(s);
}

static const char *sig_name(int sig) {
        static char buf[16];

        if (sig == SIGRTMIN)
                return "RTMIN";
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (names[i].sig == sig)
                        return names[i].name;
        snprintf(buf, sizeof(buf), "%d", sig);
        return buf;
}

static const char *errno_name(int e) {
        switch (e) {
        case EPERM:
                return "EPERM";
        case ESRCH:
                return "ESRCH";
        case EINVAL:
                return "EINVAL";
        default:
                return strerror(e);
        }
}

static const char *code_name(int code) {
        switch (code) {
        case SI_USER:
                return "SI_USER";
        case SI_QUEUE:
                return "SI_QUEUE";
        case SI_TKILL:
                return "SI_TKILL";
        default:
                return "other";
        }
}

static int do_kill(const char *what, pid_t pid, int sig, const int *value) {
        int r = value ? sigqueue(pid, sig, (union sigval){ .sival_int = *value }) : kill(pid, sig);

        if (r < 0)
                printf("%s=-1 %s\n", what, errno_name(errno));
        else
                printf("%s=0\n", what);
        return r < 0 ? 1 : 0;
}

typedef struct Job {
        pid_t pid;
        int m;
        int failed;
} Job;

static void *thread_main(void *p) {
        Job *j = p;

        for (int i = 0; i < j->m; i++)
                if (kill(j->pid, 0) < 0)
                        j->failed++;
        return NULL;
}

static int do_threads(pid_t pid, int n, int m) {
        pthread_t t[64];
        Job jobs[64];
        int failed = 0;

        if (n < 1 || n > 64)
                return 2;
        for (int i = 0; i < n; i++) {
                jobs[i] = (Job){ .pid = pid, .m = m };
                if (pthread_create(&t[i], NULL, thread_main, &jobs[i]) != 0)
                        return 1;
        }
        for (int i = 0; i < n; i++) {
                pthread_join(t[i], NULL);
                failed += jobs[i].failed;
        }
        if (failed)
                printf("failed %d of %d\n", failed, n * m);
        else
                printf("ok %d\n", n * m);
        return failed ? 1 : 0;
}

static int do_fork(pid_t pid) {
        int status;
        pid_t child;

        fflush(stdout);
        do_kill("parent", pid, 0, NULL);
        fflush(stdout);
        child = fork();
        if (child < 0)
                return 1;
        if (child == 0) {
                do_kill("child", pid, 0, NULL);
                fflush(stdout);
                _exit(0);
        }
        if (waitpid(child, &status, 0) < 0)
                return 1;
        do_kill("parent-again", pid, 0, NULL);
        return 0;
}

static int do_wait(const char *ready) {
        sigset_t set;
        siginfo_t si;
        int fd;

        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigaddset(&set, SIGUSR2);
        sigaddset(&set, SIGHUP);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGRTMIN);
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
                return 1;
        setvbuf(stdout, NULL, _IOLBF, 0);
        fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return 1;
        close(fd);
        for (;;) {
                int sig = sigwaitinfo(&set, &si);
                if (sig < 0) {
                        if (errno == EINTR)
                                continue;
                        return 1;
                }
                printf("%s code=%s value=%d\n", sig_name(sig), code_name(si.si_code),
                       si.si_code == SI_QUEUE ? si.si_value.sival_int : 0);
                if (sig == SIGTERM)
                        return 0;
        }
}

int main(int argc, char **argv) {
        int value;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc == 4 && strcmp(argv[1], "kill") == 0)
                return do_kill("kill", (pid_t) atoi(argv[2]), parse_sig(argv[3]), NULL);
        if (argc == 5 && strcmp(argv[1], "queue") == 0) {
                value = atoi(argv[4]);
                return do_kill("queue", (pid_t) atoi(argv[2]), parse_sig(argv[3]), &value);
        }
        if (argc == 3 && strcmp(argv[1], "keep") == 0) {
                int r;
                errno = EDOM;
                r = kill((pid_t) atoi(argv[2]), 0);
                printf("kill=%d errno-kept=%s\n", r, r == 0 && errno == EDOM ? "yes" : "no");
                return r < 0 ? 1 : 0;
        }
        if (argc == 5 && strcmp(argv[1], "threads") == 0)
                return do_threads((pid_t) atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
        if (argc == 3 && strcmp(argv[1], "fork") == 0)
                return do_fork((pid_t) atoi(argv[2]));
        if (argc == 3 && strcmp(argv[1], "wait") == 0)
                return do_wait(argv[2]);
        fprintf(stderr, "usage: sigcall kill|queue|keep|threads|fork|wait ...\n");
        return 2;
}
