/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The default seccomp profile as data: what is allowed, to whom, and why.
 *
 * An allow list.  A system call is allowed when a group below lists it and
 * the container holds the group's capability (if it names one); a few calls
 * are allowed only for some arguments (socket, personality, clone,
 * unshare).  Everything this table does not know (new kernel calls, calls
 * nobody thought of, numbers no kernel has) gets ENOSYS, so libc and
 * language runtimes fall back to an older call as they do on an old kernel.
 * Calls the table knows and refuses get EPERM.
 *
 * The groups follow Docker's default profile (moby profiles/seccomp), minus
 * what our deny list has always refused whatever the capabilities.  Each
 * group carries its reason; docs/SANDBOX.md shows the same tables and a unit
 * test keeps the two in step.  seccomp.c turns this into BPF. */

#include <errno.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <sched.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/socket.h>

#include "common/macro.h"
#include "runtime/sandbox.h"

#define NOCAP (-1)
#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const SeccompGroup groups[] = {
        { "files", NOCAP, "files and directories of the container's own mount table",
          NAMES("access", "chdir", "chmod", "chown", "chown32", "creat", "faccessat",
                "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fchdir", "fchmod",
                "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fdatasync",
                "fgetxattr", "flistxattr", "flock", "fremovexattr", "fsetxattr", "fstat",
                "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
                "ftruncate64", "futimesat", "getcwd", "getdents", "getdents64", "getxattr",
                "lchown", "lchown32", "lgetxattr", "link", "linkat", "listxattr", "llistxattr",
                "lremovexattr", "lsetxattr", "lstat", "lstat64", "mkdir", "mkdirat", "mknod",
                "mknodat", "newfstatat", "open", "openat", "openat2", "readahead", "readlink",
                "readlinkat", "removexattr", "rename", "renameat", "renameat2", "rmdir",
                "setxattr", "stat", "stat64", "statfs", "statfs64", "statx", "symlink",
                "symlinkat", "sync", "sync_file_range", "syncfs", "truncate", "truncate64",
                "umask", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64",
                "utimes", "inotify_add_watch", "inotify_init", "inotify_init1",
                "inotify_rm_watch", "fanotify_mark") },
        { "descriptors", NOCAP, "reading, writing, polling and passing descriptors",
          NAMES("close", "close_range", "copy_file_range", "dup", "dup2", "dup3",
                "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
                "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "fcntl",
                "fcntl64", "ioctl", "_llseek", "lseek", "pipe", "pipe2", "poll", "ppoll",
                "ppoll_time64", "pread64", "preadv", "preadv2", "pselect6", "pselect6_time64",
                "pwrite64", "pwritev", "pwritev2", "read", "readv", "select", "_newselect",
                "sendfile", "sendfile64", "splice", "tee", "vmsplice", "write", "writev",
                "io_cancel", "io_destroy", "io_getevents", "io_pgetevents",
                "io_pgetevents_time64", "io_setup", "io_submit") },
        { "memory", NOCAP, "the process's own address space",
          NAMES("brk", "madvise", "map_shadow_stack", "membarrier", "memfd_create",
                "memfd_secret", "mincore", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
                "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap", "pkey_alloc",
                "pkey_free", "pkey_mprotect", "remap_file_pages", "cachestat") },
        { "processes", NOCAP,
          "processes and threads; namespaces in clone and unshare are checked apart",
          NAMES("execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid",
                "waitpid", "getpid", "getppid", "gettid", "getpgid", "getpgrp", "getsid",
                "setpgid", "setsid", "set_tid_address", "get_robust_list", "set_robust_list",
                "rseq", "futex", "futex_time64", "futex_waitv", "futex_wait", "futex_wake",
                "futex_requeue", "restart_syscall", "pidfd_open", "process_mrelease",
                "getrusage", "times", "prctl", "arch_prctl", "get_thread_area",
                "set_thread_area", "modify_ldt", "capget", "capset", "getcpu") },
        { "signals", NOCAP, "signals, within the container's pid namespace",
          NAMES("kill", "tkill", "tgkill", "pidfd_send_signal", "pause", "rt_sigaction",
                "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
                "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
                "rt_tgsigqueueinfo", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
                "sigreturn") },
        { "time", NOCAP, "reading clocks, sleeping, timers; setting the clock is denied below",
          NAMES("adjtimex", "alarm", "clock_getres", "clock_getres_time64", "clock_gettime",
                "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "getitimer",
                "gettimeofday", "nanosleep", "setitimer", "time", "timer_create",
                "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
                "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
                "timerfd_gettime64", "timerfd_settime", "timerfd_settime64") },
        { "credentials", NOCAP, "user and group ids and limits; the capability set decides what may change",
          NAMES("getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
                "getgroups", "getgroups32", "getresgid", "getresgid32", "getresuid",
                "getresuid32", "getuid", "getuid32", "setfsgid", "setfsgid32", "setfsuid",
                "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setregid",
                "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32",
                "setreuid", "setreuid32", "setuid", "setuid32", "getrlimit", "ugetrlimit",
                "setrlimit", "prlimit64") },
        { "scheduling", NOCAP, "priorities and CPU affinity; raising them needs CAP_SYS_NICE",
          NAMES("getpriority", "setpriority", "ioprio_get", "ioprio_set", "sched_getaffinity",
                "sched_getattr", "sched_getparam", "sched_get_priority_max",
                "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
                "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
                "sched_setparam", "sched_setscheduler", "sched_yield") },
        { "network", NOCAP,
          "sockets of the container's network namespace; which sockets may be created is checked apart",
          NAMES("accept", "accept4", "bind", "connect", "getpeername", "getsockname",
                "getsockopt", "listen", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64",
                "recvmsg", "send", "sendmmsg", "sendmsg", "sendto", "setsockopt", "shutdown",
                "socketpair") },
        { "ipc", NOCAP, "System V and POSIX IPC of the container's IPC namespace",
          NAMES("mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
                "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
                "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop",
                "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget") },
        { "system", NOCAP, "what every libc asks about the system",
          NAMES("uname", "sysinfo", "getrandom") },
        { "self-restriction", NOCAP, "a program may restrict itself further",
          NAMES("seccomp", "landlock_add_rule", "landlock_create_ruleset",
                "landlock_restrict_self") },

        /* Calls whose use by anyone but a debugger or checkpointer is an
         * attack: they read or change another process's memory and
         * descriptors.  The kernel's own check (same uid, dumpable) is weak
         * inside a container where everything runs as root. */
        { "ptrace", CAP_SYS_PTRACE,
          "read or change another process's memory and descriptors: debuggers (strace, gdb) and CRIU",
          NAMES("ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
                "process_madvise") },
        { "admin", CAP_SYS_ADMIN,
          "the container's host name, filesystem-wide fanotify; namespaces other than user ones in clone/unshare",
          NAMES("sethostname", "setdomainname", "fanotify_init") },
        { "chroot", CAP_SYS_CHROOT, "chroot inside the container (in the default set)",
          NAMES("chroot") },
        { "numa", CAP_SYS_NICE, "NUMA memory placement",
          NAMES("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node") },
};

