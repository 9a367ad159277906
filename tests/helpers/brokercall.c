/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Client-library calls for the integration tests, run inside containers:
 *
 *   brokercall hello                       print the name the broker knows us by
 *   brokercall signal CONTAINER APP SIG    ask for a signal; print the result
 *   brokercall hellos N                    N request/reply round trips; print "ok N"
 *   brokercall connect SERVICE             one CONNECT; print "connected" or the
 *                                          errno's name (EACCES, ECONNREFUSED, ...)
 *   brokercall connects SERVICE N [vary]   N CONNECTs to SERVICE (SERVICE0, SERVICE1,
 *                                          ... with vary); print "denied D other O"
 *   brokercall flood SECONDS               open connections until refused and
 *                                          send requests without reading replies
 *   brokercall transfer PATH CONTAINER ro|rw [HOLD_SECONDS]
 *                                          hand PATH to CONTAINER; print
 *                                          "ID TARGET_PATH" or the refusal
 *   brokercall transfers PATH CONTAINER N  hand PATH to CONTAINER read-only N
 *                                          times; print "ok N", or "refused
 *                                          after K: ..." at the first refusal
 *   brokercall lend PATH                   connect to broker.sock and pass that
 *                                          connection over the unix socket PATH
 *                                          (made by borrow, perhaps in another
 *                                          container); wait until it hangs up
 *   brokercall borrow PATH SERVICE         listen on PATH, take the connection
 *                                          lend passes, and on it: HELLO and
 *                                          CONNECT SERVICE; then the same on a
 *                                          connection of our own; print
 *                                          "borrowed: NAME RESULT own: NAME RESULT"
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/macro.h"
#include "common/parse.h"
#include "shuttle/client/client.h"
#include "shuttle/client/protocol.h"

static int run(int argc, char **argv);

int main(int argc, char **argv) {
        int r = run(argc, argv);
        fflush(stdout);
        return r;
}

static const char *connect_result(int r) {
        return r == 0 ? "connected" : r == -EACCES ? "EACCES" : r == -ECONNREFUSED ? "ECONNREFUSED" :
               r == -ENOENT ? "ENOENT" : strerror(-r);
}

/* HELLO and CONNECT service on c: "NAME RESULT". */
static void hello_connect(ShuttleClient *c, const char *service, char *buf, size_t size) {
        char name[SHUTTLE_NAME_MAX + 1] = "?";
        uint32_t version = 0;
        int r, fd = -1;

        r = shuttle_client_hello(c, &version, name);
        if (r < 0)
                snprintf(name, sizeof(name), "(hello: %s)", strerror(-r));
        r = shuttle_connect_service(c, service, &fd);
        if (fd >= 0)
                close(fd);
        snprintf(buf, size, "%s %s", name, connect_result(r));
}

static int unix_addr_of(const char *path, struct sockaddr_un *sa) {
        *sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa->sun_path))
                return -ENAMETOOLONG;
        strcpy(sa->sun_path, path);
        return 0;
}

static int lend(const char *path) {
        struct sockaddr_un sa, broker = { .sun_family = AF_UNIX, .sun_path = "/run/shuttle/broker.sock" };
        int b, s = -1;
        char c = 'x';

        alarm(30);
        if (unix_addr_of(path, &sa) < 0)
                return 2;
        b = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (b < 0 || connect(b, (struct sockaddr *) &broker, sizeof(broker)) < 0) {
                fprintf(stderr, "broker.sock: %s\n", strerror(errno));
                return 1;
        }
        /* borrow listens on PATH when it is ready. */
        for (int i = 0; i < 200; i++) {
                s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (s >= 0 && connect(s, (struct sockaddr *) &sa, sizeof(sa)) == 0)
                        break;
                if (s >= 0)
                        close(s);
                s = -1;
                usleep(50000);
        }
        if (s < 0 || fd_send(s, &c, 1, &b, 1) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return 1;
        }
        /* Until the borrower is done (it closes its end). */
        (void) read(s, &c, 1);
        return 0;
}

