/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-oci's cache of compiled seccomp profiles (src/cli/oci-seccomp-
 * cache.c): the key tells apart profiles that compile differently and not
 * the same profile written in another key order; an entry that is cut
 * short, has a wrong magic or key, or any bit flipped is a miss; the
 * directory is refused when not ours alone; a hit loads into a child and
 * filters as the compiled program does (notify too); the least recently
 * used entries go beyond the bound. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/oci-seccomp-cache.h"
#include "common/fileio.h"
#include "common/macro.h"
#include "runtime/oci-spec.h"
#include "runtime/sandbox.h"

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

static void key_of(const char *profile, uint8_t ret[static OCI_SECCOMP_KEY_SIZE]) {
        OciSpec *s = parse_profile(profile);

        assert_int_equal(oci_seccomp_cache_key(&s->seccomp, ret), 0);
        oci_spec_free(s);
}

#define BASE                                                                                    \
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"                         \
        "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"                           \
        "\"syscalls\":[{\"names\":[\"read\",\"write\",\"getppid\",\"exit_group\"],\"action\":\"SCMP_ACT_ALLOW\"}," \
        "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"               \
        "\"args\":[{\"index\":0,\"value\":5,\"op\":\"SCMP_CMP_LT\"}]}]}"

static void test_key(void **state _unused_) {
        static const char *const differ[] = {
                /* one argument condition's value */
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
                "\"syscalls\":[{\"names\":[\"read\",\"write\",\"getppid\",\"exit_group\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
                "\"args\":[{\"index\":0,\"value\":6,\"op\":\"SCMP_CMP_LT\"}]}]}",
                /* its operator */
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
                "\"syscalls\":[{\"names\":[\"read\",\"write\",\"getppid\",\"exit_group\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
                "\"args\":[{\"index\":0,\"value\":5,\"op\":\"SCMP_CMP_LE\"}]}]}",
                /* one action */
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
                "\"syscalls\":[{\"names\":[\"read\",\"write\",\"getppid\",\"exit_group\"],\"action\":\"SCMP_ACT_LOG\"},"
                "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
                "\"args\":[{\"index\":0,\"value\":5,\"op\":\"SCMP_CMP_LT\"}]}]}",
                /* one errnoRet */
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
                "\"syscalls\":[{\"names\":[\"read\",\"write\",\"getppid\",\"exit_group\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":19,"
                "\"args\":[{\"index\":0,\"value\":5,\"op\":\"SCMP_CMP_LT\"}]}]}",
                /* one architecture */
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X32\"],"
                "\"syscalls\":[{\"names\":[\"read\",\"write\",\"getppid\",\"exit_group\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
                "\"args\":[{\"index\":0,\"value\":5,\"op\":\"SCMP_CMP_LT\"}]}]}",
                /* defaultErrnoRet */
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
                "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
                "\"syscalls\":[{\"names\":[\"read\",\"write\",\"getppid\",\"exit_group\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
                "\"args\":[{\"index\":0,\"value\":5,\"op\":\"SCMP_CMP_LT\"}]}]}",
                /* the same letters split into other names (the same count):
                 * the same bytes if names were only concatenated */
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
                "\"syscalls\":[{\"names\":[\"rea\",\"dwrite\",\"getppid\",\"exit_group\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
                "\"args\":[{\"index\":0,\"value\":5,\"op\":\"SCMP_CMP_LT\"}]}]}",
                /* a flag */
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
                "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
                "\"syscalls\":[{\"names\":[\"read\",\"write\",\"getppid\",\"exit_group\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
                "\"args\":[{\"index\":0,\"value\":5,\"op\":\"SCMP_CMP_LT\"}]}]}",
        };
        uint8_t base[OCI_SECCOMP_KEY_SIZE], other[OCI_SECCOMP_KEY_SIZE], keys[ELEMENTSOF(differ)][OCI_SECCOMP_KEY_SIZE];

        key_of(BASE, base);
        for (size_t i = 0; i < ELEMENTSOF(differ); i++) {
                key_of(differ[i], keys[i]);
                if (memcmp(base, keys[i], sizeof(base)) == 0)
                        fail_msg("profile %zu has the base profile's key", i);
                for (size_t j = 0; j < i; j++)
                        if (memcmp(keys[j], keys[i], sizeof(base)) == 0)
                                fail_msg("profiles %zu and %zu have the same key", j, i);
        }

        /* The same profile with its keys in another order, and with the
         * default errno spelled out where it is the default: one key. */
        key_of("{\"syscalls\":[{\"action\":\"SCMP_ACT_ALLOW\",\"names\":[\"read\",\"write\",\"getppid\",\"exit_group\"]},"
               "{\"args\":[{\"op\":\"SCMP_CMP_LT\",\"value\":5,\"index\":0}],\"errnoRet\":18,"
               "\"action\":\"SCMP_ACT_ERRNO\",\"names\":[\"getpgid\"]}],"
               "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
               "\"defaultErrnoRet\":38,\"defaultAction\":\"SCMP_ACT_ERRNO\"}",
               other);
        assert_memory_equal(base, other, sizeof(base));
        /* Repeated flags are one flag. */
        key_of("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
               "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_LOG\"],"
               "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
               "\"syscalls\":[{\"names\":[\"read\",\"write\",\"getppid\",\"exit_group\"],\"action\":\"SCMP_ACT_ALLOW\"},"
               "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
               "\"args\":[{\"index\":0,\"value\":5,\"op\":\"SCMP_CMP_LT\"}]}]}",
               other);
        assert_memory_equal(keys[ELEMENTSOF(differ) - 1], other, sizeof(base));
}

