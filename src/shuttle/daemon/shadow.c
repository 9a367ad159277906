/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shadow decisions: a candidate decides every request beside the policy in
 * force, its decision goes into the request's one audit record
 * (shadow_decision, shadow_rule) and is never enforced.
 *
 * The candidate of a request is, in this order:
 *   - the shadow policy beside the policy that decides it: the node's
 *     (`shuttlectl policy shadow FILE...`) for the requests the node's
 *     policy decides, a group's (`policy shadow --group G FILE...`) for
 *     those its group's own policy decides (a candidate is written for
 *     one policy, and compared with that one only);
 *   - else the policy in force with its rules marked 'shadow: true'
 *     counted (policy_decide_shadow()), if it has any.
 * Rules marked 'shadow: true' in the shadow policy count as well: it is
 * decided as if it were in force.  Limits (rate, max_open, uses) are the
 * enforcing policy's: the candidate's decision is the policy's alone.
 *
 * The shadow policy is loaded off the loop like every policy (reload.c, in
 * turn with the other loads), kept across `policy reload` (the reload
 * reads the enforcing files only), and kept for a restarted broker in
 * <state>/shadow.yaml (a group's in <state>/groups/G/shadow.yaml): the
 * copy is written by the worker beside it and renamed on the loop.  A
 * group's goes when its policy goes (the group stopped). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/parse.h"
#include "shuttle/audit/audit.h"
#include "shuttle/daemon/core.h"
#include "shuttle/host/control.h"

static char *copy_path(const char *state_dir, const char *group, bool new) {
        char *p = NULL;
        int r = group ? asprintf(&p, "%s/groups/%s/shadow.yaml%s", state_dir, group, new ? ".new" : "")
                      : asprintf(&p, "%s/shadow.yaml%s", state_dir, new ? ".new" : "");

        return r < 0 ? NULL : p;
}

/* The slot of the node (group NULL) or of a group holding a policy of its
 * own; NULL if the group holds none. */
static ShadowPolicy *slot_of(Broker *b, const char *group) {
        GroupPolicy *g;

        if (!group)
                return &b->shadow;
        g = group_policy_find(b, group);
        return g ? &g->shadow : NULL;
}

static json_t *no_group_error(const char *group) {
        return control_reply_error(ENOENT,
                                   "group '%s' has no policy of its own in the broker: it is not running, or its "
                                   "group file names no policy (then the broker's policy decides for it, and "
                                   "its candidate is the broker's shadow policy)",
                                   group);
}

void shadow_policy_done(ShadowPolicy *s) {
        s->policy = policy_unref(s->policy);
        s->digest[0] = '\0';
        strv_free(s->files);
        s->files = NULL;
        s->n_files = 0;
}

/* ---- the worker's side ---------------------------------------------------- */

int shadow_load(const char *state_dir, const char *group, const char *const *paths, size_t n_paths, Policy **ret,
                char ret_digest[static POLICY_DIGEST_LEN + 1], char **ret_error) {
        _cleanup_free_ char *path = copy_path(state_dir, group, true);
        _cleanup_close_ int fd = -1;
        Policy *p = NULL;
        FILE *f;
        int r;

        if (!path)
                return -ENOMEM;
        r = reload_load_files(paths, n_paths, &p, ret_error);
        if (r < 0)
                return r;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 || !(f = fdopen(TAKE_FD(fd), "w")))
                r = -errno;
        else {
                if (policy_dump_yaml(p, f) < 0)
                        r = -EIO;
                if (fclose(f) != 0 && r == 0)
                        r = -errno;
        }
        if (r < 0) {
                (void) unlink(path);
                if (asprintf(ret_error, "%s: cannot write the broker's copy of the shadow policy: %s\n", path,
                             strerror(-r)) < 0)
                        *ret_error = NULL;
                policy_unref(p);
                return r;
        }
        (void) policy_store_save(state_dir, p, ret_digest);
        *ret = p;
        return 0;
}

/* ---- the loop's side ------------------------------------------------------ */

static void audit_shadow(Broker *b, const char *group, const char *object, bool ok, const char *reason,
                         json_t *extra) {
        AuditRecord rec = {
                .group = group,
                .kind = "policy",
                .op = "shadow",
                .object = object,
                .decision = ok ? "allow" : "deny",
                .rule = "-",
                .reason = reason,
                .extra = extra,
        };
        int r;

        if (b->audit) {
                r = audit_log_append(b->audit, &rec);
                if (r < 0)
                        log_warning_errno(r, "Failed to append to the audit log: %m");
        }
        json_decref(extra);
}

