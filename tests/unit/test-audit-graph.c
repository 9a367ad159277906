/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The interaction graph of `shuttlectl audit graph` (src/cli/audit-graph.c):
 * a small hand-made log and policy, and the nodes, edges, counts, rules
 * and styles worked out by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit-graph.h"
#include "common/macro.h"
#include "policy/declared.h"
#include "shuttle/audit/audit.h"

#define TS(s) "\"ts\":\"2024-05-01T12:" s ".000000Z\""

/* Which records count, and how (see the comments on each). */
static const char *const records[] = {
        /* Starts: nodes, with their groups; loner never talks. */
        "{" TS("00:00") ",\"group\":\"shop\",\"from\":\"web\",\"to\":\"web\",\"kind\":\"container\",\"op\":\"start\","
        "\"decision\":\"allow\",\"rule\":\"-\"}",
        "{" TS("00:00") ",\"group\":\"shop\",\"from\":\"db\",\"to\":\"db\",\"kind\":\"container\",\"op\":\"start\","
        "\"decision\":\"allow\",\"rule\":\"-\"}",
        "{" TS("00:00") ",\"group\":null,\"from\":\"loner\",\"to\":\"loner\",\"kind\":\"container\",\"op\":\"start\","
        "\"decision\":\"allow\",\"rule\":\"-\"}",
        /* web → db ipc: 3 allowed by web-db now, 1 refused by the broker
         * (a limit, rule "-"), 1 allowed at 12:10 (outside --until 12:05). */
        "{" TS("00:01") ",\"group\":\"shop\",\"from\":\"web\",\"to\":\"db\",\"kind\":\"ipc\",\"op\":\"connect\","
        "\"object\":\"db.kv\",\"decision\":\"allow\",\"rule\":\"web-db\"}",
        "{" TS("00:01") ",\"group\":\"shop\",\"from\":\"web\",\"to\":\"db\",\"kind\":\"ipc\",\"op\":\"connect\","
        "\"object\":\"db.kv\",\"decision\":\"allow\",\"rule\":\"web-db\"}",
        "{" TS("00:01") ",\"group\":\"shop\",\"from\":\"web\",\"to\":\"db\",\"kind\":\"ipc\",\"op\":\"connect\","
        "\"object\":\"db.kv\",\"decision\":\"allow\",\"rule\":\"web-db\"}",
        "{" TS("00:02") ",\"group\":\"shop\",\"from\":\"web\",\"to\":\"db\",\"kind\":\"ipc\",\"op\":\"connect\","
        "\"object\":\"db.kv\",\"decision\":\"deny\",\"rule\":\"-\",\"reason\":\"too many open\"}",
        "{" TS("10:00") ",\"group\":\"shop\",\"from\":\"web\",\"to\":\"db\",\"kind\":\"ipc\",\"op\":\"connect\","
        "\"object\":\"db.kv\",\"decision\":\"allow\",\"rule\":\"web-db\"}",
        /* web → cache ipc: 1 denied in full, 10 more in a summary. */
        "{" TS("00:03") ",\"group\":\"shop\",\"from\":\"web\",\"to\":\"cache\",\"kind\":\"ipc\",\"op\":\"connect\","
        "\"object\":\"cache.x\",\"decision\":\"deny\",\"rule\":\"default\"}",
        "{" TS("00:03") ",\"group\":\"shop\",\"from\":\"web\",\"to\":\"cache\",\"kind\":\"ipc\",\"op\":\"connect\","
        "\"object\":\"cache.x\",\"decision\":\"deny\",\"rule\":\"default\",\"suppressed\":10,"
        "\"first\":\"2024-05-01T12:00:03Z\",\"last\":\"2024-05-01T12:00:04Z\"}",
        /* Over the budget: 5 denials with no target, kept on web. */
        "{" TS("00:03") ",\"group\":\"shop\",\"from\":\"web\",\"to\":null,\"kind\":\"ipc\",\"op\":null,"
        "\"object\":null,\"decision\":\"deny\",\"rule\":null,\"suppressed\":5,\"over_budget\":true}",
        /* mail → viewer invoke, and its end (not a second request). */
        "{" TS("00:04") ",\"group\":\"office\",\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"exec\","
        "\"object\":\"/usr/bin/pdfview\",\"decision\":\"allow\",\"rule\":\"mail-opens-pdf\"}",
        "{" TS("00:05") ",\"group\":\"office\",\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"end\","
        "\"object\":\"/usr/bin/pdfview\",\"decision\":\"allow\",\"rule\":\"mail-opens-pdf\"}",
        /* Not requests: a revocation, a reload, a rotation's drop. */
        "{" TS("00:06") ",\"group\":\"shop\",\"from\":\"web\",\"to\":\"db\",\"kind\":\"transfer\",\"op\":\"revoke\","
        "\"object\":\"/x\",\"decision\":\"allow\",\"rule\":\"-\"}",
        "{" TS("00:06") ",\"group\":null,\"from\":null,\"to\":null,\"kind\":\"policy\",\"op\":\"reload\","
        "\"object\":\"/p.yaml\",\"decision\":\"allow\",\"rule\":\"-\"}",
        "{" TS("00:06") ",\"group\":null,\"from\":null,\"to\":null,\"kind\":\"audit\",\"op\":\"drop\","
        "\"object\":\"a.8\",\"decision\":\"dropped\",\"rule\":null}",
};

