#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the audit append benchmark (tmpfs and disk).  'make bench' runs this
# from the build directory; set AUDIT_APPEND to use another build of the
# binary and BENCH_AUDIT_RECORDS to change the number of records per run.
bin=${AUDIT_APPEND:-${top_builddir:-.}/bench/audit-append}
if [ ! -x "$bin" ]; then
        echo "audit.sh: $bin not found (build it, or set AUDIT_APPEND)" >&2
        exit 1
fi
exec "$bin" --records "${BENCH_AUDIT_RECORDS:-500000}" "$@"
