#!/bin/bash
# The init: signal forwarding, zombie reaping.
. "$(dirname "$0")/lib.sh"
require_root
plan 8

# SIGTERM to shuttlectl reaches the command, which can handle it.
# Each command says "ready" once its traps are set: only then is a signal
# sent (waiting a fixed time would race on a loaded machine).
"${SRUN[@]}" --name sig -- sh -c 'trap "echo got-TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done' >"$T/sig.out" 2>&1 &
bg=$!
wait_until grep -q ready "$T/sig.out"
kill -TERM $bg
wait $bg
check_eq "SIGTERM is forwarded and the handler's status returned" "7" "$?"
check_eq "... the handler ran" "got-TERM" "$(grep -v ready "$T/sig.out")"

for s in INT HUP USR1 USR2 QUIT; do :; done
"${SRUN[@]}" --name sig2 -- sh -c 'trap "echo USR1" USR1; trap "echo HUP" HUP; trap "exit 0" USR2; echo ready; while :; do sleep 0.1; done' >"$T/sig2.out" 2>&1 &
bg=$!
wait_until grep -q ready "$T/sig2.out"
kill -USR1 $bg; wait_until grep -q USR1 "$T/sig2.out"
kill -HUP $bg; wait_until grep -q HUP "$T/sig2.out"
kill -USR2 $bg
wait $bg
check_eq "SIGUSR1, SIGHUP and SIGUSR2 are forwarded in order" "USR1 HUP " "$(grep -v ready "$T/sig2.out" | tr '\n' ' ')"

# An uncaught SIGINT ends the command with 130.
"${SRUN[@]}" --name sig3 -- sh -c 'echo ready; exec sleep 30' >"$T/sig3.out" 2>&1 &
bg=$!
wait_until grep -q ready "$T/sig3.out"
sleep 0.1
kill -INT $bg
wait $bg
check_eq "an uncaught forwarded SIGINT gives 130" "130" "$?"

# Forwarding also reaches a command running as another user.
"${SRUN[@]}" --name sig4 --user 4242 -- sh -c 'trap "exit 9" TERM; echo ready; while :; do sleep 0.1; done' >"$T/sig4.out" 2>&1 &
bg=$!
wait_until grep -q ready "$T/sig4.out"
kill -TERM $bg
wait $bg
check_eq "signals reach a command running as a non-root user" "9" "$?"

# Orphans are adopted and reaped by the init: no zombies.
out=$(srun -- sh -c '(sleep 0.2 & sleep 0.2 & exit 0); sleep 1; ps -e -o stat= | grep -c "^Z"' 2>&1)
check_eq "orphaned children are reaped (no zombies)" "0" "$out"

# When the command exits, its leftover background processes go too.
# The command waits for the test to have seen its pid namespace, then
# leaves a child behind and exits.
mkdir -p "$T/gate"
"${SRUN[@]}" --name bgkids --volume "$T/gate:/gate" -- \
        sh -c 'sleep 100 & while [ ! -e /gate/go ]; do sleep 0.05; done; exit 0' &
bg=$!
pid=$(container_init_pid bgkids)
ns=$(readlink "/proc/$pid/ns/pid" 2>/dev/null)
touch "$T/gate/go"
wait $bg
check_eq "the command's exit ends the container" "0" "$?"
none_alive() { [ -z "$(alive_in_pidns "$ns")" ]; }
if [ -n "$ns" ] && wait_until none_alive; then ok "no process of the container survives"; else
        not_ok "no process of the container survives"; diag "pid namespace '$ns': alive: $(alive_in_pidns "$ns")"; fi
finish
