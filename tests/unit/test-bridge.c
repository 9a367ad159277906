/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Tests for src/runtime/bridge.h: interface names, subnet allocation, and
 * live bridges.  Everything live happens in a forked child that first
 * unshare(CLONE_NEWNET)s: its private namespace plays "the host", and each
 * "container" is a further child in a namespace of its own, so the real
 * host's links are never touched.  Children report through their exit
 * status (0 ok, 77 skip, else failure with a message on stderr); the live
 * parts skip unless run as root. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "common/macro.h"
#include "runtime/bridge.h"

/* ---- helpers ------------------------------------------------------------ */

#define CHILD_CHECK(cond)                                                              \
        do {                                                                           \
                if (!(cond)) {                                                         \
                        fprintf(stderr, "%s:%d: check failed: %s (errno: %s)\n",       \
                                __FILE__, __LINE__, #cond, strerror(errno));           \
                        _exit(1);                                                      \
                }                                                                      \
        } while (0)

/* r is a negative errno or >= 0. */
#define CHILD_CHECK_R(expr, expected)                                                          \
        do {                                                                                   \
                int _r = (expr);                                                               \
                if (_r != (expected)) {                                                        \
                        fprintf(stderr, "%s:%d: %s = %d (%s), expected %d\n", __FILE__,        \
                                __LINE__, #expr, _r, _r < 0 ? strerror(-_r) : "ok", (expected)); \
                        _exit(1);                                                              \
                }                                                                              \
        } while (0)

#define CHILD_SKIP(...)                                            \
        do {                                                       \
                fprintf(stderr, "skip: " __VA_ARGS__);             \
                fputc('\n', stderr);                               \
                _exit(77);                                         \
        } while (0)

static char state_dir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

static int setup_state(void **state) {
        snprintf(state_dir, sizeof(state_dir), "/tmp/test-bridge-XXXXXX");
        assert_non_null(mkdtemp(state_dir));
        return 0;
}

static int teardown_state(void **state) {
        assert_true(strneq(state_dir, "/tmp/test-bridge-", STRLEN("/tmp/test-bridge-")));
        assert_int_equal(nftw(state_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
        return 0;
}

/* Runs fn in a forked child; fails the test unless it exits 0, skips on 77.
 * fn returns normally on success: exit() then runs LeakSanitizer in sanitizer
 * builds, which is where the library code ran. */
static void run_in_child(void (*fn)(void)) {
        pid_t pid;
        int status;

        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                fn();
                exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status))
                fail_msg("child killed by signal %d", WTERMSIG(status));
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* The private "host" namespace of a live test. */
static void enter_private_netns(void) {
        if (geteuid() != 0)
                CHILD_SKIP("needs root");
        if (unshare(CLONE_NEWNET) < 0)
                CHILD_SKIP("unshare(CLONE_NEWNET): %s", strerror(errno));
}

/* A "container": a child in a new network namespace, doing nothing until
 * killed.  It dies with us (PR_SET_PDEATHSIG), so a failing test leaves no
 * namespace behind. */
static pid_t holder_start(void) {
        int ready[2];
        pid_t pid;
        char c;

        CHILD_CHECK(pipe2(ready, O_CLOEXEC) == 0);
        fflush(NULL);
        pid = fork();
        CHILD_CHECK(pid >= 0);
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                close(ready[0]);
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                if (write(ready[1], "x", 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        close(ready[1]);
        CHILD_CHECK(read(ready[0], &c, 1) == 1);
        close(ready[0]);
        return pid;
}

static void holder_stop(pid_t pid) {
        kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
}

static void enter_netns_of(pid_t pid) {
        char path[64];
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        CHILD_CHECK(fd >= 0);
        CHILD_CHECK(setns(fd, CLONE_NEWNET) == 0);
        close(fd);
}

/* Runs fn(arg) in a child inside pid's network namespace; its exit code. */
static int in_netns(pid_t pid, int (*fn)(const void *), const void *arg) {
        pid_t child;
        int status;

        fflush(NULL);
        child = fork();
        CHILD_CHECK(child >= 0);
        if (child == 0) {
                enter_netns_of(pid);
                _exit(fn(arg));
        }
        CHILD_CHECK(waitpid(child, &status, 0) == child);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static uint32_t addr_of(const char *s) {
        struct in_addr in;

        CHILD_CHECK(inet_pton(AF_INET, s, &in) == 1);
        return ntohl(in.s_addr);
}

/* "10.88.5.0/24" → 10.88.5.0 */
static uint32_t subnet_of(const char *cidr) {
        char buf[BRIDGE_CIDR_MAX];
        char *slash;

        snprintf(buf, sizeof(buf), "%s", cidr);
        slash = strchr(buf, '/');
        CHILD_CHECK(slash && streq(slash, "/24"));
        *slash = '\0';
        return addr_of(buf);
}

static bool if_flag(const char *ifname, unsigned flag) {
        struct ifaddrs *ifa, *i;
        bool r = false;

        CHILD_CHECK(getifaddrs(&ifa) == 0);
        for (i = ifa; i; i = i->ifa_next)
                if (streq(i->ifa_name, ifname) && (i->ifa_flags & flag))
                        r = true;
        freeifaddrs(ifa);
        return r;
}

/* Whether ifname has addr/prefix (host byte order). */
static bool if_has_addr(const char *ifname, uint32_t addr, unsigned prefix) {
        struct ifaddrs *ifa, *i;
        uint32_t mask = UINT32_MAX << (32 - prefix);
        bool r = false;

        CHILD_CHECK(getifaddrs(&ifa) == 0);
        for (i = ifa; i; i = i->ifa_next) {
                const struct sockaddr_in *a = (const void *) i->ifa_addr, *m = (const void *) i->ifa_netmask;

                if (!streq(i->ifa_name, ifname) || !a || a->sin_family != AF_INET || !m)
                        continue;
                if (ntohl(a->sin_addr.s_addr) == addr && ntohl(m->sin_addr.s_addr) == mask)
                        r = true;
        }
        freeifaddrs(ifa);
        return r;
}

/* The link-layer address of ifname, from its AF_PACKET entry. */
static void if_mac(const char *ifname, uint8_t ret[static 6]) {
        struct ifaddrs *ifa, *i;
        bool found = false;

        CHILD_CHECK(getifaddrs(&ifa) == 0);
        for (i = ifa; i; i = i->ifa_next) {
                const struct sockaddr_ll *ll = (const void *) i->ifa_addr;

                if (streq(i->ifa_name, ifname) && ll && ll->sll_family == AF_PACKET && ll->sll_halen == 6) {
                        memcpy(ret, ll->sll_addr, 6);
                        found = true;
                }
        }
        freeifaddrs(ifa);
        CHILD_CHECK(found);
}

static int read_sysctl(const char *path, char *buf, size_t n) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t k;

        if (fd < 0)
                return -errno;
        k = read(fd, buf, n - 1);
        close(fd);
        if (k < 0)
                return -errno;
        buf[k] = '\0';
        return 0;
}

static void write_sysctl(const char *path, const char *v) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        CHILD_CHECK(fd >= 0);
        CHILD_CHECK(write(fd, v, strlen(v)) == (ssize_t) strlen(v));
        close(fd);
}

static void set_forwarding(const char *ifname, const char *v) {
        char path[128];

        snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/forwarding", ifname);
        write_sysctl(path, v);
}

/* The master of a link in the current namespace, via libnl; -1 if absent. */
static int link_master(const char *ifname) {
        struct nl_sock *sk = nl_socket_alloc();
        struct rtnl_link *l = NULL;
        int m = -1;

        CHILD_CHECK(sk && nl_connect(sk, NETLINK_ROUTE) == 0);
        if (rtnl_link_get_kernel(sk, 0, ifname, &l) == 0) {
                m = rtnl_link_get_master(l);
                rtnl_link_put(l);
        }
        nl_socket_free(sk);
        return m;
}

static bool file_exists(const char *rel) {
        char path[256];

        snprintf(path, sizeof(path), "%s/%s", state_dir, rel);
        return access(path, F_OK) == 0;
}

/* ---- inside a "container" ----------------------------------------------- */

typedef struct Expect {
        uint32_t addr;   /* eth0's address, 0 = there must be no eth0 */
        uint32_t subnet;
} Expect;

/* eth0 with the expected address/24 and up, lo up, and exactly one route:
 * the /24 over eth0 (no default route).  Exit 0 or the failing line. */
static int check_container_netns(const void *p) {
        const Expect *e = p;
        char line[512];
        FILE *f;
        int routes = 0;

        if (!e->addr)
                return if_nametoindex("eth0") == 0 && if_nametoindex("lo") != 0 ? 0 : 10;
        if (!if_has_addr("eth0", e->addr, 24))
                return 11;
        if (!if_flag("eth0", IFF_UP) || !if_flag("lo", IFF_UP))
                return 12;
        /* /proc/self/net follows the namespace we setns()ed into. */
        f = fopen("/proc/self/net/route", "re");
        if (!f)
                return 13;
        while (fgets(line, sizeof(line), f)) {
                char ifname[IFNAMSIZ + 1];
                unsigned dest, gw, flags, refcnt, use, metric, mask;

                if (sscanf(line, "%16s %x %x %x %u %u %u %x", ifname, &dest, &gw, &flags, &refcnt, &use, &metric,
                           &mask) != 8)
                        continue; /* the header */
                routes++;
                /* The file prints the raw big-endian words. */
                if (!streq(ifname, "eth0") || dest != htonl(e->subnet) || mask != htonl(0xffffff00) || gw != 0) {
                        fclose(f);
                        return 14;
                }
        }
        fclose(f);
        return routes == 1 ? 0 : 15;
}

/* Only lo: a container that was never attached. */
static int check_only_lo(const void *p) {
        struct if_nameindex *v = if_nameindex(), *i;
        int n = 0, bad = 0;

        if (!v)
                return 20;
        for (i = v; i->if_index; i++, n++)
                if (!streq(i->if_name, "lo"))
                        bad = 1;
        if_freenameindex(v);
        return n == 1 && !bad ? 0 : 21;
}

typedef struct Peer {
        uint32_t addr;
        uint16_t port;
        int timeout_ms;
} Peer;

enum { CONNECT_OK = 0, CONNECT_UNREACH = 1, CONNECT_TIMEOUT = 2, CONNECT_OTHER = 3 };

/* Connects to addr:port, sends "ping", expects "pong". */
static int try_connect(const void *p) {
        const Peer *peer = p;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(peer->port),
                                  .sin_addr.s_addr = htonl(peer->addr) };
        struct pollfd pfd;
        char buf[8];
        int fd, err = 0;
        socklen_t len = sizeof(err);

        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return CONNECT_OTHER;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                if (errno == ENETUNREACH || errno == EHOSTUNREACH)
                        return CONNECT_UNREACH;
                if (errno != EINPROGRESS)
                        return CONNECT_OTHER;
                pfd = (struct pollfd) { .fd = fd, .events = POLLOUT };
                if (poll(&pfd, 1, peer->timeout_ms) == 0)
                        return CONNECT_TIMEOUT;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        return CONNECT_OTHER;
                if (err == ENETUNREACH || err == EHOSTUNREACH)
                        return CONNECT_UNREACH;
                if (err != 0)
                        return CONNECT_OTHER;
        }
        if (write(fd, "ping", 4) != 4)
                return CONNECT_OTHER;
        pfd = (struct pollfd) { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, 5000) != 1 || read(fd, buf, sizeof(buf)) != 4 || memcmp(buf, "pong", 4) != 0)
                return CONNECT_OTHER;
        close(fd);
        return CONNECT_OK;
}

/* A TCP server on addr:port in pid's namespace answering "ping" with
 * "pong", until killed. */
static pid_t listener_start(pid_t pid, uint32_t addr, uint16_t port) {
        int ready[2];
        pid_t child;
        char c;

        CHILD_CHECK(pipe2(ready, O_CLOEXEC) == 0);
        fflush(NULL);
        child = fork();
        CHILD_CHECK(child >= 0);
        if (child == 0) {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
                                          .sin_addr.s_addr = htonl(addr) };
                int one = 1, fd;

                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                enter_netns_of(pid);
                fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                CHILD_CHECK(fd >= 0);
                CHILD_CHECK(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
                CHILD_CHECK(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
                CHILD_CHECK(listen(fd, 8) == 0);
                CHILD_CHECK(write(ready[1], "x", 1) == 1);
                for (;;) {
                        char buf[8];
                        int c2 = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

                        if (c2 < 0)
                                continue;
                        if (read(c2, buf, sizeof(buf)) == 4 && memcmp(buf, "ping", 4) == 0)
                                (void) !write(c2, "pong", 4);
                        close(c2);
                }
        }
        close(ready[1]);
        CHILD_CHECK(read(ready[0], &c, 1) == 1);
        close(ready[0]);
        return child;
}

static int connect_from(pid_t from, uint32_t addr, uint16_t port, int timeout_ms) {
        Peer p = { .addr = addr, .port = port, .timeout_ms = timeout_ms };
        return in_netns(from, try_connect, &p);
}

/* What a container with CAP_NET_ADMIN could do: a default route via .1. */
static int add_default_route(const void *p) {
        const uint32_t *gw = p;
        struct rtentry rt = {};
        struct sockaddr_in *dst = (void *) &rt.rt_dst, *mask = (void *) &rt.rt_genmask,
                           *g = (void *) &rt.rt_gateway;
        int fd, r;

        dst->sin_family = mask->sin_family = g->sin_family = AF_INET;
        g->sin_addr.s_addr = htonl(*gw);
        rt.rt_flags = RTF_UP | RTF_GATEWAY;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return 1;
        r = ioctl(fd, SIOCADDRT, &rt);
        close(fd);
        return r < 0 ? 2 : 0;
}

/* ---- names -------------------------------------------------------------- */

static bool ifname_ok(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 15)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      *s == '_' || *s == '-' || *s == '.'))
                        return false;
        return true;
}

