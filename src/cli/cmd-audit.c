/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl audit: show, filter, follow and verify the broker's audit log
 * (a thin front end to src/shuttle/audit/audit.h). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "cli/audit-shadow-diff.h"
#include "cli/verb-options.h"
#include "cli/verbs.h"
#include "common/log.h"
#include "common/parse.h"
#include "common/time-util.h"
#include "shuttle/audit/audit.h"
#include "shuttle/host/broker-client.h"

typedef struct AuditArgs {
        const char *file;      /* --file, or what the state directory resolved to */
        const char *state_dir; /* --state-dir (NULL: the default, unless --file) */
        char origin[PATH_MAX + 64]; /* how a state directory led to file, for errors */
        bool follow, json, verify, all, shadow_diff;
        AuditFilter filter;
} AuditArgs;

static void help(void) {
        printf("Usage: shuttlectl audit [OPTIONS...]\n"
               "       shuttlectl audit graph [OPTIONS...]   (see 'shuttlectl audit graph --help')\n\n"
               "Show the broker's audit log: every decision and every refused request.\n\n"
               "  --file PATH            the log to read (default: see --state-dir)\n"
               "  --state-dir DIR        the log of the broker whose state is in DIR (default\n"
               "                         /run/shuttle): the file it says it writes while it\n"
               "                         runs, else the one a broker shuttlectl starts there\n"
               "                         writes: DIR/audit.jsonl (for /run/shuttle,\n"
               "                         " AUDIT_DEFAULT_PATH ")\n"
               "  --all                  also read the rotated files PATH.N ... PATH.1 first\n"
               "  --from NAME            only requests from NAME (a glob)\n"
               "  --to NAME              only requests to NAME (a glob)\n"
               "  --kind KIND            only this kind (a glob): ipc, invoke, transfer, ...\n"
               "  --decision allow|deny|learn\n"
               "                         only allowed, only denied or only learned requests\n"
               "                         (learn: allowed by learn mode; red on a terminal)\n"
               "  --since TIME           only records at or after TIME: RFC 3339\n"
               "                         (2024-05-01T12:00:00Z) or an age (30s, 10m, 1h)\n"
               "  --follow               keep printing records as they are appended\n"
               "  --json                 print the records' JSON lines (as written; control and\n"
               "                         format characters an older version left raw escaped)\n"
               "  --verify               check the hash chain instead of printing records;\n"
               "                         records missing at the start (deleted by rotation)\n"
               "                         are a failure too\n"
               "  --shadow-diff          instead of records, the requests the shadow policy\n"
               "                         decided otherwise than the policy in force, grouped\n"
               "                         by from, to, kind, object and the two decisions,\n"
               "                         with counts, most first (--json: a JSON array)\n"
               "  -h, --help             show this help\n\n"
               "Exit status: 0 success (--verify: chain intact), 1 failure (--verify: chain\n"
               "broken), 2 usage error.\n\n"
               "shuttlectl audit explain SEQ: decide a record's request again, against the\n"
               "policy that decided it and the one in force now (see its --help).\n");
}

static int parse_args(int argc, char **argv, AuditArgs *a) {
        enum {
                ARG_FILE = 0x100, ARG_STATE_DIR, ARG_ALL, ARG_FROM, ARG_TO, ARG_KIND, ARG_DECISION, ARG_SINCE,
                ARG_FOLLOW, ARG_JSON, ARG_VERIFY, ARG_SHADOW_DIFF,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "file", required_argument, NULL, ARG_FILE },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "all", no_argument, NULL, ARG_ALL },
                { "from", required_argument, NULL, ARG_FROM },
                { "to", required_argument, NULL, ARG_TO },
                { "kind", required_argument, NULL, ARG_KIND },
                { "decision", required_argument, NULL, ARG_DECISION },
                { "since", required_argument, NULL, ARG_SINCE },
                { "follow", no_argument, NULL, ARG_FOLLOW },
                { "json", no_argument, NULL, ARG_JSON },
                { "verify", no_argument, NULL, ARG_VERIFY },
                { "shadow-diff", no_argument, NULL, ARG_SHADOW_DIFF },
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
                case ARG_STATE_DIR:
                        if (verb_state_dir("audit", optarg, &a->state_dir) != 0)
                                return -EINVAL;
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
                        if (!streq(optarg, "allow") && !streq(optarg, "deny") && !streq(optarg, "learn")) {
                                log_error("audit: invalid --decision '%s' (expected allow, deny or learn)", optarg);
                                return -EINVAL;
                        }
                        a->filter.decision = optarg;
                        break;
                case ARG_SINCE:
                        if (audit_parse_since(optarg, clock_usec(CLOCK_REALTIME), &a->filter.since_usec) < 0) {
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
                case ARG_SHADOW_DIFF:
                        a->shadow_diff = true;
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
        if (a->file && a->state_dir) {
                log_error("audit: --file and --state-dir cannot be combined (--file names the log itself)");
                return -EINVAL;
        }
        if (a->shadow_diff && (a->follow || a->verify)) {
                log_error("audit: --shadow-diff cannot be combined with %s", a->follow ? "--follow" : "--verify");
                return -EINVAL;
        }
        if (a->verify && (a->follow || a->json)) {
                log_error("audit: --verify cannot be combined with %s", a->follow ? "--follow" : "--json");
                return -EINVAL;
        }
        return 1;
}

