/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit log writer: hash-chained JSON lines, one write(2) each on an
 * O_APPEND descriptor, fdatasync() in batches, rotation by size that keeps
 * the chain.  The format is in audit.h and docs/AUDIT.md. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/time-util.h"
#include "shuttle/audit/audit-internal.h"

#define TAIL_CHUNK (64U * 1024U)
/* A torn fragment and the last complete record are each shorter than a
 * line, so this much of the tail always holds both. */
#define TAIL_MAX (2U * AUDIT_LINE_MAX + 2U)

struct AuditLog {
        char *path;
        char *base; /* file name within dir_fd */
        int dir_fd;
        int fd;
        AuditLogOptions opts;
        AuditHasher hasher;

        uint64_t seq;
        char last_hash[AUDIT_HASH_HEX_LEN + 1];
        uint64_t size;

        /* A torn fragment at the end of the file, left by a crash: the next
         * record starts with a newline and carries "torn". */
        bool torn;
        uint64_t torn_offset, torn_length;
        /* A failed write we could not roll back: refuse to append until
         * reopened (audit_log_open() handles the torn line). */
        bool broken;

        unsigned unsynced;
        uint64_t first_unsynced_usec;
        uint64_t synced_seq; /* every record up to it is on disk */
        uint64_t n_syncs, n_rotations, n_drops;
        /* Writing the record that announces a drop (no rotation for it). */
        bool dropping;

        char *buf;
        size_t buf_size;
        time_t ts_sec;
        char ts_prefix[32];
};

static const char *const reserved_keys[] = {
        "ts", "seq", "group", "from", "to", "kind", "op", "object", "decision",
        "rule", "reason", "truncated", "torn", "prev", "hash",
};

static const struct {
        const char *name;
        size_t offset;
} string_fields[] = {
        { "group", offsetof(AuditRecord, group) },
        { "from", offsetof(AuditRecord, from) },
        { "to", offsetof(AuditRecord, to) },
        { "kind", offsetof(AuditRecord, kind) },
        { "op", offsetof(AuditRecord, op) },
        { "object", offsetof(AuditRecord, object) },
        { "decision", offsetof(AuditRecord, decision) },
        { "rule", offsetof(AuditRecord, rule) },
        { "reason", offsetof(AuditRecord, reason) },
};

static int read_full_at(int fd, char *buf, size_t n, uint64_t offset) {
        size_t done = 0;

        while (done < n) {
                ssize_t k = pread(fd, buf + done, n - done, (off_t) (offset + done));
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO; /* shrank under us */
                done += (size_t) k;
        }
        return 0;
}

typedef struct TailState {
        bool have_record;
        uint64_t seq;
        char hash[AUDIT_HASH_HEX_LEN + 1];
        bool torn;
        uint64_t torn_offset, torn_length;
} TailState;

static const char *memrchr_nl(const char *buf, size_t n) {
        return n ? memrchr(buf, '\n', n) : NULL;
}

/* Finds the last complete line of the file and the torn fragment after it,
 * reading backwards in growing windows. */
static int read_tail(AuditHasher *h, int fd, uint64_t size, TailState *ret) {
        _cleanup_free_ char *buf = NULL;
        TailState t = {};
        size_t w = 0;

        if (size == 0) {
                *ret = t;
                return 0;
        }
        for (;;) {
                const char *nl, *start;
                size_t want = (size_t) MIN((uint64_t) (w ? 2 * w : TAIL_CHUNK), size);
                uint64_t base;
                char *nb;
                int r;

                if (want > TAIL_MAX)
                        return -EBADMSG;
                nb = realloc(buf, want);
                if (!nb)
                        return -ENOMEM;
                buf = nb;
                w = want;
                base = size - w;
                r = read_full_at(fd, buf, w, base);
                if (r < 0)
                        return r;

                nl = memrchr_nl(buf, w);
                if (!nl) {
                        if (base > 0)
                                continue;
                        /* Nothing but a fragment. */
                        t.torn = true;
                        t.torn_offset = 0;
                        t.torn_length = size;
                        *ret = t;
                        return 0;
                }
                if ((size_t) (nl - buf) != w - 1) {
                        t.torn = true;
                        t.torn_offset = base + (uint64_t) (nl - buf) + 1;
                        t.torn_length = size - t.torn_offset;
                }
                start = memrchr_nl(buf, (size_t) (nl - buf));
                if (!start && base > 0)
                        continue;
                start = start ? start + 1 : buf;

                AuditParsedLine p;
                const char *problem;
                r = audit_parse_line(h, start, (size_t) (nl - start), &p, &problem);
                if (r < 0)
                        return r;
                if (!streq(p.computed, p.hash)) {
                        audit_parsed_line_clear(&p);
                        return -EBADMSG;
                }
                t.have_record = true;
                t.seq = p.seq;
                memcpy(t.hash, p.hash, sizeof(t.hash));
                audit_parsed_line_clear(&p);
                *ret = t;
                return 0;
        }
}

