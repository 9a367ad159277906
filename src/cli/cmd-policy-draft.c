/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl policy draft: the smallest policy allowing what the audit log
 * shows was asked (learned, denied by default, allowed); the records → rules
 * part is policy-draft.c. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/policy-draft.h"
#include "cli/verb-options.h"
#include "cli/verbs.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/time-util.h"
#include "policy/policy.h"
#include "shuttle/audit/audit.h"

#define EXIT_CANNOT 1

static void help_draft(void) {
        printf("Usage: shuttlectl policy draft --audit LOG [OPTIONS]\n\n"
               "Write the smallest policy that allows the requests the audit log shows:\n"
               "those learn mode allowed (decision learn), those denied because no rule\n"
               "matched, and those allowed by a rule; one allow rule per caller, target,\n"
               "kind and object, each with a comment saying how often and when it was\n"
               "seen.  Never drafted: denials by a deny rule, refusals that are not the\n"
               "policy's (malformed, over a limit, refused by the broker itself) and depend\n"
               "trees.  The draft is checked with the policy library before it is written.\n"
               "Exit status: 0 written, 1 nothing to draft or the log cannot be read,\n"
               "2 usage error.\n\n"
               "  --audit LOG         the audit log (and its rotated files LOG.N ... LOG.1)\n"
               "  --since TIME        only records at or after TIME: RFC 3339 or an age\n"
               "                      (30s, 10m, 168h)\n"
               "  --group G           only requests from containers of app group G\n"
               "  --generalize        globs where requests differ: paths transferred from\n"
               "                      one directory become DIR/*, an app's invocations with\n"
               "                      as many arguments get '*' where they differ (any\n"
               "                      arguments if their number differs)\n"
               "  -o, --output FILE   write the draft to FILE (replaced whole) instead of\n"
               "                      standard output\n"
               "  -h, --help          show this help\n");
}

static int read_log(PolicyDraft *d, const char *path, uint64_t since_usec, const char *group, size_t *ret_n) {
        _cleanup_(audit_reader_freep) AuditReader *reader = NULL;
        AuditFilter filter = { .since_usec = since_usec };
        size_t n = 0;
        int r;

        r = audit_reader_open(path, true, &reader);
        if (r < 0)
                return log_error_errno(r, "policy draft: cannot read the audit log '%s': %m", path);
        for (;;) {
                json_t *rec = NULL;
                const char *g;

                r = audit_reader_next(reader, &rec, NULL, NULL);
                if (r == 0)
                        break;
                if (r == -EBADMSG) {
                        /* One damaged line (audit --verify says more)
                         * does not hide the others. */
                        log_warning("policy draft: %s:%" PRIu64 ": not a JSON object, skipped",
                                    audit_reader_get_file(reader), audit_reader_get_line_number(reader));
                        continue;
                }
                if (r < 0)
                        return log_error_errno(r, "policy draft: cannot read '%s': %m", audit_reader_get_file(reader));
                g = json_string_value(json_object_get(rec, "group"));
                if (audit_filter_match(&filter, rec) && (!group || (g && streq(g, group))))
                        r = policy_draft_add(d, rec);
                else
                        r = 0;
                json_decref(rec);
                if (r < 0)
                        return log_oom();
                n++;
        }
        *ret_n = n;
        return 0;
}

