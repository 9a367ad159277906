#!/bin/bash
# Group commit of the audit log (shuttled --audit-sync): in sync mode (the
# default) an allowed request's answer leaves the broker only once its
# record is on disk.  The broker's sync thread is slowed down
# (SHUTTLED_TEST_AUDIT_SYNC_DELAY_MS) and says which seq it has synced
# before anything waiting for it goes on (SHUTTLED_TEST_AUDIT_SYNCED_FILE,
# bound into the caller): the caller, once answered, finds its record's
# seq synced, on the fast path and through a proxy socket.  In batch mode
# the answer does not wait.
. "$(dirname "$0")/lib.sh"
require_root
plan 12

policy_a_uses_kv >"$T/policy.yaml"

H=/opt/t
mkdir -p "$T/sync"
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro" -v "$(cd "${top_builddir:-.}" && pwd):/opt/b:ro" -v "$T/sync:/opt/sync:ro")
DELAY_MS=400

# seq_of PATTERN: the seq of the last record matching PATTERN.
seq_of() { audit_grep "$1" | tail -n 1 | sed -n 's/.*"seq":\([0-9]*\).*/\1/p'; }

# call HOW: in a, the time a connection to b.kv takes (µs) and the synced
# seq the broker had said when it was answered.
call() {
        local cmd opts=()
        case $1 in
        fast) cmd='echo hi | /opt/b/shuttle-connect b.kv >/dev/null' ;;
        proxy) cmd="$H/sockecho call /run/shuttle/svc/b.kv hi >/dev/null"; opts=(--no-shim) ;;
        esac
        srun --name a "${opts[@]}" "${VOL[@]}" -- bash -c "
                t0=\${EPOCHREALTIME/./}; $cmd; rc=\$?; t1=\${EPOCHREALTIME/./}
                echo \$rc \$((t1 - t0)) \$(cat /opt/sync/synced 2>/dev/null || echo 0)" 2>&1
}

SHUTTLED_TEST_AUDIT_SYNC_DELAY_MS=$DELAY_MS SHUTTLED_TEST_AUDIT_SYNCED_FILE=$T/sync/synced \
        start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
"${SRUN[@]}" --name b "${VOL[@]}" --export kv=/run/kv.sock -- $H/sockecho serve kv /run/kv.sock >"$T/b.out" 2>&1 &
wait_until grep -q serving "$T/b.out" || diag "b did not start: $(cat "$T/b.out")"

for how in fast proxy; do
        read -r rc usec synced <<<"$(call $how)"
        op=connect; [ $how = proxy ] && op=proxy-connect
        seq=$(seq_of "\"op\":\"$op\",\"object\":\"b.kv\",\"decision\":\"allow\"")
        diag "sync, $how path: rc=$rc, ${usec} µs, record seq $seq, synced $synced when answered"
        check_eq "sync, $how path: the connection is made" "0" "$rc"
        check_match "... its record is in the log" "^[0-9]+$" "$seq"
        check_status "... and was on disk when the caller was answered (synced ≥ its seq)" 0 \
                test "${synced:-0}" -ge "${seq:-1}"
        check_status "... the answer waited for the slowed sync (≥ $DELAY_MS ms)" 0 \
                test "${usec:-0}" -ge $((DELAY_MS * 1000))
done
stop_broker

# batch: the same slowed sync is not waited for (the broker syncs on its
# own every 100 ms; the delay hook is the sync thread's, not used here).
SHUTTLED_TEST_AUDIT_SYNC_DELAY_MS=$DELAY_MS start_broker --policy "$T/policy.yaml" --audit-sync batch ||
        { echo "Bail out! shuttled did not start"; exit 1; }
read -r rc usec synced <<<"$(call fast)"
diag "batch, fast path: rc=$rc, ${usec} µs"
check_eq "batch: the connection is made" "0" "$rc"
check_match "... and recorded" '"op":"connect","object":"b.kv","decision":"allow"' "$(audit_grep '"op":"connect"' | tail -n 1)"
stop_broker

out=$("$SHUTTLED" --audit-sync sometimes 2>&1; echo "rc=$?")
check_match "--audit-sync with another value is a usage error naming it" "audit-sync: 'sometimes': expected sync or batch.*rc=2" "$(echo $out)"
check_match "shuttled --help lists it" "--audit-sync MODE" "$("$SHUTTLED" --help)"
finish
