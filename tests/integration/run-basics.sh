#!/bin/bash
# shuttlectl run: exit statuses, signals, option errors that create nothing.
. "$(dirname "$0")/lib.sh"
require_root
plan 14

check_status "exit status 0 is passed through" 0 srun -- /bin/true
check_status "exit status 3 is passed through" 3 srun -- sh -c 'exit 3'
check_status "killed by SIGKILL gives 137" 137 srun -- sh -c 'kill -KILL $$'
check_status "killed by SIGTERM gives 143" 143 srun -- sh -c 'kill -TERM $$'
check_status "a missing command gives 127" 127 srun -- /no/such/program
check_match "... with a message naming it" "failed to execute /no/such/program: No such file or directory" "$(cat "$T/err")"
check_status "a non-executable command gives 126" 126 srun -- /etc/passwd

out=$(srun -- echo hello world 2>&1)
check_eq "stdout reaches the caller" "hello world" "$out"
out=$(echo piped | srun -- cat 2>&1)
check_eq "stdin reaches the command" "piped" "$out"

# Bad option values: exit 2, one line naming the option, nothing created.
before=$(ls /sys/fs/cgroup/memory/ 2>/dev/null | wc -l)
check_status "a bad --memory exits 2" 2 srun --name badopt --memory 12Q -- true
check_eq "... with one line naming --memory" "shuttlectl: run: --memory: invalid size '12Q' (expected e.g. 64M or 1G, at least 4K)" "$(cat "$T/err")"
check_eq "... and creates nothing" "" "$(leftovers badopt)"

check_status "an unknown option exits 2" 2 srun --frobnicate -- true

# Two containers cannot share a name.
"${SRUN[@]}" --name same -- sleep 3 &
bg=$!
container_init_pid same >/dev/null
check_status "a second container with a running one's name is refused" 125 srun --name same -- true
kill $bg 2>/dev/null
wait $bg 2>/dev/null
finish
