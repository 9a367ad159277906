#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# linux.seccomp.listenerPath (docs/OCI.md): a profile with SCMP_ACT_NOTIFY
# rules gets its notify fd to the agent listening there, with the
# runtime-spec's container process state (ociVersion, fds, pid, metadata,
# the container's state while "creating"); the agent's answers are what the
# container's calls return (an errno, a value, or the call goes on).  No
# agent: create fails naming listenerPath and leaves no container, state
# or cgroup.  A notify rule without listenerPath, or listenerMetadata
# without it, is refused at config read.
. "$(dirname "$0")/lib.sh"
require_root

oci_setup
AGENT=$HELPERS/seccomp-agent
SOCK=$T/agent.sock

# make_bundle DIR SECCOMP-JSON ARGS-JSON
make_bundle() {
        local dir=$1 seccomp=$2 args=$3
        mkdir -p "$dir/rootfs/bin" "$dir/rootfs/tmp" "$dir/rootfs/proc"
        cp "$BUSYBOX" "$dir/rootfs/bin/busybox"
        ln -sf busybox "$dir/rootfs/bin/sh"
        cat > "$dir/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "user": { "uid": 0, "gid": 0 },
    "args": $args,
    "env": [ "PATH=/bin" ],
    "cwd": "/",
    "noNewPrivileges": true
  },
  "root": { "path": "rootfs" },
  "mounts": [ { "destination": "/proc", "type": "proc", "source": "proc" },
              { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs" } ],
  "annotations": { "org.example.test": "notify" },
  "linux": {
    "namespaces": [ { "type": "pid" }, { "type": "uts" }, { "type": "mount" }, { "type": "ipc" } ],
    "seccomp": $seccomp
  }
}
JSON
}

RULES='"syscalls": [ { "names": [ "mkdir", "mkdirat" ], "action": "SCMP_ACT_NOTIFY" } ]'
PROFILE="{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$SOCK\",
  \"listenerMetadata\": \"meta-42\", $RULES }"
# mkdir /x: the agent answers EROFS (30); mkdir /y: "success" (0) without
# making it; mkdir /tmp/z: the agent lets the call go on.
SCRIPT='["sh", "-c", "busybox mkdir /x; echo x-status=$?; busybox mkdir /y && echo y-ok; [ -d /y ] || echo y-absent; busybox mkdir /tmp/z && [ -d /tmp/z ] && echo z-made; busybox ls -l /proc/self/fd/ /proc/1/fd/ | busybox grep -c anon_inode:seccomp"]'

