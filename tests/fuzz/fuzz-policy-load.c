/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: arbitrary bytes as a policy file.  Loading must either
 * fail with diagnostics or yield a policy that decides, explains and dumps
 * without crashing or leaking.  Includes are disabled (no file system).
 * Seeds: the files in policies/ and tests/policy/bad/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        PolicyDiagnostics d = {};
        Policy *p = NULL;

        if (policy_load_buffer("fuzz.yaml", data, size, POLICY_LOAD_NO_INCLUDE, &p, &d) >= 0) {
                static const char *const args[] = { "a.pdf", "-x" };
                for (PolicyKind k = 0; k < _POLICY_KIND_MAX; k++) {
                        PolicyRequest req = {
                                .from = "shop/web", .to = "db", .kind = k, .object = "/usr/bin/x",
                                .args = args, .n_args = 2, .signal = 15, .now = 1800000000,
                        };
                        PolicyDecision dec;
                        PolicyExplanation e;

                        (void) policy_decide(p, &req, &dec);
                        if (policy_explain(p, &req, &e) >= 0)
                                policy_explanation_clear(&e);
                }
                FILE *f = fopen("/dev/null", "we");
                if (f) {
                        (void) policy_dump_yaml(p, f);
                        (void) policy_dump_json(p, f);
                        fclose(f);
                }
                policy_unref(p);
        }
        policy_diagnostics_clear(&d);
        return 0;
}
