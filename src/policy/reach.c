/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reachability: the policy as a graph of "X can affect Y" hops between
 * containers (the hops each kind gives are in policy.h and
 * shuttle-policy(5)).  This file builds the graph; reach-search.c walks it.
 *
 * The graph is never materialised pair by pair: a rule '*' to '*' over a
 * few thousand containers is millions of edges.  Each node keeps the
 * rules it is on one side of ("slots"); a rule's other side is its node
 * set, computed once.  A breadth-first search expands a rule that no deny
 * rule can cut at most once per side, since its targets do not depend on
 * which of its sources reached it first: linear in nodes plus rule sides.
 * Paths to one target are enumerated shortest first (iterative
 * deepening), pruned by the distance to the target, with a bound on the
 * work. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/reach-internal.h"

static const char *const hop_names[_POLICY_HOP_MAX] = {
        [POLICY_HOP_IPC] = "ipc",
        [POLICY_HOP_IPC_REPLY] = "ipc-reply",
        [POLICY_HOP_INVOKE] = "invoke",
        [POLICY_HOP_INVOKE_REPLY] = "invoke-reply",
        [POLICY_HOP_TRANSFER] = "transfer",
        [POLICY_HOP_TRANSFER_RW] = "transfer-rw",
        [POLICY_HOP_DEPEND] = "depend",
        [POLICY_HOP_DEPEND_RW] = "depend-rw",
        [POLICY_HOP_SIGNAL] = "signal",
};

static const PolicyKind hop_kind[_POLICY_HOP_MAX] = {
        [POLICY_HOP_IPC] = POLICY_KIND_IPC,
        [POLICY_HOP_IPC_REPLY] = POLICY_KIND_IPC,
        [POLICY_HOP_INVOKE] = POLICY_KIND_INVOKE,
        [POLICY_HOP_INVOKE_REPLY] = POLICY_KIND_INVOKE,
        [POLICY_HOP_TRANSFER] = POLICY_KIND_TRANSFER,
        [POLICY_HOP_TRANSFER_RW] = POLICY_KIND_TRANSFER,
        [POLICY_HOP_DEPEND] = POLICY_KIND_DEPEND,
        [POLICY_HOP_DEPEND_RW] = POLICY_KIND_DEPEND,
        [POLICY_HOP_SIGNAL] = POLICY_KIND_SIGNAL,
};

const char *policy_hop_to_string(PolicyHop h) {
        return h >= 0 && h < _POLICY_HOP_MAX ? hop_names[h] : NULL;
}

PolicyHop policy_hop_from_string(const char *s) {
        for (PolicyHop h = 0; s && h < _POLICY_HOP_MAX; h++)
                if (streq(hop_names[h], s))
                        return h;
        return _POLICY_HOP_INVALID;
}

PolicyKind reach_hop_kind(PolicyHop h) {
        return hop_kind[h];
}

static int vec_push(U32Vec *a, uint32_t x) {
        if (a->n == a->allocated) {
                size_t m = a->allocated ? a->allocated * 2 : 4;
                uint32_t *v = realloc(a->v, m * sizeof(uint32_t));
                if (!v)
                        return -ENOMEM;
                a->v = v;
                a->allocated = m;
        }
        a->v[a->n++] = x;
        return 0;
}

/* ---- building ------------------------------------------------------------ */

static bool name_part_ok(const char *s, size_t n) {
        if (n < 1 || n > 63 || !strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", s[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-", s[i]) || !s[i])
                        return false;
        return true;
}

