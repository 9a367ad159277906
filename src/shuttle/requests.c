/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Requests arriving on a container's broker.sock.  Everything here comes
 * from an untrusted container: frames are decoded by the table-driven,
 * bounds-checked decoder in protocol.c, a malformed one drops the peer and
 * is audited, and the caller's identity is the socket it came in on. */

#include <errno.h>
#include <fcntl.h>
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
#include "shuttle/broker-internal.h"
#include "shuttle/protocol.h"

static void client_free(void *p) {
        Client *cl = p;

        for (OutFrame *f = cl->out_head, *next; f; f = next) {
                next = f->next;
                safe_close(f->fd);
                free(f);
        }
        free(cl);
}

static void client_drop(Broker *b, Client *cl) {
        if (cl->src.dead)
                return;
        invoke_client_gone(b, cl);
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
        broker_audit(b, &(AuditEvent){
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
int broker_client_send(Broker *b, Client *cl, const ShuttleMsg *m, int fd) {
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
        if (!cl->out_head) {
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
        f->len = len;
        memcpy(f->buf, buf, len);
        *cl->out_tail = f;
        cl->out_tail = &f->next;
        cl->n_out++;
        (void) client_want(b, cl, EPOLLOUT);
        return 0;
}

static void client_flush(Broker *b, Client *cl) {
        while (cl->out_head) {
                OutFrame *f = cl->out_head;
                ssize_t n = fd_send(cl->src.fd, f->buf, f->len, f->fd >= 0 ? &f->fd : NULL, f->fd >= 0 ? 1 : 0);

                if (n == -EAGAIN)
                        return;
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

int broker_client_reply(Broker *b, Client *cl, uint32_t id, int status, const char *message) {
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
        return broker_client_send(b, cl, &m, -1);
}

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

/* Every process of `target` running `app` (see
 * broker_for_each_app_process()). */
static int signal_app(const Container *target, const char *app, int sig, unsigned *ret_n) {
        SignalApp s = { .sig = sig };
        int r;

        r = broker_for_each_app_process(target, app, signal_one, &s);
        if (r < 0)
                return r;
        *ret_n = s.n;
        return s.n > 0 ? 0 : -ESRCH;
}

static int handle_signal(Broker *b, Client *cl, const ShuttleMsg *m) {
        Container *target = container_find(b, m->container);
        const char *signame = signal_to_name(m->signal);
        PolicyRequest req = {
                .from = cl->container->qname,
                .to = target ? target->qname : m->container,
                .kind = POLICY_KIND_SIGNAL,
                .object = m->app,
                .signal = m->signal,
                .now = time(NULL),
        };
        PolicyDecision d = {};
        char object[PATH_MAX + 16];
        unsigned n = 0;
        int r;

        /* "…:SIGTERM"; a signal without a name (real-time ones) by number,
         * as resolve.c writes it. */
        if (signame)
                snprintf(object, sizeof(object), "%s:SIG%s", m->app, signame);
        else
                snprintf(object, sizeof(object), "%s:%d", m->app, (int) m->signal);
        if (policy_decide(broker_policy_for(b, cl->container), &req, &d) < 0)
                d = (PolicyDecision){ .verdict = POLICY_DENY, .rule_id = "default", .reason = "malformed request",
                                      .audited = true };
        broker_limit_rate(b, cl->container, &d);
        if (d.audited)
                broker_audit(b, &(AuditEvent){ .from = cl->container, .to = m->container, .kind = "signal",
                                               .op = "kill", .object = object,
                                               .allow = d.verdict == POLICY_ALLOW, .rule = d.rule_id,
                                               .reason = d.reason });
        if (d.verdict != POLICY_ALLOW)
                return -EPERM;
        if (!target)
                return -ESRCH;
        r = signal_app(target, m->app, m->signal, &n);
        return r;
}

static void handle_message(Broker *b, Client *cl, const ShuttleMsg *m, int *fds, size_t n_fds) {
        ShuttleMsg reply;
        IpcGrant grant = {};
        int fd = -1, r;

        switch (m->type) {
        case SHUTTLE_MSG_HELLO:
                shuttle_msg_welcome(&reply, m->id, SHUTTLE_PROTOCOL_VERSION, cl->container->name);
                (void) broker_client_send(b, cl, &reply, -1);
                return;

        case SHUTTLE_MSG_CONNECT:
                r = ipc_connect_service(b, cl->container, m->service, &fd, "connect", &grant);
                if (r < 0) {
                        (void) broker_client_reply(b, cl, m->id, r, r == -EACCES ? "denied by policy" : NULL);
                        return;
                }
                if (grant.limit) {
                        /* A grant with max_open must be counted while it is
                         * open: the client gets one end of a pair the broker
                         * relays, not the exporter's socket itself. */
                        int pair[2];
                        const char *dot = strrchr(m->service, '.');
                        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
                                close(fd);
                                (void) broker_client_reply(b, cl, m->id, -errno, NULL);
                                return;
                        }
                        char exporter[64];
                        snprintf(exporter, sizeof(exporter), "%.*s", (int) (dot - m->service), m->service);
                        if (ipc_relay_start(b, cl->container, exporter, dot + 1, pair[1], fd, grant.limit) < 0) {
                                close(pair[0]);
                                (void) broker_client_reply(b, cl, m->id, -ENOMEM, NULL);
                                return;
                        }
                        fd = pair[0];
                }
                /* Invariant 7: after the yes, the broker steps aside. */
                shuttle_msg_connected(&reply, m->id);
                (void) broker_client_send(b, cl, &reply, fd);
                return;

        case SHUTTLE_MSG_SIGNAL:
                r = handle_signal(b, cl, m);
                (void) broker_client_reply(b, cl, m->id, r, r == -EPERM ? "denied by policy" : NULL);
                return;

        case SHUTTLE_MSG_INVOKE:
                /* Takes the descriptors it keeps (setting them to -1). */
                broker_invoke_request(b, cl, m, fds, n_fds);
                return;

        case SHUTTLE_MSG_TRANSFER:
                broker_transfer_request(b, cl, m);
                return;

        case SHUTTLE_MSG_KILL_INVOKED:
                broker_kill_invoked_request(b, cl, m);
                return;

        case SHUTTLE_MSG_RESOLVE:
                broker_resolve_request(b, cl, m);
                return;

        case SHUTTLE_MSG_SIGNAL_PID:
                broker_signal_pid_request(b, cl, m);
                return;

        case SHUTTLE_MSG_OPEN_SHM:
        case SHUTTLE_MSG_OPEN_MQ:
        case SHUTTLE_MSG_OPEN_FIFO:
                broker_open_request(b, cl, m);
                return;

        default:
                /* Valid requests this broker does not carry out yet. */
                broker_audit(b, &(AuditEvent){ .from = cl->container, .kind = "protocol",
                                               .op = shuttle_msg_type_name(m->type), .allow = false, .rule = "-",
                                               .reason = "not supported by this broker" });
                (void) broker_client_reply(b, cl, m->id, -EOPNOTSUPP, "not supported by this broker");
                return;
        }
}

void broker_client_event(Broker *b, Client *cl, uint32_t events) {
        char buf[SHUTTLE_RECV_BUF_SIZE];
        int fds[SHUTTLE_FDS_MAX];
        size_t n_fds = 0;
        const char *reason = NULL;
        ShuttleMsg m;
        int r;

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
