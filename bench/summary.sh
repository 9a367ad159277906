#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# summary.sh RESULTS: the table of issue 14, one row per figure, from what
# the benchmarks of this `make bench` run wrote to RESULTS with bench_result
# (bench/results.sh).  Every figure is a ratio to a reference measured in
# the same run.  A row no benchmark measured says so.
set -u
export LC_ALL=C
results=${1:?usage: summary.sh RESULTS}

# key|work|reference|goal operator|goal value
rows='connect-fast|connect + 1-byte round trip, fast path|direct unix connect|<=|1.2
connect-proxy|same, proxy path (bytes relayed)|direct|<=|2
bulk-fast|bulk throughput, fast path|direct|>=|0.97
bulk-proxy|bulk throughput, proxy path|direct|>=|0.7
invoke|invoke /bin/true in another container|nsenter -a|<=|1.0
start|start + run /bin/true|crun (net of the cgroup wrapper)|<=|0.5
idle-memory|memory per idle container|crun|<=|1.0
audit-rate|audit records/s (batched fdatasync)|write+SHA-256 per record|>=|0.9'

printf '%-40s %-34s %9s %7s  %s\n' work reference shuttle goal ""
while IFS='|' read -r key work ref op goal; do
        line=$(awk -F '\t' -v k="$key" '$1 == k { l = $0 } END { print l }' "$results" 2>/dev/null)
        if [ -z "$line" ]; then
                printf '%-40s %-34s %9s %7s  %s\n' "$work" "$ref" - "$op ${goal}x" "not measured yet"
                continue
        fi
        value=$(printf '%s' "$line" | cut -f2)
        note=$(printf '%s' "$line" | cut -f3)
        case $value in
        '' | *[!0-9.]*)
                printf '%-40s %-34s %9s %7s  %s\n' "$work" "$ref" - "$op ${goal}x" "not measured: ${note:-$value}"
                continue ;;
        esac
        verdict=$(awk -v v="$value" -v g="$goal" -v op="$op" \
                'BEGIN { ok = (op == "<=") ? v <= g : v >= g; print ok ? "met" : "missed" }')
        printf '%-40s %-34s %8.2fx %7s  %s%s\n' "$work" "$ref" "$value" "$op ${goal}x" "$verdict" "${note:+ ($note)}"
done <<<"$rows"
