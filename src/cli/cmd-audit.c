/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl audit: show, filter, follow and verify the broker's audit log
 * (a thin front end to src/shuttle/audit.h). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/verbs.h"
#include "common/log.h"
#include "common/parse.h"
#include "shuttle/audit.h"

typedef struct AuditArgs {
        const char *file;
        bool follow, json, verify, all;
        AuditFilter filter;
} AuditArgs;

static void help(void) {
        printf("Usage: shuttlectl audit [OPTIONS...]\n\n"
               "Show the broker's audit log: every decision and every refused request.\n\n"
               "  --file PATH            the log (default " AUDIT_DEFAULT_PATH ")\n"
               "  --all                  also read the rotated files PATH.N ... PATH.1 first\n"
               "  --from NAME            only requests from NAME (a glob)\n"
               "  --to NAME              only requests to NAME (a glob)\n"
               "  --kind KIND            only this kind (a glob): ipc, invoke, transfer, ...\n"
               "  --decision allow|deny  only allowed or only denied requests\n"
               "  --since TIME           only records at or after TIME: RFC 3339\n"
               "                         (2024-05-01T12:00:00Z) or an age (30s, 10m, 1h)\n"
               "  --follow               keep printing records as they are appended\n"
               "  --json                 print the records' JSON lines unchanged\n"
               "  --verify               check the hash chain instead of printing records\n"
               "  -h, --help             show this help\n\n"
               "Exit status: 0 success (--verify: chain intact), 1 failure (--verify: chain\n"
               "broken), 2 usage error.\n");
}

static int parse_since(const char *s, uint64_t *ret) {
        struct timespec ts;
        uint64_t usec, now;

        if (audit_parse_timestamp(s, &usec) == 0) {
                *ret = usec;
                return 0;
        }
        if (parse_duration(s, &usec) < 0)
                return -EINVAL;
        clock_gettime(CLOCK_REALTIME, &ts);
        now = (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
        *ret = usec >= now ? 1 : now - usec;
        return 0;
}

static int parse_args(int argc, char **argv, AuditArgs *a) {
        enum {
                ARG_FILE = 0x100, ARG_ALL, ARG_FROM, ARG_TO, ARG_KIND, ARG_DECISION, ARG_SINCE,
                ARG_FOLLOW, ARG_JSON, ARG_VERIFY,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "file", required_argument, NULL, ARG_FILE },
                { "all", no_argument, NULL, ARG_ALL },
                { "from", required_argument, NULL, ARG_FROM },
                { "to", required_argument, NULL, ARG_TO },
                { "kind", required_argument, NULL, ARG_KIND },
                { "decision", required_argument, NULL, ARG_DECISION },
                { "since", required_argument, NULL, ARG_SINCE },
                { "follow", no_argument, NULL, ARG_FOLLOW },
                { "json", no_argument, NULL, ARG_JSON },
                { "verify", no_argument, NULL, ARG_VERIFY },
                {},
        };
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_FILE:
                        if (!*optarg) {
                                log_error("audit: --file needs a path");
                                return -EINVAL;
                        }
                        a->file = optarg;
                        break;
                case ARG_ALL:
                        a->all = true;
                        break;
                case ARG_FROM:
                        a->filter.from = optarg;
                        break;
                case ARG_TO:
                        a->filter.to = optarg;
                        break;
                case ARG_KIND:
                        a->filter.kind = optarg;
                        break;
                case ARG_DECISION:
                        if (!streq(optarg, "allow") && !streq(optarg, "deny")) {
                                log_error("audit: invalid --decision '%s' (expected allow or deny)", optarg);
                                return -EINVAL;
                        }
                        a->filter.decision = optarg;
                        break;
                case ARG_SINCE:
                        if (parse_since(optarg, &a->filter.since_usec) < 0) {
                                log_error("audit: invalid --since '%s' (expected an RFC 3339 time such as "
                                          "2024-05-01T12:00:00Z, or an age such as 10m or 1h)",
                                          optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_FOLLOW:
                        a->follow = true;
                        break;
                case ARG_JSON:
                        a->json = true;
                        break;
                case ARG_VERIFY:
                        a->verify = true;
                        break;
                case '?':
                default:
                        if (optopt >= ARG_FILE)
                                log_error("audit: option '%s' needs a value (see 'shuttlectl audit --help')",
                                          argv[optind - 1]);
                        else
                                log_error("audit: unknown option '%s' (see 'shuttlectl audit --help')",
                                          argv[optind - 1]);
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("audit: unexpected argument '%s' (see 'shuttlectl audit --help')", argv[optind]);
                return -EINVAL;
        }
        if (a->verify && (a->follow || a->json)) {
                log_error("audit: --verify cannot be combined with %s", a->follow ? "--follow" : "--json");
                return -EINVAL;
        }
        return 1;
}

/* Terminal-safe, width-limited: control characters become '?', values
 * longer than width code points end in "…".  Returns the code points
 * written. */
static size_t put_cell(const char *s, size_t width, bool pad) {
        size_t cps = 0, n = s ? strlen(s) : 0, i = 0;

        if (!s) {
                s = "-";
                n = 1;
        }
        while (i < n) {
                unsigned char c = (unsigned char) s[i];
                size_t l = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
                if (cps + 1 == width && i + l < n) {
                        fputs("…", stdout);
                        cps++;
                        break;
                }
                if (i + l > n)
                        l = n - i;
                if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xC0))
                        putchar('?');
                else if (c == 0xC2 && l == 2 && (unsigned char) s[i + 1] < 0xA0)
                        putchar('?'); /* C1 controls */
                else
                        fwrite(s + i, 1, l, stdout);
                cps++;
                i += l;
        }
        if (pad)
                for (; cps < width; cps++)
                        putchar(' ');
        return cps;
}