static void add_all(AuditGraph *g) {
        for (size_t i = 0; i < ELEMENTSOF(records); i++) {
                json_error_t err;
                json_t *rec = json_loads(records[i], 0, &err);
                if (!rec)
                        fail_msg("record %zu: %s", i, err.text);
                assert_true(audit_graph_add_record(g, rec) >= 0);
                json_decref(rec);
        }
        audit_graph_sort(g);
}

static void assert_node(const AuditGraph *g, size_t i, const char *name, const char *group) {
        assert_true(i < g->n_nodes);
        assert_string_equal(g->nodes[i].name, name);
        if (group)
                assert_string_equal(g->nodes[i].group, group);
        else
                assert_null(g->nodes[i].group);
}

static const GraphEdge *assert_edge(const AuditGraph *g, size_t i, const char *from, const char *to, PolicyKind k,
                                    uint64_t allow, uint64_t deny, GraphStyle style) {
        const GraphEdge *e;

        assert_true(i < g->n_edges);
        e = &g->edges[i];
        assert_string_equal(g->nodes[e->from].name, from);
        assert_string_equal(g->nodes[e->to].name, to);
        assert_int_equal(e->kind, k);
        assert_int_equal(e->allow, allow);
        assert_int_equal(e->deny, deny);
        assert_int_equal(audit_graph_edge_style(e), style);
        return e;
}

static void assert_rule(const GraphEdge *e, size_t i, const char *id, uint64_t allow, uint64_t deny, bool declared) {
        assert_true(i < e->n_rules);
        assert_string_equal(e->rules[i].id, id);
        assert_int_equal(e->rules[i].allow, allow);
        assert_int_equal(e->rules[i].deny, deny);
        assert_int_equal(e->rules[i].declared, declared);
}

