/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Tests for src/runtime/sandbox.h: capabilities, no_new_privs, the default
 * seccomp profile, rlimits and netlink.  Everything that changes process
 * state runs in a forked child that reports through its exit status (0 ok,
 * 77 skip, else failure with a message on stderr); the privileged parts skip
 * unless run as root. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "common/macro.h"
#include "runtime/exec.h"
#include "runtime/sandbox.h"

/* ---- helpers ------------------------------------------------------------ */

#define CHILD_CHECK(cond)                                                              \
        do {                                                                           \
                if (!(cond)) {                                                         \
                        fprintf(stderr, "%s:%d: check failed: %s (errno: %s)\n",       \
                                __FILE__, __LINE__, #cond, strerror(errno));           \
                        _exit(1);                                                      \
                }                                                                      \
        } while (0)

#define CHILD_SKIP(...)                                            \
        do {                                                       \
                fprintf(stderr, "skip: " __VA_ARGS__);             \
                fputc('\n', stderr);                               \
                _exit(77);                                         \
        } while (0)

/* First thing in every child: the default action for every signal, none
 * blocked.  The child is a copy of cmocka's runner, whose handlers for
 * SIGSEGV, SIGILL, SIGBUS, ... jump back into the runner: a child that
 * crashed (an "int $0x80" on a kernel without the i386 ABI) would go on
 * running the remaining tests as a second runner. */
static void child_reset_signals(void) {
        sigset_t none;

        for (int sig = 1; sig < NSIG; sig++)
                (void) signal(sig, SIG_DFL); /* EINVAL for SIGKILL, SIGSTOP, the libc's own */
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Runs fn in a forked child; fails the test unless it exits 0, skips on 77. */
static void run_in_child(void (*fn)(void)) {
        pid_t pid;
        int status;

        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                child_reset_signals();
                fn();
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status))
                fail_msg("child killed by signal %d", WTERMSIG(status));
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* Runs fn in a child and returns its exit status (or 128 + signal). */
static int child_status(int (*fn)(void)) {
        pid_t pid;
        int status;

        fflush(NULL);
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                child_reset_signals();
                _exit(fn());
        }
        if (waitpid(pid, &status, 0) != pid)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* "CapEff" etc. from /proc/self/status. */
static uint64_t status_caps(const char *field) {
        char line[256];
        size_t n = strlen(field);
        uint64_t v = UINT64_MAX;
        FILE *f = fopen("/proc/self/status", "re");

        if (!f)
                return UINT64_MAX;
        while (fgets(line, sizeof(line), f))
                if (strneq(line, field, n) && line[n] == ':') {
                        v = strtoull(line + n + 1, NULL, 16);
                        break;
                }
        fclose(f);
        return v;
}

static unsigned cap_last_cap(void) {
        unsigned v = 0;
        FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");

        if (f) {
                if (fscanf(f, "%u", &v) != 1)
                        v = 0;
                fclose(f);
        }
        return v;
}

/* ---- capabilities ------------------------------------------------------- */

static void test_caps_parse(void **state) {
        static const struct {
                const char *s;
                uint64_t mask;
        } good[] = {
                { "NET_ADMIN", CAP_MASK(CAP_NET_ADMIN) },
                { "CAP_NET_ADMIN", CAP_MASK(CAP_NET_ADMIN) },
                { "net_admin", CAP_MASK(CAP_NET_ADMIN) },
                { "cap_net_admin", CAP_MASK(CAP_NET_ADMIN) },
                { "Net_Admin", CAP_MASK(CAP_NET_ADMIN) },
                { "CHOWN,KILL", CAP_MASK(CAP_CHOWN) | CAP_MASK(CAP_KILL) },
                { "chown, CAP_KILL ,sys_admin",
                  CAP_MASK(CAP_CHOWN) | CAP_MASK(CAP_KILL) | CAP_MASK(CAP_SYS_ADMIN) },
                { "KILL,KILL", CAP_MASK(CAP_KILL) },
                { "SYS_RESOURCE", CAP_MASK(CAP_SYS_RESOURCE) },
        };
        static const char *const bad[] = {
                "", "NOPE", "CAP_NOPE", "12", "CAP_12", "CHOWN,", ",CHOWN", "CHOWN,,KILL",
                "CAP_", "NET-ADMIN", "NET ADMIN", "ALLL", "chown;kill",
        };
        uint64_t m, all;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                m = 0;
                assert_int_equal(caps_parse(good[i].s, &m), 0);
                if (m != good[i].mask)
                        fail_msg("caps_parse(\"%s\") = %#" PRIx64 ", want %#" PRIx64,
                                 good[i].s, m, good[i].mask);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                m = 0xdead;
                if (caps_parse(bad[i], &m) != -EINVAL)
                        fail_msg("caps_parse(\"%s\") accepted", bad[i]);
                assert_int_equal(m, 0xdead); /* untouched on failure */
        }
        assert_int_equal(caps_parse(NULL, &m), -EINVAL);

        /* ALL = every capability of the running kernel. */
        all = caps_all_mask();
        assert_int_equal(all, (cap_last_cap() >= 63 ? UINT64_MAX : CAP_MASK(cap_last_cap() + 1) - 1));
        assert_true(all & CAP_MASK(CAP_SYS_ADMIN));
        assert_int_equal(caps_parse("ALL", &m), 0);
        assert_int_equal(m, all);
        assert_int_equal(caps_parse("all,chown", &m), 0);
        assert_int_equal(m, all);
}

static void test_caps_format(void **state) {
        char *s;
        uint64_t m;

        s = caps_format(CAP_MASK(CAP_KILL) | CAP_MASK(CAP_CHOWN));
        assert_non_null(s);
        assert_string_equal(s, "CHOWN,KILL");
        free(s);

        s = caps_format(0);
        assert_non_null(s);
        assert_string_equal(s, "");
        free(s);

        /* Round trips: every single capability, the default set, ALL. */
        for (unsigned c = 0; c <= cap_last_cap() && c < 64; c++) {
                s = caps_format(CAP_MASK(c));
                assert_non_null(s);
                assert_int_equal(caps_parse(s, &m), 0);
                if (m != CAP_MASK(c))
                        fail_msg("round trip of cap %u via \"%s\" gave %#" PRIx64, c, s, m);
                free(s);
        }
        const uint64_t masks[] = { caps_default_mask(), caps_all_mask() };
        for (size_t i = 0; i < ELEMENTSOF(masks); i++) {
                s = caps_format(masks[i]);
                assert_non_null(s);
                assert_int_equal(caps_parse(s, &m), 0);
                assert_int_equal(m, masks[i]);
                free(s);
        }
}

