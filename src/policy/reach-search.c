/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reachability: walking the graph reach.c builds.  Everything one
 * container reaches is a breadth-first search; the paths to one are
 * enumerated shortest first by iterative deepening, pruned by each node's
 * distance to the target (a search backwards from it), with a bound on
 * the work and on the depth (the walk recurses once per hop). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/reach-internal.h"

/* Expansions a path enumeration may make before it says "truncated". */
#define REACH_WORK_MAX 2000000u

/* ---- hops ---------------------------------------------------------------- */

static int node_find(const PolicyReach *g, const char *name) {
        size_t lo = 0, hi = g->n_nodes;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = strcmp(g->nodes[mid].name, name);
                if (c == 0)
                        return (int) mid;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -ENOENT;
}

/* The hops of mask that no cut of e refuses for the request pair
 * (req_from, req_to): those are the rule's from and to sides. */
static unsigned hops_left(const PolicyReach *g, const Edge *e, unsigned mask, uint32_t req_from, uint32_t req_to) {
        const Node *f = &g->nodes[req_from], *t = &g->nodes[req_to];

        for (size_t i = 0; mask && i < e->n_cuts; i++) {
                const Cut *c = &e->cuts[i];

                if (!container_pattern_match(&c->rule->from, f->group, f->bare) ||
                    !container_pattern_match(&c->rule->to, t->group, t->bare))
                        continue;
                for (PolicyHop h = 0; h < _POLICY_HOP_MAX; h++)
                        if ((mask & HOP_BIT(h)) && (c->kinds & KIND_BIT(reach_hop_kind(h))))
                                mask &= ~HOP_BIT(h);
        }
        return mask;
}

/* Hops of edge slot (node x on side s) towards y, on y's side 1-s.
 * Forward (s = 0): x is the rule's from; backward (s = 1): its to. */
static unsigned slot_hops(const PolicyReach *g, const Edge *e, int s, uint32_t x, uint32_t y) {
        unsigned mask = s == 0 ? e->fwd : e->rev;

        if (!mask || x == y)
                return 0;
        return e->n_cuts == 0 ? mask : s == 0 ? hops_left(g, e, mask, x, y) : hops_left(g, e, mask, y, x);
}

static bool node_on(const PolicyReach *g, const Edge *e, int side, uint32_t y) {
        const ContainerPattern *c = side == 0 ? &e->rule->from : &e->rule->to;
        return container_pattern_match(c, g->nodes[y].group, g->nodes[y].bare);
}

static int cmp_via(const void *a, const void *b) {
        const PolicyReachVia *x = a, *y = b;
        if (x->hop != y->hop)
                return x->hop < y->hop ? -1 : 1;
        if (!x->rule_file != !y->rule_file)
                return x->rule_file ? -1 : 1;
        return 0;
}

/* Every hop from x to y, as a step. */
static int step_fill(const PolicyReach *g, uint32_t x, uint32_t y, PolicyReachStep *ret) {
        const U32Vec *sl = &g->slots[x];
        PolicyReachStep st = { .from = g->nodes[x].name, .to = g->nodes[y].name };

        for (size_t i = 0; i < sl->n; i++) {
                const Edge *e = &g->edges[sl->v[i] >> 1];
                int s = (int) (sl->v[i] & 1);
                unsigned mask;

                if (!node_on(g, e, 1 - s, y) || !(mask = slot_hops(g, e, s, x, y)))
                        continue;
                for (PolicyHop h = 0; h < _POLICY_HOP_MAX; h++) {
                        PolicyReachVia *n;

                        if (!(mask & HOP_BIT(h)))
                                continue;
                        n = realloc(st.via, (st.n_via + 1) * sizeof(PolicyReachVia));
                        if (!n) {
                                free(st.via);
                                return -ENOMEM;
                        }
                        st.via = n;
                        st.via[st.n_via++] = (PolicyReachVia){
                                .hop = h,
                                .rule_id = e->rule->id,
                                .rule_file = e->rule->file,
                                .rule_line = e->rule->line,
                        };
                }
        }
        /* Slots are in rule order already: a stable sort by hop keeps it. */
        for (size_t i = 1; i < st.n_via; i++)
                for (size_t j = i; j > 0 && cmp_via(&st.via[j - 1], &st.via[j]) > 0; j--) {
                        PolicyReachVia t = st.via[j];
                        st.via[j] = st.via[j - 1];
                        st.via[j - 1] = t;
                }
        *ret = st;
        return 0;
}

static int path_new(const PolicyReach *g, const uint32_t *nodes, size_t n, PolicyReachResult *res) {
        PolicyReachPath *paths = realloc(res->paths, (res->n_paths + 1) * sizeof(PolicyReachPath));
        PolicyReachPath *p;
        int r;

        if (!paths)
                return -ENOMEM;
        res->paths = paths;
        p = &paths[res->n_paths];
        *p = (PolicyReachPath){ .to = g->nodes[nodes[n - 1]].name };
        p->steps = calloc(n - 1, sizeof(PolicyReachStep));
        if (!p->steps)
                return -ENOMEM;
        res->n_paths++;
        for (size_t i = 0; i + 1 < n; i++) {
                r = step_fill(g, nodes[i], nodes[i + 1], &p->steps[i]);
                if (r < 0)
                        return r;
                p->n_steps++;
        }
        return 0;
}

