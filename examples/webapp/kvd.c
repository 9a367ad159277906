/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kvd: a tiny key-value server on a unix socket, for the webapp example.
 *
 *   kvd SOCKET
 *
 * One request per line: "GET key" → "VALUE value" or "NOTFOUND";
 * "SET key value" → "OK"; "KEYS" → the keys, space-separated. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_KEYS 256
#define MAX_CLIENTS 64

static struct {
        char key[64];
        char value[256];
} table[MAX_KEYS] = {
        { "greeting", "hello from db" },
        { "motd", "the database lives in its own container" },
};
static int n_keys = 2;

static void answer(int fd, char *line) {
        char *cmd = strtok(line, " \r"), *key = strtok(NULL, " \r"), *value = strtok(NULL, "\r");

        if (cmd && strcmp(cmd, "GET") == 0 && key) {
                for (int i = 0; i < n_keys; i++)
                        if (strcmp(table[i].key, key) == 0) {
                                dprintf(fd, "VALUE %s\n", table[i].value);
                                return;
                        }
                dprintf(fd, "NOTFOUND\n");
        } else if (cmd && strcmp(cmd, "SET") == 0 && key && value && strlen(key) < 64 && strlen(value) < 256) {
                int i;
                for (i = 0; i < n_keys && strcmp(table[i].key, key) != 0; i++)
                        ;
                if (i == n_keys) {
                        if (n_keys == MAX_KEYS) {
                                dprintf(fd, "FULL\n");
                                return;
                        }
                        n_keys++;
                }
                snprintf(table[i].key, sizeof(table[i].key), "%s", key);
                snprintf(table[i].value, sizeof(table[i].value), "%s", value);
                dprintf(fd, "OK\n");
        } else if (cmd && strcmp(cmd, "KEYS") == 0) {
                for (int i = 0; i < n_keys; i++)
                        dprintf(fd, "%s%s", i ? " " : "", table[i].key);
                dprintf(fd, "\n");
        } else
                dprintf(fd, "ERROR unknown request\n");
}

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct pollfd p[1 + MAX_CLIENTS];
        int n = 1;

        if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: kvd SOCKET\n");
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        strcpy(sa.sun_path, argv[1]);
        unlink(argv[1]);
        p[0].fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (p[0].fd < 0 || bind(p[0].fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(p[0].fd, 64) < 0) {
                fprintf(stderr, "kvd: %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        p[0].events = POLLIN;
        printf("kvd: serving %d keys on %s\n", n_keys, argv[1]);
        fflush(stdout);
        for (;;) {
                if (poll(p, (nfds_t) n, -1) < 0)
                        continue;
                if ((p[0].revents & POLLIN) && n < 1 + MAX_CLIENTS) {
                        int c = accept4(p[0].fd, NULL, NULL, SOCK_CLOEXEC);
                        if (c >= 0)
                                p[n++] = (struct pollfd){ .fd = c, .events = POLLIN };
                }
                for (int i = 1; i < n; i++) {
                        char buf[512];
                        ssize_t k;

                        if (!p[i].revents)
                                continue;
                        k = read(p[i].fd, buf, sizeof(buf) - 1);
                        if (k <= 0) {
                                close(p[i].fd);
                                p[i--] = p[--n];
                                continue;
                        }
                        buf[k] = '\0';
                        for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
                             line = strtok_r(NULL, "\n", &save))
                                answer(p[i].fd, line);
                }
        }
}
