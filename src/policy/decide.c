/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Deciding: no I/O, no allocation.  A matching deny beats any allow; else
 * the most specific matching allow decides (score, then file order); else
 * the policy's default.  Rules marked 'shadow' count only for the shadow
 * decision (policy_decide_shadow()); every other walk over the rules
 * (grants, apps, explain, reach, lint) leaves them out as it leaves
 * expired rules out. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "policy/policy-internal.h"
#include "policy/decide.h"

int request_prepare(const PolicyRequest *req, Request *q) {
        const char *g;
        size_t glen;

        if (!req || !req->from || !req->to || req->kind < 0 || req->kind >= _POLICY_KIND_MAX ||
            req->name_kind < 0 || req->name_kind >= _POLICY_NAME_MAX)
                return -EINVAL;
        if (req->n_args > 0 && !req->args)
                return -EINVAL;
        *q = (Request) { .req = req };
        container_split(req->from, &g, &glen, &q->from_name);
        if (g) {
                if (glen >= sizeof(q->from_group))
                        return -EINVAL;
                memcpy(q->from_group, g, glen);
                q->from_group[glen] = 0;
                q->has_from_group = true;
        }
        container_split(req->to, &g, &glen, &q->to_name);
        if (g) {
                if (glen >= sizeof(q->to_group))
                        return -EINVAL;
                memcpy(q->to_group, g, glen);
                q->to_group[glen] = 0;
                q->has_to_group = true;
        }
        return 0;
}

static PolicyMode wanted_mode(const PolicyRequest *req) {
        return req->mode == POLICY_MODE_NONE ? POLICY_MODE_RO : req->mode;
}

/* Records a mismatch; in explain mode (detail != NULL) the first one gets
 * a human-readable explanation. */
static void miss(const char **field, unsigned *n, char **detail, const char *name, const char *fmt, ...)
        _printf_(5, 6);
static void miss(const char **field, unsigned *n, char **detail, const char *name, const char *fmt, ...) {
        if ((*n)++ > 0)
                return;
        *field = name;
        if (detail) {
                va_list ap;
                va_start(ap, fmt);
                if (vasprintf(detail, fmt, ap) < 0)
                        *detail = NULL;
                va_end(ap);
        }
}

#define MISS(name, ...)                                         \
        do {                                                    \
                miss(&field, &n, detail, name, __VA_ARGS__);    \
                if (!all)                                       \
                        goto finish;                            \
        } while (0)

static const char *str_or(const char *s, const char *fallback) {
        return s ? s : fallback;
}

