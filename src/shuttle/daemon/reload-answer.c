/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The answers of policy loads (reload.c): the reply to whoever asked, cut
 * to what one control message holds, and for a full reload what became of
 * each policy, in the reply, the log and the audit log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/macro.h"
#include "shuttle/audit/audit.h"
#include "shuttle/daemon/reload-internal.h"

/* The length of s cut to at most max bytes, on a character boundary. */
static size_t utf8_cut(const char *s, size_t max) {
        size_t n = strlen(s);

        if (n <= max)
                return n;
        n = max;
        while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80)
                n--;
        return n;
}

/* Text for a reply, at most max bytes of it.  A file name in it may not
 * be UTF-8, which JSON strings must be: then its other bytes become '?'. */
static json_t *text_json(const char *text, size_t max) {
        size_t n = utf8_cut(text, max);
        _cleanup_free_ char *ascii = NULL;
        json_t *v = json_stringn(text, n);

        if (v || !(ascii = strndup(text, n)))
                return v;
        for (char *c = ascii; *c; c++)
                if ((unsigned char) *c >= 0x80)
                        *c = '?';
        return json_string(ascii);
}

json_t *reload_error_json(const char *error) {
        return error ? text_json(error, REPLY_ERROR_MAX) : json_null();
}

/* Sends reply to every waiter.  A reply too big for one message (errors
 * of very many groups) goes as its first REPLY_ERROR_MAX bytes of error
 * text: the asker must never be left waiting. */
void reload_job_reply_json(ReloadJob *j, json_t *reply) {
        for (size_t i = 0; i < j->n_waiters; i++) {
                ControlConn *cc = j->waiters[i];
                int r;

                if (!cc)
                        continue;
                cc->waiting = false;
                r = reply ? control_send(cc->src.fd, reply) : -ENOMEM;
                if (r == -EMSGSIZE || r == -ENOMEM) {
                        const char *e = json_string_value(json_object_get(reply, "error")) ?: "";
                        int error = (int) json_integer_value(json_object_get(reply, "errno"));
                        json_t *s;

                        if (json_is_true(json_object_get(reply, "ok")))
                                s = control_reply_ok();
                        else
                                s = json_pack("{s:b, s:o, s:i}", "ok", 0, "error", text_json(e, REPLY_ERROR_MAX),
                                              "errno", error > 0 ? error : EIO);
                        if (!s)
                                s = control_reply_error(error > 0 ? error : EIO, "policy reload refused");
                        if (s)
                                (void) control_send(cc->src.fd, s);
                        json_decref(s);
                }
        }
}

void reload_job_reply(ReloadJob *j, int r, const char *error) {
        json_t *reply = r < 0 ? control_reply_error(-r, "%s", error ?: strerror(-r)) : control_reply_ok();

        reload_job_reply_json(j, reply);
        json_decref(reply);
}

/* ---- a full reload's answer ---------------------------------------------- */

static const char *const item_status_names[] = {
        [ITEM_RELOADED] = "reloaded",
        [ITEM_REFUSED] = "refused",
        [ITEM_NOT_APPLIED] = "not-applied",
        [ITEM_NOT_READ] = "not-read",
        [ITEM_STOPPED] = "stopped",
};

static bool streq_null(const char *a, const char *b) {
        return a && b ? streq(a, b) : a == b;
}

ItemStatus reload_group_status(Broker *b, const GroupLoad *l, bool ok) {
        GroupPolicy *g = group_policy_find(b, l->group);

        /* Dropped or loaded anew since the job started (jobs are applied
         * in turn, so this is only for safety): left as it is now. */
        if (l->gone || !g || !streq(g->file, l->file) || !streq_null(g->source, l->source))
                return ITEM_STOPPED;
        if (!l->source)
                return ITEM_NOT_READ;
        if (!l->policy)
                return ITEM_REFUSED;
        return ok ? ITEM_RELOADED : ITEM_NOT_APPLIED;
}

/* One record per policy read (invariant 6: what decides is on record). */
static void audit_item(Broker *b, const char *group, const char *object, ItemStatus st, const char *error,
                       json_t *extra, const Policy *p, const char *digest) {
        _cleanup_free_ char *reason = NULL;
        AuditRecord rec = {
                .group = group,
                .kind = "policy",
                .op = "reload",
                .object = object,
                .decision = st == ITEM_RELOADED ? "allow" : "deny",
                .rule = "-",
                .extra = extra,
        };
        int r;

        if (st == ITEM_REFUSED)
                /* Its first error: the log and the reply have them all. */
                reason = error ? strndup(error, strcspn(error, "\n")) : strdup("refused");
        else
                reason = strdup(st == ITEM_RELOADED ? "reloaded"
                                                    : "not applied: another policy of the reload was refused");
        rec.reason = reason;
        if (extra && p)
                json_object_set_new(extra, "rules", json_integer((json_int_t) policy_get_n_rules(p)));
        /* What is in force now, by the digest its requests' records carry. */
        if (extra && digest && digest[0])
                json_object_set_new(extra, "policy", json_string(digest));
        if (b->audit) {
                r = audit_log_append(b->audit, &rec);
                if (r < 0)
                        log_warning_errno(r, "Failed to append to the audit log: %m");
        }
        json_decref(extra);
}

