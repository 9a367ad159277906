#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# IPC through the broker, side by side in one run: a direct unix socket
# (the reference), the fast path (the broker passes a connected fd) and the
# proxy path (the broker splices bytes): connect + 1-byte round trip, and
# throughput of one stream; then the broker's RSS with 500 registered
# containers.
#
# Run by `make bench` (not by `make check`) in the build directory, as root.
# Reports; never asserts: a missed target is printed, not failed.  Exits
# non-zero only when a measurement cannot run (77 = skipped, not root).
#
# A private shuttled runs on a temporary state directory.  Container b runs
# `ipc-bench server` and exports echo and sink; every measurement runs in a
# container a, from the build directory bound read-only at /opt/b.  The
# reference ("direct") is a's client connecting to the very sockets b's
# server listens on, without the broker: they are in a directory bound into
# both containers (/direct), so the reference has the same server, the same
# two containers and the same cgroups as the broker's paths, and differs by
# the broker alone.  The older reference ("same container") runs client and
# server both inside a (fork), on a unix socket in a's /run: a wakeup within
# one cgroup, which on a busy machine costs much less than one that crosses
# to another container's; it is printed beside, for comparison.  (a and b are named ipc-a-PID and ipc-b-PID: cgroups
# are named shuttle/NAME whatever the state directory, so plain a and b
# would collide with integration tests running at the same time.)
#
# The floor: what the hop through any broker costs, whatever it decides.
# `ipc-bench floor` runs beside shuttled on the host (pinned alike) as a
# do-nothing broker, with no policy, no audit, no peer check, no protocol:
# on /floor/fd.sock it answers a byte with a socket connected to b's echo
# (SCM_RIGHTS: the fast path's extra round trip and fd pass), on
# /floor/relay.sock it relays each connection to b's echo (the proxy path's
# two extra hops).  Path / floor is what Shuttle adds to that hop.
#
# Environment:
#   SHUTTLECTL        the shuttlectl binary (default: ./shuttlectl)
#   SHUTTLED          the shuttled binary (default: next to SHUTTLECTL)
#   SHUTTLED_BASELINE another build's shuttled (a static copy of its binary),
#                     measured in the same run on the fast and proxy paths
#                     beside this one: before/after in one run
#   IPC_BENCH         the ipc-bench binary (default: bench/ipc-bench there)
#   BENCH_IPC_BYTES   bytes per stream (default 1073741824 = 1 GiB)
#   BENCH_IPC_RUNS    rounds (default 5): each runs every path once
#   BENCH_IPC_CONNECTS  timed connections per path and round (default 2000)
#   BENCH_IPC_CONTAINERS  containers registered for the RSS (default 500)
#   BENCH_IPC_CPUS    a CPU list for taskset: the broker and both containers
#                     run on those CPUs only (default: not pinned)
#
# On a machine with few CPUs the numbers depend on where the scheduler puts
# the two ends of a stream: on a 2-CPU VM one stream runs at ~6.4 GB/s with
# both ends on one CPU and at ~3.5-4.4 GB/s across two, whichever path it
# takes.  Rounds interleave the paths and report medians; BENCH_IPC_CPUS=0
# removes the placement lottery (and measures everything on one CPU).

set -u
export LC_ALL=C
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/results.sh"

BYTES=${BENCH_IPC_BYTES:-1073741824}
RUNS=${BENCH_IPC_RUNS:-5}
CONNECTS=${BENCH_IPC_CONNECTS:-2000}
CONTAINERS=${BENCH_IPC_CONTAINERS:-500}
# The goals of issue 14 (bench/summary.sh has the same), against "direct".
T_CONNECT=1.2      # fast-path connect <= 1.2x direct
T_PROXY_CONNECT=2  # proxy-path connect <= 2x direct
T_FAST_TPUT=0.97   # fast-path throughput >= 0.97x direct
T_PROXY_TPUT=0.7   # proxy throughput >= 0.7x direct
T_RSS_MB=20        # broker RSS with 500 containers < 20 MB

say() { printf '%s\n' "$*"; }
note() { printf 'ipc: %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

for v in BYTES RUNS CONNECTS CONTAINERS; do
    case ${!v} in ''|*[!0-9]*|0) note "BENCH_IPC_$v must be a positive integer, got '${!v}'"; exit 2 ;; esac
done

