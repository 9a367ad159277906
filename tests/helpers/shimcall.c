/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exercises libshuttle-shim.so from inside a container (tests/integration/
 * shim.sh).  Plain libc calls only: whatever the shim does, it does to
 * this program as to any other.
 *
 *   shimcall tcp HOST PORT MSG      getaddrinfo(HOST) + TCP connect, send
 *                                   MSG, print the answer (exit 3 on
 *                                   ECONNREFUSED, 6 on a resolver error)
 *   shimcall threads PATH N M       N threads each connect M times to the
 *                                   unix socket PATH and check the echo;
 *                                   prints "ok N*M" or what failed
 *   shimcall fork PATH              connect in the parent, then in a forked
 *                                   child, then in the parent again
 *   shimcall errno PATH             connect() to PATH through libc (the
 *                                   shim) and with the raw system call:
 *                                   prints both errnos
 *   shimcall keep PATH              errno, descriptor number, O_NONBLOCK and
 *                                   FD_CLOEXEC survive a redirected connect
 *   shimcall dgram PATH             connect() of a datagram socket: the
 *                                   shim leaves it to the real call
 *   shimcall kept PATH N            N connects: prints "kept" if the first
 *                                   left a descriptor open (the shim's
 *                                   broker connection) and the process's
 *                                   descriptors (number and file) after
 *                                   the last are those after the first,
 *                                   else all three lists
 *   shimcall closeall PATH          connect, close every descriptor above
 *                                   stderr (close_range()), make a socket
 *                                   pair that takes the freed numbers,
 *                                   connect again; prints both answers and
 *                                   "clean" if nothing arrived on the pair
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int exit_for(int e) {
        return e == ECONNREFUSED ? 3 : e == ENOENT ? 4 : e == EACCES ? 5 : 1;
}

static socklen_t unix_addr(const char *path, struct sockaddr_un *sa) {
        *sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
        snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
        return (socklen_t) sizeof(*sa);
}

/* Sends msg, reads the answer into buf (NUL-terminated); 0 or -1. */
static int exchange(int fd, const char *msg, char *buf, size_t size) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (write(fd, msg, strlen(msg)) != (ssize_t) strlen(msg))
                return -1;
        if (poll(&p, 1, 5000) != 1)
                return -1;
        n = read(fd, buf, size - 1);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        return 0;
}

static int cmd_tcp(const char *host, const char *port, const char *msg) {
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
        char buf[4096], addr[64] = "";
        int r, fd;

        r = getaddrinfo(host, port, &hints, &res);
        if (r != 0) {
                fprintf(stderr, "getaddrinfo %s: %s\n", host, gai_strerror(r));
                return 6;
        }
        fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
        if (res->ai_family == AF_INET)
                (void) getnameinfo(res->ai_addr, res->ai_addrlen, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST);
        if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
                int e = errno;
                fprintf(stderr, "connect %s (%s): %s\n", host, addr, strerror(e));
                freeaddrinfo(res);
                return exit_for(e);
        }
        freeaddrinfo(res);
        if (exchange(fd, msg, buf, sizeof(buf)) < 0) {
                perror("exchange");
                return 1;
        }
        fprintf(stderr, "address %s\n", addr);
        printf("%s\n", buf);
        return 0;
}

typedef struct Worker {
        pthread_t t;
        const char *path;
        int id, m, ok;
        char error[256];
} Worker;

