/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Explaining a decision: every rule of the request's kind that matched or
 * missed by exactly one field, and why the winner won.  Not on the hot
 * path: it scans every rule of the kind and allocates. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/decide.h"

void policy_explanation_clear(PolicyExplanation *e) {
        if (!e)
                return;
        for (size_t i = 0; i < e->n_entries; i++)
                free(e->entries[i].detail);
        free(e->entries);
        free(e->why);
        *e = (PolicyExplanation) {};
}

static const char *container_class(const ContainerPattern *c) {
        if (glob_is_literal(&c->name))
                return c->has_group && glob_is_literal(&c->group) ? "an exact group/name" : "an exact name";
        return "a glob";
}

/* Why a beat b (both matched, same verdict). */
static char *why_beats(const PolicyRule *a, const PolicyRule *b, PolicyKind k) {
        static const struct {
                unsigned shift, bits;
                const char *what;
        } parts[] = {
                { 48, 9, "'from'" },
                { 30, 9, "'to'" },
                { 4, 26, "object" },
                { 0, 4, "extra constraints (type, args, signals, host)" },
        };
        char *s = NULL;

        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                uint64_t mask = ((UINT64_C(1) << parts[i].bits) - 1) << parts[i].shift;
                if ((a->score[k] & mask) == (b->score[k] & mask))
                        continue;
                if (i == 0 || i == 1) {
                        const ContainerPattern *ca = i == 0 ? &a->from : &a->to;
                        const ContainerPattern *cb = i == 0 ? &b->from : &b->to;
                        if (asprintf(&s, "its %s pattern '%s' (%s) is more specific than '%s' (%s) in rule '%s'",
                                     parts[i].what, ca->text, container_class(ca), cb->text,
                                     container_class(cb), b->id) < 0)
                                return NULL;
                } else if (asprintf(&s, "its %s is more specific than in rule '%s' "
                                        "(exact beats glob, then longer literal prefix)",
                                    parts[i].what, b->id) < 0)
                        return NULL;
                return s;
        }
        if ((a->ask_usec != 0) != (b->ask_usec != 0)) {
                if (asprintf(&s, "it is as specific as rule '%s', which asks an operator: an allow that does not "
                                 "ask comes first", b->id) < 0)
                        return NULL;
                return s;
        }
        if (asprintf(&s, "it is as specific as rule '%s' and comes first in file order", b->id) < 0)
                return NULL;
        return s;
}

static int add_entry(PolicyExplanation *e, const PolicyRule *r, PolicyMatchStatus st, const char *field,
                     char *detail) {
        PolicyExplainEntry *n = realloc(e->entries, (e->n_entries + 1) * sizeof(PolicyExplainEntry));
        if (!n) {
                free(detail);
                return -ENOMEM;
        }
        e->entries = n;
        n[e->n_entries++] = (PolicyExplainEntry) { .rule = r, .status = st, .field = field, .detail = detail };
        return 0;
}

