/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The broker's objects.  Every file descriptor in the event loop belongs to
 * a Source embedded in an object; epoll's data.ptr points at the Source.
 * Objects are never freed while events for them may still be pending in the
 * current batch: they are marked dead and swept after it. */

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <jansson.h>

#include "policy/policy.h"

#include "shuttle/broker.h"

/* Bounds on what one container may hold (invariant 5: a flooding container
 * slows only itself). */
#define BROKER_CLIENTS_PER_CONTAINER 64
#define BROKER_RELAYS_PER_CONTAINER 256
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
        SRC_RELOAD,           /* eventfd: a policy load finished (reload.c) */
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
        struct NameTable *names; /* processes of others RESOLVE named for it (resolve.c) */
        bool dead;
        Container *next;
};

/* A frame waiting to be sent, with the descriptor it carries (or -1). */
typedef struct OutFrame {
        struct OutFrame *next;
        int fd;
        size_t len;
        char buf[];
} OutFrame;

/* A client waits for one answer at a time, so it can owe at most a reply
 * and an EXIT event (and a farewell); more means it is not reading. */
#define BROKER_CLIENT_QUEUE_MAX 4u

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
        Container *importer;
        char *exporter;
        char *service;
        bool dead;
        LimitState *limit;  /* counted against a max_open grant */
        Relay *next;
};

typedef struct ControlConn {
        Source src;
        bool waiting;   /* its request waits for a policy load (reload.c) */
        struct ControlConn *next;
} ControlConn;

/* An app group's own policy, loaded by `shuttlectl run GROUP.yaml` while
 * the group runs.  Requests from the group's containers are decided by it;
 * everything else by the broker's --policy. */
typedef struct GroupPolicy {
        char *group;
        char *file;         /* the supervisor's copy, <state>/groups/G/policy.yaml */
        char *source;       /* the group file, absolute: what a reload reads
                             * again; NULL if not known */
        Policy *policy;
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
        Source timer;
        char *state_dir;
        char **policy_paths;
        size_t n_policy_paths;
        Policy *policy;
        GroupPolicy *group_policies;
        LimitState *limits;
        struct AuditLog *audit;
        char *audit_path;           /* absolute: what control's "audit-log" answers */
        struct AuditAgg *audit_agg; /* repeated denials, counted (audit-agg.h) */
        Container *containers;
        size_t n_containers;
        Client *clients;
        Relay *relays;
        ControlConn *controls;
        Invocation *invocations;
        uint64_t next_invocation_cgroup; /* for the names of their cgroups */
        Transfer *transfers;
        uint64_t next_xfer_id;
        uint64_t next_xfer_check_usec;
        DependMount *depend_mounts;
        uint64_t next_depend_id;
        uint64_t next_depend_check_usec;
        Garbage *garbage;
        RefusalBudget refusals;
        struct Reloader *reloader;
        char *notify_socket;    /* BrokerOptions.notify_socket */
        bool notify_reloading;  /* RELOADING=1 said, READY=1 not yet */
        bool quit;
};

/* accept.c: the only place a listening socket of the broker is accepted
 * (control.sock, every broker.sock, every proxy socket).  The peer is
 * checked first (a process of the container the socket belongs to; root
 * on the host for control.sock); a refused one is closed and audited
 * (rate-bounded), and only a checked one reaches the handlers below. */
typedef struct BrokerPeer {
        pid_t pid;
        uid_t uid;
        gid_t gid;
} BrokerPeer;
void broker_listener_event(Broker *b, Source *s);
/* On the broker's timer: says how many refusals were left unrecorded. */
void broker_refusals_tick(Broker *b, uint64_t now_usec);
/* The handlers of a checked connection; each takes fd. */
void broker_control_add(Broker *b, int fd);
void broker_client_add(Broker *b, Container *c, int fd, const BrokerPeer *peer);
/* The control socket's operations (broker.c), run by the pipeline's
 * control path: each answers with a reply, or NULL when the answer comes
 * later (a policy load). */
typedef struct ControlOp {
        const char *name;
        json_t *(*run)(Broker *b, ControlConn *cc, json_t *req);
} ControlOp;
extern const ControlOp broker_control_ops[];
void control_conn_close(Broker *b, ControlConn *cc);
/* pipeline.c: a request on a control connection. */
void pipeline_control_event(Broker *b, ControlConn *cc);
/* pipeline.c: a proxy socket's connection, as a CONNECT request. */
void pipeline_proxy_connect(Broker *b, Proxy *p, int fd);
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

/* reload.c: policy loads run on a worker thread, never on the loop.  The
 * requests queue a job and answer cc (if not NULL) when it is applied;
 * they return < 0 only if it could not be queued.  file NULL drops the
 * group's policy (in turn with the loads); source is the group file a
 * full reload reads the group's policy from again (NULL: never). */
typedef struct Reloader Reloader;
int reloader_new(Broker *b);
void reloader_free(Broker *b);
int reload_request(Broker *b, ControlConn *cc);
int reload_group_request(Broker *b, ControlConn *cc, const char *group, const char *file, const char *source);
void reload_event(Broker *b);
void reload_forget(Broker *b, ControlConn *cc);
/* A reload of the main policy (SIGHUP, `policy reload`) is queued or
 * running. */
