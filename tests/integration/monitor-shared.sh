#!/bin/bash
# run --detach: the detached containers of one state directory share one
# shuttle-monitor (the first start starts it, it ends with its last
# container); another state directory has its own.  Each container keeps
# its own log, stop and teardown; a signal to the monitor goes to all of
# them; killing it ends all of them (nothing runs unwatched), leaves their
# entries stale for the next start, and the next detached start gets a new
# monitor.  A connection that never sends stalls nothing.
. "$(dirname "$0")/lib.sh"
require_root
plan 29

S=(--state-dir "$STATE_DIR")
S2DIR=$(mktemp -d "/tmp/shuttle-it-$TEST_NAME-2.XXXXXX")
trap 'for n in other; do "$SHUTTLECTL" kill --state-dir "$S2DIR" "$n" KILL >/dev/null 2>&1; done
      wait_for "[ -z \"\$(ls -A \"$S2DIR/containers\" 2>/dev/null)\" ]"; rm -rf "$S2DIR"; cleanup_lib' EXIT

owner_of() { sed -n 's/.*"owner_pid":\([0-9]*\).*/\1/p' "$2/containers/$1/state.json" 2>/dev/null; }
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
gone() { [ -z "$(leftovers "$1")" ]; }
log_of() { sctl logs "${S[@]}" "$1" | grep -v '^shuttlectl:' | tr '\n' ' ' | sed 's/ $//'; }
memcg() { grep -m1 -E '^[0-9]+:([^:]*,)?memory(,[^:]*)?:' "/proc/$1/cgroup"; }

for i in 1 2 3; do
        srun --detach --name "d$i" -- sh -c "echo out$i; echo err$i >&2; exec sleep 300" >/dev/null 2>&1
done
mon=$(owner_of d1 "$STATE_DIR")
check_eq "three detached containers of one state directory name one owner" "$mon $mon $mon" \
        "$(owner_of d1 "$STATE_DIR") $(owner_of d2 "$STATE_DIR") $(owner_of d3 "$STATE_DIR")"
check_eq "... which is shuttle-monitor" "shuttle-monitor" "$(basename "$(readlink "/proc/$mon/exe")")"
check_eq "... holding this state directory's monitor lock" "yes" \
        "$(ls -l /proc/"$mon"/fd 2>/dev/null | grep -qE " $STATE_DIR/monitor\.[0-9a-f]{8}\.lock\$" && echo yes || echo no)"
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$mon/status")
diag "shared monitor RSS with 3 containers: ${rss} KB"
check_eq "... whose RSS is below 1 MB (${rss} KB)" "yes" "$([ "${rss:-99999}" -lt 1024 ] && echo yes || echo no)"
init1=$(container_init_pid d1)
check_eq "... outside the containers' memory cgroup" "yes" "$([ "$(memcg "$mon")" != "$(memcg "$init1")" ] && echo yes || echo no)"
n=$(ls -l /proc/"$mon"/fd 2>/dev/null | grep -c pidfd)
check_eq "... watching the three inits (three pidfds)" "3" "$n"

srun --detach --state-dir "$S2DIR" --name other -- sleep 300 >/dev/null 2>&1
mon2=$(owner_of other "$S2DIR")
check_eq "another state directory's container has a monitor of its own" "shuttle-monitor yes" \
        "$(basename "$(readlink "/proc/$mon2/exe")") $([ "$mon2" != "$mon" ] && echo yes || echo no)"

# A start from another cgroup (another login session, another service)
# gets a monitor of its own, in that cgroup: ending that cgroup's processes
# ends only what was started from there.
pidsmnt=$(awk '$3 == "cgroup" && $4 ~ /(^|,)pids(,|$)/ { print $2; exit }' /proc/mounts)
CG=$pidsmnt$(grep -m1 -E '^[0-9]+:pids:' /proc/self/cgroup | cut -d: -f3)/shuttle-it-mon-$$
if [ -n "$pidsmnt" ] && mkdir "$CG" 2>/dev/null; then
        (echo "$BASHPID" >"$CG/cgroup.procs" && exec "${SRUN[@]}" --detach --name othercg -- sleep 300) >/dev/null 2>&1
        mon3=$(owner_of othercg "$STATE_DIR")
        check_eq "a start from another cgroup gets a monitor of its own, in that cgroup" "yes yes" \
                "$([ -n "$mon3" ] && [ "$mon3" != "$mon" ] && echo yes) $(grep -qxF "$mon3" "$CG/cgroup.procs" && echo yes)"
        sctl stop "${S[@]}" othercg >/dev/null 2>&1
        wait_for "rmdir '$CG'"
        [ -d "$CG" ] && diag "could not remove $CG"
else
        ok "# SKIP no cgroup v1 pids hierarchy to make another cgroup in"
fi

wait_for '[ "$(log_of d3)" = "out3 err3" ]'
check_eq "each container's log has its own output only" "out1 err1|out2 err2|out3 err3" \
        "$(log_of d1)|$(log_of d2)|$(log_of d3)"
