#!/bin/bash
# tests/tap-skip-filter.sh (every test's LOG_COMPILER): a cmocka skip is
# passed on as a TAP skip, the test's exit status is kept, and a child the
# test left behind holding its stdout neither stalls the filter nor
# survives it.
set -u
filter=${top_srcdir:-.}/tests/tap-skip-filter.sh
dir=$(mktemp -d) || exit 99
trap 'rm -rf "$dir"' EXIT
cat >"$dir/fake.sh" <<'SH'
echo "1..2"
echo "ok 1 - a"
echo "not ok 2 # SKIP why"
sleep 987654 &
echo $! >"$1"
exit 3
SH
echo "1..4"
out=$(timeout -k 5 30 bash "$filter" bash "$dir/fake.sh" "$dir/pid"); rc=$?
[ "$rc" = 3 ] && echo "ok 1 - the test's exit status is kept (3)" || echo "not ok 1 - exit status $rc (124: the filter waited for the leftover child)"
case $out in
*"ok 2 # SKIP why"*) echo "ok 2 - a cmocka skip becomes a TAP skip" ;;
*) echo "not ok 2 - output: $out" ;;
esac
[ "$(printf '%s\n' "$out" | sed -n 2p)" = "ok 1 - a" ] && echo "ok 3 - other lines pass unchanged" || echo "not ok 3 - output: $out"
pid=$(cat "$dir/pid" 2>/dev/null)
# SIGKILL is sent; the process is gone once its new parent has reaped it.
for _ in $(seq 100); do
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
done
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
        echo "not ok 4 - the leftover child survived the filter"
else
        echo "ok 4 - the leftover child is gone"
fi
