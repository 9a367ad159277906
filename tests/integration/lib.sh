# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared helpers for the TAP integration tests.  Each test script sources
# this, calls plan N, then ok/not_ok (or the check helpers).  Tests need
# root and skip (exit 77) without it.

set -u

: "${SHUTTLECTL:=${top_builddir:-.}/shuttlectl}"
TEST_NAME=$(basename "$0" .sh)
# Every test gets its own state directory, so runs never disturb a real
# /run/shuttle nor each other.
STATE_DIR=$(mktemp -d "/tmp/shuttle-it-$TEST_NAME.XXXXXX")
T=$(mktemp -d "/tmp/shuttle-it-$TEST_NAME-work.XXXXXX")
_n=0
_failed=0

cleanup_lib() {
        # No container of a test may outlive it: background runs get
        # SIGTERM (shuttlectl then tears its container down), and SIGKILL
        # only if they are still there after a while.
        local j i=0
        for j in $(jobs -p); do kill -TERM "$j" 2>/dev/null; done
        while [ -n "$(jobs -pr)" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
        for j in $(jobs -pr); do kill -KILL "$j" 2>/dev/null; done
        wait 2>/dev/null
        # What a killed run left (cgroups, state) is removed by the next
        # start in the same state directory: make that start.
        if [ -d "$STATE_DIR/containers" ] && [ -n "$(ls -A "$STATE_DIR/containers" 2>/dev/null)" ]; then
                "$SHUTTLECTL" run --state-dir "$STATE_DIR" --isolated --name cleanup -- true >/dev/null 2>&1
        fi
        rm -rf "$T" "$STATE_DIR"
}
trap cleanup_lib EXIT

require_root() {
        if [ "$(id -u)" != 0 ]; then
                echo "1..0 # SKIP integration tests need root"
                exit 77
        fi
}

plan() { echo "1..$1"; }

ok() {
        _n=$((_n + 1))
        echo "ok $_n - $*"
}

not_ok() {
        _n=$((_n + 1))
        _failed=$((_failed + 1))
        echo "not ok $_n - $*"
}

diag() { printf '# %s\n' "$@" | sed 's/^/# /;s/^# # /# /'; }

# sctl ARGS...: shuttlectl with this test's state directory.
sctl() { "$SHUTTLECTL" "$@"; }
# Runtime tests run containers --isolated (no broker, no notice about it);
# start_broker switches to registering with it.
SRUN=("$SHUTTLECTL" run --state-dir "$STATE_DIR" --isolated)
srun() { "${SRUN[@]}" "$@"; }
# For background runs, so that $! is shuttlectl itself, not a subshell:
#   "${SRUN[@]}" --name x -- cmd &

# check DESCRIPTION EXPECTED ACTUAL
check_eq() {
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "expected: $2" "actual:   $3"; return 1; fi
}

# check_match DESCRIPTION REGEX ACTUAL
check_match() {
        if printf '%s\n' "$3" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1"; diag "expected to match: $2" "actual: $3"; fi
}

check_nomatch() {
        if printf '%s\n' "$3" | grep -Eq -- "$2"; then not_ok "$1"; diag "expected not to match: $2" "actual: $3"; else ok "$1"; fi
}

# check_status DESCRIPTION EXPECTED_STATUS CMD...
check_status() {
        local desc=$1 want=$2 got
        shift 2
        "$@" >"$T/out" 2>"$T/err"
        got=$?
        if [ "$got" = "$want" ]; then ok "$desc"; else
                not_ok "$desc"
                diag "expected exit $want, got $got" "stdout: $(head -c 600 "$T/out")" "stderr: $(head -c 600 "$T/err")"
        fi
}

# Wait until FILE exists (up to ~20 s: a loaded CI machine is slow).
wait_for_file() {
        local i=0
        while [ ! -e "$1" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
        [ -e "$1" ]
}

# The init pid of a running container, from its state file.
container_init_pid() {
        local f="$STATE_DIR/containers/$1/state.json" i=0
        while [ $i -lt 400 ]; do
                if [ -f "$f" ]; then
                        local p
                        p=$(sed -n 's/.*"init_pid":\([0-9]*\).*/\1/p' "$f")
                        if [ -n "$p" ] && [ "$p" != 0 ]; then echo "$p"; return 0; fi
                fi
                sleep 0.05
                i=$((i + 1))
        done
        return 1
}

# The host path of a container's cgroup for CONTROLLER (v1) or the unified
# one, from its init's /proc/PID/cgroup.
cgroup_dir_of_pid() {
        local pid=$1 ctrl=$2 path
        path=$(awk -F: -v c="$ctrl" '$2 ~ "(^|,)"c"(,|$)" {print $3}' "/proc/$pid/cgroup")
        if [ -n "$path" ]; then echo "/sys/fs/cgroup/$ctrl$path"; return; fi
        path=$(awk -F: '$1 == "0" {print $3}' "/proc/$pid/cgroup")
        echo "/sys/fs/cgroup$path"
}

# Anything a container named NAME could have left behind.
leftovers() {
        local name=$1
        find /sys/fs/cgroup -maxdepth 6 -type d \( -name "$name" -o -name "$name.*" \) -path "*shuttle*" 2>/dev/null
        grep -E " [^ ]*/containers/$name(/[^ ]*)? " /proc/self/mountinfo 2>/dev/null
        ls -d "$STATE_DIR/containers/$name" 2>/dev/null
}

# Mount points on the host, one a line, for mounts_left.
# alive_in_pidns NS: the pids alive in pid namespace NS (the readlink of
# a /proc/PID/ns/pid), one a line; a zombie waiting for whoever adopted it
# does not count.  Only the namespace a test's container had is looked at:
# other processes of the host are not a test's business.
alive_in_pidns() {
        local p st
        for p in /proc/[0-9]*; do
                [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$1" ] || continue
                st=$(awk '/^State:/ {print $2}' "$p/status" 2>/dev/null)
                [ -n "$st" ] && [ "$st" != Z ] && echo "${p#/proc/}"
        done
}

mount_points() { awk '{ print $5 }' /proc/self/mountinfo | sort; }

# mounts_left BEFORE_FILE: the host mount points that are new since
# BEFORE_FILE (saved with mount_points) and belong to this test: under its
# state or work directory, or a path of Shuttle's.  Other processes may
# mount and unmount at any time on a shared machine: counting the whole
# table would blame us for them.
mounts_left() {
        mount_points | comm -13 "$1" - | grep -E -e "^($STATE_DIR|$T)(/|$)" -e shuttle
}

finish() {
        if [ "$_failed" -gt 0 ]; then exit 1; fi
        exit 0
}

# ---- broker helpers ----
AUDIT_LOG=$T/audit.jsonl
HELPERS=${top_builddir:-.}/tests/helpers
SHUTTLED=${SHUTTLED:-${top_builddir:-.}/shuttled}
BROKER_PID=

# start_broker [shuttled options...]: a broker on this test's state dir.
# policy_a_uses_kv: the broker tests' policy on stdout: a may use b's kv,
# nothing else, everything audited.
policy_a_uses_kv() {
        cat <<'YAML'
version: 1
default: deny
audit: all
rules:
  - id: a-uses-kv
    from: a
    to: b
    allow: ipc
    endpoint: kv
YAML
}

start_broker() {
        SRUN=("$SHUTTLECTL" run --state-dir "$STATE_DIR")
        "$SHUTTLED" --foreground --state-dir "$STATE_DIR" --audit-log "$AUDIT_LOG" "$@" 2>>"$T/shuttled.log" &
        BROKER_PID=$!
        # Ready once it answers (a control.sock left by a killed broker is a
        # file, not a broker).
        local i=0
        until broker_answers; do
                kill -0 "$BROKER_PID" 2>/dev/null || { cat "$T/shuttled.log" >&2; return 1; }
                [ $i -ge 400 ] && return 1
                sleep 0.05; i=$((i + 1))
        done
}
broker_answers() { "$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR" >/dev/null 2>&1; }

# reload_broker: SIGHUP, then wait until the broker has dealt with it
# (applied or refused).
reload_broker() {
        local before
        before=$(grep -c "Policy reload" "$T/shuttled.log" 2>/dev/null)
        kill -HUP "$BROKER_PID"
        wait_until sh -c "[ \$(grep -c 'Policy reload' '$T/shuttled.log') -gt ${before:-0} ]"
}

stop_broker() {
        [ -n "$BROKER_PID" ] || return 0
        kill -TERM "$BROKER_PID" 2>/dev/null
        wait "$BROKER_PID" 2>/dev/null
        BROKER_PID=
}

# wait_until CMD...: retry for up to ~20 s.
wait_until() {
        local i=0
        until "$@" >/dev/null 2>&1; do
                [ $i -ge 400 ] && return 1
                sleep 0.05; i=$((i + 1))
        done
}

# wait_for 'TEST': the same for a shell test evaluated afresh each time, for
# tests on the output of a function ("wait_until test "$(f)" = x" would
# run f once, before the first try, and never poll).
wait_for() {
        local i=0
        until eval "$1" >/dev/null 2>&1; do
                [ $i -ge 400 ] && return 1
                sleep 0.05; i=$((i + 1))
        done
}

# ---- app groups ----

# run_group_until DIR ERE [SECONDS]: runs the app group DIR/group.yaml (its
# output in DIR.out, SECONDS at most, 60 by default) until a line of its
# output matches ERE (~20 s at most), then stops it.
run_group_until() {
        timeout "${3:-60}" "$SHUTTLECTL" run --state-dir "$STATE_DIR" -f "$1/group.yaml" >"$1.out" 2>&1 &
        local gpid=$!
        wait_until grep -Eq -- "$2" "$1.out"
        kill -TERM "$gpid" 2>/dev/null; wait "$gpid" 2>/dev/null
}

# group_lines ERE FILE: the lines of a group's output FILE that match ERE,
# sorted, "name   |" squeezed to "name |", on one line.
group_lines() {
        grep -E -- "$1" "$2" | LC_ALL=C sort | sed 's/  *|/ |/' | tr '\n' ' '
}

# The audit records (JSON lines) matching a grep -E pattern.
audit_grep() { grep -E -- "$1" "$AUDIT_LOG" 2>/dev/null; }

# Asks (`ask:` rules).  ask_line FROM OBJECT: FROM's pending ask for
# OBJECT, as `shuttlectl ask ls` prints it (empty if none).
ask_line() { sctl ask ls --state-dir "$STATE_DIR" | awk -v f="$1" -v o="$2" '$2 == f && $5 == o'; }
has_ask() { [ -n "$(ask_line "$1" "$2")" ]; }
# svc_connect NAME SERVICE: NAME, a running container with the build
# directory at /opt/b, sends "hi" to SERVICE through the broker; what came
# back (or the error).  svc_connect_bg NAME SERVICE OUT: the same in the
# background, into OUT.
svc_connect() { "$SHUTTLECTL" exec --state-dir "$STATE_DIR" "$1" -- sh -c "echo hi | timeout 10 /opt/b/shuttle-connect $2" 2>&1; }
svc_connect_bg() { svc_connect "$1" "$2" >"$3" 2>&1 & }
# ask_grant NAME SERVICE DURATION: NAME asks for SERVICE, the operator
# allows it for DURATION (`ask allow --for`); prints the grant's id once
# NAME's request has its answer.
ask_grant() {
        local id
        svc_connect_bg "$1" "$2" "$T/grant-$1-$2.out"
        wait_until has_ask "$1" "$2"
        id=$(ask_line "$1" "$2" | awk '{ print $1 }')
        sctl ask allow "$id" --for "$3" --state-dir "$STATE_DIR" | sed -n 's/.*grant \([0-9]*\) for.*/\1/p'
        wait_until grep -q . "$T/grant-$1-$2.out"
}

# OCI tests: shuttle-oci (SHUTTLE_OCI or the build's), a static busybox for
# the bundles' roots (else the test is skipped), a --root of the test's own
# (ROOT), oci() calling shuttle-oci on it, and every container left there
# deleted (killed) before lib.sh removes the work directory.
oci_setup() {
        OCI=${SHUTTLE_OCI:-${top_builddir:-.}/shuttle-oci}
        BUSYBOX=$(command -v busybox 2>/dev/null)
        if [ -z "$BUSYBOX" ] || ! ldd "$BUSYBOX" 2>&1 | grep -q "not a dynamic"; then
                echo "1..0 # SKIP needs a static busybox (busybox-static)"
                exit 77
        fi
        ROOT=$T/oci-root
        trap oci_cleanup EXIT
}
oci() { "$OCI" --root "$ROOT" "$@"; }
oci_cleanup() {
        local d
        for d in "$ROOT"/*; do [ -d "$d" ] && oci delete --force "$(basename "$d")" >/dev/null 2>&1; done
        cleanup_lib
}

# The broker's open descriptors (BROKER_PID), and a check that it holds no
# more than BEFORE: fewer is fine (an earlier container's handles may go
# meanwhile).  Waits (bounded) for what a finished request held to go.
broker_fds() { ls "/proc/$BROKER_PID/fd" | wc -l; }
broker_fds_at_most() { [ "$(broker_fds)" -le "$1" ]; }
check_broker_fds_at_most() {
        local desc=$1 before=$2 now
        wait_until broker_fds_at_most "$before"
        now=$(broker_fds)
        check_eq "$desc" "yes" "$([ "$now" -le "$before" ] && echo yes || echo "no: $now after, $before before")"
}

# oci_host_bundle DIR ARGS-JSON ANNOTATIONS-JSON [VAR=VALUE...]: a bundle
# whose root has the host's /usr (read-only) as its programs, the test
# helpers at /opt/t and the build at /opt/b, its own /tmp and hostname (DIR's
# name), in new pid, network, ipc, uts and mount namespaces; its process
# runs ARGS with PATH and the VAR=VALUEs as its environment.
oci_host_bundle() {
        local dir=$1 args=$2 ann=$3 env='"PATH=/usr/bin:/bin"' v
        shift 3
        for v in "$@"; do env+=", \"$v\""; done
        mkdir -p "$dir/rootfs/usr" "$dir/rootfs/opt/t" "$dir/rootfs/opt/b" "$dir/rootfs/run" "$dir/rootfs/tmp"
        for v in bin lib lib64 sbin; do ln -sfn "usr/$v" "$dir/rootfs/$v"; done
        cat > "$dir/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": { "user": { "uid": 0, "gid": 0 }, "args": $args, "env": [ $env ], "cwd": "/" },
  "root": { "path": "rootfs" },
  "hostname": "$(basename "$dir")",
  "annotations": $ann,
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs" },
    { "destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"] },
    { "destination": "/opt/t", "type": "bind", "source": "$(cd "$HELPERS" && pwd)", "options": ["rbind", "ro"] },
    { "destination": "/opt/b", "type": "bind", "source": "$(cd "${top_builddir:-.}" && pwd)", "options": ["rbind", "ro"] }
  ],
  "linux": { "namespaces": [ { "type": "pid" }, { "type": "network" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" } ] }
}
JSON
}

# oci_bundle DIR TERMINAL ARGS-JSON [EXTRA-JSON-KEYS]: a bundle on a busybox
# root, the container keeping only CAP_KILL, its /shared bound from DIR/shared.
oci_bundle() {
        local dir=$1 term=$2 args=$3 extra=${4:-}
        mkdir -p "$dir/rootfs/bin" "$dir/rootfs/shared"
        cp "$BUSYBOX" "$dir/rootfs/bin/busybox"
        for c in sh cat sleep echo touch tty id hostname ls; do ln -sf busybox "$dir/rootfs/bin/$c"; done
        cat > "$dir/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": $term,
    "user": { "uid": 0, "gid": 0 },
    "args": $args,
    "env": [ "PATH=/bin", "TERM=xterm" ],
    "cwd": "/",
    "capabilities": { "bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"] },
    "noNewPrivileges": true
  },
  "root": { "path": "rootfs" },
  "hostname": "ocitest",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] },
    { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] },
    { "destination": "/shared", "type": "bind", "source": "$dir/shared", "options": ["rbind", "rw"] }
  ],
  "linux": {
    "namespaces": [ { "type": "pid" }, { "type": "network" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" } ],
    "resources": { "memory": { "limit": 67108864 }, "pids": { "limit": 77 } },
    "maskedPaths": [ "/proc/kcore" ],
    "readonlyPaths": [ "/proc/sys" ]
    $extra
  }
}
JSON
        mkdir -p "$dir/shared"
}

# The status and a field of a container's state (oci state).
oci_status() { oci state "$1" 2>/dev/null | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p'; }
oci_field() { oci state "$1" 2>/dev/null | sed -n "s/.*\"$2\": \"\\{0,1\\}\\([^\",]*\\).*/\\1/p"; }