check_eq "exec reaches a container whose init is not the monitor's child" "hello" \
        "$(sctl exec "${S[@]}" d2 echo hello 2>&1)"

sctl stop "${S[@]}" d1 >/dev/null 2>&1
check_eq "stop ends one container, and takes its cgroups and state" "" "$(leftovers d1)"
check_eq "... the monitor stays for the others" "yes $mon" "$(alive "$mon" && echo yes) $(owner_of d2 "$STATE_DIR")"
check_eq "... which still run" "d2 running d3 running" \
        "$(sctl ps "${S[@]}" | awk '$1 == "d2" || $1 == "d3" { printf "%s %s ", $1, $3 }' | sed 's/ $//')"

# A client that connects and never sends does not stall the monitor.
python3 - "$(ls "$STATE_DIR"/monitor.*.sock)" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
time.sleep(8)
EOF
idler=$!
sctl kill "${S[@]}" d2 TERM >/dev/null 2>&1
wait_until gone d2
check_eq "with a silent client connected, a container's end is still seen to" "" "$(leftovers d2)"
out=$(srun --detach --name d4 -- sleep 300 2>&1)
check_eq "... and a new container is still taken (by the same monitor)" "0 d4 $mon" "$? $out $(owner_of d4 "$STATE_DIR")"
kill "$idler" 2>/dev/null; wait "$idler" 2>/dev/null

# A signal to the monitor goes to every container it has.
kill -TERM "$mon"
wait_until gone d3 && wait_until gone d4
check_eq "SIGTERM to the monitor ends all its containers, each torn down" "" "$(leftovers d3; leftovers d4)"
wait_for "! alive $mon"
check_eq "... and the monitor ends with its last container" "no" "$(alive "$mon" && echo yes || echo no)"
check_eq "... taking its socket away" "" "$(ls "$STATE_DIR"/monitor.*.sock 2>/dev/null)"
check_eq "the other state directory's monitor is untouched" "yes running" \
        "$(alive "$mon2" && echo yes) $(sctl ps --state-dir "$S2DIR" | awk '$1 == "other" { print $3 }')"

# Killing the monitor: every container it had ends with it.
srun --detach --name k1 -- sh -c 'echo k1 was here; exec sleep 300' >/dev/null 2>&1
srun --detach --name k2 -- sleep 300 >/dev/null 2>&1
mon=$(owner_of k1 "$STATE_DIR")
check_eq "the next detached start gets a new monitor, shared again" "yes $mon" \
        "$(alive "$mon" && echo yes) $(owner_of k2 "$STATE_DIR")"
ns1=$(readlink "/proc/$(container_init_pid k1)/ns/pid")
ns2=$(readlink "/proc/$(container_init_pid k2)/ns/pid")
wait_for '[ "$(log_of k1)" = "k1 was here" ]'
kill -KILL "$mon"
wait_for '[ -z "$(alive_in_pidns "$ns1")$(alive_in_pidns "$ns2")" ]'
check_eq "SIGKILL to the monitor ends all its containers (nothing runs unwatched)" "" \
        "$(alive_in_pidns "$ns1")$(alive_in_pidns "$ns2")"
check_eq "... ps shows neither running" "" "$(sctl ps "${S[@]}" | awk '$1 == "k1" || $1 == "k2"')"
check_eq "... ps -a shows both stale" "k1 stale k2 stale" \
        "$(sctl ps "${S[@]}" -a | awk '$1 == "k1" || $1 == "k2" { printf "%s %s ", $1, $3 }' | sed 's/ $//')"
check_eq "... stop says it is not running" "1" "$(sctl stop "${S[@]}" k1 >/dev/null 2>&1; echo $?)"
check_eq "... its log keeps what it wrote" "k1 was here" "$(log_of k1)"
out=$(srun --detach --name k1 -- true 2>&1)
check_eq "... the next start of that name works, with a new monitor" "0 k1" "$? $out"
wait_until gone k1
sctl ps "${S[@]}" >/dev/null 2>&1
wait_until gone k2
check_eq "... and nothing of either is left" "" "$(leftovers k1; leftovers k2)"

# Started at once: one monitor still (one start takes the monitor lock and
# starts it, the others wait for its socket).
pids=()
for i in 1 2 3 4 5 6 7 8; do
        srun --detach --name "p$i" -- sleep 300 >/dev/null 2>&1 &
        pids+=($!)
done
wait "${pids[@]}"
check_eq "eight detached starts at once share one monitor" "8 1" \
        "$(for i in 1 2 3 4 5 6 7 8; do owner_of "p$i" "$STATE_DIR"; echo; done | grep -c .) $(for i in 1 2 3 4 5 6 7 8; do owner_of "p$i" "$STATE_DIR"; echo; done | grep . | sort -u | wc -l)"
kill -TERM "$(owner_of p1 "$STATE_DIR")"
for i in 1 2 3 4 5 6 7 8; do wait_until gone "p$i"; done
check_eq "... and all end with a signal to it" "" "$(for i in 1 2 3 4 5 6 7 8; do leftovers "p$i"; done)"

sctl stop --state-dir "$S2DIR" other >/dev/null 2>&1
finish
