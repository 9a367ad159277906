/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Audit append rate: records/s through audit_log_append() (JSON, SHA-256
 * chain, one write(2) per record, fdatasync batching) on tmpfs and on disk,
 * for the default batching (shuttled --audit-sync batch), the issue's
 * 256-record batches, the group commit of --audit-sync sync (a thread
 * fdatasync()s what the writer handed it while the writer goes on; the
 * writer hands over every 64 records, as the broker's loop does after a
 * turn of up to 64 events, whenever the thread is idle), and a sync per
 * record for comparison; then the verification rate.  Target: >= 100,000
 * records/s with the chain and the default batching.  The reference of
 * issue 14's audit row: the least such a log can cost, a record of the same
 * size formatted with snprintf, its SHA-256 over the previous hash and the
 * line, one write(2), fdatasync at the same batching as the default; the
 * last lines ("ratio DIR X") give the default's rate over it, per DIR.
 *
 *   audit-append [--records N] [DIR...]     (default: /dev/shm /var/tmp)
 *
 * Reports; exits non-zero only when the log cannot be written. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

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
        bool group;       /* group commit on a thread (defer_sync) */
} Config;

/* The group commit's sync thread, as in shuttled's audit-sync.c. */
typedef struct Syncer {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        int fd;             /* to sync; -1: none */
        uint64_t want;
        _Atomic uint64_t done;
        _Atomic bool busy;
        bool quit;
        uint64_t n_syncs;
} Syncer;

static void *syncer_main(void *p) {
        Syncer *s = p;

        pthread_mutex_lock(&s->lock);
        for (;;) {
                while (s->fd < 0 && !s->quit)
                        pthread_cond_wait(&s->cond, &s->lock);
                if (s->fd < 0)
                        break;
                int fd = s->fd;
                uint64_t want = s->want;
                s->fd = -1;
                pthread_mutex_unlock(&s->lock);
                (void) fdatasync(fd);
                close(fd);
                pthread_mutex_lock(&s->lock);
                s->n_syncs++;
                atomic_store(&s->done, want);
                atomic_store(&s->busy, false);
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

/* The loop's part: take what the thread synced, hand it what is new. */
static void syncer_kick(Syncer *s, AuditLog *log) {
        uint64_t seq;
        int fd;

        if (atomic_load(&s->busy))
                return;
        audit_log_sync_done(log, atomic_load(&s->done));
        if (audit_log_sync_begin(log, &fd, &seq) <= 0)
                return;
        atomic_store(&s->busy, true);
        pthread_mutex_lock(&s->lock);
        s->fd = fd;
        s->want = seq;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
}

static int run(const char *dir, const Config *c, uint64_t n, double *ret_rate, double *ret_verify_rate,
               uint64_t *ret_syncs, uint64_t *ret_rotations) {
        char path[4096];
        AuditLogOptions o = { .sync_records = c->sync_records, .sync_interval_usec = c->sync_interval_usec,
                              .defer_sync = c->group };
        Syncer sy = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .fd = -1 };
        pthread_t thread;
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
        if (c->group && pthread_create(&thread, NULL, syncer_main, &sy) != 0) {
                audit_log_close(log);
                json_decref(extra);
                return -EAGAIN;
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
                if (c->group && i % 64 == 63)
                        syncer_kick(&sy, log);
        }
        if (c->group) {
                /* Everything durable before the clock stops. */
                while (audit_log_get_synced_seq(log) < audit_log_get_seq(log))
                        syncer_kick(&sy, log);
                pthread_mutex_lock(&sy.lock);
                sy.quit = true;
                pthread_cond_signal(&sy.cond);
                pthread_mutex_unlock(&sy.lock);
                pthread_join(thread, NULL);
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

/* The reference: write + SHA-256 per record, fdatasync every 1024 records
 * or 100 ms, as the default batching; records of the audit log's size. */
static int run_reference(const char *dir, uint64_t n, double *ret_rate) {
        unsigned char prev[32] = {}, h[32];
        char path[4096], line[512], hex[65];
        unsigned hlen = 0;
        double t0, last_sync;
        uint64_t since_sync = 0;
        int fd, r = 0;

        /* The digest fetched once and its context reused, as the audit
         * log does (EVP_Digest() with EVP_sha256() looks it up each time). */
        EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        snprintf(path, sizeof(path), "%s/shuttle-bench-ref.%d.jsonl", dir, (int) getpid());
        fd = md && ctx ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600) : -1;
        if (fd < 0) {
                r = md && ctx ? -errno : -ENOMEM;
                EVP_MD_CTX_free(ctx);
                EVP_MD_free(md);
                return r;
        }
        t0 = last_sync = now();
        for (uint64_t i = 0; i < n && r == 0; i++) {
                int len;

                for (int k = 0; k < 32; k++)
                        snprintf(hex + 2 * k, 3, "%02x", prev[k]);
                len = snprintf(line, sizeof(line),
                               "{\"ts\":\"2026-12-06T09:00:00.000000Z\",\"seq\":%" PRIu64
                               ",\"group\":\"webapp\",\"from\":\"web\",\"to\":\"db\",\"kind\":\"ipc\","
                               "\"op\":\"connect\",\"object\":\"kv\",\"decision\":\"allow\",\"rule\":"
                               "\"web-uses-kv\",\"peer_pid\":4242,\"prev\":\"%s\",\"hash\":\"",
                               i + 1, hex);
                if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, line, (size_t) len) != 1 ||
                    EVP_DigestFinal_ex(ctx, h, &hlen) != 1) {
                        r = -EIO;
                        break;
                }
                for (int k = 0; k < 32; k++)
                        len += snprintf(line + len, sizeof(line) - (size_t) len, "%02x", h[k]);
                len += snprintf(line + len, sizeof(line) - (size_t) len, "\"}\n");
                memcpy(prev, h, sizeof(prev));
                if (write(fd, line, (size_t) len) != len)
                        r = -EIO;
                if (++since_sync >= 1024 || now() - last_sync >= 0.1) {
                        (void) fdatasync(fd);
                        since_sync = 0;
                        last_sync = now();
                }
        }
        (void) fdatasync(fd);
        close(fd);
        EVP_MD_CTX_free(ctx);
        EVP_MD_free(md);
        *ret_rate = (double) n / (now() - t0);
        unlink(path);
        return r;
}

