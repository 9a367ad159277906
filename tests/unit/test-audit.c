/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit log: exact format and hash, chain across reopen and rotation,
 * the verifier against each kind of damage, torn lines, filters, batching,
 * bounded fields, the follow reader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "common/macro.h"
#include "shuttle/audit/audit.h"

#include "audit-fixture.h"

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* ---- helpers ---- */

static char *read_all(const char *path, size_t *ret_len) {
        FILE *fp = fopen(path, "re");
        char *buf;
        long n;

        assert_non_null(fp);
        assert_int_equal(fseek(fp, 0, SEEK_END), 0);
        n = ftell(fp);
        rewind(fp);
        buf = malloc((size_t) n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t) n, fp), (size_t) n);
        buf[n] = 0;
        fclose(fp);
        if (ret_len)
                *ret_len = (size_t) n;
        return buf;
}

static void write_all(const char *path, const char *data, size_t len) {
        FILE *fp = fopen(path, "we");
        assert_non_null(fp);
        assert_int_equal(fwrite(data, 1, len, fp), len);
        assert_int_equal(fclose(fp), 0);
}

/* Splits a file into lines (newlines removed). */
typedef struct Lines {
        char *v[4096];
        size_t n;
} Lines;

static void lines_read(const char *path, Lines *l) {
        char *all = read_all(path, NULL), *p = all, *nl;

        l->n = 0;
        while ((nl = strchr(p, '\n'))) {
                assert_true(l->n < ELEMENTSOF(l->v));
                l->v[l->n++] = strndup(p, (size_t) (nl - p));
                p = nl + 1;
        }
        assert_int_equal(*p, 0);
        free(all);
}

static void lines_write(const char *path, const Lines *l) {
        FILE *fp = fopen(path, "we");
        assert_non_null(fp);
        for (size_t i = 0; i < l->n; i++)
                fprintf(fp, "%s\n", l->v[i]);
        assert_int_equal(fclose(fp), 0);
}

static void lines_free(Lines *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        l->n = 0;
}

static const char *const names[] = { "web", "db", "cache", "mail" };
static const char *const kinds[] = { "ipc", "invoke", "transfer", "signal" };

/* Appends n records numbered from first: record i goes from names[i%4]
 * to names[(i+1)%4], kind kinds[i%4], allow for even i, at ts base+i s. */
static void gen(const char *path, const AuditLogOptions *o, unsigned first, unsigned n) {
        AuditLog *log = NULL;

        assert_int_equal(audit_log_open(path, o, &log), 0);
        for (unsigned i = first; i < first + n; i++) {
                char obj[64];
                snprintf(obj, sizeof(obj), "object-%u", i);
                AuditRecord rec = {
                        .group = "grp", .from = names[i % 4], .to = names[(i + 1) % 4], .kind = kinds[i % 4],
                        .op = "connect", .object = obj, .decision = i % 2 ? "deny" : "allow",
                        .rule = i % 2 ? "no-way" : "fine", .reason = i % 2 ? "denied by rule" : NULL,
                        .ts_usec = UINT64_C(1714564800000000) + (uint64_t) i * 1000000,
                };
                assert_int_equal(audit_log_append(log, &rec), 0);
        }
        assert_int_equal(audit_log_close(log), 0);
}

/* The hash, computed here from the documented definition with OpenSSL's
 * one-shot API, independently of the library's code. */
static void expected_hash(const char *prev, const char *line, char out[65]) {
        const char *h = strstr(line, ",\"hash\":\"");
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned dn = 0;
        size_t body = (size_t) (h - line), n;
        char *in;

        assert_non_null(h);
        assert_null(strstr(h + 1, ",\"hash\":\""));
        n = 64 + 1 + body + 1;
        in = malloc(n);
        assert_non_null(in);
        memcpy(in, prev, 64);
        in[64] = '\n';
        memcpy(in + 65, line, body);
        in[n - 1] = '}';
        assert_int_equal(EVP_Digest(in, n, d, &dn, EVP_sha256(), NULL), 1);
        assert_int_equal(dn, 32);
        for (unsigned i = 0; i < dn; i++)
                sprintf(out + 2 * i, "%02x", d[i]);
        free(in);
}

static json_t *parse(const char *line) {
        json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
        assert_non_null(j);
        return j;
}

