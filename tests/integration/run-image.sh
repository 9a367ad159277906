#!/bin/bash
# shuttlectl run --rootfs IMAGE: an OCI image layout built here, offline,
# with umoci; unpacked once into the state directory's cache and run with
# its config; a bundle directory; errors that name the file at fault and
# leave nothing behind; shuttlectl images.
. "$(dirname "$0")/lib.sh"
require_root
command -v umoci >/dev/null 2>&1 || { echo "1..0 # SKIP umoci is not installed (Debian package umoci)"; exit 77; }
BUSYBOX=$(command -v busybox)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        echo "1..0 # SKIP a static busybox is not installed (Debian package busybox-static)"
        exit 77
fi
plan 59

# What a second state directory's cache holds: its entries and what an
# unpack or a lock would leave.
cache_files() { ls -A "$1/images" 2>/dev/null | tr '\n' ' '; }

# ---- an image: busybox, a marker file, a user; Env, Entrypoint, Cmd,
# WorkingDir and User in its config ----
L=$T/layout
umoci init --layout "$L"
umoci new --image "$L:base"
umoci unpack --image "$L:base" "$T/bundle" >/dev/null
r=$T/bundle/rootfs
mkdir -p "$r/bin" "$r/etc"
cp "$BUSYBOX" "$r/bin/busybox"
for a in sh cat echo id pwd ls test sleep; do ln -s busybox "$r/bin/$a"; done
echo "from the image" >"$r/etc/image-marker"
echo 'app:x:1234:4321::/:/bin/sh' >"$r/etc/passwd"
mknod "$r/etc/devnode" c 1 3   # a device node in a layer: not to be kept
umoci repack --image "$L:app" "$T/bundle" >/dev/null
umoci config --image "$L:app" --config.env GREETING=hello --config.env PATH=/bin \
        --config.entrypoint /bin/sh --config.cmd -c \
        --config.cmd 'echo "$GREETING from $(pwd) as $(id -u):$(id -g)"; cat /etc/image-marker' \
        --config.workingdir /etc --config.user app
[ -d "$L/blobs/sha256" ] && [ -f "$T/bundle/config.json" ] || { echo "Bail out! umoci did not build the image"; exit 1; }

# ---- the image's own command, env, working directory and user ----
out=$(srun --rootfs "$L:app" 2>"$T/err1")
check_eq "DIR:TAG runs the image's Entrypoint + Cmd with its Env, WorkingDir and User" \
        "hello from /etc as 1234:4321
from the image" "$out"
check_match "... after unpacking it, which it says" "unpacked image $L:app \(sha256:[0-9a-f]{64}\) into $STATE_DIR/images/sha256-[0-9a-f]{64}/rootfs" "$(cat "$T/err1")"
entry=$(ls -d "$STATE_DIR"/images/sha256-* 2>/dev/null | grep -v '\.lock$')
check_eq "one cache entry, keyed by the manifest digest" 1 "$(echo "$entry" | grep -c .)"
inode=$(stat -c %i "$entry/rootfs" 2>/dev/null)

out=$(srun --rootfs "$L:app" -- /bin/sh -c 'test -e /etc/image-marker && echo image-file; test -e /usr/bin/env || echo no-host-usr; test -e /etc/os-release || echo no-host-etc' 2>&1)
check_eq "the container sees the image's files, not the host's" "image-file no-host-usr no-host-etc" "$(echo $out)"

out=$(srun --rootfs "$L:app" -- /bin/sh -c 'test -e /etc/devnode && echo kept || echo gone' 2>&1)
check_eq "a device node of the image's layers is not kept in its root" "gone" "$out"

