/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttled's event loop, control socket, policy and audit plumbing. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/parse.h"
#include "common/time-util.h"
#include "shuttle/audit/audit-agg.h"
#include "shuttle/audit/audit.h"
#include "shuttle/daemon/core.h"
#include "shuttle/host/control.h"
#include "shuttle/daemon/notify.h"

int broker_watch(Broker *b, Source *s, uint32_t events) {
        struct epoll_event ev = { .events = events, .data.ptr = s };

        if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0)
                return -errno;
        s->events = events;
        s->dead = false;
        return 0;
}

void broker_unwatch(Broker *b, Source *s) {
        if (s->fd >= 0) {
                (void) epoll_ctl(b->epfd, EPOLL_CTL_DEL, s->fd, NULL);
                s->fd = safe_close(s->fd);
        }
        s->dead = true;
}

void broker_defer_free(Broker *b, void *ptr, void (*free_fn)(void *)) {
        Garbage *g = malloc(sizeof(*g));

        if (!g) {
                /* Leaking beats a use-after-free later in this batch. */
                return;
        }
        *g = (Garbage){ .ptr = ptr, .free = free_fn, .next = b->garbage };
        b->garbage = g;
}

static void sweep(Broker *b) {
        while (b->garbage) {
                Garbage *g = b->garbage;
                b->garbage = g->next;
                g->free(g->ptr);
                free(g);
        }
}

/* ---- audit ------------------------------------------------------------ */

static int audit_write(void *userdata, const AuditRecord *rec) {
        return audit_log_append(userdata, rec);
}

void broker_audit_event(Broker *b, const AuditEvent *e) {
        /* The policy that decides the caller's requests, by digest, so
         * that `shuttlectl audit explain` can decide this one again
         * against it (policy-store.h). */
        const char *digest = e->from && e->from->qname ? broker_policy_digest_for(b, e->from) : NULL;
        json_t *extra = e->extra;
        AuditRecord r = {
                .group = e->from ? e->from->group : NULL,
                .from = e->from ? e->from->name : NULL,
                .to = e->to,
                .kind = e->kind,
                .op = e->op,
                .object = e->object,
                .decision = e->learn ? "learn" : e->allow ? "allow" : "deny",
                .rule = e->rule,
                .reason = e->reason,
        };
        int r2;

        if (!b->audit) {
                json_decref(extra);
                return;
        }
        if (digest && (extra || (extra = json_object()))) {
                /* The target as the policy saw it: "to" is its bare name. */
                const Container *to = e->to ? container_find(b, e->to) : NULL;

                json_object_set_new(extra, "policy", json_string(digest));
                if (to && to->group)
                        json_object_set_new(extra, "to_group", json_string(to->group));
        }
        r.extra = extra;
        /* Invariant 10: a container flooding denied requests must not push
         * history out of the log; its repeats are counted, and written as
         * summaries (audit-agg.h).  Allows are always written. */
        if (!e->allow && !e->self_bounded && b->audit_agg) {
                r2 = audit_agg_submit(b->audit_agg, &r, clock_usec(CLOCK_MONOTONIC), clock_usec(CLOCK_REALTIME));
                if (r2 < 0)
                        log_warning_errno(r2, "Failed to append to the audit log: %m");
                if (r2 == 0) {
                        json_decref(extra);
                        return;
                }
        }
        r2 = audit_log_append(b->audit, &r);
        if (r2 < 0)
                log_warning_errno(r2, "Failed to append to the audit log: %m");
        json_decref(extra);
}

LimitState *broker_limit_get(Broker *b, const char *rule, const char *from) {
        LimitState *l;

        for (l = b->limits; l; l = l->next)
                if (streq(l->rule, rule) && streq(l->from, from))
                        return l;
        l = calloc(1, sizeof(*l));
        if (!l)
                return NULL;
        l->rule = strdup(rule);
        l->from = strdup(from);
        l->tokens = -1; /* full, on first use */
        if (!l->rule || !l->from) {
                free(l->rule);
                free(l->from);
                free(l);
                return NULL;
        }
        l->next = b->limits;
        b->limits = l;
        return l;
}

/* Applies a grant's limits; NULL if within them (and then a token is
 * taken), else why not.  *ret_limit is where to count an open grant. */
