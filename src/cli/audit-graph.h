/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The interaction graph of `shuttlectl audit graph`: who talked to whom,
 * built from audit records and, optionally, overlaid with what a policy
 * declares.  Pure: records come in as JSON objects, the graph goes out as
 * DOT or JSON on a FILE; running Graphviz is the verb's business
 * (cmd-audit-graph.c).
 *
 * Nodes are containers (keyed by name, clustered by the app group their
 * records name), edges are (from, to, kind) with the allows and denials
 * counted and the rules that decided them: parallel requests collapse
 * into one edge, so the picture grows with the pairs that talk, not with
 * the log. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <jansson.h>

#include "policy/policy.h"

typedef enum GraphStyle {
        GRAPH_USED,    /* allowed only: solid */
        GRAPH_MIXED,   /* allowed and denied: solid, orange */
        GRAPH_REFUSED, /* denied only: solid, red */
        GRAPH_UNUSED,  /* declared by the policy, never asked for: dashed */
        _GRAPH_STYLE_MAX,
} GraphStyle;

const char *graph_style_to_string(GraphStyle s);

/* Distinct rules kept per edge; the rest are counted under "…". */
#define GRAPH_EDGE_RULES_MAX 8

typedef struct GraphRule {
        char *id;           /* the record's rule: an id, "default", "-" */
        uint64_t allow, deny;
        bool declared;      /* the policy given allows the edge by this rule */
} GraphRule;

typedef struct GraphNode {
        char *name;
        char *group;        /* NULL: no record named one */
        uint64_t deny_unattributed; /* over-budget denials (no 'to' recorded) */
        bool seen;          /* in a record (not only named by the policy) */
        bool shown;         /* drawn; a node that is not only says which group a
                             * container is in (from a record outside the window
                             * or the filters): audit_graph_sort() drops it */
} GraphNode;

typedef struct GraphEdge {
        size_t from, to;    /* node indices */
        PolicyKind kind;
        uint64_t allow, deny;
        GraphRule rules[GRAPH_EDGE_RULES_MAX];
        size_t n_rules;
        uint64_t other_allow, other_deny; /* under rules past the cap */
        bool declared;      /* with a policy: it allows this edge */
} GraphEdge;

typedef struct AuditGraph {
        uint64_t since_usec, until_usec;    /* the window; 0 = open */
        /* Only these (shell globs, NULL = any), as `audit --from/--to/--kind`. */
        const char *from_glob, *to_glob, *kind_glob;

        GraphNode *nodes;
        size_t n_nodes, allocated_nodes;
        GraphEdge *edges;
        size_t n_edges, allocated_edges;
        uint64_t n_records;       /* requests counted (a summary of denials: its count) */
        bool has_policy;

        /* Hash tables of node and edge indices (+1; 0 = empty). */
        size_t *node_index, *edge_index;
        size_t node_index_size, edge_index_size;
} AuditGraph;

void audit_graph_init(AuditGraph *g);
void audit_graph_done(AuditGraph *g);

/* Counts one record: 1 if it went on an edge or named a container, 0 if
 * it is not about an interaction (a reload, a drop, an invocation's end,
 * a revocation, ...), lies outside the window or fails a filter;
 * -ENOMEM.  Which records count is said in shuttlectl(1). */
int audit_graph_add_record(AuditGraph *g, json_t *rec);

/* Overlays what policy p declares at now between every pair of nodes (those
 * of the records and those the policy names literally; a glob in a rule
 * matches those): marks edges it allows as declared, adds the ones never
 * used (GRAPH_UNUSED).  Call after the last record.  0 or -ENOMEM. */
int audit_graph_add_policy(AuditGraph *g, const Policy *p, time_t now);

/* Drops the nodes not shown, sorts nodes by group then name and edges by
 * from, to, kind (stable output for the same input).  Call once, after
 * the last record and the policy, before reading or writing. */
void audit_graph_sort(AuditGraph *g);

GraphStyle audit_graph_edge_style(const GraphEdge *e);

/* The graph in Graphviz's language: one cluster per group, one edge per
 * (from, to, kind) labelled with its counts and rules, a legend. */
int audit_graph_write_dot(const AuditGraph *g, FILE *f);
/* {"since":..,"until":..,"records":N,"nodes":[..],"edges":[..]} */
json_t *audit_graph_to_json(const AuditGraph *g);
