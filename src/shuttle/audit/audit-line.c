/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The line format shared by the writer, the reader and the verifier: the
 * hash definition and the shape checks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shuttle/audit/audit-internal.h"

int audit_hasher_init(AuditHasher *h) {
        EVP_MD *md;
        EVP_MD_CTX *ctx;

        md = EVP_MD_fetch(NULL, "SHA256", NULL);
        if (!md)
                return -ENOSYS;
        ctx = EVP_MD_CTX_new();
        if (!ctx) {
                EVP_MD_free(md);
                return -ENOMEM;
        }
        h->md = md;
        h->ctx = ctx;
        return 0;
}

void audit_hasher_done(AuditHasher *h) {
        EVP_MD_CTX_free(h->ctx);
        EVP_MD_free(h->md);
        h->ctx = NULL;
        h->md = NULL;
}

static void to_hex(const unsigned char *d, size_t n, char *out) {
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = hex[d[i] >> 4];
                out[2 * i + 1] = hex[d[i] & 15];
        }
        out[2 * n] = 0;
}

/* SHA-256(prev || "\n" || a || b) */
static int hash_parts(AuditHasher *h, const char *prev, const char *a, size_t alen, const char *b, size_t blen,
                      char ret[static AUDIT_HASH_HEX_LEN + 1]) {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1 ||
            EVP_DigestUpdate(h->ctx, prev, AUDIT_HASH_HEX_LEN) != 1 ||
            EVP_DigestUpdate(h->ctx, "\n", 1) != 1 ||
            EVP_DigestUpdate(h->ctx, a, alen) != 1 ||
            (blen > 0 && EVP_DigestUpdate(h->ctx, b, blen) != 1) ||
            EVP_DigestFinal_ex(h->ctx, d, &n) != 1 || n != 32)
                return -EIO;
        to_hex(d, n, ret);
        return 0;
}

int audit_hash_prefixed(AuditHasher *h, const char *data, size_t len, char ret[static AUDIT_HASH_HEX_LEN + 1]) {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1 || EVP_DigestUpdate(h->ctx, data, len) != 1 ||
            EVP_DigestFinal_ex(h->ctx, d, &n) != 1 || n != 32)
                return -EIO;
        to_hex(d, n, ret);
        return 0;
}

bool audit_hex64_is_valid(const char *s) {
        if (!s)
                return false;
        for (size_t i = 0; i < AUDIT_HASH_HEX_LEN; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return s[AUDIT_HASH_HEX_LEN] == 0;
}

/* Length of the line without its hash member, or 0 if it has none. */
static size_t body_length(const char *line, size_t len) {
        size_t b;

        if (len < AUDIT_HASH_SUFFIX_LEN + 2)
                return 0;
        b = len - AUDIT_HASH_SUFFIX_LEN;
        if (memcmp(line + b, AUDIT_HASH_PREFIX, STRLEN(AUDIT_HASH_PREFIX)) != 0 || line[len - 2] != '"' ||
            line[len - 1] != '}')
                return 0;
        for (size_t i = b + STRLEN(AUDIT_HASH_PREFIX); i < len - 2; i++)
                if (!((line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f')))
                        return 0;
        return b;
}

int audit_hash_line(AuditHasher *h, const char *prev, const char *line, size_t len,
                    char ret[static AUDIT_HASH_HEX_LEN + 1]) {
        size_t b = body_length(line, len);

        if (!audit_hex64_is_valid(prev))
                return -EINVAL;
        if (b == 0)
                return -EBADMSG;
        return hash_parts(h, prev, line, b, "}", 1, ret);
}

_public_ int audit_line_hash(const char *prev_hex, const char *line, size_t len,
                             char ret_hex[static AUDIT_HASH_HEX_LEN + 1]) {
        AuditHasher h;
        char out[AUDIT_HASH_HEX_LEN + 1];
        int r;

        r = audit_hasher_init(&h);
        if (r < 0)
                return r;
        r = audit_hash_line(&h, prev_hex, line, len, out);
        audit_hasher_done(&h);
        if (r < 0)
                return r;
        memcpy(ret_hex, out, sizeof(out));
        return 0;
}

static bool get_uint(json_t *v, uint64_t *ret) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return false;
        *ret = (uint64_t) json_integer_value(v);
        return true;
}

int audit_parse_line(AuditHasher *h, const char *line, size_t len, AuditParsedLine *ret,
                     const char **ret_problem) {
        AuditParsedLine p = {};
        json_error_t err;
        json_t *v;
        int r;

        if (len > AUDIT_LINE_MAX) {
                *ret_problem = "line too long";
                return -EBADMSG;
        }
        p.obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
        if (!p.obj || !json_is_object(p.obj)) {
                *ret_problem = "not JSON";
                goto fail;
        }
        if (!json_is_string(json_object_get(p.obj, "ts"))) {
                *ret_problem = "not a record (missing or invalid ts)";
                goto fail;
        }
        if (!get_uint(json_object_get(p.obj, "seq"), &p.seq) || p.seq == 0) {
                *ret_problem = "not a record (missing or invalid seq)";
                goto fail;
        }
        p.prev = json_string_value(json_object_get(p.obj, "prev"));
        if (!audit_hex64_is_valid(p.prev)) {
                *ret_problem = "not a record (missing or invalid prev)";
                goto fail;
        }
        p.hash = json_string_value(json_object_get(p.obj, "hash"));
        if (!audit_hex64_is_valid(p.hash)) {
                *ret_problem = "not a record (missing or invalid hash)";
                goto fail;
        }
        /* The hash member must be the last bytes of the line, and be the
         * member the JSON parser saw (no second copy hidden elsewhere:
         * duplicates are rejected above). */
        if (body_length(line, len) == 0 ||
            memcmp(line + len - 2 - AUDIT_HASH_HEX_LEN, p.hash, AUDIT_HASH_HEX_LEN) != 0) {
                *ret_problem = "no hash at end of line";
                goto fail;
        }
        v = json_object_get(p.obj, "torn");
        if (v) {
                if (!json_is_object(v) || !get_uint(json_object_get(v, "offset"), &p.torn_offset) ||
                    !get_uint(json_object_get(v, "length"), &p.torn_length)) {
                        *ret_problem = "not a record (invalid torn)";
                        goto fail;
                }
                p.has_torn = true;
        }
        r = audit_hash_line(h, p.prev, line, len, p.computed);
        if (r < 0) {
                json_decref(p.obj);
                return r;
        }
        *ret = p;
        return 0;
fail:
        json_decref(p.obj);
        return -EBADMSG;
}

void audit_parsed_line_clear(AuditParsedLine *p) {
        json_decref(p->obj);
        *p = (AuditParsedLine) {};
}

int audit_rotated_path(const char *path, unsigned i, char **ret) {
        char *s;

        if (asprintf(&s, "%s.%u", path, i) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}
