#!/bin/bash
# The init: signal forwarding, zombie reaping.
. "$(dirname "$0")/lib.sh"
require_root
plan 8

# SIGTERM to shuttlectl reaches the command, which can handle it.
"${SRUN[@]}" --name sig -- sh -c 'trap "echo got-TERM; exit 7" TERM; while :; do sleep 0.1; done' >"$T/sig.out" 2>&1 &
bg=$!
container_init_pid sig >/dev/null
sleep 0.3
kill -TERM $bg
wait $bg
check_eq "SIGTERM is forwarded and the handler's status returned" "7" "$?"
check_eq "... the handler ran" "got-TERM" "$(cat "$T/sig.out")"

for s in INT HUP USR1 USR2 QUIT; do :; done
"${SRUN[@]}" --name sig2 -- sh -c 'trap "echo USR1" USR1; trap "echo HUP" HUP; trap "exit 0" USR2; while :; do sleep 0.1; done' >"$T/sig2.out" 2>&1 &
bg=$!
container_init_pid sig2 >/dev/null
sleep 0.3
kill -USR1 $bg; sleep 0.3; kill -HUP $bg; sleep 0.3; kill -USR2 $bg
wait $bg
check_eq "SIGUSR1, SIGHUP and SIGUSR2 are forwarded in order" "USR1 HUP " "$(tr '\n' ' ' <"$T/sig2.out")"

# An uncaught SIGINT ends the command with 130.
"${SRUN[@]}" --name sig3 -- sleep 30 &
bg=$!
container_init_pid sig3 >/dev/null
sleep 0.2
kill -INT $bg
wait $bg
check_eq "an uncaught forwarded SIGINT gives 130" "130" "$?"

# Forwarding also reaches a command running as another user.
"${SRUN[@]}" --name sig4 --user 4242 -- sh -c 'trap "exit 9" TERM; while :; do sleep 0.1; done' &
bg=$!
container_init_pid sig4 >/dev/null
sleep 0.3
kill -TERM $bg
wait $bg
check_eq "signals reach a command running as a non-root user" "9" "$?"

# Orphans are adopted and reaped by the init: no zombies.
out=$(srun -- sh -c '(sleep 0.2 & sleep 0.2 & exit 0); sleep 1; ps -e -o stat= | grep -c "^Z"' 2>&1)
check_eq "orphaned children are reaped (no zombies)" "0" "$out"

# When the command exits, its leftover background processes go too.
"${SRUN[@]}" --name bgkids -- sh -c 'sleep 100 & exit 0' &
bg=$!
pid=$(container_init_pid bgkids)
wait $bg
check_eq "the command's exit ends the container" "0" "$?"
sleep 0.2
check_eq "no process of the container survives" "" "$(pgrep -f 'sleep 100' | head -1)"
finish
