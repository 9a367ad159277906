/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* OCI images and bundles as a container's root (`shuttlectl run --rootfs`,
 * a group's `rootfs`): what the argument names (image.c, pure), and the
 * unpacked roots kept under <state>/images/ (image-store.c, which runs
 * umoci).  See shuttlectl(1) and docs/OCI.md "Images". */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/container.h"

#define IMAGE_LAYOUT_REF_ANNOTATION "org.opencontainers.image.ref.name"
#define IMAGE_DIGEST_MAX 72 /* "sha256:" + 64 hex digits + NUL */
#define IMAGE_ERROR_MAX 1024
/* The largest index.json, manifest and image config read. */
#define IMAGE_JSON_MAX (4u << 20)

typedef enum RootfsKind {
        ROOTFS_DIR,    /* a plain directory, used as it is */
        ROOTFS_LAYOUT, /* an OCI image layout (oci-layout, index.json, blobs/) */
        ROOTFS_BUNDLE, /* an OCI runtime bundle (config.json and its root.path) */
} RootfsKind;

/* What image_rootfs_parse() asks of the file system about a path: a
 * bit set of these (0: no such directory). */
enum {
        PROBE_DIR = 1 << 0,
        PROBE_LAYOUT = 1 << 1, /* has an oci-layout file */
        PROBE_BUNDLE = 1 << 2, /* has a config.json */
};
typedef int (*image_probe_t)(const char *path, void *userdata);
/* The real probe: lstat()s of path, path/oci-layout and path/config.json. */
int image_probe_path(const char *path, void *userdata);

typedef struct RootfsRef {
        RootfsKind kind;
        char *path; /* the directory (layout, bundle or plain) */
        char *tag;  /* ROOTFS_LAYOUT: the ref name asked for, or NULL: the only manifest */
} RootfsRef;

void rootfs_ref_done(RootfsRef *r);

/* What --rootfs ARG names: "oci:DIR[:TAG]" (an image layout, nothing
 * else), "DIR:TAG" (an image layout's tag; the longest DIR that is a
 * layout wins when DIR itself has a ':'), or "DIR" (a layout's only
 * image, a bundle or a plain directory, by what it holds).  -ENOENT or
 * -EINVAL with a message in err naming arg when it names none of them. */
int image_rootfs_parse(const char *arg, image_probe_t probe, void *userdata, RootfsRef *ret, char *err,
                       size_t errlen);

/* "sha256:" and 64 lower-case hex digits: the only digests taken (they
 * become file names). */
bool image_digest_is_valid(const char *digest);

/* The manifest index.json names: the one whose ref name is tag, or the
 * only one when tag is NULL.  ret_digest gets its digest, ret_tag its ref
 * name (NULL when it has none); -EINVAL/-ENOENT with a message otherwise. */
int image_index_select(json_t *index, const char *tag, char ret_digest[static IMAGE_DIGEST_MAX], char **ret_tag,
                       char *err, size_t errlen);

/* The image config's digest a manifest names. */
int image_manifest_config(json_t *manifest, char ret_digest[static IMAGE_DIGEST_MAX], char *err, size_t errlen);

/* What of an image's config a run uses (config.Env, Entrypoint + Cmd,
 * WorkingDir, User). */
typedef struct ImageConfig {
        char **env;  /* NULL-terminated "K=V" */
        char **argv; /* Entrypoint then Cmd, NULL-terminated; NULL when both are empty */
        char *workdir;
        char *user;
} ImageConfig;

void image_config_done(ImageConfig *c);
int image_config_parse(json_t *config, ImageConfig *ret, char *err, size_t errlen);

/* A User of "UID", "UID:GID", "NAME", "NAME:GROUP" (names looked up in
 * rootfs's etc/passwd and etc/group; a user's GID is its passwd entry's
 * when no group is given, 0 for a bare UID). */
int image_user_resolve(const char *user, const char *rootfs, uid_t *ret_uid, gid_t *ret_gid, char *err,
                       size_t errlen);

/* ---- image-store.c: <state>/images/ ---- */

/* A root ready to use: the cached rootfs of an image (a shared lock on
 * its entry held through lock_fd for as long as the container runs, so
 * that `images rm` does not pull it away), or a bundle's root.path. */
typedef struct ImageRootfs {
        RootfsKind kind;
        char *rootfs;   /* the directory to use as the container's root */
        bool read_only; /* a cached image's root is shared: always; a bundle's: root.readonly */
        bool unpacked;  /* ROOTFS_LAYOUT: unpacked by this call (not found in the cache) */
        char digest[IMAGE_DIGEST_MAX]; /* ROOTFS_LAYOUT: the manifest's */
        ImageConfig config;            /* ROOTFS_LAYOUT: the image's config */
        int lock_fd;
} ImageRootfs;

void image_rootfs_init(ImageRootfs *r);
void image_rootfs_done(ImageRootfs *r);

/* Resolves arg (see image_rootfs_parse()) and, for an image layout,
 * unpacks it with umoci into <state_dir>/images/ unless it is there.
 * Without have_command, -ENOEXEC (before any unpack) unless arg is an
 * image whose config names a command. */
int image_rootfs_prepare(const char *arg, const char *state_dir, bool have_command, ImageRootfs *ret, char *err,
                         size_t errlen);

typedef struct ImageEntry {
        char digest[IMAGE_DIGEST_MAX];
        char *source; /* the layout it was unpacked from, and the tag */
        char *tag;
        long long unpacked_at; /* seconds since the epoch, 0: unknown */
        bool in_use;
} ImageEntry;

/* The unpacked images in <state_dir>/images/, sorted by digest. */
int image_store_list(const char *state_dir, ImageEntry **ret, size_t *ret_n);
void image_entries_free(ImageEntry *e, size_t n);
/* Removes the entry whose digest starts with prefix ("sha256:" may be
 * left out; at least 4 hex digits): -EBUSY while a container uses it,
 * -ENOENT/-EINVAL (ambiguous) with a message. ret_digest gets the
 * whole digest. */
int image_store_remove(const char *state_dir, const char *prefix, char ret_digest[static IMAGE_DIGEST_MAX],
                       char *err, size_t errlen);

/* Removes what crashed unpacks and removals left (.unpack-*, .remove-*)
 * where no one holds the entry's lock; *ret_n: how many. */
int image_store_clean(const char *state_dir, unsigned *ret_n);

/* ---- image-apply.c ---- */

/* Makes c run on img: its root (read-only if img says so), and for an
 * image the config's Env (before c's env, which wins), Entrypoint + Cmd
 * when c has no argv, WorkingDir when c has no workdir, User when c has
 * no user.  arg (what --rootfs said) names the image in messages.
 * -ENOEXEC when c has no argv and img gives none. */
/* The -ENOEXEC of a run on img, which gives no command, without one. */
int image_no_command(const ImageRootfs *img, const char *arg, char *err, size_t errlen);
int image_rootfs_apply(const ImageRootfs *img, const char *arg, ContainerConfig *c, char *err, size_t errlen);
