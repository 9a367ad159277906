/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names of another container in the caller's view (the transfer of names
 * that are not paths): RESOLVE of a process of an app, of a service, of a
 * host name; and SIGNAL_PID to a process a RESOLVE named.
 *
 * A process is named by a number of the caller's own: SHUTTLE_PID_BASE
 * and up, above any pid the kernel hands out, so that kill() of it without
 * the shim reaches nothing of the caller's (ESRCH).  The broker keeps, per
 * calling container, a table from those numbers to a pidfd of the process:
 * a named process is the same one for as long as it lives, whatever pids
 * the kernel reuses.  Every signal sent through it is decided again, as a
 * signal request, with the executable the process has then. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/parse.h"
#include "common/proc-stat.h"
#include "runtime/bridge.h"
#include "shuttle/daemon/broker-api.h"
#include "shuttle/daemon/mediator.h"
#include "shuttle/client/protocol.h"

/* Processes one container may hold named at once (invariant 5). */
#define NAMED_PIDS_MAX 256

typedef struct NameTable NameTable;

typedef struct NamedPid {
        int32_t mapped;        /* the caller's number for it */
        Container *target;
        pid_t pid;             /* as the broker sees it */
        int pidfd;
        char *app;             /* its executable when it was named, as the target sees it */
} NamedPid;

struct NameTable {
        NamedPid entries[NAMED_PIDS_MAX];
        size_t n;
        uint32_t next;         /* mapped = SHUTTLE_PID_BASE + next++: never reused */
};

/* ---- processes --------------------------------------------------------- */


typedef struct Oldest {
        pid_t pid;
        uint64_t start;
} Oldest;

static void pick_oldest(pid_t pid, void *userdata) {
        Oldest *o = userdata;
        ProcStat st;

        if (proc_stat_read(pid, &st) < 0)
                return;
        if (o->pid == 0 || st.start_time < o->start || (st.start_time == o->start && pid < o->pid)) {
                o->pid = pid;
                o->start = st.start_time;
        }
}

/* ---- the table --------------------------------------------------------- */

/* Whether a named process still runs: its pidfd turns readable when it
 * has exited (a zombie counts as gone; it can take no signal). */
static bool named_alive(const NamedPid *e) {
        struct pollfd p = { .fd = e->pidfd, .events = POLLIN };
        return poll(&p, 1, 0) == 0;
}

static void named_drop(NameTable *t, size_t i) {
        t->entries[i].target->n_named_by--;
        safe_close(t->entries[i].pidfd);
        free(t->entries[i].app);
        t->entries[i] = t->entries[--t->n];
}

/* Without touching the targets' counts: they may be gone already (the
 * broker's exit), and an overcount only costs resolve_forget_container() a
 * walk. */
void resolve_table_free(NameTable *t) {
        if (!t)
                return;
        for (size_t i = 0; i < t->n; i++) {
                safe_close(t->entries[i].pidfd);
                free(t->entries[i].app);
        }
        free(t);
}

void resolve_forget_container(Broker *b, Container *c) {
        /* Nobody holds a name for one of its processes: no walk. */
        for (Container *a = c->n_named_by > 0 ? b->containers : NULL; a; a = a->next) {
                NameTable *t = a->names;
                for (size_t i = 0; t && i < t->n;)
                        if (t->entries[i].target == c)
                                named_drop(t, i);
                        else
                                i++;
        }
        resolve_table_free(c->names);
        c->names = NULL;
}

static NamedPid *named_find(Container *caller, int32_t mapped, size_t *ret_index) {
        NameTable *t = caller->names;

        for (size_t i = 0; t && i < t->n; i++)
                if (t->entries[i].mapped == mapped) {
                        *ret_index = i;
                        return &t->entries[i];
                }
        return NULL;
}

/* The caller's number for process pid (started at start) of target: the
 * one it had if it was named before, else a new one.  -EAGAIN: the caller
 * holds too many; -ESRCH: the process is gone (or its pid was reused
 * meanwhile). */
