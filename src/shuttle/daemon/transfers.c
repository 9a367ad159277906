/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The books of live transfers (the TRANSFER request itself is
 * transfer.c; invocations make transfers too, for their file arguments):
 * handing a path across, translated.  A path in the caller's
 * view is opened inside the caller's root (xfer.c), checked, and bound
 * into the target at /run/shuttle/xfer/<id>/<basename> — or, when the
 * rule says `as`, at that path in the target's root instead — read-only
 * unless the policy grants rw.  The broker keeps a list of live transfers
 * and revokes them: when their invocation ends, when their grant expires
 * or the policy stops allowing them (or places them elsewhere), on
 * `shuttlectl transfer revoke`, and when either container goes. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/parse.h"
#include "shuttle/daemon/core.h"
#include "shuttle/host/control.h"
#include "shuttle/client/protocol.h"
#include "shuttle/daemon/xfer.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* How often live transfers are re-decided (expiry, policy changes). */
#define XFER_CHECK_INTERVAL_USEC (1000u * 1000u)

static void transfer_free(Transfer *t) {
        if (!t)
                return;
        free(t->from_name);
        free(t->to_name);
        free(t->path);
        free(t->target_path);
        free(t->as);
        free(t->place); /* released by whoever attached or revoked it */
        free(t->rule);
        free(t);
}

Transfer *transfer_find(Broker *b, uint64_t id) {
        for (Transfer *t = b->transfers; t; t = t->next)
                if (t->id == id)
                        return t;
        return NULL;
}

/* <to's broker dir>/xfer/<id>[/<basename>]: the host side of what the
 * target sees at /run/shuttle/xfer/<id>/<basename> (the broker's dir is
 * bound read-only at /run/shuttle, so only the broker creates names). */
static int host_path(const char *to_dir, uint64_t id, const char *base, char *ret, size_t size) {
        int n = base ? snprintf(ret, size, "%s/xfer/%" PRIu64 "/%s", to_dir, id, base)
                     : snprintf(ret, size, "%s/xfer/%" PRIu64, to_dir, id);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

static void remove_placeholder(const char *to_dir, uint64_t id, const char *base, bool is_dir) {
        char path[PATH_MAX];

        if (host_path(to_dir, id, base, path, sizeof(path)) >= 0)
                (void) unlinkat(AT_FDCWD, path, is_dir ? AT_REMOVEDIR : 0);
        if (host_path(to_dir, id, NULL, path, sizeof(path)) >= 0)
                (void) rmdir(path);
}

static int make_placeholder(const Container *to, uint64_t id, const char *base, bool is_dir) {
        char path[PATH_MAX];
        int fd, r;

        r = snprintf(path, sizeof(path), "%s/xfer", to->dir);
        if (r < 0 || (size_t) r >= sizeof(path))
                return -ENAMETOOLONG;
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        r = host_path(to->dir, id, NULL, path, sizeof(path));
        if (r < 0)
                return r;
        if (mkdir(path, 0755) < 0)
                return -errno;
        r = host_path(to->dir, id, base, path, sizeof(path));
        if (r < 0)
                return r;
        if (is_dir)
                return mkdir(path, 0755) < 0 ? -errno : 0;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

static const char *place_reason(int r) {
        switch (r) {
        case -EAGAIN:
                return "the target has not finished setting up";
        case -ENOENT:
                return "the directory of 'as' does not exist in the target";
        case -ELOOP:
                return "a symlink on the way to 'as' in the target";
        case -ENOTDIR:
                return "'as' (or a directory above it) is not a directory in the target";
        case -EISDIR:
                return "'as' is a directory in the target, and what is transferred is not";
        case -EPERM:
                return "'as' is neither a regular file nor a directory in the target";
        case -EROFS:
                return "'as' is on a read-only file system in the target (nothing is created or shadowed there)";
        case -ESRCH:
                return "the target is gone";
        default:
                return "cannot find or create 'as' in the target";
        }
}

/* Where `as` may not go: the broker's own directory (a mount there, or
 * over /run, would take the target's broker socket away), and a place
 * another live transfer into the same target holds (mounts would stack
 * or nest, and revoking one would take the wrong one or leave a hole). */
static int check_as(Broker *b, const Container *to, const char *as, const char **ret_why) {
        if (xfer_paths_overlap(as, "/run/shuttle")) {
                *ret_why = "'as' overlaps /run/shuttle, which is the broker's";
                return -EPERM;
        }
        for (Transfer *o = b->transfers; o; o = o->next)
                if (o->to == to && o->as && xfer_paths_overlap(o->as, as)) {
                        *ret_why = "another live transfer holds 'as' (or a path around it) in the target";
                        return -EBUSY;
                }
        return 0;
}

/* Opens path in from's root (O_PATH) and checks that it may cross: what
 * every transfer, mounted or as a descriptor, goes through. */
static int open_checked(Container *from, const CallerCreds *caller, const char *path, int mode, int *ret_fd,
                        struct stat *ret_st, const char **ret_why) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        r = xfer_open_in_root(from->pid, from->pidfd.fd, path, &fd, &st);
        if (r < 0) {
                *ret_why = r == -ELOOP   ? "a symlink or magic link in the path"
                           : r == -ENOENT ? "no such file in the caller"
                                          : "cannot open the path in the caller";
                return r;
        }
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
                *ret_why = "not a regular file or directory";
                return -EPERM;
        }
        /* Another name of the same file could lie outside the rule's path
         * glob: only a file with exactly one name is the file the rule
         * names. */
        if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
                *ret_why = "a file with more than one hard link";
                return -EMLINK;
        }
        if (!xfer_may_access(&st, caller->uid, caller->gid, caller->groups, caller->n_groups,
                             mode == SHUTTLE_TRANSFER_RW)) {
                *ret_why = mode == SHUTTLE_TRANSFER_RW ? "the caller may not write it" : "the caller may not read it";
                return -EACCES;
        }
        *ret_fd = TAKE_FD(fd);
        *ret_st = st;
        return 0;
}