const char *broker_limits_admit(Broker *b, const Container *from, const PolicyDecision *d, LimitState **ret_limit,
                                char *why, size_t size) {
        const PolicyLimits *lim = &d->limits;
        LimitState *l;

        *ret_limit = NULL;
        if (!lim->rate_count && !lim->max_open && !lim->uses)
                return NULL;
        l = broker_limit_get(b, d->rule_id, from->qname);
        if (!l)
                return "out of memory";
        /* Spent: said as such (reason used-up), before any token is taken. */
        if (lim->uses && l->used >= lim->uses) {
                snprintf(why, size, "%s", POLICY_REASON_USED_UP);
                return why;
        }
        if (lim->rate_count) {
                uint64_t now = clock_usec(CLOCK_MONOTONIC);
                double cap = (double) lim->rate_count;
                if (l->tokens < 0)
                        l->tokens = cap;
                else
                        l->tokens = MIN(cap, l->tokens + (double) (now - l->last_usec) * cap /
                                                                 (double) lim->rate_interval_usec);
                l->last_usec = now;
                if (l->tokens < 1) {
                        snprintf(why, size, "rate limit of rule '%s' reached (%llu per %.3gs)", d->rule_id,
                                 (unsigned long long) lim->rate_count, (double) lim->rate_interval_usec / 1e6);
                        return why;
                }
        }
        if (lim->max_open && l->open >= lim->max_open) {
                snprintf(why, size, "max_open of rule '%s' reached (%llu open)", d->rule_id,
                         (unsigned long long) lim->max_open);
                return why;
        }
        if (lim->uses) {
                /* On disk before the request is carried out: a restarted
                 * broker counts on from here (grants.c). */
                int r;

                l->used++;
                r = limits_save(b);
                if (r < 0) {
                        l->used--;
                        snprintf(why, size, "cannot record the use of rule '%s' in the state directory: %s",
                                 d->rule_id, strerror(-r));
                        return why;
                }
        }
        if (lim->rate_count)
                l->tokens -= 1;
        if (lim->max_open)
                *ret_limit = l;
        return NULL;
}

void broker_limit_rate(Broker *b, const Container *from, PolicyDecision *d) {
        LimitState *unused = NULL;
        const char *over;

        if (d->verdict != POLICY_ALLOW)
                return;
        over = broker_limits_admit(b, from, d, &unused, b->limit_why, sizeof(b->limit_why));
        if (!over)
                return;
        if (over != b->limit_why)
                snprintf(b->limit_why, sizeof(b->limit_why), "%s", over);
        d->verdict = POLICY_DENY;
        d->reason = b->limit_why;
        d->audited = true;
}

/* ---- policy ----------------------------------------------------------- */

const Policy *broker_policy_for(const Broker *b, const Container *from) {
        if (from && from->group)
                for (GroupPolicy *g = b->group_policies; g; g = g->next)
                        if (streq(g->group, from->group))
                                return g->policy;
        return b->policy;
}

const char *broker_policy_digest_for(const Broker *b, const Container *from) {
        const char *d = b->policy_digest;

        if (from && from->group)
                for (GroupPolicy *g = b->group_policies; g; g = g->next)
                        if (streq(g->group, from->group)) {
                                d = g->digest;
                                break;
                        }
        return d[0] ? d : NULL;
}

/* ---- control socket --------------------------------------------------- */

static json_t *control_ps(Broker *b) {
        json_t *list = json_array();

        for (Container *c = b->containers; c && list; c = c->next) {
                json_t *exports = json_array();
                if (c->dead)
                        continue;
                for (size_t i = 0; exports && i < c->n_exports; i++)
                        json_array_append_new(exports, json_pack("{s:s, s:s?, s:i, s:s?, s:I, s:s?}", "name",
                                                                 c->exports[i].name, "socket", c->exports[i].socket,
                                                                 "port", (int) c->exports[i].port, "mq",
                                                                 c->exports[i].mq, "shm",
                                                                 (json_int_t) c->exports[i].shm_size, "fifo",
                                                                 c->exports[i].fifo));
                json_array_append_new(list, json_pack("{s:s, s:s?, s:i, s:o*, s:i, s:b}", "name", c->name, "group",
                                                      c->group, "pid", (int) c->pid, "exports", exports,
                                                      "clients", (int) c->n_clients, "learn", c->learn));
        }
        return json_pack("{s:b, s:o*}", "ok", 1, "containers", list);
}

/* ---- the service manager ---------------------------------------------- */