static int named_add(Container *caller, Container *target, pid_t pid, uint64_t start, const char *app,
                     int32_t *ret) {
        _cleanup_close_ int pidfd = -1;
        char name[32];
        NameTable *t;
        ProcStat st;

        if (!caller->names && !(caller->names = calloc(1, sizeof(NameTable))))
                return -ENOMEM;
        t = caller->names;
        for (size_t i = 0; i < t->n;)
                if (!named_alive(&t->entries[i]))
                        named_drop(t, i); /* the lazy clean-up */
                else if (t->entries[i].target == target && t->entries[i].pid == pid) {
                        /* Alive under its pidfd, so pid is still that process. */
                        *ret = t->entries[i].mapped;
                        return 0;
                } else
                        i++;
        if (t->n >= NAMED_PIDS_MAX || t->next > (uint32_t) (INT32_MAX - SHUTTLE_PID_BASE))
                return -EAGAIN;

        pidfd = pidfd_open(pid, 0);
        if (pidfd < 0)
                return -ESRCH;
        /* The pidfd holds the process it was opened for; that it is the one
         * we looked at shows in its start time and namespace, read after. */
        snprintf(name, sizeof(name), "%d", (int) pid);
        if (proc_stat_read(pid, &st) < 0 || st.start_time != start || !broker_proc_in_pidns(name, target))
                return -ESRCH;

        NamedPid *e = &t->entries[t->n];
        *e = (NamedPid){ .mapped = (int32_t) (SHUTTLE_PID_BASE + (int32_t) t->next),
                         .target = target,
                         .pid = pid,
                         .pidfd = -1,
                         .app = strdup(app) };
        if (!e->app)
                return -ENOMEM;
        e->pidfd = TAKE_FD(pidfd);
        target->n_named_by++;
        t->next++;
        t->n++;
        *ret = e->mapped;
        return 0;
}

/* ---- RESOLVE ----------------------------------------------------------- */

typedef struct Resolution {
        Container *target;
        Oldest oldest;               /* a bare app name's process, found before deciding */
        char exe[PATH_MAX];
        int32_t pid;
        char path[SHUTTLE_PATH_MAX + 1];
        char address[BRIDGE_ADDR_MAX];
} Resolution;

/* A process of app: by its executable (an absolute path) or its name.
 * The rule is matched against the executable of the process that would
 * be named, so a bare name is decided like the path it stands for.  A
 * caller the policy lets name nothing learns nothing: for a path the
 * decision comes before looking; for a name the answer is the same
 * refusal whether a process was found or not (a name matches no pid
 * glob). */
static void build_pid(Request *r, Resolution *res) {
        const char *app = r->msg->app, *object = app;
        char pid[32];

        if (app[0] != '/' && res->target) {
                (void) broker_for_each_app_process(res->target, app, pick_oldest, &res->oldest);
                snprintf(pid, sizeof(pid), "%d", (int) res->oldest.pid);
                if (res->oldest.pid > 0 && broker_proc_exe(pid, res->exe, sizeof(res->exe)) == 0)
                        object = res->exe;
                else
                        res->oldest.pid = 0;
        }
        if (object != res->exe)
                snprintf(res->exe, sizeof(res->exe), "%s", object);
        snprintf(r->object, sizeof(r->object), "pid:%s", res->exe);
        r->policy.name_kind = POLICY_NAME_PID;
        r->policy.object = res->exe;
}

static int carry_out_pid(Request *r, Resolution *res) {
        int k;

        if (r->msg->app[0] == '/')
                (void) broker_for_each_app_process(res->target, r->msg->app, pick_oldest, &res->oldest);
        if (res->oldest.pid == 0) {
                snprintf(r->why, sizeof(r->why), "no process of that app");
                return -ESRCH;
        }
        k = named_add(r->from, res->target, res->oldest.pid, res->oldest.start, res->exe, &res->pid);
        if (k == -EAGAIN)
                snprintf(r->why, sizeof(r->why), "too many processes named (256 at most)");
        else if (k == -ESRCH)
                snprintf(r->why, sizeof(r->why), "the process is gone");
        return k;
}

