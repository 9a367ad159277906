/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-invoke [--socket PATH] [--fd] [--] TARGET APP [ARG...]
 * /run/shuttle/apps/TARGET/APP [ARG...]
 *
 * Runs APP inside container TARGET through the broker, with this
 * process's stdin, stdout and stderr, and exits with its status (its exit
 * code, or 128+N if signal N ended it).  SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * SIGUSR1, SIGUSR2 and SIGWINCH are forwarded to it.  Environment
 * variables named in $SHUTTLE_INVOKE_ENV (separated by spaces, commas or
 * colons) are offered to it; the broker passes only those the policy
 * allows.  With --fd, file arguments the rule lets cross reach APP as
 * open descriptors 3, 4, … (named /dev/fd/N in its arguments) instead of
 * mounts under /run/shuttle/xfer.  Exit status 125: it could not be
 * invoked (refused, no broker, no such container).
 *
 * Run as an app entry the broker made, /run/shuttle/apps/TARGET/NAME (a
 * symbolic link to this program: the name it was executed by, AT_EXECFN,
 * says what to run), it takes TARGET and APP from that name and every
 * argument as the app's; see app-entry.h.  That is how a program without
 * the shim (a static binary) invokes another container's app by exec.
 *
 * It runs inside containers (bind-mounted at /run/shuttle-bin/), so it is
 * built from the client sources alone, statically when the toolchain can. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/client/app-entry.h"
#include "shuttle/client/client.h"
#include "shuttle/client/helper-common.h"

const char helper_name[] = "shuttle-invoke";

#define INVOKE_ENV "SHUTTLE_INVOKE_ENV"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
static int interrupt_w = -1;

static void usage(FILE *f) {
        fprintf(f, "Usage: shuttle-invoke [--socket PATH] [--fd] [--] TARGET APP [ARG...]\n"
                   "       " SHUTTLE_APPS_DIR "TARGET/APP [ARG...]\n"
                   "Run APP inside container TARGET, through the Shuttle broker, with this\n"
                   "terminal's stdin/stdout/stderr; exit with its status.\n\n"
                   "  -s, --socket PATH  broker socket (default $" SHUTTLE_BROKER_SOCKET_ENV
                   " or " SHUTTLE_BROKER_SOCKET ")\n"
                   "      --fd           pass file arguments as open descriptors (/dev/fd/N)\n"
                   "                     instead of mounting them in TARGET\n"
                   "  -h, --help         show this help\n\n"
                   "Environment variables named in $" INVOKE_ENV " (e.g. \"LANG LC_ALL\") are\n"
                   "offered to APP; the policy's env allowlist decides which pass.\n");
}

/* Async-signal-safe: one byte per signal, for the main loop to forward. */
static void on_signal(int sig) {
        int saved = errno;
        unsigned char b = (unsigned char) sig;
        (void) !write(interrupt_w, &b, 1);
        errno = saved;
}

/* "NAME=value" for each name in $SHUTTLE_INVOKE_ENV that is set. */
static char **offered_env(void) {
        const char *list = getenv(INVOKE_ENV);
        char *copy, *save = NULL, **env;
        size_t n = 0;

        if (!list || !*list)
                return NULL;
        copy = strdup(list);
        env = calloc(strlen(list) / 2 + 2, sizeof(char *));
        if (!copy || !env) {
                free(copy);
                free(env);
                return NULL;
        }
        for (char *name = strtok_r(copy, " ,:", &save); name; name = strtok_r(NULL, " ,:", &save)) {
                const char *v = getenv(name);
                if (!v || n >= SHUTTLE_ARGS_MAX || asprintf(&env[n], "%s=%s", name, v) < 0)
                        continue;
                n++;
        }
        free(copy);
        return env;
}

/* name, made absolute if it is relative (cd /run/shuttle/apps/b && ./echo),
 * as an app entry: true, and the target and app it says. */
static bool entry_name(const char *name, char target[static SHUTTLE_NAME_MAX + 1],
                       char app[static SHUTTLE_PATH_MAX + 1]) {
        char buf[PATH_MAX];

        if (!name || !*name)
                return false;
        if (name[0] != '/') {
                size_t n;

                while (name[0] == '.' && name[1] == '/')
                        name += 2;
                if (!getcwd(buf, sizeof(buf)))
                        return false;
                n = strlen(buf);
                if ((size_t) snprintf(buf + n, sizeof(buf) - n, "%s%s", n > 1 ? "/" : "", name) >=
                    sizeof(buf) - n)
                        return false;
                name = buf;
        }
        return shuttle_app_entry_parse(name, target, app) >= 0;
}

/* Started as an app entry, /run/shuttle/apps/TARGET/APP: true, and the
 * target and app that name says.  The name is the one the kernel executed
 * (AT_EXECFN), else argv[0]: a script whose first line is
 * "#!/run/shuttle/apps/TARGET/APP" runs this program with the script's
 * name as AT_EXECFN, the line's as argv[0] and the script's as argv[1].
 * Neither an entry's (this program under its own name): false. */
static bool app_entry(int argc, char **argv, char target[static SHUTTLE_NAME_MAX + 1],
                      char app[static SHUTTLE_PATH_MAX + 1]) {
        return entry_name((const char *) getauxval(AT_EXECFN), target, app) ||
               (argc > 0 && entry_name(argv[0], target, app));
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                HELPER_OPTIONS,
                { "fd", no_argument, NULL, 'F' },
                {},
        };
        _cleanup_shuttle_client_ ShuttleClient *c = NULL;
        const char *socket_path = NULL;
        static const int stdio[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
        char entry_target[SHUTTLE_NAME_MAX + 1], entry_app[SHUTTLE_PATH_MAX + 1];
        const char *target, *app;
        unsigned flags = 0;
        char **args, **env;
        int pipefd[2], opt, status = 0, r;

        if (app_entry(argc, argv, entry_target, entry_app)) {
                /* Every argument is the app's: no options in this form. */
                target = entry_target;
                app = entry_app;
                args = argc > 0 ? argv + 1 : argv;
        } else {
                while ((opt = getopt_long(argc, argv, "+s:h", opts, NULL)) >= 0) {
                        if (opt == 'F') {
                                flags |= SHUTTLE_INVOKE_FILES_AS_FDS;
                                continue;
                        }
                        r = helper_option(opt, &socket_path, usage, 125);
                        if (r >= 0)
                                return r;
                }
                /* "--" ends the options (getopt_long() takes it), so that
                 * a target or app starting with '-' can be named. */
                if (argc - optind < 2) {
                        usage(stderr);
                        return 125;
                }
                target = argv[optind];
                app = argv[optind + 1];
                args = argv + optind + 2;
        }

        if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
                fprintf(stderr, "shuttle-invoke: pipe: %s\n", strerror(errno));
                return 125;
        }
        interrupt_w = pipefd[1];
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++) {
                struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
                sigemptyset(&sa.sa_mask);
                (void) sigaction(forwarded[i], &sa, NULL);
        }

        if (helper_open(socket_path, &c) < 0)
                return 125;
        env = offered_env();
        r = shuttle_invoke_ex(c, target, app, (const char *const *) args, (const char *const *) env, stdio,
                              pipefd[0], flags, &status);
        if (r < 0) {
                helper_failed(c, r, "%s in '%s'", app, target);
                return 125;
        }
        return status;
}