SHUTTLECTL=${SHUTTLECTL:-./shuttlectl}
if [ ! -x "$SHUTTLECTL" ]; then
    note "shuttlectl not found at '$SHUTTLECTL' (set SHUTTLECTL or run from the build directory)"
    exit 1
fi
BUILD=$(cd "$(dirname "$SHUTTLECTL")" && pwd)
SHUTTLECTL=$BUILD/$(basename "$SHUTTLECTL")
SHUTTLED=${SHUTTLED:-$BUILD/shuttled}
IPC_BENCH=${IPC_BENCH:-$BUILD/bench/ipc-bench}
for b in "$SHUTTLED" "$IPC_BENCH" ${SHUTTLED_BASELINE:+"$SHUTTLED_BASELINE"}; do
    [ -x "$b" ] || { note "$b not found (make bench builds it; or set SHUTTLED / IPC_BENCH)"; exit 1; }
done
case $IPC_BENCH in
"$BUILD"/*) ;;
*) note "IPC_BENCH must be inside the build directory $BUILD (it is bound into the containers)"; exit 1 ;;
esac
IN_BENCH=/opt/b/${IPC_BENCH#"$BUILD"/}
for t in awk mktemp sort; do
    have "$t" || { note "$t is needed"; exit 1; }
done
PIN=()
if [ -n "${BENCH_IPC_CPUS:-}" ]; then
    have taskset || { note "BENCH_IPC_CPUS needs taskset (util-linux)"; exit 1; }
    taskset -c "$BENCH_IPC_CPUS" true 2>/dev/null || { note "BENCH_IPC_CPUS='$BENCH_IPC_CPUS' is not a usable CPU list"; exit 2; }
    PIN=(taskset -c "$BENCH_IPC_CPUS")
fi

if [ "$(id -u)" != 0 ]; then
    note "skipped: containers and the broker need root (run 'make bench' as root)"
    exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/shuttle-bench-ipc.XXXXXX") || exit 1
A=ipc-a-$$
B=ipc-b-$$
STATE=$TMP/state
BROKER_PID=
SERVER_PIDS=()
BROKER_PIDS=()
FLOOR_PID=

cleanup() {
    local p
    # shuttlectl forwards TERM to the container and tears it down.
    for p in "${SERVER_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    for p in "${BROKER_PIDS[@]}" $FLOOR_PID; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
    note "$*"
    for f in shuttled.log b.out a.out floor.out; do
        [ -s "$TMP/$f" ] && { note "--- $f:"; tail -n 20 "$TMP/$f" >&2; }
    done
    exit 1
}

# wait_until CMD...: retry for ~10 s.
wait_until() {
    local i=0
    until "$@" >/dev/null 2>&1; do
        [ $i -ge 200 ] && return 1
        sleep 0.05; i=$((i + 1))
    done
}

# --- broker and server ---------------------------------------------------

# start_pair SUFFIX AUDIT SYNC [SHUTTLED]: a broker on $TMP/stateSUFFIX
# (policy with `audit: AUDIT`, --audit-sync SYNC) and its server container
# $B$SUFFIX, serving on $TMP/directSUFFIX (bound at /direct in b and in the
# a's).
start_pair() {
    local st=$TMP/state$1 a=$A$1 b=$B$1 pid shuttled=${4:-$SHUTTLED}
    cat >"$TMP/policy$1.yaml" <<YAML
version: 1
default: deny
audit: $2
rules:
  - id: a-echo
    from: $a
    to: $b
    allow: ipc
    endpoint: echo
  - id: a-sink
    from: $a
    to: $b
    allow: ipc
    endpoint: sink
YAML
    "${PIN[@]}" "$shuttled" --foreground --state-dir "$st" --audit-log "$TMP/audit$1.jsonl" --audit-sync "$3" \
        --policy "$TMP/policy$1.yaml" 2>"$TMP/shuttled$1.log" &
    pid=$!
    BROKER_PIDS+=("$pid")
    [ -n "$1" ] || BROKER_PID=$pid
    [ "$1" != -0 ] || BASE_PID=$pid
    wait_until test -S "$st/control.sock" || fail "shuttled did not start"
    mkdir -p "$TMP/direct$1"
    "${PIN[@]}" "$SHUTTLECTL" run --state-dir "$st" --name "$b" -v "$BUILD:/opt/b:ro" -v "$TMP/direct$1:/direct" \
        --export echo=/direct/echo.sock --export sink=/direct/sink.sock \
        -- "$IN_BENCH" server /direct/echo.sock /direct/sink.sock >"$TMP/b$1.out" 2>&1 &
    SERVER_PIDS+=("$!")
    wait_until grep -q serving "$TMP/b$1.out" || fail "the server in container $b did not start"
}
# The measurements proper: no allow recorded.  Then, for the cost of the
# record, the fast path with every allow recorded, in both --audit-sync
# modes (the option is the broker's: one broker each).
start_pair "" deny sync
start_pair -s all sync
start_pair -b all batch
# The baseline: the same as the first pair, with the other build's broker.
BASE_PID=
[ -z "${SHUTTLED_BASELINE:-}" ] || start_pair -0 deny sync "$SHUTTLED_BASELINE"
# The do-nothing broker, on the host as shuttled is, to the main pair's echo.
mkdir -p "$TMP/floor"
"${PIN[@]}" "$IPC_BENCH" floor "$TMP/floor" "$TMP/direct/echo.sock" >"$TMP/floor.out" 2>&1 &
FLOOR_PID=$!
wait_until grep -q serving "$TMP/floor.out" || fail "ipc-bench floor did not start"

# a_run ARGS...: ipc-bench ARGS in a fresh container $A; its result lines.
# (AS=SUFFIX: in $A$SUFFIX of that broker.)
a_run() {
    local s=${AS:-}
    "${PIN[@]}" "$SHUTTLECTL" run --state-dir "$STATE$s" --name "$A$s" --no-shim -v "$BUILD:/opt/b:ro" \
        -v "$TMP/direct$s:/direct" -v "$TMP/floor:/floor:ro" -- "$IN_BENCH" "$@" >"$TMP/a.out" 2>&1 ||
        fail "ipc-bench $* failed in container $A$s"
    cat "$TMP/a.out" >>"$TMP/results"
}

# --- measurements --------------------------------------------------------

# rec KEY ROUND PREFIX FIELD: FIELD of the line of a.out that starts with
# PREFIX, appended to the results as "KEY ROUND VALUE".
rec() {
    awk -v key="$1" -v r="$2" -v p="$3" -v f="$4" '
        $1 == p { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print key, r, kv[2] } }' \
        "$TMP/a.out" >>"$TMP/results"
}

# cpu_ns PID: CPU time of PID's main thread so far, in ns (the loop's
# thread: shuttled's audit syncer is another).
cpu_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }
# cpu_run KEY ROUND PID ARGS...: a_run ARGS, and the CPU time PID's loop
# spent meanwhile, appended to the results as "KEY ROUND NS".
cpu_run() {
    local k=$1 r=$2 pid=$3 c0 c1
    shift 3
    c0=$(cpu_ns "$pid")
    a_run "$@"
    c1=$(cpu_ns "$pid")
    echo "$k $r $((c1 - c0))" >>"$TMP/results"
}

# busy: the percentage of CPU time the machine spent on anything over one
# second (before the benchmark starts: other work skews every number).
busy() {
    local a b
    a=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
    sleep 1
    b=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); u = y[1] - x[1]; i = y[2] - x[2];
        printf "%.0f", (u + i > 0 ? 100 * u / (u + i) : 0) }'
}
cpu_busy=$(busy)
say "ipc: $RUNS rounds; per round and path $CONNECTS connects and one stream of $BYTES bytes;" \
    "$(nproc) CPUs${BENCH_IPC_CPUS:+ (pinned to $BENCH_IPC_CPUS)}, kernel $(uname -r)"
say "machine: ${cpu_busy}% CPU busy in the second before the start$([ "$cpu_busy" -gt 10 ] && echo " (other work is running: the numbers are noisy)")"
if [ -z "${BENCH_IPC_CPUS:-}" ] && [ "$(nproc)" -le 4 ]; then
    say "note: on $(nproc) CPUs a stream's speed depends on whether the scheduler puts its two ends on one CPU;"
    say "  BENCH_IPC_CPUS=0 pins everything to CPU 0 for stable numbers"
fi
say "policy: audit: deny (allows are not written to the audit log during the measurement)"
: >"$TMP/results"
# Rounds interleave the paths, so that other work on the machine weighs on
# all of them alike; every value below is a median over the rounds.
# The connects of this build's broker and the baseline's, next to each
# other, in turns (this build first in odd rounds): what ran just before
# weighs on both alike.
fast_main() {
    cpu_run cpu_fast $r "$BROKER_PID" connect-latency --fast "$B.echo" "$CONNECTS"
    rec lat_fast $r connect-latency mean_us; rec p99_fast $r connect-latency p99_us
}
fast_base() {
    AS=-0 cpu_run cpu_basefast $r "$BASE_PID" connect-latency --fast "$B-0.echo" "$CONNECTS"
    rec lat_basefast $r connect-latency mean_us; rec p99_basefast $r connect-latency p99_us
}
proxy_main() {
    cpu_run cpu_proxy $r "$BROKER_PID" connect-latency "/run/shuttle/svc/$B.echo" "$CONNECTS"
    rec lat_proxy $r connect-latency mean_us; rec p99_proxy $r connect-latency p99_us
}
proxy_base() {
    AS=-0 cpu_run cpu_baseproxy $r "$BASE_PID" connect-latency "/run/shuttle/svc/$B-0.echo" "$CONNECTS"
    rec lat_baseproxy $r connect-latency mean_us; rec p99_baseproxy $r connect-latency p99_us
}
# in_turn MAIN BASE: MAIN alone, or both in this round's order.
in_turn() {
    if [ -z "$BASE_PID" ]; then "$1"
    elif ((r % 2)); then "$1"; "$2"
    else "$2"; "$1"; fi
}
for ((r = 1; r <= RUNS; r++)); do
    a_run native /run "$CONNECTS" "$BYTES" 1
    rec lat_native $r connect-latency mean_us; rec p99_native $r connect-latency p99_us
    rec tp_native $r throughput median_mbps
    cpu_run cpu_direct $r "$BROKER_PID" connect-latency /direct/echo.sock "$CONNECTS"
    rec lat_direct $r connect-latency mean_us; rec p99_direct $r connect-latency p99_us
    # The baseline's registering of a, subtracted from its CPU figures.
    [ -z "$BASE_PID" ] || AS=-0 cpu_run cpu_basedirect $r "$BASE_PID" connect-latency /direct/echo.sock "$CONNECTS"
    a_run throughput /direct/sink.sock "$BYTES" 1
    rec tp_direct $r throughput median_mbps
    in_turn fast_main fast_base
    a_run throughput --fast "$B.sink" "$BYTES" 1
    rec tp_fast $r throughput median_mbps
    cpu_run cpu_floor $r "$FLOOR_PID" connect-latency --floor-fd /floor/fd.sock "$CONNECTS"
    rec lat_floor $r connect-latency mean_us; rec p99_floor $r connect-latency p99_us
    a_run connect-latency --fast-fresh "$B.echo" "$CONNECTS"
    rec lat_fresh $r connect-latency mean_us; rec p99_fresh $r connect-latency p99_us
    in_turn proxy_main proxy_base
    cpu_run cpu_floorrelay $r "$FLOOR_PID" connect-latency /floor/relay.sock "$CONNECTS"
    rec lat_floorrelay $r connect-latency mean_us; rec p99_floorrelay $r connect-latency p99_us
    a_run throughput "/run/shuttle/svc/$B.sink" "$BYTES" 1
    rec tp_proxy $r throughput median_mbps
    AS=-s a_run connect-latency --fast "$B-s.echo" "$CONNECTS"
    rec lat_fastsync $r connect-latency mean_us; rec p99_fastsync $r connect-latency p99_us
    AS=-b a_run connect-latency --fast "$B-b.echo" "$CONNECTS"
    rec lat_fastbatch $r connect-latency mean_us; rec p99_fastbatch $r connect-latency p99_us
done

# med KEY: the median of KEY over the rounds.
med() {
    awk -v k="$1" '$1 == k { print $3 }' "$TMP/results" | sort -g |
        awk '{ x[NR] = $1 } END { if (NR) printf "%.2f", NR % 2 ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2 }'
}
# rmed KEY BASE: the median over the rounds of KEY / BASE of the same round.
rmed() {
    awk -v k="$1" -v b="$2" '$1 == k { v[$2] = $3 } $1 == b { w[$2] = $3 }
        END { for (r in v) if (w[r] > 0) print v[r] / w[r] }' "$TMP/results" | sort -g |
        awk '{ x[NR] = $1 } END { if (NR) printf "%.3f", NR % 2 ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2 }'
}
rounds() { awk -v k="$1" '$1 == k { printf "%s%s", sep, $3; sep = " " }' "$TMP/results"; }
x() { [ -n "$1" ] && printf '%.2fx' "$1" || echo "-"; }

say ""
printf '| %-21s | %14s | %9s | %6s | %15s | %6s |\n' path "connect+RTT µs" "p99 µs" ratio "throughput MB/s" ratio
printf '|%s|%s|%s|%s|%s|%s|\n' "-----------------------" "---------------:" "----------:" "-------:" "----------------:" "-------:"
row() { # row LABEL KEY-SUFFIX
    local tp=-
    case $2 in fresh | fast?* | floor* | base*) ;; *) tp=$(med "tp_$2") ;; esac
    printf '| %-21s | %14s | %9s | %6s | %15s | %6s |\n' "$1" "$(med "lat_$2")" "$(med "p99_$2")" \
        "$(x "$(rmed "lat_$2" lat_direct)")" "$tp" "$(x "$(rmed "tp_$2" tp_direct)")"
}
row "direct (reference)" direct
row "same container" native
row "fast path" fast
row "floor: fd passed" floor
row "fast path, new client" fresh
row "proxy path" proxy
row "floor: relayed" floorrelay
if [ -n "$BASE_PID" ]; then
    row "fast path, baseline" basefast
    row "proxy path, baseline" baseproxy
fi
row "fast, audited, sync" fastsync
row "fast, audited, batch" fastbatch
say ""
say "connect+RTT: mean of $CONNECTS (connect, 1 byte there and back, close) after warm-up;"
say "  fast path: one broker client per run (HELLO before timing), one CONNECT per connection;"
say "  new client: a broker client opened (connect + HELLO) for every connection."
say "  audited: the same as the fast path, on a broker whose policy says audit: all (every allow"
say "  recorded in $(df -PT "$TMP" 2>/dev/null | awk 'NR == 2 { print $2 }') at $TMP), with --audit-sync sync (an allow is answered once its record"
say "  is on disk) and batch (records synced every 100 ms); each against the direct connect of the same round."
say "throughput: one stream of $BYTES bytes in 256 KiB writes, timed until the sink acknowledges"
say "  the byte count; MB = 10^6 bytes."
say "floor: a do-nothing broker on the host (ipc-bench floor, no policy, audit, peer check or protocol):"
say "  fd passed: one more unix round trip and an fd pass per connection; relayed: its bytes copied"
say "  through one epoll loop.  What no broker deciding each connect avoids; path / floor is Shuttle's own."
say "  fast path $(x "$(rmed lat_fast lat_floor)") its floor, proxy path $(x "$(rmed lat_proxy lat_floorrelay)") its floor."
# CPU per connection of the loop in between: shuttled's net of what it
# spent on the direct run of the same round (registering and unregistering
# a, which every run costs it), the floor's as it is.
NCONN=$((CONNECTS + (CONNECTS / 10 > 10 ? CONNECTS / 10 : 10)))
cpu_per() { # cpu_per KEY [BASE-KEY]: median over the rounds of (KEY - BASE) / connections, in µs
    awk -v k="$1" -v b="${2:-}" -v n="$NCONN" '$1 == k { v[$2] = $3 } b != "" && $1 == b { w[$2] = $3 }
        END { for (r in v) print (v[r] - (b != "" ? w[r] : 0)) / n / 1000 }' "$TMP/results" | sort -g |
        awk '{ x[NR] = $1 } END { if (NR) printf "%.1f", NR % 2 ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2 }'
}
say "  CPU per connection of the loop in between (µs, its main thread; shuttled's net of registering a):"
say "  fast path $(cpu_per cpu_fast cpu_direct), its floor $(cpu_per cpu_floor); proxy path $(cpu_per cpu_proxy cpu_direct), its floor $(cpu_per cpu_floorrelay)."
if [ -n "$BASE_PID" ]; then
    say "baseline: $SHUTTLED_BASELINE as a fourth broker (its own b, the same policy), its paths against the"
    say "  same direct connect of the round: fast path $(x "$(rmed lat_basefast lat_direct)"), proxy path $(x "$(rmed lat_baseproxy lat_direct)");"
    say "  this build / baseline: fast $(x "$(rmed lat_fast lat_basefast)"), proxy $(x "$(rmed lat_proxy lat_baseproxy)");" \
        "CPU per connection: fast $(cpu_per cpu_basefast cpu_basedirect), proxy $(cpu_per cpu_baseproxy cpu_basedirect)"
fi
say "direct: a's client on b's server's own sockets (bound into both), no broker; same container:"
say "  client and server both in a (the reference of earlier runs)."
say "values: medians over $RUNS rounds; ratio: median over the rounds of path / direct of the same round."
say "  against the same-container reference: fast path $(x "$(rmed lat_fast lat_native)") connect, $(x "$(rmed tp_fast tp_native)") throughput;" \
    "proxy path $(x "$(rmed lat_proxy lat_native)") connect, $(x "$(rmed tp_proxy tp_native)") throughput"
for k in lat_direct lat_native lat_fast lat_floor lat_fresh lat_proxy lat_floorrelay lat_basefast lat_baseproxy lat_fastsync lat_fastbatch tp_direct tp_native tp_fast tp_proxy; do
    [ -z "$(rounds $k)" ] || say "  rounds $k: $(rounds $k)"
done

# --- targets -------------------------------------------------------------

judge() { # judge DESCRIPTION VALUE OP LIMIT
    local verdict
    if [ -z "$2" ]; then
        verdict="not judged (no value)"
    elif awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { exit !(op == "<=" ? v <= l : op == ">=" ? v >= l : v < l) }'; then
        verdict="met"
    else
        verdict="MISSED"
    fi
    say "target $1: $3 $4, got ${2:--}: $verdict"
}
say ""
judge "fast-path connect / direct" "$(rmed lat_fast lat_direct)" "<=" "$T_CONNECT"
judge "proxy-path connect / direct" "$(rmed lat_proxy lat_direct)" "<=" "$T_PROXY_CONNECT"
say "  (the floor, a do-nothing broker in between: $(x "$(rmed lat_floor lat_direct)") for an fd passed," \
    "$(x "$(rmed lat_floorrelay lat_direct)") relayed; a goal below its floor needs no process in between)"
judge "fast-path throughput / direct" "$(rmed tp_fast tp_direct)" ">=" "$T_FAST_TPUT"
judge "proxy throughput / direct" "$(rmed tp_proxy tp_direct)" ">=" "$T_PROXY_TPUT"
# The rows of `make bench`'s summary (bench/summary.sh).
summary() { # summary KEY VALUE-KEY UNIT [FLOOR-KEY CPU-KEY FLOOR-CPU-KEY]
    local v floor=
    v=$(rmed "$2" "${2%_*}_direct")
    [ -n "${4:-}" ] && floor="; a do-nothing broker's floor $(x "$(rmed "$4" "${2%_*}_direct")"), Shuttle $(x "$(rmed "$2" "$4")") the floor, CPU per connection $(cpu_per "$5" cpu_direct) µs vs the floor's $(cpu_per "$6") µs"
    if [ -n "$v" ]; then
        bench_result "$1" "$v" "medians: $(med "$2") $3 vs direct $(med "${2%_*}_direct") $3$floor; $(x "$(rmed "$2" "${2%_*}_native")") against both ends in one container; $RUNS rounds"
    else
        bench_result "$1" - "no value"
    fi
}
summary connect-fast lat_fast "µs" lat_floor cpu_fast cpu_floor
summary connect-proxy lat_proxy "µs" lat_floorrelay cpu_proxy cpu_floorrelay
summary bulk-fast tp_fast "MB/s"
summary bulk-proxy tp_proxy "MB/s"

# --- broker RSS ----------------------------------------------------------

say ""
rss=$("$IPC_BENCH" register "$STATE" "$BROKER_PID" "$CONTAINERS" 2>"$TMP/rss.err") ||
    fail "registering $CONTAINERS containers failed: $(cat "$TMP/rss.err")"
kb() { printf '%s\n' "$rss" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
say "broker RSS: $(kb before_kb) kB with $A and $B registered, $(kb registered_kb) kB with $CONTAINERS more" \
    "(idle host processes registered over control.sock, one export each), $(kb unregistered_kb) kB after unregistering them"
say "  register: $(kb register_us) µs each, unregister: $(kb unregister_us) µs each"
judge "broker RSS with $CONTAINERS containers (MB)" "$(awk -v k="$(kb registered_kb)" 'BEGIN { printf "%.1f", k / 1024 }')" "<" "$T_RSS_MB"
exit 0
