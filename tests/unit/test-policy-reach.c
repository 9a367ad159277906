/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reachability on small policies whose graphs are worked out by hand in
 * each test: which hops each kind gives and in which direction, deny rules
 * that cut them, globs over the known containers, the default, expiry,
 * paths shortest first and their bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/policy.h"
#include "policy-fixture.h"

#define NOW ((time_t) 1800000000) /* 2027-01-15 */

static PolicyReach *graph(const char *text, const char *const *names, size_t n, unsigned hops) {
        Policy *p = load_ok(text);
        PolicyReach *g = NULL;

        assert_int_equal(policy_reach_new(p, names, n, NOW, hops, &g), 0);
        policy_unref(p);
        return g;
}

/* A path as "a > b > c", and a step's hops as "ipc:r1 invoke:r2". */
static char *path_str(const PolicyReachPath *p) {
        static char buf[4][1024];
        static int k;
        char *b = buf[k++ % 4];

        b[0] = 0;
        if (p->n_steps)
                strcat(b, p->steps[0].from);
        for (size_t i = 0; i < p->n_steps; i++) {
                strcat(b, " > ");
                strcat(b, p->steps[i].to);
        }
        return b;
}

static char *via_str(const PolicyReachStep *s) {
        static char buf[4][1024];
        static int k;
        char *b = buf[k++ % 4];

        b[0] = 0;
        for (size_t i = 0; i < s->n_via; i++) {
                if (i)
                        strcat(b, " ");
                strcat(b, policy_hop_to_string(s->via[i].hop));
                strcat(b, ":");
                strcat(b, s->via[i].rule_id);
        }
        return b;
}

/* Everything `from` reaches, as "to1 (path); to2 (path)" with the path's
 * containers, in the order the library gives (hops, then name). */
static char *reach_str(PolicyReach *g, const char *from, unsigned max_hops) {
        static char buf[4096];
        PolicyReachResult res = {};

        assert_int_equal(policy_reach_from(g, from, max_hops, &res), 0);
        buf[0] = 0;
        for (size_t i = 0; i < res.n_paths; i++) {
                if (i)
                        strcat(buf, "; ");
                strcat(buf, path_str(&res.paths[i]));
        }
        policy_reach_result_clear(&res);
        return buf;
}

static const char *mail_policy =
        "version: 1\n"
        "rules:\n"
        "  - { id: web-kv, from: web, to: db, allow: ipc, endpoint: kv }\n"
        "  - { id: mail-pdf, from: mail, to: viewer, allow: invoke, app: /usr/bin/pdfview }\n"
        "  - { id: viewer-kv, from: viewer, to: db, allow: ipc, endpoint: kv }\n"
        "  - { id: dump, from: db, to: backup, allow: transfer, path: /var/dump/** }\n"
        "  - { id: logs, from: '*', to: logger, allow: ipc, endpoint: logs, type: fifo, mode: wo }\n"
        "  - { id: no-logs-from-mail, from: mail, to: logger, deny: ipc }\n";

/* By hand: mail invokes in viewer (1); viewer's requests reach db and the
 * logger's FIFO (2); db transfers to backup, and db's answers reach web
 * (3).  The logger's FIFO is write-only: nothing comes back from it, and
 * mail itself may not write it. */
static void test_from(void **state) {
        PolicyReach *g = graph(mail_policy, NULL, 0, 0);

        assert_string_equal(reach_str(g, "mail", 0), "mail > viewer; "
                                                     "mail > viewer > db; "
                                                     "mail > viewer > logger; "
                                                     "mail > viewer > db > backup; "
                                                     "mail > viewer > db > web");
        /* Bounded: two hops. */
        assert_string_equal(reach_str(g, "mail", 2), "mail > viewer; mail > viewer > db; mail > viewer > logger");
        /* The logger affects nobody; backup gets a file and gives nothing
         * back, but like everyone it may write the logger's FIFO. */
        assert_string_equal(reach_str(g, "logger", 0), "");
        assert_string_equal(reach_str(g, "backup", 0), "backup > logger");
        /* web: its requests to db, the FIFO, and through db's answers to
         * viewer (viewer asks db too), then viewer's output reaches mail. */
        assert_string_equal(reach_str(g, "web", 0), "web > db; web > logger; web > db > backup; web > db > viewer; "
                                                    "web > db > viewer > mail");
        policy_reach_free(g);
}

