#!/bin/bash
# invoke-zygote: the broker starts an invoked app through a zygote, a
# process already inside the target (shuttle-zygote, started on the first
# invocation).  It holds no more than the container: its user,
# capabilities, no_new_privs, seccomp, the container's cgroup, and nothing
# open but its socket to the broker; the app it forks sees only its stdio
# and what invoke passes, runs in the invocation's own cgroup and is the
# broker's child.  The container may kill it: the next invocation still
# runs and is audited.  When the target stops, the zygote is gone.
. "$(dirname "$0")/lib.sh"
require_root
plan 20

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - id: a-sh
    from: a
    to: b
    allow: invoke
    app: /bin/sh
    transfer: ro
  - id: a-sh-c
    from: a
    to: c
    allow: invoke
    app: /bin/sh
YAML

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
SI=/run/shuttle/bin/shuttle-invoke
mkdir -p "$T/x"
echo "an argument file" >"$T/x/arg.txt"

"${SRUN[@]}" --name b -- sleep 600 >"$T/b.out" 2>&1 &
b_job=$!
wait_until test -S "$STATE_DIR/broker/b/broker.sock" || diag "b did not register: $(cat "$T/b.out")"
b_init=$(container_init_pid b)
b_ns=$(readlink "/proc/$b_init/ns/pid")

# The host pid of b's zygote (a process of b's pid namespace whose
# executable is shuttle-zygote), or nothing; of another's with the
# readlink of its pid namespace as $1.
zygote_pid() {
        local p
        for p in $(alive_in_pidns "${1:-$b_ns}"); do
                [ "$(cat "/proc/$p/comm" 2>/dev/null)" = shuttle-zygote ] && { echo "$p"; return 0; }
        done
        return 1
}

# 1. The first invocation starts the zygote; what the app sees.
srun --name a --volume "$T/x:/x" -- sh -c "$SI --fd b /bin/sh -c 'ls /proc/self/fd; cat \$1' sh /x/arg.txt" \
        >"$T/out1" 2>&1
check_eq "the app sees its stdio and the descriptor invoke passes, nothing else" \
        "0 1 2 3 4 an argument file" "$(tr '\n' ' ' <"$T/out1" | sed 's/ $//')"
zp=$(zygote_pid)
if [ -n "$zp" ]; then ok "b has a zygote after its first invocation"; else
        not_ok "b has a zygote after its first invocation"; diag "processes of b: $(alive_in_pidns "$b_ns" | tr '\n' ' ')"; fi
