/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The compiled form: rules in file order, a specificity score per rule and
 * kind, and per kind an index on the literal name parts of 'from' and
 * 'to', so that a decision looks at a handful of candidates rather than
 * every rule. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy-internal.h"

Policy *policy_new(void) {
        Policy *p = calloc(1, sizeof(Policy));
        if (!p)
                return NULL;
        p->n_ref = 1;
        p->default_verdict = POLICY_DENY;
        p->audit = POLICY_AUDIT_ALL;
        return p;
}

static void table_done(IndexTable *t) {
        for (size_t i = 0; i < t->size; i++)
                free(t->entries[i].rules.items);
        free(t->entries);
}

void policy_free(Policy *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_rules; i++)
                policy_rule_free(p->rules[i]);
        free(p->rules);
        for (size_t i = 0; i < p->n_tests; i++)
                policy_test_free(p->tests[i]);
        free(p->tests);
        free(p->ids);
        for (size_t k = 0; k < _POLICY_KIND_MAX; k++) {
                table_done(&p->index[k].pair);
                table_done(&p->index[k].from_only);
                table_done(&p->index[k].to_only);
                table_done(&p->index[k].by_from);
                table_done(&p->index[k].by_to);
                free(p->index[k].globs.items);
        }
        free(p);
}

Policy *policy_ref(Policy *p) {
        if (p)
                __atomic_add_fetch(&p->n_ref, 1, __ATOMIC_RELAXED);
        return p;
}

Policy *policy_unref(Policy *p) {
        /* Release on the way down, acquire before freeing, so that every
         * thread's last use of the policy happens before the free. */
        if (p && __atomic_sub_fetch(&p->n_ref, 1, __ATOMIC_ACQ_REL) == 0)
                policy_free(p);
        return NULL;
}

int policy_add_rule(Policy *p, PolicyRule *r) {
        if (p->n_rules == p->allocated) {
                size_t n = MAX(p->allocated * 2, (size_t) 16);
                PolicyRule **nr = realloc(p->rules, n * sizeof(PolicyRule *));
                if (!nr)
                        return -ENOMEM;
                p->rules = nr;
                p->allocated = n;
        }
        r->index = p->n_rules;
        p->rules[p->n_rules++] = r;
        if (r->shadow)
                p->n_shadow++;
        return 0;
}

/* ---- Specificity --------------------------------------------------------
 * A rule's score for a kind packs, from most to least significant:
 *   from: name literal (1 bit), group (2 bits: 2 literal, 1 glob, 0 none),
 *         literal characters (6 bits, capped)
 *   to:   the same, 9 bits
 *   object: set (1), literal (1), literal prefix length (12, capped),
 *         literal characters (12, capped)
 *   extra constraints (4 bits): ipc type, argument predicates, signal set,
 *         a transfer rule's host
 * Higher is more specific.  Equal scores: the earlier rule wins. */

static uint64_t cap(size_t v, unsigned bits) {
        uint64_t max = (UINT64_C(1) << bits) - 1;
        return v > max ? max : v;
}

static uint64_t container_score(const ContainerPattern *c) {
        uint64_t group = !c->has_group ? 0 : glob_is_literal(&c->group) ? 2 : 1;
        size_t lit = c->name.n_literal + (c->has_group ? c->group.n_literal : 0);
        return ((uint64_t) glob_is_literal(&c->name) << 8) | (group << 6) | cap(lit, 6);
}

static uint64_t object_score(const Glob *g) {
        if (!glob_is_set(g))
                return 0;
        return (UINT64_C(1) << 25) | ((uint64_t) glob_is_literal(g) << 24) |
               (cap(g->literal_len, 12) << 12) | cap(g->n_literal, 12);
}