static void verify_expect(const char *path, unsigned flags, bool ok, uint64_t line, uint64_t seq,
                          const char *reason) {
        AuditVerifyResult r;

        assert_int_equal(audit_verify(path, flags, &r), 0);
        if (r.ok != ok)
                fail_msg("verify: ok=%d, expected %d (%s:%" PRIu64 ": %s)", r.ok, ok, r.file, r.line, r.reason);
        if (!ok) {
                if (r.line != line || r.seq != seq || !strstr(r.reason, reason))
                        fail_msg("verify: line %" PRIu64 " seq %" PRIu64 " '%s', expected line %" PRIu64
                                 " seq %" PRIu64 " '%s'",
                                 r.line, r.seq, r.reason, line, seq, reason);
        }
}

/* ---- format and hash ---- */

static void test_golden(void **state) {
        Fixture *f = *state;
        AuditLog *log = NULL;
        json_t *extra = json_pack("{s:i}", "peer_pid", 1234);
        char *all;
        /* Hashes computed once with
         *   printf '%s\n%s' "$prev" "$line_without_hash_member" | sha256sum */
        static const char expected[] =
                "{\"ts\":\"2024-05-01T12:00:00.123456Z\",\"seq\":1,\"group\":\"webapp\",\"from\":\"web\","
                "\"to\":\"db\",\"kind\":\"ipc\",\"op\":\"connect\",\"object\":\"kv\",\"decision\":\"allow\","
                "\"rule\":\"web-uses-kv\",\"reason\":null,\"peer_pid\":1234,\"prev\":\"" GENESIS "\","
                "\"hash\":\"7568f26418ec6d7d697f75a37d84cb9823b3ce202ec5e6a2e7cf0b46016eac53\"}\n"
                "{\"ts\":\"2024-05-01T12:00:01.000000Z\",\"seq\":2,\"group\":null,\"from\":\"web\","
                "\"to\":\"db\",\"kind\":\"ipc\",\"op\":\"connect\",\"object\":\"admin\",\"decision\":\"deny\","
                "\"rule\":\"no-admin\",\"reason\":\"denied by rule\","
                "\"prev\":\"7568f26418ec6d7d697f75a37d84cb9823b3ce202ec5e6a2e7cf0b46016eac53\","
                "\"hash\":\"0a9557109dfaec425e634a4a05601e3cab87b05eecc0933fe21099cf8a8e5ed8\"}\n";

        assert_int_equal(audit_log_open(f->path, NULL, &log), 0);
        assert_int_equal(audit_log_get_seq(log), 0);
        assert_string_equal(audit_log_get_last_hash(log), GENESIS);
        assert_int_equal(audit_log_append(log, &(AuditRecord) {
                                 .group = "webapp", .from = "web", .to = "db", .kind = "ipc", .op = "connect",
                                 .object = "kv", .decision = "allow", .rule = "web-uses-kv", .extra = extra,
                                 .ts_usec = UINT64_C(1714564800123456) }),
                         0);
        assert_int_equal(audit_log_append(log, &(AuditRecord) {
                                 .from = "web", .to = "db", .kind = "ipc", .op = "connect", .object = "admin",
                                 .decision = "deny", .rule = "no-admin", .reason = "denied by rule",
                                 .ts_usec = UINT64_C(1714564801000000) }),
                         0);
        assert_int_equal(audit_log_get_seq(log), 2);
        assert_string_equal(audit_log_get_last_hash(log),
                            "0a9557109dfaec425e634a4a05601e3cab87b05eecc0933fe21099cf8a8e5ed8");
        assert_int_equal(audit_log_close(log), 0);
        json_decref(extra);

        all = read_all(f->path, NULL);
        assert_string_equal(all, expected);
        free(all);

        /* The public helper agrees. */
        char h[65];
        const char *l2 = strchr(expected, '\n') + 1;
        assert_int_equal(audit_line_hash("7568f26418ec6d7d697f75a37d84cb9823b3ce202ec5e6a2e7cf0b46016eac53", l2,
                                         strlen(l2) - 1, h),
                         0);
        assert_string_equal(h, "0a9557109dfaec425e634a4a05601e3cab87b05eecc0933fe21099cf8a8e5ed8");
        assert_int_equal(audit_line_hash(GENESIS, "{\"a\":1}", 7, h), -EBADMSG);
}

