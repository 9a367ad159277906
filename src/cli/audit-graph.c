/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The interaction graph (audit-graph.h): audit records and a policy in,
 * nodes and collapsed edges out, as DOT or JSON. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit-graph.h"
#include "common/macro.h"
#include "policy/declared.h"
#include "shuttle/audit/audit.h"

static const char *const style_names[_GRAPH_STYLE_MAX] = {
        [GRAPH_USED] = "used",
        [GRAPH_MIXED] = "mixed",
        [GRAPH_REFUSED] = "refused",
        [GRAPH_UNUSED] = "unused",
};

const char *graph_style_to_string(GraphStyle s) {
        return s >= 0 && s < _GRAPH_STYLE_MAX ? style_names[s] : NULL;
}

void audit_graph_init(AuditGraph *g) {
        *g = (AuditGraph){};
}

void audit_graph_done(AuditGraph *g) {
        if (!g)
                return;
        for (size_t i = 0; i < g->n_nodes; i++) {
                free(g->nodes[i].name);
                free(g->nodes[i].group);
        }
        for (size_t i = 0; i < g->n_edges; i++)
                for (size_t j = 0; j < g->edges[i].n_rules; j++)
                        free(g->edges[i].rules[j].id);
        free(g->nodes);
        free(g->edges);
        free(g->node_index);
        free(g->edge_index);
        *g = (AuditGraph){};
}

/* ---- lookup ---------------------------------------------------------- */

static uint64_t hash_str(uint64_t h, const char *s) {
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * UINT64_C(1099511628211);
        return h;
}

static uint64_t hash_edge(size_t from, size_t to, PolicyKind k) {
        uint64_t h = UINT64_C(14695981039346656037);
        h = (h ^ from) * UINT64_C(1099511628211);
        h = (h ^ to) * UINT64_C(1099511628211);
        return (h ^ (uint64_t) k) * UINT64_C(1099511628211);
}

static uint64_t node_hash(const AuditGraph *g, size_t i) {
        return hash_str(UINT64_C(14695981039346656037), g->nodes[i].name);
}

static uint64_t edge_hash(const AuditGraph *g, size_t i) {
        return hash_edge(g->edges[i].from, g->edges[i].to, g->edges[i].kind);
}

/* Rebuilds a table (indices + 1, 0 = empty) of n items at twice the size
 * it needs, so it stays at most half full. */
static int rehash(const AuditGraph *g, size_t **table, size_t *size, size_t n,
                  uint64_t (*hash)(const AuditGraph *, size_t)) {
        size_t m = 64, *t;

        while (m < 4 * (n + 1))
                m *= 2;
        t = calloc(m, sizeof(size_t));
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                size_t j = hash(g, i) & (m - 1);
                while (t[j])
                        j = (j + 1) & (m - 1);
                t[j] = i + 1;
        }
        free(*table);
        *table = t;
        *size = m;
        return 0;
}

/* Adds item i (already in the array) to its table, growing it first
 * when it would be more than a quarter full. */
static int index_add(const AuditGraph *g, size_t **table, size_t *size, size_t i,
                     uint64_t (*hash)(const AuditGraph *, size_t)) {
        size_t j;

        if (4 * (i + 1) > *size)
                return rehash(g, table, size, i + 1, hash);
        for (j = hash(g, i) & (*size - 1); (*table)[j]; j = (j + 1) & (*size - 1))
                ;
        (*table)[j] = i + 1;
        return 0;
}

static ssize_t node_find(const AuditGraph *g, const char *name) {
        if (g->node_index_size == 0)
                return -1;
        for (size_t j = hash_str(UINT64_C(14695981039346656037), name) & (g->node_index_size - 1);
             g->node_index[j]; j = (j + 1) & (g->node_index_size - 1))
                if (streq(g->nodes[g->node_index[j] - 1].name, name))
                        return (ssize_t) g->node_index[j] - 1;
        return -1;
}

static ssize_t edge_find(const AuditGraph *g, size_t from, size_t to, PolicyKind k) {
        if (g->edge_index_size == 0)
                return -1;
        for (size_t j = hash_edge(from, to, k) & (g->edge_index_size - 1); g->edge_index[j];
             j = (j + 1) & (g->edge_index_size - 1)) {
                const GraphEdge *e = &g->edges[g->edge_index[j] - 1];
                if (e->from == from && e->to == to && e->kind == k)
                        return (ssize_t) g->edge_index[j] - 1;
        }
        return -1;
}

