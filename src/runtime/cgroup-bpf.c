/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cgroup v2 devices filter: see src/runtime/cgroup-bpf.h. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/macro.h"
#include "runtime/cgroup-bpf.h"

/* At most this many instructions per rule (type, major, minor, two for the
 * access mask, its test, the verdict and exit). */
#define RULE_MAX_INSNS 8

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(d, s, o) INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define ALU_K(op, d, i) INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
#define MOV_X(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define JMP_K(op, d, i, o) INSN(BPF_JMP | (op) | BPF_K, d, 0, o, i)
#define JMP_X(op, d, s, o) INSN(BPF_JMP | (op) | BPF_X, d, s, o, 0)
#define EXIT_INSN() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static unsigned access_mask(const char *s) {
        unsigned m = 0;

        for (; *s; s++)
                m |= *s == 'r' ? BPF_DEVCG_ACC_READ : *s == 'w' ? BPF_DEVCG_ACC_WRITE : *s == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
        return m;
}

static bool rule_can_match(const CgroupDeviceRule *e) {
        return access_mask(e->access) != 0 && e->major <= INT32_MAX && e->minor <= INT32_MAX &&
               (e->type == 'a' || e->type == 'c' || e->type == 'b');
}

/* One rule's block; every "no match" jump goes to the instruction after it. */
static size_t emit_rule(const CgroupDeviceRule *e, struct bpf_insn *out) {
        const unsigned all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
        unsigned acc = access_mask(e->access);
        struct bpf_insn b[RULE_MAX_INSNS];
        size_t n = 0, skips[RULE_MAX_INSNS], n_skips = 0;

        if (e->type != 'a') {
                skips[n_skips++] = n;
                b[n++] = JMP_K(BPF_JNE, BPF_REG_2, e->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0);
        }
        if (e->major >= 0) {
                skips[n_skips++] = n;
                b[n++] = JMP_K(BPF_JNE, BPF_REG_4, (int32_t) e->major, 0);
        }
        if (e->minor >= 0) {
                skips[n_skips++] = n;
                b[n++] = JMP_K(BPF_JNE, BPF_REG_5, (int32_t) e->minor, 0);
        }
        if (acc != all) {
                b[n++] = MOV_X(BPF_REG_1, BPF_REG_3);
                b[n++] = ALU_K(BPF_AND, BPF_REG_1, (int32_t) acc);
                skips[n_skips++] = n;
                /* allow: all asked for is allowed; deny: any of it is denied */
                b[n++] = e->allow ? JMP_X(BPF_JNE, BPF_REG_1, BPF_REG_3, 0) : JMP_K(BPF_JEQ, BPF_REG_1, 0, 0);
        }
        b[n++] = ALU_K(BPF_MOV, BPF_REG_0, e->allow ? 1 : 0);
        b[n++] = EXIT_INSN();
        for (size_t i = 0; i < n_skips; i++)
                b[skips[i]].off = (int16_t) (n - skips[i] - 1);
        memcpy(out, b, n * sizeof(*b));
        return n;
}

int cgroup_device_prog_build(const CgroupDeviceRule *rules, size_t n_rules, struct bpf_insn **ret,
                             size_t *ret_len) {
        static const struct bpf_insn prologue[] = {
                /* struct bpf_cgroup_dev_ctx: access_type = access << 16 | type */
                LDX_W(BPF_REG_2, BPF_REG_1, 0),
                ALU_K(BPF_AND, BPF_REG_2, 0xffff),
                LDX_W(BPF_REG_3, BPF_REG_1, 0),
                ALU_K(BPF_RSH, BPF_REG_3, 16),
                LDX_W(BPF_REG_4, BPF_REG_1, 4),
                LDX_W(BPF_REG_5, BPF_REG_1, 8),
        };
        struct bpf_insn *v;
        size_t n = ELEMENTSOF(prologue);

        if (n_rules > (SIZE_MAX / sizeof(*v) - n - 2) / RULE_MAX_INSNS)
                return -E2BIG;
        v = malloc((n + n_rules * RULE_MAX_INSNS + 2) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        memcpy(v, prologue, sizeof(prologue));
        /* Last match wins: test the rules from the last one back. */
        for (size_t i = n_rules; i > 0; i--)
                if (rule_can_match(&rules[i - 1]))
                        n += emit_rule(&rules[i - 1], v + n);
        /* Nothing matched: denied. */
        v[n++] = ALU_K(BPF_MOV, BPF_REG_0, 0);
        v[n++] = EXIT_INSN();
        *ret = v;
        *ret_len = n;
        return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr) {
        long r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));

        return r < 0 ? -errno : (int) r;
}

int cgroup_device_prog_load(const struct bpf_insn *insns, size_t len, char *log, size_t log_size) {
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t) (uintptr_t) insns;
        attr.insn_cnt = (uint32_t) len;
        attr.license = (uint64_t) (uintptr_t) "GPL";
        attr.prog_flags = 0;
        if (log && log_size > 0) {
                log[0] = '\0';
                attr.log_buf = (uint64_t) (uintptr_t) log;
                attr.log_size = (uint32_t) log_size;
                attr.log_level = 1;
        }
        /* BPF_PROG_LOAD fds are O_CLOEXEC. */
        return sys_bpf(BPF_PROG_LOAD, &attr);
}

int cgroup_device_prog_attach(int cgroup_fd, int prog_fd) {
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t) cgroup_fd;
        attr.attach_bpf_fd = (uint32_t) prog_fd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        return sys_bpf(BPF_PROG_ATTACH, &attr);
}

int cgroup_device_filter_apply(int cgroup_fd, const CgroupDeviceRule *rules, size_t n_rules) {
        _cleanup_free_ struct bpf_insn *insns = NULL;
        _cleanup_close_ int prog_fd = -1;
        size_t len;
        int r;

        r = cgroup_device_prog_build(rules, n_rules, &insns, &len);
        if (r < 0)
                return r;
        prog_fd = cgroup_device_prog_load(insns, len, NULL, 0);
        if (prog_fd < 0)
                return prog_fd;
        /* The attachment holds the program; our fd can go. */
        r = cgroup_device_prog_attach(cgroup_fd, prog_fd);
        return r < 0 ? r : 0;
}

int cgroup_device_prog_count(int cgroup_fd) {
        union bpf_attr attr;
        int r;

        memset(&attr, 0, sizeof(attr));
        attr.query.target_fd = (uint32_t) cgroup_fd;
        attr.query.attach_type = BPF_CGROUP_DEVICE;
        r = sys_bpf(BPF_PROG_QUERY, &attr);
        return r < 0 ? r : (int) attr.query.prog_cnt;
}
