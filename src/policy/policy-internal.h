/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Internals shared by the policy library's files (and its unit tests). */

#include <stdarg.h>

#include "common/macro.h"
#include "policy/glob.h"
#include "policy/policy.h"

#define KIND_BIT(k) (1u << (k))
#define ALL_KINDS ((1u << _POLICY_KIND_MAX) - 1)

/* "name" or "group/name"; a pattern without '/' matches the name part of
 * any container, grouped or not. */
typedef struct ContainerPattern {
        char *text;
        bool has_group;
        Glob group;
        Glob name;
} ContainerPattern;

struct PolicyRule {
        size_t index;                   /* file order across the policy */
        char *id;
        char *file;
        unsigned line, column;
        bool id_generated;

        PolicyVerdict verdict;
        unsigned kinds;                 /* KIND_BIT() mask */
        ContainerPattern from, to;

        Glob endpoint;                  /* ipc */
        PolicyIpcType ipc_type;
        PolicyMode ipc_mode;            /* ipc, type fifo: RO, WO or RW; NONE = either end */
        Glob app;                       /* invoke, signal */
        Glob *args;                     /* invoke */
        size_t n_args;
        bool has_args, args_rest;
        char **env;                     /* invoke: NULL-terminated */
        Glob *env_globs;
        size_t n_env;
        PolicyMode invoke_transfer;
        Glob path;                      /* transfer, depend */
        PolicyMode mode;                /* transfer (paths), depend */
        char *as;                       /* transfer (paths) */
        char *at;                       /* depend */
        Glob service;                   /* depend; transfer: services of 'to' */
        Glob pid;                       /* transfer: processes of these apps */
        bool host;                      /* transfer: the host name of 'to' */
        PolicyName transfer_name;       /* transfer: the name kind its key says;
                                         * _POLICY_NAME_INVALID = no key, any */
        uint64_t signals;               /* signal: bit (n-1) per signal n; 0 = any */
        char **signal_names;            /* as written, for show */

        bool has_audit;
        PolicyAudit audit;
        PolicyLimits limits;
        char *rate_text;
        bool has_until;
        time_t until;
        char *until_text;
        bool shadow;                    /* decides only the shadow decision */
        uint64_t ask_usec;              /* 'ask': how long a request waits for an
                                         * operator's answer; 0 = not an ask rule */

        /* Specificity per kind: higher wins; see compile.c. */
        uint64_t score[_POLICY_KIND_MAX];
};

/* An index bucket: rule indices in file order. */
typedef struct RuleList {
        uint32_t *items;
        size_t n, allocated;
} RuleList;

typedef struct IndexEntry {
        const char *k1, *k2;            /* k2 NULL for single-key tables */
        uint32_t hash;
        RuleList rules;
} IndexEntry;

typedef struct IndexTable {
        IndexEntry *entries;            /* open addressing, power of two */
        size_t n, size;
} IndexTable;

/* Rules of one kind, keyed by the literal name parts of from/to. */
typedef struct KindIndex {
        IndexTable pair;                /* from literal, to literal */
        IndexTable from_only;           /* from literal, to glob */
        IndexTable to_only;             /* from glob, to literal */
        RuleList globs;                 /* both globs */
        IndexTable by_from;             /* from literal: the rules of pair and from_only */
        IndexTable by_to;               /* to literal: the rules of pair and to_only */
        size_t n_rules;
} KindIndex;

/* One case of a 'tests' list: a request and what it must get. */
typedef struct PolicyTest {
        char *file;
        unsigned line, column;
        char *name;
        PolicyRequest req;              /* its strings point into 'strings' */
        bool has_now;
        PolicyVerdict expect;
        char *expect_rule;
        char *from, *to, *object;       /* what req points to */
        char **args, **env;             /* NULL-terminated */
} PolicyTest;

struct Policy {
        unsigned n_ref;
        PolicyTest **tests;
        size_t n_tests, allocated_tests;
        PolicyRule **ids;               /* open addressing by id, power of two */
        size_t ids_size;
        PolicyVerdict default_verdict;
        PolicyAudit audit;
        PolicyRule **rules;
        size_t n_rules, allocated;
        size_t n_shadow;                /* rules with 'shadow: true' */
        KindIndex index[_POLICY_KIND_MAX];
};

