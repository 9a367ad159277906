/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the files of group bridges share (bridge.c: links, addresses and
 * containers over rtnetlink; bridge-addr.c: interface names and IPv4
 * prefixes; bridge-state.c: the state under <state>/net/ and the subnets
 * it reserves).  Private to them: the runtime's API is bridge.h. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "common/macro.h"
#include "runtime/bridge-nl.h"
#include "runtime/bridge.h"

#define CONTAINER_IFNAME "eth0"
#define VETH_PREFIX "shv"
/* FNV-1a, for names and a group's first subnet to try. */
#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)
#define GROUP_FILE_MAX 80 /* a valid group name (<= 63) + ".json.tmp" */

/* ---- cleanup helpers ---------------------------------------------------- */

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_addr *, rtnl_addr_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_addr *, nl_addr_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free)
static inline void json_unrefp(json_t **p) {
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


typedef struct Cidr {
        uint32_t addr;
        unsigned prefix;
} Cidr;

typedef struct CidrList {
        Cidr *v;
        size_t n, allocated;
} CidrList;

/* bridge.c */
int bridge_nlerr(int e);
int bridge_rtnl_open(struct nl_sock **ret);

/* bridge-addr.c */
bool bridge_cidr_contains(Cidr outer, Cidr inner);
bool bridge_cidr_overlap(Cidr a, Cidr b);
int bridge_addr_parse(const char *s, uint32_t *ret);
int bridge_base_parse(const char *s, Cidr *ret);
int bridge_cidr_parse(const char *s, Cidr *ret);
uint32_t bridge_prefix_mask(unsigned p);
uint64_t bridge_fnv1a(uint64_t h, const char *s, size_t n);
void bridge_addr_format(uint32_t a, char ret[static BRIDGE_ADDR_MAX]);
void bridge_cidr_format(Cidr c, char ret[static BRIDGE_CIDR_MAX]);

/* bridge-state.c */
const char *bridge_json_str(const json_t *o, const char *key);
int bridge_lock_group_at(int netfd, const char *group);
int bridge_net_dir_lock(const char *state_dir, bool create, int *ret);
int bridge_net_dir_open(const char *state_dir, bool create, int *ret);
int bridge_group_file(const char *group, const char *suffix, char ret[static GROUP_FILE_MAX]);
int bridge_state_load(int netfd, const char *group, json_t **ret);
int bridge_state_save(int netfd, const char *group, const json_t *o);
json_t *bridge_state_containers(json_t *st);
