#!/bin/bash
# The broker, continued: TCP exports, signals across containers, revocation
# on reload, a flooding container, identity, and running without a broker.
. "$(dirname "$0")/lib.sh"
require_root
plan 32

H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro" -v "$(cd "${top_builddir:-.}" && pwd):/opt/b:ro")

# Without a broker: isolated, and shuttlectl says mediation is off.
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --name lone -- sh -c 'ls -A /run/shuttle | wc -l' 2>"$T/err")
check_eq "without a broker the container still runs" "0" "$out"
check_match "... and shuttlectl says mediation is off" "no broker \(shuttled\) is running: container 'lone' runs isolated, mediation is off" "$(cat "$T/err")"
# ... as with --isolated: nothing that only a broker serves is set up (its
# directory at /run/shuttle, the shim), and the notice is said once.
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --name lone -- sh -c \
        'test -e /run/shuttle && echo run-shuttle; echo "preload=$LD_PRELOAD"' 2>"$T/err")
check_eq "... with no /run/shuttle and no shim in it" "preload=" "$out"
check_eq "... said once" "1" "$(grep -c 'mediation is off' "$T/err")"

# A shuttled that fails to start says why on the caller's terminal, and
# its exit status says so, also when it would have detached.
out=$("$SHUTTLED" --state-dir "$T/bad-state" --policy "$T/missing.yaml" 2>&1; echo "rc=$?")
check_match "a broker that cannot start says why and exits 1" "missing.yaml: cannot open.*rc=1" "$(echo $out)"

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - id: a-web
    from: a
    to: b
    allow: ipc
    endpoint: web
    type: tcp
  - id: a-kv
    from: a
    to: b
    allow: ipc
    endpoint: kv
    type: unix
  - id: a-web-as-unix
    from: a
    to: b.two
    allow: ipc
    endpoint: web
    type: unix
  - id: a-dotted
    from: a
    to: b.two
    allow: ipc
    endpoint: kv
  - id: a-rate
    from: a
    to: b
    allow: ipc
    endpoint: rl
    limit: { rate: 2/s }
  - id: a-one-at-a-time
    from: a
    to: b
    allow: ipc
    endpoint: mo
    limit: { max_open: 1 }
  - id: a-signals-b
    from: a
    to: b
    allow: signal
    signals: [USR1]
    limit: { rate: 1/m }
YAML
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }

"${SRUN[@]}" --name b "${VOL[@]}" --export web=tcp:8080 --export kv=/run/kv.sock --export rl=/run/rl.sock \
        --export mo=/run/mo.sock -- \
        sh -c "trap 'echo got-USR1 >> /tmp/sig' USR1; $H/sockecho serve web tcp:8080 kv /run/kv.sock rl /run/rl.sock mo /run/mo.sock & while :; do cat /tmp/sig 2>/dev/null; sleep 0.1; done" \
        >"$T/b.out" 2>&1 &
wait_until grep -q serving "$T/b.out" || diag "b did not start: $(cat "$T/b.out")"

out=$(srun --name a "${VOL[@]}" -- /opt/t/brokercall hello 2>&1)
check_eq "the broker knows a container by its channel" "a" "$out"

