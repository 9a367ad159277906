/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The broker's core: the event loop (broker.c), the one door of its
 * sockets (accept.c), the pipeline of requests (pipeline.c), containers'
 * registration (registry.c), policy loads (reload.c), the books of grants
 * on disk (grants.c) and of transfers (transfers.c), the apps/ links
 * (apps.c).  Mediators never include this: they see the broker through
 * broker-api.h, and the core sees them through mediator.h. */

#include "shuttle/daemon/broker-api.h"
#include "shuttle/daemon/mediator.h"

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
void broker_control_add(Broker *b, int fd, const BrokerPeer *peer);
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
/* pipeline.c: sends the replies whose audit records are now on disk. */
void pipeline_release_held(Broker *b);
/* --audit-sync sync: the requests whose decision's record is now on disk
 * are carried out (error 0), or, the sync having failed with error, those
 * whose record is not are refused. */
void pipeline_release_pending(Broker *b, int error);
/* The broker stops: what waits to be carried out is not (audited). */
void pipeline_drop_pending(Broker *b);

/* audit-sync.c: the group commit of --audit-sync sync, with a thread that
 * fdatasync()s the batches.  start/stop with the broker; kick at the end of
 * each turn of the loop (hands over what was written); event when the
 * thread's eventfd is readable (lets go of what waited). */
typedef struct AuditSyncer AuditSyncer;
int audit_syncer_start(Broker *b);
void audit_syncer_stop(Broker *b);
void audit_syncer_kick(Broker *b);
void audit_syncer_event(Broker *b);
/* When a failed sync is tried again (the broker's timer), UINT64_MAX: none. */
uint64_t audit_syncer_next_usec(const Broker *b);

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
/* Loads paths (none: the built-in deny-all); on error, *ret_error the
 * diagnostics as text.  Any thread. */
int reload_load_files(const char *const *paths, size_t n_paths, Policy **ret, char **ret_error);
/* A shadow policy's load (paths, taken) or, with NULL, its drop, in turn
 * with the other loads: the node's (group NULL) or a group's. */
int reload_shadow_request(Broker *b, ControlConn *cc, const char *group, char **paths);

/* groups.c: the app groups' own policies the broker holds. */
GroupPolicy *group_policy_find(Broker *b, const char *group);
GroupPolicy *group_policy_free(GroupPolicy *g);
/* The group's policy is dropped (its group stopped): out of the list, its
 * shadow policy dropped with it (audited, its copy removed), freed. */
void group_policy_drop(Broker *b, GroupPolicy *g, const char *why);
/* At start, before the containers and their grants are re-adopted: the
 * policies of the app groups whose supervisor still runs, from the copies
 * the supervisors wrote (<state>/groups/G/policy.yaml), and their shadow
 * policies (<state>/groups/G/shadow.yaml), so that a restarted broker
 * decides for them as before (invariant 11). */
void reload_restore_groups(Broker *b);

/* shadow.c: the candidate's decision beside the enforcing one, the node's
 * (group NULL) or a group's. */
/* Worker: loads paths and writes the copy's .new beside it. */
int shadow_load(const char *state_dir, const char *group, const char *const *paths, size_t n_paths, Policy **ret,
                char ret_digest[static POLICY_DIGEST_LEN + 1], char **ret_error);
/* Loop: puts a load's result in place (or says why not), audited; the
 * reply.  Takes *policy and *paths_take when it succeeds. */
json_t *shadow_apply(Broker *b, const char *group, int r, Policy **policy, char ***paths_take, size_t n_paths,
                     const char digest[static POLICY_DIGEST_LEN + 1], const char *error);
json_t *shadow_clear(Broker *b, const char *group);
/* A group's shadow policy goes with its policy: audited (reason why), the
 * copy removed. */
void shadow_drop_group(Broker *b, GroupPolicy *g, const char *why);
/* The reply saying what is loaded: the node's and every group's (group
 * NULL), or the group's. */
json_t *shadow_status_json(Broker *b, const char *group);
void shadow_policy_done(ShadowPolicy *s);
/* At start: the copy under <state>/ (g NULL) or <state>/groups/G/, if any. */
void shadow_restore(Broker *b, GroupPolicy *g);
json_t *shadow_control_op(Broker *b, ControlConn *cc, json_t *req);
/* r->shadow and r->has_shadow, after the enforcing policy decided r->d. */
void shadow_decide(Broker *b, const Policy *enforcing, Request *r);


