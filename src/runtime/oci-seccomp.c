/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* linux.seccomp of config.json: read into OciSeccomp, then compiled with
 * libseccomp as runc and crun do it.  What they skip, we skip: system calls
 * this libseccomp does not know, architectures it lacks, rules whose action
 * is the default one. */

#include <errno.h>
#include <jansson.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "runtime/oci-internal.h"
#include "runtime/oci-spec.h"
#include "runtime/sandbox.h"

#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

static const struct {
        const char *name;
        uint32_t action;
        bool takes_value; /* errnoRet folded into the low 16 bits */
} action_table[] = {
        { "SCMP_ACT_KILL", SCMP_ACT_KILL, false },
        { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
        { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
        { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
        { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true },
        { "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true },
        { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
        { "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
        { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false },
};

/* The architectures of the runtime-spec; those this libseccomp was built
 * without are accepted and left out of the filter. */
static const struct {
        const char *name;
        uint32_t arch; /* 0: this libseccomp lacks it */
} arch_table[] = {
        { "SCMP_ARCH_X86", SCMP_ARCH_X86 },
        { "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
        { "SCMP_ARCH_X32", SCMP_ARCH_X32 },
        { "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
        { "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
        { "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS },
        { "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 },
        { "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 },
        { "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL },
        { "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 },
        { "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
        { "SCMP_ARCH_PPC", SCMP_ARCH_PPC },
        { "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 },
        { "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
        { "SCMP_ARCH_S390", SCMP_ARCH_S390 },
        { "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
#ifdef SCMP_ARCH_PARISC
        { "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC },
        { "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64 },
#else
        { "SCMP_ARCH_PARISC", 0 },
        { "SCMP_ARCH_PARISC64", 0 },
#endif
#ifdef SCMP_ARCH_RISCV64
        { "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
#else
        { "SCMP_ARCH_RISCV64", 0 },
#endif
#ifdef SCMP_ARCH_LOONGARCH64
        { "SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64 },
#else
        { "SCMP_ARCH_LOONGARCH64", 0 },
#endif
#ifdef SCMP_ARCH_M68K
        { "SCMP_ARCH_M68K", SCMP_ARCH_M68K },
#else
        { "SCMP_ARCH_M68K", 0 },
#endif
#ifdef SCMP_ARCH_SH
        { "SCMP_ARCH_SH", SCMP_ARCH_SH },
        { "SCMP_ARCH_SHEB", SCMP_ARCH_SHEB },
#else
        { "SCMP_ARCH_SH", 0 },
        { "SCMP_ARCH_SHEB", 0 },
#endif
};

static const struct {
        const char *name;
        enum scmp_compare op;
} op_table[] = {
        { "SCMP_CMP_NE", SCMP_CMP_NE },         { "SCMP_CMP_LT", SCMP_CMP_LT },
        { "SCMP_CMP_LE", SCMP_CMP_LE },         { "SCMP_CMP_EQ", SCMP_CMP_EQ },
        { "SCMP_CMP_GE", SCMP_CMP_GE },         { "SCMP_CMP_GT", SCMP_CMP_GT },
        { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct {
        const char *name;
        unsigned flag;
} flag_table[] = {
        { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
        { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
        { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
        { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

size_t oci_seccomp_names(OciSeccompNames kind, const char **ret, size_t size) {
        size_t n = 0;

#define FILL(table, skip)                                                   \
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {                    \
                if (skip)                                                   \
                        continue;                                           \
                if (n < size)                                               \
                        ret[n] = table[i].name;                             \
                n++;                                                        \
        }
        switch (kind) {
        case OCI_SECCOMP_ACTIONS:
                FILL(action_table, false);
                break;
        case OCI_SECCOMP_ARCHS:
                FILL(arch_table, arch_table[i].arch == 0);
                break;
        case OCI_SECCOMP_OPERATORS:
                FILL(op_table, false);
                break;
        case OCI_SECCOMP_FLAGS:
                FILL(flag_table, false);
                break;
        }
#undef FILL
        return n;
}

/* obj[akey] (+ obj[ekey]) into a folded action.  ERRNO without errnoRet is
 * EPERM, as in runc and crun. */
static int parse_action(Ctx *c, json_t *obj, const char *path, const char *akey, const char *ekey,
                        uint32_t *ret) {
        _cleanup_free_ char *name = NULL;
        int64_t value = EPERM;
        bool has_value = false;
        JPath q;
        int r;

        r = oci_get_string(c, obj, path, akey, true, &name);
        if (r < 0)
                return r;
        r = oci_get_int(c, obj, path, ekey, false, 0, UINT16_MAX, &has_value, &value);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(action_table); i++) {
                if (!streq(action_table[i].name, name))
                        continue;
                if (has_value && !action_table[i].takes_value)
                        return oci_fail(c, oci_jpath_sub(q, path, ekey),
                                        "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one (action is %s)",
                                        name);
                *ret = action_table[i].action | (action_table[i].takes_value ? (uint32_t) value : 0);
                return 0;
        }
        return oci_fail(c, oci_jpath_sub(q, path, akey), "unknown action '%s'", name);
}

static int parse_arg(Ctx *c, json_t *v, const char *path, void *ret) {
        OciSeccompArg *a = ret;
        _cleanup_free_ char *op = NULL;
        JPath q;
        int r;

        if ((r = GET_UINT(c, v, path, "index", true, 5, NULL, &a->index)) < 0 ||
            (r = GET_UINT(c, v, path, "value", true, INT64_MAX, NULL, &a->value)) < 0 ||
            (r = GET_UINT(c, v, path, "valueTwo", false, INT64_MAX, NULL, &a->value_two)) < 0 ||
            (r = oci_get_string(c, v, path, "op", true, &op)) < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(op_table); i++)
                if (streq(op_table[i].name, op)) {
                        a->op = op_table[i].op;
                        return 0;
                }
        return oci_fail(c, oci_jpath_sub(q, path, "op"), "unknown operator '%s'", op);
}

static void rule_done(void *r_) {
        OciSeccompRule *rule = r_;

        strv_free(rule->names);
        free(rule->args);
}

static int parse_rule(Ctx *c, json_t *v, const char *path, void *ret) {
        OciSeccompRule *rule = ret;
        JPath q;
        int r;

        r = oci_get_strv(c, v, path, "names", true, &rule->names);
        if (r < 0)
                return r;
        if (!rule->names[0])
                return oci_fail(c, oci_jpath_sub(q, path, "names"), "must name at least one system call");
        r = parse_action(c, v, path, "action", "errnoRet", &rule->action);
        if (r < 0)
                return r;
        return oci_get_array(c, v, path, "args", sizeof(OciSeccompArg), parse_arg, NULL,
                             (void **) &rule->args, &rule->n_args);
}

static bool is_notify(uint32_t action) {
        return action == SCMP_ACT_NOTIFY;
}

int oci_seccomp_from_json(Ctx *c, json_t *v, const char *path, OciSeccomp *ret) {
        _cleanup_(oci_seccomp_done) OciSeccomp s = {};
        bool notify;
        json_t *archs;
        JPath q, e;
        int r;

        r = oci_want_object(c, v, path);
        if (r < 0)
                return r;
        r = parse_action(c, v, path, "defaultAction", "defaultErrnoRet", &s.default_action);
        if (r < 0)
                return r;
        if (is_notify(s.default_action))
                return oci_fail(c, oci_jpath_sub(q, path, "defaultAction"),
                                "SCMP_ACT_NOTIFY cannot be the default action");

        r = oci_get_array_value(c, v, path, "architectures", q, &archs);
        if (r < 0)
                return r;
        if (r > 0) {
                s.architectures = calloc(json_array_size(archs) + 1, sizeof(uint32_t));
                if (!s.architectures)
                        return -ENOMEM;
                for (size_t i = 0; i < json_array_size(archs); i++) {
                        json_t *a = json_array_get(archs, i);
                        bool found = false;

                        oci_jpath_idx(e, q, i);
                        if (!json_is_string(a))
                                return oci_fail(c, e, "must be a string");
                        for (size_t j = 0; j < ELEMENTSOF(arch_table); j++)
                                if (streq(arch_table[j].name, json_string_value(a))) {
                                        found = true;
                                        if (arch_table[j].arch != 0)
                                                s.architectures[s.n_architectures++] = arch_table[j].arch;
                                }
                        if (!found)
                                return oci_fail(c, e, "unknown architecture '%s'", json_string_value(a));
                }
        }

        r = oci_get_strv(c, v, path, "flags", false, &s.flags);
        if (r < 0)
                return r;
        for (size_t i = 0; s.flags && s.flags[i]; i++) {
                bool found = false;

                for (size_t j = 0; j < ELEMENTSOF(flag_table); j++)
                        found = found || streq(flag_table[j].name, s.flags[i]);
                if (!found)
                        return oci_fail(c, oci_jpath_idx(e, oci_jpath_sub(q, path, "flags"), i),
                                        "unknown flag '%s'", s.flags[i]);
        }
        r = oci_get_string(c, v, path, "listenerPath", false, &s.listener_path);
        if (r < 0)
                return r;
        if (s.listener_path && !s.listener_path[0])
                return oci_fail(c, oci_jpath_sub(q, path, "listenerPath"), "must not be empty");
        r = oci_get_string(c, v, path, "listenerMetadata", false, &s.listener_metadata);
        if (r < 0)
                return r;
        /* runtime-spec: "MUST NOT be set if listenerPath is not set". */
        if (s.listener_metadata && !s.listener_path)
                return oci_fail(c, oci_jpath_sub(q, path, "listenerMetadata"), "set without listenerPath");

        r = oci_get_array(c, v, path, "syscalls", sizeof(OciSeccompRule), parse_rule, rule_done,
                          (void **) &s.rules, &s.n_rules);
        if (r < 0)
                return r;
        notify = false;
        for (size_t i = 0; i < s.n_rules; i++)
                notify = notify || is_notify(s.rules[i].action);
        if (notify && !s.listener_path)
                return oci_fail(c, oci_jpath_sub(q, path, "listenerPath"),
                                "required when a rule's action is SCMP_ACT_NOTIFY");

        *ret = s;
        s = (OciSeccomp){};
        return 0;
}

void oci_seccomp_done(OciSeccomp *s) {
        if (!s)
                return;
        free(s->architectures);
        strv_free(s->flags);
        free(s->listener_path);
        free(s->listener_metadata);
        for (size_t i = 0; i < s->n_rules; i++)
                rule_done(&s->rules[i]);
        free(s->rules);
        *s = (OciSeccomp){};
}

/* ---- building the filter ------------------------------------------------ */

static void seccomp_releasep(scmp_filter_ctx *ctx) {
        if (*ctx) {
                int saved = errno;
                seccomp_release(*ctx);
                errno = saved;
        }
}

unsigned oci_seccomp_kernel_flags(const OciSeccomp *s) {
        unsigned flags = 0;

        for (size_t i = 0; s->flags && s->flags[i]; i++)
                for (size_t j = 0; j < ELEMENTSOF(flag_table); j++)
                        if (streq(flag_table[j].name, s->flags[i]))
                                flags |= flag_table[j].flag;
        for (size_t i = 0; i < s->n_rules; i++)
                if (is_notify(s->rules[i].action))
                        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        return flags;
}

/* One system call of a rule.  Conditions on distinct arguments go into one
 * rule (all must match); when two conditions share an argument, each
 * becomes a rule of its own (any may match), as runc and crun do it:
 * libseccomp refuses two comparisons of one argument in a rule. */
static int add_call(scmp_filter_ctx ctx, const OciSeccompRule *rule, int nr) {
        struct scmp_arg_cmp cmp[6];
        bool repeated = false;
        unsigned seen = 0;

        if (rule->n_args > ELEMENTSOF(cmp))
                repeated = true;
        for (size_t i = 0; i < rule->n_args; i++) {
                if (seen & (1U << rule->args[i].index))
                        repeated = true;
                seen |= 1U << rule->args[i].index;
        }
        for (size_t i = 0; i < rule->n_args && i < ELEMENTSOF(cmp); i++)
                cmp[i] = (struct scmp_arg_cmp){
                        .arg = rule->args[i].index,
                        .op = rule->args[i].op,
                        .datum_a = rule->args[i].value,
                        .datum_b = rule->args[i].value_two,
                };
        if (!repeated)
                return seccomp_rule_add_array(ctx, rule->action, nr, (unsigned) rule->n_args,
                                              rule->n_args ? cmp : NULL);
        for (size_t i = 0; i < rule->n_args; i++) {
                struct scmp_arg_cmp one = {
                        .arg = rule->args[i].index,
                        .op = rule->args[i].op,
                        .datum_a = rule->args[i].value,
                        .datum_b = rule->args[i].value_two,
                };
                int r = seccomp_rule_add_array(ctx, rule->action, nr, 1, &one);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        return 0;
}

int oci_seccomp_build(const OciSeccomp *s, scmp_filter_ctx *ret, char *err, size_t errlen) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        Ctx c = { err, errlen };
        JPath q;
        int r;

        ctx = seccomp_init(s->default_action);
        if (!ctx)
                return oci_fail(&c, "linux.seccomp.defaultAction",
                                "libseccomp refused the default action");
        /* The runtime sets no_new_privs itself when the spec asks for it
         * (without it, loading the filter needs CAP_SYS_ADMIN). */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return r;
        /* A binary tree over the system call numbers, as for our own
         * profile: podman's allows some 350 calls, which would otherwise be
         * a linear search on every call (1415 instructions instead of 1140
         * for it, far below the kernel's 4096). */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r < 0 && r != -EOPNOTSUPP && r != -EINVAL)
                return r;

        for (size_t i = 0; s->flags && s->flags[i]; i++) {
                enum scmp_filter_attr attr;

                if (streq(s->flags[i], "SECCOMP_FILTER_FLAG_TSYNC"))
                        attr = SCMP_FLTATR_CTL_TSYNC;
                else if (streq(s->flags[i], "SECCOMP_FILTER_FLAG_LOG"))
                        attr = SCMP_FLTATR_CTL_LOG;
                else if (streq(s->flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
                        attr = SCMP_FLTATR_CTL_SSB;
                else
                        /* WAIT_KILLABLE_RECV: libseccomp 2.5 has no attribute;
                         * the kernel flag is passed at load. */
                        continue;
                r = seccomp_attr_set(ctx, attr, 1);
                if (r < 0)
                        return oci_fail(&c, oci_jpath_idx(q, "linux.seccomp.flags", i),
                                        "%s is not supported here: %s", s->flags[i], strerror(-r));
        }

        for (size_t i = 0; i < s->n_architectures; i++) {
                r = seccomp_arch_add(ctx, s->architectures[i]);
                /* Already there (the native one), or one this libseccomp or
                 * kernel cannot filter: skipped, as runc does. */
                if (r < 0 && r != -EEXIST && r != -EINVAL && r != -EDOM)
                        return r;
        }

        for (size_t i = 0; i < s->n_rules; i++) {
                const OciSeccompRule *rule = &s->rules[i];

                /* libseccomp refuses a rule with the default action; it would
                 * change nothing. */
                if (rule->action == s->default_action)
                        continue;
                for (char **name = rule->names; *name; name++) {
                        int nr = seccomp_syscall_resolve_name(*name);

                        /* A name this libseccomp does not know: skipped. */
                        if (nr == __NR_SCMP_ERROR)
                                continue;
                        r = add_call(ctx, rule, nr);
                        /* -EEXIST: the same rule is in already.  On i386,
                         * socket() also goes through socketcall(), whose
                         * arguments libseccomp cannot compare, so two
                         * ALLOW rules differing only in socket()'s
                         * arguments meet there (podman's profile). */
                        if (r == -EEXIST)
                                r = 0;
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0) {
                                oci_jpath_idx(q, "linux.seccomp.syscalls", i);
                                return oci_fail(&c, oci_jpath_sub(q, q, "names"),
                                                "libseccomp refused the rule for '%s': %s", *name,
                                                strerror(-r));
                        }
                }
        }
        *ret = TAKE_PTR(ctx);
        return 0;
}

int oci_seccomp_program_new(const OciSeccomp *s, SeccompProgram **ret, char *err, size_t errlen) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r;

        r = oci_seccomp_build(s, &ctx, err, errlen);
        if (r < 0)
                return r;
        r = seccomp_program_new_from_filter(ctx, oci_seccomp_kernel_flags(s), ret);
        if (r < 0) {
                Ctx c = { err, errlen };

                if (r == -EBADMSG)
                        oci_fail(&c, "linux.seccomp",
                                 "the compiled filter is longer than the kernel takes (%d instructions)",
                                 BPF_MAXINSNS);
                else
                        oci_fail(&c, "linux.seccomp", "cannot compile the filter: %s", strerror(-r));
                return r;
        }
        return 0;
}

/* ---- what the compiler consumes, as bytes ------------------------------- */

typedef struct Buf {
        uint8_t *data;
        size_t size, allocated;
        bool oom;
} Buf;

static void buf_put(Buf *b, const void *p, size_t n) {
        if (b->oom)
                return;
        if (b->size + n > b->allocated) {
                size_t a = MAX(b->allocated * 2, b->size + n + 256);
                uint8_t *d = realloc(b->data, a);

                if (!d) {
                        b->oom = true;
                        return;
                }
                b->data = d;
                b->allocated = a;
        }
        memcpy(b->data + b->size, p, n);
        b->size += n;
}

static void buf_u32(Buf *b, uint32_t v) {
        buf_put(b, &v, sizeof(v));
}

static void buf_u64(Buf *b, uint64_t v) {
        buf_put(b, &v, sizeof(v));
}

/* Every string and list is preceded by its length: no two inputs meet in
 * one sequence of bytes. */
static void buf_str(Buf *b, const char *s) {
        size_t n = strlen(s);

        buf_u32(b, (uint32_t) MIN(n, (size_t) UINT32_MAX));
        buf_put(b, s, n);
}

int oci_seccomp_serialize(const OciSeccomp *s, void **ret, size_t *ret_size) {
        static const char magic[] = "shuttle-oci-seccomp";
        const struct scmp_version *v = seccomp_version();
        Buf b = {};

        if (!v)
                return -EOPNOTSUPP;
        buf_put(&b, magic, sizeof(magic));
        buf_u32(&b, OCI_SECCOMP_SERIAL_VERSION);
        /* What else decides the program: which names this libseccomp
         * resolves and how it lays out the tree, the architecture whose
         * numbers and byte order the program has, and the kernel's API
         * level, which decides what libseccomp accepts (actions, flags). */
        buf_u32(&b, v->major);
        buf_u32(&b, v->minor);
        buf_u32(&b, v->micro);
        buf_u32(&b, seccomp_arch_native());
        buf_u32(&b, seccomp_api_get());

        buf_u32(&b, s->default_action);
        /* The flags as the compiler reads them (filter attributes) and as
         * the program is loaded: one bit each, whatever their order or
         * repetition in config.json.  listenerPath is not in the program. */
        buf_u32(&b, oci_seccomp_kernel_flags(s));
        buf_u64(&b, s->n_architectures);
        for (size_t i = 0; i < s->n_architectures; i++)
                buf_u32(&b, s->architectures[i]);
        buf_u64(&b, s->n_rules);
        for (size_t i = 0; i < s->n_rules; i++) {
                const OciSeccompRule *rule = &s->rules[i];
                size_t n = 0;

                buf_u32(&b, rule->action);
                while (rule->names[n])
                        n++;
                buf_u64(&b, n);
                for (size_t j = 0; j < n; j++)
                        buf_str(&b, rule->names[j]);
                buf_u64(&b, rule->n_args);
                for (size_t j = 0; j < rule->n_args; j++) {
                        buf_u32(&b, rule->args[j].index);
                        buf_u32(&b, (uint32_t) rule->args[j].op);
                        buf_u64(&b, rule->args[j].value);
                        buf_u64(&b, rule->args[j].value_two);
                }
        }
        if (b.oom) {
                free(b.data);
                return -ENOMEM;
        }
        *ret = b.data;
        *ret_size = b.size;
        return 0;
}
