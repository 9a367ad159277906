/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit writer formats a record itself, without a jansson tree.  Its
 * lines must be byte for byte what the record built as a jansson object
 * and dumped with json_dumpb(JSON_COMPACT) gave (the writer before it, and
 * the format every reader and the chain verification know): this test
 * builds each record that way, with the same truncation and UTF-8 repair
 * rules, here on its own, and compares, for hostile strings (quotes,
 * backslashes, every control character, DEL and C1, bidi controls,
 * invalid UTF-8 of every kind, long names cut inside a character, long
 * strings of escapes), hostile extra keys and values, and random bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "shuttle/audit/audit.h"

#include "audit-fixture.h"

#define TS0 UINT64_C(1714564800123456)

/* ---- the jansson way, as the writer did it before ---- */

/* Length of a valid UTF-8 sequence at s (as jansson judges it: it refuses
 * overlong forms, surrogates and code points above U+10FFFF), 0 if none. */
static size_t oracle_utf8_len(const char *s, size_t n) {
        unsigned char c = (unsigned char) s[0];
        size_t l = c < 0x80 ? 1 : c >= 0xC0 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xF0 && c < 0xF8 ? 4 : 0;
        json_t *j;

        if (l == 0 || l > n)
                return 0;
        j = json_stringn(s, l);
        if (!j)
                return 0;
        json_decref(j);
        return l;
}

static json_t *oracle_sanitized(const char *s, size_t n, size_t max, bool *ret_cut) {
        char *out = malloc(max + 1);
        size_t o = 0, i = 0;
        json_t *j;

        assert_non_null(out);
        while (i < n) {
                size_t l = oracle_utf8_len(s + i, n - i), ol = l ? l : 3;
                if (o + ol > max)
                        break;
                memcpy(out + o, l ? s + i : "\xEF\xBF\xBD", ol);
                o += ol;
                i += l ? l : 1;
        }
        *ret_cut = i < n;
        j = json_stringn(out, o);
        free(out);
        assert_non_null(j);
        return j;
}

static void oracle_note_cut(json_t **truncated, const char *name, size_t len) {
        if (!*truncated)
                assert_non_null(*truncated = json_object());
        assert_int_equal(json_object_set_new(*truncated, name, json_integer((json_int_t) len)), 0);
}

static json_t *oracle_string(const char *name, const char *s, json_t **truncated) {
        size_t len = strlen(s), n = MIN(len, (size_t) AUDIT_FIELD_MAX);
        bool cut = n < len;
        json_t *v;

        if (cut)
                while (n > 0 && (((unsigned char) s[n]) & 0xC0) == 0x80)
                        n--;
        v = json_stringn(s, n);
        if (!v)
                v = oracle_sanitized(s, len, AUDIT_FIELD_MAX, &cut);
        if (cut)
                oracle_note_cut(truncated, name, len);
        return v;
}

/* The body (the line without its hash member, ending in '}') that record
 * number seq after prev must have, with unsafe characters escaped as the
 * writer does after serializing. */
static char *oracle_body(const AuditRecord *rec, uint64_t seq, const char *prev, size_t *ret_len) {
        static const char *const keys[] = { "group",  "from",     "to",   "kind",  "op",
                                            "object", "decision", "rule", "reason" };
        const char *const vals[] = { rec->group,  rec->from,     rec->to,   rec->kind,  rec->op,
                                     rec->object, rec->decision, rec->rule, rec->reason };
        json_t *o = json_object(), *truncated = NULL, *v;
        char ts[AUDIT_TIMESTAMP_MAX], *dump, *esc;
        const char *key;
        size_t n, m;

        assert_non_null(o);
        audit_format_timestamp(rec->ts_usec, ts);
        json_object_set_new(o, "ts", json_string(ts));
        json_object_set_new(o, "seq", json_integer((json_int_t) seq));
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                json_object_set_new(o, keys[i], vals[i] ? oracle_string(keys[i], vals[i], &truncated) : json_null());
        if (rec->extra)
                json_object_foreach(rec->extra, key, v) {
                        json_t *nv;
                        if (json_is_string(v))
                                nv = oracle_string(key, json_string_value(v), &truncated);
                        else if ((json_is_object(v) || json_is_array(v)) &&
                                 (n = json_dumpb(v, NULL, 0, JSON_COMPACT)) > AUDIT_FIELD_MAX) {
                                oracle_note_cut(&truncated, key, n);
                                nv = json_null();
                        } else
                                nv = json_incref(v);
                        assert_int_equal(json_object_set_new(o, key, nv), 0);
                }
        if (truncated)
                json_object_set_new(o, "truncated", truncated);
        json_object_set_new(o, "prev", json_string(prev));

        n = json_dumpb(o, NULL, 0, JSON_COMPACT);
        assert_true(n > 0);
        dump = malloc(n);
        assert_non_null(dump);
        assert_int_equal(json_dumpb(o, dump, n, JSON_COMPACT), n);
        json_decref(o);
        m = audit_json_escape(dump, n, NULL);
        esc = malloc(m + 1);
        assert_non_null(esc);
        audit_json_escape(dump, n, esc);
        esc[m] = 0;
        free(dump);
        *ret_len = m;
        return esc;
}

