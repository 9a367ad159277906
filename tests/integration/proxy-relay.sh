#!/bin/bash
# The broker's byte relay behind the proxy sockets (programs without the
# shim): every byte arrives, in order; an end of stream goes through in
# each direction on its own (half-close), and before the close of a client
# that hangs up at once; and a peer that never reads
# stalls its own connection only: the broker serves everyone else
# meanwhile (invariant 12, and 5: a container slows only itself), and a
# client that hangs up while its bytes wait for a server that does not read
# costs the broker nothing while they wait.
. "$(dirname "$0")/lib.sh"
require_root
plan 13

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - { id: a-uses-kv, from: a, to: b, allow: ipc, endpoint: kv }
  - { id: a-uses-sink, from: a, to: b, allow: ipc, endpoint: sink }
  - { id: a-uses-hold, from: a, to: b, allow: ipc, endpoint: hold }
  - { id: a-uses-count, from: a, to: b, allow: ipc, endpoint: count }
YAML
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro")

# b: kv answers "kv:<line>", sink echoes every byte until the end of
# stream, hold accepts and never reads, count prints how many bytes each
# connection brought before its end.
"${SRUN[@]}" --name b "${VOL[@]}" --export kv=/run/kv.sock --export sink=/run/sink.sock --export hold=/run/hold.sock \
        --export count=/run/count.sock \
        -- sh -c "$H/relaycall hold /run/hold.sock & $H/relaycall count /run/count.sock & exec $H/sockecho serve kv /run/kv.sock sink /run/sink.sock" \
        >"$T/b.out" 2>&1 &
b_ready() { grep -q serving "$T/b.out" && grep -q holding "$T/b.out" && grep -q counting "$T/b.out"; }
wait_until b_ready || diag "b did not start: $(cat "$T/b.out")"
# a without the shim: its connects are the proxy path's.
"${SRUN[@]}" --name a --no-shim "${VOL[@]}" -- sleep 600 >"$T/a.out" 2>&1 &
wait_until test -S "$STATE_DIR/broker/a/svc/b.sink" || diag "a has no proxy socket: $(cat "$T/a.out")"
ax() { sctl exec --state-dir "$STATE_DIR" a -- "$@"; }
SINK=/run/shuttle/svc/b.sink

# ---- every byte, and half-close each way ----
out=$(ax $H/relaycall halfclose $SINK 16777216 2>&1)
check_eq "16 MiB through the relay and back, then our end of stream, then b's: every byte" "16777216" "$out"
out=$(ax $H/relaycall halfclose $SINK 1 2>&1)
check_eq "one byte, then the end of stream" "1" "$out"
out=$(ax $H/relaycall halfclose $SINK 0 2>&1)
check_eq "an end of stream with nothing before it goes through as well" "0" "$out"

# ---- a client that sends and closes at once (no shutdown, no read) ----
# Its hangup may reach the broker with its bytes, before the relay has
# started, or while they wait for b: b still gets them all, then the end.
counted() { grep -qx "count $1" "$T/b.out"; }
ax $H/relaycall sendclose /run/shuttle/svc/b.count 1
wait_until counted 1
check_eq "one byte, then a close at once: b reads the byte, then the end of stream" "count 1" \
        "$(grep -x 'count 1' "$T/b.out")"
ax $H/relaycall sendclose /run/shuttle/svc/b.count 4194304
wait_until counted 4194304
check_eq "4 MiB (more than every buffer on the way), then a close at once: all of it, then the end" "count 4194304" \
        "$(grep -x 'count 4194304' "$T/b.out")"

# ---- a peer that never reads ----
ax $H/relaycall stuck $SINK 60 >"$T/stuck.out" 2>"$T/stuck.err" &
stuckpid=$!
wait_until grep -q stuck "$T/stuck.out"
check_eq "a client that never reads what b echoes fills every buffer of its connection" "stuck" "$(cat "$T/stuck.out")"
out=$(timeout 20 "$SHUTTLECTL" exec --state-dir "$STATE_DIR" a -- $H/sockecho call /run/shuttle/svc/b.kv other 2>&1)
check_eq "meanwhile another proxied connection of a's is answered" "kv:other" "$out"
out=$(timeout 30 "$SHUTTLECTL" exec --state-dir "$STATE_DIR" a -- $H/relaycall halfclose $SINK 8388608 2>&1)
check_eq "... and another stream runs through whole" "8388608" "$out"
broker_answers
check_eq "... and the broker answers its control socket" "0" "$?"
kill -TERM $stuckpid 2>/dev/null
wait $stuckpid 2>/dev/null

# ---- a client that hangs up, its bytes waiting for a server that does not read ----
ax $H/relaycall stuck /run/shuttle/svc/b.hold 0 >"$T/hup.out" 2>&1
check_eq "a client fills every buffer towards a server that never reads, then exits" "stuck" "$(head -n 1 "$T/hup.out")"
# The broker's CPU time over two seconds (its own process: utime + stime,
# in clock ticks): a loop woken by the hangup on every turn would use
# most of them.
ticks() { awk '{ print $14 + $15 }' "/proc/$BROKER_PID/stat"; }
t0=$(ticks); sleep 2; t1=$(ticks)
hz=$(getconf CLK_TCK)
if [ $((t1 - t0)) -lt $((hz / 4)) ]; then ok "... and the broker stays idle while the bytes wait ($((t1 - t0)) ticks in 2 s)"; else
        not_ok "... and the broker stays idle while the bytes wait"; diag "$((t1 - t0)) ticks of CPU in 2 s (CLK_TCK $hz)"; fi

check_eq "all nine over the proxy path (proxy-connect records, no fast-path connect)" "9 0" \
        "$(audit_grep '"from":"a","to":"b","kind":"ipc","op":"proxy-connect".*"decision":"allow"' | wc -l) $(audit_grep '"from":"a","to":"b","kind":"ipc","op":"connect"' | wc -l)"
"$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify >"$T/verify" 2>&1
check_eq "the audit chain verifies" "0" "$?"
stop_broker
finish
