/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shm_open() and mq_open() from inside a container (tests/integration/
 * shm-mq.sh).  Plain libc calls only: whatever the shim does, it does to
 * this program as to any other.  Every mode prints one line; a failed call
 * prints its errno's name (ENOENT, EACCES, ...) and exits 1.
 *
 *   shmqcall shm-write NAME OFFSET TEXT   open O_RDWR, map it shared and
 *                                         writable, put TEXT at OFFSET;
 *                                         "wrote SIZE"
 *   shmqcall shm-read NAME OFFSET         open O_RDONLY, map it, print the
 *                                         string at OFFSET
 *   shmqcall shm-wait NAME OFFSET TEXT    like shm-read, until TEXT is there
 *                                         (20 s at most): "saw TEXT"
 *   shmqcall shm-ro NAME                  open O_RDONLY: what a writable
 *                                         shared mapping, ftruncate() and
 *                                         write() give
 *   shmqcall shm-sealed NAME              open O_RDWR: what growing,
 *                                         shrinking and sealing it give
 *   shmqcall shm-keep NAME                errno survives a successful open,
 *                                         the descriptor is close-on-exec
 *   shmqcall shm-open NAME FLAGS          open with FLAGS (comma-separated:
 *                                         rdonly rdwr wronly creat excl
 *                                         trunc); "ok" or the errno
 *   shmqcall mq-create NAME MODE          create a queue (8 messages of 128
 *                                         bytes) with octal MODE: "created"
 *   shmqcall mq-send NAME TEXT            open O_WRONLY, send TEXT: "sent"
 *   shmqcall mq-recv NAME                 open O_RDONLY, receive (20 s at
 *                                         most), print the message
 *   shmqcall mq-open NAME FLAGS           open with FLAGS (rdonly wronly
 *                                         rdwr nonblock creat excl); "ok",
 *                                         with " nonblock" if the queue's
 *                                         descriptor is non-blocking
 *   shmqcall mq-empty NAME                open O_RDONLY|O_NONBLOCK, receive
 *                                         from an empty queue: EAGAIN
 *   shmqcall loop shm|mq NAME N           open and close N times: "ok N"
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int failed(const char *what) {
        const char *name = strerrorname_np(errno);
        printf("%s%s%s\n", what ? what : "", what ? ": " : "", name ? name : "?");
        return 1;
}

static int parse_flags(const char *s) {
        int f = 0;
        char *copy = strdup(s), *tok, *save = NULL;

        for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (!strcmp(tok, "rdonly"))
                        f |= O_RDONLY;
                else if (!strcmp(tok, "rdwr"))
                        f |= O_RDWR;
                else if (!strcmp(tok, "wronly"))
                        f |= O_WRONLY;
                else if (!strcmp(tok, "creat"))
                        f |= O_CREAT;
                else if (!strcmp(tok, "excl"))
                        f |= O_EXCL;
                else if (!strcmp(tok, "trunc"))
                        f |= O_TRUNC;
                else if (!strcmp(tok, "nonblock"))
                        f |= O_NONBLOCK;
                else {
                        fprintf(stderr, "unknown flag %s\n", tok);
                        exit(2);
                }
        }
        free(copy);
        return f;
}

