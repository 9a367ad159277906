#!/bin/bash
# Group networking: containers that both chose `net: bridge` reach each
# other over the group's bridge, a `net: none` one reaches nothing; the
# bridge goes with the group.  Also: `run GROUP.yaml` starts a broker when
# none runs, and says so.
. "$(dirname "$0")/lib.sh"
require_root
plan 10

H=/opt/t
cat >"$T/g.yaml" <<YAML
group: nettest
containers:
  a:
    command: ["$H/sockecho", "serve", "a", "tcp0:7000"]
    net: bridge
    volumes: ["$(cd "$HELPERS" && pwd):$H:ro"]
    ready: { tcp: 7000, timeout: 5s }
  b:
    command: ["sleep", "300"]
    net: bridge
    depends_on: [a]
  c:
    command: ["sleep", "300"]
    net: none
    depends_on: [a]
YAML
bridges_before=$(ls /sys/class/net | grep -c '^shb')

out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --detach "$T/g.yaml" 2>&1)
check_match "without a broker, run GROUP.yaml starts one and says so" "started shuttled \(state in $STATE_DIR" "$out"
check_match "... and the group comes up" "group 'nettest' is up" "$out"
check_eq "the group has its bridge" "$((bridges_before + 1))" "$(ls /sys/class/net | grep -c '^shb')"

ex() { "$SHUTTLECTL" exec --state-dir "$STATE_DIR" "$@"; }
a_addr=$(ex a -- cat /proc/net/fib_trie 2>/dev/null | awk '/32 host LOCAL/ {print prev} {prev=$2}' | grep -v '^127\.' | head -1)
check_match "a has an address on the bridge" "^10\.88\.[0-9]+\.[0-9]+$" "$a_addr"
out=$(ex b -- bash -c "exec 3<>/dev/tcp/$a_addr/7000 && echo hi >&3 && head -c 5 <&3" 2>&1)
check_eq "b reaches a over the bridge" "a:hi" "$out"
out=$(ex c -- bash -c "exec 3<>/dev/tcp/$a_addr/7000" 2>&1; echo "rc=$?")
check_match "c (net: none) does not" "unreachable.*rc=1" "$(echo $out)"
check_eq "c has no interface but lo" "lo" "$(ex c -- ls /sys/class/net 2>&1)"

"$SHUTTLECTL" stop --state-dir "$STATE_DIR" nettest >/dev/null 2>&1
check_eq "stopping the group removes its bridge" "$bridges_before" "$(ls /sys/class/net | grep -c '^shb')"
check_eq "... and its veths" "0" "$(ls /sys/class/net | grep -c '^shv')"
pkill -TERM -f "shuttled --state-dir $STATE_DIR" 2>/dev/null
# ("[s]" keeps pgrep from finding the sh -c that runs it.)
if wait_until sh -c "! pgrep -f '[s]huttled --state-dir $STATE_DIR' >/dev/null"; then
        ok "the broker it started (detached) stops on SIGTERM"
else
        not_ok "the broker it started (detached) stops on SIGTERM"
        pkill -KILL -f "shuttled --state-dir $STATE_DIR"
fi
finish
