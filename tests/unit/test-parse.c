/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "common/parse.h"

static void test_size(void **state) {
        static const struct {
                const char *in;
                int r;
                uint64_t out;
        } t[] = {
                { "4096", 0, 4096 },
                { "64M", 0, 64ULL << 20 },
                { "64m", 0, 64ULL << 20 },
                { "1G", 0, 1ULL << 30 },
                { "1GiB", 0, 1ULL << 30 },
                { "1gb", 0, 1ULL << 30 },
                { "512k", 0, 512ULL << 10 },
                { "1.5G", 0, 3ULL << 29 },
                { "2T", 0, 2ULL << 40 },
                { "100B", 0, 100 },
                { "", -EINVAL, 0 },
                { "M", -EINVAL, 0 },
                { "-1", -EINVAL, 0 },
                { "12X", -EINVAL, 0 },
                { "12MX", -EINVAL, 0 },
                { "1.5", -EINVAL, 0 },
                { " 1M", -EINVAL, 0 },
                { "99999999999999999999", -ERANGE, 0 },
                { "20000000P", -ERANGE, 0 },
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                uint64_t v = 7;
                int r = parse_size(t[i].in, &v);
                if (r != t[i].r)
                        fail_msg("parse_size(\"%s\") = %d, expected %d", t[i].in, r, t[i].r);
                assert_int_equal(v, t[i].r == 0 ? t[i].out : 7);
        }
}

static void test_format_size(void **state) {
        char buf[32];
        assert_string_equal(format_size(buf, sizeof(buf), 64ULL << 20), "64M");
        assert_string_equal(format_size(buf, sizeof(buf), 1ULL << 30), "1G");
        assert_string_equal(format_size(buf, sizeof(buf), 1000), "1000");
        assert_string_equal(format_size(buf, sizeof(buf), 1536ULL << 20), "1536M");
}

static void test_cpus(void **state) {
        uint64_t q = 0;
        assert_int_equal(parse_cpus("0.5", &q), 0);
        assert_int_equal(q, 50000);
        assert_int_equal(parse_cpus("2", &q), 0);
        assert_int_equal(q, 200000);
        assert_int_equal(parse_cpus("1.25", &q), 0);
        assert_int_equal(q, 125000);
        assert_int_equal(parse_cpus("0.01", &q), 0);
        assert_int_equal(q, 1000);
        assert_int_equal(parse_cpus("0.001", &q), -ERANGE);
        assert_int_equal(parse_cpus("0", &q), -ERANGE);
        assert_int_equal(parse_cpus("abc", &q), -EINVAL);
        assert_int_equal(parse_cpus("1.", &q), -EINVAL);
        assert_int_equal(parse_cpus("5000", &q), -ERANGE);
}

static void test_uid_gid(void **state) {
        uid_t u = 1;
        gid_t g = 1;
        bool has = true;
        assert_int_equal(parse_uid_gid("1000", &u, &g, &has), 0);
        assert_int_equal(u, 1000);
        assert_int_equal(g, 1000);
        assert_false(has);
        assert_int_equal(parse_uid_gid("1000:50", &u, &g, &has), 0);
        assert_int_equal(u, 1000);
        assert_int_equal(g, 50);
        assert_true(has);
        assert_int_equal(parse_uid_gid("nobody", &u, &g, NULL), -EINVAL);
        assert_int_equal(parse_uid_gid("1:", &u, &g, NULL), -EINVAL);
        assert_int_equal(parse_uid_gid("4294967295", &u, &g, NULL), -ERANGE);
        assert_int_equal(parse_uid_gid("4294967296", &u, &g, NULL), -ERANGE);
}

