#!/bin/bash
# The container's filesystem: pivot_root into a private root, host files
# invisible, read-only binds, masked and read-only kernel paths, /dev,
# nothing propagating to the host.
. "$(dirname "$0")/lib.sh"
require_root
plan 25

marker=$(mktemp /var/tmp/shuttle-marker.XXXXXX)
trap 'rm -f "$marker"; cleanup_lib' EXIT
mount_points >"$T/mounts-before"

out=$(srun -- sh -c "test -e $marker && echo visible || echo invisible" 2>&1)
check_eq "host files outside the rootfs are invisible" "invisible" "$out"
out=$(srun -- sh -c 'test -e /etc/shadow && echo yes || echo no' 2>&1)
check_eq "/etc/shadow is not taken from the host" "no" "$out"
out=$(srun -- awk '$5 == "/" { for (i = 7; i <= NF; i++) if ($i == "-") print $(i + 1) }' /proc/self/mountinfo 2>&1)
check_eq "the root is a private tmpfs (pivot_root, not chroot)" "tmpfs" "$out"
out=$(srun -- sh -c 'grep -c " / / " /proc/self/mountinfo' 2>&1)
check_eq "exactly one root mount: the old root is detached" "1" "$out"
out=$(srun -- cat /etc/passwd 2>&1 | head -1)
check_eq "the host's /etc/passwd is there" "$(head -1 /etc/passwd)" "$out"

out=$(srun -- sh -c 'touch /usr/x 2>/dev/null; echo $?' 2>&1)
check_eq "/usr is read-only" "1" "$out"
out=$(srun -- sh -c 'touch /etc/passwd 2>/dev/null; echo $?' 2>&1)
check_eq "/etc/passwd is read-only" "1" "$out"
out=$(srun -- sh -c 'mkdir /newdir 2>/dev/null; echo $?' 2>&1)
check_eq "the root itself is read-only" "1" "$out"
out=$(srun -- sh -c 'for d in /tmp /run /var/tmp /home /root /dev/shm; do echo x > $d/f && rm $d/f || echo "fail $d"; done; echo done' 2>&1)
check_eq "/tmp /run /var/tmp /home /root /dev/shm are writable" "done" "$out"
out=$(srun -- sh -c '(echo 1 > /proc/sys/kernel/domainname) 2>/dev/null && echo writable || echo refused' 2>&1)
check_eq "/proc/sys is read-only" "refused" "$out"
# Not every kernel has these (this one may lack kcore and sysrq-trigger).
if [ -e /proc/sysrq-trigger ]; then
        out=$(srun -- sh -c '(echo h > /proc/sysrq-trigger) 2>/dev/null && echo writable || echo refused' 2>&1)
        check_eq "/proc/sysrq-trigger is read-only" "refused" "$out"
else
        out=$(srun -- awk '$5 == "/proc/irq" {print substr($6, 1, 2)}' /proc/self/mountinfo 2>&1)
        check_eq "/proc/irq is read-only (no /proc/sysrq-trigger on this kernel)" "ro" "$out"
fi
if [ -e /proc/kcore ]; then
        out=$(srun -- sh -c 'wc -c < /proc/kcore' 2>&1)
        check_eq "/proc/kcore is masked" "0" "$out"
else
        out=$(srun -- sh -c 'wc -c < /proc/timer_list' 2>&1)
        check_eq "/proc/timer_list is masked (no /proc/kcore on this kernel)" "0" "$out"
fi
out=$(srun -- sh -c 'cat /proc/keys | wc -c' 2>&1)
check_eq "/proc/keys is masked" "0" "$out"
out=$(srun -- sh -c 'ls -A /sys/firmware | wc -l' 2>&1)
check_eq "/sys/firmware is masked" "0" "$out"
out=$(srun -- sh -c 'touch /sys/x 2>/dev/null; echo $?; awk "\$5 == \"/sys\" {print \$6}" /proc/self/mountinfo | cut -c1-2' 2>&1 | tr '\n' ' ')
check_eq "/sys is read-only" "1 ro " "$out"

