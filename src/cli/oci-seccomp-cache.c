/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Compiled seccomp profiles kept under <root>/.seccomp-cache/
 * (oci-seccomp-cache.h says what and why). */

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/oci-seccomp-cache.h"
#include "common/fileio.h"
#include "common/macro.h"
#include "runtime/sandbox.h"
#include "shuttle/host/sha256.h"

#define ENTRY_MAGIC "SHTLBPF\n"
#define NAME_SUFFIX ".bpf"
_Static_assert(OCI_SECCOMP_KEY_SIZE == SHA256_SIZE, "the key is a SHA-256");
#define NAME_LEN (2 * OCI_SECCOMP_KEY_SIZE + STRLEN(NAME_SUFFIX))
/* A temporary file older than this is what a crash left behind. */
#define STALE_TMP_SEC 60

typedef struct EntryHeader {
        char magic[8];
        uint32_t format;
        uint32_t flags; /* SECCOMP_FILTER_FLAG_* */
        uint32_t len;   /* instructions */
        uint32_t reserved;
        uint8_t key[OCI_SECCOMP_KEY_SIZE];
        uint8_t sum[OCI_SECCOMP_KEY_SIZE]; /* SHA-256 of the header up to here, and the program */
} EntryHeader;

#define ENTRY_MAX (sizeof(EntryHeader) + BPF_MAXINSNS * sizeof(struct sock_filter))

/* Which file: device, inode, size, modification time. */
static int file_identity(const char *path, uint64_t ret[static 5]) {
        struct stat st;

        if (!path || stat(path, &st) < 0)
                return -ENOENT;
        ret[0] = st.st_dev;
        ret[1] = st.st_ino;
        ret[2] = (uint64_t) st.st_size;
        ret[3] = (uint64_t) st.st_mtim.tv_sec;
        ret[4] = (uint64_t) st.st_mtim.tv_nsec;
        return 0;
}

/* The compiler itself: the executable oci-seccomp.c is linked into and the
 * libseccomp it runs with.  An update of either — a syscall table patched
 * under the same libseccomp version, a change in how we compile a profile
 * — gives new keys without anyone having to remember to raise a version
 * number; the old entries age out. */
static int compiler_identity(uint64_t ret[static 10]) {
        Dl_info info = {};
        int r;

        r = file_identity("/proc/self/exe", ret);
        if (r < 0)
                return r;
        /* A datum inside libseccomp (a function's address, taken from a
         * non-PIE executable, could be a stub in the executable). */
        if (!seccomp_version() || dladdr(seccomp_version(), &info) == 0)
                return -ENOENT;
        return file_identity(info.dli_fname, ret + 5);
}

int oci_seccomp_cache_key(const OciSeccomp *s, uint8_t ret[static OCI_SECCOMP_KEY_SIZE]) {
        _cleanup_free_ void *buf = NULL;
        uint64_t id[10];
        size_t size;
        int r;

        r = compiler_identity(id);
        if (r < 0)
                return r;
        r = oci_seccomp_serialize(s, &buf, &size);
        return r < 0 ? r : sha256_parts(buf, size, id, sizeof(id), ret);
}

static int entry_sum(const EntryHeader *h, const void *code, uint8_t ret[static OCI_SECCOMP_KEY_SIZE]) {
        return sha256_parts(h, offsetof(EntryHeader, sum), code, (size_t) h->len * sizeof(struct sock_filter), ret);
}

int oci_seccomp_entry_encode(const uint8_t key[static OCI_SECCOMP_KEY_SIZE], const SeccompProgram *p,
                             void **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *buf = NULL;
        const struct sock_filter *code;
        EntryHeader h = {};
        size_t len, size;
        int r;

        code = seccomp_program_code(p, &len);
        if (len == 0 || len > BPF_MAXINSNS)
                return -EINVAL;
        memcpy(h.magic, ENTRY_MAGIC, sizeof(h.magic));
        h.format = OCI_SECCOMP_CACHE_FORMAT;
        h.flags = seccomp_program_flags(p);
        h.len = (uint32_t) len;
        memcpy(h.key, key, OCI_SECCOMP_KEY_SIZE);
        r = entry_sum(&h, code, h.sum);
        if (r < 0)
                return r;
        size = sizeof(h) + len * sizeof(struct sock_filter);
        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, &h, sizeof(h));
        memcpy(buf + sizeof(h), code, len * sizeof(struct sock_filter));
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

