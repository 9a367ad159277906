/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The broker's API: what the mediators (mediator.h) may use of the
 * broker, and its objects.  The core's own declarations are in core.h,
 * which no mediator includes (tests/check-layers.sh).
 *
 * The broker's objects.  Every file descriptor in the event loop belongs to
 * a Source embedded in an object; epoll's data.ptr points at the Source.
 * Objects are never freed while events for them may still be pending in the
 * current batch: they are marked dead and swept after it. */

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/strmap.h"
#include "policy/policy.h"
#include "shuttle/host/policy-store.h"

#include "shuttle/daemon/broker.h"

/* Bounds on what one container may hold (invariant 5: a flooding container
 * slows only itself). */
#define BROKER_CLIENTS_PER_CONTAINER 64
#define BROKER_RELAYS_PER_CONTAINER 256
#define BROKER_RELAY_PIPES_KEPT 16 /* empty pipes of ended relays kept for the next (ipc.c) */
#define BROKER_EXPORTS_MAX 64
#define BROKER_CONTAINERS_MAX 4096
#define BROKER_INVOCATIONS_PER_CONTAINER 16 /* running invocations a container started */
#define BROKER_INVOKE_FDS_MAX 64 /* file arguments passed as descriptors per invocation */
#define BROKER_TRANSFERS_PER_CONTAINER 256  /* live transfers a container made */
/* Live transfers into one container: each is a mount in its namespace, and
 * many callers together must not fill it up to the kernel's mount limit
 * (fs.mount-max). */
#define BROKER_TRANSFERS_PER_TARGET 1024
/* Requests handled per client per loop turn: round-robin fairness. */
#define BROKER_REQUESTS_PER_TURN 1

typedef enum SourceType {
        SRC_CONTROL_LISTEN,
        SRC_CONTROL_CONN,
        SRC_SIGNAL,
        SRC_TIMER,
        SRC_CONTAINER_LISTEN, /* a container's broker.sock */
        SRC_CONTAINER_PIDFD,  /* the container's init: readable when it exits */
        SRC_CLIENT,           /* a connection on broker.sock */
        SRC_PROXY_LISTEN,     /* /run/shuttle/svc/<exporter>.<service> */
        SRC_RELAY,            /* one end of a proxied connection */
        SRC_INVOCATION,       /* an invoked app's pidfd: readable when it exits */
        SRC_ZYGOTE,           /* an invoke target's zygote (invoke.c): likewise */
        SRC_RELOAD,           /* eventfd: a policy load finished (reload.c) */
        SRC_AUDIT_SYNC,       /* eventfd: a batch of audit records is on disk (audit-sync.c) */
} SourceType;

typedef struct Source {
        SourceType type;
        int fd;
        uint32_t events;
        bool dead;
} Source;

typedef struct Container Container;
typedef struct Broker Broker;

typedef struct Export {
        char *name;
        char *socket;  /* unix socket path inside the exporter, or NULL */
        uint16_t port; /* TCP port on the exporter's loopback, if no socket */
        char *mq;      /* a POSIX message queue in the exporter's IPC namespace, or NULL */
        uint64_t shm_size; /* > 0: a shared-memory object of this size (shmq.c) */
        int shm_fd;    /* its memfd, made when it is first opened; -1 before */
        char *fifo;    /* a FIFO's path inside the exporter (it makes the FIFO), or NULL */
} Export;

/* Exports reached with CONNECT and the proxy sockets: unix sockets and TCP
 * ports (message queues, shared memory and FIFOs are opened with OPEN_MQ,
 * OPEN_SHM and OPEN_FIFO instead). */
static inline bool export_is_stream(const Export *e) {
        return e->socket || e->port > 0;
}

/* The type a policy's ipc rule names for it (`type: unix|tcp|fifo|mq|shm`). */
static inline PolicyIpcType export_ipc_type(const Export *e) {
        return e->socket ? POLICY_IPC_UNIX
             : e->mq     ? POLICY_IPC_MQ
             : e->shm_size > 0 ? POLICY_IPC_SHM
             : e->fifo   ? POLICY_IPC_FIFO
                               : POLICY_IPC_TCP;
}

