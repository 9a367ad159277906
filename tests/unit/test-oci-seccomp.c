/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* linux.seccomp compiled with libseccomp (oci-seccomp.c) and loaded, after
 * no_new_privs, in forked children: denied calls fail with the errno the
 * profile asks for, allowed calls work, argument conditions (one argument
 * compared twice: any may match; two arguments: both must), KILL_PROCESS,
 * the notification listener, the podman-like profile of tests/unit/oci. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "runtime/oci-spec.h"
#include "runtime/sandbox.h"

/* A config.json around a linux.seccomp object. */
static OciSpec *parse_profile(const char *seccomp) {
        _cleanup_free_ char *json = NULL;
        char err[512] = "";
        OciSpec *s = NULL;

        assert_true(asprintf(&json, "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},"
                                    "\"linux\":{\"seccomp\":%s}}", seccomp) > 0);
        if (oci_spec_parse(json, strlen(json), &s, err, sizeof(err)) < 0)
                fail_msg("%s", err);
        assert_true(s->has_seccomp);
        return s;
}

static SeccompProgram *compile(const OciSpec *s) {
        SeccompProgram *p = NULL;
        char err[512] = "";

        if (oci_seccomp_program_new(&s->seccomp, &p, err, sizeof(err)) < 0)
                fail_msg("%s", err);
        return p;
}

/* Runs check() in a child that loaded p; returns its wait status.  check()
 * returns 0, or the number of the line that found a difference. */
static int run_child(const SeccompProgram *p, int (*check)(int listener)) {
        pid_t pid;
        int status;

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int fd;

                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(200);
                fd = seccomp_program_load(p);
                if (fd < 0)
                        _exit(201);
                _exit(check(fd));
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return status;
}

static void assert_exit_zero(int status) {
        if (WIFSIGNALED(status))
                fail_msg("child killed by signal %d", WTERMSIG(status));
        if (WEXITSTATUS(status) != 0)
                fail_msg("child check failed at line %d (200: no_new_privs, 201: load)",
                         WEXITSTATUS(status));
}

/* The call returns -1 with this errno. */
#define DENIED(call, e)                                        \
        do {                                                   \
                errno = 0;                                     \
                if ((call) != -1 || errno != (e))              \
                        return __LINE__ % 200;                 \
        } while (0)
#define WORKS(call)                                            \
        do {                                                   \
                if ((call) < 0)                                \
                        return __LINE__ % 200;                 \
        } while (0)

static const char basic_profile[] =
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\","
        "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\","
        "\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\",\"SCMP_ARCH_RISCV64\"],"
        "\"syscalls\":["
        /* An unknown name next to a known one: skipped, the rule holds. */
        "{\"names\":[\"no_such_call_at_all\",\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13},"
        /* ERRNO without errnoRet: EPERM. */
        "{\"names\":[\"setsid\"],\"action\":\"SCMP_ACT_ERRNO\"},"
        /* personality: PER_LINUX only. */
        "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"args\":["
        "{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_NE\"}]},"
        /* Two conditions on two arguments: both must hold. */
        "{\"names\":[\"getpriority\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,\"args\":["
        "{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"},"
        "{\"index\":1,\"value\":424242,\"op\":\"SCMP_CMP_EQ\"}]},"
        /* Two on one argument: each its own rule, either matches. */
        "{\"names\":[\"setpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":33,\"args\":["
        "{\"index\":0,\"value\":1000000,\"op\":\"SCMP_CMP_EQ\"},"
        "{\"index\":0,\"value\":1000001,\"op\":\"SCMP_CMP_EQ\"}]},"
        "{\"names\":[\"flock\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,\"args\":["
        "{\"index\":1,\"value\":4,\"valueTwo\":4,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
        "{\"names\":[\"dup\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,\"args\":["
        "{\"index\":0,\"value\":1000,\"op\":\"SCMP_CMP_GE\"}]},"
        "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,\"args\":["
        "{\"index\":0,\"value\":5,\"op\":\"SCMP_CMP_LT\"}]},"
        /* The default action again: skipped (libseccomp would refuse it). */
        "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"},"
        "{\"names\":[\"getuid\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}"
        "]}";