/* Terminal-safe, width-limited: controls, bidi and other format
 * characters and bytes that are not UTF-8 are escaped (\u202e, \xff: see
 * audit_text_unit()), values longer than width code points end in "…".
 * Returns the code points written. */
static size_t put_cell(const char *s, size_t width, bool pad) {
        size_t cps = 0, n = s ? strlen(s) : 0, i = 0;

        if (!s) {
                s = "-";
                n = 1;
        }
        while (i < n) {
                char unit[AUDIT_TEXT_UNIT_MAX];
                size_t in, len = audit_text_unit(s + i, n - i, unit, &in);
                /* An escape is as wide as its ASCII; a character, one. */
                size_t w = in == len ? 1 : len;
                if (cps + w > width || (cps + w == width && i + in < n)) {
                        fputs("…", stdout);
                        cps++;
                        break;
                }
                fwrite(unit, 1, len, stdout);
                cps += w;
                i += in;
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
        printf("%-20s %7s %-8s %-9s %-13s ", "TIME", "SEQ", "DECISION", "KIND", "OP");
        put_cell("FROM → TO", 29, true);
        printf(" %-28s %s\n", "OBJECT", "RULE");
}

/* 2024-05-01T12:34:56.123456Z → "2024-05-01 12:34:56Z", or "12:34:56Z"
 * when on the day of ref (the same form). */
static void short_ts(const char *ts, const char *ref, char out[static 21]) {
        snprintf(out, 21, "-");
        if (!ts || strlen(ts) < 19)
                return;
        memcpy(out, ts, 19);
        out[10] = ' ';
        out[19] = 'Z';
        out[20] = 0;
        if (ref && strneq(ref, out, 11))
                memmove(out, out + 11, 10);
}

/* What the RULE column says: the rule as recorded (its id; "default" when
 * the policy's default decided; "-" when the broker refused on its own;
 * null, shown as "-", on records that decide nothing), and for a summary
 * of counted denials how many and when (audit-agg.h), for a drop record
 * what went. */
static void print_rule(json_t *rec, const char *day) {
        json_t *sup = json_object_get(rec, "suppressed"), *drop = json_object_get(rec, "dropped");
        char first[21], last[21], buf[256];

        if (json_is_object(drop)) {
                json_t *a = json_object_get(drop, "first_seq"), *z = json_object_get(drop, "last_seq");
                if (json_is_integer(a) && json_is_integer(z))
                        snprintf(buf, sizeof(buf), "seq %" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT
                                 " deleted by rotation", json_integer_value(a), json_integer_value(z));
                else
                        snprintf(buf, sizeof(buf), "deleted by rotation");
                put_cell(buf, 64, false);
                return;
        }
        if (!json_is_integer(sup)) {
                /* The decision of a request that acts, without the record
                 * of its outcome (paired in show()): the broker stopped
                 * between the two. */
                if (json_object_get(rec, "phase")) {
                        snprintf(buf, sizeof(buf), "%.64s (decided; no outcome recorded)", field(rec, "rule") ?: "-");
                        put_cell(buf, 160, false);
                } else
                        put_cell(field(rec, "rule"), 64, false);
                return;
        }
        short_ts(field(rec, "first"), day, first);
        short_ts(field(rec, "last"), day, last);
        if (json_is_true(json_object_get(rec, "over_budget")))
                snprintf(buf, sizeof(buf), "(+%" JSON_INTEGER_FORMAT " more denied, over the budget, %s…%s)",
                         json_integer_value(sup), first, last);
        else
                snprintf(buf, sizeof(buf), "%.64s (+%" JSON_INTEGER_FORMAT " more like this, %s…%s)",
                         field(rec, "rule") ?: "-", json_integer_value(sup), first, last);
        put_cell(buf, 160, false);
}

static bool learn_color;

static void print_row(json_t *rec) {
        char tsbuf[21];
        char route[256];

        short_ts(field(rec, "ts"), NULL, tsbuf);
        put_cell(tsbuf, 20, true);
        printf(" %7" JSON_INTEGER_FORMAT " ", json_integer_value(json_object_get(rec, "seq")));
        /* Learn mode allowed what the policy would deny: red on a
         * terminal, so that it is not read as an allow. */
        if (learn_color && field(rec, "decision") && streq(field(rec, "decision"), "learn")) {
                fputs("\033[1;31m", stdout);
                put_cell(field(rec, "decision"), 8, true);
                fputs("\033[0m", stdout);
        } else
                put_cell(field(rec, "decision"), 8, true);
        putchar(' ');
        put_cell(field(rec, "kind"), 9, true);
        putchar(' ');
        put_cell(field(rec, "op"), 13, true);
        putchar(' ');
        snprintf(route, sizeof(route), "%.120s → %.120s", field(rec, "from") ?: "-", field(rec, "to") ?: "-");
        put_cell(route, 29, true);
        putchar(' ');
        put_cell(field(rec, "object"), 28, true);
        putchar(' ');
        print_rule(rec, tsbuf);
        putchar('\n');
}

/* The line as written, except that what an older writer left raw (C1
 * controls, bidi and other format characters) is \u-escaped: the
 * output is meant for terminals and pipes too. */
static void put_json_line(const char *line, size_t len) {
        size_t m = audit_json_escape(line, len, NULL);
        _cleanup_free_ char *buf = m == len ? NULL : malloc(m);

        if (buf) {
                audit_json_escape(line, len, buf);
                fwrite(buf, 1, m, stdout);
        } else if (m == len)
                fwrite(line, 1, len, stdout);
        else
                return; /* out of memory: never print it raw */
        putchar('\n');
}

/* --audit-sync sync writes two records for a request that acts: its
 * decision ("phase": "decided"), then its outcome ("decided": the
 * decision's seq).  A row is one request: a decision is held until its
 * outcome comes and then left out; one whose outcome never comes is shown
 * at the end (a crash came between).  At most HELD_MAX wait: beyond that
 * the oldest is shown as it is. */
#define HELD_MAX 1024

typedef struct Held {
        json_t *recs[HELD_MAX];
        size_t n;
} Held;

static void held_flush(Held *h, size_t n) {
        for (size_t i = 0; i < n && i < h->n; i++) {
                print_row(h->recs[i]);
                json_decref(h->recs[i]);
        }
        n = MIN(n, h->n);
        memmove(h->recs, h->recs + n, (h->n - n) * sizeof(json_t *));
        h->n -= n;
}

/* rec is an outcome: the decision it names, if held, is left out. */
static void held_pair(Held *h, json_t *rec) {
        json_t *link = json_object_get(rec, "decided");

        if (!json_is_integer(link))
                return;
        for (size_t i = 0; i < h->n; i++)
                if (json_integer_value(json_object_get(h->recs[i], "seq")) == json_integer_value(link)) {
                        json_decref(h->recs[i]);
                        memmove(h->recs + i, h->recs + i + 1, (h->n - i - 1) * sizeof(json_t *));
                        h->n--;
                        return;
                }
}

static int show(const AuditArgs *a) {
        _cleanup_(audit_reader_freep) AuditReader *r = NULL;
        _cleanup_free_ Held *held = NULL;
        int k;

        k = audit_reader_open(a->file, a->all, &r);
        if (k < 0)
                return log_error_errno(k, "Failed to open audit log '%s'%s: %m", a->file, a->origin);
        learn_color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
        if (!a->json) {
                held = calloc(1, sizeof(*held));
                if (!held)
                        return log_oom();
                print_header();
        }
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
                if (held)
                        held_pair(held, rec);
                if (audit_filter_match(&a->filter, rec)) {
                        if (a->json)
                                put_json_line(line, len);
                        else if (json_object_get(rec, "phase")) {
                                if (held->n == HELD_MAX)
                                        held_flush(held, 1);
                                held->recs[held->n++] = json_incref(rec);
                        } else
                                print_row(rec);
                }
                json_decref(rec);
        }
        if (held)
                held_flush(held, held->n);
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
                return log_error_errno(k, "Failed to verify audit log '%s'%s: %m", a->file, a->origin);
        if (!res.ok) {
                if (res.seq > 0)
                        printf("audit log BROKEN: %s:%" PRIu64 ": record seq %" PRIu64 ": %s\n", res.file, res.line,
                               res.seq, res.reason);
                else
                        printf("audit log BROKEN: %s:%" PRIu64 ": %s\n", res.file, res.line, res.reason);
                print_broken_line(&res);
                if (res.gap && strneq(res.reason, "gap:", 4)) {
                        /* Nothing else is wrong: what is kept is intact. */
                        if (res.n_records > 0)
                                printf("(the %" PRIu64 " record%s checked, seq %" PRIu64 "..%" PRIu64
                                       ", chain intact, last hash %s)\n",
                                       res.n_records, res.n_records == 1 ? "" : "s", res.first_seq, res.last_seq,
                                       res.last_hash);
                        return 1;
                }
                if (res.n_records > 0)
                        printf("(%" PRIu64 " record%s before it verified, seq %" PRIu64 "..%" PRIu64 ")\n",
                               res.n_records, res.n_records == 1 ? "" : "s", res.first_seq, res.last_seq);
                if (res.gap)
                        printf("(and records seq 1..%" PRIu64 " are not in the log)\n", res.gap_last_seq);
                return 1;
        }
        printf("audit log OK: %" PRIu64 " record%s, chain intact\n", res.n_records, res.n_records == 1 ? "" : "s");
        if (res.n_records > 0)
                printf("  seq %" PRIu64 "..%" PRIu64 " in %" PRIu64 " file%s, last hash %s\n", res.first_seq,
                       res.last_seq, res.n_files, res.n_files == 1 ? "" : "s", res.last_hash);
        if (res.n_records > 0 && !res.starts_at_genesis)
                printf("  the chain continues %s.1: its first record, seq %" PRIu64
                       ", was not checked against it (--all checks the rotated files too)\n",
                       a->file, res.first_seq);
        if (res.n_torn_recovered > 0)
                printf("  %" PRIu64 " torn line%s left by a crash, recovered by the writer\n", res.n_torn_recovered,
                       res.n_torn_recovered == 1 ? "" : "s");
        return 0;
}

