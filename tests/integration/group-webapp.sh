#!/bin/bash
# The webapp example end to end: shuttlectl run --detach GROUP.yaml, an
# allowed request through web, a refused one from intruder, both in the
# audit log, and a stop that leaves nothing behind.
. "$(dirname "$0")/lib.sh"
require_root
plan 19

ex=$T/webapp
mkdir -p "$ex/bin"
cp "${top_srcdir:-.}/examples/webapp/group.yaml" "${top_srcdir:-.}/examples/webapp/policy.yaml" "$ex/"
cp "${top_builddir:-.}/examples/webapp/kvd" "${top_builddir:-.}/examples/webapp/webd" \
   "${top_builddir:-.}/examples/webapp/kvcli" "$ex/bin/"
start_broker
mount_points >"$T/mounts-before"
ls /sys/class/net | sort >"$T/links-before"

out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --no-shim --detach "$ex/group.yaml" 2>&1)
check_match "run --detach brings the group up and returns" "group 'webapp' is up" "$out"

out=$("$SHUTTLECTL" ps --state-dir "$STATE_DIR" 2>&1)
check_match "ps lists db" "^db +webapp +running" "$out"
check_match "ps lists web" "^web +webapp +running" "$out"
check_match "ps lists intruder" "^intruder +webapp +running" "$out"

get='exec 3<>/dev/tcp/127.0.0.1/8080; printf "GET /kv/greeting HTTP/1.0\r\n\r\n" >&3; cat <&3'
out=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" web -- bash -c "$get" 2>&1 | tr -d '\r' | tail -1)
check_eq "web answers with db's value, read through /run/shuttle/svc/db.kv" "hello from db" "$out"
check_match "... audited as an allow by web-reads-kv" '"group":"webapp","from":"web","to":"db","kind":"ipc","op":"proxy-connect","object":"db.kv","decision":"allow","rule":"web-reads-kv"' "$(audit_grep proxy-connect)"

# The group's policy outlives a crash of the broker: a restarted one
# decides for the group as before (invariant 11).
kill -KILL "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null
start_broker
out=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" web -- bash -c "$get" 2>&1 | tr -d '\r' | tail -1)
check_eq "after kill -9 and a restart of the broker, web still reads db's value" "hello from db" "$out"
check_match "... decided by the group's policy, restored from its copy" "Policy of group 'webapp' restored from $STATE_DIR/groups/webapp/policy.yaml" \
        "$(cat "$T/shuttled.log")"
check_eq "... the request after the restart is audited as allowed by web-reads-kv" "2" \
        "$(audit_grep '"from":"web","to":"db","kind":"ipc","op":"proxy-connect","object":"db.kv","decision":"allow","rule":"web-reads-kv"' | wc -l)"

out=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" intruder -- /opt/webapp/kvcli --broker db.kv GET greeting 2>&1; echo "rc=$?")
check_match "intruder is refused" "refused by the broker's policy.*rc=3" "$(echo $out)"
check_match "... audited as a deny" '"group":"webapp","from":"intruder","to":"db","kind":"ipc","op":"connect","object":"db.kv","decision":"deny","rule":"default"' "$(audit_grep '"from":"intruder"')"
out=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" intruder -- ls /run/shuttle/svc 2>&1 | wc -l)
check_eq "intruder has no socket for db.kv" "0" "$out"

out=$("$SHUTTLECTL" logs --state-dir "$STATE_DIR" intruder 2>&1)
check_match "the intruder's own attempts are in its log" "refused by the broker's policy" "$out"
out=$("$SHUTTLECTL" logs --state-dir "$STATE_DIR" db 2>&1)
check_match "db's log has its output" "kvd: serving 2 keys on /run/kv.sock" "$out"

out=$("$SHUTTLECTL" stop --state-dir "$STATE_DIR" webapp 2>&1; echo "rc=$?")
check_match "stop GROUP stops the group" "rc=0" "$out"
check_eq "no container of the group is left" "" "$("$SHUTTLECTL" ps --state-dir "$STATE_DIR" 2>&1 | tail -n +2)"
check_eq "no cgroup is left" "" "$(leftovers db; leftovers web; leftovers intruder)"
check_eq "no mount is left" "" "$(mounts_left "$T/mounts-before")"
# (Interfaces of ours are named shb-/shb_ (bridges) and shv (veths); only
# new ones count: other processes may add and remove theirs meanwhile.)
check_eq "no network interface is left" "" "$(ls /sys/class/net | sort | comm -13 "$T/links-before" - | grep -E '^sh[bv]')"
stop_broker
finish
