/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kvcli: a client for kvd.
 *
 *   kvcli SOCKET REQUEST...             through a socket path (e.g. the proxy
 *                                       socket /run/shuttle/svc/db.kv)
 *   kvcli --broker SERVICE REQUEST...   asking the broker for a connection
 *                                       (the fast path), e.g. db.kv
 *
 * Exit status: 0 answered, 3 refused by the broker's policy, 1 otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "shuttle/client/client.h"

int main(int argc, char **argv) {
        char req[1024] = "", buf[1024];
        int fd, first, r;
        ssize_t n;

        if (argc >= 4 && strcmp(argv[1], "--broker") == 0) {
                ShuttleClient *cl = NULL;
                r = shuttle_client_open(NULL, &cl);
                if (r >= 0)
                        r = shuttle_connect_service(cl, argv[2], &fd);
                shuttle_client_free(cl);
                if (r < 0) {
                        fprintf(stderr, "kvcli: %s: %s\n", argv[2],
                                r == -EACCES ? "refused by the broker's policy" : strerror(-r));
                        return r == -EACCES ? 3 : 1;
                }
                first = 3;
        } else if (argc >= 3) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                        fprintf(stderr, "kvcli: %s: %s\n", argv[1], strerror(errno));
                        return 1;
                }
                first = 2;
        } else {
                fprintf(stderr, "usage: kvcli [--broker SERVICE | SOCKET] REQUEST...\n");
                return 2;
        }
        for (int i = first; i < argc; i++) {
                strncat(req, argv[i], sizeof(req) - strlen(req) - 2);
                strncat(req, i + 1 < argc ? " " : "\n", sizeof(req) - strlen(req) - 1);
        }
        if (write(fd, req, strlen(req)) < 0)
                return 1;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return 1;
        buf[n] = '\0';
        fputs(buf, stdout);
        return 0;
}
