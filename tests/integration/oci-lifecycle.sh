#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shuttle-oci as conmon and containerd's shim drive it: create (the process
# waits), state, start, kill, delete, with a subreaper parent that reaps
# the container's exit status; pid file, console socket, JSON log, errors.
. "$(dirname "$0")/lib.sh"
require_root

oci_setup
SUB=$HELPERS/subreaper



plan 61

# ---- create, state, start, kill TERM, delete, with the exit status reaped ----
B=$T/b1
# (started is touched once the trap is set: as pid 1, sh ignores a TERM
# it has no handler for.)
oci_bundle "$B" false '["sh", "-c", "trap \"exit 7\" TERM; hostname > /shared/hostname; touch /shared/started; while :; do sleep 0.1; done"]'
"$SUB" "$OCI" --root "$ROOT" create --bundle "$B" --pid-file "$T/pid1" c1 \; \
        sh -c "'$OCI' --root '$ROOT' state c1 > '$T/state-created'; ls '$B/shared' > '$T/before-start'" \; \
        "$OCI" --root "$ROOT" start c1 \; \
        sh -c "i=0; while [ ! -e '$B/shared/started' ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i+1)); done; '$OCI' --root '$ROOT' state c1 > '$T/state-running'; '$OCI' --root '$ROOT' ps --format json c1 > '$T/ps1'; sed -n 's/.*\"cgroups\":\\[\"\\([^\"]*\\)\".*/\\1/p' '$ROOT/c1/state.json' > '$T/cg1'" \; \
        "$OCI" --root "$ROOT" kill c1 TERM > "$T/reaped1" 2> "$T/sub1.err"
check_eq "the subreaper reaps the container's own exit status (7, from its TERM trap)" "exited 7" "$(cat "$T/reaped1")"
[ -s "$T/sub1.err" ] && diag "$(cat "$T/sub1.err")"
check_match "the pid file holds a pid" '^[0-9]+$' "$(cat "$T/pid1" 2>/dev/null)"
check_match "state after create: created" '"status": "created"' "$(cat "$T/state-created")"
check_match "... with the pid of the pid file" "\"pid\": $(cat "$T/pid1" 2>/dev/null)," "$(cat "$T/state-created")"
check_match "... and the bundle" "\"bundle\": \"$B\"" "$(cat "$T/state-created")"
check_eq "the command does not run before start" "" "$(cat "$T/before-start")"
check_eq "after start it runs, with the spec's host name" "ocitest" "$(cat "$B/shared/hostname" 2>/dev/null)"
check_match "state after start: running" '"status": "running"' "$(cat "$T/state-running")"
check_match "ps --format json lists the container's process" "^\[([0-9]+,)*$(cat "$T/pid1")(,[0-9]+)*\]$" "$(cat "$T/ps1")"
check_eq "state after it ended: stopped" "stopped" "$(oci_status c1)"
CG1=$(cat "$T/cg1")
check_match "its cgroup was recorded and exists" "shuttle/c1\." "$CG1$( [ -d "$CG1" ] || echo ' (missing)')"
check_status "delete of a stopped container" 0 oci delete c1
check_eq "... removes its state and its cgroup" "" "$(ls -d "$ROOT/c1" "$CG1" 2>/dev/null)"
check_status "state of a deleted container fails" 1 oci state c1

# ---- kill KILL: reaped as killed by SIGKILL; delete needs --force while it runs ----
B2=$T/b2
oci_bundle "$B2" false '["sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max > /shared/limits 2>/dev/null; touch /shared/started; exec sleep 1000"]'
"$SUB" "$OCI" --root "$ROOT" create --bundle "$B2" c2 \; "$OCI" --root "$ROOT" start c2 \; \
        sh -c "i=0; while [ ! -e '$B2/shared/started' ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i+1)); done; '$OCI' --root '$ROOT' delete c2 > '$T/del2.out' 2> '$T/del2.err'; echo \$? > '$T/del2.rc'" \; \
        "$OCI" --root "$ROOT" kill c2 9 > "$T/reaped2"