static void test_chain_and_reopen(void **state) {
        Fixture *f = *state;
        char prev[65] = GENESIS, h[65];
        AuditLog *log = NULL;
        Lines l;

        gen(f->path, NULL, 0, 5);
        gen(f->path, NULL, 5, 5);
        lines_read(f->path, &l);
        assert_int_equal(l.n, 10);
        for (size_t i = 0; i < l.n; i++) {
                json_t *j = parse(l.v[i]);
                assert_int_equal(json_integer_value(json_object_get(j, "seq")), i + 1);
                assert_string_equal(json_string_value(json_object_get(j, "prev")), prev);
                expected_hash(prev, l.v[i], h);
                assert_string_equal(json_string_value(json_object_get(j, "hash")), h);
                memcpy(prev, h, sizeof(prev));
                json_decref(j);
        }
        lines_free(&l);
        verify_expect(f->path, 0, true, 0, 0, NULL);

        assert_int_equal(audit_log_open(f->path, NULL, &log), 0);
        assert_int_equal(audit_log_get_seq(log), 10);
        assert_string_equal(audit_log_get_last_hash(log), prev);
        /* One writer at a time. */
        AuditLog *second = NULL;
        assert_int_equal(audit_log_open(f->path, NULL, &second), -EBUSY);
        assert_null(second);
        assert_int_equal(audit_log_close(log), 0);
}

static void test_key_order_nulls_extra(void **state) {
        Fixture *f = *state;
        AuditLog *log = NULL;
        json_t *extra = json_pack("{s:s,s:i,s:b}", "rule_file", "/etc/shuttle/p.yaml:12", "errno", 13, "x", 1);
        json_t *bad = json_pack("{s:s}", "seq", "7");
        json_t *many = json_object();
        struct stat st;
        Lines l;

        for (int i = 0; i <= AUDIT_EXTRA_KEYS_MAX; i++) {
                char k[16];
                snprintf(k, sizeof(k), "k%d", i);
                json_object_set_new(many, k, json_integer(i));
        }
        assert_int_equal(audit_log_open(f->path, NULL, &log), 0);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .extra = extra }), 0);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .extra = bad }), -EINVAL);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .extra = many }), -E2BIG);
        assert_int_equal(audit_log_get_seq(log), 1);
        assert_int_equal(audit_log_close(log), 0);
        json_decref(extra);
        json_decref(bad);
        json_decref(many);

        lines_read(f->path, &l);
        assert_int_equal(l.n, 1);
        /* Fixed order; NULL fields are null; extra after reason. */
        assert_non_null(strstr(l.v[0], ",\"seq\":1,\"group\":null,\"from\":null,\"to\":null,\"kind\":null,"
                                       "\"op\":null,\"object\":null,\"decision\":null,\"rule\":null,"
                                       "\"reason\":null,\"rule_file\":\"/etc/shuttle/p.yaml:12\",\"errno\":13,"
                                       "\"x\":true,\"prev\":\""));
        assert_true(strncmp(l.v[0], "{\"ts\":\"", 7) == 0);
        lines_free(&l);

        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0640);
}

/* ---- the verifier ---- */

static void test_verify_flipped_byte(void **state) {
        Fixture *f = *state;
        Lines l;
        char *p, c;

        gen(f->path, NULL, 0, 10);
        lines_read(f->path, &l);
        /* object-3 → object-X in the 4th record */
        p = strstr(l.v[3], "object-3");
        assert_non_null(p);
        p[7] = 'X';
        lines_write(f->path, &l);
        verify_expect(f->path, 0, false, 4, 4, "hash mismatch");

        /* Repair, then flip a digit of the 7th record's own hash. */
        p[7] = '3';
        p = strstr(l.v[6], "\"hash\":\"") + 8;
        c = *p;
        *p = c == 'a' ? 'b' : 'a';
        lines_write(f->path, &l);
        verify_expect(f->path, 0, false, 7, 7, "hash mismatch");

        /* A byte that breaks the JSON. */
        *p = c;
        p = strchr(l.v[8], ':');
        *p = ';';
        lines_write(f->path, &l);
        verify_expect(f->path, 0, false, 9, 0, "not JSON");
        *p = ':';
        lines_write(f->path, &l);
        verify_expect(f->path, 0, true, 0, 0, NULL);
        lines_free(&l);
}

static void test_verify_deleted_line(void **state) {
        Fixture *f = *state;
        Lines l;

        gen(f->path, NULL, 0, 10);
        lines_read(f->path, &l);
        free(l.v[4]);
        memmove(&l.v[4], &l.v[5], (l.n - 5) * sizeof(char *));
        l.n--;
        lines_write(f->path, &l);
        verify_expect(f->path, 0, false, 5, 6, "seq jumps from 4 to 6");

        /* Deleting the first record cannot hide either. */
        unlink(f->path);
        gen(f->path, NULL, 0, 3);
        lines_free(&l);
        lines_read(f->path, &l);
        free(l.v[0]);
        memmove(&l.v[0], &l.v[1], (l.n - 1) * sizeof(char *));
        l.n--;
        lines_write(f->path, &l);
        {
                AuditVerifyResult r;
                assert_int_equal(audit_verify(f->path, 0, &r), 0);
                /* The chain is consistent from seq 2 on, but it no longer
                 * starts at the genesis: a gap, and a failure (invariant
                 * 10), with no record of a rotation to explain it. */
                assert_false(r.ok);
                assert_false(r.starts_at_genesis);
                assert_int_equal(r.first_seq, 2);
                assert_true(r.gap);
                assert_int_equal(r.gap_last_seq, 1);
                assert_int_equal(r.gap_drop_record_seq, 0);
                assert_int_equal(r.seq, 2);
                assert_int_equal(r.line, 1);
                assert_string_equal(r.reason, "gap: records seq 1..1 are not in the log (--all looks for the "
                                              "record of their removal)");
        }
        lines_free(&l);
}

