#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the policy decision benchmark.  'make bench' runs this from the build
# directory; set POLICY_DECIDE to point at another build of the binary.
bin=${POLICY_DECIDE:-${top_builddir:-.}/bench/policy-decide}
if [ ! -x "$bin" ]; then
        echo "policy-decide.sh: $bin not found (build it, or set POLICY_DECIDE)" >&2
        exit 1
fi
exec "$bin" "$@"
