/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The interaction graph written out: Graphviz's DOT language, and JSON. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit-graph.h"
#include "common/macro.h"
#include "shuttle/audit/audit.h"

/* Colours of the styles, and the line style. */
static const struct {
        const char *color, *style;
} looks[_GRAPH_STYLE_MAX] = {
        [GRAPH_USED] = { "#1f1f1f", "solid" },
        [GRAPH_MIXED] = { "#e07000", "solid" },
        [GRAPH_REFUSED] = { "#d62728", "solid" },
        [GRAPH_UNUSED] = { "#8c8c8c", "dashed" },
};

/* s as the inside of a DOT string: what a terminal would misread escaped
 * as the audit table shows it (\u202e, \xff), then '"' and '\' escaped,
 * so a name from a log can neither end the string nor start an escape
 * sequence of DOT's own (\N, \G, \l). */
static void put_dot_text(FILE *f, const char *s) {
        _cleanup_free_ char *safe = NULL;

        if (audit_escape_text(s, strlen(s), &safe) < 0)
                return;
        for (const char *p = safe; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fputc('\\', f);
                fputc(*p, f);
        }
}

static unsigned pen_width(uint64_t n) {
        unsigned w = 1;

        /* One step wider per factor of ten, at most 4. */
        for (; n >= 10 && w < 4; n /= 10)
                w++;
        return w;
}

static void put_counts(FILE *f, const GraphEdge *e) {
        fputs(policy_kind_to_string(e->kind), f);
        if (e->allow == 0 && e->deny == 0) {
                fputs(": never used", f);
                return;
        }
        fputs(":", f);
        if (e->allow > 0)
                fprintf(f, " %" PRIu64 " allowed", e->allow);
        if (e->deny > 0)
                fprintf(f, "%s %" PRIu64 " denied", e->allow > 0 ? "," : "", e->deny);
}

/* The rules that decided (or, never used, that allow it): the id alone
 * when there is one, each with its count when there are several. */
static void put_rules(FILE *f, const GraphEdge *e) {
        size_t shown = 0;

        for (size_t i = 0; i < e->n_rules; i++) {
                const GraphRule *r = &e->rules[i];
                if (e->allow + e->deny > 0 && r->allow + r->deny == 0)
                        continue; /* declared, but others decided what happened */
                fputs(shown++ > 0 ? ", " : "", f);
                put_dot_text(f, r->id);
                if (e->n_rules > 1 && r->allow + r->deny > 0)
                        fprintf(f, " (%" PRIu64 ")", r->allow + r->deny);
        }
        if (e->other_allow + e->other_deny > 0)
                fprintf(f, "%s+%" PRIu64 " by other rules", shown > 0 ? ", " : "", e->other_allow + e->other_deny);
}

static void put_node(FILE *f, const AuditGraph *g, size_t i, const char *indent) {
        const GraphNode *n = &g->nodes[i];

        fprintf(f, "%sn%zu [label=\"", indent, i);
        put_dot_text(f, n->name);
        if (n->deny_unattributed > 0)
                fprintf(f, "\\n(+%" PRIu64 " denied, over budget)", n->deny_unattributed);
        fputs("\"", f);
        if (!n->seen)
                fputs(", style=\"rounded,dashed\"", f);
        fputs("];\n", f);
}

static void put_window(FILE *f, const char *what, uint64_t usec) {
        char buf[AUDIT_TIMESTAMP_MAX];

        if (usec > 0)
                fprintf(f, " %s %s", what, audit_format_timestamp(usec, buf));
}

