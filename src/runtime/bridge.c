/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Group bridges over rtnetlink with libnl-route-3: what "ip link add type
 * bridge", "ip link add type veth peer netns", "ip addr add" would do, plus
 * the state that lets a crashed group be cleaned up.  See bridge.h. */

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/inet.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "common/parse.h"
#include "runtime/bridge.h"
#include "runtime/sandbox.h"

/* ---- libnl, loaded when a bridge is first touched ------------------------
 *
 * Only app groups with bridge networking use libnl: every other start of
 * shuttlectl (and the broker) need not map and relocate it.  The functions
 * below are called through pointers that rtnl_open() fills from
 * libnl-route-3 (which brings libnl-3) on first use; every other libnl call
 * here works on a socket or an object that came from such a socket.  The
 * build still links against libnl to check the prototypes, but with
 * --as-needed nothing references it. */

#define LIBNL_ROUTE_SONAME "libnl-route-3.so.200"

#define NL_FUNCS(X)                                                                                       \
        X(nl_addr_build) X(nl_addr_get_binary_addr) X(nl_addr_get_family) X(nl_addr_get_len)             \
        X(nl_addr_get_prefixlen) X(nl_addr_put) X(nl_addr_set_prefixlen) X(nl_cache_free)                \
        X(nl_cache_get_first) X(nl_cache_get_next) X(nl_connect) X(nl_socket_alloc) X(nl_socket_free)    \
        X(rtnl_addr_add) X(rtnl_addr_alloc) X(rtnl_addr_alloc_cache) X(rtnl_addr_get_family)             \
        X(rtnl_addr_get_local) X(rtnl_addr_get_prefixlen) X(rtnl_addr_put) X(rtnl_addr_set_broadcast)    \
        X(rtnl_addr_set_ifindex) X(rtnl_addr_set_local) X(rtnl_addr_set_prefixlen) X(rtnl_link_add)      \
        X(rtnl_link_alloc) X(rtnl_link_alloc_cache) X(rtnl_link_bridge_alloc) X(rtnl_link_change)        \
        X(rtnl_link_delete) X(rtnl_link_get_ifindex) X(rtnl_link_get_kernel) X(rtnl_link_get_master)     \
        X(rtnl_link_get_name) X(rtnl_link_inet_set_conf) X(rtnl_link_is_bridge) X(rtnl_link_put)         \
        X(rtnl_link_set_addr) X(rtnl_link_set_flags) X(rtnl_link_set_master) X(rtnl_link_set_name)       \
        X(rtnl_link_set_ns_fd) X(rtnl_link_veth_alloc) X(rtnl_link_veth_get_peer)                        \
        X(rtnl_route_alloc_cache) X(rtnl_route_get_dst) X(rtnl_route_get_table)

static struct {
#define X(f) __typeof__(f) *f;
        NL_FUNCS(X)
#undef X
} libnl;
static bool libnl_loaded;
static pthread_once_t libnl_once = PTHREAD_ONCE_INIT;

