#!/bin/bash
# --audit-sync sync: what a request does beyond its answer (an invoked
# program starting, a transfer's mount) happens only once the record of its
# decision is on disk.  The broker's sync thread is made to fail
# (SHUTTLED_TEST_AUDIT_SYNC_FAIL_FILE: while the file exists, each
# fdatasync() fails with EIO): an allowed invocation or transfer is then
# refused with an audit error and does not happen at all.  Once syncs work
# again, the invoked program finds its decision's seq synced when it starts
# (SHUTTLED_TEST_AUDIT_SYNCED_FILE, written before anything waiting for it
# goes on; the sync slowed by SHUTTLED_TEST_AUDIT_SYNC_DELAY_MS).  The
# decision and the outcome are two records, linked; `shuttlectl audit`
# shows one row per request.  Batch mode keeps one record.
# (Containers are named as*, which no other test uses.)
. "$(dirname "$0")/lib.sh"
require_root
plan 24

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - { id: asa-sh, from: asa, to: asb, allow: invoke, app: /bin/sh }
  - { id: asa-share, from: asa, to: asb, allow: transfer, path: "/tmp/share/**" }
  - { id: asa-sleep, from: asa, to: asb, allow: invoke, app: /bin/sleep, limit: {max_open: 1} }
YAML

mkdir -p "$T/sync"
SI=/run/shuttle/bin/shuttle-invoke
VOL=(-v "$(cd "$HELPERS" && pwd):/opt/t:ro" -v "$T/sync:/opt/sync:ro")
SX=("$SHUTTLECTL" exec --state-dir "$STATE_DIR")

SHUTTLED_TEST_AUDIT_SYNC_FAIL_FILE=$T/fail SHUTTLED_TEST_AUDIT_SYNCED_FILE=$T/sync/synced \
SHUTTLED_TEST_AUDIT_SYNC_DELAY_MS=200 start_broker --policy "$T/policy.yaml" ||
        { echo "Bail out! shuttled did not start"; exit 1; }
for n in asa asb; do
        "${SRUN[@]}" --name $n "${VOL[@]}" -- sh -c '
                mkdir -p /tmp/share; echo doc-of-'$n' >/tmp/share/doc.txt; touch /tmp/ready; exec sleep 600' \
                >"$T/$n.out" 2>&1 &
done
for n in asa asb; do
        wait_until "${SX[@]}" $n -- test -e /tmp/ready || diag "$n did not start: $(cat "$T/$n.out")"
done

inb() { "${SX[@]}" asb -- sh -c "$1" 2>&1; }
# (Bounded from the host too: a broker that made the caller wait for ever
# fails the test instead of stalling it.)
invoke() { timeout 30 "${SX[@]}" asa -- sh -c "timeout 20 $SI asb /bin/sh -c '$1'; echo rc=\$?" 2>&1 | tr '\n' ' ' | sed 's/ $//'; }
seq_of() { sed -n 's/.*"seq":\([0-9]*\).*/\1/p' | tail -n 1; }
xfer_mounts() { inb "grep -c ' /run/shuttle/xfer/' /proc/self/mountinfo"; }

# ---- the sync fails: nothing is done
touch "$T/fail"
out=$(invoke 'touch /tmp/marker-fail')
check_match "sync failing: an allowed invocation is refused with an audit error" \
        "audit log could not be synced.*rc=12[0-9]$" "$out"
check_eq "... and its program never ran in the target" "absent" \
        "$(inb 'test -e /tmp/marker-fail && echo present || echo absent')"
dec=$(audit_grep '"object":"/bin/sh -c touch /tmp/marker-fail","decision":"allow"')
check_match "... its decision is on record, as such" \
        '"from":"asa","to":"asb","kind":"invoke","op":"exec","object":"/bin/sh -c touch /tmp/marker-fail","decision":"allow","rule":"asa-sh".*"phase":"decided"' \
        "$dec"
dseq=$(echo "$dec" | seq_of)
outc=$(audit_grep '"object":"/bin/sh -c touch /tmp/marker-fail","decision":"deny"')
oseq_fail=$(echo "$outc" | seq_of)
check_match "... and so is its outcome, naming the decision's record" \
        "\"object\":\"/bin/sh -c touch /tmp/marker-fail\",\"decision\":\"deny\",\"rule\":\"asa-sh\",\"reason\":\"the audit log could not be synced: Input/output error\".*\"decided\":${dseq:-x}[,}]" \
        "$outc"

