/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The smallest policy allowing what an audit log shows (policy-draft.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit-request.h"
#include "cli/policy-draft.h"
#include "common/macro.h"

#define DRAFT_ID_BASE_MAX 100 /* a rule id is at most 128 characters: room for "-N" */

/* One (from, to, kind, object): a rule of the draft. */
typedef struct Entry {
        char *from, *to;
        PolicyKind kind;
        PolicyName name_kind;   /* transfer */
        char *object;           /* endpoint, app, path, pid's executable, service, signal's executable */
        char **args;            /* invoke */
        size_t n_args;
        char *signal;           /* signal: as recorded (a name or a number) */
        char *type;             /* ipc: the type asked (NULL: not said, or differing) */
        bool type_set;
        PolicyMode mode;        /* ipc (fifo): the end; transfer: the most access asked */
        bool mode_differs;      /* ipc: ends differ (the rule grants either) */
        size_t n, n_learn, n_deny, n_allow;
        char first[40], last[40];
        bool written;
} Entry;

struct PolicyDraft {
        bool generalize;
        Entry *entries;
        size_t n_entries, n_requests;
        json_t *index; /* key → entry index */
};

PolicyDraft *policy_draft_new(bool generalize) {
        PolicyDraft *d = calloc(1, sizeof(*d));

        if (!d)
                return NULL;
        d->generalize = generalize;
        d->index = json_object();
        if (!d->index) {
                free(d);
                return NULL;
        }
        return d;
}

PolicyDraft *policy_draft_free(PolicyDraft *d) {
        if (!d)
                return NULL;
        for (size_t i = 0; i < d->n_entries; i++) {
                Entry *e = &d->entries[i];
                free(e->from);
                free(e->to);
                free(e->object);
                for (size_t j = 0; j < e->n_args; j++)
                        free(e->args[j]);
                free(e->args);
                free(e->signal);
                free(e->type);
        }
        free(d->entries);
        json_decref(d->index);
        free(d);
        return NULL;
}

size_t policy_draft_n_requests(const PolicyDraft *d) {
        return d->n_requests;
}

/* Whether rec is a request the draft must allow (policy-draft.h). */
static bool counts(json_t *rec) {
        const char *decision = json_string_value(json_object_get(rec, "decision"));
        const char *rule = json_string_value(json_object_get(rec, "rule"));
        const char *kind = json_string_value(json_object_get(rec, "kind"));

        if (!decision || !rule || !kind || streq(rule, "-") || streq(kind, "depend"))
                return false;
        /* The decision of a request that acts (--audit-sync sync): its
         * outcome's record follows and counts it (docs/AUDIT.md). */
        if (json_object_get(rec, "phase"))
                return false;
        if (streq(decision, "learn") || streq(decision, "allow"))
                return true;
        return streq(decision, "deny") && streq(rule, "default");
}

static int key_of(const AuditRequest *a, json_t *rec, char **ret) {
        _cleanup_free_ char *args = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&args, &len);

        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < a->req.n_args; i++)
                fprintf(f, "\x1f%s", a->req.args[i]);
        if (fclose(f) != 0)
                return -ENOMEM;
        if (asprintf(ret, "%s\x1e%s\x1e%d\x1e%d\x1e%s\x1e%s\x1e%s", a->req.from, a->req.to, (int) a->req.kind,
                     (int) a->req.name_kind, a->req.object ?: "", args ?: "",
                     a->req.kind == POLICY_KIND_SIGNAL ? strrchr(json_string_value(json_object_get(rec, "object")), ':')
                                                       : "") < 0)
                return -ENOMEM;
        return 0;
}

static int entry_init(Entry *e, const AuditRequest *a, json_t *rec) {
        const char *obj = json_string_value(json_object_get(rec, "object"));

        *e = (Entry){ .kind = a->req.kind, .name_kind = a->req.name_kind, .mode = POLICY_MODE_NONE };
        e->from = strdup(a->req.from);
        e->to = strdup(a->req.to);
        e->object = a->req.object ? strdup(a->req.object) : NULL;
        if (!e->from || !e->to || (a->req.object && !e->object))
                return -ENOMEM;
        if (a->req.n_args > 0) {
                e->args = calloc(a->req.n_args, sizeof(char *));
                if (!e->args)
                        return -ENOMEM;
                for (size_t i = 0; i < a->req.n_args; i++) {
                        e->args[i] = strdup(a->req.args[i]);
                        if (!e->args[i])
                                return -ENOMEM;
                        e->n_args = i + 1;
                }
        }
        if (a->req.kind == POLICY_KIND_SIGNAL && !(e->signal = strdup(strrchr(obj, ':') + 1)))
                return -ENOMEM;
        return 0;
}

