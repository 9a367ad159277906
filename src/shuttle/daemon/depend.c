/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* depend: a tree one container provides, mounted into another.  For every
 * depend grant from A to B with a `path` (policy_for_each_depend, each one
 * confirmed by policy_decide so that a deny still wins), while both run,
 * B's tree is cloned recursively in B's mount namespace and attached in
 * A's at `at` (xfer_attach_tree), read-only unless the rule says rw.  A
 * path glob is expanded in B's root (xfer_glob_dirs: directories only, no
 * symlink followed, at most DEPEND_GLOB_MAX) whenever mounts are synced —
 * a registration, a policy change — and each match is mounted as a
 * literal path would be: at the same path, or under `at` by its
 * basename; a match that is gone is unmounted then.  The broker keeps a
 * record of each mount and takes it away from A when B stops, when the
 * policy (a reload, a group's policy) stops granting it, and when the
 * broker itself stops.  Ordering-only depend rules
 * (`service`) need nothing here: app groups start containers in
 * `depends_on` order. */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/parse.h"
#include "shuttle/daemon/broker-api.h"
#include "shuttle/daemon/mediator.h"
#include "shuttle/daemon/xfer.h"

/* How often live mounts are re-decided (rules with 'until' expire). */
#define DEPEND_CHECK_INTERVAL_USEC (1000u * 1000u)
/* How long a registration waits for a container's root (see below). */
#define DEPEND_SETUP_WAIT_USEC (2000u * 1000u)
#define DEPEND_SETUP_POLL_USEC (2u * 1000u)
/* Matches of one path glob that are mounted; more are audited. */
#define DEPEND_GLOB_MAX 64u

static void depend_mount_free(DependMount *m) {
        if (!m)
                return;
        free(m->path);
        free(m->at);
        free(m->glob);
        free(m->glob_at);
        free(m->rule);
        free(m);
}

/* The record of m under <state>/grants/ (grants.c). */
static int depend_save(Broker *b, const DependMount *m) {
        return grant_save(b, GRANT_DEPEND, m->id,
                          json_pack("{s:I, s:o, s:o, s:s, s:s, s:s?, s:s?, s:s, s:b, s:I}", "id", (json_int_t) m->id,
                                    "from", grant_container_json(m->from), "to", grant_container_json(m->to), "path",
                                    m->path, "at", m->at, "glob", m->glob, "glob_at", m->glob_at, "rule", m->rule,
                                    "rw", m->rw, "mnt_id", (json_int_t) m->mnt_id));
}

static char *object_text(const Container *to, const char *path, const char *at, char *buf, size_t size) {
        snprintf(buf, size, "%s:%s -> %s", to->name, path, at);
        return buf;
}

static json_t *extra_for(const char *path, const char *at, bool rw, const char *rule_file, unsigned rule_line) {
        json_t *extra = json_pack("{s:s, s:s, s:s}", "path", path, "at", at, "mode", rw ? "rw" : "ro");
        if (extra && rule_file) {
                json_object_set_new(extra, "rule_file", json_string(rule_file));
                json_object_set_new(extra, "rule_line", json_integer(rule_line));
        }
        return extra;
}

static void unlink_mount(Broker *b, DependMount *m) {
        for (DependMount **i = &b->depend_mounts; *i; i = &(*i)->next)
                if (*i == m) {
                        *i = m->next;
                        return;
                }
}

/* Takes the tree away from A (unless A is gone, and its mounts with it)
 * and forgets the record. */
static void depend_revoke(Broker *b, DependMount *m, const char *why, bool unmount) {
        char object[PATH_MAX * 2 + 300];
        int r;

        unlink_mount(b, m);
        grant_remove(b, GRANT_DEPEND, m->id);
        if (unmount) {
                r = xfer_detach(m->from->pidfd.fd, m->at);
                if (r < 0 && r != -ESRCH && r != -EINVAL && r != -ENOENT)
                        log_warning_errno(r, "Cannot unmount '%s' (from '%s') in '%s': %m", m->at, m->to->name,
                                          m->from->name);
        }
        broker_audit_event(b, &(AuditEvent){ .from = m->from,
                                       .to = m->to->name,
                                       .kind = "depend",
                                       .op = "revoke",
                                       .object = object_text(m->to, m->path, m->at, object, sizeof(object)),
                                       .allow = true,
                                       .rule = m->rule,
                                       .reason = why,
                                       .extra = extra_for(m->path, m->at, m->rw, NULL, 0) });
        depend_mount_free(m);
}

/* Whether A may have B's path at `at` with that mode now: the policy
 * still has such a grant, and deciding it allows it. */
static void decide(const Broker *b, const Container *from, const Container *to, const char *path, bool rw,
                   PolicyDecision *d) {
        PolicyRequest req = {
                .from = from->qname,
                .to = to->qname,
                .kind = POLICY_KIND_DEPEND,
                .object = path,
                .mode = rw ? POLICY_MODE_RW : POLICY_MODE_RO,
                .now = time(NULL),
        };

        if (policy_decide(broker_policy_for(b, from), &req, d) < 0)
                *d = (PolicyDecision){ .verdict = POLICY_DENY, .rule_id = "default", .reason = "malformed request",
                                       .audited = true };
}

typedef struct StillState {
        const DependMount *m;
        bool found;
} StillState;

static bool streq_null(const char *a, const char *b) {
        return a && b ? streq(a, b) : a == b;
}

static void still_one(const PolicyDependGrant *g, void *userdata) {
        StillState *s = userdata;
        const DependMount *m = s->m;

        if ((g->mode == POLICY_MODE_RW) != m->rw || g->glob != !!m->glob)
                return;
        /* A glob's match: the same glob and `at` still grant it (whether it
         * still matches in the provider is for the next expansion). */
        if (m->glob ? streq(g->path, m->glob) && streq_null(g->at, m->glob_at)
                    : streq(g->path, m->path) && streq(g->at, m->at))
                s->found = true;
}

static bool still_granted(const Broker *b, const DependMount *m) {
        StillState s = { .m = m };
        PolicyDecision d = {};

        if (policy_for_each_depend(broker_policy_for(b, m->from), m->from->qname, m->to->qname, time(NULL),
                                   still_one, &s) < 0 ||
            !s.found)
                return false;
        decide(b, m->from, m->to, m->path, m->rw, &d);
        return d.verdict == POLICY_ALLOW;
}

static DependMount *find_at(Broker *b, const Container *from, const char *at) {
        for (DependMount *m = b->depend_mounts; m; m = m->next)
                if (m->from == from && streq(m->at, at))
                        return m;
        return NULL;
}

static const char *stage_reason(XferTreeStage stage, int r) {
        switch (stage) {
        case XFER_TREE_SOURCE:
                return r == -ENOENT ? "no such path in the provider" : "cannot open the path in the provider";
        case XFER_TREE_TYPE:
                return "not a directory or regular file in the provider";
        case XFER_TREE_CLONE:
                return "cannot clone the tree in the provider";
        case XFER_TREE_TARGET:
                return r == -EROFS ? "cannot create the mount point: read-only file system"
                                   : "cannot find or create the mount point";
        case XFER_TREE_ATTACH:
                return "cannot attach the tree at the mount point";
        case XFER_TREE_NOT_SET_UP:
                return "a container did not finish setting up";
        default:
                return "cannot mount the tree";
        }
}

/* A container registers while its init still builds its root (the init
 * waits for the go that follows the registration before it starts the
 * command).  Its tree can be taken, or a tree placed in it, only once the
 * init has pivoted into that root, which takes milliseconds: wait for
 * it, bounded (registrations come from shuttlectl, as root). */
static bool wait_set_up(const Container *c) {
        for (unsigned waited = 0; !xfer_root_is_set_up(c->pid); waited += DEPEND_SETUP_POLL_USEC) {
                if (waited >= DEPEND_SETUP_WAIT_USEC || pidfd_send_signal(c->pidfd.fd, 0, NULL, 0) < 0)
                        return false;
                (void) usleep(DEPEND_SETUP_POLL_USEC);
        }
        return true;
}

typedef struct AddState {
        Broker *b;
        Container *from, *to;
} AddState;

static json_t *grant_extra(const PolicyDependGrant *g, const char *path, const char *at, bool rw,
                           const char *rule_file, unsigned rule_line) {
        json_t *extra = extra_for(path, at, rw, rule_file, rule_line);
        if (extra && g->glob)
                json_object_set_new(extra, "glob", json_string(g->path));
        return extra;
}

/* B's tree at path, mounted in A at `at`, under grant g (whose path is
 * path, or a glob path matched). */
static void add_tree(AddState *s, const PolicyDependGrant *g, const char *path, const char *at) {
        Broker *b = s->b;
        bool rw = g->mode == POLICY_MODE_RW;
        char object[PATH_MAX * 2 + 300];
        const char *why = NULL;
        XferTreeStage stage = XFER_TREE_OK;
        PolicyDecision d = {};
        DependMount *m, *old;
        int r = 0;

        old = find_at(b, s->from, at);
        if (old && old->to == s->to && streq(old->path, path) && old->rw == rw)
                return; /* mounted already */

        object_text(s->to, path, at, object, sizeof(object));
        decide(b, s->from, s->to, path, rw, &d);
        if (d.verdict != POLICY_ALLOW) {
                if (d.audited)
                        broker_audit_event(b, &(AuditEvent){ .from = s->from,
                                                       .to = s->to->name,
                                                       .kind = "depend",
                                                       .op = "mount",
                                                       .object = object,
                                                       .allow = false,
                                                       .rule = d.rule_id,
                                                       .reason = d.reason,
                                                       .extra = grant_extra(g, path, at, rw, d.rule_file,
                                                                            d.rule_line) });
                return;
        }
        if (old) {
                /* Two trees on one mount point would stack, and taking one
                 * away would expose or remove the wrong one. */
                r = -EBUSY;
                why = "the mount point holds another depend mount";
        } else if (!wait_set_up(s->to) || !wait_set_up(s->from)) {
                r = -EAGAIN;
                why = "a container did not finish setting up";
        } else {
                r = xfer_attach_tree(&(XferTree){ .source_pidfd = s->to->pidfd.fd,
                                                  .source_path = path,
                                                  .read_only = !rw,
                                                  .target_pidfd = s->from->pidfd.fd,
                                                  .target_path = at },
                                     &stage);
                if (r < 0)
                        why = stage_reason(stage, r);
        }
        m = NULL;
        if (r >= 0) {
                m = calloc(1, sizeof(*m));
                if (!m || !(m->path = strdup(path)) || !(m->at = strdup(at)) ||
                    !(m->rule = strdup(g->rule_id)) || (g->glob && !(m->glob = strdup(g->path))) ||
                    (g->glob && g->at && !(m->glob_at = strdup(g->at)))) {
                        depend_mount_free(m);
                        m = NULL;
                        (void) xfer_detach(s->from->pidfd.fd, at);
                        r = -ENOMEM;
                        why = "out of memory";
                }
        }
        if (m) {
                m->from = s->from;
                m->to = s->to;
                m->rw = rw;
                m->id = ++b->next_depend_id;
                /* Which mount is ours, for a restarted broker to tell. */
                if (xfer_mount_id_in(s->from->pid, s->from->pidfd.fd, at, &m->mnt_id) < 0)
                        m->mnt_id = 0;
                /* On disk before the command of a registering container
                 * starts (invariant 11): a mount the broker could forget
                 * in a crash is not left in place. */
                r = depend_save(b, m);
                if (r < 0) {
                        (void) xfer_detach(s->from->pidfd.fd, at);
                        depend_mount_free(m);
                        m = NULL;
                        why = "cannot record the grant in the state directory";
                }
        }
        if (m) {
                m->next = b->depend_mounts;
                b->depend_mounts = m;
        }
        if (r < 0)
                log_warning_errno(r, "depend %s for '%s': %s: %m", object, s->from->qname, why);
        if (r < 0 || d.audited)
                broker_audit_event(b, &(AuditEvent){ .from = s->from,
                                               .to = s->to->name,
                                               .kind = "depend",
                                               .op = "mount",
                                               .object = object,
                                               .allow = r >= 0,
                                               /* The grant that says what to mount and where. */
                                               .rule = g->rule_id,
                                               .reason = r >= 0 ? d.reason : why,
                                               .extra = grant_extra(g, path, at, rw, g->rule_file,
                                                                    g->rule_line) });
}

static bool is_match(char **matches, size_t n, const char *path) {
        for (size_t i = 0; i < n; i++)
                if (streq(matches[i], path))
                        return true;
        return false;
}

/* A path glob: expanded in B's root now, each match mounted; what it
 * mounted before and no longer matches goes. */
static void add_glob(AddState *s, const PolicyDependGrant *g) {
        Broker *b = s->b;
        bool rw = g->mode == POLICY_MODE_RW, truncated = false;
        char object[PATH_MAX * 2 + 300], at[PATH_MAX];
        _cleanup_free_ char *why_buf = NULL;
        const char *why = NULL;
        char **matches = NULL;
        size_t n = 0;
        int r;

        /* "**" would match directories inside each other: such a rule
         * only answers requests (shuttle-policy(5)). */
        if (strstr(g->path, "**"))
                return;
        object_text(s->to, g->path, g->at ?: g->path, object, sizeof(object));
        if (!wait_set_up(s->to) || !wait_set_up(s->from)) {
                r = -EAGAIN;
                why = "a container did not finish setting up";
        } else {
                r = xfer_glob_dirs_in(s->to->pid, s->to->pidfd.fd, g->path, DEPEND_GLOB_MAX, &matches, &n,
                                      &truncated);
                if (r < 0)
                        why = r == -EINVAL ? "the path glob cannot be expanded"
                                           : "cannot expand the path glob in the provider";
        }
        if (r < 0) {
                log_warning_errno(r, "depend %s for '%s': %s: %m", object, s->from->qname, why);
                broker_audit_event(b, &(AuditEvent){ .from = s->from,
                                               .to = s->to->name,
                                               .kind = "depend",
                                               .op = "mount",
                                               .object = object,
                                               .allow = false,
                                               .rule = g->rule_id,
                                               .reason = why,
                                               .extra = grant_extra(g, g->path, g->at ?: g->path, rw,
                                                                    g->rule_file, g->rule_line) });
                return;
        }
        for (DependMount *m = b->depend_mounts, *next; m; m = next) {
                next = m->next;
                if (m->glob && m->from == s->from && m->to == s->to && m->rw == rw && streq(m->glob, g->path) &&
                    streq_null(m->glob_at, g->at) && !is_match(matches, n, m->path))
                        depend_revoke(b, m, "no longer matches in the provider", true);
        }
        if (truncated) {
                /* Not silently: the operator learns that the glob names
                 * more than is mounted. */
                if (asprintf(&why_buf,
                             "more than %u directories match in the provider: only the first %u in name order are mounted",
                             DEPEND_GLOB_MAX, DEPEND_GLOB_MAX) < 0)
                        why_buf = NULL;
                log_warning("depend %s for '%s': %s", object, s->from->qname,
                            why_buf ?: "too many matches");
                broker_audit_event(b, &(AuditEvent){ .from = s->from,
                                               .to = s->to->name,
                                               .kind = "depend",
                                               .op = "mount",
                                               .object = object,
                                               .allow = false,
                                               .rule = g->rule_id,
                                               .reason = why_buf ?: "too many matches",
                                               .extra = grant_extra(g, g->path, g->at ?: g->path, rw,
                                                                    g->rule_file, g->rule_line) });
        }
        for (size_t i = 0; i < n; i++) {
                const char *base = strrchr(matches[i], '/') + 1;
                int k;

                if (!g->at) {
                        add_tree(s, g, matches[i], matches[i]);
                        continue;
                }
                /* Under `at`, by the match's basename. */
                k = snprintf(at, sizeof(at), "%s/%s", streq(g->at, "/") ? "" : g->at, base);
                if (k < 0 || (size_t) k >= sizeof(at))
                        continue;
                add_tree(s, g, matches[i], at);
        }
        xfer_glob_free(matches, n);
}

static void add_one(const PolicyDependGrant *g, void *userdata) {
        AddState *s = userdata;

        if (g->glob)
                add_glob(s, g);
        else
                add_tree(s, g, g->path, g->at);
}

static void add_pair(Broker *b, Container *from, Container *to) {
        const Policy *p = broker_policy_for(b, from);

        if (from == to || from->dead || to->dead || policy_get_n_rules_for_kind(p, POLICY_KIND_DEPEND) == 0)
                return;
        (void) policy_for_each_depend(p, from->qname, to->qname, time(NULL), add_one,
                                      &(AddState){ .b = b, .from = from, .to = to });
}

static void depend_on(Broker *b, Container *o, void *userdata) {
        add_pair(b, userdata, o);
}

static void depended_on(Broker *b, Container *a, void *userdata) {
        add_pair(b, a, userdata);
}

static void sync_for(Broker *b, Container *c) {
        /* What the policy no longer grants goes first: a mount point it
         * frees may be what a new grant needs. */
        for (DependMount *m = b->depend_mounts, *next; m; m = next) {
                next = m->next;
                if ((!c || m->from == c || m->to == c) && !still_granted(b, m))
                        depend_revoke(b, m, "no longer allowed by the policy", true);
        }
        if (!c) {
                for (Container *a = b->containers; a; a = a->next)
                        for (Container *o = b->containers; o; o = o->next)
                                add_pair(b, a, o);
                return;
        }
        /* Only the pairs a rule could grant (registration costs the same
         * with many containers). */
        container_for_each_partner(b, c, POLICY_KIND_DEPEND, true, depend_on, c);
        container_for_each_partner(b, c, POLICY_KIND_DEPEND, false, depended_on, c);
}

void depend_sync(Broker *b) {
        sync_for(b, NULL);
}

void depend_sync_added(Broker *b, Container *c) {
        sync_for(b, c);
}

void depend_tick(Broker *b, uint64_t now_usec) {
        if (now_usec < b->next_depend_check_usec)
                return;
        b->next_depend_check_usec = now_usec + DEPEND_CHECK_INTERVAL_USEC;
        /* Only takes away: deciding is cheap, mounting (a fork) is left to
         * registrations and policy changes. */
        for (DependMount *m = b->depend_mounts, *next; m; m = next) {
                next = m->next;
                if (!still_granted(b, m))
                        depend_revoke(b, m, "grant expired", true);
        }
}

void depend_forget_container(Broker *b, Container *c) {
        for (DependMount *m = b->depend_mounts, *next; m; m = next) {
                next = m->next;
                if (m->to == c)
                        depend_revoke(b, m, "provider stopped", true);
                else if (m->from == c)
                        /* Its mount namespace goes with it (or is about to:
                         * an unregistered container keeps nothing of ours). */
                        depend_revoke(b, m, "container stopped", true);
        }
}

void depend_drop_all(Broker *b) {
        /* The broker is going: a restarted one re-adopts the containers and
         * mounts again what the policy grants then. */
        while (b->depend_mounts)
                depend_revoke(b, b->depend_mounts, "broker stopped", true);
}

/* A path from a record: normalised and absolute, or NULL. */
static const char *record_path(const json_t *o, const char *key) {
        const char *p = json_string_value(json_object_get(o, key));
        char norm[PATH_MAX];

        return p && xfer_path_normalize(p, norm, sizeof(norm)) >= 0 && streq(norm, p) && !streq(p, "/") ? p : NULL;
}

/* Absent, null or a string. */
static bool opt_string_ok(const json_t *o, const char *key) {
        const json_t *v = json_object_get(o, key);
        return !v || json_is_null(v) || json_is_string(v);
}

int depend_restore(Broker *b, uint64_t id, const json_t *o) {
        const json_t *fo = json_object_get(o, "from"), *to_o = json_object_get(o, "to");
        const char *path = record_path(o, "path"), *at = record_path(o, "at");
        const char *glob = json_string_value(json_object_get(o, "glob"));
        const char *glob_at = json_string_value(json_object_get(o, "glob_at"));
        const char *rule = json_string_value(json_object_get(o, "rule"));
        const char *from_name = json_string_value(json_object_get(fo, "name"));
        const char *to_name = json_string_value(json_object_get(to_o, "name"));
        json_t *rw = json_object_get(o, "rw"), *mnt = json_object_get(o, "mnt_id");
        char object[PATH_MAX * 2 + 300];
        Container *from, *to;
        const char *why = NULL;
        uint64_t mnt_id = 0;
        DependMount *m;
        int r;

        if (json_integer_value(json_object_get(o, "id")) != (json_int_t) id || !path || !at || !rule || !rule[0] ||
            !json_is_boolean(rw) || !json_is_integer(mnt) || !from_name || !container_name_is_valid(from_name) ||
            !to_name || !container_name_is_valid(to_name) || !opt_string_ok(o, "glob") || !opt_string_ok(o, "glob_at")) {
                /* Nothing can be found by it: where the tree is is what
                 * the record would have said. */
                log_warning("Depend mount %" PRIu64 ": its record is unreadable", id);
                broker_audit_event(b, &(AuditEvent){ .from = &(Container){ .name = (char *) "-" },
                                               .to = "-",
                                               .kind = "depend",
                                               .op = "revoke",
                                               .object = "-",
                                               .allow = true,
                                               .rule = "-",
                                               .reason = "its record in the state directory is unreadable",
                                               .extra = json_pack("{s:I}", "depend_id", (json_int_t) id) });
                return -EBADMSG;
        }
        from = grant_container_find(b, fo);
        to = grant_container_find(b, to_o);
        snprintf(object, sizeof(object), "%s:%s -> %s", to_name, path, at);
        if (from && (xfer_mount_id_in(from->pid, from->pidfd.fd, at, &mnt_id) < 0 ||
                     json_integer_value(mnt) == 0 || mnt_id != (uint64_t) json_integer_value(mnt)))
                why = "its mount is gone from the container";
        else if (!from)
                why = "the container stopped while the broker was down";
        else if (!to)
                why = "the provider stopped while the broker was down";
        else if (find_at(b, from, at))
                why = "the mount point holds another depend mount";

        m = why ? NULL : calloc(1, sizeof(*m));
        if (m && (!(m->path = strdup(path)) || !(m->at = strdup(at)) || !(m->rule = strdup(rule)) ||
                  (glob && !(m->glob = strdup(glob))) || (glob_at && !(m->glob_at = strdup(glob_at))))) {
                depend_mount_free(m);
                m = NULL;
                why = "out of memory";
        }
        if (!m && !why)
                why = "out of memory";
        if (why) {
                /* Only the mount the record names: another on top there is
                 * not the broker's to take away. */
                if (from) {
                        r = xfer_detach_if(from->pidfd.fd, at, (uint64_t) json_integer_value(mnt));
                        if (r < 0 && r != -ESRCH && r != -ESTALE && r != -ENOENT)
                                log_warning_errno(r, "Cannot unmount '%s' (from '%s') in '%s': %m", at, to_name,
                                                  from->name);
                }
                broker_audit_event(b, &(AuditEvent){ .from = from ?: &(Container){ .name = (char *) from_name,
                                                                            .group = (char *) json_string_value(json_object_get(fo, "group")) },
                                               .to = to_name,
                                               .kind = "depend",
                                               .op = "revoke",
                                               .object = object,
                                               .allow = true,
                                               .rule = rule,
                                               .reason = why,
                                               .extra = extra_for(path, at, json_is_true(rw), NULL, 0) });
                return -ESTALE;
        }
        m->from = from;
        m->to = to;
        m->rw = json_is_true(rw);
        m->id = id;
        m->mnt_id = mnt_id;
        m->next = b->depend_mounts;
        b->depend_mounts = m;
        /* Whether the policy still grants it is for the depend_sync()
         * that follows the re-adoption. */
        broker_audit_event(b, &(AuditEvent){ .from = from,
                                       .to = to_name,
                                       .kind = "depend",
                                       .op = "adopt",
                                       .object = object,
                                       .allow = true,
                                       .rule = rule,
                                       .reason = "restored after a broker restart",
                                       .extra = extra_for(path, at, m->rw, NULL, 0) });
        return 0;
}