int transfer_open_fd(Container *from, const CallerCreds *caller, const char *path, int mode, int *ret_fd,
                     const char **ret_why) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        r = open_checked(from, caller, path, mode, &fd, &st, ret_why);
        if (r < 0)
                return r;
        r = xfer_open_detached(from->pidfd.fd, fd, mode != SHUTTLE_TRANSFER_RW, S_ISDIR(st.st_mode), ret_fd);
        if (r < 0) {
                *ret_why = r == -EROFS ? "read-only file system in the caller" : "cannot open it for the target";
                return r;
        }
        return 0;
}

/* The record of t under <state>/grants/ (grants.c), with what a restarted
 * broker needs to find its mount again and to tell it is still ours. */
static int transfer_save(Broker *b, const Transfer *t) {
        json_t *o = json_pack("{s:I, s:o, s:o, s:s, s:s, s:s?, s:s, s:s, s:b, s:b, s:I, s:I, s:I}", "id",
                              (json_int_t) t->id, "from", grant_container_json(t->from), "to",
                              grant_container_json(t->to), "path", t->path, "target_path", t->target_path, "as",
                              t->as, "mode", t->mode == SHUTTLE_TRANSFER_RW ? "rw" : "ro", "rule", t->rule, "invoke",
                              t->for_invoke, "is_dir", t->is_dir, "created", (json_int_t) t->created, "until",
                              (json_int_t) t->until, "mnt_id", (json_int_t) t->mnt_id);

        if (o && t->place &&
            json_object_set_new(o, "place",
                                json_pack("{s:b, s:I, s:I}", "created", t->place->created, "dev",
                                          (json_int_t) t->place->dev, "ino", (json_int_t) t->place->ino)) < 0) {
                json_decref(o);
                o = NULL;
        }
        return grant_save(b, GRANT_TRANSFER, t->id, o);
}

int transfer_create(Broker *b, Container *from, const CallerCreds *caller, Container *to, const char *path,
                    int mode, const char *rule, int64_t until, bool for_invoke, Transfer **ret,
                    const char **ret_why) {
        return transfer_create_as(b, from, caller, to, path, mode, NULL, rule, until, for_invoke, ret, ret_why);
}

