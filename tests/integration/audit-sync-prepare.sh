#!/bin/bash
# --audit-sync sync: while the record of an invocation's decision is being
# synced, the target's zygote already forks its process, which sets itself
# up and waits before its exec for the broker's "go", sent only once the
# record is on disk.  The sync is slowed (SHUTTLED_TEST_AUDIT_SYNC_DELAY_MS)
# so the prepared process can be seen in the target meanwhile (a second
# shuttle-zygote there) while nothing of the app has run; made to fail
# (SHUTTLED_TEST_AUDIT_SYNC_FAIL_FILE), the invocation is refused and the
# prepared process ends without its exec; the same when the caller hangs
# up, the target stops or the broker stops meanwhile (the target's zygote
# killed meanwhile, the waiting process still runs the app).
# (Containers are named ap*, which no other test uses.)
. "$(dirname "$0")/lib.sh"
require_root
plan 24

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - { id: apa-sh, from: apa, to: apb, allow: invoke, app: /bin/sh }
YAML

mkdir -p "$T/sync"
SI=/run/shuttle/bin/shuttle-invoke
SX=("$SHUTTLECTL" exec --state-dir "$STATE_DIR")

SHUTTLED_TEST_AUDIT_SYNC_FAIL_FILE=$T/fail SHUTTLED_TEST_AUDIT_SYNCED_FILE=$T/sync/synced \
SHUTTLED_TEST_AUDIT_SYNC_DELAY_MS=1500 start_broker --policy "$T/policy.yaml" ||
        { echo "Bail out! shuttled did not start"; exit 1; }
"${SRUN[@]}" --name apa -- sh -c 'touch /tmp/ready; exec sleep 600' >"$T/apa.out" 2>&1 &
"${SRUN[@]}" --name apb -v "$T/sync:/opt/sync:ro" -- sh -c 'touch /tmp/ready; exec sleep 600' >"$T/apb.out" 2>&1 &
APB_JOB=$!
for n in apa apb; do
        wait_until "${SX[@]}" $n -- test -e /tmp/ready || diag "$n did not start: $(cat "$T/$n.out")"
done

inb() { "${SX[@]}" apb -- sh -c "$1" 2>&1; }
# How many processes in apb run shuttle-zygote: its zygote, and a process
# it forked that has not executed anything yet.
zygotes() {
        inb 'n=0; for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = shuttle-zygote ] && n=$((n + 1)); done; echo $n'
}
# Bounded from the host too: a broker that made the caller wait for ever
# fails the test instead of stalling it.
invoke() { timeout 30 "${SX[@]}" apa -- sh -c "timeout 20 $SI apb /bin/sh -c '$1'; echo rc=\$?" 2>&1 | tr '\n' ' ' | sed 's/ $//'; }
seq_of() { sed -n 's/.*"seq":\([0-9]*\).*/\1/p' | tail -n 1; }
absent() { inb "test -e $1 && echo present || echo absent"; }

# The first invocation starts apb's zygote.
check_eq "an invocation runs (and apb has its zygote)" "rc=0" "$(invoke true)"
check_eq "... which is its only shuttle-zygote process" "1" "$(zygotes)"
fds0=$(broker_fds)

# ---- a slow sync: prepared meanwhile, run once the record is on disk
invoke 'cat /opt/sync/synced; ls /proc/self/fd | tr "\n" " "; touch /tmp/m-slow' >"$T/slow.out" &
slow=$!
check_status "while the decision's record is synced, the app's process is forked in the target already" 0 \
        wait_for '[ "$(zygotes)" = 2 ]'
check_eq "... and nothing of the app has run" "absent" "$(absent /tmp/m-slow)"
check_eq "... nor is its outcome on record" "0" "$(audit_grep 'm-slow' | grep -c '"decided":[0-9]')"
wait "$slow"
out=$(cat "$T/slow.out")
check_match "once the record is on disk the app runs, with its stdio and nothing else" "^[0-9]+ 0 1 2 3 +rc=0$" "$out"
synced=${out%% *}
dseq=$(audit_grep '"object":"/bin/sh -c cat /opt/sync/synced.*m-slow","decision":"allow"' | grep '"phase":"decided"' | seq_of)
diag "decision record seq $dseq, synced seq when the app started $synced"
check_status "... and its decision's record was on disk when it started (synced ≥ its seq)" 0 \
        test "${synced:-0}" -ge "${dseq:-1}"

