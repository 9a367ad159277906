#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shuttle-oci and the node's broker: containers whose config.json carries
# org.shuttle.* annotations register at create (name, group, exports, the
# shim), the node's policy decides what crosses between them, delete
# unregisters; a container without annotations registers nothing, and with
# annotations but no broker, create fails naming the annotation.
. "$(dirname "$0")/lib.sh"
require_root

OCI=${SHUTTLE_OCI:-${top_builddir:-.}/shuttle-oci}
ROOT=$T/oci-root
SUB=$HELPERS/subreaper
oci() { "$OCI" --root "$ROOT" --shuttle-state "$STATE_DIR" "$@"; }
oci_cleanup() {
        local d
        for d in "$ROOT"/*; do [ -d "$d" ] && oci delete --force "$(basename "$d")" >/dev/null 2>&1; done
        stop_broker
        cleanup_lib
}
trap oci_cleanup EXIT

plan 15

# ---- no broker: create fails naming the annotation, nothing is left ----
oci_host_bundle "$T/lone" '["true"]' '{ "org.shuttle.name": "lone" }'
# (to a file, bounded: a create that wrongly succeeded leaves a process
# holding its output, deleted at the end)
timeout 30 "$SUB" "$OCI" --root "$ROOT" --shuttle-state "$T/nobroker" create --bundle "$T/lone" lone >"$T/lone.out" 2>&1
out=$(cat "$T/lone.out")
check_match "without a broker, create fails naming org.shuttle.name and the state dir" \
        "annotations\[\"org.shuttle.name\"\]: no broker \(shuttled\) answers on '$T/nobroker'" "$out"
check_eq "... and leaves no container behind" "" "$(ls "$ROOT" 2>/dev/null)"

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - id: cli-uses-echo
    from: cli
    to: srv
    allow: ipc
    endpoint: echo
YAML
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }

oci_host_bundle "$T/srv" '["/opt/t/sockecho", "serve", "echo", "/tmp/echo.sock"]' \
        '{ "org.shuttle.name": "srv", "org.shuttle.group": "shop", "org.shuttle.exports": "echo=/tmp/echo.sock" }'
oci_host_bundle "$T/cli" '["sh", "-c", "echo \"preload=$LD_PRELOAD\"; ls /run/shuttle/svc; /opt/t/sockecho call /run/shuttle/svc/srv.echo hello"]' \
        '{ "org.shuttle.name": "cli", "org.shuttle.shim": "true" }'
oci_host_bundle "$T/evil" '["sh", "-c", "ls /run/shuttle/svc | wc -l; echo x | /opt/b/shuttle-connect srv.echo; echo rc=$?"]' \
        '{ "org.shuttle.name": "evil" }'
oci_host_bundle "$T/plain" '["sh", "-c", "[ -e /run/shuttle ] && echo has-run-shuttle; echo \"preload=$LD_PRELOAD\"; echo done"]' '{ "org.example.other": "x" }'

# A conmon-like parent: srv is created and started and left running; the
# others run to their end (run, in the foreground) while it serves.
cat > "$T/steps.sh" <<EOF
set -u
oci() { "$OCI" --root "$ROOT" --shuttle-state "$STATE_DIR" "\$@"; }
oci create --bundle "$T/srv" --pid-file "$T/srv.pid" oci-srv-1 || exit 1
ls "$STATE_DIR/registry" > "$T/registry-created"
cp "$STATE_DIR/registry/srv.json" "$T/srv.json"
oci start oci-srv-1
i=0; until [ -S "/proc/\$(cat "$T/srv.pid")/root/tmp/echo.sock" ] || [ \$i -ge 400 ]; do sleep 0.05; i=\$((i+1)); done
oci run --bundle "$T/cli" oci-cli-1 > "$T/cli.out" 2>&1
oci run --bundle "$T/evil" oci-evil-1 > "$T/evil.out" 2>&1
oci run --bundle "$T/plain" oci-plain-1 > "$T/plain.out" 2>&1
ls "$STATE_DIR/registry" > "$T/registry-running"
ls "$STATE_DIR/broker" > "$T/broker-running"
oci delete --force oci-srv-1
ls "$STATE_DIR/registry" > "$T/registry-deleted"
ls "$STATE_DIR/broker" > "$T/broker-deleted"
EOF
timeout 60 "$SUB" sh "$T/steps.sh" > "$T/sub.out" 2>&1
diag "$(cat "$T/sub.out")"

check_match "create registers srv with the broker under its org.shuttle.name" "^srv" "$(cat "$T/registry-created" 2>/dev/null)"
check_match "the group annotation reaches the broker's registry" '"group":"shop"' "$(cat "$T/srv.json" 2>/dev/null)"
check_match "cli (allowed) sees srv.echo in /run/shuttle/svc" "^srv.echo$" "$(sed -n 2p "$T/cli.out")"
check_eq "cli reaches srv's echo through /run/shuttle/svc/srv.echo" "echo:hello" "$(sed -n 3p "$T/cli.out")"
check_match "org.shuttle.shim \"true\": the shim is preloaded in cli" "^preload=.*libshuttle-shim.so" "$(sed -n 1p "$T/cli.out")"
# (with the shim, connect() takes the fast path: "connect", else "proxy-connect")
check_match "... audited as an allow by rule cli-uses-echo" '"from":"cli","to":"srv","kind":"ipc","op":"[a-z-]*connect","object":"srv.echo","decision":"allow","rule":"cli-uses-echo"' "$(audit_grep '"from":"cli"')"
check_match "evil sees no service and is refused" "^0 .*rc=[1-9]" "$(tr '\n' ' ' < "$T/evil.out")"
check_match "... and the refusal is in the audit log" '"from":"evil","to":"srv","kind":"ipc","op":"connect","object":"srv.echo","decision":"deny","rule":"default"' "$(audit_grep '"from":"evil"')"
check_eq "a container without org.shuttle.* annotations gets no /run/shuttle, no shim" "preload= done" "$(tr '\n' ' ' < "$T/plain.out" | sed 's/ $//')"
check_eq "... and only srv stays registered once the others ended (run deletes them)" "srv.json" "$(grep -v '^$' "$T/registry-running" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
check_eq "delete unregisters srv: the broker's registry no longer has it" "" "$(cat "$T/registry-deleted" 2>/dev/null)"
check_eq "... and its /run/shuttle directory is gone" "" "$(cat "$T/broker-deleted" 2>/dev/null)"
check_eq "nothing is left under --root" "" "$(ls "$ROOT" 2>/dev/null)"

finish
