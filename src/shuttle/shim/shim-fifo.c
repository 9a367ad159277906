/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* open() of "/run/shuttle/svc/<container>.<name>": a FIFO another
 * container (or this one) exports becomes an OPEN_FIFO request on
 * /run/shuttle/broker.sock, and the descriptor the broker passes back, one
 * end of that FIFO, is what the program gets.  See man/shuttle-shim(7).
 *
 * Which names: exactly SHIM_SVC_DIR followed by a valid SERVICE value
 * ("container.name", split at the last dot), as an absolute path (openat()
 * with a relative path is left alone, whatever its directory).  Everything
 * else goes to the real call after one comparison.  A name the broker knows
 * no FIFO export for (ENOENT: no such container, a socket export's proxy,
 * nothing) goes to the real call too, which finds what is really there.  A
 * denial is EACCES, and nothing falls through then.
 *
 * Flags on a redirected name: O_RDONLY asks for the read end, O_WRONLY
 * for the write end; O_RDWR fails with EINVAL (an export hands out one end
 * at a time, never both).  O_NONBLOCK is passed on.  The broker never
 * waits for the other end: a write end while no one reads fails with
 * ENXIO, as with O_NONBLOCK; a read end opened before any writer reads
 * end-of-file until one comes (poll() for POLLIN waits for it).  O_CREAT
 * is ignored (the exporter made the FIFO), O_CREAT|O_EXCL fails with
 * EEXIST as for any existing file, O_TRUNC means nothing for a FIFO;
 * O_PATH, O_DIRECTORY and O_TMPFILE go to the real call.  The descriptor
 * is close-on-exec only if O_CLOEXEC asked for it.
 *
 * The house rules of shim.c apply: errno restored unless the hook fails,
 * nothing written to stdout/stderr, no exit, shim_in_redirect against
 * re-entry from a signal handler.  fopen() and other callers inside libc
 * do not go through these hooks: they see the real file system. */

/* This file defines open() and openat() themselves: fortify's inline
 * wrappers of them in <bits/fcntl2.h> must not be there. */
#undef _FORTIFY_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/shim/shim-internal.h"

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*open_2_fn)(const char *, int);
typedef int (*openat_2_fn)(int, const char *, int);

enum { REAL_OPEN, REAL_OPEN64, _REAL_OPEN_MAX };
enum { REAL_OPENAT, REAL_OPENAT64, _REAL_OPENAT_MAX };

static open_fn real_open[_REAL_OPEN_MAX];
static openat_fn real_openat[_REAL_OPENAT_MAX];
static open_2_fn real_open_2[_REAL_OPEN_MAX];
static openat_2_fn real_openat_2[_REAL_OPENAT_MAX];

/* glibc's fortified callers reach these when the flags are not a
 * constant. */
int __open_2(const char *path, int oflag);
int __open64_2(const char *path, int oflag);
int __openat_2(int dirfd, const char *path, int oflag);
int __openat64_2(int dirfd, const char *path, int oflag);

static void resolve_real_open(void) {
        static const char *const open_names[_REAL_OPEN_MAX] = { "open", "open64" };
        static const char *const open_2_names[_REAL_OPEN_MAX] = { "__open_2", "__open64_2" };
        static const char *const openat_names[_REAL_OPENAT_MAX] = { "openat", "openat64" };
        static const char *const openat_2_names[_REAL_OPENAT_MAX] = { "__openat_2", "__openat64_2" };

        for (size_t i = 0; i < _REAL_OPEN_MAX; i++) {
                if (!real_open[i])
                        real_open[i] = (open_fn) dlsym(RTLD_NEXT, open_names[i]);
                if (!real_open_2[i])
                        real_open_2[i] = (open_2_fn) dlsym(RTLD_NEXT, open_2_names[i]);
        }
        for (size_t i = 0; i < _REAL_OPENAT_MAX; i++) {
                if (!real_openat[i])
                        real_openat[i] = (openat_fn) dlsym(RTLD_NEXT, openat_names[i]);
                if (!real_openat_2[i])
                        real_openat_2[i] = (openat_2_fn) dlsym(RTLD_NEXT, openat_2_names[i]);
        }
}

/* Before the real functions are known (an open() from another library's
 * constructor, or from inside dlsym() itself, say through an allocator
 * that reads a file): the system call, which is what they come down to.
 * Never ENOSYS for something as basic as open(). */
static int sys_openat(int dirfd, const char *path, int oflag, mode_t mode) {
        return (int) syscall(SYS_openat, dirfd, path, oflag, mode);
}

/* This thread is inside resolve_real_open(): a nested open() must not
 * start another lookup. */
static __thread bool resolving __attribute__((tls_model("initial-exec")));

static void resolve_once(void) {
        if (resolving)
                return;
        resolving = true;
        resolve_real_open();
        resolving = false;
}

__attribute__((constructor)) static void shim_fifo_init(void) {
        int saved = errno;
        resolve_once();
        errno = saved;
}

/* "/run/shuttle/svc/db.logs" → "db.logs"; false for anything else.  The
 * first test is the cheap one every open() pays. */
static bool fifo_name(const char *path, char buf[static SHUTTLE_SERVICE_MAX + 1]) {
        static const size_t dir_len = sizeof(SHIM_SVC_DIR) - 1;
        char c[SHUTTLE_NAME_MAX + 1], s[SHUTTLE_NAME_MAX + 1];
        size_t n;

        if (!path || path[0] != '/' || strncmp(path, SHIM_SVC_DIR, dir_len) != 0)
                return false;
        path += dir_len;
        n = strnlen(path, SHUTTLE_SERVICE_MAX + 1);
        if (n == 0 || n > SHUTTLE_SERVICE_MAX || memchr(path, '/', n))
                return false;
        memcpy(buf, path, n + 1);
        return shuttle_service_split(buf, c, s) >= 0;
}

