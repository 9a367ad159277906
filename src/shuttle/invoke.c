/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* invoke: running an application that lives in another container.
 * (Not carried out yet: refused and audited.) */
#include <errno.h>

#include "shuttle/broker-internal.h"
#include "shuttle/protocol.h"

void broker_invoke_request(Broker *b, Client *cl, const ShuttleMsg *m, int *fds, size_t n_fds) {
        broker_audit(b, &(AuditEvent){ .from = cl->container, .to = m->container, .kind = "invoke",
                                       .op = "exec", .object = m->app, .allow = false, .rule = "-",
                                       .reason = "not supported by this broker" });
        (void) broker_client_reply(b, cl, m->id, -EOPNOTSUPP, "not supported by this broker");
}