/* The errors of every file of a full reload, one after the other. */
static char *all_errors(const ReloadJob *j) {
        char *all = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&all, &size);

        if (!f)
                return NULL;
        fputs(j->error ?: "", f);
        for (size_t i = 0; i < j->n_groups; i++)
                fputs(j->groups[i].error ?: "", f);
        if (fclose(f) != 0)
                free(TAKE_PTR(all));
        return all;
}

/* The reply: the node's policy and each group's, with what was read, how
 * many rules, and what became of it.  Audits each item on the way. */
json_t *reload_all_reply(Broker *b, ReloadJob *j, bool ok) {
        ItemStatus st = j->policy ? (ok ? ITEM_RELOADED : ITEM_NOT_APPLIED) : ITEM_REFUSED;
        const char *object = j->n_paths > 0 ? j->paths[0] : "<built-in: deny everything>";
        json_t *files = json_array(), *groups = json_array(), *node, *reply;

        for (size_t i = 0; files && i < j->n_paths; i++)
                json_array_append_new(files, json_string(j->paths[i]));
        node = json_pack("{s:O*, s:s, s:o}", "files", files, "status", item_status_names[st], "error",
                         reload_error_json(st == ITEM_REFUSED ? j->error : NULL));
        if (node && j->policy)
                json_object_set_new(node, "rules", json_integer((json_int_t) policy_get_n_rules(j->policy)));
        audit_item(b, NULL, object, st, j->error, json_pack("{s:O*}", "files", files), j->policy,
                   ok ? j->digest : NULL);
        json_decref(files);

        for (size_t i = 0; groups && i < j->n_groups; i++) {
                GroupLoad *l = &j->groups[i];
                GroupPolicy *g = group_policy_find(b, l->group);
                ItemStatus gs = reload_group_status(b, l, ok);
                const Policy *p = gs == ITEM_NOT_READ ? g->policy : l->policy;
                json_t *o = json_pack("{s:s, s:s?, s:s?, s:s, s:o}", "group", l->group, "source", l->source,
                                      "policy_file", l->policy_file, "status", item_status_names[gs], "error",
                                      reload_error_json(gs == ITEM_REFUSED ? l->error : NULL));

                if (o && p)
                        json_object_set_new(o, "rules", json_integer((json_int_t) policy_get_n_rules(p)));
                if (o)
                        json_array_append_new(groups, o);
                if (gs == ITEM_RELOADED || gs == ITEM_REFUSED || gs == ITEM_NOT_APPLIED)
                        audit_item(b, l->group, l->policy_file ?: l->source, gs, l->error,
                                   json_pack("{s:s}", "group_file", l->source), p,
                                   gs == ITEM_RELOADED ? l->digest : NULL);
        }
        reply = json_pack("{s:b, s:o*, s:o*}", "ok", ok, "policy", node, "groups", groups);
        if (reply && !ok) {
                /* Every error, as the log has them (the first bytes of
                 * them if there are very many). */
                _cleanup_free_ char *all = all_errors(j);

                json_object_set_new(reply, "error", all ? text_json(all, 4 * REPLY_ERROR_MAX)
                                                        : json_string("out of memory"));
                json_object_set_new(reply, "errno", json_integer(-j->r));
        }
        return reply;
}

void reload_log_all(const ReloadJob *j, bool ok) {
        if (!ok) {
                _cleanup_free_ char *all = all_errors(j);

                log_error("Policy reload refused, keeping the old policies:\n%s", all ?: "");
                return;
        }
        log_info("Policy reloaded: %s%s: %zu rules", j->n_paths > 0 ? j->paths[0] : "built-in (deny everything)",
                 j->n_paths > 1 ? " and more" : "", policy_get_n_rules(j->policy));
        for (size_t i = 0; i < j->n_groups; i++) {
                const GroupLoad *l = &j->groups[i];
                if (l->policy)
                        log_info("Policy of group '%s' reloaded from %s%s: %zu rules", l->group,
                                 l->policy_file ? "" : "inline in ", l->policy_file ?: l->source,
                                 policy_get_n_rules(l->policy));
                else if (!l->source)
                        log_info("Policy of group '%s' not read again: its group file is not known", l->group);
        }
}

