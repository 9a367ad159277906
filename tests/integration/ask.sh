#!/bin/bash
# Ask rules: a request waits for an operator (shuttlectl ask ls|allow|deny)
# without holding up the broker; answered once, denied, timed out, allowed
# for a while by a grant; a flood of asks is bounded and slows only the
# asker; a caller that goes away loses its asks.  Each audited with who
# answered and how.
. "$(dirname "$0")/lib.sh"
require_root
plan 46

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - id: a-asks-kv
    from: a
    to: b
    allow: ipc
    endpoint: kv
    ask: {timeout: 20s}
  - id: a-asks-slow
    from: a
    to: b
    allow: ipc
    endpoint: slow
    ask: {timeout: 1s}
  - id: f-asks-kv
    from: f
    to: b
    allow: ipc
    endpoint: kv
    ask: {timeout: 20s}
  - id: a-asks-cat
    from: a
    to: b
    allow: invoke
    app: /bin/cat
    ask: {timeout: 20s}
  - id: c-uses-kv
    from: c
    to: b
    allow: ipc
    endpoint: kv
YAML

out=$("$SHUTTLECTL" policy check "$T/policy.yaml" 2>&1; echo "rc=$?")
check_match "a policy with ask rules passes policy check" "rc=0" "$out"

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro" -v "$(cd "${top_builddir:-.}" && pwd):/opt/b:ro")

"${SRUN[@]}" --name b "${VOL[@]}" --export kv=/run/kv.sock --export slow=/run/slow.sock \
        -- $H/sockecho serve kv /run/kv.sock slow /run/slow.sock >"$T/b.out" 2>&1 &
wait_until grep -q serving "$T/b.out" || diag "b did not start: $(cat "$T/b.out")"

# How many asks container $1 has pending.
n_asks() { sctl ask ls --json --state-dir "$STATE_DIR" | grep -o '"from":"'"$1"'"' | wc -l; }
# connect_bg NAME OUT SERVICE: NAME connects to SERVICE (in the background).
connect_bg() {
        echo "hello-$3" | "${SRUN[@]}" --name "$1" "${VOL[@]}" -- /opt/b/shuttle-connect "$3" >"$2" 2>&1 &
}

# ---- allow --once
connect_bg a "$T/once.out" b.kv
cpid=$!
wait_until has_ask a b.kv
line=$(ask_line a b.kv)
check_match "ask ls lists the waiting request: id, from, to, kind, object, rule, age, deadline" \
        '^[0-9]+ +a +b +ipc +b\.kv +a-asks-kv +[0-9]+s +[0-9T:-]+Z$' "$line"
id=$(echo "$line" | awk '{ print $1 }')
json=$(sctl ask ls --json --state-dir "$STATE_DIR")
check_match "ask ls --json has the same, with a deadline in seconds since the epoch" \
        '"id":'"$id"',"from":"a","to":"b","kind":"ipc","op":"connect","object":"b.kv","rule":"a-asks-kv","age_ms":[0-9]+,"since":[0-9]+,"deadline":[0-9]+' "$json"
check_eq "... and the caller has no answer yet" "" "$(cat "$T/once.out")"
# Meanwhile the broker answers others at once.
out=$(echo quick | timeout 10 "${SRUN[@]}" --name c "${VOL[@]}" -- /opt/b/shuttle-connect b.kv 2>&1)
check_eq "another container's request is served while the ask waits" "kv:quick" "$out"
out=$(sctl ask allow "$id" --once --state-dir "$STATE_DIR" 2>&1)
check_eq "ask allow --once answers it" "ask $id allowed" "$out"
wait $cpid
check_eq "... and the request goes through" "kv:hello-b.kv" "$(cat "$T/once.out")"
check_match "... audited as an allow by the ask rule, with who answered and how" \
        '"from":"a","to":"b","kind":"ipc","op":"connect","object":"b.kv","decision":"allow","rule":"a-asks-kv","reason":"ask allowed once by the operator".*"ask":\{"id":'"$id"',"answer":"once","waited_ms":[0-9]+,"by_uid":0,"by_pid":[0-9]+\}' \
        "$(audit_grep '"answer":"once"')"