out=$(timeout 30 "${SX[@]}" asa -- timeout 20 /opt/t/brokercall transfer /tmp/share/doc.txt asb ro 2>&1)
check_match "sync failing: an allowed transfer is refused with an audit error" "audit log could not be synced" "$out"
check_eq "... nothing is mounted in the target" "0" "$(xfer_mounts)"
check_eq "... nor listed" "" "$("$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR" --json | tr -d '[]')"
check_match "... its outcome is on record" \
        '"kind":"transfer","op":"open","object":"/tmp/share/doc.txt","decision":"deny","rule":"asa-share","reason":"the audit log could not be synced.*"decided":[0-9]+' \
        "$(audit_grep '"kind":"transfer"' | tail -n 1)"

# ---- syncs work again
rm -f "$T/fail"
out=$(invoke 'cat /opt/sync/synced; touch /tmp/marker-ok')
check_match "sync working: the invocation runs" "^[0-9]+ rc=0$" "$out"
synced=${out%% *}
check_eq "... its program ran in the target" "present" \
        "$(inb 'test -e /tmp/marker-ok && echo present || echo absent')"
dec=$(audit_grep '"object":"/bin/sh -c cat /opt/sync/synced; touch /tmp/marker-ok","decision":"allow"')
dseq_ok=$(echo "$dec" | grep '"phase":"decided"' | seq_of)
check_match "... its decision was recorded first" "^[0-9]+$" "$dseq_ok"
first=$(echo "$dec" | head -n 1 | seq_of)
diag "decision record seq $dseq_ok (first record $first), synced seq when the program started $synced"
check_status "... and was on disk when the program started (synced ≥ its seq)" 0 test "${synced:-0}" -ge "${first:-1}"
check_match "... the outcome follows, naming it" "\"decision\":\"allow\",\"rule\":\"asa-sh\".*\"decided\":${dseq_ok:-x}[,}]" \
        "$(echo "$dec" | grep -v '"phase"')"

out=$(timeout 30 "${SX[@]}" asa -- timeout 20 /opt/t/brokercall transfer /tmp/share/doc.txt asb ro 2>&1)
check_match "sync working: the transfer is made" "^[0-9]+ /run/shuttle/xfer/[0-9]+/doc.txt$" "$out"
check_eq "... and readable in the target" "doc-of-asa" "$(inb "cat ${out#* }")"

# max_open is checked again when a parked request is carried out: two
# invocations sent at once, both admitted while neither runs yet, and
# parked together, run one at a time.
out=$(timeout 30 "${SX[@]}" asa -- sh -c "
        { $SI asb /bin/sleep 2 2>&1; echo rc=\$?; } &
        $SI asb /bin/sleep 2 2>&1; echo rc=\$?; wait" 2>&1 | tr '\n' ' ')
check_match "max_open: 1 holds for invocations parked together: one runs, one is refused" \
        "^(rc=0 .*max_open of rule .asa-sleep. reached.*rc=125|.*max_open of rule .asa-sleep. reached.*rc=125 rc=0) *$" "$out"

# ---- the audit CLI: one row per request
rows=$("$SHUTTLECTL" audit --file "$AUDIT_LOG" --kind invoke 2>&1)
check_eq "shuttlectl audit shows each invocation once (decision and outcome paired)" "2" \
        "$(echo "$rows" | grep -c ' exec .* asa-sh *$')"
check_match "... as its outcome" " ${oseq_fail:-x} +deny +invoke +exec .* asa-sh *$" "$rows"
check_eq "--json shows both records of each" "4" "$("$SHUTTLECTL" audit --file "$AUDIT_LOG" --kind invoke --json | grep -c "marker-\(fail\|ok\)")"
check_status "the chain verifies" 0 "$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify
stop_broker
# A crash between the two: the decision alone (the log cut after it).
grep -v '"decided":[0-9]' "$AUDIT_LOG" >"$T/cut.jsonl"
check_match "a decision whose outcome is not in the log is shown as such" \
        " ${dseq_ok:-x} +allow +invoke +exec .* asa-sh \(decided; no outcome recorded\)" \
        "$("$SHUTTLECTL" audit --file "$T/cut.jsonl" --kind invoke 2>&1)"
check_eq "a broker stopped with nothing waiting leaves no decision without its outcome" \
        "$(grep -c '"phase":"decided"' "$AUDIT_LOG")" "$(grep -c '"decided":[0-9]' "$AUDIT_LOG")"

# ---- batch mode: one record, as before
start_broker --policy "$T/policy.yaml" --audit-sync batch || { echo "Bail out! shuttled did not start"; exit 1; }
out=$(invoke 'touch /tmp/marker-batch')
check_eq "batch: the invocation runs" "rc=0" "$out"
check_eq "... one record, neither a decision nor an outcome" "1 0" \
        "$(audit_grep 'marker-batch' | grep -c .) $(audit_grep 'marker-batch' | grep -c '"phase"\|"decided"')"
stop_broker
finish
