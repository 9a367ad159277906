/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cgroup v2 devices filter: the rules turned into BPF instructions, run
 * here by a small interpreter of the instructions it uses; then, as root,
 * loaded (the verifier accepts it) and attached to a cgroup2 directory of
 * our own below /sys/fs/cgroup/unified or /sys/fs/cgroup, where a child moved
 * into it may open what the rules allow and nothing else; and
 * cgroup_create() there attaches it. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include "common/macro.h"
#include "runtime/cgroup-bpf.h"

/* ---- an interpreter for what cgroup_device_prog_build() emits ---- */

static int run(const struct bpf_insn *p, size_t len, unsigned type, unsigned access, uint32_t major,
               uint32_t minor) {
        uint32_t ctx[3] = { access << 16 | type, major, minor };
        uint64_t reg[11] = { 0 };
        size_t pc = 0;

        reg[1] = (uint64_t) (uintptr_t) ctx;
        for (unsigned steps = 0; steps < 100000; steps++) {
                const struct bpf_insn *i;
                uint64_t src;

                assert_true(pc < len);
                i = &p[pc++];
                src = BPF_SRC(i->code) == BPF_X ? reg[i->src_reg] : (uint64_t) (int64_t) i->imm;
                switch (i->code) {
                case BPF_LDX | BPF_MEM | BPF_W:
                        assert_int_equal(i->src_reg, 1);
                        assert_true(i->off >= 0 && i->off <= 8 && i->off % 4 == 0);
                        reg[i->dst_reg] = ctx[i->off / 4];
                        break;
                case BPF_ALU64 | BPF_AND | BPF_K:
                        reg[i->dst_reg] &= src;
                        break;
                case BPF_ALU64 | BPF_RSH | BPF_K:
                        reg[i->dst_reg] >>= src;
                        break;
                case BPF_ALU64 | BPF_MOV | BPF_K:
                case BPF_ALU64 | BPF_MOV | BPF_X:
                        reg[i->dst_reg] = src;
                        break;
                case BPF_JMP | BPF_JNE | BPF_K:
                case BPF_JMP | BPF_JNE | BPF_X:
                        assert_true(i->off >= 0);
                        if (reg[i->dst_reg] != src)
                                pc += (size_t) i->off;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                        assert_true(i->off >= 0);
                        if (reg[i->dst_reg] == src)
                                pc += (size_t) i->off;
                        break;
                case BPF_JMP | BPF_EXIT:
                        return (int) reg[0];
                default:
                        fail_msg("unexpected instruction %#x at %zu", i->code, pc - 1);
                }
        }
        fail_msg("no exit");
        return -1;
}

#define C BPF_DEVCG_DEV_CHAR
#define B BPF_DEVCG_DEV_BLOCK
#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD

typedef struct Prog {
        struct bpf_insn *insns;
        size_t len;
} Prog;

static Prog build(const CgroupDeviceRule *rules, size_t n) {
        Prog p = { 0 };

        assert_int_equal(cgroup_device_prog_build(rules, n, &p.insns, &p.len), 0);
        return p;
}

/* shuttle-oci's default list (oci-config.c) after a deny of /dev/null's
 * writes and an allow of block 8:* reads from linux.resources.devices. */
static const CgroupDeviceRule oci_rules[] = {
        { false, 'c', 1, 3, "w" },  { true, 'b', 8, -1, "r" },
        { true, 'c', -1, -1, "m" }, { true, 'b', -1, -1, "m" },   { true, 'c', 1, 3, "rwm" },
        { true, 'c', 1, 5, "rwm" }, { true, 'c', 1, 7, "rwm" },   { true, 'c', 1, 8, "rwm" },
        { true, 'c', 1, 9, "rwm" }, { true, 'c', 5, 0, "rwm" },   { true, 'c', 5, 1, "rwm" },
        { true, 'c', 5, 2, "rwm" }, { true, 'c', 136, -1, "rwm" },
};

static void test_empty_denies_all(void **state _unused_) {
        Prog p = build(NULL, 0);

        assert_int_equal(run(p.insns, p.len, C, R, 1, 3), 0);
        assert_int_equal(run(p.insns, p.len, B, M, 8, 0), 0);
        free(p.insns);
}