static void libnl_load_once(void) {
        void *h = dlopen(LIBNL_ROUTE_SONAME, RTLD_NOW | RTLD_LOCAL);

        if (!h)
                return;
#define X(f)                                                   \
        libnl.f = (__typeof__(libnl.f)) dlsym(h, #f);          \
        if (!libnl.f) {                                        \
                dlclose(h);                                    \
                return;                                        \
        }
        NL_FUNCS(X)
#undef X
        libnl_loaded = true; /* h stays open for the life of the process */
}

static int libnl_load(void) {
        (void) pthread_once(&libnl_once, libnl_load_once);
        return libnl_loaded ? 0 : -ELIBACC;
}

/* From here on, each libnl function is the pointer. */
#define nl_addr_build (libnl.nl_addr_build)
#define nl_addr_get_binary_addr (libnl.nl_addr_get_binary_addr)
#define nl_addr_get_family (libnl.nl_addr_get_family)
#define nl_addr_get_len (libnl.nl_addr_get_len)
#define nl_addr_get_prefixlen (libnl.nl_addr_get_prefixlen)
#define nl_addr_put (libnl.nl_addr_put)
#define nl_addr_set_prefixlen (libnl.nl_addr_set_prefixlen)
#define nl_cache_free (libnl.nl_cache_free)
#define nl_cache_get_first (libnl.nl_cache_get_first)
#define nl_cache_get_next (libnl.nl_cache_get_next)
#define nl_connect (libnl.nl_connect)
#define nl_socket_alloc (libnl.nl_socket_alloc)
#define nl_socket_free (libnl.nl_socket_free)
#define rtnl_addr_add (libnl.rtnl_addr_add)
#define rtnl_addr_alloc (libnl.rtnl_addr_alloc)
#define rtnl_addr_alloc_cache (libnl.rtnl_addr_alloc_cache)
#define rtnl_addr_get_family (libnl.rtnl_addr_get_family)
#define rtnl_addr_get_local (libnl.rtnl_addr_get_local)
#define rtnl_addr_get_prefixlen (libnl.rtnl_addr_get_prefixlen)
#define rtnl_addr_put (libnl.rtnl_addr_put)
#define rtnl_addr_set_broadcast (libnl.rtnl_addr_set_broadcast)
#define rtnl_addr_set_ifindex (libnl.rtnl_addr_set_ifindex)
#define rtnl_addr_set_local (libnl.rtnl_addr_set_local)
#define rtnl_addr_set_prefixlen (libnl.rtnl_addr_set_prefixlen)
#define rtnl_link_add (libnl.rtnl_link_add)
#define rtnl_link_alloc (libnl.rtnl_link_alloc)
#define rtnl_link_alloc_cache (libnl.rtnl_link_alloc_cache)
#define rtnl_link_bridge_alloc (libnl.rtnl_link_bridge_alloc)
#define rtnl_link_change (libnl.rtnl_link_change)
#define rtnl_link_delete (libnl.rtnl_link_delete)
#define rtnl_link_get_ifindex (libnl.rtnl_link_get_ifindex)
#define rtnl_link_get_kernel (libnl.rtnl_link_get_kernel)
#define rtnl_link_get_master (libnl.rtnl_link_get_master)
#define rtnl_link_get_name (libnl.rtnl_link_get_name)
#define rtnl_link_inet_set_conf (libnl.rtnl_link_inet_set_conf)
#define rtnl_link_is_bridge (libnl.rtnl_link_is_bridge)
#define rtnl_link_put (libnl.rtnl_link_put)
#define rtnl_link_set_addr (libnl.rtnl_link_set_addr)
#define rtnl_link_set_flags (libnl.rtnl_link_set_flags)
#define rtnl_link_set_master (libnl.rtnl_link_set_master)
#define rtnl_link_set_name (libnl.rtnl_link_set_name)
#define rtnl_link_set_ns_fd (libnl.rtnl_link_set_ns_fd)
#define rtnl_link_veth_alloc (libnl.rtnl_link_veth_alloc)
#define rtnl_link_veth_get_peer (libnl.rtnl_link_veth_get_peer)
#define rtnl_route_alloc_cache (libnl.rtnl_route_alloc_cache)
#define rtnl_route_get_dst (libnl.rtnl_route_get_dst)
#define rtnl_route_get_table (libnl.rtnl_route_get_table)

#define CONTAINER_IFNAME "eth0"
#define VETH_PREFIX "shv"
#define GROUP_FILE_MAX 80 /* a valid group name (<= 63) + ".json.tmp" */

/* ---- cleanup helpers ---------------------------------------------------- */

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_addr *, rtnl_addr_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_addr *, nl_addr_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free)
static void json_unrefp(json_t **p) {
        int saved = errno;
        json_decref(*p);
        errno = saved;
}
#define _cleanup_nl_socket_ _cleanup_(nl_socket_freep)
#define _cleanup_rtnl_link_ _cleanup_(rtnl_link_putp)
#define _cleanup_rtnl_addr_ _cleanup_(rtnl_addr_putp)
#define _cleanup_nl_addr_ _cleanup_(nl_addr_putp)
#define _cleanup_nl_cache_ _cleanup_(nl_cache_freep)
#define _cleanup_json_ _cleanup_(json_unrefp)

/* libnl turns the kernel's errno into its own NLE_* codes; back again. */
static int nlerr(int e) {
        switch (e < 0 ? -e : e) {
        case NLE_SUCCESS:
                return 0;
        case NLE_INTR:
                return -EINTR;
        case NLE_BAD_SOCK:
                return -EBADF;
        case NLE_AGAIN:
                return -EAGAIN;
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_EXIST:
                return -EEXIST;
        case NLE_INVAL:
                return -EINVAL;
        case NLE_RANGE:
                return -ERANGE;
        case NLE_MSGSIZE:
                return -EMSGSIZE;
        case NLE_OPNOTSUPP:
                return -EOPNOTSUPP;
        case NLE_AF_NOSUPPORT:
                return -EAFNOSUPPORT;
        case NLE_OBJ_NOTFOUND:
                return -ENOENT;
        case NLE_NOADDR:
                return -EADDRNOTAVAIL;
        case NLE_BUSY:
                return -EBUSY;
        case NLE_PROTO_MISMATCH:
                return -EPROTONOSUPPORT;
        case NLE_NOACCESS:
                return -EACCES;
        case NLE_PERM:
                return -EPERM;
        case NLE_NODEV:
                return -ENODEV;
        default:
                return -EIO;
        }
}

static int rtnl_open(struct nl_sock **ret) {
        struct nl_sock *sk;
        int r;

        r = libnl_load();
        if (r < 0)
                return r;
        sk = nl_socket_alloc();
        if (!sk)
                return -ENOMEM;
        /* nl_connect() opens the socket with SOCK_CLOEXEC. */
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0) {
                nl_socket_free(sk);
                return nlerr(r);
        }
        *ret = sk;
        return 0;
}

/* ---- names -------------------------------------------------------------- */

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

static uint64_t fnv1a(uint64_t h, const char *s, size_t n) {
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
                uint64_t h = fnv1a(FNV_OFFSET, group, n);
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
        h = fnv1a(FNV_OFFSET, group, strlen(group) + 1);
        h = fnv1a(h, container, strlen(container));
        snprintf(name, sizeof(name), VETH_PREFIX "%012" PRIx64, h & UINT64_C(0xffffffffffff));
        memcpy(ret, name, sizeof(name));
        return 0;
}

/* ---- IPv4 prefixes (host byte order) ------------------------------------ */

typedef struct Cidr {
        uint32_t addr;
        unsigned prefix;
} Cidr;

static uint32_t prefix_mask(unsigned p) {
        return p == 0 ? 0 : UINT32_MAX << (32 - p);
}

static bool cidr_overlap(Cidr a, Cidr b) {
        uint32_t m = prefix_mask(MIN(a.prefix, b.prefix));
        return (a.addr & m) == (b.addr & m);
}

