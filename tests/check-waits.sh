#!/bin/bash
# No integration test waits on a command substitution given to wait_until
# as an argument: "wait_until test "$(f)" = x" runs f once, before the
# first try, so it never polls (it waits 20 s for nothing, or passes by
# luck).  Such a wait is `wait_for '[ "$(f)" = x ]'` (lib.sh), or
# `wait_until sh -c "..."` with the substitution escaped.
set -u
dir=${top_srcdir:-.}/tests/integration
bad=$(grep -nE '(^|[;&|[:space:]])wait_until ' "$dir"/*.sh |
        sed -E 's/\|\|.*//' |
        grep -vE 'wait_until sh -c ' |
        grep -E 'wait_until [^#]*(\$\([^(]|`)')
echo "1..1"
if [ -z "$bad" ]; then
        echo "ok 1 - no wait_until evaluates a command substitution once"
else
        echo "not ok 1 - wait_until given a command substitution (it is evaluated once; use wait_for):"
        echo "$bad" | sed 's/^/#   /'
        exit 1
fi
