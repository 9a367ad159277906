/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy glob matcher, container patterns, timestamps and rates. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/policy-internal.h"

static bool m(const char *pattern, GlobMode mode, const char *s) {
        const char *err = NULL;
        Glob g;
        bool r;

        assert_int_equal(glob_compile(pattern, mode, &g, &err), 0);
        r = glob_match(&g, s);
        glob_done(&g);
        return r;
}

static const char *compile_error(const char *pattern, GlobMode mode) {
        const char *err = NULL;
        Glob g;

        assert_int_equal(glob_compile(pattern, mode, &g, &err), -EINVAL);
        assert_non_null(err);
        return err;
}

static void test_literal(void **state) {
        assert_true(m("db", GLOB_NAME, "db"));
        assert_false(m("db", GLOB_NAME, "db2"));
        assert_false(m("db", GLOB_NAME, "d"));
        assert_false(m("db", GLOB_NAME, ""));
        assert_true(m("/usr/bin/pdfview", GLOB_PATH, "/usr/bin/pdfview"));
        assert_true(m("a\\*b", GLOB_NAME, "a*b"));
        assert_false(m("a\\*b", GLOB_NAME, "axb"));
}

static void test_star_names(void **state) {
        assert_true(m("*", GLOB_NAME, "anything"));
        assert_true(m("*", GLOB_NAME, ""));
        assert_false(m("*", GLOB_NAME, "a/b"));
        assert_true(m("db-*", GLOB_NAME, "db-1"));
        assert_true(m("db-*", GLOB_NAME, "db-"));
        assert_false(m("db-*", GLOB_NAME, "db"));
        assert_true(m("*-db", GLOB_NAME, "web-db"));
        assert_true(m("a*b*c", GLOB_NAME, "aXXbYYc"));
        assert_false(m("a*b*c", GLOB_NAME, "aXXbYY"));
        assert_true(m("*.hidden", GLOB_NAME, ".hidden"));  /* dots are not special */
        assert_string_equal(compile_error("a**", GLOB_NAME), "'**' is only meaningful in paths");
}

static void test_question_class(void **state) {
        assert_true(m("db?", GLOB_NAME, "db1"));
        assert_false(m("db?", GLOB_NAME, "db"));
        assert_false(m("db?", GLOB_NAME, "db12"));
        assert_true(m("db[0-9]", GLOB_NAME, "db7"));
        assert_false(m("db[0-9]", GLOB_NAME, "dbx"));
        assert_true(m("db[!0-9]", GLOB_NAME, "dbx"));
        assert_false(m("db[^0-9]", GLOB_NAME, "db3"));
        assert_true(m("[]]", GLOB_NAME, "]"));
        assert_true(m("x[a-c-]", GLOB_NAME, "x-"));
        assert_false(m("/a?b", GLOB_PATH, "/a/b"));
        assert_false(m("/a[/]b", GLOB_PATH, "/a/b"));
        assert_string_equal(compile_error("db[0-9", GLOB_NAME), "unterminated '[' in pattern");
        assert_string_equal(compile_error("[z-a]", GLOB_NAME), "reversed range in '[...]' in pattern");
        assert_string_equal(compile_error("", GLOB_PATH), "empty pattern");
        assert_string_equal(compile_error("ab\\", GLOB_NAME), "trailing '\\' in pattern");
}

static void test_paths(void **state) {
        assert_true(m("/usr/bin/*", GLOB_PATH, "/usr/bin/ls"));
        assert_false(m("/usr/bin/*", GLOB_PATH, "/usr/bin/x/ls"));
        assert_true(m("/home/*/Downloads/**", GLOB_PATH, "/home/ann/Downloads/a/b.pdf"));
        assert_true(m("/home/*/Downloads/**", GLOB_PATH, "/home/ann/Downloads/"));
        assert_false(m("/home/*/Downloads/**", GLOB_PATH, "/home/ann/Downloads"));
        assert_false(m("/home/*/Downloads/**", GLOB_PATH, "/home/a/b/Downloads/x"));
        assert_true(m("/a/**/b", GLOB_PATH, "/a/b"));
        assert_true(m("/a/**/b", GLOB_PATH, "/a/x/y/b"));
        assert_false(m("/a/**/b", GLOB_PATH, "/a/xb"));
        assert_true(m("/srv/**.pdf", GLOB_PATH, "/srv/x/y.pdf"));
        assert_true(m("/**", GLOB_PATH, "/etc/passwd"));
        assert_true(m("/a/*.c", GLOB_PATH, "/a/x.c"));
        assert_false(m("/a/*.c", GLOB_PATH, "/a/b/x.c"));
}

