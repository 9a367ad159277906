/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The audit log: one JSON object per line, hash-chained, appended by the
 * broker and read, filtered and verified by `shuttlectl audit`.  The format
 * is specified in docs/AUDIT.md; the short version:
 *
 *   {"ts":"2024-05-01T12:00:00.123456Z","seq":42,"group":"webapp",
 *    "from":"web","to":"db","kind":"ipc","op":"connect","object":"kv",
 *    "decision":"allow","rule":"web-uses-kv","reason":null,
 *    ...extra keys...,"truncated":{...},"torn":{...},
 *    "prev":"<64 hex>","hash":"<64 hex>"}
 *
 * Key order is fixed as above.  The nine string fields are always present;
 * a NULL field is written as JSON null.  "truncated" and "torn" appear only
 * when they apply.  "hash" is always the last key, and is defined on the
 * bytes of the line itself, so a third party can recompute it without a
 * JSON serializer:
 *
 *   line  = BODY ',"hash":"' HEX64 '"}' '\n'
 *   hash  = lowercase hex of SHA-256( prev_hex || "\n" || BODY || "}" )
 *
 * i.e. the line with its trailing `,"hash":"..."` member removed.  "prev" is
 * the previous record's hash, or AUDIT_GENESIS_HASH (64 zeros) for the very
 * first record.  "seq" starts at 1 and goes up by exactly 1 per record,
 * across rotations.
 *
 * Durability: each record is one write(2) on an O_APPEND descriptor; records
 * are fdatasync()ed in batches, at the latest after sync_interval_usec
 * (default 100 ms) or sync_records records (default 1024), whichever comes
 * first, and on audit_log_flush()/audit_log_close() and before a rotation.
 * A crash (power loss, kernel panic) loses at most the unsynced batch; a
 * crash of the broker process alone loses nothing that write(2) accepted.
 *
 * All functions return 0 (or a documented positive value) on success and a
 * negative errno on failure, leaving outputs untouched on failure.  Nothing
 * here logs. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#define AUDIT_DEFAULT_PATH "/var/log/shuttle/audit.jsonl"

/* prev of the first record of a chain. */
#define AUDIT_GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_HASH_HEX_LEN 64

/* A string field (and a string value in extra) longer than this many bytes
 * is cut at a UTF-8 character boundary to at most this many bytes; the
 * record then carries "truncated":{"<field>":<original length in bytes>}.
 * A non-string extra value whose compact JSON is longer is replaced by null
 * and listed the same way.  Invalid UTF-8 is replaced by U+FFFD per bad
 * byte (the log is always valid JSON). */
#define AUDIT_FIELD_MAX 4096
/* extra: at most this many keys, each at most AUDIT_EXTRA_KEY_MAX bytes. */
#define AUDIT_EXTRA_KEYS_MAX 32
#define AUDIT_EXTRA_KEY_MAX 64
/* Readers and the verifier reject longer lines.  A record written by this
 * library is always shorter (the limits above bound it to ~1 MiB worst case
 * with every byte escaped). */
#define AUDIT_LINE_MAX (2U * 1024U * 1024U)

#define AUDIT_DEFAULT_MAX_SIZE (UINT64_C(64) * 1024 * 1024)
#define AUDIT_DEFAULT_KEEP 8
#define AUDIT_DEFAULT_SYNC_INTERVAL_USEC UINT64_C(100000)
#define AUDIT_DEFAULT_SYNC_RECORDS 1024
#define AUDIT_KEEP_MAX 999
/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" and a NUL. */
#define AUDIT_TIMESTAMP_MAX 28