static void test_records(void **state) {
        AuditGraph g;
        const GraphEdge *e;

        audit_graph_init(&g);
        add_all(&g);
        /* Group order (office, shop), then the ungrouped, by name. */
        assert_int_equal(g.n_nodes, 6);
        assert_node(&g, 0, "mail", "office");
        assert_node(&g, 1, "db", "shop");
        assert_node(&g, 2, "web", "shop");
        assert_node(&g, 3, "cache", NULL);
        assert_node(&g, 4, "loner", NULL);
        assert_node(&g, 5, "viewer", NULL);
        assert_int_equal(g.nodes[2].deny_unattributed, 5);

        assert_int_equal(g.n_edges, 3);
        e = assert_edge(&g, 0, "mail", "viewer", POLICY_KIND_INVOKE, 1, 0, GRAPH_USED);
        assert_int_equal(e->n_rules, 1);
        assert_rule(e, 0, "mail-opens-pdf", 1, 0, false);
        e = assert_edge(&g, 1, "web", "db", POLICY_KIND_IPC, 4, 1, GRAPH_MIXED);
        assert_int_equal(e->n_rules, 2);
        assert_rule(e, 0, "web-db", 4, 0, false);
        assert_rule(e, 1, "-", 0, 1, false);
        e = assert_edge(&g, 2, "web", "cache", POLICY_KIND_IPC, 0, 11, GRAPH_REFUSED);
        assert_rule(e, 0, "default", 0, 11, false);
        /* 1 + 5 + 11 on edges, 5 over the budget. */
        assert_int_equal(g.n_records, 22);
        audit_graph_done(&g);
}

static void test_window_and_filters(void **state) {
        AuditGraph g;

        /* --until 12:05: the 12:10 allow drops out. */
        audit_graph_init(&g);
        assert_int_equal(audit_parse_timestamp("2024-05-01T12:05:00Z", &g.until_usec), 0);
        add_all(&g);
        assert_edge(&g, 1, "web", "db", POLICY_KIND_IPC, 3, 1, GRAPH_MIXED);
        assert_int_equal(g.n_records, 21);
        audit_graph_done(&g);

        /* --since 12:00:02: the starts drop out, and loner with them; the
         * groups still come from them (db is only a target in the window). */
        audit_graph_init(&g);
        assert_int_equal(audit_parse_timestamp("2024-05-01T12:00:02Z", &g.since_usec), 0);
        add_all(&g);
        assert_int_equal(g.n_nodes, 5);
        assert_node(&g, 1, "db", "shop");
        assert_node(&g, 2, "web", "shop");
        assert_node(&g, 4, "viewer", NULL);
        assert_edge(&g, 1, "web", "db", POLICY_KIND_IPC, 1, 1, GRAPH_MIXED);
        audit_graph_done(&g);

        /* --to 'c*' --kind ipc: one edge, no starts, no over-budget count. */
        audit_graph_init(&g);
        g.to_glob = "c*";
        g.kind_glob = "ipc";
        add_all(&g);
        assert_int_equal(g.n_nodes, 2);
        assert_node(&g, 0, "web", "shop");
        assert_node(&g, 1, "cache", NULL);
        assert_int_equal(g.n_edges, 1);
        assert_edge(&g, 0, "web", "cache", POLICY_KIND_IPC, 0, 11, GRAPH_REFUSED);
        assert_int_equal(g.nodes[0].deny_unattributed, 0);
        audit_graph_done(&g);
}

static const char policy_text[] =
        "version: 1\n"
        "default: deny\n"
        "rules:\n"
        "  - { id: web-db, from: shop/web, to: shop/db, allow: ipc, endpoint: kv }\n"
        "  - { id: web-finds-db, from: web, to: db, allow: transfer, service: kv }\n"
        "  - { id: all-log, from: \"*\", to: logger, allow: ipc, endpoint: log }\n"
        "  - { id: mail-opens-pdf, from: office/mail, to: viewer, allow: invoke, app: /usr/bin/pdfview }\n"
        "  - { id: db-backup, from: db, to: \"backup*\", allow: depend, path: /srv }\n"
        "  - { id: cache-sig, from: cache, to: web, allow: signal }\n"
        "  - { id: no-sig-web, from: \"*\", to: web, deny: signal }\n"
        "  - { id: loner-any, from: loner, to: db, allow: ipc, endpoint: \"*\" }\n"
        "  - { id: no-admin, from: \"*\", to: db, deny: ipc, endpoint: admin }\n"
        "  - { id: mail-kv, from: mail, to: db, allow: ipc, endpoint: \"kv-*\" }\n"
        "  - { id: mail-no-db, from: mail, to: db, deny: ipc, endpoint: \"*\" }\n"
        "  - { id: old, from: viewer, to: mail, allow: ipc, until: \"2020-01-01T00:00:00Z\" }\n";