static void *worker(void *arg) {
        Worker *w = arg;
        struct sockaddr_un sa;
        socklen_t len = unix_addr(w->path, &sa);

        for (int i = 0; i < w->m; i++) {
                char msg[64], want[80], buf[256];
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

                snprintf(msg, sizeof(msg), "t%d-%d", w->id, i);
                if (fd < 0 || connect(fd, (struct sockaddr *) &sa, len) < 0) {
                        snprintf(w->error, sizeof(w->error), "%s: connect: %s", msg, strerror(errno));
                        if (fd >= 0)
                                close(fd);
                        return NULL;
                }
                if (exchange(fd, msg, buf, sizeof(buf)) < 0) {
                        snprintf(w->error, sizeof(w->error), "%s: no answer", msg);
                        close(fd);
                        return NULL;
                }
                close(fd);
                /* sockecho answers "TAG:msg". */
                snprintf(want, sizeof(want), ":%s", msg);
                if (!strstr(buf, want)) {
                        snprintf(w->error, sizeof(w->error), "%s: answered '%.100s'", msg, buf);
                        return NULL;
                }
                w->ok++;
        }
        return NULL;
}

static int cmd_threads(const char *path, int n, int m) {
        Worker w[64];
        int total = 0, rc = 0;

        if (n < 1 || n > 64)
                return 2;
        for (int i = 0; i < n; i++) {
                w[i] = (Worker){ .path = path, .id = i, .m = m };
                if (pthread_create(&w[i].t, NULL, worker, &w[i]) != 0)
                        return 1;
        }
        for (int i = 0; i < n; i++) {
                pthread_join(w[i].t, NULL);
                total += w[i].ok;
                if (w[i].error[0]) {
                        fprintf(stderr, "%s\n", w[i].error);
                        rc = 1;
                }
        }
        printf("ok %d\n", total);
        return rc;
}

static int call_once(const char *path, const char *msg) {
        struct sockaddr_un sa;
        socklen_t len = unix_addr(path, &sa);
        char buf[256];
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, len) < 0) {
                printf("%s: %s\n", msg, strerror(errno));
                return 1;
        }
        if (exchange(fd, msg, buf, sizeof(buf)) < 0) {
                printf("%s: no answer\n", msg);
                close(fd);
                return 1;
        }
        close(fd);
        printf("%s\n", buf);
        return 0;
}

static int cmd_fork(const char *path) {
        int status, rc = 0;
        pid_t pid;

        rc |= call_once(path, "parent");
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                return 1;
        if (pid == 0) {
                int r = call_once(path, "child");
                r |= call_once(path, "child-again");
                fflush(stdout);
                _exit(r);
        }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                rc = 1;
        rc |= call_once(path, "parent-again");
        return rc;
}

static int cmd_errno(const char *path) {
        struct sockaddr_un sa;
        socklen_t len = unix_addr(path, &sa);
        int fd1 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int fd2 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int r1, e1, r2, e2;

        errno = 0;
        r1 = connect(fd1, (struct sockaddr *) &sa, len);
        e1 = errno;
        errno = 0;
        r2 = (int) syscall(SYS_connect, fd2, (struct sockaddr *) &sa, len);
        e2 = errno;
        printf("libc %d %s / syscall %d %s\n", r1, strerrorname_np(e1) ?: "0", r2, strerrorname_np(e2) ?: "0");
        return 0;
}

static int cmd_keep(const char *path) {
        struct sockaddr_un sa;
        socklen_t len = unix_addr(path, &sa);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), fd2, r, e;
        char buf[256];

        /* One socket non-blocking without close-on-exec, one blocking with
         * it: both kept as they were. */
        errno = EDOM;
        r = connect(fd, (struct sockaddr *) &sa, len);
        e = errno;
        printf("connect=%d errno-kept=%s nonblock=%d cloexec=%d", r, e == EDOM ? "yes" : strerrorname_np(e),
               !!(fcntl(fd, F_GETFL) & O_NONBLOCK), !!(fcntl(fd, F_GETFD) & FD_CLOEXEC));
        if (r == 0 && exchange(fd, "nb", buf, sizeof(buf)) == 0)
                printf(" answer=%s", buf);
        fd2 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        r = connect(fd2, (struct sockaddr *) &sa, len);
        printf(" | connect=%d nonblock=%d cloexec=%d\n", r, !!(fcntl(fd2, F_GETFL) & O_NONBLOCK),
               !!(fcntl(fd2, F_GETFD) & FD_CLOEXEC));
        return 0;
}