/* A path a rule can name: absolute and normalised (no ".", "..", "//" or
 * trailing '/'), as the policy loader wants it. */
static bool path_ok(const char *p) {
        size_t n;

        if (!p || p[0] != '/')
                return false;
        if (streq(p, "/"))
                return true;
        n = strlen(p);
        if (p[n - 1] == '/' || strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../"))
                return false;
        return !(n >= 2 && streq(p + n - 2, "/.")) && !(n >= 3 && streq(p + n - 3, "/.."));
}

/* Whether a rule can name the object of a request exactly. */
static bool nameable(const AuditRequest *a) {
        switch (a->req.kind) {
        case POLICY_KIND_INVOKE:
                return path_ok(a->req.object);
        case POLICY_KIND_TRANSFER:
                return (a->req.name_kind != POLICY_NAME_PATH && a->req.name_kind != POLICY_NAME_PID) ||
                       path_ok(a->req.object);
        case POLICY_KIND_SIGNAL:
                return !a->req.object || !a->req.object[0] || path_ok(a->req.object);
        case POLICY_KIND_IPC:
                return a->req.object && a->req.object[0];
        default:
                return false;
        }
}

int policy_draft_add(PolicyDraft *d, json_t *rec) {
        _cleanup_free_ char *key = NULL;
        const char *why, *decision, *ts;
        json_t *sup, *at;
        AuditRequest a;
        Entry *e;
        size_t n = 1;
        int r;

        if (!counts(rec))
                return 0;
        memset(&a, 0, sizeof(a));
        if (audit_record_request(rec, &a, &why) < 0 || a.note)
                return 0;
        /* Only what a rule can name exactly (the broker refuses such
         * requests before the policy is asked; a record that says
         * otherwise is not drafted rather than spoil the draft). */
        if (!nameable(&a))
                return 0;
        r = key_of(&a, rec, &key);
        if (r < 0)
                return r;
        at = json_object_get(d->index, key);
        if (at)
                e = &d->entries[json_integer_value(at)];
        else {
                Entry *p = reallocarray(d->entries, d->n_entries + 1, sizeof(Entry));
                if (!p)
                        return -ENOMEM;
                d->entries = p;
                e = &d->entries[d->n_entries++];
                r = entry_init(e, &a, rec);
                if (r < 0 || json_object_set_new(d->index, key, json_integer((json_int_t) (e - d->entries))) < 0)
                        return -ENOMEM;
        }

        /* A summary of counted denials stands for itself and its repeats. */
        sup = json_object_get(rec, "suppressed");
        if (json_is_integer(sup) && json_integer_value(sup) > 0)
                n += (size_t) json_integer_value(sup);
        decision = json_string_value(json_object_get(rec, "decision"));
        e->n += n;
        if (streq(decision, "learn"))
                e->n_learn += n;
        else if (streq(decision, "deny"))
                e->n_deny += n;
        else
                e->n_allow += n;
        d->n_requests += n;

        ts = json_string_value(json_object_get(rec, json_is_integer(sup) ? "first" : "ts")) ?:
             json_string_value(json_object_get(rec, "ts"));
        if (ts && (!e->first[0] || strcmp(ts, e->first) < 0))
                snprintf(e->first, sizeof(e->first), "%s", ts);
        ts = json_string_value(json_object_get(rec, json_is_integer(sup) ? "last" : "ts")) ?:
             json_string_value(json_object_get(rec, "ts"));
        if (ts && strcmp(ts, e->last) > 0)
                snprintf(e->last, sizeof(e->last), "%s", ts);

        if (a.req.kind == POLICY_KIND_IPC) {
                const char *type = json_string_value(json_object_get(rec, "type"));
                if (!e->type_set) {
                        e->type_set = true;
                        e->type = type ? strdup(type) : NULL;
                        if (type && !e->type)
                                return -ENOMEM;
                        e->mode = a.req.mode;
                } else {
                        if (!type || !e->type || !streq(type, e->type)) {
                                free(e->type);
                                e->type = NULL;
                        }
                        if (a.req.mode != e->mode)
                                e->mode_differs = true;
                }
        } else if (a.req.kind == POLICY_KIND_TRANSFER && a.req.name_kind == POLICY_NAME_PATH) {
                if (a.req.mode == POLICY_MODE_RW || e->mode == POLICY_MODE_NONE)
                        e->mode = a.req.mode == POLICY_MODE_RW ? POLICY_MODE_RW : POLICY_MODE_RO;
        }
        return 1;
}

/* ---- writing ----------------------------------------------------------- */

/* s as a YAML double-quoted scalar; glob characters escaped (a pattern
 * that matches s alone) unless literal is false. */
static void put_str(FILE *f, const char *s, bool escape_glob) {
        fputc('"', f);
        for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
                if (escape_glob && strchr("*?[]\\", *c))
                        fputs("\\\\", f); /* the glob's backslash, written for YAML */
                if (*c == '"' || *c == '\\')
                        fputc('\\', f);
                if (*c < 0x20 || *c == 0x7f)
                        fprintf(f, "\\x%02x", *c);
                else
                        fputc(*c, f);
        }
        fputc('"', f);
}