static void test_caps_default(void **state) {
        uint64_t d = caps_default_mask();
        char *s = caps_format(d);

        assert_non_null(s);
        assert_string_equal(s, "CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,SETGID,SETUID,SETPCAP,"
                               "NET_BIND_SERVICE,SYS_CHROOT,SETFCAP");
        free(s);

        /* The ones that matter most are out. */
        const int out[] = {
                CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_NET_RAW, CAP_MKNOD, CAP_AUDIT_WRITE,
                CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_SYS_MODULE, CAP_SYS_RAWIO,
                CAP_SYS_BOOT, CAP_SYS_TIME, CAP_SYS_RESOURCE, CAP_BPF, CAP_PERFMON,
                CAP_SYSLOG, CAP_MAC_ADMIN, CAP_LINUX_IMMUTABLE,
        };
        for (size_t i = 0; i < ELEMENTSOF(out); i++)
                assert_false(d & CAP_MASK(out[i]));
}

static void child_caps_apply_root(void) {
        uint64_t d = caps_default_mask();

        if (geteuid() != 0)
                CHILD_SKIP("not root");
        CHILD_CHECK(status_caps("CapEff") & CAP_MASK(CAP_SYS_ADMIN));

        CHILD_CHECK(caps_drop_bounding(d) == 0);
        CHILD_CHECK(status_caps("CapBnd") == d);
        /* Dropping the bounding set alone leaves the effective set alone. */
        CHILD_CHECK(status_caps("CapEff") & CAP_MASK(CAP_SYS_ADMIN));

        CHILD_CHECK(caps_apply(d) == 0);
        CHILD_CHECK(status_caps("CapEff") == d);
        CHILD_CHECK(status_caps("CapPrm") == d);
        CHILD_CHECK(status_caps("CapInh") == d);
        CHILD_CHECK(status_caps("CapBnd") == d);
        CHILD_CHECK(status_caps("CapAmb") == 0);

        /* An ambient capability is cleared by the next caps_apply(). */
        CHILD_CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0) == 0);
        CHILD_CHECK(status_caps("CapAmb") == CAP_MASK(CAP_CHOWN));
        CHILD_CHECK(caps_apply(d) == 0);
        CHILD_CHECK(status_caps("CapAmb") == 0);

        /* Without CAP_SETPCAP nothing more can leave the bounding set... */
        CHILD_CHECK(caps_apply(CAP_MASK(CAP_CHOWN) | CAP_MASK(CAP_KILL)) == 0);
        CHILD_CHECK(caps_drop_bounding(CAP_MASK(CAP_CHOWN)) == -EPERM);
        /* ...and what is gone from permitted does not come back: keep is
         * intersected with it, without an error. */
        CHILD_CHECK(caps_apply(d) == 0);
        CHILD_CHECK(status_caps("CapEff") == (CAP_MASK(CAP_CHOWN) | CAP_MASK(CAP_KILL)));
        /* Dropping what is already dropped needs no capability. */
        CHILD_CHECK(caps_drop_bounding(d) == 0);
}

static void test_caps_apply_root(void **state) {
        run_in_child(child_caps_apply_root);
}

static void child_caps_apply_nonroot(void) {
        uint64_t d = caps_default_mask();

        if (geteuid() != 0)
                CHILD_SKIP("not root");
        CHILD_CHECK(caps_drop_bounding(d) == 0);
        CHILD_CHECK(setgroups(0, NULL) == 0);
        CHILD_CHECK(setresgid(65534, 65534, 65534) == 0);
        CHILD_CHECK(setresuid(65534, 65534, 65534) == 0);
        /* The kernel emptied the permitted set; caps_apply must not fail. */
        CHILD_CHECK(status_caps("CapPrm") == 0);
        CHILD_CHECK(caps_apply(d) == 0);
        CHILD_CHECK(status_caps("CapEff") == 0);
        CHILD_CHECK(status_caps("CapPrm") == 0);
        CHILD_CHECK(status_caps("CapInh") == 0);
        CHILD_CHECK(status_caps("CapBnd") == d);
}

static void test_caps_apply_nonroot(void **state) {
        run_in_child(child_caps_apply_nonroot);
}

static void child_caps_apply_keepcaps(void) {
        uint64_t d = caps_default_mask();

        if (geteuid() != 0)
                CHILD_SKIP("not root");
        /* With KEEPCAPS a non-root uid keeps permitted (effective is cleared):
         * caps_apply() brings the kept set back into effective. */
        CHILD_CHECK(caps_drop_bounding(d) == 0);
        CHILD_CHECK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0);
        CHILD_CHECK(setresuid(65534, 65534, 65534) == 0);
        CHILD_CHECK(status_caps("CapEff") == 0);
        CHILD_CHECK(caps_apply(d) == 0);
        CHILD_CHECK(status_caps("CapEff") == d);
        CHILD_CHECK(status_caps("CapPrm") == d);
}

static void test_caps_apply_keepcaps(void **state) {
        run_in_child(child_caps_apply_keepcaps);
}

/* ---- no_new_privs ------------------------------------------------------- */

static void child_no_new_privs(void) {
        CHILD_CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0);
        CHILD_CHECK(no_new_privs_set() == 0);
        CHILD_CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
        /* Inherited by children. */
        pid_t pid = fork();
        CHILD_CHECK(pid >= 0);
        if (pid == 0)
                _exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1);
        int status;
        CHILD_CHECK(waitpid(pid, &status, 0) == pid);
        CHILD_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* exec_place_fds(): descriptors passed to an invoked app land at 3, 4, …
 * in order, also when some of them (and the report pipe) already sit in
 * that range; the report pipe moves above it.  No root needed. */