int transfer_create_as(Broker *b, Container *from, const CallerCreds *caller, Container *to, const char *path,
                       int mode, const char *as, const char *rule, int64_t until, bool for_invoke,
                       Transfer **ret, const char **ret_why) {
        char target[PATH_MAX];
        _cleanup_close_ int fd = -1, mp = -1;
        _cleanup_free_ XferPlace *place = NULL;
        const char *base = NULL;
        struct stat st;
        Transfer *t;
        uint64_t id;
        int r;

        if (from->n_transfers >= BROKER_TRANSFERS_PER_CONTAINER) {
                *ret_why = "too many live transfers from this container";
                return -EAGAIN;
        }
        /* Each transfer is a mount in the target's namespace: callers
         * together must not fill it (the kernel's fs.mount-max counts
         * per namespace, and a full one fails the target's own mounts). */
        if (to->n_transfers_in >= BROKER_TRANSFERS_PER_TARGET) {
                *ret_why = "too many live transfers into the target (at most " STR(BROKER_TRANSFERS_PER_TARGET) ")";
                return -EAGAIN;
        }
        if (as) {
                r = check_as(b, to, as, ret_why);
                if (r < 0)
                        return r;
        }
        r = open_checked(from, caller, path, mode, &fd, &st, ret_why);
        if (r < 0)
                return r;

        id = ++b->next_xfer_id;
        if (as) {
                /* At `as`, resolved and made inside the target's root. */
                if (strlen(as) >= sizeof(target))
                        return -ENAMETOOLONG;
                strcpy(target, as);
                place = malloc(sizeof(*place));
                if (!place) {
                        *ret_why = "out of memory";
                        return -ENOMEM;
                }
                r = xfer_place_open(to->pid, to->pidfd.fd, as, S_ISDIR(st.st_mode), place, &mp);
                if (r < 0) {
                        *ret_why = place_reason(r);
                        return r;
                }
                r = xfer_place_attach(from->pidfd.fd, fd, mode != SHUTTLE_TRANSFER_RW, to->pidfd.fd, place, mp);
                if (r < 0) {
                        (void) xfer_place_release(to->pidfd.fd, place);
                        *ret_why = "cannot mount it into the target";
                        return r;
                }
        } else {
                r = xfer_target_path(id, path, target, sizeof(target));
                if (r < 0) {
                        *ret_why = "no name to give it in the target";
                        return r;
                }
                base = strrchr(target, '/') + 1;
                r = make_placeholder(to, id, base, S_ISDIR(st.st_mode));
                if (r < 0) {
                        remove_placeholder(to->dir, id, base, S_ISDIR(st.st_mode));
                        *ret_why = "cannot create the mount point";
                        return r;
                }
                r = xfer_attach(from->pidfd.fd, fd, mode != SHUTTLE_TRANSFER_RW, to->pidfd.fd, target);
                if (r < 0) {
                        remove_placeholder(to->dir, id, base, S_ISDIR(st.st_mode));
                        *ret_why = "cannot mount it into the target";
                        return r;
                }
        }

        t = calloc(1, sizeof(*t));
        if (t && (!(t->from_name = strdup(from->name)) || !(t->to_name = strdup(to->name)) ||
                  !(t->path = strdup(path)) || !(t->target_path = strdup(target)) || !(t->rule = strdup(rule)) ||
                  (as && !(t->as = strdup(as))))) {
                transfer_free(t);
                t = NULL;
        }
        if (t) {
                t->id = id;
                t->from = from;
                t->to = to;
                t->mode = mode;
                t->for_invoke = for_invoke;
                t->is_dir = S_ISDIR(st.st_mode);
                t->created = (int64_t) time(NULL);
                t->until = until;
                t->place = place;
                /* Which mount is ours, for a restarted broker to tell. */
                if (place)
                        t->mnt_id = place->mnt_id;
                else if (xfer_mount_id_in(to->pid, to->pidfd.fd, target, &t->mnt_id) < 0)
                        t->mnt_id = 0;
                /* On disk before the caller hears yes (invariant 11): a
                 * grant the broker could forget in a crash is not made. */
                r = transfer_save(b, t);
                t->place = NULL;
                if (r < 0) {
                        transfer_free(t);
                        t = NULL;
                        *ret_why = "cannot record the grant in the state directory";
                }
        } else
                r = -ENOMEM;
        if (!t) {
                if (place)
                        (void) xfer_place_release(to->pidfd.fd, place);
                else {
                        (void) xfer_detach(to->pidfd.fd, target);
                        remove_placeholder(to->dir, id, base, S_ISDIR(st.st_mode));
                }
                if (r == -ENOMEM)
                        *ret_why = "out of memory";
                return r;
        }
        t->place = TAKE_PTR(place);
        t->next = b->transfers;
        b->transfers = t;
        from->n_transfers++;
        to->n_transfers_in++;
        *ret = t;
        return 0;
}

