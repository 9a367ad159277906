/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "runtime/env.h"

/* Sets entry `s` ("K=V", taken over), replacing one with the same K. */
static int env_put(char **env, size_t *n, char *s) {
        const char *eq;
        size_t klen, j;

        if (!s)
                return -1;
        eq = strchr(s, '=');
        klen = eq ? (size_t) (eq - s) + 1 : strlen(s);
        for (j = 0; j < *n; j++)
                if (strncmp(env[j], s, klen) == 0)
                        break;
        if (j < *n)
                free(env[j]);
        else
                (*n)++;
        env[j] = s;
        return 0;
}

/* a + b + c, malloc'ed. */
static char *concat(const char *a, const char *b, const char *c) {
        size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
        char *s = malloc(la + lb + lc + 1);

        if (s) {
                memcpy(s, a, la);
                memcpy(s + la, b, lb);
                memcpy(s + la + lb, c, lc + 1);
        }
        return s;
}

/* Appends preload to LD_PRELOAD (or sets LD_PRELOAD=preload); env has
 * room for one more. */
static int add_preload(char **env, size_t *n, const char *preload) {
        size_t j;

        for (j = 0; j < *n; j++)
                if (strneq(env[j], "LD_PRELOAD=", STRLEN("LD_PRELOAD=")))
                        break;
        if (j < *n && env[j][STRLEN("LD_PRELOAD=")] != '\0')
                return env_put(env, n, concat(env[j], " ", preload));
        return env_put(env, n, concat("LD_PRELOAD=", preload, ""));
}

#ifdef SHUTTLE_SANITIZERS
/* ASAN_OPTIONS for a sanitizer build's containers: no leak check (it needs
 * ptrace, which the profile refuses), and, where the (sanitized) shim is
 * preloaded ahead of a program's ASan runtime, no complaint about that. */
static const char *sanitizer_options(const char *preload) {
        return preload ? "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0" : "ASAN_OPTIONS=detect_leaks=0";
}
#endif

char **container_env_new(const char *home, const char *hostname, const char *term, char *const *extra,
                         size_t n_extra, const char *preload) {
        char **env = calloc(n_extra + 8, sizeof(char *));
        size_t n = 0;
        int r = 0;

        if (!env)
                return NULL;
        r |= env_put(env, &n, concat("PATH=", CONTAINER_DEFAULT_PATH, ""));
        r |= env_put(env, &n, concat("HOME=", home, ""));
        r |= env_put(env, &n, concat("HOSTNAME=", hostname, ""));
        r |= env_put(env, &n, strdup("container=shuttle"));
        if (term)
                r |= env_put(env, &n, concat("TERM=", term, ""));
#ifdef SHUTTLE_SANITIZERS
        /* A sanitizer build's own programs (the tests' helpers) run in
         * containers too, where the shim is preloaded ahead of their ASan
         * runtime: tell ASan that is fine.  LeakSanitizer stops the world
         * with ptrace, which the seccomp profile refuses without
         * CAP_SYS_PTRACE: no leak check inside containers.  Only in such
         * test builds. */
        r |= env_put(env, &n, strdup(sanitizer_options(preload)));
#endif
        for (size_t i = 0; r == 0 && i < n_extra; i++)
                r |= env_put(env, &n, strdup(extra[i]));
        if (r == 0 && preload)
                r |= add_preload(env, &n, preload);
        if (r != 0) {
                strv_free(env);
                return NULL;
        }
        return env;
}

char **container_env_exact(char *const *env, size_t n_env, const char *preload) {
        char **v = calloc(n_env + 3, sizeof(char *));
        size_t n = 0;
        int r = 0;

        if (!v)
                return NULL;
        for (; n < n_env; n++)
                if (!(v[n] = strdup(env[n]))) {
                        strv_free(v);
                        return NULL;
                }
#ifdef SHUTTLE_SANITIZERS
        /* The shim of a sanitizer build is itself sanitized, and preloaded
         * ahead of a program's ASan runtime: tell ASan that is fine, as
         * container_env_new() does (only in such test builds; an
         * ASAN_OPTIONS the bundle sets is its own). */
        if (preload) {
                bool set = false;

                for (size_t i = 0; i < n; i++)
                        set = set || strncmp(v[i], "ASAN_OPTIONS=", 13) == 0;
                if (!set)
                        r |= env_put(v, &n, strdup(sanitizer_options(preload)));
        }
#endif
        if (preload)
                r |= add_preload(v, &n, preload);
        if (r != 0) {
                strv_free(v);
                return NULL;
        }
        return v;
}
