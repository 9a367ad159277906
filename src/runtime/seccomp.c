/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The default seccomp profile, built with libseccomp.
 *
 * Default action ALLOW plus a deny list: the capability set already keeps a
 * container away from most of these calls, and this is the second wall, for
 * the day a capability is added with --cap-add or a kernel check has a bug.
 * Each entry carries its reason; docs/SANDBOX.md shows the same table. */

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/macro.h"
#include "runtime/sandbox.h"

#define DENY(name, why) { name, EPERM, 0, why }

static const SeccompDenial denials[] = {
        /* The kernel itself. */
        DENY("init_module", "loads code into the host kernel"),
        DENY("finit_module", "loads code into the host kernel"),
        DENY("delete_module", "unloads host kernel modules"),
        DENY("create_module", "obsolete module interface"),
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

        /* Namespaces: the runtime made them, the container does not make
         * user namespaces (they hand out a full capability set and open a
         * large kernel attack surface) nor join others. */
        { "unshare", EPERM, CLONE_NEWUSER, "new user namespace" },
        { "clone", EPERM, CLONE_NEWUSER, "new user namespace" },
        { "clone3", ENOSYS, 0,
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

struct SeccompProgram {
        struct sock_fprog fprog;
};

static void seccomp_releasep(scmp_filter_ctx *ctx) {
        if (*ctx) {
                int saved = errno;
                seccomp_release(*ctx);
                errno = saved;
        }
}
#define _cleanup_seccomp_ _cleanup_(seccomp_releasep)

/* The other ABIs a process on the native architecture can enter the kernel
 * through.  Each gets the same rules; without this, "int $0x80" on x86_64
 * would reach i386 system calls the filter never looked at.  Architectures
 * not in the filter are killed (bad-arch action). */
static int add_secondary_archs(scmp_filter_ctx ctx) {
        static const struct {
                uint32_t native, secondary;
        } table[] = {
                { SCMP_ARCH_X86_64, SCMP_ARCH_X86 },
                { SCMP_ARCH_X86_64, SCMP_ARCH_X32 },
                { SCMP_ARCH_AARCH64, SCMP_ARCH_ARM },
                { SCMP_ARCH_S390X, SCMP_ARCH_S390 },
                { SCMP_ARCH_PPC64, SCMP_ARCH_PPC },
                { SCMP_ARCH_MIPS64, SCMP_ARCH_MIPS },
                { SCMP_ARCH_MIPS64, SCMP_ARCH_MIPS64N32 },
                { SCMP_ARCH_MIPSEL64, SCMP_ARCH_MIPSEL },
                { SCMP_ARCH_MIPSEL64, SCMP_ARCH_MIPSEL64N32 },
        };
        uint32_t native = seccomp_arch_native();

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r;

                if (table[i].native != native)
                        continue;
                r = seccomp_arch_add(ctx, table[i].secondary);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        return 0;
}

static int build_default(scmp_filter_ctx *ret) {
        _cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
        uint32_t native = seccomp_arch_native();
        /* On s390 clone() takes the stack first and the flags second. */
        unsigned clone_flags_arg = native == SCMP_ARCH_S390X || native == SCMP_ARCH_S390 ? 1 : 0;
        int r;

        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;

        /* no_new_privs is set explicitly by no_new_privs_set(); the filter is
         * loaded by seccomp_program_load(), not by libseccomp. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return r;
        /* A system call from an ABI not in the filter kills the whole process
         * rather than one thread (kernel >= 4.14). */
        if (seccomp_api_get() >= 3) {
                r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
                if (r < 0)
                        return r;
        }

        r = add_secondary_archs(ctx);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(denials); i++) {
                const SeccompDenial *d = &denials[i];
                int nr = seccomp_syscall_resolve_name(d->syscall);

                /* A name this libseccomp does not know (older than the kernel,
                 * or a call of another architecture family) is skipped, so the
                 * profile still loads.  Names known to libseccomp but absent on
                 * one ABI (vm86 on x86_64) resolve to a pseudo number that it
                 * leaves out of that ABI's filter. */
                if (nr == __NR_SCMP_ERROR)
                        continue;

                if (d->flags != 0) {
                        unsigned arg = streq(d->syscall, "clone") ? clone_flags_arg : 0;
                        struct scmp_arg_cmp cmp = {
                                .arg = arg,
                                .op = SCMP_CMP_MASKED_EQ,
                                .datum_a = d->flags,
                                .datum_b = d->flags,
                        };
                        r = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(d->error), nr, 1, &cmp);
                } else
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(d->error), nr, 0);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(ctx);
        return 0;
}

static int memfd_read_all(int fd, void **ret, size_t *ret_size) {
        _cleanup_free_ void *buf = NULL;
        struct stat st;
        size_t done = 0;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (st.st_size <= 0 || st.st_size > 1024 * 1024)
                return -EBADMSG;
        buf = malloc((size_t) st.st_size);
        if (!buf)
                return -ENOMEM;
        while (done < (size_t) st.st_size) {
                ssize_t n = pread(fd, (char *) buf + done, (size_t) st.st_size - done, (off_t) done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        return -EBADMSG;
                done += (size_t) n;
        }
        *ret = TAKE_PTR(buf);
        *ret_size = done;
        return 0;
}

int seccomp_program_new_default(SeccompProgram **ret) {
        _cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ SeccompProgram *p = NULL;
        _cleanup_free_ void *code = NULL;
        size_t size;
        int r;

        r = build_default(&ctx);
        if (r < 0)
                return r;

        /* libseccomp 2.5 exports BPF only to an fd. */
        fd = memfd_create("shuttle-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return r;
        r = memfd_read_all(fd, &code, &size);
        if (r < 0)
                return r;
        if (size % sizeof(struct sock_filter) != 0 ||
            size / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return -EBADMSG;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->fprog.len = (unsigned short) (size / sizeof(struct sock_filter));
        p->fprog.filter = TAKE_PTR(code);
        *ret = TAKE_PTR(p);
        return 0;
}

void seccomp_program_free(SeccompProgram *p) {
        if (!p)
                return;
        free(p->fprog.filter);
        free(p);
}

int seccomp_program_load(const SeccompProgram *p) {
        if (!p)
                return -EINVAL;
        /* seccomp(2) (3.17+), else the older prctl() form.  No flags: the
         * filter applies to this thread and is inherited by its children;
         * the child calling this is single-threaded. */
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p->fprog) == 0)
                return 0;
        if (errno != ENOSYS)
                return negative_errno();
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p->fprog, 0, 0) < 0)
                return negative_errno();
        return 0;
}

int seccomp_load_default(void) {
        SeccompProgram *p = NULL;
        int r;

        r = seccomp_program_new_default(&p);
        if (r < 0)
                return r;
        r = seccomp_program_load(p);
        seccomp_program_free(p);
        return r;
}

int seccomp_export_default(int fd, SeccompExportFormat format) {
        _cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
        int r;

        r = build_default(&ctx);
        if (r < 0)
                return r;
        switch (format) {
        case SECCOMP_EXPORT_PFC:
                return seccomp_export_pfc(ctx, fd);
        case SECCOMP_EXPORT_BPF:
                return seccomp_export_bpf(ctx, fd);
        }
        return -EINVAL;
}
