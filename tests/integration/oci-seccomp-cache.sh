#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shuttle-oci's cache of compiled seccomp profiles (docs/OCI.md): a bundle's
# profile behaves the same on the first create (compiled, then written to
# <root>/.seccomp-cache/) and the next (read from there): a denied call gets
# the profile's errno, a call denied for one argument works with another,
# allowed calls work.  Another shuttle-oci executable (an update) does not
# take the entries of this one.  A corrupted entry is compiled again and rewritten as
# it was; a cache directory others can write is not used (a warning) and
# the container still gets its filter; podman's own profile runs from the
# cache too.
. "$(dirname "$0")/lib.sh"
require_root

oci_setup
CACHE=$ROOT/.seccomp-cache
FIXTURES=${top_srcdir:-$(dirname "$0")/../..}/tests/unit/oci

# make_bundle DIR SECCOMP-JSON
make_bundle() {
        local dir=$1 seccomp=$2
        mkdir -p "$dir/rootfs/bin" "$dir/rootfs/tmp"
        cp "$BUSYBOX" "$dir/rootfs/bin/busybox"
        ln -sf busybox "$dir/rootfs/bin/sh"
        cat > "$dir/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "user": { "uid": 0, "gid": 0 },
    "args": [ "sh", "-c", "busybox hostname other; busybox kill -USR1 \$\$; busybox kill -0 \$\$ && echo kill0-works; busybox mkdir /tmp/d && echo mkdir-works" ],
    "env": [ "PATH=/bin" ],
    "cwd": "/",
    "capabilities": { "bounding": ["CAP_KILL", "CAP_SYS_ADMIN"], "effective": ["CAP_KILL", "CAP_SYS_ADMIN"], "permitted": ["CAP_KILL", "CAP_SYS_ADMIN"] },
    "noNewPrivileges": true
  },
  "root": { "path": "rootfs" },
  "hostname": "ocitest",
  "mounts": [ { "destination": "/proc", "type": "proc", "source": "proc" },
              { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs" } ],
  "linux": {
    "namespaces": [ { "type": "pid" }, { "type": "uts" }, { "type": "mount" }, { "type": "ipc" } ],
    "seccomp": $seccomp
  }
}
JSON
}

# sethostname refused with EXDEV; kill with SIGUSR1 (10) refused with EDOM,
# other signals allowed.
PROFILE='{ "defaultAction": "SCMP_ACT_ALLOW",
  "architectures": [ "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32" ],
  "syscalls": [
    { "names": [ "sethostname" ], "action": "SCMP_ACT_ERRNO", "errnoRet": 18 },
    { "names": [ "kill" ], "action": "SCMP_ACT_ERRNO", "errnoRet": 33,
      "args": [ { "index": 1, "value": 10, "op": "SCMP_CMP_EQ" } ] } ] }'

# run NAME: runs bundle $B in the foreground; stdout in $T/NAME.out,
# stderr (the container's, and shuttle-oci's --debug lines) in $T/NAME.err.
run() {
        "$OCI" --root "$ROOT" --debug run --bundle "$B" "$1" >"$T/$1.out" 2>"$T/$1.err"
        echo $? >"$T/$1.status"
}
entries() { ls "$CACHE" 2>/dev/null | grep -c '^[0-9a-f]\{64\}\.bpf$'; }
behaved() {
        local out
        out=$(cat "$T/$1.out" "$T/$1.err")
        check_match "$2: sethostname gets the profile's errno (EXDEV)" "hostname: .*(Invalid cross-device link|cross-device)" "$out"
        check_match "$2: kill -USR1 gets EDOM (an argument condition)" "kill: .*(Numerical argument out of domain|out of domain)" "$out"
        check_match "$2: kill -0, another value of that argument, works" "^kill0-works$" "$out"
        check_match "$2: an allowed call works" "^mkdir-works$" "$out"
}

plan 30

B=$T/b
make_bundle "$B" "$PROFILE"

# ---- first create: compiled, written ----
run c1
behaved c1 "first run (compiled)"
check_match "first run: compiled and cached" "seccomp profile compiled and cached" "$(cat "$T/c1.err")"
check_eq "one entry in the cache" 1 "$(entries)"
ENTRY=$(ls "$CACHE"/*.bpf 2>/dev/null | head -n 1)
check_eq "the cache directory is 0700 root" "700 0" "$(stat -c '%a %u' "$CACHE" 2>/dev/null)"
check_eq "the entry is 0600 root" "600 0" "$(stat -c '%a %u' "$ENTRY" 2>/dev/null)"
cp "$ENTRY" "$T/entry.good" 2>/dev/null

# ---- second create: read from the cache, same behaviour ----
run c2
behaved c2 "second run (cached)"
check_match "second run: read from the cache" "seccomp profile read from the cache" "$(cat "$T/c2.err")"
check_eq "both runs print the same" "$(cat "$T/c1.out"; grep -v '^shuttle-oci:' "$T/c1.err")" \
        "$(cat "$T/c2.out"; grep -v '^shuttle-oci:' "$T/c2.err")"

# ---- another shuttle-oci (an update: another file): its own entry ----
cp "$OCI" "$T/shuttle-oci-updated"
"$T/shuttle-oci-updated" --root "$ROOT" --debug run --bundle "$B" u1 >"$T/u1.out" 2>"$T/u1.err"
check_match "an updated shuttle-oci compiles the profile anew" "seccomp profile compiled and cached" "$(cat "$T/u1.err")"
check_eq "... into an entry of its own" 2 "$(entries)"
rm -f "$CACHE"/*.bpf
cp "$T/entry.good" "$ENTRY"

# ---- a corrupted entry: compiled again, rewritten ----
size=$(stat -c %s "$ENTRY")
printf '\377\377\377\377' | dd of="$ENTRY" bs=1 seek=$((size - 12)) conv=notrunc status=none
run c3
behaved c3 "corrupted entry"
check_match "corrupted entry: compiled again" "a bad cache entry replaced" "$(cat "$T/c3.err")"
if cmp -s "$ENTRY" "$T/entry.good"; then ok "the entry is rewritten as it was"; else not_ok "the entry is rewritten as it was"; fi

# ---- a cache directory others may write: not used, the filter still there ----
chmod 0777 "$CACHE"
rm -f "$ENTRY"
run c4
behaved c4 "unsafe cache directory"
check_match "unsafe cache directory: a warning names it" "$CACHE: not a directory of ours" "$(cat "$T/c4.err")"
check_eq "nothing written into it" 0 "$(entries)"
chmod 0700 "$CACHE"

# ---- podman's own profile (podman 4.3.1's config.json): cached, runs ----
PODMAN=$T/podman
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["linux"]["seccomp"]))' \
        "$FIXTURES/podman-4.3.json" >"$T/podman-seccomp.json"
make_bundle "$PODMAN" "$(cat "$T/podman-seccomp.json")"
B=$PODMAN
run p1
run p2
check_match "podman's profile, cached: the second run reads it" "seccomp profile read from the cache" "$(cat "$T/p2.err")"
check_eq "podman's profile: both runs exit alike" "$(cat "$T/p1.status") $(cat "$T/p1.out")" "$(cat "$T/p2.status") $(cat "$T/p2.out")"

finish
