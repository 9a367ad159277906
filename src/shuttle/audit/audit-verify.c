/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Verifying the audit chain: every hash recomputed, seq +1 per record,
 * every prev equal to the previous record's hash, across rotated files.
 * Stops at the first problem and says where and what. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shuttle/audit/audit-internal.h"

typedef struct Verifier {
        AuditHasher h;
        AuditVerifyResult res;
        bool have_prev;
        uint64_t prev_seq;
        char prev_hash[AUDIT_HASH_HEX_LEN + 1];
        /* A line that is not a record: fine only if it is a torn fragment
         * that the very next record names in its "torn" marker. */
        bool pending;
        uint64_t pending_line, pending_offset, pending_len;
        const char *pending_problem;
        bool failed;
        /* The next record is the oldest one present: a gap if it does not
         * start the chain. */
        bool oldest_next;
        char gap_file[4096];
        uint64_t gap_line;
        char gap_prev[AUDIT_HASH_HEX_LEN + 1];
} Verifier;

_printf_(5, 6) static int fail(Verifier *v, const char *file, uint64_t line, uint64_t seq, const char *fmt, ...) {
        va_list ap;

        if (v->failed)
                return -EBADMSG;
        v->failed = true;
        v->res.ok = false;
        snprintf(v->res.file, sizeof(v->res.file), "%s", file);
        v->res.line = line;
        v->res.seq = seq;
        va_start(ap, fmt);
        vsnprintf(v->res.reason, sizeof(v->res.reason), fmt, ap);
        va_end(ap);
        return -EBADMSG;
}

static int fail_pending(Verifier *v, const char *file) {
        return fail(v, file, v->pending_line, 0, "%s", v->pending_problem);
}

/* The oldest record present continues a chain whose start is not here. */
static void note_gap(Verifier *v, const char *file, uint64_t line_no, uint64_t seq, const char *prev) {
        v->res.gap = true;
        v->res.gap_last_seq = seq - 1;
        snprintf(v->gap_file, sizeof(v->gap_file), "%s", file);
        v->gap_line = line_no;
        memcpy(v->gap_prev, prev, sizeof(v->gap_prev));
}

/* A drop record (audit.h) that deleted exactly what the gap ends with. */
static void match_drop(Verifier *v, const AuditParsedLine *p) {
        json_t *d = json_object_get(p->obj, "dropped");
        const char *ts;

        if (!d || v->res.gap_drop_record_seq > 0 ||
            (uint64_t) json_integer_value(json_object_get(d, "last_seq")) != v->res.gap_last_seq ||
            !json_is_string(json_object_get(d, "last_hash")) ||
            !streq(json_string_value(json_object_get(d, "last_hash")), v->gap_prev))
                return;
        v->res.gap_drop_record_seq = p->seq;
        v->res.gap_drop_first_seq = (uint64_t) MAX(json_integer_value(json_object_get(d, "first_seq")), 0);
        /* Into a message for a terminal: only what a timestamp holds. */
        ts = json_string_value(json_object_get(p->obj, "ts"));
        if (ts && strlen(ts) < sizeof(v->res.gap_drop_ts) && strspn(ts, "0123456789-T:.Z") == strlen(ts))
                memcpy(v->res.gap_drop_ts, ts, strlen(ts) + 1);
        else
                snprintf(v->res.gap_drop_ts, sizeof(v->res.gap_drop_ts), "?");
}

static int check_record(Verifier *v, const char *file, uint64_t line_no, AuditParsedLine *p) {
        if (v->pending) {
                if (!p->has_torn || p->torn_offset != v->pending_offset || p->torn_length != v->pending_len)
                        return fail_pending(v, file);
                v->pending = false;
                v->res.n_torn_recovered++;
        } else if (p->has_torn)
                return fail(v, file, line_no, p->seq, "torn marker does not match the torn line");

        if (v->have_prev) {
                if (p->seq != v->prev_seq + 1)
                        return fail(v, file, line_no, p->seq, "seq jumps from %" PRIu64 " to %" PRIu64, v->prev_seq,
                                    p->seq);
                if (!streq(p->prev, v->prev_hash))
                        return fail(v, file, line_no, p->seq, "prev does not match previous hash");
        } else {
                bool genesis = streq(p->prev, AUDIT_GENESIS_HASH);
                if (p->seq == 1 && !genesis)
                        return fail(v, file, line_no, p->seq,
                                    "first record has seq 1 but prev is not the genesis hash");
                if (p->seq != 1 && genesis)
                        return fail(v, file, line_no, p->seq,
                                    "chain starts with the genesis hash at seq %" PRIu64 ", not 1", p->seq);
                v->res.starts_at_genesis = genesis;
                v->res.first_seq = p->seq;
        }
        if (!streq(p->computed, p->hash))
                return fail(v, file, line_no, p->seq, "hash mismatch");
        if (v->oldest_next) {
                v->oldest_next = false;
                if (!streq(p->prev, AUDIT_GENESIS_HASH))
                        note_gap(v, file, line_no, p->seq, p->prev);
        }
        if (v->res.gap)
                match_drop(v, p);

        v->have_prev = true;
        v->prev_seq = p->seq;
        memcpy(v->prev_hash, p->hash, sizeof(v->prev_hash));
        v->res.n_records++;
        v->res.last_seq = p->seq;
        memcpy(v->res.last_hash, p->hash, sizeof(v->res.last_hash));
        return 0;
}