static void test_policy(void **state) {
        _cleanup_(policy_unrefp) Policy *p = NULL;
        PolicyDiagnostics diags = {};
        const GraphEdge *e;
        AuditGraph g;

        assert_int_equal(policy_load_buffer("graph.yaml", policy_text, strlen(policy_text), 0, &p, &diags), 0);
        policy_diagnostics_clear(&diags);
        audit_graph_init(&g);
        for (size_t i = 0; i < ELEMENTSOF(records); i++) {
                json_t *rec = json_loads(records[i], 0, NULL);
                assert_non_null(rec);
                assert_true(audit_graph_add_record(&g, rec) >= 0);
                json_decref(rec);
        }
        assert_int_equal(audit_graph_add_policy(&g, p, 1700000000), 0);
        audit_graph_sort(&g);

        /* logger is named by the policy only; backup* names no one. */
        assert_int_equal(g.n_nodes, 7);
        assert_node(&g, 4, "logger", NULL);
        assert_false(g.nodes[4].seen);
        assert_node(&g, 5, "loner", NULL);
        assert_true(g.nodes[5].seen);

        /* Worked out by hand: every node but logger itself → logger
         * (all-log), web → db transfer (web-finds-db), loner → db (the
         * deny of 'admin' takes back only part of 'endpoint: *'); not
         * cache → web signal (no-sig-web covers it whole), not mail → db
         * ('*' covers 'kv-*'), not viewer → mail (expired). */
        assert_int_equal(g.n_edges, 11);
        e = assert_edge(&g, 0, "mail", "logger", POLICY_KIND_IPC, 0, 0, GRAPH_UNUSED);
        assert_true(e->declared);
        assert_rule(e, 0, "all-log", 0, 0, true);
        e = assert_edge(&g, 1, "mail", "viewer", POLICY_KIND_INVOKE, 1, 0, GRAPH_USED);
        assert_true(e->declared);
        assert_int_equal(e->n_rules, 1);
        assert_rule(e, 0, "mail-opens-pdf", 1, 0, true);
        assert_edge(&g, 2, "db", "logger", POLICY_KIND_IPC, 0, 0, GRAPH_UNUSED);
        e = assert_edge(&g, 3, "web", "db", POLICY_KIND_IPC, 4, 1, GRAPH_MIXED);
        assert_true(e->declared);
        assert_rule(e, 0, "web-db", 4, 0, true);
        assert_rule(e, 1, "-", 0, 1, false);
        e = assert_edge(&g, 4, "web", "db", POLICY_KIND_TRANSFER, 0, 0, GRAPH_UNUSED);
        assert_rule(e, 0, "web-finds-db", 0, 0, true);
        e = assert_edge(&g, 5, "web", "cache", POLICY_KIND_IPC, 0, 11, GRAPH_REFUSED);
        assert_false(e->declared);
        assert_edge(&g, 6, "web", "logger", POLICY_KIND_IPC, 0, 0, GRAPH_UNUSED);
        assert_edge(&g, 7, "cache", "logger", POLICY_KIND_IPC, 0, 0, GRAPH_UNUSED);
        e = assert_edge(&g, 8, "loner", "db", POLICY_KIND_IPC, 0, 0, GRAPH_UNUSED);
        assert_rule(e, 0, "loner-any", 0, 0, true);
        assert_edge(&g, 9, "loner", "logger", POLICY_KIND_IPC, 0, 0, GRAPH_UNUSED);
        assert_edge(&g, 10, "viewer", "logger", POLICY_KIND_IPC, 0, 0, GRAPH_UNUSED);
        audit_graph_done(&g);
}

static char *dot_of(const AuditGraph *g) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        assert_int_equal(audit_graph_write_dot(g, f), 0);
        fclose(f);
        return buf;
}