static SeccompProgram *compile(const char *profile, OciSpec **ret_spec) {
        OciSpec *s = parse_profile(profile);
        SeccompProgram *p = NULL;
        char err[512] = "";

        if (oci_seccomp_program_new(&s->seccomp, &p, err, sizeof(err)) < 0)
                fail_msg("%s", err);
        if (ret_spec)
                *ret_spec = s;
        else
                oci_spec_free(s);
        return p;
}

static void assert_same_program(const SeccompProgram *a, const SeccompProgram *b) {
        size_t na, nb;
        const struct sock_filter *ca = seccomp_program_code(a, &na), *cb = seccomp_program_code(b, &nb);

        assert_int_equal(na, nb);
        assert_memory_equal(ca, cb, na * sizeof(struct sock_filter));
        assert_int_equal(seccomp_program_flags(a), seccomp_program_flags(b));
}

static void test_entry(void **state _unused_) {
        SeccompProgram *p = compile(BASE, NULL), *q = NULL;
        uint8_t key[OCI_SECCOMP_KEY_SIZE], wrong[OCI_SECCOMP_KEY_SIZE];
        _cleanup_free_ uint8_t *buf = NULL;
        size_t size;

        key_of(BASE, key);
        memcpy(wrong, key, sizeof(key));
        wrong[7] ^= 1;
        assert_int_equal(oci_seccomp_entry_encode(key, p, (void **) &buf, &size), 0);
        assert_int_equal(oci_seccomp_entry_decode(buf, size, key, &q), 0);
        assert_same_program(p, q);
        seccomp_program_free(q);

        /* Another key's entry. */
        assert_int_equal(oci_seccomp_entry_decode(buf, size, wrong, &q), -EBADMSG);
        /* Cut short anywhere, or one byte longer. */
        for (size_t n = 0; n < size; n += (n < 160 ? 1 : 61))
                if (oci_seccomp_entry_decode(buf, n, key, &q) != -EBADMSG)
                        fail_msg("an entry cut to %zu of %zu bytes was taken", n, size);
        assert_int_equal(oci_seccomp_entry_decode(buf, size - 1, key, &q), -EBADMSG);
        {
                _cleanup_free_ uint8_t *longer = calloc(1, size + 8);

                assert_non_null(longer);
                memcpy(longer, buf, size);
                assert_int_equal(oci_seccomp_entry_decode(longer, size + 8, key, &q), -EBADMSG);
        }
        /* Any bit flipped: magic, format, flags, length, key, checksum or
         * an instruction. */
        for (size_t i = 0; i < size; i++)
                for (unsigned bit = 0; bit < 8; bit += (i < 128 ? 1 : 3)) {
                        buf[i] ^= (uint8_t) (1U << bit);
                        if (oci_seccomp_entry_decode(buf, size, key, &q) != -EBADMSG)
                                fail_msg("an entry with bit %u of byte %zu flipped was taken", bit, i);
                        buf[i] ^= (uint8_t) (1U << bit);
                }
        memcpy(buf, "SHTLBPF?", 8);
        assert_int_equal(oci_seccomp_entry_decode(buf, size, key, &q), -EBADMSG);
        seccomp_program_free(p);
}