static void test_strings(void **state) {
        assert_true(m("*.pdf", GLOB_STRING, "/home/u/a.pdf"));
        assert_false(m("*.pdf", GLOB_STRING, "a.pdf.exe"));
        assert_true(m("--page=*", GLOB_STRING, "--page=3"));
        assert_true(m("?", GLOB_STRING, "/"));
}

static void test_fast_paths(void **state) {
        const char *err;
        Glob g;

        assert_int_equal(glob_compile("/opt/**", GLOB_PATH, &g, &err), 0);
        assert_int_equal(g.fast, GLOB_FAST_PREFIX_ANY);
        assert_int_equal(g.literal_len, 5);
        glob_done(&g);
        assert_int_equal(glob_compile("web-*", GLOB_NAME, &g, &err), 0);
        assert_int_equal(g.fast, GLOB_FAST_PREFIX_SEG);
        glob_done(&g);
        assert_int_equal(glob_compile("kv", GLOB_NAME, &g, &err), 0);
        assert_int_equal(g.fast, GLOB_FAST_LITERAL);
        glob_done(&g);
        assert_int_equal(glob_compile("a*b", GLOB_NAME, &g, &err), 0);
        assert_int_equal(g.fast, GLOB_FAST_NFA);
        assert_int_equal(g.n_literal, 2);
        glob_done(&g);
}

/* A pattern that makes naive backtracking exponential stays fast. */
static void test_no_blowup(void **state) {
        char s[4001];

        memset(s, 'a', sizeof(s) - 1);
        s[sizeof(s) - 1] = 0;
        assert_false(m("*a*a*a*a*a*a*a*a*a*a*a*a*b", GLOB_STRING, s));
        assert_false(m("/**a**a**a**a**a**a**a**b", GLOB_PATH, s));
        s[sizeof(s) - 2] = 'b';
        assert_true(m("*a*a*a*a*a*a*a*a*a*a*a*a*b", GLOB_STRING, s));
}

static void test_container_pattern(void **state) {
        ContainerPattern p;
        const char *err;

        assert_int_equal(container_pattern_compile("web", &p, &err), 0);
        assert_true(container_pattern_match(&p, NULL, "web"));
        assert_true(container_pattern_match(&p, "shop", "web"));
        assert_false(container_pattern_match(&p, "shop", "db"));
        container_pattern_done(&p);

        assert_int_equal(container_pattern_compile("shop/web", &p, &err), 0);
        assert_false(container_pattern_match(&p, NULL, "web"));
        assert_true(container_pattern_match(&p, "shop", "web"));
        assert_false(container_pattern_match(&p, "blog", "web"));
        container_pattern_done(&p);

        assert_int_equal(container_pattern_compile("shop/*", &p, &err), 0);
        assert_true(container_pattern_match(&p, "shop", "anything"));
        assert_false(container_pattern_match(&p, NULL, "anything"));
        container_pattern_done(&p);

        assert_int_equal(container_pattern_compile("a/b/c", &p, &err), -EINVAL);
        assert_string_equal(err, "a container pattern is 'name' or 'group/name'");
        assert_int_equal(container_pattern_compile("shop/", &p, &err), -EINVAL);
        assert_string_equal(err, "empty pattern");
        assert_int_equal(container_pattern_compile("we b", &p, &err), -EINVAL);
        assert_int_equal(container_pattern_compile("-web", &p, &err), -EINVAL);
        assert_int_equal(container_pattern_compile("", &p, &err), -EINVAL);
        assert_string_equal(err, "empty pattern");

        const char *g, *n;
        size_t gl;
        container_split("shop/web", &g, &gl, &n);
        assert_int_equal(gl, 4);
        assert_string_equal(n, "web");
        container_split("web", &g, &gl, &n);
        assert_null(g);
        assert_string_equal(n, "web");
}