static bool cidr_contains(Cidr outer, Cidr inner) {
        return inner.prefix >= outer.prefix && ((inner.addr ^ outer.addr) & prefix_mask(outer.prefix)) == 0;
}

/* "a.b.c.d/p" with no host bits set. */
static int cidr_parse(const char *s, Cidr *ret) {
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
        if (a & ~prefix_mask(p))
                return -EINVAL;
        *ret = (Cidr) { .addr = a, .prefix = p };
        return 0;
}

static int addr_parse(const char *s, uint32_t *ret) {
        struct in_addr in;

        if (!s || inet_pton(AF_INET, s, &in) != 1)
                return -EINVAL;
        *ret = ntohl(in.s_addr);
        return 0;
}

static void addr_format(uint32_t a, char ret[static BRIDGE_ADDR_MAX]) {
        struct in_addr in = { .s_addr = htonl(a) };
        inet_ntop(AF_INET, &in, ret, BRIDGE_ADDR_MAX);
}

static void cidr_format(Cidr c, char ret[static BRIDGE_CIDR_MAX]) {
        char a[BRIDGE_ADDR_MAX];

        addr_format(c.addr, a);
        snprintf(ret, BRIDGE_CIDR_MAX, "%s/%u", a, c.prefix);
}

static int base_parse(const char *s, Cidr *ret) {
        static const Cidr private_ranges[] = {
                { 0x0a000000, 8 },  /* 10.0.0.0/8 */
                { 0xac100000, 12 }, /* 172.16.0.0/12 */
                { 0xc0a80000, 16 }, /* 192.168.0.0/16 */
        };
        Cidr c;
        int r;

        r = cidr_parse(s ?: BRIDGE_DEFAULT_BASE, &c);
        if (r < 0)
                return r;
        if (c.prefix < 8 || c.prefix > 24)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(private_ranges); i++)
                if (cidr_contains(private_ranges[i], c)) {
                        *ret = c;
                        return 0;
                }
        return -EINVAL;
}

/* ---- state files -------------------------------------------------------- */

static int group_file(const char *group, const char *suffix, char ret[static GROUP_FILE_MAX]) {
        /* Valid names start with an alphanumeric and have no '/': always a
         * plain, visible file name inside net/. */
        if (!container_name_is_valid(group))
                return -EINVAL;
        snprintf(ret, GROUP_FILE_MAX, "%s%s", group, suffix);
        return 0;
}

static int net_dir_open(const char *state_dir, bool create, int *ret) {
        char path[PATH_MAX];
        int fd, r;

        if (!state_dir || !*state_dir)
                return -EINVAL;
        if ((size_t) snprintf(path, sizeof(path), "%s/net", state_dir) >= sizeof(path))
                return -ENAMETOOLONG;
        if (create) {
                r = mkdir_p_at(AT_FDCWD, path, 0700);
                if (r < 0)
                        return r;
        }
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret = fd;
        return 0;
}

/* net/ itself is flock()-ed around every read-modify-write of a group's
 * state, so two supervisors never hand out the same /24. */
static int net_dir_lock(const char *state_dir, bool create, int *ret) {
        _cleanup_close_ int fd = -1;
        int r;

        r = net_dir_open(state_dir, create, &fd);
        if (r < 0)
                return r;
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return -errno;
        *ret = TAKE_FD(fd);
        return 0;
}