static void test_steps(void **state) {
        PolicyReach *g = graph(mail_policy, NULL, 0, 0);
        PolicyReachResult res = {};

        assert_int_equal(policy_reach_paths(g, "mail", "backup", 4, 10, &res), 0);
        assert_int_equal(res.n_paths, 1);
        assert_false(res.truncated);
        assert_string_equal(res.paths[0].to, "backup");
        assert_int_equal(res.paths[0].n_steps, 3);
        assert_string_equal(via_str(&res.paths[0].steps[0]), "invoke:mail-pdf");
        assert_string_equal(via_str(&res.paths[0].steps[1]), "ipc:viewer-kv");
        assert_string_equal(via_str(&res.paths[0].steps[2]), "transfer:dump");
        assert_string_equal(res.paths[0].steps[2].via[0].rule_file, "p.yaml");
        assert_int_equal(res.paths[0].steps[2].via[0].rule_line, 6);
        policy_reach_result_clear(&res);

        /* The way back: backup affects nothing, so nothing reaches mail from it. */
        assert_int_equal(policy_reach_paths(g, "backup", "mail", 4, 10, &res), 0);
        assert_int_equal(res.n_paths, 0);
        policy_reach_result_clear(&res);
        /* db -> mail: db's answers to viewer, the app's output to mail. */
        assert_int_equal(policy_reach_paths(g, "db", "mail", 4, 10, &res), 0);
        assert_int_equal(res.n_paths, 1);
        assert_string_equal(via_str(&res.paths[0].steps[0]), "ipc-reply:viewer-kv");
        assert_string_equal(via_str(&res.paths[0].steps[1]), "invoke-reply:mail-pdf");
        policy_reach_result_clear(&res);
        /* Too few hops allowed. */
        assert_int_equal(policy_reach_paths(g, "mail", "backup", 2, 10, &res), 0);
        assert_int_equal(res.n_paths, 0);
        policy_reach_result_clear(&res);
        policy_reach_free(g);
}

/* A diamond with a shortcut: a -> d directly, through b, through c, and
 * through b then c.  Every path, shortest first, then by name. */
static void test_paths(void **state) {
        PolicyReach *g = graph("version: 1\nrules:\n"
                               "  - { id: ab, from: a, to: b, allow: signal }\n"
                               "  - { id: ac, from: a, to: c, allow: signal }\n"
                               "  - { id: bd, from: b, to: d, allow: signal }\n"
                               "  - { id: cd, from: c, to: d, allow: signal }\n"
                               "  - { id: bc, from: b, to: c, allow: signal }\n"
                               "  - { id: ad, from: a, to: d, allow: signal }\n"
                               "  - { id: ad2, from: a, to: d, allow: transfer, path: /x }\n",
                               NULL, 0, 0);
        PolicyReachResult res = {};

        assert_int_equal(policy_reach_paths(g, "a", "d", 4, 10, &res), 0);
        assert_int_equal(res.n_paths, 4);
        assert_false(res.truncated);
        assert_string_equal(path_str(&res.paths[0]), "a > d");
        assert_string_equal(via_str(&res.paths[0].steps[0]), "transfer:ad2 signal:ad");
        assert_string_equal(path_str(&res.paths[1]), "a > b > d");
        assert_string_equal(path_str(&res.paths[2]), "a > c > d");
        assert_string_equal(path_str(&res.paths[3]), "a > b > c > d");
        policy_reach_result_clear(&res);

        /* At most two: the rest is said to be cut off. */
        assert_int_equal(policy_reach_paths(g, "a", "d", 4, 2, &res), 0);
        assert_int_equal(res.n_paths, 2);
        assert_true(res.truncated);
        policy_reach_result_clear(&res);
        /* At most two hops. */
        assert_int_equal(policy_reach_paths(g, "a", "d", 2, 10, &res), 0);
        assert_int_equal(res.n_paths, 3);
        assert_false(res.truncated);
        policy_reach_result_clear(&res);

        assert_int_equal(policy_reach_paths(g, "a", "nosuch", 2, 10, &res), -ENOENT);
        assert_int_equal(policy_reach_from(g, "nosuch", 0, &res), -ENOENT);
        policy_reach_free(g);
}

