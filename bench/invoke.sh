#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Latency of running /bin/true in another container, side by side:
#   invoke      shuttle-invoke inside container a → the broker → /bin/true
#               inside container b (decision, audit record, one fork of b's
#               zygote, started by the first invocation, which is not timed;
#               exec, EXIT event)
#   exec        shuttlectl exec b -- /bin/true, from the host
#   nsenter -a  nsenter -a -t <b's init> /bin/true, from the host: joining
#               every namespace of b and exec, the floor of any runtime
#   crun exec   crun exec on a crun container, if crun can run one here
#               (through bench/crun-wrap.sh, as in start-latency.sh: crun
#               refuses a hybrid cgroup layout)
# Target (issue 14): invoke <= 1.0x nsenter -a.  Each path runs N times in
# each of BENCH_INVOKE_ROUNDS interleaved rounds; the table shows the median
# round.
#
# Run by `make bench` (not by `make check`) in the build directory, as root.
# Reports; never asserts.  Exits 77 when not root.
#
# Environment:
#   SHUTTLECTL          the shuttlectl binary (default: ./shuttlectl)
#   SHUTTLED            the shuttled binary (default: next to SHUTTLECTL)
#   BENCH_INVOKE_N      invocations per round and path (default 100)
#   BENCH_INVOKE_ROUNDS rounds (default 3)
#   BENCH_INVOKE_BASELINE
#                       a build directory of other code (another checkout's
#                       build, main's say): its shuttled and shuttlectl run
#                       the invoke path too, on a state directory of their
#                       own, interleaved in the same rounds, as a row of its
#                       own (before/after in one run)

set -u
export LC_ALL=C
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/results.sh"
CRUN="$BENCH_DIR/crun-wrap.sh crun"

N=${BENCH_INVOKE_N:-100}
BASE=${BENCH_INVOKE_BASELINE:-}
ROUNDS=${BENCH_INVOKE_ROUNDS:-3}
: "${SHUTTLECTL:=./shuttlectl}"
SHUTTLED=${SHUTTLED:-$(dirname "$SHUTTLECTL")/shuttled}
if [ "$(id -u)" != 0 ]; then
        echo "bench/invoke: needs root, skipped"
        exit 77
fi

STATE=$(mktemp -d /tmp/shuttle-bench-invoke.XXXXXX)
A=inv-a-$$
B=inv-b-$$
CRUN_ID=shuttle-bench-$$
BPID=
BJOB=
BASE_STATE=
BASE_BPID=
BASE_BJOB=
cleanup() {
        [ -n "$BJOB" ] && kill -TERM "$BJOB" 2>/dev/null && wait "$BJOB" 2>/dev/null
        [ -n "$BASE_BJOB" ] && kill -TERM "$BASE_BJOB" 2>/dev/null && wait "$BASE_BJOB" 2>/dev/null
        [ -n "$BASE_BPID" ] && kill -TERM "$BASE_BPID" 2>/dev/null && wait "$BASE_BPID" 2>/dev/null
        [ -n "$BASE_STATE" ] && rm -rf "$BASE_STATE"
        if command -v crun >/dev/null 2>&1; then
                $CRUN delete -f "$CRUN_ID" >/dev/null 2>&1
        fi
        [ -n "$BPID" ] && kill -TERM "$BPID" 2>/dev/null && wait "$BPID" 2>/dev/null
        rm -rf "$STATE"
}
trap cleanup EXIT

cat >"$STATE/policy.yaml" <<YAML
version: 1
default: deny
audit: all
rules:
  - id: bench
    from: $A
    to: $B
    allow: invoke
    app: /bin/true
YAML
"$SHUTTLED" --foreground --state-dir "$STATE" --audit-log "$STATE/audit.jsonl" --policy "$STATE/policy.yaml" \
        2>"$STATE/shuttled.log" &
BPID=$!
for _ in $(seq 100); do [ -S "$STATE/control.sock" ] && break; sleep 0.05; done
"$SHUTTLECTL" run --state-dir "$STATE" --name "$B" -- sleep 3600 >/dev/null 2>&1 &
BJOB=$!
for _ in $(seq 100); do [ -S "$STATE/broker/$B/broker.sock" ] && break; sleep 0.05; done