static void test_verify_reordered(void **state) {
        Fixture *f = *state;
        Lines l;
        char *t;

        gen(f->path, NULL, 0, 10);
        lines_read(f->path, &l);
        t = l.v[2];
        l.v[2] = l.v[3];
        l.v[3] = t;
        lines_write(f->path, &l);
        verify_expect(f->path, 0, false, 3, 4, "seq jumps from 2 to 4");
        lines_free(&l);
}

static void test_verify_forged_seq_and_prev(void **state) {
        Fixture *f = *state;
        Lines l;
        char *p;

        gen(f->path, NULL, 0, 6);
        lines_read(f->path, &l);
        /* Record 5 with a prev that is not record 4's hash (but its own hash
         * recomputed would still need the key: a forger without the chain). */
        p = strstr(l.v[4], "\"prev\":\"") + 8;
        *p = *p == 'a' ? 'b' : 'a';
        lines_write(f->path, &l);
        verify_expect(f->path, 0, false, 5, 5, "prev does not match previous hash");
        lines_free(&l);
}

static void test_torn_last_line(void **state) {
        Fixture *f = *state;
        AuditLog *log = NULL;
        AuditVerifyResult r;
        size_t len;
        char *all;
        Lines l;

        gen(f->path, NULL, 0, 10);
        all = read_all(f->path, &len);
        /* A crash in the middle of writing record 10. */
        assert_int_equal(truncate(f->path, (off_t) len - 40), 0);
        verify_expect(f->path, 0, false, 10, 0, "torn last line");

        /* The writer continues from record 9 and names the fragment. */
        assert_int_equal(audit_log_open(f->path, NULL, &log), 0);
        assert_int_equal(audit_log_get_seq(log), 9);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .op = "after-crash" }), 0);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .op = "after-crash-2" }), 0);
        assert_int_equal(audit_log_close(log), 0);

        assert_int_equal(audit_verify(f->path, 0, &r), 0);
        assert_true(r.ok);
        assert_int_equal(r.n_records, 11);
        assert_int_equal(r.last_seq, 11);
        assert_int_equal(r.n_torn_recovered, 1);

        lines_read(f->path, &l);
        assert_int_equal(l.n, 12);
        {
                json_t *j9 = parse(l.v[8]), *j10 = parse(l.v[10]), *torn;
                size_t off = strlen(all) - strlen(strstr(all, l.v[9]));
                assert_null(json_loads(l.v[9], 0, NULL)); /* the fragment */
                assert_int_equal(json_integer_value(json_object_get(j10, "seq")), 10);
                assert_string_equal(json_string_value(json_object_get(j10, "prev")),
                                    json_string_value(json_object_get(j9, "hash")));
                torn = json_object_get(j10, "torn");
                assert_int_equal(json_integer_value(json_object_get(torn, "offset")), off);
                assert_int_equal(json_integer_value(json_object_get(torn, "length")), strlen(l.v[9]));
                json_decref(j9);
                json_decref(j10);
        }

        /* A complete garbage line without a marker is not excused. */
        free(l.v[9]);
        l.v[9] = strdup("garbage");
        lines_write(f->path, &l);
        verify_expect(f->path, 0, false, 10, 0, "not JSON");
        lines_free(&l);
        free(all);
}

static void test_open_refuses_damaged_tail(void **state) {
        Fixture *f = *state;
        AuditLog *log = NULL;
        Lines l;
        char *p;

        gen(f->path, NULL, 0, 4);
        lines_read(f->path, &l);
        p = strstr(l.v[3], "object-3");
        p[0] = 'O';
        lines_write(f->path, &l);
        /* Continuing a chain whose last record is forged would bless it. */
        assert_int_equal(audit_log_open(f->path, NULL, &log), -EBADMSG);
        assert_null(log);
        lines_free(&l);
}

/* ---- rotation ---- */

