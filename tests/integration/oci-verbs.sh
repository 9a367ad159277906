#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shuttle-oci update, events and exec with a terminal, as podman and
# containerd's shim call them: limits changed in the container's own
# cgroup (all or nothing, refusals naming the field), usage as runc's
# event JSON lines, an OOM event, and a pty handed over --console-socket.
. "$(dirname "$0")/lib.sh"
require_root

OCI=${SHUTTLE_OCI:-${top_builddir:-.}/shuttle-oci}
BUSYBOX=$(command -v busybox 2>/dev/null)
if [ -z "$BUSYBOX" ] || ! ldd "$BUSYBOX" 2>&1 | grep -q "not a dynamic"; then
        echo "1..0 # SKIP needs a static busybox (busybox-static)"
        exit 77
fi
ROOT=$T/oci-root
# The container's cgroup at a path of this test's own (linux.cgroupsPath),
# so on v1 it is in the cpu and cpuset hierarchies too.
CGP=shuttle-test-ociverbs-$$
oci() { "$OCI" --root "$ROOT" "$@"; }
verbs_cleanup() {
        local d
        for d in "$ROOT"/*; do [ -d "$d" ] && oci delete --force "$(basename "$d")" >/dev/null 2>&1; done
        for d in /sys/fs/cgroup/"$CGP" /sys/fs/cgroup/*/"$CGP"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
        cleanup_lib
}
trap verbs_cleanup EXIT

# make_bundle DIR ARGS-JSON ID
make_bundle() {
        local dir=$1 args=$2 id=$3
        mkdir -p "$dir/rootfs/bin" "$dir/shared"
        cp "$BUSYBOX" "$dir/rootfs/bin/busybox"
        for c in sh cat sleep tty stty head tail true; do ln -sf busybox "$dir/rootfs/bin/$c"; done
        cat > "$dir/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": { "terminal": false, "user": { "uid": 0, "gid": 0 }, "args": $args,
               "env": [ "PATH=/bin" ], "cwd": "/" },
  "root": { "path": "rootfs" },
  "hostname": "verbs",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755", "size=65536k"] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
    { "destination": "/shared", "type": "bind", "source": "$dir/shared", "options": ["rbind", "rw"] }
  ],
  "linux": {
    "namespaces": [ { "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" } ],
    "cgroupsPath": "/$CGP/$id",
    "resources": { "memory": { "limit": 67108864 }, "pids": { "limit": 77 } }
  }
}
JSON
}

# The container's cgroup directory serving a controller, from its state.
cg_dir() {
        local id=$1 ctl=$2
        if [ -e /sys/fs/cgroup/cgroup.controllers ]; then echo "/sys/fs/cgroup/$CGP/$id"
        else echo "/sys/fs/cgroup/$ctl/$CGP/$id"; fi
}
mem_limit() {
        local d; d=$(cg_dir "$1" memory)
        if [ -e "$d/memory.max" ]; then cat "$d/memory.max"; else cat "$d/memory.limit_in_bytes"; fi
}
pids_limit() { cat "$(cg_dir "$1" pids)/pids.max"; }
json_get() { python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); print(eval("d" + sys.argv[1]))' "$1"; }

plan 30

# ---- update: flags and --resources, in the container's own cgroup ----
B=$T/b1
make_bundle "$B" '["sh", "-c", "sleep 1000 & touch /shared/started; exec sleep 1000"]' v1
oci create --bundle "$B" v1 && oci start v1
wait_for_file "$B/shared/started"
check_eq "the container starts with its spec's memory limit" "67108864" "$(mem_limit v1)"
check_status "update --memory 100M --pids-limit 50" 0 oci update --memory 100M --pids-limit 50 v1
check_eq "... writes the new memory limit in its cgroup" "104857600" "$(mem_limit v1)"
check_eq "... and the pids limit" "50" "$(pids_limit v1)"
echo '{ "memory": { "limit": 134217728 }, "pids": { "limit": 55 } }' > "$T/res.json"
check_status "update --resources FILE (LinuxResources JSON)" 0 oci update --resources "$T/res.json" v1
check_eq "... both limits changed" "134217728 55" "$(mem_limit v1) $(pids_limit v1)"
check_status "update --resources - reads stdin" 0 sh -c "echo '{\"pids\":{\"limit\":56}}' | '$OCI' --root '$ROOT' update -r - v1"
check_eq "... and changes only what it names" "134217728 56" "$(mem_limit v1) $(pids_limit v1)"