const SeccompGroup *seccomp_allow_groups(size_t *ret_n) {
        *ret_n = ELEMENTSOF(groups);
        return groups;
}

#define DENY(name, why) { name, EPERM, why }

/* Refused whatever the capabilities: the capability set already keeps a
 * default container away from most of these, and this is the second wall,
 * for the day a capability is added with --cap-add or a kernel check has a
 * bug. */
static const SeccompDenial denials[] = {
        /* The kernel itself. */
        DENY("init_module", "loads code into the host kernel"),
        DENY("finit_module", "loads code into the host kernel"),
        DENY("delete_module", "unloads host kernel modules"),
        DENY("create_module", "obsolete module interface"),
        DENY("get_kernel_syms", "obsolete module interface"),
        DENY("query_module", "obsolete module interface"),
        DENY("kexec_load", "replaces the running host kernel"),
        DENY("kexec_file_load", "replaces the running host kernel"),
        DENY("reboot", "reboots the host, or kills the container's pid 1"),
        DENY("swapon", "changes host swap"),
        DENY("swapoff", "changes host swap"),
        DENY("acct", "process accounting is host-wide"),
        DENY("syslog", "reads or clears the host kernel log (dmesg_restrict may be 0)"),
        DENY("iopl", "raw I/O port access"),
        DENY("ioperm", "raw I/O port access"),
        DENY("vm86", "virtual 8086 mode, a history of kernel bugs"),
        DENY("vm86old", "virtual 8086 mode, a history of kernel bugs"),
        DENY("lookup_dcookie", "kernel profiling interface"),
        DENY("nfsservctl", "obsolete kernel NFS server control"),
        DENY("_sysctl", "obsolete binary sysctl interface"),
        DENY("uselib", "obsolete library loading, a history of kernel bugs"),
        DENY("quotactl", "changes filesystem quotas shared with the host"),
        DENY("quotactl_fd", "changes filesystem quotas shared with the host"),
        DENY("vhangup", "hangs up the controlling terminal"),
        DENY("migrate_pages", "moves another process's memory between NUMA nodes"),
        DENY("move_pages", "moves another process's memory between NUMA nodes"),

        /* Time is not namespaced. */
        DENY("settimeofday", "sets the host clock"),
        DENY("stime", "sets the host clock"),
        DENY("clock_settime", "sets the host clock"),
        DENY("clock_settime64", "sets the host clock"),
        DENY("clock_adjtime", "adjusts the host clock"),
        DENY("clock_adjtime64", "adjusts the host clock"),

        /* The mount table was built by the runtime and stays as it is. */
        DENY("mount", "changes the mount table (could undo read-only and masked paths)"),
        DENY("umount", "changes the mount table (could uncover masked paths)"),
        DENY("umount2", "changes the mount table (could uncover masked paths)"),
        DENY("pivot_root", "changes the root the runtime set up"),
        DENY("fsopen", "new mount API"),
        DENY("fsconfig", "new mount API"),
        DENY("fsmount", "new mount API"),
        DENY("fspick", "new mount API"),
        DENY("move_mount", "new mount API"),
        DENY("open_tree", "new mount API (clones mount trees)"),
        DENY("mount_setattr", "new mount API (could clear read-only)"),

        /* Namespaces: the runtime made them; the container does not join
         * others.  clone and unshare are checked by their flags. */
        { "clone3", ENOSYS,
          "flags sit in memory where a filter cannot read them: ENOSYS makes glibc fall back to clone" },
        DENY("setns", "joins another namespace"),

        /* Kernel subsystems that are not namespaced, or too large to expose. */
        DENY("bpf", "eBPF programs and maps"),
        DENY("perf_event_open", "performance counters: host-wide information, side channels"),
        DENY("keyctl", "the kernel keyring is not namespaced"),
        DENY("add_key", "the kernel keyring is not namespaced"),
        DENY("request_key", "the kernel keyring is not namespaced"),
        DENY("userfaultfd", "stalls kernel page faults, a common exploit primitive"),
        DENY("io_uring_setup", "io_uring operations bypass seccomp, a history of kernel bugs"),
        DENY("io_uring_enter", "io_uring operations bypass seccomp, a history of kernel bugs"),
        DENY("io_uring_register", "io_uring operations bypass seccomp, a history of kernel bugs"),

        /* Files by handle skip path lookup and so the container's root. */
        DENY("open_by_handle_at", "opens any file of a host filesystem by handle (\"shocker\")"),
        DENY("name_to_handle_at", "produces handles for open_by_handle_at"),
};