const char *rule_check(const PolicyRule *r, const Request *q, bool all, unsigned *ret_n, char **detail) {
        const PolicyRequest *req = q->req;
        const char *field = NULL, *o = req->object;
        unsigned n = 0;

        if (!container_pattern_match(&r->from, q->has_from_group ? q->from_group : NULL, q->from_name))
                MISS("from", "'%s' does not match from '%s'", req->from, r->from.text);
        if (!container_pattern_match(&r->to, q->has_to_group ? q->to_group : NULL, q->to_name))
                MISS("to", "'%s' does not match to '%s'", req->to, r->to.text);

        switch (req->kind) {
        case POLICY_KIND_IPC:
                if (!glob_match_or_unset(&r->endpoint, o))
                        MISS("endpoint", "endpoint '%s' does not match '%s'", str_or(o, "(none)"),
                             r->endpoint.pattern);
                if (r->ipc_type != POLICY_IPC_ANY && r->ipc_type != req->ipc_type)
                        MISS("type", "rule is for type %s, request is %s", policy_ipc_type_to_string(r->ipc_type),
                             str_or(policy_ipc_type_to_string(req->ipc_type), "?"));
                /* A FIFO's end: rw grants either, ro and wo only theirs. */
                if (r->verdict == POLICY_ALLOW && r->ipc_mode != POLICY_MODE_NONE && r->ipc_mode != POLICY_MODE_RW &&
                    req->mode != POLICY_MODE_NONE && req->mode != r->ipc_mode)
                        MISS("mode", "rule grants %s, request wants %s", policy_mode_to_string(r->ipc_mode),
                             str_or(policy_mode_to_string(req->mode), "?"));
                break;

        case POLICY_KIND_INVOKE:
                if (!glob_match_or_unset(&r->app, o))
                        MISS("app", "app '%s' does not match '%s'", str_or(o, "(none)"), r->app.pattern);
                if (r->has_args) {
                        if (req->n_args < r->n_args || (!r->args_rest && req->n_args > r->n_args))
                                MISS("args", "%zu argument(s), rule takes %s%zu", req->n_args,
                                     r->args_rest ? "at least " : "exactly ", r->n_args);
                        else
                                for (size_t i = 0; i < r->n_args; i++)
                                        if (!glob_match(&r->args[i], req->args[i])) {
                                                MISS("args", "argument %zu '%s' does not match '%s'", i + 1,
                                                     req->args[i], r->args[i].pattern);
                                                break;
                                        }
                }
                break;

        case POLICY_KIND_TRANSFER:
                /* A rule with a name key is about that kind of name only. */
                if (r->transfer_name >= 0 && r->transfer_name != req->name_kind) {
                        MISS(policy_name_to_string(r->transfer_name), "request is for a %s, rule is for a %s",
                             str_or(policy_name_to_string(req->name_kind), "?"),
                             policy_name_to_string(r->transfer_name));
                        break;
                }
                switch (req->name_kind) {
                case POLICY_NAME_PATH:
                        if (!glob_match_or_unset(&r->path, o))
                                MISS("path", "path '%s' does not match '%s'", str_or(o, "(none)"), r->path.pattern);
                        if (r->verdict == POLICY_ALLOW && wanted_mode(req) > r->mode)
                                MISS("mode", "rule grants %s, request wants %s", policy_mode_to_string(r->mode),
                                     policy_mode_to_string(wanted_mode(req)));
                        break;
                case POLICY_NAME_PID:
                        if (!glob_match_or_unset(&r->pid, o))
                                MISS("pid", "app '%s' does not match '%s'", str_or(o, "(none)"), r->pid.pattern);
                        break;
                case POLICY_NAME_SERVICE:
                        if (!glob_match_or_unset(&r->service, o))
                                MISS("service", "service '%s' does not match '%s'", str_or(o, "(none)"),
                                     r->service.pattern);
                        break;
                case POLICY_NAME_HOST:
                        break;
                default:
                        MISS("name", "unknown kind of name");
                }
                break;

        case POLICY_KIND_DEPEND:
                if (o && o[0] == '/') {
                        if (glob_is_set(&r->service))
                                MISS("path", "request is for tree '%s', rule is for service '%s'", o,
                                     r->service.pattern);
                        else if (!glob_match_or_unset(&r->path, o))
                                MISS("path", "path '%s' does not match '%s'", o, r->path.pattern);
                } else {
                        if (glob_is_set(&r->path))
                                MISS("service", "request is for service '%s', rule is for tree '%s'",
                                     str_or(o, "(none)"), r->path.pattern);
                        else if (!glob_match_or_unset(&r->service, o))
                                MISS("service", "service '%s' does not match '%s'", str_or(o, "(none)"),
                                     r->service.pattern);
                }
                if (r->verdict == POLICY_ALLOW && glob_is_set(&r->path) && o && o[0] == '/' &&
                    wanted_mode(req) > r->mode)
                        MISS("mode", "rule grants %s, request wants %s", policy_mode_to_string(r->mode),
                             policy_mode_to_string(wanted_mode(req)));
                break;

        case POLICY_KIND_SIGNAL:
                if (r->signals != 0 &&
                    (req->signal < 1 || req->signal > 64 || !(r->signals & (UINT64_C(1) << (req->signal - 1))))) {
                        const char *name = req->signal > 0 ? signal_to_name(req->signal) : NULL;
                        MISS("signals", "signal %s%s is not in the rule's signals",
                             name ? "SIG" : "", name ?: "(none)");
                }
                if (!glob_match_or_unset(&r->app, o))
                        MISS("app", "app '%s' does not match '%s'", str_or(o, "(none)"), r->app.pattern);
                break;

        default:
                MISS("kind", "unknown kind");
        }

finish:
        if (ret_n)
                *ret_n = n;
        return field;
}

bool rule_expired(const PolicyRule *r, time_t now) {
        return r->has_until && now > r->until;
}

/* True if a beats b: higher score, or same score and earlier. */
bool rule_beats(const PolicyRule *a, const PolicyRule *b, PolicyKind k) {
        if (!b)
                return true;
        if (a->score[k] != b->score[k])
                return a->score[k] > b->score[k];
        /* As specific: an allow that needs no asking beats an ask rule
         * (what an operator approved for good is allowed outright). */
        if ((a->ask_usec != 0) != (b->ask_usec != 0))
                return !a->ask_usec;
        return a->index < b->index;
}

typedef struct DecideState {
        const Request *q;
        bool shadow;                /* rules marked 'shadow' count too */
        const PolicyRule *best[2];  /* indexed by PolicyVerdict */
        const PolicyRule *expired;  /* the best expired allow that matches */
} DecideState;