static void test_timestamp(void **state) {
        time_t t;

        assert_int_equal(parse_timestamp("1970-01-01T00:00:00Z", &t), 0);
        assert_int_equal(t, 0);
        assert_int_equal(parse_timestamp("2026-12-31T23:59:59Z", &t), 0);
        assert_int_equal(t, 1798761599);
        assert_int_equal(parse_timestamp("2026-12-31T23:59:59.250Z", &t), 0);
        assert_int_equal(t, 1798761599);
        assert_int_equal(parse_timestamp("2027-01-01T01:59:59+02:00", &t), 0);
        assert_int_equal(t, 1798761599);
        assert_int_equal(parse_timestamp("2024-02-29T00:00:00Z", &t), 0);
        assert_int_equal(parse_timestamp("2023-02-29T00:00:00Z", &t), -EINVAL);
        assert_int_equal(parse_timestamp("2026-13-01T00:00:00Z", &t), -EINVAL);
        assert_int_equal(parse_timestamp("2026-12-31", &t), -EINVAL);
        assert_int_equal(parse_timestamp("2026-12-31T23:59:59", &t), -EINVAL);
        assert_int_equal(parse_timestamp("2026-12-31T23:59:59Zx", &t), -EINVAL);
        assert_int_equal(parse_timestamp("tomorrow", &t), -EINVAL);

        char buf[64];
        assert_int_equal(format_timestamp(1798761599, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "2026-12-31T23:59:59Z");
}

static void test_rate(void **state) {
        uint64_t c, u;

        assert_int_equal(parse_rate("100/s", &c, &u), 0);
        assert_int_equal(c, 100);
        assert_int_equal(u, 1000000);
        assert_int_equal(parse_rate("10/m", &c, &u), 0);
        assert_int_equal(u, 60000000);
        assert_int_equal(parse_rate("5/2h", &c, &u), 0);
        assert_int_equal(c, 5);
        assert_int_equal(u, UINT64_C(7200000000));
        assert_int_equal(parse_rate("1000/500ms", &c, &u), 0);
        assert_int_equal(u, 500000);
        assert_int_equal(parse_rate("100", &c, &u), -EINVAL);
        assert_int_equal(parse_rate("100/5", &c, &u), -EINVAL);
        assert_int_equal(parse_rate("0/s", &c, &u), -EINVAL);
        assert_int_equal(parse_rate("/s", &c, &u), -EINVAL);
        assert_int_equal(parse_rate("x/s", &c, &u), -EINVAL);
        assert_int_equal(parse_rate("10/", &c, &u), -EINVAL);
        assert_int_equal(parse_rate("10/fortnight", &c, &u), -EINVAL);
}

static void test_paths_normalized(void **state) {
        assert_true(path_is_normalized("/"));
        assert_true(path_is_normalized("/usr/bin/*"));
        assert_false(path_is_normalized("usr/bin"));
        assert_false(path_is_normalized("/usr//bin"));
        assert_false(path_is_normalized("/usr/bin/"));
        assert_false(path_is_normalized("/usr/../etc"));
        assert_false(path_is_normalized("/usr/./bin"));
        assert_true(path_is_normalized("/usr/.bin"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_literal),
                cmocka_unit_test(test_star_names),
                cmocka_unit_test(test_question_class),
                cmocka_unit_test(test_paths),
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_fast_paths),
                cmocka_unit_test(test_no_blowup),
                cmocka_unit_test(test_container_pattern),
                cmocka_unit_test(test_timestamp),
                cmocka_unit_test(test_rate),
                cmocka_unit_test(test_paths_normalized),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
