#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Start latency: `shuttlectl run -- /bin/true` against bwrap and crun.
#
# Run by `make bench` (not by `make check`) in the build directory, as root.
# Reports; never asserts: a missed target is printed, not failed.  Exits
# non-zero only when shuttlectl itself cannot run /bin/true (77 = skipped,
# not root).
#
# Environment:
#   SHUTTLECTL   the shuttlectl binary (default: ./shuttlectl)
#   BENCH_RUNS   timed runs per command (default 50)
#   BENCH_ROUNDS the runs are made in this many rounds of every command in
#                turn (default 5), so that a change of load meets them all
#   BENCH_WARMUP warm-up runs per command (default 3)
#   SHUTTLECTL_BASELINE  another build's shuttlectl, timed in the same run
#                as "baseline" (before/after a change)
#   BENCH_STATE_PARENT where the state directories (shuttlectl's, crun's
#                --root) are made (default /run: both tools' defaults,
#                /run/shuttle and /run/crun, are on that tmpfs; on this
#                kind of machine's ext4 each file made there costs about a
#                millisecond, which would measure the disk, not the tools)
#   SHUTTLED     the shuttled binary (default: next to SHUTTLECTL), for the
#                "shuttle+broker" row: the same start with a broker running
#                on its state directory (registration, /run/shuttle, the
#                shim), as containers run in use; without a broker
#                shuttlectl runs a container isolated (no shim, nothing to
#                register), which is what the "shuttle" row and the goal
#                measure
#
# Debian's crun refuses the hybrid cgroup layout (cgroup2 mounted without
# controllers), so it runs through bench/crun-wrap.sh (on such a host: a
# private mount namespace with /sys/fs/cgroup/unified unmounted); that
# wrapper is timed on its own too, and the target is judged against crun
# without it.

set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/results.sh"

RUNS=${BENCH_RUNS:-50}
ROUNDS=${BENCH_ROUNDS:-5}
WARMUP=${BENCH_WARMUP:-3}
TARGET=0.5

say() { printf '%s\n' "$*"; }
note() { printf 'start-latency: %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

case $RUNS in ''|*[!0-9]*|0) note "BENCH_RUNS must be a positive integer, got '$RUNS'"; exit 2 ;; esac
case $ROUNDS in ''|*[!0-9]*|0) note "BENCH_ROUNDS must be a positive integer, got '$ROUNDS'"; exit 2 ;; esac
[ "$ROUNDS" -gt "$RUNS" ] && ROUNDS=$RUNS
case $WARMUP in ''|*[!0-9]*) note "BENCH_WARMUP must be a non-negative integer, got '$WARMUP'"; exit 2 ;; esac

SHUTTLECTL=${SHUTTLECTL:-./shuttlectl}
if [ ! -x "$SHUTTLECTL" ]; then
    note "shuttlectl not found at '$SHUTTLECTL' (set SHUTTLECTL or run from the build directory)"
    exit 1
fi
SHUTTLECTL=$(cd "$(dirname "$SHUTTLECTL")" && pwd)/$(basename "$SHUTTLECTL")

if [ "$(id -u)" != 0 ]; then
    note "skipped: containers need root (run 'make bench' as root)"
    exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/shuttle-bench.XXXXXX") || exit 1
