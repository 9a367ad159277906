#!/bin/bash
# run --detach: once the container runs, its owner is shuttle-monitor, a
# small static program (not a whole shuttlectl), the only process outside
# the container's cgroup that is there because of it (one for all the
# detached containers of a state directory: monitor-shared.sh); it logs, forwards
# signals, and at the end the container is unregistered and nothing is
# left.  Killing it loses nothing: the container ends with it, the broker
# lets it go, the next start removes its state and cgroups.
. "$(dirname "$0")/lib.sh"
require_root
plan 21

S=(--state-dir "$STATE_DIR")
policy_a_uses_kv >"$T/policy.yaml"
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }

owner_of() { sed -n 's/.*"owner_pid":\([0-9]*\).*/\1/p' "$STATE_DIR/containers/$1/state.json" 2>/dev/null; }
registered() { [ -e "$STATE_DIR/registry/$1.json" ]; }
# Alive and not a zombie (whoever adopted it may not reap at once).
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
gone() { ! registered "$1" && [ -z "$(leftovers "$1")" ] && [ ! -e "$STATE_DIR/broker/$1" ]; }

out=$(srun --detach --name mon -- sh -c 'echo first; echo second >&2; exec sleep 300' 2>&1)
check_eq "run --detach starts the container" "0 mon" "$? $out"
init=$(container_init_pid mon)
owner=$(owner_of mon)
check_eq "its owner is shuttle-monitor" "shuttle-monitor" "$(basename "$(readlink "/proc/$owner/exe")")"
# The musl build is about 70 KB of RSS, glibc's static one about 850 KB; a
# shuttlectl that stayed (as before) had 2.4 MB, and its logger 1.8 MB more.
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$owner/status")
check_eq "... whose RSS is below 1 MB (${rss} KB)" "yes" "$([ "${rss:-99999}" -lt 1024 ] && echo yes || echo no)"
check_eq "... which has no child (no logger process; the init was handed to it, not forked by it)" "" \
        "$(cat /proc/"$owner"/task/*/children | xargs)"
check_eq "... in a session of its own" "$owner" "$(ps -o sid= -p "$owner" | tr -d ' ')"
check_eq "the container is registered with the broker" "yes" "$(registered mon && echo yes || echo no)"
wait_until sh -c "'$SHUTTLECTL' logs --state-dir '$STATE_DIR' mon | grep -q second"
check_eq "what it writes is in its log" "first second" \
        "$(sctl logs "${S[@]}" mon | grep -v '^shuttlectl:' | tr '\n' ' ' | sed 's/ $//')"
check_eq "... each line stamped as logs --timestamps reads it" "2" \
        "$(sctl logs "${S[@]}" --timestamps mon | grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z (first|second)$')"

# A signal to the monitor goes to the container, as to shuttlectl before.
kill -TERM "$owner"
wait_until gone mon
check_eq "SIGTERM to the monitor ends the container, which is then unregistered, its cgroups, state and directory gone" \
        "" "$(leftovers mon; registered mon && echo registered; ls -d "$STATE_DIR/broker/mon" 2>/dev/null)"
wait_until sh -c "! { [ -e /proc/$owner ] && ! grep -q '^State:[[:space:]]*Z' /proc/$owner/status; }"
check_eq "... and the monitor ends" "no" "$(alive "$owner" && echo yes || echo no)"

# A command that ends on its own.
out=$(srun --detach --name short -- sh -c 'echo bye; exec sleep 1' 2>&1)
check_eq "a second detached container starts" "0 short" "$? $out"
owner=$(owner_of short)
wait_until gone short
check_eq "when its command ends, everything goes" "" "$(leftovers short; registered short && echo registered)"
check_eq "... the log stays" "bye" "$(sctl logs "${S[@]}" short | grep -v '^shuttlectl:')"
check_eq "... the broker recorded its stop" "1" "$(grep -c '"op":"stop".*"object":"short"' "$AUDIT_LOG")"

# Killed by the OOM killer: said in its log, as a foreground run says it.
out=$(srun --detach --name oom --memory 32M -- tail /dev/zero 2>&1)
check_eq "a detached allocator over --memory starts" "0 oom" "$? $out"
wait_until gone oom
check_eq "... and its log says it was killed for want of memory" \
        "shuttlectl: container 'oom' was killed: out of memory (limit 32M)" "$(sctl logs "${S[@]}" oom | tail -1)"

# Killing the monitor.
srun --detach --name victim -- sleep 300 >/dev/null 2>&1
init=$(container_init_pid victim)
owner=$(owner_of victim)
pidns=$(readlink "/proc/$init/ns/pid")
kill -KILL "$owner"
wait_until sh -c "! kill -0 $init 2>/dev/null"
check_eq "SIGKILL to the monitor ends the container with it (nothing runs unwatched)" "" "$(alive_in_pidns "$pidns")"
wait_until sh -c "! [ -e '$STATE_DIR/registry/victim.json' ]"
check_eq "... the broker lets it go" "no" "$(registered victim && echo yes || echo no)"
check_match "... ps -a shows its entry as stale" "^victim +- +stale " "$(sctl ps "${S[@]}" -a | grep '^victim ')"
out=$(srun --detach --name victim -- true 2>&1)
check_eq "... and the next start of that name works" "0 victim" "$? $out"
wait_until gone victim
check_eq "... and leaves nothing of either behind" "" "$(leftovers victim; registered victim && echo registered)"

stop_broker
finish
