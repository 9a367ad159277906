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
#include "runtime/state-info.h"
#include "shuttle/broker-internal.h"
#include "shuttle/control.h"

typedef enum ReloadKind {
        RELOAD_ALL,         /* --policy files, then every group's */
        RELOAD_GROUP,       /* one group's policy file */
        RELOAD_GROUP_DROP,  /* forget a group's policy (nothing to read) */
} ReloadKind;

typedef struct GroupLoad {
        char *group;
        char *file;
        Policy *policy;     /* out */
        char *error;        /* out */
} GroupLoad;

typedef struct ReloadJob {
        ReloadKind kind;
        ControlConn **waiters;  /* NULL entries: gone since they asked */
        size_t n_waiters;

        /* In, copied on the loop when the job starts. */
        char **paths;
        size_t n_paths;
        GroupLoad *groups;      /* RELOAD_ALL: every group; RELOAD_GROUP: the one */
        size_t n_groups;
        const char *gate;       /* test hook, see reloader_new() */
        int cancel_fd;
        int done_fd;

        /* Out. */
        int r;
        Policy *policy;
        char *error;

        struct ReloadJob *next;
} ReloadJob;

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

static int load_files(const char *const *paths, size_t n_paths, Policy **ret, char **ret_error) {
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
        return load_files((const char *const *) b->policy_paths, b->n_policy_paths, ret, ret_error);
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

static void *worker(void *userdata) {
        ReloadJob *j = userdata;
        uint64_t one = 1;

        if (j->gate)
                wait_gate(j);
        if (j->kind == RELOAD_ALL) {
                j->r = load_files((const char *const *) j->paths, j->n_paths, &j->policy, &j->error);
                /* Group policies are re-read too (only if the main one
                 * loads: a refused reload changes nothing). */
                for (size_t i = 0; j->r >= 0 && i < j->n_groups; i++) {
                        const char *p[] = { j->groups[i].file };
                        (void) load_files(p, 1, &j->groups[i].policy, &j->groups[i].error);
                }
        } else if (j->kind == RELOAD_GROUP) {
                const char *p[] = { j->groups[0].file };
                j->r = load_files(p, 1, &j->groups[0].policy, &j->error);
        }
        /* Last: the loop may free j as soon as it sees this. */
        (void) !write(j->done_fd, &one, sizeof(one));
        return NULL;
}

/* ---- the loop's side ----------------------------------------------------- */

static ReloadJob *job_free(ReloadJob *j) {
        if (!j)
                return NULL;
        free(j->waiters);
        strv_free(j->paths);
        for (size_t i = 0; i < j->n_groups; i++) {
                free(j->groups[i].group);
                free(j->groups[i].file);
                policy_unref(j->groups[i].policy);
                free(j->groups[i].error);
        }
        free(j->groups);
        policy_unref(j->policy);
        free(j->error);
        free(j);
        return NULL;
}

static int job_add_group(ReloadJob *j, const char *group, const char *file) {
        GroupLoad *n = realloc(j->groups, (j->n_groups + 1) * sizeof(GroupLoad));

        if (!n)
                return -ENOMEM;
        j->groups = n;
        n[j->n_groups] = (GroupLoad){ .group = strdup(group), .file = strdup(file) };
        j->n_groups++;
        return n[j->n_groups - 1].group && n[j->n_groups - 1].file ? 0 : -ENOMEM;
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

static void job_reply(ReloadJob *j, int r, const char *error) {
        for (size_t i = 0; i < j->n_waiters; i++) {
                ControlConn *cc = j->waiters[i];
                json_t *reply;

                if (!cc)
                        continue;
                cc->waiting = false;
                reply = r < 0 ? control_reply_error(-r, "%s", error ?: strerror(-r)) : control_reply_ok();
                if (reply)
                        (void) control_send(cc->src.fd, reply);
                json_decref(reply);
        }
}

static void policies_changed(Broker *b) {
        ipc_sync_proxies(b);
        ipc_relays_recheck(b);
        depend_sync(b);
        apps_sync(b);
}

static GroupPolicy *group_find(Broker *b, const char *group) {
        for (GroupPolicy *g = b->group_policies; g; g = g->next)
                if (streq(g->group, group))
                        return g;
        return NULL;
}

GroupPolicy *group_policy_free(GroupPolicy *g) {
        if (g) {
                free(g->group);
                free(g->file);
                policy_unref(g->policy);
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

                if (!groups[i].alive || group_find(b, groups[i].group) ||
                    asprintf(&path, "%s/groups/%s/policy.yaml", b->state_dir, groups[i].group) < 0 ||
                    access(path, F_OK) < 0)
                        continue;
                paths[0] = path;
                if (load_files(paths, 1, &p, &error) < 0) {
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
                g->next = b->group_policies;
                b->group_policies = g;
                log_info("Policy of group '%s' restored from %s", g->group, g->file);
        }
        group_info_free_array(groups, n);
}

static void apply_all(Broker *b, ReloadJob *j) {
        if (j->r < 0) {
                log_error("Policy reload refused, keeping the old policy:\n%s", j->error ?: "");
                job_reply(j, j->r, j->error);
                return;
        }
        /* A group policy with errors keeps its old version.  A group
         * dropped or given another file since the job started is left as
         * it is now. */
        for (size_t i = 0; i < j->n_groups; i++) {
                GroupLoad *l = &j->groups[i];
                GroupPolicy *g = group_find(b, l->group);

                if (!g || !streq(g->file, l->file))
                        continue;
                if (!l->policy) {
                        log_error("Policy of group '%s' not reloaded, keeping the old one:\n%s", l->group,
                                  l->error ?: "");
                        continue;
                }
                policy_unref(g->policy);
                g->policy = TAKE_PTR(l->policy);
        }
        /* Swap: requests decided from now on see the new policy. */
        policy_unref(b->policy);
        b->policy = TAKE_PTR(j->policy);
        policies_changed(b);
        log_info("Policy reloaded");
        job_reply(j, 0, NULL);
}

static void apply_group(Broker *b, ReloadJob *j) {
        GroupLoad *l = &j->groups[0];
        GroupPolicy *g;

        if (j->r < 0) {
                job_reply(j, j->r, j->error);
                return;
        }
        g = group_find(b, l->group);
        if (!g) {
                g = calloc(1, sizeof(*g));
                if (!g || !(g->group = strdup(l->group))) {
                        free(g);
                        job_reply(j, -ENOMEM, NULL);
                        return;
                }
                g->next = b->group_policies;
                b->group_policies = g;
        }
        free(g->file);
        g->file = TAKE_PTR(l->file);
        policy_unref(g->policy);
        g->policy = TAKE_PTR(l->policy);
        policies_changed(b);
        log_info("Policy of group '%s' loaded from %s", l->group, g->file);
        job_reply(j, 0, NULL);
}

static void apply_drop(Broker *b, ReloadJob *j) {
        const char *group = j->groups[0].group;

        for (GroupPolicy **i = &b->group_policies; *i; i = &(*i)->next)
                if (streq((*i)->group, group)) {
                        GroupPolicy *g = *i;
                        *i = g->next;
                        group_policy_free(g);
                        policies_changed(b);
                        log_info("Policy of group '%s' dropped", group);
                        job_reply(j, 0, NULL);
                        return;
                }
        char msg[128];
        snprintf(msg, sizeof(msg), "group '%s' has no policy loaded", group);
        job_reply(j, -ENOENT, msg);
}

static void apply(Broker *b, ReloadJob *j) {
        switch (j->kind) {
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
        if (j->kind != RELOAD_ALL)
                return 0;
        j->paths = calloc(b->n_policy_paths + 1, sizeof(char *));
        if (!j->paths)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_policy_paths; i++) {
                j->paths[i] = strdup(b->policy_paths[i]);
                if (!j->paths[i])
                        return -ENOMEM;
                j->n_paths++;
        }
        for (GroupPolicy *g = b->group_policies; g; g = g->next)
                if (g->file && job_add_group(j, g->group, g->file) < 0)
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
                if (j->kind == RELOAD_GROUP_DROP) {
                        apply(b, j);
                        job_free(j);
                        continue;
                }
                r = job_prepare(b, j);
                if (r < 0) {
                        log_error_errno(r, "Policy reload failed: %m");
                        job_reply(j, r, NULL);
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

static void enqueue(Reloader *rl, ReloadJob *j) {
        ReloadJob **i = &rl->queue;

        while (*i)
                i = &(*i)->next;
        *i = j;
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
        if (job_add_waiter(j, cc) < 0) {
                job_free(j);
                return -ENOMEM;
        }
        enqueue(rl, j);
        start_next(b);
        return 0;
}

int reload_group_request(Broker *b, ControlConn *cc, const char *group, const char *file) {
        Reloader *rl = b->reloader;
        ReloadJob *j = calloc(1, sizeof(*j));

        if (!j)
                return -ENOMEM;
        j->kind = file ? RELOAD_GROUP : RELOAD_GROUP_DROP;
        if (job_add_group(j, group, file ?: "") < 0 || job_add_waiter(j, cc) < 0) {
                job_free(j);
                return -ENOMEM;
        }
        enqueue(rl, j);
        start_next(b);
        return 0;
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
