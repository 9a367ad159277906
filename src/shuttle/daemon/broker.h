/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The broker: one event loop that owns every container's channel, decides
 * each request by policy, carries it out and audits it. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Broker Broker;

typedef struct BrokerOptions {
        const char *state_dir;       /* default /run/shuttle */
        const char *audit_log;       /* default /var/log/shuttle/audit.jsonl */
        uint64_t audit_max_size;     /* rotate at; 0 = AUDIT_DEFAULT_MAX_SIZE */
        unsigned audit_keep;         /* rotated files kept; 0 = AUDIT_DEFAULT_KEEP */
        bool audit_batch;            /* --audit-sync batch: records synced every 100 ms or
                                      * 1024 records, allowed actions not waiting for them;
                                      * false (sync): an allowed request's answer waits until
                                      * its record is on disk (group commit, audit-sync.c) */
        const char *const *policy;   /* policy files; none = deny everything */
        size_t n_policy;
        const char *approved_file;   /* `ask allow --always` writes here; NULL: <dir of
                                      * policy[0]>/policy.d/50-approved.yaml (none
                                      * without a policy).  Its directory is loaded
                                      * after the policy files, as drop-ins. */
        uint64_t child_nofile;       /* > 0: the soft RLIMIT_NOFILE of the apps it
                                      * starts (the one it had before raising its own) */
        const char *notify_socket;   /* the service manager's ($NOTIFY_SOCKET), or NULL:
                                      * told of reloads (RELOADING=1, then READY=1) */
} BrokerOptions;

/* Loads the policy, opens the audit log, binds the control socket and
 * re-adopts containers recorded under the state directory.  Errors are
 * returned with a message in *ret_error (malloc'ed). */
int broker_new(const BrokerOptions *o, Broker **ret, char **ret_error);
/* Runs until SIGTERM/SIGINT.  SIGHUP reloads the policy: it is read and
 * compiled on a worker thread while the loop goes on answering, then
 * swapped in; a policy with errors is not applied (and the errors are
 * logged). */
int broker_run(Broker *b);
Broker *broker_free(Broker *b);
/* Tells the service manager (BrokerOptions.notify_socket) a state, e.g.
 * "READY=1" (sd_notify(3)); nothing without one. */
void broker_notify(Broker *b, const char *state);
