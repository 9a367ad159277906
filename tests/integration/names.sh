#!/bin/bash
# Transfer of names: another container's process, service or host named in
# the caller's view (RESOLVE, shuttle-name), as the transfer rules allow;
# kill() and sigqueue() of a named process through the shim (SIGNAL_PID),
# as the signal rules allow; every decision audited; without the shim a
# named pid reaches nothing.
. "$(dirname "$0")/lib.sh"
require_root
plan 60

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - { id: a-names-helpers, from: a, to: b, allow: transfer, pid: "/opt/t/*" }
  - { id: a-names-sleep, from: a, to: "b*", allow: transfer, pid: /usr/bin/sleep }
  - { id: a-names-copies, from: a, to: many, allow: transfer, pid: "/tmp/*" }
  - { id: a-signals-b, from: a, to: "*", allow: signal, signals: [USR1, USR2, TERM, 34] }  # 34: SIGRTMIN (glibc)
  - { id: nobody-hups-b, from: "*", to: b, deny: signal, signals: [HUP] }
  - { id: a-finds-services, from: a, to: b, allow: transfer, service: "*" }
  - { id: a-uses-kv, from: a, to: b, allow: ipc, endpoint: kv }
  - { id: c-signals-b, from: c, to: b, allow: signal }
YAML

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro")
SN=/run/shuttle/bin/shuttle-name
SX=("$SHUTTLECTL" exec --state-dir "$STATE_DIR")
BASE=1073741824

# b: a signal receiver, two sleeps, and two services.
"${SRUN[@]}" --name b "${VOL[@]}" --export kv=/run/kv.sock --export admin=/run/admin.sock -- sh -c \
        "$H/sigcall wait /tmp/ready & sleep 600 & sleep 601 & exec $H/sockecho serve kv /run/kv.sock admin /run/admin.sock" \
        >"$T/b.out" 2>&1 &
wait_until grep -q serving "$T/b.out" || diag "b did not start: $(cat "$T/b.out")"
wait_until "${SX[@]}" b -- test -e /tmp/ready || diag "b's receiver did not start: $(cat "$T/b.out")"

# in_a SCRIPT: SCRIPT in a new container a (with the shim), stderr too.
in_a() { srun --name a "${VOL[@]}" "${@:2}" -- sh -c "$1" 2>&1; }
# count_in NAME REGEX: processes of container NAME whose name matches.
count_in() { "${SX[@]}" "$1" -- sh -c "ps -e -o comm= | grep -c '$2'"; }
sleeps_in_b() { count_in b '^sleep$'; }
sleeps_in_b_are() { [ "$(sleeps_in_b)" = "$1" ]; }
received() { grep -c "$1" "$T/b.out"; }
# settle: a marker (sigqueue USR2 with a fresh value) sent after whatever
# must not arrive, and waited for.  A standard signal that did arrive
# first is still pending then, and the receiver takes lower numbers
# (HUP, USR1) before USR2: so what is not in its output by the marker
# never came.
marker=1000
settle() {
        marker=$((marker + 1))
        in_a "p=\$($SN pid b sigcall) && $H/sigcall queue \$p USR2 $marker" >/dev/null
        wait_until grep -q "^USR2 code=SI_QUEUE value=$marker\$" "$T/b.out"
}

# ---- the helper ----
out=$(in_a "readlink $SN; $SN --help | head -1")
check_eq "/run/shuttle/bin/shuttle-name is there (a link to the helper at /run/shuttle-bin)" \
        "/run/shuttle-bin/shuttle-name Usage: shuttle-name [--socket PATH] pid CONTAINER APP" "$(echo $out)"
out=$(in_a "$SN; echo rc=\$?; $SN pid b; echo rc=\$?; $SN colour b x; echo rc=\$?")
check_match "usage errors exit 2" "Usage: shuttle-name.*rc=2.*pid needs CONTAINER and APP.*rc=2.*unknown kind of name 'colour'.*rc=2" "$(echo $out)"

