/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The declared graph (declared.h): the allow rules between two containers
 * that no deny rule takes back whole. */
#include <errno.h>
#include <string.h>

#include "policy/declared.h"
#include "policy/decide.h"
#include "policy/policy-internal.h"

/* The object pattern an edge shows for rule r's kind k. */
static const Glob *rule_object_glob(const PolicyRule *r, PolicyKind k) {
        switch (k) {
        case POLICY_KIND_IPC:
                return &r->endpoint;
        case POLICY_KIND_INVOKE:
        case POLICY_KIND_SIGNAL:
                return &r->app;
        case POLICY_KIND_TRANSFER:
                switch (r->transfer_name) {
                case POLICY_NAME_PID:
                        return &r->pid;
                case POLICY_NAME_SERVICE:
                        return &r->service;
                case POLICY_NAME_HOST:
                        return NULL;
                default:
                        return &r->path;
                }
        case POLICY_KIND_DEPEND:
                return glob_is_set(&r->service) ? &r->service : &r->path;
        default:
                return NULL;
        }
}

typedef struct DeclaredState {
        const Policy *p;
        const Request *q;
        PolicyKind kind;
        time_t now;
        PolicyDeclaredEdgeFn fn;
        void *userdata;
        int n;
        /* While looking for a deny that takes back one allow: */
        const PolicyRule *allow;
        bool taken;
} DeclaredState;

static bool pair_match(const PolicyRule *r, const Request *q) {
        return container_pattern_match(&r->from, q->has_from_group ? q->from_group : NULL, q->from_name) &&
               container_pattern_match(&r->to, q->has_to_group ? q->to_group : NULL, q->to_name);
}

/* A deny matching the pair beats every allow (decide.c): one that matches
 * every request of the kind the allow matches leaves it nothing. */
static void deny_candidate(const PolicyRule *d, void *userdata) {
        DeclaredState *s = userdata;

        if (s->taken || d->verdict != POLICY_DENY || rule_expired(d, s->now) || !pair_match(d, s->q))
                return;
        if (rule_kind_covers(d, s->allow, s->kind, _POLICY_NAME_INVALID))
                s->taken = true;
}

static void declared_candidate(const PolicyRule *r, void *userdata) {
        DeclaredState *s = userdata;
        const Glob *g;

        if (r->verdict != POLICY_ALLOW || rule_expired(r, s->now) || !pair_match(r, s->q))
                return;
        s->allow = r;
        s->taken = false;
        policy_for_each_candidate(s->p, s->kind, s->q->from_name, s->q->to_name, deny_candidate, s);
        s->allow = NULL;
        if (s->taken)
                return;

        g = rule_object_glob(r, s->kind);
        s->fn(&(PolicyDeclaredEdge){ .kind = s->kind,
                                     .object = g ? g->pattern : NULL,
                                     .rule_id = r->id,
                                     .rule_file = r->file,
                                     .rule_line = r->line },
              s->userdata);
        s->n++;
}

int policy_for_each_declared(const Policy *p, const char *from, const char *to, time_t now,
                             PolicyDeclaredEdgeFn fn, void *userdata) {
        DeclaredState s = { .p = p, .now = now, .fn = fn, .userdata = userdata };
        int r;

        if (!p || !fn)
                return -EINVAL;
        for (PolicyKind k = 0; k < _POLICY_KIND_MAX; k++) {
                PolicyRequest req = { .from = from, .to = to, .kind = k, .now = now };
                Request q;

                r = request_prepare(&req, &q);
                if (r < 0)
                        return r;
                s.q = &q;
                s.kind = k;
                policy_for_each_candidate(p, k, q.from_name, q.to_name, declared_candidate, &s);
        }
        return s.n;
}

static bool named(const ContainerPattern *c, PolicyNamedContainerFn fn, void *userdata) {
        if (!glob_is_literal(&c->name))
                return false;
        fn(c->has_group ? c->group.pattern : NULL, c->name.literal, userdata);
        return true;
}

int policy_for_each_named_container(const Policy *p, PolicyNamedContainerFn fn, void *userdata) {
        int n = 0;

        if (!p || !fn)
                return -EINVAL;
        for (size_t i = 0; i < p->n_rules; i++) {
                n += named(&p->rules[i]->from, fn, userdata);
                n += named(&p->rules[i]->to, fn, userdata);
        }
        return n;
}