static json_t *files_json(char *const *paths, size_t n_paths) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n_paths; i++)
                json_array_append_new(a, json_string(paths[i]));
        return a;
}

/* "Shadow policy" or "Shadow policy of group 'G'", for the log. */
static const char *what(const char *group, char *buf, size_t size) {
        if (!group)
                return "Shadow policy";
        snprintf(buf, size, "Shadow policy of group '%s'", group);
        return buf;
}

json_t *shadow_apply(Broker *b, const char *group, int r, Policy **policy, char ***paths_take, size_t n_paths,
                     const char digest[static POLICY_DIGEST_LEN + 1], const char *error) {
        _cleanup_free_ char *copy = NULL, *copy_new = NULL, *first = NULL;
        ShadowPolicy *s = slot_of(b, group);
        char **paths = *paths_take, name[128];
        json_t *files = files_json(paths, n_paths);

        copy = copy_path(b->state_dir, group, false);
        copy_new = copy_path(b->state_dir, group, true);
        if (r >= 0 && !s) {
                /* Dropped since the load started (jobs are applied in
                 * turn, so this is only for safety). */
                if (copy_new)
                        (void) unlink(copy_new);
                json_decref(files);
                return no_group_error(group);
        }
        if (r < 0) {
                first = error ? strndup(error, strcspn(error, "\n")) : strdup(strerror(-r));
                log_error("%s refused, keeping the one before (if any):\n%s", what(group, name, sizeof(name)),
                          error ?: strerror(-r));
                audit_shadow(b, group, paths[0], false, first ?: "refused", json_pack("{s:O*}", "files", files));
                json_decref(files);
                return control_reply_error(-r, "%s", error ?: strerror(-r));
        }
        if (!copy || !copy_new || rename(copy_new, copy) < 0)
                log_warning("Cannot replace %s, the copy of the shadow policy: %s", copy ?: "shadow.yaml",
                            strerror(copy && copy_new ? errno : ENOMEM));
        shadow_policy_done(s);
        s->policy = TAKE_PTR(*policy);
        memcpy(s->digest, digest, sizeof(s->digest));
        s->files = TAKE_PTR(*paths_take);
        s->n_files = n_paths;
        log_info("%s loaded: %s%s: %zu rules", what(group, name, sizeof(name)), paths[0],
                 n_paths > 1 ? " and more" : "", policy_get_n_rules(s->policy));
        audit_shadow(b, group, paths[0], true, "loaded in shadow",
                     json_pack("{s:O*, s:I, s:s}", "files", files, "rules",
                               (json_int_t) policy_get_n_rules(s->policy), "policy", digest));
        json_decref(files);
        return shadow_status_json(b, group);
}

static void drop(Broker *b, const char *group, ShadowPolicy *s, const char *why) {
        _cleanup_free_ char *copy = copy_path(b->state_dir, group, false);
        char name[128];

        if (copy && unlink(copy) < 0 && errno != ENOENT)
                log_warning("Cannot remove %s, the copy of the shadow policy: %m", copy);
        shadow_policy_done(s);
        log_info("%s %s", what(group, name, sizeof(name)), why);
        audit_shadow(b, group, "-", true, why, NULL);
}

json_t *shadow_clear(Broker *b, const char *group) {
        ShadowPolicy *s = slot_of(b, group);

        if (!s)
                return no_group_error(group);
        if (!s->policy)
                return group ? control_reply_error(ENOENT, "group '%s' has no shadow policy loaded", group)
                             : control_reply_error(ENOENT, "no shadow policy is loaded");
        drop(b, group, s, "cleared");
        return shadow_status_json(b, group);
}

void shadow_drop_group(Broker *b, GroupPolicy *g, const char *why) {
        drop(b, g->group, &g->shadow, why);
}

static json_t *slot_json(const ShadowPolicy *s) {
        if (!s->policy)
                return json_null();
        return json_pack("{s:o, s:I, s:s*}", "files", files_json(s->files, s->n_files), "rules",
                         (json_int_t) policy_get_n_rules(s->policy), "policy", s->digest[0] ? s->digest : NULL);
}

/* A group's: {"group": G, "shadow": ...}.  The node's: "shadow" and, in
 * "groups", every group's that is loaded. */