static const char *field(json_t *rec, const char *key) {
        return json_string_value(json_object_get(rec, key));
}

static void print_header(void) {
        /* put_cell pads by characters, printf by bytes: "→" is 3 bytes. */
        printf("%-20s %7s %-8s %-9s ", "TIME", "SEQ", "DECISION", "KIND");
        put_cell("FROM → TO", 29, true);
        printf(" %-28s %s\n", "OBJECT", "RULE");
}

static void print_row(json_t *rec) {
        const char *ts = field(rec, "ts");
        char tsbuf[21] = "-";
        char route[256];

        /* 2024-05-01T12:34:56.123456Z → 2024-05-01 12:34:56Z */
        if (ts && strlen(ts) >= 19) {
                memcpy(tsbuf, ts, 19);
                tsbuf[10] = ' ';
                tsbuf[19] = 'Z';
                tsbuf[20] = 0;
        }
        printf("%-20s %7" JSON_INTEGER_FORMAT " ", tsbuf, json_integer_value(json_object_get(rec, "seq")));
        put_cell(field(rec, "decision"), 8, true);
        putchar(' ');
        put_cell(field(rec, "kind"), 9, true);
        putchar(' ');
        snprintf(route, sizeof(route), "%.120s → %.120s", field(rec, "from") ?: "-", field(rec, "to") ?: "-");
        put_cell(route, 29, true);
        putchar(' ');
        put_cell(field(rec, "object"), 28, true);
        putchar(' ');
        put_cell(field(rec, "rule") ?: "(default)", 64, false);
        putchar('\n');
}

