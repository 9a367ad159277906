/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Policy decision benchmark: decisions per second of CPU time for 10,
 * 1,000 and 10,000 rules (a mix of exact and glob rules), and the CPU time
 * to load a 10,000-rule file.  CPU time of this thread, not wall time: on a
 * loaded machine wall time counts the time other processes had the CPU (it
 * swung 4x).  Targets: >= 1,000,000 decisions/s at 10,000 rules, load
 * < 100 ms.  Prints a table; does not fail on targets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy/policy.h"

#define N_REQUESTS 4096

#define SAMPLES 7

/* CPU time this thread has used. */
static double cpu_sec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
        qsort(v, n, sizeof(double), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Deterministic xorshift, so every run measures the same policy. */
static unsigned rnd(unsigned *s) {
        *s ^= *s << 13;
        *s ^= *s >> 17;
        *s ^= *s << 5;
        return *s;
}

/* n rules over n/4 caller and n/8 target containers: 70% exact pairs with
 * an exact endpoint, 10% exact pairs with a glob endpoint, 10% glob
 * callers ("cN*"), 5% glob targets, 5% deny rules; plus two broad rules
 * ('*' to '*') that every request must consider. */
typedef struct Tuple {
        unsigned c, t, e;
} Tuple;

static char *make_policy(unsigned n, size_t *ret_len, Tuple *ret_tuples) {
        unsigned seed = 12345, callers = n / 4 + 1, targets = n / 8 + 1;
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        fprintf(f, "version: 1\ndefault: deny\naudit: deny\nrules:\n");
        fprintf(f, "- {id: no-proc, from: '*', to: '*', deny: ipc, endpoint: 'proc-*'}\n");
        fprintf(f, "- {id: base, from: '*', to: '*', allow: ipc, endpoint: health}\n");
        for (unsigned i = 0; i < n; i++) {
                unsigned c = rnd(&seed) % callers, t = rnd(&seed) % targets, e = rnd(&seed) % 16, k = i % 20;

                if (ret_tuples)
                        ret_tuples[i] = (Tuple) { c, t, e };

                if (k < 14)
                        fprintf(f, "- {id: r%u, from: c%u, to: s%u, allow: ipc, endpoint: e%u}\n", i, c, t, e);
                else if (k < 16)
                        fprintf(f, "- {id: r%u, from: c%u, to: s%u, allow: ipc, endpoint: 'e%u*'}\n", i, c, t, e);
                else if (k < 18)
                        fprintf(f, "- {id: r%u, from: 'c%u*', to: s%u, allow: ipc, endpoint: e%u}\n", i, c, t, e);
                else if (k < 19)
                        fprintf(f, "- {id: r%u, from: c%u, to: 's%u*', allow: ipc, endpoint: e%u}\n", i, c, t, e);
                else
                        fprintf(f, "- {id: r%u, from: c%u, to: s%u, deny: ipc, endpoint: e%u}\n", i, c, t, e);
        }
        fclose(f);
        *ret_len = len;
        return text;
}

static int bench(unsigned n_rules, double *ret_rate, unsigned *ret_allowed) {
        static char from[N_REQUESTS][32], to[N_REQUESTS][32], ep[N_REQUESTS][32];
        PolicyRequest reqs[N_REQUESTS];
        PolicyDiagnostics d = {};
        Policy *p = NULL;
        unsigned seed = 777, callers = n_rules / 4 + 1, targets = n_rules / 8 + 1, allowed = 0;
        size_t len;
        Tuple *tuples = calloc(n_rules, sizeof(Tuple));
        char *text = make_policy(n_rules, &len, tuples);
        int r;

        r = policy_load_buffer("bench.yaml", text, len, 0, &p, &d);
        free(text);
        if (r < 0) {
                policy_diagnostics_print(&d, stderr);
                policy_diagnostics_clear(&d);
                free(tuples);
                return r;
        }
        policy_diagnostics_clear(&d);

        /* Half the requests are what some rule is about, half random. */
        for (unsigned i = 0; i < N_REQUESTS; i++) {
                const Tuple *t = &tuples[rnd(&seed) % n_rules];
                if (i % 2) {
                        snprintf(from[i], sizeof(from[i]), "%sc%u", i % 3 ? "" : "grp/", t->c);
                        snprintf(to[i], sizeof(to[i]), "s%u", t->t);
                        snprintf(ep[i], sizeof(ep[i]), "e%u", t->e);
                } else {
                        snprintf(from[i], sizeof(from[i]), "%sc%u", i % 3 ? "" : "grp/", rnd(&seed) % callers);
                        snprintf(to[i], sizeof(to[i]), "s%u", rnd(&seed) % targets);
                        snprintf(ep[i], sizeof(ep[i]), "e%u", rnd(&seed) % 20);
                }
                reqs[i] = (PolicyRequest) { .from = from[i], .to = to[i], .kind = POLICY_KIND_IPC,
                                            .object = ep[i], .now = 1800000000 };
        }

        /* SAMPLES samples of at least 0.1 s of CPU time each; the median. */
        unsigned long total = 0;
        double rates[SAMPLES];
        for (unsigned k = 0; k < SAMPLES; k++) {
                unsigned long n = 0;
                double start = cpu_sec(), elapsed;
                do {
                        for (unsigned i = 0; i < N_REQUESTS; i++) {
                                PolicyDecision dec;
                                if (policy_decide(p, &reqs[i], &dec) < 0) {
                                        free(tuples);
                                        policy_unref(p);
                                        return -EIO;
                                }
                                allowed += dec.verdict == POLICY_ALLOW;
                        }
                        n += N_REQUESTS;
                        elapsed = cpu_sec() - start;
                } while (elapsed < 0.1);
                rates[k] = (double) n / elapsed;
                total += n;
        }

        free(tuples);
        *ret_rate = median(rates, SAMPLES);
        *ret_allowed = (unsigned) ((double) allowed * 100.0 / (double) total);
        policy_unref(p);
        return 0;
}

static int bench_load(unsigned n_rules, double *ret_ms, size_t *ret_bytes) {
        char path[] = "/tmp/policy-bench-XXXXXX.yaml";
        const char *paths[] = { path };
        PolicyDiagnostics d = {};
        double best = 1e9;
        size_t len;
        char *text = make_policy(n_rules, &len, NULL);
        int fd, r = 0;

        fd = mkstemps(path, 5);
        if (fd < 0) {
                free(text);
                return -errno;
        }
        if (write(fd, text, len) != (ssize_t) len)
                r = -EIO;
        close(fd);
        free(text);
        for (int i = 0; i < 5 && r >= 0; i++) {
                Policy *p = NULL;
                double start = cpu_sec();
                r = policy_load(paths, 1, &p, &d);
                double ms = (cpu_sec() - start) * 1000;
                if (ms < best)
                        best = ms;
                policy_diagnostics_clear(&d);
                policy_unref(p);
        }
        unlink(path);
        *ret_ms = best;
        *ret_bytes = len;
        return r;
}

int main(int argc, char **argv) {
        static const unsigned sizes[] = { 10, 1000, 10000 };
        double ms = 0;
        size_t bytes = 0;
        int r;

        printf("CPU time of one thread, median of %d samples of >= 0.1 s each\n", SAMPLES);
        printf("%-10s %16s %10s\n", "rules", "decisions/s", "allowed");
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                double rate;
                unsigned allowed;

                r = bench(sizes[i], &rate, &allowed);
                if (r < 0) {
                        fprintf(stderr, "policy-decide: benchmark failed: %s\n", strerror(-r));
                        return 1;
                }
                printf("%-10u %16.0f %9u%%\n", sizes[i], rate, allowed);
        }
        r = bench_load(10000, &ms, &bytes);
        if (r < 0) {
                fprintf(stderr, "policy-decide: load failed: %s\n", strerror(-r));
                return 1;
        }
        printf("\nload of a 10000-rule file (%zu bytes): %.1f ms of CPU time (best of 5)\n", bytes, ms);
        printf("targets: >= 1000000 decisions/s at 10000 rules, load < 100 ms\n");
        return 0;
}
