#!/bin/bash
# The layers and rooms of docs/ARCHITECTURE.md, checked on every #include
# "…" line under src/ (angle-bracket includes are the system's):
#
#   common ← policy ← runtime ← shuttle ← cli   (a layer includes only
#                                                 those to its left)
#
# and inside src/shuttle/, each room only the rooms listed for it:
#
#   client      the wire protocol, libshuttle, the static helpers: common
#   shim        client
#   audit       the audit log (also read by shuttlectl): common
#   host        the control channel, shuttlectl's calls to the broker,
#               finding our binaries, connecting in a container: audit,
#               runtime, policy
#   supervisor  app groups (runs in shuttlectl): host, audit, client,
#               runtime, policy
#   daemon      shuttled: host, audit, client, runtime, policy
#   (cli)       every room but daemon and shim
#
# and inside the daemon, the mediators (the files that define a
# MediatorOps table, and depend.c) include the broker API
# (daemon/broker-api.h), the mediator interface (daemon/mediator.h) and the
# mount helpers (daemon/xfer.h), never the core's own header
# (daemon/core.h).
#
# Also: no source file under src/ is over 1,000 lines (files a person can
# hold in their head; split along a seam a reader would name).
#
# CHECK_LAYERS_SRC points at another tree (the test of this test plants a
# bad include in a copy).
set -u
src=${CHECK_LAYERS_SRC:-${top_srcdir:-.}/src}
echo "1..4"

rank() {
        case $1 in
        common) echo 0 ;; policy) echo 1 ;; runtime) echo 2 ;; shuttle) echo 3 ;; cli) echo 4 ;; *) echo 9 ;;
        esac
}

# The rooms a room of src/shuttle/ may include (itself always).
room_may() {
        case $1 in
        client) echo "" ;;
        shim) echo "client" ;;
        audit) echo "" ;;
        host) echo "audit" ;;
        supervisor) echo "host audit client" ;;
        daemon) echo "host audit client" ;;
        esac
}

# file:line:include for every quoted include.
includes() {
        (cd "$src" && grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' --include='*.c' --include='*.h' . |
                sed -E 's|^\./||; s|:([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]*)".*|:\1:\2|')
}

bad_layer=
bad_room=
bad_mediator=
while IFS=: read -r file line inc; do
        layer=${file%%/*}
        case $inc in
        */*) ;;
        *) continue ;; # same directory ("protocol.h" from client.h, installed side by side)
        esac
        target=${inc%%/*}
        # A layer may include itself and those to its left.
        if [ "$(rank "$target")" -gt "$(rank "$layer")" ]; then
                bad_layer+=" $file:$line:$inc"
                continue
        fi
        if [ "$layer" = shuttle ]; then
                room=${file#shuttle/}
                room=${room%%/*}
                if [ "$target" = shuttle ]; then
                        troom=${inc#shuttle/}
                        troom=${troom%%/*}
                        if [ "$troom" != "$room" ] && ! [[ " $(room_may "$room") " == *" $troom "* ]]; then
                                bad_room+=" $file:$line:$inc"
                        fi
                fi
                # The client side and the shim run inside containers: libc
                # and common only.
                if { [ "$room" = client ] || [ "$room" = shim ]; } &&
                   [ "$target" != common ] && [ "$target" != shuttle ]; then
                        bad_room+=" $file:$line:$inc"
                fi
                if [ "$room" = audit ] && [ "$target" != common ] && [ "$target" != shuttle ]; then
                        bad_room+=" $file:$line:$inc"
                fi
        fi
        if [ "$layer" = cli ] && { [[ $inc == shuttle/daemon/* ]] || [[ $inc == shuttle/shim/* ]]; }; then
                bad_room+=" $file:$line:$inc"
        fi
done < <(includes)

if [ -z "$bad_layer" ]; then echo "ok 1 - no include crosses a layer the wrong way"; else
        echo "not ok 1 - includes against the layers (common ← policy ← runtime ← shuttle ← cli):"
        for b in $bad_layer; do echo "#   $b"; done
fi
if [ -z "$bad_room" ]; then echo "ok 2 - no include crosses a room of src/shuttle the wrong way"; else
        echo "not ok 2 - includes between rooms of src/shuttle that docs/ARCHITECTURE.md does not allow:"
        for b in $bad_room; do echo "#   $b"; done
fi

# The mediators: what defines a MediatorOps table, and the depend grants.
mediators=$(cd "$src/shuttle/daemon" 2>/dev/null && grep -lE '^const MediatorOps [a-z_]+ = \{' ./*.c | sed 's|^\./||')
mediators+=" depend.c"
for m in $mediators; do
        [ -f "$src/shuttle/daemon/$m" ] || continue
        while IFS=: read -r line inc; do
                case $inc in
                shuttle/daemon/broker-api.h | shuttle/daemon/mediator.h | shuttle/daemon/xfer.h) ;;
                shuttle/daemon/*) bad_mediator+=" shuttle/daemon/$m:$line:$inc" ;;
                esac
        done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$src/shuttle/daemon/$m" |
                 sed -E 's|^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]*)".*|\1:\2|')
done
if [ -z "$bad_mediator" ]; then
        echo "ok 3 - mediators include only the broker API, the mediator interface and xfer.h ($(echo $mediators))"
else
        echo "not ok 3 - a mediator includes more of the daemon than its API:"
        for b in $bad_mediator; do echo "#   $b"; done
fi

long=$(cd "$src" && find . -name '*.[ch]' -exec wc -l {} + | awk '$2 != "total" && $1 > 1000 { sub(/^\.\//, "", $2); print $2 ":" $1 }')
if [ -z "$long" ]; then echo "ok 4 - no file under src/ is over 1,000 lines"; else
        echo "not ok 4 - files over 1,000 lines (split along a seam a reader would name):"
        for l in $long; do echo "#   $l"; done
fi
[ -z "$bad_layer$bad_room$bad_mediator$long" ]
