#!/bin/sh
# Sets up a fresh Debian 12 machine and runs the example, as root: installs
# the Debian packages, builds Shuttle, and runs an isolated container on the
# built-in `host` rootfs, showing what it sees from the inside.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

"$top/scripts/install-deps.sh"
BUILD_DIR=$top/build "$top/scripts/build.sh"

exec "$top/build/shuttlectl" run --name demo --hostname demo --memory 64M --pids 64 --cpus 0.5 -- \
        sh -c '
echo "== inside container $(hostname), as $(id -un), pid $$"
echo "-- processes:"; ps -e -o pid,comm
echo "-- network interfaces:"; ls /sys/class/net
echo "-- root filesystem:"; awk "\$5 == \"/\"" /proc/self/mountinfo
echo "-- privileges:"; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status
echo "-- can it write /usr?"; touch /usr/x 2>&1 || true
echo "-- can it create a user namespace?"; unshare -U true 2>&1 || true
echo "-- cgroup as seen inside:"; cat /proc/self/cgroup | head -3
'
