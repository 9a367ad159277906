/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exercises the shim's exec hooks from inside a container
 * (tests/integration/shim-exec.sh).  Plain libc calls only.
 *
 *   execcall KIND PATH [ARG...]   runs PATH with argv [PATH, ARG...] by
 *                                 KIND: execve, execv, execvp, execvpe,
 *                                 execl, execlp, execle (in a forked
 *                                 child; at most 3 ARGs for the execl
 *                                 family), spawn or spawnp (posix_spawn,
 *                                 posix_spawnp), waits for it and prints
 *                                 "KIND exit N" or "KIND signal N"; a
 *                                 failed call prints "KIND failed ERRNAME"
 *   execcall errno PATH           execve(PATH) in this process, expected
 *                                 to fail: prints the errno's name
 *
 * execle and execvpe pass an environment of their own:
 * SHUTTLE_INVOKE_ENV=FOO and FOO=from-KIND. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int report(const char *kind, pid_t pid) {
        int status;

        if (waitpid(pid, &status, 0) < 0) {
                printf("%s waitpid failed %s\n", kind, strerrorname_np(errno));
                return 1;
        }
        if (WIFEXITED(status))
                printf("%s exit %d\n", kind, WEXITSTATUS(status));
        else
                printf("%s signal %d\n", kind, WTERMSIG(status));
        return 0;
}

static void run(const char *kind, const char *path, int n, char **args, char **argv, char **env) {
        const char *a0 = path, *a1 = n > 0 ? args[0] : NULL, *a2 = n > 1 ? args[1] : NULL,
                   *a3 = n > 2 ? args[2] : NULL;

        if (strcmp(kind, "execve") == 0)
                execve(path, argv, environ);
        else if (strcmp(kind, "execv") == 0)
                execv(path, argv);
        else if (strcmp(kind, "execvp") == 0)
                execvp(path, argv);
        else if (strcmp(kind, "execvpe") == 0)
                execvpe(path, argv, env);
        else if (strcmp(kind, "execl") == 0)
                execl(path, a0, a1, a2, a3, (char *) NULL);
        else if (strcmp(kind, "execlp") == 0)
                execlp(path, a0, a1, a2, a3, (char *) NULL);
        else if (strcmp(kind, "execle") == 0)
                /* The environment comes right after the NULL. */
                switch (n) {
                case 0:
                        execle(path, a0, (char *) NULL, env);
                        break;
                case 1:
                        execle(path, a0, a1, (char *) NULL, env);
                        break;
                case 2:
                        execle(path, a0, a1, a2, (char *) NULL, env);
                        break;
                default:
                        execle(path, a0, a1, a2, a3, (char *) NULL, env);
                }
        else
                errno = EINVAL;
}

int main(int argc, char **argv) {
        const char *kind, *path;
        char env0[64], env1[64];
        char *env[] = { env0, env1, NULL };
        pid_t pid;
        int r;

        if (argc == 3 && strcmp(argv[1], "errno") == 0) {
                char *args[] = { argv[2], NULL };
                errno = 0;
                execve(argv[2], args, environ);
                printf("%s\n", strerrorname_np(errno));
                return 0;
        }
        if (argc < 3) {
                fprintf(stderr, "usage: execcall KIND PATH [ARG...] | errno PATH\n");
                return 2;
        }
        kind = argv[1];
        path = argv[2];
        snprintf(env0, sizeof(env0), "SHUTTLE_INVOKE_ENV=FOO");
        snprintf(env1, sizeof(env1), "FOO=from-%s", kind);
        fflush(stdout);

        if (strcmp(kind, "spawn") == 0 || strcmp(kind, "spawnp") == 0) {
                r = (kind[5] == 'p' ? posix_spawnp : posix_spawn)(&pid, path, NULL, NULL, argv + 2, environ);
                if (r != 0) {
                        printf("%s failed %s\n", kind, strerrorname_np(r));
                        return 0;
                }
                return report(kind, pid);
        }
        if (strncmp(kind, "execl", 5) == 0 && argc > 6) {
                fprintf(stderr, "execcall: at most 3 arguments for %s\n", kind);
                return 2;
        }
        pid = fork();
        if (pid < 0)
                return 1;
        if (pid == 0) {
                run(kind, path, argc - 3, argv + 3, argv + 2, env);
                printf("%s failed %s\n", kind, strerrorname_np(errno));
                fflush(stdout);
                _exit(127);
        }
        return report(kind, pid);
}