# ---- the cached run: no unpack (a umoci that fails is first in PATH) ----
mkdir -p "$T/fakebin"
printf '#!/bin/sh\ntouch %s/fake-umoci-ran\nexit 1\n' "$T" >"$T/fakebin/umoci"
chmod +x "$T/fakebin/umoci"
out=$(PATH=$T/fakebin:$PATH srun --rootfs "oci:$L:app" 2>"$T/err2")
check_eq "a second run of the image works from the cache" "hello from /etc as 1234:4321
from the image" "$out"
check_eq "... without running umoci" "no" "$([ -e "$T/fake-umoci-ran" ] && echo yes || echo no)"
check_nomatch "... and without saying it unpacked" "unpacked" "$(cat "$T/err2")"
check_eq "... on the same cached root" "$inode" "$(stat -c %i "$entry/rootfs" 2>/dev/null)"

# ---- the command line over the image's config ----
out=$(srun --rootfs "$L:app" -e GREETING=bye -w / -u 0:0 -- /bin/sh -c 'echo "$GREETING from $(pwd) as $(id -u):$(id -g)"' 2>&1)
check_eq "a command, --env, --workdir and --user replace the image's" "bye from / as 0:0" "$out"
out=$(srun --rootfs "$L:app" -- /bin/sh -c '(echo x > /f) 2>/dev/null && echo root-writable || echo root-read-only; echo y > /tmp/y && echo tmp-writable' 2>&1)
check_eq "an image's cached root is read-only, /tmp is not" "root-read-only tmp-writable" "$(echo $out)"

