/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-transfer [--socket PATH] [--mode ro|rw] [--] TARGET PATH
 *
 * Asks the broker to make PATH (a file or directory of this container)
 * visible in container TARGET (TRANSFER, shuttle_transfer(); the policy's
 * transfer rules decide, with the access they grant) and prints the name
 * TARGET sees it by on stdout, so that a shell can do
 *
 *     /run/shuttle/bin/shuttle-invoke viewer /usr/bin/pdfview \
 *             "$(shuttle-transfer viewer report.pdf)"
 *
 * A relative PATH is taken from the current directory (the protocol
 * wants an absolute one in the caller's view); the broker resolves it in
 * this container's root and refuses symlinks on the way.  The transfer
 * lives until the operator revokes it, its grant ends, or either
 * container stops.
 *
 * Errors go to stderr as "shuttle-transfer: ..." with exit status 1
 * (refused by the broker, or no broker); usage errors, including a TARGET
 * or PATH the protocol cannot carry, exit 2.
 *
 * Like shuttle-invoke it runs inside containers whatever their rootfs
 * (bound at /run/shuttle-bin/), so it is built from the client sources
 * alone and linked statically. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/client/abs-path.h"
#include "shuttle/client/client.h"
#include "shuttle/client/helper-common.h"

const char helper_name[] = "shuttle-transfer";

static void usage(FILE *f) {
        fprintf(f, "Usage: shuttle-transfer [--socket PATH] [--mode ro|rw] [--] TARGET PATH\n"
                   "Make PATH (a file or directory here; relative to the current directory\n"
                   "unless absolute) visible in container TARGET, through the Shuttle broker\n"
                   "as its policy allows, and print the name TARGET sees it by.\n\n"
                   "  -m, --mode ro|rw   read-only (the default) or read-write in TARGET\n"
                   "  -s, --socket PATH  broker socket (default $" SHUTTLE_BROKER_SOCKET_ENV
                   " or " SHUTTLE_BROKER_SOCKET ")\n"
                   "  -h, --help         show this help\n"
                   "      --version      print the version\n\n"
                   "Exit status: 0 printed, 1 refused, no broker or failed, 2 usage error.\n");
}

/* arg, made absolute against the current directory if it is relative
 * (abs-path.h).  0, or a negative errno: the current directory is unknown
 * (deleted, or outside this root), or the result is too long. */
static int absolute(const char *arg, char ret[static SHUTTLE_PATH_MAX + 1]) {
        char cwd[PATH_MAX];

        /* getcwd() fails (ENOENT) rather than return "(unreachable)/..."
         * for a directory outside this process's root. */
        if (arg[0] != '/' && !getcwd(cwd, sizeof(cwd)))
                return -errno;
        return shuttle_path_absolute(arg[0] == '/' ? NULL : cwd, arg, ret, SHUTTLE_PATH_MAX + 1);
}

int main(int argc, char **argv) {
        enum { OPT_VERSION = 0x100 };
        static const struct option opts[] = {
                HELPER_OPTIONS,
                { "mode", required_argument, NULL, 'm' },
                { "version", no_argument, NULL, OPT_VERSION },
                {},
        };
        _cleanup_shuttle_client_ ShuttleClient *c = NULL;
        char path[SHUTTLE_PATH_MAX + 1], out[SHUTTLE_PATH_MAX + 1], msg[SHUTTLE_MESSAGE_MAX + 1] = "";
        static uint8_t frame[SHUTTLE_FRAME_MAX];
        ShuttleTransferMode mode = SHUTTLE_TRANSFER_RO;
        const char *socket_path = NULL, *target, *arg, *reason = NULL;
        ShuttleMsg m;
        size_t len;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "s:m:h", opts, NULL)) >= 0)
                switch (opt) {
                case 'm':
                        if (streq(optarg, "ro"))
                                mode = SHUTTLE_TRANSFER_RO;
                        else if (streq(optarg, "rw"))
                                mode = SHUTTLE_TRANSFER_RW;
                        else {
                                fprintf(stderr, "shuttle-transfer: --mode is ro or rw, not '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case OPT_VERSION:
                        printf("shuttle-transfer %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        r = helper_option(opt, &socket_path, usage, 2);
                        if (r >= 0)
                                return r;
                }
        if (argc - optind != 2) {
                if (argc - optind > 2)
                        fprintf(stderr, "shuttle-transfer: one TARGET and one PATH, not %d arguments\n",
                                argc - optind);
                usage(stderr);
                return 2;
        }
        target = argv[optind];
        arg = argv[optind + 1];
        if (!*target || !*arg) {
                fprintf(stderr, "shuttle-transfer: %s is empty\n", *target ? "PATH" : "TARGET");
                return 2;
        }

        r = absolute(arg, path);
        if (r < 0) {
                fprintf(stderr, "shuttle-transfer: %s: %s\n", arg,
                        r == -ENAMETOOLONG ? "path too long (4095 bytes at most)"
                                           : "cannot tell the current directory to start a relative path from");
                return r == -ENAMETOOLONG ? 2 : 1;
        }
        /* What the broker would refuse as malformed (a name it cannot
         * carry, control characters) is a usage error: checked here with
         * the protocol's own encoder, which says which. */
        shuttle_msg_transfer(&m, 1, path, mode, target);
        r = shuttle_msg_encode(&m, frame, sizeof(frame), &len, &reason);
        if (r < 0) {
                fprintf(stderr, "shuttle-transfer: cannot ask for '%s' to '%s': %s\n", path, target,
                        reason ?: strerror(-r));
                return 2;
        }

        r = shuttle_client_open(socket_path, &c);
        if (r < 0) {
                if (!socket_path) {
                        socket_path = secure_getenv(SHUTTLE_BROKER_SOCKET_ENV);
                        if (!socket_path || !*socket_path)
                                socket_path = SHUTTLE_BROKER_SOCKET;
                }
                fprintf(stderr, "shuttle-transfer: no broker at %s: %s%s\n", socket_path, strerror(-r),
                        r == -ENOENT || r == -ECONNREFUSED ? " (mediation is off in this container)" : "");
                return 1;
        }
        r = shuttle_transfer(c, path, mode, target, out, NULL);
        if (r < 0) {
                shuttle_client_last_message(c, msg, sizeof(msg));
                /* A MESSAGE is the broker's refusal (the audit log has it
                 * too); without one the request failed on the way. */
                fprintf(stderr, "shuttle-transfer: %s to '%s' (%s) %s: %s%s%s\n", path, target,
                        mode == SHUTTLE_TRANSFER_RW ? "rw" : "ro", msg[0] ? "refused" : "failed", strerror(-r),
                        msg[0] ? ": " : "", msg);
                return 1;
        }
        return helper_print(out);
}
