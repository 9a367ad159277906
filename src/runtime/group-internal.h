/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Internals of the group file reader, shared by group.c (file, top level,
 * policy), group-container.c (one container's keys) and group-graph.c
 * (depends_on, cycles, start order, policy warnings).  No globals: the
 * reading state lives in a GroupContext. */

#include <stdarg.h>

#include "common/macro.h"
#include "policy/policy-internal.h"
#include "policy/ytree.h"
#include "runtime/group.h"

typedef struct GroupContext {
        const char *file;               /* the group file, as shown in diagnostics */
        char *dir;                      /* its directory, as shown ("." if none) */
        char *abs_dir;                  /* its directory, absolute (realpath) */
        bool truncated;                 /* a syntax error cut the reading short */
        PolicyDiagnostics diags;
        Group *group;
        /* Per container (parallel to group->containers): the depends_on
         * item nodes, for positions in graph errors. */
        const YNode ***dep_nodes;
        size_t n_dep_nodes;
        int oom;
} GroupContext;

void group_error(GroupContext *c, const YNode *at, const char *fmt, ...) _printf_(3, 4);
void group_warning(GroupContext *c, const YNode *at, const char *fmt, ...) _printf_(3, 4);

/* Typed access to values; each reports its own error at the value and
 * returns -EINVAL (or -ENOMEM, also recorded in c->oom). */
int group_want_string(GroupContext *c, const char *key, const YNode *v, const char **ret);
int group_want_mapping(GroupContext *c, const char *key, const YNode *v);
int group_want_list(GroupContext *c, const char *key, const YNode *v);
int group_want_uint(GroupContext *c, const char *key, const YNode *v, uint64_t max, uint64_t *ret);
int group_want_port(GroupContext *c, const char *key, const YNode *v, uint16_t *ret);
int group_want_duration(GroupContext *c, const char *key, const YNode *v, uint64_t min, uint64_t max,
                        uint64_t *ret);
/* true or false, unquoted (YAML 1.2's words only). */
int group_want_bool(GroupContext *c, const char *key, const YNode *v, bool *ret);
/* A 'learn' key's value: also remembers where the first 'learn: true' is. */
int group_want_learn(GroupContext *c, const YNode *v, bool *ret);
/* An absolute path without "." or ".." components. */
int group_want_clean_path(GroupContext *c, const char *key, const YNode *v, char **ret);
/* A non-empty list of strings (argv), or one string run with /bin/sh -c. */
int group_want_command(GroupContext *c, const char *key, const YNode *v, char ***ret);

/* Key → handler tables: every entry starts with its 'const char *name'.
 * Looks 'key' up in a table of n entries of 'stride' bytes, reports
 * unknown and duplicate keys ('where' ends the unknown-key message).
 * Returns the index, or -1 if the key is to be skipped. */
typedef struct GroupKeySeen {
        const YNode *key[32];
} GroupKeySeen;
int group_lookup_key(GroupContext *c, const YNode *key, const void *table, size_t stride, size_t n,
                     GroupKeySeen *seen, const char *where);

/* 'p' if absolute; else c->abs_dir joined with p, "." and ".." resolved
 * lexically. */
int group_resolve_path(GroupContext *c, const char *p, char **ret);

/* group-container.c: fills gc (whose name is set) from its mapping;
 * 'index' is its place in group->containers, SIZE_MAX for a duplicate
 * that is only checked; 'name' is its key, for positions. */
int group_parse_container(GroupContext *c, size_t index, GroupContainer *gc, const YNode *name,
                          const YNode *node);
void group_container_done(GroupContainer *gc);

/* group-graph.c: resolves depends_on, reports unknown names and cycles,
 * computes the start order; then the policy warnings. */
int group_check_graph(GroupContext *c);
int group_check_policy(GroupContext *c);
