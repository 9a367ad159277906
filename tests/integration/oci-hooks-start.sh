#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shuttle-oci's hooks.startContainer: run by the container's process after
# `start` released it and before its command, in the container's root,
# namespaces and sandbox, with the state on stdin; one failing (or timing
# out) makes `start` fail and the command never runs.
. "$(dirname "$0")/lib.sh"
require_root

oci_setup



hook() { printf '{ "path": "/bin/sh", "args": ["sh", "-c", "%s"]%s }' "$1" "${2:+, \"timeout\": $2}"; }
add_hooks() { sed -i "s|\"hostname\": \"ocitest\",|\"hostname\": \"ocitest\", \"hooks\": { \"startContainer\": [ $2 ] },|" "$1/config.json"; }
# wait_file FILE: up to 10 s
wait_file() { local i=0; while [ ! -e "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; }

plan 15

# ---- a startContainer hook: in the container's root, with the state, before the command ----
B=$T/b1
oci_bundle "$B" false '["sh", "-c", "cat /hookran > /shared/cmd.out"]'
add_hooks "$B" "$(hook "cat > /shared/start.json; grep CapBnd /proc/self/status > /shared/capbnd; echo ran > /hookran")"
check_status "create with a startContainer hook" 0 oci create --bundle "$B" s1
pid=$(oci_field s1 pid)
check_eq "... the hook has not run before start" "" "$(ls -A "$B/shared")"
check_status "start runs it" 0 oci start s1
wait_file "$B/shared/cmd.out"
check_eq "the hook wrote into the container's root (its mount namespace), before the command ran" "ran" \
        "$(cat "$B/shared/cmd.out" 2>/dev/null)"
check_match "the hook got the state on stdin: id, status created, the container's pid" \
        '"id":"s1".*"status":"created".*"bundle":"'"$B"'".*"pid":'"$pid"'}' "$(cat "$B/shared/start.json" 2>/dev/null)"
check_match "the hook is in the container's sandbox (bounding set: CAP_KILL only)" "CapBnd:.*0000000000000020" \
        "$(cat "$B/shared/capbnd" 2>/dev/null)"
oci delete --force s1 >/dev/null 2>&1

# ---- a failing hook: start fails naming it, the command never runs, the container is stopped ----
B2=$T/b2
oci_bundle "$B2" false '["touch", "/shared/ran"]'
add_hooks "$B2" "$(hook "true"), $(hook "exit 4"), $(hook "touch /shared/third")"
oci create --bundle "$B2" s2 >/dev/null 2>&1
check_status "start with a failing startContainer hook fails" 1 oci start s2
check_match "... naming the hook" "start s2: hooks.startContainer\[1\]: hook '/bin/sh' exited with 4" "$(cat "$T/err")"
i=0; while [ "$(oci_status s2)" != stopped ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
check_eq "... the command and the later hooks never ran, the container is stopped" "stopped" \
        "$(ls -A "$B2/shared")$(oci_status s2)"
check_status "... and delete removes it" 0 oci delete s2

# ---- a hook past its timeout is killed and start fails ----
B3=$T/b3
oci_bundle "$B3" false '["touch", "/shared/ran"]'
add_hooks "$B3" "$(hook "sleep 20" 1)"
oci create --bundle "$B3" s3 >/dev/null 2>&1
t0=$(date +%s)
check_status "start with a hook past its timeout fails" 1 oci start s3
check_match "... saying so, within a few seconds" "hooks.startContainer\[0\]: hook '/bin/sh' timed out after 1 s.* 1$" \
        "$(cat "$T/err") $(( $(date +%s) - t0 < 8 ))"
oci delete --force s3 >/dev/null 2>&1
check_eq "nothing is left" "" "$(ls -A "$ROOT" 2>/dev/null)$(ls -A "$B3/shared")"

# ---- run: the same in one verb; a failing hook fails run and leaves nothing ----
B4=$T/b4
oci_bundle "$B4" false '["touch", "/shared/ran"]'
add_hooks "$B4" "$(hook "exit 2")"
check_status "run with a failing startContainer hook fails" 1 oci run --bundle "$B4" s4
check_eq "... naming the hook; the command never ran, nothing is left" \
        "shuttle-oci: run s4: hooks.startContainer[0]: hook '/bin/sh' exited with 2" \
        "$(grep -v '^shuttle-oci: hooks' "$T/err")$(ls -A "$B4/shared")$(ls -A "$ROOT" 2>/dev/null)"
