/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Group bridges: their state under <state>/net/ (one file per group, with
 * its subnet and its containers' addresses, under a lock per group), which
 * lets a crashed group be cleaned up, and the subnets reserved in it,
 * clear of every prefix the host already routes.  See bridge.h. */

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

/* ---- state files -------------------------------------------------------- */

int bridge_group_file(const char *group, const char *suffix, char ret[static GROUP_FILE_MAX]) {
        /* Valid names start with an alphanumeric and have no '/': always a
         * plain, visible file name inside net/. */
        if (!container_name_is_valid(group))
                return -EINVAL;
        snprintf(ret, GROUP_FILE_MAX, "%s%s", group, suffix);
        return 0;
}

int bridge_net_dir_open(const char *state_dir, bool create, int *ret) {
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
int bridge_net_dir_lock(const char *state_dir, bool create, int *ret) {
        _cleanup_close_ int fd = -1;
        int r;

        r = bridge_net_dir_open(state_dir, create, &fd);
        if (r < 0)
                return r;
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return -errno;
        *ret = TAKE_FD(fd);
        return 0;
}

int bridge_state_load(int netfd, const char *group, json_t **ret) {
        char name[GROUP_FILE_MAX];
        _cleanup_close_ int fd = -1;
        json_t *o;
        int r;

        r = bridge_group_file(group, ".json", name);
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

int bridge_state_save(int netfd, const char *group, const json_t *o) {
        char name[GROUP_FILE_MAX], tmp[GROUP_FILE_MAX];
        _cleanup_close_ int fd = -1;
        int r;

        r = bridge_group_file(group, ".json", name);
        if (r < 0)
                return r;
        (void) bridge_group_file(group, ".json.tmp", tmp);
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

const char *bridge_json_str(const json_t *o, const char *key) {
        const json_t *v = json_object_get(o, key);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

json_t *bridge_state_containers(json_t *st) {
        json_t *c = json_object_get(st, "containers");

        if (json_is_object(c))
                return c;
        c = json_object();
        if (!c || json_object_set_new(st, "containers", c) < 0)
                return NULL;
        return c;
}

int bridge_lock_group_at(int netfd, const char *group) {
        char name[GROUP_FILE_MAX];
        int r;

        r = bridge_group_file(group, ".lock", name);
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
        r = bridge_net_dir_open(state_dir, true, &netfd);
        if (r < 0)
                return r;
        return bridge_lock_group_at(netfd, group);
}

void bridge_unlock_group(const char *state_dir, const char *group, int fd) {
        _cleanup_close_ int netfd = -1;
        char name[GROUP_FILE_MAX];
        int saved = errno;

        if (fd < 0)
                return;
        if (bridge_group_file(group, ".lock", name) >= 0 && bridge_net_dir_open(state_dir, false, &netfd) >= 0)
                (void) unlinkat(netfd, name, 0);
        safe_close(fd);
        errno = saved;
}

/* ---- subnet allocation -------------------------------------------------- */


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

        r = bridge_rtnl_open(&sk);
        if (r < 0)
                return r;
        r = rtnl_addr_alloc_cache(sk, &addrs);
        if (r < 0)
                return bridge_nlerr(r);
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
                return bridge_nlerr(r);
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
                if (streq(other, group) || bridge_state_load(netfd, other, &st) < 0)
                        continue;
                if (bridge_cidr_parse(bridge_json_str(st, "subnet"), &s) < 0 || s.prefix != 24 || !bridge_cidr_contains(base, s))
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

        r = bridge_state_load(netfd, group, &st);
        if (r >= 0) {
                Cidr s;

                if (bridge_cidr_parse(bridge_json_str(st, "subnet"), &s) < 0 || s.prefix != 24)
                        return -EBADMSG;
                if (!bridge_cidr_contains(base, s))
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
        start = (size_t) (bridge_fnv1a(FNV_OFFSET, group, strlen(group)) % nslots);
        for (size_t i = 0; i < nslots && !ok; i++) {
                size_t slot = (start + i) % nslots;
                Cidr c = { .addr = base.addr + ((uint32_t) slot << 8), .prefix = 24 };

                if (used[slot])
                        continue;
                ok = true;
                for (size_t j = 0; j < host.n && ok; j++)
                        ok = !bridge_cidr_overlap(c, host.v[j]);
                found = c;
        }
        if (!ok)
                return -ENOSPC;

        (void) bridge_name_for_group(group, ifname);
        bridge_cidr_format(base, base_s);
        bridge_cidr_format(found, subnet_s);
        st = json_pack("{s:s, s:s, s:s, s:s, s:{}}", "group", group, "bridge", ifname, "base", base_s, "subnet",
                       subnet_s, "containers");
        if (!st)
                return -ENOMEM;
        r = bridge_state_save(netfd, group, st);
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
        r = bridge_base_parse(base_cidr, &base);
        if (r < 0)
                return r;
        r = bridge_net_dir_lock(state_dir, true, &netfd);
        if (r < 0)
                return r;
        r = reserve_subnet_locked(netfd, group, base, &s);
        if (r < 0)
                return r;
        bridge_cidr_format(s, ret);
        return 0;
}