static void test_bridge_names(void **state) {
        char a[BRIDGE_IFNAMSIZ], b[BRIDGE_IFNAMSIZ];

        assert_int_equal(bridge_name_for_group("webapp", a), 0);
        assert_string_equal(a, "shb-webapp");
        assert_int_equal(bridge_name_for_group("abcdefghijk", a), 0); /* 11: still literal */
        assert_string_equal(a, "shb-abcdefghijk");
        assert_int_equal(strlen(a), 15);
        assert_int_equal(bridge_name_for_group("a.b_c-D", a), 0);
        assert_string_equal(a, "shb-a.b_c-D");

        /* 12 characters: hashed, still 15, deterministic, keeps a prefix. */
        assert_int_equal(bridge_name_for_group("abcdefghijkl", a), 0);
        assert_int_equal(strlen(a), 15);
        assert_true(strneq(a, "shb_abc", 7));
        assert_true(ifname_ok(a));
        assert_int_equal(bridge_name_for_group("abcdefghijkl", b), 0);
        assert_string_equal(a, b);

        /* Long names that share their first 11 characters differ. */
        assert_int_equal(bridge_name_for_group("production-frontend", a), 0);
        assert_int_equal(bridge_name_for_group("production-backend", b), 0);
        assert_string_not_equal(a, b);
        assert_true(ifname_ok(a) && ifname_ok(b));

        /* Characters an ifname should not have: hashed and replaced. */
        assert_int_equal(bridge_name_for_group("a b", a), 0);
        assert_true(strneq(a, "shb_axb", 7));
        assert_true(ifname_ok(a));
        assert_int_equal(bridge_name_for_group("x/y:z", a), 0);
        assert_true(ifname_ok(a));
        assert_int_equal(bridge_name_for_group("é", a), 0);
        assert_true(ifname_ok(a));
        /* The literal and hashed forms never collide: "shb-" vs "shb_". */
        assert_int_equal(bridge_name_for_group("a b", b), 0);
        assert_int_equal(bridge_name_for_group("axb", a), 0);
        assert_string_equal(a, "shb-axb");
        assert_string_not_equal(a, b);

        /* Errors leave the output alone. */
        strcpy(a, "untouched");
        assert_int_equal(bridge_name_for_group("", a), -EINVAL);
        assert_int_equal(bridge_name_for_group(NULL, a), -EINVAL);
        assert_string_equal(a, "untouched");
}