/* ---- the comparison ---- */

typedef struct Check {
        AuditLog *log;
        const char *path;
        size_t done; /* bytes of the file already compared */
        unsigned n;
} Check;

/* Appends rec and compares what it added to the file with the oracle. */
static void append_and_compare(Check *c, const AuditRecord *in) {
        AuditRecord rec = *in;
        char prev[AUDIT_HASH_HEX_LEN + 1], hash[AUDIT_HASH_HEX_LEN + 1], *want, *all, *line;
        size_t want_len, len;
        uint64_t seq;
        FILE *fp;

        if (!rec.ts_usec)
                rec.ts_usec = TS0 + c->n * UINT64_C(1000003);
        seq = audit_log_get_seq(c->log) + 1;
        memcpy(prev, audit_log_get_last_hash(c->log), sizeof(prev));
        assert_int_equal(audit_log_append(c->log, &rec), 0);
        want = oracle_body(&rec, seq, prev, &want_len);

        assert_non_null(fp = fopen(c->path, "re"));
        assert_int_equal(fseek(fp, 0, SEEK_END), 0);
        len = (size_t) ftell(fp) - c->done;
        assert_int_equal(fseek(fp, (long) c->done, SEEK_SET), 0);
        all = malloc(len + 1);
        assert_non_null(all);
        assert_int_equal(fread(all, 1, len, fp), len);
        all[len] = 0;
        fclose(fp);
        c->done += len;
        c->n++;

        /* body minus '}' + ,"hash":"<64>"} + newline */
        assert_int_equal(len, want_len - 1 + STRLEN(",\"hash\":\"") + AUDIT_HASH_HEX_LEN + 3);
        line = all;
        if (memcmp(line, want, want_len - 1) != 0) {
                size_t i = 0;
                while (line[i] == want[i])
                        i++;
                fail_msg("record %u differs at byte %zu:\n  writer: %.80s\n  jansson: %.80s", c->n, i, line + i,
                         want + i);
        }
        assert_memory_equal(line + want_len - 1, ",\"hash\":\"", STRLEN(",\"hash\":\""));
        assert_int_equal(audit_line_hash(prev, line, len - 1, hash), 0);
        assert_memory_equal(line + len - 3 - AUDIT_HASH_HEX_LEN, hash, AUDIT_HASH_HEX_LEN);
        free(want);
        free(all);
}

static void check_open(Check *c, const char *path) {
        *c = (Check) { .path = path };
        assert_int_equal(audit_log_open(path, &(AuditLogOptions) { .max_size = UINT64_MAX }, &c->log), 0);
}

static void check_close(Check *c) {
        AuditVerifyResult v;

        assert_int_equal(audit_log_close(c->log), 0);
        assert_int_equal(audit_verify(c->path, AUDIT_VERIFY_ROTATED, &v), 0);
        if (!v.ok)
                fail_msg("verify: line %" PRIu64 ": %s", v.line, v.reason);
        assert_int_equal(v.n_records, c->n);
}

static char *repeat(const char *unit, size_t times, const char *tail) {
        size_t ul = strlen(unit), tl = strlen(tail);
        char *s = malloc(ul * times + tl + 1);

        assert_non_null(s);
        for (size_t i = 0; i < times; i++)
                memcpy(s + i * ul, unit, ul);
        memcpy(s + ul * times, tail, tl + 1);
        return s;
}