static int options_resolve(const AuditLogOptions *in, AuditLogOptions *out) {
        AuditLogOptions o = in ? *in : (AuditLogOptions) {};

        if (o.max_size == 0)
                o.max_size = AUDIT_DEFAULT_MAX_SIZE;
        if (o.keep == 0)
                o.keep = AUDIT_DEFAULT_KEEP;
        if (o.keep > AUDIT_KEEP_MAX)
                return -EINVAL;
        if (o.sync_interval_usec == 0)
                o.sync_interval_usec = AUDIT_DEFAULT_SYNC_INTERVAL_USEC;
        if (o.sync_records == 0)
                o.sync_records = AUDIT_DEFAULT_SYNC_RECORDS;
        if (o.mode == 0)
                o.mode = 0640;
        if (o.mode & ~07777)
                return -EINVAL;
        *out = o;
        return 0;
}

static void audit_log_free(AuditLog *log) {
        if (!log)
                return;
        safe_close(log->fd);
        safe_close(log->dir_fd);
        audit_hasher_done(&log->hasher);
        free(log->path);
        free(log->base);
        free(log->buf);
        free(log);
}

static void audit_log_freep(AuditLog **log) {
        audit_log_free(*log);
}

/* Opens (creating) the file at base and locks it.  The caller owns the fd. */
static int open_locked(AuditLog *log, uint64_t *ret_size) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = openat(log->dir_fd, log->base, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, log->opts.mode);
        if (fd < 0)
                return -errno;
        /* One writer per log: a second broker on the same file would fork
         * the chain. */
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        *ret_size = (uint64_t) st.st_size;
        return TAKE_FD(fd);
}

_public_ int audit_log_open(const char *path, const AuditLogOptions *opts, AuditLog **ret) {
        _cleanup_(audit_log_freep) AuditLog *log = NULL;
        _cleanup_free_ char *dir = NULL;
        TailState t;
        const char *slash;
        int r;

        if (!path || !*path || !ret)
                return -EINVAL;
        log = calloc(1, sizeof(*log));
        if (!log)
                return -ENOMEM;
        log->fd = log->dir_fd = -1;
        r = options_resolve(opts, &log->opts);
        if (r < 0)
                return r;
        log->path = strdup(path);
        if (!log->path)
                return -ENOMEM;
        slash = strrchr(path, '/');
        dir = slash ? strndup(path, slash == path ? 1 : (size_t) (slash - path)) : strdup(".");
        log->base = strdup(slash ? slash + 1 : path);
        if (!dir || !log->base)
                return -ENOMEM;
        if (!*log->base || strlen(log->base) > NAME_MAX)
                return -EINVAL;
        r = audit_hasher_init(&log->hasher);
        if (r < 0)
                return r;
        log->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (log->dir_fd < 0)
                return -errno;
        r = open_locked(log, &log->size);
        if (r < 0)
                return r;
        log->fd = r;

        r = read_tail(&log->hasher, log->fd, log->size, &t);
        if (r < 0)
                return r;
        if (!t.have_record) {
                /* A new (or fragment-only) file: continue the chain of the
                 * newest rotated file, if any.  That covers a crash between
                 * a rotation and the first record of the new file. */
                _cleanup_free_ char *p1 = NULL;
                _cleanup_close_ int fd1 = -1;
                struct stat st;
                TailState t1;

                r = audit_rotated_path(log->base, 1, &p1);
                if (r < 0)
                        return r;
                fd1 = openat(log->dir_fd, p1, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd1 < 0 && errno != ENOENT)
                        return -errno;
                if (fd1 >= 0) {
                        if (fstat(fd1, &st) < 0)
                                return -errno;
                        r = read_tail(&log->hasher, fd1, (uint64_t) st.st_size, &t1);
                        if (r < 0)
                                return r;
                        if (t1.have_record) {
                                t.have_record = true;
                                t.seq = t1.seq;
                                memcpy(t.hash, t1.hash, sizeof(t.hash));
                        }
                }
        }
        log->seq = t.have_record ? t.seq : 0;
        log->synced_seq = log->seq;
        memcpy(log->last_hash, t.have_record ? t.hash : AUDIT_GENESIS_HASH, sizeof(log->last_hash));
        log->torn = t.torn;
        log->torn_offset = t.torn_offset;
        log->torn_length = t.torn_length;
        *ret = TAKE_PTR(log);
        return 0;
}

