#!/bin/bash
# invoke-tree: an invocation is the app and everything it starts.  Each
# runs in a cgroup of its own below the target's; when it ends (the app
# exits, the caller goes, the broker stops or died, the target stops)
# every process in it is killed, its cgroup removed, and the end audited,
# before the caller gets the exit status.
. "$(dirname "$0")/lib.sh"
require_root
plan 20

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - id: a-sh
    from: "a*"
    to: b
    allow: invoke
    app: /bin/sh
    limit: { max_open: 1 }
YAML

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
SI=/run/shuttle/bin/shuttle-invoke
mkdir -p "$T/x"

"${SRUN[@]}" --name b -- sleep 600 >"$T/b.out" 2>&1 &
b_job=$!
wait_until test -S "$STATE_DIR/broker/b/broker.sock" || diag "b did not register: $(cat "$T/b.out")"

# The host pid of the one process whose command line is exactly "$1".
pid_of() { pgrep -xf "$1" | head -1; }
# The invocation cgroup (pids hierarchy on v1, the unified one on v2) of
# host pid $1.
inv_cgroup_of() {
        local d
        d=$(cgroup_dir_of_pid "$1" pids)
        case $d in */shuttle-invoke-*) echo "$d" ;; esac
}
gone() { ! pgrep -xf "$1" >/dev/null; }
# Clean up after a failed check: the test's own processes only.
reap() { pkill -KILL -xf "$1" 2>/dev/null; }

# 1. The caller goes while the app's background child runs.
"${SRUN[@]}" --name a --volume "$T/x:/x" -- sh -c "$SI b /bin/sh -c 'sleep 1011 & wait' & p=\$!
        i=0; while [ ! -e /x/go ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i + 1)); done
        kill -KILL \$p; sleep 0.2" >/dev/null 2>&1 &
a_job=$!
wait_until pgrep -xf "sleep 1011"
child=$(pid_of "sleep 1011")
cg=$(inv_cgroup_of "${child:-0}")
if [ -n "$cg" ] && [ -d "$cg" ]; then ok "the app's child runs in the invocation's own cgroup below b's"; else
        not_ok "the app's child runs in the invocation's own cgroup below b's"; diag "child ${child:-none} in '${cg}'"; fi
touch "$T/x/go"
if wait_until gone "sleep 1011"; then ok "the background child dies when the caller goes"; else
        not_ok "the background child dies when the caller goes"; reap "sleep 1011"; fi
if [ -n "$cg" ] && wait_until test ! -d "$cg"; then ok "... and the invocation's cgroup is removed"; else
        not_ok "... and the invocation's cgroup is removed"; diag "cgroup '$cg'"; fi
wait $a_job 2>/dev/null
rm -f "$T/x/go"
wait_until audit_grep '"op":"end".*"reason":"caller gone"'
check_match "the end is audited, with the leftover killed" \
        '"from":"a","to":"b","kind":"invoke","op":"end","object":"/bin/sh","decision":"allow","rule":"a-sh","reason":"caller gone",.*"signal":9.*"killed":1' \
        "$(audit_grep '"op":"end".*"caller gone"')"

# 2. A daemon (double fork, own session) outlives the app's normal exit:
# it is killed when the invocation ends, before the caller gets the exit
# status; until then the invocation is still running (max_open: 1 counts
# it), after that it is not.
srun --name a -- sh -c "$SI b /bin/sh -c 'setsid sh -c \"sleep 1012 &\"; echo started'; echo rc=\$?
        $SI b /bin/sh -c 'echo second'; echo rc=\$?" >"$T/out2" 2>&1
left=$(pgrep -xf "sleep 1012")
check_eq "the caller gets the app's status" "started rc=0 second rc=0" "$(tr '\n' ' ' <"$T/out2" | sed 's/ $//')"
if [ -z "$left" ]; then ok "the daemonized child is gone when the caller gets the app's exit status"; else
        not_ok "the daemonized child is gone when the caller gets the app's exit status"; reap "sleep 1012"; fi
check_match "the end is audited: app exited with 0, one leftover killed" \
        '"op":"end","object":"/bin/sh","decision":"allow","rule":"a-sh","reason":"app exited",.*"exit_code":0.*"killed":[12]' \
        "$(audit_grep '"op":"end".*"app exited"' | head -1)"
# (one left empty serves the next invocation: invoke-reuse.sh)
b_pids=$(cgroup_dir_of_pid "$(container_init_pid b)" pids)
check_eq "no shuttle-invoke cgroup with a process in it is left below b" "" \
        "$(find "$b_pids" -mindepth 2 -maxdepth 2 -path '*/shuttle-invoke-*/cgroup.procs' -exec cat {} + 2>/dev/null)"

