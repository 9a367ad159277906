/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Each verb: int verb_X(int argc, char **argv) with argv[0] = the verb's
 * name.  Exit codes: 0 success, 1 failure, 2 usage error (bad option or
 * value); `run` exits with the container's status. */

#include <stddef.h>

#define EXIT_USAGE 2

typedef struct Verb {
        const char *name;
        const char *summary;
        int (*run)(int argc, char **argv);
} Verb;

int verb_help(int argc, char **argv);
int verb_run(int argc, char **argv);
int verb_monitor_exit(int argc, char **argv);
int verb_policy(int argc, char **argv);
int verb_audit(int argc, char **argv);
int verb_ps(int argc, char **argv);
int verb_exec(int argc, char **argv);
int verb_kill(int argc, char **argv);
int verb_stop(int argc, char **argv);
int verb_logs(int argc, char **argv);
int verb_transfer(int argc, char **argv);
int verb_ask(int argc, char **argv);
int verb_images(int argc, char **argv);

/* `audit graph` (cmd-audit-graph.c), reached through verb_audit(); the
 * log `audit` reads without --file (cmd-audit.c), and how it was found. */
int verb_audit_graph(int argc, char **argv);
int audit_resolve_log(const char *state_dir, char **ret_path, char *origin, size_t size);
/* Subcommands of policy and audit that live in files of their own. */
int policy_reach_main(int argc, char **argv);
int audit_explain_main(int argc, char **argv);
/* policy test, policy lint (cmd-policy-test.c, cmd-policy-lint.c) */
int policy_verb_test(int argc, char **argv);
int policy_verb_lint(int argc, char **argv);
/* policy shadow (cmd-policy-shadow.c) */
int policy_verb_shadow(int argc, char **argv);
/* policy draft (cmd-policy-draft.c) */
int policy_verb_draft(int argc, char **argv);