static int check_basic(int listener) {
        int fd;

        if (listener != 0)
                return 1;
        DENIED(syscall(SYS_getppid), EACCES); /* glibc's getppid() never sets errno */
        DENIED(setsid(), EPERM);
        WORKS(getpid());
        WORKS(personality(PER_LINUX));
        DENIED(personality(PER_LINUX32), EPERM);
        DENIED(personality(0xffffffff), EPERM);
        DENIED(getpriority(PRIO_PROCESS, 424242), EXDEV);
        /* Only one of the two matches: the call goes through (no such
         * process group, so ESRCH from the kernel). */
        DENIED(getpriority(PRIO_PGRP, 424242), ESRCH);
        WORKS(getpriority(PRIO_PROCESS, 0));
        DENIED(setpgid(1000000, 0), EDOM);
        DENIED(setpgid(1000001, 0), EDOM);
        DENIED(setpgid(1000002, 0), ESRCH);
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        WORKS(fd);
        DENIED(flock(fd, LOCK_SH | LOCK_NB), EXDEV);
        WORKS(flock(fd, LOCK_SH));
        DENIED(dup(1000), EXDEV);
        DENIED(dup(999), EBADF);
        DENIED(getpgid(4), EXDEV);
        DENIED(getpgid(0), EXDEV); /* 0 is below 5 too */
        DENIED(getpgid(999999), ESRCH);
        return 0;
}

static void test_rules(void **state _unused_) {
        OciSpec *s = parse_profile(basic_profile);
        SeccompProgram *p = compile(s);

        assert_int_equal(oci_seccomp_kernel_flags(&s->seccomp), 0);
        assert_exit_zero(run_child(p, check_basic));
        seccomp_program_free(p);
        oci_spec_free(s);
}

static int call_getuid(int listener _unused_) {
        (void) syscall(SYS_getuid);
        return 0;
}

static void test_kill_process(void **state _unused_) {
        OciSpec *s = parse_profile(basic_profile);
        SeccompProgram *p = compile(s);
        int status = run_child(p, call_getuid);

        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGSYS);
        seccomp_program_free(p);
        oci_spec_free(s);
}

/* A NOTIFY rule: the program is loaded with NEW_LISTENER and the load
 * returns the notification fd (the runtime sends it to listenerPath). */
static int check_listener(int listener) {
        struct stat st;

        if (listener < 3)
                return 1;
        if (fstat(listener, &st) < 0)
                return 2;
        WORKS(getpid());
        return 0;
}

static void test_notify(void **state _unused_) {
        OciSpec *s = parse_profile(
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/seccomp-agent.sock\","
                "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
                "\"syscalls\":[{\"names\":[\"mknodat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}");
        SeccompProgram *p = compile(s);

        assert_string_equal(s->seccomp.listener_path, "/run/seccomp-agent.sock");
        assert_int_equal(oci_seccomp_kernel_flags(&s->seccomp),
                         SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_NEW_LISTENER);
        assert_exit_zero(run_child(p, check_listener));
        seccomp_program_free(p);
        oci_spec_free(s);
}

/* sandbox_enter() hands the notification fd to its caller (the container's
 * init passes it on to shuttle-oci), close-on-exec, and nothing else of
 * the sandbox changes for it; with no_new_privs or without. */
static void test_notify_sandbox(void **state _unused_) {
        OciSpec *s = parse_profile(
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/seccomp-agent.sock\","
                "\"listenerMetadata\":\"m1\",\"syscalls\":[{\"names\":[\"mknodat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}");
        SeccompProgram *p = compile(s);

        assert_string_equal(s->seccomp.listener_metadata, "m1");
        for (int new_privs = 0; new_privs < 2; new_privs++) {
                pid_t pid = fork();
                int status;

                assert_true(pid >= 0);
                if (pid == 0) {
                        const SandboxSpec spec = { .caps = caps_all_mask(), .seccomp = p, .new_privs = new_privs,
                                                   .n_pass_fds = 0 };
                        SandboxStep step;
                        uint64_t id = 0;
                        int fd = sandbox_enter(&spec, &step, NULL), flags;

                        if (fd < 3)
                                _exit(1);
                        flags = fcntl(fd, F_GETFD);
                        if (flags < 0 || !(flags & FD_CLOEXEC))
                                _exit(2);
                        /* A seccomp notify fd: no notification 0 pending. */
                        if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0 || errno != ENOENT)
                                _exit(3);
                        /* What the receivers check (container.c, exec.c):
                         * this is one, a pipe or a socket is not. */
                        if (!seccomp_is_listener(fd))
                                _exit(4);
                        {
                                int p[2];
                                if (pipe(p) < 0 || seccomp_is_listener(p[0]) || seccomp_is_listener(STDIN_FILENO))
                                        _exit(5);
                        }
                        _exit(0);
                }
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
        }
        seccomp_program_free(p);
        oci_spec_free(s);
}

static int check_getppid(int listener) {
        if (listener != 0)
                return 1;
        DENIED(syscall(SYS_getppid), EACCES); /* glibc's getppid() never sets errno */
        return 0;
}

static void test_flags(void **state _unused_) {
        OciSpec *s = parse_profile(
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\","
                "\"SECCOMP_FILTER_FLAG_TSYNC\"],\"syscalls\":[{\"names\":[\"getppid\"],"
                "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}");
        SeccompProgram *p = compile(s);

        assert_int_equal(oci_seccomp_kernel_flags(&s->seccomp),
                         SECCOMP_FILTER_FLAG_SPEC_ALLOW | SECCOMP_FILTER_FLAG_TSYNC);
        assert_exit_zero(run_child(p, check_getppid));
        seccomp_program_free(p);
        oci_spec_free(s);
}

