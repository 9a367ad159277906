/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "runtime/env.h"

/* A sanitizer build tells ASan in every container not to check for leaks
 * (LeakSanitizer needs ptrace, which the profile refuses): see env.c. */
#ifdef SHUTTLE_SANITIZERS
#define SAN "ASAN_OPTIONS=detect_leaks=0|"
#define SAN_PRELOAD "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0|"
#else
#define SAN ""
#define SAN_PRELOAD ""
#endif

static char *joined(char **env) {
        static char buf[2048];
        buf[0] = '\0';
        for (char **e = env; *e; e++) {
                strcat(buf, *e);
                strcat(buf, "|");
        }
        return buf;
}

static void test_defaults(void **state) {
        char **env = container_env_new("/root", "web", NULL, NULL, 0, NULL);
        assert_string_equal(joined(env), "PATH=" CONTAINER_DEFAULT_PATH "|HOME=/root|HOSTNAME=web|container=shuttle|" SAN);
        strv_free(env);
        env = container_env_new("/", "h", "xterm", NULL, 0, NULL);
        assert_string_equal(joined(env), "PATH=" CONTAINER_DEFAULT_PATH "|HOME=/|HOSTNAME=h|container=shuttle|TERM=xterm|" SAN);
        strv_free(env);
}

static void test_extra_later_wins(void **state) {
        char *extra[] = { "FOO=1", "PATH=/bin", "FOO=2", "EMPTY=" };
        char **env = container_env_new("/root", "h", NULL, extra, 4, NULL);
        assert_string_equal(joined(env), "PATH=/bin|HOME=/root|HOSTNAME=h|container=shuttle|" SAN "FOO=2|EMPTY=|");
        strv_free(env);
}

static void test_preload(void **state) {
        char *extra[] = { "LD_PRELOAD=/lib/mine.so" };
        char *empty[] = { "LD_PRELOAD=" };
        char **env = container_env_new("/root", "h", NULL, NULL, 0, "/run/shim.so");
        assert_non_null(strstr(joined(env), "|LD_PRELOAD=/run/shim.so|"));
        strv_free(env);
        /* A preload of the user's own comes first, the shim after it. */
        env = container_env_new("/root", "h", NULL, extra, 1, "/run/shim.so");
        assert_non_null(strstr(joined(env), "|LD_PRELOAD=/lib/mine.so /run/shim.so|"));
        strv_free(env);
        env = container_env_new("/root", "h", NULL, empty, 1, "/run/shim.so");
        assert_non_null(strstr(joined(env), "|LD_PRELOAD=/run/shim.so|"));
        strv_free(env);
}

static void test_exact(void **state) {
        char *oci[] = { "PATH=/bin", "A=1", "A=2", "LD_PRELOAD=/lib/mine.so" };
        char **env = container_env_exact(oci, 3, NULL);
        /* As given: nothing added, nothing merged. */
        assert_string_equal(joined(env), "PATH=/bin|A=1|A=2|");
        strv_free(env);
        env = container_env_exact(oci, 3, "/run/shim.so");
        assert_string_equal(joined(env), "PATH=/bin|A=1|A=2|" SAN_PRELOAD "LD_PRELOAD=/run/shim.so|");
        strv_free(env);
        env = container_env_exact(oci, 4, "/run/shim.so");
        assert_string_equal(joined(env), "PATH=/bin|A=1|A=2|LD_PRELOAD=/lib/mine.so /run/shim.so|" SAN_PRELOAD);
        strv_free(env);
        env = container_env_exact(NULL, 0, NULL);
        assert_string_equal(joined(env), "");
        strv_free(env);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_extra_later_wins),
                cmocka_unit_test(test_preload),
                cmocka_unit_test(test_exact),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