# ---- pid ----
out=$(in_a "$SN pid b /usr/bin/sleep; $SN pid b /usr/bin/sleep; $SN pid b sleep; $SN pid b sigcall")
set -- $out
check_match "a process of b's /usr/bin/sleep gets a pid of a's own, above every kernel pid" "^[0-9]+$" "${1:-}"
check_eq "... at $BASE or more" "yes" "$([ "${1:-0}" -ge $BASE ] && echo yes)"
check_eq "... naming it again gives the same pid, and so does its bare name" "$1 $1" "${2:-} ${3:-}"
check_eq "... another app's process gets another" "yes" "$([ -n "${4:-}" ] && [ "${4:-}" != "$1" ] && echo yes)"
check_match "... audited as a transfer 'resolve', with the rule and the pid" \
        '"from":"a","to":"b","kind":"transfer","op":"resolve","object":"pid:/usr/bin/sleep","decision":"allow","rule":"a-names-sleep",.*"pid":'"$1" \
        "$(audit_grep '"op":"resolve"' | head -1)"

# sh's kill (dash's builtin calls kill()), then procps' /usr/bin/kill.
before=$(sleeps_in_b)
out=$(in_a "p=\$($SN pid b /usr/bin/sleep) && kill -TERM \$p; echo rc=\$?")
check_eq "sh's kill -TERM of the named pid returns 0" "rc=0" "$out"
wait_until sleeps_in_b_are $((before - 1))
check_eq "... and one of b's sleeps is gone" "$((before - 1))" "$(sleeps_in_b)"
check_match "... audited as a signal 'kill' by rule a-signals-b" \
        '"from":"a","to":"b","kind":"signal","op":"kill","object":"/usr/bin/sleep:SIGTERM","decision":"allow","rule":"a-signals-b"' \
        "$(audit_grep '"kind":"signal"')"
out=$(in_a "p=\$($SN pid b /usr/bin/sleep) && /usr/bin/kill -TERM \$p; echo rc=\$?")
check_eq "/usr/bin/kill -TERM of a named pid returns 0" "rc=0" "$out"
wait_until sleeps_in_b_are $((before - 2))
check_eq "... and the other sleep is gone" "$((before - 2))" "$(sleeps_in_b)"
out=$(in_a "$SN pid b /usr/bin/sleep; echo rc=\$?")
check_match "with no sleep left in b, naming one is refused: no such process" \
        "No such process: no process of that app.*rc=1" "$(echo $out)"

# Signals as the receiver sees them.
u1=$(received "^USR1 code=SI_USER"); q=$(received "^USR2 code=SI_QUEUE value=42$"); rt=$(received "^RTMIN code=SI_QUEUE value=-7$")
out=$(in_a "p=\$($SN pid b sigcall) && $H/sigcall kill \$p USR1 && $H/sigcall queue \$p USR2 42 && $H/sigcall queue \$p RTMIN -7")
check_eq "kill() and sigqueue() of the named receiver return 0" "kill=0 queue=0 queue=0" "$(echo $out)"
wait_until sh -c "[ \$(grep -c '^RTMIN' '$T/b.out') -gt $rt ]"
check_eq "... it got USR1 from kill (SI_USER)" "$((u1 + 1))" "$(received "^USR1 code=SI_USER")"
check_eq "... and USR2 and SIGRTMIN from sigqueue (SI_QUEUE) with their values" "$((q + 1)) $((rt + 1))" \
        "$(received "^USR2 code=SI_QUEUE value=42$") $(received "^RTMIN code=SI_QUEUE value=-7$")"
check_match "... the sigqueue audited as op 'sigqueue' with its value" \
        '"kind":"signal","op":"sigqueue","object":"/opt/t/sigcall:SIGUSR2","decision":"allow".*"value":42' \
        "$(audit_grep '"op":"sigqueue"')"
