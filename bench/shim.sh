#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What libshuttle-shim.so costs and saves.
#
# 1. Calls it does not redirect (connect() that fails at once, a refused TCP
#    connect, getaddrinfo("localhost"), kill(self, 0), an execve(), a
#    shm_open() and an open() that fail with ENOENT), ns per call, in one
#    process without and one with LD_PRELOAD, alternating over rounds;
#    medians of each round's best.  Target: <= 5 ns added to a
#    non-redirected connect().
# 2. (root) A redirected connect() to /run/shuttle/svc/B.echo inside a
#    container, against the client library asking the broker directly and
#    against the proxy path (--no-shim): socket + connect + close, us each.
#
# Run by `make bench` in the build directory.  Reports; never asserts.
#
# Environment:
#   SHUTTLECTL        the shuttlectl binary (default ./shuttlectl)
#   SHUTTLED          default: next to SHUTTLECTL
#   BENCH_SHIM_CALLS  calls per timing (default 200000; /10 for getaddrinfo)
#   BENCH_SHIM_RUNS   rounds (default 5)
#   BENCH_SHIM_CONNECTS  connects per timing in part 2 (default 2000)

set -u
export LC_ALL=C
CALLS=${BENCH_SHIM_CALLS:-200000}
RUNS=${BENCH_SHIM_RUNS:-5}
CONNECTS=${BENCH_SHIM_CONNECTS:-2000}
T_NS=5

note() { printf 'shim: %s\n' "$*" >&2; }
SHUTTLECTL=${SHUTTLECTL:-./shuttlectl}
BUILD=$(cd "$(dirname "$SHUTTLECTL")" && pwd)
SHUTTLED=${SHUTTLED:-$BUILD/shuttled}
BENCH=$BUILD/bench/shim-bench
SHIM=$BUILD/.libs/libshuttle-shim.so
for f in "$BENCH" "$SHIM"; do
    [ -e "$f" ] || { note "$f not built (make bench builds it)"; exit 1; }
done

TMP=$(mktemp -d /tmp/shim-bench.XXXXXX)
STATE=$TMP/state
BROKER=
B=shim-b-$$
A=shim-a-$$
cleanup() {
    [ -n "${BPID:-}" ] && kill -TERM "$BPID" 2>/dev/null && wait "$BPID" 2>/dev/null
    [ -n "$BROKER" ] && kill -TERM "$BROKER" 2>/dev/null && wait "$BROKER" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# median of the numbers on stdin
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

for ((r = 1; r <= RUNS; r++)); do
    "$BENCH" local "$CALLS" | sed 's/^/bare /' >>"$TMP/local" || { note "shim-bench local failed"; exit 1; }
    LD_PRELOAD=$SHIM "$BENCH" local "$CALLS" | sed 's/^/shim /' >>"$TMP/local" || { note "shim-bench local failed"; exit 1; }
done
med() { awk -v w="$1" -v k="$2" '$1 == w && $2 == k {print $3}' "$TMP/local" | median; }

echo "Calls the shim does not redirect, ns per call (median of $RUNS rounds, each the best of 5 x $CALLS):"
printf '  %-34s %10s %10s %10s %8s\n' "call" "no shim" "shim" "added" "target"
for k in connect-ebadf connect-unix-refused connect-tcp-refused getaddrinfo-localhost kill-self-0 execve-enoent shm_open-enoent open-enoent; do
    bare=$(med bare "$k"); shim=$(med shim "$k")
    delta=$(awk -v a="$bare" -v b="$shim" 'BEGIN {printf "%.1f", b - a}')
    target=
    case $k in connect-*) target=$(awk -v d="$delta" -v t=$T_NS 'BEGIN {print (d <= t) ? "<= 5 ok" : "> 5 MISS"}') ;; esac
    printf '  %-34s %10s %10s %10s %8s\n' "$k" "$bare" "$shim" "$delta" "$target"
done
for k in connect-ebadf-syscall connect-unix-refused-syscall connect-tcp-refused-syscall; do
    printf '  %-34s %10s %10s\n' "$k (raw syscall)" "$(med bare "$k")" "$(med shim "$k")"
done
echo "  (The shim's own work is the same in every connect row: a few comparisons of the"
echo "  address.  Only connect-ebadf, where the kernel answers at once, resolves it; in"
echo "  the others the kernel's microseconds vary by more than the shim adds.)"

if [ "$(id -u)" != 0 ]; then
    echo "Redirected connect: skipped (needs root to start containers)"
    exit 0
fi

mkdir -p "$STATE"
cat >"$TMP/policy.yaml" <<YAML
version: 1
default: deny
audit: deny
rules:
  - { id: bench, from: $A, to: $B, allow: ipc, endpoint: echo }
YAML
"$SHUTTLED" --foreground --state-dir "$STATE" --audit-log "$TMP/audit.jsonl" --policy "$TMP/policy.yaml" 2>>"$TMP/shuttled.log" &
BROKER=$!
for ((i = 0; i < 100; i++)); do [ -S "$STATE/control.sock" ] && break; sleep 0.05; done
[ -S "$STATE/control.sock" ] || { note "shuttled did not start: $(cat "$TMP/shuttled.log")"; exit 1; }
VOL=(-v "$BUILD/bench:/opt/b:ro")
"$SHUTTLECTL" run --state-dir "$STATE" --name "$B" "${VOL[@]}" --export echo=/run/echo.sock \
    -- /opt/b/shim-bench serve /run/echo.sock >"$TMP/b.out" 2>&1 &
BPID=$!
for ((i = 0; i < 100; i++)); do grep -q serving "$TMP/b.out" && break; sleep 0.05; done
grep -q serving "$TMP/b.out" || { note "the server did not start: $(cat "$TMP/b.out")"; exit 1; }

: >"$TMP/remote"
a_run() { # LABEL shuttlectl-options... -- args
    local label=$1; shift
    local opts=()
    while [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    "$SHUTTLECTL" run --state-dir "$STATE" --name "$A" "${VOL[@]}" "${opts[@]}" -- /opt/b/shim-bench "$@" 2>"$TMP/a.err" |
        awk -v l="$label" '{print l, $2}' >>"$TMP/remote" || note "$label: $(cat "$TMP/a.err")"
}
for ((r = 1; r <= RUNS; r++)); do
    a_run shim -- connect "/run/shuttle/svc/$B.echo" "$CONNECTS"
    a_run client --no-shim -- client "$B.echo" "$CONNECTS"
    a_run proxy --no-shim -- connect "/run/shuttle/svc/$B.echo" "$CONNECTS"
done
rmed() { awk -v k="$1" '$1 == k {print $2 / 1000}' "$TMP/remote" | median; }
echo "Connect to a service in another container, us per connection (median of $RUNS rounds;"
echo "the connect() rows include the program's socket() and close(), the client row only close()):"
printf '  %-52s %8s\n' "connect() through the shim (fast path)" "$(rmed shim)"
printf '  %-52s %8s\n' "shuttle_connect_service() (client library, no shim)" "$(rmed client)"
printf '  %-52s %8s\n' "connect() without the shim (proxy path)" "$(rmed proxy)"
exit 0
