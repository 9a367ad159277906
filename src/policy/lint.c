/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lint: rules that can never decide, patterns that name no known
 * container, rules the audit log never shows deciding.
 *
 * Shadowing follows decide.c: a matching deny beats every allow, and among
 * rules of one verdict the highest score wins, then the earlier rule.  So
 * rule A never decides a kind of request if some rule B matches every
 * request A matches (B "covers" A) and B is a deny over an allow A, or B
 * has A's verdict and beats A.  Coverage is checked field by field: the
 * kind's own fields by rule_kind_covers() (cover.c, which answers policy
 * reach and the declared graph too), containers and time here, patterns
 * with glob_covers(), which may say "no" when the answer is "yes" but
 * never the other way round: every finding is true, some shadowed rules may go
 * unreported.  Candidates for B come from the decision index (rules naming
 * A's literal 'from') and from an index of glob 'from' names by their
 * literal prefix: a literal name never covers a glob, and a glob covers
 * only names that start with its literal prefix. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/decide.h"
#include "policy/policy-internal.h"

static const char *const lint_kind_names[_POLICY_LINT_KIND_MAX] = {
        [POLICY_LINT_SHADOWED] = "shadowed",
        [POLICY_LINT_NO_CONTAINER] = "no-container",
        [POLICY_LINT_UNUSED] = "unused",
};

const char *policy_lint_kind_to_string(PolicyLintKind k) {
        return k >= 0 && k < _POLICY_LINT_KIND_MAX ? lint_kind_names[k] : NULL;
}

/* ---- Coverage ------------------------------------------------------------*/

static bool container_covers(const ContainerPattern *b, const ContainerPattern *a) {
        if (!glob_covers(&b->name, &a->name))
                return false;
        if (!b->has_group)
                return true;
        return a->has_group && glob_covers(&b->group, &a->group);
}

/* b matches at least as long as a does. */
static bool time_covers(const PolicyRule *b, const PolicyRule *a) {
        return !b->has_until || (a->has_until && a->until <= b->until);
}

typedef struct ShadowState {
        const PolicyRule *a;
        PolicyKind k;
        time_t now;
        const PolicyRule *by;
} ShadowState;

static void shadow_candidate(const PolicyRule *b, void *userdata) {
        ShadowState *s = userdata;
        const PolicyRule *a = s->a;

        if (b == a || (s->by && s->by->verdict == POLICY_DENY) || rule_expired(b, s->now) || b->shadow)
                return;
        if (b->verdict != a->verdict) {
                if (b->verdict != POLICY_DENY)
                        return;
        } else {
                /* Each allow with a tree is a grant of its own (the broker
                 * mounts every one, at its own 'at'), whichever decides. */
                if (s->k == POLICY_KIND_DEPEND && a->verdict == POLICY_ALLOW)
                        return;
                if (s->by || !rule_beats(b, a, s->k))
                        return;
        }
        if (!time_covers(b, a) || !container_covers(&b->from, &a->from) || !container_covers(&b->to, &a->to) ||
            !rule_kind_covers(b, a, s->k, _POLICY_NAME_INVALID))
                return;
        s->by = b;
}

/* Rules whose 'from' name is a glob, per kind, by the literal prefix of
 * that glob.  A glob covers a name (or another glob) only if its literal
 * prefix is a prefix of the name's (glob_covers()), so the candidates for
 * rule A are found under each prefix of A's 'from': a few lookups, not a
 * walk over every glob rule. */
typedef struct PrefixEntry {
        char *key;              /* NULL: free slot */
        uint32_t hash;
        size_t *rules, n, allocated;
} PrefixEntry;

typedef struct PrefixIndex {
        PrefixEntry *entries;   /* open addressing, power of two */
        size_t n, size;
} PrefixIndex;

static uint32_t prefix_hash(const char *s, size_t len) {
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < len; i++)
                h = (h ^ (unsigned char) s[i]) * 16777619u;
        return h;
}

static PrefixEntry *prefix_find(const PrefixIndex *x, const char *s, size_t len, uint32_t h) {
        if (x->size == 0)
                return NULL;
        for (size_t i = h & (x->size - 1);; i = (i + 1) & (x->size - 1)) {
                PrefixEntry *e = &x->entries[i];
                if (!e->key)
                        return e;
                if (e->hash == h && strlen(e->key) == len && strneq(e->key, s, len))
                        return e;
        }
}

