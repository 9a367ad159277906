/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Audit append rate: records/s through audit_log_append() (JSON, SHA-256
 * chain, one write(2) per record, fdatasync batching) on tmpfs and on disk,
 * for the default batching, the 256-record batches, and a sync per
 * record for comparison; then the verification rate.  Target: >= 100,000
 * records/s with the chain and the default batching.
 *
 *   audit-append [--records N] [DIR...]     (default: /dev/shm /var/tmp)
 *
 * Reports; exits non-zero only when the log cannot be written. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/parse.h"
#include "shuttle/audit/audit.h"

#define TARGET 100000.0

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void cleanup(const char *path) {
        char p[4200];
        unlink(path);
        for (unsigned i = 1; i <= AUDIT_KEEP_MAX; i++) {
                snprintf(p, sizeof(p), "%s.%u", path, i);
                if (unlink(p) < 0 && errno == ENOENT)
                        break;
        }
}

typedef struct Config {
        const char *name;
        unsigned sync_records;
        uint64_t sync_interval_usec;
        uint64_t divisor; /* run n / divisor records */
} Config;

static int run(const char *dir, const Config *c, uint64_t n, double *ret_rate, double *ret_verify_rate,
               uint64_t *ret_syncs, uint64_t *ret_rotations) {
        char path[4096];
        AuditLogOptions o = { .sync_records = c->sync_records, .sync_interval_usec = c->sync_interval_usec };
        AuditVerifyResult v;
        AuditLog *log = NULL;
        json_t *extra = json_pack("{s:i}", "peer_pid", 4242);
        double t0, t1;
        int r;

        snprintf(path, sizeof(path), "%s/shuttle-bench-audit.%d.jsonl", dir, (int) getpid());
        cleanup(path);
        r = audit_log_open(path, &o, &log);
        if (r < 0) {
                fprintf(stderr, "audit-append: %s: %s\n", path, strerror(-r));
                json_decref(extra);
                return r;
        }
        t0 = now();
        for (uint64_t i = 0; i < n; i++) {
                AuditRecord rec = {
                        .group = "webapp", .from = "web", .to = "db", .kind = "ipc", .op = "connect",
                        .object = i % 8 ? "kv" : "admin", .decision = i % 8 ? "allow" : "deny",
                        .rule = i % 8 ? "web-uses-kv" : "nobody-admins-db",
                        .reason = i % 8 ? NULL : "denied by rule nobody-admins-db (policy.yaml:14)",
                        .extra = extra,
                };
                r = audit_log_append(log, &rec);
                if (r < 0) {
                        fprintf(stderr, "audit-append: append: %s\n", strerror(-r));
                        break;
                }
        }
        *ret_syncs = audit_log_get_n_syncs(log);
        *ret_rotations = audit_log_get_n_rotations(log);
        if (audit_log_close(log) < 0 && r >= 0)
                r = -EIO;
        t1 = now();
        json_decref(extra);
        if (r < 0) {
                cleanup(path);
                return r;
        }
        *ret_rate = (double) n / (t1 - t0);

        t0 = now();
        r = audit_verify(path, AUDIT_VERIFY_ROTATED, &v);
        t1 = now();
        *ret_verify_rate = r == 0 && v.ok && v.n_records == n ? (double) n / (t1 - t0) : 0;
        cleanup(path);
        return 0;
}

int main(int argc, char **argv) {
        static const Config configs[] = {
                { "default: 100 ms or 1024 records", 0, 0, 1 },
                { "100 ms or 256 records", 256, 0, 1 },
                { "fdatasync every record", 1, 0, 50 },
        };
        static const struct option options[] = {
                { "records", required_argument, NULL, 'n' },
                {},
        };
        const char *default_dirs[] = { "/dev/shm", "/var/tmp" };
        const char **dirs = default_dirs;
        size_t n_dirs = 2;
        uint64_t n = 500000;
        bool missed = false;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'n':
                        if (parse_uint64(optarg, &n) < 0 || n == 0) {
                                fprintf(stderr, "audit-append: bad --records '%s'\n", optarg);
                                return 2;
                        }
                        break;
                default:
                        return 2;
                }
        if (optind < argc) {
                dirs = (const char **) argv + optind;
                n_dirs = (size_t) (argc - optind);
        }

        printf("audit append: %" PRIu64 " records per run (1/50 of that with a sync per record), "
               "~330-byte records, SHA-256 chain, 64 MiB rotation\n\n",
               n);
        printf("%-10s %-34s %9s %12s %7s %9s %14s\n", "dir", "fdatasync batching", "records", "records/s",
               "syncs", "rotations", "verify rec/s");
        for (size_t d = 0; d < n_dirs; d++)
                for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
                        uint64_t syncs = 0, rot = 0, m = MAX(n / configs[i].divisor, (uint64_t) 1);
                        double rate = 0, vrate = 0;

                        if (run(dirs[d], &configs[i], m, &rate, &vrate, &syncs, &rot) < 0)
                                return 1;
                        printf("%-10s %-34s %9" PRIu64 " %12.0f %7" PRIu64 " %9" PRIu64 " %14.0f\n", dirs[d],
                               configs[i].name, m, rate, syncs, rot, vrate);
                        if (i == 0 && rate < TARGET)
                                missed = true;
                }
        printf("\ntarget: >= %.0f records/s with the chain and the default batching: %s\n", TARGET,
               missed ? "MISSED" : "met");
        return 0;
}
