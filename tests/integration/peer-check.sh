#!/bin/bash
# Invariant 9: the broker's sockets and directories are closed to everyone
# they are not for.  On the host its directories are 0700 (a local user
# reaches none of a container's sockets by path), and every accepting
# socket checks its peer: one that reaches a container's proxy socket or
# broker.sock anyway (through /proc/PID/root of a process of the same
# uid, or a mode loosened) is refused and audited, and never uses the
# container's grant; control.sock takes root on the host only.
. "$(dirname "$0")/lib.sh"
require_root
plan 26

if ! command -v setpriv >/dev/null; then
        for i in $(seq 26); do ok "# SKIP setpriv (util-linux) is not installed"; done
        finish
fi
# A local user of the host with no business here.
NOBODY=(setpriv --reuid 65534 --regid 65534 --clear-groups --)

policy_a_uses_kv >"$T/policy.yaml"

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
H=/opt/t
HELPERS_ABS=$(cd "$HELPERS" && pwd)
VOL=(-v "$HELPERS_ABS:$H:ro" -v "$(cd "${top_builddir:-.}" && pwd):/opt/b:ro")

"${SRUN[@]}" --name b "${VOL[@]}" --export kv=/run/kv.sock -- $H/sockecho serve kv /run/kv.sock >"$T/b.out" 2>&1 &
wait_until grep -q serving "$T/b.out" || diag "b did not start: $(cat "$T/b.out")"
# a runs as a user other than root: its users must still reach what is
# theirs, through the bind mount, with the host's parents closed.
"${SRUN[@]}" --name a --user 65534:65534 "${VOL[@]}" -- sleep 600 >"$T/a.out" 2>&1 &
wait_until test -S "$STATE_DIR/broker/a/svc/b.kv" || diag "a has no proxy socket: $(cat "$T/a.out")"

out=$(sctl exec --state-dir "$STATE_DIR" a -- $H/sockecho call /run/shuttle/svc/b.kv hello 2>&1)
check_eq "a process of a (uid 65534) reaches b.kv through its proxy socket" "kv:hello" "$out"
out=$(echo fast | sctl exec --state-dir "$STATE_DIR" a -- /opt/b/shuttle-connect b.kv 2>&1)
check_eq "... and its broker.sock (the fast path)" "kv:fast" "$out"

# ---- modes on the host --------------------------------------------------
mode() { stat -c '%a %U' "$1" 2>&1; }
check_eq "the state directory is 0700 root" "700 root" "$(mode "$STATE_DIR")"
check_eq "broker/ is 0700 root" "700 root" "$(mode "$STATE_DIR/broker")"
check_eq "registry/ is 0700 root" "700 root" "$(mode "$STATE_DIR/registry")"
check_eq "control.sock is 0600 root" "600 root" "$(mode "$STATE_DIR/control.sock")"
# Below broker/: open to the container's own users (whatever --user),
# who reach it through the bind mount only.
got=$(for p in a a/svc a/bin a/apps a/broker.sock a/svc/b.kv; do echo "$p $(mode "$STATE_DIR/broker/$p")"; done | tr '\n' ';')
check_eq "a's directory, svc/, bin/, apps/ 0755 and its sockets 0666, all below broker/" \
        "a 755 root;a/svc 755 root;a/bin 755 root;a/apps 755 root;a/broker.sock 666 root;a/svc/b.kv 666 root;" "$got"
bad=$(find "$STATE_DIR" -mindepth 1 -maxdepth 1 -perm /o=rwx 2>&1)
check_eq "nothing directly in the state directory is open to others" "" "$bad"

# ---- a local user, by path ----------------------------------------------
"${NOBODY[@]}" "$HELPERS/sockecho" call "$STATE_DIR/broker/a/svc/b.kv" x >/dev/null 2>&1
check_eq "uid 65534 on the host cannot reach a's proxy socket (EACCES)" "5" "$?"
"${NOBODY[@]}" "$HELPERS/sockecho" call "$STATE_DIR/broker/a/broker.sock" x >/dev/null 2>&1
check_eq "... nor a's broker.sock (EACCES)" "5" "$?"
"${NOBODY[@]}" "$HELPERS/sockecho" call "$STATE_DIR/control.sock" x >/dev/null 2>&1
check_eq "... nor control.sock (EACCES)" "5" "$?"

