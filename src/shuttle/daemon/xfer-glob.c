/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Expanding a depend rule's path glob inside the provider's root: one
 * component at a time, every step beneath the directory before it with no
 * symlink followed, so the expansion names only directories that are in
 * that root under exactly the names the glob matches. */

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "shuttle/host/nsconnect.h"
#include "shuttle/daemon/xfer.h"

typedef struct GlobWalk {
        char **comps;        /* the pattern's components */
        size_t n_comps;
        size_t max;          /* matches wanted */
        char **matches;
        size_t n_matches;
        size_t scanned;      /* directory entries read so far */
        bool truncated;
} GlobWalk;

static bool is_pattern(const char *comp) {
        return strpbrk(comp, "*?[\\") != NULL;
}

/* The directory name beneath dir, never a symlink, never out of it. */
static int open_subdir(int dir, const char *name) {
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int) syscall(SYS_openat2, dir, name, &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int walk(GlobWalk *w, int dir, size_t level, char *path, size_t len);

/* One name at this level: descend into it (it must be a directory). */
static int step(GlobWalk *w, int dir, size_t level, char *path, size_t len, const char *name) {
        _cleanup_close_ int sub = -1;
        size_t n = strlen(name);

        if (len + 1 + n + 1 > PATH_MAX)
                return 0; /* not a name the broker could mount */
        sub = open_subdir(dir, name);
        if (sub < 0)
                return sub == -ENOMEM ? sub : 0; /* gone, not a directory, a symlink: no match */
        path[len] = '/';
        memcpy(path + len + 1, name, n + 1);
        return walk(w, sub, level + 1, path, len + 1 + n);
}

static int walk(GlobWalk *w, int dir, size_t level, char *path, size_t len) {
        _cleanup_closedir_ DIR *d = NULL;
        char **names = NULL;
        size_t n_names = 0;
        struct dirent *de;
        int r = 0;

        if (w->truncated)
                return 0;
        if (level == w->n_comps) {
                char *m;
                if (w->n_matches >= w->max) {
                        w->truncated = true;
                        return 0;
                }
                m = strdup(path);
                if (!m)
                        return -ENOMEM;
                w->matches[w->n_matches++] = m;
                return 0;
        }
        if (!is_pattern(w->comps[level]))
                return step(w, dir, level, path, len, w->comps[level]);

        r = opendir_at(dir, &d);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        /* In name order, so that which matches a bound keeps does not
         * depend on the file system's. */
        while ((errno = 0, de = readdir(d))) {
                char **a;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (++w->scanned > XFER_GLOB_SCAN_MAX) {
                        w->truncated = true;
                        break;
                }
                if (fnmatch(w->comps[level], de->d_name, 0) != 0)
                        continue;
                a = reallocarray(names, n_names + 1, sizeof(char *));
                if (!a || !(a[n_names] = strdup(de->d_name))) {
                        names = a ?: names;
                        r = -ENOMEM;
                        break;
                }
                names = a;
                n_names++;
        }
        if (r >= 0 && n_names > 0)
                qsort(names, n_names, sizeof(char *), cmp_str);
        for (size_t i = 0; r >= 0 && i < n_names && !w->truncated; i++)
                r = step(w, dir, level, path, len, names[i]);
        for (size_t i = 0; i < n_names; i++)
                free(names[i]);
        free(names);
        return r;
}

int xfer_glob_dirs(int root_fd, const char *pattern, size_t max, char ***ret, size_t *ret_n, bool *ret_truncated) {
        _cleanup_free_ char *copy = NULL;
        _cleanup_free_ char **comps = NULL;
        char path[PATH_MAX] = "";
        char *save = NULL;
        GlobWalk w = { .max = max };
        int r;

        if (!pattern || pattern[0] != '/' || max == 0)
                return -EINVAL;
        copy = strdup(pattern);
        comps = calloc(strlen(pattern) / 2 + 1, sizeof(char *));
        if (!copy || !comps)
                return -ENOMEM;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                /* "**" crosses directories: matches would nest in each
                 * other, which no set of mounts can show. */
                if (streq(c, ".") || streq(c, "..") || strstr(c, "**") || w.n_comps >= XFER_GLOB_DEPTH_MAX)
                        return -EINVAL;
                comps[w.n_comps++] = c;
        }
        if (w.n_comps == 0)
                return -EINVAL;
        w.comps = comps;
        w.matches = calloc(max, sizeof(char *));
        if (!w.matches)
                return -ENOMEM;
        r = walk(&w, root_fd, 0, path, 0);
        if (r < 0) {
                for (size_t i = 0; i < w.n_matches; i++)
                        free(w.matches[i]);
                free(w.matches);
                return r;
        }
        *ret = w.matches;
        *ret_n = w.n_matches;
        if (ret_truncated)
                *ret_truncated = w.truncated;
        return 0;
}

int xfer_glob_dirs_in(pid_t pid, int pidfd, const char *pattern, size_t max, char ***ret, size_t *ret_n,
                      bool *ret_truncated) {
        _cleanup_close_ int root = -1;

        /* Not the host's root, which the container has until its init
         * pivots. */
        root = ns_open_root(pid, pidfd, true);
        if (root < 0)
                return root;
        return xfer_glob_dirs(root, pattern, max, ret, ret_n, ret_truncated);
}

void xfer_glob_free(char **matches, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(matches[i]);
        free(matches);
}
