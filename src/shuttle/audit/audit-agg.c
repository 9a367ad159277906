/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Repeated denials counted instead of written one by one: see audit-agg.h.
 * Memory is bounded by the number of sources (containers, which only root
 * registers) times a fixed number of slots; a source with nothing pending
 * is freed when its window ends. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "shuttle/audit/audit-agg.h"

/* The key fields besides the source, in AuditRecord order, then the
 * shadow decision (extra keys shadow_decision, shadow_rule), which the
 * summary carries on. */
enum { F_TO, F_KIND, F_OP, F_OBJECT, F_RULE, F_REASON, F_SHADOW_DECISION, F_SHADOW_RULE, N_FIELDS };

typedef struct AggKey {
        bool used;
        bool hot;                /* counted in the last window: count from the first */
        uint64_t hash;
        char *f[N_FIELDS];
        uint64_t window_start;
        uint64_t last_mono;      /* for eviction */
        unsigned written;        /* in full, this window */
        uint64_t suppressed;
        uint64_t first_real, last_real;
} AggKey;

typedef struct AggOver {
        char *kind;              /* NULL in the catch-all slot */
        uint64_t suppressed;
        uint64_t first_real, last_real;
} AggOver;

typedef struct AggSource {
        char *group, *name;
        uint64_t window_start;
        unsigned written;        /* in full, this window, all keys */
        unsigned n_used;
        AggKey *keys;
        AggOver over[AUDIT_AGG_KINDS];
        struct AggSource *next;
} AggSource;

struct AuditAgg {
        AuditAggOptions o;
        AuditAggWriteFn write;
        void *userdata;
        AggSource *sources;
};

static const char *field_of(const AuditRecord *r, unsigned i) {
        switch (i) {
        case F_TO:
                return r->to;
        case F_KIND:
                return r->kind;
        case F_OP:
                return r->op;
        case F_OBJECT:
                return r->object;
        case F_RULE:
                return r->rule;
        case F_REASON:
                return r->reason;
        case F_SHADOW_DECISION:
                return json_string_value(json_object_get(r->extra, "shadow_decision"));
        default:
                return json_string_value(json_object_get(r->extra, "shadow_rule"));
        }
}

static bool str_eq(const char *a, const char *b) {
        return a == b || (a && b && streq(a, b));
}

/* FNV-1a over the fields; NULL and "" differ. */
static uint64_t key_hash(const AuditRecord *r) {
        uint64_t h = UINT64_C(14695981039346656037);

        for (unsigned i = 0; i < N_FIELDS; i++) {
                const char *s = field_of(r, i);
                h = (h ^ (s ? 1U : 2U)) * UINT64_C(1099511628211);
                for (; s && *s; s++)
                        h = (h ^ (unsigned char) *s) * UINT64_C(1099511628211);
        }
        return h;
}

static char *strdup_bounded(const char *s) {
        /* The log cuts fields at AUDIT_FIELD_MAX anyway; a key keeps what a
         * record would show. */
        return s ? strndup(s, AUDIT_FIELD_MAX) : NULL;
}

static void key_clear(AggKey *k) {
        for (unsigned i = 0; i < N_FIELDS; i++)
                free(k->f[i]);
        *k = (AggKey) {};
}

static void source_free(AggSource *s) {
        if (!s)
                return;
        for (unsigned i = 0; s->keys && i < s->n_used; i++)
                key_clear(&s->keys[i]);
        for (unsigned i = 0; i < AUDIT_AGG_KINDS; i++)
                free(s->over[i].kind);
        free(s->keys);
        free(s->group);
        free(s->name);
        free(s);
}

_public_ int audit_agg_new(const AuditAggOptions *opts, AuditAggWriteFn write, void *userdata, AuditAgg **ret) {
        AuditAgg *a;

        if (!write || !ret)
                return -EINVAL;
        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->o = opts ? *opts : (AuditAggOptions) {};
        if (!a->o.window_usec)
                a->o.window_usec = AUDIT_AGG_WINDOW_USEC;
        if (!a->o.key_burst)
                a->o.key_burst = AUDIT_AGG_KEY_BURST;
        if (!a->o.budget)
                a->o.budget = AUDIT_AGG_BUDGET;
        if (!a->o.slots)
                a->o.slots = AUDIT_AGG_SLOTS;
        a->write = write;
        a->userdata = userdata;
        *ret = a;
        return 0;
}