# start_agent OUT RULE...: the agent in the background, listening on $SOCK.
start_agent() {
        local out=$1
        shift
        rm -f "$SOCK"
        "$AGENT" "$SOCK" "$out" "$@" &
        AGENT_PID=$!
        wait_until grep -q '^listening$' "$out"
}
state_of() { oci state "$1" 2>/dev/null | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p'; }
# What a container named ID could have left: its state, its cgroups.
left_of() {
        ls -d "$ROOT/$1" 2>/dev/null
        find /sys/fs/cgroup -maxdepth 4 -type d -name "$1.*" -path "*shuttle*" 2>/dev/null
}

plan 38

B=$T/b
make_bundle "$B" "$PROFILE" "$SCRIPT"

# ---- create: the agent gets the state and the fd ----
start_agent "$T/agent1" /x:errno:30 /y:value:0
oci create --bundle "$B" n1 >"$T/n1.out" 2>"$T/n1.err"
check_eq "create with a notify profile and its agent listening succeeds" "0" "$?$(head -c 300 "$T/n1.err")"
PID=$(oci state n1 2>/dev/null | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
A=$(cat "$T/agent1")
check_match "the agent got the fd: a seccomp notify fd" "^fd=seccomp$" "$A"
check_match "... named seccompFd in fds" "^fds=seccompFd$" "$A"
check_match "... with ociVersion" "^ociVersion=1\.0\.2$" "$A"
check_eq "... the container's pid (as the runtime sees it)" "pid=$PID" "$(grep '^pid=' <<<"$A")"
check_match "... listenerMetadata as metadata" "^metadata=meta-42$" "$A"
check_match "... the state's id" "^state\.id=n1$" "$A"
check_match "... the state's status: creating" "^state\.status=creating$" "$A"
check_eq "... the state's pid and bundle" "state.pid=$PID state.bundle=$B" \
        "$(grep '^state\.pid=' <<<"$A") $(grep '^state\.bundle=' <<<"$A")"
check_eq "the container is created" "created" "$(state_of n1)"

# ---- start: the agent's answers are what mkdir returns ----
oci start n1
check_eq "start succeeds" "0" "$?"
wait_until grep -q '^done$' "$T/agent1"
wait "$AGENT_PID" 2>/dev/null
wait_for '[ "$(state_of n1)" = stopped ]'
OUT=$(cat "$T/n1.out" "$T/n1.err")
check_match "mkdir /x gets the agent's errno (EROFS)" "mkdir: .*/x.*Read-only file system" "$OUT"
check_match "... and fails" "^x-status=1$" "$OUT"
check_match "mkdir /y gets the agent's value: success" "^y-ok$" "$OUT"
check_match "... without a directory made (the agent answered, not the kernel)" "^y-absent$" "$OUT"
check_match "mkdir /tmp/z goes on in the kernel (CONTINUE)" "^z-made$" "$OUT"
check_match "the agent saw each call, with the container's pids" "notify mkdir(at)? /x pid=[0-9]+$" "$(cat "$T/agent1")"
check_match "no process of the container holds the notify fd" "^0$" "$OUT"
oci delete n1 >/dev/null 2>&1

# ---- run, without no_new_privs, notifying close(2) too ----
# The filter is loaded before the ids change (noNewPrivileges false); the
# container's process closes its copy of the fd and says it is created
# after the agent has it, so those calls may be notify calls as well.
B10=$T/b10
make_bundle "$B10" "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$SOCK\",
  \"syscalls\": [ { \"names\": [ \"mkdir\", \"mkdirat\", \"close\" ], \"action\": \"SCMP_ACT_NOTIFY\" } ] }" \
        '["sh", "-c", "busybox mkdir /x; echo x-status=$?"]'
sed -i 's/"noNewPrivileges": true/"noNewPrivileges": false/' "$B10/config.json"
start_agent "$T/agent10" /x:errno:30
timeout -s KILL 20 "$OCI" --root "$ROOT" run --bundle "$B10" n10 >"$T/n10.out" 2>&1
check_eq "run without no_new_privs, close(2) notified too: the agent answers, the container runs" "0" "$?"
check_match "... mkdir /x gets the agent's errno" "mkdir: .*/x.*Read-only file system" "$(cat "$T/n10.out")"
check_match "... the agent answered the container's close calls" "^notify other  pid=[0-9]+ continue$" "$(cat "$T/agent10")"
check_eq "... the state had no metadata (no listenerMetadata)" "state.id=n10 " \
        "$(grep -E '^(metadata|state\.id)=' "$T/agent10" | tr '\n' ' ')"
kill "$AGENT_PID" 2>/dev/null
wait "$AGENT_PID" 2>/dev/null

# ---- exec: the exec'd process's notify fd goes to the agent too ----
B6=$T/b6
make_bundle "$B6" "$PROFILE" '["sh", "-c", "busybox touch /tmp/up; exec busybox sleep 1000"]'
start_agent "$T/agent6"
oci create --bundle "$B6" n6 >"$T/n6.out" 2>&1 && oci start n6
wait_until grep -q '^state.status=creating$' "$T/agent6"
# Its agent stays until the container ends: stopped here (the container's
# process makes no call it would be asked about).
kill "$AGENT_PID" 2>/dev/null
wait "$AGENT_PID" 2>/dev/null
start_agent "$T/agent7" /x:errno:13
oci exec --pid-file "$T/n7.pid" n6 sh -c 'busybox mkdir /x; echo x-status=$?; busybox mkdir /tmp/w && echo w-made' >"$T/n7.out" 2>&1
check_eq "exec with a notify profile and its agent listening runs" "0" "$?"
A=$(cat "$T/agent7")
check_match "the agent of exec got a seccomp notify fd" "^fd=seccomp$" "$A"
check_match "... with the container's state: running" "^state\.status=running$" "$A"
check_eq "... and the exec'd process's pid (--pid-file's)" "pid=$(cat "$T/n7.pid" 2>/dev/null)" "$(grep "^pid=" <<<"$A")"
OUT=$(cat "$T/n7.out")
check_match "the exec'd mkdir /x gets the agent's errno (EACCES)" "mkdir: .*/x.*Permission denied" "$OUT"
check_match "... other paths go on in the kernel" "^w-made$" "$OUT"
# No agent: exec fails naming listenerPath, and its command never ran.
wait_until grep -q "^done$" "$T/agent7"
wait "$AGENT_PID" 2>/dev/null
rm -f "$SOCK"
oci exec n6 sh -c 'busybox touch /tmp/ran' >"$T/n8.out" 2>&1
check_eq "exec without an agent fails" "1" "$?"
check_match "... naming listenerPath" "linux\.seccomp\.listenerPath '$SOCK': .*No such file or directory" "$(cat "$T/n8.out")"
start_agent "$T/agent9"
oci exec n6 sh -c 'busybox ls /tmp' >"$T/n9.out" 2>&1
wait_until grep -q "^done$" "$T/agent9"
wait "$AGENT_PID" 2>/dev/null
check_eq "... its command never ran (nothing of it before the agent has the fd)" "up w" "$(tr '\n' ' ' <"$T/n9.out" | sed 's/ $//')"
oci delete --force n6 >/dev/null 2>&1

# ---- no agent: create fails naming listenerPath, nothing is left ----
rm -f "$SOCK"
oci create --bundle "$B" n2 >"$T/n2.out" 2>"$T/n2.err"
check_eq "create without an agent listening fails" "1" "$?"
check_match "... naming listenerPath" "linux\.seccomp\.listenerPath '$SOCK': .*No such file or directory" "$(cat "$T/n2.err")"
check_eq "... and leaves no container, state or cgroup" "" "$(left_of n2; oci state n2 2>/dev/null)"

# ---- refused at config read ----
B4=$T/b4
make_bundle "$B4" "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", $RULES }" '["true"]'
oci create --bundle "$B4" n4 >"$T/n4.out" 2>"$T/n4.err"
check_eq "a notify rule without listenerPath: create fails" "1" "$?"
check_match "... naming linux.seccomp.listenerPath" "config\.json: linux\.seccomp\.listenerPath: required when a rule's action is SCMP_ACT_NOTIFY" "$(cat "$T/n4.err")"
B5=$T/b5
make_bundle "$B5" '{ "defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "m" }' '["true"]'
oci create --bundle "$B5" n5 >"$T/n5.out" 2>"$T/n5.err"
check_match "listenerMetadata without listenerPath is refused" "config\.json: linux\.seccomp\.listenerMetadata: set without listenerPath" "$?:$(cat "$T/n5.err")"
check_eq "... and neither left a container" "" "$(left_of n4; left_of n5)"

finish