static int prefix_add(PrefixIndex *x, const char *s, size_t len, size_t rule) {
        uint32_t h = prefix_hash(s, len);
        PrefixEntry *e;

        if ((x->n + 1) * 2 > x->size) {
                PrefixIndex bigger = { .size = MAX(x->size * 2, (size_t) 64), .n = x->n };
                bigger.entries = calloc(bigger.size, sizeof(PrefixEntry));
                if (!bigger.entries)
                        return -ENOMEM;
                for (size_t i = 0; i < x->size; i++)
                        if (x->entries[i].key)
                                *prefix_find(&bigger, x->entries[i].key, strlen(x->entries[i].key),
                                             x->entries[i].hash) = x->entries[i];
                free(x->entries);
                *x = bigger;
        }
        e = prefix_find(x, s, len, h);
        if (!e->key) {
                if (!(e->key = strndup(s, len)))
                        return -ENOMEM;
                e->hash = h;
                x->n++;
        }
        if (e->n == e->allocated) {
                size_t n = MAX(e->allocated * 2, (size_t) 4), *l = realloc(e->rules, n * sizeof(size_t));
                if (!l)
                        return -ENOMEM;
                e->rules = l;
                e->allocated = n;
        }
        e->rules[e->n++] = rule;
        return 0;
}

static void prefix_index_done(PrefixIndex *x) {
        for (size_t i = 0; i < x->size; i++) {
                free(x->entries[i].key);
                free(x->entries[i].rules);
        }
        free(x->entries);
        *x = (PrefixIndex) {};
}

static int prefix_index_build(const Policy *p, PrefixIndex index[static _POLICY_KIND_MAX]) {
        for (size_t i = 0; i < p->n_rules; i++) {
                const PolicyRule *r = p->rules[i];

                if (glob_is_literal(&r->from.name))
                        continue;
                for (PolicyKind k = 0; k < _POLICY_KIND_MAX; k++)
                        if (r->kinds & KIND_BIT(k)) {
                                int e = prefix_add(&index[k], r->from.name.literal, r->from.name.literal_len, i);
                                if (e < 0)
                                        return e;
                        }
        }
        return 0;
}

static const PolicyRule *shadowed_by(const Policy *p, const PrefixIndex *index, const PolicyRule *a, PolicyKind k,
                                     time_t now) {
        ShadowState s = { .a = a, .k = k, .now = now };
        const char *from = a->from.name.literal;
        size_t len = a->from.name.literal_len;

        /* A literal name is covered by rules naming it and by globs; a
         * glob only by globs. */
        if (glob_is_literal(&a->from.name))
                policy_for_each_literal_from(p, k, from, glob_is_literal(&a->to.name) ? a->to.name.literal : NULL,
                                             shadow_candidate, &s);
        for (size_t l = 0; l <= len; l++) {
                const PrefixEntry *e = prefix_find(&index[k], from, l, prefix_hash(from, l));
                for (size_t i = 0; e && e->key && i < e->n; i++)
                        shadow_candidate(p->rules[e->rules[i]], &s);
        }
        return s.by;
}

/* ---- Findings ------------------------------------------------------------*/

static int add_finding(PolicyLintResult *res, PolicyLintKind kind, const PolicyRule *r, const PolicyRule *by,
                       const char *fmt, ...) _printf_(5, 6);
static int add_finding(PolicyLintResult *res, PolicyLintKind kind, const PolicyRule *r, const PolicyRule *by,
                       const char *fmt, ...) {
        PolicyLintFinding *f;
        char *msg;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        f = realloc(res->findings, (res->n_findings + 1) * sizeof(PolicyLintFinding));
        if (!f) {
                free(msg);
                return -ENOMEM;
        }
        res->findings = f;
        res->findings[res->n_findings++] = (PolicyLintFinding) { .kind = kind, .rule = r, .by = by, .message = msg };
        return 0;
}

static const char *verdict_word(const PolicyRule *r) {
        return policy_verdict_to_string(r->verdict);
}

static int lint_shadowed(const Policy *p, const PrefixIndex *index, const PolicyRule *a, time_t now,
                         PolicyLintResult *res, bool *ret) {
        const PolicyRule *first = NULL;
        PolicyKind first_kind = 0;
        char dead[64] = "", alive[64] = "";
        size_t nd = 0, na = 0;

        for (PolicyKind k = 0; k < _POLICY_KIND_MAX; k++) {
                const PolicyRule *by;

                if (!(a->kinds & KIND_BIT(k)))
                        continue;
                by = shadowed_by(p, index, a, k, now);
                if (by && !first) {
                        first = by;
                        first_kind = k;
                }
                if (by)
                        nd += (size_t) snprintf(dead + nd, sizeof(dead) - MIN(nd, sizeof(dead)), "%s%s", nd ? ", " : "",
                                                policy_kind_to_string(k));
                else
                        na += (size_t) snprintf(alive + na, sizeof(alive) - MIN(na, sizeof(alive)), "%s%s",
                                                na ? ", " : "", policy_kind_to_string(k));
        }
        *ret = first != NULL;
        if (!first)
                return 0;
        return add_finding(res, POLICY_LINT_SHADOWED, a, first,
                           "%s rule '%s' never decides %s: %s rule '%s' (%s:%u:%u) matches every request it "
                           "matches and %s%s%s%s",
                           verdict_word(a), a->id, dead, verdict_word(first), first->id, first->file, first->line,
                           first->column,
                           first->verdict != a->verdict ? "a deny wins over any allow" :
                           first->score[first_kind] > a->score[first_kind] ? "is more specific" :
                                                                             "is as specific and comes first",
                           na ? " (it still decides " : "", alive, na ? ")" : "");
}

