/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy draft (src/cli/policy-draft.c): the draft loads, allows every
 * request the records it counts ask (each decided again against it with
 * the policy library), and denies requests never observed, requests the
 * operator's deny rules refused, and refusals that are not the policy's;
 * --generalize makes exactly the globs it documents. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/audit-request.h"
#include "cli/policy-draft.h"
#include "common/macro.h"

#define TS "\"ts\":\"2026-12-06T06:00:0%d.000000Z\","

/* Records a learning webapp and its neighbours left: each line, and
 * whether the draft must allow its request. */
static const struct {
        const char *json;
        int counts;
} records[] = {
        /* Learned: ipc both ways in (proxy and fast path), same rule. */
        { "{" TS "\"group\":\"webapp\",\"from\":\"web\",\"to\":\"db\",\"to_group\":\"webapp\",\"kind\":\"ipc\","
          "\"op\":\"proxy-connect\",\"object\":\"db.kv\",\"type\":\"unix\",\"decision\":\"learn\",\"rule\":\"default\"}",
          1 },
        { "{" TS "\"group\":\"webapp\",\"from\":\"web\",\"to\":\"db\",\"to_group\":\"webapp\",\"kind\":\"ipc\","
          "\"op\":\"connect\",\"object\":\"db.kv\",\"type\":\"unix\",\"decision\":\"learn\",\"rule\":\"default\"}",
          1 },
        /* Denied by default (not in learn mode), counted 3 more times. */
        { "{" TS "\"from\":\"cron\",\"to\":\"db\",\"kind\":\"ipc\",\"op\":\"connect\",\"object\":\"db.kv\","
          "\"decision\":\"deny\",\"rule\":\"default\",\"suppressed\":3,\"first\":\"2026-12-06T05:00:00.000000Z\","
          "\"last\":\"2026-12-06T07:00:00.000000Z\"}",
          1 },
        /* Allowed by a rule. */
        { "{" TS "\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"exec\","
          "\"object\":\"/usr/bin/pdfview -v /tmp/a b.pdf\",\"args\":[\"-v\",\"/tmp/a b.pdf\"],\"decision\":\"allow\","
          "\"rule\":\"mail-views\"}",
          1 },
        /* Arguments that look like glob syntax are literal. */
        { "{" TS "\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"exec\","
          "\"object\":\"/usr/bin/pdfview * ...\",\"args\":[\"*\",\"...\"],\"decision\":\"learn\",\"rule\":\"default\"}",
          1 },
        { "{" TS "\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"exec\","
          "\"object\":\"/usr/bin/pdfview\",\"args\":[],\"decision\":\"learn\",\"rule\":\"default\"}",
          1 },
        { "{" TS "\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"open\",\"object\":\"/srv/we*rd [1]\","
          "\"mode\":\"rw\",\"decision\":\"learn\",\"rule\":\"default\"}",
          1 },
        { "{" TS "\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"open\",\"object\":\"/srv/x\","
          "\"mode\":\"ro\",\"decision\":\"learn\",\"rule\":\"default\"}",
          1 },
        { "{" TS "\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"resolve\",\"object\":\"pid:/usr/bin/mpv\","
          "\"decision\":\"learn\",\"rule\":\"default\"}",
          1 },
        { "{" TS "\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"resolve\",\"object\":\"service:kv\","
          "\"decision\":\"learn\",\"rule\":\"default\"}",
          1 },
        { "{" TS "\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"resolve\",\"object\":\"host\","
          "\"decision\":\"learn\",\"rule\":\"default\"}",
          1 },
        { "{" TS "\"from\":\"ui\",\"to\":\"media\",\"kind\":\"signal\",\"op\":\"kill\",\"object\":\"/usr/bin/mpv:SIGTERM\","
          "\"decision\":\"learn\",\"rule\":\"default\"}",
          1 },
        { "{" TS "\"from\":\"p\",\"to\":\"c\",\"kind\":\"ipc\",\"op\":\"open-fifo\",\"object\":\"c.logs\","
          "\"type\":\"fifo\",\"mode\":\"wo\",\"decision\":\"learn\",\"rule\":\"default\"}",
          1 },
        /* Never drafted: a deny rule's denial, the broker's own refusals,
         * a denial over a limit, what is no request, a depend grant. */
        { "{" TS "\"from\":\"web\",\"to\":\"db\",\"kind\":\"signal\",\"op\":\"kill\",\"object\":\"/kvd:SIGKILL\","
          "\"decision\":\"deny\",\"rule\":\"nobody-signals-db\"}",
          0 },
        { "{" TS "\"from\":\"web\",\"to\":\"db\",\"kind\":\"ipc\",\"op\":\"connect\",\"object\":\"db.admin\","
          "\"decision\":\"deny\",\"rule\":\"-\",\"reason\":\"no such service\"}",
          0 },
        { "{" TS "\"from\":\"web\",\"to\":\"db\",\"kind\":\"ipc\",\"op\":\"connect\",\"object\":\"db.stats\","
          "\"decision\":\"deny\",\"rule\":\"web-stats\",\"reason\":\"over the rule's rate\"}",
          0 },
        { "{" TS "\"from\":\"web\",\"to\":\"web\",\"kind\":\"container\",\"op\":\"start\",\"object\":\"web\","
          "\"decision\":\"allow\",\"rule\":\"-\"}",
          0 },
        { "{" TS "\"from\":\"b\",\"to\":\"tools\",\"kind\":\"depend\",\"op\":\"mount\",\"object\":\"/opt/t\","
          "\"path\":\"/opt/t\",\"decision\":\"allow\",\"rule\":\"b-tools\"}",
          0 },
        { "{" TS "\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"open\",\"object\":\"/srv/../etc\","
          "\"mode\":\"ro\",\"decision\":\"learn\",\"rule\":\"default\"}",
          0 },
        { "{" TS "\"from\":\"a\",\"to\":\"b\",\"kind\":\"invoke\",\"op\":\"exec\",\"object\":\"pdfview\","
          "\"args\":[],\"decision\":\"learn\",\"rule\":\"default\"}",
          0 },
        { "{" TS "\"from\":\"web\",\"to\":\"db\",\"kind\":\"protocol\",\"op\":\"malformed\",\"object\":null,"
          "\"decision\":\"deny\",\"rule\":\"-\"}",
          0 },
        /* The decision of a request that acts (--audit-sync sync): the
         * record of its outcome, which names it ("decided"), counts the
         * request (here there is none: the broker stopped between). */
        { "{" TS "\"from\":\"mail\",\"to\":\"printer\",\"kind\":\"invoke\",\"op\":\"exec\","
          "\"object\":\"/usr/bin/lpr\",\"args\":[],\"decision\":\"learn\",\"rule\":\"default\","
          "\"phase\":\"decided\"}",
          0 },
};

