/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* shuttle-oci's cache of compiled seccomp profiles (docs/OCI.md): podman
 * and containerd put the same profile of some 350 calls into every
 * bundle, and libseccomp takes ~100 ms of CPU to compile it.  A program
 * compiled once is kept under <root>/.seccomp-cache/ (a name no container
 * ID can have), keyed by the SHA-256 of oci_seccomp_serialize() — all the
 * compiler consumed, libseccomp's version and the kernel's API level
 * included — and of the compiler's own files (shuttle-oci's executable
 * and the libseccomp library: device, inode, size, mtime), so that an
 * update of either is never served an old program.
 *
 *   <root>/.seccomp-cache/          0700, ours, or not used at all
 *   <root>/.seccomp-cache/HEX.bpf   one entry, 0600: a header (magic,
 *                                   format, seccomp(2) flags, length, the
 *                                   key, SHA-256 over all before it and
 *                                   the program), then the struct
 *                                   sock_filter array
 *
 * An entry is trusted as far as the state directory is (same owner, same
 * modes), and checked whole before use: anything that does not match is a
 * miss, compiled again and rewritten.  The cache never fails a create.
 * At most OCI_SECCOMP_CACHE_MAX entries; the least recently used go
 * first (a hit touches its entry's mtime). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/oci-spec.h"

#define OCI_SECCOMP_CACHE_DIR ".seccomp-cache"
#define OCI_SECCOMP_CACHE_MAX 64
#define OCI_SECCOMP_KEY_SIZE 32
#define OCI_SECCOMP_CACHE_FORMAT 1

/* SHA-256 of oci_seccomp_serialize(s) and the compiler's files.
 * -EOPNOTSUPP without libcrypto, -ENOENT if the files cannot be told. */
int oci_seccomp_cache_key(const OciSeccomp *s, uint8_t ret[static OCI_SECCOMP_KEY_SIZE]);

/* One entry's bytes for program p under key (malloc'ed). */
int oci_seccomp_entry_encode(const uint8_t key[static OCI_SECCOMP_KEY_SIZE], const SeccompProgram *p,
                             void **ret, size_t *ret_size);
/* The program of an entry's bytes; -EBADMSG if they are not an entry for
 * key, whole and unchanged (magic, format, length, key, checksum). */
int oci_seccomp_entry_decode(const void *buf, size_t size, const uint8_t key[static OCI_SECCOMP_KEY_SIZE],
                             SeccompProgram **ret);

/* <root>/.seccomp-cache, created if missing, as a directory fd.  -EPERM if
 * it is not a directory of our euid closed to group and others (nothing in
 * it is used then); -errno if it cannot be opened or made. */
int oci_seccomp_cache_open(const char *root, int *ret_dirfd);
/* The entry for key in the cache directory dirfd: 0 and *ret, -ENOENT if
 * there is none, -EBADMSG if it is not one we wrote (bad size, owner,
 * mode, bytes).  A hit's mtime is set to now. */
int oci_seccomp_cache_lookup(int dirfd, const uint8_t key[static OCI_SECCOMP_KEY_SIZE], SeccompProgram **ret);
/* Writes the entry for key (a temporary file renamed into place), then
 * removes the least recently used entries beyond max. */
int oci_seccomp_cache_store(int dirfd, const uint8_t key[static OCI_SECCOMP_KEY_SIZE], const SeccompProgram *p,
                            size_t max);

typedef enum OciSeccompCacheUse {
        OCI_SECCOMP_CACHE_HIT,      /* loaded from the cache */
        OCI_SECCOMP_CACHE_STORED,   /* compiled, then written */
        OCI_SECCOMP_CACHE_REPLACED, /* a bad entry: compiled, then rewritten */
        OCI_SECCOMP_CACHE_UNUSED,   /* compiled; the cache could not be used */
} OciSeccompCacheUse;

/* oci_seccomp_program_new() through the cache under root (NULL: none).
 * Fails only as oci_seccomp_program_new() does; *ret_use says what the
 * cache did, and when it could not be used, *ret_cache_error why
 * (negative errno, with -EPERM the directory's owner or mode). */
int oci_seccomp_program_cached(const OciSeccomp *s, const char *root, SeccompProgram **ret,
                               OciSeccompCacheUse *ret_use, int *ret_cache_error, char *err, size_t errlen);
