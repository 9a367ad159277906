/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Capabilities: names and the bounding set with libcap, the sets with
 * capget()/capset() (caps_apply()).  The default set and the reason for each
 * capability being in or out are in docs/SANDBOX.md. */

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "common/macro.h"
#include "runtime/sandbox.h"


/* Number of capabilities the running kernel knows (CAP_LAST_CAP + 1), capped
 * to what fits in our 64-bit masks. */
static unsigned caps_count(void) {
        cap_value_t n = cap_max_bits();

        if (n <= 0)
                n = CAP_LAST_CAP + 1;
        return (unsigned) MIN(n, 64);
}

uint64_t caps_default_mask(void) {
        /* Podman's default set: Docker's minus NET_RAW, MKNOD and AUDIT_WRITE.
         * Why each is in, and why the rest are out: docs/SANDBOX.md. */
        return CAP_MASK(CAP_CHOWN) |
               CAP_MASK(CAP_DAC_OVERRIDE) |
               CAP_MASK(CAP_FOWNER) |
               CAP_MASK(CAP_FSETID) |
               CAP_MASK(CAP_KILL) |
               CAP_MASK(CAP_SETGID) |
               CAP_MASK(CAP_SETUID) |
               CAP_MASK(CAP_SETPCAP) |
               CAP_MASK(CAP_NET_BIND_SERVICE) |
               CAP_MASK(CAP_SYS_CHROOT) |
               CAP_MASK(CAP_SETFCAP);
}

uint64_t caps_all_mask(void) {
        unsigned n = caps_count();

        return n >= 64 ? UINT64_MAX : CAP_MASK(n) - 1;
}

/* One name: "NET_ADMIN", "CAP_NET_ADMIN", "net_admin" or "ALL". */
static int cap_parse_one(const char *s, size_t len, uint64_t *ret) {
        char name[64] = "cap_";
        cap_value_t v;
        size_t i;

        while (len > 0 && isspace((unsigned char) *s))
                s++, len--;
        while (len > 0 && isspace((unsigned char) s[len - 1]))
                len--;

        if (len == 3 && strncasecmp(s, "all", 3) == 0) {
                *ret = caps_all_mask();
                return 0;
        }
        if (len >= 4 && strncasecmp(s, "cap_", 4) == 0)
                s += 4, len -= 4;
        if (len == 0 || len >= sizeof(name) - 4)
                return -EINVAL;
        /* Only letters and '_': libcap also takes numbers, we do not. */
        for (i = 0; i < len; i++) {
                if (!isalpha((unsigned char) s[i]) && s[i] != '_')
                        return -EINVAL;
                name[4 + i] = (char) tolower((unsigned char) s[i]);
        }
        name[4 + len] = '\0';

        if (cap_from_name(name, &v) < 0 || v < 0 || v >= 64)
                return -EINVAL;
        *ret = CAP_MASK(v);
        return 0;
}

int caps_parse(const char *s, uint64_t *ret_mask) {
        uint64_t mask = 0;

        if (!s)
                return -EINVAL;
        for (;;) {
                const char *comma = strchr(s, ',');
                size_t len = comma ? (size_t) (comma - s) : strlen(s);
                uint64_t m;
                int r;

                r = cap_parse_one(s, len, &m);
                if (r < 0)
                        return r;
                mask |= m;
                if (!comma)
                        break;
                s = comma + 1;
        }
        *ret_mask = mask;
        return 0;
}

char *caps_format(uint64_t mask) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, size = 1;

        buf = calloc(1, size);
        if (!buf)
                return NULL;
        for (unsigned c = 0; c < 64; c++) {
                char *name, *p;
                size_t n;

                if (!(mask & CAP_MASK(c)))
                        continue;
                name = cap_to_name((cap_value_t) c); /* "cap_chown", or "40" if unknown */
                if (!name)
                        return NULL;
                p = strncasecmp(name, "cap_", 4) == 0 ? name + 4 : name;
                n = strlen(p);

                char *nbuf = realloc(buf, size + n + 1);
                if (!nbuf) {
                        cap_free(name);
                        return NULL;
                }
                buf = nbuf;
                size += n + 1;
                if (len > 0)
                        buf[len++] = ',';
                for (size_t i = 0; i < n; i++)
                        buf[len++] = (char) toupper((unsigned char) p[i]);
                buf[len] = '\0';
                cap_free(name);
        }
        return TAKE_PTR(buf);
}

int caps_drop_bounding(uint64_t keep) {
        unsigned n = caps_count();

        /* The bounding set caps what any later execve() can ever grant, file
         * capabilities and setuid-root binaries included; it can only shrink.
         * Dropping needs CAP_SETPCAP, which is why this comes first, before
         * caps_apply() lowers the effective set. */
        for (unsigned c = 0; c < n; c++) {
                if (keep & CAP_MASK(c))
                        continue;
                /* One call per capability: dropping one that is gone
                 * already is no error.  Only when the drop is refused is
                 * it asked whether there was anything to drop. */
                if (cap_drop_bound((cap_value_t) c) == 0)
                        continue;
                if (errno == EINVAL) /* not known to this kernel */
                        continue;
                if (errno == EPERM && cap_get_bound((cap_value_t) c) == 0)
                        continue;
                return negative_errno();
        }
        return 0;
}

int caps_apply(uint64_t keep) {
        struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
        uint64_t permitted, want;

        /* One capget() and one capset() on the raw interface: libcap's
         * cap_get_proc() and cap_set_proc() ask the kernel's version and
         * read the set again on their way (three capget() more, and
         * allocations), on every exec and invoke. */
        if (capget(&header, data) < 0)
                return negative_errno();
        permitted = (uint64_t) data[0].permitted | (uint64_t) data[1].permitted << 32;

        /* Only what is still permitted can be kept: after setresuid() to a
         * non-root uid the kernel has emptied the permitted set, and asking
         * for more than that is EPERM.  Inheritable is kept within permitted
         * too; with no_new_privs an execve() can never turn inheritable file
         * capabilities into new permitted ones (CVE-2022-24769). */
        want = keep & permitted & caps_all_mask();

        /* Ambient first: the kernel drops ambient caps that leave permitted or
         * inheritable anyway, but clearing explicitly also covers kept ones. */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return negative_errno();

        for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
                uint32_t w = (uint32_t) (want >> (32 * i));
                data[i] = (struct __user_cap_data_struct){ .effective = w, .permitted = w, .inheritable = w };
        }
        header = (struct __user_cap_header_struct){ .version = _LINUX_CAPABILITY_VERSION_3 };
        if (capset(&header, data) < 0)
                return negative_errno();
        return 0;
}
