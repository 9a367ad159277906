/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The mediator interface: what a kind of request supplies to the one
 * pipeline every request goes through (pipeline.c).
 *
 * Whatever socket a request came in on (a container's broker.sock, one of
 * its proxy sockets under /run/shuttle/svc/), the pipeline takes the same
 * steps, in this order, and no mediator can skip or reorder them:
 *
 *   1. identify the caller from the channel (accept.c checked the peer;
 *      the container is the socket's, never what the frame says);
 *   2. decode the frame (protocol.c; a malformed one drops the peer);
 *   3. build the policy request        (MediatorOps.build)
 *   4. decide, with the rule's limits  (pipeline: policy_decide(),
 *                                       shadow_decide() beside it, never
 *                                       enforced; broker_limits_admit())
 *   5. carry out an allowed request    (MediatorOps.carry_out)
 *   6. audit: one record per decided request, with the deciding rule, and
 *      with the outcome: an error after an allow is on record too.  With
 *      --audit-sync sync, a request whose carry_out acts (MediatorOps.acts)
 *      has two: its decision ("phase": "decided"), on disk before step 5,
 *      and its outcome ("decided": that record's seq) after it
 *   7. reply                           (pipeline; MediatorOps.undo if the
 *                                       answer cannot be delivered)
 *
 * Mediators fill a Request and return; they cannot answer the caller or
 * write a request's audit record themselves: those functions are static in
 * pipeline.c and declared nowhere.  (broker_audit_event() records what
 * happens to a grant later, outside any request: a revoke, an end.)
 *
 * A new kind of request is one new file with its MediatorOps and one entry
 * in the table in pipeline.c. */

#include <limits.h>
#include <stdalign.h>
#include <stddef.h>

#include <jansson.h>

#include "policy/policy.h"
#include "shuttle/client/protocol.h"

#include "shuttle/daemon/broker-api.h"

/* What build says about the request. */
enum {
        /* 0: decide it by the policy (or by the decision build preset). */
        REQUEST_UNDECIDED = 1, /* nothing to decide (the caller's own
                                * session: HELLO, KILL_INVOKED, a pid
                                * probe): carried out, not audited */
};

#define REQUEST_WHY_MAX 512
#define REQUEST_STATE_MAX (16 * 1024)

typedef struct Request {
        /* Set by the pipeline, from the channel and the decoder. */
        Broker *broker;
        Container *from;          /* the caller: the socket's container */
        Client *client;           /* its broker.sock connection; NULL on a proxy socket */
        const ShuttleMsg *msg;    /* the decoded frame (a CONNECT for a proxy socket's connection) */
        int *fds;                 /* the descriptors it carried (a proxy socket's: the
                                   * accepted connection); carry_out takes one by setting
                                   * it to -1, the pipeline closes the rest */
        size_t n_fds;

        /* Set by build (kind and op default to the table's). */
        PolicyRequest policy;     /* .from and .now are the pipeline's */
        const char *kind, *op;    /* for the audit record */
        const char *to;           /* the other container, as named in the record */
        char object[PATH_MAX + 32];
        bool preset;              /* build decided itself (d): a grant that needs no rule, or
                                   * a refusal the policy is not asked about */
        PolicyDecision d;         /* the decision (the pipeline's unless preset) */
        PolicyDecision shadow;    /* the candidate's, never enforced (shadow.c) */
        bool has_shadow;          /* there is a candidate and shadow is its decision */
        bool learned;             /* allowed by the caller's learn mode, not by d's rule */

        /* Set by the pipeline when it allows: the grant's max_open count,
         * for carry_out to raise while what it opens lives (NULL: none). */
        LimitState *limit;
        /* Carried out after the record of its decision (this seq) was on
         * disk: the outcome's record names it (0: one record). */
        uint64_t decided_seq;
        /* What prepare made of it while that record was synced (NULL:
         * nothing): carry_out may use it (and empty it); the pipeline
         * hands what is left to unprepare. */
        void *prepared;

        /* Set by build or carry_out. */
        char why[REQUEST_WHY_MAX]; /* a refusal or failure other than the policy's */
        json_t *extra;            /* more for the audit record (request_extra()) */
        ShuttleMsg reply;         /* the answer on success; type 0: REPLY with status 0 */
        int reply_fd;             /* passed with it (and closed), or -1 */

        /* The mediator's own, from build to done (REQUEST_STATE()). */
        alignas(max_align_t) char state[REQUEST_STATE_MAX];
} Request;

#define REQUEST_STATE(r, type)                                                                          \
        (__extension__({                                                                                \
                _Static_assert(sizeof(type) <= REQUEST_STATE_MAX, "mediator state too large");          \
                (type *) (void *) (r)->state;                                                           \
        }))

typedef struct MediatorOps {
        uint16_t type;            /* SHUTTLE_MSG_* it handles */
        const char *kind, *op;    /* the audit record's, unless build says otherwise */
        int denied_errno;         /* the answer to a denied request: EACCES (signals: EPERM) */
        /* carry_out acts beyond the answer it prepares (starts a program,
         * mounts, sends a signal).  With --audit-sync sync such a request,
         * once allowed, is carried out only when a record of its decision
         * is on disk (pipeline.c); what only the answer hands over (a
         * descriptor) waits with the answer instead. */
        bool acts;
        /* Fills r->policy (kind, to, object, …) and the record's names from
         * r->msg.  Returns 0 (decide), REQUEST_UNDECIDED, or a negative
         * errno: refused before the policy is asked (r->why says why; the
         * record names rule "-" unless build set r->d.rule_id). */
        int (*build)(Request *r);
        /* An allowed (or undecided) request: does it.  0 with r->reply
         * set (or not: REPLY 0), or a negative errno with r->why. */
        int (*carry_out)(Request *r);
        /* The answer to a request carried out could not be delivered:
         * takes back what carry_out granted.  May be NULL. */
        void (*undo)(Request *r);
        /* acts, parked: its decision's record is written and being synced.
         * May start what carry_out will do, as long as nothing of it can
         * be seen before carry_out (a process forked and set up, that
         * waits before its exec): returns that (r->prepared for carry_out
         * later), or NULL.  With unprepare, which undoes what carry_out
         * did not take (the request was refused, dropped).  May be NULL. */
        void *(*prepare)(Request *r);
        void (*unprepare)(Broker *b, void *prepared);
        /* Frees what build and carry_out kept in r->state.  May be NULL. */
        void (*done)(Request *r);
} MediatorOps;

/* r->extra, made if needed (NULL if out of memory). */
json_t *request_extra(Request *r);

/* The mediators' tables (one file each). */
extern const MediatorOps ipc_connect_ops;     /* ipc.c: CONNECT, proxy sockets */
extern const MediatorOps signal_ops;          /* signal.c: SIGNAL */
extern const MediatorOps invoke_ops;          /* invoke.c: INVOKE */
extern const MediatorOps kill_invoked_ops;    /* invoke.c: KILL_INVOKED */
extern const MediatorOps transfer_ops;        /* transfer.c: TRANSFER */
extern const MediatorOps resolve_ops;         /* resolve.c: RESOLVE */
extern const MediatorOps signal_pid_ops;      /* resolve.c: SIGNAL_PID */
extern const MediatorOps open_shm_ops;        /* shmq.c: OPEN_SHM */
extern const MediatorOps open_mq_ops;         /* shmq.c: OPEN_MQ */
extern const MediatorOps open_fifo_ops;       /* shmq.c: OPEN_FIFO */

/* What the mediators offer the core besides their tables: their part of
 * a container's coming and going, of policy changes, of the broker's
 * timer and of its end. */
/* ipc.c */
/* Relays between in (the importer's side) and out (the exporter's). */
int ipc_relay_start(Broker *b, Container *importer, const char *exporter, const char *service, int in, int out,
                    LimitState *limit);
void ipc_sync_proxies(Broker *b);
void ipc_sync_proxies_added(Broker *b, Container *c);
void ipc_sync_proxies_removed(Broker *b, Container *c);
void ipc_drop_proxies(Broker *b, Container *c);
void ipc_relay_event(Broker *b, RelayEnd *e, uint32_t events);
void ipc_relays_recheck(Broker *b);
/* Starts the proxied connections whose records are now on disk
 * (--audit-sync sync). */
void ipc_release_held(Broker *b);
void ipc_drop_relays_of(Broker *b, const Container *c);
/* The empty pipes kept for relays: closed when the broker ends. */
void ipc_relay_pipes_free(Broker *b);


/* invoke.c */
void invoke_exited(Broker *b, Invocation *inv);
/* A target's zygote (invoke.c) has ended: reaped at once (a zombie in the
 * container's pid namespace would keep its pid 1 from exiting). */
struct InvokeZygote;
void invoke_zygote_exited(Broker *b, struct InvokeZygote *z);

/* invoke-zygote.c: invoke.c's use of a target's zygote, a process already
 * inside the target that makes each invocation one fork (runtime/zygote.h). */
struct CgroupSub;
struct ExecConfig;
struct StateInfo;
struct ZygoteChild;
/* The app through target's zygote (started now if it has none): 0, or a
 * negative errno and why; 1 if there is no zygote to use, so the join path
 * is next.  With prepare, up to its exec only (container_zygote_prepare():
 * *prepare filled); else started (*ret_pid, *ret_pidfd). */
int invoke_spawn_in_zygote(Broker *b, Container *target, const struct StateInfo *info,
                           const struct ExecConfig *cfg, const int *stdio, struct CgroupSub *cg,
                           struct ZygoteChild *prepare, pid_t *ret_pid, int *ret_pidfd, char *why, size_t why_size);
/* Kills c's zygote; reaped now if it has ended already, or when its pidfd
 * says so. */
void invoke_zygote_drop(Broker *b, Container *c);
/* The broker is going: every container's zygote killed, reaped if quick,
 * and the zygote program's file closed. */
void invoke_zygotes_drop_all(Broker *b);
/* The caller's connection is going: its app is killed (and reaped later). */
void invoke_client_gone(Broker *b, Client *cl);
/* A container is being unregistered: what refers to it lets go. */
void broker_forget_container(Broker *b, Container *c);
/* Kills and removes what is left of ending invocations (one round each,
 * on the broker's timer). */
void invoke_tick(Broker *b);
/* Every invocation cgroup a previous broker left in c's cgroups: killed,
 * removed and audited (at re-adoption). */
void invoke_reap_leftovers(Broker *b, Container *c);
void invoke_drop_all(Broker *b);



/* Names of another container in the caller's view (resolve.c): RESOLVE,
 * and SIGNAL_PID to a process a RESOLVE named (mediator.h). */
/* c is being unregistered: the processes of c named for others, and those
 * named for c, are forgotten. */
void resolve_forget_container(Broker *b, Container *c);
/* Frees a container's table (container_free()). */
void resolve_table_free(struct NameTable *t);

/* Exported shared memory, message queues and FIFOs (shmq.c): OPEN_SHM,
 * OPEN_MQ and OPEN_FIFO (mediator.h). */
/* Frees what an export holds (its memfd too): the first n of exports. */
void exports_free(Export *exports, size_t n);

/* depend.c: trees mounted by depend grants while both containers run. */
/* Mounts what the policy grants and takes away what it no longer does,
 * for every pair of containers (after a policy change) or for the pairs
 * that involve c (after c registered). */
void depend_sync(Broker *b);
void depend_sync_added(Broker *b, Container *c);
/* c is being unregistered: its trees leave the containers that had them. */
void depend_forget_container(Broker *b, Container *c);
/* On the broker's timer: takes away trees whose grant expired ('until'). */
void depend_tick(Broker *b, uint64_t now_usec);
void depend_drop_all(Broker *b);


/* depend.c: one depend grant's record read back at start (grants.c). */
int depend_restore(Broker *b, uint64_t id, const json_t *o);

/* pipeline.c: the table, for tests that run every kind through it. */
const MediatorOps *pipeline_ops_for(uint16_t type);
