/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Group bridges: the names of their interfaces (a bridge per group, a veth
 * per container, short and stable) and the IPv4 prefixes they use.  Pure
 * functions; see bridge.h. */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/macro.h"
#include "common/parse.h"
#include "runtime/bridge-internal.h"
#include "runtime/bridge.h"

/* ---- names -------------------------------------------------------------- */


uint64_t bridge_fnv1a(uint64_t h, const char *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char) s[i];
                h *= FNV_PRIME;
        }
        return h;
}

/* The kernel takes anything but '/', ':' and whitespace; we keep to what no
 * tool will misread. */
static bool ifname_char_ok(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-' || c == '.';
}

int bridge_name_for_group(const char *group, char ret[static BRIDGE_IFNAMSIZ]) {
        char name[BRIDGE_IFNAMSIZ];
        size_t n;
        bool literal;

        if (!group || !*group)
                return -EINVAL;
        n = strlen(group);
        literal = n <= BRIDGE_IFNAMSIZ - 1 - STRLEN("shb-");
        for (size_t i = 0; literal && i < n; i++)
                literal = ifname_char_ok(group[i]);

        if (literal) {
                memcpy(name, "shb-", STRLEN("shb-"));
                memcpy(name + STRLEN("shb-"), group, n + 1);
        } else {
                uint64_t h = bridge_fnv1a(FNV_OFFSET, group, n);
                char prefix[4];
                size_t k = MIN(n, (size_t) 3);

                for (size_t i = 0; i < k; i++)
                        prefix[i] = ifname_char_ok(group[i]) ? group[i] : 'x';
                prefix[k] = '\0';
                snprintf(name, sizeof(name), "shb_%s%08" PRIx32, prefix, (uint32_t) (h ^ (h >> 32)));
        }
        memcpy(ret, name, sizeof(name));
        return 0;
}

int veth_name_for_container(const char *group, const char *container, char ret[static BRIDGE_IFNAMSIZ]) {
        char name[BRIDGE_IFNAMSIZ];
        uint64_t h;

        if (!group || !*group || !container || !*container)
                return -EINVAL;
        /* The group's NUL is hashed too: ("ab", "c") and ("a", "bc") differ. */
        h = bridge_fnv1a(FNV_OFFSET, group, strlen(group) + 1);
        h = bridge_fnv1a(h, container, strlen(container));
        snprintf(name, sizeof(name), VETH_PREFIX "%012" PRIx64, h & UINT64_C(0xffffffffffff));
        memcpy(ret, name, sizeof(name));
        return 0;
}

/* ---- IPv4 prefixes (host byte order) ------------------------------------ */


uint32_t bridge_prefix_mask(unsigned p) {
        return p == 0 ? 0 : UINT32_MAX << (32 - p);
}

bool bridge_cidr_overlap(Cidr a, Cidr b) {
        uint32_t m = bridge_prefix_mask(MIN(a.prefix, b.prefix));
        return (a.addr & m) == (b.addr & m);
}

bool bridge_cidr_contains(Cidr outer, Cidr inner) {
        return inner.prefix >= outer.prefix && ((inner.addr ^ outer.addr) & bridge_prefix_mask(outer.prefix)) == 0;
}

/* "a.b.c.d/p" with no host bits set. */
int bridge_cidr_parse(const char *s, Cidr *ret) {
        char buf[BRIDGE_ADDR_MAX];
        const char *slash;
        struct in_addr in;
        unsigned p = 0;
        uint32_t a;
        size_t n;

        if (!s)
                return -EINVAL;
        slash = strchr(s, '/');
        if (!slash)
                return -EINVAL;
        n = (size_t) (slash - s);
        if (n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (inet_pton(AF_INET, buf, &in) != 1)
                return -EINVAL;
        n = strlen(slash + 1);
        if (n == 0 || n > 2)
                return -EINVAL;
        for (const char *c = slash + 1; *c; c++) {
                if (*c < '0' || *c > '9')
                        return -EINVAL;
                p = p * 10 + (unsigned) (*c - '0');
        }
        if (p > 32)
                return -EINVAL;
        a = ntohl(in.s_addr);
        if (a & ~bridge_prefix_mask(p))
                return -EINVAL;
        *ret = (Cidr) { .addr = a, .prefix = p };
        return 0;
}

int bridge_addr_parse(const char *s, uint32_t *ret) {
        struct in_addr in;

        if (!s || inet_pton(AF_INET, s, &in) != 1)
                return -EINVAL;
        *ret = ntohl(in.s_addr);
        return 0;
}

void bridge_addr_format(uint32_t a, char ret[static BRIDGE_ADDR_MAX]) {
        struct in_addr in = { .s_addr = htonl(a) };
        inet_ntop(AF_INET, &in, ret, BRIDGE_ADDR_MAX);
}

void bridge_cidr_format(Cidr c, char ret[static BRIDGE_CIDR_MAX]) {
        char a[BRIDGE_ADDR_MAX];

        bridge_addr_format(c.addr, a);
        snprintf(ret, BRIDGE_CIDR_MAX, "%s/%u", a, c.prefix);
}

int bridge_base_parse(const char *s, Cidr *ret) {
        static const Cidr private_ranges[] = {
                { 0x0a000000, 8 },  /* 10.0.0.0/8 */
                { 0xac100000, 12 }, /* 172.16.0.0/12 */
                { 0xc0a80000, 16 }, /* 192.168.0.0/16 */
        };
        Cidr c;
        int r;

        r = bridge_cidr_parse(s ?: BRIDGE_DEFAULT_BASE, &c);
        if (r < 0)
                return r;
        if (c.prefix < 8 || c.prefix > 24)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(private_ranges); i++)
                if (bridge_cidr_contains(private_ranges[i], c)) {
                        *ret = c;
                        return 0;
                }
        return -EINVAL;
}