int main(int argc, char **argv) {
        static const Config configs[] = {
                { "default: 100 ms or 1024 records", 0, 0, 1 },
                { "100 ms or 256 records", 256, 0, 1 },
                { "group commit (--audit-sync sync)", 0, 0, 1, true },
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
        double default_rate[16] = {}, ref_rate[16] = {};
        n_dirs = MIN(n_dirs, (size_t) 16);
        for (size_t d = 0; d < n_dirs; d++) {
                for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
                        uint64_t syncs = 0, rot = 0, m = MAX(n / configs[i].divisor, (uint64_t) 1);
                        double rate = 0, vrate = 0;

                        if (run(dirs[d], &configs[i], m, &rate, &vrate, &syncs, &rot) < 0)
                                return 1;
                        printf("%-10s %-34s %9" PRIu64 " %12.0f %7" PRIu64 " %9" PRIu64 " %14.0f\n", dirs[d],
                               configs[i].name, m, rate, syncs, rot, vrate);
                        if (i == 0) {
                                default_rate[d] = rate;
                                if (rate < TARGET)
                                        missed = true;
                        }
                }
                if (run_reference(dirs[d], n, &ref_rate[d]) < 0)
                        return 1;
                printf("%-10s %-34s %9" PRIu64 " %12.0f\n", dirs[d], "reference: write + SHA-256, default", n,
                       ref_rate[d]);
        }
        printf("\ntarget: >= %.0f records/s with the chain and the default batching: %s\n", TARGET,
               missed ? "MISSED" : "met");
        for (size_t d = 0; d < n_dirs; d++)
                if (ref_rate[d] > 0)
                        printf("ratio %s %.2f\n", dirs[d], default_rate[d] / ref_rate[d]);
        return 0;
}