# The baseline's broker and b, the same way.
if [ -n "$BASE" ]; then
        if [ -x "$BASE/shuttled" ] && [ -x "$BASE/shuttlectl" ]; then
                BASE_STATE=$(mktemp -d /tmp/shuttle-bench-invoke-base.XXXXXX)
                cp "$STATE/policy.yaml" "$BASE_STATE/policy.yaml"
                "$BASE/shuttled" --foreground --state-dir "$BASE_STATE" --audit-log "$BASE_STATE/audit.jsonl" \
                        --policy "$BASE_STATE/policy.yaml" 2>"$BASE_STATE/shuttled.log" &
                BASE_BPID=$!
                for _ in $(seq 100); do [ -S "$BASE_STATE/control.sock" ] && break; sleep 0.05; done
                "$BASE/shuttlectl" run --state-dir "$BASE_STATE" --name "$B" -- sleep 3600 >/dev/null 2>&1 &
                BASE_BJOB=$!
                for _ in $(seq 100); do [ -S "$BASE_STATE/broker/$B/broker.sock" ] && break; sleep 0.05; done
        else
                echo "bench/invoke: BENCH_INVOKE_BASELINE=$BASE has no shuttled and shuttlectl, ignored"
                BASE=
        fi
fi

# Microseconds per run from two date +%s%N stamps around N runs.
per_us() { awk -v t0="$1" -v t1="$2" -v n="$N" 'BEGIN { printf "%.0f", (t1 - t0) / 1000 / n }'; }
# median of the numbers on stdin
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

binit=
for _ in $(seq 100); do
        binit=$(sed -n 's/.*"init_pid":\([0-9]*\).*/\1/p' "$STATE/containers/$B/state.json" 2>/dev/null)
        [ -n "$binit" ] && [ "$binit" != 0 ] && break
        sleep 0.05
done

# crun's container, the host's /usr (and friends) read-only like shuttle's
# host rootfs.
crun_ok=
crun_note=
if command -v crun >/dev/null 2>&1; then
        bundle=$STATE/crun
        mkdir -p "$bundle/rootfs"
        (cd "$bundle" && crun spec >/dev/null 2>&1)
        if command -v python3 >/dev/null 2>&1 && [ -f "$bundle/config.json" ]; then
                python3 - "$bundle/config.json" <<'PY'
import json, os, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["sleep", "3600"]
c["process"]["terminal"] = False
for d in ["usr", "bin", "sbin", "lib", "lib64"]:
    if os.path.isdir("/" + d) and not os.path.islink("/" + d):
        c["mounts"].append({"destination": "/" + d, "type": "bind", "source": "/" + d,
                            "options": ["rbind", "ro"]})
for d in ["bin", "sbin", "lib", "lib64"]:
    if os.path.islink("/" + d):
        os.symlink(os.readlink("/" + d), os.path.join(os.path.dirname(p), "rootfs", d))
json.dump(c, open(p, "w"))
PY
        fi
        # Not into a pipe: the detached container would hold it open.
        if (cd "$bundle" && $CRUN run -d "$CRUN_ID" </dev/null >"$STATE/crun.log" 2>&1) &&
           $CRUN exec "$CRUN_ID" /bin/true </dev/null >>"$STATE/crun.log" 2>&1; then
                crun_ok=1
        else
                crun_note="not runnable here: $(tail -1 "$STATE/crun.log")"
        fi
else
        crun_note="crun is not installed (scripts/install-deps.sh --bench)"
fi