check_eq "... and it is no longer pending" "" "$(ask_line a b.kv)"
out=$(sctl ask allow "$id" --state-dir "$STATE_DIR" 2>&1; echo "rc=$?")
check_match "answering it again is refused, naming the id" "no pending ask $id .*rc=1" "$(echo $out)"

# A plain connect() to the proxy socket asks too; the connection waits.
"${SRUN[@]}" --name a --no-shim "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv via-proxy >"$T/proxy.out" 2>&1 &
cpid=$!
wait_until has_ask a b.kv
check_match "a connection on the proxy socket /run/shuttle/svc/b.kv waits for an answer too" \
        '"from":"a","to":"b","kind":"ipc","op":"proxy-connect","object":"b.kv","rule":"a-asks-kv"' \
        "$(sctl ask ls --json --state-dir "$STATE_DIR")"
sctl ask allow "$(ask_line a b.kv | awk '{ print $1 }')" --state-dir "$STATE_DIR" >/dev/null
wait $cpid
check_eq "... and is relayed once allowed" "kv:via-proxy" "$(cat "$T/proxy.out")"

# An invocation waits with its descriptors (stdin, stdout, stderr) kept.
printf 'via invoke\n' | "${SRUN[@]}" --name a -- /run/shuttle/bin/shuttle-invoke b /bin/cat >"$T/invoke.out" 2>&1 &
cpid=$!
wait_until has_ask a /bin/cat
check_match "an invocation waits for an answer" '^[0-9]+ +a +b +invoke +/bin/cat +a-asks-cat ' "$(ask_line a /bin/cat)"
sctl ask allow "$(ask_line a /bin/cat | awk '{ print $1 }')" --state-dir "$STATE_DIR" >/dev/null
wait $cpid
check_eq "... and runs once allowed, on the caller's stdin and stdout" "via invoke" "$(cat "$T/invoke.out")"
check_match "... audited as an allowed exec by the ask rule" \
        '"kind":"invoke","op":"exec","object":"/bin/cat","decision":"allow","rule":"a-asks-cat","reason":"ask allowed once by the operator"' \
        "$(audit_grep '"rule":"a-asks-cat"')"

# ---- deny
connect_bg a "$T/deny.out" b.kv
cpid=$!
wait_until has_ask a b.kv
id=$(ask_line a b.kv | awk '{ print $1 }')
out=$(sctl ask deny "$id" --state-dir "$STATE_DIR" 2>&1)
check_eq "ask deny answers it" "ask $id denied" "$out"
wait $cpid
check_match "... the caller is refused, and told why" "Permission denied: ask denied by the operator" "$(cat "$T/deny.out")"
check_match "... audited as a deny with who answered" \
        '"object":"b.kv","decision":"deny","rule":"a-asks-kv","reason":"ask denied by the operator".*"answer":"deny".*"by_uid":0' \
        "$(audit_grep '"answer":"deny"')"

# ---- timeout
start=$(date +%s)
connect_bg a "$T/timeout.out" b.slow
cpid=$!
wait_until has_ask a b.slow
wait_until sh -c "grep -q . '$T/timeout.out'"
check_match "an unanswered ask is denied at its deadline (1 s)" "Permission denied: ask timed out" "$(cat "$T/timeout.out")"
wait $cpid
check_match "... within a few seconds" "^[0-9]$" "$(($(date +%s) - start))"
check_match "... audited as 'ask timed out'" \
        '"object":"b.slow","decision":"deny","rule":"a-asks-slow","reason":"ask timed out".*"answer":"timeout"' \
        "$(audit_grep '"answer":"timeout"')"
check_nomatch "... with nobody named as the answerer" "by_uid" "$(audit_grep '"answer":"timeout"')"

