/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

#include "shuttle/host/sha256.h"

int sha256_parts(const void *a, size_t na, const void *b, size_t nb, uint8_t ret[static SHA256_SIZE]) {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        EVP_MD_CTX *ctx;
        EVP_MD *md;
        bool ok;

        md = EVP_MD_fetch(NULL, "SHA256", NULL);
        if (!md)
                return -EOPNOTSUPP;
        ctx = EVP_MD_CTX_new();
        ok = ctx && EVP_DigestInit_ex2(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, a, na) == 1 &&
             (nb == 0 || EVP_DigestUpdate(ctx, b, nb) == 1) && EVP_DigestFinal_ex(ctx, d, &n) == 1 &&
             n == SHA256_SIZE;
        EVP_MD_CTX_free(ctx);
        EVP_MD_free(md);
        if (!ok)
                return -EIO;
        memcpy(ret, d, SHA256_SIZE);
        return 0;
}