RUN=$(mktemp -d "${BENCH_STATE_PARENT:-/run}/shuttle-bench.XXXXXX") || { rm -rf "$TMP"; exit 1; }
BROKER_PID=
cleanup() {
    if [ -n "$BROKER_PID" ]; then
        kill "$BROKER_PID" 2>/dev/null
        wait "$BROKER_PID" 2>/dev/null
    fi
    # crun containers are run with `run` (foreground, removed on exit); a
    # leftover would only exist after an interrupt.
    if [ -d "$RUN/crun-root" ] && have crun; then
        for c in $(crun --root "$RUN/crun-root" list -q 2>/dev/null); do
            crun --root "$RUN/crun-root" delete -f "$c" >/dev/null 2>&1
        done
    fi
    rm -rf "$TMP" "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the commands ------------------------------------------------------------

names=()     # row labels
cmds=()      # command lines (hyperfine parses them with shell-words)
skipped=()   # "label: reason" for columns that cannot run

add() { names+=("$1"); cmds+=("$2"); }

q() { printf '%q' "$1"; }   # quote one word for a command line

# A state directory each, as the baseline has: on ext4 a new inode costs
# more the more were deleted near it lately, and each start makes and
# deletes a few (sharing one made no measurable difference, but keeps the
# commands from affecting each other's figures).
SH_BASE="$(q "$SHUTTLECTL") run --state-dir"
add "shuttle"        "$SH_BASE $(q "$RUN/state") -- /bin/true"
add "shuttle+limits" "$SH_BASE $(q "$RUN/state-limits") --memory 64M --pids 64 -- /bin/true"
# A broker on a state directory of its own, with a policy that allows
# nothing (a start registers and unregisters, and gets the shim and
# /run/shuttle); audit records of registration synced as by default.
SHUTTLED=${SHUTTLED:-$(dirname "$SHUTTLECTL")/shuttled}
if [ -x "$SHUTTLED" ]; then
    printf 'version: 1\ndefault: deny\n' >"$TMP/policy.yaml"
    "$SHUTTLED" --foreground --state-dir "$RUN/state-broker" --audit-log "$TMP/audit.jsonl" \
        --policy "$TMP/policy.yaml" 2>"$TMP/shuttled.log" &
    BROKER_PID=$!
    for _ in $(seq 200); do
        [ -S "$RUN/state-broker/control.sock" ] && break
        kill -0 "$BROKER_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -S "$RUN/state-broker/control.sock" ]; then
        add "shuttle+broker" "$SH_BASE $(q "$RUN/state-broker") -- /bin/true"
    else
        note "shuttled did not start (the shuttle+broker row is left out): $(tail -n 3 "$TMP/shuttled.log")"
    fi
else
    note "no shuttled at '$SHUTTLED' (the shuttle+broker row is left out)"
fi
if [ -n "${SHUTTLECTL_BASELINE:-}" ]; then
    if [ -x "$SHUTTLECTL_BASELINE" ]; then
        add "baseline" "$(q "$SHUTTLECTL_BASELINE") run --state-dir $(q "$RUN/state-baseline") -- /bin/true"
    else
        note "SHUTTLECTL_BASELINE: '$SHUTTLECTL_BASELINE' is not an executable"
        exit 2
    fi
fi

# shuttlectl must work: this is the one failure that fails the benchmark.
for i in 0 1; do
    out=$(eval "${cmds[$i]}" 2>&1); rc=$?
    if [ "$rc" != 0 ]; then
        note "'${cmds[$i]}' failed (exit status $rc)${out:+: $out}"
        exit 1
    fi
done

# bwrap with a host-like root: /usr bound read-only, the top-level
# directories that exist on this host as symlinks or binds.
if have bwrap; then
    bw="bwrap --unshare-all --die-with-parent --ro-bind /usr /usr"
    for d in bin sbin lib lib32 lib64 libx32; do
        if [ -L "/$d" ]; then
            bw+=" --symlink $(q "$(readlink "/$d")") /$d"
        elif [ -d "/$d" ]; then
            bw+=" --ro-bind /$d /$d"
        fi
    done
    bw+=" --proc /proc --dev /dev --tmpfs /tmp /bin/true"
    if out=$(eval "$bw" 2>&1); then
        add "bwrap" "$bw"
    else
        skipped+=("bwrap: '$bw' failed (exit status $?)${out:+: $out}")
    fi
else
    skipped+=("bwrap: not installed (apt-get install bubblewrap)")
fi

# crun on a busybox bundle.
crun_ok=
prepare_crun() {
    have crun || { echo "not installed (apt-get install crun)"; return 1; }
    local bb
    bb=$(command -v busybox) || { echo "busybox not installed (apt-get install busybox-static)"; return 1; }
    # A dynamic busybox would need the host's libraries in the bundle.
    if ! LC_ALL=C file -L "$bb" 2>/dev/null | grep -q 'statically linked' &&
       ldd "$bb" >/dev/null 2>&1; then
        echo "$bb is not statically linked (apt-get install busybox-static)"
        return 1
    fi
    local b=$TMP/bundle
    mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/dev" "$b/rootfs/sys" "$b/rootfs/tmp" &&
        cp "$bb" "$b/rootfs/bin/busybox" &&
        ln -s busybox "$b/rootfs/bin/true" || { echo "cannot build the bundle in $b"; return 1; }
    (cd "$b" && crun spec >/dev/null 2>&1) || { echo "'crun spec' failed"; return 1; }
    # Keep crun's default spec (namespaces, caps, masked paths, /dev, ...);
    # only the process changes.
    if have jq; then
        jq '.process.args = ["/bin/true"] | .process.terminal = false' \
            "$b/config.json" >"$b/config.json.new" &&
            mv "$b/config.json.new" "$b/config.json" || { echo "jq could not edit config.json"; return 1; }
    else
        sed -i -e 's/"terminal": *true/"terminal": false/' \
               -e '/"args": *\[/,/\]/{ /"args"/!{ /\]/!d; }; }' \
               -e 's/"args": *\[.*/"args": [ "\/bin\/true"/' \
               "$b/config.json" || { echo "sed could not edit config.json"; return 1; }
    fi
    mkdir -p "$RUN/crun-root"
    local out rc
    out=$(eval "$CRUN_CMD" 2>&1); rc=$?
    if [ "$rc" != 0 ]; then
        echo "crun run failed on this machine (exit status $rc)${out:+: $out}"
        return 1
    fi
    return 0
}
CRUN_WRAP="$(q "$BENCH_DIR/crun-wrap.sh")"
CRUN_CMD="$CRUN_WRAP crun --root $(q "$RUN/crun-root") run --bundle $(q "$TMP/bundle") shuttle-bench-$$"
if why=$(prepare_crun); then
    add "crun" "$CRUN_CMD"
    add "crun-wrapper" "$CRUN_WRAP true"
    crun_ok=1
else
    skipped+=("crun: $why")
fi

# --- timing ------------------------------------------------------------------

means=()     # seconds
stddevs=()   # seconds
medians=()   # seconds

# hyperfine --export-json writes one value a line: every run's time, as
# "INDEX SECONDS" (INDEX: the command's, in result order).
hyperfine_times() {
    awk '
        /"command":/ { i++ }
        /"times": *\[/ { in_times = 1; next }
        in_times && /\]/ { in_times = 0; next }
        in_times { v = $1; sub(/,$/, "", v); printf "%d %s\n", i - 1, v }
    ' "$1"
}

# Mean, stddev and median of the numbers on stdin (seconds).
stats() {
    sort -g | awk '
        { x[NR] = $1; s += $1 }
        END {
            m = s / NR; for (i = 1; i <= NR; i++) v += (x[i] - m) ^ 2
            md = (NR % 2 ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2)
            printf "mean %.9f\nstddev %.9f\nmedian %.9f\n", m, (NR > 1 ? sqrt(v / (NR - 1)) : 0), md
        }'
}

time_loop() {   # time_loop CMDLINE: prints "mean S", "stddev S" and "median S"
    local i t0 t1 ts=()
    for ((i = 0; i < WARMUP; i++)); do eval "$1" >/dev/null 2>&1; done
    for ((i = 0; i < RUNS; i++)); do
        t0=$(date +%s%N)
        eval "$1" >/dev/null 2>&1
        t1=$(date +%s%N)
        ts+=($((t1 - t0)))
    done
    printf '%s\n' "${ts[@]}" | awk '{ printf "%.9f\n", $1 / 1e9 }' | stats
}

say "start latency: $RUNS runs in $ROUNDS rounds, $WARMUP warm-up, $(nproc) CPUs, kernel $(uname -r)"
for s in "${skipped[@]}"; do say "skipped $s"; done

if have hyperfine; then
    # hyperfine times one command's runs after the other: in rounds, a
    # change of load in the middle meets every command, not only one.
    : >"$TMP/times"
    for ((r = 0; r < ROUNDS; r++)); do
        n=$((RUNS / ROUNDS + (r < RUNS % ROUNDS ? 1 : 0)))
        w=$((r == 0 ? WARMUP : (WARMUP > 0 ? 1 : 0)))
        args=(--warmup "$w" --runs "$n" -N --style basic --export-json "$TMP/hf.json")
        for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
        if ! hyperfine "${args[@]}" >"$TMP/hf.out" 2>&1; then
            cat "$TMP/hf.out" >&2
            note "hyperfine failed"
            exit 1
        fi
        hyperfine_times "$TMP/hf.json" >>"$TMP/times"
    done
    for i in "${!cmds[@]}"; do
        while read -r k v; do
            case $k in mean) means+=("$v") ;; stddev) stddevs+=("$v") ;; median) medians+=("$v") ;; esac
        done < <(awk -v i="$i" '$1 == i { print $2 }' "$TMP/times" | stats)
    done
    timer="hyperfine $(hyperfine --version | awk '{ print $2 }')"
