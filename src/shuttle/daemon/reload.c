/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Policy loads off the event loop.  Reading and compiling a policy is
 * linear but not free (a 10,000-rule file takes tens of milliseconds, a
 * directory of them more), and the loop answers every container: a reload
 * (SIGHUP, `shuttlectl policy reload`) or a group's policy (`shuttlectl run
 * GROUP.yaml`) must never make them wait (invariant 12).  So the loop only
 * queues a job; a worker thread reads and compiles; the loop is woken
 * through an eventfd, swaps the new policy in and answers whoever asked.
 *
 * One job runs at a time and results are applied in the order they were
 * asked for, so a group's load, drop and a full reload never overtake each
 * other.  A full reload asked for while another one waits in the queue
 * joins it (the files are read when it starts, after both requests).
 *
 * A full reload reads the --policy files and, for every group whose
 * policy the broker holds, the group file again (the supervisor told us
 * where it is): the group's policy is what that file names now, inline or
 * as a file beside it.  It is all or nothing, like a daemon's config
 * reload: one refused file (the node's, a group file or a group's policy
 * file) and nothing is applied, every old policy keeps serving, and the
 * answer says for each one what it read and why it refused.  When all
 * load, all are swapped in at once, each group's copy under
 * <state>/groups/G/ is replaced (written by the worker beside it, renamed
 * on the loop) so that a restarted broker restores the newest, and the
 * reload is audited (kind policy, op reload: one record for the node's
 * policy, one per group).  The shadow policies (shadow.c: the node's and
 * the groups') are loaded here in turn too, and are not touched by a full
 * reload.
 *
 * The worker touches nothing of the Broker: its job carries copies of what
 * it reads and gets back policies and error text.  The policy library keeps
 * no global state (libyaml parsers are per call, compiled policies are
 * refcounted atomically), and the worker does not log. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "runtime/group.h"
#include "runtime/state-info.h"
#include "shuttle/audit/audit.h"
#include "shuttle/daemon/core.h"
#include "shuttle/host/control.h"
#include "shuttle/daemon/reload-internal.h"

struct Reloader {
        Source done;            /* eventfd: the running job is finished */
        int cancel_fd;          /* eventfd: the broker is going away */
        char *gate;
        ReloadJob *running;
        bool threaded;          /* running has a thread to join */
        pthread_t thread;
        ReloadJob *queue;       /* FIFO */
};

/* ---- loading (any thread) ---------------------------------------------- */

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

int reload_load_files(const char *const *paths, size_t n_paths, Policy **ret, char **ret_error) {
        static const char *const empty_policy = "version: 1\ndefault: deny\naudit: all\nrules: []\n";
        PolicyDiagnostics diags = {};
        int r;

        if (n_paths == 0)
                r = policy_load_buffer("<built-in: deny everything>", empty_policy, strlen(empty_policy), 0, ret,
                                       &diags);
        else
                r = policy_load(paths, n_paths, ret, &diags);
        if (r < 0 && ret_error)
                *ret_error = diagnostics_text(&diags);
        policy_diagnostics_clear(&diags);
        return r;
}

int reload_load_main(Broker *b, Policy **ret, char **ret_error) {
        _cleanup_free_ const char **paths = calloc(b->n_policy_paths + 2, sizeof(char *));
        size_t n = b->n_policy_paths;

        if (!paths)
                return -ENOMEM;
        memcpy(paths, b->policy_paths, n * sizeof(char *));
        if (ask_dropin_wanted(b))
                paths[n++] = b->dropin_dir;
        return reload_load_files(paths, n, ret, ret_error);
}


/* SHUTTLED_TEST_RELOAD_GATE: the worker waits until a writer has opened
 * and closed this FIFO (`echo go >FIFO`; or the broker goes away), so that
 * a test can hold a load in flight and check that the loop answers
 * meanwhile, without timing.  Reading to the end leaves nothing in the
 * FIFO for the next load. */
static void wait_gate(const ReloadJob *j) {
        _cleanup_close_ int fd = open(j->gate, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = j->cancel_fd, .events = POLLIN } };
        char buf[64];

        if (fd < 0)
                return;
        for (;;) {
                ssize_t n;

                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        return;
                if (p[1].revents)
                        return;
                n = read(fd, buf, sizeof(buf));
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                        return;
        }
}

static char *copy_new_path(const GroupLoad *l) {
        char *p = NULL;

        return asprintf(&p, "%s.new", l->file) < 0 ? NULL : p;
}

/* A group's policy as its group file names it now.  The whole group file
 * is checked again (a group file with any error is refused, as `shuttlectl
 * run` would), and must still be this group's and still name a policy:
 * a running group is neither renamed nor moved under shuttled's own
 * policy by a reload. */
static void load_group(GroupLoad *l) {
        _cleanup_(group_freep) Group *g = NULL;
        PolicyDiagnostics diags = {};
        int r;

        r = group_load(l->source, &g, &diags);
        if (r < 0) {
                l->error = r == -EINVAL ? diagnostics_text(&diags) : NULL;
                if (!l->error && asprintf(&l->error, "%s: cannot load: %s\n", l->source, strerror(-r)) < 0)
                        l->error = NULL;
                policy_diagnostics_clear(&diags);
                return;
        }
        policy_diagnostics_clear(&diags);
        if (!streq(g->name, l->group)) {
                if (asprintf(&l->error,
                             "%s: names group '%s', not '%s' (a running group keeps its name: stop it and run "
                             "the file to rename it)\n",
                             l->source, g->name, l->group) < 0)
                        l->error = NULL;
                return;
        }
        if (!g->policy) {
                if (asprintf(&l->error,
                             "%s: names no policy any more (group '%s' keeps its own until it is stopped; run "
                             "it again to put it under shuttled's policy)\n",
                             l->source, l->group) < 0)
                        l->error = NULL;
                return;
        }
        if (g->policy_file && !(l->policy_file = strdup(g->policy_file)))
                return;
        l->policy = policy_ref(g->policy);
}

/* <copy>.new, renamed over the copy when the job is applied. */
static int write_copy(GroupLoad *l) {
        _cleanup_free_ char *path = copy_new_path(l);
        _cleanup_close_ int fd = -1;
        FILE *f;
        int r = 0;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                r = -errno;
        else if (!(f = fdopen(TAKE_FD(fd), "w")))
                r = -errno;
        else {
                l->copied = true;
                if (policy_dump_yaml(l->policy, f) < 0)
                        r = -EIO;
                if (fclose(f) != 0 && r == 0)
                        r = -errno;
        }
        if (r < 0 && asprintf(&l->error, "%s: cannot write the group's copy of its policy: %s\n", path,
                              strerror(-r)) < 0)
                l->error = NULL;
        return r;
}

static void unlink_copy(GroupLoad *l) {
        _cleanup_free_ char *path = NULL;

        if (!l->copied)
                return;
        path = copy_new_path(l);
        if (path)
                (void) unlink(path);
        l->copied = false;
}

static void load_all(ReloadJob *j) {
        bool ok;

        /* Everything is read, whatever fails first: the answer lists every
         * error at once. */
        j->r = reload_load_files((const char *const *) j->paths, j->n_paths, &j->policy, &j->error);
        ok = j->r >= 0;
        for (size_t i = 0; i < j->n_groups; i++) {
                GroupLoad *l = &j->groups[i];
                GroupInfo info = {};

                if (!l->source)
                        continue;
                /* A supervisor killed (SIGKILL: it could not drop its
                 * policy) takes its containers with it; the group file it
                 * ran may be gone too, and must not stop every reload. */
                if (group_info_load(j->state_dir, l->group, &info) < 0 || !info.alive) {
                        group_info_done(&info);
                        l->gone = true;
                        continue;
                }
                group_info_done(&info);
                load_group(l);
                if (!l->policy)
                        ok = false;
        }
        /* The copies only once all loaded; none is left if one fails. */
        for (size_t i = 0; ok && i < j->n_groups; i++)
                if (j->groups[i].policy && write_copy(&j->groups[i]) < 0)
                        ok = false;
        if (!ok) {
                for (size_t i = 0; i < j->n_groups; i++)
                        unlink_copy(&j->groups[i]);
                if (j->r >= 0)
                        j->r = -EINVAL;
                return;
        }
        /* Kept by digest for the records they will decide; a policy that
         * cannot be kept still serves (its records name it all the same). */
        (void) policy_store_save(j->state_dir, j->policy, j->digest);
        for (size_t i = 0; i < j->n_groups; i++)
                if (j->groups[i].policy)
                        (void) policy_store_save(j->state_dir, j->groups[i].policy, j->groups[i].digest);
}

static void *worker(void *userdata) {
        ReloadJob *j = userdata;
        uint64_t one = 1;

        if (j->gate)
                wait_gate(j);
        if (j->kind == RELOAD_ALL)
                load_all(j);
        else if (j->kind == RELOAD_GROUP) {
                const char *p[] = { j->groups[0].file };
                j->r = reload_load_files(p, 1, &j->groups[0].policy, &j->error);
                if (j->r >= 0)
                        (void) policy_store_save(j->state_dir, j->groups[0].policy, j->groups[0].digest);
        } else if (j->kind == RELOAD_SHADOW)
                j->r = shadow_load(j->state_dir, j->shadow_group, (const char *const *) j->paths, j->n_paths,
                                   &j->policy, j->digest, &j->error);
        /* Last: the loop may free j as soon as it sees this. */
        (void) !write(j->done_fd, &one, sizeof(one));
        return NULL;
}

/* ---- the loop's side ----------------------------------------------------- */

static ReloadJob *job_free(ReloadJob *j) {
        if (!j)
                return NULL;
        free(j->waiters);
        free(j->state_dir);
        strv_free(j->paths);
        free(j->shadow_group);
        for (size_t i = 0; i < j->n_groups; i++) {
                /* Never applied (the broker is going away). */
                unlink_copy(&j->groups[i]);
                free(j->groups[i].group);
                free(j->groups[i].file);
                free(j->groups[i].source);
                policy_unref(j->groups[i].policy);
                free(j->groups[i].policy_file);
                free(j->groups[i].error);
        }
        free(j->groups);
        policy_unref(j->policy);
        free(j->error);
        free(j);
        return NULL;
}

static int job_add_group(ReloadJob *j, const char *group, const char *file, const char *source) {
        GroupLoad *n = realloc(j->groups, (j->n_groups + 1) * sizeof(GroupLoad));
        GroupLoad *l;

        if (!n)
                return -ENOMEM;
        j->groups = n;
        l = &n[j->n_groups++];
        *l = (GroupLoad){ .group = strdup(group), .file = strdup(file), .source = source ? strdup(source) : NULL };
        return l->group && l->file && (!source || l->source) ? 0 : -ENOMEM;
}

static int job_add_waiter(ReloadJob *j, ControlConn *cc) {
        ControlConn **n;

        if (!cc)
                return 0;
        n = realloc(j->waiters, (j->n_waiters + 1) * sizeof(ControlConn *));
        if (!n)
                return -ENOMEM;
        j->waiters = n;
        n[j->n_waiters++] = cc;
        cc->waiting = true;
        return 0;
}

static void policies_changed(Broker *b) {
        ipc_sync_proxies(b);
        ipc_relays_recheck(b);
        depend_sync(b);
        apps_sync(b);
}

static void apply_all(Broker *b, ReloadJob *j) {
        bool ok = j->r >= 0;
        json_t *reply;

        /* All or nothing: one refused file and every old policy stays. */
        reload_log_all(j, ok);
        reply = reload_all_reply(b, j, ok);
        if (ok) {
                for (size_t i = 0; i < j->n_groups; i++) {
                        GroupLoad *l = &j->groups[i];
                        GroupPolicy *g = group_policy_find(b, l->group);
                        _cleanup_free_ char *copy = NULL;

                        if (l->gone && g) {
                                /* Its containers went with it. */
                                group_policy_drop(b, g, "its supervisor is gone");
                                continue;
                        }
                        if (reload_group_status(b, l, ok) != ITEM_RELOADED) {
                                unlink_copy(l);
                                continue;
                        }
                        policy_unref(g->policy);
                        g->policy = TAKE_PTR(l->policy);
                        memcpy(g->digest, l->digest, sizeof(g->digest));
                        /* A restarted broker restores the new one. */
                        copy = copy_new_path(l);
                        if (!copy || rename(copy, l->file) < 0)
                                log_warning("Cannot replace %s, the copy of group '%s''s policy: %s", l->file,
                                            l->group, strerror(copy ? errno : ENOMEM));
                        else
                                l->copied = false;
                        unlink_copy(l);
                }
                /* Swap: requests decided from now on see the new policy. */
                policy_unref(b->policy);
                b->policy = TAKE_PTR(j->policy);
                memcpy(b->policy_digest, j->digest, sizeof(b->policy_digest));
                policies_changed(b);
        }
        reload_job_reply_json(j, reply);
        json_decref(reply);
}

static void apply_group(Broker *b, ReloadJob *j) {
        GroupLoad *l = &j->groups[0];
        GroupPolicy *g;

        if (j->r < 0) {
                reload_job_reply(j, j->r, j->error);
                return;
        }
        g = group_policy_find(b, l->group);
        if (!g) {
                g = calloc(1, sizeof(*g));
                if (!g || !(g->group = strdup(l->group))) {
                        free(g);
                        reload_job_reply(j, -ENOMEM, NULL);
                        return;
                }
                g->next = b->group_policies;
                b->group_policies = g;
        } else if (g->shadow.policy)
                /* Only a group started again loads anew: its supervisor
                 * before was killed.  The candidate was that run's. */
                shadow_drop_group(b, g, "the group was started again");
        free(g->file);
        g->file = TAKE_PTR(l->file);
        free(g->source);
        g->source = TAKE_PTR(l->source);
        policy_unref(g->policy);
        g->policy = TAKE_PTR(l->policy);
        memcpy(g->digest, l->digest, sizeof(g->digest));
        policies_changed(b);
        log_info("Policy of group '%s' loaded from %s", l->group, g->file);
        reload_job_reply(j, 0, NULL);
}

static void apply_drop(Broker *b, ReloadJob *j) {
        const char *group = j->groups[0].group;
        GroupPolicy *g = group_policy_find(b, group);

        if (g) {
                group_policy_drop(b, g, "the group stopped");
                policies_changed(b);
                reload_job_reply(j, 0, NULL);
                return;
        }
        char msg[128];
        snprintf(msg, sizeof(msg), "group '%s' has no policy loaded", group);
        reload_job_reply(j, -ENOENT, msg);
}

static void apply(Broker *b, ReloadJob *j) {
        json_t *reply;

        switch (j->kind) {
        case RELOAD_SHADOW:
                reply = j->n_paths ? shadow_apply(b, j->shadow_group, j->r, &j->policy, &j->paths, j->n_paths,
                                                  j->digest, j->error)
                                   : shadow_clear(b, j->shadow_group);
                reload_job_reply_json(j, reply);
                json_decref(reply);
                break;
        case RELOAD_ALL:
                apply_all(b, j);
                break;
        case RELOAD_GROUP:
                apply_group(b, j);
                break;
        case RELOAD_GROUP_DROP:
                apply_drop(b, j);
                break;
        }
}

/* Fills in what the job reads, now that every earlier job is applied. */
static int job_prepare(Broker *b, ReloadJob *j) {
        j->state_dir = strdup(b->state_dir);
        if (!j->state_dir)
                return -ENOMEM;
        /* Its copy goes into the group's directory: not for a group that
         * stopped since (its drop came first). */
        if (j->kind == RELOAD_SHADOW && j->shadow_group && !group_policy_find(b, j->shadow_group))
                return -ESRCH;
        if (j->kind != RELOAD_ALL)
                return 0;
        j->paths = calloc(b->n_policy_paths + 2, sizeof(char *));
        if (!j->state_dir || !j->paths)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_policy_paths; i++) {
                j->paths[i] = strdup(b->policy_paths[i]);
                if (!j->paths[i])
                        return -ENOMEM;
                j->n_paths++;
        }
        if (ask_dropin_wanted(b)) {
                j->paths[j->n_paths] = strdup(b->dropin_dir);
                if (!j->paths[j->n_paths])
                        return -ENOMEM;
                j->n_paths++;
        }
        for (GroupPolicy *g = b->group_policies; g; g = g->next)
                if (g->file && job_add_group(j, g->group, g->file, g->source) < 0)
                        return -ENOMEM;
        return 0;
}

/* Starts the next queued job (if none runs); drop jobs are applied at
 * once since they read nothing. */
static void start_next(Broker *b) {
        Reloader *rl = b->reloader;

        while (!rl->running && rl->queue) {
                ReloadJob *j = rl->queue;
                int r;

                rl->queue = j->next;
                j->next = NULL;
                if (j->kind == RELOAD_GROUP_DROP || (j->kind == RELOAD_SHADOW && !j->n_paths)) {
                        apply(b, j);
                        job_free(j);
                        continue;
                }
                r = job_prepare(b, j);
                if (r < 0) {
                        log_error_errno(r, "Policy reload failed: %m");
                        reload_job_reply(j, r, r == -ESRCH ? "the group's policy was dropped: the group stopped" : NULL);
                        job_free(j);
                        continue;
                }
                j->gate = rl->gate;
                j->cancel_fd = rl->cancel_fd;
                j->done_fd = rl->done.fd;
                rl->running = j;
                rl->threaded = pthread_create(&rl->thread, NULL, worker, j) == 0;
                if (!rl->threaded)
                        /* No thread to be had: load here rather than not at
                         * all; completion still comes through the eventfd. */
                        (void) worker(j);
        }
}

void reload_event(Broker *b) {
        Reloader *rl = b->reloader;
        uint64_t n;
        ReloadJob *j;

        if (read(rl->done.fd, &n, sizeof(n)) != (ssize_t) sizeof(n) || !rl->running)
                return;
        if (rl->threaded)
                (void) pthread_join(rl->thread, NULL);
        rl->threaded = false;
        j = TAKE_PTR(rl->running);
        apply(b, j);
        job_free(j);
        start_next(b);
}

/* Queues j, or frees it if what the caller filled in is not ok. */
static int enqueue(Broker *b, ReloadJob *j, ControlConn *cc, bool ok) {
        ReloadJob **i = &b->reloader->queue;

        if (!ok || job_add_waiter(j, cc) < 0)
                return job_free(j), -ENOMEM;
        while (*i)
                i = &(*i)->next;
        *i = j;
        start_next(b);
        return 0;
}

int reload_request(Broker *b, ControlConn *cc) {
        Reloader *rl = b->reloader;
        ReloadJob *j;

        /* A full reload that has not started yet reads the files after
         * this request too: join it. */
        for (j = rl->queue; j; j = j->next)
                if (j->kind == RELOAD_ALL) {
                        log_info("Reload of the policy joins the one already queued");
                        return job_add_waiter(j, cc);
                }
        if (rl->running)
                log_info("Reload of the policy queued behind a policy load in progress");
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->kind = RELOAD_ALL;
        return enqueue(b, j, cc, true);
}

int reload_group_request(Broker *b, ControlConn *cc, const char *group, const char *file, const char *source) {
        ReloadJob *j = calloc(1, sizeof(*j));

        if (!j)
                return -ENOMEM;
        j->kind = file ? RELOAD_GROUP : RELOAD_GROUP_DROP;
        return enqueue(b, j, cc, job_add_group(j, group, file ?: "", file ? source : NULL) >= 0);
}

int reload_shadow_request(Broker *b, ControlConn *cc, const char *group, char **paths) {
        ReloadJob *j = calloc(1, sizeof(*j));

        if (!j)
                return strv_free(paths), -ENOMEM;
        *j = (ReloadJob){ .kind = RELOAD_SHADOW, .paths = paths, .shadow_group = group ? strdup(group) : NULL };
        while (paths && paths[j->n_paths])
                j->n_paths++;
        return enqueue(b, j, cc, !group || j->shadow_group);
}

void reload_forget(Broker *b, ControlConn *cc) {
        Reloader *rl = b->reloader;

        if (!rl || !cc->waiting)
                return;
        for (ReloadJob *j = rl->queue; j; j = j->next)
                for (size_t i = 0; i < j->n_waiters; i++)
                        if (j->waiters[i] == cc)
                                j->waiters[i] = NULL;
        for (size_t i = 0; rl->running && i < rl->running->n_waiters; i++)
                if (rl->running->waiters[i] == cc)
                        rl->running->waiters[i] = NULL;
        cc->waiting = false;
}

int reloader_new(Broker *b) {
        Reloader *rl = calloc(1, sizeof(*rl));
        const char *gate = secure_getenv("SHUTTLED_TEST_RELOAD_GATE");
        int r;

        if (!rl)
                return -ENOMEM;
        rl->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        rl->done = (Source){ .type = SRC_RELOAD, .fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) };
        if (rl->cancel_fd < 0 || rl->done.fd < 0) {
                r = -errno;
                goto fail;
        }
        if (gate && gate[0] && !(rl->gate = strdup(gate))) {
                r = -ENOMEM;
                goto fail;
        }
        r = broker_watch(b, &rl->done, EPOLLIN);
        if (r < 0)
                goto fail;
        b->reloader = rl;
        return 0;
fail:
        safe_close(rl->cancel_fd);
        safe_close(rl->done.fd);
        free(rl->gate);
        free(rl);
        return r;
}

void reloader_free(Broker *b) {
        Reloader *rl = b->reloader;
        uint64_t one = 1;

        if (!rl)
                return;
        /* A load in flight is bounded; only a test's gate could hold it,
         * and the cancel eventfd opens that. */
        (void) !write(rl->cancel_fd, &one, sizeof(one));
        if (rl->threaded)
                (void) pthread_join(rl->thread, NULL);
        job_free(rl->running);
        while (rl->queue) {
                ReloadJob *j = rl->queue;
                rl->queue = j->next;
                job_free(j);
        }
        broker_unwatch(b, &rl->done);
        safe_close(rl->cancel_fd);
        free(rl->gate);
        free(rl);
        b->reloader = NULL;
}

bool reload_all_pending(const Broker *b) {
        const Reloader *rl = b->reloader;

        if (!rl)
                return false;
        if (rl->running && rl->running->kind == RELOAD_ALL)
                return true;
        for (const ReloadJob *j = rl->queue; j; j = j->next)
                if (j->kind == RELOAD_ALL)
                        return true;
        return false;
}