void transfer_revoke(Broker *b, Transfer *t, const char *why) {
        int r;

        for (Transfer **i = &b->transfers; *i; i = &(*i)->next)
                if (*i == t) {
                        *i = t->next;
                        break;
                }
        if (t->place) {
                /* The mount at `as` goes, and the mount point if the broker
                 * made it. */
                r = xfer_place_release(t->to->pidfd.fd, t->place);
                if (r < 0 && r != -ESRCH)
                        log_warning_errno(r, "Transfer %" PRIu64 ": cannot unmount '%s' in '%s': %m", t->id,
                                          t->target_path, t->to_name);
        } else {
                r = xfer_detach(t->to->pidfd.fd, t->target_path);
                if (r < 0 && r != -ESRCH && r != -EINVAL && r != -ENOENT)
                        log_warning_errno(r, "Transfer %" PRIu64 ": cannot unmount '%s' in '%s': %m", t->id,
                                          t->target_path, t->to_name);
                remove_placeholder(t->to->dir, t->id, strrchr(t->target_path, '/') + 1, t->is_dir);
        }
        grant_remove(b, GRANT_TRANSFER, t->id);
        if (t->from->n_transfers > 0)
                t->from->n_transfers--;
        if (t->to->n_transfers_in > 0)
                t->to->n_transfers_in--;
        if (t->limit && t->limit->open > 0)
                t->limit->open--;
        broker_audit_event(b, &(AuditEvent){ .from = t->from, .to = t->to_name, .kind = "transfer", .op = "revoke",
                                       .object = t->path, .allow = true, .rule = t->rule, .reason = why,
                                       .extra = json_pack("{s:I}", "xfer_id", (json_int_t) t->id) });
        transfer_free(t);
}

static PolicyMode policy_mode(int mode) {
        return mode == SHUTTLE_TRANSFER_RW ? POLICY_MODE_RW : POLICY_MODE_RO;
}

/* The decision's until, 0: none. */
int64_t transfer_rule_until(const PolicyDecision *d) {
        time_t until = 0;

        return d->rule && policy_rule_get_until(d->rule, &until) ? (int64_t) until : 0;
}

/* A live transfer decided again (the policy changed, or a restart
 * restores it): not a request, so not through the pipeline; the
 * decision's rule, mode and until. */
static void decide(Broker *b, const Container *from, const char *to_qname, const char *path, int mode,
                   PolicyDecision *d, int64_t *ret_until) {
        PolicyRequest req = {
                .from = from->qname,
                .to = to_qname,
                .kind = POLICY_KIND_TRANSFER,
                .object = path,
                .mode = policy_mode(mode),
                .now = time(NULL),
        };

        if (policy_decide(broker_policy_for(b, from), &req, d) < 0)
                *d = (PolicyDecision){ .verdict = POLICY_DENY, .rule_id = "default", .reason = "malformed request",
                                       .audited = true };
        if (d->verdict == POLICY_ALLOW && mode == SHUTTLE_TRANSFER_RW && d->mode != POLICY_MODE_RW) {
                d->verdict = POLICY_DENY;
                d->reason = "rw asked, ro granted";
                d->audited = true;
        }
        *ret_until = transfer_rule_until(d);
}

