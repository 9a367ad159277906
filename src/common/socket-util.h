/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A new close-on-exec AF_UNIX socket of type (SOCK_STREAM,
 * SOCK_SEQPACKET) connected to path: 0 and *ret_fd, or a negative errno
 * (-ENAMETOOLONG: path does not fit in sun_path). */
int unix_connect(const char *path, int type, int *ret_fd);
