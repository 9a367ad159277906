/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What --rootfs names (an OCI image layout and tag, a bundle, a plain
 * directory) and what of an image's JSON a run reads: index.json's
 * manifests, a manifest's config, the config's Env, Entrypoint, Cmd,
 * WorkingDir and User.  No I/O but the probe the caller passes and the
 * passwd/group lookup of image_user_resolve(). */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/parse.h"
#include "runtime/image.h"

#define MEDIA_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_CONFIG "application/vnd.oci.image.config.v1+json"

_printf_(3, 4) static int fail(char *err, size_t errlen, const char *fmt, ...) {
        va_list ap;

        if (err && errlen > 0) {
                va_start(ap, fmt);
                vsnprintf(err, errlen, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

void rootfs_ref_done(RootfsRef *r) {
        free(r->path);
        free(r->tag);
        *r = (RootfsRef){};
}

int image_probe_path(const char *path, void *userdata) {
        char buf[PATH_MAX];
        struct stat st;
        int k = 0;
        (void) userdata;

        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
                return 0;
        k |= PROBE_DIR;
        if (snprintf(buf, sizeof(buf), "%s/oci-layout", path) < (int) sizeof(buf) && lstat(buf, &st) == 0 &&
            S_ISREG(st.st_mode))
                k |= PROBE_LAYOUT;
        if (snprintf(buf, sizeof(buf), "%s/config.json", path) < (int) sizeof(buf) && lstat(buf, &st) == 0 &&
            S_ISREG(st.st_mode))
                k |= PROBE_BUNDLE;
        return k;
}

/* A ref name as umoci takes it after "DIR:": printable, no blank. */
static bool tag_is_valid(const char *s) {
        if (!*s || strlen(s) > 255)
                return false;
        for (; *s; s++)
                if (*s <= ' ' || *s == 0x7f)
                        return false;
        return true;
}

static int ref_set(RootfsRef *ret, RootfsKind kind, const char *path, size_t n, const char *tag) {
        RootfsRef r = { .kind = kind };

        r.path = strndup(path, n);
        if (!r.path)
                return -ENOMEM;
        if (tag && !(r.tag = strdup(tag))) {
                free(r.path);
                return -ENOMEM;
        }
        *ret = r;
        return 0;
}

int image_rootfs_parse(const char *arg, image_probe_t probe, void *userdata, RootfsRef *ret, char *err,
                       size_t errlen) {
        bool oci = strneq(arg, "oci:", 4);
        const char *s = oci ? arg + 4 : arg;
        int k;

        if (s[0] != '/')
                return fail(err, errlen, "'%s': expected 'host', an absolute directory, DIR:TAG or oci:DIR[:TAG]",
                            arg);
        k = probe(s, userdata);
        if (k & PROBE_LAYOUT)
                return ref_set(ret, ROOTFS_LAYOUT, s, strlen(s), NULL);
        if (k & PROBE_DIR) {
                if (oci)
                        return fail(err, errlen, "'%s': '%s' is not an OCI image layout (it has no oci-layout file)",
                                    arg, s);
                return ref_set(ret, (k & PROBE_BUNDLE) ? ROOTFS_BUNDLE : ROOTFS_DIR, s, strlen(s), NULL);
        }
        /* DIR:TAG, the longest DIR first. */
        for (const char *c = s + strlen(s); c > s; c--) {
                _cleanup_free_ char *dir = NULL;

                if (*c != ':')
                        continue;
                dir = strndup(s, (size_t) (c - s));
                if (!dir)
                        return -ENOMEM;
                k = probe(dir, userdata);
                if (!(k & PROBE_DIR))
                        continue;
                if (!(k & PROBE_LAYOUT))
                        return fail(err, errlen, "'%s': '%s' is not an OCI image layout (it has no oci-layout file)",
                                    arg, dir);
                if (!tag_is_valid(c + 1))
                        return fail(err, errlen, "'%s': '%s' is not a valid tag", arg, c + 1);
                return ref_set(ret, ROOTFS_LAYOUT, s, (size_t) (c - s), c + 1);
        }
        if (err && errlen > 0)
                snprintf(err, errlen, "'%s': no such directory or OCI image layout", arg);
        return -ENOENT;
}

bool image_digest_is_valid(const char *d) {
        if (!d || !strneq(d, "sha256:", 7) || strlen(d) != 7 + 64)
                return false;
        return strspn(d + 7, "0123456789abcdef") == 64;
}

static const char *ref_name(json_t *desc) {
        return json_string_value(json_object_get(json_object_get(desc, "annotations"), IMAGE_LAYOUT_REF_ANNOTATION));
}

/* "a, b, c" of the manifests' ref names, for messages. */
static void list_tags(json_t *manifests, char *buf, size_t len) {
        size_t i, used = 0;
        json_t *m;

        buf[0] = '\0';
        json_array_foreach(manifests, i, m) {
                const char *t = ref_name(m);
                int n;

                if (!t)
                        continue;
                n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", t);
                if (n < 0 || (size_t) n >= len - used) {
                        if (len > 4)
                                memcpy(buf + len - 4, "...", 4);
                        return;
                }
                used += (size_t) n;
        }
        if (used == 0)
                snprintf(buf, len, "none");
}

static int check_descriptor(json_t *m, size_t i, char *err, size_t errlen) {
        const char *mt = json_string_value(json_object_get(m, "mediaType"));
        const char *d = json_string_value(json_object_get(m, "digest"));

        if (!json_is_object(m))
                return fail(err, errlen, "manifests[%zu] must be an object", i);
        if (mt && streq(mt, MEDIA_INDEX))
                return fail(err, errlen,
                            "manifests[%zu] is an image index (an image for several platforms), which is not "
                            "supported: copy one platform into a layout of its own (skopeo copy --override-arch)",
                            i);
        if (!mt || !streq(mt, MEDIA_MANIFEST))
                return fail(err, errlen, "manifests[%zu]: mediaType must be \"%s\", not %s%s%s", i, MEDIA_MANIFEST,
                            mt ? "\"" : "", mt ?: "none", mt ? "\"" : "");
        if (!image_digest_is_valid(d))
                return fail(err, errlen, "manifests[%zu]: digest must be sha256: and 64 lower-case hex digits", i);
        return 0;
}

int image_index_select(json_t *index, const char *tag, char ret_digest[static IMAGE_DIGEST_MAX], char **ret_tag,
                       char *err, size_t errlen) {
        json_t *manifests = json_object_get(index, "manifests"), *m, *found = NULL;
        char tags[256];
        size_t i;
        int r;

        if (!json_is_object(index))
                return fail(err, errlen, "not a JSON object");
        if (!json_is_integer(json_object_get(index, "schemaVersion")) ||
            json_integer_value(json_object_get(index, "schemaVersion")) != 2)
                return fail(err, errlen, "schemaVersion must be 2");
        if (!json_is_array(manifests))
                return fail(err, errlen, "'manifests' must be an array");
        if (json_array_size(manifests) == 0)
                return fail(err, errlen, "holds no image (manifests is empty)");

        if (!tag) {
                if (json_array_size(manifests) > 1) {
                        list_tags(manifests, tags, sizeof(tags));
                        return fail(err, errlen, "holds %zu images: name one with DIR:TAG (tags: %s)",
                                    json_array_size(manifests), tags);
                }
                found = json_array_get(manifests, 0);
                r = check_descriptor(found, 0, err, errlen);
                if (r < 0)
                        return r;
        } else
                json_array_foreach(manifests, i, m) {
                        const char *t = ref_name(m);

                        if (!t || !streq(t, tag))
                                continue;
                        r = check_descriptor(m, i, err, errlen);
                        if (r < 0)
                                return r;
                        if (found && !streq(json_string_value(json_object_get(found, "digest")),
                                            json_string_value(json_object_get(m, "digest"))))
                                return fail(err, errlen, "tag '%s' names two different images", tag);
                        found = m;
                }
        if (!found) {
                list_tags(manifests, tags, sizeof(tags));
                if (err && errlen > 0)
                        snprintf(err, errlen, "tag '%s' not found (tags: %s)", tag, tags);
                return -ENOENT;
        }
        if (ret_tag) {
                const char *t = ref_name(found);
                char *s = NULL;

                if (t && !(s = strdup(t)))
                        return -ENOMEM;
                *ret_tag = s;
        }
        snprintf(ret_digest, IMAGE_DIGEST_MAX, "%s", json_string_value(json_object_get(found, "digest")));
        return 0;
}

int image_manifest_config(json_t *manifest, char ret_digest[static IMAGE_DIGEST_MAX], char *err, size_t errlen) {
        json_t *config = json_object_get(manifest, "config");
        const char *mt, *d;

        if (!json_is_object(manifest))
                return fail(err, errlen, "not a JSON object");
        if (!json_is_object(config))
                return fail(err, errlen, "'config' must be an object");
        mt = json_string_value(json_object_get(config, "mediaType"));
        if (!mt || !streq(mt, MEDIA_CONFIG))
                return fail(err, errlen, "config.mediaType must be \"%s\"", MEDIA_CONFIG);
        d = json_string_value(json_object_get(config, "digest"));
        if (!image_digest_is_valid(d))
                return fail(err, errlen, "config.digest must be sha256: and 64 lower-case hex digits");
        if (!json_is_array(json_object_get(manifest, "layers")))
                return fail(err, errlen, "'layers' must be an array");
        snprintf(ret_digest, IMAGE_DIGEST_MAX, "%s", d);
        return 0;
}

void image_config_done(ImageConfig *c) {
        strv_free(c->env);
        strv_free(c->argv);
        free(c->workdir);
        free(c->user);
        *c = (ImageConfig){};
}

/* Appends the strings of array (NULL or absent: nothing) to *v. */
static int strv_extend_json(char ***v, size_t *n, json_t *array, const char *what, char *err, size_t errlen) {
        json_t *s;
        size_t i;

        if (!array || json_is_null(array))
                return 0;
        if (!json_is_array(array))
                return fail(err, errlen, "config.%s must be an array of strings", what);
        json_array_foreach(array, i, s) {
                char **nv;

                if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
                        return fail(err, errlen, "config.%s[%zu] must be a string (without NUL)", what, i);
                nv = reallocarray(*v, *n + 2, sizeof(char *));
                if (!nv)
                        return -ENOMEM;
                *v = nv;
                if (!(nv[*n] = strdup(json_string_value(s))))
                        return -ENOMEM;
                nv[++*n] = NULL;
        }
        return 0;
}

static int dup_optional_string(json_t *cfg, const char *key, char **ret, char *err, size_t errlen) {
        json_t *v = json_object_get(cfg, key);

        if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
                return 0;
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
                return fail(err, errlen, "config.%s must be a string", key);
        *ret = strdup(json_string_value(v));
        return *ret ? 0 : -ENOMEM;
}

int image_config_parse(json_t *config, ImageConfig *ret, char *err, size_t errlen) {
        ImageConfig c = {};
        json_t *cfg;
        size_t n_env = 0, n_argv = 0;
        int r;

        if (!json_is_object(config))
                return fail(err, errlen, "not a JSON object");
        cfg = json_object_get(config, "config");
        if (!cfg || json_is_null(cfg)) {
                *ret = c;
                return 0;
        }
        if (!json_is_object(cfg))
                return fail(err, errlen, "'config' must be an object");
        r = strv_extend_json(&c.env, &n_env, json_object_get(cfg, "Env"), "Env", err, errlen);
        if (r >= 0)
                for (size_t i = 0; i < n_env; i++) {
                        const char *eq = strchr(c.env[i], '=');
                        if (!eq || eq == c.env[i]) {
                                r = fail(err, errlen, "config.Env[%zu]: '%s' is not K=V", i, c.env[i]);
                                break;
                        }
                }
        if (r >= 0)
                r = strv_extend_json(&c.argv, &n_argv, json_object_get(cfg, "Entrypoint"), "Entrypoint", err,
                                     errlen);
        if (r >= 0)
                r = strv_extend_json(&c.argv, &n_argv, json_object_get(cfg, "Cmd"), "Cmd", err, errlen);
        if (r >= 0)
                r = dup_optional_string(cfg, "WorkingDir", &c.workdir, err, errlen);
        if (r >= 0 && c.workdir && !path_is_clean_absolute(c.workdir))
                r = fail(err, errlen, "config.WorkingDir: '%s' is not an absolute path without '.' or '..'",
                         c.workdir);
        if (r >= 0)
                r = dup_optional_string(cfg, "User", &c.user, err, errlen);
        if (r < 0) {
                image_config_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

/* rootfs/etc/NAME, not through a symbolic link (an image's /etc/passwd
 * pointing at the host's would be read on the host). */
static FILE *open_etc(const char *rootfs, const char *name) {
        _cleanup_close_ int root = -1, etc = -1;
        int fd;
        FILE *f;

        root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return NULL;
        etc = openat(root, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (etc < 0)
                return NULL;
        fd = openat(etc, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        f = fdopen(fd, "re");
        if (!f)
                close(fd);
        return f;
}

static bool parse_id(const char *s, uint32_t *ret) {
        return parse_uint32(s, ret) >= 0 && *ret != UINT32_MAX;
}

int image_user_resolve(const char *user, const char *rootfs, uid_t *ret_uid, gid_t *ret_gid, char *err,
                       size_t errlen) {
        _cleanup_free_ char *u = strdup(user);
        char *g;
        uint32_t uid, gid = 0;
        bool have_gid = false;

        if (!u)
                return -ENOMEM;
        g = strchr(u, ':');
        if (g)
                *g++ = '\0';
        if (!*u || (g && !*g))
                return fail(err, errlen, "config.User: '%s': expected USER[:GROUP]", user);
        if (!parse_id(u, &uid)) {
                _cleanup_fclose_ FILE *f = open_etc(rootfs, "passwd");
                struct passwd *pw;

                if (!f)
                        return fail(err, errlen, "config.User: '%s': the image has no /etc/passwd to look up '%s' in",
                                    user, u);
                while ((pw = fgetpwent(f)))
                        if (streq(pw->pw_name, u))
                                break;
                if (!pw)
                        return fail(err, errlen, "config.User: '%s': no user '%s' in the image's /etc/passwd", user,
                                    u);
                uid = pw->pw_uid;
                gid = pw->pw_gid;
                have_gid = true;
        }
        if (g && !parse_id(g, &gid)) {
                _cleanup_fclose_ FILE *f = open_etc(rootfs, "group");
                struct group *gr;

                if (!f)
                        return fail(err, errlen, "config.User: '%s': the image has no /etc/group to look up '%s' in",
                                    user, g);
                while ((gr = fgetgrent(f)))
                        if (streq(gr->gr_name, g))
                                break;
                if (!gr)
                        return fail(err, errlen, "config.User: '%s': no group '%s' in the image's /etc/group", user,
                                    g);
                gid = gr->gr_gid;
        } else if (!g && !have_gid)
                gid = 0;
        *ret_uid = uid;
        *ret_gid = gid;
        return 0;
}
