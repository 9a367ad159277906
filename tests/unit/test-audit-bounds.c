/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Invariant 10 and what an operator sees: repeated denials counted into
 * summaries that account for every one (audit-agg.c), a rotation that
 * deletes a file recording it and --verify failing on the gap, and text
 * from containers escaped for terminals (audit-text.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/audit/audit-agg.h"
#include "shuttle/audit/audit.h"

#include "audit-fixture.h"

/* ---- escaping ---- */

static void expect_text(const char *in, const char *out) {
        char *s = NULL;

        assert_int_equal(audit_escape_text(in, strlen(in), &s), 0);
        assert_string_equal(s, out);
        free(s);
}

static void test_escape_text(void **state) {
        (void) state;
        /* What looks like "evil" then "txt.pdf" reversed is shown as it is. */
        expect_text("evil\xe2\x80\xae" "fdp.txt", "evil\\u202efdp.txt");
        expect_text("\x1b[2Jx\x7f", "\\u001b[2Jx\\u007f");
        expect_text("a\xc2\x85" "b\xc2\x9b", "a\\u0085b\\u009b"); /* C1: NEL, CSI */
        /* Other bidi controls and format characters. */
        expect_text("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\xaa",
                    "\\u200e\\u200f\\u061c\\u2066\\u2069\\u202a");
        expect_text("zero\xe2\x80\x8bwidth\xef\xbb\xbf\xc2\xad", "zero\\u200bwidth\\ufeff\\u00ad");
        expect_text("line\xe2\x80\xa8sep", "line\\u2028sep");
        expect_text("tag\xf3\xa0\x80\x81", "tag\\U000e0001");
        /* Not UTF-8: overlong, surrogate, stray continuation, cut short. */
        expect_text("\xc0\xaf\xed\xa0\x80\x80\xe2\x80", "\\xc0\\xaf\\xed\\xa0\\x80\\x80\\xe2\\x80");
        /* The escape character itself, so the output is unambiguous. */
        expect_text("a\\u202e", "a\\\\u202e");
        /* Ordinary text, non-ASCII included, stays as it is. */
        expect_text("caf\xc3\xa9 \xe2\x86\x92 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\xa6 /tmp/a b",
                    "caf\xc3\xa9 \xe2\x86\x92 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\xa6 /tmp/a b");
}

static void expect_json(const char *in, const char *out) {
        size_t n = strlen(in), m = audit_json_escape(in, n, NULL);
        char *buf = malloc(m + 1);

        assert_non_null(buf);
        assert_int_equal(audit_json_escape(in, n, buf), m);
        buf[m] = 0;
        assert_string_equal(buf, out);
        free(buf);
}

static void test_escape_json(void **state) {
        (void) state;
        expect_json("{\"o\":\"a\xe2\x80\xae" "b\xc2\x85\x7f\"}", "{\"o\":\"a\\u202eb\\u0085\\u007f\"}");
        expect_json("{\"o\":\"\xf3\xa0\x80\x81\"}", "{\"o\":\"\\udb40\\udc01\"}");
        expect_json("{\"o\":\"\xff\"}", "{\"o\":\"\\ufffd\"}");
        /* Nothing to do: same length, same bytes. */
        expect_json("{\"o\":\"caf\xc3\xa9 \\u001b\"}", "{\"o\":\"caf\xc3\xa9 \\u001b\"}");
        assert_int_equal(audit_json_escape("{\"a\":\"\xc3\xa9\"}", 10, NULL), 10);
}


/* Every record of PATH.N ... PATH, oldest first. */
static json_t *read_records(const char *path) {
        json_t *all = json_array(), *rec;
        AuditReader *rd = NULL;
        int k;

        assert_int_equal(audit_reader_open(path, true, &rd), 0);
        while ((k = audit_reader_next(rd, &rec, NULL, NULL)) > 0)
                json_array_append_new(all, rec);
        assert_int_equal(k, 0);
        audit_reader_free(rd);
        return all;
}

static void test_writer_escapes(void **state) {
        Fixture *f = *state;
        const char *obj = "/tmp/evil\xe2\x80\xae" "fdp.txt\xc2\x9b" "31m";
        AuditVerifyResult r;
        AuditLog *log = NULL;
        json_t *all;
        char buf[4096];
        FILE *fp;
        size_t n;

        assert_int_equal(audit_log_open(f->path, NULL, &log), 0);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .kind = "transfer", .decision = "deny", .object = obj }),
                         0);
        assert_int_equal(audit_log_close(log), 0);
        fp = fopen(f->path, "re");
        assert_non_null(fp);
        n = fread(buf, 1, sizeof(buf) - 1, fp);
        fclose(fp);
        buf[n] = 0;
        /* In the file: escapes, not the raw bytes; the value is the same. */
        assert_non_null(strstr(buf, "\"object\":\"/tmp/evil\\u202efdp.txt\\u009b31m\""));
        for (size_t i = 0; i < n; i++)
                assert_true((unsigned char) buf[i] < 0x7f);
        all = read_records(f->path);
        assert_string_equal(json_string_value(json_object_get(json_array_get(all, 0), "object")), obj);
        json_decref(all);
        assert_int_equal(audit_verify(f->path, 0, &r), 0);
        assert_true(r.ok);
}

