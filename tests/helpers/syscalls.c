/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Makes raw system calls and prints what came back, one line per call:
 *
 *     syscalls SPEC...
 *
 * SPEC is NAME[:ARG...]: NAME a system call name (resolved for this
 * architecture with libseccomp) or a number; ARGs decimal or 0x hex, "-1"
 * allowed, missing ones -1.  "i386:NR[:ARG...]" makes the call through the
 * i386 ABI ("int $0x80") on x86_64 (with SHUTTLE_TEST_NO_IA32 set, such a
 * call dies of SIGSEGV instead, as on a kernel without that ABI).  Each call
 * runs in a child of its own, so one that exits, crashes or is killed by the
 * filter harms nothing.
 *
 * Output: "SPEC OK" when the call returned >= 0, "SPEC ERRNO" (the errno's
 * name: ENOSYS, EPERM, EBADF...) when it failed, "SPEC UNKNOWN" for a name
 * this libseccomp does not know, "SPEC KILLED" when the child died of a
 * signal.  Used by tests/integration/seccomp.sh. */

#include <errno.h>
#include <inttypes.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
static long syscall_i386(long nr, long a1, long a2, long a3) {
        long ret;
        __asm__ volatile("int $0x80"
                         : "=a"(ret)
                         : "a"(nr), "b"(a1), "c"(a2), "d"(a3)
                         : "memory", "r8", "r9", "r10", "r11");
        return ret;
}
#endif

static int parse_num(const char *s, long *ret) {
        char *end;

        errno = 0;
        long long v = strtoll(s, &end, 0);
        if (errno == ERANGE) {
                errno = 0;
                v = (long long) strtoull(s, &end, 0);
        }
        if (errno != 0 || end == s || *end != '\0')
                return -EINVAL;
        *ret = (long) v;
        return 0;
}

/* Returns 0 or a positive errno the call failed with; -1 for bad specs,
 * -2 for unknown names. */
static int call(char *spec) {
        long nr, a[6] = { -1, -1, -1, -1, -1, -1 };
        bool i386 = false;
        char *tok, *save = NULL;
        long ret;

        tok = strtok_r(spec, ":", &save);
        if (tok && strcmp(tok, "i386") == 0) {
                i386 = true;
                tok = strtok_r(NULL, ":", &save);
        }
        if (!tok)
                return -1;
        if (parse_num(tok, &nr) < 0) {
                int n = seccomp_syscall_resolve_name(tok);
                if (n == __NR_SCMP_ERROR || n < 0)
                        return -2;
                nr = n;
        }
        for (size_t i = 0; i < 6 && (tok = strtok_r(NULL, ":", &save)); i++)
                if (parse_num(tok, &a[i]) < 0)
                        return -1;

        if (i386) {
                /* For the tests: die as on a kernel without the ABI. */
                if (getenv("SHUTTLE_TEST_NO_IA32"))
                        raise(SIGSEGV);
#if defined(__x86_64__)
                ret = syscall_i386(nr, a[0], a[1], a[2]);
                return ret < 0 && ret > -4096 ? (int) -ret : 0;
#else
                return ENOSYS;
#endif
        }
        ret = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        return ret < 0 ? errno : 0;
}

int main(int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                int pipefd[2], status;
                int result = -1;
                pid_t pid;

                if (pipe(pipefd) < 0)
                        return 2;
                fflush(stdout);
                pid = fork();
                if (pid < 0)
                        return 2;
                if (pid == 0) {
                        char *spec = strdup(argv[i]);
                        sigset_t none;
                        int r;

                        /* A call that faults (int $0x80 without the i386
                         * ABI: SIGSEGV) kills this child, whatever it
                         * inherited ignored or blocked: "KILLED". */
                        for (int sig = 1; sig < NSIG; sig++)
                                (void) signal(sig, SIG_DFL);
                        sigemptyset(&none);
                        (void) sigprocmask(SIG_SETMASK, &none, NULL);
                        close(pipefd[0]);
                        if (!spec)
                                _exit(2);
                        r = call(spec);
                        (void) !write(pipefd[1], &r, sizeof(r));
                        _exit(0);
                }
                close(pipefd[1]);
                if (read(pipefd[0], &result, sizeof(result)) != sizeof(result))
                        result = -3;
                close(pipefd[0]);
                if (waitpid(pid, &status, 0) != pid)
                        return 2;

                if (result == -3 && WIFSIGNALED(status))
                        printf("%s KILLED\n", argv[i]);
                else if (result == -2)
                        printf("%s UNKNOWN\n", argv[i]);
                else if (result < 0) {
                        fprintf(stderr, "syscalls: bad spec '%s'\n", argv[i]);
                        return 2;
                } else if (result == 0)
                        printf("%s OK\n", argv[i]);
                else
                        printf("%s %s\n", argv[i], strerrorname_np(result) ?: "E?");
        }
        return 0;
}