/* A service target exports → its proxy socket in the caller, which exists
 * exactly when the ipc rules let the caller reach it. */
static int carry_out_service(Request *r, Resolution *res) {
        if (!container_find_export(res->target, r->msg->name)) {
                snprintf(r->why, sizeof(r->why), "no such service");
                return -ENOENT;
        }
        for (const Proxy *p = r->from->proxies; p; p = p->next)
                if (streq(p->exporter, res->target->name) && streq(p->service, r->msg->name)) {
                        snprintf(res->path, sizeof(res->path), "/run/shuttle/svc/%s.%s", res->target->name,
                                 r->msg->name);
                        return 0;
                }
        snprintf(r->why, sizeof(r->why), "ipc to that service is not allowed");
        return -EACCES;
}

/* The target's address on a bridge both are attached to: their group's
 * (the only networks containers share today). */
static int carry_out_host(Request *r, Resolution *res) {
        const Container *caller = r->from, *target = res->target;
        char mine[BRIDGE_ADDR_MAX];

        if (!caller->group || !target->group || !streq(caller->group, target->group) ||
            bridge_container_address(r->broker->state_dir, caller->group, caller->name, mine) < 0 ||
            bridge_container_address(r->broker->state_dir, target->group, target->name, res->address) < 0) {
                snprintf(r->why, sizeof(r->why), "no network shared with that container");
                return -ENETUNREACH;
        }
        return 0;
}

static int resolve_build(Request *r) {
        Resolution *res = REQUEST_STATE(r, Resolution);
        const ShuttleMsg *m = r->msg;

        res->target = container_find(r->broker, m->container);
        res->oldest = (Oldest){};
        res->pid = 0;
        res->path[0] = res->address[0] = '\0';
        r->to = m->container;
        r->policy.to = res->target ? res->target->qname : m->container;
        r->policy.kind = POLICY_KIND_TRANSFER;
        switch (m->what) {
        case SHUTTLE_NAME_PID:
                build_pid(r, res);
                break;
        case SHUTTLE_NAME_SERVICE:
                snprintf(r->object, sizeof(r->object), "service:%s", m->name);
                r->policy.name_kind = POLICY_NAME_SERVICE;
                r->policy.object = m->name;
                break;
        case SHUTTLE_NAME_HOST:
        default: /* the decoder let nothing else through */
                snprintf(r->object, sizeof(r->object), "host");
                r->policy.name_kind = POLICY_NAME_HOST;
                break;
        }
        return 0;
}

static int resolve_carry_out(Request *r) {
        Resolution *res = REQUEST_STATE(r, Resolution);
        json_t *extra;
        int k;

        if (!res->target) {
                snprintf(r->why, sizeof(r->why), "no such container");
                return -ENOENT;
        }
        switch (r->msg->what) {
        case SHUTTLE_NAME_PID:
                k = carry_out_pid(r, res);
                break;
        case SHUTTLE_NAME_SERVICE:
                k = carry_out_service(r, res);
                break;
        default:
                k = carry_out_host(r, res);
                break;
        }
        if (k < 0) {
                if (!r->why[0] && k != -EACCES && k != -ENOENT && k != -ESRCH && k != -ENETUNREACH && k != -EAGAIN)
                        snprintf(r->why, sizeof(r->why), "internal error");
                return k;
        }
        extra = request_extra(r);
        if (extra && res->pid)
                json_object_set_new(extra, "pid", json_integer(res->pid));
        if (extra && res->path[0])
                json_object_set_new(extra, "path", json_string(res->path));
        if (extra && res->address[0])
                json_object_set_new(extra, "address", json_string(res->address));
        shuttle_msg_resolved(&r->reply, r->msg->id, res->pid, res->path[0] ? res->path : NULL,
                             res->address[0] ? res->address : NULL);
        return 0;
}

const MediatorOps resolve_ops = {
        .type = SHUTTLE_MSG_RESOLVE,
        .kind = "transfer",
        .op = "resolve",
        .denied_errno = EACCES,
        .build = resolve_build,
        .carry_out = resolve_carry_out,
};