static void test_signal(void **state) {
        int s = 0;
        assert_int_equal(parse_signal("TERM", &s), 0);
        assert_int_equal(s, SIGTERM);
        assert_int_equal(parse_signal("sigkill", &s), 0);
        assert_int_equal(s, SIGKILL);
        assert_int_equal(parse_signal("9", &s), 0);
        assert_int_equal(s, 9);
        assert_int_equal(parse_signal("WINCH", &s), 0);
        assert_int_equal(s, SIGWINCH);
        assert_int_equal(parse_signal("NOPE", &s), -EINVAL);
        assert_int_equal(parse_signal("0", &s), -EINVAL);
        assert_int_equal(parse_signal("999", &s), -EINVAL);
        assert_string_equal(signal_to_name(SIGUSR1), "USR1");
        assert_null(signal_to_name(0));
}

static void test_duration(void **state) {
        uint64_t u = 0;
        assert_int_equal(parse_duration("5s", &u), 0);
        assert_int_equal(u, 5000000);
        assert_int_equal(parse_duration("250ms", &u), 0);
        assert_int_equal(u, 250000);
        assert_int_equal(parse_duration("2m", &u), 0);
        assert_int_equal(u, 120000000);
        assert_int_equal(parse_duration("1.5", &u), 0);
        assert_int_equal(u, 1500000);
        assert_int_equal(parse_duration("5x", &u), -EINVAL);
        assert_int_equal(parse_duration("", &u), -EINVAL);
}

static void test_names(void **state) {
        assert_true(container_name_is_valid("web"));
        assert_true(container_name_is_valid("db-1.prod_x"));
        assert_false(container_name_is_valid(""));
        assert_false(container_name_is_valid("-web"));
        assert_false(container_name_is_valid(".web"));
        assert_false(container_name_is_valid("a/b"));
        assert_false(container_name_is_valid("a..b"));
        assert_false(container_name_is_valid("a b"));
        assert_false(container_name_is_valid("0123456789012345678901234567890123456789012345678901234567890123"));
        assert_true(container_name_is_valid("012345678901234567890123456789012345678901234567890123456789012"));
}

static void test_clean_paths(void **state) {
        assert_true(path_is_clean_absolute("/"));
        assert_true(path_is_clean_absolute("/run/kv.sock"));
        assert_true(path_is_clean_absolute("//a///b/"));
        assert_true(path_is_clean_absolute("/a/..b/c."));
        assert_false(path_is_clean_absolute("run/kv.sock"));
        assert_false(path_is_clean_absolute(""));
        assert_false(path_is_clean_absolute(NULL));
        assert_false(path_is_clean_absolute("/a/../b"));
        assert_false(path_is_clean_absolute("/a/./b"));
        assert_false(path_is_clean_absolute("/.."));
        assert_false(path_is_clean_absolute("/a/."));
}

static void test_mq_names(void **state) {
        char name[MQ_NAME_MAX + 3];

        assert_true(mq_name_is_valid("/jobs"));
        assert_true(mq_name_is_valid("/a.b-c_d"));
        assert_true(mq_name_is_valid("/..x"));
        assert_false(mq_name_is_valid(NULL));
        assert_false(mq_name_is_valid(""));
        assert_false(mq_name_is_valid("/"));
        assert_false(mq_name_is_valid("jobs"));
        assert_false(mq_name_is_valid("//jobs"));
        assert_false(mq_name_is_valid("/a/b"));
        assert_false(mq_name_is_valid("/."));
        assert_false(mq_name_is_valid("/.."));
        assert_false(mq_name_is_valid("/a\nb"));
        assert_false(mq_name_is_valid("/a\x7f"));
        name[0] = '/';
        memset(name + 1, 'q', MQ_NAME_MAX);
        name[MQ_NAME_MAX + 1] = '\0';
        assert_true(mq_name_is_valid(name));
        name[MQ_NAME_MAX + 1] = 'q';
        name[MQ_NAME_MAX + 2] = '\0';
        assert_false(mq_name_is_valid(name));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_size),     cmocka_unit_test(test_format_size),
                cmocka_unit_test(test_cpus),     cmocka_unit_test(test_uid_gid),
                cmocka_unit_test(test_signal),   cmocka_unit_test(test_duration),
                cmocka_unit_test(test_names),   cmocka_unit_test(test_clean_paths),
                cmocka_unit_test(test_mq_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
