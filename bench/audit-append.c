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
 * issue 14's audit row: the least such a log can cost, the same records
 * (the same bytes) with their time, each formatted with one snprintf(),
 * its SHA-256 over the previous hash and the record, one write(2),
 * fdatasync at the same batching as the default (run_reference() says
 * what it leaves out).  The default and the reference then run in
 * interleaved rounds; the last lines ("ratio DIR X") give the median of
 * the rounds' ratios of the default's rate over the reference's, per DIR.
 *
 *   audit-append [--records N] [--rounds R] [DIR...]   (default: /dev/shm /var/tmp; 3 rounds)
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/macro.h"
#include "common/parse.h"
#include "shuttle/audit/audit.h"

#define TARGET 100000.0
#define MAX_ROUNDS 15

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Bytes in the log and its rotated files. */
static uint64_t log_bytes(const char *path) {
        char p[4200];
        struct stat st;
        uint64_t sum = 0;

        if (stat(path, &st) == 0)
                sum += (uint64_t) st.st_size;
        for (unsigned i = 1; i <= AUDIT_KEEP_MAX; i++) {
                snprintf(p, sizeof(p), "%s.%u", path, i);
                if (stat(p, &st) < 0)
                        break;
                sum += (uint64_t) st.st_size;
        }
        return sum;
}

/* CPU time of the process (the group commit's thread included). */
static double cpu_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
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
               uint64_t *ret_syncs, uint64_t *ret_rotations, double *ret_bytes, double *ret_cpu_rate) {
        char path[4096];
        AuditLogOptions o = { .sync_records = c->sync_records, .sync_interval_usec = c->sync_interval_usec,
                              .defer_sync = c->group };
        Syncer sy = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .fd = -1 };
        pthread_t thread;
        AuditVerifyResult v;
        AuditLog *log = NULL;
        json_t *extra = json_pack("{s:i}", "peer_pid", 4242);
        double t0, t1, c0;
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
        c0 = cpu_now();
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
        *ret_cpu_rate = (double) n / (cpu_now() - c0);
        *ret_bytes = (double) log_bytes(path) / (double) n;
        if (!ret_verify_rate) {
                cleanup(path);
                return 0;
        }

        t0 = now();
        r = audit_verify(path, AUDIT_VERIFY_ROTATED, &v);
        t1 = now();
        *ret_verify_rate = r == 0 && v.ok && v.n_records == n ? (double) n / (t1 - t0) : 0;
        cleanup(path);
        return 0;
}

static void to_hex(const unsigned char *d, char *out) {
        static const char hex[] = "0123456789abcdef";
        for (int k = 0; k < 32; k++) {
                out[2 * k] = hex[d[k] >> 4];
                out[2 * k + 1] = hex[d[k] & 15];
        }
        out[64] = 0;
}

/* The reference: the same records (the same fields and bytes as the audit
 * log's lines, a deny with its reason every 8th), each with its time
 * (CLOCK_REALTIME, the date formatted once per second as the log does),
 * formatted by one snprintf(), SHA-256 over the previous hash, a newline
 * and the record (the log's definition), one write(2) each, fdatasync
 * every 1024 records or 100 ms, as the default batching.  What it leaves
 * out: escaping and truncating strings from containers, and rotation. */