typedef struct Proxy {
        Source src;
        Container *importer;
        char *exporter;
        char *service;
        char *path; /* host path of the listening socket */
        struct Proxy *next;
} Proxy;

struct Container {
        Source listen;
        Source pidfd;
        Broker *broker;
        char *name;
        char *group;  /* NULL outside app groups */
        char *qname;  /* "group/name" or "name": what the policy sees */
        pid_t pid;
        uint64_t start_time; /* /proc/PID/stat field 22, against pid reuse */
        dev_t pidns_dev;
        ino_t pidns_ino;
        Export *exports;
        size_t n_exports;
        char dir[PATH_MAX];
        unsigned n_clients;
        unsigned n_relays;
        Proxy *proxies;
        unsigned n_invocations; /* running, started by this container */
        unsigned n_transfers;   /* live, made by this container */
        unsigned n_transfers_in; /* live, into this container */
        unsigned n_asks;         /* its requests waiting for an operator (ask.c) */
        struct NameTable *names; /* processes of others RESOLVE named for it (resolve.c) */
        /* Learn mode, set by its registration (the operator's, never the
         * container's): what the policy denies by default is allowed and
         * recorded as "learn" (pipeline.c, learn_adjust()). */
        bool learn;
        /* Handles of its init, opened on first use, closed with it
         * (container_root_fd(), container_netns_fd()); -1 until then. */
        int root_fd;
        int netns_fd;
        struct InvokeZygote *zygote; /* invoke.c's helper inside it, once started */
        struct InvokeTarget *invoke; /* invoke.c's cache of it as a target, once invoked */
        bool dead;
        Container *next;
        Container **prev_next; /* what points to it in the broker's list (O(1) removal) */
        uint64_t partner_mark;  /* container_for_each_partner(): seen in this round */
        size_t n_named_by;      /* entries of names tables (resolve.c) for its processes, or more */
};

/* A frame waiting to be sent, with the descriptor it carries (or -1). */
typedef struct OutFrame {
        struct OutFrame *next;
        int fd;
        uint64_t durable_seq; /* not sent before this audit record is on disk (0: no wait) */
        size_t len;
        char buf[];
} OutFrame;

/* A client waits for one answer at a time, so it can owe at most a reply
 * and an EXIT event (and a farewell); more means it is not reading. */
#define BROKER_CLIENT_QUEUE_MAX 4u
/* Requests of one connection decided and waiting for their record to be
 * on disk before they are carried out (--audit-sync sync): more are
 * refused ("too many requests waiting for the audit log"). */
#define BROKER_CLIENT_PENDING_MAX 16u

typedef struct Client {
        Source src;
        Container *container;
        pid_t peer_pid;
        /* Frames the client has not taken yet (it stopped reading), in
         * order: a reply, and an invocation's EXIT event that came
         * meanwhile.  At most BROKER_CLIENT_QUEUE_MAX. */
        struct OutFrame *out_head, **out_tail;
        unsigned n_out;
        struct Invocation *invocation; /* running on this connection, or NULL */
        bool held;                     /* a frame waits for the audit log (on b->held_clients) */
        unsigned n_pending;            /* requests waiting to be carried out until the record of
                                        * their decision is on disk (pipeline.c) */
        struct Client *held_next;
        struct Client *next;
} Client;

/* The use a grant (a rule, for one caller) has had: `limit: { rate,
 * max_open }` of the policy are enforced against it. */
typedef struct LimitState {
        char *rule;
        char *from;
        double tokens;      /* rate: a token bucket of rate_count per interval */
        uint64_t last_usec;
        unsigned open;      /* max_open: proxied connections open now */
        uint64_t used;      /* uses: requests allowed so far (kept across
                             * reloads while the rule keeps its id) */
        struct LimitState *next;
} LimitState;


typedef struct Relay Relay;
typedef struct RelayEnd {
        Source src;
        Relay *relay;
        int side;
} RelayEnd;

struct Relay {
        RelayEnd end[2];   /* 0: importer side, 1: exporter side */
        int pipe[2][2];    /* pipe[d]: data flowing from end[d] to end[!d] */
        size_t pending[2]; /* bytes in pipe[d] */
        bool eof[2];       /* end[d] will send no more */
        bool shut[2];      /* end[!d]'s write side shut down after eof[d] */
        bool hup[2];       /* end[d] hung up: no longer watched (ipc.c) */
        Container *importer;
        char *exporter;
        char *service;
        bool dead;
        LimitState *limit;  /* counted against a max_open grant */
        uint64_t durable_seq; /* not relayed before this audit record is on disk (0: no wait) */
        Relay *next;
};