static ino_t ino_of(int fd) {
        struct stat st;
        return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static void child_place_fds(void) {
        ino_t x, keep, y, z;
        int fds[3], k = 4;

        /* 3 = x, 4 = keep (the pipe), 5 = y, 6 = z. */
        CHILD_CHECK(close_range(3, ~0U, 0) == 0);
        CHILD_CHECK(memfd_create("x", MFD_CLOEXEC) == 3);
        CHILD_CHECK(memfd_create("keep", MFD_CLOEXEC) == 4);
        CHILD_CHECK(memfd_create("y", MFD_CLOEXEC) == 5);
        CHILD_CHECK(memfd_create("z", MFD_CLOEXEC) == 6);
        x = ino_of(3), keep = ino_of(4), y = ino_of(5), z = ino_of(6);
        fds[0] = 6, fds[1] = 3, fds[2] = 5; /* z, x, y */
        CHILD_CHECK(exec_place_fds(fds, 3, &k) == 0);
        CHILD_CHECK(ino_of(3) == z && ino_of(4) == x && ino_of(5) == y);
        for (int fd = 3; fd <= 5; fd++)
                CHILD_CHECK(fcntl(fd, F_GETFD) == 0); /* passed on: no close-on-exec */
        CHILD_CHECK(k >= 6 && ino_of(k) == keep);
        CHILD_CHECK(fcntl(k, F_GETFD) == FD_CLOEXEC);
        /* Nothing else is left open without close-on-exec. */
        for (int fd = 6; fd < 64; fd++)
                CHILD_CHECK(fcntl(fd, F_GETFD) < 0 || fcntl(fd, F_GETFD) == FD_CLOEXEC);
        /* None: nothing changes. */
        CHILD_CHECK(exec_place_fds(NULL, 0, &k) == 0);
        CHILD_CHECK(ino_of(k) == keep);
        CHILD_CHECK(exec_place_fds(fds, EXEC_PASS_FDS_MAX + 1, NULL) == -E2BIG);
}

static void test_place_fds(void **state) {
        run_in_child(child_place_fds);
        (void) state;
}

static void test_no_new_privs(void **state) {
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
                skip(); /* already set by whoever runs us: nothing to observe */
        run_in_child(child_no_new_privs);
}

/* ---- seccomp ------------------------------------------------------------ */

static const SeccompDenial *find_denial(const char *name) {
        size_t n;
        const SeccompDenial *d = seccomp_default_denials(&n);

        for (size_t i = 0; i < n; i++)
                if (streq(d[i].syscall, name))
                        return &d[i];
        return NULL;
}

static int verdict(const char *name, uint64_t caps) {
        int error = 0;
        SeccompVerdict v = seccomp_verdict(name, caps, &error);

        if (v == SECCOMP_VERDICT_ALLOW)
                return 0;
        if (v == SECCOMP_VERDICT_ARGS)
                return -1;
        return error;
}

static void test_seccomp_table(void **state) {
        /* Refused whatever the capabilities (the old deny list). */
        static const char *const required[] = {
                "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
                "reboot", "mount", "umount2", "pivot_root", "swapon", "swapoff", "bpf",
                "perf_event_open", "keyctl", "add_key", "request_key", "setns",
                "open_by_handle_at", "name_to_handle_at", "userfaultfd", "acct", "settimeofday",
                "clock_settime", "iopl", "ioperm", "lookup_dcookie", "quotactl", "syslog",
                "vhangup", "fsopen", "fsmount", "move_mount", "open_tree", "fsconfig", "fspick",
                "mount_setattr", "io_uring_setup",
        };
        /* What every program needs. */
        static const char *const base[] = {
                "read", "write", "openat", "close", "mmap", "brk", "execve", "exit_group",
                "futex", "rseq", "rt_sigaction", "epoll_wait", "getrandom", "prctl", "wait4",
                "socketpair", "connect", "clock_gettime", "statx", "getdents64", "pidfd_open",
                "pidfd_send_signal", "close_range", "memfd_create", "landlock_create_ruleset",
        };
        static const char *const ptrace_family[] = {
                "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
                "process_madvise",
        };
        uint64_t def = caps_default_mask(), all = caps_all_mask();
        size_t n, n_groups;
        const SeccompDenial *d = seccomp_default_denials(&n);
        const SeccompGroup *g = seccomp_allow_groups(&n_groups);

        for (size_t i = 0; i < ELEMENTSOF(required); i++) {
                if (!find_denial(required[i]))
                        fail_msg("%s is not in the deny list", required[i]);
                /* No capability reopens it. */
                assert_int_equal(verdict(required[i], all), EPERM);
        }
        for (size_t i = 0; i < ELEMENTSOF(base); i++)
                if (verdict(base[i], 0) != 0)
                        fail_msg("%s is not allowed without capabilities", base[i]);
        for (size_t i = 0; i < ELEMENTSOF(ptrace_family); i++) {
                assert_int_equal(verdict(ptrace_family[i], def), EPERM);
                assert_int_equal(verdict(ptrace_family[i], def | CAP_MASK(CAP_SYS_PTRACE)), 0);
        }
        /* Which group a capability opens. */
        assert_int_equal(verdict("sethostname", def), EPERM);
        assert_int_equal(verdict("sethostname", CAP_MASK(CAP_SYS_ADMIN)), 0);
        assert_int_equal(verdict("chroot", def), 0);
        assert_int_equal(verdict("chroot", def & ~CAP_MASK(CAP_SYS_CHROOT)), EPERM);
        assert_int_equal(verdict("mbind", def), EPERM);
        assert_int_equal(verdict("mbind", CAP_MASK(CAP_SYS_NICE)), 0);
        assert_int_equal(verdict("mount", CAP_MASK(CAP_SYS_ADMIN)), EPERM);
        /* Unknown, and known to nobody: ENOSYS. */
        assert_int_equal(verdict("clone3", all), ENOSYS);
        assert_int_equal(verdict("no_such_call", all), ENOSYS);
        assert_int_equal(verdict("socketcall", all), ENOSYS);
        assert_int_equal(verdict("clone", 0), -1);
        assert_int_equal(verdict("socket", 0), -1);
        assert_int_equal(verdict("personality", 0), -1);

        for (size_t i = 0; i < n; i++) {
                assert_non_null(d[i].reason);
                assert_true(strlen(d[i].reason) > 0);
                assert_true(d[i].error == EPERM || d[i].error == ENOSYS);
        }
        assert_int_equal(find_denial("clone3")->error, ENOSYS);
        /* A call is in one place only: a group, or the deny list. */
        for (size_t i = 0; i < n_groups; i++) {
                assert_true(strlen(g[i].reason) > 0);
                for (const char *const *s = g[i].syscalls; *s; s++) {
                        if (find_denial(*s))
                                fail_msg("%s is both allowed (%s) and denied", *s, g[i].name);
                        for (size_t j = 0; j < n_groups; j++)
                                for (const char *const *t = g[j].syscalls; *t; t++)
                                        if (t != s && streq(*t, *s))
                                                fail_msg("%s is listed twice", *s);
                }
        }
}

static void test_seccomp_args(void **state) {
        uint64_t def = caps_default_mask();
        uint64_t buf[16];
        size_t n;

        /* Namespaces need CAP_SYS_ADMIN; user namespaces are never made. */
        assert_true(seccomp_clone_denied_flags(def, false) & CLONE_NEWUTS);
        assert_true(seccomp_clone_denied_flags(def, false) & CLONE_NEWUSER);
        assert_false(seccomp_clone_denied_flags(def, false) & CLONE_NEWTIME); /* exit signal bits */
        assert_true(seccomp_clone_denied_flags(def, true) & CLONE_NEWTIME);
        assert_int_equal(seccomp_clone_denied_flags(def | CAP_MASK(CAP_SYS_ADMIN), true), CLONE_NEWUSER);
        assert_false(seccomp_clone_denied_flags(caps_all_mask(), false) & (CLONE_FILES | CLONE_VM | CLONE_THREAD));

        assert_true(seccomp_socket_allowed(AF_UNIX, 0, 0));
        assert_true(seccomp_socket_allowed(AF_INET, 0, 0));
        assert_true(seccomp_socket_allowed(AF_INET6, 0, 0));
        assert_true(seccomp_socket_allowed(AF_NETLINK, NETLINK_ROUTE, 0));
        assert_true(seccomp_socket_allowed(AF_NETLINK, NETLINK_SOCK_DIAG, 0));
        assert_false(seccomp_socket_allowed(AF_NETLINK, NETLINK_AUDIT, def));
        assert_true(seccomp_socket_allowed(AF_NETLINK, NETLINK_AUDIT, CAP_MASK(CAP_AUDIT_WRITE)));
        assert_false(seccomp_socket_allowed(AF_NETLINK, NETLINK_KOBJECT_UEVENT, caps_all_mask()));
        assert_false(seccomp_socket_allowed(AF_NETLINK, NETLINK_XFRM, def));
        assert_true(seccomp_socket_allowed(AF_NETLINK, NETLINK_XFRM, CAP_MASK(CAP_NET_ADMIN)));
        assert_false(seccomp_socket_allowed(AF_VSOCK, 0, caps_all_mask()));
        assert_false(seccomp_socket_allowed(AF_ALG, 0, caps_all_mask()));
        assert_false(seccomp_socket_allowed(AF_PACKET, 0, def));
        assert_true(seccomp_socket_allowed(AF_PACKET, 0, CAP_MASK(CAP_NET_RAW)));

        assert_true(seccomp_personality_allowed(0));
        assert_true(seccomp_personality_allowed(0xffffffff));
        assert_true(seccomp_personality_allowed(ADDR_NO_RANDOMIZE | PER_LINUX32));
        assert_false(seccomp_personality_allowed(MMAP_PAGE_ZERO));
        assert_false(seccomp_personality_allowed(READ_IMPLIES_EXEC));
        assert_false(seccomp_personality_allowed(PER_SVR4));
        assert_false(seccomp_personality_allowed(UINT64_C(0x100000000)));
        /* The filter's list is exactly what the predicate allows. */
        n = seccomp_personality_values(buf, ELEMENTSOF(buf));
        assert_true(n <= ELEMENTSOF(buf));
        for (size_t i = 0; i < n; i++)
                assert_true(seccomp_personality_allowed(buf[i]));
        for (uint64_t v = 0; v < 0x80000; v++) {
                bool listed = false;
                for (size_t i = 0; i < n; i++)
                        listed |= buf[i] == v;
                assert_int_equal(listed, seccomp_personality_allowed(v));
        }
        (void) state;
}

/* docs/SANDBOX.md lists every denied call, so the two cannot drift apart. */
static void test_seccomp_documented(void **state) {
        const char *top = getenv("top_srcdir");
        char path[4096], *doc;
        size_t n;
        const SeccompDenial *d = seccomp_default_denials(&n);
        FILE *f;
        long len;

        if (!top)
                skip();
        snprintf(path, sizeof(path), "%s/docs/SANDBOX.md", top);
        f = fopen(path, "re");
        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        len = ftell(f);
        assert_true(len > 0);
        rewind(f);
        doc = calloc(1, (size_t) len + 1);
        assert_non_null(doc);
        assert_int_equal(fread(doc, 1, (size_t) len, f), (size_t) len);
        fclose(f);

        for (size_t i = 0; i < n; i++) {
                char needle[128];
                snprintf(needle, sizeof(needle), "`%s`", d[i].syscall);
                if (!strstr(doc, needle))
                        fail_msg("%s: %s is not documented", path, needle);
        }
        size_t n_groups;
        const SeccompGroup *g = seccomp_allow_groups(&n_groups);
        for (size_t i = 0; i < n_groups; i++)
                for (const char *const *sc = g[i].syscalls; *sc; sc++) {
                        char needle[128];
                        snprintf(needle, sizeof(needle), "`%s`", *sc);
                        if (!strstr(doc, needle))
                                fail_msg("%s: %s (group %s) is not documented", path, needle, g[i].name);
                }
        char *names = caps_format(caps_default_mask());
        assert_non_null(names);
        for (char *tok = strtok(names, ","); tok; tok = strtok(NULL, ",")) {
                char needle[64];
                snprintf(needle, sizeof(needle), "`%s`", tok);
                if (!strstr(doc, needle))
                        fail_msg("%s: capability %s is not documented", path, needle);
        }
        free(names);
        free(doc);
}

static char *export_default(SeccompExportFormat format, size_t *ret_len) {
        int fd = memfd_create("test-export", MFD_CLOEXEC);
        struct stat st;
        char *buf;

        assert_true(fd >= 0);
        assert_int_equal(seccomp_export_default(fd, format), 0);
        assert_int_equal(fstat(fd, &st), 0);
        buf = calloc(1, (size_t) st.st_size + 1);
        assert_non_null(buf);
        assert_int_equal(pread(fd, buf, (size_t) st.st_size, 0), st.st_size);
        close(fd);
        *ret_len = (size_t) st.st_size;
        return buf;
}

static void test_seccomp_export(void **state) {
        size_t len;
        char *pfc = export_default(SECCOMP_EXPORT_PFC, &len);

        assert_true(len > 0);
        /* A system call from an ABI the filter does not know kills. */
        assert_non_null(strstr(pfc, "# invalid architecture action\naction KILL"));
#if defined(__x86_64__)
        /* The deny list covers every ABI a x86_64 process can use. */
        assert_non_null(strstr(pfc, "# filter for arch x86_64 "));
        assert_non_null(strstr(pfc, "# filter for arch x86 "));
        assert_non_null(strstr(pfc, "# filter for arch x32 "));
#endif
        free(pfc);

        char *bpf = export_default(SECCOMP_EXPORT_BPF, &len);
        assert_true(len > 0);
        assert_int_equal(len % 8, 0); /* struct sock_filter */
        free(bpf);

        SeccompProgram *p = NULL;
        assert_int_equal(seccomp_program_new_default(&p), 0);
        assert_non_null(p);
        seccomp_program_free(p);
        seccomp_program_free(NULL);
}

#if defined(__x86_64__)
/* A system call through the i386 ABI ("int $0x80") from a 64-bit process. */
static long syscall_i386(long nr, long a1, long a2, long a3) {
        long ret;
        __asm__ volatile("int $0x80"
                         : "=a"(ret)
                         : "a"(nr), "b"(a1), "c"(a2), "d"(a3)
                         : "memory", "r8", "r9", "r10", "r11");
        return ret;
}

/* In a clean child (child_status()): 0 if the i386 ABI answers, 1 if it
 * returned something else (-ENOSYS, say), or killed by the signal a kernel
 * without it sends (SIGSEGV on 6.18).  SHUTTLE_TEST_NO_IA32=1 makes the
 * probe die as on such a kernel, so that the skip path is tested here too. */
static int i386_probe(void) {
        if (getenv("SHUTTLE_TEST_NO_IA32"))
                raise(SIGSEGV);
        /* getpid is 20 on i386. */
        return syscall_i386(20, 0, 0, 0) == getpid() ? 0 : 1;
}

/* Whether the kernel runs i386 system calls of a 64-bit process: true, or
 * false with the reason in why. */
static bool have_i386_abi(char *why, size_t size) {
        int st = child_status(i386_probe);

        if (st == 0)
                return true;
        if (st == 128 + SIGSEGV || st == 128 + SIGILL || st == 128 + SIGBUS)
                snprintf(why, size, "no i386 ABI on this kernel (int $0x80 killed the probe with SIG%s)",
                         sigabbrev_np(st - 128) ?: "?");
        else if (st == 1)
                snprintf(why, size, "no i386 ABI on this kernel (int $0x80 getpid did not return the pid)");
        else
                fail_msg("the i386 probe ended with status %d", st);
        return false;
}
#endif

static void *thread_fn(void *arg) {
        return arg;
}

static int userns_probe(void) {
        return unshare(CLONE_NEWUSER) == 0 ? 0 : 1;
}

#define PTRACE_PEEKDATA_ 2

#define CHECK_ERRNO(call, err)                                                          \
        do {                                                                            \
                errno = 0;                                                              \
                long _r = (long) (call);                                                \
                if (_r != -1 || errno != (err)) {                                       \
                        fprintf(stderr, "%s:%d: %s = %ld, errno %d (%s), want %s\n",    \
                                __FILE__, __LINE__, #call, _r, errno, strerror(errno),  \
                                #err);                                                  \
                        _exit(1);                                                       \
                }                                                                       \
        } while (0)

/* A private mount namespace (so that a broken filter cannot mount on the
 * host; made before the filter forbids mount()), then the default filter. */
static void child_load_default_filter(void) {
        if (unshare(CLONE_NEWNS) < 0)
                CHILD_SKIP("unshare(CLONE_NEWNS): %s", strerror(errno));
        CHILD_CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);

        CHILD_CHECK(seccomp_load_default() == 0);
        CHILD_CHECK(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2);
}

static void child_seccomp(void) {
        if (geteuid() != 0)
                CHILD_SKIP("not root");

        /* As root with every capability, the calls below would succeed or
         * fail with another errno than the filter's; user namespaces too,
         * unless whatever runs us forbids them already. */
        if (child_status(userns_probe) != 0)
                fprintf(stderr, "note: user namespaces are unavailable even without the filter\n");
        child_load_default_filter();

        /* Denied. */
        CHECK_ERRNO(unshare(CLONE_NEWUSER), EPERM);
        CHECK_ERRNO(unshare(CLONE_NEWUSER | CLONE_NEWNS), EPERM);
        CHECK_ERRNO(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_clone3, NULL, 0), ENOSYS);
        CHECK_ERRNO(mount("none", "/tmp", "tmpfs", 0, NULL), EPERM);
        CHECK_ERRNO(umount2("/proc", MNT_DETACH), EPERM);
        CHECK_ERRNO(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_add_key, "user", "x", "y", 1, KEY_SPEC_PROCESS_KEYRING), EPERM);
        CHECK_ERRNO(syscall(SYS_bpf, 9999, NULL, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM);
        CHECK_ERRNO(setns(-1, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_reboot, 0, 0, 0, NULL), EPERM);
        CHECK_ERRNO(syscall(SYS_finit_module, -1, "", 0), EPERM);
        CHECK_ERRNO(syscall(SYS_open_by_handle_at, -1, NULL, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_io_uring_setup, 0, NULL), EPERM);
        CHECK_ERRNO(syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_userfaultfd, 0), EPERM);
        /* Not in the default capability set: the ptrace family and
         * namespaces other than user ones are refused by the filter too. */
        CHECK_ERRNO(syscall(SYS_kcmp, getpid(), getpid(), 0, 0, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_pidfd_getfd, -1, 0, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_process_madvise, -1, NULL, 0, 0, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_ptrace, PTRACE_PEEKDATA_, getppid(), 0, 0), EPERM);
        CHECK_ERRNO(unshare(CLONE_NEWUTS), EPERM);
        CHECK_ERRNO(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT), EPERM);
        CHECK_ERRNO(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT), EPERM);
        CHECK_ERRNO(socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_socket, (long) (UINT64_C(1) << 32 | AF_UNIX), SOCK_STREAM, 0), EPERM);
        CHECK_ERRNO(personality(MMAP_PAGE_ZERO), ENOSYS);
        /* Unknown numbers: ENOSYS, as from a kernel that lacks them. */
        CHECK_ERRNO(syscall(1000), ENOSYS);
        CHECK_ERRNO(syscall(0x3ffffff), ENOSYS);

        /* Still allowed. */
        CHILD_CHECK(getpid() > 0);
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        CHILD_CHECK(fd >= 0);
        close(fd);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHILD_CHECK(fd >= 0);
        close(fd);
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        CHILD_CHECK(fd >= 0);
        close(fd);
        CHILD_CHECK(personality(0xffffffff) >= 0);
        /* fork() uses clone(); threads fall back from clone3 to clone. */
        pid_t pid = fork();
        CHILD_CHECK(pid >= 0);
        if (pid == 0)
                _exit(42);
        int status;
        CHILD_CHECK(waitpid(pid, &status, 0) == pid);
        CHILD_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42);
        pthread_t t;
        void *res = NULL;
        CHILD_CHECK(pthread_create(&t, NULL, thread_fn, (void *) 0x1234) == 0);
        CHILD_CHECK(pthread_join(t, &res) == 0);
        CHILD_CHECK(res == (void *) 0x1234);

}