static void test_dot(void **state) {
        _cleanup_(policy_unrefp) Policy *p = NULL;
        _cleanup_free_ char *dot = NULL;
        AuditGraph g;

        assert_int_equal(policy_load_buffer("graph.yaml", policy_text, strlen(policy_text), 0, &p, NULL), 0);
        audit_graph_init(&g);
        for (size_t i = 0; i < ELEMENTSOF(records); i++) {
                json_t *rec = json_loads(records[i], 0, NULL);
                audit_graph_add_record(&g, rec);
                json_decref(rec);
        }
        assert_int_equal(audit_graph_add_policy(&g, p, 1700000000), 0);
        audit_graph_sort(&g);
        dot = dot_of(&g);

        /* One cluster per group, the ungrouped outside any. */
        assert_non_null(strstr(dot, "subgraph \"cluster_0\" {\n    label=\"group office\";"));
        assert_non_null(strstr(dot, "label=\"group shop\";"));
        assert_non_null(strstr(dot, "    n1 [label=\"db\"];\n    n2 [label=\"web\\n(+5 denied, over budget)\"];\n"
                                    "  }\n  n3 [label=\"cache\"];"));
        /* Only named by the policy: dashed. */
        assert_non_null(strstr(dot, "n4 [label=\"logger\", style=\"rounded,dashed\"];"));
        /* Counts, rules with their counts when several, styles. */
        assert_non_null(strstr(dot, "n2 -> n1 [label=\"ipc: 4 allowed, 1 denied\\nweb-db (4), - (1)\", "
                                    "color=\"#e07000\""));
        assert_non_null(strstr(dot, "n2 -> n3 [label=\"ipc: 11 denied\\ndefault\", color=\"#d62728\", "
                                    "fontcolor=\"#d62728\", style=solid, penwidth=2];"));
        assert_non_null(strstr(dot, "n0 -> n6 [label=\"invoke: 1 allowed\\nmail-opens-pdf\", color=\"#1f1f1f\""));
        assert_non_null(strstr(dot, "n2 -> n1 [label=\"transfer: never used\\nweb-finds-db\", color=\"#8c8c8c\", "
                                    "fontcolor=\"#8c8c8c\", style=dashed, penwidth=1];"));
        assert_non_null(strstr(dot, "22 requests."));
        assert_non_null(strstr(dot, "never used (dashed)"));
        audit_graph_done(&g);
}

/* A request that acts has two records with --audit-sync sync, its decision
 * ("phase") and its outcome ("decided"): one request on the edge. */
static void test_decision_and_outcome(void **state) {
        AuditGraph g;
        json_t *rec;

        (void) state;
        audit_graph_init(&g);
        rec = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t) 7, "from", "a", "to", "b",
                        "kind", "invoke", "op", "exec", "decision", "allow", "rule", "a-sh", "phase", "decided");
        assert_int_equal(audit_graph_add_record(&g, rec), 0);
        json_decref(rec);
        rec = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "seq", (json_int_t) 8, "from", "a", "to", "b",
                        "kind", "invoke", "op", "exec", "decision", "allow", "rule", "a-sh", "decided", (json_int_t) 7);
        assert_int_equal(audit_graph_add_record(&g, rec), 1);
        json_decref(rec);
        assert_int_equal(g.n_edges, 1);
        assert_int_equal(g.edges[0].allow, 1);
        assert_int_equal(g.edges[0].deny, 0);
        audit_graph_done(&g);
}

/* Names from a log can neither end a DOT string nor rewrite a terminal. */
static void test_dot_escaping(void **state) {
        _cleanup_free_ char *dot = NULL;
        AuditGraph g;
        json_t *rec;

        audit_graph_init(&g);
        rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "from", "a\"b\\N", "to", "x\xe2\x80\xaey", "kind",
                        "ipc", "op", "connect", "decision", "allow", "rule", "r\"] ; n0 -> n0 [");
        assert_int_equal(audit_graph_add_record(&g, rec), 1);
        json_decref(rec);
        audit_graph_sort(&g);
        dot = dot_of(&g);
        assert_non_null(strstr(dot, "n0 [label=\"a\\\"b\\\\\\\\N\"];"));
        assert_non_null(strstr(dot, "n1 [label=\"x\\\\u202ey\"];"));
        assert_non_null(strstr(dot, "\\nr\\\"] ; n0 -> n0 [\""));
        assert_null(strstr(dot, "\xe2\x80\xae"));
        audit_graph_done(&g);
}