static json_t *rec_of(const char *fmt, int i) {
        char text[2048];
        json_error_t e;
        json_t *j;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(text, sizeof(text), fmt, i % 10);
#pragma GCC diagnostic pop
        j = json_loads(text, 0, &e);
        if (!j)
                fail_msg("bad JSON in the test: %s: %s", e.text, text);
        return j;
}

static Policy *draft_of(bool generalize, const char *const *extra, size_t n_extra, char **ret_text) {
        PolicyDraft *d = policy_draft_new(generalize);
        PolicyDiagnostics diags = {};
        Policy *p = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        assert_non_null(d);
        for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
                json_t *rec = rec_of(records[i].json, (int) i);
                assert_int_equal(policy_draft_add(d, rec), records[i].counts);
                json_decref(rec);
        }
        for (size_t i = 0; i < n_extra; i++) {
                json_t *rec = rec_of(extra[i], (int) i);
                assert_int_equal(policy_draft_add(d, rec), 1);
                json_decref(rec);
        }
        f = open_memstream(ret_text, &len);
        assert_non_null(f);
        assert_int_equal(policy_draft_write(d, "a test\ntwo lines", f), 0);
        assert_int_equal(fclose(f), 0);
        policy_draft_free(d);
        r = policy_load_buffer("draft.yaml", *ret_text, len, POLICY_LOAD_NO_TESTS, &p, &diags);
        if (r < 0) {
                policy_diagnostics_print(&diags, stderr);
                fail_msg("the draft does not load:\n%s", *ret_text);
        }
        policy_diagnostics_clear(&diags);
        return p;
}

/* How the draft decides the request rec_json asks. */
static PolicyVerdict decide(const Policy *p, const char *rec_json) {
        json_t *rec = rec_of(rec_json, 0);
        const char *why = NULL;
        PolicyDecision d = {};
        AuditRequest a = {};

        assert_int_equal(audit_record_request(rec, &a, &why), 0);
        a.req.now = 1800000000;
        assert_int_equal(policy_decide(p, &a.req, &d), 0);
        json_decref(rec);
        return d.verdict;
}

