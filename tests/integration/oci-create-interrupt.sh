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
plan 17

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
kill -TERM "$job"
wait "$job"
rc=$?
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
kill -INT "$job"
wait "$job"
rc=$?
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

# ---- the same ID again, with a bundle that does not wait ----
oci_bundle "$T/b4" false '["sh", "-c", "exit 0"]'
check_status "afterwards, create i1 again succeeds" 0 oci create --bundle "$T/b4" i1
check_eq "... it is created" "created" "$(oci_status i1)"
check_status "... and deleted" 0 oci delete --force i1
check_eq "... leaving nothing" "" "$(ls -A "$ROOT" 2>/dev/null | grep -v '^\.')"

finish