/* ---- retention ---- */

static void gen(const char *path, const AuditLogOptions *o, unsigned n, uint64_t *ret_drops) {
        AuditLog *log = NULL;

        assert_int_equal(audit_log_open(path, o, &log), 0);
        for (unsigned i = 0; i < n; i++) {
                char obj[64];
                snprintf(obj, sizeof(obj), "object-%u", i);
                assert_int_equal(audit_log_append(log, &(AuditRecord) { .from = "web", .kind = "ipc", .op = "connect",
                                                                       .object = obj, .decision = "allow" }),
                                 0);
        }
        if (ret_drops)
                *ret_drops = audit_log_get_n_drops(log);
        assert_int_equal(audit_log_close(log), 0);
}

static void test_retention_records_drop(void **state) {
        Fixture *f = *state;
        AuditLogOptions o = { .max_size = 2048, .keep = 2 };
        AuditVerifyResult r;
        json_t *all, *rec, *d = NULL, *first;
        uint64_t drops, first_kept;
        size_t i;

        gen(f->path, &o, 10, &drops);
        assert_int_equal(drops, 0); /* nothing deleted yet: no record, no gap */
        assert_int_equal(audit_verify(f->path, AUDIT_VERIFY_ROTATED, &r), 0);
        assert_true(r.ok);
        assert_false(r.gap);

        gen(f->path, &o, 200, &drops);
        assert_true(drops >= 2);
        all = read_records(f->path);
        first = json_array_get(all, 0);
        first_kept = (uint64_t) json_integer_value(json_object_get(first, "seq"));
        assert_true(first_kept > 1);
        /* The last drop record names exactly what the kept files continue. */
        json_array_foreach(all, i, rec) {
                if (json_object_get(rec, "dropped")) {
                        assert_string_equal(json_string_value(json_object_get(rec, "kind")), "audit");
                        assert_string_equal(json_string_value(json_object_get(rec, "op")), "drop");
                        assert_string_equal(json_string_value(json_object_get(rec, "decision")), "dropped");
                        assert_string_equal(json_string_value(json_object_get(rec, "object")), "audit.jsonl.2");
                        d = json_object_get(rec, "dropped");
                }
        }
        assert_non_null(d);
        assert_int_equal(json_integer_value(json_object_get(d, "last_seq")), first_kept - 1);
        assert_string_equal(json_string_value(json_object_get(d, "last_hash")),
                            json_string_value(json_object_get(first, "prev")));
        assert_true(json_integer_value(json_object_get(d, "first_seq")) > 1);
        assert_true(json_integer_value(json_object_get(d, "bytes")) > 0);

        /* --verify --all: the gap is a failure naming the range and the
         * rotation; everything kept is still checked. */
        assert_int_equal(audit_verify(f->path, AUDIT_VERIFY_ROTATED, &r), 0);
        assert_false(r.ok);
        assert_true(r.gap);
        assert_int_equal(r.gap_last_seq, first_kept - 1);
        assert_int_equal(r.gap_drop_first_seq, (uint64_t) json_integer_value(json_object_get(d, "first_seq")));
        assert_int_equal(r.seq, first_kept);
        assert_int_equal(r.line, 1);
        assert_int_equal(r.n_records, json_array_size(all));
        assert_non_null(strstr(r.file, "audit.jsonl.2"));
        {
                char want[128];
                snprintf(want, sizeof(want), "gap: records seq 1..%" PRIu64 " are not in the log; seq %" PRIu64
                         "..%" PRIu64 " were deleted by rotation at ",
                         first_kept - 1, r.gap_drop_first_seq, first_kept - 1);
                assert_non_null(strstr(r.reason, want));
        }
        /* Plain --verify finds it too. */
        assert_int_equal(audit_verify(f->path, 0, &r), 0);
        assert_false(r.ok);
        assert_true(r.gap);
        assert_int_equal(r.gap_last_seq, first_kept - 1);
        json_decref(all);
}

