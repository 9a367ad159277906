#!/bin/bash
# The broker end to end: registration, a service reached through the proxy
# socket and through the fast path, denials, audit records, hostile input.
. "$(dirname "$0")/lib.sh"
require_root
plan 35

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - id: a-uses-kv
    from: a
    to: b
    allow: ipc
    endpoint: kv
  - id: nobody-gets-admin
    from: "*"
    to: b
    deny: ipc
    endpoint: admin
YAML

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro" -v "$(cd "${top_builddir:-.}" && pwd):/opt/b:ro")

# b exports kv and admin; evil is a symlink that points, inside b, at a path
# that exists only on the host.
host_sock=$T/host.sock
"$HELPERS/sockecho" serve host "$host_sock" >/dev/null &
"${SRUN[@]}" --name b "${VOL[@]}" --export kv=/run/kv.sock --export admin=/run/admin.sock \
        --export evil=/run/evil.sock --export dots=/run/dots.sock \
        -- sh -c "ln -s $host_sock /run/evil.sock; ln -s ../../../../../../..$host_sock /run/dots.sock; exec $H/sockecho serve kv /run/kv.sock admin /run/admin.sock" \
        >"$T/b.out" 2>&1 &
wait_until grep -q serving "$T/b.out" || diag "b did not start: $(cat "$T/b.out")"

out=$(srun --name a "${VOL[@]}" -- sh -c 'ls /run/shuttle; ls /run/shuttle/svc' 2>&1 | tr '\n' ' ')
check_eq "a sees broker.sock, apps/, bin/ and exactly the services the policy allows it" "apps bin broker.sock svc b.kv " "$out"

