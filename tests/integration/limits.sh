#!/bin/bash
# cgroup limits: memory (OOM reported as such), pids, cpu; removed after.
. "$(dirname "$0")/lib.sh"
require_root
plan 12

"${SRUN[@]}" --name lim --memory 32M --pids 20 --cpus 0.5 -- sleep 3 &
bg=$!
pid=$(container_init_pid lim)
if [ -n "$pid" ] && [ -d "/sys/fs/cgroup/memory" ]; then
        mem=$(cgroup_dir_of_pid "$pid" memory)
        pids=$(cgroup_dir_of_pid "$pid" pids)
        cpu=$(cgroup_dir_of_pid "$pid" cpu)
        check_eq "memory limit written to the cgroup" "33554432" "$(cat "$mem/memory.limit_in_bytes")"
        check_eq "pids limit written to the cgroup" "20" "$(cat "$pids/pids.max")"
        check_eq "cpu quota written to the cgroup" "50000 100000" "$(cat "$cpu/cpu.cfs_quota_us") $(cat "$cpu/cpu.cfs_period_us")"
else
        mem=$(cgroup_dir_of_pid "$pid" unified)
        check_eq "memory limit written to the cgroup" "33554432" "$(cat "$mem/memory.max")"
        check_eq "pids limit written to the cgroup" "20" "$(cat "$mem/pids.max")"
        check_eq "cpu quota written to the cgroup" "50000 100000" "$(cat "$mem/cpu.max")"
fi
wait $bg
check_eq "the container's cgroups are gone after it ends" "" "$( [ -n "$mem" ] && ls -d "$mem" 2>/dev/null)"

# An allocator over the limit is killed, and we say so.
check_status "an allocator over --memory is killed (137)" 137 srun --name oom --memory 32M -- tail /dev/zero
check_eq "... and reported as out of memory" "shuttlectl: container 'oom' was killed: out of memory (limit 32M)" "$(tail -1 "$T/err")"
check_status "a command killed by SIGKILL without OOM is not called OOM" 137 srun --memory 32M -- sh -c 'kill -9 $$'
check_eq "... no OOM message" "" "$(cat "$T/err")"

# Without --pids a container still has a pids limit (CONTAINER_DEFAULT_PIDS,
# man shuttlectl); --pids max turns it off.  Read from the container's own
# cgroup, v1 or v2, where the host has a pids controller.
pids_of() {
        local name=$1 p dir
        shift
        "${SRUN[@]}" --name "$name" "$@" -- sleep 3 &
        local bg=$!
        p=$(container_init_pid "$name")
        if [ -d /sys/fs/cgroup/pids ]; then dir=$(cgroup_dir_of_pid "$p" pids); else dir=$(cgroup_dir_of_pid "$p" unified); fi
        cat "$dir/pids.max" 2>/dev/null || echo "no pids.max in '$dir'"
        kill -TERM $bg 2>/dev/null
        wait $bg
}
if [ -e /sys/fs/cgroup/pids ] || grep -qw pids /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
        check_eq "a container without --pids gets the default pids limit" "2048" "$(pids_of defpids)"
        check_eq "--pids max sets no limit" "max" "$(pids_of maxpids --pids max)"
else
        ok "# SKIP no pids cgroup controller"
        ok "# SKIP no pids cgroup controller"
fi

# A fork loop stops at --pids.
# The shell prints how many it started; at the limit its fork fails.
out=$(srun --pids 10 -- sh -c 'i=0; while [ $i -lt 30 ]; do sleep 2 & i=$((i+1)); echo $i; done' 2>"$T/err" | tail -1)
if [ -n "$out" ] && [ "$out" -le 9 ] && grep -q "Cannot fork" "$T/err"; then
        ok "a fork loop stops at --pids 10 (init + shell + $out)"
else
        not_ok "a fork loop stops at --pids 10"; diag "started: $out" "$(cat "$T/err")"
fi
check_eq "nothing left behind" "" "$(leftovers lim; leftovers oom)"
finish