zp=${zp:-0}
check_eq "... the broker's child" "$BROKER_PID" "$(awk '/^PPid:/ {print $2}' "/proc/$zp/status" 2>/dev/null)"
check_eq "... with nothing open but its socket to the broker (and /dev/null as stdio)" \
        "0:/dev/null 1:/dev/null 2:/dev/null 3:socket" \
        "$(for f in /proc/$zp/fd/*; do printf '%s:%s ' "${f##*/}" "$(readlink "$f" | sed 's/:\[.*//')"; done | sed 's/ $//')"
# b's command (sleep 600) is what any process of b holds.
b_cmd=$(for p in $(alive_in_pidns "$b_ns"); do [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && echo "$p"; done | head -1)
zst=$(cat "/proc/$zp/status" 2>/dev/null)
ist=$(cat "/proc/${b_cmd:-0}/status" 2>/dev/null)
field() { echo "$1" | awk -v k="$2:" '$1 == k { print $2 }'; }
check_eq "... b's capabilities (bounding, permitted, effective), no_new_privs and seccomp filter" \
        "$(field "$ist" CapBnd) $(field "$ist" CapPrm) $(field "$ist" CapEff) 1 2" \
        "$(field "$zst" CapBnd) $(field "$zst" CapPrm) $(field "$zst" CapEff) $(field "$zst" NoNewPrivs) $(field "$zst" Seccomp)"
check_eq "... in b's cgroup" "$(cgroup_dir_of_pid "$b_init" pids)" "$(cgroup_dir_of_pid "$zp" pids)"

# 2. Every invocation is one fork of it: the app is the broker's child, in
# the invocation's own cgroup.
srun --name a -- sh -c "$SI b /bin/sh -c 'echo \$PPID; cat /proc/self/cgroup'" >"$T/out2" 2>&1
check_eq "the app is the broker's child (0: outside b's pid namespace)" "0" "$(head -1 "$T/out2")"
check_match "... in the invocation's own cgroup" "shuttle-invoke-" "$(grep -E ':pids:|^0::' "$T/out2")"
check_eq "... and b still has the same zygote" "$zp" "$(zygote_pid)"

# 3. b kills its zygote: the next invocation still runs, and is audited.
check_status "b may kill its zygote (it is b's own)" 0 "$SHUTTLECTL" exec --state-dir "$STATE_DIR" b -- \
        sh -c "for p in /proc/[0-9]*; do [ \"\$(cat \$p/comm)\" = shuttle-zygote ] && kill -KILL \${p#/proc/}; done; true"
out=$(srun --name a -- sh -c "$SI b /bin/sh -c 'echo after-kill; exit 3'; echo rc=\$?" 2>&1 | tr '\n' ' ')
check_eq "an invocation after the zygote was killed runs, with its status" "after-kill rc=3 " "$out"
check_match "... audited (exec and end)" \
        '"op":"end","object":"/bin/sh","decision":"allow","rule":"a-sh","reason":"app exited",.*"exit_code":3' \
        "$(audit_grep '"op":"end"' | tail -1)"
zp2=$(zygote_pid)
if [ -n "$zp2" ] && [ "$zp2" != "$zp" ]; then ok "... and b has a new zygote"; else
        not_ok "... and b has a new zygote"; diag "old $zp, now '${zp2}'"; fi

# 3b. c stops its zygote (SIGSTOP): the invocation still runs (through the
# join path, after a bounded wait), the broker goes on answering, and c
# gets no zygote again.
"${SRUN[@]}" --name c -- sleep 600 >"$T/c.out" 2>&1 &
c_job=$!
wait_until test -S "$STATE_DIR/broker/c/broker.sock" || diag "c did not register: $(cat "$T/c.out")"
c_ns=$(readlink "/proc/$(container_init_pid c)/ns/pid")
srun --name a -- $SI c /bin/sh -c true >/dev/null 2>&1
check_status "c may stop its zygote" 0 "$SHUTTLECTL" exec --state-dir "$STATE_DIR" c -- \
        sh -c "for p in /proc/[0-9]*; do [ \"\$(cat \$p/comm)\" = shuttle-zygote ] && kill -STOP \${p#/proc/}; done; true"
t0=$(date +%s)
out=$(srun --name a -- sh -c "$SI c /bin/sh -c 'echo after-stop'; echo rc=\$?" 2>&1 | tr '\n' ' ')
t1=$(date +%s)
check_eq "an invocation while c's zygote is stopped runs" "after-stop rc=0 " "$out"
if [ $((t1 - t0)) -lt 15 ]; then ok "... within a bounded wait"; else not_ok "... within a bounded wait"; diag "$((t1 - t0)) s"; fi
out=$(srun --name a -- sh -c "$SI c /bin/sh -c 'echo next'" 2>&1)
check_eq "... and so does the next, with no zygote in c any more" "next none" "$out $(zygote_pid "$c_ns" || echo none)"
kill -TERM $c_job

# 4. b stops: its zygote is gone (nothing of b's pid namespace is alive),
# and reaped (no zombie of it left with the broker: b's pid 1 could not
# finish exiting while one is there, and the stop would hang).
srun --name a -- $SI b /bin/sh -c true >/dev/null 2>&1
zp2=$(zygote_pid)
check_match "b has a running zygote before it stops" "^[0-9]+$" "$zp2"
zp2=${zp2:-0}
# Ended (a zombie until waited for counts).
ended() { local st; st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null); [ -z "$st" ] || [ "$st" = Z ]; }
kill -TERM $b_job
if wait_until ended $b_job; then ok "b stops"; wait $b_job 2>/dev/null; else
        not_ok "b stops"; diag "b's init: $(grep -E '^State:' "/proc/$b_init/status" 2>/dev/null)"; fi
b_empty() { [ -z "$(alive_in_pidns "$b_ns")" ]; }
if wait_until b_empty && wait_until test ! -e "/proc/$zp2"; then
        ok "when b stops, its zygote is gone and reaped"
else
        not_ok "when b stops, its zygote is gone and reaped"
        diag "left in b's pid namespace: $(alive_in_pidns "$b_ns" | tr '\n' ' ')" \
                "zygote: $(grep -E '^(State|PPid):' "/proc/$zp2/status" 2>/dev/null | tr '\n' ' ')"
fi

stop_broker
finish