int policy_explain(const Policy *p, const PolicyRequest *req, PolicyExplanation *ret) {
        _cleanup_free_ char *sub = NULL;
        PolicyExplanation e = {};
        const PolicyRule *best[2] = {}, *second[2] = {}, *expired = NULL;
        size_t n_match[2] = {};
        Request q;
        int r;

        if (!p || !ret)
                return -EINVAL;
        r = request_prepare(req, &q);
        if (r < 0)
                return r;

        for (size_t i = 0; i < p->n_rules; i++) {
                const PolicyRule *rule = p->rules[i];
                char *detail = NULL;
                const char *field;
                unsigned n;

                if (!(rule->kinds & KIND_BIT(req->kind)) || rule->shadow)
                        continue;
                field = rule_check(rule, &q, true, &n, &detail);
                if (n > 1) {
                        free(detail);
                        continue;
                }
                if (n == 1)
                        r = add_entry(&e, rule, POLICY_NEAR_MISS, field, detail);
                else if (rule_expired(rule, req->now)) {
                        char ts[64] = "?";
                        (void) format_timestamp(rule->until, ts, sizeof(ts));
                        if (asprintf(&detail, "expired at %s", ts) < 0)
                                detail = NULL;
                        r = add_entry(&e, rule, POLICY_EXPIRED, "until", detail);
                        if (rule->verdict == POLICY_ALLOW && rule_beats(rule, expired, req->kind))
                                expired = rule;
                } else {
                        PolicyVerdict v = rule->verdict;
                        n_match[v]++;
                        if (rule_beats(rule, best[v], req->kind)) {
                                second[v] = best[v];
                                best[v] = rule;
                        } else if (rule_beats(rule, second[v], req->kind))
                                second[v] = rule;
                        r = add_entry(&e, rule, POLICY_MATCH, NULL, NULL);
                }
                if (r < 0)
                        goto fail;
        }

        decision_fill(p, req, best[POLICY_DENY], best[POLICY_ALLOW], &e.decision);
        decision_note_expired(&e.decision, expired);
        for (size_t i = 0; i < e.n_entries; i++)
                e.entries[i].winner = e.entries[i].rule == e.decision.rule;

        const PolicyRule *w = e.decision.rule;

        if (!w && expired)
                r = asprintf(&e.why, "no rule of kind %s matched; allow rule '%s' would have, but it has expired "
                                     "(reason '%s')",
                             policy_kind_to_string(req->kind), expired->id, POLICY_REASON_EXPIRED);
        else if (!w)
                r = asprintf(&e.why, "no rule of kind %s matched, so the policy default (%s) applies",
                             policy_kind_to_string(req->kind), policy_verdict_to_string(p->default_verdict));
        else if (w->verdict == POLICY_DENY && n_match[POLICY_ALLOW] > 0)
                r = asprintf(&e.why, "deny rule '%s' matched, and a matching deny beats every allow "
                                     "(%zu matching allow rule(s) overruled)",
                             w->id, n_match[POLICY_ALLOW]);
        else if (!second[w->verdict])
                r = asprintf(&e.why, "%s rule '%s' is the only matching %s rule",
                             policy_verdict_to_string(w->verdict), w->id, policy_verdict_to_string(w->verdict));
        else {
                sub = why_beats(w, second[w->verdict], req->kind);
                if (!sub) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = asprintf(&e.why, "%s rule '%s' is the most specific of %zu matching %s rules: %s",
                             policy_verdict_to_string(w->verdict), w->id, n_match[w->verdict],
                             policy_verdict_to_string(w->verdict), sub);
        }
        if (r < 0) {
                e.why = NULL;
                r = -ENOMEM;
                goto fail;
        }
        *ret = e;
        return 0;

fail:
        policy_explanation_clear(&e);
        return r;
}

static const char *status_name(PolicyMatchStatus s) {
        switch (s) {
        case POLICY_MATCH:
                return "match";
        case POLICY_NEAR_MISS:
                return "near-miss";
        case POLICY_EXPIRED:
        default:
                return "expired";
        }
}

static void print_limits(const PolicyDecision *d, FILE *f) {
        if (d->limits.rate_count > 0)
                fprintf(f, "limit: rate %llu per %llu ms\n", (unsigned long long) d->limits.rate_count,
                        (unsigned long long) (d->limits.rate_interval_usec / 1000));
        if (d->limits.max_open > 0)
                fprintf(f, "limit: max_open %llu\n", (unsigned long long) d->limits.max_open);
}

void policy_explanation_print(const PolicyExplanation *e, FILE *f) {
        const PolicyDecision *d = &e->decision;

        fprintf(f, "%s\n", policy_verdict_to_string(d->verdict));
        if (d->rule)
                fprintf(f, "rule: %s (%s:%u)\n", d->rule_id, d->rule_file, d->rule_line);
        else
                fprintf(f, "rule: default\n");
        fprintf(f, "reason: %s\n", d->reason);
        fprintf(f, "why: %s\n", e->why);
        if (d->verdict == POLICY_ALLOW && d->rule) {
                if (d->mode != POLICY_MODE_NONE || d->rule->kinds & KIND_BIT(POLICY_KIND_INVOKE))
                        fprintf(f, "mode: %s\n", policy_mode_to_string(d->mode));
                if (d->as)
                        fprintf(f, "as: %s\n", d->as);
                if (d->at)
                        fprintf(f, "at: %s\n", d->at);
                if (d->env)
                        for (char *const *i = d->env; *i; i++)
                                fprintf(f, "env: %s\n", *i);
                print_limits(d, f);
                if (d->ask_usec)
                        fprintf(f, "ask: an operator answers first (shuttlectl ask), denied after %llu ms\n",
                                (unsigned long long) (d->ask_usec / 1000));
        }
        fprintf(f, "audit: %s (%s)\n", policy_audit_to_string(d->audit), d->audited ? "logged" : "not logged");
        if (e->n_entries > 0)
                fprintf(f, "rules considered:\n");
        for (size_t i = 0; i < e->n_entries; i++) {
                const PolicyExplainEntry *x = &e->entries[i];
                fprintf(f, "  %c %-9s %-5s %s (%s:%u)", x->winner ? '*' : ' ', status_name(x->status),
                        policy_verdict_to_string(x->rule->verdict), x->rule->id, x->rule->file, x->rule->line);
                if (x->detail)
                        fprintf(f, ": %s", x->detail);
                fputc('\n', f);
        }
}

