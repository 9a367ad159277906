/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The default seccomp profile compiled with libseccomp, from the tables of
 * seccomp-table.c: default action ENOSYS, then the allowed groups, the
 * refused calls (EPERM) and the argument rules.  Each ABI of the
 * architecture gets its own filter, merged into one program. */

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/macro.h"
#include "runtime/sandbox.h"
#ifndef SECCOMP_GENERATOR
#include "runtime/seccomp-builtin.h"
#endif

struct SeccompProgram {
        struct sock_fprog fprog;
        unsigned flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
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
static const struct {
        uint32_t native, secondary;
} secondary_archs[] = {
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

/* Adds one rule.  A name this libseccomp does not know (older than the
 * kernel, or a call of another architecture family) is skipped and so stays
 * at the default, ENOSYS.  Names known to libseccomp but absent on this ABI
 * (vm86 on x86_64, mmap2 on x86_64) resolve to a pseudo number that it
 * leaves out of the ABI's filter. */
static int rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
                const struct scmp_arg_cmp *cmp) {
        int nr = seccomp_syscall_resolve_name(name);

        /* ENOSYS is the default action, which libseccomp refuses as a rule
         * (EACCES): nothing to add. */
        if (nr == __NR_SCMP_ERROR || action == SCMP_ACT_ERRNO(ENOSYS))
                return 0;
        return seccomp_rule_add_array(ctx, action, nr, n, cmp);
}

#define CMP(a, o, x, y) ((struct scmp_arg_cmp){ .arg = (a), .op = (o), .datum_a = (x), .datum_b = (y) })

/* clone and unshare: allowed when no refused namespace flag is set; each
 * refused flag has its own EPERM rule, so every value matches exactly one
 * of the rules (libseccomp gives a call with rules on its arguments the
 * default action, ENOSYS, when none matches). */
static int add_flag_rules(scmp_filter_ctx ctx, const char *name, unsigned arg, uint64_t denied) {
        struct scmp_arg_cmp c = CMP(arg, SCMP_CMP_MASKED_EQ, denied, 0);
        int r;

        r = rule(ctx, SCMP_ACT_ALLOW, name, 1, &c);
        if (r < 0)
                return r;
        for (unsigned bit = 0; bit < 64; bit++) {
                uint64_t f = UINT64_C(1) << bit;

                if (!(denied & f))
                        continue;
                c = CMP(arg, SCMP_CMP_MASKED_EQ, f, f);
                r = rule(ctx, SCMP_ACT_ERRNO(EPERM), name, 1, &c);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* socket(): one rule per address family below AF_MAX (per netlink protocol
 * for AF_NETLINK) and one for everything above, ALLOW or EPERM as
 * seccomp_socket_allowed() says.  The comparisons are on all 64 bits: a
 * value with high bits set (which the kernel would truncate) is above
 * AF_MAX and refused. */
static int add_socket_rules(scmp_filter_ctx ctx, uint64_t caps) {
        struct scmp_arg_cmp c[2];
        int r;

        for (int family = 0; family < AF_MAX; family++) {
                if (family == AF_NETLINK) {
                        for (int proto = 0; proto < MAX_LINKS; proto++) {
                                c[0] = CMP(0, SCMP_CMP_EQ, family, 0);
                                c[1] = CMP(2, SCMP_CMP_EQ, (uint64_t) proto, 0);
                                r = rule(ctx,
                                         seccomp_socket_allowed(family, proto, caps) ?
                                                 SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(EPERM),
                                         "socket", 2, c);
                                if (r < 0)
                                        return r;
                        }
                        c[0] = CMP(0, SCMP_CMP_EQ, family, 0);
                        c[1] = CMP(2, SCMP_CMP_GE, MAX_LINKS, 0);
                        r = rule(ctx, SCMP_ACT_ERRNO(EPERM), "socket", 2, c);
                } else {
                        c[0] = CMP(0, SCMP_CMP_EQ, (uint64_t) family, 0);
                        r = rule(ctx,
                                 seccomp_socket_allowed(family, 0, caps) ? SCMP_ACT_ALLOW :
                                                                           SCMP_ACT_ERRNO(EPERM),
                                 "socket", 1, c);
                }
                if (r < 0)
                        return r;
        }
        c[0] = CMP(0, SCMP_CMP_GE, AF_MAX, 0);
        return rule(ctx, SCMP_ACT_ERRNO(EPERM), "socket", 1, c);
}

/* Whether libseccomp routes socket calls of this ABI through socketcall(2)
 * too (i386, s390, ppc, mips o32).  Its arguments sit in memory, where a
 * filter cannot read them, and libseccomp turns any rule for socket() into
 * an unconditional rule for socketcall(SYS_SOCKET): a family check there
 * would be a check on one door of two. */
static bool arch_muxes_sockets(uint32_t arch) {
        return seccomp_syscall_resolve_name_arch(arch, "socketcall") >= 0;
}

static int add_rules(scmp_filter_ctx ctx, uint32_t arch, uint64_t caps) {
        size_t n_groups, n_denials;
        const SeccompGroup *groups = seccomp_allow_groups(&n_groups);
        const SeccompDenial *denials = seccomp_default_denials(&n_denials);
        /* On s390 clone() takes the stack first and the flags second. */
        unsigned clone_flags_arg = arch == SCMP_ARCH_S390X || arch == SCMP_ARCH_S390 ? 1 : 0;
        uint64_t personas[16];
        size_t n_personas;
        int r;

        for (size_t i = 0; i < n_groups; i++)
                for (const char *const *s = groups[i].syscalls; *s; s++) {
                        int error = 0;
                        SeccompVerdict v = seccomp_verdict(*s, caps, &error);

                        r = rule(ctx, v == SECCOMP_VERDICT_ALLOW ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(error),
                                 *s, 0, NULL);
                        if (r < 0)
                                return r;
                }
        for (size_t i = 0; i < n_denials; i++) {
                r = rule(ctx, SCMP_ACT_ERRNO(denials[i].error), denials[i].syscall, 0, NULL);
                if (r < 0)
                        return r;
        }

        r = add_flag_rules(ctx, "clone", clone_flags_arg, seccomp_clone_denied_flags(caps, false));
        if (r < 0)
                return r;
        r = add_flag_rules(ctx, "unshare", 0, seccomp_clone_denied_flags(caps, true));
        if (r < 0)
                return r;

        /* Other personality values fall to the default (ENOSYS): their
         * complement cannot be written as rules that never overlap. */
        n_personas = seccomp_personality_values(personas, ELEMENTSOF(personas));
        if (n_personas > ELEMENTSOF(personas))
                return -ENOBUFS;
        for (size_t i = 0; i < n_personas; i++) {
                struct scmp_arg_cmp c = CMP(0, SCMP_CMP_EQ, personas[i], 0);
                r = rule(ctx, SCMP_ACT_ALLOW, "personality", 1, &c);
                if (r < 0)
                        return r;
        }

        if (!arch_muxes_sockets(arch))
                return add_socket_rules(ctx, caps);
        if (arch != seccomp_arch_native())
                /* A secondary ABI (i386 on x86_64): no new sockets at all,
                 * rather than sockets of any family.  socketpair() and the
                 * calls on existing sockets still work. */
                return rule(ctx, SCMP_ACT_ERRNO(EPERM), "socket", 0, NULL);
        /* The native ABI of such an architecture cannot live without
         * sockets: every family (as Docker's profile on these). */
        return rule(ctx, SCMP_ACT_ALLOW, "socket", 0, NULL);
}

/* An empty filter for one ABI with the profile's attributes; seccomp_merge()
 * needs them equal. */
static int filter_new(uint32_t arch, scmp_filter_ctx *ret) {
        _cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
        uint32_t native = seccomp_arch_native();
        int r;

        /* A call the tables do not know: ENOSYS, as on an older kernel. */
        ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
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
        /* A binary tree over the system call numbers: a few hundred allowed
         * calls would otherwise be a linear search on every call. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r < 0 && r != -EOPNOTSUPP && r != -EINVAL)
                return r;
        if (arch != native) {
                r = seccomp_arch_add(ctx, arch);
                if (r < 0)
                        return r;
                r = seccomp_arch_remove(ctx, native);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(ctx);
        return 0;
}

static int build_profile(uint64_t caps, scmp_filter_ctx *ret) {
        _cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
        uint32_t native = seccomp_arch_native();
        int r;

        r = filter_new(native, &ctx);
        if (r < 0)
                return r;
        r = add_rules(ctx, native, caps);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(secondary_archs); i++) {
                _cleanup_seccomp_ scmp_filter_ctx sub = NULL;

                if (secondary_archs[i].native != native)
                        continue;
                r = filter_new(secondary_archs[i].secondary, &sub);
                if (r < 0)
                        return r;
                r = add_rules(sub, secondary_archs[i].secondary, caps);
                if (r < 0)
                        return r;
                /* seccomp_merge() releases sub on success only. */
                r = seccomp_merge(ctx, sub);
                if (r < 0)
                        return r;
                sub = NULL;
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

int seccomp_program_new_from_filter(void *filter, unsigned flags, SeccompProgram **ret) {
        scmp_filter_ctx ctx = filter;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ SeccompProgram *p = NULL;
        _cleanup_free_ void *code = NULL;
        size_t size;
        int r;

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
        p->flags = flags;
        *ret = TAKE_PTR(p);
        return 0;
}

int seccomp_program_new_from_code(const struct sock_filter *code, size_t len, unsigned flags,
                                  SeccompProgram **ret) {
        _cleanup_free_ SeccompProgram *p = NULL;

        if (len == 0 || len > BPF_MAXINSNS)
                return -EBADMSG;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->fprog.filter = malloc(len * sizeof(struct sock_filter));
        if (!p->fprog.filter)
                return -ENOMEM;
        memcpy(p->fprog.filter, code, len * sizeof(struct sock_filter));
        p->fprog.len = (unsigned short) len;
        p->flags = flags;
        *ret = TAKE_PTR(p);
        return 0;
}

unsigned seccomp_program_flags(const SeccompProgram *p) {
        return p->flags;
}

int seccomp_program_compile(uint64_t caps, SeccompProgram **ret) {
        _cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
        int r;

        r = build_profile(caps, &ctx);
        if (r < 0)
                return r;
        return seccomp_program_new_from_filter(ctx, 0, ret);
}

#ifndef SECCOMP_GENERATOR
/* The programs for the default capability set and the usual OCI ones were
 * compiled when Shuttle was built (seccomp-gen): libseccomp takes a good
 * part of a second of CPU for this profile, every start.  One is used only
 * where compiling now would give the same program: a set that agrees on
 * the capabilities the profile looks at, native architecture, kernel API
 * level (which decides the bad-architecture action) and libseccomp
 * version. */
static const SeccompBuiltin *builtin_find(uint64_t caps) {
        const struct scmp_version *v = seccomp_version();
        uint64_t consulted = seccomp_caps_consulted();

        if (!v)
                return NULL;
        for (size_t i = 0; i < seccomp_n_builtins; i++) {
                const SeccompBuiltin *b = &seccomp_builtins[i];

                if (b->len > 0 && (caps & consulted) == (b->caps & consulted) &&
                    seccomp_arch_native() == b->arch && seccomp_api_get() == b->api && v->major == b->version[0] &&
                    v->minor == b->version[1] && v->micro == b->version[2])
                        return b;
        }
        return NULL;
}

int seccomp_program_builtin(uint64_t caps, SeccompProgram **ret) {
        _cleanup_free_ SeccompProgram *p = NULL;
        const SeccompBuiltin *b = builtin_find(caps);
        size_t size;

        if (!b)
                return -ENOENT;
        size = b->len * sizeof(struct sock_filter);
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->fprog.filter = malloc(size);
        if (!p->fprog.filter)
                return -ENOMEM;
        memcpy(p->fprog.filter, b->code, size);
        p->fprog.len = (unsigned short) b->len;
        *ret = TAKE_PTR(p);
        return 0;
}

int seccomp_program_new(uint64_t caps, SeccompProgram **ret) {
        int r = seccomp_program_builtin(caps, ret);

        return r == -ENOENT ? seccomp_program_compile(caps, ret) : r;
}
#else
int seccomp_program_builtin(uint64_t caps _unused_, SeccompProgram **ret _unused_) {
        return -ENOENT;
}

int seccomp_program_new(uint64_t caps, SeccompProgram **ret) {
        return seccomp_program_compile(caps, ret);
}
#endif

const struct sock_filter *seccomp_program_code(const SeccompProgram *p, size_t *ret_len) {
        *ret_len = p->fprog.len;
        return p->fprog.filter;
}

int seccomp_program_new_default(SeccompProgram **ret) {
        return seccomp_program_new(caps_default_mask(), ret);
}

void seccomp_program_free(SeccompProgram *p) {
        if (!p)
                return;
        free(p->fprog.filter);
        free(p);
}

int seccomp_program_load(const SeccompProgram *p) {
        long r;

        if (!p)
                return -EINVAL;
        /* seccomp(2) (3.17+), else the older prctl() form.  Without flags
         * the filter applies to this thread and is inherited by its
         * children; the child calling this is single-threaded.  With
         * SECCOMP_FILTER_FLAG_NEW_LISTENER the kernel returns the
         * notification fd. */
        r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &p->fprog);
        /* With TSYNC alone, a positive value is the thread that could not
         * take the filter. */
        if (r > 0 && !(p->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER))
                return -ESRCH;
        if (r >= 0)
                return (int) r;
        if (errno != ENOSYS || p->flags != 0)
                return negative_errno();
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p->fprog, 0, 0) < 0)
                return negative_errno();
        return 0;
}

bool seccomp_is_listener(int fd) {
        uint64_t id = 0;

        /* Only a seccomp notify fd knows this ioctl, and answers ENOENT
         * for an id no pending notification has: ids count up from a
         * random 64-bit value, so 0 is never one in practice. */
        return ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0 && errno == ENOENT;
}

int seccomp_load_profile(uint64_t caps) {
        SeccompProgram *p = NULL;
        int r;

        r = seccomp_program_new(caps, &p);
        if (r < 0)
                return r;
        r = seccomp_program_load(p);
        seccomp_program_free(p);
        return r;
}

int seccomp_load_default(void) {
        return seccomp_load_profile(caps_default_mask());
}

int seccomp_export(uint64_t caps, int fd, SeccompExportFormat format) {
        _cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
        int r;

        r = build_profile(caps, &ctx);
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

int seccomp_export_default(int fd, SeccompExportFormat format) {
        return seccomp_export(caps_default_mask(), fd, format);
}