check_match "... a signal without a name by its number" \
        '"kind":"signal","op":"sigqueue","object":"/opt/t/sigcall:34","decision":"allow".*"value":-7' \
        "$(audit_grep '"op":"sigqueue"')"

# Refused by a signal deny rule.
h=$(received "^HUP")
out=$(in_a "p=\$($SN pid b sigcall) && $H/sigcall kill \$p HUP; kill -HUP \$p; echo rc=\$?")
check_match "a signal a deny rule refuses: EPERM (sigcall and sh's kill)" "kill=-1 EPERM.*rc=[1-9]" "$(echo $out)"
check_match "... audited with the deny rule" \
        '"from":"a","to":"b","kind":"signal","op":"kill","object":"/opt/t/sigcall:SIGHUP","decision":"deny","rule":"nobody-hups-b"' \
        "$(audit_grep 'SIGHUP')"
settle
check_eq "... and not delivered" "$h" "$(received "^HUP")"

# kill(pid, 0), errno, threads, fork.
out=$(in_a "p=\$($SN pid b sigcall) && $H/sigcall kill \$p 0 && $H/sigcall keep \$p && $H/sigcall kill $((BASE + 200)) 0")
check_eq "kill(pid, 0): 0 for a named process (errno kept), ESRCH for a number never handed out" \
        "kill=0 kill=0 errno-kept=yes kill=-1 ESRCH" "$(echo $out)"
check_eq "... probes are not audited" "" "$(audit_grep '"object":"/opt/t/sigcall:(SIG)?0"')"
out=$(in_a "p=\$($SN pid b sigcall) && $H/sigcall threads \$p 8 20")
check_eq "8 threads x 20 kill(pid, 0) through one broker connection" "ok 160" "$out"
out=$(in_a "p=\$($SN pid b sigcall) && $H/sigcall fork \$p")
check_eq "after fork the child's kill() goes through its own connection" "parent=0 child=0 parent-again=0" "$(echo $out)"

# Without the shim (or without a broker) a named pid reaches nothing.
u1=$(received "^USR1")
out=$(in_a "p=\$($SN pid b sigcall) && $H/sigcall kill \$p USR1; kill -USR1 \$p; echo rc=\$?" --no-shim)
check_match "--no-shim: kill() of a named pid is ESRCH (sigcall and sh's kill)" "kill=-1 ESRCH.*rc=[1-9]" "$(echo $out)"
out=$(in_a "p=\$($SN pid b sigcall) && $H/sigcall kill \$p USR1" -e SHUTTLE_SHIM=0)
check_eq "SHUTTLE_SHIM=0: ESRCH" "kill=-1 ESRCH" "$out"
out=$(in_a "p=\$($SN pid b sigcall) && SHUTTLE_BROKER_SOCKET=/nonexistent.sock $H/sigcall kill \$p USR1")
check_eq "the shim without a broker: ESRCH" "kill=-1 ESRCH" "$out"
settle
check_eq "... and the receiver got nothing" "$u1" "$(received "^USR1")"
out=$(in_a "$H/sigcall kill $BASE USR1; $H/sigcall kill 1234567 USR1; $H/sigcall kill -1234567 USR1")
check_eq "kill() of pids nobody named, and of other pids and groups: the real call's ESRCH" \
        "kill=-1 ESRCH kill=-1 ESRCH kill=-1 ESRCH" "$(echo $out)"

# c has signal rules but no transfer rule: it may name nothing.
out=$(srun --name c "${VOL[@]}" -- sh -c "$SN pid b sigcall; echo rc=\$?; $H/sigcall kill $BASE USR1" 2>&1)
check_match "without a transfer rule the name is refused (exit 1, EACCES)" \
        "shuttle-name: pid sigcall in 'b': Permission denied: denied by policy rc=1 kill=-1 ESRCH" "$(echo $out)"
check_match "... audited as a denied resolve" \
        '"from":"c","to":"b","kind":"transfer","op":"resolve","object":"pid:/opt/t/sigcall","decision":"deny","rule":"default"' \
        "$(audit_grep '"from":"c"')"