static char *make_root(void) {
        char *root = strdup("/tmp/test-oci-seccomp-cache.XXXXXX");

        assert_non_null(root);
        assert_non_null(mkdtemp(root));
        return root;
}

static void remove_root(char *root) {
        _cleanup_free_ char *cmd = NULL;

        assert_true(asprintf(&cmd, "rm -rf '%s'", root) > 0);
        assert_int_equal(system(cmd), 0);
        free(root);
}

static int count_entries(const char *root) {
        _cleanup_free_ char *cmd = NULL;
        FILE *f;
        int n = -1;

        assert_true(asprintf(&cmd, "ls '%s/%s' | grep -c '^[0-9a-f]\\{64\\}\\.bpf$'", root,
                             OCI_SECCOMP_CACHE_DIR) > 0);
        f = popen(cmd, "r");
        assert_non_null(f);
        assert_int_equal(fscanf(f, "%d", &n), 1);
        pclose(f);
        return n;
}

/* The entry file of the only entry. */
static char *entry_path(const char *root, const uint8_t key[static OCI_SECCOMP_KEY_SIZE]) {
        char *p;

        assert_true(asprintf(&p, "%s/%s/", root, OCI_SECCOMP_CACHE_DIR) > 0);
        for (size_t i = 0; i < OCI_SECCOMP_KEY_SIZE; i++) {
                char hex[3];

                snprintf(hex, sizeof(hex), "%02x", key[i]);
                assert_non_null(p = realloc(p, strlen(p) + 3));
                strcat(p, hex);
        }
        assert_non_null(p = realloc(p, strlen(p) + 5));
        strcat(p, ".bpf");
        return p;
}

#define DENIED(call, e)                                        \
        do {                                                   \
                errno = 0;                                     \
                if ((call) != -1 || errno != (e))              \
                        return __LINE__ % 200;                 \
        } while (0)

/* What the children load: everything allowed but what the rules deny, so
 * that a sanitizer's runtime still works in them. */
#define RUNNABLE                                                                                \
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\","                                                 \
        "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"                           \
        "\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13},"     \
        "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"               \
        "\"args\":[{\"index\":0,\"value\":5,\"op\":\"SCMP_CMP_LT\"}]}]}"

static int check_runnable(int listener) {
        if (listener != 0)
                return 1;
        DENIED(syscall(SYS_getppid), EACCES);
        DENIED(syscall(SYS_getpgid, 4), EXDEV);
        DENIED(syscall(SYS_getpgid, 999999), ESRCH); /* the condition fails: allowed */
        if (syscall(SYS_getpid) <= 0)
                return __LINE__ % 200;
        return 0;
}

static int check_notify(int listener) {
        struct stat st;

        if (listener < 3 || fstat(listener, &st) < 0)
                return 1;
        DENIED(syscall(SYS_getppid), EACCES);
        return 0;
}

static void run_child(const SeccompProgram *p, int (*check)(int listener)) {
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
        if (WIFSIGNALED(status))
                fail_msg("child killed by signal %d", WTERMSIG(status));
        if (WEXITSTATUS(status) != 0)
                fail_msg("child check failed at line %d (200: no_new_privs, 201: load)", WEXITSTATUS(status));
}

static OciSeccompCacheUse cached(const OciSpec *s, const char *root, SeccompProgram **ret) {
        OciSeccompCacheUse use;
        char err[512] = "";
        int cache_error = 1;

        if (oci_seccomp_program_cached(&s->seccomp, root, ret, &use, &cache_error, err, sizeof(err)) < 0)
                fail_msg("%s", err);
        assert_int_equal(cache_error, use == OCI_SECCOMP_CACHE_UNUSED ? cache_error : 0);
        return use;
}

/* First compiled and stored, then read: the same program, and it filters;
 * a corrupted entry is compiled again and rewritten whole. */