typedef struct ControlConn {
        Source src;
        uid_t peer_uid;  /* who drives it (accept.c checked): audited with */
        pid_t peer_pid;  /* an answer to an ask (ask.c) */
        bool waiting;   /* its request waits for a policy load (reload.c) */
        struct ControlConn *next;
} ControlConn;

/* A candidate policy loaded in shadow beside one in force (shadow.c): the
 * node's, or an app group's. */
typedef struct ShadowPolicy {
        Policy *policy;     /* NULL: none loaded */
        char digest[POLICY_DIGEST_LEN + 1];
        char **files;       /* what it was loaded from */
        size_t n_files;
} ShadowPolicy;

/* An app group's own policy, loaded by `shuttlectl run GROUP.yaml` while
 * the group runs.  Requests from the group's containers are decided by it;
 * everything else by the broker's --policy. */
typedef struct GroupPolicy {
        char *group;
        char *file;         /* the supervisor's copy, <state>/groups/G/policy.yaml */
        char *source;       /* the group file, absolute: what a reload reads
                             * again; NULL if not known */
        Policy *policy;
        char digest[POLICY_DIGEST_LEN + 1]; /* policy-store.h; "" if not known */
        ShadowPolicy shadow; /* `policy shadow --group`, copied to <state>/groups/G/shadow.yaml */
        struct GroupPolicy *next;
} GroupPolicy;

typedef struct Garbage {
        void *ptr;
        void (*free)(void *);
        struct Garbage *next;
} Garbage;

struct CgroupSub;

/* An app started by INVOKE, running inside its target container, in a
 * cgroup of its own below the target's (with everything it starts).  It
 * runs until the app exits or its caller goes (or the target, or the
 * broker); then it is ending: its cgroup is killed in rounds (invoke_tick)
 * until empty and removed, and only then is it counted no more, audited
 * and answered with EXIT. */
typedef struct Invocation {
        Source src;          /* pidfd of the app (our child); fd -1 once reaped */
        Client *client;      /* the caller's connection; NULL once it is gone */
        Container *caller;   /* NULL once it is unregistered */
        char *caller_name, *caller_group; /* for the audit record of its end */
        char *target;
        char *app;
        char *rule;
        uint32_t id;         /* the INVOKE's request id, for its EXIT event */
        pid_t pid;
        struct CgroupSub *cgroup; /* NULL once removed */
        Container *to;       /* the target; NULL once it is unregistered */
        bool ending;
        const char *end_why; /* static: why it ends */
        int status;          /* the app's wait status, once reaped */
        int cgroup_error;    /* < 0: its cgroup could not be ended */
        unsigned killed;     /* processes found in its cgroup besides the app */
        uint64_t *xfers;     /* transfers made for its file arguments */
        size_t n_xfers;
        LimitState *limit;   /* counted against its rule's max_open */
        struct Invocation *next;
} Invocation;

/* A path handed from one container to another: a bind mount inside the
 * target at /run/shuttle/xfer/<id>/<basename>. */
typedef struct Transfer {
        uint64_t id;
        Container *from;     /* NULL once unregistered (then it is revoked) */
        Container *to;
        char *from_name, *to_name;
        char *path;          /* in from's view, normalised */
        char *target_path;   /* in to's view */
        char *as;            /* the rule's `as` it was placed at, or NULL */
        struct XferPlace *place; /* with `as`: what was done there (xfer.h) */
        char *rule;
        int mode;            /* ShuttleTransferMode */
        bool for_invoke;     /* made for an invocation's file argument */
        bool is_dir;
        LimitState *limit;   /* counted against its rule's max_open */
        int64_t created;     /* seconds since the epoch */
        int64_t until;       /* 0: none */
        uint64_t mnt_id;     /* the mount it made in the target (grants.c), 0: unknown */
        struct Transfer *next;
} Transfer;