check_eq "kill 9: the subreaper sees it killed by SIGKILL" "killed 9" "$(cat "$T/reaped2")"
check_eq "delete of a running container without --force fails" "1" "$(cat "$T/del2.rc" 2>/dev/null)"
check_match "... and says to use --force" "shuttle-oci: delete c2: .*running.*--force" "$(cat "$T/del2.err")"
check_match "the container sees its memory and pids limits in /sys/fs/cgroup" "^67108864 77$" "$(tr '\n' ' ' < "$B2/shared/limits" | sed 's/ $//')"
check_status "delete after it was killed" 0 oci delete c2

# ---- delete --force of a running one; a second create of an ID fails ----
"$SUB" "$OCI" --root "$ROOT" create --bundle "$B2" c3 \; "$OCI" --root "$ROOT" start c3 \; \
        sh -c "'$OCI' --root '$ROOT' create --bundle '$B2' c3 2> '$T/dup.err'; echo \$? > '$T/dup.rc'" \; \
        "$OCI" --root "$ROOT" delete --force c3 > "$T/reaped3"
check_eq "delete --force kills a running container" "killed 9" "$(cat "$T/reaped3")"
check_eq "... and leaves no state" "" "$(ls -d "$ROOT/c3" 2>/dev/null)"
check_eq "a second create with the same ID fails" "1" "$(cat "$T/dup.rc")"
check_match "... saying it exists" "create c3: .*exists" "$(cat "$T/dup.err")"

# ---- exec (--process, runc style, --detach), pause and resume ----
cat > "$T/proc.json" <<JSON
{ "args": ["sh", "-c", "echo in-exec \$(id -u) \$PWD \$FOO; exit 4"], "env": ["PATH=/bin", "FOO=bar"],
  "cwd": "/shared", "user": { "uid": 1000, "gid": 1000 } }
JSON
"$SUB" "$OCI" --root "$ROOT" create --bundle "$B2" c7 \; "$OCI" --root "$ROOT" start c7 \; \
        sh -c "'$OCI' --root '$ROOT' exec --process '$T/proc.json' c7 > '$T/exec.out' 2>&1; echo \$? > '$T/exec.rc'; \
               '$OCI' --root '$ROOT' exec c7 hostname > '$T/exec2.out' 2>&1; \
               '$OCI' --root '$ROOT' exec --detach --pid-file '$T/epid' c7 sleep 0.2 > '$T/exec3.out' 2>&1; \
               i=0; while [ -e /proc/\$(cat '$T/epid') ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i + 1)); done; \
               '$OCI' --root '$ROOT' pause c7; '$OCI' --root '$ROOT' state c7 > '$T/paused'; \
               sleep 0.3; '$OCI' --root '$ROOT' resume c7; '$OCI' --root '$ROOT' state c7 > '$T/resumed'" \; \
        "$OCI" --root "$ROOT" delete --force c7 > "$T/reaped7"
check_eq "exec --process runs the process as its user, in its cwd, with its env" "in-exec 1000 /shared bar" "$(cat "$T/exec.out")"
check_eq "... and exits with its status" "4" "$(cat "$T/exec.rc")"
check_eq "exec ID COMMAND runs it in the container's namespaces" "ocitest" "$(cat "$T/exec2.out")"
check_match "exec --detach --pid-file writes the process's pid" '^[0-9]+$' "$(cat "$T/epid" 2>/dev/null)"
check_match "pause: the state says paused" '"status": "paused"' "$(cat "$T/paused")"
check_match "resume: running again" '"status": "running"' "$(cat "$T/resumed")"
check_eq "delete --force after all that (the detached process ended first: waited for before the pause)" "exited 0 killed 9" "$(tr '\n' ' ' < "$T/reaped7" | sed 's/ $//')"
check_eq "... leaves nothing under --root" "" "$(ls "$ROOT" 2>/dev/null)"

# ---- console socket: the pty master reaches the caller ----
B4=$T/b4
oci_bundle "$B4" true '["sh", "-c", "echo on-the-terminal; tty"]'
"$HELPERS/consock" "$T/console.sock" "$T/console.out" &
CONSOCK=$!
wait_until test -S "$T/console.sock"
"$SUB" "$OCI" --root "$ROOT" create --bundle "$B4" --console-socket "$T/console.sock" c4 \; "$OCI" --root "$ROOT" start c4 > "$T/reaped4"
wait "$CONSOCK"
check_eq "with a terminal, the container's status is reaped" "exited 0" "$(cat "$T/reaped4")"
check_match "--console-socket receives a pty master" "^pty [0-9]+" "$(head -1 "$T/console.out")"
check_match "... on which the container writes, with the pty as its terminal" "on-the-terminal.*/dev/pts/[0-9]+" "$(tr -d '\r' < "$T/console.out" | tr '\n' ' ')"
oci delete c4 >/dev/null 2>&1