static void test_bridge_names_distinct(void **state) {
        enum { N = 2000 };
        static char names[N][BRIDGE_IFNAMSIZ];
        char g[64];

        for (int i = 0; i < N; i++) {
                snprintf(g, sizeof(g), "a-rather-long-group-name-%d", i);
                assert_int_equal(bridge_name_for_group(g, names[i]), 0);
                assert_true(ifname_ok(names[i]));
        }
        for (int i = 0; i < N; i++)
                for (int j = i + 1; j < N; j++)
                        assert_string_not_equal(names[i], names[j]);
}

static void test_veth_names(void **state) {
        char a[BRIDGE_IFNAMSIZ], b[BRIDGE_IFNAMSIZ];

        assert_int_equal(veth_name_for_container("webapp", "db", a), 0);
        assert_int_equal(strlen(a), 15);
        assert_true(strneq(a, "shv", 3));
        assert_true(ifname_ok(a));
        assert_int_equal(veth_name_for_container("webapp", "db", b), 0);
        assert_string_equal(a, b);
        assert_int_equal(veth_name_for_container("webapp", "web", b), 0);
        assert_string_not_equal(a, b);
        assert_int_equal(veth_name_for_container("other", "db", b), 0);
        assert_string_not_equal(a, b);
        /* The split between group and container matters. */
        assert_int_equal(veth_name_for_container("ab", "c", a), 0);
        assert_int_equal(veth_name_for_container("a", "bc", b), 0);
        assert_string_not_equal(a, b);
        /* Long names: same length. */
        assert_int_equal(veth_name_for_container("a-very-long-group-name-indeed-0123456789",
                                                 "and-a-very-long-container-name-too-0123456789", a),
                         0);
        assert_int_equal(strlen(a), 15);

        strcpy(a, "untouched");
        assert_int_equal(veth_name_for_container("", "db", a), -EINVAL);
        assert_int_equal(veth_name_for_container("g", "", a), -EINVAL);
        assert_int_equal(veth_name_for_container(NULL, "db", a), -EINVAL);
        assert_string_equal(a, "untouched");
}