bool reload_all_pending(const Broker *b);
/* Loads the --policy files (or the built-in deny-all) now, for startup. */
int reload_load_main(Broker *b, Policy **ret, char **ret_error);
/* At start, before the containers and their grants are re-adopted: the
 * policies of the app groups whose supervisor still runs, from the copies
 * the supervisors wrote (<state>/groups/G/policy.yaml), so that a restarted
 * broker decides for them as before (invariant 11). */
void reload_restore_groups(Broker *b);
GroupPolicy *group_policy_free(GroupPolicy *g);

/* registry.c */
Container *container_find(Broker *b, const char *name);
int container_register(Broker *b, json_t *request, Container **ret, char **ret_error);
void container_unregister(Broker *b, Container *c, const char *why);
void container_free(void *c);
int registry_readopt(Broker *b);
const Export *container_find_export(const Container *c, const char *name);
/* Field 22 of /proc/PID/stat, the start time: tells a process from a later
 * one that reused its pid. */
int proc_start_time(pid_t pid, uint64_t *ret);

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
void ipc_drop_relays_of(Broker *b, const Container *c);

/* apps.c: /run/shuttle/apps/<target>/<name>, the apps each container may
 * invoke in another by a literal path, as links to shuttle-invoke. */
/* Makes every container's apps/ match the policy (after a policy change or
 * a re-adoption), or the pairs that involve c (after c registered). */
void apps_sync(Broker *b);
void apps_sync_added(Broker *b, Container *c);
/* c is being unregistered: the others' entries for it go. */
void apps_sync_removed(Broker *b, Container *c);
/* Removes <dir>/apps/ and everything in it (a container's directory). */
void apps_remove_dir(const char *dir);
/* An INVOKE's bare app name (no '/'): the literal path of an allow invoke
 * rule from caller to `to` whose last component is name.  0 and the path
 * (malloc'd) in *ret, or 0 and NULL if no rule names one; -ENOENT and why
 * if the rules name several paths. */
int apps_resolve(Broker *b, const Container *caller, const char *to, const char *name, char **ret,
                 char *why, size_t why_size);

/* invoke.c */
void invoke_exited(Broker *b, Invocation *inv);
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
/* Calls fn for every process of target (its pid namespace exactly) whose
 * executable, as the target sees it, is app (an absolute path), or whose
 * name (/proc/PID/comm) is app (a bare name), with its pid as the broker
 * sees it.  Returns how many there were, or a negative errno. */
typedef void (*AppProcessFn)(pid_t pid, void *userdata);
int broker_for_each_app_process(const Container *target, const char *app, AppProcessFn fn, void *userdata);

/* Exported shared memory, message queues and FIFOs (shmq.c): OPEN_SHM,
 * OPEN_MQ and OPEN_FIFO (mediator.h). */
/* Frees what an export holds (its memfd too): the first n of exports. */
void exports_free(Export *exports, size_t n);
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
/* On the broker's timer: revokes transfers whose grant expired or that the
 * policy no longer allows. */
void transfer_tick(Broker *b, uint64_t now_usec);
json_t *transfer_control_ls(Broker *b);
json_t *transfer_control_revoke(Broker *b, json_t *req);
void transfer_drop_all(Broker *b);

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

/* grants.c: the books of live grants (transfers, depend mounts) kept on
 * disk under <state>/grants/, so that a broker restarted after a crash
 * lists and revokes them again (invariant 11).  A record is written when
 * the grant is made, before the caller hears yes, and removed when it is
 * revoked. */
typedef enum GrantKind {
        GRANT_TRANSFER,
        GRANT_DEPEND,
} GrantKind;
/* Writes (replaces) the record of grant id of kind; o's reference is
 * taken.  A negative errno if it could not be written: the grant is then
 * not made (a grant the broker would forget in a crash is not given). */
int grant_save(Broker *b, GrantKind kind, uint64_t id, json_t *o);
void grant_remove(Broker *b, GrantKind kind, uint64_t id);
/* A container as a record names it: name, group, pid and the pid's start
 * time (a later process with the same pid or a new container with the
 * same name is not it). */
json_t *grant_container_json(const Container *c);
/* The registered container a record's object names, or NULL. */
Container *grant_container_find(Broker *b, const json_t *o);
/* At start, after the containers were re-adopted (registry_readopt):
 * every record is read back and handed to transfer_restore() or
 * depend_restore(), which restore the grant to the books or tear down
 * what is left of it, audited.  The ids of new grants come after every
 * id found. */
void grants_restore(Broker *b);
/* One record (o; NULL if it could not be read or parsed): 0 if restored
 * to the books, else torn down (what could be found) and audited. */
int transfer_restore(Broker *b, uint64_t id, const json_t *o);
int depend_restore(Broker *b, uint64_t id, const json_t *o);
/* After the records: what is mounted under a container's
 * /run/shuttle/xfer/<id>/ with no transfer in the books (its record was
 * unreadable, or the broker died between the mount and the record) is
 * taken down and audited. */
void transfer_sweep_unrecorded(Broker *b);

void broker_client_event(Broker *b, Client *cl, uint32_t events);
void broker_drop_clients_of(Broker *b, Container *c);
