/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A strict YAML reader (internal): libyaml events turned into a small tree
 * with 1-based positions.  Anchors, aliases, tags, several documents, NUL
 * bytes in strings, over-long strings and nesting deeper than
 * POLICY_DEPTH_MAX are reported as errors; where it can, the reader goes on
 * so that every problem in a file is reported at once.  Nesting too deep
 * is the exception: reading stops at the first collection past the cap,
 * which keeps the work linear in the input (see on_collection_start()).
 * Every YAML file of the project (policies, app groups) is read here.  The
 * tree reading is separate from the policy semantics so both can be tested
 * alone. */

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"

typedef enum YNodeType {
        YNODE_SCALAR,
        YNODE_SEQUENCE,
        YNODE_MAPPING,
} YNodeType;

typedef struct YNode {
        YNodeType type;
        unsigned line, column;          /* 1-based */
        bool plain;                     /* scalar written without quotes */
        bool bad;                       /* placeholder for something already
                                         * reported (alias, too deep) */
        char *value;                    /* scalar, NUL-terminated */
        size_t len;
        struct YNode **items;           /* sequence: items; mapping: key,
                                         * value, key, value... */
        size_t n_items;
} YNode;

/* Returns 0 and a tree (NULL for an empty stream), or -EINVAL after adding
 * errors for 'file' to diags (*ret then holds whatever could be read, or
 * NULL; *ret_truncated tells whether a syntax error cut the reading
 * short), or -ENOMEM. */
int ytree_parse(const char *file, const char *data, size_t size, PolicyDiagnostics *diags, YNode **ret,
                bool *ret_truncated);
/* Same, and counts the libyaml events read into *ret_events (for tests
 * that check the reader's work against the input's size). */
int ytree_parse_counted(const char *file, const char *data, size_t size, PolicyDiagnostics *diags,
                        YNode **ret, bool *ret_truncated, size_t *ret_events);
YNode *ytree_free(YNode *n);

/* Plain scalars "", "~", "null", "Null", "NULL". */
bool ynode_is_null(const YNode *n);
/* Plain scalars YAML reads as booleans (true/false/yes/no/on/off...). */
bool ynode_is_bool(const YNode *n);
const char *ynode_type_name(const YNode *n);
