/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the shim needs of the client library beyond <shuttle/client.h>:
 * not installed, and not exported from libshuttle.so (only shuttle_* is). */

#include "shuttle/client/client.h"

/* Frees c without closing its socket: for a client whose descriptor the
 * program closed, so that the number may be another file of its own now. */
void client_free_keep_fd(ShuttleClient *c);
