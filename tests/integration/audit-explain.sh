#!/bin/bash
# shuttlectl audit explain: a request is allowed and another denied under
# one policy; the policy is reloaded with the allow taken away and the
# denied one granted; explaining the old records shows then and now
# differ, and why.  Records name their policy by digest, kept under
# <state>/policies/; a record that decides nothing, an unknown seq and a
# policy no longer kept are errors.
. "$(dirname "$0")/lib.sh"
require_root
plan 31

H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro")

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - {id: a-kv, from: a, to: b, allow: ipc, endpoint: kv}
  - {id: a-echo, from: a, to: b, allow: invoke, app: /bin/echo, args: ["ok-*", "..."]}
YAML
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }

"${SRUN[@]}" --name b "${VOL[@]}" --export kv=/run/kv.sock --export adm=/run/adm.sock -- \
        $H/sockecho serve kv /run/kv.sock adm /run/adm.sock >"$T/b.out" 2>&1 &
B_PID=$!
wait_until grep -q serving "$T/b.out" || diag "b did not start: $(cat "$T/b.out")"

out=$(srun --name a "${VOL[@]}" -- sh -c "$H/sockecho call /run/shuttle/svc/b.kv one; $H/sockecho call /run/shuttle/svc/b.adm two" 2>&1)
check_match "under the first policy a reaches b.kv and not b.adm" '^kv:one' "$out"

# seq of the first record matching a pattern.
seq_of() { audit_grep "$1" | head -n 1 | sed -n 's/.*"seq":\([0-9]*\),.*/\1/p'; }
allowed=$(seq_of '"from":"a".*"kind":"ipc".*"object":"b.kv","decision":"allow"')
denied=$(seq_of '"from":"a".*"kind":"ipc".*"object":"b.adm","decision":"deny"')
check_match "the allowed request is on record" '^[0-9]+$' "$allowed"
check_match "the denied request is on record" '^[0-9]+$' "$denied"
digest1=$(audit_grep "\"seq\":$allowed," | sed -n 's/.*"policy":"\([0-9a-f]*\)".*/\1/p')
check_match "the record names its policy by a SHA-256 digest" '^[0-9a-f]{64}$' "$digest1"
check_status "... which the broker keeps as <state>/policies/DIGEST.yaml" 0 test -f "$STATE_DIR/policies/$digest1.yaml"
check_eq "... 0600, in a 0700 directory" "600 700" \
        "$(stat -c %a "$STATE_DIR/policies/$digest1.yaml") $(stat -c %a "$STATE_DIR/policies")"
check_eq "... and its digest is that of its normalised text" "$digest1" \
        "$(sha256sum <"$STATE_DIR/policies/$digest1.yaml" | cut -d' ' -f1)"
check_eq "... the normalised text of the policy in force" \
        "$(sctl policy show "$T/policy.yaml")" "$(cat "$STATE_DIR/policies/$digest1.yaml")"

SI=/run/shuttle/bin/shuttle-invoke
out=$(srun --name a -- $SI b /bin/echo ok-1 "two words" 2>&1)
check_eq "a invokes echo in b with two arguments" "ok-1 two words" "$out"
echoed=$(seq_of '"kind":"invoke","op":"exec","object":"/bin/echo ok-1 two words","decision":"allow"')

# Nothing changed yet.
check_status "audit explain of the allowed record" 0 sctl audit explain "$allowed" --state-dir "$STATE_DIR"
check_match "... same: allow by a-kv then and now" '^same: allow by a-kv then, allow by a-kv now$' \
        "$(grep -E '^(same|differs):' "$T/out")"
check_match "... the policy is the same" '^  the policy is the same as then$' "$(tail -n 1 "$T/out")"

# The policy changes: kv is denied, adm allowed (in a file that is
# reordered and commented: only the rules count).
cat >"$T/policy.yaml" <<'YAML'
# kv is closed for maintenance; adm opens.
version: 1
default: deny
rules:
  - {id: a-adm, from: a, to: b, allow: ipc, endpoint: adm}
  - {id: kv-closed, from: "*", to: b, deny: ipc, endpoint: kv}
  - {id: a-echo, from: a, to: b, allow: invoke, app: /bin/echo, args: ["ok-*"]}
YAML
check_status "the policy is reloaded" 0 sctl policy reload --state-dir "$STATE_DIR"
digest2=$(audit_grep '"kind":"policy","op":"reload".*"decision":"allow"' | tail -n 1 |
          sed -n 's/.*"policy":"\([0-9a-f]*\)".*/\1/p')
check_match "the reload record names the new policy's digest" '^[0-9a-f]{64}$' "$digest2"
check_status "... another one, kept too" 0 sh -c "[ '$digest2' != '$digest1' ] && test -f '$STATE_DIR/policies/$digest2.yaml'"

