/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What of an image a container started on it takes (see shuttlectl(1),
 * "IMAGES"): the root, and the image config's Env, Entrypoint + Cmd,
 * WorkingDir and User where the command line does not say otherwise. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "runtime/image.h"

static char **strv_copy(char *const *v) {
        size_t n = 0;
        char **c;

        while (v[n])
                n++;
        c = calloc(n + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(v[i]))) {
                        strv_free(c);
                        return NULL;
                }
        return c;
}

int image_no_command(const ImageRootfs *img, const char *arg, char *err, size_t errlen) {
        if (img->kind == ROOTFS_LAYOUT)
                snprintf(err, errlen,
                         "missing command: the image '%s' has neither Entrypoint nor Cmd "
                         "(usage: shuttlectl run --rootfs IMAGE [OPTIONS] [--] CMD [ARG...])",
                         arg);
        else
                snprintf(err, errlen,
                         "missing command: '%s' is %s, which names none "
                         "(usage: shuttlectl run --rootfs DIR [OPTIONS] -- CMD [ARG...])",
                         arg, img->kind == ROOTFS_BUNDLE ? "a bundle (its process is not used)" : "a directory");
        return -ENOEXEC;
}

int image_rootfs_apply(const ImageRootfs *img, const char *arg, ContainerConfig *c, char *err, size_t errlen) {
        const ImageConfig *ic = &img->config;
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *rootfs = NULL, *workdir = NULL;
        char **env = NULL;
        size_t n_image_env = 0;
        uid_t uid = 0;
        gid_t gid = 0;
        bool set_user = false;
        int r;

        rootfs = strdup(img->rootfs);
        if (!rootfs)
                return -ENOMEM;

        if (img->kind != ROOTFS_LAYOUT) {
                if (!c->argv)
                        return image_no_command(img, arg, err, errlen);
                free(c->rootfs);
                c->rootfs = TAKE_PTR(rootfs);
                c->read_only = c->read_only || img->read_only;
                return 0;
        }

        if (!c->argv) {
                if (!ic->argv)
                        return image_no_command(img, arg, err, errlen);
                argv = strv_copy(ic->argv);
                if (!argv)
                        return -ENOMEM;
        }
        if (!c->workdir && ic->workdir && !(workdir = strdup(ic->workdir)))
                return -ENOMEM;
        if (!c->has_user && ic->user) {
                r = image_user_resolve(ic->user, img->rootfs, &uid, &gid, err, errlen);
                if (r < 0)
                        return r;
                set_user = true;
        }
        /* The image's Env first: a later K=V replaces an earlier one, so
         * that --env wins. */
        if (ic->env)
                while (ic->env[n_image_env])
                        n_image_env++;
        if (n_image_env > 0) {
                env = calloc(n_image_env + c->n_env + 1, sizeof(char *));
                if (!env)
                        return -ENOMEM;
                for (size_t i = 0; i < n_image_env; i++)
                        if (!(env[i] = strdup(ic->env[i]))) {
                                strv_free(env);
                                return -ENOMEM;
                        }
                if (c->n_env > 0) /* c->env may be NULL then */
                        memcpy(env + n_image_env, c->env, c->n_env * sizeof(char *));
                free(c->env);
                c->env = env;
                c->n_env += n_image_env;
        }

        free(c->rootfs);
        c->rootfs = TAKE_PTR(rootfs);
        c->read_only = true;
        if (argv)
                c->argv = TAKE_PTR(argv);
        if (workdir)
                c->workdir = TAKE_PTR(workdir);
        if (set_user) {
                c->has_user = true;
                c->uid = uid;
                c->gid = gid;
        }
        return 0;
}