static void test_rotation(void **state) {
        Fixture *f = *state;
        AuditLogOptions o = { .max_size = 4096, .keep = 50 };
        AuditVerifyResult r;
        AuditLog *log = NULL;
        char p1[256], p2[256];
        Lines a, b;
        struct stat st;

        assert_int_equal(audit_log_open(f->path, &o, &log), 0);
        for (unsigned i = 0; i < 100; i++)
                assert_int_equal(audit_log_append(log, &(AuditRecord) { .from = "web", .to = "db", .kind = "ipc",
                                                                       .decision = "allow", .object = "kv" }),
                                 0);
        assert_true(audit_log_get_n_rotations(log) >= 5);
        assert_int_equal(audit_log_close(log), 0);

        snprintf(p1, sizeof(p1), "%s.1", f->path);
        snprintf(p2, sizeof(p2), "%s.2", f->path);
        assert_int_equal(stat(f->path, &st), 0);
        assert_true(st.st_size <= 4096);
        assert_int_equal(stat(p1, &st), 0);
        assert_true(st.st_size <= 4096);

        /* The new file's first prev is the old file's last hash. */
        lines_read(p1, &a);
        lines_read(f->path, &b);
        {
                json_t *last = parse(a.v[a.n - 1]), *first = parse(b.v[0]);
                assert_string_equal(json_string_value(json_object_get(first, "prev")),
                                    json_string_value(json_object_get(last, "hash")));
                assert_int_equal(json_integer_value(json_object_get(first, "seq")),
                                 json_integer_value(json_object_get(last, "seq")) + 1);
                json_decref(last);
                json_decref(first);
        }
        lines_free(&a);
        lines_free(&b);

        assert_int_equal(audit_verify(f->path, AUDIT_VERIFY_ROTATED, &r), 0);
        assert_true(r.ok);
        assert_int_equal(r.n_records, 100);
        assert_true(r.starts_at_genesis);
        assert_true(r.n_files >= 6);
        assert_int_equal(r.last_seq, 100);

        assert_int_equal(audit_verify(f->path, 0, &r), 0);
        assert_true(r.ok);
        assert_int_equal(r.n_files, 1);
        assert_false(r.starts_at_genesis);

        /* Damage in a rotated file is found by the full check. */
        lines_read(p2, &a);
        a.v[1][10] = a.v[1][10] == '0' ? '1' : '0'; /* inside ts */
        lines_write(p2, &a);
        {
                json_t *j = parse(a.v[1]);
                assert_int_equal(audit_verify(f->path, AUDIT_VERIFY_ROTATED, &r), 0);
                assert_false(r.ok);
                assert_string_equal(r.file, p2);
                assert_int_equal(r.line, 2);
                assert_int_equal(r.seq, json_integer_value(json_object_get(j, "seq")));
                json_decref(j);
        }
        lines_free(&a);
}

static void test_rotation_keep(void **state) {
        Fixture *f = *state;
        AuditLogOptions o = { .max_size = 2048, .keep = 2 };
        char p[256];

        gen(f->path, &o, 0, 100);
        snprintf(p, sizeof(p), "%s.2", f->path);
        assert_int_equal(access(p, F_OK), 0);
        snprintf(p, sizeof(p), "%s.3", f->path);
        assert_int_equal(access(p, F_OK), -1);
        /* What is kept is intact but no longer reaches the genesis: the
         * gap is a failure that names the rotation that made it. */
        AuditVerifyResult r;
        assert_int_equal(audit_verify(f->path, AUDIT_VERIFY_ROTATED, &r), 0);
        assert_false(r.ok);
        assert_false(r.starts_at_genesis);
        assert_true(r.gap);
        assert_true(r.gap_drop_record_seq > r.gap_last_seq);
        assert_true(r.gap_drop_first_seq > 1);
        assert_non_null(strstr(r.reason, "were deleted by rotation at 20"));
        assert_int_equal(r.n_files, 3);
        assert_int_equal(r.seq, r.gap_last_seq + 1);
}

static void test_crash_after_rotation_rename(void **state) {
        Fixture *f = *state;
        AuditLog *log = NULL;
        char p1[256];
        AuditVerifyResult r;

        gen(f->path, NULL, 0, 5);
        /* As if the broker died right after renaming the file away. */
        snprintf(p1, sizeof(p1), "%s.1", f->path);
        assert_int_equal(rename(f->path, p1), 0);
        assert_int_equal(audit_log_open(f->path, NULL, &log), 0);
        assert_int_equal(audit_log_get_seq(log), 5);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .op = "x" }), 0);
        assert_int_equal(audit_log_close(log), 0);
        assert_int_equal(audit_verify(f->path, AUDIT_VERIFY_ROTATED, &r), 0);
        assert_true(r.ok);
        assert_int_equal(r.n_records, 6);
        assert_true(r.starts_at_genesis);
}