typedef struct AuditLogOptions {
        /* Rotate before a record would make the file larger than this.
         * 0 = AUDIT_DEFAULT_MAX_SIZE; UINT64_MAX = never rotate.  (A file
         * that ends in a drop record, below, is larger by that record.) */
        uint64_t max_size;
        /* Rotated files kept: PATH.1 (newest) ... PATH.keep (oldest); older
         * ones are deleted.  0 = AUDIT_DEFAULT_KEEP; at most AUDIT_KEEP_MAX.
         * Never silently (invariant 10): before a rotation deletes PATH.keep
         * the writer appends a record {"kind":"audit","op":"drop",
         * "object":"<base>.<keep>","decision":"dropped",...,"dropped":{"file",
         * "first_seq","last_seq","last_hash","bytes"}} to the current file,
         * and audit_verify() reports the gap it leaves as a failure. */
        unsigned keep;
        /* fdatasync batching: at the latest this long after the first
         * unsynced record, or after this many unsynced records.
         * 0 = the defaults; sync_records = 1 syncs every record. */
        uint64_t sync_interval_usec;
        unsigned sync_records;
        /* Group commit: audit_log_append() never syncs (nor does
         * audit_log_tick()); the caller syncs off its own thread with
         * audit_log_sync_begin() and audit_log_sync_done().  Rotation and
         * close still sync first. */
        bool defer_sync;
        /* Mode of created files; 0 = 0640. */
        mode_t mode;
} AuditLogOptions;

typedef struct AuditRecord {
        /* Any may be NULL (written as null).  Borrowed. */
        const char *group;
        const char *from;
        const char *to;
        const char *kind;     /* ipc, invoke, transfer, depend, signal, protocol, ... */
        const char *op;       /* connect, exec, open, kill, register, malformed, ... */
        const char *object;   /* endpoint, app or path */
        const char *decision; /* "allow", "deny", "refused", ... */
        const char *rule;     /* id of the deciding rule, NULL for the default */
        const char *reason;
        /* Optional JSON object; its keys are written after "reason", in
         * its order.  Keys must not be one of the record's own keys (ts, seq,
         * group, from, to, kind, op, object, decision, rule, reason,
         * truncated, torn, prev, hash), empty, longer than
         * AUDIT_EXTRA_KEY_MAX or not UTF-8: -EINVAL.  Borrowed. */
        json_t *extra;
        /* CLOCK_REALTIME in microseconds; 0 = now. */
        uint64_t ts_usec;
} AuditRecord;

typedef struct AuditLog AuditLog;

/* Opens (creating with O_CREAT, mode opts->mode) the log at path for
 * appending and takes an exclusive flock() on it (-EBUSY if another process
 * holds it).  The tail of an existing file is read to continue seq and the
 * chain; an empty or missing file continues from the last record of PATH.1
 * if that exists (a crash between rotation and the first new record), else
 * starts at seq 1 with prev = AUDIT_GENESIS_HASH.  The last complete line
 * must be a valid record with a correct hash, else -EBADMSG (the file is
 * not touched; move it aside).  A torn last line (a crash in the middle of
 * a write) is left as it is; the next record starts on a new line and
 * carries "torn":{"offset":O,"length":L} naming the fragment, chained to
 * the last complete record.  opts may be NULL. */
int audit_log_open(const char *path, const AuditLogOptions *opts, AuditLog **ret);

/* Syncs pending records and closes.  Returns the first error seen while
 * syncing (the log is freed in every case).  NULL is fine. */
int audit_log_close(AuditLog *log);
void audit_log_closep(AuditLog **log);

/* Appends one record; assigns ts (unless given), seq, prev and hash.  May
 * rotate and may fdatasync (see the batching above).  On -EINVAL/-E2BIG
 * (bad extra) nothing is written.  After an I/O error the record is not in
 * the chain (seq and prev are not advanced) and the call can be retried. */
int audit_log_append(AuditLog *log, const AuditRecord *record);

/* The event loop's hooks: audit_log_tick() syncs if the oldest unsynced
 * record is sync_interval_usec old at now_usec (CLOCK_MONOTONIC);
 * audit_log_next_sync_usec() returns when that will be (CLOCK_MONOTONIC,
 * UINT64_MAX if nothing is pending), for the loop's timeout.
 * audit_log_flush() syncs now if anything is pending. */
int audit_log_tick(AuditLog *log, uint64_t now_usec);
uint64_t audit_log_next_sync_usec(const AuditLog *log);
int audit_log_flush(AuditLog *log);