/* The direction of each kind's hops. */
static void test_directions(void **state) {
        static const struct {
                const char *rule;
                const char *from_f, *from_t; /* what f and t reach */
        } cases[] = {
                { "{ from: f, to: t, allow: ipc, endpoint: e }", "f > t", "t > f" },
                { "{ from: f, to: t, allow: ipc, endpoint: e, type: fifo, mode: wo }", "f > t", "" },
                { "{ from: f, to: t, allow: ipc, endpoint: e, type: fifo, mode: ro }", "", "t > f" },
                { "{ from: f, to: t, allow: ipc, endpoint: e, type: fifo }", "f > t", "t > f" },
                { "{ from: f, to: t, allow: invoke, app: /bin/x }", "f > t", "t > f" },
                { "{ from: f, to: t, allow: transfer, path: /x }", "f > t", "" },
                { "{ from: f, to: t, allow: transfer, path: /x, mode: rw }", "f > t", "t > f" },
                { "{ from: f, to: t, allow: transfer }", "f > t", "" },
                { "{ from: f, to: t, allow: transfer, pid: /bin/x }", "", "" },
                { "{ from: f, to: t, allow: transfer, service: kv }", "", "" },
                { "{ from: f, to: t, allow: transfer, host: true }", "", "" },
                { "{ from: f, to: t, allow: depend, path: /opt }", "", "t > f" },
                { "{ from: f, to: t, allow: depend, path: /opt, mode: rw }", "f > t", "t > f" },
                { "{ from: f, to: t, allow: depend, service: ready }", "", "" },
                { "{ from: f, to: t, allow: signal }", "f > t", "" },
                /* Expired. */
                { "{ from: f, to: t, allow: signal, until: 2020-01-01T00:00:00Z }", "", "" },
                /* To itself: no hop. */
                { "{ from: f, to: f, allow: signal }", "", "" },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char text[512];
                const char *names[] = { "f", "t" };
                PolicyReach *g;

                snprintf(text, sizeof(text), "version: 1\nrules:\n  - %s\n", cases[i].rule);
                g = graph(text, names, 2, 0);
                print_message("%s\n", cases[i].rule);
                assert_string_equal(reach_str(g, "f", 0), cases[i].from_f);
                assert_string_equal(reach_str(g, "t", 0), cases[i].from_t);
                policy_reach_free(g);
        }
}

/* A deny rule takes a hop away only if it refuses everything the allow
 * rule grants between the two. */