/* Without --file: the log the broker on the state directory says it
 * writes (it may have been started with --audit-log); when none answers
 * (or we may not ask: only root may), the one shuttlectl starts a broker
 * on that directory with.  *ret_path is malloc'ed. */
int audit_resolve_log(const char *state_dir, char **ret_path, char *origin, size_t size) {
        const char *why;
        char *path = NULL;
        int r;

        r = broker_audit_log_path(state_dir, &path);
        if (r >= 0) {
                snprintf(origin, size, " (the broker on %s writes it)", state_dir);
                *ret_path = path;
                return 0;
        }
        path = broker_default_audit_log(state_dir);
        if (!path)
                return log_oom();
        if (r == -ENOENT || r == -ECONNREFUSED)
                why = "no broker answers on";
        else if (r == -EACCES || r == -EPERM)
                why = "only root may ask the broker on";
        else {
                if (r != -EOPNOTSUPP)
                        log_warning_errno(r, "audit: the broker on %s did not say where its audit log is (%m); "
                                          "reading %s", state_dir, path);
                why = "no answer from the broker on";
        }
        snprintf(origin, size, " (%s %s; a broker shuttlectl starts there writes this file)", why, state_dir);
        *ret_path = path;
        return 0;
}

int verb_audit(int argc, char **argv) {
        _cleanup_free_ char *resolved = NULL;
        AuditArgs a = {};
        int r;

        if (argc > 1 && streq(argv[1], "graph"))
                return verb_audit_graph(argc - 1, argv + 1);
        if (argc > 1 && streq(argv[1], "explain"))
                return audit_explain_main(argc - 1, argv + 1);
        r = parse_args(argc, argv, &a);
        if (r < 0)
                return EXIT_USAGE;
        if (r == 0)
                return 0;
        if (!a.file) {
                if (audit_resolve_log(a.state_dir ?: STATE_DIR_DEFAULT, &resolved, a.origin, sizeof(a.origin)) < 0)
                        return 1;
                a.file = resolved;
        }
        if (a.verify)
                return verify(&a);
        if (a.shadow_diff)
                return audit_shadow_diff(a.file, a.all, &a.filter, a.json) < 0 ? 1 : 0;
        return show(&a) < 0 ? 1 : 0;
}