static const Glob *rule_object(const PolicyRule *r, PolicyKind k) {
        switch (k) {
        case POLICY_KIND_IPC:
                return &r->endpoint;
        case POLICY_KIND_INVOKE:
        case POLICY_KIND_SIGNAL:
                return &r->app;
        case POLICY_KIND_TRANSFER:
                return r->transfer_name == POLICY_NAME_PID       ? &r->pid :
                       r->transfer_name == POLICY_NAME_SERVICE ? &r->service :
                                                                 &r->path;
        case POLICY_KIND_DEPEND:
        default:
                return glob_is_set(&r->service) ? &r->service : &r->path;
        }
}

uint64_t rule_score(const PolicyRule *r, PolicyKind k) {
        uint64_t extra = 0;

        switch (k) {
        case POLICY_KIND_IPC:
                extra = r->ipc_type != POLICY_IPC_ANY;
                break;
        case POLICY_KIND_INVOKE:
                extra = r->has_args ? cap(r->n_args + 1, 4) : 0;
                break;
        case POLICY_KIND_SIGNAL:
                extra = r->signals != 0;
                break;
        case POLICY_KIND_TRANSFER:
                extra = r->host; /* host has no object: being about it is its constraint */
                break;
        default:
                break;
        }
        return (container_score(&r->from) << 48) | (container_score(&r->to) << 30) |
               (object_score(rule_object(r, k)) << 4) | extra;
}

/* ---- Index ---------------------------------------------------------------*/

static uint32_t hash_str(uint32_t h, const char *s) {
        /* FNV-1a: names are short and chosen by the operator; the tables
         * are built once per load, so flooding them is not a concern. */
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 16777619u;
        return h;
}

static uint32_t hash_keys(const char *k1, const char *k2) {
        uint32_t h = hash_str(2166136261u, k1);
        if (k2)
                h = hash_str(h ^ 0xff, k2);
        return h ? h : 1;
}

static IndexEntry *table_find(const IndexTable *t, const char *k1, const char *k2, uint32_t h) {
        if (t->size == 0)
                return NULL;
        for (size_t i = h & (t->size - 1);; i = (i + 1) & (t->size - 1)) {
                IndexEntry *e = &t->entries[i];
                if (e->hash == 0)
                        return NULL;
                if (e->hash == h && streq(e->k1, k1) && (!k2 || streq(e->k2, k2)))
                        return e;
        }
}

static int table_grow(IndexTable *t) {
        size_t size = MAX(t->size * 2, (size_t) 16);
        IndexEntry *entries = calloc(size, sizeof(IndexEntry));

        if (!entries)
                return -ENOMEM;
        for (size_t i = 0; i < t->size; i++) {
                IndexEntry *e = &t->entries[i];
                if (e->hash == 0)
                        continue;
                size_t j = e->hash & (size - 1);
                while (entries[j].hash != 0)
                        j = (j + 1) & (size - 1);
                entries[j] = *e;
        }
        free(t->entries);
        t->entries = entries;
        t->size = size;
        return 0;
}

static int list_push(RuleList *l, uint32_t v) {
        if (l->n == l->allocated) {
                size_t n = MAX(l->allocated * 2, (size_t) 4);
                uint32_t *items = realloc(l->items, n * sizeof(uint32_t));
                if (!items)
                        return -ENOMEM;
                l->items = items;
                l->allocated = n;
        }
        l->items[l->n++] = v;
        return 0;
}

static int table_add(IndexTable *t, const char *k1, const char *k2, uint32_t rule) {
        uint32_t h = hash_keys(k1, k2);
        IndexEntry *e = table_find(t, k1, k2, h);
        int r;

        if (!e) {
                if ((t->n + 1) * 4 > t->size * 3) {
                        r = table_grow(t);
                        if (r < 0)
                                return r;
                }
                size_t i = h & (t->size - 1);
                while (t->entries[i].hash != 0)
                        i = (i + 1) & (t->size - 1);
                e = &t->entries[i];
                *e = (IndexEntry) { .k1 = k1, .k2 = k2, .hash = h };
                t->n++;
        }
        return list_push(&e->rules, rule);
}