json_t *shadow_status_json(Broker *b, const char *group) {
        json_t *groups;
        ShadowPolicy *s = slot_of(b, group);

        if (group)
                return s ? json_pack("{s:b, s:s, s:o}", "ok", 1, "group", group, "shadow", slot_json(s))
                         : no_group_error(group);
        groups = json_array();
        for (GroupPolicy *g = b->group_policies; g && groups; g = g->next) {
                json_t *o = g->shadow.policy ? slot_json(&g->shadow) : NULL;
                if (o) {
                        json_object_set_new(o, "group", json_string(g->group));
                        json_array_append_new(groups, o);
                }
        }
        return json_pack("{s:b, s:o, s:o*}", "ok", 1, "shadow", slot_json(s), "groups", groups);
}

void shadow_restore(Broker *b, GroupPolicy *g) {
        const char *group = g ? g->group : NULL;
        _cleanup_free_ char *copy = copy_path(b->state_dir, group, false), *error = NULL;
        ShadowPolicy *s = g ? &g->shadow : &b->shadow;
        const char *paths[1];
        char name[128];
        Policy *p = NULL;

        if (!copy || access(copy, F_OK) < 0)
                return;
        paths[0] = copy;
        if (reload_load_files(paths, 1, &p, &error) < 0) {
                log_warning("%s not restored from %s: %s", what(group, name, sizeof(name)), copy,
                            error ?: "cannot load it");
                return;
        }
        s->policy = p;
        (void) policy_store_save(b->state_dir, p, s->digest);
        s->files = calloc(2, sizeof(char *));
        if (s->files) {
                s->files[0] = TAKE_PTR(copy);
                s->n_files = 1;
        }
        log_info("%s restored from %s", what(group, name, sizeof(name)), s->files ? s->files[0] : "its copy");
}

/* The control op "policy-shadow": {"files": [...]} loads (off the loop:
 * the answer comes when it is in place or refused), {"clear": true} drops
 * it (in turn with the loads), neither says what is loaded.  With
 * "group": G, the shadow policy of group G, beside its own policy. */
json_t *shadow_control_op(Broker *b, ControlConn *cc, json_t *req) {
        json_t *files = json_object_get(req, "files"), *jg = json_object_get(req, "group"), *v;
        const char *group = json_string_value(jg);
        char **paths;
        size_t i;
        int r;

        if (jg && !json_is_null(jg) && (!group || !container_name_is_valid(group)))
                return control_reply_error(EINVAL, "\"group\" must be a group's name");
        /* Asked now, checked again when the load starts (reload.c). */
        if (group && !slot_of(b, group))
                return no_group_error(group);
        if (json_is_true(json_object_get(req, "clear"))) {
                r = reload_shadow_request(b, cc, group, NULL);
                return r < 0 ? control_reply_error(-r, "%s", strerror(-r)) : NULL;
        }
        if (!files)
                return shadow_status_json(b, group);
        if (!json_is_array(files) || json_array_size(files) == 0 || json_array_size(files) > 1024)
                return control_reply_error(EINVAL, "\"files\" must be a list of 1 to 1024 absolute paths");
        paths = calloc(json_array_size(files) + 1, sizeof(char *));
        if (!paths)
                return control_reply_error(ENOMEM, "out of memory");
        json_array_foreach(files, i, v) {
                const char *f = json_string_value(v);
                if (!f || f[0] != '/') {
                        strv_free(paths);
                        return control_reply_error(EINVAL, "\"files\" must be absolute paths");
                }
                if (!(paths[i] = strdup(f))) {
                        strv_free(paths);
                        return control_reply_error(ENOMEM, "out of memory");
                }
        }
        r = reload_shadow_request(b, cc, group, paths);
        return r < 0 ? control_reply_error(-r, "%s", strerror(-r)) : NULL;
}

/* ---- deciding ------------------------------------------------------------- */

void shadow_decide(Broker *b, const Policy *enforcing, Request *r) {

        const ShadowPolicy *s = NULL;
        int k;

        if (enforcing == b->policy)
                s = &b->shadow;
        else
                for (GroupPolicy *g = b->group_policies; g && !s; g = g->next)
                        if (g->policy == enforcing)
                                s = &g->shadow;
        if (s && s->policy)
                k = policy_decide_shadow(s->policy, &r->policy, &r->shadow);
        else if (enforcing && policy_get_n_shadow_rules(enforcing) > 0)
                k = policy_decide_shadow(enforcing, &r->policy, &r->shadow);
        else
                return;
        if (k < 0)
                return;
        r->has_shadow = true;
        /* A request the candidate decides otherwise is always on record:
         * that is what the operator is looking for. */
        if (r->shadow.verdict != r->d.verdict)
                r->d.audited = true;
}
