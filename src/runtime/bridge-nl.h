/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libnl, loaded when a bridge is first touched (bridge-nl.c).
 *
 * Only app groups with bridge networking use libnl: every other start of
 * shuttlectl (and the broker) need not map and relocate it.  The functions
 * below are called through pointers that bridge_libnl_load() fills from
 * libnl-route-3 (which brings libnl-3) on first use (bridge_rtnl_open()
 * calls it); every other libnl call works on a socket or an object that
 * came from such a socket.  The build still links against libnl to check
 * the prototypes, but with --as-needed nothing references it.
 *
 * Every file of the bridges that calls libnl includes this after libnl's
 * own headers (bridge-internal.h does), so each call goes through its
 * pointer. */

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/inet.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

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

typedef struct BridgeLibnl {
#define X(f) __typeof__(f) *f;
        NL_FUNCS(X)
#undef X
} BridgeLibnl;

extern BridgeLibnl bridge_libnl;

/* Loads libnl-route-3 once (thread-safe); 0, or -ELIBACC if it or one of
 * its functions is missing. */
int bridge_libnl_load(void);

/* From here on, each libnl function is the pointer (but in bridge-nl.c,
 * which fills them). */
#ifndef BRIDGE_NL_LOADER
#define nl_addr_build (bridge_libnl.nl_addr_build)
#define nl_addr_get_binary_addr (bridge_libnl.nl_addr_get_binary_addr)
#define nl_addr_get_family (bridge_libnl.nl_addr_get_family)
#define nl_addr_get_len (bridge_libnl.nl_addr_get_len)
#define nl_addr_get_prefixlen (bridge_libnl.nl_addr_get_prefixlen)
#define nl_addr_put (bridge_libnl.nl_addr_put)
#define nl_addr_set_prefixlen (bridge_libnl.nl_addr_set_prefixlen)
#define nl_cache_free (bridge_libnl.nl_cache_free)
#define nl_cache_get_first (bridge_libnl.nl_cache_get_first)
#define nl_cache_get_next (bridge_libnl.nl_cache_get_next)
#define nl_connect (bridge_libnl.nl_connect)
#define nl_socket_alloc (bridge_libnl.nl_socket_alloc)
#define nl_socket_free (bridge_libnl.nl_socket_free)
#define rtnl_addr_add (bridge_libnl.rtnl_addr_add)
#define rtnl_addr_alloc (bridge_libnl.rtnl_addr_alloc)
#define rtnl_addr_alloc_cache (bridge_libnl.rtnl_addr_alloc_cache)
#define rtnl_addr_get_family (bridge_libnl.rtnl_addr_get_family)
#define rtnl_addr_get_local (bridge_libnl.rtnl_addr_get_local)
#define rtnl_addr_get_prefixlen (bridge_libnl.rtnl_addr_get_prefixlen)
#define rtnl_addr_put (bridge_libnl.rtnl_addr_put)
#define rtnl_addr_set_broadcast (bridge_libnl.rtnl_addr_set_broadcast)
#define rtnl_addr_set_ifindex (bridge_libnl.rtnl_addr_set_ifindex)
#define rtnl_addr_set_local (bridge_libnl.rtnl_addr_set_local)
#define rtnl_addr_set_prefixlen (bridge_libnl.rtnl_addr_set_prefixlen)
#define rtnl_link_add (bridge_libnl.rtnl_link_add)
#define rtnl_link_alloc (bridge_libnl.rtnl_link_alloc)
#define rtnl_link_alloc_cache (bridge_libnl.rtnl_link_alloc_cache)
#define rtnl_link_bridge_alloc (bridge_libnl.rtnl_link_bridge_alloc)
#define rtnl_link_change (bridge_libnl.rtnl_link_change)
#define rtnl_link_delete (bridge_libnl.rtnl_link_delete)
#define rtnl_link_get_ifindex (bridge_libnl.rtnl_link_get_ifindex)
#define rtnl_link_get_kernel (bridge_libnl.rtnl_link_get_kernel)
#define rtnl_link_get_master (bridge_libnl.rtnl_link_get_master)
#define rtnl_link_get_name (bridge_libnl.rtnl_link_get_name)
#define rtnl_link_inet_set_conf (bridge_libnl.rtnl_link_inet_set_conf)
#define rtnl_link_is_bridge (bridge_libnl.rtnl_link_is_bridge)
#define rtnl_link_put (bridge_libnl.rtnl_link_put)
#define rtnl_link_set_addr (bridge_libnl.rtnl_link_set_addr)
#define rtnl_link_set_flags (bridge_libnl.rtnl_link_set_flags)
#define rtnl_link_set_master (bridge_libnl.rtnl_link_set_master)
#define rtnl_link_set_name (bridge_libnl.rtnl_link_set_name)
#define rtnl_link_set_ns_fd (bridge_libnl.rtnl_link_set_ns_fd)
#define rtnl_link_veth_alloc (bridge_libnl.rtnl_link_veth_alloc)
#define rtnl_link_veth_get_peer (bridge_libnl.rtnl_link_veth_get_peer)
#define rtnl_route_alloc_cache (bridge_libnl.rtnl_route_alloc_cache)
#define rtnl_route_get_dst (bridge_libnl.rtnl_route_get_dst)
#define rtnl_route_get_table (bridge_libnl.rtnl_route_get_table)
#endif