static void test_seccomp_default(void **state) {
        run_in_child(child_seccomp);
}

#if defined(__x86_64__)
/* The same calls through the i386 ABI are denied, not dodged. */
static void child_seccomp_i386(void) {
        if (geteuid() != 0)
                CHILD_SKIP("not root");
        child_load_default_filter();

        CHILD_CHECK(syscall_i386(20, 0, 0, 0) == getpid());        /* getpid */
        CHILD_CHECK(syscall_i386(310, CLONE_NEWUSER, 0, 0) == -EPERM); /* unshare */
        CHILD_CHECK(syscall_i386(288, 0, 0, 0) == -EPERM);          /* keyctl */
        CHILD_CHECK(syscall_i386(21, 0, 0, 0) == -EPERM);           /* mount */
        CHILD_CHECK(syscall_i386(435, 0, 0, 0) == -ENOSYS);         /* clone3 */
        CHILD_CHECK(syscall_i386(349, 0, 0, 0) == -EPERM);          /* kcmp */
        CHILD_CHECK(syscall_i386(359, AF_UNIX, SOCK_STREAM, 0) == -EPERM); /* socket */
        CHILD_CHECK(syscall_i386(102, 1 /* SYS_SOCKET */, 0, 0) == -EPERM); /* socketcall */
        CHILD_CHECK(syscall_i386(2000, 0, 0, 0) == -ENOSYS);
}
#endif

