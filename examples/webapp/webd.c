/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* webd: a tiny HTTP server for the webapp example.  GET /kv/KEY answers
 * with the value the key-value service has for KEY, which it reaches only
 * through the socket the broker gives this container.
 *
 *   webd PORT KV_SOCKET      e.g. webd 8080 /run/shuttle/svc/db.kv */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static int kv_get(const char *sock, const char *key, char *out, size_t size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ssize_t n;

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                snprintf(out, size, "cannot reach the key-value service: %s", strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        dprintf(fd, "GET %s\n", key);
        n = read(fd, out, size - 1);
        close(fd);
        if (n <= 0) {
                snprintf(out, size, "no answer from the key-value service");
                return -1;
        }
        out[n] = '\0';
        out[strcspn(out, "\n")] = '\0';
        return 0;
}

static void respond(int c, int status, const char *body) {
        dprintf(c, "HTTP/1.0 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s\n", status,
                status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Gateway", strlen(body) + 1, body);
}

int main(int argc, char **argv) {
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
        int fd, one = 1;

        if (argc != 3) {
                fprintf(stderr, "usage: webd PORT KV_SOCKET\n");
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        sin.sin_port = htons((uint16_t) atoi(argv[1]));
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0 || listen(fd, 64) < 0) {
                fprintf(stderr, "webd: port %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        printf("webd: serving HTTP on port %s, data from %s\n", argv[1], argv[2]);
        fflush(stdout);
        for (;;) {
                char req[1024], path[512], value[512];
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                ssize_t n;

                if (c < 0)
                        continue;
                n = read(c, req, sizeof(req) - 1);
                if (n > 0) {
                        req[n] = '\0';
                        if (sscanf(req, "GET %511s", path) == 1 && strncmp(path, "/kv/", 4) == 0) {
                                if (kv_get(argv[2], path + 4, value, sizeof(value)) < 0)
                                        respond(c, 502, value);
                                else if (strncmp(value, "VALUE ", 6) == 0)
                                        respond(c, 200, value + 6);
                                else
                                        respond(c, 404, value);
                                printf("webd: GET %s\n", path);
                                fflush(stdout);
                        } else
                                respond(c, 404, "try GET /kv/greeting");
                }
                /* Closing with unread request bytes would reset the
                 * connection under the client: say we are done, read what
                 * is left (a second at most), then close. */
                shutdown(c, SHUT_WR);
                {
                        struct timeval tv = { .tv_sec = 1 };
                        char drain[512];
                        (void) setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
                        while (read(c, drain, sizeof(drain)) > 0)
                                ;
                }
                close(c);
        }
}
