/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `shuttlectl policy draft`: the smallest policy that allows what an audit
 * log shows was asked (pure: records in, YAML text out; unit-tested in
 * tests/unit/test-policy-draft).
 *
 * Which records count (a "request" below):
 *  - decision "learn" (allowed by learn mode);
 *  - decision "deny" by rule "default" (no rule matched);
 *  - decision "allow" by a rule (so that the draft is a whole policy and
 *    can replace the one that decided them).
 * Never: denials by a deny rule the operator wrote, refusals that are not
 * the policy's (rule "-": malformed, refused before the policy was asked,
 * a peer check), denials over a rule's limit (they name the allow rule but
 * the policy allowed them: the allow record of the same request counts),
 * records that are no request (a container's start, a revocation, a
 * reload), depend records (trees are granted by rules, not asked for),
 * records audit_record_request() cannot read back, or only in part, and
 * requests whose path (an app, a transferred path, an executable) is not
 * absolute and normalised, which no rule can name.
 *
 * One allow rule per (from, to, kind, object) as audit_record_request()
 * reads it (an invocation's object is its app with its arguments, a
 * signal's the executable with the signal), every literal written as a
 * pattern that matches only itself (glob characters escaped), each with a
 * comment saying how often and when it was seen.  With generalize:
 *  - transfers of paths: two or more paths one caller transferred from the
 *    same directory to one target, with the same access, become one rule
 *    for DIR/ * (one component);
 *  - invocations: one caller's invocations of one app in one target with
 *    the same number of arguments become one rule whose differing
 *    positions are '*' (a position that never differed stays literal);
 *    with differing numbers of arguments, one rule without 'args' (any).
 * Nothing else is generalized: names of containers, services, signals and
 * executables stay literal. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

typedef struct PolicyDraft PolicyDraft;

PolicyDraft *policy_draft_new(bool generalize);
PolicyDraft *policy_draft_free(PolicyDraft *d);
static inline void policy_draft_freep(PolicyDraft **d) {
        if (*d)
                policy_draft_free(*d);
}

/* Takes one audit record into account.  1 if it counts as a request, 0 if
 * not (see above), -ENOMEM. */
int policy_draft_add(PolicyDraft *d, json_t *rec);

/* Requests counted, and rules the draft will have. */
size_t policy_draft_n_requests(const PolicyDraft *d);
size_t policy_draft_n_rules(const PolicyDraft *d);

/* Writes the policy (version 1, default deny, audit all, the rules);
 * header is written first as comment lines (NULL: none).  0 or -errno. */
int policy_draft_write(PolicyDraft *d, const char *header, FILE *f);
