#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Latency of running /bin/true in another container, side by side:
#   invoke      shuttle-invoke inside container a → the broker → /bin/true
#               inside container b (decision, audit record, join, exec,
#               EXIT event)
#   exec        shuttlectl exec b -- /bin/true, from the host
#   crun exec   crun exec on a crun container, if crun can run one here
# Target (issue 6): invoke ≤ 0.5× crun exec.
#
# Run by `make bench` (not by `make check`) in the build directory, as root.
# Reports; never asserts.  Exits 77 when not root.
#
# Environment:
#   SHUTTLECTL          the shuttlectl binary (default: ./shuttlectl)
#   SHUTTLED            the shuttled binary (default: next to SHUTTLECTL)
#   BENCH_INVOKE_N      invocations per measurement (default 200)

set -u
export LC_ALL=C

N=${BENCH_INVOKE_N:-200}
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
cleanup() {
        [ -n "$BJOB" ] && kill -TERM "$BJOB" 2>/dev/null && wait "$BJOB" 2>/dev/null
        if command -v crun >/dev/null 2>&1; then
                crun kill "$CRUN_ID" KILL >/dev/null 2>&1
                sleep 0.2
                crun delete -f "$CRUN_ID" >/dev/null 2>&1
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

# Microseconds per run of CMD..., N times, from where it runs.
per_us() { awk -v t0="$1" -v t1="$2" -v n="$N" 'BEGIN { printf "%.0f", (t1 - t0) / 1000 / n }'; }

# invoke: timed inside a, so container start-up is not counted.
out=$("$SHUTTLECTL" run --state-dir "$STATE" --name "$A" -- sh -c "
        /run/shuttle/bin/shuttle-invoke $B /bin/true || exit 1
        t0=\$(date +%s%N); i=0
        while [ \$i -lt $N ]; do /run/shuttle/bin/shuttle-invoke $B /bin/true || exit 1; i=\$((i+1)); done
        t1=\$(date +%s%N); echo \$t0 \$t1" 2>&1)
if [ "$(echo "$out" | wc -w)" = 2 ]; then invoke_us=$(per_us $out); else invoke_us=; echo "invoke failed: $out"; fi

t0=$(date +%s%N)
for _ in $(seq "$N"); do "$SHUTTLECTL" exec --state-dir "$STATE" "$B" -- /bin/true || break; done
t1=$(date +%s%N)
exec_us=$(per_us "$t0" "$t1")

crun_us=
crun_note=
if command -v crun >/dev/null 2>&1; then
        bundle=$STATE/crun
        mkdir -p "$bundle/rootfs"
        (cd "$bundle" && crun spec >/dev/null 2>&1)
        # The host's /usr (and friends) read-only, like shuttle's host rootfs.
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
        if err=$(cd "$bundle" && crun run -d "$CRUN_ID" 2>&1 </dev/null) &&
           err=$(crun exec "$CRUN_ID" /bin/true 2>&1); then
                t0=$(date +%s%N)
                for _ in $(seq "$N"); do crun exec "$CRUN_ID" /bin/true || break; done
                t1=$(date +%s%N)
                crun_us=$(per_us "$t0" "$t1")
        else
                crun_note="not runnable here: $(echo "$err" | tail -1)"
        fi
else
        crun_note="crun is not installed"
fi

echo "Latency of running /bin/true in another container (mean of $N runs)"
printf '%-34s %12s %10s\n' "path" "latency" "vs crun"
row() {
        local ratio=-
        if [ -n "$2" ] && [ -n "$crun_us" ] && [ "$crun_us" -gt 0 ]; then
                ratio=$(awk -v a="$2" -v b="$crun_us" 'BEGIN { printf "%.2fx", a / b }')
        fi
        if [ -n "$2" ]; then printf '%-34s %9s us %10s\n' "$1" "$2" "$ratio"; else printf '%-34s %12s\n' "$1" "failed"; fi
}
row "shuttle-invoke (a -> broker -> b)" "$invoke_us"
row "shuttlectl exec (host -> b)" "$exec_us"
if [ -n "$crun_us" ]; then row "crun exec (host -> crun container)" "$crun_us"; else
        printf '%-34s %12s  (%s)\n' "crun exec" "-" "$crun_note"; fi
if [ -n "$crun_us" ] && [ -n "$invoke_us" ]; then
        awk -v a="$invoke_us" -v b="$crun_us" 'BEGIN { printf "target invoke <= 0.5x crun exec: %s\n", a <= 0.5 * b ? "met" : "missed" }'
fi
exit 0
