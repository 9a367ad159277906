#!/bin/bash
# The devices cgroup on cgroup v2 (a BPF_PROG_TYPE_CGROUP_DEVICE program):
# a container that keeps CAP_MKNOD, its cgroup on a cgroup2 directory of the
# test's own (--cgroup-root), may make a block device node but not open it,
# while /dev/null and /dev/zero open; the program is attached to the
# container's cgroup (a host process moved there cannot open /dev/kmsg);
# nothing is left.  On the default hierarchy the same run is refused too.
. "$(dirname "$0")/lib.sh"
require_root

V2=
for d in /sys/fs/cgroup/unified /sys/fs/cgroup; do
        if [ "$(stat -f -c %T "$d" 2>/dev/null)" = cgroup2fs ]; then V2=$d; break; fi
done
if [ -z "$V2" ]; then echo "1..0 # SKIP no cgroup2 hierarchy"; exit 77; fi
CGR=$V2/shuttle-it-devices-v2.$$
if ! mkdir "$CGR"; then echo "1..0 # SKIP cannot make a cgroup under $V2"; exit 77; fi
cleanup_cgr() {
        cleanup_lib
        [ -d "$CGR/shuttle" ] && rmdir "$CGR"/shuttle/* "$CGR/shuttle" 2>/dev/null
        [ -d "$CGR" ] && rmdir "$CGR"
}
trap cleanup_cgr EXIT
plan 8

script='mknod /dev/blk b 7 0 && echo made; head -c 1 /dev/blk; head -c 3 /dev/zero | wc -c; echo x > /dev/null && echo null'
srun --name dv --cgroup-root "$CGR" --cap-add MKNOD -- sh -c "$script" > "$T/out" 2> "$T/err"
check_eq "v2: a container with CAP_MKNOD makes a node" "made" "$(head -1 "$T/out")"
check_match "... which it cannot open" "/dev/blk.*: Operation not permitted" "$(cat "$T/err")"
check_eq "... while /dev/zero and /dev/null work" "3 null" "$(tail -n +2 "$T/out" | tr -d ' ' | tr '\n' ' ' | sed 's/ $//')"

# The program sits on the container's own cgroup, while it runs.
"${SRUN[@]}" --name dv2 --cgroup-root "$CGR" --cap-add MKNOD -- sleep 20 > /dev/null 2>&1 &
bg=$!
pid=$(container_init_pid dv2)
cg=$V2$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup" 2>/dev/null)
check_match "the container's cgroup is below the --cgroup-root" "^$CGR/shuttle/dv2" "$cg"
check_status "a host process outside it opens /dev/kmsg" 0 sh -c 'exec 3< /dev/kmsg'
check_match "... moved into the container's cgroup it cannot" "Operation not permitted" \
        "$(sh -c "echo \$\$ > '$cg/cgroup.procs' && exec 3< /dev/kmsg" 2>&1)"
kill -TERM "$bg" 2>/dev/null
wait "$bg" 2>/dev/null
check_eq "nothing is left below the --cgroup-root" "" "$(find "$CGR" -mindepth 1 -type d)"

# The same on the host's default hierarchy (v1 devices controller or v2).
srun --name dv3 --cap-add MKNOD -- sh -c "$script" > "$T/out" 2> "$T/err"
check_match "default hierarchy: the node cannot be opened either" "/dev/blk.*: Operation not permitted" "$(cat "$T/err")"
finish
