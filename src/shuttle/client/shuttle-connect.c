/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-connect [--socket PATH] CONTAINER.SERVICE
 *
 * Asks the broker for a connection to a service and relays stdin/stdout
 * over it, like "socat - UNIX-CONNECT:…" but through the broker.  When
 * stdin ends, the write side of the connection is shut down and output is
 * relayed until the service closes. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "shuttle/client/client.h"
#include "shuttle/client/helper-common.h"

const char helper_name[] = "shuttle-connect";

static void usage(FILE *f) {
        fprintf(f, "Usage: shuttle-connect [--socket PATH] CONTAINER.SERVICE\n"
                   "Connect to a service through the Shuttle broker and relay stdin/stdout.\n\n"
                   "  -s, --socket PATH  broker socket (default $" SHUTTLE_BROKER_SOCKET_ENV
                   " or " SHUTTLE_BROKER_SOCKET ")\n"
                   "  -h, --help         show this help\n");
}

/* Copies one chunk from 'from' to 'to'.  Returns bytes copied, 0 at end of
 * input, or a negative errno. */
static ssize_t pump(int from, int to) {
        char buf[65536];
        ssize_t n;
        int r;

        do
                n = read(from, buf, sizeof(buf));
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return n < 0 ? -errno : 0;
        r = loop_write(to, buf, (size_t) n);
        return r < 0 ? r : n;
}

static int relay(int sock) {
        bool in_open = true;

        for (;;) {
                struct pollfd p[2] = {
                        { .fd = sock, .events = POLLIN },
                        { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
                };
                ssize_t n;

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[0].revents) {
                        n = pump(sock, STDOUT_FILENO);
                        if (n < 0)
                                return (int) n;
                        if (n == 0)
                                return 0; /* the service is done */
                }
                if (p[1].revents) {
                        n = pump(STDIN_FILENO, sock);
                        if (n < 0)
                                return (int) n;
                        if (n == 0) {
                                in_open = false;
                                if (shutdown(sock, SHUT_WR) < 0 && errno != ENOTCONN)
                                        return -errno;
                        }
                }
        }
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                HELPER_OPTIONS,
                {},
        };
        _cleanup_shuttle_client_ ShuttleClient *c = NULL;
        _cleanup_close_ int fd = -1;
        const char *socket_path = NULL;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "+s:h", options, NULL)) >= 0) {
                r = helper_option(opt, &socket_path, usage, 2);
                if (r >= 0)
                        return r;
        }
        if (optind != argc - 1) {
                usage(stderr);
                return 2;
        }

        /* A peer that goes away must give EPIPE, not kill us. */
        signal(SIGPIPE, SIG_IGN);

        if (helper_open(socket_path, &c) < 0)
                return 1;
        r = shuttle_connect_service(c, argv[optind], &fd);
        if (r < 0) {
                helper_failed(c, r, "%s", argv[optind]);
                return 1;
        }
        c = shuttle_client_free(c);

        r = relay(fd);
        if (r < 0) {
                fprintf(stderr, "shuttle-connect: %s: %s\n", argv[optind], strerror(-r));
                return 1;
        }
        return 0;
}