bool policy_container_name_is_valid(const char *s) {
        const char *slash = strchr(s, '/');

        if (!slash)
                return name_part_ok(s, strlen(s));
        return name_part_ok(s, (size_t) (slash - s)) && name_part_ok(slash + 1, strlen(slash + 1));
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The literal container a pattern names, or NULL. */
static char *pattern_literal(const ContainerPattern *c) {
        char *s = NULL;

        if (!glob_is_literal(&c->name) || (c->has_group && !glob_is_literal(&c->group)))
                return NULL;
        if (c->has_group)
                return asprintf(&s, "%s/%s", c->group.literal, c->name.literal) < 0 ? NULL : s;
        return strdup(c->name.literal);
}

static int cmp_bare(const void *a, const void *b, void *userdata) {
        const Node *n = userdata;
        int c = strcmp(n[*(const uint32_t *) a].bare, n[*(const uint32_t *) b].bare);
        return c ?: (int) (*(const uint32_t *) a) - (int) (*(const uint32_t *) b);
}

static int build_nodes(PolicyReach *g, const char *const *names, size_t n_names) {
        _cleanup_free_ char **all = NULL;
        size_t n = 0, m = 2 * g->policy->n_rules + n_names;
        int r = 0;

        all = calloc(m ? m : 1, sizeof(char *));
        if (!all)
                return -ENOMEM;
        for (size_t i = 0; i < g->policy->n_rules; i++) {
                const PolicyRule *rule = g->policy->rules[i];
                char *a = pattern_literal(&rule->from), *b = pattern_literal(&rule->to);
                if (a)
                        all[n++] = a;
                if (b)
                        all[n++] = b;
        }
        for (size_t i = 0; i < n_names; i++) {
                if (!policy_container_name_is_valid(names[i])) {
                        r = -EINVAL;
                        goto out;
                }
                if (!(all[n] = strdup(names[i]))) {
                        r = -ENOMEM;
                        goto out;
                }
                n++;
        }
        qsort(all, n, sizeof(char *), cmp_str);
        g->nodes = calloc(n ? n : 1, sizeof(Node));
        g->by_bare = calloc(n ? n : 1, sizeof(uint32_t));
        if (!g->nodes || !g->by_bare) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                Node *node;
                const char *slash;

                if (g->n_nodes > 0 && streq(g->nodes[g->n_nodes - 1].name, all[i]))
                        continue;
                node = &g->nodes[g->n_nodes];
                node->name = TAKE_PTR(all[i]);
                slash = strchr(node->name, '/');
                if (slash) {
                        node->group = strndup(node->name, (size_t) (slash - node->name));
                        if (!node->group) {
                                free(node->name);
                                r = -ENOMEM;
                                goto out;
                        }
                        node->bare = slash + 1;
                } else
                        node->bare = node->name;
                g->by_bare[g->n_nodes] = (uint32_t) g->n_nodes;
                g->n_nodes++;
        }
        qsort_r(g->by_bare, g->n_nodes, sizeof(uint32_t), cmp_bare, g->nodes);
out:
        for (size_t i = 0; i < n; i++)
                free(all[i]);
        return r;
}

/* Nodes a pattern matches, in node order... or by bare name for a literal
 * name part (looked up, not scanned). */
