/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IPC mediation: connecting to a service inside its exporter's root, the
 * proxy sockets under /run/shuttle/svc/, and the byte relay behind them. */

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "shuttle/daemon/broker-api.h"
#include "shuttle/daemon/mediator.h"
#include "shuttle/host/nsconnect.h"
#include "shuttle/client/protocol.h"

#define RELAY_CHUNK (256u * 1024u)

/* A relay's ends as relay_start() takes them: made non-blocking already
 * (accepted with SOCK_NONBLOCK, connected with ns_connect_*_at(nonblock)),
 * or to be made so. */
typedef enum RelayEnds {
        RELAY_ENDS_BLOCKING,
        RELAY_ENDS_NONBLOCKING,
} RelayEnds;

static int relay_start(Broker *b, Container *importer, const char *exporter, const char *service, int in, int out,
                       RelayEnds ends, LimitState *limit, Relay **ret_held);
static void relay_watch(Broker *b, Relay *r);

/* ---- CONNECT: the mediator ---------------------------------------------- */

typedef struct ConnectState {
        char name[SHUTTLE_NAME_MAX + 1], service[SHUTTLE_NAME_MAX + 1];
        Container *exporter;
        const Export *export;
        Relay *held;    /* a proxied connection's relay, not started before its record is on disk */
} ConnectState;

/* SERVICE "<container>.<service>", on broker.sock or (r->client NULL) a
 * proxy socket's connection.  The decision comes first and is recorded
 * whatever the target is, so probing for names is visible too. */
static int connect_build(Request *r) {
        ConnectState *s = REQUEST_STATE(r, ConnectState);
        Container *importer = r->from;

        *s = (ConnectState){};
        snprintf(r->object, sizeof(r->object), "%s", r->msg->service);
        /* At the last dot, as the protocol says: container names may have
         * dots, service names not. */
        if (shuttle_service_split(r->msg->service, s->name, s->service) < 0) {
                snprintf(r->why, sizeof(r->why), "invalid service name");
                return -EINVAL;
        }
        if (!r->client) {
                r->op = "proxy-connect";
                r->to = s->name;
                if (importer->n_relays >= BROKER_RELAYS_PER_CONTAINER) {
                        snprintf(r->why, sizeof(r->why), "too many proxied connections");
                        return -EAGAIN;
                }
        }
        s->exporter = container_find(r->broker, s->name);
        s->export = s->exporter ? container_find_export(s->exporter, s->service) : NULL;
        snprintf(r->object, sizeof(r->object), "%s.%s", s->exporter ? s->exporter->name : "?", s->service);
        r->to = s->exporter ? s->exporter->name : NULL;
        /* The type is the export's: a rule for `type: tcp` matches a
         * connection to a TCP export. */
        r->policy.to = s->exporter ? s->exporter->qname : "";
        r->policy.kind = POLICY_KIND_IPC;
        r->policy.object = s->service;
        r->policy.ipc_type = s->export ? export_ipc_type(s->export) : POLICY_IPC_ANY;
        return 0;
}

/* nonblock: for the broker's relay (the caller of a fast-path connect
 * gets an ordinary blocking socket). */
static int connect_export(Broker *b, const ConnectState *s, bool nonblock, int *ret_fd) {
        int r;

        /* Through the exporter's handles, opened once (registry.c): no
         * /proc lookups per connection. */
        if (!s->export->socket) {
                r = container_netns_fd(s->exporter);
                if (r >= 0)
                        r = ns_connect_tcp_at(r, b->self_netns, s->export->port, nonblock, ret_fd);
        } else {
                r = container_root_fd(s->exporter);
                if (r >= 0)
                        r = ns_connect_unix_at(r, s->export->socket, nonblock, ret_fd);
        }
        /* The policy said yes: whatever keeps the exporter from answering
         * (its socket not there yet or any more, not a socket, nobody
         * listening, the exporter exiting) is one answer to the caller,
         * the one connect(2) gives for a server that is not there, and
         * never EACCES, which means the policy refused. */
        switch (r) {
        case -ENOENT:
        case -ENOTDIR:
        case -ELOOP:
        case -ENOTSOCK:
        case -ESRCH:
        case -EAGAIN: /* its init has not pivoted yet */
        case -EACCES:
        case -EPERM:
                return -ECONNREFUSED;
        default:
                return r;
        }
}

