/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* subreaper CMD [ARG...] [';' CMD [ARG...]]...
 *
 * What podman's conmon and containerd's shim are to an OCI runtime: a
 * child subreaper.  Runs each command in turn (stopping at the first that
 * fails: exit 100), then reaps whatever was left to it (the container's
 * process that `shuttle-oci create` left behind, a process of `exec
 * --detach`) until nothing is, and prints how each ended, one a line:
 * "exited N" or "killed SIG".  Gives up after 20 s. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
        int status, i = 1;
        pid_t p;

        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
                perror("subreaper: PR_SET_CHILD_SUBREAPER");
                return 100;
        }
        while (i < argc) {
                int j = i;
                while (j < argc && strcmp(argv[j], ";") != 0)
                        j++;
                argv[j < argc ? j : argc] = NULL;
                p = fork();
                if (p < 0)
                        return 100;
                if (p == 0) {
                        execvp(argv[i], argv + i);
                        perror(argv[i]);
                        _exit(127);
                }
                if (waitpid(p, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "subreaper: '%s' failed\n", argv[i]);
                        return 100;
                }
                i = j + 1;
        }
        alarm(20);
        setvbuf(stdout, NULL, _IOLBF, 0);
        while ((p = wait(&status)) > 0)
                if (WIFEXITED(status))
                        printf("exited %d\n", WEXITSTATUS(status));
                else if (WIFSIGNALED(status))
                        printf("killed %d\n", WTERMSIG(status));
        return 0;
}