/* A tree that container `to` provides, mounted in `from` at `at` by a
 * depend grant (depend.c). */
typedef struct DependMount {
        Container *from;     /* gets the tree */
        Container *to;       /* provides it */
        char *path;          /* in to's view */
        char *at;            /* in from's view */
        char *glob;          /* the rule's path glob that path matched, or NULL */
        char *glob_at;       /* ... and that rule's `at`, or NULL */
        char *rule;
        bool rw;
        uint64_t id;         /* names its record under <state>/grants/ */
        uint64_t mnt_id;     /* the mount it made in from */
        struct DependMount *next;
} DependMount;

struct AuditLog;

/* Records of refused peers (accept.c): a token bucket, and how many were
 * left out since the last record. */
typedef struct RefusalBudget {
        double tokens;
        uint64_t last_usec;
        uint64_t suppressed;
} RefusalBudget;

struct Broker {
        int epfd;
        char limit_why[192];   /* broker_limit_rate()'s last reason */
        uint64_t child_nofile; /* BrokerOptions.child_nofile */
        Source control;
        struct stat control_st; /* control.sock as bound: removed at exit if still ours */
        Source signal;
        int self_netns;         /* the broker's own network namespace, to come back to */
        Source timer;           /* one-shot, armed only while a tick has work (broker_timer_rearm()) */
        uint64_t timer_armed_usec; /* CLOCK_MONOTONIC deadline it is armed for, 0: disarmed */
        uint64_t n_wakeups;     /* turns of the loop, for status and tests */
        char *state_dir;
        char **policy_paths;
        size_t n_policy_paths;
        char *approved_file;    /* BrokerOptions.approved_file, absolute; NULL: none */
        char *dropin_dir;       /* its directory: loaded after policy_paths when it
                                 * has *.yaml or *.yml files */
        Policy *policy;
        char policy_digest[POLICY_DIGEST_LEN + 1]; /* policy-store.h; "" if not known */
        GroupPolicy *group_policies;
        ShadowPolicy shadow;        /* the candidate beside the node's policy (shadow.c) */
        LimitState *limits;
        struct AuditLog *audit;
        char *audit_path;           /* absolute: what control's "audit-log" answers */
        struct AuditAgg *audit_agg; /* repeated denials, counted (audit-agg.h) */
        Container *containers;
        size_t n_containers;
        StrMap containers_by_name;  /* the live ones of containers, by name (container_find()) */
        size_t n_learning;          /* of them, how many are in learn mode */
        uint64_t partner_round;     /* container_for_each_partner() */
        Client *clients;
        Relay *relays;
        int relay_pipes[BROKER_RELAY_PIPES_KEPT][2]; /* empty, for the next relays (ipc.c) */
        unsigned n_relay_pipes;
        ControlConn *controls;
        Invocation *invocations;
        uint64_t next_invocation_cgroup; /* for the names of their cgroups */
        struct InvokeZygote *zygotes; /* every zygote not reaped yet (invoke.c) */
        struct InvokePrepared *prepared; /* invocations ready while their record syncs (invoke.c) */
        bool zygote_looked;     /* for shuttle-zygote, on the first invoke: */
        int zygote_program;     /* its file, O_PATH (-1: not found, not used) */
        Transfer *transfers;
        uint64_t next_xfer_id;
        uint64_t next_xfer_check_usec;
        DependMount *depend_mounts;
        uint64_t next_depend_id;
        uint64_t next_depend_check_usec;
        Garbage *garbage;
        struct Ask *asks;             /* requests waiting for an operator (ask.c) */
        unsigned n_asks;
        uint64_t next_ask_id;
        struct AskGrant *ask_grants;  /* `ask allow --for`: until they expire */
        uint64_t next_ask_grant_id;
        RefusalBudget refusals;
        struct AuditSyncer *syncer; /* --audit-sync sync: the group commit (audit-sync.c); NULL: batch */
        Client *held_clients;       /* with a reply waiting for the audit log */
        struct Pending *pending;    /* decided, carried out once their record is on disk (pipeline.c) */
        struct Reloader *reloader;
        char *notify_socket;    /* BrokerOptions.notify_socket */
        bool notify_reloading;  /* RELOADING=1 said, READY=1 not yet */
        bool quit;
};