static void test_oci_defaults(void **state _unused_) {
        Prog p = build(oci_rules, ELEMENTSOF(oci_rules));

        /* the later allow of 1:3 rwm wins over the earlier deny of w */
        assert_int_equal(run(p.insns, p.len, C, R | W, 1, 3), 1);
        assert_int_equal(run(p.insns, p.len, C, R, 1, 5), 1);
        assert_int_equal(run(p.insns, p.len, C, R | W, 136, 4), 1);
        /* mknod of anything, but no opening of what is not listed */
        assert_int_equal(run(p.insns, p.len, C, M, 1, 1), 1);
        assert_int_equal(run(p.insns, p.len, B, M, 8, 0), 1);
        assert_int_equal(run(p.insns, p.len, C, R, 1, 1), 0);  /* /dev/mem */
        assert_int_equal(run(p.insns, p.len, C, R, 1, 11), 0); /* /dev/kmsg */
        assert_int_equal(run(p.insns, p.len, B, R, 7, 0), 0);
        /* block 8:* readable, not writable */
        assert_int_equal(run(p.insns, p.len, B, R, 8, 16), 1);
        assert_int_equal(run(p.insns, p.len, B, R | W, 8, 16), 0);
        /* a char 8:x is not a block 8:x */
        assert_int_equal(run(p.insns, p.len, C, R, 8, 16), 0);
        free(p.insns);
}

static void test_last_match_wins(void **state _unused_) {
        static const CgroupDeviceRule rules[] = {
                { true, 'a', -1, -1, "rwm" },
                { false, 'c', 1, 3, "w" },
                { false, 'b', -1, -1, "rwm" },
                { true, 'b', 7, 2, "r" },
        };
        Prog p = build(rules, ELEMENTSOF(rules));

        assert_int_equal(run(p.insns, p.len, C, R, 1, 3), 1);
        /* a deny matches when any access asked for is denied */
        assert_int_equal(run(p.insns, p.len, C, W, 1, 3), 0);
        assert_int_equal(run(p.insns, p.len, C, R | W, 1, 3), 0);
        assert_int_equal(run(p.insns, p.len, C, R | W, 4, 1), 1);
        assert_int_equal(run(p.insns, p.len, B, R, 8, 0), 0);
        assert_int_equal(run(p.insns, p.len, B, R, 7, 2), 1);
        /* an allow matches only when all asked for is allowed */
        assert_int_equal(run(p.insns, p.len, B, R | W, 7, 2), 0);
        free(p.insns);
}

static void test_never_matching_rules_left_out(void **state _unused_) {
        static const CgroupDeviceRule rules[] = {
                { true, 'c', 1, 3, "rwm" },
                { false, 'c', 1, 3, "" },                   /* no access */
                { false, 'c', (int64_t) 1 << 32, 3, "rwm" }, /* no such major */
                { false, 'c', 1, INT64_C(0x80000003), "rwm" },
        };
        Prog p = build(rules, ELEMENTSOF(rules)), q = build(rules, 1);

        assert_int_equal(p.len, q.len);
        assert_int_equal(run(p.insns, p.len, C, R | W, 1, 3), 1);
        free(p.insns);
        free(q.insns);
}

/* ---- the kernel (root only) ---- */