static const char *last_part(const char *name) {
        const char *s = strrchr(name, '/');
        return s ? s + 1 : name;
}

static void rule_id(json_t *used, const Entry *e, char *buf, size_t size) {
        char base[DRAFT_ID_BASE_MAX + 1];

        snprintf(base, sizeof(base), "%s-%s-%s", last_part(e->from), policy_kind_to_string(e->kind),
                 last_part(e->to));
        snprintf(buf, size, "%s", base);
        for (unsigned i = 2; json_object_get(used, buf); i++)
                snprintf(buf, size, "%s-%u", base, i);
        (void) json_object_set_new(used, buf, json_true());
}

static bool same_route(const Entry *a, const Entry *b) {
        return a->kind == b->kind && a->name_kind == b->name_kind && streq(a->from, b->from) && streq(a->to, b->to);
}

static size_t dir_len(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? (size_t) (s - path) : 0;
}

/* With generalize: the entries that join e's rule (e included), as
 * indices in members, and how many. */
static size_t group_of(PolicyDraft *d, size_t i, size_t *members) {
        const Entry *e = &d->entries[i];
        size_t n = 0;

        members[n++] = i;
        if (!d->generalize)
                return n;
        for (size_t j = i + 1; j < d->n_entries; j++) {
                const Entry *o = &d->entries[j];
                if (o->written || !same_route(e, o))
                        continue;
                if (e->kind == POLICY_KIND_TRANSFER && e->name_kind == POLICY_NAME_PATH && o->mode == e->mode &&
                    dir_len(o->object) == dir_len(e->object) && strneq(o->object, e->object, dir_len(e->object)))
                        members[n++] = j;
                else if (e->kind == POLICY_KIND_INVOKE && streq(o->object, e->object))
                        members[n++] = j;
        }
        return n;
}