/* pipeline.c: an invocation's EXIT event (the only frame not a reply). */
void pipeline_send_exit(Broker *b, Client *cl, uint32_t id, int wait_status);

/* broker.c */
int broker_watch(Broker *b, Source *s, uint32_t events);
void broker_unwatch(Broker *b, Source *s);
void broker_defer_free(Broker *b, void *ptr, void (*free_fn)(void *));

typedef struct AuditEvent {
        const Container *from;
        const char *to;
        const char *kind;
        const char *op;
        const char *object;
        bool allow;
        bool learn; /* allowed only by learn mode: decision "learn" */
        const char *rule;
        const char *reason;
        json_t *extra; /* reference is taken */
        /* Its producer bounds such records itself and counts the ones it
         * leaves out (the peer check's refusals): not aggregated again. */
        bool self_bounded;
} AuditEvent;
/* Writes a record of what happens to a grant outside any request (a
 * revoke, an end, a restore, a refused peer).  The record of a request is
 * the pipeline's (mediator.h): mediators never write it. */
void broker_audit_event(Broker *b, const AuditEvent *e);
/* The rule's `limit` for one caller: NULL if the request it allowed is
 * within them (a rate token is taken), else why not (in why, or a static
 * text).  With max_open, *ret_limit is the count to raise while the grant
 * is in use (and lower when it ends); NULL otherwise. */
const char *broker_limits_admit(Broker *b, const Container *from, const PolicyDecision *d, LimitState **ret_limit,
                                char *why, size_t size);
/* For requests that leave nothing open (signals, names): an allow that
 * is over its rule's rate becomes a deny, audited, with the reason (which
 * lives until the next call). */
void broker_limit_rate(Broker *b, const Container *from, PolicyDecision *d);
/* The policy that decides requests from `from` (its group's, if loaded). */
const Policy *broker_policy_for(const Broker *b, const Container *from);
/* Its digest (policy-store.h), which audit records carry as "policy";
 * NULL if not known. */
const char *broker_policy_digest_for(const Broker *b, const Container *from);

/* audit-sync.c: with --audit-sync sync, the seq of the last record written
 * if it is not on disk yet (what an allowed action done now must wait
 * for), else 0; and whether a seq is on disk (0 always is). */
uint64_t broker_audit_hold_seq(const Broker *b);
bool broker_audit_durable(const Broker *b, uint64_t seq);

/* registry.c */
Container *container_find(Broker *b, const char *name);
/* fn(b, t, userdata) for every other live container t whose pair with c a
 * rule of kind k could concern, c being the pair's 'from' (c_is_from) or
 * its 'to'; every other pair is decided by a default deny (see
 * policy_for_each_partner()).  Looks at the policies that decide such
 * pairs (c's as 'from'; as 'to', the node's and every group's) and at
 * learn mode (a learning 'from' may be allowed anything).  Rules naming c
 * and another container by name cost a lookup each, so registering a
 * container costs the same with 10 or 1000 others; a pattern that could
 * pair c with anyone costs a walk over all. */
typedef void (*ContainerPartnerFn)(Broker *b, Container *t, void *userdata);
void container_for_each_partner(Broker *b, Container *c, PolicyKind k, bool c_is_from, ContainerPartnerFn fn,
                                void *userdata);
const Export *container_find_export(const Container *c, const char *name);
/* Handles of a container's init for connecting inside it, opened on the
 * first use through /proc/PID and checked against the pidfd taken when it
 * registered (so they are that very process's, never a later one's that
 * reused its pid), then kept while it stays registered: closed with it,
 * so a container registered again (restarted, re-adopted by a restarted
 * broker) gets new ones.  container_root_fd(): its root directory
 * (O_PATH), taken only once it is no longer the host's (-EAGAIN before
 * its init has pivoted); container_netns_fd(): its network namespace.
 * The descriptor stays the container's; a negative errno on failure. */
int container_root_fd(Container *c);
int container_netns_fd(Container *c);

/* An INVOKE's bare app name (no '/'): the literal path of an allow invoke
 * rule from caller to `to` whose last component is name.  0 and the path
 * (malloc'd) in *ret, or 0 and NULL if no rule names one; -ENOENT and why
 * if the rules name several paths. */
