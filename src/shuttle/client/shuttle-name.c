/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-name [--socket PATH] pid CONTAINER APP
 * shuttle-name [--socket PATH] service CONTAINER NAME
 * shuttle-name [--socket PATH] host CONTAINER
 *
 * Asks the broker to translate a name of another container into this
 * one's view (RESOLVE; the policy's transfer rules decide) and prints it
 * on stdout: a pid that kill() and sigqueue() reach through the shim, the
 * path of a service's socket, an address.  So a shell can do
 *
 *     kill -TERM $(shuttle-name pid viewer /usr/bin/sleep)
 *
 * Errors go to stderr as "shuttle-name: ..." with exit status 1; usage
 * errors exit 2.
 *
 * Like shuttle-invoke it runs inside containers whatever their rootfs
 * (bound at /run/shuttle-bin/), so it is built from the client sources
 * alone and linked statically. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "shuttle/client/client.h"
#include "shuttle/client/helper-common.h"

const char helper_name[] = "shuttle-name";

static void usage(FILE *f) {
        fprintf(f, "Usage: shuttle-name [--socket PATH] pid CONTAINER APP\n"
                   "       shuttle-name [--socket PATH] service CONTAINER NAME\n"
                   "       shuttle-name [--socket PATH] host CONTAINER\n"
                   "Translate a name of container CONTAINER into this container's view, through\n"
                   "the Shuttle broker as its policy allows, and print it:\n\n"
                   "  pid      a process of APP (its executable's path, or its name): a pid\n"
                   "           that kill and sigqueue reach through the shim\n"
                   "  service  a service CONTAINER exports: the path of its socket here\n"
                   "  host     CONTAINER's address on a network both containers share\n\n"
                   "  -s, --socket PATH  broker socket (default $" SHUTTLE_BROKER_SOCKET_ENV
                   " or " SHUTTLE_BROKER_SOCKET ")\n"
                   "  -h, --help         show this help\n\n"
                   "Exit status: 0 printed, 1 refused or failed, 2 usage error.\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                HELPER_OPTIONS,
                {},
        };
        _cleanup_shuttle_client_ ShuttleClient *c = NULL;
        char out[SHUTTLE_PATH_MAX + 1];
        const char *socket_path = NULL, *what, *container, *arg = NULL;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "+s:h", opts, NULL)) >= 0) {
                r = helper_option(opt, &socket_path, usage, 2);
                if (r >= 0)
                        return r;
        }
        if (argc - optind < 2) {
                usage(stderr);
                return 2;
        }
        what = argv[optind];
        container = argv[optind + 1];
        if (streq(what, "pid") || streq(what, "service")) {
                if (argc - optind != 3) {
                        fprintf(stderr, "shuttle-name: %s needs CONTAINER and %s\n", what,
                                streq(what, "pid") ? "APP" : "NAME");
                        return 2;
                }
                arg = argv[optind + 2];
        } else if (streq(what, "host")) {
                if (argc - optind != 2) {
                        fprintf(stderr, "shuttle-name: host needs CONTAINER only\n");
                        return 2;
                }
        } else {
                fprintf(stderr, "shuttle-name: unknown kind of name '%s' (pid, service or host)\n", what);
                return 2;
        }

        if (helper_open(socket_path, &c) < 0)
                return 1;
        if (streq(what, "pid")) {
                pid_t pid = 0;
                r = shuttle_resolve_pid(c, container, arg, &pid);
                if (r >= 0)
                        snprintf(out, sizeof(out), "%d", (int) pid);
        } else if (streq(what, "service"))
                r = shuttle_resolve_service(c, container, arg, out);
        else
                r = shuttle_resolve_host(c, container, out);
        if (r < 0) {
                helper_failed(c, r, "%s%s%s in '%s'", what, arg ? " " : "", arg ?: "", container);
                return 1;
        }
        return helper_print(out);
}
