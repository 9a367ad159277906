#!/bin/bash
# Many containers started at once in one state directory all start: each
# start's cleanup of stale entries looks at every other entry, and no start
# may take another's passing look for a live container of its name.
. "$(dirname "$0")/lib.sh"
require_root
plan 6

N=100

# start_all PREFIX: N runs at once, each in the background; prints how many
# failed and keeps each one's stderr in $T/PREFIX.NN.err.
start_all() {
        local prefix=$1 i pids=() failed=0
        for i in $(seq -w 1 $N); do
                "${SRUN[@]}" --name "$prefix$i" -- sleep 0.2 2>"$T/$prefix$i.err" &
                pids+=($!)
        done
        for i in "${pids[@]}"; do wait "$i" || failed=$((failed + 1)); done
        echo "$failed"
}

errors_of() { cat "$T/$1"*.err 2>/dev/null | sort | uniq -c | head -5; }

failed=$(start_all sc)
check_eq "$N containers started at once in one state directory all run" 0 "$failed" || diag "$(errors_of sc)"
check_eq "... none is refused as already running" "" "$(grep -l 'already running' "$T"/sc*.err 2>/dev/null)"
check_eq "... and they leave no entry behind" "" "$(ls -A "$STATE_DIR/containers")"

# Stale entries (what runs killed with SIGKILL leave: state, an unheld
# lock, root/) under a third of the names: the cleanup of every start and
# the start that takes its name over meet on them.
for i in $(seq -w 1 3 $N); do
        d="$STATE_DIR/containers/st$i"
        mkdir -p "$d/root"
        : >"$d/lock"
        echo '{"name":"st'"$i"'","cgroups":[]}' >"$d/state.json"
done
failed=$(start_all st)
check_eq "... also when a third of their names have stale entries" 0 "$failed" || diag "$(errors_of st)"
check_eq "... none of which is taken for a running one" "" "$(grep -l 'already running' "$T"/st*.err 2>/dev/null)"
check_eq "... and all are gone afterwards" "" "$(ls -A "$STATE_DIR/containers")"
finish
