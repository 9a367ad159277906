/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shm_open() and mq_open() of "/<container>.<name>": a shared-memory object
 * or a message queue that another container (or this one) exports becomes
 * an OPEN_SHM / OPEN_MQ request on /run/shuttle/broker.sock, and the
 * descriptor the broker passes back is what the program gets.  See
 * man/shuttle-shim.7.
 *
 * Which names: exactly "/" followed by a valid SERVICE value
 * ("container.name", split at the last dot: shuttle_service_split()).
 * Everything else goes to the real call after a few comparisons.  A name
 * the broker knows no such export for (ENOENT) is the container's own after
 * all, and goes to the real call too: a program whose own objects happen to
 * be named like "/PostgreSQL.1234" keeps working.  A denial is EACCES, and
 * nothing falls through then.
 *
 * Flags on a redirected name: the access mode picks read, write or both
 * (shm: O_RDONLY or O_RDWR; O_WRONLY is left to the real call); mq's
 * O_NONBLOCK is passed
 * on; O_CREAT is ignored (the object exists: the exporter made it), with its
 * mode and attributes; O_CREAT|O_EXCL fails with EEXIST, as it would for
 * any existing object; shm's O_TRUNC fails with EINVAL (the object is
 * sealed at its size).  Both descriptors are close-on-exec, as the real
 * calls' always are.
 *
 * The house rules of shim.c apply: errno restored unless the hook fails,
 * nothing written to stdout/stderr, no exit, secure_getenv() only (through
 * the shared client), shim_in_redirect against re-entry from a signal handler. */

/* This file defines mq_open() itself: fortify's inline wrapper of it in
 * <bits/mqueue2.h> must not be there. */
#undef _FORTIFY_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/shim/shim-internal.h"


typedef int (*shm_open_fn)(const char *, int, mode_t);
typedef mqd_t (*mq_open_fn)(const char *, int, ...);
typedef mqd_t (*mq_open_2_fn)(const char *, int);

static shm_open_fn real_shm_open;
static mq_open_fn real_mq_open;
static mq_open_2_fn real_mq_open_2;

/* glibc's fortified callers reach mq_open() through this when oflag is not
 * a constant and no mode and attributes follow. */
mqd_t __mq_open_2(const char *name, int oflag);

static void resolve_real_ipc(void) {
        if (!real_shm_open)
                real_shm_open = (shm_open_fn) dlsym(RTLD_NEXT, "shm_open");
        if (!real_mq_open)
                real_mq_open = (mq_open_fn) dlsym(RTLD_NEXT, "mq_open");
        if (!real_mq_open_2)
                real_mq_open_2 = (mq_open_2_fn) dlsym(RTLD_NEXT, "__mq_open_2");
}

__attribute__((constructor)) static void shim_ipc_init(void) {
        int saved = errno;
        resolve_real_ipc();
        errno = saved;
}

/* "/db.frames" → "db.frames"; false for anything that is not "/" and a
 * SERVICE value.  The first test is the cheap one every call pays. */
static bool ipc_name(const char *name, char buf[static SHUTTLE_SERVICE_MAX + 1]) {
        char c[SHUTTLE_NAME_MAX + 1], s[SHUTTLE_NAME_MAX + 1];
        size_t n;

        if (!name || name[0] != '/' || !strchr(name + 1, '.'))
                return false;
        n = strnlen(name + 1, SHUTTLE_SERVICE_MAX + 1);
        if (n > SHUTTLE_SERVICE_MAX || memchr(name + 1, '/', n))
                return false;
        memcpy(buf, name + 1, n + 1);
        return shuttle_service_split(buf, c, s) >= 0;
}

/* Asks the broker for the object.  0 and *ret_fd; a negative errno for the
 * program; or 1: not for us (no broker, no such export, a broker that does
 * not know the request), call the real function. */