/* ---- reading and filtering ---- */

static unsigned count(const char *path, const AuditFilter *flt) {
        AuditReader *rd = NULL;
        unsigned n = 0;
        json_t *j;
        int k;

        assert_int_equal(audit_reader_open(path, true, &rd), 0);
        while ((k = audit_reader_next(rd, &j, NULL, NULL)) > 0) {
                if (audit_filter_match(flt, j))
                        n++;
                json_decref(j);
        }
        assert_int_equal(k, 0);
        audit_reader_free(rd);
        return n;
}

static void test_filters(void **state) {
        Fixture *f = *state;
        uint64_t t;

        gen(f->path, NULL, 0, 40); /* i%4 picks from/kind, i%2 the decision */
        assert_int_equal(count(f->path, NULL), 40);
        assert_int_equal(count(f->path, &(AuditFilter) { .from = "web" }), 10);
        assert_int_equal(count(f->path, &(AuditFilter) { .to = "db" }), 10);
        assert_int_equal(count(f->path, &(AuditFilter) { .from = "web", .to = "db" }), 10);
        assert_int_equal(count(f->path, &(AuditFilter) { .from = "web", .to = "cache" }), 0);
        assert_int_equal(count(f->path, &(AuditFilter) { .from = "[wd]*" }), 20);
        assert_int_equal(count(f->path, &(AuditFilter) { .kind = "invoke" }), 10);
        assert_int_equal(count(f->path, &(AuditFilter) { .decision = "deny" }), 20);
        assert_int_equal(count(f->path, &(AuditFilter) { .decision = "allow", .kind = "ipc" }), 10);
        assert_int_equal(count(f->path, &(AuditFilter) { .decision = "allow", .kind = "invoke" }), 0);
        /* ts = base + i s: since base + 30 s keeps i = 30..39 */
        assert_int_equal(audit_parse_timestamp("2024-05-01T12:00:30Z", &t), 0);
        assert_int_equal(count(f->path, &(AuditFilter) { .since_usec = t }), 10);
        assert_int_equal(audit_parse_timestamp("2024-05-01T14:00:30+02:00", &t), 0);
        assert_int_equal(count(f->path, &(AuditFilter) { .since_usec = t }), 10);
        assert_int_equal(count(f->path, &(AuditFilter) { .since_usec = t + 1 }), 9);
}

static void test_timestamps(void **state) {
        char buf[AUDIT_TIMESTAMP_MAX];
        uint64_t t = 7;

        assert_string_equal(audit_format_timestamp(UINT64_C(1714564800123456), buf), "2024-05-01T12:00:00.123456Z");
        assert_int_equal(audit_parse_timestamp("2024-05-01T12:00:00.123456Z", &t), 0);
        assert_int_equal(t, UINT64_C(1714564800123456));
        assert_int_equal(audit_parse_timestamp("2024-05-01 12:00:00.5", &t), 0);
        assert_int_equal(t, UINT64_C(1714564800500000));
        assert_int_equal(audit_parse_timestamp("2024-05-01T13:00:00+01:00", &t), 0);
        assert_int_equal(t, UINT64_C(1714564800000000));
        t = 7;
        assert_int_equal(audit_parse_timestamp("2024-05-01", &t), -EINVAL);
        assert_int_equal(audit_parse_timestamp("2024-13-01T00:00:00Z", &t), -EINVAL);
        assert_int_equal(audit_parse_timestamp("2024-05-01T12:00:00Zjunk", &t), -EINVAL);
        assert_int_equal(audit_parse_timestamp("10m", &t), -EINVAL);
        assert_int_equal(t, 7);
}

static void test_reader_bad_lines(void **state) {
        Fixture *f = *state;
        AuditReader *rd = NULL;
        const char *line;
        json_t *j = NULL;
        size_t len;

        static const char data[] = "{\"seq\":1}\nnot json\n[1]\n{\"seq\":2}\n{\"seq\":3";
        write_all(f->path, data, strlen(data));
        assert_int_equal(audit_reader_open(f->path, false, &rd), 0);
        assert_int_equal(audit_reader_next(rd, &j, &line, &len), 1);
        assert_int_equal(json_integer_value(json_object_get(j, "seq")), 1);
        json_decref(j);
        assert_int_equal(audit_reader_next(rd, &j, &line, &len), -EBADMSG);
        assert_int_equal(audit_reader_get_line_number(rd), 2);
        assert_string_equal(line, "not json");
        assert_int_equal(audit_reader_next(rd, &j, &line, &len), -EBADMSG);
        assert_int_equal(audit_reader_next(rd, &j, &line, &len), 1);
        assert_int_equal(len, 9);
        json_decref(j);
        /* The partial last line is held back. */
        assert_int_equal(audit_reader_next(rd, &j, &line, &len), 0);
        audit_reader_free(rd);
}

