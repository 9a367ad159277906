/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Group networking (`net: bridge`): one Linux bridge per app group, one veth
 * pair per bridged container, IPv4 addresses from a per-group /24, all over
 * rtnetlink with libnl-route-3 (no `ip` subprocesses).
 *
 * What a group gets
 *   - a bridge named after the group (bridge_name_for_group()), up, holding
 *     the group's .1/24 (so the host, and later --publish, can reach the
 *     group), with IPv4 forwarding switched off on that bridge;
 *   - per bridged container a veth pair: the host end ("shv...") is a port
 *     of the bridge, the other end is created directly inside the
 *     container's network namespace as "eth0", gets .N/24 (N = 2..254) and
 *     is set up; "lo" is set up too.
 *
 * Routes: inside the container there is only the /24 link route the kernel
 * installs with the address.  No default route: there is no NAT to the
 * outside (--publish is not implemented), so a gateway would lead nowhere,
 * and without it a container has no route to any other subnet at all.
 *
 * Isolation between groups
 *   - different groups are different bridges, i.e. different L2 domains;
 *   - a container can only send to its own /24 (no other route; connecting
 *     to another group's address fails with ENETUNREACH at once), and it
 *     cannot add routes: the default capability set has neither
 *     CAP_NET_ADMIN nor CAP_NET_RAW;
 *   - even if a container got a route through .1 (e.g. --cap-add NET_ADMIN),
 *     the host does not forward what arrives on a group's bridge:
 *     net.ipv4.conf.<bridge>.forwarding is 0, whatever net.ipv4.ip_forward
 *     says.  Caveat: writing net.ipv4.conf.all.forwarding (or ip_forward)
 *     later resets every interface's value, bridges included;
 *   - what this does NOT hide: the host itself.  .1 is a host address, so a
 *     container reaches host services listening on 0.0.0.0 (and, over IPv6
 *     link-local, on ::).  Bind host services to specific addresses.
 *   - containers with `net: none` / `loopback` are never attached, so they
 *     have no interface on any bridge.
 *
 * Subnets: the base range is RFC 1918 private space, default 10.88.0.0/16
 * (any prefix from /8 to /24 inside 10/8, 172.16/12 or 192.168/16).  A
 * group's /24 is chosen by hashing the group name onto the /24s of the base
 * range and probing linearly past /24s that another group's state file
 * records or that overlap an IPv4 address or route of the calling network
 * namespace (routes shorter than /8, i.e. default-like VPN routes, are
 * ignored).  The choice is recorded in the state dir and reused as long as
 * the group's state exists; bridge_remove() releases it.
 *
 * Container addresses: .2 upwards in order of attachment, recorded by
 * container name.  An address stays associated with its container after
 * bridge_detach() so a restarted container gets the same address again;
 * new containers take the lowest address never handed out, and only when
 * all 253 are used is the address of a detached container handed to
 * someone else.
 *
 * State (crash cleanup), everything under <state_dir>/net/:
 *   <group>.json   group, bridge, base, subnet, and per container its
 *                  address, host veth and whether it is attached; written
 *                  before any link is created, removed after the links
 *   <group>.lock   flock()-ed by the group supervisor while the group runs
 *                  (bridge_lock_group()); a group whose lock can be taken
 *                  has no supervisor: bridge_cleanup_stale() removes it.
 * The net/ directory itself is flock()-ed around every read-modify-write,
 * so concurrent supervisors never pick the same /24.
 *
 * Expected use by a group supervisor:
 *
 *     fd = bridge_lock_group(state, group);       -EBUSY: group is running
 *     bridge_ensure(state, group, base, &b);
 *     for each container with net: bridge, once its init exists:
 *             bridge_attach(&b, name, init_pid, addr);
 *     ... on container exit: bridge_detach(state, group, name);
 *     bridge_remove(state, group);
 *     bridge_unlock_group(state, group, fd);
 *
 * Every link operation happens in the caller's network namespace; what has
 * to happen inside a container's namespace is done by a short-lived thread
 * that setns()es into it, so the calling thread never changes namespace.
 * Needs CAP_NET_ADMIN (and CAP_SYS_ADMIN for setns).
 *
 * Every function returns 0 (or what is documented) or a negative errno and
 * leaves its ret outputs untouched on failure; none of them logs. */

#include <limits.h>
#include <sys/types.h>

#define BRIDGE_IFNAMSIZ 16  /* IFNAMSIZ, including the NUL */
#define BRIDGE_ADDR_MAX 16  /* "255.255.255.255" + NUL */
#define BRIDGE_CIDR_MAX 19  /* "255.255.255.255/32" + NUL */
#define BRIDGE_DEFAULT_BASE "10.88.0.0/16"

/* "shb-GROUP" when GROUP has at most 11 characters, all of [A-Za-z0-9_.-];
 * otherwise "shb_" + the first (up to) 3 characters (others replaced by 'x')
 * + 8 hex digits of a 64-bit FNV-1a hash of the whole name.  The '-' / '_'
 * after "shb" keeps the two forms from ever colliding.  Deterministic;
 * -EINVAL for NULL or "". */
int bridge_name_for_group(const char *group, char ret[static BRIDGE_IFNAMSIZ]);

/* "shv" + 12 hex digits of a hash of (group, container): 15 characters.
 * -EINVAL for NULL or empty names. */
int veth_name_for_container(const char *group, const char *container, char ret[static BRIDGE_IFNAMSIZ]);

/* Holds the group: flock()s <state_dir>/net/<group>.lock and returns the fd
 * (O_CLOEXEC; keep it open while the group runs).  -EBUSY if another open
 * file holds it (the group is running, or is being cleaned up right now). */
int bridge_lock_group(const char *state_dir, const char *group);
/* Removes the lock file and closes fd (from bridge_lock_group()). */
void bridge_unlock_group(const char *state_dir, const char *group, int fd);

/* Reserves (or returns the already reserved) /24 of a group, e.g.
 * "10.88.17.0/24", recording it in <group>.json.  No link is created.
 * base_cidr NULL = BRIDGE_DEFAULT_BASE.  -EINVAL: bad group name or base
 * (not private, prefix not in /8../24); -ENOSPC: every /24 is taken;
 * -EBUSY: the group already has a /24 outside base_cidr. */
int bridge_reserve_subnet(const char *state_dir, const char *group, const char *base_cidr,
                          char ret[static BRIDGE_CIDR_MAX]);

typedef struct BridgeInfo {
        char state_dir[PATH_MAX];
        char group[64];
        char ifname[BRIDGE_IFNAMSIZ];   /* "shb-..." */
        int ifindex;
        char subnet[BRIDGE_CIDR_MAX];   /* "10.88.17.0/24" */
        char gateway[BRIDGE_ADDR_MAX];  /* "10.88.17.1", the bridge's own */
} BridgeInfo;

/* bridge_reserve_subnet(), then creates the bridge if missing (with a MAC
 * derived from its name), sets it up, gives it .1/24 and switches IPv4
 * forwarding off on it.  Idempotent: an existing bridge of that name is
 * reused (-EEXIST if a link of that name exists and is not a bridge).  On
 * failure the reservation, and whatever was created, stay recorded for
 * bridge_remove() / bridge_cleanup_stale(). */
int bridge_ensure(const char *state_dir, const char *group, const char *base_cidr, BridgeInfo *ret);

/* Connects the network namespace of pid (/proc/PID/ns/net) to the bridge:
 * allocates the container's address (see above), records it, creates the
 * veth pair with the host end on the bridge and the other end as "eth0" in
 * pid's namespace, sets the address and brings eth0 and lo up there.
 * ret_addr receives e.g. "10.88.17.2".  A leftover host veth of the same
 * container (a previous run) is deleted first, so attaching an attached
 * container again replaces its pair.  Serialized with every other state
 * change by the net/ lock.  On failure the pair is gone and a container
 * seen for the first time is not recorded.  -ENOENT: the group has no
 * state (no bridge_ensure()); -ESRCH: no such process; -ENOSPC: no free
 * address; -EEXIST: the namespace already has an eth0. */
int bridge_attach(const BridgeInfo *b, const char *container, pid_t pid, char ret_addr[static BRIDGE_ADDR_MAX]);

/* The address bridge_attach() gave container, while it is attached (from
 * the group's state, without the net/ lock: for a reader such as the
 * broker).  -ENOENT: no such group or container recorded; -ENOLINK:
 * recorded but not attached now. */
int bridge_container_address(const char *state_dir, const char *group, const char *container,
                             char ret_addr[static BRIDGE_ADDR_MAX]);

/* Deletes the container's host veth (its peer goes with it; fine if it is
 * already gone with the namespace) and marks its address free for reuse.
 * -ENOENT if the group or the container is not recorded. */
int bridge_detach(const char *state_dir, const char *group, const char *container);

/* Deletes every veth the group recorded, any "shv*" port left on its
 * bridge, the bridge, and <group>.json.  Links already gone are fine; so is
 * a group without state (then only the bridge name is tried).  The caller
 * holds the group lock. */
int bridge_remove(const char *state_dir, const char *group);

/* For every group with state under <state_dir>/net/ whose lock can be taken
 * (no supervisor alive): bridge_remove() and drop its lock file.  Lock files
 * without state and nobody holding them are removed too.  Returns how many
 * groups were removed (0 if there is no net/ directory). */
int bridge_cleanup_stale(const char *state_dir);
