/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The names under /run/shuttle/apps/ (app-entry.h), as the shim's exec
 * hooks and shuttle-invoke split them.  A name the kernel would resolve
 * elsewhere must not be taken for an entry. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/macro.h"
#include "shuttle/client/app-entry.h"

static int parse(const char *path, char target[static SHUTTLE_NAME_MAX + 1],
                 char app[static SHUTTLE_PATH_MAX + 1]) {
        memset(target, 'x', SHUTTLE_NAME_MAX + 1);
        memset(app, 'x', SHUTTLE_PATH_MAX + 1);
        return shuttle_app_entry_parse(path, target, app);
}

static void test_entries(void **state) {
        char t[SHUTTLE_NAME_MAX + 1], a[SHUTTLE_PATH_MAX + 1];

        assert_int_equal(parse("/run/shuttle/apps/viewer/pdfview", t, a), 0);
        assert_string_equal(t, "viewer");
        assert_string_equal(a, "pdfview");
        /* The path form: the app is a path in the target. */
        assert_int_equal(parse("/run/shuttle/apps/b/usr/bin/x", t, a), 0);
        assert_string_equal(t, "b");
        assert_string_equal(a, "/usr/bin/x");
        /* Names are the broker's to check. */
        assert_int_equal(parse("/run/shuttle/apps/-b/-n", t, a), 0);
        assert_string_equal(t, "-b");
        assert_string_equal(a, "-n");
}

static void test_not_entries(void **state) {
        static const char *const bad[] = {
                NULL,
                "",
                "/run/shuttle/apps/",
                "/run/shuttle/apps/b",
                "/run/shuttle/apps/b/",
                "/run/shuttle/apps/b/x/",
                "/run/shuttle/apps//x",
                "/run/shuttle/apps/b//x",
                "/run/shuttle/apps/./x",
                "/run/shuttle/apps/../x",
                "/run/shuttle/apps/b/..",
                "/run/shuttle/apps/b/../../bin/sh",
                "/run/shuttle/apps/b/./x",
                "/run/shuttle/app/b/x",
                "/run/shuttle/appsb/x",
                "run/shuttle/apps/b/x",
                "/run//shuttle/apps/b/x",
                "/usr/bin/x",
        };
        char t[SHUTTLE_NAME_MAX + 1], a[SHUTTLE_PATH_MAX + 1];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(parse(bad[i], t, a), -EINVAL);
                /* Nothing written on failure. */
                assert_int_equal(t[0], 'x');
                assert_int_equal(a[0], 'x');
        }
        assert_false(shuttle_app_entry_has_prefix(NULL));
        assert_false(shuttle_app_entry_has_prefix("/run/shuttle/apps"));
        assert_true(shuttle_app_entry_has_prefix("/run/shuttle/apps/"));
}

static void test_lengths(void **state) {
        char t[SHUTTLE_NAME_MAX + 1], a[SHUTTLE_PATH_MAX + 1];
        char path[sizeof(SHUTTLE_APPS_DIR) + SHUTTLE_PATH_MAX + 8];

        /* The longest container name fits, one more does not. */
        snprintf(path, sizeof(path), SHUTTLE_APPS_DIR "%0*d/x", SHUTTLE_NAME_MAX, 0);
        assert_int_equal(parse(path, t, a), 0);
        assert_int_equal(strlen(t), SHUTTLE_NAME_MAX);
        snprintf(path, sizeof(path), SHUTTLE_APPS_DIR "%0*d/x", SHUTTLE_NAME_MAX + 1, 0);
        assert_int_equal(parse(path, t, a), -EINVAL);
        /* The longest app path (with its leading '/') fits, one more does not. */
        snprintf(path, sizeof(path), SHUTTLE_APPS_DIR "b/d/%0*d", SHUTTLE_PATH_MAX - 3, 0);
        assert_int_equal(parse(path, t, a), 0);
        assert_int_equal(strlen(a), SHUTTLE_PATH_MAX);
        snprintf(path, sizeof(path), SHUTTLE_APPS_DIR "b/d/%0*d", SHUTTLE_PATH_MAX - 2, 0);
        assert_int_equal(parse(path, t, a), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_entries),
                cmocka_unit_test(test_not_entries),
                cmocka_unit_test(test_lengths),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