/* ---- subnets ------------------------------------------------------------ */

static bool in_base(const char *cidr, uint32_t base, unsigned prefix) {
        uint32_t s = subnet_of(cidr);
        return (s & (UINT32_MAX << (32 - prefix))) == base && (s & 0xff) == 0;
}

/* Reservation alone is only files and a netlink dump: no privileges
 * needed.  In a private namespace when we can have one, so no host route
 * changes the outcome. */
static void child_subnet_reserve(void) {
        char a[BRIDGE_CIDR_MAX], a2[BRIDGE_CIDR_MAX], b[BRIDGE_CIDR_MAX], c[BRIDGE_CIDR_MAX];

        (void) unshare(CLONE_NEWNET);

        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "alpha", NULL, a), 0);
        CHILD_CHECK(in_base(a, 0x0a580000, 16));
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "alpha", NULL, a2), 0);
        CHILD_CHECK(streq(a, a2)); /* stable */
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "beta", NULL, b), 0);
        CHILD_CHECK(in_base(b, 0x0a580000, 16));
        CHILD_CHECK(!streq(a, b)); /* distinct */
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "alpha", "10.88.0.0/16", a2), 0);
        CHILD_CHECK(streq(a, a2));
        CHILD_CHECK(file_exists("net/alpha.json") && file_exists("net/beta.json"));

        /* Another base: alpha's /24 is not in it. */
        strcpy(c, "untouched");
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "alpha", "192.168.0.0/16", c), -EBUSY);
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "gamma", "192.168.128.0/17", c), 0);
        CHILD_CHECK(in_base(c, 0xc0a88000, 17));
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "delta", "172.20.7.0/24", c), 0);
        CHILD_CHECK(streq(c, "172.20.7.0/24"));

        /* Bad bases and names. */
        strcpy(c, "untouched");
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "x", "8.8.0.0/16", c), -EINVAL);      /* public */
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "x", "10.88.0.0/25", c), -EINVAL);    /* < /24 */
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "x", "0.0.0.0/0", c), -EINVAL);
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "x", "10.88.0.1/16", c), -EINVAL);    /* host bits */
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "x", "172.15.0.0/16", c), -EINVAL);
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "x", "10.88.0.0", c), -EINVAL);
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "x", "10.88.0.0/+16", c), -EINVAL);
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "x", "garbage/16", c), -EINVAL);
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "../x", NULL, c), -EINVAL);
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "", NULL, c), -EINVAL);
        CHILD_CHECK(streq(c, "untouched"));
        CHILD_CHECK(!file_exists("net/x.json"));
}

