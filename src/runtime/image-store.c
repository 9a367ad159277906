/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unpacked images under <state>/images/, keyed by their manifest's digest:
 *
 *   sha256-HEX/rootfs/      the root, unpacked by `umoci raw unpack`
 *   sha256-HEX/image.json   where it came from (for `shuttlectl images`)
 *   sha256-HEX.lock         flock(2): shared while a container uses the
 *                           entry, exclusive to unpack or remove it
 *   .unpack-sha256-HEX/     an unpack under way (or left by a crash:
 *                           removed by the next one, under the lock)
 *
 * An entry appears by rename(2) of a finished unpack, so a half-unpacked
 * root is never seen under its final name.  A lock file is unlinked only
 * under its exclusive lock; whoever locks one checks afterwards that it
 * still is the file of that name (else it locked an unlinked one, and
 * starts over). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "runtime/image.h"

#define LOCK_TRIES 16

/* jansson's own cleaner (json_auto_t). */
#define _cleanup_json_ _cleanup_(json_decrefp)

void image_rootfs_init(ImageRootfs *r) {
        *r = (ImageRootfs){ .lock_fd = -1 };
}

void image_rootfs_done(ImageRootfs *r) {
        free(r->rootfs);
        image_config_done(&r->config);
        safe_close(r->lock_fd);
        image_rootfs_init(r);
}

/* dir/path as JSON, at most IMAGE_JSON_MAX bytes; errors name dir/path. */
static int read_json(int dirfd, const char *dir, const char *path, json_t **ret, char *err, size_t errlen) {
        _cleanup_free_ char *text = NULL;
        json_error_t jerr;
        size_t size;
        json_t *j;
        int r;

        r = read_file_at(dirfd, path, IMAGE_JSON_MAX, &text, &size);
        if (r < 0) {
                snprintf(err, errlen, "%s/%s: %s", dir, path,
                         r == -EFBIG ? "larger than 4 MiB" : strerror(-r));
                return r;
        }
        j = json_loadb(text, size, JSON_REJECT_DUPLICATES, &jerr);
        if (!j) {
                snprintf(err, errlen, "%s/%s:%d:%d: not valid JSON: %s", dir, path, jerr.line, jerr.column,
                         jerr.text);
                return -EINVAL;
        }
        *ret = j;
        return 0;
}

/* "sha256:HEX" -> "blobs/sha256/HEX" (digest already checked). */
static void blob_path(const char *digest, char buf[static 96]) {
        snprintf(buf, 96, "blobs/sha256/%.64s", digest + 7);
}

/* Prefixes the message in err with "where: ". */
static void err_prefix(char *err, size_t errlen, const char *where) {
        char tmp[IMAGE_ERROR_MAX];

        snprintf(tmp, sizeof(tmp), "%s", err);
        snprintf(err, errlen, "%s: %s", where, tmp);
}

/* The manifest digest, umoci's tag and the config of layout[:tag]. */
static int layout_resolve(const char *layout, const char *tag, char digest[static IMAGE_DIGEST_MAX],
                          char **ret_tag, ImageConfig *ret_config, char *err, size_t errlen) {
        _cleanup_json_ json_t *index = NULL, *manifest = NULL, *config = NULL;
        _cleanup_close_ int fd = -1;
        char config_digest[IMAGE_DIGEST_MAX], path[96];
        _cleanup_free_ char *utag = NULL;
        int r;

        fd = open(layout, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, errlen, "%s: %s", layout, strerror(errno));
                return -errno;
        }
        r = read_json(fd, layout, "index.json", &index, err, errlen);
        if (r < 0)
                return r;
        r = image_index_select(index, tag, digest, &utag, err, errlen);
        if (r < 0) {
                char where[PATH_MAX];
                snprintf(where, sizeof(where), "%s/index.json", layout);
                err_prefix(err, errlen, where);
                return r;
        }
        if (!utag) {
                snprintf(err, errlen,
                         "%s/index.json: its only image has no tag (annotation " IMAGE_LAYOUT_REF_ANNOTATION
                         "), which umoci needs to unpack it: give the layout one, e.g. with skopeo copy "
                         "oci:%s oci:%s:latest",
                         layout, layout, layout);
                return -EINVAL;
        }
        blob_path(digest, path);
        r = read_json(fd, layout, path, &manifest, err, errlen);
        if (r < 0)
                return r;
        r = image_manifest_config(manifest, config_digest, err, errlen);
        if (r < 0) {
                char where[PATH_MAX];
                snprintf(where, sizeof(where), "%s/%s (the manifest)", layout, path);
                err_prefix(err, errlen, where);
                return r;
        }
        blob_path(config_digest, path);
        r = read_json(fd, layout, path, &config, err, errlen);
        if (r < 0)
                return r;
        r = image_config_parse(config, ret_config, err, errlen);
        if (r < 0) {
                char where[PATH_MAX];
                snprintf(where, sizeof(where), "%s/%s (the image config)", layout, path);
                err_prefix(err, errlen, where);
                return r;
        }
        *ret_tag = TAKE_PTR(utag);
        return 0;
}

