/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libnl-route-3, loaded on first use (bridge-nl.h). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

#define BRIDGE_NL_LOADER
#include "runtime/bridge-nl.h"

BridgeLibnl bridge_libnl;
static bool libnl_loaded;
static pthread_once_t libnl_once = PTHREAD_ONCE_INIT;

static void libnl_load_once(void) {
        void *h = dlopen(LIBNL_ROUTE_SONAME, RTLD_NOW | RTLD_LOCAL);

        if (!h)
                return;
#define X(f)                                                        \
        bridge_libnl.f = (__typeof__(bridge_libnl.f)) dlsym(h, #f); \
        if (!bridge_libnl.f) {                                      \
                dlclose(h);                                         \
                return;                                             \
        }
        NL_FUNCS(X)
#undef X
        libnl_loaded = true; /* h stays open for the life of the process */
}

int bridge_libnl_load(void) {
        (void) pthread_once(&libnl_once, libnl_load_once);
        return libnl_loaded ? 0 : -ELIBACC;
}