static void test_hostile_strings(void **state) {
        Fixture *f = *state;
        char controls[32], all_bytes[256];
        char *long_ascii = repeat("a", 5000, ""),
             /* cut at 4096 falls inside the é */
             *long_cut = repeat("a", 4095, "\xC3\xA9tail"),
             *long_quotes = repeat("\"\\\n\x01", 1500, ""),
             *long_invalid = repeat("\xFF", 3000, "x"),
             *long_mixed = repeat("ab\xE2\x80\xAE\xC0", 1100, ""),
             *long_name = repeat("n", 4096, ""),
             *exactly = repeat("\xE2\x82\xAC", 1365, "z"); /* 4096 bytes */
        const char *hostile[] = {
                "",
                "plain",
                "quote\" backslash\\ slash/ tab\t nl\n cr\r bs\b ff\f",
                controls,
                all_bytes + 1,
                "del\x7F c1\xC2\x85\xC2\x9F nbsp\xC2\xA0",
                "bidi \xE2\x80\xAE" "fdp.txt zwsp\xE2\x80\x8B bom\xEF\xBB\xBF ls\xE2\x80\xA8 tag\xF3\xA0\x80\x81",
                "emoji \xF0\x9F\x98\x80 fffd \xEF\xBF\xBD",
                "lone \xFF and \xFE and \x80 cont",
                "overlong \xC0\xAF \xC1\xBF \xE0\x80\xAF \xF0\x80\x80\xAF",
                "surrogate \xED\xA0\x80 \xED\xBF\xBF",
                "too big \xF4\x90\x80\x80 \xF5\x80\x80\x80 \xF8\x88\x80\x80\x80",
                "cut at end \xE2\x82",
                "\xE2\x82 cut at start",
                long_ascii,
                long_cut,
                long_quotes,
                long_invalid,
                long_mixed,
                exactly,
        };
        Check c;

        for (int i = 0; i < 31; i++)
                controls[i] = (char) (i + 1);
        controls[31] = 0;
        for (int i = 0; i < 255; i++)
                all_bytes[i] = (char) (i + 1);
        all_bytes[255] = 0;
        check_open(&c, f->path);
        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                const char *s = hostile[i];
                /* each field in turn, the others plain or null */
                append_and_compare(&c, &(AuditRecord) { .group = s, .from = "web", .to = "db", .kind = "ipc",
                                                        .op = "connect", .object = s, .decision = "deny" });
                append_and_compare(&c, &(AuditRecord) { .from = s, .to = s, .kind = s, .op = s, .decision = s,
                                                        .rule = s, .reason = s });
        }
        /* every field long: many truncations in one record */
        append_and_compare(&c, &(AuditRecord) { .group = long_ascii, .from = long_cut, .to = long_quotes,
                                                .kind = long_invalid, .op = long_mixed, .object = long_name,
                                                .decision = exactly, .rule = long_ascii, .reason = long_cut });
        check_close(&c);
        free(long_ascii);
        free(long_cut);
        free(long_quotes);
        free(long_invalid);
        free(long_mixed);
        free(long_name);
        free(exactly);
}

static void test_hostile_extra(void **state) {
        Fixture *f = *state;
        char *long_value = repeat("\x1F\"", 3000, ""), *long_key = repeat("k", AUDIT_EXTRA_KEY_MAX, "");
        json_t *big = json_array(), *extra;
        Check c;

        for (int i = 0; i < 1000; i++)
                json_array_append_new(big, json_string("xyz\n"));
        extra = json_object();
        json_object_set_new(extra, "peer_pid", json_integer(4242));
        json_object_set_new(extra, "k\"ey\\", json_string("v\"al\\ue\t\x01"));
        json_object_set_new(extra, "ctl\x01\x1F\x7F", json_string_nocheck("\xE2\x80\xAE" "bidi \xFF invalid"));
        json_object_set_new(extra, "caf\xC3\xA9 \xE2\x80\xAE", json_integer(-9223372036854775807LL - 1));
        json_object_set_new(extra, "max", json_integer(9223372036854775807LL));
        json_object_set_new(extra, "zero", json_integer(0));
        json_object_set_new(extra, "yes", json_true());
        json_object_set_new(extra, "no", json_false());
        json_object_set_new(extra, "nothing", json_null());
        json_object_set_new(extra, "real", json_real(0.1));
        json_object_set_new(extra, "huge", json_real(1e300));
        json_object_set_new(extra, "whole", json_real(3.0));
        json_object_set_new(extra, "empty_obj", json_object());
        json_object_set_new(extra, "empty_arr", json_array());
        json_object_set_new(extra, "nested", json_pack("{s:s,s:[i,s,n],s:{s:s}}", "a\"", "x\x02y\xE2\x80\xAE", "b",
                                                        1, "\\", "c", "d", "\xC2\x85"));
        json_object_set_new(extra, "big", big);
        json_object_set_new(extra, "long", json_string(long_value));
        json_object_set_new(extra, long_key, json_string(""));
        assert_int_equal(json_object_size(extra), 18);

        check_open(&c, f->path);
        append_and_compare(&c, &(AuditRecord) { .group = "g", .from = "a", .to = "b", .kind = "ipc", .op = "connect",
                                                .object = "\x01", .decision = "allow", .extra = extra });
        /* the record's own fields cut too: "truncated" lists them first */
        append_and_compare(&c, &(AuditRecord) { .from = long_value, .reason = long_value, .extra = extra });
        check_close(&c);

        /* A key that is not UTF-8 is refused, nothing written (as jansson
         * refused it). */
        AuditLog *log = NULL;
        json_t *bad = json_object();
        assert_int_equal(json_object_set_new_nocheck(bad, "k\xFF", json_integer(1)), 0);
        assert_int_equal(audit_log_open(f->path, NULL, &log), 0);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .from = "a", .extra = bad }), -EINVAL);
        assert_int_equal(audit_log_get_seq(log), c.n);
        assert_int_equal(audit_log_close(log), 0);
        json_decref(bad);

        json_decref(extra);
        free(long_value);
        free(long_key);
}

