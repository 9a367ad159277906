#!/bin/bash
# The default seccomp profile, call by call (docs/SANDBOX.md, "Seccomp"):
# an allow list; calls that need a capability only with it; some calls only
# with some arguments; known refused calls EPERM, unknown ones ENOSYS.
# tests/helpers/syscalls makes each raw call in the container and prints
# its errno.
. "$(dirname "$0")/lib.sh"
require_root
plan 16

H=/run/helpers
HOSTH=$(cd "$HELPERS" && pwd)
# calls [RUN OPTIONS] -- SPEC...: "SPEC RESULT" lines from inside a container.
calls() {
        local opts=()
        while [ "$1" != -- ]; do opts+=("$1"); shift; done
        shift
        srun "${opts[@]}" --volume "$HOSTH:$H:ro" -- "$H/syscalls" "$@" 2>&1
}
# expect DESCRIPTION WANT OUTPUT: every line's result is WANT ("allowed":
# anything but what the filter answers, ENOSYS, EPERM or death).
expect() {
        local desc=$1 want=$2 out=$3 bad
        if [ "$want" = allowed ]; then
                bad=$(printf '%s\n' "$out" | grep -Ev ' (E[A-Z0-9]+|OK)$' ; printf '%s\n' "$out" | grep -E ' (ENOSYS|EPERM|KILLED|UNKNOWN)$')
        else
                bad=$(printf '%s\n' "$out" | grep -Ev " $want\$")
        fi
        if [ -z "$out" ] || [ -n "$bad" ]; then not_ok "$desc"; diag "want $want, got:" "$bad" "$out"; else ok "$desc"; fi
}

# What every program needs: allowed (the errno is the kernel's, about the
# bad arguments, never the filter's).
out=$(calls -- getpid read:-1:0:0 write:-1:0:0 close:-1 openat:-1:0:0:0 fstat:-1:0 \
        mmap:0:0:0:0:-1:0 uname:0 getrandom:0:0:0 futex:0:0:1:0 rseq:0:0:0:0 prctl:-1 \
        epoll_create1:0 memfd_create:0:0 pidfd_open:-1:0 clock_gettime:0:0 socketpair:1:1:0:0 \
        sched_getaffinity:0:0:0 landlock_create_ruleset:0:0:1 personality:0xffffffff \
        personality:0x40000 personality:8 chroot:0 unshare:0x400 socket:1:1:0 socket:2:2:0 \
        socket:10:2:0 socket:16:3:0 socket:16:3:4 socket:16:3:16)
expect "the calls a normal program makes are allowed" allowed "$out"

# Refused in a default container with EPERM: the ptrace family, namespaces,
# mounts, the kernel's global state.
out=$(calls -- ptrace:2:-1 process_vm_readv:-1:0:0:0:0:0 process_vm_writev:-1:0:0:0:0:0 \
        kcmp:-1:-1:0:0:0 pidfd_getfd:-1:-1:0 process_madvise:-1:0:0:0:0 sethostname:0:-1 \
        mount:0:0:0:0:0 umount2:0:0 setns:-1:0 bpf:-1:0:0 keyctl:0 perf_event_open:0:0:-1:-1:0 \
        reboot:0 init_module:0:0:0 open_by_handle_at:-1:0:0 name_to_handle_at:-1:0:0:0:0 \
        clock_settime:0:0 io_uring_setup:0:0 userfaultfd:0 get_mempolicy:0:0:0:0:0 \
        unshare:0x10000000 unshare:0x04000000 unshare:0x20000000 clone:0x10000000:0)
expect "the ptrace family, namespaces, mounts and host-wide calls are refused with EPERM" EPERM "$out"

out=$(calls -- clone3:0:0 1000 4000 0x3ffffff personality:0x100000 personality:0x400000 personality:-1)
expect "unknown calls, clone3 and unsafe personalities get ENOSYS" ENOSYS "$out"

# socket(): audit and uevent netlink, VSOCK (the hypervisor), ALG (kernel
# crypto), packet sockets without NET_RAW, rare families; high bits the
# kernel would drop do not slip past.
out=$(calls -- socket:16:3:9 socket:16:3:15 socket:16:3:11 socket:16:3:31 socket:16:3:32 \
        socket:40:1:0 socket:38:5:0 socket:17:3:0 socket:4:2:0 socket:30:1:0 socket:46:1:0 \
        socket:0x100000001:1:0 socket:16:3:0x100000000)
