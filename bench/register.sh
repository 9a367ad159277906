#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Register + unregister cost in the broker against how many containers are
# registered (issue 14 item 5: it should not grow).  bench/register-bench
# registers 100, then 500 sleeping processes (each in a pid namespace of
# its own, one export each) with a shuttled on a private state directory,
# and times one more container's register + unregister through
# control.sock (as shuttlectl does) at each count: the median of
# BENCH_REGISTER_ROUNDS (default 200), at 100, 500, 100, 500 (the mean of
# the two medians at each count).  The figure is the ratio at 500 to
# at 100 (goal about 1.0).  The policy names a few containers, as a site's
# does; a rule whose pattern matches every container makes the broker look
# at every pair, which no index can avoid.  The audit log is batched
# (--audit-sync batch): this is the registry's cost, not the disk's.
#
# Run by `make bench` (not by `make check`) as root.  Reports; never
# asserts (77 = skipped: not root).
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/results.sh"
note() { printf 'register: %s\n' "$*" >&2; }

ROUNDS=${BENCH_REGISTER_ROUNDS:-200}
SHUTTLECTL=${SHUTTLECTL:-./shuttlectl}
BUILD=$(cd "$(dirname "$SHUTTLECTL")" && pwd)
SHUTTLED=${SHUTTLED:-$BUILD/shuttled}
BIN=$BUILD/bench/register-bench
[ "$(id -u)" = 0 ] || { note "skipped: needs root (pid namespaces)"; exit 77; }
[ -x "$BIN" ] || { note "$BIN not built (make bench builds it)"; exit 1; }
[ -x "$SHUTTLED" ] || { note "shuttled not found at $SHUTTLED"; exit 1; }

# The state directory on tmpfs, as /run/shuttle is on a systemd host: on a
# disk each register's mkdir/symlink/bind costs far more than any lookup.
base=${TMPDIR:-/tmp}
[ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && base=/dev/shm
TMP=$(mktemp -d "$base/shuttle-register.XXXXXX") || exit 1
broker=
cleanup() {
    [ -n "$broker" ] && kill -TERM "$broker" 2>/dev/null && wait "$broker" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$TMP/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - id: web-uses-kv
    from: web
    to: kv
    allow: ipc
    endpoint: kv
  - id: batch-uses-kv
    from: batch
    to: kv
    allow: ipc
    endpoint: kv
  - id: web-runs-report
    from: web
    to: reports
    allow: invoke
    app: /usr/bin/report
YAML
"$SHUTTLED" --foreground --state-dir "$TMP/state" --policy "$TMP/policy.yaml" --audit-log "$TMP/audit.jsonl" --audit-sync batch \
    2>"$TMP/shuttled.log" &
broker=$!
for _ in $(seq 1 200); do
    "$SHUTTLECTL" transfer ls --state-dir "$TMP/state" >/dev/null 2>&1 && break
    kill -0 "$broker" 2>/dev/null || { note "shuttled did not start: $(cat "$TMP/shuttled.log")"; exit 1; }
    sleep 0.05
done

# Up and down twice, so that drift in the machine's load falls on both.
out=$("$BIN" "$TMP/state" "$ROUNDS" 100 500 100 500) || { note "register-bench failed"; exit 1; }
at100=$(awk '$1 == 100 { s += $2; n++ } END { printf "%d", s / n }' <<<"$out")
at500=$(awk '$1 == 500 { s += $2; n++ } END { printf "%d", s / n }' <<<"$out")
ratio=$(awk -v a="$at100" -v b="$at500" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
printf 'register + unregister (medians of %d rounds, at 100/500/100/500: %s): %s us at 100 containers, %s us at 500: ratio %s\n' \
    "$ROUNDS" "$(awk '{ printf "%s%s", (NR > 1 ? " " : ""), $2 }' <<<"$out")" "$at100" "$at500" "$ratio"
bench_result register "$ratio" "$(awk -v a="$at100" -v b="$at500" 'BEGIN { printf "%.2f ms at 100, %.2f ms at 500", a / 1000, b / 1000 }')"
exit 0