/* Whether the flags are for us at all: a plain open for reading or
 * writing, not an O_PATH handle, a directory or an unnamed temporary file. */
static bool fifo_flags(int oflag) {
        return !(oflag & (O_PATH | O_DIRECTORY)) && (oflag & O_TMPFILE) != O_TMPFILE;
}

/* Asks the broker for the end.  0 and *ret_fd; a negative errno for the
 * program; or 1: not for us (no broker, no such FIFO export, a broker that
 * does not know the request), call the real function. */
static int fifo_redirect(const char *service, int oflag, int *ret_fd) {
        int fd = -1, r;

        /* Both ends at once is more than any export hands out. */
        if ((oflag & O_ACCMODE) != O_RDONLY && (oflag & O_ACCMODE) != O_WRONLY)
                return -EINVAL;
        r = shim_open_export(shuttle_open_fifo, service, shim_open_flags(oflag), oflag, &fd);
        if (r != 0)
                return r;
        /* The client's descriptors are close-on-exec; open()'s are not
         * unless asked. */
        if (!(oflag & O_CLOEXEC) && fcntl(fd, F_SETFD, 0) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* The hooks' common part: -1 with errno, a descriptor, or -2: call the real
 * function (errno as the caller had it). */
static int hook(const char *path, int oflag) {
        char service[SHUTTLE_SERVICE_MAX + 1];
        int saved = errno, fd = -1, r;

        if (shim_disabled || shim_in_redirect || !fifo_name(path, service) || !fifo_flags(oflag))
                return -2;
        shim_in_redirect = true;
        r = fifo_redirect(service, oflag, &fd);
        shim_in_redirect = false;
        if (r > 0) {
                errno = saved;
                return -2;
        }
        if (r < 0) {
                errno = -r;
                return -1;
        }
        errno = saved;
        return fd;
}

/* With O_CREAT or O_TMPFILE, a mode follows. */
#define TAKE_MODE(oflag, last, mode)                                    \
        do {                                                            \
                if ((oflag) & O_CREAT || ((oflag) & O_TMPFILE) == O_TMPFILE) { \
                        va_list ap;                                     \
                        va_start(ap, last);                             \
                        mode = va_arg(ap, mode_t);                      \
                        va_end(ap);                                     \
                }                                                       \
        } while (0)

static int do_open(unsigned which, const char *path, int oflag, mode_t mode) {
        int fd;

        if (__builtin_expect(!real_open[which], 0)) {
                resolve_once();
                if (!real_open[which])
                        return sys_openat(AT_FDCWD, path, oflag, mode);
        }
        fd = hook(path, oflag);
        return fd != -2 ? fd : real_open[which](path, oflag, mode);
}

static int do_openat(unsigned which, int dirfd, const char *path, int oflag, mode_t mode) {
        int fd;

        if (__builtin_expect(!real_openat[which], 0)) {
                resolve_once();
                if (!real_openat[which])
                        return sys_openat(dirfd, path, oflag, mode);
        }
        fd = hook(path, oflag);
        return fd != -2 ? fd : real_openat[which](dirfd, path, oflag, mode);
}

_hook_ int open(const char *path, int oflag, ...) {
        mode_t mode = 0;

        TAKE_MODE(oflag, oflag, mode);
        return do_open(REAL_OPEN, path, oflag, mode);
}

_hook_ int open64(const char *path, int oflag, ...) {
        mode_t mode = 0;

        TAKE_MODE(oflag, oflag, mode);
        return do_open(REAL_OPEN64, path, oflag, mode);
}

_hook_ int openat(int dirfd, const char *path, int oflag, ...) {
        mode_t mode = 0;

        TAKE_MODE(oflag, oflag, mode);
        return do_openat(REAL_OPENAT, dirfd, path, oflag, mode);
}

_hook_ int openat64(int dirfd, const char *path, int oflag, ...) {
        mode_t mode = 0;

        TAKE_MODE(oflag, oflag, mode);
        return do_openat(REAL_OPENAT64, dirfd, path, oflag, mode);
}

static int do_open_2(unsigned which, const char *path, int oflag) {
        int fd;

        if (__builtin_expect(!real_open_2[which], 0)) {
                resolve_once();
                if (!real_open_2[which])
                        return sys_openat(AT_FDCWD, path, oflag, 0);
        }
        /* O_CREAT without a mode is the real function's to refuse. */
        fd = (oflag & O_CREAT) ? -2 : hook(path, oflag);
        return fd != -2 ? fd : real_open_2[which](path, oflag);
}

static int do_openat_2(unsigned which, int dirfd, const char *path, int oflag) {
        int fd;

        if (__builtin_expect(!real_openat_2[which], 0)) {
                resolve_once();
                if (!real_openat_2[which])
                        return sys_openat(dirfd, path, oflag, 0);
        }
        fd = (oflag & O_CREAT) ? -2 : hook(path, oflag);
        return fd != -2 ? fd : real_openat_2[which](dirfd, path, oflag);
}

_hook_ int __open_2(const char *path, int oflag) {
        return do_open_2(REAL_OPEN, path, oflag);
}

_hook_ int __open64_2(const char *path, int oflag) {
        return do_open_2(REAL_OPEN64, path, oflag);
}

_hook_ int __openat_2(int dirfd, const char *path, int oflag) {
        return do_openat_2(REAL_OPENAT, dirfd, path, oflag);
}

_hook_ int __openat64_2(int dirfd, const char *path, int oflag) {
        return do_openat_2(REAL_OPENAT64, dirfd, path, oflag);
}
