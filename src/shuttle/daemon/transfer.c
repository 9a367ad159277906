/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TRANSFER: a path of the caller's handed to another container, decided
 * by the transfer rules (mediator.h); the transfer itself is made and
 * kept in the books (transfers.c). */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/macro.h"
#include "shuttle/client/protocol.h"
#include "shuttle/daemon/broker-api.h"
#include "shuttle/daemon/mediator.h"
#include "shuttle/daemon/xfer.h"

static PolicyMode policy_mode(int mode) {
        return mode == SHUTTLE_TRANSFER_RW ? POLICY_MODE_RW : POLICY_MODE_RO;
}

typedef struct TransferState {
        Container *target;
        Transfer *t;
        char path[PATH_MAX];
} TransferState;

static int transfer_build(Request *r) {
        TransferState *s = REQUEST_STATE(r, TransferState);
        const ShuttleMsg *m = r->msg;
        json_t *extra;
        int k;

        s->target = container_find(r->broker, m->container);
        s->t = NULL;
        r->to = m->container;
        extra = request_extra(r);
        if (extra)
                json_object_set_new(extra, "mode", json_string(m->mode == SHUTTLE_TRANSFER_RW ? "rw" : "ro"));
        k = xfer_path_normalize(m->path, s->path, sizeof(s->path));
        if (k < 0) {
                snprintf(r->object, sizeof(r->object), "%s", m->path);
                snprintf(r->why, sizeof(r->why), "invalid path");
                return k;
        }
        snprintf(r->object, sizeof(r->object), "%s", s->path);
        if (extra && !streq(s->path, m->path))
                json_object_set_new(extra, "requested", json_string(m->path));
        r->policy.to = s->target ? s->target->qname : m->container;
        r->policy.kind = POLICY_KIND_TRANSFER;
        r->policy.object = s->path;
        /* A request for rw matches no ro rule (the pipeline checks again). */
        r->policy.mode = policy_mode((int) m->mode);
        return 0;
}

static int transfer_carry_out(Request *r) {
        TransferState *s = REQUEST_STATE(r, TransferState);
        const ShuttleMsg *m = r->msg;
        const char *why = NULL;
        CallerCreds creds;
        json_t *extra;
        int k;

        if (r->d.as && request_extra(r))
                json_object_set_new(r->extra, "as", json_string(r->d.as));
        if (!s->target) {
                snprintf(r->why, sizeof(r->why), "no such container");
                return -ENOENT;
        }
        k = broker_client_creds(r->client, &creds);
        if (k < 0) {
                snprintf(r->why, sizeof(r->why), "cannot tell who the caller is");
                return k;
        }
        k = transfer_create_as(r->broker, r->from, &creds, s->target, s->path, (int) m->mode, r->d.as,
                               r->d.rule_id, transfer_rule_until(&r->d), false, &s->t, &why);
        if (k < 0) {
                if (why)
                        snprintf(r->why, sizeof(r->why), "%s", why);
                return k;
        }
        /* The rule's max_open counts live transfers. */
        if (r->limit) {
                s->t->limit = r->limit;
                r->limit->open++;
        }
        extra = request_extra(r);
        if (extra) {
                json_object_set_new(extra, "xfer_id", json_integer((json_int_t) s->t->id));
                json_object_set_new(extra, "target_path", json_string(s->t->target_path));
        }
        shuttle_msg_transferred(&r->reply, m->id, s->t->target_path, s->t->id);
        return 0;
}

/* The caller did not get its answer: it would not know the name. */
static void transfer_undo(Request *r) {
        TransferState *s = REQUEST_STATE(r, TransferState);

        if (s->t)
                transfer_revoke(r->broker, s->t, "the answer could not be delivered");
        s->t = NULL;
}

const MediatorOps transfer_ops = {
        .type = SHUTTLE_MSG_TRANSFER,
        .kind = "transfer",
        .op = "open",
        .denied_errno = EACCES,
        .acts = true,
        .build = transfer_build,
        .carry_out = transfer_carry_out,
        .undo = transfer_undo,
};