static void test_allows_exactly_what_was_observed(void **state) {
        _cleanup_free_ char *text = NULL;
        Policy *p = draft_of(false, NULL, 0, &text);

        (void) state;
        /* Every counted request is allowed; the others are denied. */
        for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
                json_t *rec = rec_of(records[i].json, 0);
                const char *why;
                AuditRequest a = {};
                bool asks = audit_record_request(rec, &a, &why) == 0;
                json_decref(rec);
                if (!asks) {
                        assert_false(records[i].counts);
                        continue;
                }
                if (decide(p, records[i].json) != (records[i].counts ? POLICY_ALLOW : POLICY_DENY))
                        fail_msg("record %zu decided wrongly by the draft:\n%s", i, text);
        }
        /* Requests never observed. */
        static const char *const unobserved[] = {
                "{\"group\":\"webapp\",\"from\":\"tools\",\"to\":\"db\",\"to_group\":\"webapp\",\"kind\":\"ipc\","
                "\"op\":\"connect\",\"object\":\"db.kv\"}",
                "{\"group\":\"webapp\",\"from\":\"web\",\"to\":\"db\",\"to_group\":\"webapp\",\"kind\":\"ipc\","
                "\"op\":\"connect\",\"object\":\"db.admin\"}",
                /* Another type of the same service. */
                "{\"group\":\"webapp\",\"from\":\"web\",\"to\":\"db\",\"to_group\":\"webapp\",\"kind\":\"ipc\","
                "\"op\":\"connect\",\"object\":\"db.kv\",\"type\":\"shm\"}",
                /* Other arguments, one more argument, none at all for an app seen with some. */
                "{\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"exec\","
                "\"object\":\"/usr/bin/pdfview -v /etc/shadow\",\"args\":[\"-v\",\"/etc/shadow\"]}",
                "{\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"exec\","
                "\"object\":\"/usr/bin/pdfview x ... y\",\"args\":[\"x\",\"...\",\"y\"]}",
                "{\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"exec\","
                "\"object\":\"/usr/bin/pdfview * ... more\",\"args\":[\"*\",\"...\",\"more\"]}",
                /* The glob characters of a path are literal; rw not granted for ro. */
                "{\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"open\",\"object\":\"/srv/weXrd 1\","
                "\"mode\":\"ro\"}",
                "{\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"open\",\"object\":\"/srv/x\",\"mode\":\"rw\"}",
                "{\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"open\",\"object\":\"/srv/y\",\"mode\":\"ro\"}",
                "{\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"resolve\",\"object\":\"pid:/usr/bin/vlc\"}",
                "{\"from\":\"ui\",\"to\":\"media\",\"kind\":\"signal\",\"op\":\"kill\",\"object\":\"/usr/bin/mpv:SIGKILL\"}",
                "{\"from\":\"p\",\"to\":\"c\",\"kind\":\"ipc\",\"op\":\"open-fifo\",\"object\":\"c.logs\","
                "\"type\":\"fifo\",\"mode\":\"ro\"}",
                "{\"from\":\"web\",\"to\":\"db\",\"kind\":\"signal\",\"op\":\"kill\",\"object\":\"/kvd:SIGKILL\"}",
        };
        for (size_t i = 0; i < sizeof(unobserved) / sizeof(unobserved[0]); i++)
                if (decide(p, unobserved[i]) != POLICY_DENY)
                        fail_msg("unobserved request %zu allowed by the draft:\n%s", i, text);
        policy_unref(p);

        /* One rule per (from, to, kind, object), commented. */
        assert_non_null(strstr(text, "# a test\n# two lines\nversion: 1\ndefault: deny\naudit: all\nrules:\n"));
        assert_non_null(strstr(text, "  # seen 2 times (2 learned), first 2026-12-06T06:00:00.000000Z, "
                                     "last 2026-12-06T06:00:01.000000Z\n"
                                     "  - id: web-ipc-db\n    from: \"webapp/web\"\n    to: \"webapp/db\"\n"
                                     "    allow: ipc\n    endpoint: \"kv\"\n    type: unix\n"));
        assert_non_null(strstr(text, "  # seen 4 times (4 denied), first 2026-12-06T05:00:00.000000Z, "
                                     "last 2026-12-06T07:00:00.000000Z\n  - id: cron-ipc-db\n"));
        assert_non_null(strstr(text, "  - id: mail-invoke-viewer-2\n"));
        assert_non_null(strstr(text, "    args: [\"\\\\*\", \"\\\\...\"]\n"));
        assert_null(strstr(text, "nobody-signals"));
        assert_null(strstr(text, "admin"));
        assert_null(strstr(text, "depend"));
}