static void consider(const PolicyRule *r, void *userdata) {
        DecideState *s = userdata;
        PolicyKind k = s->q->req->kind;

        if (r->shadow && !s->shadow)
                return;
        if (rule_expired(r, s->q->req->now)) {
                if (r->verdict == POLICY_ALLOW && rule_beats(r, s->expired, k) &&
                    !rule_check(r, s->q, false, NULL, NULL))
                        s->expired = r;
                return;
        }
        /* Cheap test first: a rule can only improve on the current best. */
        if (s->best[r->verdict] && !rule_beats(r, s->best[r->verdict], k))
                return;
        if (rule_check(r, s->q, false, NULL, NULL))
                return;
        s->best[r->verdict] = r;
}

void decision_fill(const Policy *p, const PolicyRequest *req, const PolicyRule *deny,
                   const PolicyRule *allow, PolicyDecision *ret) {
        const PolicyRule *w = deny ?: allow;
        PolicyDecision d = {};

        if (w) {
                d.verdict = w->verdict;
                d.rule = w;
                d.rule_id = w->id;
                d.rule_file = w->file;
                d.rule_line = w->line;
                d.audit = w->has_audit ? w->audit : p->audit;
        } else {
                d.verdict = p->default_verdict;
                d.rule_id = "default";
                d.audit = p->audit;
        }
        if (deny)
                d.reason = "denied by a matching deny rule";
        else if (allow)
                d.reason = "allowed by the most specific matching allow rule";
        else if (d.verdict == POLICY_DENY)
                d.reason = "no rule matched: default deny";
        else
                d.reason = "no rule matched: default allow";

        if (!deny && allow) {
                d.limits = allow->limits;
                d.ask_usec = allow->ask_usec;
                switch (req->kind) {
                case POLICY_KIND_IPC:
                        d.mode = req->mode != POLICY_MODE_NONE ? req->mode : allow->ipc_mode;
                        break;
                case POLICY_KIND_INVOKE:
                        d.mode = allow->invoke_transfer;
                        d.env = allow->env;
                        break;
                case POLICY_KIND_TRANSFER:
                        if (req->name_kind == POLICY_NAME_PATH) {
                                d.mode = wanted_mode(req);
                                d.as = allow->as;
                        }
                        break;
                case POLICY_KIND_DEPEND:
                        if (!glob_is_set(&allow->service) && req->object && req->object[0] == '/') {
                                d.mode = wanted_mode(req);
                                d.at = allow->at;
                        }
                        break;
                default:
                        break;
                }
        }
        d.audited = d.audit == POLICY_AUDIT_ALL || (d.audit == POLICY_AUDIT_DENY && d.verdict == POLICY_DENY);
        *ret = d;
}

void decision_note_expired(PolicyDecision *d, const PolicyRule *expired) {
        if (!expired || d->rule || d->verdict != POLICY_DENY)
                return;
        d->rule_id = expired->id;
        d->rule_file = expired->file;
        d->rule_line = expired->line;
        d->reason = POLICY_REASON_EXPIRED;
}

static int decide(const Policy *p, const PolicyRequest *req, bool shadow, PolicyDecision *ret) {
        DecideState s = { .shadow = shadow };
        Request q;
        int r;

        if (!p || !ret)
                return -EINVAL;
        r = request_prepare(req, &q);
        if (r < 0)
                return r;
        s.q = &q;
        policy_for_each_candidate(p, req->kind, q.from_name, q.to_name, consider, &s);
        decision_fill(p, req, s.best[POLICY_DENY], s.best[POLICY_ALLOW], ret);
        decision_note_expired(ret, s.expired);
        return 0;
}

int policy_decide(const Policy *p, const PolicyRequest *req, PolicyDecision *ret) {
        return decide(p, req, false, ret);
}

int policy_decide_shadow(const Policy *p, const PolicyRequest *req, PolicyDecision *ret) {
        return decide(p, req, true, ret);
}

bool policy_decision_env_allowed(const PolicyDecision *d, const char *name) {
        const PolicyRule *r = d->rule;

        if (!r || d->verdict != POLICY_ALLOW || !name)
                return false;
        for (size_t i = 0; i < r->n_env; i++)
                if (glob_match(&r->env_globs[i], name))
                        return true;
        return false;
}

typedef struct DependState {
        const Request *q;
        time_t now;
        PolicyDependGrantFn fn;
        void *userdata;
        int n;
} DependState;

