#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# App group start/stop: `shuttlectl run --detach GROUP.yaml` + `shuttlectl
# stop GROUP` for groups of N containers, side by side with N sequential
# `shuttlectl run --isolated -- /bin/true`.
#
# Run by `make bench` (not by `make check`) in the build directory, as root.
# Reports; never asserts on the timings.  Exits non-zero when a group cannot
# be started or stopped, or when it leaves something behind (77 = skipped,
# not root).
#
# Environment:
#   SHUTTLECTL          the shuttlectl binary (default: ./shuttlectl)
#   SHUTTLED            the broker (default: shuttled next to SHUTTLECTL)
#   BENCH_GROUP_SIZES   group sizes (default "1 10 50")
#   BENCH_RUNS          timed rounds per size; the median is shown (default 3)
#
# Each group container runs `sleep 300` with no ready condition, so "up" is
# the time until every container has been created and registered with the
# broker; "down" is `shuttlectl stop GROUP` (SIGTERM to each, reverse order)
# until everything is cleaned up.  "N x run" is the wall time of N
# sequential `shuttlectl run --isolated --name cI -- /bin/true`, each of
# which creates and tears down a whole container.  ratio = group total /
# N x run.  A private broker and state directory are used.

set -u

SIZES=${BENCH_GROUP_SIZES:-1 10 50}
RUNS=${BENCH_RUNS:-3}

say() { printf '%s\n' "$*"; }
note() { printf 'group-start: %s\n' "$*" >&2; }

for n in $SIZES; do
    case $n in ''|*[!0-9]*|0) note "BENCH_GROUP_SIZES must list positive integers, got '$SIZES'"; exit 2 ;; esac
    [ "$n" -le 1024 ] || { note "a group has at most 1024 containers, got $n"; exit 2; }
done
[ -n "${SIZES// /}" ] || { note "BENCH_GROUP_SIZES is empty"; exit 2; }
case $RUNS in ''|*[!0-9]*|0) note "BENCH_RUNS must be a positive integer, got '$RUNS'"; exit 2 ;; esac

SHUTTLECTL=${SHUTTLECTL:-./shuttlectl}
if [ ! -x "$SHUTTLECTL" ]; then
    note "shuttlectl not found at '$SHUTTLECTL' (set SHUTTLECTL or run from the build directory)"
    exit 1
fi
SHUTTLECTL=$(cd "$(dirname "$SHUTTLECTL")" && pwd)/$(basename "$SHUTTLECTL")
SHUTTLED=${SHUTTLED:-$(dirname "$SHUTTLECTL")/shuttled}
if [ ! -x "$SHUTTLED" ]; then
    note "shuttled not found at '$SHUTTLED' (set SHUTTLED)"
    exit 1
fi

if [ "$(id -u)" != 0 ]; then
    note "skipped: containers need root (run 'make bench' as root)"
    exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/shuttle-gbench.XXXXXX") || exit 1
STATE=$TMP/state
broker_pid=
group_up=    # the name of a group that may be running

# Cgroup directories (not files) of shuttle containers, to compare at the end.
cgroups() { find /sys/fs/cgroup -path '*shuttle*' -type d 2>/dev/null | sort; }
CGROUPS_BEFORE=$(cgroups)

sctl() { "$SHUTTLECTL" "$1" --state-dir "$STATE" "${@:2}"; }

# Names of containers still recorded in the private state directory.
running() {
    [ -d "$STATE" ] || return 0
    sctl ps --all --format json 2>/dev/null | grep -o '"name":"[^"]*"' | sed 's/^"name":"//; s/"$//'
}

left=0
cleanup() {
    local c
    trap - EXIT INT TERM
    if [ -n "$group_up" ]; then
        sctl stop --time 2 "$group_up" >/dev/null 2>&1
    fi
    for c in $(running); do
        sctl stop --time 2 "$c" >/dev/null 2>&1
    done
    if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
        kill -TERM "$broker_pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$broker_pid" 2>/dev/null; then
            note "the broker (pid $broker_pid) did not stop on SIGTERM: killing it"
            kill -KILL "$broker_pid" 2>/dev/null
        fi
        wait "$broker_pid" 2>/dev/null
    fi
    # Never rm -rf across a mount point left behind.
    if grep -qF " $TMP" /proc/self/mountinfo; then
        note "mounts left below $TMP, not removing it:"
        grep -F " $TMP" /proc/self/mountinfo >&2
        left=1
    else
        rm -rf "$TMP"
    fi
}
# After cleanup: no cgroup of ours may be left (those of other containers on
# this machine may come and go meanwhile: they are not looked at).
# Leaves are NAME.HASH with a state directory other than the default.
OURS='/shuttle/(c[0-9]+|warmup)([.][0-9a-f]{8})?(/|$)'
check_cgroups() {
    local new ours
    new=$(comm -13 <(printf '%s\n' "$CGROUPS_BEFORE") <(cgroups))
    [ -n "$new" ] || return 0
    ours=$(grep -E "$OURS" <<<"$new")
    if [ -n "$ours" ]; then
        note "cgroups left behind:"
        sed 's/^/  /' <<<"$ours" >&2
        left=1
    fi
}
on_exit() {
    local rc=$?
    cleanup
    check_cgroups
    [ "$left" = 0 ] || [ "$rc" != 0 ] || rc=1
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# --- the broker ----------------------------------------------------------------

"$SHUTTLED" --foreground --state-dir "$STATE" --audit-log "$TMP/audit.jsonl" \
    >"$TMP/shuttled.log" 2>&1 &
broker_pid=$!
for _ in $(seq 100); do
    [ -S "$STATE/control.sock" ] && break
    kill -0 "$broker_pid" 2>/dev/null || break
    sleep 0.05
done
if [ ! -S "$STATE/control.sock" ]; then
    note "shuttled did not start:"
    cat "$TMP/shuttled.log" >&2
    exit 1
fi

# --- timing --------------------------------------------------------------------

now_us() { echo "${EPOCHREALTIME/./}"; }   # bash 5: no fork
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ x[NR] = $1 } END { printf "%.1f", NR % 2 ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2 }'; }