# ---- allow --for: a grant, for the container that asked (this one a,
# which stays; a new a is asked again: grant-instance.sh)
out=$(sctl ask allow 1 --for 10x --state-dir "$STATE_DIR" 2>&1; echo "rc=$?")
check_match "a bad --for is refused before the broker is asked" "--for '10x'.*rc=2" "$(echo $out)"
"${SRUN[@]}" --name a "${VOL[@]}" -- sh -c 'touch /tmp/ready; exec sleep 600' >"$T/a-for.out" 2>&1 &
a_job=$!
wait_until "$SHUTTLECTL" exec --state-dir "$STATE_DIR" a -- test -e /tmp/ready || diag "a did not start: $(cat "$T/a-for.out")"
# exec_connect_bg OUT SERVICE: the running a connects to SERVICE.
exec_connect_bg() {
        echo "hello-$2" | "$SHUTTLECTL" exec --state-dir "$STATE_DIR" a -- /opt/b/shuttle-connect "$2" >"$1" 2>&1 &
}
exec_connect_bg "$T/for.out" b.kv
cpid=$!
wait_until has_ask a b.kv
id=$(ask_line a b.kv | awk '{ print $1 }')
out=$(sctl ask allow "$id" --for 5s --state-dir "$STATE_DIR" 2>&1)
check_match "ask allow --for makes a grant" "^ask $id allowed; grant [0-9]+ for 5s$" "$out"
wait $cpid
check_eq "... the request goes through" "kv:hello-b.kv" "$(cat "$T/for.out")"
check_match "... ask ls lists the grant until it expires" '^[0-9]+ +a +b +ipc +b\.kv +[0-9T:-]+Z$' \
        "$(sctl ask ls --state-dir "$STATE_DIR" | sed -n '/^GRANT/,$p' | tail -n +2)"
reload_broker
out=$(echo again | timeout 10 "$SHUTTLECTL" exec --state-dir "$STATE_DIR" a -- /opt/b/shuttle-connect b.kv 2>&1)
check_eq "the same request again, after a policy reload, is allowed without asking" "kv:again" "$out"
check_match "... audited as allowed by the grant" \
        '"object":"b.kv","decision":"allow","rule":"a-asks-kv","reason":"allowed by an ask grant".*"ask_grant":[0-9]+' \
        "$(audit_grep 'allowed by an ask grant')"
wait_until sh -c "! '$SHUTTLECTL' ask ls --state-dir '$STATE_DIR' | grep -q ^GRANT"
check_match "the grant's expiry is audited" '"op":"ask-grant","object":"b.kv","decision":"deny","rule":"-","reason":"ask grant expired"' \
        "$(audit_grep 'ask grant expired')"
exec_connect_bg "$T/for2.out" b.kv
cpid=$!
wait_until has_ask a b.kv
check_match "after it expired, the request asks again" "a-asks-kv" "$(ask_line a b.kv)"
sctl ask deny "$(ask_line a b.kv | awk '{ print $1 }')" --state-dir "$STATE_DIR" >/dev/null
wait $cpid
kill -TERM "$a_job"
wait "$a_job" 2>/dev/null

# ---- allow --always: a rule in the drop-in file next to the policy
connect_bg a "$T/always.out" b.kv
cpid=$!
wait_until has_ask a b.kv
id=$(ask_line a b.kv | awk '{ print $1 }')
before=$(grep -c 'Policy reload' "$T/shuttled.log")
out=$(sctl ask allow "$id" --always --state-dir "$STATE_DIR" 2>&1)
check_match "ask allow --always writes a rule into policy.d/50-approved.yaml next to the policy" \
        "^ask $id allowed; rule approved-$id-[0-9]+ written to /.*/policy.d/50-approved.yaml$" "$out"