static void test_generalize(void **state) {
        static const char *const extra[] = {
                "{" TS "\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"open\",\"object\":\"/srv/z\","
                "\"mode\":\"ro\",\"decision\":\"learn\",\"rule\":\"default\"}",
                "{" TS "\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"exec\","
                "\"object\":\"/usr/bin/pdfview -v /tmp/c.pdf\",\"args\":[\"-v\",\"/tmp/c.pdf\"],"
                "\"decision\":\"learn\",\"rule\":\"default\"}",
                "{" TS "\"from\":\"cc\",\"to\":\"tools\",\"kind\":\"invoke\",\"op\":\"exec\","
                "\"object\":\"/usr/bin/gcc -c a.c\",\"args\":[\"-c\",\"a.c\"],\"decision\":\"learn\",\"rule\":\"default\"}",
                "{" TS "\"from\":\"cc\",\"to\":\"tools\",\"kind\":\"invoke\",\"op\":\"exec\","
                "\"object\":\"/usr/bin/gcc -c b.c\",\"args\":[\"-c\",\"b.c\"],\"decision\":\"learn\",\"rule\":\"default\"}",
        };
        _cleanup_free_ char *text = NULL;
        Policy *p = draft_of(true, extra, sizeof(extra) / sizeof(extra[0]), &text);

        (void) state;
        /* /srv/x and /srv/z (ro) became /srv/ *; the rw one stays its own. */
        assert_non_null(strstr(text, "    path: \"/srv/*\"\n    mode: ro\n"));
        assert_int_equal(decide(p, "{\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"open\","
                                   "\"object\":\"/srv/new\",\"mode\":\"ro\"}"),
                         POLICY_ALLOW);
        assert_int_equal(decide(p, "{\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"open\","
                                   "\"object\":\"/srv/sub/new\",\"mode\":\"ro\"}"),
                         POLICY_DENY);
        assert_int_equal(decide(p, "{\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"open\","
                                   "\"object\":\"/srv/new\",\"mode\":\"rw\"}"),
                         POLICY_DENY);
        /* gcc -c a.c / -c b.c: the second position became '*'. */
        assert_non_null(strstr(text, "    app: \"/usr/bin/gcc\"\n    args: [\"-c\", \"*\"]\n"));
        assert_int_equal(decide(p, "{\"from\":\"cc\",\"to\":\"tools\",\"kind\":\"invoke\",\"op\":\"exec\","
                                   "\"object\":\"/usr/bin/gcc -c z.c\",\"args\":[\"-c\",\"z.c\"]}"),
                         POLICY_ALLOW);
        assert_int_equal(decide(p, "{\"from\":\"cc\",\"to\":\"tools\",\"kind\":\"invoke\",\"op\":\"exec\","
                                   "\"object\":\"/usr/bin/gcc -S z.c\",\"args\":[\"-S\",\"z.c\"]}"),
                         POLICY_DENY);
        /* pdfview was asked with 2, 2 and 0 arguments: any arguments. */
        assert_int_equal(decide(p, "{\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"exec\","
                                   "\"object\":\"/usr/bin/pdfview x\",\"args\":[\"x\"]}"),
                         POLICY_ALLOW);
        /* Nothing else is generalized. */
        assert_int_equal(decide(p, "{\"group\":\"webapp\",\"from\":\"tools\",\"to\":\"db\",\"to_group\":\"webapp\","
                                   "\"kind\":\"ipc\",\"op\":\"connect\",\"object\":\"db.kv\"}"),
                         POLICY_DENY);
        policy_unref(p);
}

static void test_empty(void **state) {
        PolicyDraft *d = policy_draft_new(false);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        (void) state;
        assert_int_equal(policy_draft_n_requests(d), 0);
        assert_int_equal(policy_draft_write(d, NULL, f), 0);
        fclose(f);
        assert_string_equal(text, "version: 1\ndefault: deny\naudit: all\nrules: []\n");
        policy_draft_free(d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_allows_exactly_what_was_observed),
                cmocka_unit_test(test_generalize),
                cmocka_unit_test(test_empty),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