static void test_denies(void **state) {
        static const struct {
                const char *deny;
                bool cut;
        } cases[] = {
                { "{ from: a, to: b, deny: ipc }", true },
                { "{ from: '*', to: b, deny: ipc, endpoint: kv }", true },
                { "{ from: a, to: b, deny: ipc, endpoint: 'k*' }", true },
                { "{ from: a, to: b, deny: ipc, endpoint: other }", false },
                { "{ from: a, to: b, deny: ipc, type: unix }", false },
                { "{ from: c, to: b, deny: ipc }", false },
                { "{ from: a, to: b, deny: signal }", false },
                { "{ from: a, to: b, deny: ipc, until: 2020-01-01T00:00:00Z }", false },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char text[512];
                PolicyReach *g;

                snprintf(text, sizeof(text),
                         "version: 1\nrules:\n  - { id: ab, from: a, to: b, allow: ipc, endpoint: kv }\n"
                         "  - { from: c, to: a, allow: signal }\n  - %s\n",
                         cases[i].deny);
                g = graph(text, NULL, 0, 0);
                print_message("%s\n", cases[i].deny);
                assert_string_equal(reach_str(g, "a", 0), cases[i].cut ? "" : "a > b");
                /* The answers go the other way: cut with the requests. */
                assert_string_equal(reach_str(g, "b", 0), cases[i].cut ? "" : "b > a");
                policy_reach_free(g);
        }

        /* A glob allow against a deny of one of its objects stays. */
        PolicyReach *g = graph("version: 1\nrules:\n"
                               "  - { from: a, to: b, allow: invoke, app: '/usr/bin/*' }\n"
                               "  - { from: a, to: b, deny: invoke, app: /usr/bin/sh }\n"
                               "  - { from: a, to: c, allow: invoke, app: /usr/bin/sh }\n"
                               "  - { from: a, to: c, deny: invoke, app: '/usr/bin/*' }\n"
                               "  - { from: a, to: d, allow: invoke, app: /bin/x, args: ['-v'] }\n"
                               "  - { from: a, to: d, deny: invoke, args: ['-v'] }\n"
                               "  - { from: a, to: e, allow: invoke, app: /bin/x }\n"
                               "  - { from: a, to: e, deny: invoke, args: ['-v'] }\n",
                               NULL, 0, 1u << POLICY_HOP_INVOKE);
        assert_string_equal(reach_str(g, "a", 0), "a > b; a > e");
        policy_reach_free(g);

        /* A glob under a broader deny glob: taken; a broader one under a
         * narrower: kept.  By hand: '/usr/bin/*' takes '/usr/bin/s*' (a
         * star that stops at '/' after a longer prefix); '/usr/**' takes
         * '/usr/bin/*'; '/usr/*' does not take '/usr/**' (which reaches
         * /usr/a/b); 'k*' takes the endpoints 'kv*'; '/opt/*' does not
         * take '/opt/a/*'. */
        g = graph("version: 1\nrules:\n"
                  "  - { from: a, to: b, allow: invoke, app: '/usr/bin/s*' }\n"
                  "  - { from: a, to: b, deny: invoke, app: '/usr/bin/*' }\n"
                  "  - { from: a, to: c, allow: invoke, app: '/usr/bin/*' }\n"
                  "  - { from: a, to: c, deny: invoke, app: '/usr/**' }\n"
                  "  - { from: a, to: d, allow: invoke, app: '/usr/**' }\n"
                  "  - { from: a, to: d, deny: invoke, app: '/usr/*' }\n"
                  "  - { from: a, to: e, allow: ipc, endpoint: 'kv*' }\n"
                  "  - { from: a, to: e, deny: ipc, endpoint: 'k*' }\n"
                  "  - { from: a, to: f, allow: transfer, path: '/opt/a/*' }\n"
                  "  - { from: a, to: f, deny: transfer, path: '/opt/*' }\n",
                  NULL, 0, 1u << POLICY_HOP_INVOKE | 1u << POLICY_HOP_IPC | 1u << POLICY_HOP_TRANSFER);
        assert_string_equal(reach_str(g, "a", 0), "a > d; a > f");
        policy_reach_free(g);

        /* Trees and services are apart: a deny of a service takes no
         * tree (b's hop stays); one of every tree takes the trees of a
         * rule naming none (c's hop goes: its services give no hop).  An
         * allow naming no endpoint also allows requests naming none (or
         * one a '*' does not match): a deny of '*' leaves it (d). */
        g = graph("version: 1\nrules:\n"
                  "  - { from: a, to: b, allow: depend, path: /srv }\n"
                  "  - { from: a, to: b, deny: depend, service: db }\n"
                  "  - { from: a, to: c, allow: depend }\n"
                  "  - { from: a, to: c, deny: depend, path: '/**' }\n"
                  "  - { from: a, to: d, allow: ipc }\n"
                  "  - { from: a, to: d, deny: ipc, endpoint: '*' }\n",
                  NULL, 0, 1u << POLICY_HOP_DEPEND | 1u << POLICY_HOP_IPC);
        assert_string_equal(reach_str(g, "a", 0), "a > d");
        assert_string_equal(reach_str(g, "b", 0), "b > a; b > a > d");
        assert_string_equal(reach_str(g, "c", 0), "");
        policy_reach_free(g);
}