/* Maps the whole object behind fd; its size in *ret_size. */
static char *map(int fd, int prot, size_t *ret_size) {
        struct stat st;
        void *p;

        if (fstat(fd, &st) < 0 || st.st_size <= 0)
                return NULL;
        p = mmap(NULL, (size_t) st.st_size, prot, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
                return NULL;
        *ret_size = (size_t) st.st_size;
        return p;
}

static int shm_mode(const char *mode, int argc, char **argv) {
        const char *name = argv[2];
        size_t size = 0;
        char *p;
        int fd;

        if (!strcmp(mode, "shm-write") && argc == 5) {
                size_t off = strtoul(argv[3], NULL, 10);
                fd = shm_open(name, O_RDWR, 0);
                if (fd < 0)
                        return failed("shm_open");
                p = map(fd, PROT_READ | PROT_WRITE, &size);
                if (!p)
                        return failed("mmap");
                if (off + strlen(argv[4]) + 1 > size) {
                        printf("does not fit\n");
                        return 1;
                }
                memcpy(p + off, argv[4], strlen(argv[4]) + 1);
                printf("wrote %zu\n", size);
                return 0;
        }
        if ((!strcmp(mode, "shm-read") && argc == 4) || (!strcmp(mode, "shm-wait") && argc == 5)) {
                size_t off = strtoul(argv[3], NULL, 10);
                bool wait = argc == 5;
                fd = shm_open(name, O_RDONLY, 0);
                if (fd < 0)
                        return failed("shm_open");
                p = map(fd, PROT_READ, &size);
                if (!p)
                        return failed("mmap");
                if (off >= size) {
                        printf("out of range\n");
                        return 1;
                }
                for (int i = 0; wait && i < 2000 && strncmp(p + off, argv[4], size - off) != 0; i++)
                        nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
                if (wait)
                        printf("%s %.*s\n", strncmp(p + off, argv[4], size - off) ? "timeout, have" : "saw",
                               (int) strnlen(p + off, size - off), p + off);
                else
                        printf("%.*s\n", (int) strnlen(p + off, size - off), p + off);
                return 0;
        }
        if (!strcmp(mode, "shm-ro") && argc == 3) {
                const char *m, *t, *w;
                fd = shm_open(name, O_RDONLY, 0);
                if (fd < 0)
                        return failed("shm_open");
                p = map(fd, PROT_READ | PROT_WRITE, &size);
                m = p ? "mapped" : strerrorname_np(errno);
                t = ftruncate(fd, 0) == 0 ? "done" : strerrorname_np(errno);
                w = write(fd, "x", 1) == 1 ? "done" : strerrorname_np(errno);
                printf("mmap-rw=%s ftruncate=%s write=%s\n", m, t, w);
                return 0;
        }
        if (!strcmp(mode, "shm-sealed") && argc == 3) {
                struct stat st;
                const char *g, *s, *l;
                fd = shm_open(name, O_RDWR, 0);
                if (fd < 0 || fstat(fd, &st) < 0)
                        return failed("shm_open");
                g = ftruncate(fd, st.st_size * 2) == 0 ? "done" : strerrorname_np(errno);
                s = ftruncate(fd, 0) == 0 ? "done" : strerrorname_np(errno);
                l = fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0 ? "done" : strerrorname_np(errno);
                printf("grow=%s shrink=%s seal-write=%s\n", g, s, l);
                return 0;
        }
        if (!strcmp(mode, "shm-keep") && argc == 3) {
                errno = ENOTTY;
                fd = shm_open(name, O_RDWR, 0);
                if (fd < 0)
                        return failed("shm_open");
                printf("errno-kept=%s cloexec=%d\n", errno == ENOTTY ? "yes" : "no",
                       !!(fcntl(fd, F_GETFD) & FD_CLOEXEC));
                return 0;
        }
        if (!strcmp(mode, "shm-open") && argc == 4) {
                fd = shm_open(name, parse_flags(argv[3]), 0600);
                if (fd < 0)
                        return failed(NULL);
                printf("ok\n");
                return 0;
        }
        fprintf(stderr, "bad arguments for %s\n", mode);
        return 2;
}

static int mq_mode(const char *mode, int argc, char **argv) {
        const char *name = argv[2];
        char buf[129];
        mqd_t q;

        if (!strcmp(mode, "mq-create") && argc == 4) {
                struct mq_attr a = { .mq_maxmsg = 8, .mq_msgsize = 128 };
                q = mq_open(name, O_CREAT | O_RDWR, (mode_t) strtoul(argv[3], NULL, 8), &a);
                if (q == (mqd_t) -1)
                        return failed("mq_open");
                printf("created\n");
                return 0;
        }
        if (!strcmp(mode, "mq-send") && argc == 4) {
                q = mq_open(name, O_WRONLY);
                if (q == (mqd_t) -1)
                        return failed("mq_open");
                if (mq_send(q, argv[3], strlen(argv[3]), 0) < 0)
                        return failed("mq_send");
                printf("sent\n");
                return 0;
        }
        if (!strcmp(mode, "mq-recv") && argc == 3) {
                struct timespec ts;
                ssize_t n;
                q = mq_open(name, O_RDONLY);
                if (q == (mqd_t) -1)
                        return failed("mq_open");
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 20;
                n = mq_timedreceive(q, buf, sizeof(buf), NULL, &ts);
                if (n < 0)
                        return failed("mq_receive");
                printf("%.*s\n", (int) n, buf);
                return 0;
        }
        if (!strcmp(mode, "mq-open") && argc == 4) {
                struct mq_attr a;
                int f = parse_flags(argv[3]);
                q = (f & O_CREAT) ? mq_open(name, f, 0600, NULL) : mq_open(name, f);
                if (q == (mqd_t) -1)
                        return failed(NULL);
                if (mq_getattr(q, &a) < 0)
                        return failed("mq_getattr");
                printf("ok%s\n", (a.mq_flags & O_NONBLOCK) ? " nonblock" : "");
                return 0;
        }
        if (!strcmp(mode, "mq-empty") && argc == 3) {
                q = mq_open(name, O_RDONLY | O_NONBLOCK);
                if (q == (mqd_t) -1)
                        return failed("mq_open");
                if (mq_receive(q, buf, sizeof(buf), NULL) >= 0) {
                        printf("received\n");
                        return 0;
                }
                return failed("mq_receive");
        }
        fprintf(stderr, "bad arguments for %s\n", mode);
        return 2;
}

static int loop(int argc, char **argv) {
        bool shm = !strcmp(argv[2], "shm");
        long n = strtol(argv[4], NULL, 10);

        for (long i = 0; i < n; i++) {
                int fd = shm ? shm_open(argv[3], O_RDONLY, 0) : (int) mq_open(argv[3], O_RDONLY);
                if (fd < 0) {
                        printf("open %ld: %s\n", i, strerrorname_np(errno));
                        return 1;
                }
                close(fd);
        }
        printf("ok %ld\n", n);
        return 0;
}

int main(int argc, char **argv) {
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: shmqcall MODE NAME ...\n");
                return 2;
        }
        if (!strncmp(argv[1], "shm-", 4))
                r = shm_mode(argv[1], argc, argv);
        else if (!strncmp(argv[1], "mq-", 3))
                r = mq_mode(argv[1], argc, argv);
        else if (!strcmp(argv[1], "loop") && argc == 5)
                r = loop(argc, argv);
        else {
                fprintf(stderr, "unknown mode %s\n", argv[1]);
                r = 2;
        }
        fflush(stdout);
        return r;
}