static void test_retention_unrecorded_gap(void **state) {
        Fixture *f = *state;
        AuditLogOptions o = { .max_size = 2048, .keep = 3 };
        AuditVerifyResult r;
        char p[256];

        /* Files deleted behind the writer's back: no record says so. */
        gen(f->path, &o, 60, NULL);
        snprintf(p, sizeof(p), "%s.3", f->path);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(audit_verify(f->path, AUDIT_VERIFY_ROTATED, &r), 0);
        assert_false(r.ok);
        assert_true(r.gap);
        assert_int_equal(r.gap_drop_record_seq, 0);
        assert_non_null(strstr(r.reason, "and no record says they were dropped"));
}

/* ---- aggregation ---- */

typedef struct Sink {
        json_t *records;  /* what write() got */
        int fail;         /* errno to fail with, 0 = succeed */
} Sink;

static int sink_write(void *userdata, const AuditRecord *rec) {
        Sink *s = userdata;
        json_t *j;

        if (s->fail)
                return -s->fail;
        j = json_pack("{s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?}", "from", rec->from, "to", rec->to, "kind",
                      rec->kind, "op", rec->op, "object", rec->object, "decision", rec->decision, "rule", rec->rule,
                      "reason", rec->reason);
        assert_non_null(j);
        if (rec->extra)
                assert_int_equal(json_object_update(j, rec->extra), 0);
        json_array_append_new(s->records, j);
        return 0;
}

#define SEC UINT64_C(1000000)
#define T0 (UINT64_C(1000) * SEC)
#define REAL0 UINT64_C(1714564800000000)

static AuditRecord deny(const char *from, const char *kind, const char *object) {
        return (AuditRecord) { .group = "g", .from = from, .to = "b", .kind = kind, .op = "connect",
                               .object = object, .decision = "deny", .rule = "default", .reason = "denied" };
}

/* Submits and counts: *written += 1 for each the caller would write. */
static void submit(AuditAgg *a, AuditRecord rec, uint64_t now, unsigned *written) {
        int r = audit_agg_submit(a, &rec, now, REAL0 + (now - T0));
        assert_true(r == 0 || r == 1);
        *written += (unsigned) r;
}

static uint64_t sum_suppressed(json_t *records, const char *from) {
        uint64_t n = 0;
        size_t i;
        json_t *j;

        json_array_foreach(records, i, j)
                if (!from || streq(json_string_value(json_object_get(j, "from")) ?: "", from))
                        n += (uint64_t) json_integer_value(json_object_get(j, "suppressed"));
        return n;
}