static int open_redirect(bool shm, const char *service, unsigned flags, int oflag, int *ret_fd) {
        int fd = -1, r;

        r = shim_open_export(shm ? shuttle_open_shm : shuttle_open_mq, service, flags, oflag, &fd);
        if (r != 0)
                return r;
        /* A shared-memory object keeps its size. */
        if (shm && (oflag & O_TRUNC)) {
                close(fd);
                return -EINVAL;
        }
        *ret_fd = fd;
        return 0;
}

/* Runs open_redirect() with errno and shim_in_redirect kept as the rules want:
 * 1 means "call the real function" (errno as the caller had it). */
static int redirect(bool shm, const char *service, unsigned flags, int oflag, int *ret_fd) {
        int saved = errno, r;

        shim_in_redirect = true;
        r = open_redirect(shm, service, flags, oflag, ret_fd);
        shim_in_redirect = false;
        errno = r < 0 ? -r : saved;
        return r;
}

_hook_ int shm_open(const char *name, int oflag, mode_t mode) {
        char service[SHUTTLE_SERVICE_MAX + 1];
        unsigned flags;
        int fd = -1, r;

        if (__builtin_expect(!real_shm_open, 0)) {
                resolve_real_ipc();
                if (!real_shm_open) {
                        errno = ENOSYS;
                        return -1;
                }
        }
        if (shim_disabled || shim_in_redirect || !ipc_name(name, service))
                return real_shm_open(name, oflag, mode);

        switch (oflag & O_ACCMODE) {
        case O_RDONLY:
                flags = SHUTTLE_OPEN_READ;
                break;
        case O_RDWR:
                flags = SHUTTLE_OPEN_READ | SHUTTLE_OPEN_WRITE;
                break;
        default:
                /* Write-only: not something an export is opened as, so
                 * the name is left to the real call. */
                return real_shm_open(name, oflag, mode);
        }
        r = redirect(true, service, flags, oflag, &fd);
        if (r > 0)
                return real_shm_open(name, oflag, mode);
        return r < 0 ? -1 : fd;
}

_hook_ mqd_t mq_open(const char *name, int oflag, ...) {
        char service[SHUTTLE_SERVICE_MAX + 1];
        struct mq_attr *attr = NULL;
        mode_t mode = 0;
        int fd = -1, r;

        /* With O_CREAT, a mode and an attribute pointer follow. */
        if (oflag & O_CREAT) {
                va_list ap;
                va_start(ap, oflag);
                mode = va_arg(ap, mode_t);
                attr = va_arg(ap, struct mq_attr *);
                va_end(ap);
        }
        if (__builtin_expect(!real_mq_open, 0)) {
                resolve_real_ipc();
                if (!real_mq_open) {
                        errno = ENOSYS;
                        return (mqd_t) -1;
                }
        }
        if (shim_disabled || shim_in_redirect || !ipc_name(name, service) ||
            (r = redirect(false, service, shim_open_flags(oflag), oflag, &fd)) > 0)
                return (oflag & O_CREAT) ? real_mq_open(name, oflag, mode, attr) : real_mq_open(name, oflag);
        return r < 0 ? (mqd_t) -1 : (mqd_t) fd;
}

_hook_ mqd_t __mq_open_2(const char *name, int oflag) {
        char service[SHUTTLE_SERVICE_MAX + 1];
        int fd = -1, r;

        if (__builtin_expect(!real_mq_open_2, 0)) {
                resolve_real_ipc();
                if (!real_mq_open_2) {
                        errno = ENOSYS;
                        return (mqd_t) -1;
                }
        }
        /* O_CREAT without a mode is the real function's to refuse. */
        if (shim_disabled || shim_in_redirect || (oflag & O_CREAT) || !ipc_name(name, service) ||
            (r = redirect(false, service, shim_open_flags(oflag), oflag, &fd)) > 0)
                return real_mq_open_2(name, oflag);
        return r < 0 ? (mqd_t) -1 : (mqd_t) fd;
}