static void test_follow_across_rotation(void **state) {
        Fixture *f = *state;
        AuditLogOptions o = { .max_size = 1500 };
        AuditReader *rd = NULL;
        AuditLog *log = NULL;
        unsigned seen = 0;
        uint64_t last = 0;
        json_t *j;
        int k;

        assert_int_equal(audit_log_open(f->path, &o, &log), 0);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .op = "a" }), 0);
        assert_int_equal(audit_reader_open(f->path, false, &rd), 0);
        while (audit_reader_next(rd, &j, NULL, NULL) > 0) {
                seen++;
                json_decref(j);
        }
        assert_int_equal(seen, 1);
        assert_int_equal(audit_reader_wait(rd, 50000), 0); /* nothing new: times out */

        for (unsigned i = 0; i < 20; i++)
                assert_int_equal(audit_log_append(log, &(AuditRecord) { .op = "b" }), 0);
        assert_true(audit_log_get_n_rotations(log) >= 2);
        /* Everything, in order, exactly once: the rest of the old file, the
         * new one.  (Files rotated away twice while we were not looking are
         * past the follower: it reads PATH, not PATH.2.) */
        for (unsigned tries = 0; tries < 50 && last < 21; tries++) {
                while ((k = audit_reader_next(rd, &j, NULL, NULL)) > 0) {
                        uint64_t s = (uint64_t) json_integer_value(json_object_get(j, "seq"));
                        assert_true(s > last);
                        last = s;
                        seen++;
                        json_decref(j);
                }
                assert_int_equal(k, 0);
                if (last < 21)
                        assert_true(audit_reader_wait(rd, 200000) >= 0);
        }
        assert_int_equal(last, 21);
        audit_reader_free(rd);
        assert_int_equal(audit_log_close(log), 0);
}

/* ---- durability and bounds ---- */

static void test_sync_batching(void **state) {
        Fixture *f = *state;
        AuditLogOptions o = { .sync_records = 4, .sync_interval_usec = UINT64_C(3600000000) };
        AuditLog *log = NULL;
        AuditVerifyResult r;
        Lines l;
        uint64_t deadline;

        assert_int_equal(audit_log_open(f->path, &o, &log), 0);
        assert_int_equal(audit_log_next_sync_usec(log), UINT64_MAX);
        for (int i = 0; i < 3; i++)
                assert_int_equal(audit_log_append(log, &(AuditRecord) { .op = "x" }), 0);
        assert_int_equal(audit_log_get_unsynced(log), 3);
        assert_int_equal(audit_log_get_n_syncs(log), 0);
        /* Written (no user-space buffer) even before the sync. */
        lines_read(f->path, &l);
        assert_int_equal(l.n, 3);
        lines_free(&l);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .op = "x" }), 0);
        assert_int_equal(audit_log_get_unsynced(log), 0);
        assert_int_equal(audit_log_get_n_syncs(log), 1);

        /* The interval: tick before the deadline does nothing, at it syncs. */
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .op = "x" }), 0);
        deadline = audit_log_next_sync_usec(log);
        assert_true(deadline != UINT64_MAX);
        assert_int_equal(audit_log_tick(log, deadline - 1), 0);
        assert_int_equal(audit_log_get_unsynced(log), 1);
        assert_int_equal(audit_log_tick(log, deadline), 0);
        assert_int_equal(audit_log_get_unsynced(log), 0);
        assert_int_equal(audit_log_get_n_syncs(log), 2);
        assert_int_equal(audit_log_next_sync_usec(log), UINT64_MAX);

        /* Unsynced records at a clean close are synced, none lost. */
        for (int i = 0; i < 1003; i++)
                assert_int_equal(audit_log_append(log, &(AuditRecord) { .op = "y" }), 0);
        assert_int_equal(audit_log_get_unsynced(log), 1003 % 4);
        assert_int_equal(audit_log_close(log), 0);
        assert_int_equal(audit_verify(f->path, 0, &r), 0);
        assert_true(r.ok);
        assert_int_equal(r.n_records, 1008);

        /* A short interval syncs on append without a tick. */
        o = (AuditLogOptions) { .sync_records = 1000000, .sync_interval_usec = 1 };
        assert_int_equal(audit_log_open(f->path, &o, &log), 0);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .op = "z" }), 0);
        usleep(10);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .op = "z" }), 0);
        assert_int_equal(audit_log_get_unsynced(log), 0);
        assert_int_equal(audit_log_close(log), 0);
}

