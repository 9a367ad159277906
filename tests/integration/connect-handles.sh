#!/bin/bash
# The fast path of CONNECT goes through handles of the exporter's init the
# broker keeps (its root and network namespace), opened once: further
# connections open nothing under /proc/PID of the exporter (seen with
# strace on the broker).  The handles go with the container: a container
# started again under the same name is reached in its new root and
# namespace, never the old one's.
. "$(dirname "$0")/lib.sh"
require_root
plan 9

command -v strace >/dev/null || { echo "Bail out! strace is not installed (scripts/install-deps.sh)"; exit 1; }

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - id: a-uses-b
    from: a
    to: b
    allow: ipc
YAML

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro" -v "$(cd "${top_builddir:-.}" && pwd):/opt/b:ro")

# start_b TAG: b serving kv (unix) and web (TCP on its loopback), answering
# "TAG-kv:..." and "TAG-web:...".
start_b() {
        "${SRUN[@]}" --name b "${VOL[@]}" --export kv=/run/kv.sock --export web=tcp:8080 -- \
                $H/sockecho serve "$1-kv" /run/kv.sock "$1-web" tcp:8080 >"$T/b-$1.out" 2>&1 &
        B_JOB=$!
        wait_until grep -q serving "$T/b-$1.out" || diag "b ($1) did not start: $(cat "$T/b-$1.out")"
}
# a_calls: a connects to b.kv and b.web on the fast path, three times each.
a_calls() {
        srun --name a "${VOL[@]}" -- sh -c '
                for i in 1 2 3; do
                        echo k$i | /opt/b/shuttle-connect b.kv
                        echo w$i | /opt/b/shuttle-connect b.web
                done' 2>&1 | tr '\n' ' '
}

start_b one
B_PID=$(container_init_pid b)
out=$(a_calls)
check_eq "the fast path reaches b's unix and TCP services" \
        "one-kv:k1 one-web:w1 one-kv:k2 one-web:w2 one-kv:k3 one-web:w3 " "$out"

# The same again, traced: no /proc/B_PID/root or /proc/B_PID/ns/net opened.
strace -f -qq -p "$BROKER_PID" -e trace=open,openat,openat2 -o "$T/strace.out" 2>"$T/strace.err" &
ST=$!
wait_until test -s "$T/strace.err" -o -s "$T/strace.out"
# strace attaches before it writes anything: give it a moment to be sure.
sleep 0.5
out=$(a_calls)
kill -INT "$ST"; wait "$ST" 2>/dev/null
check_eq "traced: six connections served" \
        "one-kv:k1 one-web:w1 one-kv:k2 one-web:w2 one-kv:k3 one-web:w3 " "$out"
check_match "... the trace saw the broker open files (it was attached)" "open" "$(cat "$T/strace.out")"
n=$(grep -cE "/proc/$B_PID/(root|ns/net)" "$T/strace.out")
check_eq "... and not b's root or network namespace: the handles were kept" "0" "$n"
[ "$n" = 0 ] || diag "$(grep -E "/proc/$B_PID/" "$T/strace.out" | head -5)"

# b ends; a new b under the same name, with a new root and namespace.
kill -TERM "$B_JOB"; wait "$B_JOB" 2>/dev/null
wait_until sh -c "! '$SHUTTLECTL' ps --state-dir '$STATE_DIR' | grep -qw b"
check_eq "b is gone" "0" "$?"
out=$(echo x | srun --name a "${VOL[@]}" -- /opt/b/shuttle-connect b.kv 2>&1; echo "rc=$?")
check_match "... a connection to it is refused" "rc=[1-9]" "$out"
start_b two
B2_PID=$(container_init_pid b)
check_status "the new b has a new init" 0 test "$B2_PID" != "$B_PID"
out=$(a_calls)
check_eq "the new b is reached in its own root and namespace, not the old one's" \
        "two-kv:k1 two-web:w1 two-kv:k2 two-web:w2 two-kv:k3 two-web:w3 " "$out"
check_eq "no warnings from the broker" "" "$(grep -i 'warn\|error' "$T/shuttled.log")"

stop_broker
finish