static int verify_file(Verifier *v, const char *file) {
        _cleanup_close_ int fd = -1;
        AuditLineReader lr = {};
        uint64_t line_no = 0;
        int r;

        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        v->res.n_files++;
        audit_line_reader_reset(&lr, fd);
        while (!v->failed) {
                AuditParsedLine p;
                const char *line, *problem;
                uint64_t offset;
                size_t len;

                r = audit_line_reader_next(&lr, &line, &len, &offset, &line_no);
                if (r == -E2BIG) {
                        fail(v, file, line_no, 0, "line longer than %u bytes", AUDIT_LINE_MAX);
                        break;
                }
                if (r < 0)
                        goto finish;
                if (r == 0) {
                        if (audit_line_reader_pending(&lr) > 0)
                                fail(v, file, lr.line_no + 1, 0, "torn last line (no newline)");
                        else if (v->pending)
                                (void) fail_pending(v, file);
                        break;
                }
                r = audit_parse_line(&v->h, line, len, &p, &problem);
                if (r == -EBADMSG) {
                        if (v->pending) {
                                (void) fail_pending(v, file);
                                break;
                        }
                        v->pending = true;
                        v->pending_line = line_no;
                        v->pending_offset = offset;
                        v->pending_len = len;
                        v->pending_problem = problem;
                        continue;
                }
                if (r < 0)
                        goto finish;
                (void) check_record(v, file, line_no, &p);
                audit_parsed_line_clear(&p);
        }
        r = 0;
finish:
        audit_line_reader_done(&lr);
        return r;
}

/* Without AUDIT_VERIFY_ROTATED: does the oldest rotated file start the
 * chain?  Only its first record is read (and its hash checked). */
static int check_oldest(Verifier *v, const char *file) {
        _cleanup_close_ int fd = -1;
        AuditLineReader lr = {};
        AuditParsedLine p;
        const char *line, *problem;
        uint64_t offset, line_no;
        size_t len;
        int r;

        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        audit_line_reader_reset(&lr, fd);
        r = audit_line_reader_next(&lr, &line, &len, &offset, &line_no);
        if (r > 0 && audit_parse_line(&v->h, line, len, &p, &problem) == 0) {
                if (!streq(p.computed, p.hash))
                        (void) fail(v, file, line_no, p.seq, "hash mismatch");
                else if (p.seq == 1 && !streq(p.prev, AUDIT_GENESIS_HASH))
                        (void) fail(v, file, line_no, p.seq, "first record has seq 1 but prev is not the genesis hash");
                else if (!streq(p.prev, AUDIT_GENESIS_HASH))
                        note_gap(v, file, line_no, p.seq, p.prev);
                audit_parsed_line_clear(&p);
        }
        audit_line_reader_done(&lr);
        return r < 0 && r != -E2BIG ? r : 0;
}

static void fail_gap(Verifier *v, unsigned flags) {
        const AuditVerifyResult *g = &v->res;

        if (g->gap_drop_record_seq == 0)
                (void) fail(v, v->gap_file, v->gap_line, g->gap_last_seq + 1,
                            "gap: records seq 1..%" PRIu64 " are not in the log%s", g->gap_last_seq,
                            flags & AUDIT_VERIFY_ROTATED ? " and no record says they were dropped"
                                                         : " (--all looks for the record of their removal)");
        else if (g->gap_drop_first_seq > 1)
                (void) fail(v, v->gap_file, v->gap_line, g->gap_last_seq + 1,
                            "gap: records seq 1..%" PRIu64 " are not in the log; seq %" PRIu64 "..%" PRIu64
                            " were deleted by rotation at %s (record seq %" PRIu64 ")",
                            g->gap_last_seq, g->gap_drop_first_seq, g->gap_last_seq, g->gap_drop_ts,
                            g->gap_drop_record_seq);
        else
                (void) fail(v, v->gap_file, v->gap_line, g->gap_last_seq + 1,
                            "gap: records seq 1..%" PRIu64 " are not in the log: deleted by rotation at %s "
                            "(record seq %" PRIu64 ")",
                            g->gap_last_seq, g->gap_drop_ts, g->gap_drop_record_seq);
}

_public_ int audit_verify(const char *path, unsigned flags, AuditVerifyResult *ret) {
        _cleanup_free_ Verifier *v = NULL;
        unsigned n = 0;
        int r;

        if (!path || !ret)
                return -EINVAL;
        if (access(path, F_OK) < 0)
                return -errno;
        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->res.ok = true;
        r = audit_hasher_init(&v->h);
        if (r < 0)
                return r;
        for (; n < AUDIT_KEEP_MAX; n++) {
                _cleanup_free_ char *p = NULL;
                r = audit_rotated_path(path, n + 1, &p);
                if (r < 0)
                        goto finish;
                if (access(p, F_OK) < 0)
                        break;
        }
        /* Invariant 10: whatever is checked, a gap at the start of what is
         * kept is reported. */
        v->oldest_next = true;
        if (!(flags & AUDIT_VERIFY_ROTATED) && n > 0) {
                _cleanup_free_ char *p = NULL;
                v->oldest_next = false;
                r = audit_rotated_path(path, n, &p);
                if (r < 0)
                        goto finish;
                r = check_oldest(v, p);
                if (r < 0)
                        goto finish;
                n = 0;
        }
        for (unsigned i = n; i > 0 && !v->failed; i--) {
                _cleanup_free_ char *p = NULL;
                r = audit_rotated_path(path, i, &p);
                if (r < 0)
                        goto finish;
                r = verify_file(v, p);
                if (r < 0)
                        goto finish;
                /* A fragment cannot be recovered from in the next file. */
                if (v->pending && !v->failed)
                        (void) fail_pending(v, p);
        }
        if (!v->failed) {
                r = verify_file(v, path);
                if (r < 0)
                        goto finish;
        }
        if (v->res.gap && !v->failed)
                fail_gap(v, flags);
        *ret = v->res;
        r = 0;
finish:
        audit_hasher_done(&v->h);
        return r;
}