static bool umoci_installed(void) {
        const char *path = getenv("PATH") ?: "/usr/local/bin:/usr/bin:/bin";
        _cleanup_free_ char *copy = strdup(path);
        char *save = NULL;

        if (!copy)
                return true; /* let exec tell */
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                char p[PATH_MAX];
                snprintf(p, sizeof(p), "%s/umoci", d);
                if (access(p, X_OK) == 0)
                        return true;
        }
        return false;
}

/* umoci raw unpack --image LAYOUT:TAG DEST; on failure err has umoci's
 * last line. */
static int run_umoci(const char *layout, const char *tag, const char *dest, char *err, size_t errlen) {
        _cleanup_free_ char *image = NULL;
        char out[8192], *line, *end;
        size_t used = 0;
        int p[2], status;
        pid_t pid;

        if (!umoci_installed()) {
                snprintf(err, errlen, "umoci is not installed: install the Debian package umoci to run OCI images");
                return -ENOENT;
        }
        if (asprintf(&image, "%s:%s", layout, tag) < 0)
                return -ENOMEM;
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return -errno;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
                    dup2(p[1], STDERR_FILENO) < 0)
                        _exit(127);
                execlp("umoci", "umoci", "--log", "error", "raw", "unpack", "--image", image, dest, (char *) NULL);
                dprintf(STDERR_FILENO, "cannot run umoci: %s\n", strerror(errno));
                _exit(127);
        }
        close(p[1]);
        /* Keep the last bytes umoci writes. */
        for (;;) {
                ssize_t n = read(p[0], out + used, sizeof(out) - 1 - used);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                used += (size_t) n;
                if (used == sizeof(out) - 1) {
                        memmove(out, out + sizeof(out) / 2, used - sizeof(out) / 2);
                        used -= sizeof(out) / 2;
                }
        }
        close(p[0]);
        out[used] = '\0';
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;

        /* The last non-empty line, without umoci's decoration. */
        end = out + strlen(out);
        while (end > out && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\r'))
                *--end = '\0';
        line = strrchr(out, '\n');
        line = line ? line + 1 : out;
        line += strspn(line, " \t");
        if (strneq(line, "\xe2\xa8\xaf", 3)) /* ⨯ */
                line += 3;
        line += strspn(line, " \t");
        snprintf(err, errlen, "umoci raw unpack --image %s failed: %s", image,
                 *line ? line : (WIFEXITED(status) ? "no message" : "killed by a signal"));
        return -EIO;
}

static int remove_tree_at(int parent, const char *name) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, r = 0;

        if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return -errno;
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                int k;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                k = remove_tree_at(dirfd(d), de->d_name);
                if (k < 0 && r == 0)
                        r = k;
        }
        if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && r == 0)
                r = -errno;
        return r;
}

/* Removes the device nodes under the directory dirfd/name: an image's
 * layers may carry them (umoci makes them, as root), and a node in the
 * shared root would reach a host device past the container's own /dev.
 * Returns how many were removed, or a negative errno. */
static int strip_devices_at(int parent, const char *name, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, n = 0;

        if (depth > 256)
                return -ELOOP;
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                struct stat st;
                int k;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
                        if (unlinkat(dirfd(d), de->d_name, 0) < 0)
                                return -errno;
                        n++;
                } else if (S_ISDIR(st.st_mode)) {
                        k = strip_devices_at(dirfd(d), de->d_name, depth + 1);
                        if (k < 0)
                                return k;
                        n += k;
                }
        }
        return n;
}