static int write_out(const char *output, const char *text, size_t len) {
        _cleanup_free_ char *tmp = NULL;
        FILE *f;

        if (!output)
                return fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : -EIO;
        if (asprintf(&tmp, "%s.tmp", output) < 0)
                return -ENOMEM;
        f = fopen(tmp, "we");
        if (!f)
                return -errno;
        if (fwrite(text, 1, len, f) != len || fclose(f) != 0) {
                (void) unlink(tmp);
                return -EIO;
        }
        if (rename(tmp, output) < 0) {
                int r = -errno;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

int policy_verb_draft(int argc, char **argv) {
        enum { ARG_AUDIT = 0x100, ARG_SINCE, ARG_GROUP, ARG_GENERALIZE };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "audit", required_argument, NULL, ARG_AUDIT },
                { "since", required_argument, NULL, ARG_SINCE },
                { "group", required_argument, NULL, ARG_GROUP },
                { "generalize", no_argument, NULL, ARG_GENERALIZE },
                { "output", required_argument, NULL, 'o' },
                {},
        };
        _cleanup_(policy_draft_freep) PolicyDraft *d = NULL;
        _cleanup_(policy_unrefp) Policy *p = NULL;
        _cleanup_free_ char *text = NULL, *header = NULL;
        const char *audit = NULL, *since = NULL, *group = NULL, *output = NULL;
        PolicyDiagnostics diags = {};
        uint64_t since_usec = 0;
        bool generalize = false;
        size_t len = 0, n_records = 0;
        FILE *f;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, ":ho:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help_draft();
                        return 0;
                case ARG_AUDIT:
                        audit = optarg;
                        break;
                case ARG_SINCE:
                        since = optarg;
                        if (audit_parse_since(optarg, clock_usec(CLOCK_REALTIME), &since_usec) < 0) {
                                log_error("policy draft: invalid --since '%s' (expected an RFC 3339 time such as "
                                          "2026-05-01T12:00:00Z, or an age such as 10m, 1h, 168h)", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_GROUP:
                        group = optarg;
                        break;
                case ARG_GENERALIZE:
                        generalize = true;
                        break;
                case 'o':
                        output = optarg;
                        break;
                default:
                        return verb_option_error("policy draft", c, argv);
                }
        if (optind < argc) {
                log_error("policy draft: unexpected argument '%s' (see 'shuttlectl policy draft --help')", argv[optind]);
                return EXIT_USAGE;
        }
        if (!audit) {
                log_error("policy draft: --audit LOG is required (see 'shuttlectl policy draft --help')");
                return EXIT_USAGE;
        }

        d = policy_draft_new(generalize);
        if (!d)
                return log_oom(), EXIT_CANNOT;
        if (read_log(d, audit, since_usec, group, &n_records) < 0)
                return EXIT_CANNOT;
        if (policy_draft_n_requests(d) == 0) {
                log_error("policy draft: nothing to draft: no request in '%s'%s%s%s%s (%zu record%s read)", audit,
                          since ? " since " : "", since ?: "", group ? " from group " : "", group ?: "", n_records,
                          n_records == 1 ? "" : "s");
                return EXIT_CANNOT;
        }
        if (asprintf(&header,
                     "Drafted by 'shuttlectl policy draft' from %s%s%s%s%s%s: %zu request%s in %zu rule%s.\n"
                     "Review every rule: each allows what was asked (learned, denied because no\n"
                     "rule matched, or allowed); then try it in shadow before you enforce it:\n"
                     "shuttlectl policy shadow %s%s%sFILE%s.",
                     audit, since ? " since " : "", since ?: "", group ? ", group " : "", group ?: "",
                     generalize ? ", generalized" : "", policy_draft_n_requests(d),
                     policy_draft_n_requests(d) == 1 ? "" : "s", policy_draft_n_rules(d),
                     policy_draft_n_rules(d) == 1 ? "" : "s", group ? "--group " : "", group ?: "",
                     group ? " " : "", group ? " (beside the group's own policy)" : "") < 0)
                return log_oom(), EXIT_CANNOT;

        f = open_memstream(&text, &len);
        if (!f)
                return log_oom(), EXIT_CANNOT;
        r = policy_draft_write(d, header, f);
        if (fclose(f) != 0 || r < 0)
                return log_oom(), EXIT_CANNOT;

        /* The draft must load as it is written: a draft that does not is
         * our bug, and is not written. */
        r = policy_load_buffer(output ?: "<draft>", text, len, POLICY_LOAD_NO_TESTS, &p, &diags);
        if (r < 0) {
                policy_diagnostics_print(&diags, stderr);
                policy_diagnostics_clear(&diags);
                log_error("policy draft: the draft does not load (a bug: please report it with the records)");
                return EXIT_CANNOT;
        }
        policy_diagnostics_clear(&diags);

        r = write_out(output, text, len);
        if (r < 0)
                return log_error_errno(r, "policy draft: cannot write '%s': %m", output ?: "standard output"),
                       EXIT_CANNOT;
        if (output)
                fprintf(stderr, "wrote %s: %zu rule%s for %zu request%s\n", output, policy_draft_n_rules(d),
                        policy_draft_n_rules(d) == 1 ? "" : "s", policy_draft_n_requests(d),
                        policy_draft_n_requests(d) == 1 ? "" : "s");
        return 0;
}
