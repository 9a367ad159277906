/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by reach.c (the graph: nodes, the hops each rule gives, the deny
 * rules that cut them) and reach-search.c (breadth-first reach, paths). */

#include "policy/decide.h"

#define HOP_BIT(h) (1u << (h))

typedef struct U32Vec {
        uint32_t *v;
        size_t n, allocated;
} U32Vec;

typedef struct Node {
        char *name;     /* "name" or "group/name" */
        char *group;    /* NULL: ungrouped */
        const char *bare;
} Node;

/* A deny rule that may cut some of an allow rule's hops: it covers the
 * allow rule's object for these kinds; whether it cuts a pair is its
 * from/to. */
typedef struct Cut {
        const PolicyRule *rule;
        unsigned kinds;
} Cut;

/* An allow rule as the graph sees it. */
typedef struct Edge {
        const PolicyRule *rule;
        unsigned fwd, rev;      /* hop masks: from -> to, to -> from */
        U32Vec side[2];         /* nodes: [0] its from matches, [1] its to */
        Cut *cuts;
        size_t n_cuts;
        bool expanded[2];       /* this query's BFS expanded side [s] already */
} Edge;

struct PolicyReach {
        Policy *policy;
        time_t now;
        Node *nodes;            /* sorted by name */
        size_t n_nodes;
        uint32_t *by_bare;      /* node indices sorted by bare name */
        Edge *edges;
        size_t n_edges;
        U32Vec *slots;          /* per node: edge << 1 | side the node is on */
        PolicyRule *default_rule;
};

/* reach.c */
PolicyKind reach_hop_kind(PolicyHop h);