static void test_subnet_reserve(void **state) {
        run_in_child(child_subnet_reserve);
}

/* A base with room for two /24s: full, then a removed group frees its /24.
 * bridge_remove() talks to the kernel: root, in a private namespace. */
static void child_subnet_release(void) {
        char a[BRIDGE_CIDR_MAX], b[BRIDGE_CIDR_MAX], c[BRIDGE_CIDR_MAX];

        enter_private_netns();
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "g1", "10.99.0.0/23", a), 0);
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "g2", "10.99.0.0/23", b), 0);
        CHILD_CHECK(!streq(a, b));
        CHILD_CHECK(in_base(a, 0x0a630000, 23) && in_base(b, 0x0a630000, 23));
        strcpy(c, "untouched");
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "g3", "10.99.0.0/23", c), -ENOSPC);
        CHILD_CHECK(streq(c, "untouched"));
        CHILD_CHECK_R(bridge_remove(state_dir, "g1"), 0);
        CHILD_CHECK(!file_exists("net/g1.json"));
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "g3", "10.99.0.0/23", c), 0);
        CHILD_CHECK(streq(a, c));
        CHILD_CHECK_R(bridge_remove(state_dir, "g2"), 0);
        CHILD_CHECK_R(bridge_remove(state_dir, "g3"), 0);
}

static void test_subnet_release(void **state) {
        run_in_child(child_subnet_release);
}

/* A /24 the namespace already uses (here: another state dir's bridge, as
 * a second shuttle instance would have) is never handed out. */
static void child_subnet_host_overlap(void) {
        char other_dir[128], c[BRIDGE_CIDR_MAX];
        BridgeInfo b;

        enter_private_netns();
        snprintf(other_dir, sizeof(other_dir), "%s/other", state_dir);
        CHILD_CHECK_R(bridge_ensure(other_dir, "occupy", "10.98.0.0/24", &b), 0);
        CHILD_CHECK(streq(b.subnet, "10.98.0.0/24"));
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "x", "10.98.0.0/24", c), -ENOSPC);
        CHILD_CHECK_R(bridge_reserve_subnet(state_dir, "x", "10.98.0.0/23", c), 0);
        CHILD_CHECK(streq(c, "10.98.1.0/24"));
        CHILD_CHECK_R(bridge_remove(other_dir, "occupy"), 0);
        CHILD_CHECK(if_nametoindex("shb-occupy") == 0);
        CHILD_CHECK_R(bridge_remove(state_dir, "x"), 0);
}

static void test_subnet_host_overlap(void **state) {
        run_in_child(child_subnet_host_overlap);
}

/* ---- live --------------------------------------------------------------- */

