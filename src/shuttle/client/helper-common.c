/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "shuttle/client/helper-common.h"

int helper_option(int opt, const char **socket_path, void (*usage)(FILE *f), int usage_status) {
        switch (opt) {
        case 's':
                *socket_path = optarg;
                return -1;
        case 'h':
                usage(stdout);
                return 0;
        default:
                usage(stderr);
                return usage_status;
        }
}

int helper_open(const char *socket_path, ShuttleClient **ret) {
        int r = shuttle_client_open(socket_path, ret);

        if (r < 0)
                fprintf(stderr, "%s: cannot reach the broker: %s\n", helper_name, strerror(-r));
        return r;
}

void helper_failed(ShuttleClient *c, int r, const char *fmt, ...) {
        char msg[SHUTTLE_MESSAGE_MAX + 1] = "", what[2 * SHUTTLE_PATH_MAX];
        va_list ap;

        shuttle_client_last_message(c, msg, sizeof(msg));
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        /* One write, so that the line is not torn. */
        fprintf(stderr, "%s: %s: %s%s%s\n", helper_name, what, strerror(-r), msg[0] ? ": " : "", msg);
}

int helper_print(const char *out) {
        if (printf("%s\n", out) < 0 || fflush(stdout) != 0) {
                fprintf(stderr, "%s: cannot write: %s\n", helper_name, strerror(errno));
                return 1;
        }
        return 0;
}