# ---- shuttlectl images ----
out=$(sctl images --state-dir "$STATE_DIR" 2>&1)
hex=${entry##*sha256-}
check_eq "images lists the entry by its digest" "sha256:${hex:0:12}" "$(echo "$out" | awk 'NR == 2 { print $1 }')"
check_match "... tag and layout" " no +[0-9T:-]+Z +app +$L\$" "$(echo "$out" | sed -n 2p)"

# ---- errors: the file at fault named, nothing created ----
before=$(cache_files "$STATE_DIR")
check_status "a tag the layout does not have exits 125" 125 srun --name badtag --rootfs "$L:nope"
check_eq "... naming index.json and the tags it has" "shuttlectl: run: --rootfs: $L/index.json: tag 'nope' not found (tags: base, app)" "$(cat "$T/err")"
check_eq "... leaving no container" "" "$(leftovers badtag)"
check_eq "... and nothing in the cache" "$before" "$(cache_files "$STATE_DIR")"

check_status "a layout of two images without a tag exits 125" 125 srun --rootfs "$L" -- /bin/true
check_eq "... asking for DIR:TAG" "shuttlectl: run: --rootfs: $L/index.json: holds 2 images: name one with DIR:TAG (tags: base, app)" "$(cat "$T/err")"

check_status "a missing layout exits 125" 125 srun --name nolayout --rootfs "$T/none:app"
check_eq "... naming it" "shuttlectl: run: --rootfs: '$T/none:app': no such directory or OCI image layout" "$(cat "$T/err")"
check_eq "... leaving no container" "" "$(leftovers nolayout)"

check_status "oci: on a directory that is no layout exits 125" 125 srun --rootfs "oci:$T/fakebin" -- /bin/true
check_eq "... saying what it lacks" "shuttlectl: run: --rootfs: 'oci:$T/fakebin': '$T/fakebin' is not an OCI image layout (it has no oci-layout file)" "$(cat "$T/err")"

check_status "an image with neither Entrypoint nor Cmd, and no command, exits 2" 2 srun --rootfs "$L:base"
check_match "... asking for one" "missing command: the image '$L:base' has neither Entrypoint nor Cmd" "$(cat "$T/err")"
check_eq "... before unpacking it" "$before" "$(cache_files "$STATE_DIR")"

rm -f "$L/index.json.bak"
cp "$L/index.json" "$T/index.json.saved"
echo '{"schemaVersion":2,' >"$L/index.json"
check_status "a broken index.json exits 125" 125 srun --rootfs "$L:app"
check_match "... naming it with line and column" "^shuttlectl: run: --rootfs: $L/index.json:[0-9]+:[0-9]+: not valid JSON" "$(cat "$T/err")"
cp "$T/index.json.saved" "$L/index.json"

# A layer cut short (in a copy, under a new manifest the cache has not
# seen): umoci refuses it; nothing half-unpacked stays.
L2=$T/layout2
cp -a "$L" "$L2"
umoci config --image "$L2:app" --tag broken --config.env BROKEN=1
find "$L2/blobs/sha256" -type f -size +100k -exec truncate -s 50000 {} \;
S2=$T/state2
check_status "a corrupt layer exits 125" 125 "$SHUTTLECTL" run --state-dir "$S2" --isolated --rootfs "$L2:broken"
check_match "... with umoci's reason" "^shuttlectl: run: --rootfs: umoci raw unpack --image $L2:broken failed: .+" "$(cat "$T/err")"
check_eq "... and leaves nothing in the cache" "" "$(cache_files "$S2")"

check_status "without umoci, an image that is not cached exits 125" 125 env PATH="$T/empty" "$SHUTTLECTL" run --state-dir "$S2" --isolated --rootfs "$L:app"
check_eq "... naming the package to install" "shuttlectl: run: --rootfs: umoci is not installed: install the Debian package umoci to run OCI images" "$(cat "$T/err")"

# ---- concurrent first runs of one image: one unpack, one entry ----
S3=$T/state3
for i in 1 2 3; do
        "$SHUTTLECTL" run --state-dir "$S3" --isolated --rootfs "$L:app" >"$T/c$i.out" 2>"$T/c$i.err" &
        pids[$i]=$!
done
st=0
for i in 1 2 3; do wait "${pids[$i]}" || st=1; done
check_eq "three concurrent first runs all succeed" "0 $(printf 'hello from /etc as 1234:4321\nfrom the image')" "$st $(cat "$T/c1.out")"
check_eq "... all with the image's output" "$(cat "$T/c1.out")$(cat "$T/c1.out")" "$(cat "$T/c2.out")$(cat "$T/c3.out")"
check_eq "... one of them unpacking" 1 "$(cat "$T"/c[123].err | grep -c 'unpacked image')"
check_match "... into one entry and its lock, nothing else" "^sha256-[0-9a-f]{64} sha256-[0-9a-f]{64}\.lock $" "$(cache_files "$S3")"

# ---- a layout of one image: no tag needed; same manifest, same key ----
L3=$T/layout3
cp -a "$L" "$L3"
umoci rm --image "$L3:base"
out=$(srun --rootfs "$L3" 2>"$T/err3")
check_eq "a layout's only image runs without a tag" "hello from /etc as 1234:4321
from the image" "$out"
check_nomatch "... from the cache entry of the same manifest" "unpacked" "$(cat "$T/err3")"

# ---- a bundle: its root.path ----
out=$(srun --rootfs "$T/bundle" -- /bin/cat /etc/image-marker 2>&1)
check_eq "a bundle directory runs on its root.path" "from the image" "$out"
check_status "a bundle without a command exits 2" 2 srun --rootfs "$T/bundle"
check_match "... saying its process is not used" "missing command: '$T/bundle' is a bundle \(its process is not used\)" "$(cat "$T/err")"

# ---- an image podman saved (podman only to make it, with storage of
# this test's own; not at run time) ----
if command -v podman >/dev/null 2>&1; then
        P=(podman --root "$T/podman" --runroot "$T/podman-run" --storage-driver vfs)
        mkdir -p "$T/pr/bin"
        cp "$BUSYBOX" "$T/pr/bin/busybox"
        ln -s busybox "$T/pr/bin/sh"
        tar -C "$T/pr" -cf "$T/pr.tar" .
        "${P[@]}" import --change 'CMD ["/bin/sh", "-c", "echo from podman"]' "$T/pr.tar" localhost/shuttle-test:1 >/dev/null 2>&1
        "${P[@]}" save --format oci-dir -o "$T/podman-oci" localhost/shuttle-test:1 >/dev/null 2>&1
        out=$("$SHUTTLECTL" run --state-dir "$T/state4" --isolated --rootfs "$T/podman-oci:localhost/shuttle-test:1" 2>&1 | grep -v unpacked)
        check_eq "an image podman saved as oci-dir runs by its name and tag" "from podman" "$out"
else
        ok "# SKIP podman is not installed"
fi

# ---- images rm: not while in use ----
"${SRUN[@]}" --name user --rootfs "$L:app" -- /bin/sh -c 'touch /tmp/x; sleep 30' &
bg=$!
i=0
while [ "$(sctl images --state-dir "$STATE_DIR" | awk 'NR == 2 { print $2 }')" != yes ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
check_status "images rm refuses an image a running container uses" 1 sctl images rm --state-dir "$STATE_DIR" "${entry##*sha256-}"
check_match "... saying so" "is in use by a running container" "$(cat "$T/err")"
kill $bg 2>/dev/null
wait $bg 2>/dev/null
check_status "images rm removes it once the container has ended" 0 sctl images rm --state-dir "$STATE_DIR" "${entry##*sha256-}"
check_eq "... and nothing of it stays" "" "$(cache_files "$STATE_DIR")"
# ---- run --detach: the image stays in use while shuttle-monitor runs ----
"${SRUN[@]}" --detach --name detached-user --rootfs "$L:app" -- /bin/sh -c 'sleep 30' >/dev/null 2>&1
in_use() { sctl images --state-dir "$STATE_DIR" | awk 'NR == 2 { print $2 }'; }
i=0
while [ "$(in_use)" != yes ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
check_eq "a detached container's image is in use" yes "$(in_use)"
check_status "images rm refuses it while the detached container runs" 1 sctl images rm --state-dir "$STATE_DIR" "${entry##*sha256-}"
sctl stop --state-dir "$STATE_DIR" detached-user >/dev/null 2>&1
i=0
while [ "$(in_use)" != no ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
check_status "... and removes it once the container has stopped" 0 sctl images rm --state-dir "$STATE_DIR" "${entry##*sha256-}"
check_status "images rm --all on an empty cache succeeds" 0 sctl images rm --all --state-dir "$STATE_DIR"
# What a killed unpack leaves (made by hand: killing umoci at the right
# moment is not something a test can time) goes with rm --all.
mkdir -p "$STATE_DIR/images/.unpack-sha256-$hex/rootfs/bin"
touch "$STATE_DIR/images/sha256-$hex.lock"
check_status "images rm --all removes what a killed unpack left" 0 sctl images rm --all --state-dir "$STATE_DIR"
check_eq "... unpack directory and lock" "" "$(cache_files "$STATE_DIR")"

# ---- an app group's rootfs: images relative to the group file ----
start_broker
cat >"$T/g.yaml" <<'YAML'
group: imgs
containers:
  fromimage:
    rootfs: layout:app
  given:
    rootfs: oci:layout:app
    command: ["/bin/sh", "-c", "echo given; cat /etc/image-marker"]
YAML
out=$(timeout 60 "$SHUTTLECTL" run --state-dir "$STATE_DIR" "$T/g.yaml" 2>&1)
check_match "a group container without a command runs its image's" "fromimage +\| hello from /etc as 1234:4321" "$out"
check_match "... one with a command runs that on the image" "given +\| from the image" "$out"
sed -i 's/oci:layout:app/oci:layout:nope/' "$T/g.yaml"
check_status "a group whose image tag is missing does not start" 1 timeout 60 "$SHUTTLECTL" run --state-dir "$STATE_DIR" "$T/g.yaml"
check_match "... naming the group file, the container and the tag" "run: $T/g.yaml: container 'given': rootfs: $L/index.json: tag 'nope' not found" "$(cat "$T/err")"
check_eq "... with nothing of it started" "" "$(leftovers fromimage)"
stop_broker
finish
