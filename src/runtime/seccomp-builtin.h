/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The profile compiled at build time by seccomp-gen (see seccomp-gen.c)
 * into seccomp-builtin.c for a few capability sets, each with what it was
 * compiled for. */

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

typedef struct SeccompBuiltin {
        uint64_t caps;          /* the capability set */
        uint32_t arch;          /* libseccomp's native architecture token */
        unsigned api;           /* seccomp_api_get() */
        unsigned version[3];    /* libseccomp's major, minor, micro */
        size_t len;             /* 0: none */
        const struct sock_filter *code;
} SeccompBuiltin;

extern const SeccompBuiltin seccomp_builtins[];
extern const size_t seccomp_n_builtins;