out=$(srun --name a --no-shim "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv hello 2>&1)
check_eq "proxy path: a plain connect() to /run/shuttle/svc/b.kv reaches b's kv" "kv:hello" "$out"
check_match "... audited as an allow by rule a-uses-kv" '"from":"a","to":"b","kind":"ipc","op":"proxy-connect","object":"b.kv","decision":"allow","rule":"a-uses-kv"' "$(audit_grep proxy-connect)"

out=$(echo hello-fast | srun --name a "${VOL[@]}" -- /opt/b/shuttle-connect b.kv 2>&1)
check_eq "fast path: the broker passes a connected fd to b's kv" "kv:hello-fast" "$out"
check_match "... audited as an allow" '"op":"connect","object":"b.kv","decision":"allow","rule":"a-uses-kv"' "$(audit_grep '"op":"connect"')"

out=$(echo x | srun --name a "${VOL[@]}" -- /opt/b/shuttle-connect b.admin 2>&1; echo "rc=$?")
check_match "admin is refused on the fast path" "ermission denied|denied" "$out"
check_match "... audited as a deny by rule nobody-gets-admin" '"object":"b.admin","decision":"deny","rule":"nobody-gets-admin"' "$(audit_grep b.admin)"
out=$(srun --name a --no-shim "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.admin x 2>&1; echo "rc=$?")
check_match "admin has no proxy socket in a" "rc=4" "$out"

out=$(srun --name c "${VOL[@]}" -- sh -c 'ls /run/shuttle/svc | wc -l; echo x | /opt/b/shuttle-connect b.kv; echo rc=$?' 2>&1 | tr '\n' ' ')
check_match "a container without a policy entry reaches nothing" "^0 .*rc=[1-9]" "$out"
check_match "... and its attempt is audited as a default deny" '"from":"c","to":"b","kind":"ipc","op":"connect","object":"b.kv","decision":"deny","rule":"default"' "$(audit_grep '"from":"c"')"

# Names from a container are resolved inside it: a symlink or ".." that
# would lead to a host socket does not.
cat >>"$T/policy.yaml" <<'YAML'
  - id: a-tries-evil
    from: a
    to: b
    allow: ipc
    endpoint: evil
  - id: a-tries-dots
    from: a
    to: b
    allow: ipc
    endpoint: dots
YAML
reload_broker
out=$(echo x | srun --name a "${VOL[@]}" -- /opt/b/shuttle-connect b.evil 2>&1; echo "rc=$?")
check_match "a symlink in the exporter pointing at a host socket resolves inside it (allowed, nothing there: refused)" "Connection refused" "$out"
check_nomatch "... and does not reach the host socket" "host:" "$out"
out=$(echo x | srun --name a "${VOL[@]}" -- /opt/b/shuttle-connect b.dots 2>&1; echo "rc=$?")
check_match "a symlink climbing out with '..' stays inside (allowed, nothing there: refused)" "Connection refused" "$out"
check_nomatch "... and does not reach the host socket" "host:" "$out"
echo x | "$HELPERS/sockecho" call "$host_sock" probe >/dev/null 2>&1
check_eq "(the host socket itself was there to be reached)" "0" "$?"

# Hostile frames: each drops the peer and is audited; the broker lives on.
for mode in oversize badmagic badversion unknown reply fds truncated spoof; do
        out=$(srun --name a "${VOL[@]}" -- $H/rawframe /run/shuttle/broker.sock $mode 2>&1)
        check_match "a '$mode' frame drops the connection" "^dropped" "$out"
done
check_eq "... each one audited as malformed" "8" "$(audit_grep '"op":"malformed"' | wc -l)"

# A process outside the container cannot use its broker.sock.
out=$("$HELPERS/rawframe" "$STATE_DIR/broker/b/broker.sock" ok 2>&1)
check_eq "a host process on b's broker.sock is refused" "dropped" "$out"
out=$(srun --name a "${VOL[@]}" -- $H/rawframe /run/shuttle/broker.sock ok 2>&1)
check_match "(the same well-formed frame from inside a is answered)" "^answered" "$out"
check_match "... and audited against b's socket, not as b's doing" '"from":null,"to":"b","kind":"protocol","op":"accept","object":"/run/shuttle/broker.sock","decision":"deny".*"reason":"peer is not a process of this container"' "$(audit_grep 'not a process')"

out=$(srun --name a "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv still-alive 2>&1)
check_eq "the broker still serves after all that" "kv:still-alive" "$out"

# A broken policy is not applied; the old one keeps serving.
cp "$T/policy.yaml" "$T/policy.good"
echo "rules: [ {{{" >>"$T/policy.yaml"
reload_broker
out=$(srun --name a "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv after-bad-reload 2>&1)
check_eq "after a bad reload the old policy still serves" "kv:after-bad-reload" "$out"
check_match "... and the refusal is logged with file:line:col" "policy.yaml:[0-9]+:[0-9]+:" "$(cat "$T/shuttled.log")"
out=$("$SHUTTLECTL" policy reload --state-dir "$STATE_DIR" 2>&1; echo "rc=$?")
check_match "shuttlectl policy reload reports the errors and fails" "policy.yaml:[0-9]+:[0-9]+:.*rc=1" "$(echo $out)"
cp "$T/policy.good" "$T/policy.yaml"
out=$("$SHUTTLECTL" policy reload --state-dir "$STATE_DIR" 2>&1; echo "rc=$?")
check_match "a good one reloads, saying what it read" "^policy reloaded shuttled: $T/policy.yaml: [0-9]+ rules rc=0$" "$(echo $out)"

# Broker restart: running containers are re-adopted, channels recreated.
"${SRUN[@]}" --name a2 "${VOL[@]}" -- sleep 30 >/dev/null 2>&1 &
a2=$!
wait_until test -S "$STATE_DIR/broker/a2/broker.sock"
stop_broker
start_broker --policy "$T/policy.yaml"
out=$(srun --name a "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv after-restart 2>&1)
check_eq "after a broker restart b is re-adopted and reachable" "kv:after-restart" "$out"
check_match "... its re-adoption is in the audit log" '"kind":"container","op":"adopt","object":"b"' "$(audit_grep adopt)"

kill -TERM $a2 2>/dev/null; wait $a2 2>/dev/null
"$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify >"$T/verify" 2>&1
check_eq "the audit chain verifies" "0" "$?"

stop_broker
finish