static void child_live(void) {
        char buf[16], addr_a[BRIDGE_ADDR_MAX], addr_b[BRIDGE_ADDR_MAX], addr_c[BRIDGE_ADDR_MAX],
                addr_d[BRIDGE_ADDR_MAX], veth_a[BRIDGE_IFNAMSIZ], veth_b[BRIDGE_IFNAMSIZ], veth_c[BRIDGE_IFNAMSIZ];
        BridgeInfo b, b2, o;
        uint8_t mac[6], mac2[6];
        uint32_t net, onet;
        pid_t ca, cb, cc, cn, cd, la, lb;
        int lock_alpha, lock_other;
        Expect e;

        enter_private_netns();
        /* A host that forwards: group isolation must not depend on it. */
        write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");

        lock_alpha = bridge_lock_group(state_dir, "alpha");
        CHILD_CHECK(lock_alpha >= 0);
        CHILD_CHECK_R(bridge_lock_group(state_dir, "alpha"), -EBUSY);
        lock_other = bridge_lock_group(state_dir, "other");
        CHILD_CHECK(lock_other >= 0);

        /* The bridge: up, .1/24, not forwarding. */
        CHILD_CHECK_R(bridge_ensure(state_dir, "alpha", NULL, &b), 0);
        CHILD_CHECK(streq(b.ifname, "shb-alpha") && streq(b.group, "alpha"));
        net = subnet_of(b.subnet);
        CHILD_CHECK((net & 0xffff0000) == 0x0a580000);
        CHILD_CHECK(addr_of(b.gateway) == net + 1);
        CHILD_CHECK(b.ifindex > 0 && (unsigned) b.ifindex == if_nametoindex("shb-alpha"));
        CHILD_CHECK(if_flag("shb-alpha", IFF_UP));
        CHILD_CHECK(if_has_addr("shb-alpha", net + 1, 24));
        CHILD_CHECK(read_sysctl("/proc/sys/net/ipv4/conf/shb-alpha/forwarding", buf, sizeof(buf)) == 0);
        CHILD_CHECK(streq(buf, "0\n"));
        CHILD_CHECK(read_sysctl("/proc/sys/net/ipv4/ip_forward", buf, sizeof(buf)) == 0);
        CHILD_CHECK(streq(buf, "1\n"));
        /* Its own MAC (locally administered), kept as ports come. */
        if_mac("shb-alpha", mac);
        CHILD_CHECK(mac[0] == 0x02);
        /* Idempotent. */
        CHILD_CHECK_R(bridge_ensure(state_dir, "alpha", NULL, &b2), 0);
        CHILD_CHECK(streq(b2.subnet, b.subnet) && b2.ifindex == b.ifindex);

        CHILD_CHECK_R(bridge_ensure(state_dir, "other", NULL, &o), 0);
        onet = subnet_of(o.subnet);
        CHILD_CHECK(onet != net);
        CHILD_CHECK(!streq(o.ifname, b.ifname));

        /* Two containers of alpha, one of other, one never attached. */
        ca = holder_start();
        cb = holder_start();
        cc = holder_start();
        cn = holder_start();
        CHILD_CHECK_R(bridge_attach(&b, "a", ca, addr_a), 0);
        CHILD_CHECK_R(bridge_attach(&b, "b", cb, addr_b), 0);
        CHILD_CHECK_R(bridge_attach(&o, "c", cc, addr_c), 0);
        CHILD_CHECK(addr_of(addr_a) == net + 2);
        CHILD_CHECK(addr_of(addr_b) == net + 3);
        CHILD_CHECK(addr_of(addr_c) == onet + 2);

        /* Host ends: ports of the right bridge. */
        CHILD_CHECK_R(veth_name_for_container("alpha", "a", veth_a), 0);
        CHILD_CHECK_R(veth_name_for_container("alpha", "b", veth_b), 0);
        CHILD_CHECK_R(veth_name_for_container("other", "c", veth_c), 0);
        CHILD_CHECK(link_master(veth_a) == b.ifindex);
        CHILD_CHECK(link_master(veth_b) == b.ifindex);
        CHILD_CHECK(link_master(veth_c) == o.ifindex);
        CHILD_CHECK(if_flag(veth_a, IFF_UP));
        CHILD_CHECK(if_nametoindex("eth0") == 0); /* the peer never shows up here */
        if_mac("shb-alpha", mac2);
        CHILD_CHECK(memcmp(mac, mac2, 6) == 0);

        /* Inside: eth0 .N/24 up, lo up, only the /24 route. */
        e = (Expect) { .addr = net + 2, .subnet = net };
        CHILD_CHECK_R(in_netns(ca, check_container_netns, &e), 0);
        e = (Expect) { .addr = net + 3, .subnet = net };
        CHILD_CHECK_R(in_netns(cb, check_container_netns, &e), 0);
        e = (Expect) { .addr = onet + 2, .subnet = onet };
        CHILD_CHECK_R(in_netns(cc, check_container_netns, &e), 0);
        CHILD_CHECK_R(in_netns(cn, check_only_lo, NULL), 0);

        /* Errors. */
        CHILD_CHECK_R(bridge_attach(&b, "a2", 999999999, addr_d), -ESRCH);
        /* Attaching again replaces the pair: same address, still works. */
        CHILD_CHECK_R(bridge_attach(&b, "a", ca, addr_d), 0);
        CHILD_CHECK(streq(addr_d, addr_a));
        /* Another container into a namespace that has an eth0 already. */
        strcpy(addr_d, "untouched");
        CHILD_CHECK_R(bridge_attach(&b, "a2", ca, addr_d), -EEXIST);
        CHILD_CHECK(streq(addr_d, "untouched"));
        CHILD_CHECK_R(bridge_detach(state_dir, "alpha", "a2"), -ENOENT); /* not recorded */
        CHILD_CHECK_R(bridge_detach(state_dir, "alpha", "nosuch"), -ENOENT);
        CHILD_CHECK_R(bridge_detach(state_dir, "nosuch", "a"), -ENOENT);

        /* a reaches b; c (other group) reaches neither, even with ip_forward
         * on: it has no route. */
        lb = listener_start(cb, net + 3, 7777);
        la = listener_start(ca, net + 2, 7777);
        CHILD_CHECK_R(connect_from(ca, net + 3, 7777, 5000), CONNECT_OK);
        CHILD_CHECK_R(connect_from(cb, net + 2, 7777, 5000), CONNECT_OK);
        CHILD_CHECK_R(connect_from(cc, net + 2, 7777, 1000), CONNECT_UNREACH);
        CHILD_CHECK_R(connect_from(ca, onet + 2, 7777, 1000), CONNECT_UNREACH);
        CHILD_CHECK_R(connect_from(cn, net + 2, 7777, 1000), CONNECT_UNREACH);

        /* With default routes via .1 (as CAP_NET_ADMIN could add), the host
         * still does not forward between the bridges... */
        CHILD_CHECK_R(in_netns(ca, add_default_route, &(uint32_t) { net + 1 }), 0);
        CHILD_CHECK_R(in_netns(cc, add_default_route, &(uint32_t) { onet + 1 }), 0);
        CHILD_CHECK_R(connect_from(cc, net + 2, 7777, 1000), CONNECT_TIMEOUT);
        /* ...and that is the per-bridge forwarding switch: on, it would. */
        set_forwarding("shb-alpha", "1");
        set_forwarding("shb-other", "1");
        CHILD_CHECK_R(connect_from(cc, net + 2, 7777, 5000), CONNECT_OK);
        set_forwarding("shb-alpha", "0");
        set_forwarding("shb-other", "0");
        holder_stop(la);
        holder_stop(lb);

        /* Detach: the host end and eth0 are gone, the address is kept. */
        CHILD_CHECK_R(bridge_detach(state_dir, "alpha", "b"), 0);
        CHILD_CHECK(if_nametoindex(veth_b) == 0);
        e = (Expect) { .addr = 0 };
        CHILD_CHECK_R(in_netns(cb, check_container_netns, &e), 0);
        CHILD_CHECK_R(bridge_detach(state_dir, "alpha", "b"), 0); /* again: nothing to do */
        /* A new container does not take b's address... */
        cd = holder_start();
        CHILD_CHECK_R(bridge_attach(&b, "d", cd, addr_d), 0);
        CHILD_CHECK(addr_of(addr_d) == net + 4);
        /* ...and b, restarted in a fresh namespace, gets its own back. */
        holder_stop(cb);
        cb = holder_start();
        CHILD_CHECK_R(bridge_attach(&b, "b", cb, addr_b), 0);
        CHILD_CHECK(addr_of(addr_b) == net + 3);
        /* A container that dies takes its veth pair with it (eventually). */
        holder_stop(cd);

        /* Remove: bridge, veths and state go; the containers keep only lo. */
        CHILD_CHECK_R(bridge_remove(state_dir, "alpha"), 0);
        CHILD_CHECK(if_nametoindex("shb-alpha") == 0);
        CHILD_CHECK(if_nametoindex(veth_a) == 0 && if_nametoindex(veth_b) == 0);
        CHILD_CHECK_R(in_netns(ca, check_only_lo, NULL), 0);
        CHILD_CHECK_R(in_netns(cb, check_only_lo, NULL), 0);
        CHILD_CHECK(!file_exists("net/alpha.json"));
        CHILD_CHECK_R(bridge_remove(state_dir, "alpha"), 0); /* again: fine */
        bridge_unlock_group(state_dir, "alpha", lock_alpha);
        CHILD_CHECK(!file_exists("net/alpha.lock"));

        CHILD_CHECK_R(bridge_remove(state_dir, "other"), 0);
        CHILD_CHECK(if_nametoindex("shb-other") == 0 && if_nametoindex(veth_c) == 0);
        bridge_unlock_group(state_dir, "other", lock_other);
        CHILD_CHECK(!file_exists("net/other.json") && !file_exists("net/other.lock"));

        holder_stop(ca);
        holder_stop(cb);
        holder_stop(cc);
        holder_stop(cn);
}

