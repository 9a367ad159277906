#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the audit append benchmark (tmpfs and disk) and its reference.  'make bench' runs this
# from the build directory; set AUDIT_APPEND to use another build of the
# binary and BENCH_AUDIT_RECORDS to change the number of records per run.
bin=${AUDIT_APPEND:-${top_builddir:-.}/bench/audit-append}
if [ ! -x "$bin" ]; then
        echo "audit.sh: $bin not found (build it, or set AUDIT_APPEND)" >&2
        exit 1
fi
. "$(dirname "$0")/results.sh"
out=$("$bin" --records "${BENCH_AUDIT_RECORDS:-500000}" "$@") || { echo "$out"; exit 1; }
echo "$out"
# issue 14's row: the default batching over the reference, on tmpfs (the
# first directory), the others in the note.
first=$(echo "$out" | awk '$1 == "ratio" { print $3; exit }')
rest=$(echo "$out" | awk '$1 == "ratio" { printf "%s%s %s", sep, $2, $3; sep = ", " }')
if [ -n "$first" ]; then
        bench_result audit-rate "$first" "default batching / write+SHA-256 per record: $rest"
else
        bench_result audit-rate - "no reference figure"
fi
