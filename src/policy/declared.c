/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The declared graph (declared.h): the allow rules between two containers
 * that no deny rule takes back whole. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "policy/declared.h"
#include "policy/decide.h"
#include "policy/policy-internal.h"

/* What stands for all of a glob: the literal itself, or the pattern,
 * which its own '*' and '?' match. */
static const char *stand_in(const Glob *g) {
        if (!glob_is_set(g))
                return NULL;
        return glob_is_literal(g) ? g->literal : g->pattern;
}

static const Glob *rule_object_glob(const PolicyRule *r, PolicyKind k, PolicyName *ret_name) {
        *ret_name = POLICY_NAME_PATH;
        switch (k) {
        case POLICY_KIND_IPC:
                return &r->endpoint;
        case POLICY_KIND_INVOKE:
        case POLICY_KIND_SIGNAL:
                return &r->app;
        case POLICY_KIND_TRANSFER:
                *ret_name = r->transfer_name >= 0 ? r->transfer_name : POLICY_NAME_PATH;
                switch (*ret_name) {
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

static int first_signal(uint64_t mask) {
        for (int s = 1; s <= 64; s++)
                if (mask & (UINT64_C(1) << (s - 1)))
                        return s;
        return SIGTERM;
}

typedef struct DeclaredState {
        const Policy *p;
        const Request *q;
        PolicyKind kind;
        time_t now;
        PolicyDeclaredEdgeFn fn;
        void *userdata;
        int n;
} DeclaredState;

static void declared_candidate(const PolicyRule *r, void *userdata) {
        DeclaredState *s = userdata;
        const char *args[r->n_args > 0 ? r->n_args : 1];
        PolicyRequest req = *s->q->req;
        PolicyDecision d;
        const Glob *g;
        Request q;

        if (r->verdict != POLICY_ALLOW || rule_expired(r, s->now))
                return;
        if (!container_pattern_match(&r->from, s->q->has_from_group ? s->q->from_group : NULL, s->q->from_name) ||
            !container_pattern_match(&r->to, s->q->has_to_group ? s->q->to_group : NULL, s->q->to_name))
                return;

        /* The request that stands for all the rule grants. */
        g = rule_object_glob(r, s->kind, &req.name_kind);
        req.object = g ? stand_in(g) : NULL;
        req.ipc_type = r->ipc_type;
        req.mode = POLICY_MODE_NONE;
        req.signal = first_signal(r->signals);
        for (size_t i = 0; i < r->n_args; i++)
                args[i] = r->args[i].pattern;
        req.args = r->n_args > 0 ? args : NULL;
        req.n_args = r->n_args;
        q = *s->q;
        q.req = &req;
        /* Only when the stand-in fits the rule itself (a class such as
         * [ab] does not match its own text) does the decision on it say
         * anything; otherwise the rule counts as declared. */
        if (!rule_check(r, &q, false, NULL, NULL) && policy_decide(s->p, &req, &d) >= 0 &&
            d.verdict != POLICY_ALLOW)
                return;

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