/* Why a live transfer may stay no longer (the policy now), or NULL. */
static const char *why_not_now(Broker *b, const Transfer *t) {
        PolicyDecision d = {};
        int64_t until = 0;

        decide(b, t->from, t->to->qname, t->path, t->mode, &d, &until);
        if (d.verdict != POLICY_ALLOW)
                return t->until && (int64_t) time(NULL) > t->until ? "grant expired" : "no longer allowed by the policy";
        if (!streq(d.as ?: "", t->as ?: ""))
                return "the policy now places it elsewhere ('as')";
        return NULL;
}

void transfer_tick(Broker *b, uint64_t now_usec) {
        if (now_usec < b->next_xfer_check_usec)
                return;
        b->next_xfer_check_usec = now_usec + XFER_CHECK_INTERVAL_USEC;
        for (Transfer *t = b->transfers, *next; t; t = next) {
                const char *why;
                next = t->next;
                if (t->for_invoke)
                        continue; /* lives exactly as long as its invocation */
                why = why_not_now(b, t);
                if (why)
                        transfer_revoke(b, t, why);
        }
}

json_t *transfer_control_ls(Broker *b) {
        json_t *list = json_array();

        for (Transfer *t = b->transfers; t && list; t = t->next)
                json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I}", "id",
                                                      (json_int_t) t->id, "from", t->from_name, "to", t->to_name,
                                                      "path", t->path, "target_path", t->target_path, "mode",
                                                      t->mode == SHUTTLE_TRANSFER_RW ? "rw" : "ro", "rule", t->rule,
                                                      "invoke", t->for_invoke, "created", (json_int_t) t->created,
                                                      "until", (json_int_t) t->until));
        return json_pack("{s:b, s:o*}", "ok", 1, "transfers", list);
}

json_t *transfer_control_revoke(Broker *b, json_t *req) {
        json_t *idj = json_object_get(req, "id");
        Transfer *t;

        if (!json_is_integer(idj) || json_integer_value(idj) <= 0)
                return control_reply_error(EINVAL, "transfer-revoke needs a positive \"id\"");
        t = transfer_find(b, (uint64_t) json_integer_value(idj));
        if (!t)
                return control_reply_error(ENOENT, "no transfer %" PRId64, (int64_t) json_integer_value(idj));
        if (t->for_invoke)
                /* Its invocation still holds the id; revoking now unmounts
                 * the file under the running app, which is the point. */
                for (Invocation *inv = b->invocations; inv; inv = inv->next)
                        for (size_t i = 0; i < inv->n_xfers; i++)
                                if (inv->xfers[i] == t->id)
                                        inv->xfers[i] = 0;
        transfer_revoke(b, t, "revoked by the operator");
        return control_reply_ok();
}

void transfer_drop_all(Broker *b) {
        /* The broker is going: its mounts go too (a restarted broker does
         * not know them). */
        while (b->transfers)
                transfer_revoke(b, b->transfers, "broker stopped");
}

/* ---- after a broker restart (grants.c reads the records back) ---- */

/* What a record says, checked: every field of the type it must have, the
 * paths normalised and absolute, and the target path the one the broker
 * gives (at /run/shuttle/xfer/<id>/, or the `as` it was placed at). */
typedef struct Recorded {
        const json_t *from, *to;
        const char *from_name, *from_group, *to_name;
        const char *path, *target_path, *as, *rule;
        int mode;
        bool for_invoke, is_dir;
        int64_t created, until;
        uint64_t mnt_id;
        XferPlace place; /* with `as`: created, dev, ino, mnt_id */
} Recorded;

static const char *record_str(const json_t *o, const char *key) {
        return json_string_value(json_object_get(o, key));
}

static bool record_path_ok(const char *p) {
        char norm[PATH_MAX];
        return p && xfer_path_normalize(p, norm, sizeof(norm)) >= 0 && streq(norm, p);
}