/* Locks <images>/<name> (created if create), checking afterwards that the
 * file still has that name; -EAGAIN if it kept being replaced. */
static int lock_entry(int images, const char *name, int how, bool create) {
        for (int i = 0; i < LOCK_TRIES; i++) {
                _cleanup_close_ int fd = -1;
                struct stat a, b;

                fd = openat(images, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
                if (fd < 0)
                        return -errno;
                while (flock(fd, how) < 0)
                        if (errno != EINTR)
                                return -errno;
                if (fstat(fd, &a) < 0)
                        return -errno;
                if (fstatat(images, name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino &&
                    a.st_dev == b.st_dev)
                        return TAKE_FD(fd);
                if (!create)
                        return -ENOENT;
        }
        return -EAGAIN;
}

/* Converts the lock on fd (which flock(2) does not do atomically) and
 * checks that it still is the lock file <images>/<name>. */
static int relock(int images, const char *name, int fd, int how) {
        struct stat a, b;

        while (flock(fd, how) < 0)
                if (errno != EINTR)
                        return -errno;
        if (fstat(fd, &a) < 0)
                return -errno;
        if (fstatat(images, name, &b, AT_SYMLINK_NOFOLLOW) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
                return -ESTALE;
        return 0;
}

static bool entry_complete(int images, const char *entry) {
        char p[128];
        struct stat st;

        snprintf(p, sizeof(p), "%.80s/rootfs", entry);
        return fstatat(images, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static int write_info(int dirfd, const char *digest, const char *layout, const char *tag) {
        _cleanup_json_ json_t *j = NULL;
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -1;

        j = json_pack("{s:s, s:s, s:s, s:I}", "digest", digest, "source", layout, "tag", tag, "unpacked",
                      (json_int_t) time(NULL));
        if (!j || !(text = json_dumps(j, JSON_COMPACT)))
                return -ENOMEM;
        fd = openat(dirfd, "image.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        return loop_write(fd, text, strlen(text));
}

/* Unpacks into .unpack-NAME and renames it to NAME; the caller holds the
 * entry's lock exclusively. */
static int unpack_entry(int images, const char *images_path, const char *name, const char *digest,
                        const char *layout, const char *tag, char *err, size_t errlen) {
        char tmp[128], dest[PATH_MAX];
        _cleanup_close_ int fd = -1;
        int r;

        snprintf(tmp, sizeof(tmp), ".unpack-%.80s", name);
        (void) remove_tree_at(images, tmp); /* a crashed unpack's */
        if (mkdirat(images, tmp, 0700) < 0) {
                snprintf(err, errlen, "%s/%s: %s", images_path, tmp, strerror(errno));
                return -errno;
        }
        fd = openat(images, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                goto fail;
        }
        if (snprintf(dest, sizeof(dest), "%s/%s/rootfs", images_path, tmp) >= (int) sizeof(dest)) {
                r = -ENAMETOOLONG;
                goto fail;
        }
        r = run_umoci(layout, tag, dest, err, errlen);
        if (r < 0)
                goto fail_quiet;
        r = strip_devices_at(fd, "rootfs", 0);
        if (r < 0)
                goto fail;
        r = write_info(fd, digest, layout, tag);
        if (r < 0)
                goto fail;
        /* On a disk (a state directory not on tmpfs), the files are
         * there before their name is. */
        if (syncfs(fd) < 0) {
                r = -errno;
                goto fail;
        }
        if (renameat(images, tmp, images, name) < 0) {
                r = -errno;
                goto fail;
        }
        return 0;
fail:
        snprintf(err, errlen, "unpacking into %s/%s: %s", images_path, tmp, strerror(-r));
fail_quiet:
        (void) remove_tree_at(images, tmp);
        return r;
}

static int images_dir(const char *state_dir, bool create, char path[static PATH_MAX]) {
        int fd;

        snprintf(path, PATH_MAX, "%s/images", state_dir);
        if (create) {
                int r = mkdir_p_at(AT_FDCWD, path, 0700);
                if (r < 0)
                        return r;
        }
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* The entry of digest, unpacked if need be, locked shared (ret_lock). */
static int store_get(const char *state_dir, const char *digest, const char *layout, const char *tag,
                     int *ret_lock, bool *ret_unpacked, char ret_rootfs[static PATH_MAX], char *err, size_t errlen) {
        char images_path[PATH_MAX], name[96], lockname[104];
        _cleanup_close_ int images = -1;
        bool unpacked = false;

        images = images_dir(state_dir, true, images_path);
        if (images < 0) {
                snprintf(err, errlen, "%s: %s", images_path, strerror(-images));
                return images;
        }
        snprintf(name, sizeof(name), "sha256-%.64s", digest + 7);
        snprintf(lockname, sizeof(lockname), "%.80s.lock", name);

        for (int i = 0; i < LOCK_TRIES; i++) {
                _cleanup_close_ int fd = lock_entry(images, lockname, LOCK_SH, true);
                int r;

                if (fd < 0) {
                        snprintf(err, errlen, "%s/%s: %s", images_path, lockname, strerror(-fd));
                        return fd;
                }
                if (!entry_complete(images, name)) {
                        r = relock(images, lockname, fd, LOCK_EX);
                        if (r == -ESTALE)
                                continue;
                        if (r < 0)
                                goto fail;
                        if (!entry_complete(images, name)) {
                                r = unpack_entry(images, images_path, name, digest, layout, tag, err, errlen);
                                if (r < 0) {
                                        /* Nothing of it stays; who waits
                                         * on this lock sees it replaced. */
                                        (void) unlinkat(images, lockname, 0);
                                        return r;
                                }
                                unpacked = true;
                        }
                        r = relock(images, lockname, fd, LOCK_SH);
                        if (r == -ESTALE)
                                continue;
                        if (r < 0)
                                goto fail;
                        /* Removed while the lock changed hands. */
                        if (!entry_complete(images, name))
                                continue;
                }
                if (snprintf(ret_rootfs, PATH_MAX, "%s/%s/rootfs", images_path, name) >= PATH_MAX) {
                        r = -ENAMETOOLONG;
                        goto fail;
                }
                *ret_lock = TAKE_FD(fd);
                *ret_unpacked = unpacked;
                return 0;
        fail:
                snprintf(err, errlen, "%s/%s: %s", images_path, lockname, strerror(-r));
                return r;
        }
        snprintf(err, errlen, "%s/%s: the entry kept changing while it was locked", images_path, name);
        return -EAGAIN;
}

static int bundle_root(const char *bundle, ImageRootfs *ret, char *err, size_t errlen) {
        _cleanup_json_ json_t *config = NULL;
        _cleanup_close_ int fd = -1;
        json_t *root, *path, *ro;
        struct stat st;
        int r;

        fd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, errlen, "%s: %s", bundle, strerror(errno));
                return -errno;
        }
        r = read_json(fd, bundle, "config.json", &config, err, errlen);
        if (r < 0)
                return r;
        root = json_object_get(config, "root");
        path = json_object_get(root, "path");
        ro = json_object_get(root, "readonly");
        if (!json_is_object(root) || !json_is_string(path) || json_string_length(path) == 0 ||
            strlen(json_string_value(path)) != json_string_length(path)) {
                snprintf(err, errlen, "%s/config.json: root.path must be a non-empty string", bundle);
                return -EINVAL;
        }
        if (ro && !json_is_boolean(ro)) {
                snprintf(err, errlen, "%s/config.json: root.readonly must be true or false", bundle);
                return -EINVAL;
        }
        if (json_string_value(path)[0] == '/')
                ret->rootfs = strdup(json_string_value(path));
        else if (asprintf(&ret->rootfs, "%s/%s", bundle, json_string_value(path)) < 0)
                ret->rootfs = NULL;
        if (!ret->rootfs)
                return -ENOMEM;
        if (stat(ret->rootfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
                snprintf(err, errlen, "%s/config.json: root.path '%s' is not a directory", bundle,
                         json_string_value(path));
                return -ENOTDIR;
        }
        ret->read_only = json_is_true(ro);
        return 0;
}

int image_rootfs_prepare(const char *arg, const char *state_dir, bool have_command, ImageRootfs *ret, char *err,
                         size_t errlen) {
        RootfsRef ref = {};
        _cleanup_free_ char *tag = NULL;
        char rootfs[PATH_MAX];
        ImageRootfs r;
        int k;

        image_rootfs_init(&r);
        k = image_rootfs_parse(arg, image_probe_path, NULL, &ref, err, errlen);
        if (k < 0)
                return k;
        r.kind = ref.kind;
        switch (ref.kind) {
        case ROOTFS_DIR:
                r.rootfs = TAKE_PTR(ref.path);
                k = have_command ? 0 : image_no_command(&r, arg, err, errlen);
                break;
        case ROOTFS_BUNDLE:
                k = have_command ? bundle_root(ref.path, &r, err, errlen) : image_no_command(&r, arg, err, errlen);
                break;
        case ROOTFS_LAYOUT:
                k = layout_resolve(ref.path, ref.tag, r.digest, &tag, &r.config, err, errlen);
                if (k >= 0 && !have_command && !r.config.argv)
                        k = image_no_command(&r, arg, err, errlen);
                if (k >= 0)
                        k = store_get(state_dir, r.digest, ref.path, tag, &r.lock_fd, &r.unpacked, rootfs, err,
                                      errlen);
                if (k >= 0 && !(r.rootfs = strdup(rootfs)))
                        k = -ENOMEM;
                r.read_only = true;
                break;
        }
        rootfs_ref_done(&ref);
        if (k < 0) {
                image_rootfs_done(&r);
                return k;
        }
        *ret = r;
        return 0;
}

/* ---- listing and removing ---- */

static bool entry_name_is_valid(const char *s) {
        return strneq(s, "sha256-", 7) && strlen(s) == 7 + 64 && strspn(s + 7, "0123456789abcdef") == 64;
}

void image_entries_free(ImageEntry *e, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(e[i].source);
                free(e[i].tag);
        }
        free(e);
}

static int entry_cmp(const void *a, const void *b) {
        return strcmp(((const ImageEntry *) a)->digest, ((const ImageEntry *) b)->digest);
}

static bool entry_in_use(int images, const char *name) {
        char lockname[104];
        _cleanup_close_ int fd = -1;

        snprintf(lockname, sizeof(lockname), "%.80s.lock", name);
        fd = openat(images, lockname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return false;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK;
        return false; /* closing fd unlocks */
}

int image_store_list(const char *state_dir, ImageEntry **ret, size_t *ret_n) {
        char images_path[PATH_MAX];
        _cleanup_close_ int images = -1;
        _cleanup_closedir_ DIR *d = NULL;
        ImageEntry *v = NULL;
        struct dirent *de;
        size_t n = 0;
        int r;

        images = images_dir(state_dir, false, images_path);
        if (images == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (images < 0)
                return images;
        r = opendir_at(images, &d);
        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                _cleanup_json_ json_t *info = NULL;
                char err[256], path[128];
                ImageEntry e = {}, *nv;

                if (!entry_name_is_valid(de->d_name) || !entry_complete(images, de->d_name))
                        continue;
                snprintf(e.digest, sizeof(e.digest), "sha256:%s", de->d_name + 7);
                snprintf(path, sizeof(path), "%.80s/image.json", de->d_name);
                if (read_json(images, images_path, path, &info, err, sizeof(err)) >= 0) {
                        const char *s = json_string_value(json_object_get(info, "source"));
                        const char *t = json_string_value(json_object_get(info, "tag"));
                        if ((s && !(e.source = strdup(s))) || (t && !(e.tag = strdup(t)))) {
                                free(e.source);
                                image_entries_free(v, n);
                                return -ENOMEM;
                        }
                        e.unpacked_at = json_integer_value(json_object_get(info, "unpacked"));
                }
                e.in_use = entry_in_use(images, de->d_name);
                nv = reallocarray(v, n + 1, sizeof(*v));
                if (!nv) {
                        free(e.source);
                        free(e.tag);
                        image_entries_free(v, n);
                        return -ENOMEM;
                }
                v = nv;
                v[n++] = e;
        }
        if (n > 0)
                qsort(v, n, sizeof(*v), entry_cmp);
        *ret = v;
        *ret_n = n;
        return 0;
}

int image_store_remove(const char *state_dir, const char *prefix, char ret_digest[static IMAGE_DIGEST_MAX],
                       char *err, size_t errlen) {
        const char *hex = strneq(prefix, "sha256:", 7) ? prefix + 7 : prefix;
        char images_path[PATH_MAX], name[96] = "", lockname[104], gone[112];
        _cleanup_close_ int images = -1, lock = -1;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        size_t n = 0;
        int r;

        if (strlen(hex) < 4 || strlen(hex) > 64 || strspn(hex, "0123456789abcdef") != strlen(hex)) {
                snprintf(err, errlen, "'%s': expected a digest (sha256:HEX, or at least 4 of its hex digits)", prefix);
                return -EINVAL;
        }
        images = images_dir(state_dir, false, images_path);
        if (images < 0 && images != -ENOENT) {
                snprintf(err, errlen, "%s: %s", images_path, strerror(-images));
                return images;
        }
        if (images >= 0) {
                r = opendir_at(images, &d);
                if (r < 0) {
                        snprintf(err, errlen, "%s: %s", images_path, strerror(-r));
                        return r;
                }
                while ((de = readdir(d)))
                        if (entry_name_is_valid(de->d_name) && strneq(de->d_name + 7, hex, strlen(hex))) {
                                snprintf(name, sizeof(name), "%.80s", de->d_name);
                                n++;
                        }
        }
        if (n == 0) {
                snprintf(err, errlen, "no unpacked image %s in %s", prefix, images_path);
                return -ENOENT;
        }
        if (n > 1) {
                snprintf(err, errlen, "'%s' names %zu unpacked images: give more of the digest", prefix, n);
                return -EINVAL;
        }
        snprintf(lockname, sizeof(lockname), "%.80s.lock", name);
        lock = lock_entry(images, lockname, LOCK_EX | LOCK_NB, true);
        if (lock == -EWOULDBLOCK) {
                snprintf(err, errlen, "image sha256:%s is in use by a running container (or being unpacked)", name + 7);
                return -EBUSY;
        }
        if (lock < 0) {
                snprintf(err, errlen, "%s/%s: %s", images_path, lockname, strerror(-lock));
                return lock;
        }
        /* Out of sight at once, then removed; a new unpack may begin
         * meanwhile under the name. */
        snprintf(gone, sizeof(gone), ".remove-%.80s", name);
        (void) remove_tree_at(images, gone);
        if (renameat(images, name, images, gone) < 0) {
                r = -errno;
                snprintf(err, errlen, "%s/%s: %s", images_path, name, strerror(-r));
                return r;
        }
        (void) unlinkat(images, lockname, 0);
        r = remove_tree_at(images, gone);
        if (r < 0) {
                snprintf(err, errlen, "%s/%s: %s", images_path, gone, strerror(-r));
                return r;
        }
        snprintf(ret_digest, IMAGE_DIGEST_MAX, "sha256:%.64s", name + 7);
        return 0;
}

int image_store_clean(const char *state_dir, unsigned *ret_n) {
        char images_path[PATH_MAX];
        _cleanup_close_ int images = -1;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        unsigned n = 0;
        int r;

        *ret_n = 0;
        images = images_dir(state_dir, false, images_path);
        if (images == -ENOENT)
                return 0;
        if (images < 0)
                return images;
        r = opendir_at(images, &d);
        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                const char *entry = NULL;
                char lockname[104];
                _cleanup_close_ int lock = -1;

                if (strneq(de->d_name, ".unpack-", 8))
                        entry = de->d_name + 8;
                else if (strneq(de->d_name, ".remove-", 8))
                        entry = de->d_name + 8;
                if (!entry || !entry_name_is_valid(entry))
                        continue;
                /* Under the entry's lock: an unpack under way holds it. */
                snprintf(lockname, sizeof(lockname), "%.80s.lock", entry);
                lock = lock_entry(images, lockname, LOCK_EX | LOCK_NB, true);
                if (lock < 0)
                        continue;
                if (remove_tree_at(images, de->d_name) >= 0)
                        n++;
                /* No entry of that name: its lock file goes too. */
                if (!entry_complete(images, entry))
                        (void) unlinkat(images, lockname, 0);
        }
        *ret_n = n;
        return 0;
}
