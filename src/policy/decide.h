/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by decide.c and explain.c (internal). */

#include "policy/policy-internal.h"

/* A request with its container names split into group and name. */
typedef struct Request {
        const PolicyRequest *req;
        char from_group[256], to_group[256];
        bool has_from_group, has_to_group;
        const char *from_name, *to_name;
} Request;

int request_prepare(const PolicyRequest *req, Request *q);
/* Evaluates one rule against the request, ignoring 'until'.  Returns NULL
 * if every field matches, else the name of the first field that does not;
 * with all=true it counts every mismatching field in *ret_n, and with
 * detail != NULL it explains the first one in *detail (malloc'd). */
const char *rule_check(const PolicyRule *r, const Request *q, bool all, unsigned *ret_n, char **detail);
bool rule_expired(const PolicyRule *r, time_t now);
bool rule_beats(const PolicyRule *a, const PolicyRule *b, PolicyKind k);
void decision_fill(const Policy *p, const PolicyRequest *req, const PolicyRule *deny,
                   const PolicyRule *allow, PolicyDecision *ret);
/* A default deny that the expired allow rule 'expired' would have turned
 * into an allow: reason POLICY_REASON_EXPIRED, that rule's id and place. */
void decision_note_expired(PolicyDecision *d, const PolicyRule *expired);
