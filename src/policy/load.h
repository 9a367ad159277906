/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The loader's state (internal), shared by load.c (files, includes, top
 * level) and rules.c (one rule).  No globals: everything lives here. */

#include <sys/types.h>

#include "policy/policy-internal.h"
#include "policy/ytree.h"

typedef struct FileId {
        dev_t dev;
        ino_t ino;
} FileId;

typedef struct LoadContext {
        Policy *policy;
        PolicyDiagnostics diags;
        PolicyLoadFlags flags;
        time_t now;                     /* only for "already expired" warnings */

        FileId stack[POLICY_INCLUDE_DEPTH_MAX + 1];  /* files being read */
        unsigned depth;
        FileId *loaded;
        size_t n_loaded;
        size_t total_size;              /* bytes of every file read */
        size_t n_rules;                 /* rules seen, valid or not */
        size_t n_tests;                 /* test cases seen, valid or not */
        bool over_limit;                /* a whole-load bound was hit */

        PolicyRule **ids;               /* open-addressing set of rules by id */
        size_t n_ids, ids_size;

        char *default_at, *audit_at;    /* where 'default'/'audit' were set */
        int oom;
} LoadContext;

typedef struct FileState {
        const char *name;               /* as shown in diagnostics */
        char *dir;                      /* base for relative includes */
        bool have_version;
        bool truncated;                 /* a syntax error cut reading short */
} FileState;

void load_error(LoadContext *c, const FileState *fs, const YNode *at, const char *fmt, ...) _printf_(4, 5);
void load_warning(LoadContext *c, const FileState *fs, const YNode *at, const char *fmt, ...) _printf_(4, 5);

/* Typed access to values; each reports its own error at the value and
 * returns -EINVAL (or -ENOMEM). */
int want_string(LoadContext *c, const FileState *fs, const char *key, const YNode *v, const char **ret);
int want_list(LoadContext *c, const FileState *fs, const char *key, const YNode *v, bool scalar_ok,
              YNode *const **ret_items, size_t *ret_n);
int want_uint(LoadContext *c, const FileState *fs, const char *key, const YNode *v, uint64_t *ret);
int want_mapping(LoadContext *c, const FileState *fs, const char *key, const YNode *v);

/* A key → handler table entry; 'seen' tracking catches duplicate keys. */
typedef struct KeySeen {
        const YNode *key[32];
} KeySeen;
/* Looks key up in a table of n entries of 'stride' bytes, each starting
 * with its 'const char *name'; reports unknown and duplicate keys.  Returns
 * the index, or -1 if the key is to be skipped. */
int lookup_key(LoadContext *c, const FileState *fs, const YNode *key, const void *table, size_t stride,
               size_t n, KeySeen *seen, const char *where);

int parse_rule(LoadContext *c, FileState *fs, const YNode *node);

/* tests.c: the 'tests' list of one file; running every case of a compiled
 * policy, each failure an error in diags. */
int parse_tests(LoadContext *c, FileState *fs, const YNode *v);
int run_tests(Policy *p, PolicyDiagnostics *diags);
