/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The devices cgroup on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program
 * built from the same rule list the v1 devices controller gets (everything
 * denied, then the rules in order, the last one that matches wins, as runc's
 * devicefilter), loaded with bpf(2) and attached to the container's cgroup
 * with BPF_F_ALLOW_MULTI (a program attached above, e.g. by systemd, still
 * runs: an access must pass them all).  No libbpf.
 *
 * A rule matches a request when its type ('a': any), major and minor (-1:
 * any) match and, for an allow rule, every access asked for is in the rule's
 * access ("rwm"); for a deny rule, when any access asked for is in it (so a
 * deny of "w" refuses an open for reading and writing).  A rule with no
 * access, or a major or minor above INT32_MAX (no such device), never
 * matches and is left out.
 *
 * Return 0 (or an fd) or a negative errno; no logging. */

#include <stddef.h>
#include <linux/bpf.h>

#include "runtime/cgroup.h"

/* Builds the program: *ret is malloc()ed, *ret_len instructions. */
int cgroup_device_prog_build(const CgroupDeviceRule *rules, size_t n_rules, struct bpf_insn **ret,
                             size_t *ret_len);
/* Loads a program of type BPF_PROG_TYPE_CGROUP_DEVICE; returns its fd
 * (O_CLOEXEC).  If log/log_size is given, the verifier's complaint goes
 * there. */
int cgroup_device_prog_load(const struct bpf_insn *insns, size_t len, char *log, size_t log_size);
/* Attaches prog_fd to the cgroup directory cgroup_fd (BPF_CGROUP_DEVICE,
 * BPF_F_ALLOW_MULTI).  It stays attached until the cgroup is removed. */
int cgroup_device_prog_attach(int cgroup_fd, int prog_fd);
/* Builds, loads and attaches in one go. */
int cgroup_device_filter_apply(int cgroup_fd, const CgroupDeviceRule *rules, size_t n_rules);
/* How many programs are attached to cgroup_fd as BPF_CGROUP_DEVICE
 * (BPF_PROG_QUERY; not counting those attached above it). */
int cgroup_device_prog_count(int cgroup_fd);
