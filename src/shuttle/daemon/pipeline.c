/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one path of every request (see mediator.h): on a container's
 * broker.sock and on its proxy sockets.  Everything here comes from an
 * untrusted container: frames are decoded by the table-driven,
 * bounds-checked decoder in protocol.c, a malformed one drops the peer and
 * is audited, and the caller's identity is the socket it came in on.
 * Answers (client_send(), client_reply()) and the records of requests
 * (audit_request()) are static here: no mediator can reply or audit a
 * request on its own. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/parse.h"
#include "shuttle/audit/audit.h"
#include "shuttle/daemon/core.h"
#include "shuttle/host/control.h"
#include "shuttle/daemon/mediator.h"
#include "shuttle/daemon/xfer.h"
#include "shuttle/client/protocol.h"

static void client_free(void *p) {
        Client *cl = p;

        for (OutFrame *f = cl->out_head, *next; f; f = next) {
                next = f->next;
                safe_close(f->fd);
                free(f);
        }
        free(cl);
}

static void pending_client_gone(Broker *b, Client *cl);

static void client_drop(Broker *b, Client *cl) {
        if (cl->src.dead)
                return;
        invoke_client_gone(b, cl);
        if (cl->held)
                for (Client **i = &b->held_clients; *i; i = &(*i)->held_next)
                        if (*i == cl) {
                                *i = cl->held_next;
                                break;
                        }
        cl->held = false;
        ask_client_gone(b, cl);
        pending_client_gone(b, cl);
        broker_unwatch(b, &cl->src);
        if (cl->container)
                cl->container->n_clients--;
        for (Client **i = &b->clients; *i; i = &(*i)->next)
                if (*i == cl) {
                        *i = cl->next;
                        break;
                }
        broker_defer_free(b, cl, client_free);
}

void broker_drop_clients_of(Broker *b, Container *c) {
        for (Client *cl = b->clients, *next; cl; cl = next) {
                next = cl->next;
                if (cl->container == c)
                        client_drop(b, cl);
        }
}

static void audit_refusal(Broker *b, const Container *c, const char *op, const char *reason, pid_t pid) {
        broker_audit_event(b, &(AuditEvent){
                                .from = c,
                                .kind = "protocol",
                                .op = op,
                                .allow = false,
                                .rule = "-",
                                .reason = reason,
                                .extra = json_pack("{s:i}", "peer_pid", (int) pid),
                        });
}

/* A connection on c's broker.sock whose peer broker_listener_event()
 * found to be a process of c (invariant 2: who calls is the socket it
 * came in on, and only c's processes come in on it). */
void broker_client_add(Broker *b, Container *c, int fd, const BrokerPeer *peer) {
        Client *cl;

        if (c->n_clients >= BROKER_CLIENTS_PER_CONTAINER) {
                audit_refusal(b, c, "accept", "too many connections from this container", peer->pid);
                close(fd);
                return;
        }
        cl = calloc(1, sizeof(*cl));
        if (!cl) {
                close(fd);
                return;
        }
        cl->src = (Source){ .type = SRC_CLIENT, .fd = fd };
        cl->out_tail = &cl->out_head;
        cl->container = c;
        cl->peer_pid = peer->pid;
        if (broker_watch(b, &cl->src, EPOLLIN) < 0) {
                close(fd);
                free(cl);
                return;
        }
        c->n_clients++;
        cl->next = b->clients;
        b->clients = cl;
}

static int client_want(Broker *b, Client *cl, uint32_t events) {
        struct epoll_event ev = { .events = events, .data.ptr = &cl->src };

        if (cl->src.events == events)
                return 0;
        if (epoll_ctl(b->epfd, EPOLL_CTL_MOD, cl->src.fd, &ev) < 0)
                return -errno;
        cl->src.events = events;
        return 0;
}

/* Sends a reply, or queues it if the client is not reading (or frames are
 * queued already: order is kept).  While frames wait, the client's
 * requests are not read either (back-pressure on that client alone; the
 * loop serves everyone else meanwhile).  A client owing more than
 * BROKER_CLIENT_QUEUE_MAX frames is not reading at all: it is dropped. */
static void client_hold(Broker *b, Client *cl) {
        if (!cl->held) {
                cl->held = true;
                cl->held_next = b->held_clients;
                b->held_clients = cl;
        }
        /* Neither its next request nor EPOLLOUT while the frame waits. */
        (void) client_want(b, cl, 0);
}

