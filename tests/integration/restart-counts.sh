#!/bin/bash
# What the broker answered for a while, and what it counts, survives a
# broker killed with SIGKILL: an `ask allow --for` grant is restored for the
# container it was given to (the same process, re-adopted), not for a new
# container that took the name while the broker was down, and not once it
# expired meanwhile (wall clock); a rule's `limit: {uses: N}` count goes on
# where it was (a restart is no way to use a grant more often).
# (Containers are named rc*, which no other test uses.)
. "$(dirname "$0")/lib.sh"
require_root
plan 18

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - { id: rca-asks-kv, from: rca, to: rcb, allow: ipc, endpoint: kv, ask: {timeout: 20s} }
  - { id: rca-asks-slow, from: rca, to: rcb, allow: ipc, endpoint: slow, ask: {timeout: 20s} }
  - { id: rcd-asks-kv, from: rcd, to: rcb, allow: ipc, endpoint: kv, ask: {timeout: 20s} }
  - { id: rca-twice, from: rca, to: rcb, allow: ipc, endpoint: once, limit: {uses: 2} }
YAML

restart_killed() {
        kill -KILL "$BROKER_PID"
        wait "$BROKER_PID" 2>/dev/null
        BROKER_PID=
        rm -f "$STATE_DIR/control.sock"
}

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
VOL=(-v "$(cd "$HELPERS" && pwd):/opt/t:ro" -v "$(cd "${top_builddir:-.}" && pwd):/opt/b:ro")
SX=("$SHUTTLECTL" exec --state-dir "$STATE_DIR")

"${SRUN[@]}" --name rcb "${VOL[@]}" --export kv=/run/kv.sock --export slow=/run/slow.sock \
        --export once=/run/once.sock -- /opt/t/sockecho serve kv /run/kv.sock slow /run/slow.sock once /run/once.sock \
        >"$T/rcb.out" 2>&1 &
wait_until grep -q serving "$T/rcb.out" || diag "rcb did not start: $(cat "$T/rcb.out")"
"${SRUN[@]}" --name rca "${VOL[@]}" -- sh -c 'touch /tmp/ready; exec sleep 600' >"$T/rca.out" 2>&1 &
"${SRUN[@]}" --name rcd "${VOL[@]}" -- sh -c 'touch /tmp/ready; exec sleep 600' >"$T/rcd.out" 2>&1 &
d_job=$!
for n in rca rcd; do
        wait_until "${SX[@]}" $n -- test -e /tmp/ready || diag "$n did not start: $(cat "$T/$n.out")"
done

g_kv=$(ask_grant rca rcb.kv 1h)
g_slow=$(ask_grant rca rcb.slow 2s)
g_d=$(ask_grant rcd rcb.kv 1h)
until_slow=$(sctl ask ls --json --state-dir "$STATE_DIR" | grep -o "\"id\":$g_slow,[^}]*" | sed -n 's/.*"until":\([0-9]*\).*/\1/p')
check_eq "three grants, each with a record of its own (0600)" "600 600 600" \
        "$(for g in $g_kv $g_slow $g_d; do stat -c %a "$STATE_DIR/grants/ask-$g.json" 2>&1; done | tr '\n' ' ' | sed 's/ $//')"
check_eq "rca uses its uses-limited grant once" "once:hi" "$(svc_connect rca rcb.once)"
check_match "... and the count is on disk" '"rule":"rca-twice","from":"rca","used":1' "$(cat "$STATE_DIR/uses.json" 2>&1)"

# The broker dies; while it is down the 2 s grant expires, and rcd stops
# (a new rcd takes its name after the restart).
restart_killed
kill -TERM $d_job
wait $d_job 2>/dev/null
wait_for '[ "$(date +%s)" -gt "${until_slow:-0}" ]'
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not restart"; exit 1; }