static int borrow(const char *path, const char *service) {
        _cleanup_(shuttle_client_freep) ShuttleClient *lent = NULL, *own = NULL;
        struct sockaddr_un sa;
        char c, a[SHUTTLE_NAME_MAX + 64], o[SHUTTLE_NAME_MAX + 64];
        int l, s, fd = -1, r;

        alarm(30);
        if (unix_addr_of(path, &sa) < 0)
                return 2;
        (void) unlink(path);
        l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (l < 0 || bind(l, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(l, 1) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return 1;
        }
        s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (s < 0 || fd_recv(s, &c, 1, &fd, 1, 0) != 1) {
                fprintf(stderr, "no connection was lent\n");
                return 1;
        }
        r = shuttle_client_new_from_fd(fd, &lent);
        if (r < 0)
                return 1;
        hello_connect(lent, service, a, sizeof(a));
        r = shuttle_client_open(NULL, &own);
        if (r < 0) {
                fprintf(stderr, "open: %s\n", strerror(-r));
                return 1;
        }
        hello_connect(own, service, o, sizeof(o));
        printf("borrowed: %s own: %s\n", a, o);
        close(s);
        return 0;
}

static int run(int argc, char **argv) {
        _cleanup_(shuttle_client_freep) ShuttleClient *c = NULL;
        char name[SHUTTLE_NAME_MAX + 1] = "";
        uint32_t version = 0;
        int r, sig;

        if (argc < 2)
                return 2;
        if (strcmp(argv[1], "flood") == 0 && argc == 3) {
                /* Many connections, each stuffed with requests it never reads
                 * the answers to. */
                static char frame[SHUTTLE_FRAME_MAX];
                time_t end = time(NULL) + atoi(argv[2]);
                size_t len = 0;
                ShuttleMsg m;
                int conns = 0, refused = 0;

                shuttle_msg_hello(&m, 1);
                if (shuttle_msg_encode(&m, frame, sizeof(frame), &len, NULL) < 0)
                        return 1;
                signal(SIGPIPE, SIG_IGN);
                while (time(NULL) < end && conns < 200) {
                        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/run/shuttle/broker.sock" };
                        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                        if (fd < 0)
                                break;
                        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                                close(fd);
                                if (errno != EAGAIN)
                                        break;
                                usleep(10000); /* the backlog is full: the broker is behind */
                                continue;
                        }
                        conns++;
                        for (int i = 0; i < 2000; i++)
                                if (send(fd, frame, len, MSG_DONTWAIT) < 0)
                                        break;
                }
                while (time(NULL) < end)
                        usleep(100000);
                (void) refused;
                printf("flooded with %d connections\n", conns);
                return 0;
        }

        if (strcmp(argv[1], "lend") == 0 && argc == 3)
                return lend(argv[2]);
        if (strcmp(argv[1], "borrow") == 0 && argc == 4)
                return borrow(argv[2], argv[3]);

        r = shuttle_client_open(NULL, &c);
        if (r < 0) {
                fprintf(stderr, "open: %s\n", strerror(-r));
                return 1;
        }
        if (strcmp(argv[1], "hello") == 0) {
                r = shuttle_client_hello(c, &version, name);
                if (r < 0) {
                        fprintf(stderr, "hello: %s\n", strerror(-r));
                        return 1;
                }
                printf("%s\n", name);
                return 0;
        }
        if (strcmp(argv[1], "hellos") == 0 && argc == 3) {
                int n = atoi(argv[2]);
                for (int i = 0; i < n; i++) {
                        r = shuttle_client_hello(c, &version, name);
                        if (r < 0) {
                                fprintf(stderr, "hello %d: %s\n", i, strerror(-r));
                                return 1;
                        }
                }
                printf("ok %d\n", n);
                return 0;
        }
        if (strcmp(argv[1], "connect") == 0 && argc == 3) {
                int fd = -1;
                r = shuttle_connect_service(c, argv[2], &fd);
                if (fd >= 0)
                        close(fd);
                printf("%s\n", r == 0 ? "connected" : r == -EACCES ? "EACCES" : r == -ECONNREFUSED ? "ECONNREFUSED" :
                                                     r == -ENOENT ? "ENOENT" : strerror(-r));
                return 0;
        }
        if (strcmp(argv[1], "connects") == 0 && (argc == 4 || argc == 5)) {
                unsigned long n = strtoul(argv[3], NULL, 10), denied = 0, other = 0;
                char service[SHUTTLE_SERVICE_MAX + 1];
                for (unsigned long i = 0; i < n; i++) {
                        int fd = -1;
                        if (argc == 5)
                                snprintf(service, sizeof(service), "%s%lu", argv[2], i);
                        else
                                snprintf(service, sizeof(service), "%s", argv[2]);
                        r = shuttle_connect_service(c, service, &fd);
                        if (fd >= 0)
                                close(fd);
                        if (r == -EACCES)
                                denied++;
                        else
                                other++;
                }
                printf("denied %lu other %lu\n", denied, other);
                return 0;
        }
        if (strcmp(argv[1], "signal") == 0 && argc == 5) {
                if (parse_signal(argv[4], &sig) < 0)
                        return 2;
                r = shuttle_send_signal(c, argv[2], argv[3], sig);
                printf("%s\n", r < 0 ? strerror(-r) : "sent");
                return r < 0 ? 1 : 0;
        }
        if (strcmp(argv[1], "transfers") == 0 && argc == 5) {
                char path[SHUTTLE_PATH_MAX + 1], msg[SHUTTLE_MESSAGE_MAX + 1];
                int n = atoi(argv[4]);
                for (int i = 0; i < n; i++) {
                        uint64_t id = 0;
                        r = shuttle_transfer(c, argv[2], SHUTTLE_TRANSFER_RO, argv[3], path, &id);
                        if (r < 0) {
                                shuttle_client_last_message(c, msg, sizeof(msg));
                                printf("refused after %d: %s: %s\n", i, strerror(-r), msg);
                                return 1;
                        }
                }
                printf("ok %d\n", n);
                return 0;
        }
        if (strcmp(argv[1], "transfer") == 0 && (argc == 5 || argc == 6)) {
                char path[SHUTTLE_PATH_MAX + 1], msg[SHUTTLE_MESSAGE_MAX + 1];
                uint64_t id = 0;
                r = shuttle_transfer(c, argv[2], strcmp(argv[4], "rw") == 0 ? SHUTTLE_TRANSFER_RW : SHUTTLE_TRANSFER_RO,
                                     argv[3], path, &id);
                if (r < 0) {
                        shuttle_client_last_message(c, msg, sizeof(msg));
                        printf("refused: %s: %s\n", strerror(-r), msg);
                        return 1;
                }
                printf("%llu %s\n", (unsigned long long) id, path);
                fflush(stdout);
                if (argc == 6)
                        sleep((unsigned) atoi(argv[5]));
                return 0;
        }
        return 2;
}
