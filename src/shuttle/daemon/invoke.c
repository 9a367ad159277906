/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* invoke: running an application that lives in another container.
 *
 * The broker decides (app, each argument against the rule's predicates,
 * the names of the offered environment), transfers file arguments as the
 * rule's `transfer` says, and starts the app inside the target with
 * container_exec_spawn(): the target's namespaces, cgroups, capabilities,
 * seccomp and user (invariant 4), the caller's three descriptors as its
 * stdio.  The app is the broker's child; its pidfd sits in the event loop
 * and its exit becomes the EXIT event on the caller's connection.  The
 * app is born in a cgroup of its own below the target's (cgroup.h,
 * CgroupSub), so whatever it starts is found again: when the invocation
 * ends (the app exits, its caller goes, the target stops, the broker
 * stops) everything in that cgroup is killed, a background child or a
 * daemon that left its session included, and only once the cgroup is
 * empty and removed is the invocation counted no more, audited (op
 * "end") and answered with EXIT.  The kill runs in rounds on the event
 * loop's timer, never waiting in it.  Its transfers are revoked when it
 * ends (file arguments asked for as descriptors are no transfers to
 * revoke: nothing is mounted, and the app's descriptors go with it).  An
 * app named by a bare name (exec of an apps/ entry) is first resolved to
 * the path of the rule that names it (apps.c).
 *
 * Per call only what must be: the target's state file is read again only
 * when another file is in its place (InvokeTarget), and an invocation's
 * cgroup that its app left empty and untouched serves the target's next
 * one instead of being removed and another made (cgroup_sub_reusable());
 * one that held anything else when it ended is ended and removed as
 * above. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/time-util.h"
#include "runtime/cgroup.h"
#include "runtime/exec.h"
#include "runtime/state-info.h"
#include "shuttle/daemon/broker-api.h"
#include "shuttle/host/locate.h"
#include "shuttle/daemon/mediator.h"
#include "shuttle/client/protocol.h"
#include "shuttle/daemon/xfer.h"

/* How much of the argument list the audit record's object shows. */
#define AUDIT_OBJECT_MAX 1024
/* When the broker stops, how long it waits for invocations' cgroups to
 * empty (in all), and how often it looks. */
#define DROP_TIMEOUT_USEC (2 * 1000 * 1000)
#define DROP_POLL_USEC 10000

static void invocation_free(void *p) {
        Invocation *inv = p;

        if (!inv)
                return;
        cgroup_sub_free(inv->cgroup);
        free(inv->caller_name);
        free(inv->caller_group);
        free(inv->target);
        free(inv->app);
        free(inv->rule);
        free(inv->xfers);
        free(inv);
}

/* The invocation's own cgroup below each of the target's; a name taken
 * already (a previous broker's with the same pid) means the next one. */
static int make_cgroup(Broker *b, const StateInfo *info, CgroupSub **ret) {
        for (unsigned attempt = 0; attempt < 16; attempt++) {
                char name[64];
                int r;

                snprintf(name, sizeof(name), CGROUP_SUB_PREFIX "%d-%" PRIu64, (int) getpid(),
                         ++b->next_invocation_cgroup);
                r = cgroup_sub_create(info->cgroups, name, ret);
                if (r != -EEXIST)
                        return r;
        }
        return -EEXIST;
}

/* ---- what an invocation needs of its target, kept between them ----
 *
 * Its state as last read (StateCache: one stat() and one flock() per
 * invocation while the same state file is in place), and a spare cgroup:
 * an ended invocation's, empty and untouched, for the next one. */

typedef struct InvokeTarget {
        StateCache state;
        CgroupSub *spare;
} InvokeTarget;

/* An empty spare goes (one rmdir each); one that something joined is the
 * container's own doing, left to its runtime, which removes everything
 * below its cgroup when it stops. */
static void spare_drop(InvokeTarget *t) {
        if (t->spare && cgroup_sub_kill(t->spare, 0) == 0)
                (void) cgroup_sub_remove(t->spare);
        t->spare = cgroup_sub_free(t->spare);
}

static void target_forget(Container *c) {
        if (!c->invoke)
                return;
        spare_drop(c->invoke);
        state_cache_done(&c->invoke->state);
        free(c->invoke);
        c->invoke = NULL;
}

/* The target as its runtime recorded it (caps, user, cgroups), while it
 * runs as the container registered: -ESRCH if not. */
static int target_info(Broker *b, Container *c, const StateInfo **ret) {
        InvokeTarget *t = c->invoke;
        const StateInfo *info;
        int r;

        if (!t) {
                t = calloc(1, sizeof(*t));
                if (!t)
                        return -ENOMEM;
                t->state = (StateCache) STATE_CACHE_INIT;
                c->invoke = t;
        }
        r = state_cache_get(&t->state, b->state_dir, c->name, &info);
        if (r != 0)
                /* Read anew (or gone): a spare below what it said before
                 * is not taken for one below what it says now. */
                spare_drop(t);
        if (r < 0)
                return r;
        if (info->init_pid != c->pid) {
                state_cache_done(&t->state);
                return -ESRCH;
        }
        *ret = info;
        return 0;
}

/* The target's spare cgroup, or a new one. */
static int take_cgroup(Broker *b, Container *c, const StateInfo *info, CgroupSub **ret) {
        if (c->invoke && c->invoke->spare) {
                *ret = TAKE_PTR(c->invoke->spare);
                return 0;
        }
        return make_cgroup(b, info, ret);
}

/* Is each of s's directories below the corresponding one of parents (the
 * target's cgroups as last read)? */
static bool cgroup_below(const CgroupSub *s, char *const *parents) {
        char *const *paths = cgroup_sub_paths(s);
        size_t i;

        for (i = 0; paths[i] && parents[i]; i++) {
                size_t n = strlen(parents[i]);
                if (!strneq(paths[i], parents[i], n) || paths[i][n] != '/' || strchr(paths[i] + n + 1, '/'))
                        return false;
        }
        return !paths[i] && !parents[i];
}

/* An ended invocation's cgroup, kept as its target's spare if its app left
 * it as new (and the target has none): true if so. */
static bool keep_cgroup(Invocation *inv) {
        InvokeTarget *t = inv->to ? inv->to->invoke : NULL;

        if (!inv->cgroup || inv->src.fd >= 0 || !t || !t->state.loaded || t->spare || inv->to->dead ||
            !cgroup_below(inv->cgroup, t->state.info.cgroups))
                return false;
        if (cgroup_sub_reusable(inv->cgroup) <= 0)
                return false;
        t->spare = TAKE_PTR(inv->cgroup);
        return true;
}

/* One round of ending an invocation's cgroup: 0 once it is gone, > 0 (or
 * -EBUSY) while processes are left, another negative errno if it cannot
 * be ended (the invocation then ends without it, and says so). */
static int cgroup_round(Invocation *inv) {
        int r;

        if (!inv->cgroup)
                return 0;
        r = cgroup_sub_kill(inv->cgroup, inv->pid);
        if (r == 0)
                r = cgroup_sub_remove(inv->cgroup);
        if (r > 0 || r == -EBUSY)
                return r;
        inv->killed = cgroup_sub_killed(inv->cgroup);
        inv->cgroup_error = r;
        inv->cgroup = cgroup_sub_free(inv->cgroup);
        return r;
}

/* Until nothing is left, waiting here: only where no event loop runs on
 * (start-up failures, the broker's exit); bounded by deadline. */
static void cgroup_end_now(Invocation *inv, uint64_t deadline_usec) {
        int r;

        while ((r = cgroup_round(inv)) > 0 || r == -EBUSY) {
                if (clock_usec(CLOCK_MONOTONIC) > deadline_usec) {
                        inv->killed = cgroup_sub_killed(inv->cgroup);
                        inv->cgroup_error = -EBUSY;
                        inv->cgroup = cgroup_sub_free(inv->cgroup);
                        return;
                }
                usleep(DROP_POLL_USEC);
        }
}

static uint64_t deadline_from_now(uint64_t usec) {
        return clock_usec(CLOCK_MONOTONIC) + usec;
}

static void revoke_xfers(Broker *b, Invocation *inv, const char *why) {
        for (size_t i = 0; i < inv->n_xfers; i++) {
                Transfer *t = inv->xfers[i] ? transfer_find(b, inv->xfers[i]) : NULL;
                if (t)
                        transfer_revoke(b, t, why);
                inv->xfers[i] = 0;
        }
        inv->n_xfers = 0;
}

/* "APP ARG…", cut at AUDIT_OBJECT_MAX bytes. */
static void audit_object(const ShuttleMsg *m, char *buf, size_t size) {
        size_t len = (size_t) snprintf(buf, size, "%s", m->app);

        for (size_t i = 0; i < m->n_args && len < size - 1; i++)
                len += (size_t) snprintf(buf + len, size - len, " %s", m->args[i]);
        if (len >= size - 1 && size > 4)
                memcpy(buf + size - 4, "...", 4);
}

/* The names of the offered "NAME=value" entries, for the policy. */
static int env_names(const ShuttleMsg *m, char **names) {
        for (size_t i = 0; i < m->n_env; i++) {
                const char *eq = strchr(m->env[i], '=');
                names[i] = strndup(m->env[i], eq ? (size_t) (eq - m->env[i]) : strlen(m->env[i]));
                if (!names[i])
                        return -ENOMEM;
        }
        return 0;
}

/* The argument that names descriptor fd in the app.  /dev/fd is a link to
 * /proc/self/fd in every container's /dev (mounts.c). */
#define ARG_FD_FORMAT "/dev/fd/%d"

/* A file argument as a descriptor (SHUTTLE_INVOKE_FILES_AS_FDS): opened
 * with the same checks as a transfer, nothing mounted; it becomes the
 * app's next descriptor (3, 4, …) and the argument its /dev/fd name. */
static int pass_arg_fd(Broker *b, Client *cl, Container *target, const CallerCreds *creds, const char *path,
                       int mode, const PolicyDecision *d, char **arg, int *fds, size_t *n_fds, char *why,
                       size_t why_size) {
        const char *reason = NULL;
        char name[32];
        int fd, r;

        /* Invariant 5: each one is a descriptor in the broker until the
         * app starts. */
        if (*n_fds >= BROKER_INVOKE_FDS_MAX) {
                snprintf(why, why_size, "more than %d file arguments to pass as descriptors",
                         BROKER_INVOKE_FDS_MAX);
                return -E2BIG;
        }
        r = transfer_open_fd(cl->container, creds, path, mode, &fd, &reason);
        if (r == -ENOENT)
                return 0; /* not a file of the caller's: an ordinary argument */
        if (r < 0) {
                snprintf(why, why_size, "file argument '%.200s': %s", path, reason ?: strerror(-r));
                return r;
        }
        fds[(*n_fds)++] = fd;
        snprintf(name, sizeof(name), ARG_FD_FORMAT, 3 + (int) (*n_fds - 1));
        broker_audit_event(b, &(AuditEvent){
                                .from = cl->container,
                                .to = target->name,
                                .kind = "transfer",
                                .op = "open-fd",
                                .object = path,
                                .allow = true,
                                .rule = d->rule_id,
                                .reason = "file argument of an invocation, as a descriptor",
                                .extra = json_pack("{s:i, s:s, s:s}", "fd", 3 + (int) (*n_fds - 1), "target_path",
                                                   name, "mode", mode == SHUTTLE_TRANSFER_RW ? "rw" : "ro"),
                        });
        free(*arg);
        *arg = strdup(name);
        if (!*arg) {
                snprintf(why, why_size, "out of memory");
                return -ENOMEM;
        }
        return 0;
}

/* File arguments: each absolute path that exists in the caller crosses as
 * the rule's `transfer` says, and the argument becomes the name the target
 * sees: a mount under /run/shuttle/xfer, or with SHUTTLE_INVOKE_FILES_AS_FDS
 * a descriptor (fds, in argument order).  Anything else passes unchanged.
 * An existing path that may not cross (a symlink in it, a hard link, a
 * device, not the caller's to give) refuses the whole invocation: passing
 * it on unchanged would name some other file in the target. */
static int transfer_args(Broker *b, Client *cl, Container *target, const ShuttleMsg *m, const PolicyDecision *d,
                         char **argv, uint64_t *xfers, size_t *n_xfers, int *fds, size_t *n_fds, char *why,
                         size_t why_size) {
        int mode = d->mode == POLICY_MODE_RW ? SHUTTLE_TRANSFER_RW : SHUTTLE_TRANSFER_RO;
        bool as_fds = shuttle_msg_has(m, SHUTTLE_ATTR_INVOKE_FLAGS) &&
                      (m->invoke_flags & SHUTTLE_INVOKE_FILES_AS_FDS);
        CallerCreds creds;
        int r;

        if (d->mode == POLICY_MODE_NONE)
                return 0;
        r = broker_client_creds(cl, &creds);
        if (r < 0) {
                snprintf(why, why_size, "cannot tell who the caller is");
                return r;
        }
        for (size_t i = 0; i < m->n_args; i++) {
                char path[PATH_MAX];
                const char *reason = NULL;
                Transfer *t;

                if (m->args[i][0] != '/' || xfer_path_normalize(m->args[i], path, sizeof(path)) < 0)
                        continue;
                if (as_fds) {
                        r = pass_arg_fd(b, cl, target, &creds, path, mode, d, &argv[i + 1], fds, n_fds, why,
                                        why_size);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = transfer_create(b, cl->container, &creds, target, path, mode, d->rule_id, 0, true, &t, &reason);
                if (r == -ENOENT)
                        continue; /* not a file of the caller's: an ordinary argument */
                if (r < 0) {
                        snprintf(why, why_size, "file argument '%.200s': %s", path, reason ?: strerror(-r));
                        return r;
                }
                xfers[(*n_xfers)++] = t->id;
                /* Every transfer is in the audit log, also one made for an
                 * invocation's file argument. */
                broker_audit_event(b, &(AuditEvent){
                                        .from = cl->container,
                                        .to = target->name,
                                        .kind = "transfer",
                                        .op = "open",
                                        .object = path,
                                        .allow = true,
                                        .rule = d->rule_id,
                                        .reason = "file argument of an invocation",
                                        .extra = json_pack("{s:I, s:s, s:s}", "xfer_id", (json_int_t) t->id,
                                                           "target_path", t->target_path, "mode",
                                                           mode == SHUTTLE_TRANSFER_RW ? "rw" : "ro"),
                                });
                free(argv[i + 1]);
                argv[i + 1] = strdup(t->target_path);
                if (!argv[i + 1]) {
                        snprintf(why, why_size, "out of memory");
                        return -ENOMEM;
                }
        }
        return 0;
}

/* ---- prepared while the record of its decision is synced ---------------
 * --audit-sync sync (pipeline.c): an invocation's decision is on disk
 * before its app starts, and that sync takes a while (an fdatasync() of
 * the log).  Meanwhile what can be done without anything of the app
 * happening is done: its cgroup taken, the zygote's fork and the child's
 * set-up (the cgroup joined, its descriptors in place), the child then
 * waiting before its exec (container_zygote_prepare()).  carry_out lets it
 * go once the record is on disk; a refusal instead (the sync failed, the
 * caller or the target went, a limit) ends it before its exec, and so
 * does the broker's end (its socket closes, and it dies with us).  Only
 * what the zygote starts and what moves no file: an invocation whose rule
 * transfers file arguments starts after the sync, as without a zygote. */
typedef struct InvokePrepared {
        Invocation *inv;        /* its cgroup and names; NULL once started or given up */
        Container *target;      /* NULL once the target is forgotten */
        ZygoteChild child;
        struct InvokePrepared *next; /* on b->prepared */
} InvokePrepared;

/* An invocation that did not start: nothing ran in its cgroup, or what
 * did is gone (quick). */
static void start_failed(Broker *b, Invocation *inv) {
        cgroup_end_now(inv, deadline_from_now(DROP_TIMEOUT_USEC));
        revoke_xfers(b, inv, "invocation not started");
        invocation_free(inv);
}

/* The app started (pid, pidfd): watched, and inv is running. */
static int start_watch(Broker *b, Client *cl, Container *target, const ShuttleMsg *m, Invocation *inv, pid_t pid,
                       int pidfd, Invocation **ret, char *why, size_t why_size) {
        int r;

        inv->src = (Source){ .type = SRC_INVOCATION, .fd = pidfd };
        inv->pid = pid;
        inv->to = target;
        inv->id = m->id;
        inv->client = cl;
        inv->caller = cl->container;
        r = broker_watch(b, &inv->src, EPOLLIN);
        if (r < 0) {
                (void) pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
                (void) waitid(P_PIDFD, (id_t) pidfd, &(siginfo_t){}, WEXITED);
                close(pidfd);
                inv->src.fd = -1;
                snprintf(why, why_size, "cannot watch the app");
                start_failed(b, inv);
                return r;
        }
        *ret = inv;
        return 0;
}

/* Starts the app; 0 and the running invocation, or a negative errno and
 * why (for the caller and the audit log).  With prepare_into, up to the
 * app's exec only (InvokePrepared): 0 and *prepare_into filled. */
static int start(Broker *b, Client *cl, Container *target, const ShuttleMsg *m, const PolicyDecision *d,
                 const int *fds, InvokePrepared *prepare_into, Invocation **ret, char *why, size_t why_size) {
        _cleanup_strv_free_ char **argv = NULL, **env = NULL;
        const StateInfo *info = NULL;
        int pass_fds[BROKER_INVOKE_FDS_MAX];
        ExecConfig cfg = {};
        Invocation *inv = NULL;
        size_t n_env = 0, n_pass_fds = 0;
        pid_t pid = 0;
        int pidfd = -1, r;

        inv = calloc(1, sizeof(*inv));
        argv = calloc(m->n_args + 2, sizeof(char *));
        env = calloc(m->n_env + 1, sizeof(char *));
        if (!inv || !argv || !env || !(argv[0] = strdup(m->app)) || !(inv->target = strdup(target->name)) ||
            !(inv->app = strdup(m->app)) || !(inv->xfers = calloc(m->n_args + 1, sizeof(uint64_t))) ||
            !(inv->rule = strdup(d->rule_id ?: "-")) || !(inv->caller_name = strdup(cl->container->name)) ||
            (cl->container->group && !(inv->caller_group = strdup(cl->container->group)))) {
                r = -ENOMEM;
                goto fail;
        }
        for (size_t i = 0; i < m->n_args; i++)
                if (!(argv[i + 1] = strdup(m->args[i]))) {
                        r = -ENOMEM;
                        goto fail;
                }
        for (size_t i = 0; i < m->n_env; i++) {
                const char *eq = strchr(m->env[i], '=');
                char name[256];
                snprintf(name, sizeof(name), "%.*s", (int) (eq ? eq - m->env[i] : (ptrdiff_t) strlen(m->env[i])),
                         m->env[i]);
                if (!policy_decision_env_allowed(d, name))
                        continue;
                if (!(env[n_env++] = strdup(m->env[i]))) {
                        r = -ENOMEM;
                        goto fail;
                }
        }

        /* The target as its runtime recorded it: caps, user, cgroups. */
        r = target_info(b, target, &info);
        if (r < 0) {
                snprintf(why, why_size, "container '%s' is not running", target->name);
                goto fail;
        }

        r = transfer_args(b, cl, target, m, d, argv, inv->xfers, &inv->n_xfers, pass_fds, &n_pass_fds, why,
                          why_size);
        if (r < 0)
                goto fail;

        /* Everything the app will start must be found again when the
         * invocation ends: it is born in a cgroup of its own (below the
         * target's, so the target's limits count it), never started
         * without one. */
        r = take_cgroup(b, target, info, &inv->cgroup);
        if (r < 0) {
                snprintf(why, why_size, "cannot create the invocation's cgroup: %s", strerror(-r));
                goto fail;
        }

        /* If the broker dies, the app does not outlive it unwatched (what
         * it started is ended by the next broker: invoke_reap_leftovers). */
        cfg = (ExecConfig){ .argv = argv, .env = env, .n_env = n_env, .die_with_caller = true,
                            .nofile_cur = b->child_nofile, .pass_fds = pass_fds, .n_pass_fds = n_pass_fds,
                            .cgroups = cgroup_sub_paths(inv->cgroup) };
        if (prepare_into) {
                /* No zygote to fork (or it failed us): after the sync then. */
                r = n_pass_fds > 0 || inv->n_xfers > 0
                            ? -EINVAL
                            : invoke_spawn_in_zygote(b, target, info, &cfg, fds, inv->cgroup,
                                                     &prepare_into->child, NULL, NULL, why, why_size);
                if (r != 0) {
                        r = r > 0 ? -EAGAIN : r;
                        goto fail;
                }
                prepare_into->inv = inv;
                prepare_into->target = target;
                return 0;
        }
        r = invoke_spawn_in_zygote(b, target, info, &cfg, fds, inv->cgroup, NULL, &pid, &pidfd, why, why_size);
        if (r > 0)
                r = container_exec_spawn(info, b->state_dir, &cfg, fds, &pid, &pidfd, why, why_size);
        /* The app has its own copies now (or none, if it did not start). */
        for (size_t i = 0; i < n_pass_fds; i++)
                safe_close(pass_fds[i]);
        n_pass_fds = 0;
        if (r < 0)
                goto fail;
        return start_watch(b, cl, target, m, inv, pid, pidfd, ret, why, why_size);

fail:
        for (size_t i = 0; i < n_pass_fds; i++)
                safe_close(pass_fds[i]);
        if (inv)
                start_failed(b, inv);
        return r;
}

/* The prepared app lets go (its decision's record is on disk). */
static int start_prepared(Broker *b, Client *cl, Container *target, const ShuttleMsg *m, InvokePrepared *p,
                          Invocation **ret, char *why, size_t why_size) {
        Invocation *inv = TAKE_PTR(p->inv);
        pid_t pid = 0;
        int pidfd = -1, r;

        r = container_zygote_go(&p->child, &pid, &pidfd, why, why_size);
        if (r < 0) {
                start_failed(b, inv);
                return r;
        }
        return start_watch(b, cl, target, m, inv, pid, pidfd, ret, why, why_size);
}

/* What carry_out did not take: the child ends before its exec. */
static void prepared_end(Broker *b, InvokePrepared *p) {
        container_zygote_discard(&p->child);
        if (p->inv)
                start_failed(b, TAKE_PTR(p->inv));
}

typedef struct InvokeState {
        Container *target;
        char *resolved;                     /* a bare app name's rule path (malloc'd) */
        ShuttleMsg with_path;               /* the request with it, if so */
        const ShuttleMsg *m;                /* the request as decided */
        char *names[SHUTTLE_ARGS_MAX + 1];  /* the offered environment's names */
        Invocation *inv;
} InvokeState;

static int invoke_build(Request *r) {
        InvokeState *s = REQUEST_STATE(r, InvokeState);
        const ShuttleMsg *request = r->msg;
        int k;

        s->target = container_find(r->broker, request->container);
        s->resolved = NULL;
        s->m = request;
        s->inv = NULL;
        memset(s->names, 0, sizeof(s->names));
        r->to = request->container;
        r->policy.to = s->target ? s->target->qname : request->container;
        r->policy.kind = POLICY_KIND_INVOKE;

        /* A bare name (what exec of an apps/ entry sends): the path of the
         * rule that names it, decided, audited and run as if the caller
         * had given it.  Several paths: refused rather than guessed. */
        if (!strchr(request->app, '/')) {
                /* why is the REPLY's MESSAGE too: at most 255 bytes. */
                k = apps_resolve(r->broker, r->from, r->policy.to, request->app, &s->resolved, r->why,
                                 SHUTTLE_MESSAGE_MAX + 1);
                if (s->resolved) {
                        s->with_path = *request;
                        s->with_path.app = s->resolved;
                        s->m = &s->with_path;
                        /* What the caller asked for, when object is what it resolved to. */
                        if (request_extra(r))
                                json_object_set_new(r->extra, "app_name", json_string(request->app));
                }
                if (k < 0) {
                        audit_object(s->m, r->object, sizeof(r->object));
                        return k;
                }
        }
        audit_object(s->m, r->object, sizeof(r->object));
        r->policy.object = s->m->app;
        r->policy.args = s->m->args;
        r->policy.n_args = s->m->n_args;
        r->policy.env = (const char *const *) s->names;
        r->policy.n_env = s->m->n_env;
        if (r->n_fds != 3 || env_names(s->m, s->names) < 0) {
                r->d.rule_id = "default";
                snprintf(r->why, sizeof(r->why), "malformed request");
                return -EACCES;
        }
        return 0;
}

static int invoke_carry_out(Request *r) {
        InvokeState *s = REQUEST_STATE(r, InvokeState);
        InvokePrepared *p = r->prepared;
        Client *cl = r->client;
        int k;

        if (!s->target) {
                snprintf(r->why, sizeof(r->why), "no such container");
                return -ENOENT;
        }
        if (cl->invocation) {
                snprintf(r->why, sizeof(r->why), "an invocation is already running on this connection");
                return -EBUSY;
        }
        if (r->from->n_invocations >= BROKER_INVOCATIONS_PER_CONTAINER) {
                /* Invariant 5: a container may flood only itself. */
                snprintf(r->why, sizeof(r->why), "too many running invocations from this container (at most %d)",
                         BROKER_INVOCATIONS_PER_CONTAINER);
                return -EAGAIN;
        }
        if (p && p->inv && p->target == s->target && streq(p->inv->app, s->m->app))
                k = start_prepared(r->broker, cl, s->target, s->m, p, &s->inv, r->why, sizeof(r->why));
        else
                k = start(r->broker, cl, s->target, s->m, &r->d, r->fds, NULL, &s->inv, r->why, sizeof(r->why));
        if (k < 0)
                return k;
        /* The rule's max_open counts running invocations. */
        if (r->limit) {
                s->inv->limit = r->limit;
                r->limit->open++;
        }
        if (request_extra(r))
                json_object_set_new(r->extra, "pid", json_integer(s->inv->pid));
        s->inv->next = r->broker->invocations;
        r->broker->invocations = s->inv;
        cl->invocation = s->inv;
        r->from->n_invocations++;
        /* The descriptors were duplicated into the app; the pipeline
         * closes ours. */
        return 0;
}

/* Parked until its decision's record is on disk: the app made ready
 * meanwhile, if it can be (InvokePrepared).  What carry_out would refuse
 * now is not prepared. */
static void *invoke_prepare(Request *r) {
        InvokeState *s = REQUEST_STATE(r, InvokeState);
        Client *cl = r->client;
        InvokePrepared *p;
        char why[REQUEST_WHY_MAX];
        int k;

        if (!s->target || !cl || cl->invocation || r->from->n_invocations >= BROKER_INVOCATIONS_PER_CONTAINER ||
            r->d.mode != POLICY_MODE_NONE || r->n_fds != 3)
                return NULL;
        p = calloc(1, sizeof(*p));
        if (!p)
                return NULL;
        p->child = ZYGOTE_CHILD_NULL;
        k = start(r->broker, cl, s->target, s->m, &r->d, r->fds, p, NULL, why, sizeof(why));
        if (k < 0) {
                /* Started after the sync instead, which says why if it fails. */
                free(p);
                return NULL;
        }
        p->next = r->broker->prepared;
        r->broker->prepared = p;
        return p;
}

static void invoke_unprepare(Broker *b, void *userdata) {
        InvokePrepared *p = userdata;

        prepared_end(b, p);
        for (InvokePrepared **i = &b->prepared; *i; i = &(*i)->next)
                if (*i == p) {
                        *i = p->next;
                        break;
                }
        free(p);
}

static void invoke_done(Request *r) {
        InvokeState *s = REQUEST_STATE(r, InvokeState);

        for (size_t i = 0; i < SHUTTLE_ARGS_MAX + 1 && s->names[i]; i++)
                free(s->names[i]);
        free(s->resolved);
}

const MediatorOps invoke_ops = {
        .type = SHUTTLE_MSG_INVOKE,
        .kind = "invoke",
        .op = "exec",
        .denied_errno = EACCES,
        .acts = true,
        .build = invoke_build,
        .carry_out = invoke_carry_out,
        .prepare = invoke_prepare,
        .unprepare = invoke_unprepare,
        /* No undo: an answer that cannot be delivered means the caller's
         * connection is going, and its app ends with it
         * (invoke_client_gone()). */
        .done = invoke_done,
};

/* Only the caller's own running app: nothing to decide beyond that (the
 * invoke grant covers it), and nothing else is reachable. */
static int kill_invoked_build(Request *r) {
        (void) r;
        return REQUEST_UNDECIDED;
}

static int kill_invoked_carry_out(Request *r) {
        Client *cl = r->client;

        if (!cl || !cl->invocation || cl->invocation->src.fd < 0) {
                snprintf(r->why, sizeof(r->why), "no running invocation");
                return -ESRCH;
        }
        if (pidfd_send_signal(cl->invocation->src.fd, r->msg->signal, NULL, 0) < 0)
                return -errno;
        return 0;
}

const MediatorOps kill_invoked_ops = {
        .type = SHUTTLE_MSG_KILL_INVOKED,
        .kind = "invoke",
        .op = "kill",
        .denied_errno = EACCES,
        .build = kill_invoked_build,
        .carry_out = kill_invoked_carry_out,
};

/* The end, once the app is reaped and its cgroup gone: EXIT for the
 * caller (now that nothing of the invocation holds its stdio any more),
 * the audit record, and the books. */
static void invocation_end(Broker *b, Invocation *inv, bool send_exit) {
        /* The caller may be unregistered by now; the record still names it. */
        Container caller = { .name = inv->caller_name, .group = inv->caller_group };
        json_t *extra;

        if (send_exit && inv->client)
                pipeline_send_exit(b, inv->client, inv->id, inv->status);
        extra = json_pack("{s:i, s:i, s:i}", "pid", (int) inv->pid, WIFSIGNALED(inv->status) ? "signal" : "exit_code",
                          WIFSIGNALED(inv->status) ? WTERMSIG(inv->status) : WEXITSTATUS(inv->status), "killed",
                          (int) inv->killed);
        if (extra && inv->cgroup_error < 0)
                json_object_set_new(extra, "cgroup_errno", json_integer(-inv->cgroup_error));
        broker_audit_event(b, &(AuditEvent){ .from = inv->caller ?: &caller, .to = inv->target, .kind = "invoke",
                                       .op = "end", .object = inv->app, .allow = true, .rule = inv->rule,
                                       .reason = inv->end_why, .extra = extra });

        for (Invocation **i = &b->invocations; *i; i = &(*i)->next)
                if (*i == inv) {
                        *i = inv->next;
                        break;
                }
        broker_unwatch(b, &inv->src);
        if (inv->client)
                inv->client->invocation = NULL;
        if (inv->caller && inv->caller->n_invocations > 0)
                inv->caller->n_invocations--;
        if (inv->limit && inv->limit->open > 0)
                inv->limit->open--;
        inv->limit = NULL;
        revoke_xfers(b, inv, "invocation ended");
        broker_defer_free(b, inv, invocation_free);
}

/* One step towards the end: a round on its cgroup; the end once that is
 * gone and the app reaped.  Otherwise the next round comes with the timer
 * (invoke_tick) or the app's pidfd. */
static void end_step(Broker *b, Invocation *inv) {
        int r = keep_cgroup(inv) ? 0 : cgroup_round(inv);

        if (r > 0 || r == -EBUSY)
                return;
        if (inv->src.fd >= 0)
                return; /* killed with its cgroup; reaped when its pidfd says so */
        invocation_end(b, inv, true);
}

static void begin_end(Broker *b, Invocation *inv, const char *why) {
        if (!inv->ending) {
                inv->ending = true;
                inv->end_why = why;
        }
        /* The app itself at once, also if its cgroup could not be ended. */
        if (inv->src.fd >= 0)
                (void) pidfd_send_signal(inv->src.fd, SIGKILL, NULL, 0);
        end_step(b, inv);
}

void invoke_exited(Broker *b, Invocation *inv) {
        siginfo_t si = {};

        if (waitid(P_PIDFD, (id_t) inv->src.fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
                return; /* not yet (spurious wake-up) */
        /* Back to a wait status for shuttle_msg_exit(). */
        inv->status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 : si.si_status & 0x7f;
        /* The Invocation lives on (src.fd -1) until its cgroup is gone. */
        broker_unwatch(b, &inv->src);
        if (!inv->ending) {
                inv->ending = true;
                inv->end_why = "app exited";
        }
        /* Whatever it left running ends with it. */
        end_step(b, inv);
}

void invoke_client_gone(Broker *b, Client *cl) {
        Invocation *inv = cl->invocation;

        if (!inv)
                return;
        /* The caller waits for it no more: it ends, with all it started. */
        inv->client = NULL;
        cl->invocation = NULL;
        begin_end(b, inv, "caller gone");
}

void invoke_tick(Broker *b) {
        for (Invocation *inv = b->invocations, *next; inv; inv = next) {
                next = inv->next;
                if (inv->ending)
                        end_step(b, inv);
        }
}

void broker_forget_container(Broker *b, Container *c) {
        /* What was prepared in it never starts (its request, once its
         * record is synced, finds no such container). */
        for (InvokePrepared *p = b->prepared; p; p = p->next)
                if (p->target == c) {
                        prepared_end(b, p);
                        p->target = NULL;
                }
        /* Its runtime kills it with the cgroup; ours to reap. */
        invoke_zygote_drop(b, c);
        target_forget(c);
        for (Invocation *inv = b->invocations, *next; inv; inv = next) {
                next = inv->next;
                if (inv->caller == c)
                        inv->caller = NULL;
                if (inv->to == c)
                        inv->to = NULL;
                /* Its runtime kills its cgroup, ours included; the books
                 * close as soon as that is done. */
                if (streq(inv->target, c->name))
                        begin_end(b, inv, "target stopped");
        }
        for (Transfer *t = b->transfers, *next; t; t = next) {
                next = t->next;
                if (t->from == c || t->to == c) {
                        for (Invocation *inv = b->invocations; inv; inv = inv->next)
                                for (size_t i = 0; i < inv->n_xfers; i++)
                                        if (inv->xfers[i] == t->id)
                                                inv->xfers[i] = 0;
                        transfer_revoke(b, t, "container stopped");
                }
        }
}

void invoke_reap_leftovers(Broker *b, Container *c) {
        _cleanup_(state_info_done) StateInfo info = {};
        unsigned killed = 0;
        int r;

        r = state_info_load_running(b->state_dir, c->name, 0, &info);
        if (r < 0 || info.init_pid != c->pid)
                return;
        /* Invocations of a broker that died: nobody answers for them any
         * more, so nothing of them may go on running (and holding its
         * caller's stdio). */
        r = cgroup_sub_remove_stale(info.cgroups, &killed);
        if (r == 0)
                return;
        if (r < 0)
                log_warning_errno(r, "Failed to end invocations a previous broker left in '%s': %m", c->qname);
        broker_audit_event(b, &(AuditEvent){ .to = c->name, .kind = "invoke", .op = "end", .allow = true,
                                       .reason = r < 0 ? "invocations left by a previous broker could not be ended"
                                                       : "invocations left by a previous broker",
                                       .extra = r < 0 ? json_pack("{s:i, s:i}", "killed", (int) killed, "errno", -r)
                                                      : json_pack("{s:i, s:i}", "killed", (int) killed, "cgroups", r) });
}

void invoke_drop_all(Broker *b) {
        uint64_t deadline = deadline_from_now(DROP_TIMEOUT_USEC);

        invoke_zygotes_drop_all(b);
        /* Nothing of ours is left below a container's cgroup. */
        for (Container *c = b->containers; c; c = c->next)
                target_forget(c);

        /* The broker is going: nothing it started may outlive it unwatched. */
        while (b->invocations) {
                Invocation *inv = b->invocations;
                if (!inv->ending) {
                        inv->ending = true;
                        inv->end_why = "broker stopping";
                }
                if (inv->src.fd >= 0)
                        (void) pidfd_send_signal(inv->src.fd, SIGKILL, NULL, 0);
                cgroup_end_now(inv, deadline);
                if (inv->src.fd >= 0) {
                        siginfo_t si = {};
                        if (waitid(P_PIDFD, (id_t) inv->src.fd, &si, WEXITED) >= 0)
                                inv->status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8
                                                                       : si.si_status & 0x7f;
                }
                invocation_end(b, inv, false);
        }
}
