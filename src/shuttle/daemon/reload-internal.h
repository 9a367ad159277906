/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What reload.c (the jobs, the worker, applying) and reload-answer.c (the
 * replies and records of a reload) share.  Private to the two. */

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "shuttle/daemon/core.h"
#include "shuttle/host/control.h"

/* What one item's error may take of a reply (the log has it all); the
 * reply must fit CONTROL_MSG_MAX whatever the number of groups. */
#define REPLY_ERROR_MAX 16384u

typedef enum ReloadKind {
        RELOAD_ALL,         /* --policy files, then every group's */
        RELOAD_GROUP,       /* one group's policy file */
        RELOAD_GROUP_DROP,  /* forget a group's policy (nothing to read) */
        RELOAD_SHADOW,      /* the shadow policy's files (shadow.c); none: drop it */
} ReloadKind;

typedef struct GroupLoad {
        char *group;
        char *file;         /* RELOAD_GROUP: what to load; RELOAD_ALL: the
                             * copy that stands for the group's policy */
        char *source;       /* the group file; NULL: not read again */
        Policy *policy;     /* out */
        char *policy_file;  /* out: the file the group file names; NULL: inline */
        char digest[POLICY_DIGEST_LEN + 1]; /* out: policy's, kept (policy-store.h) */
        char *error;        /* out */
        bool copied;        /* out: <file>.new holds the new copy */
        bool gone;          /* out: its supervisor is gone (killed) */
} GroupLoad;

typedef struct ReloadJob {
        ReloadKind kind;
        ControlConn **waiters;  /* NULL entries: gone since they asked */
        size_t n_waiters;

        /* In, copied on the loop when the job starts. */
        char *state_dir;
        char **paths;
        size_t n_paths;
        char *shadow_group;     /* RELOAD_SHADOW: the group's (NULL: the node's) */
        GroupLoad *groups;      /* RELOAD_ALL: every group; RELOAD_GROUP: the one */
        size_t n_groups;
        const char *gate;       /* test hook, see reloader_new() */
        int cancel_fd;
        int done_fd;

        /* Out. */
        int r;
        Policy *policy;
        char digest[POLICY_DIGEST_LEN + 1]; /* policy's, kept (policy-store.h) */
        char *error;

        struct ReloadJob *next;
} ReloadJob;

/* What happened to one policy of a full reload (the "status" of the
 * reply, see docs/PROTOCOL.md). */
typedef enum ItemStatus {
        ITEM_RELOADED,     /* read, and in place now */
        ITEM_REFUSED,      /* has errors: this one stops the reload */
        ITEM_NOT_APPLIED,  /* read fine, but another one was refused */
        ITEM_NOT_READ,     /* a group whose group file is not known */
        ITEM_STOPPED,      /* a group whose supervisor is gone */
} ItemStatus;


/* reload-answer.c */
json_t *reload_error_json(const char *error);
/* Sends reply (or, when it is too big, its first REPLY_ERROR_MAX bytes of
 * error text) to every waiter of j. */
void reload_job_reply_json(ReloadJob *j, json_t *reply);
void reload_job_reply(ReloadJob *j, int r, const char *error);
ItemStatus reload_group_status(Broker *b, const GroupLoad *l, bool ok);
/* A full reload's reply; its records written (kind policy, op reload). */
json_t *reload_all_reply(Broker *b, ReloadJob *j, bool ok);
void reload_log_all(const ReloadJob *j, bool ok);