static int cmd_dgram(const char *path) {
        struct sockaddr_un sa;
        socklen_t len = unix_addr(path, &sa);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int r = connect(fd, (struct sockaddr *) &sa, len);

        printf("dgram connect=%d %s\n", r, r < 0 ? strerrorname_np(errno) : "");
        return 0;
}

/* "N:DEV:INO " for every open descriptor, into buf. */
static void fd_list(char *buf, size_t size) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        size_t n = 0;

        buf[0] = '\0';
        if (!d)
                return;
        while ((e = readdir(d))) {
                struct stat st;
                int fd = atoi(e->d_name);

                if (e->d_name[0] == '.' || fd == dirfd(d) || fstat(fd, &st) < 0)
                        continue;
                n += (size_t) snprintf(buf + n, n < size ? size - n : 0, "%d:%lu:%lu ", fd,
                                       (unsigned long) st.st_dev, (unsigned long) st.st_ino);
                if (n >= size)
                        break;
        }
        closedir(d);
}

static int cmd_kept(const char *path, int n) {
        char before[4096], first[4096], last[4096];

        fd_list(before, sizeof(before));
        if (n < 2 || call_once(path, "first") != 0)
                return 1;
        fd_list(first, sizeof(first));
        for (int i = 1; i < n; i++)
                if (call_once(path, "again") != 0)
                        return 1;
        fd_list(last, sizeof(last));
        /* The first connect opened the shim's connection (one descriptor
         * more), and it is the same one after the last. */
        if (strcmp(before, first) != 0 && strcmp(first, last) == 0)
                printf("kept\n");
        else
                printf("before: %s; after the first: %s; after the last: %s\n", before, first, last);
        return 0;
}

static int cmd_closeall(const char *path) {
        int pair[2], rc;
        char c;

        alarm(20); /* a shim writing into the pair would wait for an answer forever */
        rc = call_once(path, "first");
        fflush(stdout);
        /* As a daemon does before it execs something, or a program that
         * wants no stray descriptors: everything above stderr. */
        if (syscall(SYS_close_range, 3U, ~0U, 0) < 0)
                return 1;
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
                return 1;
        rc |= call_once(path, "again");
        /* Nothing of the shim's may have gone into the pair. */
        if (recv(pair[0], &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN && recv(pair[1], &c, 1, MSG_DONTWAIT) < 0 &&
            errno == EAGAIN)
                printf("clean\n");
        else
                printf("something arrived on the program's own socket pair\n");
        return rc;
}

int main(int argc, char **argv) {
        if (argc == 5 && strcmp(argv[1], "tcp") == 0)
                return cmd_tcp(argv[2], argv[3], argv[4]);
        if (argc == 5 && strcmp(argv[1], "threads") == 0)
                return cmd_threads(argv[2], atoi(argv[3]), atoi(argv[4]));
        if (argc == 3 && strcmp(argv[1], "fork") == 0)
                return cmd_fork(argv[2]);
        if (argc == 3 && strcmp(argv[1], "errno") == 0)
                return cmd_errno(argv[2]);
        if (argc == 3 && strcmp(argv[1], "keep") == 0)
                return cmd_keep(argv[2]);
        if (argc == 3 && strcmp(argv[1], "dgram") == 0)
                return cmd_dgram(argv[2]);
        if (argc == 4 && strcmp(argv[1], "kept") == 0)
                return cmd_kept(argv[2], atoi(argv[3]));
        if (argc == 3 && strcmp(argv[1], "closeall") == 0)
                return cmd_closeall(argv[2]);
        fprintf(stderr, "usage: shimcall tcp HOST PORT MSG | threads PATH N M | fork PATH | errno PATH | "
                        "keep PATH | dgram PATH | kept PATH N | closeall PATH\n");
        return 2;
}