static int grow(void **array, size_t *allocated, size_t n, size_t item) {
        size_t m;
        void *a;

        if (n < *allocated)
                return 0;
        m = MAX(*allocated * 2, (size_t) 16);
        a = reallocarray(*array, m, item);
        if (!a)
                return -ENOMEM;
        *array = a;
        *allocated = m;
        return 0;
}

/* The node called name (created, with group if given); its group is the
 * first one a record or the policy names. */
static ssize_t node_get(AuditGraph *g, const char *name, const char *group, bool seen, bool shown) {
        ssize_t i = node_find(g, name);
        GraphNode *n;

        if (i < 0) {
                if (grow((void **) &g->nodes, &g->allocated_nodes, g->n_nodes, sizeof(GraphNode)) < 0)
                        return -ENOMEM;
                n = &g->nodes[g->n_nodes];
                *n = (GraphNode){ .name = strdup(name) };
                if (!n->name)
                        return -ENOMEM;
                i = (ssize_t) g->n_nodes++;
                if (index_add(g, &g->node_index, &g->node_index_size, (size_t) i, node_hash) < 0) {
                        free(n->name);
                        g->n_nodes--;
                        return -ENOMEM;
                }
        }
        n = &g->nodes[i];
        n->seen = n->seen || seen;
        n->shown = n->shown || shown;
        if (group && !n->group) {
                n->group = strdup(group);
                if (!n->group)
                        return -ENOMEM;
        }
        return i;
}

static ssize_t edge_get(AuditGraph *g, size_t from, size_t to, PolicyKind k) {
        ssize_t i = edge_find(g, from, to, k);

        if (i >= 0)
                return i;
        if (grow((void **) &g->edges, &g->allocated_edges, g->n_edges, sizeof(GraphEdge)) < 0)
                return -ENOMEM;
        g->edges[g->n_edges] = (GraphEdge){ .from = from, .to = to, .kind = k };
        i = (ssize_t) g->n_edges++;
        if (index_add(g, &g->edge_index, &g->edge_index_size, (size_t) i, edge_hash) < 0) {
                g->n_edges--;
                return -ENOMEM;
        }
        return i;
}

/* The rule's slot on the edge, NULL past the cap (counted as other). */
static GraphRule *edge_rule(GraphEdge *e, const char *id, int *ret_error) {
        *ret_error = 0;
        for (size_t i = 0; i < e->n_rules; i++)
                if (streq(e->rules[i].id, id))
                        return &e->rules[i];
        if (e->n_rules == GRAPH_EDGE_RULES_MAX)
                return NULL;
        e->rules[e->n_rules] = (GraphRule){ .id = strdup(id) };
        if (!e->rules[e->n_rules].id) {
                *ret_error = -ENOMEM;
                return NULL;
        }
        return &e->rules[e->n_rules++];
}

/* ---- records --------------------------------------------------------- */

static const char *str_field(json_t *rec, const char *key) {
        return json_string_value(json_object_get(rec, key));
}

static bool glob_ok(const char *pattern, const char *s) {
        return !pattern || (s && fnmatch(pattern, s, 0) == 0);
}

/* Ops that report on something already decided, not a request: an
 * invocation's end, a grant taken back or restored after a restart. */
static bool op_is_followup(const char *op) {
        static const char *const ops[] = { "end", "revoke", "adopt", "restore" };

        if (!op)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(ops); i++)
                if (streq(op, ops[i]))
                        return true;
        return false;
}