int audit_graph_write_dot(const AuditGraph *g, FILE *f) {
        fputs("digraph shuttle {\n"
              "  graph [rankdir=LR, fontname=\"sans-serif\", fontsize=11, nodesep=0.3, ranksep=0.9,\n"
              "         labelloc=b, labeljust=l];\n"
              "  node [shape=box, style=rounded, fontname=\"sans-serif\", fontsize=10, height=0.3];\n"
              "  edge [fontname=\"sans-serif\", fontsize=8, arrowsize=0.6];\n",
              f);

        /* The clusters: nodes are sorted by group, so each group's
         * members are one run. */
        for (size_t i = 0; i < g->n_nodes;) {
                const char *group = g->nodes[i].group;
                if (!g->nodes[i].shown) {
                        i++;
                        continue;
                }
                if (!group) {
                        put_node(f, g, i++, "  ");
                        continue;
                }
                fprintf(f, "  subgraph \"cluster_%zu\" {\n    label=\"group ", i);
                put_dot_text(f, group);
                fputs("\";\n    style=\"rounded,filled\"; fillcolor=\"#f2f5fa\"; color=\"#8da0bf\";\n", f);
                for (; i < g->n_nodes && g->nodes[i].group && streq(g->nodes[i].group, group); i++)
                        if (g->nodes[i].shown)
                                put_node(f, g, i, "    ");
                fputs("  }\n", f);
        }

        for (size_t i = 0; i < g->n_edges; i++) {
                const GraphEdge *e = &g->edges[i];
                GraphStyle s = audit_graph_edge_style(e);

                fprintf(f, "  n%zu -> n%zu [label=\"", e->from, e->to);
                put_counts(f, e);
                if (e->n_rules > 0 || e->other_allow + e->other_deny > 0) {
                        fputs("\\n", f);
                        put_rules(f, e);
                }
                if (g->has_policy && !e->declared && s != GRAPH_REFUSED)
                        fputs("\\n(not allowed by this policy)", f);
                fprintf(f, "\", color=\"%s\", fontcolor=\"%s\", style=%s, penwidth=%u];\n", looks[s].color,
                        looks[s].color, looks[s].style, pen_width(e->allow + e->deny));
        }

        /* The legend, and what the picture covers. */
        fprintf(f, "  label=<<font point-size=\"9\">%" PRIu64 " request%s", g->n_records,
                g->n_records == 1 ? "" : "s");
        put_window(f, "from", g->since_usec);
        put_window(f, "until", g->until_usec);
        fprintf(f, ". Edges: <font color=\"%s\">allowed</font>, <font color=\"%s\">allowed and denied</font>, "
                   "<font color=\"%s\">denied only</font>",
                looks[GRAPH_USED].color, looks[GRAPH_MIXED].color, looks[GRAPH_REFUSED].color);
        if (g->has_policy)
                fprintf(f, ", <font color=\"%s\">allowed by the policy, never used (dashed)</font>",
                        looks[GRAPH_UNUSED].color);
        fputs(".</font>>;\n}\n", f);
        return ferror(f) ? -EIO : 0;
}

/* ---- JSON ------------------------------------------------------------ */

static json_t *json_time(uint64_t usec) {
        char buf[AUDIT_TIMESTAMP_MAX];
        return usec > 0 ? json_string(audit_format_timestamp(usec, buf)) : json_null();
}

static json_t *edge_json(const AuditGraph *g, const GraphEdge *e) {
        json_t *rules = json_array(), *o;

        if (!rules)
                return NULL;
        for (size_t i = 0; i < e->n_rules; i++) {
                const GraphRule *r = &e->rules[i];
                o = json_pack("{s:s, s:I, s:I}", "rule", r->id, "allow", (json_int_t) r->allow, "deny",
                              (json_int_t) r->deny);
                if (o && g->has_policy)
                        json_object_set_new(o, "declared", json_boolean(r->declared));
                if (!o || json_array_append_new(rules, o) < 0) {
                        json_decref(rules);
                        return NULL;
                }
        }
        o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "from", g->nodes[e->from].name, "to",
                      g->nodes[e->to].name, "kind", policy_kind_to_string(e->kind), "allow", (json_int_t) e->allow,
                      "deny", (json_int_t) e->deny, "style", graph_style_to_string(audit_graph_edge_style(e)));
        if (!o) {
                json_decref(rules);
                return NULL;
        }
        if (g->has_policy)
                json_object_set_new(o, "declared", json_boolean(e->declared));
        json_object_set_new(o, "rules", rules);
        if (e->other_allow + e->other_deny > 0)
                json_object_set_new(o, "other_rules", json_pack("{s:I, s:I}", "allow", (json_int_t) e->other_allow,
                                                                "deny", (json_int_t) e->other_deny));
        return o;
}

json_t *audit_graph_to_json(const AuditGraph *g) {
        json_t *nodes = json_array(), *edges = json_array(), *o;

        if (!nodes || !edges)
                goto fail;
        for (size_t i = 0; i < g->n_nodes; i++) {
                const GraphNode *n = &g->nodes[i];
                if (!n->shown)
                        continue;
                o = json_pack("{s:s, s:s?, s:b, s:I}", "name", n->name, "group", n->group, "seen", n->seen,
                              "deny_unattributed", (json_int_t) n->deny_unattributed);
                if (!o || json_array_append_new(nodes, o) < 0)
                        goto fail;
        }
        for (size_t i = 0; i < g->n_edges; i++) {
                o = edge_json(g, &g->edges[i]);
                if (!o || json_array_append_new(edges, o) < 0)
                        goto fail;
        }
        return json_pack("{s:o, s:o, s:I, s:b, s:o, s:o}", "since", json_time(g->since_usec), "until",
                         json_time(g->until_usec), "requests", (json_int_t) g->n_records, "policy", g->has_policy,
                         "nodes", nodes, "edges", edges);
fail:
        json_decref(nodes);
        json_decref(edges);
        return NULL;
}