static void write_rule(PolicyDraft *d, json_t *used, const size_t *members, size_t n_members, FILE *f) {
        Entry *e = &d->entries[members[0]];
        size_t n = 0, n_learn = 0, n_deny = 0, n_allow = 0;
        const char *first = e->first, *last = e->last;
        char id[160];

        for (size_t k = 0; k < n_members; k++) {
                Entry *o = &d->entries[members[k]];
                o->written = true;
                n += o->n;
                n_learn += o->n_learn;
                n_deny += o->n_deny;
                n_allow += o->n_allow;
                if (strcmp(o->first, first) < 0)
                        first = o->first;
                if (strcmp(o->last, last) > 0)
                        last = o->last;
        }
        fprintf(f, "  # seen %zu time%s (", n, n == 1 ? "" : "s");
        {
                const char *sep = "";
                if (n_learn)
                        fprintf(f, "%s%zu learned", sep, n_learn), sep = ", ";
                if (n_deny)
                        fprintf(f, "%s%zu denied", sep, n_deny), sep = ", ";
                if (n_allow)
                        fprintf(f, "%s%zu allowed", sep, n_allow);
        }
        fprintf(f, "), first %s, last %s", first[0] ? first : "?", last[0] ? last : "?");
        if (n_members > 1)
                fprintf(f, "; %zu requests generalized", n_members);
        fputc('\n', f);

        rule_id(used, e, id, sizeof(id));
        fprintf(f, "  - id: %s\n    from: ", id);
        put_str(f, e->from, true);
        fputs("\n    to: ", f);
        put_str(f, e->to, true);
        fprintf(f, "\n    allow: %s\n", policy_kind_to_string(e->kind));

        switch (e->kind) {
        case POLICY_KIND_IPC:
                fputs("    endpoint: ", f);
                put_str(f, e->object, true);
                fputc('\n', f);
                if (e->type)
                        fprintf(f, "    type: %s\n", e->type);
                if (e->type && streq(e->type, "fifo") && !e->mode_differs &&
                    (e->mode == POLICY_MODE_RO || e->mode == POLICY_MODE_WO))
                        fprintf(f, "    mode: %s\n", policy_mode_to_string(e->mode));
                break;
        case POLICY_KIND_INVOKE: {
                bool same_n = true;

                fputs("    app: ", f);
                put_str(f, e->object, true);
                fputc('\n', f);
                for (size_t k = 1; k < n_members; k++)
                        if (d->entries[members[k]].n_args != e->n_args)
                                same_n = false;
                if (!same_n)
                        break; /* generalized: any arguments */
                fputs("    args: [", f);
                for (size_t i = 0; i < e->n_args; i++) {
                        bool star = false;
                        for (size_t k = 1; k < n_members; k++)
                                if (!streq(d->entries[members[k]].args[i], e->args[i]))
                                        star = true;
                        if (i > 0)
                                fputs(", ", f);
                        if (star)
                                fputs("\"*\"", f);
                        else if (streq(e->args[i], "..."))
                                fputs("\"\\\\...\"", f); /* not the "any further" marker */
                        else
                                put_str(f, e->args[i], true);
                }
                fputs("]\n", f);
                break;
        }
        case POLICY_KIND_TRANSFER:
                switch (e->name_kind) {
                case POLICY_NAME_PATH:
                        fputs("    path: ", f);
                        if (n_members > 1) {
                                size_t l = dir_len(e->object);
                                char *dir = strndup(e->object, l);
                                fputc('"', f);
                                if (dir) {
                                        /* put_str without its quotes */
                                        for (const char *c = dir; *c; c++) {
                                                if (strchr("*?[]\\", *c))
                                                        fputs("\\\\", f);
                                                if (*c == '"' || *c == '\\')
                                                        fputc('\\', f);
                                                fputc(*c, f);
                                        }
                                        free(dir);
                                }
                                fputs("/*\"", f);
                        } else
                                put_str(f, e->object, true);
                        fprintf(f, "\n    mode: %s\n", e->mode == POLICY_MODE_RW ? "rw" : "ro");
                        break;
                case POLICY_NAME_PID:
                        fputs("    pid: ", f);
                        put_str(f, e->object, true);
                        fputc('\n', f);
                        break;
                case POLICY_NAME_SERVICE:
                        fputs("    service: ", f);
                        put_str(f, e->object, true);
                        fputc('\n', f);
                        break;
                case POLICY_NAME_HOST:
                        fputs("    host: true\n", f);
                        break;
                default:
                        break;
                }
                break;
        case POLICY_KIND_SIGNAL:
                if (e->object && e->object[0]) {
                        fputs("    app: ", f);
                        put_str(f, e->object, true);
                        fputc('\n', f);
                }
                fputs("    signals: [", f);
                put_str(f, e->signal, false);
                fputs("]\n", f);
                break;
        default:
                break;
        }
}

size_t policy_draft_n_rules(const PolicyDraft *d) {
        PolicyDraft *w = (PolicyDraft *) d;
        _cleanup_free_ size_t *members = calloc(d->n_entries + 1, sizeof(size_t));
        size_t n = 0;

        if (!members)
                return d->n_entries;
        for (size_t i = 0; i < d->n_entries; i++)
                if (!w->entries[i].written) {
                        size_t m = group_of(w, i, members);
                        for (size_t k = 0; k < m; k++)
                                w->entries[members[k]].written = true;
                        n++;
                }
        for (size_t i = 0; i < d->n_entries; i++)
                w->entries[i].written = false;
        return n;
}

int policy_draft_write(PolicyDraft *d, const char *header, FILE *f) {
        _cleanup_free_ size_t *members = calloc(d->n_entries + 1, sizeof(size_t));
        json_t *used = json_object();

        if (!members || !used) {
                json_decref(used);
                return -ENOMEM;
        }
        if (header)
                for (const char *p = header; *p;) {
                        size_t l = strcspn(p, "\n");
                        fprintf(f, "# %.*s\n", (int) l, p);
                        p += l;
                        if (*p)
                                p++;
                }
        fputs("version: 1\ndefault: deny\naudit: all\n", f);
        if (d->n_entries == 0)
                fputs("rules: []\n", f);
        else
                fputs("rules:\n", f);
        for (size_t i = 0; i < d->n_entries; i++)
                if (!d->entries[i].written)
                        write_rule(d, used, members, group_of(d, i, members), f);
        for (size_t i = 0; i < d->n_entries; i++)
                d->entries[i].written = false;
        json_decref(used);
        return ferror(f) ? -EIO : 0;
}