out=$(srun --name a "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.web over-tcp 2>&1)
check_eq "a TCP service on b's loopback is reached through a unix path" "web:over-tcp" "$out"
out=$(srun --name a "${VOL[@]}" -- bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080' 2>&1)
check_match "... with no network between the containers" "refused" "$out"

# The type a rule names is the export's: a TCP export is not granted by a
# `type: unix` rule.  And a container name may have dots: the service is
# what follows the last one.
"${SRUN[@]}" --name b.two "${VOL[@]}" --export web=tcp:8081 --export kv=/run/kv.sock -- \
        $H/sockecho serve web tcp:8081 kv /run/kv.sock >"$T/b2.out" 2>&1 &
b2=$!
wait_until grep -q serving "$T/b2.out" || diag "b.two did not start: $(cat "$T/b2.out")"
out=$(srun --name a "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.two.kv dotted 2>&1)
check_eq "a container named b.two is reached at b.two.kv" "kv:dotted" "$out"
out=$(srun --name a "${VOL[@]}" -- sh -c "ls /run/shuttle/svc | grep '^b.two'; /opt/b/shuttle-connect b.two.web </dev/null; echo rc=\$?" 2>&1 | tr '\n' ' ')
check_match "a 'type: unix' rule does not grant b.two's TCP export" "^b.two.kv .*rc=[1-9]" "$out"
check_match "... audited as denied for the tcp export" '"to":"b.two","kind":"ipc","op":"connect","object":"b.two.web","decision":"deny"' "$(audit_grep b.two.web)"
kill -TERM $b2 2>/dev/null; wait $b2 2>/dev/null

out=$(srun --name a "${VOL[@]}" -- $H/brokercall signal b sh USR1 2>&1)
check_eq "a signal the policy allows is delivered" "sent" "$out"
wait_until grep -q got-USR1 "$T/b.out"
check_match "... and b's shell got it" "got-USR1" "$(cat "$T/b.out")"
out=$(srun --name a "${VOL[@]}" -- $H/brokercall signal b sh USR1 2>&1)
check_eq "a second one within the rule's rate (1/m) is refused" "Operation not permitted" "$out"
check_match "... audited with the reason" '"object":"sh:SIGUSR1","decision":"deny","rule":"a-signals-b","reason":"rate limit of rule .a-signals-b. reached' \
        "$(audit_grep 'sh:SIGUSR1')"
out=$(srun --name a "${VOL[@]}" -- $H/brokercall signal b sh TERM 2>&1)
check_eq "a signal the policy does not list is refused" "Operation not permitted" "$out"
check_match "... and audited" '"kind":"signal","op":"kill","object":"sh:SIGTERM","decision":"deny"' "$(audit_grep SIGTERM)"

# Limits: a rate and a number of open connections per grant.
out=$(srun --name a "${VOL[@]}" -- sh -c 'for i in 1 2 3; do echo x | /opt/b/shuttle-connect b.rl >/dev/null 2>&1 && echo ok || echo refused; done' 2>&1 | tr '\n' ' ')
check_eq "rate: 2/s lets two connections through and refuses the third" "ok ok refused " "$out"
check_match "... audited with the rule and why" '"object":"b.rl","decision":"deny","rule":"a-rate","reason":"rate limit of rule .a-rate. reached' "$(audit_grep b.rl)"
out=$(srun --name a --no-shim "${VOL[@]}" -- sh -c ": >/tmp/one; SOCKECHO_HOLD=2 $H/sockecho call /run/shuttle/svc/b.mo one >/tmp/one & i=0; while [ \$i -lt 400 ] && ! grep -q mo:one /tmp/one; do sleep 0.05; i=\$((i+1)); done; cat /tmp/one; $H/sockecho call /run/shuttle/svc/b.mo two; echo rc=\$?; wait" 2>&1 | tr '\n' ' ')
check_match "max_open: 1 refuses a second connection while the first is open" "mo:one .*rc=2" "$out"
check_match "... audited with the rule and why" '"object":"b.mo","decision":"deny","rule":"a-one-at-a-time","reason":"max_open of rule .a-one-at-a-time. reached' "$(audit_grep b.mo)"
out=$(srun --name a "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.mo three 2>&1)
check_eq "... and once it closed, the next one is allowed" "mo:three" "$out"

# Revocation: a proxied connection is cut when a reload takes its grant away.
SOCKECHO_HOLD=2 "${SRUN[@]}" --name a --no-shim -e SOCKECHO_HOLD=2 "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv first >"$T/hold" 2>&1 &
hold=$!
wait_until grep -q "kv:first" "$T/hold"
sed -i 's/endpoint: kv/endpoint: kv-no-more/' "$T/policy.yaml"
kill -HUP "$BROKER_PID"
wait $hold
check_eq "a reload that revokes a grant cuts its proxied connection" "kv:first cut" "$(tr '\n' ' ' <"$T/hold" | sed 's/ $//')"
check_match "... audited as a revocation" '"op":"revoke"' "$(audit_grep revoke)"
out=$(srun --name a "${VOL[@]}" -- sh -c 'ls /run/shuttle/svc' 2>&1 | tr '\n' ' ')
check_eq "... and its proxy socket is gone" "b.mo b.rl b.web " "$out"

# A flooding container slows only itself.
"${SRUN[@]}" --name f "${VOL[@]}" -- $H/brokercall flood 4 >"$T/flood" 2>&1 &
flood=$!
sleep 1
out=$(srun --name a "${VOL[@]}" -- $H/brokercall hellos 200 2>&1)
check_eq "while another container floods the broker, a's 200 requests are answered" "ok 200" "$out"
wait $flood
check_match "the flooder's extra connections were refused" "too many connections from this container" "$(audit_grep '"from":"f"')"
out=$(srun --name a "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.web after-flood 2>&1)
check_eq "the broker serves normally after the flood" "web:after-flood" "$out"

stop_broker
check_eq "a broker stopped by SIGTERM removes its control.sock" "no" "$(test -e "$STATE_DIR/control.sock" && echo yes || echo no)"
# One killed leaves it: the next broker takes it over, and a client that
# connects is told no broker runs (the file alone is no broker).
start_broker
kill -KILL "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null
BROKER_PID=
check_status "after kill -9, control.sock is stale: a client says no broker runs" 1 \
        "$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR"
check_match "... naming the state directory" "no broker is running on $STATE_DIR" "$(cat "$T/err")"
start_broker
check_status "a new broker takes the stale socket over" 0 "$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR"
stop_broker
finish
