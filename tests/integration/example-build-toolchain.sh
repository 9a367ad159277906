#!/bin/bash
# The build-toolchain example end to end, with the one command its README
# gives: build compiles src/hello.c with the compiler tree toolchain owns,
# mounted into it by the depend rule; outsider has none; the audit log
# says so; the group ends by itself and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
require_root
if ! command -v gcc >/dev/null; then
        echo "1..0 # SKIP the example needs gcc (scripts/install-deps.sh installs it)"
        exit 77
fi
plan 11

ex=$T/build-toolchain
cp -r "${top_srcdir:-.}/examples/build-toolchain" "$ex"
rm -f "$ex/local.mk"
start_broker || { echo "Bail out! shuttled did not start"; exit 1; }
mount_points >"$T/mounts-before"

out=$(timeout 120 "$SHUTTLECTL" run --state-dir "$STATE_DIR" --no-shim "$ex/group.yaml" 2>&1; echo "rc=$?")
check_match "the group runs to its end and succeeds" "rc=0$" "$out"
check_match "build compiles with the toolchain's wrapper" "build +\| build: compiling /src/hello.c with greet toolchain 1.0 \(gcc " "$out"
check_match "... and runs what it built, with the toolchain's header" "build +\| hello, build, from the greet toolchain 1.0" "$out"
check_match "outsider has no /opt/toolchain" "outsider +\| outsider: no /opt/toolchain here" "$out"
check_match "toolchain stays up until the build is done" "toolchain +\| toolchain: the build is done, stopping" "$out"
check_match "the mount is audited with its rule" \
        '"group":"build-toolchain","from":"build","to":"toolchain","kind":"depend","op":"mount","object":"toolchain:/opt -> /opt","decision":"allow","rule":"build-uses-toolchain"' \
        "$(audit_grep '"kind":"depend"')"
check_match "... and the hand-off directory, rw" \
        '"object":"toolchain:/tmp/handoff -> /mnt","decision":"allow","rule":"build-reports-done".*"mode":"rw"' \
        "$(audit_grep '"kind":"depend"')"
check_eq "nothing was mounted for outsider" "" "$(audit_grep '"from":"outsider".*"kind":"depend"')"
check_match "the mounts are taken back when the group stops" '"from":"build","to":"toolchain","kind":"depend","op":"revoke"' \
        "$(audit_grep '"kind":"depend"')"
check_eq "no container of the group is left" "" "$("$SHUTTLECTL" ps --state-dir "$STATE_DIR" 2>&1 | tail -n +2)"
check_eq "no mount is left" "" "$(mounts_left "$T/mounts-before")"
stop_broker
finish
