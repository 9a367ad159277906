#!/bin/bash
# invoke-reuse: what the broker keeps of a target between invocations.
# An invocation's cgroup that its app left empty serves the target's next
# invocation (no cgroup made and removed per call); one that held anything
# else when it ended is ended and removed as before, and what someone put
# into a kept one is ended with the next invocation.  The target's state
# file is read again when another is in its place; a target started again
# under the same name is a new one; nothing is left below the target's
# cgroup when the broker stops.
. "$(dirname "$0")/lib.sh"
require_root
plan 14

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - id: a-sh
    from: a
    to: b
    allow: invoke
    app: /bin/sh
YAML

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
SI=/run/shuttle/bin/shuttle-invoke

start_b() {
        "${SRUN[@]}" --name b -- sleep 600 >"$T/b.out" 2>&1 &
        b_job=$!
        wait_until test -S "$STATE_DIR/broker/b/broker.sock" || diag "b did not register: $(cat "$T/b.out")"
        b_init=$(container_init_pid b)
}
start_b

# b's cgroup directories, one a line (its state file's "cgroups").
b_cgroups() {
        sed -n 's/.*"cgroups":\[\([^]]*\)\].*/\1/p' "$STATE_DIR/containers/b/state.json" | tr ',' '\n' | tr -d '"'
}
# The invocation cgroups below each of b's directories, one a line.
inv_dirs() {
        local d
        for d in $(b_cgroups); do
                find "$d" -mindepth 1 -maxdepth 1 -type d -name 'shuttle-invoke-*'
        done
}
# The name of the invocation cgroup an app runs in (its pids line on v1,
# the unified one on v2).
SHOW_CG='grep -E ":pids:|^0::" /proc/self/cgroup | sed "s|.*/||"'
inv() { srun --name a -- $SI b /bin/sh -c "$1" 2>&1; }

# 1. Sequential invocations: one cgroup, kept empty between them.
n1=$(inv "$SHOW_CG")
n2=$(inv "$SHOW_CG")
check_match "an invocation runs in a cgroup of its own" "^shuttle-invoke-[0-9-]+$" "$n1"
check_eq "the next one runs in the same cgroup, which the first left empty" "$n1" "$n2"
dirs=$(inv_dirs)
check_eq "between invocations one invocation cgroup is left in each of b's hierarchies, empty" \
        "$(b_cgroups | grep -c .) $(b_cgroups | grep -c .) 0" \
        "$(echo "$dirs" | grep -c .) $(echo "$dirs" | grep -c "/$n1\$") $(for d in $dirs; do cat "$d/cgroup.procs"; done | wc -l)"

# 2. An app that leaves a daemon behind: the daemon is ended with the
# invocation, whose cgroup then goes; the next invocation gets another.
n3=$(inv "setsid sh -c 'sleep 1021 &'; $SHOW_CG")
check_eq "an invocation that leaves a daemon runs in the kept cgroup" "$n1" "$n3"
if pgrep -xf "sleep 1021" >/dev/null; then not_ok "... the daemon is ended with it"; pkill -KILL -xf "sleep 1021"; else
        ok "... the daemon is ended with it"; fi
n4=$(inv "$SHOW_CG")
check_match "... and that cgroup is not used again: the next invocation has a new one" \
        "^shuttle-invoke-[0-9-]+ (yes|no)$" "$n4 $([ "$n4" != "$n1" ] && echo yes)"
check_eq "... and the one that held the daemon is removed" "" "$(inv_dirs | grep "/$n1\$")"

# 3. Something put into the kept cgroup (here by the host; in a container,
# by whoever may write its cgroup files) is ended with the next
# invocation and counted, and that cgroup goes.
sleep 1022 &
intruder=$!
for d in $(inv_dirs); do echo "$intruder" >"$d/cgroup.procs"; done
n5=$(inv "$SHOW_CG")
if wait_for "! kill -0 $intruder"; then wait "$intruder" 2>/dev/null; st=$?; else
        kill -KILL "$intruder"; wait "$intruder" 2>/dev/null; st="still running"; fi
check_eq "a process put into the kept cgroup is killed when the next invocation ends" "$n4 137" "$n5 $st"
check_match "... counted in the record of its end" '"op":"end".*"exit_code":0.*"killed":1' \
        "$(audit_grep '"op":"end"' | tail -1)"
check_eq "... and that cgroup is removed" "" "$(inv_dirs | grep "/$n4\$")"

# 4. The state file: read again when another file is in its place (here,
# one that names another host name, which the app sees as $HOSTNAME).
f=$STATE_DIR/containers/b/state.json
cp "$f" "$T/state.orig"
h1=$(inv 'echo $HOSTNAME')
sed 's/"hostname":[^,}]*/"hostname":"renamed-b"/' "$T/state.orig" >"$f.test" && mv "$f.test" "$f"
h2=$(inv 'echo $HOSTNAME')
cp "$T/state.orig" "$f.test" && mv "$f.test" "$f"
h3=$(inv 'echo $HOSTNAME')
check_eq "the target's state file is read again when it is replaced" "b renamed-b b" "$h1 $h2 $h3"

# 5. b started again under the same name: a new target, nothing of the
# old one used.
kill -TERM $b_job
wait $b_job 2>/dev/null
wait_for '[ ! -e "$STATE_DIR/containers/b" ]'
start_b
n6=$(inv "$SHOW_CG")
n7=$(inv "$SHOW_CG")
pids_dir=$(cgroup_dir_of_pid "$b_init" pids)
if [ -n "$n6" ] && [ "$n6" = "$n7" ] && [ -d "$pids_dir/$n6" ]; then
        ok "b started again: its invocations run in one cgroup below the new b's"
else
        not_ok "b started again: its invocations run in one cgroup below the new b's"
        diag "'$n6' then '$n7', below '$pids_dir': $(ls "$pids_dir" | grep shuttle-invoke | tr '\n' ' ')"
fi

# 6. The broker stops: the kept cgroup goes with it (b runs on).
stop_broker
check_eq "when the broker stops, no invocation cgroup is left below b's" "" "$(inv_dirs)"
check_status "... while b still runs" 0 kill -0 "$b_init"

kill -TERM $b_job
wait $b_job 2>/dev/null
finish