static void test_agg_repeats(void **state) {
        Sink s = { .records = json_array() };
        AuditAgg *a = NULL;
        unsigned written = 0;
        json_t *j;
        (void) state;

        assert_int_equal(audit_agg_new(NULL, sink_write, &s, &a), 0);
        /* Allows are never held back. */
        for (unsigned i = 0; i < 100; i++)
                assert_int_equal(audit_agg_submit(a, &(AuditRecord) { .from = "f", .decision = "allow" }, T0, REAL0),
                                 1);
        for (unsigned i = 0; i < 1000; i++)
                submit(a, deny("f", "ipc", "b.x"), T0 + i * 1000, &written);
        assert_int_equal(written, AUDIT_AGG_KEY_BURST);
        assert_int_equal(audit_agg_get_pending(a), 1000 - AUDIT_AGG_KEY_BURST);
        /* The window has not ended: nothing yet. */
        assert_int_equal(audit_agg_tick(a, T0 + 5 * SEC), 0);
        assert_int_equal(json_array_size(s.records), 0);
        /* It has: one summary, with the key's fields and the times of the
         * first and last counted denial. */
        assert_int_equal(audit_agg_tick(a, T0 + AUDIT_AGG_WINDOW_USEC), 0);
        assert_int_equal(json_array_size(s.records), 1);
        j = json_array_get(s.records, 0);
        assert_int_equal(json_integer_value(json_object_get(j, "suppressed")), 1000 - AUDIT_AGG_KEY_BURST);
        assert_string_equal(json_string_value(json_object_get(j, "object")), "b.x");
        assert_string_equal(json_string_value(json_object_get(j, "decision")), "deny");
        assert_string_equal(json_string_value(json_object_get(j, "rule")), "default");
        assert_string_equal(json_string_value(json_object_get(j, "first")), "2024-05-01T12:00:00.003000Z");
        assert_string_equal(json_string_value(json_object_get(j, "last")), "2024-05-01T12:00:00.999000Z");
        assert_null(json_object_get(j, "over_budget"));
        /* Still flooding: counted from the first one, one summary per
         * window. */
        for (unsigned i = 0; i < 50; i++)
                submit(a, deny("f", "ipc", "b.x"), T0 + AUDIT_AGG_WINDOW_USEC + SEC + i, &written);
        assert_int_equal(written, AUDIT_AGG_KEY_BURST);
        assert_int_equal(audit_agg_tick(a, T0 + 3 * AUDIT_AGG_WINDOW_USEC), 0);
        assert_int_equal(json_array_size(s.records), 2);
        /* A quiet window forgets the key: the next denial is written. */
        assert_int_equal(audit_agg_tick(a, T0 + 5 * AUDIT_AGG_WINDOW_USEC), 0);
        assert_int_equal(json_array_size(s.records), 2);
        submit(a, deny("f", "ipc", "b.x"), T0 + 6 * AUDIT_AGG_WINDOW_USEC, &written);
        assert_int_equal(written, AUDIT_AGG_KEY_BURST + 1);
        assert_int_equal(written + sum_suppressed(s.records, NULL), 1051);
        audit_agg_free(a);
        json_decref(s.records);
}

/* A shadow decision (extra keys shadow_decision, shadow_rule) is part of
 * the key, and the summary carries it, so that audit --shadow-diff counts
 * the denials it stands for. */
static void test_agg_shadow(void **state) {
        Sink s = { .records = json_array() };
        json_t *x = json_pack("{s:s,s:s}", "shadow_decision", "allow", "shadow_rule", "try");
        json_t *y = json_pack("{s:s,s:s}", "shadow_decision", "deny", "shadow_rule", "default");
        AuditAgg *a = NULL;
        unsigned written = 0;
        AuditRecord r;
        json_t *j;
        (void) state;

        assert_int_equal(audit_agg_new(NULL, sink_write, &s, &a), 0);
        r = deny("f", "ipc", "b.x");
        r.extra = x;
        for (unsigned i = 0; i < 10; i++)
                submit(a, r, T0 + i, &written);
        r.extra = y;
        for (unsigned i = 0; i < 5; i++)
                submit(a, r, T0 + 100 + i, &written);
        assert_int_equal(written, 2 * AUDIT_AGG_KEY_BURST);
        assert_int_equal(audit_agg_tick(a, T0 + AUDIT_AGG_WINDOW_USEC + SEC), 0);
        assert_int_equal(json_array_size(s.records), 2);
        j = json_array_get(s.records, 0);
        assert_int_equal(json_integer_value(json_object_get(j, "suppressed")), 10 - AUDIT_AGG_KEY_BURST);
        assert_string_equal(json_string_value(json_object_get(j, "shadow_decision")), "allow");
        assert_string_equal(json_string_value(json_object_get(j, "shadow_rule")), "try");
        j = json_array_get(s.records, 1);
        assert_int_equal(json_integer_value(json_object_get(j, "suppressed")), 5 - AUDIT_AGG_KEY_BURST);
        assert_string_equal(json_string_value(json_object_get(j, "shadow_decision")), "deny");
        audit_agg_free(a);
        json_decref(x);
        json_decref(y);
        json_decref(s.records);
}

