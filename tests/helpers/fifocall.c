/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* FIFO exports from the program's side (tests/integration/fifo.sh), run
 * inside containers.  The path modes use plain open(): whatever the shim
 * does, it does to them; the lib modes ask the broker themselves with the
 * client library (shuttle_open_fifo()), as a program without the shim
 * would.
 *
 *   fifocall read PATH READY         open PATH O_RDONLY|O_NONBLOCK, create
 *                                    the file READY, wait (20 s at most)
 *                                    for a writer's data, print everything
 *                                    read until end-of-file
 *   fifocall write PATH TEXT         open PATH O_WRONLY, write TEXT: "wrote N"
 *   fifocall open PATH FLAGS         open with FLAGS (rdonly wronly rdwr
 *                                    nonblock creat excl cloexec) and print
 *                                    what the descriptor is (see describe())
 *   fifocall lib-write SERVICE TEXT  the write end from the broker, TEXT
 *                                    written to it: "wrote N"
 *   fifocall lib-open SERVICE FLAGS  the end FLAGS (read write nonblock)
 *                                    name, from the broker; described
 *   fifocall lib-loop SERVICE N      N opens of the read end: "ok N", or
 *                                    the first failure
 *
 * Failures print "what: ERRNAME" and exit 1. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shuttle/client/client.h"

static int failed(const char *what, int err) {
        const char *name = strerrorname_np(err);
        printf("%s: %s\n", what, name ? name : "?");
        return 1;
}

static int parse_flags(const char *s, int lib) {
        int f = 0;
        char *copy = strdup(s), *tok, *save = NULL;

        for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (!lib && !strcmp(tok, "rdonly"))
                        f |= O_RDONLY;
                else if (!lib && !strcmp(tok, "wronly"))
                        f |= O_WRONLY;
                else if (!lib && !strcmp(tok, "rdwr"))
                        f |= O_RDWR;
                else if (!lib && !strcmp(tok, "creat"))
                        f |= O_CREAT;
                else if (!lib && !strcmp(tok, "excl"))
                        f |= O_EXCL;
                else if (!lib && !strcmp(tok, "cloexec"))
                        f |= O_CLOEXEC;
                else if (!lib && !strcmp(tok, "nonblock"))
                        f |= O_NONBLOCK;
                else if (lib && !strcmp(tok, "read"))
                        f |= SHUTTLE_OPEN_READ;
                else if (lib && !strcmp(tok, "write"))
                        f |= SHUTTLE_OPEN_WRITE;
                else if (lib && !strcmp(tok, "nonblock"))
                        f |= SHUTTLE_OPEN_NONBLOCK;
                else {
                        fprintf(stderr, "unknown flag %s\n", tok);
                        exit(2);
                }
        }
        free(copy);
        return f;
}

/* "fifo mode=wronly nonblock=0 cloexec=1 write=ok|EBADF read=…": what the
 * descriptor is, and whether the other direction is refused. */
static int describe(int fd) {
        int fl = fcntl(fd, F_GETFL), fdf = fcntl(fd, F_GETFD);
        const char *acc = (fl & O_ACCMODE) == O_RDONLY ? "rdonly" : (fl & O_ACCMODE) == O_WRONLY ? "wronly" : "rdwr";
        struct stat st;
        char c;

        if (fl < 0 || fdf < 0 || fstat(fd, &st) < 0)
                return failed("fcntl", errno);
        printf("%s mode=%s nonblock=%d cloexec=%d", S_ISFIFO(st.st_mode) ? "fifo" : "other", acc,
               !!(fl & O_NONBLOCK), !!(fdf & FD_CLOEXEC));
        /* The direction not asked for must be refused by the kernel. */
        if ((fl & O_ACCMODE) == O_RDONLY) {
                errno = 0;
                printf(" write=%s", write(fd, "x", 1) < 0 ? strerrorname_np(errno) : "ok");
        } else if ((fl & O_ACCMODE) == O_WRONLY) {
                fcntl(fd, F_SETFL, fl | O_NONBLOCK);
                printf(" read=%s", read(fd, &c, 1) < 0 ? strerrorname_np(errno) : "ok");
        }
        printf("\n");
        return 0;
}

static int write_text(int fd, const char *text) {
        ssize_t n = write(fd, text, strlen(text));

        if (n < 0)
                return failed("write", errno);
        printf("wrote %zd\n", n);
        return 0;
}

static int lib_open(const char *service, unsigned flags, int *ret_fd) {
        ShuttleClient *c = NULL;
        int r;

        r = shuttle_client_open(NULL, &c);
        if (r < 0)
                return r;
        r = shuttle_open_fifo(c, service, flags, ret_fd);
        shuttle_client_free(c);
        return r;
}

int main(int argc, char **argv) {
        const char *mode = argc > 1 ? argv[1] : "";
        int fd, r;

        setvbuf(stdout, NULL, _IONBF, 0);
        if (!strcmp(mode, "read") && argc == 4) {
                struct pollfd p;
                char buf[4096];
                ssize_t n;

                fd = open(argv[2], O_RDONLY | O_NONBLOCK);
                if (fd < 0)
                        return failed("open", errno);
                if (close(open(argv[3], O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0)
                        return failed("ready", errno);
                /* Until a writer has come and written: before that, a
                 * FIFO reads end-of-file. */
                p = (struct pollfd){ .fd = fd, .events = POLLIN };
                if (poll(&p, 1, 20000) <= 0)
                        return failed("poll", ETIMEDOUT);
                fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
                while ((n = read(fd, buf, sizeof(buf))) > 0)
                        fwrite(buf, 1, (size_t) n, stdout);
                if (n < 0)
                        return failed("read", errno);
                printf("\n");
                return 0;
        }
        if (!strcmp(mode, "write") && argc == 4) {
                fd = open(argv[2], O_WRONLY);
                if (fd < 0)
                        return failed("open", errno);
                return write_text(fd, argv[3]);
        }
        if (!strcmp(mode, "open") && argc == 4) {
                fd = open(argv[2], parse_flags(argv[3], 0), 0600);
                if (fd < 0)
                        return failed("open", errno);
                return describe(fd);
        }
        if (!strcmp(mode, "lib-write") && argc == 4) {
                r = lib_open(argv[2], SHUTTLE_OPEN_WRITE, &fd);
                if (r < 0)
                        return failed("shuttle_open_fifo", -r);
                return write_text(fd, argv[3]);
        }
        if (!strcmp(mode, "lib-open") && argc == 4) {
                r = lib_open(argv[2], (unsigned) parse_flags(argv[3], 1), &fd);
                if (r < 0)
                        return failed("shuttle_open_fifo", -r);
                return describe(fd);
        }
        if (!strcmp(mode, "lib-loop") && argc == 4) {
                int n = atoi(argv[3]);
                ShuttleClient *c = NULL;

                r = shuttle_client_open(NULL, &c);
                if (r < 0)
                        return failed("shuttle_client_open", -r);
                for (int i = 0; i < n; i++) {
                        r = shuttle_open_fifo(c, argv[2], SHUTTLE_OPEN_READ, &fd);
                        if (r < 0) {
                                printf("open %d: ", i);
                                return failed("shuttle_open_fifo", -r);
                        }
                        close(fd);
                }
                shuttle_client_free(c);
                printf("ok %d\n", n);
                return 0;
        }
        fprintf(stderr, "usage: see the comment at the top of %s\n", __FILE__);
        return 2;
}
