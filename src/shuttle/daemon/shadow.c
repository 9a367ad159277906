/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shadow decisions: a candidate decides every request beside the policy in
 * force, its decision goes into the request's one audit record
 * (shadow_decision, shadow_rule) and is never enforced.
 *
 * The candidate of a request is, in this order:
 *   - the shadow policy (`shuttlectl policy shadow FILE...`), for the
 *     requests the node's policy decides (a group with a policy of its own
 *     is not compared with it: the candidate is written for the node);
 *   - else the policy in force with its rules marked 'shadow: true'
 *     counted (policy_decide_shadow()), if it has any.
 * Rules marked 'shadow: true' in the shadow policy count as well: it is
 * decided as if it were in force.  Limits (rate, max_open, uses) are the
 * enforcing policy's: the candidate's decision is the policy's alone.
 *
 * The shadow policy is loaded off the loop like every policy (reload.c, in
 * turn with the other loads), kept across `policy reload` (the reload
 * reads the enforcing files only), and kept for a restarted broker in
 * <state>/shadow.yaml: the copy is written by the worker beside it and
 * renamed on the loop. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "shuttle/audit/audit.h"
#include "shuttle/daemon/core.h"
#include "shuttle/host/control.h"

static char *copy_path(const char *state_dir, bool new) {
        char *p = NULL;

        return asprintf(&p, "%s/shadow.yaml%s", state_dir, new ? ".new" : "") < 0 ? NULL : p;
}

/* ---- the worker's side ---------------------------------------------------- */

static char *diagnostics_text(const PolicyDiagnostics *diags) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        policy_diagnostics_print(diags, f);
        fclose(f);
        return buf;
}