int oci_seccomp_entry_decode(const void *buf, size_t size, const uint8_t key[static OCI_SECCOMP_KEY_SIZE],
                             SeccompProgram **ret) {
        const uint8_t *code = (const uint8_t *) buf + sizeof(EntryHeader);
        _cleanup_free_ struct sock_filter *copy = NULL;
        uint8_t sum[OCI_SECCOMP_KEY_SIZE];
        EntryHeader h;
        int r;

        if (size < sizeof(h) || size > ENTRY_MAX)
                return -EBADMSG;
        memcpy(&h, buf, sizeof(h));
        if (memcmp(h.magic, ENTRY_MAGIC, sizeof(h.magic)) != 0 || h.format != OCI_SECCOMP_CACHE_FORMAT ||
            h.reserved != 0 || h.len == 0 || h.len > BPF_MAXINSNS ||
            size != sizeof(h) + (size_t) h.len * sizeof(struct sock_filter) ||
            memcmp(h.key, key, OCI_SECCOMP_KEY_SIZE) != 0)
                return -EBADMSG;
        /* The buffer need not be aligned for struct sock_filter. */
        copy = malloc((size_t) h.len * sizeof(struct sock_filter));
        if (!copy)
                return -ENOMEM;
        memcpy(copy, code, (size_t) h.len * sizeof(struct sock_filter));
        r = entry_sum(&h, copy, sum);
        if (r < 0)
                return r;
        if (memcmp(sum, h.sum, sizeof(sum)) != 0)
                return -EBADMSG;
        return seccomp_program_new_from_code(copy, h.len, h.flags, ret);
}

/* Ours and closed to everyone else, as the state directory is: whoever
 * could write here could choose the filter of every container. */
static int check_owned(const struct stat *st, mode_t type) {
        if ((st->st_mode & S_IFMT) != type || st->st_uid != geteuid() || (st->st_mode & 0022))
                return -EPERM;
        return 0;
}