static void test_cached(void **state _unused_) {
        static const char notify[] =
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/agent.sock\","
                "\"syscalls\":[{\"names\":[\"mknodat\"],\"action\":\"SCMP_ACT_NOTIFY\"},"
                "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}";
        char *root = make_root();
        OciSpec *s = NULL, *n = NULL;
        SeccompProgram *compiled = compile(RUNNABLE, &s), *a = NULL, *b = NULL, *c = NULL;
        uint8_t key[OCI_SECCOMP_KEY_SIZE];
        _cleanup_free_ char *path = NULL, *good = NULL, *after = NULL;
        size_t good_size, after_size;
        struct stat st;
        int fd;

        assert_int_equal(cached(s, root, &a), OCI_SECCOMP_CACHE_STORED);
        assert_same_program(compiled, a);
        assert_int_equal(count_entries(root), 1);
        assert_int_equal(oci_seccomp_cache_key(&s->seccomp, key), 0);
        path = entry_path(root, key);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(read_file_at(AT_FDCWD, path, 1 << 20, &good, &good_size), 0);

        assert_int_equal(cached(s, root, &b), OCI_SECCOMP_CACHE_HIT);
        assert_same_program(compiled, b);
        run_child(b, check_runnable);

        /* A flipped bit in an instruction: compiled again, the entry
         * rewritten as it was. */
        fd = open(path, O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, "\x5a", 1, (off_t) good_size - 3), 1);
        close(fd);
        assert_int_equal(cached(s, root, &c), OCI_SECCOMP_CACHE_REPLACED);
        assert_same_program(compiled, c);
        run_child(c, check_runnable);
        assert_int_equal(read_file_at(AT_FDCWD, path, 1 << 20, &after, &after_size), 0);
        assert_int_equal(after_size, good_size);
        assert_memory_equal(after, good, good_size);
        seccomp_program_free(c);
        c = NULL;

        /* Truncated. */
        assert_int_equal(truncate(path, 40), 0);
        assert_int_equal(cached(s, root, &c), OCI_SECCOMP_CACHE_REPLACED);
        assert_same_program(compiled, c);
        seccomp_program_free(c);
        c = NULL;

        /* A notify profile: loaded from the cache with NEW_LISTENER, the
         * load returns the listener. */
        seccomp_program_free(a);
        seccomp_program_free(b);
        a = b = NULL;
        n = parse_profile(notify);
        assert_int_equal(cached(n, root, &a), OCI_SECCOMP_CACHE_STORED);
        assert_int_equal(cached(n, root, &b), OCI_SECCOMP_CACHE_HIT);
        assert_int_equal(seccomp_program_flags(b), SECCOMP_FILTER_FLAG_NEW_LISTENER);
        run_child(b, check_notify);
        assert_int_equal(count_entries(root), 2);

        seccomp_program_free(compiled);
        seccomp_program_free(a);
        seccomp_program_free(b);
        oci_spec_free(s);
        oci_spec_free(n);
        remove_root(root);
}

/* A directory others can write, or not ours, or a symbolic link: not
 * used (and nothing written there); the create still gets its program. */
static void test_unsafe_dir(void **state _unused_) {
        char *root = make_root();
        _cleanup_free_ char *dir = NULL, *elsewhere = NULL;
        OciSpec *s = NULL;
        SeccompProgram *compiled = compile(BASE, &s), *p = NULL;
        OciSeccompCacheUse use;
        char err[512];
        int fd = -1, cache_error = 0;

        assert_true(asprintf(&dir, "%s/%s", root, OCI_SECCOMP_CACHE_DIR) > 0);
        assert_int_equal(oci_seccomp_cache_open(root, &fd), 0);
        close(fd);
        assert_int_equal(chmod(dir, 0770), 0);
        assert_int_equal(oci_seccomp_cache_open(root, &fd), -EPERM);
        assert_int_equal(oci_seccomp_program_cached(&s->seccomp, root, &p, &use, &cache_error, err, sizeof(err)),
                         0);
        assert_int_equal(use, OCI_SECCOMP_CACHE_UNUSED);
        assert_int_equal(cache_error, -EPERM);
        assert_same_program(compiled, p);
        assert_int_equal(count_entries(root), 0);
        seccomp_program_free(p);

        assert_int_equal(chmod(dir, 0700), 0);
        if (geteuid() == 0) {
                assert_int_equal(chown(dir, 1, 1), 0);
                assert_int_equal(oci_seccomp_cache_open(root, &fd), -EPERM);
                assert_int_equal(chown(dir, 0, 0), 0);
        }

        /* A symbolic link in its place, to a directory that would pass. */
        assert_true(asprintf(&elsewhere, "%s/elsewhere", root) > 0);
        assert_int_equal(mkdir(elsewhere, 0700), 0);
        assert_int_equal(rmdir(dir), 0);
        assert_int_equal(symlink("elsewhere", dir), 0);
        assert_true(oci_seccomp_cache_open(root, &fd) < 0);

        seccomp_program_free(compiled);
        oci_spec_free(s);
        remove_root(root);
}