/* Globs are expanded against the literal names of the rules and the names
 * given (an app group's containers); a pattern without a group matches
 * grouped containers too. */
static void test_globs(void **state) {
        static const char *const names[] = { "shop/web", "shop/db", "blog/web" };
        PolicyReach *g = graph("version: 1\nrules:\n"
                               "  - { id: in-shop, from: 'shop/*', to: shop/db, allow: ipc, endpoint: kv }\n"
                               "  - { id: webs, from: web, to: audit, allow: signal }\n",
                               names, 3, 0);

        assert_string_equal(reach_str(g, "shop/web", 0), "shop/web > audit; shop/web > shop/db");
        assert_string_equal(reach_str(g, "blog/web", 0), "blog/web > audit");
        /* db's answers reach shop/web, which signals audit. */
        assert_string_equal(reach_str(g, "shop/db", 0), "shop/db > shop/web; shop/db > shop/web > audit");
        policy_reach_free(g);

        /* Not a container name. */
        Policy *p = load_ok("version: 1\n");
        const char *bad[] = { "a*" };
        PolicyReach *h = NULL;
        assert_int_equal(policy_reach_new(p, bad, 1, NOW, 0, &h), -EINVAL);
        assert_null(h);
        policy_unref(p);
        assert_true(policy_container_name_is_valid("shop/web"));
        assert_false(policy_container_name_is_valid("shop/"));
        assert_false(policy_container_name_is_valid("-x"));
        assert_false(policy_container_name_is_valid("a/b/c"));
}

/* default: allow gives every pair every hop a deny does not take away. */
static void test_default_allow(void **state) {
        static const char *const names[] = { "a", "b", "c" };
        PolicyReach *g = graph("version: 1\ndefault: allow\nrules:\n"
                               "  - { from: '*', to: c, deny: [ipc, invoke, transfer, depend, signal] }\n"
                               "  - { from: c, to: '*', deny: [ipc, invoke, transfer, depend, signal] }\n",
                               names, 3, 0);
        PolicyReachResult res = {};

        assert_string_equal(reach_str(g, "a", 0), "a > b");
        assert_string_equal(reach_str(g, "c", 0), "");
        assert_int_equal(policy_reach_paths(g, "a", "b", 1, 10, &res), 0);
        assert_int_equal(res.n_paths, 1);
        assert_null(res.paths[0].steps[0].via[0].rule_file);
        assert_string_equal(via_str(&res.paths[0].steps[0]),
                            "ipc:default ipc-reply:default invoke:default invoke-reply:default transfer:default "
                            "transfer-rw:default depend:default depend-rw:default signal:default");
        policy_reach_result_clear(&res);
        policy_reach_free(g);
}

/* Only the hops asked for. */
static void test_hop_mask(void **state) {
        PolicyReach *g = graph(mail_policy, NULL, 0, 1u << POLICY_HOP_IPC | 1u << POLICY_HOP_TRANSFER);

        assert_string_equal(reach_str(g, "mail", 0), "");
        assert_string_equal(reach_str(g, "viewer", 0), "viewer > db; viewer > logger; viewer > db > backup");
        policy_reach_free(g);
        assert_int_equal(policy_hop_from_string("depend-rw"), POLICY_HOP_DEPEND_RW);
        assert_int_equal(policy_hop_from_string("nope"), _POLICY_HOP_INVALID);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_from),     cmocka_unit_test(test_steps),
                cmocka_unit_test(test_paths),    cmocka_unit_test(test_directions),
                cmocka_unit_test(test_denies),   cmocka_unit_test(test_globs),
                cmocka_unit_test(test_default_allow), cmocka_unit_test(test_hop_mask),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