void policy_reach_result_clear(PolicyReachResult *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n_paths; i++) {
                for (size_t j = 0; j < r->paths[i].n_steps; j++)
                        free(r->paths[i].steps[j].via);
                free(r->paths[i].steps);
        }
        free(r->paths);
        *r = (PolicyReachResult){};
}

/* ---- searching ----------------------------------------------------------- */

#define UNSEEN UINT32_MAX

/* Breadth-first from src, forward (or, reverse, along hops into a node),
 * at most max_hops deep (0: no bound); dist[] and (if parent) parent[]
 * filled, UNSEEN for the rest. */
static int bfs(PolicyReach *g, uint32_t src, bool reverse, unsigned max_hops, uint32_t *dist, uint32_t *parent) {
        _cleanup_free_ uint32_t *queue = malloc((g->n_nodes ? g->n_nodes : 1) * sizeof(uint32_t));
        size_t head = 0, tail = 0;

        if (!queue)
                return -ENOMEM;
        for (size_t i = 0; i < g->n_nodes; i++) {
                dist[i] = UNSEEN;
                if (parent)
                        parent[i] = UNSEEN;
        }
        for (size_t i = 0; i < g->n_edges; i++)
                g->edges[i].expanded[0] = g->edges[i].expanded[1] = false;
        dist[src] = 0;
        queue[tail++] = src;
        while (head < tail) {
                uint32_t x = queue[head++];
                const U32Vec *sl = &g->slots[x];

                if (max_hops && dist[x] >= max_hops)
                        continue;
                for (size_t i = 0; i < sl->n; i++) {
                        Edge *e = &g->edges[sl->v[i] >> 1];
                        int s = (int) (sl->v[i] & 1);
                        /* Forward from x on side s: hops s==0 ? fwd : rev,
                         * to the other side.  Reverse: hops into x come
                         * from the other side with the other direction's
                         * mask. */
                        int hs = reverse ? 1 - s : s;
                        unsigned mask = hs == 0 ? e->fwd : e->rev;
                        const U32Vec *other = &e->side[1 - s];

                        if (!mask || (e->n_cuts == 0 && e->expanded[s]))
                                continue;
                        if (e->n_cuts == 0)
                                e->expanded[s] = true;
                        for (size_t j = 0; j < other->n; j++) {
                                uint32_t y = other->v[j];

                                if (dist[y] != UNSEEN)
                                        continue;
                                /* The hop is y -> x when reverse: y on side 1-s is
                                 * the hop's start (side hs' = 1-s, i.e. slot of y). */
                                if (e->n_cuts > 0 &&
                                    !(reverse ? slot_hops(g, e, 1 - s, y, x) : slot_hops(g, e, s, x, y)))
                                        continue;
                                dist[y] = dist[x] + 1;
                                if (parent)
                                        parent[y] = x;
                                queue[tail++] = y;
                        }
                }
        }
        return 0;
}

typedef struct ReachCmp {
        const PolicyReach *g;
        const uint32_t *dist;
} ReachCmp;

static int cmp_reached(const void *a, const void *b, void *userdata) {
        const ReachCmp *c = userdata;
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
        if (c->dist[x] != c->dist[y])
                return c->dist[x] < c->dist[y] ? -1 : 1;
        return strcmp(c->g->nodes[x].name, c->g->nodes[y].name);
}

int policy_reach_from(PolicyReach *g, const char *from, unsigned max_hops, PolicyReachResult *ret) {
        _cleanup_free_ uint32_t *dist = NULL, *parent = NULL, *order = NULL, *chain = NULL;
        PolicyReachResult res = { .n_containers = g ? g->n_nodes : 0 };
        size_t n = 0;
        int src, r;

        if (!g || !from || !ret)
                return -EINVAL;
        src = node_find(g, from);
        if (src < 0)
                return src;
        dist = malloc(g->n_nodes * sizeof(uint32_t));
        parent = malloc(g->n_nodes * sizeof(uint32_t));
        order = malloc(g->n_nodes * sizeof(uint32_t));
        chain = malloc((g->n_nodes + 1) * sizeof(uint32_t));
        if (!dist || !parent || !order || !chain)
                return -ENOMEM;
        r = bfs(g, (uint32_t) src, false, max_hops, dist, parent);
        if (r < 0)
                return r;
        for (size_t i = 0; i < g->n_nodes; i++)
                if (dist[i] != UNSEEN && dist[i] > 0)
                        order[n++] = (uint32_t) i;
        qsort_r(order, n, sizeof(uint32_t), cmp_reached, &(ReachCmp){ g, dist });
        for (size_t i = 0; i < n; i++) {
                size_t len = dist[order[i]] + 1;

                for (uint32_t x = order[i], k = (uint32_t) len; k > 0; x = parent[x])
                        chain[--k] = x;
                r = path_new(g, chain, len, &res);
                if (r < 0) {
                        policy_reach_result_clear(&res);
                        return r;
                }
        }
        *ret = res;
        return 0;
}