static int match_nodes(const PolicyReach *g, const ContainerPattern *c, U32Vec *ret) {
        if (glob_is_literal(&c->name)) {
                const char *want = c->name.literal;
                size_t lo = 0, hi = g->n_nodes;

                while (lo < hi) {
                        size_t mid = (lo + hi) / 2;
                        if (strcmp(g->nodes[g->by_bare[mid]].bare, want) < 0)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                for (; lo < g->n_nodes && streq(g->nodes[g->by_bare[lo]].bare, want); lo++) {
                        const Node *n = &g->nodes[g->by_bare[lo]];
                        if (container_pattern_match(c, n->group, n->bare) && vec_push(ret, g->by_bare[lo]) < 0)
                                return -ENOMEM;
                }
                return 0;
        }
        for (size_t i = 0; i < g->n_nodes; i++)
                if (container_pattern_match(c, g->nodes[i].group, g->nodes[i].bare) && vec_push(ret, (uint32_t) i) < 0)
                        return -ENOMEM;
        return 0;
}

/* The hops an allow rule gives, from -> to and to -> from. */
static void rule_hops(const PolicyRule *r, unsigned *ret_fwd, unsigned *ret_rev) {
        unsigned fwd = 0, rev = 0;

        if (r->kinds & KIND_BIT(POLICY_KIND_IPC)) {
                bool fifo = r->ipc_type == POLICY_IPC_FIFO;
                if (!fifo || r->ipc_mode != POLICY_MODE_RO)
                        fwd |= HOP_BIT(POLICY_HOP_IPC);
                if (!fifo || r->ipc_mode != POLICY_MODE_WO)
                        rev |= HOP_BIT(POLICY_HOP_IPC_REPLY);
        }
        if (r->kinds & KIND_BIT(POLICY_KIND_INVOKE)) {
                fwd |= HOP_BIT(POLICY_HOP_INVOKE);
                rev |= HOP_BIT(POLICY_HOP_INVOKE_REPLY);
        }
        if ((r->kinds & KIND_BIT(POLICY_KIND_TRANSFER)) &&
            (r->transfer_name == POLICY_NAME_PATH || r->transfer_name == _POLICY_NAME_INVALID)) {
                fwd |= HOP_BIT(POLICY_HOP_TRANSFER);
                if (r->mode == POLICY_MODE_RW)
                        rev |= HOP_BIT(POLICY_HOP_TRANSFER_RW);
        }
        if ((r->kinds & KIND_BIT(POLICY_KIND_DEPEND)) && !glob_is_set(&r->service)) {
                rev |= HOP_BIT(POLICY_HOP_DEPEND);
                if (r->mode == POLICY_MODE_RW)
                        fwd |= HOP_BIT(POLICY_HOP_DEPEND_RW);
        }
        if (r->kinds & KIND_BIT(POLICY_KIND_SIGNAL))
                fwd |= HOP_BIT(POLICY_HOP_SIGNAL);
        *ret_fwd = fwd;
        *ret_rev = rev;
}

/* Whether deny d refuses everything allow a grants of kind k (between the
 * containers both match) that gives a hop: the one answer of cover.c,
 * narrowed for transfer and depend to the paths and trees their hops are
 * made of.  "No" when in doubt, so a hop is kept rather than lost. */
static bool rule_covers(const PolicyRule *d, const PolicyRule *a, PolicyKind k) {
        bool paths = k == POLICY_KIND_TRANSFER || k == POLICY_KIND_DEPEND;

        return rule_kind_covers(d, a, k, paths ? POLICY_NAME_PATH : _POLICY_NAME_INVALID);
}

static bool side_hit(const PolicyReach *g, const ContainerPattern *c, const U32Vec *side) {
        for (size_t i = 0; i < side->n; i++)
                if (container_pattern_match(c, g->nodes[side->v[i]].group, g->nodes[side->v[i]].bare))
                        return true;
        return false;
}

/* The live deny rules, and for each node the ones whose from matches it:
 * an allow rule is only checked against the denies of its own callers. */
typedef struct Denies {
        const PolicyRule **rules;
        size_t n;
        U32Vec *by_node;
        uint32_t *stamp;        /* per deny: the edge that last looked at it */
} Denies;

static void denies_done(Denies *d, size_t n_nodes) {
        for (size_t i = 0; d->by_node && i < n_nodes; i++)
                free(d->by_node[i].v);
        free(d->by_node);
        free(d->rules);
        free(d->stamp);
}

static int denies_build(const PolicyReach *g, Denies *d) {
        const Policy *p = g->policy;

        d->rules = calloc(p->n_rules + 1, sizeof(PolicyRule *));
        d->stamp = calloc(p->n_rules + 1, sizeof(uint32_t));
        d->by_node = calloc(g->n_nodes + 1, sizeof(U32Vec));
        if (!d->rules || !d->stamp || !d->by_node)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_rules; i++) {
                U32Vec nodes = {};

                if (p->rules[i]->verdict != POLICY_DENY || rule_expired(p->rules[i], g->now) || p->rules[i]->shadow)
                        continue;
                if (match_nodes(g, &p->rules[i]->from, &nodes) < 0)
                        return -ENOMEM;
                for (size_t j = 0; j < nodes.n; j++)
                        if (vec_push(&d->by_node[nodes.v[j]], (uint32_t) d->n) < 0) {
                                free(nodes.v);
                                return -ENOMEM;
                        }
                free(nodes.v);
                d->rules[d->n++] = p->rules[i];
        }
        return 0;
}

