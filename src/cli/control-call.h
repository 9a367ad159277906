/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the verbs that talk to the running broker share (transfer, ask,
 * policy shadow). */

#include <stddef.h>

#include <jansson.h>

/* One request on the control socket of the broker on state; takes req.
 * The reply (ok or not) in *ret_reply.  No broker: says so, as "VERB: no
 * broker is running on STATE", and returns -ENOENT or -ECONNREFUSED with
 * no reply (a refusal of the broker's may carry the same errno, with its
 * reply). */
int cli_control_call(const char *verb, const char *state, json_t *req, json_t **ret_reply);

/* A time as the tables print it: RFC 3339 in UTC, or "-" for t <= 0. */
void cli_format_time(char *buf, size_t size, json_int_t t);
