/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-transfer's relative paths (abs-path.h): joined onto the current
 * directory, "./" dropped, ".." left for the broker to normalise; the
 * buffer bound exact, and nothing written on failure. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "common/macro.h"
#include "shuttle/client/abs-path.h"

/* What each path comes to against cwd. */
typedef struct Case {
        const char *cwd, *path, *want;
} Case;

static void check(const Case *c, size_t n) {
        char buf[64];

        for (size_t i = 0; i < n; i++) {
                memset(buf, 'x', sizeof(buf));
                assert_int_equal(shuttle_path_absolute(c[i].cwd, c[i].path, buf, sizeof(buf)), 0);
                assert_string_equal(buf, c[i].want);
        }
}

static void test_absolute_as_is(void **state) {
        static const Case cases[] = {
                { "/tmp", "/etc/hosts", "/etc/hosts" },
                { NULL, "/etc/hosts", "/etc/hosts" },
                /* Not normalised here: the broker does, and audits both. */
                { "/tmp", "/a/./b/../c", "/a/./b/../c" },
                { "/tmp", "/", "/" },
        };

        check(cases, ELEMENTSOF(cases));
}

static void test_relative(void **state) {
        static const Case cases[] = {
                { "/tmp/share", "doc.txt", "/tmp/share/doc.txt" },
                { "/tmp/share", "dir/file", "/tmp/share/dir/file" },
                { "/", "tmp/x", "/tmp/x" },
                { "/tmp", "../etc/x", "/tmp/../etc/x" },
                { "/tmp", "-dash", "/tmp/-dash" },
                /* Names that only start with a dot are names. */
                { "/tmp", ".hidden", "/tmp/.hidden" },
                { "/tmp", "..x", "/tmp/..x" },
                { "/tmp", "...", "/tmp/..." },
        };

        check(cases, ELEMENTSOF(cases));
}

static void test_dot(void **state) {
        static const Case cases[] = {
                { "/tmp", ".", "/tmp" },
                { "/tmp", "./", "/tmp" },
                { "/", ".", "/" },
                { "/tmp", "./x", "/tmp/x" },
                { "/tmp", "././x", "/tmp/x" },
                { "/tmp", ".//x", "/tmp/x" },
                { "/tmp", "./.", "/tmp" },
                { "/tmp", "x/./y", "/tmp/x/./y" },
        };

        check(cases, ELEMENTSOF(cases));
}

static void test_refused(void **state) {
        char buf[64];

        memset(buf, 'x', sizeof(buf));
        assert_int_equal(shuttle_path_absolute("/tmp", "", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(shuttle_path_absolute("/tmp", NULL, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(shuttle_path_absolute("tmp", "x", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(shuttle_path_absolute(NULL, "x", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(shuttle_path_absolute("", "x", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(buf[0], 'x');
}

static void test_bounds(void **state) {
        char small[8];

        /* "/ab/cde" is 7 bytes: fits in 8 with its NUL, not in 7. */
        memset(small, 'x', sizeof(small));
        assert_int_equal(shuttle_path_absolute("/ab", "cde", small, 8), 0);
        assert_string_equal(small, "/ab/cde");
        memset(small, 'x', sizeof(small));
        assert_int_equal(shuttle_path_absolute("/ab", "cdef", small, 8), -ENAMETOOLONG);
        assert_int_equal(shuttle_path_absolute("/abcd", "cde", small, 8), -ENAMETOOLONG);
        assert_int_equal(shuttle_path_absolute(NULL, "/abcdefg", small, 8), -ENAMETOOLONG);
        assert_int_equal(small[0], 'x');
        assert_int_equal(shuttle_path_absolute(NULL, "/abcdef", small, 8), 0);
        assert_string_equal(small, "/abcdef");
        assert_int_equal(shuttle_path_absolute("/abcdef", ".", small, 8), 0);
        assert_string_equal(small, "/abcdef");
        assert_int_equal(shuttle_path_absolute("/", "x", small, 0), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_absolute_as_is), cmocka_unit_test(test_relative),
                cmocka_unit_test(test_dot),            cmocka_unit_test(test_refused),
                cmocka_unit_test(test_bounds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
