/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one door of every listening socket of the broker (invariant 9).
 *
 * control.sock, each container's broker.sock and the proxy sockets under
 * its svc/ are all SRC_*_LISTEN sources, and the event loop hands every one
 * of them to broker_listener_event(): this is the only accept() in the
 * broker (tests/check-accept.sh keeps it so).  A connection reaches its
 * handler only after its peer proved to be who the socket is for:
 *
 *   - a container's sockets (broker.sock, svc/<exporter>.<service>): a
 *     process of that container, i.e. of its pid namespace exactly;
 *   - control.sock: root in the broker's own pid namespace (the host).
 *
 * The file modes (0700 parents on the host, see control.h) keep the
 * paths out of reach; this check is what holds when a
 * path is reached anyway: through /proc/PID/root of a container process
 * by a host user with the same uid, a volume that exposes the state
 * directory, or a mode an operator loosened.
 *
 * What it cannot hold: a connection is judged by who made it (connect()
 * time, SO_PEERCRED).  A process that passes its connected descriptor to
 * another lends its own identity, as it could by relaying bytes itself; a
 * container lending its channel to a host process gives that process
 * nothing but the container's own rights, exercised inside the container
 * (invariant 4).  The reverse (a host process connecting and passing the
 * descriptor in) is refused here, whatever later holds it. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/time-util.h"
#include "shuttle/daemon/core.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5 */
#endif
#ifndef PIDFD_GET_PID_NAMESPACE
#define PIDFD_GET_PID_NAMESPACE _IO(0xFF, 5) /* Linux 6.11 */
#endif

/* Refused peers are audited, at most REFUSALS_BURST records at once and
 * REFUSALS_PER_SEC after that, broker-wide: a flood of connects costs the
 * flooder a syscall each, not the log.  What is left out is counted and
 * said in the next record, or on the timer once the flood stops. */
#define REFUSALS_BURST 20.0
#define REFUSALS_PER_SEC 10.0

static bool refusal_budget_take(RefusalBudget *rb, uint64_t now) {
        if (rb->last_usec == 0)
                rb->tokens = REFUSALS_BURST;
        else
                rb->tokens = MIN(REFUSALS_BURST,
                                 rb->tokens + (double) (now - rb->last_usec) * REFUSALS_PER_SEC / 1e6);
        rb->last_usec = now;
        if (rb->tokens < 1)
                return false;
        rb->tokens -= 1;
        return true;
}

static void audit_refused_peer(Broker *b, const Container *owner, const char *socket, const BrokerPeer *peer,
                               const char *reason) {
        RefusalBudget *rb = &b->refusals;
        json_t *extra;

        if (!refusal_budget_take(rb, clock_usec(CLOCK_MONOTONIC))) {
                rb->suppressed++;
                return;
        }
        extra = json_pack("{s:i, s:i}", "peer_pid", (int) peer->pid, "peer_uid", (int) peer->uid);
        if (extra && rb->suppressed > 0)
                json_object_set_new(extra, "suppressed", json_integer((json_int_t) rb->suppressed));
        rb->suppressed = 0;
        /* The record is about the socket's owner being reached, not about
         * anything it did: `to` names it, `from` stays empty (the peer is
         * nobody the policy knows). */
        broker_audit_event(b, &(AuditEvent){
                                .to = owner ? owner->name : NULL,
                                .kind = "protocol",
                                .op = "accept",
                                .object = socket,
                                .allow = false,
                                .rule = "-",
                                .reason = reason,
                                .extra = extra,
                                .self_bounded = true,
                        });
}

void broker_refusals_tick(Broker *b, uint64_t now) {
        RefusalBudget *rb = &b->refusals;

        if (rb->suppressed == 0 || !refusal_budget_take(rb, now))
                return;
        broker_audit_event(b, &(AuditEvent){
                                .kind = "protocol",
                                .op = "accept",
                                .allow = false,
                                .rule = "-",
                                .reason = "more connections refused by the peer check (not recorded one by one)",
                                .extra = json_pack("{s:I}", "suppressed", (json_int_t) rb->suppressed),
                                .self_bounded = true,
                        });
        rb->suppressed = 0;
}

