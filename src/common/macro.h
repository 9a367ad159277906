/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Cleanup attributes and small macros shared by every layer.  Cleaners
 * accept NULL / -1 and preserve errno, so they are safe on every path. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

#define _public_ __attribute__((visibility("default")))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define STRLEN(s) (sizeof("" s "") - 1)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)

/* Move ownership out of a cleanup variable. */
#define TAKE_PTR(p)                         \
        ({                                  \
                __typeof__(p) _p_ = (p);    \
                (p) = NULL;                 \
                _p_;                        \
        })
#define TAKE_FD(fd)                         \
        ({                                  \
                int _fd_ = (fd);            \
                (fd) = -1;                  \
                _fd_;                       \
        })

static inline void freep(void *p) {
        int saved = errno;
        free(*(void **) p);
        errno = saved;
}

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -1;
}

static inline void closep(int *fd) {
        safe_close(*fd);
}

static inline void fclosep(FILE **f) {
        if (*f) {
                int saved = errno;
                fclose(*f);
                errno = saved;
        }
}

static inline void closedirp(DIR **d) {
        if (*d) {
                int saved = errno;
                closedir(*d);
                errno = saved;
        }
}

/* A NULL-terminated vector of heap strings. */
static inline void strv_free(char **v) {
        int saved = errno;
        if (v)
                for (char **i = v; *i; i++)
                        free(*i);
        free(v);
        errno = saved;
}
static inline void strv_freep(char ***v) {
        strv_free(*v);
}

/* A cleaner for a library's own free function: DEFINE_TRIVIAL_CLEANUP_FUNC(
 * struct nl_sock *, nl_socket_free) gives nl_socket_freep(). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)              \
        static inline void func##p(type *p) {                \
                if (*p) {                                    \
                        int _saved = errno;                  \
                        func(*p);                            \
                        errno = _saved;                      \
                }                                            \
        }

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* errno as a negative return value, never 0 even if errno was clobbered. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}