static int connect_carry_out(Request *r) {
        ConnectState *s = REQUEST_STATE(r, ConnectState);
        int fd = -1, k;

        if (!s->exporter || s->exporter == r->from) {
                snprintf(r->why, sizeof(r->why), "no such container");
                return -ENOENT;
        }
        if (!s->export || !export_is_stream(s->export)) {
                /* message queues, shared memory and FIFOs are not connected to */
                snprintf(r->why, sizeof(r->why), "no such service");
                return -ENOENT;
        }
        /* Relayed (a proxy socket's connection, or a grant counted while
         * open): the exporter's end stays non-blocking for the relay. */
        k = connect_export(r->broker, s, !r->client || r->limit, &fd);
        if (k < 0)
                return k;
        if (!r->client) {
                /* A proxy socket's: relayed, and counted while open. */
                int in = r->fds[0];
                r->fds[0] = -1;
                /* Started by connect_done(), after the connection's record:
                 * no byte goes either way before it is written, nor, with
                 * --audit-sync sync, before it is on disk.  in was
                 * accepted non-blocking (accept.c). */
                return relay_start(r->broker, r->from, s->exporter->name, s->service, in, fd,
                                   RELAY_ENDS_NONBLOCKING, r->limit, &s->held);
        }
        if (r->limit) {
                /* A grant with max_open must be counted while it is open:
                 * the client gets one end of a pair the broker relays, not
                 * the exporter's socket itself. */
                int pair[2];
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
                        k = -errno;
                        close(fd);
                        return k;
                }
                /* The caller's end blocks as a connect()ed socket does; the
                 * broker's end is the relay's. */
                if (fcntl(pair[1], F_SETFL, O_NONBLOCK) < 0) {
                        k = -errno;
                        close(pair[0]);
                        close(pair[1]);
                        close(fd);
                        return k;
                }
                k = relay_start(r->broker, r->from, s->exporter->name, s->service, pair[1], fd,
                                RELAY_ENDS_NONBLOCKING, r->limit, NULL);
                if (k < 0) {
                        close(pair[0]);
                        return k;
                }
                fd = pair[0];
        }
        /* Invariant 7: after the yes, the broker steps aside. */
        shuttle_msg_connected(&r->reply, r->msg->id);
        r->reply_fd = fd;
        return 0;
}

/* After the record: a held relay starts now, or once the record is on
 * disk (ipc_release_held()). */
static void connect_done(Request *r) {
        ConnectState *s = REQUEST_STATE(r, ConnectState);
        Relay *x = s->held;

        if (!x)
                return;
        s->held = NULL;
        x->durable_seq = broker_audit_hold_seq(r->broker);
        if (x->durable_seq == 0)
                relay_watch(r->broker, x);
}

const MediatorOps ipc_connect_ops = {
        .type = SHUTTLE_MSG_CONNECT,
        .kind = "ipc",
        .op = "connect",
        .denied_errno = EACCES,
        .build = connect_build,
        .carry_out = connect_carry_out,
        .done = connect_done,
};

/* ---- proxy sockets ---------------------------------------------------- */

static void proxy_free(void *p) {
        Proxy *x = p;
        free(x->exporter);
        free(x->service);
        free(x->path);
        free(x);
}

static void proxy_drop(Broker *b, Proxy *p) {
        broker_unwatch(b, &p->src);
        if (p->path)
                (void) unlink(p->path);
        broker_defer_free(b, p, proxy_free);
}

void ipc_drop_proxies(Broker *b, Container *c) {
        while (c->proxies) {
                Proxy *p = c->proxies;
                c->proxies = p->next;
                proxy_drop(b, p);
        }
}

