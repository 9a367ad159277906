#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shuttle-oci as CRI-O calls it (no CRI-O here: the bundles carry the
# annotations CRI-O writes, per its source).  CRI-O gives a pod's
# annotations to its sandbox ("infra") container only; an app container
# names its sandbox in io.kubernetes.cri-o.SandboxID and takes the pod's
# org.shuttle.* from the sandbox's state under the same --root: the
# container org.shuttle.container names registers under the pod's name,
# the pod's other containers and the sandbox register nothing, an app
# container whose sandbox is not ours runs plain, and a sandbox state that
# is a symbolic link or a sandbox of another pod is refused.
. "$(dirname "$0")/lib.sh"
require_root

OCI=${SHUTTLE_OCI:-${top_builddir:-.}/shuttle-oci}
ROOT=$T/oci-root
SUB=$HELPERS/subreaper
SB=5b1d0c0ffee0
oci() { "$OCI" --root "$ROOT" --shuttle-state "$STATE_DIR" "$@"; }
oci_cleanup() {
        local d
        rm -rf "$ROOT/linked"
        for d in "$ROOT"/*; do [ -d "$d" ] && oci delete --force "$(basename "$d")" >/dev/null 2>&1; done
        stop_broker
        cleanup_lib
}
trap oci_cleanup EXIT

# make_bundle DIR ARGS-JSON ANNOTATIONS-JSON: lib.sh's oci_host_bundle.  In
# a sanitizer build the test helpers run inside are sanitized, and
# LeakSanitizer's exit check fails in these containers (a fatal error on the
# client's stderr): ASAN_OPTIONS turns it off, unsanitized programs ignore it.
make_bundle() { oci_host_bundle "$1" "$2" "$3" ASAN_OPTIONS=detect_leaks=0; }

# crio_app NAME-IN-POD SANDBOX-ID: an app container's annotations as CRI-O
# writes them (its own, kubelet-made; none of the pod's).
crio_app() {
        cat <<JSON
{ "io.kubernetes.cri-o.ContainerType": "container", "io.kubernetes.cri-o.SandboxID": "$2",
  "io.kubernetes.cri-o.ContainerName": "k8s_$1_web-0_demo_0123_0", "io.kubernetes.container.name": "$1",
  "io.kubernetes.pod.name": "web-0", "io.kubernetes.pod.namespace": "demo", "io.kubernetes.pod.uid": "${3:-0123}",
  "io.kubernetes.cri-o.Annotations": "{\"io.kubernetes.container.hash\":\"e1\"}" }
JSON
}

plan 12

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - id: cli-uses-web
    from: cli
    to: web
    allow: ipc
    endpoint: echo
YAML
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }

# The sandbox: the pod's annotations, as CRI-O's RunPodSandbox writes them.
make_bundle "$T/sandbox" '["sleep", "300"]' "{
  \"io.kubernetes.cri-o.ContainerType\": \"sandbox\", \"io.kubernetes.cri-o.SandboxID\": \"$SB\",
  \"io.kubernetes.cri-o.ContainerName\": \"k8s_POD_web-0_demo_0123_0\", \"io.kubernetes.pod.name\": \"web-0\",
  \"io.kubernetes.pod.uid\": \"0123\",
  \"io.kubernetes.cri-o.Annotations\": \"{\\\"org.shuttle.name\\\":\\\"web\\\"}\",
  \"org.shuttle.name\": \"web\", \"org.shuttle.group\": \"demo\", \"org.shuttle.exports\": \"echo=/tmp/echo.sock\",
  \"org.shuttle.container\": \"app\" }"
make_bundle "$T/app" '["/opt/t/sockecho", "serve", "echo", "/tmp/echo.sock"]' "$(crio_app app "$SB")"
make_bundle "$T/sidecar" '["sh", "-c", "[ -e /run/shuttle ] && echo has-run-shuttle; echo done"]' "$(crio_app sidecar "$SB")"
make_bundle "$T/orphan" '["sh", "-c", "[ -e /run/shuttle ] && echo has-run-shuttle; echo done"]' "$(crio_app app nosuchsandbox)"
make_bundle "$T/cli" '["/opt/t/sockecho", "call", "/run/shuttle/svc/web.echo", "hello"]' '{ "org.shuttle.name": "cli" }'
make_bundle "$T/linkedapp" '["true"]' "$(crio_app app linked)"
# Another pod's sandbox whose pod annotations override CRI-O's keys (CRI-O
# writes them after its own) to pass for an app container of web-0's pod.
make_bundle "$T/forged" '["true"]' "$(crio_app app "$SB" 9999)"

# A state directory whose state.json is a symbolic link to a file made to
# look like a sandbox's: not ours, refused.
mkdir -p "$ROOT/linked"
printf '{"id":"linked","pid":1,"bundle":"/","annotations":{"io.kubernetes.cri-o.ContainerType":"sandbox","io.kubernetes.cri-o.SandboxID":"linked","org.shuttle.name":"cli"}}' > "$T/fake-state.json"
ln -s "$T/fake-state.json" "$ROOT/linked/state.json"

# A conmon-like parent, as CRI-O's: the sandbox, then the pod's containers.
cat > "$T/steps.sh" <<EOF
set -u
oci() { "$OCI" --root "$ROOT" --shuttle-state "$STATE_DIR" "\$@"; }
oci create --bundle "$T/sandbox" $SB || exit 1
oci start $SB
ls "$STATE_DIR/registry" > "$T/registry-sandbox"
oci create --bundle "$T/app" --pid-file "$T/app.pid" app-1 || exit 1
ls "$STATE_DIR/registry" > "$T/registry-app"
cp "$STATE_DIR/registry/web.json" "$T/web.json"
oci start app-1
i=0; until [ -S "/proc/\$(cat "$T/app.pid")/root/tmp/echo.sock" ] || [ \$i -ge 400 ]; do sleep 0.05; i=\$((i+1)); done
[ -d "/proc/\$(cat "$T/app.pid")/root/run/shuttle/svc" ] && echo yes > "$T/app-run-shuttle"
oci run --bundle "$T/cli" cli-1 > "$T/cli.out" 2>&1
oci run --bundle "$T/sidecar" sidecar-1 > "$T/sidecar.out" 2>&1
oci --debug run --bundle "$T/orphan" orphan-1 > "$T/orphan.out" 2>&1
oci create --bundle "$T/linkedapp" linkedapp-1 > "$T/linked.out" 2>&1 && echo created >> "$T/linked.out"
oci create --bundle "$T/forged" forged-1 > "$T/forged.out" 2>&1 && echo created >> "$T/forged.out"
ls "$STATE_DIR/registry" > "$T/registry-running"
oci delete --force app-1
ls "$STATE_DIR/registry" > "$T/registry-deleted"
oci delete --force $SB
EOF
timeout 60 "$SUB" sh "$T/steps.sh" > "$T/sub.out" 2>&1
diag "$(cat "$T/sub.out")"

check_eq "the sandbox, with the pod's annotations, registers nothing" "" "$(cat "$T/registry-sandbox" 2>/dev/null)"
check_eq "the app container org.shuttle.container names registers under the pod's name" "web.json" \
        "$(cat "$T/registry-app" 2>/dev/null)"
check_match "... with the pod's group" '"group":"demo"' "$(cat "$T/web.json" 2>/dev/null)"
check_eq "... and gets /run/shuttle" "yes" "$(cat "$T/app-run-shuttle" 2>/dev/null)"
check_eq "a client the policy lets in reaches the pod's export web.echo" "echo:hello" "$(cat "$T/cli.out" 2>/dev/null)"
check_eq "the pod's other container (a sidecar) runs plain: no /run/shuttle" "done" "$(cat "$T/sidecar.out" 2>/dev/null)"
check_match "an app container whose sandbox has no state under --root runs plain, with a debug note" \
        "sandbox nosuchsandbox: no state under .*a plain container.*done" "$(tr '\n' ' ' < "$T/orphan.out")"
check_match "a sandbox state.json that is a symbolic link is refused, naming the annotation and the sandbox" \
        "annotations\[\"io.kubernetes.cri-o.SandboxID\"\]: sandbox 'linked' '.*/linked/state.json': Too many levels of symbolic links" \
        "$(cat "$T/linked.out")"
check_match "an app container of another pod (its pod UID not the sandbox's) is refused" \
        "annotations\[\"io.kubernetes.cri-o.SandboxID\"\]: '$SB' is not this container's pod: \"io.kubernetes.pod.uid\" '9999', the sandbox's '0123'\$" \
        "$(cat "$T/forged.out")"
check_eq "... and nothing registered as the fake sandbox's name or twice" "web.json" "$(grep -v '^$' "$T/registry-running" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
check_eq "delete unregisters the app container" "" "$(cat "$T/registry-deleted" 2>/dev/null)"
rm -rf "$ROOT/linked"
check_eq "nothing is left under --root" "" "$(ls "$ROOT" 2>/dev/null)"

finish