void broker_notify(Broker *b, const char *state) {
        int r = notify_send(b->notify_socket, state);
        if (r < 0)
                log_debug_errno(r, "Cannot notify the service manager on '%s': %m", b->notify_socket);
}

/* Around reloads of the main policy: RELOADING=1 when one is asked for,
 * READY=1 once none is left to apply (applied or refused), so that the
 * service manager shows the unit reloading meanwhile.  Called after every
 * change to the reload queue. */
static void reload_notify(Broker *b) {
        bool pending = reload_all_pending(b);
        char text[64];

        if (pending && !b->notify_reloading) {
                snprintf(text, sizeof(text), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
                         clock_usec(CLOCK_MONOTONIC));
                broker_notify(b, text);
        } else if (!pending && b->notify_reloading)
                broker_notify(b, "READY=1");
        b->notify_reloading = pending;
}

/* The control socket's operations: requests of the operator (root on the
 * host, as accept.c checked), carried out by the pipeline's control path
 * (pipeline_control_event()).  None is decided by the policy: the policy
 * says what containers may do to each other, and these say what the
 * operator does to the broker (register, reload, list, revoke).  What
 * they change in a container's grants is audited where it happens
 * (transfer_revoke(), container_unregister()). */

static json_t *op_register(Broker *b, ControlConn *cc, json_t *req) {
        Container *c = NULL;
        char *error = NULL;
        json_t *reply;
        int r;

        (void) cc;
        r = container_register(b, req, &c, &error);
        if (r < 0) {
                reply = control_reply_error(-r, "%s", error ?: strerror(-r));
                free(error);
                return reply;
        }
        return json_pack("{s:b, s:s}", "ok", 1, "dir", c->dir);
}

static json_t *op_unregister(Broker *b, ControlConn *cc, json_t *req) {
        const char *name = json_string_value(json_object_get(req, "name"));
        Container *c = name ? container_find(b, name) : NULL;

        (void) cc;
        if (!c)
                return control_reply_error(ENOENT, "no container named '%s'", name ?: "");
        container_unregister(b, c, "unregistered");
        return control_reply_ok();
}

static json_t *op_ps(Broker *b, ControlConn *cc, json_t *req) {
        (void) cc, (void) req;
        return control_ps(b);
}

static json_t *op_audit_log(Broker *b, ControlConn *cc, json_t *req) {
        (void) cc, (void) req;
        return json_pack("{s:b, s:s}", "ok", 1, "path", b->audit_path);
}

static json_t *op_transfer_ls(Broker *b, ControlConn *cc, json_t *req) {
        (void) cc, (void) req;
        return transfer_control_ls(b);
}

static json_t *op_ask_ls(Broker *b, ControlConn *cc, json_t *req) {
        (void) cc, (void) req;
        return ask_control_ls(b);
}

static json_t *op_ask_answer(Broker *b, ControlConn *cc, json_t *req) {
        return ask_control_answer(b, cc, req);
}

static json_t *op_transfer_revoke(Broker *b, ControlConn *cc, json_t *req) {
        (void) cc;
        return transfer_control_revoke(b, req);
}

/* Policy loads run off the loop; the reply comes when the new policy is in
 * place (or refused). */
static json_t *op_group_policy(Broker *b, ControlConn *cc, json_t *req) {
        const char *group = json_string_value(json_object_get(req, "group"));
        const char *file = json_string_value(json_object_get(req, "file"));
        const char *source = json_string_value(json_object_get(req, "source"));
        int r;

        if (!group)
                return control_reply_error(EINVAL, "group-policy needs \"group\"");
        if (!container_name_is_valid(group))
                return control_reply_error(EINVAL, "invalid group name");
        /* Read again by every reload, whatever our working directory: only
         * an absolute name will do. */
        if (source && source[0] != '/')
                return control_reply_error(EINVAL, "\"source\" must be an absolute path");
        r = reload_group_request(b, cc, group, file, source);
        return r < 0 ? control_reply_error(-r, "%s", strerror(-r)) : NULL;
}

/* The policies in force, by digest (kept under <state>/policies/): the
 * broker's and each group's.  What `audit explain` decides again with. */
