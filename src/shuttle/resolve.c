/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names of another container in the caller's view: RESOLVE (a process of
 * an app, a service, a host name) and SIGNAL_PID.  Not carried out yet. */

#include <errno.h>

#include "shuttle/broker-internal.h"
#include "shuttle/protocol.h"

static void not_supported(Broker *b, Client *cl, const ShuttleMsg *m) {
        broker_audit(b, &(AuditEvent){ .from = cl->container, .kind = "protocol",
                                       .op = shuttle_msg_type_name(m->type), .allow = false, .rule = "-",
                                       .reason = "not supported by this broker" });
        (void) broker_client_reply(b, cl, m->id, -EOPNOTSUPP, "not supported by this broker");
}

void broker_resolve_request(Broker *b, Client *cl, const ShuttleMsg *m) {
        not_supported(b, cl, m);
}

void broker_signal_pid_request(Broker *b, Client *cl, const ShuttleMsg *m) {
        not_supported(b, cl, m);
}
