#!/bin/bash
# Policy reloads run off the broker's event loop (invariant 12).  A reload
# is held in flight by SHUTTLED_TEST_RELOAD_GATE, a FIFO this test feeds one
# line per load, so the order of events is fixed without timing: while it
# waits, a container's request and other control requests are answered;
# reloads asked meanwhile are queued (and joined); each asker gets the
# answer it got before; a refused policy keeps the old one; a broker
# stopped mid-reload exits.
. "$(dirname "$0")/lib.sh"
require_root
plan 19

H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro")
GATE=$T/gate
mkfifo "$GATE"

# release: lets one held load go on (blocks until the worker waits).
release() { timeout 20 sh -c "echo go >'$GATE'"; }
# pending PID: the shuttlectl PID is still waiting for its answer.
pending() { kill -0 "$1" 2>/dev/null; }
# gone PID: wait (bounded) until PID has exited.
gone() { wait_until sh -c "! kill -0 $1 2>/dev/null"; }
reload_bg() { "$SHUTTLECTL" policy reload --state-dir "$STATE_DIR" >"$1" 2>&1; echo "rc=$?" >>"$1"; }

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - {id: a-kv, from: a, to: b, allow: ipc, endpoint: kv}
YAML
SHUTTLED_TEST_RELOAD_GATE=$GATE start_broker --policy "$T/policy.yaml" ||
        { echo "Bail out! shuttled did not start"; exit 1; }

"${SRUN[@]}" --name b "${VOL[@]}" --export kv=/run/kv.sock -- $H/sockecho serve kv /run/kv.sock >"$T/b.out" 2>&1 &
wait_until grep -q serving "$T/b.out" || diag "b did not start: $(cat "$T/b.out")"

# A big policy (20,000 rules) that still grants a-kv.
{ printf 'version: 1\ndefault: deny\nrules:\n'
  printf '  - {id: a-kv, from: a, to: b, allow: ipc, endpoint: kv}\n'
  awk 'BEGIN { for (i = 0; i < 20000; i++) printf "  - {from: x%d, to: y, allow: ipc}\n", i }'
} >"$T/policy.yaml"

reload_bg "$T/r1" &
r1=$!
out=$(srun --name a "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv during-reload 2>&1)
check_eq "a container's request is answered while a reload is held in flight" "kv:during-reload" "$out"
check_status "... and that reload is still waiting for its answer" 0 pending $r1
check_status "... and so is a control request (transfer ls)" 0 "$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR"

# Two more reloads meanwhile: the first queues behind the one in flight,
# the second joins it (both are asked before either starts reading).
reload_bg "$T/r2" &
r2=$!
wait_until grep -q "queued behind a policy load in progress" "$T/shuttled.log"
reload_bg "$T/r3" &
r3=$!
wait_until grep -q "joins the one already queued" "$T/shuttled.log"
check_status "... a second reload is queued, a third joins it" 0 grep -q "joins the one already queued" "$T/shuttled.log"

release
gone $r1
check_eq "the held reload answers as before once it is let go, with what it read" \
        "policy reloaded shuttled: $T/policy.yaml: 20001 rules rc=0" "$(echo $(cat "$T/r1"))"
check_status "... while the queued ones still wait" 0 pending $r2
release
gone $r2; gone $r3
check_eq "one load answers both queued reloads" \
        "policy reloaded shuttled: $T/policy.yaml: 20001 rules rc=0 policy reloaded shuttled: $T/policy.yaml: 20001 rules rc=0" \
        "$(echo $(cat "$T/r2" "$T/r3"))"
check_eq "... with the new policy in place" "20001" \
        "$("$SHUTTLECTL" policy check "$T/policy.yaml" | sed -n 's/.*valid, \([0-9]*\) rules.*/\1/p')"

# A refused reload: a deeply nested file is rejected at the cap, with its
# position, and the old policy keeps serving.
{ printf 'version: 1\nrules: '; head -c 100000 /dev/zero | tr '\0' '['; head -c 100000 /dev/zero | tr '\0' ']'; echo; } \
        >"$T/policy.yaml"
reload_bg "$T/r4" &
r4=$!
out=$(srun --name a "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv during-bad-reload 2>&1)
check_eq "a request is answered while a refused reload is in flight" "kv:during-bad-reload" "$out"
release
gone $r4
check_match "the refused reload reports file:line:col and fails" \
        "policy.yaml:2:15: nesting deeper than 8 levels.*rc=1" "$(echo $(cat "$T/r4"))"
check_match "... logged by the broker" "Policy reload refused, keeping the old policies" "$(cat "$T/shuttled.log")"
out=$(srun --name a "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv after-bad-reload 2>&1)
check_eq "... and the old policy still serves" "kv:after-bad-reload" "$out"

# SIGHUP goes the same way: held, the loop answers, then logged.
printf 'version: 1\ndefault: deny\nrules: []\n' >"$T/policy.yaml"
before=$(grep -c "Policy reloaded" "$T/shuttled.log")
kill -HUP "$BROKER_PID"
out=$(srun --name a "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv during-sighup 2>&1)
check_eq "a request is answered while a SIGHUP reload is held" "kv:during-sighup" "$out"
release
wait_until sh -c "[ \$(grep -c 'Policy reloaded' '$T/shuttled.log') -gt $before ]"
out=$(srun --name a "${VOL[@]}" -- sh -c 'ls -A /run/shuttle/svc' 2>&1)
check_eq "... and once applied, the grant it dropped is gone" "" "$out"

# A shadow policy is loaded by the worker too (issue 16): held at the
# gate, the broker answers meanwhile, and a --clear asked after it waits
# its turn.
printf 'version: 1\nrules:\n  - {id: s, from: a, to: b, deny: ipc}\n' >"$T/shadow.yaml"
"$SHUTTLECTL" policy shadow --state-dir "$STATE_DIR" "$T/shadow.yaml" >"$T/s1" 2>&1 &
s1=$!
wait_until sh -c "[ \$(ls /proc/$BROKER_PID/task | wc -l) -ge 2 ]"
check_status "a control request is answered while a shadow policy load is held" 0 \
        "$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR"
"$SHUTTLECTL" policy shadow --state-dir "$STATE_DIR" --clear >"$T/s2" 2>&1 &
s2=$!
check_status "... the load and a --clear asked after it both wait" 0 sh -c "kill -0 $s1 && kill -0 $s2"
release
gone $s1; gone $s2
check_eq "... let go, the load is applied, then the clear" \
        "shadow policy: $T/shadow.yaml: 1 rules|shadow policy cleared no shadow policy" \
        "$(echo $(cat "$T/s1"))|$(echo $(cat "$T/s2"))"

# A client that hangs up while its reload waits does not disturb the
# broker, and a broker stopped with a reload in flight exits.  The worker
# is a second thread of shuttled while it runs (held at the gate).
"$SHUTTLECTL" policy reload --state-dir "$STATE_DIR" >/dev/null 2>&1 &
r5=$!
wait_until sh -c "[ \$(ls /proc/$BROKER_PID/task | wc -l) -ge 2 ]"
kill $r5 2>/dev/null
wait $r5 2>/dev/null
check_status "a client gone while its reload waits leaves the broker answering" 0 \
        "$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR"
kill -TERM "$BROKER_PID"
gone "$BROKER_PID"
check_status "a broker stopped while a reload is held exits" 1 kill -0 "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null
BROKER_PID=

stop_broker
finish