static void test_live(void **state) {
        run_in_child(child_live);
}

/* A link named like the bridge that is not one is not taken over. */
static void child_not_a_bridge(void) {
        BridgeInfo b;
        char addr[BRIDGE_ADDR_MAX];
        pid_t h;

        enter_private_netns();
        /* Someone else's link (a veth) already has the bridge's name. */
        {
                struct nl_sock *sk = nl_socket_alloc();
                struct rtnl_link *l = rtnl_link_veth_alloc(), *peer;

                CHILD_CHECK(sk && l && nl_connect(sk, NETLINK_ROUTE) == 0);
                peer = rtnl_link_veth_get_peer(l);
                rtnl_link_set_name(l, "shb-taken");
                rtnl_link_set_name(peer, "taken-peer");
                CHILD_CHECK(rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL) == 0);
                rtnl_link_put(peer);
                rtnl_link_put(l);
                nl_socket_free(sk);
        }
        CHILD_CHECK_R(bridge_ensure(state_dir, "taken", NULL, &b), -EEXIST);
        /* bridge_remove() leaves a link that is not a bridge alone. */
        CHILD_CHECK_R(bridge_remove(state_dir, "taken"), 0);
        CHILD_CHECK(if_nametoindex("shb-taken") != 0);

        /* attach without state */
        snprintf(b.state_dir, sizeof(b.state_dir), "%s", state_dir);
        snprintf(b.group, sizeof(b.group), "nostate");
        snprintf(b.ifname, sizeof(b.ifname), "shb-nostate");
        snprintf(b.subnet, sizeof(b.subnet), "10.88.1.0/24");
        h = holder_start();
        strcpy(addr, "untouched");
        CHILD_CHECK_R(bridge_attach(&b, "x", h, addr), -ENOENT);
        CHILD_CHECK(streq(addr, "untouched"));
        holder_stop(h);
}

