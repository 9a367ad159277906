/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json's hooks of one kind, in order (runtime-spec "Lifecycle"):
 * each run by the runtime layer's oci_hook_run() (runtime/oci-hooks.c),
 * with the container's state on its stdin, bounded by its timeout. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/oci.h"
#include "runtime/oci-hooks.h"

int oci_hooks_run(const OciSpec *spec, OciHookKind kind, const OciState *st, OciStatus status, int ns_pidfd,
                  int cancel_fd, bool stop_at_failure, char *err, size_t errlen) {
        _cleanup_free_ char *state = NULL;

        if (spec->n_hooks[kind] == 0)
                return 0;
        state = oci_state_format(st, status, true);
        if (!state)
                return -ENOMEM;
        for (size_t i = 0; i < spec->n_hooks[kind]; i++) {
                const OciHook *h = &spec->hooks[kind][i];
                char msg[512] = "";
                int r = oci_hook_run(&(OciHookRun){ .path = h->path, .args = h->args, .env = h->env,
                                                    .timeout = h->timeout, .ns_pidfd = ns_pidfd,
                                                    .cancel_fd = cancel_fd },
                                     state, strlen(state), msg, sizeof(msg));

                if (r == 0)
                        continue;
                if (!msg[0])
                        snprintf(msg, sizeof(msg), "hook '%s': %s", spec->hooks[kind][i].path, strerror(-r));
                if (stop_at_failure) {
                        snprintf(err, errlen, "hooks.%s[%zu]: %s", oci_hook_kind_name(kind), i, msg);
                        return r;
                }
                /* poststart, poststop: a warning, and the rest go on. */
                oci_warning("hooks.%s[%zu]: %s", oci_hook_kind_name(kind), i, msg);
        }
        return 0;
}

void oci_hooks_poststop(const OciState *st) {
        OciSpec *spec = NULL;
        char err[512] = "";

        /* The bundle may be gone by now: then there is nothing to run. */
        if (oci_spec_load(st->bundle, &spec, err, sizeof(err)) < 0)
                return;
        (void) oci_hooks_run(spec, OCI_HOOK_POSTSTOP, st, OCI_STATUS_STOPPED, -1, -1, false, err, sizeof(err));
        oci_spec_free(spec);
}