/* ---- a log the writer before this one wrote ----
 *
 * tests/unit/audit/old-writer.jsonl holds these records as the jansson
 * writer (main at 6df6d44) wrote them: `test-audit-writer --write-fixture
 * FILE` built against that audit.c.  Written again now they must be the
 * same file, and the writer must continue it and the verifier accept it. */

static unsigned fixture_records(AuditLog *log) {
        static const char *const hostile[] = {
                "",
                "quote\" backslash\\ slash/ tab\t nl\n cr\r bs\b ff\f \x01\x1F",
                "del\x7F c1\xC2\x85 bidi \xE2\x80\xAE" "fdp.txt zwsp\xE2\x80\x8B tag\xF3\xA0\x80\x81",
                "emoji \xF0\x9F\x98\x80 fffd \xEF\xBF\xBD",
                "lone \xFF overlong \xC0\xAF surrogate \xED\xA0\x80 too big \xF4\x90\x80\x80 cut \xE2\x82",
        };
        char *long_cut = repeat("a", 4095, "\xC3\xA9tail"), *long_escapes = repeat("\"\x02", 2100, "");
        json_t *extra = json_pack("{s:i,s:s,s:b,s:n,s:f,s:{s:[s,i]}}", "peer_pid", 4242, "k\"\x01\xE2\x80\xAE",
                                  "v\\\n\xE2\x80\xAE", "yes", 1, "nothing", "real", 0.5, "nested", "a", "b\t", -7);
        unsigned n = 0;

        assert_non_null(extra);
        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                const char *s = hostile[i];
                assert_int_equal(audit_log_append(log, &(AuditRecord) { .group = "g", .from = s, .to = "db",
                                                                        .kind = "ipc", .op = "connect", .object = s,
                                                                        .decision = "deny", .reason = s,
                                                                        .ts_usec = TS0 + n++ * UINT64_C(1000003) }),
                                 0);
        }
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .from = "web", .kind = "ipc", .decision = "allow",
                                                                .extra = extra,
                                                                .ts_usec = TS0 + n++ * UINT64_C(1000003) }),
                         0);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .from = long_cut, .object = long_escapes,
                                                                .decision = "deny", .extra = extra,
                                                                .ts_usec = TS0 + n++ * UINT64_C(1000003) }),
                         0);
        json_decref(extra);
        free(long_cut);
        free(long_escapes);
        return n;
}

static char *read_file(const char *path, size_t *ret_len) {
        FILE *fp = fopen(path, "re");
        char *buf;
        long n;

        assert_non_null(fp);
        assert_int_equal(fseek(fp, 0, SEEK_END), 0);
        n = ftell(fp);
        rewind(fp);
        assert_non_null(buf = malloc((size_t) n + 1));
        assert_int_equal(fread(buf, 1, (size_t) n, fp), (size_t) n);
        buf[n] = 0;
        fclose(fp);
        *ret_len = (size_t) n;
        return buf;
}