settle
check_eq "... and a pid of a's means nothing in c" "$u1" "$(received "^USR1")"
out=$(in_a "$SN pid nosuch sleep; echo rc=\$?")
check_match "no such container: refused by the policy first (nothing is told)" "Permission denied.*rc=1" "$(echo $out)"

# A process named, then its container goes: the pid goes with it.
"${SRUN[@]}" --name b2 -- sleep 600 >"$T/b2.out" 2>&1 &
b2_job=$!
wait_until test -S "$STATE_DIR/broker/b2/broker.sock" || diag "b2 did not start: $(cat "$T/b2.out")"
"${SRUN[@]}" --name a "${VOL[@]}" -- sleep 600 >"$T/a.out" 2>&1 &
a_job=$!
wait_until test -S "$STATE_DIR/broker/a/broker.sock" || diag "a did not start: $(cat "$T/a.out")"
# exec preloads the shim as the container's command has it.
AX=("${SX[@]}" a --)
wait_until "${SX[@]}" b2 -- true
p=$("${AX[@]}" $SN pid b2 /usr/bin/sleep 2>&1)
out=$("${AX[@]}" $H/sigcall kill "$p" 0 2>&1)
check_eq "a long-running a names b2's sleep: kill(pid, 0) = 0" "kill=0" "$out"
kill -TERM $b2_job; wait $b2_job 2>/dev/null
wait_until sh -c "! test -e '$STATE_DIR/broker/b2'"
"${SRUN[@]}" --name b2 -- sleep 600 >"$T/b2.out" 2>&1 &
b2_job=$!
wait_until test -S "$STATE_DIR/broker/b2/broker.sock" || diag "b2 did not start again: $(cat "$T/b2.out")"
wait_until "${SX[@]}" b2 -- true
out=$("${AX[@]}" $H/sigcall kill "$p" 0 2>&1)
check_eq "after b2 stopped and started again, the old pid is ESRCH" "kill=-1 ESRCH" "$out"
p2=$("${AX[@]}" $SN pid b2 /usr/bin/sleep 2>&1)
check_eq "... and the new sleep gets a new pid" "yes" "$([ -n "$p2" ] && [ "$p2" != "$p" ] && echo yes)"
kill -TERM $b2_job $a_job; wait $b2_job $a_job 2>/dev/null

# At most 256 named processes per container; dead ones make room.
"${SRUN[@]}" --name many -- sh -c 'for i in $(seq 257); do cp /usr/bin/sleep /tmp/s$i; done
        for i in $(seq 257); do /tmp/s$i 600 & done; wait' >"$T/many.out" 2>&1 &