static void depend_candidate(const PolicyRule *r, void *userdata) {
        DependState *s = userdata;
        const char *path;

        bool literal = glob_is_literal(&r->path);

        if (r->verdict != POLICY_ALLOW || !glob_is_set(&r->path) || glob_is_set(&r->service) ||
            rule_expired(r, s->now) || r->shadow)
                return;
        if (!container_pattern_match(&r->from, s->q->has_from_group ? s->q->from_group : NULL, s->q->from_name) ||
            !container_pattern_match(&r->to, s->q->has_to_group ? s->q->to_group : NULL, s->q->to_name))
                return;
        path = literal ? r->path.literal : r->path.pattern;
        if (!path || path[0] != '/')
                return;
        s->fn(&(PolicyDependGrant){ .path = path,
                                    .at = literal ? r->at ?: path : r->at,
                                    .glob = !literal,
                                    .mode = r->mode == POLICY_MODE_RW ? POLICY_MODE_RW : POLICY_MODE_RO,
                                    .rule_id = r->id,
                                    .rule_file = r->file,
                                    .rule_line = r->line },
              s->userdata);
        s->n++;
}

int policy_for_each_depend(const Policy *p, const char *from, const char *to, time_t now,
                           PolicyDependGrantFn fn, void *userdata) {
        PolicyRequest req = { .from = from, .to = to, .kind = POLICY_KIND_DEPEND, .now = now };
        DependState s = { .now = now, .fn = fn, .userdata = userdata };
        Request q;
        int r;

        if (!p || !fn)
                return -EINVAL;
        r = request_prepare(&req, &q);
        if (r < 0)
                return r;
        s.q = &q;
        policy_for_each_candidate(p, POLICY_KIND_DEPEND, q.from_name, q.to_name, depend_candidate, &s);
        return s.n;
}

typedef struct InvokeAppState {
        const Policy *p;
        const Request *q;
        time_t now;
        PolicyInvokeAppFn fn;
        void *userdata;
        int n;
        /* While looking for a deny rule for one app: */
        const Request *app_q;
        bool denied;
} InvokeAppState;

static void invoke_deny_candidate(const PolicyRule *r, void *userdata) {
        InvokeAppState *s = userdata;

        /* A deny rule with 'args' refuses only some argument lists. */
        if (s->denied || r->verdict != POLICY_DENY || r->has_args || rule_expired(r, s->now) || r->shadow)
                return;
        if (!rule_check(r, s->app_q, false, NULL, NULL))
                s->denied = true;
}

static void invoke_app_candidate(const PolicyRule *r, void *userdata) {
        InvokeAppState *s = userdata;
        PolicyRequest req;
        Request q;
        const char *path, *name;

        if (r->verdict != POLICY_ALLOW || !glob_is_literal(&r->app) || rule_expired(r, s->now) || r->shadow)
                return;
        path = r->app.literal;
        if (!path || path[0] != '/')
                return;
        name = strrchr(path, '/') + 1;
        if (!*name)
                return;
        if (!container_pattern_match(&r->from, s->q->has_from_group ? s->q->from_group : NULL, s->q->from_name) ||
            !container_pattern_match(&r->to, s->q->has_to_group ? s->q->to_group : NULL, s->q->to_name))
                return;
        /* Is there a deny rule for every invocation of this app?  Decided
         * as a request for it would be, arguments aside. */
        req = *s->q->req;
        req.object = path;
        q = *s->q;
        q.req = &req;
        s->app_q = &q;
        s->denied = false;
        policy_for_each_candidate(s->p, POLICY_KIND_INVOKE, q.from_name, q.to_name, invoke_deny_candidate, s);
        s->app_q = NULL;
        s->fn(&(PolicyInvokeApp){ .path = path,
                                  .name = name,
                                  .denied = s->denied,
                                  .rule_id = r->id,
                                  .rule_file = r->file,
                                  .rule_line = r->line },
              s->userdata);
        s->n++;
}

int policy_for_each_invoke_app(const Policy *p, const char *from, const char *to, time_t now,
                               PolicyInvokeAppFn fn, void *userdata) {
        PolicyRequest req = { .from = from, .to = to, .kind = POLICY_KIND_INVOKE, .now = now };
        InvokeAppState s = { .p = p, .now = now, .fn = fn, .userdata = userdata };
        Request q;
        int r;

        if (!p || !fn)
                return -EINVAL;
        r = request_prepare(&req, &q);
        if (r < 0)
                return r;
        s.q = &q;
        policy_for_each_candidate(p, POLICY_KIND_INVOKE, q.from_name, q.to_name, invoke_app_candidate, &s);
        return s.n;
}