# ---- the sync fails: the prepared process ends before its exec
touch "$T/fail"
invoke 'touch /tmp/m-fail' >"$T/fail.out" &
job=$!
wait_for '[ "$(zygotes)" = 2 ]' || diag "no prepared process seen"
wait "$job"
check_match "sync failing: the prepared invocation is refused with an audit error" \
        "audit log could not be synced.*rc=12[0-9]$" "$(cat "$T/fail.out")"
check_eq "... its program never ran" "absent" "$(absent /tmp/m-fail)"
check_status "... and its process is gone" 0 wait_for '[ "$(zygotes)" = 1 ]'
dseq=$(audit_grep '"object":"/bin/sh -c touch /tmp/m-fail","decision":"allow"' | seq_of)
check_match "... its outcome is on record, naming its decision" \
        "\"decision\":\"deny\",\"rule\":\"apa-sh\",\"reason\":\"the audit log could not be synced.*\"decided\":${dseq:-x}[,}]" \
        "$(audit_grep '"object":"/bin/sh -c touch /tmp/m-fail","decision":"deny"')"
rm -f "$T/fail"

# ---- the caller hangs up meanwhile
timeout 30 "${SX[@]}" apa -- sh -c "$SI apb /bin/sh -c 'touch /tmp/m-gone' & echo \$! >/tmp/inv.pid; wait" \
        >/dev/null 2>&1 &
job=$!
wait_for '[ "$(zygotes)" = 2 ]' || diag "no prepared process seen"
"${SX[@]}" apa -- sh -c 'kill -KILL $(cat /tmp/inv.pid)'
wait "$job"
check_status "caller gone: its invocation's outcome is on record" 0 \
        wait_until grep -q '"object":"/bin/sh -c touch /tmp/m-gone","decision":"deny".*caller went away' "$AUDIT_LOG"
check_status "... its prepared process is gone" 0 wait_for '[ "$(zygotes)" = 1 ]'
sleep 2 # past the sync: a process let go would have run by now
check_eq "... and its program never ran" "absent" "$(absent /tmp/m-gone)"

# ---- the target's zygote killed (by the container) while the child waits
invoke 'touch /tmp/m-zk' >"$T/zk.out" &
job=$!
wait_for '[ "$(zygotes)" = 2 ]' || diag "no prepared process seen"
# The zygote holds its socket at descriptor 3; the waiting child does not.
inb 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = shuttle-zygote ] && [ -e $p/fd/3 ] && kill -KILL ${p#/proc/}; done'
wait "$job"
check_eq "zygote killed meanwhile: the invocation still runs" "rc=0" "$(cat "$T/zk.out")"
check_eq "... the next one too (another zygote)" "rc=0" "$(invoke true)"
check_broker_fds_at_most "the broker holds no more descriptors than after the first invocation" "$fds0"

# ---- the target stops while the child waits
invoke 'touch /tmp/m-stop' >"$T/stop.out" &
job=$!
wait_for '[ "$(zygotes)" = 2 ]' || diag "no prepared process seen"
kill -TERM "$APB_JOB"
wait "$APB_JOB" 2>/dev/null
wait "$job"
check_match "target stopped meanwhile: the invocation is refused, without a hang" "rc=12[0-9]$" "$(cat "$T/stop.out")"
check_status "... its outcome is on record" 0 \
        wait_until grep -q '"object":"/bin/sh -c touch /tmp/m-stop","decision":"deny".*"decided":[0-9]' "$AUDIT_LOG"

# ---- the broker stops while the child waits
"${SRUN[@]}" --name apb -- sh -c 'touch /tmp/ready; exec sleep 600' >"$T/apb2.out" 2>&1 &
wait_until "${SX[@]}" apb -- test -e /tmp/ready || diag "apb did not start again: $(cat "$T/apb2.out")"
check_eq "apb again: an invocation runs" "rc=0" "$(invoke true)"
invoke 'touch /tmp/m-bstop' >/dev/null &
job=$!
wait_for '[ "$(zygotes)" = 2 ]' || diag "no prepared process seen"
stop_broker
wait "$job"
check_status "broker stopped meanwhile: its outcome is on record" 0 \
        grep -q '"object":"/bin/sh -c touch /tmp/m-bstop","decision":"deny".*broker stopped before its record' "$AUDIT_LOG"
check_status "... the prepared process is gone (and the zygote with the broker)" 0 wait_for '[ "$(zygotes)" = 0 ]'
check_eq "... and its program never ran" "absent" "$(absent /tmp/m-bstop)"
check_status "the chain verifies" 0 "$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify
finish