# ---- a local user with the path open: the peer check --------------------
# A host user with a's uid may open /proc/PID/root of a's processes: the
# sockets are reached there whatever the modes on the host.
a_init=$(container_init_pid a)
a_ns=$(readlink "/proc/$a_init/ns/pid")
a_pid=
# (Not its init: it runs as that uid too, but is not dumpable.)
for p in /proc/[0-9]*; do
        [ "${p#/proc/}" != "$a_init" ] && [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$a_ns" ] &&
                [ "$(stat -c %u "$p" 2>/dev/null)" = 65534 ] &&
                { a_pid=${p#/proc/}; break; }
done
diag "a's process: ${a_pid:-none}"
before_allow=$(audit_grep '"from":"a","to":"b","kind":"ipc","op":"proxy-connect".*"decision":"allow"' | wc -l)
out=$("${NOBODY[@]}" "$HELPERS/sockecho" call "/proc/$a_pid/root/run/shuttle/svc/b.kv" x 2>&1; echo "rc=$?")
check_match "uid 65534 on the host reaching a's proxy socket through /proc/PID/root is refused at accept" \
        "^no answer.*rc=2" "$(echo $out)"
check_match "... audited as a refused accept on a's socket, naming the peer" \
        '"to":"a","kind":"protocol","op":"accept","object":"/run/shuttle/svc/b.kv","decision":"deny".*"reason":"peer is not a process of this container","peer_pid":[0-9]+,"peer_uid":65534' \
        "$(audit_grep '"op":"accept"')"
after_allow=$(audit_grep '"from":"a","to":"b","kind":"ipc","op":"proxy-connect".*"decision":"allow"' | wc -l)
check_eq "... and b's service was not reached: no proxy-connect of a's is in the log" "$before_allow" "$after_allow"
out=$("${NOBODY[@]}" "$HELPERS/rawframe" "/proc/$a_pid/root/run/shuttle/broker.sock" ok 2>&1)
check_match "the same user on a's broker.sock is dropped at accept" "^dropped" "$out"
check_match "... audited with the socket's name" '"to":"a","kind":"protocol","op":"accept","object":"/run/shuttle/broker.sock","decision":"deny"' \
        "$(audit_grep '"op":"accept"')"

# The modes as they were before (0755): the peer check alone still holds.
chmod 0755 "$STATE_DIR" "$STATE_DIR/broker"
out=$("${NOBODY[@]}" "$HELPERS/sockecho" call "$STATE_DIR/broker/a/svc/b.kv" x 2>&1; echo "rc=$?")
check_match "with broker/ opened again, a's proxy socket still refuses uid 65534" "^no answer.*rc=2" "$(echo $out)"
chmod 0666 "$STATE_DIR/control.sock"
"${NOBODY[@]}" "$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR" >/dev/null 2>&1
check_eq "... and control.sock refuses uid 65534 (transfer ls fails)" "1" "$?"
check_match "... audited as a refused accept on control.sock" \
        '"kind":"protocol","op":"accept","object":"control.sock","decision":"deny".*"reason":"peer is not root","peer_pid":[0-9]+,"peer_uid":65534' \
        "$(audit_grep '"object":"control.sock"')"
chmod 0600 "$STATE_DIR/control.sock"
chmod 0700 "$STATE_DIR" "$STATE_DIR/broker"
after_allow=$(audit_grep '"from":"a","to":"b","kind":"ipc","op":"proxy-connect".*"decision":"allow"' | wc -l)
check_eq "no proxy-connect was made for anyone but a's processes" "$before_allow" "$after_allow"

# Root of a container handed the state directory (a careless volume) is
# not root on the host: control.sock refuses it too.
srun --name c -v "$STATE_DIR:/st" "${VOL[@]}" -- /opt/b/shuttlectl transfer ls --state-dir /st >/dev/null 2>&1
check_eq "root in a container given control.sock by a volume cannot drive the broker" "1" "$?"
check_match "... audited: not a process of the host" '"object":"control.sock","decision":"deny".*"reason":"peer is not a process of the host","peer_pid":[0-9]+,"peer_uid":0' \
        "$(audit_grep '"object":"control.sock"')"

# ---- a flood of refused connects ----------------------------------------
# Bounded records; every refusal is either a record or counted in the
# "suppressed" of a later one; the broker keeps serving meanwhile.
# A record with a peer is one refusal; "suppressed" counts those left out.
count='{ r++; if (/"peer_pid"/) n++; if (match($0, /"suppressed":[0-9]+/)) s += substr($0, RSTART + 13, RLENGTH - 13) }
       END { print r + 0, n + s }'
refusals() { audit_grep '"kind":"protocol","op":"accept".*"decision":"deny"' | awk "$count"; }
read -r rec0 all0 <<<"$(refusals)"
N=500
out=$("${NOBODY[@]}" "$HELPERS/sockecho" knock "/proc/$a_pid/root/run/shuttle/svc/b.kv" $N 2>&1)
check_eq "$N connects of uid 65534 on a's proxy socket: every one refused" "$N" "$out"
out=$(sctl exec --state-dir "$STATE_DIR" a -- $H/sockecho call /run/shuttle/svc/b.kv again 2>&1)
check_eq "a still reaches b.kv after the flood" "kv:again" "$out"
all_refused() { refusals | { read -r _ all; [ "$all" -ge $((all0 + N)) ]; }; }
wait_until all_refused
read -r rec1 all1 <<<"$(refusals)"
check_eq "... each refusal is in the log, one by one or counted in a later record's \"suppressed\"" "$N" "$((all1 - all0))"
if [ $((rec1 - rec0)) -lt "$N" ]; then ok "... in fewer records than refusals ($((rec1 - rec0)) for $N)"; else
        not_ok "... in fewer records than refusals"; diag "$((rec1 - rec0)) records for $N refusals"; fi
stop_broker
finish