int apps_resolve(Broker *b, const Container *caller, const char *to, const char *name, char **ret,
                 char *why, size_t why_size);

/* procs.c: */
/* Calls fn for every process of target (its pid namespace exactly) whose
 * executable, as the target sees it, is app (an absolute path), or whose
 * name (/proc/PID/comm) is app (a bare name), with its pid as the broker
 * sees it.  Returns how many there were, or a negative errno. */
typedef void (*AppProcessFn)(pid_t pid, void *userdata);
int broker_for_each_app_process(const Container *target, const char *app, AppProcessFn fn, void *userdata);

/* Whether process pid (as a /proc name) is in c's pid namespace. */
bool broker_proc_in_pidns(const char *pid, const Container *c);
/* Its executable as its own container sees it (/proc/PID/exe). */
int broker_proc_exe(const char *pid, char *buf, size_t size);

/* Who is calling on a connection (SO_PEERCRED, and its groups). */
typedef struct CallerCreds {
        uid_t uid;
        gid_t gid;
        gid_t groups[64];
        size_t n_groups;
} CallerCreds;
int broker_client_creds(const Client *cl, CallerCreds *ret);
/* Makes path (normalised, in from's view) visible in to with mode, if the
 * caller may access it so itself.  Returns 0 and the transfer, or a
 * negative errno with *ret_why set (static text for the audit log). */
int transfer_create(Broker *b, Container *from, const CallerCreds *caller, Container *to, const char *path,
                    int mode, const char *rule, int64_t until, bool for_invoke, Transfer **ret,
                    const char **ret_why);
/* The same, placed at `as` (absolute, normalised; NULL: at
 * /run/shuttle/xfer/<id>/<basename>) in to's root. */
int transfer_create_as(Broker *b, Container *from, const CallerCreds *caller, Container *to, const char *path,
                       int mode, const char *as, const char *rule, int64_t until, bool for_invoke,
                       Transfer **ret, const char **ret_why);
/* The same checks, but instead of a mount a descriptor of it, for an
 * invoked app (INVOKE's SHUTTLE_INVOKE_FILES_AS_FDS): O_RDONLY (ro),
 * O_RDWR (rw), O_RDONLY | O_DIRECTORY for a directory; opened through a
 * detached clone of its mount (xfer_open_detached()).  Nothing is kept of
 * it: the descriptor cannot be revoked. */
int transfer_open_fd(Container *from, const CallerCreds *caller, const char *path, int mode, int *ret_fd,
                     const char **ret_why);
void transfer_revoke(Broker *b, Transfer *t, const char *why);
Transfer *transfer_find(Broker *b, uint64_t id);
/* The `until` of the rule that allowed it (0: none). */
int64_t transfer_rule_until(const PolicyDecision *d);
/* grants.c: the books of live grants (transfers, depend mounts) kept on
 * disk under <state>/grants/, so that a broker restarted after a crash
 * lists and revokes them again (invariant 11).  A record is written when
 * the grant is made, before the caller hears yes, and removed when it is
 * revoked. */
typedef enum GrantKind {
        GRANT_TRANSFER,
        GRANT_DEPEND,
        GRANT_ASK,      /* `ask allow --for` (ask.c) */
} GrantKind;
/* Writes (replaces) the record of grant id of kind; o's reference is
 * taken.  A negative errno if it could not be written: the grant is then
 * not made (a grant the broker would forget in a crash is not given). */
int grant_save(Broker *b, GrantKind kind, uint64_t id, json_t *o);
void grant_remove(Broker *b, GrantKind kind, uint64_t id);
/* The `limit: {uses: N}` counts (b->limits with used > 0), written whole to
 * <state>/uses.json (temporary file, fsync, rename) each time one grows,
 * before the request it counts is carried out: a restarted broker goes on
 * counting where its predecessor was (a restart is no way around a limit).
 * A negative errno if it could not be written. */
int limits_save(Broker *b);
/* A container as a record names it: name, group, pid and the pid's start
 * time (a later process with the same pid or a new container with the
 * same name is not it). */
json_t *grant_container_json(const Container *c);
/* The registered container a record's object names, or NULL. */
Container *grant_container_find(Broker *b, const json_t *o);