int oci_seccomp_cache_open(const char *root, int *ret_dirfd) {
        _cleanup_close_ int rootfd = -1, fd = -1;
        struct stat st;
        int r;

        rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return negative_errno();
        if (mkdirat(rootfd, OCI_SECCOMP_CACHE_DIR, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        /* O_NOFOLLOW: a symbolic link planted here is refused (ELOOP or
         * ENOTDIR), never followed to a directory of someone else's. */
        fd = openat(rootfd, OCI_SECCOMP_CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        r = check_owned(&st, S_IFDIR);
        if (r < 0)
                return r;
        *ret_dirfd = TAKE_FD(fd);
        return 0;
}

static void key_name(const uint8_t key[static OCI_SECCOMP_KEY_SIZE], char ret[static NAME_LEN + 1]) {
        static const char hex[] = "0123456789abcdef";

        for (size_t i = 0; i < OCI_SECCOMP_KEY_SIZE; i++) {
                ret[2 * i] = hex[key[i] >> 4];
                ret[2 * i + 1] = hex[key[i] & 15];
        }
        memcpy(ret + 2 * OCI_SECCOMP_KEY_SIZE, NAME_SUFFIX, sizeof(NAME_SUFFIX));
}

static int read_all(int fd, size_t size, void **ret) {
        _cleanup_free_ uint8_t *buf = malloc(size ?: 1);
        size_t done = 0;

        if (!buf)
                return -ENOMEM;
        while (done < size) {
                ssize_t n = read(fd, buf + done, size - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        return -EBADMSG; /* shrunk under us */
                done += (size_t) n;
        }
        *ret = TAKE_PTR(buf);
        return 0;
}

int oci_seccomp_cache_lookup(int dirfd, const uint8_t key[static OCI_SECCOMP_KEY_SIZE], SeccompProgram **ret) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ void *buf = NULL;
        char name[NAME_LEN + 1];
        struct stat st;
        int r;

        key_name(key, name);
        /* O_NONBLOCK: a FIFO in its place must not stall the create. */
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ENOENT : -EBADMSG;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (check_owned(&st, S_IFREG) < 0 || st.st_size < (off_t) sizeof(EntryHeader) ||
            st.st_size > (off_t) ENTRY_MAX)
                return -EBADMSG;
        r = read_all(fd, (size_t) st.st_size, &buf);
        if (r < 0)
                return r;
        r = oci_seccomp_entry_decode(buf, (size_t) st.st_size, key, ret);
        if (r < 0)
                return r;
        /* Recently used: the last to go when the cache is full. */
        (void) futimens(fd, NULL);
        return 0;
}

static bool is_entry_name(const char *s) {
        return strlen(s) == NAME_LEN && strspn(s, "0123456789abcdef") == 2 * OCI_SECCOMP_KEY_SIZE &&
               streq(s + 2 * OCI_SECCOMP_KEY_SIZE, NAME_SUFFIX);
}

typedef struct Aged {
        char name[NAME_LEN + 1];
        struct timespec mtime;
} Aged;

static int aged_cmp(const void *a_, const void *b_) {
        const Aged *a = a_, *b = b_;

        if (a->mtime.tv_sec != b->mtime.tv_sec)
                return a->mtime.tv_sec < b->mtime.tv_sec ? -1 : 1;
        if (a->mtime.tv_nsec != b->mtime.tv_nsec)
                return a->mtime.tv_nsec < b->mtime.tv_nsec ? -1 : 1;
        return strcmp(a->name, b->name);
}

/* Removes the oldest entries beyond max, and temporary files a crashed
 * writer left.  Other names are not ours to touch. */
static int prune(int dirfd, size_t max) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ Aged *all = NULL;
        size_t n = 0, allocated = 0;
        struct timespec now;
        struct dirent *de;
        int r;

        r = opendir_at(dirfd, &d);
        if (r < 0)
                return r;
        clock_gettime(CLOCK_REALTIME, &now);
        while ((de = readdir(d))) {
                struct stat st;

                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (strneq(de->d_name, ".tmp-", 5)) {
                        if (now.tv_sec - st.st_mtim.tv_sec > STALE_TMP_SEC)
                                (void) unlinkat(dirfd, de->d_name, 0);
                        continue;
                }
                if (!is_entry_name(de->d_name))
                        continue;
                if (n == allocated) {
                        size_t a = allocated ? 2 * allocated : 64;
                        Aged *p = reallocarray(all, a, sizeof(Aged));

                        if (!p)
                                return -ENOMEM;
                        all = p;
                        allocated = a;
                }
                memcpy(all[n].name, de->d_name, NAME_LEN + 1);
                all[n].mtime = st.st_mtim;
                n++;
        }
        if (n <= max)
                return 0;
        qsort(all, n, sizeof(Aged), aged_cmp);
        for (size_t i = 0; i < n - max; i++)
                (void) unlinkat(dirfd, all[i].name, 0);
        return 0;
}

int oci_seccomp_cache_store(int dirfd, const uint8_t key[static OCI_SECCOMP_KEY_SIZE], const SeccompProgram *p,
                            size_t max) {
        _cleanup_free_ void *buf = NULL;
        _cleanup_close_ int fd = -1;
        char name[NAME_LEN + 1], tmp[NAME_LEN + 32];
        size_t size;
        int r;

        r = oci_seccomp_entry_encode(key, p, &buf, &size);
        if (r < 0)
                return r;
        key_name(key, name);
        snprintf(tmp, sizeof(tmp), ".tmp-%.16s-%d", name, (int) getpid());
        /* Not fsync()ed: an entry cut short by a crash fails its checks
         * and is compiled again. */
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) {
                /* Left by an earlier process with our pid. */
                (void) unlinkat(dirfd, tmp, 0);
                fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        }
        if (fd < 0)
                return negative_errno();
        r = loop_write(fd, buf, size);
        if (r >= 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = negative_errno();
        if (r < 0) {
                (void) unlinkat(dirfd, tmp, 0);
                return r;
        }
        return prune(dirfd, max);
}

int oci_seccomp_program_cached(const OciSeccomp *s, const char *root, SeccompProgram **ret,
                               OciSeccompCacheUse *ret_use, int *ret_cache_error, char *err, size_t errlen) {
        _cleanup_close_ int dirfd = -1;
        uint8_t key[OCI_SECCOMP_KEY_SIZE];
        SeccompProgram *p = NULL;
        bool bad = false;
        int r, cache_error = 0;

        cache_error = root ? oci_seccomp_cache_key(s, key) : -ENOENT;
        if (cache_error >= 0)
                cache_error = oci_seccomp_cache_open(root, &dirfd);
        if (cache_error >= 0) {
                r = oci_seccomp_cache_lookup(dirfd, key, &p);
                /* The key covers the flags; checked again all the same,
                 * since a hit is loaded with them. */
                if (r >= 0 && seccomp_program_flags(p) == oci_seccomp_kernel_flags(s)) {
                        *ret = p;
                        *ret_use = OCI_SECCOMP_CACHE_HIT;
                        *ret_cache_error = 0;
                        return 0;
                }
                seccomp_program_free(p);
                p = NULL;
                bad = r != -ENOENT;
        }

        r = oci_seccomp_program_new(s, &p, err, errlen);
        if (r < 0)
                return r;
        if (cache_error >= 0)
                cache_error = oci_seccomp_cache_store(dirfd, key, p, OCI_SECCOMP_CACHE_MAX);
        *ret = p;
        *ret_use = cache_error < 0 ? OCI_SECCOMP_CACHE_UNUSED :
                   bad             ? OCI_SECCOMP_CACHE_REPLACED :
                                     OCI_SECCOMP_CACHE_STORED;
        *ret_cache_error = MIN(cache_error, 0);
        return 0;
}