static const PolicyLintGroup *find_group(const PolicyLintOptions *o, const char *name) {
        for (size_t i = 0; i < o->n_groups; i++)
                if (o->groups[i].name && streq(o->groups[i].name, name))
                        return &o->groups[i];
        return NULL;
}

static bool group_has_match(const PolicyLintGroup *g, const Glob *name) {
        for (size_t i = 0; i < g->n_containers; i++)
                if (glob_match(name, g->containers[i]))
                        return true;
        return false;
}

static void list_containers(const PolicyLintGroup *g, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = 0;
        for (size_t i = 0; i < g->n_containers && n < size; i++)
                n += (size_t) snprintf(buf + n, size - n, "%s%s", i ? ", " : "", g->containers[i]);
        if (n >= size && size > 4)
                memcpy(buf + size - 4, "...", 4);
        if (g->n_containers == 0)
                snprintf(buf, size, "none");
}

static int lint_pattern(const PolicyLintOptions *o, const PolicyRule *r, const char *key, const ContainerPattern *c,
                        PolicyLintResult *res) {
        const PolicyLintGroup *g = NULL;
        bool own = false;
        char names[256];

        if (c->has_group && glob_is_literal(&c->group))
                g = find_group(o, c->group.literal);
        if (!g && streq(key, "from") && o->own_group) {
                /* A group's own policy decides requests from its containers
                 * only: a 'from' that is none of them never matches. */
                if (c->has_group && !glob_match(&c->group, o->own_group))
                        return add_finding(res, POLICY_LINT_NO_CONTAINER, r, NULL,
                                           "rule '%s': from '%s' is never a container of group %s, the only group "
                                           "whose requests this policy decides", r->id, c->text, o->own_group);
                g = find_group(o, o->own_group);
                own = true;
        }
        if (!g || group_has_match(g, &c->name))
                return 0;
        list_containers(g, names, sizeof(names));
        return add_finding(res, POLICY_LINT_NO_CONTAINER, r, NULL,
                           "rule '%s': %s '%s' matches no container of group %s%s (its containers: %s)", r->id, key,
                           c->text, g->name, own ? ", whose policy this is" : "", names);
}

static bool rule_audited(const Policy *p, const PolicyRule *r) {
        PolicyAudit a = r->has_audit ? r->audit : p->audit;

        return a == POLICY_AUDIT_ALL || (a == POLICY_AUDIT_DENY && r->verdict == POLICY_DENY);
}

int policy_lint(const Policy *p, const PolicyLintOptions *opts, PolicyLintResult *ret) {
        PolicyLintOptions o = opts ? *opts : (PolicyLintOptions) {};
        PrefixIndex index[_POLICY_KIND_MAX] = {};
        PolicyLintResult res = {};
        int r;

        if (!p || !ret || (o.n_groups > 0 && !o.groups))
                return -EINVAL;
        if (o.now == 0)
                o.now = time(NULL);
        r = prefix_index_build(p, index);
        for (size_t i = 0; i < p->n_rules && r >= 0; i++) {
                const PolicyRule *rule = p->rules[i];
                bool shadowed = false;

                /* The loader warned already; it matches nothing.  A shadow
                 * rule decides nothing that is enforced. */
                if (rule_expired(rule, o.now) || rule->shadow)
                        continue;
                r = lint_shadowed(p, index, rule, o.now, &res, &shadowed);
                if (r >= 0)
                        r = lint_pattern(&o, rule, "from", &rule->from, &res);
                if (r >= 0)
                        r = lint_pattern(&o, rule, "to", &rule->to, &res);
                if (r < 0 || !o.used || shadowed)
                        continue;
                if (!rule_audited(p, rule))
                        res.n_not_audited++;
                else if (!o.used(rule->id, o.userdata))
                        r = add_finding(&res, POLICY_LINT_UNUSED, rule, NULL,
                                        "%s rule '%s' decided nothing in the audit records read", verdict_word(rule),
                                        rule->id);
        }
        for (PolicyKind k = 0; k < _POLICY_KIND_MAX; k++)
                prefix_index_done(&index[k]);
        if (r < 0) {
                policy_lint_result_clear(&res);
                return r;
        }
        *ret = res;
        return 0;
}

void policy_lint_result_clear(PolicyLintResult *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n_findings; i++)
                free(r->findings[i].message);
        free(r->findings);
        *r = (PolicyLintResult) {};
}
