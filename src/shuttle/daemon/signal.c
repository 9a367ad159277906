/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SIGNAL: a signal to every process of an app in another container,
 * decided by the signal rules (mediator.h). */

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "common/parse.h"
#include "shuttle/daemon/broker-api.h"
#include "shuttle/daemon/mediator.h"

typedef struct SignalApp {
        int sig;
        unsigned n;
} SignalApp;

static void signal_one(pid_t pid, void *userdata) {
        SignalApp *s = userdata;
        int pfd;

        /* pidfd_open + send: no pid-reuse race between check and kill. */
        pfd = pidfd_open(pid, 0);
        if (pfd < 0)
                return;
        if (pidfd_send_signal(pfd, s->sig, NULL, 0) == 0)
                s->n++;
        close(pfd);
}

typedef struct SignalState {
        Container *target;
} SignalState;

static int signal_build(Request *r) {
        SignalState *s = REQUEST_STATE(r, SignalState);
        const ShuttleMsg *m = r->msg;
        const char *signame = signal_to_name(m->signal);

        s->target = container_find(r->broker, m->container);
        r->to = m->container;
        r->policy.to = s->target ? s->target->qname : m->container;
        r->policy.kind = POLICY_KIND_SIGNAL;
        r->policy.object = m->app;
        r->policy.signal = m->signal;
        /* "…:SIGTERM"; a signal without a name (real-time ones) by number,
         * as resolve.c writes it. */
        if (signame)
                snprintf(r->object, sizeof(r->object), "%s:SIG%s", m->app, signame);
        else
                snprintf(r->object, sizeof(r->object), "%s:%d", m->app, (int) m->signal);
        return 0;
}

/* Every process of the target running the app (see
 * broker_for_each_app_process()). */
static int signal_carry_out(Request *r) {
        SignalState *s = REQUEST_STATE(r, SignalState);
        SignalApp sa = { .sig = r->msg->signal };
        int k;

        if (!s->target) {
                snprintf(r->why, sizeof(r->why), "no such container");
                return -ESRCH;
        }
        k = broker_for_each_app_process(s->target, r->msg->app, signal_one, &sa);
        if (k < 0)
                return k;
        if (sa.n == 0) {
                snprintf(r->why, sizeof(r->why), "no process of that app");
                return -ESRCH;
        }
        return 0;
}

const MediatorOps signal_ops = {
        .type = SHUTTLE_MSG_SIGNAL,
        .kind = "signal",
        .op = "kill",
        .denied_errno = EPERM,
        .acts = true,
        .build = signal_build,
        .carry_out = signal_carry_out,
};