# ---- refusals: named, nothing changed ----
check_status "a cpu.shares out of range is refused" 1 sh -c "echo '{\"memory\":{\"limit\":268435456},\"cpu\":{\"shares\":1}}' | '$OCI' --root '$ROOT' update -r - v1"
check_match "... naming the field" "update v1: --resources: cpu.shares: 1 is not within 2\.\.262144" "$(cat "$T/err")"
check_eq "... and the memory limit of the same document is not applied" "134217728" "$(mem_limit v1)"
echo '{ "memory": { "limit": "1G" } }' > "$T/bad.json"
check_status "a wrong type in --resources is refused" 1 oci update --resources "$T/bad.json" v1
check_match "... naming the file and the field" "update v1: --resources '$T/bad.json': memory.limit: must be an integer" "$(cat "$T/err")"
# pids is written before cpu.cpus, which the kernel refuses: undone.
check_status "a write the kernel refuses fails the update" 1 sh -c "echo '{\"pids\":{\"limit\":10},\"cpu\":{\"cpus\":\"4095\"}}' | '$OCI' --root '$ROOT' update -r - v1"
check_match "... naming the field and saying nothing changed" "update v1: cpu\.cpus: .*nothing changed" "$(cat "$T/err")"
check_eq "... and the pids limit written before it is put back" "56" "$(pids_limit v1)"
check_status "--resources and a flag together are refused" 1 oci update --resources "$T/res.json" --memory 1G v1
check_status "update of a container that does not exist fails" 1 oci update --memory 1G nosuch

# ---- events: runc's JSON lines ----
oci events --stats v1 > "$T/stats" 2> "$T/stats.err"
check_eq "events --stats prints one JSON line of type stats with the id" "stats v1" "$(json_get '["type"], d["id"]' < "$T/stats" 2>&1 | tr -d "(),'")"
check_eq "... with the container's pid count and pids limit" "2 56" "$(json_get '["data"]["pids"]["current"], d["data"]["pids"]["limit"]' < "$T/stats" 2>&1 | tr -d "(),")"
check_eq "... and its memory limit" "134217728" "$(json_get '["data"]["memory"]["usage"]["limit"]' < "$T/stats" 2>&1)"
oci events --interval 100ms v1 > "$T/events" 2>&1 &
EV=$!
wait_until sh -c "[ \$(wc -l < '$T/events') -ge 3 ]"
check_match "events --interval 100ms prints stats lines over and over" "^[3-9]|^[1-9][0-9]" "$(wc -l < "$T/events")"
# An OOM kill in the container: a line of 64 MiB that tail must hold.
oci update --memory 16M v1 >/dev/null 2>&1
oci exec v1 sh -c 'head -c 67108864 /dev/zero | tail -n 1 > /dev/null' >/dev/null 2>&1
wait_until grep -q '"type":"oom"' "$T/events"
check_match "... and an oom event once the OOM killer ended a process" '^\{"type":"oom","id":"v1"\}$' "$(grep oom "$T/events")"
oci kill v1 KILL
wait_until sh -c "! kill -0 $EV"
check_eq "... and ends by itself once the container stopped" "gone" "$(kill -0 $EV 2>/dev/null && echo running || echo gone)"
kill $EV 2>/dev/null; wait $EV 2>/dev/null
oci delete --force v1 >/dev/null 2>&1

# ---- exec with a terminal over --console-socket ----
B2=$T/b2
make_bundle "$B2" '["sh", "-c", "touch /shared/started; exec sleep 1000"]' v2
oci create --bundle "$B2" v2 && oci start v2
wait_for_file "$B2/shared/started"
"$HELPERS/consock" "$T/c1.sock" "$T/c1.out" &
CS=$!
wait_until test -S "$T/c1.sock"
oci exec --tty --console-socket "$T/c1.sock" v2 sh -c 'tty; exit 3' > /dev/null 2> "$T/exec1.err"
check_eq "exec --tty --console-socket: the process's exit status" "3" "$?"
wait $CS
check_match "... the socket receives a pty master" "^pty [0-9]+" "$(head -1 "$T/c1.out")"
check_match "... whose slave is the process's terminal in the container" "^/dev/pts/[0-9]+$" "$(sed -n 2p "$T/c1.out" | tr -d '\r')"
cat > "$T/proc.json" <<JSON
{ "terminal": true, "consoleSize": { "height": 30, "width": 99 }, "args": ["stty", "size"],
  "env": ["PATH=/bin"], "cwd": "/", "user": { "uid": 0, "gid": 0 } }
JSON
"$HELPERS/consock" "$T/c2.sock" "$T/c2.out" &
CS=$!
wait_until test -S "$T/c2.sock"
oci exec --process "$T/proc.json" --console-socket "$T/c2.sock" v2 > /dev/null 2>&1
wait $CS
check_eq "exec --process with process.terminal: a pty of process.consoleSize" "30 99" "$(sed -n 2p "$T/c2.out" | tr -d '\r')"
check_status "exec --tty without --console-socket is refused" 1 oci exec --tty v2 true
check_match "... saying what is missing" "exec v2: --tty: --console-socket is needed" "$(cat "$T/err")"
oci delete --force v2 >/dev/null 2>&1

finish
