#!/bin/bash
# Invariant 9: every listening socket of the broker is accepted in one
# place, src/shuttle/daemon/accept.c, which checks the peer before any handler
# sees the connection.  A new accept() anywhere else in the broker would
# be a door without that check.
set -u
src=${top_srcdir:-.}/src/shuttle
echo "1..2"
# Calls only: lines of comments are left out.
others=$(find "$src" -name '*.c' | sort | while read -r f; do
        [ "$f" = "$src/daemon/accept.c" ] && continue
        grep -nE '(^|[^_a-zA-Z0-9])accept4?[[:space:]]*\(' "$f" | grep -vE '^[0-9]+:[[:space:]]*(/?\*|//)' | sed "s|^|$f:|"
done)
if [ -z "$others" ]; then echo "ok 1 - no accept() in src/shuttle outside accept.c"; else
        echo "not ok 1 - accept() outside accept.c: $others"; exit 1; fi
if grep -q 'peer_check(fd' "$src/daemon/accept.c"; then echo "ok 2 - accept.c checks the peer of what it accepts"; else
        echo "not ok 2 - accept.c no longer calls peer_check()"; exit 1; fi