static void test_json(void **state) {
        _cleanup_(policy_unrefp) Policy *p = NULL;
        json_t *j, *e;
        AuditGraph g;

        assert_int_equal(policy_load_buffer("graph.yaml", policy_text, strlen(policy_text), 0, &p, NULL), 0);
        audit_graph_init(&g);
        assert_int_equal(audit_parse_timestamp("2024-05-01T12:05:00Z", &g.until_usec), 0);
        add_all(&g);
        j = audit_graph_to_json(&g);
        assert_non_null(j);
        assert_true(json_is_null(json_object_get(j, "since")));
        assert_string_equal(json_string_value(json_object_get(j, "until")), "2024-05-01T12:05:00.000000Z");
        assert_int_equal(json_integer_value(json_object_get(j, "requests")), 21);
        assert_int_equal(json_array_size(json_object_get(j, "nodes")), 6);
        e = json_array_get(json_object_get(j, "edges"), 1);
        assert_string_equal(json_string_value(json_object_get(e, "from")), "web");
        assert_string_equal(json_string_value(json_object_get(e, "to")), "db");
        assert_string_equal(json_string_value(json_object_get(e, "kind")), "ipc");
        assert_int_equal(json_integer_value(json_object_get(e, "allow")), 3);
        assert_int_equal(json_integer_value(json_object_get(e, "deny")), 1);
        assert_string_equal(json_string_value(json_object_get(e, "style")), "mixed");
        /* No policy given: no "declared" at all. */
        assert_null(json_object_get(e, "declared"));
        json_decref(j);
        audit_graph_done(&g);
}

/* Many rules on one edge: the first GRAPH_EDGE_RULES_MAX by name, the
 * rest counted together. */
static void test_rule_cap(void **state) {
        AuditGraph g;

        audit_graph_init(&g);
        for (int i = 0; i < GRAPH_EDGE_RULES_MAX + 3; i++) {
                char id[16];
                json_t *rec;
                snprintf(id, sizeof(id), "r%d", i);
                rec = json_pack("{s:s, s:s, s:s, s:s, s:s}", "from", "a", "to", "b", "kind", "signal", "decision",
                                i % 2 ? "deny" : "allow", "rule", id);
                assert_int_equal(audit_graph_add_record(&g, rec), 1);
                json_decref(rec);
        }
        audit_graph_sort(&g);
        assert_int_equal(g.n_edges, 1);
        assert_int_equal(g.edges[0].n_rules, GRAPH_EDGE_RULES_MAX);
        assert_int_equal(g.edges[0].allow + g.edges[0].deny, GRAPH_EDGE_RULES_MAX + 3);
        assert_int_equal(g.edges[0].other_allow + g.edges[0].other_deny, 3);
        audit_graph_done(&g);
}

/* Many nodes and edges: the lookup tables grow and stay right. */
static void test_many(void **state) {
        AuditGraph g;

        audit_graph_init(&g);
        for (int round = 0; round < 2; round++)
                for (int i = 0; i < 500; i++) {
                        char from[16], to[16];
                        json_t *rec;
                        snprintf(from, sizeof(from), "c%03d", i);
                        snprintf(to, sizeof(to), "c%03d", (i * 7 + 1) % 500);
                        rec = json_pack("{s:s, s:s, s:s, s:s, s:s}", "from", from, "to", to, "kind", "ipc",
                                        "decision", "allow", "rule", "x");
                        assert_int_equal(audit_graph_add_record(&g, rec), 1);
                        json_decref(rec);
                }
        audit_graph_sort(&g);
        assert_int_equal(g.n_nodes, 500);
        assert_int_equal(g.n_edges, 500);
        for (size_t i = 0; i < g.n_edges; i++)
                assert_int_equal(g.edges[i].allow, 2);
        audit_graph_done(&g);
}