static int run_reference(const char *dir, uint64_t n, double *ret_rate, double *ret_bytes, double *ret_cpu_rate) {
        unsigned char h[32];
        char path[4096], line[1024], prev[65], ts_prefix[32] = "", frac[8];
        unsigned hlen = 0;
        time_t ts_sec = 0;
        double t0, c0, last_sync;
        uint64_t since_sync = 0, bytes = 0;
        int fd, r = 0;

        /* The digest fetched once and its context reused, as the audit
         * log does (EVP_Digest() with EVP_sha256() looks it up each time). */
        EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        memset(prev, '0', 64);
        prev[64] = 0;
        snprintf(path, sizeof(path), "%s/shuttle-bench-ref.%d.jsonl", dir, (int) getpid());
        fd = md && ctx ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600) : -1;
        if (fd < 0) {
                r = md && ctx ? -errno : -ENOMEM;
                EVP_MD_CTX_free(ctx);
                EVP_MD_free(md);
                return r;
        }
        t0 = last_sync = now();
        c0 = cpu_now();
        for (uint64_t i = 0; i < n && r == 0; i++) {
                bool deny = i % 8 == 0;
                struct timespec ts;
                int len;

                clock_gettime(CLOCK_REALTIME, &ts);
                if (ts.tv_sec != ts_sec) {
                        struct tm tm;
                        gmtime_r(&ts.tv_sec, &tm);
                        strftime(ts_prefix, sizeof(ts_prefix), "%Y-%m-%dT%H:%M:%S", &tm);
                        ts_sec = ts.tv_sec;
                }
                unsigned us = (unsigned) (ts.tv_nsec / 1000);
                for (int k = 5; k >= 0; k--, us /= 10)
                        frac[k] = (char) ('0' + us % 10);
                frac[6] = 0;
                len = snprintf(line, sizeof(line),
                               "{\"ts\":\"%s.%sZ\",\"seq\":%" PRIu64 ",\"group\":\"webapp\",\"from\":\"web\","
                               "\"to\":\"db\",\"kind\":\"ipc\",\"op\":\"connect\",\"object\":\"%s\","
                               "\"decision\":\"%s\",\"rule\":\"%s\",\"reason\":%s,\"peer_pid\":4242,"
                               "\"prev\":\"%s\"}",
                               ts_prefix, frac, i + 1, deny ? "admin" : "kv", deny ? "deny" : "allow",
                               deny ? "nobody-admins-db" : "web-uses-kv",
                               deny ? "\"denied by rule nobody-admins-db (policy.yaml:14)\"" : "null", prev);
                if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, prev, 64) != 1 ||
                    EVP_DigestUpdate(ctx, "\n", 1) != 1 || EVP_DigestUpdate(ctx, line, (size_t) len) != 1 ||
                    EVP_DigestFinal_ex(ctx, h, &hlen) != 1) {
                        r = -EIO;
                        break;
                }
                to_hex(h, prev);
                /* ,"hash":"..."} replaces the closing brace */
                len--;
                memcpy(line + len, ",\"hash\":\"", 9);
                memcpy(line + len + 9, prev, 64);
                memcpy(line + len + 73, "\"}\n", 3);
                len += 76;
                if (write(fd, line, (size_t) len) != len)
                        r = -EIO;
                bytes += (uint64_t) len;
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
        *ret_cpu_rate = (double) n / (cpu_now() - c0);
        *ret_bytes = (double) bytes / (double) n;
        unlink(path);
        return r;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
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
                { "rounds", required_argument, NULL, 'r' },
                {},
        };
        const char *default_dirs[] = { "/dev/shm", "/var/tmp" };
        const char **dirs = default_dirs;
        size_t n_dirs = 2;
        uint64_t n = 500000;
        uint32_t rounds = 3;
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
                case 'r':
                        if (parse_uint32(optarg, &rounds) < 0 || rounds == 0 || rounds > MAX_ROUNDS) {
                                fprintf(stderr, "audit-append: bad --rounds '%s' (1-%d)\n", optarg, MAX_ROUNDS);
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
        printf("%-10s %-34s %9s %12s %7s %9s %14s %9s\n", "dir", "fdatasync batching", "records", "records/s",
               "syncs", "rotations", "verify rec/s", "bytes/rec");
        double ratio[16] = {};
        n_dirs = MIN(n_dirs, (size_t) 16);
        for (size_t d = 0; d < n_dirs; d++) {
                double rates[MAX_ROUNDS], refs[MAX_ROUNDS], ratios[MAX_ROUNDS], cpu_ratios[MAX_ROUNDS], bytes = 0,
                       ref_bytes = 0, cpu = 0, ref_cpu = 0;

                for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
                        uint64_t syncs = 0, rot = 0, m = MAX(n / configs[i].divisor, (uint64_t) 1);
                        double rate = 0, vrate = 0;

                        if (run(dirs[d], &configs[i], m, &rate, &vrate, &syncs, &rot, &bytes, &cpu) < 0)
                                return 1;
                        printf("%-10s %-34s %9" PRIu64 " %12.0f %7" PRIu64 " %9" PRIu64 " %14.0f %9.1f\n", dirs[d],
                               configs[i].name, m, rate, syncs, rot, vrate, bytes);
                }
                /* The default and the reference in interleaved rounds (the
                 * order alternating), judged by the median of the rounds'
                 * ratios: a burst of other work on the machine then spoils
                 * one round, not the figure. */
                for (unsigned k = 0; k < rounds; k++) {
                        uint64_t syncs, rot;
                        int r1, r2;

                        if (k % 2 == 0) {
                                r1 = run_reference(dirs[d], n, &refs[k], &ref_bytes, &ref_cpu);
                                r2 = run(dirs[d], &configs[0], n, &rates[k], NULL, &syncs, &rot, &bytes, &cpu);
                        } else {
                                r2 = run(dirs[d], &configs[0], n, &rates[k], NULL, &syncs, &rot, &bytes, &cpu);
                                r1 = run_reference(dirs[d], n, &refs[k], &ref_bytes, &ref_cpu);
                        }
                        if (r1 < 0 || r2 < 0)
                                return 1;
                        ratios[k] = rates[k] / refs[k];
                        cpu_ratios[k] = cpu / ref_cpu;
                }
                qsort(rates, rounds, sizeof(double), cmp_double);
                qsort(refs, rounds, sizeof(double), cmp_double);
                qsort(ratios, rounds, sizeof(double), cmp_double);
                qsort(cpu_ratios, rounds, sizeof(double), cmp_double);
                ratio[d] = ratios[rounds / 2];
                if (rates[rounds / 2] < TARGET)
                        missed = true;
                printf("%-10s %-34s %9" PRIu64 " %12.0f %7s %9s %14s %9.1f\n", dirs[d], "default, median of rounds", n,
                       rates[rounds / 2], "", "", "", bytes);
                printf("%-10s %-34s %9" PRIu64 " %12.0f %7s %9s %14s %9.1f\n", dirs[d],
                       "reference: write + SHA-256, default", n, refs[rounds / 2], "", "", "", ref_bytes);
                printf("%-10s %-34s %9u   %.2f .. %.2f\n", dirs[d], "rounds, ratio min .. max", rounds, ratios[0],
                       ratios[rounds - 1]);
                printf("%-10s %-34s %9u   %.2f (%.2f .. %.2f)\n", dirs[d], "ratio of records per CPU second", rounds,
                       cpu_ratios[rounds / 2], cpu_ratios[0], cpu_ratios[rounds - 1]);
        }
        printf("\ntarget: >= %.0f records/s with the chain and the default batching: %s\n", TARGET,
               missed ? "MISSED" : "met");
        for (size_t d = 0; d < n_dirs; d++)
                printf("ratio %s %.2f\n", dirs[d], ratio[d]);
        return 0;
}
