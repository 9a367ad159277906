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

static char buf[64];

static const char *abs_of(const char *cwd, const char *path) {
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(shuttle_path_absolute(cwd, path, buf, sizeof(buf)), 0);
        return buf;
}

static void test_absolute_as_is(void **state) {
        assert_string_equal(abs_of("/tmp", "/etc/hosts"), "/etc/hosts");
        assert_string_equal(abs_of(NULL, "/etc/hosts"), "/etc/hosts");
        /* Not normalised here: the broker does, and audits both. */
        assert_string_equal(abs_of("/tmp", "/a/./b/../c"), "/a/./b/../c");
        assert_string_equal(abs_of("/tmp", "/"), "/");
}

static void test_relative(void **state) {
        assert_string_equal(abs_of("/tmp/share", "doc.txt"), "/tmp/share/doc.txt");
        assert_string_equal(abs_of("/tmp/share", "dir/file"), "/tmp/share/dir/file");
        assert_string_equal(abs_of("/", "tmp/x"), "/tmp/x");
        assert_string_equal(abs_of("/tmp", "../etc/x"), "/tmp/../etc/x");
        assert_string_equal(abs_of("/tmp", "-dash"), "/tmp/-dash");
        /* Names that only start with a dot are names. */
        assert_string_equal(abs_of("/tmp", ".hidden"), "/tmp/.hidden");
        assert_string_equal(abs_of("/tmp", "..x"), "/tmp/..x");
        assert_string_equal(abs_of("/tmp", "..."), "/tmp/...");
}

static void test_dot(void **state) {
        assert_string_equal(abs_of("/tmp", "."), "/tmp");
        assert_string_equal(abs_of("/tmp", "./"), "/tmp");
        assert_string_equal(abs_of("/", "."), "/");
        assert_string_equal(abs_of("/tmp", "./x"), "/tmp/x");
        assert_string_equal(abs_of("/tmp", "././x"), "/tmp/x");
        assert_string_equal(abs_of("/tmp", ".//x"), "/tmp/x");
        assert_string_equal(abs_of("/tmp", "./."), "/tmp");
        assert_string_equal(abs_of("/tmp", "x/./y"), "/tmp/x/./y");
}

static void test_refused(void **state) {
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