static json_t *op_policies(Broker *b, ControlConn *cc, json_t *req) {
        json_t *groups = json_array();

        (void) cc;
        (void) req;
        for (GroupPolicy *g = b->group_policies; g && groups; g = g->next)
                json_array_append_new(groups, json_pack("{s:s, s:s*}", "group", g->group, "digest",
                                                        g->digest[0] ? g->digest : NULL));
        return json_pack("{s:b, s:s*, s:o*}", "ok", 1, "digest", b->policy_digest[0] ? b->policy_digest : NULL,
                         "groups", groups);
}

static json_t *op_reload(Broker *b, ControlConn *cc, json_t *req) {
        int r;

        (void) req;
        r = reload_request(b, cc);
        reload_notify(b);
        return r < 0 ? control_reply_error(-r, "%s", strerror(-r)) : NULL;
}

const ControlOp broker_control_ops[] = {
        { "register", op_register },
        { "unregister", op_unregister },
        { "ps", op_ps },
        { "audit-log", op_audit_log },
        { "policies", op_policies },
        { "transfer-ls", op_transfer_ls },
        { "transfer-revoke", op_transfer_revoke },
        { "ask-ls", op_ask_ls },
        { "ask-answer", op_ask_answer },
        { "group-policy", op_group_policy },
        { "reload", op_reload },
        { "policy-shadow", shadow_control_op },
        {},
};

static void control_conn_free(void *p) {
        free(p);
}

void control_conn_close(Broker *b, ControlConn *cc) {
        reload_forget(b, cc);
        broker_unwatch(b, &cc->src);
        for (ControlConn **i = &b->controls; *i; i = &(*i)->next)
                if (*i == cc) {
                        *i = cc->next;
                        break;
                }
        broker_defer_free(b, cc, control_conn_free);
}

/* A control connection whose peer broker_listener_event() found to be
 * root on the host: only root drives the broker (the socket is 0600 in a
 * 0700 directory too). */
void broker_control_add(Broker *b, int fd, const BrokerPeer *peer) {
        ControlConn *cc;

        cc = calloc(1, sizeof(*cc));
        if (!cc) {
                close(fd);
                return;
        }
        cc->src = (Source){ .type = SRC_CONTROL_CONN, .fd = fd };
        cc->peer_uid = peer->uid;
        cc->peer_pid = peer->pid;
        if (broker_watch(b, &cc->src, EPOLLIN) < 0) {
                close(fd);
                free(cc);
                return;
        }
        cc->next = b->controls;
        b->controls = cc;
}

static int listen_control(Broker *b) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        int r;

        r = control_socket_path(b->state_dir, sa.sun_path, sizeof(sa.sun_path));
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* A live broker answers on it: refuse to steal its socket. */
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0)
                return -EADDRINUSE;
        safe_close(fd);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(sa.sun_path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        if (chmod(sa.sun_path, 0600) < 0 || listen(fd, 64) < 0 || lstat(sa.sun_path, &b->control_st) < 0)
                return -errno;
        b->control = (Source){ .type = SRC_CONTROL_LISTEN, .fd = TAKE_FD(fd) };
        return broker_watch(b, &b->control, EPOLLIN);
}

/* A stopped broker leaves no control.sock behind: scripts that test for
 * the file would take it for a live broker.  Only the socket we bound: a
 * broker started after us (ours refused to stop in time, say) may have
 * replaced it. */
static void remove_control_socket(Broker *b) {
        char path[PATH_MAX];
        struct stat st;

        if (control_socket_path(b->state_dir, path, sizeof(path)) < 0 || lstat(path, &st) < 0)
                return;
        if (st.st_dev == b->control_st.st_dev && st.st_ino == b->control_st.st_ino)
                (void) unlink(path);
}

/* ---- life cycle ------------------------------------------------------- */