static bool record_container_ok(const json_t *o) {
        const char *group = record_str(o, "group");
        json_t *g = json_object_get(o, "group");
        return json_is_object(o) && container_name_is_valid(record_str(o, "name") ?: "") &&
               (!g || json_is_null(g) || (group && container_name_is_valid(group)));
}

static int parse_record(uint64_t id, const json_t *o, Recorded *ret) {
        const json_t *pl = json_object_get(o, "place");
        const char *mode = record_str(o, "mode");
        char expect[PATH_MAX];
        Recorded r = {
                .from = json_object_get(o, "from"),
                .to = json_object_get(o, "to"),
                .path = record_str(o, "path"),
                .target_path = record_str(o, "target_path"),
                .as = record_str(o, "as"),
                .rule = record_str(o, "rule"),
        };

        if (!o || json_integer_value(json_object_get(o, "id")) != (json_int_t) id ||
            !record_container_ok(r.from) || !record_container_ok(r.to) || !record_path_ok(r.path) ||
            !record_path_ok(r.target_path) || !r.rule || !r.rule[0] || strlen(r.rule) > 256 || !mode ||
            (!streq(mode, "ro") && !streq(mode, "rw")) || !json_is_boolean(json_object_get(o, "invoke")) ||
            !json_is_boolean(json_object_get(o, "is_dir")) || !json_is_integer(json_object_get(o, "created")) ||
            !json_is_integer(json_object_get(o, "until")) || !json_is_integer(json_object_get(o, "mnt_id")) ||
            (json_object_get(o, "as") && !json_is_null(json_object_get(o, "as")) && !r.as))
                return -EBADMSG;
        if (r.as) {
                /* Where `as` may never be (check_as()): a record that says
                 * otherwise is not the broker's. */
                if (!record_path_ok(r.as) || !streq(r.as, r.target_path) || streq(r.as, "/") ||
                    xfer_paths_overlap(r.as, "/run/shuttle") || !json_is_object(pl) ||
                    !json_is_boolean(json_object_get(pl, "created")) ||
                    !json_is_integer(json_object_get(pl, "dev")) || !json_is_integer(json_object_get(pl, "ino")))
                        return -EBADMSG;
        } else if (pl || xfer_target_path(id, r.path, expect, sizeof(expect)) < 0 || !streq(expect, r.target_path))
                return -EBADMSG;
        r.from_name = record_str(r.from, "name");
        r.from_group = record_str(r.from, "group");
        r.to_name = record_str(r.to, "name");
        r.mode = streq(mode, "rw") ? SHUTTLE_TRANSFER_RW : SHUTTLE_TRANSFER_RO;
        r.for_invoke = json_is_true(json_object_get(o, "invoke"));
        r.is_dir = json_is_true(json_object_get(o, "is_dir"));
        r.created = json_integer_value(json_object_get(o, "created"));
        r.until = json_integer_value(json_object_get(o, "until"));
        r.mnt_id = (uint64_t) json_integer_value(json_object_get(o, "mnt_id"));
        r.place = (XferPlace){
                .dir_fd = -1,
                .is_dir = r.is_dir,
                .created = json_is_true(json_object_get(pl, "created")),
                .dev = (dev_t) json_integer_value(json_object_get(pl, "dev")),
                .ino = (ino_t) json_integer_value(json_object_get(pl, "ino")),
                .mnt_id = r.mnt_id,
        };
        *ret = r;
        return 0;
}

static void audit_restore(Broker *b, const Container *from, const Recorded *rec, uint64_t id, const char *op,
                          const char *why) {
        /* A source that is gone is named as the record named it. */
        Container ghost = { .name = (char *) (rec->from_name ?: "-"), .group = (char *) rec->from_group };

        broker_audit_event(b, &(AuditEvent){ .from = from ?: &ghost, .to = rec->to_name ?: "-", .kind = "transfer",
                                       .op = op, .object = rec->path ?: "-", .allow = true,
                                       .rule = rec->rule ?: "-", .reason = why,
                                       .extra = json_pack("{s:I, s:s?}", "xfer_id", (json_int_t) id,
                                                          "target_path", rec->target_path) });
}

