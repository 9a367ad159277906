/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the static helpers bound into containers (shuttle-connect,
 * shuttle-invoke, shuttle-name, shuttle-transfer) share: the options
 * every one takes, reaching the broker, and saying why a request failed.
 * Linked into each of them, not into libshuttle. */

#include <getopt.h>
#include <stdio.h>

#include "common/macro.h"
#include "shuttle/client/client.h"

/* The helper's name, which starts its messages ("shuttle-name: ..."):
 * each helper defines it. */
extern const char helper_name[];

/* -s/--socket PATH and -h/--help, in every helper's option table. */
#define HELPER_OPTIONS                                     \
        { "socket", required_argument, NULL, 's' },        \
        { "help", no_argument, NULL, 'h' }

/* getopt_long()'s answer opt, when it is not one of the helper's own: -1
 * when handled (-s sets *socket_path), else the status to exit with: 0
 * after --help (usage on stdout), usage_status after an unknown option
 * (usage on stderr). */
int helper_option(int opt, const char **socket_path, void (*usage)(FILE *f), int usage_status);

/* shuttle_client_open(); on failure "NAME: cannot reach the broker: ..."
 * on stderr. */
int helper_open(const char *socket_path, ShuttleClient **ret);

/* "NAME: WHAT: <strerror(-r)>[: <the broker's message>]" on stderr, WHAT
 * formatted from fmt. */
_printf_(3, 4) void helper_failed(ShuttleClient *c, int r, const char *fmt, ...);

/* out and a newline on stdout: 0, or 1 after "NAME: cannot write: ..." on
 * stderr. */
int helper_print(const char *out);