static bool can_bpf(void) {
        Prog p = build(NULL, 0);
        int fd = cgroup_device_prog_load(p.insns, p.len, NULL, 0);

        free(p.insns);
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

static void test_verifier_accepts(void **state _unused_) {
        static char log[65536];
        Prog p;
        int fd;

        if (!can_bpf())
                skip();
        p = build(oci_rules, ELEMENTSOF(oci_rules));
        fd = cgroup_device_prog_load(p.insns, p.len, log, sizeof(log));
        if (fd < 0)
                fail_msg("the verifier refused the program: %s\n%s", strerror(-fd), log);
        close(fd);
        free(p.insns);
}

/* A cgroup2 directory of our own, or NULL to skip. */
static char cgdir[256];

static const char *make_cgdir(void) {
        static const char *const roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };

        for (size_t i = 0; i < ELEMENTSOF(roots); i++) {
                struct statfs sfs;

                if (statfs(roots[i], &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
                        continue;
                snprintf(cgdir, sizeof cgdir, "%s/test-cgroup-bpf.%d", roots[i], (int) getpid());
                if (mkdir(cgdir, 0755) == 0)
                        return cgdir;
        }
        return NULL;
}

/* Whatever a failed test left of its cgroup2 directory goes (the children
 * it moved in have exited). */
static int remove_cgdir(void **state _unused_) {
        char p[320];

        if (!cgdir[0])
                return 0;
        snprintf(p, sizeof p, "%s/shuttle/dev", cgdir);
        (void) rmdir(p);
        snprintf(p, sizeof p, "%s/shuttle/nodev", cgdir);
        (void) rmdir(p);
        snprintf(p, sizeof p, "%s/shuttle", cgdir);
        (void) rmdir(p);
        (void) rmdir(cgdir);
        cgdir[0] = '\0';
        return 0;
}

/* In a child moved into the cgroup: 0 if path opens for reading, else errno. */
static int open_in_cgroup(int cgfd, const char *path) {
        pid_t pid = fork();
        int status;

        assert_true(pid >= 0);
        if (pid == 0) {
                int fd = openat(cgfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);

                if (fd < 0 || write(fd, "0", 1) != 1)
                        _exit(200);
                close(fd);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                _exit(fd < 0 ? errno : 0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_not_equal(WEXITSTATUS(status), 200);
        return WEXITSTATUS(status);
}

static void test_attached_filter_holds(void **state _unused_) {
        static const CgroupDeviceRule rules[] = { { true, 'c', 1, 3, "rwm" } };
        int cgfd;

        if (!can_bpf() || !make_cgdir())
                skip();
        cgfd = open(cgdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(cgfd >= 0);
        assert_int_equal(open_in_cgroup(cgfd, "/dev/zero"), 0);
        assert_int_equal(cgroup_device_prog_count(cgfd), 0);
        assert_int_equal(cgroup_device_filter_apply(cgfd, rules, ELEMENTSOF(rules)), 0);
        assert_int_equal(cgroup_device_prog_count(cgfd), 1);
        assert_int_equal(open_in_cgroup(cgfd, "/dev/null"), 0);
        assert_int_equal(open_in_cgroup(cgfd, "/dev/zero"), EPERM);
        close(cgfd);
        assert_int_equal(rmdir(cgdir), 0);
}

/* cgroup_create() on a real cgroup2 root with device rules attaches the
 * program, and says the rules hold; without rules, nothing is attached. */
static void test_create_attaches(void **state _unused_) {
        CgroupLimits with = { .devices = oci_rules, .n_devices = ELEMENTSOF(oci_rules), .has_devices = true };
        CgroupLimits without = { 0 };
        Cgroup *cg = NULL;
        int fd;

        if (!can_bpf() || !make_cgdir())
                skip();
        assert_int_equal(cgroup_create(cgdir, "/proc/self/cgroup", "dev", &with, &cg), 0);
        assert_int_equal(cgroup_version(cg), CGROUP_V2);
        assert_true(cgroup_enforces_devices(cg));
        fd = cgroup_open_fd(cg);
        assert_true(fd >= 0);
        assert_int_equal(cgroup_device_prog_count(fd), 1);
        assert_int_equal(open_in_cgroup(fd, "/dev/null"), 0);
        assert_int_equal(open_in_cgroup(fd, "/dev/kmsg"), EPERM);
        close(fd);
        assert_int_equal(cgroup_destroy(cg), 0);
        cgroup_free(cg);

        cg = NULL;
        assert_int_equal(cgroup_create(cgdir, "/proc/self/cgroup", "nodev", &without, &cg), 0);
        assert_false(cgroup_enforces_devices(cg));
        fd = cgroup_open_fd(cg);
        assert_true(fd >= 0);
        assert_int_equal(cgroup_device_prog_count(fd), 0);
        close(fd);
        assert_int_equal(cgroup_destroy(cg), 0);
        cgroup_free(cg);
        assert_int_equal(rmdir(cgdir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty_denies_all),
                cmocka_unit_test(test_oci_defaults),
                cmocka_unit_test(test_last_match_wins),
                cmocka_unit_test(test_never_matching_rules_left_out),
                cmocka_unit_test(test_verifier_accepts),
                cmocka_unit_test_teardown(test_attached_filter_holds, remove_cgdir),
                cmocka_unit_test_teardown(test_create_attaches, remove_cgdir),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
