/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* invoke: the target's zygote (the declarations with invoke.c's in mediator.h). */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "runtime/cgroup.h"
#include "runtime/exec.h"
#include "runtime/state-info.h"
#include "shuttle/daemon/broker-api.h"
#include "shuttle/host/locate.h"
#include "shuttle/daemon/mediator.h"

/* ---- the zygote: a process already inside the target (zygote.h) ----
 *
 * Started through the join path on a container's first invocation, it
 * makes every later one a single fork inside the container: no fork of
 * the broker, no namespaces to join, no sandbox to enter (the seccomp
 * filter alone is most of that).  It is the container's own: its user,
 * capabilities, no_new_privs, seccomp, cgroup, and nothing of ours but its
 * end of a socket pair; a program of the host's executed by descriptor,
 * so it holds no copy of the broker's memory either.  A container that
 * kills it or makes it misbehave only loses it: the invocation then starts
 * through the join path, and the next one gets a new zygote.  It ends with
 * the container (its runtime kills the cgroup; we reap it) or with us
 * (die_with_caller). */

typedef struct InvokeZygote {
        Source src;          /* its pidfd (z.pidfd): readable when it ends */
        ContainerZygote z;   /* pid 0: none (could not be started) */
        Container *container; /* whose it is; NULL once dropped */
        struct InvokeZygote *next; /* on b->zygotes */
} InvokeZygote;

static InvokeZygote *zygote_new(Broker *b, Container *c) {
        InvokeZygote *z = calloc(1, sizeof(*z));

        if (!z)
                return NULL;
        z->src = (Source){ .type = SRC_ZYGOTE, .fd = -1 };
        z->z = (ContainerZygote){ .pidfd = -1, .sock = -1 };
        z->container = c;
        c->zygote = z;
        z->next = b->zygotes;
        b->zygotes = z;
        return z;
}

/* Once it is reaped (or never ran): the books close. */
static void zygote_gone(Broker *b, InvokeZygote *z) {
        if (z->container && z->container->zygote == z)
                z->container->zygote = NULL;
        z->container = NULL;
        broker_unwatch(b, &z->src); /* closes z.pidfd */
        z->z.pidfd = -1;
        z->z.sock = safe_close(z->z.sock);
        for (InvokeZygote **i = &b->zygotes; *i; i = &(*i)->next)
                if (*i == z) {
                        *i = z->next;
                        break;
                }
        broker_defer_free(b, z, free);
}

void invoke_zygote_exited(Broker *b, InvokeZygote *z) {
        if (container_zygote_reap(&z->z) == 0)
                return; /* not yet (spurious wake-up) */
        if (z->container)
                /* Killed (by the container, which may): the next invocation
                 * gets another. */
                log_debug("Zygote of '%s' ended", z->container->qname);
        zygote_gone(b, z);
}

void invoke_zygote_drop(Broker *b, Container *c) {
        InvokeZygote *z = c->zygote;

        if (!z)
                return;
        c->zygote = NULL;
        z->container = NULL;
        container_zygote_kill(&z->z);
        if (z->src.fd < 0 || container_zygote_reap(&z->z) != 0)
                zygote_gone(b, z);
}

/* c gets no zygote (again): a placeholder that says so (if there is no
 * memory for it, c may get another). */
static void zygote_refuse(Broker *b, Container *c) {
        (void) zygote_new(b, c);
}

static int zygote_program(Broker *b) {
        if (!b->zygote_looked) {
                _cleanup_free_ char *path = NULL;

                b->zygote_looked = true;
                b->zygote_program = -1;
                if (zygote_helper_locate(&path) < 0)
                        log_warning("shuttle-zygote not found: invocations start through the join path");
                else if ((b->zygote_program = open(path, O_PATH | O_CLOEXEC)) < 0)
                        log_warning_errno(-errno, "Failed to open '%s', invocations start through the join path: %m",
                                          path);
        }
        return b->zygote_program;
}

/* target's running zygote, started now if it has none; NULL if it cannot
 * have one. */