int shadow_load(const char *state_dir, const char *const *paths, size_t n_paths, Policy **ret,
                char ret_digest[static POLICY_DIGEST_LEN + 1], char **ret_error) {
        _cleanup_free_ char *path = copy_path(state_dir, true);
        PolicyDiagnostics diags = {};
        _cleanup_close_ int fd = -1;
        Policy *p = NULL;
        FILE *f;
        int r;

        if (!path)
                return -ENOMEM;
        r = policy_load(paths, n_paths, &p, &diags);
        if (r < 0) {
                *ret_error = diagnostics_text(&diags);
                policy_diagnostics_clear(&diags);
                return r;
        }
        policy_diagnostics_clear(&diags);
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

static void audit_shadow(Broker *b, const char *object, bool ok, const char *reason, json_t *extra) {
        AuditRecord rec = {
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

json_t *shadow_apply(Broker *b, int r, Policy **policy, char ***paths_take, size_t n_paths,
                     const char digest[static POLICY_DIGEST_LEN + 1], const char *error) {
        _cleanup_free_ char *copy = NULL, *copy_new = NULL, *first = NULL;
        char **paths = *paths_take;
        json_t *files = files_json(paths, n_paths);

        if (r < 0) {
                first = error ? strndup(error, strcspn(error, "\n")) : strdup(strerror(-r));
                log_error("Shadow policy refused, keeping the one before (if any):\n%s", error ?: strerror(-r));
                audit_shadow(b, paths[0], false, first ?: "refused", json_pack("{s:O*}", "files", files));
                json_decref(files);
                return control_reply_error(-r, "%s", error ?: strerror(-r));
        }
        copy = copy_path(b->state_dir, false);
        copy_new = copy_path(b->state_dir, true);
        if (!copy || !copy_new || rename(copy_new, copy) < 0)
                log_warning("Cannot replace %s, the copy of the shadow policy: %s", copy ?: "shadow.yaml",
                            strerror(copy && copy_new ? errno : ENOMEM));
        policy_unref(b->shadow_policy);
        b->shadow_policy = TAKE_PTR(*policy);
        memcpy(b->shadow_digest, digest, sizeof(b->shadow_digest));
        strv_free(b->shadow_files);
        b->shadow_files = TAKE_PTR(*paths_take);
        b->n_shadow_files = n_paths;
        log_info("Shadow policy loaded: %s%s: %zu rules", paths[0], n_paths > 1 ? " and more" : "",
                 policy_get_n_rules(b->shadow_policy));
        audit_shadow(b, paths[0], true, "loaded in shadow",
                     json_pack("{s:O*, s:I, s:s}", "files", files, "rules",
                               (json_int_t) policy_get_n_rules(b->shadow_policy), "policy", digest));
        json_decref(files);
        return shadow_status_json(b);
}

json_t *shadow_clear(Broker *b) {
        _cleanup_free_ char *copy = copy_path(b->state_dir, false);

        if (!b->shadow_policy)
                return control_reply_error(ENOENT, "no shadow policy is loaded");
        if (copy && unlink(copy) < 0 && errno != ENOENT)
                log_warning("Cannot remove %s, the copy of the shadow policy: %m", copy);
        b->shadow_policy = policy_unref(b->shadow_policy);
        b->shadow_digest[0] = '\0';
        strv_free(b->shadow_files);
        b->shadow_files = NULL;
        b->n_shadow_files = 0;
        log_info("Shadow policy cleared");
        audit_shadow(b, "-", true, "cleared", NULL);
        return shadow_status_json(b);
}

json_t *shadow_status_json(Broker *b) {
        if (!b->shadow_policy)
                return json_pack("{s:b, s:n}", "ok", 1, "shadow");
        return json_pack("{s:b, s:{s:o, s:I, s:s*}}", "ok", 1, "shadow", "files",
                         files_json(b->shadow_files, b->n_shadow_files), "rules",
                         (json_int_t) policy_get_n_rules(b->shadow_policy), "policy",
                         b->shadow_digest[0] ? b->shadow_digest : NULL);
}

void shadow_restore(Broker *b) {
        _cleanup_free_ char *copy = copy_path(b->state_dir, false), *error = NULL;
        PolicyDiagnostics diags = {};
        const char *paths[1];
        Policy *p = NULL;

        if (!copy || access(copy, F_OK) < 0)
                return;
        paths[0] = copy;
        if (policy_load(paths, 1, &p, &diags) < 0) {
                error = diagnostics_text(&diags);
                log_warning("Shadow policy not restored from %s: %s", copy, error ?: "cannot load it");
                policy_diagnostics_clear(&diags);
                return;
        }
        policy_diagnostics_clear(&diags);
        b->shadow_policy = p;
        (void) policy_store_save(b->state_dir, p, b->shadow_digest);
        b->shadow_files = calloc(2, sizeof(char *));
        if (b->shadow_files) {
                b->shadow_files[0] = TAKE_PTR(copy);
                b->n_shadow_files = 1;
        }
        log_info("Shadow policy restored from %s", b->shadow_files ? b->shadow_files[0] : "its copy");
}

/* The control op "policy-shadow": {"files": [...]} loads (off the loop:
 * the answer comes when it is in place or refused), {"clear": true} drops
 * it (in turn with the loads), neither says what is loaded. */
json_t *shadow_control_op(Broker *b, ControlConn *cc, json_t *req) {
        json_t *files = json_object_get(req, "files"), *v;
        char **paths;
        size_t i;
        int r;

        if (json_is_true(json_object_get(req, "clear"))) {
                r = reload_shadow_request(b, cc, NULL);
                return r < 0 ? control_reply_error(-r, "%s", strerror(-r)) : NULL;
        }
        if (!files)
                return shadow_status_json(b);
        if (!json_is_array(files) || json_array_size(files) == 0 || json_array_size(files) > 1024)
                return control_reply_error(EINVAL, "\"files\" must be a list of 1 to 1024 absolute paths");
        paths = calloc(json_array_size(files) + 1, sizeof(char *));
        if (!paths)
                return control_reply_error(ENOMEM, "out of memory");
        json_array_foreach(files, i, v) {
                const char *s = json_string_value(v);
                if (!s || s[0] != '/') {
                        strv_free(paths);
                        return control_reply_error(EINVAL, "\"files\" must be absolute paths");
                }
                if (!(paths[i] = strdup(s))) {
                        strv_free(paths);
                        return control_reply_error(ENOMEM, "out of memory");
                }
        }
        r = reload_shadow_request(b, cc, paths);
        return r < 0 ? control_reply_error(-r, "%s", strerror(-r)) : NULL;
}

/* ---- deciding ------------------------------------------------------------- */

void shadow_decide(Broker *b, const Policy *enforcing, Request *r) {
        int k;

        if (b->shadow_policy && enforcing == b->policy)
                k = policy_decide_shadow(b->shadow_policy, &r->policy, &r->shadow);
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