expect "socket() of audit/uevent netlink, VSOCK, ALG, packet and rare families is refused" EPERM "$out"

out=$(calls --cap-add NET_RAW -- socket:17:3:0)
expect "--cap-add NET_RAW opens packet sockets" allowed "$out"
out=$(calls --cap-add AUDIT_WRITE -- socket:16:3:9)
expect "--cap-add AUDIT_WRITE opens the audit netlink" allowed "$out"
out=$(calls --cap-add NET_ADMIN -- socket:16:3:6)
expect "--cap-add NET_ADMIN opens the xfrm netlink" allowed "$out"

# With CAP_SYS_PTRACE the ptrace family is open (debuggers, CRIU).
out=$(calls --cap-add SYS_PTRACE -- ptrace:2:-1 process_vm_readv:-1:0:0:0:0:0 \
        process_vm_writev:-1:0:0:0:0:0 kcmp:-1:-1:0:0:0 pidfd_getfd:-1:-1:0 process_madvise:-1:0:0:0:0)
expect "--cap-add SYS_PTRACE opens ptrace, process_vm_*, kcmp, pidfd_getfd, process_madvise" allowed "$out"

# CAP_SYS_ADMIN opens namespaces other than user ones, and the host name;
# never mounts nor user namespaces.
out=$(calls --cap-add SYS_ADMIN -- unshare:0x04000000 sethostname:0:-1 fanotify_init:-1:0)
expect "--cap-add SYS_ADMIN opens unshare(CLONE_NEWUTS), sethostname, fanotify_init" allowed "$out"
out=$(calls --cap-add SYS_ADMIN -- unshare:0x10000000 clone:0x10000000:0 mount:0:0:0:0:0 setns:-1:0 bpf:-1:0:0)
expect "--cap-add SYS_ADMIN still refuses user namespaces, mount, setns, bpf" EPERM "$out"
out=$(calls --cap-add SYS_NICE -- get_mempolicy:0:0:0:0:0)
expect "--cap-add SYS_NICE opens the NUMA calls" allowed "$out"
out=$(calls --cap-drop SYS_CHROOT -- chroot:0)
expect "--cap-drop SYS_CHROOT closes chroot" EPERM "$out"

# The i386 ABI of a 64-bit process ("int $0x80"): the same rules, and no
# new sockets through socketcall(2), whose arguments a filter cannot read.
# The probe (getpid) runs in a child of its own, as every call of the
# helper: on a kernel without that ABI (6.18 without IA32 emulation) the
# child dies of SIGSEGV ("KILLED") or gets ENOSYS, and the two checks are
# skips that say so; anything else (the helper did not run) fails them.
probe=$(calls -- i386:20)
check_eq "an i386 call that faults (as without the ABI) is reported, not run on" "i386:20 KILLED" \
        "$(calls --env SHUTTLE_TEST_NO_IA32=1 -- i386:20)"
case $probe in
"i386:20 OK")
        out=$(calls -- i386:102:1:0 i386:359:1:1:0 i386:359:40:1:0 i386:26:16:-1 i386:349:-1:-1:0)
        expect "i386: socket (direct or socketcall), ptrace, kcmp are refused" EPERM "$out"
        out=$(calls -- i386:102:3:0 i386:102:8:0 i386:20)
        expect "i386: socketcall's other calls still work" allowed "$out"
        ;;
"i386:20 KILLED" | "i386:20 ENOSYS")
        ok "# SKIP no i386 ABI on this kernel (int \$0x80 getpid: ${probe#i386:20 })"
        ok "# SKIP no i386 ABI on this kernel (int \$0x80 getpid: ${probe#i386:20 })"
        ;;
*)
        not_ok "i386: socket (direct or socketcall), ptrace, kcmp are refused"
        not_ok "i386: socketcall's other calls still work"
        diag "the i386 probe (syscalls i386:20) said: $probe"
        ;;
esac

# Real programs under the profile.
out=$(srun -- sh -c 'ls / >/dev/null && cat /proc/self/status | grep -c Seccomp && echo done' 2>&1)
check_match "a shell and coreutils work under the profile" "done" "$out"
finish
