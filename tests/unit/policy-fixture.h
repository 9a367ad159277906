/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy tests' fixture: a policy from YAML text that must load.
 * Included by test-policy-decide.c, test-policy-reach.c,
 * test-policy-store.c and test-policy-lint.c (after <cmocka.h>). */
#pragma once

#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

/* text loaded as the file 'file' (the name its rules are reported by);
 * the test fails, with the diagnostics printed, if it does not load. */
static inline Policy *load_ok_as(const char *file, const char *text) {
        PolicyDiagnostics d = {};
        Policy *p = NULL;

        if (policy_load_buffer(file, text, strlen(text), 0, &p, &d) < 0) {
                policy_diagnostics_print(&d, stderr);
                fail_msg("policy did not load");
        }
        policy_diagnostics_clear(&d);
        return p;
}

static inline Policy *load_ok(const char *text) {
        return load_ok_as("p.yaml", text);
}