static void test_seccomp_i386(void **state) {
#if defined(__x86_64__)
        char why[128];

        if (!have_i386_abi(why, sizeof(why))) {
                /* cmocka's skip() takes no reason: a TAP comment says it. */
                printf("# test_seccomp_i386: skipped: %s\n", why);
                fflush(stdout);
                skip();
        }
        run_in_child(child_seccomp_i386);
#else
        printf("# test_seccomp_i386: skipped: not an x86_64 build\n");
        skip();
#endif
}

/* The programs compiled at build time (the default set, runc's and crun's
 * default set) are what libseccomp compiles now, instruction for
 * instruction, and are what a start gets, also for a set that differs only
 * where the profile does not look; another set is compiled. */
static void test_seccomp_builtin(void **state) {
        SeccompProgram *built = NULL, *now = NULL, *other = NULL;
        const struct sock_filter *a, *b, *c;
        size_t na, nb, nc;

        assert_int_equal(seccomp_program_new_default(&built), 0);
        assert_int_equal(seccomp_program_compile(caps_default_mask(), &now), 0);
        a = seccomp_program_code(built, &na);
        b = seccomp_program_code(now, &nb);
        assert_true(na > 0);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na * sizeof(struct sock_filter));

        /* A set that differs only where the profile does not look (KILL
         * dropped): the same program. */
        {
                SeccompProgram *same = NULL;
                const struct sock_filter *d;
                size_t nd;

                assert_int_equal(seccomp_program_builtin(caps_default_mask() & ~(UINT64_C(1) << CAP_KILL), &same), 0);
                d = seccomp_program_code(same, &nd);
                assert_int_equal(nd, na);
                assert_memory_equal(a, d, na * sizeof(struct sock_filter));
                seccomp_program_free(same);
        }
        /* runc's and crun's default set (AUDIT_WRITE, KILL,
         * NET_BIND_SERVICE) is built in too, and is what compiling gives. */
        {
                uint64_t oci = (UINT64_C(1) << CAP_AUDIT_WRITE) | (UINT64_C(1) << CAP_KILL) |
                               (UINT64_C(1) << CAP_NET_BIND_SERVICE);
                SeccompProgram *fast = NULL, *slow = NULL;
                const struct sock_filter *e, *f;
                size_t ne, nf;

                assert_int_equal(seccomp_program_builtin(oci, &fast), 0);
                assert_int_equal(seccomp_program_compile(oci, &slow), 0);
                e = seccomp_program_code(fast, &ne);
                f = seccomp_program_code(slow, &nf);
                assert_int_equal(ne, nf);
                assert_memory_equal(e, f, ne * sizeof(struct sock_filter));
                seccomp_program_free(fast);
                seccomp_program_free(slow);
        }

        /* With CAP_SYS_ADMIN more calls are allowed: another program. */
        assert_int_equal(seccomp_program_new(caps_default_mask() | (UINT64_C(1) << CAP_SYS_ADMIN), &other), 0);
        c = seccomp_program_code(other, &nc);
        assert_true(nc != na || memcmp(a, c, na * sizeof(struct sock_filter)) != 0);
        seccomp_program_free(built);
        seccomp_program_free(now);
        seccomp_program_free(other);
}

