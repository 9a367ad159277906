/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Privilege reduction for the container's command: capabilities (libcap),
 * no_new_privs, the default seccomp profile (libseccomp), rlimits, and
 * bringing up loopback over netlink (libmnl). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

/* Capabilities as a bit mask (bit N = capability N). */
uint64_t caps_default_mask(void);
/* "NET_ADMIN", "CAP_NET_ADMIN", "net_admin", "ALL", or a comma list. */
int caps_parse(const char *s, uint64_t *ret_mask);
/* Comma-separated names of the caps in mask, e.g. "CHOWN,KILL". */
char *caps_format(uint64_t mask);
/* Drop every capability not in keep from the bounding set (needs CAP_SETPCAP). */
int caps_drop_bounding(uint64_t keep);
/* Permitted = effective = inheritable = keep, ambient cleared. */
int caps_apply(uint64_t keep);

int no_new_privs_set(void);

/* Build and load the default profile into the calling thread. */
int seccomp_load_default(void);

typedef struct RlimitSpec {
        int resource;        /* RLIMIT_* */
        struct rlimit limit;
} RlimitSpec;

/* "nofile=1024", "nofile=1024:4096", "nproc=unlimited" */
int rlimit_parse(const char *s, RlimitSpec *ret);
const char *rlimit_name(int resource);
/* Applies each; on failure *ret_failed names the one that failed.  EPERM when
 * raising a hard limit without CAP_SYS_RESOURCE. */
int rlimits_apply(const RlimitSpec *specs, size_t n, const RlimitSpec **ret_failed);

/* Set "lo" up in the current network namespace over rtnetlink. */
int netlink_loopback_up(void);
