/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One audit record's line, formatted straight into the writer's buffer:
 * the bytes jansson's compact dump of the record as an object gives (what
 * the writer made before), without building a tree per record.  The format
 * is in audit.h and docs/AUDIT.md. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/time-util.h"
#include "shuttle/audit/audit-internal.h"

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

/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ": the date and time formatted once per
 * second, the microseconds by hand. */
static void format_ts(AuditLineBuf *b, uint64_t usec, char out[static AUDIT_TIMESTAMP_MAX]) {
        time_t sec = (time_t) (usec / 1000000U);
        unsigned frac = (unsigned) (usec % 1000000U);

        if (sec != b->ts_sec || !b->ts_prefix[0]) {
                struct tm tm;
                if (!gmtime_r(&sec, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
                        audit_format_timestamp(usec, out);
                        return;
                }
                snprintf(b->ts_prefix, sizeof(b->ts_prefix), "%04d-%02d-%02dT%02d:%02d:%02d",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
                b->ts_sec = sec;
        }
        /* The prefix is 19 bytes (the year is checked above). */
        memcpy(out, b->ts_prefix, 19);
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

/* ---- the record, written directly into the line buffer ----
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

typedef struct RecordWriter {
        AuditLineBuf *b;
        size_t pos; /* next byte in b->buf */
        /* Bytes from DEL up were written: escape_unsafe() may have work. */
        bool high;
        struct {
                const char *name;
                uint64_t length;
        } truncated[ELEMENTSOF(string_fields) + AUDIT_EXTRA_KEYS_MAX];
        size_t n_truncated;
} RecordWriter;

static int buf_grow(AuditLineBuf *b, size_t need) {
        size_t sz = MAX(MAX(need, 2 * b->size), (size_t) 4096);
        char *nb;

        nb = realloc(b->buf, sz);
        if (!nb)
                return -ENOMEM;
        b->buf = nb;
        b->size = sz;
        return 0;
}

static inline int rw_reserve(RecordWriter *w, size_t n) {
        size_t need = w->pos + n + AUDIT_RECORD_SLACK;

        if (n > AUDIT_LINE_MAX || w->pos - AUDIT_BODY_OFFSET + n > AUDIT_LINE_MAX - AUDIT_RECORD_SLACK)
                return -E2BIG; /* cannot happen with the field limits */
        return need <= w->b->size ? 0 : buf_grow(w->b, need);
}

static inline int rw_raw(RecordWriter *w, const char *s, size_t n) {
        int r = rw_reserve(w, n);
        if (r < 0)
                return r;
        memcpy(w->b->buf + w->pos, s, n);
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
        o = start = w->b->buf + w->pos;
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
        if (json_dumpb(v, w->b->buf + w->pos, size, JSON_COMPACT | JSON_ENCODE_ANY) != size)
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

/* Text from a container may hold C1 controls, bidi overrides and other
 * characters that are harmless in JSON but not on a terminal (a `grep` or
 * `tail` of the log shows them raw): they go into the line as \u escapes.
 * Most lines are ASCII, so the check is one pass over the bytes. */
static int escape_unsafe(AuditLineBuf *b, size_t *n) {
        char *body = b->buf + AUDIT_BODY_OFFSET;
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
        if (m > AUDIT_LINE_MAX - AUDIT_RECORD_SLACK)
                return -E2BIG;
        tmp = malloc(m);
        if (!tmp)
                return -ENOMEM;
        audit_json_escape(body, *n, tmp);
        if (AUDIT_BODY_OFFSET + m + AUDIT_RECORD_SLACK > b->size) {
                int r = buf_grow(b, AUDIT_BODY_OFFSET + m + AUDIT_RECORD_SLACK);
                if (r < 0)
                        return r;
        }
        memcpy(b->buf + AUDIT_BODY_OFFSET, tmp, m);
        *n = m;
        return 0;
}

/* The record without its hash member, in the documented key order, at
 * log->buf + AUDIT_BODY_OFFSET; returns its length in *ret_len, and in *ret_high whether
 * it may hold characters escape_unsafe() escapes. */
int audit_record_format(AuditLineBuf *b, const AuditRecord *rec, uint64_t seq, const char *prev,
                        const AuditTorn *torn, size_t *ret_len) {
#define K(s) { ",\"" s "\":", STRLEN(",\"" s "\":") }
        static const struct {
                const char *s;
                size_t n;
        } field_keys[] = {
                K("group"), K("from"), K("to"), K("kind"), K("op"), K("object"), K("decision"), K("rule"), K("reason"),
        };
#undef K
        RecordWriter w = { .b = b, .pos = AUDIT_BODY_OFFSET };
        char ts[AUDIT_TIMESTAMP_MAX];
        const char *key;
        json_t *v;
        int r;

        static_assert(ELEMENTSOF(field_keys) == ELEMENTSOF(string_fields), "one key per field");

        r = check_extra(rec->extra);
        if (r < 0)
                return r;
        format_ts(b, rec->ts_usec ? rec->ts_usec : clock_usec(CLOCK_REALTIME), ts);
        r = rw_literal(&w, "{\"ts\":");
        if (r < 0)
                return r;
        r = rw_string(&w, ts, strlen(ts));
        if (r < 0)
                return r;
        r = rw_literal(&w, ",\"seq\":");
        if (r < 0)
                return r;
        r = rw_int(&w, (json_int_t) seq);
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
        if (torn) {
                r = rw_literal(&w, ",\"torn\":{\"offset\":");
                if (r >= 0)
                        r = rw_int(&w, (json_int_t) torn->offset);
                if (r >= 0)
                        r = rw_literal(&w, ",\"length\":");
                if (r >= 0)
                        r = rw_int(&w, (json_int_t) torn->length);
                if (r >= 0)
                        r = rw_literal(&w, "}");
                if (r < 0)
                        return r;
        }
        r = rw_literal(&w, ",\"prev\":\"");
        if (r >= 0)
                r = rw_raw(&w, prev, AUDIT_HASH_HEX_LEN);
        if (r >= 0)
                r = rw_literal(&w, "\"}");
        if (r < 0)
                return r;
        *ret_len = w.pos - AUDIT_BODY_OFFSET;
        /* Bytes from DEL up (or a dump of jansson's, not looked at): the
         * characters a terminal would misread become \u escapes. */
        return w.high ? escape_unsafe(b, ret_len) : 0;
}
