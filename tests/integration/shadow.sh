#!/bin/bash
# Changing the policy safely (issue 16 items 1 and 4): rules marked
# 'shadow: true' and a whole candidate policy loaded in shadow decide
# every request beside the policy in force, recorded in the same audit
# record and never enforced, listed by audit --shadow-diff with counts;
# grants used N times (limit: {uses: N}, reason used-up) and expired
# grants (reason expired), audited as such.
. "$(dirname "$0")/lib.sh"
require_root
plan 31

H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro" -v "$(cd "${top_builddir:-.}" && pwd):/opt/b:ro")

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - {id: a-kv, from: a, to: b, allow: ipc, endpoint: kv}
  - {id: a-web, from: a, to: b, allow: ipc, endpoint: web}
  - {id: try-no-web, from: a, to: b, deny: ipc, endpoint: web, shadow: true}
  - {id: twice, from: a, to: b, allow: ipc, endpoint: once, limit: {uses: 2}}
  - {id: old, from: a, to: b, allow: ipc, endpoint: old, until: 2020-01-01T00:00:00Z}
YAML
# The candidate: kv closed, extra opened, web as it is.
cat >"$T/candidate.yaml" <<'YAML'
version: 1
default: deny
rules:
  - {id: c-web, from: a, to: b, allow: ipc, endpoint: web}
  - {id: c-extra, from: a, to: b, allow: ipc, endpoint: extra}
YAML
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }

"${SRUN[@]}" --name b "${VOL[@]}" --export kv=/run/kv.sock --export web=/run/web.sock \
        --export once=/run/once.sock --export old=/run/old.sock --export extra=/run/extra.sock -- \
        $H/sockecho serve kv /run/kv.sock web /run/web.sock once /run/once.sock old /run/old.sock \
        extra /run/extra.sock >"$T/b.out" 2>&1 &
wait_until grep -q serving "$T/b.out" || diag "b did not start: $(cat "$T/b.out")"

# connect SERVICE... : one connection each through the broker, ok or refused.
connect() {
        local cmd="" s
        for s in "$@"; do
                cmd="$cmd echo x | /opt/b/shuttle-connect b.$s >/dev/null 2>&1 && echo ok || echo refused;"
        done
        srun --name a "${VOL[@]}" -- sh -c "$cmd" 2>&1 | tr '\n' ' '
}
# The last record of a connection to b.SERVICE.
last_of() { audit_grep "\"op\":\"connect\",\"object\":\"b\\.$1\"" | tail -1; }

# ---- a shadow rule inside the enforcing policy ----
check_eq "a shadow deny rule does not deny: web is reached" "ok " "$(connect web)"
rec=$(last_of web)
check_match "... the record says allow by a-web" '"decision":"allow","rule":"a-web"' "$rec"
check_match "... and what the shadow rule decides" '"shadow_decision":"deny","shadow_rule":"try-no-web"' "$rec"
connect kv >/dev/null
check_match "a request the shadow rule does not change carries the same decision" \
        '"decision":"allow","rule":"a-kv".*"shadow_decision":"allow","shadow_rule":"a-kv"' "$(last_of kv)"

# ---- a candidate policy in shadow ----
out=$(sctl policy shadow --state-dir "$STATE_DIR" "$T/candidate.yaml" 2>&1)
check_match "policy shadow FILE loads it and says what" "^shadow policy: $T/candidate.yaml: 2 rules$" "$out"
check_match "... audited (kind policy, op shadow)" \
        '"kind":"policy","op":"shadow","object":"[^"]*candidate.yaml","decision":"allow"' "$(audit_grep '"op":"shadow"')"
check_eq "... nothing it says is enforced: kv still reached, extra still refused" "ok ok ok refused refused " \
        "$(connect kv kv kv extra extra)"
check_match "... kv recorded as allowed, the candidate's deny beside it" \
        '"decision":"allow","rule":"a-kv".*"shadow_decision":"deny","shadow_rule":"default"' "$(last_of kv)"
check_match "... extra recorded as denied, the candidate's allow beside it" \
        '"decision":"deny","rule":"default".*"shadow_decision":"allow","shadow_rule":"c-extra"' "$(last_of extra)"
check_match "the candidate, not the enforcing policy's shadow rules, decides in shadow now" \
        '"shadow_decision":"allow","shadow_rule":"c-web"' "$(connect web >/dev/null; last_of web)"

diff=$(sctl audit --file "$AUDIT_LOG" --shadow-diff 2>&1)
check_match "audit --shadow-diff: kv, allowed now, denied by the candidate, 3 times" \
        "^ +3  ipc +a -> b +b\.kv +allow -> deny +a-kv -> default$" "$diff"
check_match "... extra, denied now, allowed by the candidate, 2 times" \
        "^ +2  ipc +a -> b +b\.extra +deny -> allow +default -> c-extra$" "$diff"
