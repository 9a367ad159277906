/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-invoke [--socket PATH] TARGET APP [ARG...]
 *
 * Runs APP inside container TARGET through the broker, with this
 * process's stdin, stdout and stderr, and exits with its status (its exit
 * code, or 128+N if signal N ended it).  SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * SIGUSR1, SIGUSR2 and SIGWINCH are forwarded to it.  Environment
 * variables named in $SHUTTLE_INVOKE_ENV (separated by spaces, commas or
 * colons) are offered to it; the broker passes only those the policy
 * allows.  Exit status 125: it could not be invoked (refused, no broker, no
 * such container).
 *
 * It runs inside containers (bind-mounted at /run/shuttle-bin/), so it is
 * built from the client sources alone, statically when the toolchain can. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/client.h"

#define INVOKE_ENV "SHUTTLE_INVOKE_ENV"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
static int interrupt_w = -1;

static void usage(FILE *f) {
        fprintf(f, "Usage: shuttle-invoke [--socket PATH] TARGET APP [ARG...]\n"
                   "Run APP inside container TARGET, through the Shuttle broker, with this\n"
                   "terminal's stdin/stdout/stderr; exit with its status.\n\n"
                   "  -s, --socket PATH  broker socket (default $" SHUTTLE_BROKER_SOCKET_ENV
                   " or " SHUTTLE_BROKER_SOCKET ")\n"
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

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "socket", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_shuttle_client_ ShuttleClient *c = NULL;
        const char *socket_path = NULL;
        static const int stdio[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
        char msg[SHUTTLE_MESSAGE_MAX + 1] = "";
        char **env;
        int pipefd[2], opt, status = 0, r;

        while ((opt = getopt_long(argc, argv, "+s:h", opts, NULL)) >= 0)
                switch (opt) {
                case 's':
                        socket_path = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 125;
                }
        if (argc - optind < 2) {
                usage(stderr);
                return 125;
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

        r = shuttle_client_open(socket_path, &c);
        if (r < 0) {
                fprintf(stderr, "shuttle-invoke: cannot reach the broker: %s\n", strerror(-r));
                return 125;
        }
        env = offered_env();
        r = shuttle_invoke(c, argv[optind], argv[optind + 1], (const char *const *) argv + optind + 2,
                           (const char *const *) env, stdio, pipefd[0], &status);
        if (r < 0) {
                shuttle_client_last_message(c, msg, sizeof(msg));
                fprintf(stderr, "shuttle-invoke: %s in '%s': %s%s%s\n", argv[optind + 1], argv[optind],
                        strerror(-r), msg[0] ? ": " : "", msg);
                return 125;
        }
        return status;
}