/* Where `ask allow --always` writes, and the drop-in directory it is in. */
static int approved_file_init(Broker *b, const BrokerOptions *o) {
        _cleanup_free_ char *base = NULL;
        struct stat st;
        char *slash;

        if (o->approved_file)
                b->approved_file = strdup(o->approved_file);
        else if (o->n_policy > 0) {
                /* Next to the first policy: in it, if it is a directory. */
                base = realpath(o->policy[0], NULL);
                if (!base && !(base = strdup(o->policy[0])))
                        return -ENOMEM;
                if (stat(base, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        slash = strrchr(base, '/');
                        if (slash && slash != base)
                                *slash = 0;
                        else if (slash)
                                slash[1] = 0;
                        else
                                strcpy(base, ".");
                }
                if (asprintf(&b->approved_file, "%s/policy.d/50-approved.yaml", streq(base, "/") ? "" : base) < 0)
                        b->approved_file = NULL;
        } else
                return 0;
        if (!b->approved_file || !(b->dropin_dir = strdup(b->approved_file)))
                return -ENOMEM;
        slash = strrchr(b->dropin_dir, '/');
        if (slash && slash != b->dropin_dir)
                *slash = 0;
        return 0;
}

int broker_new(const BrokerOptions *o, Broker **ret, char **ret_error) {
        Broker *b;
        char path[PATH_MAX];
        sigset_t mask;
        int r;

        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->epfd = -1;
        b->control.fd = b->signal.fd = b->timer.fd = b->self_netns = -1;
        b->child_nofile = o->child_nofile;
        b->state_dir = strdup(o->state_dir ?: "/run/shuttle");
        if (o->notify_socket && !(b->notify_socket = strdup(o->notify_socket))) {
                broker_free(b);
                return -ENOMEM;
        }
        b->policy_paths = calloc(o->n_policy + 1, sizeof(char *));
        if (!b->state_dir || !b->policy_paths) {
                broker_free(b);
                return -ENOMEM;
        }
        for (size_t i = 0; i < o->n_policy; i++) {
                b->policy_paths[i] = strdup(o->policy[i]);
                if (!b->policy_paths[i]) {
                        broker_free(b);
                        return -ENOMEM;
                }
                b->n_policy_paths++;
        }

        r = approved_file_init(b, o);
        if (r < 0) {
                broker_free(b);
                return r;
        }

        r = reload_load_main(b, &b->policy, ret_error);
        if (r < 0)
                goto fail;

        /* The state directory and broker/ are closed to everyone but us
         * (invariant 9; see control.h). */
        r = control_state_dir_create(b->state_dir);
        if (r >= 0) {
                snprintf(path, sizeof(path), "%s/registry", b->state_dir);
                r = control_dir_ensure(AT_FDCWD, path, 0700);
        }
        if (r < 0) {
                (void) asprintf(ret_error, "cannot create the state directory '%s': %s", b->state_dir,
                                strerror(-r));
                goto fail;
        }
        /* Kept by digest for the records it decides (policy-store.h). */
        if (policy_store_save(b->state_dir, b->policy, b->policy_digest) < 0)
                log_warning("Cannot keep the policy under %s/" POLICY_STORE_DIR ": audit explain will not find "
                            "it", b->state_dir);

        {
                const char *audit = o->audit_log ?: "/var/log/shuttle/audit.jsonl";
                _cleanup_free_ char *dir = strdup(audit);
                char *slash = dir ? strrchr(dir, '/') : NULL;
                if (slash && slash != dir) {
                        *slash = '\0';
                        (void) mkdir_p_at(AT_FDCWD, dir, 0750);
                }
                r = audit_log_open(audit,
                                   &(AuditLogOptions) { .max_size = o->audit_max_size, .keep = o->audit_keep,
                                                        .defer_sync = !o->audit_batch },
                                   &b->audit);
                if (r < 0) {
                        (void) asprintf(ret_error, "cannot open the audit log '%s': %s", audit, strerror(-r));
                        goto fail;
                }
                /* Absolute, for `shuttlectl audit --state-dir`, which
                 * asks us where the log is and runs elsewhere. */
                if (audit[0] == '/')
                        b->audit_path = strdup(audit);
                else {
                        _cleanup_free_ char *cwd = getcwd(NULL, 0);
                        if (cwd)
                                (void) asprintf(&b->audit_path, "%s/%s", cwd, audit);
                }
                if (!b->audit_path) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = audit_agg_new(NULL, audit_write, b->audit, &b->audit_agg);
                if (r < 0)
                        goto fail;
        }

        b->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (b->epfd < 0) {
                r = -errno;
                goto fail;
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGPIPE);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        b->signal = (Source){ .type = SRC_SIGNAL, .fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK) };
        if (b->signal.fd < 0 || broker_watch(b, &b->signal, EPOLLIN) < 0) {
                r = -errno;
                goto fail;
        }
        /* Where ns_connect_tcp_at() comes back to after connecting inside
         * a container's network namespace. */
        b->self_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (b->self_netns < 0) {
                r = -errno;
                goto fail;
        }
        /* The ticks (the audit log's fsync batching, grants that expire,
         * invocations ending): armed by broker_timer_rearm() only while one
         * of them has work, so an idle broker sleeps. */
        b->timer = (Source){ .type = SRC_TIMER, .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK) };
        if (b->timer.fd < 0 || broker_watch(b, &b->timer, EPOLLIN) < 0) {
                r = -errno;
                goto fail;
        }

        if (!o->audit_batch) {
                r = audit_syncer_start(b);
                if (r < 0) {
                        (void) asprintf(ret_error, "cannot start the audit log's sync thread: %s", strerror(-r));
                        goto fail;
                }
        }
        r = reloader_new(b);
        if (r < 0)
                goto fail;
        r = listen_control(b);
        if (r == -EADDRINUSE) {
                (void) asprintf(ret_error, "another shuttled is already running on '%s/%s'", b->state_dir,
                                CONTROL_SOCKET);
                goto fail;
        }
        if (r < 0) {
                (void) asprintf(ret_error, "cannot listen on '%s/%s': %s", b->state_dir, CONTROL_SOCKET,
                                strerror(-r));
                goto fail;
        }

        reload_restore_groups(b);
        shadow_restore(b, NULL);
        (void) registry_readopt(b);
        *ret = b;
        return 0;

