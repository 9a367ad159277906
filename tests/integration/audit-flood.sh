#!/bin/bash
# Invariant 10 end to end: a container flooding denied CONNECTs (the same
# endpoint, then a new one every time) cannot push history out of the
# log, every denial is written or counted in a summary, other containers
# are served meanwhile; a rotation that deletes a file says so and
# --verify --all fails naming the gap; a name with U+202E and a C1 control
# reaches neither the log, the table nor --json raw.
. "$(dirname "$0")/lib.sh"
require_root
command -v jq >/dev/null 2>&1 || { echo "1..0 # SKIP no jq"; exit 77; }
plan 24

policy_a_uses_kv >"$T/policy.yaml"

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro")
"${SRUN[@]}" --name b "${VOL[@]}" --export kv=/run/kv.sock -- $H/sockecho serve kv /run/kv.sock >"$T/b.out" 2>&1 &
wait_until grep -q serving "$T/b.out" || diag "b did not start: $(cat "$T/b.out")"

out=$(srun --name a --no-shim "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv before 2>&1)
check_eq "a reaches b.kv before the flood" "kv:before" "$out"
ALLOW='"from":"a","to":"b","kind":"ipc","op":"proxy-connect","object":"b.kv","decision":"allow","rule":"a-uses-kv"'
check_eq "... audited as an allow" "1" "$(audit_grep "$ALLOW" | wc -l)"

# ---- the flood ----
SAME=20000 VARY=5000
srun --name f "${VOL[@]}" -- sh -c "$H/brokercall connects b.nope $SAME; $H/brokercall connects b.s $VARY vary" \
        >"$T/f.out" 2>&1 &
fpid=$!
# While f floods (its first denial is in the log), a is still served.
wait_until audit_grep '"from":"f"'
out=$(srun --name a --no-shim "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv during 2>&1)
check_eq "another container is served during the flood" "kv:during" "$out"
wait $fpid
check_eq "f's requests were all denied" "denied $SAME other 0 denied $VARY other 0" "$(echo $(cat "$T/f.out"))"

# Summaries are written when their window closes, and all of them when
# the broker stops.
stop_broker
F='select(.from == "f" and .decision == "deny")'
written=$(jq -c "$F" "$AUDIT_LOG" | wc -l)
full=$(jq -c "$F | select(.suppressed == null)" "$AUDIT_LOG" | wc -l)
counted=$(jq -s "map($F | .suppressed // 0) | add" "$AUDIT_LOG")
check_eq "every denial is in the log, in full or counted in a summary" "$((SAME + VARY))" "$((full + counted))"
if [ "$written" -lt 200 ]; then ok "... in far fewer records ($written for $((SAME + VARY)) requests)"; else not_ok "... in far fewer records ($written for $((SAME + VARY)) requests)"; fi
check_match "the first denial of b.nope is written in full" '"from":"f","to":"b","kind":"ipc","op":"connect","object":"b.nope","decision":"deny","rule":"default"' \
        "$(jq -c "$F | select(.object == \"b.nope\" and .suppressed == null)" "$AUDIT_LOG" | head -1)"
check_match "... its repeats in a summary with the same fields, a count and first/last times" \
        '"object":"b.nope","decision":"deny","rule":"default",.*"suppressed":[0-9]+,"first":"[0-9T:.-]+Z","last":"[0-9T:.-]+Z"' \
        "$(audit_grep '"from":"f".*"object":"b.nope".*"suppressed"' | head -1)"
check_match "a new endpoint every time is counted over the container's budget" \
        '"from":"f","to":null,"kind":"ipc","op":null,"object":null,"decision":"deny".*"suppressed":[0-9]+.*"over_budget":true' \
        "$(audit_grep '"over_budget":true')"
allow_seq=$(audit_grep "$ALLOW" | head -1 | jq .seq)
flood_seq=$(audit_grep '"from":"f".*"decision":"deny"' | head -1 | jq .seq)
if [ -n "$allow_seq" ] && [ -n "$flood_seq" ] && [ "$allow_seq" -lt "$flood_seq" ]; then
        ok "the allow from before the flood is still in the log (seq $allow_seq, the flood from seq $flood_seq)"
else
        not_ok "the allow from before the flood is still in the log"; diag "allow: $allow_seq flood: $flood_seq"
fi
check_eq "... and so is the one from during it" "2" "$(audit_grep "$ALLOW" | wc -l)"
check_status "the chain verifies" 0 sctl audit --file "$AUDIT_LOG" --all --verify
sctl audit --file "$AUDIT_LOG" --from f >"$T/table" 2>&1
check_match "the table shows a summary as '+N more like this, first…last'" \
        ' f → b +b\.nope +default \(\+[0-9]+ more like this, [0-9:]+Z…[0-9:]+Z\)' "$(cat "$T/table")"

# ---- a name a terminal would misread ----
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start again"; exit 1; }
bidi=$'/tmp/evil\u202efdp.txt\xc2\x9b31m'
out=$(srun --name a "${VOL[@]}" -- $H/brokercall transfer "$bidi" b ro 2>&1)
check_match "a transfer of a path with U+202E and a C1 control is denied" "^refused" "$out"
stop_broker
check_eq "... and audited with both escaped in the log itself" "1" \
        "$(grep -c -F '"object":"/tmp/evil\u202efdp.txt\u009b31m"' "$AUDIT_LOG")"
check_eq "... no raw bidi or C1 byte anywhere in it" "0" "$(LC_ALL=C grep -c -P '\xe2\x80\xae|\xc2[\x80-\x9f]' "$AUDIT_LOG")"
out=$(sctl audit --file "$AUDIT_LOG" --from a --kind transfer 2>&1)
check_match "the table shows them escaped" ' a → b +/tmp/evil\\u202efdp\.txt' "$out"
check_eq "... and nothing raw" "0" "$(printf '%s' "$out" | LC_ALL=C grep -c -P '\xe2\x80\xae|\xc2[\x80-\x9f]')"
out=$(sctl audit --file "$AUDIT_LOG" --from a --kind transfer --json 2>&1)
check_match "--json shows them as \\u escapes" '"object":"/tmp/evil\\u202efdp\.txt\\u009b31m"' "$out"

# ---- retention ----
AUDIT_LOG=$T/small/audit.jsonl
start_broker --policy "$T/policy.yaml" --audit-max-size 4K --audit-keep 2 ||
        { echo "Bail out! shuttled did not start with small limits"; exit 1; }
# Allowed connects (never aggregated) until rotation has deleted a file
# (audit.jsonl.3 would be next): at most 10 rounds of 60.
for round in 1 2 3 4 5 6 7 8 9 10; do
        srun --name a --no-shim "${VOL[@]}" -- sh -c "i=0; while [ \$i -lt 60 ]; do $H/sockecho call /run/shuttle/svc/b.kv x >/dev/null || echo \"call failed: \$?\"; i=\$((i+1)); done" >"$T/small.out" 2>&1
        grep -q '"op":"drop"' "$T/small"/audit.jsonl* 2>/dev/null && break
done
stop_broker
check_eq "only --audit-keep rotated files are kept" "audit.jsonl audit.jsonl.1 audit.jsonl.2" "$(cd "$T/small" && echo *)" ||
        diag "last round: $(sort "$T/small.out" | uniq -c | head -5)" "$(tail -5 "$T/shuttled.log")"
check_match "a rotation that deleted a file said so first, in the chain" \
        '"kind":"audit","op":"drop","object":"audit.jsonl.2","decision":"dropped".*"dropped":\{"file":"audit.jsonl.2","first_seq":[0-9]+,"last_seq":[0-9]+,"last_hash":"[0-9a-f]{64}","bytes":[0-9]+\}' \
        "$(cat "$T/small"/audit.jsonl* | grep '"op":"drop"' | tail -1)"
check_status "--verify --all fails on the gap" 1 sctl audit --file "$AUDIT_LOG" --all --verify
check_match "... naming the records that are gone and the rotation that deleted them" \
        'audit log BROKEN: .*audit.jsonl.2:1: record seq [0-9]+: gap: records seq 1\.\.[0-9]+ are not in the log; seq [0-9]+\.\.[0-9]+ were deleted by rotation at 20' \
        "$(cat "$T/out")"
out=$("$SHUTTLED" --foreground --audit-keep 0 2>&1; echo "rc=$?")
check_match "--audit-keep 0 is a usage error" "--audit-keep.*rc=2" "$(echo $out)"

finish