check_status "audit explain of the allowed record, after the reload" 0 \
        sctl audit explain "$allowed" --state-dir "$STATE_DIR"
cp "$T/out" "$T/x1"
check_match "... differs: allow by a-kv then, deny by kv-closed now" \
        '^differs: allow by a-kv then, deny by kv-closed now$' "$(grep -E '^(same|differs):' "$T/out")"
check_status "... a-kv is gone, kv-closed is new" 0 \
        sh -c "grep -qx '  rule a-kv is no longer in the policy' '$T/x1' &&
               grep -qx '  rule kv-closed was not in the policy then' '$T/x1'"
check_status "... with the request and each side's explanation" 0 \
        sh -c "grep -qx 'request: --from a --to b --kind ipc --endpoint kv --type unix' '$T/x1' &&
               grep -qF 'then: policy ${digest1:0:12}… ($STATE_DIR/policies/$digest1.yaml)' '$T/x1' &&
               grep -qF 'now: policy ${digest2:0:12}… ($STATE_DIR/policies/$digest2.yaml)' '$T/x1'"

check_status "audit explain --json of the denied record" 0 \
        sctl audit explain "$denied" --state-dir "$STATE_DIR" --json
cp "$T/out" "$T/x2"
check_status "... differs: deny by default then, allow by a-adm now, which did not match then" 0 python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["seq"] == int(sys.argv[2]) and o["differs"] is True and o["same_policy"] is False, o
assert o["then"]["explanation"]["decision"] == "deny" and o["then"]["explanation"]["rule"] == "default", o
assert o["now"]["explanation"]["decision"] == "allow" and o["now"]["explanation"]["rule"]["id"] == "a-adm", o
assert o["then"]["policy"] == sys.argv[3] and o["now"]["policy"] == sys.argv[4], o
assert o["why"] == ["rule a-adm was not in the policy then"], o["why"]
' "$T/x2" "$denied" "$digest1" "$digest2"

# The arguments are recorded one by one and asked again: a-echo now takes
# one argument only.
check_status "audit explain of the invocation" 0 sctl audit explain "$echoed" --state-dir "$STATE_DIR"
cp "$T/out" "$T/x4"
check_status "... its request has both arguments; a-echo no longer matches it" 0 \
        sh -c "grep -qx \"request: --from a --to b --kind invoke --app /bin/echo --arg 'ok-1' --arg 'two words'\" '$T/x4' &&
               grep -qx 'differs: allow by a-echo then, deny by default now' '$T/x4' &&
               grep -q '^  rule a-echo no longer matches: ' '$T/x4'"

# The same policy at another time: a rule that has expired since.
until=$(date -u -d "@$(( $(date +%s) + 5 ))" +%Y-%m-%dT%H:%M:%SZ)
cat >"$T/policy.yaml" <<YAML
version: 1
rules:
  - {id: adm-brief, from: a, to: b, allow: ipc, endpoint: adm, until: $until}
YAML
sctl policy reload --state-dir "$STATE_DIR" >/dev/null 2>&1
out=$(srun --name a "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.adm three 2>&1)
check_eq "a rule with an until lets a reach b.adm" "adm:three" "$out"
brief=$(seq_of '"object":"b.adm","decision":"allow","rule":"adm-brief"')
# Past its until (whole seconds: it still matches during the second it names).
wait_until sh -c "[ \$(date +%s) -gt \$(date -d '$until' +%s) ]"
check_status "once it has expired, audit explain of its record" 0 sctl audit explain "$brief" --state-dir "$STATE_DIR"
cp "$T/out" "$T/x3"
check_status "... differs under the same policy: the rule has expired" 0 \
        sh -c "grep -qx 'differs: allow by adm-brief then, deny by default now' '$T/x3' &&
               grep -qx '  the policy is the same as then' '$T/x3' && grep -qx '  rule adm-brief has expired' '$T/x3'"

# Errors: a record that decides nothing, no such record, bad SEQ, and a
# policy the broker no longer keeps.
reload_seq=$(seq_of '"kind":"policy","op":"reload"')
check_status "a reload record cannot be explained" 1 sctl audit explain "$reload_seq" --state-dir "$STATE_DIR"
check_match "... and says why" 'records no request the policy decides' "$(cat "$T/err")"
check_status "no such record: exit 1" 1 sctl audit explain 999999 --state-dir "$STATE_DIR"
check_status "a SEQ that is not a number: exit 2" 2 sctl audit explain 12x --state-dir "$STATE_DIR"
rm -f "$STATE_DIR/policies/$digest1.yaml"
check_status "the old policy no longer kept: exit 1" 1 sctl audit explain "$allowed" --state-dir "$STATE_DIR"

kill -TERM "$B_PID" 2>/dev/null
wait "$B_PID" 2>/dev/null
stop_broker
finish
