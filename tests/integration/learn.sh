#!/bin/bash
# Learn mode and policy draft, as examples/webapp-policy-walkthrough does
# them: the webapp in learn mode under a policy with one deny rule (what
# it asks is allowed and recorded as learn, the deny rule still denies, a
# container not in learn mode is still denied), a draft made from the
# audit log, the draft tried in shadow as the group's shadow policy
# (policy shadow --group: recorded beside the decisions, listed by audit
# --shadow-diff, kept across a restart of the broker, dropped by --clear
# and when the group stops), and the draft enforced: the same request
# allowed by the drafted rule, tools (denied by a rule, not drafted)
# denied.
. "$(dirname "$0")/lib.sh"
require_root
plan 61

ex=$T/walkthrough
mkdir -p "$ex/bin"
src=${top_srcdir:-.}/examples/webapp-policy-walkthrough
cp "$src/group.yaml" "$src/policy-empty.yaml" "$ex/"
# The walkthrough's empty policy, and one deny rule the operator wrote.
cat "$src/policy-empty.yaml" - >"$ex/policy.yaml" <<'EOF2'
  - { id: tools-not-db, from: webapp/tools, to: webapp/db, deny: ipc }
EOF2
sed -i 's/^rules: \[\]$/rules:/' "$ex/policy.yaml"
cp "${top_builddir:-.}/examples/webapp/kvd" "${top_builddir:-.}/examples/webapp/webd" \
   "${top_builddir:-.}/examples/webapp/kvcli" "$ex/bin/"
start_broker
get='exec 3<>/dev/tcp/127.0.0.1/8080; printf "GET /kv/greeting HTTP/1.0\r\n\r\n" >&3; cat <&3'

# A group file that asks for learn mode is not enough: the command line
# must name it too.  Nothing starts.
sed 's/^group: webapp$/group: webapp\nlearn: true/' "$ex/group.yaml" >"$ex/group-learn.yaml"
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --detach "$ex/group-learn.yaml" 2>&1; echo "rc=$?")
check_match "learn: true without --learn is refused, at the key's position" \
        "group-learn.yaml:5:8: 'learn: true' .* shuttlectl run --learn .*rc=1" "$(echo $out)"
check_eq "... and nothing started" "" "$("$SHUTTLECTL" ps --state-dir "$STATE_DIR" 2>&1 | tail -n +2)"
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --isolated --learn -- true 2>&1; echo "rc=$?")
check_match "--learn with --isolated is a usage error" "--learn needs the broker.*rc=2" "$(echo $out)"

# 1. Learn.
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --no-shim --learn --detach "$ex/group.yaml" 2>&1)
check_match "run --learn brings the group up" "group 'webapp' is up" "$out"
check_match "... saying loudly that it learns" "container 'web' of group 'webapp' runs in LEARN MODE" "$out"
out=$("$SHUTTLECTL" ps --state-dir "$STATE_DIR" 2>&1)
check_match "ps shows web as LEARNING" "^web +webapp +LEARNING" "$out"
check_match "ps shows db as LEARNING" "^db +webapp +LEARNING" "$out"
check_eq "ps --json says learn" "true" \
        "$("$SHUTTLECTL" ps --state-dir "$STATE_DIR" --json | python3 -c 'import json,sys; print(str([c["learn"] for c in json.load(sys.stdin) if c["name"]=="web"][0]).lower())')"
check_match "... and the start record says so" '"from":"web","to":"web","kind":"container","op":"start".*"learn":true' \
        "$(audit_grep '"op":"start"')"

out=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" web -- bash -c "$get" 2>&1 | tr -d '\r' | tail -1)
check_eq "under an empty policy, web reads db's value (learn mode allows it)" "hello from db" "$out"
check_match "... recorded as decision learn, no rule" \
        '"from":"web","to":"db","kind":"ipc","op":"proxy-connect","object":"db.kv","decision":"learn","rule":"default"' \
        "$(audit_grep proxy-connect)"
out=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" web -- /opt/webapp/kvcli --broker db.kv GET greeting 2>&1)
check_eq "the broker's fast path is learned too" "VALUE hello from db" "$out"
check_match "... recorded as learn" '"from":"web","to":"db","kind":"ipc","op":"connect","object":"db.kv","decision":"learn"' \
        "$(audit_grep '"op":"connect"')"