else
    say "hyperfine not installed (apt-get install hyperfine): timing with a date +%s%N loop, which adds fork+exec of date"
    for i in "${!cmds[@]}"; do
        while read -r k v; do
            case $k in mean) means+=("$v") ;; stddev) stddevs+=("$v") ;; median) medians+=("$v") ;; esac
        done < <(time_loop "${cmds[$i]}")
    done
    timer="date loop"
fi

if [ "${#means[@]}" != "${#cmds[@]}" ]; then
    note "could not read the timings (${#means[@]} means for ${#cmds[@]} commands)"
    exit 1
fi

# --- report ------------------------------------------------------------------

idx() { local i; for i in "${!names[@]}"; do [ "${names[$i]}" = "$1" ] && { echo "$i"; return; }; done; }
i_crun=$(idx crun); i_bwrap=$(idx bwrap); i_wrap=$(idx crun-wrapper)
# Ratios of medians: crun's runs have a long tail here (a mean moves with
# a few slow ones).
crun_med=${i_crun:+${medians[$i_crun]}}
bwrap_med=${i_bwrap:+${medians[$i_bwrap]}}
# crun without the namespace/umount wrapper it needs here: the stricter
# baseline for the target.
crun_net=
[ -n "$crun_ok" ] && crun_net=$(awk -v a="$crun_med" -v b="${medians[$i_wrap]}" 'BEGIN { d = a - b; printf "%.9f", (d > 0 ? d : a) }')

