/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The group as a graph: depends_on names resolved, cycles found and
 * printed, the start order (dependencies first, ties in file order), and
 * the warning for a dependency the group's policy never lets through. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/group-internal.h"

static int resolve_depends_on(GroupContext *c) {
        Group *g = c->group;

        for (size_t i = 0; i < g->n_containers; i++) {
                GroupContainer *gc = &g->containers[i];

                gc->depends_on_index = calloc(MAX(gc->n_depends_on, (size_t) 1), sizeof(size_t));
                if (!gc->depends_on_index)
                        return (c->oom = -ENOMEM);
                for (size_t j = 0; j < gc->n_depends_on; j++) {
                        ssize_t k = group_find_container(g, gc->depends_on[j]);
                        if (k < 0)
                                group_error(c, c->dep_nodes[i][j], "'depends_on': no container named '%s' in this group",
                                            gc->depends_on[j]);
                        gc->depends_on_index[j] = k < 0 ? SIZE_MAX : (size_t) k;
                }
        }
        return 0;
}

/* Reports the cycle path[from..n) (each depends on the next, the last on
 * path[from]), starting at the member that comes first in the file. */
static void report_cycle(GroupContext *c, const size_t *path, size_t from, size_t n) {
        const Group *g = c->group;
        _cleanup_free_ char *text = NULL;
        size_t len = 0, first = from;
        FILE *f;

        for (size_t k = from; k < n; k++)
                if (path[k] < path[first])
                        first = k;
        f = open_memstream(&text, &len);
        if (!f) {
                c->oom = -ENOMEM;
                return;
        }
        for (size_t k = 0; k <= n - from; k++)
                fprintf(f, "%s%s", k ? " -> " : "", g->containers[path[from + (first - from + k) % (n - from)]].name);
        if (fclose(f) != 0 || !text) {
                c->oom = -ENOMEM;
                return;
        }
        const GroupContainer *gc = &g->containers[path[first]];
        YNode at = { .line = gc->line, .column = gc->column };
        group_error(c, &at, "dependency cycle: %s", text);
}

/* Every container still pending depends on at least one other pending one,
 * so walking "first pending dependency" from any of them must close a loop.
 * Each loop is reported once; containers that merely lead into a reported
 * loop are not reported again. */
static void report_cycles(GroupContext *c, const bool *placed) {
        const Group *g = c->group;
        size_t n = g->n_containers, depth;
        _cleanup_free_ size_t *path = calloc(n + 1, sizeof(size_t));
        _cleanup_free_ size_t *pos = calloc(n, sizeof(size_t));  /* index in path + 1; 0 = not on it */
        _cleanup_free_ bool *done = calloc(n, sizeof(bool));

        if (!path || !pos || !done) {
                c->oom = -ENOMEM;
                return;
        }
        for (size_t start = 0; start < n && !c->oom; start++) {
                size_t x = start;

                if (placed[start] || done[start])
                        continue;
                depth = 0;
                for (;;) {
                        const GroupContainer *gc = &g->containers[x];
                        size_t next = SIZE_MAX;

                        path[depth++] = x;
                        pos[x] = depth;
                        for (size_t j = 0; j < gc->n_depends_on && next == SIZE_MAX; j++) {
                                size_t d = gc->depends_on_index[j];
                                if (d != SIZE_MAX && !placed[d])
                                        next = d;
                        }
                        if (next == SIZE_MAX || done[next])
                                break;  /* cannot happen / leads into a reported loop */
                        if (pos[next]) {
                                report_cycle(c, path, pos[next] - 1, depth);
                                break;
                        }
                        x = next;
                }
                for (size_t k = 0; k < depth; k++) {
                        done[path[k]] = true;
                        pos[path[k]] = 0;
                }
        }
}