/* The library's fdatasync() calls, counted: the test links with
 * -Wl,--wrap=fdatasync. */
int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);
static unsigned n_fdatasync;
int __wrap_fdatasync(int fd) {
        n_fdatasync++;
        return __real_fdatasync(fd);
}

static void test_close_syncs(void **state) {
        Fixture *f = *state;
        AuditLogOptions o = { .sync_records = 1000, .sync_interval_usec = UINT64_C(3600000000) };
        AuditLog *log = NULL;

        assert_int_equal(audit_log_open(f->path, &o, &log), 0);
        n_fdatasync = 0;
        for (int i = 0; i < 5; i++)
                assert_int_equal(audit_log_append(log, &(AuditRecord) { .op = "x" }), 0);
        assert_int_equal(n_fdatasync, 0);
        assert_int_equal(audit_log_flush(log), 0);
        assert_int_equal(n_fdatasync, 1);
        assert_int_equal(audit_log_flush(log), 0); /* nothing pending: no call */
        assert_int_equal(n_fdatasync, 1);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .op = "x" }), 0);
        assert_int_equal(audit_log_close(log), 0);
        assert_int_equal(n_fdatasync, 2);
}

static void test_huge_fields(void **state) {
        Fixture *f = *state;
        size_t big = 1024 * 1024;
        char *reason = malloc(big + 1), *accents = malloc(6001);
        json_t *extra = json_object(), *arr = json_array(), *j, *tr;
        AuditLog *log = NULL;
        Lines l;

        memset(reason, 'r', big);
        reason[big] = 0;
        for (int i = 0; i < 3000; i++)
                memcpy(accents + 2 * i, "\xc3\xa9", 2);
        accents[6000] = 0;
        for (int i = 0; i < 2000; i++)
                json_array_append_new(arr, json_integer(i));
        json_object_set_new(extra, "list", arr);
        json_object_set_new(extra, "note", json_string(reason + big - 5000));

        assert_int_equal(audit_log_open(f->path, NULL, &log), 0);
        assert_int_equal(audit_log_append(log, &(AuditRecord) { .reason = reason, .object = accents,
                                                               .from = "a\xff\xfe" "b\xed\xa0\x80", .extra = extra }),
                         0);
        assert_int_equal(audit_log_close(log), 0);

        lines_read(f->path, &l);
        assert_int_equal(l.n, 1);
        assert_true(strlen(l.v[0]) < 3 * AUDIT_FIELD_MAX + 1024);
        j = parse(l.v[0]);
        assert_int_equal(strlen(json_string_value(json_object_get(j, "reason"))), AUDIT_FIELD_MAX);
        /* Cut at a character boundary: 2048 whole "é". */
        assert_int_equal(strlen(json_string_value(json_object_get(j, "object"))), AUDIT_FIELD_MAX);
        /* Invalid UTF-8 replaced, byte by byte, by U+FFFD. */
        assert_string_equal(json_string_value(json_object_get(j, "from")),
                            "a\xef\xbf\xbd\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
        assert_true(json_is_null(json_object_get(j, "list")));
        assert_int_equal(strlen(json_string_value(json_object_get(j, "note"))), AUDIT_FIELD_MAX);
        tr = json_object_get(j, "truncated");
        assert_int_equal(json_integer_value(json_object_get(tr, "reason")), big);
        assert_int_equal(json_integer_value(json_object_get(tr, "object")), 6000);
        assert_int_equal(json_integer_value(json_object_get(tr, "note")), 5000);
        assert_true(json_integer_value(json_object_get(tr, "list")) > AUDIT_FIELD_MAX);
        assert_null(json_object_get(tr, "from"));
        json_decref(j);
        lines_free(&l);
        verify_expect(f->path, 0, true, 0, 0, NULL);

        json_decref(extra);
        free(reason);
        free(accents);
}

int main(void) {
        const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
                T(test_golden),
                T(test_chain_and_reopen),
                T(test_key_order_nulls_extra),
                T(test_verify_flipped_byte),
                T(test_verify_deleted_line),
                T(test_verify_reordered),
                T(test_verify_forged_seq_and_prev),
                T(test_torn_last_line),
                T(test_open_refuses_damaged_tail),
                T(test_rotation),
                T(test_rotation_keep),
                T(test_crash_after_rotation_rename),
                T(test_filters),
                cmocka_unit_test(test_timestamps),
                T(test_reader_bad_lines),
                T(test_follow_across_rotation),
                T(test_sync_batching),
                T(test_close_syncs),
                T(test_huge_fields),
        };
        umask(022);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
