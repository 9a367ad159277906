/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl audit explain SEQ: one record's request decided again against
 * the policy that decided it (kept by the broker under
 * <state>/policies/<digest>.yaml, the digest being the record's "policy")
 * and against the policy in force now (the running broker's), and why the
 * two differ. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/audit-request.h"
#include "cli/verb-options.h"
#include "cli/verbs.h"
#include "common/log.h"
#include "common/parse.h"
#include "policy/policy.h"
#include "runtime/state-info.h"
#include "shuttle/audit/audit.h"
#include "shuttle/host/broker-client.h"
#include "shuttle/host/policy-store.h"

static void help_explain(void) {
        printf("Usage: shuttlectl audit explain SEQ [OPTIONS...]\n\n"
               "Decide the request of audit record SEQ again: against the policy that\n"
               "decided it (the broker keeps each policy it served by the digest records\n"
               "carry) and against the policy the running broker has now, explain both\n"
               "decisions and say whether and why they differ.\n\n"
               "  --state-dir DIR        the broker's state directory (default /run/shuttle):\n"
               "                         its policies, and its log unless --file\n"
               "  --file PATH            the log to read the record from\n"
               "  --all                  also look in the rotated files PATH.N ... PATH.1\n"
               "  --json                 print JSON\n"
               "  -h, --help             show this help\n\n"
               "Exit status: 0 explained (whether the decisions differ or not), 1 no such\n"
               "record, a record without a request to decide, a policy not found or no\n"
               "broker, 2 usage error.\n");
}

static bool streq_ptr(const char *a, const char *b) {
        return a && b ? streq(a, b) : a == b;
}

static const char *str(json_t *rec, const char *key) {
        return json_string_value(json_object_get(rec, key));
}

/* The request as `policy explain` options, to replay by hand. */
static void print_request(const AuditRequest *a) {
        const PolicyRequest *q = &a->req;

        printf("request: --from %s --to %s --kind %s", q->from, q->to, policy_kind_to_string(q->kind));
        switch (q->kind) {
        case POLICY_KIND_IPC:
                printf(" --endpoint %s", q->object);
                if (q->ipc_type != POLICY_IPC_ANY)
                        printf(" --type %s", policy_ipc_type_to_string(q->ipc_type));
                break;
        case POLICY_KIND_INVOKE:
                printf(" --app %s", q->object);
                for (size_t i = 0; i < q->n_args; i++)
                        printf(" --arg '%s'", q->args[i]);
                break;
        case POLICY_KIND_TRANSFER:
                if (q->name_kind == POLICY_NAME_HOST)
                        printf(" --host");
                else
                        printf(" --%s %s", q->name_kind == POLICY_NAME_PID ? "pid" :
                                           q->name_kind == POLICY_NAME_SERVICE ? "service" : "path", q->object);
                break;
        case POLICY_KIND_DEPEND:
                printf(" --path %s", q->object);
                break;
        case POLICY_KIND_SIGNAL:
                printf(" --app %s --signal %d", q->object, q->signal);
                break;
        default:
                break;
        }
        if (q->mode != POLICY_MODE_NONE)
                printf(" --mode %s", policy_mode_to_string(q->mode));
        putchar('\n');
}

typedef struct Side {
        const char *label;      /* "then", "now" */
        char digest[POLICY_DIGEST_LEN + 1];
        char *file;
        Policy *policy;
        PolicyExplanation e;
} Side;

static void side_done(Side *s) {
        free(s->file);
        policy_unref(s->policy);
        policy_explanation_clear(&s->e);
}

static int side_load(Side *s, const char *state_dir, const AuditRequest *a, time_t now) {
        PolicyDiagnostics d = {};
        const char *paths[1];
        PolicyRequest req = a->req;
        int r;

        s->file = policy_store_path(state_dir, s->digest);
        if (!s->file)
                return log_error_errno(-EINVAL, "audit explain: '%s' is not a policy digest", s->digest);
        paths[0] = s->file;
        r = policy_load(paths, 1, &s->policy, &d);
        if (r < 0) {
                if (r == -ENOENT || r == -EINVAL)
                        policy_diagnostics_print(&d, stderr);
                policy_diagnostics_clear(&d);
                return log_error_errno(r, "audit explain: the policy %s (%s) cannot be loaded: %m%s", s->label,
                                       s->file,
                                       r == -ENOENT ? " (the broker keeps the policies it served in its state "
                                                      "directory: a broker restarted on a fresh one does not have "
                                                      "it)" : "");
        }
        policy_diagnostics_clear(&d);
        req.now = now;
        r = policy_explain(s->policy, &req, &s->e);
        if (r < 0)
                return log_error_errno(r, "audit explain: cannot decide against the policy %s: %m", s->label);
        return 0;
}

static bool has_rule(const Policy *p, const char *id) {
        for (size_t i = 0; i < policy_get_n_rules(p); i++)
                if (streq(policy_rule_get_id(policy_get_rule(p, i)), id))
                        return true;
        return false;
}

static const PolicyExplainEntry *entry_for(const PolicyExplanation *e, const char *id) {
        for (size_t i = 0; i < e->n_entries; i++)
                if (streq(policy_rule_get_id(e->entries[i].rule), id))
                        return &e->entries[i];
        return NULL;
}

/* What decided: a default deny that names an expired rule (reason
 * expired) was decided by the default; the why says the rule expired. */
static const char *winner(const PolicyDecision *d) {
        return d->reason && streq(d->reason, POLICY_REASON_EXPIRED) ? "default" : d->rule_id;
}

/* Why the winner of one side is not the winner of the other: a line
 * about rule id as the other side (o, in policy op) sees it. */
static char *rule_fate(const char *id, const Policy *op, const PolicyExplanation *o, bool now) {
        const PolicyExplainEntry *x = entry_for(o, id);
        char *s = NULL;
        int r;

        if (!has_rule(op, id))
                r = asprintf(&s, "rule %s %s", id, now ? "is no longer in the policy" : "was not in the policy then");
        else if (!x)
                r = asprintf(&s, "rule %s %s", id, now ? "no longer matches (more than one field differs)"
                                                        : "did not match then (more than one field differed)");
        else if (x->status == POLICY_EXPIRED)
                r = asprintf(&s, "rule %s %s", id, now ? "has expired" : "had expired then");
        else if (x->status == POLICY_NEAR_MISS)
                r = asprintf(&s, "rule %s %s: %s", id, now ? "no longer matches" : "did not match then",
                             x->detail ?: x->field);
        else
                r = asprintf(&s, "rule %s %s, but %s wins", id, now ? "still matches" : "matched then too",
                             winner(&o->decision));
        return r < 0 ? NULL : s;
}

/* Whether the two decisions differ, with the reasons in *why (a
 * NULL-terminated list). */
static bool compare(const Side *then, const Side *now, char **why, size_t max) {
        const PolicyDecision *a = &then->e.decision, *b = &now->e.decision;
        const char *wa = winner(a), *wb = winner(b);
        size_t n = 0;

        if (streq(then->digest, now->digest)) {
                why[n++] = strdup("the policy is the same as then");
                if (a->verdict == b->verdict && streq(wa, wb)) {
                        why[n] = NULL;
                        return false;
                }
                /* The same rules, at another time: an 'until' has passed. */
                if (!streq(wa, "default"))
                        why[n++] = rule_fate(wa, now->policy, &now->e, true);
                why[n] = NULL;
                return true;
        }
        if (a->verdict == b->verdict && streq(wa, wb)) {
                why[n++] = strdup("the policy changed, but not for this request");
                why[n] = NULL;
                return false;
        }
        if (!streq(wa, "default") && n < max)
                why[n++] = rule_fate(wa, now->policy, &now->e, true);
        if (!streq(wb, "default") && !streq(wa, wb) && n < max)
                why[n++] = rule_fate(wb, then->policy, &then->e, false);
        if (streq(wb, "default") && n < max)
                why[n++] = strdup(b->verdict == POLICY_ALLOW ? "now no rule matches: default allow decides"
                                                              : "now no rule matches: default deny decides");
        why[n] = NULL;
        return true;
}

static json_t *explanation_json(const PolicyExplanation *e, const PolicyRequest *req) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        json_t *j = NULL;

        if (!f)
                return NULL;
        if (policy_explanation_print_json(e, req, f) >= 0 && fclose(f) == 0)
                j = json_loadb(buf, size, 0, NULL);
        else
                fclose(f);
        free(buf);
        return j;
}

/* The record whose seq is seq, or NULL (*ret_error: why). */
static json_t *find_record(const char *file, bool all, uint64_t seq) {
        _cleanup_(audit_reader_freep) AuditReader *r = NULL;
        int k;

        k = audit_reader_open(file, all, &r);
        if (k < 0) {
                log_error_errno(k, "audit explain: cannot open the audit log '%s': %m", file);
                return NULL;
        }
        for (;;) {
                json_t *rec = NULL;
                json_t *s;

                k = audit_reader_next(r, &rec, NULL, NULL);
                if (k == -EBADMSG)
                        continue;
                if (k < 0) {
                        log_error_errno(k, "audit explain: cannot read '%s': %m", audit_reader_get_file(r));
                        return NULL;
                }
                if (k == 0)
                        break;
                s = json_object_get(rec, "seq");
                if (json_is_integer(s) && (uint64_t) json_integer_value(s) == seq)
                        return rec;
                json_decref(rec);
        }
        log_error("audit explain: no record with seq %" PRIu64 " in %s%s", seq, file,
                  all ? " or its rotated files" : " (--all looks in the rotated files too)");
        return NULL;
}

/* The digest of the policy in force now for the record's container. */
static int current_digest(const char *state_dir, const char *group, char ret[static POLICY_DIGEST_LEN + 1]) {
        json_t *reply = NULL, *g;
        const char *d;
        size_t i;
        int r;

        r = broker_policies(state_dir, &reply);
        if (r == -ENOENT || r == -ECONNREFUSED)
                return log_error_errno(r, "audit explain: no broker answers on %s: the policy in force now is not "
                                          "known", state_dir);
        if (r == -EOPNOTSUPP)
                return log_error_errno(r, "audit explain: the broker on %s does not say which policy it has (an "
                                          "older version)", state_dir);
        if (r < 0)
                return log_error_errno(r, "audit explain: cannot ask the broker on %s: %m", state_dir);
        d = json_string_value(json_object_get(reply, "digest"));
        json_array_foreach(json_object_get(reply, "groups"), i, g)
                if (group && streq_ptr(json_string_value(json_object_get(g, "group")), group))
                        d = json_string_value(json_object_get(g, "digest"));
        if (!d || strlen(d) != POLICY_DIGEST_LEN) {
                json_decref(reply);
                return log_error_errno(-ENODATA, "audit explain: the broker on %s does not know the digest of its "
                                                 "policy", state_dir);
        }
        memcpy(ret, d, POLICY_DIGEST_LEN + 1);
        json_decref(reply);
        return 0;
}

static void print_side(const Side *s) {
        printf("\n%s: policy %.12s… (%s)\n", s->label, s->digest, s->file);
        policy_explanation_print(&s->e, stdout);
}

int audit_explain_main(int argc, char **argv) {
        enum { ARG_STATE_DIR = 0x100, ARG_FILE, ARG_ALL, ARG_JSON };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "file", required_argument, NULL, ARG_FILE },
                { "all", no_argument, NULL, ARG_ALL },
                { "json", no_argument, NULL, ARG_JSON },
                {},
        };
        const char *state_dir = STATE_DIR_DEFAULT, *file = NULL, *why_not = NULL, *digest, *ts;
        _cleanup_free_ char *log_path = NULL;
        Side then = { .label = "then" }, now = { .label = "now" };
        char *why[8] = {};
        bool json = false, all = false, differs;
        AuditRequest asked = {};
        json_t *rec = NULL;
        time_t then_time;
        uint64_t seq;
        int c, r, ret = 1;
        char *end;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help_explain();
                        return 0;
                case ARG_STATE_DIR:
                        if (verb_state_dir("audit explain", optarg, &state_dir) != 0)
                                return EXIT_USAGE;
                        break;
                case ARG_FILE:
                        file = optarg;
                        break;
                case ARG_ALL:
                        all = true;
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                default:
                        return verb_option_error("audit explain", c, argv);
                }
        if (optind + 1 != argc) {
                log_error("audit explain: %s (see 'shuttlectl audit explain --help')",
                          optind >= argc ? "no SEQ given" : "one SEQ only");
                return EXIT_USAGE;
        }
        errno = 0;
        seq = strtoull(argv[optind], &end, 10);
        if (errno || end == argv[optind] || *end || argv[optind][0] == '-' || seq == 0) {
                log_error("audit explain: SEQ must be a record's sequence number (1, 2, ...), not '%s'",
                          argv[optind]);
                return EXIT_USAGE;
        }

        if (!file) {
                r = broker_audit_log_path(state_dir, &log_path);
                if (r < 0 && !(log_path = broker_default_audit_log(state_dir)))
                        return log_oom(), 1;
                file = log_path;
        }
        rec = find_record(file, all, seq);
        if (!rec)
                return 1;
        digest = str(rec, "policy");
        ts = str(rec, "ts");
        if (audit_record_request(rec, &asked, &why_not) < 0) {
                log_error("audit explain: record %" PRIu64 " (%s %s) cannot be decided again: %s", seq,
                          str(rec, "kind") ?: "?", str(rec, "op") ?: "?", why_not);
                goto out;
        }
        if (!digest || strlen(digest) != POLICY_DIGEST_LEN) {
                log_error("audit explain: record %" PRIu64 " does not name the policy that decided it (written by a "
                          "broker that kept no digests)", seq);
                goto out;
        }
        memcpy(then.digest, digest, sizeof(then.digest));
        if (!ts || policy_parse_timestamp(ts, &then_time) < 0) {
                log_error("audit explain: record %" PRIu64 " has no valid time stamp", seq);
                goto out;
        }
        if (current_digest(state_dir, str(rec, "group"), now.digest) < 0)
                goto out;
        if (side_load(&then, state_dir, &asked, then_time) < 0 || side_load(&now, state_dir, &asked, time(NULL)) < 0)
                goto out;
        differs = compare(&then, &now, why, ELEMENTSOF(why) - 1);

        if (json) {
                json_t *reasons = json_array(), *o;

                for (size_t i = 0; why[i]; i++)
                        json_array_append_new(reasons, json_string(why[i]));
                o = json_pack("{s:I, s:s?, s:{s:s?, s:s?, s:s?}, s:s*, s:{s:s, s:s, s:o*}, s:{s:s, s:s, s:o*}, "
                              "s:b, s:b, s:o*}",
                              "seq", (json_int_t) seq, "ts", ts, "record", "decision", str(rec, "decision"), "rule",
                              str(rec, "rule"), "reason", str(rec, "reason"), "note", asked.note, "then", "policy",
                              then.digest, "file", then.file, "explanation", explanation_json(&then.e, &asked.req),
                              "now", "policy", now.digest, "file", now.file, "explanation",
                              explanation_json(&now.e, &asked.req), "same_policy",
                              streq(then.digest, now.digest), "differs", differs, "why", reasons);
                if (!o) {
                        log_oom();
                        goto out;
                }
                json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
                json_decref(o);
        } else {
                printf("record %" PRIu64 " (%s): %s %s %s %s -> %s %s, rule %s\n", seq, ts,
                       str(rec, "decision") ?: "?", str(rec, "kind"), str(rec, "op"), str(rec, "from"),
                       str(rec, "to"), str(rec, "object"), str(rec, "rule") ?: "-");
                print_request(&asked);
                if (asked.note)
                        printf("note: %s\n", asked.note);
                if (!streq_ptr(str(rec, "decision"), policy_verdict_to_string(then.e.decision.verdict)) ||
                    !streq_ptr(str(rec, "rule"), then.e.decision.rule_id))
                        printf("note: the record says %s by %s (%s); the policy alone decides %s by %s: the "
                               "broker decided the rest on its own\n",
                               str(rec, "decision") ?: "?", str(rec, "rule") ?: "-", str(rec, "reason") ?: "",
                               policy_verdict_to_string(then.e.decision.verdict), then.e.decision.rule_id);
                print_side(&then);
                print_side(&now);
                printf("\n%s: %s by %s then, %s by %s now\n", differs ? "differs" : "same",
                       policy_verdict_to_string(then.e.decision.verdict), winner(&then.e.decision),
                       policy_verdict_to_string(now.e.decision.verdict), winner(&now.e.decision));
                for (size_t i = 0; why[i]; i++)
                        printf("  %s\n", why[i]);
        }
        ret = fflush(stdout) == 0 ? 0 : 1;
out:
        for (size_t i = 0; why[i]; i++)
                free(why[i]);
        side_done(&then);
        side_done(&now);
        json_decref(rec);
        return ret;
}
