/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exported shared-memory objects and POSIX message queues: OPEN_SHM and
 * OPEN_MQ.  Not carried out yet. */

#include <errno.h>

#include "shuttle/broker-internal.h"
#include "shuttle/protocol.h"

void broker_open_request(Broker *b, Client *cl, const ShuttleMsg *m) {
        broker_audit(b, &(AuditEvent){ .from = cl->container, .kind = "protocol",
                                       .op = shuttle_msg_type_name(m->type), .allow = false, .rule = "-",
                                       .reason = "not supported by this broker" });
        (void) broker_client_reply(b, cl, m->id, -EOPNOTSUPP, "not supported by this broker");
}