static void test_old_writer_log(void **state) {
        Fixture *f = *state;
        AuditLogOptions o = { .max_size = UINT64_MAX };
        char old_path[160], *old, *now;
        size_t old_len, now_len;
        AuditLog *log = NULL;
        AuditReader *rd = NULL;
        AuditVerifyResult v;
        json_t *j;
        unsigned n;
        FILE *fp;

        old = read_file(AUDIT_FIXTURE_DIR "/old-writer.jsonl", &old_len);

        /* The same records, the same bytes. */
        assert_int_equal(audit_log_open(f->path, &o, &log), 0);
        n = fixture_records(log);
        assert_int_equal(audit_log_close(log), 0);
        now = read_file(f->path, &now_len);
        assert_int_equal(now_len, old_len);
        assert_memory_equal(now, old, old_len);
        free(now);

        /* The old log continued by this writer, verified and read whole. */
        snprintf(old_path, sizeof(old_path), "%s/old.jsonl", f->dir);
        assert_non_null(fp = fopen(old_path, "we"));
        assert_int_equal(fwrite(old, 1, old_len, fp), old_len);
        assert_int_equal(fclose(fp), 0);
        assert_int_equal(audit_log_open(old_path, &o, &log), 0);
        assert_int_equal(audit_log_get_seq(log), n);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .from = "after", .object = "\xE2\x80\xAE\x01" }), 0);
        assert_int_equal(audit_log_close(log), 0);
        assert_int_equal(audit_verify(old_path, 0, &v), 0);
        if (!v.ok)
                fail_msg("verify: line %" PRIu64 ": %s", v.line, v.reason);
        assert_int_equal(v.n_records, n + 1);
        assert_int_equal(audit_reader_open(old_path, false, &rd), 0);
        for (unsigned i = 0; i < n + 1; i++) {
                assert_int_equal(audit_reader_next(rd, &j, NULL, NULL), 1);
                assert_int_equal(json_integer_value(json_object_get(j, "seq")), i + 1);
                json_decref(j);
        }
        assert_int_equal(audit_reader_next(rd, &j, NULL, NULL), 0);
        audit_reader_free(rd);
        free(old);
}

/* Random bytes, biased towards the ones that need work. */
static void random_string(unsigned *seed, char *out, size_t max) {
        static const char interesting[] = "\"\\/\b\f\n\r\t\x01\x1F\x7F\x80\xBF\xC0\xC2\xDF\xE0\xED\xEF\xF0\xF4\xF5\xFF";
        size_t n = (size_t) rand_r(seed) % max;

        for (size_t i = 0; i < n; i++) {
                int k = rand_r(seed) % 4;
                if (k == 0)
                        out[i] = interesting[rand_r(seed) % (int) (sizeof(interesting) - 1)];
                else if (k == 1)
                        out[i] = (char) (0x80 | (rand_r(seed) & 0x3F)); /* a continuation byte */
                else
                        out[i] = (char) (1 + rand_r(seed) % 255);
        }
        out[n] = 0;
}

static void test_random_bytes(void **state) {
        Fixture *f = *state;
        unsigned seed = 14;
        char s[9][64], k[2][16], v[64];
        Check c;

        check_open(&c, f->path);
        for (int i = 0; i < 3000; i++) {
                json_t *extra = json_object();

                for (size_t j = 0; j < ELEMENTSOF(s); j++)
                        random_string(&seed, s[j], sizeof(s[j]));
                for (size_t j = 0; j < ELEMENTSOF(k); j++) {
                        random_string(&seed, k[j], sizeof(k[j]));
                        /* only keys the writer takes: UTF-8, not empty, not a
                         * record key (none of those is only a-z here) */
                        json_t *t = json_string(k[j]);
                        if (!t || strspn(k[j], "abcdefghijklmnopqrstuvwxyz") == strlen(k[j]) ||
                            json_object_get(extra, k[j]))
                                snprintf(k[j], sizeof(k[j]), "key%zu", j);
                        json_decref(t);
                }
                random_string(&seed, v, sizeof(v));
                json_object_set_new(extra, k[0], json_string(v) ?: json_integer(i));
                json_object_set_new(extra, k[1], json_integer(rand_r(&seed) - RAND_MAX / 2));
                append_and_compare(&c, &(AuditRecord) { .group = s[0], .from = s[1], .to = s[2], .kind = s[3],
                                                        .op = s[4], .object = s[5], .decision = s[6], .rule = s[7],
                                                        .reason = i % 3 ? s[8] : NULL, .extra = extra });
                json_decref(extra);
        }
        check_close(&c);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_old_writer_log, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hostile_strings, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hostile_extra, setup, teardown),
                cmocka_unit_test_setup_teardown(test_random_bytes, setup, teardown),
        };
        if (argc == 3 && strcmp(argv[1], "--write-fixture") == 0) {
                AuditLog *log = NULL;
                unlink(argv[2]);
                if (audit_log_open(argv[2], &(AuditLogOptions) { .max_size = UINT64_MAX }, &log) < 0)
                        return 1;
                fixture_records(log);
                return audit_log_close(log) < 0;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