int audit_graph_add_record(AuditGraph *g, json_t *rec) {
        const char *kind = str_field(rec, "kind"), *from = str_field(rec, "from"), *to = str_field(rec, "to"),
                   *decision = str_field(rec, "decision"), *group = str_field(rec, "group"),
                   *rule = str_field(rec, "rule");
        json_t *sup = json_object_get(rec, "suppressed");
        uint64_t ts, n;
        PolicyKind k;
        GraphRule *gr;
        GraphEdge *e;
        ssize_t a, b, i;
        bool allow;
        int r;

        if (!json_is_object(rec) || !kind)
                return 0;
        /* Whatever else, the record says which group 'from' is in: its
         * node is clustered right even when its own records are left out. */
        if (from && group) {
                a = node_get(g, from, group, false, false);
                if (a < 0)
                        return (int) a;
        }
        if (g->since_usec > 0 || g->until_usec > 0) {
                const char *s = str_field(rec, "ts");
                if (!s || audit_parse_timestamp(s, &ts) < 0)
                        return 0;
                if ((g->since_usec > 0 && ts < g->since_usec) || (g->until_usec > 0 && ts >= g->until_usec))
                        return 0;
        }

        /* A container's start or stop: a node, even if it never talks
         * (unless the graph is narrowed to some names or kinds). */
        if (streq(kind, "container")) {
                if (!from || g->from_glob || g->to_glob || g->kind_glob)
                        return 0;
                a = node_get(g, from, group, true, true);
                return a < 0 ? (int) a : 1;
        }

        /* The decision of a request that acts (--audit-sync sync) is
         * followed by the record of its outcome, which names it: the
         * request is counted once, by its outcome (docs/AUDIT.md). */
        if (json_object_get(rec, "phase"))
                return 0;
        k = policy_kind_from_string(kind);
        if (k < 0 || op_is_followup(str_field(rec, "op")) || !decision)
                return 0;
        if (streq(decision, "allow"))
                allow = true;
        else if (streq(decision, "deny"))
                allow = false;
        else
                return 0;
        /* A summary of repeated denials stands for the ones it counted,
         * not for one more (docs/AUDIT.md). */
        n = 1;
        if (json_is_integer(sup)) {
                if (json_integer_value(sup) < 0)
                        return 0;
                n = (uint64_t) json_integer_value(sup);
                if (allow)
                        return 0;
        }
        if (!from || !glob_ok(g->from_glob, from) || !glob_ok(g->kind_glob, kind))
                return 0;
        if (!to) {
                /* Over the budget: denials of new keys counted per kind,
                 * with no target; they stay with the container. */
                if (allow || g->to_glob)
                        return 0;
                a = node_get(g, from, group, true, true);
                if (a < 0)
                        return (int) a;
                g->nodes[a].deny_unattributed += n;
                g->n_records += n;
                return 1;
        }
        if (!glob_ok(g->to_glob, to))
                return 0;

        a = node_get(g, from, group, true, true);
        if (a < 0)
                return (int) a;
        b = node_get(g, to, NULL, true, true);
        if (b < 0)
                return (int) b;
        i = edge_get(g, (size_t) a, (size_t) b, k);
        if (i < 0)
                return (int) i;
        e = &g->edges[i];
        gr = edge_rule(e, rule ?: "-", &r);
        if (r < 0)
                return r;
        if (allow) {
                e->allow += n;
                if (gr)
                        gr->allow += n;
                else
                        e->other_allow += n;
        } else {
                e->deny += n;
                if (gr)
                        gr->deny += n;
                else
                        e->other_deny += n;
        }
        g->n_records += n;
        return 1;
}

/* ---- the policy's overlay -------------------------------------------- */

typedef struct OverlayState {
        AuditGraph *g;
        size_t from, to;
        int error;
} OverlayState;

static void overlay_named(const char *group, const char *name, void *userdata) {
        OverlayState *s = userdata;
        bool literal_group = group && !strpbrk(group, "*?[\\");
        ssize_t i;

        if (s->error < 0)
                return;
        if (!glob_ok(s->g->from_glob, name) && !glob_ok(s->g->to_glob, name))
                return;
        i = node_get(s->g, name, literal_group ? group : NULL, false, true);
        if (i < 0)
                s->error = (int) i;
}

static void overlay_edge(const PolicyDeclaredEdge *d, void *userdata) {
        OverlayState *s = userdata;
        GraphRule *gr;
        ssize_t i;
        int r;

        if (s->error < 0 || !glob_ok(s->g->kind_glob, policy_kind_to_string(d->kind)))
                return;
        i = edge_get(s->g, s->from, s->to, d->kind);
        if (i < 0) {
                s->error = (int) i;
                return;
        }
        s->g->edges[i].declared = true;
        gr = edge_rule(&s->g->edges[i], d->rule_id, &r);
        if (r < 0)
                s->error = r;
        else if (gr)
                gr->declared = true;
}