static int show(const AuditArgs *a) {
        _cleanup_(audit_reader_freep) AuditReader *r = NULL;
        int k;

        k = audit_reader_open(a->file, a->all, &r);
        if (k < 0)
                return log_error_errno(k, "Failed to open audit log '%s': %m", a->file);
        if (!a->json)
                print_header();
        for (;;) {
                json_t *rec = NULL;
                const char *line;
                size_t len;

                k = audit_reader_next(r, &rec, &line, &len);
                if (k == -EBADMSG) {
                        log_warning("%s:%" PRIu64 ": not a JSON record, skipped", audit_reader_get_file(r),
                                    audit_reader_get_line_number(r));
                        continue;
                }
                if (k < 0)
                        return log_error_errno(k, "Failed to read '%s': %m", audit_reader_get_file(r));
                if (k == 0) {
                        if (!a->follow)
                                break;
                        fflush(stdout);
                        k = audit_reader_wait(r, UINT64_MAX);
                        if (k < 0)
                                return log_error_errno(k, "Failed to wait for '%s': %m", a->file);
                        continue;
                }
                if (audit_filter_match(&a->filter, rec)) {
                        if (a->json) {
                                fwrite(line, 1, len, stdout);
                                putchar('\n');
                        } else
                                print_row(rec);
                }
                json_decref(rec);
        }
        if (fflush(stdout) != 0)
                return log_error_errno(-errno, "Failed to write output: %m");
        return 0;
}

/* The raw text of the broken line, for the report. */
static void print_broken_line(const AuditVerifyResult *res) {
        _cleanup_(audit_reader_freep) AuditReader *r = NULL;

        if (audit_reader_open(res->file, false, &r) < 0)
                return;
        for (;;) {
                const char *line = NULL;
                size_t len = 0;
                json_t *rec = NULL;
                int k = audit_reader_next(r, &rec, &line, &len);
                json_decref(rec);
                if (k == 0 || (k < 0 && k != -EBADMSG))
                        return;
                if (audit_reader_get_line_number(r) == res->line) {
                        fputs("  ", stdout);
                        put_cell(line, 200, false);
                        putchar('\n');
                        return;
                }
        }
}

static int verify(const AuditArgs *a) {
        AuditVerifyResult res;
        int k;

        k = audit_verify(a->file, a->all ? AUDIT_VERIFY_ROTATED : 0, &res);
        if (k < 0)
                return log_error_errno(k, "Failed to verify audit log '%s': %m", a->file);
        if (!res.ok) {
                if (res.seq > 0)
                        printf("audit log BROKEN: %s:%" PRIu64 ": record seq %" PRIu64 ": %s\n", res.file, res.line,
                               res.seq, res.reason);
                else
                        printf("audit log BROKEN: %s:%" PRIu64 ": %s\n", res.file, res.line, res.reason);
                print_broken_line(&res);
                if (res.n_records > 0)
                        printf("(%" PRIu64 " record%s before it verified, seq %" PRIu64 "..%" PRIu64 ")\n",
                               res.n_records, res.n_records == 1 ? "" : "s", res.first_seq, res.last_seq);
                return 1;
        }
        printf("audit log OK: %" PRIu64 " record%s, chain intact\n", res.n_records, res.n_records == 1 ? "" : "s");
        if (res.n_records > 0)
                printf("  seq %" PRIu64 "..%" PRIu64 " in %" PRIu64 " file%s, last hash %s\n", res.first_seq,
                       res.last_seq, res.n_files, res.n_files == 1 ? "" : "s", res.last_hash);
        if (res.n_records > 0 && !res.starts_at_genesis)
                printf("  the chain continues an earlier file (rotated or removed): its first record, seq %" PRIu64
                       ", was not checked against it%s\n",
                       res.first_seq, a->all ? "" : " (--all checks the rotated files too)");
        if (res.n_torn_recovered > 0)
                printf("  %" PRIu64 " torn line%s left by a crash, recovered by the writer\n", res.n_torn_recovered,
                       res.n_torn_recovered == 1 ? "" : "s");
        return 0;
}

int verb_audit(int argc, char **argv) {
        AuditArgs a = { .file = AUDIT_DEFAULT_PATH };
        int r;

        r = parse_args(argc, argv, &a);
        if (r < 0)
                return EXIT_USAGE;
        if (r == 0)
                return 0;
        if (a.verify)
                return verify(&a);
        return show(&a) < 0 ? 1 : 0;
}