write_group() {   # write_group N FILE
    local i
    {
        say "# generated by bench/group-start.sh"
        say "group: gbench$1"
        say "containers:"
        for ((i = 1; i <= $1; i++)); do
            say "  c$i:"
            say '    command: ["sleep", "300"]'
        done
    } >"$2"
}

fail() {   # fail MESSAGE LOGFILE
    note "$1"
    [ -s "$2" ] && sed 's/^/  /' "$2" >&2
    exit 1
}

# Warm up the page cache and the state directory: one plain run.
sctl run --isolated --name warmup -- /bin/true >"$TMP/out" 2>&1 ||
    fail "'shuttlectl run --isolated -- /bin/true' failed" "$TMP/out"

say "group start/stop: sizes $SIZES, $RUNS round(s) each (median shown), $(nproc) CPUs, kernel $(uname -r)"
rows=()
for n in $SIZES; do
    g=gbench$n
    write_group "$n" "$TMP/g$n.yaml"
    ups=() downs=() totals=() seqs=()
    for ((r = 1; r <= RUNS; r++)); do
        # (a) the group: up (all ready), then down (all gone).
        group_up=$g
        t0=$(now_us)
        timeout 300 "$SHUTTLECTL" run --detach --state-dir "$STATE" "$TMP/g$n.yaml" >"$TMP/out" 2>&1 ||
            fail "group of $n: 'shuttlectl run --detach' failed (exit status $?)" "$TMP/out"
        t1=$(now_us)
        up=$(running | wc -l)
        [ "$up" -eq "$n" ] || fail "group of $n: $up containers running after 'run --detach', expected $n" /dev/null
        timeout 300 "$SHUTTLECTL" stop --state-dir "$STATE" "$g" >"$TMP/out" 2>&1 ||
            fail "group of $n: 'shuttlectl stop $g' failed (exit status $?)" "$TMP/out"
        t2=$(now_us)
        group_up=
        still=$(running | wc -l)
        [ "$still" -eq 0 ] || fail "group of $n: $still containers still recorded after 'stop'" /dev/null
        ups+=("$(ms "$t0" "$t1")") downs+=("$(ms "$t1" "$t2")") totals+=("$(ms "$t0" "$t2")")

        # (b) N sequential single runs.
        t0=$(now_us)
        for ((i = 1; i <= n; i++)); do
            "$SHUTTLECTL" run --isolated --state-dir "$STATE" --name "c$i" -- /bin/true >"$TMP/out" 2>&1 ||
                fail "'shuttlectl run --isolated --name c$i -- /bin/true' failed (exit status $?)" "$TMP/out"
        done
        t1=$(now_us)
        seqs+=("$(ms "$t0" "$t1")")
    done
    up=$(median "${ups[@]}") down=$(median "${downs[@]}") total=$(median "${totals[@]}") seq=$(median "${seqs[@]}")
    ratio=$(awk -v a="$total" -v b="$seq" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    rows+=("$(printf '%5s %14s %16s %17s %13s %7s' "$n" "$up" "$down" "$total" "$seq" "$ratio")")
done

# --- report --------------------------------------------------------------------

say ""
printf '%5s %14s %16s %17s %13s %7s\n' N "group up ms" "group down ms" "group total ms" "N x run ms" ratio
printf '%s\n' "${rows[@]}"
say ""
say "up: 'run --detach' until every container is ready; down: 'stop GROUP' until all are gone;"
say "N x run: N sequential 'run --isolated -- /bin/true'; ratio = group total / N x run"

# --- nothing left behind (the rest is checked on exit) --------------------------

if [ -n "$(running)" ]; then
    note "containers still recorded: $(running | tr '\n' ' ')"
    left=1
fi
if grep -qiE 'error|fail' "$TMP/shuttled.log"; then
    note "the broker logged errors:"
    grep -iE 'error|fail' "$TMP/shuttled.log" | sed 's/^/  /' >&2
fi
exit 0
