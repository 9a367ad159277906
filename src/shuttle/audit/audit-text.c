/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Text from containers on an operator's screen: which characters are
 * unsafe to show raw, and how they are escaped in the table and in JSON.
 *
 * Every string field of a record can come from a container (an endpoint,
 * a path, an app's arguments).  Shown raw, a control character moves the
 * cursor or rewrites the terminal, and a bidi override (U+202E) or another
 * invisible format character makes one name look like another ("evil"
 * U+202E "fdp.txt" reads as "eviltxt.pdf").  So the writer never puts them
 * raw into a line, and the reader escapes what an older writer left there. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shuttle/audit/audit-internal.h"

/* Unicode general category Cf (format: bidi controls, zero-width
 * characters, tags, ...), as of Unicode 15.1, plus the line and paragraph
 * separators (Zl, Zp) that some terminals treat as line breaks. */
static const struct {
        uint32_t lo, hi;
} unsafe_ranges[] = {
        { 0x00AD, 0x00AD },   { 0x0600, 0x0605 },   { 0x061C, 0x061C },   { 0x06DD, 0x06DD },
        { 0x070F, 0x070F },   { 0x0890, 0x0891 },   { 0x08E2, 0x08E2 },   { 0x180E, 0x180E },
        { 0x200B, 0x200F },   { 0x2028, 0x202E },   { 0x2060, 0x2064 },   { 0x2066, 0x206F },
        { 0xFEFF, 0xFEFF },   { 0xFFF9, 0xFFFB },   { 0x110BD, 0x110BD }, { 0x110CD, 0x110CD },
        { 0x13430, 0x1343F }, { 0x1BCA0, 0x1BCA3 }, { 0x1D173, 0x1D17A }, { 0xE0001, 0xE0001 },
        { 0xE0020, 0xE007F },
};

bool audit_codepoint_is_unsafe(uint32_t cp) {
        /* C0, DEL, C1 */
        if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
                return true;
        if (cp < 0xAD)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(unsafe_ranges); i++) {
                if (cp < unsafe_ranges[i].lo)
                        return false;
                if (cp <= unsafe_ranges[i].hi)
                        return true;
        }
        return false;
}

size_t audit_utf8_decode(const char *str, size_t n, uint32_t *ret_cp) {
        const unsigned char *s = (const unsigned char *) str;
        unsigned char c;
        size_t len;
        uint32_t cp;

        if (n == 0)
                return 0;
        c = s[0];
        if (c < 0x80) {
                *ret_cp = c;
                return 1;
        }
        if (c >= 0xC2 && c <= 0xDF)
                len = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
                len = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
                len = 4, cp = c & 0x07;
        else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3F);
        }
        /* Overlong forms, surrogates, beyond U+10FFFF. */
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) || (c == 0xF0 && s[1] < 0x90) ||
            (c == 0xF4 && s[1] > 0x8F))
                return 0;
        *ret_cp = cp;
        return len;
}

_public_ size_t audit_text_unit(const char *s, size_t n, char out[static AUDIT_TEXT_UNIT_MAX], size_t *ret_in) {
        uint32_t cp = 0;
        size_t l = audit_utf8_decode(s, n, &cp);

        if (l == 0) {
                *ret_in = 1;
                return (size_t) snprintf(out, AUDIT_TEXT_UNIT_MAX, "\\x%02x", (unsigned) (unsigned char) s[0]);
        }
        *ret_in = l;
        if (cp == '\\')
                return (size_t) snprintf(out, AUDIT_TEXT_UNIT_MAX, "\\\\");
        if (audit_codepoint_is_unsafe(cp))
                return (size_t) snprintf(out, AUDIT_TEXT_UNIT_MAX, cp > 0xFFFF ? "\\U%08x" : "\\u%04x",
                                         (unsigned) cp);
        memcpy(out, s, l);
        out[l] = 0;
        return l;
}

_public_ int audit_escape_text(const char *s, size_t n, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t o = 0, i = 0;

        /* No unit is longer than 10 bytes for one input byte ("\U000e0001"
         * takes 4 bytes): 10 bytes per input byte bound the output. */
        buf = malloc(n * 10 + 1);
        if (!buf)
                return -ENOMEM;
        while (i < n) {
                size_t in;
                o += audit_text_unit(s + i, n - i, buf + o, &in);
                i += in;
        }
        buf[o] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* \uXXXX, or a surrogate pair beyond the BMP. */
static size_t json_u_escape(uint32_t cp, char *out) {
        char tmp[13];
        size_t n;

        if (cp > 0xFFFF) {
                cp -= 0x10000;
                n = (size_t) snprintf(tmp, sizeof(tmp), "\\u%04x\\u%04x", (unsigned) (0xD800 + (cp >> 10)),
                                      (unsigned) (0xDC00 + (cp & 0x3FF)));
        } else
                n = (size_t) snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned) cp);
        if (out)
                memcpy(out, tmp, n);
        return n;
}

_public_ size_t audit_json_escape(const char *in, size_t n, char *out) {
        size_t o = 0, i = 0;

        while (i < n) {
                unsigned char c = (unsigned char) in[i];
                uint32_t cp;
                size_t l;

                /* Compact JSON has no raw C0 (the serializer escapes them);
                 * anything from 0x7F up may need work. */
                if (c < 0x7F) {
                        if (out)
                                out[o] = (char) c;
                        o++, i++;
                        continue;
                }
                l = audit_utf8_decode(in + i, n - i, &cp);
                if (l == 0) {
                        /* Not from a JSON serializer; the reader would have
                         * refused the line.  Never print it raw. */
                        o += json_u_escape(0xFFFD, out ? out + o : NULL);
                        i++;
                } else if (audit_codepoint_is_unsafe(cp)) {
                        o += json_u_escape(cp, out ? out + o : NULL);
                        i += l;
                } else {
                        if (out)
                                memcpy(out + o, in + i, l);
                        o += l, i += l;
                }
        }
        return o;
}
