/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-oci update and events: a running container's cgroup changed
 * (runc's LinuxResources JSON, or runc's flags) and watched (runc's event
 * JSON lines, as go-runc's Events and Stats read them). */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/oci.h"
#include "common/fileio.h"
#include "common/parse.h"
#include "runtime/cgroup.h"
#include "runtime/oci-spec.h"

/* The largest --resources document read: far above any real one. */
#define RESOURCES_MAX (1 << 20)

static void update_help(void) {
        printf("Usage: shuttle-oci update [OPTIONS] ID\n\n"
               "Change the cgroup limits of a created, running or paused container: all of\n"
               "them, or none if one cannot be written.\n\n"
               "Options:\n"
               "  -r, --resources FILE        the new limits as runtime-spec LinuxResources JSON\n"
               "                              (linux.resources of config.json); - reads stdin\n"
               "      --memory SIZE           memory limit (bytes, or 64M, 1G); -1: none\n"
               "      --memory-reservation SIZE  memory soft limit; -1: none\n"
               "      --cpu-shares N          CPU weight, 2 to 262144 (also --cpu-share)\n"
               "      --cpu-quota USEC        CPU time per period; -1: none\n"
               "      --cpu-period USEC       the period, 1000 to 1000000\n"
               "      --cpuset-cpus LIST      the CPUs it may use (0-3,7)\n"
               "      --cpuset-mems LIST      the memory nodes it may use\n"
               "      --pids-limit N          most processes at once; -1: none\n"
               "  -h, --help                  show this help\n\n"
               "--resources and the other options exclude each other.\n");
}

static int parse_size_opt(const char *opt, const char *v, int64_t *ret) {
        uint64_t n;

        if (streq(v, "-1")) {
                *ret = -1;
                return 0;
        }
        if (parse_size(v, &n) < 0 || n > INT64_MAX) {
                fprintf(stderr, "shuttle-oci: update: --%s '%s': expected a size (4096, 64M, 1G) or -1\n", opt, v);
                return -EINVAL;
        }
        *ret = (int64_t) n;
        return 0;
}

static int parse_int_opt(const char *opt, const char *v, int64_t *ret) {
        char *end;
        long long n;

        errno = 0;
        n = strtoll(v, &end, 10);
        if (errno || end == v || *end) {
                fprintf(stderr, "shuttle-oci: update: --%s '%s': expected an integer\n", opt, v);
                return -EINVAL;
        }
        *ret = n;
        return 0;
}

static bool cpu_list_is_valid(const char *s) {
        return s[0] && strspn(s, "0123456789,-") == strlen(s);
}

/* LinuxResources as the cgroup takes it; errors name the field. */
static int resources_to_update(const OciResources *res, CgroupUpdate *u, char *err, size_t errlen) {
        *u = (CgroupUpdate){};
        if (res->has_memory_limit) {
                u->has_memory = true;
                u->memory_bytes = res->memory_limit;
        }
        if (res->has_memory_reservation) {
                u->has_memory_reservation = true;
                u->memory_reservation = res->memory_reservation;
        }
        if (res->has_cpu_shares && res->cpu_shares > 0) {
                if (res->cpu_shares < 2 || res->cpu_shares > 262144) {
                        snprintf(err, errlen, "cpu.shares: %" PRIu64 " is not within 2..262144", res->cpu_shares);
                        return -EINVAL;
                }
                u->has_cpu_shares = true;
                u->cpu_shares = res->cpu_shares;
        }
        if (res->has_cpu_quota && res->cpu_quota != 0) {
                if (res->cpu_quota > 0 && res->cpu_quota < 1000) {
                        snprintf(err, errlen, "cpu.quota: %" PRId64 " is below 1000", res->cpu_quota);
                        return -EINVAL;
                }
                u->has_cpu_quota = true;
                u->cpu_quota = res->cpu_quota;
        }
        if (res->has_cpu_period && res->cpu_period > 0) {
                if (res->cpu_period < 1000 || res->cpu_period > 1000000) {
                        snprintf(err, errlen, "cpu.period: %" PRIu64 " is not within 1000..1000000", res->cpu_period);
                        return -EINVAL;
                }
                u->has_cpu_period = true;
                u->cpu_period = res->cpu_period;
        }
        if (res->cpu_cpus && res->cpu_cpus[0]) {
                if (!cpu_list_is_valid(res->cpu_cpus)) {
                        snprintf(err, errlen, "cpu.cpus: '%s' is not a list of CPUs (0-3,7)", res->cpu_cpus);
                        return -EINVAL;
                }
                u->cpus = res->cpu_cpus;
        }
        if (res->cpu_mems && res->cpu_mems[0]) {
                if (!cpu_list_is_valid(res->cpu_mems)) {
                        snprintf(err, errlen, "cpu.mems: '%s' is not a list of memory nodes (0-1)", res->cpu_mems);
                        return -EINVAL;
                }
                u->mems = res->cpu_mems;
        }
        if (res->has_pids_limit) {
                u->has_pids = true;
                u->pids_max = res->pids_limit;
        }
        if (res->has_blkio_weight) {
                snprintf(err, errlen, "blockIO.weight: not supported (this runtime sets no blkio limits)");
                return -EOPNOTSUPP;
        }
        u->unified_keys = res->unified_keys;
        u->unified_values = res->unified_values;
        u->n_unified = res->n_unified;
        /* memory.swap, swappiness, kernel, disableOOMKiller, devices,
         * hugepageLimits, network, rdma: not changed, as create does not
         * carry them either (a container gets no swap). */
        return 0;
}

int oci_update(int argc, char **argv) {
        enum {
                OPT_MEMORY = 0x100,
                OPT_MEMORY_RESERVATION,
                OPT_CPU_SHARES,
                OPT_CPU_QUOTA,
                OPT_CPU_PERIOD,
                OPT_CPUSET_CPUS,
                OPT_CPUSET_MEMS,
                OPT_PIDS_LIMIT,
        };
        static const struct option opts[] = {
                { "resources", required_argument, NULL, 'r' },
                { "memory", required_argument, NULL, OPT_MEMORY },
                { "memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION },
                { "cpu-shares", required_argument, NULL, OPT_CPU_SHARES },
                { "cpu-share", required_argument, NULL, OPT_CPU_SHARES },
                { "cpu-quota", required_argument, NULL, OPT_CPU_QUOTA },
                { "cpu-period", required_argument, NULL, OPT_CPU_PERIOD },
                { "cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS },
                { "cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS },
                { "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_close_ int lock = -1;
        OciResources res = {};
        CgroupUpdate u = {};
        OciState st = {};
        OciStatus status;
        const char *resources = NULL, *id, *field = NULL;
        bool flags = false;
        char err[512] = "";
        int64_t n;
        int c, r, ret = EXIT_FAILURE;

        optind = 1;
        opterr = 1;
        while ((c = getopt_long(argc, argv, "r:h", opts, NULL)) >= 0) {
                if (c != 'r' && c != 'h' && c != '?')
                        flags = true;
                switch (c) {
                case 'r':
                        resources = optarg;
                        break;
                case OPT_MEMORY:
                        if (parse_size_opt("memory", optarg, &n) < 0)
                                goto out;
                        res.has_memory_limit = true;
                        res.memory_limit = n;
                        break;
                case OPT_MEMORY_RESERVATION:
                        if (parse_size_opt("memory-reservation", optarg, &n) < 0)
                                goto out;
                        res.has_memory_reservation = true;
                        res.memory_reservation = n;
                        break;
                case OPT_CPU_SHARES:
                        if (parse_int_opt("cpu-shares", optarg, &n) < 0)
                                goto out;
                        if (n < 2 || n > 262144) {
                                fprintf(stderr, "shuttle-oci: update: --cpu-shares '%s': not within 2..262144\n", optarg);
                                goto out;
                        }
                        res.has_cpu_shares = true;
                        res.cpu_shares = (uint64_t) n;
                        break;
                case OPT_CPU_QUOTA:
                        if (parse_int_opt("cpu-quota", optarg, &n) < 0)
                                goto out;
                        res.has_cpu_quota = true;
                        res.cpu_quota = n;
                        break;
                case OPT_CPU_PERIOD:
                        if (parse_int_opt("cpu-period", optarg, &n) < 0)
                                goto out;
                        if (n < 1000 || n > 1000000) {
                                fprintf(stderr, "shuttle-oci: update: --cpu-period '%s': not within 1000..1000000\n",
                                        optarg);
                                goto out;
                        }
                        res.has_cpu_period = true;
                        res.cpu_period = (uint64_t) n;
                        break;
                case OPT_CPUSET_CPUS:
                        free(res.cpu_cpus);
                        if (!(res.cpu_cpus = strdup(optarg)))
                                goto out;
                        break;
                case OPT_CPUSET_MEMS:
                        free(res.cpu_mems);
                        if (!(res.cpu_mems = strdup(optarg)))
                                goto out;
                        break;
                case OPT_PIDS_LIMIT:
                        if (parse_int_opt("pids-limit", optarg, &n) < 0)
                                goto out;
                        res.has_pids_limit = true;
                        res.pids_limit = n;
                        break;
                case 'h':
                        update_help();
                        ret = 0;
                        goto out;
                default:
                        fprintf(stderr, "shuttle-oci: update: see 'shuttle-oci update --help'\n");
                        goto out;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr, "shuttle-oci: update: expected one container ID (see 'shuttle-oci update --help')\n");
                goto out;
        }
        id = argv[optind];
        if (resources && flags) {
                oci_error("update", id, "--resources and the other options exclude each other");
                goto out;
        }
        if (!resources && !flags) {
                oci_error("update", id, "nothing to change: expected --resources FILE or a limit option");
                goto out;
        }
        if (resources) {
                _cleanup_free_ char *text = NULL;
                size_t size;

                r = read_file_at(AT_FDCWD, streq(resources, "-") ? "/dev/stdin" : resources, RESOURCES_MAX, &text,
                                 &size);
                if (r < 0) {
                        oci_error("update", id, "--resources '%s': %s", resources, strerror(-r));
                        goto out;
                }
                r = oci_resources_parse(text, size, &res, err, sizeof(err));
                if (r < 0) {
                        oci_error("update", id, "--resources '%s': %s", resources, err[0] ? err : strerror(-r));
                        goto out;
                }
        }
        r = resources_to_update(&res, &u, err, sizeof(err));
        if (r < 0) {
                oci_error("update", id, "%s%s", resources ? "--resources: " : "", err);
                goto out;
        }

        if (!oci_id_is_valid(id)) {
                oci_error("update", id, "not a valid container ID");
                goto out;
        }
        r = oci_state_lock(id, &lock);
        if (r == -ENOENT) {
                oci_error("update", id, "container does not exist (under %s)", oci_globals.root);
                goto out;
        }
        if (r < 0) {
                oci_error("update", id, "locking its state: %s", strerror(-r));
                goto out;
        }
        r = oci_state_read(id, &st);
        if (r < 0) {
                oci_error("update", id, "reading its state: %s", strerror(-r));
                goto out;
        }
        status = oci_state_status(&st);
        if (status == OCI_STATUS_STOPPED) {
                oci_error("update", id, "the container is stopped");
                goto out;
        }
        r = cgroup_update_paths(st.cgroups, &u, &field);
        if (r == -EOPNOTSUPP && field && streq(field, "unified"))
                oci_error("update", id, "unified: needs cgroup v2 (this container's cgroup is v1); nothing changed");
        else if (r == -EOPNOTSUPP && field)
                oci_error("update", id, "%s: the container's cgroup has no controller for it; nothing changed", field);
        else if (r < 0 && field)
                oci_error("update", id, "%s: %s; nothing changed", field, strerror(-r));
        else if (r < 0)
                oci_error("update", id, "its cgroup: %s; nothing changed", strerror(-r));
        else
                ret = 0;
out:
        oci_state_done(&st);
        oci_resources_done(&res);
        return ret;
}

/* ---- events ---- */

static void events_help(void) {
        printf("Usage: shuttle-oci events [OPTIONS] ID\n\n"
               "Print the container's resource usage as JSON lines ({\"type\":\"stats\",\"id\",\"data\"}),\n"
               "every interval until the container stops, and an {\"type\":\"oom\"} line when the\n"
               "OOM killer ends one of its processes.\n\n"
               "Options:\n"
               "      --stats          print one stats line and exit\n"
               "      --interval D     how often (a Go duration: 5s, 500ms, 1m30s; default 5s)\n"
               "  -h, --help           show this help\n");
}

/* A Go time.Duration string ("5s", "1m0s", "1.5s", "500ms") as go-runc
 * passes it; a bare number is seconds. */
static int parse_go_duration(const char *s, uint64_t *ret_nsec) {
        static const struct {
                const char *unit;
                double nsec;
        } units[] = {
                { "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
        };
        double total = 0;
        char *end;

        if (!s || !*s)
                return -EINVAL;
        while (*s) {
                double v;
                size_t best = 0;
                int which = -1;

                if (!strchr("0123456789.", *s))
                        return -EINVAL;
                errno = 0;
                v = strtod(s, &end);
                if (errno || end == s || v < 0)
                        return -EINVAL;
                s = end;
                if (!*s && total == 0) {
                        total = v * 1e9;
                        break;
                }
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        size_t n = strlen(units[i].unit);
                        if (strneq(s, units[i].unit, n) && n > best && !strchr("s", s[n] ? s[n] : 'x')) {
                                best = n;
                                which = (int) i;
                        }
                }
                /* "ms" against "m" then "s": the longest unit that is not
                 * followed by an 's' of its own. */
                if (which < 0)
                        return -EINVAL;
                total += v * units[which].nsec;
                s += best;
        }
        if (total > 1e18)
                return -ERANGE;
        *ret_nsec = (uint64_t) total;
        return 0;
}

static void put_u64(FILE *f, const char *key, uint64_t v, bool comma) {
        fprintf(f, "%s\"%s\":%" PRIu64, comma ? "," : "", key, v);
}

static void print_stats(const char *id, const CgroupStats *s) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return;
        /* Integers written here: jansson's are signed, and a limit of
         * none is 2^64-1 as runc prints it. */
        fprintf(f, "{\"type\":\"stats\",\"id\":");
        {
                /* IDs are [A-Za-z0-9_+.-]: nothing to escape. */
                fprintf(f, "\"%s\"", id);
        }
        fprintf(f, ",\"data\":{\"cpu\":{\"usage\":{");
        put_u64(f, "total", s->cpu_total_ns, false);
        put_u64(f, "kernel", s->cpu_kernel_ns, true);
        put_u64(f, "user", s->cpu_user_ns, true);
        fprintf(f, "},\"throttling\":{");
        put_u64(f, "periods", s->cpu_periods, false);
        put_u64(f, "throttledPeriods", s->cpu_throttled_periods, true);
        put_u64(f, "throttledTime", s->cpu_throttled_ns, true);
        fprintf(f, "}},\"memory\":{");
        put_u64(f, "cache", s->memory_cache, false);
        fprintf(f, ",\"usage\":{");
        put_u64(f, "limit", s->memory_limit, false);
        put_u64(f, "usage", s->memory_usage, true);
        put_u64(f, "max", s->memory_max_usage, true);
        put_u64(f, "failcnt", s->memory_failcnt, true);
        fprintf(f, "},\"swap\":{");
        put_u64(f, "limit", s->swap_limit, false);
        put_u64(f, "usage", s->swap_usage, true);
        put_u64(f, "failcnt", 0, true);
        fprintf(f, "},\"raw\":{");
        for (size_t i = 0; i < s->n_raw; i++)
                /* memory.stat's keys are the kernel's [a-z0-9_]. */
                if (strspn(s->raw[i].key, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s->raw[i].key))
                        put_u64(f, s->raw[i].key, s->raw[i].value, i > 0);
        fprintf(f, "}},\"pids\":{");
        put_u64(f, "current", s->pids_current, false);
        put_u64(f, "limit", s->pids_limit == UINT64_MAX ? 0 : s->pids_limit, true);
        fprintf(f, "},\"blkio\":{},\"hugetlb\":{}}}\n");
        if (fclose(f) != 0)
                return;
        fputs(buf, stdout);
        fflush(stdout);
}

static void sleep_nsec(uint64_t ns) {
        struct timespec ts = { (time_t) (ns / 1000000000), (long) (ns % 1000000000) };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int oci_events(int argc, char **argv) {
        static const struct option opts[] = {
                { "stats", no_argument, NULL, 's' },
                { "interval", required_argument, NULL, 'i' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        OciState st = {};
        CgroupStats s;
        uint64_t interval = 5ULL * 1000000000, oom_seen, since = 0;
        bool once = false;
        const char *id;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (c) {
                case 's':
                        once = true;
                        break;
                case 'i':
                        if (parse_go_duration(optarg, &interval) < 0 || interval == 0) {
                                fprintf(stderr, "shuttle-oci: events: --interval '%s': expected a duration (5s, 500ms)\n",
                                        optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'h':
                        events_help();
                        return 0;
                default:
                        fprintf(stderr, "shuttle-oci: events: see 'shuttle-oci events --help'\n");
                        return EXIT_FAILURE;
                }
        if (optind != argc - 1) {
                fprintf(stderr, "shuttle-oci: events: expected one container ID (see 'shuttle-oci events --help')\n");
                return EXIT_FAILURE;
        }
        id = argv[optind];
        if (!oci_id_is_valid(id))
                return oci_error("events", id, "not a valid container ID");
        r = oci_state_read(id, &st);
        if (r == -ENOENT)
                return oci_error("events", id, "container does not exist (under %s)", oci_globals.root);
        if (r < 0)
                return oci_error("events", id, "reading its state: %s", strerror(-r));
        if (oci_state_status(&st) == OCI_STATUS_STOPPED) {
                oci_state_done(&st);
                return oci_error("events", id, "the container is stopped");
        }
        r = cgroup_stats_paths(st.cgroups, &s);
        if (r < 0) {
                oci_state_done(&st);
                return oci_error("events", id, "reading its cgroup: %s", strerror(-r));
        }
        if (once) {
                print_stats(id, &s);
                oci_state_done(&st);
                return 0;
        }
        /* Until the container stops: stats every interval; the OOM
         * counter checked every second (or interval, if shorter). */
        oom_seen = s.oom_kills;
        print_stats(id, &s);
        for (;;) {
                uint64_t step = interval < 1000000000ULL ? interval : 1000000000ULL;

                sleep_nsec(step);
                since += step;
                if (oci_state_status(&st) == OCI_STATUS_STOPPED || cgroup_stats_paths(st.cgroups, &s) < 0)
                        break;
                for (; oom_seen < s.oom_kills; oom_seen++) {
                        printf("{\"type\":\"oom\",\"id\":\"%s\"}\n", id);
                        fflush(stdout);
                }
                if (since >= interval) {
                        since = 0;
                        print_stats(id, &s);
                }
        }
        oci_state_done(&st);
        return 0;
}
