#!/bin/bash
# Capabilities, no_new_privs, seccomp, users.
. "$(dirname "$0")/lib.sh"
require_root
plan 19

capeff() { srun "$@" -- awk '/^CapEff/ {print $2}' /proc/self/status 2>&1; }
capbnd() { srun "$@" -- awk '/^CapBnd/ {print $2}' /proc/self/status 2>&1; }

# Default: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
# NET_BIND_SERVICE SYS_CHROOT SETFCAP (see docs/SANDBOX.md).
default=$(capeff)
check_eq "default effective capabilities" "00000000800405fb" "$default"
check_eq "the bounding set is the same" "$default" "$(capbnd)"
check_eq "--cap-add NET_ADMIN adds bit 12" "00000000800415fb" "$(capeff --cap-add NET_ADMIN)"
check_eq "--cap-drop CHOWN removes bit 0" "00000000800405fa" "$(capeff --cap-drop CHOWN)"
check_eq "--cap-drop ALL leaves nothing" "0000000000000000" "$(capbnd --cap-drop ALL)"

out=$(srun -- awk '/^NoNewPrivs/ {print $2}' /proc/self/status 2>&1)
check_eq "no_new_privs is set" "1" "$out"
out=$(srun -- awk '/^Seccomp:/ {print $2}' /proc/self/status 2>&1)
check_eq "a seccomp filter is loaded" "2" "$out"
out=$(srun -- unshare -U true 2>&1)
check_match "new user namespaces are refused" "Operation not permitted" "$out"
out=$(srun --cap-add SYS_ADMIN -- mount -t tmpfs none /mnt 2>&1)
check_match "mount is refused even with CAP_SYS_ADMIN" "permission denied|not permitted" "$out"
out=$(srun -- unshare -u true 2>&1; echo "rc=$?")
check_match "no CAP_SYS_ADMIN by default: no new uts namespace" "rc=1" "$out"
out=$(srun --cap-add SYS_ADMIN -- unshare -u true 2>&1; echo "rc=$?")
check_match "other namespaces are allowed with --cap-add SYS_ADMIN" "rc=0" "$out"
out=$(srun -- sh -c 'test -e /proc/self/fd/7 && echo leaked || echo closed' 7</etc/hostname 2>&1)
check_eq "descriptors the caller had open beyond stdio do not leak in" "closed" "$out"
out=$(srun -- awk '/^CapEff/ {print $2}' /proc/1/status 2>&1)
check_eq "the container's init keeps only CAP_KILL (to forward signals to any user)" "0000000000000020" "$out"
out=$(srun -- sh -c 'kill -0 1 && echo can-signal-init' 2>&1)
check_eq "the command can see its init" "can-signal-init" "$out"

out=$(srun --user 4242:4243 -- id 2>&1)
check_eq "--user sets uid and gid, no supplementary groups" "uid=4242 gid=4243 groups=4243" "$out"
check_eq "a non-root user has no effective capabilities" "0000000000000000" "$(capeff --user 4242)"
out=$(srun --user 4242 -- sh -c '(touch /root/x) 2>/dev/null && echo writable || echo refused' 2>&1)
check_eq "a non-root user cannot write root's home" "refused" "$out"
out=$(srun --ulimit nofile=64:128 -- sh -c 'ulimit -n; ulimit -Hn' 2>&1 | tr '\n' ' ')
check_eq "--ulimit sets soft and hard limits" "64 128 " "$out"
hard=$(ulimit -Hn)
out=$(srun --ulimit nofile=$((hard + 1)) -- true 2>&1)
mycaps=$(awk '/^CapEff/ {print $2}' /proc/self/status)
if [ $(( (0x$mycaps >> 24) & 1 )) = 1 ]; then
        ok "# SKIP we hold CAP_SYS_RESOURCE"
else
        check_match "raising a hard limit says why it fails" "ulimit nofile: cannot raise the hard limit" "$out"
fi
finish