: >"$STATE/rounds"
for r in $(seq "$ROUNDS"); do
        # invoke: timed inside a, so container start-up is not counted.
        out=$("$SHUTTLECTL" run --state-dir "$STATE" --name "$A" -- sh -c "
                /run/shuttle/bin/shuttle-invoke $B /bin/true || exit 1
                t0=\$(date +%s%N); i=0
                while [ \$i -lt $N ]; do /run/shuttle/bin/shuttle-invoke $B /bin/true || exit 1; i=\$((i+1)); done
                t1=\$(date +%s%N); echo \$t0 \$t1" 2>&1)
        if [ "$(echo "$out" | wc -w)" = 2 ]; then echo "invoke $(per_us $out)" >>"$STATE/rounds"
        else echo "invoke failed: $out"; fi

        if [ -n "$BASE" ]; then
                out=$("$BASE/shuttlectl" run --state-dir "$BASE_STATE" --name "$A" -- sh -c "
                        /run/shuttle/bin/shuttle-invoke $B /bin/true || exit 1
                        t0=\$(date +%s%N); i=0
                        while [ \$i -lt $N ]; do /run/shuttle/bin/shuttle-invoke $B /bin/true || exit 1; i=\$((i+1)); done
                        t1=\$(date +%s%N); echo \$t0 \$t1" 2>&1)
                if [ "$(echo "$out" | wc -w)" = 2 ]; then echo "base $(per_us $out)" >>"$STATE/rounds"
                else echo "baseline invoke failed: $out"; fi
        fi

        t0=$(date +%s%N)
        for _ in $(seq "$N"); do "$SHUTTLECTL" exec --state-dir "$STATE" "$B" -- /bin/true || break; done
        t1=$(date +%s%N)
        echo "exec $(per_us "$t0" "$t1")" >>"$STATE/rounds"

        if [ -n "$binit" ]; then
                t0=$(date +%s%N)
                for _ in $(seq "$N"); do nsenter -a -t "$binit" /bin/true || break; done
                t1=$(date +%s%N)
                echo "nsenter $(per_us "$t0" "$t1")" >>"$STATE/rounds"
        fi

        if [ -n "$crun_ok" ]; then
                t0=$(date +%s%N)
                for _ in $(seq "$N"); do $CRUN exec "$CRUN_ID" /bin/true || break; done
                t1=$(date +%s%N)
                echo "crun $(per_us "$t0" "$t1")" >>"$STATE/rounds"
        fi
done
med() { awk -v k="$1" '$1 == k { print $2 }' "$STATE/rounds" | median; }
invoke_us=$(med invoke)
exec_us=$(med exec)
nsenter_us=$(med nsenter)
crun_us=$(med crun)
base_us=$(med base)

echo "Latency of running /bin/true in another container (median of $ROUNDS rounds of $N runs)"
printf '%-34s %12s %12s %10s\n' "path" "latency" "vs nsenter" "vs crun"
ratio() { if [ -n "$1" ] && [ -n "$2" ] && [ "$2" -gt 0 ]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; else echo -; fi; }
row() {
        if [ -n "$2" ]; then printf '%-34s %9s us %12s %10s\n' "$1" "$2" "$(ratio "$2" "$nsenter_us")" "$(ratio "$2" "$crun_us")"
        else printf '%-34s %12s  %s\n' "$1" "-" "${3:-failed}"; fi
}
row "shuttle-invoke (a -> broker -> b)" "$invoke_us"
[ -n "$BASE" ] && row "shuttle-invoke, baseline build" "$base_us"
row "shuttlectl exec (host -> b)" "$exec_us"
row "nsenter -a (host -> b)" "$nsenter_us" "b's init pid not found"
row "crun exec (host -> crun container)" "$crun_us" "$crun_note"
if [ -n "$nsenter_us" ] && [ -n "$invoke_us" ]; then
        r=$(awk -v a="$invoke_us" -v b="$nsenter_us" 'BEGIN { printf "%.2f", a / b }')
        bench_result invoke "$r" "nsenter -a $nsenter_us us, invoke $invoke_us us${crun_us:+, crun exec $crun_us us}"
        awk -v r="$r" 'BEGIN { printf "target invoke <= 1.0x nsenter -a: %s (%.2fx)\n", r <= 1.0 ? "met" : "missed", r }'
else
        bench_result invoke - "invoke or nsenter did not run"
fi
exit 0