/* Group commit (defer_sync): audit_log_sync_begin() returns 0 if every
 * record is synced, else 1 with a new descriptor of the current file (the
 * caller closes it) and the seq of the last record written; once
 * fdatasync() of that descriptor succeeded, audit_log_sync_done() marks
 * every record up to that seq durable.  The fdatasync() may run on
 * another thread; the log itself is not touched meanwhile.
 * audit_log_get_synced_seq(): the last seq known to be on disk. */
int audit_log_sync_begin(AuditLog *log, int *ret_fd, uint64_t *ret_seq);
void audit_log_sync_done(AuditLog *log, uint64_t seq);
uint64_t audit_log_get_synced_seq(const AuditLog *log);

/* State, for status output and tests. */
uint64_t audit_log_get_seq(const AuditLog *log);         /* last seq written, 0 if none */
const char *audit_log_get_last_hash(const AuditLog *log); /* prev of the next record */
unsigned audit_log_get_unsynced(const AuditLog *log);     /* records not yet fdatasync()ed */
uint64_t audit_log_get_n_syncs(const AuditLog *log);      /* fdatasync() calls so far */
uint64_t audit_log_get_n_rotations(const AuditLog *log);
uint64_t audit_log_get_n_drops(const AuditLog *log);      /* rotations that deleted a file */

/* Hash of one line (without its newline), as defined above.  ret_hex gets
 * 64 hex digits and a NUL.  -EBADMSG if the line does not end with a
 * well-formed "hash" member. */
int audit_line_hash(const char *prev_hex, const char *line, size_t len, char ret_hex[static AUDIT_HASH_HEX_LEN + 1]);

/* ---- showing text from containers ---- */

/* Unsafe characters (C0 and C1 controls, DEL, bidi controls such as U+202E,
 * other format characters of category Cf, U+2028/U+2029) are never shown
 * raw: the writer stores them as JSON \u escapes, the table shows them as
 * \u202e (\U000e0001 beyond the BMP), bytes that are not UTF-8 as \xff,
 * and a backslash as \\ (so the escapes are unambiguous). */

/* One display unit of s (n > 0): writes what to print into out (NUL-
 * terminated) and returns its length; *ret_in gets the input bytes it
 * stands for. */
#define AUDIT_TEXT_UNIT_MAX 11
size_t audit_text_unit(const char *s, size_t n, char out[static AUDIT_TEXT_UNIT_MAX], size_t *ret_in);
/* The whole of s[0..n) escaped like that, malloc'ed. */
int audit_escape_text(const char *s, size_t n, char **ret);
/* A JSON text with every unsafe character (from DEL up) replaced by its
 * \u escape (a surrogate pair beyond the BMP), and bytes that are not UTF-8
 * by \ufffd.  Writes to out (if not NULL; at most 12 bytes per input byte)
 * and returns the output length; equal to n exactly when nothing needed
 * escaping.  Only correct on JSON: raw bytes from DEL up are only ever
 * inside strings. */
size_t audit_json_escape(const char *in, size_t n, char *out);

/* ---- verification ---- */

typedef enum AuditVerifyFlags {
        /* Also verify the rotated predecessors PATH.N ... PATH.1 that exist
         * (oldest first, stopping at the first gap in the numbering) and
         * the links between the files. */
        AUDIT_VERIFY_ROTATED = 1 << 0,
} AuditVerifyFlags;

typedef struct AuditVerifyResult {
        bool ok;
        uint64_t n_files;
        uint64_t n_records;       /* valid records checked */
        uint64_t first_seq;       /* 0 if no records */
        uint64_t last_seq;
        bool starts_at_genesis;   /* first record's prev is AUDIT_GENESIS_HASH */
        uint64_t n_torn_recovered; /* torn lines the writer recovered from (not errors) */
        char last_hash[AUDIT_HASH_HEX_LEN + 1];
        /* The first problem, if !ok: */
        char file[4096];
        uint64_t line;            /* 1-based, within file */
        uint64_t seq;             /* seq of the broken record if it has one, else 0 */
        char reason[256];         /* "hash mismatch", "seq jumps from 41 to 43", ... */
        /* A gap (invariant 10): the oldest record present does not start
         * the chain (seq 1, genesis prev), so seq 1..gap_last_seq are not
         * in the log.  Always a failure; when nothing else is broken, file,
         * line and seq name the first record after the gap.  If a drop
         * record accounts for the last of the missing records (its
         * last_seq and last_hash are what that first record continues),
         * gap_drop_record_seq is its seq, gap_drop_ts its time and
         * gap_drop_first_seq the first seq of the file it deleted (0 if it
         * could not say). */
        bool gap;
        uint64_t gap_last_seq;
        uint64_t gap_drop_record_seq;
        uint64_t gap_drop_first_seq;
        char gap_drop_ts[AUDIT_TIMESTAMP_MAX];
} AuditVerifyResult;

