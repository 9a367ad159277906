/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The app groups' own policies the broker holds (GroupPolicy, loaded by
 * reload.c for `shuttlectl run GROUP.yaml`): found by name, dropped with
 * their shadow policy when the group stops, and restored at start from the
 * copies under <state>/groups/G/. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "runtime/state-info.h"
#include "shuttle/daemon/core.h"

GroupPolicy *group_policy_find(Broker *b, const char *group) {
        for (GroupPolicy *g = b->group_policies; g; g = g->next)
                if (streq(g->group, group))
                        return g;
        return NULL;
}

/* Not at the broker's exit: a restarted broker restores what is kept. */
void group_policy_drop(Broker *b, GroupPolicy *g, const char *why) {
        for (GroupPolicy **i = &b->group_policies; *i; i = &(*i)->next)
                if (*i == g) {
                        *i = g->next;
                        break;
                }
        log_info("Policy of group '%s' dropped: %s", g->group, why);
        if (g->shadow.policy)
                shadow_drop_group(b, g, "dropped with the group's policy");
        group_policy_free(g);
}

GroupPolicy *group_policy_free(GroupPolicy *g) {
        if (g) {
                free(g->group);
                free(g->file);
                free(g->source);
                policy_unref(g->policy);
                shadow_policy_done(&g->shadow);
                free(g);
        }
        return NULL;
}

/* Loaded on the spot: the loop serves nothing yet.  A copy that no longer
 * loads is said and left: the group's containers are then decided by the
 * main policy, which is what a group without a policy gets. */
void reload_restore_groups(Broker *b) {
        GroupInfo *groups = NULL;
        size_t n = 0;

        if (group_info_list(b->state_dir, &groups, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL, *error = NULL;
                const char *paths[1];
                Policy *p = NULL;
                GroupPolicy *g;

                if (!groups[i].alive || group_policy_find(b, groups[i].group) ||
                    asprintf(&path, "%s/groups/%s/policy.yaml", b->state_dir, groups[i].group) < 0 ||
                    access(path, F_OK) < 0)
                        continue;
                paths[0] = path;
                if (reload_load_files(paths, 1, &p, &error) < 0) {
                        log_warning("Policy of group '%s' not restored from %s: %s", groups[i].group, path,
                                    error ?: "cannot load it");
                        continue;
                }
                g = calloc(1, sizeof(*g));
                if (!g || !(g->group = strdup(groups[i].group))) {
                        free(g);
                        policy_unref(p);
                        break;
                }
                g->file = TAKE_PTR(path);
                g->policy = p;
                (void) policy_store_save(b->state_dir, p, g->digest);
                /* Where a reload reads the group's policy again (not known
                 * for a group an older supervisor runs). */
                g->source = groups[i].file ? strdup(groups[i].file) : NULL;
                g->next = b->group_policies;
                b->group_policies = g;
                log_info("Policy of group '%s' restored from %s", g->group, g->file);
                shadow_restore(b, g);
        }
        group_info_free_array(groups, n);
}
