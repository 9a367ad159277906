#!/bin/bash
# shuttled under a service manager (Type=notify, sd_notify(3)): READY=1
# once control.sock answers, RELOADING=1 / READY=1 around a policy reload
# (held in flight by SHUTTLED_TEST_RELOAD_GATE, so the order is fixed
# without timing), STOPPING=1 on SIGTERM; a notify socket nobody listens
# on does not keep it from starting.  And the unit file passes
# systemd-analyze verify, where systemd is installed.
. "$(dirname "$0")/lib.sh"
require_root
plan 12

NOTIFY=$T/notify.sock
GATE=$T/gate
mkfifo "$GATE"
release() { timeout 20 sh -c "echo go >'$GATE'"; }
# lines: the messages received so far, one a line.
lines() { cat "$T/notify.out"; }
nth() { sed -n "$1p" "$T/notify.out"; }
has_lines() { [ "$(grep -c '^pid=' "$T/notify.out")" -ge "$1" ]; }

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
rules: []
YAML

"$HELPERS/notifyrecv" "$NOTIFY" "$STATE_DIR/control.sock" >"$T/notify.out" 2>&1 &
recv=$!
wait_until grep -q listening "$T/notify.out" || { echo "Bail out! notifyrecv: $(cat "$T/notify.out")"; exit 1; }

NOTIFY_SOCKET=$NOTIFY SHUTTLED_TEST_RELOAD_GATE=$GATE \
        "$SHUTTLED" --foreground --state-dir "$STATE_DIR" --audit-log "$AUDIT_LOG" --policy "$T/policy.yaml" \
        2>>"$T/shuttled.log" &
BROKER_PID=$!
wait_until has_lines 1
check_eq "READY=1 comes from shuttled itself, when control.sock already answers" \
        "pid=$BROKER_PID READY=1 control=ok" "$(nth 2)"
broker_answers
check_eq "... and the broker answers requests" "0" "$?"

# A reload, held by the gate: RELOADING=1 now, READY=1 only once applied.
kill -HUP "$BROKER_PID"
wait_until has_lines 2
check_match "SIGHUP: RELOADING=1 with the time, while the policy is being read" \
        "^pid=$BROKER_PID RELOADING=1 MONOTONIC_USEC=[0-9]+$" "$(nth 3)"
check_eq "... and no READY=1 before it is applied" "2" "$(grep -c '^pid=' "$T/notify.out")"
release
wait_until has_lines 3
check_eq "... READY=1 once it is" "pid=$BROKER_PID READY=1 control=ok" "$(nth 4)"

# A refused reload (the old policy keeps serving) ends in READY=1 too.
echo "version: [" >"$T/policy.yaml"
"$SHUTTLECTL" policy reload --state-dir "$STATE_DIR" >"$T/reload.out" 2>&1 &
rl=$!
wait_until has_lines 4
check_match "policy reload: RELOADING=1" "^pid=$BROKER_PID RELOADING=1 " "$(nth 5)"
release
wait "$rl"
check_eq "... refused (exit 1), then READY=1: the old policy serves" "1 pid=$BROKER_PID READY=1 control=ok" \
        "$? $(nth 6)"

kill -TERM "$BROKER_PID"
wait "$BROKER_PID"
check_eq "SIGTERM: STOPPING=1, and shuttled exits 0" "pid=$BROKER_PID STOPPING=1 0" "$(nth 7) $?"
BROKER_PID=
wait "$recv"
check_eq "(nothing else was sent)" "7" "$(wc -l <"$T/notify.out")"

# A broker that detaches is not the service's main process: it says
# nothing (and the detached child's pid would be refused anyway).
"$HELPERS/notifyrecv" "$T/notify2.sock" "$STATE_DIR/control.sock" >"$T/notify2.out" 2>&1 &
recv=$!
wait_until grep -q listening "$T/notify2.out"
NOTIFY_SOCKET=$T/notify2.sock "$SHUTTLED" --state-dir "$STATE_DIR" --audit-log "$AUDIT_LOG" 2>>"$T/shuttled.log"
rc=$?
detached=$(pgrep -f -x -- "$SHUTTLED --state-dir $STATE_DIR --audit-log $AUDIT_LOG")
[ -n "$detached" ] && kill -TERM $detached
wait_until sh -c "! kill -0 ${detached:-0} 2>/dev/null"
"$HELPERS/notifyrecv" send "$T/notify2.sock" DONE=1
wait "$recv"
check_eq "without --foreground: started (exit 0), stopped, and nothing sent" "0 listening pid=$$ DONE=1" \
        "$rc $(echo $(sed "s/^pid=[0-9]*/pid=$$/" "$T/notify2.out"))"

# Nobody listening on NOTIFY_SOCKET: shuttled starts all the same.
NOTIFY_SOCKET=$T/nobody.sock start_broker
check_eq "a notify socket nobody listens on does not keep shuttled from starting" "0" "$?"
stop_broker

# The unit, with the paths of this build.
if command -v systemd-analyze >/dev/null 2>&1 && [ -f "${top_builddir:-.}/dist/shuttled.service" ]; then
        sed -e "s|^ExecStart=[^ ]*/shuttled|ExecStart=$(readlink -f "$SHUTTLED")|" \
            -e "s|^ExecReload=[^ ]*/shuttlectl|ExecReload=$(readlink -f "$SHUTTLECTL")|" \
            "${top_builddir:-.}/dist/shuttled.service" >"$T/shuttled.service"
        out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$T/shuttled.service" 2>&1)
        check_eq "systemd-analyze verify finds nothing to say about the unit" "" "$out"
else
        ok "# SKIP systemd-analyze is not installed"
fi
finish