/* registry.c */
int container_register(Broker *b, json_t *request, Container **ret, char **ret_error);
void container_unregister(Broker *b, Container *c, const char *why);
void container_free(void *c);
int registry_readopt(Broker *b);

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

/* grants.c */
/* At start, after the containers were re-adopted (registry_readopt):
 * every record is read back and handed to transfer_restore() or
 * depend_restore(), which restore the grant to the books or tear down
 * what is left of it, audited.  The ids of new grants come after every
 * id found. */
void grants_restore(Broker *b);
/* grants.c: the uses counts of a previous broker, back in b->limits. */
void limits_restore(Broker *b);
/* broker.c: the use of rule by the container named from (made if new). */
LimitState *broker_limit_get(Broker *b, const char *rule, const char *from);
/* ask.c: an `ask allow --for` grant's record read back at start
 * (grants.c); negative: the record is removed. */
int ask_grant_restore(Broker *b, uint64_t id, const json_t *o);
/* One record (o; NULL if it could not be read or parsed): 0 if restored
 * to the books, else torn down (what could be found) and audited. */
int transfer_restore(Broker *b, uint64_t id, const json_t *o);
/* After the records: what is mounted under a container's
 * /run/shuttle/xfer/<id>/ with no transfer in the books (its record was
 * unreadable, or the broker died between the mount and the record) is
 * taken down and audited. */
void transfer_sweep_unrecorded(Broker *b);


/* ask.c: requests an 'ask' rule allowed wait for an operator's answer
 * without holding up the loop: the request is parked (its frame and
 * descriptors kept, no reply sent), and goes through the pipeline again
 * when it is answered (`shuttlectl ask allow|deny`) or times out. */
#define BROKER_ASKS_PER_CONTAINER 16u
#define BROKER_ASKS_MAX 256u
typedef enum AskHow {
        ASK_ONCE,    /* allow this request */
        ASK_FOR,     /* allow it, and the same requests until a grant expires */
        ASK_ALWAYS,  /* allow it, and write a rule into the drop-in file */
        ASK_DENY,
        ASK_TIMEOUT,
        _ASK_HOW_MAX,
} AskHow;
typedef struct AskAnswer {
        uint64_t id;
        AskHow how;
        uid_t uid;             /* who answered: the control peer (-1: the timer) */
        pid_t pid;
        uint64_t waited_usec;
        uint64_t grant_id;     /* ASK_FOR: the grant made */
        uint64_t for_usec;
        const char *rule_written; /* ASK_ALWAYS: the rule's id, in file */
        const char *file;
} AskAnswer;
/* In the pipeline, after the decision (a != NULL: the request is answered).
 * Returns 1 if r was parked (the pipeline neither answers nor audits it
 * now), else 0 with r->d final as far as asking goes. */
int ask_decide(Broker *b, Request *r, const AskAnswer *a);
void ask_tick(Broker *b, uint64_t now_usec);
/* A broker.sock connection is going: its pending asks are dropped, audited. */
void ask_client_gone(Broker *b, Client *cl);
/* A container is going: the asks of its proxy sockets' connections too,
 * and the `--for` grants given to it (audited; their records removed). */
void ask_container_gone(Broker *b, Container *c);
json_t *ask_control_ls(Broker *b);
json_t *ask_control_answer(Broker *b, ControlConn *cc, json_t *req);
void ask_drop_all(Broker *b);
/* The drop-in directory (b->dropin_dir) is loaded after the --policy files
 * (reload.c): when it holds *.yaml or *.yml files. */
bool ask_dropin_wanted(const Broker *b);
/* pipeline.c: an answered request through the pipeline again. */
void pipeline_resume(Broker *b, Container *from, Client *cl, const void *frame, size_t len, int *fds, size_t n_fds,
                     const AskAnswer *a);

/* pipeline.c: broker.sock connections */
void broker_client_event(Broker *b, Client *cl, uint32_t events);
void broker_drop_clients_of(Broker *b, Container *c);

/* transfers.c: the books of live transfers, on the loop. */
/* On the broker's timer: revokes transfers whose grant expired or that the
 * policy no longer allows. */
void transfer_tick(Broker *b, uint64_t now_usec);
json_t *transfer_control_ls(Broker *b);
json_t *transfer_control_revoke(Broker *b, json_t *req);
void transfer_drop_all(Broker *b);


