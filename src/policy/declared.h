/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The declared graph: which interactions a policy allows between two
 * containers, whatever the object, for tools that draw or walk it
 * (`shuttlectl audit graph --policy`).  No I/O, like the rest of the
 * policy library. */

#include <time.h>

#include "policy/policy.h"

typedef struct PolicyDeclaredEdge {
        PolicyKind kind;
        /* The rule's object pattern as written (ipc: endpoint; invoke and
         * signal: app; transfer: path, pid or service; depend: path or
         * service); NULL when it names none (any object). */
        const char *object;
        const char *rule_id;
        const char *rule_file;
        unsigned rule_line;
} PolicyDeclaredEdge;

typedef void (*PolicyDeclaredEdgeFn)(const PolicyDeclaredEdge *e, void *userdata);

/* Calls fn once per allow rule and kind for which the rule's from and to
 * match from and to ("name" or "group/name"), the rule is not expired at
 * now, and the rule is not taken back whole: no deny rule that matches
 * from and to and is not expired at now matches every request of that
 * kind the rule matches (a deny beats any allow, decide.c), as
 * rule_kind_covers() compares them, key by key, the comparison of policy
 * reach and policy lint.  Sound, not complete: a deny that refuses only
 * part of what the rule grants leaves the edge declared, and so does one
 * the comparison cannot tell covers all of it.  Returns the number of
 * calls, or -EINVAL. */
int policy_for_each_declared(const Policy *p, const char *from, const char *to, time_t now,
                             PolicyDeclaredEdgeFn fn, void *userdata);

/* Calls fn for every container a rule's from or to names literally (no
 * glob in the name; group NULL when the pattern has none, else the
 * group, which may be a glob), once per rule side: callers remove the
 * repeats.  Returns the number of calls, or -EINVAL. */
typedef void (*PolicyNamedContainerFn)(const char *group, const char *name, void *userdata);
int policy_for_each_named_container(const Policy *p, PolicyNamedContainerFn fn, void *userdata);
