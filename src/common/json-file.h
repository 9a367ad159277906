/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

/* Writes o (compact JSON) to dirfd/name whole or not at all: into tmp,
 * fsync()ed, then renamed over name; tmp is removed on failure.  A reader
 * (a restart) never sees half a file.  O_NOFOLLOW, mode 0600.  Apart from
 * fileio.h so that the static helpers, which have no jansson, can use that. */
int write_json_atomic_at(int dirfd, const char *tmp, const char *name, const json_t *o);
