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

#include "shuttle/audit-internal.h"

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
        if (flags & AUDIT_VERIFY_ROTATED)
                for (; n < AUDIT_KEEP_MAX; n++) {
                        _cleanup_free_ char *p = NULL;
                        r = audit_rotated_path(path, n + 1, &p);
                        if (r < 0)
                                goto finish;
                        if (access(p, F_OK) < 0)
                                break;
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
        *ret = v->res;
        r = 0;
finish:
        audit_hasher_done(&v->h);
        return r;
}