# 3. max_open: 1 counts the invocation while it runs (with its child); once
# it is over (the caller ended it), the next one is allowed.
srun --name a --volume "$T/x:/x" -- sh -c "$SI b /bin/sh -c 'sleep 1013 & wait' & p=\$!
        i=0; while [ ! -e /x/go ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i + 1)); done
        $SI b /bin/sh -c 'echo second'; echo rc=\$?; kill -TERM \$p; wait \$p
        $SI b /bin/sh -c 'echo third'" >"$T/out3" 2>&1 &
a_job=$!
wait_until pgrep -xf "sleep 1013"
touch "$T/x/go"
wait $a_job 2>/dev/null
rm -f "$T/x/go"
check_match "max_open counts the running invocation, and allows one once it is over" \
        "max_open of rule .a-sh. reached.*rc=125.*third" "$(tr '\n' ' ' <"$T/out3")"
if wait_until gone "sleep 1013"; then ok "... and its child went with it"; else
        not_ok "... and its child went with it"; reap "sleep 1013"; fi

# 4. The broker stops (SIGTERM): it ends every invocation, children too.
"${SRUN[@]}" --name a4 -- $SI b /bin/sh -c 'sleep 1014 & wait' >/dev/null 2>&1 &
a_job=$!
wait_until pgrep -xf "sleep 1014"
stop_broker
if wait_until gone "sleep 1014"; then ok "a stopping broker ends its invocations' children"; else
        not_ok "a stopping broker ends its invocations' children"; reap "sleep 1014"; fi
check_match "... audited" '"op":"end","object":"/bin/sh".*"reason":"broker stopping".*"killed":1' \
        "$(audit_grep '"broker stopping"')"
kill -TERM $a_job 2>/dev/null; wait $a_job 2>/dev/null

# 5. A broker killed outright: the app dies with it, its child is ended by
# the next broker, which re-adopts b.
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not restart"; exit 1; }
wait_until test -S "$STATE_DIR/broker/b/broker.sock"
"${SRUN[@]}" --name a5 -- $SI b /bin/sh -c 'sleep 1015 & wait' >"$T/a5.out" 2>&1 &
a_job=$!
wait_until pgrep -xf "sleep 1015" || diag "no sleep 1015: $(cat "$T/a5.out")" "$(tail -5 "$T/shuttled.log")"
child=$(pid_of "sleep 1015")
cg=$(inv_cgroup_of "${child:-0}")
kill -KILL "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null; BROKER_PID=
kill -TERM $a_job 2>/dev/null; wait $a_job 2>/dev/null
if ! pgrep -xf "sleep 1015" >/dev/null; then
        diag "the child died with the broker already"
fi
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not restart"; exit 1; }
if wait_until gone "sleep 1015"; then ok "a restarted broker ends what a killed one's invocations left"; else
        not_ok "a restarted broker ends what a killed one's invocations left"; reap "sleep 1015"; fi
if [ -n "$cg" ] && wait_until test ! -d "$cg"; then ok "... and removes their cgroups"; else
        not_ok "... and removes their cgroups"; diag "cgroup '$cg'"; fi
wait_until audit_grep 'left by a previous broker'
check_match "... audited" '"to":"b","kind":"invoke","op":"end",.*"reason":"invocations left by a previous broker",.*"killed":1,"cgroups":1' \
        "$(audit_grep 'left by a previous broker')"

# 6. The target stops while an invocation with a child runs in it: b's
# cgroup goes whole (the invocation's below it first), the child with it.
"${SRUN[@]}" --name a6 -- $SI b /bin/sh -c 'sleep 1016 & wait' >/dev/null 2>&1 &
a_job=$!
wait_until pgrep -xf "sleep 1016"
b_cgroups="$(cgroup_dir_of_pid "$(container_init_pid b)" pids) $(cgroup_dir_of_pid "$(container_init_pid b)" memory)"
check_status "stop b succeeds with an invocation running in it" 0 "$SHUTTLECTL" stop --state-dir "$STATE_DIR" --time 2 b
wait $b_job 2>/dev/null
if wait_until gone "sleep 1016"; then ok "... and the invocation's child is gone"; else
        not_ok "... and the invocation's child is gone"; reap "sleep 1016"; fi
check_eq "b's cgroups are gone" "" "$(ls -d $b_cgroups 2>/dev/null)"
wait $a_job 2>/dev/null
wait_until audit_grep '"op":"end".*"object":"/bin/sh".*"(target stopped|app exited)".*"pid"' 
check_match "... and the invocation's end is audited" '"op":"end","object":"/bin/sh".*"reason":"(target stopped|app exited)"' \
        "$(audit_grep '"op":"end"' | tail -1)"

"$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify >"$T/verify" 2>&1
check_eq "the audit chain verifies" "0" "$?"
stop_broker
finish
