/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The request an audit record asks, as a PolicyRequest: what `shuttlectl
 * audit explain` decides again (pure, unit-tested).  docs/AUDIT.md has the
 * records; the extras read are "to_group", "type", "mode", "args" and a
 * depend record's "path". */

#include <jansson.h>

#include "policy/policy.h"

#define AUDIT_REQUEST_ARGS_MAX 256

typedef struct AuditRequest {
        PolicyRequest req;      /* points into this struct and the record */
        char from[256], to[256], object[4096];
        const char *args[AUDIT_REQUEST_ARGS_MAX];
        const char *note;       /* what the record does not say exactly, or NULL */
} AuditRequest;

/* Fills *a from rec (which must outlive it).  -EINVAL, with a static text
 * in *why, for a record that decides nothing the policy can be asked
 * again (a revocation, a container's start, a reload...). */
int audit_record_request(json_t *rec, AuditRequest *a, const char **why);