static uint32_t id_hash(const char *s) {
        return hash_str(2166136261u, s);
}

/* Rules by id, for tests that name the rule they expect. */
static int ids_build(Policy *p) {
        size_t size = 16;

        while (size < p->n_rules * 2)
                size *= 2;
        p->ids = calloc(size, sizeof(PolicyRule *));
        if (!p->ids)
                return -ENOMEM;
        p->ids_size = size;
        for (size_t i = 0; i < p->n_rules; i++) {
                size_t j = id_hash(p->rules[i]->id) & (size - 1);
                while (p->ids[j])
                        j = (j + 1) & (size - 1);
                p->ids[j] = p->rules[i];
        }
        return 0;
}

const PolicyRule *policy_find_rule(const Policy *p, const char *id) {
        if (!p || !id || p->ids_size == 0)
                return NULL;
        for (size_t j = id_hash(id) & (p->ids_size - 1);; j = (j + 1) & (p->ids_size - 1)) {
                if (!p->ids[j])
                        return NULL;
                if (streq(p->ids[j]->id, id))
                        return p->ids[j];
        }
}

int policy_compile(Policy *p) {
        int r;

        r = ids_build(p);
        if (r < 0)
                return r;

        for (size_t i = 0; i < p->n_rules; i++) {
                PolicyRule *rule = p->rules[i];
                bool from_lit = glob_is_literal(&rule->from.name);
                bool to_lit = glob_is_literal(&rule->to.name);

                for (PolicyKind k = 0; k < _POLICY_KIND_MAX; k++) {
                        KindIndex *idx = &p->index[k];

                        if (!(rule->kinds & KIND_BIT(k)))
                                continue;
                        rule->score[k] = rule_score(rule, k);
                        idx->n_rules++;
                        if (from_lit && to_lit)
                                r = table_add(&idx->pair, rule->from.name.literal, rule->to.name.literal,
                                              (uint32_t) i);
                        else if (from_lit)
                                r = table_add(&idx->from_only, rule->from.name.literal, NULL, (uint32_t) i);
                        else if (to_lit)
                                r = table_add(&idx->to_only, rule->to.name.literal, NULL, (uint32_t) i);
                        else
                                r = list_push(&idx->globs, (uint32_t) i);
                        if (r >= 0 && from_lit)
                                r = table_add(&idx->by_from, rule->from.name.literal, NULL, (uint32_t) i);
                        if (r >= 0 && to_lit)
                                r = table_add(&idx->by_to, rule->to.name.literal, NULL, (uint32_t) i);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static void visit(const Policy *p, const RuleList *l, candidate_fn f, void *userdata) {
        for (size_t i = 0; i < l->n; i++)
                f(p->rules[l->items[i]], userdata);
}

void policy_for_each_candidate(const Policy *p, PolicyKind k, const char *from_name,
                               const char *to_name, candidate_fn f, void *userdata) {
        const KindIndex *idx = &p->index[k];
        const IndexEntry *e;

        e = table_find(&idx->pair, from_name, to_name, hash_keys(from_name, to_name));
        if (e)
                visit(p, &e->rules, f, userdata);
        e = table_find(&idx->from_only, from_name, NULL, hash_keys(from_name, NULL));
        if (e)
                visit(p, &e->rules, f, userdata);
        e = table_find(&idx->to_only, to_name, NULL, hash_keys(to_name, NULL));
        if (e)
                visit(p, &e->rules, f, userdata);
        visit(p, &idx->globs, f, userdata);
}

void policy_for_each_literal_from(const Policy *p, PolicyKind k, const char *from_name, const char *to_name,
                                  candidate_fn f, void *userdata) {
        const KindIndex *idx = &p->index[k];
        const IndexEntry *e;

        if (to_name) {
                e = table_find(&idx->pair, from_name, to_name, hash_keys(from_name, to_name));
                if (e)
                        visit(p, &e->rules, f, userdata);
        }
        e = table_find(&idx->from_only, from_name, NULL, hash_keys(from_name, NULL));
        if (e)
                visit(p, &e->rules, f, userdata);
}

/* The rule's side NAME is on, and the other. */
static const ContainerPattern *side(const PolicyRule *r, bool from) {
        return from ? &r->from : &r->to;
}

void policy_for_each_partner(const Policy *p, PolicyKind k, const char *name, bool as_from, PolicyPartnerFn fn,
                             void *userdata) {
        const KindIndex *idx;
        const IndexTable *other_lit;
        const IndexEntry *e;

        if (!p || !name || (unsigned) k >= _POLICY_KIND_MAX)
                return;
        idx = &p->index[k];
        /* Every pair not named by a rule gets the default. */
        if (p->default_verdict != POLICY_DENY) {
                fn(NULL, userdata);
                return;
        }
        /* Patterns on both sides: any partner, if NAME's side matches. */
        for (size_t i = 0; i < idx->globs.n; i++)
                if (glob_match(&side(p->rules[idx->globs.items[i]], as_from)->name, name)) {
                        fn(NULL, userdata);
                        return;
                }
        /* NAME's side literal: the other side's literal, or anyone. */
        e = table_find(as_from ? &idx->by_from : &idx->by_to, name, NULL, hash_keys(name, NULL));
        for (size_t i = 0; e && i < e->rules.n; i++) {
                const ContainerPattern *o = side(p->rules[e->rules.items[i]], !as_from);
                if (!glob_is_literal(&o->name)) {
                        fn(NULL, userdata);
                        return;
                }
        }
        for (size_t i = 0; e && i < e->rules.n; i++)
                fn(side(p->rules[e->rules.items[i]], !as_from)->name.literal, userdata);
        /* NAME's side a pattern, the other literal. */
        other_lit = as_from ? &idx->to_only : &idx->from_only;
        for (size_t j = 0; j < other_lit->size; j++) {
                const IndexEntry *t = &other_lit->entries[j];
                if (t->hash == 0)
                        continue;
                for (size_t i = 0; i < t->rules.n; i++)
                        if (glob_match(&side(p->rules[t->rules.items[i]], as_from)->name, name)) {
                                fn(t->k1, userdata);
                                break;
                        }
        }
}

/* ---- Inspection ----------------------------------------------------------*/

PolicyVerdict policy_get_default(const Policy *p) {
        return p->default_verdict;
}
PolicyAudit policy_get_audit(const Policy *p) {
        return p->audit;
}
size_t policy_get_n_rules(const Policy *p) {
        return p->n_rules;
}
size_t policy_get_n_rules_for_kind(const Policy *p, PolicyKind k) {
        return k >= 0 && k < _POLICY_KIND_MAX ? p->index[k].n_rules : 0;
}
const PolicyRule *policy_get_rule(const Policy *p, size_t i) {
        return i < p->n_rules ? p->rules[i] : NULL;
}
const char *policy_rule_get_id(const PolicyRule *r) {
        return r->id;
}
const char *policy_rule_get_file(const PolicyRule *r) {
        return r->file;
}
unsigned policy_rule_get_line(const PolicyRule *r) {
        return r->line;
}
unsigned policy_rule_get_column(const PolicyRule *r) {
        return r->column;
}
PolicyVerdict policy_rule_get_verdict(const PolicyRule *r) {
        return r->verdict;
}
bool policy_rule_get_shadow(const PolicyRule *r) {
        return r && r->shadow;
}

size_t policy_get_n_shadow_rules(const Policy *p) {
        return p ? p->n_shadow : 0;
}

bool policy_rule_get_until(const PolicyRule *r, time_t *ret) {
        if (!r || !r->has_until)
                return false;
        *ret = r->until;
        return true;
}
