#!/bin/bash
# An idle broker sleeps: with containers registered and nothing to do, its
# loop is not woken (no periodic timer); after a request it wakes only
# until the request's audit record is synced, then sleeps again.  Counted
# as the voluntary context switches of its main thread (the loop's), over
# a second.
. "$(dirname "$0")/lib.sh"
require_root
plan 5

policy_a_uses_kv >"$T/policy.yaml"

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro" -v "$(cd "${top_builddir:-.}" && pwd):/opt/b:ro")

# switches: the broker loop's voluntary context switches so far.
switches() { awk '/^voluntary_ctxt_switches:/ { print $2 }' "/proc/$BROKER_PID/task/$BROKER_PID/status"; }
# wakeups_over SECONDS: how many times the loop woke meanwhile.
wakeups_over() {
        local before after
        before=$(switches)
        sleep "$1"
        after=$(switches)
        echo $((after - before))
}

"${SRUN[@]}" --name b "${VOL[@]}" --export kv=/run/kv.sock -- $H/sockecho serve kv /run/kv.sock >"$T/b.out" 2>&1 &
wait_until grep -q serving "$T/b.out" || diag "b did not start: $(cat "$T/b.out")"
"${SRUN[@]}" --name idle -- sleep 600 >"$T/idle.out" 2>&1 &
wait_until sh -c "'$SHUTTLECTL' ps --state-dir '$STATE_DIR' | grep -q idle" || diag "idle did not register"
# Let registration's records be synced (the batch interval is 100 ms).
sleep 0.3

n=$(wakeups_over 1.5)
diag "idle broker, two containers: $n wakeups in 1.5 s"
# The old loop woke every 100 ms: 15 in 1.5 s.
check_status "with two containers registered and no requests, the loop sleeps (≤ 2 wakeups in 1.5 s)" 0 \
        test "$n" -le 2

out=$(echo hello | srun --name a "${VOL[@]}" -- /opt/b/shuttle-connect b.kv 2>&1)
check_eq "a request is served" "kv:hello" "$out"
check_match "... and its record is in the log" '"op":"connect","object":"b.kv","decision":"allow"' \
        "$(audit_grep '"op":"connect"')"
sleep 0.3
n=$(wakeups_over 1.5)
diag "after the request: $n wakeups in 1.5 s"
check_status "after it (its record synced), the loop sleeps again" 0 test "$n" -le 2

stop_broker
check_eq "the timer was armed without error throughout" "0" "$(grep -c 'Cannot arm' "$T/shuttled.log")"
finish
