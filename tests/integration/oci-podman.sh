#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shuttle-oci driven by podman (and its conmon) through --runtime, offline:
# an image imported from a busybox rootfs built here, podman's storage,
# run root, temporary files and events all under this test's directory.
# The most telling of ../shared/oci/run-podman.sh's checks: exit status,
# stdin and stdout, exec, stop and rm, a memory limit in the container's
# cgroup, --read-only, --user, pause and unpause.
#
# SHUTTLE_TEST_RUNTIME=/bin/false runs the same checks against a runtime
# that fails every verb (each must then fail).
. "$(dirname "$0")/lib.sh"
require_root

OCI=${SHUTTLE_OCI:-${top_builddir:-.}/shuttle-oci}
RT=$(readlink -f "${SHUTTLE_TEST_RUNTIME:-$OCI}")
BUSYBOX=$(command -v busybox 2>/dev/null)
if ! command -v podman >/dev/null 2>&1 || ! command -v conmon >/dev/null 2>&1; then
        echo "1..0 # SKIP needs podman and conmon (scripts/install-deps.sh)"
        exit 77
fi
if [ -z "$BUSYBOX" ] || ! ldd "$BUSYBOX" 2>&1 | grep -q "not a dynamic"; then
        echo "1..0 # SKIP needs a static busybox (busybox-static)"
        exit 77
fi

# podman's whole state is this test's: storage (vfs: no overlay mounts),
# run root, tmpdir (conmon's sockets, the events file), its configuration.
P=$T/podman
mkdir -p "$P/storage" "$P/run" "$P/tmp"
cat > "$P/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$P/storage"
runroot = "$P/run"
EOF
# ulimits: podman's defaults (the host's hard limits) may be above what
# this machine lets a container have; the harness uses the same.
cat > "$P/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$P/events.log"
tmp_dir = "$P/tmp"
static_dir = "$P/storage/libpod"
volume_path = "$P/storage/volumes"
EOF
export CONTAINERS_CONF=$P/containers.conf CONTAINERS_STORAGE_CONF=$P/storage.conf
PM=(timeout -k 5 60 podman --root "$P/storage" --runroot "$P/run" --storage-driver vfs
    --cgroup-manager cgroupfs --events-backend file --tmpdir "$P/tmp" --runtime "$RT")
pm() { "${PM[@]}" "$@"; }
# The containers' cgroups (and conmon's) go below a parent of this test's
# own (--cgroup-parent), not podman's shared libpod_parent.
CGP=shuttle-test-podman-$$
podman_cleanup() {
        timeout 60 "${PM[@]}" rm -a -f -t 0 >/dev/null 2>&1
        timeout 60 "${PM[@]}" rmi -a -f >/dev/null 2>&1
        # vfs layers are plain directories; anything podman mounted below
        # its root (a container's shm) goes before the directory does.
        grep -F " $P/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r | while read -r m; do umount -l "$m"; done
        for d in /sys/fs/cgroup/*/"$CGP"/* /sys/fs/cgroup/*/"$CGP" /sys/fs/cgroup/"$CGP"; do
                [ -d "$d" ] && rmdir "$d" 2>/dev/null
        done
        cleanup_lib
}
trap podman_cleanup EXIT

# The image: a busybox rootfs made here, imported.
R=$T/rootfs
mkdir -p "$R"/bin "$R"/etc "$R"/tmp "$R"/proc "$R"/sys "$R"/dev "$R"/root "$R"/run
cp "$BUSYBOX" "$R/bin/busybox"
for a in sh cat echo id sleep touch true head; do ln -sf busybox "$R/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$R/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$R/etc/group"
chmod 1777 "$R/tmp"
IMG=localhost/shuttle-test-busybox:latest
if ! tar -C "$R" -c . | pm import --change 'CMD ["/bin/sh"]' - "$IMG" > "$T/import.out" 2>&1; then
        echo "Bail out! podman import failed: $(head -c 400 "$T/import.out")"
        exit 1
fi
RUN=(run --rm --network none --cgroup-parent "/$CGP")

plan 8

check_status "podman run: the container's exit status" 3 pm "${RUN[@]}" "$IMG" sh -c 'exit 3'
echo from-stdin > "$T/in"
pm "${RUN[@]}" -i "$IMG" sh -c 'read l; echo "got $l"; echo to-stderr >&2' < "$T/in" > "$T/io.out" 2> "$T/io.err"
check_eq "podman run -i: stdin in, stdout and stderr out" "got from-stdin|to-stderr" "$(cat "$T/io.out")|$(cat "$T/io.err")"
check_eq "--memory 64m: the limit in the container's cgroup" "67108864" \
        "$(pm "${RUN[@]}" --memory 64m "$IMG" sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max' 2>&1)"
check_eq "--read-only: the root is read-only, /tmp writable" "ro tmp-ok" \
        "$(pm "${RUN[@]}" --read-only "$IMG" sh -c 'touch /x 2>/dev/null && echo rw || echo ro; touch /tmp/x && echo tmp-ok' 2>&1 | tr '\n' ' ' | sed 's/ $//')"
check_eq "--user 1000:1000" "1000 1000" "$(pm "${RUN[@]}" --user 1000:1000 "$IMG" sh -c 'echo $(id -u) $(id -g)' 2>&1)"

# A detached one: exec, pause and unpause, stop, rm.
NAME=shuttle-test-$$
pm run -d --network none --cgroup-parent "/$CGP" --name "$NAME" "$IMG" sleep 600 > /dev/null 2> "$T/d.err"
pm exec "$NAME" sh -c 'echo exec-ok $(id -u); exit 4' > "$T/exec.out" 2>&1
rc=$?
check_eq "podman exec: output and exit status" "exec-ok 0 4" "$(cat "$T/exec.out") $rc"
pm pause "$NAME" > /dev/null 2>&1
s1=$(pm inspect -f '{{.State.Status}}' "$NAME" 2>&1)
pm unpause "$NAME" > /dev/null 2>&1
s2=$(pm inspect -f '{{.State.Status}}' "$NAME" 2>&1)
pm exec "$NAME" true > /dev/null 2>&1
s3=$?
check_eq "pause and unpause: paused, then running (and exec works again)" "paused running 0" "$s1 $s2 $s3"
pm stop -t 2 "$NAME" > /dev/null 2>&1
s1=$(pm inspect -f '{{.State.Status}}' "$NAME" 2>&1)
pm rm "$NAME" > /dev/null 2>&1
check_eq "stop, then rm: exited, then gone" "exited gone" "$s1 $(pm container exists "$NAME" && echo there || echo gone)"

finish