/* The grant cannot be restored: what is left of it goes.  to is the
 * re-adopted target or NULL (then its mounts went with it); place, with
 * `as`, what xfer_place_reopen() found (or NULL). */
static void teardown(Broker *b, const Recorded *rec, uint64_t id, Container *from, Container *to,
                     XferPlace *place, const char *why) {
        char dir[PATH_MAX];
        int r = 0;

        if (rec->as) {
                /* Only the mount the record names, and the mount point
                 * only if the broker made it. */
                if (to && place)
                        r = xfer_place_release(to->pidfd.fd, place);
        } else {
                /* /run/shuttle/xfer/<id>/ is the broker's (read-only in
                 * the target): what is mounted there is this grant. */
                if (to)
                        r = xfer_detach(to->pidfd.fd, rec->target_path);
                if (to)
                        snprintf(dir, sizeof(dir), "%s", to->dir);
                if (to || control_container_dir(b->state_dir, rec->to_name, dir, sizeof(dir)) >= 0)
                        remove_placeholder(dir, id, strrchr(rec->target_path, '/') + 1, rec->is_dir);
                if (!to && !container_find(b, rec->to_name)) {
                        /* What the gone target's directory still held. */
                        char sub[PATH_MAX + 8];
                        snprintf(sub, sizeof(sub), "%s/xfer", dir);
                        (void) rmdir(sub);
                        (void) rmdir(dir);
                }
        }
        if (r < 0 && r != -ESRCH && r != -EINVAL && r != -ENOENT)
                log_warning_errno(r, "Transfer %" PRIu64 ": cannot unmount '%s' in '%s': %m", id, rec->target_path,
                                  rec->to_name);
        audit_restore(b, from, rec, id, "revoke", why);
}

int transfer_restore(Broker *b, uint64_t id, const json_t *o) {
        _cleanup_free_ XferPlace *place = NULL;
        Container *from, *to;
        PolicyDecision d = {};
        const char *why = NULL;
        Recorded rec = {};
        int64_t until = 0;
        uint64_t mnt_id = 0;
        Transfer *t;
        int r;

        if (parse_record(id, o, &rec) < 0) {
                /* Its placeholder, if any, is found by the sweep. */
                log_warning("Transfer %" PRIu64 ": its record is unreadable; taking down what is left of it", id);
                audit_restore(b, NULL, &(Recorded){}, id, "revoke",
                              "its record in the state directory is unreadable");
                return -EBADMSG;
        }
        from = grant_container_find(b, rec.from);
        to = grant_container_find(b, rec.to);
        if (to && rec.as) {
                /* Filled even if the mount there is not ours (-ENOENT), so
                 * that the mount point the broker made can go; not if the
                 * directory itself is gone. */
                place = calloc(1, sizeof(*place));
                r = place ? xfer_place_reopen(to->pid, to->pidfd.fd, rec.as, &rec.place, place) : -ENOMEM;
                if (r == -ENOENT)
                        why = "its mount is gone from the target";
                else if (r < 0)
                        place = (free(place), NULL);
        }
        if (rec.for_invoke)
                /* Its invocation's books did not survive: nothing would end
                 * it, and the operator could not find it. */
                why = "its invocation did not survive the broker restart";
        else if (!to)
                why = "the target stopped while the broker was down";
        else if (!from)
                why = "the source stopped while the broker was down";
        else if (!rec.as && (xfer_mount_id_in(to->pid, to->pidfd.fd, rec.target_path, &mnt_id) < 0 ||
                             rec.mnt_id == 0 || mnt_id != rec.mnt_id))
                why = "its mount is gone from the target";
        else if (rec.as && !place)
                why = "its mount is gone from the target";
        if (why) {
                teardown(b, &rec, id, from, to, place, why);
                return -ESTALE;
        }

        t = calloc(1, sizeof(*t));
        if (!t || !(t->from_name = strdup(from->name)) || !(t->to_name = strdup(to->name)) ||
            !(t->path = strdup(rec.path)) || !(t->target_path = strdup(rec.target_path)) ||
            !(t->rule = strdup(rec.rule)) || (rec.as && !(t->as = strdup(rec.as)))) {
                transfer_free(t);
                teardown(b, &rec, id, from, to, place, "out of memory");
                return -ENOMEM;
        }
        t->id = id;
        t->from = from;
        t->to = to;
        t->mode = rec.mode;
        t->is_dir = rec.is_dir;
        t->created = rec.created;
        t->until = rec.until;
        t->mnt_id = rec.mnt_id;
        t->place = TAKE_PTR(place);
        t->next = b->transfers;
        b->transfers = t;
        from->n_transfers++;
        to->n_transfers_in++;
        audit_restore(b, from, &rec, id, "adopt", "restored after a broker restart");

        /* Decided again now, as the timer would within a second: the
         * policy may have changed while the broker was down. */
        decide(b, from, to->qname, t->path, t->mode, &d, &until);
        why = why_not_now(b, t);
        if (why) {
                transfer_revoke(b, t, why);
                return 0;
        }
        if (d.limits.max_open) {
                /* Counted against max_open again, never refused: it was
                 * admitted when it was made. */
                PolicyDecision count = d;
                char buf[8];
                count.limits.rate_count = 0;
                count.limits.uses = 0;  /* used when it was made */
                count.limits.max_open = UINT64_MAX;
                if (!broker_limits_admit(b, from, &count, &t->limit, buf, sizeof(buf)) && t->limit)
                        t->limit->open++;
        }
        return 0;
}