out=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" web -- /run/shuttle/bin/shuttle-invoke db /bin/uname -n 2>&1)
check_eq "an invocation is learned: uname runs in db" "db" "$out"
check_match "... recorded as learn" '"from":"web","to":"db","kind":"invoke","op":"exec","object":"/bin/uname -n","decision":"learn"' \
        "$(audit_grep '"op":"exec"')"
out=$("$SHUTTLECTL" audit --file "$AUDIT_LOG" --decision learn 2>&1)
check_match "audit --decision learn lists them" "learn +ipc +proxy-connect +web → db" "$out"
check_nomatch "... and nothing else" " allow | deny " "$out"

# A deny rule still denies a container in learn mode.
out=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" tools -- /opt/webapp/kvcli --broker db.kv GET greeting 2>&1; echo "rc=$?")
check_match "a deny rule still denies tools, in learn mode too" "rc=3" "$(echo $out)"
check_match "... recorded as a deny by that rule" \
        '"from":"tools","to":"db","kind":"ipc","op":"connect","object":"db.kv","decision":"deny","rule":"tools-not-db"' \
        "$(audit_grep '"from":"tools"')"

# Learn mode is the registration's: a broker killed and started again
# re-adopts the group's containers in it.
kill -KILL "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null
start_broker
out=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" web -- /opt/webapp/kvcli --broker db.kv GET greeting 2>&1)
check_eq "after kill -9 and a restart of the broker, web still learns" "VALUE hello from db" "$out"
check_eq "... recorded as learn" "2" "$(audit_grep '"from":"web","to":"db","kind":"ipc","op":"connect","object":"db.kv","decision":"learn"' | wc -l)"

# A container not in learn mode is not helped by the group's.
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --name outsider \
        -v "$ex/bin:/opt/webapp:ro" -- /opt/webapp/kvcli --broker db.kv GET greeting 2>&1; echo "rc=$?")
check_match "a container run without --learn is denied" "rc=3" "$(echo $out)"
check_match "... recorded as a deny" '"from":"outsider","to":"db","kind":"ipc","op":"connect","object":"db.kv","decision":"deny","rule":"default"' \
        "$(audit_grep '"from":"outsider"')"

# A single container in learn mode, and one that cannot learn (no broker).
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --learn --name solo \
        -v "$ex/bin:/opt/webapp:ro" -- /opt/webapp/kvcli --broker db.kv GET greeting 2>&1; echo "rc=$?")
check_match "run --learn -- CMD learns too" "LEARN MODE.*VALUE hello from db rc=0" "$(echo $out)"
check_match "... recorded as learn" '"from":"solo","to":"db","kind":"ipc","op":"connect","object":"db.kv","decision":"learn"' \
        "$(audit_grep '"from":"solo"')"
mkdir -p "$T/nobroker"
out=$("$SHUTTLECTL" run --state-dir "$T/nobroker" --learn --name nolearn -- true 2>&1; echo "rc=$?")
check_match "run --learn without a broker does not run the command" "no broker .* to learn for container 'nolearn'.*rc=125" "$(echo $out)"

# 2. Draft.
out=$("$SHUTTLECTL" policy draft --audit "$AUDIT_LOG" --group webapp -o "$ex/draft.yaml" 2>&1; echo "rc=$?")
check_match "policy draft writes a draft" "wrote .*draft.yaml: 2 rules for 4 requests.*rc=0" "$(echo $out)"
check_match "... one rule, web to db's kv, commented with its counts" \
        "# seen 3 times \(3 learned\), first .*, last .*
  - id: web-ipc-db
    from: \"webapp/web\"
    to: \"webapp/db\"
    allow: ipc
    endpoint: \"kv\"" "$(cat "$ex/draft.yaml")"