# ---- errors: named, logged as JSON, nothing left ----
B5=$T/b5
oci_bundle "$B5" false '["true"]' ', "uidMappings": [ { "containerID": 0, "hostID": 1000, "size": 1 } ]'
check_status "create with user namespace mappings fails" 1 "$OCI" --root "$ROOT" --log "$T/log.json" --log-format json create --bundle "$B5" c5
check_match "... naming config.json and the key" "shuttle-oci: create c5: $B5/config.json: linux.uidMappings" "$(cat "$T/err")"
check_match "the --log file's last line is JSON with level error and the message" '^\{"level": ?"error", ?"msg": ?"create c5: .*linux.uidMappings.*", ?"time": ?"[0-9T:.-]+Z"\}$' "$(tail -1 "$T/log.json")"
check_eq "... and nothing is left under --root" "" "$(ls "$ROOT" 2>/dev/null)"

# ---- CAP_MKNOD: nodes can be made, but the devices cgroup keeps them shut ----
B8=$T/b8
oci_bundle "$B8" false '["sh", "-c", "mknod /dev/l0 b 7 0; head -c 1 /dev/l0; head -c 3 /dev/zero | wc -c"]'
sed -i 's/"CAP_KILL"/"CAP_KILL", "CAP_MKNOD"/g' "$B8/config.json"
oci run --bundle "$B8" c8 > "$T/mknod.out" 2> "$T/mknod.err"
check_match "a block device the container makes cannot be opened" "/dev/l0: Operation not permitted" "$(cat "$T/mknod.err")"
check_eq "... while /dev/zero can" "3" "$(tr -d ' ' < "$T/mknod.out")"
check_eq "... and nothing is left" "" "$(ls "$ROOT" 2>/dev/null)"

# ---- hooks: prestart, createContainer, poststart, poststop with the state on stdin ----
B9=$T/b9
oci_bundle "$B9" false '["true"]'
hook() { printf '{ "path": "/bin/sh", "args": ["sh", "-c", "%s"] }' "$1"; }
sed -i "s|\"hostname\": \"ocitest\",|\"hostname\": \"ocitest\", \"hooks\": { \
  \"prestart\": [ $(hook "cat > $T/prestart.json") ], \
  \"createContainer\": [ $(hook "hostname > /shared/createcontainer.out") ], \
  \"poststart\": [ $(hook "cat > $T/poststart.json") ], \
  \"poststop\": [ $(hook "cat > $T/poststop.json"), $(hook "exit 3"), $(hook "echo after > $T/poststop2.out") ] },|" "$B9/config.json"
"$SUB" "$OCI" --root "$ROOT" create --bundle "$B9" c9 \; "$OCI" --root "$ROOT" start c9 \; \
        sh -c "sleep 0.2; '$OCI' --root '$ROOT' delete c9 2> '$T/del9.err'" > /dev/null
check_match "prestart gets the created state on stdin" '"id":"c9".*"status":"created".*"bundle":"'"$B9"'"' "$(cat "$T/prestart.json" 2>/dev/null)"
check_eq "createContainer runs in the container's namespaces (its root, its host name)" "ocitest" "$(cat "$B9/shared/createcontainer.out" 2>/dev/null)"
check_match "poststart gets the running state" '"status":"running"' "$(cat "$T/poststart.json" 2>/dev/null)"
check_match "poststop gets the stopped state at delete" '"status":"stopped"' "$(cat "$T/poststop.json" 2>/dev/null)"
check_eq "a failing poststop hook is a warning; the next one still runs" "after" "$(cat "$T/poststop2.out" 2>/dev/null)$(grep -q 'warning: hooks.poststop\[1\]' "$T/del9.err" || echo ' (no warning)')"

