#!/bin/bash
# Once the command is forked, the container's pid 1 execs shuttle-init, a
# small static program executed from the host's file by descriptor
# (container-init.c, shuttle-init.c): it forwards signals, reaps orphans and
# reports the command's exit as the init did.  Without a usable file the
# init stays a fork of shuttlectl and the container works the same.
. "$(dirname "$0")/lib.sh"
require_root
plan 23

exe_of() { readlink "/proc/$1/exe"; }
# A running container's pid 1 and what the test sees of it.
start_waiting() { # NAME OUT [ENV...]
        local name=$1 out=$2
        shift 2
        env "$@" "${SRUN[@]}" --name "$name" -- sh -c \
                'trap "echo got-USR1" USR1; trap "echo got-TERM; exit 3" TERM; echo ready; while :; do sleep 0.1; done' \
                >"$out" 2>&1 &
        bg=$!
        wait_until grep -q ready "$out"
        init=$(container_init_pid "$name")
}

start_waiting tiny "$T/tiny.out"
check_eq "pid 1 is shuttle-init, the build's file" "$(cd "$(dirname "$SHUTTLECTL")" && pwd)/shuttle-init" \
        "$(exe_of "$init")"
# Its argv: its name and numbers, nothing of the host's command line.
check_eq "... its command line is its name and five numbers" "yes" \
        "$(tr '\0' ' ' <"/proc/$init/cmdline" | grep -qE '^shuttle-init( [0-9]+){5} $' && echo yes || echo no)"
check_eq "... with no environment" "0" "$(wc -c <"/proc/$init/environ")"
# musl's static build: about 30 KB of file, 10 to 20 KB of RSS (glibc's
# static one a few hundred KB); the fork of shuttlectl it replaces had over
# 2 MB, most of it shared with shuttlectl's file and libraries.
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$init/status")
check_eq "... whose RSS is below 1 MB (${rss} KB)" "yes" "$([ "${rss:-99999}" -lt 1024 ] && echo yes || echo no)"
check_eq "... holding one descriptor: its socket" "1" "$(ls "/proc/$init/fd" | wc -l)"
check_eq "... no capability but CAP_KILL" "yes" \
        "$(awk '/^Cap(Prm|Eff|Inh|Amb):/ { if ($2 != "0000000000000000" && $2 != "0000000000000020") bad = 1 } END { print bad ? "no" : "yes" }' "/proc/$init/status")"
kill -USR1 "$init"
wait_until grep -q got-USR1 "$T/tiny.out"
check_eq "SIGUSR1 to it reaches the command" "got-USR1" "$(grep -o got-USR1 "$T/tiny.out")"
kill -TERM "$init"
wait $bg
check_eq "SIGTERM to it reaches the command, whose status shuttlectl returns" "3" "$?"
check_eq "... the handler ran" "got-TERM" "$(grep -o got-TERM "$T/tiny.out")"

srun -- sh -c 'exit 7' >/dev/null 2>&1
check_eq "a command's exit status is shuttlectl's" "7" "$?"
srun -- sh -c 'kill -KILL $$' >/dev/null 2>&1
check_eq "a command killed by SIGKILL: 137" "137" "$?"
out=$(srun -- sh -c '(sleep 0.2 & sleep 0.2 & exit 0); sleep 1; ps -e -o stat= | grep -c "^Z"' 2>&1)
check_eq "orphaned children are reaped (no zombies)" "0" "$out"
out=$(srun -- /no/such/program 2>&1)
st=$?
check_eq "a command that cannot be executed: 127" "127" "$st"
check_eq "... and said why, through shuttle-init" "yes" "$(grep -q '/no/such/program' <<<"$out" && echo yes || echo no)"

# Not dumpable (exec made it so again, it says no): /proc/PID/status is root's,
# not the container's user's, who could ptrace it.
"${SRUN[@]}" --name usr --user 4242 -- sh -c 'trap "exit 5" TERM; echo ready; while :; do sleep 0.1; done' >"$T/user.out" 2>&1 &
bg=$!
wait_until grep -q ready "$T/user.out"
init=$(container_init_pid usr)
check_eq "with --user 4242: pid 1 is shuttle-init, not dumpable (/proc/PID/status is root's)" "shuttle-init 0" \
        "$(basename "$(exe_of "$init")") $(stat -c %u "/proc/$init/status")"
kill -TERM "$init"
wait $bg
check_eq "... signals reach the command, its status returned" "5" "$?"

# The fallbacks: no such file (not opened), and a file that cannot be
# executed (opened, execveat refused): pid 1 stays itself, with the host's
# command line hidden as before.
for f in /no/such/shuttle-init /etc/hostname; do
        start_waiting "fb$RANDOM" "$T/fb.out" SHUTTLE_TEST_INIT_PROGRAM="$f"
        check_eq "with '$f': pid 1 is shuttlectl's fork" "$(readlink -f "$SHUTTLECTL")" "$(readlink -f "/proc/$init/exe")"
        check_eq "... its command line hidden" "shuttle-init" "$(tr '\0' '\n' <"/proc/$init/cmdline" | head -1 | tr -d ' ')"
        kill -USR1 "$init"
        wait_until grep -q got-USR1 "$T/fb.out"
        kill -TERM "$init"
        wait $bg
        check_eq "... signals forwarded, the status returned" "3 got-USR1" "$? $(grep -o got-USR1 "$T/fb.out")"
done
SHUTTLE_TEST_INIT_PROGRAM=/etc/hostname srun -- sh -c 'exit 7' >/dev/null 2>&1
check_eq "... a command's exit status is shuttlectl's" "7" "$?"
finish