check_match "... and one for the invocation, with its argument" \
        "# seen 1 time \(1 learned\), first .*, last .*
  - id: web-invoke-db
    from: \"webapp/web\"
    to: \"webapp/db\"
    allow: invoke
    app: \"/bin/uname\"
    args: \[\"-n\"\]" "$(cat "$ex/draft.yaml")"
check_match "... which policy check accepts" "valid, 2 rules" "$("$SHUTTLECTL" policy check "$ex/draft.yaml" 2>&1)"
check_match "... and which denies what was not observed" "deny" \
        "$("$SHUTTLECTL" policy explain "$ex/draft.yaml" --from webapp/web --to webapp/db --kind ipc --endpoint admin 2>&1)"
out=$("$SHUTTLECTL" policy draft --audit "$AUDIT_LOG" --group nosuchgroup 2>&1; echo "rc=$?")
check_match "a draft of nothing is an error" "nothing to draft.*rc=1" "$(echo $out)"

# 3. Shadow: the group runs as it will (not learning) under the empty
# policy, the draft loaded as the group's shadow policy.
"$SHUTTLECTL" stop --state-dir "$STATE_DIR" webapp >/dev/null 2>&1
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --no-shim --detach "$ex/group.yaml" 2>&1)
check_match "the group runs again under the empty policy" "group 'webapp' is up" "$out"
out=$("$SHUTTLECTL" policy shadow --state-dir "$STATE_DIR" --group nosuch "$ex/draft.yaml" 2>&1; echo "rc=$?")
check_match "policy shadow --group of a group not running is refused" "group 'nosuch' has no policy of its own.*rc=1" \
        "$(echo $out)"
out=$(cd "$ex" && "$SHUTTLECTL" policy shadow --state-dir "$STATE_DIR" --group webapp draft.yaml 2>&1)
check_eq "policy shadow --group webapp draft.yaml loads the draft beside the group's policy" \
        "shadow policy of group 'webapp': $ex/draft.yaml: 2 rules" "$out"
check_match "... audited, with the group" '"group":"webapp",.*"kind":"policy","op":"shadow","object":"[^"]*draft.yaml","decision":"allow"' \
        "$(audit_grep '"op":"shadow"' | tail -1)"
out=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" web -- /opt/webapp/kvcli --broker db.kv GET greeting 2>&1; echo "rc=$?")
check_match "the draft is not enforced: web is refused under the empty policy" "rc=3" "$(echo $out)"
check_match "... the record has the draft's decision beside the policy's" \
        '"from":"web","to":"db","kind":"ipc","op":"connect","object":"db.kv","decision":"deny","rule":"default".*"shadow_decision":"allow","shadow_rule":"web-ipc-db"' \
        "$(audit_grep '"op":"connect"' | tail -1)"
diff=$("$SHUTTLECTL" audit --file "$AUDIT_LOG" --shadow-diff 2>&1)
check_match "audit --shadow-diff lists it, with the draft's rule" \
        "^ +1  ipc +web -> db +db\.kv +deny -> allow +default -> web-ipc-db$" "$diff"
printf 'version: 1\nrules:\n  - {from: a, to: b, allow: ipc, bogus: 1}\n' >"$ex/bad.yaml"
out=$("$SHUTTLECTL" policy shadow --state-dir "$STATE_DIR" --group webapp "$ex/bad.yaml" 2>&1; echo "rc=$?")
check_match "a group's shadow policy with an error is refused at its place, exit 1" \
        "bad.yaml:3:[0-9]+: unknown key 'bogus'.*rc=1" "$(echo $out)"
check_eq "... and the draft stays" "shadow policy of group 'webapp': $ex/draft.yaml: 2 rules" \
        "$("$SHUTTLECTL" policy shadow --state-dir "$STATE_DIR" --group webapp 2>&1)"
check_eq "policy shadow lists it beside the broker's (none)" "shadow policy of group 'webapp': $ex/draft.yaml: 2 rules" \
        "$("$SHUTTLECTL" policy shadow --state-dir "$STATE_DIR" 2>&1)"
out=$("$SHUTTLECTL" policy reload --state-dir "$STATE_DIR" 2>&1)
check_match "policy reload reads the group's policy again" "policy reloaded" "$out"
check_eq "... and keeps its shadow policy" "shadow policy of group 'webapp': $ex/draft.yaml: 2 rules" \
        "$("$SHUTTLECTL" policy shadow --state-dir "$STATE_DIR" --group webapp 2>&1)"