static int client_send(Broker *b, Client *cl, const ShuttleMsg *m, int fd, uint64_t durable_seq) {
        char buf[SHUTTLE_FRAME_MAX];
        const char *reason = NULL;
        size_t len = 0;
        OutFrame *f;
        ssize_t n;
        int r;

        r = shuttle_msg_encode(m, buf, sizeof(buf), &len, &reason);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        if (!broker_audit_durable(b, durable_seq))
                ; /* queued below, sent once its record is on disk */
        else if (!cl->out_head) {
                n = fd_send(cl->src.fd, buf, len, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
                if (n != -EAGAIN) {
                        safe_close(fd);
                        return n < 0 ? (int) n : 0;
                }
        }
        if (cl->n_out >= BROKER_CLIENT_QUEUE_MAX) {
                safe_close(fd);
                client_drop(b, cl);
                return -ENOBUFS;
        }
        f = malloc(sizeof(*f) + len);
        if (!f) {
                safe_close(fd);
                return -ENOMEM;
        }
        f->next = NULL;
        f->fd = fd; /* sent with the frame when the client reads */
        f->durable_seq = durable_seq;
        f->len = len;
        memcpy(f->buf, buf, len);
        *cl->out_tail = f;
        cl->out_tail = &f->next;
        cl->n_out++;
        if (!broker_audit_durable(b, cl->out_head->durable_seq))
                client_hold(b, cl);
        else
                (void) client_want(b, cl, EPOLLOUT);
        return 0;
}

static void client_flush(Broker *b, Client *cl) {
        while (cl->out_head) {
                OutFrame *f = cl->out_head;
                ssize_t n;

                if (!broker_audit_durable(b, f->durable_seq)) {
                        client_hold(b, cl);
                        return;
                }
                n = fd_send(cl->src.fd, f->buf, f->len, f->fd >= 0 ? &f->fd : NULL, f->fd >= 0 ? 1 : 0);
                if (n == -EAGAIN) {
                        if (client_want(b, cl, EPOLLOUT) < 0)
                                client_drop(b, cl);
                        return;
                }
                cl->out_head = f->next;
                if (!cl->out_head)
                        cl->out_tail = &cl->out_head;
                cl->n_out--;
                safe_close(f->fd);
                free(f);
                if (n < 0) {
                        client_drop(b, cl);
                        return;
                }
        }
        if (client_want(b, cl, EPOLLIN) < 0)
                client_drop(b, cl);
}

static int client_reply(Broker *b, Client *cl, uint32_t id, int status, const char *message) {
        char cut[SHUTTLE_MESSAGE_MAX + 1];
        ShuttleMsg m;

        /* A reason longer than the protocol carries is cut, never a reason
         * for the reply not to go out (the caller would wait forever). */
        if (message && strlen(message) > SHUTTLE_MESSAGE_MAX) {
                memcpy(cut, message, SHUTTLE_MESSAGE_MAX);
                cut[SHUTTLE_MESSAGE_MAX] = '\0';
                message = cut;
        }
        shuttle_msg_reply(&m, id, status, message);
        return client_send(b, cl, &m, -1, 0);
}

void pipeline_release_held(Broker *b) {
        Client *list = b->held_clients;

        b->held_clients = NULL;
        while (list) {
                Client *cl = list;
                list = cl->held_next;
                cl->held = false;
                if (!cl->src.dead)
                        client_flush(b, cl); /* holds it again if its frame still waits */
        }
}

/* The caller's credentials: what it may hand over is what it may access
 * itself (the broker opens as root; it must not lend the caller that). */
int broker_client_creds(const Client *cl, CallerCreds *ret) {
        struct ucred cred;
        socklen_t len = sizeof(cred);
        int n;

        if (getsockopt(cl->src.fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        *ret = (CallerCreds){ .uid = cred.uid, .gid = cred.gid };
        n = xfer_read_groups(cred.pid, ret->groups, ELEMENTSOF(ret->groups));
        ret->n_groups = n > 0 ? (size_t) n : 0;
        return 0;
}

/* ---- the pipeline ------------------------------------------------------ */

static const MediatorOps hello_ops;

/* Every kind of request the broker carries out: one entry each. */
static const MediatorOps *const mediators[] = {
        &hello_ops,
        &ipc_connect_ops,
        &signal_ops,
        &invoke_ops,
        &kill_invoked_ops,
        &transfer_ops,
        &resolve_ops,
        &signal_pid_ops,
        &open_shm_ops,
        &open_mq_ops,
        &open_fifo_ops,
};

const MediatorOps *pipeline_ops_for(uint16_t type) {
        for (size_t i = 0; i < ELEMENTSOF(mediators); i++)
                if (mediators[i]->type == type)
                        return mediators[i];
        return NULL;
}

json_t *request_extra(Request *r) {
        if (!r->extra)
                r->extra = json_object();
        return r->extra;
}

/* The one record of a decided request: the deciding rule (with where it
 * is written), and the outcome, so that a failure after an allow is on
 * record as such. */
static void audit_request(Request *r, int status, bool decision) {
        bool allow = status >= 0;
        json_t *extra = r->extra;

        r->extra = NULL;
        /* Sync mode, a request that acts: the record of its decision, on
         * disk before it is carried out, and that of its outcome, which
         * names it (docs/AUDIT.md). */
        if (decision && (extra || (extra = json_object())))
                json_object_set_new(extra, "phase", json_string("decided"));
        if (r->decided_seq && (extra || (extra = json_object())))
                json_object_set_new(extra, "decided", json_integer((json_int_t) r->decided_seq));
        if (r->d.rule_file && (extra || (extra = json_object()))) {
                json_object_set_new(extra, "rule_file", json_string(r->d.rule_file));
                json_object_set_new(extra, "rule_line", json_integer(r->d.rule_line));
        }
        /* The candidate's decision, never enforced (shadow.c). */
        if (r->has_shadow && (extra || (extra = json_object()))) {
                json_object_set_new(extra, "shadow_decision",
                                    json_string(policy_verdict_to_string(r->shadow.verdict)));
                json_object_set_new(extra, "shadow_rule", json_string(r->shadow.rule_id ?: "default"));
        }
        /* What `audit explain` asks again, beside the object: the IPC type
         * decided on, and an invocation's arguments one by one (object
         * joins them with spaces).  Arguments only if each is UTF-8 (JSON
         * strings are; the writer mends strings, not those in an array). */
        if (r->policy.kind == POLICY_KIND_IPC && r->policy.ipc_type != POLICY_IPC_ANY &&
            (extra || (extra = json_object())))
                json_object_set_new(extra, "type", json_string(policy_ipc_type_to_string(r->policy.ipc_type)));
        if (r->policy.kind == POLICY_KIND_INVOKE && r->policy.n_args > 0 && (extra || (extra = json_object()))) {
                json_t *args = json_array();

                for (size_t i = 0; args && i < r->policy.n_args; i++) {
                        json_t *a = json_string(r->policy.args[i]);

                        if (!a || json_array_append_new(args, a) < 0) {
                                json_decref(args);
                                args = NULL;
                        }
                }
                if (args)
                        json_object_set_new(extra, "args", args);
        }
        broker_audit_event(r->broker, &(AuditEvent){
                                              .from = r->from,
                                              .to = r->to,
                                              .kind = r->kind,
                                              .op = r->op,
                                              .object = r->object,
                                              .allow = allow,
                                              .learn = allow && r->learned,
                                              .rule = r->d.rule_id ?: "-",
                                              .reason = !allow && r->why[0] ? r->why : r->d.reason,
                                              .extra = extra,
                                      });
}

/* durable_seq: an allowed request's record, if the answer must wait until
 * it is on disk (--audit-sync sync), else 0. */
static void reply_request(Request *r, const MediatorOps *ops, int status, uint64_t durable_seq) {
        const char *message = r->why[0] ? r->why : NULL;
        int fd = r->reply_fd;

        r->reply_fd = -1;
        if (!r->client) {
                /* A proxy socket's connection has no frames: carry_out
                 * relays it, and a refusal is the pipeline closing it. */
                safe_close(fd);
                return;
        }
        if (status < 0) {
                safe_close(fd);
                if (!message && status == -ops->denied_errno && r->d.verdict != POLICY_ALLOW)
                        message = "denied by policy";
                (void) client_reply(r->broker, r->client, r->msg->id, status, message);
                return;
        }
        if (r->reply.type == 0)
                shuttle_msg_reply(&r->reply, r->msg->id, 0, NULL);
        if (client_send(r->broker, r->client, &r->reply, fd, durable_seq) < 0 && ops->undo)
                ops->undo(r);
}

/* Learn mode (the caller's registration, never anything it sends): a
 * request the policy denies because no rule matched is allowed, and its
 * record says "learn".  Only that: a deny rule the operator wrote still
 * denies, and what is refused for other reasons (malformed, refused while
 * it was built, over a rule's limit, rw asked of an ro grant) never reaches
 * here as a policy deny.  What is granted is what was asked and no more:
 * a transfer's access as asked (read-only if not said), a FIFO's end as
 * asked, an invocation without its file arguments crossing and without
 * the caller's environment (as a rule that says neither). */
static bool learn_adjust(Request *r) {
        if (!r->from->learn || r->d.verdict != POLICY_DENY || r->d.rule)
                return false;
        r->d.verdict = POLICY_ALLOW;
        r->d.reason = "learn mode: no rule matched";
        switch (r->policy.kind) {
        case POLICY_KIND_TRANSFER:
        case POLICY_KIND_DEPEND:
                r->d.mode = r->policy.mode == POLICY_MODE_RW ? POLICY_MODE_RW : POLICY_MODE_RO;
                break;
        case POLICY_KIND_IPC:
                r->d.mode = r->policy.mode;
                break;
        default:
                r->d.mode = POLICY_MODE_NONE;
                break;
        }
        r->d.audited = true;
        return true;
}

/* ---- carried out once the decision is on disk ---------------------------
 * --audit-sync sync: what an allowed request does beyond its answer (an
 * invoked program starting, a transfer's mount, a signal) must not happen
 * before the log says so, or a crash could leave an action with no record.
 * So such a request (MediatorOps.acts), once decided, has a record of its
 * decision written ("phase": "decided") and is parked here, like an ask:
 * its frame re-encoded, its descriptors, and its decision (with a
 * reference to the policy whose strings it points to).  When the sync
 * thread says that record is on disk, the request goes through the
 * pipeline again: built again (the target may have gone meanwhile), not
 * decided again (it was, and its limits counted), carried out, and its
 * outcome recorded ("decided": the decision's seq) and answered.  If the
 * sync fails, it is refused instead ("the audit log could not be synced"):
 * in sync mode nothing is done that the log may not hold.  The loop never
 * waits for the disk: everyone else is served meanwhile.  The sync begins
 * as soon as the record is written, and meanwhile the mediator may make
 * ready what nobody can see yet (MediatorOps.prepare: an invoked app's
 * process forked, waiting before its exec); carry_out takes it, or
 * unprepare undoes it when the request is refused or dropped instead. */

typedef struct Pending {
        Container *from;
        Client *client;
        char *kind, *op, *to, *object; /* for the record of a request dropped unanswered */
        void *frame;
        size_t frame_len;
        int fds[SHUTTLE_FDS_MAX];
        size_t n_fds;
        Policy *policy;         /* d's strings are its */
        PolicyDecision d;
        bool learned;
        LimitState *limit;
        uint64_t seq;           /* the decision's record */
        int error;              /* refused instead: why (negative errno) */
        void *prepared;         /* MediatorOps.prepare's, meanwhile */
        void (*unprepare)(Broker *b, void *prepared);
        struct Pending *next;
} Pending;

static void pending_free(Broker *b, Pending *p) {
        if (!p)
                return;
        if (p->prepared)
                p->unprepare(b, p->prepared);
        for (size_t i = 0; i < p->n_fds; i++)
                safe_close(p->fds[i]);
        policy_unref(p->policy);
        free(p->kind);
        free(p->op);
        free(p->to);
        free(p->object);
        free(p->frame);
        free(p);
}

static void pending_unlink(Broker *b, Pending *p) {
        for (Pending **i = &b->pending; *i; i = &(*i)->next)
                if (*i == p) {
                        *i = p->next;
                        break;
                }
        p->next = NULL;
        p->client->n_pending--;
}

/* Writes the record of r's decision and parks r until it is on disk: 1,
 * or a negative errno with r->why (then it is refused). */
static int pending_park(Broker *b, const MediatorOps *ops, Request *r, const Policy *policy) {
        char buf[SHUTTLE_FRAME_MAX];
        size_t len = 0;
        uint64_t before;
        Pending *p;

        if (r->client->n_pending >= BROKER_CLIENT_PENDING_MAX) {
                snprintf(r->why, sizeof(r->why), "too many requests waiting for the audit log");
                return -EBUSY;
        }
        if (shuttle_msg_encode(r->msg, buf, sizeof(buf), &len, NULL) < 0) {
                snprintf(r->why, sizeof(r->why), "request could not be kept until its record is on disk");
                return -EINVAL;
        }
        p = calloc(1, sizeof(*p));
        if (!p || !(p->frame = malloc(len)) || !(p->kind = strdup(r->kind)) || !(p->op = strdup(r->op)) ||
            !(p->object = strdup(r->object)) || (r->to && !(p->to = strdup(r->to)))) {
                pending_free(b, p);
                snprintf(r->why, sizeof(r->why), "out of memory");
                return -ENOMEM;
        }
        /* The record first: if it cannot be written, nothing is done. */
        before = audit_log_get_seq(b->audit);
        audit_request(r, 0, true);
        p->seq = audit_log_get_seq(b->audit);
        if (p->seq == before) {
                pending_free(b, p);
                snprintf(r->why, sizeof(r->why), "the audit record could not be written");
                return -EIO;
        }
        /* The sync begins now, and what can be made ready meanwhile
         * (nothing the target or the caller can see) is. */
        audit_syncer_kick(b);
        if (ops->prepare && ops->unprepare) {
                p->prepared = ops->prepare(r);
                p->unprepare = ops->unprepare;
        }
        memcpy(p->frame, buf, len);
        p->frame_len = len;
        p->from = r->from;
        p->client = r->client;
        p->policy = policy ? policy_ref((Policy *) policy) : NULL;
        p->d = r->d;
        p->learned = r->learned;
        p->limit = r->limit;
        /* The descriptors are the request's: kept while it waits. */
        for (size_t i = 0; i < r->n_fds && i < SHUTTLE_FDS_MAX; i++) {
                p->fds[i] = r->fds[i];
                r->fds[i] = -1;
        }
        p->n_fds = MIN(r->n_fds, (size_t) SHUTTLE_FDS_MAX);
        p->next = b->pending;
        b->pending = p;
        r->client->n_pending++;
        return 1;
}

static void pipeline_run(Broker *b, const MediatorOps *ops, Container *from, Client *cl, const ShuttleMsg *m,
                         int *fds, size_t n_fds, const AskAnswer *answer, const Pending *parked);

/* p's record is on disk (or its sync failed: p->error): through the
 * pipeline again; p is freed. */
static void pending_resume(Broker *b, Pending *p) {
        const MediatorOps *ops;
        ShuttleMsg m;

        pending_unlink(b, p);
        if (shuttle_msg_decode(p->frame, p->frame_len, p->n_fds, SHUTTLE_DECODE_REQUEST, &m, NULL) < 0 ||
            !(ops = pipeline_ops_for(m.type))) {
                log_warning("A request of '%s' could not be decoded again after its record was synced",
                            p->from->qname);
                pending_free(b, p);
                return;
        }
        pipeline_run(b, ops, p->from, p->client, &m, p->fds, p->n_fds, NULL, p);
        pending_free(b, p);
}

/* Dropped unanswered (the caller went away, the broker stops): the
 * outcome's record says it was not carried out. */
static void pending_drop(Broker *b, Pending *p, const char *why) {
        pending_unlink(b, p);
        broker_audit_event(b, &(AuditEvent){
                                      .from = p->from,
                                      .to = p->to,
                                      .kind = p->kind,
                                      .op = p->op,
                                      .object = p->object,
                                      .allow = false,
                                      .rule = p->d.rule_id ?: "-",
                                      .reason = why,
                                      .extra = json_pack("{s:I}", "decided", (json_int_t) p->seq),
                              });
        pending_free(b, p);
}

void pipeline_release_pending(Broker *b, int error) {
        for (Pending *p = b->pending, *next; p; p = next) {
                next = p->next;
                if (broker_audit_durable(b, p->seq))
                        p->error = 0;
                else if (error < 0)
                        p->error = error;
                else
                        continue;
                pending_resume(b, p);
                /* The pipeline may have dropped a client, and others'
                 * requests with it: start over. */
                next = b->pending;
        }
}

static void pending_client_gone(Broker *b, Client *cl) {
        for (Pending *p = b->pending, *next; p; p = next) {
                next = p->next;
                if (p->client == cl)
                        pending_drop(b, p, "caller went away before its record was on disk");
        }
}

void pipeline_drop_pending(Broker *b) {
        while (b->pending)
                pending_drop(b, b->pending, "broker stopped before its record was on disk");
}

/* Identify (done: r->from is the channel's), build, decide with the
 * limits, carry out, audit, reply: for every request on every socket.
 * parked: a request decided before, whose decision's record is now on
 * disk (or could not be put there): built again and carried out (or
 * refused), not decided again. */
static void pipeline_run(Broker *b, const MediatorOps *ops, Container *from, Client *cl, const ShuttleMsg *m,
                         int *fds, size_t n_fds, const AskAnswer *answer, const Pending *parked) {
        Request req, *r = &req;
        uint64_t durable_seq = 0;
        bool decided = false;
        int status;

        /* Not zeroed past the header: state is the mediator's to set. */
        memset(r, 0, offsetof(Request, state));
        r->broker = b;
        r->from = from;
        r->client = cl;
        r->msg = m;
        r->fds = fds;
        r->n_fds = n_fds;
        r->kind = ops->kind;
        r->op = ops->op;
        r->reply_fd = -1;
        r->policy.from = from->qname;
        r->policy.now = time(NULL);

        status = ops->build(r);
        if (parked) {
                /* Its decision is on record: the outcome follows it. */
                decided = true;
                r->decided_seq = parked->seq;
                r->d = parked->d;
                r->learned = parked->learned;
                r->d.audited = true;
                if (status == REQUEST_UNDECIDED) {
                        /* What it named is gone (a pid that exited). */
                        snprintf(r->why, sizeof(r->why), "gone before the record of the decision was on disk");
                        status = -ESRCH;
                } else if (status >= 0 && parked->error < 0) {
                        snprintf(r->why, sizeof(r->why), "the audit log could not be synced: %s",
                                 strerror(-parked->error));
                        status = -EIO;
                } else if (status >= 0 && parked->limit && parked->limit->open >= r->d.limits.max_open) {
                        /* Admitted when decided, but others of the rule
                         * were carried out meanwhile: max_open counts what
                         * is open now. */
                        snprintf(r->why, sizeof(r->why), "max_open of rule '%s' reached (%llu open)", r->d.rule_id,
                                 (unsigned long long) r->d.limits.max_open);
                        status = -ops->denied_errno;
                } else if (status >= 0) {
                        r->limit = parked->limit;
                        r->prepared = parked->prepared;
                        status = ops->carry_out(r);
                        if (status < 0 && !r->why[0])
                                snprintf(r->why, sizeof(r->why), "%s", strerror(-status));
                }
        } else if (status < 0) {
                /* Refused before the policy is asked: still on record. */
                r->d = (PolicyDecision){ .verdict = POLICY_DENY, .rule_id = r->d.rule_id ?: "-",
                                         .reason = r->why[0] ? r->why : "refused", .audited = true };
                decided = true;
        } else if (status == REQUEST_UNDECIDED) {
                status = ops->carry_out(r);
        } else {
                const Policy *policy = broker_policy_for(b, from);

                decided = true;
                if (!r->preset && policy_decide(policy, &r->policy, &r->d) < 0)
                        r->d = (PolicyDecision){ .verdict = POLICY_DENY, .rule_id = "default",
                                                 .reason = "malformed request", .audited = true };
                else if (!r->preset) {
                        /* The candidate decides first, on the request as
                         * the policy sees it; learn mode then may allow
                         * what no rule matched. */
                        shadow_decide(b, policy, r);
                        r->learned = learn_adjust(r);
                }
                /* "A request for rw does not match an ro rule": the engine
                 * sees to that; this is the belt to its braces. */
                if (!r->preset && r->d.verdict == POLICY_ALLOW && r->policy.mode == POLICY_MODE_RW &&
                    r->d.mode != POLICY_MODE_RW) {
                        r->d.verdict = POLICY_DENY;
                        r->d.reason = "rw asked, ro granted";
                        r->d.audited = true;
                }
                /* An ask rule's allow waits for an operator: parked, and
                 * back here when answered (ask.c). */
                if (!r->preset && ask_decide(b, r, answer) > 0) {
                        json_decref(r->extra);
                        r->extra = NULL;
                        if (ops->done)
                                ops->done(r);
                        return;
                }
                if (!r->preset && r->d.verdict == POLICY_ALLOW) {
                        /* The rule's limit: over it, an allowed request is
                         * refused, and that is always worth a record. */
                        const char *over = broker_limits_admit(b, from, &r->d, &r->limit, r->why, sizeof(r->why));
                        if (over) {
                                if (over != r->why)
                                        snprintf(r->why, sizeof(r->why), "%s", over);
                                r->d.verdict = POLICY_DENY;
                                r->d.reason = r->why;
                                r->d.audited = true;
                        }
                }
                if (r->d.verdict == POLICY_ALLOW && ops->acts && r->d.audited && b->syncer && cl) {
                        /* Carried out once its decision is on disk. */
                        status = pending_park(b, ops, r, policy);
                        if (status > 0) {
                                json_decref(r->extra);
                                r->extra = NULL;
                                if (ops->done)
                                        ops->done(r);
                                return;
                        }
                } else if (r->d.verdict == POLICY_ALLOW) {
                        status = ops->carry_out(r);
                        if (status < 0 && !r->why[0])
                                snprintf(r->why, sizeof(r->why), "%s", strerror(-status));
                } else
                        status = -ops->denied_errno;
        }
        if (decided && (r->d.audited || status < 0)) {
                audit_request(r, status, false);
                /* Group commit: what the caller is given waits for its
                 * record to be on disk (a request carried out after its
                 * decision's record was: that one is). */
                if (status >= 0 && !parked)
                        durable_seq = broker_audit_hold_seq(b);
        }
        json_decref(r->extra);
        r->extra = NULL;
        /* The audit record has the reason whole; a MESSAGE longer than
         * the protocol carries is cut (client_reply()). */
        reply_request(r, ops, status, durable_seq);
        if (ops->done)
                ops->done(r);
}

static void handle_message(Broker *b, Client *cl, const ShuttleMsg *m, int *fds, size_t n_fds) {
        const MediatorOps *ops = pipeline_ops_for(m->type);

        if (!ops) {
                /* Valid requests this broker does not carry out yet. */
                broker_audit_event(b, &(AuditEvent){ .from = cl->container, .kind = "protocol",
                                                     .op = shuttle_msg_type_name(m->type), .allow = false,
                                                     .rule = "-", .reason = "not supported by this broker" });
                (void) client_reply(b, cl, m->id, -EOPNOTSUPP, "not supported by this broker");
                return;
        }
        pipeline_run(b, ops, cl->container, cl, m, fds, n_fds, NULL, NULL);
}

/* A parked request (ask.c), answered: decoded again from the frame it came
 * in (re-encoded when it was parked), with the descriptors it carried. */
void pipeline_resume(Broker *b, Container *from, Client *cl, const void *frame, size_t len, int *fds, size_t n_fds,
                     const AskAnswer *a) {
        const MediatorOps *ops;
        ShuttleMsg m;

        /* A proxy socket's connection is a CONNECT, which carries no
         * descriptor in a frame: the connection is the request's own. */
        if (shuttle_msg_decode(frame, len, cl ? n_fds : 0, SHUTTLE_DECODE_REQUEST, &m, NULL) < 0) {
                log_warning("Request %" PRIu64 " of '%s' could not be decoded again after its ask", a->id,
                            from->qname);
                return;
        }
        ops = pipeline_ops_for(m.type);
        if (ops)
                pipeline_run(b, ops, from, cl, &m, fds, n_fds, a, NULL);
}

/* A connection on one of the importer's proxy sockets, whose peer
 * broker_listener_event() found to be a process of the importer: only
 * then may it use the importer's grant.  It goes through the pipeline as
 * a CONNECT to the socket's service, decided again on every connect (the
 * socket existing is not a grant); the accepted connection is the
 * request's descriptor, relayed if allowed, closed (refused) if not. */
void pipeline_proxy_connect(Broker *b, Proxy *p, int fd) {
        char service[SHUTTLE_SERVICE_MAX + 2];
        ShuttleMsg m = {};
        int fds[1] = { fd };

        snprintf(service, sizeof(service), "%s.%s", p->exporter, p->service);
        shuttle_msg_connect(&m, 0, service);
        pipeline_run(b, &ipc_connect_ops, p->importer, NULL, &m, fds, 1, NULL, NULL);
        safe_close(fds[0]);
}

/* The control socket: the same steps for the operator's requests.  The
 * peer was identified at accept (root on the host); the frame is decoded
 * (one JSON object with "op"); the op is looked up in one table
 * (broker_control_ops); nothing is decided by the policy, which governs
 * containers, not the operator; the op is carried out and answered here
 * (or, for a policy load, when it is applied: reload.c). */
void pipeline_control_event(Broker *b, ControlConn *cc) {
        json_t *req = NULL, *reply = NULL;
        const char *op;
        int r;

        /* One request at a time: a client that sends another (or hangs
         * up) while its reload is pending is dropped. */
        if (cc->waiting) {
                control_conn_close(b, cc);
                return;
        }
        r = control_recv(cc->src.fd, &req);
        if (r == -EAGAIN)
                return;
        if (r < 0) {
                control_conn_close(b, cc);
                return;
        }
        op = json_string_value(json_object_get(req, "op"));
        if (!op)
                reply = control_reply_error(EINVAL, "request without \"op\"");
        else {
                const ControlOp *o = broker_control_ops;
                while (o->name && !streq(o->name, op))
                        o++;
                reply = o->name ? o->run(b, cc, req) : control_reply_error(EOPNOTSUPP, "unknown op '%s'", op);
        }
        json_decref(req);
        if (reply) {
                (void) control_send(cc->src.fd, reply);
                json_decref(reply);
        }
}

/* HELLO: the session's own business, nothing to decide. */
static int hello_build(Request *r) {
        (void) r;
        return REQUEST_UNDECIDED;
}

static int hello_carry_out(Request *r) {
        shuttle_msg_welcome(&r->reply, r->msg->id, SHUTTLE_PROTOCOL_VERSION, r->from->name);
        return 0;
}

static const MediatorOps hello_ops = {
        .type = SHUTTLE_MSG_HELLO,
        .kind = "protocol",
        .op = "hello",
        .denied_errno = EACCES,
        .build = hello_build,
        .carry_out = hello_carry_out,
};

/* An invocation's EXIT, which comes after its reply: the only frame a
 * mediator sends (invoke.c), and nothing but an event. */
void pipeline_send_exit(Broker *b, Client *cl, uint32_t id, int wait_status) {
        ShuttleMsg m;

        if (shuttle_msg_exit(&m, id, wait_status) >= 0)
                (void) client_send(b, cl, &m, -1, 0);
}

void broker_client_event(Broker *b, Client *cl, uint32_t events) {
        char buf[SHUTTLE_RECV_BUF_SIZE];
        int fds[SHUTTLE_FDS_MAX];
        size_t n_fds = 0;
        const char *reason = NULL;
        ShuttleMsg m;
        int r;

        if (cl->held && (events & (EPOLLERR | EPOLLHUP))) {
                /* Gone while its answer waited for the audit log (epoll
                 * reports a hangup even with no events asked). */
                client_drop(b, cl);
                return;
        }
        if (cl->out_head) {
                if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                        client_flush(b, cl);
                return;
        }
        r = shuttle_msg_recv(cl->src.fd, buf, sizeof(buf), &m, fds, SHUTTLE_FDS_MAX, &n_fds,
                             SHUTTLE_DECODE_REQUEST | SHUTTLE_RECV_NONBLOCK, &reason);
        if (r == -EAGAIN || r == -EINTR)
                return;
        if (r == 0 || r == -ECONNRESET || r == -EPIPE) {
                /* The peer went away (with replies unread: ECONNRESET). */
                client_drop(b, cl);
                return;
        }
        if (r < 0) {
                /* A malformed frame: the peer is dropped and that is audited. */
                char why[160];
                ShuttleMsg bye;
                snprintf(why, sizeof(why), "malformed request: %s", reason ?: strerror(-r));
                audit_refusal(b, cl->container, "malformed", why, cl->peer_pid);
                /* Say goodbye (request id 0) so a client can tell why. */
                shuttle_msg_reply(&bye, 0, r, reason);
                (void) shuttle_msg_send(cl->src.fd, &bye, NULL, 0);
                client_drop(b, cl);
                return;
        }
        handle_message(b, cl, &m, fds, n_fds);
        for (size_t i = 0; i < n_fds; i++)
                safe_close(fds[i]);
}