static void test_agg_budget(void **state) {
        Sink s = { .records = json_array() };
        AuditAgg *a = NULL;
        unsigned written = 0, other = 0;
        size_t i;
        json_t *j;
        (void) state;

        assert_int_equal(audit_agg_new(NULL, sink_write, &s, &a), 0);
        /* A different object every time: every key is new. */
        for (unsigned n = 0; n < 10000; n++) {
                char obj[32];
                snprintf(obj, sizeof(obj), "b.s%u", n);
                submit(a, deny("f", n % 2 ? "ipc" : "transfer", obj), T0 + n, &written);
                if (n == 5000)
                        /* Another container is not held back by f. */
                        submit(a, deny("other", "ipc", "b.s1"), T0 + n, &other);
        }
        assert_int_equal(other, 1);
        assert_int_equal(written, AUDIT_AGG_BUDGET);
        assert_int_equal(audit_agg_flush(a), 0);
        /* Bounded: one summary per kind over the budget (nothing repeated). */
        assert_int_equal(json_array_size(s.records), 2);
        json_array_foreach(s.records, i, j) {
                assert_true(json_is_true(json_object_get(j, "over_budget")));
                assert_true(json_is_null(json_object_get(j, "object")) || !json_object_get(j, "object"));
                assert_string_equal(json_string_value(json_object_get(j, "from")), "f");
        }
        assert_int_equal(written + sum_suppressed(s.records, "f"), 10000);
        assert_int_equal(audit_agg_get_pending(a), 0);
        audit_agg_free(a);
        json_decref(s.records);
}

static void test_agg_evicts_and_accounts(void **state) {
        AuditAggOptions o = { .slots = 4, .budget = 1000, .key_burst = 1 };
        Sink s = { .records = json_array() };
        AuditAgg *a = NULL;
        unsigned written = 0, sent = 0;
        uint64_t now = T0;
        (void) state;

        assert_int_equal(audit_agg_new(&o, sink_write, &s, &a), 0);
        /* More keys than slots, each repeated, over several windows. */
        for (unsigned round = 0; round < 30; round++)
                for (unsigned k = 0; k < 7; k++)
                        for (unsigned rep = 0; rep <= k; rep++) {
                                char obj[32];
                                snprintf(obj, sizeof(obj), "b.k%u", k);
                                submit(a, deny("f", "ipc", obj), now, &written);
                                sent++;
                                now += SEC / 2;
                                if (sent % 13 == 0)
                                        assert_int_equal(audit_agg_tick(a, now), 0);
                        }
        /* A failing log keeps the counts for the next try. */
        s.fail = EIO;
        assert_int_equal(audit_agg_flush(a), -EIO);
        assert_true(audit_agg_get_pending(a) > 0);
        s.fail = 0;
        audit_agg_free(a); /* flushes */
        assert_int_equal(written + sum_suppressed(s.records, NULL), sent);
        json_decref(s.records);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_escape_text),
                cmocka_unit_test(test_escape_json),
                cmocka_unit_test_setup_teardown(test_writer_escapes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_retention_records_drop, setup, teardown),
                cmocka_unit_test_setup_teardown(test_retention_unrecorded_gap, setup, teardown),
                cmocka_unit_test(test_agg_repeats),
                cmocka_unit_test(test_agg_shadow),
                cmocka_unit_test(test_agg_budget),
                cmocka_unit_test(test_agg_evicts_and_accounts),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