/* The pid namespace of the process that connected.  With SO_PEERPIDFD the
 * answer is about that very process: asked of the pidfd itself (Linux
 * 6.11, one call and no /proc lookup; ESRCH once the peer is gone), or
 * else /proc/PID is opened first, then the pidfd shows the peer still
 * alive, so PID was not reused in between (a /proc/PID directory stays
 * bound to the process it was opened for).  Without it (before Linux
 * 6.5), a peer that exits at once could have its pid reused before we
 * look. */
static int peer_pidns(const BrokerPeer *peer, int pidfd, struct stat *ret) {
        _cleanup_close_ int procfd = -1;
        char path[32];

        if (pidfd >= 0) {
                _cleanup_close_ int ns = ioctl(pidfd, PIDFD_GET_PID_NAMESPACE, 0);

                if (ns >= 0)
                        return fstat(ns, ret) < 0 ? -errno : 0;
                if (errno == ESRCH)
                        return -ESRCH;
                /* ENOTTY and the like: a kernel without it. */
        }

        snprintf(path, sizeof(path), "/proc/%d", (int) peer->pid);
        procfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (procfd < 0)
                return -errno;
        if (pidfd >= 0 && pidfd_send_signal(pidfd, 0, NULL, 0) < 0)
                return -ESRCH;
        if (fstatat(procfd, "ns/pid", ret, 0) < 0)
                return -errno;
        return 0;
}

/* NULL if the peer is who the socket is for, else why not.  owner NULL:
 * the control socket. */
static const char *peer_check(int fd, const Container *owner, BrokerPeer *ret_peer) {
        struct ucred cred = {};
        socklen_t len = sizeof(cred);
        _cleanup_close_ int pidfd = -1;
        struct stat ns, want;
        int r;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return "no peer credentials";
        *ret_peer = (BrokerPeer){ .pid = cred.pid, .uid = cred.uid, .gid = cred.gid };
        /* pid 0: a peer in a pid namespace we do not see into. */
        if (cred.pid <= 0)
                return "peer outside every pid namespace the broker sees";
        len = sizeof(pidfd);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0) {
                pidfd = -1;
                if (errno != ENOPROTOOPT && errno != EINVAL)
                        return "peer exited before it could be checked";
        }
        r = peer_pidns(ret_peer, pidfd, &ns);
        if (r < 0)
                return "peer exited before it could be checked";
        if (owner) {
                if (ns.st_dev != owner->pidns_dev || ns.st_ino != owner->pidns_ino)
                        return "peer is not a process of this container";
                return NULL;
        }
        /* Only root on the host drives the broker: uid 0 of our user
         * namespace *and* our pid namespace, so that root of a container
         * that was given a path to control.sock (a volume of the state
         * directory) is still refused. */
        if (cred.uid != 0)
                return "peer is not root";
        if (stat("/proc/self/ns/pid", &want) < 0 || ns.st_dev != want.st_dev || ns.st_ino != want.st_ino)
                return "peer is not a process of the host";
        return NULL;
}

void broker_listener_event(Broker *b, Source *s) {
        Container *owner = NULL;
        Proxy *proxy = NULL;
        char socket[160];
        BrokerPeer peer = {};
        const char *why;
        int fd;

        switch (s->type) {
        case SRC_CONTROL_LISTEN:
                snprintf(socket, sizeof(socket), "control.sock");
                break;
        case SRC_CONTAINER_LISTEN:
                owner = (Container *) s;
                snprintf(socket, sizeof(socket), "/run/shuttle/broker.sock");
                break;
        case SRC_PROXY_LISTEN:
                proxy = (Proxy *) s;
                owner = proxy->importer;
                snprintf(socket, sizeof(socket), "/run/shuttle/svc/%s.%s", proxy->exporter, proxy->service);
                break;
        default:
                return;
        }
        /* One connection per event: the loop is level-triggered, so a busy
         * socket is served again on the next turn, after everyone else. */
        fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
                return;
        why = peer_check(fd, owner, &peer);
        if (why) {
                /* Closing refuses the peer before it could send a byte that
                 * is read, let alone reach a service. */
                close(fd);
                audit_refused_peer(b, owner, socket, &peer, why);
                return;
        }
        switch (s->type) {
        case SRC_CONTROL_LISTEN:
                broker_control_add(b, fd, &peer);
                break;
        case SRC_CONTAINER_LISTEN:
                broker_client_add(b, owner, fd, &peer);
                break;
        default:
                pipeline_proxy_connect(b, proxy, fd);
                break;
        }
}