static int edge_add(PolicyReach *g, const PolicyRule *r, Denies *denies) {
        unsigned fwd, rev, kinds = 0;
        uint32_t id;
        Edge *e;
        int k;

        rule_hops(r, &fwd, &rev);
        if (!fwd && !rev)
                return 0;
        e = &g->edges[g->n_edges];
        *e = (Edge){ .rule = r, .fwd = fwd, .rev = rev };
        id = (uint32_t) ++g->n_edges;
        if ((k = match_nodes(g, &r->from, &e->side[0])) < 0 || (k = match_nodes(g, &r->to, &e->side[1])) < 0)
                return k;

        for (PolicyHop h = 0; h < _POLICY_HOP_MAX; h++)
                if ((fwd | rev) & HOP_BIT(h))
                        kinds |= KIND_BIT(hop_kind[h]);
        for (size_t i = 0; i < e->side[0].n; i++) {
                const U32Vec *dl = &denies->by_node[e->side[0].v[i]];

                for (size_t j = 0; j < dl->n; j++) {
                        const PolicyRule *d = denies->rules[dl->v[j]];
                        unsigned covered = 0;

                        if (denies->stamp[dl->v[j]] == id)
                                continue;
                        denies->stamp[dl->v[j]] = id;
                        if (!(d->kinds & kinds))
                                continue;
                        for (PolicyKind kk = 0; kk < _POLICY_KIND_MAX; kk++)
                                if ((d->kinds & kinds & KIND_BIT(kk)) && rule_covers(d, r, kk))
                                        covered |= KIND_BIT(kk);
                        /* It must match some target of the rule too. */
                        if (!covered || !side_hit(g, &d->to, &e->side[1]))
                                continue;
                        Cut *n = realloc(e->cuts, (e->n_cuts + 1) * sizeof(Cut));
                        if (!n)
                                return -ENOMEM;
                        e->cuts = n;
                        e->cuts[e->n_cuts++] = (Cut){ .rule = d, .kinds = covered };
                }
        }
        for (int s = 0; s < 2; s++)
                for (size_t i = 0; i < e->side[s].n; i++)
                        if (vec_push(&g->slots[e->side[s].v[i]], (uint32_t) ((g->n_edges - 1) << 1 | (unsigned) s)) < 0)
                                return -ENOMEM;
        return 0;
}

static PolicyRule *default_rule_new(void) {
        PolicyRule *r = calloc(1, sizeof(PolicyRule));
        const char *error;

        if (!r)
                return NULL;
        r->id = strdup("default");
        r->verdict = POLICY_ALLOW;
        r->kinds = ALL_KINDS;
        r->mode = POLICY_MODE_RW;
        r->transfer_name = _POLICY_NAME_INVALID;
        r->index = SIZE_MAX;
        if (!r->id || container_pattern_compile("*", &r->from, &error) < 0 ||
            container_pattern_compile("*", &r->to, &error) < 0)
                return policy_rule_free(r);
        return r;
}

int policy_reach_new(Policy *p, const char *const *names, size_t n_names, time_t now, unsigned hops,
                     PolicyReach **ret) {
        Denies denies = {};
        PolicyReach *g;
        int r;

        if (!p || !ret || (n_names && !names))
                return -EINVAL;
        g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->policy = policy_ref(p);
        g->now = now;
        r = build_nodes(g, names, n_names);
        if (r < 0)
                goto fail;
        g->slots = calloc(g->n_nodes ? g->n_nodes : 1, sizeof(U32Vec));
        g->edges = calloc(p->n_rules + 1, sizeof(Edge));
        if (!g->slots || !g->edges) {
                r = -ENOMEM;
                goto fail;
        }
        r = denies_build(g, &denies);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < p->n_rules; i++) {
                const PolicyRule *rule = p->rules[i];

                if (rule->verdict != POLICY_ALLOW || rule_expired(rule, now) || rule->shadow)
                        continue;
                r = edge_add(g, rule, &denies);
                if (r < 0)
                        goto fail;
        }
        if (p->default_verdict == POLICY_ALLOW) {
                g->default_rule = default_rule_new();
                if (!g->default_rule) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = edge_add(g, g->default_rule, &denies);
                if (r < 0)
                        goto fail;
        }
        if (hops)
                for (size_t i = 0; i < g->n_edges; i++) {
                        g->edges[i].fwd &= hops;
                        g->edges[i].rev &= hops;
                }
        denies_done(&denies, g->n_nodes);
        *ret = g;
        return 0;
fail:
        denies_done(&denies, g->n_nodes);
        policy_reach_free(g);
        return r;
}

PolicyReach *policy_reach_free(PolicyReach *g) {
        if (!g)
                return NULL;
        for (size_t i = 0; i < g->n_nodes; i++) {
                free(g->nodes[i].name);
                free(g->nodes[i].group);
                if (g->slots)
                        free(g->slots[i].v);
        }
        for (size_t i = 0; g->edges && i < g->n_edges; i++) {
                free(g->edges[i].side[0].v);
                free(g->edges[i].side[1].v);
                free(g->edges[i].cuts);
        }
        free(g->nodes);
        free(g->by_bare);
        free(g->slots);
        free(g->edges);
        policy_rule_free(g->default_rule);
        policy_unref(g->policy);
        free(g);
        return NULL;
}
