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
#include "runtime/bridge.h"
#include "shuttle/broker-internal.h"
#include "shuttle/protocol.h"

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

static bool in_pidns(const char *pid, const Container *c) {
        char path[300]; /* /proc/<d_name>/... */
        struct stat st;

        snprintf(path, sizeof(path), "/proc/%s/ns/pid", pid);
        return stat(path, &st) == 0 && st.st_dev == c->pidns_dev && st.st_ino == c->pidns_ino;
}

/* The executable of a process as its own container sees it: /proc/PID/exe
 * names a file of a mount namespace the broker's root does not reach, so
 * the kernel writes it from that namespace's root. */
static int proc_exe(const char *pid, char *buf, size_t size) {
        char path[300]; /* /proc/<d_name>/... */
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%s/exe", pid);
        n = readlink(path, buf, size - 1);
        if (n < 0)
                return -errno;
        if ((size_t) n >= size - 1)
                return -ENAMETOOLONG;
        buf[n] = '\0';
        return 0;
}

static bool comm_is(const char *pid, const char *name) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[300], comm[64];

        snprintf(path, sizeof(path), "/proc/%s/comm", pid);
        f = fopen(path, "re");
        if (!f || !fgets(comm, sizeof(comm), f))
                return false;
        comm[strcspn(comm, "\n")] = '\0';
        return streq(comm, name);
}

int broker_for_each_app_process(const Container *target, const char *app, AppProcessFn fn, void *userdata) {
        _cleanup_closedir_ DIR *d = opendir("/proc");
        struct dirent *de;
        int n = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char exe[PATH_MAX];

                if (de->d_name[0] < '1' || de->d_name[0] > '9' || !in_pidns(de->d_name, target))
                        continue;
                if (app[0] == '/' ? proc_exe(de->d_name, exe, sizeof(exe)) < 0 || !streq(exe, app)
                                  : !comm_is(de->d_name, app))
                        continue;
                fn((pid_t) atoi(de->d_name), userdata);
                n++;
        }
        return n;
}

typedef struct Oldest {
        pid_t pid;
        uint64_t start;
} Oldest;

