#!/bin/bash
# A policy's 'tests' gate every load of it: a broker reload (policy reload
# and SIGHUP) whose tests fail is refused with the failing case's
# file:line:col, and the old policy keeps serving; a broker does not start
# on such a policy; a group whose policy's tests fail does not start.
. "$(dirname "$0")/lib.sh"
require_root
plan 9

H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro")

# Lines matter: the refusal names the case at line 9, column 5.
good_policy() {
        cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - {id: a-kv, from: a, to: b, allow: ipc, endpoint: kv}
  - {id: c-kv, from: c, to: b, allow: ipc, endpoint: kv}
tests:
  - {name: a reaches kv, from: a, to: b, kind: ipc, endpoint: kv, expect: allow, rule: a-kv}
  - {name: c reaches kv, from: c, to: b, kind: ipc, endpoint: kv, expect: allow}
  - {name: nobody else, from: d, to: b, kind: ipc, endpoint: kv, expect: deny}
YAML
}
# The same tests over rules that let anyone reach kv: the third case fails.
broken_policy() {
        cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - {id: a-kv, from: a, to: b, allow: ipc, endpoint: kv}
  - {id: anyone-kv, from: "*", to: b, allow: ipc, endpoint: kv}
tests:
  - {name: a reaches kv, from: a, to: b, kind: ipc, endpoint: kv, expect: allow, rule: a-kv}
  - {name: c reaches kv, from: c, to: b, kind: ipc, endpoint: kv, expect: allow}
  - {name: nobody else, from: d, to: b, kind: ipc, endpoint: kv, expect: deny}
YAML
}

good_policy
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
"${SRUN[@]}" --name b "${VOL[@]}" --export kv=/run/kv.sock -- $H/sockecho serve kv /run/kv.sock >"$T/b.out" 2>&1 &
wait_until grep -q serving "$T/b.out" || diag "b did not start: $(cat "$T/b.out")"

out=$(srun --name d "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv before 2>&1)
check_nomatch "with the tested policy, d cannot reach b's kv" "kv:before" "$out"

broken_policy
out=$("$SHUTTLECTL" policy reload --state-dir "$STATE_DIR" 2>&1; echo "rc=$?")
check_match "a reload whose test fails is refused with the case's file:line:col" \
        "$T/policy.yaml:9:5: test failed: 'nobody else': d -> b ipc endpoint=kv: expected deny, got allow by rule 'anyone-kv'" \
        "$out"
check_match "... and policy reload exits 1, nothing applied" "refused, nothing applied.*rc=1" "$(echo $out)"
out=$(srun --name d "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv after-refusal 2>&1)
check_nomatch "... the old policy still serves: d still cannot reach kv" "kv:after-refusal" "$out"
out=$(srun --name a "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv after-refusal 2>&1)
check_eq "... and a still can" "kv:after-refusal" "$out"

reload_broker
check_match "SIGHUP is refused the same way, logged with the position" \
        "policy.yaml:9:5: test failed" "$(grep -A3 'Policy reload refused' "$T/shuttled.log" | tail -4)"

good_policy
out=$("$SHUTTLECTL" policy reload --state-dir "$STATE_DIR" 2>&1; echo "rc=$?")
check_match "once the tests pass, the reload is applied" "policy reloaded.*rc=0" "$(echo $out)"
stop_broker

broken_policy
"$SHUTTLED" --foreground --state-dir "$T/state2" --audit-log "$T/audit2.jsonl" --policy "$T/policy.yaml" \
        >"$T/start.out" 2>&1 &
pid=$!
wait_until sh -c "! kill -0 $pid 2>/dev/null"
# (A broker that did start is stopped here, and says so.)
kill -0 $pid 2>/dev/null && { kill -TERM $pid; echo "it started" >>"$T/start.out"; }
wait $pid
rc=$?
check_match "a broker does not start on a policy whose tests fail" "policy.yaml:9:5: test failed.*rc=[1-9]" \
        "$(echo $(cat "$T/start.out") rc=$rc)"

# A group whose (inline) policy's test fails is refused before anything
# starts; the message names the group file's line and column.
cat >"$T/group.yaml" <<'YAML'
group: gt
policy:
  version: 1
  rules:
    - {id: w-kv, from: w, to: s, allow: ipc, endpoint: kv}
  tests:
    - {from: w, to: s, kind: ipc, endpoint: other, expect: allow}
containers:
  s: { command: ["true"] }
  w: { command: ["true"] }
YAML
out=$(timeout 30 "$SHUTTLECTL" run --state-dir "$STATE_DIR" "$T/group.yaml" 2>&1; echo "rc=$?")
check_match "a group whose policy's test fails does not start" \
        "group.yaml:7:7: test failed: w -> s ipc endpoint=other: expected allow, got deny.*rc=[12]" "$(echo $out)"

finish