grants=$(sctl ask ls --state-dir "$STATE_DIR" | sed -n '/^GRANT/,$p' | tail -n +2)
check_match "after the restart, rca's grant is listed again with its id" "^$g_kv +rca +rcb +ipc +rcb\.kv " "$grants"
check_eq "... and it alone" "1" "$(echo "$grants" | grep -c .)"
check_match "... audited as restored" \
        "\"from\":\"rca\",\"to\":\"rcb\",\"kind\":\"ipc\",\"op\":\"ask-grant\",\"object\":\"rcb.kv\",\"decision\":\"allow\".*\"reason\":\"restored after a broker restart\".*\"ask_grant\":$g_kv" \
        "$(audit_grep '"op":"ask-grant"')"
check_eq "rca's request goes through without asking" "kv:hi" "$(svc_connect rca rcb.kv)"
check_match "... allowed by the restored grant" \
        "\"from\":\"rca\".*\"object\":\"rcb.kv\",\"decision\":\"allow\",\"rule\":\"rca-asks-kv\",\"reason\":\"allowed by an ask grant\".*\"ask_grant\":$g_kv" \
        "$(audit_grep 'allowed by an ask grant' | tail -n 1)"
check_match "the grant that expired while the broker was down is gone, audited" \
        "\"op\":\"ask-grant\",\"object\":\"rcb.slow\",\"decision\":\"deny\".*\"reason\":\"ask grant expired while the broker was down\".*\"ask_grant\":$g_slow" \
        "$(audit_grep '"op":"ask-grant"')"
check_match "so is rcd's, whose container stopped while the broker was down" \
        "\"from\":\"rcd\",\"to\":\"rcb\",\"kind\":\"ipc\",\"op\":\"ask-grant\",\"object\":\"rcb.kv\",\"decision\":\"deny\".*\"reason\":\"the container it was given to stopped while the broker was down\".*\"ask_grant\":$g_d" \
        "$(audit_grep '"op":"ask-grant"')"
check_eq "... their records with them" "absent absent present" \
        "$(for g in $g_slow $g_d $g_kv; do test -e "$STATE_DIR/grants/ask-$g.json" && echo present || echo absent; done | tr '\n' ' ' | sed 's/ $//')"

"${SRUN[@]}" --name rcd "${VOL[@]}" -- sh -c 'touch /tmp/ready; exec sleep 600' >"$T/rcd2.out" 2>&1 &
wait_until "${SX[@]}" rcd -- test -e /tmp/ready || diag "the new rcd did not start: $(cat "$T/rcd2.out")"
svc_connect_bg rcd rcb.kv "$T/rcd2-kv.out"
wait_until has_ask rcd rcb.kv
check_match "a new rcd does not inherit the old one's grant: its request asks" "rcd-asks-kv" "$(ask_line rcd rcb.kv)"
sctl ask deny "$(ask_line rcd rcb.kv | awk '{ print $1 }')" --state-dir "$STATE_DIR" >/dev/null
wait_until grep -q . "$T/rcd2-kv.out"

check_eq "rca's uses-limited grant: the second use after the restart is allowed" "once:hi" "$(svc_connect rca rcb.once)"
check_match "... the third is refused: used up (the restart did not reset the count)" "used-up" "$(svc_connect rca rcb.once)"
check_match "... audited as such" '"from":"rca","to":"rcb","kind":"ipc","op":"connect","object":"rcb.once","decision":"deny","rule":"rca-twice","reason":"used-up"' \
        "$(audit_grep '"object":"rcb.once"' | tail -n 1)"

restart_killed
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not restart"; exit 1; }
check_match "after another restart, still used up" "used-up" "$(svc_connect rca rcb.once)"
check_eq "the count file is root's alone" "600" "$(stat -c %a "$STATE_DIR/uses.json")"

# A broker that stops (SIGTERM) keeps them too: a restart is not a reset.
stop_broker
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not restart"; exit 1; }
check_eq "after a clean stop and start, rca's grant still answers" "kv:hi" "$(svc_connect rca rcb.kv)"

stop_broker
finish
