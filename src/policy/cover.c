/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Coverage: whether one rule matches every request of a kind that another
 * matches, field by field as rule_check() (decide.c) reads them.  The one
 * answer to "does this deny take back that allow whole" for policy lint
 * (lint.c, which adds its own conditions on containers, time and
 * specificity), policy reach (reach.c) and the declared graph
 * (declared.c).  Patterns are compared with glob_covers(): sound, not
 * complete, so "yes" is always true and "no" may mean "could not tell". */
#include <string.h>

#include "policy/policy-internal.h"

bool object_covers(const Glob *b, const Glob *a) {
        if (!glob_is_set(b))
                return true;
        return glob_is_set(a) && glob_covers(b, a);
}

/* A tree pattern that matches every tree: trees are absolute paths, so
 * "/" and then a star crossing '/' matches them all. */
static bool tree_universal(const Glob *b) {
        return glob_is_set(b) && b->fast == GLOB_FAST_PREFIX_ANY && streq(b->literal, "/");
}

static bool args_cover(const PolicyRule *b, const PolicyRule *a) {
        if (!b->has_args)
                return true;
        if (!a->has_args)
                return false;
        if (b->args_rest ? a->n_args < b->n_args : a->args_rest || a->n_args != b->n_args)
                return false;
        for (size_t i = 0; i < b->n_args; i++)
                if (!glob_covers(&b->args[i], &a->args[i]))
                        return false;
        return true;
}

/* Transfer requests of one kind of name. */
static bool transfer_part_covers(const PolicyRule *b, const PolicyRule *a, PolicyName part, bool grant) {
        /* A rule with a name key matches only that kind of name. */
        if (a->transfer_name >= 0 && a->transfer_name != part)
                return true;
        if (b->transfer_name >= 0 && b->transfer_name != part)
                return false;
        switch (part) {
        case POLICY_NAME_PATH:
                return object_covers(&b->path, &a->path) && (!grant || b->mode >= a->mode);
        case POLICY_NAME_PID:
                return object_covers(&b->pid, &a->pid);
        case POLICY_NAME_SERVICE:
                return object_covers(&b->service, &a->service);
        case POLICY_NAME_HOST:
                return true;
        default:
                return false;
        }
}

/* Depend requests for a tree (an absolute path) or, part SERVICE, for a
 * service (anything else, none included). */
static bool depend_part_covers(const PolicyRule *b, const PolicyRule *a, PolicyName part, bool grant) {
        if (part == POLICY_NAME_PATH) {
                if (glob_is_set(&a->service))
                        return true;            /* a names a service: no tree */
                if (glob_is_set(&b->service))
                        return false;
                if (glob_is_set(&b->path) &&
                    !(glob_is_set(&a->path) ? glob_covers(&b->path, &a->path) : tree_universal(&b->path)))
                        return false;
                return !grant || !glob_is_set(&b->path) || b->mode >= a->mode;
        }
        if (part == POLICY_NAME_SERVICE) {
                if (glob_is_set(&a->path))
                        return true;            /* a names a tree: no service */
                return !glob_is_set(&b->path) && object_covers(&b->service, &a->service);
        }
        return false;
}

bool rule_kind_covers(const PolicyRule *b, const PolicyRule *a, PolicyKind k, PolicyName part) {
        bool grant = b->verdict == POLICY_ALLOW;   /* then a is an allow too */

        switch (k) {
        case POLICY_KIND_IPC:
                if (!object_covers(&b->endpoint, &a->endpoint))
                        return false;
                if (b->ipc_type != POLICY_IPC_ANY && b->ipc_type != a->ipc_type)
                        return false;
                /* An allow with ro or wo takes only that end (or none said);
                 * a deny refuses either. */
                if (grant && b->ipc_mode != POLICY_MODE_NONE && b->ipc_mode != POLICY_MODE_RW &&
                    a->ipc_mode != b->ipc_mode)
                        return false;
                return true;

        case POLICY_KIND_INVOKE:
                return object_covers(&b->app, &a->app) && args_cover(b, a);

        case POLICY_KIND_TRANSFER:
                if (part >= 0)
                        return transfer_part_covers(b, a, part, grant);
                if (b->transfer_name >= 0 && b->transfer_name != a->transfer_name)
                        return false;
                if (!object_covers(&b->path, &a->path) || !object_covers(&b->pid, &a->pid) ||
                    !object_covers(&b->service, &a->service))
                        return false;
                /* Paths: an allow grants up to its mode. */
                return !grant || b->mode >= a->mode;

        case POLICY_KIND_DEPEND:
                if (part >= 0)
                        return depend_part_covers(b, a, part, grant);
                /* A tree rule matches no service, a service rule no tree,
                 * a rule with neither both. */
                if (glob_is_set(&b->path) && !(glob_is_set(&a->path) && glob_covers(&b->path, &a->path)))
                        return false;
                if (glob_is_set(&b->service) && !(glob_is_set(&a->service) && glob_covers(&b->service, &a->service)))
                        return false;
                return !grant || !glob_is_set(&b->path) || b->mode >= a->mode;

        case POLICY_KIND_SIGNAL:
                if (b->signals != 0 && (a->signals == 0 || (a->signals & ~b->signals)))
                        return false;
                return object_covers(&b->app, &a->app);

        default:
                return false;
        }
}