check_nomatch "... web (both allow now) is not listed as allow -> allow" "b\.web +allow -> allow" "$diff"
json=$(sctl audit --file "$AUDIT_LOG" --shadow-diff --json 2>&1)
check_eq "audit --shadow-diff --json: the groups with their counts" "b.kv allow deny 3|b.extra deny allow 2|b.web allow deny 1|" \
        "$(echo "$json" | python3 -c 'import json,sys; print("".join("%s %s %s %d|" % (r["object"], r["decision"], r["shadow_decision"], r["count"]) for r in json.load(sys.stdin)))')"
check_match "audit --shadow-diff --from takes the usual filters" "no request decided differently" \
        "$(sctl audit --file "$AUDIT_LOG" --shadow-diff --from nobody 2>&1)"

# Text from a container is shown escaped (a record as the writer leaves it).
printf '%s\n' '{"ts":"2024-05-01T12:00:00Z","seq":1,"from":"a","to":"b","kind":"ipc","op":"connect","object":"evil\u202efdp\u001b[2J","decision":"deny","rule":"default","reason":"x","shadow_decision":"allow","shadow_rule":"r"}' >"$T/forged.jsonl"
check_match "audit --shadow-diff escapes controls and bidi characters in the table" 'evil\\u202efdp\\u001b\[2J +deny -> allow' \
        "$(sctl audit --file "$T/forged.jsonl" --shadow-diff)"

# Refused: errors with their place, the candidate before stays.
printf 'version: 1\nrules:\n  - {from: a, to: b, allow: ipc, bogus: 1}\n' >"$T/bad.yaml"
out=$(sctl policy shadow --state-dir "$STATE_DIR" "$T/bad.yaml" 2>&1; echo "rc=$?")
check_match "a shadow policy with an error is refused, at its place, exit 1" "bad.yaml:3:[0-9]+: unknown key 'bogus'.*rc=1" \
        "$(echo $out)"
check_match "... and the one before stays" "^shadow policy: $T/candidate.yaml: 2 rules$" \
        "$(sctl policy shadow --state-dir "$STATE_DIR" 2>&1)"

# Kept across a reload of the enforcing policy and a restart of the broker.
out=$(sctl policy reload --state-dir "$STATE_DIR" 2>&1)
check_match "policy reload reloads the enforcing policy" "policy reloaded" "$out"
check_match "... and keeps the shadow policy" "^shadow policy: $T/candidate.yaml: 2 rules$" \
        "$(sctl policy shadow --state-dir "$STATE_DIR" 2>&1)"
# Four more denials of extra: past the first three alike they are counted
# into a summary (written at the latest when the broker stops), which
# carries the shadow decision too.
connect extra extra extra extra >/dev/null
stop_broker
check_eq "audit --shadow-diff counts the denials a summary stands for: extra 6 times" "6" \
        "$(sctl audit --file "$AUDIT_LOG" --shadow-diff --json | python3 -c 'import json,sys; print(sum(r["count"] for r in json.load(sys.stdin) if r["object"] == "b.extra"))')"
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not restart"; exit 1; }
check_match "a restarted broker restores the shadow policy (from its copy)" "^shadow policy: $STATE_DIR/shadow.yaml: 2 rules$" \
        "$(sctl policy shadow --state-dir "$STATE_DIR" 2>&1)"
connect kv >/dev/null
check_match "... and decides in shadow with it" '"decision":"allow","rule":"a-kv".*"shadow_decision":"deny"' "$(last_of kv)"

out=$(sctl policy shadow --state-dir "$STATE_DIR" --clear 2>&1)
check_eq "policy shadow --clear drops it" "shadow policy cleared
no shadow policy" "$out"
connect kv >/dev/null
check_match "... the enforcing policy's shadow rules decide in shadow again" \
        '"shadow_decision":"allow","shadow_rule":"a-kv"' "$(last_of kv)"
out=$(sctl policy shadow --state-dir "$STATE_DIR" --clear 2>&1; echo "rc=$?")
check_match "--clear with nothing loaded: said, exit 1" "no shadow policy is loaded.*rc=1" "$(echo $out)"

# ---- limit: {uses: N}, until ----
check_eq "uses: 2 lets two connections through and refuses the third" "ok ok refused " "$(connect once once once)"
check_match "... audited as used-up, with the rule" '"object":"b\.once","decision":"deny","rule":"twice","reason":"used-up"' \
        "$(last_of once)"
sctl policy reload --state-dir "$STATE_DIR" >/dev/null 2>&1
check_eq "... still used up after a reload (the rule kept its id)" "refused " "$(connect once)"
check_eq "an expired grant is refused" "refused " "$(connect old)"
check_match "... audited as expired, with the rule that expired and where it is" \
        '"object":"b\.old","decision":"deny","rule":"old","reason":"expired","rule_file":"[^"]*policy.yaml","rule_line":8' \
        "$(last_of old)"
finish