/* The podman-like allow list: default ENOSYS (38), EPERM for the refused
 * ones, everything a small C program needs allowed. */
static int check_podman(int listener _unused_) {
        WORKS(getpid());
        WORKS(getppid());
        DENIED(syscall(SYS_kexec_load, 0, 0, 0, 0), EPERM);
        /* ENOENT without the filter. */
        DENIED(syscall(SYS_delete_module, "no_such_module", 0), EPERM);
        DENIED(syscall(1000), ENOSYS);
        WORKS(personality(0xffffffff));
        WORKS(personality(PER_LINUX32));
        DENIED(personality(ADDR_NO_RANDOMIZE), ENOSYS);
        return 0;
}

static void load_podman(const char *name) {
        _cleanup_free_ char *text = NULL;
        char path[4096], err[512] = "";
        OciSpec *s = NULL;
        SeccompProgram *p;
        size_t len;

        snprintf(path, sizeof(path), "%s/%s", OCI_FIXTURE_DIR, name);
        assert_int_equal(read_file_at(AT_FDCWD, path, 1 << 20, &text, &len), 0);
        if (oci_spec_parse(text, len, &s, err, sizeof(err)) < 0)
                fail_msg("%s", err);
        p = compile(s);
        assert_exit_zero(run_child(p, check_podman));
        seccomp_program_free(p);
        oci_spec_free(s);
}

static void test_podman_profile(void **state _unused_) {
        load_podman("podman.json");
}

/* The profile podman 4.3 really wrote (its three socket() rules meet in
 * i386's socketcall). */
static void test_podman_real_profile(void **state _unused_) {
        load_podman("podman-4.3.json");
}

#ifdef __x86_64__
/* getppid through the i386 entry (int 0x80): the kernel's raw return. */
static long i386_getppid(void) {
        long ret = 64; /* __NR_getppid on i386 */

        __asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
        return ret;
}

static int check_i386(int listener _unused_) {
        if (i386_getppid() != -EACCES)
                return 1;
        return 0;
}

/* The listed architectures are filtered: i386 calls get the same rules
 * (big-endian ones, which a little-endian filter cannot hold, are
 * skipped); without X86 in the list an i386 call kills the process. */
static void test_architectures(void **state _unused_) {
        static const char rules[] = "\"syscalls\":[{\"names\":[\"getppid\"],"
                                    "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}";
        _cleanup_free_ char *with = NULL, *without = NULL;
        OciSpec *s;
        SeccompProgram *p;
        int status;

        assert_true(asprintf(&with, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
                                    "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_S390X\","
                                    "\"SCMP_ARCH_PPC64\"],%s", rules) > 0);
        assert_true(asprintf(&without, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
                                       "[\"SCMP_ARCH_X86_64\"],%s", rules) > 0);

        s = parse_profile(with);
        p = compile(s);
        status = run_child(p, check_i386);
        seccomp_program_free(p);
        oci_spec_free(s);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
                skip(); /* a kernel without IA32 emulation */
        assert_exit_zero(status);

        s = parse_profile(without);
        p = compile(s);
        status = run_child(p, check_i386);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGSYS);
        seccomp_program_free(p);
        oci_spec_free(s);
}
#else
static void test_architectures(void **state _unused_) {
        skip();
}
#endif

static void test_names(void **state _unused_) {
        const char *names[64];
        size_t n;
        bool found = false;

        n = oci_seccomp_names(OCI_SECCOMP_ACTIONS, names, ELEMENTSOF(names));
        assert_int_equal(n, 9);
        n = oci_seccomp_names(OCI_SECCOMP_OPERATORS, names, ELEMENTSOF(names));
        assert_int_equal(n, 7);
        assert_string_equal(names[6], "SCMP_CMP_MASKED_EQ");
        n = oci_seccomp_names(OCI_SECCOMP_ARCHS, names, ELEMENTSOF(names));
        assert_true(n >= 16 && n <= ELEMENTSOF(names));
        for (size_t i = 0; i < n; i++)
                found = found || streq(names[i], "SCMP_ARCH_X86_64");
        assert_true(found);
        /* Counting only. */
        assert_int_equal(oci_seccomp_names(OCI_SECCOMP_FLAGS, NULL, 0), 4);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rules),          cmocka_unit_test(test_kill_process),
                cmocka_unit_test(test_notify),         cmocka_unit_test(test_notify_sandbox),
                cmocka_unit_test(test_flags),
                cmocka_unit_test(test_podman_profile), cmocka_unit_test(test_podman_real_profile),
                cmocka_unit_test(test_architectures),
                cmocka_unit_test(test_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