fail:
        broker_free(b);
        return r < 0 ? r : -EIO;
}

static void handle_signal(Broker *b) {
        struct signalfd_siginfo si;

        while (read(b->signal.fd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                if (si.ssi_signo == SIGHUP) {
                        int r = reload_request(b, NULL);
                        reload_notify(b);
                        if (r < 0)
                                log_error_errno(r, "Policy reload failed: %m");
                } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
                        b->quit = true;
        }
}

/* The ticks' granularity: what has no deadline of its own (windows of the
 * denial counter, refusals, invocations being ended) is looked at again
 * this long after the turn that found it. */
#define TICK_USEC (100u * 1000u)

/* When the timer must next fire, UINT64_MAX if no tick has anything to do. */
static uint64_t timer_deadline(Broker *b, uint64_t now) {
        uint64_t t = UINT64_MAX;

        if (b->audit)
                t = MIN(t, audit_log_next_sync_usec(b->audit));
        t = MIN(t, audit_syncer_next_usec(b));
        if (!audit_agg_idle(b->audit_agg) || b->refusals.suppressed > 0)
                t = MIN(t, now + TICK_USEC);
        if (b->transfers)
                t = MIN(t, MAX(b->next_xfer_check_usec, now));
        if (b->depend_mounts)
                t = MIN(t, MAX(b->next_depend_check_usec, now));
        for (Invocation *inv = b->invocations; inv && t > now + TICK_USEC; inv = inv->next)
                if (inv->ending)
                        t = now + TICK_USEC;
        return t;
}

/* Arms the one-shot timer for the earliest deadline, or disarms it.  A
 * timer already armed earlier is left alone (a tick that finds nothing due
 * does nothing), so a busy loop does not reset it every turn. */
static void broker_timer_rearm(Broker *b) {
        uint64_t now = clock_usec(CLOCK_MONOTONIC);
        uint64_t t = timer_deadline(b, now);
        struct itimerspec its = {};

        if (t == UINT64_MAX) {
                if (b->timer_armed_usec == 0)
                        return;
        } else {
                if (b->timer_armed_usec != 0 && b->timer_armed_usec <= t)
                        return;
                t = MAX(t, now + 1); /* 0 would disarm it */
                its.it_value = (struct timespec){ .tv_sec = (time_t) (t / 1000000u),
                                                  .tv_nsec = (long) (t % 1000000u) * 1000 };
        }
        if (timerfd_settime(b->timer.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
                log_warning_errno(-errno, "Cannot arm the broker's timer: %m");
                return;
        }
        b->timer_armed_usec = t == UINT64_MAX ? 0 : t;
}

int broker_run(Broker *b) {
        struct epoll_event ev[64];

        while (!b->quit) {
                int n;

                audit_syncer_kick(b);
                broker_timer_rearm(b);
                n = epoll_wait(b->epfd, ev, (int) ELEMENTSOF(ev), -1);
                b->n_wakeups++;
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (int i = 0; i < n; i++) {
                        Source *s = ev[i].data.ptr;
                        if (s->dead)
                                continue;
                        switch (s->type) {
                        case SRC_CONTROL_LISTEN:
                        case SRC_CONTAINER_LISTEN:
                        case SRC_PROXY_LISTEN:
                                /* Every listening socket: one door, with its peer check. */
                                broker_listener_event(b, s);
                                break;
                        case SRC_CONTROL_CONN:
                                pipeline_control_event(b, (ControlConn *) s);
                                break;
                        case SRC_SIGNAL:
                                handle_signal(b);
                                break;
                        case SRC_TIMER: {
                                uint64_t ticks;
                                (void) read(s->fd, &ticks, sizeof(ticks));
                                b->timer_armed_usec = 0; /* one-shot: spent */
                                uint64_t now = clock_usec(CLOCK_MONOTONIC);
                                if (b->audit_agg) {
                                        int r = audit_agg_tick(b->audit_agg, now);
                                        if (r < 0)
                                                log_warning_errno(r, "Failed to append to the audit log: %m");
                                }
                                if (b->audit)
                                        (void) audit_log_tick(b->audit, now);
                                transfer_tick(b, now);
                                depend_tick(b, now);
                                broker_refusals_tick(b, now);
                                invoke_tick(b);
                                ask_tick(b, now);
                                break;
                        }
                        case SRC_CONTAINER_PIDFD:
                                container_unregister(b, (Container *) ((char *) s - offsetof(Container, pidfd)),
                                                     "exited");
                                break;
                        case SRC_CLIENT:
                                broker_client_event(b, (Client *) s, ev[i].events);
                                break;
                        case SRC_RELAY:
                                ipc_relay_event(b, (RelayEnd *) s, ev[i].events);
                                break;
                        case SRC_INVOCATION:
                                invoke_exited(b, (Invocation *) s);
                                break;
                        case SRC_ZYGOTE:
                                invoke_zygote_exited(b, (struct InvokeZygote *) s);
                                break;
                        case SRC_RELOAD:
                                reload_event(b);
                                reload_notify(b);
                                break;
                        case SRC_AUDIT_SYNC:
                                audit_syncer_event(b);
                                break;
                        }
                }
                sweep(b);
        }
        return 0;
}

Broker *broker_free(Broker *b) {
        if (!b)
                return NULL;
        reloader_free(b);
        /* Containers keep running without us: their state stays on disk so
         * a restarted broker re-adopts them.  Only our sockets go, and what
         * we did for callers we can no longer answer: invoked apps and
         * transfers. */
        invoke_drop_all(b);
        transfer_drop_all(b);
        pipeline_drop_pending(b);
        ask_drop_all(b);
        depend_drop_all(b);
        while (b->relays) {
                Relay *r = b->relays;
                ipc_drop_relays_of(b, r->importer);
                sweep(b);
                if (b->relays == r)
                        break;
        }
        ipc_relay_pipes_free(b);
        while (b->containers) {
                Container *c = b->containers;
                broker_drop_clients_of(b, c);
                ipc_drop_proxies(b, c);
                broker_unwatch(b, &c->listen);
                broker_unwatch(b, &c->pidfd);
                b->containers = c->next;
                container_free(c);
        }
        strmap_done(&b->containers_by_name);
        while (b->controls)
                control_conn_close(b, b->controls);
        sweep(b);
        if (b->control.fd >= 0)
                remove_control_socket(b);
        broker_unwatch(b, &b->control);
        broker_unwatch(b, &b->signal);
        broker_unwatch(b, &b->timer);
        audit_syncer_stop(b);
        b->self_netns = safe_close(b->self_netns);
        /* The counted denials are written before the log closes. */
        audit_agg_free(b->audit_agg);
        if (b->audit)
                audit_log_close(b->audit);
        while (b->limits) {
                LimitState *l = b->limits;
                b->limits = l->next;
                free(l->rule);
                free(l->from);
                free(l);
        }
        while (b->group_policies) {
                GroupPolicy *g = b->group_policies;
                b->group_policies = g->next;
                group_policy_free(g);
        }
        policy_unref(b->policy);
        shadow_policy_done(&b->shadow);
        for (size_t i = 0; i < b->n_policy_paths; i++)
                free(b->policy_paths[i]);
        free(b->policy_paths);
        free(b->approved_file);
        free(b->dropin_dir);
        free(b->state_dir);
        free(b->audit_path);
        free(b->notify_socket);
        safe_close(b->epfd);
        free(b);
        return NULL;
}
