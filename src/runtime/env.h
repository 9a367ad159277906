/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The environment a container's processes start with (the command of
 * `run`, and what `exec` and invoke run inside): nothing leaks from the
 * caller but what is asked for. */

#include <stddef.h>

#define CONTAINER_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* PATH, HOME, HOSTNAME, container=shuttle, TERM (if term), then each
 * "K=V" of extra in order (later ones win), then, if preload, preload
 * appended to LD_PRELOAD (or LD_PRELOAD=preload).  NULL on ENOMEM. */
char **container_env_new(const char *home, const char *hostname, const char *term, char *const *extra,
                         size_t n_extra, const char *preload);

/* env as given (an OCI process.env), then, if preload, preload appended to
 * LD_PRELOAD as above.  NULL on ENOMEM. */
char **container_env_exact(char *const *env, size_t n_env, const char *preload);