int group_check_graph(GroupContext *c) {
        Group *g = c->group;
        size_t n = g->n_containers, n_placed = 0;
        _cleanup_free_ size_t *pending = NULL, *order = NULL;
        _cleanup_free_ bool *placed = NULL;

        if (n == 0)
                return 0;
        if (resolve_depends_on(c) < 0)
                return c->oom;

        pending = calloc(n, sizeof(size_t));
        order = calloc(n, sizeof(size_t));
        placed = calloc(n, sizeof(bool));
        if (!pending || !order || !placed)
                return (c->oom = -ENOMEM);
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < g->containers[i].n_depends_on; j++)
                        if (g->containers[i].depends_on_index[j] != SIZE_MAX)
                                pending[i]++;  /* depends_on has no duplicates */

        /* Kahn's algorithm, always taking the first ready container in file
         * order, so unrelated containers start in the order they are written. */
        while (n_placed < n) {
                size_t next = SIZE_MAX;

                for (size_t i = 0; i < n && next == SIZE_MAX; i++)
                        if (!placed[i] && pending[i] == 0)
                                next = i;
                if (next == SIZE_MAX)
                        break;
                placed[next] = true;
                order[n_placed++] = next;
                for (size_t i = 0; i < n; i++)
                        for (size_t j = 0; j < g->containers[i].n_depends_on; j++)
                                if (g->containers[i].depends_on_index[j] == next)
                                        pending[i]--;
        }
        if (n_placed < n) {
                report_cycles(c, placed);
                return c->oom ?: -EINVAL;
        }
        g->start_order = TAKE_PTR(order);
        return 0;
}

int group_check_policy(GroupContext *c) {
        const Group *g = c->group;
        time_t now = time(NULL);

        if (!g->policy)
                return 0;
        for (size_t i = 0; i < g->n_containers; i++) {
                const GroupContainer *a = &g->containers[i];
                _cleanup_free_ char *from = NULL;

                if (a->n_depends_on == 0)
                        continue;
                if ((g->name ? asprintf(&from, "%s/%s", g->name, a->name) : asprintf(&from, "%s", a->name)) < 0)
                        return (c->oom = -ENOMEM);
                for (size_t j = 0; j < a->n_depends_on && a->depends_on_index; j++) {
                        const GroupContainer *b;
                        _cleanup_free_ char *to = NULL, *list = NULL;
                        size_t len = 0;
                        bool allowed = false;
                        FILE *f;

                        if (a->depends_on_index[j] == SIZE_MAX)
                                continue;
                        b = &g->containers[a->depends_on_index[j]];
                        if (b->config.n_exports == 0)
                                continue;
                        if ((g->name ? asprintf(&to, "%s/%s", g->name, b->name) : asprintf(&to, "%s", b->name)) < 0)
                                return (c->oom = -ENOMEM);
                        /* One allowed service is enough: the policy may mean
                         * exactly that one. */
                        for (size_t k = 0; k < b->config.n_exports && !allowed; k++) {
                                const ContainerExport *e = &b->config.exports[k];
                                PolicyRequest req = {
                                        .from = from,
                                        .to = to,
                                        .kind = POLICY_KIND_IPC,
                                        .object = e->name,
                                        .ipc_type = e->socket ? POLICY_IPC_UNIX
                                                    : e->mq   ? POLICY_IPC_MQ
                                                    : e->shm_size ? POLICY_IPC_SHM
                                                    : e->fifo     ? POLICY_IPC_FIFO
                                                                  : POLICY_IPC_TCP,
                                        .now = now,
                                };
                                PolicyDecision d;

                                if (policy_decide(g->policy, &req, &d) >= 0 && d.verdict == POLICY_ALLOW)
                                        allowed = true;
                        }
                        if (allowed)
                                continue;
                        f = open_memstream(&list, &len);
                        if (!f)
                                return (c->oom = -ENOMEM);
                        for (size_t k = 0; k < b->config.n_exports; k++)
                                fprintf(f, "%s%s", k ? ", " : "", b->config.exports[k].name);
                        if (fclose(f) != 0 || !list)
                                return (c->oom = -ENOMEM);
                        group_warning(c, c->dep_nodes[i][j],
                                      "'%s' depends on '%s' but the policy allows it none of %s's services (%s)",
                                      a->name, b->name, b->name, list);
                }
        }
        return c->oom;
}
