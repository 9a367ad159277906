/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Time stamps on group container logs: the supervisor's writer and the
 * filter of `shuttlectl logs` (stamps off or kept, --since), fed in pieces
 * of every size, and --since's parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shuttle/audit/audit.h"
#include "shuttle/supervisor/logline.h"

/* 2026-12-06T03:58:01.123456Z and one minute later */
#define T0 UINT64_C(1796529481123456)
#define T1 (T0 + 60000000U)

typedef struct Buf {
        char data[4096];
        size_t len;
} Buf;

static int sink(const char *data, size_t len, void *userdata) {
        Buf *b = userdata;
        assert_true(b->len + len < sizeof(b->data));
        memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = 0;
        return 0;
}

/* Stamps `in`, written in pieces of `chunk` bytes, into a log. */
static void stamp_into(Buf *log, const char *in, uint64_t usec, size_t chunk, bool *at_start) {
        char stamp[LOGLINE_STAMP_LEN + 1];
        size_t n = strlen(in);

        logline_format_stamp(usec, stamp);
        for (size_t i = 0; i < n; i += chunk) {
                size_t k = n - i < chunk ? n - i : chunk, used, o;
                char out[256];

                o = logline_stamp(in + i, k, stamp, at_start, out, sizeof(out), &used);
                assert_int_equal(used, k);
                sink(out, o, log);
        }
}

/* Reads a log through a filter, in pieces of `chunk` bytes. */
static void filter_out(const Buf *log, LoglineFilter f, size_t chunk, Buf *out) {
        for (size_t i = 0; i < log->len; i += chunk)
                assert_int_equal(logline_filter(&f, log->data + i, log->len - i < chunk ? log->len - i : chunk, sink,
                                                out),
                                 0);
        assert_int_equal(logline_filter_end(&f, sink, out), 0);
}

static void test_stamp_format(void **state) {
        char stamp[LOGLINE_STAMP_LEN + 1];
        (void) state;

        logline_format_stamp(T0, stamp);
        assert_string_equal(stamp, "2026-12-06T03:58:01.123456Z ");
        assert_int_equal(strlen(stamp), LOGLINE_STAMP_LEN);
        /* A year past 9999 still gives a stamp of the same length. */
        logline_format_stamp(UINT64_C(300000000000) * 1000000U, stamp);
        assert_int_equal(strlen(stamp), LOGLINE_STAMP_LEN);
}

static void test_writer(void **state) {
        (void) state;
        for (size_t chunk = 1; chunk <= 12; chunk++) {
                Buf log = {};
                bool at_start = true;

                stamp_into(&log, "one\ntw", T0, chunk, &at_start);
                /* The rest of "two" is stamped with nothing: its line began
                 * at T0. */
                stamp_into(&log, "o\n\nthree", T1, chunk, &at_start);
                assert_string_equal(log.data, "2026-12-06T03:58:01.123456Z one\n"
                                              "2026-12-06T03:58:01.123456Z two\n"
                                              "2026-12-06T03:59:01.123456Z \n"
                                              "2026-12-06T03:59:01.123456Z three");
                assert_false(at_start);
        }
}

static void test_writer_small_out(void **state) {
        char stamp[LOGLINE_STAMP_LEN + 1], out[LOGLINE_STAMP_LEN + 3];
        bool at_start = true;
        size_t used, o;
        (void) state;

        /* Room for the stamp and three bytes: the rest waits. */
        logline_format_stamp(T0, stamp);
        o = logline_stamp("hello\n", 6, stamp, &at_start, out, sizeof(out), &used);
        assert_int_equal(o, sizeof(out));
        assert_int_equal(used, 3);
        o = logline_stamp("lo\n", 3, stamp, &at_start, out, sizeof(out), &used);
        assert_int_equal(o, 3);
        assert_int_equal(used, 3);
        assert_true(at_start);
        /* No room for a stamp and a byte: nothing is taken. */
        o = logline_stamp("x", 1, stamp, &at_start, out, LOGLINE_STAMP_LEN, &used);
        assert_int_equal(o, 0);
        assert_int_equal(used, 0);
}

static void test_filter(void **state) {
        Buf log = {};
        bool at_start = true;
        (void) state;

        stamp_into(&log, "old line\n", T0, 64, &at_start);
        /* An unstamped line (an older supervisor's), a short one, then two
         * new ones, the last without a newline. */
        sink("legacy line without a stamp\nhi\n", strlen("legacy line without a stamp\nhi\n"), &log);
        stamp_into(&log, "new line\nlast", T1, 64, &at_start);

        for (size_t chunk = 1; chunk <= log.len; chunk++) {
                Buf out = {};

                filter_out(&log, (LoglineFilter){}, chunk, &out);
                assert_string_equal(out.data, "old line\nlegacy line without a stamp\nhi\nnew line\nlast");

                out = (Buf){};
                filter_out(&log, (LoglineFilter){ .timestamps = true }, chunk, &out);
                assert_memory_equal(out.data, log.data, log.len);
                assert_int_equal(out.len, log.len);

                out = (Buf){};
                filter_out(&log, (LoglineFilter){ .since_usec = T0 + 1 }, chunk, &out);
                assert_string_equal(out.data, "legacy line without a stamp\nhi\nnew line\nlast");

                out = (Buf){};
                filter_out(&log, (LoglineFilter){ .since_usec = T1 + 1 }, chunk, &out);
                assert_string_equal(out.data, "legacy line without a stamp\nhi\n");
        }
}

static void test_filter_partial_stamp(void **state) {
        Buf out = {};
        LoglineFilter f = {};
        (void) state;

        /* A last line shorter than a stamp is held back until the end. */
        assert_int_equal(logline_filter(&f, "2026-12-06", 10, sink, &out), 0);
        assert_int_equal(out.len, 0);
        assert_int_equal(logline_filter_end(&f, sink, &out), 0);
        assert_string_equal(out.data, "2026-12-06");
}

static void test_since(void **state) {
        uint64_t t;
        (void) state;

        assert_int_equal(audit_parse_since("2026-12-06T03:58:01.123456Z", 0, &t), 0);
        assert_true(t == T0);
        assert_int_equal(audit_parse_since("10m", T0, &t), 0);
        assert_true(t == T0 - 600000000U);
        assert_int_equal(audit_parse_since("1000000h", T0, &t), 0);
        assert_true(t == 1);
        assert_int_equal(audit_parse_since("yesterday", T0, &t), -EINVAL);
        assert_int_equal(audit_parse_since("", T0, &t), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_stamp_format),
                cmocka_unit_test(test_writer),
                cmocka_unit_test(test_writer_small_out),
                cmocka_unit_test(test_filter),
                cmocka_unit_test(test_filter_partial_stamp),
                cmocka_unit_test(test_since),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
