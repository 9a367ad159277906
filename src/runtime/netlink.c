/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Links over rtnetlink with libmnl: what "ip link set lo up" does, without
 * running ip. */

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/macro.h"
#include "runtime/sandbox.h"

/* MNL_SOCKET_BUFFER_SIZE is a sysconf() call, i.e. a VLA; replies about one
 * link are far smaller than this. */
#define NL_BUFFER_SIZE 8192

static void mnl_socket_closep(struct mnl_socket **nl) {
        if (*nl) {
                int saved = errno;
                mnl_socket_close(*nl);
                errno = saved;
        }
}
#define _cleanup_mnl_socket_ _cleanup_(mnl_socket_closep)

/* A request for one link, addressed by name (the kernel looks the name up
 * when ifi_index is 0). */
static int put_link_request(void *buf, uint16_t type, uint16_t flags, uint32_t seq,
                            const char *ifname, struct ifinfomsg **ret_ifm,
                            struct nlmsghdr **ret_nlh) {
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifm;
        size_t len;

        if (!ifname)
                return -EINVAL;
        len = strlen(ifname);
        if (len == 0 || len >= IFNAMSIZ)
                return -EINVAL;

        nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | flags;
        nlh->nlmsg_seq = seq;
        ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        ifm->ifi_family = AF_UNSPEC;
        ifm->ifi_index = 0;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);

        *ret_ifm = ifm;
        *ret_nlh = nlh;
        return 0;
}

/* Sends nlh and runs the replies through cb until the kernel's final
 * answer: the ACK (0) or its error (negative errno). */
static int transact(struct nlmsghdr *nlh, mnl_cb_t cb, void *data) {
        _cleanup_mnl_socket_ struct mnl_socket *nl = NULL;
        _Alignas(struct nlmsghdr) char buf[NL_BUFFER_SIZE];
        unsigned portid;
        uint32_t seq = nlh->nlmsg_seq;

        nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!nl)
                return negative_errno();
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
                return negative_errno();
        portid = mnl_socket_get_portid(nl);

        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
                return negative_errno();

        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
                int r;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                /* MNL_CB_ERROR sets errno from the NLMSG_ERROR payload;
                 * MNL_CB_STOP comes with the ACK (an NLMSG_ERROR of 0). */
                r = mnl_cb_run(buf, (size_t) n, seq, portid, cb, data);
                if (r < 0)
                        return negative_errno();
                if (r == MNL_CB_STOP)
                        return 0;
        }
}

int netlink_link_set_up(const char *ifname, bool up) {
        _Alignas(struct nlmsghdr) char buf[NL_BUFFER_SIZE];
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifm;
        int r;

        /* RTM_NEWLINK without NLM_F_CREATE changes an existing link;
         * ifi_change says which flags to touch.  NLM_F_ACK makes the kernel
         * answer even on success, so the error reaches the caller. */
        r = put_link_request(buf, RTM_NEWLINK, NLM_F_ACK, (uint32_t) time(NULL), ifname, &ifm, &nlh);
        if (r < 0)
                return r;
        ifm->ifi_change = IFF_UP;
        ifm->ifi_flags = up ? IFF_UP : 0;

        return transact(nlh, NULL, NULL);
}

int netlink_loopback_up(void) {
        /* In a new network namespace "lo" exists (index 1) and is down; up,
         * the kernel gives it 127.0.0.1/8 and ::1. */
        return netlink_link_set_up("lo", true);
}

static int link_flags_cb(const struct nlmsghdr *nlh, void *data) {
        const struct ifinfomsg *ifm;

        if (nlh->nlmsg_type != RTM_NEWLINK ||
            mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm))
                return MNL_CB_OK;
        ifm = mnl_nlmsg_get_payload(nlh);
        *(unsigned *) data = ifm->ifi_flags;
        /* A non-dump RTM_GETLINK gets exactly one reply and no ACK. */
        return MNL_CB_STOP;
}

int netlink_link_is_up(const char *ifname, bool *ret) {
        _Alignas(struct nlmsghdr) char buf[NL_BUFFER_SIZE];
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifm;
        unsigned flags = 0;
        int r;

        r = put_link_request(buf, RTM_GETLINK, 0, (uint32_t) time(NULL), ifname, &ifm, &nlh);
        if (r < 0)
                return r;
        /* Only the flags are wanted: skip the statistics. */
        mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);

        r = transact(nlh, link_flags_cb, &flags);
        if (r < 0)
                return r;
        *ret = flags & IFF_UP;
        return 0;
}
