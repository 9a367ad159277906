#!/bin/bash
# tests/check-layers.sh must fail on what it is there to catch: each bad
# include below is planted in a copy of src/ and the check must say
# "not ok" for it (and "ok" for that item on the copy without it).
set -u
top=${top_srcdir:-.}
check=$top/tests/check-layers.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cp -r "$top/src" "$T/src"

# item:file:include
plants=(
        '1:policy/rules.c:runtime/container.h'            # policy reaching into the runtime
        '1:runtime/container.c:shuttle/daemon/broker.h'   # runtime reaching into the broker
        '2:shuttle/client/client.c:shuttle/daemon/broker-api.h' # the client side into the daemon
        '2:shuttle/shim/shim.c:shuttle/audit/audit.h'     # the shim into the audit log
        '2:shuttle/audit/audit.c:shuttle/host/control.h'  # the audit log into the control channel
        '2:shuttle/client/protocol.c:runtime/container.h' # code bound into containers into the runtime
        '2:cli/cmd-run.c:shuttle/daemon/core.h'           # shuttlectl into the daemon's core
        '3:shuttle/daemon/ipc.c:shuttle/daemon/core.h'    # a mediator into the core
        '3:shuttle/daemon/signal.c:shuttle/daemon/notify.h' # a mediator past its API
)
echo "1..$((${#plants[@]} + 1))"
n=0
clean=$(CHECK_LAYERS_SRC="$T/src" bash "$check" 2>&1)
if ! grep -q '^not ok [123] ' <<<"$clean"; then n=$((n + 1)); echo "ok $n - the copy passes items 1-3 as it is"; else
        n=$((n + 1)); echo "not ok $n - the copy fails as it is:"; sed 's/^/# /' <<<"$clean"; fi
fail=0
for p in "${plants[@]}"; do
        item=${p%%:*}
        rest=${p#*:}
        file=${rest%%:*}
        inc=${rest#*:}
        cp "$T/src/$file" "$T/saved"
        printf '#include "%s"\n' "$inc" >>"$T/src/$file"
        out=$(CHECK_LAYERS_SRC="$T/src" bash "$check" 2>&1)
        cp "$T/saved" "$T/src/$file"
        n=$((n + 1))
        if grep -q "^not ok $item " <<<"$out" && grep -q "$file:[0-9]*:$inc" <<<"$out"; then
                echo "ok $n - item $item catches $inc in $file"
        else
                echo "not ok $n - item $item misses $inc in $file"
                sed 's/^/# /' <<<"$out"
                fail=1
        fi
done
exit $fail