typedef struct Walk {
        PolicyReach *g;
        uint32_t target;
        const uint32_t *to_dist;   /* hops from each node to target */
        uint8_t *on_path;
        uint32_t *path;
        unsigned length;           /* the length this round enumerates */
        size_t max_paths;
        size_t work;
        uint32_t *stamp;
        uint32_t next_stamp;
        PolicyReachResult *res;
        bool stop;
} Walk;

static int walk(Walk *w, uint32_t x, unsigned depth) {
        PolicyReach *g = w->g;
        const U32Vec *sl = &g->slots[x];
        _cleanup_free_ uint32_t *next = NULL;
        size_t n_next = 0, allocated = 0;
        uint32_t stamp;
        int r;

        if (x == w->target) {
                if (depth != w->length)
                        return 0;
                if (w->res->n_paths >= w->max_paths) {
                        w->res->truncated = true;
                        w->stop = true;
                        return 0;
                }
                return path_new(g, w->path, depth + 1, w->res);
        }
        if (++w->work > REACH_WORK_MAX) {
                w->res->truncated = true;
                w->stop = true;
                return 0;
        }
        /* Successors once each (several rules may lead to one). */
        stamp = ++w->next_stamp;
        for (size_t i = 0; i < sl->n; i++) {
                const Edge *e = &g->edges[sl->v[i] >> 1];
                int s = (int) (sl->v[i] & 1);
                const U32Vec *other = &e->side[1 - s];

                if (!(s == 0 ? e->fwd : e->rev))
                        continue;
                for (size_t j = 0; j < other->n; j++) {
                        uint32_t y = other->v[j];

                        if (w->on_path[y] || w->stamp[y] == stamp || w->to_dist[y] == UNSEEN ||
                            depth + 1 + w->to_dist[y] > w->length || !slot_hops(g, e, s, x, y))
                                continue;
                        w->stamp[y] = stamp;
                        if (n_next == allocated) {
                                size_t m = allocated ? allocated * 2 : 8;
                                uint32_t *t = realloc(next, m * sizeof(uint32_t));
                                if (!t)
                                        return -ENOMEM;
                                next = t;
                                allocated = m;
                        }
                        next[n_next++] = y;
                }
        }
        /* In name order, so the output is stable. */
        for (size_t i = 1; i < n_next; i++)
                for (size_t j = i; j > 0 && next[j - 1] > next[j]; j--) {
                        uint32_t t = next[j];
                        next[j] = next[j - 1];
                        next[j - 1] = t;
                }
        for (size_t i = 0; i < n_next && !w->stop; i++) {
                uint32_t y = next[i];

                w->on_path[y] = 1;
                w->path[depth + 1] = y;
                r = walk(w, y, depth + 1);
                w->on_path[y] = 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

int policy_reach_paths(PolicyReach *g, const char *from, const char *to, unsigned max_hops, size_t max_paths,
                       PolicyReachResult *ret) {
        _cleanup_free_ uint32_t *to_dist = NULL, *path = NULL, *stamp = NULL;
        _cleanup_free_ uint8_t *on_path = NULL;
        PolicyReachResult res = { .n_containers = g ? g->n_nodes : 0 };
        int src, dst, r = 0;

        if (!g || !from || !to || !ret || max_hops < 1)
                return -EINVAL;
        /* The walk recurses once per hop. */
        max_hops = MIN(max_hops, POLICY_REACH_PATH_HOPS_MAX);
        src = node_find(g, from);
        if (src < 0)
                return src;
        dst = node_find(g, to);
        if (dst < 0)
                return dst;
        to_dist = malloc(g->n_nodes * sizeof(uint32_t));
        path = malloc((max_hops + 1) * sizeof(uint32_t));
        stamp = calloc(g->n_nodes, sizeof(uint32_t));
        on_path = calloc(g->n_nodes, 1);
        if (!to_dist || !path || !stamp || !on_path)
                return -ENOMEM;
        r = bfs(g, (uint32_t) dst, true, max_hops, to_dist, NULL);
        if (r < 0)
                return r;
        if (src != dst && to_dist[src] != UNSEEN) {
                Walk w = {
                        .g = g, .target = (uint32_t) dst, .to_dist = to_dist, .on_path = on_path, .path = path,
                        .max_paths = max_paths, .stamp = stamp, .res = &res,
                };

                on_path[src] = 1;
                path[0] = (uint32_t) src;
                for (w.length = to_dist[src]; w.length <= max_hops && !w.stop && r >= 0; w.length++)
                        r = walk(&w, (uint32_t) src, 0);
                if (r < 0) {
                        policy_reach_result_clear(&res);
                        return r;
                }
        }
        *ret = res;
        return 0;
}