/* diag.c */
int diags_addv(PolicyDiagnostics *d, bool warning, const char *file, unsigned line, unsigned column,
               const char *fmt, va_list ap) _printf_(6, 0);
int diags_add(PolicyDiagnostics *d, bool warning, const char *file, unsigned line, unsigned column,
              const char *fmt, ...) _printf_(6, 7);
void diags_move(PolicyDiagnostics *to, PolicyDiagnostics *from);

/* rule.c */
int container_pattern_compile(const char *text, ContainerPattern *ret, const char **ret_error);
void container_pattern_done(ContainerPattern *p);
bool container_pattern_match(const ContainerPattern *p, const char *group, const char *name);
/* Splits "group/name" without allocating; group is NULL/0 for plain names. */
void container_split(const char *s, const char **ret_group, size_t *ret_group_len, const char **ret_name);
PolicyRule *policy_rule_free(PolicyRule *r);
int parse_timestamp(const char *s, time_t *ret);
int format_timestamp(time_t t, char *buf, size_t size);
int parse_rate(const char *s, uint64_t *ret_count, uint64_t *ret_interval_usec);
bool path_is_normalized(const char *p);

/* compile.c */
Policy *policy_new(void);
void policy_free(Policy *p);
int policy_compile(Policy *p);
int policy_add_rule(Policy *p, PolicyRule *r);
uint64_t rule_score(const PolicyRule *r, PolicyKind k);
/* Calls f for every candidate rule of the request's kind (a superset of the
 * matching rules, each once). */
typedef void (*candidate_fn)(const PolicyRule *r, void *userdata);
void policy_for_each_candidate(const Policy *p, PolicyKind k, const char *from_name,
                               const char *to_name, candidate_fn f, void *userdata);
/* Only the rules whose 'from' name is the literal from_name: those whose
 * 'to' name is the literal to_name (none if to_name is NULL) and those
 * whose 'to' name is a glob. */
void policy_for_each_literal_from(const Policy *p, PolicyKind k, const char *from_name, const char *to_name,
                                  candidate_fn f, void *userdata);

/* cover.c: whether one rule matches every request another matches (the
 * fields of a kind; from, to and until are the caller's).  Sound, not
 * complete: "yes" is true, "no" may mean "could not tell".  Shared by
 * lint.c, reach.c and declared.c, so that "does this deny take back that
 * allow whole" has one answer. */
/* Pattern b matches every object pattern a matches.  An unset pattern
 * matches every object, none included: only an unset b covers it. */
bool object_covers(const Glob *b, const Glob *a);
/* Rule b matches every request of kind k that rule a matches; if b is an
 * allow (a then is one too), b also grants all a grants (a FIFO's end, a
 * path's or tree's mode).  'part' narrows the requests to those naming
 * one kind of object: transfer, by name kind; depend, POLICY_NAME_PATH for
 * trees and POLICY_NAME_SERVICE for services; _POLICY_NAME_INVALID for
 * every request of the kind.  A rule a with no request of that part is
 * covered by any b. */
bool rule_kind_covers(const PolicyRule *b, const PolicyRule *a, PolicyKind k, PolicyName part);

/* tests.c */
PolicyTest *policy_test_free(PolicyTest *t);

/* load.c */
int policy_load_internal(const char *const *paths, size_t n_paths, const char *name,
                         const void *data, size_t size, PolicyLoadFlags flags, Policy **ret,
                         PolicyDiagnostics *diags);

/* Builds a policy from a YAML mapping that another file embeds (an app
 * group's inline 'policy:'), with the policy loader's own rules, so every
 * diagnostic keeps that file's name and positions.  'root' is the mapping
 * holding version/default/audit/include/rules; relative includes are
 * relative to file's directory; 'truncated' (from ytree_parse) suppresses
 * "missing key" errors after a syntax error.  Returns like policy_load(). */
typedef struct YNode YNode;
int policy_load_node(const char *file, const YNode *root, bool truncated, Policy **ret,
                     PolicyDiagnostics *diags);
