/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* audit-gen: appends records to an audit log with the library, for the
 * shell tests and by hand.
 *
 *   audit-gen [--now] [--object-prefix P] [--max-size BYTES] [--keep N] FILE COUNT
 *
 * Record number i (its seq minus one, so numbering continues across runs)
 * goes from web/db/cache/mail[i%4] to the next name, kind
 * ipc/invoke/transfer/signal[i%4], allow for even i (rule "fine"), deny for
 * odd i (rule "no-way"), object "P-i" (P defaults to "object"), and ts
 * 2024-05-01T12:00:00Z + i seconds (or now, with --now). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "shuttle/audit/audit.h"

static const char *const names[] = { "web", "db", "cache", "mail" };
static const char *const kinds[] = { "ipc", "invoke", "transfer", "signal" };

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "now", no_argument, NULL, 'n' },
                { "object-prefix", required_argument, NULL, 'p' },
                { "max-size", required_argument, NULL, 's' },
                { "keep", required_argument, NULL, 'k' },
                {},
        };
        AuditLogOptions o = {};
        const char *prefix = "object";
        bool now = false;
        AuditLog *log = NULL;
        uint64_t count, first;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'n':
                        now = true;
                        break;
                case 'p':
                        prefix = optarg;
                        break;
                case 's':
                        if (parse_size(optarg, &o.max_size) < 0) {
                                fprintf(stderr, "audit-gen: bad --max-size '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case 'k': {
                        uint32_t k;
                        if (parse_uint32(optarg, &k) < 0) {
                                fprintf(stderr, "audit-gen: bad --keep '%s'\n", optarg);
                                return 2;
                        }
                        o.keep = k;
                        break;
                }
                default:
                        return 2;
                }
        if (argc - optind != 2 || parse_uint64(argv[optind + 1], &count) < 0) {
                fprintf(stderr, "Usage: audit-gen [--now] [--object-prefix P] [--max-size BYTES] [--keep N] FILE COUNT\n");
                return 2;
        }
        r = audit_log_open(argv[optind], &o, &log);
        if (r < 0) {
                fprintf(stderr, "audit-gen: %s: %s\n", argv[optind], strerror(-r));
                return 1;
        }
        first = audit_log_get_seq(log);
        for (uint64_t i = first; i < first + count; i++) {
                char obj[256];
                snprintf(obj, sizeof(obj), "%s-%" PRIu64, prefix, i);
                AuditRecord rec = {
                        .group = "grp", .from = names[i % 4], .to = names[(i + 1) % 4], .kind = kinds[i % 4],
                        .op = "connect", .object = obj, .decision = i % 2 ? "deny" : "allow",
                        .rule = i % 2 ? "no-way" : "fine", .reason = i % 2 ? "denied by rule" : NULL,
                        .ts_usec = now ? 0 : UINT64_C(1714564800000000) + i * 1000000,
                };
                r = audit_log_append(log, &rec);
                if (r < 0) {
                        fprintf(stderr, "audit-gen: append: %s\n", strerror(-r));
                        audit_log_close(log);
                        return 1;
                }
        }
        r = audit_log_close(log);
        if (r < 0) {
                fprintf(stderr, "audit-gen: close: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