/* ---- rlimits ------------------------------------------------------------ */

static void test_rlimit_parse(void **state) {
        static const struct {
                const char *s;
                int resource;
                rlim_t soft, hard;
        } good[] = {
                { "nofile=1024", RLIMIT_NOFILE, 1024, 1024 },
                { "nofile=1024:4096", RLIMIT_NOFILE, 1024, 4096 },
                { "NOFILE=1:2", RLIMIT_NOFILE, 1, 2 },
                { "nproc=unlimited", RLIMIT_NPROC, RLIM_INFINITY, RLIM_INFINITY },
                { "core=0:unlimited", RLIMIT_CORE, 0, RLIM_INFINITY },
                { "as=0", RLIMIT_AS, 0, 0 },
                { "stack=8388608:unlimited", RLIMIT_STACK, 8388608, RLIM_INFINITY },
                { "rttime=5:5", RLIMIT_RTTIME, 5, 5 },
        };
        static const char *const bad[] = {
                "", "nofile", "nofile=", "=1", "nofile=abc", "nofile=-1", "nofile=4096:1024",
                "nofile=unlimited:1024", "bogus=1", "nofile=1:2:3", "nofile=1:", "nofile=:1",
                "nofile= 1", "nofile=1k", "nofile=99999999999999999999999", "no file=1",
                "rlimit_nofile=1",
        };
        static const char *const names[] = {
                "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
                "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack", "as",
        };
        RlimitSpec s;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                memset(&s, 0, sizeof(s));
                if (rlimit_parse(good[i].s, &s) != 0)
                        fail_msg("rlimit_parse(\"%s\") failed", good[i].s);
                assert_int_equal(s.resource, good[i].resource);
                assert_true(s.limit.rlim_cur == good[i].soft);
                assert_true(s.limit.rlim_max == good[i].hard);
                /* What the state file records parses back to the same. */
                {
                        RlimitSpec back = {};
                        char buf[96];
                        assert_int_equal(rlimit_format(&s, buf, sizeof(buf)), 0);
                        assert_int_equal(rlimit_parse(buf, &back), 0);
                        assert_memory_equal(&back, &s, sizeof(s));
                }
        }
        {
                char small[8];
                assert_int_equal(rlimit_format(&s, small, sizeof(small)), -ENOBUFS);
                s.resource = 4242;
                assert_int_equal(rlimit_format(&s, small, sizeof(small)), -EINVAL);
        }
        {
                char buf[32];
                assert_int_equal(rlimit_format(&(RlimitSpec){ .resource = RLIMIT_CORE,
                                                              .limit = { 0, RLIM_INFINITY } },
                                               buf, sizeof(buf)),
                                 0);
                assert_string_equal(buf, "core=0:unlimited");
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                s = (RlimitSpec) { .resource = 4242 };
                if (rlimit_parse(bad[i], &s) >= 0)
                        fail_msg("rlimit_parse(\"%s\") accepted", bad[i]);
                assert_int_equal(s.resource, 4242); /* untouched */
        }
        assert_true(rlimit_parse(NULL, &s) < 0);

        /* Every documented name parses and formats back. */
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char buf[64];
                snprintf(buf, sizeof(buf), "%s=7", names[i]);
                assert_int_equal(rlimit_parse(buf, &s), 0);
                assert_string_equal(rlimit_name(s.resource), names[i]);
        }
        assert_null(rlimit_name(4242));
}

