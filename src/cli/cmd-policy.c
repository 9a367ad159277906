/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Placeholder until the policy engine lands (issue 3). */
#include "cli/verbs.h"
#include "common/log.h"

int verb_policy(int argc, char **argv) {
        log_error("'policy' is not available yet");
        return 1;
}