# ---- a failing prestart hook: start fails, the container is stopped and deleted ----
B11=$T/b11
oci_bundle "$B11" false '["touch", "/shared/ran"]'
sed -i "s|\"hostname\": \"ocitest\",|\"hostname\": \"ocitest\", \"hooks\": { \"prestart\": [ $(hook "exit 1") ] },|" "$B11/config.json"
oci create --bundle "$B11" c11 >/dev/null 2>&1
check_status "start with a failing prestart hook fails" 1 oci start c11
check_match "... naming the hook" "start c11: hooks.prestart\[0\]: hook '/bin/sh' exited with 1" "$(cat "$T/err")"
check_eq "... the command never ran and the container is gone" "" "$(ls -A "$B11/shared" 2>/dev/null)$(ls -A "$ROOT" 2>/dev/null)"

# ---- a config.json without a process: created, never started ----
B10=$T/b10
oci_bundle "$B10" false '["true"]'
python3 -c "import json,sys; c=json.load(open(sys.argv[1])); del c['process']; json.dump(c, open(sys.argv[1], 'w'))" "$B10/config.json"
check_status "create without a process" 0 oci create --bundle "$B10" c10
check_status "... start fails" 1 oci start c10
check_match "... saying there is nothing to start" "start c10: .*no process" "$(cat "$T/err")"
oci delete --force c10 >/dev/null 2>&1

# ---- spec and features ----
B12=$T/b12
mkdir -p "$B12" && cp -a "$B/rootfs" "$B12/rootfs"
oci spec --bundle "$B12" > /dev/null 2>&1
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"hostname"/' "$B12/config.json"
check_status "the config.json of spec runs" 0 oci run --bundle "$B12" c12
check_status "spec never overwrites a config.json" 1 oci spec --bundle "$B12"
check_match "features says which spec versions it reads" '"ociVersionMax": ?"1\.' "$(oci features | tr -d '\n')"

# ---- linux.cgroupsPath (absolute) with cpu shares and a cpuset ----
# From each hierarchy's root; the parent this test names is its own, made
# by create, left by delete (as runc), removed here.
CGP=shuttle-test-ocicg-$$
B9=$T/b9
oci_bundle "$B9" false '["sh", "-c", "touch /shared/started; exec sleep 1000"]' ", \"cgroupsPath\": \"/$CGP/c9\""
sed -i 's/"pids": { "limit": 77 } }/"pids": { "limit": 77 }, "cpu": { "shares": 512, "cpus": "0" } }/' "$B9/config.json"
"$SUB" "$OCI" --root "$ROOT" create --bundle "$B9" c9 \; "$OCI" --root "$ROOT" start c9 \; \
        sh -c "i=0; while [ ! -e '$B9/shared/started' ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i+1)); done; cat /sys/fs/cgroup/cpu/$CGP/c9/cpu.shares /sys/fs/cgroup/cpuset/$CGP/c9/cpuset.cpus > '$T/cg9' 2>&1; cat /sys/fs/cgroup/memory/$CGP/c9/cgroup.procs > '$T/procs9' 2>&1; cat '$ROOT/c9/state.json' > '$T/state9'; '$OCI' --root '$ROOT' state c9 > '$T/st9'" \; \
        "$OCI" --root "$ROOT" delete --force c9 > "$T/reaped9"
PID9=$(sed -n 's/.*"pid": \([0-9]*\),.*/\1/p' "$T/st9")
check_eq "cgroupsPath: cpu.shares and cpuset.cpus written at /sys/fs/cgroup/{cpu,cpuset}/PATH" "512 0" "$(tr '\n' ' ' < "$T/cg9" | sed 's/ $//')"
check_match "... the container's process is in the memory cgroup at PATH" "^$PID9\$" "$(cat "$T/procs9")"
check_match "... and the state records it" "/sys/fs/cgroup/memory/$CGP/c9" "$(cat "$T/state9")"
check_eq "delete --force removes the cgroup at PATH in every hierarchy" "" "$(ls -d /sys/fs/cgroup/*/"$CGP"/c9 2>/dev/null)"
for d in /sys/fs/cgroup/*/"$CGP"; do [ -d "$d" ] && rmdir "$d"; done

# ---- run in the foreground: the container's status, nothing left ----
B6=$T/b6
oci_bundle "$B6" false '["sh", "-c", "exit 5"]'
check_status "run exits with the container's status" 5 oci run --bundle "$B6" c6
check_eq "... and deletes it" "" "$(ls "$ROOT" 2>/dev/null)"

finish
