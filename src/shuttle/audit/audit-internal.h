/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between the audit writer, reader and verifier; not for callers. */

#include <time.h>

#include <openssl/evp.h>

#include "common/macro.h"
#include "shuttle/audit/audit.h"

/* The last member of every line: ,"hash":"<64 hex>"} */
#define AUDIT_HASH_PREFIX ",\"hash\":\""
#define AUDIT_HASH_SUFFIX_LEN (STRLEN(AUDIT_HASH_PREFIX) + AUDIT_HASH_HEX_LEN + 2)

/* One fetched SHA-256 implementation and a reusable context: fetching per
 * record (what EVP_Digest(..., EVP_sha256(), ...) does under OpenSSL 3)
 * costs more than hashing a record. */
typedef struct AuditHasher {
        EVP_MD *md;
        EVP_MD_CTX *ctx;
} AuditHasher;

int audit_hasher_init(AuditHasher *h);
void audit_hasher_done(AuditHasher *h);

/* hex(SHA-256(data)), data being prev || "\n" || the record without its
 * hash member (as serialized, ending in '}'), in one piece (the writer
 * lays it out so). */
int audit_hash_prefixed(AuditHasher *h, const char *data, size_t len, char ret[static AUDIT_HASH_HEX_LEN + 1]);
/* The same for a written line (no newline): hashes the line minus its hash
 * member.  -EBADMSG if the line does not end with one. */
int audit_hash_line(AuditHasher *h, const char *prev, const char *line, size_t len,
                    char ret[static AUDIT_HASH_HEX_LEN + 1]);

bool audit_hex64_is_valid(const char *s);

/* The writer's line buffer: prev '\n' body, what the hash is over in one
 * piece (the newline also ends a torn fragment when one is in the file),
 * and room for the hash member after the body. */
#define AUDIT_BODY_OFFSET (AUDIT_HASH_HEX_LEN + 1)
#define AUDIT_RECORD_SLACK (AUDIT_HASH_SUFFIX_LEN + 2)
typedef struct AuditLineBuf {
        char *buf;
        size_t size;
        time_t ts_sec; /* the second ts_prefix is of */
        char ts_prefix[32];
} AuditLineBuf;

typedef struct AuditTorn {
        uint64_t offset, length;
} AuditTorn;

/* Formats record number seq, chained to prev (64 hex digits) and naming
 * the torn fragment before it if torn is not NULL, into b->buf from
 * AUDIT_BODY_OFFSET on: the line without its hash member, ending in '}',
 * *ret_len bytes (audit-format.c).  -EINVAL or -E2BIG for a bad extra,
 * -ENOMEM. */
int audit_record_format(AuditLineBuf *b, const AuditRecord *rec, uint64_t seq, const char *prev,
                        const AuditTorn *torn, size_t *ret_len);

/* A line parsed as a record.  obj is owned. */
typedef struct AuditParsedLine {
        json_t *obj;
        uint64_t seq;
        const char *prev; /* into obj */
        const char *hash; /* into obj */
        char computed[AUDIT_HASH_HEX_LEN + 1];
        /* "torn" marker, if present */
        bool has_torn;
        uint64_t torn_offset, torn_length;
} AuditParsedLine;

/* Parses and checks the shape of one line (no newline): a JSON object with
 * ts, seq (>= 1), prev and hash (64 lowercase hex), hash as the last member,
 * a well-formed "torn" if present; and computes the hash.  Does NOT compare
 * hashes or links.  On failure returns -EBADMSG and *ret_problem says why
 * (a static string); ret is untouched. */
int audit_parse_line(AuditHasher *h, const char *line, size_t len, AuditParsedLine *ret,
                     const char **ret_problem);
void audit_parsed_line_clear(AuditParsedLine *p);

/* The code point at s (*ret_cp) and its length in bytes, or 0 if s does
 * not start with a valid UTF-8 sequence (overlong forms, surrogates and
 * values above U+10FFFF are invalid) or n is 0. */
size_t audit_utf8_decode(const char *s, size_t n, uint32_t *ret_cp);
/* C0, DEL, C1, format characters (Cf: bidi controls, zero-width ones,
 * tags) and the line/paragraph separators. */
bool audit_codepoint_is_unsafe(uint32_t cp);

/* PATH.i */
int audit_rotated_path(const char *path, unsigned i, char **ret);

/* Buffered line splitting over one fd, for the reader and the verifier. */
typedef struct AuditLineReader {
        int fd;          /* borrowed */
        char *buf;
        size_t cap, start, end;
        uint64_t offset; /* file offset of buf[start] */
        uint64_t line_no;
        bool skipping;   /* inside an overlong line */
} AuditLineReader;

/* 1 with the next complete line (no newline; NUL-terminated in place, valid
 * until the next call), its file offset and number; 0 at end of file (a
 * partial last line stays buffered: audit_line_reader_pending()); -E2BIG
 * for a line longer than AUDIT_LINE_MAX (skipped; *ret_line_no says which);
 * other negative errno on read errors. */
int audit_line_reader_next(AuditLineReader *lr, const char **ret_line, size_t *ret_len, uint64_t *ret_offset,
                           uint64_t *ret_line_no);
size_t audit_line_reader_pending(const AuditLineReader *lr);
void audit_line_reader_reset(AuditLineReader *lr, int fd);
void audit_line_reader_done(AuditLineReader *lr);
