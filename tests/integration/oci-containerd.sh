#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Kubernetes path without a cluster: a private containerd and its runc
# v2 shim (what the CRI plugin uses for a RuntimeClass handler) drive
# shuttle-oci through `ctr run --runc-binary`, a wrapper giving it the
# test's broker (--shuttle-state), as examples/kubernetes/ configures a
# node.  Containers carry org.shuttle.* annotations as containerd's
# pod_annotations would put them: a pod sandbox and a sidecar (register
# nothing), a server exporting a service, a client the node policy allows
# (the reply comes back) and one it refuses; the audit log shows both decisions with
# the annotations' names.  Everything it made is removed: tasks,
# containers, the namespace, containerd and its shims, mounts, cgroups.
. "$(dirname "$0")/lib.sh"
require_root

if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
        echo "1..0 # SKIP containerd and ctr are not installed (scripts/install-deps.sh installs containerd)"
        exit 77
fi
if [ ! -x /bin/busybox ]; then
        echo "1..0 # SKIP /bin/busybox (busybox-static) is not installed"
        exit 77
fi

B=$(cd "${top_builddir:-.}" && pwd)
H=$(cd "$HELPERS" && pwd)
OCI=${SHUTTLE_OCI:-$B/shuttle-oci}
case $OCI in /*) ;; *) OCI=$(pwd)/$OCI ;; esac
C=$T/ctrd                  # containerd's config, root, state, socket
NS=shuttle-it-$$           # containerd namespace; also the cgroup parent it names
SOCK=$C/containerd.sock
IDS="k8s-pause k8s-srv k8s-side k8s-a k8s-b k8s-bad"
CPID=
had_run=0
[ -e /run/containerd ] && had_run=1

ctr_() { timeout -k 5 60 ctr -a "$SOCK" -n "$NS" "$@"; }

ctrd_cleanup() {
        local id i d m
        if [ -n "$CPID" ]; then
                for id in $IDS; do
                        ctr_ task kill -s SIGKILL "$id" >/dev/null 2>&1
                        ctr_ task delete -f "$id" >/dev/null 2>&1
                        ctr_ container delete "$id" >/dev/null 2>&1
                done
                ctr_ namespaces remove "$NS" >/dev/null 2>&1
                kill -TERM "$CPID" 2>/dev/null
                wait "$CPID" 2>/dev/null
        fi
        # The shims of this containerd (each exits once its task is
        # deleted; one left over by a failed step is stopped here).
        for d in /proc/[0-9]*; do
                grep -qaF -- "$SOCK" "$d/cmdline" 2>/dev/null && kill -KILL "${d#/proc/}" 2>/dev/null
        done
        awk -v p="$T/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
                while read -r m; do umount -l "$m" 2>/dev/null; done
        # containerd's default cgroupsPath is /NAMESPACE/ID: shuttle-oci
        # removes ID at delete and leaves the parent it made, as runc does.
        for i in 1 2; do
                find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d -name "$NS" 2>/dev/null |
                        while read -r d; do rmdir "$d" 2>/dev/null; done
        done
        # The shim's sockets live in /run/containerd/s whatever the config
        # says: remove what is left only if this test made the directory and
        # nothing else put anything in it (rmdir of an empty directory).
        if [ $had_run = 0 ]; then
                rmdir /run/containerd/s /run/containerd 2>/dev/null
        fi
        stop_broker
        cleanup_lib
}
trap ctrd_cleanup EXIT

plan 18

# ---- the examples' YAML is valid ----
E=$(cd "$(dirname "$0")/../../examples/kubernetes" && pwd)
out=$(python3 - "$E" <<'PY' 2>&1
import glob, sys, yaml
kinds = []
for f in sorted(glob.glob(sys.argv[1] + "/*.yaml")):
    for d in yaml.safe_load_all(open(f)):
        kinds.append(d["kind"] + "/" + d["metadata"]["name"])
print(" ".join(sorted(kinds)))
PY
)
check_eq "examples/kubernetes: every YAML file parses (RuntimeClass, DaemonSet, ConfigMap, three pods, admission policy)" \
        "ConfigMap/shuttle-policy DaemonSet/shuttled Namespace/shuttle-system Pod/echo-client Pod/echo-server Pod/intruder RuntimeClass/shuttle ValidatingAdmissionPolicy/shuttle-names ValidatingAdmissionPolicyBinding/shuttle-names" "$out"

# ---- the node: a broker with the node policy, containerd, the runtime ----
cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - id: client-uses-echo
    from: demo-echo-client
    to: demo-echo-server
    allow: ipc
    endpoint: echo
YAML
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }

mkdir -p "$C"/root "$C"/state "$C"/fifo "$C"/oci-root "$C"/rootfs
cat >"$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = ""
[debug]
  address = ""
[metrics]
  address = ""
EOF
containerd --config "$C/config.toml" >"$T/containerd.log" 2>&1 &
CPID=$!
if ! wait_until test -S "$SOCK"; then
        diag "$(tail -20 "$T/containerd.log")"
        echo "Bail out! containerd did not start"
        exit 1
fi

# What examples/kubernetes/shuttle-oci-wrapper.sh does on a node whose
# broker is not on /run/shuttle; the shim adds --root, --log, --log-format.
cat >"$C/shuttle-oci-node" <<EOF
#!/bin/sh
exec "$OCI" --shuttle-state "$STATE_DIR" "\$@"
EOF
chmod +x "$C/shuttle-oci-node"

# mkroot ID: a busybox root of its own; the host's /usr comes in read-only
# (the test helpers are linked against its libc), /lib* point into it.
mkroot() {
        local r=$C/rootfs/$1 a
        mkdir -p "$r"/bin "$r"/etc "$r"/tmp "$r"/proc "$r"/sys "$r"/dev "$r"/run "$r"/usr "$r"/opt/t "$r"/opt/b
        cp /bin/busybox "$r/bin/busybox"
        for a in sh ls wc cat echo sleep; do ln -sf busybox "$r/bin/$a"; done
        for a in lib lib64; do ln -sfn "usr/$a" "$r/$a"; done
        echo 'root:x:0:0:root:/:/bin/sh' >"$r/etc/passwd"
        chmod 1777 "$r/tmp"
        echo "$r"
}
# ASAN_OPTIONS: in a sanitizer build the test helpers run in the containers
# are sanitized, and LeakSanitizer's check at exit fails in these containers
# ("LeakSanitizer has encountered a fatal error": it cannot attach to its
# own threads there), which would be the helper's exit status.  Ignored by
# unsanitized programs; shuttlectl's containers get the same setting.
RUNOPTS=(--fifo-dir "$C/fifo" --runc-binary "$C/shuttle-oci-node" --runc-root "$C/oci-root"
         --env PATH=/bin:/usr/bin --env ASAN_OPTIONS=detect_leaks=0
         --mount "type=bind,src=/usr,dst=/usr,options=rbind:ro"
         --mount "type=bind,src=$H,dst=/opt/t,options=rbind:ro"
         --mount "type=bind,src=$B,dst=/opt/b,options=rbind:ro")
# As containerd's CRI writes a pod's containers: the pod's org.shuttle.*
# annotations (pod_annotations) and the container type.
POD=(--annotation io.kubernetes.cri.container-type=container)

# The server pod (pod-echo-server.yaml): its annotations reach the
# sandbox, the workload container "echo" and a sidecar alike.
SRV_POD=(--annotation org.shuttle.name=demo-echo-server --annotation org.shuttle.group=demo
         --annotation org.shuttle.exports=echo=/tmp/echo.sock --annotation org.shuttle.container=echo)

# The pod sandbox first, as the CRI makes it.  It must not take the name
# demo-echo-server.
ctr_ run -d "${RUNOPTS[@]}" --annotation io.kubernetes.cri.container-type=sandbox "${SRV_POD[@]}" \
        --rootfs "$(mkroot k8s-pause)" k8s-pause /bin/sleep 600 >"$T/pause.out" 2>&1
check_eq "a pod sandbox with the pod's annotations runs, registered as nothing" "" \
        "$(cat "$T/pause.out"; ls "$STATE_DIR/registry" 2>/dev/null)"

ctr_ run -d "${RUNOPTS[@]}" "${POD[@]}" "${SRV_POD[@]}" --annotation io.kubernetes.cri.container-name=echo \
        --rootfs "$(mkroot k8s-srv)" k8s-srv /opt/t/sockecho serve echo /tmp/echo.sock >"$T/srv.out" 2>&1
srv_pid=$(ctr_ task ls 2>/dev/null | awk '$1 == "k8s-srv" { print $2 }')
diag "the server's cgroups: $(tr '\n' ' ' <"/proc/${srv_pid:-0}/cgroup" 2>/dev/null)"
wait_until test -S "/proc/${srv_pid:-0}/root/tmp/echo.sock"
check_match "ctr run -d: the server's task runs through the runc v2 shim and shuttle-oci" "^k8s-srv +[0-9]+ +RUNNING" \
        "$(ctr_ task ls 2>&1; cat "$T/srv.out")"
check_match "... registered with the node's broker under its annotation's name, not its container ID" \
        '"name":"demo-echo-server".*"group":"demo"' "$(cat "$STATE_DIR/registry/demo-echo-server.json" 2>/dev/null)"

# A sidecar of the same pod: not the container org.shuttle.container names.
ctr_ run -d "${RUNOPTS[@]}" "${POD[@]}" "${SRV_POD[@]}" --annotation io.kubernetes.cri.container-name=sidecar \
        --rootfs "$(mkroot k8s-side)" k8s-side /bin/sleep 600 >"$T/side.out" 2>&1
check_eq "a sidecar of the server's pod runs as a plain container; the name stays the server's" \
        "demo-echo-server.json $srv_pid" \
        "$(cat "$T/side.out"; echo $(ls "$STATE_DIR/registry" 2>/dev/null) $(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$STATE_DIR/registry/demo-echo-server.json" 2>/dev/null))"

ctr_ run --rm "${RUNOPTS[@]}" "${POD[@]}" --annotation org.shuttle.name=demo-echo-client --rootfs "$(mkroot k8s-a)" \
        k8s-a /bin/sh -c 'ls /run/shuttle/svc; /opt/t/sockecho call /run/shuttle/svc/demo-echo-server.echo hello' \
        >"$T/a.out" 2>&1
a_rc=$?
check_eq "the allowed client sees demo-echo-server.echo in its /run/shuttle/svc" "demo-echo-server.echo" "$(sed -n 1p "$T/a.out")"
check_eq "... and gets the server's reply through it (exit 0)" "echo:hello rc=0" "$(sed -n 2p "$T/a.out") rc=$a_rc"

ctr_ run --rm "${RUNOPTS[@]}" "${POD[@]}" --annotation org.shuttle.name=demo-intruder --rootfs "$(mkroot k8s-b)" \
        k8s-b /bin/sh -c 'ls /run/shuttle/svc | wc -l; echo x | /opt/b/shuttle-connect demo-echo-server.echo; echo rc=$?' \
        >"$T/b.out" 2>&1
check_match "the refused client sees no service, and asking the broker by name fails" "^0 .*rc=[1-9]" \
        "$(tr '\n' ' ' <"$T/b.out")"
diag "$(cat "$T/a.out" "$T/b.out")"

audit=$("$SHUTTLECTL" audit --state-dir "$STATE_DIR" --json 2>&1)
check_match "shuttlectl audit --json: the allow, by rule client-uses-echo, with the annotations' names" \
        '"from":"demo-echo-client","to":"demo-echo-server","kind":"ipc","op":"[a-z-]*connect","object":"demo-echo-server.echo","decision":"allow","rule":"client-uses-echo"' \
        "$(echo "$audit" | grep '"from":"demo-echo-client"')"
check_match "... and the deny of demo-intruder, by the policy's default" \
        '"from":"demo-intruder","to":"demo-echo-server","kind":"ipc","op":"connect","object":"demo-echo-server.echo","decision":"deny","rule":"default"' \
        "$(echo "$audit" | grep '"from":"demo-intruder"')"

# A pod whose annotation is wrong: containerd reports shuttle-oci's reason
# (the last line of its JSON --log), naming the annotation; nothing stays.
ctr_ run --rm "${RUNOPTS[@]}" "${POD[@]}" --annotation org.shuttle.name=demo-bad \
        --annotation org.shuttle.exports=echo=tcp:0 --rootfs "$(mkroot k8s-bad)" k8s-bad /bin/true >"$T/bad.out" 2>&1
ctr_ container delete k8s-bad >/dev/null 2>&1
check_match "a bad annotation fails ctr run with shuttle-oci's message naming it; nothing is registered or left" \
        "create k8s-bad: [^ ]*/k8s-bad/config.json: annotations\[\"org.shuttle.exports\"\]: 'echo=tcp:0': expected tcp:PORT.*\| demo-echo-server.json \|$" \
        "$(cat "$T/bad.out") | $(echo $(ls "$STATE_DIR/registry" 2>/dev/null)) |$(ls "$C/oci-root/$NS" | grep -x k8s-bad)"

# ---- teardown as the kubelet does it: kill, delete ----
ctr_ task kill -s SIGKILL k8s-srv >/dev/null 2>&1
wait_until sh -c "ctr -a '$SOCK' -n '$NS' task ls | grep -Eq '^k8s-srv +[0-9]+ +STOPPED'"
ctr_ task delete k8s-srv >/dev/null 2>&1
ctr_ container delete k8s-srv >"$T/del.out" 2>&1
check_eq "the server's task and container deleted; it is unregistered" "" \
        "$(cat "$T/del.out"; ls "$STATE_DIR/registry" 2>/dev/null; ls "$STATE_DIR/broker" 2>/dev/null)"
for id in k8s-side k8s-pause; do
        ctr_ task kill -s SIGKILL $id >/dev/null 2>&1
        wait_until sh -c "ctr -a '$SOCK' -n '$NS' task ls | grep -Eq '^$id +[0-9]+ +STOPPED'"
        ctr_ task delete $id >/dev/null 2>&1
        ctr_ container delete $id >/dev/null 2>&1
done
# (the containers' own cgroups, that is: the parents are left as runc
# leaves them, and removed at the end)
check_eq "delete removed the containers' cgroups (containerd's cgroupsPath /$NS/ID)" "" \
        "$(find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -path "*/$NS/*" 2>/dev/null)"
check_eq "no container or task is left in the test's namespace" "" \
        "$(ctr_ containers ls -q 2>&1; ctr_ task ls -q 2>&1)"
# (the shim gives shuttle-oci --root ROOT/NAMESPACE)
check_eq "... and nothing under shuttle-oci's --root" "" "$(ls -A "$C/oci-root/$NS" 2>&1)"
ctr_ namespaces remove "$NS" >"$T/ns.out" 2>&1
check_eq "the namespace is removed (nothing in it: no snapshot, no image, no lease)" "$NS" \
        "$(cat "$T/ns.out"; ctr -a "$SOCK" namespaces ls -q 2>&1 | grep -x "$NS")"
kill -TERM "$CPID" 2>/dev/null
wait "$CPID" 2>/dev/null
CPID=
shims() {
        local d
        for d in /proc/[0-9]*; do grep -qaF -- "$SOCK" "$d/cmdline" 2>/dev/null && echo "${d#/proc/}"; done
}
no_shims() { [ -z "$(shims)" ]; }
wait_until no_shims
check_eq "containerd stopped and no shim of it left" "" "$(shims)"
check_eq "no mount left under the test's directory" "" \
        "$(awk -v p="$T/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo)"

finish
