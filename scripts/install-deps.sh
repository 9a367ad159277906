#!/bin/sh
# Installs the Debian 12 packages Shuttle needs to build, test and run.
# Usage: scripts/install-deps.sh [--bench]   (as root)
set -eu

# graphviz: dot, which `shuttlectl audit graph` runs for SVG and PNG (not
# linked; the rest works without it, its tests skip those parts).
# containerd (with ctr and the runc v2 shim) and python3-yaml: only for
# tests/integration/oci-containerd.sh (the Kubernetes path through a
# private containerd; the examples' YAML parsed), which skips without
# containerd.
# umoci: unpacks OCI image layouts for `shuttlectl run --rootfs IMAGE` (run,
# not linked; tests/integration/run-image.sh builds its image with it).
# podman: tests/integration/oci-podman.sh drives shuttle-oci through it
# (offline, a private storage root; the test skips without it).
# musl-tools: musl-gcc, to link shuttle-monitor (beside every detached
# container) small; without it, glibc's static libc (about 12x the RSS).
packages="
 build-essential autoconf automake libtool pkg-config
 libcap-dev libseccomp-dev libmnl-dev libnl-3-dev libnl-route-3-dev
 libyaml-dev libjansson-dev libssl-dev libcmocka-dev
 procps util-linux iproute2 busybox-static strace
 graphviz umoci musl-tools
 containerd python3-yaml podman
"
# Only for `make bench`: the reference tools it compares against.
bench_packages="hyperfine bubblewrap crun runc"

if [ "${1:-}" = "--bench" ]; then
        packages="$packages $bench_packages"
fi

if [ "$(id -u)" != 0 ]; then
        echo "install-deps: run as root (apt-get install needs it)" >&2
        exit 1
fi

missing=""
for p in $packages; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
        echo "install-deps: installing$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $missing
fi
