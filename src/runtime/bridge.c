/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Group bridges over rtnetlink with libnl-route-3: what "ip link add type
 * bridge", "ip link add type veth peer netns", "ip addr add" would do, plus
 * the state that lets a crashed group be cleaned up.  See bridge.h. */

#include <arpa/inet.h>
#include <dirent.h>
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
#include "runtime/bridge-internal.h"
#include "runtime/bridge.h"
#include "runtime/sandbox.h"

/* libnl turns the kernel's errno into its own NLE_* codes; back again. */
int bridge_nlerr(int e) {
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

int bridge_rtnl_open(struct nl_sock **ret) {
        struct nl_sock *sk;
        int r;

        r = bridge_libnl_load();
        if (r < 0)
                return r;
        sk = nl_socket_alloc();
        if (!sk)
                return -ENOMEM;
        /* nl_connect() opens the socket with SOCK_CLOEXEC. */
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0) {
                nl_socket_free(sk);
                return bridge_nlerr(r);
        }
        *ret = sk;
        return 0;
}

/* ---- links and addresses ------------------------------------------------ */

static int link_get(struct nl_sock *sk, const char *name, struct rtnl_link **ret) {
        struct rtnl_link *l = NULL;
        int r;

        r = rtnl_link_get_kernel(sk, 0, name, &l);
        if (r < 0)
                return bridge_nlerr(r);
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
        r = bridge_nlerr(rtnl_link_delete(sk, l));
        return r == -ENODEV ? 0 : r;
}

static int addr_add(struct nl_sock *sk, int ifindex, uint32_t a, unsigned prefix) {
        _cleanup_rtnl_addr_ struct rtnl_addr *ra = rtnl_addr_alloc();
        _cleanup_nl_addr_ struct nl_addr *local = NULL, *bcast = NULL;
        uint32_t be = htonl(a), bcast_be = htonl(a | ~bridge_prefix_mask(prefix));
        int r;

        local = nl_addr_build(AF_INET, &be, sizeof(be));
        bcast = nl_addr_build(AF_INET, &bcast_be, sizeof(bcast_be));
        if (!ra || !local || !bcast)
                return -ENOMEM;
        nl_addr_set_prefixlen(local, (int) prefix);
        rtnl_addr_set_ifindex(ra, ifindex);
        r = rtnl_addr_set_local(ra, local);
        if (r < 0)
                return bridge_nlerr(r);
        rtnl_addr_set_prefixlen(ra, (int) prefix);
        r = rtnl_addr_set_broadcast(ra, bcast);
        if (r < 0)
                return bridge_nlerr(r);
        /* With the address comes the kernel's link route for the prefix:
         * the only route a container gets. */
        r = bridge_nlerr(rtnl_addr_add(sk, ra, 0));
        return r == -EEXIST ? 0 : r;
}