static int state_load(int netfd, const char *group, json_t **ret) {
        char name[GROUP_FILE_MAX];
        _cleanup_close_ int fd = -1;
        json_t *o;
        int r;

        r = group_file(group, ".json", name);
        if (r < 0)
                return r;
        fd = openat(netfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        o = json_loadfd(fd, 0, NULL);
        if (!json_is_object(o)) {
                json_decref(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

static int state_save(int netfd, const char *group, const json_t *o) {
        char name[GROUP_FILE_MAX], tmp[GROUP_FILE_MAX];
        _cleanup_close_ int fd = -1;
        int r;

        r = group_file(group, ".json", name);
        if (r < 0)
                return r;
        (void) group_file(group, ".json.tmp", tmp);
        fd = openat(netfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (json_dumpfd(o, fd, JSON_COMPACT) < 0 || close(TAKE_FD(fd)) < 0) {
                (void) unlinkat(netfd, tmp, 0);
                return -EIO;
        }
        if (renameat(netfd, tmp, netfd, name) < 0) {
                r = -errno;
                (void) unlinkat(netfd, tmp, 0);
                return r;
        }
        return 0;
}

static const char *json_str(const json_t *o, const char *key) {
        const json_t *v = json_object_get(o, key);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *state_containers(json_t *st) {
        json_t *c = json_object_get(st, "containers");

        if (json_is_object(c))
                return c;
        c = json_object();
        if (!c || json_object_set_new(st, "containers", c) < 0)
                return NULL;
        return c;
}

static int lock_group_at(int netfd, const char *group) {
        char name[GROUP_FILE_MAX];
        int r;

        r = group_file(group, ".lock", name);
        if (r < 0)
                return r;
        for (;;) {
                _cleanup_close_ int fd = -1;
                struct stat a, b;

                fd = openat(netfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return -errno;
                if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                        return errno == EWOULDBLOCK ? -EBUSY : -errno;
                if (fstat(fd, &a) < 0)
                        return -errno;
                /* The previous holder unlinks the file before it lets go:
                 * if it did so between our open and our flock, we hold a
                 * lock on a file nobody else will ever open.  Start over. */
                if (fstatat(netfd, name, &b, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                        continue;
                return TAKE_FD(fd);
        }
}

int bridge_lock_group(const char *state_dir, const char *group) {
        _cleanup_close_ int netfd = -1;
        int r;

        if (!container_name_is_valid(group))
                return -EINVAL;
        r = net_dir_open(state_dir, true, &netfd);
        if (r < 0)
                return r;
        return lock_group_at(netfd, group);
}

void bridge_unlock_group(const char *state_dir, const char *group, int fd) {
        _cleanup_close_ int netfd = -1;
        char name[GROUP_FILE_MAX];
        int saved = errno;

        if (fd < 0)
                return;
        if (group_file(group, ".lock", name) >= 0 && net_dir_open(state_dir, false, &netfd) >= 0)
                (void) unlinkat(netfd, name, 0);
        safe_close(fd);
        errno = saved;
}

/* ---- subnet allocation -------------------------------------------------- */

typedef struct CidrList {
        Cidr *v;
        size_t n, allocated;
} CidrList;

static int cidr_list_add(CidrList *l, Cidr c) {
        if (l->n == l->allocated) {
                size_t k = l->allocated ? l->allocated * 2 : 16;
                Cidr *v = reallocarray(l->v, k, sizeof(Cidr));
                if (!v)
                        return -ENOMEM;
                l->v = v;
                l->allocated = k;
        }
        l->v[l->n++] = c;
        return 0;
}

static void cidr_list_freep(CidrList *l) {
        free(l->v);
}

static bool nl_addr_to_cidr(struct nl_addr *a, Cidr *ret) {
        uint32_t be;

        if (!a || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != sizeof(be))
                return false;
        memcpy(&be, nl_addr_get_binary_addr(a), sizeof(be));
        *ret = (Cidr) { .addr = ntohl(be), .prefix = nl_addr_get_prefixlen(a) };
        return true;
}

/* Every IPv4 prefix this network namespace already uses: its addresses (with
 * their prefix length) and its routes outside the local table.  Routes
 * shorter than /8 are default-like (VPNs split 0/0 into two /1s) and would
 * otherwise forbid every private range. */
static int host_prefixes(CidrList *ret) {
        _cleanup_nl_socket_ struct nl_sock *sk = NULL;
        _cleanup_nl_cache_ struct nl_cache *addrs = NULL, *routes = NULL;
        Cidr c;
        int r;

        r = rtnl_open(&sk);
        if (r < 0)
                return r;
        r = rtnl_addr_alloc_cache(sk, &addrs);
        if (r < 0)
                return nlerr(r);
        for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
                struct rtnl_addr *a = (struct rtnl_addr *) o;

                if (rtnl_addr_get_family(a) != AF_INET || !nl_addr_to_cidr(rtnl_addr_get_local(a), &c))
                        continue;
                c.prefix = (unsigned) rtnl_addr_get_prefixlen(a);
                if (c.prefix > 32)
                        continue;
                r = cidr_list_add(ret, c);
                if (r < 0)
                        return r;
        }
        r = rtnl_route_alloc_cache(sk, AF_INET, 0, &routes);
        if (r < 0)
                return nlerr(r);
        for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
                struct rtnl_route *rt = (struct rtnl_route *) o;

                if (rtnl_route_get_table(rt) == RT_TABLE_LOCAL || !nl_addr_to_cidr(rtnl_route_get_dst(rt), &c) ||
                    c.prefix < 8 || c.prefix > 32)
                        continue;
                r = cidr_list_add(ret, c);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Marks the /24 slots of base that other groups' state files record. */
static int mark_recorded_subnets(int netfd, const char *group, Cidr base, uint8_t *used) {
        _cleanup_closedir_ DIR *d = NULL;
        int r;

        r = opendir_at(netfd, &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (de = readdir(d));) {
                char other[GROUP_FILE_MAX];
                _cleanup_json_ json_t *st = NULL;
                size_t n = strlen(de->d_name);
                Cidr s;

                if (n <= STRLEN(".json") || n >= sizeof(other) || !streq(de->d_name + n - STRLEN(".json"), ".json"))
                        continue;
                memcpy(other, de->d_name, n - STRLEN(".json"));
                other[n - STRLEN(".json")] = '\0';
                if (streq(other, group) || state_load(netfd, other, &st) < 0)
                        continue;
                if (cidr_parse(json_str(st, "subnet"), &s) < 0 || s.prefix != 24 || !cidr_contains(base, s))
                        continue;
                used[(s.addr - base.addr) >> 8] = 1;
        }
        return 0;
}

static int reserve_subnet_locked(int netfd, const char *group, Cidr base, Cidr *ret) {
        _cleanup_(cidr_list_freep) CidrList host = {};
        _cleanup_json_ json_t *st = NULL;
        _cleanup_free_ uint8_t *used = NULL;
        char ifname[BRIDGE_IFNAMSIZ], base_s[BRIDGE_CIDR_MAX], subnet_s[BRIDGE_CIDR_MAX];
        size_t nslots = (size_t) 1 << (24 - base.prefix), start;
        Cidr found = {};
        bool ok = false;
        int r;

        r = state_load(netfd, group, &st);
        if (r >= 0) {
                Cidr s;

                if (cidr_parse(json_str(st, "subnet"), &s) < 0 || s.prefix != 24)
                        return -EBADMSG;
                if (!cidr_contains(base, s))
                        return -EBUSY;
                *ret = s;
                return 0;
        }
        if (r != -ENOENT)
                return r;

        used = calloc(nslots, 1);
        if (!used)
                return -ENOMEM;
        r = mark_recorded_subnets(netfd, group, base, used);
        if (r < 0)
                return r;
        r = host_prefixes(&host);
        if (r < 0)
                return r;

        /* Start where the name hashes to, so a group tends to get the same
         * /24 every time, then probe linearly. */
        start = (size_t) (fnv1a(FNV_OFFSET, group, strlen(group)) % nslots);
        for (size_t i = 0; i < nslots && !ok; i++) {
                size_t slot = (start + i) % nslots;
                Cidr c = { .addr = base.addr + ((uint32_t) slot << 8), .prefix = 24 };

                if (used[slot])
                        continue;
                ok = true;
                for (size_t j = 0; j < host.n && ok; j++)
                        ok = !cidr_overlap(c, host.v[j]);
                found = c;
        }
        if (!ok)
                return -ENOSPC;

        (void) bridge_name_for_group(group, ifname);
        cidr_format(base, base_s);
        cidr_format(found, subnet_s);
        st = json_pack("{s:s, s:s, s:s, s:s, s:{}}", "group", group, "bridge", ifname, "base", base_s, "subnet",
                       subnet_s, "containers");
        if (!st)
                return -ENOMEM;
        r = state_save(netfd, group, st);
        if (r < 0)
                return r;
        *ret = found;
        return 0;
}

int bridge_reserve_subnet(const char *state_dir, const char *group, const char *base_cidr,
                          char ret[static BRIDGE_CIDR_MAX]) {
        _cleanup_close_ int netfd = -1;
        Cidr base, s;
        int r;

        if (!container_name_is_valid(group))
                return -EINVAL;
        r = base_parse(base_cidr, &base);
        if (r < 0)
                return r;
        r = net_dir_lock(state_dir, true, &netfd);
        if (r < 0)
                return r;
        r = reserve_subnet_locked(netfd, group, base, &s);
        if (r < 0)
                return r;
        cidr_format(s, ret);
        return 0;
}

/* ---- links and addresses ------------------------------------------------ */

static int link_get(struct nl_sock *sk, const char *name, struct rtnl_link **ret) {
        struct rtnl_link *l = NULL;
        int r;

        r = rtnl_link_get_kernel(sk, 0, name, &l);
        if (r < 0)
                return nlerr(r);
        *ret = l;
        return 0;
}

/* 0 also when there is no such link. */
static int link_delete(struct nl_sock *sk, const char *name) {
        _cleanup_rtnl_link_ struct rtnl_link *l = rtnl_link_alloc();
        int r;

        if (!l)
                return -ENOMEM;
        rtnl_link_set_name(l, name);
        r = nlerr(rtnl_link_delete(sk, l));
        return r == -ENODEV ? 0 : r;
}

static int addr_add(struct nl_sock *sk, int ifindex, uint32_t a, unsigned prefix) {
        _cleanup_rtnl_addr_ struct rtnl_addr *ra = rtnl_addr_alloc();
        _cleanup_nl_addr_ struct nl_addr *local = NULL, *bcast = NULL;
        uint32_t be = htonl(a), bcast_be = htonl(a | ~prefix_mask(prefix));
        int r;

        local = nl_addr_build(AF_INET, &be, sizeof(be));
        bcast = nl_addr_build(AF_INET, &bcast_be, sizeof(bcast_be));
        if (!ra || !local || !bcast)
                return -ENOMEM;
        nl_addr_set_prefixlen(local, (int) prefix);
        rtnl_addr_set_ifindex(ra, ifindex);
        r = rtnl_addr_set_local(ra, local);
        if (r < 0)
                return nlerr(r);
        rtnl_addr_set_prefixlen(ra, (int) prefix);
        r = rtnl_addr_set_broadcast(ra, bcast);
        if (r < 0)
                return nlerr(r);
        /* With the address comes the kernel's link route for the prefix:
         * the only route a container gets. */
        r = nlerr(rtnl_addr_add(sk, ra, 0));
        return r == -EEXIST ? 0 : r;
}

static int bridge_link_create(struct nl_sock *sk, const char *ifname, struct rtnl_link **ret) {
        _cleanup_rtnl_link_ struct rtnl_link *l = rtnl_link_bridge_alloc();
        _cleanup_nl_addr_ struct nl_addr *mac = NULL;
        uint64_t h = fnv1a(FNV_OFFSET, ifname, strlen(ifname));
        uint8_t m[6] = { 0x02 }; /* locally administered, unicast */
        int r;

        if (!l)
                return -ENOMEM;
        /* A MAC of its own, set at creation, so the bridge's does not
         * follow its ports as containers come and go (stale ARP entries for
         * .1); derived from the name, so it is the same after a restart. */
        for (size_t i = 1; i < sizeof(m); i++)
                m[i] = (uint8_t) (h >> (8 * i));
        mac = nl_addr_build(AF_LLC, m, sizeof(m));
        if (!mac)
                return -ENOMEM;
        rtnl_link_set_name(l, ifname);
        rtnl_link_set_addr(l, mac);
        r = nlerr(rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL));
        if (r < 0 && r != -EEXIST)
                return r;
        rtnl_link_put(TAKE_PTR(l));

        r = link_get(sk, ifname, &l);
        if (r < 0)
                return r;
        if (!rtnl_link_is_bridge(l))
                return -EEXIST;
        *ret = TAKE_PTR(l);
        return 0;
}

/* The host never forwards what arrives on a group's bridge: even a
 * container that got itself a route via .1 reaches no other subnet. */
static int link_disable_forwarding(struct nl_sock *sk, struct rtnl_link *orig) {
        _cleanup_rtnl_link_ struct rtnl_link *changes = rtnl_link_alloc();
        int r;

        if (!changes)
                return -ENOMEM;
        r = rtnl_link_inet_set_conf(changes, IPV4_DEVCONF_FORWARDING, 0);
        if (r < 0)
                return nlerr(r);
        return nlerr(rtnl_link_change(sk, orig, changes, 0));
}

int bridge_ensure(const char *state_dir, const char *group, const char *base_cidr, BridgeInfo *ret) {
        _cleanup_nl_socket_ struct nl_sock *sk = NULL;
        _cleanup_rtnl_link_ struct rtnl_link *l = NULL;
        BridgeInfo b = {};
        Cidr subnet;
        int r;

        if (!container_name_is_valid(group) || !state_dir)
                return -EINVAL;
        if (strlen(state_dir) >= sizeof(b.state_dir))
                return -ENAMETOOLONG;
        r = bridge_reserve_subnet(state_dir, group, base_cidr, b.subnet);
        if (r < 0)
                return r;
        if (cidr_parse(b.subnet, &subnet) < 0)
                return -EBADMSG;
        (void) bridge_name_for_group(group, b.ifname);

        r = rtnl_open(&sk);
        if (r < 0)
                return r;
        r = bridge_link_create(sk, b.ifname, &l);
        if (r < 0)
                return r;
        r = link_disable_forwarding(sk, l);
        if (r < 0)
                return r;
        r = addr_add(sk, rtnl_link_get_ifindex(l), subnet.addr + 1, 24);
        if (r < 0)
                return r;
        r = netlink_link_set_up(b.ifname, true);
        if (r < 0)
                return r;

        snprintf(b.state_dir, sizeof(b.state_dir), "%s", state_dir);
        snprintf(b.group, sizeof(b.group), "%s", group);
        b.ifindex = rtnl_link_get_ifindex(l);
        addr_format(subnet.addr + 1, b.gateway);
        *ret = b;
        return 0;
}

/* ---- containers --------------------------------------------------------- */

/* The container's address: the one it had before if nobody attached holds
 * it, else the lowest never handed out, else the lowest only a detached
 * container remembers (that container forgets it). */
static int address_pick(json_t *containers, const char *container, Cidr subnet, uint32_t *ret) {
        bool any[256] = {}, attached[256] = {};
        const char *key, *evict = NULL;
        json_t *v, *mine;
        uint32_t a;

        json_object_foreach(containers, key, v) {
                Cidr c;

                if (addr_parse(json_str(v, "address"), &a) < 0)
                        continue;
                c = (Cidr) { .addr = a, .prefix = 32 };
                if (!cidr_contains(subnet, c))
                        continue;
                any[a & 0xff] = true;
                if (!streq(key, container) && json_is_true(json_object_get(v, "attached")))
                        attached[a & 0xff] = true;
        }

        mine = json_object_get(containers, container);
        if (mine && addr_parse(json_str(mine, "address"), &a) >= 0 &&
            cidr_contains(subnet, (Cidr) { .addr = a, .prefix = 32 }) && (a & 0xff) >= 2 && (a & 0xff) <= 254 &&
            !attached[a & 0xff]) {
                *ret = a;
                return 0;
        }
        for (unsigned h = 2; h <= 254; h++)
                if (!any[h]) {
                        *ret = subnet.addr + h;
                        return 0;
                }
        for (unsigned h = 2; h <= 254; h++) {
                if (attached[h])
                        continue;
                json_object_foreach(containers, key, v)
                        if (!streq(key, container) && addr_parse(json_str(v, "address"), &a) >= 0 &&
                            a == subnet.addr + h)
                                evict = key;
                if (evict)
                        (void) json_object_del(containers, evict);
                *ret = subnet.addr + h;
                return 0;
        }
        return -ENOSPC;
}

static int container_record(json_t *containers, const char *container, uint32_t a, const char *veth,
                            bool is_attached) {
        char as[BRIDGE_ADDR_MAX];
        json_t *e;

        addr_format(a, as);
        e = json_pack("{s:s, s:s, s:b}", "address", as, "veth", veth, "attached", is_attached);
        if (!e || json_object_set_new(containers, container, e) < 0)
                return -ENOMEM;
        return 0;
}

/* One veth pair: the host end on the bridge and up, the other end created
 * straight inside the container's namespace (nsfd) as eth0, so it never
 * exists under that name in ours. */
static int veth_create(struct nl_sock *sk, const char *host_name, int bridge_ifindex, int nsfd) {
        _cleanup_rtnl_link_ struct rtnl_link *l = rtnl_link_veth_alloc(), *peer = NULL;

        if (!l)
                return -ENOMEM;
        peer = rtnl_link_veth_get_peer(l);
        if (!peer)
                return -ENOMEM;
        rtnl_link_set_name(l, host_name);
        rtnl_link_set_master(l, bridge_ifindex);
        rtnl_link_set_flags(l, IFF_UP);
        rtnl_link_set_name(peer, CONTAINER_IFNAME);
        rtnl_link_set_ns_fd(peer, nsfd);
        return nlerr(rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL));
}

typedef struct NetnsJob {
        int nsfd;
        uint32_t addr;
        int r;
} NetnsJob;

static int configure_inside(const NetnsJob *j) {
        _cleanup_nl_socket_ struct nl_sock *sk = NULL;
        _cleanup_rtnl_link_ struct rtnl_link *l = NULL;
        int r;

        r = rtnl_open(&sk);
        if (r < 0)
                return r;
        r = link_get(sk, CONTAINER_IFNAME, &l);
        if (r < 0)
                return r;
        r = addr_add(sk, rtnl_link_get_ifindex(l), j->addr, 24);
        if (r < 0)
                return r;
        r = netlink_link_set_up(CONTAINER_IFNAME, true);
        if (r < 0)
                return r;
        return netlink_loopback_up();
}

static void *netns_job_run(void *p) {
        NetnsJob *j = p;

        /* A network namespace is per thread: this one enters the
         * container's, opens its netlink sockets there, and ends.  The
         * caller's threads never leave their namespace. */
        if (setns(j->nsfd, CLONE_NEWNET) < 0)
                j->r = negative_errno();
        else
                j->r = configure_inside(j);
        return NULL;
}

static int netns_configure(int nsfd, uint32_t addr) {
        NetnsJob j = { .nsfd = nsfd, .addr = addr, .r = -EIO };
        pthread_t t;
        int r;

        r = pthread_create(&t, NULL, netns_job_run, &j);
        if (r != 0)
                return -r;
        r = pthread_join(t, NULL);
        if (r != 0)
                return -r;
        return j.r;
}

int bridge_attach(const BridgeInfo *b, const char *container, pid_t pid, char ret_addr[static BRIDGE_ADDR_MAX]) {
        _cleanup_nl_socket_ struct nl_sock *sk = NULL;
        _cleanup_rtnl_link_ struct rtnl_link *br = NULL;
        _cleanup_json_ json_t *st = NULL;
        _cleanup_close_ int netfd = -1, nsfd = -1;
        char veth[BRIDGE_IFNAMSIZ], path[64];
        json_t *containers;
        Cidr subnet;
        uint32_t a;
        bool known;
        int r;

        if (!b || !container_name_is_valid(b->group) || !container_name_is_valid(container) || pid <= 0)
                return -EINVAL;
        if (cidr_parse(b->subnet, &subnet) < 0 || subnet.prefix != 24)
                return -EINVAL;
        (void) veth_name_for_container(b->group, container, veth);

        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
        nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
                return errno == ENOENT ? -ESRCH : -errno;

        r = net_dir_lock(b->state_dir, false, &netfd);
        if (r < 0)
                return r;
        r = state_load(netfd, b->group, &st);
        if (r < 0)
                return r;
        containers = state_containers(st);
        if (!containers)
                return -ENOMEM;
        known = json_object_get(containers, container);
        r = address_pick(containers, container, subnet, &a);
        if (r < 0)
                return r;
        /* Recorded before the link exists: a crash from here on leaves
         * something bridge_cleanup_stale() knows how to remove. */
        r = container_record(containers, container, a, veth, true);
        if (r < 0)
                return r;
        r = state_save(netfd, b->group, st);
        if (r < 0)
                return r;

        r = rtnl_open(&sk);
        if (r < 0)
                goto fail;
        r = link_get(sk, b->ifname, &br);
        if (r < 0)
                goto fail;
        if (!rtnl_link_is_bridge(br)) {
                r = -ENODEV;
                goto fail;
        }
        /* A previous run's host end (its namespace may still be alive, or
         * be dying asynchronously): ours by name, so it goes. */
        r = link_delete(sk, veth);
        if (r < 0)
                goto fail;
        r = veth_create(sk, veth, rtnl_link_get_ifindex(br), nsfd);
        if (r < 0)
                goto fail;
        r = netns_configure(nsfd, a);
        if (r < 0)
                goto fail;

        addr_format(a, ret_addr);
        return 0;

fail:
        if (sk)
                (void) link_delete(sk, veth);
        /* A container seen before keeps its address; a new one never got
         * one. */
        if (known ? container_record(containers, container, a, veth, false) >= 0
                  : json_object_del(containers, container) == 0)
                (void) state_save(netfd, b->group, st);
        return r;
}

int bridge_container_address(const char *state_dir, const char *group, const char *container,
                             char ret_addr[static BRIDGE_ADDR_MAX]) {
        _cleanup_json_ json_t *st = NULL;
        _cleanup_close_ int netfd = -1;
        const json_t *e;
        const char *a;
        uint32_t addr;
        int r;

        if (!container_name_is_valid(group) || !container_name_is_valid(container))
                return -EINVAL;
        /* No lock: the state is replaced whole (renameat), so this sees
         * either the old or the new one. */
        r = net_dir_open(state_dir, false, &netfd);
        if (r < 0)
                return r;
        r = state_load(netfd, group, &st);
        if (r < 0)
                return r;
        e = json_object_get(json_object_get(st, "containers"), container);
        if (!json_is_object(e))
                return -ENOENT;
        if (!json_is_true(json_object_get(e, "attached")))
                return -ENOLINK;
        a = json_str(e, "address");
        if (!a || addr_parse(a, &addr) < 0)
                return -EBADMSG;
        addr_format(addr, ret_addr);
        return 0;
}

int bridge_detach(const char *state_dir, const char *group, const char *container) {
        _cleanup_nl_socket_ struct nl_sock *sk = NULL;
        _cleanup_json_ json_t *st = NULL;
        _cleanup_close_ int netfd = -1;
        char veth[BRIDGE_IFNAMSIZ];
        json_t *e;
        int r;

        if (!container_name_is_valid(group) || !container_name_is_valid(container))
                return -EINVAL;
        (void) veth_name_for_container(group, container, veth);

        r = net_dir_lock(state_dir, false, &netfd);
        if (r < 0)
                return r;
        r = state_load(netfd, group, &st);
        if (r < 0)
                return r;
        e = json_object_get(json_object_get(st, "containers"), container);
        if (!json_is_object(e))
                return -ENOENT;

        r = rtnl_open(&sk);
        if (r < 0)
                return r;
        r = link_delete(sk, veth);
        if (r < 0)
                return r;
        if (json_object_set_new(e, "attached", json_false()) < 0)
                return -ENOMEM;
        return state_save(netfd, group, st);
}

static bool is_our_veth(const char *name) {
        return name && strneq(name, VETH_PREFIX, STRLEN(VETH_PREFIX)) && strlen(name) < BRIDGE_IFNAMSIZ;
}

/* Deletes the "shv*" ports of the bridge: ours, whatever the state says. */
static int bridge_delete_ports(struct nl_sock *sk, int bridge_ifindex) {
        _cleanup_nl_cache_ struct nl_cache *links = NULL;
        int r, ret = 0;

        r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
        if (r < 0)
                return nlerr(r);
        for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *) o;

                if (rtnl_link_get_master(l) != bridge_ifindex || !is_our_veth(rtnl_link_get_name(l)))
                        continue;
                r = link_delete(sk, rtnl_link_get_name(l));
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

int bridge_remove(const char *state_dir, const char *group) {
        _cleanup_nl_socket_ struct nl_sock *sk = NULL;
        _cleanup_rtnl_link_ struct rtnl_link *br = NULL;
        _cleanup_json_ json_t *st = NULL;
        _cleanup_close_ int netfd = -1;
        char ifname[BRIDGE_IFNAMSIZ], name[GROUP_FILE_MAX];
        const char *key;
        json_t *v;
        int r, ret = 0;

        if (!container_name_is_valid(group))
                return -EINVAL;
        (void) bridge_name_for_group(group, ifname);

        r = net_dir_lock(state_dir, false, &netfd);
        if (r < 0 && r != -ENOENT)
                return r;
        if (netfd >= 0) {
                r = state_load(netfd, group, &st);
                if (r < 0 && r != -ENOENT && r != -EBADMSG)
                        return r;
        }

        r = rtnl_open(&sk);
        if (r < 0)
                return r;
        json_object_foreach(json_object_get(st, "containers"), key, v) {
                const char *veth = json_str(v, "veth");

                /* Only names we could have made: a damaged state file does
                 * not get to delete arbitrary links. */
                if (!is_our_veth(veth))
                        continue;
                r = link_delete(sk, veth);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        r = link_get(sk, ifname, &br);
        if (r >= 0 && rtnl_link_is_bridge(br)) {
                r = bridge_delete_ports(sk, rtnl_link_get_ifindex(br));
                if (r < 0 && ret == 0)
                        ret = r;
                r = link_delete(sk, ifname);
        }
        if (r < 0 && r != -ENODEV && ret == 0)
                ret = r;
        /* Keep the state while links remain, so the removal can be retried. */
        if (ret < 0 || netfd < 0)
                return ret;

        (void) group_file(group, ".json.tmp", name);
        (void) unlinkat(netfd, name, 0);
        (void) group_file(group, ".json", name);
        if (unlinkat(netfd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* ---- crash cleanup ------------------------------------------------------ */

/* Group names of net/ entries ending in suffix. */
static int list_groups(int netfd, const char *suffix, char ***ret) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_free_ char **v = NULL;
        size_t n = 0, k = strlen(suffix);
        int r;

        r = opendir_at(netfd, &d);
        if (r < 0)
                return r;
        v = calloc(1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        for (struct dirent *de; (de = readdir(d));) {
                size_t len = strlen(de->d_name);
                char **nv;

                if (len <= k || !streq(de->d_name + len - k, suffix))
                        continue;
                nv = reallocarray(v, n + 2, sizeof(char *));
                if (!nv)
                        return -ENOMEM;
                v = nv;
                v[n] = strndup(de->d_name, len - k);
                if (!v[n])
                        return -ENOMEM;
                v[++n] = NULL;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

int bridge_cleanup_stale(const char *state_dir) {
        _cleanup_strv_free_ char **states = NULL, **locks = NULL;
        _cleanup_close_ int netfd = -1;
        int r, removed = 0, ret = 0;

        r = net_dir_open(state_dir, false, &netfd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = list_groups(netfd, ".json", &states);
        if (r < 0)
                return r;
        r = list_groups(netfd, ".lock", &locks);
        if (r < 0)
                return r;

        for (char **g = states; *g; g++) {
                int fd;

                if (!container_name_is_valid(*g))
                        continue;
                fd = lock_group_at(netfd, *g);
                if (fd == -EBUSY) /* a live supervisor holds it */
                        continue;
                if (fd < 0) {
                        if (ret == 0)
                                ret = fd;
                        continue;
                }
                r = bridge_remove(state_dir, *g);
                if (r < 0) {
                        safe_close(fd);
                        if (ret == 0)
                                ret = r;
                        continue;
                }
                bridge_unlock_group(state_dir, *g, fd);
                removed++;
        }
        /* Lock files of supervisors that died before they had any state. */
        for (char **g = locks; *g; g++) {
                char name[GROUP_FILE_MAX];
                int fd;

                if (!container_name_is_valid(*g) || group_file(*g, ".json", name) < 0 ||
                    faccessat(netfd, name, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                        continue;
                fd = lock_group_at(netfd, *g);
                if (fd >= 0)
                        bridge_unlock_group(state_dir, *g, fd);
        }
        return ret < 0 ? ret : removed;
}