static bool allowed_quietly(Broker *b, const Container *from, const Container *to, const char *service) {
        const Export *e = container_find_export(to, service);
        PolicyRequest req = {
                .from = from->qname,
                .to = to->qname,
                .kind = POLICY_KIND_IPC,
                .object = service,
                .ipc_type = e ? export_ipc_type(e) : POLICY_IPC_ANY,
                .now = time(NULL),
        };
        PolicyDecision d = {};

        if (policy_decide(broker_policy_for(b, from), &req, &d) < 0)
                return false;
        /* A container in learn mode sees every service no deny rule takes
         * from it: each connect is decided (and learned) when it comes. */
        return d.verdict == POLICY_ALLOW || (from->learn && !d.rule);
}

static Proxy *proxy_find(Container *c, const char *exporter, const char *service) {
        for (Proxy *p = c->proxies; p; p = p->next)
                if (streq(p->exporter, exporter) && streq(p->service, service))
                        return p;
        return NULL;
}

static int proxy_create(Broker *b, Container *importer, const Container *exporter, const char *service) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        Proxy *p;

        if ((size_t) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/svc/%s.%s", importer->dir, exporter->name,
                              service) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(sa.sun_path);
        /* 0666 for the importer's users, whatever their uid (--user): the
         * path is reached through its bind mount only (broker/ is 0700 on
         * the host), and whoever connects must still be a process of the
         * importer (accept.c): the grant is the importer's alone. */
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0666) < 0 ||
            listen(fd, 64) < 0)
                return -errno;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->importer = importer;
        p->exporter = strdup(exporter->name);
        p->service = strdup(service);
        p->path = strdup(sa.sun_path);
        p->src = (Source){ .type = SRC_PROXY_LISTEN, .fd = TAKE_FD(fd) };
        if (!p->exporter || !p->service || !p->path || broker_watch(b, &p->src, EPOLLIN) < 0) {
                (void) unlink(sa.sun_path);
                safe_close(p->src.fd);
                proxy_free(p);
                return -ENOMEM;
        }
        p->next = importer->proxies;
        importer->proxies = p;
        return 0;
}

static void create_allowed(Broker *b, Container *a, Container *e) {
        for (size_t i = 0; i < e->n_exports; i++)
                if (export_is_stream(&e->exports[i]) && !proxy_find(a, e->name, e->exports[i].name) &&
                    allowed_quietly(b, a, e, e->exports[i].name)) {
                        int r = proxy_create(b, a, e, e->exports[i].name);
                        if (r < 0)
                                log_warning_errno(r, "Cannot create %s/svc/%s.%s: %m", a->dir, e->name,
                                                  e->exports[i].name);
                }
}

/* A new container: its own proxies, and others' proxies to its services.
 * (Only the pairs a rule could allow are decided: registration costs the
 * same with many containers.) */
static void import_from(Broker *b, Container *e, void *userdata) {
        create_allowed(b, userdata, e);
}

static void export_to(Broker *b, Container *a, void *userdata) {
        create_allowed(b, a, userdata);
}

void ipc_sync_proxies_added(Broker *b, Container *c) {
        container_for_each_partner(b, c, POLICY_KIND_IPC, true, import_from, c);
        if (c->n_exports > 0)
                container_for_each_partner(b, c, POLICY_KIND_IPC, false, export_to, c);
}

/* A container that is gone: its proxies, and others' proxies to it. */
static void drop_imports_of(Broker *b, Container *a, void *userdata) {
        const Container *c = userdata;

        for (Proxy **pp = &a->proxies; *pp;) {
                Proxy *p = *pp;
                if (streq(p->exporter, c->name)) {
                        *pp = p->next;
                        proxy_drop(b, p);
                } else
                        pp = &p->next;
        }
}

void ipc_sync_proxies_removed(Broker *b, Container *c) {
        ipc_drop_proxies(b, c);
        /* Proxies are made only for pairs the policy allows, and dropped
         * when a policy change takes that back (ipc_sync_proxies()): so
         * only the importers a rule could allow have one to c. */
        if (c->n_exports > 0)
                container_for_each_partner(b, c, POLICY_KIND_IPC, false, drop_imports_of, c);
}

/* Makes /run/shuttle/svc/ of every container hold exactly the services the
 * policy lets it reach: called when a policy changes. */