static void child_rlimits(void) {
        struct rlimit cur, fsize;

        /* Run without CAP_SYS_RESOURCE, as root on this machine does, so the
         * EPERM path is checked everywhere. */
        if (geteuid() == 0)
                CHILD_CHECK(caps_apply(caps_all_mask() & ~CAP_MASK(CAP_SYS_RESOURCE)) == 0);
        CHILD_CHECK((status_caps("CapEff") & CAP_MASK(CAP_SYS_RESOURCE)) == 0);

        CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &cur) == 0);
        if (cur.rlim_max < 200)
                CHILD_SKIP("nofile hard limit below 200");

        /* Lowering works. */
        RlimitSpec lower[] = {
                { RLIMIT_NOFILE, { 100, 200 } },
                { RLIMIT_CORE, { 0, 0 } },
        };
        const RlimitSpec *failed = NULL;
        CHILD_CHECK(rlimits_apply(lower, ELEMENTSOF(lower), &failed) == 0);
        CHILD_CHECK(failed == NULL);
        CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &cur) == 0);
        CHILD_CHECK(cur.rlim_cur == 100 && cur.rlim_max == 200);
        CHILD_CHECK(getrlimit(RLIMIT_CORE, &cur) == 0);
        CHILD_CHECK(cur.rlim_cur == 0 && cur.rlim_max == 0);

        /* Raising the soft limit up to the hard one works too. */
        RlimitSpec soft[] = { { RLIMIT_NOFILE, { 200, 200 } } };
        CHILD_CHECK(rlimits_apply(soft, 1, &failed) == 0);
        CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &cur) == 0 && cur.rlim_cur == 200);

        /* Raising the hard limit fails, names the spec, and changes nothing,
         * not even the specs before it. */
        CHILD_CHECK(getrlimit(RLIMIT_FSIZE, &fsize) == 0);
        CHILD_CHECK(fsize.rlim_max > 1);
        RlimitSpec raise[] = {
                { RLIMIT_FSIZE, { 1, 1 } },
                { RLIMIT_NOFILE, { 100, 201 } },
        };
        rlim_t max = 0;
        failed = NULL;
        CHILD_CHECK(rlimits_check(raise, ELEMENTSOF(raise), &failed, &max) == -EPERM);
        CHILD_CHECK(failed == &raise[1]);
        CHILD_CHECK(max == 200);
        failed = NULL;
        CHILD_CHECK(rlimits_apply(raise, ELEMENTSOF(raise), &failed) == -EPERM);
        CHILD_CHECK(failed == &raise[1]);
        CHILD_CHECK(streq(rlimit_name(failed->resource), "nofile"));
        CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &cur) == 0);
        CHILD_CHECK(cur.rlim_cur == 200 && cur.rlim_max == 200);
        CHILD_CHECK(getrlimit(RLIMIT_FSIZE, &cur) == 0);
        CHILD_CHECK(cur.rlim_cur == fsize.rlim_cur && cur.rlim_max == fsize.rlim_max);

        /* "unlimited" is a raise too. */
        RlimitSpec unlimited[] = { { RLIMIT_NOFILE, { 100, RLIM_INFINITY } } };
        CHILD_CHECK(rlimits_apply(unlimited, 1, &failed) == -EPERM);
        CHILD_CHECK(failed == &unlimited[0]);
}