static void count_edge(const PolicyDeclaredEdge *e, void *userdata) {
        char *out = userdata;
        size_t n = strlen(out);

        snprintf(out + n, 256 - n, "%s%s:%s", n ? " " : "", policy_kind_to_string(e->kind), e->rule_id);
}

/* The edges the policy declares from a to b ("kind:rule" each), at 1700000000. */
static const char *declared(const char *rules, char out[static 256]) {
        _cleanup_(policy_unrefp) Policy *p = NULL;
        char text[1024];

        snprintf(text, sizeof(text), "version: 1\nrules:\n%s", rules);
        out[0] = 0;
        if (policy_load_buffer("declared.yaml", text, strlen(text), 0, &p, NULL) < 0) {
                print_message("%s", text);
                fail_msg("the policy does not load");
        }
        assert_true(policy_for_each_declared(p, "a", "b", 1700000000, count_edge, out) >= 0);
        return out;
}

/* An allow is declared unless one deny that matches the pair (and is not
 * expired) matches every request of the kind the allow matches: a deny
 * beats every allow, whatever their specificity.  Each answer by hand. */
static void test_declared_cover(void **state) {
        static const struct {
                const char *allow, *deny;
                bool declared;
        } cases[] = {
                /* A star-star after /usr allows /usr/a/b, which one star
                 * after /usr does not match; the same pattern, or a
                 * star-star after the root, takes it all. */
                { "allow: transfer, path: '/usr/**'", "deny: transfer, path: '/usr/*'", true },
                { "allow: transfer, path: '/usr/**'", "deny: transfer, path: '/usr/**'", false },
                { "allow: transfer, path: '/usr/**'", "deny: transfer, path: '/**'", false },
                { "allow: invoke, app: '/usr/**'", "deny: invoke, app: '/usr/*'", true },
                { "allow: invoke, app: '/usr/bin/*'", "deny: invoke, app: '/usr/**'", false },
                /* A class: [ab] is a and b; 'a' leaves b, '[a-c]' and '?'
                 * take both. */
                { "allow: ipc, endpoint: '[ab]'", "deny: ipc, endpoint: a", true },
                { "allow: ipc, endpoint: '[ab]'", "deny: ipc, endpoint: '[a-c]'", false },
                { "allow: ipc, endpoint: '[ab]'", "deny: ipc, endpoint: '?'", false },
                { "allow: ipc, endpoint: 'kv-*'", "deny: ipc, endpoint: '*'", false },
                { "allow: ipc, endpoint: '*'", "deny: ipc, endpoint: admin", true },
                /* No endpoint: every one, and requests naming none; only a
                 * deny naming none takes them all. */
                { "allow: ipc", "deny: ipc, endpoint: '*'", true },
                { "allow: ipc", "deny: ipc", false },
                /* ipc types; a FIFO's end: a deny refuses both. */
                { "allow: ipc, endpoint: kv, type: unix", "deny: ipc, type: tcp", true },
                { "allow: ipc, endpoint: kv, type: unix", "deny: ipc, endpoint: 'k*'", false },
                { "allow: ipc, endpoint: kv", "deny: ipc, endpoint: kv, type: unix", true },
                { "allow: ipc, endpoint: log, type: fifo, mode: wo", "deny: ipc, endpoint: log, type: fifo", false },
                /* Signals: a mask the deny's does not hold stays. */
                { "allow: signal, signals: [HUP, TERM]", "deny: signal, signals: [HUP]", true },
                { "allow: signal, signals: [TERM]", "deny: signal, signals: [TERM, KILL]", false },
                { "allow: signal", "deny: signal, signals: [TERM]", true },
                { "allow: signal, app: /usr/bin/kvd", "deny: signal", false },
                /* Invoke arguments: '*' allows "ab", which '?' does not
                 * match; '-[ab]' is "-a" and "-b", both '-?'. */
                { "allow: invoke, app: /bin/x, args: ['*']", "deny: invoke, args: ['?']", true },
                { "allow: invoke, app: /bin/x, args: ['-[ab]']", "deny: invoke, args: ['-?']", false },
                { "allow: invoke, app: /bin/x, args: ['-v', ...]", "deny: invoke, args: ['-v', ...]", false },
                { "allow: invoke, app: /bin/x, args: ['-v', ...]", "deny: invoke, args: ['-v']", true },
                { "allow: invoke, app: /bin/x", "deny: invoke, args: ['-v']", true },
                /* Transfer's names: a deny of paths leaves pids, services
                 * and the host name; one with no name key takes them all. */
                { "allow: transfer, pid: '/usr/bin/*'", "deny: transfer, path: '/**'", true },
                { "allow: transfer, pid: '/usr/bin/*'", "deny: transfer, pid: '/usr/**'", false },
                { "allow: transfer, service: 'kv*'", "deny: transfer, service: 'k*'", false },
                { "allow: transfer, host: true", "deny: transfer, path: '/**'", true },
                { "allow: transfer, host: true", "deny: transfer", false },
                { "allow: transfer", "deny: transfer, path: '/**'", true },
                /* Depend: trees and services are apart. */
                { "allow: depend, service: db", "deny: depend, path: '/**'", true },
                { "allow: depend, path: /srv", "deny: depend, service: '*'", true },
                { "allow: depend, path: '/srv/**'", "deny: depend, path: '/srv/**'", false },
                { "allow: depend", "deny: depend, path: '/**'", true },
                { "allow: depend, path: /srv", "deny: depend", false },
                /* Kinds, containers, time. */
                { "allow: ipc, endpoint: kv", "deny: signal", true },
                { "allow: ipc, endpoint: kv", "deny: ipc, until: '2020-01-01T00:00:00Z'", true },
        };
        char out[256], rules[512], kind[16], want[32];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                snprintf(rules, sizeof(rules), "  - { id: it, from: a, to: b, %s }\n  - { from: a, to: b, %s }\n",
                         cases[i].allow, cases[i].deny);
                print_message("%s\n", rules);
                assert_int_equal(sscanf(cases[i].allow, "allow: %15[a-z]", kind), 1);
                snprintf(want, sizeof(want), "%s:it", kind);
                assert_string_equal(declared(rules, out), cases[i].declared ? want : "");
        }

        /* The deny must match the pair; one from any container does,
         * however less specific than the allow. */
        assert_string_equal(declared("  - { id: it, from: a, to: b, allow: ipc, endpoint: kv }\n"
                                     "  - { from: c, to: b, deny: ipc }\n", out), "ipc:it");
        assert_string_equal(declared("  - { id: it, from: a, to: b, allow: ipc, endpoint: kv }\n"
                                     "  - { from: '*', to: '*', deny: ipc, endpoint: '*' }\n", out), "");
        /* A rule of several kinds: one edge per kind the denies leave. */
        assert_string_equal(declared("  - { id: it, from: a, to: b, allow: [ipc, signal, invoke] }\n"
                                     "  - { from: a, to: b, deny: signal }\n", out), "ipc:it invoke:it");
        /* An expired allow draws nothing. */
        assert_string_equal(declared("  - { id: it, from: a, to: b, allow: ipc, until: '2020-01-01T00:00:00Z' }\n",
                                     out), "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_records),    cmocka_unit_test(test_window_and_filters),
                cmocka_unit_test(test_policy),     cmocka_unit_test(test_dot),
                cmocka_unit_test(test_dot_escaping), cmocka_unit_test(test_json),
                cmocka_unit_test(test_rule_cap),   cmocka_unit_test(test_many),
                cmocka_unit_test(test_declared_cover),
                cmocka_unit_test(test_decision_and_outcome),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