/* An entry someone else could have written, or not a regular file: a
 * miss, never read. */
static void test_unsafe_entry(void **state _unused_) {
        char *root = make_root();
        _cleanup_free_ char *path = NULL;
        OciSpec *s = NULL;
        SeccompProgram *compiled = compile(BASE, &s), *p = NULL;
        uint8_t key[OCI_SECCOMP_KEY_SIZE];
        int dirfd = -1;

        assert_int_equal(oci_seccomp_cache_key(&s->seccomp, key), 0);
        assert_int_equal(oci_seccomp_cache_open(root, &dirfd), 0);
        assert_int_equal(oci_seccomp_cache_lookup(dirfd, key, &p), -ENOENT);
        assert_int_equal(oci_seccomp_cache_store(dirfd, key, compiled, 64), 0);
        assert_int_equal(oci_seccomp_cache_lookup(dirfd, key, &p), 0);
        seccomp_program_free(p);
        path = entry_path(root, key);
        assert_int_equal(chmod(path, 0620), 0);
        assert_int_equal(oci_seccomp_cache_lookup(dirfd, key, &p), -EBADMSG);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(mkfifo(path, 0600), 0);
        assert_int_equal(oci_seccomp_cache_lookup(dirfd, key, &p), -EBADMSG);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(symlink("/etc/passwd", path), 0);
        assert_int_equal(oci_seccomp_cache_lookup(dirfd, key, &p), -EBADMSG);
        /* Written over the link, not through it. */
        assert_int_equal(oci_seccomp_cache_store(dirfd, key, compiled, 64), 0);
        assert_int_equal(oci_seccomp_cache_lookup(dirfd, key, &p), 0);
        seccomp_program_free(p);

        close(dirfd);
        seccomp_program_free(compiled);
        oci_spec_free(s);
        remove_root(root);
}

/* Beyond the bound, the least recently used go: entries stored with
 * mtimes 1..N seconds old, one of the oldest read (a hit makes it new). */
static void test_bound(void **state _unused_) {
        char *root = make_root();
        SeccompProgram *p = compile(BASE, NULL), *q = NULL;
        uint8_t keys[6][OCI_SECCOMP_KEY_SIZE];
        int dirfd = -1;

        assert_int_equal(oci_seccomp_cache_open(root, &dirfd), 0);
        for (size_t i = 0; i < 5; i++) {
                _cleanup_free_ char *path = NULL;
                struct timespec t[2] = { { .tv_sec = 1000000 + (time_t) i }, { .tv_sec = 1000000 + (time_t) i } };

                memset(keys[i], (int) i + 1, OCI_SECCOMP_KEY_SIZE);
                assert_int_equal(oci_seccomp_cache_store(dirfd, keys[i], p, 5), 0);
                path = entry_path(root, keys[i]);
                assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
        }
        assert_int_equal(count_entries(root), 5);
        /* The oldest read: now the newest. */
        assert_int_equal(oci_seccomp_cache_lookup(dirfd, keys[0], &q), 0);
        seccomp_program_free(q);
        memset(keys[5], 6, OCI_SECCOMP_KEY_SIZE);
        assert_int_equal(oci_seccomp_cache_store(dirfd, keys[5], p, 5), 0);
        assert_int_equal(count_entries(root), 5);
        assert_int_equal(oci_seccomp_cache_lookup(dirfd, keys[1], &q), -ENOENT);
        for (size_t i = 0; i < 6; i++) {
                if (i == 1)
                        continue;
                assert_int_equal(oci_seccomp_cache_lookup(dirfd, keys[i], &q), 0);
                seccomp_program_free(q);
        }
        close(dirfd);
        seccomp_program_free(p);
        remove_root(root);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_key),         cmocka_unit_test(test_entry),
                cmocka_unit_test(test_cached),      cmocka_unit_test(test_unsafe_dir),
                cmocka_unit_test(test_unsafe_entry), cmocka_unit_test(test_bound),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