void transfer_sweep_unrecorded(Broker *b) {
        /* Whoever made it is not known any more. */
        Container ghost = { .name = (char *) "-" };

        for (Container *c = b->containers; c; c = c->next) {
                _cleanup_closedir_ DIR *d = NULL;
                char path[PATH_MAX + 8];
                struct dirent *de;

                snprintf(path, sizeof(path), "%s/xfer", c->dir);
                d = opendir(path);
                while (d && (de = readdir(d))) {
                        _cleanup_closedir_ DIR *sub = NULL;
                        struct dirent *e;
                        Transfer *t;
                        uint64_t id;
                        int fd;

                        if (de->d_name[0] == '.' || parse_uint64(de->d_name, &id) < 0 || id == 0 ||
                            id > INT64_MAX)
                                continue;
                        t = transfer_find(b, id);
                        if (t && t->to == c && !t->as)
                                continue;
                        b->next_xfer_id = MAX(b->next_xfer_id, id);
                        fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        sub = fd >= 0 ? fdopendir(fd) : NULL;
                        if (!sub)
                                safe_close(fd);
                        while (sub && (e = readdir(sub))) {
                                char target[PATH_MAX];
                                struct stat st;
                                int r;

                                if (e->d_name[0] == '.' && (!e->d_name[1] || streq(e->d_name, "..")))
                                        continue;
                                if (snprintf(target, sizeof(target), "%s/%" PRIu64 "/%s", XFER_DIR_IN_CONTAINER, id,
                                             e->d_name) >= (int) sizeof(target))
                                        continue;
                                r = xfer_detach(c->pidfd.fd, target);
                                if (r < 0 && r != -EINVAL && r != -ENOENT)
                                        log_warning_errno(r, "Cannot unmount '%s' in '%s': %m", target, c->name);
                                if (fstatat(dirfd(sub), e->d_name, &st, AT_SYMLINK_NOFOLLOW) >= 0)
                                        (void) unlinkat(dirfd(sub), e->d_name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
                                broker_audit_event(b, &(AuditEvent){ .from = &ghost,
                                                               .to = c->name, .kind = "transfer", .op = "revoke",
                                                               .object = target, .allow = true, .rule = "-",
                                                               .reason = "no record of it survived the broker restart",
                                                               .extra = json_pack("{s:I}", "xfer_id", (json_int_t) id) });
                        }
                        (void) unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
                }
        }
}
