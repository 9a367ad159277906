#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# summary.sh RESULTS: the table of issue 14, one row per figure, from what
# the benchmarks of this `make bench` run wrote to RESULTS with bench_result
# (bench/results.sh).  Every figure is a ratio to a reference measured in
# the same run.  A row no benchmark measured says so.
set -u
export LC_ALL=C
results=${1:?usage: summary.sh RESULTS}

# key|work|reference|goal operator|goal value|where it is measured
rows='connect-fast|connect + 1-byte round trip, fast path|direct unix connect|<=|1.2|bench/ipc.sh
connect-proxy|same, proxy path (bytes relayed)|direct|<=|2|bench/ipc.sh
bulk-fast|bulk throughput, fast path|direct|>=|0.97|bench/ipc.sh
bulk-proxy|bulk throughput, proxy path|direct|>=|0.7|bench/ipc.sh
invoke|invoke /bin/true in another container|nsenter -a|<=|1.0|bench/invoke.sh
start|start + run /bin/true|crun (net of the cgroup wrapper)|<=|0.5|bench/start-latency.sh
oci-lifecycle|OCI create + start + delete of /bin/true|crun (net of the cgroup wrapper)|<=|1.0|bench/oci-lifecycle.sh
idle-memory|memory per idle container|crun (cgroup)|<=|1.0|bench/idle-memory.sh
register|register + unregister at 500 containers|the same at 100|<=|1.1|bench/register.sh
audit-rate|audit records/s (batched fdatasync)|write+SHA-256 per record|>=|0.9|bench/audit.sh'

printf '%-40s %-34s %9s %9s  %s\n' work reference shuttle goal ""
while IFS='|' read -r key work ref op goal where; do
        line=$(awk -F '\t' -v k="$key" '$1 == k { l = $0 } END { print l }' "$results" 2>/dev/null)
        if [ -z "$line" ]; then
                if [ "$where" = - ]; then why="no benchmark measures it"; else why="$where does not report it here"; fi
                printf '%-40s %-34s %9s %9s  %s\n' "$work" "$ref" - "$op ${goal}x" "not measured yet ($why)"
                continue
        fi
        value=$(printf '%s' "$line" | cut -f2)
        note=$(printf '%s' "$line" | cut -f3)
        case $value in
        '' | *[!0-9.]*)
                printf '%-40s %-34s %9s %9s  %s\n' "$work" "$ref" - "$op ${goal}x" "not measured: ${note:-$value}"
                continue ;;
        esac
        verdict=$(awk -v v="$value" -v g="$goal" -v op="$op" \
                'BEGIN { ok = (op == "<=") ? v <= g : v >= g; print ok ? "met" : "missed" }')
        printf '%-40s %-34s %8.2fx %9s  %s%s\n' "$work" "$ref" "$value" "$op ${goal}x" "$verdict" "${note:+ ($note)}"
done <<<"$rows"