ratio() { [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }' || echo "-"; }

say ""
say "timer: $timer"
printf '%-15s %9s %11s %11s %9s %10s %9s\n' tool "mean ms" "stddev ms" "median ms" "/crun" "/crun net" "/bwrap"
for i in "${!names[@]}"; do
    printf '%-15s %9.2f %11.2f %11.2f %9s %10s %9s\n' "${names[$i]}" \
        "$(awk -v x="${means[$i]}" 'BEGIN { print x * 1000 }')" \
        "$(awk -v x="${stddevs[$i]}" 'BEGIN { print x * 1000 }')" \
        "$(awk -v x="${medians[$i]}" 'BEGIN { print x * 1000 }')" \
        "$(ratio "${medians[$i]}" "$crun_med")" \
        "$(ratio "${medians[$i]}" "$crun_net")" \
        "$(ratio "${medians[$i]}" "$bwrap_med")"
done
say "(ratios of medians)"
[ -n "$crun_ok" ] && say "crun net = crun - crun-wrapper (bench/crun-wrap.sh: on a hybrid cgroup layout, unshare -m + sh + umount of the cgroup2 mount, needed only for crun)"

say "target: shuttle <= ${TARGET}x crun (full setup: namespaces, cgroups, seccomp, caps)"
if [ -n "$crun_ok" ]; then
    r=$(awk -v a="${medians[0]}" -v b="$crun_net" 'BEGIN { printf "%.2f", a / b }')
    r_raw=$(awk -v a="${medians[0]}" -v b="$crun_med" 'BEGIN { printf "%.2f", a / b }')
    i_broker=$(idx shuttle+broker)
    with_broker=
    [ -n "$i_broker" ] && with_broker=", with a broker running $(awk -v x="${medians[$i_broker]}" 'BEGIN { printf "%.1f", x * 1000 }') ms ($(ratio "${medians[$i_broker]}" "$crun_net"))"
    bench_result start "$r" "crun net $(awk -v x="$crun_net" 'BEGIN { printf "%.1f", x * 1000 }') ms, shuttle $(awk -v x="${medians[0]}" 'BEGIN { printf "%.1f", x * 1000 }') ms$with_broker, medians of $RUNS in $ROUNDS rounds"
    if awk -v r="$r" -v t="$TARGET" 'BEGIN { exit !(r <= t) }'; then
        say "target met: shuttle = ${r}x crun net (${r_raw}x crun with wrapper)"
    else
        say "target MISSED: shuttle = ${r}x crun net (${r_raw}x crun with wrapper)"
    fi
else
    say "target not judged: crun did not run (see 'skipped' above)"
    bench_result start - "crun did not run"
fi
exit 0
