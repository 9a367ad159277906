#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shuttle-oci's time namespaces: linux.namespaces type time with
# linux.timeOffsets; the container's process and what `exec` runs see
# CLOCK_BOOTTIME (/proc/uptime) moved by the offset, the host does not.
. "$(dirname "$0")/lib.sh"
require_root

if [ ! -e /proc/self/ns/time ]; then
        echo "1..0 # SKIP the kernel has no time namespaces"
        exit 77
fi
oci_setup



wait_nonempty() { local i=0; while [ ! -s "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; }
uptime_s() { cut -d. -f1 < /proc/uptime; }
OFF=864000   # ten days

plan 8

B=$T/b1
oci_bundle "$B" false '["sh", "-c", "cat /proc/uptime > /shared/uptime; readlink /proc/self/ns/time > /shared/ns; sleep 30"]'
sed -i 's|"namespaces": \[|"timeOffsets": { "boottime": { "secs": '$OFF', "nanosecs": 0 }, "monotonic": { "secs": 3600 } }, "namespaces": [ { "type": "time" },|' "$B/config.json"
check_status "create with a time namespace and offsets" 0 oci create --bundle "$B" t1
before=$(uptime_s)
check_status "start" 0 oci start t1
wait_nonempty "$B/shared/uptime"
after=$(uptime_s)
inside=$(cut -d. -f1 < "$B/shared/uptime" 2>/dev/null)
check_eq "the container's /proc/uptime is the host's plus the boottime offset (within 5 s)" "yes" \
        "$([ -n "$inside" ] && [ "$inside" -ge $((before + OFF)) ] && [ "$inside" -le $((after + OFF + 5)) ] && echo yes || echo "no: host $before..$after, container $inside")"
pid=$(oci_field t1 pid)
check_eq "its process is in a time namespace other than ours" "yes" \
        "$([ -n "$(cat "$B/shared/ns" 2>/dev/null)" ] && [ "$(cat "$B/shared/ns")" != "$(readlink /proc/self/ns/time)" ] && echo yes)"
check_eq "... with the offsets written" "monotonic 3600 0 boottime $OFF 0" \
        "$(tr '\n' ' ' < /proc/$pid/timens_offsets 2>/dev/null | sed 's/ *$//; s/  */ /g')"
oci exec t1 cat /proc/uptime > "$T/exec-uptime" 2>"$T/exec.err"
ex=$(cut -d. -f1 < "$T/exec-uptime" 2>/dev/null)
check_eq "exec joins it too" "yes" "$([ -n "$ex" ] && [ "$ex" -ge $((before + OFF)) ] && echo yes || echo "no: $ex $(cat "$T/exec.err")")"
oci delete --force t1 >/dev/null 2>&1

# ---- an offset the kernel refuses: create fails saying which, nothing is left ----
B2=$T/b2
oci_bundle "$B2" false '["true"]'
sed -i 's|"namespaces": \[|"timeOffsets": { "boottime": { "secs": -9000000000 } }, "namespaces": [ { "type": "time" },|' "$B2/config.json"
check_status "create with a boottime offset before the boot fails" 1 oci create --bundle "$B2" t2
check_match "... naming the offsets and leaving nothing" "create t2: .*time namespace's offsets.*boottime -9000000000.000000000 s" \
        "$(cat "$T/err")$(ls -A "$ROOT" 2>/dev/null)"