static InvokeZygote *zygote_get(Broker *b, Container *target, const StateInfo *info) {
        InvokeZygote *z = target->zygote;
        char msg[256];
        int r;

        if (z)
                return z->z.pid > 0 ? z : NULL;
        if (zygote_program(b) < 0)
                return NULL;
        z = zygote_new(b, target);
        if (!z)
                return NULL;
        r = container_zygote_start(info, b->state_dir, b->zygote_program, b->child_nofile, &z->z, msg, sizeof(msg));
        if (r >= 0) {
                z->src.fd = z->z.pidfd;
                r = broker_watch(b, &z->src, EPOLLIN);
                if (r < 0) {
                        container_zygote_kill(&z->z);
                        (void) waitid(P_PIDFD, (id_t) z->z.pidfd, &(siginfo_t){}, WEXITED);
                        snprintf(msg, sizeof(msg), "cannot watch it");
                }
        }
        if (r < 0) {
                /* Not again for this container (its seccomp profile may
                 * not allow execveat, say): the join path for all. */
                log_warning_errno(r, "Cannot start a zygote in '%s', invocations start through the join path: %s",
                                  target->qname, msg[0] ? msg : strerror(-r));
                z->src.fd = safe_close(z->z.pidfd);
                z->z = (ContainerZygote){ .pidfd = -1, .sock = -1 };
                return NULL;
        }
        return z;
}

int invoke_spawn_in_zygote(Broker *b, Container *target, const StateInfo *info, const ExecConfig *cfg,
                           const int *stdio, CgroupSub *cg, ZygoteChild *prepare, pid_t *ret_pid, int *ret_pidfd,
                           char *why, size_t why_size) {
        const int *cg_fds = NULL;
        size_t n_cg = 0;
        bool broken = false;
        InvokeZygote *z;
        ExecConfig zc = { .argv = cfg->argv, .env = cfg->env, .n_env = cfg->n_env, .pass_fds = cfg->pass_fds,
                          .n_pass_fds = cfg->n_pass_fds };
        int r;

        z = zygote_get(b, target, info);
        if (!z)
                return 1;
        r = cgroup_sub_attach_fds(cg, &cg_fds, &n_cg);
        if (r < 0) {
                snprintf(why, why_size, "cannot open the invocation's cgroup: %s", strerror(-r));
                return r;
        }
        if (prepare)
                r = container_zygote_prepare(info, &z->z, &zc, stdio, cg_fds, n_cg, prepare, &broken, why,
                                             why_size);
        else
                r = container_zygote_spawn(info, &z->z, &zc, stdio, cg_fds, n_cg, ret_pid, ret_pidfd, &broken,
                                           why, why_size);
        if (r < 0 && broken) {
                /* Killed meanwhile: the next invocation gets another.  Alive
                 * but not answering, or not well: the container's doing
                 * (it may stop or take over its zygote), so it gets none
                 * again, and never makes us wait for one twice. */
                bool dead = container_zygote_reap(&z->z) != 0;
                log_warning("Zygote of '%s' %s (%s); starting the app through the join path%s", target->qname,
                            dead ? "ended" : "failed", why[0] ? why : strerror(-r),
                            dead ? "" : ", and all the container's next ones");
                invoke_zygote_drop(b, target);
                if (!dead)
                        zygote_refuse(b, target);
                why[0] = '\0';
                return 1;
        }
        return r;
}

void invoke_zygotes_drop_all(Broker *b) {
        /* Zygotes die with us anyway (die_with_caller); reaped here if they
         * are quick about it, else by init once we are gone. */
        for (Container *c = b->containers; c; c = c->next)
                invoke_zygote_drop(b, c);
        while (b->zygotes) {
                InvokeZygote *z = b->zygotes;
                if (z->src.fd >= 0) {
                        (void) poll(&(struct pollfd){ .fd = z->src.fd, .events = POLLIN }, 1, 100);
                        (void) container_zygote_reap(&z->z);
                }
                zygote_gone(b, z);
        }
        if (b->zygote_looked)
                b->zygote_program = safe_close(b->zygote_program);
}