static int bridge_link_create(struct nl_sock *sk, const char *ifname, struct rtnl_link **ret) {
        _cleanup_rtnl_link_ struct rtnl_link *l = rtnl_link_bridge_alloc();
        _cleanup_nl_addr_ struct nl_addr *mac = NULL;
        uint64_t h = bridge_fnv1a(FNV_OFFSET, ifname, strlen(ifname));
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
        r = bridge_nlerr(rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL));
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
                return bridge_nlerr(r);
        return bridge_nlerr(rtnl_link_change(sk, orig, changes, 0));
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
        if (bridge_cidr_parse(b.subnet, &subnet) < 0)
                return -EBADMSG;
        (void) bridge_name_for_group(group, b.ifname);

        r = bridge_rtnl_open(&sk);
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
        bridge_addr_format(subnet.addr + 1, b.gateway);
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

                if (bridge_addr_parse(bridge_json_str(v, "address"), &a) < 0)
                        continue;
                c = (Cidr) { .addr = a, .prefix = 32 };
                if (!bridge_cidr_contains(subnet, c))
                        continue;
                any[a & 0xff] = true;
                if (!streq(key, container) && json_is_true(json_object_get(v, "attached")))
                        attached[a & 0xff] = true;
        }

        mine = json_object_get(containers, container);
        if (mine && bridge_addr_parse(bridge_json_str(mine, "address"), &a) >= 0 &&
            bridge_cidr_contains(subnet, (Cidr) { .addr = a, .prefix = 32 }) && (a & 0xff) >= 2 && (a & 0xff) <= 254 &&
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
                        if (!streq(key, container) && bridge_addr_parse(bridge_json_str(v, "address"), &a) >= 0 &&
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

        bridge_addr_format(a, as);
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
        return bridge_nlerr(rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL));
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

        r = bridge_rtnl_open(&sk);
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
        if (bridge_cidr_parse(b->subnet, &subnet) < 0 || subnet.prefix != 24)
                return -EINVAL;
        (void) veth_name_for_container(b->group, container, veth);

        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
        nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
                return errno == ENOENT ? -ESRCH : -errno;

        r = bridge_net_dir_lock(b->state_dir, false, &netfd);
        if (r < 0)
                return r;
        r = bridge_state_load(netfd, b->group, &st);
        if (r < 0)
                return r;
        containers = bridge_state_containers(st);
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
        r = bridge_state_save(netfd, b->group, st);
        if (r < 0)
                return r;

        r = bridge_rtnl_open(&sk);
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

        bridge_addr_format(a, ret_addr);
        return 0;

fail:
        if (sk)
                (void) link_delete(sk, veth);
        /* A container seen before keeps its address; a new one never got
         * one. */
        if (known ? container_record(containers, container, a, veth, false) >= 0
                  : json_object_del(containers, container) == 0)
                (void) bridge_state_save(netfd, b->group, st);
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
        r = bridge_net_dir_open(state_dir, false, &netfd);
        if (r < 0)
                return r;
        r = bridge_state_load(netfd, group, &st);
        if (r < 0)
                return r;
        e = json_object_get(json_object_get(st, "containers"), container);
        if (!json_is_object(e))
                return -ENOENT;
        if (!json_is_true(json_object_get(e, "attached")))
                return -ENOLINK;
        a = bridge_json_str(e, "address");
        if (!a || bridge_addr_parse(a, &addr) < 0)
                return -EBADMSG;
        bridge_addr_format(addr, ret_addr);
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

        r = bridge_net_dir_lock(state_dir, false, &netfd);
        if (r < 0)
                return r;
        r = bridge_state_load(netfd, group, &st);
        if (r < 0)
                return r;
        e = json_object_get(json_object_get(st, "containers"), container);
        if (!json_is_object(e))
                return -ENOENT;

        r = bridge_rtnl_open(&sk);
        if (r < 0)
                return r;
        r = link_delete(sk, veth);
        if (r < 0)
                return r;
        if (json_object_set_new(e, "attached", json_false()) < 0)
                return -ENOMEM;
        return bridge_state_save(netfd, group, st);
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
                return bridge_nlerr(r);
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

        r = bridge_net_dir_lock(state_dir, false, &netfd);
        if (r < 0 && r != -ENOENT)
                return r;
        if (netfd >= 0) {
                r = bridge_state_load(netfd, group, &st);
                if (r < 0 && r != -ENOENT && r != -EBADMSG)
                        return r;
        }

        r = bridge_rtnl_open(&sk);
        if (r < 0)
                return r;
        json_object_foreach(json_object_get(st, "containers"), key, v) {
                const char *veth = bridge_json_str(v, "veth");

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

        (void) bridge_group_file(group, ".json.tmp", name);
        (void) unlinkat(netfd, name, 0);
        (void) bridge_group_file(group, ".json", name);
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

        r = bridge_net_dir_open(state_dir, false, &netfd);
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
                fd = bridge_lock_group_at(netfd, *g);
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

                if (!container_name_is_valid(*g) || bridge_group_file(*g, ".json", name) < 0 ||
                    faccessat(netfd, name, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                        continue;
                fd = bridge_lock_group_at(netfd, *g);
                if (fd >= 0)
                        bridge_unlock_group(state_dir, *g, fd);
        }
        return ret < 0 ? ret : removed;
}