static int write_summary(AuditAgg *a, const AggSource *s, const char *const f[N_FIELDS], uint64_t n,
                         uint64_t first, uint64_t last, bool over) {
        char t1[AUDIT_TIMESTAMP_MAX], t2[AUDIT_TIMESTAMP_MAX];
        _cleanup_(json_decrefp) json_t *extra = NULL;

        extra = json_pack("{s:I,s:s,s:s}", "suppressed", (json_int_t) n, "first",
                          audit_format_timestamp(first, t1), "last", audit_format_timestamp(last, t2));
        if (!extra || (over && json_object_set_new(extra, "over_budget", json_true()) < 0))
                return -ENOMEM;
        if (f[F_SHADOW_DECISION] && f[F_SHADOW_RULE] &&
            (json_object_set_new(extra, "shadow_decision", json_string(f[F_SHADOW_DECISION])) < 0 ||
             json_object_set_new(extra, "shadow_rule", json_string(f[F_SHADOW_RULE])) < 0))
                return -ENOMEM;
        return a->write(a->userdata, &(AuditRecord) {
                                             .group = s->group,
                                             .from = s->name,
                                             .to = f[F_TO],
                                             .kind = f[F_KIND],
                                             .op = f[F_OP],
                                             .object = f[F_OBJECT],
                                             .decision = "deny",
                                             .rule = f[F_RULE],
                                             .reason = f[F_REASON],
                                             .extra = extra,
                                     });
}

/* Writes the key's summary if it counted anything.  Returns 1 if it did,
 * 0 if there was nothing to write, a negative errno if writing failed
 * (the counts stay). */
static int key_summarize(AuditAgg *a, AggSource *s, AggKey *k) {
        int r;

        if (k->suppressed == 0)
                return 0;
        r = write_summary(a, s, (const char *const *) k->f, k->suppressed, k->first_real, k->last_real, false);
        if (r < 0)
                return r;
        k->suppressed = 0;
        return 1;
}

static void key_remove(AggSource *s, AggKey *k) {
        key_clear(k);
        /* Keep used slots dense: move the last one here. */
        if (k != &s->keys[s->n_used - 1]) {
                *k = s->keys[s->n_used - 1];
                s->keys[s->n_used - 1] = (AggKey) {};
        }
        s->n_used--;
}

static int over_summarize(AuditAgg *a, AggSource *s, AggOver *o) {
        const char *f[N_FIELDS] = {};
        int r;

        if (o->suppressed == 0)
                return 0;
        f[F_KIND] = o->kind;
        f[F_REASON] = "over this container's budget of audited denials: counted, not written one by one";
        r = write_summary(a, s, f, o->suppressed, o->first_real, o->last_real, true);
        if (r < 0)
                return r;
        o->suppressed = 0;
        return 1;
}

static AggSource *source_get(AuditAgg *a, const char *group, const char *name, uint64_t now) {
        AggSource **p, *s;

        for (p = &a->sources; (s = *p); p = &s->next)
                if (str_eq(s->name, name) && str_eq(s->group, group)) {
                        /* Move to the front: a flooding source is found first. */
                        *p = s->next;
                        s->next = a->sources;
                        a->sources = s;
                        return s;
                }
        s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        s->keys = calloc(a->o.slots, sizeof(AggKey));
        s->group = group ? strdup(group) : NULL;
        s->name = name ? strdup(name) : NULL;
        if (!s->keys || (group && !s->group) || (name && !s->name)) {
                source_free(s);
                return NULL;
        }
        s->window_start = now;
        s->next = a->sources;
        a->sources = s;
        return s;
}

static AggKey *key_find(AggSource *s, const AuditRecord *rec, uint64_t hash) {
        for (unsigned i = 0; i < s->n_used; i++) {
                AggKey *k = &s->keys[i];
                unsigned j;
                if (k->hash != hash)
                        continue;
                for (j = 0; j < N_FIELDS; j++)
                        if (!str_eq(k->f[j], field_of(rec, j)))
                                break;
                if (j == N_FIELDS)
                        return k;
        }
        return NULL;
}

static void count(uint64_t *n, uint64_t *first, uint64_t *last, uint64_t real) {
        if ((*n)++ == 0)
                *first = real;
        *last = real;
}

static AggOver *over_slot(AggSource *s, const char *kind) {
        for (unsigned i = 0; i < AUDIT_AGG_KINDS - 1; i++) {
                AggOver *o = &s->over[i];
                if (!o->kind && kind) {
                        o->kind = strndup(kind, 64);
                        if (o->kind)
                                return o;
                        break;
                }
                if (str_eq(o->kind, kind))
                        return o;
        }
        return &s->over[AUDIT_AGG_KINDS - 1];
}