const SeccompDenial *seccomp_default_denials(size_t *ret_n) {
        *ret_n = ELEMENTSOF(denials);
        return denials;
}

/* Allowed for some arguments only; seccomp.c writes their rules. */
static const char *const arg_checked[] = { "clone", "unshare", "socket", "personality" };

static bool has_cap(uint64_t caps, int cap) {
        return cap < 0 || (cap < 64 && (caps & CAP_MASK(cap)));
}

static bool in_names(const char *const *names, const char *name) {
        for (; *names; names++)
                if (streq(*names, name))
                        return true;
        return false;
}

SeccompVerdict seccomp_verdict(const char *syscall, uint64_t caps, int *ret_error) {
        bool known = false;

        for (size_t i = 0; i < ELEMENTSOF(denials); i++)
                if (streq(denials[i].syscall, syscall)) {
                        if (ret_error)
                                *ret_error = denials[i].error;
                        return SECCOMP_VERDICT_DENY;
                }
        for (size_t i = 0; i < ELEMENTSOF(arg_checked); i++)
                if (streq(arg_checked[i], syscall))
                        return SECCOMP_VERDICT_ARGS;
        for (size_t i = 0; i < ELEMENTSOF(groups); i++)
                if (in_names(groups[i].syscalls, syscall)) {
                        if (has_cap(caps, groups[i].cap))
                                return SECCOMP_VERDICT_ALLOW;
                        known = true;
                }
        if (ret_error)
                *ret_error = known ? EPERM : ENOSYS;
        return SECCOMP_VERDICT_DENY;
}

