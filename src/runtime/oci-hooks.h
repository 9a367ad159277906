/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One OCI hook program run to its end (runtime-spec "POSIX-platform
 * Hooks"): the container's state on its stdin, bounded by its timeout.
 * Written once for shuttle-oci's hooks (cli/oci-hooks.c, in the runtime's
 * namespaces or, for createContainer, the container's) and for
 * hooks.startContainer, which the container's pid 1 runs in its sandbox
 * (container-init.c). */

#include <stddef.h>

typedef struct OciHookRun {
        const char *path;     /* absolute (in the root the caller is in) */
        char *const *args;    /* NULL-terminated, or NULL: just path */
        char *const *env;     /* NULL-terminated, or NULL: none */
        int timeout;          /* seconds; 0: none */
        /* >= 0: the hook runs in the mount, network, IPC and UTS
         * namespaces of this process (a pidfd); its pid namespace applies
         * to children only. */
        int ns_pidfd;
        /* >= 0: once readable (a signalfd, say), the hook is killed and
         * -EINTR returned; the caller reads it, and says why. */
        int cancel_fd;
        /* Not NULL: a hook that cannot be executed says so on stderr,
         * "PREFIX: hook 'PATH': ERROR" (the container's pid 1 has no one
         * else to tell); it exits 127 either way. */
        const char *exec_error_prefix;
} OciHookRun;

/* 0 if the hook exited 0; else a negative errno with msg saying how it
 * failed: "hook 'PATH' exited with N", "... was killed by signal N",
 * "... timed out after N s" (-ETIMEDOUT, the hook killed), "... interrupted"
 * (-EINTR), or what could not be done ("hook 'PATH': fork: ..."). */
int oci_hook_run(const OciHookRun *h, const char *state, size_t len, char *msg, size_t msglen);