/* ---- SIGNAL_PID -------------------------------------------------------- */

typedef struct SignalPid {
        NamedPid *e;
        size_t i;
        char exe[PATH_MAX];
} SignalPid;

static int signal_pid_build(Request *r) {
        SignalPid *s = REQUEST_STATE(r, SignalPid);
        const ShuttleMsg *m = r->msg;
        const char *signame;
        char pid[32];

        s->e = named_find(r->from, m->pid, &s->i);
        if (s->e && !named_alive(s->e)) {
                named_drop(r->from->names, s->i);
                s->e = NULL;
        }
        /* Not one of the caller's named processes, or no SIGNAL (kill(pid,
         * 0), whether it still exists): not decided (the caller learns no
         * more than it was told when it was allowed to name the process)
         * and not audited. */
        if (!s->e || !shuttle_msg_has(m, SHUTTLE_ATTR_SIGNAL))
                return REQUEST_UNDECIDED;

        /* Decided by the signal rules with the executable it has now (it
         * may have exec'd since it was named). */
        snprintf(pid, sizeof(pid), "%d", (int) s->e->pid);
        if (broker_proc_exe(pid, s->exe, sizeof(s->exe)) < 0 || !named_alive(s->e))
                snprintf(s->exe, sizeof(s->exe), "%s", s->e->app);
        /* "…:SIGTERM"; a signal without a name (real-time ones) by number. */
        signame = signal_to_name(m->signal);
        if (signame)
                snprintf(r->object, sizeof(r->object), "%s:SIG%s", s->exe, signame);
        else
                snprintf(r->object, sizeof(r->object), "%s:%d", s->exe, m->signal);
        if (shuttle_msg_has(m, SHUTTLE_ATTR_VALUE)) {
                json_t *extra = request_extra(r);
                r->op = "sigqueue";
                if (extra)
                        json_object_set_new(extra, "value", json_integer(m->value));
        }
        if (request_extra(r))
                json_object_set_new(r->extra, "pid", json_integer(m->pid));
        r->to = s->e->target->name;
        r->policy.to = s->e->target->qname;
        r->policy.kind = POLICY_KIND_SIGNAL;
        r->policy.object = s->exe;
        r->policy.signal = m->signal;
        return 0;
}

static int signal_pid_carry_out(Request *r) {
        SignalPid *s = REQUEST_STATE(r, SignalPid);
        const ShuttleMsg *m = r->msg;
        int k;

        if (!s->e) {
                snprintf(r->why, sizeof(r->why), "no such process");
                return -ESRCH;
        }
        if (!shuttle_msg_has(m, SHUTTLE_ATTR_SIGNAL))
                return 0;
        if (shuttle_msg_has(m, SHUTTLE_ATTR_VALUE)) {
                /* sigqueue(): SI_QUEUE, which the kernel lets anyone send to
                 * another process.  From the broker's (ancestor) pid
                 * namespace the receiver sees si_pid 0; si_uid is the
                 * broker's, as for a plain kill. */
                siginfo_t si = {};
                si.si_signo = m->signal;
                si.si_code = SI_QUEUE;
                si.si_pid = 0;
                si.si_uid = getuid();
                si.si_value.sival_int = m->value;
                k = pidfd_send_signal(s->e->pidfd, m->signal, &si, 0) < 0 ? -errno : 0;
        } else
                k = pidfd_send_signal(s->e->pidfd, m->signal, NULL, 0) < 0 ? -errno : 0;
        if (k == -ESRCH) {
                snprintf(r->why, sizeof(r->why), "the process is gone");
                named_drop(r->from->names, s->i);
        } else if (k < 0)
                snprintf(r->why, sizeof(r->why), "the kernel refused the signal");
        return k;
}

const MediatorOps signal_pid_ops = {
        .type = SHUTTLE_MSG_SIGNAL_PID,
        .kind = "signal",
        .op = "kill",
        .denied_errno = EPERM,
        .acts = true,
        .build = signal_pid_build,
        .carry_out = signal_pid_carry_out,
};
