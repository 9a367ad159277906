/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Parsers for values operators type: sizes, CPU counts, ids, signals,
 * durations.  All return 0 or a negative errno and leave outputs untouched
 * on failure. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* "64M", "1G", "512k", "4096", "1.5G".  Suffixes are binary (K = 1024) and
 * case-insensitive; an optional trailing "B"/"iB" is accepted. */
int parse_size(const char *s, uint64_t *ret);
/* Formats a size the way parse_size() reads it ("64M"). */
const char *format_size(char *buf, size_t len, uint64_t bytes);

/* "0.5", "2", "1.25": CPU count as a cgroup quota over a 100ms period.
 * Returns the quota in microseconds per period. */
#define CPU_PERIOD_USEC UINT64_C(100000)
int parse_cpus(const char *s, uint64_t *ret_quota_usec);

/* Unsigned integers with overflow and garbage checks. */
int parse_uint64(const char *s, uint64_t *ret);
int parse_uint32(const char *s, uint32_t *ret);

/* "UID" or "UID:GID", numeric. */
int parse_uid_gid(const char *s, uid_t *ret_uid, gid_t *ret_gid, bool *ret_has_gid);

/* "TERM", "SIGTERM", "15", case-insensitive. */
int parse_signal(const char *s, int *ret);
const char *signal_to_name(int sig);

/* "5s", "250ms", "2m", "1h", bare number = seconds.  Microseconds out. */
int parse_duration(const char *s, uint64_t *ret_usec);

/* An absolute path without "." or ".." components (container paths are
 * resolved inside the container's root, but ambiguous ones are refused
 * early, with a clear message). */
bool path_is_clean_absolute(const char *p);

/* Container names: 1-63 characters of [A-Za-z0-9_.-], starting with an
 * alphanumeric, no "..".  Names end up in paths and cgroup names. */
bool container_name_is_valid(const char *s);

/* A POSIX message queue name as mq_open(3) takes it: "/" and 1-255 more
 * bytes, none of them "/" or a control character, not "/." or "/..". */
#define MQ_NAME_MAX 255
bool mq_name_is_valid(const char *s);
