/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: arbitrary bytes as a bundle's config.json.  Parsing
 * must either fail with a message or yield a spec whose annotations, mount
 * options and seccomp profile can be read, compiled and serialized (the
 * key of shuttle-oci's cache) without crashing or leaking.  Seeds: tests/unit/oci/. */
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/oci-spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char err[512] = "";
        OciSpec *s = NULL;
        OciShuttle a;

        if (oci_spec_parse((const char *) data, size, &s, err, sizeof(err)) < 0) {
                if (!err[0])
                        abort();
                return 0;
        }
        if (oci_shuttle_annotations(s, &a, err, sizeof(err)) >= 0)
                oci_shuttle_done(&a);
        for (size_t i = 0; i < s->n_mounts; i++) {
                OciMountOptions o;

                if (oci_mount_options_parse(s->mounts[i].options, &o) >= 0)
                        oci_mount_options_done(&o);
        }
        if (s->has_seccomp) {
                scmp_filter_ctx ctx = NULL;
                void *bytes = NULL;
                size_t n;

                if (oci_seccomp_build(&s->seccomp, &ctx, err, sizeof(err)) >= 0)
                        seccomp_release(ctx);
                /* What keys shuttle-oci's cache of compiled profiles. */
                if (oci_seccomp_serialize(&s->seccomp, &bytes, &n) >= 0)
                        free(bytes);
        }
        oci_spec_free(s);
        return 0;
}
