/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit log writer: hash-chained JSON lines, one write(2) each on an
 * O_APPEND descriptor, fdatasync() in batches, rotation by size that keeps
 * the chain (a record's line itself is formatted in audit-format.c).  The
 * format is in audit.h and docs/AUDIT.md. */
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

        AuditLineBuf line;
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
        free(log->line.buf);
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

_public_ int audit_log_append(AuditLog *log, const AuditRecord *rec) {
        char hash[AUDIT_HASH_HEX_LEN + 1];
        size_t n, len, written;
        uint64_t mono;
        char *line;
        int r;

        if (!log || !rec)
                return -EINVAL;
        if (log->broken)
                return -EIO;
        /* buf = prev '\n' JSON-without-hash; the hash is over all of it,
         * then the hash member replaces the closing brace. */
        r = audit_record_format(&log->line, rec, log->seq + 1, log->last_hash,
                                log->torn ? &(AuditTorn) { log->torn_offset, log->torn_length } : NULL, &n);
        if (r < 0)
                return r;
        memcpy(log->line.buf, log->last_hash, AUDIT_HASH_HEX_LEN);
        log->line.buf[AUDIT_HASH_HEX_LEN] = '\n';
        r = audit_hash_prefixed(&log->hasher, log->line.buf, AUDIT_BODY_OFFSET + n, hash);
        if (r < 0)
                return r;
        line = log->line.buf + AUDIT_BODY_OFFSET;
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
