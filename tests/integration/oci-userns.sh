#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shuttle-oci with a user namespace (linux.uidMappings/gidMappings) and
# with namespaces joined by path (network, ipc, uts, mount; and a network
# namespace joined together with a new user namespace), through a busybox
# bundle, checked as a user would: the ids inside and on the host, what
# the container's root may not do, the inodes of /proc/self/ns/*.
. "$(dirname "$0")/lib.sh"
require_root

OCI=${SHUTTLE_OCI:-${top_builddir:-.}/shuttle-oci}
BUSYBOX=$(command -v busybox 2>/dev/null)
if [ -z "$BUSYBOX" ] || ! ldd "$BUSYBOX" 2>&1 | grep -q "not a dynamic"; then
        echo "1..0 # SKIP needs a static busybox (busybox-static)"
        exit 77
fi
if ! command -v unshare >/dev/null; then
        echo "1..0 # SKIP needs unshare (util-linux)"
        exit 77
fi
ROOT=$T/oci-root
SUB=$HELPERS/subreaper
NSDIR=$T/ns
# The container's root is host uid 100000: it must be able to reach the
# bind mounts' sources in the work directory (mktemp made it 0700).
chmod 755 "$T"
oci() { "$OCI" --root "$ROOT" "$@"; }
oci_cleanup() {
        local d
        for d in "$ROOT"/*; do [ -d "$d" ] && oci delete --force "$(basename "$d")" >/dev/null 2>&1; done
        for d in "$NSDIR"/*; do [ -e "$d" ] && umount "$d" 2>/dev/null; done
        mountpoint -q "$NSDIR" && umount "$NSDIR"
        cleanup_lib
}
trap oci_cleanup EXIT

# make_bundle DIR ARGS-JSON NAMESPACES-JSON [EXTRA-LINUX-KEYS]
make_bundle() {
        local dir=$1 args=$2 ns=$3 extra=${4:-}
        mkdir -p "$dir/rootfs/bin" "$dir/shared"
        cp "$BUSYBOX" "$dir/rootfs/bin/busybox"
        for c in sh cat id ls touch stat readlink hostname echo sleep; do ln -sf busybox "$dir/rootfs/bin/$c"; done
        cat > "$dir/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "user": { "uid": 0, "gid": 0 },
    "args": $args,
    "env": [ "PATH=/bin" ],
    "cwd": "/",
    "capabilities": { "bounding": ["CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_CHOWN", "CAP_FOWNER"],
                      "effective": ["CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_CHOWN", "CAP_FOWNER"],
                      "permitted": ["CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_CHOWN", "CAP_FOWNER"] },
    "noNewPrivileges": true
  },
  "root": { "path": "rootfs" },
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] },
    { "destination": "/shared", "type": "bind", "source": "$dir/shared", "options": ["rbind", "rw"] }
  ],
  "linux": {
    "namespaces": $ns
    $extra
  }
}
JSON
}

MAPS=', "uidMappings": [ { "containerID": 0, "hostID": 100000, "size": 65536 } ], "gidMappings": [ { "containerID": 0, "hostID": 100000, "size": 65536 } ]'
NEW_NS='{ "type": "pid" }, { "type": "network" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }'

plan 22

# ---- a user namespace mapping 0 -> 100000 (65536 ids) ----
B=$T/b1
make_bundle "$B" '["sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; touch /shared/made; if echo changed > /shared/hostfile; then echo wrote; else echo refused; fi; ls /sys/class >/dev/null && echo sysfs; stat -c %u /dev"]' \
        "[ $NEW_NS, { \"type\": \"user\" } ]" "$MAPS"
# The bundle as a user namespace's root expects it: its own.
chown -R 100000:100000 "$B/rootfs" "$B/shared"
echo host > "$B/shared/hostfile"
chown 0:0 "$B/shared/hostfile"
chmod 644 "$B/shared/hostfile"
oci run --bundle "$B" u1 > "$T/u1.out" 2> "$T/u1.err"
RC=$?
check_eq "run with a user namespace exits 0" "0" "$RC"
[ "$RC" != 0 ] && diag "$(cat "$T/u1.err")"
OUT=$(tr -s ' \n' ' ' < "$T/u1.out" | sed 's/ $//')
check_match "the container's process is uid 0 and gid 0 inside" "^0 0 " "$OUT"
check_match "/proc/self/uid_map and gid_map show the mapping 0 100000 65536" "^0 0 0 100000 65536 0 100000 65536 " "$OUT"
check_eq "a file it makes on a bind mount belongs to 100000:100000 on the host" "100000:100000" \
        "$(stat -c %u:%g "$B/shared/made" 2>&1)"
check_match "it cannot write a host root's 0644 file, CAP_DAC_OVERRIDE or not" " refused " "$OUT"
check_eq "... which is unchanged" "host" "$(cat "$B/shared/hostfile")"
check_match "sysfs is there (a network namespace of its user namespace's)" " sysfs " "$OUT"
check_match "its /dev (a tmpfs) belongs to its root" " 0$" "$OUT"
check_eq "nothing is left under --root" "" "$(ls "$ROOT" 2>/dev/null)"

# ---- exec joins the user namespace too (else it would be host root in
# the container's other namespaces) ----
B=$T/b7
make_bundle "$B" '["sh", "-c", "touch /shared/started; exec sleep 1000"]' "[ $NEW_NS, { \"type\": \"user\" } ]" "$MAPS"
chown -R 100000:100000 "$B/rootfs" "$B/shared"
"$SUB" "$OCI" --root "$ROOT" create --bundle "$B" u3 \; "$OCI" --root "$ROOT" start u3 \; \
        sh -c "i=0; while [ ! -e '$B/shared/started' ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i+1)); done; \
               '$OCI' --root '$ROOT' exec u3 sh -c 'id -u; cat /proc/self/uid_map; touch /shared/byexec' > '$T/exec.out' 2>&1" \; \
        "$OCI" --root "$ROOT" delete --force u3 > "$T/reaped3"
check_eq "exec in a user namespace container: uid 0 of its namespace, mapped" "0 0 100000 65536" \
        "$(tr -s ' \n' ' ' < "$T/exec.out" | sed 's/^ //;s/ $//')"
check_eq "... a file it makes belongs to 100000 on the host" "100000:100000" "$(stat -c %u:%g "$B/shared/byexec" 2>&1)"

# ---- a bad mapping is refused by name, nothing made ----
B=$T/b2
make_bundle "$B" '["true"]' "[ $NEW_NS, { \"type\": \"user\" } ]" \
        ', "uidMappings": [ { "containerID": 0, "hostID": 100000, "size": 1000 }, { "containerID": 500, "hostID": 300000, "size": 10 } ], "gidMappings": [ { "containerID": 0, "hostID": 100000, "size": 1000 } ]'
check_status "overlapping uidMappings: create fails" 1 oci create --bundle "$B" u2
check_match "... naming the mapping" "create u2: .*linux.uidMappings\[1\]: container ids 500-509 overlap linux.uidMappings\[0\]" "$(cat "$T/err")"
check_eq "... and leaves nothing" "" "$(ls "$ROOT" 2>/dev/null)"

# ---- namespaces joined by path ----
# Persistent namespaces, kept by bind mounts on files in a private mount
# (unshare needs that for a mount namespace).
mkdir -p "$NSDIR"
mount --bind "$NSDIR" "$NSDIR" && mount --make-private "$NSDIR"
for ns in net ipc uts mnt; do
        touch "$NSDIR/$ns"
        case $ns in
        net) unshare --net="$NSDIR/net" true ;;
        ipc) unshare --ipc="$NSDIR/ipc" true ;;
        uts) unshare --uts="$NSDIR/uts" hostname joined-uts ;;
        mnt) unshare --mount="$NSDIR/mnt" true ;;
        esac
done
ino() { stat -L -c %i "$NSDIR/$1" 2>/dev/null; }

B=$T/b3
make_bundle "$B" '["sh", "-c", "for n in net ipc uts; do readlink /proc/self/ns/$n; done; hostname"]' \
        "[ { \"type\": \"pid\" }, { \"type\": \"mount\" }, { \"type\": \"network\", \"path\": \"$NSDIR/net\" }, { \"type\": \"ipc\", \"path\": \"$NSDIR/ipc\" }, { \"type\": \"uts\", \"path\": \"$NSDIR/uts\" } ]"
oci run --bundle "$B" j1 > "$T/j1.out" 2> "$T/j1.err" || diag "$(cat "$T/j1.err")"
check_eq "network, ipc and uts joined by path: /proc/self/ns/* are those namespaces" \
        "net:[$(ino net)] ipc:[$(ino ipc)] uts:[$(ino uts)] joined-uts" "$(tr '\n' ' ' < "$T/j1.out" | sed 's/ $//')"

# A mount namespace joined: its mounts are the container's (the host's as
# unshare copied them), no root is built; the command is the host's.
B=$T/b4
make_bundle "$B" "[\"$BUSYBOX\", \"sh\", \"-c\", \"$BUSYBOX readlink /proc/self/ns/mnt; $BUSYBOX ls -d $T\"]" \
        "[ { \"type\": \"pid\" }, { \"type\": \"mount\", \"path\": \"$NSDIR/mnt\" } ]"
oci run --bundle "$B" j2 > "$T/j2.out" 2> "$T/j2.err" || diag "$(cat "$T/j2.err")"
check_eq "a mount namespace joined by path: /proc/self/ns/mnt is that namespace, its files the host's" \
        "mnt:[$(ino mnt)] $T" "$(tr '\n' ' ' < "$T/j2.out" | sed 's/ $//')"

# A network namespace joined together with a new user namespace: the
# creating process joins it before the user namespace is made.
B=$T/b5
make_bundle "$B" '["sh", "-c", "readlink /proc/self/ns/net; cat /proc/self/uid_map; ls /sys/class >/dev/null && echo sysfs"]' \
        "[ { \"type\": \"pid\" }, { \"type\": \"mount\" }, { \"type\": \"ipc\" }, { \"type\": \"user\" }, { \"type\": \"network\", \"path\": \"$NSDIR/net\" } ]" "$MAPS"
chown -R 100000:100000 "$B/rootfs" "$B/shared"
oci run --bundle "$B" j3 > "$T/j3.out" 2> "$T/j3.err" || diag "$(cat "$T/j3.err")"
check_eq "a network namespace joined with a new user namespace: joined, mapped, the host's sysfs bound" \
        "net:[$(ino net)] 0 100000 65536 sysfs" "$(tr -s ' \n' ' ' < "$T/j3.out" | sed 's/^ //;s/ $//')"

check_status "a namespace path that does not exist: create fails" 1 \
        sh -c "sed 's#$NSDIR/net#$NSDIR/nope#' '$B/config.json' > '$T/c.json' && cp '$T/c.json' '$B/config.json' && '$OCI' --root '$ROOT' create --bundle '$B' j4"
check_match "... naming it" "create j4: .*$NSDIR/nope.*No such file" "$(cat "$T/err")"
check_eq "nothing is left under --root" "" "$(ls "$ROOT" 2>/dev/null)"

# Shuttle's annotations with a user namespace: refused by name (the
# broker knows its containers by host ids), nothing made.
B=$T/b6
make_bundle "$B" '["true"]' "[ $NEW_NS, { \"type\": \"user\" } ]" "$MAPS"
sed -i 's/^  "root":/  "annotations": { "org.shuttle.name": "un" },\n  "root":/' "$B/config.json"
check_status "org.shuttle.* annotations with a user namespace: create fails" 1 oci create --bundle "$B" s1
check_match "... saying why" "create s1: .*annotations\[\"org.shuttle.name\"\]: a Shuttle container needs the host's user namespace" "$(cat "$T/err")"

finish
