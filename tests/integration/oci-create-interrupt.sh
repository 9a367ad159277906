#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shuttle-oci create told to stop while it waits (a createRuntime or
# createContainer hook that would sleep 30 s): SIGTERM, SIGINT and plain
# timeout(1) end it promptly with a non-zero status, naming the signal, and
# nothing of the container is left: its state directory, its first
# process, its cgroup, the hook.  The same ID can be created afterwards.
# (Before, create blocked these signals and waited for the hook's end.)
. "$(dirname "$0")/lib.sh"
require_root

oci_setup
plan 21

# hook_bundle DIR KIND PIDFILE: a bundle whose KIND hook writes its pid to
# PIDFILE (as the hook sees it) and sleeps 30 s (no timeout of its own).
hook_bundle() {
        oci_bundle "$1" false '["sh", "-c", "exit 0"]'
        python3 - "$1/config.json" "$2" "$3" <<'PY'
import json, sys
path, kind, pidfile = sys.argv[1:4]
c = json.load(open(path))
c["hooks"] = {kind: [{"path": "/bin/sh", "args": ["sh", "-c", "echo $$ > %s; exec sleep 30" % pidfile]}]}
json.dump(c, open(path, "w"))
PY
}
alive() { kill -0 "$1" 2>/dev/null; }
# stop_job PID SIGNAL: sends SIGNAL to create (our child) and reaps it,
# waiting a bounded time: a create that does not stop is killed (and the
# checks that follow fail) rather than holding the test.  Its status in RC.
stop_job() {
        kill -"$2" "$1"
        wait_until sh -c "! kill -0 $1 2>/dev/null || grep -q '^Z' /proc/$1/stat 2>/dev/null" ||
                { diag "create did not stop on SIG$2: killed"; kill -KILL "$1"; }
        wait "$1"
        RC=$?
}
# leftovers ID INIT-PID HOOK-PID CGROUPS...: what is left of a create.
leftovers() {
        local id=$1 init=$2 hook=$3 cg
        shift 3
        [ -e "$ROOT/$id" ] && echo "state:$ROOT/$id"
        [ -n "$init" ] && alive "$init" && echo "init:$init"
        [ -n "$hook" ] && alive "$hook" && echo "hook:$hook"
        for cg in "$@"; do [ -d "$cg" ] && echo "cgroup:$cg"; done
}
cgroups_of() { sed -n 's/.*"cgroups": *\[\([^]]*\)\].*/\1/p' "$ROOT/$1/state.json" | tr -d '"' | tr ',' ' '; }
pid_of() { sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$ROOT/$1/state.json"; }

# ---- SIGTERM during a createRuntime hook ----
# (Started directly: $! is then create itself.)
hook_bundle "$T/b1" createRuntime "$T/createRuntime.pid"
"$OCI" --root "$ROOT" create --bundle "$T/b1" i1 >"$T/i1.out" 2>"$T/i1.err" &
job=$!
wait_until test -s "$T/createRuntime.pid" || diag "the hook did not start: $(cat "$T/i1.err")"
init1=$(pid_of i1)
cg1=$(cgroups_of i1)
hook1=$(cat "$T/createRuntime.pid")
check_match "while the hook runs, the container exists: a process and a cgroup" "^[0-9]+ .*i1" "$init1 $cg1"
t0=$(date +%s%N)
stop_job "$job" TERM
rc=$RC
t1=$(date +%s%N)
check_match "SIGTERM ends create with a non-zero status" "^[1-9][0-9]*$" "$rc"
check_match "... promptly (well under the hook's 30 s)" "^[0-4]$" "$(((t1 - t0) / 1000000000))"
check_match "... saying why, naming the signal and the hook" \
        "create i1: interrupted by SIGTERM: hooks.createRuntime\[0\]: hook '/bin/sh' interrupted; the container is taken down" \
        "$(cat "$T/i1.err")"
wait_for '[ -z "$(leftovers i1 "$init1" "$hook1" $cg1)" ]'
check_eq "... nothing is left: state, first process, hook, cgroup" "" "$(leftovers i1 "$init1" "$hook1" $cg1)"
check_status "... state i1 says it does not exist" 1 oci state i1

# ---- SIGINT during a createContainer hook (in the container's namespaces) ----
hook_bundle "$T/b2" createContainer /shared/hook.pid
"$OCI" --root "$ROOT" create --bundle "$T/b2" i2 >"$T/i2.out" 2>"$T/i2.err" &
job=$!
wait_until test -s "$T/b2/shared/hook.pid" || diag "the hook did not start: $(cat "$T/i2.err")"
init2=$(pid_of i2)
cg2=$(cgroups_of i2)
t0=$(date +%s%N)
stop_job "$job" INT
rc=$RC
t1=$(date +%s%N)
check_match "SIGINT ends create during a createContainer hook, non-zero" "^[1-9][0-9]*$" "$rc"
check_match "... promptly" "^[0-4]$" "$(((t1 - t0) / 1000000000))"
check_match "... naming SIGINT" "create i2: interrupted by SIGINT: hooks.createContainer\[0\]" "$(cat "$T/i2.err")"
# The hook wrote its pid as its own pid namespace sees it: the host's
# pids of what is left are checked through the init and the cgroups.
wait_for '[ -z "$(leftovers i2 "$init2" "" $cg2)" ]'
check_eq "... nothing is left" "" "$(leftovers i2 "$init2" "" $cg2)"

# ---- timeout(1) without -s KILL, as the previous note found it could not ----
rm -f "$T/createRuntime.pid"
t0=$(date +%s%N)
timeout 3 "$OCI" --root "$ROOT" create --bundle "$T/b1" i3 >"$T/i3.out" 2>"$T/i3.err" &
job=$!
wait_until test -s "$T/createRuntime.pid" || diag "the hook did not start: $(cat "$T/i3.err")"
init3=$(pid_of i3)
cg3=$(cgroups_of i3)
hook3=$(cat "$T/createRuntime.pid")
wait "$job"
rc=$?
t1=$(date +%s%N)
check_eq "timeout 3 shuttle-oci create: ended by its SIGTERM (status 124)" "124" "$rc"
check_match "... within a few seconds" "^[3-6]$" "$(((t1 - t0) / 1000000000))"
wait_for '[ -z "$(leftovers i3 "$init3" "$hook3" $cg3)" ]'
check_eq "... nothing is left" "" "$(leftovers i3 "$init3" "$hook3" $cg3)"

# ---- SIGTERM while create waits for the container's first process ----
# Its seccomp profile notifies close(), and the agent at listenerPath takes
# the notify fd but never answers: the process, closing its copy of the fd
# before it says it is created, waits for ever, and so did create.
SOCK=$T/agent.sock
python3 - "$SOCK" "$T/agent.out" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
open(sys.argv[2], "w").write("listening\n")
c, _ = s.accept()
msg, fds, flags, addr = socket.recv_fds(c, 65536, 4)
open(sys.argv[2], "a").write("got %d\n" % len(fds))
time.sleep(30)
PY
agent=$!
wait_until grep -q '^listening$' "$T/agent.out" || diag "the agent did not start"
oci_bundle "$T/b5" false '["sh", "-c", "exit 0"]' ", \"seccomp\": { \"defaultAction\": \"SCMP_ACT_ALLOW\",
  \"listenerPath\": \"$SOCK\", \"syscalls\": [ { \"names\": [ \"close\" ], \"action\": \"SCMP_ACT_NOTIFY\" } ] }"
"$OCI" --root "$ROOT" create --bundle "$T/b5" ocintr-wait >"$T/i5.out" 2>"$T/i5.err" &
job=$!
wait_until grep -q '^got 1$' "$T/agent.out" || diag "the agent got no fd: $(cat "$T/i5.err")"
# Its cgroup (ours: named after this test's ID) holds the waiting process.
cg5=$(ls -d /sys/fs/cgroup/pids/shuttle/ocintr-wait.* 2>/dev/null)
wait_until test -s "$cg5/cgroup.procs"
init5=$(head -n 1 "$cg5/cgroup.procs" 2>/dev/null)
check_match "create waits for the container's process, which waits for the agent" "^[0-9]+ .*/ocintr-wait\." \
        "$init5 $cg5 $(alive "$job" && echo create-waits)"
t0=$(date +%s%N)
stop_job "$job" TERM
rc=$RC
t1=$(date +%s%N)
check_match "SIGTERM ends that wait: non-zero, promptly" "^[1-9][0-9]* [0-4]$" "$rc $(((t1 - t0) / 1000000000))"
check_match "... naming the signal" \
        "create ocintr-wait: interrupted by SIGTERM while the container was being created; nothing of it is left" \
        "$(cat "$T/i5.err")"
wait_for '[ -z "$(leftovers ocintr-wait "$init5" "" "$cg5")" ]'
check_eq "... and nothing is left: state, process, cgroup" "" "$(leftovers ocintr-wait "$init5" "" "$cg5")"
kill "$agent" 2>/dev/null
wait "$agent" 2>/dev/null
# (Only when it failed: what a create that could not stop left.)
alive "$init5" && kill -KILL "$init5"
for d in $(find /sys/fs/cgroup -maxdepth 7 -type d -name 'ocintr-wait.*' 2>/dev/null); do
        wait_until rmdir "$d"
done
rm -rf "${ROOT:?}/ocintr-wait"

# ---- the same ID again, with a bundle that does not wait ----
oci_bundle "$T/b4" false '["sh", "-c", "exit 0"]'
check_status "afterwards, create i1 again succeeds" 0 oci create --bundle "$T/b4" i1
check_eq "... it is created" "created" "$(oci_status i1)"
check_status "... and deleted" 0 oci delete --force i1
check_eq "... leaving nothing" "" "$(ls -A "$ROOT" 2>/dev/null | grep -v '^\.')"

finish