static void pick_oldest(pid_t pid, void *userdata) {
        Oldest *o = userdata;
        uint64_t start;

        if (proc_start_time(pid, &start) < 0)
                return;
        if (o->pid == 0 || start < o->start || (start == o->start && pid < o->pid)) {
                o->pid = pid;
                o->start = start;
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
        safe_close(t->entries[i].pidfd);
        free(t->entries[i].app);
        t->entries[i] = t->entries[--t->n];
}

void resolve_table_free(NameTable *t) {
        if (!t)
                return;
        while (t->n > 0)
                named_drop(t, t->n - 1);
        free(t);
}

void resolve_forget_container(Broker *b, Container *c) {
        for (Container *a = b->containers; a; a = a->next) {
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
        uint64_t now;

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
        if (proc_start_time(pid, &now) < 0 || now != start || !in_pidns(name, target))
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
        t->next++;
        t->n++;
        *ret = e->mapped;
        return 0;
}

/* ---- RESOLVE ----------------------------------------------------------- */

typedef struct Resolution {
        PolicyDecision d;
        char object[PATH_MAX + 16];  /* for the audit log: "pid:/usr/bin/x", "service:kv", "host" */
        const char *why;             /* a refusal other than the policy's: static text */
        int32_t pid;
        char path[SHUTTLE_PATH_MAX + 1];
        char address[BRIDGE_ADDR_MAX];
} Resolution;

static void decide_name(Broker *b, const Container *from, const Container *target, const char *to,
                        PolicyName kind, const char *object, PolicyDecision *ret) {
        PolicyRequest req = {
                .from = from->qname,
                .to = target ? target->qname : to,
                .kind = POLICY_KIND_TRANSFER,
                .name_kind = kind,
                .object = object,
                .now = time(NULL),
        };

        if (policy_decide(broker_policy_for(b, from), &req, ret) < 0)
                *ret = (PolicyDecision){ .verdict = POLICY_DENY, .rule_id = "default",
                                         .reason = "malformed request", .audited = true };
        broker_limit_rate(b, from, ret);
}

/* A process of app: by its executable (an absolute path) or its name.
 * The rule is matched against the executable of the process that would
 * be named, so a bare name is decided like the path it stands for. */
static int resolve_pid(Broker *b, Container *caller, Container *target, const ShuttleMsg *m, Resolution *res) {
        const char *app = m->app, *object = app;
        char exe[PATH_MAX], pid[32];
        Oldest o = {};
        int r;

        /* A caller the policy lets name nothing learns nothing: for a path
         * the decision comes before looking; for a name the answer is the
         * same refusal whether a process was found or not (a name matches
         * no pid glob). */
        if (app[0] != '/' && target) {
                (void) broker_for_each_app_process(target, app, pick_oldest, &o);
                snprintf(pid, sizeof(pid), "%d", (int) o.pid);
                if (o.pid > 0 && proc_exe(pid, exe, sizeof(exe)) == 0)
                        object = exe;
                else
                        o.pid = 0;
        }
        snprintf(res->object, sizeof(res->object), "pid:%s", object);
        decide_name(b, caller, target, m->container, POLICY_NAME_PID, object, &res->d);
        if (res->d.verdict != POLICY_ALLOW)
                return -EACCES;
        if (!target) {
                res->why = "no such container";
                return -ENOENT;
        }
        if (app[0] == '/')
                (void) broker_for_each_app_process(target, app, pick_oldest, &o);
        if (o.pid == 0) {
                res->why = "no process of that app";
                return -ESRCH;
        }
        r = named_add(caller, target, o.pid, o.start, object, &res->pid);
        if (r == -EAGAIN)
                res->why = "too many processes named (256 at most)";
        else if (r == -ESRCH)
                res->why = "the process is gone";
        return r;
}

/* A service target exports → its proxy socket in the caller, which exists
 * exactly when the ipc rules let the caller reach it. */
static int resolve_service(Broker *b, Container *caller, Container *target, const ShuttleMsg *m,
                           Resolution *res) {
        snprintf(res->object, sizeof(res->object), "service:%s", m->name);
        decide_name(b, caller, target, m->container, POLICY_NAME_SERVICE, m->name, &res->d);
        if (res->d.verdict != POLICY_ALLOW)
                return -EACCES;
        if (!target) {
                res->why = "no such container";
                return -ENOENT;
        }
        if (!container_find_export(target, m->name)) {
                res->why = "no such service";
                return -ENOENT;
        }
        for (const Proxy *p = caller->proxies; p; p = p->next)
                if (streq(p->exporter, target->name) && streq(p->service, m->name)) {
                        snprintf(res->path, sizeof(res->path), "/run/shuttle/svc/%s.%s", target->name, m->name);
                        return 0;
                }
        res->why = "ipc to that service is not allowed";
        return -EACCES;
}

/* The target's address on a bridge both are attached to: their group's
 * (the only networks containers share today). */
static int resolve_host(Broker *b, Container *caller, Container *target, const ShuttleMsg *m, Resolution *res) {
        char mine[BRIDGE_ADDR_MAX];

        snprintf(res->object, sizeof(res->object), "host");
        decide_name(b, caller, target, m->container, POLICY_NAME_HOST, NULL, &res->d);
        if (res->d.verdict != POLICY_ALLOW)
                return -EACCES;
        if (!target) {
                res->why = "no such container";
                return -ENOENT;
        }
        if (!caller->group || !target->group || !streq(caller->group, target->group) ||
            bridge_container_address(b->state_dir, caller->group, caller->name, mine) < 0 ||
            bridge_container_address(b->state_dir, target->group, target->name, res->address) < 0) {
                res->why = "no network shared with that container";
                return -ENETUNREACH;
        }
        return 0;
}

void broker_resolve_request(Broker *b, Client *cl, const ShuttleMsg *m) {
        Container *target = container_find(b, m->container);
        Resolution res = {};
        ShuttleMsg reply;
        json_t *extra;
        int r;

        switch (m->what) {
        case SHUTTLE_NAME_PID:
                r = resolve_pid(b, cl->container, target, m, &res);
                break;
        case SHUTTLE_NAME_SERVICE:
                r = resolve_service(b, cl->container, target, m, &res);
                break;
        case SHUTTLE_NAME_HOST:
        default: /* the decoder let nothing else through */
                r = resolve_host(b, cl->container, target, m, &res);
                break;
        }
        if (r < 0 && r != -EACCES && r != -ENOENT && r != -ESRCH && r != -ENETUNREACH && r != -EAGAIN &&
            !res.why)
                res.why = "internal error";

        if (r < 0 || res.d.audited) {
                extra = json_object();
                if (extra && res.d.rule_file) {
                        json_object_set_new(extra, "rule_file", json_string(res.d.rule_file));
                        json_object_set_new(extra, "rule_line", json_integer(res.d.rule_line));
                }
                if (extra && r >= 0 && res.pid)
                        json_object_set_new(extra, "pid", json_integer(res.pid));
                if (extra && r >= 0 && res.path[0])
                        json_object_set_new(extra, "path", json_string(res.path));
                if (extra && r >= 0 && res.address[0])
                        json_object_set_new(extra, "address", json_string(res.address));
                broker_audit(b, &(AuditEvent){ .from = cl->container, .to = m->container, .kind = "transfer",
                                               .op = "resolve", .object = res.object, .allow = r >= 0,
                                               .rule = res.d.rule_id ?: "-",
                                               .reason = r >= 0 || !res.why ? res.d.reason : res.why,
                                               .extra = extra });
        }
        if (r < 0) {
                (void) broker_client_reply(b, cl, m->id, r, res.why ?: "denied by policy");
                return;
        }
        shuttle_msg_resolved(&reply, m->id, res.pid, res.path[0] ? res.path : NULL,
                             res.address[0] ? res.address : NULL);
        (void) broker_client_send(b, cl, &reply, -1);
}

/* ---- SIGNAL_PID -------------------------------------------------------- */

void broker_signal_pid_request(Broker *b, Client *cl, const ShuttleMsg *m) {
        bool with_signal = shuttle_msg_has(m, SHUTTLE_ATTR_SIGNAL), with_value = shuttle_msg_has(m, SHUTTLE_ATTR_VALUE);
        char exe[PATH_MAX], pid[32], object[PATH_MAX + 16];
        const char *signame, *why = NULL;
        PolicyDecision d = {};
        NamedPid *e;
        size_t i;
        int r;

        e = named_find(cl->container, m->pid, &i);
        if (e && !named_alive(e)) {
                named_drop(cl->container->names, i);
                e = NULL;
        }
        if (!e) {
                (void) broker_client_reply(b, cl, m->id, -ESRCH, "no such process");
                return;
        }
        /* No SIGNAL: kill(pid, 0), whether it still exists.  Not decided
         * (the caller learns no more than it was told when it was allowed
         * to name the process) and not audited. */
        if (!with_signal) {
                (void) broker_client_reply(b, cl, m->id, 0, NULL);
                return;
        }

        /* Decided by the signal rules with the executable it has now (it
         * may have exec'd since it was named). */
        snprintf(pid, sizeof(pid), "%d", (int) e->pid);
        if (proc_exe(pid, exe, sizeof(exe)) < 0 || !named_alive(e))
                snprintf(exe, sizeof(exe), "%s", e->app);
        /* "…:SIGTERM"; a signal without a name (real-time ones) by number. */
        signame = signal_to_name(m->signal);
        if (signame)
                snprintf(object, sizeof(object), "%s:SIG%s", exe, signame);
        else
                snprintf(object, sizeof(object), "%s:%d", exe, m->signal);
        {
                PolicyRequest req = {
                        .from = cl->container->qname,
                        .to = e->target->qname,
                        .kind = POLICY_KIND_SIGNAL,
                        .object = exe,
                        .signal = m->signal,
                        .now = time(NULL),
                };
                if (policy_decide(broker_policy_for(b, cl->container), &req, &d) < 0)
                        d = (PolicyDecision){ .verdict = POLICY_DENY, .rule_id = "default",
                                              .reason = "malformed request", .audited = true };
                broker_limit_rate(b, cl->container, &d);
        }
        if (d.verdict != POLICY_ALLOW) {
                r = -EPERM;
                why = "denied by policy";
        } else if (with_value) {
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
                r = pidfd_send_signal(e->pidfd, m->signal, &si, 0) < 0 ? -errno : 0;
        } else
                r = pidfd_send_signal(e->pidfd, m->signal, NULL, 0) < 0 ? -errno : 0;
        if (r == -ESRCH)
                why = "the process is gone";
        else if (r < 0 && !why)
                why = "the kernel refused the signal";

        if (d.audited || (r < 0 && d.verdict == POLICY_ALLOW)) {
                json_t *extra = json_pack("{s:i}", "pid", (int) m->pid);
                if (extra && with_value)
                        json_object_set_new(extra, "value", json_integer(m->value));
                broker_audit(b, &(AuditEvent){ .from = cl->container, .to = e->target->name, .kind = "signal",
                                               .op = with_value ? "sigqueue" : "kill", .object = object,
                                               .allow = r >= 0, .rule = d.rule_id,
                                               .reason = d.verdict == POLICY_ALLOW && why ? why : d.reason,
                                               .extra = extra });
        }
        if (r == -ESRCH)
                named_drop(cl->container->names, i);
        (void) broker_client_reply(b, cl, m->id, r, why);
}