rule=$(echo "$out" | awk '{ print $5 }')
wait $cpid
check_eq "... the request goes through" "kv:hello-b.kv" "$(cat "$T/always.out")"
check_match "... audited with the rule written" \
        '"reason":"ask allowed always by the operator".*"answer":"always".*"rule_written":"'"$rule"'","file":"/.*/policy.d/50-approved.yaml"' \
        "$(audit_grep '"answer":"always"')"
check_match "... the file has the rule, for exactly that request" \
        "- id: $rule from: \"a\" to: \"b\" allow: ipc endpoint: \"kv\" type: unix" \
        "$(echo $(grep -v '^ *#' "$T/policy.d/50-approved.yaml"))"
out=$(sctl policy check "$T/policy.yaml" "$T/policy.d" 2>&1; echo "rc=$?")
check_match "... and the policy with its drop-ins passes policy check" "rc=0" "$out"
wait_until sh -c "[ \$(grep -c 'Policy reload' '$T/shuttled.log') -gt $before ]"
out=$(echo approved | timeout 10 "${SRUN[@]}" --name a "${VOL[@]}" -- /opt/b/shuttle-connect b.kv 2>&1)
check_eq "the broker reloaded with it: the next request is allowed without asking" "kv:approved" "$out"
check_match "... by the rule written (a plain allow beats an ask rule as specific)" \
        '"object":"b.kv","decision":"allow","rule":"'"$rule"'"' "$(audit_grep '"rule":"'"$rule"'"')"
stop_broker
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not restart"; exit 1; }
out=$(echo restarted | timeout 10 "${SRUN[@]}" --name a "${VOL[@]}" -- /opt/b/shuttle-connect b.kv 2>&1)
check_eq "a restarted broker loads the drop-in too" "kv:restarted" "$out"

# ---- a flood: bounded per container, and only the asker waits
"${SRUN[@]}" --name f "${VOL[@]}" -- sh -c \
        'for i in $(seq 20); do echo x | /opt/b/shuttle-connect b.kv & done; sleep 60' >"$T/flood.out" 2>&1 &
fpid=$!
wait_until sh -c "[ \$(grep -c 'too many pending asks' '$T/flood.out') -ge 4 ]"
check_eq "over 16 pending asks, more are denied at once" "4" "$(grep -c 'Permission denied: too many pending asks' "$T/flood.out")"
wait_until sh -c "[ \$('$SHUTTLECTL' ask ls --state-dir '$STATE_DIR' | awk '\$2 == \"f\"' | wc -l) -eq 16 ]"
check_eq "... 16 wait" "16" "$(n_asks f)"
check_match "... the denials are audited" '"from":"f".*"decision":"deny","rule":"f-asks-kv","reason":"too many pending asks"' \
        "$(audit_grep 'too many pending asks')"
t0=$(date +%s%N)
out=$(echo prompt | timeout 10 "${SRUN[@]}" --name c "${VOL[@]}" -- /opt/b/shuttle-connect b.kv 2>&1)
t1=$(date +%s%N)
check_eq "another container's request is served during the flood" "kv:prompt" "$out"
check_match "... promptly (well under the asks' 20 s)" "^[0-9]$" "$(((t1 - t0) / 1000000000))"
kill -TERM "$fpid"
wait "$fpid" 2>/dev/null
wait_until sh -c "[ \$('$SHUTTLECTL' ask ls --state-dir '$STATE_DIR' | awk '\$2 == \"f\"' | wc -l) -eq 0 ]"
check_eq "when the asker goes away, its asks are dropped" "0" "$(n_asks f)"
check_match "... audited" '"from":"f".*"decision":"deny","rule":"f-asks-kv","reason":"caller went away while asking".*"answer":"dropped"' \
        "$(audit_grep 'caller went away while asking')"

out=$(echo end | timeout 10 "${SRUN[@]}" --name c "${VOL[@]}" -- /opt/b/shuttle-connect b.kv 2>&1)
check_eq "the broker serves on" "kv:end" "$out"

stop_broker
finish