void ipc_sync_proxies(Broker *b) {
        for (Container *a = b->containers; a; a = a->next) {
                if (a->dead)
                        continue;
                /* Drop what is no longer allowed or no longer exists. */
                for (Proxy **pp = &a->proxies; *pp;) {
                        Proxy *p = *pp;
                        Container *e = container_find(b, p->exporter);
                        if (!e || !container_find_export(e, p->service) ||
                            !allowed_quietly(b, a, e, p->service)) {
                                *pp = p->next;
                                proxy_drop(b, p);
                        } else
                                pp = &p->next;
                }
                for (Container *e = b->containers; e; e = e->next)
                        if (e != a && !e->dead)
                                create_allowed(b, a, e);
        }
}

/* ---- relays ----------------------------------------------------------- */

static void relay_free(void *p) {
        Relay *r = p;
        for (int d = 0; d < 2; d++)
                for (int k = 0; k < 2; k++)
                        safe_close(r->pipe[d][k]);
        free(r->exporter);
        free(r->service);
        free(r);
}

/* Empty pipes of relays that ended, kept for the next ones: a proxied
 * connection then costs no pipe2() and F_SETPIPE_SZ per direction, nor
 * their close()s. */
static int relay_pipe_get(Broker *b, int ret[2]) {
        if (b->n_relay_pipes > 0) {
                b->n_relay_pipes--;
                ret[0] = b->relay_pipes[b->n_relay_pipes][0];
                ret[1] = b->relay_pipes[b->n_relay_pipes][1];
                return 0;
        }
        if (pipe2(ret, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        /* A pipe holds 64 KiB by default: make it hold a whole chunk,
         * halving splices and wakeups (best effort). */
        (void) fcntl(ret[1], F_SETPIPE_SZ, (int) RELAY_CHUNK);
        return 0;
}

/* Only a pipe known to be empty goes back: whatever is in one that is
 * not (its relay broke off mid-stream) must not reach another connection. */
static void relay_pipes_put(Broker *b, Relay *r) {
        for (int d = 0; d < 2; d++)
                if (r->pipe[d][0] >= 0 && r->pending[d] == 0 && b->n_relay_pipes < BROKER_RELAY_PIPES_KEPT) {
                        b->relay_pipes[b->n_relay_pipes][0] = r->pipe[d][0];
                        b->relay_pipes[b->n_relay_pipes][1] = r->pipe[d][1];
                        b->n_relay_pipes++;
                        r->pipe[d][0] = r->pipe[d][1] = -1;
                }
}

void ipc_relay_pipes_free(Broker *b) {
        while (b->n_relay_pipes > 0) {
                b->n_relay_pipes--;
                safe_close(b->relay_pipes[b->n_relay_pipes][0]);
                safe_close(b->relay_pipes[b->n_relay_pipes][1]);
        }
}

static void relay_drop(Broker *b, Relay *r) {
        if (r->dead)
                return;
        r->dead = true;
        relay_pipes_put(b, r);
        broker_unwatch(b, &r->end[0].src);
        broker_unwatch(b, &r->end[1].src);
        if (r->importer)
                r->importer->n_relays--;
        if (r->limit && r->limit->open > 0)
                r->limit->open--;
        for (Relay **i = &b->relays; *i; i = &(*i)->next)
                if (*i == r) {
                        *i = r->next;
                        break;
                }
        broker_defer_free(b, r, relay_free);
}

void ipc_drop_relays_of(Broker *b, const Container *c) {
        for (Relay *r = b->relays, *next; r; r = next) {
                next = r->next;
                if (r->importer == c || streq(r->exporter, c->name))
                        relay_drop(b, r);
        }
}

/* After a policy reload: a proxied connection whose grant is gone is cut
 * (descriptors already passed on the fast path cannot be pulled back; see
 * shuttled(8)). */
void ipc_relays_recheck(Broker *b) {
        for (Relay *r = b->relays, *next; r; r = next) {
                Container *e;
                next = r->next;
                e = container_find(b, r->exporter);
                if (!e || !allowed_quietly(b, r->importer, e, r->service)) {
                        broker_audit_event(b, &(AuditEvent){
                                                .from = r->importer,
                                                .to = r->exporter,
                                                .kind = "ipc",
                                                .op = "revoke",
                                                .object = r->service,
                                                .allow = false,
                                                .rule = "-",
                                                .reason = "policy reload revoked the grant; proxied connection closed",
                                        });
                        relay_drop(b, r);
                }
        }
}

static void relay_update_events(Broker *b, Relay *r) {
        for (int s = 0; s < 2; s++) {
                uint32_t ev = 0;
                struct epoll_event e;

                if (r->hup[s])
                        continue; /* no longer watched */                /* Read from end s while its outgoing pipe is empty and it
                 * has not ended; write to it while data waits for it. */
                if (!r->eof[s] && r->pending[s] == 0)
                        ev |= EPOLLIN;
                if (r->pending[!s] > 0)
                        ev |= EPOLLOUT;
                if (ev == r->end[s].src.events)
                        continue;
                e = (struct epoll_event){ .events = ev, .data.ptr = &r->end[s].src };
                if (epoll_ctl(b->epfd, EPOLL_CTL_MOD, r->end[s].src.fd, &e) == 0)
                        r->end[s].src.events = ev;
        }
}

/* End d has ended and all it sent is delivered: end !d's peer is told. */
static void relay_shut(Relay *r, int d) {
        if (r->eof[d] && r->pending[d] == 0 && !r->shut[d]) {
                (void) shutdown(r->end[!d].src.fd, SHUT_WR);
                r->shut[d] = true;
        }
}

/* Moves data from end d to end !d through pipe[d].  shut: pass end d's
 * end of stream on to end !d once all its data is there (not when the
 * caller may close end !d instead). */
static int relay_pump(Relay *r, int d, bool shut) {
        bool drained = false;

        for (;;) {
                ssize_t n;

                if (r->pending[d] > 0) {
                        n = splice(r->pipe[d][0], NULL, r->end[!d].src.fd, NULL, r->pending[d],
                                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                        if (n < 0)
                                return errno == EAGAIN ? 0 : -errno;
                        r->pending[d] -= (size_t) n;
                        if (r->pending[d] > 0)
                                return 0;
                }
                /* Less than a chunk came last time: end d had no more
                 * then, and the (level-triggered) loop says when it has
                 * (a read now would mostly answer EAGAIN).  Not for an
                 * end that hung up: it is no longer watched, and what it
                 * left is read to its end here. */
                if (r->eof[d] || (drained && !r->hup[d]))
                        break;
                n = splice(r->end[d].src.fd, NULL, r->pipe[d][1], NULL, RELAY_CHUNK,
                           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                if (n < 0)
                        return errno == EAGAIN ? 0 : -errno;
                if (n == 0) {
                        r->eof[d] = true;
                        break;
                }
                r->pending[d] += (size_t) n;
                drained = (size_t) n < RELAY_CHUNK;
        }
        if (shut)
                relay_shut(r, d);
        return 0;
}

void ipc_relay_event(Broker *b, RelayEnd *e, uint32_t events) {
        Relay *r = e->relay;
        int s = e->side;
        /* Only the directions this event can move: data from end s (it is
         * readable), data to end s (it is writable); both on an error or
         * a hangup, to see them out. */
        bool all = events & (EPOLLERR | EPOLLHUP);
        bool from_s = all || (events & EPOLLIN), to_s = all || (events & EPOLLOUT);

        if (r->dead)
                return;
        /* On a hangup, no shutdown() while pumping: mostly the relay ends
         * right below, and close() tells the other peer as much (waking it
         * once, not twice).  Otherwise they follow. */
        if ((from_s && relay_pump(r, s, !all) < 0) || (to_s && relay_pump(r, !s, !all) < 0)) {
                relay_drop(b, r);
                return;
        }
        if (all && r->pending[0] == 0 && r->pending[1] == 0 && (r->eof[0] || r->eof[1])) {
                relay_drop(b, r);
                return;
        }
        relay_shut(r, 0);
        relay_shut(r, 1);
        if (r->shut[0] && r->shut[1]) {
                relay_drop(b, r);
                return;
        }
        if (all && !r->hup[s]) {
                /* End s hung up with data of its still on the way (the
                 * other end is not reading): epoll would report the hangup
                 * on every turn, whatever we ask of it, and the loop would
                 * spin until the other end reads.  Not watched any more:
                 * the other end's EPOLLOUT moves the rest (relay_pump()
                 * reads s to its end), and a write to s fails, which ends
                 * the relay. */
                r->hup[s] = true;
                (void) epoll_ctl(b->epfd, EPOLL_CTL_DEL, r->end[s].src.fd, NULL);
                r->end[s].src.events = 0;
                /* What the hangup left in s, now that it is unwatched. */
                if (relay_pump(r, s, true) < 0 || (r->shut[0] && r->shut[1])) {
                        relay_drop(b, r);
                        return;
                }
        }
        relay_update_events(b, r);
}

/* A relay just watched: what the importer sent already goes on now, not
 * after another turn of the loop (a client writes as soon as its connect
 * returns, which is before the broker has accepted it, let alone connected
 * to the exporter).  One splice that answers EAGAIN when nothing came. */
static void relay_kick(Broker *b, Relay *r) {
        ipc_relay_event(b, &r->end[0], EPOLLIN);
}

/* Both ends watched: the relay runs. */
static void relay_watch(Broker *b, Relay *r) {
        if (broker_watch(b, &r->end[0].src, EPOLLIN) < 0 || broker_watch(b, &r->end[1].src, EPOLLIN) < 0) {
                relay_drop(b, r);
                return;
        }
        relay_kick(b, r);
}

void ipc_release_held(Broker *b) {
        for (Relay *r = b->relays, *next; r; r = next) {
                next = r->next;
                if (r->durable_seq && broker_audit_durable(b, r->durable_seq)) {
                        r->durable_seq = 0;
                        relay_watch(b, r);
                }
        }
}

/* ret_held: the relay is made but not watched (its ends wait), and
 * returned there for the caller to start with relay_watch(). */
static int relay_start(Broker *b, Container *importer, const char *exporter, const char *service, int in, int out,
                       RelayEnds ends, LimitState *limit, Relay **ret_held) {
        Relay *r;

        if ((ends == RELAY_ENDS_BLOCKING &&
             (fcntl(in, F_SETFL, O_NONBLOCK) < 0 || fcntl(out, F_SETFL, O_NONBLOCK) < 0)) ||
            !(r = calloc(1, sizeof(*r)))) {
                safe_close(in);
                safe_close(out);
                return -ENOMEM;
        }
        for (int d = 0; d < 2; d++)
                r->pipe[d][0] = r->pipe[d][1] = -1;
        r->end[0] = (RelayEnd){ .src = { .type = SRC_RELAY, .fd = in }, .relay = r, .side = 0 };
        r->end[1] = (RelayEnd){ .src = { .type = SRC_RELAY, .fd = out }, .relay = r, .side = 1 };
        for (int d = 0; d < 2; d++)
                if (relay_pipe_get(b, r->pipe[d]) < 0)
                        goto fail;
        r->importer = importer;
        r->exporter = strdup(exporter);
        r->service = strdup(service);
        if (!r->exporter || !r->service)
                goto fail;
        if (ret_held) {
                /* Not watched yet: relay_watch() later.  Held until told
                 * which record it waits for. */
                r->durable_seq = UINT64_MAX;
                *ret_held = r;
        } else {
                if (broker_watch(b, &r->end[0].src, EPOLLIN) < 0)
                        goto fail;
                if (broker_watch(b, &r->end[1].src, EPOLLIN) < 0) {
                        (void) epoll_ctl(b->epfd, EPOLL_CTL_DEL, r->end[0].src.fd, NULL);
                        goto fail;
                }
        }
        importer->n_relays++;
        r->limit = limit;
        if (limit)
                limit->open++;
        r->next = b->relays;
        b->relays = r;
        return 0;

fail:
        safe_close(r->end[0].src.fd);
        safe_close(r->end[1].src.fd);
        relay_pipes_put(b, r); /* nothing went through them */
        relay_free(r);
        return -ENOMEM;
}

int ipc_relay_start(Broker *b, Container *importer, const char *exporter, const char *service, int in, int out,
                    LimitState *limit) {
        return relay_start(b, importer, exporter, service, in, out, RELAY_ENDS_BLOCKING, limit, NULL);
}