# Each mount's own flags, as mountinfo shows them (field 6): whatever way
# the mounts are made, none may lose one.  Prints the mounts that lack what
# they must have; nothing when all is well.
flags_rule='
function need(want,   n, a, i) {
        n = split(want, a, ",")
        for (i = 1; i <= n; i++)
                if (index("," $6 ",", "," a[i] ",") == 0) { print $5, $6, "lacks", a[i]; return }
}
$5 == "/usr" || $5 ~ /^\/etc\// { host++; need("ro,nosuid,nodev") }
$5 == "/" { need("ro,nosuid,nodev") }
$5 == "/proc" || $5 == "/dev/shm" || $5 == "/dev/mqueue" { need("nosuid,nodev,noexec") }
$5 == "/sys" { need("ro,nosuid,nodev,noexec") }
$5 ~ /^\/dev\/(null|zero|full|random|urandom|tty)$/ { dev++; need("nosuid,noexec") }
$5 ~ /^\/proc\/(bus|fs|irq|sys|sysrq-trigger|acpi|keys|timer_list|kcore|latency_stats|timer_stats|sched_debug|scsi|asound)$/ ||
$5 == "/sys/firmware" { masked++; need("ro,nosuid") }
$5 ~ /^\/run\/shuttle/ { need("ro,nosuid,nodev") }
END { print "host binds:", host + 0, "devices:", dev + 0, "masked or read-only:", masked + 0 }'
flags_ok="^host binds: [1-9][0-9]* devices: 6 masked or read-only: [1-9][0-9]* $"
out=$(srun -- awk "$flags_rule" /proc/self/mountinfo 2>&1 | tr '\n' ' ')
check_match "every host bind, kernel file system, device and mask has its flags" "$flags_ok" "$out"
out=$(srun --isolated -- awk "$flags_rule" /proc/self/mountinfo 2>&1 | tr '\n' ' ')
check_match "... with --isolated too" "$flags_ok" "$out"
out=$(srun -- sh -c 'for f in /etc/*; do [ -L "$f" ] || grep -q " $f " /proc/self/mountinfo || echo "$f"; done' 2>&1)
check_eq "every /etc entry but a symlink is a bind of the host's (none made in the root)" "" "$out"

out=$(srun -- sh -c 'ls /dev | tr "\n" " "' 2>&1)
check_eq "a minimal /dev" "core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero " "$out"
out=$(srun -- sh -c 'head -c 4 /dev/zero | od -An -tx1; echo x > /dev/null && echo null-ok' 2>&1 | tr -s ' \n' ' ')
check_eq "device nodes work" " 00 00 00 00 null-ok " "$out"
out=$(srun -- sh -c 'echo hi > /dev/stdout' 2>&1)
check_eq "/dev/stdout links to fd 1" "hi" "$out"
out=$(srun -- sh -c 'mknod /tmp/sda b 8 0 2>&1; echo $?' 2>&1 | tail -1)
check_eq "no new device nodes (no CAP_MKNOD)" "1" "$out"

# --read-only on a rootfs directory; --rootfs DIR.
root=$T/rootfs
mkdir -p "$root/bin"
cp "$(command -v busybox)" "$root/bin/busybox" 2>/dev/null
if [ -x "$root/bin/busybox" ]; then
        out=$(srun --rootfs "$root" -- /bin/busybox sh -c 'echo x > /f && /bin/busybox cat /f' 2>&1)
        check_eq "--rootfs DIR runs from a directory tree" "x" "$out"
        out=$(srun --rootfs "$root" --read-only -- /bin/busybox sh -c '(echo x > /g) 2>/dev/null && echo writable || echo refused; echo y > /tmp/y && echo tmp-ok' 2>&1 | tr '\n' ' ')
        check_eq "--read-only makes the rootfs read-only, /tmp stays writable" "refused tmp-ok " "$out"
        rm -f "$root/f"
else
        ok "# SKIP busybox-static not installed"
        ok "# SKIP busybox-static not installed"
fi
check_eq "nothing propagated to the host's mount table" "" "$(mounts_left "$T/mounts-before")"
finish