/* Verifies the chain in path (see flags).  Returns 0 when the files could
 * be read, with ret->ok telling the verdict; -ENOENT if path is missing,
 * another negative errno on I/O errors.  Without AUDIT_VERIFY_ROTATED only
 * path is checked, but a gap is still found: the first record of the
 * oldest rotated file (or of path, if there is none) is read to see
 * whether the retained history starts the chain.  Problems it names: "not JSON",
 * "not a record (missing or invalid KEY)", "no hash at end of line",
 * "line longer than N bytes", "torn last line (no newline)", "hash
 * mismatch", "prev does not match previous hash", "seq jumps from A to B",
 * "first record has seq 1 but prev is not the genesis hash", "torn marker
 * does not match the torn line". */
int audit_verify(const char *path, unsigned flags, AuditVerifyResult *ret);

/* ---- reading and filtering ---- */

typedef struct AuditFilter {
        /* NULL = any.  from/to/kind are shell globs (fnmatch); decision is
         * compared exactly. */
        const char *from;
        const char *to;
        const char *kind;
        const char *decision;
        uint64_t since_usec; /* records with ts >= this (CLOCK_REALTIME µs); 0 = any */
} AuditFilter;

bool audit_filter_match(const AuditFilter *filter, json_t *record);

/* "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.5+02:00", "2024-05-01 12:00:00"
 * (UTC) → microseconds since the epoch. */
int audit_parse_timestamp(const char *s, uint64_t *ret_usec);
/* A point in time as operators write it for --since (`audit`, `logs`):
 * RFC 3339 (2024-05-01T12:00:00Z) or an age before now_usec (30s, 10m,
 * 1h).  -EINVAL for anything else. */
int audit_parse_since(const char *s, uint64_t now_usec, uint64_t *ret_usec);
/* Writes "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" (AUDIT_TIMESTAMP_MAX bytes with
 * the NUL). */
char *audit_format_timestamp(uint64_t usec, char buf[static AUDIT_TIMESTAMP_MAX]);

typedef struct AuditReader AuditReader;

/* Reads records from path in order.  With AUDIT_VERIFY_ROTATED-like
 * semantics when rotated is true: starts at the oldest PATH.N. */
int audit_reader_open(const char *path, bool rotated, AuditReader **ret);
void audit_reader_free(AuditReader *r);
void audit_reader_freep(AuditReader **r);

/* Next line: 1 with *ret_record (a new reference) and the raw line (valid
 * until the next call, without newline); 0 at the end of the data written
 * so far (a partial last line is held back, not returned); -EBADMSG for a
 * line that is not a JSON object (the reader moves past it; *ret_line and
 * audit_reader_get_line_number() say which); other negative errno on I/O
 * errors.  ret_line and ret_len may be NULL. */
int audit_reader_next(AuditReader *r, json_t **ret_record, const char **ret_line, size_t *ret_len);
uint64_t audit_reader_get_line_number(const AuditReader *r);
const char *audit_reader_get_file(const AuditReader *r);

/* For --follow, after audit_reader_next() returned 0: waits up to
 * timeout_usec (UINT64_MAX = forever) for the file to grow or be replaced
 * (rotation: once the old file is drained, the reader switches to the new
 * file at PATH and starts from its beginning).  Returns 1 if there may be
 * more to read, 0 on timeout.  Uses inotify on the directory, with a 1 s
 * fallback poll. */
int audit_reader_wait(AuditReader *r, uint64_t timeout_usec);