/* "group/name" as the policy sees the container, or "name". */
static int qualified(const GraphNode *n, char **ret) {
        if (n->group ? asprintf(ret, "%s/%s", n->group, n->name) < 0 : !(*ret = strdup(n->name)))
                return -ENOMEM;
        return 0;
}

int audit_graph_add_policy(AuditGraph *g, const Policy *p, time_t now) {
        OverlayState s = { .g = g };
        char **names;
        size_t n;
        int r = 0;

        g->has_policy = true;
        if (policy_for_each_named_container(p, overlay_named, &s) < 0)
                return -EINVAL;
        if (s.error < 0)
                return s.error;

        n = g->n_nodes;
        names = calloc(MAX(n, (size_t) 1), sizeof(char *));
        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < n && r >= 0; i++)
                r = qualified(&g->nodes[i], &names[i]);
        for (size_t a = 0; a < n && r >= 0; a++) {
                if (!g->nodes[a].shown || !glob_ok(g->from_glob, g->nodes[a].name))
                        continue;
                for (size_t b = 0; b < n && r >= 0; b++) {
                        if (a == b || !g->nodes[b].shown || !glob_ok(g->to_glob, g->nodes[b].name))
                                continue;
                        s.from = a;
                        s.to = b;
                        if (policy_for_each_declared(p, names[a], names[b], now, overlay_edge, &s) < 0)
                                r = -EINVAL;
                        else if (s.error < 0)
                                r = s.error;
                }
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

/* ---- order ----------------------------------------------------------- */

static int strcmp_null_last(const char *a, const char *b) {
        if (!a || !b)
                return (a == NULL) - (b == NULL);
        return strcmp(a, b);
}

static int node_cmp(const void *x, const void *y) {
        const GraphNode *a = x, *b = y;
        int c = strcmp_null_last(a->group, b->group);
        return c != 0 ? c : strcmp(a->name, b->name);
}

static int edge_cmp(const void *x, const void *y) {
        const GraphEdge *a = x, *b = y;
        if (a->from != b->from)
                return a->from < b->from ? -1 : 1;
        if (a->to != b->to)
                return a->to < b->to ? -1 : 1;
        return (int) a->kind - (int) b->kind;
}

typedef struct Ranked {
        GraphNode node;
        size_t old;
} Ranked;

static int ranked_cmp(const void *x, const void *y) {
        return node_cmp(&((const Ranked *) x)->node, &((const Ranked *) y)->node);
}

void audit_graph_sort(AuditGraph *g) {
        _cleanup_free_ Ranked *ranked = NULL;
        _cleanup_free_ size_t *rank = NULL;

        if (g->n_nodes > 0) {
                ranked = calloc(g->n_nodes, sizeof(Ranked));
                rank = calloc(g->n_nodes, sizeof(size_t));
        }
        /* Out of memory: edges sorted, nodes in their first order. */
        if (ranked && rank) {
                size_t n = 0;

                /* The hidden nodes go: no edge ends at one. */
                for (size_t i = 0; i < g->n_nodes; i++)
                        if (g->nodes[i].shown)
                                ranked[n++] = (Ranked){ .node = g->nodes[i], .old = i };
                        else {
                                free(g->nodes[i].name);
                                free(g->nodes[i].group);
                        }
                g->n_nodes = n;
                qsort(ranked, g->n_nodes, sizeof(Ranked), ranked_cmp);
                for (size_t i = 0; i < g->n_nodes; i++) {
                        g->nodes[i] = ranked[i].node;
                        rank[ranked[i].old] = i;
                }
                for (size_t i = 0; i < g->n_edges; i++) {
                        g->edges[i].from = rank[g->edges[i].from];
                        g->edges[i].to = rank[g->edges[i].to];
                }
        }
        qsort(g->edges, g->n_edges, sizeof(GraphEdge), edge_cmp);
        /* The tables point at the old order. */
        (void) rehash(g, &g->node_index, &g->node_index_size, g->n_nodes, node_hash);
        (void) rehash(g, &g->edge_index, &g->edge_index_size, g->n_edges, edge_hash);
}

GraphStyle audit_graph_edge_style(const GraphEdge *e) {
        if (e->allow > 0)
                return e->deny > 0 ? GRAPH_MIXED : GRAPH_USED;
        return e->deny > 0 ? GRAPH_REFUSED : GRAPH_UNUSED;
}