_public_ int audit_agg_submit(AuditAgg *a, const AuditRecord *rec, uint64_t now, uint64_t real) {
        AggSource *s;
        AggKey *k;
        uint64_t hash;
        int r = 0;

        if (!rec->decision || !streq(rec->decision, "deny"))
                return 1;
        s = source_get(a, rec->group, rec->from, now);
        if (!s)
                return 1; /* out of memory: write it, never lose it */
        if (now >= s->window_start + a->o.window_usec) {
                s->window_start = now;
                s->written = 0;
        }
        hash = key_hash(rec);
        k = key_find(s, rec, hash);
        if (k) {
                k->last_mono = now;
                if (!k->hot && k->written < a->o.key_burst && s->written < a->o.budget) {
                        k->written++;
                        s->written++;
                        return 1;
                }
                count(&k->suppressed, &k->first_real, &k->last_real, real);
                return 0;
        }
        if (s->written >= a->o.budget) {
                AggOver *o = over_slot(s, rec->kind);
                count(&o->suppressed, &o->first_real, &o->last_real, real);
                return 0;
        }
        if (s->n_used == a->o.slots) {
                /* Evict the least recently denied key, its count first. */
                AggKey *old = &s->keys[0];
                for (unsigned i = 1; i < s->n_used; i++)
                        if (s->keys[i].last_mono < old->last_mono)
                                old = &s->keys[i];
                r = key_summarize(a, s, old);
                key_remove(s, old);
                if (r < 0)
                        return r;
        }
        k = &s->keys[s->n_used];
        *k = (AggKey) { .used = true, .hash = hash, .window_start = now, .last_mono = now, .written = 1 };
        for (unsigned i = 0; i < N_FIELDS; i++) {
                const char *v = field_of(rec, i);
                k->f[i] = strdup_bounded(v);
                if (v && !k->f[i]) {
                        key_clear(k);
                        return 1;
                }
        }
        s->n_used++;
        s->written++;
        return 1;
}

static bool source_idle(const AggSource *s) {
        if (s->n_used > 0)
                return false;
        for (unsigned i = 0; i < AUDIT_AGG_KINDS; i++)
                if (s->over[i].suppressed > 0)
                        return false;
        return true;
}

/* Closes what has ended by now (all of it if force). */
static int close_windows(AuditAgg *a, uint64_t now, bool force) {
        int ret = 0;

        for (AggSource **p = &a->sources, *s; (s = *p);) {
                bool ended = force || now >= s->window_start + a->o.window_usec;
                int r;

                for (unsigned i = 0; i < s->n_used;) {
                        AggKey *k = &s->keys[i];
                        if (!force && now < k->window_start + a->o.window_usec) {
                                i++;
                                continue;
                        }
                        r = key_summarize(a, s, k);
                        if (r < 0) {
                                if (ret == 0)
                                        ret = r;
                                i++;
                                continue;
                        }
                        if (r > 0 && !force) {
                                /* Still being denied: count from the first
                                 * one in the next window too. */
                                k->hot = true;
                                k->written = 0;
                                k->window_start = now;
                                i++;
                        } else
                                key_remove(s, k);
                }
                if (ended)
                        for (unsigned i = 0; i < AUDIT_AGG_KINDS; i++) {
                                r = over_summarize(a, s, &s->over[i]);
                                if (r < 0 && ret == 0)
                                        ret = r;
                        }
                if (ended && source_idle(s)) {
                        *p = s->next;
                        source_free(s);
                } else
                        p = &s->next;
        }
        return ret;
}

_public_ int audit_agg_tick(AuditAgg *a, uint64_t now) {
        return a ? close_windows(a, now, false) : 0;
}

_public_ int audit_agg_flush(AuditAgg *a) {
        return a ? close_windows(a, 0, true) : 0;
}

_public_ void audit_agg_free(AuditAgg *a) {
        if (!a)
                return;
        (void) audit_agg_flush(a);
        while (a->sources) {
                AggSource *s = a->sources;
                a->sources = s->next;
                source_free(s);
        }
        free(a);
}

_public_ bool audit_agg_idle(const AuditAgg *a) {
        return !a || !a->sources;
}

_public_ uint64_t audit_agg_get_pending(const AuditAgg *a) {
        uint64_t n = 0;

        for (const AggSource *s = a ? a->sources : NULL; s; s = s->next) {
                for (unsigned i = 0; i < s->n_used; i++)
                        n += s->keys[i].suppressed;
                for (unsigned i = 0; i < AUDIT_AGG_KINDS; i++)
                        n += s->over[i].suppressed;
        }
        return n;
}