static int log_sync(AuditLog *log) {
        if (log->unsynced == 0)
                return 0;
        if (fdatasync(log->fd) < 0)
                return -errno;
        log->unsynced = 0;
        log->synced_seq = log->seq;
        log->n_syncs++;
        return 0;
}

_public_ int audit_log_sync_begin(AuditLog *log, int *ret_fd, uint64_t *ret_seq) {
        int fd;

        if (!log || !ret_fd || !ret_seq)
                return -EINVAL;
        if (log->synced_seq >= log->seq)
                return 0;
        fd = fcntl(log->fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        *ret_seq = log->seq;
        return 1;
}

_public_ void audit_log_sync_done(AuditLog *log, uint64_t seq) {
        if (!log || seq <= log->synced_seq || seq > log->seq)
                return;
        log->synced_seq = seq;
        log->n_syncs++;
        if (seq == log->seq)
                log->unsynced = 0;
}

_public_ uint64_t audit_log_get_synced_seq(const AuditLog *log) {
        return log ? log->synced_seq : 0;
}

_public_ int audit_log_flush(AuditLog *log) {
        if (!log)
                return -EINVAL;
        return log_sync(log);
}

_public_ int audit_log_tick(AuditLog *log, uint64_t now) {
        if (!log)
                return -EINVAL;
        if (!log->opts.defer_sync && log->unsynced > 0 &&
            now >= log->first_unsynced_usec + log->opts.sync_interval_usec)
                return log_sync(log);
        return 0;
}

_public_ uint64_t audit_log_next_sync_usec(const AuditLog *log) {
        if (!log || log->unsynced == 0 || log->opts.defer_sync)
                return UINT64_MAX;
        return log->first_unsynced_usec + log->opts.sync_interval_usec;
}

_public_ int audit_log_close(AuditLog *log) {
        int r;

        if (!log)
                return 0;
        r = log_sync(log);
        audit_log_free(log);
        return r;
}

_public_ void audit_log_closep(AuditLog **log) {
        audit_log_close(*log);
}

_public_ uint64_t audit_log_get_seq(const AuditLog *log) {
        return log->seq;
}
_public_ const char *audit_log_get_last_hash(const AuditLog *log) {
        return log->last_hash;
}
_public_ unsigned audit_log_get_unsynced(const AuditLog *log) {
        return log->unsynced;
}
_public_ uint64_t audit_log_get_n_syncs(const AuditLog *log) {
        return log->n_syncs;
}
_public_ uint64_t audit_log_get_n_rotations(const AuditLog *log) {
        return log->n_rotations;
}
_public_ uint64_t audit_log_get_n_drops(const AuditLog *log) {
        return log->n_drops;
}

/* PATH → PATH.1 → ... → PATH.keep (the old PATH.keep is replaced, i.e.
 * deleted), then a new PATH.  The chain state is untouched: the first
 * record of the new file links to the last one of PATH.1. */
static int rotate(AuditLog *log) {
        char from[NAME_MAX + 16], to[NAME_MAX + 16];
        size_t n = sizeof(from);
        uint64_t size;
        int fd;

        /* Everything in the old file is on disk before it is renamed. */
        if (fdatasync(log->fd) < 0)
                return -errno;
        if (log->unsynced > 0)
                log->n_syncs++;
        log->unsynced = 0;
        log->synced_seq = log->seq;
        for (unsigned i = log->opts.keep; i > 1; i--) {
                snprintf(from, n, "%s.%u", log->base, i - 1);
                snprintf(to, n, "%s.%u", log->base, i);
                if (renameat(log->dir_fd, from, log->dir_fd, to) < 0 && errno != ENOENT)
                        return -errno;
        }
        snprintf(to, n, "%s.1", log->base);
        if (renameat(log->dir_fd, log->base, log->dir_fd, to) < 0)
                return -errno;
        fd = open_locked(log, &size);
        if (fd < 0)
                return fd;
        safe_close(log->fd);
        log->fd = fd;
        log->size = size;
        log->n_rotations++;
        /* The renames are durable too, or a crash could resurrect the old
         * name with records the new file also continues from. */
        if (fsync(log->dir_fd) < 0)
                return -errno;
        return 0;
}

/* What deleting the rotated file `name` (open as fd) loses: its first and
 * last seq, the hash of its last record (the prev of the first record
 * kept) and its size.  Whatever cannot be read is null: the record that
 * announces the drop is written anyway. */
static json_t *drop_info(AuditLog *log, const char *name, int fd) {
        AuditLineReader lr = {};
        json_t *first = json_null(), *last = json_null(), *hash = json_null();
        const char *line;
        size_t len;
        uint64_t offset, line_no;
        struct stat st;
        TailState t;

        if (fstat(fd, &st) < 0)
                st.st_size = 0;
        audit_line_reader_reset(&lr, fd);
        if (audit_line_reader_next(&lr, &line, &len, &offset, &line_no) > 0) {
                AuditParsedLine p;
                const char *problem;
                if (audit_parse_line(&log->hasher, line, len, &p, &problem) == 0) {
                        first = json_integer((json_int_t) p.seq);
                        audit_parsed_line_clear(&p);
                }
        }
        audit_line_reader_done(&lr);
        if (read_tail(&log->hasher, fd, (uint64_t) st.st_size, &t) == 0 && t.have_record) {
                last = json_integer((json_int_t) t.seq);
                hash = json_string(t.hash);
        }
        return json_pack("{s:s,s:o*,s:o*,s:o*,s:I}", "file", name, "first_seq", first, "last_seq", last,
                         "last_hash", hash, "bytes", (json_int_t) st.st_size);
}

/* Invariant 10: a rotation that deletes the oldest file says so first, in
 * the chain, so the log never loses records silently (and --verify can
 * name what is gone).  Written before the deletion: a crash in between
 * leaves a record of a drop that did not happen yet, never the reverse.
 * Returns 1 if a record was written, 0 if nothing is deleted. */
static int note_drop(AuditLog *log) {
        char name[NAME_MAX + 16], reason[160];
        _cleanup_close_ int fd = -1;
        _cleanup_(json_decrefp) json_t *extra = NULL;
        int r;

        snprintf(name, sizeof(name), "%s.%u", log->base, log->opts.keep);
        fd = openat(log->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        extra = json_pack("{s:o*}", "dropped", drop_info(log, name, fd));
        if (!extra)
                return -ENOMEM;
        snprintf(reason, sizeof(reason), "retention: %u rotated files of at most %" PRIu64 " bytes are kept",
                 log->opts.keep, log->opts.max_size);
        log->dropping = true;
        r = audit_log_append(log, &(AuditRecord) { .kind = "audit", .op = "drop", .object = name,
                                                    .decision = "dropped", .reason = reason, .extra = extra });
        log->dropping = false;
        if (r < 0)
                return r;
        log->n_drops++;
        return 1;
}

/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ": the date and time formatted once per
 * second, the microseconds by hand. */
static void format_ts(AuditLog *log, uint64_t usec, char out[static AUDIT_TIMESTAMP_MAX]) {
        time_t sec = (time_t) (usec / 1000000U);
        unsigned frac = (unsigned) (usec % 1000000U);

        if (sec != log->ts_sec || !log->ts_prefix[0]) {
                struct tm tm;
                if (!gmtime_r(&sec, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
                        audit_format_timestamp(usec, out);
                        return;
                }
                snprintf(log->ts_prefix, sizeof(log->ts_prefix), "%04d-%02d-%02dT%02d:%02d:%02d",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
                log->ts_sec = sec;
        }
        /* The prefix is 19 bytes (the year is checked above). */
        memcpy(out, log->ts_prefix, 19);
        out[19] = '.';
        for (int i = 25; i >= 20; i--, frac /= 10)
                out[i] = (char) ('0' + frac % 10);
        out[26] = 'Z';
        out[27] = 0;
}

/* Copies s[0..n) to out (at least max bytes) with every byte that does not
 * start a valid UTF-8 sequence replaced by U+FFFD, stopping before the
 * output would exceed max bytes.  Returns the output length; *ret_cut says
 * whether it stopped early. */
static size_t sanitize_utf8(const char *s, size_t n, size_t max, char *out, bool *ret_cut) {
        size_t o = 0, i = 0;

        while (i < n) {
                uint32_t cp;
                size_t l = audit_utf8_decode(s + i, n - i, &cp);
                size_t ol = l ? l : 3;
                if (o + ol > max)
                        break;
                if (l)
                        memcpy(out + o, s + i, l);
                else
                        memcpy(out + o, "\xEF\xBF\xBD", 3);
                o += ol;
                i += l ? l : 1;
        }
        *ret_cut = i < n;
        return o;
}

/* ---- the record, written directly into log->buf ----
 *
 * The bytes are those jansson's json_dumpb(JSON_COMPACT) makes of the
 * record built as an object with the keys in the documented order (which
 * is how this writer made them before): strings escaped as jansson does
 * (\" \\ \b \f \n \r \t, other C0 controls as \u00XX in upper case,
 * everything else as it is, the line then going through escape_unsafe()),
 * integers in decimal, nested objects and arrays and reals of extra dumped
 * by jansson itself.  test-audit-writer holds the two side by side.
 * Building and dumping a jansson tree per record had cost more than
 * hashing and writing it. */

/* buf = prev '\n' body: what the hash is over, in one piece (the newline
 * also ends a torn fragment when one is in the file).  Room for the hash
 * member is kept after the body. */
#define BODY_OFFSET (AUDIT_HASH_HEX_LEN + 1)
#define RECORD_SLACK (AUDIT_HASH_SUFFIX_LEN + 2)

typedef struct RecordWriter {
        AuditLog *log;
        size_t pos; /* next byte in log->buf */
        /* Bytes from DEL up were written: escape_unsafe() may have work. */
        bool high;
        struct {
                const char *name;
                uint64_t length;
        } truncated[ELEMENTSOF(string_fields) + AUDIT_EXTRA_KEYS_MAX];
        size_t n_truncated;
} RecordWriter;

static int buf_grow(AuditLog *log, size_t need) {
        size_t sz = MAX(MAX(need, 2 * log->buf_size), (size_t) 4096);
        char *nb;

        nb = realloc(log->buf, sz);
        if (!nb)
                return -ENOMEM;
        log->buf = nb;
        log->buf_size = sz;
        return 0;
}

static inline int rw_reserve(RecordWriter *w, size_t n) {
        size_t need = w->pos + n + RECORD_SLACK;

        if (n > AUDIT_LINE_MAX || w->pos - BODY_OFFSET + n > AUDIT_LINE_MAX - RECORD_SLACK)
                return -E2BIG; /* cannot happen with the field limits */
        return need <= w->log->buf_size ? 0 : buf_grow(w->log, need);
}

static inline int rw_raw(RecordWriter *w, const char *s, size_t n) {
        int r = rw_reserve(w, n);
        if (r < 0)
                return r;
        memcpy(w->log->buf + w->pos, s, n);
        w->pos += n;
        return 0;
}

#define rw_literal(w, s) rw_raw((w), "" s, STRLEN(s))

static int rw_int(RecordWriter *w, json_int_t v) {
        char tmp[24];
        size_t i = sizeof(tmp);
        uint64_t u = v < 0 ? -(uint64_t) v : (uint64_t) v;

        do {
                tmp[--i] = (char) ('0' + u % 10);
                u /= 10;
        } while (u > 0);
        if (v < 0)
                tmp[--i] = '-';
        return rw_raw(w, tmp + i, sizeof(tmp) - i);
}

/* What a byte of a string needs: 0 nothing, 1 a JSON escape, 2 a look
 * (DEL, or the start of a multi-byte sequence to check). */
static const uint8_t byte_class[256] = {
        [0x00 ... 0x1F] = 1, ['"'] = 1, ['\\'] = 1, [0x7F ... 0xFF] = 2,
};

/* s[0..n) as a JSON string; -EILSEQ (the output position unchanged) if it
 * is not valid UTF-8. */
static int rw_string(RecordWriter *w, const char *s, size_t n) {
        static const char hex[] = "0123456789ABCDEF";
        const unsigned char *u = (const unsigned char *) s;
        char *o, *start;
        int r;

        r = rw_reserve(w, 6 * n + 2);
        if (r < 0)
                return r;
        o = start = w->log->buf + w->pos;
        *o++ = '"';
        for (size_t i = 0; i < n;) {
                unsigned char c = u[i];

                switch (byte_class[c]) {
                case 0:
                        *o++ = (char) c;
                        i++;
                        continue;
                case 2: {
                        uint32_t cp;
                        size_t l = audit_utf8_decode(s + i, n - i, &cp);

                        if (l == 0)
                                return -EILSEQ;
                        memcpy(o, s + i, l);
                        o += l;
                        i += l;
                        w->high = true;
                        continue;
                }
                }
                *o++ = '\\';
                switch (c) {
                case '"':
                case '\\':
                        *o++ = (char) c;
                        break;
                case '\b':
                        *o++ = 'b';
                        break;
                case '\f':
                        *o++ = 'f';
                        break;
                case '\n':
                        *o++ = 'n';
                        break;
                case '\r':
                        *o++ = 'r';
                        break;
                case '\t':
                        *o++ = 't';
                        break;
                default:
                        *o++ = 'u';
                        *o++ = '0';
                        *o++ = '0';
                        *o++ = hex[c >> 4];
                        *o++ = hex[c & 15];
                }
                i++;
        }
        *o++ = '"';
        w->pos += (size_t) (o - start);
        return 0;
}

static void rw_truncated(RecordWriter *w, const char *name, uint64_t length) {
        assert(w->n_truncated < ELEMENTSOF(w->truncated));
        w->truncated[w->n_truncated].name = name;
        w->truncated[w->n_truncated].length = length;
        w->n_truncated++;
}

/* A string value, cut to AUDIT_FIELD_MAX bytes at a character boundary and
 * made valid UTF-8; notes the original length when it had to cut. */
static int rw_string_value(RecordWriter *w, const char *name, const char *s) {
        size_t len = strlen(s), n = MIN(len, (size_t) AUDIT_FIELD_MAX);
        bool cut = n < len;
        int r;

        if (cut)
                while (n > 0 && (((unsigned char) s[n]) & 0xC0) == 0x80)
                        n--;
        r = rw_string(w, s, n);
        if (r == -EILSEQ) {
                _cleanup_free_ char *tmp = malloc(AUDIT_FIELD_MAX);
                if (!tmp)
                        return -ENOMEM;
                n = sanitize_utf8(s, len, AUDIT_FIELD_MAX, tmp, &cut);
                r = rw_string(w, tmp, n);
        }
        if (r < 0)
                return r;
        if (cut)
                rw_truncated(w, name, len);
        return 0;
}

/* A value of extra: strings as the record's own; an object or array whose
 * compact JSON is longer than AUDIT_FIELD_MAX becomes null. */
static int rw_extra_value(RecordWriter *w, const char *key, json_t *v) {
        size_t size;
        int r;

        switch (json_typeof(v)) {
        case JSON_STRING:
                return rw_string_value(w, key, json_string_value(v));
        case JSON_INTEGER:
                return rw_int(w, json_integer_value(v));
        case JSON_TRUE:
                return rw_literal(w, "true");
        case JSON_FALSE:
                return rw_literal(w, "false");
        case JSON_NULL:
                return rw_literal(w, "null");
        case JSON_REAL:
                size = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
                break;
        case JSON_OBJECT:
        case JSON_ARRAY:
                size = json_dumpb(v, NULL, 0, JSON_COMPACT);
                if (size > AUDIT_FIELD_MAX) {
                        rw_truncated(w, key, size);
                        return rw_literal(w, "null");
                }
                break;
        default:
                return -EINVAL;
        }
        if (size == 0)
                return -ENOMEM;
        r = rw_reserve(w, size);
        if (r < 0)
                return r;
        if (json_dumpb(v, w->log->buf + w->pos, size, JSON_COMPACT | JSON_ENCODE_ANY) != size)
                return -ENOMEM;
        w->pos += size;
        w->high = true; /* not looked at: escape_unsafe() will */
        return 0;
}

static int check_extra(json_t *extra) {
        if (!extra)
                return 0;
        if (!json_is_object(extra))
                return -EINVAL;
        if (json_object_size(extra) > AUDIT_EXTRA_KEYS_MAX)
                return -E2BIG;
        return 0;
}

static bool key_is_reserved(const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(reserved_keys); i++)
                if (key[0] == reserved_keys[i][0] && streq(key, reserved_keys[i]))
                        return true;
        return false;
}

/* ,"key": of extra; -EINVAL for a key that is empty, too long, a record
 * key, or not UTF-8 (as jansson refused it when the record was an
 * object). */
static int rw_extra_key(RecordWriter *w, const char *key) {
        size_t n = strlen(key);
        int r;

        if (n == 0 || n > AUDIT_EXTRA_KEY_MAX || key_is_reserved(key))
                return -EINVAL;
        r = rw_literal(w, ",");
        if (r >= 0)
                r = rw_string(w, key, n);
        if (r == -EILSEQ)
                return -EINVAL;
        if (r >= 0)
                r = rw_literal(w, ":");
        return r;
}

/* The record without its hash member, in the documented key order, at
 * log->buf + BODY_OFFSET; returns its length in *ret_len, and in *ret_high whether
 * it may hold characters escape_unsafe() escapes. */
static int build_record(AuditLog *log, const AuditRecord *rec, size_t *ret_len, bool *ret_high) {
#define K(s) { ",\"" s "\":", STRLEN(",\"" s "\":") }
        static const struct {
                const char *s;
                size_t n;
        } field_keys[] = {
                K("group"), K("from"), K("to"), K("kind"), K("op"), K("object"), K("decision"), K("rule"), K("reason"),
        };
#undef K
        RecordWriter w = { .log = log, .pos = BODY_OFFSET };
        char ts[AUDIT_TIMESTAMP_MAX];
        const char *key;
        json_t *v;
        int r;

        static_assert(ELEMENTSOF(field_keys) == ELEMENTSOF(string_fields), "one key per field");

        format_ts(log, rec->ts_usec ? rec->ts_usec : clock_usec(CLOCK_REALTIME), ts);
        r = rw_literal(&w, "{\"ts\":");
        if (r < 0)
                return r;
        r = rw_string(&w, ts, strlen(ts));
        if (r < 0)
                return r;
        r = rw_literal(&w, ",\"seq\":");
        if (r < 0)
                return r;
        r = rw_int(&w, (json_int_t) (log->seq + 1));
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(string_fields); i++) {
                const char *s = *(const char *const *) ((const char *) rec + string_fields[i].offset);

                r = rw_raw(&w, field_keys[i].s, field_keys[i].n);
                if (r >= 0)
                        r = s ? rw_string_value(&w, string_fields[i].name, s) : rw_literal(&w, "null");
                if (r < 0)
                        return r;
        }
        if (rec->extra)
                json_object_foreach(rec->extra, key, v) {
                        r = rw_extra_key(&w, key);
                        if (r >= 0)
                                r = rw_extra_value(&w, key, v);
                        if (r < 0)
                                return r;
                }
        if (w.n_truncated > 0) {
                r = rw_literal(&w, ",\"truncated\":{");
                for (size_t i = 0; r >= 0 && i < w.n_truncated; i++) {
                        if (i > 0)
                                r = rw_literal(&w, ",");
                        if (r >= 0)
                                r = rw_string(&w, w.truncated[i].name, strlen(w.truncated[i].name));
                        if (r >= 0)
                                r = rw_literal(&w, ":");
                        if (r >= 0)
                                r = rw_int(&w, (json_int_t) w.truncated[i].length);
                }
                if (r >= 0)
                        r = rw_literal(&w, "}");
                if (r < 0)
                        return r;
        }
        if (log->torn) {
                r = rw_literal(&w, ",\"torn\":{\"offset\":");
                if (r >= 0)
                        r = rw_int(&w, (json_int_t) log->torn_offset);
                if (r >= 0)
                        r = rw_literal(&w, ",\"length\":");
                if (r >= 0)
                        r = rw_int(&w, (json_int_t) log->torn_length);
                if (r >= 0)
                        r = rw_literal(&w, "}");
                if (r < 0)
                        return r;
        }
        r = rw_literal(&w, ",\"prev\":\"");
        if (r >= 0)
                r = rw_raw(&w, log->last_hash, AUDIT_HASH_HEX_LEN);
        if (r >= 0)
                r = rw_literal(&w, "\"}");
        if (r < 0)
                return r;
        *ret_len = w.pos - BODY_OFFSET;
        *ret_high = w.high;
        return 0;
}

static int write_all(int fd, const char *p, size_t n, size_t *ret_written) {
        size_t done = 0;

        while (done < n) {
                ssize_t k = write(fd, p + done, n - done);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        *ret_written = done;
                        return -errno;
                }
                if (k == 0) {
                        *ret_written = done;
                        return -EIO;
                }
                done += (size_t) k;
        }
        *ret_written = done;
        return 0;
}

/* Text from a container may hold C1 controls, bidi overrides and other
 * characters that are harmless in JSON but not on a terminal (a `grep` or
 * `tail` of the log shows them raw): they go into the line as \u escapes.
 * Most lines are ASCII, so the check is one pass over the bytes. */
static int escape_unsafe(AuditLog *log, size_t *n) {
        char *body = log->buf + BODY_OFFSET;
        const unsigned char *p = (const unsigned char *) body;
        _cleanup_free_ char *tmp = NULL;
        size_t i, m;

        for (i = 0; i < *n; i++)
                if (p[i] >= 0x7F)
                        break;
        if (i == *n)
                return 0;
        m = audit_json_escape(body, *n, NULL);
        if (m == *n)
                return 0;
        if (m > AUDIT_LINE_MAX - RECORD_SLACK)
                return -E2BIG;
        tmp = malloc(m);
        if (!tmp)
                return -ENOMEM;
        audit_json_escape(body, *n, tmp);
        if (BODY_OFFSET + m + RECORD_SLACK > log->buf_size) {
                int r = buf_grow(log, BODY_OFFSET + m + RECORD_SLACK);
                if (r < 0)
                        return r;
        }
        memcpy(log->buf + BODY_OFFSET, tmp, m);
        *n = m;
        return 0;
}

_public_ int audit_log_append(AuditLog *log, const AuditRecord *rec) {
        char hash[AUDIT_HASH_HEX_LEN + 1];
        size_t n, len, written;
        uint64_t mono;
        bool high;
        char *line;
        int r;

        if (!log || !rec)
                return -EINVAL;
        if (log->broken)
                return -EIO;
        r = check_extra(rec->extra);
        if (r < 0)
                return r;

        /* buf = prev '\n' JSON-without-hash; the hash is over all of it,
         * then the hash member replaces the closing brace. */
        r = build_record(log, rec, &n, &high);
        if (r < 0)
                return r;
        if (high) {
                r = escape_unsafe(log, &n);
                if (r < 0)
                        return r;
        }
        memcpy(log->buf, log->last_hash, AUDIT_HASH_HEX_LEN);
        log->buf[AUDIT_HASH_HEX_LEN] = '\n';
        r = audit_hash_prefixed(&log->hasher, log->buf, BODY_OFFSET + n, hash);
        if (r < 0)
                return r;
        line = log->buf + BODY_OFFSET;
        len = n - 1;
        memcpy(line + len, AUDIT_HASH_PREFIX, STRLEN(AUDIT_HASH_PREFIX));
        len += STRLEN(AUDIT_HASH_PREFIX);
        memcpy(line + len, hash, AUDIT_HASH_HEX_LEN);
        len += AUDIT_HASH_HEX_LEN;
        memcpy(line + len, "\"}\n", 3);
        len += 3;
        if (log->torn) {
                /* the newline after prev ends the fragment */
                line--;
                len++;
        }

        /* A torn fragment stays in the file it is in, with the record that
         * names it right after it, so no rotation until that is written. */
        if (!log->torn && !log->dropping && log->size > 0 && log->opts.max_size != UINT64_MAX &&
            log->size + len > log->opts.max_size) {
                bool dropped;
                r = note_drop(log);
                if (r < 0)
                        return r;
                dropped = r > 0;
                r = rotate(log);
                if (r < 0)
                        return r;
                /* The drop record moved the chain on: build this one again
                 * (into the new, empty file: no second rotation). */
                if (dropped)
                        return audit_log_append(log, rec);
        }

        r = write_all(log->fd, line, len, &written);
        if (r < 0) {
                /* Roll back our own partial line (disk full, file size
                 * limit), so the file stays a sequence of whole records. */
                if (written > 0 && ftruncate(log->fd, (off_t) log->size) < 0)
                        log->broken = true;
                return r;
        }
        log->size += len;
        log->seq++;
        memcpy(log->last_hash, hash, sizeof(hash));
        log->torn = false;

        /* Group commit: the caller syncs, and no deadline is kept here. */
        if (log->opts.defer_sync) {
                log->unsynced++;
                return 0;
        }
        mono = clock_usec(CLOCK_MONOTONIC);
        if (log->unsynced++ == 0)
                log->first_unsynced_usec = mono;
        /* The record is in the chain from here on; a sync error only puts
         * its durability in doubt, and is returned. */
        if (log->unsynced >= log->opts.sync_records || mono >= log->first_unsynced_usec + log->opts.sync_interval_usec)
                return log_sync(log);
        return 0;
}
