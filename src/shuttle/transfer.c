/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* transfer: handing a name across, translated.
 * (Not carried out yet: refused and audited.) */
#include <errno.h>

#include "shuttle/broker-internal.h"
#include "shuttle/protocol.h"

void broker_transfer_request(Broker *b, Client *cl, const ShuttleMsg *m) {
        broker_audit(b, &(AuditEvent){ .from = cl->container, .to = m->container, .kind = "transfer",
                                       .op = "open", .object = m->path, .allow = false, .rule = "-",
                                       .reason = "not supported by this broker" });
        (void) broker_client_reply(b, cl, m->id, -EOPNOTSUPP, "not supported by this broker");
}
