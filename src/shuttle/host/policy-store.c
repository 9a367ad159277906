/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policies a broker served, kept by digest (policy-store.h).  Runs on
 * reload.c's worker thread as well as on the loop: no state of its own. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "shuttle/host/control.h"
#include "shuttle/host/policy-store.h"
#include "shuttle/host/sha256.h"

static int dump(const Policy *p, char **ret, size_t *ret_size) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        int r;

        if (!f)
                return -ENOMEM;
        r = policy_dump_yaml(p, f);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0) {
                free(buf);
                return r;
        }
        *ret = buf;
        *ret_size = size;
        return 0;
}

static int digest_of(const char *buf, size_t size, char ret[static POLICY_DIGEST_LEN + 1]) {
        static const char hex[] = "0123456789abcdef";
        uint8_t d[SHA256_SIZE];
        int r;

        r = sha256_parts(buf, size, NULL, 0, d);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < SHA256_SIZE; i++) {
                ret[2 * i] = hex[d[i] >> 4];
                ret[2 * i + 1] = hex[d[i] & 15];
        }
        ret[2 * SHA256_SIZE] = 0;
        return 0;
}

int policy_store_digest(const Policy *p, char ret[static POLICY_DIGEST_LEN + 1]) {
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r;

        r = dump(p, &buf, &size);
        return r < 0 ? r : digest_of(buf, size, ret);
}

static bool digest_is_valid(const char *d) {
        return d && strlen(d) == POLICY_DIGEST_LEN && strspn(d, "0123456789abcdef") == POLICY_DIGEST_LEN;
}

char *policy_store_path(const char *state_dir, const char *digest) {
        char *p = NULL;

        if (!digest_is_valid(digest))
                return NULL;
        return asprintf(&p, "%s/" POLICY_STORE_DIR "/%s.yaml", state_dir, digest) < 0 ? NULL : p;
}

int policy_store_save(const char *state_dir, const Policy *p, char ret[static POLICY_DIGEST_LEN + 1]) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int sfd = -1, dfd = -1, fd = -1;
        char name[POLICY_DIGEST_LEN + 16], tmp[POLICY_DIGEST_LEN + 32];
        size_t size;
        int r;

        r = dump(p, &buf, &size);
        if (r < 0)
                return r;
        r = digest_of(buf, size, ret);
        if (r < 0)
                return r;

        sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0)
                return -errno;
        dfd = control_dir_open(sfd, POLICY_STORE_DIR, 0700, true);
        if (dfd < 0)
                return dfd;
        snprintf(name, sizeof(name), "%s.yaml", ret);
        if (faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 0; /* kept already: same digest, same text */
        /* Written whole under another name, then renamed: a reader never
         * sees half a policy. */
        snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", ret, (int) gettid());
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, buf, size);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dfd, tmp, dfd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dfd, tmp, 0);
        return r;
}
