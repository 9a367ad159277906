/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The greet library: header-only, so the example builds nothing ahead. */
#pragma once
#include <stdio.h>

#define GREET_VERSION "1.0"

static inline void greet(const char *who) {
        printf("hello, %s, from the greet toolchain " GREET_VERSION "\n", who);
}