static void test_rlimits_apply(void **state) {
        run_in_child(child_rlimits);
}

/* ---- netlink ------------------------------------------------------------ */

static int ioctl_is_up(const char *ifname) {
        struct ifreq ifr = {};
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

        if (fd < 0)
                return -1;
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
        r = ioctl(fd, SIOCGIFFLAGS, &ifr);
        close(fd);
        if (r < 0)
                return -1;
        return !!(ifr.ifr_flags & IFF_UP);
}

/* Connects to a listener on 127.0.0.1; 0 or the connect() errno. */
static int loopback_connect(void) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t alen = sizeof(a);
        int l, c, s, r = 0;

        c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c < 0)
                return errno;
        l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (l < 0) {
                close(c);
                return errno;
        }
        if (bind(l, (struct sockaddr *) &a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
            getsockname(l, (struct sockaddr *) &a, &alen) < 0) {
                /* No listener possible: connect to an arbitrary port, which
                 * reports why 127.0.0.1 is unreachable. */
                a.sin_port = htons(9);
                r = connect(c, (struct sockaddr *) &a, sizeof(a)) < 0 ? errno : -1;
                goto out;
        }
        if (connect(c, (struct sockaddr *) &a, sizeof(a)) < 0) {
                r = errno;
                goto out;
        }
        s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (s < 0)
                r = errno;
        else
                close(s);
out:
        close(l);
        close(c);
        return r;
}

static void child_netlink(void) {
        bool up = true;

        if (geteuid() != 0)
                CHILD_SKIP("not root");
        if (unshare(CLONE_NEWNET) < 0)
                CHILD_SKIP("unshare(CLONE_NEWNET): %s", strerror(errno));

        /* --net none: lo exists and is down, 127.0.0.1 unreachable. */
        CHILD_CHECK(netlink_link_is_up("lo", &up) == 0);
        CHILD_CHECK(!up);
        CHILD_CHECK(ioctl_is_up("lo") == 0);
        CHILD_CHECK(loopback_connect() != 0);

        /* --net loopback. */
        CHILD_CHECK(netlink_loopback_up() == 0);
        CHILD_CHECK(netlink_link_is_up("lo", &up) == 0);
        CHILD_CHECK(up);
        CHILD_CHECK(ioctl_is_up("lo") == 1);
        CHILD_CHECK(loopback_connect() == 0);
        /* Idempotent. */
        CHILD_CHECK(netlink_loopback_up() == 0);

        /* And down again. */
        CHILD_CHECK(netlink_link_set_up("lo", false) == 0);
        CHILD_CHECK(netlink_link_is_up("lo", &up) == 0);
        CHILD_CHECK(!up);
        CHILD_CHECK(ioctl_is_up("lo") == 0);

        /* Errors come from the kernel's answer, outputs stay untouched. */
        up = true;
        CHILD_CHECK(netlink_link_is_up("nosuch0", &up) == -ENODEV);
        CHILD_CHECK(up);
        CHILD_CHECK(netlink_link_set_up("nosuch0", true) == -ENODEV);
        CHILD_CHECK(netlink_link_is_up("", &up) == -EINVAL);
        CHILD_CHECK(netlink_link_is_up("0123456789abcdef", &up) == -EINVAL);
}

static void test_netlink(void **state) {
        run_in_child(child_netlink);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_caps_parse),
                cmocka_unit_test(test_caps_format),
                cmocka_unit_test(test_caps_default),
                cmocka_unit_test(test_caps_apply_root),
                cmocka_unit_test(test_caps_apply_nonroot),
                cmocka_unit_test(test_caps_apply_keepcaps),
                cmocka_unit_test(test_no_new_privs),
                cmocka_unit_test(test_place_fds),
                cmocka_unit_test(test_seccomp_table),
                cmocka_unit_test(test_seccomp_args),
                cmocka_unit_test(test_seccomp_documented),
                cmocka_unit_test(test_seccomp_export),
                cmocka_unit_test(test_seccomp_default),
                cmocka_unit_test(test_seccomp_i386),
                cmocka_unit_test(test_seccomp_builtin),
                cmocka_unit_test(test_rlimit_parse),
                cmocka_unit_test(test_rlimits_apply),
                cmocka_unit_test(test_netlink),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
