/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Resource limits: "--ulimit NAME=SOFT[:HARD]". */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "common/macro.h"
#include "common/parse.h"
#include "runtime/sandbox.h"

static const struct {
        const char *name;
        int resource;
} rlimit_table[] = {
        { "as", RLIMIT_AS },
        { "core", RLIMIT_CORE },
        { "cpu", RLIMIT_CPU },
        { "data", RLIMIT_DATA },
        { "fsize", RLIMIT_FSIZE },
        { "locks", RLIMIT_LOCKS },
        { "memlock", RLIMIT_MEMLOCK },
        { "msgqueue", RLIMIT_MSGQUEUE },
        { "nice", RLIMIT_NICE },
        { "nofile", RLIMIT_NOFILE },
        { "nproc", RLIMIT_NPROC },
        { "rss", RLIMIT_RSS },
        { "rtprio", RLIMIT_RTPRIO },
        { "rttime", RLIMIT_RTTIME },
        { "sigpending", RLIMIT_SIGPENDING },
        { "stack", RLIMIT_STACK },
};

const char *rlimit_name(int resource) {
        for (size_t i = 0; i < ELEMENTSOF(rlimit_table); i++)
                if (rlimit_table[i].resource == resource)
                        return rlimit_table[i].name;
        return NULL;
}

static void format_value(rlim_t v, char *buf, size_t size) {
        if (v == RLIM_INFINITY)
                snprintf(buf, size, "unlimited");
        else
                snprintf(buf, size, "%llu", (unsigned long long) v);
}

int rlimit_format(const RlimitSpec *s, char *buf, size_t size) {
        const char *name = rlimit_name(s->resource);
        char soft[32], hard[32];

        if (!name)
                return -EINVAL;
        format_value(s->limit.rlim_cur, soft, sizeof(soft));
        format_value(s->limit.rlim_max, hard, sizeof(hard));
        if ((size_t) snprintf(buf, size, "%s=%s:%s", name, soft, hard) >= size)
                return -ENOBUFS;
        return 0;
}

static int rlimit_from_name(const char *name, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(rlimit_table); i++)
                if (strlen(rlimit_table[i].name) == len &&
                    strncasecmp(rlimit_table[i].name, name, len) == 0)
                        return rlimit_table[i].resource;
        return -EINVAL;
}

static int rlimit_parse_value(const char *s, rlim_t *ret) {
        uint64_t v;
        int r;

        if (strcasecmp(s, "unlimited") == 0 || strcasecmp(s, "infinity") == 0) {
                *ret = RLIM_INFINITY;
                return 0;
        }
        r = parse_uint64(s, &v);
        if (r < 0)
                return r;
        if ((rlim_t) v != v)
                return -ERANGE;
        *ret = (rlim_t) v;
        return 0;
}

int rlimit_parse(const char *s, RlimitSpec *ret) {
        _cleanup_free_ char *value = NULL;
        const char *eq;
        char *colon;
        RlimitSpec spec = {};
        int r;

        if (!s)
                return -EINVAL;
        eq = strchr(s, '=');
        if (!eq)
                return -EINVAL;
        spec.resource = rlimit_from_name(s, (size_t) (eq - s));
        if (spec.resource < 0)
                return -EINVAL;

        value = strdup(eq + 1);
        if (!value)
                return -ENOMEM;
        colon = strchr(value, ':');
        if (colon)
                *colon = '\0';

        r = rlimit_parse_value(value, &spec.limit.rlim_cur);
        if (r < 0)
                return r;
        if (colon) {
                r = rlimit_parse_value(colon + 1, &spec.limit.rlim_max);
                if (r < 0)
                        return r;
        } else
                spec.limit.rlim_max = spec.limit.rlim_cur;

        /* RLIM_INFINITY is the largest value, so this also rejects
         * "unlimited:1024". */
        if (spec.limit.rlim_cur > spec.limit.rlim_max)
                return -EINVAL;

        *ret = spec;
        return 0;
}

static int have_effective_cap(cap_value_t cap, bool *ret) {
        cap_t caps;
        cap_flag_value_t v;
        int r = 0;

        caps = cap_get_proc();
        if (!caps)
                return negative_errno();
        if (cap_get_flag(caps, cap, CAP_EFFECTIVE, &v) < 0)
                r = negative_errno();
        else
                *ret = v == CAP_SET;
        cap_free(caps);
        return r;
}

/* fs.nr_open: no nofile limit can be set above it, whatever the caps. */
static rlim_t nr_open(void) {
        _cleanup_fclose_ FILE *f = NULL;
        unsigned long long v;

        f = fopen("/proc/sys/fs/nr_open", "re");
        if (!f || fscanf(f, "%llu", &v) != 1)
                return RLIM_INFINITY; /* unknown: let setrlimit() decide */
        return (rlim_t) v;
}

int rlimits_check(const RlimitSpec *specs, size_t n, const RlimitSpec **ret_failed,
                  rlim_t *ret_max) {
        bool sys_resource = false, checked = false;

        for (size_t i = 0; i < n; i++) {
                struct rlimit cur;
                rlim_t max = RLIM_INFINITY;
                int r;

                if (getrlimit(specs[i].resource, &cur) < 0)
                        return negative_errno();

                if (specs[i].limit.rlim_max > cur.rlim_max) {
                        /* Raising a hard limit is what CAP_SYS_RESOURCE is
                         * for; lowering never needs a capability. */
                        if (!checked) {
                                r = have_effective_cap(CAP_SYS_RESOURCE, &sys_resource);
                                if (r < 0)
                                        return r;
                                checked = true;
                        }
                        if (!sys_resource)
                                max = cur.rlim_max;
                }
                if (specs[i].resource == RLIMIT_NOFILE)
                        max = MIN(max, MAX(nr_open(), cur.rlim_max));

                if (specs[i].limit.rlim_max > max) {
                        if (ret_failed)
                                *ret_failed = &specs[i];
                        if (ret_max)
                                *ret_max = max;
                        return -EPERM;
                }
        }
        return 0;
}

int rlimits_apply(const RlimitSpec *specs, size_t n, const RlimitSpec **ret_failed) {
        int r;

        /* Check everything first so that the common failure (raising a hard
         * limit without CAP_SYS_RESOURCE) changes nothing. */
        r = rlimits_check(specs, n, ret_failed, NULL);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i++)
                if (setrlimit(specs[i].resource, &specs[i].limit) < 0) {
                        r = negative_errno();
                        if (ret_failed)
                                *ret_failed = &specs[i];
                        return r;
                }
        return 0;
}