static void test_not_a_bridge(void **state) {
        run_in_child(child_not_a_bridge);
}

/* A supervisor dies holding a group: stale cleanup removes the bridge, the
 * veths and the state; a group whose lock is held stays. */
static void child_stale(void) {
        char addr[BRIDGE_ADDR_MAX], veth[BRIDGE_IFNAMSIZ], path[256];
        int ready[2], lock_alive, fd;
        pid_t x, sup;
        BridgeInfo alive;
        Expect e;
        char c;

        enter_private_netns();
        CHILD_CHECK_R(bridge_cleanup_stale(state_dir), 0); /* no net/ yet */

        x = holder_start();
        CHILD_CHECK(pipe2(ready, O_CLOEXEC) == 0);
        fflush(NULL);
        sup = fork();
        CHILD_CHECK(sup >= 0);
        if (sup == 0) {
                BridgeInfo b;

                CHILD_CHECK(bridge_lock_group(state_dir, "crashy") >= 0);
                CHILD_CHECK_R(bridge_ensure(state_dir, "crashy", NULL, &b), 0);
                CHILD_CHECK_R(bridge_attach(&b, "x", x, addr), 0);
                CHILD_CHECK(write(ready[1], "x", 1) == 1);
                for (;;)
                        pause();
        }
        close(ready[1]);
        CHILD_CHECK(read(ready[0], &c, 1) == 1);
        close(ready[0]);

        lock_alive = bridge_lock_group(state_dir, "alive");
        CHILD_CHECK(lock_alive >= 0);
        CHILD_CHECK_R(bridge_ensure(state_dir, "alive", NULL, &alive), 0);
        /* A supervisor that died before it made any state. */
        snprintf(path, sizeof(path), "%s/net/orphan.lock", state_dir);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        CHILD_CHECK(fd >= 0);
        close(fd);

        CHILD_CHECK_R(veth_name_for_container("crashy", "x", veth), 0);
        CHILD_CHECK(if_nametoindex("shb-crashy") != 0 && if_nametoindex(veth) != 0);
        /* The supervisor is alive: nothing is stale. */
        CHILD_CHECK_R(bridge_cleanup_stale(state_dir), 0);
        CHILD_CHECK(if_nametoindex("shb-crashy") != 0);
        CHILD_CHECK(!file_exists("net/orphan.lock"));

        kill(sup, SIGKILL);
        CHILD_CHECK(waitpid(sup, NULL, 0) == sup);
        CHILD_CHECK_R(bridge_cleanup_stale(state_dir), 1);
        CHILD_CHECK(if_nametoindex("shb-crashy") == 0 && if_nametoindex(veth) == 0);
        e = (Expect) { .addr = 0 };
        CHILD_CHECK_R(in_netns(x, check_container_netns, &e), 0);
        CHILD_CHECK(!file_exists("net/crashy.json") && !file_exists("net/crashy.lock"));
        /* The live group is untouched. */
        CHILD_CHECK(if_nametoindex("shb-alive") != 0 && file_exists("net/alive.json"));
        CHILD_CHECK_R(bridge_cleanup_stale(state_dir), 0);

        CHILD_CHECK_R(bridge_remove(state_dir, "alive"), 0);
        bridge_unlock_group(state_dir, "alive", lock_alive);
        holder_stop(x);
}

static void test_stale(void **state) {
        run_in_child(child_stale);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bridge_names),
                cmocka_unit_test(test_bridge_names_distinct),
                cmocka_unit_test(test_veth_names),
                cmocka_unit_test_setup_teardown(test_subnet_reserve, setup_state, teardown_state),
                cmocka_unit_test_setup_teardown(test_subnet_release, setup_state, teardown_state),
                cmocka_unit_test_setup_teardown(test_subnet_host_overlap, setup_state, teardown_state),
                cmocka_unit_test_setup_teardown(test_live, setup_state, teardown_state),
                cmocka_unit_test_setup_teardown(test_not_a_bridge, setup_state, teardown_state),
                cmocka_unit_test_setup_teardown(test_stale, setup_state, teardown_state),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