uint64_t seccomp_caps_consulted(void) {
        uint64_t m = CAP_MASK(CAP_SYS_ADMIN) | CAP_MASK(CAP_NET_RAW) | CAP_MASK(CAP_NET_ADMIN) |
                     CAP_MASK(CAP_AUDIT_WRITE);

        for (size_t i = 0; i < ELEMENTSOF(groups); i++)
                if (groups[i].cap >= 0 && groups[i].cap < 64)
                        m |= CAP_MASK(groups[i].cap);
        return m;
}

/* Namespace flags: a new namespace of any kind needs CAP_SYS_ADMIN (the
 * kernel checks that too; the filter makes it a second wall).  A new user
 * namespace is refused even with it: it hands out a full capability set
 * inside it and opens a large kernel attack surface.  CLONE_NEWTIME shares
 * its bit with the exit signal in clone(), so it is checked in unshare()
 * only. */
uint64_t seccomp_clone_denied_flags(uint64_t caps, bool unshare) {
        uint64_t ns = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                      CLONE_NEWNET | CLONE_NEWCGROUP;

        if (unshare)
                ns |= CLONE_NEWTIME;
        if (has_cap(caps, CAP_SYS_ADMIN))
                return CLONE_NEWUSER;
        return ns;
}

bool seccomp_socket_allowed(int family, int protocol, uint64_t caps) {
        switch (family) {
        case AF_UNIX:
        case AF_INET:
        case AF_INET6:
                /* Raw IP sockets need CAP_NET_RAW, which the kernel checks. */
                return true;
        case AF_PACKET:
                /* Link-layer frames: forged packets on a shared bridge. */
                return has_cap(caps, CAP_NET_RAW);
        case AF_NETLINK:
                switch (protocol) {
                case NETLINK_ROUTE:     /* addresses, links, routes: ip, getaddrinfo */
                case NETLINK_SOCK_DIAG: /* socket lists: ss */
                case NETLINK_NETFILTER: /* nft, conntrack (changes need CAP_NET_ADMIN) */
                case NETLINK_GENERIC:   /* ethtool, wireguard, taskstats */
                        return true;
                case NETLINK_XFRM: /* IPsec: every message needs CAP_NET_ADMIN */
                        return has_cap(caps, CAP_NET_ADMIN);
                case NETLINK_AUDIT: /* the host's audit log is not namespaced */
                        return has_cap(caps, CAP_AUDIT_WRITE);
                default: /* uevents (the host's devices), connector, crypto, ... */
                        return false;
                }
        default:
                /* AF_VSOCK reaches the hypervisor, AF_ALG the kernel's
                 * crypto, and the rest old or rare protocol code that a
                 * socket() call can load as a module. */
                return false;
        }
}

/* PER_LINUX with any of PER_LINUX32 (setarch i386), UNAME26 and
 * ADDR_NO_RANDOMIZE (setarch -R, debuggers, sanitizers: only the caller and
 * its children, all inside the container and under no_new_privs), and
 * 0xffffffff, which only reads the current value.  Not READ_IMPLIES_EXEC,
 * MMAP_PAGE_ZERO (a NULL-page mapping for kernel exploits), nor other
 * execution domains. */
bool seccomp_personality_allowed(uint64_t persona) {
        if (persona == 0xffffffffu)
                return true;
        return (persona & ~(uint64_t) (PER_LINUX32 | UNAME26 | ADDR_NO_RANDOMIZE)) == 0;
}

size_t seccomp_personality_values(uint64_t *ret, size_t size) {
        static const uint64_t values[] = {
                PER_LINUX,
                PER_LINUX32,
                UNAME26,
                UNAME26 | PER_LINUX32,
                ADDR_NO_RANDOMIZE,
                ADDR_NO_RANDOMIZE | PER_LINUX32,
                ADDR_NO_RANDOMIZE | UNAME26,
                ADDR_NO_RANDOMIZE | UNAME26 | PER_LINUX32,
                0xffffffffu,
        };

        for (size_t i = 0; i < ELEMENTSOF(values) && i < size; i++)
                ret[i] = values[i];
        return ELEMENTSOF(values);
}
