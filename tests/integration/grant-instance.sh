#!/bin/bash
# An `ask allow --for` grant is given to a container instance, not to its
# name, while the broker runs: when that container stops, its grant is
# dropped (audited, its record removed), and a new container started under
# the same name within the grant's time is asked again, as after a broker
# restart (restart-counts.sh).  Another container's grant stays, and a
# rule's `limit: {uses: N}` count is not reset by a new container of the
# same name.  (Containers are named gi*, which no other test uses.)
. "$(dirname "$0")/lib.sh"
require_root
plan 14

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - { id: gia-asks-kv, from: gia, to: gib, allow: ipc, endpoint: kv, ask: {timeout: 20s} }
  - { id: gic-asks-kv, from: gic, to: gib, allow: ipc, endpoint: kv, ask: {timeout: 20s} }
  - { id: gia-once, from: gia, to: gib, allow: ipc, endpoint: once, limit: {uses: 1} }
YAML

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
VOL=(-v "$(cd "$HELPERS" && pwd):/opt/t:ro" -v "$(cd "${top_builddir:-.}" && pwd):/opt/b:ro")
SX=("$SHUTTLECTL" exec --state-dir "$STATE_DIR")

"${SRUN[@]}" --name gib "${VOL[@]}" --export kv=/run/kv.sock --export once=/run/once.sock \
        -- /opt/t/sockecho serve kv /run/kv.sock once /run/once.sock >"$T/gib.out" 2>&1 &
wait_until grep -q serving "$T/gib.out" || diag "gib did not start: $(cat "$T/gib.out")"
# start NAME OUT: a container that waits; its job's pid in JOB.
start() {
        "${SRUN[@]}" --name "$1" "${VOL[@]}" -- sh -c 'touch /tmp/ready; exec sleep 600' >"$T/$2" 2>&1 &
        JOB=$!
        wait_until "${SX[@]}" "$1" -- test -e /tmp/ready || diag "$1 did not start: $(cat "$T/$2")"
}
start gia gia.out
a_job=$JOB
start gic gic.out

grants() { sctl ask ls --state-dir "$STATE_DIR" | sed -n '/^GRANT/,$p' | tail -n +2; }

g_a=$(ask_grant gia gib.kv 1h)
g_c=$(ask_grant gic gib.kv 1h)
check_eq "gia's request goes through on its grant" "kv:hi" "$(svc_connect gia gib.kv)"
check_eq "gia uses its uses-limited rule once" "once:hi" "$(svc_connect gia gib.once)"
check_eq "two grants, each with its record" "present present" \
        "$(for g in $g_a $g_c; do test -e "$STATE_DIR/grants/ask-$g.json" && echo present || echo absent; done | tr '\n' ' ' | sed 's/ $//')"

# gia stops while its grant lasts; a new gia takes the name.
kill -TERM "$a_job"
wait "$a_job" 2>/dev/null
wait_until audit_grep '"kind":"container","op":"stop".*"object":"gia"'
n_by_grant=$(audit_grep 'allowed by an ask grant' | grep -c '"from":"gia"')
check_match "gia's grant is dropped when gia stops, audited as such" \
        "\"from\":\"gia\",\"to\":\"gib\",\"kind\":\"ipc\",\"op\":\"ask-grant\",\"object\":\"gib.kv\",\"decision\":\"deny\".*\"reason\":\"the container it was given to stopped\".*\"ask_grant\":$g_a" \
        "$(audit_grep '"op":"ask-grant"')"
check_eq "... its record removed, gic's kept" "absent present" \
        "$(for g in $g_a $g_c; do test -e "$STATE_DIR/grants/ask-$g.json" && echo present || echo absent; done | tr '\n' ' ' | sed 's/ $//')"
check_match "... and only gic's grant is listed" "^$g_c +gic +gib +ipc +gib\.kv " "$(grants)"
check_eq "... one grant in all" "1" "$(grants | grep -c .)"

start gia gia2.out
svc_connect_bg gia gib.kv "$T/gia2-kv.out"
wait_until has_ask gia gib.kv
check_match "a new gia within the grant's time is asked again" "gia-asks-kv" "$(ask_line gia gib.kv)"
sctl ask deny "$(ask_line gia gib.kv | awk '{ print $1 }')" --state-dir "$STATE_DIR" >/dev/null
wait_until grep -q . "$T/gia2-kv.out"
check_match "... and refused when the operator denies it" "Permission denied: ask denied by the operator" \
        "$(cat "$T/gia2-kv.out")"
check_match "... audited as the operator's denial, not as the old grant's allow" \
        "\"from\":\"gia\",\"to\":\"gib\",\"kind\":\"ipc\",\"op\":\"connect\",\"object\":\"gib.kv\",\"decision\":\"deny\",\"rule\":\"gia-asks-kv\",\"reason\":\"ask denied by the operator\"" \
        "$(audit_grep '"object":"gib.kv"' | tail -n 1)"
check_eq "... and never allowed by the old gia's grant" "$n_by_grant" \
        "$(audit_grep 'allowed by an ask grant' | grep -c '"from":"gia"')"
check_match "the new gia's uses-limited rule is used up (a new container is no reset)" "used-up" \
        "$(svc_connect gia gib.once)"

check_eq "gic's grant still answers" "kv:hi" "$(svc_connect gic gib.kv)"
check_match "... audited as allowed by its grant" \
        "\"from\":\"gic\".*\"object\":\"gib.kv\",\"decision\":\"allow\",\"rule\":\"gic-asks-kv\",\"reason\":\"allowed by an ask grant\".*\"ask_grant\":$g_c" \
        "$(audit_grep 'allowed by an ask grant' | tail -n 1)"

stop_broker
finish