stop_broker
start_broker
check_eq "a restarted broker restores the group's shadow policy" \
        "shadow policy of group 'webapp': $STATE_DIR/groups/webapp/shadow.yaml: 2 rules" \
        "$("$SHUTTLECTL" policy shadow --state-dir "$STATE_DIR" --group webapp 2>&1)"
"$SHUTTLECTL" exec --state-dir "$STATE_DIR" web -- /opt/webapp/kvcli --broker db.kv GET greeting >/dev/null 2>&1
check_match "... and decides in shadow with it" \
        '"from":"web","to":"db","kind":"ipc","op":"connect","object":"db.kv","decision":"deny","rule":"default".*"shadow_decision":"allow","shadow_rule":"web-ipc-db"' \
        "$(audit_grep '"op":"connect"' | tail -1)"
out=$("$SHUTTLECTL" policy shadow --state-dir "$STATE_DIR" --group webapp --clear 2>&1)
check_eq "policy shadow --group webapp --clear drops it" "shadow policy of group 'webapp' cleared
no shadow policy for group 'webapp'" "$out"
"$SHUTTLECTL" exec --state-dir "$STATE_DIR" web -- /opt/webapp/kvcli --broker db.kv GET greeting >/dev/null 2>&1
check_nomatch "... requests are no longer decided in shadow" 'shadow_decision' "$(audit_grep '"op":"connect"' | tail -1)"
check_eq "... and its copy is gone" "no" "$([ -e "$STATE_DIR/groups/webapp/shadow.yaml" ] && echo yes || echo no)"
"$SHUTTLECTL" policy shadow --state-dir "$STATE_DIR" --group webapp "$ex/draft.yaml" >/dev/null 2>&1
"$SHUTTLECTL" stop --state-dir "$STATE_DIR" webapp >/dev/null 2>&1
check_match "a group's shadow policy is dropped when the group stops, audited" \
        '"group":"webapp",.*"kind":"policy","op":"shadow","object":"-","decision":"allow","rule":"-","reason":"dropped with the group.s policy"' \
        "$(audit_grep '"op":"shadow"' | tail -1)"
check_eq "... its copy with it" "no" "$([ -e "$STATE_DIR/groups/webapp/shadow.yaml" ] && echo yes || echo no)"

# 4. Enforce: the draft becomes the group's policy, without learn mode.
cp "$ex/draft.yaml" "$ex/policy.yaml"
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --no-shim --detach "$ex/group.yaml" 2>&1)
check_match "the group runs under the draft" "group 'webapp' is up" "$out"
check_match "... not in learn mode" "^web +webapp +running" "$("$SHUTTLECTL" ps --state-dir "$STATE_DIR" 2>&1)"
out=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" web -- bash -c "$get" 2>&1 | tr -d '\r' | tail -1)
check_eq "web still reads db's value" "hello from db" "$out"
check_match "... allowed by the drafted rule" \
        '"from":"web","to":"db","kind":"ipc","op":"proxy-connect","object":"db.kv","decision":"allow","rule":"web-ipc-db"' \
        "$(audit_grep proxy-connect)"
out=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" web -- /run/shuttle/bin/shuttle-invoke db /bin/uname -n 2>&1)
check_eq "the invocation is allowed as drafted" "db" "$out"
out=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" web -- /run/shuttle/bin/shuttle-invoke db /bin/uname -s 2>&1; echo "rc=$?")
check_nomatch "... with another argument, it is not" "Linux" "$out"
check_match "... denied by default" '"from":"web","to":"db","kind":"invoke","op":"exec","object":"/bin/uname -s","decision":"deny","rule":"default"' \
        "$(audit_grep '"op":"exec"')"
out=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" tools -- /opt/webapp/kvcli --broker db.kv GET greeting 2>&1; echo "rc=$?")
check_match "tools, which the draft gives nothing, is denied" "rc=3" "$(echo $out)"
check_match "... by default" '"from":"tools","to":"db","kind":"ipc","op":"connect","object":"db.kv","decision":"deny","rule":"default"' \
        "$(audit_grep '"from":"tools"' | tail -1)"

"$SHUTTLECTL" stop --state-dir "$STATE_DIR" webapp >/dev/null 2>&1
check_eq "no container of the group is left" "" "$("$SHUTTLECTL" ps --state-dir "$STATE_DIR" 2>&1 | tail -n +2)"
stop_broker
finish
