#!/bin/bash
# What a container sees: its own pid, uts, ipc, net, mount and cgroup
# namespaces.
. "$(dirname "$0")/lib.sh"
require_root
plan 13

out=$(srun -- sh -c 'echo $$' 2>&1)
check_eq "the command is pid 2 under the init" "2" "$out"
out=$(srun -- ps -e -o pid=,comm= 2>&1 | awk '{print $1":"$2}' | tr '\n' ' ')
check_eq "ps shows only the container's processes" "1:shuttle-init 2:ps " "$out"

out=$(srun --name isoname -- hostname 2>&1)
check_eq "the host name defaults to the container name" "isoname" "$out"
out=$(srun --hostname inside -- hostname 2>&1)
check_eq "--hostname sets it" "inside" "$out"
check_eq "the host's name is unchanged" "$(cat /proc/sys/kernel/hostname)" "$(hostname)"

for ns in ipc net mnt pid uts cgroup; do
        inner=$(srun -- readlink /proc/self/ns/$ns 2>&1)
        outer=$(readlink /proc/self/ns/$ns)
        if [ -n "$inner" ] && [ "$inner" != "$outer" ]; then ok "new $ns namespace ($inner)"; else not_ok "new $ns namespace"; diag "inner=$inner outer=$outer"; fi
done

out=$(srun -- cat /proc/self/cgroup 2>&1 | awk -F: '{print $3}' | sort -u | tr '\n' ' ')
check_eq "the cgroup namespace is rooted at the container's cgroup" "/ " "$out"

out=$(srun -- sh -c 'ls /sys/class/net' 2>&1 | tr '\n' ' ')
check_eq "only lo in the network namespace" "lo " "$out"
finish
