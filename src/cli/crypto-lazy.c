/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The few libcrypto functions shuttlectl uses (SHA-256 of the audit chain,
 * in libshuttle-broker's audit-line.c), loaded with dlopen() on first use:
 * a plain `shuttlectl run` never hashes, and mapping and relocating
 * libcrypto cost it about 1.5 ms of a ~15 ms start.  shuttlectl is linked
 * with --as-needed, so with these definitions it does not need libcrypto at
 * start (tests/check-start-libs.sh checks that).  They are not exported
 * (no -rdynamic): libcrypto's own calls never come here.
 *
 * Without libcrypto.so.3 at run time the hashing fails as if libcrypto had
 * no SHA-256 (EVP_MD_fetch() returns NULL), and the audit code says so. */

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>

#include <openssl/evp.h>

#define LIBCRYPTO_SONAME "libcrypto.so.3" /* OpenSSL 3: EVP_MD_fetch() */

static struct {
        __typeof__(EVP_MD_fetch) *md_fetch;
        __typeof__(EVP_MD_free) *md_free;
        __typeof__(EVP_MD_CTX_new) *ctx_new;
        __typeof__(EVP_MD_CTX_free) *ctx_free;
        __typeof__(EVP_DigestInit_ex2) *init;
        __typeof__(EVP_DigestUpdate) *update;
        __typeof__(EVP_DigestFinal_ex) *final;
} sym;
static bool loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
        void *h = dlopen(LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);

        if (!h)
                return;
        sym.md_fetch = (__typeof__(sym.md_fetch)) dlsym(h, "EVP_MD_fetch");
        sym.md_free = (__typeof__(sym.md_free)) dlsym(h, "EVP_MD_free");
        sym.ctx_new = (__typeof__(sym.ctx_new)) dlsym(h, "EVP_MD_CTX_new");
        sym.ctx_free = (__typeof__(sym.ctx_free)) dlsym(h, "EVP_MD_CTX_free");
        sym.init = (__typeof__(sym.init)) dlsym(h, "EVP_DigestInit_ex2");
        sym.update = (__typeof__(sym.update)) dlsym(h, "EVP_DigestUpdate");
        sym.final = (__typeof__(sym.final)) dlsym(h, "EVP_DigestFinal_ex");
        if (!sym.md_fetch || !sym.md_free || !sym.ctx_new || !sym.ctx_free || !sym.init || !sym.update ||
            !sym.final) {
                dlclose(h);
                return;
        }
        loaded = true; /* h stays open for the life of the process */
}

static bool have(void) {
        (void) pthread_once(&once, load);
        return loaded;
}

EVP_MD *EVP_MD_fetch(OSSL_LIB_CTX *ctx, const char *algorithm, const char *properties) {
        return have() ? sym.md_fetch(ctx, algorithm, properties) : NULL;
}

void EVP_MD_free(EVP_MD *md) {
        if (md && have())
                sym.md_free(md);
}

EVP_MD_CTX *EVP_MD_CTX_new(void) {
        return have() ? sym.ctx_new() : NULL;
}

void EVP_MD_CTX_free(EVP_MD_CTX *ctx) {
        if (ctx && have())
                sym.ctx_free(ctx);
}

int EVP_DigestInit_ex2(EVP_MD_CTX *ctx, const EVP_MD *type, const OSSL_PARAM params[]) {
        return have() ? sym.init(ctx, type, params) : 0;
}

int EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt) {
        return have() ? sym.update(ctx, d, cnt) : 0;
}

int EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s) {
        return have() ? sym.final(ctx, md, s) : 0;
}