static json_t *rule_ref_json(const PolicyRule *r) {
        return json_pack("{s:s, s:s, s:i}", "id", r->id, "file", r->file, "line", (json_int_t) r->line);
}

int policy_explanation_print_json(const PolicyExplanation *e, const PolicyRequest *req, FILE *f) {
        const PolicyDecision *d = &e->decision;
        json_t *root, *rules, *grant;

        root = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:b}", "decision", policy_verdict_to_string(d->verdict),
                         "from", req->from, "to", req->to, "object", req->object,
                         "kind", policy_kind_to_string(req->kind), "reason", d->reason, "audited", d->audited);
        if (!root)
                return -ENOMEM;
        if (req->kind == POLICY_KIND_TRANSFER)
                json_object_set_new(root, "name", json_string(policy_name_to_string(req->name_kind)));
        json_object_set_new(root, "rule", d->rule ? rule_ref_json(d->rule) : json_string("default"));
        json_object_set_new(root, "audit", json_string(policy_audit_to_string(d->audit)));
        json_object_set_new(root, "why", json_string(e->why));
        if (d->verdict == POLICY_ALLOW && d->rule) {
                grant = json_object();
                if (req->kind != POLICY_KIND_TRANSFER || req->name_kind == POLICY_NAME_PATH)
                        json_object_set_new(grant, "mode", json_string(policy_mode_to_string(d->mode)));
                if (d->as)
                        json_object_set_new(grant, "as", json_string(d->as));
                if (d->at)
                        json_object_set_new(grant, "at", json_string(d->at));
                if (d->ask_usec)
                        json_object_set_new(grant, "ask_timeout_ms", json_integer((json_int_t) (d->ask_usec / 1000)));
                if (d->env) {
                        json_t *env = json_array();
                        for (char *const *i = d->env; *i; i++)
                                json_array_append_new(env, json_string(*i));
                        json_object_set_new(grant, "env", env);
                }
                if (req->n_env > 0) {
                        json_t *env = json_object();
                        for (size_t i = 0; i < req->n_env; i++)
                                json_object_set_new(env, req->env[i],
                                                    json_boolean(policy_decision_env_allowed(d, req->env[i])));
                        json_object_set_new(grant, "env_passed", env);
                }
                if (d->limits.rate_count > 0) {
                        json_object_set_new(grant, "rate_count", json_integer((json_int_t) d->limits.rate_count));
                        json_object_set_new(grant, "rate_interval_usec",
                                            json_integer((json_int_t) d->limits.rate_interval_usec));
                }
                if (d->limits.max_open > 0)
                        json_object_set_new(grant, "max_open", json_integer((json_int_t) d->limits.max_open));
                json_object_set_new(root, "grant", grant);
        }
        rules = json_array();
        for (size_t i = 0; i < e->n_entries; i++) {
                const PolicyExplainEntry *x = &e->entries[i];
                json_t *j = rule_ref_json(x->rule);
                json_object_set_new(j, "status", json_string(status_name(x->status)));
                json_object_set_new(j, "verdict", json_string(policy_verdict_to_string(x->rule->verdict)));
                json_object_set_new(j, "winner", json_boolean(x->winner));
                if (x->field)
                        json_object_set_new(j, "field", json_string(x->field));
                if (x->detail)
                        json_object_set_new(j, "detail", json_string(x->detail));
                json_array_append_new(rules, j);
        }
        json_object_set_new(root, "rules", rules);
        int r = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', f);
        json_decref(root);
        return r < 0 ? -EIO : 0;
}