many_job=$!
many_are_up() { [ "$(count_in many '^s[0-9]')" = 257 ]; }
wait_until many_are_up || diag "many did not start its processes: $(cat "$T/many.out")"
out=$(in_a "for i in \$(seq 256); do $SN pid many /tmp/s\$i >/dev/null || echo failed \$i; done
            $SN pid many /tmp/s257; echo rc=\$?
            p=\$($SN pid many /tmp/s1) && kill -TERM \$p && while kill -0 \$p 2>/dev/null; do sleep 0.05; done
            $SN pid many /tmp/s257 >/dev/null; echo rc=\$?")
check_match "the 257th name is refused (EAGAIN) and audited" \
        "Resource temporarily unavailable: too many processes named \(256 at most\) rc=1 rc=0" "$(echo $out)"
check_eq "... all 256 before it were named" "" "$(echo "$out" | grep failed)"
kill -TERM $many_job; wait $many_job 2>/dev/null

# ---- service ----
out=$(in_a "$SN service b kv")
check_eq "a service b exports and a may reach: the path of its socket in a" "/run/shuttle/svc/b.kv" "$out"
out=$(in_a "$H/sockecho call \$($SN service b kv) hi")
check_eq "... connecting to it works" "kv:hi" "$out"
out=$(in_a "$H/sockecho call \$($SN service b kv) hi" --no-shim)
check_eq "... also without the shim (the proxy socket)" "kv:hi" "$out"
check_match "... audited as a resolve with the path" \
        '"kind":"transfer","op":"resolve","object":"service:kv","decision":"allow","rule":"a-finds-services".*"path":"/run/shuttle/svc/b.kv"' \
        "$(audit_grep '"object":"service:kv"')"
out=$(in_a "$SN service b admin; echo rc=\$?")
check_match "a service a may name but not reach: refused, ipc not allowed" \
        "service admin in 'b': Permission denied: ipc to that service is not allowed rc=1" "$(echo $out)"
check_match "... audited" '"object":"service:admin","decision":"deny","rule":"a-finds-services","reason":"ipc to that service is not allowed"' \
        "$(audit_grep '"object":"service:admin"')"
out=$(in_a "$SN service b nosuch; echo rc=\$?")
check_match "a service b does not export: ENOENT" "No such file or directory: no such service rc=1" "$(echo $out)"

# ---- host ----
out=$(in_a "$SN host b; echo rc=\$?")
check_match "b's host name without a host rule: refused" "host in 'b': Permission denied.*rc=1" "$(echo $out)"

# A group name of this run's own: its bridge is named after it, host-wide.
G=names$$
mkdir -p "$T/g"
cat >"$T/g/group.yaml" <<YAML
group: $G
policy: policy.yaml
containers:
  x:
    command: ["sleep", "300"]
    net: bridge
  y:
    command: ["sleep", "300"]
    net: bridge
    depends_on: [x]
  z:
    command: ["sleep", "300"]
    net: none
    depends_on: [y]
YAML
cat >"$T/g/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - { id: hosts, from: "*", to: "*", allow: transfer, host: true }
YAML
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --detach "$T/g/group.yaml" 2>&1)
check_match "a group with two bridged containers and one without a network comes up" "group '$G' is up" "$out"
y_addr=$("${SX[@]}" y -- cat /proc/net/fib_trie 2>/dev/null | awk '/32 host LOCAL/ {print prev} {prev=$2}' | grep -v '^127\.' | head -1)
out=$("${SX[@]}" x -- $SN host y 2>&1)
check_eq "x names y's host: y's address on the group's bridge" "$y_addr" "$out"
check_match "... audited" '"from":"x","to":"y","kind":"transfer","op":"resolve","object":"host","decision":"allow","rule":"hosts".*"address":"'"$y_addr"'"' \
        "$(audit_grep '"object":"host"')"
out=$("${SX[@]}" x -- $SN host z 2>&1; echo "rc=$?")
check_match "z (net: none) shares no network with x: ENETUNREACH" "Network is unreachable: no network shared with that container rc=1" "$(echo $out)"
out=$("${SX[@]}" z -- $SN host y 2>&1; echo "rc=$?")
check_match "... nor y with z" "Network is unreachable.*rc=1" "$(echo $out)"
"$SHUTTLECTL" stop --state-dir "$STATE_DIR" "$G" >/dev/null 2>&1

# ---- malformed frames ----
m0=$(audit_grep '"op":"malformed"' | wc -l)
for mode in resolve-both resolve-what resolve-noname resolve-nowhat signal-pid-low; do
        out=$(in_a "$H/rawframe /run/shuttle/broker.sock $mode")
        check_match "a '$mode' frame drops the connection" "^dropped" "$out"
done
check_eq "... each one audited as malformed" "5" "$(($(audit_grep '"op":"malformed"' | wc -l) - m0))"
out=$(in_a "$H/rawframe /run/shuttle/broker.sock resolve-ok")
check_match "(a well-formed RESOLVE is answered)" "^answered -" "$out"

"$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify >"$T/verify" 2>&1
check_eq "the audit chain verifies" "0" "$?"
stop_broker
finish
