#!/bin/bash
# --tty: the command gets its own terminal.
. "$(dirname "$0")/lib.sh"
require_root
plan 6

out=$(srun --tty -- sh -c 'tty; test -t 0 && test -t 1 && echo is-a-tty' </dev/null 2>&1 | tr -d '\r' | tr '\n' ' ')
check_eq "stdin and stdout are a terminal inside" "/dev/pts/0 is-a-tty " "$out"
out=$(srun -- sh -c 'test -t 1 && echo tty || echo no-tty' 2>&1 </dev/null | cat)
check_eq "without --tty there is none" "no-tty" "$out"
out=$(srun --tty -- sh -c 'ls -l /dev/console | cut -c1' </dev/null 2>&1 | tr -d '\r')
check_eq "/dev/console is the terminal" "c" "$out"
out=$(printf 'hello\n' | srun --tty -- sh -c 'read l; echo "got $l"' 2>&1 | tr -d '\r' | tail -1)
check_eq "input is relayed to the command" "got hello" "$out"
out=$(srun --tty -- sh -c 'exit 5' </dev/null >/dev/null 2>&1; echo $?)
check_eq "the exit status comes back with --tty" "5" "$out"
# Window size: run shuttlectl itself on a terminal (script(1) makes one).
if command -v script >/dev/null; then
        out=$(script -qec "stty rows 33 cols 101; $SHUTTLECTL run --state-dir $STATE_DIR --tty -- stty size" /dev/null </dev/null 2>&1 | tr -d '\r' | tail -1)
        check_match "the window size reaches the container's terminal" "(^|[^0-9])33 101$" "$out"
else
        ok "# SKIP script(1) not installed"
fi
finish
